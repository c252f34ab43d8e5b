/*
 * bench/gen.c - the benchmark workload, deterministic by seed.
 *
 * Writes one Defender-style tenant in urbac's tenant format and a file of
 * questions in the query format:
 *   users     100,000, each in 1 to 5 groups, skewed: a few very large groups
 *   groups    10,000, some nested (a group only contains later groups: no cycles)
 *   roles     500, 1 to 8 permissions, 1 to 3 assignments (groups, data sources,
 *             device-group scope: all, or 1 to 5 device groups)
 *   device groups 200 (rules on tags and names), devices 5,000
 *   legacy    MDE roles, EOP role groups and MDI roles (mdi stays in legacy mode)
 *   queries   1,000,000: 90% built from an assignment that reaches the user
 *             when one does (a quarter of those turned into near misses: right
 *             permission, wrong workload or device group), the rest at random;
 *             about 40% are allowed
 * Usage: gen [-u users] [-g groups] [-r roles] [-q queries] [-s seed] TENANT QUERIES
 * Sizes scale down for quick runs; the defaults are the issue's.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bench/rng.h"
#include "urbac/urbac.h"

typedef struct cfg {
  uint32_t users, groups, roles, dgs, devices, queries;
} cfg;

typedef struct asg {
  uint32_t role, sources; /* bit per workload */
  uint32_t ndg, dg[5];    /* ndg 0: all device groups */
} asg;

typedef struct world {
  cfg c;
  uint32_t *user_groups; /* 5 per user, UINT32_MAX unused */
  asg *asgs;
  uint32_t nasg;
  uint32_t *role_grants; /* 8 per role: perm << 2 | level */
  uint32_t *role_ngrants;
  uint32_t **group_asgs; /* per group: assignment ids */
  uint32_t *group_nasg;
} world;

static const char *const dirroles[] = {"Security reader", "Global reader", "Security operator",
                                       "Security administrator"};

static void write_users(FILE *f, world *w)
{
  fprintf(f, "users:\n");
  for (uint32_t u = 0; u < w->c.users; u++) {
    fprintf(f, "  - {id: user%06u@contoso.com", u);
    if (below(100) == 0)
      fprintf(f, ", enabled: false");
    if (below(50) == 0)
      fprintf(f, ", directoryRoles: [%s]", dirroles[below(4)]);
    fprintf(f, "}\n");
    uint32_t n = 1 + below(5);
    for (uint32_t k = 0; k < 5; k++)
      w->user_groups[u * 5 + k] = k < n ? skewed(w->c.groups) : UINT32_MAX;
  }
}

static void write_groups(FILE *f, world *w)
{
  /* members lists: invert user -> groups */
  uint32_t *count = calloc(w->c.groups, sizeof *count), *off = calloc(w->c.groups + 1, sizeof *off);
  for (uint32_t i = 0; i < w->c.users * 5; i++)
    if (w->user_groups[i] != UINT32_MAX)
      count[w->user_groups[i]]++;
  for (uint32_t g = 0; g < w->c.groups; g++)
    off[g + 1] = off[g] + count[g];
  uint32_t *members = malloc((off[w->c.groups] + 1) * sizeof *members);
  memset(count, 0, w->c.groups * sizeof *count);
  for (uint32_t i = 0; i < w->c.users * 5; i++)
    if (w->user_groups[i] != UINT32_MAX) {
      uint32_t g = w->user_groups[i];
      members[off[g] + count[g]++] = i / 5;
    }
  fprintf(f, "groups:\n");
  for (uint32_t g = 0; g < w->c.groups; g++) {
    fprintf(f, "  - id: grp%05u\n    members: [", g);
    uint32_t last = UINT32_MAX;
    int first = 1;
    for (uint32_t i = off[g]; i < off[g + 1]; i++) {
      if (members[i] == last)
        continue;
      fprintf(f, "%suser%06u@contoso.com", first ? "" : ", ", members[i]);
      last = members[i];
      first = 0;
    }
    if (g + 1 < w->c.groups && below(20) == 0) /* some nesting: only later groups */
      fprintf(f, "%sgroup:grp%05u", first ? "" : ", ", g + 1 + below(w->c.groups - g - 1));
    fprintf(f, "]\n");
  }
  free(count);
  free(off);
  free(members);
}

static void write_devices(FILE *f, world *w)
{
  fprintf(f, "deviceGroups:\n");
  for (uint32_t d = 0; d < w->c.dgs; d++) {
    fprintf(f, "  - {id: dg%03u, rank: %u, remediation: %s, rules: ", d, d + 1, d % 3 ? "full" : "semi");
    if (d % 2)
      fprintf(f, "{tags: {equals: [tag%03u]}}", d);
    else
      fprintf(f, "{name: {startsWith: [site%03u-]}}", d);
    fprintf(f, ", userAccess: [grp%05u]}\n", below(w->c.groups));
  }
  fprintf(f, "devices:\n");
  for (uint32_t d = 0; d < w->c.devices; d++)
    fprintf(f, "  - {id: dev%05u, name: site%03u-%05u, tags: [tag%03u]}\n", d, below(w->c.dgs + 20), d,
            below(w->c.dgs + 20));
}

static void write_roles(FILE *f, world *w)
{
  size_t nperms = urbac_catalog_perm_count();
  fprintf(f, "roles:\n");
  for (uint32_t r = 0; r < w->c.roles; r++) {
    uint32_t n = 1 + below(8);
    w->role_ngrants[r] = 0;
    fprintf(f, "  - name: Role %03u\n    permissions:\n", r);
    for (uint32_t k = 0; k < n; k++) {
      uint32_t p = below((uint32_t)nperms);
      const urbac_perm_info *pi = urbac_catalog_perm(p);
      uint32_t level = pi->levels == 3 ? 1 + below(2) : pi->levels;
      /* quoted: a name may hold ": " (Microsoft's "Email & collaboration content: ...") */
      fprintf(f, "      - '%s (%s)'\n", pi->name, level == 1 ? "read" : "manage");
      w->role_grants[r * 8 + w->role_ngrants[r]++] = p << 2 | level;
    }
    fprintf(f, "    assignments:\n");
    for (uint32_t a = 0, na = 1 + below(3); a < na; a++) {
      asg *as = &w->asgs[w->nasg];
      as->role = r;
      as->sources = below(4) == 0 ? 7 : 1u << below(3);
      as->ndg = below(2) ? 0 : 1 + below(5);
      fprintf(f, "      - {name: a%u, principals: [", a);
      for (uint32_t p = 0, np = 1 + below(3); p < np; p++) {
        uint32_t g = below(2) ? skewed(w->c.groups) : below(w->c.groups); /* big groups get roles */
        fprintf(f, "%sgroup:grp%05u", p ? ", " : "", g);
        w->group_asgs[g] = realloc(w->group_asgs[g], (w->group_nasg[g] + 1) * sizeof(uint32_t));
        w->group_asgs[g][w->group_nasg[g]++] = w->nasg;
      }
      fprintf(f, "], dataSources: ");
      if (as->sources == 7)
        fprintf(f, "all");
      else
        fprintf(f, "[%s]", urbac_catalog_workload_id((size_t)__builtin_ctz(as->sources)));
      if (as->ndg) {
        fprintf(f, ", deviceGroups: [");
        for (uint32_t k = 0; k < as->ndg; k++)
          fprintf(f, "%sdg%03u", k ? ", " : "", as->dg[k] = below(w->c.dgs));
        fprintf(f, "]");
      }
      fprintf(f, "}\n");
      w->nasg++;
    }
  }
}

static void write_legacy(FILE *f, world *w)
{
  fprintf(f, "legacy:\n  mde:\n    roles:\n");
  for (uint32_t r = 0; r < 20; r++)
    fprintf(f,
            "      - {name: Legacy %02u, permissions: [View data - Security operations, Alerts "
            "investigation], groups: [grp%05u]}\n",
            r, below(w->c.groups));
  fprintf(f, "  mdo:\n    roleGroups:\n      - {name: Quarantine, members: [group:grp%05u]}\n",
          below(w->c.groups));
  fprintf(f, "  mdi:\n    roles:\n");
  static const char *const mdi[] = {"MDI admin", "MDI user", "MDI viewer"};
  for (int r = 0; r < 3; r++)
    fprintf(f, "      - {name: %s, members: [group:grp%05u, group:grp%05u]}\n", mdi[r], skewed(w->c.groups),
            below(w->c.groups));
}

/* ---------------------------------------------------------------- queries */

static void grant_text(uint32_t code, char *buf, size_t size)
{
  const urbac_perm_info *p = urbac_catalog_perm(code >> 2);
  snprintf(buf, size, "%s (%s)", p->name, (code & 3) == 1 ? "read" : "manage");
}

static void random_grant(char *buf, size_t size)
{
  uint32_t i = below((uint32_t)urbac_catalog_perm_count());
  unsigned levels = urbac_catalog_perm(i)->levels;
  uint32_t level = levels == 3 ? 1 + below(2) : levels;
  grant_text(i << 2 | level, buf, size);
}

static void random_scope(world *w, char *buf, size_t size)
{
  switch (below(5)) {
  case 0:
    buf[0] = '\0';
    break;
  case 1:
    snprintf(buf, size, "any");
    break;
  case 2:
    snprintf(buf, size, "devicegroup:dg%03u", below(w->c.dgs));
    break;
  default:
    snprintf(buf, size, "device:dev%05u", below(w->c.devices));
    break;
  }
}

/* A question built from an assignment that reaches the user, or a near miss of it. */
static int derived(world *w, uint32_t u, char *grant, char *wl, char *scope, size_t size)
{
  for (uint32_t k = 0; k < 5; k++) {
    uint32_t g = w->user_groups[u * 5 + k];
    if (g == UINT32_MAX || !w->group_nasg[g])
      continue;
    const asg *a = &w->asgs[w->group_asgs[g][below(w->group_nasg[g])]];
    grant_text(w->role_grants[a->role * 8 + below(w->role_ngrants[a->role])], grant, size);
    uint32_t src = a->sources == 7 ? below(3) : (uint32_t)__builtin_ctz(a->sources);
    bool miss = below(4) == 0;
    if (miss && a->sources != 7 && (below(2) || !a->ndg || src != 0))
      src = (src + 1 + below(2)) % 3; /* wrong workload */
    snprintf(wl, size, "%s", urbac_catalog_workload_id(src));
    if (src == 0 && a->ndg)
      snprintf(scope, size, "devicegroup:dg%03u", miss ? (a->dg[0] + 1) % w->c.dgs : a->dg[below(a->ndg)]);
    else
      scope[0] = '\0';
    return 1;
  }
  return 0;
}

static void write_queries(FILE *f, world *w)
{
  char grant[256], wl[256], scope[256];
  for (uint32_t q = 0; q < w->c.queries; q++) {
    uint32_t u = below(w->c.users);
    if (!(below(10) < 9 && derived(w, u, grant, wl, scope, sizeof grant))) {
      random_grant(grant, sizeof grant);
      snprintf(wl, sizeof wl, "%s", urbac_catalog_workload_id(below(3)));
      if (strcmp(wl, "mde") == 0)
        random_scope(w, scope, sizeof scope);
      else
        scope[0] = '\0';
    }
    fprintf(f, "user%06u@contoso.com\t%s\t%s\t%s\n", below(50) ? u : w->c.users + u, grant, wl, scope);
  }
}

int main(int argc, char **argv)
{
  cfg c = {100000, 10000, 500, 200, 5000, 1000000};
  uint64_t seed = 42;
  int opt;
  while ((opt = getopt(argc, argv, "u:g:r:q:s:")) != -1) {
    uint32_t v = (uint32_t)strtoul(optarg, NULL, 10);
    switch (opt) {
    case 'u':
      c.users = v;
      break;
    case 'g':
      c.groups = v;
      break;
    case 'r':
      c.roles = v;
      break;
    case 'q':
      c.queries = v;
      break;
    case 's':
      seed = v;
      break;
    default:
      fprintf(stderr, "usage: gen [-u users] [-g groups] [-r roles] [-q queries] [-s seed] TENANT QUERIES\n");
      return 2;
    }
  }
  if (argc - optind != 2 || c.users < 1 || c.groups < 2 || c.roles < 1) {
    fprintf(stderr, "usage: gen [-u users] [-g groups] [-r roles] [-q queries] [-s seed] TENANT QUERIES\n");
    return 2;
  }
  state = seed;
  world w = {.c = c};
  w.user_groups = malloc(c.users * 5 * sizeof *w.user_groups);
  w.asgs = calloc(c.roles * 3, sizeof *w.asgs);
  w.role_grants = calloc(c.roles * 8, sizeof *w.role_grants);
  w.role_ngrants = calloc(c.roles, sizeof *w.role_ngrants);
  w.group_asgs = calloc(c.groups, sizeof *w.group_asgs);
  w.group_nasg = calloc(c.groups, sizeof *w.group_nasg);
  FILE *t = fopen(argv[optind], "w"), *q = fopen(argv[optind + 1], "w");
  if (!t || !q) {
    perror("gen");
    return 1;
  }
  fprintf(
      t,
      "# generated by bench/gen (seed %llu): %u users, %u groups, %u roles, %u device groups, %u devices\n",
      (unsigned long long)seed, c.users, c.groups, c.roles, c.dgs, c.devices);
  fprintf(t, "urbac: 1\ntenant: bench\nworkloads: {mde: unified, mdo: unified, mdi: legacy}\n");
  write_users(t, &w);
  write_groups(t, &w);
  write_devices(t, &w);
  write_roles(t, &w);
  write_legacy(t, &w);
  write_queries(q, &w);
  fclose(t);
  fclose(q);
  for (uint32_t g = 0; g < c.groups; g++)
    free(w.group_asgs[g]);
  free(w.group_asgs);
  free(w.group_nasg);
  free(w.user_groups);
  free(w.asgs);
  free(w.role_grants);
  free(w.role_ngrants);
  return 0;
}

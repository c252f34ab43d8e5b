/*
 * bench/graph/gen.c - a whole tenant's Microsoft Graph export, as a script that
 * saves every page of every list writes it (what `urbac import-graph` reads),
 * deterministic by seed:
 *   users-NNNN.json               GET /users ($select=id,displayName,userPrincipalName,accountEnabled)
 *   groups-NNNN.json              GET /groups ($select=id,displayName)
 *   group-members-<id>-NNNN.json  GET /groups/{id}/members: users (each in 1 to 3 groups, skewed:
 *                                 a few very large groups) and, now and then, a later group
 *   defender-roleDefinitions-NNNN.json   1 to 6 actions of the catalog each
 *   defender-roleAssignments-NNNN.json   1 to 3 per role: 1 to 3 groups and sometimes a user,
 *                                 over "/" or 1 to 3 data sources
 * Pages hold 999 items (Graph's $top maximum; 100 for members and roles) and
 * carry the @odata.nextLink of the next page but the last.
 * Usage: urbac_gen_graph [-u users] [-g groups] [-r roles] [-s seed] DIR
 * The defaults are the issue's: 100,000 users, 10,000 groups, 500 roles.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "bench/rng.h"
#include "urbac/urbac.h"

#define PAGE 999u
#define SMALL_PAGE 100u

/* Object id `i` of kind `k` (1 user, 2 group, 3 role, 4 assignment): GUID-shaped, stable. */
static void guid(char out[37], unsigned k, uint32_t i)
{
  uint64_t h = ((uint64_t)k << 32 | i) * 0x9E3779B97F4A7C15ull;
  snprintf(out, 37, "%08" PRIx32 "-%04x-4%03x-8%03x-%012" PRIx64, i, k, (unsigned)(h >> 52) & 0xfff,
           (unsigned)(h >> 40) & 0xfff, (uint64_t)(h & 0xffffffffffffull));
}

typedef struct page {
  FILE *f;
  const char *dir, *stem, *context, *link;
  uint32_t size, in_page, pageno, left;
} page;

static FILE *open_page(page *p)
{
  char path[4096];
  snprintf(path, sizeof path, "%s/%s-%04" PRIu32 ".json", p->dir, p->stem, ++p->pageno);
  FILE *f = fopen(path, "w");
  if (!f) {
    fprintf(stderr, "urbac_gen_graph: %s: %s\n", path, strerror(errno));
    exit(2);
  }
  fprintf(f, "{\n  \"@odata.context\": \"%s\",\n", p->context);
  if (p->left > p->size)
    fprintf(f, "  \"@odata.nextLink\": \"%s&$skiptoken=page%" PRIu32 "\",\n", p->link, p->pageno + 1);
  fputs("  \"value\": [\n", f);
  return f;
}

/* Starts item one of the list's `left` items; returns the file to write it to. */
static FILE *item(page *p)
{
  if (!p->f) {
    p->f = open_page(p);
    p->in_page = 0;
  }
  if (p->in_page++)
    fputs(",\n", p->f);
  return p->f;
}

/* Ends an item: closes the page when full or when it was the last. */
static void done(page *p)
{
  p->left--;
  if (p->in_page == p->size || !p->left) {
    fputs("\n  ]\n}\n", p->f);
    fclose(p->f);
    p->f = NULL;
  }
}

typedef struct cfg {
  uint32_t users, groups, roles;
  const char *dir;
} cfg;

static void users(const cfg *c)
{
  page p = {
      NULL,
      c->dir,
      "users",
      "https://graph.microsoft.com/v1.0/$metadata#users(id,displayName,userPrincipalName,accountEnabled)",
      "https://graph.microsoft.com/v1.0/"
      "users?$select=id,displayName,userPrincipalName,accountEnabled&$top=999",
      PAGE,
      0,
      0,
      c->users};
  for (uint32_t i = 0; i < c->users; i++) {
    char id[37];
    guid(id, 1, i);
    fprintf(item(&p),
            "    {\"id\": \"%s\", \"displayName\": \"User %" PRIu32
            "\", \"userPrincipalName\": \"user%" PRIu32 "@contoso.example\", \"accountEnabled\": %s}",
            id, i, i, below(50) ? "true" : "false");
    done(&p);
  }
}

static void groups(const cfg *c)
{
  page p = {NULL,
            c->dir,
            "groups",
            "https://graph.microsoft.com/v1.0/$metadata#groups(id,displayName)",
            "https://graph.microsoft.com/v1.0/groups?$select=id,displayName&$top=999",
            PAGE,
            0,
            0,
            c->groups};
  for (uint32_t i = 0; i < c->groups; i++) {
    char id[37];
    guid(id, 2, i);
    fprintf(item(&p), "    {\"id\": \"%s\", \"displayName\": \"Group %" PRIu32 "\"}", id, i);
    done(&p);
  }
}

/* Each user in 1 to 3 groups (skewed), a group now and then in a later one (no cycles). */
static void members(const cfg *c)
{
  uint32_t *count = calloc(c->groups, sizeof *count), *fill = calloc(c->groups, sizeof *fill);
  uint32_t *pick = malloc((size_t)c->users * 3 * sizeof *pick), *nested = malloc(c->groups * sizeof *nested);
  uint64_t **list = calloc(c->groups, sizeof *list); /* user << 1, or group << 1 | 1 */
  if (!count || !fill || !pick || !nested || !list)
    exit(2);
  for (uint32_t u = 0; u < c->users; u++)
    for (uint32_t k = 0; k < 3; k++) { /* 1 to 3 different groups */
      uint32_t *at = &pick[u * 3], g = k == 0 || below(3) == 0 ? skewed(c->groups) : UINT32_MAX;
      at[k] = (k > 0 && g == at[0]) || (k > 1 && g == at[1]) ? UINT32_MAX : g;
    }
  for (uint32_t u = 0; u < c->users * 3; u++)
    if (pick[u] != UINT32_MAX)
      count[pick[u]]++;
  for (uint32_t g = 0; g + 1 < c->groups; g++)
    if ((nested[g] = below(10) == 0 ? g + 1 + below(c->groups - g - 1) : UINT32_MAX) != UINT32_MAX)
      count[nested[g]]++;
  nested[c->groups - 1] = UINT32_MAX;
  for (uint32_t g = 0; g < c->groups; g++)
    if (count[g] && !(list[g] = malloc(count[g] * sizeof **list)))
      exit(2);
  for (uint32_t u = 0; u < c->users * 3; u++)
    if (pick[u] != UINT32_MAX)
      list[pick[u]][fill[pick[u]]++] = (uint64_t)(u / 3) << 1;
  for (uint32_t g = 0; g < c->groups; g++)
    if (nested[g] != UINT32_MAX)
      list[nested[g]][fill[nested[g]]++] = (uint64_t)g << 1 | 1;
  for (uint32_t g = 0; g < c->groups; g++) {
    char gid[37], stem[80], link[200];
    guid(gid, 2, g);
    snprintf(stem, sizeof stem, "group-members-%s", gid);
    snprintf(link, sizeof link, "https://graph.microsoft.com/v1.0/groups/%s/members?$top=100", gid);
    page p = {NULL,   c->dir,     stem, "https://graph.microsoft.com/v1.0/$metadata#directoryObjects",
              link,   SMALL_PAGE, 0,    0,
              fill[g]};
    for (uint32_t i = 0; i < fill[g]; i++) {
      char id[37];
      uint32_t who = (uint32_t)(list[g][i] >> 1);
      bool group = list[g][i] & 1;
      guid(id, group ? 2 : 1, who);
      fprintf(item(&p), "    {\"@odata.type\": \"#microsoft.graph.%s\", \"id\": \"%s\"}",
              group ? "group" : "user", id);
      done(&p);
    }
    free(list[g]);
  }
  free(list);
  free(count);
  free(fill);
  free(pick);
  free(nested);
}

static void role_definitions(const cfg *c)
{
  page p = {NULL,
            c->dir,
            "defender-roleDefinitions",
            "https://graph.microsoft.com/beta/$metadata#roleManagement/defender/roleDefinitions",
            "https://graph.microsoft.com/beta/roleManagement/defender/roleDefinitions?$top=100",
            SMALL_PAGE,
            0,
            0,
            c->roles};
  size_t nperms = urbac_catalog_perm_count();
  for (uint32_t r = 0; r < c->roles; r++) {
    char id[37];
    guid(id, 3, r);
    FILE *f = item(&p);
    fprintf(f,
            "    {\"id\": \"%s\", \"displayName\": \"Role %" PRIu32
            "\", \"description\": \"Generated role\", "
            "\"isBuiltIn\": false, \"rolePermissions\": [{\"allowedResourceActions\": [",
            id, r);
    for (uint32_t k = 0, n = 1 + below(6); k < n; k++) {
      const urbac_perm_info *pi = urbac_catalog_perm(below((uint32_t)nperms));
      bool manage = (pi->levels & URBAC_LEVEL_MANAGE) && (!(pi->levels & URBAC_LEVEL_READ) || below(2));
      fprintf(f, "%s\"%s/%s\"", k ? ", " : "", pi->id, manage ? "manage" : "read");
    }
    fputs("]}]}", f);
    done(&p);
  }
}

static void role_assignments(const cfg *c)
{
  uint32_t *per = malloc(c->roles * sizeof *per), total = 0;
  if (!per)
    exit(2);
  for (uint32_t r = 0; r < c->roles; r++)
    total += per[r] = 1 + below(3);
  page p = {NULL,
            c->dir,
            "defender-roleAssignments",
            "https://graph.microsoft.com/beta/$metadata#roleManagement/defender/roleAssignments",
            "https://graph.microsoft.com/beta/roleManagement/defender/roleAssignments?$top=100",
            SMALL_PAGE,
            0,
            0,
            total};
  for (uint32_t r = 0, n = 0; r < c->roles; r++)
    for (uint32_t a = 0; a < per[r]; a++, n++) {
      char id[37], rid[37], pid[37];
      guid(id, 4, n);
      guid(rid, 3, r);
      FILE *f = item(&p);
      fprintf(f,
              "    {\"id\": \"%s\", \"displayName\": \"Assignment %" PRIu32
              "\", \"roleDefinitionId\": \"%s\", "
              "\"principalIds\": [",
              id, a, rid);
      for (uint32_t k = 0, np = 1 + below(3); k < np; k++) {
        guid(pid, 2, skewed(c->groups));
        fprintf(f, "%s\"%s\"", k ? ", " : "", pid);
      }
      if (below(4) == 0) {
        guid(pid, 1, below(c->users));
        fprintf(f, ", \"%s\"", pid);
      }
      fputs("], \"directoryScopeIds\": [], \"appScopeIds\": [", f);
      if (below(3) == 0)
        fputs("\"/\"", f);
      else
        for (uint32_t k = 0, nw = 1 + below(3), w0 = below((uint32_t)urbac_catalog_workload_count());
             k < nw && k < urbac_catalog_workload_count(); k++)
          fprintf(f, "%s\"%s\"", k ? ", " : "",
                  urbac_catalog_workload_app((w0 + k) % urbac_catalog_workload_count()));
      fputs("]}", f);
      done(&p);
    }
  free(per);
}

static uint32_t number(const char *s, const char *what)
{
  char *end;
  unsigned long v = strtoul(s, &end, 10);
  if (*end || !v || v > 10000000) {
    fprintf(stderr, "urbac_gen_graph: %s must be a number from 1 to 10,000,000, not '%s'\n", what, s);
    exit(2);
  }
  return (uint32_t)v;
}

int main(int argc, char **argv)
{
  cfg c = {100000, 10000, 500, NULL};
  uint64_t seed = 42;
  for (int opt; (opt = getopt(argc, argv, "u:g:r:s:")) != -1;) {
    if (opt == 'u')
      c.users = number(optarg, "-u");
    else if (opt == 'g')
      c.groups = number(optarg, "-g");
    else if (opt == 'r')
      c.roles = number(optarg, "-r");
    else if (opt == 's')
      seed = number(optarg, "-s");
    else
      return 2;
  }
  if (optind + 1 != argc) {
    fprintf(stderr, "usage: urbac_gen_graph [-u users] [-g groups] [-r roles] [-s seed] DIR\n");
    return 2;
  }
  c.dir = argv[optind];
  if (mkdir(c.dir, 0755) && errno != EEXIST) {
    fprintf(stderr, "urbac_gen_graph: %s: %s\n", c.dir, strerror(errno));
    return 2;
  }
  state = seed;
  users(&c);
  groups(&c);
  members(&c);
  role_definitions(&c);
  role_assignments(&c);
  return 0;
}

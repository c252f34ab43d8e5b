/*
 * bench/export_peers.c - the benchmark workload as facts every peer can load.
 *
 * The peers (bench/peers/: Cedar, Casbin, CASL) get what a deployment's
 * provisioning would hand any authorization engine: users with their enabled
 * flag, direct groups and directory roles; groups with their parent groups;
 * roles as the actions they allow (levels expanded: manage implies read); role
 * assignments; the seed's directory-role defaults and legacy MDI roles as
 * actions per workload; which workloads are activated; devices already placed in
 * their device group. Questions are the first N of queries.tsv with devices
 * resolved to device groups, and urbac's answer to each.
 *
 * Usage: export_peers TENANT QUERIES N OUT_DIR  (writes world.json, queries.json,
 * answers.txt)
 */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/engine.h"
#include "urbac/urbac.h"

static json_t *actions_of(const urbac__gmask *m)
{
  json_t *a = json_array();
  char buf[256];
  for (unsigned g = 0; g < URBAC__NGRANTS; g++)
    if (urbac__gmask_has(m, g)) {
      urbac_grant_action(urbac__grant_of(g), buf, sizeof buf);
      json_array_append_new(a, json_string(buf));
    }
  return a;
}

static json_t *principals(const urbac__refs *r, bool groups)
{
  json_t *a = json_array();
  for (size_t i = 0; i < r->n; i++)
    if ((r->v[i].kind == URBAC__REF_GROUP) == groups)
      json_array_append_new(a, json_string(r->v[i].name));
  return a;
}

static json_t *dir_names(uint32_t bits)
{
  json_t *a = json_array();
  for (size_t r = 0; r < URBAC__NDIR; r++)
    if (bits & (1u << r))
      json_array_append_new(a, json_string(urbac_catalog_legacy(URBAC_LEGACY_DIRECTORY_ROLE, r)->name));
  return a;
}

static json_t *world(const urbac_snapshot *s)
{
  const urbac_model *m = s->m;
  json_t *w = json_object(), *users = json_array(), *groups = json_array(), *roles = json_array(),
         *asg = json_array();
  json_t *modes = json_object(), *dir = json_object(), *mdi = json_array(), *dgs = json_array();
  for (size_t k = 0; k < URBAC__NWORKLOADS; k++)
    json_object_set_new(modes, urbac_catalog_workload_id(k), json_string(m->modes[k] ? "unified" : "legacy"));
  for (uint32_t u = 0; u < m->users.n; u++) {
    json_t *gs = json_array();
    const urbac__ulist *ug = urbac__ulist_at(&s->user_groups, u);
    for (uint32_t i = 0; ug && i < ug->n; i++)
      json_array_append_new(gs, json_string(urbac__group_at(m, ug->v[i])->id));
    json_array_append_new(users, json_pack("{s:s, s:b, s:o, s:o}", "id", urbac__user_at(m, u)->id, "enabled",
                                           urbac__user_at(m, u)->enabled, "groups", gs, "dirRoles",
                                           dir_names(urbac__user_at(m, u)->dirroles)));
  }
  for (uint32_t g = 0; g < m->groups.n; g++) {
    json_t *ps = json_array();
    const urbac__ulist *gp = urbac__ulist_at(&s->group_parents, g);
    for (uint32_t i = 0; gp && i < gp->n; i++)
      json_array_append_new(ps, json_string(urbac__group_at(m, gp->v[i])->id));
    json_array_append_new(groups, json_pack("{s:s, s:o, s:o}", "id", urbac__group_at(m, g)->id, "parents", ps,
                                            "dirRoles", dir_names(urbac__group_at(m, g)->dirroles)));
  }
  for (size_t r = 0; r < m->roles.n; r++) {
    const urbac__role *role = urbac__role_at(m, r);
    json_array_append_new(roles,
                          json_pack("{s:s, s:o}", "name", role->name, "actions", actions_of(&role->grants)));
    for (size_t a = 0; a < role->nasg; a++) {
      const urbac__assignment *x = &role->asg[a];
      json_t *wl = json_array(), *scope = json_null();
      for (size_t k = 0; k < URBAC__NWORKLOADS; k++)
        if (x->workloads & (1u << k))
          json_array_append_new(wl, json_string(urbac_catalog_workload_id(k)));
      if (!x->all_dgs) {
        scope = json_array();
        for (size_t i = 0; i < x->dgs.n; i++)
          json_array_append_new(scope, json_string(x->dgs.v[i].name));
      }
      json_array_append_new(asg, json_pack("{s:I, s:o, s:o, s:o, s:o}", "role", (json_int_t)r, "users",
                                           principals(&x->principals, false), "groups",
                                           principals(&x->principals, true), "workloads", wl, "deviceGroups",
                                           scope));
    }
  }
  for (size_t r = 0; r < URBAC__NDIR; r++) {
    json_t *per = json_object();
    for (size_t k = 0; k < URBAC__NWORKLOADS; k++)
      json_object_set_new(per, urbac_catalog_workload_id(k), actions_of(&s->tables.dir[r][k]));
    json_object_set_new(dir, urbac_catalog_legacy(URBAC_LEGACY_DIRECTORY_ROLE, r)->name, per);
  }
  for (size_t i = 0; i < m->mdi.n; i++)
    json_array_append_new(
        mdi, json_pack("{s:s, s:o, s:o, s:o}", "role",
                       urbac_catalog_legacy(URBAC_LEGACY_MDI_ROLE, urbac__mdi_at(m, i)->which)->name, "users",
                       principals(&urbac__mdi_at(m, i)->members, false), "groups",
                       principals(&urbac__mdi_at(m, i)->members, true), "actions",
                       actions_of(&s->tables.mdi[urbac__mdi_at(m, i)->which])));
  for (size_t d = 0; d < m->dgs.n; d++)
    json_array_append_new(dgs, json_string(urbac__dg_at(m, d)->id));
  json_object_set_new(w, "modes", modes);
  json_object_set_new(w, "users", users);
  json_object_set_new(w, "groups", groups);
  json_object_set_new(w, "roles", roles);
  json_object_set_new(w, "assignments", asg);
  json_object_set_new(w, "directoryRoles", dir);
  json_object_set_new(w, "legacyMdi", mdi);
  json_object_set_new(w, "deviceGroups", dgs);
  return w;
}

int main(int argc, char **argv)
{
  urbac_model *m;
  urbac_snapshot *s;
  if (argc != 5) {
    fprintf(stderr, "usage: export_peers TENANT QUERIES N OUT_DIR\n");
    return 2;
  }
  if (urbac_tenant_load_file(argv[1], &m, NULL) || urbac_snapshot_compile(m, &s, NULL) ||
      m->modes[URBAC__WL_MDE] == URBAC_MODE_LEGACY || m->modes[URBAC__WL_MDO] == URBAC_MODE_LEGACY) {
    fprintf(stderr,
            "export_peers: %s must load, with mde and mdo activated (the peers model unified mde and mdo, "
            "legacy mdi)\n",
            argv[1]);
    return 1;
  }
  size_t n = strtoul(argv[3], NULL, 10), k = 0;
  char path[4096], line[8192], why[512], act[256];
  snprintf(path, sizeof path, "%s/world.json", argv[4]);
  json_t *wj = world(s);
  json_dump_file(wj, path, JSON_COMPACT);
  json_decref(wj);
  FILE *in = fopen(argv[2], "r");
  snprintf(path, sizeof path, "%s/answers.txt", argv[4]);
  FILE *ans = fopen(path, "w");
  json_t *qs = json_array();
  urbac_parser *p = urbac_parser_new(s);
  urbac_diag *d = urbac_diag_new();
  while (in && ans && k < n && fgets(line, sizeof line, in)) {
    urbac_query q;
    line[strcspn(line, "\n")] = '\0';
    urbac_diag_clear(d);
    if (urbac_parse_query_line(p, line, strlen(line), &q, d)) {
      urbac_diag_format(d, 0, why, sizeof why);
      fprintf(stderr, "export_peers: line %zu: %s\n", k + 1, why);
      return 1;
    }
    urbac_grant_action(urbac__grant_of(q.grant), act, sizeof act);
    const char *scope = q.scope == URBAC_SCOPE_ANY            ? "any"
                        : q.scope == URBAC_SCOPE_DEVICE_GROUP ? "dg"
                                                              : "all";
    json_array_append_new(qs,
                          json_pack("{s:s, s:s, s:s, s:s, s:s?}", "user", strtok(line, "\t"), "action", act,
                                    "workload", urbac_catalog_workload_id(q.workload), "scope", scope, "dg",
                                    q.scope == URBAC_SCOPE_DEVICE_GROUP ? urbac__dg_at(m, q.dg)->id : NULL));
    fputc(urbac_check(s, &q) ? '1' : '0', ans);
    k++;
  }
  fputc('\n', ans);
  snprintf(path, sizeof path, "%s/queries.json", argv[4]);
  json_dump_file(qs, path, JSON_COMPACT);
  json_decref(qs);
  fclose(ans);
  if (in)
    fclose(in);
  urbac_parser_free(p);
  urbac_diag_free(d);
  urbac_snapshot_free(s);
  urbac_model_free(m);
  printf("export_peers: %zu queries\n", k);
  return 0;
}

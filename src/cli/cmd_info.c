/*
 * cli/cmd_info.c - `urbac catalog` (what the catalog and the seed tables say)
 * and `urbac effective` (everything one user holds, with its source).
 *
 * Depends on: the public API, cli/main.c, cli/source.c.
 */
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

typedef struct info_opts {
  cli_source_opts src;
  const char *user, *workload;
  bool json;
} info_opts;

static const char *levels_text(unsigned levels)
{
  return levels == (URBAC_LEVEL_READ | URBAC_LEVEL_MANAGE) ? "read, manage"
         : levels == URBAC_LEVEL_READ                      ? "read"
                                                           : "manage";
}

static json_t *grants_json(urbac_legacy_kind kind, size_t i, size_t w)
{
  urbac_grant g[64];
  char buf[512];
  json_t *a = json_array();
  size_t n = urbac_catalog_legacy_grants(kind, i, w, g, 64);
  for (size_t k = 0; k < n && k < 64; k++) {
    urbac_grant_format(g[k], buf, sizeof buf);
    json_array_append_new(a, json_string(buf));
  }
  return a;
}

static json_t *catalog_json(void)
{
  json_t *root = json_object(), *wl = json_array(), *perms = json_array(), *legacy = json_object();
  char action[256];
  for (size_t w = 0; w < urbac_catalog_workload_count(); w++)
    json_array_append_new(wl, json_pack("{s:s, s:s, s:s, s:b}", "id", urbac_catalog_workload_id(w), "name",
                                        urbac_catalog_workload_name(w), "appScopeId",
                                        urbac_catalog_workload_app(w), "legacyModel",
                                        urbac_catalog_workload_has_legacy(w)));
  for (size_t i = 0; i < urbac_catalog_perm_count(); i++) {
    const urbac_perm_info *p = urbac_catalog_perm(i);
    json_t *actions = json_array(), *lv = json_array(), *aliases = json_array();
    for (size_t k = 0; urbac_catalog_perm_alias_id(i, k); k++)
      json_array_append_new(aliases, json_string(urbac_catalog_perm_alias_id(i, k)));
    for (uint8_t l = URBAC_LEVEL_READ; l <= URBAC_LEVEL_MANAGE; l++) {
      if (!(p->levels & l))
        continue;
      urbac_grant_action((urbac_grant){(uint16_t)i, l}, action, sizeof action);
      json_array_append_new(actions, json_string(action));
      json_array_append_new(lv, json_string(urbac_level_name((urbac_level)l)));
    }
    json_array_append_new(perms,
                          json_pack("{s:s, s:s, s:o, s:o, s:o, s:s}", "name", p->name, "id", p->id, "levels",
                                    lv, "actions", actions, "otherIds", aliases, "appliesTo", p->applies));
  }
  static const char *const keys[] = {"mdePermissions", "eopRoleGroups", "mdiRoles", "directoryRoles"};
  static const size_t wl_of[] = {0, 1, 2, 0};
  for (int k = URBAC_LEGACY_MDE_PERMISSION; k <= URBAC_LEGACY_DIRECTORY_ROLE; k++) {
    json_t *rows = json_array();
    for (size_t i = 0; i < urbac_catalog_legacy_count((urbac_legacy_kind)k); i++) {
      const urbac_legacy_info *li = urbac_catalog_legacy((urbac_legacy_kind)k, i);
      json_t *row = json_pack("{s:s, s:s, s:s}", "id", li->id, "name", li->name, "seedTable", li->seed_table);
      if (k == URBAC_LEGACY_DIRECTORY_ROLE) {
        json_t *per = json_object();
        for (size_t w = 0; w < urbac_catalog_workload_count(); w++)
          json_object_set_new(per, urbac_catalog_workload_id(w), grants_json((urbac_legacy_kind)k, i, w));
        json_object_set_new(row, "grants", per);
      } else {
        json_object_set_new(row, "grants", grants_json((urbac_legacy_kind)k, i, wl_of[k]));
      }
      json_array_append_new(rows, row);
    }
    json_object_set_new(legacy, keys[k], rows);
  }
  json_object_set_new(root, "workloads", wl);
  json_object_set_new(root, "permissions", perms);
  json_object_set_new(root, "legacy", legacy);
  return root;
}

static void print_rows(json_t *rows, const char *title, const char *wl)
{
  size_t i;
  json_t *row, *g;
  printf("\n%s\n", title);
  json_array_foreach(rows, i, row)
  {
    json_t *grants = json_object_get(row, "grants");
    if (wl)
      grants = json_object_get(grants, wl);
    printf("  %-40s %s\n", json_string_value(json_object_get(row, "name")),
           json_string_value(json_object_get(row, "id")));
    size_t k;
    json_array_foreach(grants, k, g) printf("      %s\n", json_string_value(g));
    if (!json_array_size(grants))
      printf("      (nothing)\n");
  }
}

static int catalog(void *opts, const cli_args *a)
{
  const info_opts *o = opts;
  if (!cli_no_args(a, "catalog"))
    return EXIT_USAGE;
  json_t *c = catalog_json();
  if (o->json) {
    json_dumpf(c, stdout, JSON_INDENT(2));
    fputc('\n', stdout);
    json_decref(c);
    return 0;
  }
  size_t i;
  json_t *v, *legacy = json_object_get(c, "legacy");
  printf("Workloads (data sources)\n");
  json_array_foreach(json_object_get(c, "workloads"), i, v) printf(
      "  %-9s %-20s %s%s\n", json_string_value(json_object_get(v, "id")),
      json_string_value(json_object_get(v, "appScopeId")), json_string_value(json_object_get(v, "name")),
      json_is_true(json_object_get(v, "legacyModel")) ? "" : " (no legacy model: always unified)");
  printf("\nPermissions\n");
  for (i = 0; i < urbac_catalog_perm_count(); i++) {
    const urbac_perm_info *p = urbac_catalog_perm(i);
    printf("  %-80s %-14s %s\n", p->name, levels_text(p->levels), p->id);
  }
  print_rows(json_object_get(legacy, "mdePermissions"), "Defender for Endpoint permissions -> unified", NULL);
  print_rows(json_object_get(legacy, "eopRoleGroups"), "Defender for Office (EOP) role groups -> unified",
             NULL);
  print_rows(json_object_get(legacy, "mdiRoles"), "Defender for Identity roles -> unified", NULL);
  for (size_t w = 0; w < urbac_catalog_workload_count(); w++) {
    char title[128];
    snprintf(title, sizeof title, "Directory roles: default grants on %s", urbac_catalog_workload_id(w));
    print_rows(json_object_get(legacy, "directoryRoles"), title, urbac_catalog_workload_id(w));
  }
  json_decref(c);
  return 0;
}

/* ---------------------------------------------------------------- effective */

typedef struct eff {
  json_t *rows;
  int workload; /* -1: all */
} eff;

static int effective_row(void *ctx, const urbac_effective_entry *e)
{
  eff *f = ctx;
  char grant[512];
  if (f->workload >= 0 && (size_t)f->workload != e->workload)
    return 0;
  urbac_grant_format(e->grant, grant, sizeof grant);
  if (f->rows)
    json_array_append_new(f->rows, json_pack("{s:s, s:s, s:s, s:s}", "workload",
                                             urbac_catalog_workload_id(e->workload), "permission", grant,
                                             "scope", e->scope, "source", e->source));
  else
    printf("%s\t%s\t%s\t%s\n", urbac_catalog_workload_id(e->workload), grant, e->scope, e->source);
  return 0;
}

static int effective(void *opts, const cli_args *a)
{
  const info_opts *o = opts;
  cli_source src = {0};
  eff f = {NULL, -1};
  int rc = EXIT_USAGE;
  if (!cli_no_args(a, "effective") || !cli_need(o->user, "user") ||
      !cli_source_read(&src, &o->src, CLI_SOURCE_FILE_OR_STORE, URBAC_STORE_READ, true))
    goto out;
  uint32_t u = urbac_snapshot_user_find(src.snapshot, o->user, strlen(o->user));
  char known[256];
  urbac_catalog_workload_list(known, sizeof known, false);
  if (o->workload && (f.workload = urbac_catalog_workload_find(o->workload)) < 0) {
    cli_error("unknown workload '%s' (%s)", o->workload, known);
  } else if (u == URBAC_UNKNOWN_USER) {
    cli_error("'%s' is not a user of tenant %s: an unknown user holds nothing", o->user,
              urbac_model_tenant(src.model));
  } else {
    f.rows = o->json ? json_array() : NULL;
    rc = urbac_effective(src.snapshot, u, effective_row, &f) ? EXIT_USAGE : 0;
    if (f.rows) {
      json_dumpf(f.rows, stdout, JSON_INDENT(2));
      fputc('\n', stdout);
      json_decref(f.rows);
    }
  }
out:
  cli_source_close(&src);
  return rc;
}

/* ---------------------------------------------------------------- the commands */

static const cli_opt catalog_opts[] = {CLI_ROW_JSON(info_opts)};
static const cli_opt effective_opts[] = {
    CLI_ROW_DB(info_opts),
    CLI_ROW_JSON(info_opts),
    CLI_ROW_TENANT(info_opts),
    CLI_ROW_TENANT_ID(info_opts),
    {"user", 0, CLI_STRING, offsetof(info_opts, user), 0, "U", NULL, "the user's id"},
    {"workload", 0, CLI_STRING, offsetof(info_opts, workload), 0, "W", NULL,
     "only this workload: mde, mdo, mdi, mda, mdc or exposure"},
};

const cli_command cli_catalog =
    CLI_COMMAND("catalog", "urbac catalog [--json]",
                "List workloads, permissions (names, ids, levels) and the legacy tables", info_opts,
                catalog_opts, catalog);
const cli_command cli_effective =
    CLI_COMMAND("effective", "urbac effective --tenant FILE --user U [--workload W] [--json]",
                "List every grant a user holds, per workload and device group, with its source", info_opts,
                effective_opts, effective);

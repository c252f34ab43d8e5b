/*
 * cli/cmd_migrate.c - `urbac import`, `activate`, `deactivate` and `export`:
 * moving a tenant file from the legacy models to unified roles, one workload at
 * a time. Each change is written back atomically (or to --output); nothing is
 * written when a command fails or changes nothing.
 *
 * Depends on: the public API, cli/main.c, cli/common.c, cli/source.c.
 */
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

typedef struct migrate_opts {
  cli_source_opts src;
  const char *output, *actor, *format;
  bool json, dry_run, force;
} migrate_opts;

static const char *const actions[] = {"created", "updated", "unchanged"};

static void import_json(const urbac_model *m, int w, const urbac_import_report *r, bool dry,
                        const char *written)
{
  char *text = NULL;
  json_t *o = urbac_import_report_json(r, &text, NULL) == URBAC_OK ? json_loads(text, 0, NULL) : NULL;
  urbac_free(text);
  if (!o) {
    cli_error("out of memory");
    return;
  }
  json_object_set_new(o, "tenant", json_string(urbac_model_tenant(m)));
  json_object_set_new(o, "workload", json_string(urbac_catalog_workload_id((size_t)w)));
  json_object_set_new(o, "dryRun", json_boolean(dry));
  json_object_set_new(o, "written", written ? json_string(written) : json_null());
  json_dumpf(o, stdout, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
  fputc('\n', stdout);
  json_decref(o);
}

static void import_text(const urbac_model *m, int w, const urbac_import_report *r, bool dry,
                        const char *written)
{
  size_t counts[3] = {0};
  printf("import %s into tenant %s\n", urbac_catalog_workload_id((size_t)w), urbac_model_tenant(m));
  for (size_t i = 0; i < urbac_import_report_count(r); i++) {
    const urbac_import_item *it = urbac_import_report_item(r, i);
    counts[it->action]++;
    printf("  %-9s  role \"%s\" from \"%s\": %zu permission%s, %zu principal%s%s%s\n", actions[it->action],
           it->role, it->source, it->permissions, it->permissions == 1 ? "" : "s", it->principals,
           it->principals == 1 ? "" : "s", it->scope[0] ? ", device groups: " : "", it->scope);
  }
  if (urbac_import_report_unmapped_count(r))
    printf("legacy permissions that map to nothing (they grant nothing in urbac):\n");
  for (size_t i = 0; i < urbac_import_report_unmapped_count(r); i++) {
    const urbac_import_unmapped *u = urbac_import_report_unmapped(r, i);
    printf("  %s (role \"%s\")\n", u->permission, u->source);
  }
  printf("%zu created, %zu updated, %zu unchanged; %s%s\n", counts[0], counts[1], counts[2],
         dry       ? "dry run: nothing written"
         : written ? "written to "
                   : "nothing changed, nothing written",
         !dry && written ? written : "");
}

static int import(void *opts, const cli_args *a)
{
  const migrate_opts *o = opts;
  cli_source src = {0};
  urbac_import_report *r = NULL;
  char command[64];
  int rc = EXIT_USAGE, w = cli_workload_arg(a, "import");
  urbac_store_mode mode = o->dry_run || o->output ? URBAC_STORE_READ : URBAC_STORE_WRITE;
  if (w < 0 || !cli_source_read(&src, &o->src, CLI_SOURCE_FILE_OR_STORE, mode, false))
    goto out;
  urbac_model *next = NULL;
  urbac_diag *d = urbac_diag_new();
  urbac_err err = d ? urbac_import(src.model, (size_t)w, &next, &r, d) : URBAC_ENOMEM;
  if (err)
    cli_error("import %s: %s", a->v[0], cli_diag_message(d, err));
  urbac_diag_free(d);
  if (err)
    goto out;
  cli_source_replace(&src, next);
  snprintf(command, sizeof command, "urbac import %s", urbac_catalog_workload_id((size_t)w));
  bool write = !o->dry_run && (o->output || urbac_import_report_changed(r));
  if (write && !cli_source_save(&src, o->output, o->actor, command))
    goto out;
  (o->json ? import_json : import_text)(src.model, w, r, o->dry_run, write ? src.written : NULL);
  rc = 0;
out:
  urbac_import_report_free(r);
  cli_source_close(&src);
  return rc;
}

/* activate and deactivate: switch, write back, say so. */
static int switch_mode(const migrate_opts *o, const cli_args *a, bool activate)
{
  cli_source src = {0};
  const char *cmd = activate ? "activate" : "deactivate";
  char command[64];
  int rc = EXIT_USAGE, w = cli_workload_arg(a, cmd);
  urbac_store_mode mode = o->output ? URBAC_STORE_READ : URBAC_STORE_WRITE;
  if (w < 0 || !cli_source_read(&src, &o->src, CLI_SOURCE_FILE_OR_STORE, mode, false))
    goto out;
  urbac_model *m = NULL;
  urbac_diag *d = urbac_diag_new();
  urbac_err err = !d         ? URBAC_ENOMEM
                  : activate ? urbac_activate(src.model, (size_t)w, o->force, &m, d)
                             : urbac_deactivate(src.model, (size_t)w, &m, d);
  if (err == URBAC_EREFUSED) {
    cli_error("%s refused: %s", cmd, cli_diag_message(d, err));
    rc = EXIT_DENY;
  } else if (err) {
    cli_error("%s %s: %s", cmd, a->v[0], cli_diag_message(d, err));
  }
  urbac_diag_free(d);
  if (err)
    goto out;
  cli_source_replace(&src, m);
  snprintf(command, sizeof command, "urbac %s %s", cmd, urbac_catalog_workload_id((size_t)w));
  if (!cli_source_save(&src, o->output, o->actor, command))
    goto out;
  const char *written = src.written;
  if (o->json)
    printf("{\"workload\": \"%s\", \"mode\": \"%s\", \"written\": \"%s\"}\n",
           urbac_catalog_workload_id((size_t)w), activate ? "unified" : "legacy", written);
  else
    printf("%s is now %s in tenant %s (%s)\n", urbac_catalog_workload_id((size_t)w),
           activate ? "unified" : "legacy", urbac_model_tenant(m), written);
  rc = 0;
out:
  cli_source_close(&src);
  return rc;
}

static int activate(void *opts, const cli_args *a) { return switch_mode(opts, a, true); }
static int deactivate(void *opts, const cli_args *a) { return switch_mode(opts, a, false); }

/* ---------------------------------------------------------------- export */

/* One assignment's principals or device groups, joined by "; ". */
static void join_principals(const urbac_model *m, size_t r, size_t a, size_t n, char *buf, size_t size)
{
  size_t len = 0;
  buf[0] = '\0';
  for (size_t i = 0; i < n && len < size; i++) {
    bool group = false;
    const char *p = urbac_model_assignment_principal(m, r, a, i, &group);
    len += (size_t)snprintf(buf + len, size - len, "%s%s%s", i ? "; " : "", group ? "group:" : "", p);
  }
}

static void export_row(FILE *f, const urbac_model *m, size_t r, size_t a, const char *states)
{
  urbac_role_info ri;
  urbac_assignment_info ai;
  char perms[8192] = "", text[8192];
  size_t len = 0;
  urbac_model_role(m, r, &ri);
  for (size_t p = 0; p < ri.permissions && len < sizeof perms; p++) {
    urbac_model_role_permission(m, r, p, text, sizeof text);
    len += (size_t)snprintf(perms + len, sizeof perms - len, "%s%s", p ? "; " : "", text);
  }
  cli_csv_field(f, ri.name, ',');
  cli_csv_field(f, ri.description, ',');
  cli_csv_field(f, perms, ',');
  if (a < ri.assignments && urbac_model_assignment(m, r, a, &ai)) {
    cli_csv_field(f, ai.name, ',');
    len = 0;
    text[0] = '\0';
    for (size_t w = 0; w < urbac_catalog_workload_count() && !ai.all_sources; w++)
      if (ai.workloads & (1u << w))
        len += (size_t)snprintf(text + len, sizeof text - len, "%s%s", len ? "; " : "",
                                urbac_catalog_workload_id(w));
    cli_csv_field(f, ai.all_sources ? "all" : text, ',');
    join_principals(m, r, a, ai.principals, text, sizeof text);
    cli_csv_field(f, text, ',');
    len = 0;
    text[0] = '\0';
    for (size_t i = 0; i < ai.device_groups && len < sizeof text; i++)
      len += (size_t)snprintf(text + len, sizeof text - len, "%s%s", i ? "; " : "",
                              urbac_model_assignment_device_group(m, r, a, i));
    cli_csv_field(f, ai.all_device_groups ? "all" : text, ',');
  } else {
    fputs(",,,,", f);
  }
  fputs(states, f);
  fputs("\r\n", f);
}

/* The Graph requests that create the tenant's unified roles and assignments. */
static int export_graph(const urbac_model *m, FILE *f)
{
  char *text = NULL;
  urbac_diag *d = urbac_diag_new();
  urbac_err err = d ? urbac_graph_export(m, &text, NULL, d) : URBAC_ENOMEM;
  if (err)
    cli_error("export: %s", cli_diag_message(d, err));
  else
    fprintf(f, "%s\n", text);
  urbac_free(text);
  urbac_diag_free(d);
  return err ? EXIT_USAGE : 0;
}

static int export(void *opts, const cli_args *a)
{
  const migrate_opts *o = opts;
  cli_source src = {0};
  FILE *f = NULL;
  char states[256] = "";
  int rc = EXIT_USAGE;
  if (!cli_no_args(a, "export"))
    return EXIT_USAGE;
  bool graph = strcmp(o->format, "graph") == 0;
  if (!graph && strcmp(o->format, "csv") != 0) {
    cli_error("export: unknown format '%s' (csv or graph)", o->format);
    return EXIT_USAGE;
  }
  if (!cli_source_read(&src, &o->src, CLI_SOURCE_FILE_OR_STORE, URBAC_STORE_READ, false) ||
      !(f = cli_open_output(o->output)))
    goto out;
  const urbac_model *m = src.model;
  if (graph) {
    rc = export_graph(m, f);
    goto out;
  }
  fputs("Role name,Description,Permissions,Assignment name,Data sources,Users and groups,Device groups", f);
  for (size_t w = 0, len = 0; w < urbac_catalog_workload_count(); w++) {
    if (!urbac_catalog_workload_has_legacy(w))
      continue; /* always unified: no activation state to export */
    fprintf(f, ",%s", urbac_catalog_workload_id(w));
    len += (size_t)snprintf(states + len, sizeof states - len, "%s%s", len ? "," : "",
                            urbac_model_mode(m, w) == URBAC_MODE_UNIFIED ? "active" : "inactive");
  }
  fputs("\r\n", f);
  for (size_t r = 0; r < urbac_model_count(m, URBAC_OBJ_ROLE); r++) {
    urbac_role_info ri;
    urbac_model_role(m, r, &ri);
    for (size_t k = 0; k < (ri.assignments ? ri.assignments : 1); k++)
      export_row(f, m, r, k, states);
  }
  rc = 0;
out:
  cli_close_output(o->output, f);
  cli_source_close(&src);
  return rc;
}

/* ---------------------------------------------------------------- the commands */

#define ROW(name, kind, field, arg, def, help)                                                               \
  {                                                                                                          \
    name, 0, kind, offsetof(migrate_opts, field), 0, arg, def, help                                          \
  }
#define OUTPUT CLI_ROW_OUTPUT(migrate_opts, "write the tenant there (YAML, or JSON by .json) instead of back")

/* The rows of the writing commands (sorted: each table puts its own between them). */
#define WRITE_HEAD CLI_ROW_ACTOR(migrate_opts), CLI_ROW_AUDIT_KEY(migrate_opts), CLI_ROW_DB(migrate_opts)
#define WRITE_TAIL                                                                                           \
  CLI_ROW_JSON(migrate_opts), OUTPUT, CLI_ROW_TENANT(migrate_opts), CLI_ROW_TENANT_ID(migrate_opts),         \
      CLI_ROW_WITNESS(migrate_opts), CLI_ROW_WITNESS_SYSLOG(migrate_opts)

static const cli_opt import_opts[] = {
    WRITE_HEAD,
    ROW("dry-run", CLI_FLAG, dry_run, NULL, NULL, "report, write nothing"),
    WRITE_TAIL,
};
static const cli_opt activate_opts[] = {
    WRITE_HEAD,
    ROW("force", CLI_FLAG, force, NULL, NULL,
        "activate even if nobody could manage authorization afterwards"),
    WRITE_TAIL,
};
static const cli_opt deactivate_opts[] = {WRITE_HEAD, WRITE_TAIL};
static const cli_opt export_opts[] = {
    CLI_ROW_DB(migrate_opts),
    ROW("format", CLI_STRING, format, "F", "csv", "the output format: csv, or graph (docs/interop.md)"),
    CLI_ROW_OUTPUT(migrate_opts, "write there instead of standard output"),
    CLI_ROW_TENANT(migrate_opts),
    CLI_ROW_TENANT_ID(migrate_opts),
};

const cli_command cli_import =
    CLI_COMMAND("import", "urbac import WORKLOAD --tenant FILE [--output OUT] [--dry-run] [--json]",
                "Import a workload's legacy roles into unified roles through the seed's mapping tables",
                migrate_opts, import_opts, import);
const cli_command cli_activate = CLI_COMMAND(
    "activate", "urbac activate WORKLOAD --tenant FILE [--force] [--output OUT] [--json]",
    "Switch a workload to unified roles (refused if nobody could manage authorization, unless --force)",
    migrate_opts, activate_opts, activate);
const cli_command cli_deactivate =
    CLI_COMMAND("deactivate", "urbac deactivate WORKLOAD --tenant FILE [--output OUT] [--json]",
                "Switch a workload back to its legacy model (legacy configuration is always kept)",
                migrate_opts, deactivate_opts, deactivate);
const cli_command cli_export =
    CLI_COMMAND("export", "urbac export --tenant FILE [--format csv|graph] [--output OUT]",
                "Write the unified roles as the Defender portal exports them (CSV), or as Graph requests",
                migrate_opts, export_opts, export);

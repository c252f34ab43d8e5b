/*
 * cli/cmd_plan.c - `urbac plan` and `urbac apply`: a tenant file to the store as
 * terraform does it. `plan -f FILE` shows what `apply -f FILE` would create,
 * change and delete; `plan -out PLAN` also saves it; `apply PLAN` applies exactly
 * that plan, and refuses (exit 1) when the store has moved on since.
 *
 * A saved plan is one JSON object (docs/cli.md, "Saved plans"): its format and
 * version, the tenant, the revision the plan was computed against, the changes
 * (before and after as JSON objects, as `plan --json` prints them) and the
 * tenant as planned. `apply PLAN` loads that tenant, computes the plan again
 * against the store and refuses unless the store is still at the revision and the
 * changes are the saved ones; then it writes the tenant with the revision as a
 * condition (urbac_write.if_revision), so a write that slips in between is
 * refused by the store's transaction too.
 *
 * Exit codes: plan 0, or with --detailed-exitcode 0 no changes, 2 changes
 * pending, 1 error (terraform's); apply 0 applied, 1 refused (the store moved on,
 * or --if-revision), 2 bad input.
 *
 * Depends on: the public API, cli/main.c, cli/common.c, cli/source.c, cli/files.c.
 */
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

#define PLAN_FORMAT "urbac-plan"
#define PLAN_VERSION 1
/* plan --detailed-exitcode, as terraform's: 0 no changes, 1 an error, 2 changes pending */
enum { DETAILED_ERROR = 1, DETAILED_CHANGES = 2 };

typedef struct plan_opts {
  cli_source_opts src;
  const char *file, *actor, *out;
  cli_int if_revision;
  bool json, detailed, prune;
} plan_opts;

static const char *const op_names[] = {"create", "change", "delete"};
static const char op_marks[] = {'+', '~', '-'};

/* A change's before or after: its canonical JSON as a JSON value (null when absent). */
static json_t *object_of(const char *text) { return text ? json_loads(text, 0, NULL) : json_null(); }

/* The plan as JSON: what `plan --json` prints and the start of a saved plan. */
static json_t *plan_json(const urbac_plan *p, const char *tenant)
{
  json_t *changes = json_array();
  for (size_t i = 0; changes && i < urbac_plan_count(p); i++) {
    const urbac_change *c = urbac_plan_change(p, i);
    json_array_append_new(changes, json_pack("{s:s, s:s, s:s, s:o*, s:o*}", "op", op_names[c->op], "kind",
                                             c->kind, "id", c->id, "before", object_of(c->before), "after",
                                             object_of(c->after)));
  }
  json_t *kept = json_array();
  for (size_t i = 0; kept && i < urbac_plan_kept_count(p); i++)
    json_array_append_new(
        kept, json_pack("{s:s, s:s}", "kind", urbac_plan_kept(p, i)->kind, "id", urbac_plan_kept(p, i)->id));
  return json_pack("{s:s, s:i, s:s, s:I, s:o, s:o}", "format", PLAN_FORMAT, "version", PLAN_VERSION, "tenant",
                   tenant, "revision", (json_int_t)urbac_plan_revision(p), "changes", changes, "kept", kept);
}

static void print_plan(const urbac_plan *p, const char *tenant)
{
  size_t counts[3] = {0};
  for (size_t i = 0; i < urbac_plan_count(p); i++) {
    const urbac_change *c = urbac_plan_change(p, i);
    counts[c->op]++;
    printf("%c %s %s\n", op_marks[c->op], c->kind, c->id);
  }
  for (size_t i = 0; i < urbac_plan_kept_count(p); i++)
    printf("= %s %s kept (managed by scim; --prune-provisioned deletes it)\n", urbac_plan_kept(p, i)->kind,
           urbac_plan_kept(p, i)->id);
  printf("tenant %s (revision %llu): %zu to create, %zu to change, %zu to delete\n", tenant,
         (unsigned long long)urbac_plan_revision(p), counts[0], counts[1], counts[2]);
}

/* Saves the plan with the tenant as planned to `path`, atomically (apply never
 * reads half a plan); false when said. */
static bool save_plan(json_t *j, const urbac_model *m, const char *path)
{
  char *text = NULL, *plan = NULL;
  json_t *tenant = NULL;
  bool ok = false;
  if (urbac_tenant_save_buffer(m, URBAC_FORMAT_JSON, &text, NULL, NULL) ||
      !(tenant = json_loads(text, 0, NULL)) || json_object_set_new(j, "planned", tenant) ||
      !(plan = json_dumps(j, JSON_INDENT(2))))
    cli_error("%s: out of memory", path);
  else
    ok = cli_replace_file(path, plan, strlen(plan));
  free(plan);
  urbac_free(text);
  return ok;
}

/* -f FILE as a source of its own, and the store it goes to. */
static bool open_both(const plan_opts *o, cli_source *file, cli_source *store, urbac_store_mode mode)
{
  cli_source_opts f = {.tenant = o->file};
  if (!o->file) {
    cli_error("missing -f FILE (a tenant file)");
    return false;
  }
  bool ok = cli_source_read(file, &f, CLI_SOURCE_FILE_OR_STORE, URBAC_STORE_READ, false) &&
            cli_source_open(store, &o->src, CLI_SOURCE_STORE, mode);
  if (ok)
    urbac_store_prune_provisioned(store->store, o->prune);
  return ok;
}

static int plan(void *opts, const cli_args *a)
{
  const plan_opts *o = opts;
  cli_source file = {0}, target = {0};
  urbac_plan *p = NULL;
  json_t *j = NULL;
  urbac_diag *d = urbac_diag_new();
  int rc = o->detailed ? DETAILED_ERROR : EXIT_USAGE;
  if (!cli_no_args(a, "plan") || !d || !open_both(o, &file, &target, URBAC_STORE_READ))
    goto out;
  if (urbac_store_plan(target.store, file.model, &p, d)) {
    cli_print_diag(d);
    goto out;
  }
  const char *tenant = urbac_model_tenant(file.model);
  if ((o->json || o->out) && !(j = plan_json(p, tenant))) {
    cli_error("out of memory");
    goto out;
  }
  if (o->out && !save_plan(j, file.model, o->out))
    goto out;
  if (o->json) {
    json_object_del(j, "planned");
    json_dumpf(j, stdout, JSON_INDENT(2));
    fputc('\n', stdout);
  } else {
    print_plan(p, tenant);
    if (o->out)
      printf("plan saved to %s: 'urbac apply %s' applies exactly this, while the store is at revision %llu\n",
             o->out, o->out, (unsigned long long)urbac_plan_revision(p));
  }
  rc = o->detailed && urbac_plan_count(p) ? DETAILED_CHANGES : 0;
out:
  json_decref(j);
  urbac_plan_free(p);
  urbac_diag_free(d);
  cli_source_close(&target);
  cli_source_close(&file);
  return rc;
}

/* ---------------------------------------------------------------- apply */

/* What `apply` writes: the tenant, where it comes from, and the condition. */
typedef struct wanted {
  urbac_model *model;
  json_t *plan; /* a saved plan, or NULL for -f FILE */
  uint64_t revision;
  bool conditional;
} wanted;

/* Reads a saved plan: checks its shape, loads its tenant. False when said. */
static bool read_plan(const char *path, wanted *w)
{
  json_error_t je;
  json_t *t = NULL, *changes = NULL;
  const char *format = "", *tenant = "";
  int version = 0;
  json_int_t rev = -1;
  char *text = NULL;
  size_t len = 0;
  bool ok = false;
  urbac_diag *d = urbac_diag_new();
  char *buf = cli_read_input(path, &len);
  if (!buf || !d)
    goto out;
  if (!(w->plan = json_loadb(buf, len, JSON_REJECT_DUPLICATES, &je))) {
    cli_error("%s:%d:%d: not a saved plan: %s", path, je.line, je.column, je.text);
    goto out;
  }
  if (json_unpack_ex(w->plan, &je, 0, "{s:s, s:i, s:s, s:I, s:o, s:o}", "format", &format, "version",
                     &version, "tenant", &tenant, "revision", &rev, "changes", &changes, "planned", &t) ||
      strcmp(format, PLAN_FORMAT) || version != PLAN_VERSION || rev < 0 || !json_is_array(changes) ||
      !json_is_object(t)) {
    cli_error("%s: not a saved plan of this urbac (format \"%s\" version %d, revision, changes, planned): %s",
              path, PLAN_FORMAT, PLAN_VERSION, strcmp(format, PLAN_FORMAT) ? "wrong format" : je.text);
    goto out;
  }
  char name[4200];
  snprintf(name, sizeof name, "%s (planned)", path);
  if (!(text = json_dumps(t, JSON_INDENT(2))) ||
      urbac_tenant_load_buffer(text, strlen(text), name, &w->model, d)) {
    cli_print_diag(d);
    goto out;
  }
  if (strcmp(urbac_model_tenant(w->model), tenant)) {
    cli_error("%s: the plan is for tenant '%s', its planned tenant is '%s'", path, tenant,
              urbac_model_tenant(w->model));
    goto out;
  }
  w->revision = (uint64_t)rev;
  w->conditional = true;
  ok = true;
out:
  free(text);
  free(buf);
  urbac_diag_free(d);
  return ok;
}

/* Does recomputed change `c` say what saved change `j` says? */
static bool same_change(const urbac_change *c, const json_t *j)
{
  json_t *before = object_of(c->before), *after = object_of(c->after);
  const char *op = json_string_value(json_object_get(j, "op"));
  const char *kind = json_string_value(json_object_get(j, "kind"));
  const char *id = json_string_value(json_object_get(j, "id"));
  bool same = op && kind && id && !strcmp(op, op_names[c->op]) && !strcmp(kind, c->kind) &&
              !strcmp(id, c->id) && json_equal(before, json_object_get(j, "before")) &&
              json_equal(after, json_object_get(j, "after"));
  json_decref(before);
  json_decref(after);
  return same;
}

/* The saved plan is still what applying its tenant does: same revision, same
 * changes. Returns 0, or the exit code after saying why not. */
static int still_planned(urbac_store *store, const wanted *w, const char *path)
{
  urbac_plan *p = NULL;
  urbac_diag *d = urbac_diag_new();
  const json_t *saved = json_object_get(w->plan, "changes");
  const char *tenant = urbac_model_tenant(w->model);
  int rc = EXIT_USAGE;
  if (!d || urbac_store_plan(store, w->model, &p, d)) {
    cli_print_diag(d);
    goto out;
  }
  if (urbac_plan_revision(p) != w->revision) {
    cli_error("apply refused: %s was planned against revision %llu of tenant %s, which is now at revision "
              "%llu: the store moved on (run plan again)",
              path, (unsigned long long)w->revision, tenant, (unsigned long long)urbac_plan_revision(p));
    rc = EXIT_DENY;
    goto out;
  }
  bool same = urbac_plan_count(p) == json_array_size(saved);
  for (size_t i = 0; same && i < urbac_plan_count(p); i++)
    same = same_change(urbac_plan_change(p, i), json_array_get(saved, i));
  if (!same) {
    cli_error("apply refused: the changes in %s are not what its planned tenant makes at revision %llu "
              "(was the plan edited?)",
              path, (unsigned long long)w->revision);
    goto out;
  }
  rc = 0;
out:
  urbac_plan_free(p);
  urbac_diag_free(d);
  return rc;
}

/* The tenant to apply, from a saved plan (the argument) or -f FILE; false when said. */
static bool wanted_of(const plan_opts *o, const cli_args *a, cli_source *file, wanted *w)
{
  cli_source_opts f = {.tenant = o->file};
  if (a->n > 1 || (a->n == 1 && o->file) || (a->n == 0 && !o->file)) {
    cli_error("apply takes a saved plan (from 'plan -out PLAN') or -f FILE, one of them (see --help)");
    return false;
  }
  if (a->n == 1 && o->if_revision.set) {
    cli_error("apply: a saved plan carries its revision: --if-revision is for -f FILE");
    return false;
  }
  if (a->n == 1)
    return read_plan(a->v[0], w);
  if (!cli_source_read(file, &f, CLI_SOURCE_FILE_OR_STORE, URBAC_STORE_READ, false))
    return false;
  *w = (wanted){file->model, NULL, o->if_revision.value, o->if_revision.set};
  return true;
}

static void print_applied(const plan_opts *o, const wanted *w, const char *tenant, uint64_t before,
                          uint64_t after)
{
  if (o->json)
    printf("{\"tenant\": \"%s\", \"revision\": %llu, \"changed\": %s}\n", tenant, (unsigned long long)after,
           after != before ? "true" : "false");
  else if (after == before)
    printf("tenant %s is already as the %s says (revision %llu): nothing written\n", tenant,
           w->plan ? "plan" : "file", (unsigned long long)after);
  else
    printf("tenant %s: applied, now at revision %llu\n", tenant, (unsigned long long)after);
}

static int apply(void *opts, const cli_args *a)
{
  const plan_opts *o = opts;
  cli_source file = {0}, target = {0};
  wanted w = {0};
  urbac_diag *d = urbac_diag_new();
  uint64_t before = 0, after = 0;
  char cmd[4200];
  int rc = EXIT_USAGE;
  if (!d || !wanted_of(o, a, &file, &w) ||
      !cli_source_open(&target, &o->src, CLI_SOURCE_STORE, URBAC_STORE_WRITE))
    goto out;
  urbac_store_prune_provisioned(target.store, o->prune);
  if (w.plan && (rc = still_planned(target.store, &w, a->v[0])) != 0)
    goto out;
  rc = EXIT_USAGE;
  const char *tenant = urbac_model_tenant(w.model);
  snprintf(cmd, sizeof cmd, "urbac apply %s%s", w.plan ? "" : "-f ", w.plan ? a->v[0] : o->file);
  urbac_write wr = {cli_actor(o->actor), cmd, w.conditional, w.revision, NULL, NULL};
  urbac_store_revision(target.store, tenant, &before, NULL); /* 0 for a new tenant */
  urbac_err err = urbac_store_apply(target.store, w.model, &wr, &after, d);
  if (err) {
    cli_print_diag(d);
    rc = err == URBAC_ECONFLICT ? EXIT_DENY : EXIT_USAGE;
    goto out;
  }
  print_applied(o, &w, tenant, before, after);
  rc = 0;
out:
  if (w.plan)
    urbac_model_free(w.model); /* -f FILE's model is the source's */
  json_decref(w.plan);
  urbac_diag_free(d);
  cli_source_close(&target);
  cli_source_close(&file);
  return rc;
}

/* ---------------------------------------------------------------- the commands */

#define ROW(name, letter, kind, field, arg, help)                                                            \
  {                                                                                                          \
    name, letter, kind, offsetof(plan_opts, field), 0, arg, NULL, help                                       \
  }
#define FILE_ROW ROW("file", 'f', CLI_STRING, file, "FILE", "the tenant file")
#define PRUNE_ROW                                                                                            \
  ROW("prune-provisioned", 0, CLI_FLAG, prune, NULL,                                                         \
      "also delete the users and groups managed by scim that the file lacks (kept otherwise)")

static const cli_opt plan_table[] = {
    CLI_ROW_DB(plan_opts),
    ROW("detailed-exitcode", 0, CLI_FLAG, detailed, NULL, "exit 0: no changes, 2: changes pending, 1: error"),
    FILE_ROW,
    CLI_ROW_JSON(plan_opts),
    ROW("out", 0, CLI_STRING, out, "PLAN",
        "also save the plan there, for 'urbac apply PLAN' (also -out PLAN)"),
    PRUNE_ROW,
};
static const cli_opt apply_table[] = {
    CLI_ROW_ACTOR(plan_opts),
    CLI_ROW_AUDIT_KEY(plan_opts),
    CLI_ROW_DB(plan_opts),
    FILE_ROW,
    CLI_ROW_IF_REVISION(plan_opts),
    CLI_ROW_JSON(plan_opts),
    PRUNE_ROW,
    CLI_ROW_WITNESS(plan_opts),
    CLI_ROW_WITNESS_SYSLOG(plan_opts),
};

const cli_command cli_plan =
    CLI_COMMAND("plan", "urbac plan -f FILE [--db URL] [-out PLAN] [--detailed-exitcode] [--json]",
                "Show what 'urbac apply -f FILE' would create, change and delete; save it with -out",
                plan_opts, plan_table, plan);
const cli_command cli_apply = CLI_COMMAND(
    "apply", "urbac apply (PLAN | -f FILE [--if-revision N]) [--db URL] [--actor NAME] [--json]",
    "Apply a saved plan exactly (refused if the store moved on), or make the stored tenant match a file",
    plan_opts, apply_table, apply);

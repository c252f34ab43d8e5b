/*
 * cli/cmd_object.c - day-to-day changes to a stored tenant: `object` reads and
 * writes any object as JSON; `role`, `assignment`, `user` and `group` are the
 * common edits spelt out. Each is read, change, write: the object's JSON is read,
 * changed with jansson and written back with urbac_store_put(), which validates
 * the whole tenant with the change and audits it in one transaction. The write is
 * based on the revision that was read (or --if-revision), so a concurrent change
 * is a conflict (exit 1), never a lost update.
 *
 * Depends on: the public API, cli/main.c, cli/common.c, cli/cmd_store.c.
 */
#include <errno.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

typedef struct edit {
  cli_opts *o;
  urbac_store *s;
  const char *tenant;
  uint64_t revision; /* of the read */
} edit;

/* Opens the store and picks the tenant; false (with a message) on failure. */
static bool edit_open(cli_opts *o, edit *e)
{
  urbac_model *m = NULL;
  e->o = o;
  e->s = cli_open_store(o);
  if (!e->s || !cli_load_store(o, e->s, &m, &e->revision)) {
    urbac_store_close(e->s);
    e->s = NULL;
    return false;
  }
  e->tenant = o->tenant_id; /* may be NULL: then the only tenant */
  static char tenant[1024];
  snprintf(tenant, sizeof tenant, "%s", urbac_model_tenant(m));
  e->tenant = tenant;
  urbac_model_free(m);
  return true;
}

/* The object's JSON, or NULL (with a message when `must`). */
static json_t *get(edit *e, const char *kind, const char *id, bool must)
{
  char *text = NULL;
  uint64_t rev = 0;
  urbac_err err = urbac_store_get(e->s, e->tenant, kind, id, &text, &rev);
  json_t *j = err ? NULL : json_loads(text, 0, NULL);
  urbac_free(text);
  if (!err)
    e->revision = rev;
  if (!j && must)
    cli_error("tenant %s has no %s '%s'", e->tenant, kind, id);
  return j;
}

/* Writes (or deletes, when `j` is NULL) the object; prints the outcome. */
static int put(edit *e, const char *kind, const char *id, json_t *j, const char *what)
{
  urbac_diag *d = urbac_diag_new();
  char *text = j ? json_dumps(j, JSON_COMPACT) : NULL, cmd[512];
  uint64_t rev = 0;
  snprintf(cmd, sizeof cmd, "urbac %s %s %s", what, kind, id);
  urbac_write w = {e->o->actor ? e->o->actor : getenv("USER") ? getenv("USER") : "cli", cmd, true, e->revision};
  if (e->o->if_revision)
    w.revision = strtoull(e->o->if_revision, NULL, 10);
  urbac_err err = urbac_store_put(e->s, e->tenant, kind, id, text, &w, &rev, d);
  if (err)
    cli_print_diag(d);
  else if (e->o->json)
    printf("{\"tenant\": \"%s\", \"%s\": \"%s\", \"revision\": %llu}\n", e->tenant, kind, id, (unsigned long long)rev);
  else
    printf("%s %s '%s' in tenant %s: now at revision %llu\n", what, kind, id, e->tenant, (unsigned long long)rev);
  free(text);
  urbac_diag_free(d);
  return err == URBAC_OK ? 0 : err == URBAC_ECONFLICT ? EXIT_DENY : EXIT_USAGE;
}

static void edit_close(edit *e) { urbac_store_close(e->s); }

static bool args(const cli_opts *o, int n, const char *usage)
{
  if (o->nargs == n)
    return true;
  cli_error("usage: %s", usage);
  return false;
}

/* ---------------------------------------------------------------- object */

static int print_object(void *ctx, const char *kind, const char *id, const char *json)
{
  json_t *rows = ctx;
  if (rows)
    json_array_append_new(rows, json_pack("{s:s, s:s, s:o}", "kind", kind, "id", id, "object", json_loads(json, 0, NULL)));
  else
    printf("%s\t%s\n", kind, id);
  return 0;
}

static int object_put(edit *e)
{
  json_error_t jerr;
  json_t *j = e->o->body ? json_loads(e->o->body, 0, &jerr) : e->o->file ? json_load_file(e->o->file, 0, &jerr) : NULL;
  if (!e->o->body && !e->o->file) {
    cli_error("object put needs --body JSON or -f FILE");
    return EXIT_USAGE;
  }
  if (!j) {
    cli_error("%s:%d:%d: %s", e->o->body ? "--body" : e->o->file, jerr.line, jerr.column, jerr.text);
    return EXIT_USAGE;
  }
  int rc = put(e, e->o->args[1], e->o->args[2], j, "put");
  json_decref(j);
  return rc;
}

int cmd_object(cli_opts *o)
{
  edit e;
  int rc = EXIT_USAGE;
  const char *verb = o->nargs ? o->args[0] : "";
  bool list = strcmp(verb, "list") == 0;
  if (!list && !(o->nargs == 3 && (!strcmp(verb, "get") || !strcmp(verb, "put") || !strcmp(verb, "delete")))) {
    cli_error("usage: urbac object (get KIND ID | list [KIND] | put KIND ID --body JSON | delete KIND ID)");
    return EXIT_USAGE;
  }
  if (!edit_open(o, &e))
    return EXIT_USAGE;
  if (list) {
    json_t *rows = o->json ? json_array() : NULL;
    rc = urbac_store_list(e.s, e.tenant, o->nargs > 1 ? o->args[1] : NULL, print_object, rows) ? EXIT_USAGE : 0;
    if (rows) {
      json_dumpf(rows, stdout, JSON_INDENT(2));
      fputc('\n', stdout);
      json_decref(rows);
    }
  } else if (!strcmp(verb, "get")) {
    json_t *j = get(&e, o->args[1], o->args[2], true);
    if (j) {
      json_dumpf(j, stdout, JSON_INDENT(2));
      fputc('\n', stdout);
      rc = 0;
    }
    json_decref(j);
  } else if (!strcmp(verb, "put")) {
    rc = object_put(&e);
  } else {
    rc = put(&e, o->args[1], o->args[2], NULL, "deleted");
  }
  edit_close(&e);
  return rc;
}

/* ---------------------------------------------------------------- role */

/* Same permission and level, however either is spelt. */
static bool same_permission(const char *a, const char *b)
{
  urbac_grant ga, gb;
  if (strchr(a, '*') || strchr(b, '*'))
    return strcmp(a, b) == 0;
  if (urbac_catalog_resolve(a, strlen(a), &ga, NULL, 0) || urbac_catalog_resolve(b, strlen(b), &gb, NULL, 0))
    return false;
  unsigned all = urbac_catalog_perm(ga.perm)->levels;
  unsigned la = ga.level == URBAC_LEVEL_NONE || ga.level == URBAC_LEVEL_ALL ? all : ga.level;
  unsigned lb = gb.level == URBAC_LEVEL_NONE || gb.level == URBAC_LEVEL_ALL ? all : gb.level;
  return ga.perm == gb.perm && la == lb;
}

/* Adds (or removes) each --permission to a role's list; the count changed. */
static size_t change_permissions(json_t *role, const cli_opts *o, bool add)
{
  json_t *perms = json_object_get(role, "permissions");
  size_t changed = 0, i;
  json_t *v;
  if (!perms) {
    perms = json_array();
    json_object_set_new(role, "permissions", perms);
  }
  for (int k = 0; k < o->npermissions; k++) {
    bool found = false;
    json_array_foreach(perms, i, v) {
      if (!same_permission(json_string_value(v), o->permissions[k]))
        continue;
      found = true;
      if (!add) {
        json_array_remove(perms, i);
        changed++;
        break;
      }
    }
    if (add && !found) {
      json_array_append_new(perms, json_string(o->permissions[k]));
      changed++;
    }
  }
  return changed;
}

static const char *const role_usage = "urbac role (create NAME [--description D] [--permission P...] | update NAME --description D | "
                                      "delete NAME | list | show NAME | add-permission NAME --permission P... | remove-permission NAME --permission P...)";

static int role_verb(edit *e, const char *verb, const char *name)
{
  json_t *j = NULL;
  int rc = EXIT_USAGE;
  if (!strcmp(verb, "create")) {
    if ((j = get(e, "role", name, false)) != NULL) {
      cli_error("tenant %s already has a role '%s'", e->tenant, name);
      goto out;
    }
    j = json_pack("{s:s, s:[], s:[]}", "name", name, "permissions", "assignments");
    if (e->o->description)
      json_object_set_new(j, "description", json_string(e->o->description));
    change_permissions(j, e->o, true);
    rc = put(e, "role", name, j, "created");
  } else if (!strcmp(verb, "delete")) {
    rc = put(e, "role", name, NULL, "deleted");
  } else if (!(j = get(e, "role", name, true))) {
    goto out;
  } else if (!strcmp(verb, "show")) {
    json_dumpf(j, stdout, JSON_INDENT(2));
    fputc('\n', stdout);
    rc = 0;
  } else if (!strcmp(verb, "update") && e->o->description) {
    json_object_set_new(j, "description", json_string(e->o->description));
    rc = put(e, "role", name, j, "updated");
  } else if ((!strcmp(verb, "add-permission") || !strcmp(verb, "remove-permission")) && e->o->npermissions) {
    bool add = verb[0] == 'a';
    if (!change_permissions(j, e->o, add))
      cli_error("role '%s' %s", name, add ? "already has every permission given" : "has none of the permissions given");
    else
      rc = put(e, "role", name, j, "updated");
  } else {
    cli_error("usage: %s", role_usage);
  }
out:
  json_decref(j);
  return rc;
}

static int list_ids(edit *e, const char *kind)
{
  json_t *rows = e->o->json ? json_array() : NULL;
  int rc = urbac_store_list(e->s, e->tenant, kind, print_object, rows) ? EXIT_USAGE : 0;
  if (rows) {
    json_dumpf(rows, stdout, JSON_INDENT(2));
    fputc('\n', stdout);
    json_decref(rows);
  }
  return rc;
}

int cmd_role(cli_opts *o)
{
  edit e;
  bool list = o->nargs == 1 && !strcmp(o->args[0], "list");
  if (!list && !args(o, 2, role_usage))
    return EXIT_USAGE;
  if (!edit_open(o, &e))
    return EXIT_USAGE;
  int rc = list ? list_ids(&e, "role") : role_verb(&e, o->args[0], o->args[1]);
  edit_close(&e);
  return rc;
}

/* ---------------------------------------------------------------- assignment */

static json_t *string_list(const char *const *v, int n)
{
  json_t *a = json_array();
  for (int i = 0; i < n; i++)
    json_array_append_new(a, json_string(v[i]));
  return a;
}

int cmd_assignment(cli_opts *o)
{
  edit e;
  json_t *role = NULL, *list, *v;
  size_t i;
  int rc = EXIT_USAGE;
  const char *usage = "urbac assignment (add ROLE NAME --principal P... --data-source W... [--device-group DG...] | remove ROLE NAME)";
  bool add = o->nargs == 3 && !strcmp(o->args[0], "add");
  if (!add && !(o->nargs == 3 && !strcmp(o->args[0], "remove"))) {
    cli_error("usage: %s", usage);
    return EXIT_USAGE;
  }
  if (add && (!o->nprincipals || !o->nsources)) {
    cli_error("assignment add needs --principal and --data-source (mde, mdo, mdi or all)");
    return EXIT_USAGE;
  }
  if (!edit_open(o, &e))
    return EXIT_USAGE;
  if (!(role = get(&e, "role", o->args[1], true)))
    goto out;
  if (!(list = json_object_get(role, "assignments")))
    json_object_set_new(role, "assignments", list = json_array());
  json_array_foreach(list, i, v) if (!strcmp(json_string_value(json_object_get(v, "name")), o->args[2])) break;
  if (add && i < json_array_size(list)) {
    cli_error("role '%s' already has an assignment '%s'", o->args[1], o->args[2]);
  } else if (!add && i == json_array_size(list)) {
    cli_error("role '%s' has no assignment '%s'", o->args[1], o->args[2]);
  } else {
    if (add) {
      bool all = o->nsources == 1 && !strcmp(o->sources[0], "all");
      json_t *a = json_pack("{s:s, s:o, s:o}", "name", o->args[2], "principals", string_list(o->principals, o->nprincipals),
                            "dataSources", all ? json_string("all") : string_list(o->sources, o->nsources));
      if (o->ndevice_groups)
        json_object_set_new(a, "deviceGroups", string_list(o->device_groups, o->ndevice_groups));
      json_array_append_new(list, a);
    } else {
      json_array_remove(list, i);
    }
    rc = put(&e, "role", o->args[1], role, add ? "added an assignment to" : "removed an assignment from");
  }
out:
  json_decref(role);
  edit_close(&e);
  return rc;
}

/* ---------------------------------------------------------------- users and groups */

/* add / remove ID, or a change to an existing object by `change`. */
static int principal_verb(edit *e, const char *kind, const char *verb, const char *id,
                          int (*change)(edit *e, json_t *j, const char *verb))
{
  json_t *j = get(e, kind, id, false);
  int rc = EXIT_USAGE;
  if (!strcmp(verb, "add")) {
    if (j) {
      cli_error("tenant %s already has a %s '%s'", e->tenant, kind, id);
    } else {
      j = json_pack("{s:s}", "id", id);
      if (e->o->name)
        json_object_set_new(j, "name", json_string(e->o->name));
      if (!strcmp(kind, "group"))
        json_object_set_new(j, "members", string_list(e->o->principals, e->o->nprincipals));
      rc = put(e, kind, id, j, "added");
    }
  } else if (!strcmp(verb, "remove")) {
    rc = put(e, kind, id, NULL, "removed");
  } else if (!j) {
    cli_error("tenant %s has no %s '%s'", e->tenant, kind, id);
  } else {
    rc = change(e, j, verb);
  }
  json_decref(j);
  return rc;
}

static int user_change(edit *e, json_t *j, const char *verb)
{
  if (strcmp(verb, "enable") && strcmp(verb, "disable")) {
    cli_error("usage: urbac user (add ID [--name N] | remove ID | enable ID | disable ID | list)");
    return EXIT_USAGE;
  }
  if (verb[0] == 'e')
    json_object_del(j, "enabled");
  else
    json_object_set_new(j, "enabled", json_false());
  return put(e, "user", json_string_value(json_object_get(j, "id")), j, verb[0] == 'e' ? "enabled" : "disabled");
}

static int group_change(edit *e, json_t *j, const char *verb)
{
  bool add = !strcmp(verb, "add-member");
  json_t *members = json_object_get(j, "members"), *v;
  size_t i, changed = 0;
  if ((!add && strcmp(verb, "remove-member")) || !e->o->nprincipals) {
    cli_error("usage: urbac group (add ID [--name N] | remove ID | add-member ID --principal P... | remove-member ID --principal P... | list)");
    return EXIT_USAGE;
  }
  if (!members)
    json_object_set_new(j, "members", members = json_array());
  for (int k = 0; k < e->o->nprincipals; k++) {
    json_array_foreach(members, i, v) if (!strcmp(json_string_value(v), e->o->principals[k])) break;
    if (add && i == json_array_size(members))
      changed += json_array_append_new(members, json_string(e->o->principals[k])) == 0;
    else if (!add && i < json_array_size(members))
      changed += json_array_remove(members, i) == 0;
  }
  if (!changed) {
    cli_error("group '%s': nothing to change", json_string_value(json_object_get(j, "id")));
    return EXIT_USAGE;
  }
  return put(e, "group", json_string_value(json_object_get(j, "id")), j, "changed");
}

static int principals_cmd(cli_opts *o, const char *kind, int (*change)(edit *, json_t *, const char *))
{
  edit e;
  bool list = o->nargs == 1 && !strcmp(o->args[0], "list");
  if (!list && o->nargs != 2) {
    cli_error("%s takes a verb and an id (see --help)", kind);
    return EXIT_USAGE;
  }
  if (!edit_open(o, &e))
    return EXIT_USAGE;
  int rc = list ? list_ids(&e, kind) : principal_verb(&e, kind, o->args[0], o->args[1], change);
  edit_close(&e);
  return rc;
}

int cmd_user(cli_opts *o) { return principals_cmd(o, "user", user_change); }
int cmd_group(cli_opts *o) { return principals_cmd(o, "group", group_change); }

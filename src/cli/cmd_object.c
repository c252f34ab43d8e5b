/*
 * cli/cmd_object.c - day-to-day changes to a stored tenant: `object` reads and
 * writes any object as JSON; `role`, `assignment`, `user` and `group` are the
 * common edits spelt out. Each is read, change, write: the object's JSON is read,
 * changed with jansson and written back with urbac_store_put(), which validates
 * the change against the store's index (never reading the whole tenant) and
 * audits it in one transaction; nothing here reads the tenant either. The write is
 * based on the revision that was read (or --if-revision), so a concurrent change
 * is a conflict (exit 1), never a lost update.
 *
 * Depends on: the public API, cli/main.c, cli/common.c, cli/source.c.
 */
#include <errno.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

/* The options of every command here; each takes those in its table. */
typedef struct edit_opts {
  cli_source_opts src;
  const char *actor, *body, *file, *description, *name;
  cli_int if_revision, rank;
  cli_list permissions, principals, sources, device_groups;
  bool json;
} edit_opts;

typedef struct edit {
  const edit_opts *o;
  cli_source src; /* the stored tenant as read */
  urbac_store *s;
  const char *tenant;
  uint64_t revision; /* of the read */
} edit;

/* Opens the store and finds the tenant and its revision (the tenant itself is not
 * read: what a command changes is read and written by itself); false (with a
 * message) on failure. edit_close() frees what it holds either way. */
static bool edit_open(const edit_opts *o, edit *e)
{
  e->o = o;
  bool ok =
      cli_source_open(&e->src, &o->src, CLI_SOURCE_STORE, URBAC_STORE_WRITE) && cli_source_revision(&e->src);
  e->s = e->src.store;
  e->tenant = e->src.tenant;
  e->revision = e->src.revision;
  return ok;
}

static int print_object(void *ctx, const char *kind, const char *id, const char *json);

/* Calls print_object with every object of `kind` (NULL: all) into `rows`;
 * prints the store's problem and returns EXIT_USAGE on failure. */
static int list_objects(edit *e, const char *kind, json_t *rows)
{
  urbac_diag *d = urbac_diag_new();
  urbac_err err = d ? urbac_store_list(e->s, e->tenant, kind, print_object, rows, d) : URBAC_ENOMEM;
  if (err)
    cli_error("%s", cli_diag_message(d, err));
  urbac_diag_free(d);
  return err ? EXIT_USAGE : 0;
}

/* The object's JSON, or NULL (with a message when `must`). */
static json_t *get(edit *e, const char *kind, const char *id, bool must)
{
  char *text = NULL;
  uint64_t rev = 0;
  urbac_diag *d = urbac_diag_new();
  urbac_err err = d ? urbac_store_get(e->s, e->tenant, kind, id, &text, &rev, d) : URBAC_ENOMEM;
  json_t *j = err ? NULL : json_loads(text, 0, NULL);
  urbac_free(text);
  if (!err)
    e->revision = rev;
  if (!j && must && (err == URBAC_OK || err == URBAC_ENOTFOUND))
    cli_error("tenant %s has no %s '%s'", e->tenant, kind, id);
  else if (!j && must)
    cli_error("%s", cli_diag_message(d, err));
  urbac_diag_free(d);
  return j;
}

/* Writes (or deletes, when `j` is NULL) the object; prints the outcome. */
static int put(edit *e, const char *kind, const char *id, json_t *j, const char *what)
{
  urbac_diag *d = urbac_diag_new();
  char *text = j ? json_dumps(j, JSON_COMPACT) : NULL, cmd[512];
  uint64_t rev = 0;
  snprintf(cmd, sizeof cmd, "urbac %s %s %s", what, kind, id);
  urbac_write w = {cli_actor(e->o->actor), cmd, true, e->revision, NULL, NULL};
  if (e->o->if_revision.set)
    w.revision = e->o->if_revision.value;
  urbac_err err = urbac_store_put(e->s, e->tenant, kind, id, text, &w, &rev, d);
  if (err)
    cli_print_diag(d);
  else if (e->o->json)
    printf("{\"tenant\": \"%s\", \"%s\": \"%s\", \"revision\": %llu}\n", e->tenant, kind, id,
           (unsigned long long)rev);
  else
    printf("%s %s '%s' in tenant %s: now at revision %llu\n", what, kind, id, e->tenant,
           (unsigned long long)rev);
  free(text);
  urbac_diag_free(d);
  return err == URBAC_OK ? 0 : err == URBAC_ECONFLICT ? EXIT_DENY : EXIT_USAGE;
}

static void edit_close(edit *e) { cli_source_close(&e->src); }

static bool args(const cli_args *a, int n, const char *usage)
{
  if (a->n == n)
    return true;
  cli_error("usage: %s", usage);
  return false;
}

/* ---------------------------------------------------------------- object */

static int print_object(void *ctx, const char *kind, const char *id, const char *json)
{
  json_t *rows = ctx;
  if (rows)
    json_array_append_new(
        rows, json_pack("{s:s, s:s, s:o}", "kind", kind, "id", id, "object", json_loads(json, 0, NULL)));
  else
    printf("%s\t%s\n", kind, id);
  return 0;
}

static int object_put(edit *e, const char *kind, const char *id)
{
  json_error_t jerr;
  json_t *j = e->o->body   ? json_loads(e->o->body, 0, &jerr)
              : e->o->file ? json_load_file(e->o->file, 0, &jerr)
                           : NULL;
  if (!e->o->body && !e->o->file) {
    cli_error("object put needs --body JSON or -f FILE");
    return EXIT_USAGE;
  }
  if (!j) {
    cli_error("%s:%d:%d: %s", e->o->body ? "--body" : e->o->file, jerr.line, jerr.column, jerr.text);
    return EXIT_USAGE;
  }
  int rc = put(e, kind, id, j, "put");
  json_decref(j);
  return rc;
}

static int object_cmd(void *opts, const cli_args *a)
{
  const edit_opts *o = opts;
  edit e;
  int rc = EXIT_USAGE;
  const char *verb = a->n ? a->v[0] : "";
  bool list = strcmp(verb, "list") == 0;
  if (!list && !(a->n == 3 && (!strcmp(verb, "get") || !strcmp(verb, "put") || !strcmp(verb, "delete")))) {
    cli_error("usage: urbac object (get KIND ID | list [KIND] | put KIND ID --body JSON | delete KIND ID)");
    return EXIT_USAGE;
  }
  if (!edit_open(o, &e))
    return EXIT_USAGE;
  if (list) {
    json_t *rows = o->json ? json_array() : NULL;
    rc = list_objects(&e, a->n > 1 ? a->v[1] : NULL, rows);
    if (rows) {
      json_dumpf(rows, stdout, JSON_INDENT(2));
      fputc('\n', stdout);
      json_decref(rows);
    }
  } else if (!strcmp(verb, "get")) {
    json_t *j = get(&e, a->v[1], a->v[2], true);
    if (j) {
      json_dumpf(j, stdout, JSON_INDENT(2));
      fputc('\n', stdout);
      rc = 0;
    }
    json_decref(j);
  } else if (!strcmp(verb, "put")) {
    rc = object_put(&e, a->v[1], a->v[2]);
  } else {
    rc = put(&e, a->v[1], a->v[2], NULL, "deleted");
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
  if (urbac_catalog_resolve(a, strlen(a), &ga, NULL) || urbac_catalog_resolve(b, strlen(b), &gb, NULL))
    return false;
  unsigned all = urbac_catalog_perm(ga.perm)->levels;
  unsigned la = ga.level == URBAC_LEVEL_NONE || ga.level == URBAC_LEVEL_ALL ? all : ga.level;
  unsigned lb = gb.level == URBAC_LEVEL_NONE || gb.level == URBAC_LEVEL_ALL ? all : gb.level;
  return ga.perm == gb.perm && la == lb;
}

/* Adds (or removes) each --permission to a role's list; the count changed. */
static size_t change_permissions(json_t *role, const edit_opts *o, bool add)
{
  json_t *perms = json_object_get(role, "permissions");
  size_t changed = 0, i;
  json_t *v;
  if (!perms) {
    perms = json_array();
    json_object_set_new(role, "permissions", perms);
  }
  for (size_t k = 0; k < o->permissions.n; k++) {
    bool found = false;
    json_array_foreach(perms, i, v)
    {
      if (!same_permission(json_string_value(v), o->permissions.v[k]))
        continue;
      found = true;
      if (!add) {
        json_array_remove(perms, i);
        changed++;
        break;
      }
    }
    if (add && !found) {
      json_array_append_new(perms, json_string(o->permissions.v[k]));
      changed++;
    }
  }
  return changed;
}

static const char *const role_usage =
    "urbac role (create NAME [--description D] [--permission P...] | update NAME --description D | "
    "delete NAME | list | show NAME | add-permission NAME --permission P... | remove-permission NAME "
    "--permission P...)";

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
  } else if ((!strcmp(verb, "add-permission") || !strcmp(verb, "remove-permission")) && e->o->permissions.n) {
    bool add = verb[0] == 'a';
    if (!change_permissions(j, e->o, add))
      cli_error("role '%s' %s", name,
                add ? "already has every permission given" : "has none of the permissions given");
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
  int rc = list_objects(e, kind, rows);
  if (rows) {
    json_dumpf(rows, stdout, JSON_INDENT(2));
    fputc('\n', stdout);
    json_decref(rows);
  }
  return rc;
}

static int role_cmd(void *opts, const cli_args *a)
{
  const edit_opts *o = opts;
  edit e;
  bool list = a->n == 1 && !strcmp(a->v[0], "list");
  if (!list && !args(a, 2, role_usage))
    return EXIT_USAGE;
  if (!edit_open(o, &e))
    return EXIT_USAGE;
  int rc = list ? list_ids(&e, "role") : role_verb(&e, a->v[0], a->v[1]);
  edit_close(&e);
  return rc;
}

/* ---------------------------------------------------------------- assignment */

static json_t *string_list(const char *const *v, size_t n)
{
  json_t *a = json_array();
  for (size_t i = 0; i < n; i++)
    json_array_append_new(a, json_string(v[i]));
  return a;
}

/* One object's nested entries: printed as lines, or appended to `rows` (when
 * not NULL) as JSON objects; false when memory ran out. */
typedef bool (*nested_fn)(const char *kind, const char *id, json_t *object, json_t *rows);

/* A listing of what objects hold (assignments in roles, directory roles in users
 * and groups): every object of each of `kinds` (NULL-terminated) through `each`,
 * then, with --json, the one array. 0 or EXIT_USAGE, having said why. */
static int list_nested(edit *e, const char *const kinds[], nested_fn each)
{
  json_t *all = json_array(), *rows = e->o->json ? json_array() : NULL, *r;
  size_t i;
  int rc = 0;
  bool oom = !all || (e->o->json && !rows);
  for (size_t k = 0; !oom && !rc && kinds[k]; k++)
    rc = list_objects(e, kinds[k], all);
  if (!oom && !rc)
    json_array_foreach(all, i, r) oom |=
        !each(json_string_value(json_object_get(r, "kind")), json_string_value(json_object_get(r, "id")),
              json_object_get(r, "object"), rows);
  if (oom) {
    cli_error("out of memory");
    rc = EXIT_USAGE;
  } else if (!rc && rows) {
    json_dumpf(rows, stdout, JSON_INDENT(2));
    fputc('\n', stdout);
  }
  json_decref(all);
  json_decref(rows);
  return rc;
}

/* assignment list: "assignment ROLE NAME", or {kind, role, name, object}. */
static bool assignment_each(const char *kind, const char *role, json_t *object, json_t *rows)
{
  json_t *v;
  size_t i;
  bool ok = true;
  (void)kind;
  json_array_foreach(json_object_get(object, "assignments"), i, v)
  {
    const char *name = json_string_value(json_object_get(v, "name"));
    if (rows)
      ok &= json_array_append_new(rows, json_pack("{s:s, s:s, s:s?, s:O}", "kind", "assignment", "role", role,
                                                  "name", name, "object", v)) == 0;
    else
      printf("assignment\t%s\t%s\n", role, name ? name : "");
  }
  return ok;
}

static int assignment_cmd(void *opts, const cli_args *a)
{
  const edit_opts *o = opts;
  edit e;
  json_t *role = NULL, *list, *v;
  size_t i;
  int rc = EXIT_USAGE;
  const char *usage = "urbac assignment (add ROLE NAME --principal P... --data-source W... [--device-group "
                      "DG...] | remove ROLE NAME | list)";
  bool add = a->n == 3 && !strcmp(a->v[0], "add"), listing = a->n == 1 && !strcmp(a->v[0], "list");
  if (listing) {
    if (!edit_open(o, &e))
      return EXIT_USAGE;
    rc = list_nested(&e, (const char *const[]){"role", NULL}, assignment_each);
    goto out;
  }
  if (!add && !(a->n == 3 && !strcmp(a->v[0], "remove"))) {
    cli_error("usage: %s", usage);
    return EXIT_USAGE;
  }
  if (add && (!o->principals.n || !o->sources.n)) {
    cli_error(
        "assignment add needs --principal and --data-source (mde, mdo, mdi, mda, mdc, exposure or all)");
    return EXIT_USAGE;
  }
  if (!edit_open(o, &e))
    return EXIT_USAGE;
  if (!(role = get(&e, "role", a->v[1], true)))
    goto out;
  if (!(list = json_object_get(role, "assignments")))
    json_object_set_new(role, "assignments", list = json_array());
  json_array_foreach(list, i, v) if (!strcmp(json_string_value(json_object_get(v, "name")), a->v[2])) break;
  if (add && i < json_array_size(list)) {
    cli_error("role '%s' already has an assignment '%s'", a->v[1], a->v[2]);
  } else if (!add && i == json_array_size(list)) {
    cli_error("role '%s' has no assignment '%s'", a->v[1], a->v[2]);
  } else {
    if (add) {
      bool all = o->sources.n == 1 && !strcmp(o->sources.v[0], "all");
      json_t *entry = json_pack("{s:s, s:o, s:o}", "name", a->v[2], "principals",
                                string_list(o->principals.v, o->principals.n), "dataSources",
                                all ? json_string("all") : string_list(o->sources.v, o->sources.n));
      if (o->device_groups.n)
        json_object_set_new(entry, "deviceGroups", string_list(o->device_groups.v, o->device_groups.n));
      json_array_append_new(list, entry);
    } else {
      json_array_remove(list, i);
    }
    rc = put(&e, "role", a->v[1], role, add ? "added an assignment to" : "removed an assignment from");
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
        json_object_set_new(j, "members", string_list(e->o->principals.v, e->o->principals.n));
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
  return put(e, "user", json_string_value(json_object_get(j, "id")), j,
             verb[0] == 'e' ? "enabled" : "disabled");
}

static int group_change(edit *e, json_t *j, const char *verb)
{
  bool add = !strcmp(verb, "add-member");
  json_t *members = json_object_get(j, "members"), *v;
  size_t i, changed = 0;
  if ((!add && strcmp(verb, "remove-member")) || !e->o->principals.n) {
    cli_error("usage: urbac group (add ID [--name N] | remove ID | add-member ID --principal P... | "
              "remove-member ID --principal P... | list)");
    return EXIT_USAGE;
  }
  if (!members)
    json_object_set_new(j, "members", members = json_array());
  for (size_t k = 0; k < e->o->principals.n; k++) {
    json_array_foreach(members, i, v) if (!strcmp(json_string_value(v), e->o->principals.v[k])) break;
    if (add && i == json_array_size(members))
      changed += json_array_append_new(members, json_string(e->o->principals.v[k])) == 0;
    else if (!add && i < json_array_size(members))
      changed += json_array_remove(members, i) == 0;
  }
  if (!changed) {
    cli_error("group '%s': nothing to change", json_string_value(json_object_get(j, "id")));
    return EXIT_USAGE;
  }
  return put(e, "group", json_string_value(json_object_get(j, "id")), j, "changed");
}

static int principals_cmd(const edit_opts *o, const cli_args *a, const char *kind,
                          int (*change)(edit *, json_t *, const char *))
{
  edit e;
  bool list = a->n == 1 && !strcmp(a->v[0], "list");
  if (!list && a->n != 2) {
    cli_error("%s takes a verb and an id (see --help)", kind);
    return EXIT_USAGE;
  }
  if (!edit_open(o, &e))
    return EXIT_USAGE;
  int rc = list ? list_ids(&e, kind) : principal_verb(&e, kind, a->v[0], a->v[1], change);
  edit_close(&e);
  return rc;
}

static int user_cmd(void *opts, const cli_args *a) { return principals_cmd(opts, a, "user", user_change); }
static int group_cmd(void *opts, const cli_args *a) { return principals_cmd(opts, a, "group", group_change); }

/* ---------------------------------------------------------------- directory roles */

/* directory-role list: "directory-role ROLE PRINCIPAL", or {kind, role, principal}
 * (a user id, or group:ID), for each role a user or group holds. */
static bool directory_role_each(const char *kind, const char *id, json_t *object, json_t *rows)
{
  json_t *v;
  size_t i;
  bool ok = true, group = !strcmp(kind, "group");
  json_array_foreach(json_object_get(object, "directoryRoles"), i, v)
  {
    if (rows)
      ok &= json_array_append_new(rows, json_pack("{s:s, s:s?, s:s+}", "kind", "directoryRole", "role",
                                                  json_string_value(v), "principal", group ? "group:" : "",
                                                  id)) == 0;
    else
      printf("directory-role\t%s\t%s%s\n", json_string_value(v), group ? "group:" : "", id);
  }
  return ok;
}

/* assign|unassign ROLE --principal P...: the role in each user's or group's list. */
static int directory_role_cmd(void *opts, const cli_args *a)
{
  const edit_opts *o = opts;
  edit e;
  int rc = 0;
  bool assign = a->n == 2 && !strcmp(a->v[0], "assign");
  if (a->n == 1 && !strcmp(a->v[0], "list")) {
    if (!edit_open(o, &e))
      return EXIT_USAGE;
    rc = list_nested(&e, (const char *const[]){"user", "group", NULL}, directory_role_each);
    edit_close(&e);
    return rc;
  }
  if ((!assign && !(a->n == 2 && !strcmp(a->v[0], "unassign"))) || !o->principals.n) {
    cli_error("usage: urbac directory-role (assign | unassign) ROLE --principal P... (a user id or "
              "group:ID) | list");
    return EXIT_USAGE;
  }
  size_t r = 0;
  urbac_diag *d = urbac_diag_new();
  urbac_err err = d ? urbac_catalog_legacy_find(URBAC_LEGACY_DIRECTORY_ROLE, a->v[1], strlen(a->v[1]), &r, d)
                    : URBAC_ENOMEM;
  if (err)
    cli_error("%s", cli_diag_message(d, err));
  urbac_diag_free(d);
  if (err)
    return EXIT_USAGE;
  const char *role = urbac_catalog_legacy(URBAC_LEGACY_DIRECTORY_ROLE, r)->name;
  if (!edit_open(o, &e))
    return EXIT_USAGE;
  for (size_t k = 0; k < o->principals.n && rc == 0; k++) {
    bool group = !strncmp(o->principals.v[k], "group:", 6);
    const char *id = o->principals.v[k] + (group ? 6 : 0), *kind = group ? "group" : "user";
    json_t *j = get(&e, kind, id, true), *roles, *v;
    size_t i;
    if (!j) {
      rc = EXIT_USAGE;
      break;
    }
    if (!(roles = json_object_get(j, "directoryRoles")))
      json_object_set_new(j, "directoryRoles", roles = json_array());
    json_array_foreach(roles, i, v) if (!strcmp(json_string_value(v), role)) break;
    if (assign && i == json_array_size(roles))
      json_array_append_new(roles, json_string(role));
    else if (!assign && i < json_array_size(roles))
      json_array_remove(roles, i);
    else
      cli_error("%s '%s' %s directory role %s", kind, id, assign ? "already holds" : "does not hold", role);
    rc = put(&e, kind, id, j, assign ? "assigned a directory role to" : "unassigned a directory role from");
    json_decref(j);
  }
  edit_close(&e);
  return rc;
}

/* ---------------------------------------------------------------- devices, device groups */

static int device_cmd(void *opts, const cli_args *a)
{
  const edit_opts *o = opts;
  edit e;
  int rc = EXIT_USAGE;
  bool add = a->n == 2 && !strcmp(a->v[0], "add"), list = a->n == 1 && !strcmp(a->v[0], "list");
  if (!add && !list && !(a->n == 2 && !strcmp(a->v[0], "remove"))) {
    cli_error("usage: urbac device (add ID [--name N] [--body JSON] | remove ID | list)");
    return EXIT_USAGE;
  }
  if (!edit_open(o, &e))
    return EXIT_USAGE;
  json_t *j = NULL;
  if (list) {
    rc = list_ids(&e, "device");
  } else if (add) {
    j = o->body ? json_loads(o->body, 0, NULL) : json_pack("{s:s}", "id", a->v[1]);
    if (j && !o->body && o->name)
      json_object_set_new(j, "name", json_string(o->name));
    if (j)
      rc = put(&e, "device", a->v[1], j, "added");
    else
      cli_error("--body: not JSON");
  } else {
    rc = put(&e, "device", a->v[1], NULL, "removed");
  }
  json_decref(j);
  edit_close(&e);
  return rc;
}

/* move: the group takes `rank` and those in between shift by one, all in one
 * transaction (ranks stay unique at every commit). */
static int dg_move(edit *e, const char *id, unsigned rank)
{
  json_t *all = json_array(), *v;
  size_t i, n = 0;
  int rc = EXIT_USAGE, from = 0;
  if (list_objects(e, "deviceGroup", all)) {
    json_decref(all);
    return EXIT_USAGE;
  }
  json_array_foreach(all, i, v) if (!strcmp(json_string_value(json_object_get(v, "id")), id)) from =
      (int)json_integer_value(json_object_get(json_object_get(v, "object"), "rank"));
  if (!from) {
    cli_error("device group '%s' does not exist or has no rank (ungrouped always ranks last)", id);
    json_decref(all);
    return EXIT_USAGE;
  }
  urbac_object_put *puts = calloc(json_array_size(all) + 1, sizeof *puts);
  char **texts = calloc(json_array_size(all) + 1, sizeof *texts);
  int lo = from < (int)rank ? from : (int)rank, hi = from < (int)rank ? (int)rank : from;
  json_array_foreach(all, i, v)
  {
    json_t *obj = json_object_get(v, "object");
    int r = (int)json_integer_value(json_object_get(obj, "rank"));
    const char *gid = json_string_value(json_object_get(v, "id"));
    int to = !strcmp(gid, id) ? (int)rank : (r >= lo && r <= hi) ? (from < (int)rank ? r - 1 : r + 1) : r;
    if (!r || to == r)
      continue;
    json_object_set_new(obj, "rank", json_integer(to));
    texts[n] = json_dumps(obj, JSON_COMPACT);
    puts[n] = (urbac_object_put){"deviceGroup", gid, texts[n]};
    n++;
  }
  urbac_diag *d = urbac_diag_new();
  uint64_t rev = 0;
  urbac_write w = {cli_actor(e->o->actor), "urbac device-group move", true, e->revision, NULL, NULL};
  urbac_err err = urbac_store_put_many(e->s, e->tenant, puts, n, &w, &rev, d);
  if (err)
    cli_print_diag(d);
  else
    printf("moved device group '%s' to rank %u in tenant %s: now at revision %llu\n", id, rank, e->tenant,
           (unsigned long long)rev);
  rc = err == URBAC_OK ? 0 : err == URBAC_ECONFLICT ? EXIT_DENY : EXIT_USAGE;
  for (size_t k = 0; k < n; k++)
    free(texts[k]);
  free(texts);
  free(puts);
  urbac_diag_free(d);
  json_decref(all);
  return rc;
}

/* grant|revoke: a group in the device group's user access list. */
static int dg_access(edit *e, const char *id, bool grant)
{
  json_t *j = get(e, "deviceGroup", id, true), *list, *v;
  size_t i;
  int rc = EXIT_USAGE;
  if (!j)
    return EXIT_USAGE;
  if (!(list = json_object_get(j, "userAccess")))
    json_object_set_new(j, "userAccess", list = json_array());
  for (size_t k = 0; k < e->o->principals.n; k++) {
    const char *g = e->o->principals.v[k] + (strncmp(e->o->principals.v[k], "group:", 6) ? 0 : 6);
    json_array_foreach(list, i, v) if (!strcmp(json_string_value(v), g)) break;
    if (grant && i == json_array_size(list))
      json_array_append_new(list, json_string(g));
    else if (!grant && i < json_array_size(list))
      json_array_remove(list, i);
  }
  if (!json_array_size(list))
    json_object_del(j, "userAccess");
  rc = put(e, "deviceGroup", id, j, grant ? "granted access to" : "revoked access to");
  json_decref(j);
  return rc;
}

static int device_group_cmd(void *opts, const cli_args *a)
{
  const edit_opts *o = opts;
  edit e;
  int rc = EXIT_USAGE;
  const char *usage = "urbac device-group (add ID --rank N [--body JSON] | remove ID | move ID --rank N | "
                      "grant ID --principal group:G... | revoke ID --principal group:G... | list)";
  const char *verb = a->n ? a->v[0] : "";
  bool list = a->n == 1 && !strcmp(verb, "list");
  if (a->n != 2 && !list) {
    cli_error("usage: %s", usage);
    return EXIT_USAGE;
  }
  if (!edit_open(o, &e))
    return EXIT_USAGE;
  unsigned rank = (unsigned)o->rank.value;
  if (list) {
    rc = list_ids(&e, "deviceGroup");
  } else if (!strcmp(verb, "add") && (rank || o->body)) {
    json_t *j =
        o->body ? json_loads(o->body, 0, NULL) : json_pack("{s:s, s:i}", "id", a->v[1], "rank", (int)rank);
    rc = j ? put(&e, "deviceGroup", a->v[1], j, "added") : (cli_error("--body: not JSON"), EXIT_USAGE);
    json_decref(j);
  } else if (!strcmp(verb, "remove")) {
    rc = put(&e, "deviceGroup", a->v[1], NULL, "removed");
  } else if (!strcmp(verb, "move") && rank) {
    rc = dg_move(&e, a->v[1], rank);
  } else if ((!strcmp(verb, "grant") || !strcmp(verb, "revoke")) && o->principals.n) {
    rc = dg_access(&e, a->v[1], verb[0] == 'g');
  } else {
    cli_error("usage: %s", usage);
  }
  edit_close(&e);
  return rc;
}

/* ---------------------------------------------------------------- the commands */

#define ROW(name, kind, field, limit, arg, help)                                                             \
  {                                                                                                          \
    name, 0, kind, offsetof(edit_opts, field), limit, arg, NULL, help                                        \
  }
#define BODY ROW("body", CLI_STRING, body, 0, "JSON", "the object as JSON")
#define NAME ROW("name", CLI_STRING, name, 0, "N", "a display name")
#define PRINCIPAL(help) ROW("principal", CLI_LIST, principals, 64, "P", help)
#define ACTOR CLI_ROW_ACTOR(edit_opts)
#define DB CLI_ROW_DB(edit_opts)
#define IF_REVISION CLI_ROW_IF_REVISION(edit_opts)
#define JSON CLI_ROW_JSON(edit_opts)
#define TENANT_ID CLI_ROW_TENANT_ID(edit_opts)
/* every command here writes: its records are MACed and witnessed when asked */
#define AUDIT_KEY CLI_ROW_AUDIT_KEY(edit_opts)
#define WITNESS CLI_ROW_WITNESS(edit_opts), CLI_ROW_WITNESS_SYSLOG(edit_opts)

static const cli_opt object_opts[] = {
    ACTOR,
    AUDIT_KEY,
    BODY,
    DB,
    {"file", 'f', CLI_STRING, offsetof(edit_opts, file), 0, "FILE", NULL, "the object as a JSON file"},
    IF_REVISION,
    JSON,
    TENANT_ID,
    WITNESS,
};
static const cli_opt role_opts[] = {
    ACTOR,
    AUDIT_KEY,
    DB,
    ROW("description", CLI_STRING, description, 0, "D", "the role's description"),
    IF_REVISION,
    JSON,
    ROW("permission", CLI_LIST, permissions, 64, "P", "a permission with its level"),
    TENANT_ID,
    WITNESS,
};
static const cli_opt assignment_opts[] = {
    ACTOR,
    AUDIT_KEY,
    ROW("data-source", CLI_LIST, sources, 4, "W", "mde, mdo, mdi, mda, mdc, exposure, or all"),
    DB,
    ROW("device-group", CLI_LIST, device_groups, 64, "DG", "an mde device group (default: all of them)"),
    IF_REVISION,
    JSON,
    PRINCIPAL("a user id or group:ID"),
    TENANT_ID,
    WITNESS,
};
static const cli_opt user_opts[] = {ACTOR, AUDIT_KEY, DB, IF_REVISION, JSON, NAME, TENANT_ID, WITNESS};
static const cli_opt group_opts[] = {
    ACTOR,     AUDIT_KEY, DB, IF_REVISION, JSON, NAME, PRINCIPAL("a member: a user id or group:ID"),
    TENANT_ID, WITNESS,
};
static const cli_opt directory_role_opts[] = {
    ACTOR, AUDIT_KEY, DB, IF_REVISION, JSON, PRINCIPAL("a user id or group:ID"), TENANT_ID, WITNESS,
};
static const cli_opt device_opts[] = {ACTOR, AUDIT_KEY, BODY,      DB,     IF_REVISION,
                                      JSON,  NAME,      TENANT_ID, WITNESS};
static const cli_opt device_group_opts[] = {
    ACTOR,
    AUDIT_KEY,
    BODY,
    DB,
    IF_REVISION,
    JSON,
    PRINCIPAL("a group given access: group:ID"),
    {"rank", 0, CLI_INT, offsetof(edit_opts, rank), 65535, "N", NULL, "the rank (1 is matched first)"},
    TENANT_ID,
    WITNESS,
};

const cli_command cli_object =
    CLI_COMMAND("object",
                "urbac object (get KIND ID | list [KIND] | put KIND ID (--body JSON | -f FILE) | delete KIND "
                "ID) [--db URL]",
                "Read or write any object of a stored tenant as JSON (validated, audited)", edit_opts,
                object_opts, object_cmd);
const cli_command cli_role = CLI_COMMAND("role",
                                         "urbac role (create NAME [--description D] [--permission P...] | "
                                         "update NAME --description D | delete NAME | "
                                         "list | show NAME | add-permission NAME --permission P... | "
                                         "remove-permission NAME --permission P...) [--db URL]",
                                         "Manage unified roles in a store", edit_opts, role_opts, role_cmd);
const cli_command cli_assignment = CLI_COMMAND(
    "assignment",
    "urbac assignment (add ROLE NAME --principal P... --data-source W... [--device-group DG...] "
    "| remove ROLE NAME | list) "
    "[--db URL]",
    "Add, remove or list the role assignments in a store", edit_opts, assignment_opts, assignment_cmd);
const cli_command cli_user = CLI_COMMAND(
    "user", "urbac user (add ID [--name N] | remove ID | enable ID | disable ID | list) [--db URL]",
    "Manage users in a store", edit_opts, user_opts, user_cmd);
const cli_command cli_group =
    CLI_COMMAND("group",
                "urbac group (add ID [--name N] | remove ID | add-member ID --principal P... | remove-member "
                "ID --principal P... "
                "| list) [--db URL]",
                "Manage groups and membership in a store", edit_opts, group_opts, group_cmd);
const cli_command cli_directory_role = CLI_COMMAND(
    "directory-role", "urbac directory-role ((assign | unassign) ROLE --principal P... | list) [--db URL]",
    "Give or take an Entra ID directory role from users or groups in a store, or list them", edit_opts,
    directory_role_opts, directory_role_cmd);
const cli_command cli_device =
    CLI_COMMAND("device", "urbac device (add ID [--name N] [--body JSON] | remove ID | list) [--db URL]",
                "Add, remove or list the devices in a store", edit_opts, device_opts, device_cmd);
const cli_command cli_device_group = CLI_COMMAND(
    "device-group",
    "urbac device-group (add ID --rank N [--body JSON] | remove ID | move ID --rank N | grant ID --principal "
    "group:G... | revoke ID --principal group:G... | list) [--db URL]",
    "Manage device groups in a store: ranks, user access", edit_opts, device_group_opts, device_group_cmd);

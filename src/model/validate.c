/*
 * model/validate.c - what a tenant file's shape cannot show: duplicate ids,
 * references to unknown objects, group cycles (named in full), device-group ranks.
 *
 * Validation collects every problem with its location before giving up, so a
 * file is fixed in one round (as redis loads ACL files); the loader then keeps
 * nothing of a file that had any. It resolves each reference to an index, which
 * is all the engine needs afterwards.
 *
 * Depends on: util, catalog, model/model.c.
 */
#include <stdio.h>

#include "model/model.h"

typedef struct validator {
  urbac_model *m;
  urbac_diag *d;
  urbac_err oom; /* an allocation failed: stop, report ENOMEM */
  size_t errors;
} validator;

static void report(validator *v, urbac_err code, urbac__loc loc, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static void report(validator *v, urbac_err code, urbac__loc loc, const char *fmt, ...)
{
  va_list ap;
  v->errors++;
  va_start(ap, fmt);
  urbac__diag_vadd(v->d, code, v->m->source, loc.line, loc.col, NULL, fmt, ap);
  va_end(ap);
}

/* Indexes `n` names (at `stride` bytes apart) into `map`; a repeat is an error
 * that says where the first one is. */
static void index_names(validator *v, urbac__strmap *map, const void *base, size_t n, size_t stride,
                        size_t name_off, size_t loc_off, const char *what)
{
  if (urbac__strmap_init(map, n)) {
    v->oom = URBAC_ENOMEM;
    return;
  }
  for (size_t i = 0; i < n; i++) {
    const char *obj = (const char *)base + i * stride;
    const char *name = *(char *const *)(const void *)(obj + name_off);
    urbac__loc loc, first_loc;
    uint32_t first = 0;
    memcpy(&loc, obj + loc_off, sizeof loc);
    urbac_err err = urbac__strmap_put(map, name, strlen(name), (uint32_t)i, &first);
    if (err == URBAC_EDUPLICATE) {
      memcpy(&first_loc, (const char *)base + first * stride + loc_off, sizeof first_loc);
      report(v, URBAC_EDUPLICATE, loc, "duplicate %s '%s' (first defined at line %u)", what, name, first_loc.line);
    } else if (err) {
      v->oom = err;
      return;
    }
  }
}

#define INDEX(v, map, arr, n, type, what)                                                          \
  index_names(v, map, arr, n, sizeof(type), offsetof(type, id), offsetof(type, loc), what " id")

/* Resolves each reference of `r` against the users, groups or device groups. */
static void resolve_refs(validator *v, urbac__refs *r, const char *where)
{
  static const char *const kinds[] = {"user", "group", "device group"};
  for (size_t i = 0; i < r->n; i++) {
    urbac__ref *ref = &r->v[i];
    const urbac__strmap *map = ref->kind == URBAC__REF_USER    ? &v->m->user_map
                               : ref->kind == URBAC__REF_GROUP ? &v->m->group_map
                                                               : &v->m->dg_map;
    if (!urbac__strmap_get(map, ref->name, strlen(ref->name), &ref->idx)) {
      const char *hint = ref->kind == URBAC__REF_USER && urbac__strmap_get(&v->m->group_map, ref->name,
                                                                            strlen(ref->name), &ref->idx)
                             ? " (a group of that id exists: write group:"
                             : NULL;
      report(v, URBAC_EDANGLING, ref->loc, "%s names unknown %s '%s'%s%s%s", where, kinds[ref->kind],
             ref->name, hint ? hint : "", hint ? ref->name : "", hint ? ")" : "");
    }
  }
}

/* Each name of `n` objects unique (roles, legacy roles, assignments). */
static void unique_names(validator *v, const void *base, size_t n, size_t stride, size_t name_off,
                         size_t loc_off, const char *what)
{
  urbac__strmap seen;
  index_names(v, &seen, base, n, stride, name_off, loc_off, what);
  urbac__strmap_free(&seen);
}

#define UNIQUE(v, arr, n, type, field, what)                                                       \
  unique_names(v, arr, n, sizeof(type), offsetof(type, field), offsetof(type, loc), what)

/* ---------------------------------------------------------------- group cycles */

/* Iterative depth-first search over group -> member group edges; a grey node met
 * again closes a cycle, which is reported once with every group on it. */
static void find_cycles(validator *v)
{
  urbac_model *m = v->m;
  size_t n = m->n_groups;
  uint8_t *color = urbac__calloc(n ? n : 1, 1); /* 0 white, 1 grey, 2 black */
  uint32_t *stack = urbac__malloc((n ? n : 1) * sizeof *stack);
  size_t *next = urbac__calloc(n ? n : 1, sizeof *next);
  if (!color || !stack || !next) {
    v->oom = URBAC_ENOMEM;
    goto out;
  }
  for (size_t root = 0; root < n; root++) {
    if (color[root])
      continue;
    size_t top = 0;
    stack[top++] = (uint32_t)root;
    color[root] = 1;
    while (top) {
      uint32_t g = stack[top - 1];
      urbac__refs *mem = &m->groups[g].members;
      if (next[g] == mem->n) {
        color[g] = 2;
        top--;
        continue;
      }
      urbac__ref *r = &mem->v[next[g]++];
      if (r->kind != URBAC__REF_GROUP || r->idx >= n)
        continue;
      if (color[r->idx] == 0) {
        color[r->idx] = 1;
        stack[top++] = r->idx;
      } else if (color[r->idx] == 1) {
        urbac__buf path = {0};
        size_t k = top;
        while (k > 0 && stack[k - 1] != r->idx)
          k--;
        for (size_t j = k - 1; j < top; j++)
          urbac__buf_printf(&path, "%s -> ", m->groups[stack[j]].id);
        urbac__buf_puts(&path, m->groups[r->idx].id);
        report(v, URBAC_ECYCLE, r->loc, "group membership cycle: %s",
               path.failed ? "(out of memory)" : path.s);
        urbac__buf_free(&path);
      }
    }
  }
out:
  urbac__free(color);
  urbac__free(stack);
  urbac__free(next);
}

/* ---------------------------------------------------------------- ranks */

static void check_ranks(validator *v)
{
  urbac__strmap ranks;
  char key[16];
  if (urbac__strmap_init(&ranks, v->m->n_dgs)) {
    v->oom = URBAC_ENOMEM;
    return;
  }
  /* keys must outlive the map: keep them in one buffer */
  char *keys = urbac__calloc(v->m->n_dgs ? v->m->n_dgs : 1, sizeof key);
  if (!keys) {
    v->oom = URBAC_ENOMEM;
    goto out;
  }
  for (size_t i = 0; i < v->m->n_dgs; i++) {
    urbac__devgroup *g = &v->m->dgs[i];
    if (g->ungrouped)
      continue;
    char *k = keys + i * sizeof key;
    int len = snprintf(k, sizeof key, "%u", g->rank);
    uint32_t first;
    if (urbac__strmap_put(&ranks, k, (size_t)len, (uint32_t)i, &first) == URBAC_EDUPLICATE)
      report(v, URBAC_ERANK, g->loc, "device group '%s' has rank %u, already held by '%s'", g->id,
             g->rank, v->m->dgs[first].id);
  }
out:
  urbac__strmap_free(&ranks);
  urbac__free(keys);
}

/* ---------------------------------------------------------------- all of it */

static void resolve_all(validator *v)
{
  urbac_model *m = v->m;
  char where[160];
  for (size_t i = 0; i < m->n_groups; i++) {
    snprintf(where, sizeof where, "group '%.100s'", m->groups[i].id);
    resolve_refs(v, &m->groups[i].members, where);
  }
  for (size_t i = 0; i < m->n_dgs; i++) {
    snprintf(where, sizeof where, "userAccess of device group '%.100s'", m->dgs[i].id);
    resolve_refs(v, &m->dgs[i].access, where);
  }
  for (size_t i = 0; i < m->n_roles; i++) {
    urbac__role *r = &m->roles[i];
    UNIQUE(v, r->asg, r->nasg, urbac__assignment, name, "assignment name in the role");
    for (size_t a = 0; a < r->nasg; a++) {
      snprintf(where, sizeof where, "assignment '%.60s' of role '%.60s'", r->asg[a].name, r->name);
      resolve_refs(v, &r->asg[a].principals, where);
      resolve_refs(v, &r->asg[a].dgs, where);
    }
  }
  for (size_t i = 0; i < m->n_mde_roles; i++) {
    snprintf(where, sizeof where, "legacy mde role '%.100s'", m->mde_roles[i].name);
    resolve_refs(v, &m->mde_roles[i].groups, where);
  }
  for (size_t i = 0; i < m->n_eop; i++) {
    snprintf(where, sizeof where, "EOP role group '%s'",
             urbac_catalog_legacy(URBAC_LEGACY_EOP_ROLE_GROUP, m->eop[i].which)->name);
    resolve_refs(v, &m->eop[i].members, where);
  }
  for (size_t i = 0; i < m->n_mdi; i++) {
    snprintf(where, sizeof where, "MDI role '%s'",
             urbac_catalog_legacy(URBAC_LEGACY_MDI_ROLE, m->mdi[i].which)->name);
    resolve_refs(v, &m->mdi[i].members, where);
  }
}

/* A legacy role group or MDI role listed twice. */
static void unique_legacy(validator *v, const urbac__legacy_members *items, size_t n,
                          urbac_legacy_kind kind)
{
  for (size_t i = 0; i < n; i++)
    for (size_t j = 0; j < i; j++)
      if (items[i].which == items[j].which)
        report(v, URBAC_EDUPLICATE, items[i].loc, "%s '%s' is listed twice (first at line %u)",
               kind == URBAC_LEGACY_MDI_ROLE ? "MDI role" : "EOP role group",
               urbac_catalog_legacy(kind, items[i].which)->name, items[j].loc.line);
}

urbac_err urbac__model_validate(urbac_model *m, urbac_diag *d)
{
  validator v = {m, d, URBAC_OK, 0};
  INDEX(&v, &m->user_map, m->users, m->n_users, urbac__user, "user");
  INDEX(&v, &m->group_map, m->groups, m->n_groups, urbac__group, "group");
  INDEX(&v, &m->dg_map, m->dgs, m->n_dgs, urbac__devgroup, "device group");
  INDEX(&v, &m->device_map, m->devices, m->n_devices, urbac__device, "device");
  if (v.oom)
    return URBAC_ENOMEM;
  for (size_t i = 0; i < m->n_dgs; i++)
    if (m->dgs[i].ungrouped)
      m->ungrouped = (uint32_t)i;
  UNIQUE(&v, m->roles, m->n_roles, urbac__role, name, "role name");
  UNIQUE(&v, m->mde_roles, m->n_mde_roles, urbac__mde_role, name, "legacy mde role name");
  unique_legacy(&v, m->eop, m->n_eop, URBAC_LEGACY_EOP_ROLE_GROUP);
  unique_legacy(&v, m->mdi, m->n_mdi, URBAC_LEGACY_MDI_ROLE);
  resolve_all(&v);
  if (!v.oom && v.errors == 0)
    find_cycles(&v);
  if (!v.oom)
    check_ranks(&v);
  if (v.oom)
    return URBAC_ENOMEM;
  return v.errors == 0 ? URBAC_OK : URBAC_EINVAL;
}

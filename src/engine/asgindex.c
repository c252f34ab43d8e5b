/*
 * engine/asgindex.c - which roles name each principal in an assignment, so that
 * an update finds the assignments of the groups and users it recomputes without
 * reading every role (engine/update.c): one (kind, principal, role) entry per
 * role naming a principal, sorted. A snapshot's index is immutable and shared
 * by count with the snapshots updated from it; an edit that changes roles makes
 * the next one from the base's, dropping the changed roles' entries and merging
 * in their new ones: a copy of the array, no role read but the changed.
 *
 * Depends on: util, model, engine/compiler.h.
 */
#include <stdlib.h>

#include "engine/compiler.h"

struct urbac__asg_index {
  uint32_t refs;
  size_t n;
  urbac__asg_entry v[];
};

static int entry_order(const void *pa, const void *pb)
{
  const urbac__asg_entry *a = pa, *b = pb;
  if (a->kind != b->kind)
    return a->kind < b->kind ? -1 : 1;
  if (a->idx != b->idx)
    return a->idx < b->idx ? -1 : 1;
  return a->role < b->role ? -1 : a->role > b->role;
}

static urbac__asg_index *index_new(size_t cap)
{
  urbac__asg_index *x = urbac__malloc(sizeof *x + (cap ? cap : 1) * sizeof x->v[0]);
  if (x) {
    x->refs = 1;
    x->n = 0;
  }
  return x;
}

/* The entries of role `r` (NULL: deleted) appended to `out` (room made), sorted and
 * without duplicates among themselves. */
static urbac_err role_entries(const urbac_model *m, size_t r, urbac__asg_entry **out, size_t *n, size_t *cap)
{
  const urbac__role *role = urbac__role_at(m, r);
  size_t first = *n;
  for (size_t k = 0; role && k < role->nasg; k++)
    for (size_t p = 0; p < role->asg[k].principals.n; p++) {
      const urbac__ref *ref = &role->asg[k].principals.v[p];
      if (ref->idx == URBAC__PENDING)
        continue; /* names nothing yet */
      if (URBAC_GROW(*out, *cap, *n + 1))
        return URBAC_ENOMEM;
      (*out)[(*n)++] = (urbac__asg_entry){ref->idx, (uint32_t)r, ref->kind};
    }
  if (*n - first > 1)
    qsort(*out + first, *n - first, sizeof **out, entry_order);
  size_t w = first;
  for (size_t i = first; i < *n; i++)
    if (w == first || entry_order(&(*out)[w - 1], &(*out)[i]) != 0)
      (*out)[w++] = (*out)[i];
  *n = w;
  return URBAC_OK;
}

urbac__asg_index *urbac__asg_index_build(const urbac_model *m)
{
  urbac__asg_entry *v = NULL;
  size_t n = 0, cap = 0;
  urbac__asg_index *x = NULL;
  for (size_t r = 0; r < m->roles.n; r++)
    if (role_entries(m, r, &v, &n, &cap))
      goto out;
  if (n > 1)
    qsort(v, n, sizeof *v, entry_order);
  if ((x = index_new(n)) && n) {
    memcpy(x->v, v, n * sizeof *v);
    x->n = n;
  }
out:
  urbac__free(v);
  return x;
}

urbac__asg_index *urbac__asg_index_update(urbac__asg_index *base, const urbac_model *m)
{
  uint64_t *changed = NULL;
  urbac__asg_entry *add = NULL;
  size_t nadd = 0, cap = 0, nroles = 0;
  urbac__asg_index *x = NULL;
  for (size_t c = 0; c < m->nchanges; c++)
    nroles += m->changes[c].kind == URBAC__OBJ_ROLE;
  if (!nroles) {
    __atomic_add_fetch(&base->refs, 1, __ATOMIC_RELAXED);
    return base;
  }
  if (!(changed = urbac__calloc(urbac__bits_words(m->roles.n + 1), sizeof *changed)))
    return NULL;
  for (size_t c = 0; c < m->nchanges; c++)
    if (m->changes[c].kind == URBAC__OBJ_ROLE && !urbac__bit_test(changed, m->changes[c].idx)) {
      urbac__bit_set(changed, m->changes[c].idx);
      if (role_entries(m, m->changes[c].idx, &add, &nadd, &cap))
        goto out;
    }
  if (nadd > 1) /* each role's run is sorted; the runs together are not */
    qsort(add, nadd, sizeof *add, entry_order);
  if (!(x = index_new(base->n + nadd)))
    goto out;
  size_t i = 0, j = 0;
  while (i < base->n || j < nadd) { /* the base's entries of unchanged roles, merged with the new ones */
    if (i < base->n && urbac__bit_test(changed, base->v[i].role)) {
      i++;
      continue;
    }
    bool from_base = j == nadd || (i < base->n && entry_order(&base->v[i], &add[j]) < 0);
    x->v[x->n++] = from_base ? base->v[i++] : add[j++];
  }
out:
  urbac__free(changed);
  urbac__free(add);
  return x;
}

void urbac__asg_index_release(urbac__asg_index *x)
{
  if (x && __atomic_sub_fetch(&x->refs, 1, __ATOMIC_ACQ_REL) == 0)
    urbac__free(x);
}

const urbac__asg_entry *urbac__asg_index_find(const urbac__asg_index *x, uint8_t kind, uint32_t idx,
                                              size_t *n)
{
  urbac__asg_entry key = {idx, 0, kind};
  size_t lo = 0, hi = x->n;
  while (lo < hi) { /* the first entry not before (kind, idx, role 0) */
    size_t mid = lo + (hi - lo) / 2;
    if (entry_order(&x->v[mid], &key) < 0)
      lo = mid + 1;
    else
      hi = mid;
  }
  size_t end = lo;
  while (end < x->n && x->v[end].kind == kind && x->v[end].idx == idx)
    end++;
  *n = end - lo;
  return x->v + lo;
}

/*
 * legacy/impact.c - the exact difference that activating a workload makes
 * (semantics.md "Impact"), computed by the engine itself.
 *
 * How: compile the tenant as it is and as it would be (a copy, with the
 * workload's legacy roles imported when asked, and the workload activated). Each
 * user has a profile in each snapshot; users with the same pair of profiles have
 * the same changes, so the difference is computed once per distinct pair (a few
 * thousand on a 100,000-user tenant), from the profiles' grant masks per device
 * group, and rows are produced per user from that. The levels compared are what
 * a check answers: read, manage or none for each permission, on mde for each
 * device group, ungrouped included.
 *
 * Depends on: util, catalog, model, engine, legacy/import.c.
 */
#include <stdio.h>

#include "engine/engine.h"
#include "urbac/legacy.h"

#define NO_DG UINT32_MAX

typedef struct diff {
  uint16_t perm;
  uint8_t before, after;
  uint32_t dg;
} diff;

struct urbac_impact {
  const urbac_model *m;
  urbac_model *after_model;
  urbac_snapshot *before, *after;
  size_t w;
  bool imported;
  uint32_t *user_pair; /* per user: index into pair_off */
  size_t *pair_off;    /* pair k's diffs: diffs[pair_off[k] .. pair_off[k+1]) */
  size_t npairs, cap_pairs;
  diff *diffs;
  size_t ndiffs, cap_diffs;
  size_t count;
};

const char *urbac_impact_level_name(uint8_t level)
{
  return level == URBAC_IMPACT_MANAGE ? "manage" : level == URBAC_IMPACT_READ ? "read" : "none";
}

/* The level of permission `p` in a grant mask: manage, read or none. */
static uint8_t level_of(const urbac__gmask *m, unsigned p)
{
  unsigned gm = urbac__grant_index(p, URBAC_LEVEL_MANAGE), gr = urbac__grant_index(p, URBAC_LEVEL_READ);
  if (gm != URBAC__NO_GRANT && urbac__gmask_has(m, gm))
    return URBAC_IMPACT_MANAGE;
  return gr != URBAC__NO_GRANT && urbac__gmask_has(m, gr) ? URBAC_IMPACT_READ : URBAC_IMPACT_NONE;
}

/* The grants a profile holds on device group `dg` of workload `w`. */
static urbac__gmask grants_on(const urbac_snapshot *snap, const urbac__wdec *d, uint32_t dg)
{
  urbac__gmask m = d->all;
  for (uint32_t i = 0; i < d->part_n; i++) {
    const urbac__part *p = urbac__part_at(snap, d->part_off + i);
    if (urbac__bit_test(urbac__dgset(snap, p->dgset), dg))
      urbac__gmask_or(&m, &p->mask);
  }
  return m;
}

static urbac_err add_diff(urbac_impact *im, unsigned perm, uint8_t before, uint8_t after, uint32_t dg)
{
  if (URBAC_GROW(im->diffs, im->cap_diffs, im->ndiffs + 1))
    return URBAC_ENOMEM;
  im->diffs[im->ndiffs++] = (diff){(uint16_t)perm, before, after, dg};
  return URBAC_OK;
}

/* The diffs of one (before profile, after profile) pair, by permission then rank. */
static urbac_err pair_diffs(urbac_impact *im, uint32_t pb, uint32_t pa, urbac__gmask *mb, urbac__gmask *ma)
{
  const urbac__wdec *db = &urbac__profile_at(im->before, pb)->w[im->w];
  const urbac__wdec *da = &urbac__profile_at(im->after, pa)->w[im->w];
  bool mde = im->w == URBAC__WL_MDE;
  size_t ndg = mde ? im->before->ndg_order : 1;
  urbac_err err = URBAC_OK;
  for (size_t i = 0; i < ndg; i++) {
    uint32_t dg = mde ? im->before->dg_order[i] : NO_DG;
    mb[i] = mde ? grants_on(im->before, db, dg) : db->all;
    ma[i] = mde ? grants_on(im->after, da, dg) : da->all;
  }
  for (unsigned p = 0; p < URBAC__NPERMS && !err; p++)
    for (size_t i = 0; i < ndg && !err; i++) {
      if (urbac__gmask_eq(&mb[i], &ma[i]))
        continue;
      uint8_t b = level_of(&mb[i], p), a = level_of(&ma[i], p);
      if (a != b)
        err = add_diff(im, p, b, a, mde ? im->before->dg_order[i] : NO_DG);
    }
  return err;
}

static urbac_err compute(urbac_impact *im, urbac_impact_progress_cb cb, void *ctx)
{
  urbac__intern pairs = {0};
  size_t n = im->m->users.n, ndg = im->m->dgs.n ? im->m->dgs.n : 1;
  urbac__gmask *mb = urbac__malloc(ndg * sizeof *mb), *ma = urbac__malloc(ndg * sizeof *ma);
  urbac_err err = (!mb || !ma) ? URBAC_ENOMEM : urbac__intern_init(&pairs, 1024);
  im->user_pair = urbac__malloc((n ? n : 1) * sizeof *im->user_pair);
  if (!err && (!im->user_pair || URBAC_GROW(im->pair_off, im->cap_pairs, 1)))
    err = URBAC_ENOMEM;
  for (size_t u = 0; u < n && !err; u++) {
    uint32_t key[2] = {urbac__user_profile(im->before, (uint32_t)u),
                       urbac__user_profile(im->after, (uint32_t)u)},
             id;
    bool added;
    err = urbac__intern_put(&pairs, key, sizeof key, &id, &added);
    if (!err && added) {
      im->pair_off[im->npairs] = im->ndiffs;
      err = pair_diffs(im, key[0], key[1], mb, ma);
      if (!err && URBAC_GROW(im->pair_off, im->cap_pairs, ++im->npairs + 1))
        err = URBAC_ENOMEM;
      if (!err)
        im->pair_off[im->npairs] = im->ndiffs;
    }
    if (!err) {
      im->user_pair[u] = id;
      im->count += im->pair_off[id + 1] - im->pair_off[id];
    }
    if (!err && cb && ((u + 1) % 256 == 0 || u + 1 == n) && !cb(ctx, 2 * n + u + 1, 3 * n))
      err = URBAC_EREFUSED;
  }
  urbac__intern_free(&pairs);
  urbac__free(mb);
  urbac__free(ma);
  return err;
}

urbac_err urbac_impact_compute(const urbac_model *m, size_t workload, bool import, urbac_impact **out,
                               urbac_diag *d)
{
  return urbac_impact_compute_progress(m, workload, import, NULL, NULL, out, d);
}

urbac_err urbac_impact_compute_progress(const urbac_model *m, size_t workload, bool import,
                                        urbac_impact_progress_cb cb, void *ctx, urbac_impact **out,
                                        urbac_diag *d)
{
  urbac_impact *im = NULL;
  urbac_err err = URBAC_ENOMEM;
  *out = NULL;
  if (workload >= URBAC__NWORKLOADS)
    return urbac__diag_add(d, URBAC_EWORKLOAD, NULL, 0, 0, NULL, "unknown workload index %zu", workload);
  if (!urbac_catalog_workload_has_legacy(workload))
    return urbac__diag_add(d, URBAC_EREFUSED, NULL, 0, 0, "workload",
                           "%s has no legacy model: it is always in unified mode (no activation to measure)",
                           urbac_catalog_workload_id(workload));
  if (!(im = urbac__calloc(1, sizeof *im)))
    return urbac__diag_code(d, URBAC_ENOMEM, "computing the impact");
  im->m = m;
  im->w = workload;
  im->imported = import;
  err = import ? urbac_import(m, workload, &im->after_model, NULL, d)
               : urbac_model_clone(m, &im->after_model, d);
  static const char stopped[] = "the impact's computation was stopped";
  size_t n = m->users.n; /* the steps: each user compiled before, compiled after, compared */
  if (!err) {
    im->after_model->modes[workload] = URBAC_MODE_UNIFIED;
    err = urbac_snapshot_compile(m, &im->before, d);
  }
  if (!err && cb && !cb(ctx, n, 3 * n))
    err = urbac__diag_code(d, URBAC_EREFUSED, stopped);
  if (!err)
    err = urbac_snapshot_compile(im->after_model, &im->after, d);
  if (!err && cb && !cb(ctx, 2 * n, 3 * n))
    err = urbac__diag_code(d, URBAC_EREFUSED, stopped);
  if (!err && (err = compute(im, cb, ctx)))
    urbac__diag_code(d, err, err == URBAC_EREFUSED ? stopped : "computing the impact");
  if (err) {
    urbac_impact_free(im);
    return err;
  }
  *out = im;
  return URBAC_OK;
}

void urbac_impact_free(urbac_impact *im)
{
  if (!im)
    return;
  urbac_snapshot_free(im->before);
  urbac_snapshot_free(im->after);
  urbac_model_free(im->after_model);
  urbac__free(im->user_pair);
  urbac__free(im->pair_off);
  urbac__free(im->diffs);
  urbac__free(im);
}

int urbac_impact_rows(const urbac_impact *im, urbac_impact_cb cb, void *ctx)
{
  for (size_t u = 0; u < im->m->users.n; u++) {
    uint32_t k = im->user_pair[u];
    for (size_t i = im->pair_off[k]; i < im->pair_off[k + 1]; i++) {
      const diff *d = &im->diffs[i];
      urbac_impact_row row = {(uint32_t)u, d->perm, d->before, d->after, d->dg};
      int r = cb(ctx, &row);
      if (r)
        return r;
    }
  }
  return 0;
}

size_t urbac_impact_count(const urbac_impact *im) { return im->count; }
size_t urbac_impact_workload(const urbac_impact *im) { return im->w; }
const urbac_snapshot *urbac_impact_before(const urbac_impact *im) { return im->before; }
const urbac_snapshot *urbac_impact_after(const urbac_impact *im) { return im->after; }

/* ---------------------------------------------------------------- why */

/* The first granting chain of an explanation, else its first line. */
static void summary(const urbac_explanation *e, char *buf, size_t size)
{
  const char *pick = urbac_explanation_count(e) ? urbac_explanation_line(e, 0) : "";
  for (size_t i = 0; i < urbac_explanation_count(e); i++) {
    const char *l = urbac_explanation_line(e, i);
    if (strncmp(l, "missing:", 8) != 0 && strncmp(l, "device access:", 14) != 0) {
      pick = l;
      break;
    }
  }
  snprintf(buf, size, "%s", pick);
}

/* Explains one side at its own level, or (when it has none) at the other side's. */
static urbac_err explain_side(const urbac_impact *im, const urbac_snapshot *snap, const urbac_impact_row *row,
                              uint8_t level, uint8_t other, char *buf, size_t size)
{
  uint8_t ask = level != URBAC_IMPACT_NONE ? level : other;
  unsigned g =
      urbac__grant_index(row->permission, ask == URBAC_IMPACT_MANAGE ? URBAC_LEVEL_MANAGE : URBAC_LEVEL_READ);
  if (g == URBAC__NO_GRANT)
    g = urbac__grant_index(row->permission, URBAC_LEVEL_MANAGE);
  urbac_query q = {row->user,
                   (uint16_t)g,
                   (uint8_t)im->w,
                   row->dg == NO_DG ? URBAC_SCOPE_ALL : URBAC_SCOPE_DEVICE_GROUP,
                   row->dg == NO_DG ? 0 : row->dg,
                   URBAC_NO_DEVICE};
  urbac_explanation *e;
  urbac_err err = urbac_explain(snap, &q, &e, NULL);
  if (err)
    return err;
  summary(e, buf, size);
  urbac_explanation_free(e);
  return URBAC_OK;
}

/* Names the difference between the models that a change comes from, if it is one
 * the spec describes (semantics.md: directory roles on mde; device access). */
static void note(const urbac_impact *im, const urbac_impact_row *row, char *after, size_t size)
{
  char role[128] = "", text[2048];
  const char *at = strstr(after, "-> directory role ");
  if (im->w != URBAC__WL_MDE || im->m->modes[URBAC__WL_MDE] != URBAC_MODE_LEGACY)
    return;
  if (at && row->after > row->before) {
    sscanf(at + 18, "%127[^-]", role);
    size_t n = strlen(role);
    while (n && role[n - 1] == ' ')
      role[--n] = '\0';
    snprintf(text, sizeof text, "directory role %s now counts on mde: %s", role, after);
  } else if (im->imported && row->after < row->before) {
    snprintf(text, sizeof text,
             "legacy device access was unioned across groups; the imported assignment pairs it: %s", after);
  } else if (im->imported && row->after > row->before && strstr(after, "assignment \"imported\"")) {
    snprintf(text, sizeof text,
             "the imported assignment gives the role on every device group its groups may access: %s", after);
  } else {
    return;
  }
  snprintf(after, size, "%s", text);
}

urbac_err urbac_impact_explain(const urbac_impact *im, const urbac_impact_row *row, char *before, char *after,
                               size_t size, urbac_diag *d)
{
  urbac_err err = explain_side(im, im->before, row, row->before, row->after, before, size);
  if (!err)
    err = explain_side(im, im->after, row, row->after, row->before, after, size);
  if (!err)
    note(im, row, after, size);
  else
    urbac__diag_code(d, err, "explaining an impact row");
  return err;
}

/*
 * cli/impact_summary.c - the impact as a person can read it when the changes are
 * millions: counts per direction (losses first), per permission, per device group,
 * per group and per user, counted in one pass over the rows without text for any
 * row, then printed as text or JSON with each list cut to its largest N. Also the
 * numbers with thousands separators and the progress of long runs on stderr.
 *
 * Depends on: the public API, cli/cmd_impact.c (which calls it), jansson.
 */
#include <jansson.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "impact.h"

/* ---------------------------------------------------------------- counting */

typedef struct counter {
  impact_summary *s;
  impact_progress *p;
} counter;

static int count_row(void *ctx, const urbac_impact_row *r)
{
  counter *c = ctx;
  impact_summary *s = c->s;
  bool gain = r->after > r->before;
  size_t dg = r->dg == UINT32_MAX || r->dg >= s->ndgs ? s->ndgs : r->dg;
  s->gains += gain;
  s->losses += !gain;
  s->perm[r->permission % IMPACT_MAX_PERMS].gains += gain;
  s->perm[r->permission % IMPACT_MAX_PERMS].losses += !gain;
  s->dg[dg].gains += gain;
  s->dg[dg].losses += !gain;
  s->user[r->user].gains += gain;
  s->user[r->user].losses += !gain;
  impact_progress_step(c->p);
  return 0;
}

bool impact_summarize(const urbac_impact *im, impact_summary *s, impact_progress *p)
{
  const urbac_model *m;
  counter c = {s, p};
  memset(s, 0, sizeof *s);
  s->before = urbac_impact_before(im);
  m = urbac_snapshot_model(s->before);
  s->ndgs = urbac_model_count(m, URBAC_OBJ_DEVICE_GROUP);
  s->ngroups = urbac_model_count(m, URBAC_OBJ_GROUP);
  s->nusers = urbac_model_count(m, URBAC_OBJ_USER);
  s->scoped = (int)urbac_impact_workload(im) == urbac_catalog_workload_find("mde");
  s->dg = calloc(s->ndgs + 1, sizeof *s->dg);
  s->group = calloc(s->ngroups + 1, sizeof *s->group);
  s->user = calloc(s->nusers + 1, sizeof *s->user);
  if (!s->dg || !s->group || !s->user)
    return false;
  impact_progress_start(p, "summarizing", urbac_impact_count(im));
  urbac_impact_rows(im, count_row, &c);
  impact_progress_end(p);
  /* per group from per user: each change counts for every group its user is a direct member of */
  for (uint32_t u = 0; u < s->nusers; u++) {
    const impact_count *uc = &s->user[u];
    if (!uc->gains && !uc->losses)
      continue;
    s->users++;
    s->users_gaining += uc->gains > 0;
    s->users_losing += uc->losses > 0;
    for (size_t k = 0; k < urbac_snapshot_user_group_count(s->before, u); k++) {
      uint32_t g = urbac_snapshot_user_group(s->before, u, k);
      if (g < s->ngroups) {
        s->group[g].gains += uc->gains;
        s->group[g].losses += uc->losses;
      }
    }
  }
  s->rows = s->gains + s->losses;
  return true;
}

void impact_summary_free(impact_summary *s)
{
  free(s->dg);
  free(s->group);
  free(s->user);
  s->dg = s->group = s->user = NULL;
}

static const impact_count *sort_base;
static bool sort_losses;

static int by_count(const void *a, const void *b)
{
  size_t i = *(const size_t *)a, j = *(const size_t *)b;
  size_t x = sort_losses ? sort_base[i].losses : sort_base[i].gains;
  size_t y = sort_losses ? sort_base[j].losses : sort_base[j].gains;
  return x != y ? (x < y ? 1 : -1) : (i > j) - (i < j);
}

size_t impact_top(const impact_count *c, size_t n, bool losses, size_t top, size_t *out)
{
  size_t k = 0;
  for (size_t i = 0; i < n; i++)
    if (losses ? c[i].losses : c[i].gains)
      out[k++] = i;
  sort_base = c;
  sort_losses = losses;
  qsort(out, k, sizeof *out, by_count);
  return top && k > top ? top : k;
}

size_t *impact_top_buffer(const impact_summary *s)
{
  size_t most = s->nusers > s->ngroups ? s->nusers : s->ngroups;
  most = most > s->ndgs + 1 ? most : s->ndgs + 1;
  return malloc((most > IMPACT_MAX_PERMS ? most : IMPACT_MAX_PERMS) * sizeof(size_t));
}

const char *impact_num(size_t n, char *buf)
{
  char digits[24];
  int len = snprintf(digits, sizeof digits, "%zu", n), o = 0;
  for (int i = 0; i < len; i++) {
    if (i && (len - i) % 3 == 0)
      buf[o++] = ',';
    buf[o++] = digits[i];
  }
  buf[o] = '\0';
  return buf;
}

/* ---------------------------------------------------------------- lists */

/* One list of the summary: what it counts, and the names of its entries. */
typedef struct list {
  const char *title, *key, *plural; /* "device group", "deviceGroups", "device groups" */
  const impact_count *c;
  size_t n;
  const urbac_snapshot *s;
  bool perm; /* entries are catalog permissions, not objects of `kind` */
  urbac_object_kind kind;
} list;

static const char *entry_name(const list *l, size_t i)
{
  const urbac_model *m = urbac_snapshot_model(l->s);
  if (l->perm)
    return urbac_catalog_perm(i)->name;
  if (l->kind == URBAC_OBJ_USER)
    return urbac_snapshot_user_id(l->s, (uint32_t)i);
  if (l->kind == URBAC_OBJ_DEVICE_GROUP && i == urbac_model_count(m, URBAC_OBJ_DEVICE_GROUP))
    return "(the whole workload)";
  return urbac_model_id(m, l->kind, i);
}

/* One list of the summary ("by `title`"), of `n` counts at `c`, named like objects of `kind` (or
 * permissions). */
static list list_of(const impact_summary *s, const char *title, const char *many, const char *key,
                    const impact_count *c, size_t n, bool perm, urbac_object_kind kind)
{
  list l = {title, key, many, c, n, s->before, perm, kind};
  return l;
}

static size_t lists_of(const impact_summary *s, list *out)
{
  size_t n = 0,
         np = urbac_catalog_perm_count() < IMPACT_MAX_PERMS ? urbac_catalog_perm_count() : IMPACT_MAX_PERMS;
  out[n++] = list_of(s, "permission", "permissions", "permissions", s->perm, np, true, URBAC_OBJ_USER);
  if (s->scoped)
    out[n++] = list_of(s, "device group", "device groups", "deviceGroups", s->dg, s->ndgs + 1, false,
                       URBAC_OBJ_DEVICE_GROUP);
  out[n++] =
      list_of(s, "group (direct members)", "groups", "groups", s->group, s->ngroups, false, URBAC_OBJ_GROUP);
  out[n++] = list_of(s, "user", "users", "users", s->user, s->nusers, false, URBAC_OBJ_USER);
  return n;
}

static size_t count_of(const impact_count *c, bool losses) { return losses ? c->losses : c->gains; }

static bool text_list(FILE *f, const list *l, bool losses, size_t top, size_t *idx)
{
  char a[32], b[32];
  size_t all = impact_top(l->c, l->n, losses, 0, idx), shown = top && all > top ? top : all, rest = 0;
  if (!all)
    return true;
  for (size_t i = shown; i < all; i++)
    rest += count_of(&l->c[idx[i]], losses);
  if (all > shown)
    fprintf(f, "  by %s (the %s largest of %s)\n", l->title, impact_num(shown, a), impact_num(all, b));
  else
    fprintf(f, "  by %s\n", l->title);
  for (size_t i = 0; i < shown; i++)
    fprintf(f, "    %12s  %s\n", impact_num(count_of(&l->c[idx[i]], losses), a), entry_name(l, idx[i]));
  if (all > shown)
    fprintf(f, "    %12s  in the other %s %s\n", impact_num(rest, a), impact_num(all - shown, b), l->plural);
  return true;
}

bool impact_summary_text(const impact_out *o, const impact_summary *s, bool colour)
{
  const urbac_model *m = urbac_snapshot_model(s->before);
  size_t *idx = impact_top_buffer(s);
  char n1[32], n2[32], n3[32], n4[32];
  list lists[4];
  size_t nl = lists_of(s, lists);
  if (!idx)
    return false;
  fprintf(o->f, "Impact of activating %s on tenant %s%s: %s change%s for %s user%s (%s gains, %s losses)\n",
          urbac_catalog_workload_id(urbac_impact_workload(o->im)), urbac_model_tenant(m),
          o->import ? " after importing its legacy roles" : "", impact_num(s->rows, n1),
          s->rows == 1 ? "" : "s", impact_num(s->users, n2), s->users == 1 ? "" : "s",
          impact_num(s->gains, n3), impact_num(s->losses, n4));
  for (int dir = 0; dir < 2; dir++) {
    bool losses = dir == 0;
    size_t n = losses ? s->losses : s->gains, users = losses ? s->users_losing : s->users_gaining;
    const char *on = !colour ? "" : losses ? "\033[1;31m" : "\033[1;32m", *off = colour ? "\033[0m" : "";
    fprintf(o->f, "\n%s%s %s%s for %s user%s\n", on, impact_num(n, n1), losses ? "losses" : "gains", off,
            impact_num(users, n2), users == 1 ? "" : "s");
    for (size_t k = 0; n && k < nl; k++)
      text_list(o->f, &lists[k], losses, o->top, idx);
  }
  if (s->rows)
    fprintf(o->f, "\nEvery change: --rows (a table), --format tsv, csv or json; --top N for longer lists.\n");
  free(idx);
  return true;
}

static json_t *json_list(const list *l, bool losses, size_t top, size_t *idx)
{
  json_t *a = json_array();
  size_t shown = impact_top(l->c, l->n, losses, top, idx);
  for (size_t i = 0; a && i < shown; i++) {
    const impact_count *c = &l->c[idx[i]];
    json_array_append_new(a, json_pack("{s:s, s:I, s:I}", "name", entry_name(l, idx[i]), "gains",
                                       (json_int_t)c->gains, "losses", (json_int_t)c->losses));
  }
  return a;
}

bool impact_summary_json(const impact_out *o, const impact_summary *s)
{
  const urbac_model *m = urbac_snapshot_model(s->before);
  size_t *idx = impact_top_buffer(s);
  list lists[4];
  size_t nl = lists_of(s, lists);
  json_t *root = json_pack(
      "{s:s, s:s, s:b, s:{s:I, s:I, s:I, s:I, s:I, s:I}, s:I}", "tenant", urbac_model_tenant(m), "workload",
      urbac_catalog_workload_id(urbac_impact_workload(o->im)), "import", o->import, "summary", "changes",
      (json_int_t)s->rows, "users", (json_int_t)s->users, "gains", (json_int_t)s->gains, "losses",
      (json_int_t)s->losses, "usersGaining", (json_int_t)s->users_gaining, "usersLosing",
      (json_int_t)s->users_losing, "top", (json_int_t)o->top);
  bool ok = idx && root;
  for (int dir = 0; ok && dir < 2; dir++) {
    json_t *d = json_object();
    for (size_t k = 0; d && k < nl; k++)
      json_object_set_new(d, lists[k].key, json_list(&lists[k], dir == 0, o->top, idx));
    ok = d && json_object_set_new(root, dir == 0 ? "losses" : "gains", d) == 0;
  }
  ok = ok && json_dumpf(root, o->f, JSON_INDENT(2)) == 0 && fputc('\n', o->f) != EOF;
  json_decref(root);
  free(idx);
  return ok;
}

/* ---------------------------------------------------------------- progress */

static double now(void)
{
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

/* Rows between two looks at the clock. */
#define PROGRESS_STRIDE ((size_t)1 << 20)

void impact_progress_start(impact_progress *p, const char *what, size_t total)
{
  p->done = 0;
  p->total = total;
  p->what = what;
  p->next = p->on ? PROGRESS_STRIDE : SIZE_MAX;
  p->start = p->last = now();
  if (p->on && !p->tty)
    fprintf(stderr, "urbac impact: %s\n", what);
  else if (p->on)
    fprintf(stderr, "\r\033[Kurbac impact: %s...", what);
}

void impact_progress_draw(impact_progress *p)
{
  char a[32], b[32];
  double t = now();
  p->next = p->done + PROGRESS_STRIDE;
  if (!p->on || t - p->last < (p->tty ? 0.2 : 5.0))
    return;
  p->last = t;
  unsigned pct = p->total ? (unsigned)(100.0 * (double)p->done / (double)p->total) : 0;
  fprintf(stderr, "%surbac impact: %s %u%% (%s of %s changes, %.0f s)%s", p->tty ? "\r\033[K" : "", p->what,
          pct, impact_num(p->done, a), impact_num(p->total, b), t - p->start, p->tty ? "" : "\n");
}

void impact_progress_end(impact_progress *p)
{
  char a[32];
  if (!p->on)
    return;
  if (p->tty)
    fputs("\r\033[K", stderr);
  else if (p->total)
    fprintf(stderr, "urbac impact: %s done: %s changes in %.1f s\n", p->what, impact_num(p->total, a),
            now() - p->start);
  else
    fprintf(stderr, "urbac impact: %s done in %.1f s\n", p->what, now() - p->start);
}

/*
 * cli/impact_html.c - the impact report as one self-contained HTML page that an
 * administrator can attach to a change request, readable when the gains are
 * millions and the losses a handful: the counts, then charts of the losses and of
 * the gains, each on its own scale (a few losses would vanish beside millions of
 * gains on one), the N largest per permission, device group and group (not one
 * bar per group of thousands), every loss as a row, and the first gains. Numbers
 * carry thousands separators. Labels sit in their own column, truncated with the
 * full text as a tooltip, values after the bar: nothing overlaps a bar. No script
 * and no external resource: the page declares a Content-Security-Policy that
 * allows only its own style sheet.
 *
 * Depends on: the public API, cli/impact_summary.c (counts, numbers), cli/cmd_impact.c.
 */
#include <stdlib.h>
#include <string.h>

#include "impact.h"

/* Losses are all listed, up to this many (the tsv has them all beyond); gains, the first few. */
#define MAX_LOSS_ROWS 100000u
#define MAX_GAIN_ROWS 1000u
/* A chart's bars: user units of the track's viewBox, and the least width of a bar that is not zero. */
#define TRACK 1000u
#define MIN_BAR 8u

static void esc(FILE *f, const char *s)
{
  for (; *s; s++) {
    switch (*s) {
    case '&':
      fputs("&amp;", f);
      break;
    case '<':
      fputs("&lt;", f);
      break;
    case '>':
      fputs("&gt;", f);
      break;
    case '"':
      fputs("&quot;", f);
      break;
    default:
      fputc(*s, f);
    }
  }
}

static const char style[] =
    "body{font:14px/1.45 system-ui,sans-serif;margin:2rem auto;max-width:1100px;color:#1b1b1b;padding:0 1rem}"
    "h1{font-size:1.5rem}h2{margin-top:2rem}code{background:#f1f1f1;padding:0 .25em;border-radius:3px}"
    ".cards{display:flex;gap:1rem;margin:1rem 0;flex-wrap:wrap}"
    ".card{border:1px solid #ddd;border-radius:6px;padding:.6rem 1rem}"
    ".card b{display:block;font-size:1.6rem;font-variant-numeric:tabular-nums}"
    ".card.gain{color:#2e7d32}.card.loss{color:#c62828}rect.gain{fill:#2e7d32}rect.loss{fill:#c62828}"
    ".charts{display:grid;grid-template-columns:repeat(auto-fit,minmax(480px,1fr));gap:1rem 2rem}"
    "figure.chart{margin:0;min-width:0}figcaption{font-weight:600;margin-bottom:.3rem}"
    "figcaption span{font-weight:400;color:#666}"
    ".bar-row{display:grid;grid-template-columns:minmax(0,5fr) minmax(0,6fr) 6.5em;gap:.5rem;"
    "align-items:center;height:22px}"
    ".label{overflow:hidden;text-overflow:ellipsis;white-space:nowrap;min-width:0}"
    ".track{display:block;width:100%;height:12px;background:#f3f3f3}"
    ".value{font-variant-numeric:tabular-nums;white-space:nowrap;overflow:hidden;text-overflow:ellipsis}"
    ".more{color:#666;font-style:italic}"
    "table{border-collapse:collapse;width:100%;margin:.5rem 0 1rem}th,td{border-bottom:1px solid #e3e3e3;"
    "padding:.3rem .5rem;text-align:left;vertical-align:top;overflow-wrap:break-word}th{background:#fafafa}"
    "td.num,th.num{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}td.level{white-"
    "space:nowrap}"
    ".rows{overflow-x:auto}tr.loss td.level+td.level{color:#c62828}tr.gain td.level+td.level{color:#2e7d32}"
    "summary{cursor:pointer;margin:.5rem 0}.note{color:#666}";

/* One chart: what it counts, and the names of its entries. */
typedef struct chart_def {
  const char *id, *what, *plural; /* "devicegroup", "device group", "device groups" */
  const impact_count *c;
  size_t n;
  int kind; /* 0 permission, 1 device group, 2 group */
} chart_def;

static const char *chart_name(const impact_summary *s, const chart_def *d, size_t i)
{
  const urbac_model *m = urbac_snapshot_model(s->before);
  if (d->kind == 0)
    return urbac_catalog_perm(i)->name;
  if (d->kind == 1)
    return i == s->ndgs ? "(the whole workload)" : urbac_model_id(m, URBAC_OBJ_DEVICE_GROUP, i);
  return urbac_model_id(m, URBAC_OBJ_GROUP, i);
}

static size_t side(const impact_count *c, bool losses) { return losses ? c->losses : c->gains; }

/* One bar: its label in its own column (truncated, the full text as tooltip), the
 * bar on the chart's own scale, its value after it. */
static void bar_row(FILE *f, const char *title, size_t v, size_t max, bool losses)
{
  const char *label = title, *sep;
  while ((sep = strstr(label, " \\ ")) != NULL) /* a permission: its last part; the tooltip has it all */
    label = sep + 3;
  char n[32];
  size_t w = max ? (size_t)((double)v * TRACK / (double)max) : 0;
  if (v && w < MIN_BAR)
    w = MIN_BAR;
  fputs("<div class=\"bar-row\"><span class=\"label\" title=\"", f);
  esc(f, title);
  fputs("\">", f);
  esc(f, label);
  fprintf(
      f,
      "</span><svg class=\"track\" viewBox=\"0 0 %u 10\" preserveAspectRatio=\"none\" aria-hidden=\"true\">"
      "<rect class=\"bar %s\" width=\"%zu\" height=\"10\"/></svg><span class=\"value\">%s</span></div>\n",
      TRACK, losses ? "loss" : "gain", w, impact_num(v, n));
}

static void chart(FILE *f, const impact_summary *s, const chart_def *d, bool losses, size_t top, size_t *idx)
{
  char a[32], b[32];
  size_t all = impact_top(d->c, d->n, losses, 0, idx), shown = top && all > top ? top : all, rest = 0;
  size_t max = all ? side(&d->c[idx[0]], losses) : 0;
  fprintf(f, "<figure class=\"chart\" id=\"chart-%s-%s\"><figcaption>%s by %s <span>(",
          losses ? "losses" : "gains", d->id, losses ? "Losses" : "Gains", d->what);
  if (all > shown)
    fprintf(f, "the %s largest of %s %s", impact_num(shown, a), impact_num(all, b), d->plural);
  else
    fprintf(f, "%s %s", impact_num(all, a), all == 1 ? d->what : d->plural);
  fputs(all ? ", on their own scale)</span></figcaption>\n"
            : ")</span></figcaption><p class=\"note\">None.</p>\n",
        f);
  for (size_t i = 0; i < shown; i++)
    bar_row(f, chart_name(s, d, idx[i]), side(&d->c[idx[i]], losses), max, losses);
  for (size_t i = shown; i < all; i++)
    rest += side(&d->c[idx[i]], losses);
  if (all > shown)
    fprintf(f,
            "<div class=\"bar-row more\"><span class=\"label\">%s more %s</span><span></span>"
            "<span class=\"value\">%s</span></div>\n",
            impact_num(all - shown, a), d->plural, impact_num(rest, b));
  fputs("</figure>\n", f);
}

static void perm_table(FILE *f, const impact_summary *s)
{
  char a[32], b[32];
  fputs("<table id=\"by-permission\"><thead><tr><th>permission</th><th class=\"num\">losses</th>"
        "<th class=\"num\">gains</th></tr></thead><tbody>\n",
        f);
  for (size_t p = 0; p < urbac_catalog_perm_count() && p < IMPACT_MAX_PERMS; p++) {
    if (!s->perm[p].gains && !s->perm[p].losses)
      continue;
    fputs("<tr><td>", f);
    esc(f, urbac_catalog_perm(p)->name);
    fprintf(f, "</td><td class=\"num\">%s</td><td class=\"num\">%s</td></tr>\n",
            impact_num(s->perm[p].losses, a), impact_num(s->perm[p].gains, b));
  }
  fputs("</tbody></table>\n", f);
}

/* The rows of one direction, up to a limit. */
typedef struct row_walk {
  impact_out *o;
  bool losses;
  size_t limit, written;
} row_walk;

static int row_html(void *ctx, const urbac_impact_row *r)
{
  row_walk *w = ctx;
  impact_text t;
  impact_progress_step(w->o->progress);
  if ((r->after < r->before) != w->losses)
    return 0;
  if (w->written++ >= w->limit)
    return 1; /* enough: the page says how many more */
  impact_row_text(w->o, r, &t);
  const char *cells[] = {t.user,       t.permission, t.scope[0] ? t.scope : t.workload, t.before, t.after,
                         t.why_before, t.why_after};
  fprintf(w->o->f, "<tr class=\"%s\">", w->losses ? "loss" : "gain");
  for (size_t i = 0; i < (w->o->explain ? 7u : 5u); i++) {
    fputs(i == 3 || i == 4 ? "<td class=\"level\">" : "<td>", w->o->f);
    esc(w->o->f, cells[i]);
    fputs("</td>", w->o->f);
  }
  fputs("</tr>\n", w->o->f);
  return 0;
}

static void rows_table(impact_out *o, const char *id, bool losses, size_t limit)
{
  row_walk w = {o, losses, limit, 0};
  fprintf(o->f,
          "<table id=\"%s\"><thead><tr><th>user</th><th>permission</th><th>scope</th><th>before</th>"
          "<th>after</th>%s</tr></thead><tbody>\n",
          id, o->explain ? "<th>why before</th><th>why after</th>" : "");
  urbac_impact_rows(o->im, row_html, &w);
  fputs("</tbody></table></div>\n", o->f);
}

bool impact_html(impact_out *o, const impact_summary *s)
{
  FILE *f = o->f;
  const urbac_model *m = urbac_snapshot_model(urbac_impact_before(o->im));
  const char *wl = urbac_catalog_workload_id(urbac_impact_workload(o->im));
  size_t *idx = impact_top_buffer(s);
  size_t np = urbac_catalog_perm_count() < IMPACT_MAX_PERMS ? urbac_catalog_perm_count() : IMPACT_MAX_PERMS;
  const chart_def charts[] = {
      {"permission", "permission", "permissions", s->perm, np, 0},
      {"devicegroup", "device group", "device groups", s->dg, s->ndgs + 1, 1},
      {"group", "group", "groups", s->group, s->ngroups, 2},
  };
  char n[4][32];
  if (!idx)
    return false;
  fputs("<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
        "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src "
        "'unsafe-inline'\">"
        "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">",
        f);
  fprintf(f, "<title>urbac impact: activating %s on ", wl);
  esc(f, urbac_model_tenant(m));
  fprintf(f,
          "</title><style>%s</style></head><body>\n<h1>Impact of activating <code>%s</code> on tenant <code>",
          style, wl);
  esc(f, urbac_model_tenant(m));
  fprintf(f,
          "</code></h1>\n<p class=\"note\">%s Computed by urbac's engine: every user, permission%s, before "
          "and after.</p>\n",
          o->import ? "After importing the workload's legacy roles."
                    : "With the unified roles as configured.",
          strcmp(wl, "mde") == 0 ? " and device group" : "");
  fprintf(f,
          "<section class=\"cards\"><div class=\"card\" id=\"changes\"><b>%s</b>changes</div>"
          "<div class=\"card\" id=\"users\"><b>%s</b>users affected</div>"
          "<div class=\"card loss\" id=\"losses\"><b>%s</b>losses</div>"
          "<div class=\"card gain\" id=\"gains\"><b>%s</b>gains</div></section>\n",
          impact_num(s->rows, n[0]), impact_num(s->users, n[1]), impact_num(s->losses, n[2]),
          impact_num(s->gains, n[3]));
  for (int dir = 0; dir < 2; dir++) {
    bool losses = dir == 0;
    fprintf(f, "<h2 id=\"%s-charts\">%s: %s</h2>\n<div class=\"charts\">\n", losses ? "losses" : "gains",
            losses ? "Losses" : "Gains", impact_num(losses ? s->losses : s->gains, n[0]));
    for (size_t c = 0; c < sizeof charts / sizeof charts[0]; c++)
      if (charts[c].kind != 1 || s->scoped)
        chart(f, s, &charts[c], losses, o->top, idx);
    fputs("</div>\n", f);
  }
  fputs("<p class=\"note\">A change counts for every group its user is a direct member of.</p>\n"
        "<h2>By permission</h2>\n",
        f);
  perm_table(f, s);
  fprintf(f, "<h2>Every loss (%s)</h2>\n", impact_num(s->losses, n[0]));
  if (s->losses > MAX_LOSS_ROWS)
    fprintf(f, "<p class=\"note\">The first %s losses: the tsv, csv and json formats list all.</p>\n",
            impact_num(MAX_LOSS_ROWS, n[0]));
  rows_table(o, "losses-table", true, MAX_LOSS_ROWS);
  fprintf(f, "<h2>Gains (%s)</h2>\n<details id=\"gains-rows\"><summary>%s %s gain%s</summary>\n",
          impact_num(s->gains, n[0]), s->gains > MAX_GAIN_ROWS ? "The first" : "All",
          impact_num(s->gains > MAX_GAIN_ROWS ? MAX_GAIN_ROWS : s->gains, n[1]), s->gains == 1 ? "" : "s");
  rows_table(o, "gains-table", false, MAX_GAIN_ROWS);
  if (s->gains > MAX_GAIN_ROWS)
    fprintf(f, "<p class=\"note\">and %s more: the tsv, csv and json formats list every change.</p>\n",
            impact_num(s->gains - MAX_GAIN_ROWS, n[0]));
  fputs("</details>\n</body></html>\n", f);
  free(idx);
  return true;
}

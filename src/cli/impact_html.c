/*
 * cli/impact_html.c - the impact report as one self-contained HTML page that an
 * administrator can attach to a change request: the summary, bar charts (inline
 * SVG) of gains and losses per permission and per group, and sortable tables
 * (a few lines of inline script; no network, no external file).
 *
 * Depends on: the public API, cli/cmd_impact.c.
 */
#include <stdlib.h>
#include <string.h>

#include "impact.h"

#define MAX_TABLE_ROWS 10000u

static void esc(FILE *f, const char *s)
{
  for (; *s; s++) {
    switch (*s) {
    case '&': fputs("&amp;", f); break;
    case '<': fputs("&lt;", f); break;
    case '>': fputs("&gt;", f); break;
    case '"': fputs("&quot;", f); break;
    default: fputc(*s, f);
    }
  }
}

static const char style[] =
    "body{font:14px/1.45 system-ui,sans-serif;margin:2rem auto;max-width:1100px;color:#1b1b1b;padding:0 1rem}"
    "h1{font-size:1.5rem}code{background:#f1f1f1;padding:0 .25em;border-radius:3px}"
    ".cards{display:flex;gap:1rem;margin:1rem 0}.card{border:1px solid #ddd;border-radius:6px;padding:.6rem 1rem}"
    ".card b{display:block;font-size:1.6rem}.gain{fill:#2e7d32;color:#2e7d32}.loss{fill:#c62828;color:#c62828}"
    "table{border-collapse:collapse;width:100%;margin:.5rem 0 2rem}th,td{border-bottom:1px solid #e3e3e3;"
    "padding:.3rem .5rem;text-align:left;vertical-align:top}th{cursor:pointer;background:#fafafa;user-select:none}"
    "th[aria-sort=ascending]::after{content:' \\25B2'}th[aria-sort=descending]::after{content:' \\25BC'}"
    "td.num,th.num{text-align:right}svg text{font-size:12px}.note{color:#666}";

/* Sorts a table by the clicked column; numbers as numbers. */
static const char script[] =
    "document.querySelectorAll('table.sortable').forEach(function(t){"
    "t.querySelectorAll('th').forEach(function(th,i){th.addEventListener('click',function(){"
    "var asc=th.getAttribute('aria-sort')!=='ascending';"
    "t.querySelectorAll('th').forEach(function(h){h.removeAttribute('aria-sort')});"
    "th.setAttribute('aria-sort',asc?'ascending':'descending');"
    "var rows=Array.prototype.slice.call(t.tBodies[0].rows);"
    "rows.sort(function(a,b){var x=a.cells[i].textContent,y=b.cells[i].textContent,"
    "n=parseFloat(x),m=parseFloat(y),c=(!isNaN(n)&&!isNaN(m))?n-m:x.localeCompare(y);return asc?c:-c});"
    "rows.forEach(function(r){t.tBodies[0].appendChild(r)})})})});";

typedef struct bar {
  const char *label;
  size_t gains, losses;
} bar;

/* A horizontal bar chart: one line per label, gains and losses side by side. */
static void chart(FILE *f, const char *id, const bar *bars, size_t n)
{
  size_t max = 1;
  for (size_t i = 0; i < n; i++)
    max = bars[i].gains > max ? bars[i].gains : bars[i].losses > max ? bars[i].losses : max;
  fprintf(f, "<svg id=\"%s\" role=\"img\" width=\"1000\" height=\"%zu\" xmlns=\"http://www.w3.org/2000/svg\">", id,
          n * 22 + 10);
  for (size_t i = 0; i < n; i++) {
    size_t y = i * 22 + 4, wg = bars[i].gains * 250 / max, wl = bars[i].losses * 250 / max;
    fprintf(f, "<text x=\"0\" y=\"%zu\">", y + 13);
    esc(f, bars[i].label);
    fprintf(f, "</text><rect class=\"gain\" x=\"440\" y=\"%zu\" width=\"%zu\" height=\"8\"><title>%zu gains</title></rect>"
               "<rect class=\"loss\" x=\"440\" y=\"%zu\" width=\"%zu\" height=\"8\"><title>%zu losses</title></rect>"
               "<text x=\"%zu\" y=\"%zu\">+%zu / -%zu</text>",
            y, wg, bars[i].gains, y + 9, wl, bars[i].losses, 450 + (wg > wl ? wg : wl), y + 13, bars[i].gains, bars[i].losses);
  }
  fputs("</svg>\n", f);
}

static void summary_table(FILE *f, const char *id, const char *what, const bar *bars, size_t n)
{
  fprintf(f, "<table id=\"%s\" class=\"sortable\"><thead><tr><th>%s</th><th class=\"num\">gains</th>"
             "<th class=\"num\">losses</th></tr></thead><tbody>\n", id, what);
  for (size_t i = 0; i < n; i++) {
    fputs("<tr><td>", f);
    esc(f, bars[i].label);
    fprintf(f, "</td><td class=\"num\">%zu</td><td class=\"num\">%zu</td></tr>\n", bars[i].gains, bars[i].losses);
  }
  fputs("</tbody></table>\n", f);
}

static int row_html(void *ctx, const urbac_impact_row *r)
{
  impact_out *o = ctx;
  impact_text t;
  if (o->rows++ >= MAX_TABLE_ROWS)
    return 1;
  impact_row_text(o, r, &t);
  const char *cells[] = {t.user, t.permission, t.scope[0] ? t.scope : t.workload, t.before, t.after, t.why_before, t.why_after};
  fprintf(o->f, "<tr class=\"%s\">", r->after > r->before ? "gain" : "loss");
  for (size_t i = 0; i < (o->explain ? 7u : 5u); i++) {
    fputs("<td>", o->f);
    esc(o->f, cells[i]);
    fputs("</td>", o->f);
  }
  fputs("</tr>\n", o->f);
  return 0;
}

void impact_html(impact_out *o, const impact_summary *s)
{
  FILE *f = o->f;
  const urbac_model *m = urbac_snapshot_model(urbac_impact_before(o->im));
  const char *wl = urbac_catalog_workload_id(urbac_impact_workload(o->im));
  bar perms[IMPACT_MAX_PERMS];
  size_t np = 0;
  for (size_t p = 0; p < urbac_catalog_perm_count() && p < IMPACT_MAX_PERMS; p++)
    if (s->perm_gains[p] || s->perm_losses[p])
      perms[np++] = (bar){urbac_catalog_perm(p)->name, s->perm_gains[p], s->perm_losses[p]};
  bar *groups = calloc(s->ngroups ? s->ngroups : 1, sizeof *groups);
  size_t ng = 0;
  for (size_t i = 0; groups && i < s->ngroups; i++)
    if (s->group_gains[i] || s->group_losses[i])
      groups[ng++] = (bar){urbac_model_id(m, URBAC_OBJ_GROUP, i), s->group_gains[i], s->group_losses[i]};
  fprintf(f, "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>urbac impact: activating %s on ", wl);
  esc(f, urbac_model_tenant(m));
  fprintf(f, "</title><style>%s</style></head><body>\n<h1>Impact of activating <code>%s</code> on tenant <code>", style, wl);
  esc(f, urbac_model_tenant(m));
  fprintf(f, "</code></h1>\n<p class=\"note\">%s Computed by urbac's engine: every user, permission%s, before and after.</p>\n",
          o->import ? "After importing the workload's legacy roles." : "With the unified roles as configured.",
          strcmp(wl, "mde") == 0 ? " and device group" : "");
  fprintf(f, "<section class=\"cards\"><div class=\"card\" id=\"changes\"><b>%zu</b>changes</div>"
             "<div class=\"card\" id=\"users\"><b>%zu</b>users affected</div><div class=\"card gain\" id=\"gains\"><b>%zu</b>gains</div>"
             "<div class=\"card loss\" id=\"losses\"><b>%zu</b>losses</div></section>\n",
          s->rows, s->users, s->gains, s->losses);
  fputs("<h2>Gains and losses per permission</h2>\n", f);
  chart(f, "chart-permissions", perms, np);
  summary_table(f, "by-permission", "permission", perms, np);
  fputs("<h2>Gains and losses per group</h2>\n<p class=\"note\">Each change counts for every group its user is a direct member of.</p>\n", f);
  chart(f, "chart-groups", groups ? groups : perms, groups ? ng : 0);
  summary_table(f, "by-group", "group", groups ? groups : perms, groups ? ng : 0);
  fprintf(f, "<h2>Changes</h2>\n%s<table id=\"changes-table\" class=\"sortable\"><thead><tr><th>user</th><th>permission</th>"
             "<th>scope</th><th>before</th><th>after</th>%s</tr></thead><tbody>\n",
          s->rows > MAX_TABLE_ROWS ? "<p class=\"note\">The first 10000 changes; the tsv, csv and json formats list all.</p>\n" : "",
          o->explain ? "<th>why before</th><th>why after</th>" : "");
  o->rows = 0;
  urbac_impact_rows(o->im, row_html, o);
  fprintf(f, "</tbody></table>\n<script>%s</script>\n</body></html>\n", script);
  free(groups);
}

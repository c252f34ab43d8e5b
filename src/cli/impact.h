/*
 * cli/impact.h - what the impact formats share: the summary (counted in one pass
 * over the rows, cli/impact_summary.c), numbers for people, progress, and the row
 * text.
 */
#ifndef URBAC_CLI_IMPACT_H
#define URBAC_CLI_IMPACT_H

#include "cli.h"

#define IMPACT_MAX_PERMS 64
/* Above this many changes the table format on a terminal prints the summary. */
#define IMPACT_SUMMARY_ROWS 1000
/* The default length of the summary's lists and of the page's charts. */
#define IMPACT_TOP_DEFAULT 10

typedef struct impact_count {
  size_t gains, losses;
} impact_count;

/* Every count the summary and the page show. The arrays are owned by the summary
 * (impact_summary_free); `dg` has one more slot, [ndgs], for the changes that
 * have no device group (mdo, mdi). */
typedef struct impact_summary {
  const urbac_snapshot *before;
  size_t rows, users, gains, losses, users_gaining, users_losing;
  impact_count perm[IMPACT_MAX_PERMS];
  impact_count *dg, *group, *user;
  size_t ndgs, ngroups, nusers;
  bool scoped; /* the workload has device groups (mde): else every change is on the whole workload */
} impact_summary;

/* The progress of a long run on standard error: drawn in place on a terminal,
 * one plain line every few seconds otherwise (--progress), never colour. */
typedef struct impact_progress {
  bool on, tty;
  double start, last;
  size_t done, total, next;
  const char *what;
} impact_progress;

typedef struct impact_out {
  const urbac_impact *im;
  FILE *f;
  bool explain, import;
  size_t rows, top;
  uint32_t last_user; /* the table's user so far, UINT32_MAX before the first */
  impact_progress *progress;
} impact_out;

typedef struct impact_text {
  const char *user, *permission, *workload, *before, *after;
  char scope[1100];
  char why_before[2048], why_after[2048];
} impact_text;

/* Counts every row once (one pass, no text); false when out of memory. */
bool impact_summarize(const urbac_impact *im, impact_summary *s, impact_progress *p);
void impact_summary_free(impact_summary *s);
/* The indices of the `n` counts (each `stride` bytes apart) with the most gains
 * (or losses), largest first, ties in index order, zero counts left out: at most
 * `top` of them (0: all) into the caller's `out` (room for n); returns how many. */
size_t impact_top(const impact_count *c, size_t n, bool losses, size_t top, size_t *out);
/* Room for impact_top() over the summary's longest list; the caller frees it. NULL when out of memory. */
size_t *impact_top_buffer(const impact_summary *s);
/* `n` with thousands separators ("68,073,877") in `buf` (at least 32 bytes). */
const char *impact_num(size_t n, char *buf);
/* The summary for people (text) or tools (json), lists cut to o->top. */
bool impact_summary_text(const impact_out *o, const impact_summary *s, bool colour);
bool impact_summary_json(const impact_out *o, const impact_summary *s);

/* Starts a phase of `total` steps (0: unknown); nothing when !p->on. */
void impact_progress_start(impact_progress *p, const char *what, size_t total);
void impact_progress_draw(impact_progress *p);
/* Counts one step; draws now and then. Cheap: one compare most of the time. */
static inline void impact_progress_step(impact_progress *p)
{
  if (++p->done >= p->next)
    impact_progress_draw(p);
}
void impact_progress_end(impact_progress *p);

void impact_row_text(const impact_out *out, const urbac_impact_row *r, impact_text *t);
/* One self-contained HTML page (no script, no external resource): the summary,
 * charts of losses and of gains on their own scales, every loss, the first gains. */
bool impact_html(impact_out *o, const impact_summary *s);

#endif

/*
 * cli/impact.h - what the impact formats share: the summary and row text.
 */
#ifndef URBAC_CLI_IMPACT_H
#define URBAC_CLI_IMPACT_H

#include "cli.h"

#define IMPACT_MAX_PERMS 64


typedef struct impact_summary {
  const urbac_snapshot *before;
  size_t rows, users, gains, losses;
  size_t perm_gains[IMPACT_MAX_PERMS], perm_losses[IMPACT_MAX_PERMS];
  size_t *group_gains, *group_losses; /* per group index; NULL unless asked for */
  size_t ngroups;
  uint32_t last_user;
  size_t nuser_groups;
} impact_summary;

typedef struct impact_out {
  const urbac_impact *im;
  FILE *f;
  bool explain, import;
  size_t rows;
  uint32_t last_user; /* the table's user so far, UINT32_MAX before the first */
} impact_out;

typedef struct impact_text {
  const char *user, *permission, *workload, *before, *after;
  char scope[1100];
  char why_before[2048], why_after[2048];
} impact_text;

void impact_row_text(const impact_out *out, const urbac_impact_row *r, impact_text *t);
/* One self-contained HTML page: summary, charts, sortable tables. */
void impact_html(impact_out *o, const impact_summary *s);

#endif

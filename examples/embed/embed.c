/*
 * examples/embed/embed.c - urbac embedded in a program of your own: load a tenant
 * file, compile it, ask one question, print the decision. It uses only the
 * installed library (pkg-config urbac, or find_package(urbac) in CMake); see
 * README.md beside it.
 *
 *   embed TENANT_FILE USER PERMISSION WORKLOAD [SCOPE]
 *   embed examples/contoso.yaml alice@contoso.com 'Alerts (manage)' mde device:lap-042
 *
 * Prints "allow" (exit 0) or "deny" (exit 1); any error goes to stderr (exit 2).
 *
 * Who owns what: the model belongs to this program (urbac_model_free); the
 * snapshot borrows the model, so it is freed first (urbac_snapshot_free); the
 * parser borrows the snapshot (urbac_parser_free, first of all); the diagnostics
 * list is ours (urbac_diag_free) and owns its messages; a question only points at
 * argv's strings, which the library does not keep; a query is a plain value.
 *
 * Errors: every fallible call takes the diag as its last argument (NULL when the
 * code alone will do) and, on failure, leaves there what went wrong and where.
 *
 * Depends on: liburbac (urbac/urbac.h).
 */
#include <stdio.h>

#include <urbac/urbac.h>

/* Prints every error `d` holds, with its file:line:column. */
static void print_diag(const urbac_diag *d)
{
  char line[1024];
  for (size_t i = 0; i < urbac_diag_count(d); i++) {
    urbac_diag_format(d, i, line, sizeof line);
    fprintf(stderr, "embed: %s\n", line);
  }
}

int main(int argc, char **argv)
{
  int rc = 2;
  urbac_diag *d = NULL;
  urbac_model *m = NULL;
  urbac_snapshot *s = NULL;
  urbac_parser *p = NULL;
  urbac_query q;
  urbac_question question;
  const char *scope;
  bool allowed;
  urbac_err err;

  if (argc < 5 || argc > 6) {
    fprintf(stderr, "usage: embed TENANT_FILE USER PERMISSION WORKLOAD [SCOPE]  (urbac %s)\n",
            URBAC_VERSION_STRING);
    goto out;
  }
  scope = argc == 6 ? argv[5] : "";
  if (!(d = urbac_diag_new())) {
    fprintf(stderr, "embed: out of memory\n");
    goto out;
  }
  /* The model is ours; on failure every problem is in d, located. */
  if ((err = urbac_tenant_load_file(argv[1], &m, d))) {
    print_diag(d);
    fprintf(stderr, "embed: %s: %s\n", argv[1], urbac_strerror(err));
    goto out;
  }
  /* The snapshot borrows m: m must outlive it. */
  if ((err = urbac_snapshot_compile(m, &s, d))) {
    print_diag(d);
    fprintf(stderr, "embed: %s: %s\n", argv[1], urbac_strerror(err));
    goto out;
  }
  /* The parser borrows s; one per thread. */
  if (!(p = urbac_parser_new(s))) {
    fprintf(stderr, "embed: out of memory\n");
    goto out;
  }
  question = (urbac_question){urbac_str_of(argv[2]), urbac_str_of(argv[3]), urbac_str_of(argv[4]),
                              urbac_str_of(scope)};
  if ((err = urbac_parse_query(p, &question, &q, d))) {
    fprintf(stderr, "embed: the question: %s: %s (%s)\n", urbac_diag_get(d, 0)->path,
            urbac_diag_get(d, 0)->message, urbac_err_name(err));
    goto out;
  }
  /* A check allocates nothing and cannot fail: allow or deny. */
  allowed = urbac_check(s, &q);
  printf("%s\n", allowed ? "allow" : "deny");
  rc = allowed ? 0 : 1;
out:
  urbac_parser_free(p);
  urbac_snapshot_free(s);
  urbac_model_free(m);
  urbac_diag_free(d);
  return rc;
}

/*
 * bench/bench.c - urbac's own numbers on the generated workload (bench/gen.c):
 * load and compile time, snapshot bytes per user, and in-process checks per
 * second on one thread and on every core. The end-to-end CLI figure is taken by
 * bench/run.sh around `urbac check --queries`.
 *
 * Usage: bench TENANT QUERIES
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include "bench/common.h"
#include "urbac/store.h"
#include "urbac/urbac.h"

static double median(double *v, int n)
{
  qsort(v, (size_t)n, sizeof *v, cmp_double);
  return v[n / 2];
}

typedef struct job {
  const urbac_snapshot *s;
  const urbac_query *q;
  size_t n, reps, allowed;
} job;

static void *run_checks(void *arg)
{
  job *j = arg;
  size_t allowed = 0;
  for (size_t r = 0; r < j->reps; r++)
    for (size_t i = 0; i < j->n; i++)
      allowed += urbac_check(j->s, &j->q[i]);
  j->allowed = allowed;
  return NULL;
}

/* Checks per second with `threads` threads, each answering every query `reps` times. */
static double throughput(const urbac_snapshot *s, const urbac_query *q, size_t n, int threads, size_t reps)
{
  pthread_t tid[64];
  job jobs[64];
  double t0 = now();
  for (int t = 0; t < threads; t++) {
    jobs[t] = (job){s, q, n, reps, 0};
    pthread_create(&tid[t], NULL, run_checks, &jobs[t]);
  }
  for (int t = 0; t < threads; t++)
    pthread_join(tid[t], NULL);
  return (double)n * (double)reps * threads / (now() - t0);
}

static int count_rows(void *ctx, const urbac_impact_row *r)
{
  (void)r;
  ++*(size_t *)ctx;
  return 0;
}

static urbac_query *read_queries(const urbac_snapshot *s, const char *path, size_t *count)
{
  FILE *f = fopen(path, "rb");
  size_t cap = 1 << 20, n = 0;
  urbac_query *q = malloc(cap * sizeof *q);
  urbac_parser *p = urbac_parser_new(s);
  urbac_diag *d = urbac_diag_new();
  char *line = NULL, why[512];
  size_t lcap = 0;
  ssize_t len;
  if (!f || !q || !p) {
    perror(path);
    exit(1);
  }
  while ((len = getline(&line, &lcap, f)) > 0) {
    if (line[len - 1] == '\n')
      len--;
    if (n == cap && !(q = realloc(q, (cap *= 2) * sizeof *q)))
      exit(1);
    urbac_diag_clear(d);
    if (urbac_parse_query_line(p, line, (size_t)len, &q[n], d)) {
      urbac_diag_format(d, 0, why, sizeof why);
      fprintf(stderr, "bench: %s:%zu: %s\n", path, n + 1, why);
      exit(1);
    }
    n++;
  }
  free(line);
  fclose(f);
  urbac_parser_free(p);
  urbac_diag_free(d);
  *count = n;
  return q;
}

int main(int argc, char **argv)
{
  urbac_model *m;
  urbac_snapshot *s = NULL;
  urbac_diag *d = urbac_diag_new();
  double t[7];
  if (argc != 3) {
    fprintf(stderr, "usage: bench TENANT QUERIES\n");
    return 2;
  }
  double t0 = now();
  if (urbac_tenant_load_file(argv[1], &m, d)) {
    char buf[1024];
    urbac_diag_format(d, 0, buf, sizeof buf);
    fprintf(stderr, "bench: %s\n", buf);
    return 1;
  }
  double load = now() - t0;
  for (int i = 0; i < 5; i++) {
    urbac_snapshot_free(s);
    t0 = now();
    urbac_snapshot_compile(m, &s, d);
    t[i] = now() - t0;
  }
  double compile = median(t, 5);
  double engine_mib = rss_mib(); /* the model and the snapshot, before any query is read */
  size_t users = urbac_model_count(m, URBAC_OBJ_USER), nq;
  size_t mem = urbac_snapshot_memory(s);
  urbac_query *q = read_queries(s, argv[2], &nq);
  job one = {s, q, nq, 1, 0};
  run_checks(&one);
  for (int i = 0; i < 5; i++)
    t[i] = throughput(s, q, nq, 1, 5);
  double single = median(t, 5);
  int cores = (int)sysconf(_SC_NPROCESSORS_ONLN);
  cores = cores < 1 ? 1 : cores > 64 ? 64 : cores;
  for (int i = 0; i < 5; i++)
    t[i] = throughput(s, q, nq, cores, 5);
  double multi = median(t, 5);
  printf("tenant_load_s\t%.3f\n", load);
  printf("compile_s\t%.3f\n", compile);
  printf("engine_mib\t%.1f\n", engine_mib);
  printf("users\t%zu\n", users);
  printf("profiles\t%zu\n", urbac_snapshot_profiles(s));
  printf("snapshot_bytes\t%zu\n", mem);
  printf("snapshot_bytes_per_user\t%.1f\n", (double)mem / (double)(users ? users : 1));
  printf("queries\t%zu\n", nq);
  printf("allowed_fraction\t%.3f\n", (double)one.allowed / (double)(nq ? nq : 1));
  printf("checks_per_s_1_thread\t%.0f\n", single);
  printf("threads\t%d\n", cores);
  printf("checks_per_s_all_threads\t%.0f\n", multi);
  printf("checks_per_s_per_core\t%.0f\n", multi / cores);
  /* the store: apply the whole tenant into a new SQLite file (and PostgreSQL when
   * URBAC_BENCH_PG_URL names an empty database), then build the snapshot from it */
  for (int pgs = 0; pgs < 2; pgs++) {
    const char *pg = getenv("URBAC_BENCH_PG_URL");
    if (pgs && !pg)
      break;
    char path[] = "/tmp/urbac-bench-XXXXXX";
    int fd = mkstemp(path);
    urbac_store *st = NULL;
    urbac_model *back = NULL;
    urbac_snapshot *snap = NULL;
    int from, to;
    uint64_t rev;
    urbac_write w = {"bench", "bench", false, 0, NULL, NULL};
    close(fd);
    unlink(path);
    const char *which = pgs ? "postgres" : "sqlite";
    if (urbac_store_open(pgs ? pg : path, URBAC_STORE_CREATE, &st, d) ||
        urbac_store_migrate(st, &from, &to, d))
      return 1;
    t0 = now();
    if (urbac_store_apply(st, m, &w, &rev, d))
      return 1;
    printf("store_apply_%s_s\t%.3f\n", which, now() - t0);
    t0 = now();
    if (urbac_store_load(st, urbac_model_tenant(m), &back, &rev, d) || urbac_snapshot_compile(back, &snap, d))
      return 1;
    printf("store_snapshot_%s_s\t%.3f\n", which, now() - t0);
    urbac_snapshot_free(snap);
    urbac_model_free(back);
    urbac_store_close(st);
    char side[64];
    unlink(path);
    snprintf(side, sizeof side, "%s-wal", path);
    unlink(side);
    snprintf(side, sizeof side, "%s-shm", path);
    unlink(side);
  }
  /* impact of each workload from all-legacy, with import: compute and walk every row
   * (a workload without a legacy model has no activation to measure) */
  for (size_t w = 0; w < urbac_catalog_workload_count(); w++) {
    urbac_model *legacy;
    urbac_impact *im;
    size_t rows = 0;
    if (!urbac_catalog_workload_has_legacy(w))
      continue;
    if (urbac_model_clone(m, &legacy, NULL))
      return 1;
    for (size_t k = 0; k < urbac_catalog_workload_count(); k++) {
      urbac_model *next;
      if (!urbac_catalog_workload_has_legacy(k))
        continue;
      if (urbac_deactivate(legacy, k, &next, NULL))
        return 1;
      urbac_model_free(legacy);
      legacy = next;
    }
    t0 = now();
    if (urbac_impact_compute(legacy, w, true, &im, NULL))
      return 1;
    urbac_impact_rows(im, count_rows, &rows);
    printf("impact_%s_s\t%.3f\n", urbac_catalog_workload_id(w), now() - t0);
    printf("impact_%s_rows\t%zu\n", urbac_catalog_workload_id(w), rows);
    urbac_impact_free(im);
    urbac_model_free(legacy);
  }
  struct rusage ru;
  getrusage(RUSAGE_SELF, &ru);
  printf("peak_rss_mib\t%.1f\n", (double)ru.ru_maxrss / 1024.0);
  free(q);
  urbac_snapshot_free(s);
  urbac_model_free(m);
  urbac_diag_free(d);
  return 0;
}

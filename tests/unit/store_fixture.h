/*
 * tests/unit/store_fixture.h - where the store suites keep their store: a SQLite
 * file of their own, or the PostgreSQL server tests/pg.sh started
 * (URBAC_TEST_PG_URL), and SQL run on it behind urbac's back (to tamper, or to
 * take a store back to an older schema).
 */
#ifndef URBAC_TEST_STORE_FIXTURE_H
#define URBAC_TEST_STORE_FIXTURE_H

#include <libpq-fe.h>
#include <sqlite3.h>
#include <unistd.h>

#include "helpers.h"

static char dbpath[256];
static const char *pg_url; /* set: the suite runs against PostgreSQL (tests/pg.sh) */

static const char *target(void) { return pg_url ? pg_url : dbpath; }

/* Names this process's SQLite file after `suite`, and sees whether PostgreSQL is the target. */
static void fixture_setup(const char *suite)
{
  snprintf(dbpath, sizeof dbpath, "/tmp/urbac-test-%s-%d.db", suite, (int)getpid());
  pg_url = getenv("URBAC_TEST_PG_URL");
}

static void pg_exec(const char *stmt)
{
  PGconn *c = PQconnectdb(pg_url);
  assert_int_equal(PQstatus(c), CONNECTION_OK);
  PQclear(PQexec(c, "SET client_min_messages = warning"));
  PGresult *r = PQexec(c, stmt);
  if (PQresultStatus(r) != PGRES_COMMAND_OK && PQresultStatus(r) != PGRES_TUPLES_OK)
    print_error("%s: %s\n", stmt, PQerrorMessage(c));
  assert_true(PQresultStatus(r) == PGRES_COMMAND_OK || PQresultStatus(r) == PGRES_TUPLES_OK);
  PQclear(r);
  PQfinish(c);
}

/* Runs `stmt` on the target store. */
static void sql(const char *stmt)
{
  sqlite3 *h;
  char *msg = NULL;
  if (pg_url) {
    pg_exec(stmt);
    return;
  }
  assert_int_equal(sqlite3_open(dbpath, &h), SQLITE_OK);
  if (sqlite3_exec(h, stmt, NULL, NULL, &msg) != SQLITE_OK)
    print_error("%s: %s\n", stmt, msg);
  assert_null(msg);
  sqlite3_close(h);
}

/* The SQLite file and its -wal and -shm. */
static void remove_file(void)
{
  char p[300];
  unlink(dbpath);
  snprintf(p, sizeof p, "%s-wal", dbpath);
  unlink(p);
  snprintf(p, sizeof p, "%s-shm", dbpath);
  unlink(p);
}

#endif

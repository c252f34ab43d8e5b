/*
 * cli/source.c - the one place the CLI decides where a tenant lives and goes
 * back to: a tenant file (--tenant or $URBAC_TENANT) or a store (--db, $URBAC_DB
 * or urbac.db, and --tenant-id or the store's only tenant). A source is opened,
 * loaded (remembering the store's revision), compiled when a command asks
 * questions, and saved back: to a file atomically, or to the store as one
 * audited write based on the revision it was read at, so a concurrent change is
 * a conflict rather than a lost update. A store is given the audit key and
 * witness of --audit-key, --witness and --witness-syslog when they are given
 * (writes MAC and witness their records; `audit verify` checks). Every command
 * that reads or writes a tenant goes through it; nothing here is global.
 *
 * Depends on: the public API, cli/main.c (printing errors).
 */
#include <stdlib.h>
#include <string.h>

#include "cli.h"

const char *cli_db_url(const cli_source_opts *o)
{
  return o->db ? o->db : getenv("URBAC_DB") ? getenv("URBAC_DB") : "urbac.db";
}

const char *cli_actor(const char *actor) { return actor ? actor : getenv("USER") ? getenv("USER") : "cli"; }

const char *cli_source_redacted(const cli_source_opts *o, char *buf, size_t size)
{
  urbac_store_url_redacted(cli_db_url(o), buf, size);
  return buf;
}

bool cli_source_open(cli_source *src, const cli_source_opts *o, cli_source_kind kind, urbac_store_mode mode)
{
  urbac_diag *d = NULL;
  bool ok = false;
  memset(src, 0, sizeof *src);
  src->opts = *o;
  if (kind == CLI_SOURCE_FILE_OR_STORE && !o->db) {
    src->path = o->tenant ? o->tenant : getenv("URBAC_TENANT");
    if (!src->path)
      cli_error("missing --tenant FILE (or $URBAC_TENANT)");
    return src->path != NULL;
  }
  urbac_audit_opts audit = {o->audit_key, o->witness, o->witness_syslog};
  if (!(d = urbac_diag_new()))
    cli_error("out of memory");
  else if (urbac_store_open(cli_db_url(o), mode, &src->store, d) != URBAC_OK ||
           ((o->audit_key || o->witness || o->witness_syslog) &&
            urbac_store_set_audit(src->store, &audit, d) != URBAC_OK))
    cli_print_diag(d);
  else
    ok = true;
  urbac_diag_free(d);
  return ok;
}

const char *cli_source_tenant(cli_source *src)
{
  const char *const *ids;
  size_t n = 0;
  char shown[1024];
  if (src->tenant || !src->store)
    return src->tenant;
  if (src->opts.tenant_id)
    return src->tenant = src->opts.tenant_id;
  urbac_diag *d = urbac_diag_new();
  urbac_err err = urbac_store_tenants(src->store, &ids, &n, d);
  if (err)
    cli_print_diag(d);
  urbac_diag_free(d);
  if (err)
    cli_error("%s: cannot list the tenants (run 'urbac init', or 'urbac migrate' after an upgrade?)",
              cli_source_redacted(&src->opts, shown, sizeof shown));
  else if (n == 1)
    src->tenant = ids[0];
  else
    cli_error("%s holds %zu tenants: name one with --tenant-id",
              cli_source_redacted(&src->opts, shown, sizeof shown), n);
  return src->tenant;
}

bool cli_source_load(cli_source *src)
{
  urbac_diag *d = urbac_diag_new();
  urbac_err err = URBAC_ENOMEM;
  if (!d) {
    cli_error("out of memory");
    return false;
  }
  if (src->path)
    err = urbac_tenant_load_file(src->path, &src->model, d);
  else if (cli_source_tenant(src))
    err = urbac_store_load(src->store, src->tenant, &src->model, &src->revision, d);
  else
    err = URBAC_ENOTFOUND; /* already said */
  if (err) {
    cli_print_diag(d);
    urbac_model_free(src->model);
    src->model = NULL;
  } else if (src->store) {
    src->tenant = urbac_model_tenant(src->model); /* the model's, which outlives the store's list */
  }
  urbac_diag_free(d);
  return err == URBAC_OK;
}

bool cli_source_revision(cli_source *src)
{
  urbac_diag *d = urbac_diag_new();
  urbac_err err = URBAC_ENOMEM;
  if (!d)
    cli_error("out of memory");
  else if (!cli_source_tenant(src))
    err = URBAC_ENOTFOUND; /* already said */
  else if ((err = urbac_store_revision(src->store, src->tenant, &src->revision, d)) != URBAC_OK)
    cli_print_diag(d);
  urbac_diag_free(d);
  return err == URBAC_OK;
}

void cli_source_replace(cli_source *src, urbac_model *m)
{
  urbac_snapshot_free(src->snapshot); /* it borrows the old model: it goes first */
  src->snapshot = NULL;
  if (src->store && (!src->model || src->tenant == urbac_model_tenant(src->model))) /* none: a new tenant */
    src->tenant = urbac_model_tenant(m);
  urbac_model_free(src->model);
  src->model = m;
}

bool cli_source_compile(cli_source *src)
{
  urbac_diag *d = urbac_diag_new();
  urbac_err err = d ? urbac_snapshot_compile(src->model, &src->snapshot, d) : URBAC_ENOMEM;
  if (err) {
    cli_print_diag(d);
    if (!urbac_diag_count(d))
      cli_error("%s: %s", src->path ? src->path : "the stored tenant", urbac_strerror(err));
  }
  urbac_diag_free(d);
  return err == URBAC_OK;
}

bool cli_source_read(cli_source *src, const cli_source_opts *o, cli_source_kind kind, urbac_store_mode mode,
                     bool compile)
{
  return cli_source_open(src, o, kind, mode) && cli_source_load(src) && (!compile || cli_source_compile(src));
}

bool cli_source_save(cli_source *src, const char *output, const char *actor, const char *command)
{
  urbac_diag *d = urbac_diag_new();
  urbac_err err = URBAC_ENOMEM;
  const char *path = output ? output : src->path;
  src->written[0] = '\0';
  if (d && src->store && !output) {
    uint64_t rev = 0;
    urbac_write w = {cli_actor(actor), command, true, src->revision, NULL, NULL};
    if ((err = urbac_store_apply(src->store, src->model, &w, &rev, d)) == URBAC_OK) {
      src->revision = rev;
      snprintf(src->written, sizeof src->written, "the store, revision %llu", (unsigned long long)rev);
    }
  } else if (d) {
    /* shaped like the file read: its comments and key order kept */
    if ((err = urbac_tenant_save_file_like(src->model, path, URBAC_FORMAT_AUTO, src->path, d)) == URBAC_OK)
      snprintf(src->written, sizeof src->written, "%s", path);
  }
  if (err) {
    cli_print_diag(d);
    if (!urbac_diag_count(d))
      cli_error("%s: %s", path ? path : "the store", urbac_strerror(err));
  }
  urbac_diag_free(d);
  return err == URBAC_OK;
}

void cli_source_close(cli_source *src)
{
  urbac_snapshot_free(src->snapshot);
  urbac_model_free(src->model);
  urbac_store_close(src->store);
  memset(src, 0, sizeof *src);
}

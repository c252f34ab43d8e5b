/*
 * server/directory.c - the names of the store's tenants, held in memory, so a
 * request for a tenant that does not exist (a made-up tenant in the path or a
 * made-up API key for one) is answered without asking the store. Before this,
 * each such request looked the tenant up in the store under the server's one
 * tenants lock: anyone could slow authentication for everyone (16k requests/s
 * against 83k/s for a garbage token).
 *
 * A thread of its own lists the tenants every half second (the watchers'
 * pace), so a tenant created by another process is served within a second;
 * when the store cannot be read the list it had stays. The list is swapped by
 * read-copy-update, like the snapshots: looking a name up never waits.
 *
 * Depends on: the public API, liburcu-bp.
 */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <urcu/urcu-bp.h>

#include "server/server.h"

#ifdef URBAC_FUZZING /* fuzz/fuzz_request.c stops the server every few thousand inputs */
#define REFRESH_US 10000
#else
#define REFRESH_US 500000
#endif
#define MAX_NAMES 100000 /* names held; a store with more is followed on its first 100,000 */

typedef struct names {
  size_t n;
  char **id; /* sorted, as the store lists them */
} names;

typedef struct directory {
  names *current; /* RCU-protected */
  pthread_t thread;
  bool running;
} directory;

static void names_free(names *l)
{
  if (!l)
    return;
  for (size_t i = 0; i < l->n; i++)
    free(l->id[i]);
  free(l->id);
  free(l);
}

/* The store's tenants now; NULL when the store cannot say or memory is short. */
static names *names_read(urbac_store *st)
{
  const char *const *ids;
  size_t n;
  names *l = NULL;
  if (urbac_store_tenants(st, &ids, &n, NULL) != URBAC_OK)
    goto out;
  n = n < MAX_NAMES ? n : MAX_NAMES;
  if (!(l = calloc(1, sizeof *l)) || (n && !(l->id = calloc(n, sizeof *l->id))))
    goto fail;
  for (; l->n < n; l->n++)
    if (!(l->id[l->n] = strdup(ids[l->n])))
      goto fail;
  goto out;
fail:
  names_free(l);
  l = NULL;
out:
  return l;
}

static void names_publish(directory *dir, names *l)
{
  names *old = rcu_xchg_pointer(&dir->current, l);
  urcu_bp_synchronize_rcu();
  names_free(old);
}

static void *refresh(void *arg)
{
  srv *server = arg;
  directory *dir = server->directory;
  urbac_store *st = NULL;
  while (!atomic_load(&server->stopping)) {
    usleep(REFRESH_US);
    if (!st && urbac_store_open(server->cfg->db_url, URBAC_STORE_READ, &st, NULL) != URBAC_OK)
      continue; /* the store is away: the names we have stay */
    names *l = names_read(st);
    if (l) {
      names_publish(dir, l);
    } else { /* perhaps the connection is gone: a new one next round */
      urbac_store_close(st);
      st = NULL;
    }
  }
  urbac_store_close(st);
  return NULL;
}

static int by_name(const void *key, const void *elem) { return strcmp(key, *(char *const *)elem); }

bool srv_directory_has(srv *server, const char *tenant)
{
  directory *dir = server->directory;
  if (!dir)
    return true; /* no directory (a fuzzer's server): ask the store */
  srv_read_lock();
  const names *l = rcu_dereference(dir->current);
  bool found = l && l->n && bsearch(tenant, l->id, l->n, sizeof *l->id, by_name);
  srv_read_unlock();
  return found;
}

urbac_err srv_directory_start(srv *server, urbac_diag *d)
{
  directory *dir = calloc(1, sizeof *dir);
  urbac_err err = dir ? URBAC_OK : URBAC_ENOMEM;
  if (!err && !(dir->current = names_read(server->lookup_store)))
    err = urbac_diag_add(d, URBAC_ESTORE, server->cfg->db_url, 0, 0, NULL, "cannot list the store's tenants");
  if (!err) {
    server->directory = dir;
    dir->running = pthread_create(&dir->thread, NULL, refresh, server) == 0;
    if (!dir->running)
      err = urbac_diag_add(d, URBAC_ENOMEM, NULL, 0, 0, NULL, "cannot start the tenant directory's thread");
  }
  if (err && dir && !server->directory) {
    names_free(dir->current);
    free(dir);
  }
  return err;
}

void srv_directory_stop(srv *server)
{
  directory *dir = server->directory;
  if (!dir)
    return;
  atomic_store(&server->stopping, true);
  if (dir->running)
    pthread_join(dir->thread, NULL);
  names_free(dir->current);
  free(dir);
  server->directory = NULL;
}

json_t *srv_directory_list(srv *server, size_t max)
{
  directory *dir = server->directory;
  json_t *out = json_array();
  srv_read_lock();
  const names *l = dir ? rcu_dereference(dir->current) : NULL;
  for (size_t i = 0; out && l && i < l->n && i < max; i++)
    json_array_append_new(out, json_string(l->id[i]));
  srv_read_unlock();
  return out;
}

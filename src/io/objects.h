/*
 * io/objects.h - a tenant as a set of objects, each with a kind, an id and a
 * canonical JSON body: what a store keeps per row, what plan compares and what
 * the audit log records before and after.
 */
#ifndef URBAC_IO_OBJECTS_H
#define URBAC_IO_OBJECTS_H

#include "model/model.h"

typedef struct urbac__object {
  const char
      *kind; /* static: "catalog" (only when not the default), "workloads", "user", "group", "deviceGroup",
                "device", "role", "legacy.mde.role", "legacy.mdo.roleGroup", "legacy.mdi.role" */
  char *id;
  char *body;       /* compact JSON, as the tenant file's JSON form writes the object */
  int64_t position; /* its place in the file: display order only, never compared */
} urbac__object;

/* The objects of `m` in file order. The caller frees them with urbac__objects_free(). */
urbac_err urbac__model_objects(const urbac_model *m, urbac__object **out, size_t *n);
void urbac__objects_free(urbac__object *o, size_t n);
/* The static spelling of a stored object kind, or NULL when `kind` is none of
 * them. "apiKey" rows hold a tenant's API keys: stored beside its objects, never
 * part of the tenant itself. */
const char *urbac__object_kind(const char *kind);
#define URBAC__KIND_API_KEY "apiKey"
/* A model from objects (as read from a store), validated as a tenant file is;
 * `name` names the source in errors. */
urbac_err urbac__model_from_objects(const char *tenant, const urbac__object *o, size_t n, const char *name,
                                    urbac_model **out, urbac_diag *d);
/* The same, with some bodies already trees (io/tree.h), as parsing their JSON
 * would give them: trees[i], when not NULL, is o[i]'s body (o[i].body unused),
 * taken and set to NULL, also on failure; `bytes` is those bodies' length as
 * compact JSON, held with the rest to a file's size. */
struct urbac__node;
urbac_err urbac__model_from_trees(const char *tenant, const urbac__object *o, struct urbac__node **trees,
                                  size_t bytes, size_t n, const char *name, urbac_model **out, urbac_diag *d);

/* One object (`kind`, `id`, a tenant file's JSON for it) loaded alone: its shape
 * checked as the loader checks a file's, its references left unresolved (what
 * they name is the store's to check). *out is a model holding just it (the caller
 * frees it with urbac_model_free()) and *body its canonical JSON (the caller
 * frees it with urbac__free()). A body that is not one JSON value, or whose own
 * id is not `id`, is refused. */
urbac_err urbac__object_parse(const char *tenant, const char *kind, const char *id, const char *json,
                              const char *name, urbac_model **out, char **body, urbac_diag *d);

/* Keeps in `p` (NULL: nothing) object (tenant, kind, id) parsed alone as
 * `*alone` from its canonical `body` (urbac__object_parse()'s): *alone is taken
 * (NULL afterwards) when kept, else left to the caller; `body` is copied. A
 * later keep of the same object replaces it (io/edit.c). */
urbac_err urbac__parsed_keep(urbac_parsed *p, const char *tenant, const char *kind, const char *id,
                             const char *body, urbac_model **alone);

#endif

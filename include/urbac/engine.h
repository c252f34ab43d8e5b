/*
 * urbac/engine.h - decisions: compile a model into an immutable snapshot, then
 * check, batch check, explain, list a user's effective permissions, and find who
 * can do something. The rules are ../shared/spec/semantics.md.
 *
 * A snapshot is read-only once compiled: any number of threads may check against
 * it at once. It borrows the model it was compiled from, which must outlive it.
 */
#ifndef URBAC_ENGINE_H
#define URBAC_ENGINE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "urbac/catalog.h"
#include "urbac/error.h"
#include "urbac/export.h"
#include "urbac/model.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct urbac_snapshot urbac_snapshot;

/* Compiles `m`. On success the caller frees *out with urbac_snapshot_free(); `m` is
 * borrowed and must outlive *out. */
URBAC_EXTERN urbac_err urbac_snapshot_compile(const urbac_model *m, urbac_snapshot **out, urbac_diag *d);
/* Frees `s`; accepts NULL. The model is not freed. */
URBAC_EXTERN void urbac_snapshot_free(urbac_snapshot *s);
/* The snapshot of `m`, an edit of `base`'s model (urbac_model_edit()), made by
 * recompiling only what the edit reaches: the users whose decisions it may change
 * (through their own object, their groups at any depth, the roles, legacy roles
 * and legacy rows naming them or their groups) and changed devices; everything
 * else is shared with `base`, which stays valid and unchanged (other threads may
 * check against it meanwhile); either may be freed first. A change of device
 * groups or workload modes, an edit reaching most users, or a model that is not
 * an edit of base's model compiles `m` whole instead (same result). On success
 * the caller frees *out with urbac_snapshot_free(); `m` is borrowed and must
 * outlive *out; `base` is not retained. */
URBAC_EXTERN urbac_err urbac_snapshot_update(const urbac_snapshot *base, const urbac_model *m,
                                             urbac_snapshot **out, urbac_diag *d);
/* The users (indices, ascending) whose decisions may differ between `s` and the
 * snapshot it was updated from (a user the edit reached whose decisions came out
 * the same is left out, when the update was not a whole compile); owned by `s`. False (and none) when `s` was
 * compiled whole: then every user may differ. */
URBAC_EXTERN bool urbac_snapshot_changed_users(const urbac_snapshot *s, const uint32_t **users, size_t *n);
/* Bytes a check reads: the snapshot, plus the model's id maps (and their keys)
 * that it borrows for resolving users, devices and device groups. */
URBAC_EXTERN size_t urbac_snapshot_memory(const urbac_snapshot *s);
/* How many distinct decision profiles users share. */
URBAC_EXTERN size_t urbac_snapshot_profiles(const urbac_snapshot *s);
/* The model `s` borrows. */
URBAC_EXTERN const urbac_model *urbac_snapshot_model(const urbac_snapshot *s);

#define URBAC_UNKNOWN_USER UINT32_MAX
#define URBAC_NO_DEVICE UINT32_MAX

typedef enum urbac_scope {
  URBAC_SCOPE_ALL = 0,         /* every device group (tenant-wide); the default */
  URBAC_SCOPE_ANY = 1,         /* at least one device group */
  URBAC_SCOPE_DEVICE_GROUP = 2 /* one device group (a device resolves to its group) */
} urbac_scope;

/* One question, resolved to indices. Small and plain: build it once, ask often. */
typedef struct urbac_query {
  uint32_t user;    /* user index, or URBAC_UNKNOWN_USER (denied) */
  uint16_t grant;   /* dense grant index */
  uint8_t workload; /* workload index */
  uint8_t scope;    /* urbac_scope */
  uint32_t dg;      /* device group index for URBAC_SCOPE_DEVICE_GROUP */
  uint32_t device;  /* the device asked about, or URBAC_NO_DEVICE */
} urbac_query;

/* A string slice: `len` bytes at `ptr`, no NUL needed. {NULL, 0} is empty. */
typedef struct urbac_str {
  const char *ptr;
  size_t len;
} urbac_str;
/* The slice of a NUL-terminated string (NULL: empty). */
static inline urbac_str urbac_str_of(const char *s)
{
  urbac_str r = {s, 0};
  while (s && s[r.len])
    r.len++;
  return r;
}

/* The text of one question: `user` (an id; unknown ids are allowed and denied),
 * `perm` (a name or id with its level), `workload` (mde, mdo, mdi), `scope` (empty,
 * all, any, device:ID, devicegroup:ID). */
typedef struct urbac_question {
  urbac_str user, perm, workload, scope;
} urbac_question;

/* Turns the text of a question into a query. A per-thread handle: it caches
 * permission names, so a stream of questions resolves fast. */
typedef struct urbac_parser urbac_parser;
/* A parser for `s`, or NULL when out of memory. The caller frees it with
 * urbac_parser_free(); `s` is borrowed and must outlive it. */
URBAC_EXTERN urbac_parser *urbac_parser_new(const urbac_snapshot *s);
/* Frees `p`; accepts NULL. */
URBAC_EXTERN void urbac_parser_free(urbac_parser *p);
/*
 * Resolves `question` into *out. The question's strings are not retained. On
 * success nothing is allocated. On failure returns the code (URBAC_EWORKLOAD,
 * URBAC_EUNKNOWNPERM, URBAC_ELEVEL, URBAC_ESCOPE, URBAC_EUNKNOWNDEVICE,
 * URBAC_EUNKNOWNDG) with a one-line reason in `d`, whose path names the field
 * ("workload", "permission", "scope"); into a diag that holds no error yet (a new
 * or cleared one) that allocates nothing either (urbac/error.h).
 */
URBAC_EXTERN urbac_err urbac_parse_query(urbac_parser *p, const urbac_question *question, urbac_query *out,
                                         urbac_diag *d);
/* One line of a queries TSV (tenant-format.md "Queries"): user, permission,
 * workload, scope, tab-separated; the line ends at `len` (no newline) and is not
 * retained. As urbac_parse_query(); an error's column is where its field starts. */
URBAC_EXTERN urbac_err urbac_parse_query_line(urbac_parser *p, const char *line, size_t len, urbac_query *out,
                                              urbac_diag *d);

/* true: allow; false: deny. `q` must come from urbac_parse_query() on `s`. Never
 * fails and never allocates. */
URBAC_EXTERN bool urbac_check(const urbac_snapshot *s, const urbac_query *q);
/* Answers `n` queries in order into out[i] (1 allow, 0 deny). */
URBAC_EXTERN void urbac_check_batch(const urbac_snapshot *s, const urbac_query *q, size_t n, uint8_t *out);

/* Why a decision is what it is: for an allow every chain that grants it, for a
 * deny what is missing. */
typedef struct urbac_explanation urbac_explanation;
/* The caller frees *out with urbac_explanation_free(); `q` is not retained. */
URBAC_EXTERN urbac_err urbac_explain(const urbac_snapshot *s, const urbac_query *q, urbac_explanation **out,
                                     urbac_diag *d);
/* Frees `e`; accepts NULL. */
URBAC_EXTERN void urbac_explanation_free(urbac_explanation *e);
URBAC_EXTERN bool urbac_explanation_allowed(const urbac_explanation *e);
URBAC_EXTERN size_t urbac_explanation_count(const urbac_explanation *e);
/* Line `i`, owned by `e`, valid until urbac_explanation_free(e); NULL when out of range. */
URBAC_EXTERN const char *urbac_explanation_line(const urbac_explanation *e, size_t i);

/* One effective grant of a user: a permission at a level on a workload and scope. */
typedef struct urbac_effective_entry {
  size_t workload;
  urbac_grant grant;
  const char *scope;  /* "all", or the id of one device group (mde) */
  const char *source; /* the first chain that grants it */
} urbac_effective_entry;
/* Calls `cb` for every grant `user` holds, by workload, permission and scope.
 * A non-zero return from `cb` stops the walk and is returned. Strings in the
 * entry are valid during the call only. */
typedef int (*urbac_effective_cb)(void *ctx, const urbac_effective_entry *e);
URBAC_EXTERN int urbac_effective(const urbac_snapshot *s, uint32_t user, urbac_effective_cb cb, void *ctx);

/* Calls `cb` with every user allowed `q` (its user field is ignored), in tenant order. */
typedef int (*urbac_user_cb)(void *ctx, uint32_t user, const char *id);
URBAC_EXTERN int urbac_who_can(const urbac_snapshot *s, const urbac_query *q, urbac_user_cb cb, void *ctx);
/* The id of user `i`, owned by the snapshot's model, valid while it lives; NULL when out of range,
 * "" for a deleted user's slot. */
URBAC_EXTERN const char *urbac_snapshot_user_id(const urbac_snapshot *s, uint32_t i);
/* How many groups user `i` is a direct member of, and the index of the `k`th
 * (its id: urbac_model_id(m, URBAC_OBJ_GROUP, index)). */
URBAC_EXTERN size_t urbac_snapshot_user_group_count(const urbac_snapshot *s, uint32_t i);
URBAC_EXTERN uint32_t urbac_snapshot_user_group(const urbac_snapshot *s, uint32_t i, size_t k);
/* The index of user `id` (`len` bytes, not retained), or URBAC_UNKNOWN_USER. A user is
 * named by its id or its externalId (a GUID in any case); the id wins when both match. */
URBAC_EXTERN uint32_t urbac_snapshot_user_find(const urbac_snapshot *s, const char *id, size_t len);

#ifdef __cplusplus
}
#endif
#endif

/*
 * catalog/catalog.h - the catalog's internal face: enums generated from
 * defender.def, grant indices and grant masks, and the resolved mapping tables.
 *
 * A grant (permission, level) has a dense index; a set of grants is a gmask, a
 * fixed-size bitset sized from the catalog at compile time, so the engine stays
 * generic over the catalog while a check is one bit test.
 *
 * Depends on: util.
 */
#ifndef URBAC_CATALOG_INTERNAL_H
#define URBAC_CATALOG_INTERNAL_H

#include "urbac/catalog.h"
#include "util/util.h"

enum {
#define URBAC_WORKLOAD(E, id, name, app, legacy) URBAC__WL_##E,
#include "catalog/defender.def"
  URBAC__NWORKLOADS
};
enum {
#define URBAC_PERM(E, name, id, lv, applies) URBAC__P_##E,
#include "catalog/defender.def"
  URBAC__NPERMS
};
#define URBAC__GRANTS_R(E) URBAC__G_##E##_READ,
#define URBAC__GRANTS_M(E) URBAC__G_##E##_MANAGE,
#define URBAC__GRANTS_RM(E) URBAC__G_##E##_READ, URBAC__G_##E##_MANAGE,
enum {
#define URBAC_PERM(E, name, id, lv, applies) URBAC__GRANTS_##lv(E)
#include "catalog/defender.def"
  URBAC__NGRANTS
};
enum {
#define URBAC_MDE_MAP(E, id, name, cell) URBAC__MDE_##E,
#include "catalog/defender.def"
  URBAC__NMDE
};
enum {
#define URBAC_EOP_ROLE(E, id, name, cell) URBAC__EOP_##E,
#include "catalog/defender.def"
  URBAC__NEOP
};
enum {
#define URBAC_MDI_ROLE(E, id, name, cell) URBAC__MDI_##E,
#include "catalog/defender.def"
  URBAC__NMDI
};
enum {
#define URBAC_DIR_ROLE(E, id, name, same, all, mde, mdo, mdi, mdomdi) URBAC__DIR_##E,
#include "catalog/defender.def"
  URBAC__NDIR
};
#define URBAC__GRANT_WORDS ((URBAC__NGRANTS + 63) / 64)
#define URBAC__NO_GRANT 0xffffu

/* A set of grants. */
typedef struct urbac__gmask {
  uint64_t w[URBAC__GRANT_WORDS];
} urbac__gmask;

static inline void urbac__gmask_or(urbac__gmask *a, const urbac__gmask *b)
{
  for (size_t i = 0; i < URBAC__GRANT_WORDS; i++)
    a->w[i] |= b->w[i];
}
static inline bool urbac__gmask_empty(const urbac__gmask *a)
{
  for (size_t i = 0; i < URBAC__GRANT_WORDS; i++)
    if (a->w[i])
      return false;
  return true;
}
static inline bool urbac__gmask_eq(const urbac__gmask *a, const urbac__gmask *b)
{
  return memcmp(a, b, sizeof *a) == 0;
}
static inline bool urbac__gmask_has(const urbac__gmask *a, unsigned g) { return urbac__bit_test(a->w, g); }

/* The dense index of (perm, level), or URBAC__NO_GRANT when the level is unsupported. */
unsigned urbac__grant_index(unsigned perm, unsigned level);
/* The grant with dense index `g`. */
urbac_grant urbac__grant_of(unsigned g);
/* Adds grant (perm, level) to `m` with everything it implies: ALL adds every supported
 * level, MANAGE adds READ where the permission has it. */
void urbac__gmask_add(urbac__gmask *m, unsigned perm, unsigned level);

/* urbac_catalog_resolve() and urbac_catalog_legacy_find() with the reason written
 * into `why` (NUL-terminated, cut to `why_size`) instead of a diag: for the tenant
 * loader, which reports it at the node's file:line:column. legacy_find returns -1
 * when unknown. */
urbac_err urbac__catalog_resolve(const char *text, size_t len, urbac_grant *out, char *why, size_t why_size);
int urbac__catalog_legacy_find(urbac_legacy_kind kind, const char *text, size_t len, char *why,
                               size_t why_size);

/* Matches a Graph wildcard ("microsoft.xdr/secops/ * /read", no spaces) against every
 * grant's action, under Microsoft's spelling and urbac's older ids; fills `out` and
 * returns how many grants matched. A group action without '*'
 * ("microsoft.xdr/securityposture/read": a level after a path shorter than the ids)
 * stands for the wildcard "<path>/ * /<level>". Anything else matches nothing. */
size_t urbac__catalog_wildcard(const char *pattern, size_t len, urbac__gmask *out);

/* Which catalog a tenant decides on (tenant-format.md, `catalog`): the seeds' (the
 * default), or Microsoft's current one, where a grant of the seeds' "Security
 * settings" also grants the two permissions Microsoft split it into. */
typedef enum urbac__edition { URBAC__EDITION_SEEDS = 0, URBAC__EDITION_CURRENT = 1 } urbac__edition;

/* Adds to `m` what its grants imply in the current catalog (defender.def,
 * URBAC_PERM_IMPLIES). Idempotent. */
void urbac__gmask_imply(urbac__gmask *m);

/* The seed tables with every cell resolved to grants. */
typedef struct urbac__tables {
  urbac__gmask mde[URBAC__NMDE];
  urbac__gmask eop[URBAC__NEOP];
  urbac__gmask mdi[URBAC__NMDI];
  urbac__gmask dir[URBAC__NDIR][URBAC__NWORKLOADS];
} urbac__tables;
/* Resolves every cell, with the implications of `edition`; fails (with the cell in
 * `d`) only if the data is broken, which tests/unit/test_catalog.c rules out. */
urbac_err urbac__tables_build_edition(urbac__tables *t, urbac__edition edition, urbac_diag *d);
/* The seeds' edition. */
urbac_err urbac__tables_build(urbac__tables *t, urbac_diag *d);

/* The heading of workload-specific section `s` (0..3) of the directory-role table. */
const char *urbac__dir_section_heading(size_t s);
/* The raw cell text of each legacy row, for tests against the seed. Column 0 is
 * the mapping cell; for directory roles 0 is "all workloads", 1..4 the sections
 * and 5 the row it is the "Same as" (NULL when none). */
const char *urbac__legacy_cell(urbac_legacy_kind kind, size_t i, size_t column);

/* Normalises a name for matching: lower case, white space folded, '\' spaced as
 * " \ ", dash variants as '-'. Writes at most `size` bytes; returns the length. */
size_t urbac__name_norm(const char *s, size_t len, char *out, size_t size);
/* Levenshtein distance between two normalised names, capped at `cap`. */
size_t urbac__edit_distance(const char *a, const char *b, size_t cap);

#endif

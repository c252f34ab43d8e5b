/*
 * catalog/names.c - turning what people type into catalog entries.
 *
 * semantics.md "Names": a permission is accepted by its display name in any of the
 * seed's spellings (case, white space, '\' spacing and dash variants folded), with
 * its level inside the name ("(manage)", "\ (All permissions)") or as ":read" /
 * ":manage" on an id, and by its Graph resource action ("microsoft.xdr/.../read").
 * Legacy roles, legacy permissions and directory roles resolve the same way by name
 * or id. An unknown name is an error naming the closest known names (Levenshtein).
 *
 * Candidate names are normalised once per process (pthread_once) into a static
 * arena; suggestions prune by a cheap lower bound before computing Levenshtein.
 *
 * Depends on: util, catalog/catalog.c, pthreads.
 */
#include <ctype.h>
#include <pthread.h>
#include <stdio.h>
#include <strings.h>

#include "catalog/catalog.h"

#define NORM_MAX 512u

/* ---------------------------------------------------------------- normalising */

/* The byte length of a dash variant (en dash, em dash, minus sign) at `s`, or 0. */
static size_t dash_len(const unsigned char *s, size_t left)
{
  if (left >= 3 && s[0] == 0xE2 && s[1] == 0x80 && (s[2] == 0x93 || s[2] == 0x94))
    return 3;
  if (left >= 3 && s[0] == 0xE2 && s[1] == 0x88 && s[2] == 0x92)
    return 3;
  return 0;
}

size_t urbac__name_norm(const char *src, size_t len, char *out, size_t size)
{
  const unsigned char *s = (const unsigned char *)src;
  size_t o = 0;
  bool space = false;
  if (!size)
    return 0;
  for (size_t i = 0; i < len && o + 4 < size; i++) {
    size_t dl = dash_len(s + i, len - i);
    unsigned char c = dl ? '-' : s[i];
    i += dl ? dl - 1 : 0;
    if (isspace(c)) {
      space = o > 0;
      continue;
    }
    if (c == '\\') {
      /* one canonical spacing around separators: "a \ b" */
      out[o++] = ' ';
      out[o++] = '\\';
      space = true;
      continue;
    }
    if (space && o > 0 && out[o - 1] != ' ')
      out[o++] = ' ';
    space = false;
    out[o++] = (char)tolower(c);
  }
  while (o > 0 && out[o - 1] == ' ')
    o--;
  size_t start = 0;
  while (start < o && out[start] == ' ')
    start++;
  memmove(out, out + start, o - start);
  o -= start;
  out[o] = '\0';
  return o;
}

/* Levenshtein by Myers' bit-vector algorithm (Hyyro's blocked form, as in edlib):
 * the shorter text is the pattern, one bit per character in 64-bit blocks, and
 * each character of the longer text updates a column of the matrix in a few word
 * operations per block. A fuzzer's garbage names made the former banded table
 * (two lines of cells per character) the query parser's hot spot. Stops as soon
 * as the distance cannot come under `cap`. */
enum { EDIT_BLOCKS = (NORM_MAX + 63) / 64 };
URBAC_NO_COVERAGE size_t urbac__edit_distance(const char *a, const char *b, size_t cap)
{
  size_t la = strlen(a), lb = strlen(b);
  if (la > NORM_MAX || lb > NORM_MAX || (la > lb ? la - lb : lb - la) >= cap)
    return cap; /* the length difference alone is already too far */
  const unsigned char *p = (const unsigned char *)(la <= lb ? a : b),
                      *t = (const unsigned char *)(la <= lb ? b : a);
  size_t m = la <= lb ? la : lb, n = la <= lb ? lb : la;
  if (m == 0)
    return n < cap ? n : cap;
  /* peq[slot[c]][k]: the rows of block k where the pattern holds c (slot 0: none) */
  uint8_t slot[256] = {0};
  uint64_t peq[256][EDIT_BLOCKS], pv[EDIT_BLOCKS], mv[EDIT_BLOCKS];
  size_t nslots = 1, blocks = (m + 63) / 64, last = (m - 1) % 64;
  memset(peq[0], 0, sizeof peq[0]);
  for (size_t i = 0; i < m; i++) {
    if (!slot[p[i]]) {
      slot[p[i]] = (uint8_t)nslots;
      memset(peq[nslots++], 0, sizeof peq[0]);
    }
    peq[slot[p[i]]][i / 64] |= (uint64_t)1 << (i % 64);
  }
  for (size_t k = 0; k < blocks; k++)
    pv[k] = ~(uint64_t)0, mv[k] = 0;
  size_t score = m; /* D[m][j], column by column */
  for (size_t j = 0; j < n; j++) {
    const uint64_t *eqs = peq[slot[t[j]]];
    int hin = 1; /* the top row is D[0][j] = j: it always steps up by one */
    for (size_t k = 0; k < blocks; k++) {
      uint64_t eq = eqs[k], hneg = hin < 0 ? 1u : 0u, hpos = hin > 0 ? 1u : 0u;
      uint64_t xv = eq | mv[k];
      eq |= hneg;
      uint64_t xh = (((eq & pv[k]) + pv[k]) ^ pv[k]) | eq;
      uint64_t ph = mv[k] | ~(xh | pv[k]), mh = pv[k] & xh;
      unsigned bit = k + 1 < blocks ? 63 : (unsigned)last; /* the block's last row */
      hin = (int)((ph >> bit) & 1) - (int)((mh >> bit) & 1);
      ph = (ph << 1) | hpos;
      mh = (mh << 1) | hneg;
      pv[k] = mh | ~(xv | ph);
      mv[k] = ph & xv;
    }
    score = hin < 0 ? score - 1 : score + (size_t)hin;
    /* each column left can lower the distance by one at most */
    if (score >= cap + (n - j - 1))
      return cap;
  }
  return score < cap ? score : cap;
}

/* ---------------------------------------------------------------- candidates */

/* A name a user may type, and what it stands for. */
typedef struct cand {
  const char *text;
  int index;
} cand;

static const cand perm_names[] = {
#define URBAC_PERM(E, name, id, lv, applies) {name, URBAC__P_##E},
#include "catalog/defender.def"
#define URBAC_PERM_ALIAS(E, name) {name, URBAC__P_##E},
#include "catalog/defender.def"
};

static const cand mde_names[] = {
#define URBAC_MDE_MAP(E, id, name, cell) {name, URBAC__MDE_##E}, {id, URBAC__MDE_##E},
#include "catalog/defender.def"
#define URBAC_MDE_ALIAS(E, name) {name, URBAC__MDE_##E},
#include "catalog/defender.def"
};
static const cand eop_names[] = {
#define URBAC_EOP_ROLE(E, id, name, cell) {name, URBAC__EOP_##E}, {id, URBAC__EOP_##E},
#include "catalog/defender.def"
};
static const cand mdi_names[] = {
#define URBAC_MDI_ROLE(E, id, name, cell) {name, URBAC__MDI_##E}, {id, URBAC__MDI_##E},
#include "catalog/defender.def"
};
static const cand dir_names[] = {
#define URBAC_DIR_ROLE(E, id, name, same, all, mde, mdo, mdi, mdomdi)                                        \
  {name, URBAC__DIR_##E}, {id, URBAC__DIR_##E},
#include "catalog/defender.def"
#define URBAC_DIR_ALIAS(E, name) {name, URBAC__DIR_##E},
#include "catalog/defender.def"
};

#define NCANDS(a) (sizeof(a) / sizeof((a)[0]))

/* ---------------------------------------------------------------- normalised tables */

/* How often each character occurs in a text, over 32 buckets (letters, and the
 * rest folded, which only lowers the bag distance computed from it). */
enum { NBUCKETS = 32 };
typedef struct histogram {
  uint8_t count[NBUCKETS];
} histogram;

URBAC_NO_COVERAGE static void histogram_of(const char *s, histogram *h)
{
  memset(h, 0, sizeof *h);
  for (; *s; s++) {
    unsigned char c = (unsigned char)*s;
    size_t b = c >= 'a' && c <= 'z' ? (size_t)(c - 'a') : 26u + c % 6u;
    if (h->count[b] < UINT8_MAX)
      h->count[b]++;
  }
}

/* Every candidate list, normalised once per process (the lists are fixed; a
 * lookup used to normalise each candidate again, and a "did you mean" cost
 * hundreds of microseconds). The normalised texts live in a static arena sized for
 * the catalog, so nothing here allocates and nothing can fail at run time. */
typedef struct cand_norm {
  const char *norm;  /* normalised text */
  const char *leaf;  /* its last " \ " segment */
  uint16_t len;      /* strlen(norm) */
  histogram hist[2]; /* of norm and of leaf, for the bag distance */
} cand_norm;

enum { LIST_PERM, LIST_MDE, LIST_EOP, LIST_MDI, LIST_DIR, NLISTS };
static const struct {
  const cand *c;
  size_t n;
} lists[NLISTS] = {
    [LIST_PERM] = {perm_names, NCANDS(perm_names)}, [LIST_MDE] = {mde_names, NCANDS(mde_names)},
    [LIST_EOP] = {eop_names, NCANDS(eop_names)},    [LIST_MDI] = {mdi_names, NCANDS(mdi_names)},
    [LIST_DIR] = {dir_names, NCANDS(dir_names)},
};
#define NALL                                                                                                 \
  (NCANDS(perm_names) + NCANDS(mde_names) + NCANDS(eop_names) + NCANDS(mdi_names) + NCANDS(dir_names))

/* The last " \\ " segment of a normalised name (the name itself if none). */
static const char *leaf(const char *norm)
{
  const char *sep = strrchr(norm, '\\');
  return sep && sep[1] == ' ' ? sep + 2 : norm;
}

static cand_norm norms[NALL];
static const cand_norm *list_norms[NLISTS];
static char arena[64 * 1024];
static pthread_once_t norms_once = PTHREAD_ONCE_INIT;

static void norms_build(void)
{
  size_t used = 0, k = 0;
  for (size_t l = 0; l < NLISTS; l++) {
    list_norms[l] = norms + k;
    for (size_t i = 0; i < lists[l].n; i++, k++) {
      char *out = arena + used;
      size_t len = urbac__name_norm(lists[l].c[i].text, strlen(lists[l].c[i].text), out, NORM_MAX);
      URBAC_ASSERT(used + len + 1 <= sizeof arena && len < UINT16_MAX);
      norms[k] = (cand_norm){out, leaf(out), (uint16_t)len, {{{0}}, {{0}}}};
      histogram_of(norms[k].norm, &norms[k].hist[0]);
      histogram_of(norms[k].leaf, &norms[k].hist[1]);
      used += len + 1;
    }
  }
}

static const cand_norm *list_get(size_t list)
{
  pthread_once(&norms_once, norms_build);
  return list_norms[list];
}

/* Finds normalised `key` in candidate list `list`, by whole name or, when
 * `leaves`, by its last segment ("alerts"); returns the index or -1. */
static int cand_find(size_t list, const char *key, bool leaves)
{
  const cand_norm *nm = list_get(list);
  size_t klen = strlen(key);
  for (size_t i = 0; i < lists[list].n; i++) {
    if ((nm[i].len == klen && memcmp(nm[i].norm, key, klen) == 0) || (leaves && strcmp(nm[i].leaf, key) == 0))
      return lists[list].c[i].index;
  }
  return -1;
}

/* The bag distance of two histograms: a lower bound of the edit distance
 * between the texts they count, in one pass over the buckets. */
URBAC_NO_COVERAGE static size_t bag_distance(const histogram *a, const histogram *b)
{
  size_t extra = 0, missing = 0;
  for (size_t i = 0; i < NBUCKETS; i++) {
    if (a->count[i] > b->count[i])
      extra += (size_t)(a->count[i] - b->count[i]);
    else
      missing += (size_t)(b->count[i] - a->count[i]);
  }
  return extra > missing ? extra : missing;
}

/* The distance of `key` to candidate `nm` (whole name or last segment), capped at
 * `cap`; the cheap bound first, so most candidates never reach Levenshtein. */
URBAC_NO_COVERAGE static size_t cand_distance(const char *key, const histogram *kh, const cand_norm *nm,
                                              size_t cap)
{
  size_t best = cap;
  for (size_t t = 0; t < 2; t++) {
    const char *text = t == 0 ? nm->norm : nm->leaf;
    if (t == 1 && nm->leaf == nm->norm)
      break;
    if (bag_distance(kh, &nm->hist[t]) >= best)
      continue;
    size_t d = urbac__edit_distance(key, text, best);
    best = d < best ? d : best;
  }
  return best;
}

/* The third smallest of dist[0..n) (SIZE_MAX while fewer than three are set). */
URBAC_NO_COVERAGE static size_t third_best(const size_t *dist, size_t n)
{
  size_t top[3] = {SIZE_MAX, SIZE_MAX, SIZE_MAX};
  for (size_t i = 0; i < n; i++) {
    size_t d = dist[i];
    for (size_t k = 0; k < 3; k++)
      if (d < top[k]) {
        size_t t = top[k];
        top[k] = d;
        d = t;
      }
  }
  return top[2];
}

/* Writes "unknown KIND 'text'; did you mean 'a', 'b' or 'c'?" naming the three
 * closest entries (by whole name or last segment), each by its closest spelling.
 * Only a name closer than the third best so far is worth computing exactly. */
static void did_you_mean(size_t list, const char *kind, const char *text, size_t len, const char *key,
                         char *why, size_t size)
{
  enum { TOP = 3, MAXIDX = 64 };
  size_t dist[MAXIDX], spelling[MAXIDX], order[TOP], nb = 0, third = SIZE_MAX;
  const cand *c = lists[list].c;
  const cand_norm *nm = list_get(list);
  if (!why || !size)
    return;
  for (size_t i = 0; i < MAXIDX; i++)
    dist[i] = SIZE_MAX;
  /* nobody mistypes 150 characters, and a name further than `cap` edits away is
   * no suggestion */
  size_t klen = strlen(key), cap = 8 + klen / 2;
  histogram kh;
  histogram_of(key, &kh);
  for (size_t i = 0; i < lists[list].n && klen <= 150; i++) {
    size_t idx = (size_t)c[i].index, bound = third < cap ? third + 1 : cap;
    if (idx >= MAXIDX)
      continue;
    bound = dist[idx] < bound ? dist[idx] : bound;
    size_t d = cand_distance(key, &kh, &nm[i], bound);
    if (d >= bound)
      continue;
    dist[idx] = d;
    spelling[idx] = i;
    third = third_best(dist, MAXIDX);
  }
  for (size_t idx = 0; idx < MAXIDX; idx++) {
    if (dist[idx] == SIZE_MAX)
      continue;
    size_t k = nb < TOP ? nb++ : TOP;
    while (k > 0 && dist[order[k - 1]] > dist[idx]) {
      if (k < TOP)
        order[k] = order[k - 1];
      k--;
    }
    if (k < TOP)
      order[k] = idx;
  }
  int w = snprintf(why, size, "unknown %s '%.*s'", kind, (int)(len > 200 ? 200 : len), text);
  for (size_t k = 0; k < nb && w > 0 && (size_t)w < size; k++)
    w += snprintf(why + w, size - (size_t)w, "%s'%s'",
                  k == 0        ? "; did you mean "
                  : k + 1 == nb ? " or "
                                : ", ",
                  c[spelling[order[k]]].text);
  if (nb && w > 0 && (size_t)w < size)
    snprintf(why + w, size - (size_t)w, "?");
}

/* ---------------------------------------------------------------- levels */

static bool ends_with_ci(const char *s, size_t len, const char *suffix)
{
  size_t n = strlen(suffix);
  return len >= n && strncasecmp(s + len - n, suffix, n) == 0;
}

/* Strips a trailing level ("(manage)", "\ (All permissions)", ":read") off
 * [s, s+*len) and returns it; URBAC_LEVEL_NONE when there is none. */
static urbac_level strip_level(const char *s, size_t *len)
{
  static const struct {
    const char *word;
    urbac_level level;
  } words[] = {{"read", URBAC_LEVEL_READ},
               {"manage", URBAC_LEVEL_MANAGE},
               {"all permissions", URBAC_LEVEL_ALL},
               {"all", URBAC_LEVEL_ALL},
               /* Microsoft's current pages: "(Read and manage)", "(Read-only)" */
               {"read and manage", URBAC_LEVEL_ALL},
               {"read / manage", URBAC_LEVEL_ALL},
               {"read-only", URBAC_LEVEL_READ},
               {"read only", URBAC_LEVEL_READ}};
  size_t n = *len;
  if (ends_with_ci(s, n, ":read") || ends_with_ci(s, n, ":manage")) {
    bool read = ends_with_ci(s, n, ":read");
    *len = n - (read ? 5 : 7);
    return read ? URBAC_LEVEL_READ : URBAC_LEVEL_MANAGE;
  }
  if (n == 0 || s[n - 1] != ')')
    return URBAC_LEVEL_NONE;
  size_t open = n - 1;
  while (open > 0 && s[open] != '(')
    open--;
  if (s[open] != '(')
    return URBAC_LEVEL_NONE;
  char inner[64];
  if (n - open - 2 >= sizeof inner)
    return URBAC_LEVEL_NONE;
  urbac__name_norm(s + open + 1, n - open - 2, inner, sizeof inner);
  for (size_t i = 0; i < sizeof words / sizeof words[0]; i++) {
    if (strcmp(inner, words[i].word) != 0)
      continue;
    n = open;
    while (n > 0 && (isspace((unsigned char)s[n - 1]) || s[n - 1] == '\\'))
      n--;
    *len = n;
    return words[i].level;
  }
  return URBAC_LEVEL_NONE;
}

/* ---------------------------------------------------------------- resolving */

static void trim(const char **s, size_t *len)
{
  while (*len && isspace((unsigned char)**s)) {
    (*s)++;
    (*len)--;
  }
  while (*len && isspace((unsigned char)(*s)[*len - 1]))
    (*len)--;
}

/* Whether `id` (a stem after "microsoft.xdr/") is [s, s+len), or, when `s` has no
 * '/', ends in the segment [s, s+len). */
static bool id_is(const char *id, const char *s, size_t len)
{
  const char *last = strrchr(id, '/');
  return (strlen(id) == len && strncasecmp(id, s, len) == 0) ||
         (!memchr(s, '/', len) && last && strlen(last + 1) == len && strncasecmp(last + 1, s, len) == 0);
}

/* An id: "microsoft.xdr/<stem>[/read|/manage]" or the stem alone, under Microsoft's
 * spelling or one of urbac's older ids. */
static int find_by_id(const char *s, size_t len, urbac_level *level)
{
  static const char prefix[] = "microsoft.xdr/";
  size_t plen = sizeof prefix - 1;
  urbac_level lv = *level;
  int found = -1;
  if (len >= plen && strncasecmp(s, prefix, plen) == 0) {
    s += plen;
    len -= plen;
  }
  if (ends_with_ci(s, len, "/read") && lv == URBAC_LEVEL_NONE) {
    lv = URBAC_LEVEL_READ;
    len -= 5;
  } else if (ends_with_ci(s, len, "/manage") && lv == URBAC_LEVEL_NONE) {
    lv = URBAC_LEVEL_MANAGE;
    len -= 7;
  }
  for (size_t i = 0; i < URBAC__NPERMS && found < 0; i++)
    if (id_is(urbac_catalog_perm(i)->id + plen, s, len))
      found = (int)i;
  for (size_t i = 0; i < URBAC__NPERMS && found < 0; i++)
    for (size_t k = 0; urbac_catalog_perm_alias_id(i, k) && found < 0; k++)
      if (id_is(urbac_catalog_perm_alias_id(i, k) + plen, s, len))
        found = (int)i;
  if (found >= 0)
    *level = lv;
  return found;
}

/* A group action that stands for exactly one grant ("microsoft.xdr/secops/securitydata/read",
 * as Defender for Identity's documentation writes Security data basics (read)); -1 otherwise. */
static int find_by_group(const char *s, size_t len, urbac_level *level)
{
  urbac__gmask m;
  int found = -1;
  if (*level != URBAC_LEVEL_NONE || urbac__catalog_wildcard(s, len, &m) != 1)
    return -1;
  for (unsigned g = 0; g < URBAC__NGRANTS && found < 0; g++)
    if (urbac__gmask_has(&m, g)) {
      found = urbac__grant_of(g).perm;
      *level = (urbac_level)urbac__grant_of(g).level;
    }
  return found;
}

urbac_err urbac__catalog_resolve(const char *text, size_t len, urbac_grant *out, char *why, size_t why_size)
{
  char key[NORM_MAX];
  size_t n = len;
  const char *s = text;
  trim(&s, &n);
  if (n == 0 || n >= NORM_MAX) {
    if (why)
      snprintf(why, why_size, n ? "permission name too long (%zu bytes)" : "empty permission name", n);
    return URBAC_EUNKNOWNPERM;
  }
  urbac_level level = strip_level(s, &n);
  int perm = find_by_id(s, n, &level);
  if (perm < 0 && !memchr(s, '*', n))
    perm = find_by_group(s, n, &level);
  urbac__name_norm(s, n, key, sizeof key);
  if (perm < 0)
    perm = cand_find(LIST_PERM, key, true);
  if (perm < 0) {
    did_you_mean(LIST_PERM, "permission", s, n, key, why, why_size);
    return URBAC_EUNKNOWNPERM;
  }
  const urbac_perm_info *p = urbac_catalog_perm((size_t)perm);
  if (level != URBAC_LEVEL_NONE && level != URBAC_LEVEL_ALL && !(p->levels & level)) {
    if (why)
      snprintf(why, why_size, "'%s' has no %s level (it supports %s)", p->name, urbac_level_name(level),
               p->levels == URBAC_LEVEL_READ     ? "read only"
               : p->levels == URBAC_LEVEL_MANAGE ? "manage only"
                                                 : "read and manage");
    return URBAC_ELEVEL;
  }
  out->perm = (uint16_t)perm;
  out->level = (uint8_t)level;
  return URBAC_OK;
}

int urbac__catalog_legacy_find(urbac_legacy_kind kind, const char *text, size_t len, char *why,
                               size_t why_size)
{
  static const struct {
    size_t list;
    const char *what;
  } kinds[] = {
      [URBAC_LEGACY_MDE_PERMISSION] = {LIST_MDE, "Defender for Endpoint permission"},
      [URBAC_LEGACY_EOP_ROLE_GROUP] = {LIST_EOP, "Defender for Office role group"},
      [URBAC_LEGACY_MDI_ROLE] = {LIST_MDI, "Defender for Identity role"},
      [URBAC_LEGACY_DIRECTORY_ROLE] = {LIST_DIR, "directory role"},
  };
  char key[NORM_MAX];
  const char *s = text;
  size_t n = len;
  if ((unsigned)kind > URBAC_LEGACY_DIRECTORY_ROLE)
    return -1;
  trim(&s, &n);
  if (n >= NORM_MAX) {
    if (why)
      snprintf(why, why_size, "%s name too long (%zu bytes)", kinds[kind].what, n);
    return -1;
  }
  urbac__name_norm(s, n, key, sizeof key);
  int i = cand_find(kinds[kind].list, key, false);
  if (i < 0)
    did_you_mean(kinds[kind].list, kinds[kind].what, s, n, key, why, why_size);
  return i;
}

/* The public faces: the reason goes into the caller's diag. */
urbac_err urbac_catalog_resolve(const char *text, size_t len, urbac_grant *out, urbac_diag *d)
{
  char why[512] = "";
  urbac_err err = urbac__catalog_resolve(text, len, out, why, sizeof why);
  if (err)
    urbac__diag_add(d, err, NULL, 0, 0, NULL, "%s", why);
  return err;
}

urbac_err urbac_catalog_legacy_find(urbac_legacy_kind kind, const char *text, size_t len, size_t *index,
                                    urbac_diag *d)
{
  char why[512] = "";
  if ((unsigned)kind > URBAC_LEGACY_DIRECTORY_ROLE)
    return urbac__diag_add(d, URBAC_EINVAL, NULL, 0, 0, NULL, "unknown legacy kind %d", (int)kind);
  int i = urbac__catalog_legacy_find(kind, text, len, why, sizeof why);
  if (i < 0)
    return urbac__diag_add(d, kind == URBAC_LEGACY_MDE_PERMISSION ? URBAC_EUNKNOWNPERM : URBAC_EUNKNOWNROLE,
                           NULL, 0, 0, NULL, "%s", why);
  *index = (size_t)i;
  return URBAC_OK;
}

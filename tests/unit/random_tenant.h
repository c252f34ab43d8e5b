/*
 * tests/unit/random_tenant.h - random tenants as YAML text, for property tests:
 * users (some disabled, some with directory roles, some with an externalId), nested groups (a group only
 * contains later groups: no cycles), device groups with rules and user access,
 * devices, unified roles (levels, wildcards, data sources, device-group scopes)
 * and legacy configuration for every workload. Deterministic from `rng`.
 */
#ifndef URBAC_TEST_RANDOM_TENANT_H
#define URBAC_TEST_RANDOM_TENANT_H

/* Knobs for tenants that avoid the documented differences between the models. */
typedef struct tenant_shape {
  bool no_roles;       /* no unified roles */
  bool one_group;      /* each user in exactly one group, no nesting; MDE roles on one group each */
  bool admin_dirroles; /* directory roles only Global or Security administrator */
} tenant_shape;

static tenant_shape shape;

static uint64_t rng;

/* The stream URBAC_TEST_SEED names (not 0), else `fallback`: another one looks further. */
static inline void seed_rng(uint64_t fallback)
{
  const char *seed = getenv("URBAC_TEST_SEED");
  rng = seed && strtoull(seed, NULL, 0) ? strtoull(seed, NULL, 0) : fallback;
}

static inline uint32_t rnd(uint32_t n)
{
  rng ^= rng << 13;
  rng ^= rng >> 7;
  rng ^= rng << 17;
  return (uint32_t)(rng % n);
}

#define OUT(...) (len += (size_t)snprintf(y + len, cap - len, __VA_ARGS__))

static inline void principal(char *y, size_t *plen, size_t cap, int nu, int ng)
{
  size_t len = *plen;
  if (rnd(2))
    OUT("u%u", rnd((uint32_t)nu));
  else
    OUT("group:g%u", rnd((uint32_t)ng));
  *plen = len;
}

static const char *const dirs[] = {"Global administrator",
                                   "Security administrator",
                                   "Global reader",
                                   "Security reader",
                                   "Security operator",
                                   "Compliance administrator",
                                   "Compliance data administrator",
                                   "Billing admin"};
static const char *const tags[] = {"a", "b", "c"};

static inline void random_tenant(char *y, size_t cap, int *nusers, int *ndevices)
{
  size_t len = 0;
  int nu = 2 + (int)rnd(6), ng = 1 + (int)rnd(6), nd = (int)rnd(4), ndev = (int)rnd(6);
  static const char *const modes[] = {"legacy", "unified"};
  OUT("urbac: 1\ntenant: r\nworkloads: {mde: %s, mdo: %s, mdi: %s}\nusers:\n", modes[rnd(2)], modes[rnd(2)],
      modes[rnd(2)]);
  for (int i = 0; i < nu; i++) {
    OUT("  - {id: u%d, enabled: %s, ", i, rnd(8) ? "true" : "false");
    if (rnd(2)) /* an externalId, GUID-shaped, in either case */
      OUT("externalId: 0000000%d-0000-0000-0000-00000000000%c, ", i, rnd(2) ? 'a' : 'A');
    OUT("directoryRoles: [");
    for (int k = 0, n = rnd(4) == 0 ? 1 : 0; k < n; k++)
      OUT("%s", dirs[rnd(shape.admin_dirroles ? 2 : 8)]);
    OUT("]}\n");
  }
  OUT("groups:\n");
  for (int i = 0; i < ng; i++) {
    OUT("  - {id: g%d, directoryRoles: [%s], ", i, rnd(6) ? "" : dirs[rnd(shape.admin_dirroles ? 2 : 8)]);
    if (rnd(2))
      OUT("externalId: 1000000%d-0000-0000-0000-00000000000%c, managedBy: scim, ", i, rnd(2) ? 'a' : 'A');
    OUT("members: [");
    for (int u = i, k = 0; shape.one_group && u < nu; u += ng, k++)
      OUT("%su%d", k ? ", " : "", u); /* user u is in group u mod ng only */
    for (int k = 0, n = shape.one_group ? 0 : (int)rnd(4); k < n; k++) {
      int j = i + 1 + (int)rnd((uint32_t)ng); /* only later groups: no cycles */
      if (rnd(2) && j < ng)
        OUT("%sgroup:g%d", k ? ", " : "", j);
      else
        OUT("%su%u", k ? ", " : "", rnd((uint32_t)nu));
    }
    OUT("]}\n");
  }
  OUT("deviceGroups:\n");
  for (int i = 0; i < nd; i++) {
    OUT("  - {id: dg%d, rank: %u, rules: {tags: {equals: [%s]}%s}, userAccess: [", i, (unsigned)(nd - i) * 2,
        tags[rnd(3)], rnd(3) ? "" : ", name: {startsWith: [x]}");
    for (int k = 0, n = (int)rnd(3); k < n; k++)
      OUT("%sg%u", k ? ", " : "", rnd((uint32_t)ng));
    OUT("]}\n");
  }
  if (rnd(2))
    OUT("  - {id: ungrouped, userAccess: [g%u]}\n", rnd((uint32_t)ng));
  OUT("devices:\n");
  for (int i = 0; i < ndev; i++)
    OUT("  - {id: d%d, name: %s%d, tags: [%s]}\n", i, rnd(2) ? "x" : "y", i, tags[rnd(3)]);
  OUT("roles:\n");
  for (int r = 0, nr = shape.no_roles ? 0 : (int)rnd(4); r < nr; r++) {
    OUT("  - name: r%d\n    permissions: [", r);
    for (int k = 0, n = 1 + (int)rnd(3); k < n; k++) {
      uint32_t choice = rnd(20);
      if (choice == 0)
        OUT("%s'microsoft.xdr/secops/*/read'", k ? ", " : "");
      else if (choice == 1)
        OUT("%s'microsoft.xdr/*/manage'", k ? ", " : "");
      else {
        const urbac_perm_info *p = urbac_catalog_perm(rnd((uint32_t)urbac_catalog_perm_count()));
        const char *lv = p->levels == 3 ? (rnd(3) == 0 ? "read" : rnd(2) ? "manage" : "All permissions") : "";
        OUT("%s'%s%s%s%s'", k ? ", " : "", p->name, *lv ? " (" : "", lv, *lv ? ")" : "");
      }
    }
    OUT("]\n    assignments:\n");
    for (int a = 0, na = 1 + (int)rnd(2); a < na; a++) {
      OUT("      - {name: a%d, principals: [", a);
      for (int k = 0, n = 1 + (int)rnd(2); k < n; k++) {
        OUT("%s", k ? ", " : "");
        principal(y, &len, cap, nu, ng);
      }
      OUT("], dataSources: %s", rnd(3) ? "[mde]" : rnd(2) ? "all" : "[mdo, mdi]");
      if (nd && rnd(2))
        OUT(", deviceGroups: [dg%u%s]", rnd((uint32_t)nd), rnd(3) ? "" : ", ungrouped");
      else if (rnd(8) == 0)
        OUT(", deviceGroups: []"); /* a selection of none */
      OUT("}\n");
    }
  }
  OUT("legacy:\n  mde:\n    roles:\n");
  static const char *const mdeperms[] = {"View data - Security operations", "Alerts investigation",
                                         "Live response capabilities", "Manage portal system settings",
                                         "Manage endpoint security settings in Microsoft Endpoint Manager"};
  for (int r = 0, nr = (int)rnd(3); r < nr; r++)
    OUT("      - {name: m%d, permissions: [%s, %s], groups: [g%u]}\n", r, mdeperms[rnd(5)], mdeperms[rnd(5)],
        rnd((uint32_t)ng));
  OUT("      - {name: mx, groups: []}\n");
  OUT("  mdo:\n    roleGroups:\n      - {name: %s, members: [", rnd(2) ? "Quarantine" : "Security reader");
  principal(y, &len, cap, nu, ng);
  OUT("]}\n  mdi:\n    roles:\n      - {name: %s, members: [", rnd(2) ? "MDI admin" : "MDI viewer");
  principal(y, &len, cap, nu, ng);
  OUT("]}\n");
  *nusers = nu;
  *ndevices = ndev;
  assert_true(len < cap);
}

#endif

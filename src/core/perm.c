#include "core/perm.h"

static const char *const role_names[] = {NULL, "ADMIN", "OPERATOR", "READ_ONLY"};

const char *perm_role_name(int role)
{
	if (role < 1 || role > 3)
		return NULL;
	return role_names[role];
}

bool perm_sees_unit(const perm_principal_t *p, uint64_t unit_id)
{
	if (p->org_wide)
		return true;
	if (unit_id == 0)
		return false;
	size_t lo = 0, hi = p->n_units;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (p->unit_ids[mid] == unit_id)
			return true;
		if (p->unit_ids[mid] < unit_id)
			lo = mid + 1;
		else
			hi = mid;
	}
	return false;
}

static bool role_allows(int role, enum perm_action action)
{
	switch (action) {
	case PERM_READ:
		return role == PERM_ROLE_ADMIN || role == PERM_ROLE_OPERATOR ||
		       role == PERM_ROLE_READ_ONLY;
	case PERM_OPERATE:
		return role == PERM_ROLE_ADMIN || role == PERM_ROLE_OPERATOR;
	case PERM_CONFIGURE:
		return role == PERM_ROLE_ADMIN;
	}
	return false;
}

int perm_check(const perm_principal_t *p, enum perm_action action, uint64_t org_id,
	       uint64_t unit_id, status_t *st)
{
	static const char *const verbs[] = {"read", "change", "configure"};
	if (org_id != p->org_id)
		return status_set(st, ST_NOT_FOUND, "not found");
	if (unit_id != 0 && !perm_sees_unit(p, unit_id))
		return status_set(st, ST_NOT_FOUND, "not found");
	if (unit_id == 0 && !p->org_wide && action != PERM_READ)
		return status_set(st, ST_PERMISSION_DENIED,
				  "this needs an organization-wide token");
	if (!role_allows(p->role, action))
		return status_set(st, ST_PERMISSION_DENIED, "role %s may not %s this",
				  perm_role_name(p->role) ? perm_role_name(p->role) : "?",
				  verbs[action]);
	return ST_OK;
}

int perm_check_token_scope(const perm_principal_t *p, int role, bool org_wide,
			   const uint64_t *unit_ids, size_t n_units, status_t *st)
{
	if (p->role != PERM_ROLE_ADMIN)
		return status_set(st, ST_PERMISSION_DENIED, "only ADMIN tokens manage tokens");
	if (perm_role_name(role) == NULL)
		return status_set(st, ST_PERMISSION_DENIED, "unknown role");
	if (p->org_wide)
		return ST_OK;
	if (org_wide)
		return status_set(st, ST_PERMISSION_DENIED,
				  "a unit-scoped token cannot grant organization-wide access");
	for (size_t i = 0; i < n_units; i++)
		if (!perm_sees_unit(p, unit_ids[i]))
			return status_set(st, ST_PERMISSION_DENIED,
					  "unit %llu is outside this token's units",
					  (unsigned long long)unit_ids[i]);
	return ST_OK;
}

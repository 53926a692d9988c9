/*
 * Permissions: the one place that decides what a principal (an API token) may
 * see and do. Pure functions, no I/O.
 *
 * Roles (numbers as in proto Role): ADMIN configures, OPERATOR does daily work,
 * READ_ONLY reads. A unit-scoped principal never sees data of other units:
 * such records answer NOT_FOUND, exactly as if they did not exist.
 */
#ifndef OSPAY_CORE_PERM_H
#define OSPAY_CORE_PERM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/status.h"

enum perm_role {
	PERM_ROLE_UNSPECIFIED = 0,
	PERM_ROLE_ADMIN = 1,
	PERM_ROLE_OPERATOR = 2,
	PERM_ROLE_READ_ONLY = 3,
};

enum perm_action {
	PERM_READ = 0,  /* any role */
	PERM_OPERATE,   /* ADMIN or OPERATOR */
	PERM_CONFIGURE, /* ADMIN */
};

typedef struct perm_principal {
	uint64_t org_id;
	uint64_t token_id;
	int role;
	bool org_wide;
	const uint64_t *unit_ids; /* sorted ascending, not owned */
	size_t n_units;
} perm_principal_t;

/* True when p sees records of unit_id (unit_id 0: organization-level record). */
bool perm_sees_unit(const perm_principal_t *p, uint64_t unit_id);

/*
 * May p do action on a record of (org_id, unit_id)? unit_id 0 means an
 * organization-level thing (creating a unit): that needs an org-wide principal.
 * Fills st and returns its code: NOT_FOUND when the record is invisible to p
 * (another organization or unit), PERMISSION_DENIED when the role is too weak.
 */
int perm_check(const perm_principal_t *p, enum perm_action action, uint64_t org_id,
	       uint64_t unit_id, status_t *st);

/*
 * May p create (or revoke) a token of role with that scope? An admin may grant
 * any role, but a unit-scoped admin only within its own units and never
 * org-wide. Returns the status code (OK, PERMISSION_DENIED).
 */
int perm_check_token_scope(const perm_principal_t *p, int role, bool org_wide,
			   const uint64_t *unit_ids, size_t n_units, status_t *st);

/* "ADMIN", "OPERATOR", "READ_ONLY" or NULL. */
const char *perm_role_name(int role);

#endif

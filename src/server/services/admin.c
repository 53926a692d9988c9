/* Session/Hello, Admin units and tokens, and the test clock. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/log.h"
#include "common/util.h"
#include "core/billing.h"
#include "core/text.h"
#include "ospay/v1/admin.pb-c.h"
#include "ospay/v1/clock.pb-c.h"
#include "ospay/v1/session.pb-c.h"
#include "server/db/db.h"
#include "server/rpc/kit.h"
#include "server/rpc/srv.h"
#include "server/rpc/token.h"
#include "server/services/services.h"

#define NAME_MAX_BYTES 100
#define TOKEN_MAX_UNITS 256

/* ------------------------------------------------------------------ units */

/* Checks a required, bounded, printable name; adds a violation when bad. */
static bool check_name(srv_req_t *r, const char *field, const char *name)
{
	const char *why = text_check_name(name, NAME_MAX_BYTES);
	if (why != NULL)
		status_violation(&r->st, field, "%s", why);
	return why == NULL;
}

int h_admin_create_unit(srv_req_t *r, store_txn_t *txn)
{
	const Ospay__V1__CreateUnitRequest *in = (const Ospay__V1__CreateUnitRequest *)r->in;
	if (!srv_check(r, PERM_CONFIGURE, 0) || !check_name(r, "name", in->name))
		return 0;
	Ospay__V1__Unit unit = OSPAY__V1__UNIT__INIT;
	int rc = kit_new_id(r, txn, "unit", &unit.id);
	if (rc != 0 || !srv_ok(r))
		return rc;
	unit.organization_id = r->sess->p.org_id;
	unit.name = in->name;
	unit.created_ms = r->now_ms;
	rc = db_unit_insert(txn, &unit);
	if (rc != 0)
		return srv_store_fail(r, rc, "unit insert");
	return kit_reply_one(r, &ospay__v1__create_unit_response__descriptor, &unit.base);
}

int h_admin_list_units(srv_req_t *r, store_txn_t *txn)
{
	const Ospay__V1__ListUnitsRequest *in = (const Ospay__V1__ListUnitsRequest *)r->in;
	Ospay__V1__Unit **units = NULL;
	size_t n = 0;
	store_cursor_t *cur = NULL;
	char next[KIT_TOKEN_MAX] = "";
	int rc;
	if (!srv_check(r, PERM_READ, 0))
		return 0;
	uint64_t after = 0;
	uint8_t raw[8];
	if (in->page_token[0] != '\0') {
		if (!kit_token_decode(in->page_token, KIT_TOK_UNITS, raw, sizeof(raw))) {
			status_violation(&r->st, "page_token", "not a page token from this method");
			return 0;
		}
		after = be64_get(raw);
	}
	size_t limit = kit_page_limit(in->page_size);
	units = calloc(limit, sizeof(*units));
	if (units == NULL)
		return -ENOMEM;
	rc = store_cursor_open(txn, DB_UNITS_BY_ORG, &cur);
	if (rc != 0)
		goto out;
	uint8_t k[8], v[8];
	be64_put(k, r->sess->p.org_id);
	be64_put(v, after + 1);
	store_val_t ck, cv;
	rc = after == UINT64_MAX ? -ENOENT : store_cursor_seek_dup(cur, k, 8, v, 8, &ck, &cv);
	bool more = false;
	while (rc == 0) {
		uint64_t id = be64_get(cv.data);
		if (perm_sees_unit(&r->sess->p, id)) {
			if (n == limit) {
				more = true;
				break;
			}
			rc = db_get_by_id(txn, DB_UNITS, id, &ospay__v1__unit__descriptor,
					  (ProtobufCMessage **)&units[n]);
			if (rc != 0)
				goto out;
			n++;
		}
		rc = store_cursor_next_dup(cur, &ck, &cv);
	}
	if (rc == -ENOENT)
		rc = 0;
	if (rc != 0)
		goto out;
	if (more) {
		be64_put(raw, units[n - 1]->id);
		kit_token_encode(KIT_TOK_UNITS, raw, sizeof(raw), next);
	}
	Ospay__V1__ListUnitsResponse resp = OSPAY__V1__LIST_UNITS_RESPONSE__INIT;
	resp.units = units;
	resp.n_units = n;
	resp.next_page_token = next;
	rc = srv_reply_msg(r, &resp.base);
out:
	if (rc < 0 && rc != -ENOMEM)
		rc = srv_store_fail(r, rc, "list units");
	store_cursor_close(cur);
	for (size_t i = 0; i < n; i++)
		ospay__v1__unit__free_unpacked(units[i], NULL);
	free(units);
	return rc;
}

/* ------------------------------------------------------------------ tokens */

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
	return x < y ? -1 : x > y;
}

int h_admin_create_token(srv_req_t *r, store_txn_t *txn)
{
	const Ospay__V1__CreateTokenRequest *in = (const Ospay__V1__CreateTokenRequest *)r->in;
	uint64_t *units = NULL;
	int rc = 0;
	check_name(r, "name", in->name);
	if (perm_role_name(in->role) == NULL)
		status_violation(&r->st, "role",
				 "one of ROLE_ADMIN, ROLE_OPERATOR, ROLE_READ_ONLY");
	if (in->org_wide && in->n_unit_ids > 0)
		status_violation(&r->st, "unit_ids", "must be empty for an org_wide token");
	if (!in->org_wide && in->n_unit_ids == 0)
		status_violation(&r->st, "unit_ids", "name at least one unit, or set org_wide");
	if (in->n_unit_ids > TOKEN_MAX_UNITS)
		status_violation(&r->st, "unit_ids", "at most %d units", TOKEN_MAX_UNITS);
	if (!srv_ok(r))
		return 0;
	size_t nu = 0;
	if (in->n_unit_ids > 0) {
		units = malloc(in->n_unit_ids * sizeof(*units));
		if (units == NULL)
			return -ENOMEM;
		memcpy(units, in->unit_ids, in->n_unit_ids * sizeof(*units));
		qsort(units, in->n_unit_ids, sizeof(*units), cmp_u64);
		for (size_t i = 0; i < in->n_unit_ids; i++)
			if (nu == 0 || units[nu - 1] != units[i])
				units[nu++] = units[i];
	}
	if (perm_check_token_scope(&r->sess->p, in->role, in->org_wide, units, nu, &r->st) != ST_OK)
		goto out;
	for (size_t i = 0; i < nu; i++) {
		Ospay__V1__Unit *u = NULL;
		rc = db_get_by_id(txn, DB_UNITS, units[i], &ospay__v1__unit__descriptor,
				  (ProtobufCMessage **)&u);
		bool ok = rc == 0 && u->organization_id == r->sess->p.org_id;
		ospay__v1__unit__free_unpacked(u, NULL);
		if (rc != 0 && rc != -ENOENT) {
			rc = srv_store_fail(r, rc, "unit lookup");
			goto out;
		}
		rc = 0;
		if (!ok)
			status_violation(&r->st, "unit_ids", "no unit %llu in this organization",
					 (unsigned long long)units[i]);
	}
	if (!srv_ok(r))
		goto out;
	char secret[SRV_TOKEN_MAX];
	rc = srv_token_new(secret, sizeof(secret));
	if (rc != 0)
		goto out;
	uint8_t hash[32];
	srv_token_hash(r->srv->token_key, secret, hash);
	uint64_t id;
	rc = kit_new_id(r, txn, "token", &id);
	if (rc != 0 || !srv_ok(r))
		goto out;
	Ospay__V1__Token t = OSPAY__V1__TOKEN__INIT;
	t.id = id;
	t.organization_id = r->sess->p.org_id;
	t.name = in->name;
	t.role = in->role;
	t.org_wide = in->org_wide;
	t.unit_ids = units;
	t.n_unit_ids = nu;
	t.created_ms = r->now_ms;
	t.created_by_token_id = r->sess->p.token_id;
	Ospay__V1__TokenRecord rec = OSPAY__V1__TOKEN_RECORD__INIT;
	rec.token = &t;
	rec.secret_hash.data = hash;
	rec.secret_hash.len = sizeof(hash);
	rc = db_token_insert(txn, &rec);
	if (rc != 0) {
		rc = srv_store_fail(r, rc, "token insert");
		goto out;
	}
	Ospay__V1__CreateTokenResponse resp = OSPAY__V1__CREATE_TOKEN_RESPONSE__INIT;
	resp.token = &t;
	/* An idempotent repeat gets the token without its secret: the server keeps
	 * no copy of a secret, not even inside a stored reply. */
	rc = srv_replay_msg(r, &resp.base);
	if (rc == 0) {
		resp.secret = secret;
		rc = srv_reply_msg(r, &resp.base);
	}
	log_info("token created", "token_id=%llu org=%llu role=%s by=%llu", (unsigned long long)id,
		 (unsigned long long)t.organization_id, perm_role_name(t.role),
		 (unsigned long long)t.created_by_token_id);
out:
	free(units);
	return rc;
}

static void revoke_committed(srv_req_t *r)
{
	/* Open connections re-check their token before their next call. */
	r->srv->token_epoch++;
}

int h_admin_revoke_token(srv_req_t *r, store_txn_t *txn)
{
	const Ospay__V1__RevokeTokenRequest *in = (const Ospay__V1__RevokeTokenRequest *)r->in;
	Ospay__V1__TokenRecord *rec = NULL;
	int rc;
	if (in->token_id == 0) {
		status_violation(&r->st, "token_id", "required");
		return 0;
	}
	rc = db_get_by_id(txn, DB_TOKENS, in->token_id, &ospay__v1__token_record__descriptor,
			  (ProtobufCMessage **)&rec);
	if (rc == 0 && rec->token == NULL)
		rc = -EBADMSG;
	if (rc == -ENOENT || (rc == 0 && rec->token->organization_id != r->sess->p.org_id)) {
		rc = srv_fail(r, ST_NOT_FOUND, "no token %llu", (unsigned long long)in->token_id);
		goto out;
	}
	if (rc != 0) {
		rc = srv_store_fail(r, rc, "token lookup");
		goto out;
	}
	Ospay__V1__Token *t = rec->token;
	if (perm_check_token_scope(&r->sess->p, t->role, t->org_wide, t->unit_ids, t->n_unit_ids,
				   &r->st) != ST_OK)
		goto out;
	if (t->revoked_ms == 0) {
		t->revoked_ms = r->now_ms;
		rc = db_put_by_id(txn, DB_TOKENS, t->id, &rec->base);
		if (rc != 0) {
			rc = srv_store_fail(r, rc, "token update");
			goto out;
		}
		r->on_commit = revoke_committed;
		log_info("token revoked", "token_id=%llu by=%llu", (unsigned long long)t->id,
			 (unsigned long long)r->sess->p.token_id);
	}
	rc = kit_reply_one(r, &ospay__v1__revoke_token_response__descriptor, &t->base);
out:
	ospay__v1__token_record__free_unpacked(rec, NULL);
	return rc;
}

/* ------------------------------------------------------------------ suspension */

int h_admin_set_suspension_profile(srv_req_t *r, store_txn_t *txn)
{
	const Ospay__V1__SetSuspensionProfileRequest *in = (const void *)r->in;
	/* Unit 0: an organization-level setting, for org-wide ADMIN tokens only. */
	if (!srv_check(r, PERM_CONFIGURE, 0))
		return 0;
	const char *why = in->days > BILLING_SUSPENSION_MAX_DAYS
				  ? "0, or 2 to 365"
				  : billing_check_suspension_days((int)in->days);
	if (why != NULL) {
		status_violation(&r->st, "days", "%s", why);
		return 0;
	}
	Ospay__V1__SuspensionProfile p = OSPAY__V1__SUSPENSION_PROFILE__INIT;
	p.days = in->days;
	p.updated_ms = r->now_ms;
	int rc = db_put_by_id(txn, DB_SUSPENSION, r->sess->p.org_id, &p.base);
	if (rc != 0)
		return srv_store_fail(r, rc, "suspension profile");
	log_info("suspension profile set", "days=%u by=%" PRIu64, in->days, r->sess->p.token_id);
	return kit_reply_one(r, &ospay__v1__set_suspension_profile_response__descriptor, &p.base);
}

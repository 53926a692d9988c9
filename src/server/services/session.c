/* The Session service: Hello, the first call of every connection. */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "common/log.h"
#include "ospay/v1/admin.pb-c.h"
#include "ospay/v1/records.pb-c.h"
#include "ospay/v1/session.pb-c.h"
#include "server/db/db.h"
#include "server/rpc/kit.h"
#include "server/rpc/token.h"
#include "server/services/services.h"

static int session_adopt(srv_session_t *sess, const Ospay__V1__Token *t)
{
	uint64_t *units = NULL;
	if (t->n_unit_ids > 0) {
		units = malloc(t->n_unit_ids * sizeof(*units));
		if (units == NULL)
			return -ENOMEM;
		memcpy(units, t->unit_ids, t->n_unit_ids * sizeof(*units));
		/* Stored sorted by CreateToken; perm_sees_unit relies on it. */
	}
	free(sess->units);
	sess->units = units;
	sess->p.org_id = t->organization_id;
	sess->p.token_id = t->id;
	sess->p.role = t->role;
	sess->p.org_wide = t->org_wide;
	sess->p.unit_ids = units;
	sess->p.n_units = t->n_unit_ids;
	sess->authed = true;
	return 0;
}

int services_session_auth(srv_t *s, store_txn_t *txn, const char *token, srv_session_t *sess,
			  status_t *st, Ospay__V1__TokenRecord **rec_out)
{
	Ospay__V1__TokenRecord *rec = NULL;
	int rc = 0;
	size_t n = strlen(token);
	if (n == 0 || n > SRV_TOKEN_MAX ||
	    strncmp(token, SRV_TOKEN_PREFIX, strlen(SRV_TOKEN_PREFIX)) != 0) {
		status_set(st, ST_UNAUTHENTICATED, "invalid token");
		goto out;
	}
	uint8_t hash[32];
	srv_token_hash(s->token_key, token, hash);
	rc = db_token_by_hash(txn, hash, &rec);
	if (rc == -ENOENT) {
		rc = 0;
		status_set(st, ST_UNAUTHENTICATED, "invalid token");
		goto out;
	}
	if (rc != 0)
		goto out;
	if (rec->token == NULL) {
		rc = -EBADMSG;
		goto out;
	}
	if (rec->token->revoked_ms != 0) {
		status_set(st, ST_UNAUTHENTICATED, "token revoked");
		goto out;
	}
	rc = session_adopt(sess, rec->token);
	if (rc != 0)
		goto out;
	sess->epoch = s->token_epoch;
	if (rec_out != NULL) {
		*rec_out = rec;
		rec = NULL;
	}
out:
	ospay__v1__token_record__free_unpacked(rec, NULL);
	return rc;
}

int h_session_hello(srv_req_t *r, store_txn_t *txn)
{
	const Ospay__V1__HelloRequest *in = (const Ospay__V1__HelloRequest *)r->in;
	Ospay__V1__TokenRecord *rec = NULL;
	Ospay__V1__Organization *org = NULL;
	int rc;
	/* Any failure here closes the connection: no guessing tokens on one socket. */
	r->reply_flags = RPC_REPLY_CLOSE;
	rc = services_session_auth(r->srv, txn, in->token, r->sess, &r->st, &rec);
	if (rc != 0) {
		rc = srv_store_fail(r, rc, "token lookup");
		goto out;
	}
	if (!srv_ok(r))
		goto out;
	rc = db_get_by_id(txn, DB_ORGS, rec->token->organization_id,
			  &ospay__v1__organization__descriptor, (ProtobufCMessage **)&org);
	if (rc != 0) {
		rc = srv_store_fail(r, rc, "organization lookup");
		goto out;
	}
	r->reply_flags = 0;
	Ospay__V1__Principal p = OSPAY__V1__PRINCIPAL__INIT;
	p.organization = org;
	p.token = rec->token;
	Ospay__V1__HelloResponse resp = OSPAY__V1__HELLO_RESPONSE__INIT;
	resp.principal = &p;
	resp.server_version = OSPAY_VERSION;
	resp.server_time_ms = r->now_ms;
	rc = srv_reply_msg(r, &resp.base);
out:
	ospay__v1__token_record__free_unpacked(rec, NULL);
	ospay__v1__organization__free_unpacked(org, NULL);
	return rc;
}

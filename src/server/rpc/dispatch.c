/*
 * From a decoded RpcRequest to a reply: method lookup, Hello-first, token
 * revocation, body decoding, idempotency keys, and the read or group-commit
 * write path.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/log.h"
#include "common/util.h"
#include "ospay/v1/admin.pb-c.h"
#include "ospay/v1/agendas.pb-c.h"
#include "ospay/v1/cards.pb-c.h"
#include "ospay/v1/clock.pb-c.h"
#include "ospay/v1/customers.pb-c.h"
#include "ospay/v1/orders.pb-c.h"
#include "ospay/v1/records.pb-c.h"
#include "ospay/v1/session.pb-c.h"
#include "server/db/db.h"
#include "server/rpc/srv.h"

#define HELLO_METHOD "ospay.v1.Session/Hello"

/* ------------------------------------------------------------------ helpers */

int64_t srv_now_ms(const srv_t *s)
{
	return s->opts.test_clock ? s->clock_ms : util_wall_ms();
}

static int pack_into(buf_t *b, const ProtobufCMessage *m)
{
	size_t n = protobuf_c_message_get_packed_size(m);
	b->len = 0;
	int rc = buf_reserve(b, n, SIZE_MAX / 2);
	if (rc != 0)
		return rc;
	protobuf_c_message_pack(m, b->data);
	b->len = n;
	return 0;
}

int srv_reply_msg(srv_req_t *r, const ProtobufCMessage *m)
{
	return pack_into(&r->out, m);
}

int srv_replay_msg(srv_req_t *r, const ProtobufCMessage *m)
{
	r->has_replay = true;
	return pack_into(&r->replay, m);
}

int srv_fail(srv_req_t *r, int code, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(r->st.message, sizeof(r->st.message), fmt, ap);
	va_end(ap);
	r->st.code = code;
	return code;
}

int srv_check(srv_req_t *r, enum perm_action action, uint64_t unit_id)
{
	return perm_check(&r->sess->p, action, r->sess->p.org_id, unit_id, &r->st);
}

int srv_store_fail(srv_req_t *r, int rc, const char *what)
{
	if (rc == -ENOSPC || rc == -EFBIG)
		return rc; /* the store grows the map and reruns the handler */
	log_error("store error", "what=\"%s\" err=%d method=%s", what, rc, r->method->name);
	return srv_fail(r, ST_INTERNAL, "storage error");
}

/* Clears the top-level strings of an async request (a card number, a security code). */
static void wipe_strings(ProtobufCMessage *m)
{
	const ProtobufCMessageDescriptor *d = m->descriptor;
	for (unsigned i = 0; i < d->n_fields; i++) {
		const ProtobufCFieldDescriptor *f = &d->fields[i];
		if (f->type != PROTOBUF_C_TYPE_STRING || f->label == PROTOBUF_C_LABEL_REPEATED)
			continue;
		char *str = *(char **)((uint8_t *)m + f->offset);
		if (str != NULL && str != f->default_value)
			crypto_wipe(str, strlen(str));
	}
}

static void req_free(srv_req_t *r)
{
	if (list_linked(&r->async_link))
		list_remove(&r->async_link);
	if (r->async_free != NULL)
		r->async_free(r->async_arg);
	if (r->method->flags & SRV_M_ASYNC) {
		free(r->own_sess.units);
		if (r->in != NULL)
			wipe_strings(r->in);
	}
	if (r->in != NULL)
		protobuf_c_message_free_unpacked(r->in, NULL);
	buf_free(&r->out);
	buf_free(&r->replay);
	free(r);
}

void srv_count_call(srv_t *s, int code)
{
	if (code >= 0 && code < SRV_STATUS_CODES)
		s->calls_by_code[code]++;
}

/* Sends r's outcome and frees it. */
static void req_finish(srv_req_t *r)
{
	srv_count_call(r->srv, r->st.code);
	https_hist_observe(&r->srv->rpc_latency, (uv_hrtime() - r->start_ns) / 1000);
	if (r->st.code == ST_OK)
		rpc_call_reply(r->call, NULL, r->out.data, r->out.len, r->reply_flags);
	else
		rpc_call_reply(r->call, &r->st, NULL, 0, r->reply_flags);
	req_free(r);
}

/* Maps a handler's negative errno to a status (the handler did not set one). */
static void req_status_from_rc(srv_req_t *r, int rc)
{
	if (rc < 0 && r->st.code == ST_OK) {
		log_error("handler failed", "method=%s err=%d", r->method->name, rc);
		srv_fail(r, ST_INTERNAL, "internal error");
	} else if (rc > 0 && r->st.code == ST_OK) {
		r->st.code = rc;
	}
}

/* ------------------------------------------------------------------ sessions */

void srv_session_gone(rpc_conn_t *conn, void *data, void *udata)
{
	srv_session_t *sess = data;
	(void)conn;
	(void)udata;
	if (sess != NULL) {
		free(sess->units);
		free(sess);
	}
}

/* After a revocation, a connection's token is looked at again before its next call. */
static int session_revalidate(srv_t *s, srv_session_t *sess, status_t *st)
{
	store_txn_t *txn;
	int rc = store_read_begin(s->store, &txn);
	if (rc != 0)
		return status_set(st, ST_UNAVAILABLE, "storage unavailable");
	Ospay__V1__TokenRecord *rec = NULL;
	rc = db_get_by_id(txn, DB_TOKENS, sess->p.token_id, &ospay__v1__token_record__descriptor,
			  (ProtobufCMessage **)&rec);
	int code = ST_OK;
	if (rc != 0 || rec->token == NULL || rec->token->revoked_ms != 0)
		code = status_set(st, ST_UNAUTHENTICATED, "token revoked");
	else
		sess->epoch = s->token_epoch;
	if (rec != NULL)
		ospay__v1__token_record__free_unpacked(rec, NULL);
	store_read_end(txn);
	return code;
}

/* ------------------------------------------------------------------ idempotency */

static size_t idem_key(const srv_req_t *r, uint8_t *k)
{
	be64_put(k, r->sess->p.token_id);
	memcpy(k + 8, r->idem_key, r->idem_len);
	return 8 + r->idem_len;
}

/* 1: a stored reply was found and put in r->out; 0: run the handler; >1: status. */
static int idem_lookup(srv_req_t *r, store_txn_t *txn)
{
	uint8_t k[8 + DB_IDEM_KEY_MAX];
	size_t klen = idem_key(r, k);
	Ospay__V1__IdempotencyRecord *rec = NULL;
	int rc = db_get_msg(txn, DB_IDEM, k, klen, &ospay__v1__idempotency_record__descriptor,
			    (ProtobufCMessage **)&rec);
	if (rc == -ENOENT)
		return 0;
	if (rc != 0)
		return srv_store_fail(r, rc, "idempotency lookup");
	int out = 0;
	if (rec->created_ms + (int64_t)r->srv->opts.idem_ttl_ms <= r->now_ms) {
		out = 0; /* expired: the key is free again */
	} else if (rec->request_hash.len != 32 ||
		   !crypto_equal(rec->request_hash.data, r->req_hash, 32)) {
		out = srv_fail(r, ST_FAILED_PRECONDITION,
			       "idempotency key was used with a different request");
	} else {
		r->out.len = 0;
		if (buf_append(&r->out, rec->response_body.data, rec->response_body.len,
			       SIZE_MAX / 2) != 0)
			out = -ENOMEM;
		else
			out = 1;
	}
	ospay__v1__idempotency_record__free_unpacked(rec, NULL);
	return out;
}

static int idem_store(srv_req_t *r, store_txn_t *txn)
{
	uint8_t k[8 + DB_IDEM_KEY_MAX], tk[8 + 8 + DB_IDEM_KEY_MAX];
	size_t klen = idem_key(r, k);
	Ospay__V1__IdempotencyRecord rec = OSPAY__V1__IDEMPOTENCY_RECORD__INIT;
	rec.request_hash.data = r->req_hash;
	rec.request_hash.len = 32;
	rec.created_ms = r->now_ms;
	const buf_t *body = r->has_replay ? &r->replay : &r->out;
	rec.response_body.data = body->data;
	rec.response_body.len = body->len;
	int rc = db_put_msg(txn, DB_IDEM, k, klen, &rec.base, 0);
	if (rc != 0)
		return rc;
	be64_put_i64(tk, r->now_ms);
	memcpy(tk + 8, k, klen);
	return store_put(txn, DB_IDEM_BY_TIME, tk, 8 + klen, "", 0, 0);
}

/* ------------------------------------------------------------------ write path */

static int write_fn(store_txn_t *txn, void *arg)
{
	srv_req_t *r = arg;
	/* May run again after the map grows: start from a clean slate. */
	status_clear(&r->st);
	r->out.len = 0;
	r->has_replay = false;
	r->idem_hit = false;
	int rc;
	if (r->idem_len > 0) {
		rc = idem_lookup(r, txn);
		if (rc == 1) {
			r->idem_hit = true;
			return 0;
		}
		if (rc != 0)
			return rc;
	}
	rc = (r->finish != NULL ? r->finish : r->method->fn)(r, txn);
	if (rc != 0)
		return rc;
	if (r->idem_len > 0) {
		rc = idem_store(r, txn);
		if (rc != 0)
			return srv_store_fail(r, rc, "idempotency store");
	}
	return 0;
}

static void write_done(void *arg, int rc)
{
	srv_req_t *r = arg;
	if (rc != 0) {
		log_error("commit failed", "method=%s err=%d", r->method->name, rc);
		status_clear(&r->st);
		srv_fail(r, ST_UNAVAILABLE,
			 "the change could not be made durable; nothing was done");
	} else if (!r->idem_hit && r->on_commit != NULL) {
		r->on_commit(r);
	}
	req_finish(r);
}

/* ------------------------------------------------------------------ async path */

void srv_async_finish(srv_req_t *r, srv_handler_fn fn)
{
	r->finish = fn;
	int rc = store_write(r->srv->store, write_fn, write_done, r);
	if (rc != 0) {
		req_status_from_rc(r, rc);
		req_finish(r);
	}
}

void srv_async_fail(srv_req_t *r, int code, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(r->st.message, sizeof(r->st.message), fmt, ap);
	va_end(ap);
	r->st.code = code;
	req_finish(r);
}

/* True when another call of this token with this idempotency key is pending. */
static bool async_in_progress(const srv_req_t *r)
{
	list_node_t *pos, *tmp;
	list_for_each_safe(pos, tmp, &r->srv->async_reqs)
	{
		const srv_req_t *o = container_of(pos, srv_req_t, async_link);
		if (o->sess->p.token_id == r->sess->p.token_id && o->idem_len == r->idem_len &&
		    memcmp(o->idem_key, r->idem_key, r->idem_len) == 0)
			return true;
	}
	return false;
}

/* An SRV_M_ASYNC call: idempotency first, then the handler in a read snapshot. */
static void dispatch_async(srv_t *s, srv_req_t *r, Ospay__V1__RpcRequest *req, size_t klen)
{
	/* The connection's session may be freed before the call ends: keep a copy. */
	r->own_sess = *r->sess;
	r->own_sess.units = NULL;
	if (r->sess->p.n_units > 0) {
		r->own_sess.units = malloc(r->sess->p.n_units * sizeof(uint64_t));
		if (r->own_sess.units == NULL) {
			srv_fail(r, ST_RESOURCE_EXHAUSTED, "out of memory");
			goto finish;
		}
		memcpy(r->own_sess.units, r->sess->p.unit_ids,
		       r->sess->p.n_units * sizeof(uint64_t));
	}
	r->own_sess.p.unit_ids = r->own_sess.units;
	r->sess = &r->own_sess;
	if (klen > 0) {
		r->idem_key = req->idempotency_key;
		r->idem_len = klen;
		/* Keyed: a plain hash of a body holding a card number could be brute-forced. */
		uint8_t plain[32];
		crypto_sha256(req->method, strlen(req->method) + 1, req->body.data, req->body.len,
			      plain);
		crypto_hmac_sha256(s->token_key, CRYPTO_KEY_LEN, plain, sizeof(plain), r->req_hash);
		crypto_wipe(plain, sizeof(plain));
	}
	crypto_wipe(req->body.data, req->body.len);
	if (klen > 0 && async_in_progress(r)) {
		srv_fail(r, ST_ABORTED,
			 "a call with this idempotency key is still in progress; try again");
		goto finish;
	}
	store_txn_t *txn;
	int rc = store_read_begin(s->store, &txn);
	if (rc != 0) {
		srv_fail(r, ST_UNAVAILABLE, "storage unavailable");
		goto finish;
	}
	if (klen > 0) {
		rc = idem_lookup(r, txn);
		if (rc != 0) {
			store_read_end(txn);
			if (rc < 0)
				req_status_from_rc(r, rc);
			goto finish; /* 1: the stored reply is in r->out */
		}
	}
	rc = r->method->fn(r, txn);
	store_read_end(txn);
	if (rc == SRV_PENDING || rc == SRV_WRITE_NOW) {
		if (klen > 0)
			list_insert_tail(&s->async_reqs, &r->async_link);
		/* After the insert: a failing store_write finishes (and unlinks) r at once. */
		if (rc == SRV_WRITE_NOW)
			srv_async_finish(r, r->finish);
		return;
	}
	req_status_from_rc(r, rc);
finish:
	req_finish(r);
}

/* ------------------------------------------------------------------ dispatch */

static void reply_status(srv_t *s, rpc_call_t *call, int code, const char *msg, unsigned flags)
{
	srv_count_call(s, code);
	status_t st;
	status_clear(&st);
	status_set(&st, code, "%s", msg);
	rpc_call_reply(call, &st, NULL, 0, flags);
}

void srv_dispatch(rpc_call_t *call, void *udata)
{
	srv_t *s = udata;
	const Ospay__V1__RpcRequest *req = rpc_call_request(call);
	rpc_conn_t *conn = rpc_call_conn(call);
	srv_session_t *sess = rpc_conn_get_data(conn);
	if (sess == NULL) {
		sess = calloc(1, sizeof(*sess));
		if (sess == NULL) {
			reply_status(s, call, ST_RESOURCE_EXHAUSTED, "out of memory",
				     RPC_REPLY_CLOSE);
			return;
		}
		rpc_conn_set_data(conn, sess);
	}
	const srv_method_t *m = s->method_find(req->method);
	bool is_hello = m != NULL && (m->flags & SRV_M_NOAUTH);
	if (!sess->authed && !is_hello) {
		reply_status(s, call, ST_UNAUTHENTICATED, "the first call must be " HELLO_METHOD,
			     RPC_REPLY_CLOSE);
		return;
	}
	if (s->draining) {
		reply_status(s, call, ST_UNAVAILABLE, "server is shutting down", 0);
		return;
	}
	if (req->method[0] == '\0') {
		status_t st;
		status_clear(&st);
		status_violation(&st, "method", "required: \"ospay.v1.<Service>/<Method>\"");
		rpc_call_reply(call, &st, NULL, 0, 0);
		return;
	}
	if (m == NULL) {
		char msg[160];
		snprintf(msg, sizeof(msg), "unknown method \"%.100s\"", req->method);
		reply_status(s, call, ST_UNIMPLEMENTED, msg, 0);
		return;
	}
	if (is_hello && sess->authed) {
		reply_status(s, call, ST_FAILED_PRECONDITION,
			     "Hello was already said on this connection", 0);
		return;
	}
	if (sess->authed && sess->epoch != s->token_epoch) {
		status_t st;
		status_clear(&st);
		if (session_revalidate(s, sess, &st) != ST_OK) {
			rpc_call_reply(call, &st, NULL, 0, RPC_REPLY_CLOSE);
			return;
		}
	}
	size_t klen = strlen(req->idempotency_key);
	if (klen > DB_IDEM_KEY_MAX) {
		status_t st;
		status_clear(&st);
		status_violation(&st, "idempotency_key", "at most %d bytes", DB_IDEM_KEY_MAX);
		rpc_call_reply(call, &st, NULL, 0, 0);
		return;
	}
	srv_req_t *r = calloc(1, sizeof(*r));
	if (r == NULL) {
		reply_status(s, call, ST_RESOURCE_EXHAUSTED, "out of memory", 0);
		return;
	}
	list_init(&r->async_link);
	r->srv = s;
	r->start_ns = uv_hrtime();
	r->call = call;
	r->method = m;
	r->sess = sess;
	r->now_ms = srv_now_ms(s);
	status_clear(&r->st);
	/* Before Hello, any failure closes the connection (docs/spec.md 3). */
	if (!sess->authed)
		r->reply_flags = RPC_REPLY_CLOSE;
	r->in = protobuf_c_message_unpack(m->in, NULL, req->body.len, req->body.data);
	if (r->in == NULL) {
		if (m->flags & SRV_M_ASYNC)
			crypto_wipe(req->body.data, req->body.len);
		srv_fail(r, ST_INVALID_ARGUMENT, "request body is not a valid %s", m->in->name);
		req_finish(r);
		return;
	}
	if (m->flags & SRV_M_ASYNC) {
		dispatch_async(s, r, (Ospay__V1__RpcRequest *)req, klen);
		return;
	}
	if (m->flags & SRV_M_WRITE) {
		if (klen > 0) {
			r->idem_key = req->idempotency_key;
			r->idem_len = klen;
			crypto_sha256(req->method, strlen(req->method) + 1, req->body.data,
				      req->body.len, r->req_hash);
		}
		int rc = store_write(s->store, write_fn, write_done, r);
		if (rc != 0) {
			req_status_from_rc(r, rc);
			req_finish(r);
		}
		return;
	}
	store_txn_t *txn;
	int rc = store_read_begin(s->store, &txn);
	if (rc != 0) {
		srv_fail(r, ST_UNAVAILABLE, "storage unavailable");
		req_finish(r);
		return;
	}
	rc = m->fn(r, txn);
	store_read_end(txn);
	req_status_from_rc(r, rc);
	req_finish(r);
}

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
	status_vset(&r->st, code, fmt, ap);
	va_end(ap);
	return 0;
}

bool srv_check(srv_req_t *r, enum perm_action action, uint64_t unit_id)
{
	return perm_check(&r->sess->p, action, r->sess->p.org_id, unit_id, &r->st) == ST_OK;
}

int srv_store_fail(srv_req_t *r, int rc, const char *what)
{
	if (rc == -ENOSPC || rc == -EFBIG)
		return rc; /* the store grows the map and reruns the handler */
	log_error("store error", "what=\"%s\" err=%d method=%s", what, rc, r->method->name);
	return srv_fail(r, ST_INTERNAL, "storage error");
}

void srv_pend(srv_req_t *r)
{
	r->pending = true;
}

void srv_pend_owning(srv_req_t *r, void *arg, void (*free_fn)(void *arg))
{
	r->async_arg = arg;
	r->async_free = free_fn;
	srv_pend(r);
}

void srv_write_now(srv_req_t *r, srv_handler_fn fn)
{
	r->finish = fn;
	r->write_now = true;
}

void srv_wipe_strings(ProtobufCMessage *m)
{
	const ProtobufCMessageDescriptor *d = m->descriptor;
	for (unsigned i = 0; i < d->n_fields; i++) {
		const ProtobufCFieldDescriptor *f = &d->fields[i];
		void *at = (uint8_t *)m + f->offset;
		size_t n = 1;
		void **items = at;
		if (f->label == PROTOBUF_C_LABEL_REPEATED) {
			n = *(size_t *)((uint8_t *)m + f->quantifier_offset);
			items = *(void ***)at;
		}
		for (size_t j = 0; j < n && items != NULL; j++) {
			if (f->type == PROTOBUF_C_TYPE_STRING && items[j] != NULL &&
			    items[j] != f->default_value)
				crypto_wipe(items[j], strlen(items[j]));
			else if (f->type == PROTOBUF_C_TYPE_MESSAGE && items[j] != NULL)
				srv_wipe_strings(items[j]);
		}
	}
}

int srv_keep(srv_req_t *r, void *mp)
{
	ProtobufCMessage **m = mp;
	if (*m == NULL)
		return 0;
	if (r->n_kept == SRV_KEPT_MAX) {
		protobuf_c_message_free_unpacked(*m, NULL);
		*m = NULL;
		return -ENOMEM;
	}
	r->kept[r->n_kept++] = *m;
	return 0;
}

void srv_release_kept(srv_req_t *r, unsigned from)
{
	while (r->n_kept > from)
		protobuf_c_message_free_unpacked(r->kept[--r->n_kept], NULL);
}

static void req_free(srv_req_t *r)
{
	srv_release_kept(r, 0);
	if (list_linked(&r->async_link))
		list_remove(&r->async_link);
	if (r->async_free != NULL)
		r->async_free(r->async_arg);
	if (r->method->flags & SRV_M_ASYNC)
		free(r->own_sess.units);
	if (srv_method_has_secrets(r->method) && r->in != NULL)
		srv_wipe_strings(r->in);
	protobuf_c_message_free_unpacked(r->in, NULL);
	buf_free(&r->out);
	buf_free(&r->replay);
	crypto_wipe(r, sizeof(*r));
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
	if (r->reply != NULL)
		r->reply(r);
	else if (srv_ok(r))
		rpc_call_reply(r->call, NULL, r->out.data, r->out.len, r->reply_flags);
	else
		rpc_call_reply(r->call, &r->st, NULL, 0, r->reply_flags);
	req_free(r);
}

/* A handler's (or the store's) errno the handler did not describe: INTERNAL. */
static void req_status_from_rc(srv_req_t *r, int rc)
{
	if (rc != 0 && srv_ok(r)) {
		log_error("handler failed", "method=%s err=%d", r->method->name, rc);
		srv_fail(r, ST_INTERNAL, "internal error");
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

/*
 * The reply stored for r's idempotency key: *hit with it in r->out, or a
 * refusal in r->st (the key was used with another request), or neither (run
 * the handler). 0 or a negative errno.
 */
/*
 * The stored request hash of a call with an idempotency key: keyed (HMAC
 * under the token key, derived from the master key), as a plain hash of a
 * body holding a card number or a gateway secret could be guessed offline.
 * legacy keeps the plain hash too, to recognize a write's record stored
 * before the keyed hash (async calls were always keyed).
 */
static void req_hash(const srv_t *s, srv_req_t *r, const uint8_t *body, size_t len, bool legacy)
{
	uint8_t plain[32];
	const char *name = r->method->name;
	crypto_sha256(name, strlen(name) + 1, body, len, plain);
	crypto_hmac_sha256(s->token_key, CRYPTO_KEY_LEN, plain, sizeof(plain), r->req_hash);
	if (legacy)
		memcpy(r->req_hash_plain, plain, sizeof(plain));
	crypto_wipe(plain, sizeof(plain));
}

static int idem_lookup(srv_req_t *r, store_txn_t *txn, bool *hit)
{
	uint8_t k[8 + DB_IDEM_KEY_MAX];
	size_t klen = idem_key(r, k);
	Ospay__V1__IdempotencyRecord *rec = NULL;
	*hit = false;
	int rc = db_get_msg(txn, DB_IDEM, k, klen, &ospay__v1__idempotency_record__descriptor,
			    (ProtobufCMessage **)&rec);
	if (rc == -ENOENT)
		return 0;
	if (rc != 0)
		return srv_store_fail(r, rc, "idempotency lookup");
	if (rec->created_ms + (int64_t)r->srv->opts.idem_ttl_ms <= r->now_ms) {
		/* expired: the key is free again */
	} else if (rec->request_hash.len != 32 ||
		   (!crypto_equal(rec->request_hash.data, r->req_hash, 32) &&
		    ((r->method->flags & SRV_M_ASYNC) ||
		     !crypto_equal(rec->request_hash.data, r->req_hash_plain, 32)))) {
		/* A plain SHA-256 is a write's record from before the keyed hash: still
		 * recognized until it expires (idem_ttl_ms), never written again. */
		srv_fail(r, ST_FAILED_PRECONDITION,
			 "idempotency key was used with a different request");
	} else {
		r->out.len = 0;
		rc = buf_append(&r->out, rec->response_body.data, rec->response_body.len,
				SIZE_MAX / 2);
		*hit = rc == 0;
	}
	ospay__v1__idempotency_record__free_unpacked(rec, NULL);
	return rc;
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

/* What write_fn answers to discard a refused write: not 0 (store.h), not an errno. */
#define WRITE_REFUSED 1

static int write_fn(store_txn_t *txn, void *arg)
{
	srv_req_t *r = arg;
	/* May run again after the map grows: start from a clean slate. */
	srv_release_kept(r, r->kept_mark);
	status_clear(&r->st);
	r->out.len = 0;
	r->has_replay = false;
	r->idem_hit = false;
	int rc = 0;
	if (r->idem_len > 0)
		rc = idem_lookup(r, txn, &r->idem_hit);
	if (rc == 0 && srv_ok(r) && !r->idem_hit)
		rc = (r->finish != NULL ? r->finish : r->method->fn)(r, txn);
	if (rc == 0 && srv_ok(r) && !r->idem_hit && r->idem_len > 0) {
		rc = idem_store(r, txn);
		if (rc != 0)
			rc = srv_store_fail(r, rc, "idempotency store");
	}
	/* A refused call keeps none of what its handler wrote. */
	if (rc == 0 && !srv_ok(r))
		rc = WRITE_REFUSED;
	return rc;
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

/* Runs r's handler (or r->finish) in the write batch; the reply follows the commit. */
static void req_write(srv_req_t *r)
{
	r->kept_mark = r->n_kept;
	int rc = store_write(r->srv->store, write_fn, write_done, r);
	/* The store itself refuses writes (map at its limit, read-only, I/O): /healthz says so. */
	if (rc == -ENOSPC || rc == -EROFS || rc == -EIO)
		r->srv->store_err = rc;
	if (rc != 0) {
		req_status_from_rc(r, rc);
		req_finish(r);
	}
}

/* ------------------------------------------------------------------ async path */

void srv_async_finish(srv_req_t *r, srv_handler_fn fn)
{
	r->finish = fn;
	req_write(r);
}

void srv_async_fail(srv_req_t *r, int code, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	status_vset(&r->st, code, fmt, ap);
	va_end(ap);
	req_finish(r);
}

/* True when another call of this token with this idempotency key is pending. */
static bool async_in_progress(const srv_req_t *r)
{
	list_node_t *pos, *tmp;
	list_for_each_safe(pos, tmp, &r->srv->async_reqs) {
		const srv_req_t *o = container_of(pos, srv_req_t, async_link);
		if (o->sess->p.token_id == r->sess->p.token_id && o->idem_len == r->idem_len &&
		    memcmp(o->idem_key, r->idem_key, r->idem_len) == 0)
			return true;
	}
	return false;
}

/* An SRV_M_ASYNC call: idempotency first, then the handler in a read snapshot. */
static void dispatch_async(srv_t *s, srv_req_t *r, uint8_t *body, size_t len, const char *key,
			   size_t klen)
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
		r->idem_key = key;
		r->idem_len = klen;
		req_hash(s, r, body, len, false);
	}
	crypto_wipe(body, len);
	if (klen > 0 && async_in_progress(r)) {
		srv_fail(r, ST_ABORTED,
			 "a call with this idempotency key is still in progress; try again");
		goto finish;
	}
	store_txn_t *txn;
	if (store_read_begin(s->store, &txn) != 0) {
		srv_fail(r, ST_UNAVAILABLE, "storage unavailable");
		goto finish;
	}
	bool hit = false;
	int rc = klen > 0 ? idem_lookup(r, txn, &hit) : 0;
	/* A hit's stored reply is in r->out. */
	if (rc == 0 && srv_ok(r) && !hit)
		rc = r->method->fn(r, txn);
	store_read_end(txn);
	/* Once pending, the call is the outside work's to end, whatever rc says. */
	if (r->pending || r->write_now) {
		if (klen > 0)
			list_insert_tail(&s->async_reqs, &r->async_link);
		/* After the insert: a failing store_write finishes (and unlinks) r at once. */
		if (r->write_now)
			req_write(r);
		return;
	}
	req_status_from_rc(r, rc);
finish:
	req_finish(r);
}

/* ------------------------------------------------------------------ dispatch */

/* A read call: the handler in a read snapshot, then the reply. */
static void dispatch_read(srv_req_t *r)
{
	store_txn_t *txn;
	int rc = store_read_begin(r->srv->store, &txn);
	if (rc != 0) {
		srv_fail(r, ST_UNAVAILABLE, "storage unavailable");
	} else {
		rc = r->method->fn(r, txn);
		store_read_end(txn);
		req_status_from_rc(r, rc);
	}
	req_finish(r);
}

static void reply_status(srv_t *s, rpc_call_t *call, int code, const char *msg, unsigned flags)
{
	srv_count_call(s, code);
	status_t st;
	status_clear(&st);
	status_set(&st, code, "%s", msg);
	rpc_call_reply(call, &st, NULL, 0, flags);
}

/*
 * The checks before a request is made for a call: a session, Hello first, not
 * draining, a known method, the token not revoked, the idempotency key's size.
 * The session when the call goes on; NULL when it was answered here.
 */
static srv_session_t *call_admit(srv_t *s, rpc_call_t *call, const srv_method_t *m)
{
	const Ospay__V1__RpcRequest *req = rpc_call_request(call);
	rpc_conn_t *conn = rpc_call_conn(call);
	srv_session_t *sess = rpc_conn_get_data(conn);
	if (sess == NULL) {
		sess = calloc(1, sizeof(*sess));
		if (sess == NULL) {
			reply_status(s, call, ST_RESOURCE_EXHAUSTED, "out of memory",
				     RPC_REPLY_CLOSE);
			return NULL;
		}
		rpc_conn_set_data(conn, sess);
	}
	bool is_hello = m != NULL && (m->flags & SRV_M_NOAUTH);
	if (!sess->authed && !is_hello) {
		reply_status(s, call, ST_UNAUTHENTICATED, "the first call must be " HELLO_METHOD,
			     RPC_REPLY_CLOSE);
		return NULL;
	}
	if (s->draining) {
		reply_status(s, call, ST_UNAVAILABLE, "server is shutting down", 0);
		return NULL;
	}
	status_t st;
	status_clear(&st);
	if (req->method[0] == '\0') {
		status_violation(&st, "method", "required: \"ospay.v1.<Service>/<Method>\"");
		rpc_call_reply(call, &st, NULL, 0, 0);
		return NULL;
	}
	if (m == NULL) {
		char msg[160];
		snprintf(msg, sizeof(msg), "unknown method \"%.100s\"", req->method);
		reply_status(s, call, ST_UNIMPLEMENTED, msg, 0);
		return NULL;
	}
	if (is_hello && sess->authed) {
		reply_status(s, call, ST_FAILED_PRECONDITION,
			     "Hello was already said on this connection", 0);
		return NULL;
	}
	if (sess->authed && sess->epoch != s->token_epoch &&
	    session_revalidate(s, sess, &st) != ST_OK) {
		rpc_call_reply(call, &st, NULL, 0, RPC_REPLY_CLOSE);
		return NULL;
	}
	if (strlen(req->idempotency_key) > DB_IDEM_KEY_MAX) {
		status_violation(&st, "idempotency_key", "at most %d bytes", DB_IDEM_KEY_MAX);
		rpc_call_reply(call, &st, NULL, 0, 0);
		return NULL;
	}
	return sess;
}

/* The common path of both transports, once a call is admitted: r is made, its request
 * decoded, then the async, write or read path. */
static void dispatch_req(srv_t *s, const srv_method_t *m, srv_session_t *sess, rpc_call_t *call,
			 uint8_t *body, size_t len, const char *key, void (*reply)(srv_req_t *r),
			 void *reply_arg)
{
	size_t klen = strlen(key);
	srv_req_t *r = calloc(1, sizeof(*r));
	if (r == NULL) {
		if (srv_method_has_secrets(m))
			crypto_wipe(body, len);
		if (call != NULL) {
			reply_status(s, call, ST_RESOURCE_EXHAUSTED, "out of memory", 0);
			return;
		}
		/* The other transport still gets its one answer: a request on the stack. */
		srv_req_t oom = {.srv = s, .method = m, .sess = sess, .reply_arg = reply_arg};
		srv_count_call(s, ST_RESOURCE_EXHAUSTED);
		status_set(&oom.st, ST_RESOURCE_EXHAUSTED, "out of memory");
		reply(&oom);
		return;
	}
	list_init(&r->async_link);
	r->srv = s;
	r->start_ns = uv_hrtime();
	r->call = call;
	r->reply = reply;
	r->reply_arg = reply_arg;
	r->method = m;
	r->sess = sess;
	r->now_ms = srv_now_ms(s);
	status_clear(&r->st);
	/* Before Hello, any failure closes the connection (docs/spec.md 3). */
	if (!sess->authed)
		r->reply_flags = RPC_REPLY_CLOSE;
	r->in = protobuf_c_message_unpack(m->in, NULL, len, body);
	if (r->in == NULL) {
		if (srv_method_has_secrets(m))
			crypto_wipe(body, len);
		srv_fail(r, ST_INVALID_ARGUMENT, "request body is not a valid %s", m->in->name);
		req_finish(r);
	} else if (m->flags & SRV_M_ASYNC) {
		dispatch_async(s, r, body, len, key, klen);
	} else if (m->flags & SRV_M_WRITE) {
		if (klen > 0) {
			r->idem_key = key;
			r->idem_len = klen;
			req_hash(s, r, body, len, true);
		}
		if (m->flags & SRV_M_SECRET)
			crypto_wipe(body, len);
		req_write(r);
	} else {
		dispatch_read(r);
	}
}

void srv_dispatch(rpc_call_t *call, void *udata)
{
	srv_t *s = udata;
	Ospay__V1__RpcRequest *req = (Ospay__V1__RpcRequest *)rpc_call_request(call);
	const srv_method_t *m = s->method_find(req->method);
	srv_session_t *sess = call_admit(s, call, m);
	if (sess == NULL)
		return;
	dispatch_req(s, m, sess, call, req->body.data, req->body.len, req->idempotency_key, NULL,
		     NULL);
}

void srv_dispatch_call(srv_t *s, const srv_method_t *m, srv_session_t *sess, uint8_t *body,
		       size_t len, const char *idem_key, void (*reply)(srv_req_t *r),
		       void *reply_arg)
{
	dispatch_req(s, m, sess, NULL, body, len, idem_key, reply, reply_arg);
}

/*
 * libospay's asynchronous client (docs/spec.md 3).
 *
 * Life of a client: RESOLVING (names only) -> CONNECTING -> HELLO (the Hello
 * frame is out, calls wait in `held`) -> READY -> CLOSING -> DOWN. Every way
 * out goes through client_fail(), which records why in close_st and closes the
 * TCP handle; on_tcp_closed() then answers the connect callback and every
 * pending call with that status, exactly once each.
 *
 * Two handles: `tcp`, and `flush`, a prepare handle that coalesces the frames
 * queued during one loop iteration into one write. `flush` also outlives a
 * dropped connection, so that a client the user still holds is freed by the
 * loop (in flush's close callback) when the user finally closes it.
 *
 * Who frees: until Hello succeeds the client is the library's (a failed
 * connect frees it after the callback returns); afterwards it is the user's,
 * and ospay_client_close() is the only way to release it, even after the
 * connection dropped.
 */
#include "client/lib/ospay.h"

#include <errno.h>
#include <netdb.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "client/lib/calltab.h"
#include "common/buf.h"
#include "common/util.h"
#include "net/tls.h"
#include "ospay/v1/rpc.pb-c.h"
#include "ospay/v1/session.pb-c.h"

/* docs/spec.md 3: a frame is a 4-byte length and at most 4 MiB of message. */
#define OSPAY_FRAME_HDR 4u
#define OSPAY_MAX_FRAME (4u * 1024 * 1024)
/* Output not yet taken by the kernel: held + buffered + libuv's write queue. */
#define OSPAY_MAX_QUEUED (64u * 1024 * 1024)
/* Calls in flight on one client; far above the server's own limit (1024). */
#define OSPAY_MAX_INFLIGHT 65536u
#define OSPAY_READ_CHUNK (64u * 1024)
/* An input buffer grown past this by a big frame is released once it empties. */
#define OSPAY_IN_KEEP (256u * 1024)
#define OSPAY_MAX_TOKEN 4096u
/* TLS: ciphertext read and not yet decrypted (a read plus a partial record). */
#define OSPAY_TLS_IN_LIMIT (OSPAY_READ_CHUNK + 32u * 1024)
#define OSPAY_HELLO_METHOD "ospay.v1.Session/Hello"

enum client_state {
	CL_RESOLVING,
	CL_CONNECTING,
	CL_HELLO,
	CL_READY,
	CL_CLOSING,
	CL_DOWN,
};

typedef struct pending {
	uint64_t id;
	ospay_call_cb cb;
	void *arg;
	struct pending *prev;
	struct pending *next;
} pending_t;

typedef struct wreq {
	uv_write_t req;
	buf_t data;
	bool wipe; /* holds the Hello frame, hence the token */
} wreq_t;

struct ospay_client {
	uv_loop_t *loop;
	uv_tcp_t tcp;
	uv_prepare_t flush;
	uv_getaddrinfo_t gai;
	uv_connect_t connect_req;
	enum client_state state;
	bool released;     /* nobody but the library refers to the client */
	bool resolving;    /* gai is in flight */
	bool hello_unsent; /* out starts with the Hello frame */
	bool has_notice;
	int last_connect_err;
	ospay_connect_cb connect_cb; /* NULL once run */
	void *connect_arg;
	status_t close_st; /* why the connection ended: given to everything pending */
	status_t notice;   /* a connection-level status (id 0) sent before the server closed */
	uint64_t next_id;
	uint64_t hello_id;
	buf_t in;
	buf_t out;  /* frames for the next write */
	buf_t held; /* frames of calls made before Hello succeeded */
	ospay_calltab_t calls;
	pending_t *head; /* calls in the order they were made */
	pending_t *tail;
	struct addrinfo *ai;
	struct addrinfo *ai_next; /* the next address to try */
	Ospay__V1__HelloResponse *hello;
	tls_config_t *tls_cfg; /* NULL: plain TCP */
	tls_session_t tls;     /* initialised when tls_cfg is set */
	buf_t tin;             /* TLS: ciphertext from the server */
	size_t tin_head;
	buf_t tout; /* TLS: ciphertext for the next write */
	char addr[300];
};

static void on_tcp_closed(uv_handle_t *h);
static void connect_next(ospay_client_t *c);

static void buf_wipe_free(buf_t *b)
{
	if (b->data != NULL)
		explicit_bzero(b->data, b->cap);
	buf_free(b);
}

static void client_free(ospay_client_t *c)
{
	ospay_calltab_free(&c->calls);
	buf_free(&c->in);
	buf_wipe_free(&c->out);
	buf_free(&c->held);
	if (c->tls_cfg != NULL) {
		tls_session_free(&c->tls);
		tls_config_free(c->tls_cfg);
	}
	buf_free(&c->tin);
	buf_free(&c->tout);
	if (c->ai != NULL)
		uv_freeaddrinfo(c->ai);
	ospay__v1__hello_response__free_unpacked(c->hello, NULL);
	free(c);
}

static void on_flush_closed(uv_handle_t *h)
{
	client_free(h->data);
}

/* Frees the client once the user let go of it and the connection is gone. */
static void release_check(ospay_client_t *c)
{
	if (c->released && c->state == CL_DOWN && !uv_is_closing((uv_handle_t *)&c->flush))
		uv_close((uv_handle_t *)&c->flush, on_flush_closed);
}

/* Starts closing; close_st says why. The first reason wins. */
static void client_begin_close(ospay_client_t *c)
{
	/* Until Hello succeeds the user has no client to close: the library frees it. */
	if (c->state != CL_READY)
		c->released = true;
	c->state = CL_CLOSING;
	uv_prepare_stop(&c->flush);
	if (c->resolving) {
		/*
		 * The handle is closed from on_resolved(), which runs whether or
		 * not the cancel wins, so nothing refers to the client after free.
		 */
		uv_cancel((uv_req_t *)&c->gai);
	} else if (!uv_is_closing((uv_handle_t *)&c->tcp)) {
		uv_close((uv_handle_t *)&c->tcp, on_tcp_closed);
	}
}

__attribute__((format(printf, 3, 4))) static void client_fail(ospay_client_t *c, int code,
							      const char *fmt, ...)
{
	if (c->state >= CL_CLOSING)
		return;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(c->close_st.message, sizeof(c->close_st.message), fmt, ap);
	va_end(ap);
	c->close_st.code = code;
	c->close_st.n_violations = 0;
	client_begin_close(c);
}

static void client_fail_st(ospay_client_t *c, const status_t *st)
{
	if (c->state >= CL_CLOSING)
		return;
	c->close_st = *st;
	client_begin_close(c);
}

/* The server dropped us: say so, with its last word when it sent one. */
static void client_fail_dropped(ospay_client_t *c, int err)
{
	if (c->has_notice)
		client_fail(c, ST_UNAVAILABLE, "connection closed by server: %s: %s",
			    status_code_name(c->notice.code), c->notice.message);
	else if (err == UV_EOF)
		client_fail(c, ST_UNAVAILABLE, "connection closed by server");
	else
		client_fail(c, ST_UNAVAILABLE, "connection to %s lost: %s", c->addr,
			    uv_strerror(err));
}

static void status_from_pb(status_t *st, const Ospay__V1__Status *s)
{
	status_clear(st);
	if (s == NULL)
		return;
	st->code = s->code;
	snprintf(st->message, sizeof(st->message), "%s", s->message ? s->message : "");
	for (size_t i = 0; i < s->n_violations && st->n_violations < STATUS_MAX_VIOLATIONS; i++) {
		const Ospay__V1__FieldViolation *v = s->violations[i];
		if (v == NULL)
			continue;
		status_violation_t *o = &st->violations[st->n_violations++];
		snprintf(o->field, sizeof(o->field), "%s", v->field ? v->field : "");
		snprintf(o->description, sizeof(o->description), "%s",
			 v->description ? v->description : "");
	}
}

/* Appends one RpcRequest frame to b, growing it to at most limit bytes. */
static int frame_append(buf_t *b, size_t limit, uint64_t id, const char *method, const void *body,
			size_t len, const ospay_call_opts_t *opts)
{
	Ospay__V1__RpcRequest rq = OSPAY__V1__RPC_REQUEST__INIT;
	int rc = 0;
	rq.id = id;
	rq.method = (char *)method;
	rq.body.data = (uint8_t *)body;
	rq.body.len = len;
	if (opts != NULL) {
		if (opts->idempotency_key != NULL)
			rq.idempotency_key = (char *)opts->idempotency_key;
		rq.deadline_ms = opts->deadline_ms;
	}
	size_t n = ospay__v1__rpc_request__get_packed_size(&rq);
	if (n > OSPAY_MAX_FRAME) {
		rc = -EMSGSIZE;
		goto out;
	}
	rc = buf_reserve(b, OSPAY_FRAME_HDR + n, limit);
	if (rc == -E2BIG)
		rc = -ENOBUFS;
	if (rc < 0)
		goto out;
	be32_put(b->data + b->len, (uint32_t)n);
	ospay__v1__rpc_request__pack(&rq, b->data + b->len + OSPAY_FRAME_HDR);
	b->len += OSPAY_FRAME_HDR + n;
out:
	return rc;
}

/* How far b may grow before the client's output exceeds its cap. */
static size_t queue_limit(const ospay_client_t *c, const buf_t *b)
{
	size_t queued = c->held.len + c->out.len;
	if (c->state == CL_HELLO || c->state == CL_READY)
		queued += uv_stream_get_write_queue_size((const uv_stream_t *)&c->tcp);
	return queued >= OSPAY_MAX_QUEUED ? b->len : b->len + (OSPAY_MAX_QUEUED - queued);
}

static int hello_frame(ospay_client_t *c, const char *token)
{
	Ospay__V1__HelloRequest hr = OSPAY__V1__HELLO_REQUEST__INIT;
	uint8_t *body = NULL;
	size_t n = 0;
	int rc = 0;
	hr.token = (char *)token;
	n = ospay__v1__hello_request__get_packed_size(&hr);
	body = malloc(n ? n : 1);
	if (body == NULL) {
		rc = -ENOMEM;
		goto out;
	}
	ospay__v1__hello_request__pack(&hr, body);
	rc = frame_append(&c->out, OSPAY_FRAME_HDR + OSPAY_MAX_FRAME, c->hello_id,
			  OSPAY_HELLO_METHOD, body, n, NULL);
	c->hello_unsent = rc == 0;
out:
	if (body != NULL) {
		explicit_bzero(body, n);
		free(body);
	}
	return rc;
}

static void pending_unlink(ospay_client_t *c, pending_t *p)
{
	if (p->prev != NULL)
		p->prev->next = p->next;
	else
		c->head = p->next;
	if (p->next != NULL)
		p->next->prev = p->prev;
	else
		c->tail = p->prev;
	p->prev = p->next = NULL;
}

/* Answers one call and forgets it; the callback may close the client. */
static void call_finish(ospay_client_t *c, pending_t *p, const status_t *st, const uint8_t *body,
			size_t len)
{
	ospay_calltab_remove(&c->calls, p->id);
	pending_unlink(c, p);
	if (st->code != ST_OK) {
		body = NULL;
		len = 0;
	}
	p->cb(c, st, body, len, p->arg);
	free(p);
}

static void on_tcp_closed(uv_handle_t *h)
{
	ospay_client_t *c = h->data;
	ospay_connect_cb cb = c->connect_cb;
	c->state = CL_DOWN;
	c->connect_cb = NULL;
	if (cb != NULL)
		cb(c, &c->close_st, c->connect_arg);
	/* Pop one at a time: a callback may close the client or try new calls. */
	while (c->head != NULL)
		call_finish(c, c->head, &c->close_st, NULL, 0);
	release_check(c);
}

static void on_written(uv_write_t *req, int status)
{
	wreq_t *w = container_of(req, wreq_t, req);
	ospay_client_t *c = req->handle->data;
	if (w->wipe)
		buf_wipe_free(&w->data);
	else
		buf_free(&w->data);
	free(w);
	if (status < 0 && status != UV_ECANCELED)
		client_fail_dropped(c, status);
}

/* A failed TLS handshake or record, said for people. */
static void client_tls_fail(ospay_client_t *c, int rc)
{
	const char *why = tls_session_verify_reason(&c->tls);
	if (c->tls.handshake_done)
		client_fail(c, ST_UNAVAILABLE, "TLS error with %s (%d)", c->addr, rc);
	else
		client_fail(c, ST_UNAVAILABLE, "TLS handshake with %s failed: %s", c->addr,
			    why != NULL ? why : "not a TLS server, or no common protocol");
}

/*
 * TLS: advances the handshake and, once it is done, encrypts the queued frames
 * into tout. The plaintext is wiped as it is taken (the Hello frame holds the
 * token). 0, or a negative errno after client_fail.
 */
static int client_tls_encrypt(ospay_client_t *c)
{
	int rc = tls_session_handshake(&c->tls);
	if (rc == TLS_WANT_READ || rc == TLS_WANT_WRITE) {
		rc = 0;
		goto out;
	}
	if (rc == 0) {
		size_t taken;
		rc = tls_session_encrypt_buf(&c->tls, &c->out, &taken);
	}
out:
	if (rc < 0)
		client_tls_fail(c, rc);
	return rc;
}

static void on_flush(uv_prepare_t *h)
{
	ospay_client_t *c = h->data;
	wreq_t *w = NULL;
	int rc = 0;
	uv_prepare_stop(h);
	if (c->state != CL_HELLO && c->state != CL_READY)
		goto out;
	/* What goes to the socket: the frames, or under TLS their ciphertext. */
	buf_t *wire = &c->out;
	if (c->tls_cfg != NULL) {
		if (client_tls_encrypt(c) < 0)
			return;
		wire = &c->tout;
	}
	if (wire->len == 0)
		goto out;
	w = calloc(1, sizeof(*w));
	if (w == NULL) {
		rc = UV_ENOMEM;
		goto out;
	}
	/* The write takes the buffer; the next frames start a new one. */
	w->data = *wire;
	w->wipe = wire == &c->out && c->hello_unsent;
	memset(wire, 0, sizeof(*wire));
	if (wire == &c->out)
		c->hello_unsent = false;
	uv_buf_t b = uv_buf_init((char *)w->data.data, (unsigned int)w->data.len);
	rc = uv_write(&w->req, (uv_stream_t *)&c->tcp, &b, 1, on_written);
	if (rc < 0) {
		buf_wipe_free(&w->data);
		free(w);
	}
out:
	if (rc < 0)
		client_fail(c, ST_UNAVAILABLE, "write to %s: %s", c->addr, uv_strerror(rc));
}

/* Writes what is buffered before the loop next waits for I/O. */
static void flush_kick(ospay_client_t *c)
{
	if ((c->state == CL_HELLO || c->state == CL_READY) && (c->out.len > 0 || c->tout.len > 0))
		uv_prepare_start(&c->flush, on_flush);
}

static void hello_done(ospay_client_t *c, const status_t *st, const uint8_t *body, size_t len)
{
	Ospay__V1__HelloResponse *hr = NULL;
	ospay_connect_cb cb = c->connect_cb;
	if (st->code != ST_OK) {
		client_fail_st(c, st);
		return;
	}
	hr = ospay__v1__hello_response__unpack(NULL, len, body);
	if (hr == NULL || hr->principal == NULL) {
		ospay__v1__hello_response__free_unpacked(hr, NULL);
		client_fail(c, ST_UNAVAILABLE, "protocol error: malformed HelloResponse from %s",
			    c->addr);
		return;
	}
	c->hello = hr;
	c->state = CL_READY;
	/*
	 * Calls made while connecting go out now, behind the Hello and in the
	 * order they were made. The Hello frame was written before its answer
	 * came, so `out` is normally empty and the buffers just swap.
	 */
	if (c->out.len == 0) {
		buf_t t = c->out;
		c->out = c->held;
		c->held = t;
	} else if (buf_append(&c->out, c->held.data, c->held.len, SIZE_MAX) < 0) {
		client_fail(c, ST_RESOURCE_EXHAUSTED, "out of memory");
		return;
	} else {
		c->held.len = 0;
	}
	flush_kick(c);
	c->connect_cb = NULL;
	if (cb != NULL)
		cb(c, st, c->connect_arg);
}

static void handle_frame(ospay_client_t *c, const uint8_t *p, size_t n)
{
	Ospay__V1__RpcResponse *r = ospay__v1__rpc_response__unpack(NULL, n, p);
	status_t st;
	if (r == NULL) {
		client_fail(c, ST_UNAVAILABLE, "protocol error: undecodable frame from %s",
			    c->addr);
		return;
	}
	status_from_pb(&st, r->status);
	if (r->id == 0) {
		/*
		 * Id 0 answers no call: it is the server explaining a connection
		 * error (an oversized or undecodable frame) before it closes.
		 */
		c->notice = st;
		c->has_notice = true;
	} else if (c->state == CL_HELLO) {
		/* Nothing but the Hello has been sent yet. */
		if (r->id == c->hello_id)
			hello_done(c, &st, r->body.data, r->body.len);
	} else {
		pending_t *call = ospay_calltab_find(&c->calls, r->id);
		/* An unknown id is ignored: no call of ours can be answered by it. */
		if (call != NULL)
			call_finish(c, call, &st, r->body.data, r->body.len);
	}
	ospay__v1__rpc_response__free_unpacked(r, NULL);
}

static void parse_frames(ospay_client_t *c)
{
	size_t off = 0;
	while (c->state == CL_HELLO || c->state == CL_READY) {
		size_t avail = c->in.len - off;
		if (avail < OSPAY_FRAME_HDR)
			break;
		uint32_t n = be32_get(c->in.data + off);
		if (n > OSPAY_MAX_FRAME) {
			client_fail(c, ST_UNAVAILABLE,
				    "protocol error: %s sent a %u-byte frame (limit %u)", c->addr,
				    n, OSPAY_MAX_FRAME);
			break;
		}
		if (avail - OSPAY_FRAME_HDR < n)
			break;
		handle_frame(c, c->in.data + off + OSPAY_FRAME_HDR, n);
		off += OSPAY_FRAME_HDR + n;
	}
	buf_consume(&c->in, off);
	if (c->in.len == 0 && c->in.cap > OSPAY_IN_KEEP)
		buf_free(&c->in);
}

/* Room for the next read in b, at most limit bytes in all; 0 or a negative errno. */
static int in_room(buf_t *b, size_t limit, size_t *want)
{
	*want = limit - b->len;
	if (*want > OSPAY_READ_CHUNK)
		*want = OSPAY_READ_CHUNK;
	return *want == 0 ? -ENOBUFS : buf_reserve(b, *want, limit);
}

/*
 * TLS: the handshake, then every record mbedTLS can decrypt goes into `in` and
 * through parse_frames, while the client is still connected.
 */
static void client_tls_input(ospay_client_t *c)
{
	int rc = 0;
	if (!c->tls.handshake_done) {
		rc = tls_session_handshake(&c->tls);
		/* Handshake messages, and once it is done the Hello frame, go out. */
		flush_kick(c);
		if (rc == TLS_WANT_READ || rc == TLS_WANT_WRITE)
			return;
		if (rc < 0) {
			client_tls_fail(c, rc);
			return;
		}
	}
	while (c->state == CL_HELLO || c->state == CL_READY) {
		size_t want;
		rc = in_room(&c->in, OSPAY_FRAME_HDR + OSPAY_MAX_FRAME, &want);
		if (rc < 0) {
			client_fail(c, ST_UNAVAILABLE, "out of memory reading from %s", c->addr);
			break;
		}
		rc = tls_session_read(&c->tls, c->in.data + c->in.len, want);
		if (rc == TLS_WANT_READ || rc == TLS_WANT_WRITE)
			break;
		if (rc <= 0) {
			if (rc == 0)
				client_fail_dropped(c, UV_EOF);
			else
				client_tls_fail(c, rc);
			break;
		}
		c->in.len += (size_t)rc;
		parse_frames(c);
	}
}

static void on_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *out)
{
	ospay_client_t *c = h->data;
	size_t limit = OSPAY_FRAME_HDR + OSPAY_MAX_FRAME;
	if (c->tls_cfg != NULL) {
		size_t want;
		if (c->tin_head > 0) {
			buf_consume(&c->tin, c->tin_head);
			c->tin_head = 0;
		}
		if (in_room(&c->tin, OSPAY_TLS_IN_LIMIT, &want) < 0)
			*out = uv_buf_init(NULL, 0);
		else
			*out = uv_buf_init((char *)c->tin.data + c->tin.len, (unsigned int)want);
		return;
	}
	/*
	 * parse_frames() leaves at most one incomplete frame whose length was
	 * checked, so the buffer never needs more than one maximal frame.
	 */
	size_t want = limit - c->in.len;
	if (want > OSPAY_READ_CHUNK)
		want = OSPAY_READ_CHUNK;
	if (want == 0 || buf_reserve(&c->in, want, limit) < 0) {
		*out = uv_buf_init(NULL, 0);
		return;
	}
	*out = uv_buf_init((char *)c->in.data + c->in.len, (unsigned int)want);
}

static void on_read(uv_stream_t *s, ssize_t nread, const uv_buf_t *b)
{
	ospay_client_t *c = s->data;
	if (nread == 0)
		return;
	if (nread == UV_ENOBUFS) {
		client_fail(c, ST_UNAVAILABLE, "out of memory reading from %s", c->addr);
		return;
	}
	if (nread < 0) {
		client_fail_dropped(c, (int)nread);
		return;
	}
	if (c->tls_cfg != NULL) {
		c->tin.len += (size_t)nread;
		client_tls_input(c);
		return;
	}
	c->in.len += (size_t)nread;
	parse_frames(c);
}

static void on_connected(uv_connect_t *req, int status);

/* True when another resolved address is left to try. */
static bool have_next_addr(ospay_client_t *c)
{
	while (c->ai_next != NULL && c->ai_next->ai_family != AF_INET &&
	       c->ai_next->ai_family != AF_INET6)
		c->ai_next = c->ai_next->ai_next;
	return c->ai_next != NULL;
}

static void on_retry_closed(uv_handle_t *h)
{
	ospay_client_t *c = h->data;
	int rc = 0;
	if (c->state == CL_CLOSING) {
		on_tcp_closed(h);
		return;
	}
	/* Without an address family uv_tcp_init creates no socket and cannot fail. */
	rc = uv_tcp_init(c->loop, &c->tcp);
	c->tcp.data = c;
	if (rc < 0) {
		status_set(&c->close_st, ST_UNAVAILABLE, "connect %s: %s", c->addr,
			   uv_strerror(rc));
		c->released = true;
		c->state = CL_CLOSING;
		on_tcp_closed(h);
		return;
	}
	connect_next(c);
}

static void connect_failed(ospay_client_t *c, int err)
{
	c->last_connect_err = err;
	if (have_next_addr(c)) {
		/* A socket whose connect failed cannot be reused: start over on a new one. */
		uv_close((uv_handle_t *)&c->tcp, on_retry_closed);
		return;
	}
	client_fail(c, ST_UNAVAILABLE, "connect %s: %s", c->addr, uv_strerror(err));
}

static int connect_to(ospay_client_t *c, const struct sockaddr *sa)
{
	c->state = CL_CONNECTING;
	return uv_tcp_connect(&c->connect_req, &c->tcp, sa, on_connected);
}

static void connect_next(ospay_client_t *c)
{
	struct addrinfo *ai = NULL;
	int rc = 0;
	if (!have_next_addr(c)) {
		client_fail(c, ST_UNAVAILABLE, "connect %s: %s", c->addr,
			    c->last_connect_err ? uv_strerror(c->last_connect_err)
						: "no usable address");
		return;
	}
	ai = c->ai_next;
	c->ai_next = ai->ai_next;
	rc = connect_to(c, ai->ai_addr);
	if (rc < 0)
		connect_failed(c, rc);
}

static void on_connected(uv_connect_t *req, int status)
{
	ospay_client_t *c = container_of(req, ospay_client_t, connect_req);
	int rc = 0;
	if (c->state != CL_CONNECTING)
		return; /* closing: status is UV_ECANCELED */
	if (status < 0) {
		connect_failed(c, status);
		return;
	}
	if (c->ai != NULL) {
		uv_freeaddrinfo(c->ai);
		c->ai = c->ai_next = NULL;
	}
	/* Request frames are small and latency-bound; failing only costs speed. */
	(void)uv_tcp_nodelay(&c->tcp, 1);
	c->state = CL_HELLO;
	rc = uv_read_start((uv_stream_t *)&c->tcp, on_alloc, on_read);
	if (rc < 0) {
		client_fail(c, ST_UNAVAILABLE, "read from %s: %s", c->addr, uv_strerror(rc));
		return;
	}
	flush_kick(c);
}

static void on_resolved(uv_getaddrinfo_t *req, int status, struct addrinfo *res)
{
	ospay_client_t *c = container_of(req, ospay_client_t, gai);
	c->resolving = false;
	if (c->state == CL_CLOSING) {
		if (res != NULL)
			uv_freeaddrinfo(res);
		uv_close((uv_handle_t *)&c->tcp, on_tcp_closed);
		return;
	}
	if (status < 0) {
		client_fail(c, ST_UNAVAILABLE, "resolve %s: %s", c->addr, uv_strerror(status));
		return;
	}
	c->ai = res;
	c->ai_next = res;
	connect_next(c);
}

/* Starts connecting to host:port: numeric addresses at once, names through DNS. */
static int client_start(ospay_client_t *c, const char *host, int port)
{
	struct sockaddr_storage ss;
	struct addrinfo hints;
	char service[16];
	int rc = 0;
	memset(&ss, 0, sizeof(ss));
	if (uv_ip4_addr(host, port, (struct sockaddr_in *)&ss) == 0 ||
	    uv_ip6_addr(host, port, (struct sockaddr_in6 *)&ss) == 0) {
		rc = connect_to(c, (const struct sockaddr *)&ss);
		goto out;
	}
	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	snprintf(service, sizeof(service), "%d", port);
	c->state = CL_RESOLVING;
	rc = uv_getaddrinfo(c->loop, &c->gai, on_resolved, host, service, &hints);
	c->resolving = rc == 0;
out:
	return rc;
}

/* TLS for a new client: the trust anchors and the name the certificate must carry. */
static int client_tls_setup(ospay_client_t *c, const ospay_connect_opts_t *opts, const char *host)
{
	struct sockaddr_storage ss;
	const char *name = opts->tls_server_name;
	int rc = 0;
	if (opts->tls_ca_file == NULL || opts->tls_ca_file[0] == '\0') {
		rc = -EINVAL;
		goto out;
	}
	/* mbedTLS 2.28 checks DNS names only: an address literal is checked as the
	 * name the generated certificate carries, the pinned CA file doing the rest. */
	if (name == NULL)
		name = uv_ip4_addr(host, 0, (struct sockaddr_in *)&ss) == 0 ||
				       uv_ip6_addr(host, 0, (struct sockaddr_in6 *)&ss) == 0
			       ? "localhost"
			       : host;
	rc = tls_config_new_client(&c->tls_cfg, opts->tls_ca_file);
	if (rc < 0)
		goto out;
	rc = tls_session_init(&c->tls, c->tls_cfg, &c->tin, &c->tin_head, &c->tout,
			      OSPAY_MAX_QUEUED + OSPAY_READ_CHUNK, false);
	if (rc < 0) {
		tls_config_free(c->tls_cfg);
		c->tls_cfg = NULL;
		goto out;
	}
	rc = tls_session_set_hostname(&c->tls, name);
	if (rc < 0) {
		tls_session_free(&c->tls);
		tls_config_free(c->tls_cfg);
		c->tls_cfg = NULL;
	}
out:
	return rc;
}

int ospay_client_connect(uv_loop_t *loop, const char *addr, const char *token, ospay_connect_cb cb,
			 void *arg, ospay_client_t **out)
{
	return ospay_client_connect_opts(loop, addr, token, NULL, cb, arg, out);
}

int ospay_client_connect_opts(uv_loop_t *loop, const char *addr, const char *token,
			      const ospay_connect_opts_t *opts, ospay_connect_cb cb, void *arg,
			      ospay_client_t **out)
{
	ospay_client_t *c = NULL;
	char host[256];
	int port = 0;
	int rc = 0;
	if (loop == NULL || addr == NULL || token == NULL || out == NULL ||
	    strnlen(token, OSPAY_MAX_TOKEN + 1) > OSPAY_MAX_TOKEN) {
		rc = -EINVAL;
		goto out;
	}
	rc = util_parse_hostport(addr, host, sizeof(host), &port);
	if (rc < 0)
		goto out;
	c = calloc(1, sizeof(*c));
	if (c == NULL) {
		rc = -ENOMEM;
		goto out;
	}
	if (strlen(addr) >= sizeof(c->addr)) {
		rc = -EINVAL;
		goto out;
	}
	snprintf(c->addr, sizeof(c->addr), "%s", addr);
	c->loop = loop;
	c->next_id = 1;
	c->hello_id = c->next_id++;
	rc = hello_frame(c, token);
	if (rc < 0)
		goto out;
	if (opts != NULL && opts->tls) {
		rc = client_tls_setup(c, opts, host);
		if (rc < 0)
			goto out;
	}
	/* Nothing refers to c until a handle exists: plain frees above are fine. */
	rc = uv_prepare_init(loop, &c->flush);
	if (rc < 0) {
		if (c->tls_cfg != NULL) {
			tls_session_free(&c->tls);
			tls_config_free(c->tls_cfg);
		}
		goto out;
	}
	c->flush.data = c;
	rc = uv_tcp_init(loop, &c->tcp);
	if (rc < 0) {
		c->released = true;
		uv_close((uv_handle_t *)&c->flush, on_flush_closed);
		c = NULL;
		goto out;
	}
	c->tcp.data = c;
	rc = client_start(c, host, port);
	if (rc < 0) {
		/* connect_cb is still NULL: the teardown answers nobody, as promised. */
		status_set(&c->close_st, ST_UNAVAILABLE, "connect %s: %s", addr, uv_strerror(rc));
		client_begin_close(c);
		c = NULL;
		goto out;
	}
	c->connect_cb = cb;
	c->connect_arg = arg;
	*out = c;
	c = NULL;
out:
	if (c != NULL) {
		buf_wipe_free(&c->out);
		free(c);
	}
	return rc;
}

int ospay_call(ospay_client_t *c, const char *method, const void *body, size_t len,
	       const ospay_call_opts_t *opts, ospay_call_cb cb, void *arg)
{
	pending_t *p = NULL;
	buf_t *b = NULL;
	int rc = 0;
	if (c == NULL || method == NULL || method[0] == '\0' || (body == NULL && len > 0) ||
	    cb == NULL) {
		rc = -EINVAL;
		goto out;
	}
	if (c->state >= CL_CLOSING) {
		rc = -ENOTCONN;
		goto out;
	}
	if (c->calls.len >= OSPAY_MAX_INFLIGHT) {
		rc = -ENOBUFS;
		goto out;
	}
	/* Everything that can fail happens before anything is committed. */
	rc = ospay_calltab_reserve(&c->calls);
	if (rc < 0)
		goto out;
	p = calloc(1, sizeof(*p));
	if (p == NULL) {
		rc = -ENOMEM;
		goto out;
	}
	b = c->state == CL_READY ? &c->out : &c->held;
	rc = frame_append(b, queue_limit(c, b), c->next_id, method, body, len, opts);
	if (rc < 0)
		goto out;
	p->id = c->next_id++;
	p->cb = cb;
	p->arg = arg;
	p->prev = c->tail;
	if (c->tail != NULL)
		c->tail->next = p;
	else
		c->head = p;
	c->tail = p;
	ospay_calltab_insert(&c->calls, p->id, p);
	p = NULL;
	flush_kick(c);
out:
	free(p);
	return rc;
}

int ospay_call_msg(ospay_client_t *c, const char *method, const ProtobufCMessage *req,
		   const ospay_call_opts_t *opts, ospay_call_cb cb, void *arg)
{
	uint8_t *body = NULL;
	size_t n = 0;
	int rc = 0;
	/* Catches a repeated field counted but not allocated, which the packer would read. */
	if (req == NULL || !protobuf_c_message_check(req)) {
		rc = -EINVAL;
		goto out;
	}
	n = protobuf_c_message_get_packed_size(req);
	if (n > OSPAY_MAX_FRAME) {
		rc = -EMSGSIZE;
		goto out;
	}
	body = malloc(n ? n : 1);
	if (body == NULL) {
		rc = -ENOMEM;
		goto out;
	}
	protobuf_c_message_pack(req, body);
	rc = ospay_call(c, method, body, n, opts, cb, arg);
out:
	free(body);
	return rc;
}

const Ospay__V1__Principal *ospay_client_principal(const ospay_client_t *c)
{
	return c != NULL && c->hello != NULL ? c->hello->principal : NULL;
}

size_t ospay_client_inflight(const ospay_client_t *c)
{
	return c != NULL ? c->calls.len : 0;
}

void ospay_client_close(ospay_client_t *c)
{
	if (c == NULL || c->released)
		return;
	c->released = true;
	if (c->state < CL_CLOSING) {
		status_set(&c->close_st, ST_CANCELLED, "client closed");
		client_begin_close(c);
	}
	release_check(c);
}

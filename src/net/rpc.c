#include "net/rpc.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/buf.h"
#include "common/crypto.h"
#include "common/list.h"
#include "common/log.h"
#include "common/util.h"
#include "net/peers.h"
#include "net/tls.h"

#define RPC_READ_CHUNK (64 * 1024)
/* How often deadlines, idle connections and the output cap are checked. */
#define RPC_SWEEP_MS 100
/* Over the process-wide output cap, a connection holding more unsent output than
 * this stops being read: a client that reads its replies stays far below it. */
#define RPC_OUT_FAIR (64 * 1024)
/* TLS: ciphertext kept per connection (a read, plus a record being completed)... */
#define RPC_TLS_IN_LIMIT (RPC_READ_CHUNK + 32 * 1024)
/* ...and encrypted output waiting for the socket before encryption pauses. */
#define RPC_TLS_OUT_LIMIT (128 * 1024)

struct rpc_server {
	uv_loop_t *loop;
	uv_tcp_t listener;
	uv_prepare_t flusher;
	uv_timer_t sweeper;
	rpc_limits_t lim;
	rpc_call_fn on_call;
	rpc_conn_gone_fn on_gone;
	void *udata;
	list_node_t conns;   /* every open connection */
	list_node_t dirty;   /* connections with queued output */
	list_node_t pending; /* calls handed out, not yet replied */
	list_node_t ready;   /* connections whose input waits for the next loop turn */
	uv_idle_t resumer;   /* runs while ready is not empty (poll must not block then) */
	net_peers_t peers;   /* open connections per remote address */
	tls_config_t *tls;   /* NULL: plain TCP */
	uint64_t turn;       /* loop turns seen by the flusher */
	rpc_stats_t stats;
	bool listening;
	bool closing;
	bool freed;
	int handles_open;
	void (*closed_cb)(void *);
	void *closed_arg;
	uint8_t readbuf[RPC_READ_CHUNK];
	bool readbuf_busy;
};

struct rpc_conn {
	uv_tcp_t tcp;
	rpc_server_t *srv;
	void *data;
	list_node_t link;  /* in srv->conns */
	list_node_t dlink; /* in srv->dirty */
	list_node_t rlink; /* in srv->ready */
	list_node_t calls; /* its calls not yet replied */
	buf_t in;          /* bytes of a frame not yet complete, or left for the next turn */
	buf_t out;         /* replies not yet handed to uv_write (plaintext under TLS) */
	size_t writing;    /* bytes inside uv_write requests */
	unsigned n_calls;
	uint64_t last_active;
	uint64_t accepted_ms;
	uint64_t last_progress; /* last time output reached the socket, or had none */
	uint64_t budget_turn;   /* the turn turn_frames/turn_bytes count for */
	unsigned turn_frames;
	size_t turn_bytes;
	net_ip_t ip;
	tls_session_t tls;
	buf_t tin; /* TLS: ciphertext received, not yet decrypted */
	size_t tin_head;
	buf_t tout;          /* TLS: ciphertext not yet handed to uv_write */
	size_t tout_counted; /* of tout, bytes already in stats.out_buffered */
	bool counted;        /* ip is counted in srv->peers */
	bool use_tls;
	bool tls_ready; /* tls is initialised (freed on close) */
	bool got_frame; /* a whole frame arrived: the Hello deadline no longer applies */
	bool reading;
	bool paused; /* by backpressure */
	bool close_after_flush;
	bool closing;
};

struct rpc_call {
	rpc_conn_t *conn;
	rpc_server_t *srv;
	list_node_t clink; /* in conn->calls */
	list_node_t plink; /* in srv->pending */
	Ospay__V1__RpcRequest *req;
	uint64_t deadline; /* monotonic ms */
	bool answered;     /* the sweep sent DEADLINE_EXCEEDED already */
};

typedef struct rpc_write {
	uv_write_t req;
	rpc_conn_t *conn;
	buf_t buf;
} rpc_write_t;

static void conn_close(rpc_conn_t *c);
static void conn_start_reading(rpc_conn_t *c);
static void conn_process(rpc_conn_t *c, const uint8_t *data, size_t len);
static void conn_pump(rpc_conn_t *c);
static void on_resume(uv_idle_t *h);

/* A closing server is freed once its handles are closed and no handler still
 * holds one of its calls (a reply may come after the connections are gone). */
static void server_maybe_free(rpc_server_t *s)
{
	if (!s->closing || s->handles_open > 0 || s->stats.calls_pending > 0 || s->freed)
		return;
	s->freed = true;
	void (*cb)(void *) = s->closed_cb;
	void *arg = s->closed_arg;
	tls_config_free(s->tls);
	net_peers_free(&s->peers);
	crypto_wipe(s->readbuf, sizeof(s->readbuf));
	free(s);
	if (cb != NULL)
		cb(arg);
}

void rpc_limits_default(rpc_limits_t *lim)
{
	lim->max_frame = 4u << 20;
	lim->max_inflight = 1024;
	lim->idle_ms = 5 * 60 * 1000;
	lim->out_high = 1u << 20;
	lim->default_deadline_ms = 30000;
	lim->max_conns = 4096;
	lim->max_conns_per_addr = 512;
	lim->hello_ms = 10000;
	lim->turn_frames = 64;
	lim->turn_bytes = 256u << 10;
	lim->out_total_max = 8u << 20;
	lim->stall_ms = 10000;
}

/* Bytes of this connection's replies not yet taken by the kernel. */
static size_t conn_unsent(const rpc_conn_t *c)
{
	return c->out.len + c->tout.len + c->writing;
}

/* Stop reading: over the connection's own mark, or over the process-wide cap while
 * holding more than a fair share (so a client that reads keeps being served). */
static bool conn_should_pause(const rpc_conn_t *c)
{
	size_t unsent = conn_unsent(c);
	return unsent > c->srv->lim.out_high ||
	       (c->srv->stats.out_buffered > c->srv->lim.out_total_max && unsent > RPC_OUT_FAIR);
}

/* Resume with some hysteresis, so a connection does not flip every write. */
static bool conn_may_resume(const rpc_conn_t *c)
{
	size_t unsent = conn_unsent(c);
	const rpc_limits_t *l = &c->srv->lim;
	return unsent <= l->out_high / 2 &&
	       (c->srv->stats.out_buffered <= l->out_total_max / 4 * 3 ||
		unsent <= RPC_OUT_FAIR / 2);
}

static void conn_stop_reading(rpc_conn_t *c)
{
	if (c->reading) {
		uv_read_stop((uv_stream_t *)&c->tcp);
		c->reading = false;
	}
}

/* Grows a buffer that may hold card data without leaving a copy in freed memory
 * (realloc would). */
static int in_append(buf_t *b, const void *p, size_t n, size_t limit)
{
	int rc = 0;
	if (n > limit || b->len > limit - n) {
		rc = -E2BIG;
		goto out;
	}
	if (b->len + n > b->cap) {
		size_t cap = b->cap ? b->cap : 4096;
		while (cap < b->len + n)
			cap *= 2;
		if (cap > limit)
			cap = limit;
		uint8_t *d = malloc(cap);
		if (d == NULL) {
			rc = -ENOMEM;
			goto out;
		}
		if (b->len > 0)
			memcpy(d, b->data, b->len);
		if (b->data != NULL)
			crypto_wipe(b->data, b->cap);
		free(b->data);
		b->data = d;
		b->cap = cap;
	}
	if (n > 0)
		memcpy(b->data + b->len, p, n);
	b->len += n;
out:
	return rc;
}

/* Drops n consumed bytes from the front and wipes the tail they leave behind. */
static void in_consume(buf_t *b, size_t n)
{
	size_t old = b->len;
	buf_consume(b, n);
	if (old > b->len)
		crypto_wipe(b->data + b->len, old - b->len);
}

static void in_free(buf_t *b)
{
	if (b->data != NULL)
		crypto_wipe(b->data, b->cap);
	buf_free(b);
}

/* ------------------------------------------------------------------ output */

static void conn_mark_dirty(rpc_conn_t *c)
{
	if (!list_linked(&c->dlink))
		list_insert_tail(&c->srv->dirty, &c->dlink);
}

void rpc_status_msg(rpc_status_msg_t *m, const status_t *st)
{
	size_t n =
		st->n_violations < STATUS_MAX_VIOLATIONS ? st->n_violations : STATUS_MAX_VIOLATIONS;
	ospay__v1__status__init(&m->status);
	m->status.code = st->code;
	m->status.message = (char *)st->message;
	for (size_t i = 0; i < n; i++) {
		ospay__v1__field_violation__init(&m->viol[i]);
		m->viol[i].field = (char *)st->violations[i].field;
		m->viol[i].description = (char *)st->violations[i].description;
		m->vp[i] = &m->viol[i];
	}
	m->status.n_violations = n;
	m->status.violations = m->vp;
}

/* Appends one RpcResponse frame to the connection's output. */
static int conn_queue_response(rpc_conn_t *c, uint64_t id, const status_t *st, const void *body,
			       size_t len)
{
	Ospay__V1__RpcResponse resp = OSPAY__V1__RPC_RESPONSE__INIT;
	Ospay__V1__Status ok = OSPAY__V1__STATUS__INIT;
	rpc_status_msg_t failed;
	resp.id = id;
	resp.status = &ok;
	if (st != NULL && st->code != ST_OK) {
		rpc_status_msg(&failed, st);
		resp.status = &failed.status;
	} else if (len > 0) {
		resp.body.data = (uint8_t *)body;
		resp.body.len = len;
	}
	size_t n = ospay__v1__rpc_response__get_packed_size(&resp);
	/* Replies are bounded by the requests that caused them, not by a cap here:
	 * backpressure stops reading instead. */
	int rc = buf_reserve(&c->out, 4 + n, SIZE_MAX / 2);
	if (rc != 0)
		return rc;
	be32_put(c->out.data + c->out.len, (uint32_t)n);
	ospay__v1__rpc_response__pack(&resp, c->out.data + c->out.len + 4);
	c->out.len += 4 + n;
	c->srv->stats.frames_out++;
	c->srv->stats.out_buffered += 4 + n;
	conn_mark_dirty(c);
	return 0;
}

static void conn_check_backpressure(rpc_conn_t *c)
{
	if (!c->paused && conn_should_pause(c)) {
		c->paused = true;
		c->srv->stats.reads_paused++;
		conn_stop_reading(c);
	} else if (c->paused && conn_may_resume(c)) {
		c->paused = false;
		/* Frames that arrived while paused go first (unless they wait for the
		 * next turn already: the resumer handles those). */
		if (!list_linked(&c->rlink))
			conn_pump(c);
		conn_start_reading(c);
	}
}

static void on_write(uv_write_t *req, int status)
{
	rpc_write_t *w = container_of(req, rpc_write_t, req);
	rpc_conn_t *c = w->conn;
	c->writing -= w->buf.len;
	c->srv->stats.out_buffered -= w->buf.len;
	buf_free(&w->buf);
	free(w);
	if (c->closing)
		return;
	c->last_progress = util_mono_ms();
	if (c->out.len > 0)
		conn_mark_dirty(c); /* TLS: plaintext left unencrypted while tout was full */
	if (status < 0) {
		log_debug("rpc write failed", "err=%s", uv_err_name(status));
		conn_close(c);
		return;
	}
	if (c->close_after_flush && conn_unsent(c) == 0) {
		conn_close(c);
		return;
	}
	conn_check_backpressure(c);
}

/*
 * TLS: encrypts queued replies into tout until it is full. Plaintext and
 * ciphertext both count in out_buffered: the plaintext is taken off as it is
 * encrypted, the ciphertext (handshake messages too) added when it is flushed.
 * 0, or a negative errno (the connection is unusable).
 */
static int conn_encrypt(rpc_conn_t *c)
{
	size_t taken;
	int rc = tls_session_encrypt_buf(&c->tls, &c->out, &taken);
	c->srv->stats.out_buffered -= taken;
	return rc;
}

static void conn_flush(rpc_conn_t *c)
{
	if (c->closing)
		return;
	if (c->use_tls && c->tls.handshake_done && conn_encrypt(c) != 0) {
		conn_close(c);
		return;
	}
	if (c->use_tls) {
		c->srv->stats.out_buffered += c->tout.len - c->tout_counted;
		c->tout_counted = c->tout.len;
	}
	/* What goes to the socket: replies, or under TLS their ciphertext. */
	buf_t *wire = c->use_tls ? &c->tout : &c->out;
	if (wire->len == 0)
		goto out;
	size_t off = 0;
	if (c->writing == 0) {
		/* Nothing queued in the kernel path: try to write synchronously first. */
		uv_buf_t b = uv_buf_init((char *)wire->data, (unsigned)wire->len);
		int n = uv_try_write((uv_stream_t *)&c->tcp, &b, 1);
		if (n > 0) {
			off = (size_t)n;
			c->srv->stats.out_buffered -= (size_t)n;
			c->last_progress = util_mono_ms();
		} else if (n != UV_EAGAIN && n < 0) {
			conn_close(c);
			return;
		}
	}
	if (off == wire->len) {
		wire->len = 0;
		goto out;
	}
	rpc_write_t *w = calloc(1, sizeof(*w));
	if (w == NULL) {
		conn_close(c);
		return;
	}
	w->conn = c;
	/* Hand the buffer over instead of copying it: a copy would leave the
	 * connection holding an empty buffer of the same size for as long as the
	 * write is stuck behind a client that does not read. */
	buf_consume(wire, off);
	w->buf = *wire;
	memset(wire, 0, sizeof(*wire));
	uv_buf_t b = uv_buf_init((char *)w->buf.data, (unsigned)w->buf.len);
	int rc = uv_write(&w->req, (uv_stream_t *)&c->tcp, &b, 1, on_write);
	if (rc != 0) {
		c->srv->stats.out_buffered -= w->buf.len;
		buf_free(&w->buf);
		free(w);
		conn_close(c);
		return;
	}
	c->writing += w->buf.len;
out:
	c->tout_counted = c->tout.len; /* 0 once written or handed to uv_write */
	if (conn_unsent(c) == 0)
		c->last_progress = util_mono_ms();
	if (!c->closing && c->close_after_flush && conn_unsent(c) == 0) {
		conn_close(c);
		return;
	}
	if (!c->closing)
		conn_check_backpressure(c);
}

static void on_prepare(uv_prepare_t *h)
{
	rpc_server_t *s = container_of(h, rpc_server_t, flusher);
	/* The end of a loop turn: every connection's frame budget starts over. */
	s->turn++;
	while (!list_empty(&s->dirty)) {
		rpc_conn_t *c = container_of(s->dirty.next, rpc_conn_t, dlink);
		list_remove(&c->dlink);
		conn_flush(c);
	}
}

/* ------------------------------------------------------------------ calls */

static void call_free(rpc_call_t *call)
{
	list_remove(&call->clink);
	list_remove(&call->plink);
	if (call->req != NULL) {
		/* The body may hold a card number or a credential (Cards/Add, SetGateway). */
		if (call->req->body.data != NULL)
			crypto_wipe(call->req->body.data, call->req->body.len);
		ospay__v1__rpc_request__free_unpacked(call->req, NULL);
	}
	free(call);
}

const Ospay__V1__RpcRequest *rpc_call_request(const rpc_call_t *call)
{
	return call->req;
}

rpc_conn_t *rpc_call_conn(const rpc_call_t *call)
{
	return call->conn;
}

bool rpc_call_abandoned(const rpc_call_t *call)
{
	return call->conn == NULL || call->answered;
}

void rpc_call_reply(rpc_call_t *call, const status_t *st, const void *body, size_t len,
		    unsigned flags)
{
	rpc_conn_t *c = call->conn;
	rpc_server_t *s = call->srv;
	s->stats.calls_pending--;
	if (c != NULL) {
		c->n_calls--;
		c->last_active = util_mono_ms();
		if (!call->answered && !c->closing) {
			if (conn_queue_response(c, call->req->id, st, body, len) != 0) {
				log_error("rpc reply dropped: out of memory", "");
				conn_close(c);
			} else if (flags & RPC_REPLY_CLOSE) {
				c->close_after_flush = true;
				conn_stop_reading(c);
			}
		}
	}
	call_free(call);
	server_maybe_free(s);
}

/* Answers without a call (frame-level errors); id 0 when unknown. */
static void conn_reply_error(rpc_conn_t *c, uint64_t id, int code, const char *msg, bool close)
{
	status_t st;
	status_clear(&st);
	status_set(&st, code, "%s", msg);
	if (conn_queue_response(c, id, &st, NULL, 0) != 0) {
		conn_close(c);
		return;
	}
	if (close) {
		c->close_after_flush = true;
		conn_stop_reading(c);
	}
}

static void conn_dispatch_frame(rpc_conn_t *c, const uint8_t *p, size_t n)
{
	rpc_server_t *s = c->srv;
	s->stats.frames_in++;
	c->got_frame = true;
	Ospay__V1__RpcRequest *req = ospay__v1__rpc_request__unpack(NULL, n, p);
	if (req == NULL) {
		conn_reply_error(c, 0, ST_INVALID_ARGUMENT, "undecodable frame", true);
		return;
	}
	if (c->n_calls >= s->lim.max_inflight) {
		uint64_t id = req->id;
		ospay__v1__rpc_request__free_unpacked(req, NULL);
		conn_reply_error(c, id, ST_RESOURCE_EXHAUSTED, "too many calls in flight", false);
		return;
	}
	rpc_call_t *call = calloc(1, sizeof(*call));
	if (call == NULL) {
		uint64_t id = req->id;
		ospay__v1__rpc_request__free_unpacked(req, NULL);
		conn_reply_error(c, id, ST_RESOURCE_EXHAUSTED, "out of memory", false);
		return;
	}
	call->conn = c;
	call->srv = s;
	call->req = req;
	uint32_t dl = req->deadline_ms ? req->deadline_ms : s->lim.default_deadline_ms;
	call->deadline = util_mono_ms() + dl;
	list_insert_tail(&c->calls, &call->clink);
	list_insert_tail(&s->pending, &call->plink);
	c->n_calls++;
	s->stats.calls_pending++;
	s->on_call(call, s->udata);
}

int rpc_frame_next(const uint8_t *p, size_t len, size_t max_frame, size_t *payload_len)
{
	if (len < 4)
		return RPC_FRAME_MORE;
	size_t n = be32_get(p);
	if (n > max_frame)
		return RPC_FRAME_TOO_BIG;
	if (len - 4 < n)
		return RPC_FRAME_MORE;
	*payload_len = n;
	return RPC_FRAME_OK;
}

/* True when this turn's frame budget is spent: the rest waits for the next turn
 * (a connection that pipelines thousands of calls must not hold the loop). */
static bool conn_budget_spent(rpc_conn_t *c)
{
	rpc_server_t *s = c->srv;
	if (c->budget_turn != s->turn) {
		c->budget_turn = s->turn;
		c->turn_frames = 0;
		c->turn_bytes = 0;
	}
	return c->turn_frames >= s->lim.turn_frames || c->turn_bytes >= s->lim.turn_bytes;
}

/* Leaves the connection's buffered input for the next loop turn. */
static void conn_defer(rpc_conn_t *c)
{
	rpc_server_t *s = c->srv;
	conn_stop_reading(c);
	if (!list_linked(&c->rlink)) {
		s->stats.turns_deferred++;
		if (list_empty(&s->ready))
			uv_idle_start(&s->resumer, on_resume);
		list_insert_tail(&s->ready, &c->rlink);
	}
}

/* Most bytes kept for a connection: one frame plus one read of what follows it. */
static size_t conn_in_limit(const rpc_conn_t *c)
{
	return c->srv->lim.max_frame + 4 + RPC_READ_CHUNK;
}

/*
 * Splits buffered bytes into frames; stops at the first incomplete one, and
 * also as soon as unsent replies pass the high mark: one read can hold
 * thousands of small requests with large replies, so the rest waits in c->in
 * (reading paused) until the output drains.
 */
static void conn_process(rpc_conn_t *c, const uint8_t *data, size_t len)
{
	const size_t max = c->srv->lim.max_frame;
	const uint8_t *p = data;
	size_t left = len;
	while (left >= 4 && !c->closing && !c->close_after_flush) {
		if (conn_should_pause(c)) {
			conn_check_backpressure(c);
			break;
		}
		if (conn_budget_spent(c)) {
			conn_defer(c);
			break;
		}
		size_t n;
		int fr = rpc_frame_next(p, left, max, &n);
		if (fr == RPC_FRAME_TOO_BIG) {
			conn_reply_error(c, 0, ST_RESOURCE_EXHAUSTED, "frame too large", true);
			return;
		}
		if (fr == RPC_FRAME_MORE)
			break;
		c->turn_frames++;
		c->turn_bytes += 4 + n;
		conn_dispatch_frame(c, p + 4, n);
		p += 4 + n;
		left -= 4 + n;
	}
	if (c->closing || c->close_after_flush)
		return;
	/* Keep the incomplete tail; its size is checked against max before growing. */
	if (data == c->in.data) {
		in_consume(&c->in, len - left);
	} else if (left > 0 && in_append(&c->in, p, left, conn_in_limit(c)) != 0) {
		conn_close(c);
	}
}

static void on_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *b)
{
	rpc_conn_t *c = h->data;
	rpc_server_t *s = c->srv;
	(void)suggested;
	/* One read buffer per server: reads are consumed synchronously in on_read. */
	if (s->readbuf_busy) {
		b->base = NULL;
		b->len = 0;
		return;
	}
	s->readbuf_busy = true;
	b->base = (char *)s->readbuf;
	b->len = sizeof(s->readbuf);
}

/* New plaintext bytes for the connection (data may be the shared read buffer). */
static void conn_input(rpc_conn_t *c, const uint8_t *data, size_t len)
{
	c->last_active = util_mono_ms();
	if (c->in.len > 0) {
		/* A frame is already partly here: complete it in the connection buffer,
		 * after checking its declared size so the buffer never outgrows a frame. */
		if (c->in.len >= 4 && be32_get(c->in.data) > c->srv->lim.max_frame) {
			conn_reply_error(c, 0, ST_RESOURCE_EXHAUSTED, "frame too large", true);
			return;
		}
		if (in_append(&c->in, data, len, conn_in_limit(c)) != 0) {
			conn_close(c);
			return;
		}
		conn_process(c, c->in.data, c->in.len);
		if (c->in.cap > (256u << 10) && c->in.len < 4096) {
			/* Do not keep a large frame's buffer around for an idle connection. */
			buf_t small = {0};
			if (in_append(&small, c->in.data, c->in.len, SIZE_MAX / 2) == 0) {
				in_free(&c->in);
				c->in = small;
			}
		}
	} else {
		conn_process(c, data, len);
	}
}

/* True when the connection takes no more input this turn. */
static bool conn_input_blocked(const rpc_conn_t *c)
{
	return c->closing || c->close_after_flush || c->paused || list_linked(&c->rlink);
}

/*
 * TLS: advances the handshake, then decrypts what mbedTLS holds into the shared
 * buffer and feeds it on, until the connection stops taking input this turn.
 */
static void conn_tls_pump(rpc_conn_t *c)
{
	rpc_server_t *s = c->srv;
	int rc = tls_session_handshake(&c->tls);
	if (rc == TLS_WANT_READ || rc == TLS_WANT_WRITE) {
		conn_mark_dirty(c); /* handshake messages to send */
		return;
	}
	if (rc != 0) {
		s->stats.tls_handshake_failures++;
		log_debug("rpc tls handshake failed", "err=%d", rc);
		conn_close(c);
		return;
	}
	conn_mark_dirty(c);
	while (!conn_input_blocked(c) && !s->readbuf_busy) {
		rc = tls_session_read(&c->tls, s->readbuf, sizeof(s->readbuf));
		if (rc == TLS_WANT_READ || rc == TLS_WANT_WRITE)
			break;
		if (rc <= 0) {
			conn_close(c);
			break;
		}
		conn_input(c, s->readbuf, (size_t)rc);
		crypto_wipe(s->readbuf, (size_t)rc);
	}
}

/* Works through buffered input: whole frames in c->in first, then TLS plaintext. */
static void conn_pump(rpc_conn_t *c)
{
	if (c->in.len >= 4 && !conn_input_blocked(c))
		conn_process(c, c->in.data, c->in.len);
	if (c->use_tls && !conn_input_blocked(c))
		conn_tls_pump(c);
}

static void on_read(uv_stream_t *stream, ssize_t nread, const uv_buf_t *b)
{
	rpc_conn_t *c = stream->data;
	rpc_server_t *s = c->srv;
	s->readbuf_busy = false;
	if (nread < 0) {
		conn_close(c);
		return;
	}
	if (nread == 0 || c->closing)
		return;
	if (c->use_tls) {
		if (c->tin_head > 0) {
			buf_consume(&c->tin, c->tin_head);
			c->tin_head = 0;
		}
		if (buf_append(&c->tin, b->base, (size_t)nread, RPC_TLS_IN_LIMIT) != 0) {
			conn_close(c);
			return;
		}
		conn_tls_pump(c);
	} else {
		conn_input(c, (const uint8_t *)b->base, (size_t)nread);
		/* Card numbers pass through here: nothing of a frame stays in the buffer. */
		crypto_wipe(s->readbuf, (size_t)nread);
	}
	/* TLS holds input back while its ciphertext buffer is full. */
	if (!c->closing && c->use_tls && c->tin.len - c->tin_head >= RPC_TLS_IN_LIMIT / 2)
		conn_stop_reading(c);
}

/* The next loop turn for connections whose input was left over: each gets a new
 * budget, and reading restarts for those that got through their backlog. */
static void on_resume(uv_idle_t *h)
{
	rpc_server_t *s = container_of(h, rpc_server_t, resumer);
	list_node_t batch;
	list_init(&batch);
	/* A new turn for the waiting connections: the flusher counted the last one at
	 * its end, and the reads of this turn's poll may have spent it already. */
	s->turn++;
	/* Move the list aside: a connection that spends its budget again rejoins ready. */
	if (!list_empty(&s->ready)) {
		batch.next = s->ready.next;
		batch.prev = s->ready.prev;
		batch.next->prev = &batch;
		batch.prev->next = &batch;
		list_init(&s->ready);
	}
	while (!list_empty(&batch)) {
		rpc_conn_t *c = container_of(batch.next, rpc_conn_t, rlink);
		list_remove(&c->rlink);
		conn_pump(c);
		conn_start_reading(c);
	}
	if (list_empty(&s->ready))
		uv_idle_stop(&s->resumer);
}

static void conn_start_reading(rpc_conn_t *c)
{
	if (c->reading || conn_input_blocked(c))
		return;
	if (c->use_tls && c->tin.len - c->tin_head >= RPC_TLS_IN_LIMIT / 2)
		return;
	if (uv_read_start((uv_stream_t *)&c->tcp, on_alloc, on_read) == 0)
		c->reading = true;
}

/* ------------------------------------------------------------------ connections */

static void on_conn_closed(uv_handle_t *h)
{
	rpc_conn_t *c = h->data;
	rpc_server_t *s = c->srv;
	if (s->on_gone != NULL)
		s->on_gone(c, c->data, s->udata);
	if (c->counted)
		net_peers_drop(&s->peers, &c->ip);
	if (c->tls_ready)
		tls_session_free(&c->tls);
	in_free(&c->in);
	s->stats.out_buffered -= c->out.len + c->tout_counted;
	in_free(&c->out);
	buf_free(&c->tin);
	buf_free(&c->tout);
	free(c);
	s->handles_open--;
	s->stats.conns_open--;
	server_maybe_free(s);
}

static void conn_close(rpc_conn_t *c)
{
	if (c->closing)
		return;
	c->closing = true;
	if (c->reading)
		uv_read_stop((uv_stream_t *)&c->tcp);
	c->reading = false;
	list_remove(&c->link);
	list_remove(&c->dlink);
	list_remove(&c->rlink);
	/* Calls still being worked on stay alive; their replies go nowhere. */
	list_node_t *pos, *tmp;
	list_for_each_safe(pos, tmp, &c->calls) {
		rpc_call_t *call = container_of(pos, rpc_call_t, clink);
		list_remove(&call->clink);
		call->conn = NULL;
	}
	c->n_calls = 0;
	uv_close((uv_handle_t *)&c->tcp, on_conn_closed);
}

static void on_connection(uv_stream_t *server, int status)
{
	rpc_server_t *s = server->data;
	if (status < 0) {
		log_warn("rpc accept failed", "err=%s", uv_err_name(status));
		return;
	}
	rpc_conn_t *c = calloc(1, sizeof(*c));
	if (c == NULL)
		return;
	c->srv = s;
	list_init(&c->link);
	list_init(&c->dlink);
	list_init(&c->rlink);
	list_init(&c->calls);
	uv_tcp_init(s->loop, &c->tcp);
	c->tcp.data = c;
	s->handles_open++;
	s->stats.conns_open++;
	list_insert_tail(&s->conns, &c->link);
	if (uv_accept(server, (uv_stream_t *)&c->tcp) != 0) {
		conn_close(c);
		return;
	}
	if (s->stats.conns_open > s->lim.max_conns || s->closing) {
		s->stats.conns_rejected++;
		conn_close(c);
		return;
	}
	/* One host holds at most its share of the slots (loopback clients are one host). */
	int rc = net_peers_admit(&s->peers, &c->tcp, s->lim.max_conns_per_addr, &c->ip);
	if (rc != 0) {
		s->stats.conns_rejected++;
		if (rc == -EMFILE)
			s->stats.conns_rejected_addr++;
		conn_close(c);
		return;
	}
	c->counted = true;
	if (s->tls != NULL) {
		if (tls_session_init(&c->tls, s->tls, &c->tin, &c->tin_head, &c->tout,
				     RPC_TLS_OUT_LIMIT, false) != 0) {
			conn_close(c);
			return;
		}
		c->use_tls = true;
		c->tls_ready = true;
	}
	s->stats.conns_accepted++;
	uv_tcp_nodelay(&c->tcp, 1);
	c->last_active = c->accepted_ms = c->last_progress = util_mono_ms();
	conn_start_reading(c);
}

static int stalled_cmp(const void *a, const void *b)
{
	size_t ua = conn_unsent(*(rpc_conn_t *const *)a);
	size_t ub = conn_unsent(*(rpc_conn_t *const *)b);
	return ua < ub ? 1 : ua > ub ? -1 : 0;
}

/*
 * Over the process-wide output cap: the connections paused for holding more than
 * their share whose output has not moved for stall_ms are closed, heaviest first,
 * until what they hold covers the excess. Paused readers are let go again once
 * the total is back under the cap.
 */
static void sweep_output(rpc_server_t *s, uint64_t now)
{
	list_node_t *pos, *tmp;
	size_t total = s->stats.out_buffered, n = 0;
	rpc_conn_t **v = NULL;
	if (total > s->lim.out_total_max) {
		v = calloc(s->stats.conns_open, sizeof(*v));
		list_for_each_safe(pos, tmp, &s->conns) {
			rpc_conn_t *c = container_of(pos, rpc_conn_t, link);
			if (v != NULL && n < s->stats.conns_open && c->paused &&
			    conn_unsent(c) > RPC_OUT_FAIR &&
			    now - c->last_progress >= s->lim.stall_ms)
				v[n++] = c;
		}
		if (n > 0)
			qsort(v, n, sizeof(*v), stalled_cmp);
		size_t freed = 0;
		for (size_t i = 0; i < n && total - freed > s->lim.out_total_max; i++) {
			freed += conn_unsent(v[i]);
			s->stats.stalled_closes++;
			log_info("rpc connection closed: not reading its replies", "unsent=%zu",
				 conn_unsent(v[i]));
			conn_close(v[i]);
		}
		free(v);
	}
	list_for_each_safe(pos, tmp, &s->conns) {
		rpc_conn_t *c = container_of(pos, rpc_conn_t, link);
		if (c->paused)
			conn_check_backpressure(c);
	}
}

static void on_sweep(uv_timer_t *t)
{
	rpc_server_t *s = container_of(t, rpc_server_t, sweeper);
	uint64_t now = util_mono_ms();
	list_node_t *pos, *tmp;
	list_for_each_safe(pos, tmp, &s->pending) {
		rpc_call_t *call = container_of(pos, rpc_call_t, plink);
		if (call->answered || call->conn == NULL || now < call->deadline)
			continue;
		status_t st;
		status_clear(&st);
		status_set(&st, ST_DEADLINE_EXCEEDED, "deadline exceeded");
		if (conn_queue_response(call->conn, call->req->id, &st, NULL, 0) == 0) {
			call->answered = true;
			s->stats.deadlines_expired++;
		}
	}
	list_for_each_safe(pos, tmp, &s->conns) {
		rpc_conn_t *c = container_of(pos, rpc_conn_t, link);
		if (!c->got_frame && now - c->accepted_ms >= s->lim.hello_ms) {
			/* Silent clients must not hold slots: a Hello comes at once or never. */
			s->stats.hello_timeouts++;
			log_debug("rpc connection closed: no Hello in time", "");
			conn_close(c);
		} else if (c->n_calls == 0 && conn_unsent(c) == 0 &&
			   now - c->last_active >= s->lim.idle_ms) {
			log_debug("rpc idle connection closed", "");
			conn_close(c);
		}
	}
	sweep_output(s, now);
}

/* ------------------------------------------------------------------ server */

int rpc_server_init(rpc_server_t **out, uv_loop_t *loop, const rpc_limits_t *lim,
		    rpc_call_fn on_call, rpc_conn_gone_fn on_gone, void *udata)
{
	rpc_server_t *s = calloc(1, sizeof(*s));
	if (s == NULL)
		return -ENOMEM;
	s->loop = loop;
	if (lim != NULL)
		s->lim = *lim;
	else
		rpc_limits_default(&s->lim);
	s->on_call = on_call;
	s->on_gone = on_gone;
	s->udata = udata;
	list_init(&s->conns);
	list_init(&s->dirty);
	list_init(&s->pending);
	list_init(&s->ready);
	net_peers_init(&s->peers);
	uv_idle_init(loop, &s->resumer);
	s->resumer.data = s;
	uv_tcp_init(loop, &s->listener);
	s->listener.data = s;
	uv_prepare_init(loop, &s->flusher);
	uv_prepare_start(&s->flusher, on_prepare);
	uv_timer_init(loop, &s->sweeper);
	uv_timer_start(&s->sweeper, on_sweep, RPC_SWEEP_MS, RPC_SWEEP_MS);
	/* The sweeper alone must not keep a drained loop alive. */
	uv_unref((uv_handle_t *)&s->sweeper);
	uv_unref((uv_handle_t *)&s->flusher);
	s->handles_open = 4;
	*out = s;
	return 0;
}

int rpc_server_listen(rpc_server_t *s, const char *host, int port, char *bound, size_t boundlen)
{
	struct sockaddr_storage ss;
	int rc;
	if (strchr(host, ':') != NULL)
		rc = uv_ip6_addr(host, port, (struct sockaddr_in6 *)&ss);
	else
		rc = uv_ip4_addr(host, port, (struct sockaddr_in *)&ss);
	if (rc != 0)
		return rc;
	rc = uv_tcp_bind(&s->listener, (const struct sockaddr *)&ss, 0);
	if (rc == 0)
		rc = uv_listen((uv_stream_t *)&s->listener, 511, on_connection);
	if (rc != 0)
		return rc;
	s->listening = true;
	int len = sizeof(ss);
	rc = uv_tcp_getsockname(&s->listener, (struct sockaddr *)&ss, &len);
	if (rc != 0)
		return rc;
	char ip[64];
	if (ss.ss_family == AF_INET6) {
		struct sockaddr_in6 *a = (struct sockaddr_in6 *)&ss;
		uv_ip6_name(a, ip, sizeof(ip));
		snprintf(bound, boundlen, "[%s]:%d", ip, ntohs(a->sin6_port));
	} else {
		struct sockaddr_in *a = (struct sockaddr_in *)&ss;
		uv_ip4_name(a, ip, sizeof(ip));
		snprintf(bound, boundlen, "%s:%d", ip, ntohs(a->sin_port));
	}
	return 0;
}

static void on_server_handle_closed(uv_handle_t *h)
{
	rpc_server_t *s = h->data;
	s->handles_open--;
	server_maybe_free(s);
}

void rpc_server_stop_accepting(rpc_server_t *s)
{
	if (!s->listening)
		return;
	s->listening = false;
	uv_close((uv_handle_t *)&s->listener, on_server_handle_closed);
	/* Keep the count right: the listener's close callback decrements it. */
}

bool rpc_server_drained(const rpc_server_t *s)
{
	return s->stats.calls_pending == 0 && s->stats.out_buffered == 0 && list_empty(&s->ready);
}

void rpc_server_close(rpc_server_t *s, void (*closed)(void *arg), void *arg)
{
	s->closing = true;
	s->closed_cb = closed;
	s->closed_arg = arg;
	/* Detach every pending call first: their handlers may still reply later. */
	list_node_t *pos, *tmp;
	list_for_each_safe(pos, tmp, &s->conns) {
		conn_close(container_of(pos, rpc_conn_t, link));
	}
	if (s->listening) {
		s->listening = false;
		uv_close((uv_handle_t *)&s->listener, on_server_handle_closed);
	} else if (!uv_is_closing((uv_handle_t *)&s->listener)) {
		uv_close((uv_handle_t *)&s->listener, on_server_handle_closed);
	}
	s->flusher.data = s;
	s->sweeper.data = s;
	uv_close((uv_handle_t *)&s->flusher, on_server_handle_closed);
	uv_close((uv_handle_t *)&s->resumer, on_server_handle_closed);
	uv_close((uv_handle_t *)&s->sweeper, on_server_handle_closed);
}

int rpc_server_use_tls(rpc_server_t *s, const char *crt_path, const char *key_path)
{
	tls_config_t *cfg = NULL;
	int rc = tls_config_new(&cfg, crt_path, key_path);
	if (rc == 0) {
		tls_config_free(s->tls);
		s->tls = cfg;
	}
	return rc;
}

void rpc_server_get_stats(const rpc_server_t *s, rpc_stats_t *out)
{
	*out = s->stats;
}

void *rpc_conn_get_data(const rpc_conn_t *conn)
{
	return conn->data;
}

void rpc_conn_set_data(rpc_conn_t *conn, void *data)
{
	conn->data = data;
}

#include "net/rpc.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/buf.h"
#include "common/list.h"
#include "common/log.h"
#include "common/util.h"

#define RPC_READ_CHUNK (64 * 1024)
/* How often deadlines and idle connections are checked. */
#define RPC_SWEEP_MS 100

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
	list_node_t calls; /* its calls not yet replied */
	buf_t in;          /* bytes of a frame not yet complete */
	buf_t out;         /* replies not yet handed to uv_write */
	size_t writing;    /* bytes inside uv_write requests */
	unsigned n_calls;
	uint64_t last_active;
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

/* A closing server is freed once its handles are closed and no handler still
 * holds one of its calls (a reply may come after the connections are gone). */
static void server_maybe_free(rpc_server_t *s)
{
	if (!s->closing || s->handles_open > 0 || s->stats.calls_pending > 0 || s->freed)
		return;
	s->freed = true;
	void (*cb)(void *) = s->closed_cb;
	void *arg = s->closed_arg;
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
}

/* ------------------------------------------------------------------ output */

static void conn_mark_dirty(rpc_conn_t *c)
{
	if (!list_linked(&c->dlink))
		list_insert_tail(&c->srv->dirty, &c->dlink);
}

/* Appends one RpcResponse frame to the connection's output. */
static int conn_queue_response(rpc_conn_t *c, uint64_t id, const status_t *st, const void *body,
			       size_t len)
{
	Ospay__V1__RpcResponse resp = OSPAY__V1__RPC_RESPONSE__INIT;
	Ospay__V1__Status status = OSPAY__V1__STATUS__INIT;
	Ospay__V1__FieldViolation viol[STATUS_MAX_VIOLATIONS];
	Ospay__V1__FieldViolation *vp[STATUS_MAX_VIOLATIONS];
	resp.id = id;
	resp.status = &status;
	if (st != NULL && st->code != ST_OK) {
		status.code = st->code;
		status.message = (char *)st->message;
		for (size_t i = 0; i < st->n_violations && i < STATUS_MAX_VIOLATIONS; i++) {
			ospay__v1__field_violation__init(&viol[i]);
			viol[i].field = (char *)st->violations[i].field;
			viol[i].description = (char *)st->violations[i].description;
			vp[i] = &viol[i];
		}
		status.n_violations = st->n_violations;
		status.violations = vp;
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
	size_t unsent = c->out.len + c->writing;
	if (!c->paused && unsent > c->srv->lim.out_high) {
		c->paused = true;
		c->srv->stats.reads_paused++;
		if (c->reading) {
			uv_read_stop((uv_stream_t *)&c->tcp);
			c->reading = false;
		}
	} else if (c->paused && unsent <= c->srv->lim.out_high / 2) {
		c->paused = false;
		/* Frames that arrived while paused go first. */
		if (c->in.len >= 4)
			conn_process(c, c->in.data, c->in.len);
		if (!c->paused)
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
	if (status < 0) {
		log_debug("rpc write failed", "err=%s", uv_err_name(status));
		conn_close(c);
		return;
	}
	if (c->close_after_flush && c->writing == 0 && c->out.len == 0) {
		conn_close(c);
		return;
	}
	conn_check_backpressure(c);
}

static void conn_flush(rpc_conn_t *c)
{
	if (c->closing || c->out.len == 0)
		goto out;
	size_t off = 0;
	if (c->writing == 0) {
		/* Nothing queued in the kernel path: try to write synchronously first. */
		uv_buf_t b = uv_buf_init((char *)c->out.data, (unsigned)c->out.len);
		int n = uv_try_write((uv_stream_t *)&c->tcp, &b, 1);
		if (n > 0) {
			off = (size_t)n;
			c->srv->stats.out_buffered -= (size_t)n;
		} else if (n != UV_EAGAIN && n < 0) {
			conn_close(c);
			return;
		}
	}
	if (off == c->out.len) {
		c->out.len = 0;
		goto out;
	}
	rpc_write_t *w = calloc(1, sizeof(*w));
	if (w == NULL) {
		conn_close(c);
		return;
	}
	w->conn = c;
	if (off == 0) {
		/* Hand the whole buffer over instead of copying it. */
		w->buf = c->out;
		memset(&c->out, 0, sizeof(c->out));
	} else {
		if (buf_append(&w->buf, c->out.data + off, c->out.len - off, SIZE_MAX / 2) != 0) {
			free(w);
			conn_close(c);
			return;
		}
		c->out.len = 0;
	}
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
	if (!c->closing && c->close_after_flush && c->writing == 0 && c->out.len == 0) {
		conn_close(c);
		return;
	}
	if (!c->closing)
		conn_check_backpressure(c);
}

static void on_prepare(uv_prepare_t *h)
{
	rpc_server_t *s = container_of(h, rpc_server_t, flusher);
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
	if (call->req != NULL)
		ospay__v1__rpc_request__free_unpacked(call->req, NULL);
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
				if (c->reading) {
					uv_read_stop((uv_stream_t *)&c->tcp);
					c->reading = false;
				}
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
		if (c->reading) {
			uv_read_stop((uv_stream_t *)&c->tcp);
			c->reading = false;
		}
	}
}

static void conn_dispatch_frame(rpc_conn_t *c, const uint8_t *p, size_t n)
{
	rpc_server_t *s = c->srv;
	s->stats.frames_in++;
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

static bool conn_over_high(const rpc_conn_t *c)
{
	return c->out.len + c->writing > c->srv->lim.out_high;
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
		if (conn_over_high(c)) {
			conn_check_backpressure(c);
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
		conn_dispatch_frame(c, p + 4, n);
		p += 4 + n;
		left -= 4 + n;
	}
	if (c->closing || c->close_after_flush)
		return;
	/* Keep the incomplete tail; its size is checked against max before growing. */
	if (data == c->in.data) {
		buf_consume(&c->in, len - left);
	} else if (left > 0 && buf_append(&c->in, p, left, conn_in_limit(c)) != 0) {
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

static void on_read(uv_stream_t *stream, ssize_t nread, const uv_buf_t *b)
{
	rpc_conn_t *c = stream->data;
	c->srv->readbuf_busy = false;
	if (nread < 0) {
		conn_close(c);
		return;
	}
	if (nread == 0 || c->closing)
		return;
	c->last_active = util_mono_ms();
	const uint8_t *data = (const uint8_t *)b->base;
	size_t len = (size_t)nread;
	if (c->in.len > 0) {
		/* A frame is already partly here: complete it in the connection buffer,
		 * after checking its declared size so the buffer never outgrows a frame. */
		if (c->in.len >= 4 && be32_get(c->in.data) > c->srv->lim.max_frame) {
			conn_reply_error(c, 0, ST_RESOURCE_EXHAUSTED, "frame too large", true);
			return;
		}
		if (buf_append(&c->in, data, len, conn_in_limit(c)) != 0) {
			conn_close(c);
			return;
		}
		conn_process(c, c->in.data, c->in.len);
		if (c->in.cap > (256u << 10) && c->in.len < 4096) {
			/* Do not keep a large frame's buffer around for an idle connection. */
			buf_t small = {0};
			if (buf_append(&small, c->in.data, c->in.len, SIZE_MAX / 2) == 0) {
				buf_free(&c->in);
				c->in = small;
			}
		}
	} else {
		conn_process(c, data, len);
	}
}

static void conn_start_reading(rpc_conn_t *c)
{
	if (c->reading || c->closing || c->close_after_flush || c->paused)
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
	buf_free(&c->in);
	s->stats.out_buffered -= c->out.len;
	buf_free(&c->out);
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
	/* Calls still being worked on stay alive; their replies go nowhere. */
	list_node_t *pos, *tmp;
	list_for_each_safe(pos, tmp, &c->calls)
	{
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
	s->stats.conns_accepted++;
	uv_tcp_nodelay(&c->tcp, 1);
	c->last_active = util_mono_ms();
	conn_start_reading(c);
}

static void on_sweep(uv_timer_t *t)
{
	rpc_server_t *s = container_of(t, rpc_server_t, sweeper);
	uint64_t now = util_mono_ms();
	list_node_t *pos, *tmp;
	list_for_each_safe(pos, tmp, &s->pending)
	{
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
	list_for_each_safe(pos, tmp, &s->conns)
	{
		rpc_conn_t *c = container_of(pos, rpc_conn_t, link);
		if (c->n_calls == 0 && c->out.len == 0 && c->writing == 0 &&
		    now - c->last_active >= s->lim.idle_ms) {
			log_debug("rpc idle connection closed", "");
			conn_close(c);
		}
	}
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
	uv_tcp_init(loop, &s->listener);
	s->listener.data = s;
	uv_prepare_init(loop, &s->flusher);
	uv_prepare_start(&s->flusher, on_prepare);
	uv_timer_init(loop, &s->sweeper);
	uv_timer_start(&s->sweeper, on_sweep, RPC_SWEEP_MS, RPC_SWEEP_MS);
	/* The sweeper alone must not keep a drained loop alive. */
	uv_unref((uv_handle_t *)&s->sweeper);
	uv_unref((uv_handle_t *)&s->flusher);
	s->handles_open = 3;
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
	return s->stats.calls_pending == 0 && s->stats.out_buffered == 0;
}

void rpc_server_close(rpc_server_t *s, void (*closed)(void *arg), void *arg)
{
	s->closing = true;
	s->closed_cb = closed;
	s->closed_arg = arg;
	/* Detach every pending call first: their handlers may still reply later. */
	list_node_t *pos, *tmp;
	list_for_each_safe(pos, tmp, &s->conns)
	{
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
	uv_close((uv_handle_t *)&s->sweeper, on_server_handle_closed);
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

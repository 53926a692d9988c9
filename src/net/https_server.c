#include "net/https_server.h"

#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <llhttp.h>

#include "common/buf.h"
#include "common/list.h"
#include "common/log.h"
#include "common/util.h"
#include "net/peers.h"
#include "net/tls.h"

/* Raw input is read in chunks of this size... */
#define HTTPS_READ_CHUNK 65536
/* ...and reading pauses while this much of it is unconsumed, which bounds the input
 * buffer to HTTPS_RIN_LIMIT per connection. */
#define HTTPS_RIN_SOFT 65536
#define HTTPS_RIN_LIMIT (HTTPS_RIN_SOFT + HTTPS_READ_CHUNK)
/* Plaintext is decrypted one TLS record (at most 16 KiB) at a time. */
#define HTTPS_PLAIN_CHUNK 16384
/* Room for a response head beyond the caller's extra headers. */
#define HTTPS_HEAD_MAX 65536
/* The TLS output buffer must hold at least a few records or mbedTLS cannot progress. */
#define HTTPS_TLS_OUT_MIN 65536
#define HTTPS_BACKLOG 511

enum conn_phase {
	PH_HANDSHAKE, /* TLS handshake in progress */
	PH_IDLE,      /* between requests (a response may still be leaving) */
	PH_HEADERS,   /* a request's head is arriving */
	PH_BODY,      /* its body is arriving */
	PH_HANDLER,   /* the handler owns the request; parsing is paused */
	PH_DRAIN,     /* a final response is queued: flush it, then shut down */
	PH_LINGER,    /* write side shut down; late input is discarded until EOF */
	PH_CLOSED,    /* uv_close was called; freed in the close callback */
};

typedef struct https_conn https_conn_t;

typedef struct https_hdr {
	size_t name; /* offsets into the request's head buffer */
	size_t value;
} https_hdr_t;

struct https_request {
	https_conn_t *conn; /* NULL once the connection is gone */
	/* The URL, then each field name and value, each NUL-terminated; offsets, not
	 * pointers, because the buffer grows while the head arrives. */
	buf_t head;
	https_hdr_t *hdrs;
	size_t n_hdrs;
	size_t cap_hdrs;
	buf_t body;
	size_t body_len;
	const char *path; /* into head, set once the head is complete */
	const char *query;
	uint64_t t_start_ns;
	uint8_t method;
	uint8_t http_minor;
	bool url_done;
	bool in_field;
	bool headers_done;
	bool keep_alive;
	bool dispatched;
	char peer[64];
};

struct https_conn {
	uv_tcp_t tcp;
	uv_timer_t timer;
	uv_shutdown_t shutdown;
	llhttp_t parser;
	tls_session_t tls;
	https_server_t *srv;
	list_node_t node;     /* in srv->conns */
	https_request_t *req; /* being received, or owned by the handler */
	buf_t rin;            /* bytes read from the socket (ciphertext under TLS) */
	size_t rin_head;
	buf_t pin; /* TLS: decrypted bytes not yet parsed */
	size_t pin_head;
	buf_t pout; /* TLS: response bytes not yet encrypted */
	size_t pout_head;
	buf_t wout;        /* bytes ready for the socket */
	size_t inflight;   /* bytes in uv_write requests not yet completed */
	size_t head_bytes; /* bytes of the current request head parsed so far */
	enum conn_phase phase;
	int fail_status; /* status a parser callback asked for */
	int open_handles;
	net_ip_t ip;
	bool counted; /* ip is counted in srv->peers */
	bool served;  /* a request has begun: idle_timeout_ms applies between requests */
	bool use_tls;
	bool tls_ready;
	bool reading;
	bool peer_eof;
	bool in_process;
	bool notify_sent;
	bool shutdown_sent;
	char peer[64];
};

typedef struct https_wreq {
	uv_write_t req;
	https_conn_t *conn;
	uint8_t *data;
	size_t len;
} https_wreq_t;

struct https_server {
	uv_loop_t *loop;
	uv_tcp_t listener;
	uv_timer_t drain_timer;
	https_options_t opt;
	tls_config_t *tls;
	llhttp_settings_t settings;
	https_handler_fn handler;
	void *udata;
	https_stats_t stats;
	list_node_t conns;
	size_t n_conns;
	net_peers_t peers; /* open connections per remote address */
	int open_handles;  /* listener and drain timer */
	bool closing;
	bool drain_timer_closed;
	https_closed_fn closed_cb;
	void *closed_arg;
	time_t date_sec;
	char date[40];
};

const uint64_t https_hist_bounds_us[HTTPS_HIST_BUCKETS] = {
	100,   250,    500,    1000,   2500,    5000,    10000,   25000,
	50000, 100000, 250000, 500000, 1000000, 2500000, 5000000, 10000000,
};

static void conn_process(https_conn_t *c);
static void conn_close(https_conn_t *c);
static void conn_on_write_done(uv_write_t *w, int status);
static void conn_on_timer(uv_timer_t *t);
static void srv_maybe_finish(https_server_t *s);

/* ---------------------------------------------------------------- small helpers */

static const struct {
	int code;
	const char *text;
} https_reasons[] = {
	{100, "Continue"},
	{200, "OK"},
	{201, "Created"},
	{202, "Accepted"},
	{204, "No Content"},
	{301, "Moved Permanently"},
	{302, "Found"},
	{304, "Not Modified"},
	{400, "Bad Request"},
	{401, "Unauthorized"},
	{403, "Forbidden"},
	{404, "Not Found"},
	{405, "Method Not Allowed"},
	{408, "Request Timeout"},
	{409, "Conflict"},
	{410, "Gone"},
	{411, "Length Required"},
	{413, "Content Too Large"},
	{414, "URI Too Long"},
	{415, "Unsupported Media Type"},
	{417, "Expectation Failed"},
	{422, "Unprocessable Content"},
	{429, "Too Many Requests"},
	{431, "Request Header Fields Too Large"},
	{500, "Internal Server Error"},
	{501, "Not Implemented"},
	{502, "Bad Gateway"},
	{503, "Service Unavailable"},
	{504, "Gateway Timeout"},
	{505, "HTTP Version Not Supported"},
};

/* The reason phrase; "" for codes without one here (allowed, clients ignore it). */
static const char *https_reason(int status)
{
	const char *text = "";
	for (size_t i = 0; i < OSPAY_ARRAY_LEN(https_reasons); i++)
		if (https_reasons[i].code == status)
			text = https_reasons[i].text;
	return text;
}

/* The one place where llhttp's error codes become HTTP statuses. Everything the
 * parser refuses is the client's fault, and none of it is worth detailing. */
static int https_parse_status(llhttp_errno_t err)
{
	/* HPE_UNEXPECTED_CONTENT_LENGTH (Content-Length with Transfer-Encoding), bad
	 * chunking, bad tokens: all 400. Only an HTTP version we do not speak differs. */
	return err == HPE_INVALID_VERSION ? 505 : 400;
}

void https_options_default(https_options_t *opt)
{
	memset(opt, 0, sizeof(*opt));
	opt->host = "127.0.0.1";
	opt->max_header_bytes = 16 * 1024;
	opt->max_headers = 100;
	opt->max_body_bytes = 1024 * 1024;
	opt->max_response_bytes = 16 * 1024 * 1024;
	opt->max_output_bytes = 256 * 1024;
	opt->max_connections = 1024;
	opt->max_connections_per_addr = 256;
	opt->handshake_timeout_ms = 10000;
	opt->first_request_timeout_ms = 5000;
	opt->header_timeout_ms = 10000;
	opt->body_timeout_ms = 30000;
	opt->idle_timeout_ms = 60000;
	opt->linger_ms = 2000;
}

/* Replaces every zero limit in o by its default. */
static void https_options_fill(https_options_t *o)
{
	https_options_t d;
	https_options_default(&d);
	if (o->host == NULL)
		o->host = d.host;
	if (o->max_header_bytes == 0)
		o->max_header_bytes = d.max_header_bytes;
	if (o->max_headers == 0)
		o->max_headers = d.max_headers;
	if (o->max_body_bytes == 0)
		o->max_body_bytes = d.max_body_bytes;
	if (o->max_response_bytes == 0)
		o->max_response_bytes = d.max_response_bytes;
	if (o->max_output_bytes == 0)
		o->max_output_bytes = d.max_output_bytes;
	if (o->max_connections == 0)
		o->max_connections = d.max_connections;
	if (o->max_connections_per_addr == 0)
		o->max_connections_per_addr = d.max_connections_per_addr;
	if (o->handshake_timeout_ms == 0)
		o->handshake_timeout_ms = d.handshake_timeout_ms;
	if (o->first_request_timeout_ms == 0)
		o->first_request_timeout_ms = d.first_request_timeout_ms;
	if (o->header_timeout_ms == 0)
		o->header_timeout_ms = d.header_timeout_ms;
	if (o->body_timeout_ms == 0)
		o->body_timeout_ms = d.body_timeout_ms;
	if (o->idle_timeout_ms == 0)
		o->idle_timeout_ms = d.idle_timeout_ms;
	if (o->linger_ms == 0)
		o->linger_ms = d.linger_ms;
}

/* The Date header value, formatted at most once per second, locale-independent. */
static const char *srv_date(https_server_t *s)
{
	static const char days[7][4] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
	static const char months[12][4] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
					   "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
	time_t now = time(NULL);
	struct tm tm;
	if (now != s->date_sec && gmtime_r(&now, &tm) != NULL) {
		snprintf(s->date, sizeof(s->date), "%s, %02d %s %04d %02d:%02d:%02d GMT",
			 days[tm.tm_wday % 7], tm.tm_mday, months[tm.tm_mon % 12],
			 tm.tm_year + 1900, tm.tm_hour, tm.tm_min, tm.tm_sec);
		s->date_sec = now;
	}
	return s->date;
}

/* printf into out[*off..cap); -ENOSPC (and out cut back to *off) if it does not fit. */
__attribute__((format(printf, 4, 5))) static int fmt_append(char *out, size_t cap, size_t *off,
							    const char *fmt, ...)
{
	int rc = 0;
	if (*off >= cap) {
		rc = -ENOSPC;
		goto out;
	}
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(out + *off, cap - *off, fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= cap - *off) {
		out[*off] = '\0';
		rc = -ENOSPC;
		goto out;
	}
	*off += (size_t)n;
out:
	return rc;
}

/* ---------------------------------------------------------------- requests */

static void request_free(https_request_t *req)
{
	buf_free(&req->head);
	buf_free(&req->body);
	free(req->hdrs);
	free(req);
}

const char *https_request_method(const https_request_t *req)
{
	return llhttp_method_name((llhttp_method_t)req->method);
}

const char *https_request_path(const https_request_t *req)
{
	return req->path;
}

const char *https_request_query(const https_request_t *req)
{
	return req->query;
}

const char *https_request_header(const https_request_t *req, const char *name)
{
	const char *v = NULL;
	for (size_t i = 0; i < req->n_hdrs && v == NULL; i++) {
		const char *n = (const char *)req->head.data + req->hdrs[i].name;
		if (strcasecmp(n, name) == 0)
			v = (const char *)req->head.data + req->hdrs[i].value;
	}
	return v;
}

size_t https_request_header_count(const https_request_t *req)
{
	return req->n_hdrs;
}

int https_request_header_at(const https_request_t *req, size_t i, const char **name,
			    const char **value)
{
	int rc = 0;
	if (i >= req->n_hdrs) {
		rc = -ERANGE;
		goto out;
	}
	*name = (const char *)req->head.data + req->hdrs[i].name;
	*value = (const char *)req->head.data + req->hdrs[i].value;
out:
	return rc;
}

const uint8_t *https_request_body(const https_request_t *req, size_t *len)
{
	static const uint8_t empty[1] = {0};
	*len = req->body_len;
	return req->body.data != NULL ? req->body.data : empty;
}

const char *https_request_peer(const https_request_t *req)
{
	return req->peer;
}

bool https_request_connected(const https_request_t *req)
{
	return req->conn != NULL;
}

/* ---------------------------------------------------------------- output */

/* Bytes accepted from responses but not yet confirmed written to the socket. */
static size_t conn_out_pending(const https_conn_t *c)
{
	return (c->pout.len - c->pout_head) + c->wout.len + c->inflight;
}

/* Queues response bytes: plaintext to encrypt under TLS, socket bytes otherwise. */
static int conn_out_append(https_conn_t *c, const void *p, size_t n)
{
	const https_options_t *o = &c->srv->opt;
	size_t limit = o->max_output_bytes + o->max_response_bytes + HTTPS_HEAD_MAX;
	buf_t *q = c->use_tls ? &c->pout : &c->wout;
	if (c->use_tls && c->pout_head > 0) {
		/* Keep the queue from creeping toward its cap on a busy pipelined link. */
		memmove(c->pout.data, c->pout.data + c->pout_head, c->pout.len - c->pout_head);
		c->pout.len -= c->pout_head;
		c->pout_head = 0;
	}
	return buf_append(q, p, n, limit);
}

/* Moves unencrypted output to the front of its buffer before new bytes go behind it. */
static void conn_out_compact(https_conn_t *c)
{
	if (c->use_tls && c->pout_head > 0) {
		memmove(c->pout.data, c->pout.data + c->pout_head, c->pout.len - c->pout_head);
		c->pout.len -= c->pout_head;
		c->pout_head = 0;
	}
}

static int conn_out_str(https_conn_t *c, const char *s)
{
	return conn_out_append(c, s, strlen(s));
}

/* A token character (RFC 9110 section 5.6.2), as header names need. */
static bool https_tchar(char ch)
{
	return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
	       (ch != '\0' && strchr("!#$%&'*+-.^_`|~", ch) != NULL);
}

/* True when s holds no control character that could end a header line early. */
static bool https_field_value_ok(const char *s)
{
	for (; *s != '\0'; s++)
		if ((unsigned char)*s < 0x20 && *s != '\t')
			return false;
	return true;
}

/*
 * A handler's "Name: value" line is accepted only with a token name and no control
 * characters, and never for the framing headers the server writes itself: a second
 * Content-Length or a Transfer-Encoding would desynchronize the client's parser
 * (response splitting).
 */
static bool https_extra_header_ok(const char *line)
{
	static const char *const owned[] = {"content-length", "transfer-encoding", "connection",
					    "date"};
	bool ok = true;
	const char *colon = strchr(line, ':');
	if (colon == NULL || colon == line || !https_field_value_ok(colon + 1)) {
		ok = false;
		goto out;
	}
	for (const char *p = line; p < colon && ok; p++)
		ok = https_tchar(*p);
	size_t n = (size_t)(colon - line);
	for (size_t i = 0; i < OSPAY_ARRAY_LEN(owned) && ok; i++)
		if (strlen(owned[i]) == n && strncasecmp(line, owned[i], n) == 0)
			ok = false;
out:
	return ok;
}

/* Checks a handler's response before anything is queued: 0, -EINVAL or -E2BIG. */
static int https_response_check(const https_server_t *s, int status, const char *ctype, size_t len,
				const char *const *extra)
{
	int rc = 0;
	size_t extra_bytes = 0;
	if (status < 200 || status > 599 || (ctype != NULL && !https_field_value_ok(ctype))) {
		rc = -EINVAL;
		goto out;
	}
	for (size_t i = 0; extra != NULL && extra[i] != NULL; i++) {
		if (!https_extra_header_ok(extra[i])) {
			rc = -EINVAL;
			goto out;
		}
		extra_bytes += strlen(extra[i]) + 2;
	}
	if (len > s->opt.max_response_bytes || extra_bytes > HTTPS_HEAD_MAX / 2)
		rc = -E2BIG;
out:
	return rc;
}

/*
 * Queues one complete response. The framing headers come from the server alone:
 * Content-Length always (except 204), "Connection: close" when the connection ends
 * after it, "Connection: keep-alive" for an HTTP/1.0 client that asked to keep it.
 * On failure nothing is left queued.
 */
static int conn_queue_response(https_conn_t *c, int status, const char *ctype, const void *body,
			       size_t len, const char *const *extra, bool keep_alive, bool http10,
			       bool head_only)
{
	char line[160];
	int rc = 0;
	conn_out_compact(c);
	buf_t *q = c->use_tls ? &c->pout : &c->wout;
	size_t mark = q->len;

	snprintf(line, sizeof(line), "HTTP/1.1 %d %s\r\nDate: %s\r\n", status, https_reason(status),
		 srv_date(c->srv));
	rc = conn_out_str(c, line);
	if (rc == 0 && ctype != NULL) {
		rc = conn_out_str(c, "Content-Type: ");
		if (rc == 0)
			rc = conn_out_str(c, ctype);
		if (rc == 0)
			rc = conn_out_str(c, "\r\n");
	}
	if (rc == 0 && status != 204) {
		snprintf(line, sizeof(line), "Content-Length: %zu\r\n", len);
		rc = conn_out_str(c, line);
	}
	if (rc == 0 && !keep_alive)
		rc = conn_out_str(c, "Connection: close\r\n");
	else if (rc == 0 && http10)
		rc = conn_out_str(c, "Connection: keep-alive\r\n");
	for (size_t i = 0; rc == 0 && extra != NULL && extra[i] != NULL; i++) {
		rc = conn_out_str(c, extra[i]);
		if (rc == 0)
			rc = conn_out_str(c, "\r\n");
	}
	if (rc == 0)
		rc = conn_out_str(c, "\r\n");
	if (rc == 0 && !head_only && status != 204 && status != 304 && len > 0)
		rc = conn_out_append(c, body, len);
	if (rc != 0)
		q->len = mark;
	return rc;
}

/* Hands the queued socket bytes to libuv; the buffer itself moves to the write
 * request, so nothing is copied. */
static int conn_flush(https_conn_t *c)
{
	int rc = 0;
	https_wreq_t *wr = NULL;
	if (c->wout.len == 0)
		goto out;
	wr = calloc(1, sizeof(*wr));
	if (wr == NULL) {
		rc = -ENOMEM;
		goto out;
	}
	wr->conn = c;
	wr->data = c->wout.data;
	wr->len = c->wout.len;
	uv_buf_t b = uv_buf_init((char *)wr->data, (unsigned)wr->len);
	rc = uv_write(&wr->req, (uv_stream_t *)&c->tcp, &b, 1, conn_on_write_done);
	if (rc != 0)
		goto out;
	memset(&c->wout, 0, sizeof(c->wout));
	c->inflight += wr->len;
	wr = NULL;
out:
	free(wr);
	return rc;
}

/* ---------------------------------------------------------------- connection life */

/* The deadline of the connection's phase in ms (0: none). */
static uint64_t conn_phase_ms(const https_conn_t *c)
{
	const https_options_t *o = &c->srv->opt;
	switch (c->phase) {
	case PH_HANDSHAKE:
		return o->handshake_timeout_ms;
	case PH_IDLE:
		/* Before any request, a short deadline: a client that connects and says
		 * nothing must not hold a slot for the whole keep-alive idle time. */
		return c->served ? o->idle_timeout_ms : o->first_request_timeout_ms;
	case PH_DRAIN:
		return o->idle_timeout_ms;
	case PH_HEADERS:
		return o->header_timeout_ms;
	case PH_BODY:
		return o->body_timeout_ms;
	case PH_LINGER:
		return o->linger_ms;
	case PH_HANDLER:
	case PH_CLOSED:
		break;
	}
	return 0;
}

/* Arms the connection's one timer for its phase: each phase has a single deadline,
 * which bytes trickling in do not push back (that is what defeats slow clients). */
static void conn_arm_timer(https_conn_t *c)
{
	uint64_t ms = conn_phase_ms(c);
	if (ms > 0)
		uv_timer_start(&c->timer, conn_on_timer, ms, 0);
	else
		uv_timer_stop(&c->timer);
}

static void conn_set_phase(https_conn_t *c, enum conn_phase ph)
{
	c->phase = ph;
	conn_arm_timer(c);
}

static void conn_on_write_done(uv_write_t *w, int status)
{
	https_wreq_t *wr = container_of(w, https_wreq_t, req);
	https_conn_t *c = wr->conn;
	c->inflight -= wr->len;
	if (status == 0)
		c->srv->stats.bytes_out += wr->len;
	free(wr->data);
	free(wr);
	if (status < 0) {
		/* Also UV_ECANCELED while the handle closes: conn_close is idempotent and the
		 * connection is still allocated (libuv runs these before the close callback). */
		conn_close(c);
	} else {
		/* Output progress restarts the stall clock of an idle or closing connection:
		 * the deadline is for a client that stopped reading, not for a big response. */
		if (c->phase == PH_IDLE || c->phase == PH_DRAIN)
			conn_arm_timer(c);
		conn_process(c);
	}
}

static void conn_on_close(uv_handle_t *h)
{
	https_conn_t *c = h->data;
	https_server_t *s = c->srv;
	if (--c->open_handles > 0)
		goto out;
	list_remove(&c->node);
	s->n_conns--;
	s->stats.conns_open--;
	if (c->counted)
		net_peers_drop(&s->peers, &c->ip);
	if (c->tls_ready)
		tls_session_free(&c->tls);
	buf_free(&c->rin);
	buf_free(&c->pin);
	buf_free(&c->pout);
	buf_free(&c->wout);
	free(c);
	srv_maybe_finish(s);
out:
	return;
}

/*
 * Closes at once (idempotent). A request still owned by the handler is detached, so
 * that https_respond only frees it; one still being received is freed. The memory
 * goes in the close callbacks, so callers up the stack may still touch c.
 */
static void conn_close_how(https_conn_t *c, bool reset)
{
	if (c->phase == PH_CLOSED)
		goto out;
	c->phase = PH_CLOSED;
	if (c->req != NULL) {
		if (c->req->dispatched)
			c->req->conn = NULL;
		else
			request_free(c->req);
		c->req = NULL;
	}
	/* uv_tcp_close_reset fails only when the handle is already closing, which
	 * PH_CLOSED rules out; fall back to a plain close all the same. */
	if (!reset || uv_tcp_close_reset(&c->tcp, conn_on_close) != 0)
		uv_close((uv_handle_t *)&c->tcp, conn_on_close);
	uv_close((uv_handle_t *)&c->timer, conn_on_close);
out:
	return;
}

static void conn_close(https_conn_t *c)
{
	conn_close_how(c, false);
}

/*
 * Refuses the request being received with status and ends the connection after the
 * answer: once the parser has failed, or a body is refused unread, the rest of the
 * byte stream cannot be framed reliably.
 */
static void conn_fail(https_conn_t *c, int status)
{
	https_server_t *s = c->srv;
	char body[96];
	if (c->phase == PH_HANDLER || c->phase >= PH_DRAIN)
		goto out;
	if (c->req != NULL) {
		request_free(c->req);
		c->req = NULL;
	}
	int n = snprintf(body, sizeof(body), "%d %s\n", status, https_reason(status));
	s->stats.refused++;
	if (conn_queue_response(c, status, "text/plain; charset=utf-8", body, (size_t)n, NULL,
				false, false, false) != 0) {
		conn_close(c);
		goto out;
	}
	s->stats.responses[status / 100]++;
	conn_set_phase(c, PH_DRAIN);
out:
	return;
}

static void conn_on_timer(uv_timer_t *t)
{
	https_conn_t *c = t->data;
	https_server_t *s = c->srv;
	switch (c->phase) {
	case PH_HANDSHAKE:
		s->stats.timeouts_handshake++;
		conn_close(c);
		break;
	case PH_IDLE:
		if (c->served)
			s->stats.idle_closes++;
		else
			s->stats.timeouts_first_request++;
		conn_close(c);
		break;
	case PH_HEADERS:
		s->stats.timeouts_header++;
		conn_fail(c, 408);
		break;
	case PH_BODY:
		s->stats.timeouts_body++;
		conn_fail(c, 408);
		break;
	case PH_DRAIN:
	case PH_LINGER:
		conn_close(c);
		break;
	case PH_HANDLER:
	case PH_CLOSED:
		break;
	}
	conn_process(c);
}

static void conn_on_shutdown(uv_shutdown_t *req, int status)
{
	https_conn_t *c = container_of(req, https_conn_t, shutdown);
	if (c->phase == PH_CLOSED) {
		/* UV_ECANCELED from uv_close: nothing left to do. */
	} else if (status < 0 || c->peer_eof) {
		conn_close(c);
	} else {
		/* Closing now, with client bytes unread (the rest of a refused body, a
		 * pipelined request), would make the kernel send RST, which can destroy our
		 * response before the client reads it. Read and drop until EOF instead. */
		conn_set_phase(c, PH_LINGER);
		conn_process(c);
	}
}

/* ---------------------------------------------------------------- reading */

static void conn_on_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *b)
{
	static char sink[16384];
	https_conn_t *c = h->data;
	if (c->phase == PH_LINGER) {
		/* Lingering input is discarded unread; one static buffer serves every
		 * connection because the loop is single-threaded and the data never lives
		 * past the read callback. */
		*b = uv_buf_init(sink, sizeof(sink));
		goto out;
	}
	if (c->rin_head > 0) {
		memmove(c->rin.data, c->rin.data + c->rin_head, c->rin.len - c->rin_head);
		c->rin.len -= c->rin_head;
		c->rin_head = 0;
	}
	if (buf_reserve(&c->rin, HTTPS_READ_CHUNK, HTTPS_RIN_LIMIT) != 0)
		*b = uv_buf_init(NULL, 0);
	else
		*b = uv_buf_init((char *)c->rin.data + c->rin.len,
				 (unsigned)(c->rin.cap - c->rin.len));
out:
	return;
}

static void conn_on_read(uv_stream_t *st, ssize_t n, const uv_buf_t *b)
{
	https_conn_t *c = st->data;
	if (n == 0)
		goto out;
	if (n == UV_ENOBUFS) {
		/* The input buffer is at its cap (allocation failed): stop until the parser
		 * has consumed some; conn_update_read starts reading again. */
		uv_read_stop(st);
		c->reading = false;
		goto out;
	}
	if (n > 0) {
		c->srv->stats.bytes_in += (uint64_t)n;
		if (c->phase != PH_LINGER)
			c->rin.len += (size_t)n;
	} else if (n == UV_EOF && c->phase != PH_LINGER) {
		c->peer_eof = true;
		uv_read_stop(st);
		c->reading = false;
	} else {
		conn_close(c);
	}
	conn_process(c);
out:
	return;
}

/* Reads only while the connection can use input: not while the handler owns a
 * request (the next pipelined one waits in the kernel), not while output is over its
 * bound (a client that does not read its responses gets no more of them), and not
 * while the input buffer is full. */
static void conn_update_read(https_conn_t *c)
{
	bool want = false;
	switch (c->phase) {
	case PH_HANDSHAKE:
	case PH_IDLE:
	case PH_HEADERS:
	case PH_BODY:
		want = !c->peer_eof && c->rin.len - c->rin_head < HTTPS_RIN_SOFT &&
		       conn_out_pending(c) <= c->srv->opt.max_output_bytes;
		break;
	case PH_LINGER:
		want = !c->peer_eof;
		break;
	case PH_HANDLER:
	case PH_DRAIN:
	case PH_CLOSED:
		break;
	}
	if (want && !c->reading) {
		if (uv_read_start((uv_stream_t *)&c->tcp, conn_on_alloc, conn_on_read) == 0)
			c->reading = true;
		else
			conn_close(c);
	} else if (!want && c->reading) {
		uv_read_stop((uv_stream_t *)&c->tcp);
		c->reading = false;
	}
}

/* ---------------------------------------------------------------- processing */

/* True when a "would block" from mbedTLS is real: something is queued for the socket
 * or in flight, and its completion will call conn_process again. Otherwise (the
 * flaky test hook) the operation is simply retried. */
static bool conn_tls_blocked_on_write(const https_conn_t *c)
{
	return c->wout.len > 0 || c->inflight > 0;
}

static int conn_step_handshake(https_conn_t *c)
{
	int progress = 0;
	int rc = tls_session_handshake(&c->tls);
	if (rc == 0) {
		conn_set_phase(c, PH_IDLE);
		progress = 1;
	} else if (rc == TLS_WANT_READ) {
		/* A client that leaves mid-handshake (a TCP health check, a scanner) frees
		 * its slot now rather than at the handshake timeout. */
		if (tls_session_pending(&c->tls))
			progress = 1;
		else if (c->peer_eof)
			conn_close(c);
	} else if (rc == TLS_WANT_WRITE) {
		progress = conn_tls_blocked_on_write(c) ? 0 : 1;
	} else {
		c->srv->stats.handshake_failures++;
		log_debug("https handshake failed", "peer=%s err=%d", c->peer, rc);
		/* Send the alert mbedTLS queued, then close; no close_notify after a failed
		 * handshake. */
		c->notify_sent = true;
		conn_set_phase(c, PH_DRAIN);
		progress = 1;
	}
	return progress;
}

/* Encrypts queued responses while the socket side stays under the output bound. */
static int conn_encrypt(https_conn_t *c)
{
	int rc = 0;
	size_t bound = c->srv->opt.max_output_bytes;
	while (c->pout.len > c->pout_head && c->wout.len + c->inflight < bound) {
		int n = tls_session_write(&c->tls, c->pout.data + c->pout_head,
					  c->pout.len - c->pout_head);
		if (n > 0) {
			c->pout_head += (size_t)n;
			if (c->pout_head == c->pout.len)
				c->pout.len = c->pout_head = 0;
		} else if (n == TLS_WANT_WRITE || n == TLS_WANT_READ) {
			if (conn_tls_blocked_on_write(c))
				break;
		} else {
			rc = n;
			break;
		}
	}
	return rc;
}

/* The final response is queued: send close_notify behind it, then shut the write
 * side down once everything is out (libuv orders the shutdown after the writes). */
static int conn_step_drain(https_conn_t *c)
{
	int progress = 0;
	if (c->shutdown_sent || (c->use_tls && c->pout.len > c->pout_head))
		goto out;
	if (c->use_tls && !c->notify_sent) {
		int rc = tls_session_close_notify(&c->tls);
		if (rc == TLS_WANT_WRITE && conn_tls_blocked_on_write(c))
			goto out;
		if (rc != TLS_WANT_WRITE)
			c->notify_sent = true;
		progress = 1;
		goto out;
	}
	if (conn_flush(c) != 0 ||
	    uv_shutdown(&c->shutdown, (uv_stream_t *)&c->tcp, conn_on_shutdown) != 0) {
		conn_close(c);
		goto out;
	}
	c->shutdown_sent = true;
out:
	return progress;
}

/* The client will send nothing more. An idle connection ends once its output is
 * out; a half-received request can never complete, so there is nobody to answer. */
static void conn_on_eof(https_conn_t *c)
{
	if (c->phase == PH_IDLE)
		conn_set_phase(c, PH_DRAIN);
	else
		conn_close(c);
}

/* Under TLS, decrypts the next plaintext into pin (which is empty). */
static int conn_tls_fill(https_conn_t *c)
{
	int progress = 0;
	c->pin.len = c->pin_head = 0;
	if (buf_reserve(&c->pin, HTTPS_PLAIN_CHUNK, HTTPS_PLAIN_CHUNK) != 0) {
		conn_close(c);
		goto out;
	}
	int n = tls_session_read(&c->tls, c->pin.data, HTTPS_PLAIN_CHUNK);
	if (n > 0) {
		c->pin.len = (size_t)n;
		progress = 1;
	} else if (n == 0) {
		c->peer_eof = true; /* close_notify */
		conn_on_eof(c);
		progress = 1;
	} else if (n == TLS_WANT_READ) {
		/* Records mbedTLS already holds (mbedtls_ssl_check_pending) or unread
		 * ciphertext: go on now rather than wait for a socket event that may never
		 * come. */
		if (tls_session_pending(&c->tls)) {
			progress = 1;
		} else if (c->peer_eof) {
			conn_on_eof(c);
			progress = 1;
		}
	} else if (n == TLS_WANT_WRITE) {
		progress = conn_tls_blocked_on_write(c) ? 0 : 1;
	} else {
		log_debug("https tls read failed", "peer=%s err=%d", c->peer, n);
		conn_close(c);
	}
out:
	return progress;
}

static void conn_dispatch(https_conn_t *c)
{
	https_server_t *s = c->srv;
	https_request_t *req = c->req;
	req->dispatched = true;
	conn_set_phase(c, PH_HANDLER);
	s->stats.requests++;
	s->handler(req, s->udata);
}

/*
 * Feeds parsed-input bytes to llhttp. While a request head is arriving, at most the
 * bytes still allowed for it are fed, so a head that is not complete after
 * max_header_bytes is caught exactly, whatever the read sizes.
 */
static int conn_feed(https_conn_t *c, buf_t *src, size_t *head)
{
	const https_options_t *o = &c->srv->opt;
	const char *p = (const char *)src->data + *head;
	size_t n = src->len - *head;
	bool in_head = c->phase == PH_IDLE || c->phase == PH_HEADERS;
	if (in_head && n > o->max_header_bytes - c->head_bytes)
		n = o->max_header_bytes - c->head_bytes;

	llhttp_errno_t err = llhttp_execute(&c->parser, p, n);
	size_t used = n;
	if (err != HPE_OK) {
		const char *pos = llhttp_get_error_pos(&c->parser);
		if (pos != NULL && pos >= p && pos <= p + n)
			used = (size_t)(pos - p);
	}
	*head += used;
	if (*head == src->len)
		src->len = *head = 0;
	if (c->phase == PH_IDLE || c->phase == PH_HEADERS)
		c->head_bytes += used;

	if (c->fail_status != 0) {
		conn_fail(c, c->fail_status);
	} else if (err == HPE_PAUSED) {
		conn_dispatch(c);
	} else if (err != HPE_OK) {
		log_debug("https request refused", "peer=%s llhttp=%s", c->peer,
			  llhttp_errno_name(err));
		conn_fail(c, https_parse_status(err));
	} else if ((c->phase == PH_IDLE || c->phase == PH_HEADERS) &&
		   c->head_bytes >= o->max_header_bytes) {
		bool in_url = c->req != NULL && !c->req->url_done;
		conn_fail(c, c->req == NULL ? 400 : in_url ? 414 : 431);
	}
	return 1;
}

static int conn_step_parse(https_conn_t *c)
{
	int progress = 0;
	buf_t *src = c->use_tls ? &c->pin : &c->rin;
	size_t *head = c->use_tls ? &c->pin_head : &c->rin_head;
	if (src->len > *head)
		progress = conn_feed(c, src, head);
	else if (c->use_tls)
		progress = conn_tls_fill(c);
	else if (c->peer_eof) {
		conn_on_eof(c);
		progress = 1;
	}
	return progress;
}

/* One unit of work; 1 if it made progress and another step may follow, 0 when the
 * connection waits for an event (socket data, a write completing, the handler). */
static int conn_step(https_conn_t *c)
{
	int progress = 0;
	if (c->phase == PH_CLOSED || c->phase == PH_LINGER)
		goto out;
	if (c->phase == PH_HANDSHAKE) {
		progress = conn_step_handshake(c);
		goto out;
	}
	/* Responses are encrypted first: they precede anything parsed from here on. */
	if (c->use_tls && conn_encrypt(c) != 0) {
		conn_close(c);
		goto out;
	}
	if (c->phase == PH_DRAIN)
		progress = conn_step_drain(c);
	else if (c->phase != PH_HANDLER && conn_out_pending(c) <= c->srv->opt.max_output_bytes)
		progress = conn_step_parse(c);
out:
	return progress;
}

/*
 * Drives a connection as far as it can go, then flushes output and decides whether
 * to read. Re-entry (a handler answering synchronously, from inside the dispatch
 * below) only marks state; the outer call continues from it.
 */
static void conn_process(https_conn_t *c)
{
	if (c->in_process || c->phase == PH_CLOSED)
		goto out;
	c->in_process = true;
	while (conn_step(c) > 0)
		;
	if (c->phase != PH_CLOSED && conn_flush(c) != 0)
		conn_close(c);
	if (c->phase != PH_CLOSED)
		conn_update_read(c);
	c->in_process = false;
out:
	return;
}

/* ---------------------------------------------------------------- llhttp callbacks */

static https_conn_t *conn_of(llhttp_t *p)
{
	return container_of(p, https_conn_t, parser);
}

/* Makes the parser stop with status as the answer; llhttp turns a non-zero return
 * into an error that sticks, and conn_feed reads fail_status. */
static int parse_fail(https_conn_t *c, int status)
{
	c->fail_status = status;
	return -1;
}

/* Appends to the request head, whose size is bounded like the raw head. */
static int req_head_append(https_conn_t *c, const void *p, size_t n)
{
	https_request_t *req = c->req;
	int rc = buf_append(&req->head, p, n, c->srv->opt.max_header_bytes);
	if (rc == -E2BIG)
		rc = parse_fail(c, req->url_done ? 431 : 414);
	else if (rc != 0)
		rc = parse_fail(c, 503);
	return rc;
}

static int on_message_begin(llhttp_t *p)
{
	https_conn_t *c = conn_of(p);
	int rc = 0;
	https_request_t *req = calloc(1, sizeof(*req));
	if (req == NULL) {
		rc = parse_fail(c, 503);
		goto out;
	}
	req->conn = c;
	req->t_start_ns = uv_hrtime();
	memcpy(req->peer, c->peer, sizeof(req->peer));
	c->req = req;
	c->served = true;
	conn_set_phase(c, PH_HEADERS);
out:
	return rc;
}

static int on_url(llhttp_t *p, const char *at, size_t n)
{
	return req_head_append(conn_of(p), at, n);
}

static int on_url_complete(llhttp_t *p)
{
	https_conn_t *c = conn_of(p);
	int rc = req_head_append(c, "", 1);
	if (rc == 0)
		c->req->url_done = true;
	return rc;
}

static int on_header_field(llhttp_t *p, const char *at, size_t n)
{
	https_conn_t *c = conn_of(p);
	https_request_t *req = c->req;
	int rc = 0;
	if (req->headers_done) /* trailer fields of a chunked body: not kept */
		goto out;
	if (!req->in_field) {
		if (req->n_hdrs == c->srv->opt.max_headers) {
			rc = parse_fail(c, 431);
			goto out;
		}
		if (req->n_hdrs == req->cap_hdrs) {
			size_t cap = req->cap_hdrs ? req->cap_hdrs * 2 : 16;
			if (cap > c->srv->opt.max_headers)
				cap = c->srv->opt.max_headers;
			https_hdr_t *h = realloc(req->hdrs, cap * sizeof(*h));
			if (h == NULL) {
				rc = parse_fail(c, 503);
				goto out;
			}
			req->hdrs = h;
			req->cap_hdrs = cap;
		}
		req->hdrs[req->n_hdrs].name = req->head.len;
		req->in_field = true;
	}
	rc = req_head_append(c, at, n);
out:
	return rc;
}

/* Ends a field name in the head and records where its value starts (an empty
 * value gets no on_header_value call). */
static int req_field_end(https_conn_t *c)
{
	https_request_t *req = c->req;
	int rc = req_head_append(c, "", 1);

	req->hdrs[req->n_hdrs].value = req->head.len;
	req->in_field = false;
	return rc;
}

/* Ends a field value in the head, without its trailing blanks, and counts the field. */
static int req_value_end(https_conn_t *c)
{
	https_request_t *req = c->req;
	size_t start = req->hdrs[req->n_hdrs].value;
	int rc;

	while (req->head.len > start && (req->head.data[req->head.len - 1] == ' ' ||
					 req->head.data[req->head.len - 1] == '\t'))
		req->head.len--;
	rc = req_head_append(c, "", 1);
	if (rc == 0)
		req->n_hdrs++;
	return rc;
}

static int on_header_field_complete(llhttp_t *p)
{
	https_conn_t *c = conn_of(p);
	return c->req->headers_done ? 0 : req_field_end(c);
}

static int on_header_value(llhttp_t *p, const char *at, size_t n)
{
	https_conn_t *c = conn_of(p);
	return c->req->headers_done ? 0 : req_head_append(c, at, n);
}

static int on_header_value_complete(llhttp_t *p)
{
	https_conn_t *c = conn_of(p);
	return c->req->headers_done ? 0 : req_value_end(c);
}

/* Splits the target into path and query, in place. An absolute-form target
 * ("http://host/p?q", which HTTP/1.1 servers must accept) keeps only its path. */
static void req_split_target(https_request_t *req)
{
	char *url = (char *)req->head.data;
	char *cut = strchr(url, '#');
	if (cut != NULL)
		*cut = '\0';
	cut = strchr(url, '?');
	req->query = "";
	if (cut != NULL) {
		*cut = '\0';
		req->query = cut + 1;
	}
	req->path = url;
	if (strncasecmp(url, "http://", 7) == 0 || strncasecmp(url, "https://", 8) == 0) {
		char *slash = strchr(strstr(url, "//") + 2, '/');
		req->path = slash != NULL ? slash : "/";
	}
}

static int on_headers_complete(llhttp_t *p)
{
	https_conn_t *c = conn_of(p);
	https_request_t *req = c->req;
	const https_options_t *o = &c->srv->opt;
	int rc = 0;
	size_t hosts = 0;
	bool not_chunked = false;

	req->headers_done = true;
	c->head_bytes = 0;
	req->method = llhttp_get_method(p);
	req->http_minor = llhttp_get_http_minor(p);
	if (llhttp_get_http_major(p) != 1) {
		rc = parse_fail(c, 505);
		goto out;
	}
	/* llhttp (strict) refuses this pair itself; checking again costs nothing and keeps
	 * request smuggling out even if a lenient flag were ever turned on. */
	if ((p->flags & F_CONTENT_LENGTH) && (p->flags & F_TRANSFER_ENCODING)) {
		rc = parse_fail(c, 400);
		goto out;
	}
	if (!req->url_done) {
		rc = parse_fail(c, 400);
		goto out;
	}
	for (size_t i = 0; i < req->n_hdrs; i++) {
		const char *name = (const char *)req->head.data + req->hdrs[i].name;
		const char *value = (const char *)req->head.data + req->hdrs[i].value;
		if (strcasecmp(name, "host") == 0)
			hosts++;
		/* chunked is the only coding the server removes; a body still compressed
		 * (gzip, chunked) would reach the handler looking like plain bytes. */
		if (strcasecmp(name, "transfer-encoding") == 0 && strcasecmp(value, "chunked") != 0)
			not_chunked = true;
	}
	if (not_chunked) {
		rc = parse_fail(c, 501);
		goto out;
	}
	/* RFC 9112 section 3.2: an HTTP/1.1 request without Host, or with two, is a 400. */
	if (hosts > 1 || (hosts == 0 && req->http_minor >= 1)) {
		rc = parse_fail(c, 400);
		goto out;
	}
	req_split_target(req);
	if ((p->flags & F_CONTENT_LENGTH) && p->content_length > o->max_body_bytes) {
		rc = parse_fail(c, 413);
		goto out;
	}
	bool has_body = (p->flags & F_CHUNKED) || p->content_length > 0;
	if ((p->flags & F_CONTENT_LENGTH) && p->content_length > 0 &&
	    buf_reserve(&req->body, (size_t)p->content_length + 1, o->max_body_bytes + 1) != 0) {
		rc = parse_fail(c, 503);
		goto out;
	}
	const char *expect = https_request_header(req, "expect");
	if (expect != NULL && strcasecmp(expect, "100-continue") != 0) {
		rc = parse_fail(c, 417);
		goto out;
	}
	/* The client waits for this before sending its body; the size was checked above,
	 * so the go-ahead is only given to bodies that can be accepted. */
	if (expect != NULL && has_body && req->http_minor >= 1) {
		conn_out_compact(c);
		if (conn_out_str(c, "HTTP/1.1 100 Continue\r\n\r\n") != 0) {
			rc = parse_fail(c, 503);
			goto out;
		}
	}
	conn_set_phase(c, PH_BODY);
out:
	return rc;
}

static int on_body(llhttp_t *p, const char *at, size_t n)
{
	https_conn_t *c = conn_of(p);
	const https_options_t *o = &c->srv->opt;
	int rc = 0;
	if (c->req->body.len + n > o->max_body_bytes) {
		rc = parse_fail(c, 413);
		goto out;
	}
	if (buf_append(&c->req->body, at, n, o->max_body_bytes + 1) != 0)
		rc = parse_fail(c, 503);
out:
	return rc;
}

/* Pauses the parser after each request: the rest of the input (pipelined requests)
 * waits until this one's response is queued, which keeps responses in order. */
static int on_message_complete(llhttp_t *p)
{
	https_conn_t *c = conn_of(p);
	https_request_t *req = c->req;
	int rc = HPE_PAUSED;
	req->body_len = req->body.len;
	if (buf_append(&req->body, "", 1, c->srv->opt.max_body_bytes + 1) != 0) {
		rc = parse_fail(c, 503);
		goto out;
	}
	/* An upgrade (or CONNECT) request is answered and the connection closed: the bytes
	 * after it would be another protocol. */
	req->keep_alive = llhttp_should_keep_alive(p) && !llhttp_get_upgrade(p);
out:
	return rc;
}

/* ---------------------------------------------------------------- responding */

int https_respond(https_request_t *req, int status, const char *content_type, const void *body,
		  size_t len, const char *const *extra_headers)
{
	int rc = 0;
	https_conn_t *c = req->conn;
	if (c == NULL) {
		rc = -ENOTCONN;
		goto out;
	}
	https_server_t *s = c->srv;
	rc = https_response_check(s, status, content_type, len, extra_headers);
	if (rc != 0) {
		log_warn("https handler response refused", "status=%d err=%d", status, rc);
		status = 500;
		content_type = "text/plain; charset=utf-8";
		body = "500 Internal Server Error\n";
		len = strlen(body);
		extra_headers = NULL;
	}
	bool keep = req->keep_alive && !s->closing;
	c->req = NULL;
	int qrc = conn_queue_response(c, status, content_type, body, len, extra_headers, keep,
				      req->http_minor == 0, req->method == HTTP_HEAD);
	if (qrc != 0) {
		rc = qrc;
		conn_close(c);
		goto out;
	}
	s->stats.responses[status / 100]++;
	https_hist_observe(&s->stats.latency, (uv_hrtime() - req->t_start_ns) / 1000);
	if (keep) {
		conn_set_phase(c, PH_IDLE);
		llhttp_resume(&c->parser);
	} else {
		conn_set_phase(c, PH_DRAIN);
	}
	conn_process(c);
out:
	request_free(req);
	return rc;
}

int https_reset(https_request_t *req)
{
	int rc = 0;
	https_conn_t *c = req->conn;
	if (c == NULL) {
		rc = -ENOTCONN;
		goto out;
	}
	c->req = NULL;
	req->conn = NULL;
	conn_close_how(c, true);
out:
	request_free(req);
	return rc;
}

/* ---------------------------------------------------------------- server */

static void conn_peer_name(https_conn_t *c)
{
	struct sockaddr_storage ss;
	int len = sizeof(ss);
	char ip[64] = "?";
	int port = 0;
	memset(&ss, 0, sizeof(ss));
	if (uv_tcp_getpeername(&c->tcp, (struct sockaddr *)&ss, &len) == 0) {
		if (ss.ss_family == AF_INET6) {
			const struct sockaddr_in6 *a = (const struct sockaddr_in6 *)&ss;
			uv_ip6_name(a, ip, sizeof(ip));
			port = ntohs(a->sin6_port);
		} else if (ss.ss_family == AF_INET) {
			const struct sockaddr_in *a = (const struct sockaddr_in *)&ss;
			uv_ip4_name(a, ip, sizeof(ip));
			port = ntohs(a->sin_port);
		}
	}
	snprintf(c->peer, sizeof(c->peer), ss.ss_family == AF_INET6 ? "[%s]:%d" : "%s:%d", ip,
		 port);
}

static void conn_accept(https_server_t *s)
{
	https_conn_t *c = calloc(1, sizeof(*c));
	if (c == NULL) {
		log_warn("https connection dropped", "err=%s", "ENOMEM");
		goto out;
	}
	if (uv_tcp_init(s->loop, &c->tcp) != 0) {
		free(c);
		goto out;
	}
	uv_timer_init(s->loop, &c->timer);
	c->tcp.data = c;
	c->timer.data = c;
	c->open_handles = 2;
	c->srv = s;
	c->phase = PH_IDLE;
	list_insert_tail(&s->conns, &c->node);
	s->n_conns++;
	s->stats.conns_open++;
	if (uv_accept((uv_stream_t *)&s->listener, (uv_stream_t *)&c->tcp) != 0) {
		conn_close(c);
		goto out;
	}
	/* One host holds at most its share of the slots (loopback clients are one host). */
	int rc = net_peers_admit(&s->peers, &c->tcp, s->opt.max_connections_per_addr, &c->ip);
	if (rc != 0) {
		s->stats.conns_rejected++;
		if (rc == -EMFILE)
			s->stats.conns_rejected_addr++;
		conn_close(c);
		goto out;
	}
	c->counted = true;
	s->stats.conns_accepted++;
	/* Responses are complete when written; Nagle would only delay the last segment. */
	uv_tcp_nodelay(&c->tcp, 1);
	conn_peer_name(c);
	llhttp_init(&c->parser, HTTP_REQUEST, &s->settings);
	c->use_tls = s->tls != NULL;
	if (c->use_tls) {
		size_t out_limit = s->opt.max_output_bytes + HTTPS_TLS_OUT_MIN;
		if (tls_session_init(&c->tls, s->tls, &c->rin, &c->rin_head, &c->wout, out_limit,
				     s->opt.test_bio_flaky) != 0) {
			conn_close(c);
			goto out;
		}
		c->tls_ready = true;
		conn_set_phase(c, PH_HANDSHAKE);
	} else {
		conn_set_phase(c, PH_IDLE);
	}
	conn_process(c);
out:
	return;
}

static void srv_on_reject_close(uv_handle_t *h)
{
	free(h);
}

/* Over the connection limit: accept and close at once, so the client learns it now
 * instead of waiting in the kernel's backlog. */
static void srv_reject(https_server_t *s)
{
	uv_tcp_t *t = malloc(sizeof(*t));
	if (t == NULL)
		goto out;
	if (uv_tcp_init(s->loop, t) != 0) {
		free(t);
		goto out;
	}
	if (uv_accept((uv_stream_t *)&s->listener, (uv_stream_t *)t) == 0)
		s->stats.conns_rejected++;
	uv_close((uv_handle_t *)t, srv_on_reject_close);
out:
	return;
}

static void srv_on_connection(uv_stream_t *ls, int status)
{
	https_server_t *s = ls->data;
	if (status < 0)
		log_warn("https accept failed", "err=%s", uv_err_name(status));
	else if (s->n_conns >= s->opt.max_connections)
		srv_reject(s);
	else
		conn_accept(s);
}

static void srv_on_handle_close(uv_handle_t *h)
{
	https_server_t *s = h->data;
	s->open_handles--;
	srv_maybe_finish(s);
}

/* Frees a closing server once its last connection and handle are gone. */
static void srv_maybe_finish(https_server_t *s)
{
	if (!s->closing || s->n_conns > 0) {
		/* Still serving, or connections still closing: their callbacks call again. */
	} else if (!s->drain_timer_closed) {
		s->drain_timer_closed = true;
		uv_close((uv_handle_t *)&s->drain_timer, srv_on_handle_close);
	} else if (s->open_handles == 0) {
		https_closed_fn cb = s->closed_cb;
		void *arg = s->closed_arg;
		tls_config_free(s->tls);
		net_peers_free(&s->peers);
		free(s);
		if (cb != NULL)
			cb(arg);
	}
}

static void srv_close_all(https_server_t *s)
{
	list_node_t *n, *next;

	list_for_each_safe(n, next, &s->conns)
		conn_close(container_of(n, https_conn_t, node));
}

static void srv_on_drain_timeout(uv_timer_t *t)
{
	srv_close_all(t->data);
}

static int srv_check_options(const https_options_t *o)
{
	int rc = 0;
	/* Keeps every size sum far from overflow and every write under libuv's 4 GiB. */
	const size_t big = (size_t)1 << 30;
	if (o->port < 0 || o->port > 65535 || o->max_header_bytes > big ||
	    o->max_body_bytes > big || o->max_response_bytes > big || o->max_output_bytes > big ||
	    o->max_headers > 65536 || (!o->plain && (o->cert_path == NULL || o->key_path == NULL)))
		rc = -EINVAL;
	return rc;
}

int https_server_start(uv_loop_t *loop, const https_options_t *opt, https_handler_fn handler,
		       void *udata, https_server_t **out)
{
	int rc = 0;
	https_server_t *s = NULL;
	struct sockaddr_storage addr;
	if (loop == NULL || opt == NULL || handler == NULL || out == NULL) {
		rc = -EINVAL;
		goto out;
	}
	s = calloc(1, sizeof(*s));
	if (s == NULL) {
		rc = -ENOMEM;
		goto out;
	}
	s->loop = loop;
	net_peers_init(&s->peers);
	s->opt = *opt;
	https_options_fill(&s->opt);
	s->handler = handler;
	s->udata = udata;
	rc = srv_check_options(&s->opt);
	if (rc != 0)
		goto out;
	memset(&addr, 0, sizeof(addr));
	if (strchr(s->opt.host, ':') != NULL)
		rc = uv_ip6_addr(s->opt.host, s->opt.port, (struct sockaddr_in6 *)&addr);
	else
		rc = uv_ip4_addr(s->opt.host, s->opt.port, (struct sockaddr_in *)&addr);
	if (rc != 0)
		goto out;
	if (!s->opt.plain) {
		rc = tls_config_new(&s->tls, s->opt.cert_path, s->opt.key_path);
		if (rc == 0 && s->opt.client_ca_path != NULL)
			rc = tls_config_require_client(s->tls, s->opt.client_ca_path);
		if (rc != 0)
			goto out;
	}
	/* The caller's strings are not kept. */
	s->opt.host = s->opt.cert_path = s->opt.key_path = s->opt.client_ca_path = NULL;

	llhttp_settings_init(&s->settings);
	s->settings.on_message_begin = on_message_begin;
	s->settings.on_url = on_url;
	s->settings.on_url_complete = on_url_complete;
	s->settings.on_header_field = on_header_field;
	s->settings.on_header_field_complete = on_header_field_complete;
	s->settings.on_header_value = on_header_value;
	s->settings.on_header_value_complete = on_header_value_complete;
	s->settings.on_headers_complete = on_headers_complete;
	s->settings.on_body = on_body;
	s->settings.on_message_complete = on_message_complete;

	list_init(&s->conns);
	rc = uv_tcp_init(loop, &s->listener);
	if (rc != 0)
		goto out;
	uv_timer_init(loop, &s->drain_timer);
	s->listener.data = s;
	s->drain_timer.data = s;
	s->open_handles = 2;
	rc = uv_tcp_bind(&s->listener, (const struct sockaddr *)&addr, 0);
	if (rc == 0)
		rc = uv_listen((uv_stream_t *)&s->listener, HTTPS_BACKLOG, srv_on_connection);
	if (rc != 0) {
		/* The handles exist now: they are released by the loop, with the server. */
		s->closing = true;
		uv_close((uv_handle_t *)&s->listener, srv_on_handle_close);
		srv_maybe_finish(s);
		s = NULL;
		goto out;
	}
	*out = s;
	s = NULL;
out:
	if (s != NULL) {
		tls_config_free(s->tls);
		free(s);
	}
	return rc;
}

int https_server_port(const https_server_t *srv)
{
	struct sockaddr_storage ss;
	int len = sizeof(ss);
	int rc = uv_tcp_getsockname(&srv->listener, (struct sockaddr *)&ss, &len);
	if (rc == 0)
		rc = ss.ss_family == AF_INET6 ? ntohs(((struct sockaddr_in6 *)&ss)->sin6_port)
					      : ntohs(((struct sockaddr_in *)&ss)->sin_port);
	return rc;
}

const https_stats_t *https_server_stats(const https_server_t *srv)
{
	return &srv->stats;
}

void https_server_close(https_server_t *s, uint64_t drain_ms, https_closed_fn cb, void *arg)
{
	list_node_t *n, *next;

	s->closing = true;
	s->closed_cb = cb;
	s->closed_arg = arg;
	uv_close((uv_handle_t *)&s->listener, srv_on_handle_close);
	list_for_each_safe(n, next, &s->conns) {
		https_conn_t *c = container_of(n, https_conn_t, node);
		bool busy = c->phase == PH_HANDLER || c->phase == PH_DRAIN ||
			    c->phase == PH_LINGER ||
			    (c->phase == PH_IDLE && conn_out_pending(c) > 0);
		if (drain_ms == 0 || !busy) {
			conn_close(c);
		} else if (c->phase == PH_IDLE) {
			/* A response is still leaving: let it finish, then close. */
			conn_set_phase(c, PH_DRAIN);
			conn_process(c);
		}
	}
	if (drain_ms > 0 && s->n_conns > 0)
		uv_timer_start(&s->drain_timer, srv_on_drain_timeout, drain_ms, 0);
	srv_maybe_finish(s);
}

/* ---------------------------------------------------------------- metrics */

void https_hist_observe(https_hist_t *h, uint64_t us)
{
	size_t i = 0;
	while (i < HTTPS_HIST_BUCKETS && us > https_hist_bounds_us[i])
		i++;
	h->buckets[i]++;
	h->count++;
	h->sum_us += us;
}

int https_hist_format(const https_hist_t *h, const char *name, const char *labels, char *out,
		      size_t cap, size_t *off)
{
	size_t start = *off;
	const char *sep = labels != NULL && labels[0] != '\0' ? "," : "";
	const char *lab = labels != NULL ? labels : "";
	uint64_t cum = 0;
	int rc = fmt_append(out, cap, off, "# TYPE %s histogram\n", name);
	for (size_t i = 0; i <= HTTPS_HIST_BUCKETS && rc == 0; i++) {
		cum += h->buckets[i];
		if (i < HTTPS_HIST_BUCKETS)
			rc = fmt_append(out, cap, off, "%s_bucket{%s%sle=\"%g\"} %" PRIu64 "\n",
					name, lab, sep, (double)https_hist_bounds_us[i] / 1e6, cum);
		else
			rc = fmt_append(out, cap, off, "%s_bucket{%s%sle=\"+Inf\"} %" PRIu64 "\n",
					name, lab, sep, cum);
	}
	if (rc == 0 && lab[0] != '\0')
		rc = fmt_append(out, cap, off, "%s_sum{%s} %.6f\n%s_count{%s} %" PRIu64 "\n", name,
				lab, (double)h->sum_us / 1e6, name, lab, h->count);
	else if (rc == 0)
		rc = fmt_append(out, cap, off, "%s_sum %.6f\n%s_count %" PRIu64 "\n", name,
				(double)h->sum_us / 1e6, name, h->count);
	if (rc != 0) {
		*off = start;
		if (start < cap)
			out[start] = '\0';
	}
	return rc;
}

int https_stats_format(const https_stats_t *st, const char *prefix, char *out, size_t cap,
		       size_t *off)
{
	const struct {
		const char *name;
		const char *type;
		uint64_t v;
	} rows[] = {
		{"connections_open", "gauge", st->conns_open},
		{"connections_accepted_total", "counter", st->conns_accepted},
		{"connections_rejected_total", "counter", st->conns_rejected},
		{"connections_rejected_per_address_total", "counter", st->conns_rejected_addr},
		{"requests_total", "counter", st->requests},
		{"requests_refused_total", "counter", st->refused},
		{"received_bytes_total", "counter", st->bytes_in},
		{"sent_bytes_total", "counter", st->bytes_out},
		{"handshake_failures_total", "counter", st->handshake_failures},
		{"handshake_timeouts_total", "counter", st->timeouts_handshake},
		{"header_timeouts_total", "counter", st->timeouts_header},
		{"body_timeouts_total", "counter", st->timeouts_body},
		{"idle_closes_total", "counter", st->idle_closes},
		{"first_request_timeouts_total", "counter", st->timeouts_first_request},
	};
	size_t start = *off;
	char name[128];
	int rc = 0;
	for (size_t i = 0; i < OSPAY_ARRAY_LEN(rows) && rc == 0; i++)
		rc = fmt_append(out, cap, off, "# TYPE %s_%s %s\n%s_%s %" PRIu64 "\n", prefix,
				rows[i].name, rows[i].type, prefix, rows[i].name, rows[i].v);
	if (rc == 0)
		rc = fmt_append(out, cap, off, "# TYPE %s_responses_total counter\n", prefix);
	for (int k = 1; k <= 5 && rc == 0; k++)
		rc = fmt_append(out, cap, off, "%s_responses_total{code=\"%dxx\"} %" PRIu64 "\n",
				prefix, k, st->responses[k]);
	if (rc == 0 && snprintf(name, sizeof(name), "%s_request_duration_seconds", prefix) >=
			       (int)sizeof(name))
		rc = -ENOSPC;
	if (rc == 0)
		rc = https_hist_format(&st->latency, name, NULL, out, cap, off);
	if (rc != 0) {
		*off = start;
		if (start < cap)
			out[start] = '\0';
	}
	return rc;
}

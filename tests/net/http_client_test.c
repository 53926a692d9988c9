/*
 * http_client against a real HTTP/1.1 server in another process.
 *
 * The server is this same executable started again (fork + exec of
 * /proc/self/exe) with HTTPC_TEST_SERVER_FD set: a constructor notices it, runs
 * a libuv + llhttp server on 127.0.0.1:0, writes the port to that fd and never
 * returns to Criterion. Every test starts its own server in the suite's init
 * and kills it by pid in fini.
 *
 * Routes: /ok, /slow?ms=N, /status/500, /reset (RST, no answer), /big (5 MiB,
 * ?chunked=1 without Content-Length), /bighdr (about 100 KiB of headers),
 * /echo (method, headers as X-Echo-<name>, body), /stats (counters, not
 * counted themselves).
 */
#include <criterion/criterion.h>

#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <unistd.h>

#include <curl/curl.h>
#include <llhttp.h>
#include <uv.h>

#include "common/util.h"
#include "net/http_client.h"

#define SRV_ENV "HTTPC_TEST_SERVER_FD"
#define SRV_BIG_BYTES (5u * 1024u * 1024u)
#define SRV_MAX_BODY (1u << 20)

/* ================================================================== the server (child) */

struct srv_counters {
	int active; /* requests received and not yet answered */
	int max_active;
	int conns;
	int max_conns;
	int accepted;
	int requests;
};

struct srv_conn {
	uv_tcp_t tcp;
	uv_timer_t timer;
	llhttp_t parser;
	int open_handles;
	bool closing;
	bool counted;
	bool keep_alive;
	char method[24];
	char url[1024];
	size_t url_len;
	char field[128];
	size_t field_len;
	char value[1024];
	size_t value_len;
	char echo[8192];
	size_t echo_len;
	uint8_t *body;
	size_t body_len;
};

struct srv_write {
	uv_write_t req;
	struct srv_conn *cn;
	char *data;
};

static struct srv_counters g_cnt;
static llhttp_settings_t g_settings;
static uv_loop_t g_srv_loop;

static void srv_on_closed(uv_handle_t *h)
{
	struct srv_conn *cn = h->data;
	if (--cn->open_handles == 0) {
		free(cn->body);
		free(cn);
	}
}

static void srv_uncount(struct srv_conn *cn)
{
	if (cn->counted) {
		g_cnt.active--;
		cn->counted = false;
	}
}

static void srv_close(struct srv_conn *cn, bool reset)
{
	if (cn->closing)
		return;
	cn->closing = true;
	srv_uncount(cn);
	g_cnt.conns--;
	if (reset)
		uv_tcp_close_reset(&cn->tcp, srv_on_closed);
	else
		uv_close((uv_handle_t *)&cn->tcp, srv_on_closed);
	uv_close((uv_handle_t *)&cn->timer, srv_on_closed);
}

static void srv_on_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *buf)
{
	static char space[65536];
	(void)h;
	(void)suggested;
	buf->base = space;
	buf->len = sizeof(space);
}

static void srv_on_read(uv_stream_t *s, ssize_t nread, const uv_buf_t *buf);

static void srv_on_written(uv_write_t *w, int status)
{
	struct srv_write *sw = container_of(w, struct srv_write, req);
	struct srv_conn *cn = sw->cn;

	free(sw->data);
	free(sw);
	if (cn->closing)
		return;
	if (status < 0 || !cn->keep_alive) {
		srv_close(cn, false);
		return;
	}
	llhttp_resume(&cn->parser);
	uv_read_start((uv_stream_t *)&cn->tcp, srv_on_alloc, srv_on_read);
}

/* Takes ownership of data. */
static void srv_write(struct srv_conn *cn, char *data, size_t len)
{
	struct srv_write *sw = calloc(1, sizeof(*sw));
	uv_buf_t b = uv_buf_init(data, (unsigned)len);

	srv_uncount(cn);
	if (sw == NULL) {
		free(data);
		srv_close(cn, false);
		return;
	}
	sw->cn = cn;
	sw->data = data;
	if (uv_write(&sw->req, (uv_stream_t *)&cn->tcp, &b, 1, srv_on_written) < 0) {
		free(data);
		free(sw);
		srv_close(cn, false);
	}
}

static void srv_respond(struct srv_conn *cn, int status, const char *hdrs, const void *body,
			size_t len)
{
	const char *reason = status == 200   ? "OK"
			     : status == 500 ? "Internal Server Error"
					     : "Not Found";
	const char *conn = cn->keep_alive ? "" : "Connection: close\r\n";
	int hl = snprintf(NULL, 0, "HTTP/1.1 %d %s\r\nContent-Length: %zu\r\n%s%s\r\n", status,
			  reason, len, conn, hdrs);
	char *out = malloc((size_t)hl + 1 + len);

	if (out == NULL) {
		srv_close(cn, false);
		return;
	}
	snprintf(out, (size_t)hl + 1, "HTTP/1.1 %d %s\r\nContent-Length: %zu\r\n%s%s\r\n", status,
		 reason, len, conn, hdrs);
	if (len > 0)
		memcpy(out + hl, body, len);
	srv_write(cn, out, (size_t)hl + len);
}

static void srv_on_slow(uv_timer_t *t)
{
	struct srv_conn *cn = t->data;
	srv_respond(cn, 200, "", "slow", 4);
}

static void srv_big(struct srv_conn *cn, bool chunked)
{
	const size_t chunk = 65536;
	size_t cap = SRV_BIG_BYTES + 4096 + (SRV_BIG_BYTES / chunk + 1) * 16;
	char *out = malloc(cap);
	size_t n = 0;

	if (out == NULL) {
		srv_close(cn, false);
		return;
	}
	if (!chunked) {
		n = (size_t)snprintf(out, cap, "HTTP/1.1 200 OK\r\nContent-Length: %u\r\n\r\n",
				     SRV_BIG_BYTES);
		memset(out + n, 'x', SRV_BIG_BYTES);
		n += SRV_BIG_BYTES;
	} else {
		n = (size_t)snprintf(out, cap,
				     "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n");
		for (size_t sent = 0; sent < SRV_BIG_BYTES; sent += chunk) {
			n += (size_t)snprintf(out + n, cap - n, "%zx\r\n", chunk);
			memset(out + n, 'y', chunk);
			n += chunk;
			memcpy(out + n, "\r\n", 2);
			n += 2;
		}
		n += (size_t)snprintf(out + n, cap - n, "0\r\n\r\n");
	}
	srv_write(cn, out, n);
}

/* Asked on a connection of its own, which the counts leave out. */
static void srv_stats_reply(struct srv_conn *cn)
{
	char b[256];
	int n = snprintf(b, sizeof(b),
			 "active=%d max_active=%d conns=%d max_conns=%d accepted=%d requests=%d\n",
			 g_cnt.active, g_cnt.max_active, g_cnt.conns - 1, g_cnt.max_conns,
			 g_cnt.accepted - 1, g_cnt.requests);
	srv_respond(cn, 200, "Content-Type: text/plain\r\n", b, (size_t)n);
}

static void srv_dispatch(struct srv_conn *cn)
{
	const char *url = cn->url;
	const char *q = strchr(url, '?');
	size_t plen = q ? (size_t)(q - url) : strlen(url);

	if (plen == 6 && memcmp(url, "/stats", 6) == 0) {
		srv_stats_reply(cn);
		return;
	}
	g_cnt.requests++;
	cn->counted = true;
	if (++g_cnt.active > g_cnt.max_active)
		g_cnt.max_active = g_cnt.active;
	if (plen == 3 && memcmp(url, "/ok", 3) == 0) {
		static const char json[] = "{\"ok\":true}";
		srv_respond(cn, 200, "Content-Type: application/json\r\nX-Test: yes\r\n", json,
			    sizeof(json) - 1);
	} else if (plen == 5 && memcmp(url, "/slow", 5) == 0) {
		long ms = (q && strncmp(q, "?ms=", 4) == 0) ? strtol(q + 4, NULL, 10) : 100;
		uv_timer_start(&cn->timer, srv_on_slow, (uint64_t)ms, 0);
	} else if (plen == 11 && memcmp(url, "/status/500", 11) == 0) {
		srv_respond(cn, 500, "", "boom", 4);
	} else if (plen == 6 && memcmp(url, "/reset", 6) == 0) {
		srv_close(cn, true);
	} else if (plen == 4 && memcmp(url, "/big", 4) == 0) {
		srv_big(cn, q != NULL && strstr(q, "chunked=1") != NULL);
	} else if (plen == 7 && memcmp(url, "/bighdr", 7) == 0) {
		size_t cap = 110 * 1100;
		char *h = malloc(cap);
		size_t n = 0;
		if (h == NULL) {
			srv_close(cn, false);
			return;
		}
		for (int i = 0; i < 100; i++) {
			n += (size_t)snprintf(h + n, cap - n, "X-Filler-%03d: ", i);
			memset(h + n, 'a', 1000);
			n += 1000;
			n += (size_t)snprintf(h + n, cap - n, "\r\n");
		}
		srv_respond(cn, 200, h, "", 0);
		free(h);
	} else if (plen == 5 && memcmp(url, "/echo", 5) == 0) {
		char *h = malloc(cn->echo_len + 64);
		if (h == NULL) {
			srv_close(cn, false);
			return;
		}
		int n = snprintf(h, 64, "X-Echo-Method: %s\r\n", cn->method);
		memcpy(h + n, cn->echo, cn->echo_len);
		h[(size_t)n + cn->echo_len] = '\0';
		srv_respond(cn, 200, h, cn->body, cn->body_len);
		free(h);
	} else {
		srv_respond(cn, 404, "", "", 0);
	}
}

static int srv_on_message_begin(llhttp_t *p)
{
	struct srv_conn *cn = p->data;
	cn->url_len = 0;
	cn->url[0] = '\0';
	cn->field_len = 0;
	cn->value_len = 0;
	cn->echo_len = 0;
	cn->body_len = 0;
	return 0;
}

static void srv_append(char *dst, size_t *len, size_t cap, const char *at, size_t n)
{
	if (n > cap - 1 - *len)
		n = cap - 1 - *len;
	memcpy(dst + *len, at, n);
	*len += n;
	dst[*len] = '\0';
}

static int srv_on_url(llhttp_t *p, const char *at, size_t n)
{
	struct srv_conn *cn = p->data;
	srv_append(cn->url, &cn->url_len, sizeof(cn->url), at, n);
	return 0;
}

static int srv_on_header_field(llhttp_t *p, const char *at, size_t n)
{
	struct srv_conn *cn = p->data;
	srv_append(cn->field, &cn->field_len, sizeof(cn->field), at, n);
	return 0;
}

static int srv_on_header_value(llhttp_t *p, const char *at, size_t n)
{
	struct srv_conn *cn = p->data;
	srv_append(cn->value, &cn->value_len, sizeof(cn->value), at, n);
	return 0;
}

static int srv_on_header_value_complete(llhttp_t *p)
{
	struct srv_conn *cn = p->data;
	char line[1400];
	int n = snprintf(line, sizeof(line), "X-Echo-%s: %s\r\n", cn->field, cn->value);
	if (n > 0 && (size_t)n < sizeof(cn->echo) - cn->echo_len) {
		memcpy(cn->echo + cn->echo_len, line, (size_t)n);
		cn->echo_len += (size_t)n;
	}
	cn->field_len = 0;
	cn->value_len = 0;
	cn->field[0] = '\0';
	cn->value[0] = '\0';
	return 0;
}

static int srv_on_body(llhttp_t *p, const char *at, size_t n)
{
	struct srv_conn *cn = p->data;
	if (cn->body_len + n > SRV_MAX_BODY)
		return -1;
	if (cn->body == NULL) {
		cn->body = malloc(SRV_MAX_BODY);
		if (cn->body == NULL)
			return -1;
	}
	memcpy(cn->body + cn->body_len, at, n);
	cn->body_len += n;
	return 0;
}

static int srv_on_message_complete(llhttp_t *p)
{
	struct srv_conn *cn = p->data;
	snprintf(cn->method, sizeof(cn->method), "%s",
		 llhttp_method_name((llhttp_method_t)llhttp_get_method(p)));
	cn->keep_alive = llhttp_should_keep_alive(p) != 0;
	/* One request at a time: parsing resumes after the answer is written. */
	return HPE_PAUSED;
}

static void srv_on_read(uv_stream_t *s, ssize_t nread, const uv_buf_t *buf)
{
	struct srv_conn *cn = s->data;
	enum llhttp_errno e;

	if (nread < 0) {
		srv_close(cn, false);
		return;
	}
	if (nread == 0)
		return;
	e = llhttp_execute(&cn->parser, buf->base, (size_t)nread);
	if (e == HPE_PAUSED) {
		/* curl never pipelines; bytes after a request are a test failure. */
		if (llhttp_get_error_pos(&cn->parser) != buf->base + nread) {
			srv_close(cn, false);
			return;
		}
		uv_read_stop(s);
		srv_dispatch(cn);
	} else if (e != HPE_OK) {
		srv_close(cn, false);
	}
}

static void srv_on_conn(uv_stream_t *lst, int status)
{
	struct srv_conn *cn;

	if (status < 0)
		return;
	cn = calloc(1, sizeof(*cn));
	if (cn == NULL)
		return;
	uv_tcp_init(lst->loop, &cn->tcp);
	uv_timer_init(lst->loop, &cn->timer);
	cn->tcp.data = cn;
	cn->timer.data = cn;
	cn->open_handles = 2;
	g_cnt.accepted++;
	if (++g_cnt.conns > g_cnt.max_conns)
		g_cnt.max_conns = g_cnt.conns;
	if (uv_accept(lst, (uv_stream_t *)&cn->tcp) < 0) {
		srv_close(cn, false);
		return;
	}
	llhttp_init(&cn->parser, HTTP_REQUEST, &g_settings);
	cn->parser.data = cn;
	uv_read_start((uv_stream_t *)&cn->tcp, srv_on_alloc, srv_on_read);
}

static void srv_main(int port_fd)
{
	uv_tcp_t lst;
	struct sockaddr_in a;
	struct sockaddr_storage bound;
	int blen = sizeof(bound);
	int port;

	signal(SIGPIPE, SIG_IGN);
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	llhttp_settings_init(&g_settings);
	g_settings.on_message_begin = srv_on_message_begin;
	g_settings.on_url = srv_on_url;
	g_settings.on_header_field = srv_on_header_field;
	g_settings.on_header_value = srv_on_header_value;
	g_settings.on_header_value_complete = srv_on_header_value_complete;
	g_settings.on_body = srv_on_body;
	g_settings.on_message_complete = srv_on_message_complete;
	if (uv_loop_init(&g_srv_loop) < 0 || uv_tcp_init(&g_srv_loop, &lst) < 0 ||
	    uv_ip4_addr("127.0.0.1", 0, &a) < 0 ||
	    uv_tcp_bind(&lst, (const struct sockaddr *)&a, 0) < 0 ||
	    uv_listen((uv_stream_t *)&lst, 1024, srv_on_conn) < 0 ||
	    uv_tcp_getsockname(&lst, (struct sockaddr *)&bound, &blen) < 0)
		_exit(2);
	port = ntohs(((struct sockaddr_in *)&bound)->sin_port);
	if (write(port_fd, &port, sizeof(port)) != (ssize_t)sizeof(port))
		_exit(3);
	close(port_fd);
	uv_run(&g_srv_loop, UV_RUN_DEFAULT);
	_exit(0);
}

__attribute__((constructor)) static void srv_maybe_become_server(void)
{
	const char *fd = getenv(SRV_ENV);
	if (fd != NULL)
		srv_main(atoi(fd));
}

/* ================================================================== the parent side */

static pid_t g_srv_pid;
static int g_srv_port;
static char g_base[64];

static void srv_start(void)
{
	int p[2];
	int port = 0;
	struct pollfd pfd;

	cr_assert_eq(pipe(p), 0);
	g_srv_pid = fork();
	cr_assert_geq(g_srv_pid, 0);
	if (g_srv_pid == 0) {
		char v[16];
		close(p[0]);
		snprintf(v, sizeof(v), "%d", p[1]);
		setenv(SRV_ENV, v, 1);
		execl("/proc/self/exe", "httpc-test-server", (char *)NULL);
		_exit(127);
	}
	close(p[1]);
	pfd.fd = p[0];
	pfd.events = POLLIN;
	cr_assert_eq(poll(&pfd, 1, 10000), 1, "test server did not start");
	cr_assert_eq(read(p[0], &port, sizeof(port)), (ssize_t)sizeof(port));
	close(p[0]);
	g_srv_port = port;
	snprintf(g_base, sizeof(g_base), "http://127.0.0.1:%d", port);
}

static void srv_stop(void)
{
	if (g_srv_pid > 0) {
		kill(g_srv_pid, SIGKILL);
		waitpid(g_srv_pid, NULL, 0);
		g_srv_pid = 0;
	}
}

static void suite_init(void)
{
	signal(SIGPIPE, SIG_IGN);
	srv_start();
}

static void suite_fini(void)
{
	srv_stop();
}

TestSuite(http_client, .init = suite_init, .fini = suite_fini, .timeout = 60);

/* The server's counters, fetched over a plain blocking socket outside any loop. */
static struct srv_counters srv_counters_get(void)
{
	struct srv_counters sc = {0};
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)g_srv_port)};
	struct timeval tv = {.tv_sec = 5};
	static const char req[] = "GET /stats HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n";
	char buf[2048];
	size_t n = 0;
	ssize_t k;
	const char *body;
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	cr_assert_geq(fd, 0);
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	cr_assert_eq(connect(fd, (struct sockaddr *)&a, sizeof(a)), 0);
	cr_assert_eq(write(fd, req, sizeof(req) - 1), (ssize_t)sizeof(req) - 1);
	for (;;) {
		k = read(fd, buf + n, sizeof(buf) - 1 - n);
		if (k <= 0)
			break;
		n += (size_t)k;
	}
	close(fd);
	buf[n] = '\0';
	body = strstr(buf, "\r\n\r\n");
	cr_assert_not_null(body, "no stats from the test server");
	cr_assert_eq(sscanf(body + 4,
			    "active=%d max_active=%d conns=%d max_conns=%d accepted=%d requests=%d",
			    &sc.active, &sc.max_active, &sc.conns, &sc.max_conns, &sc.accepted,
			    &sc.requests),
		     6);
	return sc;
}

/* ---- loop fixture */

struct fx {
	uv_loop_t loop;
	http_client_t *c;
	int pending; /* sent and not yet completed */
	int done;
	int closed_calls;
	int done_at_closed; /* completions seen when the closed callback ran */
	bool close_when_idle;
};

struct rec;
typedef void (*rec_hook)(struct rec *r, const http_response_t *res);

#define REC_MAX_HDRS 32

struct rec {
	struct fx *fx;
	rec_hook hook;
	int calls;
	int error;
	long status;
	char msg[96];
	char names[REC_MAX_HDRS][64];
	char values[REC_MAX_HDRS][256];
	size_t n_headers;
	uint8_t body[8192];
	size_t body_len;
	uint64_t total_ms;
	uint64_t transfer_us;
	uint64_t done_at_ms;
	int done_seq; /* 1 for the first completion of the fixture, 2 for the next... */
	int tag;
};

static uint64_t mono_ms(void)
{
	return uv_hrtime() / 1000000u;
}

static void on_closed(void *arg)
{
	struct fx *fx = arg;
	fx->closed_calls++;
	fx->done_at_closed = fx->done;
}

static void on_done(const http_response_t *res, void *arg)
{
	struct rec *r = arg;
	struct fx *fx = r->fx;

	r->calls++;
	r->error = res->error;
	r->status = res->status;
	snprintf(r->msg, sizeof(r->msg), "%s", res->error_msg);
	r->n_headers = 0;
	for (size_t i = 0; i < res->n_headers && i < REC_MAX_HDRS; i++) {
		snprintf(r->names[i], sizeof(r->names[i]), "%s", res->headers[i].name);
		snprintf(r->values[i], sizeof(r->values[i]), "%s", res->headers[i].value);
		r->n_headers++;
	}
	r->body_len = res->body_len;
	memcpy(r->body, res->body,
	       res->body_len < sizeof(r->body) ? res->body_len : sizeof(r->body));
	cr_expect_eq(res->body[res->body_len], '\0', "body is not NUL-terminated");
	r->total_ms = res->total_ms;
	r->transfer_us = res->transfer_us;
	r->done_at_ms = mono_ms();
	fx->done++;
	r->done_seq = fx->done;
	if (r->hook != NULL)
		r->hook(r, res);
	fx->pending--;
	if (fx->pending == 0 && fx->close_when_idle)
		http_client_close(fx->c, on_closed, fx);
}

static const char *rec_header(const struct rec *r, const char *name)
{
	for (size_t i = 0; i < r->n_headers; i++) {
		if (strcasecmp(r->names[i], name) == 0)
			return r->values[i];
	}
	return NULL;
}

static void fx_init(struct fx *fx, const http_client_opts_t *opts)
{
	memset(fx, 0, sizeof(*fx));
	cr_assert_eq(uv_loop_init(&fx->loop), 0);
	cr_assert_eq(http_client_init(&fx->c, &fx->loop, opts), 0);
	fx->close_when_idle = true;
}

static void fx_url(char *out, size_t cap, const char *path)
{
	snprintf(out, cap, "%s%s", g_base, path);
}

static int fx_send_req(struct fx *fx, struct rec *r, http_request_t *req)
{
	int rc;
	r->fx = fx;
	rc = http_client_send(fx->c, req, on_done, r);
	if (rc == 0)
		fx->pending++;
	return rc;
}

static void fx_get(struct fx *fx, struct rec *r, const char *path, uint32_t timeout_ms)
{
	char url[256];
	http_request_t req = {.url = url, .timeout_ms = timeout_ms};
	fx_url(url, sizeof(url), path);
	cr_assert_eq(fx_send_req(fx, r, &req), 0, "send %s", path);
}

/* Runs the loop until the client has closed, then checks nothing is left. */
static void fx_finish(struct fx *fx)
{
	if (fx->pending == 0 && fx->closed_calls == 0)
		http_client_close(fx->c, on_closed, fx);
	cr_assert_eq(uv_run(&fx->loop, UV_RUN_DEFAULT), 0);
	cr_assert_eq(fx->closed_calls, 1, "closed callback ran %d times", fx->closed_calls);
	cr_assert_eq(uv_loop_close(&fx->loop), 0);
}

/* ================================================================== tests */

Test(http_client, ok_has_status_headers_and_body)
{
	struct fx fx;
	struct rec r = {0};
	http_client_stats_t st;

	uint64_t t0 = mono_ms();

	fx_init(&fx, NULL);
	fx.close_when_idle = false;
	fx_get(&fx, &r, "/ok", 5000);
	cr_assert_eq(r.calls, 0, "callback ran inside send");
	http_client_get_stats(fx.c, &st);
	cr_assert_eq(st.started, 1);
	cr_assert_eq(st.in_flight, 1);
	/* Idle, the client keeps no active handle: the loop ends by itself. */
	cr_assert_eq(uv_run(&fx.loop, UV_RUN_DEFAULT), 0);
	cr_assert_eq(r.calls, 1);
	cr_assert_eq(r.error, 0, "error %d %s", r.error, r.msg);
	cr_assert_str_eq(r.msg, "");
	cr_assert_eq(r.status, 200);
	cr_assert_eq(r.body_len, 11);
	cr_assert_eq(memcmp(r.body, "{\"ok\":true}", 11), 0);
	cr_assert_str_eq(rec_header(&r, "content-type"), "application/json");
	cr_assert_str_eq(rec_header(&r, "X-Test"), "yes");
	cr_assert_str_eq(rec_header(&r, "Content-Length"), "11");
	cr_assert_gt(r.transfer_us, 0);
	/* The client's own measure lies inside the test's, whatever the load. */
	cr_assert_leq(r.total_ms, mono_ms() - t0, "total_ms %llu", (unsigned long long)r.total_ms);
	http_client_get_stats(fx.c, &st);
	cr_assert_eq(st.started, 1);
	cr_assert_eq(st.completed, 1);
	cr_assert_eq(st.failed, 0);
	cr_assert_eq(st.rejected, 0);
	cr_assert_eq(st.in_flight, 0);
	cr_assert_eq(st.queued, 0);
	fx_finish(&fx);
	cr_assert_eq(r.calls, 1);
}

Test(http_client, status_500_is_a_response_not_an_error)
{
	struct fx fx;
	struct rec r = {0};

	fx_init(&fx, NULL);
	fx_get(&fx, &r, "/status/500", 5000);
	fx_finish(&fx);
	cr_assert_eq(r.calls, 1);
	cr_assert_eq(r.error, 0, "error %d %s", r.error, r.msg);
	cr_assert_eq(r.status, 500);
	cr_assert_eq(r.body_len, 4);
	cr_assert_eq(memcmp(r.body, "boom", 4), 0);
}

Test(http_client, echo_sends_method_headers_and_binary_body)
{
	struct fx fx;
	struct rec post = {0};
	struct rec put = {0};
	struct rec del = {0};
	struct rec head = {0};
	uint8_t body[3000];
	char url[256];
	char ok_url[256];
	const http_header_t hdrs[] = {
		{"X-Custom", "abc def"},
		{"X-Empty", ""},
		{"Content-Type", "application/octet-stream"},
	};
	http_request_t req_post = {
		.method = "POST",
		.url = url,
		.headers = hdrs,
		.n_headers = 3,
		.body = body,
		.body_len = sizeof(body),
		.timeout_ms = 5000,
	};
	http_request_t req_put = {.method = "PUT", .url = url, .body = "{}", .body_len = 2};
	http_request_t req_del = {.method = "DELETE", .url = url};
	http_request_t req_head = {.method = "HEAD", .url = ok_url};

	for (size_t i = 0; i < sizeof(body); i++)
		body[i] = (uint8_t)(i * 7);
	fx_url(url, sizeof(url), "/echo");
	fx_url(ok_url, sizeof(ok_url), "/ok");
	fx_init(&fx, NULL);
	cr_assert_eq(fx_send_req(&fx, &post, &req_post), 0);
	/* The request is copied: scribbling over the caller's memory changes nothing. */
	memset(body, 0xee, 10);
	for (size_t i = 0; i < 10; i++)
		body[i] = (uint8_t)(i * 7);
	cr_assert_eq(fx_send_req(&fx, &put, &req_put), 0);
	cr_assert_eq(fx_send_req(&fx, &del, &req_del), 0);
	cr_assert_eq(fx_send_req(&fx, &head, &req_head), 0);
	fx_finish(&fx);

	cr_assert_eq(post.calls, 1);
	cr_assert_eq(post.error, 0, "error %d %s", post.error, post.msg);
	cr_assert_eq(post.status, 200);
	cr_assert_str_eq(rec_header(&post, "X-Echo-Method"), "POST");
	cr_assert_str_eq(rec_header(&post, "X-Echo-X-Custom"), "abc def");
	cr_assert_str_eq(rec_header(&post, "X-Echo-X-Empty"), "");
	cr_assert_str_eq(rec_header(&post, "X-Echo-Content-Type"), "application/octet-stream");
	cr_assert_str_eq(rec_header(&post, "X-Echo-Content-Length"), "3000");
	cr_assert_null(rec_header(&post, "X-Echo-Expect"), "Expect: 100-continue was sent");
	cr_assert_eq(post.body_len, sizeof(body));
	cr_assert_eq(memcmp(post.body, body, sizeof(body)), 0);

	cr_assert_eq(put.calls, 1);
	cr_assert_eq(put.error, 0);
	cr_assert_str_eq(rec_header(&put, "X-Echo-Method"), "PUT");
	cr_assert_null(rec_header(&put, "X-Echo-Content-Type"), "curl's form type leaked");
	cr_assert_eq(put.body_len, 2);
	cr_assert_eq(memcmp(put.body, "{}", 2), 0);

	cr_assert_eq(del.calls, 1);
	cr_assert_eq(del.error, 0);
	cr_assert_str_eq(rec_header(&del, "X-Echo-Method"), "DELETE");
	cr_assert_eq(del.body_len, 0);

	cr_assert_eq(head.calls, 1);
	cr_assert_eq(head.error, 0, "error %d %s", head.error, head.msg);
	cr_assert_eq(head.status, 200);
	cr_assert_eq(head.body_len, 0);
}

Test(http_client, timeout_is_etimedout_within_the_timeout)
{
	struct fx fx;
	struct rec r = {0};

	fx_init(&fx, NULL);
	fx_get(&fx, &r, "/slow?ms=3000", 300);
	fx_finish(&fx);
	cr_assert_eq(r.calls, 1);
	cr_assert_eq(r.error, -ETIMEDOUT, "error %d %s", r.error, r.msg);
	cr_assert_str_eq(r.msg, "timed out");
	/* Never early. Not late either: the server answers after 3 s, and a
	 * timeout enforced that late would have got the answer, not ETIMEDOUT
	 * (no upper wall-clock bound: a busy machine only makes it later). */
	cr_assert_geq(r.total_ms, 290);
	cr_assert_eq(r.status, 0);
	cr_assert_eq(r.body_len, 0);
}

Test(http_client, reset_is_econnreset)
{
	struct fx fx;
	struct rec r = {0};

	fx_init(&fx, NULL);
	fx_get(&fx, &r, "/reset", 5000);
	fx_finish(&fx);
	cr_assert_eq(r.calls, 1);
	cr_assert_eq(r.error, -ECONNRESET, "error %d %s", r.error, r.msg);
	cr_assert_eq(r.status, 0);
}

Test(http_client, refused_is_econnrefused)
{
	struct fx fx;
	struct rec r = {0};
	struct sockaddr_in a = {.sin_family = AF_INET};
	socklen_t alen = sizeof(a);
	char url[128];
	http_request_t req = {.url = url, .timeout_ms = 5000};
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	/* A port that was just free and has nobody listening. */
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	cr_assert_eq(bind(fd, (struct sockaddr *)&a, sizeof(a)), 0);
	cr_assert_eq(getsockname(fd, (struct sockaddr *)&a, &alen), 0);
	close(fd);
	snprintf(url, sizeof(url), "http://127.0.0.1:%d/ok", ntohs(a.sin_port));
	fx_init(&fx, NULL);
	cr_assert_eq(fx_send_req(&fx, &r, &req), 0);
	fx_finish(&fx);
	cr_assert_eq(r.calls, 1);
	cr_assert_eq(r.error, -ECONNREFUSED, "error %d %s", r.error, r.msg);
	cr_assert_str_eq(r.msg, "connection refused");
}

Test(http_client, oversized_responses_are_e2big)
{
	struct fx fx;
	struct rec sized = {0};
	struct rec chunked = {0};
	struct rec hdrs = {0};
	struct rec small = {0};
	http_client_stats_t st;

	fx_init(&fx, NULL);
	fx.close_when_idle = false;
	fx_get(&fx, &sized, "/big", 10000);
	fx_get(&fx, &chunked, "/big?chunked=1", 10000);
	fx_get(&fx, &hdrs, "/bighdr", 10000);
	fx_get(&fx, &small, "/ok", 10000);
	cr_assert_eq(uv_run(&fx.loop, UV_RUN_DEFAULT), 0);
	http_client_get_stats(fx.c, &st);
	fx_finish(&fx);
	/* By Content-Length, before any byte of the body. */
	cr_assert_eq(sized.calls, 1);
	cr_assert_eq(sized.error, -E2BIG, "error %d %s", sized.error, sized.msg);
	cr_assert_str_eq(sized.msg, "response too large");
	/* By counting, once the cap is passed. */
	cr_assert_eq(chunked.calls, 1);
	cr_assert_eq(chunked.error, -E2BIG, "error %d %s", chunked.error, chunked.msg);
	cr_assert_eq(chunked.status, 200);
	cr_assert_leq(chunked.body_len, HTTP_CLIENT_DEFAULT_MAX_RESPONSE);
	cr_assert_eq(hdrs.calls, 1);
	cr_assert_eq(hdrs.error, -E2BIG, "error %d %s", hdrs.error, hdrs.msg);
	cr_assert_str_eq(hdrs.msg, "response headers too large");
	cr_assert_eq(small.calls, 1);
	cr_assert_eq(small.error, 0);
	cr_assert_eq(st.completed, 1);
	cr_assert_eq(st.failed, 3);
}

Test(http_client, max_response_option_is_exact)
{
	struct fx fx;
	struct rec fits = {0};
	struct rec over = {0};
	http_client_opts_t o = {.max_response_bytes = 11};

	fx_init(&fx, &o);
	fx_get(&fx, &fits, "/ok", 5000);   /* exactly 11 bytes */
	fx_get(&fx, &over, "/echo", 5000); /* POSTless echo: 0 bytes */
	fx_finish(&fx);
	cr_assert_eq(fits.error, 0, "error %d %s", fits.error, fits.msg);
	cr_assert_eq(fits.body_len, 11);
	cr_assert_eq(over.error, 0);

	fx_init(&fx, &(http_client_opts_t){.max_response_bytes = 10});
	memset(&fits, 0, sizeof(fits));
	fx_get(&fx, &fits, "/ok", 5000);
	fx_finish(&fx);
	cr_assert_eq(fits.error, -E2BIG, "error %d %s", fits.error, fits.msg);
}

/* ---- per-pool concurrency */

struct sampler {
	uv_timer_t timer;
	http_client_t *c;
	uint32_t max_in_flight;
	uint32_t max_queued;
	uint64_t last_ms;
	uint64_t max_gap_ms;
	int ticks;
};

static void sampler_tick(uv_timer_t *t)
{
	struct sampler *s = container_of(t, struct sampler, timer);
	uint64_t now = mono_ms();
	http_client_stats_t st;

	if (now - s->last_ms > s->max_gap_ms)
		s->max_gap_ms = now - s->last_ms;
	s->last_ms = now;
	s->ticks++;
	http_client_get_stats(s->c, &st);
	if (st.in_flight > s->max_in_flight)
		s->max_in_flight = st.in_flight;
	if (st.queued > s->max_queued)
		s->max_queued = st.queued;
}

static void sampler_start(struct sampler *s, uv_loop_t *loop, http_client_t *c, uint64_t every)
{
	memset(s, 0, sizeof(*s));
	s->c = c;
	s->last_ms = mono_ms();
	cr_assert_eq(uv_timer_init(loop, &s->timer), 0);
	cr_assert_eq(uv_timer_start(&s->timer, sampler_tick, every, every), 0);
}

static struct sampler *g_sampler;
static int g_sampler_closed;

static void sampler_closed(uv_handle_t *h)
{
	(void)h;
	g_sampler_closed++;
}

/* Hook for the last request: stop sampling before the client closes. */
static void hook_stop_sampler(struct rec *r, const http_response_t *res)
{
	(void)res;
	if (r->fx->pending == 1 && !uv_is_closing((uv_handle_t *)&g_sampler->timer))
		uv_close((uv_handle_t *)&g_sampler->timer, sampler_closed);
}

Test(http_client, pool_limit_caps_concurrency_and_queues_fifo)
{
	enum { N = 20 };
	struct fx fx;
	static struct rec r[N];
	struct sampler smp;
	http_client_opts_t o = {.pool_max_in_flight = 4};
	http_client_stats_t st;
	struct srv_counters sc;
	uint64_t t0;

	fx_init(&fx, &o);
	sampler_start(&smp, &fx.loop, fx.c, 5);
	g_sampler = &smp;
	t0 = mono_ms();
	for (int i = 0; i < N; i++) {
		r[i].hook = hook_stop_sampler;
		fx_get(&fx, &r[i], "/slow?ms=200", 10000);
	}
	http_client_get_stats(fx.c, &st);
	cr_assert_eq(st.in_flight, 4);
	cr_assert_eq(st.queued, N - 4);
	fx_finish(&fx);
	cr_assert_eq(g_sampler_closed, 1);
	for (int i = 0; i < N; i++) {
		cr_assert_eq(r[i].calls, 1, "request %d ran %d times", i, r[i].calls);
		cr_assert_eq(r[i].error, 0, "request %d: %d %s", i, r[i].error, r[i].msg);
		cr_assert_eq(r[i].status, 200);
	}
	/* At most 4 at once, 200 ms each: five waves at least. */
	cr_assert_geq(mono_ms() - t0, 5 * 200 - 5);
	cr_assert_leq(smp.max_in_flight, 4);
	sc = srv_counters_get();
	cr_assert_eq(sc.requests, N);
	cr_assert_eq(sc.max_active, 4, "server saw %d at once", sc.max_active);
	/* Connections are reused from the multi handle's cache. */
	cr_assert_leq(sc.accepted, 4, "server accepted %d connections", sc.accepted);
}

Test(http_client, pools_are_independent)
{
	struct fx fx;
	struct rec a1 = {0};
	struct rec a2 = {0};
	struct rec b1 = {0};
	char url[256];
	http_request_t ra = {.url = url, .pool = "cielo", .timeout_ms = 5000};
	http_request_t rb = {.url = url, .pool = "zapme", .timeout_ms = 5000};
	struct srv_counters sc;

	fx_url(url, sizeof(url), "/slow?ms=300");
	fx_init(&fx, NULL);
	cr_assert_eq(http_client_pool_limit(fx.c, "cielo", 1), 0);
	cr_assert_eq(http_client_pool_limit(fx.c, "zapme", 1), 0);
	cr_assert_eq(http_client_pool_limit(fx.c, "zapme", 0), -EINVAL);
	cr_assert_eq(fx_send_req(&fx, &a1, &ra), 0);
	cr_assert_eq(fx_send_req(&fx, &a2, &ra), 0);
	cr_assert_eq(fx_send_req(&fx, &b1, &rb), 0);
	fx_finish(&fx);
	cr_assert(a1.calls == 1 && a2.calls == 1 && b1.calls == 1);
	cr_assert(a1.error == 0 && a2.error == 0 && b1.error == 0);
	/* b1 ran beside a1 (two at once at the server); a2 waited for a1. */
	cr_assert_geq(a2.done_at_ms, a1.done_at_ms + 250);
	sc = srv_counters_get();
	cr_assert_eq(sc.max_active, 2);
}

Test(http_client, raising_a_pool_limit_starts_queued_requests)
{
	struct fx fx;
	static struct rec r[6];
	http_client_opts_t o = {.pool_max_in_flight = 1};
	http_client_stats_t st;

	fx_init(&fx, &o);
	for (int i = 0; i < 6; i++)
		fx_get(&fx, &r[i], "/slow?ms=300", 5000);
	http_client_get_stats(fx.c, &st);
	cr_assert_eq(st.in_flight, 1);
	cr_assert_eq(st.queued, 5);
	cr_assert_eq(http_client_pool_limit(fx.c, NULL, 6), 0);
	http_client_get_stats(fx.c, &st);
	cr_assert_eq(st.in_flight, 6);
	cr_assert_eq(st.queued, 0);
	fx_finish(&fx);
	for (int i = 0; i < 6; i++)
		cr_assert(r[i].calls == 1 && r[i].error == 0);
	cr_assert_eq(srv_counters_get().max_active, 6);
}

static int g_order[8];
static int g_order_n;

static void hook_record_order(struct rec *r, const http_response_t *res)
{
	(void)res;
	g_order[g_order_n++] = r->tag;
}

Test(http_client, queue_is_fifo)
{
	struct fx fx;
	static struct rec r[8];
	http_client_opts_t o = {.pool_max_in_flight = 1};

	fx_init(&fx, &o);
	for (int i = 0; i < 8; i++) {
		r[i].tag = i;
		r[i].hook = hook_record_order;
		/* Later ones are faster: only the queue can keep them in order. */
		fx_get(&fx, &r[i], i % 2 ? "/ok" : "/slow?ms=20", 5000);
	}
	fx_finish(&fx);
	cr_assert_eq(g_order_n, 8);
	for (int i = 0; i < 8; i++) {
		cr_assert_eq(r[i].error, 0);
		cr_assert_eq(g_order[i], i, "completion %d was request %d", i, g_order[i]);
	}
}

Test(http_client, full_queue_is_eagain_and_never_calls_back)
{
	struct fx fx;
	struct rec r[4] = {0};
	char url[256];
	http_request_t req = {.url = url, .timeout_ms = 5000};
	http_client_opts_t o = {.pool_max_in_flight = 1, .max_queued = 2};
	http_client_stats_t st;

	fx_url(url, sizeof(url), "/slow?ms=100");
	fx_init(&fx, &o);
	for (int i = 0; i < 3; i++)
		cr_assert_eq(fx_send_req(&fx, &r[i], &req), 0);
	cr_assert_eq(fx_send_req(&fx, &r[3], &req), -EAGAIN);
	http_client_get_stats(fx.c, &st);
	cr_assert_eq(st.rejected, 1);
	cr_assert_eq(st.queued, 2);
	fx_finish(&fx);
	for (int i = 0; i < 3; i++)
		cr_assert(r[i].calls == 1 && r[i].error == 0);
	cr_assert_eq(r[3].calls, 0);
}

Test(http_client, timeout_counts_time_spent_queued)
{
	struct fx fx;
	struct rec slow = {0};
	struct rec queued = {0};
	http_client_opts_t o = {.pool_max_in_flight = 1};

	fx_init(&fx, &o);
	fx_get(&fx, &slow, "/slow?ms=800", 5000);
	fx_get(&fx, &queued, "/ok", 200);
	fx_finish(&fx);
	cr_assert_eq(queued.calls, 1);
	cr_assert_eq(queued.error, -ETIMEDOUT, "error %d %s", queued.error, queued.msg);
	cr_assert_str_eq(queued.msg, "timed out in queue");
	cr_assert_eq(queued.transfer_us, 0);
	cr_assert_geq(queued.total_ms, 195);
	cr_assert_eq(slow.calls, 1);
	cr_assert_eq(slow.error, 0);
	/* It timed out while the slot was still taken, not when it was freed. */
	cr_assert_lt(queued.done_seq, slow.done_seq);
	cr_assert_eq(srv_counters_get().requests, 1);
}

Test(http_client, bad_requests_are_refused_without_callback)
{
	struct fx fx;
	struct rec r = {0};
	char ok[256];
	char long_pool[HTTP_CLIENT_POOL_NAME_MAX + 2];
	const http_header_t crlf[] = {{"X-A", "a\r\nX-Injected: 1"}};
	const http_header_t badname[] = {{"X A", "a"}};
	const http_header_t framing[] = {{"content-length", "5"}};
	http_client_stats_t st;

	memset(long_pool, 'p', sizeof(long_pool) - 1);
	long_pool[sizeof(long_pool) - 1] = '\0';
	fx_url(ok, sizeof(ok), "/ok");
	fx_init(&fx, NULL);
	cr_assert_eq(fx_send_req(&fx, &r, &(http_request_t){.url = NULL}), -EINVAL);
	cr_assert_eq(fx_send_req(&fx, &r, &(http_request_t){.url = "not a url"}), -EINVAL);
	cr_assert_eq(fx_send_req(&fx, &r, &(http_request_t){.url = "ftp://127.0.0.1/x"}), -EINVAL);
	cr_assert_eq(fx_send_req(&fx, &r, &(http_request_t){.url = "file:///etc/passwd"}), -EINVAL);
	cr_assert_eq(fx_send_req(&fx, &r, &(http_request_t){.url = ok, .method = "GE T"}), -EINVAL);
	cr_assert_eq(fx_send_req(&fx, &r, &(http_request_t){.url = ok, .method = ""}), -EINVAL);
	cr_assert_eq(
		fx_send_req(&fx, &r, &(http_request_t){.url = ok, .headers = crlf, .n_headers = 1}),
		-EINVAL);
	cr_assert_eq(fx_send_req(&fx, &r,
				 &(http_request_t){.url = ok, .headers = badname, .n_headers = 1}),
		     -EINVAL);
	cr_assert_eq(fx_send_req(&fx, &r,
				 &(http_request_t){.url = ok, .headers = framing, .n_headers = 1}),
		     -EINVAL);
	cr_assert_eq(fx_send_req(&fx, &r, &(http_request_t){.url = ok, .body_len = 3}), -EINVAL);
	cr_assert_eq(fx_send_req(&fx, &r, &(http_request_t){.url = ok, .pool = long_pool}),
		     -EINVAL);
	cr_assert_eq(fx_send_req(&fx, &r, &(http_request_t){.url = ok, .pool = ""}), -EINVAL);
	cr_assert_eq(http_client_send(fx.c, NULL, on_done, &r), -EINVAL);
	cr_assert_eq(http_client_send(fx.c, &(http_request_t){.url = ok}, NULL, &r), -EINVAL);
	http_client_get_stats(fx.c, &st);
	cr_assert_eq(st.rejected, 14);
	cr_assert_eq(st.started, 0);
	fx_finish(&fx);
	cr_assert_eq(r.calls, 0);
	cr_assert_eq(srv_counters_get().requests, 0);
}

/* ---- the loop never blocks */

Test(http_client, loop_keeps_ticking_with_500_requests_in_flight, .timeout = 120)
{
	enum { N = 500 };
	struct fx fx;
	static struct rec r[N];
	struct sampler smp;
	http_client_opts_t o = {.pool_max_in_flight = N, .max_queued = N};
	http_client_stats_t st;
	struct srv_counters sc;
	uint64_t t0;
	uint64_t elapsed;

	fx_init(&fx, &o);
	sampler_start(&smp, &fx.loop, fx.c, 10);
	g_sampler = &smp;
	t0 = mono_ms();
	for (int i = 0; i < N; i++) {
		r[i].hook = hook_stop_sampler;
		fx_get(&fx, &r[i], "/slow?ms=1000", 30000);
	}
	http_client_get_stats(fx.c, &st);
	cr_assert_eq(st.in_flight, N);
	fx_finish(&fx);
	elapsed = mono_ms() - t0;
	for (int i = 0; i < N; i++) {
		cr_assert_eq(r[i].calls, 1, "request %d ran %d times", i, r[i].calls);
		cr_assert_eq(r[i].error, 0, "request %d: %d %s", i, r[i].error, r[i].msg);
		cr_assert_eq(r[i].status, 200);
	}
	sc = srv_counters_get();
	cr_log_info("500 x 1 s: %llu ms, %d ticks, max gap %llu ms, server max %d at once",
		    (unsigned long long)elapsed, smp.ticks, (unsigned long long)smp.max_gap_ms,
		    sc.max_active);
	/* A correctness check of non-blocking I/O, not a benchmark: the loop's
	 * 10 ms timer kept running while every request was held for a second
	 * (a loop blocked in I/O would tick once or twice). No wall-clock bound:
	 * a busy machine only makes the ticks fewer and the gaps longer (make
	 * bench measures those). */
	cr_assert_geq(smp.ticks, 10, "the loop ticked %d times", smp.ticks);
	/* Concurrent, not one after another: all in flight at once. */
	cr_assert_eq(smp.max_in_flight, N);
	cr_assert_geq(sc.max_active, N / 2, "only %d at once at the server", sc.max_active);
}

/* The sampler's ticks when the unresolvable name's request ended. */
static int g_bogus_ticks;

static void hook_bogus(struct rec *r, const http_response_t *res)
{
	g_bogus_ticks = g_sampler->ticks;
	hook_stop_sampler(r, res);
}

Test(http_client, names_resolve_without_blocking_the_loop)
{
	struct fx fx;
	struct rec local = {0};
	struct rec bogus = {0};
	struct sampler smp;
	char url[128];
	http_request_t req = {.url = url, .timeout_ms = 3000};

	fx_init(&fx, NULL);
	sampler_start(&smp, &fx.loop, fx.c, 10);
	g_sampler = &smp;
	local.hook = hook_stop_sampler;
	bogus.hook = hook_bogus;
	snprintf(url, sizeof(url), "http://localhost:%d/ok", g_srv_port);
	cr_assert_eq(fx_send_req(&fx, &local, &req), 0);
	/* RFC 6761: never resolves. A resolver that cannot be reached makes it a timeout. */
	snprintf(url, sizeof(url), "http://nonexistent.invalid:%d/ok", g_srv_port);
	cr_assert_eq(fx_send_req(&fx, &bogus, &req), 0);
	fx_finish(&fx);
	cr_assert_eq(local.calls, 1);
	cr_assert_eq(local.error, 0, "error %d %s", local.error, local.msg);
	cr_assert_eq(local.status, 200);
	cr_assert_eq(bogus.calls, 1);
	cr_assert(bogus.error == -EHOSTUNREACH || bogus.error == -ETIMEDOUT, "error %d %s",
		  bogus.error, bogus.msg);
	if (bogus.error == -EHOSTUNREACH)
		cr_assert_str_eq(bogus.msg, "could not resolve host");
	/* Names are resolved off the loop's thread (threaded resolver or c-ares). */
	cr_assert(curl_version_info(CURLVERSION_NOW)->features & CURL_VERSION_ASYNCHDNS,
		  "libcurl resolves names synchronously");
	/*
	 * Where the name stayed unresolved for the whole timeout, the loop went on
	 * meanwhile: the local request was answered and the sampler ticked before
	 * the unresolvable one ended. A getaddrinfo blocking the loop lets neither
	 * happen first. Where the resolver says "no such name" at once (no
	 * timeout), there was nothing to wait for. No wall-clock bound: load only
	 * delays both sides.
	 */
	if (bogus.error == -ETIMEDOUT) {
		cr_assert_lt(local.done_seq, bogus.done_seq, "the local request waited");
		cr_assert_geq(g_bogus_ticks, 1, "the loop did not tick while resolving");
	}
}

/* ---- closing */

struct close_ctx {
	uv_timer_t timer;
	struct fx *fx;
	struct rec *recs;
	int n;
	int calls_inside_close;
	int late_rc;
	struct rec late;
};

static void close_ctx_fire(uv_timer_t *t)
{
	struct close_ctx *cc = container_of(t, struct close_ctx, timer);
	char url[256];

	http_client_close(cc->fx->c, on_closed, cc->fx);
	for (int i = 0; i < cc->n; i++)
		cc->calls_inside_close += cc->recs[i].calls;
	fx_url(url, sizeof(url), "/ok");
	cc->late_rc = fx_send_req(cc->fx, &cc->late, &(http_request_t){.url = url});
	http_client_close(cc->fx->c, on_closed, cc->fx); /* ignored */
	uv_close((uv_handle_t *)t, NULL);
}

Test(http_client, close_cancels_in_flight_and_queued_once)
{
	enum { N = 10 };
	struct fx fx;
	static struct rec r[N];
	static struct close_ctx cc;
	http_client_opts_t o = {.pool_max_in_flight = 4};
	struct srv_counters sc;

	fx_init(&fx, &o);
	fx.close_when_idle = false;
	for (int i = 0; i < N; i++)
		fx_get(&fx, &r[i], "/slow?ms=5000", 10000);
	cc.fx = &fx;
	cc.recs = r;
	cc.n = N;
	cr_assert_eq(uv_timer_init(&fx.loop, &cc.timer), 0);
	/* Late enough for the first four to reach the server. */
	cr_assert_eq(uv_timer_start(&cc.timer, close_ctx_fire, 300, 0), 0);
	cr_assert_eq(uv_run(&fx.loop, UV_RUN_DEFAULT), 0);
	cr_assert_eq(cc.calls_inside_close, 0, "callbacks ran inside close");
	cr_assert_eq(cc.late_rc, -ESHUTDOWN);
	cr_assert_eq(cc.late.calls, 0);
	cr_assert_eq(fx.closed_calls, 1);
	cr_assert_eq(fx.done_at_closed, N, "closed ran before every request completed");
	for (int i = 0; i < N; i++) {
		cr_assert_eq(r[i].calls, 1, "request %d ran %d times", i, r[i].calls);
		cr_assert_eq(r[i].error, -ECANCELED, "request %d: %d", i, r[i].error);
		cr_assert_str_eq(r[i].msg, "cancelled");
	}
	cr_assert_eq(uv_loop_close(&fx.loop), 0);
	sc = srv_counters_get();
	cr_assert_eq(sc.requests, 4, "the queued requests must never reach the server");
	cr_assert_eq(sc.max_active, 4);
}

static void hook_close_client(struct rec *r, const http_response_t *res)
{
	(void)res;
	http_client_close(r->fx->c, on_closed, r->fx);
}

Test(http_client, close_from_a_completion_callback)
{
	struct fx fx;
	struct rec fast = {.hook = hook_close_client};
	static struct rec slow[3];

	fx_init(&fx, NULL);
	fx.close_when_idle = false;
	fx_get(&fx, &fast, "/ok", 5000);
	for (int i = 0; i < 3; i++)
		fx_get(&fx, &slow[i], "/slow?ms=5000", 10000);
	cr_assert_eq(uv_run(&fx.loop, UV_RUN_DEFAULT), 0);
	cr_assert_eq(fx.closed_calls, 1);
	cr_assert_eq(fast.calls, 1);
	cr_assert_eq(fast.error, 0);
	for (int i = 0; i < 3; i++) {
		cr_assert_eq(slow[i].calls, 1);
		cr_assert_eq(slow[i].error, -ECANCELED);
	}
	cr_assert_eq(uv_loop_close(&fx.loop), 0);
}

static char g_chain_url[256];

static void hook_chain(struct rec *r, const http_response_t *res)
{
	http_request_t req = {.url = g_chain_url, .timeout_ms = 5000};
	(void)res;
	if (r->tag < 5) {
		r[1].tag = r->tag + 1;
		r[1].hook = hook_chain;
		cr_assert_eq(fx_send_req(r->fx, &r[1], &req), 0);
	}
}

/* Each request after the first also runs on the first one's reset easy handle. */
Test(http_client, send_from_a_callback_reuses_the_connection)
{
	struct fx fx;
	static struct rec r[6];
	http_client_stats_t st;

	fx_url(g_chain_url, sizeof(g_chain_url), "/ok");
	fx_init(&fx, NULL);
	fx.close_when_idle = false;
	r[0].hook = hook_chain;
	r[0].tag = 0;
	fx_get(&fx, &r[0], "/ok", 5000);
	cr_assert_eq(uv_run(&fx.loop, UV_RUN_DEFAULT), 0);
	for (int i = 0; i < 6; i++)
		cr_assert(r[i].calls == 1 && r[i].error == 0 && r[i].status == 200, "request %d",
			  i);
	cr_assert_eq(srv_counters_get().accepted, 1);
	http_client_get_stats(fx.c, &st);
	cr_assert_eq(st.handles_created, 1);
	cr_assert_eq(st.handles_reused, 5);
	fx_finish(&fx);
}

/* ---- easy handle reuse: each step is sent from the previous one's callback */

struct step {
	const char *method;
	const char *path;
	const char *hdr_value; /* sent as X-Step when not NULL */
	const char *body;
	uint32_t timeout_ms;
};

static const struct step g_steps[] = {
	{"POST", "/echo", "one", "{\"a\":1}", 5000},
	{"HEAD", "/ok", NULL, NULL, 5000},
	{"GET", "/echo", NULL, NULL, 5000},
	{"PUT", "/echo", "two", "xyz", 5000},
	{"GET", "/status/500", NULL, NULL, 5000},
	{"DELETE", "/echo", "three", NULL, 5000},
	{"GET", "/ok", NULL, NULL, 5000},
	/* Fails: its handle is dropped, not kept. */
	{"GET", "/slow?ms=3000", NULL, NULL, 200},
	{"POST", "/echo", "four", "after the timeout", 5000},
	{"GET", "/reset", NULL, NULL, 5000},
	{"GET", "/echo", "five", NULL, 5000},
};
#define N_STEPS (sizeof(g_steps) / sizeof(g_steps[0]))

static http_client_stats_t g_step_stats[N_STEPS];

static void step_send(struct fx *fx, struct rec *r, int i)
{
	const struct step *st = &g_steps[i];
	char url[256];
	http_header_t h = {"X-Step", st->hdr_value};
	http_request_t req = {
		.method = st->method,
		.url = url,
		.headers = st->hdr_value != NULL ? &h : NULL,
		.n_headers = st->hdr_value != NULL ? 1 : 0,
		.body = st->body,
		.body_len = st->body != NULL ? strlen(st->body) : 0,
		.timeout_ms = st->timeout_ms,
	};

	fx_url(url, sizeof(url), st->path);
	r->tag = i;
	r->hook = (size_t)i + 1 < N_STEPS ? r->hook : NULL;
	cr_assert_eq(fx_send_req(fx, r, &req), 0, "send step %d", i);
}

static void hook_step(struct rec *r, const http_response_t *res)
{
	(void)res;
	http_client_get_stats(r->fx->c, &g_step_stats[r->tag]);
	if ((size_t)r->tag + 1 < N_STEPS) {
		r[1].hook = hook_step;
		step_send(r->fx, &r[1], r->tag + 1);
	}
}

Test(http_client, sequential_requests_reuse_easy_handles_and_stay_independent)
{
	struct fx fx;
	static struct rec r[N_STEPS];
	http_client_stats_t st;

	fx_init(&fx, NULL);
	fx.close_when_idle = false;
	r[0].hook = hook_step;
	step_send(&fx, &r[0], 0);
	cr_assert_eq(uv_run(&fx.loop, UV_RUN_DEFAULT), 0);
	for (size_t i = 0; i < N_STEPS; i++)
		cr_assert_eq(r[i].calls, 1, "step %zu", i);

	cr_assert_eq(r[0].error, 0, "error %d %s", r[0].error, r[0].msg);
	cr_assert_str_eq(rec_header(&r[0], "X-Echo-Method"), "POST");
	cr_assert_str_eq(rec_header(&r[0], "X-Echo-X-Step"), "one");
	cr_assert_eq(r[0].body_len, 7);
	cr_assert_eq(memcmp(r[0].body, "{\"a\":1}", 7), 0);

	/* HEAD after a POST: no body asked for, none read. */
	cr_assert_eq(r[1].error, 0, "error %d %s", r[1].error, r[1].msg);
	cr_assert_eq(r[1].status, 200);
	cr_assert_eq(r[1].body_len, 0);

	/* GET after a HEAD: nothing of the POST's body or header, the body read again. */
	cr_assert_eq(r[2].error, 0, "error %d %s", r[2].error, r[2].msg);
	cr_assert_str_eq(rec_header(&r[2], "X-Echo-Method"), "GET");
	cr_assert_null(rec_header(&r[2], "X-Echo-X-Step"));
	cr_assert_null(rec_header(&r[2], "X-Echo-Content-Length"));
	cr_assert_eq(r[2].body_len, 0);

	cr_assert_eq(r[3].error, 0);
	cr_assert_str_eq(rec_header(&r[3], "X-Echo-Method"), "PUT");
	cr_assert_str_eq(rec_header(&r[3], "X-Echo-X-Step"), "two");
	cr_assert_eq(r[3].body_len, 3);
	cr_assert_eq(memcmp(r[3].body, "xyz", 3), 0);

	cr_assert_eq(r[4].error, 0);
	cr_assert_eq(r[4].status, 500);
	cr_assert_eq(memcmp(r[4].body, "boom", 4), 0);

	cr_assert_eq(r[5].error, 0);
	cr_assert_eq(r[5].status, 200);
	cr_assert_str_eq(rec_header(&r[5], "X-Echo-Method"), "DELETE");
	cr_assert_str_eq(rec_header(&r[5], "X-Echo-X-Step"), "three");

	cr_assert_eq(r[6].error, 0);
	cr_assert_eq(r[6].body_len, 11);
	cr_assert_null(rec_header(&r[6], "X-Echo-Method"));

	cr_assert_eq(r[7].error, -ETIMEDOUT, "error %d %s", r[7].error, r[7].msg);

	/* After a timeout: a fresh handle, the whole request sent, its own timeout. */
	cr_assert_eq(r[8].error, 0, "error %d %s", r[8].error, r[8].msg);
	cr_assert_str_eq(rec_header(&r[8], "X-Echo-Method"), "POST");
	cr_assert_str_eq(rec_header(&r[8], "X-Echo-X-Step"), "four");
	cr_assert_eq(r[8].body_len, 17);
	cr_assert_eq(memcmp(r[8].body, "after the timeout", 17), 0);

	cr_assert_eq(r[9].error, -ECONNRESET, "error %d %s", r[9].error, r[9].msg);

	cr_assert_eq(r[10].error, 0, "error %d %s", r[10].error, r[10].msg);
	cr_assert_str_eq(rec_header(&r[10], "X-Echo-Method"), "GET");
	cr_assert_str_eq(rec_header(&r[10], "X-Echo-X-Step"), "five");

	/* Seven clean transfers on the first handle; the timed-out one and the reset
	 * one dropped theirs, so steps 8 and 10 each made a new one. */
	cr_assert_eq(g_step_stats[6].handles_created, 1);
	cr_assert_eq(g_step_stats[6].handles_reused, 6);
	cr_assert_eq(g_step_stats[6].handles_idle, 1);
	cr_assert_eq(g_step_stats[7].handles_idle, 0);
	cr_assert_eq(g_step_stats[8].handles_created, 2);
	cr_assert_eq(g_step_stats[9].handles_idle, 0);
	http_client_get_stats(fx.c, &st);
	cr_assert_eq(st.handles_created, 3);
	cr_assert_eq(st.handles_reused, 8);
	cr_assert_eq(st.handles_idle, 1);
	cr_assert_eq(st.completed, N_STEPS - 2);
	cr_assert_eq(st.failed, 2);
	fx_finish(&fx);
}

Test(http_client, idle_handles_are_bounded_by_the_largest_pool_limit)
{
	struct fx fx;
	static struct rec r[8];
	char url[256];
	http_request_t req = {.url = url, .timeout_ms = 5000};
	http_client_stats_t st;

	fx_url(url, sizeof(url), "/ok");
	fx_init(&fx, &(http_client_opts_t){.pool_max_in_flight = 2});
	fx.close_when_idle = false;
	for (int round = 0; round < 2; round++) {
		/* Two pools of two: four transfers at once, but two handles kept. */
		for (int i = 0; i < 4; i++) {
			req.pool = i % 2 ? "a" : "b";
			cr_assert_eq(fx_send_req(&fx, &r[round * 4 + i], &req), 0);
		}
		cr_assert_eq(uv_run(&fx.loop, UV_RUN_DEFAULT), 0);
		http_client_get_stats(fx.c, &st);
		cr_assert_eq(st.handles_idle, 2, "round %d", round);
	}
	for (int i = 0; i < 8; i++)
		cr_assert(r[i].calls == 1 && r[i].error == 0 && r[i].status == 200, "request %d",
			  i);
	cr_assert_eq(st.handles_created, 6);
	cr_assert_eq(st.handles_reused, 2);
	fx_finish(&fx);
}

Test(http_client, idle_close_and_init_errors)
{
	struct fx fx;
	uv_loop_t loop;
	http_client_t *c = NULL;

	fx_init(&fx, NULL);
	fx_finish(&fx);
	cr_assert_eq(uv_loop_init(&loop), 0);
	cr_assert_eq(http_client_init(NULL, &loop, NULL), -EINVAL);
	cr_assert_eq(http_client_init(&c, NULL, NULL), -EINVAL);
	cr_assert_eq(http_client_init(&c, &loop, &(http_client_opts_t){.max_connects = -1}),
		     -EINVAL);
	cr_assert_null(c);
	cr_assert_eq(uv_loop_close(&loop), 0);
}

/* ---- TLS, against openssl s_server when the openssl tool is there */

static pid_t g_tls_pid;

static void tls_stop(void)
{
	if (g_tls_pid > 0) {
		kill(g_tls_pid, SIGKILL);
		waitpid(g_tls_pid, NULL, 0);
		g_tls_pid = 0;
	}
	srv_stop();
}

static int free_port(void)
{
	struct sockaddr_in a = {.sin_family = AF_INET};
	socklen_t alen = sizeof(a);
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	cr_assert_eq(bind(fd, (struct sockaddr *)&a, sizeof(a)), 0);
	cr_assert_eq(getsockname(fd, (struct sockaddr *)&a, &alen), 0);
	close(fd);
	return ntohs(a.sin_port);
}

static bool port_open(int port)
{
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	bool ok;
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	ok = connect(fd, (struct sockaddr *)&a, sizeof(a)) == 0;
	close(fd);
	return ok;
}

Test(http_client, tls_ca_file_insecure_and_verification_failure, .fini = tls_stop)
{
	char dir[] = "/tmp/httpc-tls-XXXXXX";
	char cmd[1024];
	char cert[128];
	char key[128];
	char url[128];
	int port = free_port();
	struct fx fx;
	struct rec insecure = {0};
	struct rec trusted = {0};
	struct rec untrusted = {0};
	struct rec trusted2 = {0};

	if (system("command -v openssl >/dev/null 2>&1") != 0)
		cr_skip_test("no openssl tool to run a TLS server");
	cr_assert_not_null(mkdtemp(dir));
	snprintf(cert, sizeof(cert), "%s/cert.pem", dir);
	snprintf(key, sizeof(key), "%s/key.pem", dir);
	snprintf(cmd, sizeof(cmd),
		 "openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 1 "
		 "-subj /CN=127.0.0.1 -addext subjectAltName=IP:127.0.0.1 -keyout %s -out %s "
		 ">/dev/null 2>&1",
		 key, cert);
	cr_assert_eq(system(cmd), 0, "openssl req failed");
	g_tls_pid = fork();
	cr_assert_geq(g_tls_pid, 0);
	if (g_tls_pid == 0) {
		char accept[32];
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		snprintf(accept, sizeof(accept), "127.0.0.1:%d", port);
		freopen("/dev/null", "w", stdout);
		freopen("/dev/null", "w", stderr);
		execlp("openssl", "openssl", "s_server", "-quiet", "-www", "-accept", accept,
		       "-cert", cert, "-key", key, (char *)NULL);
		_exit(127);
	}
	for (int i = 0; i < 100 && !port_open(port); i++)
		usleep(50000);
	cr_assert(port_open(port), "openssl s_server did not start");
	snprintf(url, sizeof(url), "https://127.0.0.1:%d/", port);

	/* s_server answers one connection at a time: send one after another. */
	fx_init(&fx, NULL);
	fx.close_when_idle = false;
	cr_assert_eq(
		fx_send_req(&fx, &untrusted, &(http_request_t){.url = url, .timeout_ms = 5000}), 0);
	cr_assert_eq(uv_run(&fx.loop, UV_RUN_DEFAULT), 0);
	cr_assert_eq(
		fx_send_req(&fx, &insecure,
			    &(http_request_t){.url = url, .insecure = true, .timeout_ms = 5000}),
		0);
	cr_assert_eq(uv_run(&fx.loop, UV_RUN_DEFAULT), 0);
	cr_assert_eq(
		fx_send_req(&fx, &trusted,
			    &(http_request_t){.url = url, .ca_file = cert, .timeout_ms = 5000}),
		0);
	cr_assert_eq(uv_run(&fx.loop, UV_RUN_DEFAULT), 0);
	cr_assert_eq(
		fx_send_req(&fx, &trusted2,
			    &(http_request_t){.url = url, .ca_file = cert, .timeout_ms = 5000}),
		0);
	fx.close_when_idle = true;
	fx_finish(&fx);

	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	cr_expect_eq(system(cmd), 0);
	cr_assert_eq(untrusted.calls, 1);
	cr_assert_eq(untrusted.error, -EPROTO, "error %d %s", untrusted.error, untrusted.msg);
	cr_assert_str_eq(untrusted.msg, "TLS peer verification failed");
	cr_assert_eq(insecure.calls, 1);
	cr_assert_eq(insecure.error, 0, "error %d %s", insecure.error, insecure.msg);
	cr_assert_eq(insecure.status, 200);
	cr_assert_eq(trusted.calls, 1);
	cr_assert_eq(trusted.error, 0, "error %d %s", trusted.error, trusted.msg);
	cr_assert_eq(trusted.status, 200);
	cr_assert_eq(trusted2.calls, 1);
	cr_assert_eq(trusted2.error, 0, "error %d %s", trusted2.error, trusted2.msg);
}

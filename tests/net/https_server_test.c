/*
 * The HTTPS server against real outside clients. Each test forks a child that runs
 * a libuv loop with the server (certificate from tls_cert_generate in a temporary
 * directory) and a test handler; the parent talks to it with curl, openssl s_client,
 * or a blocking mbedTLS / plain-socket client when it needs byte-level control.
 * Stopping the child with SIGTERM closes the server; the child then asserts
 * uv_loop_close() == 0 and, under AddressSanitizer, runs LeakSanitizer, and its exit
 * status tells the parent both.
 *
 * Needs the Debian packages curl and openssl on PATH.
 */
#include <criterion/criterion.h>

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <arpa/inet.h>
#include <netinet/in.h>

#include <mbedtls/ctr_drbg.h>
#include <mbedtls/ecp.h>
#include <mbedtls/entropy.h>
#include <mbedtls/pk.h>
#include <mbedtls/ssl.h>
#include <mbedtls/x509_crt.h>
#include <uv.h>

#include "net/https_server.h"
#include "net/tls.h"

#if defined(__SANITIZE_ADDRESS__)
#define HTTPS_TEST_LSAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define HTTPS_TEST_LSAN 1
#endif
#endif
#ifdef HTTPS_TEST_LSAN
#include <sanitizer/lsan_interface.h>
#endif

#define IO_TIMEOUT_MS 10000
#define RBUF_CAP (8u << 20)

static char g_dir[128];
static char g_crt[192];
static char g_key[192];
static pid_t g_child = -1;
static int g_port;

/* ================================================================ the child server */

static https_server_t *c_srv;
static bool c_srv_closed;
static uv_signal_t c_sig;

typedef struct async_reply {
	uv_timer_t timer;
	https_request_t *req;
	char body[160];
	int len;
} async_reply_t;

/* Value of key in a query string ("ms=300&tag=a"), copied into out; "" if absent. */
static void query_get(const char *q, const char *key, char *out, size_t cap)
{
	size_t kl = strlen(key);
	out[0] = '\0';
	for (const char *p = q; p != NULL && *p != '\0';) {
		const char *amp = strchr(p, '&');
		size_t seg = amp != NULL ? (size_t)(amp - p) : strlen(p);
		if (seg > kl && strncmp(p, key, kl) == 0 && p[kl] == '=') {
			size_t vl = seg - kl - 1 < cap - 1 ? seg - kl - 1 : cap - 1;
			memcpy(out, p + kl + 1, vl);
			out[vl] = '\0';
			return;
		}
		p = amp != NULL ? amp + 1 : NULL;
	}
}

static void async_closed(uv_handle_t *h)
{
	free(h->data);
}

static void async_fire(uv_timer_t *t)
{
	async_reply_t *a = t->data;
	/* The connection may be gone by now: respond then only frees the request. */
	https_respond(a->req, 200, "text/plain", a->body, (size_t)a->len, NULL);
	uv_close((uv_handle_t *)&a->timer, async_closed);
}

static void child_handler(https_request_t *req, void *udata)
{
	uv_loop_t *loop = udata;
	const char *path = https_request_path(req);
	const char *query = https_request_query(req);
	char v[64], tag[32];
	static char out[65536];
	int n = 0;
	query_get(query, "tag", tag, sizeof(tag));

	if (strcmp(path, "/echo") == 0) {
		size_t blen;
		const uint8_t *body = https_request_body(req, &blen);
		const char *x = https_request_header(req, "x-TEST");
		n = snprintf(out, sizeof(out),
			     "method=%s path=%s query=%s x-test=%s len=%zu tag=%s body=%.*s\n",
			     https_request_method(req), path, query, x != NULL ? x : "-", blen, tag,
			     blen > 64 ? 64 : (int)blen, (const char *)body);
		https_respond(req, 200, "text/plain", out, (size_t)n, NULL);
	} else if (strcmp(path, "/async") == 0) {
		async_reply_t *a = calloc(1, sizeof(*a));
		query_get(query, "ms", v, sizeof(v));
		a->req = req;
		a->len = snprintf(a->body, sizeof(a->body), "async ms=%s tag=%s\n", v, tag);
		uv_timer_init(loop, &a->timer);
		a->timer.data = a;
		uv_timer_start(&a->timer, async_fire, strtoull(v, NULL, 10), 0);
	} else if (strcmp(path, "/big") == 0) {
		query_get(query, "n", v, sizeof(v));
		size_t len = strtoull(v, NULL, 10);
		char *big = malloc(len + 1);
		for (size_t i = 0; i < len; i++)
			big[i] = (char)('a' + i % 26);
		https_respond(req, 200, "application/octet-stream", big, len, NULL);
		free(big);
	} else if (strcmp(path, "/stats") == 0) {
		const https_stats_t *st = https_server_stats(c_srv);
		n = snprintf(out, sizeof(out),
			     "open=%lu accepted=%lu rejected=%lu requests=%lu refused=%lu "
			     "hs_fail=%lu t_hs=%lu t_hdr=%lu t_body=%lu idle=%lu r2xx=%lu r4xx=%lu "
			     "latency_count=%lu\n",
			     (unsigned long)st->conns_open, (unsigned long)st->conns_accepted,
			     (unsigned long)st->conns_rejected, (unsigned long)st->requests,
			     (unsigned long)st->refused, (unsigned long)st->handshake_failures,
			     (unsigned long)st->timeouts_handshake,
			     (unsigned long)st->timeouts_header, (unsigned long)st->timeouts_body,
			     (unsigned long)st->idle_closes, (unsigned long)st->responses[2],
			     (unsigned long)st->responses[4], (unsigned long)st->latency.count);
		https_respond(req, 200, "text/plain", out, (size_t)n, NULL);
	} else if (strcmp(path, "/metrics") == 0) {
		size_t off = 0;
		https_stats_format(https_server_stats(c_srv), "ospay_https", out, sizeof(out),
				   &off);
		https_respond(req, 200, "text/plain; version=0.0.4", out, off, NULL);
	} else if (strcmp(path, "/drain") == 0) {
		/* Graceful shutdown from inside a handler: this request is still owned, so
		 * its connection stays to carry the answer. */
		https_server_close(c_srv, 5000, NULL, NULL);
		c_srv_closed = true;
		https_respond(req, 200, "text/plain", "draining\n", 9, NULL);
	} else if (strcmp(path, "/extra") == 0) {
		static const char *const extra[] = {"X-A: 1", "Cache-Control: no-store", NULL};
		https_respond(req, 201, "text/plain", "made\n", 5, extra);
	} else if (strcmp(path, "/badheader") == 0) {
		static const char *const extra[] = {"X-Bad: a\r\nInjected: 1", NULL};
		https_respond(req, 200, "text/plain", "never\n", 6, extra);
	} else if (strcmp(path, "/dupframing") == 0) {
		static const char *const extra[] = {"Content-Length: 0", NULL};
		https_respond(req, 200, "text/plain", "never\n", 6, extra);
	} else {
		https_respond(req, 404, "text/plain", "not found\n", 10, NULL);
	}
}

static void child_on_sigterm(uv_signal_t *sig, int signum)
{
	if (!c_srv_closed)
		https_server_close(c_srv, 0, NULL, NULL);
	uv_close((uv_handle_t *)sig, NULL);
}

/* Runs the server in the forked child; writes the port (or a negative error) to
 * ready_fd, serves until SIGTERM, and exits 0 only with a clean loop and no leaks. */
static void child_run(const https_options_t *opt, int ready_fd)
{
	uv_loop_t loop;
	int rc = 0, status = 0;
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	/* libuv writes with writev: a peer that vanished must not kill the process. */
	signal(SIGPIPE, SIG_IGN);
	uv_loop_init(&loop);
	if (!opt->plain)
		rc = tls_cert_generate(g_crt, g_key, "localhost");
	if (rc == 0)
		rc = https_server_start(&loop, opt, child_handler, &loop, &c_srv);
	if (rc == 0) {
		uv_signal_init(&loop, &c_sig);
		uv_signal_start(&c_sig, child_on_sigterm, SIGTERM);
	}
	int port = rc == 0 ? https_server_port(c_srv) : rc;
	if (write(ready_fd, &port, sizeof(port)) != (ssize_t)sizeof(port))
		status = 4;
	close(ready_fd);
	uv_run(&loop, UV_RUN_DEFAULT);
	if (uv_loop_close(&loop) != 0)
		status = 2;
#ifdef HTTPS_TEST_LSAN
	if (__lsan_do_recoverable_leak_check() != 0)
		status = 3;
#endif
	_exit(status);
}

/* ================================================================ parent fixtures */

static https_options_t base_opts(void)
{
	https_options_t o;
	https_options_default(&o);
	o.port = 0;
	o.cert_path = g_crt;
	o.key_path = g_key;
	return o;
}

static void srv_start(const https_options_t *opt)
{
	int p[2];
	cr_assert_eq(pipe2(p, O_CLOEXEC), 0);
	g_child = fork();
	cr_assert_geq(g_child, 0);
	if (g_child == 0) {
		close(p[0]);
		child_run(opt, p[1]);
	}
	close(p[1]);
	struct pollfd pfd = {.fd = p[0], .events = POLLIN};
	int port = -1;
	cr_assert_eq(poll(&pfd, 1, IO_TIMEOUT_MS), 1, "server did not start");
	cr_assert_eq(read(p[0], &port, sizeof(port)), (ssize_t)sizeof(port));
	close(p[0]);
	cr_assert_gt(port, 0, "server start failed: %d", port);
	g_port = port;
}

/* SIGTERM, then the child's exit status: 0 means a clean uv_loop_close and, under
 * ASan, no leak. */
static void srv_stop(void)
{
	int status = -1;
	pid_t pid = g_child;
	cr_assert_gt(pid, 0);
	kill(pid, SIGTERM);
	for (int i = 0; i < 1000; i++) {
		if (waitpid(pid, &status, WNOHANG) == pid) {
			g_child = -1;
			break;
		}
		usleep(10000);
	}
	cr_assert_eq(g_child, -1, "server did not exit after SIGTERM");
	cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0,
		  "server exit status 0x%x (2: loop not closed, 3: leaks)", status);
}

static int rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	return remove(path);
}

static void suite_init(void)
{
	snprintf(g_dir, sizeof(g_dir), "/tmp/ospay-https-XXXXXX");
	cr_assert_not_null(mkdtemp(g_dir));
	snprintf(g_crt, sizeof(g_crt), "%s/server.crt", g_dir);
	snprintf(g_key, sizeof(g_key), "%s/server.key", g_dir);
	signal(SIGPIPE, SIG_IGN);
}

/* Teardown kills a child a failed test left running, by pid, and removes the files. */
static void suite_fini(void)
{
	if (g_child > 0) {
		kill(g_child, SIGKILL);
		waitpid(g_child, NULL, 0);
		g_child = -1;
	}
	if (g_dir[0] != '\0')
		nftw(g_dir, rm_entry, 8, FTW_DEPTH | FTW_PHYS);
}

TestSuite(https, .init = suite_init, .fini = suite_fini, .timeout = 90);

/* ================================================================ outside programs */

static size_t slurp(const char *path, char *out, size_t cap)
{
	size_t n = 0;
	FILE *f = fopen(path, "rb");
	if (f != NULL) {
		n = fread(out, 1, cap - 1, f);
		fclose(f);
	}
	out[n] = '\0';
	return n;
}

/* Runs argv with stdin from /dev/null; stdout and stderr are captured (NUL-terminated,
 * truncated to cap). Returns the exit code, or -1 if it did not exit normally. */
static int run_cmd(const char *const *argv, char *out, size_t outcap, char *err, size_t errcap)
{
	char op[256], ep[256];
	int status = -1;
	snprintf(op, sizeof(op), "%s/cmd.out", g_dir);
	snprintf(ep, sizeof(ep), "%s/cmd.err", g_dir);
	pid_t pid = fork();
	if (pid == 0) {
		int in = open("/dev/null", O_RDONLY);
		int o = open(op, O_WRONLY | O_CREAT | O_TRUNC, 0600);
		int e = open(ep, O_WRONLY | O_CREAT | O_TRUNC, 0600);
		dup2(in, 0);
		dup2(o, 1);
		dup2(e, 2);
		execvp(argv[0], (char *const *)argv);
		_exit(127);
	}
	cr_assert_gt(pid, 0);
	waitpid(pid, &status, 0);
	if (out != NULL)
		slurp(op, out, outcap);
	if (err != NULL)
		slurp(ep, err, errcap);
	return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

static size_t count_of(const char *hay, const char *needle)
{
	size_t n = 0;
	for (const char *p = strstr(hay, needle); p != NULL; p = strstr(p + 1, needle))
		n++;
	return n;
}

/* ================================================================ raw client */

/* A blocking client over TCP, optionally TLS (mbedTLS, verifying the test
 * certificate for "localhost"), with its own random generator so it shares no state
 * with the server's. */
typedef struct tcli {
	int fd;
	bool tls;
	int timeout_ms;
	mbedtls_ssl_context ssl;
	mbedtls_ssl_config conf;
	mbedtls_x509_crt ca;
	mbedtls_entropy_context ent;
	mbedtls_ctr_drbg_context drbg;
	char *rbuf;
	size_t rlen;
} tcli_t;

static int tcli_bio_send(void *ctx, const unsigned char *p, size_t n)
{
	tcli_t *c = ctx;
	ssize_t w = send(c->fd, p, n, MSG_NOSIGNAL);
	return w >= 0 ? (int)w : MBEDTLS_ERR_SSL_INTERNAL_ERROR;
}

/* Waits for data at most timeout_ms; a timeout is reported as WANT_READ, which
 * mbedTLS lets the caller retry. */
static int tcli_bio_recv(void *ctx, unsigned char *p, size_t n)
{
	tcli_t *c = ctx;
	struct pollfd pfd = {.fd = c->fd, .events = POLLIN};
	if (poll(&pfd, 1, c->timeout_ms) != 1)
		return MBEDTLS_ERR_SSL_WANT_READ;
	ssize_t r = recv(c->fd, p, n, 0);
	return r >= 0 ? (int)r : MBEDTLS_ERR_SSL_INTERNAL_ERROR;
}

static int tcp_connect(int port)
{
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd >= 0 && connect(fd, (struct sockaddr *)&a, sizeof(a)) != 0) {
		close(fd);
		fd = -1;
	}
	return fd;
}

static void tcli_close(tcli_t *c)
{
	if (c->tls) {
		mbedtls_ssl_free(&c->ssl);
		mbedtls_ssl_config_free(&c->conf);
		mbedtls_x509_crt_free(&c->ca);
		mbedtls_ctr_drbg_free(&c->drbg);
		mbedtls_entropy_free(&c->ent);
	}
	if (c->fd >= 0)
		close(c->fd);
	free(c->rbuf);
	memset(c, 0, sizeof(*c));
	c->fd = -1;
}

/* Connects (and handshakes under TLS); 0, or -1 with everything released. */
static int tcli_open(tcli_t *c, bool tls)
{
	memset(c, 0, sizeof(*c));
	c->tls = tls;
	c->timeout_ms = IO_TIMEOUT_MS;
	c->rbuf = malloc(RBUF_CAP);
	c->fd = tcp_connect(g_port);
	if (c->fd < 0) {
		tcli_close(c);
		return -1;
	}
	if (!tls)
		return 0;
	mbedtls_ssl_init(&c->ssl);
	mbedtls_ssl_config_init(&c->conf);
	mbedtls_x509_crt_init(&c->ca);
	mbedtls_entropy_init(&c->ent);
	mbedtls_ctr_drbg_init(&c->drbg);
	int rc = mbedtls_ctr_drbg_seed(&c->drbg, mbedtls_entropy_func, &c->ent, NULL, 0);
	if (rc == 0)
		rc = mbedtls_x509_crt_parse_file(&c->ca, g_crt);
	if (rc == 0)
		rc = mbedtls_ssl_config_defaults(&c->conf, MBEDTLS_SSL_IS_CLIENT,
						 MBEDTLS_SSL_TRANSPORT_STREAM,
						 MBEDTLS_SSL_PRESET_DEFAULT);
	if (rc == 0) {
		mbedtls_ssl_conf_authmode(&c->conf, MBEDTLS_SSL_VERIFY_REQUIRED);
		mbedtls_ssl_conf_ca_chain(&c->conf, &c->ca, NULL);
		mbedtls_ssl_conf_rng(&c->conf, mbedtls_ctr_drbg_random, &c->drbg);
		rc = mbedtls_ssl_setup(&c->ssl, &c->conf);
	}
	if (rc == 0)
		rc = mbedtls_ssl_set_hostname(&c->ssl, "localhost");
	if (rc == 0) {
		mbedtls_ssl_set_bio(&c->ssl, c, tcli_bio_send, tcli_bio_recv, NULL);
		rc = mbedtls_ssl_handshake(&c->ssl);
	}
	if (rc != 0) {
		tcli_close(c);
		return -1;
	}
	return 0;
}

static int tcli_send(tcli_t *c, const void *p, size_t n)
{
	const unsigned char *b = p;
	while (n > 0) {
		int w = c->tls ? mbedtls_ssl_write(&c->ssl, b, n)
			       : (int)send(c->fd, b, n, MSG_NOSIGNAL);
		if (w <= 0)
			return -1;
		b += w;
		n -= (size_t)w;
	}
	return 0;
}

static int tcli_send_str(tcli_t *c, const char *s)
{
	return tcli_send(c, s, strlen(s));
}

/* Bytes (> 0), 0 on EOF (close_notify or FIN), -1 on error, -2 on timeout. */
static int tcli_recv(tcli_t *c, void *buf, size_t cap, int timeout_ms)
{
	c->timeout_ms = timeout_ms;
	if (!c->tls) {
		struct pollfd pfd = {.fd = c->fd, .events = POLLIN};
		if (poll(&pfd, 1, timeout_ms) != 1)
			return -2;
		ssize_t r = recv(c->fd, buf, cap, 0);
		return r > 0 ? (int)r : r == 0 ? 0 : -1;
	}
	int r = mbedtls_ssl_read(&c->ssl, buf, cap);
	if (r > 0)
		return r;
	if (r == 0 || r == MBEDTLS_ERR_SSL_PEER_CLOSE_NOTIFY || r == MBEDTLS_ERR_SSL_CONN_EOF)
		return 0;
	return r == MBEDTLS_ERR_SSL_WANT_READ ? -2 : -1;
}

/* Reads more into rbuf; same results as tcli_recv. */
static int tcli_fill(tcli_t *c, int timeout_ms)
{
	if (c->rlen >= RBUF_CAP - 1)
		return -1;
	int r = tcli_recv(c, c->rbuf + c->rlen, RBUF_CAP - 1 - c->rlen, timeout_ms);
	if (r > 0)
		c->rlen += (size_t)r;
	c->rbuf[c->rlen] = '\0';
	return r;
}

/*
 * Reads one response (head, then a Content-Length body unless no_body) into out
 * (NUL-terminated); returns its length, 0 on EOF before a complete response, -1 on
 * error or timeout. Bytes past the response stay buffered for the next call.
 */
static long tcli_response(tcli_t *c, char *out, size_t cap, bool no_body)
{
	for (;;) {
		c->rbuf[c->rlen] = '\0';
		char *end = strstr(c->rbuf, "\r\n\r\n");
		if (end != NULL) {
			size_t head = (size_t)(end - c->rbuf) + 4;
			size_t body = 0;
			const char *cl = strcasestr(c->rbuf, "\r\nContent-Length:");
			if (cl != NULL && cl < end && !no_body)
				body = strtoull(cl + 17, NULL, 10);
			if (c->rlen >= head + body) {
				size_t n = head + body;
				size_t k = n < cap - 1 ? n : cap - 1;
				memcpy(out, c->rbuf, k);
				out[k] = '\0';
				memmove(c->rbuf, c->rbuf + n, c->rlen - n);
				c->rlen -= n;
				return (long)n;
			}
		}
		int r = tcli_fill(c, IO_TIMEOUT_MS);
		if (r == 0)
			return 0;
		if (r < 0)
			return -1;
	}
}

/* Reads until EOF; true if EOF came within timeout_ms. Everything read is in rbuf. */
static bool tcli_until_eof(tcli_t *c, int timeout_ms)
{
	for (;;) {
		int r = tcli_fill(c, timeout_ms);
		if (r == 0 || r == -1)
			return true; /* FIN or RST: either way the server closed */
		if (r == -2)
			return false;
	}
}

static int status_of(const char *resp)
{
	int st = -1;
	if (sscanf(resp, "HTTP/1.%*d %d", &st) != 1)
		st = -1;
	return st;
}

/* Sends req on a fresh connection and returns the response's status; out gets it. */
static int one_request(bool tls, const char *req, char *out, size_t cap)
{
	tcli_t c;
	cr_assert_eq(tcli_open(&c, tls), 0, "connect/handshake failed");
	cr_assert_eq(tcli_send_str(&c, req), 0);
	long n = tcli_response(&c, out, cap, false);
	cr_assert_gt(n, 0, "no response");
	tcli_close(&c);
	return status_of(out);
}

/* A counter from the child's /stats page ("name=value"). */
static unsigned long stat_of(bool tls, const char *name)
{
	char resp[4096], key[64];
	cr_assert_eq(one_request(tls, "GET /stats HTTP/1.1\r\nHost: t\r\n\r\n", resp, sizeof(resp)),
		     200);
	snprintf(key, sizeof(key), " %s=", name);
	const char *p = strstr(resp, key);
	if (p == NULL) {
		snprintf(key, sizeof(key), "\n%s=", name);
		p = strstr(resp, key);
	}
	cr_assert_not_null(p, "no %s in %s", name, resp);
	return strtoul(p + strlen(key), NULL, 10);
}

/*
 * Polls /stats until `want` requests besides the polls have reached the
 * handler. Each poll is a request too: *polls counts this test's polls so far.
 * Waits for the event instead of sleeping a guessed time; the 10 s bound only
 * guards against a hang.
 */
static void wait_dispatched(unsigned long want, unsigned long *polls)
{
	unsigned long n = 0;
	for (int i = 0; i < 1000; i++) {
		++*polls;
		n = stat_of(true, "requests");
		if (n >= want + *polls)
			return;
		usleep(10000);
	}
	cr_assert_fail("%lu requests reached the handler, %lu of them polls", n, *polls);
}

static char *url(const char *scheme, const char *host, const char *path)
{
	static char bufs[8][256];
	static int i;
	char *u = bufs[i++ % 8];
	snprintf(u, 256, "%s://%s:%d%s", scheme, host, g_port, path);
	return u;
}

/* ================================================================ tests */

Test(https, cert_generate_writes_usable_pem_files)
{
	struct stat st;
	char out[16384];
	cr_assert_eq(tls_cert_generate(g_crt, g_key, "localhost"), 0);
	cr_assert_eq(stat(g_key, &st), 0);
	cr_assert_eq(st.st_mode & 0777, 0600, "key mode %o", st.st_mode & 0777);
	cr_assert_eq(stat(g_crt, &st), 0);
	cr_assert_eq(st.st_mode & 0777, 0644, "cert mode %o", st.st_mode & 0777);

	/* mbedTLS reads them back: an EC P-256 key that matches the certificate. */
	mbedtls_x509_crt crt;
	mbedtls_pk_context key;
	mbedtls_x509_crt_init(&crt);
	mbedtls_pk_init(&key);
	cr_assert_eq(mbedtls_x509_crt_parse_file(&crt, g_crt), 0);
	cr_assert_eq(mbedtls_pk_parse_keyfile(&key, g_key, NULL), 0);
	cr_assert_eq(mbedtls_pk_check_pair(&crt.pk, &key), 0);
	cr_assert_eq(mbedtls_pk_get_type(&key), MBEDTLS_PK_ECKEY);
	cr_assert_eq(mbedtls_pk_ec(key)->grp.id, MBEDTLS_ECP_DP_SECP256R1);
	cr_assert_geq(crt.valid_to.year - crt.valid_from.year, 9);
	mbedtls_x509_crt_free(&crt);
	mbedtls_pk_free(&key);

	/* OpenSSL agrees on the names clients will check. */
	const char *argv[] = {"openssl", "x509", "-in", g_crt, "-noout", "-text", NULL};
	cr_assert_eq(run_cmd(argv, out, sizeof(out), NULL, 0), 0);
	cr_assert_not_null(strstr(out, "Subject: CN = localhost"), "%s", out);
	cr_assert_not_null(strstr(out, "DNS:localhost"), "%s", out);
	cr_assert_not_null(strstr(out, "IP Address:127.0.0.1"), "%s", out);
	cr_assert_not_null(strstr(out, "prime256v1"), "%s", out);

	/* A name that would break the subject string is refused, nothing written. */
	char crt2[256], key2[256];
	snprintf(crt2, sizeof(crt2), "%s/bad.crt", g_dir);
	snprintf(key2, sizeof(key2), "%s/bad.key", g_dir);
	cr_assert_eq(tls_cert_generate(crt2, key2, "a,O=evil"), -EINVAL);
	cr_assert_neq(access(key2, F_OK), 0);
}

static int g_closed_calls;

static void on_closed(void *arg)
{
	g_closed_calls++;
}

static void noop_handler(https_request_t *req, void *udata)
{
	https_respond(req, 204, NULL, NULL, 0, NULL);
}

Test(https, start_fails_cleanly_and_close_releases_everything)
{
	uv_loop_t loop;
	https_server_t *a = NULL, *b = NULL;
	char crt2[256], key2[256];
	snprintf(crt2, sizeof(crt2), "%s/other.crt", g_dir);
	snprintf(key2, sizeof(key2), "%s/other.key", g_dir);
	cr_assert_eq(tls_cert_generate(g_crt, g_key, "localhost"), 0);
	cr_assert_eq(tls_cert_generate(crt2, key2, "other"), 0);
	uv_loop_init(&loop);

	https_options_t o = base_opts();
	o.cert_path = "/nonexistent/server.crt";
	cr_assert_eq(https_server_start(&loop, &o, noop_handler, NULL, &a), -EIO);
	o = base_opts();
	o.key_path = key2; /* another certificate's key */
	cr_assert_eq(https_server_start(&loop, &o, noop_handler, NULL, &a), -EINVAL);
	o = base_opts();
	o.host = "not-an-address";
	cr_assert_eq(https_server_start(&loop, &o, noop_handler, NULL, &a), -EINVAL);
	cr_assert_null(a);

	o = base_opts();
	cr_assert_eq(https_server_start(&loop, &o, noop_handler, NULL, &a), 0);
	int port = https_server_port(a);
	cr_assert_gt(port, 0);
	o.port = port;
	cr_assert_eq(https_server_start(&loop, &o, noop_handler, NULL, &b), -EADDRINUSE);
	cr_assert_null(b);

	https_server_close(a, 0, on_closed, NULL);
	uv_run(&loop, UV_RUN_DEFAULT);
	cr_assert_eq(g_closed_calls, 1);
	cr_assert_eq(uv_loop_close(&loop), 0);
}

Test(https, metrics_text_is_prometheus_format)
{
	https_hist_t h;
	char out[8192];
	size_t off = 0;
	memset(&h, 0, sizeof(h));
	https_hist_observe(&h, 50);       /* <= 100 us */
	https_hist_observe(&h, 1000);     /* <= 1 ms: bounds are inclusive */
	https_hist_observe(&h, 20000000); /* > 10 s */
	cr_assert_eq(https_hist_format(&h, "t_seconds", "route=\"x\"", out, sizeof(out), &off), 0);
	cr_assert_eq(off, strlen(out));
	cr_assert_not_null(strstr(out, "# TYPE t_seconds histogram\n"));
	cr_assert_not_null(strstr(out, "t_seconds_bucket{route=\"x\",le=\"0.0001\"} 1\n"), "%s",
			   out);
	cr_assert_not_null(strstr(out, "t_seconds_bucket{route=\"x\",le=\"0.0005\"} 1\n"), "%s",
			   out);
	cr_assert_not_null(strstr(out, "t_seconds_bucket{route=\"x\",le=\"0.001\"} 2\n"), "%s",
			   out);
	cr_assert_not_null(strstr(out, "t_seconds_bucket{route=\"x\",le=\"10\"} 2\n"), "%s", out);
	cr_assert_not_null(strstr(out, "t_seconds_bucket{route=\"x\",le=\"+Inf\"} 3\n"), "%s", out);
	cr_assert_not_null(strstr(out, "t_seconds_sum{route=\"x\"} 20.001050\n"), "%s", out);
	cr_assert_not_null(strstr(out, "t_seconds_count{route=\"x\"} 3\n"), "%s", out);

	/* Too small: nothing half-written. */
	char small[64] = "keep";
	size_t soff = 4;
	cr_assert_eq(https_hist_format(&h, "t_seconds", NULL, small, sizeof(small), &soff),
		     -ENOSPC);
	cr_assert_eq(soff, 4);
	cr_assert_str_eq(small, "keep");

	https_stats_t st;
	memset(&st, 0, sizeof(st));
	st.conns_accepted = 7;
	st.responses[4] = 2;
	off = 0;
	cr_assert_eq(https_stats_format(&st, "ospay_https", out, sizeof(out), &off), 0);
	cr_assert_not_null(strstr(out, "ospay_https_connections_accepted_total 7\n"), "%s", out);
	cr_assert_not_null(strstr(out, "ospay_https_responses_total{code=\"4xx\"} 2\n"), "%s", out);
	cr_assert_not_null(strstr(out, "ospay_https_request_duration_seconds_count 0\n"), "%s",
			   out);
}

Test(https, curl_verifies_certificate_and_gets_request_parts)
{
	char out[8192], err[8192];
	https_options_t o = base_opts();
	srv_start(&o);

	const char *a1[] = {"curl",
			    "-sS",
			    "--max-time",
			    "20",
			    "--cacert",
			    g_crt,
			    "-H",
			    "X-Test: abc",
			    "--data-raw",
			    "hello=1",
			    url("https", "localhost", "/echo?tag=q&x=1"),
			    NULL};
	cr_assert_eq(run_cmd(a1, out, sizeof(out), err, sizeof(err)), 0, "%s", err);
	cr_assert_str_eq(out, "method=POST path=/echo query=tag=q&x=1 x-test=abc len=7 tag=q "
			      "body=hello=1\n");

	/* The IP SAN makes https://127.0.0.1 verify too. */
	const char *a2[] = {"curl",
			    "-sS",
			    "--max-time",
			    "20",
			    "--cacert",
			    g_crt,
			    url("https", "127.0.0.1", "/echo"),
			    NULL};
	cr_assert_eq(run_cmd(a2, out, sizeof(out), err, sizeof(err)), 0, "%s", err);
	cr_assert_not_null(strstr(out, "method=GET path=/echo"));

	/* Without the certificate as trust anchor, verification must fail (curl 60). */
	const char *a3[] = {"curl", "-sS", "--max-time", "20", url("https", "localhost", "/echo"),
			    NULL};
	cr_assert_eq(run_cmd(a3, out, sizeof(out), err, sizeof(err)), 60, "%s", err);

	/* Extra headers pass through; HEAD gets the length but no body. */
	const char *a4[] = {"curl", "-sS",      "-i",  "--max-time",
			    "20",   "--cacert", g_crt, url("https", "localhost", "/extra"),
			    NULL};
	cr_assert_eq(run_cmd(a4, out, sizeof(out), err, sizeof(err)), 0, "%s", err);
	cr_assert_not_null(strstr(out, "HTTP/1.1 201 Created\r\n"), "%s", out);
	cr_assert_not_null(strstr(out, "\r\nX-A: 1\r\n"), "%s", out);
	cr_assert_not_null(strstr(out, "\r\nCache-Control: no-store\r\n"), "%s", out);
	cr_assert_not_null(strstr(out, "\r\nContent-Length: 5\r\n"), "%s", out);
	const char *a5[] = {"curl", "-sS",      "-I",  "--max-time",
			    "20",   "--cacert", g_crt, url("https", "localhost", "/echo"),
			    NULL};
	cr_assert_eq(run_cmd(a5, out, sizeof(out), err, sizeof(err)), 0, "%s", err);
	cr_assert_not_null(strstr(out, "HTTP/1.1 200 OK\r\n"), "%s", out);
	cr_assert_not_null(strstr(out, "\r\nContent-Length: "), "%s", out);
	srv_stop();
}

Test(https, curl_keepalive_sequence_reuses_one_connection)
{
	char out[8192], err[65536];
	https_options_t o = base_opts();
	srv_start(&o);
	const char *argv[] = {"curl",
			      "-sS",
			      "-v",
			      "--max-time",
			      "20",
			      "--cacert",
			      g_crt,
			      url("https", "localhost", "/echo?tag=1"),
			      url("https", "localhost", "/echo?tag=2"),
			      url("https", "localhost", "/async?ms=50&tag=3"),
			      url("https", "localhost", "/stats"),
			      NULL};
	cr_assert_eq(run_cmd(argv, out, sizeof(out), err, sizeof(err)), 0, "%s", err);
	cr_assert_eq(count_of(err, "Re-using existing connection"), 3, "%s", err);
	cr_assert_not_null(strstr(out, "tag=1"));
	cr_assert_not_null(strstr(out, "async ms=50 tag=3"));
	/* The server saw one connection carrying all four requests. */
	cr_assert_not_null(strstr(out, " accepted=1 "), "%s", out);
	cr_assert_not_null(strstr(out, " requests=4 "), "%s", out);
	srv_stop();
}

Test(https, openssl_s_client_negotiates_tls12_or_newer_only)
{
	static char out[65536];
	char port[16];
	https_options_t o = base_opts();
	srv_start(&o);
	snprintf(port, sizeof(port), "127.0.0.1:%d", g_port);
	const char *a1[] = {"openssl", "s_client",    "-connect",  port, "-CAfile",
			    g_crt,     "-servername", "localhost", NULL};
	cr_assert_eq(run_cmd(a1, out, sizeof(out), NULL, 0), 0);
	cr_assert(strstr(out, "Protocol  : TLSv1.2") != NULL ||
			  strstr(out, "Protocol  : TLSv1.3") != NULL,
		  "%s", out);
	cr_assert_not_null(strstr(out, "Verify return code: 0 (ok)"), "%s", out);

	/* TLS 1.1 (allowed by OpenSSL only at security level 0) is refused. */
	const char *a2[] = {"openssl", "s_client", "-connect",           port,
			    "-tls1_1", "-cipher",  "DEFAULT@SECLEVEL=0", NULL};
	static char err[65536];
	cr_assert_neq(run_cmd(a2, out, sizeof(out), err, sizeof(err)), 0);
	cr_assert_not_null(strstr(out, "Cipher is (NONE)"), "%s", out);
	/* Refused for its version (alert 70), not merely for lack of a shared suite. */
	cr_assert_not_null(strstr(err, "alert protocol version"), "%s", err);

	/* Plain HTTP sent to the TLS port is a failed handshake: the connection ends. */
	tcli_t c;
	cr_assert_eq(tcli_open(&c, false), 0);
	cr_assert_eq(tcli_send_str(&c, "GET /echo HTTP/1.1\r\nHost: t\r\n\r\n"), 0);
	cr_assert(tcli_until_eof(&c, IO_TIMEOUT_MS));
	cr_assert_null(strstr(c.rbuf, "HTTP/1.1"));
	tcli_close(&c);
	cr_assert_eq(stat_of(true, "hs_fail"), 2);
	srv_stop();
}

Test(https, header_section_over_limit_gets_431_and_url_over_limit_414)
{
	static char req[40000], resp[8192];
	https_options_t o = base_opts();
	srv_start(&o);

	/* 16 KiB is the limit for request line + headers: 15 KiB passes... */
	int n = snprintf(req, sizeof(req), "GET /echo HTTP/1.1\r\nHost: t\r\nX-Pad: ");
	memset(req + n, 'a', 15000);
	strcpy(req + n + 15000, "\r\n\r\n");
	cr_assert_eq(one_request(true, req, resp, sizeof(resp)), 200, "%s", resp);

	/* ...17 KB does not, and the connection ends after the answer. */
	memset(req + n, 'a', 17000);
	strcpy(req + n + 17000, "\r\n\r\n");
	tcli_t c;
	cr_assert_eq(tcli_open(&c, true), 0);
	cr_assert_eq(tcli_send_str(&c, req), 0);
	cr_assert_gt(tcli_response(&c, resp, sizeof(resp), false), 0);
	cr_assert_eq(status_of(resp), 431, "%s", resp);
	cr_assert_not_null(strstr(resp, "Connection: close\r\n"));
	cr_assert(tcli_until_eof(&c, IO_TIMEOUT_MS));
	tcli_close(&c);

	/* Many small headers count the same as one big one. */
	n = snprintf(req, sizeof(req), "GET /echo HTTP/1.1\r\nHost: t\r\n");
	for (int i = 0; i < 90; i++)
		n += snprintf(req + n, sizeof(req) - (size_t)n, "X-H%d: %0200d\r\n", i, i);
	snprintf(req + n, sizeof(req) - (size_t)n, "\r\n");
	cr_assert_eq(one_request(true, req, resp, sizeof(resp)), 431, "%s", resp);

	/* A target alone over the limit is a 414. */
	n = snprintf(req, sizeof(req), "GET /");
	memset(req + n, 'u', 17000);
	strcpy(req + n + 17000, " HTTP/1.1\r\nHost: t\r\n\r\n");
	cr_assert_eq(one_request(true, req, resp, sizeof(resp)), 414, "%s", resp);
	cr_assert_eq(stat_of(true, "refused"), 3);
	srv_stop();
}

Test(https, body_over_limit_gets_413)
{
	static char resp[8192];
	const size_t mib = 1024 * 1024;
	https_options_t o = base_opts();
	srv_start(&o);

	/* Refused on the declared length alone, before any body byte is sent. */
	char resp1[4096];
	cr_assert_eq(
		one_request(true,
			    "POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: 1048577\r\n\r\n",
			    resp1, sizeof(resp1)),
		413, "%s", resp1);

	/* Exactly 1 MiB is accepted. */
	char *body = malloc(mib);
	memset(body, 'b', mib);
	tcli_t c;
	cr_assert_eq(tcli_open(&c, true), 0);
	cr_assert_eq(tcli_send_str(&c, "POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: "
				       "1048576\r\n\r\n"),
		     0);
	cr_assert_eq(tcli_send(&c, body, mib), 0);
	cr_assert_gt(tcli_response(&c, resp, sizeof(resp), false), 0);
	cr_assert_eq(status_of(resp), 200, "%s", resp);
	cr_assert_not_null(strstr(resp, " len=1048576 "), "%s", resp);
	tcli_close(&c);

	/* A chunked body is counted as it arrives: 64 KiB chunks, cut off past 1 MiB. */
	cr_assert_eq(tcli_open(&c, true), 0);
	cr_assert_eq(tcli_send_str(&c, "POST /echo HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: "
				       "chunked\r\n\r\n"),
		     0);
	int sent = 0;
	for (int i = 0; i < 20; i++) {
		if (tcli_send_str(&c, "10000\r\n") != 0 || tcli_send(&c, body, 65536) != 0 ||
		    tcli_send_str(&c, "\r\n") != 0)
			break;
		sent++;
	}
	cr_assert_gt(tcli_response(&c, resp, sizeof(resp), false), 0);
	cr_assert_eq(status_of(resp), 413, "%s (chunks sent %d)", resp, sent);
	tcli_close(&c);
	free(body);
	srv_stop();
}

Test(https, content_length_with_transfer_encoding_gets_400)
{
	char resp[4096];
	https_options_t o = base_opts();
	srv_start(&o);
	cr_assert_eq(one_request(true,
				 "POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: 5\r\n"
				 "Transfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
				 resp, sizeof(resp)),
		     400, "%s", resp);
	cr_assert_eq(one_request(true,
				 "POST /echo HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n"
				 "Content-Length: 5\r\n\r\n0\r\n\r\n",
				 resp, sizeof(resp)),
		     400, "%s", resp);
	/* A coding other than chunked would reach the handler undecoded. */
	cr_assert_eq(
		one_request(true,
			    "POST /echo HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: gzip, chunked\r\n"
			    "\r\n0\r\n\r\n",
			    resp, sizeof(resp)),
		501, "%s", resp);
	/* Other malformed requests: garbage, HTTP/1.1 without Host. */
	cr_assert_eq(one_request(true, "GARBAGE\r\n\r\n", resp, sizeof(resp)), 400, "%s", resp);
	cr_assert_eq(one_request(true, "GET /echo HTTP/1.1\r\n\r\n", resp, sizeof(resp)), 400, "%s",
		     resp);
	/* None reached the handler: the only request it saw is this /stats one. */
	cr_assert_eq(stat_of(true, "requests"), 1);
	srv_stop();
}

/* Four requests in one write, the first answered last by its handler: the responses
 * must still come back in request order. */
static void check_pipelining(bool tls, bool bytewise)
{
	static const char reqs[] = "GET /async?ms=300&tag=a HTTP/1.1\r\nHost: t\r\n\r\n"
				   "POST /echo?tag=b HTTP/1.1\r\nHost: t\r\nContent-Length: 3\r\n"
				   "\r\nxyz"
				   "GET /async?ms=10&tag=c HTTP/1.1\r\nHost: t\r\n\r\n"
				   "GET /echo?tag=d HTTP/1.1\r\nHost: t\r\nConnection: close\r\n"
				   "\r\n";
	tcli_t c;
	cr_assert_eq(tcli_open(&c, tls), 0);
	/* Bytewise: every byte its own write (its own TLS record), so each parser piece
	 * (method, URL, field, value, body) is split across reads. */
	for (size_t i = 0; bytewise && i < sizeof(reqs) - 1; i++)
		cr_assert_eq(tcli_send(&c, reqs + i, 1), 0);
	if (!bytewise)
		cr_assert_eq(tcli_send_str(&c, reqs), 0);
	cr_assert(tcli_until_eof(&c, IO_TIMEOUT_MS), "server did not close after the last");
	const char *all = c.rbuf;
	cr_assert_eq(count_of(all, "HTTP/1.1 200 OK"), 4, "%s", all);
	const char *a = strstr(all, "async ms=300 tag=a");
	const char *b = strstr(all, "tag=b body=xyz");
	const char *cc = strstr(all, "async ms=10 tag=c");
	const char *d = strstr(all, "tag=d");
	cr_assert(a != NULL && b != NULL && cc != NULL && d != NULL, "%s", all);
	cr_assert(a < b && b < cc && cc < d, "out of order: %s", all);
	tcli_close(&c);
}

Test(https, pipelined_requests_answered_in_order)
{
	https_options_t o = base_opts();
	srv_start(&o);
	check_pipelining(true, false);
	check_pipelining(true, true);
	srv_stop();
}

Test(https, slow_client_is_cut_by_header_timeout)
{
	static const char req[] = "GET /echo HTTP/1.1\r\nHost: t\r\n\r\n";
	char resp[4096];
	https_options_t o = base_opts();
	o.header_timeout_ms = 1000;
	srv_start(&o);
	tcli_t c;
	cr_assert_eq(tcli_open(&c, true), 0);
	/* One byte per second; bytes arriving do not extend the deadline. */
	size_t sent = 0;
	bool closed = false;
	while (sent < sizeof(req) - 1 && !closed) {
		if (tcli_send(&c, req + sent, 1) != 0)
			break;
		sent++;
		struct pollfd pfd = {.fd = c.fd, .events = POLLIN};
		closed = poll(&pfd, 1, 1000) == 1;
	}
	cr_assert_lt(sent, sizeof(req) - 1, "the whole request went through");
	cr_assert_gt(tcli_response(&c, resp, sizeof(resp), false), 0);
	cr_assert_eq(status_of(resp), 408, "%s", resp);
	cr_assert(tcli_until_eof(&c, IO_TIMEOUT_MS));
	tcli_close(&c);
	cr_assert_eq(stat_of(true, "t_hdr"), 1);
	srv_stop();
}

Test(https, body_timeout_and_idle_timeout)
{
	char resp[4096];
	https_options_t o = base_opts();
	o.body_timeout_ms = 1000;
	o.idle_timeout_ms = 1000;
	srv_start(&o);

	/* Headers complete, body never does: 408. */
	tcli_t c;
	cr_assert_eq(tcli_open(&c, true), 0);
	cr_assert_eq(tcli_send_str(&c, "POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: 10\r\n"
				       "\r\nabc"),
		     0);
	cr_assert_gt(tcli_response(&c, resp, sizeof(resp), false), 0);
	cr_assert_eq(status_of(resp), 408, "%s", resp);
	tcli_close(&c);

	/* A keep-alive connection left idle is closed without a word. */
	cr_assert_eq(tcli_open(&c, true), 0);
	cr_assert_eq(tcli_send_str(&c, "GET /echo HTTP/1.1\r\nHost: t\r\n\r\n"), 0);
	cr_assert_gt(tcli_response(&c, resp, sizeof(resp), false), 0);
	cr_assert_eq(status_of(resp), 200);
	cr_assert(tcli_until_eof(&c, IO_TIMEOUT_MS), "idle connection not closed");
	cr_assert_eq(c.rlen, 0, "unexpected bytes: %s", c.rbuf);
	tcli_close(&c);

	cr_assert_eq(stat_of(true, "t_body"), 1);
	cr_assert_eq(stat_of(true, "idle"), 1);
	srv_stop();
}

Test(https, max_connections_enforced)
{
	char resp[4096];
	https_options_t o = base_opts();
	o.max_connections = 2;
	srv_start(&o);
	tcli_t a, b, c, d;
	cr_assert_eq(tcli_open(&a, true), 0);
	cr_assert_eq(tcli_open(&b, true), 0);
	/* The third is accepted and closed at once: its handshake cannot succeed. */
	cr_assert_neq(tcli_open(&c, true), 0, "third connection was served");
	tcli_close(&a);
	/* Once the server has seen the first one go, there is room again. */
	int rc = -1;
	for (int i = 0; i < 100 && rc != 0; i++) {
		rc = tcli_open(&d, true);
		if (rc != 0)
			usleep(20000);
	}
	cr_assert_eq(rc, 0);
	cr_assert_eq(tcli_send_str(&d, "GET /stats HTTP/1.1\r\nHost: t\r\n\r\n"), 0);
	cr_assert_gt(tcli_response(&d, resp, sizeof(resp), false), 0);
	cr_assert_not_null(strstr(resp, "\nopen=2 "), "%s", resp);
	const char *r = strstr(resp, " rejected=");
	cr_assert_not_null(r);
	cr_assert_geq(strtoul(r + 10, NULL, 10), 1, "%s", resp);
	tcli_close(&b);
	tcli_close(&d);
	srv_stop();
}

Test(https, abandoned_handshake_frees_its_slot)
{
	https_options_t o = base_opts();
	o.max_connections = 1;
	/* Far beyond the wait below: only the close can free the slot in time. */
	o.handshake_timeout_ms = 600000;
	srv_start(&o);
	/* Connect and leave without a ClientHello, like a TCP health check. The slot
	 * must come back on the close, not at the handshake timeout. */
	int fd = tcp_connect(g_port);
	cr_assert_geq(fd, 0);
	close(fd);
	tcli_t c;
	int rc = -1;
	/* At least 10 s of retries: a hang guard, not a speed bound. */
	for (int i = 0; i < 500 && rc != 0; i++) {
		rc = tcli_open(&c, true);
		if (rc != 0)
			usleep(20000);
	}
	cr_assert_eq(rc, 0, "slot still held by the abandoned connection");
	char resp[4096];
	cr_assert_eq(tcli_send_str(&c, "GET /stats HTTP/1.1\r\nHost: t\r\n\r\n"), 0);
	cr_assert_gt(tcli_response(&c, resp, sizeof(resp), false), 0);
	cr_assert_not_null(strstr(resp, " t_hs=0 "), "%s", resp);
	cr_assert_not_null(strstr(resp, " hs_fail=0 "), "%s", resp);
	tcli_close(&c);
	srv_stop();
}

Test(https, async_response_and_dead_connection)
{
	char out[4096], err[8192];
	https_options_t o = base_opts();
	srv_start(&o);
	const char *argv[] = {"curl",
			      "-sS",
			      "--max-time",
			      "20",
			      "--cacert",
			      g_crt,
			      url("https", "localhost", "/async?ms=300&tag=z"),
			      NULL};
	cr_assert_eq(run_cmd(argv, out, sizeof(out), err, sizeof(err)), 0, "%s", err);
	cr_assert_str_eq(out, "async ms=300 tag=z\n");

	/* The client leaves before its answer: the late respond only frees the request
	 * (LeakSanitizer checks that in the child), and the server goes on serving. */
	tcli_t c;
	unsigned long polls = 0;
	cr_assert_eq(tcli_open(&c, true), 0);
	cr_assert_eq(tcli_send_str(&c, "GET /async?ms=300 HTTP/1.1\r\nHost: t\r\n\r\n"), 0);
	wait_dispatched(2, &polls);
	tcli_close(&c);
	/* Room for the late respond; nothing below depends on it having run. */
	usleep(500000);
	cr_assert_eq(stat_of(true, "requests"), 2 + polls + 1);
	/* And one still pending at shutdown is released too. */
	cr_assert_eq(tcli_open(&c, true), 0);
	cr_assert_eq(tcli_send_str(&c, "GET /async?ms=300 HTTP/1.1\r\nHost: t\r\n\r\n"), 0);
	usleep(50000);
	srv_stop();
	tcli_close(&c);
}

Test(https, graceful_close_finishes_owned_requests_then_stops)
{
	char resp[4096];
	https_options_t o = base_opts();
	srv_start(&o);
	tcli_t a, b, idle;
	unsigned long polls = 0;
	cr_assert_eq(tcli_open(&idle, true), 0);
	cr_assert_eq(tcli_open(&a, true), 0);
	cr_assert_eq(tcli_send_str(&a, "GET /async?ms=500&tag=A HTTP/1.1\r\nHost: t\r\n\r\n"), 0);
	/* The handler owns A before the drain starts. */
	wait_dispatched(1, &polls);
	cr_assert_eq(tcli_open(&b, true), 0);
	cr_assert_eq(tcli_send_str(&b, "GET /drain HTTP/1.1\r\nHost: t\r\n\r\n"), 0);
	cr_assert_gt(tcli_response(&b, resp, sizeof(resp), false), 0);
	cr_assert_eq(status_of(resp), 200, "%s", resp);
	cr_assert_not_null(strstr(resp, "\r\nConnection: close\r\n"), "%s", resp);
	/* The idle connection goes at once; the listener is closed. */
	cr_assert(tcli_until_eof(&idle, IO_TIMEOUT_MS));
	cr_assert_lt(tcp_connect(g_port), 0, "still accepting after close");
	/* The request the handler still owned gets its answer, then the end. */
	cr_assert_gt(tcli_response(&a, resp, sizeof(resp), false), 0);
	cr_assert_not_null(strstr(resp, "async ms=500 tag=A"), "%s", resp);
	cr_assert_not_null(strstr(resp, "\r\nConnection: close\r\n"), "%s", resp);
	cr_assert(tcli_until_eof(&a, IO_TIMEOUT_MS));
	tcli_close(&a);
	tcli_close(&b);
	tcli_close(&idle);
	srv_stop();
}

Test(https, handler_errors_become_500_and_framing_stays_intact)
{
	char resp[4096];
	https_options_t o = base_opts();
	srv_start(&o);
	tcli_t c;
	cr_assert_eq(tcli_open(&c, true), 0);
	cr_assert_eq(tcli_send_str(&c, "GET /badheader HTTP/1.1\r\nHost: t\r\n\r\n"
				       "GET /dupframing HTTP/1.1\r\nHost: t\r\n\r\n"
				       "GET /nope HTTP/1.1\r\nHost: t\r\n\r\n"),
		     0);
	cr_assert_gt(tcli_response(&c, resp, sizeof(resp), false), 0);
	cr_assert_eq(status_of(resp), 500, "%s", resp);
	cr_assert_null(strstr(resp, "Injected"), "%s", resp);
	cr_assert_gt(tcli_response(&c, resp, sizeof(resp), false), 0);
	cr_assert_eq(status_of(resp), 500, "%s", resp);
	cr_assert_eq(count_of(resp, "Content-Length"), 1, "%s", resp);
	cr_assert_gt(tcli_response(&c, resp, sizeof(resp), false), 0);
	cr_assert_eq(status_of(resp), 404, "%s", resp);
	tcli_close(&c);
	srv_stop();
}

Test(https, connection_close_and_expect_continue)
{
	char resp[4096];
	https_options_t o = base_opts();
	srv_start(&o);
	tcli_t c;
	cr_assert_eq(tcli_open(&c, true), 0);
	cr_assert_eq(
		tcli_send_str(&c, "GET /echo HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n"), 0);
	cr_assert_gt(tcli_response(&c, resp, sizeof(resp), false), 0);
	cr_assert_eq(status_of(resp), 200);
	cr_assert_not_null(strstr(resp, "\r\nConnection: close\r\n"), "%s", resp);
	cr_assert(tcli_until_eof(&c, IO_TIMEOUT_MS), "not closed after Connection: close");
	tcli_close(&c);

	/* Expect: 100-continue gets the interim response before the body is sent. */
	cr_assert_eq(tcli_open(&c, true), 0);
	cr_assert_eq(tcli_send_str(&c, "POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: 4\r\n"
				       "Expect: 100-continue\r\n\r\n"),
		     0);
	cr_assert_gt(tcli_response(&c, resp, sizeof(resp), true), 0);
	cr_assert_eq(status_of(resp), 100, "%s", resp);
	cr_assert_eq(tcli_send_str(&c, "data"), 0);
	cr_assert_gt(tcli_response(&c, resp, sizeof(resp), false), 0);
	cr_assert_eq(status_of(resp), 200, "%s", resp);
	cr_assert_not_null(strstr(resp, "body=data"), "%s", resp);
	tcli_close(&c);
	srv_stop();
}

Test(https, plain_http_mode)
{
	char out[8192], err[65536], resp[4096];
	https_options_t o = base_opts();
	o.plain = true;
	srv_start(&o);
	const char *argv[] = {"curl",
			      "-sS",
			      "-v",
			      "--max-time",
			      "20",
			      url("http", "127.0.0.1", "/echo?tag=p1"),
			      url("http", "127.0.0.1", "/echo?tag=p2"),
			      NULL};
	cr_assert_eq(run_cmd(argv, out, sizeof(out), err, sizeof(err)), 0, "%s", err);
	cr_assert_not_null(strstr(out, "tag=p1"));
	cr_assert_not_null(strstr(out, "tag=p2"));
	cr_assert_eq(count_of(err, "Re-using existing connection"), 1, "%s", err);

	/* HTTP/1.0 closes by default... */
	tcli_t c;
	cr_assert_eq(tcli_open(&c, false), 0);
	cr_assert_eq(tcli_send_str(&c, "GET /echo HTTP/1.0\r\n\r\n"), 0);
	cr_assert_gt(tcli_response(&c, resp, sizeof(resp), false), 0);
	cr_assert_eq(status_of(resp), 200, "%s", resp);
	cr_assert_not_null(strstr(resp, "\r\nConnection: close\r\n"), "%s", resp);
	cr_assert(tcli_until_eof(&c, IO_TIMEOUT_MS));
	tcli_close(&c);
	/* ...and stays open when asked to. */
	cr_assert_eq(tcli_open(&c, false), 0);
	cr_assert_eq(
		tcli_send_str(&c, "GET /echo?tag=k1 HTTP/1.0\r\nConnection: keep-alive\r\n\r\n"),
		0);
	cr_assert_gt(tcli_response(&c, resp, sizeof(resp), false), 0);
	cr_assert_not_null(strstr(resp, "\r\nConnection: keep-alive\r\n"), "%s", resp);
	cr_assert_eq(
		tcli_send_str(&c, "GET /echo?tag=k2 HTTP/1.0\r\nConnection: keep-alive\r\n\r\n"),
		0);
	cr_assert_gt(tcli_response(&c, resp, sizeof(resp), false), 0);
	cr_assert_not_null(strstr(resp, "tag=k2"), "%s", resp);
	tcli_close(&c);

	check_pipelining(false, false);
	check_pipelining(false, true);
	char big[40000];
	int n = snprintf(big, sizeof(big), "GET /echo HTTP/1.1\r\nHost: t\r\nX-Pad: ");
	memset(big + n, 'a', 17000);
	strcpy(big + n + 17000, "\r\n\r\n");
	cr_assert_eq(one_request(false, big, resp, sizeof(resp)), 431, "%s", resp);
	srv_stop();
}

/* Every mbedTLS call first meets "would block", and output is capped far below the
 * response sizes: the retry and backpressure paths carry large responses intact. */
Test(https, would_block_everywhere_and_backpressure)
{
	char out[8192], err[65536];
	https_options_t o = base_opts();
	o.test_bio_flaky = true;
	o.max_output_bytes = 16384;
	srv_start(&o);

	char file[256];
	snprintf(file, sizeof(file), "%s/big.bin", g_dir);
	const char *argv[] = {"curl",
			      "-sS",
			      "-v",
			      "--max-time",
			      "30",
			      "--cacert",
			      g_crt,
			      "-o",
			      file,
			      url("https", "localhost", "/big?n=2000000"),
			      "-o",
			      "/dev/null",
			      url("https", "localhost", "/echo"),
			      NULL};
	cr_assert_eq(run_cmd(argv, out, sizeof(out), err, sizeof(err)), 0, "%s", err);
	cr_assert_eq(count_of(err, "Re-using existing connection"), 1, "%s", err);
	struct stat st;
	cr_assert_eq(stat(file, &st), 0);
	cr_assert_eq(st.st_size, 2000000);
	FILE *f = fopen(file, "rb");
	bool ok = true;
	for (long i = 0; i < 2000000 && ok; i++)
		ok = fgetc(f) == 'a' + i % 26;
	fclose(f);
	cr_assert(ok, "response body corrupted");

	/* A client that pipelines big responses and reads late still gets all of them,
	 * whole and in order. */
	tcli_t c;
	cr_assert_eq(tcli_open(&c, true), 0);
	cr_assert_eq(tcli_send_str(&c, "GET /big?n=300000 HTTP/1.1\r\nHost: t\r\n\r\n"
				       "GET /big?n=300001 HTTP/1.1\r\nHost: t\r\n\r\n"
				       "GET /big?n=300002 HTTP/1.1\r\nHost: t\r\nConnection: "
				       "close\r\n\r\n"),
		     0);
	usleep(300000);
	static char resp[400000];
	for (int i = 0; i < 3; i++) {
		long n = tcli_response(&c, resp, sizeof(resp), false);
		cr_assert_gt(n, 300000, "response %d", i);
		char want[64];
		snprintf(want, sizeof(want), "Content-Length: %d\r\n", 300000 + i);
		cr_assert_not_null(strstr(resp, want), "response %d out of order", i);
	}
	tcli_close(&c);
	srv_stop();
}

/*
 * Webhook load (docs/spec.md 8 row 3, issue 7): N keep-alive connections, each POSTing
 * PagoLivre-shaped notifications one after another, over TLS to ospayd's
 * /webhooks/pagolivre/<org> or over plain HTTP to the reference (nginx
 * answering `return 200`), with the same bytes and the same client.
 *
 *   bench_webhooks setup --data DIR --org ORG --sandbox URL --token T --refs K
 *       creates K payment links (orderKey bw-0 .. bw-K-1) at the sandbox and
 *       registers them in ospayd's live store (LMDB is multi-process safe), as
 *       Orders/Finalize does, so their events are accepted and re-queried.
 *   bench_webhooks load --addr H:P [--tls --cacert F] --org ORG --token T --refs K
 *       [--conns N] [--duration S] [--warmup S] [--id-prefix P] [--pid PID] [--label L]
 *
 * Every event has a distinct eventId (the prefix, then a counter), so ospayd
 * stores each one and queues its re-query. One epoll loop, mbedTLS for TLS (the
 * server certificate is verified against --cacert for "localhost"). Latencies go
 * into the same log-linear histogram as bench/loadgen.c. Prints one JSON line.
 */
#include <arpa/inet.h>
#include <curl/curl.h>
#include <errno.h>
#include <inttypes.h>
#include <mbedtls/ctr_drbg.h>
#include <mbedtls/net_sockets.h>
#include <mbedtls/entropy.h>
#include <mbedtls/ssl.h>
#include <mbedtls/x509_crt.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "server/db/db.h"
#include "server/rpc/srv.h"
#include "store/store.h"

#include "hist.h"
#include "sample.h"
#include "server/providers/objects.h"

/* ------------------------------------------------------------------ options */

typedef struct opts {
	const char *mode, *addr, *cacert, *org, *token, *prefix, *label, *data, *sandbox;
	bool tls;
	unsigned conns, refs;
	double duration, warmup;
	int pid;
} opts_t;

static int parse(int argc, char **argv, opts_t *o)
{
	*o = (opts_t){.conns = 64,
		      .refs = 1000,
		      .duration = 5,
		      .warmup = 1,
		      .prefix = "bw",
		      .label = "webhooks"};
	if (argc < 2)
		return -1;
	o->mode = argv[1];
	const bench_opt_t opts[] = {
		{"--tls", BENCH_FLAG, &o->tls},         {"--addr", BENCH_TEXT, &o->addr},
		{"--cacert", BENCH_TEXT, &o->cacert},   {"--org", BENCH_TEXT, &o->org},
		{"--token", BENCH_TEXT, &o->token},     {"--id-prefix", BENCH_TEXT, &o->prefix},
		{"--label", BENCH_TEXT, &o->label},     {"--data", BENCH_TEXT, &o->data},
		{"--sandbox", BENCH_TEXT, &o->sandbox}, {"--conns", BENCH_UINT, &o->conns},
		{"--refs", BENCH_UINT, &o->refs},       {"--duration", BENCH_DOUBLE, &o->duration},
		{"--warmup", BENCH_DOUBLE, &o->warmup}, {"--pid", BENCH_INT, &o->pid},
	};
	if (bench_opts_parse(argc, argv, 2, opts, sizeof(opts) / sizeof(opts[0])) != 0)
		return -1;
	if (o->org == NULL || o->token == NULL || o->refs == 0 || o->conns == 0)
		return -1;
	return 0;
}

/* ------------------------------------------------------------------ setup */

typedef struct reg {
	uint64_t org;
	unsigned refs;
} reg_t;

static int register_fn(store_txn_t *txn, void *arg)
{
	const reg_t *r = arg;
	char ref[32];
	int rc = 0;
	for (unsigned i = 0; i < r->refs && rc == 0; i++) {
		snprintf(ref, sizeof(ref), "bw-%u", i);
		rc = prov_object_register(txn, r->org, SRV_SERVICE_PAGOLIVRE, ref, 1);
	}
	return rc;
}

static size_t discard(char *p, size_t size, size_t n, void *arg)
{
	(void)p;
	(void)arg;
	return size * n;
}

static int setup(const opts_t *o)
{
	char url[300], auth[300], body[512], path[400];
	struct curl_slist *hdrs = NULL;
	CURL *c = curl_easy_init();
	int rc = -1;
	if (c == NULL || o->sandbox == NULL || o->data == NULL)
		goto out;
	snprintf(url, sizeof(url), "%s/pagolivre/orders", o->sandbox);
	snprintf(auth, sizeof(auth), "Authorization: Basic %s", o->token);
	hdrs = curl_slist_append(hdrs, auth);
	hdrs = curl_slist_append(hdrs, "Content-Type: application/json");
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, hdrs);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, discard);
	for (unsigned i = 0; i < o->refs; i++) {
		snprintf(body, sizeof(body),
			 "{\"requestId\":\"req-bw-%u\",\"orderKey\":\"bw-%u\",\"amount\":300.00,"
			 "\"installments\":3,\"receivingOptionType\":\"creditCard\","
			 "\"orderGuests\":[{\"cpf\":\"12345678909\",\"mobileNumber\":"
			 "\"5511985850505\"}]}",
			 i, i);
		curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
		long code = 0;
		if (curl_easy_perform(c) != CURLE_OK ||
		    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &code) != CURLE_OK ||
		    code != 201) {
			fprintf(stderr, "bench_webhooks: link %u at the sandbox: HTTP %ld\n", i,
				code);
			goto out;
		}
	}
	snprintf(path, sizeof(path), "%s/store", o->data);
	store_opts_t so = {.path = path, .tables = db_tables, .n_tables = DB_N_TABLES};
	store_t *st = NULL;
	if (store_open(&st, &so) != 0) {
		fprintf(stderr, "bench_webhooks: cannot open %s\n", path);
		goto out;
	}
	reg_t r = {.org = strtoull(o->org, NULL, 10), .refs = o->refs};
	rc = store_write(st, register_fn, NULL, &r);
	if (rc == 0)
		rc = store_flush(st);
	store_close(st);
	if (rc != 0)
		fprintf(stderr, "bench_webhooks: registering the links: %s\n", strerror(-rc));
out:
	curl_slist_free_all(hdrs);
	if (c != NULL)
		curl_easy_cleanup(c);
	return rc == 0 ? 0 : 1;
}

/* ------------------------------------------------------------------ load */

enum { C_CONNECT, C_HANDSHAKE, C_SEND, C_RECV };

typedef struct conn {
	int fd, state;
	bool want_out;
	mbedtls_ssl_context ssl;
	bool ssl_init;
	char req[1024];
	size_t req_len, sent;
	char in[4096];
	size_t have;
	uint64_t t0;
	bool ready;
} conn_t;

typedef struct run {
	const opts_t *o;
	int ep;
	struct sockaddr_in sa;
	mbedtls_ssl_config conf;
	mbedtls_x509_crt ca;
	mbedtls_entropy_context entropy;
	mbedtls_ctr_drbg_context drbg;
	conn_t *conns;
	uint64_t seq, t_measure, t_end, t_stop;
	unsigned ready; /* connections past their handshake */
	bool measuring, measured;
	uint64_t ok, measured_ok, non200, reconnects, errors;
	hist_t hist;
	double cpu0, cpu1, self0, self1;
	long rss_peak;
} run_t;

static int bio_send(void *ctx, const unsigned char *b, size_t n)
{
	ssize_t w = send(((conn_t *)ctx)->fd, b, n, MSG_NOSIGNAL);
	if (w >= 0)
		return (int)w;
	return errno == EAGAIN || errno == EWOULDBLOCK ? MBEDTLS_ERR_SSL_WANT_WRITE
						       : MBEDTLS_ERR_NET_SEND_FAILED;
}

static int bio_recv(void *ctx, unsigned char *b, size_t n)
{
	ssize_t r = recv(((conn_t *)ctx)->fd, b, n, 0);
	if (r >= 0)
		return (int)r;
	return errno == EAGAIN || errno == EWOULDBLOCK ? MBEDTLS_ERR_SSL_WANT_READ
						       : MBEDTLS_ERR_NET_RECV_FAILED;
}

/* The next event: a distinct id, a known reference. */
static void next_request(run_t *r, conn_t *c)
{
	const opts_t *o = r->o;
	if (!c->ready) {
		/* The window opens --warmup seconds after the last handshake: TLS
		 * handshakes (ECDSA signatures) are not what keep-alive measures. */
		c->ready = true;
		if (++r->ready == o->conns) {
			r->t_measure = bench_now_ns() + (uint64_t)(o->warmup * 1e9);
			r->t_end = r->t_measure + (uint64_t)(o->duration * 1e9);
			r->t_stop = r->t_end + 10000000000u;
		}
	}
	char body[256];
	uint64_t n = r->seq++;
	int bl = snprintf(body, sizeof(body),
			  "{\"eventId\":\"%s-%" PRIu64 "\",\"eventName\":\"orderPaid\","
			  "\"orderKey\":\"bw-%" PRIu64 "\"}",
			  o->prefix, n, n % o->refs);
	c->req_len = (size_t)snprintf(c->req, sizeof(c->req),
				      "POST /webhooks/pagolivre/%s?accessToken=%s HTTP/1.1\r\n"
				      "Host: localhost\r\nContent-Type: application/json\r\n"
				      "Content-Length: %d\r\n\r\n%s",
				      o->org, o->token, bl, body);
	c->sent = 0;
	c->have = 0;
	c->state = C_SEND;
	c->t0 = bench_now_ns();
}

static void conn_close(run_t *r, conn_t *c)
{
	if (c->fd >= 0) {
		epoll_ctl(r->ep, EPOLL_CTL_DEL, c->fd, NULL);
		close(c->fd);
	}
	c->fd = -1;
	if (c->ssl_init)
		mbedtls_ssl_free(&c->ssl);
	c->ssl_init = false;
}

static int conn_open(run_t *r, conn_t *c)
{
	c->fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
	if (c->fd < 0)
		return -1;
	int one = 1;
	setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	if (connect(c->fd, (struct sockaddr *)&r->sa, sizeof(r->sa)) != 0 && errno != EINPROGRESS)
		return -1;
	c->state = C_CONNECT;
	c->want_out = true;
	struct epoll_event ev = {.events = EPOLLIN | EPOLLOUT, .data.ptr = c};
	if (epoll_ctl(r->ep, EPOLL_CTL_ADD, c->fd, &ev) != 0)
		return -1;
	if (r->o->tls) {
		mbedtls_ssl_init(&c->ssl);
		c->ssl_init = true;
		if (mbedtls_ssl_setup(&c->ssl, &r->conf) != 0 ||
		    mbedtls_ssl_set_hostname(&c->ssl, "localhost") != 0)
			return -1;
		mbedtls_ssl_set_bio(&c->ssl, c, bio_send, bio_recv, NULL);
	}
	return 0;
}

static void want_out(run_t *r, conn_t *c, bool on)
{
	if (c->want_out == on)
		return;
	c->want_out = on;
	struct epoll_event ev = {.events = EPOLLIN | (on ? EPOLLOUT : 0), .data.ptr = c};
	epoll_ctl(r->ep, EPOLL_CTL_MOD, c->fd, &ev);
}

/* A complete response in c->in: its status, or 0 while incomplete, -1 if malformed. */
static int response_done(conn_t *c)
{
	c->in[c->have < sizeof(c->in) ? c->have : sizeof(c->in) - 1] = '\0';
	char *end = strstr(c->in, "\r\n\r\n");
	if (end == NULL)
		return c->have >= sizeof(c->in) - 1 ? -1 : 0;
	int status = 0;
	if (sscanf(c->in, "HTTP/1.%*d %d", &status) != 1)
		return -1;
	size_t clen = 0;
	for (char *p = c->in; p < end; p = strstr(p, "\r\n") + 2) {
		if (strncasecmp(p, "content-length:", 15) == 0)
			clen = strtoul(p + 15, NULL, 10);
		if (strstr(p, "\r\n") == NULL)
			break;
	}
	size_t total = (size_t)(end + 4 - c->in) + clen;
	if (c->have < total)
		return total >= sizeof(c->in) ? -1 : 0;
	return status;
}

static int io_write(run_t *r, conn_t *c)
{
	if (r->o->tls) {
		int n = mbedtls_ssl_write(&c->ssl, (const unsigned char *)c->req + c->sent,
					  c->req_len - c->sent);
		return n >= 0                            ? n
		       : n == MBEDTLS_ERR_SSL_WANT_WRITE ? -EAGAIN
		       : n == MBEDTLS_ERR_SSL_WANT_READ  ? -EINPROGRESS
							 : -EIO;
	}
	ssize_t n = send(c->fd, c->req + c->sent, c->req_len - c->sent, MSG_NOSIGNAL);
	return n >= 0 ? (int)n : errno == EAGAIN ? -EAGAIN : -EIO;
}

static int io_read(run_t *r, conn_t *c)
{
	size_t cap = sizeof(c->in) - 1 - c->have;
	if (r->o->tls) {
		int n = mbedtls_ssl_read(&c->ssl, (unsigned char *)c->in + c->have, cap);
		return n > 0                             ? n
		       : n == 0                          ? -EPIPE
		       : n == MBEDTLS_ERR_SSL_WANT_READ  ? -EINPROGRESS
		       : n == MBEDTLS_ERR_SSL_WANT_WRITE ? -EAGAIN
							 : -EIO;
	}
	ssize_t n = recv(c->fd, c->in + c->have, cap, 0);
	return n > 0 ? (int)n : n == 0 ? -EPIPE : errno == EAGAIN ? -EINPROGRESS : -EIO;
}

/* After io_write or io_read answered n: 1 with the n bytes added to *done, 0 when
 * the socket would block (epoll is told which way), -1 when the connection failed. */
static int io_count(run_t *r, conn_t *c, int n, size_t *done)
{
	if (n == -EAGAIN || n == -EINPROGRESS) {
		want_out(r, c, n == -EAGAIN);
		return 0;
	}
	if (n < 0)
		return -1;
	*done += (size_t)n;
	return 1;
}

/* Advances c as far as it goes without blocking; -1 when the connection failed. */
static int conn_step(run_t *r, conn_t *c)
{
	for (;;) {
		int n;
		switch (c->state) {
		case C_CONNECT: {
			int err = 0;
			socklen_t l = sizeof(err);
			getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &err, &l);
			if (err != 0)
				return -1;
			c->state = r->o->tls ? C_HANDSHAKE : C_SEND;
			if (!r->o->tls)
				next_request(r, c);
			break;
		}
		case C_HANDSHAKE:
			n = mbedtls_ssl_handshake(&c->ssl);
			if (n == MBEDTLS_ERR_SSL_WANT_READ) {
				want_out(r, c, false);
				return 0;
			}
			if (n == MBEDTLS_ERR_SSL_WANT_WRITE) {
				want_out(r, c, true);
				return 0;
			}
			if (n != 0) {
				fprintf(stderr, "bench_webhooks: TLS handshake: -0x%04x\n", -n);
				return -1;
			}
			next_request(r, c);
			break;
		case C_SEND:
			n = io_count(r, c, io_write(r, c), &c->sent);
			if (n <= 0)
				return n;
			if (c->sent == c->req_len) {
				c->state = C_RECV;
				want_out(r, c, false);
			}
			break;
		case C_RECV: {
			n = io_count(r, c, io_read(r, c), &c->have);
			if (n <= 0)
				return n;
			int st = response_done(c);
			if (st < 0)
				return -1;
			if (st == 0)
				break;
			uint64_t t = bench_now_ns();
			if (st != 200)
				r->non200++;
			else
				r->ok++;
			if (t >= r->t_measure && t < r->t_end && st == 200) {
				r->measured_ok++;
				hist_record(&r->hist, t - c->t0);
			}
			if (t >= r->t_end)
				return 1; /* this connection is done */
			next_request(r, c);
			break;
		}
		}
	}
}

/* CPU readings at the window's start and end (/proc for the server, rusage for us). */
static void window_edges(run_t *r, uint64_t t)
{
	const opts_t *o = r->o;
	if (!r->measuring && t >= r->t_measure) {
		r->measuring = true;
		r->cpu0 = o->pid > 0 ? bench_proc_cpu_s(o->pid) : 0;
		r->self0 = bench_self_cpu_s();
	}
	if (r->measuring && !r->measured && t >= r->t_end) {
		r->measured = true;
		r->cpu1 = o->pid > 0 ? bench_proc_cpu_s(o->pid) : 0;
		r->self1 = bench_self_cpu_s();
	}
}

static int load(const opts_t *o)
{
	static run_t run;
	run_t *r = &run;
	char host[64];
	int rc = 1;
	r->o = o;
	const char *colon = o->addr != NULL ? strrchr(o->addr, ':') : NULL;
	if (colon == NULL || (size_t)(colon - o->addr) >= sizeof(host)) {
		fprintf(stderr, "bench_webhooks: --addr HOST:PORT\n");
		return 2;
	}
	memcpy(host, o->addr, (size_t)(colon - o->addr));
	host[colon - o->addr] = '\0';
	r->sa.sin_family = AF_INET;
	r->sa.sin_port = htons((uint16_t)atoi(colon + 1));
	if (inet_pton(AF_INET, host, &r->sa.sin_addr) != 1)
		return 2;
	mbedtls_ssl_config_init(&r->conf);
	mbedtls_x509_crt_init(&r->ca);
	mbedtls_entropy_init(&r->entropy);
	mbedtls_ctr_drbg_init(&r->drbg);
	if (o->tls) {
		if (o->cacert == NULL || mbedtls_x509_crt_parse_file(&r->ca, o->cacert) != 0 ||
		    mbedtls_ctr_drbg_seed(&r->drbg, mbedtls_entropy_func, &r->entropy, NULL, 0) !=
			    0 ||
		    mbedtls_ssl_config_defaults(&r->conf, MBEDTLS_SSL_IS_CLIENT,
						MBEDTLS_SSL_TRANSPORT_STREAM,
						MBEDTLS_SSL_PRESET_DEFAULT) != 0) {
			fprintf(stderr, "bench_webhooks: TLS setup (--cacert)\n");
			goto out;
		}
		mbedtls_ssl_conf_authmode(&r->conf, MBEDTLS_SSL_VERIFY_REQUIRED);
		mbedtls_ssl_conf_ca_chain(&r->conf, &r->ca, NULL);
		mbedtls_ssl_conf_rng(&r->conf, mbedtls_ctr_drbg_random, &r->drbg);
	}
	r->ep = epoll_create1(0);
	r->conns = calloc(o->conns, sizeof(conn_t));
	if (r->ep < 0 || r->conns == NULL)
		goto out;
	/* Until every connection is ready (next_request): past the end, answers are
	 * still awaited 10 s, then the run stops. */
	r->t_measure = r->t_end = UINT64_MAX;
	r->t_stop = bench_now_ns() + 60000000000u;
	for (unsigned i = 0; i < o->conns; i++) {
		r->conns[i].fd = -1;
		if (conn_open(r, &r->conns[i]) != 0) {
			fprintf(stderr, "bench_webhooks: connect %s: %s\n", o->addr,
				strerror(errno));
			goto out;
		}
	}
	uint64_t last_sample = 0;
	unsigned open = o->conns;
	struct epoll_event evs[256];
	while (open > 0) {
		uint64_t t = bench_now_ns();
		window_edges(r, t);
		if (o->pid > 0 && t - last_sample > 50000000u) {
			long kb = bench_rss_anon_kb(o->pid);
			if (kb > r->rss_peak)
				r->rss_peak = kb;
			last_sample = t;
		}
		if (t >= r->t_stop) {
			fprintf(stderr, "bench_webhooks: %u answers never came\n", open);
			r->errors += open;
			break;
		}
		int n = epoll_wait(r->ep, evs, 256, 50);
		/* Before any answer is taken: connections close on the first one past the end. */
		window_edges(r, bench_now_ns());
		for (int i = 0; i < n; i++) {
			conn_t *c = evs[i].data.ptr;
			if (c->fd < 0)
				continue;
			int st = conn_step(r, c);
			if (st == 1) {
				conn_close(r, c);
				open--;
			} else if (st < 0) {
				/* Closed by the server or failed: reconnect until the end. */
				conn_close(r, c);
				r->reconnects++;
				if (bench_now_ns() >= r->t_end || r->reconnects > 10000 ||
				    conn_open(r, c) != 0) {
					conn_close(r, c);
					r->errors++;
					open--;
				}
			}
		}
	}
	if (!r->measured) { /* stopped early: whatever was measured so far */
		r->cpu1 = o->pid > 0 ? bench_proc_cpu_s(o->pid) : 0;
		r->self1 = bench_self_cpu_s();
	}
	double secs = o->duration;
	printf("{\"bench\":\"webhooks\",\"label\":\"%s\",\"tls\":%s,\"conns\":%u,\"refs\":%u,"
	       "\"seconds\":%.3f,\"requests\":%" PRIu64 ",\"non_200\":%" PRIu64
	       ",\"reconnects\":%" PRIu64 ",\"errors\":%" PRIu64 ",\"requests_per_s\":%.0f",
	       o->label, o->tls ? "true" : "false", o->conns, o->refs, secs, r->measured_ok,
	       r->non200, r->reconnects, r->errors, (double)r->measured_ok / secs);
	hist_print_json(&r->hist);
	printf(",\"events_sent\":%" PRIu64 ",\"load_cpu_s\":%.2f", r->seq, r->self1 - r->self0);
	bench_json_end(o->pid, r->cpu1 - r->cpu0, r->measured_ok, "req", r->rss_peak);
	rc = r->non200 == 0 && r->errors == 0 && r->measured_ok > 0 ? 0 : 1;
out:
	for (unsigned i = 0; r->conns != NULL && i < o->conns; i++)
		conn_close(r, &r->conns[i]);
	free(r->conns);
	if (r->ep >= 0)
		close(r->ep);
	mbedtls_ssl_config_free(&r->conf);
	mbedtls_x509_crt_free(&r->ca);
	mbedtls_ctr_drbg_free(&r->drbg);
	mbedtls_entropy_free(&r->entropy);
	return rc;
}

int main(int argc, char **argv)
{
	opts_t o;
	if (parse(argc, argv, &o) != 0) {
		fprintf(stderr,
			"usage: bench_webhooks setup --data DIR --org ORG --sandbox URL "
			"--token T --refs K\n"
			"       bench_webhooks load --addr H:P [--tls --cacert F] --org ORG "
			"--token T --refs K [--conns N]\n"
			"           [--duration S] [--warmup S] [--id-prefix P] [--pid PID] "
			"[--label L]\n");
		return 2;
	}
	if (strcmp(o.mode, "setup") == 0)
		return setup(&o);
	if (strcmp(o.mode, "load") == 0)
		return load(&o);
	fprintf(stderr, "bench_webhooks: unknown mode %s\n", o.mode);
	return 2;
}

/*
 * The listeners against silent clients and connection floods (docs/protocol.md,
 * docs/https_server.md): a short deadline before the first request (HTTPS) and
 * before Hello (RPC), and a per-address connection cap on both. Every client
 * here is on loopback, so "one address" is the whole test.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <mbedtls/ctr_drbg.h>
#include <mbedtls/entropy.h>
#include <mbedtls/net_sockets.h>
#include <mbedtls/ssl.h>

#include "common/util.h"
#include "support/proc.h"

enum { SILENT = 6, CAP = 8 };

static tsp_server_t srv;

/* Short deadlines, the keep-alive idle and the RPC idle far longer: a close seen
 * here can only come from the new deadlines. */
static void setup_deadlines(void)
{
	static const char *const args[] = {"--https-first-request-timeout-ms",
					   "300",
					   "--https-idle-timeout-ms",
					   "600000",
					   "--hello-timeout-ms",
					   "300",
					   "--idle-timeout-ms",
					   "600000",
					   NULL};
	tsp_server_up(&srv, args);
}

/* Small caps, long deadlines: what closes a connection here is the cap. */
static void setup_caps(void)
{
	static const char *const args[] = {"--https-max-conns-per-addr",
					   "8",
					   "--max-conns-per-addr",
					   "8",
					   "--https-first-request-timeout-ms",
					   "600000",
					   "--https-handshake-timeout-ms",
					   "600000",
					   "--hello-timeout-ms",
					   "600000",
					   NULL};
	tsp_server_up(&srv, args);
}

static void teardown(void)
{
	tsp_server_down(&srv);
}

TestSuite(listener_deadlines, .init = setup_deadlines, .fini = teardown, .timeout = 120);
TestSuite(listener_caps, .init = setup_caps, .fini = teardown, .timeout = 120);

/* A TLS client that completes the handshake (verifying the server) and then says
 * nothing: blocking mbedTLS over a plain socket. */
typedef struct silent_tls {
	mbedtls_net_context net;
	mbedtls_ssl_context ssl;
	mbedtls_ssl_config conf;
	mbedtls_x509_crt ca;
	mbedtls_entropy_context entropy;
	mbedtls_ctr_drbg_context drbg;
} silent_tls_t;

static void silent_tls_open(silent_tls_t *t, const char *addr)
{
	char host[64], port[16];
	int p;
	cr_assert_eq(util_parse_hostport(addr, host, sizeof(host), &p), 0);
	snprintf(port, sizeof(port), "%d", p);
	mbedtls_net_init(&t->net);
	mbedtls_ssl_init(&t->ssl);
	mbedtls_ssl_config_init(&t->conf);
	mbedtls_x509_crt_init(&t->ca);
	mbedtls_entropy_init(&t->entropy);
	mbedtls_ctr_drbg_init(&t->drbg);
	cr_assert_eq(mbedtls_ctr_drbg_seed(&t->drbg, mbedtls_entropy_func, &t->entropy, NULL, 0),
		     0);
	cr_assert_eq(mbedtls_x509_crt_parse_file(&t->ca, srv.cacert), 0);
	cr_assert_eq(mbedtls_ssl_config_defaults(&t->conf, MBEDTLS_SSL_IS_CLIENT,
						 MBEDTLS_SSL_TRANSPORT_STREAM,
						 MBEDTLS_SSL_PRESET_DEFAULT),
		     0);
	mbedtls_ssl_conf_authmode(&t->conf, MBEDTLS_SSL_VERIFY_REQUIRED);
	mbedtls_ssl_conf_ca_chain(&t->conf, &t->ca, NULL);
	mbedtls_ssl_conf_rng(&t->conf, mbedtls_ctr_drbg_random, &t->drbg);
	cr_assert_eq(mbedtls_ssl_setup(&t->ssl, &t->conf), 0);
	cr_assert_eq(mbedtls_ssl_set_hostname(&t->ssl, "localhost"), 0);
	cr_assert_eq(mbedtls_net_connect(&t->net, host, port, MBEDTLS_NET_PROTO_TCP), 0);
	mbedtls_ssl_set_bio(&t->ssl, &t->net, mbedtls_net_send, mbedtls_net_recv, NULL);
	int rc;
	while ((rc = mbedtls_ssl_handshake(&t->ssl)) != 0)
		cr_assert(rc == MBEDTLS_ERR_SSL_WANT_READ || rc == MBEDTLS_ERR_SSL_WANT_WRITE,
			  "TLS handshake failed: -0x%04x", -rc);
}

static void silent_tls_close(silent_tls_t *t)
{
	mbedtls_net_free(&t->net);
	mbedtls_ssl_free(&t->ssl);
	mbedtls_ssl_config_free(&t->conf);
	mbedtls_x509_crt_free(&t->ca);
	mbedtls_ctr_drbg_free(&t->drbg);
	mbedtls_entropy_free(&t->entropy);
}

static int healthz(void)
{
	char out[256];
	return tsp_https(&srv, "GET", "/healthz", NULL, out, sizeof(out));
}

Test(listener_deadlines, silent_tls_clients_are_closed_before_a_first_request)
{
	silent_tls_t t[SILENT];
	for (int i = 0; i < SILENT; i++)
		silent_tls_open(&t[i], srv.https_addr);
	/* They hold slots, yet the listener answers others meanwhile. */
	cr_assert_eq(healthz(), 200);
	/* Each is closed by the server although it finished its handshake: the
	 * 300 ms first-request deadline, not the 10-minute keep-alive idle. */
	for (int i = 0; i < SILENT; i++) {
		cr_assert(tsp_wait_closed(t[i].net.fd, TSP_HANG_MS),
			  "silent TLS client %d is still connected", i);
		silent_tls_close(&t[i]);
	}
	cr_assert_eq(healthz(), 200);
	long long n = tsp_metric(&srv, "ospay_https_first_request_timeouts_total");
	cr_assert_geq(n, SILENT, "first-request timeouts counted: %lld", n);
}

/* One GET /healthz on t's connection: true when "200" came back. */
static bool tls_healthz(silent_tls_t *t)
{
	static const char req[] = "GET /healthz HTTP/1.1\r\nHost: localhost\r\n\r\n";
	char buf[1024];
	int rc;
	while ((rc = mbedtls_ssl_write(&t->ssl, (const unsigned char *)req, sizeof(req) - 1)) < 0)
		if (rc != MBEDTLS_ERR_SSL_WANT_READ && rc != MBEDTLS_ERR_SSL_WANT_WRITE)
			return false;
	while ((rc = mbedtls_ssl_read(&t->ssl, (unsigned char *)buf, sizeof(buf) - 1)) < 0)
		if (rc != MBEDTLS_ERR_SSL_WANT_READ && rc != MBEDTLS_ERR_SSL_WANT_WRITE)
			return false;
	buf[rc] = '\0';
	return strncmp(buf, "HTTP/1.1 200", 12) == 0;
}

Test(listener_deadlines, after_a_first_request_the_keep_alive_idle_applies)
{
	silent_tls_t t;
	silent_tls_open(&t, srv.https_addr);
	cr_assert(tls_healthz(&t));
	/* Longer than the first-request deadline: the connection must still serve. */
	poll(NULL, 0, 900);
	cr_assert(tls_healthz(&t), "the keep-alive connection was cut by the 300 ms deadline");
	silent_tls_close(&t);
}

Test(listener_deadlines, silent_rpc_clients_are_closed_before_hello)
{
	int fd[SILENT];
	for (int i = 0; i < SILENT; i++) {
		fd[i] = tsp_connect(srv.rpc_addr);
		cr_assert_geq(fd[i], 0);
	}
	/* A slow client: half a frame header, then nothing. */
	cr_assert_eq(send(fd[0], "\0\0", 2, MSG_NOSIGNAL), 2);
	/* A client that said Hello in time outlives the deadline. */
	int ok = tsp_login(&srv, srv.admin_token);
	for (int i = 0; i < SILENT; i++) {
		cr_assert(tsp_wait_closed(fd[i], TSP_HANG_MS), "silent RPC client %d still open",
			  i);
		close(fd[i]);
	}
	cr_assert_eq(tsp_hello(ok, srv.admin_token), ST_FAILED_PRECONDITION,
		     "the authenticated connection should still be open (Hello said twice)");
	close(ok);
}

/* Connects CAP plain TCP clients to addr and waits until the server holds them. */
static void fill(const char *addr, int *fd)
{
	for (int i = 0; i < CAP; i++) {
		fd[i] = tsp_connect(addr);
		cr_assert_geq(fd[i], 0);
	}
}

/* A connection over the cap: accepted by the kernel, closed at once by ospayd. */
static void assert_refused(const char *addr)
{
	int fd = tsp_connect(addr);
	cr_assert_geq(fd, 0);
	cr_assert(tsp_wait_closed(fd, TSP_HANG_MS), "a connection over the cap stayed open");
	close(fd);
}

Test(listener_caps, up_to_the_per_address_cap_the_listener_answers)
{
	/* Seven silent TLS clients hold slots; the request takes the eighth. */
	silent_tls_t t[CAP - 1];
	for (int i = 0; i < CAP - 1; i++)
		silent_tls_open(&t[i], srv.https_addr);
	cr_assert_eq(healthz(), 200, "/healthz refused below the per-address cap");
	for (int i = 0; i < CAP - 1; i++)
		silent_tls_close(&t[i]);
}

Test(listener_caps, https_connections_over_the_per_address_cap_are_refused)
{
	int fd[CAP];
	fill(srv.https_addr, fd);
	assert_refused(srv.https_addr);
	cr_assert_neq(healthz(), 200, "a ninth connection got through");
	/* One slot frees when a client leaves; then a request gets through again. */
	close(fd[0]);
	TSP_AWAIT(healthz() == 200, "no slot freed after a close");
	for (int i = 1; i < CAP; i++)
		close(fd[i]);
}

/* Connect and Hello: the status, or -1 when the connection was closed. */
static int try_login(void)
{
	int fd = tsp_connect(srv.rpc_addr);
	int code = fd >= 0 ? tsp_hello(fd, srv.admin_token) : -1;
	if (fd >= 0)
		close(fd);
	return code;
}

Test(listener_caps, rpc_connections_over_the_per_address_cap_are_refused)
{
	int fd[CAP];
	fill(srv.rpc_addr, fd);
	assert_refused(srv.rpc_addr);
	cr_assert_eq(try_login(), -1, "a ninth connection said Hello");
	close(fd[CAP - 1]);
	TSP_AWAIT(try_login() == 0, "no slot freed after a close");
	for (int i = 0; i < CAP - 1; i++)
		close(fd[i]);
}

/*
 * Mutual TLS end to end on one loop: the HTTPS listener asks for a client
 * certificate chained to a given bundle (https_options_t.client_ca_path), and
 * the HTTP client presents one from memory (http_request_t.client_cert/key,
 * CURLOPT_SSLCERT_BLOB / SSLKEY_BLOB: the key never goes to a file the
 * client reads). Without a certificate, or with one the listener does not
 * trust, no request is answered.
 */
#include <criterion/criterion.h>

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <uv.h>

#include "net/http_client.h"
#include "net/https_server.h"
#include "net/tls.h"

static char dir[64];
static char path_srv_crt[128], path_srv_key[128], path_cli_crt[128], path_cli_key[128],
	path_oth_crt[128], path_oth_key[128];

static void handler(https_request_t *req, void *udata)
{
	int *served = udata;
	(*served)++;
	https_respond(req, 200, "text/plain", "hello\n", 6, NULL);
}

static char *slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	char *b = calloc(1, 65536);
	cr_assert_not_null(f);
	*len = fread(b, 1, 65535, f);
	fclose(f);
	return b;
}

struct got {
	int calls;
	int error;
	long status;
};

static void on_done(const http_response_t *res, void *arg)
{
	struct got *g = arg;
	g->calls++;
	g->error = res->error;
	g->status = res->status;
}

static void on_server_closed(void *arg)
{
	(*(int *)arg)++;
}

static void on_client_closed(void *arg)
{
	(*(int *)arg)++;
}

/* One GET to the listener with the given client certificate files (NULL: none). */
static struct got get_with(const char *crt, const char *key)
{
	uv_loop_t loop;
	https_options_t o;
	https_server_t *srv = NULL;
	http_client_t *http = NULL;
	http_client_opts_t co = {.proxy = ""};
	http_request_t rq = {0};
	struct got g = {0};
	char url[64];
	char *cert = NULL, *pkey = NULL;
	size_t cl = 0, kl = 0;
	int served = 0, closed = 0;

	cr_assert_eq(uv_loop_init(&loop), 0);
	https_options_default(&o);
	o.host = "127.0.0.1";
	o.port = 0;
	o.cert_path = path_srv_crt;
	o.key_path = path_srv_key;
	o.client_ca_path = path_cli_crt;
	cr_assert_eq(https_server_start(&loop, &o, handler, &served, &srv), 0);
	cr_assert_eq(http_client_init(&http, &loop, &co), 0);
	snprintf(url, sizeof(url), "https://127.0.0.1:%d/", https_server_port(srv));
	rq.url = url;
	rq.ca_file = path_srv_crt;
	rq.timeout_ms = 30000;
	if (crt != NULL) {
		cert = slurp(crt, &cl);
		pkey = slurp(key, &kl);
		rq.client_cert = cert;
		rq.client_cert_len = cl;
		rq.client_key = pkey;
		rq.client_key_len = kl;
	}
	cr_assert_eq(http_client_send(http, &rq, on_done, &g), 0);
	free(cert);
	free(pkey);
	while (g.calls == 0)
		uv_run(&loop, UV_RUN_ONCE);
	http_client_close(http, on_client_closed, &closed);
	https_server_close(srv, 0, on_server_closed, &closed);
	uv_run(&loop, UV_RUN_DEFAULT);
	cr_assert_eq(closed, 2);
	cr_assert_eq(uv_loop_close(&loop), 0);
	cr_assert_eq(served, g.status == 200 ? 1 : 0);
	return g;
}

static void setup(void)
{
	signal(SIGPIPE, SIG_IGN);
	snprintf(dir, sizeof(dir), "/tmp/ospay-mtls-XXXXXX");
	cr_assert_not_null(mkdtemp(dir));
	snprintf(path_srv_crt, sizeof(path_srv_crt), "%s/srv.crt", dir);
	snprintf(path_srv_key, sizeof(path_srv_key), "%s/srv.key", dir);
	snprintf(path_cli_crt, sizeof(path_cli_crt), "%s/cli.crt", dir);
	snprintf(path_cli_key, sizeof(path_cli_key), "%s/cli.key", dir);
	snprintf(path_oth_crt, sizeof(path_oth_crt), "%s/oth.crt", dir);
	snprintf(path_oth_key, sizeof(path_oth_key), "%s/oth.key", dir);
	cr_assert_eq(tls_cert_generate(path_srv_crt, path_srv_key, "localhost"), 0);
	cr_assert_eq(tls_cert_generate(path_cli_crt, path_cli_key, "ospay-client"), 0);
	cr_assert_eq(tls_cert_generate(path_oth_crt, path_oth_key, "stranger"), 0);
}

static void teardown(void)
{
	const char *files[] = {path_srv_crt, path_srv_key, path_cli_crt,
			       path_cli_key, path_oth_crt, path_oth_key};
	for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++)
		unlink(files[i]);
	rmdir(dir);
}

TestSuite(http_client_mtls, .init = setup, .fini = teardown, .timeout = 120);

Test(http_client_mtls, trusted_client_certificate_from_memory_is_answered)
{
	struct got g = get_with(path_cli_crt, path_cli_key);
	cr_assert_eq(g.error, 0, "error %d", g.error);
	cr_assert_eq(g.status, 200);
}

Test(http_client_mtls, no_certificate_no_answer)
{
	struct got g = get_with(NULL, NULL);
	cr_assert_lt(g.error, 0, "answered %ld without a client certificate", g.status);
}

Test(http_client_mtls, untrusted_certificate_no_answer)
{
	struct got g = get_with(path_oth_crt, path_oth_key);
	cr_assert_lt(g.error, 0, "answered %ld to a stranger", g.status);
}

Test(http_client_mtls, certificate_without_key_is_refused_at_once)
{
	uv_loop_t loop;
	http_client_t *http = NULL;
	http_client_opts_t co = {.proxy = ""};
	http_request_t rq = {0};
	struct got g = {0};
	int closed = 0;

	cr_assert_eq(uv_loop_init(&loop), 0);
	cr_assert_eq(http_client_init(&http, &loop, &co), 0);
	rq.url = "https://127.0.0.1:9/";
	rq.client_cert = "x";
	rq.client_cert_len = 1;
	cr_assert_eq(http_client_send(http, &rq, on_done, &g), -EINVAL);
	http_client_close(http, on_client_closed, &closed);
	uv_run(&loop, UV_RUN_DEFAULT);
	cr_assert_eq(g.calls, 0);
	cr_assert_eq(uv_loop_close(&loop), 0);
}

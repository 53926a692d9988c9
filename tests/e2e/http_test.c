/*
 * ospayd's HTTPS listener from outside clients: curl verifying the server's
 * own self-signed certificate, openssl s_client for the protocol version,
 * /healthz and /metrics.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ospay/v1/admin.pb-c.h"
#include "support/proc.h"
#include "support/suite.h"

TSP_SERVER_SUITE(http, 60);

/* GETs path over HTTPS with curl, verifying the certificate; returns curl's status. */
static int curl_get(const char *path, char *out, size_t cap)
{
	char url[200], cacert[400], port[16];
	const char *colon = strrchr(srv.https_addr, ':');
	cr_assert_not_null(colon);
	snprintf(port, sizeof(port), "%s", colon + 1);
	/* The certificate names localhost and 127.0.0.1. */
	snprintf(url, sizeof(url), "https://localhost:%s%s", port, path);
	snprintf(cacert, sizeof(cacert), "%s/data/tls.crt", srv.dir);
	const char *argv[] = {
		"/usr/bin/curl",           "-sS", "--max-time", "10", "--cacert", cacert, "-w",
		"\nstatus=%{http_code}\n", url,   NULL};
	return tsp_run(argv, NULL, out, cap);
}

Test(http, healthz_over_verified_tls)
{
	char out[4096];
	cr_assert_eq(curl_get("/healthz", out, sizeof(out)), 0, "curl failed: %s", out);
	cr_assert(strstr(out, "status=200") != NULL, "%s", out);
	cr_assert(strstr(out, "\"store\":\"ok\"") != NULL, "%s", out);
	cr_assert_eq(curl_get("/nope", out, sizeof(out)), 0);
	cr_assert(strstr(out, "status=404") != NULL, "%s", out);
}

Test(http, metrics_count_rpc_calls_and_commits)
{
	int fd = tsp_login(&srv, srv.admin_token);
	Ospay__V1__CreateUnitRequest m = OSPAY__V1__CREATE_UNIT_REQUEST__INIT;
	m.name = "metrics";
	for (int i = 0; i < 3; i++)
		cr_assert_eq(
			tsp_call(fd, "ospay.v1.Admin/CreateUnit", &m.base, NULL, NULL, NULL, NULL),
			0);
	char out[65536];
	cr_assert_eq(tsp_metrics_get(&srv, out, sizeof(out)), 200, "%s", out);
	cr_assert(strstr(out, "ospay_rpc_calls_total{code=\"OK\"} 4") != NULL,
		  "Hello + 3 creates expected:\n%s", out);
	unsigned long long commits = 0;
	const char *c = strstr(out, "\nospay_store_commits_total ");
	cr_assert_not_null(c);
	cr_assert_eq(sscanf(c, "\nospay_store_commits_total %llu", &commits), 1);
	cr_assert_geq(commits, 3, "each acknowledged create waited for a commit");
	cr_assert(strstr(out, "ospay_rpc_call_duration_seconds_bucket") != NULL);
	cr_assert(strstr(out, "ospay_https_") != NULL);
}

Test(http, tls_is_1_2_or_newer)
{
	char cmd[400], out[16384];
	snprintf(cmd, sizeof(cmd),
		 "echo | timeout 10 openssl s_client -connect %s -servername localhost 2>&1",
		 srv.https_addr);
	const char *argv[] = {"/bin/sh", "-c", cmd, NULL};
	tsp_run(argv, NULL, out, sizeof(out));
	const char *p = strstr(out, "Protocol");
	if (p == NULL)
		p = strstr(out, "New, TLSv");
	cr_assert_not_null(p, "no protocol line:\n%s", out);
	cr_assert(strstr(p, "TLSv1.2") != NULL || strstr(p, "TLSv1.3") != NULL, "%s", out);
	/* TLS 1.1 must be refused. */
	snprintf(cmd, sizeof(cmd),
		 "echo | timeout 10 openssl s_client -tls1_1 -connect %s 2>&1; echo rc=$?",
		 srv.https_addr);
	tsp_run(argv, NULL, out, sizeof(out));
	cr_assert(strstr(out, "Cipher is (NONE)") != NULL || strstr(out, "alert") != NULL ||
			  strstr(out, "rc=1") != NULL,
		  "TLS 1.1 handshake should fail:\n%s", out);
}

Test(http, keep_alive_sequence_reuses_one_connection)
{
	char url[200], cacert[400], out[32768];
	const char *colon = strrchr(srv.https_addr, ':');
	snprintf(url, sizeof(url), "https://localhost:%s/healthz", colon + 1);
	snprintf(cacert, sizeof(cacert), "%s/data/tls.crt", srv.dir);
	char cmd[1200];
	snprintf(cmd, sizeof(cmd),
		 "curl -sv --max-time 10 --cacert '%s' '%s' '%s' '%s' -o /dev/null -o /dev/null "
		 "-o /dev/null 2>&1",
		 cacert, url, url, url);
	const char *argv[] = {"/bin/sh", "-c", cmd, NULL};
	cr_assert_eq(tsp_run(argv, NULL, out, sizeof(out)), 0, "%s", out);
	int reused = 0;
	for (const char *p = out; (p = strstr(p, "Re-using existing connection")) != NULL; p++)
		reused++;
	cr_assert_eq(reused, 2, "three requests on one connection:\n%s", out);
}

/* Sends raw bytes over TLS with openssl and returns what came back. */
static void tls_raw(const char *shell_producer, char *out, size_t cap)
{
	char cmd[2000];
	snprintf(cmd, sizeof(cmd),
		 "(%s) | timeout 20 openssl s_client -quiet -connect %s -servername localhost "
		 "2>/dev/null",
		 shell_producer, srv.https_addr);
	const char *argv[] = {"/bin/sh", "-c", cmd, NULL};
	tsp_run(argv, NULL, out, cap);
}

Test(http, header_and_body_limits)
{
	char out[8192];
	/* Headers over 16 KiB: 431. */
	tls_raw("printf 'GET /healthz HTTP/1.1\\r\\nHost: x\\r\\nX-Big: '; head -c 17000 /dev/zero "
		"| tr '\\0' a; printf '\\r\\n\\r\\n'; sleep 1",
		out, sizeof(out));
	cr_assert(strstr(out, " 431 ") != NULL, "expected 431:\n%.300s", out);
	/* A body over 1 MiB: 413, refused from the declared length. */
	tls_raw("printf 'POST /webhooks/pagolivre/1 HTTP/1.1\\r\\nHost: x\\r\\n"
		"Content-Length: 1048577\\r\\n\\r\\n'; sleep 1",
		out, sizeof(out));
	cr_assert(strstr(out, " 413 ") != NULL, "expected 413:\n%.300s", out);
	/* Content-Length and Transfer-Encoding together: 400 (request smuggling). */
	tls_raw("printf 'POST /webhooks/pagolivre/1 HTTP/1.1\\r\\nHost: x\\r\\nContent-Length: "
		"3\\r\\n"
		"Transfer-Encoding: chunked\\r\\n\\r\\n0\\r\\n\\r\\n'; sleep 1",
		out, sizeof(out));
	cr_assert(strstr(out, " 400 ") != NULL, "expected 400:\n%.300s", out);
}

Test(http, slow_client_is_cut)
{
	/* A server whose header timeout is 1 s, and a client typing one byte every 0.5 s. */
	tsp_server_down(&srv);
	const char *args[] = {"--https-header-timeout-ms", "1000", NULL};
	tsp_server_up(&srv, args);
	char out[4096];
	tls_raw("for c in G E T ' ' / h e a l t h z; do printf %s \"$c\"; sleep 0.5; done; sleep 2",
		out, sizeof(out));
	cr_assert(strstr(out, " 408 ") != NULL, "expected 408 Request Timeout:\n%.300s", out);
	cr_assert(strstr(out, " 200 ") == NULL, "the slow request must not be served");
}

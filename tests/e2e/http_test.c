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

static tsp_server_t srv;

static void setup(void)
{
	tsp_server_up(&srv, NULL);
}

static void teardown(void)
{
	tsp_server_down(&srv);
}

TestSuite(http, .init = setup, .fini = teardown, .timeout = 60);

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
	cr_assert_eq(curl_get("/metrics", out, sizeof(out)), 0);
	cr_assert(strstr(out, "status=200") != NULL);
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

/*
 * The Python example client (examples/python/ospay_client.py), generated from the
 * .proto files alone, against a real ospayd: Hello + paged ListUnits, and a wrong
 * token answered UNAUTHENTICATED; the same over TLS (ospayd serve --rpc-tls), and a
 * client trusting another certificate refused.
 */
#include <criterion/criterion.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "net/tls.h"
#include "support/proc.h"

#define PYTHON "/usr/bin/python3"
#define CLIENT OSPAY_SOURCE_DIR "/examples/python/ospay_client.py"

static tsp_server_t srv;
static char out[64 * 1024];

static void setup(void)
{
	memset(&srv, 0, sizeof(srv));
	tsp_server_up(&srv, NULL);
}

static void setup_tls(void)
{
	static const char *const args[] = {"--rpc-tls", NULL};
	memset(&srv, 0, sizeof(srv));
	tsp_server_up(&srv, args);
}

static void teardown(void)
{
	tsp_server_down(&srv);
}

/* Runs the client with stderr folded into stdout, over TLS trusting ca when it is
 * not NULL; returns tsp_run's status. */
static int run_client_ca(const char *token, const char *ca)
{
	char addr_env[96], token_env[200], ca_env[600];
	snprintf(addr_env, sizeof(addr_env), "OSPAY_ADDR=%s", srv.rpc_addr);
	snprintf(token_env, sizeof(token_env), "OSPAY_TOKEN=%s", token);
	snprintf(ca_env, sizeof(ca_env), "OSPAY_CA=%s", ca != NULL ? ca : "");
	const char *const env[] = {addr_env, token_env, ca != NULL ? "OSPAY_TLS=1" : NULL, ca_env,
				   NULL};
	const char *const argv[] = {"/bin/sh", "-c", "exec " PYTHON " \"$0\" 2>&1", CLIENT, NULL};
	out[0] = '\0';
	return tsp_run(argv, env, out, sizeof(out));
}

static int run_client(const char *token)
{
	return run_client_ca(token, NULL);
}

TestSuite(e2e_python_client, .init = setup, .fini = teardown);
TestSuite(e2e_python_client_tls, .init = setup_tls, .fini = teardown);

/* What the client prints for the admin token on a fresh server. */
static void assert_admin_and_one_unit(int rc)
{
	cr_assert_eq(rc, 0, "client exited %d:\n%s", rc, out);

	char want[128];
	snprintf(want, sizeof(want), "principal: organization=%" PRIu64 " ", srv.org_id);
	cr_assert(strstr(out, want) != NULL, "no \"%s\" in:\n%s", want, out);
	cr_assert(strstr(out, "role=ROLE_ADMIN") != NULL, "admin token not ROLE_ADMIN:\n%s", out);
	snprintf(want, sizeof(want), "unit: id=%" PRIu64 " organization=%" PRIu64 " ", srv.unit_id,
		 srv.org_id);
	cr_assert(strstr(out, want) != NULL, "no \"%s\" in:\n%s", want, out);
	/* init creates exactly one unit */
	cr_assert(strstr(out, "units: 1\n") != NULL, "unexpected unit count:\n%s", out);
}

Test(e2e_python_client, hello_and_list_units)
{
	assert_admin_and_one_unit(run_client(srv.admin_token));
}

Test(e2e_python_client_tls, hello_and_list_units_over_tls)
{
	assert_admin_and_one_unit(run_client_ca(srv.admin_token, srv.cacert));
}

Test(e2e_python_client_tls, another_certificate_is_not_trusted)
{
	/* A certificate of the same kind, for another key, does not vouch for the server. */
	char crt[512], key[512];
	snprintf(crt, sizeof(crt), "%s/other.crt", srv.dir);
	snprintf(key, sizeof(key), "%s/other.key", srv.dir);
	cr_assert_eq(tls_cert_generate(crt, key, "localhost"), 0);
	int rc = run_client_ca(srv.admin_token, crt);
	cr_assert_eq(rc, 1, "client exited %d:\n%s", rc, out);
	cr_assert(strstr(out, "TLS handshake") != NULL, "%s", out);
	cr_assert(strstr(out, "principal:") == NULL, "%s", out);
}

Test(e2e_python_client_tls, plaintext_on_the_tls_port_fails_cleanly)
{
	int rc = run_client(srv.admin_token);
	cr_assert_eq(rc, 1, "client exited %d:\n%s", rc, out);
	cr_assert(strstr(out, "error: ") != NULL, "%s", out);
}

Test(e2e_python_client, wrong_token_is_unauthenticated)
{
	int rc = run_client("not-a-token");
	cr_assert(rc != 0 && rc != -1, "client exited %d:\n%s", rc, out);
	cr_assert(strstr(out, "UNAUTHENTICATED") != NULL, "no UNAUTHENTICATED in:\n%s", out);
	cr_assert(strstr(out, "principal:") == NULL, "wrong token got a principal:\n%s", out);
}

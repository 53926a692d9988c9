/*
 * libospay and the ospay CLI against a real ospayd: pipelined async calls,
 * the blocking wrapper, and the CLI's commands, exit codes and secrecy.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <uv.h>

#include "client/lib/ospay.h"
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
	tsp_assert_no_leaks();
}

TestSuite(client, .init = setup, .fini = teardown, .timeout = 60);

/* ------------------------------------------------------------------ libospay */

typedef struct pipe_state {
	int connected, answered, ok, wrong;
	ospay_client_t *c;
} pipe_state_t;

typedef struct call_ctx {
	pipe_state_t *ps;
	int index;
} call_ctx_t;

static void on_created_checked(ospay_client_t *c, const status_t *st, const uint8_t *body,
			       size_t len, void *arg)
{
	call_ctx_t *cc = arg;
	pipe_state_t *ps = cc->ps;
	if (st->code == ST_OK) {
		Ospay__V1__CreateUnitResponse *r =
			ospay__v1__create_unit_response__unpack(NULL, len, body);
		char want[32];
		snprintf(want, sizeof(want), "pipelined %d", cc->index);
		if (r == NULL || strcmp(r->unit->name, want) != 0)
			ps->wrong++;
		if (r != NULL)
			ospay__v1__create_unit_response__free_unpacked(r, NULL);
	}
	ps->answered++;
	if (st->code == ST_OK)
		ps->ok++;
	else
		ps->wrong++;
	if (ps->answered == 1000)
		ospay_client_close(c);
}

static void on_connected(ospay_client_t *c, const status_t *st, void *arg)
{
	pipe_state_t *ps = arg;
	(void)c;
	if (st->code == ST_OK)
		ps->connected++;
}

Test(client, thousand_pipelined_async_calls_on_one_connection)
{
	uv_loop_t loop;
	uv_loop_init(&loop);
	pipe_state_t ps = {0};
	static call_ctx_t ctx[1000];
	cr_assert_eq(ospay_client_connect(&loop, srv.rpc_addr, srv.admin_token, on_connected, &ps,
					  &ps.c),
		     0);
	/* All 1000 are queued before Hello is even answered. */
	for (int i = 0; i < 1000; i++) {
		Ospay__V1__CreateUnitRequest m = OSPAY__V1__CREATE_UNIT_REQUEST__INIT;
		char name[32];
		snprintf(name, sizeof(name), "pipelined %d", i);
		m.name = name;
		ctx[i].ps = &ps;
		ctx[i].index = i;
		cr_assert_eq(ospay_call_msg(ps.c, "ospay.v1.Admin/CreateUnit", &m.base, NULL,
					    on_created_checked, &ctx[i]),
			     0);
	}
	uv_run(&loop, UV_RUN_DEFAULT);
	cr_assert_eq(ps.connected, 1);
	cr_assert_eq(ps.answered, 1000);
	cr_assert_eq(ps.ok, 1000);
	cr_assert_eq(ps.wrong, 0, "%d replies did not match their call", ps.wrong);
	cr_assert_eq(uv_loop_close(&loop), 0);
}

Test(client, sync_wrapper_and_status_violations)
{
	ospay_sync_t *s;
	status_t st;
	cr_assert_eq(ospay_sync_open(srv.rpc_addr, srv.admin_token, 5000, &s, &st), 0);
	const Ospay__V1__Principal *p = ospay_client_principal(ospay_sync_client(s));
	cr_assert_not_null(p);
	cr_assert_eq(p->organization->id, srv.org_id);
	Ospay__V1__CreateUnitRequest m = OSPAY__V1__CREATE_UNIT_REQUEST__INIT;
	m.name = "  ";
	ProtobufCMessage *resp = NULL;
	int code = ospay_sync_call(s, "ospay.v1.Admin/CreateUnit", &m.base,
				   &ospay__v1__create_unit_response__descriptor, NULL, &resp, &st);
	cr_assert_eq(code, ST_INVALID_ARGUMENT);
	cr_assert_eq(st.n_violations, 1);
	cr_assert_str_eq(st.violations[0].field, "name");
	cr_assert_null(resp);
	ospay_sync_close(s);
	cr_assert_neq(ospay_sync_open(srv.rpc_addr, "ospt_wrong", 5000, &s, &st), 0);
	cr_assert_eq(st.code, ST_UNAUTHENTICATED);
}

/* ------------------------------------------------------------------ CLI */

static int cli(const char *token, char *out, size_t cap, const char *a1, const char *a2,
	       const char *a3, const char *a4, const char *a5, const char *a6, const char *a7)
{
	char addr[96], tok[200];
	snprintf(addr, sizeof(addr), "OSPAY_ADDR=%s", srv.rpc_addr);
	snprintf(tok, sizeof(tok), "OSPAY_TOKEN=%s", token);
	const char *env[] = {addr, tok, NULL};
	const char *argv[] = {
		"/bin/sh", "-c", "exec \"$0\" \"$@\" 2>&1", OSPAY_BIN, a1, a2, a3, a4, a5, a6,
		a7,        NULL};
	return tsp_run(argv, env, out, cap);
}

Test(client, cli_whoami_units_tokens)
{
	char out[8192];
	cr_assert_eq(cli(srv.admin_token, out, sizeof(out), "whoami", NULL, NULL, NULL, NULL, NULL,
			 NULL),
		     0, "%s", out);
	cr_assert(strstr(out, "org-wide") != NULL, "%s", out);
	cr_assert(strstr(out, srv.admin_token) == NULL, "whoami must never print the token");

	cr_assert_eq(cli(srv.admin_token, out, sizeof(out), "units", "create", "São Paulo", NULL,
			 NULL, NULL, NULL),
		     0, "%s", out);
	cr_assert_eq(cli(srv.admin_token, out, sizeof(out), "--json", "units", "list", NULL, NULL,
			 NULL, NULL),
		     0);
	cr_assert(strstr(out, "\"São Paulo\"") != NULL, "%s", out);
	cr_assert(strstr(out, "\"Main unit\"") != NULL, "%s", out);

	cr_assert_eq(cli(srv.admin_token, out, sizeof(out), "tokens", "create", "--name", "ro",
			 "--role", "read-only", "--org-wide"),
		     0, "%s", out);
	char *sec = strstr(out, "ospt_");
	cr_assert_not_null(sec, "the new secret is printed once: %s", out);
	char secret[128];
	size_t n = strcspn(sec, " \n\t\"");
	cr_assert_lt(n, sizeof(secret));
	memcpy(secret, sec, n);
	secret[n] = '\0';

	/* The read-only token reads but cannot write: exit 1 with the status name. */
	cr_assert_eq(cli(secret, out, sizeof(out), "units", "list", NULL, NULL, NULL, NULL, NULL),
		     0, "%s", out);
	cr_assert_eq(
		cli(secret, out, sizeof(out), "units", "create", "nope", NULL, NULL, NULL, NULL),
		1);
	cr_assert(strstr(out, "PERMISSION_DENIED") != NULL, "%s", out);
	/* Usage errors exit 2. */
	cr_assert_eq(
		cli(secret, out, sizeof(out), "units", "frobnicate", NULL, NULL, NULL, NULL, NULL),
		2, "%s", out);
	/* A wrong token: exit 1, UNAUTHENTICATED, and the token is not echoed. */
	cr_assert_eq(cli("ospt_not_a_real_token_value", out, sizeof(out), "whoami", NULL, NULL,
			 NULL, NULL, NULL, NULL),
		     1);
	cr_assert(strstr(out, "UNAUTHENTICATED") != NULL, "%s", out);
	cr_assert(strstr(out, "ospt_not_a_real_token_value") == NULL, "%s", out);
}

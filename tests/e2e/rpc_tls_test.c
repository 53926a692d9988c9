/*
 * The RPC listener over TLS (ospayd serve --rpc-tls, docs/protocol.md "TLS"):
 * libospay and the ospay CLI against a real ospayd, a client trusting another
 * CA refused, a wrong name refused, a plaintext client closed cleanly.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "client/lib/ospay.h"
#include "net/tls.h"
#include "ospay/v1/admin.pb-c.h"
#include "ospay/v1/session.pb-c.h"
#include "support/proc.h"

#define LIST_UNITS "ospay.v1.Admin/ListUnits"
#define CREATE_UNIT "ospay.v1.Admin/CreateUnit"

static tsp_server_t srv;
static char out[16 * 1024];

static void setup(void)
{
	static const char *const args[] = {"--rpc-tls", NULL};
	tsp_server_up(&srv, args);
}

static void teardown(void)
{
	tsp_server_down(&srv);
}

TestSuite(rpc_tls, .init = setup, .fini = teardown, .timeout = 120);

static int open_tls(const char *ca, const char *name, ospay_sync_t **s, status_t *st)
{
	ospay_connect_opts_t o = {.tls = true, .tls_ca_file = ca, .tls_server_name = name};
	return ospay_sync_open_opts(srv.rpc_addr, srv.admin_token, 10000, &o, s, st);
}

Test(rpc_tls, the_c_client_calls_over_tls)
{
	ospay_sync_t *s = NULL;
	status_t st;
	cr_assert_eq(open_tls(srv.cacert, NULL, &s, &st), ST_OK, "%s", st.message);
	/* Enough units that the list reply spans several TLS records (16 KiB each). */
	enum { UNITS = 400 };
	for (int i = 0; i < UNITS; i++) {
		char name[64];
		snprintf(name, sizeof(name), "unit over tls with a longish name %d", i);
		Ospay__V1__CreateUnitRequest c = OSPAY__V1__CREATE_UNIT_REQUEST__INIT;
		c.name = name;
		ProtobufCMessage *r = NULL;
		cr_assert_eq(ospay_sync_call(s, CREATE_UNIT, &c.base,
					     &ospay__v1__create_unit_response__descriptor, NULL, &r,
					     &st),
			     ST_OK, "%s", st.message);
		protobuf_c_message_free_unpacked(r, NULL);
	}
	Ospay__V1__ListUnitsRequest l = OSPAY__V1__LIST_UNITS_REQUEST__INIT;
	l.page_size = 1000;
	ProtobufCMessage *r = NULL;
	cr_assert_eq(ospay_sync_call(s, LIST_UNITS, &l.base,
				     &ospay__v1__list_units_response__descriptor, NULL, &r, &st),
		     ST_OK, "%s", st.message);
	Ospay__V1__ListUnitsResponse *lr = (Ospay__V1__ListUnitsResponse *)r;
	cr_assert_eq(lr->n_units, UNITS + 1);
	cr_assert_gt(ospay__v1__list_units_response__get_packed_size(lr), 16384);
	protobuf_c_message_free_unpacked(r, NULL);
	ospay_sync_close(s);
}

Test(rpc_tls, a_client_trusting_another_ca_is_refused)
{
	char crt[512], key[512];
	snprintf(crt, sizeof(crt), "%s/other.crt", srv.dir);
	snprintf(key, sizeof(key), "%s/other.key", srv.dir);
	cr_assert_eq(tls_cert_generate(crt, key, "localhost"), 0);
	ospay_sync_t *s = NULL;
	status_t st;
	cr_assert_eq(open_tls(crt, NULL, &s, &st), ST_UNAVAILABLE);
	cr_assert_null(s);
	cr_assert(strstr(st.message, "certificate not trusted") != NULL, "%s", st.message);
}

Test(rpc_tls, a_certificate_for_another_name_is_refused)
{
	ospay_sync_t *s = NULL;
	status_t st;
	cr_assert_eq(open_tls(srv.cacert, "ospay.example.com", &s, &st), ST_UNAVAILABLE);
	cr_assert(strstr(st.message, "name mismatch") != NULL, "%s", st.message);
}

Test(rpc_tls, a_plaintext_client_is_closed_and_others_go_on)
{
	/* A raw Hello frame where a ClientHello should be: the handshake fails and the
	 * server closes without answering in the clear. */
	int fd = tsp_connect(srv.rpc_addr);
	cr_assert_geq(fd, 0);
	cr_assert_eq(tsp_hello(fd, srv.admin_token), -1);
	cr_assert(tsp_wait_closed(fd, TSP_HANG_MS));
	close(fd);
	/* libospay without TLS: UNAVAILABLE, not a hang. */
	ospay_sync_t *s = NULL;
	status_t st;
	cr_assert_eq(ospay_sync_open(srv.rpc_addr, srv.admin_token, 10000, &s, &st), ST_UNAVAILABLE,
		     "%d %s", st.code, st.message);
	cr_assert(open_tls(srv.cacert, NULL, &s, &st) == ST_OK, "%s", st.message);
	ospay_sync_close(s);
}

/* Runs `ospay whoami` with the TLS environment (NULL entries left out). */
static int cli_whoami(const char *tls, const char *ca)
{
	char addr[96], tok[200], tls_env[32], ca_env[600];
	snprintf(addr, sizeof(addr), "OSPAY_ADDR=%s", srv.rpc_addr);
	snprintf(tok, sizeof(tok), "OSPAY_TOKEN=%s", srv.admin_token);
	snprintf(tls_env, sizeof(tls_env), "OSPAY_TLS=%s", tls != NULL ? tls : "");
	snprintf(ca_env, sizeof(ca_env), "OSPAY_CA=%s", ca != NULL ? ca : "");
	const char *env[] = {addr, tok, tls_env, ca_env, NULL};
	const char *argv[] = {"/bin/sh", "-c",     "exec \"$0\" \"$@\" 2>&1",
			      OSPAY_BIN, "whoami", NULL};
	out[0] = '\0';
	return tsp_run(argv, env, out, sizeof(out));
}

Test(rpc_tls, the_cli_speaks_tls_with_ospay_tls_and_ospay_ca)
{
	int rc = cli_whoami("1", srv.cacert);
	cr_assert_eq(rc, 0, "ospay whoami over TLS exited %d:\n%s", rc, out);
	cr_assert(strstr(out, "admin") != NULL || strstr(out, "ADMIN") != NULL, "%s", out);
	/* No CA: a usage error that says what is missing. */
	rc = cli_whoami("1", NULL);
	cr_assert_eq(rc, 2, "%d:\n%s", rc, out);
	cr_assert(strstr(out, "OSPAY_CA") != NULL, "%s", out);
	/* Plaintext on the TLS port: an error, not a hang. */
	rc = cli_whoami(NULL, NULL);
	cr_assert_eq(rc, 1, "%d:\n%s", rc, out);
}

/* Pipelined calls over TLS: many frames per record and many records per read, so
 * the per-turn frame budget leaves decrypted input for later turns. */
typedef struct pipe_run {
	ospay_client_t *c;
	unsigned answered, ok;
	int connect_code;
} pipe_run_t;

static void on_pipe_reply(ospay_client_t *c, const status_t *st, const uint8_t *body, size_t len,
			  void *arg)
{
	pipe_run_t *p = arg;
	(void)c;
	(void)body;
	(void)len;
	p->answered++;
	p->ok += st->code == ST_OK;
}

static void on_pipe_connected(ospay_client_t *c, const status_t *st, void *arg)
{
	pipe_run_t *p = arg;
	(void)c;
	p->connect_code = st->code;
}

Test(rpc_tls, thousands_of_pipelined_calls_are_all_answered)
{
	enum { CALLS = 3000 };
	uv_loop_t loop;
	cr_assert_eq(uv_loop_init(&loop), 0);
	pipe_run_t p = {.connect_code = -1};
	ospay_connect_opts_t o = {.tls = true, .tls_ca_file = srv.cacert};
	cr_assert_eq(ospay_client_connect_opts(&loop, srv.rpc_addr, srv.admin_token, &o,
					       on_pipe_connected, &p, &p.c),
		     0);
	Ospay__V1__ListUnitsRequest l = OSPAY__V1__LIST_UNITS_REQUEST__INIT;
	l.page_size = 1;
	/* Queued before Hello completes: they leave in one burst behind it. */
	for (int i = 0; i < CALLS; i++)
		cr_assert_eq(ospay_call_msg(p.c, LIST_UNITS, &l.base, NULL, on_pipe_reply, &p), 0);
	tsp_poll_t guard = tsp_poll_start(TSP_HANG_MS);
	while (p.answered < CALLS && tsp_poll_next(&guard))
		uv_run(&loop, UV_RUN_NOWAIT);
	cr_assert_eq(p.connect_code, ST_OK);
	cr_assert_eq(p.answered, CALLS);
	cr_assert_eq(p.ok, CALLS);
	ospay_client_close(p.c);
	uv_run(&loop, UV_RUN_DEFAULT);
	cr_assert_eq(uv_loop_close(&loop), 0);
}

/*
 * The ospay command as a black box: the real binary, run against the scripted
 * server on a thread, checked on stdout, stderr and the exit status, and on
 * what reached the server. Under the sanitizer build the binary is
 * instrumented too, so every run also asserts a clean stderr.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <poll.h>
#include <spawn.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "ospay/v1/admin.pb-c.h"
#include "ospay/v1/session.pb-c.h"
#include "support/fakesrv.h"

extern char **environ;

#define GOOD_TOKEN "tok-good-5f2c9a7e1b"
#define LEAKY_TOKEN "tok-leaky-88d1e0c4aa"
#define HANG_TOKEN "tok-hang-0000000000"

typedef struct run {
	int status;
	char out[65536];
	char err[65536];
} run_t;

/* What the server saw; written by its thread, read after the CLI exited. */
struct seen {
	int hellos;
	int list_calls;
	uint32_t page_size;
	char page_tokens[4][16];
	int create_unit_calls;
	char create_keys[4][64];
	Ospay__V1__CreateTokenRequest *token_req;
	char token_key[64];
	bool drop_next_create;
};
static struct seen S;
static uv_mutex_t MU;

/*
 * A copy taken under the lock: tests assert on the copy, never while holding
 * the lock, so a failed assert cannot leave the server's thread blocked.
 */
static struct seen seen_now(void)
{
	uv_mutex_lock(&MU);
	struct seen c = S;
	uv_mutex_unlock(&MU);
	return c;
}

static tsp_fake_thread_t T;

/* The handlers run on the server's thread, where Criterion's asserts cannot report. */
#define MUST(x)                                                                                    \
	do {                                                                                       \
		if (!(x))                                                                          \
			abort();                                                                   \
	} while (0)

static void reply_unit_list(tsp_fake_conn_t *conn, const Ospay__V1__RpcRequest *req)
{
	Ospay__V1__ListUnitsRequest *in =
		ospay__v1__list_units_request__unpack(NULL, req->body.len, req->body.data);
	Ospay__V1__ListUnitsResponse out = OSPAY__V1__LIST_UNITS_RESPONSE__INIT;
	Ospay__V1__Unit u[2] = {OSPAY__V1__UNIT__INIT, OSPAY__V1__UNIT__INIT};
	Ospay__V1__Unit *ups[2] = {&u[0], &u[1]};
	MUST(in != NULL);
	uv_mutex_lock(&MU);
	int n = S.list_calls++;
	if (n < 4)
		snprintf(S.page_tokens[n], sizeof(S.page_tokens[0]), "%s", in->page_token);
	S.page_size = in->page_size;
	uv_mutex_unlock(&MU);
	/* Three pages: "" -> "p2" -> "p3" -> end. */
	int page = in->page_token[0] == '\0' ? 0 : in->page_token[1] - '1';
	if (page == 0) {
		u[0].id = 1;
		u[0].name = "São Paulo";
		u[0].created_ms = 1700000000000;
		u[1].id = 2;
		u[1].name = "Rio";
		out.n_units = 2;
		out.next_page_token = "p2";
	} else if (page == 1) {
		u[0].id = 10;
		u[0].name = "東京";
		u[1].id = 11;
		u[1].name = "Belo Horizonte";
		out.n_units = 2;
		out.next_page_token = "p3";
	} else {
		u[0].id = 12;
		u[0].name = "Curitiba";
		out.n_units = 1;
	}
	out.units = ups;
	tsp_fake_reply(conn, req->id, 0, NULL, &out.base);
	ospay__v1__list_units_request__free_unpacked(in, NULL);
}

static void reply_create_unit(tsp_fake_conn_t *conn, const Ospay__V1__RpcRequest *req)
{
	Ospay__V1__CreateUnitRequest *in =
		ospay__v1__create_unit_request__unpack(NULL, req->body.len, req->body.data);
	Ospay__V1__CreateUnitResponse out = OSPAY__V1__CREATE_UNIT_RESPONSE__INIT;
	Ospay__V1__Unit u = OSPAY__V1__UNIT__INIT;
	bool drop = false;
	MUST(in != NULL);
	uv_mutex_lock(&MU);
	int n = S.create_unit_calls++;
	if (n < 4)
		snprintf(S.create_keys[n], sizeof(S.create_keys[0]), "%s", req->idempotency_key);
	drop = S.drop_next_create;
	S.drop_next_create = false;
	uv_mutex_unlock(&MU);
	if (drop) {
		/* As if the server went away before answering. */
		tsp_fake_conn_close(conn);
	} else if (in->name[0] == '\0') {
		Ospay__V1__RpcResponse resp = OSPAY__V1__RPC_RESPONSE__INIT;
		Ospay__V1__Status st = OSPAY__V1__STATUS__INIT;
		Ospay__V1__FieldViolation v = OSPAY__V1__FIELD_VIOLATION__INIT;
		Ospay__V1__FieldViolation *vs[] = {&v};
		v.field = "name";
		v.description = "must not be empty";
		st.code = 3;
		st.message = "invalid request";
		st.n_violations = 1;
		st.violations = vs;
		resp.id = req->id;
		resp.status = &st;
		tsp_fake_reply_msg(conn, &resp);
	} else {
		u.id = 77;
		u.organization_id = 7;
		u.name = in->name;
		u.created_ms = 1700000000000;
		out.unit = &u;
		tsp_fake_reply(conn, req->id, 0, NULL, &out.base);
	}
	ospay__v1__create_unit_request__free_unpacked(in, NULL);
}

static void reply_create_token(tsp_fake_conn_t *conn, const Ospay__V1__RpcRequest *req)
{
	Ospay__V1__CreateTokenRequest *in =
		ospay__v1__create_token_request__unpack(NULL, req->body.len, req->body.data);
	Ospay__V1__CreateTokenResponse out = OSPAY__V1__CREATE_TOKEN_RESPONSE__INIT;
	Ospay__V1__Token t = OSPAY__V1__TOKEN__INIT;
	MUST(in != NULL);
	t.id = 35;
	t.organization_id = 7;
	t.name = in->name;
	t.role = in->role;
	t.org_wide = in->org_wide;
	t.n_unit_ids = in->n_unit_ids;
	t.unit_ids = in->unit_ids;
	out.token = &t;
	out.secret = "s3cr3t-once";
	/* Recorded before the reply: the CLI exits on the reply and the test looks at once. */
	uv_mutex_lock(&MU);
	if (S.token_req != NULL)
		ospay__v1__create_token_request__free_unpacked(S.token_req, NULL);
	S.token_req = in;
	snprintf(S.token_key, sizeof(S.token_key), "%s", req->idempotency_key);
	uv_mutex_unlock(&MU);
	tsp_fake_reply(conn, req->id, 0, NULL, &out.base);
}

static void reply_revoke(tsp_fake_conn_t *conn, const Ospay__V1__RpcRequest *req)
{
	Ospay__V1__RevokeTokenRequest *in =
		ospay__v1__revoke_token_request__unpack(NULL, req->body.len, req->body.data);
	Ospay__V1__RevokeTokenResponse out = OSPAY__V1__REVOKE_TOKEN_RESPONSE__INIT;
	Ospay__V1__Token t = OSPAY__V1__TOKEN__INIT;
	MUST(in != NULL);
	if (in->token_id == 404) {
		tsp_fake_reply(conn, req->id, 5, "token 404 does not exist", NULL);
	} else {
		t.id = in->token_id;
		t.name = "ci";
		t.role = OSPAY__V1__ROLE__ROLE_READ_ONLY;
		t.org_wide = 1;
		t.revoked_ms = 1700000000000;
		out.token = &t;
		tsp_fake_reply(conn, req->id, 0, NULL, &out.base);
	}
	ospay__v1__revoke_token_request__free_unpacked(in, NULL);
}

static void handler(tsp_fake_conn_t *conn, const Ospay__V1__RpcRequest *req, void *arg)
{
	const char *m = req->method;
	if (strcmp(m, "ospay.v1.Session/Hello") == 0) {
		Ospay__V1__HelloRequest *h =
			ospay__v1__hello_request__unpack(NULL, req->body.len, req->body.data);
		MUST(h != NULL);
		uv_mutex_lock(&MU);
		S.hellos++;
		uv_mutex_unlock(&MU);
		if (strcmp(h->token, GOOD_TOKEN) == 0) {
			tsp_fake_hello_ok(conn, req->id);
		} else if (strcmp(h->token, LEAKY_TOKEN) == 0) {
			/* A careless server quoting the token back: the CLI must not repeat it. */
			tsp_fake_reply(conn, req->id, 16, "token " LEAKY_TOKEN " is unknown", NULL);
			tsp_fake_conn_close(conn);
		} else if (strcmp(h->token, HANG_TOKEN) != 0) {
			tsp_fake_reply(conn, req->id, 16, "unknown token", NULL);
			tsp_fake_conn_close(conn);
		}
		ospay__v1__hello_request__free_unpacked(h, NULL);
	} else if (strcmp(m, "ospay.v1.Admin/ListUnits") == 0) {
		reply_unit_list(conn, req);
	} else if (strcmp(m, "ospay.v1.Admin/CreateUnit") == 0) {
		reply_create_unit(conn, req);
	} else if (strcmp(m, "ospay.v1.Admin/CreateToken") == 0) {
		reply_create_token(conn, req);
	} else if (strcmp(m, "ospay.v1.Admin/RevokeToken") == 0) {
		reply_revoke(conn, req);
	} else {
		tsp_fake_reply(conn, req->id, 12, "unimplemented", NULL);
	}
}

static void setup(void)
{
	memset(&S, 0, sizeof(S));
	uv_mutex_init(&MU);
	cr_assert_eq(tsp_fake_thread_start(&T, handler, NULL), 0);
}

static void teardown(void)
{
	tsp_fake_thread_stop(&T);
	if (S.token_req != NULL)
		ospay__v1__create_token_request__free_unpacked(S.token_req, NULL);
	uv_mutex_destroy(&MU);
}

static void drain(int fd, char *buf, size_t cap, size_t *len, bool *open)
{
	ssize_t n = read(fd, buf + *len, cap - 1 - *len);
	if (n <= 0) {
		*open = false;
		return;
	}
	*len += (size_t)n;
	buf[*len] = '\0';
	if (*len + 1 >= cap)
		*open = false;
}

/* Runs ospay with args (NULL-terminated), OSPAY_ADDR pointing at the fake server. */
static void run_cli(run_t *r, const char *token, const char *const *args)
{
	const char *argv[32];
	char *envp[256];
	char addr_env[96], token_env[128];
	int out[2], err[2], argc = 0, envc = 0;
	posix_spawn_file_actions_t fa;
	pid_t pid;
	memset(r, 0, sizeof(*r));
	argv[argc++] = OSPAY_BIN;
	for (int i = 0; args[i] != NULL && argc < 31; i++)
		argv[argc++] = args[i];
	argv[argc] = NULL;
	snprintf(addr_env, sizeof(addr_env), "OSPAY_ADDR=%s", T.srv.addr);
	envp[envc++] = addr_env;
	if (token != NULL) {
		snprintf(token_env, sizeof(token_env), "OSPAY_TOKEN=%s", token);
		envp[envc++] = token_env;
	}
	for (char **e = environ; *e != NULL && envc < 254; e++) {
		if (strncmp(*e, "OSPAY_", 6) != 0)
			envp[envc++] = *e;
	}
	envp[envc] = NULL;
	cr_assert_eq(pipe2(out, O_CLOEXEC), 0);
	cr_assert_eq(pipe2(err, O_CLOEXEC), 0);
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_adddup2(&fa, out[1], 1);
	posix_spawn_file_actions_adddup2(&fa, err[1], 2);
	cr_assert_eq(posix_spawn(&pid, OSPAY_BIN, &fa, NULL, (char *const *)argv, envp), 0);
	posix_spawn_file_actions_destroy(&fa);
	close(out[1]);
	close(err[1]);
	size_t olen = 0, elen = 0;
	bool oopen = true, eopen = true;
	while (oopen || eopen) {
		struct pollfd p[2] = {{out[0], POLLIN, 0}, {err[0], POLLIN, 0}};
		cr_assert_gt(poll(p, 2, 30000), 0, "ospay hung");
		if (oopen && (p[0].revents & (POLLIN | POLLHUP)))
			drain(out[0], r->out, sizeof(r->out), &olen, &oopen);
		if (eopen && (p[1].revents & (POLLIN | POLLHUP)))
			drain(err[0], r->err, sizeof(r->err), &elen, &eopen);
		if (!oopen)
			p[0].fd = -1;
	}
	close(out[0]);
	close(err[0]);
	int ws = 0;
	cr_assert_eq(waitpid(pid, &ws, 0), pid);
	cr_assert(WIFEXITED(ws), "ospay died: %s", r->err);
	r->status = WEXITSTATUS(ws);
	/* Never, in any output, whatever happened. */
	if (token != NULL && token[0] != '\0') {
		cr_assert_null(strstr(r->out, token), "token on stdout");
		cr_assert_null(strstr(r->err, token), "token on stderr");
	}
	cr_assert_null(strstr(r->err, "Sanitizer"), "%s", r->err);
	cr_assert_null(strstr(r->err, "runtime error"), "%s", r->err);
}

#define ARGS(...)                                                                                  \
	(const char *const[])                                                                      \
	{                                                                                          \
		__VA_ARGS__, NULL                                                                  \
	}

static json_t *parse_json(const char *text)
{
	json_error_t e;
	json_t *j = json_loads(text, 0, &e);
	cr_assert_not_null(j, "not JSON (%s): %s", e.text, text);
	return j;
}

TestSuite(cli, .init = setup, .fini = teardown, .timeout = 120);

Test(cli, help_and_usage_errors)
{
	run_t r;
	run_cli(&r, GOOD_TOKEN, ARGS("help"));
	cr_assert_eq(r.status, 0);
	static const char *const listed[] = {"ping",
					     "whoami",
					     "units list",
					     "units create NAME",
					     "tokens create --name N",
					     "tokens revoke ID",
					     "OSPAY_TOKEN",
					     "--json",
					     "--timeout-ms"};
	for (size_t i = 0; i < sizeof(listed) / sizeof(listed[0]); i++)
		cr_assert_not_null(strstr(r.out, listed[i]), "help lacks %s", listed[i]);
	run_cli(&r, GOOD_TOKEN, ARGS("--help"));
	cr_assert_eq(r.status, 0);
	cr_assert_not_null(strstr(r.out, "usage: ospay"));
	run_cli(&r, GOOD_TOKEN, ARGS("units", "create", "--help"));
	cr_assert_eq(r.status, 0);
	cr_assert_not_null(strstr(r.out, "usage: ospay units create NAME"));
	run_cli(&r, GOOD_TOKEN, ARGS("frobnicate"));
	cr_assert_eq(r.status, 2);
	cr_assert_not_null(strstr(r.err, "no command \"frobnicate\""));
	run_cli(&r, GOOD_TOKEN, ARGS("units"));
	cr_assert_eq(r.status, 2);
	cr_assert_not_null(strstr(r.err, "ospay units list"));
	run_cli(&r, GOOD_TOKEN, ARGS("units", "create"));
	cr_assert_eq(r.status, 2);
	run_cli(&r, GOOD_TOKEN, ARGS("tokens", "revoke", "12x"));
	cr_assert_eq(r.status, 2);
	run_cli(&r, GOOD_TOKEN, ARGS("tokens", "create", "--name", "ci", "--role", "root"));
	cr_assert_eq(r.status, 2);
	cr_assert_not_null(strstr(r.err, "unknown role"));
	run_cli(&r, GOOD_TOKEN,
		ARGS("tokens", "create", "--name", "ci", "--role", "admin", "--org-wide", "--unit",
		     "3"));
	cr_assert_eq(r.status, 2);
	run_cli(&r, GOOD_TOKEN, ARGS("--timeout-ms", "0", "ping"));
	cr_assert_eq(r.status, 2);
	run_cli(&r, NULL, ARGS("ping"));
	cr_assert_eq(r.status, 2);
	cr_assert_not_null(strstr(r.err, "OSPAY_TOKEN"));
	struct seen s = seen_now();
	cr_assert_eq(s.hellos, 0, "usage errors never connect");
}

Test(cli, ping)
{
	run_t r;
	run_cli(&r, GOOD_TOKEN, ARGS("ping"));
	cr_assert_eq(r.status, 0, "%s", r.err);
	cr_assert_not_null(strstr(r.out, "pong from 127.0.0.1:"), "%s", r.out);
	cr_assert_not_null(strstr(r.out, " ms"));
	run_cli(&r, GOOD_TOKEN, ARGS("ping", "--json"));
	cr_assert_eq(r.status, 0);
	json_t *j = parse_json(r.out);
	cr_assert(json_is_number(json_object_get(j, "rtt_ms")));
	cr_assert_str_eq(json_string_value(json_object_get(j, "addr")), T.srv.addr);
	json_decref(j);
}

Test(cli, whoami_human_and_json)
{
	run_t r;
	run_cli(&r, GOOD_TOKEN, ARGS("whoami"));
	cr_assert_eq(r.status, 0, "%s", r.err);
	cr_assert_not_null(strstr(r.out, "organization  Acme Telecom (id 7)"), "%s", r.out);
	cr_assert_not_null(strstr(r.out, "token         ops (id 9)"), "%s", r.out);
	cr_assert_not_null(strstr(r.out, "role          admin"), "%s", r.out);
	cr_assert_not_null(strstr(r.out, "scope         units 3, 4"), "%s", r.out);
	run_cli(&r, GOOD_TOKEN, ARGS("--json", "whoami"));
	cr_assert_eq(r.status, 0);
	json_t *j = parse_json(r.out);
	json_t *org = json_object_get(j, "organization");
	json_t *tok = json_object_get(j, "token");
	cr_assert_eq(json_integer_value(json_object_get(org, "id")), 7);
	cr_assert_eq(json_integer_value(json_object_get(org, "utc_offset_minutes")), -180);
	cr_assert_str_eq(json_string_value(json_object_get(tok, "role")), "ROLE_ADMIN");
	cr_assert(json_is_false(json_object_get(tok, "org_wide")));
	cr_assert_eq(json_array_size(json_object_get(tok, "unit_ids")), 2);
	cr_assert_eq(json_integer_value(json_array_get(json_object_get(tok, "unit_ids"), 1)), 4);
	cr_assert_eq(json_integer_value(json_object_get(tok, "revoked_ms")), 0,
		     "zero values are present");
	json_decref(j);
}

Test(cli, units_list_fetches_every_page)
{
	run_t r;
	run_cli(&r, GOOD_TOKEN, ARGS("units", "list"));
	cr_assert_eq(r.status, 0, "%s", r.err);
	struct seen s = seen_now();
	cr_assert_eq(s.list_calls, 3);
	cr_assert_str_eq(s.page_tokens[0], "");
	cr_assert_str_eq(s.page_tokens[1], "p2");
	cr_assert_str_eq(s.page_tokens[2], "p3");
	cr_assert_eq(s.page_size, 1000);
	cr_assert_not_null(strstr(r.out, "ID  NAME            CREATED\n"), "%s", r.out);
	cr_assert_not_null(strstr(r.out, " 1  São Paulo       2023-11-14T22:13:20.000Z\n"), "%s",
			   r.out);
	cr_assert_not_null(strstr(r.out, "10  東京\n"), "%s", r.out);
	cr_assert_not_null(strstr(r.out, "12  Curitiba\n"), "%s", r.out);
	run_cli(&r, GOOD_TOKEN, ARGS("units", "list", "--json"));
	cr_assert_eq(r.status, 0);
	json_t *j = parse_json(r.out);
	json_t *units = json_object_get(j, "units");
	cr_assert_eq(json_array_size(units), 5);
	cr_assert_str_eq(json_string_value(json_object_get(json_array_get(units, 2), "name")),
			 "東京");
	cr_assert_eq(json_integer_value(json_object_get(json_array_get(units, 0), "created_ms")),
		     1700000000000);
	json_decref(j);
}

Test(cli, units_create_reports_violations)
{
	run_t r;
	run_cli(&r, GOOD_TOKEN, ARGS("units", "create", ""));
	cr_assert_eq(r.status, 1);
	cr_assert_not_null(strstr(r.err, "error: INVALID_ARGUMENT: invalid request\n"), "%s",
			   r.err);
	cr_assert_not_null(strstr(r.err, "  name: must not be empty\n"), "%s", r.err);
	cr_assert_str_eq(r.out, "");
}

Test(cli, units_create_retries_a_dropped_call_with_the_same_key)
{
	run_t r;
	uv_mutex_lock(&MU);
	S.drop_next_create = true;
	uv_mutex_unlock(&MU);
	run_cli(&r, GOOD_TOKEN, ARGS("units", "create", "Campinas"));
	cr_assert_eq(r.status, 0, "%s", r.err);
	cr_assert_not_null(strstr(r.out, "77  Campinas"), "%s", r.out);
	run_cli(&r, GOOD_TOKEN, ARGS("--json", "units", "create", "Santos"));
	cr_assert_eq(r.status, 0, "%s", r.err);
	json_t *j = parse_json(r.out);
	cr_assert_str_eq(json_string_value(json_object_get(json_object_get(j, "unit"), "name")),
			 "Santos");
	json_decref(j);
	struct seen s = seen_now();
	cr_assert_eq(s.create_unit_calls, 3);
	cr_assert_eq(strlen(s.create_keys[0]), 32, "a random 128-bit key, in hex");
	cr_assert_str_eq(s.create_keys[0], s.create_keys[1], "the retry reuses the key");
	cr_assert_str_neq(s.create_keys[1], s.create_keys[2], "each command has its own key");
}

Test(cli, tokens_create_and_revoke)
{
	run_t r;
	run_cli(&r, GOOD_TOKEN,
		ARGS("tokens", "create", "--name", "field app", "--role", "operator", "--unit", "3",
		     "--unit", "4"));
	cr_assert_eq(r.status, 0, "%s", r.err);
	struct seen s = seen_now();
	cr_assert_not_null(s.token_req);
	cr_assert_str_eq(s.token_req->name, "field app");
	cr_assert_eq(s.token_req->role, OSPAY__V1__ROLE__ROLE_OPERATOR);
	cr_assert_not(s.token_req->org_wide);
	cr_assert_eq(s.token_req->n_unit_ids, 2);
	cr_assert_eq(s.token_req->unit_ids[1], 4);
	cr_assert_eq(strlen(s.token_key), 32);
	cr_assert_not_null(strstr(r.out, "35  field app  operator  units 3, 4\n"), "%s", r.out);
	cr_assert_not_null(strstr(r.out, "secret: s3cr3t-once\n"), "%s", r.out);
	cr_assert_not_null(strstr(r.err, "only this once"));

	run_cli(&r, GOOD_TOKEN,
		ARGS("--json", "tokens", "create", "--name=ro", "--role", "read-only",
		     "--org-wide"));
	cr_assert_eq(r.status, 0, "%s", r.err);
	json_t *j = parse_json(r.out);
	cr_assert_str_eq(json_string_value(json_object_get(j, "secret")), "s3cr3t-once");
	cr_assert_str_eq(json_string_value(json_object_get(json_object_get(j, "token"), "role")),
			 "ROLE_READ_ONLY");
	json_decref(j);

	run_cli(&r, GOOD_TOKEN, ARGS("tokens", "revoke", "35"));
	cr_assert_eq(r.status, 0, "%s", r.err);
	cr_assert_not_null(strstr(r.out, "REVOKED"), "%s", r.out);
	cr_assert_not_null(strstr(r.out, "read-only  org-wide  2023-11-14T22:13:20.000Z"), "%s",
			   r.out);
	run_cli(&r, GOOD_TOKEN, ARGS("tokens", "revoke", "404"));
	cr_assert_eq(r.status, 1);
	cr_assert_not_null(strstr(r.err, "error: NOT_FOUND: token 404 does not exist"), "%s",
			   r.err);
}

Test(cli, auth_failures_never_show_the_token)
{
	run_t r;
	run_cli(&r, LEAKY_TOKEN, ARGS("whoami"));
	cr_assert_eq(r.status, 1);
	cr_assert_not_null(strstr(r.err, "error: UNAUTHENTICATED: token [redacted] is unknown"),
			   "%s", r.err);
	run_cli(&r, "tok-wrong-1234567890", ARGS("units", "list"));
	cr_assert_eq(r.status, 1);
	cr_assert_not_null(strstr(r.err, "error: UNAUTHENTICATED: unknown token"), "%s", r.err);
}

Test(cli, timeout_flag_bounds_the_wait)
{
	run_t r;
	run_cli(&r, HANG_TOKEN, ARGS("--timeout-ms", "300", "ping"));
	cr_assert_eq(r.status, 1);
	cr_assert_not_null(strstr(r.err, "error: DEADLINE_EXCEEDED"), "%s", r.err);
	/* The flag's wait, not the 30 s default, read from the message rather than
	 * a clock a busy machine can stretch. */
	cr_assert_not_null(strstr(r.err, "within 300 ms"), "%s", r.err);
	run_cli(&r, GOOD_TOKEN, ARGS("--addr", "127.0.0.1:1", "ping"));
	cr_assert_eq(r.status, 1);
	cr_assert_not_null(strstr(r.err, "error: UNAVAILABLE: connect 127.0.0.1:1"), "%s", r.err);
}

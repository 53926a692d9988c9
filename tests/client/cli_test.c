/*
 * The ospay command as a black box: the real binary, run against the scripted
 * server on a thread, checked on stdout, stderr and the exit status, and on
 * what reached the server. Under the sanitizer build the binary is
 * instrumented too, so every run also asserts a clean stderr.
 */
#include "client/cli_fake.h"

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

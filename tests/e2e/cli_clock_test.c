/*
 * ospay clock: the test clock through the CLI, against a real ospayd, and the
 * refusals (no test clock, a malformed duration).
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>

#include "support/proc.h"

static char out[8192];

static int ospay(const tsp_server_t *s, const char *token, const char *const *args)
{
	const char *argv[16] = {"/bin/sh", "-c", "\"$0\" \"$@\" 2>&1", OSPAY_BIN};
	size_t n = 4;
	for (size_t i = 0; args[i] != NULL && n < 15; i++)
		argv[n++] = args[i];
	argv[n] = NULL;
	char addr[96], tok[200];
	snprintf(addr, sizeof(addr), "OSPAY_ADDR=%s", s->rpc_addr);
	snprintf(tok, sizeof(tok), "OSPAY_TOKEN=%s", token);
	const char *env[] = {addr, tok, NULL};
	return tsp_run(argv, env, out, sizeof(out));
}

#define ARGS(...) ((const char *const[]){__VA_ARGS__, NULL})
#define HAS(s) cr_assert(strstr(out, (s)) != NULL, "missing \"%s\" in:\n%s", (s), out)

Test(cli_clock, now_and_advance_on_a_test_clock, .timeout = 60)
{
	tsp_server_t srv;
	const char *args[] = {"--test-clock", "2026-12-01T12:00:00Z", NULL};
	tsp_server_up(&srv, args);
	cr_assert_eq(ospay(&srv, srv.admin_token, ARGS("clock", "now")), 0, "%s", out);
	HAS("2026-12-01T12:00:00.000Z");
	cr_assert_eq(ospay(&srv, srv.admin_token, ARGS("clock", "advance", "1d12h30m15s")), 0, "%s",
		     out);
	HAS("2026-12-03T00:30:15.000Z");
	cr_assert_eq(ospay(&srv, srv.admin_token, ARGS("--json", "clock", "now")), 0, "%s", out);
	HAS("\"now\": \"2026-12-03T00:30:15.000Z\"");
	/* Malformed durations never reach the server: the clock has not moved. */
	const char *bad[] = {"1", "1x", "d", "-1d", "1d-", "99999999999d", ""};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		cr_assert_eq(ospay(&srv, srv.admin_token, ARGS("clock", "advance", bad[i])), 2,
			     "%s: %s", bad[i], out);
		HAS("usage: ospay clock advance DURATION");
	}
	cr_assert_eq(ospay(&srv, srv.admin_token, ARGS("clock", "now")), 0, "%s", out);
	HAS("2026-12-03T00:30:15.000Z");
	tsp_server_down(&srv);
}

Test(cli_clock, refused_without_a_test_clock, .timeout = 60)
{
	tsp_server_t srv;
	tsp_server_up(&srv, NULL);
	cr_assert_eq(ospay(&srv, srv.admin_token, ARGS("clock", "advance", "1h")), 1, "%s", out);
	HAS("error: UNIMPLEMENTED");
	tsp_server_down(&srv);
}

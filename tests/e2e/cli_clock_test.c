/*
 * ospay clock: the test clock through the CLI, against a real ospayd, and the
 * refusals (no test clock, a malformed duration).
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>

#include "support/domain.h"
#include "support/proc.h"

static char out[8192];

/* Runs ospay against srv (the test's) with its admin token, stderr folded into out. */
#define ospay(...) tso_cli(&srv, NULL, out, sizeof(out), __VA_ARGS__, NULL)
#define HAS(s) cr_assert(strstr(out, (s)) != NULL, "missing \"%s\" in:\n%s", (s), out)

Test(cli_clock, now_and_advance_on_a_test_clock, .timeout = 60)
{
	tsp_server_t srv;
	const char *args[] = {"--test-clock", "2026-12-01T12:00:00Z", NULL};
	tsp_server_up(&srv, args);
	cr_assert_eq(ospay("clock", "now"), 0, "%s", out);
	HAS("2026-12-01T12:00:00.000Z");
	cr_assert_eq(ospay("clock", "advance", "1d12h30m15s"), 0, "%s", out);
	HAS("2026-12-03T00:30:15.000Z");
	cr_assert_eq(ospay("--json", "clock", "now"), 0, "%s", out);
	HAS("\"now\": \"2026-12-03T00:30:15.000Z\"");
	/* Malformed durations never reach the server: the clock has not moved. */
	const char *bad[] = {"1", "1x", "d", "-1d", "1d-", "99999999999d", ""};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		cr_assert_eq(ospay("clock", "advance", bad[i]), 2, "%s: %s", bad[i], out);
		HAS("usage: ospay clock advance DURATION");
	}
	cr_assert_eq(ospay("clock", "now"), 0, "%s", out);
	HAS("2026-12-03T00:30:15.000Z");
	tsp_server_down(&srv);
}

Test(cli_clock, refused_without_a_test_clock, .timeout = 60)
{
	tsp_server_t srv;
	tsp_server_up(&srv, NULL);
	cr_assert_eq(ospay("clock", "advance", "1h"), 1, "%s", out);
	HAS("error: UNIMPLEMENTED");
	tsp_server_down(&srv);
}

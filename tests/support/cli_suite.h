/*
 * A suite that drives ospayd through the RPC and the CLI, without the sandbox:
 * TSP_E2E_SUITE's srv and adm, plus unit (the organization's first unit) and
 * the CLI's output, out, filled by ospay(...); HAS(text) asserts out holds it.
 */
#ifndef OSPAY_TESTS_CLI_SUITE_H
#define OSPAY_TESTS_CLI_SUITE_H

#include <string.h>

#include "support/domain.h"
#include "support/suite.h"

#define TSP_CLI_SUITE(name, clock, timeout_s)                                                      \
	static uint64_t unit;                                                                      \
	static char out[65536];                                                                    \
	static void name##_unit(void);                                                             \
	TSP_E2E_SUITE_THEN(name, adm, NULL, clock, timeout_s, name##_unit);                        \
	static void name##_unit(void)                                                              \
	{                                                                                          \
		unit = srv.unit_id;                                                                \
	}

#define ospay(...) tso_cli(&srv, NULL, out, sizeof(out), __VA_ARGS__)
#define HAS(s) cr_assert(strstr(out, (s)) != NULL, "missing \"%s\" in:\n%s", (s), out)

#endif

/*
 * A suite whose ospayd charges at a sandbox's Cielo: TSP_E2E_SUITE's srv and
 * adm (the clock at clock), plus the sandbox sbx, at which Cielo is registered
 * and set for the organization (tsg_cielo with tag, automatic recurrence as
 * asked) before each test.
 */
#ifndef OSPAY_TESTS_CIELO_SUITE_H
#define OSPAY_TESTS_CIELO_SUITE_H

#include "support/gateways.h"
#include "support/suite.h"

#define TSP_CIELO_SUITE(name, clock, timeout_s, tag, automatic)                                    \
	static tsp_sandbox_t sbx;                                                                  \
	static void name##_cielo(void);                                                            \
	TSP_E2E_SUITE_THEN(name, adm, &sbx, clock, timeout_s, name##_cielo);                       \
	static void name##_cielo(void)                                                             \
	{                                                                                          \
		tsg_cielo(adm, &sbx, srv.org_id, (tag), (automatic));                              \
	}

#endif

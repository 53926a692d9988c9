/*
 * One end-to-end suite's fixture, written once: every test of the suite gets a
 * fresh ospayd (and ospay-sandbox when sb is &sandbox) from tsp_env_up, and
 * everything is stopped by pid afterwards, whatever the test did.
 */
#ifndef OSPAY_TESTS_SUITE_H
#define OSPAY_TESTS_SUITE_H

#include <criterion/criterion.h>

#include "support/proc.h"

static inline void tsp_suite_nothing(void)
{
}

/*
 * Declares `static tsp_server_t srv` and `static int fd` (the admin's open
 * connection) and the Criterion suite `name` whose setup starts the servers
 * with the test clock at `clock` (NULL: the real clock), then calls then();
 * the teardown closes fd and stops them. sb is NULL or the address of a
 * tsp_sandbox_t the file declares.
 */
#define TSP_E2E_SUITE_THEN(name, fd, sb, clock, timeout_s, then)                                   \
	static tsp_server_t srv;                                                                   \
	static int fd;                                                                             \
	static void name##_up(void)                                                                \
	{                                                                                          \
		fd = tsp_env_up(&srv, (sb), (clock), NULL);                                        \
		then();                                                                            \
	}                                                                                          \
	static void name##_down(void)                                                              \
	{                                                                                          \
		tsp_env_down(&srv, (sb), fd);                                                      \
	}                                                                                          \
	TestSuite(name, .init = name##_up, .fini = name##_down, .timeout = (timeout_s))

#define TSP_E2E_SUITE(name, fd, sb, clock, timeout_s)                                              \
	TSP_E2E_SUITE_THEN(name, fd, sb, clock, timeout_s, tsp_suite_nothing)

/*
 * A suite of tests that each talk to a bare ospayd of their own (no admin
 * connection, no sandbox, the real clock): declares `static tsp_server_t srv`,
 * started by tsp_server_up before each test and stopped by tsp_server_down after.
 */
#define TSP_SERVER_SUITE(name, timeout_s)                                                          \
	static tsp_server_t srv;                                                                   \
	static void name##_up(void)                                                                \
	{                                                                                          \
		tsp_server_up(&srv, NULL);                                                         \
	}                                                                                          \
	static void name##_down(void)                                                              \
	{                                                                                          \
		tsp_server_down(&srv);                                                             \
	}                                                                                          \
	TestSuite(name, .init = name##_up, .fini = name##_down, .timeout = (timeout_s))

#endif

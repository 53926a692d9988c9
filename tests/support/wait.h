/*
 * Waiting for something a test can observe (a store record, a /metrics
 * counter, what the sandbox recorded, a log line) instead of sleeping for a
 * time that load can stretch. Every budget here is a hang guard, never a
 * timing assertion: on a slow machine a wait only takes longer.
 */
#ifndef OSPAY_TESTS_WAIT_H
#define OSPAY_TESTS_WAIT_H

#include <criterion/criterion.h>
#include <stdbool.h>
#include <stdint.h>

/* The hang guard for what takes milliseconds when all is well. */
#define TSP_HANG_MS 30000

/* CLOCK_MONOTONIC in ms. */
uint64_t tsp_now_ms(void);

typedef struct tsp_poll {
	uint64_t deadline_ms;
	unsigned pause_us; /* the next pause: from 1 ms, doubling to 50 ms */
} tsp_poll_t;

/* A poll that gives up budget_ms from now. */
tsp_poll_t tsp_poll_start(int budget_ms);
/* Pauses before the next look; false (at once) when the budget is spent. */
bool tsp_poll_next(tsp_poll_t *p);

/*
 * Re-evaluates the expression cond until it holds or TSP_HANG_MS pass, then
 * asserts it; the rest is the failure message (a format and its arguments).
 */
#define TSP_AWAIT(cond, ...) TSP_AWAIT_MS(TSP_HANG_MS, cond, __VA_ARGS__)
/* TSP_AWAIT with another hang guard, for what waits on a timer of ospayd's own. */
#define TSP_AWAIT_MS(budget_ms, cond, ...)                                                         \
	do {                                                                                       \
		tsp_poll_t tsp_poll_ = tsp_poll_start(budget_ms);                                  \
		bool tsp_ok_;                                                                      \
		while (!(tsp_ok_ = (cond)) && tsp_poll_next(&tsp_poll_))                           \
			;                                                                          \
		cr_assert(tsp_ok_, __VA_ARGS__);                                                   \
	} while (0)

#endif

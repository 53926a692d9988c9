/*
 * The brand rules over a card's attempt log (core/retry.h retry_gate,
 * retry_log_reattempts): what the log of a number's charges and Zero Auths
 * says of one more attempt, and from when a refused one is allowed.
 */
#include <criterion/criterion.h>
#include <stdint.h>
#include <string.h>

#include "core/retry.h"

static const int64_t T0 = 1609502400000LL; /* 2021-01-01T12:00:00Z */
#define H (3600 * 1000LL)
#define D RETRY_DAY_MS

static retry_attempt_t attempt(int64_t at, bool declined, bool reattempt)
{
	retry_attempt_t a;
	memset(&a, 0, sizeof(a));
	a.at_ms = at;
	a.declined = declined;
	a.reattempt = reattempt;
	return a;
}

Test(retry_gate, empty_log_allows_a_first_attempt)
{
	retry_gate_t g;
	retry_gate(CARD_BRAND_VISA, NULL, 0, T0, &g);
	cr_assert(g.allowed);
	cr_assert_not(g.reattempt);
	cr_assert_eq(g.reattempts, 0);
}

Test(retry_gate, after_a_decline_it_is_a_reattempt)
{
	retry_attempt_t log[2] = {attempt(T0 - 5 * D, false, false), attempt(T0 - D, true, false)};
	retry_gate_t g;
	retry_gate(CARD_BRAND_VISA, log, 2, T0, &g);
	cr_assert(g.allowed);
	cr_assert(g.reattempt);
	/* The latest is an approval: not a reattempt. */
	log[0].at_ms = T0 - H;
	retry_gate(CARD_BRAND_VISA, log, 2, T0, &g);
	cr_assert_not(g.reattempt);
	/* A decline older than the window says nothing. */
	log[0].at_ms = T0 - 40 * D;
	log[1].at_ms = T0 - 31 * D;
	retry_gate(CARD_BRAND_VISA, log, 2, T0, &g);
	cr_assert_not(g.reattempt);
}

Test(retry_gate, never_binds_until_the_decline_leaves_the_window)
{
	retry_attempt_t a = attempt(T0 - 2 * D, true, false);
	a.never = true;
	strcpy(a.advice, "Visa category 1: the issuer will never approve");
	retry_gate_t g;
	retry_gate(CARD_BRAND_VISA, &a, 1, T0, &g);
	cr_assert_not(g.allowed);
	cr_assert_str_eq(g.why, "Visa category 1: the issuer will never approve");
	cr_assert_eq(g.from_ms, T0 - 2 * D + RETRY_WINDOW_MS);
	/* At that moment the decline is out of the window. */
	retry_gate(CARD_BRAND_VISA, &a, 1, g.from_ms, &g);
	cr_assert(g.allowed);
}

Test(retry_gate, a_wait_binds_until_it_ends)
{
	retry_attempt_t a = attempt(T0 - H, true, false);
	a.next_ms = T0 - H + 3 * D; /* MAC 02 */
	strcpy(a.advice, "MAC 02: retry after 72 hours");
	retry_gate_t g;
	retry_gate(CARD_BRAND_MASTERCARD, &a, 1, T0, &g);
	cr_assert_not(g.allowed);
	cr_assert_eq(g.from_ms, a.next_ms);
	cr_assert_str_eq(g.why, "MAC 02: retry after 72 hours");
	retry_gate(CARD_BRAND_MASTERCARD, &a, 1, a.next_ms, &g);
	cr_assert(g.allowed);
	cr_assert(g.reattempt);
}

/* 20 Visa reattempts in the window, the last one declined: the 21st is
 * refused until the oldest leaves the window. */
Test(retry_gate, visa_cap_and_when_it_frees)
{
	retry_attempt_t log[25];
	size_t n = 0;
	log[n++] = attempt(T0 - 29 * D, true, false); /* the first decline */
	for (int i = 0; i < 20; i++)
		log[n++] = attempt(T0 - 28 * D + i * D, true, true);
	cr_assert_eq(retry_log_reattempts(log, n, T0), 20);
	retry_gate_t g;
	retry_gate(CARD_BRAND_VISA, log, n, T0, &g);
	cr_assert_not(g.allowed);
	cr_assert(g.reattempt);
	cr_assert_eq(g.reattempts, 20);
	cr_assert(strstr(g.why, "20 reattempts") != NULL, "%s", g.why);
	cr_assert_eq(g.from_ms, T0 - 28 * D + RETRY_WINDOW_MS);
	retry_gate(CARD_BRAND_VISA, log, n, g.from_ms, &g);
	cr_assert(g.allowed);
	cr_assert_eq(g.reattempts, 19);
	/* Mastercard has no cap (its fee is flagged elsewhere). */
	retry_gate(CARD_BRAND_MASTERCARD, log, n, T0, &g);
	cr_assert(g.allowed);
	/* Not a reattempt (the latest was approved): the cap does not bind. */
	log[n++] = attempt(T0 - H, false, false);
	retry_gate(CARD_BRAND_VISA, log, n, T0, &g);
	cr_assert(g.allowed);
	cr_assert_not(g.reattempt);
}

Test(retry_gate, the_latest_reason_wins)
{
	retry_attempt_t log[2] = {attempt(T0 - 10 * D, true, false), attempt(T0 - H, true, true)};
	log[0].never = true;
	strcpy(log[0].advice, "never");
	log[1].next_ms = T0 + 25 * D;
	strcpy(log[1].advice, "wait");
	retry_gate_t g;
	retry_gate(CARD_BRAND_MASTERCARD, log, 2, T0, &g);
	cr_assert_not(g.allowed);
	cr_assert_str_eq(g.why, "wait");
	cr_assert_eq(g.from_ms, T0 + 25 * D);
}

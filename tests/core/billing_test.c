#include <criterion/criterion.h>
#include <errno.h>
#include <string.h>

#include "core/billing.h"
#include "core/date.h"
#include "core/declines.h"

/*
 * One invoice as the billing run would keep it: the stored facts and the
 * attempts made so far. Tests drive it day by day the way the hourly run
 * would: decide, act, store the attempt.
 */
typedef struct sim {
	billing_input_t in;
	billing_attempt_t attempts[BILLING_MAX_ATTEMPTS];
	billing_card_t chosen, dflt;
	int charges; /* gateway calls made */
} sim_t;

#define CARD_CHOSEN 7
#define CARD_DEFAULT 3

static int64_t day(int y, int m, int d)
{
	return date_from_civil(y, m, d);
}

static void sim_init(sim_t *s, int64_t due)
{
	memset(s, 0, sizeof(*s));
	s->chosen = (billing_card_t){.id = CARD_CHOSEN, .expiry = {.month = 12, .year = 2030}};
	s->dflt = (billing_card_t){.id = CARD_DEFAULT, .expiry = {.month = 12, .year = 2030}};
	s->in = (billing_input_t){
		.status = BILLING_INVOICE_OPEN,
		.due_day = due,
		.amount = 15700,
		.service_recurring = true,
		.org_automatic_recurrence = true,
		.chosen = NULL,
		.default_card = &s->dflt,
		.attempts = s->attempts,
	};
}

static billing_decision_t decide(const sim_t *s, int64_t today)
{
	billing_decision_t d;
	cr_assert_eq(billing_decide(&s->in, today, &d), 0);
	return d;
}

static void record(sim_t *s, const billing_decision_t *d, int64_t today, enum billing_result result,
		   const char *code, bool irreversible)
{
	cr_assert_lt(s->in.n_attempts, BILLING_MAX_ATTEMPTS);
	s->attempts[s->in.n_attempts++] = (billing_attempt_t){
		.number = d->attempt,
		.day = today,
		.result = result,
		.return_code = code,
		.irreversible = irreversible,
	};
	if (result == BILLING_RESULT_SUCCESS)
		s->in.status = BILLING_INVOICE_PAID;
}

/* A charge, as the run makes it: only when told to, and stored at once. */
static billing_decision_t charge(sim_t *s, int64_t today, enum billing_result result,
				 const char *code)
{
	billing_decision_t d = decide(s, today);
	cr_assert_eq(d.action, BILLING_ACTION_CHARGE, "action %s reason %s",
		     billing_action_name(d.action), billing_reason_name(d.reason));
	s->charges++;
	bool irr =
		result == BILLING_RESULT_DECLINED && decline_is_irreversible(code, CARD_BRAND_VISA);
	record(s, &d, today, result, code, irr);
	return d;
}

static void expect_nothing(const sim_t *s, int64_t today, enum billing_reason reason)
{
	billing_decision_t d = decide(s, today);
	cr_assert_eq(d.action, BILLING_ACTION_NOTHING, "action %s", billing_action_name(d.action));
	cr_assert_eq(d.reason, reason, "reason %s, expected %s", billing_reason_name(d.reason),
		     billing_reason_name(reason));
	cr_assert_eq(d.attempt, 0);
	cr_assert_eq(d.card_id, 0);
}

/* Each test's invoice, due 2020-12-10 (a test with another due date starts it again). */
static sim_t s;

static void sim_due_dec10(void)
{
	sim_init(&s, day(2020, 12, 10));
}

TestSuite(billing, .init = sim_due_dec10);

Test(billing, seed_example_exactly)
{
	/* docs/spec.md 4.7: due 2020-12-10, attempt 1 on 12-10, attempt 2 on 12-11, then none. */
	expect_nothing(&s, day(2020, 12, 9), BILLING_REASON_NOT_DUE);

	billing_decision_t d = charge(&s, day(2020, 12, 10), BILLING_RESULT_DECLINED, "05");
	cr_assert_eq(d.attempt, 1);
	cr_assert_eq(d.card_id, CARD_DEFAULT);
	cr_assert_not(s.attempts[0].irreversible, "05 is reversible");
	/* The hourly run comes back the same day: nothing more today. */
	expect_nothing(&s, day(2020, 12, 10), BILLING_REASON_ATTEMPTED_TODAY);

	d = charge(&s, day(2020, 12, 11), BILLING_RESULT_DECLINED, "51");
	cr_assert_eq(d.attempt, 2);
	expect_nothing(&s, day(2020, 12, 11), BILLING_REASON_MAX_ATTEMPTS);
	expect_nothing(&s, day(2020, 12, 12), BILLING_REASON_MAX_ATTEMPTS);
	expect_nothing(&s, day(2021, 1, 10), BILLING_REASON_MAX_ATTEMPTS);
	cr_assert_eq(s.charges, 2);
}

Test(billing, success_at_attempt_1)
{
	charge(&s, day(2020, 12, 10), BILLING_RESULT_SUCCESS, "6");
	expect_nothing(&s, day(2020, 12, 10), BILLING_REASON_PAID);
	expect_nothing(&s, day(2020, 12, 11), BILLING_REASON_PAID);
	/* Even if the invoice were not marked paid yet, a success ends the schedule. */
	s.in.status = BILLING_INVOICE_OPEN;
	expect_nothing(&s, day(2020, 12, 11), BILLING_REASON_SUCCEEDED);
	cr_assert_eq(s.charges, 1);
}

Test(billing, success_at_attempt_2)
{
	charge(&s, day(2020, 12, 10), BILLING_RESULT_DECLINED, "51");
	billing_decision_t d = charge(&s, day(2020, 12, 11), BILLING_RESULT_SUCCESS, "4");
	cr_assert_eq(d.attempt, 2);
	expect_nothing(&s, day(2020, 12, 11), BILLING_REASON_PAID);
	expect_nothing(&s, day(2020, 12, 12), BILLING_REASON_PAID);
	cr_assert_eq(s.charges, 2);
}

Test(billing, irreversible_decline_gets_no_attempt_2)
{
	static const char *const codes[] = {"41", "43", "14", "54", "R0", "R1", "SC", "BN"};
	for (size_t i = 0; i < sizeof(codes) / sizeof(codes[0]); i++) {
		sim_init(&s, day(2020, 12, 10));
		charge(&s, day(2020, 12, 10), BILLING_RESULT_DECLINED, codes[i]);
		cr_assert(s.attempts[0].irreversible, "%s", codes[i]);
		expect_nothing(&s, day(2020, 12, 11), BILLING_REASON_IRREVERSIBLE);
		expect_nothing(&s, day(2020, 12, 12), BILLING_REASON_IRREVERSIBLE);
		cr_assert_eq(s.charges, 1);
	}
}

Test(billing, errors_and_no_valid_card_count_as_attempts)
{
	/* A gateway error (nothing charged) is the day's attempt; the next day gets attempt 2. */
	charge(&s, day(2020, 12, 10), BILLING_RESULT_ERROR, NULL);
	expect_nothing(&s, day(2020, 12, 10), BILLING_REASON_ATTEMPTED_TODAY);
	billing_decision_t d = charge(&s, day(2020, 12, 11), BILLING_RESULT_DECLINED, "05");
	cr_assert_eq(d.attempt, 2);
}

Test(billing, catch_up_after_downtime_inside_the_window)
{
	/* Down on the due day: the missed attempt is made the next day, as attempt 1. */
	billing_decision_t d = charge(&s, day(2020, 12, 11), BILLING_RESULT_DECLINED, "05");
	cr_assert_eq(d.attempt, 1);
	expect_nothing(&s, day(2020, 12, 11), BILLING_REASON_ATTEMPTED_TODAY);
	/* Attempt 2 would fall on 12-12: outside the window, so never. */
	expect_nothing(&s, day(2020, 12, 12), BILLING_REASON_WINDOW_CLOSED);
	cr_assert_eq(s.charges, 1);

	/* Attempt 1 made, then down on the next day: no attempt 2 after it. */
	sim_init(&s, day(2020, 12, 10));
	charge(&s, day(2020, 12, 10), BILLING_RESULT_DECLINED, "05");
	expect_nothing(&s, day(2020, 12, 12), BILLING_REASON_WINDOW_CLOSED);
	expect_nothing(&s, day(2020, 12, 13), BILLING_REASON_WINDOW_CLOSED);
}

Test(billing, never_charged_after_the_window)
{
	/* Down on both days: nothing, ever. */
	expect_nothing(&s, day(2020, 12, 12), BILLING_REASON_WINDOW_CLOSED);
	expect_nothing(&s, day(2021, 6, 1), BILLING_REASON_WINDOW_CLOSED);
	cr_assert_eq(s.charges, 0);
}

Test(billing, every_run_schedule_stays_inside_the_rules)
{
	/*
	 * For every mix of results and every set of days the server is up, run
	 * the hourly loop from D-3 to D+5: never more than 2 charges, never
	 * outside D and D+1, never two on one day, and nothing after a success
	 * or an irreversible decline.
	 */
	static const enum billing_result results[] = {
		BILLING_RESULT_SUCCESS, BILLING_RESULT_DECLINED, BILLING_RESULT_ERROR};
	static const bool irreversible[] = {false, true};
	int64_t due = day(2020, 12, 10);
	for (int up_mask = 0; up_mask < 512; up_mask++) {
		for (size_t r1 = 0; r1 < 3; r1++) {
			for (size_t r2 = 0; r2 < 3; r2++) {
				for (size_t irr = 0; irr < 2; irr++) {
					int made = 0;
					int64_t last_day = INT64_MIN;
					sim_init(&s, due);
					for (int k = 0; k < 9; k++) {
						int64_t today = due - 3 + k;
						if ((up_mask & (1 << k)) == 0)
							continue;
						for (int hour = 0; hour < 24; hour++) {
							billing_decision_t d;
							cr_assert_eq(
								billing_decide(&s.in, today, &d),
								0);
							if (d.action == BILLING_ACTION_NOTHING)
								continue;
							cr_assert_eq(d.action,
								     BILLING_ACTION_CHARGE);
							cr_assert(today == due || today == due + 1);
							cr_assert_neq(today, last_day);
							cr_assert_eq(d.attempt, made + 1);
							enum billing_result res =
								made == 0 ? results[r1]
									  : results[r2];
							bool fin = res == BILLING_RESULT_DECLINED &&
								   irreversible[irr];
							record(&s, &d, today, res, "x", fin);
							made++;
							last_day = today;
						}
					}
					cr_assert_leq(made, 2);
					if (made == 2) {
						cr_assert_eq(s.attempts[0].day, due);
						cr_assert_eq(s.attempts[1].day, due + 1);
						cr_assert_neq(s.attempts[0].result,
							      BILLING_RESULT_SUCCESS);
						cr_assert_not(s.attempts[0].irreversible);
					}
				}
			}
		}
	}
}

Test(billing, no_charge_when_recurrence_is_off)
{
	s.in.org_automatic_recurrence = false;
	expect_nothing(&s, day(2020, 12, 10), BILLING_REASON_AUTO_RECURRENCE_OFF);
	s.in.org_automatic_recurrence = true;
	s.in.service_recurring = false;
	expect_nothing(&s, day(2020, 12, 10), BILLING_REASON_SERVICE_RECURRENCE_OFF);
	/* Switched on again the next day: that day's attempt happens, as attempt 1. */
	s.in.service_recurring = true;
	billing_decision_t d = charge(&s, day(2020, 12, 11), BILLING_RESULT_DECLINED, "05");
	cr_assert_eq(d.attempt, 1);
}

Test(billing, no_charge_when_paid_or_canceled_or_nothing_to_charge)
{
	s.in.status = BILLING_INVOICE_PAID;
	expect_nothing(&s, day(2020, 12, 10), BILLING_REASON_PAID);
	s.in.status = BILLING_INVOICE_CANCELED;
	expect_nothing(&s, day(2020, 12, 10), BILLING_REASON_CANCELED);
	expect_nothing(&s, day(2020, 12, 11), BILLING_REASON_CANCELED);
	s.in.status = BILLING_INVOICE_OPEN;
	s.in.amount = 0;
	expect_nothing(&s, day(2020, 12, 10), BILLING_REASON_NO_AMOUNT);
}

Test(billing, no_card_records_the_day_without_a_charge)
{
	s.in.default_card = NULL;
	billing_decision_t d = decide(&s, day(2020, 12, 10));
	cr_assert_eq(d.action, BILLING_ACTION_RECORD_NO_VALID_CARD);
	cr_assert_eq(d.attempt, 1);
	cr_assert_eq(d.card_id, 0);
	record(&s, &d, day(2020, 12, 10), BILLING_RESULT_NO_VALID_CARD, NULL, false);
	expect_nothing(&s, day(2020, 12, 10), BILLING_REASON_ATTEMPTED_TODAY);
	/* The customer adds a card: the next day's attempt charges it. */
	s.in.default_card = &s.dflt;
	d = charge(&s, day(2020, 12, 11), BILLING_RESULT_SUCCESS, "6");
	cr_assert_eq(d.attempt, 2);
	cr_assert_eq(d.card_id, CARD_DEFAULT);
	cr_assert_eq(s.charges, 1);
}

Test(billing, unknown_outcome_is_resolved_before_anything_else)
{
	billing_decision_t d = decide(&s, day(2020, 12, 10));
	record(&s, &d, day(2020, 12, 10), BILLING_RESULT_UNKNOWN, NULL, false);
	/* Same day, next day, weeks later: query first, never a new charge. */
	static const int days[] = {10, 11, 12, 31};
	for (size_t i = 0; i < sizeof(days) / sizeof(days[0]); i++) {
		d = decide(&s, day(2020, 12, days[i]));
		cr_assert_eq(d.action, BILLING_ACTION_RESOLVE_UNKNOWN);
		cr_assert_eq(d.attempt, 1);
		cr_assert_eq(d.card_id, 0);
	}
	/* Whatever happened to the invoice or the settings since. */
	s.in.status = BILLING_INVOICE_CANCELED;
	cr_assert_eq(decide(&s, day(2020, 12, 11)).action, BILLING_ACTION_RESOLVE_UNKNOWN);
	s.in.status = BILLING_INVOICE_PAID;
	cr_assert_eq(decide(&s, day(2020, 12, 11)).action, BILLING_ACTION_RESOLVE_UNKNOWN);
	s.in.status = BILLING_INVOICE_OPEN;
	s.in.org_automatic_recurrence = false;
	cr_assert_eq(decide(&s, day(2020, 12, 11)).action, BILLING_ACTION_RESOLVE_UNKNOWN);
	s.in.org_automatic_recurrence = true;

	/* The query says it was declined (reversible): attempt 2 on the next day. */
	s.attempts[0].result = BILLING_RESULT_DECLINED;
	s.attempts[0].return_code = "05";
	d = decide(&s, day(2020, 12, 11));
	cr_assert_eq(d.action, BILLING_ACTION_CHARGE);
	cr_assert_eq(d.attempt, 2);

	/* The query says it went through: done, never charged again. */
	s.attempts[0].result = BILLING_RESULT_SUCCESS;
	expect_nothing(&s, day(2020, 12, 11), BILLING_REASON_SUCCEEDED);
}

Test(billing, unknown_second_attempt_is_resolved_too)
{
	charge(&s, day(2020, 12, 10), BILLING_RESULT_DECLINED, "05");
	billing_decision_t d = decide(&s, day(2020, 12, 11));
	record(&s, &d, day(2020, 12, 11), BILLING_RESULT_UNKNOWN, NULL, false);
	d = decide(&s, day(2020, 12, 12));
	cr_assert_eq(d.action, BILLING_ACTION_RESOLVE_UNKNOWN);
	cr_assert_eq(d.attempt, 2);
}

Test(billing, card_choice_falls_back_to_the_default)
{
	int64_t today = day(2020, 12, 10);
	billing_card_t chosen = {.id = 7, .expiry = {.month = 11, .year = 2020}};
	billing_card_t dflt = {.id = 3, .expiry = {.month = 1, .year = 2021}};
	cr_assert_eq(billing_choose_card(&chosen, &dflt, today), 3, "expired chosen card");
	chosen.expiry = (card_expiry_t){.month = 12, .year = 2020};
	cr_assert_eq(billing_choose_card(&chosen, &dflt, today), 7, "valid through 12-31");
	cr_assert_eq(billing_choose_card(&chosen, &dflt, day(2021, 1, 1)), 3);
	cr_assert_eq(billing_choose_card(NULL, &dflt, today), 3, "chosen card removed");
	cr_assert_eq(billing_choose_card(&chosen, NULL, today), 7);
	dflt.expiry = (card_expiry_t){.month = 6, .year = 2020};
	chosen.expiry = (card_expiry_t){.month = 6, .year = 2020};
	cr_assert_eq(billing_choose_card(&chosen, &dflt, today), 0, "no valid card");
	cr_assert_eq(billing_choose_card(NULL, NULL, today), 0);

	/* Through the decision: expired chosen card, the default is charged. */
	s.chosen.expiry = (card_expiry_t){.month = 11, .year = 2020};
	s.in.chosen = &s.chosen;
	billing_decision_t d = decide(&s, day(2020, 12, 10));
	cr_assert_eq(d.action, BILLING_ACTION_CHARGE);
	cr_assert_eq(d.card_id, CARD_DEFAULT);
	/* Both expired: the day is recorded as "no valid card". */
	s.dflt.expiry = (card_expiry_t){.month = 11, .year = 2020};
	d = decide(&s, day(2020, 12, 10));
	cr_assert_eq(d.action, BILLING_ACTION_RECORD_NO_VALID_CARD);
	/* A valid chosen card wins over the default. */
	s.chosen.expiry = (card_expiry_t){.month = 1, .year = 2025};
	s.dflt.expiry = (card_expiry_t){.month = 1, .year = 2025};
	d = decide(&s, day(2020, 12, 10));
	cr_assert_eq(d.card_id, CARD_CHOSEN);
}

Test(billing, inconsistent_history_is_refused)
{
	billing_decision_t d;
	s.attempts[0] = (billing_attempt_t){
		.number = 2, .day = day(2020, 12, 10), .result = BILLING_RESULT_DECLINED};
	s.in.n_attempts = 1;
	cr_assert_eq(billing_decide(&s.in, day(2020, 12, 11), &d), -EINVAL);
	cr_assert_eq(d.action, BILLING_ACTION_NOTHING);

	s.attempts[0].number = 1;
	s.attempts[1] = (billing_attempt_t){
		.number = 2, .day = day(2020, 12, 10), .result = BILLING_RESULT_DECLINED};
	s.in.n_attempts = 2;
	cr_assert_eq(billing_decide(&s.in, day(2020, 12, 11), &d), -EINVAL, "two on one day");

	s.in.n_attempts = 3;
	cr_assert_eq(billing_decide(&s.in, day(2020, 12, 11), &d), -EINVAL, "three attempts");

	s.in.n_attempts = 1;
	s.attempts[0].result = BILLING_RESULT_UNSPECIFIED;
	cr_assert_eq(billing_decide(&s.in, day(2020, 12, 11), &d), -EINVAL);

	s.attempts[0].result = BILLING_RESULT_DECLINED;
	s.in.status = BILLING_INVOICE_UNSPECIFIED;
	cr_assert_eq(billing_decide(&s.in, day(2020, 12, 11), &d), -EINVAL);
}

static bool cielo_order_id_ok(const char *id)
{
	size_t n = strlen(id);
	bool ok = n > 0 && n <= 50;
	for (size_t i = 0; ok && i < n; i++)
		ok = (id[i] >= '0' && id[i] <= '9') || (id[i] >= 'a' && id[i] <= 'z') ||
		     (id[i] >= 'A' && id[i] <= 'Z');
	return ok;
}

Test(billing, merchant_order_ids)
{
	char id[BILLING_ORDER_ID_SIZE], again[BILLING_ORDER_ID_SIZE];
	uint64_t inv;
	int att;
	cr_assert_eq(billing_order_id(42, 1, id), 0);
	cr_assert_str_eq(id, "00000000000000000042A1");
	cr_assert(cielo_order_id_ok(id));
	cr_assert_eq(billing_order_id(42, 1, again), 0);
	cr_assert_str_eq(id, again, "deterministic");
	cr_assert_eq(billing_order_id(42, 2, again), 0);
	cr_assert_str_eq(again, "00000000000000000042A2");
	cr_assert_eq(billing_order_id_parse(again, &inv, &att), 0);
	cr_assert_eq(inv, 42);
	cr_assert_eq(att, 2);

	cr_assert_eq(billing_order_id(UINT64_MAX, 2, id), 0);
	cr_assert_str_eq(id, "18446744073709551615A2");
	cr_assert(cielo_order_id_ok(id));
	cr_assert_eq(billing_order_id_parse(id, &inv, &att), 0);
	cr_assert_eq(inv, UINT64_MAX);

	cr_assert_eq(billing_order_id(0, 1, id), -EINVAL);
	cr_assert_eq(billing_order_id(42, 0, id), -EINVAL);
	cr_assert_eq(billing_order_id(42, 3, id), -EINVAL);

	static const char *const bad[] = {
		"00000000000000000042A3",
		"00000000000000000042A0",
		"00000000000000000000A1",
		"00000000000000000042a1",
		"0000000000000000042A1",
		"000000000000000000042A1",
		"18446744073709551616A1",
		"99999999999999999999A1",
		"0000000000000000004xA1",
		"00000000000000000042-1",
		"",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		cr_assert_eq(billing_order_id_parse(bad[i], &inv, &att), -EINVAL, "%s", bad[i]);
	cr_assert_eq(billing_order_id_parse(NULL, &inv, &att), -EINVAL);
}

Test(billing, suspension_blocks_after_the_profile_days_until_paid)
{
	int64_t due = day(2020, 12, 10);
	cr_assert_null(billing_check_suspension_days(0));
	cr_assert_null(billing_check_suspension_days(2));
	cr_assert_null(billing_check_suspension_days(365));
	cr_assert_not_null(billing_check_suspension_days(1), "before attempt 2 is over");
	cr_assert_not_null(billing_check_suspension_days(366));
	cr_assert_not_null(billing_check_suspension_days(-1));

	cr_assert_eq(billing_block_day(due, 5), day(2020, 12, 15));
	cr_assert_eq(billing_block_day(due, 0), INT64_MAX);
	cr_assert_not(billing_blocks_service(BILLING_INVOICE_OPEN, due, 5, day(2020, 12, 14)));
	cr_assert(billing_blocks_service(BILLING_INVOICE_OPEN, due, 5, day(2020, 12, 15)));
	cr_assert(billing_blocks_service(BILLING_INVOICE_OPEN, due, 5, day(2021, 3, 1)));
	cr_assert_not(billing_blocks_service(BILLING_INVOICE_PAID, due, 5, day(2020, 12, 15)),
		      "paying unblocks");
	cr_assert_not(billing_blocks_service(BILLING_INVOICE_CANCELED, due, 5, day(2020, 12, 15)));
	cr_assert_not(billing_blocks_service(BILLING_INVOICE_OPEN, due, 0, day(2030, 1, 1)),
		      "no profile, never blocked");
}

Test(billing, names)
{
	cr_assert_str_eq(billing_action_name(BILLING_ACTION_CHARGE), "charge");
	cr_assert_str_eq(billing_reason_name(BILLING_REASON_NOT_DUE), "not due");
	cr_assert_str_eq(billing_reason_name(BILLING_REASON_ATTEMPTED_TODAY),
			 "already attempted today");
	cr_assert_str_eq(billing_result_name(BILLING_RESULT_NO_VALID_CARD), "no valid card");
	cr_assert_str_eq(billing_reason_name((enum billing_reason)99), "?");
	cr_assert_str_eq(billing_action_name((enum billing_action) - 1), "?");
}

Test(billing, operator_order_ids_are_their_own_series)
{
	char id[BILLING_OP_ORDER_ID_SIZE];
	uint64_t inv;
	int att;
	cr_assert_eq(billing_operator_order_id(42, 1, id), 0);
	cr_assert_str_eq(id, "00000000000000000042M1");
	cr_assert(cielo_order_id_ok(id));
	/* Never taken for one of the run's attempts. */
	cr_assert_neq(billing_order_id_parse(id, &inv, &att), 0);
	cr_assert_eq(billing_operator_order_id(UINT64_MAX, BILLING_MAX_OPERATOR_CHARGES, id), 0);
	cr_assert_str_eq(id, "18446744073709551615M99");
	cr_assert(cielo_order_id_ok(id));
	cr_assert_eq(billing_operator_order_id(0, 1, id), -EINVAL);
	cr_assert_eq(billing_operator_order_id(42, 0, id), -EINVAL);
	cr_assert_eq(billing_operator_order_id(42, BILLING_MAX_OPERATOR_CHARGES + 1, id), -EINVAL);
}

Test(billing, order_id_invoice_reads_both_series)
{
	char id[BILLING_OP_ORDER_ID_SIZE];
	uint64_t inv = 0;
	cr_assert_eq(billing_order_id(42, 2, id), 0);
	cr_assert_eq(billing_order_id_invoice(id, &inv), 0);
	cr_assert_eq(inv, 42);
	cr_assert_eq(billing_operator_order_id(UINT64_MAX, BILLING_MAX_OPERATOR_CHARGES, id), 0);
	cr_assert_eq(billing_order_id_invoice(id, &inv), 0);
	cr_assert_eq(inv, UINT64_MAX);
	static const char *const bad[] = {
		"",
		"00000000000000000042",     /* no series */
		"00000000000000000042X1",   /* another series */
		"00000000000000000000A1",   /* invoice 0 */
		"18446744073709551616A1",   /* over UINT64_MAX */
		"0000000000000000004aA1",   /* not digits */
		"00000000000000000042M123", /* too long */
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		cr_assert_eq(billing_order_id_invoice(bad[i], &inv), -EINVAL, "%s", bad[i]);
	cr_assert_eq(billing_order_id_invoice(NULL, &inv), -EINVAL);
}

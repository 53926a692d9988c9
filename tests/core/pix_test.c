#include <criterion/criterion.h>
#include <errno.h>
#include <string.h>

#include "core/date.h"
#include "core/pix.h"

/* Brazil's national holidays of 2026 as literal dates (the real calendar is another module's). */
static bool closed_2026(int64_t day, void *arg)
{
	static const int md[][2] = {{1, 1}, {2, 16},  {2, 17}, {4, 3},   {4, 21},  {5, 1},  {6, 4},
				    {9, 7}, {10, 12}, {11, 2}, {11, 15}, {11, 20}, {12, 25}};
	int *calls = arg;
	int y, m, d;
	if (calls)
		(*calls)++;
	date_to_civil(day, &y, &m, &d);
	for (size_t i = 0; i < sizeof(md) / sizeof(md[0]); i++)
		if (y == 2026 && m == md[i][0] && d == md[i][1])
			return true;
	return false;
}

static int64_t D(int y, int m, int d)
{
	return date_from_civil(y, m, d);
}

Test(pix, txid_is_deterministic_valid_and_distinct)
{
	char a[PIX_TXID_SIZE], b[PIX_TXID_SIZE], c[PIX_TXID_SIZE], e[PIX_TXID_SIZE];
	cr_assert_eq(pix_txid("org1", "inv42", D(2026, 5, 10), a), 0);
	cr_assert_eq(pix_txid("org1", "inv42", D(2026, 5, 10), b), 0);
	cr_assert_str_eq(a, b);
	cr_assert_eq(strlen(a), PIX_TXID_MAX);
	cr_assert(pix_txid_valid(a));
	cr_assert_eq(pix_txid("org1", "inv42", D(2026, 6, 10), c), 0);
	cr_assert_str_neq(a, c, "another cycle, another txid");
	/* Length prefixes: moving a byte between org and invoice changes the txid. */
	cr_assert_eq(pix_txid("org", "1inv42", D(2026, 5, 10), e), 0);
	cr_assert_str_neq(a, e);
	cr_assert_eq(pix_txid("", "inv", 1, e), -EINVAL);
	cr_assert_eq(pix_txid("org", NULL, 1, e), -EINVAL);
}

Test(pix, txid_and_idrec_charset)
{
	cr_assert(pix_txid_valid("33beb661beda44a8928fef47dbeb2dc5"));
	cr_assert_not(pix_txid_valid("33beb661beda44a8928fef47dbe" /* 27 ok */ "-x"));
	cr_assert_not(pix_txid_valid("abc"));
	cr_assert_not(pix_txid_valid("0123456789012345678901234567890123456")); /* 37 */
	cr_assert_not(pix_txid_valid(NULL));
	cr_assert(pix_idrec_valid("RR1234567820240115abcdefghijk"));
	cr_assert_not(pix_idrec_valid("XR1234567820240115abcdefghijk"));
	cr_assert_not(pix_idrec_valid("RR1234567820240115abcdefghij"));
}

Test(pix, money)
{
	char s[PIX_MONEY_SIZE];
	int64_t v;
	cr_assert_eq(pix_money_format(10607, s), 0);
	cr_assert_str_eq(s, "106.07");
	cr_assert_eq(pix_money_format(5, s), 0);
	cr_assert_str_eq(s, "0.05");
	cr_assert_eq(pix_money_format(0, s), -EINVAL);
	cr_assert_eq(pix_money_format(PIX_MONEY_MAX_CENTAVOS + 1, s), -EINVAL);
	cr_assert_eq(pix_money_parse("106.07", &v), 0);
	cr_assert_eq(v, 10607);
	cr_assert_eq(pix_money_parse("9999999999.99", &v), 0);
	cr_assert_eq(v, PIX_MONEY_MAX_CENTAVOS);
	const char *bad[] = {
		"", "1", "1.0", "1.000", ".10", "-1.00", "1,00", "10000000000.00", "1.0a", " 1.00"};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		cr_assert_eq(pix_money_parse(bad[i], &v), -EINVAL, "%s", bad[i]);
}

Test(pix, business_days_across_weekends_holidays_and_month_ends)
{
	/* Fri 2026-05-29 + 1 business day: weekend, then Mon 06-01 (month end crossed). */
	cr_assert_eq(pix_business_add(D(2026, 5, 29), 1, closed_2026, NULL), D(2026, 6, 1));
	/* Wed 06-03 + 1: Thu 06-04 is Corpus Christi, so Fri 06-05. */
	cr_assert_eq(pix_business_add(D(2026, 6, 3), 1, closed_2026, NULL), D(2026, 6, 5));
	/* Mon 04-06 - 2: Fri 04-03 Good Friday, Thu 04-02, Wed 04-01. */
	cr_assert_eq(pix_business_add(D(2026, 4, 6), -2, closed_2026, NULL), D(2026, 4, 1));
	/* Across the year: Mon 2026-01-05 - 2: Fri 01-02, (Thu 01-01 holiday), Wed 2025-12-31. */
	cr_assert_eq(pix_business_add(D(2026, 1, 5), -2, closed_2026, NULL), D(2025, 12, 31));
	/* Without a calendar only weekends are closed. */
	cr_assert_eq(pix_business_add(D(2026, 4, 6), -2, NULL, NULL), D(2026, 4, 2));
	cr_assert_eq(pix_business_add(D(2026, 4, 6), 0, closed_2026, NULL), D(2026, 4, 6));
	cr_assert_eq(pix_business_next(D(2026, 2, 14), closed_2026, NULL), D(2026, 2, 18),
		     "Sat, Sun, Carnival Mon+Tue");
	int calls = 0;
	cr_assert(pix_business_day(D(2026, 4, 2), closed_2026, &calls));
	cr_assert_eq(calls, 1, "the callback gets the caller's argument");
}

Test(pix, window_safe_reading)
{
	pix_window_t w = PIX_WINDOW_DEFAULT;
	int64_t first, last;
	cr_assert_null(pix_window_check(&w));
	/* The reference's worked timeline: due Fri 2025-07-18, send 07-08 .. 07-16. */
	pix_window_days(&w, D(2025, 7, 18), closed_2026, NULL, &first, &last);
	cr_assert_eq(first, D(2025, 7, 8));
	cr_assert_eq(last, D(2025, 7, 16));
	/* Due Mon 2026-04-06 after Good Friday: the window crosses March's end. */
	pix_window_days(&w, D(2026, 4, 6), closed_2026, NULL, &first, &last);
	cr_assert_eq(first, D(2026, 3, 27));
	cr_assert_eq(last, D(2026, 4, 1));
	cr_assert_eq(pix_window_at(&w, D(2026, 4, 6), D(2026, 3, 26), closed_2026, NULL),
		     PIX_WINDOW_EARLY);
	cr_assert_eq(pix_window_at(&w, D(2026, 4, 6), D(2026, 3, 27), closed_2026, NULL),
		     PIX_WINDOW_OPEN);
	cr_assert_eq(pix_window_at(&w, D(2026, 4, 6), D(2026, 4, 1), closed_2026, NULL),
		     PIX_WINDOW_OPEN);
	cr_assert_eq(pix_window_at(&w, D(2026, 4, 6), D(2026, 4, 2), closed_2026, NULL),
		     PIX_WINDOW_LATE, "calendar reading would allow 04-02..04-04; ours does not");
	/* Across the year end. */
	pix_window_days(&w, D(2026, 1, 5), closed_2026, NULL, &first, &last);
	cr_assert_eq(first, D(2025, 12, 26));
	cr_assert_eq(last, D(2025, 12, 31));
}

Test(pix, window_is_a_setting)
{
	pix_window_t cal = {10, false, 2, false}, bus = {10, true, 2, true};
	int64_t first, last;
	pix_window_days(&cal, D(2026, 4, 6), closed_2026, NULL, &first, &last);
	cr_assert_eq(first, D(2026, 3, 27));
	cr_assert_eq(last, D(2026, 4, 4));
	pix_window_days(&bus, D(2026, 4, 6), closed_2026, NULL, &first, &last);
	cr_assert_eq(first, D(2026, 3, 20), "10 business days back, Good Friday skipped");
	cr_assert_eq(last, D(2026, 4, 1));
	pix_window_t bad1 = {1, false, 2, false}, bad2 = {10, false, 0, false},
		     bad3 = {61, false, 2, false};
	cr_assert_not_null(pix_window_check(&bad1));
	cr_assert_not_null(pix_window_check(&bad2));
	cr_assert_not_null(pix_window_check(&bad3));
	/* A window emptied by the units chosen is late, never open. */
	pix_window_t odd = {2, false, 2, true};
	cr_assert_eq(pix_window_at(&odd, D(2026, 4, 6), D(2026, 4, 1), closed_2026, NULL),
		     PIX_WINDOW_LATE);
}

Test(pix, cancel_deadline)
{
	/* Due 2026-04-06, cutoff 21:00 local (UTC-3): 2026-04-06 00:00 UTC. */
	int64_t ms = pix_cancel_deadline_ms(D(2026, 4, 6), PIX_CANCEL_CUTOFF_DEFAULT, -180);
	cr_assert_eq(ms, D(2026, 4, 6) * DATE_MS_PER_DAY);
}

Test(pix, retry_days_permite_3r_7d)
{
	pix_retry_cfg_t c = PIX_RETRY_DEFAULT;
	int64_t days[PIX_RETRY_MAX];
	cr_assert_null(pix_retry_check(&c));
	/* Each due day and the three retry days it plans, all different days. */
	static const struct {
		const char *why;
		int due[3];
		int retry[3][3];
	} t[] = {
		{"Due Thu 04-16: Fri 17, Sun 19 -> Mon 20, Tue 21 Tiradentes -> Wed 22 (<= 04-23)",
		 {2026, 4, 16},
		 {{2026, 4, 17}, {2026, 4, 20}, {2026, 4, 22}}},
		{"Due Fri 11-13: Sat -> Mon 16; Mon 16 taken -> Tue 17; Wed 18",
		 {2026, 11, 13},
		 {{2026, 11, 16}, {2026, 11, 17}, {2026, 11, 18}}},
		{"Due Wed 12-23 across Christmas: Thu 24, Sat 26 -> Mon 28, Mon 28 taken -> Tue 29",
		 {2026, 12, 23},
		 {{2026, 12, 24}, {2026, 12, 28}, {2026, 12, 29}}},
	};
	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		int64_t due = D(t[i].due[0], t[i].due[1], t[i].due[2]);
		cr_assert_eq(pix_retry_plan(&c, PIX_RETRY_3R_7D, due, 0, closed_2026, NULL, days),
			     3, "%s", t[i].why);
		for (size_t k = 0; k < 3; k++)
			cr_assert_eq(days[k],
				     D(t[i].retry[k][0], t[i].retry[k][1], t[i].retry[k][2]),
				     "%s: retry %zu", t[i].why, k + 1);
	}
	/* The next cycle starting on 12-28 leaves one retry. */
	cr_assert_eq(pix_retry_plan(&c, PIX_RETRY_3R_7D, D(2026, 12, 23), D(2026, 12, 28),
				    closed_2026, NULL, days),
		     1);
	/* Horizon: offsets 5,6,7 from Thu 12-17 -> Tue 22, Wed 23, Thu 24 (7 days). */
	pix_retry_cfg_t late = {{5, 6, 7}, 3, 7};
	cr_assert_eq(
		pix_retry_plan(&late, PIX_RETRY_3R_7D, D(2026, 12, 17), 0, closed_2026, NULL, days),
		3);
	/* From Fri 12-18 offset 7 is Fri 12-25 (holiday) -> Mon 28: past the horizon, dropped. */
	cr_assert_eq(
		pix_retry_plan(&late, PIX_RETRY_3R_7D, D(2026, 12, 18), 0, closed_2026, NULL, days),
		2);
	cr_assert_eq(days[1], D(2026, 12, 24));
}

Test(pix, no_retries_under_nao_permite_or_bad_settings)
{
	pix_retry_cfg_t c = PIX_RETRY_DEFAULT;
	int64_t days[PIX_RETRY_MAX], day;
	cr_assert_eq(pix_retry_plan(&c, PIX_RETRY_NONE, D(2026, 4, 16), 0, closed_2026, NULL, days),
		     0);
	cr_assert_eq(pix_retry_next(&c, PIX_RETRY_NONE, D(2026, 4, 16), 0, D(2026, 4, 16), 0, 0,
				    closed_2026, NULL, &day),
		     -ENOENT);
	pix_retry_cfg_t same = {{1, 1, 3}, 3, 7}, far = {{1, 8}, 2, 7}, wide = {{1}, 1, 8};
	cr_assert_not_null(pix_retry_check(&same));
	cr_assert_not_null(pix_retry_check(&far));
	cr_assert_not_null(pix_retry_check(&wide));
	cr_assert_eq(pix_retry_plan(&same, PIX_RETRY_3R_7D, D(2026, 4, 16), 0, NULL, NULL, days),
		     0);
	enum pix_retry_policy p;
	cr_assert_eq(pix_retry_policy_parse("PERMITE_3R_7D", &p), 0);
	cr_assert_eq(p, PIX_RETRY_3R_7D);
	cr_assert_eq(pix_retry_policy_parse("NAO_PERMITE", &p), 0);
	cr_assert_eq(p, PIX_RETRY_NONE);
	cr_assert_eq(pix_retry_policy_parse("permite_3r_7d", &p), -EINVAL);
}

Test(pix, retry_next_counts_and_dates)
{
	pix_retry_cfg_t c = PIX_RETRY_DEFAULT;
	int64_t due = D(2026, 4, 16);
	/* Asked on a day (month 4 of 2026) after `used` retries, the last on day `last` (0:
	 * none): the retry day it gives (0: -ENOENT, none left). */
	static const struct {
		const char *why;
		int today, used, last, next;
	} t[] = {
		{"on the due date's evening: the first retry, Fri 17", 16, 0, 0, 17},
		{"the 17th failed: asked on the 17th, a future day: Mon 20", 17, 1, 17, 20},
		{"late in asking (on the 21st): skips to the 22nd, never a past day", 21, 1, 17,
		 22},
		{"three used: none left, even with plan days ahead", 17, 3, 17, 0},
		{"the last plan day is not in the future", 22, 2, 20, 0},
	};
	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		int64_t day = 0;
		int64_t last = t[i].last != 0 ? D(2026, 4, t[i].last) : 0;
		int rc = pix_retry_next(&c, PIX_RETRY_3R_7D, due, 0, D(2026, 4, t[i].today),
					t[i].used, last, closed_2026, NULL, &day);
		cr_assert_eq(rc, t[i].next != 0 ? 0 : -ENOENT, "%s: %d", t[i].why, rc);
		if (t[i].next != 0)
			cr_assert_eq(day, D(2026, 4, t[i].next), "%s", t[i].why);
	}
}

Test(pix, authorization_state_machine)
{
	/* Steps from a state that is not final: the legal ones, and ones it may not take. */
	static const enum pix_auth_state ok[][2] = {
		{PIX_AUTH_CREATED, PIX_AUTH_SENT},
		{PIX_AUTH_SENT, PIX_AUTH_ACCEPTED},
		{PIX_AUTH_CREATED, PIX_AUTH_ACCEPTED},
		{PIX_AUTH_SENT, PIX_AUTH_REJECTED},
		{PIX_AUTH_SENT, PIX_AUTH_EXPIRED},
		{PIX_AUTH_SENT, PIX_AUTH_CANCELED_RECEIVER},
		{PIX_AUTH_ACCEPTED, PIX_AUTH_CANCELED_PAYER},
		{PIX_AUTH_ACCEPTED, PIX_AUTH_CANCELED_RECEIVER},
	};
	static const enum pix_auth_state illegal[][2] = {
		{PIX_AUTH_ACCEPTED, PIX_AUTH_EXPIRED},
		{PIX_AUTH_ACCEPTED, PIX_AUTH_SENT},
		{PIX_AUTH_SENT, PIX_AUTH_CREATED},
		{PIX_AUTH_SENT, PIX_AUTH_CANCELED_PAYER},
	};
	for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++)
		cr_assert_eq(pix_auth_step(ok[i][0], ok[i][1]), PIX_STEP_OK, "%s -> %s",
			     pix_auth_name(ok[i][0]), pix_auth_name(ok[i][1]));
	for (size_t i = 0; i < sizeof(illegal) / sizeof(illegal[0]); i++)
		cr_assert_eq(pix_auth_step(illegal[i][0], illegal[i][1]), PIX_STEP_ILLEGAL,
			     "%s -> %s", pix_auth_name(illegal[i][0]),
			     pix_auth_name(illegal[i][1]));
	cr_assert_eq(pix_auth_step(PIX_AUTH_ACCEPTED, PIX_AUTH_ACCEPTED), PIX_STEP_SAME);
	/* Final states stay final: a lying or late webhook cannot revive them. */
	enum pix_auth_state fin[] = {PIX_AUTH_REJECTED, PIX_AUTH_EXPIRED, PIX_AUTH_CANCELED_PAYER,
				     PIX_AUTH_CANCELED_RECEIVER};
	for (size_t i = 0; i < 4; i++) {
		cr_assert(pix_auth_final(fin[i]));
		for (int to = PIX_AUTH_CREATED; to <= PIX_AUTH_CANCELED_RECEIVER; to++)
			cr_assert_eq(pix_auth_step(fin[i], (enum pix_auth_state)to),
				     to == (int)fin[i] ? PIX_STEP_SAME : PIX_STEP_ILLEGAL);
	}
	cr_assert_not(pix_auth_final(PIX_AUTH_ACCEPTED));
	cr_assert_eq(pix_auth_step((enum pix_auth_state)0, PIX_AUTH_SENT), PIX_STEP_ILLEGAL);
	cr_assert_str_eq(pix_auth_name(PIX_AUTH_CANCELED_PAYER), "CANCELED_BY_PAYER");
}

Test(pix, authorization_from_psp_rec)
{
	enum pix_auth_state s;
	cr_assert_eq(pix_auth_from_rec("APROVADA", NULL, &s), 0);
	cr_assert_eq(s, PIX_AUTH_ACCEPTED);
	cr_assert_eq(pix_auth_from_rec("CANCELADA", "USUARIO_PAGADOR", &s), 0);
	cr_assert_eq(s, PIX_AUTH_CANCELED_PAYER);
	cr_assert_eq(pix_auth_from_rec("CANCELADA", "PSP_RECEBEDOR", &s), 0);
	cr_assert_eq(s, PIX_AUTH_CANCELED_RECEIVER);
	cr_assert_eq(pix_auth_from_rec("CANCELADA", NULL, &s), 0);
	cr_assert_eq(s, PIX_AUTH_CANCELED_PAYER);
	cr_assert_eq(pix_auth_from_rec("EXPIRADA", NULL, &s), 0);
	cr_assert_eq(s, PIX_AUTH_EXPIRED);
	cr_assert_eq(pix_auth_from_rec("aprovada", NULL, &s), -EINVAL);
	cr_assert_eq(pix_auth_from_rec(NULL, NULL, &s), -EINVAL);
}

Test(pix, amounts)
{
	cr_assert_eq(pix_amount_check(9990, 9990, 0), PIX_AMOUNT_OK);
	cr_assert_eq(pix_amount_check(9991, 9990, 0), PIX_AMOUNT_NOT_FIXED);
	cr_assert_eq(pix_amount_check(20000, 0, 20000), PIX_AMOUNT_OK);
	cr_assert_eq(pix_amount_check(20001, 0, 20000), PIX_AMOUNT_ABOVE_MAX);
	cr_assert_eq(pix_amount_check(20001, 0, 0), PIX_AMOUNT_OK, "unknown maximum");
	cr_assert_eq(pix_amount_check(0, 0, 0), PIX_AMOUNT_INVALID);
	cr_assert_eq(pix_amount_check(PIX_MONEY_MAX_CENTAVOS + 1, 0, 0), PIX_AMOUNT_INVALID);
}

Test(pix, reasons)
{
	pix_reason_info_t ri;
	pix_reason_classify("AC05", &ri);
	cr_assert_eq(ri.kind, PIX_REASON_COBR);
	cr_assert(ri.known);
	pix_reason_classify("AC06", &ri);
	cr_assert_eq(ri.kind, PIX_REASON_ATTEMPT);
	pix_reason_classify("AM02", &ri);
	cr_assert_eq(ri.kind, PIX_REASON_ABOVE_MAX);
	pix_reason_classify("ZZ99", &ri);
	cr_assert_eq(ri.kind, PIX_REASON_ATTEMPT);
	cr_assert_not(ri.known);
	pix_reason_classify(NULL, &ri);
	cr_assert_eq(ri.kind, PIX_REASON_NONE);
	/* Every whole-cobr code of BCB-API 2.9.0. */
	const char *whole[] = {"AC05", "AM09", "DENC", "DS27", "DTED",
			       "MIDI", "MSUC", "NITX", "RC09"};
	for (size_t i = 0; i < 9; i++) {
		pix_reason_classify(whole[i], &ri);
		cr_assert_eq(ri.kind, PIX_REASON_COBR, "%s", whole[i]);
	}
}

Test(pix, cobr_outcomes)
{
	enum pix_outcome o;
	pix_attempt_view_t agendada = {"AGENDADA", NULL}, rej = {"REJEITADA", "AC06"},
			   rej_whole = {"REJEITADA", "MSUC"}, exp = {"EXPIRADA", NULL};
	cr_assert_eq(pix_cobr_outcome("CONCLUIDA", NULL, NULL, &o), 0);
	cr_assert_eq(o, PIX_OUT_PAID);
	cr_assert_eq(pix_cobr_outcome("ATIVA", &agendada, NULL, &o), 0);
	cr_assert_eq(o, PIX_OUT_PENDING);
	cr_assert_eq(pix_cobr_outcome("CRIADA", NULL, NULL, &o), 0);
	cr_assert_eq(o, PIX_OUT_PENDING);
	cr_assert_eq(pix_cobr_outcome("ATIVA", &rej, NULL, &o), 0);
	cr_assert_eq(o, PIX_OUT_ATTEMPT_FAILED);
	cr_assert_eq(pix_cobr_outcome("ATIVA", &exp, NULL, &o), 0);
	cr_assert_eq(o, PIX_OUT_ATTEMPT_FAILED);
	cr_assert_eq(pix_cobr_outcome("ATIVA", &rej_whole, NULL, &o), 0);
	cr_assert_eq(o, PIX_OUT_FAILED);
	cr_assert_eq(pix_cobr_outcome("REJEITADA", NULL, "AM09", &o), 0);
	cr_assert_eq(o, PIX_OUT_FAILED);
	cr_assert_eq(pix_cobr_outcome("EXPIRADA", NULL, NULL, &o), 0);
	cr_assert_eq(o, PIX_OUT_FAILED);
	cr_assert_eq(pix_cobr_outcome("CANCELADA", NULL, NULL, &o), 0);
	cr_assert_eq(o, PIX_OUT_CANCELED);
	cr_assert_eq(pix_cobr_canceled_by("USUARIO_PAGADOR"), PIX_OUT_FAILED);
	cr_assert_eq(pix_cobr_canceled_by("PSP_PAGADOR"), PIX_OUT_FAILED);
	cr_assert_eq(pix_cobr_canceled_by("USUARIO_RECEBEDOR"), PIX_OUT_CANCELED);
	cr_assert_eq(pix_cobr_canceled_by(NULL), PIX_OUT_CANCELED);
	cr_assert_eq(pix_cobr_outcome("PAGA", NULL, NULL, &o), -EINVAL);
	cr_assert_eq(pix_cobr_outcome(NULL, NULL, NULL, &o), -EINVAL);
}

/* Installment rules (core/installment.h): recording, its effect, periods, reconciliation. */
#include <criterion/criterion.h>
#include <errno.h>

#include "core/date.h"
#include "core/installment.h"
#include "core/order.h"

Test(installment, only_final_statuses_are_recorded)
{
	cr_assert(inst_recordable(INST_CONFIRMED));
	cr_assert(inst_recordable(INST_DENIED));
	cr_assert(inst_recordable(INST_CANCELED));
	cr_assert_not(inst_recordable(INST_WAITING));
	cr_assert_not(inst_recordable(0));
	cr_assert_not(inst_recordable(5));
}

Test(installment, record_check)
{
	int v = -1;
	cr_assert_null(inst_record_check(false, ORDER_OPEN, INST_WAITING, INST_CONFIRMED, &v));
	cr_assert_eq(v, INST_RECORD_CHANGE);
	cr_assert_null(inst_record_check(false, ORDER_CLOSED, INST_WAITING, INST_DENIED, &v));
	cr_assert_eq(v, INST_RECORD_CHANGE);
	/* A repeat is harmless, even on a canceled order. */
	cr_assert_null(inst_record_check(false, ORDER_CANCELED, INST_DENIED, INST_DENIED, &v));
	cr_assert_eq(v, INST_RECORD_SAME);
	cr_assert_not_null(inst_record_check(false, ORDER_OPEN, INST_CONFIRMED, INST_DENIED, &v));
	cr_assert_not_null(inst_record_check(false, ORDER_OPEN, INST_CANCELED, INST_CONFIRMED, &v));
	cr_assert_not_null(
		inst_record_check(false, ORDER_CANCELED, INST_WAITING, INST_CONFIRMED, &v));
	cr_assert_not_null(inst_record_check(true, ORDER_OPEN, INST_WAITING, INST_CONFIRMED, &v));
	cr_assert_not_null(inst_record_check(true, ORDER_OPEN, INST_CONFIRMED, INST_CONFIRMED, &v));
}

Test(installment, effect_on_the_order)
{
	cr_assert_eq(inst_record_effect(1, INST_CONFIRMED, ORDER_PAY_PENDING), INST_EFFECT_PAID);
	cr_assert_eq(inst_record_effect(1, INST_CONFIRMED, ORDER_PAY_ERROR), INST_EFFECT_PAID);
	cr_assert_eq(inst_record_effect(1, INST_CONFIRMED, ORDER_PAY_PAID), INST_EFFECT_NONE);
	cr_assert_eq(inst_record_effect(2, INST_CONFIRMED, ORDER_PAY_PENDING), INST_EFFECT_NONE);
	cr_assert_eq(inst_record_effect(1, INST_DENIED, ORDER_PAY_PENDING), INST_EFFECT_ERROR);
	cr_assert_eq(inst_record_effect(1, INST_DENIED, ORDER_PAY_PAID), INST_EFFECT_NONE);
	cr_assert_eq(inst_record_effect(2, INST_DENIED, ORDER_PAY_PAID), INST_EFFECT_NONE);
	cr_assert_eq(inst_record_effect(1, INST_CANCELED, ORDER_PAY_PENDING), INST_EFFECT_NONE);
}

static void period(int preset, int y, int m, int d, const char *from, const char *to)
{
	int64_t f, t;
	char fs[11], ts[11];
	cr_assert_eq(inst_period_days(preset, date_from_civil(y, m, d), &f, &t), 0);
	date_format(f, fs, sizeof(fs));
	date_format(t, ts, sizeof(ts));
	cr_assert_str_eq(fs, from);
	cr_assert_str_eq(ts, to);
}

Test(installment, periods)
{
	period(INST_PERIOD_TODAY, 2026, 3, 10, "2026-03-10", "2026-03-10");
	/* Weeks run Monday to Sunday: a Sunday ends its week, a Monday starts one. */
	period(INST_PERIOD_THIS_WEEK, 2026, 3, 10, "2026-03-09", "2026-03-15");
	period(INST_PERIOD_THIS_WEEK, 2026, 3, 15, "2026-03-09", "2026-03-15");
	period(INST_PERIOD_THIS_WEEK, 2026, 3, 16, "2026-03-16", "2026-03-22");
	period(INST_PERIOD_THIS_WEEK, 2026, 1, 1, "2025-12-29", "2026-01-04");
	period(INST_PERIOD_THIS_MONTH, 2024, 2, 10, "2024-02-01", "2024-02-29");
	period(INST_PERIOD_LAST_MONTH, 2026, 3, 31, "2026-02-01", "2026-02-28");
	period(INST_PERIOD_LAST_MONTH, 2026, 1, 15, "2025-12-01", "2025-12-31");
	int64_t f, t;
	cr_assert_eq(inst_period_days(0, 0, &f, &t), -EINVAL);
	cr_assert_eq(inst_period_days(5, 0, &f, &t), -EINVAL);
}

Test(installment, reconciliation_two_days_after_the_due_date)
{
	int64_t due = date_from_civil(2026, 4, 10);
	cr_assert_not(inst_reconcile_due(due, due));
	cr_assert_not(inst_reconcile_due(due, due + 1));
	cr_assert(inst_reconcile_due(due, due + 2));
	cr_assert(inst_reconcile_due(due, due + 40));
}

Test(installment, charges_as_report_statuses)
{
	cr_assert_eq(inst_status_of_charge(2), INST_CONFIRMED); /* approved */
	cr_assert_eq(inst_status_of_charge(3), INST_DENIED);    /* declined */
	cr_assert_eq(inst_status_of_charge(4), INST_DENIED);    /* error */
	cr_assert_eq(inst_status_of_charge(6), INST_DENIED);    /* no valid card */
	cr_assert_eq(inst_status_of_charge(1), INST_WAITING);   /* pending */
	cr_assert_eq(inst_status_of_charge(5), INST_WAITING);   /* unknown */
}

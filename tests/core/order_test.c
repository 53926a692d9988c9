#include <criterion/criterion.h>

#include "core/order.h"

Test(order, state_machine)
{
	cr_assert_null(order_transition_check(ORDER_NEW, ORDER_OPEN));
	cr_assert_null(order_transition_check(ORDER_OPEN, ORDER_CLOSED));
	cr_assert_null(order_transition_check(ORDER_OPEN, ORDER_CANCELED));
	cr_assert_str_eq(order_transition_check(ORDER_CLOSED, ORDER_CANCELED),
			 "the order is closed");
	cr_assert_str_eq(order_transition_check(ORDER_CANCELED, ORDER_CLOSED),
			 "the order is canceled");
	cr_assert_not_null(order_transition_check(ORDER_CLOSED, ORDER_OPEN));
	cr_assert_not_null(order_transition_check(ORDER_CANCELED, ORDER_OPEN));
	cr_assert_not_null(order_transition_check(ORDER_OPEN, ORDER_OPEN));
	cr_assert_not_null(order_transition_check(ORDER_NEW, ORDER_CLOSED));
	cr_assert(order_is_open(ORDER_OPEN));
	cr_assert_not(order_is_open(ORDER_CLOSED));
	cr_assert(order_holds_time(ORDER_OPEN));
	cr_assert(order_holds_time(ORDER_CLOSED));
	cr_assert_not(order_holds_time(ORDER_CANCELED));
	cr_assert_str_eq(order_status_name(ORDER_CANCELED), "CANCELED");
}

Test(order, technician_overlap)
{
	const int64_t h = 3600000;
	/* [10:00, 11:00) against others. */
	cr_assert(order_spans_overlap(10 * h, 60, 10 * h, 60));
	cr_assert(order_spans_overlap(10 * h, 60, 9 * h, 61));
	cr_assert_not(order_spans_overlap(10 * h, 60, 9 * h, 60), "touching ends");
	cr_assert_not(order_spans_overlap(10 * h, 60, 11 * h, 30), "touching starts");
	cr_assert(order_spans_overlap(10 * h, 60, 10 * h + 59 * 60000, 1));
	cr_assert(order_spans_overlap(10 * h, 60, 8 * h, 240), "contained");
	cr_assert(order_spans_overlap(8 * h, 240, 10 * h, 1), "contains");
	cr_assert_eq(order_end_ms(10 * h, 90), 11 * h + 30 * 60000);
}

Test(order, finalize_plans)
{
	int what = -1;
	cr_assert_null(order_finalize_plan(ORDER_METHOD_CASH, false, 0, &what));
	cr_assert_eq(what, ORDER_FINALIZE_CLOSE);
	cr_assert_null(order_finalize_plan(ORDER_METHOD_PIX, false, 1, &what));
	cr_assert_not_null(order_finalize_plan(ORDER_METHOD_BOLETO, false, 3, &what));
	cr_assert_null(order_finalize_plan(ORDER_METHOD_RECURRING_CREDIT, false, 12, &what));
	cr_assert_eq(what, ORDER_FINALIZE_MANUAL_INSTALLMENTS,
		     "MANUAL recurring credit: a schedule");
	cr_assert_null(order_finalize_plan(ORDER_METHOD_RECURRING_CREDIT, true, 3, &what));
	cr_assert_eq(what, ORDER_FINALIZE_START_PAYMENT);
	cr_assert_not_null(order_finalize_plan(ORDER_METHOD_RECURRING_CREDIT, true, 13, &what));
	cr_assert_not_null(order_finalize_plan(0, false, 0, &what));
	cr_assert_not_null(order_finalize_plan(9, false, 0, &what));
}

Test(order, finalize_closes_and_payment_status)
{
	/* docs/spec.md 10.1: every non-integrated plan closes; only the payment link waits. */
	cr_assert(order_finalize_closes(ORDER_FINALIZE_CLOSE));
	cr_assert(order_finalize_closes(ORDER_FINALIZE_MANUAL_INSTALLMENTS));
	cr_assert_not(order_finalize_closes(ORDER_FINALIZE_START_PAYMENT));
	cr_assert_eq(order_finalize_payment_status(ORDER_METHOD_CASH, ORDER_FINALIZE_CLOSE),
		     ORDER_PAY_PAID);
	cr_assert_eq(order_finalize_payment_status(ORDER_METHOD_PIX, ORDER_FINALIZE_CLOSE),
		     ORDER_PAY_PAID);
	cr_assert_eq(order_finalize_payment_status(ORDER_METHOD_CARD, ORDER_FINALIZE_CLOSE),
		     ORDER_PAY_PAID);
	cr_assert_eq(order_finalize_payment_status(ORDER_METHOD_BOLETO, ORDER_FINALIZE_CLOSE),
		     ORDER_PAY_NONE, "a boleto's payment is not heard of");
	cr_assert_eq(order_finalize_payment_status(ORDER_METHOD_RECURRING_CREDIT,
						   ORDER_FINALIZE_MANUAL_INSTALLMENTS),
		     ORDER_PAY_PENDING);
	cr_assert_eq(order_finalize_payment_status(ORDER_METHOD_RECURRING_CREDIT,
						   ORDER_FINALIZE_START_PAYMENT),
		     ORDER_PAY_PENDING);
}

Test(order, awaiting_scheduling)
{
	cr_assert_eq(order_schedule_status(true, false), ORDER_AWAITING);
	cr_assert_eq(order_schedule_status(true, true), ORDER_OPEN);
	cr_assert_eq(order_schedule_status(false, false), ORDER_OPEN, "no agenda to wait for");
	cr_assert_null(order_transition_check(ORDER_NEW, ORDER_AWAITING));
	cr_assert_null(order_transition_check(ORDER_AWAITING, ORDER_OPEN));
	cr_assert_null(order_transition_check(ORDER_OPEN, ORDER_AWAITING));
	cr_assert_null(order_transition_check(ORDER_AWAITING, ORDER_CANCELED));
	cr_assert_not_null(order_transition_check(ORDER_AWAITING, ORDER_CLOSED));
	cr_assert(order_is_editable(ORDER_AWAITING));
	cr_assert_not(order_is_open(ORDER_AWAITING), "not finalized");
	cr_assert_not(order_holds_time(ORDER_AWAITING));
	cr_assert_str_eq(order_status_name(ORDER_AWAITING), "AWAITING_SCHEDULING");
}

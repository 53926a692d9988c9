/*
 * Service-order rules (docs/spec.md 4.4): the status state machine, what an order's
 * status means for the agenda and the technician, and time overlap. Pure.
 *
 * status: OPEN -> CLOSED (finalized) or OPEN -> CANCELED; AWAITING (on an
 * agenda without a start) <-> OPEN as the start is given or removed, and
 * AWAITING -> CANCELED; nothing leaves CLOSED or CANCELED. OPEN and AWAITING
 * orders are edited and rescheduled; only OPEN ones are finalized.
 * A CANCELED order gives its place in the agenda and its technician's time
 * back; a CLOSED one keeps them (the work happened then).
 */
#ifndef OSPAY_CORE_ORDER_H
#define OSPAY_CORE_ORDER_H

#include <stdbool.h>
#include <stdint.h>

/* Numbers as in proto OrderStatus, OrderPaymentStatus and PaymentMethodType. */
enum order_status {
	ORDER_NEW = 0, /* the "from" of an order's creation */
	ORDER_OPEN = 1,
	ORDER_CLOSED = 2,
	ORDER_CANCELED = 3,
	ORDER_AWAITING = 4, /* on an agenda without a start: aguardando agendamento */
};

enum order_pay_status {
	ORDER_PAY_NONE = 1,
	ORDER_PAY_PENDING = 2,
	ORDER_PAY_ERROR = 3,
	ORDER_PAY_PAID = 4,
};

enum order_method {
	ORDER_METHOD_CASH = 1,
	ORDER_METHOD_PIX = 2,
	ORDER_METHOD_BOLETO = 3,
	ORDER_METHOD_CARD = 4,
	ORDER_METHOD_RECURRING_CREDIT = 5,
};

/* Longest order: a day. Bounds how far back an overlapping order can start. */
#define ORDER_MAX_DURATION_MIN 1440
#define ORDER_MAX_INSTALLMENTS 12

/* "OPEN", "CLOSED", "CANCELED" or "?". */
const char *order_status_name(int status);

/* May an order go from -> to? NULL, or why not (static). */
const char *order_transition_check(int from, int to);

/* OPEN: the order may be finalized and paid. */
bool order_is_open(int status);

/* OPEN or AWAITING: the order may be edited, rescheduled and canceled. */
bool order_is_editable(int status);

/*
 * The status an editable (or new, ORDER_NEW) order takes from its schedule:
 * AWAITING on an agenda without a start, else OPEN.
 */
int order_schedule_status(bool has_agenda, bool scheduled);

/* Does an order in this status hold its agenda place and its technician's time? */
bool order_holds_time(int status);

/* End of [start, start + minutes). */
int64_t order_end_ms(int64_t start_ms, uint32_t minutes);

/* Do [a, a + am) and [b, b + bm) share any instant? Touching ends do not overlap. */
bool order_spans_overlap(int64_t a_ms, uint32_t am, int64_t b_ms, uint32_t bm);

/* What Finalize does with a method (docs/spec.md 4.4, 10.1). */
enum order_finalize {
	ORDER_FINALIZE_CLOSE,         /* non-integrated, no installments: closes at once */
	ORDER_FINALIZE_START_PAYMENT, /* integrated recurring credit: stays OPEN, PENDING */
	/* MANUAL recurring credit: closes at once with a schedule of WAITING
	 * installments that operators record later (Billing/RecordInstallment). */
	ORDER_FINALIZE_MANUAL_INSTALLMENTS,
};

/*
 * Checks a Finalize's method and installments and says what happens. Returns
 * NULL and sets *what, or why not (static) naming the bad input.
 */
const char *order_finalize_plan(int method, bool integrated, uint32_t installments, int *what);

/* Does Finalize with that plan close the order at once? Only the integrated flow waits. */
bool order_finalize_closes(int what);

/*
 * The payment status Finalize gives an order (ORDER_PAY_*, docs/spec.md 10.1): PAID
 * for a method paid at once (cash, PIX, card: none of them runs through a
 * gateway); NONE for a boleto, whose payment ospay never hears of; PENDING
 * for recurring credit, integrated or MANUAL, until its first installment is
 * in.
 */
int order_finalize_payment_status(int method, int what);

#endif

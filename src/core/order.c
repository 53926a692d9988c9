#include "core/order.h"

#include <stddef.h>

const char *order_status_name(int status)
{
	switch (status) {
	case ORDER_OPEN:
		return "OPEN";
	case ORDER_CLOSED:
		return "CLOSED";
	case ORDER_CANCELED:
		return "CANCELED";
	case ORDER_AWAITING:
		return "AWAITING_SCHEDULING";
	default:
		return "?";
	}
}

const char *order_transition_check(int from, int to)
{
	if (from == ORDER_NEW && (to == ORDER_OPEN || to == ORDER_AWAITING))
		return NULL;
	if (from == ORDER_AWAITING && (to == ORDER_OPEN || to == ORDER_CANCELED))
		return NULL;
	if (from == ORDER_OPEN && to == ORDER_AWAITING)
		return NULL;
	if (from == ORDER_AWAITING && to == ORDER_CLOSED)
		return "the order awaits scheduling: schedule it first";
	if (from == ORDER_OPEN && (to == ORDER_CLOSED || to == ORDER_CANCELED))
		return NULL;
	if (from == ORDER_CLOSED)
		return "the order is closed";
	if (from == ORDER_CANCELED)
		return "the order is canceled";
	return "that status change is not allowed";
}

bool order_is_open(int status)
{
	return status == ORDER_OPEN;
}

bool order_is_editable(int status)
{
	return status == ORDER_OPEN || status == ORDER_AWAITING;
}

int order_schedule_status(bool has_agenda, bool scheduled)
{
	return has_agenda && !scheduled ? ORDER_AWAITING : ORDER_OPEN;
}

bool order_holds_time(int status)
{
	return status == ORDER_OPEN || status == ORDER_CLOSED;
}

int64_t order_end_ms(int64_t start_ms, uint32_t minutes)
{
	return start_ms + (int64_t)minutes * 60000;
}

bool order_spans_overlap(int64_t a_ms, uint32_t am, int64_t b_ms, uint32_t bm)
{
	return a_ms < order_end_ms(b_ms, bm) && b_ms < order_end_ms(a_ms, am);
}

const char *order_finalize_plan(int method, bool integrated, uint32_t installments, int *what)
{
	switch (method) {
	case ORDER_METHOD_CASH:
	case ORDER_METHOD_PIX:
	case ORDER_METHOD_BOLETO:
	case ORDER_METHOD_CARD:
		if (installments > 1)
			return "installments are only for recurring credit";
		*what = ORDER_FINALIZE_CLOSE;
		return NULL;
	case ORDER_METHOD_RECURRING_CREDIT:
		if (installments > ORDER_MAX_INSTALLMENTS)
			return "installments must be 1..12";
		*what = integrated ? ORDER_FINALIZE_START_PAYMENT
				   : ORDER_FINALIZE_MANUAL_INSTALLMENTS;
		return NULL;
	default:
		return "unknown payment method type";
	}
}

bool order_finalize_closes(int what)
{
	return what != ORDER_FINALIZE_START_PAYMENT;
}

int order_finalize_payment_status(int method, int what)
{
	if (what != ORDER_FINALIZE_CLOSE)
		return ORDER_PAY_PENDING;
	switch (method) {
	case ORDER_METHOD_CASH:
	case ORDER_METHOD_PIX:
	case ORDER_METHOD_CARD:
		return ORDER_PAY_PAID;
	default:
		/* A boleto is paid days later, at a bank ospay does not hear from. */
		return ORDER_PAY_NONE;
	}
}

#include "core/installment.h"

#include <errno.h>

#include "core/date.h"
#include "core/order.h"

bool inst_recordable(int status)
{
	return status == INST_CONFIRMED || status == INST_DENIED || status == INST_CANCELED;
}

const char *inst_record_check(bool integrated, int order_status, int cur, int next, int *verdict)
{
	if (integrated)
		return "the order's installments are charged by PagoLivre (INTEGRATED); only "
		       "MANUAL installments are recorded";
	if (cur == next) {
		*verdict = INST_RECORD_SAME;
		return NULL;
	}
	if (cur != INST_WAITING)
		return "the installment already has a final status";
	if (order_status == ORDER_CANCELED)
		return "the order is canceled";
	*verdict = INST_RECORD_CHANGE;
	return NULL;
}

enum inst_effect inst_record_effect(uint32_t number, int next, int pay_status)
{
	if (number != 1)
		return INST_EFFECT_NONE;
	if (next == INST_CONFIRMED && pay_status != ORDER_PAY_PAID)
		return INST_EFFECT_PAID;
	if (next == INST_DENIED && pay_status == ORDER_PAY_PENDING)
		return INST_EFFECT_ERROR;
	return INST_EFFECT_NONE;
}

int inst_period_days(int preset, int64_t today, int64_t *from, int64_t *to)
{
	switch (preset) {
	case INST_PERIOD_TODAY:
		*from = *to = today;
		return 0;
	case INST_PERIOD_THIS_WEEK: {
		/* Monday to Sunday: weekday 0 is Sunday. */
		int wd = date_weekday(today);
		*from = today - (wd == 0 ? 6 : wd - 1);
		*to = *from + 6;
		return 0;
	}
	case INST_PERIOD_THIS_MONTH:
		*from = date_month_start(today);
		*to = date_next_month_start(today) - 1;
		return 0;
	case INST_PERIOD_LAST_MONTH:
		*to = date_month_start(today) - 1;
		*from = date_month_start(*to);
		return 0;
	default:
		return -EINVAL;
	}
}

bool inst_reconcile_due(int64_t due_day, int64_t today)
{
	return today >= due_day + INST_RECONCILE_DAYS;
}

int inst_status_of_charge(int charge_status)
{
	switch (charge_status) {
	case 2: /* APPROVED */
		return INST_CONFIRMED;
	case 3: /* DECLINED */
	case 4: /* ERROR */
	case 6: /* NO_VALID_CARD */
		return INST_DENIED;
	case 8:  /* VOIDING: approved for a closed invoice, being given back */
	case 9:  /* VOIDED */
	case 10: /* CANCELED: a Pix instruction canceled before its due date */
		return INST_CANCELED;
	default: /* PENDING, UNKNOWN, OPERATOR_REVIEW */
		return INST_WAITING;
	}
}

/*
 * Installment rules (docs/spec.md 4.6, 4.9): what an operator may record on a MANUAL
 * installment and what that does to its order, the report's periods, when an
 * INTEGRATED installment is overdue for reconciliation, and how a recurring
 * card charge reads as a report row. Pure.
 */
#ifndef OSPAY_CORE_INSTALLMENT_H
#define OSPAY_CORE_INSTALLMENT_H

#include <stdbool.h>
#include <stdint.h>

/* Numbers as in proto InstallmentStatus, InstallmentMode and ReportPeriod. */
enum inst_status {
	INST_WAITING = 1,
	INST_CONFIRMED = 2,
	INST_DENIED = 3,
	INST_CANCELED = 4,
};

enum inst_mode {
	INST_MODE_INTEGRATED = 1,
	INST_MODE_MANUAL = 2,
	INST_MODE_AUTOMATIC_CARD = 3,
};

enum inst_period {
	INST_PERIOD_TODAY = 1,
	INST_PERIOD_THIS_WEEK = 2,
	INST_PERIOD_THIS_MONTH = 3,
	INST_PERIOD_LAST_MONTH = 4,
};

/* Days after the due date from which an INTEGRATED installment is queried. */
#define INST_RECONCILE_DAYS 2
#define INST_REASON_MAX 500

/* A status an operator may record: CONFIRMED, DENIED, CANCELED. */
bool inst_recordable(int status);

/* What recording does. */
enum inst_record {
	INST_RECORD_SAME,   /* already so: nothing changes (a repeat) */
	INST_RECORD_CHANGE, /* the installment changes */
};

/*
 * May an installment in status cur of an order (integrated or MANUAL, order
 * status as in core/order.h) be recorded as next (a recordable status)?
 * NULL with *verdict set, or why not (static): a precondition failure.
 */
const char *inst_record_check(bool integrated, int order_status, int cur, int next, int *verdict);

/* What a recorded installment does to its order. */
enum inst_effect {
	INST_EFFECT_NONE,
	INST_EFFECT_PAID,  /* the first installment confirmed: CLOSED, payment PAID */
	INST_EFFECT_ERROR, /* the first installment denied: payment ERROR with the reason */
};
enum inst_effect inst_record_effect(uint32_t number, int next, int pay_status);

/* The inclusive local days of a preset period around today. 0 or -EINVAL. */
int inst_period_days(int preset, int64_t today, int64_t *from, int64_t *to);

/* Is an INTEGRATED installment still WAITING and due on due_day overdue today? */
bool inst_reconcile_due(int64_t due_day, int64_t today);

/* The report status of a charge attempt (proto ChargeStatus): approved is
 * CONFIRMED, declined / error / no valid card DENIED, pending / unknown WAITING. */
int inst_status_of_charge(int charge_status);

#endif

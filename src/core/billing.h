/*
 * The automatic recurring card charge of docs/spec.md 4.7 as decisions: given what
 * is stored about an invoice and its attempts, and today's local day, what
 * must the billing run do now? Also the card to charge, the merchant order id
 * sent to the gateway, and suspension (is a service BLOCKED today?). Pure
 * functions, no I/O: the run gathers the facts, asks, acts and stores.
 *
 * The schedule (docs/billing.md, "The attempt schedule"):
 * - at most BILLING_MAX_ATTEMPTS attempts, at most one per local day, only on
 *   the due day D and on D+1;
 * - attempts are numbered in the order they are made: the first attempt is
 *   number 1 whatever its day. An attempt missed on D (downtime, recurrence
 *   off that day) is made on D+1 as attempt 1, and then there is no attempt
 *   2, since D+2 is outside the window;
 * - an attempt whose outcome is UNKNOWN is resolved (gateway query by its
 *   merchant order id) before anything else happens to the invoice, on any
 *   day and whatever the invoice's status or settings;
 * - no attempt after a success or after an irreversible decline.
 */
#ifndef OSPAY_CORE_BILLING_H
#define OSPAY_CORE_BILLING_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/card.h"

#define BILLING_MAX_ATTEMPTS 2
/* "<20-digit invoice id>A<attempt>" and NUL. */
#define BILLING_ORDER_ID_LEN 22
#define BILLING_ORDER_ID_SIZE (BILLING_ORDER_ID_LEN + 1)
/* Suspension profile bounds, in days after the due date (0 = never block). */
#define BILLING_SUSPENSION_MIN_DAYS 2
#define BILLING_SUSPENSION_MAX_DAYS 365

enum billing_invoice_status {
	BILLING_INVOICE_UNSPECIFIED = 0,
	BILLING_INVOICE_OPEN = 1,
	BILLING_INVOICE_PAID = 2,
	BILLING_INVOICE_CANCELED = 3,
};

/* What one attempt came to. */
enum billing_result {
	BILLING_RESULT_UNSPECIFIED = 0,
	BILLING_RESULT_SUCCESS = 1,       /* the gateway took the money */
	BILLING_RESULT_DECLINED = 2,      /* the issuer said no (return code stored) */
	BILLING_RESULT_ERROR = 3,         /* failed without a charge (gateway error, voided) */
	BILLING_RESULT_UNKNOWN = 4,       /* timeout, crash mid-call: must be queried */
	BILLING_RESULT_NO_VALID_CARD = 5, /* recorded without calling the gateway */
};

/* One stored attempt, as the decision needs it. */
typedef struct billing_attempt {
	int number;  /* 1..BILLING_MAX_ATTEMPTS, in order */
	int64_t day; /* local day it was made */
	enum billing_result result;
	/*
	 * The gateway's return code (not owned, may be NULL). Informational: the
	 * decision reads `irreversible`, fixed when the attempt was stored, so a
	 * later change of the decline table never rewrites history.
	 */
	const char *return_code;
	bool irreversible; /* DECLINED with an irreversible code (declines.h) */
	/* The brand's rules (core/retry.h), fixed when the decline was stored:
	 * no retry at all, or none before next_retry_ms (0: no wait). */
	bool retry_refused;
	int64_t next_retry_ms;
	/* The card charged (0: not known). A decline's verdicts bind that card
	 * only: a replacement card (Renova Fácil) may still be charged. */
	uint64_t card_id;
} billing_attempt_t;

/* A card on file, as far as choosing it goes. */
typedef struct billing_card {
	uint64_t id;
	card_expiry_t expiry;
} billing_card_t;

/* Everything the decision looks at; the caller owns every pointer. */
typedef struct billing_input {
	enum billing_invoice_status status;
	int64_t due_day;
	int64_t amount;                     /* centavos */
	bool service_recurring;             /* the service's recurring_payment.enabled */
	bool org_automatic_recurrence;      /* the gateway's allow_automatic_recurrence */
	const billing_card_t *chosen;       /* the service's card; NULL if none or removed */
	const billing_card_t *default_card; /* the customer's default; NULL if no card */
	const billing_attempt_t *attempts;  /* in order, n_attempts of them */
	size_t n_attempts;
	int64_t now_ms; /* for the brand's wait before a retry */
} billing_input_t;

enum billing_action {
	BILLING_ACTION_NOTHING = 0,
	BILLING_ACTION_CHARGE = 1,               /* call the gateway: attempt `attempt`, card_id */
	BILLING_ACTION_RESOLVE_UNKNOWN = 2,      /* query the gateway for attempt `attempt` */
	BILLING_ACTION_RECORD_NO_VALID_CARD = 3, /* store attempt `attempt` as NO_VALID_CARD */
};

/* Why nothing is done (BILLING_REASON_NONE when an action is due). */
enum billing_reason {
	BILLING_REASON_NONE = 0,
	BILLING_REASON_PAID,
	BILLING_REASON_CANCELED,
	BILLING_REASON_SUCCEEDED,           /* an attempt succeeded: the invoice is being paid */
	BILLING_REASON_IRREVERSIBLE,        /* the last attempt got an irreversible decline */
	BILLING_REASON_MAX_ATTEMPTS,        /* both attempts made */
	BILLING_REASON_AUTO_RECURRENCE_OFF, /* the organization's gateway setting */
	BILLING_REASON_SERVICE_RECURRENCE_OFF,
	BILLING_REASON_NO_AMOUNT,     /* nothing to charge */
	BILLING_REASON_NOT_DUE,       /* before the due day */
	BILLING_REASON_WINDOW_CLOSED, /* after the day after the due day */
	BILLING_REASON_ATTEMPTED_TODAY,
	BILLING_REASON_BRAND_RULE, /* the card's brand forbids another attempt */
	BILLING_REASON_BRAND_WAIT, /* the brand's wait before a retry is not over */
};

typedef struct billing_decision {
	enum billing_action action;
	enum billing_reason reason;
	int attempt;      /* the attempt to make, record or resolve; 0 with NOTHING */
	uint64_t card_id; /* CHARGE: the card to charge; else 0 */
} billing_decision_t;

/*
 * What the run must do now for one invoice on local day today (docs/spec.md 4.7).
 * Fills out and returns 0; -EINVAL (out = NOTHING) when the input cannot be
 * right: more than BILLING_MAX_ATTEMPTS attempts, numbers not 1, 2 in order,
 * days going backwards, two attempts on one day, an unknown status or result.
 */
int billing_decide(const billing_input_t *in, int64_t today, billing_decision_t *out);

/*
 * The card to charge on today: the chosen card if it is still valid, else the
 * default card if valid, else 0 (no valid card). Either may be NULL.
 */
uint64_t billing_choose_card(const billing_card_t *chosen, const billing_card_t *default_card,
			     int64_t today);

/*
 * The merchant order id of attempt number `attempt` of invoice_id, the same
 * every time it is asked: "<invoice id, 20 digits>A<attempt>", e.g.
 * "00000000000000000042A1". Cielo takes only letters and digits (at most 50);
 * GetNet takes any string. 0, or -EINVAL for id 0 or an attempt out of range.
 */
int billing_order_id(uint64_t invoice_id, int attempt, char out[BILLING_ORDER_ID_SIZE]);

/*
 * Operator charges of an invoice (Billing/ChargeInvoice), numbered 1.. in
 * their own series: "<invoice id, 20 digits>M<n>", never equal to an id of
 * billing_order_id. 0, or -EINVAL for id 0 or n out of 1..BILLING_MAX_OPERATOR_CHARGES.
 */
#define BILLING_MAX_OPERATOR_CHARGES 99
#define BILLING_OP_ORDER_ID_SIZE (20 + 1 + 2 + 1)
int billing_operator_order_id(uint64_t invoice_id, int n, char out[BILLING_OP_ORDER_ID_SIZE]);

/* The inverse of billing_order_id (for webhooks and queries); 0 or -EINVAL. */
int billing_order_id_parse(const char *s, uint64_t *invoice_id, int *attempt);
/* The invoice of either series (run "…A<n>", operator "…M<n>"): the 20-digit
 * prefix, for matching a gateway's order id to a charge; 0 or -EINVAL. */
int billing_order_id_invoice(const char *s, uint64_t *invoice_id);

/*
 * A suspension profile's number of days: 0 (never block) or
 * BILLING_SUSPENSION_MIN_DAYS..BILLING_SUSPENSION_MAX_DAYS. NULL or the reason.
 */
const char *billing_check_suspension_days(int days);

/*
 * The first local day on which an unpaid invoice due on due_day blocks its
 * service, or INT64_MAX when days is 0 (never).
 */
int64_t billing_block_day(int64_t due_day, int days);

/*
 * True when an invoice in status, due on due_day, blocks its service on
 * today under a profile of `days`: it is OPEN and today >= billing_block_day.
 * Paying (or canceling) the invoice unblocks at once.
 */
bool billing_blocks_service(enum billing_invoice_status status, int64_t due_day, int days,
			    int64_t today);

/* Stable lowercase names for logs and stored reasons ("not due", "charge"...). */
const char *billing_action_name(enum billing_action a);
const char *billing_reason_name(enum billing_reason r);
const char *billing_result_name(enum billing_result r);

#endif

#include "core/billing.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

static bool result_known(enum billing_result r)
{
	return r >= BILLING_RESULT_SUCCESS && r <= BILLING_RESULT_NO_VALID_CARD;
}

/* The stored history must be one the run could have written. */
static bool attempts_consistent(const billing_attempt_t *a, size_t n)
{
	bool ok = n <= BILLING_MAX_ATTEMPTS && (n == 0 || a != NULL);
	for (size_t i = 0; ok && i < n; i++) {
		ok = a[i].number == (int)i + 1 && result_known(a[i].result);
		/* One attempt per day: a second the same day would be a retry burst. */
		if (ok && i > 0)
			ok = a[i].day > a[i - 1].day;
	}
	return ok;
}

static void decide_nothing(billing_decision_t *out, enum billing_reason reason)
{
	out->action = BILLING_ACTION_NOTHING;
	out->reason = reason;
	out->attempt = 0;
	out->card_id = 0;
}

int billing_decide(const billing_input_t *in, int64_t today, billing_decision_t *out)
{
	int rc = 0;
	size_t n = in->n_attempts;
	const billing_attempt_t *a = in->attempts;
	const billing_attempt_t *last = NULL;

	decide_nothing(out, BILLING_REASON_NONE);
	if (!attempts_consistent(a, n) ||
	    (in->status != BILLING_INVOICE_OPEN && in->status != BILLING_INVOICE_PAID &&
	     in->status != BILLING_INVOICE_CANCELED)) {
		rc = -EINVAL;
		goto out;
	}
	/*
	 * First of all, an attempt nobody knows the outcome of: the card may have
	 * been charged. This comes before the invoice's status and settings on
	 * purpose: a canceled invoice or a switched-off recurrence still needs to
	 * know whether money was taken (it may have to be refunded).
	 */
	for (size_t i = 0; i < n; i++) {
		if (a[i].result == BILLING_RESULT_UNKNOWN) {
			out->action = BILLING_ACTION_RESOLVE_UNKNOWN;
			out->attempt = a[i].number;
			goto out;
		}
	}
	if (in->status == BILLING_INVOICE_PAID) {
		decide_nothing(out, BILLING_REASON_PAID);
		goto out;
	}
	if (in->status == BILLING_INVOICE_CANCELED) {
		decide_nothing(out, BILLING_REASON_CANCELED);
		goto out;
	}
	for (size_t i = 0; i < n; i++) {
		if (a[i].result == BILLING_RESULT_SUCCESS) {
			decide_nothing(out, BILLING_REASON_SUCCEEDED);
			goto out;
		}
	}
	last = n > 0 ? &a[n - 1] : NULL;
	uint64_t card = billing_choose_card(in->chosen, in->default_card, today);
	/* A decline says nothing about another card (one that replaced it). */
	bool same = last != NULL && (last->card_id == 0 || card == 0 || last->card_id == card);
	if (same && last->result == BILLING_RESULT_DECLINED && last->irreversible) {
		decide_nothing(out, BILLING_REASON_IRREVERSIBLE);
		goto out;
	}
	if (same && last->result == BILLING_RESULT_DECLINED && last->retry_refused) {
		decide_nothing(out, BILLING_REASON_BRAND_RULE);
		goto out;
	}
	if (n >= BILLING_MAX_ATTEMPTS) {
		decide_nothing(out, BILLING_REASON_MAX_ATTEMPTS);
		goto out;
	}
	if (today < in->due_day) {
		decide_nothing(out, BILLING_REASON_NOT_DUE);
		goto out;
	}
	/* Catch-up reaches back one day, never more (docs/spec.md 4.7: "never later"). */
	if (today > in->due_day + 1) {
		decide_nothing(out, BILLING_REASON_WINDOW_CLOSED);
		goto out;
	}
	if (last != NULL && last->day >= today) {
		decide_nothing(out, BILLING_REASON_ATTEMPTED_TODAY);
		goto out;
	}
	/*
	 * The settings are read on the day of each attempt: switching recurrence
	 * on during the window still lets the day's attempt happen.
	 */
	if (!in->org_automatic_recurrence) {
		decide_nothing(out, BILLING_REASON_AUTO_RECURRENCE_OFF);
		goto out;
	}
	if (!in->service_recurring) {
		decide_nothing(out, BILLING_REASON_SERVICE_RECURRENCE_OFF);
		goto out;
	}
	if (in->amount <= 0) {
		decide_nothing(out, BILLING_REASON_NO_AMOUNT);
		goto out;
	}
	/* A retry waits as long as the brand asked (Mastercard's advice codes). */
	if (same && last->result == BILLING_RESULT_DECLINED && last->next_retry_ms > in->now_ms) {
		decide_nothing(out, BILLING_REASON_BRAND_WAIT);
		goto out;
	}
	out->attempt = (int)n + 1;
	out->card_id = card;
	out->action =
		out->card_id != 0 ? BILLING_ACTION_CHARGE : BILLING_ACTION_RECORD_NO_VALID_CARD;
out:
	return rc;
}

static bool card_usable(const billing_card_t *c, int64_t today)
{
	return c != NULL && c->id != 0 && card_expiry_valid_on(c->expiry, today);
}

uint64_t billing_choose_card(const billing_card_t *chosen, const billing_card_t *default_card,
			     int64_t today)
{
	uint64_t id = 0;
	if (card_usable(chosen, today))
		id = chosen->id;
	else if (card_usable(default_card, today))
		id = default_card->id;
	return id;
}

int billing_order_id(uint64_t invoice_id, int attempt, char out[BILLING_ORDER_ID_SIZE])
{
	int rc = 0;
	out[0] = '\0';
	if (invoice_id == 0 || attempt < 1 || attempt > BILLING_MAX_ATTEMPTS) {
		rc = -EINVAL;
		goto out;
	}
	/*
	 * Zero-padded so every id has the same length and sorts like the invoice
	 * ids; 'A' separates because Cielo refuses '-' in MerchantOrderId.
	 */
	snprintf(out, BILLING_ORDER_ID_SIZE, "%020" PRIu64 "A%d", invoice_id, attempt);
out:
	return rc;
}

int billing_operator_order_id(uint64_t invoice_id, int n, char out[BILLING_OP_ORDER_ID_SIZE])
{
	out[0] = '\0';
	if (invoice_id == 0 || n < 1 || n > BILLING_MAX_OPERATOR_CHARGES)
		return -EINVAL;
	/* 'M' (manual) where the run's ids have 'A': the two series never meet. */
	snprintf(out, BILLING_OP_ORDER_ID_SIZE, "%020" PRIu64 "M%d", invoice_id, n);
	return 0;
}

/* The 20 zero-padded digits both series start with; 0, or -EINVAL. */
static int order_id_invoice(const char *s, uint64_t *invoice_id)
{
	uint64_t id = 0;
	for (int i = 0; i < 20; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -EINVAL;
		unsigned d = (unsigned)(s[i] - '0');
		/* Twenty digits can exceed UINT64_MAX; such an id was never ours. */
		if (id > (UINT64_MAX - d) / 10)
			return -EINVAL;
		id = id * 10 + d;
	}
	if (id == 0)
		return -EINVAL;
	*invoice_id = id;
	return 0;
}

int billing_order_id_parse(const char *s, uint64_t *invoice_id, int *attempt)
{
	uint64_t id = 0;
	if (s == NULL || strnlen(s, BILLING_ORDER_ID_SIZE) != BILLING_ORDER_ID_LEN ||
	    s[20] != 'A' || s[21] < '1' || s[21] > '0' + BILLING_MAX_ATTEMPTS ||
	    order_id_invoice(s, &id) != 0)
		return -EINVAL;
	*invoice_id = id;
	*attempt = s[21] - '0';
	return 0;
}

int billing_order_id_invoice(const char *s, uint64_t *invoice_id)
{
	size_t n = s != NULL ? strnlen(s, BILLING_OP_ORDER_ID_SIZE) : 0;
	if (n < BILLING_ORDER_ID_LEN || n >= BILLING_OP_ORDER_ID_SIZE ||
	    (s[20] != 'A' && s[20] != 'M'))
		return -EINVAL;
	return order_id_invoice(s, invoice_id);
}

const char *billing_check_suspension_days(int days)
{
	const char *reason = NULL;
	/*
	 * Blocking comes only after an invoice is "still unpaid after its
	 * attempts" (docs/spec.md 4.7), and attempt 2 is on the day after the due day.
	 */
	if (days != 0 && (days < BILLING_SUSPENSION_MIN_DAYS || days > BILLING_SUSPENSION_MAX_DAYS))
		reason = "must be 0 (never block) or 2 to 365 days after the due date";
	return reason;
}

int64_t billing_block_day(int64_t due_day, int days)
{
	return days > 0 ? due_day + days : INT64_MAX;
}

bool billing_blocks_service(enum billing_invoice_status status, int64_t due_day, int days,
			    int64_t today)
{
	return status == BILLING_INVOICE_OPEN && days > 0 &&
	       today >= billing_block_day(due_day, days);
}

const char *billing_action_name(enum billing_action a)
{
	static const char *const names[] = {"nothing", "charge", "resolve unknown",
					    "record no valid card"};
	const char *name = "?";
	if ((int)a >= 0 && (size_t)a < sizeof(names) / sizeof(names[0]))
		name = names[a];
	return name;
}

const char *billing_reason_name(enum billing_reason r)
{
	static const char *const names[] = {
		"none",
		"paid",
		"canceled",
		"an attempt succeeded",
		"irreversible decline",
		"max attempts reached",
		"automatic recurrence off for the organization",
		"recurring payment off for the service",
		"no amount to charge",
		"not due",
		"outside the charge window",
		"already attempted today",
		"the card brand's rules allow no other attempt",
		"the card brand's wait before a retry is not over",
	};
	const char *name = "?";
	if ((int)r >= 0 && (size_t)r < sizeof(names) / sizeof(names[0]))
		name = names[r];
	return name;
}

const char *billing_result_name(enum billing_result r)
{
	static const char *const names[] = {"unspecified", "success", "declined",
					    "error",       "unknown", "no valid card"};
	const char *name = "?";
	if ((int)r >= 0 && (size_t)r < sizeof(names) / sizeof(names[0]))
		name = names[r];
	return name;
}

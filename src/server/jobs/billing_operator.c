/*
 * Billing/ChargeInvoice's machinery: an operator's charge of an OPEN invoice,
 * run by the billing run's jobs with the request at its end.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "server/jobs/billing_job.h"

/* ------------------------------------------------------------------ ChargeInvoice */

/*
 * An operator's charge of an OPEN invoice (after its automatic attempts
 * failed, typically): the run's machinery with a request at its end. The
 * attempt is stored PENDING (durable) before the call, its outcome written by
 * the call's finishing write, APPROVED paying the invoice and unblocking its
 * service there too (bill_outcome_fn). Customer-initiated at the gateway (no
 * Recurrent flag), its own merchant order id series ("M<n>"); an unknown
 * outcome is left UNKNOWN for the run's phase 0 to resolve by query.
 */

static void manual_forget(struct srv_billing *b, uint64_t invoice)
{
	for (unsigned i = 0; i < b->n_manual; i++) {
		if (b->manual[i] == invoice) {
			b->manual[i] = b->manual[--b->n_manual];
			return;
		}
	}
}

/* The call's end releases the job (async_free): in flight no more. */
static void manual_free(void *arg)
{
	bill_job_t *j = arg;
	manual_forget(j->b, j->c.invoice_id);
	/* Its answer lost: resolved from now on, like the run's own. */
	if (!j->b->life.stopping && (j->c.status == CHG(UNKNOWN) || j->c.status == CHG(PENDING) ||
				     j->c.status == CHG(VOIDING)))
		bill_resolve_arm(j->b, j->c.status == CHG(VOIDING) ? 0 : BILL_RESOLVE_FIRST_MS);
	/* Paid: a Pix instruction of the invoice is canceled now, not at the next run. */
	if (!j->b->life.stopping && j->c.status == CHG(APPROVED))
		bill_resolve_arm(j->b, 0);
	struct srv_billing *b = j->b;
	bill_job_free(j);
	if (b->life.stopping)
		srv_job_release(&b->life);
}

/*
 * The brand's rules for an operator's retry of card on invoice (after earlier
 * charges of it): refused when a decline of this card for the invoice said
 * never, or when the card's reattempts in 30 days are used up (Visa). 0 with
 * r->st set when refused (counted for /metrics), or a store error.
 */
static int brand_allows(srv_req_t *r, store_txn_t *txn, const Ospay__V1__Invoice *inv,
			const Ospay__V1__Card *card)
{
	db_scan_t *scan = NULL;
	const uint8_t *val;
	const char *never = NULL;
	char advice[96] = "";
	int64_t wait_until = 0;
	size_t n = 0;
	int rc = db_scan_id(txn, DB_CHG_INVOICE, inv->id, &scan);
	while (rc == 0 && never == NULL && (rc = db_scan_next(scan, &val)) == 0) {
		Ospay__V1__Charge *c = NULL;
		rc = bill_charge_at(txn, val, &c);
		bool judged = rc == 0 && c->card_id == card->id && c->status == CHG(DECLINED) &&
			      c->decline_class[0] != '\0';
		if (judged && c->next_retry_ms == 0) {
			bill_copy_str(advice, sizeof(advice), c->advice);
			never = advice;
		} else if (judged && c->next_retry_ms > r->now_ms &&
			   c->next_retry_ms > wait_until) {
			/* The brand's wait (Mastercard's advice codes) binds operators too. */
			bill_copy_str(advice, sizeof(advice), c->advice);
			wait_until = c->next_retry_ms;
		}
		ospay__v1__charge__free_unpacked(c, NULL);
	}
	db_scan_close(scan);
	if (rc != -ENOENT && rc != 0)
		return srv_store_fail(r, rc, "charges lookup");
	rc = bill_card_reattempts(txn, card->organization_id, card->id, r->now_ms, 0, &n);
	if (rc != 0)
		return srv_store_fail(r, rc, "charges lookup");
	if (never == NULL && wait_until == 0 &&
	    retry_window_allows((enum card_brand)card->brand, n))
		return 0;
	billing_run_count_refused(r->srv);
	if (never == NULL && wait_until != 0)
		return srv_fail(r, ST_FAILED_PRECONDITION,
				"card %" PRIu64 " may be charged again for invoice %" PRIu64
				" from %" PRId64 " ms (%s)",
				card->id, inv->id, wait_until, advice);
	if (never != NULL)
		return srv_fail(r, ST_FAILED_PRECONDITION,
				"card %" PRIu64 " may not be charged again for invoice %" PRIu64
				" (%s); use another card",
				card->id, inv->id, never);
	return srv_fail(r, ST_FAILED_PRECONDITION,
			"card %" PRIu64 " had %zu reattempts in 30 days; Visa allows %d", card->id,
			n, RETRY_VISA_MAX);
}

/* In the write batch: the PENDING attempt, only if the invoice still allows it. */
static int manual_insert_fn(store_txn_t *txn, void *arg)
{
	bill_job_t *j = arg;
	Ospay__V1__Invoice *inv = NULL;
	size_t n = 0, n_op = 0;
	bool busy = false;
	int rc = kit_load(txn, DB_INVOICES, j->c.invoice_id, &ospay__v1__invoice__descriptor, &inv);
	if (rc == 0 && inv->status != INV_OPEN)
		rc = -ESTALE;
	if (rc == 0)
		rc = bill_count_attempts(txn, j->c.invoice_id, &n, &n_op, &busy, NULL);
	if (rc == 0 && busy)
		rc = -EALREADY;
	if (rc == 0 && n_op + 1 != j->c.attempt)
		rc = -EALREADY;
	/* After earlier charges of the invoice, it retries them (brand rules). */
	if (rc == 0)
		j->c.reattempt = n + n_op > 0;
	if (rc == 0)
		rc = bill_charge_new(txn, j, srv_now_ms(j->b->s));
	ospay__v1__invoice__free_unpacked(inv, NULL);
	return rc;
}

/* The call's end, in the write batch: the outcome, then the reply. */
static int manual_finish(srv_req_t *r, store_txn_t *txn)
{
	bill_job_t *j = r->async_arg;
	Ospay__V1__Invoice *inv = NULL;
	int rc = bill_outcome_fn(txn, j);
	if (rc == 0)
		rc = kit_load(txn, DB_INVOICES, j->c.invoice_id, &ospay__v1__invoice__descriptor,
			      &inv);
	if (rc != 0) {
		rc = srv_store_fail(r, rc, "charge outcome");
		goto out;
	}
	log_info("operator charge",
		 "charge_id=%" PRIu64 " invoice_id=%" PRIu64 " status=%d code=\"%s\" by=%" PRIu64,
		 j->c.id, j->c.invoice_id, (int)j->c.status, j->code, r->sess->p.token_id);
	Ospay__V1__BillingChargeInvoiceResponse resp =
		OSPAY__V1__BILLING_CHARGE_INVOICE_RESPONSE__INIT;
	resp.charge = &j->c;
	resp.invoice = inv;
	rc = srv_reply_msg(r, &resp.base);
out:
	ospay__v1__invoice__free_unpacked(inv, NULL);
	return rc;
}

/* The call's outcome (j->on_outcome): the operator's request ends with it. */
static void manual_outcome(bill_job_t *j)
{
	if (j->b->life.stopping) {
		/* Shutting down: the attempt stays PENDING, the next start queries it. */
		srv_async_fail(j->r, ST_UNAVAILABLE,
			       "the server stopped during the charge; its outcome is resolved "
			       "by the next billing run");
		return;
	}
	srv_async_finish(j->r, manual_finish);
}

static void manual_inserted(void *arg, int rc)
{
	bill_job_t *j = arg;
	if (rc != 0) {
		srv_async_fail(j->r, ST_UNAVAILABLE, "the charge could not be stored; try again");
		return;
	}
	bill_job_call(j);
}

/* The card to charge: the asked one (the customer's), else chosen, else default. */
static int manual_card(srv_req_t *r, store_txn_t *txn, const Ospay__V1__Invoice *inv,
		       uint64_t card_id, Ospay__V1__CardRecord **out)
{
	Ospay__V1__CustomerService *svc = NULL;
	Ospay__V1__CardRecord *chosen = NULL, *def = NULL;
	int rc;
	*out = NULL;
	if (card_id != 0) {
		rc = kit_load(txn, DB_CARDS, card_id, &ospay__v1__card_record__descriptor, out);
		if (rc == 0 && (*out)->card->customer_id != inv->customer_id)
			rc = -ENOENT;
		if (rc == -ENOENT) {
			if (*out != NULL)
				ospay__v1__card_record__free_unpacked(*out, NULL);
			*out = NULL;
			return srv_fail(r, ST_NOT_FOUND,
					"card %" PRIu64 " is not a card of the invoice's customer",
					card_id);
		}
		return rc != 0 ? srv_store_fail(r, rc, "card lookup") : 0;
	}
	rc = kit_load(txn, DB_SERVICES, inv->service_id, &ospay__v1__customer_service__descriptor,
		      &svc);
	uint64_t chosen_id = 0;
	if (rc == 0 && svc->recurring_payment != NULL)
		chosen_id = svc->recurring_payment->card_id;
	if (rc == 0)
		rc = bill_load_cards(txn, inv->customer_id, chosen_id, &chosen, &def);
	ospay__v1__customer_service__free_unpacked(svc, NULL);
	if (rc != 0) {
		rc = srv_store_fail(r, rc, "cards lookup");
	} else if (chosen != NULL) {
		*out = chosen;
		chosen = NULL;
	} else if (def != NULL) {
		*out = def;
		def = NULL;
	} else {
		rc = srv_fail(r, ST_FAILED_PRECONDITION, "the customer has no card on file");
	}
	ospay__v1__card_record__free_unpacked(chosen, NULL);
	ospay__v1__card_record__free_unpacked(def, NULL);
	return rc;
}

int billing_run_operator_charge(srv_req_t *r, store_txn_t *txn, const Ospay__V1__Invoice *inv,
				uint64_t card_id)
{
	struct srv_billing *b = r->srv->billing;
	Ospay__V1__CardRecord *card = NULL;
	bill_job_t *j = NULL;
	gw_t *gw = NULL;
	size_t n = 0, n_op = 0;
	bool busy = false;
	int off = 0, rc;
	if (b == NULL || b->life.stopping || r->srv->draining)
		return srv_fail(r, ST_UNAVAILABLE, "the server is shutting down");
	rc = bill_count_attempts(txn, inv->id, &n, &n_op, &busy, NULL);
	if (rc != 0) {
		rc = srv_store_fail(r, rc, "charges lookup");
		goto out;
	}
	if (busy) {
		rc = billing_run_refuse_unresolved(r, txn, inv->id, "charging it again");
		if (rc != 0 || !srv_ok(r))
			goto out;
		busy = false; /* gone meanwhile: the write below checks again */
	}
	rc = bill_pix_refuse_standing(r, txn, inv->id);
	if (rc != 0 || !srv_ok(r))
		goto out;
	for (unsigned i = 0; i < b->n_manual; i++)
		busy = busy || b->manual[i] == inv->id;
	if (busy) {
		rc = srv_fail(r, ST_FAILED_PRECONDITION,
			      "an operator charge of invoice %" PRIu64 " is in flight", inv->id);
		goto out;
	}
	if (n_op >= BILLING_MAX_OPERATOR_CHARGES) {
		rc = srv_fail(r, ST_FAILED_PRECONDITION,
			      "invoice %" PRIu64 " was charged by operators %d times already",
			      inv->id, BILLING_MAX_OPERATOR_CHARGES);
		goto out;
	}
	rc = manual_card(r, txn, inv, card_id, &card);
	if (rc != 0 || !srv_ok(r))
		goto out;
	rc = kit_org_offset(r, txn, &off);
	if (rc != 0) {
		rc = srv_store_fail(r, rc, "organization lookup");
		goto out;
	}
	if (n + n_op > 0) {
		rc = brand_allows(r, txn, inv, card->card);
		if (rc != 0 || !srv_ok(r))
			goto out;
	}
	int64_t today = date_local_day(r->now_ms, off);
	billing_card_t bc;
	bill_bcard_of(card->card, &bc);
	if (billing_choose_card(&bc, NULL, today) == 0) {
		rc = srv_fail(r, ST_FAILED_PRECONDITION, "card %" PRIu64 " has expired",
			      card->card->id);
		goto out;
	}
	rc = prov_adapter(r->srv, txn, inv->organization_id, (int)card->card->gateway, &gw);
	if (rc != 0) {
		rc = srv_fail(r, ST_FAILED_PRECONDITION,
			      "the card's %s gateway is not configured or its settings cannot be "
			      "used",
			      prov_service_name((int)card->card->gateway));
		goto out;
	}
	if (b->n_manual >= BILL_MANUAL_MAX) {
		rc = srv_fail(r, ST_UNAVAILABLE, "too many operator charges in flight; try again");
		goto out;
	}
	j = bill_job_new(b, inv, (int)card->card->gateway);
	if (j == NULL) {
		rc = -ENOMEM;
		goto out;
	}
	j->r = r;
	j->on_outcome = manual_outcome;
	j->action = BILLING_ACTION_CHARGE;
	j->c.recurring = false;
	j->c.rail = OSPAY__V1__PAYMENT_RAIL__PAYMENT_RAIL_CARD;
	j->c.attempt = (uint32_t)(n_op + 1);
	j->c.status = CHG(PENDING);
	bill_job_card(j, card->card);
	date_format(today, j->date, sizeof(j->date));
	billing_operator_order_id(inv->id, (int)j->c.attempt, j->order_id);
	if (bill_open_token(r->srv, card, j) != 0) {
		log_error("operator charge: a card token cannot be opened", "card_id=%" PRIu64,
			  card->card->id);
		rc = srv_fail(r, ST_FAILED_PRECONDITION,
			      "card %" PRIu64 "'s stored token cannot be opened; add it again",
			      card->card->id);
		goto out;
	}
	/* Durable before the call: a crash leaves an attempt the run resolves. */
	rc = store_write(r->srv->store, manual_insert_fn, manual_inserted, j);
	if (rc == -ESTALE || rc == -EALREADY) {
		rc = srv_fail(r, ST_FAILED_PRECONDITION,
			      "invoice %" PRIu64 " changed meanwhile; look at it again", inv->id);
		goto out;
	}
	if (rc != 0) {
		rc = srv_store_fail(r, rc, "charge insert");
		goto out;
	}
	b->manual[b->n_manual++] = inv->id;
	srv_pend_owning(r, j, manual_free);
	j = NULL;
out:
	if (j != NULL)
		bill_job_free(j);
	ospay__v1__card_record__free_unpacked(card, NULL);
	return rc;
}

static void resolve_committed(srv_req_t *r)
{
	/* An approval for an invoice no longer open leaves a void to make. */
	billing_run_resolve_soon(r->srv);
}

/*
 * Billing/ResolveCharge's write: the operator's finding about charge old (in
 * OPERATOR_REVIEW, checked by the caller) settled by charge_settle like any
 * other answer, and the reply (the charge and its invoice) packed.
 */
int billing_run_operator_settle(srv_req_t *r, store_txn_t *txn, const Ospay__V1__Charge *old,
				int resolution, const char *payment_id, const char *reason)
{
	Ospay__V1__Invoice *inv = NULL;
	bill_job_t *j = NULL;
	int rc;
	j = bill_job_for_charge(r->srv->billing, old);
	if (j == NULL) {
		rc = -ENOMEM;
		goto out;
	}
	bill_copy_str(j->code, sizeof(j->code), "");
	if (payment_id[0] != '\0')
		bill_copy_str(j->payment_id, sizeof(j->payment_id), payment_id);
	const char *what;
	switch (resolution) {
	case OSPAY__V1__CHARGE_RESOLUTION__CHARGE_RESOLUTION_APPROVED:
		j->c.status = CHG(APPROVED);
		what = "approved";
		break;
	case OSPAY__V1__CHARGE_RESOLUTION__CHARGE_RESOLUTION_DECLINED:
		j->c.status = CHG(DECLINED);
		what = "declined";
		break;
	default:
		j->c.status = CHG(ERROR);
		what = "not charged";
		break;
	}
	j->c.irreversible = false;
	j->c.resolved_by = r->sess->p.token_id;
	bill_copy_str(j->msg, sizeof(j->msg), what);
	snprintf(j->note, sizeof(j->note), "resolved by an operator as %s: %s", what, reason);
	rc = bill_charge_settle(txn, r->srv, old, j);
	if (rc == 0)
		rc = kit_load(txn, DB_INVOICES, j->c.invoice_id, &ospay__v1__invoice__descriptor,
			      &inv);
	if (rc != 0) {
		rc = srv_store_fail(r, rc, "charge resolution");
		goto out;
	}
	log_info("charge resolved by an operator",
		 "charge_id=%" PRIu64 " invoice_id=%" PRIu64 " resolution=%s by=%" PRIu64, j->c.id,
		 j->c.invoice_id, what, r->sess->p.token_id);
	if (j->c.status == CHG(VOIDING))
		r->on_commit = resolve_committed;
	Ospay__V1__BillingResolveChargeResponse resp =
		OSPAY__V1__BILLING_RESOLVE_CHARGE_RESPONSE__INIT;
	resp.charge = &j->c;
	resp.invoice = inv;
	rc = srv_reply_msg(r, &resp.base);
out:
	if (j != NULL)
		bill_job_free(j);
	ospay__v1__invoice__free_unpacked(inv, NULL);
	return rc;
}

/*
 * The billing run (docs/spec.md 4.7): the walk, the gateway calls, the hourly
 * and resolve timers, and the wait of Billing/RunNow. How an outcome is
 * written is billing_settle.c's; operator charges are billing_operator.c's.
 *
 * A run has two phases. First every attempt left PENDING or UNKNOWN (a
 * timeout, a crash mid-call) is resolved by querying the gateway by its
 * merchant order id, so nothing else happens to its invoice before that.
 * Then, organization by organization (only those whose card gateway allows
 * automatic recurrence), the OPEN invoices due yesterday or today on the
 * organization's local calendar are walked through DB_INV_OPEN with a cursor
 * (a position, not a list: memory stays flat) and billing_decide says what
 * each one needs. A charge is stored PENDING and made durable before the
 * gateway is called, so a crash leaves an attempt the next run resolves
 * instead of a charge nobody knows about. At most BILL_INFLIGHT calls are
 * in flight.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "server/jobs/billing_job.h"

static void bill_pump(struct srv_billing *b);
static void billing_run_kick(srv_t *s);

/* A call's outcome: stored by the run, unless the job's owner takes it (an
 * operator's charge ends its request with it). */
static void job_outcome(bill_job_t *j)
{
	if (j->on_outcome != NULL)
		j->on_outcome(j);
	else
		bill_store_outcome(j);
}

void bill_job_done(bill_job_t *j)
{
	struct srv_billing *b = j->b;
	b->inflight--;
	bill_job_free(j);
	/* Stopped: a late callback of a cancelled call only releases. */
	if (!b->life.stopping)
		bill_pump(b);
	else
		srv_job_release(&b->life);
}

/* A Pix job's end (bill_pix_start): again, its outcome is unknown: asked soon. */
static void pix_end(bill_job_t *j, bool again)
{
	struct srv_billing *b = j->b;
	if (again && !b->life.stopping) {
		if (b->running)
			b->left++; /* the pass's end arms the next one, with backoff */
		else
			bill_resolve_arm(b, BILL_RESOLVE_FIRST_MS);
	}
	bill_job_done(j);
}

/* ------------------------------------------------------------------ facts */

/*
 * The card gateway the run charges through: CIELO or GETNET with automatic
 * recurrence on (CIELO first, as Cards/Add picks). 0 when none allows it.
 */
static int auto_gateway(store_txn_t *txn, uint64_t org, int *kind)
{
	static const int kinds[] = {SRV_SERVICE_CIELO, SRV_SERVICE_GETNET};
	*kind = 0;
	for (size_t i = 0; i < OSPAY_ARRAY_LEN(kinds) && *kind == 0; i++) {
		Ospay__V1__GatewayRecord *g = NULL;
		int rc = prov_settings_get(txn, org, kinds[i], &g);
		if (rc == -ENOENT)
			continue;
		if (rc != 0)
			return rc;
		if (g->allow_automatic_recurrence)
			*kind = kinds[i];
		ospay__v1__gateway_record__free_unpacked(g, NULL);
	}
	return 0;
}

static enum billing_result result_of(int status)
{
	switch (status) {
	case CHG(APPROVED):
		return BILLING_RESULT_SUCCESS;
	case CHG(DECLINED):
		return BILLING_RESULT_DECLINED;
	case CHG(ERROR):
		return BILLING_RESULT_ERROR;
	case CHG(NO_VALID_CARD):
		return BILLING_RESULT_NO_VALID_CARD;
	case CHG(VOIDED): /* no money kept */
		return BILLING_RESULT_ERROR;
	default: /* PENDING, UNKNOWN, OPERATOR_REVIEW, VOIDING */
		return BILLING_RESULT_UNKNOWN;
	}
}

/*
 * An invoice's automatic attempts in number order (at most cap; *n may reach
 * cap + 1). Operator charges are not attempts of the run: they are skipped.
 * *busy says one of its charges (either kind) is bill_unresolved: nothing may
 * happen to the invoice before that (phase 0 and the resolve passes see to it).
 */
static int load_attempts(store_txn_t *txn, uint64_t invoice, Ospay__V1__Charge **v, size_t cap,
			 size_t *n, bool *busy)
{
	*busy = false;
	db_scan_t *scan = NULL;
	const uint8_t *val;
	*n = 0;
	int rc = db_scan_id(txn, DB_CHG_INVOICE, invoice, &scan);
	while (rc == 0 && (rc = db_scan_next(scan, &val)) == 0) {
		Ospay__V1__Charge *c = NULL;
		rc = bill_charge_at(txn, val, &c);
		if (rc != 0)
			break;
		/* A Pix instruction still at the PSP keeps the card off the invoice. */
		*busy = *busy || bill_unresolved(c) ||
			(c->rail == OSPAY__V1__PAYMENT_RAIL__PAYMENT_RAIL_PIX_AUTOMATICO &&
			 (c->status == CHG(PENDING) || c->status == CHG(UNKNOWN)));
		/* The card's attempts only: operator charges and the Pix rail's are not. */
		if (!c->recurring ||
		    c->rail == OSPAY__V1__PAYMENT_RAIL__PAYMENT_RAIL_PIX_AUTOMATICO) {
			ospay__v1__charge__free_unpacked(c, NULL);
			continue;
		}
		if (*n == cap) {
			ospay__v1__charge__free_unpacked(c, NULL);
			(*n)++;
			break;
		}
		v[(*n)++] = c;
	}
	if (rc == -ENOENT)
		rc = 0;
	db_scan_close(scan);
	return rc;
}

/*
 * Decides one OPEN invoice on the organization's today and, when something
 * is due, fills a job (*out, NULL when nothing is). 0 or a store error.
 */
static int plan_invoice(struct srv_billing *b, store_txn_t *txn, uint64_t id, bill_job_t **out)
{
	Ospay__V1__Invoice *inv = NULL;
	Ospay__V1__CustomerService *svc = NULL;
	Ospay__V1__CardRecord *chosen = NULL, *def = NULL;
	Ospay__V1__Charge *att[BILLING_MAX_ATTEMPTS + 1] = {0};
	billing_attempt_t in_att[BILLING_MAX_ATTEMPTS];
	billing_card_t cc, dc;
	size_t n = 0;
	bill_job_t *j = NULL;
	*out = NULL;
	int rc = kit_load(txn, DB_INVOICES, id, &ospay__v1__invoice__descriptor, &inv);
	if (rc == 0)
		rc = kit_load(txn, DB_SERVICES, inv->service_id,
			      &ospay__v1__customer_service__descriptor, &svc);
	bool busy = false;
	if (rc == 0)
		rc = load_attempts(txn, id, att, BILLING_MAX_ATTEMPTS, &n, &busy);
	/* A charge of it not resolved yet: no attempt until it is (phase 0 and the
	 * resolve passes query it; OPERATOR_REVIEW waits for a person). */
	if (rc == 0 && busy)
		goto out;
	uint64_t chosen_id = 0;
	bool recurring = false;
	if (rc == 0 && svc->recurring_payment != NULL) {
		chosen_id = svc->recurring_payment->card_id;
		recurring = svc->recurring_payment->enabled;
	}
	if (rc == 0)
		rc = bill_load_cards(txn, inv->customer_id, chosen_id, &chosen, &def);
	if (rc != 0)
		goto out;
	billing_input_t in = {0};
	in.status = (enum billing_invoice_status)inv->status;
	if (date_parse(inv->due_date, &in.due_day) != 0) {
		rc = -EBADMSG;
		goto out;
	}
	in.amount = inv->amount;
	in.service_recurring = recurring;
	in.org_automatic_recurrence = true; /* only such organizations are walked */
	in.now_ms = srv_now_ms(b->s);
	/* A replaced card is never charged (its services moved to the new one). */
	if (chosen != NULL && (int)chosen->card->gateway == b->org_kind &&
	    chosen->card->status != OSPAY__V1__CARD_STATUS__CARD_STATUS_REPLACED) {
		bill_bcard_of(chosen->card, &cc);
		in.chosen = &cc;
	}
	/* A card tokenized at another gateway cannot be charged through this one. */
	if (def != NULL && (int)def->card->gateway == b->org_kind) {
		bill_bcard_of(def->card, &dc);
		in.default_card = &dc;
	}
	for (size_t i = 0; i < n && i < BILLING_MAX_ATTEMPTS; i++) {
		in_att[i].number = (int)att[i]->attempt;
		in_att[i].result = result_of(att[i]->status);
		in_att[i].return_code = att[i]->return_code;
		in_att[i].irreversible = att[i]->irreversible;
		in_att[i].retry_refused = att[i]->retry_refused;
		in_att[i].next_retry_ms = att[i]->next_retry_ms;
		in_att[i].card_id = att[i]->card_id;
		if (date_parse(att[i]->local_date, &in_att[i].day) != 0) {
			rc = -EBADMSG;
			goto out;
		}
	}
	in.attempts = in_att;
	in.n_attempts = n;
	billing_decision_t d;
	if (billing_decide(&in, b->org_today, &d) != 0) {
		log_error("billing: an invoice's attempts are inconsistent; skipped",
			  "invoice_id=%" PRIu64, id);
		goto out;
	}
	if (d.action == BILLING_ACTION_NOTHING)
		goto out;
	if (d.action == BILLING_ACTION_RESOLVE_UNKNOWN) {
		/* The unknown attempt is the last one stored. */
		j = bill_job_for_charge(b, att[n - 1]);
		rc = j == NULL ? -ENOMEM : 0;
		*out = j;
		goto out;
	}
	j = bill_job_new(b, inv, b->org_kind);
	if (j == NULL) {
		rc = -ENOMEM;
		goto out;
	}
	j->action = d.action;
	j->c.recurring = true;
	j->c.rail = OSPAY__V1__PAYMENT_RAIL__PAYMENT_RAIL_CARD;
	j->c.attempt = (uint32_t)d.attempt;
	j->c.reattempt = d.attempt > 1;
	date_format(b->org_today, j->date, sizeof(j->date));
	billing_order_id(inv->id, d.attempt, j->order_id);
	if (d.action == BILLING_ACTION_RECORD_NO_VALID_CARD) {
		j->c.status = CHG(NO_VALID_CARD);
		bill_copy_str(j->msg, sizeof(j->msg), "no valid card");
	} else {
		const Ospay__V1__CardRecord *card =
			chosen != NULL && chosen->card->id == d.card_id ? chosen : def;
		j->c.status = CHG(PENDING);
		bill_job_card(j, card->card);
		if (bill_open_token(b->s, card, j) != 0) {
			/* A token that cannot be opened is a card that cannot be used. */
			log_error("billing: a card token cannot be opened", "card_id=%" PRIu64,
				  card->card->id);
			j->action = BILLING_ACTION_RECORD_NO_VALID_CARD;
			j->c.status = CHG(NO_VALID_CARD);
			bill_copy_str(j->msg, sizeof(j->msg),
				      "the card's stored token cannot be opened");
		}
	}
	*out = j;
out:
	for (size_t i = 0; i < n && i < BILLING_MAX_ATTEMPTS; i++)
		ospay__v1__charge__free_unpacked(att[i], NULL);
	ospay__v1__card_record__free_unpacked(chosen, NULL);
	ospay__v1__card_record__free_unpacked(def, NULL);
	ospay__v1__customer_service__free_unpacked(svc, NULL);
	ospay__v1__invoice__free_unpacked(inv, NULL);
	if (rc != 0 && j != NULL) {
		bill_job_free(j);
		*out = NULL;
	}
	return rc;
}

/* ------------------------------------------------------------------ calls */

/* What a charge (or a query about one) came to, in j->c. */
static void take_result(bill_job_t *j, const gw_charge_result_t *res, bool query)
{
	Ospay__V1__BillingRunNowResponse *st = j->r != NULL ? &j->own : &j->b->stats;
	const char *code = res->abecs_code[0] ? res->abecs_code : res->r.code;
	if (res->payment_id[0] != '\0')
		bill_copy_str(j->payment_id, sizeof(j->payment_id), res->payment_id);
	switch (res->r.outcome) {
	case GW_OUTCOME_APPROVED:
		bill_take_outcome(j, CHG(APPROVED), code, NULL, res->network_txn_id, false);
		st->approved++;
		break;
	case GW_OUTCOME_DECLINED:
		bill_take_outcome(j, CHG(DECLINED), code, res->advice_code, NULL,
				  res->irreversible);
		st->declined++;
		break;
	case GW_OUTCOME_NOT_FOUND:
	case GW_OUTCOME_CANCELED:
		/* No money taken: the gateway has no such charge, or voided it. */
		j->c.status = CHG(ERROR);
		break;
	case GW_OUTCOME_REJECTED:
	case GW_OUTCOME_AUTH_FAILED:
	case GW_OUTCOME_ERROR_RETRYABLE:
		/* A charge refused before processing is a failed attempt; a query that
		 * failed so tells nothing, and the attempt stays unknown. */
		j->c.status = query ? CHG(UNKNOWN) : CHG(ERROR);
		break;
	default:
		/* Lost: queried by its order id, or, where the gateway has no such
		 * query and no payment id came back, left for its notification or
		 * an operator (never charged again meanwhile). */
		j->c.status = !query && j->no_order_query && j->payment_id[0] == '\0'
				      ? CHG(OPERATOR_REVIEW)
				      : CHG(UNKNOWN);
		st->unknown++;
		break;
	}
	if (query && j->c.status != CHG(UNKNOWN))
		st->resolved++;
	if (!query || j->c.status != CHG(UNKNOWN)) {
		bill_copy_str(j->code, sizeof(j->code), code);
		/* The gateway's message is stored, never logged (it may quote the request). */
		bill_copy_str(j->msg, sizeof(j->msg), res->r.message);
	}
}

/* The replacement card's token (Renova Fácil): kept for the outcome's write. */
static void on_renewed(const gw_token_result_t *res, void *arg)
{
	bill_job_t *j = arg;
	j->b->calling--;
	size_t n = strnlen(res->card_token, sizeof(res->card_token));
	size_t len = strlen(j->note);
	if (res->r.outcome == GW_OUTCOME_APPROVED && n > 0 && n < sizeof(j->new_token)) {
		memcpy(j->new_token, res->card_token, n + 1);
		j->replace = true;
	} else {
		snprintf(j->note + len, sizeof(j->note) - len,
			 "%sthe issuer's replacement card could not be tokenized (%s); the card "
			 "is kept",
			 len > 0 ? "; " : "", gw_outcome_name(res->r.outcome));
	}
	job_outcome(j);
}

/*
 * Cielo Renova Fácil: the decline named the card's replacement. It is
 * tokenized now (the number lives on the stack for this call only); the
 * outcome's write then stores it and moves the old card's services (settle).
 * 0 when the tokenization was started (on_renewed ends the job), else the
 * job goes on without a replacement.
 */
static int start_renewal(bill_job_t *j, const gw_charge_result_t *res)
{
	card_pan_t pan;
	gw_t *gw = NULL;
	store_txn_t *txn = NULL;
	char cust[24];
	int rc = card_check_number(res->new_card_number, &pan) == NULL ? 0 : -EINVAL;
	if (rc == 0)
		rc = store_read_begin(j->b->s->store, &txn);
	if (rc == 0) {
		rc = prov_adapter(j->b->s, txn, j->c.organization_id, j->c.gateway, &gw);
		store_read_end(txn);
	}
	if (rc == 0) {
		snprintf(cust, sizeof(cust), "%" PRIu64, j->c.customer_id);
		j->new_exp.month = (int)res->new_card_exp_month;
		j->new_exp.year = (int)res->new_card_exp_year;
		j->new_brand = pan.brand;
		card_last4(&pan, j->new_last4);
		gw_card_t gc = {.number = pan.digits,
				.holder = j->holder,
				.exp_month = res->new_card_exp_month,
				.exp_year = res->new_card_exp_year,
				.brand = (gw_brand_t)pan.brand,
				.customer_id = cust};
		rc = gw_tokenize_card(gw, &gc, on_renewed, j);
		crypto_wipe(&gc, sizeof(gc));
	}
	card_pan_wipe(&pan);
	if (rc == 0) {
		j->b->calling++;
		return 0;
	}
	size_t len = strlen(j->note);
	snprintf(j->note + len, sizeof(j->note) - len,
		 "%sthe issuer named a replacement card ospay could not use (%d)",
		 len > 0 ? "; " : "", rc);
	return rc;
}

static void on_charged(const gw_charge_result_t *res, void *arg)
{
	bill_job_t *j = arg;
	j->b->calling--;
	crypto_wipe(j->token, sizeof(j->token));
	take_result(j, res, false);
	if (res->r.outcome == GW_OUTCOME_DECLINED && res->new_card_number[0] != '\0' &&
	    start_renewal(j, res) == 0)
		return;
	job_outcome(j);
}

/* A void's answer: VOIDED when the gateway canceled the sale, else it stays
 * VOIDING and the next resolve pass tries again. */
static void on_voided(const gw_charge_result_t *res, void *arg)
{
	bill_job_t *j = arg;
	struct srv_billing *b = j->b;
	b->calling--;
	if (res->r.outcome == GW_OUTCOME_CANCELED) {
		b->voids_total++;
		j->c.status = CHG(VOIDED);
		size_t n = strlen(j->note);
		snprintf(j->note + n, sizeof(j->note) - n, "%svoided at the gateway",
			 n > 0 ? "; " : "");
		log_warn("billing: a sale for an invoice no longer open was voided",
			 "charge_id=%" PRIu64 " invoice_id=%" PRIu64, j->c.id, j->c.invoice_id);
		bill_store_outcome(j);
		return;
	}
	b->void_failures_total++;
	log_error("billing: voiding a sale failed; tried again with backoff",
		  "charge_id=%" PRIu64 " outcome=%s", j->c.id, gw_outcome_name(res->r.outcome));
	if (b->running && !b->life.stopping)
		b->left++;
	bill_job_done(j);
}

static void on_queried(const gw_charge_result_t *res, void *arg)
{
	bill_job_t *j = arg;
	j->b->calling--;
	if (res->n_found > 1)
		log_warn("billing: the gateway holds several charges for one attempt",
			 "charge_id=%" PRIu64 " found=%u", j->c.id, res->n_found);
	take_result(j, res, true);
	bill_store_outcome(j);
}

/* The gateway call of a job (the attempt is durable when this runs). */
void bill_job_call(bill_job_t *j)
{
	srv_t *s = j->b->s;
	store_txn_t *txn = NULL;
	gw_t *gw = NULL;
	int rc = store_read_begin(s->store, &txn);
	if (rc == 0) {
		rc = prov_adapter(s, txn, j->c.organization_id, j->c.gateway, &gw);
		store_read_end(txn);
	}
	if (rc == 0)
		j->no_order_query = !gw_can_query_by_order(gw);
	if (rc == 0 && j->void_sale) {
		rc = gw_cancel_charge(gw, j->payment_id, 0, on_voided, j);
	} else if (rc == 0 && j->action == BILLING_ACTION_RESOLVE_UNKNOWN) {
		/* By its payment id when the gateway gave one, else by our order id. */
		if (j->payment_id[0] != '\0')
			rc = gw_query_charge(gw, j->payment_id, on_queried, j);
		else if (!j->no_order_query)
			rc = gw_query_charge_by_order(gw, j->order_id, on_queried, j);
		else
			rc = -ENOTSUP;
		if (rc == -ENOTSUP) {
			/* Nothing can find it: it waits for a notification or a person. */
			j->c.status = CHG(OPERATOR_REVIEW);
			bill_store_outcome(j);
			return;
		}
	} else if (rc == 0) {
		char cust[24];
		snprintf(cust, sizeof(cust), "%" PRIu64, j->c.customer_id);
		gw_charge_req_t req = {0};
		req.customer_id = cust;
		req.merchant_order_id = j->order_id;
		req.amount_cents = j->c.amount;
		req.installments = 1;
		/* An operator's charge is customer-initiated: no Recurrent flag. */
		req.recurring = j->c.recurring;
		req.first_use = j->c.first_use;
		req.network_txn_id = !j->c.first_use && j->ntid[0] != '\0' ? j->ntid : NULL;
		req.card_token = j->token;
		req.brand = (gw_brand_t)j->brand;
		if (j->r == NULL)
			j->b->stats.charged++;
		j->b->charges_total++;
		rc = gw_charge_card(gw, &req, on_charged, j);
	}
	if (rc == 0) {
		if (++j->b->calling > j->b->calling_max)
			j->b->calling_max = j->b->calling;
		return;
	}
	/* Nothing was sent: a charge failed without money taken, a query stays unknown. */
	log_error("billing: gateway call not made", "charge_id=%" PRIu64 " gateway=%s err=%d",
		  j->c.id, prov_service_name((int)j->c.gateway), rc);
	crypto_wipe(j->token, sizeof(j->token));
	if (j->action == BILLING_ACTION_RESOLVE_UNKNOWN) {
		j->b->stats.failed++;
		if (j->b->running && !j->b->life.stopping)
			j->b->left++;
		bill_job_done(j);
		return;
	}
	j->c.status = CHG(ERROR);
	bill_copy_str(j->msg, sizeof(j->msg), "the gateway could not be called");
	job_outcome(j);
}

static void inserted(void *arg, int rc)
{
	bill_job_t *j = arg;
	if (rc != 0) {
		if (rc != -EALREADY) {
			j->b->stats.failed++;
			log_error("billing: storing an attempt failed",
				  "invoice_id=%" PRIu64 " err=%d", j->c.invoice_id, rc);
		}
		bill_job_done(j);
		return;
	}
	if (j->action == BILLING_ACTION_RECORD_NO_VALID_CARD || j->b->life.stopping) {
		if (j->action == BILLING_ACTION_RECORD_NO_VALID_CARD)
			j->b->stats.no_valid_card++;
		bill_job_done(j);
		return;
	}
	bill_job_call(j);
}

static void job_start(bill_job_t *j)
{
	if (++j->b->inflight > j->b->inflight_max)
		j->b->inflight_max = j->b->inflight;
	if (j->pix_op != 0) {
		bill_pix_start(j, pix_end);
		return;
	}
	if (j->block) {
		int rc = store_write(j->b->s->store, bill_block_fn, bill_block_done, j);
		if (rc != 0)
			bill_block_done(j, rc);
		return;
	}
	if (j->action == BILLING_ACTION_RESOLVE_UNKNOWN) {
		bill_job_call(j);
		return;
	}
	int rc = store_write(j->b->s->store, bill_insert_fn, inserted, j);
	if (rc != 0)
		inserted(j, rc);
}

/* ------------------------------------------------------------------ the walk */

/*
 * Phase 0: the next bill_unresolved attempt (as a RESOLVE job), -ENOENT at the
 * end, or NULL after BILL_STEP_MAX charges with nothing to ask now (Pix
 * instructions waiting for their day), so that the pump yields to the loop.
 */
static int next_unresolved(struct srv_billing *b, store_txn_t *txn, bill_job_t **out)
{
	*out = NULL;
	for (int steps = 0; steps < BILL_STEP_MAX; steps++) {
		store_cursor_t *cur = NULL;
		store_val_t k, v;
		uint8_t key[8];
		Ospay__V1__Charge *c = NULL;
		be64_put(key, b->next_charge);
		int rc = store_cursor_open(txn, DB_CHG_UNRESOLVED, &cur);
		if (rc == 0)
			rc = store_cursor_seek(cur, key, sizeof(key), &k, &v);
		if (rc == 0 && k.len == 8) {
			uint64_t id = be64_get(k.data);
			b->next_charge = id + 1;
			rc = kit_load(txn, DB_CHARGES, id, &ospay__v1__charge__descriptor, &c);
		} else if (rc == 0) {
			rc = -EBADMSG;
		}
		store_cursor_close(cur);
		if (rc != 0)
			return rc;
		/* Pix Automático: asked about only when unanswered, due or to be canceled. */
		if (c->rail == OSPAY__V1__PAYMENT_RAIL__PAYMENT_RAIL_PIX_AUTOMATICO) {
			rc = bill_pix_resolve(b, txn, c, out);
			ospay__v1__charge__free_unpacked(c, NULL);
			if (rc != 0 || *out != NULL)
				return rc;
			continue;
		}
		/* Waiting for a person (or the gateway's notification): nothing to ask. */
		bool skip = c->status == CHG(OPERATOR_REVIEW);
		for (unsigned i = 0; i < b->n_manual && !skip; i++)
			/* An operator charge in flight, not an unknown one: its call ends it. */
			skip = b->manual[i] == c->invoice_id;
		if (!skip)
			*out = bill_job_for_charge(b, c);
		ospay__v1__charge__free_unpacked(c, NULL);
		if (!skip)
			return *out == NULL ? -ENOMEM : 0;
	}
	return 0;
}

/* Phase 1: moves to the next organization that allows automatic recurrence. */
static int next_org(struct srv_billing *b, store_txn_t *txn, bool *end)
{
	store_cursor_t *cur = NULL;
	store_val_t k, v;
	uint8_t key[8];
	*end = false;
	int rc = store_cursor_open(txn, DB_ORGS, &cur);
	while (rc == 0) {
		be64_put(key, b->org + 1);
		rc = store_cursor_seek(cur, key, sizeof(key), &k, &v);
		if (rc == -ENOENT) {
			*end = true;
			rc = 0;
			break;
		}
		if (rc != 0 || k.len != 8) {
			rc = rc != 0 ? rc : -EBADMSG;
			break;
		}
		b->org = be64_get(k.data);
		rc = auto_gateway(txn, b->org, &b->org_kind);
		if (rc == 0)
			rc = bill_profile_days(txn, b->org, &b->org_days);
		if (rc == 0) {
			rc = bill_pix_org_load(txn, b->org, srv_now_ms(b->s), &b->pix);
			b->org_pix = rc == 0;
			rc = rc == -ENOENT ? 0 : rc;
		}
		/* Nothing to charge and nothing to block here. */
		if (rc != 0 || (b->org_kind == 0 && b->org_days == 0 && !b->org_pix))
			continue;
		Ospay__V1__Organization *org = NULL;
		rc = kit_load(txn, DB_ORGS, b->org, &ospay__v1__organization__descriptor, &org);
		if (rc != 0)
			break;
		b->org_today = date_local_day(srv_now_ms(b->s), org->utc_offset_minutes);
		ospay__v1__organization__free_unpacked(
			org,
			NULL); /* Due yesterday or today: the two days attempts can be made on; with a
		 * suspension profile, every older OPEN invoice too (it may block). */
		db_pos_put(b->pos,
			   b->org_days > 0 ? INT64_MIN
			   : b->org_pix    ? b->org_today - PIX_RETRY_HORIZON_DAYS - 1
					   : b->org_today - 1,
			   0);
		b->org_open = true;
		break;
	}
	store_cursor_close(cur);
	return rc;
}

/* The last due day the walk looks at: today, or the far end of the Pix window
 * (in business days it may reach twice as far, holidays aside). */
static int64_t walk_end(const struct srv_billing *b)
{
	if (!b->org_pix)
		return b->org_today;
	int reach = b->pix.w.earliest * (b->pix.w.earliest_business ? 2 : 1) + 7;
	return b->org_today + reach;
}

/*
 * An invoice of a service on the Pix rail goes to billing_pix.c (*pix_rail);
 * b->pix_waiting says its instruction is still at the PSP (no block then).
 */
static int plan_pix(struct srv_billing *b, store_txn_t *txn, uint64_t id, bool *pix_rail,
		    bill_job_t **out)
{
	Ospay__V1__Invoice *inv = NULL;
	Ospay__V1__CustomerService *svc = NULL;
	*out = NULL;
	b->pix_waiting = false;
	int rc = kit_load(txn, DB_INVOICES, id, &ospay__v1__invoice__descriptor, &inv);
	if (rc == 0)
		rc = kit_load(txn, DB_SERVICES, inv->service_id,
			      &ospay__v1__customer_service__descriptor, &svc);
	*pix_rail = rc == 0 && svc->recurring_payment != NULL && svc->recurring_payment->enabled &&
		    svc->recurring_payment->rail ==
			    OSPAY__V1__PAYMENT_RAIL__PAYMENT_RAIL_PIX_AUTOMATICO;
	if (*pix_rail)
		rc = bill_pix_plan(b, txn, inv, svc, out, &b->pix_waiting);
	if (rc != 0)
		log_error("billing: a Pix invoice could not be planned; skipped",
			  "invoice_id=%" PRIu64 " err=%d", id, rc);
	ospay__v1__customer_service__free_unpacked(svc, NULL);
	ospay__v1__invoice__free_unpacked(inv, NULL);
	return rc == -ENOMEM ? rc : 0;
}

/*
 * Finds the next job of the run (NULL: none now). Looks at BILL_STEP_MAX
 * invoices at most; *more says the walk is not over.
 */
static int next_job(struct srv_billing *b, store_txn_t *txn, bill_job_t **out, bool *more)
{
	*out = NULL;
	*more = true;
	if (b->phase == 0) {
		int rc = next_unresolved(b, txn, out);
		if (rc == -ENOENT) {
			/* Every bill_unresolved attempt is asked about before any invoice moves on. */
			if (b->inflight > 0) {
				*more = false;
				return 0;
			}
			b->phase = b->resolve_only ? 2 : 1;
			if (b->resolve_only)
				*more = false;
			return 0;
		}
		return rc;
	}
	for (int steps = 0; steps < BILL_STEP_MAX; steps++) {
		if (!b->org_open) {
			bool end = false;
			int rc = next_org(b, txn, &end);
			if (rc != 0)
				return rc;
			if (end) {
				b->phase = 2;
				*more = false;
				return 0;
			}
		}
		uint8_t key[8];
		const uint8_t *pos = NULL;
		db_scan_t *scan = NULL;
		be64_put(key, b->org);
		int rc = db_scan_open(txn, DB_INV_OPEN, key, sizeof(key), 1, b->pos, DB_POS_LEN,
				      &scan);
		if (rc == 0)
			rc = db_scan_next(scan, &pos);
		uint64_t id = 0;
		if (rc == 0 && db_pos_sort(pos) <= walk_end(b)) {
			id = db_pos_id(pos);
			db_pos_put(b->pos, db_pos_sort(pos), id + 1);
		}
		db_scan_close(scan);
		if (rc != 0 && rc != -ENOENT)
			return rc;
		if (id == 0) {
			b->org_open = false;
			continue;
		}
		b->stats.examined++;
		bool pix_rail = false;
		rc = plan_pix(b, txn, id, &pix_rail, out);
		if (rc != 0 || *out != NULL)
			return rc;
		if (db_pos_sort(b->pos) > b->org_today || (pix_rail && b->pix_waiting))
			continue; /* only a Pix instruction goes out before the due date */
		if (db_pos_sort(b->pos) < b->org_today - 1) {
			rc = bill_plan_block(b, txn, id, db_pos_sort(b->pos), out);
			if (rc != 0)
				return rc;
			if (*out != NULL)
				return 0;
			continue;
		} /* Without automatic recurrence only blocking was to be looked at. */
		if (b->org_kind == 0 || pix_rail)
			continue;
		rc = plan_invoice(b, txn, id, out);
		if (rc != 0) {
			log_error("billing: an invoice could not be planned; skipped",
				  "invoice_id=%" PRIu64 " err=%d", id, rc);
			continue;
		}
		if (*out != NULL)
			return 0;
	}
	return 0;
}

static void finish_waiters(bill_waiter_t *w, const Ospay__V1__BillingRunNowResponse *stats);

static void run_end(struct srv_billing *b)
{
	b->running = false;
	/* Charges this pass could not settle are tried again with backoff. */
	if (b->left > 0 && !b->life.stopping && !b->s->draining) {
		bill_resolve_arm(b, b->resolve_delay_ms);
		b->resolve_delay_ms = b->resolve_delay_ms * 2 > BILL_RESOLVE_MAX_MS
					      ? BILL_RESOLVE_MAX_MS
					      : b->resolve_delay_ms * 2;
	} else if (b->left == 0) {
		b->resolve_delay_ms = BILL_RESOLVE_FIRST_MS;
	}
	bool resolve_only = b->resolve_only;
	b->resolve_only = false;
	if (resolve_only && b->waiting == NULL && b->queued == NULL && !b->again) {
		log_debug("billing resolve pass done", "resolved=%" PRIu64 " left=%u",
			  b->stats.resolved, b->left);
		if (b->resolve_after)
			bill_resolve_arm(b, 0);
		b->resolve_after = false;
		return;
	}
	if (b->resolve_after && !b->life.stopping && !b->s->draining)
		bill_resolve_arm(b, 0);
	b->resolve_after = false;
	log_info("billing run done",
		 "examined=%" PRIu64 " charged=%" PRIu64 " approved=%" PRIu64 " declined=%" PRIu64
		 " unknown=%" PRIu64 " resolved=%" PRIu64 " no_valid_card=%" PRIu64
		 " failed=%" PRIu64 " pix_sent=%" PRIu64 " pix_retried=%" PRIu64
		 " pix_canceled=%" PRIu64 " pix_refused=%" PRIu64,
		 b->stats.examined, b->stats.charged, b->stats.approved, b->stats.declined,
		 b->stats.unknown, b->stats.resolved, b->stats.no_valid_card, b->stats.failed,
		 b->stats.pix_sent, b->stats.pix_retried, b->stats.pix_canceled,
		 b->stats.pix_refused);
	bill_waiter_t *w = b->waiting;
	b->waiting = NULL;
	finish_waiters(w, &b->stats);
	if (b->life.stopping || b->s->draining) {
		w = b->queued;
		b->queued = NULL;
		finish_waiters(w, &b->stats);
		return;
	}
	if (b->again || b->queued != NULL) {
		b->waiting = b->queued;
		b->queued = NULL;
		b->again = false;
		billing_run_kick(b->s);
	}
}

static void on_step(uv_timer_t *t)
{
	bill_pump(t->data);
}

static void bill_pump(struct srv_billing *b)
{
	bool more = true;
	while (b->running && !b->life.stopping && !b->s->draining && b->phase < 2 &&
	       b->inflight < BILL_INFLIGHT && more) {
		store_txn_t *txn = NULL;
		bill_job_t *j = NULL;
		int rc = store_read_begin(b->s->store, &txn);
		if (rc == 0) {
			int before = b->phase;
			rc = next_job(b, txn, &j, &more);
			store_read_end(txn);
			if (rc == 0 && j == NULL && more && b->phase == before && b->phase <= 1) {
				/* A full step found nothing: yield to the loop, then go on. */
				uv_timer_start(&b->step_timer, on_step, 0, 0);
				return;
			}
		}
		if (rc != 0) {
			log_error("billing run stopped by a store error", "err=%d", rc);
			b->stats.failed++;
			b->phase = 2;
			break;
		}
		if (j != NULL)
			job_start(j);
	}
	if (b->running && b->inflight == 0 && (b->phase == 2 || b->life.stopping || b->s->draining))
		run_end(b);
}

/* ------------------------------------------------------------------ control */

static void run_begin(struct srv_billing *b, bool resolve_only)
{
	b->running = true;
	b->resolve_only = resolve_only;
	b->left = 0;
	b->phase = 0;
	b->next_charge = 0;
	b->org = 0;
	b->org_open = false;
	b->inflight_max = b->calling_max = 0;
	ospay__v1__billing_run_now_response__init(&b->stats);
	if (!resolve_only)
		log_info("billing run started", "now_ms=%" PRId64, srv_now_ms(b->s));
	/* From the loop, never inside the caller: RunNow is answered only after it returned. */
	uv_timer_start(&b->step_timer, on_step, 0, 0);
}

static void billing_run_kick(srv_t *s)
{
	struct srv_billing *b = s->billing;
	if (b == NULL || b->life.stopping || s->draining)
		return;
	if (b->running) {
		b->again = true;
		return;
	}
	run_begin(b, false);
}

/* A resolve pass: phase 0 alone (a full run does it first anyway). */
static void on_resolve(uv_timer_t *t)
{
	struct srv_billing *b = t->data;
	if (b->life.stopping || b->s->draining)
		return;
	if (b->running) {
		b->resolve_after = true;
		return;
	}
	run_begin(b, true);
}

/* Asks for a resolve pass in delay_ms, unless one is due sooner. */
void bill_resolve_arm(struct srv_billing *b, uint64_t delay_ms)
{
	if (b->life.stopping || b->s->draining)
		return;
	if (uv_is_active((uv_handle_t *)&b->resolve_timer) &&
	    uv_timer_get_due_in(&b->resolve_timer) <= delay_ms)
		return;
	uv_timer_start(&b->resolve_timer, on_resolve, delay_ms, 0);
}

void billing_run_resolve_soon(srv_t *s)
{
	if (s->billing != NULL)
		bill_resolve_arm(s->billing, 0);
}

static void on_hour(uv_timer_t *t)
{
	struct srv_billing *b = t->data;
	billing_run_kick(b->s);
}

/*
 * The state is freed once its timers are closed and no job or operator
 * charge holds it: a callback of a call canceled at shutdown still finds it.
 */
static bool bill_idle(const void *state)
{
	const struct srv_billing *b = state;
	return b->inflight == 0 && b->n_manual == 0;
}

static int billing_run_start(srv_t *s)
{
	struct srv_billing *b = srv_job_new(s, sizeof(*b), bill_idle, free);
	if (b == NULL)
		return -ENOMEM;
	b->s = s;
	uv_timer_init(s->loop, &b->hour_timer);
	uv_timer_init(s->loop, &b->step_timer);
	uv_timer_init(s->loop, &b->resolve_timer);
	b->hour_timer.data = b->step_timer.data = b->resolve_timer.data = b;
	b->resolve_delay_ms = BILL_RESOLVE_FIRST_MS;
	s->billing = b;
	/* The first run at start-up resolves what a crash left unknown. */
	uv_timer_start(&b->hour_timer, on_hour, 0, BILL_HOUR_MS);
	return 0;
}

static bool billing_run_busy(const srv_t *s)
{
	return s->billing != NULL && (s->billing->inflight > 0 || s->billing->n_manual > 0);
}

void billing_run_metrics(const srv_t *s, billing_run_metrics_t *out)
{
	const struct srv_billing *b = s->billing;
	memset(out, 0, sizeof(*out));
	out->in_flight_limit = BILL_INFLIGHT;
	if (b == NULL)
		return;
	out->in_flight = b->inflight;
	out->in_flight_max = b->inflight_max;
	out->calls_in_flight_max = b->calling_max;
	out->charges = b->charges_total;
	out->voids = b->voids_total;
	out->void_failures = b->void_failures_total;
	out->retries_refused = b->retries_refused_total;
	out->pix_sent = b->pix_sent_total;
	out->pix_settled = b->pix_settled_total;
	out->pix_failed = b->pix_failed_total;
	out->pix_retried = b->pix_retried_total;
	out->pix_canceled = b->pix_canceled_total;
	out->pix_refused = b->pix_refused_total;
	out->pix_resolved = b->pix_resolved_total;
	out->pix_idle = b->pix_idle_total;
	/* What waits, read from the store: an operator looks here for OPERATOR_REVIEW. */
	store_txn_t *txn = NULL;
	store_cursor_t *cur = NULL;
	store_val_t k, v;
	uint8_t key[8] = {0};
	if (store_read_begin(s->store, &txn) != 0)
		return;
	int rc = store_cursor_open(txn, DB_CHG_UNRESOLVED, &cur);
	for (unsigned i = 0; rc == 0 && i < BILL_METRICS_SCAN_MAX; i++) {
		rc = store_cursor_seek(cur, key, sizeof(key), &k, &v);
		if (rc != 0 || k.len != 8)
			break;
		uint64_t id = be64_get(k.data);
		Ospay__V1__Charge *c = NULL;
		if (kit_load(txn, DB_CHARGES, id, &ospay__v1__charge__descriptor, &c) == 0) {
			out->pending += c->status == CHG(PENDING);
			out->unknown += c->status == CHG(UNKNOWN);
			out->operator_review += c->status == CHG(OPERATOR_REVIEW);
			out->voiding += c->status == CHG(VOIDING);
			ospay__v1__charge__free_unpacked(c, NULL);
		}
		be64_put(key, id + 1);
	}
	store_cursor_close(cur);
	store_read_end(txn);
}

static void billing_run_stop(srv_t *s, srv_job_done_fn done)
{
	struct srv_billing *b = s->billing;
	if (b == NULL)
		return;          /* never started, or stopped already */
	b->life.stopping = true; /* the waiters below are answered as stopped */
	bill_waiter_t *w = b->waiting;
	b->waiting = NULL;
	finish_waiters(w, &b->stats);
	w = b->queued;
	b->queued = NULL;
	finish_waiters(w, &b->stats);
	uv_handle_t *h[] = {(uv_handle_t *)&b->hour_timer, (uv_handle_t *)&b->step_timer,
			    (uv_handle_t *)&b->resolve_timer};
	srv_job_close(&b->life, done, h, 3);
	s->billing = NULL;
}

/* ------------------------------------------------------------------ RunNow */

static int run_now_reply(srv_req_t *r, store_txn_t *txn)
{
	(void)txn;
	return srv_reply_msg(r, &((Ospay__V1__BillingRunNowResponse *)r->async_arg)->base);
}

static void finish_waiters(bill_waiter_t *w, const Ospay__V1__BillingRunNowResponse *stats)
{
	while (w != NULL) {
		bill_waiter_t *next = w->next;
		Ospay__V1__BillingRunNowResponse *copy = malloc(sizeof(*copy));
		if (copy == NULL) {
			srv_async_fail(w->r, ST_INTERNAL, "out of memory");
		} else {
			*copy = *stats;
			w->r->async_arg = copy;
			w->r->async_free = free;
			srv_async_finish(w->r, run_now_reply);
		}
		free(w);
		w = next;
	}
}

/*
 * Billing/RunNow's wait: r is answered (with the run's figures) after a run
 * that starts after its call (srv_pend), or refused in r->st.
 */
int billing_run_wait(srv_req_t *r)
{
	struct srv_billing *b = r->srv->billing;
	if (b == NULL || b->life.stopping || r->srv->draining)
		return srv_fail(r, ST_UNAVAILABLE, "the server is shutting down");
	bill_waiter_t *w = calloc(1, sizeof(*w));
	if (w == NULL)
		return -ENOMEM;
	w->r = r;
	/* A run already going may have passed invoices this caller cares about. */
	if (b->running) {
		w->next = b->queued;
		b->queued = w;
		b->again = true;
	} else {
		w->next = b->waiting;
		b->waiting = w;
		billing_run_kick(r->srv);
	}
	srv_pend(r);
	return 0;
}

/* After an outcome is stored: what is still unknown or to be voided is tried
 * again soon, not at the next hourly run. */
static void outcome_follow(struct srv_billing *b, const bill_job_t *j)
{
	bool again = j->c.status == CHG(UNKNOWN) || j->c.status == CHG(PENDING) ||
		     j->c.status == CHG(VOIDING);
	if (!again)
		return;
	if (j->action == BILLING_ACTION_RESOLVE_UNKNOWN && j->r == NULL && b->running) {
		b->left++; /* the pass's end arms the next one, with backoff */
		return;
	}
	bill_resolve_arm(b, j->c.status == CHG(VOIDING) ? 0 : BILL_RESOLVE_FIRST_MS);
}

static void outcome_done(void *arg, int rc)
{
	bill_job_t *j = arg;
	if (rc != 0) {
		j->b->stats.failed++;
		log_error("billing: storing an attempt's outcome failed; the next run resolves it",
			  "charge_id=%" PRIu64 " err=%d", j->c.id, rc);
	}
	log_info("billing attempt",
		 "charge_id=%" PRIu64 " invoice_id=%" PRIu64 " attempt=%u status=%d code=\"%s\"",
		 j->c.id, j->c.invoice_id, j->c.attempt, (int)j->c.status, j->code);
	if (rc == 0 && j->refused)
		j->b->retries_refused_total++;
	if (rc == 0 && !j->b->life.stopping)
		outcome_follow(j->b, j);
	bill_job_done(j);
}

void bill_store_outcome(bill_job_t *j)
{
	if (j->b->life.stopping) {
		/* Shutting down: the attempt stays bill_unresolved, the next start queries it. */
		bill_job_done(j);
		return;
	}
	int rc = store_write(j->b->s->store, bill_outcome_fn, outcome_done, j);
	if (rc != 0)
		outcome_done(j, rc);
}

void bill_block_done(void *arg, int rc)
{
	bill_job_t *j = arg;
	if (rc != 0) {
		j->b->stats.failed++;
		log_error("billing: blocking a service failed", "service_id=%" PRIu64 " err=%d",
			  j->c.service_id, rc);
	}
	bill_job_done(j);
}

const srv_job_t billing_run_job = {"billing run", billing_run_start, billing_run_kick,
				   billing_run_busy, billing_run_stop};

/*
 * The billing run's Pix Automático rail (docs/pix-automatico.md, "Charging",
 * "Retries"): for each OPEN invoice of a service whose rail is Pix with an
 * ACCEPTED authorization, one instruction (cobr) per cycle, sent inside the
 * window before the due date; receiver-requested retries under PERMITE_3R_7D;
 * the instruction canceled when the invoice leaves OPEN before the deadline.
 *
 * Every charge is written PENDING before its call (attempt 1 before PUT
 * /cobr/{txid}, a retry before POST .../retentativa/{date}); a charge the PSP
 * has not answered yet (psp_status empty) or whose answer was lost (UNKNOWN)
 * is asked about with GET /cobr/{txid} before anything else, and a cobr the
 * PSP holds is adopted: the txid names the cycle, so never two instructions.
 * Whatever learned the PSP's answer (a call, a poll after the settlement
 * date, a webhook's re-query), pix_apply writes it.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/holidays.h"
#include "server/jobs/billing_job.h"
#include "server/jobs/billing_pix.h"
#include "server/providers/pix_settings.h"

/* GATEWAY_KIND_PIX_AUTOMATICO: the organization's PSP in DB_GATEWAYS. */
#define PIX_SERVICE 5
#define RAIL_PIX OSPAY__V1__PAYMENT_RAIL__PAYMENT_RAIL_PIX_AUTOMATICO
#define RAIL_CARD OSPAY__V1__PAYMENT_RAIL__PAYMENT_RAIL_CARD
#define AUTH_ACCEPTED OSPAY__V1__PIX_AUTHORIZATION_STATE__PIX_AUTHORIZATION_STATE_ACCEPTED
#define PIX_CHARGES_MAX 8
/* The note that says the receiver can no longer cancel (decision 2). */
#define NOTE_STANDS "the instruction stands (past the cancel deadline): if it is paid, refund"

enum {
	PIX_OP_PUT = 1, /* store attempt 1, then PUT /cobr/{txid} */
	PIX_OP_RETRY,   /* store attempt n, then POST /cobr/{txid}/retentativa/{date} */
	PIX_OP_REFUSE,  /* store attempt 1 refused before sending (amount) */
	PIX_OP_QUERY,   /* GET /cobr/{txid} */
	PIX_OP_CANCEL,  /* PATCH /cobr/{txid} CANCELADA */
	PIX_OP_NOTE,    /* past the cancel deadline: the note that it stands */
};

/* ------------------------------------------------------------------ rules */

static bool pix_closed(int64_t day, void *arg)
{
	const bill_pix_org_t *o = arg;
	return o->holidays && holiday_br_name(day) != NULL;
}

int bill_pix_org_load(store_txn_t *txn, uint64_t org, int64_t now_ms, bill_pix_org_t *out)
{
	Ospay__V1__GatewayRecord *g = NULL;
	Ospay__V1__Organization *o = NULL;
	Ospay__V1__FieldSettingsRecord *fs = NULL;
	memset(out, 0, sizeof(*out));
	int rc = prov_settings_get(txn, org, PIX_SERVICE, &g);
	if (rc != 0)
		return rc;
	out->w = prov_pix_window(g->pix);
	out->retry = prov_pix_retry(g->pix);
	/* SetGateway checks both; a record that fails now runs on the defaults. */
	if (pix_window_check(&out->w) != NULL)
		out->w = PIX_WINDOW_DEFAULT;
	if (pix_retry_check(&out->retry) != NULL)
		out->retry = PIX_RETRY_DEFAULT;
	out->cutoff_min = prov_pix_cutoff_min(g->pix) < 24 * 60 ? prov_pix_cutoff_min(g->pix)
								: PIX_CANCEL_CUTOFF_DEFAULT;
	ospay__v1__gateway_record__free_unpacked(g, NULL);
	rc = kit_load(txn, DB_ORGS, org, &ospay__v1__organization__descriptor, &o);
	if (rc != 0)
		return rc;
	out->utc_offset = o->utc_offset_minutes;
	out->today = date_local_day(now_ms, o->utc_offset_minutes);
	ospay__v1__organization__free_unpacked(o, NULL);
	/* Off by default: then only weekends close Pix dates (docs). */
	rc = kit_load(txn, DB_FIELD_SETTINGS, org, &ospay__v1__field_settings_record__descriptor,
		      &fs);
	if (rc == -ENOENT)
		return 0;
	if (rc == 0)
		out->holidays = fs->national_holidays_closed;
	ospay__v1__field_settings_record__free_unpacked(fs, NULL);
	return rc;
}

static bool is_pix(const Ospay__V1__Charge *c)
{
	return c->rail == RAIL_PIX;
}

/* Not settled: waiting for the PSP's answer or the payer's bank. */
static bool pix_open(const Ospay__V1__Charge *c)
{
	return c->status == CHG(PENDING) || c->status == CHG(UNKNOWN);
}

/* ------------------------------------------------------------------ charges */

typedef struct pix_charges {
	Ospay__V1__Charge *v[PIX_CHARGES_MAX];
	size_t n;
} pix_charges_t;

static void charges_free(pix_charges_t *pc)
{
	for (size_t i = 0; i < pc->n; i++)
		ospay__v1__charge__free_unpacked(pc->v[i], NULL);
	pc->n = 0;
}

/* Loads the charges a scan of charge ids names, Pix ones only, in id order. */
static int charges_scan(store_txn_t *txn, db_scan_t *scan, pix_charges_t *pc)
{
	const uint8_t *val;
	int rc;
	while ((rc = db_scan_next(scan, &val)) == 0) {
		Ospay__V1__Charge *c = NULL;
		rc = bill_charge_at(txn, val, &c);
		if (rc != 0)
			break;
		if (!is_pix(c) || pc->n == PIX_CHARGES_MAX) {
			ospay__v1__charge__free_unpacked(c, NULL);
			continue;
		}
		pc->v[pc->n++] = c;
	}
	return rc == -ENOENT ? 0 : rc;
}

static int charges_of_invoice(store_txn_t *txn, uint64_t invoice, pix_charges_t *pc)
{
	db_scan_t *scan = NULL;
	pc->n = 0;
	int rc = db_scan_id(txn, DB_CHG_INVOICE, invoice, &scan);
	if (rc == 0)
		rc = charges_scan(txn, scan, pc);
	db_scan_close(scan);
	return rc == -ENOENT ? 0 : rc;
}

static int charges_of_txid(store_txn_t *txn, uint64_t org, const char *txid, pix_charges_t *pc)
{
	uint8_t key[DB_TXID_KEY_MAX], from[8] = {0};
	db_scan_t *scan = NULL;
	pc->n = 0;
	size_t klen = db_chg_txid_key(org, txid, key);
	if (klen == 0)
		return -ENOENT;
	int rc = db_scan_open(txn, DB_CHG_TXID, key, klen, 1, from, 8, &scan);
	if (rc == 0)
		rc = charges_scan(txn, scan, pc);
	db_scan_close(scan);
	if (rc == 0 && pc->n == 0)
		rc = -ENOENT;
	return rc;
}

/* The cycle's open charge (the one an answer is about), or NULL. */
static const Ospay__V1__Charge *open_of(const pix_charges_t *pc)
{
	for (size_t i = pc->n; i > 0; i--)
		if (pix_open(pc->v[i - 1]))
			return pc->v[i - 1];
	return NULL;
}

/* ------------------------------------------------------------------ jobs */

/* A new attempt of inv's cycle (PENDING, or ERROR when refused before sending). */
static bill_job_t *job_attempt(struct srv_billing *b, int op, const Ospay__V1__Invoice *inv,
			       const char *txid, uint32_t attempt, int64_t settle_day)
{
	bill_job_t *j = bill_job_new(b, inv, PIX_SERVICE);
	if (j == NULL)
		return NULL;
	j->pix_op = op;
	j->c.attempt = attempt;
	j->c.recurring = true; /* the run's own attempts, as the card's */
	j->c.reattempt = attempt > 1;
	j->c.rail = RAIL_PIX;
	j->c.status = op == PIX_OP_REFUSE ? CHG(ERROR) : CHG(PENDING);
	date_format(b->pix.today, j->date, sizeof(j->date));
	date_format(settle_day, j->settle_date, sizeof(j->settle_date));
	bill_copy_str(j->txid, sizeof(j->txid), txid);
	/* Shown where people look for an order id: the cycle's txid. */
	bill_copy_str(j->order_id, sizeof(j->order_id), txid);
	return j;
}

static int invoice_txid(const Ospay__V1__Invoice *inv, int64_t due, char txid[PIX_TXID_SIZE])
{
	char org[24], id[24];
	snprintf(org, sizeof(org), "%" PRIu64, inv->organization_id);
	snprintf(id, sizeof(id), "%" PRIu64, inv->id);
	return pix_txid(org, id, due, txid);
}

/* Attempt 1 of a cycle whose window is open: sent, or refused by amount. */
static int plan_first(struct srv_billing *b, const Ospay__V1__Invoice *inv,
		      const Ospay__V1__PixAuthorization *pix, int64_t due, bill_job_t **out)
{
	char txid[PIX_TXID_SIZE];
	enum pix_window_verdict v =
		pix_window_at(&b->pix.w, due, b->pix.today, pix_closed, &b->pix);
	if (v == PIX_WINDOW_EARLY)
		return 0;
	if (v == PIX_WINDOW_LATE) {
		log_warn("billing: a Pix invoice is past its send window; charge it by card "
			 "(Billing/ChargeInvoice) or a payment link",
			 "invoice_id=%" PRIu64 " due=%s", inv->id, inv->due_date);
		return 0;
	}
	if (invoice_txid(inv, due, txid) != 0)
		return -EINVAL;
	enum pix_amount_verdict av =
		pix_amount_check(inv->amount, pix->fixed_amount, pix->payer_max_amount);
	bill_job_t *j =
		job_attempt(b, av == PIX_AMOUNT_OK ? PIX_OP_PUT : PIX_OP_REFUSE, inv, txid, 1, due);
	if (j == NULL)
		return -ENOMEM;
	bill_copy_str(j->id_rec, sizeof(j->id_rec), pix->id_rec);
	if (av != PIX_AMOUNT_OK) {
		/* Nothing goes to the PSP: the operator charges it another way. */
		bill_copy_str(j->code, sizeof(j->code), "NOT_SENT");
		snprintf(j->msg, sizeof(j->msg), "%s",
			 av == PIX_AMOUNT_NOT_FIXED
				 ? "not sent: the authorization only takes its fixed amount"
			 : av == PIX_AMOUNT_ABOVE_MAX ? "not sent: above the payer's maximum"
						      : "not sent: the amount is not a Pix amount");
		snprintf(j->note, sizeof(j->note),
			 "charge the card (Billing/ChargeInvoice) or send a payment link");
		bill_copy_str(j->psp_status, sizeof(j->psp_status), "NOT_SENT");
	}
	*out = j;
	return 0;
}

/* The next retry of a failed attempt, when the rules leave one. */
static int plan_retry(struct srv_billing *b, const Ospay__V1__Invoice *inv,
		      const Ospay__V1__PixAuthorization *pix, int64_t due,
		      const Ospay__V1__Charge *last, bill_job_t **out)
{
	int64_t day = 0, last_day = 0;
	int used = (int)last->attempt - 1;
	if (last->status != CHG(DECLINED) || last->retry_refused || !pix->retries_allowed ||
	    used >= PIX_RETRY_MAX)
		return 0;
	if (used > 0 && date_parse(last->pix_settlement_date, &last_day) != 0)
		return -EBADMSG;
	if (pix_retry_next(&b->pix.retry, PIX_RETRY_3R_7D, due, 0, b->pix.today, used, last_day,
			   pix_closed, &b->pix, &day) != 0)
		return 0;
	bill_job_t *j = job_attempt(b, PIX_OP_RETRY, inv, last->pix_txid, last->attempt + 1, day);
	if (j == NULL)
		return -ENOMEM;
	*out = j;
	return 0;
}

int bill_pix_plan(struct srv_billing *b, store_txn_t *txn, const Ospay__V1__Invoice *inv,
		  const Ospay__V1__CustomerService *svc, bill_job_t **out, bool *waiting)
{
	pix_charges_t pc = {0};
	int64_t due = 0;
	*out = NULL;
	*waiting = false;
	const Ospay__V1__PixAuthorization *pix = svc->pix;
	if (!b->org_pix || pix == NULL || pix->state != AUTH_ACCEPTED) {
		/* The rail says Pix, the authorization (or the PSP) does not allow it:
		 * neither rail charges it; the operator learns it here and in /metrics. */
		b->pix_idle_total++;
		log_warn("billing: a service on the Pix rail has no accepted authorization or no "
			 "Pix PSP; nothing is charged",
			 "service_id=%" PRIu64 " invoice_id=%" PRIu64, svc->id, inv->id);
		return 0;
	}
	if (date_parse(inv->due_date, &due) != 0)
		return -EBADMSG;
	int rc = charges_of_invoice(txn, inv->id, &pc);
	if (rc != 0)
		return rc;
	const Ospay__V1__Charge *last = pc.n > 0 ? pc.v[pc.n - 1] : NULL;
	if (last == NULL)
		rc = plan_first(b, inv, pix, due, out);
	else if (pix_open(last))
		*waiting = true; /* phase 0 and the settlement see to it */
	else
		rc = plan_retry(b, inv, pix, due, last, out);
	if (rc == 0 && *out != NULL)
		bill_copy_str((*out)->id_rec, sizeof((*out)->id_rec), pix->id_rec);
	charges_free(&pc);
	return rc;
}

int bill_pix_resolve(struct srv_billing *b, store_txn_t *txn, const Ospay__V1__Charge *c,
		     bill_job_t **out)
{
	Ospay__V1__Invoice *inv = NULL;
	bill_pix_org_t org;
	int64_t settle = 0, due = 0, now = srv_now_ms(b->s);
	int op = 0;
	*out = NULL;
	int rc = bill_pix_org_load(txn, c->organization_id, now, &org);
	if (rc == -ENOENT)
		return 0; /* the gateway is gone: nothing can be asked */
	if (rc == 0)
		rc = kit_load(txn, DB_INVOICES, c->invoice_id, &ospay__v1__invoice__descriptor,
			      &inv);
	if (rc != 0)
		return rc;
	bool answered = c->psp_status[0] != '\0';
	if (date_parse(c->pix_settlement_date, &settle) != 0 ||
	    date_parse(inv->due_date, &due) != 0) {
		rc = -EBADMSG;
		goto out;
	}
	if (c->status == CHG(UNKNOWN) || !answered) {
		op = PIX_OP_QUERY; /* unknown first: GET /cobr/{txid} before anything */
	} else if (inv->status != INV_OPEN && strstr(c->note, NOTE_STANDS) == NULL) {
		/* Paid another way or canceled: cancel while the receiver still may. */
		op = now < pix_cancel_deadline_ms(settle, org.cutoff_min, org.utc_offset)
			     ? PIX_OP_CANCEL
			     : PIX_OP_NOTE;
	} else if (org.today >= settle) {
		op = PIX_OP_QUERY; /* the payer's bank settled it: ask, never wait for a webhook */
	}
	if (op == 0)
		goto out;
	bill_job_t *j = bill_job_for_charge(b, c);
	if (j == NULL) {
		rc = -ENOMEM;
		goto out;
	}
	j->pix_op = op;
	*out = j;
	/* A PUT the PSP never got is sent again under the service's authorization. */
	Ospay__V1__CustomerService *svc = NULL;
	if (kit_load(txn, DB_SERVICES, c->service_id, &ospay__v1__customer_service__descriptor,
		     &svc) == 0) {
		if (svc->pix != NULL)
			bill_copy_str(j->id_rec, sizeof(j->id_rec), svc->pix->id_rec);
		ospay__v1__customer_service__free_unpacked(svc, NULL);
	}
out:
	ospay__v1__invoice__free_unpacked(inv, NULL);
	return rc;
}

int bill_pix_refuse_standing(srv_req_t *r, store_txn_t *txn, uint64_t invoice)
{
	pix_charges_t pc = {0};
	bill_pix_org_t org;
	int64_t settle = 0;
	int rc = charges_of_invoice(txn, invoice, &pc);
	const Ospay__V1__Charge *c = rc == 0 ? open_of(&pc) : NULL;
	if (c != NULL && c->status == CHG(PENDING) &&
	    date_parse(c->pix_settlement_date, &settle) == 0) {
		rc = bill_pix_org_load(txn, c->organization_id, r->now_ms, &org);
		if (rc == 0 &&
		    r->now_ms >= pix_cancel_deadline_ms(settle, org.cutoff_min, org.utc_offset))
			rc = srv_fail(r, ST_FAILED_PRECONDITION,
				      "invoice %" PRIu64
				      ": its Pix Automático instruction (charge %" PRIu64
				      ") settles on %s and can no longer be canceled; charge it "
				      "another way only if that attempt fails",
				      invoice, c->id, c->pix_settlement_date);
		rc = rc == -ENOENT ? 0 : rc;
	}
	charges_free(&pc);
	return rc;
}

/* ------------------------------------------------------------------ applying answers */

/* What pix_apply did, for the caller's counters and follow-up. */
typedef struct pix_applied {
	int from, to;      /* the charge's status before and after (-1: no charge moved) */
	bool resend_retry; /* a retry the PSP never got: ask for it again */
	uint64_t charge_id;
} pix_applied_t;

int billing_pix_learn_max(store_txn_t *txn, uint64_t service_id, int64_t max, int64_t now_ms)
{
	Ospay__V1__CustomerService *svc = NULL;
	int rc = kit_load(txn, DB_SERVICES, service_id, &ospay__v1__customer_service__descriptor,
			  &svc);
	if (rc != 0)
		return rc == -ENOENT ? 0 : rc;
	Ospay__V1__PixAuthorization *p = svc->pix;
	if (p != NULL && max > 0 && (p->payer_max_amount == 0 || max < p->payer_max_amount)) {
		p->payer_max_amount = max;
		p->updated_ms = now_ms;
		svc->updated_ms = now_ms;
		rc = db_put_by_id(txn, DB_SERVICES, svc->id, &svc->base);
		log_info("pix: the payer's maximum learned from a refusal",
			 "service_id=%" PRIu64 " max=%" PRId64, service_id, max);
	}
	ospay__v1__customer_service__free_unpacked(svc, NULL);
	return rc;
}

/* The PSP attempt that is charge c's: the latest one dated on its settlement day. */
static const gw_pix_attempt_t *attempt_of(const gw_pix_result_t *res, const Ospay__V1__Charge *c)
{
	for (size_t i = res->n_attempts; i > 0; i--)
		if (strcmp(res->attempts[i - 1].date, c->pix_settlement_date) == 0)
			return &res->attempts[i - 1];
	return NULL;
}

/* The day of the retry that follows a failed attempt c ("" when none). */
static void next_retry_day(store_txn_t *txn, const Ospay__V1__Charge *c, int64_t now,
			   char day_s[16])
{
	Ospay__V1__CustomerService *svc = NULL;
	bill_pix_org_t org;
	int64_t due = 0, last = 0, day = 0;
	Ospay__V1__Invoice *inv = NULL;
	day_s[0] = '\0';
	int used = (int)c->attempt - 1;
	if (used >= PIX_RETRY_MAX || bill_pix_org_load(txn, c->organization_id, now, &org) != 0)
		return;
	if (kit_load(txn, DB_SERVICES, c->service_id, &ospay__v1__customer_service__descriptor,
		     &svc) != 0)
		return;
	bool allowed = svc->pix != NULL && svc->pix->retries_allowed;
	ospay__v1__customer_service__free_unpacked(svc, NULL);
	if (!allowed ||
	    kit_load(txn, DB_INVOICES, c->invoice_id, &ospay__v1__invoice__descriptor, &inv) != 0)
		return;
	bool ok = date_parse(inv->due_date, &due) == 0 &&
		  (used == 0 || date_parse(c->pix_settlement_date, &last) == 0);
	ospay__v1__invoice__free_unpacked(inv, NULL);
	if (ok && pix_retry_next(&org.retry, PIX_RETRY_3R_7D, due, 0, org.today, used, last,
				 pix_closed, &org, &day) == 0)
		date_format(day, day_s, 16);
}

/* A paid charge: its invoice PAID when still OPEN (else the refund path). */
static int apply_paid(store_txn_t *txn, Ospay__V1__Charge *nc, char *note, size_t cap, int64_t now)
{
	Ospay__V1__Invoice *inv = NULL;
	int rc = kit_load(txn, DB_INVOICES, nc->invoice_id, &ospay__v1__invoice__descriptor, &inv);
	if (rc != 0)
		return rc;
	if (inv->status == INV_OPEN) {
		rc = billing_run_pay_invoice(txn, inv, now);
	} else {
		snprintf(note, cap,
			 "paid by Pix after the invoice left OPEN: refund the payer "
			 "(docs/pix-automatico.md)");
		log_warn("billing: a Pix instruction settled for an invoice no longer open; "
			 "refund it",
			 "charge_id=%" PRIu64 " invoice_id=%" PRIu64, nc->id, inv->id);
	}
	ospay__v1__invoice__free_unpacked(inv, NULL);
	return rc;
}

/*
 * The PSP's answer about a cobr (res) applied to the open charge of its cycle
 * p (PENDING or UNKNOWN), in txn. Never moves a settled charge. May run again.
 */
static int pix_apply(store_txn_t *txn, srv_t *s, const Ospay__V1__Charge *p,
		     const gw_pix_result_t *res, pix_applied_t *done)
{
	Ospay__V1__Charge nc = *p;
	char status[GW_STATUS_MAX], reason[GW_CODE_MAX], msg[GW_MSG_MAX], note[NOTE_MAX];
	char next_day[16] = "";
	enum pix_outcome o;
	int64_t now = srv_now_ms(s);
	int rc = 0;
	done->from = done->to = -1;
	done->resend_retry = false;
	done->charge_id = p->id;
	const gw_pix_attempt_t *a = attempt_of(res, p);
	pix_attempt_view_t view = {a != NULL ? a->status : NULL,
				   a != NULL && a->reason[0] ? a->reason : NULL};
	if (pix_cobr_outcome(res->status, a != NULL ? &view : NULL,
			     res->end_code[0] ? res->end_code : NULL, &o) != 0) {
		/* A word the rules do not know: a lie or a new status; nothing moves. */
		log_warn("billing: a cobr answer with an unknown status; left as it is",
			 "charge_id=%" PRIu64, p->id);
		return 0;
	}
	if (strcmp(res->status, "CANCELADA") == 0)
		o = pix_cobr_canceled_by(res->ended_by);
	/* A retry the PSP never registered (its answer was lost before it did). */
	if (o == PIX_OUT_PENDING && a == NULL && p->attempt > 1) {
		done->resend_retry = true;
		return 0;
	}
	snprintf(status, sizeof(status), "%s", a != NULL ? a->status : res->status);
	snprintf(reason, sizeof(reason), "%s",
		 a != NULL && a->reason[0] ? a->reason : res->end_code);
	snprintf(msg, sizeof(msg), "%s", p->return_message);
	snprintf(note, sizeof(note), "%s", p->note);
	nc.psp_status = status;
	nc.psp_reason = reason;
	nc.return_message = msg;
	nc.note = note;
	nc.updated_ms = now;
	bool first_answer = p->psp_status[0] == '\0';
	switch (o) {
	case PIX_OUT_PAID:
		nc.status = CHG(APPROVED);
		rc = apply_paid(txn, &nc, note, sizeof(note), now);
		break;
	case PIX_OUT_ATTEMPT_FAILED:
	case PIX_OUT_FAILED: {
		pix_reason_info_t ri;
		pix_reason_classify(reason, &ri);
		nc.status = CHG(DECLINED);
		nc.return_code = reason;
		snprintf(msg, sizeof(msg), "%s",
			 reason[0] && ri.meaning != NULL ? ri.meaning
							 : "the payer's bank did not settle it");
		if (strcmp(res->status, "CANCELADA") == 0)
			snprintf(msg, sizeof(msg), "the payer canceled this payment (%s)",
				 res->ended_by);
		if (ri.kind == PIX_REASON_ABOVE_MAX)
			rc = billing_pix_learn_max(txn, p->service_id, p->amount - 1, now);
		if (o == PIX_OUT_ATTEMPT_FAILED)
			next_retry_day(txn, p, now, next_day);
		if (next_day[0] == '\0') {
			nc.retry_refused = true;
			snprintf(note, sizeof(note), "%s",
				 o == PIX_OUT_FAILED ? "the instruction ended: no retry"
						     : "no retry left under the rules");
		}
		if (rc == 0)
			rc = outbox_on_pix_charge(s, txn, &nc, OUTBOX_PIX_FAILED, next_day, now);
		break;
	}
	case PIX_OUT_CANCELED:
		nc.status = CHG(CANCELED);
		rc = outbox_on_pix_charge(s, txn, &nc, OUTBOX_PIX_CANCELED, NULL, now);
		break;
	default:
		nc.status = CHG(PENDING);
		if (first_answer)
			rc = outbox_on_pix_charge(s, txn, &nc,
						  p->attempt > 1 ? OUTBOX_PIX_RETRY
								 : OUTBOX_PIX_SCHEDULED,
						  p->pix_settlement_date, now);
		break;
	}
	if (rc == 0)
		rc = db_charge_put(txn, p, &nc);
	if (rc == 0) {
		done->from = (int)p->status;
		done->to = (int)nc.status;
	}
	return rc;
}

static void count_applied(srv_t *s, const pix_applied_t *d)
{
	struct srv_billing *b = s->billing;
	if (b == NULL || d->from == d->to)
		return;
	if (d->to == CHG(APPROVED))
		b->pix_settled_total++;
	else if (d->to == CHG(DECLINED))
		b->pix_failed_total++;
	else if (d->to == CHG(CANCELED))
		b->pix_canceled_total++;
	if (d->from == CHG(UNKNOWN) && d->to != CHG(UNKNOWN))
		b->pix_resolved_total++;
}

int billing_pix_cobr_answer(store_txn_t *txn, srv_t *s, uint64_t org, const gw_pix_result_t *res)
{
	pix_charges_t pc = {0};
	pix_applied_t d = {.from = -1, .to = -1};
	int rc = charges_of_txid(txn, org, res->txid, &pc);
	if (rc != 0)
		return rc;
	const Ospay__V1__Charge *p = open_of(&pc);
	if (p != NULL)
		rc = pix_apply(txn, s, p, res, &d);
	if (rc == 0 && p == NULL)
		log_debug("billing: a cobr answer about a settled cycle; nothing moves",
			  "org=%" PRIu64, org);
	charges_free(&pc);
	if (rc == 0)
		count_applied(s, &d);
	return rc;
}

/* ------------------------------------------------------------------ the calls */

static void pix_call(bill_job_t *j);

/* The run ends the job (again: its outcome is still unknown, ask soon). */
static void job_end(bill_job_t *j, bool again)
{
	j->pix_end(j, again);
}

/* The answer's write: applied to the job's charge, or the job's own status. */
static int answer_fn(store_txn_t *txn, void *arg)
{
	bill_job_t *j = arg;
	Ospay__V1__Charge *old = NULL;
	pix_applied_t d = {.from = -1, .to = -1};
	int rc = kit_load(txn, DB_CHARGES, j->c.id, &ospay__v1__charge__descriptor, &old);
	if (rc != 0)
		return rc;
	const gw_pix_result_t *res = j->pix_res;
	bool cobr =
		res != NULL &&
		(res->r.outcome == GW_OUTCOME_PENDING || res->r.outcome == GW_OUTCOME_APPROVED ||
		 res->r.outcome == GW_OUTCOME_DECLINED || res->r.outcome == GW_OUTCOME_CANCELED);
	if (!pix_open(old)) {
		rc = 0; /* settled meanwhile (a webhook): never moved back */
	} else if (cobr) {
		rc = pix_apply(txn, j->b->s, old, res, &d);
		j->answer = d.resend_retry;
	} else {
		/* No cobr in the answer: the job's own verdict (UNKNOWN, ERROR, a note). */
		Ospay__V1__Charge nc = *old;
		nc.status = j->c.status;
		nc.return_code = j->code;
		nc.return_message = j->msg;
		nc.note = j->note;
		nc.retry_refused = j->c.retry_refused;
		nc.psp_status = j->psp_status;
		nc.updated_ms = srv_now_ms(j->b->s);
		d.from = (int)old->status;
		d.to = (int)nc.status;
		rc = db_charge_put(txn, old, &nc);
	}
	ospay__v1__charge__free_unpacked(old, NULL);
	if (rc == 0 && d.to >= 0)
		j->c.status = (Ospay__V1__ChargeStatus)d.to;
	j->answered = rc == 0;
	/* What this answer changed, counted once it is committed (answer_done). */
	j->own.resolved = (uint64_t)(d.from == CHG(UNKNOWN) && d.to != CHG(UNKNOWN));
	j->own.approved = (uint64_t)(d.from != d.to && d.to == CHG(APPROVED));
	j->own.declined = (uint64_t)(d.from != d.to && d.to == CHG(DECLINED));
	j->own.pix_canceled = (uint64_t)(d.from != d.to && d.to == CHG(CANCELED));
	return rc;
}

static void answer_done(void *arg, int rc)
{
	bill_job_t *j = arg;
	struct srv_billing *b = j->b;
	if (rc != 0) {
		b->stats.failed++;
		log_error("billing: storing a Pix answer failed; the next run asks again",
			  "charge_id=%" PRIu64 " err=%d", j->c.id, rc);
		job_end(j, true);
		return;
	}
	b->pix_settled_total += j->own.approved;
	b->pix_failed_total += j->own.declined;
	b->pix_canceled_total += j->own.pix_canceled;
	b->pix_resolved_total += j->own.resolved;
	b->stats.approved += j->own.approved;
	b->stats.declined += j->own.declined;
	b->stats.resolved += j->own.resolved;
	b->stats.pix_canceled += j->own.pix_canceled;
	log_info("billing pix attempt",
		 "charge_id=%" PRIu64 " invoice_id=%" PRIu64 " attempt=%u status=%d", j->c.id,
		 j->c.invoice_id, j->c.attempt, (int)j->c.status);
	if (j->answer && j->pix_op == PIX_OP_QUERY && !b->life.stopping) {
		/* The retry was never registered: ask for it now (same charge). */
		j->pix_op = PIX_OP_RETRY;
		j->answer = 0;
		j->answered = false;
		pix_call(j);
		return;
	}
	job_end(j, j->c.status == CHG(UNKNOWN));
}

static void store_answer(bill_job_t *j)
{
	if (j->b->life.stopping) {
		job_end(j, false); /* still open: the next start asks again */
		return;
	}
	int rc = store_write(j->b->s->store, answer_fn, answer_done, j);
	if (rc != 0)
		answer_done(j, rc);
}

static void on_pix(const gw_pix_result_t *res, void *arg)
{
	bill_job_t *j = arg;
	struct srv_billing *b = j->b;
	b->calling--;
	if (b->life.stopping) {
		job_end(j, false);
		return;
	}
	gw_outcome_t out = res->r.outcome;
	if (j->pix_op == PIX_OP_QUERY && out == GW_OUTCOME_NOT_FOUND && j->c.attempt == 1) {
		/* The PSP never got the PUT: send it now (the txid names this cycle). */
		j->pix_op = PIX_OP_PUT;
		pix_call(j);
		return;
	}
	j->pix_res = malloc(sizeof(*j->pix_res));
	if (j->pix_res == NULL) {
		job_end(j, true);
		return;
	}
	*j->pix_res = *res;
	switch (out) {
	case GW_OUTCOME_PENDING:
	case GW_OUTCOME_APPROVED:
	case GW_OUTCOME_DECLINED:
	case GW_OUTCOME_CANCELED:
		if (j->pix_op == PIX_OP_PUT && j->c.status == CHG(PENDING))
			b->pix_sent_total++;
		break;
	case GW_OUTCOME_UNKNOWN:
		if (j->pix_op == PIX_OP_QUERY || j->pix_op == PIX_OP_CANCEL) {
			job_end(j, true); /* a query that failed tells nothing */
			return;
		}
		j->c.status = CHG(UNKNOWN);
		b->stats.unknown++;
		break;
	case GW_OUTCOME_REJECTED:
		if (j->pix_op == PIX_OP_CANCEL) {
			/* Too late at the PSP: it stands, and a payment is refunded. */
			snprintf(j->note, sizeof(j->note), "%s", NOTE_STANDS);
			break;
		}
		if (j->pix_op == PIX_OP_QUERY) {
			job_end(j, true);
			return;
		}
		/* The PSP refused the PUT or the retry: this attempt failed, nothing sent. */
		j->c.status = CHG(ERROR);
		j->c.retry_refused = true;
		bill_copy_str(j->code, sizeof(j->code), res->r.code);
		bill_copy_str(j->msg, sizeof(j->msg), res->r.message);
		bill_copy_str(j->psp_status, sizeof(j->psp_status), "REFUSED");
		break;
	default:
		/* Nothing happened at the PSP: the charge stays unanswered, asked again. */
		log_warn("billing: a Pix call was not processed; tried again",
			 "charge_id=%" PRIu64 " outcome=%s", j->c.id, gw_outcome_name(out));
		job_end(j, true);
		return;
	}
	store_answer(j);
}

static void pix_call(bill_job_t *j)
{
	srv_t *s = j->b->s;
	store_txn_t *txn = NULL;
	gw_t *gw = NULL;
	char due[16];
	int rc = store_read_begin(s->store, &txn);
	if (rc == 0) {
		rc = prov_adapter(s, txn, j->c.organization_id, PIX_SERVICE, &gw);
		store_read_end(txn);
	}
	if (rc == 0) {
		switch (j->pix_op) {
		case PIX_OP_PUT: {
			/* The due date is the first attempt's settlement day. */
			bill_copy_str(due, sizeof(due), j->settle_date);
			gw_pix_cobr_req_t req = {.txid = j->txid,
						 .id_rec = j->id_rec,
						 .due_date = due,
						 .amount_cents = j->c.amount};
			rc = j->id_rec[0] != '\0' ? gw_pix_put_cobr(gw, &req, on_pix, j) : -EINVAL;
			break;
		}
		case PIX_OP_RETRY:
			rc = gw_pix_retry_cobr(gw, j->txid, j->settle_date, on_pix, j);
			if (rc == 0)
				j->b->pix_retried_total++;
			break;
		case PIX_OP_CANCEL:
			rc = gw_pix_cancel_cobr(gw, j->txid, on_pix, j);
			break;
		default:
			rc = gw_pix_query_cobr(gw, j->txid, on_pix, j);
			break;
		}
	}
	if (rc == 0) {
		if (++j->b->calling > j->b->calling_max)
			j->b->calling_max = j->b->calling;
		return;
	}
	log_error("billing: a Pix call was not made", "charge_id=%" PRIu64 " op=%d err=%d", j->c.id,
		  j->pix_op, rc);
	j->b->stats.failed++;
	job_end(j, true);
}

/* A new attempt, only if it is still the next one of an OPEN invoice. */
static int insert_fn(store_txn_t *txn, void *arg)
{
	bill_job_t *j = arg;
	pix_charges_t pc = {0};
	int rc = bill_invoice_open(txn, j->c.invoice_id);
	if (rc != 0)
		return rc;
	rc = charges_of_invoice(txn, j->c.invoice_id, &pc);
	/* Planned twice, or another attempt is open: never two instructions. */
	bool next = rc == 0 && pc.n + 1 == j->c.attempt && open_of(&pc) == NULL;
	charges_free(&pc);
	if (rc != 0)
		return rc;
	if (!next)
		return -EALREADY;
	rc = store_seq_next(txn, "charge", &j->c.id);
	if (rc == 0) {
		j->c.created_ms = j->c.updated_ms = srv_now_ms(j->b->s);
		rc = db_charge_put(txn, NULL, &j->c);
	}
	return rc;
}

static void inserted(void *arg, int rc)
{
	bill_job_t *j = arg;
	struct srv_billing *b = j->b;
	if (rc != 0) {
		if (rc != -EALREADY) {
			b->stats.failed++;
			log_error("billing: storing a Pix attempt failed",
				  "invoice_id=%" PRIu64 " err=%d", j->c.invoice_id, rc);
		}
		job_end(j, false);
		return;
	}
	if (j->pix_op == PIX_OP_REFUSE) {
		b->stats.pix_refused++;
		b->pix_refused_total++;
		log_warn("billing: a Pix charge was not sent (amount); charge it by card or a "
			 "payment link",
			 "charge_id=%" PRIu64 " invoice_id=%" PRIu64 " why=\"%s\"", j->c.id,
			 j->c.invoice_id, j->msg);
		job_end(j, false);
		return;
	}
	if (j->pix_op == PIX_OP_PUT)
		b->stats.pix_sent++;
	else
		b->stats.pix_retried++;
	if (b->life.stopping) {
		job_end(j, false); /* stored unanswered: the next start asks first */
		return;
	}
	pix_call(j);
}

static int note_fn(store_txn_t *txn, void *arg)
{
	bill_job_t *j = arg;
	Ospay__V1__Charge *old = NULL;
	int rc = kit_load(txn, DB_CHARGES, j->c.id, &ospay__v1__charge__descriptor, &old);
	if (rc != 0)
		return rc;
	Ospay__V1__Charge nc = *old;
	nc.note = NOTE_STANDS;
	nc.updated_ms = srv_now_ms(j->b->s);
	rc = db_charge_put(txn, old, &nc);
	ospay__v1__charge__free_unpacked(old, NULL);
	return rc;
}

static void noted(void *arg, int rc)
{
	bill_job_t *j = arg;
	if (rc == 0)
		log_warn("billing: an invoice left OPEN after its Pix instruction's cancel "
			 "deadline; the instruction stands (refund if paid)",
			 "charge_id=%" PRIu64 " invoice_id=%" PRIu64, j->c.id, j->c.invoice_id);
	job_end(j, false);
}

void bill_pix_start(bill_job_t *j, void (*end)(bill_job_t *j, bool again))
{
	j->pix_end = end;
	int rc = 0;
	switch (j->pix_op) {
	case PIX_OP_PUT:
	case PIX_OP_RETRY:
	case PIX_OP_REFUSE:
		rc = store_write(j->b->s->store, insert_fn, inserted, j);
		if (rc != 0)
			inserted(j, rc);
		return;
	case PIX_OP_NOTE:
		rc = store_write(j->b->s->store, note_fn, noted, j);
		if (rc != 0)
			noted(j, rc);
		return;
	default:
		pix_call(j);
		return;
	}
}

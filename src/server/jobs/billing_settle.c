/*
 * How a card charge's outcome is written, whichever path learned it (the
 * call's answer, a query, a notification, an operator): the attempts of an
 * invoice, bill_charge_settle, the suspension of a service and its lifting.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "server/jobs/billing_job.h"

/* ------------------------------------------------------------------ writes */

/*
 * Counts an invoice's charges in txn: the run's attempts (*n), the operator's
 * (*n_op), and whether any is bill_unresolved (*busy); first (may be NULL) gets the
 * first bill_unresolved one, the caller's to free (NULL when none).
 */
int bill_count_attempts(store_txn_t *txn, uint64_t invoice, size_t *n, size_t *n_op, bool *busy,
			Ospay__V1__Charge **first)
{
	db_scan_t *scan = NULL;
	const uint8_t *val;
	*n = *n_op = 0;
	*busy = false;
	if (first != NULL)
		*first = NULL;
	int rc = db_scan_id(txn, DB_CHG_INVOICE, invoice, &scan);
	while (rc == 0 && (rc = db_scan_next(scan, &val)) == 0) {
		Ospay__V1__Charge *c = NULL;
		rc = bill_charge_at(txn, val, &c);
		if (rc != 0)
			break;
		/* A Pix attempt is the other rail's: card attempts count on without it. */
		if (c->recurring && c->rail != OSPAY__V1__PAYMENT_RAIL__PAYMENT_RAIL_PIX_AUTOMATICO)
			(*n)++;
		else
			(*n_op)++;
		if (bill_unresolved(c)) {
			*busy = true;
			if (first != NULL && *first == NULL) {
				*first = c;
				continue;
			}
		}
		ospay__v1__charge__free_unpacked(c, NULL);
	}
	db_scan_close(scan);
	return rc == -ENOENT ? 0 : rc;
}

/* A new attempt (PENDING or NO_VALID_CARD), only if it is still the next one
 * and its invoice is still OPEN (a cancel may have come since it was planned). */
int bill_insert_fn(store_txn_t *txn, void *arg)
{
	bill_job_t *j = arg;
	size_t n = 0, n_op = 0;
	bool busy = false;
	int rc = bill_invoice_open(txn, j->c.invoice_id);
	if (rc != 0)
		return rc;
	rc = bill_count_attempts(txn, j->c.invoice_id, &n, &n_op, &busy, NULL);
	if (rc != 0)
		return rc;
	/* Another run stored this attempt meanwhile, or an operator charge of the
	 * invoice is in flight: never two calls for it. */
	if (n + 1 != j->c.attempt || busy)
		return -EALREADY;
	rc = bill_charge_new(txn, j, srv_now_ms(j->b->s));
	if (rc == 0) /* NO_VALID_CARD tells the customer */
		rc = outbox_on_charge(j->b->s, txn, &j->c, j->c.created_ms);
	return rc;
}

/*
 * A first use's approval opens the card's stored-credential chain: the
 * network's id is kept with the card (in the clear: it is no card data, and a
 * key rotation must not lose it). A card that has an id keeps it; a card
 * removed meanwhile has nothing to keep it in.
 */
static int card_chain_open(store_txn_t *txn, const bill_job_t *j)
{
	Ospay__V1__CardRecord *rec = NULL;
	int rc = kit_load(txn, DB_CARDS, j->c.card_id, &ospay__v1__card_record__descriptor, &rec);
	if (rc == -ENOENT)
		return 0;
	if (rc == 0 && rec->card->network_txn_id[0] == '\0') {
		Ospay__V1__Card c = *rec->card;
		Ospay__V1__CardRecord nr = *rec;
		c.network_txn_id = (char *)j->ntid;
		c.network_txn_charge_id = j->c.id;
		nr.card = &c;
		rc = db_put_by_id(txn, DB_CARDS, c.id, &nr.base);
		if (rc == 0)
			log_info("card: stored-credential chain opened",
				 "card_id=%" PRIu64 " charge_id=%" PRIu64, c.id, j->c.id);
	}
	ospay__v1__card_record__free_unpacked(rec, NULL);
	return rc;
}

/* ------------------------------------------------------------------ the card's attempts */

/* billing_card_log's walk: the attempts so far, one more per log entry. */
typedef struct attempt_walk {
	store_txn_t *txn;
	uint64_t skip;
	retry_attempt_t *v;
	size_t n, cap;
} attempt_walk_t;

static int attempt_take(const Ospay__V1__CardAttemptRecord *rec, void *arg)
{
	attempt_walk_t *w = arg;
	Ospay__V1__Charge *c = NULL;
	if (rec->charge_id != 0 && rec->charge_id == w->skip)
		return 0;
	if (w->n == w->cap) {
		size_t cap = w->cap == 0 ? 16 : 2 * w->cap;
		retry_attempt_t *nv = realloc(w->v, cap * sizeof(*nv));
		if (nv == NULL)
			return -ENOMEM;
		w->v = nv;
		w->cap = cap;
	}
	retry_attempt_t *a = &w->v[w->n];
	memset(a, 0, sizeof(*a));
	a->at_ms = rec->at_ms;
	a->zero_auth = rec->zero_auth;
	if (rec->zero_auth) {
		a->declined = rec->declined;
		a->reattempt = rec->reattempt;
		a->never = rec->declined && rec->next_retry_ms == 0;
		a->next_ms = rec->next_retry_ms;
		bill_copy_str(a->advice, sizeof(a->advice), rec->advice);
		w->n++;
		return 0;
	}
	/* A charge: its record is the truth about it (settled since, or not). */
	int rc = kit_load(w->txn, DB_CHARGES, rec->charge_id, &ospay__v1__charge__descriptor, &c);
	if (rc == -ENOENT) /* stored in the same transaction, later */
		return 0;
	if (rc != 0)
		return rc;
	a->declined = c->status == CHG(DECLINED);
	a->reattempt = c->reattempt;
	/* Judged declines only: one stored before the brand rules has no verdict. */
	a->never = a->declined && c->decline_class[0] != '\0' && c->next_retry_ms == 0;
	a->next_ms = a->declined ? c->next_retry_ms : 0;
	bill_copy_str(a->advice, sizeof(a->advice), c->advice);
	ospay__v1__charge__free_unpacked(c, NULL);
	w->n++;
	return 0;
}

int billing_card_log(store_txn_t *txn, uint64_t org, const uint8_t *fp, int64_t now_ms,
		     uint64_t skip, retry_attempt_t **out, size_t *n)
{
	attempt_walk_t w = {.txn = txn, .skip = skip};
	int rc = db_card_attempts_each(txn, org, fp, now_ms - RETRY_WINDOW_MS + 1, now_ms,
				       attempt_take, &w);
	if (rc != 0) {
		free(w.v);
		w.v = NULL;
		w.n = 0;
	}
	*out = w.v;
	*n = w.n;
	return rc;
}

/* The fingerprint of a stored card (false: none, a card older than it). */
static int card_fp(store_txn_t *txn, uint64_t card, uint8_t fp[CARD_FP_LEN], bool *has)
{
	Ospay__V1__CardRecord *rec = NULL;
	int rc = kit_load(txn, DB_CARDS, card, &ospay__v1__card_record__descriptor, &rec);
	*has = rc == 0 && rec->fingerprint.len == CARD_FP_LEN;
	if (*has)
		memcpy(fp, rec->fingerprint.data, CARD_FP_LEN);
	ospay__v1__card_record__free_unpacked(rec, NULL);
	return rc == -ENOENT ? 0 : rc;
}

/* Reattempts of one stored card id in the window (DB_CHG_CARD): a card
 * without a fingerprint, stored before the log existed. */
static int card_id_reattempts(store_txn_t *txn, uint64_t card, int64_t now_ms, uint64_t skip,
			      size_t *n)
{
	uint8_t key[8], from[DB_POS_LEN];
	db_scan_t *scan = NULL;
	const uint8_t *pos;
	*n = 0;
	be64_put(key, card);
	db_pos_put(from, now_ms - RETRY_WINDOW_MS + 1, 0);
	int rc = db_scan_open(txn, DB_CHG_CARD, key, sizeof(key), 1, from, DB_POS_LEN, &scan);
	while (rc == 0 && (rc = db_scan_next(scan, &pos)) == 0) {
		Ospay__V1__Charge *c = NULL;
		if (db_pos_sort(pos) > now_ms)
			break;
		if (db_pos_id(pos) == skip)
			continue;
		rc = kit_load(txn, DB_CHARGES, db_pos_id(pos), &ospay__v1__charge__descriptor, &c);
		if (rc == 0 && c->reattempt)
			(*n)++;
		ospay__v1__charge__free_unpacked(c, NULL);
	}
	db_scan_close(scan);
	return rc == -ENOENT ? 0 : rc;
}

int bill_card_reattempts(store_txn_t *txn, uint64_t org, uint64_t card, int64_t now_ms,
			 uint64_t skip, size_t *n)
{
	uint8_t fp[CARD_FP_LEN];
	retry_attempt_t *log = NULL;
	size_t len = 0;
	bool has = false;
	int rc = card_fp(txn, card, fp, &has);
	if (rc != 0 || !has)
		return rc != 0 ? rc : card_id_reattempts(txn, card, now_ms, skip, n);
	/* The card as its network counts it: every card with its number, Zero Auths too. */
	rc = billing_card_log(txn, org, fp, now_ms, skip, &log, &len);
	*n = rc == 0 ? retry_log_reattempts(log, len, now_ms) : 0;
	free(log);
	return rc;
}

/*
 * A new charge (id set) of a card joins the log of its number: a charge
 * right after a declined Zero Auth of that number retries it (a reattempt).
 * A card without a fingerprint has no log; a NO_VALID_CARD attempt is no
 * call, so nothing the network sees.
 */
static int attempt_log_charge(store_txn_t *txn, bill_job_t *j, int64_t now_ms)
{
	uint8_t fp[CARD_FP_LEN];
	retry_attempt_t *log = NULL;
	size_t n = 0;
	bool has = false;
	bool call = j->c.card_id != 0 && j->c.status == CHG(PENDING);
	int rc = call ? card_fp(txn, j->c.card_id, fp, &has) : 0;
	if (rc != 0 || !has)
		return rc;
	rc = billing_card_log(txn, j->c.organization_id, fp, now_ms, j->c.id, &log, &n);
	const retry_attempt_t *latest = NULL;
	for (size_t i = 0; rc == 0 && i < n; i++)
		if (latest == NULL || log[i].at_ms >= latest->at_ms)
			latest = &log[i];
	if (latest != NULL && latest->zero_auth && latest->declined)
		j->c.reattempt = true;
	free(log);
	Ospay__V1__CardAttemptRecord rec = OSPAY__V1__CARD_ATTEMPT_RECORD__INIT;
	rec.at_ms = now_ms;
	rec.charge_id = j->c.id;
	rec.card_id = j->c.card_id;
	if (rc == 0)
		rc = db_card_attempt_put(txn, j->c.organization_id, fp, &rec);
	return rc;
}

int bill_charge_new(store_txn_t *txn, bill_job_t *j, int64_t now_ms)
{
	int rc = store_seq_next(txn, "charge", &j->c.id);
	if (rc == 0)
		rc = attempt_log_charge(txn, j, now_ms);
	if (rc == 0 && j->c.reattempt)
		rc = bill_mark_reattempt(txn, j, now_ms);
	if (rc == 0) {
		j->c.created_ms = j->c.updated_ms = now_ms;
		rc = db_charge_put(txn, NULL, &j->c);
	}
	return rc;
}

void billing_run_count_refused(srv_t *s)
{
	if (s->billing != NULL)
		s->billing->retries_refused_total++;
}

int bill_mark_reattempt(store_txn_t *txn, bill_job_t *j, int64_t now_ms)
{
	size_t n = 0;
	int rc = bill_card_reattempts(txn, j->c.organization_id, j->c.card_id, now_ms, j->c.id, &n);
	/* Recorded, not refused: the fee is the network's, the retry is still allowed. */
	if (rc == 0)
		j->c.retry_fee = retry_fee(j->brand, n);
	return rc;
}

/* The end of the local day after day (the schedule's last chance), in UTC ms. */
static int window_end_ms(store_txn_t *txn, uint64_t org, const char *day, int64_t *out)
{
	Ospay__V1__Organization *o = NULL;
	int64_t d = 0;
	int rc = date_parse(day, &d) == 0 ? 0 : -EBADMSG;
	if (rc == 0)
		rc = kit_load(txn, DB_ORGS, org, &ospay__v1__organization__descriptor, &o);
	if (rc == 0)
		*out = (d + 2) * RETRY_DAY_MS - (int64_t)o->utc_offset_minutes * 60000;
	ospay__v1__organization__free_unpacked(o, NULL);
	return rc;
}

/*
 * A new decline: the brand's verdict (class, advice, next retry) and, for a
 * run's attempt the schedule would follow with another, whether the brand
 * allows that one: not when it says never, when the card's reattempts in 30
 * days are used up (Visa), or when its wait ends after the window.
 */
static int judge_decline(store_txn_t *txn, bill_job_t *j, int64_t now)
{
	retry_verdict_t v;
	retry_judge(j->brand, j->code, j->mac, now, &v);
	bill_copy_str(j->cls, sizeof(j->cls), retry_class_name(v.cls));
	bill_copy_str(j->advice, sizeof(j->advice), v.advice);
	j->c.next_retry_ms = v.never ? 0 : v.next_ms;
	j->c.retry_refused = false;
	j->refused = false;
	/* A replaced card's retry goes to its replacement: not this card's rules. */
	if (!j->c.recurring || j->c.attempt >= BILLING_MAX_ATTEMPTS || j->c.irreversible ||
	    j->replace)
		return 0;
	size_t n = 0;
	int64_t end = 0;
	int rc = bill_card_reattempts(txn, j->c.organization_id, j->c.card_id, now, 0, &n);
	if (rc == 0)
		rc = window_end_ms(txn, j->c.organization_id, j->c.local_date, &end);
	if (rc != 0)
		return rc;
	if (v.never || !retry_window_allows(j->brand, n) || v.next_ms >= end) {
		j->c.retry_refused = j->refused = true;
		size_t len = strlen(j->note);
		const char *why = v.never || v.next_ms >= end
					  ? v.advice
					  : "Visa allows 20 reattempts of a card in 30 days";
		snprintf(j->note + len, sizeof(j->note) - len, "%sno second attempt: %s",
			 len > 0 ? "; " : "", why);
	}
	return 0;
}

#define CARD_REPLACED OSPAY__V1__CARD_STATUS__CARD_STATUS_REPLACED

/* The services of customer that chose card from now charge card to. */
static int services_move(store_txn_t *txn, uint64_t customer, uint64_t from, uint64_t to,
			 int64_t now)
{
	db_scan_t *scan = NULL;
	const uint8_t *val;
	int rc = db_scan_id(txn, DB_SERVICES_BY_CUST, customer, &scan);
	while (rc == 0 && (rc = db_scan_next(scan, &val)) == 0) {
		Ospay__V1__CustomerService *svc = NULL;
		rc = kit_load(txn, DB_SERVICES, be64_get(val),
			      &ospay__v1__customer_service__descriptor, &svc);
		if (rc == 0 && svc->recurring_payment != NULL &&
		    svc->recurring_payment->card_id == from) {
			Ospay__V1__RecurringPayment rp = *svc->recurring_payment;
			Ospay__V1__CustomerService s = *svc;
			rp.card_id = to;
			s.recurring_payment = &rp;
			s.updated_ms = now;
			rc = db_put_by_id(txn, DB_SERVICES, s.id, &s.base);
		}
		ospay__v1__customer_service__free_unpacked(svc, NULL);
	}
	db_scan_close(scan);
	return rc == -ENOENT ? 0 : rc;
}

/*
 * The card updater (Renova Fácil): the gateway's replacement for the charged
 * card becomes a card of the customer (its token sealed, the old card's
 * holder, consent, chain and default), the old card is kept as REPLACED with
 * why, and the services that chose it move to the new one. Once per card:
 * a card already replaced is left as it is.
 */
static int card_replace(store_txn_t *txn, srv_t *s, bill_job_t *j, int64_t now)
{
	Ospay__V1__CardRecord *old = NULL;
	uint64_t id = 0;
	char reason[160];
	int rc = kit_load(txn, DB_CARDS, j->c.card_id, &ospay__v1__card_record__descriptor, &old);
	if (rc == -ENOENT || (rc == 0 && old->card->status == CARD_REPLACED)) {
		rc = 0;
		goto out;
	}
	if (rc == 0)
		rc = store_seq_next(txn, "card", &id);
	if (rc != 0)
		goto out;
	Ospay__V1__Card nc = *old->card;
	nc.id = id;
	nc.brand = (Ospay__V1__CardBrand)j->new_brand;
	nc.last4 = j->new_last4;
	nc.exp_month = (uint32_t)j->new_exp.month;
	nc.exp_year = (uint32_t)j->new_exp.year;
	nc.created_ms = now;
	nc.status = OSPAY__V1__CARD_STATUS__CARD_STATUS_ACTIVE;
	nc.replaces = old->card->id;
	/* A new number: its fingerprint is not the old one's (none; per card). */
	rc = db_card_insert(txn, &nc, &s->vault_key, j->new_token, NULL, 0);
	snprintf(reason, sizeof(reason),
		 "the issuer replaced it (Cielo Renova Fácil, answer to charge %" PRIu64
		 "): card %" PRIu64,
		 j->c.id, id);
	Ospay__V1__Card oc = *old->card;
	Ospay__V1__CardRecord orec = *old;
	oc.status = CARD_REPLACED;
	oc.replaced_by = id;
	oc.replaced_ms = now;
	oc.replaced_reason = reason;
	oc.is_default = false;
	orec.card = &oc;
	if (rc == 0)
		rc = db_put_by_id(txn, DB_CARDS, oc.id, &orec.base);
	if (rc == 0)
		rc = services_move(txn, oc.customer_id, oc.id, id, now);
	if (rc == 0) {
		size_t len = strlen(j->note);
		snprintf(j->note + len, sizeof(j->note) - len,
			 "%scard %" PRIu64 " replaced by card %" PRIu64 " (Renova Fácil)",
			 len > 0 ? "; " : "", oc.id, id);
		log_info("card replaced by the issuer's new card",
			 "card_id=%" PRIu64 " new_card_id=%" PRIu64 " charge_id=%" PRIu64, oc.id,
			 id, j->c.id);
	}
out:
	ospay__v1__card_record__free_unpacked(old, NULL);
	return rc;
}

/* How far a charge's state is from "nothing taken": never moved back. */
static int money_rank(int status)
{
	return status == CHG(APPROVED)  ? 1
	       : status == CHG(VOIDING) ? 2
	       : status == CHG(VOIDED)  ? 3
					: 0;
}

static const char *invoice_status_name(int st)
{
	return st == INV_OPEN ? "OPEN" : st == INV_PAID ? "PAID" : "CANCELED";
}

/* The stored state stands (a late or lesser answer): j takes it back. */
static void keep_stored(bill_job_t *j, const Ospay__V1__Charge *old)
{
	j->c.status = old->status;
	j->c.irreversible = old->irreversible;
	j->c.resolved_by = old->resolved_by;
	bill_copy_str(j->code, sizeof(j->code), old->return_code);
	bill_copy_str(j->msg, sizeof(j->msg), old->return_message);
	bill_copy_str(j->payment_id, sizeof(j->payment_id), old->payment_id);
	bill_copy_str(j->note, sizeof(j->note), old->note);
	bill_copy_str(j->ntid, sizeof(j->ntid), old->network_txn_id);
	bill_copy_str(j->cls, sizeof(j->cls), old->decline_class);
	bill_copy_str(j->advice, sizeof(j->advice), old->advice);
	bill_copy_str(j->mac, sizeof(j->mac), old->merchant_advice_code);
	j->c.next_retry_ms = old->next_retry_ms;
	j->c.retry_refused = old->retry_refused;
}

/*
 * Writes a charge's new state (j->c) over the stored one (old), with what
 * follows it in the same transaction. Whatever path learned the answer (the
 * call, a query, a notification, an operator), the rules are these: a state
 * that says money was taken is never moved back; a charge that becomes
 * APPROVED pays its invoice when it is OPEN, else it took money for an
 * invoice that no longer wants it and goes VOIDING (the resolve pass voids
 * it at the gateway); a payment id is registered so that the gateway's
 * notifications about it are known. May run again (store.h).
 */
int bill_charge_settle(store_txn_t *txn, srv_t *s, const Ospay__V1__Charge *old, bill_job_t *j)
{
	Ospay__V1__Invoice *inv = NULL;
	int64_t now = srv_now_ms(s);
	int rc = 0;
	j->refused = false;
	if (money_rank((int)j->c.status) < money_rank((int)old->status)) {
		keep_stored(j, old);
		return 0;
	}
	j->c.created_ms = old->created_ms;
	j->c.updated_ms = now;
	if (j->c.status == CHG(APPROVED) && old->status != CHG(APPROVED)) {
		rc = kit_load(txn, DB_INVOICES, j->c.invoice_id, &ospay__v1__invoice__descriptor,
			      &inv);
		if (rc != 0)
			goto out;
		if (inv->status == INV_OPEN) {
			rc = billing_run_pay_invoice(txn, inv, now);
		} else {
			j->c.status = CHG(VOIDING);
			snprintf(j->note, sizeof(j->note),
				 "approved after invoice %" PRIu64
				 " was %s: the sale is voided at the gateway",
				 inv->id, invoice_status_name((int)inv->status));
			log_warn("billing: a sale was approved for an invoice no longer open; "
				 "voiding it",
				 "charge_id=%" PRIu64 " invoice_id=%" PRIu64 " invoice_status=%s",
				 j->c.id, inv->id, invoice_status_name((int)inv->status));
		}
	}
	if (rc == 0 && j->c.status == CHG(APPROVED) && j->c.first_use && j->ntid[0] != '\0')
		rc = card_chain_open(txn, j);
	if (rc == 0 && j->c.status == CHG(DECLINED) && old->status != CHG(DECLINED) && j->replace)
		rc = card_replace(txn, s, j, now);
	if (rc == 0 && j->c.status == CHG(DECLINED) && old->status != CHG(DECLINED))
		rc = judge_decline(txn, j, now);
	if (rc == 0)
		rc = db_charge_put(txn, old, &j->c);
	if (rc == 0) /* a failed charge tells the customer */
		rc = outbox_on_charge(s, txn, &j->c, now);
	if (rc == 0 && j->payment_id[0] != '\0')
		rc = prov_object_register_charge(txn, j->c.organization_id, (int)j->c.gateway,
						 j->payment_id, j->c.id, now);
out:
	ospay__v1__invoice__free_unpacked(inv, NULL);
	return rc;
}

void bill_take_outcome(bill_job_t *j, int status, const char *code, const char *mac,
		       const char *ntid, bool irreversible)
{
	j->c.status = status;
	if (status == CHG(APPROVED) && j->c.first_use && ntid != NULL && ntid[0] != '\0')
		bill_copy_str(j->ntid, sizeof(j->ntid), ntid);
	if (status == CHG(DECLINED)) {
		j->c.irreversible = irreversible || decline_is_irreversible(code, j->brand);
		bill_copy_str(j->mac, sizeof(j->mac), mac);
	}
}

/* The outcome of a call: the charge, and what follows it (charge_settle). */
int bill_outcome_fn(store_txn_t *txn, void *arg)
{
	bill_job_t *j = arg;
	Ospay__V1__Charge *old = NULL;
	/* Run again: start from the answer, not from what a first run made of it. */
	if (!j->answered) {
		j->answer = (int)j->c.status;
		j->answered = true;
		memcpy(j->note0, j->note, sizeof(j->note0));
	}
	j->c.status = j->answer;
	memcpy(j->note, j->note0, sizeof(j->note));
	int rc = kit_load(txn, DB_CHARGES, j->c.id, &ospay__v1__charge__descriptor, &old);
	if (rc == 0)
		rc = bill_charge_settle(txn, j->b->s, old, j);
	ospay__v1__charge__free_unpacked(old, NULL);
	return rc;
}

/* ------------------------------------------------------------------ suspension */

static bool service_blocked(const Ospay__V1__CustomerService *svc)
{
	return svc->status == OSPAY__V1__SERVICE_STATUS__SERVICE_STATUS_BLOCKED;
}

/* An OPEN invoice past the window: a block job when it blocks an ACTIVE service. */
int bill_plan_block(struct srv_billing *b, store_txn_t *txn, uint64_t id, int64_t due,
		    bill_job_t **out)
{
	Ospay__V1__Invoice *inv = NULL;
	Ospay__V1__CustomerService *svc = NULL;
	*out = NULL;
	size_t n = 0, n_op = 0;
	bool busy = false;
	if (!billing_blocks_service(BILLING_INVOICE_OPEN, due, b->org_days, b->org_today))
		return 0;
	/* A charge of it still bill_unresolved (unknown, waiting for an operator) may
	 * have paid it: the customer is not blocked on a guess. */
	int rc = bill_count_attempts(txn, id, &n, &n_op, &busy, NULL);
	if (rc != 0 || busy)
		return rc;
	rc = kit_load(txn, DB_INVOICES, id, &ospay__v1__invoice__descriptor, &inv);
	if (rc == 0)
		rc = kit_load(txn, DB_SERVICES, inv->service_id,
			      &ospay__v1__customer_service__descriptor, &svc);
	if (rc == 0 && !service_blocked(svc)) {
		bill_job_t *j = calloc(1, sizeof(*j));
		if (j == NULL) {
			rc = -ENOMEM;
		} else {
			j->b = b;
			j->block = true;
			j->c.invoice_id = id;
			j->c.service_id = svc->id;
			*out = j;
		}
	}
	ospay__v1__customer_service__free_unpacked(svc, NULL);
	ospay__v1__invoice__free_unpacked(inv, NULL);
	return rc;
}

static int set_service_status(store_txn_t *txn, uint64_t id, int status, int64_t now_ms)
{
	Ospay__V1__CustomerService *svc = NULL;
	int rc = kit_load(txn, DB_SERVICES, id, &ospay__v1__customer_service__descriptor, &svc);
	if (rc != 0)
		return rc;
	if ((int)svc->status != status) {
		svc->status = status;
		svc->updated_ms = now_ms;
		rc = db_put_by_id(txn, DB_SERVICES, id, &svc->base);
		log_info(status == OSPAY__V1__SERVICE_STATUS__SERVICE_STATUS_BLOCKED
				 ? "service blocked by the suspension profile"
				 : "service unblocked: its blocking invoices are settled",
			 "service_id=%" PRIu64, id);
	}
	ospay__v1__customer_service__free_unpacked(svc, NULL);
	return rc;
}

int bill_block_fn(store_txn_t *txn, void *arg)
{
	bill_job_t *j = arg;
	int rc = set_service_status(txn, j->c.service_id,
				    OSPAY__V1__SERVICE_STATUS__SERVICE_STATUS_BLOCKED,
				    srv_now_ms(j->b->s));
	if (rc == 0)
		rc = outbox_on_service_blocked(j->b->s, txn, j->c.invoice_id, j->c.service_id,
					       srv_now_ms(j->b->s));
	return rc;
}

int billing_run_pay_invoice(store_txn_t *txn, const Ospay__V1__Invoice *inv, int64_t now_ms)
{
	int64_t due = 0;
	if (date_parse(inv->due_date, &due) != 0)
		return -EBADMSG;
	Ospay__V1__Invoice paid = *inv;
	paid.status = INV_PAID;
	paid.updated_ms = now_ms;
	int rc = db_invoice_put(txn, inv, &paid, due);
	return rc == 0 ? billing_run_unblock(txn, &paid, now_ms) : rc;
}

int billing_run_unblock(store_txn_t *txn, const Ospay__V1__Invoice *inv, int64_t now_ms)
{
	Ospay__V1__CustomerService *svc = NULL;
	Ospay__V1__Organization *org = NULL;
	db_scan_t *scan = NULL;
	int days = 0;
	bool still = false;
	int rc = kit_load(txn, DB_SERVICES, inv->service_id,
			  &ospay__v1__customer_service__descriptor, &svc);
	/* A service blocked with no profile was blocked by an operator: left alone. */
	if (rc != 0 || !service_blocked(svc))
		goto out;
	rc = bill_profile_days(txn, inv->organization_id, &days);
	if (rc != 0 || days == 0)
		goto out;
	rc = kit_load(txn, DB_ORGS, inv->organization_id, &ospay__v1__organization__descriptor,
		      &org);
	if (rc != 0)
		goto out;
	int64_t today = date_local_day(now_ms, org->utc_offset_minutes);
	uint8_t key[8], from[DB_POS_LEN];
	const uint8_t *pos;
	be64_put(key, inv->customer_id);
	db_pos_put(from, INT64_MIN, 0);
	rc = db_scan_open(txn, DB_INV_CUSTOMER, key, sizeof(key), 1, from, DB_POS_LEN, &scan);
	while (rc == 0 && !still && (rc = db_scan_next(scan, &pos)) == 0) {
		if (db_pos_id(pos) == inv->id ||
		    !billing_blocks_service(BILLING_INVOICE_OPEN, db_pos_sort(pos), days, today))
			continue;
		Ospay__V1__Invoice *o = NULL;
		rc = kit_load(txn, DB_INVOICES, db_pos_id(pos), &ospay__v1__invoice__descriptor,
			      &o);
		if (rc == 0)
			still = o->service_id == inv->service_id && o->status == INV_OPEN;
		ospay__v1__invoice__free_unpacked(o, NULL);
	}
	if (rc == -ENOENT)
		rc = 0;
	if (rc == 0 && !still)
		rc = set_service_status(txn, inv->service_id,
					OSPAY__V1__SERVICE_STATUS__SERVICE_STATUS_ACTIVE, now_ms);
out:
	db_scan_close(scan);
	ospay__v1__organization__free_unpacked(org, NULL);
	ospay__v1__customer_service__free_unpacked(svc, NULL);
	return rc == -ENOENT ? 0 : rc;
}

/* ------------------------------------------------------------------ unknown first */

static const char *charge_wait_text(int status)
{
	switch (status) {
	case CHG(PENDING):
		return "is in flight at the gateway";
	case CHG(UNKNOWN):
		return "has an unknown outcome, being resolved by querying the gateway";
	case CHG(OPERATOR_REVIEW):
		return "has an unknown outcome the gateway cannot be asked about: it waits for "
		       "the gateway's notification or an operator (Billing/ResolveCharge)";
	default:
		return "is being voided at the gateway";
	}
}

int billing_run_refuse_unresolved(srv_req_t *r, store_txn_t *txn, uint64_t invoice,
				  const char *what)
{
	Ospay__V1__Charge *c = NULL;
	size_t n = 0, n_op = 0;
	bool busy = false;
	int rc = bill_count_attempts(txn, invoice, &n, &n_op, &busy, &c);
	if (rc != 0)
		return srv_store_fail(r, rc, "charges lookup");
	if (c == NULL)
		return 0;
	rc = srv_fail(r, ST_FAILED_PRECONDITION,
		      "invoice %" PRIu64 ": charge %" PRIu64 " (%s %u, order id %s) %s; it is "
		      "settled before %s",
		      invoice, c->id, c->recurring ? "attempt" : "operator charge", c->attempt,
		      c->merchant_order_id, charge_wait_text((int)c->status), what);
	ospay__v1__charge__free_unpacked(c, NULL);
	return rc;
}

/* ------------------------------------------------------------------ notifications */

int billing_run_charge_by_order(store_txn_t *txn, uint64_t org, const char *order_id,
				uint64_t *charge_id)
{
	db_scan_t *scan = NULL;
	const uint8_t *val;
	uint64_t invoice = 0;
	*charge_id = 0;
	if (billing_order_id_invoice(order_id, &invoice) != 0)
		return 0; /* not one of ours */
	int rc = db_scan_id(txn, DB_CHG_INVOICE, invoice, &scan);
	while (rc == 0 && *charge_id == 0 && (rc = db_scan_next(scan, &val)) == 0) {
		Ospay__V1__Charge *c = NULL;
		rc = bill_charge_at(txn, val, &c);
		if (rc == 0 && c->organization_id == org &&
		    strcmp(c->merchant_order_id, order_id) == 0)
			*charge_id = c->id;
		ospay__v1__charge__free_unpacked(c, NULL);
	}
	db_scan_close(scan);
	return rc == -ENOENT ? 0 : rc;
}

int billing_run_charge_answer(store_txn_t *txn, srv_t *s, const Ospay__V1__GatewayObjectRecord *obj,
			      bool *resolve)
{
	Ospay__V1__Charge *old = NULL;
	bill_job_t *j = NULL;
	*resolve = false;
	if (obj->charge_id == 0)
		return 0;
	int rc = kit_load(txn, DB_CHARGES, obj->charge_id, &ospay__v1__charge__descriptor, &old);
	if (rc == -ENOENT)
		return 0;
	if (rc != 0)
		return rc;
	int status = -1;
	/* The payment must be the charge's own: a notification only names a
	 * payment id, and its sender is authenticated by a shared id at best. */
	if (strcmp(obj->order_id, old->merchant_order_id) != 0) {
		log_warn("billing: a payment's answer names another order id; the charge is "
			 "left as it is",
			 "charge_id=%" PRIu64, old->id);
		goto out;
	}
	switch (obj->outcome) {
	case GW_OUTCOME_APPROVED:
		status = CHG(APPROVED);
		break;
	case GW_OUTCOME_DECLINED:
		/* Only a charge not settled yet learns a decline this way. */
		if (old->status == CHG(PENDING) || old->status == CHG(UNKNOWN) ||
		    old->status == CHG(OPERATOR_REVIEW))
			status = CHG(DECLINED);
		break;
	case GW_OUTCOME_CANCELED:
		if (old->status == CHG(VOIDING))
			status = CHG(VOIDED);
		break;
	default: /* PENDING, NOT_FOUND, errors: nothing settled */
		break;
	}
	/* A job is the shape charge_settle works on; it never calls anything. */
	j = status >= 0 ? bill_job_for_charge(s->billing, old) : NULL;
	if (status >= 0 && j == NULL)
		rc = -ENOMEM;
	if (j == NULL)
		goto out;
	bill_copy_str(j->code, sizeof(j->code), obj->code);
	bill_copy_str(j->msg, sizeof(j->msg), obj->message);
	bill_copy_str(j->payment_id, sizeof(j->payment_id), obj->ref);
	/* As the call's own answer would: an approved first use opens the chain. */
	bill_take_outcome(j, status, obj->code, obj->advice_code, obj->network_txn_id, false);
	if (status == CHG(VOIDED)) {
		size_t n = strlen(j->note);
		snprintf(j->note + n, sizeof(j->note) - n, "%svoided at the gateway",
			 n > 0 ? "; " : "");
	}
	rc = bill_charge_settle(txn, s, old, j);
	if (rc == 0 && j->c.status != old->status)
		log_info("billing: a notification settled a charge",
			 "charge_id=%" PRIu64 " invoice_id=%" PRIu64 " status=%d", j->c.id,
			 j->c.invoice_id, (int)j->c.status);
	*resolve = rc == 0 && j->c.status == CHG(VOIDING);
out:
	if (j != NULL)
		bill_job_free(j);
	ospay__v1__charge__free_unpacked(old, NULL);
	return rc;
}

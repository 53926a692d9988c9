/*
 * The Orders service's payment side (docs/spec.md 4.4, 4.6, 10.1): Finalize with its
 * payment (a PagoLivre link, a manual mode, cash), CancelPaymentAttempt and
 * RefreshPayment. Create, Get, List, Update, Reschedule and Cancel are orders.c's.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "server/services/orders_internal.h"

/* ------------------------------------------------------------------ finalize */

/*
 * Finalize is an SRV_M_ASYNC method: the handler validates in a read snapshot
 * and either starts the payment link at PagoLivre (integrated recurring
 * credit) or asks for the write at once (every other method); the write
 * (fin_commit) checks the order again in the batch, since it may have changed
 * meanwhile, and stores the outcome.
 */
typedef struct fin {
	srv_req_t *r;
	uint64_t order_id;
	uint64_t org_id;
	uint64_t payment_method_id;
	int method;
	int what;
	uint32_t installments;
	uint32_t attempt; /* integrated: the attempt the link belongs to */
	int64_t amount;   /* the order's amount the link was made for */
	int offset_min;   /* the organization's UTC offset, for due dates */
	char order_key[GW_ID_MAX];
	char link_url[GW_URL_MAX];
	char link_id[GW_ID_MAX];
	gw_t *gw;        /* alive while one of its calls runs (gateway.h) */
	bool recovering; /* the link is being looked up by key after a lost answer */
} fin_t;

/* Installment i (0-based) of n: monthly from today, the same day of the month
 * (the month's last day when shorter); the first takes the remainder. */
static void installment_fill(Ospay__V1__OrderInstallment *in, char due[11], uint32_t i, uint32_t n,
			     int64_t amount, int64_t today, int64_t now_ms)
{
	int y, m, d;
	date_to_civil(today, &y, &m, &d);
	int mm = m - 1 + (int)i;
	y += mm / 12;
	m = mm % 12 + 1;
	while (d > 28 && !date_valid(y, m, d))
		d--;
	date_format(date_from_civil(y, m, d), due, 11);
	ospay__v1__order_installment__init(in);
	in->number = i + 1;
	in->due_date = due;
	in->amount = amount / n + (i == 0 ? amount % n : 0);
	in->status = OSPAY__V1__INSTALLMENT_STATUS__INSTALLMENT_STATUS_WAITING;
	in->updated_ms = now_ms;
}

/* The write of Finalize, in the batch. */
static int fin_commit(srv_req_t *r, store_txn_t *txn)
{
	fin_t *f = r->async_arg;
	Ospay__V1__Order *old = NULL;
	Ospay__V1__OrderStatusChange closed, **hist = NULL;
	Ospay__V1__OrderInstallment inst[ORDER_MAX_INSTALLMENTS], *instp[ORDER_MAX_INSTALLMENTS];
	char due[ORDER_MAX_INSTALLMENTS][11];
	int rc = orders_load_open_order(r, txn, f->order_id, &old);
	if (rc != 0 || !srv_ok(r))
		goto out;
	if (old->payment_status == OSPAY__V1__ORDER_PAYMENT_STATUS__ORDER_PAYMENT_STATUS_PENDING) {
		rc = srv_fail(r, ST_FAILED_PRECONDITION, "order %llu has a payment pending",
			      (unsigned long long)old->id);
		goto out;
	}
	uint32_t prev_attempt = old->payment != NULL ? old->payment->attempt : 0;
	if (f->what == ORDER_FINALIZE_START_PAYMENT &&
	    (prev_attempt + 1 != f->attempt || old->amount != f->amount)) {
		/* Another attempt, or a new amount, got in while the link was made. */
		rc = srv_fail(r, ST_ABORTED,
			      "order %llu changed while its payment link was made; try again",
			      (unsigned long long)old->id);
		goto out;
	}
	const Ospay__V1__OrdersFinalizeRequest *in = (const void *)r->in;
	Ospay__V1__Order o = *old;
	Ospay__V1__OrderPayment pay = OSPAY__V1__ORDER_PAYMENT__INIT;
	Ospay__V1__OrderClosing closing;
	char reason[KIT_NAME_MAX + 1];
	/* The closing is checked again: the reason list may have changed meanwhile. */
	rc = orders_closing_build(r, txn, in, &closing, reason, sizeof(reason));
	if (rc != 0 || !srv_ok(r))
		goto out;
	o.closing = &closing;
	pay.payment_method_id = f->payment_method_id;
	pay.method_type = (Ospay__V1__PaymentMethodType)f->method;
	pay.installments = f->installments;
	pay.recorded_ms = r->now_ms;
	pay.attempt = prev_attempt;
	/* Work not concluded, closed without a payment: the order's payment stays as it was. */
	if (f->method != 0) {
		o.payment = &pay;
		/* The same write moves the payment-status index (db_order_put). */
		o.payment_status = order_finalize_payment_status(f->method, f->what);
	}
	if (order_finalize_closes(f->what))
		rc = orders_history_append(r, &o, &closed, ORDER_CLOSED, in->note, &hist);
	if (rc == 0 && f->what != ORDER_FINALIZE_CLOSE) {
		int64_t today = date_local_day(r->now_ms, f->offset_min);
		for (uint32_t i = 0; i < f->installments; i++) {
			installment_fill(&inst[i], due[i], i, f->installments, old->amount, today,
					 r->now_ms);
			instp[i] = &inst[i];
		}
		pay.schedule = instp;
		pay.n_schedule = f->installments;
		pay.integrated = f->what == ORDER_FINALIZE_START_PAYMENT;
		if (pay.integrated) {
			pay.attempt = f->attempt;
			pay.order_key = f->order_key;
			pay.link_url = f->link_url;
			pay.link_id = f->link_id;
			/* Makes the link's webhooks acceptable; the re-query updates the order. */
			rc = prov_object_register(txn, f->org_id, SRV_SERVICE_PAGOLIVRE,
						  f->order_key, r->now_ms);
			if (rc != 0)
				rc = srv_store_fail(r, rc, "payment link register");
		}
	}
	if (rc == 0 && srv_ok(r))
		rc = orders_put_order(r, txn, old, &o);
	/* The customer gets the link by WhatsApp too, when a notifier is set. */
	if (rc == 0 && srv_ok(r) && pay.integrated &&
	    (rc = outbox_on_link_created(r->srv, txn, &o, r->now_ms)) != 0)
		rc = srv_store_fail(r, rc, "notification");
	if (rc != 0 || !srv_ok(r))
		goto out;
	rc = kit_reply_one(r, &ospay__v1__orders_finalize_response__descriptor, &o.base);
	if (rc == 0)
		log_info("order finalized", "order_id=%llu method_type=%d what=%d by=%llu",
			 (unsigned long long)o.id, f->method, f->what,
			 (unsigned long long)r->sess->p.token_id);
out:
	free(hist);
	return rc;
}

/* ------------------------------------------------------------------ PagoLivre calls */

/* Settings that cannot be used (err from reading or opening them): a refusal in r->st. */
static int pl_unusable(srv_req_t *r, int err)
{
	log_error("payment link gateway unusable", "err=%d", err);
	return srv_fail(r, ST_FAILED_PRECONDITION,
			"the PagoLivre settings cannot be used; set them again");
}

/* The organization's PagoLivre adapter; settings that cannot be used are a refusal. */
static int pl_gateway(srv_req_t *r, store_txn_t *txn, uint64_t org, gw_t **gw)
{
	int rc = prov_adapter(r->srv, txn, org, SRV_SERVICE_PAGOLIVRE, gw);
	return rc != 0 ? pl_unusable(r, rc) : 0;
}

/* A call to PagoLivre that did not start: busy (try again), else code and msg. */
static int pl_not_started(srv_req_t *r, int rc, int code, const char *msg)
{
	return rc == -EAGAIN ? srv_fail(r, ST_UNAVAILABLE, "PagoLivre is busy; try again")
			     : srv_fail(r, code, "%s", msg);
}

/* Ends a PagoLivre callback whose answer was not what the call needed: the credentials
 * refused, else unanswered (UNAVAILABLE: the order is as it was, try again). */
static void pl_async_fail(srv_req_t *r, const gw_link_result_t *res, const char *unanswered)
{
	if (res->r.outcome == GW_OUTCOME_AUTH_FAILED)
		srv_async_fail(r, ST_FAILED_PRECONDITION,
			       "PagoLivre refused ospay's credentials; check its settings");
	else
		srv_async_fail(r, ST_UNAVAILABLE, "%s", unanswered);
}

static void on_link_created(const gw_link_result_t *res, void *arg)
{
	fin_t *f = arg;
	srv_req_t *r = f->r;
	/* The service's message is not logged: it may quote the customer's data. */
	log_info("payment link", "order_id=%llu attempt=%u outcome=%s code=\"%s\" recovering=%d",
		 (unsigned long long)f->order_id, f->attempt, gw_outcome_name(res->r.outcome),
		 res->r.code, (int)f->recovering);
	/* The answer was lost (the link may exist), or an earlier try whose answer was
	 * lost made it (same key): look it up by the key, once. Called from inside
	 * one of f->gw's callbacks, so the adapter is still alive. */
	bool lost = res->r.outcome == GW_OUTCOME_UNKNOWN ||
		    res->r.outcome == GW_OUTCOME_ERROR_RETRYABLE ||
		    strcmp(res->r.code, "duplicated_order_key") == 0;
	if (lost && !f->recovering) {
		f->recovering = true;
		if (gw_query_link(f->gw, f->order_key, on_link_created, f) == 0)
			return;
	}
	switch (res->r.outcome) {
	case GW_OUTCOME_PENDING:
	case GW_OUTCOME_APPROVED:
		if (res->payment_url[0] == '\0')
			break;
		snprintf(f->link_url, sizeof(f->link_url), "%s", res->payment_url);
		snprintf(f->link_id, sizeof(f->link_id), "%s", res->link_id);
		srv_async_finish(r, fin_commit);
		return;
	case GW_OUTCOME_DECLINED:
	case GW_OUTCOME_REJECTED:
		srv_async_fail(r, ST_FAILED_PRECONDITION,
			       "PagoLivre refused the payment link (code \"%s\"); the order is "
			       "unchanged",
			       res->r.code);
		return;
	default:
		break;
	}
	pl_async_fail(
		r, res,
		"PagoLivre did not create the payment link; the order is unchanged, try again");
}

/* The payment method a Finalize names: its type and whether a gateway runs it. */
static int fin_method(srv_req_t *r, store_txn_t *txn, const Ospay__V1__OrdersFinalizeRequest *in,
		      uint64_t org, int *method, bool *integrated)
{
	Ospay__V1__PaymentMethod *pm = NULL;
	*method = (int)in->method_type;
	/* A bare RECURRING_CREDIT type is the integrated mode: MANUAL needs a configured method. */
	*integrated = *method == ORDER_METHOD_RECURRING_CREDIT;
	if (in->payment_method_id == 0)
		return 0;
	int rc = kit_read(r, txn, DB_PAYMENT_METHODS, in->payment_method_id,
			  &ospay__v1__payment_method__descriptor, &pm);
	if (rc == 0 && pm->organization_id != org)
		rc = -ENOENT;
	if (rc == -ENOENT)
		return srv_fail(r, ST_NOT_FOUND, "no payment method %llu",
				(unsigned long long)in->payment_method_id);
	if (rc != 0)
		return srv_store_fail(r, rc, "payment method lookup");
	if (in->method_type != 0 && (int)in->method_type != (int)pm->type)
		status_violation(&r->st, "method_type", "differs from the payment method's type");
	*method = (int)pm->type;
	*integrated = pm->operation_mode == OSPAY__V1__OPERATION_MODE__OPERATION_MODE_INTEGRATED;
	return 0;
}

/* Starts the payment link of an integrated Finalize (srv_pend), or refuses in r->st. */
static int fin_start_link(srv_req_t *r, store_txn_t *txn, const Ospay__V1__Order *o, fin_t *f)
{
	Ospay__V1__Customer *cust = NULL;
	Ospay__V1__GatewayRecord *cfg = NULL;
	gw_t *gw = NULL;
	int rc;
	if (o->amount <= 0)
		return srv_fail(r, ST_FAILED_PRECONDITION, "order %llu has no amount to charge",
				(unsigned long long)o->id);
	rc = kit_read(r, txn, DB_CUSTOMERS, o->customer_id, &ospay__v1__customer__descriptor,
		      &cust);
	if (rc != 0)
		return srv_store_fail(r, rc, "customer lookup");
	if (cust->phone[0] == '\0')
		return srv_fail(r, ST_FAILED_PRECONDITION,
				"customer %llu has no phone: the payment link is sent by SMS",
				(unsigned long long)cust->id);
	rc = prov_settings_get(txn, o->organization_id, SRV_SERVICE_PAGOLIVRE, &cfg);
	/* Only whether PagoLivre is set and readable matters here. */
	ospay__v1__gateway_record__free_unpacked(cfg, NULL);
	if (rc == -ENOENT)
		return srv_fail(r, ST_FAILED_PRECONDITION,
				"integrated recurring credit needs PagoLivre: set it first");
	rc = rc != 0 ? pl_unusable(r, rc) : pl_gateway(r, txn, o->organization_id, &gw);
	if (rc != 0 || !srv_ok(r))
		return rc;
	f->attempt = (o->payment != NULL ? o->payment->attempt : 0) + 1;
	f->amount = o->amount;
	/* Deterministic per order and attempt: a lost answer is found again by key. */
	snprintf(f->order_key, sizeof(f->order_key), "os-%llu-%u", (unsigned long long)o->id,
		 f->attempt);
	/* PagoLivre texts the link with this message: what it pays for, never a bare URL.
	 * Kind and plan are at most 100 bytes each: nothing is cut inside a character. */
	char msg[400], amount[40];
	money_format_brl(o->amount, amount, sizeof(amount));
	snprintf(msg, sizeof(msg),
		 "Pagamento da ordem de serviço %llu (%s%s%s): %s em %u parcela%s no cartão de "
		 "crédito.",
		 (unsigned long long)o->id, o->kind, o->service_plan[0] != '\0' ? ", plano " : "",
		 o->service_plan, amount, f->installments, f->installments == 1 ? "" : "s");
	gw_link_req_t req = {
		.message = msg,
		.order_key = f->order_key,
		.amount_cents = o->amount,
		.installments = f->installments,
		.customer_name = cust->name,
		.customer_document = cust->document[0] != '\0' ? cust->document : NULL,
		.customer_phone = cust->phone,
		.customer_email = cust->email[0] != '\0' ? cust->email : NULL,
	};
	/* The adapter builds its request body before returning. */
	f->gw = gw;
	rc = gw_create_link(gw, &req, on_link_created, f);
	if (rc != 0) {
		log_error("payment link not started", "order_id=%llu err=%d",
			  (unsigned long long)o->id, rc);
		return rc == -EINVAL
			       ? srv_fail(r, ST_FAILED_PRECONDITION,
					  "PagoLivre does not accept this customer's data (name, "
					  "document, phone or e-mail)")
			       : pl_not_started(r, rc, ST_INTERNAL,
						"the payment link could not be sent");
	}
	srv_pend(r);
	return rc;
}

int h_orders_finalize(srv_req_t *r, store_txn_t *txn)
{
	const Ospay__V1__OrdersFinalizeRequest *in = (const void *)r->in;
	Ospay__V1__Order *old = NULL;
	fin_t *f = NULL;
	int method = 0, what = ORDER_FINALIZE_CLOSE;
	bool integrated = false;
	int rc = orders_load_open_order(r, txn, in->id, &old);
	if (rc != 0 || !srv_ok(r))
		goto out;
	if (old->payment_status == OSPAY__V1__ORDER_PAYMENT_STATUS__ORDER_PAYMENT_STATUS_PENDING) {
		rc = srv_fail(r, ST_FAILED_PRECONDITION, "order %llu has a payment pending",
			      (unsigned long long)old->id);
		goto out;
	}
	kit_check_text(r, "note", in->note, NOTE_MAX);
	/* Work not concluded may close without a payment. */
	bool unpaid = in->payment_method_id == 0 && in->method_type == 0 &&
		      in->outcome == OSPAY__V1__CLOSING_OUTCOME__CLOSING_OUTCOME_NOT_CONCLUDED;
	if (in->payment_method_id == 0 && in->method_type == 0 && !unpaid)
		status_violation(&r->st, "method_type", "required (or payment_method_id)");
	Ospay__V1__OrderClosing closing;
	char reason[KIT_NAME_MAX + 1];
	rc = orders_closing_build(r, txn, in, &closing, reason, sizeof(reason));
	if (rc != 0 || !srv_ok(r))
		goto out;
	if (!unpaid)
		rc = fin_method(r, txn, in, old->organization_id, &method, &integrated);
	if (rc != 0 || !srv_ok(r))
		goto out;
	const char *why =
		unpaid ? NULL : order_finalize_plan(method, integrated, in->installments, &what);
	if (why != NULL) {
		bool known = method >= ORDER_METHOD_CASH && method <= ORDER_METHOD_RECURRING_CREDIT;
		status_violation(&r->st, known ? "installments" : "method_type", "%s", why);
		goto out;
	}
	f = calloc(1, sizeof(*f));
	if (f == NULL) {
		rc = -ENOMEM;
		goto out;
	}
	f->r = r;
	f->order_id = old->id;
	f->org_id = old->organization_id;
	f->payment_method_id = in->payment_method_id;
	f->method = method;
	f->what = what;
	f->installments = in->installments == 0 ? 1 : in->installments;
	rc = kit_org_offset(r, txn, &f->offset_min);
	if (rc != 0) {
		rc = srv_store_fail(r, rc, "organization lookup");
		goto out;
	}
	if (what == ORDER_FINALIZE_START_PAYMENT)
		rc = fin_start_link(r, txn, old, f);
	else
		srv_write_now(r, fin_commit);
	if (r->pending || r->write_now) {
		r->async_arg = f;
		r->async_free = free;
		f = NULL;
	}
out:
	free(f);
	return rc;
}

/* ------------------------------------------------------------------ cancel payment attempt */

/* What CancelPaymentAttempt keeps between its read phase and its write. */
typedef struct cpa {
	srv_req_t *r;
	uint64_t order_id;
	uint32_t attempt;
} cpa_t;

/* Is the order's payment an attempt that can be canceled (PENDING or ERROR)? */
static bool cpa_cancelable(const Ospay__V1__Order *o)
{
	return o->payment != NULL &&
	       (o->payment_status ==
			OSPAY__V1__ORDER_PAYMENT_STATUS__ORDER_PAYMENT_STATUS_PENDING ||
		o->payment_status == OSPAY__V1__ORDER_PAYMENT_STATUS__ORDER_PAYMENT_STATUS_ERROR);
}

/* The write: the attempt is over, the order OPEN with payment_status NONE. */
static int cpa_commit(srv_req_t *r, store_txn_t *txn)
{
	cpa_t *c = r->async_arg;
	Ospay__V1__Order *old = NULL;
	Ospay__V1__OrderInstallment ins[ORDER_MAX_INSTALLMENTS], *insp[ORDER_MAX_INSTALLMENTS];
	int rc = orders_load_open_order(r, txn, c->order_id, &old);
	if (rc != 0 || !srv_ok(r))
		return rc;
	if (!cpa_cancelable(old) || old->payment->attempt != c->attempt ||
	    old->payment->n_schedule > ORDER_MAX_INSTALLMENTS)
		return srv_fail(r, ST_ABORTED, "order %llu's payment changed meanwhile; try again",
				(unsigned long long)old->id);
	Ospay__V1__Order o = *old;
	Ospay__V1__OrderPayment p = *old->payment;
	for (size_t i = 0; i < p.n_schedule; i++) {
		ins[i] = *old->payment->schedule[i];
		/* Confirmed or denied installments stay what they were: money did move. */
		if (ins[i].status == OSPAY__V1__INSTALLMENT_STATUS__INSTALLMENT_STATUS_WAITING) {
			ins[i].status = OSPAY__V1__INSTALLMENT_STATUS__INSTALLMENT_STATUS_CANCELED;
			ins[i].updated_ms = r->now_ms;
		}
		insp[i] = &ins[i];
	}
	p.schedule = insp;
	p.recorded_ms = r->now_ms;
	o.payment = &p;
	o.payment_status = OSPAY__V1__ORDER_PAYMENT_STATUS__ORDER_PAYMENT_STATUS_NONE;
	/* The Finalize this attempt belonged to is undone: its closing goes with it. */
	o.closing = NULL;
	rc = orders_put_order(r, txn, old, &o);
	if (rc != 0 || !srv_ok(r))
		return rc;
	rc = kit_reply_one(r, &ospay__v1__orders_cancel_payment_attempt_response__descriptor,
			   &o.base);
	if (rc == 0)
		log_info("order payment attempt canceled", "order_id=%llu attempt=%u by=%llu",
			 (unsigned long long)o.id, c->attempt,
			 (unsigned long long)r->sess->p.token_id);
	return rc;
}

static void on_link_canceled(const gw_link_result_t *res, void *arg)
{
	cpa_t *c = arg;
	srv_req_t *r = c->r;
	log_info("payment link cancel", "order_id=%llu attempt=%u outcome=%s code=\"%s\"",
		 (unsigned long long)c->order_id, c->attempt, gw_outcome_name(res->r.outcome),
		 res->r.code);
	switch (res->r.outcome) {
	case GW_OUTCOME_CANCELED:
		srv_async_finish(r, cpa_commit);
		return;
	case GW_OUTCOME_DECLINED:
	case GW_OUTCOME_REJECTED:
	case GW_OUTCOME_NOT_FOUND:
		/* Typically the link was paid meanwhile: the webhook will close the order. */
		srv_async_fail(r, ST_FAILED_PRECONDITION,
			       "PagoLivre did not cancel the payment link (code \"%s\"); refresh "
			       "the payment to see its state",
			       res->r.code);
		return;
	default:
		break;
	}
	pl_async_fail(r, res,
		      "PagoLivre did not answer the cancel; the order is unchanged, try again");
}

int h_orders_cancel_payment_attempt(srv_req_t *r, store_txn_t *txn)
{
	const Ospay__V1__OrdersCancelPaymentAttemptRequest *in = (const void *)r->in;
	Ospay__V1__Order *old = NULL;
	cpa_t *c = NULL;
	gw_t *gw = NULL;
	int rc = orders_load_open_order(r, txn, in->id, &old);
	if (rc != 0 || !srv_ok(r) || !kit_check_text(r, "reason", in->reason, NOTE_MAX))
		goto out;
	if (!cpa_cancelable(old)) {
		rc = srv_fail(r, ST_FAILED_PRECONDITION,
			      "order %llu has no payment attempt to cancel",
			      (unsigned long long)old->id);
		goto out;
	}
	c = calloc(1, sizeof(*c));
	if (c == NULL) {
		rc = -ENOMEM;
		goto out;
	}
	c->r = r;
	c->order_id = old->id;
	c->attempt = old->payment->attempt;
	/* A MANUAL schedule, or a link that already failed: nothing to cancel outside. */
	if (!old->payment->integrated ||
	    old->payment_status != OSPAY__V1__ORDER_PAYMENT_STATUS__ORDER_PAYMENT_STATUS_PENDING) {
		srv_write_now(r, cpa_commit);
		goto keep;
	}
	rc = pl_gateway(r, txn, old->organization_id, &gw);
	if (rc != 0 || !srv_ok(r))
		goto out;
	gw_cancel_link_req_t req = {
		.link_id = old->payment->link_id,
		.reason = in->reason[0] != '\0' ? in->reason : NULL,
	};
	rc = gw_cancel_link(gw, &req, on_link_canceled, c);
	if (rc != 0) {
		log_error("payment link cancel not started", "order_id=%llu err=%d",
			  (unsigned long long)old->id, rc);
		rc = pl_not_started(r, rc, ST_FAILED_PRECONDITION,
				    "the payment link cannot be canceled from here");
		goto out;
	}
	srv_pend(r);
keep:
	r->async_arg = c;
	r->async_free = free;
	c = NULL;
out:
	free(c);
	return rc;
}

/* ------------------------------------------------------------------ refresh payment */

typedef struct refresh {
	srv_req_t *r;
	uint64_t order_id;
	uint64_t org_id;
	char key[GW_ID_MAX];
	webhooks_link_answer_t *answer;
} refresh_t;

static void refresh_free(void *arg)
{
	refresh_t *f = arg;
	free(f->answer);
	free(f);
}

/* The write: the answer recorded (the order follows), the order answered. */
static int refresh_commit(srv_req_t *r, store_txn_t *txn)
{
	refresh_t *f = r->async_arg;
	Ospay__V1__Order *o = NULL;
	int rc = webhooks_link_answer_store(txn, f->answer, r->now_ms);
	if (rc != 0)
		return srv_store_fail(r, rc, "payment link store");
	rc = kit_get(r, txn, &kit_orders, NULL, f->order_id, PERM_OPERATE, &o);
	if (rc != 0 || !srv_ok(r))
		return rc;
	return kit_reply_one(r, &ospay__v1__orders_refresh_payment_response__descriptor, &o->base);
}

static void on_link_refreshed(const gw_link_result_t *res, void *arg)
{
	refresh_t *f = arg;
	srv_req_t *r = f->r;
	log_info("payment link refresh", "order_id=%llu outcome=%s code=\"%s\"",
		 (unsigned long long)f->order_id, gw_outcome_name(res->r.outcome), res->r.code);
	if (res->r.outcome == GW_OUTCOME_NOT_FOUND) {
		srv_async_fail(r, ST_FAILED_PRECONDITION,
			       "PagoLivre does not know the payment link of order %llu",
			       (unsigned long long)f->order_id);
		return;
	}
	/* Refused for an answer with nothing to record (an error, a timeout). */
	if (webhooks_link_answer_new(f->org_id, f->key, res, r->now_ms, &f->answer) == 0) {
		srv_async_finish(r, refresh_commit);
		return;
	}
	pl_async_fail(r, res, "PagoLivre did not answer; try again");
}

int h_orders_refresh_payment(srv_req_t *r, store_txn_t *txn)
{
	const Ospay__V1__OrdersRefreshPaymentRequest *in = (const void *)r->in;
	Ospay__V1__Order *o = NULL;
	refresh_t *f = NULL;
	gw_t *gw = NULL;
	int rc = kit_get(r, txn, &kit_orders, "id", in->id, PERM_OPERATE, &o);
	if (rc != 0 || !srv_ok(r))
		goto out;
	if (o->payment == NULL || !o->payment->integrated || o->payment->order_key[0] == '\0') {
		rc = srv_fail(r, ST_FAILED_PRECONDITION, "order %llu has no payment link",
			      (unsigned long long)o->id);
		goto out;
	}
	rc = pl_gateway(r, txn, o->organization_id, &gw);
	if (rc != 0 || !srv_ok(r))
		goto out;
	f = calloc(1, sizeof(*f));
	if (f == NULL) {
		rc = -ENOMEM;
		goto out;
	}
	f->r = r;
	f->order_id = o->id;
	f->org_id = o->organization_id;
	snprintf(f->key, sizeof(f->key), "%s", o->payment->order_key);
	rc = gw_query_link(gw, f->key, on_link_refreshed, f);
	if (rc != 0) {
		log_error("payment link refresh not started", "order_id=%llu err=%d",
			  (unsigned long long)o->id, rc);
		rc = pl_not_started(r, rc, ST_INTERNAL, "the payment link could not be queried");
		goto out;
	}
	srv_pend_owning(r, f, refresh_free);
	f = NULL;
out:
	free(f);
	return rc;
}

/*
 * Customers/AuthorizePix, CancelPix, RefreshPix (docs/pix-automatico.md,
 * "Authorizing a service"): a service's Pix Automático authorization at the
 * organization's PSP. SRV_M_ASYNC handlers like Cards/Add: the handler checks
 * the request in a read snapshot, the PSP calls run one after the other on
 * the loop, and the last write stores the result and answers.
 *
 * AuthorizePix: POST /locrec, whose id is stored on the service before
 * POST /rec (an answer lost after the PSP made the rec is then found by
 * GET /locrec/{id}, which names the rec, instead of making a second one);
 * journeys 3 and 4 put the first payment's cob / cobv first; POST /rec;
 * GET /rec/{idRec}[?txid=] for the copia-e-cola; the write stores the
 * authorization CREATED and queues the QR to the customer (then SENT).
 *
 * CancelPix records ospay's own request before PATCH /rec (so the answer,
 * or a webhook, is not read as the payer's), then applies what the PSP says.
 * RefreshPix asks GET /rec (and the first payment's cob / cobv) and applies
 * the answers through jobs/pix_auth.c, like the webhook inbox does.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/log.h"
#include "common/util.h"
#include "core/date.h"
#include "core/pix.h"
#include "gateways/gateway.h"
#include "ospay/v1/billing.pb-c.h"
#include "ospay/v1/customers.pb-c.h"
#include "ospay/v1/records.pb-c.h"
#include "server/db/db.h"
#include "server/jobs/pix_auth.h"
#include "server/providers/adapters.h"
#include "server/providers/pix_settings.h"
#include "server/rpc/kit.h"
#include "server/rpc/srv.h"
#include "server/services/services.h"

#define PIX_KIND OSPAY__V1__GATEWAY_KIND__GATEWAY_KIND_PIX_AUTOMATICO
#define AUTH(x) OSPAY__V1__PIX_AUTHORIZATION_STATE__PIX_AUTHORIZATION_STATE_##x
#define JOURNEY(x) OSPAY__V1__PIX_JOURNEY__PIX_JOURNEY_##x
/* vinculo.contrato and vinculo.objeto: at most 35 characters; devedor.nome 140. */
#define PIX_CONTRACT_MAX 35
#define PIX_NAME_MAX 140
/* Invoices of a customer looked at for the first date, at most. */
#define PIX_INVOICES_MAX 1000

enum pix_op { OP_AUTHORIZE, OP_CANCEL, OP_REFRESH };

/* One call's state between its PSP calls (owned by the request: pixc_free). */
typedef struct pixc {
	srv_req_t *r;
	enum pix_op op;
	uint64_t org, service_id, invoice_id;
	int journey; /* 2, 3, 4 */
	bool fixed, no_send, switch_rail, retries, resume;
	int64_t fixed_cents, payer_max, inv_amount, loc_id;
	char contract[PIX_CONTRACT_MAX + 1], object[PIX_CONTRACT_MAX + 1];
	char name[PIX_NAME_MAX + 1], doc[16];
	char first_date[GW_PIX_DATE_MAX], inv_due[GW_PIX_DATE_MAX];
	char id_rec[GW_ID_MAX], txid[PIX_TXID_SIZE];
	char copia[GW_PIX_COPIA_E_COLA_MAX];
	/* RefreshPix / CancelPix: the PSP's answers, applied by the last write. */
	gw_pix_result_t rec, cob;
	bool have_rec, have_cob;
	/* A write between two calls (edit), and the call after it. */
	int (*edit)(struct pixc *a, const Ospay__V1__PixAuthorization *old,
		    Ospay__V1__PixAuthorization *p);
	void (*next)(struct pixc *a);
} pixc_t;

static void pixc_free(void *arg)
{
	free(arg);
}

/* s cut to at most max bytes, never inside a UTF-8 sequence. */
static void utf8_cut(const char *s, size_t max, char *out)
{
	size_t n = strlen(s);
	if (n > max) {
		n = max;
		while (n > 0 && ((unsigned char)s[n] & 0xC0) == 0x80)
			n--;
	}
	memcpy(out, s, n);
	out[n] = '\0';
}

static bool auth_live(const Ospay__V1__PixAuthorization *p)
{
	return p != NULL &&
	       (p->state == AUTH(CREATED) || p->state == AUTH(SENT) || p->state == AUTH(ACCEPTED));
}

static const char *state_name(const Ospay__V1__PixAuthorization *p)
{
	const ProtobufCEnumValue *v = protobuf_c_enum_descriptor_get_value(
		&ospay__v1__pix_authorization_state__descriptor, p != NULL ? (int)p->state : 0);
	return v != NULL ? v->name : "?";
}

/* The organization's PSP adapter, from a snapshot of its settings. */
static int open_gw(pixc_t *a, gw_t **gw)
{
	store_txn_t *txn = NULL;
	int rc = store_read_begin(a->r->srv->store, &txn);
	if (rc == 0) {
		rc = prov_adapter(a->r->srv, txn, a->org, PIX_KIND, gw);
		store_read_end(txn);
	}
	return rc;
}

/* Ends the call on the PSP's answer to `what` when it is not the one wanted. */
static void fail_psp(pixc_t *a, const gw_pix_result_t *res, const char *what)
{
	log_info("pix authorization: the PSP did not do it",
		 "service_id=%" PRIu64 " call=\"%s\" outcome=%s http=%ld code=\"%s\"",
		 a->service_id, what, gw_outcome_name(res->r.outcome), res->r.http_status,
		 res->r.code);
	switch (res->r.outcome) {
	case GW_OUTCOME_REJECTED:
	case GW_OUTCOME_DECLINED:
	case GW_OUTCOME_NOT_FOUND:
		srv_async_fail(a->r, ST_FAILED_PRECONDITION, "the PSP refused %s (code \"%s\"): %s",
			       what, res->r.code, res->r.message);
		return;
	case GW_OUTCOME_AUTH_FAILED:
		srv_async_fail(a->r, ST_FAILED_PRECONDITION,
			       "the PSP refused ospay's credentials (%s); check the Pix gateway's "
			       "settings",
			       what);
		return;
	default:
		break;
	}
	srv_async_fail(a->r, ST_UNAVAILABLE,
		       "the PSP did not answer %s; nothing is lost, call again to go on", what);
}

/* A call that could not start: the call ends here. */
static void fail_start(pixc_t *a, int rc, const char *what)
{
	log_error("pix authorization: a PSP call did not start",
		  "service_id=%" PRIu64 " call=\"%s\" err=%d", a->service_id, what, rc);
	if (rc == -EINVAL)
		srv_async_fail(a->r, ST_FAILED_PRECONDITION,
			       "%s cannot be asked with these data (the Pix gateway's settings or "
			       "the customer's)",
			       what);
	else
		srv_async_fail(a->r, ST_UNAVAILABLE, "the PSP cannot be called now (%s); try again",
			       what);
}

/* Answers resp {service} with the stored service. */
static int reply_service(srv_req_t *r, store_txn_t *txn, uint64_t id,
			 const ProtobufCMessageDescriptor *resp)
{
	Ospay__V1__CustomerService *svc = NULL;
	int rc = kit_read(r, txn, DB_SERVICES, id, &ospay__v1__customer_service__descriptor, &svc);
	if (rc != 0)
		return srv_store_fail(r, rc, "service lookup");
	return kit_reply_one(r, resp, &svc->base);
}

/* ------------------------------------------------------------------ AuthorizePix */

static void step_first(pixc_t *a);
static void step_rec(pixc_t *a);
static void step_qr(pixc_t *a);

/* The write that ends AuthorizePix: the authorization CREATED, then SENT when queued. */
static int auth_commit(srv_req_t *r, store_txn_t *txn)
{
	pixc_t *a = r->async_arg;
	Ospay__V1__CustomerService *old = NULL;
	bool queued = false;
	int rc = kit_read(r, txn, DB_SERVICES, a->service_id,
			  &ospay__v1__customer_service__descriptor, &old);
	if (rc != 0)
		return srv_store_fail(r, rc, "service lookup");
	if (old->pix == NULL || old->pix->loc_id != a->loc_id || auth_live(old->pix))
		return srv_fail(r, ST_ABORTED,
				"another AuthorizePix of service %" PRIu64 " went first (its "
				"authorization is %s)",
				a->service_id, state_name(old->pix));
	Ospay__V1__CustomerService s = *old;
	Ospay__V1__PixAuthorization p = *old->pix;
	s.pix = &p;
	p.state = AUTH(CREATED);
	p.journey = (Ospay__V1__PixJourney)a->journey;
	p.id_rec = a->id_rec;
	p.copia_e_cola = a->copia;
	p.retries_allowed = a->retries;
	p.fixed_amount = a->fixed_cents;
	p.payer_max_amount = a->payer_max;
	p.first_invoice_id = a->invoice_id;
	p.first_txid = a->txid;
	p.switch_rail = a->switch_rail;
	p.end_code = p.end_reason = "";
	p.accepted_ms = p.cancel_requested_ms = 0;
	p.updated_ms = p.checked_ms = r->now_ms;
	rc = pix_auth_link_rec(txn, a->org, a->id_rec, a->service_id);
	if (rc == 0 && a->txid[0] != '\0')
		rc = pix_auth_link_txid(txn, a->org, a->txid, a->service_id);
	if (rc == 0 && !a->no_send)
		rc = pix_auth_send_qr(txn, r->srv, &s, r->now_ms, &queued);
	if (queued)
		p.state = AUTH(SENT);
	s.updated_ms = r->now_ms;
	if (rc == 0)
		rc = db_put_by_id(txn, DB_SERVICES, s.id, &s.base);
	if (rc != 0)
		return srv_store_fail(r, rc, "service update");
	log_info("pix authorization created",
		 "service_id=%" PRIu64 " journey=%d state=%s by=%" PRIu64, s.id, a->journey,
		 state_name(&p), r->sess->p.token_id);
	return reply_service(r, txn, s.id,
			     &ospay__v1__customers_authorize_pix_response__descriptor);
}

static void on_qr(const gw_pix_result_t *res, void *arg)
{
	pixc_t *a = arg;
	if (res->r.error != 0 || res->id_rec[0] == '\0') {
		fail_psp(a, res, "the authorization's QR code (GET /rec)");
		return;
	}
	snprintf(a->copia, sizeof(a->copia), "%s", res->copia_e_cola);
	srv_async_finish(a->r, auth_commit);
}

/* GET /rec/{idRec}[?txid=] answered to cb; the call ends here when it cannot start. */
static void ask_rec(pixc_t *a, const char *txid, gw_pix_cb cb, const char *what)
{
	gw_t *gw = NULL;
	int rc = open_gw(a, &gw);
	if (rc == 0)
		rc = gw_pix_query_rec(gw, a->id_rec, txid, cb, a);
	if (rc != 0)
		fail_start(a, rc, what);
}

static void step_qr(pixc_t *a)
{
	ask_rec(a, a->txid[0] != '\0' ? a->txid : NULL, on_qr, "the authorization's QR code");
}

/* GET /locrec/{id}: the rec a lost answer (or an earlier call) made on it. */
static void on_location_query(const gw_pix_result_t *res, void *arg)
{
	pixc_t *a = arg;
	if (res->r.outcome != GW_OUTCOME_APPROVED) {
		fail_psp(a, res, "the QR location (GET /locrec)");
		return;
	}
	if (res->id_rec[0] != '\0') {
		snprintf(a->id_rec, sizeof(a->id_rec), "%s", res->id_rec);
		log_info("pix authorization: the rec found by its location",
			 "service_id=%" PRIu64 " loc_id=%" PRId64, a->service_id, a->loc_id);
		step_qr(a);
		return;
	}
	if (a->resume) {
		/* An earlier call stopped before its rec: make it on the same location. */
		a->resume = false;
		step_first(a);
		return;
	}
	srv_async_fail(a->r, ST_UNAVAILABLE,
		       "the PSP's answer to the authorization was lost and it has none on its "
		       "location; call again to go on");
}

static int query_location(pixc_t *a)
{
	gw_t *gw = NULL;
	int rc = open_gw(a, &gw);
	if (rc == 0)
		rc = gw_pix_query_location(gw, a->loc_id, on_location_query, a);
	return rc;
}

static void on_rec(const gw_pix_result_t *res, void *arg)
{
	pixc_t *a = arg;
	if (res->r.outcome == GW_OUTCOME_PENDING && res->id_rec[0] != '\0') {
		snprintf(a->id_rec, sizeof(a->id_rec), "%s", res->id_rec);
		step_qr(a);
		return;
	}
	if (res->r.outcome == GW_OUTCOME_UNKNOWN) {
		/* The PSP may have made it: its location says, before anything else. */
		int rc = query_location(a);
		if (rc != 0)
			fail_start(a, rc, "the QR location");
		return;
	}
	fail_psp(a, res, "the authorization (POST /rec)");
}

static void step_rec(pixc_t *a)
{
	gw_t *gw = NULL;
	gw_pix_rec_req_t q = {
		.contract = a->contract,
		.object = a->object[0] != '\0' ? a->object : NULL,
		.debtor_doc = a->doc,
		.debtor_name = a->name,
		.first_date = a->first_date,
		.periodicity = "MENSAL",
		.fixed_cents = a->fixed_cents,
		.retries = a->retries,
		.loc_id = a->loc_id,
		.journey_txid = a->journey == JOURNEY(QR_WITH_PAYMENT) ? a->txid : NULL,
	};
	int rc = open_gw(a, &gw);
	if (rc == 0)
		rc = gw_pix_create_rec(gw, &q, on_rec, a);
	if (rc != 0)
		fail_start(a, rc, "the authorization");
}

/* GET /cob or /cobv of the first payment (journey 3, 4) answered to cb. */
static int query_first(pixc_t *a, gw_pix_cb cb)
{
	gw_t *gw = NULL;
	int rc = open_gw(a, &gw);
	if (rc == 0)
		rc = a->journey == JOURNEY(QR_WITH_PAYMENT) ? gw_pix_query_cob(gw, a->txid, cb, a)
							    : gw_pix_query_cobv(gw, a->txid, cb, a);
	return rc;
}

static void on_first_query(const gw_pix_result_t *res, void *arg)
{
	pixc_t *a = arg;
	if (res->r.outcome == GW_OUTCOME_PENDING || res->r.outcome == GW_OUTCOME_APPROVED)
		step_rec(a);
	else
		fail_psp(a, res, "the first payment's charge (GET)");
}

static void on_first(const gw_pix_result_t *res, void *arg)
{
	pixc_t *a = arg;
	int rc;
	if (res->r.outcome == GW_OUTCOME_PENDING || res->r.outcome == GW_OUTCOME_APPROVED) {
		step_rec(a);
		return;
	}
	if (res->r.outcome != GW_OUTCOME_UNKNOWN) {
		fail_psp(a, res, "the first payment's charge (PUT)");
		return;
	}
	/* Our txid: the query says whether the PSP has it. */
	rc = query_first(a, on_first_query);
	if (rc != 0)
		fail_start(a, rc, "the first payment's charge");
}

/* Journeys 3 and 4: the invoice's own charge first (PUT by our txid: safe to repeat). */
static void step_first(pixc_t *a)
{
	gw_t *gw = NULL;
	char info[141];
	int rc;
	if (a->journey == JOURNEY(QR)) {
		step_rec(a);
		return;
	}
	snprintf(info, sizeof(info), "Fatura %" PRIu64, a->invoice_id);
	rc = open_gw(a, &gw);
	if (rc == 0 && a->journey == JOURNEY(QR_WITH_PAYMENT)) {
		gw_pix_cob_req_t q = {.txid = a->txid,
				      .amount_cents = a->inv_amount,
				      .debtor_doc = a->doc,
				      .debtor_name = a->name,
				      .info = info};
		rc = gw_pix_put_cob(gw, &q, on_first, a);
	} else if (rc == 0) {
		gw_pix_cobv_req_t q = {.txid = a->txid,
				       .due_date = a->inv_due,
				       .amount_cents = a->inv_amount,
				       .debtor_doc = a->doc,
				       .debtor_name = a->name,
				       .info = info};
		rc = gw_pix_put_cobv(gw, &q, on_first, a);
	}
	if (rc != 0)
		fail_start(a, rc, "the first payment's charge");
}

/*
 * The writes between two PSP calls: a->edit changes a copy of the stored
 * authorization (old may be NULL) or refuses with -ESTALE (the service changed
 * meanwhile: the call answers ABORTED); then a->next makes the next call.
 */
static int edit_write(store_txn_t *txn, void *arg)
{
	pixc_t *a = arg;
	Ospay__V1__CustomerService *old = NULL;
	Ospay__V1__PixAuthorization p = OSPAY__V1__PIX_AUTHORIZATION__INIT;
	int rc = kit_load(txn, DB_SERVICES, a->service_id, &ospay__v1__customer_service__descriptor,
			  &old);
	if (rc != 0)
		return rc;
	Ospay__V1__CustomerService s = *old;
	if (old->pix != NULL)
		p = *old->pix;
	s.pix = &p;
	rc = a->edit(a, old->pix, &p);
	if (rc == 0)
		rc = db_put_by_id(txn, DB_SERVICES, s.id, &s.base);
	ospay__v1__customer_service__free_unpacked(old, NULL);
	return rc;
}

static void edited(void *arg, int rc)
{
	pixc_t *a = arg;
	if (rc == -ESTALE) {
		srv_async_fail(a->r, ST_ABORTED,
			       "service %" PRIu64
			       "'s authorization changed meanwhile (another call "
			       "went first); look again",
			       a->service_id);
		return;
	}
	if (rc != 0) {
		log_error("pix authorization: a step was not stored",
			  "service_id=%" PRIu64 " err=%d", a->service_id, rc);
		srv_async_fail(a->r, ST_UNAVAILABLE,
			       "the authorization could not be stored; try "
			       "again");
		return;
	}
	a->next(a);
}

static void edit(pixc_t *a,
		 int (*fn)(pixc_t *, const Ospay__V1__PixAuthorization *,
			   Ospay__V1__PixAuthorization *),
		 void (*next)(pixc_t *))
{
	a->edit = fn;
	a->next = next;
	int rc = store_write(a->r->srv->store, edit_write, edited, a);
	if (rc != 0)
		edited(a, rc);
}

/* The location before POST /rec: the way back to a rec whose answer is lost. */
static int loc_edit(pixc_t *a, const Ospay__V1__PixAuthorization *old,
		    Ospay__V1__PixAuthorization *p)
{
	if (auth_live(old))
		return -ESTALE;
	ospay__v1__pix_authorization__init(p);
	p->journey = (Ospay__V1__PixJourney)a->journey;
	p->loc_id = a->loc_id;
	p->first_invoice_id = a->invoice_id;
	p->first_txid = a->txid;
	p->switch_rail = a->switch_rail;
	p->created_ms = p->updated_ms = srv_now_ms(a->r->srv);
	return 0;
}

static void on_location(const gw_pix_result_t *res, void *arg)
{
	pixc_t *a = arg;
	if (res->r.outcome != GW_OUTCOME_APPROVED || res->loc_id <= 0) {
		fail_psp(a, res, "a QR location (POST /locrec)");
		return;
	}
	a->loc_id = res->loc_id;
	edit(a, loc_edit, step_first);
}

/* The first monthly cycle after anchor's (its day of the month) on or after today. */
static int64_t cycle_after(int64_t anchor, int64_t today)
{
	int64_t next = date_add_months(anchor, 1);
	for (int i = 2; next < today && i < 1200; i++)
		next = date_add_months(anchor, i);
	return next;
}

/*
 * calendario.dataInicial: journey 2, the first OPEN invoice of the service
 * not yet due, else the cycle after its latest invoice, else a month from
 * today; journeys 3 and 4, the cycle after the invoice the first payment pays.
 */
static int first_date(store_txn_t *txn, const Ospay__V1__CustomerService *svc, int64_t inv_due,
		      int64_t today, char out[GW_PIX_DATE_MAX])
{
	uint8_t key[8], from[DB_POS_LEN] = {0};
	db_scan_t *scan = NULL;
	const uint8_t *val;
	Ospay__V1__Invoice *inv = NULL;
	int64_t open = 0, last = 0, day = 0;
	int rc = 0;
	if (inv_due != 0) {
		day = cycle_after(inv_due, today);
		goto done;
	}
	be64_put(key, svc->customer_id);
	rc = db_scan_open(txn, DB_INV_CUSTOMER, key, sizeof(key), 1, from, DB_POS_LEN, &scan);
	for (int i = 0; rc == 0 && open == 0 && i < PIX_INVOICES_MAX; i++) {
		rc = db_scan_next(scan, &val);
		if (rc == 0)
			rc = kit_load(txn, DB_INVOICES, db_pos_id(val),
				      &ospay__v1__invoice__descriptor, &inv);
		if (rc != 0)
			break;
		if (inv->service_id == svc->id && date_parse(inv->due_date, &day) == 0) {
			last = day;
			if (inv->status == OSPAY__V1__INVOICE_STATUS__INVOICE_STATUS_OPEN &&
			    day >= today)
				open = day;
		}
		ospay__v1__invoice__free_unpacked(inv, NULL);
		inv = NULL;
	}
	db_scan_close(scan);
	if (rc == -ENOENT)
		rc = 0;
	if (rc != 0)
		return rc;
	day = open != 0 ? open : last != 0 ? cycle_after(last, today) : date_add_months(today, 1);
done:
	date_format(day, out, GW_PIX_DATE_MAX);
	return 0;
}

/* Journeys 3 and 4: the invoice must be an OPEN one of this service. */
static int check_invoice(srv_req_t *r, store_txn_t *txn, pixc_t *a, int64_t *due)
{
	Ospay__V1__Invoice *inv = NULL;
	int rc =
		kit_read(r, txn, DB_INVOICES, a->invoice_id, &ospay__v1__invoice__descriptor, &inv);
	if (rc != 0 && rc != -ENOENT)
		return srv_store_fail(r, rc, "invoice lookup");
	if (rc == -ENOENT || inv->service_id != a->service_id) {
		status_violation(&r->st, "invoice_id", "no invoice %" PRIu64 " of service %" PRIu64,
				 a->invoice_id, a->service_id);
		return 0;
	}
	if (inv->status != OSPAY__V1__INVOICE_STATUS__INVOICE_STATUS_OPEN)
		return srv_fail(r, ST_FAILED_PRECONDITION,
				"invoice %" PRIu64 " is not OPEN: the first payment needs one",
				a->invoice_id);
	if (date_parse(inv->due_date, due) != 0)
		return srv_store_fail(r, -EBADMSG, "invoice lookup");
	a->inv_amount = inv->amount;
	snprintf(a->inv_due, sizeof(a->inv_due), "%s", inv->due_date);
	return rc;
}

/* The request's own checks, and what it asks of the PSP, into a. */
static int authorize_check(srv_req_t *r, store_txn_t *txn,
			   const Ospay__V1__CustomersAuthorizePixRequest *in,
			   const Ospay__V1__CustomerService *svc, pixc_t *a)
{
	Ospay__V1__Customer *cust = NULL;
	Ospay__V1__GatewayRecord *g = NULL;
	char org[24], inv[32];
	int64_t inv_due = 0;
	int off = 0;
	int rc = 0;
	a->journey = in->journey == JOURNEY(UNSPECIFIED) ? JOURNEY(QR) : (int)in->journey;
	if (a->journey != JOURNEY(QR) && a->journey != JOURNEY(QR_WITH_PAYMENT) &&
	    a->journey != JOURNEY(INVOICE_OFFER))
		status_violation(&r->st, "journey",
				 "PIX_JOURNEY_QR, _QR_WITH_PAYMENT or "
				 "_INVOICE_OFFER");
	if (a->journey == JOURNEY(QR) && in->invoice_id != 0)
		status_violation(&r->st, "invoice_id", "only for journeys 3 and 4 (0 for QR)");
	if (a->journey != JOURNEY(QR) && in->invoice_id == 0)
		status_violation(&r->st, "invoice_id",
				 "required: the invoice the first payment "
				 "pays");
	if (in->payer_max_amount < 0 || in->payer_max_amount > PIX_MONEY_MAX_CENTAVOS)
		status_violation(&r->st, "payer_max_amount", "must be 0..%" PRId64 " centavos",
				 PIX_MONEY_MAX_CENTAVOS);
	if (in->fixed_amount && svc->monthly_amount <= 0)
		status_violation(&r->st, "fixed_amount",
				 "the service has no monthly_amount to fix");
	if (in->fixed_amount && in->payer_max_amount > 0 &&
	    in->payer_max_amount < svc->monthly_amount)
		status_violation(&r->st, "payer_max_amount",
				 "below the fixed monthly amount: no charge could pass");
	if (!srv_ok(r))
		return rc;
	a->service_id = svc->id;
	a->org = svc->organization_id;
	a->invoice_id = in->invoice_id;
	a->fixed = in->fixed_amount;
	a->fixed_cents = in->fixed_amount ? svc->monthly_amount : 0;
	a->payer_max = in->payer_max_amount;
	a->no_send = in->do_not_send;
	a->switch_rail = in->switch_rail;
	if (a->invoice_id != 0) {
		rc = check_invoice(r, txn, a, &inv_due);
		if (rc != 0 || !srv_ok(r))
			return rc;
	}
	rc = kit_read(r, txn, DB_CUSTOMERS, svc->customer_id, &ospay__v1__customer__descriptor,
		      &cust);
	if (rc != 0)
		return srv_store_fail(r, rc, "customer lookup");
	if (cust->document[0] == '\0' || strlen(cust->document) >= sizeof(a->doc))
		return srv_fail(r, ST_FAILED_PRECONDITION,
				"customer %" PRIu64 " has no CPF/CNPJ for the authorization",
				cust->id);
	snprintf(a->doc, sizeof(a->doc), "%s", cust->document);
	utf8_cut(cust->name, PIX_NAME_MAX, a->name);
	utf8_cut(svc->plan_name, PIX_CONTRACT_MAX, a->object);
	snprintf(a->contract, sizeof(a->contract), "ospay-service-%" PRIu64, svc->id);
	rc = prov_settings_get(txn, a->org, PIX_KIND, &g);
	if (rc == -ENOENT)
		return srv_fail(r, ST_FAILED_PRECONDITION,
				"no Pix Automático gateway is configured: set it first");
	if (rc != 0)
		return srv_store_fail(r, rc, "gateway lookup");
	a->retries = prov_pix_policy(g->pix) == PIX_RETRY_3R_7D;
	ospay__v1__gateway_record__free_unpacked(g, NULL);
	rc = kit_org_offset(r, txn, &off);
	if (rc != 0)
		return srv_store_fail(r, rc, "organization lookup");
	rc = first_date(txn, svc, inv_due, date_local_day(r->now_ms, off), a->first_date);
	if (rc != 0)
		return srv_store_fail(r, rc, "invoices lookup");
	if (a->journey != JOURNEY(QR)) {
		/* Our own txid of the first payment: resending the PUT names the same charge. */
		snprintf(org, sizeof(org), "%" PRIu64, a->org);
		snprintf(inv, sizeof(inv), "%s%" PRIu64,
			 a->journey == JOURNEY(QR_WITH_PAYMENT) ? "cob" : "cobv", a->invoice_id);
		if (pix_txid(org, inv, inv_due, a->txid) != 0)
			rc = srv_fail(r, ST_INTERNAL, "the first payment's txid");
	}
	return rc;
}

/* The handler's end: a pending call owns a from here. */
static int pend(srv_req_t *r, pixc_t *a, int rc, const char *what)
{
	if (rc == 0) {
		srv_pend_owning(r, a, pixc_free);
		return 0;
	}
	free(a);
	log_error("pix authorization: a PSP call did not start", "err=%d call=\"%s\"", rc, what);
	if (rc == -ENOENT)
		return srv_fail(r, ST_FAILED_PRECONDITION,
				"no Pix Automático gateway is configured: set it first");
	if (rc == -EINVAL)
		return srv_fail(r, ST_FAILED_PRECONDITION,
				"the Pix gateway's settings cannot be used; set them again");
	return srv_fail(r, ST_UNAVAILABLE, "the PSP cannot be called now; try again");
}

/* Loads the service the request names; a is made for it. */
static int start(srv_req_t *r, store_txn_t *txn, uint64_t id, enum perm_action act, enum pix_op op,
		 Ospay__V1__CustomerService **svc, pixc_t **a)
{
	int rc = kit_get(r, txn, &kit_services, "service_id", id, act, svc);
	if (rc != 0 || !srv_ok(r))
		return rc;
	*a = calloc(1, sizeof(**a));
	if (*a == NULL)
		return -ENOMEM;
	(*a)->r = r;
	(*a)->op = op;
	(*a)->service_id = (*svc)->id;
	(*a)->org = (*svc)->organization_id;
	return 0;
}

/*
 * What each of AuthorizePix, RefreshPix and CancelPix does between loading the
 * service (start) and handing a to the pending call: first looks at the service
 * as stored and fills a; it may refuse (r->st) or answer (*answered), and then
 * nothing is sent. send starts the PSP call; what names it in errors.
 */
typedef struct pix_method {
	enum perm_action act;
	enum pix_op op;
	int (*first)(srv_req_t *r, store_txn_t *txn, const Ospay__V1__CustomerService *svc,
		     pixc_t *a, bool *answered);
	int (*send)(gw_t *gw, pixc_t *a); /* NULL: GET /rec/{idRec}, answered to on_rec */
	gw_pix_cb on_rec;
	const char *what;
} pix_method_t;

static int pix_run(srv_req_t *r, store_txn_t *txn, uint64_t id, const pix_method_t *m)
{
	Ospay__V1__CustomerService *svc = NULL;
	pixc_t *a = NULL;
	gw_t *gw = NULL;
	bool answered = false;
	int rc = start(r, txn, id, m->act, m->op, &svc, &a);
	if (rc != 0 || !srv_ok(r))
		goto out;
	rc = m->first(r, txn, svc, a, &answered);
	if (rc != 0 || !srv_ok(r) || answered)
		goto out;
	rc = prov_adapter(r->srv, txn, a->org, PIX_KIND, &gw);
	if (rc == 0)
		rc = m->send != NULL ? m->send(gw, a)
				     : gw_pix_query_rec(gw, a->id_rec, NULL, m->on_rec, a);
	rc = pend(r, a, rc, m->what);
	a = NULL;
out:
	free(a);
	return rc;
}

static int authorize_first(srv_req_t *r, store_txn_t *txn, const Ospay__V1__CustomerService *svc,
			   pixc_t *a, bool *answered)
{
	(void)answered;
	if (auth_live(svc->pix))
		return srv_fail(r, ST_FAILED_PRECONDITION,
				"service %" PRIu64 " has an authorization in state %s; cancel it "
				"first (CancelPix)",
				svc->id, state_name(svc->pix));
	int rc = authorize_check(r, txn, (const void *)r->in, svc, a);
	if (rc != 0 || !srv_ok(r))
		return rc;
	/* A call that stopped after its location was stored goes on from there. */
	if (svc->pix != NULL && svc->pix->state == AUTH(UNSPECIFIED) && svc->pix->loc_id > 0) {
		a->loc_id = svc->pix->loc_id;
		a->resume = true;
	}
	return 0;
}

static int authorize_send(gw_t *gw, pixc_t *a)
{
	return a->resume ? gw_pix_query_location(gw, a->loc_id, on_location_query, a)
			 : gw_pix_create_location(gw, on_location, a);
}

int h_customers_authorize_pix(srv_req_t *r, store_txn_t *txn)
{
	static const pix_method_t m = {.act = PERM_OPERATE,
				       .op = OP_AUTHORIZE,
				       .first = authorize_first,
				       .send = authorize_send,
				       .what = "the QR location"};
	const Ospay__V1__CustomersAuthorizePixRequest *in = (const void *)r->in;
	return pix_run(r, txn, in->service_id, &m);
}

/* ------------------------------------------------------------------ RefreshPix, CancelPix */

/* CancelPix's answer: the service, unless the PSP still has the authorization live. */
static int cancel_reply(srv_req_t *r, store_txn_t *txn, const pixc_t *a)
{
	Ospay__V1__CustomerService *svc = NULL;
	int rc = kit_read(r, txn, DB_SERVICES, a->service_id,
			  &ospay__v1__customer_service__descriptor, &svc);
	if (rc != 0)
		return srv_store_fail(r, rc, "service lookup");
	if (auth_live(svc->pix))
		return srv_fail(r, ST_FAILED_PRECONDITION,
				"the PSP did not cancel the authorization (it says %s: %s); try "
				"again",
				a->rec.status, state_name(svc->pix));
	return kit_reply_one(r, &ospay__v1__customers_cancel_pix_response__descriptor, &svc->base);
}

/* The last write of both: the PSP's answers applied as the webhook inbox applies them. */
static int apply_commit(srv_req_t *r, store_txn_t *txn)
{
	pixc_t *a = r->async_arg;
	int rc = 0;
	if (a->have_cob)
		rc = pix_auth_cob_answer(txn, r->srv, a->org, &a->cob);
	if ((rc == 0 || rc == -ENOENT) && a->have_rec)
		rc = pix_auth_rec_answer(txn, r->srv, a->org, &a->rec);
	if (rc == -EINVAL) {
		return srv_fail(r, ST_UNAVAILABLE,
				"the PSP's answer about the authorization could not be read; "
				"nothing changed, try again");
	}
	if (rc != 0 && rc != -ENOENT)
		return srv_store_fail(r, rc, "service update");
	if (a->op == OP_CANCEL)
		return cancel_reply(r, txn, a);
	return reply_service(r, txn, a->service_id,
			     a->op == OP_CANCEL
				     ? &ospay__v1__customers_cancel_pix_response__descriptor
				     : &ospay__v1__customers_refresh_pix_response__descriptor);
}

/* The rec's answer is the last: apply it. */
static void apply_rec(pixc_t *a, const gw_pix_result_t *res)
{
	a->rec = *res;
	a->have_rec = true;
	srv_async_finish(a->r, apply_commit);
}

static void on_refresh_cob(const gw_pix_result_t *res, void *arg)
{
	pixc_t *a = arg;
	/* The first payment is a hint for the invoice: its failure does not stop the rec's. */
	if (res->r.error == 0 && res->txid[0] != '\0') {
		a->cob = *res;
		a->have_cob = true;
	}
	srv_async_finish(a->r, apply_commit);
}

static void on_refresh_rec(const gw_pix_result_t *res, void *arg)
{
	pixc_t *a = arg;
	if (res->r.error != 0 || res->id_rec[0] == '\0') {
		fail_psp(a, res, "the authorization's state (GET /rec)");
		return;
	}
	if (a->txid[0] == '\0') {
		apply_rec(a, res);
		return;
	}
	a->rec = *res;
	a->have_rec = true;
	if (query_first(a, on_refresh_cob) != 0)
		srv_async_finish(a->r, apply_commit);
}

/* The authorization the call is about: one the PSP has (an idRec). */
static bool has_rec(srv_req_t *r, const Ospay__V1__CustomerService *svc)
{
	if (svc->pix != NULL && svc->pix->id_rec[0] != '\0')
		return true;
	srv_fail(r, ST_FAILED_PRECONDITION,
		 svc->pix != NULL && svc->pix->loc_id > 0
			 ? "service %" PRIu64 "'s authorization was not finished: call "
			   "AuthorizePix again"
			 : "service %" PRIu64 " has no Pix Automático authorization",
		 svc->id);
	return false;
}

static void take_rec(pixc_t *a, const Ospay__V1__PixAuthorization *p)
{
	snprintf(a->id_rec, sizeof(a->id_rec), "%s", p->id_rec);
	snprintf(a->txid, sizeof(a->txid), "%s", p->first_invoice_id != 0 ? p->first_txid : "");
	a->journey = (int)p->journey;
}

/* RefreshPix and CancelPix begin with GET /rec/{idRec} of svc's authorization. */
static int rec_first(srv_req_t *r, store_txn_t *txn, const Ospay__V1__CustomerService *svc,
		     pixc_t *a, bool *answered)
{
	(void)txn;
	(void)answered;
	if (has_rec(r, svc))
		take_rec(a, svc->pix);
	return 0;
}

int h_customers_refresh_pix(srv_req_t *r, store_txn_t *txn)
{
	static const pix_method_t m = {.act = PERM_READ,
				       .op = OP_REFRESH,
				       .first = rec_first,
				       .on_rec = on_refresh_rec,
				       .what = "the authorization's state"};
	const Ospay__V1__CustomersRefreshPixRequest *in = (const void *)r->in;
	return pix_run(r, txn, in->service_id, &m);
}

static void on_cancel(const gw_pix_result_t *res, void *arg)
{
	pixc_t *a = arg;
	if (res->r.error == 0 && res->id_rec[0] != '\0') {
		apply_rec(a, res);
		return;
	}
	if (res->r.outcome == GW_OUTCOME_AUTH_FAILED) {
		fail_psp(a, res, "the cancellation (PATCH /rec)");
		return;
	}
	/* Refused (already ended?) or unknown: what the PSP has now decides. */
	ask_rec(a, NULL, on_refresh_rec, "the authorization's state");
}

/* Before the PATCH: ospay's own request, so the cancellation is read as the receiver's. */
static int cancel_edit(pixc_t *a, const Ospay__V1__PixAuthorization *old,
		       Ospay__V1__PixAuthorization *p)
{
	if (old == NULL || strcmp(old->id_rec, a->id_rec) != 0)
		return -ESTALE;
	if (p->cancel_requested_ms == 0)
		p->cancel_requested_ms = srv_now_ms(a->r->srv);
	return 0;
}

static void cancel_send(pixc_t *a)
{
	gw_t *gw = NULL;
	int rc = open_gw(a, &gw);
	if (rc == 0)
		rc = gw_pix_cancel_rec(gw, a->id_rec, on_cancel, a);
	if (rc != 0)
		fail_start(a, rc, "the cancellation");
}

/* The rec as the PSP has it first: one already ended is only recorded, not canceled. */
static void on_cancel_rec(const gw_pix_result_t *res, void *arg)
{
	pixc_t *a = arg;
	if (res->r.error != 0 || res->id_rec[0] == '\0') {
		fail_psp(a, res, "the authorization's state (GET /rec)");
		return;
	}
	if (strcmp(res->status, "CRIADA") != 0 && strcmp(res->status, "APROVADA") != 0) {
		apply_rec(a, res);
		return;
	}
	edit(a, cancel_edit, cancel_send);
}

/* A cancellation asked again is answered again; one of an ended authorization is refused. */
static int cancel_first(srv_req_t *r, store_txn_t *txn, const Ospay__V1__CustomerService *svc,
			pixc_t *a, bool *answered)
{
	if (!has_rec(r, svc))
		return 0;
	if (svc->pix->state == AUTH(CANCELED_BY_RECEIVER)) {
		*answered = true;
		return kit_reply_one(r, &ospay__v1__customers_cancel_pix_response__descriptor,
				     &svc->base);
	}
	if (!auth_live(svc->pix))
		return srv_fail(r, ST_FAILED_PRECONDITION,
				"service %" PRIu64 "'s authorization is %s already", svc->id,
				state_name(svc->pix));
	return rec_first(r, txn, svc, a, answered);
}

int h_customers_cancel_pix(srv_req_t *r, store_txn_t *txn)
{
	static const pix_method_t m = {.act = PERM_OPERATE,
				       .op = OP_CANCEL,
				       .first = cancel_first,
				       .on_rec = on_cancel_rec,
				       .what = "the authorization's state"};
	const Ospay__V1__CustomersCancelPixRequest *in = (const void *)r->in;
	return pix_run(r, txn, in->service_id, &m);
}

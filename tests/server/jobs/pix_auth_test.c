/*
 * jobs/pix_auth.c against a real store, without the network: the PSP's
 * answers (what GET /rec and GET /cob return, as gw_pix_result_t) applied to
 * the service that holds them. Legal steps only (a lying or repeated answer
 * changes nothing, and tells the customer nothing twice), the rail switched
 * to Pix when accepted with switch_rail and back to the card when canceled,
 * the requester of a cancellation taken from ospay's own record (decision
 * 8), and the first payment paying its invoice. Customers/ListServices'
 * filters and UpdateService's rail check on the same store.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "common/log.h"
#include "common/util.h"
#include "core/date.h"
#include "ospay/v1/billing.pb-c.h"
#include "ospay/v1/customers.pb-c.h"
#include "ospay/v1/records.pb-c.h"
#include "server/db/db.h"
#include "server/jobs/outbox.h"
#include "server/jobs/pix_auth.h"
#include "server/rpc/kit.h"
#include "server/rpc/srv.h"
#include "support/handlers.h"
#include "support/records.h"
#include "support/seed.h"

#define AUTH(x) OSPAY__V1__PIX_AUTHORIZATION_STATE__PIX_AUTHORIZATION_STATE_##x
#define RAIL(x) OSPAY__V1__PAYMENT_RAIL__PAYMENT_RAIL_##x
#define REC_A "RR1234567820261201000000000a1"
#define REC_B "RR1234567820261201000000000b2"

static char dir[64];
static store_t *store;
static srv_t srv;
static srv_session_t sess;
static uint64_t cust, svc_a, svc_b, invoice;
static char txid[PIX_TXID_SIZE];

/* ZapMe for organization 1: the outbox queues messages only with a notifier. */
static int notifier_fn(store_txn_t *txn, void *arg)
{
	uint8_t k[9];
	(void)arg;
	Ospay__V1__GatewayRecord g = OSPAY__V1__GATEWAY_RECORD__INIT;
	g.organization_id = 1;
	g.kind = SRV_SERVICE_ZAPME;
	g.channel = OSPAY__V1__NOTIFIER_CHANNEL__NOTIFIER_CHANNEL_WHATSAPP;
	be64_put(k, 1);
	k[8] = SRV_SERVICE_ZAPME;
	return db_put_msg(txn, DB_GATEWAYS, k, sizeof(k), &g.base, 0);
}

static Ospay__V1__CustomerService *load(uint64_t id)
{
	store_txn_t *txn;
	Ospay__V1__CustomerService *s = NULL;
	cr_assert_eq(store_read_begin(store, &txn), 0);
	cr_assert_eq(kit_load(txn, DB_SERVICES, id, &ospay__v1__customer_service__descriptor, &s),
		     0);
	store_read_end(txn);
	return s;
}

/* Messages about a service (kind 4 and 5). */
static size_t messages(uint64_t id)
{
	store_txn_t *txn;
	Ospay__V1__Notification **v = NULL;
	size_t n = 0;
	cr_assert_eq(store_read_begin(store, &txn), 0);
	cr_assert_eq(outbox_list(txn, OUTBOX_OBJ_SERVICE, id, &v, &n), 0);
	store_read_end(txn);
	outbox_list_free(v, n);
	return n;
}

/* An authorization SENT for service id with rec id_rec (what AuthorizePix leaves). */
struct seed {
	uint64_t id;
	const char *id_rec;
	bool switch_rail;
	int64_t cancel_requested_ms;
	const char *first_txid;
	uint64_t first_invoice;
};

static int seed_fn(store_txn_t *txn, void *arg)
{
	const struct seed *x = arg;
	Ospay__V1__CustomerService *old = NULL;
	int rc = kit_load(txn, DB_SERVICES, x->id, &ospay__v1__customer_service__descriptor, &old);
	if (rc != 0)
		return rc;
	Ospay__V1__CustomerService s = *old;
	Ospay__V1__PixAuthorization p = OSPAY__V1__PIX_AUTHORIZATION__INIT;
	s.pix = &p;
	p.state = AUTH(SENT);
	p.journey = OSPAY__V1__PIX_JOURNEY__PIX_JOURNEY_QR;
	p.id_rec = (char *)x->id_rec;
	p.copia_e_cola = "00020101021226850014br.gov.bcb.pix";
	p.switch_rail = x->switch_rail;
	p.cancel_requested_ms = x->cancel_requested_ms;
	p.first_txid = (char *)(x->first_txid != NULL ? x->first_txid : "");
	p.first_invoice_id = x->first_invoice;
	rc = db_put_by_id(txn, DB_SERVICES, s.id, &s.base);
	if (rc == 0)
		rc = pix_auth_link_rec(txn, 1, x->id_rec, x->id);
	if (rc == 0 && x->first_txid != NULL)
		rc = pix_auth_link_txid(txn, 1, x->first_txid, x->id);
	ospay__v1__customer_service__free_unpacked(old, NULL);
	return rc;
}

/* What a query of the rec answered. */
static gw_pix_result_t rec(const char *id_rec, const char *status, const char *by, const char *code)
{
	gw_pix_result_t r;
	memset(&r, 0, sizeof(r));
	r.r.outcome = GW_OUTCOME_PENDING;
	r.outcome_detail = -1;
	snprintf(r.id_rec, sizeof(r.id_rec), "%s", id_rec);
	snprintf(r.status, sizeof(r.status), "%s", status);
	snprintf(r.ended_by, sizeof(r.ended_by), "%s", by != NULL ? by : "");
	snprintf(r.end_code, sizeof(r.end_code), "%s", code != NULL ? code : "");
	return r;
}

struct apply {
	const gw_pix_result_t *res;
	bool cob;
	int rc;
};

static int apply_fn(store_txn_t *txn, void *arg)
{
	struct apply *a = arg;
	a->rc = a->cob ? pix_auth_cob_answer(txn, &srv, 1, a->res)
		       : pix_auth_rec_answer(txn, &srv, 1, a->res);
	return 0;
}

static int apply(const gw_pix_result_t *res, bool cob)
{
	struct apply a = {res, cob, 0};
	tsh_store_write(store, apply_fn, &a);
	return a.rc;
}

static void setup(void)
{
	log_set_level(log_level_parse("warn"));
	srv.opts.test_clock = true;
	store = tsh_admin_up(&srv, &sess, dir, sizeof(dir), "pixauth",
			     date_local_to_utc(date_from_civil(2026, 12, 1), 9 * 60, -180));
	tsh_store_write(store, notifier_fn, NULL);
	cust = tsh_customer(&srv, &sess, "Maria Souza", "52998224725");
	Ospay__V1__RecurringPayment rp = OSPAY__V1__RECURRING_PAYMENT__INIT;
	rp.enabled = true;
	svc_a = tsh_service(&srv, &sess, cust, &rp);
	svc_b = tsh_service(&srv, &sess, cust, &rp);
	invoice = tsh_invoice(&srv, &sess, cust, svc_b, "2026-12-10");
	cr_assert_eq(store_flush(store), 0);
	cr_assert_eq(pix_txid("1", "cob1", date_from_civil(2026, 12, 10), txid), 0);
	struct seed a1 = {svc_a, REC_A, true, 0, NULL, 0};
	struct seed b1 = {svc_b, REC_B, false, 0, txid, invoice};
	tsh_store_write(store, seed_fn, &a1);
	tsh_store_write(store, seed_fn, &b1);
}

static void teardown(void)
{
	tsh_store_down(store, dir);
}

TestSuite(pix_auth, .init = setup, .fini = teardown, .timeout = 60);

Test(pix_auth, accepted_switches_the_rail_once_and_a_lie_changes_nothing)
{
	gw_pix_result_t ok = rec(REC_A, "APROVADA", NULL, NULL);
	cr_assert_eq(apply(&ok, false), 0);
	Ospay__V1__CustomerService *s = load(svc_a);
	cr_assert_eq(s->pix->state, AUTH(ACCEPTED));
	cr_assert_neq(s->pix->accepted_ms, 0);
	cr_assert_eq(s->recurring_payment->rail, RAIL(PIX_AUTOMATICO));
	int64_t updated = s->updated_ms;
	ospay__v1__customer_service__free_unpacked(s, NULL);
	cr_assert_eq(messages(svc_a), 1, "the customer is told once");

	/* The same answer again (a duplicate hint): nothing new, nobody told again. */
	srv.clock_ms += 60000;
	cr_assert_eq(apply(&ok, false), 0);
	/* A lie: an accepted rec never becomes rejected. */
	gw_pix_result_t lie = rec(REC_A, "REJEITADA", NULL, "AP13");
	cr_assert_eq(apply(&lie, false), 0);
	s = load(svc_a);
	cr_assert_eq(s->pix->state, AUTH(ACCEPTED));
	cr_assert_eq(s->updated_ms, updated, "no change to the service");
	cr_assert_eq(s->recurring_payment->rail, RAIL(PIX_AUTOMATICO));
	ospay__v1__customer_service__free_unpacked(s, NULL);
	cr_assert_eq(messages(svc_a), 1);

	/* An answer ospay cannot read is refused, not applied. */
	gw_pix_result_t odd = rec(REC_A, "TALVEZ", NULL, NULL);
	cr_assert_eq(apply(&odd, false), -EINVAL);
}

Test(pix_auth, a_cancel_ospay_did_not_ask_for_is_the_payers_and_the_card_comes_back)
{
	gw_pix_result_t ok = rec(REC_A, "APROVADA", NULL, NULL);
	cr_assert_eq(apply(&ok, false), 0);
	/* The PSP names the receiver, but ospay never asked: the payer's (decision 8). */
	gw_pix_result_t gone = rec(REC_A, "CANCELADA", "USUARIO_RECEBEDOR", "SLDB");
	cr_assert_eq(apply(&gone, false), 0);
	Ospay__V1__CustomerService *s = load(svc_a);
	cr_assert_eq(s->pix->state, AUTH(CANCELED_BY_PAYER));
	cr_assert_eq(s->recurring_payment->rail, RAIL(CARD));
	cr_assert_str_eq(s->pix->end_code, "SLDB");
	cr_assert(strstr(s->pix->end_reason, "payer canceled") != NULL, "%s", s->pix->end_reason);
	ospay__v1__customer_service__free_unpacked(s, NULL);
	cr_assert_eq(messages(svc_a), 2, "accepted, then canceled");
}

Test(pix_auth, ospays_own_cancel_is_the_receivers)
{
	struct seed a1 = {svc_a, REC_A, true, 1, NULL, 0};
	tsh_store_write(store, seed_fn, &a1);
	gw_pix_result_t gone = rec(REC_A, "CANCELADA", NULL, NULL);
	cr_assert_eq(apply(&gone, false), 0);
	Ospay__V1__CustomerService *s = load(svc_a);
	cr_assert_eq(s->pix->state, AUTH(CANCELED_BY_RECEIVER));
	ospay__v1__customer_service__free_unpacked(s, NULL);
}

Test(pix_auth, rejected_and_unknown_recs)
{
	gw_pix_result_t no = rec(REC_B, "REJEITADA", NULL, "AP13");
	cr_assert_eq(apply(&no, false), 0);
	Ospay__V1__CustomerService *s = load(svc_b);
	cr_assert_eq(s->pix->state, AUTH(REJECTED));
	cr_assert_neq(s->recurring_payment->rail, RAIL(PIX_AUTOMATICO));
	ospay__v1__customer_service__free_unpacked(s, NULL);
	gw_pix_result_t other = rec("RR1234567820261201000000000zz", "APROVADA", NULL, NULL);
	cr_assert_eq(apply(&other, false), -ENOENT);
}

static Ospay__V1__Invoice *load_invoice(uint64_t id)
{
	store_txn_t *txn;
	Ospay__V1__Invoice *inv = NULL;
	cr_assert_eq(store_read_begin(store, &txn), 0);
	cr_assert_eq(kit_load(txn, DB_INVOICES, id, &ospay__v1__invoice__descriptor, &inv), 0);
	store_read_end(txn);
	return inv;
}

Test(pix_auth, the_first_payment_pays_its_invoice)
{
	gw_pix_result_t cob;
	memset(&cob, 0, sizeof(cob));
	cob.outcome_detail = -1;
	snprintf(cob.txid, sizeof(cob.txid), "%s", txid);
	snprintf(cob.status, sizeof(cob.status), "ATIVA");
	cr_assert_eq(apply(&cob, true), 0);
	Ospay__V1__Invoice *inv = load_invoice(invoice);
	cr_assert_eq(inv->status, OSPAY__V1__INVOICE_STATUS__INVOICE_STATUS_OPEN, "not paid yet");
	ospay__v1__invoice__free_unpacked(inv, NULL);
	snprintf(cob.status, sizeof(cob.status), "CONCLUIDA");
	cob.r.outcome = GW_OUTCOME_APPROVED;
	cr_assert_eq(apply(&cob, true), 0);
	inv = load_invoice(invoice);
	cr_assert_eq(inv->status, OSPAY__V1__INVOICE_STATUS__INVOICE_STATUS_PAID);
	ospay__v1__invoice__free_unpacked(inv, NULL);
	snprintf(cob.txid, sizeof(cob.txid), "osp00000000000000000000000000000000");
	cr_assert_eq(apply(&cob, true), -ENOENT);
}

/* ListServices: its ids in order into ids (at most 8); the count. */
static size_t list(uint64_t customer, int state, int rail, uint64_t ids[8])
{
	Ospay__V1__CustomersListServicesRequest m;
	tsr_list_services(&m, customer, state, rail);
	Ospay__V1__CustomersListServicesResponse *r =
		tsh_call_ok(&srv, &sess, "ospay.v1.Customers/ListServices", &m.base,
			    &ospay__v1__customers_list_services_response__descriptor);
	size_t n = tsr_service_ids(r, ids, 8);
	ospay__v1__customers_list_services_response__free_unpacked(r, NULL);
	return n;
}

Test(pix_auth, list_services_filters_and_the_rail_rule)
{
	uint64_t ids[8];
	gw_pix_result_t ok = rec(REC_A, "APROVADA", NULL, NULL);
	cr_assert_eq(apply(&ok, false), 0);
	cr_assert_eq(list(0, 0, 0, ids), 2, "every customer's");
	cr_assert(ids[0] == svc_a && ids[1] == svc_b);
	cr_assert_eq(list(0, AUTH(ACCEPTED), 0, ids), 1);
	cr_assert_eq(ids[0], svc_a);
	cr_assert_eq(list(0, AUTH(SENT), 0, ids), 1);
	cr_assert_eq(ids[0], svc_b);
	cr_assert_eq(list(cust, 0, RAIL(PIX_AUTOMATICO), ids), 1);
	cr_assert_eq(ids[0], svc_a);
	cr_assert_eq(list(0, 0, RAIL(CARD), ids), 1, "CARD also matches records before Pix");
	cr_assert_eq(ids[0], svc_b);

	/* The Pix rail only over an accepted authorization. */
	Ospay__V1__RecurringPayment rp = OSPAY__V1__RECURRING_PAYMENT__INIT;
	rp.enabled = true;
	rp.rail = RAIL(PIX_AUTOMATICO);
	Ospay__V1__CustomersUpdateServiceRequest u;
	tsr_service_rp(&u, svc_b, &rp);
	srv_req_t r;
	cr_assert_eq(tsh_call(&srv, &sess, &r, "ospay.v1.Customers/UpdateService", &u.base),
		     ST_INVALID_ARGUMENT);
	cr_assert_eq(r.st.n_violations, 1);
	cr_assert(strstr(r.st.violations[0].description, "SENT") != NULL, "%s",
		  r.st.violations[0].description);
	buf_free(&r.out);
	u.service_id = svc_a;
	free(tsh_call_ok(&srv, &sess, "ospay.v1.Customers/UpdateService", &u.base, NULL));
}

Test(pix_auth, a_payers_cancel_of_an_approval_never_seen_records_both)
{
	/* ospay saw SENT; the PSP's rec was approved, then canceled by the payer. */
	gw_pix_result_t gone = rec(REC_A, "CANCELADA", "USUARIO_PAGADOR", "ACCL");
	cr_assert_eq(apply(&gone, false), 0);
	Ospay__V1__CustomerService *s = load(svc_a);
	cr_assert_eq(s->pix->state, AUTH(CANCELED_BY_PAYER));
	cr_assert_neq(s->pix->accepted_ms, 0, "accepted on the way");
	cr_assert_eq(s->recurring_payment->rail, RAIL(CARD), "switched, then back to the card");
	ospay__v1__customer_service__free_unpacked(s, NULL);
}

/*
 * Lying Pix callbacks end to end (issue 13: "webhook forged / lying /
 * duplicated changes nothing"). A lie is a callback ospayd must take as the
 * PSP's own (the right hmac in the URL, as only the PSP could send it) whose
 * body says what the PSP's GET contradicts; the sandbox's "lie" webhook fault
 * makes one by rewriting a real callback before it leaves. Each lie is
 * accepted (200) and re-queried, and the GET decides: a cobr said CONCLUIDA
 * while ATIVA, a rec said APROVADA while CRIADA, a journey-3 cob said paid
 * while not (in a /pix callback, and as the whole body of a /rec one), and
 * txids or idRecs ospayd never asked for (refused 404, nothing stored, the
 * PSP's retries the only repeats).
 *
 * Every test waits until the lie was delivered and every accepted event was
 * re-queried before looking, so "nothing changed" is not "not yet".
 */
#include <criterion/criterion.h>

#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "support/domain.h"
#include "support/pix.h"
#include "support/pix_steps.h"
#include "support/proc.h"
#include "support/wait.h"

#define CHG(x) OSPAY__V1__CHARGE_STATUS__CHARGE_STATUS_##x
#define INV(x) OSPAY__V1__INVOICE_STATUS__INVOICE_STATUS_##x
#define AUTH(x) OSPAY__V1__PIX_AUTHORIZATION_STATE__PIX_AUTHORIZATION_STATE_##x
#define RAIL(x) OSPAY__V1__PAYMENT_RAIL__PAYMENT_RAIL_##x
#define ACCEPTED "ospay_webhooks_total{result=\"accepted\"}"
#define REJECTED "ospay_webhooks_total{result=\"rejected\"}"
#define REQUERIED "ospay_webhook_requeries_total"
/* Mon 2027-03-01 09:00 local; the invoices fall due on Wed 03-10 (inside the window). */
#define DUE "2027-03-10"
#define RETRY_MS 200 /* the sandbox's webhook_retry_ms, set below */

static tsp_pix_t P;

static void setup(void)
{
	tsp_pix_up(&P, "2027-03-01T12:00:00Z", NULL);
	json_decref(tsp_pix_control(&P, "POST", "/control/pix/settle", "{\"date\":\"2027-03-01\"}",
				    200));
	/* The PSP's retries of a refused callback come quickly. */
	json_decref(tsp_pix_control(&P, "POST", "/control/settings", "{\"webhook_retry_ms\":200}",
				    200));
	tsp_pix_use_key(&P, "cobranca@isp.example");
}

static void teardown(void)
{
	tsp_pix_down(&P);
}

TestSuite(pix_lie, .init = setup, .fini = teardown, .timeout = 240);

/* The next Pix callback carrying the list `in` lies: its items say what (as
 * "set"), or it says what instead (as "body"). */
static void lie_as(const char *in, const char *field, const char *what)
{
	char b[600];
	snprintf(b, sizeof(b),
		 "{\"service\":\"pix\",\"kind\":\"lie\",\"count\":1,\"in\":\"%s\",\"%s\":%s}", in,
		 field, what);
	json_decref(tsp_pix_control(&P, "POST", "/control/webhook-faults", b, 201));
}

static void lie(const char *in, const char *set)
{
	lie_as(in, "set", set);
}

static void lie_body(const char *in, const char *body)
{
	lie_as(in, "body", body);
}

/* Waits until n lies were answered 200 and every event ospayd accepted (one
 * item a callback here) was re-queried and its answer stored. */
static void lies_settled(int n)
{
	TSP_AWAIT(tsp_pix_hooks_logged(&P, "lie", 200) >= n, "%d lie(s) accepted", n);
	TSP_AWAIT(tsp_pix_metric(&P, REQUERIED) >= tsp_pix_metric(&P, ACCEPTED),
		  "every accepted callback re-queried");
}

static void run(void)
{
	Ospay__V1__BillingRunNowRequest m = OSPAY__V1__BILLING_RUN_NOW_REQUEST__INIT;
	protobuf_c_message_free_unpacked(
		tsp_call_ok(P.fd, "ospay.v1.Billing/RunNow", &m.base,
			    &ospay__v1__billing_run_now_response__descriptor),
		NULL);
}

/* The customer's only Pix charge: its status, and its txid into txid. */
static int only_charge(uint64_t customer, char txid[40])
{
	Ospay__V1__BillingListChargesResponse *r = tsp_pix_charges(&P, customer);
	cr_assert_eq(r->n_charges, 1, "one charge, not %zu", r->n_charges);
	int st = (int)r->charges[0]->status;
	snprintf(txid, 40, "%s", r->charges[0]->pix_txid);
	protobuf_c_message_free_unpacked(&r->base, NULL);
	return st;
}

Test(pix_lie, a_cobr_said_concluida_while_ativa_changes_nothing_then_paid_once)
{
	uint64_t svc, c = tsp_pix_accepted(&P, 1, &svc);
	uint64_t inv = tso_invoice(P.fd, c, svc, DUE);
	char txid[40];
	/* The callback of the PUT (ATIVA, attempt scheduled) says paid, with a payment. */
	lie("cobsr", "{\"status\":\"CONCLUIDA\",\"pix\":[{\"endToEndId\":"
		     "\"E12345678202703011200lie000000001\",\"valor\":\"99.90\"}]}");
	run();
	lies_settled(1);
	cr_assert_eq(only_charge(c, txid), CHG(PENDING));
	cr_assert_eq(tso_invoice_status(P.fd, inv), INV(OPEN));
	cr_assert_eq(tsp_pix_metric(&P, "ospay_pix_charges_total{event=\"settled\"}"), 0);
	/* The payer's bank settles; ospayd's clock stays before the due date, so only
	 * the true callback's re-query can pay it. */
	json_decref(
		tsp_pix_control(&P, "POST", "/control/pix/settle", "{\"date\":\"" DUE "\"}", 200));
	TSP_AWAIT(tso_invoice_status(P.fd, inv) == INV(PAID), "paid by the real settlement");
	cr_assert_eq(only_charge(c, txid), CHG(APPROVED));
	cr_assert_eq(tsp_pix_metric(&P, "ospay_pix_charges_total{event=\"settled\"}"), 1,
		     "settled once");
}

Test(pix_lie, a_rec_said_aprovada_while_criada_changes_nothing)
{
	uint64_t c1 = tso_customer(P.fd, P.srv.unit_id, 2, "São Paulo");
	uint64_t c2 = tso_customer(P.fd, P.srv.unit_id, 3, "São Paulo");
	uint64_t s1 = tso_service(P.fd, c1, true), s2 = tso_service(P.fd, c2, true);
	Ospay__V1__CustomerService *a1 = tsp_pix_authorize(&P, s1, 0, 0);
	Ospay__V1__CustomerService *a2 = tsp_pix_authorize(&P, s2, 0, 0);
	cr_assert_eq(a1->pix->state, AUTH(CREATED));
	int rail_before = (int)a1->recurring_payment->rail;
	cr_assert_neq(rail_before, RAIL(PIX_AUTOMATICO));
	/* The second payer rejects; the callback of it names the first rec as approved. */
	char set[200], path[128];
	snprintf(set, sizeof(set), "{\"idRec\":\"%s\",\"status\":\"APROVADA\"}", a1->pix->id_rec);
	lie("recs", set);
	snprintf(path, sizeof(path), "/control/pix/recs/%s/reject", a2->pix->id_rec);
	json_decref(tsp_pix_control(&P, "POST", path, NULL, 200));
	lies_settled(1);
	Ospay__V1__CustomerService *now = tsp_pix_stored(&P, c1, s1);
	cr_assert_eq(now->pix->state, AUTH(CREATED), "the PSP says CRIADA");
	cr_assert_eq((int)now->recurring_payment->rail, rail_before, "the rail unchanged");
	cr_assert_eq(now->pix->accepted_ms, 0);
	protobuf_c_message_free_unpacked(&now->base, NULL);
	protobuf_c_message_free_unpacked(&a1->base, NULL);
	protobuf_c_message_free_unpacked(&a2->base, NULL);
}

/* A new customer (n) whose service's invoice a journey-3 QR pays; the service's
 * id, the invoice into *inv and its cob's txid into txid. */
static uint64_t journey_3(uint32_t n, uint64_t *inv, char txid[40])
{
	uint64_t c = tso_customer(P.fd, P.srv.unit_id, n, "São Paulo");
	uint64_t svc = tso_service(P.fd, c, true);
	*inv = tso_invoice(P.fd, c, svc, DUE);
	Ospay__V1__CustomerService *s = tsp_pix_authorize(
		&P, svc, OSPAY__V1__PIX_JOURNEY__PIX_JOURNEY_QR_WITH_PAYMENT, *inv);
	snprintf(txid, 40, "%s", s->pix->first_txid);
	protobuf_c_message_free_unpacked(&s->base, NULL);
	return svc;
}

static void pay_cob(const char *txid)
{
	char path[128];
	snprintf(path, sizeof(path), "/control/pix/cobs/%s/pay", txid);
	json_decref(tsp_pix_control(&P, "POST", path, NULL, 200));
}

Test(pix_lie, a_pix_callback_naming_an_unpaid_journey_3_cob_changes_nothing)
{
	uint64_t inv1, inv2;
	char tx1[40], tx2[40], set[120];
	journey_3(4, &inv1, tx1);
	journey_3(5, &inv2, tx2);
	/* The second customer pays; the /pix callback of it names the first cob. */
	snprintf(set, sizeof(set), "{\"txid\":\"%s\"}", tx1);
	lie("pix", set);
	pay_cob(tx2);
	lies_settled(1);
	cr_assert_eq(tso_invoice_status(P.fd, inv1), INV(OPEN), "the PSP says ATIVA");
	/* The first customer really pays: its own callback pays the invoice. */
	pay_cob(tx1);
	TSP_AWAIT(tso_invoice_status(P.fd, inv1) == INV(PAID), "paid by the real payment");
}

/*
 * A whole body: the /rec callback of a payer's approval comes with the right
 * hmac and says instead, in the /pix shape, that an unpaid journey-3 cob was
 * paid; ospayd reads the kind from the body and asks about the cob.
 */
Test(pix_lie, a_rec_callback_replaced_by_a_pix_body_changes_nothing)
{
	uint64_t inv, svc2;
	char tx[40], body[300];
	journey_3(8, &inv, tx);
	snprintf(body, sizeof(body),
		 "{\"pix\":[{\"endToEndId\":\"E12345678202703011200lie000000002\","
		 "\"txid\":\"%s\",\"valor\":\"99.90\",\"horario\":\"2027-03-01T12:00:00Z\"}]}",
		 tx);
	lie_body("recs", body);
	tsp_pix_accepted(&P, 9, &svc2);
	lies_settled(1);
	cr_assert_eq(tso_invoice_status(P.fd, inv), INV(OPEN), "the PSP says ATIVA");
}

Test(pix_lie, unknown_txid_and_idrec_are_refused_and_not_retried_by_ospay)
{
	uint64_t svc, c = tsp_pix_accepted(&P, 6, &svc);
	uint64_t inv = tso_invoice(P.fd, c, svc, DUE);
	char txid[40];
	lies_settled(0); /* the approval's callback is behind us */
	long long rejected = tsp_pix_metric(&P, REJECTED);
	long long accepted = tsp_pix_metric(&P, ACCEPTED);
	long long requeried = tsp_pix_metric(&P, REQUERIED);
	lie("cobsr", "{\"txid\":\"ospunknown0000000000000000000000000\",\"status\":\"CONCLUIDA\"}");
	run();
	/* An unknown rec: a second service's rec is canceled by its payer. */
	uint64_t svc2, c2 = tsp_pix_accepted(&P, 7, &svc2);
	lie("recs", "{\"idRec\":\"RR123456782027030199999999999\",\"status\":\"APROVADA\"}");
	char path[128];
	Ospay__V1__CustomerService *s2 = tsp_pix_stored(&P, c2, svc2);
	snprintf(path, sizeof(path), "/control/pix/recs/%s/cancel", s2->pix->id_rec);
	protobuf_c_message_free_unpacked(&s2->base, NULL);
	json_decref(tsp_pix_control(&P, "POST", path, NULL, 200));
	/* Each lie is refused 404 at each of the PSP's 4 attempts, then given up by it. */
	TSP_AWAIT(tsp_pix_hooks_logged(&P, "lie", 404) == 8, "both lies refused 4 times");
	cr_assert_eq(tsp_pix_hooks_logged(&P, "lie", 0), 8, "never accepted");
	/* ospayd stored nothing and asked the PSP nothing about them. */
	cr_assert_eq(tsp_pix_metric(&P, REJECTED), rejected + 8);
	TSP_AWAIT(tsp_pix_metric(&P, REQUERIED) - requeried ==
			  tsp_pix_metric(&P, ACCEPTED) - accepted,
		  "the true callbacks re-queried, nothing else");
	/* No loop: past several retry periods nothing more was sent or refused. */
	usleep(RETRY_MS * 5 * 1000);
	cr_assert_eq(tsp_pix_hooks_logged(&P, "lie", 0), 8);
	cr_assert_eq(tsp_pix_metric(&P, REJECTED), rejected + 8);
	cr_assert_eq(only_charge(c, txid), CHG(PENDING));
	cr_assert_eq(tso_invoice_status(P.fd, inv), INV(OPEN));
}

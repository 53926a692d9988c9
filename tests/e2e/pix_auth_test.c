/*
 * Authorizing a service for Pix Automático (issue 13, item 2) end to end: a
 * real ospayd on the test clock and the sandbox's PSP over mutual TLS, the
 * payer played through the sandbox's control API. Each journey from
 * AuthorizePix to ACCEPTED (the QR's copia-e-cola reaching the customer by
 * the sandbox's ZapMe), rejected, expired, the payer canceling (the rail falls
 * back to the card and the customer is told), the receiver canceling, one live
 * authorization per service, an unknown answer to POST /rec (a reset after the
 * PSP made the rec) resolved without a second rec, ListServices' filters.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/perm.h"
#include "core/pix.h"
#include "ospay/v1/billing.pb-c.h"
#include "ospay/v1/customers.pb-c.h"
#include "support/domain.h"
#include "support/gateways.h"
#include "support/pix.h"
#include "support/proc.h"
#include "support/records.h"
#include "support/wait.h"

#define AUTH(x) OSPAY__V1__PIX_AUTHORIZATION_STATE__PIX_AUTHORIZATION_STATE_##x
#define RAIL(x) OSPAY__V1__PAYMENT_RAIL__PAYMENT_RAIL_##x
#define JOURNEY(x) OSPAY__V1__PIX_JOURNEY__PIX_JOURNEY_##x
#define PHONE "5511987654321" /* every tso_customer's */
#define PIX_KEY "cobranca@isp.example"

static tsp_pix_t P;
static uint32_t n_customers;

static void setup(void)
{
	char body[200];
	status_t st;
	/* After the wall clock: ospayd checks the generated identities on its own clock. */
	tsp_pix_up(&P, "2027-01-04T12:00:00Z", NULL);
	/* The sandbox's "today" is the test clock's, for its date rules. */
	json_decref(tsp_pix_control(&P, "POST", "/control/pix/settle", "{\"date\":\"2027-01-04\"}",
				    200));
	/* Journeys 3 and 4's charges name the receiver's Pix key. */
	snprintf(body, sizeof(body),
		 "{\"client_id\":\"%s\",\"client_secret\":\"%s\",\"pix_key\":\"%s\"}",
		 TSP_PIX_CLIENT_ID, TSP_PIX_CLIENT_SECRET, PIX_KEY);
	tsg_register(&P.sb, P.srv.org_id, "pix", body);
	Ospay__V1__PixSettings s = tsp_pix_settings(&P);
	s.pix_key = PIX_KEY;
	cr_assert_eq(tsp_pix_set(&P, &s, true, &st), ST_OK, "%s", st.message);
	tsg_register_zapme(&P.sb, P.srv.org_id, "pixauth");
	tsg_set_zapme(P.fd, &P.sb, "pixauth");
	n_customers = 0;
}

static void teardown(void)
{
	tsp_pix_down(&P);
}

TestSuite(pix_auth_e2e, .init = setup, .fini = teardown, .timeout = 180);

/* A new customer's service of 99.90 a month, charged by card (recurring on). */
static uint64_t service(uint64_t *customer)
{
	uint64_t c = tso_customer(P.fd, 1, ++n_customers, "São Paulo");
	if (customer != NULL)
		*customer = c;
	return tso_service(P.fd, c, true);
}

typedef struct auth_req {
	int journey;
	uint64_t invoice;
	bool fixed, no_send, switch_rail;
} auth_req_t;

/* AuthorizePix: the status code; the service into *out when OK (caller frees). */
static int authorize(uint64_t svc, const auth_req_t *a, Ospay__V1__CustomerService **out,
		     status_t *st)
{
	Ospay__V1__CustomersAuthorizePixRequest m =
		OSPAY__V1__CUSTOMERS_AUTHORIZE_PIX_REQUEST__INIT;
	m.service_id = svc;
	if (a != NULL) {
		m.journey = a->journey;
		m.invoice_id = a->invoice;
		m.fixed_amount = a->fixed;
		m.do_not_send = a->no_send;
		m.switch_rail = a->switch_rail;
	}
	return tsp_call_take(P.fd, "ospay.v1.Customers/AuthorizePix", &m.base,
			     &ospay__v1__customers_authorize_pix_response__descriptor, "service",
			     (ProtobufCMessage **)out, st);
}

static Ospay__V1__CustomerService *authorize_ok(uint64_t svc, const auth_req_t *a)
{
	Ospay__V1__CustomerService *s = NULL;
	status_t st;
	int code = authorize(svc, a, &s, &st);
	cr_assert_eq(code, ST_OK, "AuthorizePix: %d %s (%s)", code, st.message,
		     st.n_violations ? st.violations[0].description : "");
	cr_assert_not_null(s->pix);
	cr_assert(pix_idrec_valid(s->pix->id_rec), "idRec \"%s\"", s->pix->id_rec);
	cr_assert_neq(s->pix->copia_e_cola[0], '\0', "the QR's copia-e-cola");
	return s;
}

/* RefreshPix or CancelPix: the status code; the service into *out when OK. */
static int by_id(const char *method, const ProtobufCMessageDescriptor *resp, uint64_t svc,
		 Ospay__V1__CustomerService **out, status_t *st)
{
	Ospay__V1__CustomersRefreshPixRequest m = OSPAY__V1__CUSTOMERS_REFRESH_PIX_REQUEST__INIT;
	m.service_id = svc;
	return tsp_call_take(P.fd, method, &m.base, resp, "service", (ProtobufCMessage **)out, st);
}

/* by_id asserting OK. */
static Ospay__V1__CustomerService *by_id_ok(const char *method,
					    const ProtobufCMessageDescriptor *resp, uint64_t svc)
{
	Ospay__V1__CustomerService *s = NULL;
	status_t st;
	int code = by_id(method, resp, svc, &s, &st);
	cr_assert_eq(code, ST_OK, "%s: %d %s", method, code, st.message);
	return s;
}

static Ospay__V1__CustomerService *refresh(uint64_t svc)
{
	return by_id_ok("ospay.v1.Customers/RefreshPix",
			&ospay__v1__customers_refresh_pix_response__descriptor, svc);
}

static Ospay__V1__CustomerService *cancel(uint64_t svc)
{
	return by_id_ok("ospay.v1.Customers/CancelPix",
			&ospay__v1__customers_cancel_pix_response__descriptor, svc);
}

static void payer(const char *what, const char *id, const char *action, const char *body)
{
	char path[200];
	snprintf(path, sizeof(path), "/control/pix/%s/%s/%s", what, id, action);
	json_decref(tsp_pix_control(&P, "POST", path, body, 200));
}

static void service_free(Ospay__V1__CustomerService *s)
{
	protobuf_c_message_free_unpacked(&s->base, NULL);
}

static int rail(const Ospay__V1__CustomerService *s)
{
	return s->recurring_payment != NULL ? (int)s->recurring_payment->rail : 0;
}

/* The ZapMe messages to every test customer's phone holding needle (the body in out). */
static int zapme_with(const char *needle)
{
	static char out[256 * 1024];
	char url[300];
	int n = 0;
	snprintf(url, sizeof(url), "%s/control/messages?service=zapme&phone=%s", P.sb.base, PHONE);
	cr_assert_eq(tsp_http("GET", url, NULL, NULL, NULL, out, sizeof(out)), 200, "%s", out);
	for (const char *p = strstr(out, needle); p != NULL; p = strstr(p + 1, needle))
		n++;
	return n;
}

Test(pix_auth_e2e, journey_2_sent_accepted_then_the_payer_cancels_and_the_card_returns)
{
	uint64_t svc = service(NULL);
	auth_req_t a = {.switch_rail = true};
	Ospay__V1__CustomerService *s = authorize_ok(svc, &a);
	char id_rec[64], copia[600];
	snprintf(id_rec, sizeof(id_rec), "%s", s->pix->id_rec);
	snprintf(copia, sizeof(copia), "%s", s->pix->copia_e_cola);
	cr_assert_eq(s->pix->state, AUTH(SENT), "queued to the customer: SENT");
	cr_assert_eq(s->pix->journey, JOURNEY(QR));
	cr_assert(s->pix->retries_allowed, "PERMITE_3R_7D unless the settings say no");
	cr_assert_neq(rail(s), RAIL(PIX_AUTOMATICO), "the card until the payer accepts");
	service_free(s);
	TSP_AWAIT(zapme_with(copia) == 1, "the copia-e-cola reaches the customer by WhatsApp");

	/* One live authorization per service. */
	status_t st;
	cr_assert_eq(authorize(svc, NULL, NULL, &st), ST_FAILED_PRECONDITION);
	cr_assert(strstr(st.message, "SENT") != NULL, "%s", st.message);

	/* The PSP still says CRIADA: a refresh keeps SENT. */
	s = refresh(svc);
	cr_assert_eq(s->pix->state, AUTH(SENT));
	service_free(s);

	payer("recs", id_rec, "approve", NULL);
	s = refresh(svc);
	cr_assert_eq(s->pix->state, AUTH(ACCEPTED));
	cr_assert_neq(s->pix->accepted_ms, 0);
	cr_assert_eq(rail(s), RAIL(PIX_AUTOMATICO), "switch_rail: Pix once accepted");
	service_free(s);
	TSP_AWAIT(zapme_with("foi confirmada") >= 1, "the customer is told it was accepted");
	cr_assert_eq(authorize(svc, NULL, NULL, &st), ST_FAILED_PRECONDITION);
	cr_assert(strstr(st.message, "ACCEPTED") != NULL, "%s", st.message);

	/* The payer cancels in their bank's app. */
	payer("recs", id_rec, "cancel", NULL);
	s = refresh(svc);
	cr_assert_eq(s->pix->state, AUTH(CANCELED_BY_PAYER));
	cr_assert_eq(rail(s), RAIL(CARD), "back to the card");
	cr_assert(s->recurring_payment->enabled);
	service_free(s);
	TSP_AWAIT(zapme_with("Você cancelou") == 1, "the customer is told the card is back");
	/* Nothing twice: a second refresh changes nothing and tells nobody. */
	s = refresh(svc);
	cr_assert_eq(s->pix->state, AUTH(CANCELED_BY_PAYER));
	service_free(s);

	/* A final authorization is replaced by a new one. */
	s = authorize_ok(svc, NULL);
	cr_assert_str_neq(s->pix->id_rec, id_rec);
	cr_assert_eq(s->pix->state, AUTH(SENT));
	service_free(s);
	cr_assert_eq(zapme_with("Você cancelou"), 1);
}

Test(pix_auth_e2e, rejected_expired_and_not_sent)
{
	uint64_t svc1 = service(NULL), svc2 = service(NULL), svc3 = service(NULL);
	Ospay__V1__CustomerService *s1 = authorize_ok(svc1, NULL);
	Ospay__V1__CustomerService *s2 = authorize_ok(svc2, NULL);
	auth_req_t quiet = {.no_send = true, .fixed = true};
	Ospay__V1__CustomerService *s3 = authorize_ok(svc3, &quiet);
	cr_assert_eq(s3->pix->state, AUTH(CREATED), "not sent: the operator hands it over");
	cr_assert_eq(s3->pix->fixed_amount, 9990);
	payer("recs", s1->pix->id_rec, "reject", NULL);
	payer("recs", s2->pix->id_rec, "expire", NULL);
	service_free(s1);
	service_free(s2);
	service_free(s3);
	s1 = refresh(svc1);
	cr_assert_eq(s1->pix->state, AUTH(REJECTED));
	cr_assert_neq(s1->pix->end_reason[0], '\0');
	cr_assert_neq(rail(s1), RAIL(PIX_AUTOMATICO));
	s2 = refresh(svc2);
	cr_assert_eq(s2->pix->state, AUTH(EXPIRED));
	service_free(s1);
	service_free(s2);
	TSP_AWAIT(zapme_with("não foi concluída") == 2, "both customers are told");
}

Test(pix_auth_e2e, the_receiver_cancels)
{
	uint64_t svc = service(NULL);
	auth_req_t a = {.switch_rail = true};
	Ospay__V1__CustomerService *s = authorize_ok(svc, &a);
	payer("recs", s->pix->id_rec, "approve", NULL);
	service_free(s);
	s = refresh(svc);
	cr_assert_eq(rail(s), RAIL(PIX_AUTOMATICO));
	service_free(s);
	s = cancel(svc);
	cr_assert_eq(s->pix->state, AUTH(CANCELED_BY_RECEIVER));
	cr_assert_neq(s->pix->cancel_requested_ms, 0);
	cr_assert_eq(rail(s), RAIL(CARD));
	service_free(s);
	/* Again: the same answer, nothing asked of the PSP. */
	s = cancel(svc);
	cr_assert_eq(s->pix->state, AUTH(CANCELED_BY_RECEIVER));
	service_free(s);
	TSP_AWAIT(zapme_with("Cancelamos") == 1, "the customer is told");
}

/* A new customer's service, an invoice due 2027-01-12 and a journey-3 authorization
 * (switch_rail) paying it: the first payment's txid into txid. */
static uint64_t journey_3(uint64_t *cust, uint64_t *inv, char txid[64])
{
	uint64_t svc = service(cust);
	*inv = tso_invoice(P.fd, *cust, svc, "2027-01-12");
	auth_req_t a = {.journey = JOURNEY(QR_WITH_PAYMENT), .invoice = *inv, .switch_rail = true};
	Ospay__V1__CustomerService *s = authorize_ok(svc, &a);
	cr_assert(pix_txid_valid(s->pix->first_txid), "\"%s\"", s->pix->first_txid);
	cr_assert_eq(s->pix->first_invoice_id, *inv);
	snprintf(txid, 64, "%s", s->pix->first_txid);
	service_free(s);
	return svc;
}

Test(pix_auth_e2e, journey_3_the_first_payment_pays_the_invoice_and_activates)
{
	uint64_t cust, inv;
	char txid[64];
	uint64_t svc = journey_3(&cust, &inv, txid);
	payer("cobs", txid, "pay", NULL);
	Ospay__V1__CustomerService *s = refresh(svc);
	cr_assert_eq(s->pix->state, AUTH(ACCEPTED));
	cr_assert_eq(rail(s), RAIL(PIX_AUTOMATICO));
	service_free(s);
	cr_assert_eq(tso_invoice_status(P.fd, inv), OSPAY__V1__INVOICE_STATUS__INVOICE_STATUS_PAID);
}

Test(pix_auth_e2e, journey_3_unpaid_leaves_the_rec_expired)
{
	uint64_t cust;
	uint64_t svc = service(&cust);
	uint64_t inv = tso_invoice(P.fd, cust, svc, "2027-01-12");
	auth_req_t a = {.journey = JOURNEY(QR_WITH_PAYMENT), .invoice = inv};
	Ospay__V1__CustomerService *s = authorize_ok(svc, &a);
	payer("cobs", s->pix->first_txid, "expire", NULL);
	service_free(s);
	s = refresh(svc);
	cr_assert_eq(s->pix->state, AUTH(EXPIRED));
	service_free(s);
	cr_assert_eq(tso_invoice_status(P.fd, inv), OSPAY__V1__INVOICE_STATUS__INVOICE_STATUS_OPEN);
}

Test(pix_auth_e2e, journey_4_pays_the_invoice_and_authorizes_only_with_the_opt_in)
{
	uint64_t c1, c2;
	uint64_t svc1 = service(&c1), svc2 = service(&c2);
	uint64_t inv1 = tso_invoice(P.fd, c1, svc1, "2027-01-12");
	uint64_t inv2 = tso_invoice(P.fd, c2, svc2, "2027-01-12");
	auth_req_t a1 = {.journey = JOURNEY(INVOICE_OFFER), .invoice = inv1};
	auth_req_t a2 = {.journey = JOURNEY(INVOICE_OFFER), .invoice = inv2};
	Ospay__V1__CustomerService *s1 = authorize_ok(svc1, &a1);
	Ospay__V1__CustomerService *s2 = authorize_ok(svc2, &a2);
	payer("cobs", s1->pix->first_txid, "pay", "{\"opt_in\":true}");
	payer("cobs", s2->pix->first_txid, "pay", "{\"opt_in\":false}");
	service_free(s1);
	service_free(s2);
	s1 = refresh(svc1);
	s2 = refresh(svc2);
	cr_assert_eq(s1->pix->state, AUTH(ACCEPTED));
	cr_assert_eq(s2->pix->state, AUTH(SENT), "no opt-in: the authorization waits");
	service_free(s1);
	service_free(s2);
	cr_assert_eq(tso_invoice_status(P.fd, inv1),
		     OSPAY__V1__INVOICE_STATUS__INVOICE_STATUS_PAID);
	cr_assert_eq(tso_invoice_status(P.fd, inv2),
		     OSPAY__V1__INVOICE_STATUS__INVOICE_STATUS_PAID);
}

Test(pix_auth_e2e, a_lost_answer_to_post_rec_makes_no_second_rec)
{
	uint64_t svc = service(NULL);
	uint64_t f = tsg_fault(&P.sb, "{\"service\":\"pix\",\"route\":\"rec_create\",\"kind\":"
				      "\"reset\",\"count\":1,\"process\":true}");
	Ospay__V1__CustomerService *s = authorize_ok(svc, NULL);
	cr_assert(tsg_fault_hit(&P.sb, f), "the reset happened after the PSP made the rec");
	cr_assert_eq(s->pix->state, AUTH(SENT));
	/* The rec ospay kept is the one its location names: the PSP's only one. */
	char path[128];
	snprintf(path, sizeof(path), "/control/pix/recs/%s/approve", s->pix->id_rec);
	json_decref(tsp_pix_control(&P, "POST", path, NULL, 200));
	service_free(s);
	s = refresh(svc);
	cr_assert_eq(s->pix->state, AUTH(ACCEPTED));
	service_free(s);
}

/* ListServices' services ids (at most 16) into ids; the count. */
static size_t list(uint64_t customer, int state, int rail_filter, uint64_t *ids)
{
	Ospay__V1__CustomersListServicesRequest m;
	tsr_list_services(&m, customer, state, rail_filter);
	Ospay__V1__CustomersListServicesResponse *r =
		tsp_call_ok(P.fd, "ospay.v1.Customers/ListServices", &m.base,
			    &ospay__v1__customers_list_services_response__descriptor);
	size_t n = tsr_service_ids(r, ids, 16);
	protobuf_c_message_free_unpacked(&r->base, NULL);
	return n;
}

Test(pix_auth_e2e, list_services_by_state_and_rail_over_every_customer)
{
	uint64_t ids[16];
	uint64_t a = service(NULL), b = service(NULL);
	service(NULL);
	auth_req_t sw = {.switch_rail = true};
	Ospay__V1__CustomerService *s = authorize_ok(a, &sw);
	payer("recs", s->pix->id_rec, "approve", NULL);
	service_free(s);
	service_free(refresh(a));
	service_free(authorize_ok(b, NULL));
	cr_assert_eq(list(0, 0, 0, ids), 3);
	cr_assert_eq(list(0, AUTH(ACCEPTED), 0, ids), 1);
	cr_assert_eq(ids[0], a);
	cr_assert_eq(list(0, AUTH(SENT), 0, ids), 1);
	cr_assert_eq(ids[0], b);
	cr_assert_eq(list(0, 0, RAIL(PIX_AUTOMATICO), ids), 1);
	cr_assert_eq(ids[0], a);
	cr_assert_eq(list(0, 0, RAIL(CARD), ids), 2);
}

/* ---------------------------------------------------------------- callbacks (hints) */

static long long wh_metric(const char *series)
{
	long long v = tsp_metric(&P.srv, series);
	return v < 0 ? 0 : v;
}

/* The service as stored now, without asking the PSP (ListServices of its customer). */
static Ospay__V1__CustomerService *stored(uint64_t customer, uint64_t svc)
{
	Ospay__V1__CustomersListServicesRequest m =
		OSPAY__V1__CUSTOMERS_LIST_SERVICES_REQUEST__INIT;
	Ospay__V1__CustomerService *s = NULL;
	m.customer_id = customer;
	Ospay__V1__CustomersListServicesResponse *r =
		tsp_call_ok(P.fd, "ospay.v1.Customers/ListServices", &m.base,
			    &ospay__v1__customers_list_services_response__descriptor);
	for (size_t i = 0; i < r->n_services; i++) {
		if (r->services[i]->id == svc) {
			s = r->services[i];
			r->services[i] = r->services[--r->n_services];
		}
	}
	protobuf_c_message_free_unpacked(&r->base, NULL);
	cr_assert_not_null(s);
	return s;
}

static int stored_state(uint64_t customer, uint64_t svc)
{
	Ospay__V1__CustomerService *s = stored(customer, svc);
	int st = s->pix != NULL ? (int)s->pix->state : -1;
	service_free(s);
	return st;
}

Test(pix_auth_e2e, a_forged_callback_changes_nothing)
{
	uint64_t cust, svc = service(&cust);
	Ospay__V1__CustomerService *s = authorize_ok(svc, NULL);
	char path[160], body[200], out[512];
	snprintf(path, sizeof(path), "/webhooks/pix/%llu?hmac=forged&ignorar=/rec",
		 (unsigned long long)P.srv.org_id);
	snprintf(body, sizeof(body), "{\"recs\":[{\"idRec\":\"%s\",\"status\":\"APROVADA\"}]}",
		 s->pix->id_rec);
	service_free(s);
	long long unauthorized = wh_metric("ospay_webhooks_total{result=\"unauthorized\"}");
	cr_assert_eq(tsp_https(&P.srv, "POST", path, body, out, sizeof(out)), 401, "%s", out);
	cr_assert_eq(wh_metric("ospay_webhooks_total{result=\"unauthorized\"}"), unauthorized + 1);
	cr_assert_eq(stored_state(cust, svc), AUTH(SENT));
}

/* A new customer's service with a SENT authorization (switch_rail); its idRec into id_rec. */
static uint64_t sent_service(uint64_t *cust, char id_rec[64])
{
	uint64_t svc = service(cust);
	auth_req_t sw = {.switch_rail = true};
	Ospay__V1__CustomerService *s = authorize_ok(svc, &sw);
	snprintf(id_rec, 64, "%s", s->pix->id_rec);
	service_free(s);
	return svc;
}

Test(pix_auth_e2e, a_duplicated_callback_accepts_once)
{
	uint64_t cust;
	char id_rec[64];
	uint64_t svc = sent_service(&cust, id_rec);
	Ospay__V1__CustomerService *s;
	long long dup = wh_metric("ospay_webhooks_total{result=\"duplicate\"}");
	json_decref(tsp_pix_control(
		&P, "POST", "/control/webhook-faults",
		"{\"service\":\"pix\",\"kind\":\"duplicate\",\"copies\":2,\"count\":1}", 201));
	/* The payer approves; ospay learns it from the callback alone (no refresh). */
	payer("recs", id_rec, "approve", NULL);
	TSP_AWAIT(stored_state(cust, svc) == AUTH(ACCEPTED), "accepted through the callback");
	TSP_AWAIT(wh_metric("ospay_webhooks_total{result=\"duplicate\"}") >= dup + 2,
		  "both copies seen as duplicates");
	s = stored(cust, svc);
	cr_assert_eq(rail(s), RAIL(PIX_AUTOMATICO));
	service_free(s);
	TSP_AWAIT(zapme_with("foi confirmada") >= 1, "the customer is told");
	cr_assert_eq(zapme_with("foi confirmada"), 1, "once");
}

Test(pix_auth_e2e, a_stale_callback_after_the_cancel_changes_nothing)
{
	uint64_t cust;
	char id_rec[64];
	uint64_t svc = sent_service(&cust, id_rec);
	Ospay__V1__CustomerService *s;
	long long requeried = wh_metric("ospay_webhook_requeries_total") +
			      wh_metric("ospay_webhook_requery_coalesced_total");
	/* The two callbacks (APROVADA, then CANCELADA) arrive newest first: the
	 * APROVADA hint comes when the PSP already says CANCELADA. */
	json_decref(tsp_pix_control(
		&P, "POST", "/control/webhook-faults",
		"{\"service\":\"pix\",\"kind\":\"reorder\",\"batch\":2,\"count\":2}", 201));
	payer("recs", id_rec, "approve", NULL);
	payer("recs", id_rec, "cancel", NULL);
	TSP_AWAIT(stored_state(cust, svc) == AUTH(CANCELED_BY_PAYER), "canceled by the payer");
	TSP_AWAIT(wh_metric("ospay_webhook_requeries_total") +
				  wh_metric("ospay_webhook_requery_coalesced_total") >=
			  requeried + 2,
		  "both hints were asked about");
	s = stored(cust, svc);
	cr_assert_eq(s->pix->state, AUTH(CANCELED_BY_PAYER), "never back to accepted");
	cr_assert_eq(rail(s), RAIL(CARD));
	service_free(s);
}

/* ---------------------------------------------------------------- unknown answers, scope */

Test(pix_auth_e2e, an_unknown_answer_without_a_rec_goes_on_from_its_location)
{
	uint64_t svc = service(NULL);
	/* A 500 to POST /rec, the PSP having made nothing: the outcome is unknown. */
	uint64_t f = tsg_fault(&P.sb, "{\"service\":\"pix\",\"route\":\"rec_create\",\"kind\":"
				      "\"http500\",\"count\":1,\"process\":false}");
	status_t st;
	cr_assert_eq(authorize(svc, NULL, NULL, &st), ST_UNAVAILABLE, "%s", st.message);
	cr_assert(tsg_fault_hit(&P.sb, f));
	/* Stored: the location, nothing else; the service says so. */
	cr_assert_eq(by_id("ospay.v1.Customers/RefreshPix",
			   &ospay__v1__customers_refresh_pix_response__descriptor, svc, NULL, &st),
		     ST_FAILED_PRECONDITION);
	cr_assert(strstr(st.message, "AuthorizePix again") != NULL, "%s", st.message);
	/* Again: GET /locrec says no rec, so the rec is made on the same location. */
	Ospay__V1__CustomerService *s = authorize_ok(svc, NULL);
	cr_assert_eq(s->pix->state, AUTH(SENT));
	cr_assert_eq(s->pix->loc_id > 0, true);
	service_free(s);
}

Test(pix_auth_e2e, scope_and_roles)
{
	char secret[128];
	uint64_t svc = service(NULL); /* unit 1 */
	uint64_t other = tso_unit(P.fd, "Zona Norte");
	tso_token(P.fd, PERM_ROLE_OPERATOR, other, secret, sizeof(secret));
	int fd_other = tsp_login(&P.srv, secret);
	tso_token(P.fd, PERM_ROLE_READ_ONLY, 0, secret, sizeof(secret));
	int fd_ro = tsp_login(&P.srv, secret);
	Ospay__V1__CustomersAuthorizePixRequest m =
		OSPAY__V1__CUSTOMERS_AUTHORIZE_PIX_REQUEST__INIT;
	m.service_id = svc;
	status_t st;
	/* Another unit's operator does not see the service. */
	cr_assert_eq(tsp_call(fd_other, "ospay.v1.Customers/AuthorizePix", &m.base, NULL, NULL,
			      "k-other", &st),
		     ST_NOT_FOUND);
	/* A read-only token may look (RefreshPix), not ask the customer. */
	cr_assert_eq(tsp_call(fd_ro, "ospay.v1.Customers/AuthorizePix", &m.base, NULL, NULL, "k-ro",
			      &st),
		     ST_PERMISSION_DENIED);
	service_free(authorize_ok(svc, NULL));
	Ospay__V1__CustomersRefreshPixRequest q = OSPAY__V1__CUSTOMERS_REFRESH_PIX_REQUEST__INIT;
	q.service_id = svc;
	cr_assert_eq(
		tsp_call(fd_ro, "ospay.v1.Customers/RefreshPix", &q.base, NULL, NULL, "k-ro2", &st),
		ST_OK, "%s", st.message);
	cr_assert_eq(
		tsp_call(fd_ro, "ospay.v1.Customers/CancelPix", &q.base, NULL, NULL, "k-ro3", &st),
		ST_PERMISSION_DENIED);
	/* Bad input is named. */
	m.service_id = service(NULL);
	m.journey = JOURNEY(QR_WITH_PAYMENT);
	m.payer_max_amount = -1;
	cr_assert_eq(tsp_call(P.fd, "ospay.v1.Customers/AuthorizePix", &m.base, NULL, NULL, "k-bad",
			      &st),
		     ST_INVALID_ARGUMENT);
	cr_assert(tso_violation(&st, "invoice_id"));
	cr_assert(tso_violation(&st, "payer_max_amount"));
	close(fd_other);
	close(fd_ro);
}

Test(pix_auth_e2e, a_repeated_call_is_answered_again_not_done_twice)
{
	uint64_t svc = service(NULL);
	Ospay__V1__CustomersAuthorizePixRequest m =
		OSPAY__V1__CUSTOMERS_AUTHORIZE_PIX_REQUEST__INIT;
	m.service_id = svc;
	ProtobufCMessage *r1 = NULL, *r2 = NULL;
	status_t st;
	cr_assert_eq(tsp_call(P.fd, "ospay.v1.Customers/AuthorizePix", &m.base,
			      &ospay__v1__customers_authorize_pix_response__descriptor, &r1,
			      "same-key", &st),
		     ST_OK, "%s", st.message);
	cr_assert_eq(tsp_call(P.fd, "ospay.v1.Customers/AuthorizePix", &m.base,
			      &ospay__v1__customers_authorize_pix_response__descriptor, &r2,
			      "same-key", &st),
		     ST_OK,
		     "the repeat gets the first answer, not the live authorization's refusal");
	const Ospay__V1__CustomerService *s1 =
		((Ospay__V1__CustomersAuthorizePixResponse *)r1)->service;
	const Ospay__V1__CustomerService *s2 =
		((Ospay__V1__CustomersAuthorizePixResponse *)r2)->service;
	cr_assert_str_eq(s1->pix->id_rec, s2->pix->id_rec);
	char copia[600];
	snprintf(copia, sizeof(copia), "%s", s1->pix->copia_e_cola);
	protobuf_c_message_free_unpacked(r1, NULL);
	protobuf_c_message_free_unpacked(r2, NULL);
	TSP_AWAIT(zapme_with(copia) == 1, "one message");
}

Test(pix_auth_e2e, journey_3_accepted_and_paid_from_the_callbacks)
{
	uint64_t cust, inv;
	char txid[64];
	uint64_t svc = journey_3(&cust, &inv, txid);
	/* The payer pays the QR: the rec's callback accepts the authorization and the
	 * payment's /pix callback (registered by SetGateway with the Pix key) pays the
	 * invoice, no RefreshPix. */
	payer("cobs", txid, "pay", NULL);
	TSP_AWAIT(stored_state(cust, svc) == AUTH(ACCEPTED), "accepted through the /rec callback");
	Ospay__V1__CustomerService *s = stored(cust, svc);
	cr_assert_eq(rail(s), RAIL(PIX_AUTOMATICO));
	service_free(s);
	TSP_AWAIT(tso_invoice_status(P.fd, inv) == OSPAY__V1__INVOICE_STATUS__INVOICE_STATUS_PAID,
		  "paid through the /pix callback");
}

/* calendario.dataInicial of a rec as the PSP keeps it (GET /pix/rec/{idRec}). */
static void first_date(const char *id_rec, char out[11])
{
	static char buf[16384];
	char url[300], hdr[600];
	snprintf(url, sizeof(url), "%s/pix/oauth/token", P.sb.base);
	/* HTTP Basic of TSP_PIX_CLIENT_ID:TSP_PIX_CLIENT_SECRET ("pix-cid:pix-secret"). */
	cr_assert_eq(tsp_http("POST", url, "grant_type=client_credentials",
			      "Authorization: Basic cGl4LWNpZDpwaXgtc2VjcmV0", NULL, buf,
			      sizeof(buf)),
		     200, "%s", buf);
	json_t *j = json_loads(buf, 0, NULL);
	cr_assert_not_null(j, "%s", buf);
	snprintf(hdr, sizeof(hdr), "Authorization: Bearer %s",
		 json_string_value(json_object_get(j, "access_token")));
	json_decref(j);
	snprintf(url, sizeof(url), "%s/pix/rec/%s", P.sb.base, id_rec);
	cr_assert_eq(tsp_http("GET", url, NULL, hdr, NULL, buf, sizeof(buf)), 200, "%s", buf);
	j = json_loads(buf, 0, NULL);
	cr_assert_not_null(j, "%s", buf);
	const char *d =
		json_string_value(json_object_get(json_object_get(j, "calendario"), "dataInicial"));
	cr_assert_not_null(d, "%s", buf);
	snprintf(out, 11, "%s", d);
	json_decref(j);
}

/* AuthorizePix of svc (journey and invoice as given): its rec's dataInicial. */
static void authorized_from(uint64_t svc, int journey, uint64_t inv, const char *want)
{
	auth_req_t a = {.journey = journey, .invoice = inv};
	Ospay__V1__CustomerService *s = authorize_ok(svc, &a);
	char d[11];
	first_date(s->pix->id_rec, d);
	cr_assert_str_eq(d, want, "service %llu", (unsigned long long)svc);
	service_free(s);
}

Test(pix_auth_e2e, the_first_date_of_each_journey)
{
	/* Today is 2027-01-04 on both clocks. */
	uint64_t c1, c2, c3, c4;
	uint64_t s1 = service(&c1), s2 = service(&c2), s3 = service(&c3), s4 = service(&c4);
	/* Journey 2: the first OPEN invoice not yet due (an overdue one passed over). */
	tso_invoice(P.fd, c1, s1, "2026-12-31");
	tso_invoice(P.fd, c1, s1, "2027-01-12");
	authorized_from(s1, JOURNEY(QR), 0, "2027-01-12");
	/* Journey 2 without one: the cycle after the latest invoice, else a month on. */
	tso_invoice(P.fd, c2, s2, "2026-12-31");
	authorized_from(s2, JOURNEY(QR), 0, "2027-01-31");
	authorized_from(s3, JOURNEY(QR), 0, "2027-02-04");
	/* Journey 3: the cycle after the invoice the first payment pays. */
	uint64_t inv = tso_invoice(P.fd, c4, s4, "2027-01-31");
	authorized_from(s4, JOURNEY(QR_WITH_PAYMENT), inv, "2027-02-28");
}

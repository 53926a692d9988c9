/*
 * The billing run end to end (SPEC 4.7): a real ospayd on the test clock
 * charging at a real ospay-sandbox (Cielo), whose outcome depends on the card
 * number's final digit (docs/sandbox.md). The seed's example exactly, success,
 * irreversible declines, the cases that charge nothing, the stored return
 * code, and an unknown outcome resolved by query without a second charge
 * (the sandbox's own charge records count the approvals).
 */
#include <criterion/criterion.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ospay/v1/admin.pb-c.h"
#include "ospay/v1/billing.pb-c.h"
#include "ospay/v1/cards.pb-c.h"
#include "ospay/v1/clock.pb-c.h"
#include "ospay/v1/customers.pb-c.h"
#include "ospay/v1/gateway.pb-c.h"
#include "support/domain.h"
#include "support/proc.h"

static tsp_server_t srv;
static tsp_sandbox_t sbx;
static int adm;

#define DAY_MS (24LL * 3600 * 1000)
#define CHG(x) OSPAY__V1__CHARGE_STATUS__CHARGE_STATUS_##x
#define INV(x) OSPAY__V1__INVOICE_STATUS__INVOICE_STATUS_##x

static void set_gateway(bool automatic)
{
	Ospay__V1__GatewayCredentials cred = OSPAY__V1__GATEWAY_CREDENTIALS__INIT;
	cred.merchant_id = "mid-bill";
	cred.merchant_key = "mkey-bill";
	Ospay__V1__HeaderPair hook = OSPAY__V1__HEADER_PAIR__INIT;
	hook.name = "X-Cielo-Hook";
	hook.value = "hook-bill";
	Ospay__V1__HeaderPair *hooks[] = {&hook};
	cred.webhook_headers = hooks;
	cred.n_webhook_headers = 1;
	Ospay__V1__SetGatewayRequest req = OSPAY__V1__SET_GATEWAY_REQUEST__INIT;
	char base[128];
	snprintf(base, sizeof(base), "%s/cielo", sbx.base);
	req.kind = OSPAY__V1__GATEWAY_KIND__GATEWAY_KIND_CIELO;
	req.base_url = base;
	req.credentials = &cred;
	req.allow_automatic_recurrence = automatic;
	status_t st;
	cr_assert_eq(tsp_call(adm, "ospay.v1.Admin/SetGateway", &req.base, NULL, NULL, NULL, &st),
		     0, "SetGateway: %s (%s)", st.message,
		     st.n_violations ? st.violations[0].field : "");
}

static void setup(void)
{
	/* 12:00 local (UTC-03:00) on the seed's due date. */
	const char *args[] = {"--test-clock", "2020-12-10T15:00:00Z", NULL};
	tsp_server_up(&srv, args);
	tsp_sandbox_up(&sbx, &srv);
	char url[200], out[4096];
	snprintf(url, sizeof(url), "%s/control/orgs/%llu/cielo", sbx.base,
		 (unsigned long long)srv.org_id);
	int code = tsp_http("POST", url,
			    "{\"merchant_id\":\"mid-bill\",\"merchant_key\":\"mkey-bill\","
			    "\"notification_headers\":{\"X-Cielo-Hook\":\"hook-bill\"}}",
			    NULL, NULL, out, sizeof(out));
	cr_assert(code >= 200 && code < 300, "register org at sandbox: %d %s", code, out);
	adm = tsp_login(&srv, srv.admin_token);
	set_gateway(true);
}

static void teardown(void)
{
	close(adm);
	tsp_sandbox_down(&sbx);
	tsp_server_down(&srv);
}

TestSuite(billing, .init = setup, .fini = teardown, .timeout = 120);

/* A Visa number passing Luhn whose final digit is last (the sandbox's outcome). */
static void visa_ending(int last, char out[17])
{
	for (int body = 0; body < 1000; body++) {
		char tmp[32];
		snprintf(tmp, sizeof(tmp), "411111111111%03d%d", body % 1000, last % 10);
		memcpy(out, tmp, 17);
		int sum = 0;
		for (int i = 15; i >= 0; i--) {
			int d = out[i] - '0';
			if ((15 - i) % 2 == 1) {
				d *= 2;
				if (d > 9)
					d -= 9;
			}
			sum += d;
		}
		if (sum % 10 == 0)
			return;
	}
	cr_assert_fail("no Visa number ends in %d", last);
}

static uint64_t add_card(uint64_t customer, int last)
{
	char number[17];
	visa_ending(last, number);
	Ospay__V1__CardsAddRequest m = OSPAY__V1__CARDS_ADD_REQUEST__INIT;
	m.customer_id = customer;
	m.number = number;
	m.holder = "MARIA DA SILVA";
	m.expiry = "12/2030";
	m.security_code = "123";
	status_t st;
	Ospay__V1__CardsAddResponse *r = NULL;
	cr_assert_eq(tsp_call(adm, "ospay.v1.Cards/Add", &m.base,
			      &ospay__v1__cards_add_response__descriptor, (ProtobufCMessage **)&r,
			      NULL, &st),
		     0, "Cards/Add: %s", st.message);
	uint64_t id = r->card->id;
	protobuf_c_message_free_unpacked(&r->base, NULL);
	return id;
}

/* The service charges card (0: the default) with recurring payment on. */
static void choose_card(uint64_t svc, uint64_t card)
{
	Ospay__V1__CustomersUpdateServiceRequest u =
		OSPAY__V1__CUSTOMERS_UPDATE_SERVICE_REQUEST__INIT;
	Ospay__V1__RecurringPayment rp = OSPAY__V1__RECURRING_PAYMENT__INIT;
	rp.enabled = true;
	rp.card_id = card;
	char *mask[] = {"recurring_payment"};
	u.service_id = svc;
	u.recurring_payment = &rp;
	u.update_mask = mask;
	u.n_update_mask = 1;
	status_t st;
	cr_assert_eq(
		tsp_call(adm, "ospay.v1.Customers/UpdateService", &u.base, NULL, NULL, NULL, &st),
		0, "UpdateService: %s", st.message);
}

static uint64_t service(uint64_t customer, bool recurring)
{
	Ospay__V1__RecurringPayment rp = OSPAY__V1__RECURRING_PAYMENT__INIT;
	rp.enabled = recurring;
	Ospay__V1__CustomersAddServiceRequest m = OSPAY__V1__CUSTOMERS_ADD_SERVICE_REQUEST__INIT;
	m.customer_id = customer;
	m.plan_name = "Fibra 500";
	m.monthly_amount = 9990;
	m.recurring_payment = &rp;
	Ospay__V1__CustomersAddServiceResponse *r = NULL;
	status_t st;
	cr_assert_eq(tsp_call(adm, "ospay.v1.Customers/AddService", &m.base,
			      &ospay__v1__customers_add_service_response__descriptor,
			      (ProtobufCMessage **)&r, NULL, &st),
		     0, "%s", st.message);
	uint64_t id = r->service->id;
	protobuf_c_message_free_unpacked(&r->base, NULL);
	return id;
}

static uint64_t invoice(uint64_t customer, uint64_t svc, const char *due)
{
	Ospay__V1__BillingCreateInvoiceRequest m = OSPAY__V1__BILLING_CREATE_INVOICE_REQUEST__INIT;
	m.customer_id = customer;
	m.service_id = svc;
	m.amount = 9990;
	m.due_date = (char *)due;
	Ospay__V1__BillingCreateInvoiceResponse *r = NULL;
	status_t st;
	cr_assert_eq(tsp_call(adm, "ospay.v1.Billing/CreateInvoice", &m.base,
			      &ospay__v1__billing_create_invoice_response__descriptor,
			      (ProtobufCMessage **)&r, NULL, &st),
		     0, "%s", st.message);
	uint64_t id = r->invoice->id;
	protobuf_c_message_free_unpacked(&r->base, NULL);
	return id;
}

/* A customer with a recurring service and (last >= 0) a card ending in last. */
static uint64_t billed_customer(uint32_t n, int last, bool recurring, uint64_t *svc)
{
	uint64_t c = tso_customer(adm, srv.unit_id, n, "São Paulo");
	if (last >= 0)
		add_card(c, last);
	*svc = service(c, recurring);
	return c;
}

static int invoice_status(uint64_t id)
{
	Ospay__V1__BillingGetInvoiceRequest m = OSPAY__V1__BILLING_GET_INVOICE_REQUEST__INIT;
	m.invoice_id = id;
	Ospay__V1__BillingGetInvoiceResponse *r = NULL;
	status_t st;
	cr_assert_eq(tsp_call(adm, "ospay.v1.Billing/GetInvoice", &m.base,
			      &ospay__v1__billing_get_invoice_response__descriptor,
			      (ProtobufCMessage **)&r, NULL, &st),
		     0, "%s", st.message);
	int s = r->invoice->status;
	protobuf_c_message_free_unpacked(&r->base, NULL);
	return s;
}

static void run_now(void)
{
	Ospay__V1__BillingRunNowRequest m = OSPAY__V1__BILLING_RUN_NOW_REQUEST__INIT;
	status_t st;
	cr_assert_eq(tsp_call(adm, "ospay.v1.Billing/RunNow", &m.base, NULL, NULL, NULL, &st), 0,
		     "RunNow: %s", st.message);
}

static void advance(int64_t ms)
{
	Ospay__V1__AdvanceRequest m = OSPAY__V1__ADVANCE_REQUEST__INIT;
	m.by_ms = ms;
	status_t st;
	cr_assert_eq(tsp_call(adm, "ospay.v1.Clock/Advance", &m.base, NULL, NULL, NULL, &st), 0,
		     "Advance: %s", st.message);
}

/* Every charge of a customer (one page is enough here); free with the response. */
static Ospay__V1__BillingListChargesResponse *charges(uint64_t customer, int recurrence)
{
	Ospay__V1__BillingListChargesRequest m = OSPAY__V1__BILLING_LIST_CHARGES_REQUEST__INIT;
	m.customer_id = customer;
	m.recurrence = recurrence;
	Ospay__V1__BillingListChargesResponse *r = NULL;
	status_t st;
	cr_assert_eq(tsp_call(adm, "ospay.v1.Billing/ListCharges", &m.base,
			      &ospay__v1__billing_list_charges_response__descriptor,
			      (ProtobufCMessage **)&r, NULL, &st),
		     0, "ListCharges: %s", st.message);
	return r;
}

static size_t n_charges(uint64_t customer)
{
	Ospay__V1__BillingListChargesResponse *r = charges(customer, 0);
	size_t n = r->n_charges;
	protobuf_c_message_free_unpacked(&r->base, NULL);
	return n;
}

/* The sandbox's records for a merchant order id: how many sales, how many approved. */
static void sandbox_sales(uint64_t inv, int attempt, int *count, int *approved)
{
	char url[256], out[16384];
	snprintf(url, sizeof(url), "%s/control/charges?merchant_order_id=%020lluA%d", sbx.base,
		 (unsigned long long)inv, attempt);
	int code = tsp_http("GET", url, NULL, NULL, NULL, out, sizeof(out));
	cr_assert_eq(code, 200, "%s", out);
	const char *c = strstr(out, "\"count\":"), *a = strstr(out, "\"approved\":");
	cr_assert(c != NULL && a != NULL, "%s", out);
	*count = atoi(c + 8);
	*approved = atoi(a + 11);
}

Test(billing, seed_example_declined_then_second_attempt_then_none)
{
	uint64_t svc, c = billed_customer(1, 2, true, &svc);
	uint64_t inv = invoice(c, svc, "2020-12-10");
	run_now();
	Ospay__V1__BillingListChargesResponse *r = charges(c, 0);
	cr_assert_eq(r->n_charges, 1);
	Ospay__V1__Charge *a1 = r->charges[0];
	cr_assert_eq(a1->attempt, 1);
	cr_assert_eq(a1->status, CHG(DECLINED));
	cr_assert_str_eq(a1->return_code, "05");
	cr_assert_str_eq(a1->local_date, "2020-12-10");
	cr_assert_not(a1->irreversible);
	cr_assert(a1->recurring);
	cr_assert_str_eq(a1->card_last4 + 3, "2");
	cr_assert_eq(a1->amount, 9990);
	cr_assert_eq(a1->invoice_id, inv);
	cr_assert_eq(a1->gateway, OSPAY__V1__GATEWAY_KIND__GATEWAY_KIND_CIELO);
	cr_assert_neq(a1->payment_id[0], '\0');
	char oid[32];
	snprintf(oid, sizeof(oid), "%020lluA1", (unsigned long long)inv);
	cr_assert_str_eq(a1->merchant_order_id, oid);
	protobuf_c_message_free_unpacked(&r->base, NULL);
	/* Another run the same day: no second attempt on the due date. */
	run_now();
	cr_assert_eq(n_charges(c), 1);

	advance(DAY_MS); /* 2020-12-11 */
	run_now();
	r = charges(c, 0);
	cr_assert_eq(r->n_charges, 2);
	cr_assert_eq(r->charges[1]->attempt, 2);
	cr_assert_str_eq(r->charges[1]->local_date, "2020-12-11");
	cr_assert_eq(r->charges[1]->status, CHG(DECLINED));
	protobuf_c_message_free_unpacked(&r->base, NULL);

	advance(DAY_MS); /* 2020-12-12 */
	run_now();
	cr_assert_eq(n_charges(c), 2);
	cr_assert_eq(invoice_status(inv), INV(OPEN));
	int count, approved;
	sandbox_sales(inv, 1, &count, &approved);
	cr_assert_eq(count, 1);
	sandbox_sales(inv, 2, &count, &approved);
	cr_assert_eq(count, 1);
}

Test(billing, success_at_attempt_one_pays_the_invoice)
{
	uint64_t svc, c = billed_customer(2, 0, true, &svc);
	uint64_t inv = invoice(c, svc, "2020-12-10");
	run_now();
	Ospay__V1__BillingListChargesResponse *r = charges(c, 0);
	cr_assert_eq(r->n_charges, 1);
	cr_assert_eq(r->charges[0]->status, CHG(APPROVED));
	protobuf_c_message_free_unpacked(&r->base, NULL);
	cr_assert_eq(invoice_status(inv), INV(PAID));
	/* A paid invoice is not charged again. */
	advance(DAY_MS);
	run_now();
	cr_assert_eq(n_charges(c), 1);
	int count, approved;
	sandbox_sales(inv, 1, &count, &approved);
	cr_assert_eq(count, 1);
	cr_assert_eq(approved, 1);
}

Test(billing, irreversible_decline_gets_no_second_attempt)
{
	uint64_t svc, c = billed_customer(3, 7, true, &svc);
	uint64_t inv = invoice(c, svc, "2020-12-10");
	run_now();
	Ospay__V1__BillingListChargesResponse *r = charges(c, 0);
	cr_assert_eq(r->n_charges, 1);
	cr_assert_eq(r->charges[0]->status, CHG(DECLINED));
	cr_assert_str_eq(r->charges[0]->return_code, "77");
	cr_assert(r->charges[0]->irreversible);
	protobuf_c_message_free_unpacked(&r->base, NULL);
	advance(DAY_MS);
	run_now();
	cr_assert_eq(n_charges(c), 1);
	cr_assert_eq(invoice_status(inv), INV(OPEN));
}

Test(billing, blocked_card_stores_code_78)
{
	uint64_t svc, c = billed_customer(4, 5, true, &svc);
	invoice(c, svc, "2020-12-10");
	run_now();
	Ospay__V1__BillingListChargesResponse *r = charges(c, 0);
	cr_assert_eq(r->n_charges, 1);
	cr_assert_eq(r->charges[0]->status, CHG(DECLINED));
	cr_assert_str_eq(r->charges[0]->return_code, "78");
	cr_assert_str_eq(r->charges[0]->return_message, "Blocked Card");
	protobuf_c_message_free_unpacked(&r->base, NULL);
	/* The panel's filter: these are recurring charges. */
	r = charges(c, OSPAY__V1__CHARGE_RECURRENCE_FILTER__CHARGE_RECURRENCE_FILTER_RECURRING);
	cr_assert_eq(r->n_charges, 1);
	protobuf_c_message_free_unpacked(&r->base, NULL);
	r = charges(c, OSPAY__V1__CHARGE_RECURRENCE_FILTER__CHARGE_RECURRENCE_FILTER_NON_RECURRING);
	cr_assert_eq(r->n_charges, 0);
	protobuf_c_message_free_unpacked(&r->base, NULL);
}

Test(billing, nothing_charged_when_off_canceled_or_not_due)
{
	/* Recurring off for the service. */
	uint64_t svc1, c1 = billed_customer(5, 0, false, &svc1);
	uint64_t inv1 = invoice(c1, svc1, "2020-12-10");
	/* A canceled invoice. */
	uint64_t svc2, c2 = billed_customer(6, 0, true, &svc2);
	uint64_t inv2 = invoice(c2, svc2, "2020-12-10");
	Ospay__V1__BillingCancelInvoiceRequest cm = OSPAY__V1__BILLING_CANCEL_INVOICE_REQUEST__INIT;
	cm.invoice_id = inv2;
	status_t st;
	cr_assert_eq(
		tsp_call(adm, "ospay.v1.Billing/CancelInvoice", &cm.base, NULL, NULL, NULL, &st), 0,
		"%s", st.message);
	/* Due later, and due long ago (outside the two days). */
	uint64_t svc3, c3 = billed_customer(7, 0, true, &svc3);
	invoice(c3, svc3, "2020-12-11");
	invoice(c3, svc3, "2020-12-08");
	run_now();
	cr_assert_eq(n_charges(c1), 0);
	cr_assert_eq(n_charges(c2), 0);
	cr_assert_eq(n_charges(c3), 0);
	cr_assert_eq(invoice_status(inv1), INV(OPEN));
	cr_assert_eq(invoice_status(inv2), INV(CANCELED));
}

Test(billing, nothing_charged_when_automatic_recurrence_is_off)
{
	set_gateway(false);
	uint64_t svc, c = billed_customer(8, 0, true, &svc);
	uint64_t inv = invoice(c, svc, "2020-12-10");
	run_now();
	cr_assert_eq(n_charges(c), 0);
	cr_assert_eq(invoice_status(inv), INV(OPEN));
	int count, approved;
	sandbox_sales(inv, 1, &count, &approved);
	cr_assert_eq(count, 0);
}

Test(billing, no_card_records_no_valid_card_without_calling_the_gateway)
{
	uint64_t svc, c = billed_customer(9, -1, true, &svc);
	uint64_t inv = invoice(c, svc, "2020-12-10");
	run_now();
	Ospay__V1__BillingListChargesResponse *r = charges(c, 0);
	cr_assert_eq(r->n_charges, 1);
	cr_assert_eq(r->charges[0]->status, CHG(NO_VALID_CARD));
	protobuf_c_message_free_unpacked(&r->base, NULL);
	int count, approved;
	sandbox_sales(inv, 1, &count, &approved);
	cr_assert_eq(count, 0);
	cr_assert_eq(invoice_status(inv), INV(OPEN));
}

Test(billing, unknown_outcome_is_resolved_by_query_and_never_charged_twice, .timeout = 150)
{
	uint64_t svc, c = billed_customer(10, 0, true, &svc);
	uint64_t inv = invoice(c, svc, "2020-12-10");
	char url[200], out[1024];
	snprintf(url, sizeof(url), "%s/control/faults", sbx.base);
	int code = tsp_http("POST", url,
			    "{\"service\":\"cielo\",\"route\":\"sale_create\",\"kind\":\"timeout\","
			    "\"process\":true,\"count\":1}",
			    NULL, NULL, out, sizeof(out));
	cr_assert_eq(code, 201, "%s", out);
	/* Advance starts a run; the sale is made but its answer never comes. */
	advance(1000);
	int status = 0;
	for (int i = 0; i < 900; i++) {
		Ospay__V1__BillingListChargesResponse *r = charges(c, 0);
		status = r->n_charges == 1 ? (int)r->charges[0]->status : 0;
		protobuf_c_message_free_unpacked(&r->base, NULL);
		if (status == CHG(UNKNOWN))
			break;
		cr_assert(status == 0 || status == CHG(PENDING), "status %d", status);
		usleep(100 * 1000);
	}
	cr_assert_eq(status, CHG(UNKNOWN));
	cr_assert_eq(invoice_status(inv), INV(OPEN));
	/* The next run asks the gateway first and learns the sale was approved. */
	run_now();
	Ospay__V1__BillingListChargesResponse *r = charges(c, 0);
	cr_assert_eq(r->n_charges, 1);
	cr_assert_eq(r->charges[0]->status, CHG(APPROVED));
	protobuf_c_message_free_unpacked(&r->base, NULL);
	cr_assert_eq(invoice_status(inv), INV(PAID));
	run_now();
	int count, approved;
	sandbox_sales(inv, 1, &count, &approved);
	cr_assert_eq(count, 1);
	cr_assert_eq(approved, 1);
	sandbox_sales(inv, 2, &count, &approved);
	cr_assert_eq(count, 0);
}

Test(billing, success_at_attempt_two_with_the_chosen_card)
{
	uint64_t svc, c = billed_customer(11, 2, true, &svc);
	uint64_t inv = invoice(c, svc, "2020-12-10");
	run_now();
	cr_assert_eq(n_charges(c), 1);
	/* The customer adds a good card and the service picks it before D+1. */
	uint64_t good = add_card(c, 0);
	choose_card(svc, good);
	advance(DAY_MS);
	run_now();
	Ospay__V1__BillingListChargesResponse *r = charges(c, 0);
	cr_assert_eq(r->n_charges, 2);
	cr_assert_eq(r->charges[1]->attempt, 2);
	cr_assert_eq(r->charges[1]->status, CHG(APPROVED));
	cr_assert_eq(r->charges[1]->card_id, good);
	protobuf_c_message_free_unpacked(&r->base, NULL);
	cr_assert_eq(invoice_status(inv), INV(PAID));
}

Test(billing, chosen_card_removed_charges_the_default)
{
	uint64_t svc, c = billed_customer(12, 0, true, &svc);
	uint64_t other = add_card(c, 4);
	choose_card(svc, other);
	Ospay__V1__CardsRemoveRequest rm = OSPAY__V1__CARDS_REMOVE_REQUEST__INIT;
	rm.card_id = other;
	status_t st;
	cr_assert_eq(tsp_call(adm, "ospay.v1.Cards/Remove", &rm.base, NULL, NULL, NULL, &st), 0,
		     "Remove: %s", st.message);
	invoice(c, svc, "2020-12-10");
	run_now();
	Ospay__V1__BillingListChargesResponse *r = charges(c, 0);
	cr_assert_eq(r->n_charges, 1);
	cr_assert_eq(r->charges[0]->status, CHG(APPROVED));
	cr_assert_neq(r->charges[0]->card_id, other);
	cr_assert_str_eq(r->charges[0]->card_last4 + 3, "0");
	protobuf_c_message_free_unpacked(&r->base, NULL);
}

Test(billing, kill_mid_charge_then_restart_resolves_by_query, .timeout = 150)
{
	uint64_t svc, c = billed_customer(13, 0, true, &svc);
	uint64_t inv = invoice(c, svc, "2020-12-10");
	char url[200], out[1024];
	snprintf(url, sizeof(url), "%s/control/faults", sbx.base);
	int code = tsp_http("POST", url,
			    "{\"service\":\"cielo\",\"route\":\"sale_create\",\"kind\":\"timeout\","
			    "\"process\":true,\"count\":1}",
			    NULL, NULL, out, sizeof(out));
	cr_assert_eq(code, 201, "%s", out);
	advance(1000);
	/* Wait until the sandbox has made the sale (its answer is held), then kill -9. */
	int count = 0, approved = 0;
	for (int i = 0; i < 100 && count == 0; i++) {
		usleep(100 * 1000);
		sandbox_sales(inv, 1, &count, &approved);
	}
	cr_assert_eq(count, 1);
	Ospay__V1__BillingListChargesResponse *r = charges(c, 0);
	cr_assert_eq(r->n_charges, 1);
	cr_assert_eq(r->charges[0]->status, CHG(PENDING));
	protobuf_c_message_free_unpacked(&r->base, NULL);
	close(adm);
	tsp_server_stop(&srv, SIGKILL);
	const char *args[] = {"--test-clock", "2020-12-10T15:00:00Z", NULL};
	cr_assert_eq(tsp_server_start(&srv, args), 0);
	adm = tsp_login(&srv, srv.admin_token);
	/* The start-up run queries the attempt before anything else; RunNow waits for a run. */
	run_now();
	r = charges(c, 0);
	cr_assert_eq(r->n_charges, 1);
	cr_assert_eq(r->charges[0]->status, CHG(APPROVED));
	protobuf_c_message_free_unpacked(&r->base, NULL);
	cr_assert_eq(invoice_status(inv), INV(PAID));
	sandbox_sales(inv, 1, &count, &approved);
	cr_assert_eq(count, 1);
	cr_assert_eq(approved, 1);
	sandbox_sales(inv, 2, &count, &approved);
	cr_assert_eq(count, 0);
}

static int service_status(uint64_t customer, uint64_t svc)
{
	Ospay__V1__CustomersListServicesRequest m =
		OSPAY__V1__CUSTOMERS_LIST_SERVICES_REQUEST__INIT;
	m.customer_id = customer;
	Ospay__V1__CustomersListServicesResponse *r = NULL;
	status_t st;
	cr_assert_eq(tsp_call(adm, "ospay.v1.Customers/ListServices", &m.base,
			      &ospay__v1__customers_list_services_response__descriptor,
			      (ProtobufCMessage **)&r, NULL, &st),
		     0, "%s", st.message);
	int s = -1;
	for (size_t i = 0; i < r->n_services; i++)
		if (r->services[i]->id == svc)
			s = r->services[i]->status;
	protobuf_c_message_free_unpacked(&r->base, NULL);
	return s;
}

static int set_profile(uint32_t days, status_t *st)
{
	Ospay__V1__SetSuspensionProfileRequest m = OSPAY__V1__SET_SUSPENSION_PROFILE_REQUEST__INIT;
	m.days = days;
	return tsp_call(adm, "ospay.v1.Admin/SetSuspensionProfile", &m.base, NULL, NULL, NULL, st);
}

#define SVC(x) OSPAY__V1__SERVICE_STATUS__SERVICE_STATUS_##x

Test(billing, both_attempts_fail_then_blocked_after_the_profile_days_then_unblocked)
{
	status_t st;
	cr_assert_eq(set_profile(1, &st), 3);
	cr_assert_eq(set_profile(366, &st), 3);
	cr_assert_eq(set_profile(2, &st), 0, "%s", st.message);
	uint64_t svc, c = billed_customer(14, 2, true, &svc);
	uint64_t inv = invoice(c, svc, "2020-12-10");
	run_now();
	advance(DAY_MS); /* 12-11: attempt 2 fails too, not blocked yet */
	run_now();
	cr_assert_eq(n_charges(c), 2);
	cr_assert_eq(service_status(c, svc), SVC(ACTIVE));
	advance(DAY_MS); /* 12-12: the due date + 2 days */
	run_now();
	cr_assert_eq(n_charges(c), 2);
	cr_assert_eq(service_status(c, svc), SVC(BLOCKED));
	/* Settling the invoice unblocks at once. */
	Ospay__V1__BillingCancelInvoiceRequest cm = OSPAY__V1__BILLING_CANCEL_INVOICE_REQUEST__INIT;
	cm.invoice_id = inv;
	cr_assert_eq(
		tsp_call(adm, "ospay.v1.Billing/CancelInvoice", &cm.base, NULL, NULL, NULL, &st), 0,
		"%s", st.message);
	cr_assert_eq(service_status(c, svc), SVC(ACTIVE));
	run_now();
	cr_assert_eq(service_status(c, svc), SVC(ACTIVE));
}

Test(billing, an_old_unpaid_invoice_blocks_and_paying_a_newer_one_does_not_unblock)
{
	status_t st;
	cr_assert_eq(set_profile(2, &st), 0, "%s", st.message);
	uint64_t svc, c = billed_customer(15, 0, true, &svc);
	invoice(c, svc, "2020-12-01"); /* long overdue: blocks, never charged */
	uint64_t inv = invoice(c, svc, "2020-12-10");
	run_now();
	cr_assert_eq(invoice_status(inv), INV(PAID));
	cr_assert_eq(n_charges(c), 1);
	cr_assert_eq(service_status(c, svc), SVC(BLOCKED));
}

static void fault(const char *kind, bool process)
{
	char url[200], body[200], out[1024];
	snprintf(url, sizeof(url), "%s/control/faults", sbx.base);
	snprintf(body, sizeof(body),
		 "{\"service\":\"cielo\",\"route\":\"sale_create\",\"kind\":\"%s\","
		 "\"process\":%s,\"count\":1}",
		 kind, process ? "true" : "false");
	int code = tsp_http("POST", url, body, NULL, NULL, out, sizeof(out));
	cr_assert_eq(code, 201, "%s", out);
}

static int last_status(uint64_t customer, size_t *n)
{
	Ospay__V1__BillingListChargesResponse *r = charges(customer, 0);
	*n = r->n_charges;
	int s = r->n_charges > 0 ? (int)r->charges[r->n_charges - 1]->status : 0;
	protobuf_c_message_free_unpacked(&r->base, NULL);
	return s;
}

Test(billing, http500_not_processed_is_an_error_then_attempt_two_next_day)
{
	uint64_t svc, c = billed_customer(16, 0, true, &svc);
	uint64_t inv = invoice(c, svc, "2020-12-10");
	fault("http500", false);
	run_now();
	size_t n;
	/* A 5xx may or may not have been processed: unknown until asked. */
	cr_assert_eq(last_status(c, &n), CHG(UNKNOWN));
	run_now();
	/* The gateway has no sale under that order id: a failed attempt, no money taken. */
	cr_assert_eq(last_status(c, &n), CHG(ERROR));
	cr_assert_eq(n, 1);
	cr_assert_eq(invoice_status(inv), INV(OPEN));
	advance(DAY_MS);
	run_now();
	cr_assert_eq(last_status(c, &n), CHG(APPROVED));
	cr_assert_eq(n, 2);
	cr_assert_eq(invoice_status(inv), INV(PAID));
	int count, approved;
	sandbox_sales(inv, 1, &count, &approved);
	cr_assert_eq(count, 0);
	sandbox_sales(inv, 2, &count, &approved);
	cr_assert_eq(approved, 1);
}

Test(billing, reset_after_processing_is_resolved_as_approved_once)
{
	uint64_t svc, c = billed_customer(17, 0, true, &svc);
	uint64_t inv = invoice(c, svc, "2020-12-10");
	fault("reset", true);
	run_now();
	size_t n;
	cr_assert_eq(last_status(c, &n), CHG(UNKNOWN));
	run_now();
	cr_assert_eq(last_status(c, &n), CHG(APPROVED));
	cr_assert_eq(n, 1);
	cr_assert_eq(invoice_status(inv), INV(PAID));
	int count, approved;
	sandbox_sales(inv, 1, &count, &approved);
	cr_assert_eq(count, 1);
	cr_assert_eq(approved, 1);
}

/* GetNet runs the recurrence instead of Cielo. */
static void use_getnet(void)
{
	char url[200], out[4096];
	snprintf(url, sizeof(url), "%s/control/orgs/%llu/getnet", sbx.base,
		 (unsigned long long)srv.org_id);
	cr_assert(tsp_http("POST", url,
			   "{\"client_id\":\"cid-bill\",\"client_secret\":\"cs-bill\","
			   "\"seller_id\":\"seller-bill\"}",
			   NULL, NULL, out, sizeof(out)) < 300,
		  "%s", out);
	set_gateway(false);
	Ospay__V1__GatewayCredentials cred = OSPAY__V1__GATEWAY_CREDENTIALS__INIT;
	cred.client_id = "cid-bill";
	cred.client_secret = "cs-bill";
	cred.seller_id = "seller-bill";
	Ospay__V1__SetGatewayRequest req = OSPAY__V1__SET_GATEWAY_REQUEST__INIT;
	char base[128];
	snprintf(base, sizeof(base), "%s/getnet", sbx.base);
	req.kind = OSPAY__V1__GATEWAY_KIND__GATEWAY_KIND_GETNET;
	req.base_url = base;
	req.credentials = &cred;
	req.allow_automatic_recurrence = true;
	status_t st;
	cr_assert_eq(tsp_call(adm, "ospay.v1.Admin/SetGateway", &req.base, NULL, NULL, NULL, &st),
		     0, "SetGateway: %s", st.message);
}

Test(billing, getnet_declines_store_its_code_and_message)
{
	use_getnet();
	uint64_t svc5, c5 = billed_customer(18, 5, true, &svc5);
	uint64_t inv5 = invoice(c5, svc5, "2020-12-10");
	uint64_t svc7, c7 = billed_customer(19, 7, true, &svc7);
	invoice(c7, svc7, "2020-12-10");
	uint64_t svc0, c0 = billed_customer(20, 0, true, &svc0);
	uint64_t inv0 = invoice(c0, svc0, "2020-12-10");
	run_now();
	Ospay__V1__BillingListChargesResponse *r = charges(c5, 0);
	cr_assert_eq(r->n_charges, 1);
	cr_assert_eq(r->charges[0]->gateway, OSPAY__V1__GATEWAY_KIND__GATEWAY_KIND_GETNET);
	cr_assert_eq(r->charges[0]->status, CHG(DECLINED));
	cr_assert_str_eq(r->charges[0]->return_code, "78");
	cr_assert_not_null(strstr(r->charges[0]->return_message, "CARTAO BLOQUEADO"), "%s",
			   r->charges[0]->return_message);
	cr_assert_not(r->charges[0]->irreversible);
	protobuf_c_message_free_unpacked(&r->base, NULL);
	r = charges(c7, 0);
	cr_assert_eq(r->n_charges, 1);
	cr_assert_str_eq(r->charges[0]->return_code, "R1");
	cr_assert(r->charges[0]->irreversible);
	protobuf_c_message_free_unpacked(&r->base, NULL);
	r = charges(c0, 0);
	cr_assert_eq(r->n_charges, 1);
	cr_assert_eq(r->charges[0]->status, CHG(APPROVED));
	protobuf_c_message_free_unpacked(&r->base, NULL);
	cr_assert_eq(invoice_status(inv0), INV(PAID));
	/* The next day: a second attempt for the reversible decline only. */
	advance(DAY_MS);
	run_now();
	cr_assert_eq(n_charges(c5), 2);
	cr_assert_eq(n_charges(c7), 1);
	cr_assert_eq(n_charges(c0), 1);
	cr_assert_eq(invoice_status(inv5), INV(OPEN));
}

Test(billing, run_now_needs_an_org_wide_admin)
{
	char secret[200];
	tso_token(adm, 2, 0, secret, sizeof(secret)); /* OPERATOR */
	int fd = tsp_login(&srv, secret);
	Ospay__V1__BillingRunNowRequest m = OSPAY__V1__BILLING_RUN_NOW_REQUEST__INIT;
	status_t st;
	cr_assert_eq(tsp_call(fd, "ospay.v1.Billing/RunNow", &m.base, NULL, NULL, NULL, &st), 7,
		     "%s", st.message);
	close(fd);
	tso_token(adm, 1, srv.unit_id, secret, sizeof(secret)); /* a unit's ADMIN */
	fd = tsp_login(&srv, secret);
	cr_assert_eq(tsp_call(fd, "ospay.v1.Billing/RunNow", &m.base, NULL, NULL, NULL, &st), 7,
		     "%s", st.message);
	close(fd);
}

/* The value of an unlabelled metric on a /metrics page, or -1. */
static long long metric_value(const char *page, const char *name)
{
	size_t n = strlen(name);
	const char *p = page;
	while (p != NULL) {
		if (strncmp(p, name, n) == 0 && p[n] == ' ')
			return atoll(p + n + 1);
		p = strchr(p, '\n');
		if (p != NULL)
			p++;
	}
	return -1;
}

Test(billing, metrics_count_the_runs_charges_and_its_peak_in_flight)
{
	uint64_t svc[3];
	for (uint32_t i = 0; i < 3; i++) {
		uint64_t c = billed_customer(40 + i, 0, true, &svc[i]);
		invoice(c, svc[i], "2020-12-10");
	}
	run_now();
	char url[128], ca[300], page[65536];
	snprintf(url, sizeof(url), "https://%s/metrics", srv.https_addr);
	snprintf(ca, sizeof(ca), "%s/data/tls.crt", srv.dir);
	cr_assert_eq(tsp_http("GET", url, NULL, NULL, ca, page, sizeof(page)), 200);
	cr_assert_eq(metric_value(page, "ospay_billing_charges_total"), 3, "%s", page);
	/* The run is over: nothing in flight; its peak is within the bound. */
	cr_assert_eq(metric_value(page, "ospay_billing_in_flight"), 0);
	long long limit = metric_value(page, "ospay_billing_in_flight_limit");
	long long peak = metric_value(page, "ospay_billing_in_flight_max");
	long long calls = metric_value(page, "ospay_billing_calls_in_flight_max");
	cr_assert(limit >= 1, "limit %lld", limit);
	cr_assert(peak >= 1 && peak <= 3 && peak <= limit, "peak %lld", peak);
	cr_assert(calls >= 1 && calls <= peak, "calls %lld", calls);
	/* Another run charges nothing more (all three are paid). */
	run_now();
	cr_assert_eq(tsp_http("GET", url, NULL, NULL, ca, page, sizeof(page)), 200);
	cr_assert_eq(metric_value(page, "ospay_billing_charges_total"), 3);
	cr_assert_eq(metric_value(page, "ospay_billing_in_flight_max"), 0);
}

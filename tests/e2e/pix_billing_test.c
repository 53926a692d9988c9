/*
 * Pix Automático charges from the billing run (issue 13, items 3-5) end to end:
 * ospayd on the test clock and the sandbox's PSP over mutual TLS, an
 * authorization accepted through AuthorizePix, the payer's approval at the
 * sandbox and RefreshPix. The instruction goes out inside the window once per
 * cycle (also across a kill -9 of ospayd after the PSP processed the PUT, and
 * a reset that lost its answer); the payer's bank settles it on the due date;
 * a failed attempt is retried on the day the rules plan and paid; NAO_PERMITE
 * retries nothing and the suspension profile blocks; an invoice canceled
 * before the deadline cancels the instruction; AM02 and a fixed amount refuse
 * before sending; the payer canceling one payment fails the charge; ListCharges,
 * the report and /metrics show it.
 *
 * The sandbox's "today" follows ospayd's test clock through /control/pix/settle.
 */
#include <criterion/criterion.h>

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/date.h"
#include "core/holidays.h"
#include "core/pix.h"
#include "ospay/v1/agendas.pb-c.h"
#include "ospay/v1/billing.pb-c.h"
#include "ospay/v1/customers.pb-c.h"
#include "ospay/v1/installments.pb-c.h"
#include "support/domain.h"
#include "support/gateways.h"
#include "support/pix.h"
#include "support/proc.h"
#include "support/records.h"

#define DAY_MS (24LL * 3600 * 1000)
#define CHG(x) OSPAY__V1__CHARGE_STATUS__CHARGE_STATUS_##x
#define INV(x) OSPAY__V1__INVOICE_STATUS__INVOICE_STATUS_##x
#define RAIL_PIX OSPAY__V1__PAYMENT_RAIL__PAYMENT_RAIL_PIX_AUTOMATICO
/* Mon 2027-03-01 09:00 local (UTC-03:00); the invoices fall due on Wed 03-10. */
#define START "2027-03-01T12:00:00Z"
#define DUE "2027-03-10"

static tsp_pix_t P;
static char today[16] = "2027-03-01";
static long long seen[4]; /* the Pix counters at the last run_expect */

static void setup(void)
{
	snprintf(today, sizeof(today), "2027-03-01");
	memset(seen, 0, sizeof(seen));
	tsp_pix_up(&P, START, NULL);
	char b[64];
	snprintf(b, sizeof(b), "{\"date\":\"%s\"}", today);
	json_decref(tsp_pix_control(&P, "POST", "/control/pix/settle", b, 200));
}

static void teardown(void)
{
	tsp_pix_down(&P);
}

TestSuite(pix_billing, .init = setup, .fini = teardown, .timeout = 240);

/* ---------------------------------------------------------------- helpers */

static void go_to_month(int m, int d);
/* go_to_month in March. */
static void go_to(int d)
{
	go_to_month(3, d);
}

/* Moves ospayd's clock and the sandbox's "today" to day (local 09:00); the
 * payer's bank settles every attempt dated up to it. */
static void go_to_month(int m, int d)
{
	char b[64];
	int64_t want = tso_at(2027, m, d, 9, 0);
	int cur_m = atoi(today + 5), cur_d = atoi(today + 8);
	tso_advance(P.fd, want - tso_at(2027, cur_m, cur_d, 9, 0));
	snprintf(today, sizeof(today), "2027-%02d-%02d", m, d);
	snprintf(b, sizeof(b), "{\"date\":\"%s\"}", today);
	json_decref(tsp_pix_control(&P, "POST", "/control/pix/settle", b, 200));
}

/* Billing/RunNow: returns after a run that started after the call. */
static void run(void)
{
	Ospay__V1__BillingRunNowRequest m = OSPAY__V1__BILLING_RUN_NOW_REQUEST__INIT;
	Ospay__V1__BillingRunNowResponse *r =
		tsp_call_ok(P.fd, "ospay.v1.Billing/RunNow", &m.base,
			    &ospay__v1__billing_run_now_response__descriptor);
	protobuf_c_message_free_unpacked(&r->base, NULL);
}

/* ospayd's Pix counter of event since start (/metrics). */
static long long pix_metric(const char *event)
{
	char series[96];
	snprintf(series, sizeof(series), "ospay_pix_charges_total{event=\"%s\"}", event);
	long long v = tsp_metric(&P.srv, series);
	return v < 0 ? 0 : v;
}

/*
 * A run (RunNow answers after a run that started after it, so every run the
 * clock's advance kicked is over too) and what the runs since the last call
 * did on the Pix rail: instructions sent, retries asked for, instructions
 * canceled, charges refused before sending. From /metrics, as RunNow's own
 * figures are those of its run only.
 */
static void run_expect(long long sent, long long retried, long long canceled, long long refused)
{
	static const char *const ev[4] = {"sent", "retried", "canceled", "refused_amount"};
	const long long want[4] = {sent, retried, canceled, refused};
	run();
	for (int i = 0; i < 4; i++) {
		long long now = pix_metric(ev[i]);
		cr_assert_eq(now - seen[i], want[i], "%s: %lld since the last look, expected %lld",
			     ev[i], now - seen[i], want[i]);
		seen[i] = now;
	}
}

typedef struct pix_opts {
	bool fixed;
	const char *max; /* the payer's maximum at approval ("50.00"), NULL: none */
} pix_opts_t;

/* A customer (n) whose service is on the Pix rail with an ACCEPTED authorization. */
static uint64_t pix_customer(uint32_t n, const pix_opts_t *o, uint64_t *svc)
{
	uint64_t c = tso_customer(P.fd, P.srv.unit_id, n, "São Paulo");
	*svc = tso_service(P.fd, c, true);
	Ospay__V1__CustomersAuthorizePixRequest a =
		OSPAY__V1__CUSTOMERS_AUTHORIZE_PIX_REQUEST__INIT;
	a.service_id = *svc;
	a.switch_rail = true;
	a.do_not_send = true;
	a.fixed_amount = o != NULL && o->fixed;
	Ospay__V1__CustomersAuthorizePixResponse *ar =
		tsp_call_ok(P.fd, "ospay.v1.Customers/AuthorizePix", &a.base,
			    &ospay__v1__customers_authorize_pix_response__descriptor);
	cr_assert_not_null(ar->service->pix);
	char path[128], body[64];
	snprintf(path, sizeof(path), "/control/pix/recs/%s/approve", ar->service->pix->id_rec);
	snprintf(body, sizeof(body), "{\"max\":\"%s\"}", o != NULL && o->max ? o->max : "");
	json_decref(tsp_pix_control(&P, "POST", path, o != NULL && o->max ? body : NULL, 200));
	protobuf_c_message_free_unpacked(&ar->base, NULL);
	Ospay__V1__CustomersRefreshPixRequest rq = OSPAY__V1__CUSTOMERS_REFRESH_PIX_REQUEST__INIT;
	rq.service_id = *svc;
	Ospay__V1__CustomersRefreshPixResponse *rr =
		tsp_call_ok(P.fd, "ospay.v1.Customers/RefreshPix", &rq.base,
			    &ospay__v1__customers_refresh_pix_response__descriptor);
	cr_assert_eq(rr->service->pix->state,
		     OSPAY__V1__PIX_AUTHORIZATION_STATE__PIX_AUTHORIZATION_STATE_ACCEPTED);
	cr_assert_eq(rr->service->recurring_payment->rail, RAIL_PIX, "switch_rail moved the rail");
	protobuf_c_message_free_unpacked(&rr->base, NULL);
	return c;
}

/* The customer's Pix charges, oldest first. */
static Ospay__V1__BillingListChargesResponse *charges(uint64_t customer)
{
	Ospay__V1__BillingListChargesRequest m = OSPAY__V1__BILLING_LIST_CHARGES_REQUEST__INIT;
	m.customer_id = customer;
	m.rail = RAIL_PIX;
	return tsp_call_ok(P.fd, "ospay.v1.Billing/ListCharges", &m.base,
			   &ospay__v1__billing_list_charges_response__descriptor);
}

/* The status of the customer's charge number i (-1 when there is none). */
static int charge_status(uint64_t customer, size_t i)
{
	Ospay__V1__BillingListChargesResponse *r = charges(customer);
	int st = i < r->n_charges ? (int)r->charges[i]->status : -1;
	protobuf_c_message_free_unpacked(&r->base, NULL);
	return st;
}

/* How many instructions and attempts the sandbox holds under txid. */
static int sandbox_count(const char *txid)
{
	char path[128];
	snprintf(path, sizeof(path), "/control/charges?merchant_order_id=%s", txid);
	json_t *j = tsp_pix_control(&P, "GET", path, NULL, 200);
	int n = (int)json_integer_value(json_object_get(j, "count"));
	json_decref(j);
	return n;
}

/* The psp_status of the customer's first Pix charge ("" when none). */
static const char *psp_status_of(uint64_t customer)
{
	static char out[64];
	Ospay__V1__BillingListChargesResponse *r = charges(customer);
	snprintf(out, sizeof(out), "%s", r->n_charges > 0 ? r->charges[0]->psp_status : "");
	protobuf_c_message_free_unpacked(&r->base, NULL);
	return out;
}

static void fault(const char *route, const char *kind)
{
	char b[200];
	snprintf(b, sizeof(b),
		 "{\"service\":\"pix\",\"route\":\"%s\",\"kind\":\"%s\",\"count\":1,"
		 "\"process\":true}",
		 route, kind);
	json_decref(tsp_pix_control(&P, "POST", "/control/faults", b, 201));
}

static void outcomes(const char *txid, const char *list)
{
	char path[128], b[128];
	snprintf(path, sizeof(path), "/control/pix/cobrs/%s/outcomes", txid);
	snprintf(b, sizeof(b), "{\"outcomes\":%s}", list);
	json_decref(tsp_pix_control(&P, "POST", path, b, 200));
}

static void cancel_invoice(uint64_t inv)
{
	Ospay__V1__BillingCancelInvoiceRequest m = OSPAY__V1__BILLING_CANCEL_INVOICE_REQUEST__INIT;
	m.invoice_id = inv;
	Ospay__V1__BillingCancelInvoiceResponse *r =
		tsp_call_ok(P.fd, "ospay.v1.Billing/CancelInvoice", &m.base,
			    &ospay__v1__billing_cancel_invoice_response__descriptor);
	protobuf_c_message_free_unpacked(&r->base, NULL);
}

/* The first charge's txid (the cycle's). */
static void first_txid(uint64_t customer, char out[40])
{
	Ospay__V1__BillingListChargesResponse *r = charges(customer);
	cr_assert_geq(r->n_charges, 1);
	snprintf(out, 40, "%s", r->charges[0]->pix_txid);
	protobuf_c_message_free_unpacked(&r->base, NULL);
}

/* ---------------------------------------------------------------- tests */

Test(pix_billing, instruction_sent_in_the_window_once_and_paid_on_the_due_date)
{
	uint64_t svc, c = pix_customer(1, NULL, &svc);
	uint64_t inv = tso_invoice(P.fd, c, svc, "2027-03-20");
	/* 03-01 is 19 days before the due date: the window (10 calendar days) is not open. */
	run_expect(0, 0, 0, 0);
	cr_assert_eq(charge_status(c, 0), -1);
	go_to(8); /* Mon 03-08: 12 days before 03-20, still early */
	run_expect(0, 0, 0, 0);
	go_to(10); /* 03-10: the window opens */
	run_expect(1, 0, 0, 0);
	Ospay__V1__BillingListChargesResponse *r = charges(c);
	cr_assert_eq(r->n_charges, 1);
	Ospay__V1__Charge *ch = r->charges[0];
	cr_assert_eq(ch->status, CHG(PENDING));
	cr_assert_eq(ch->rail, RAIL_PIX);
	cr_assert_eq(ch->attempt, 1);
	cr_assert_eq(strlen(ch->pix_txid), 35);
	cr_assert_str_eq(ch->pix_settlement_date, "2027-03-20");
	cr_assert_str_eq(ch->psp_status, "AGENDADA");
	char txid[40];
	snprintf(txid, sizeof(txid), "%s", ch->pix_txid);
	protobuf_c_message_free_unpacked(&r->base, NULL);
	/* Never twice per cycle. */
	run_expect(0, 0, 0, 0);
	go_to(12);
	run_expect(0, 0, 0, 0);
	cr_assert_eq(sandbox_count(txid), 1);
	/* The payer's bank settles on the due date; the run asks (no webhook needed). */
	go_to(20);
	run();
	TSP_AWAIT(tso_invoice_status(P.fd, inv) == INV(PAID), "invoice %llu paid",
		  (unsigned long long)inv);
	cr_assert_eq(charge_status(c, 0), CHG(APPROVED));
	cr_assert_geq(tsp_metric(&P.srv, "ospay_pix_charges_total{event=\"sent\"}"), 1);
	cr_assert_geq(tsp_metric(&P.srv, "ospay_pix_charges_total{event=\"settled\"}"), 1);
	/* The recurring-credit report's Pix rows. */
	Ospay__V1__BillingRecurringCreditReportRequest q =
		OSPAY__V1__BILLING_RECURRING_CREDIT_REPORT_REQUEST__INIT;
	q.mode = OSPAY__V1__INSTALLMENT_MODE__INSTALLMENT_MODE_AUTOMATIC_PIX;
	q.from = "2027-03-01";
	q.to = "2027-03-31";
	Ospay__V1__BillingRecurringCreditReportResponse *rep =
		tsp_call_ok(P.fd, "ospay.v1.Billing/RecurringCreditReport", &q.base,
			    &ospay__v1__billing_recurring_credit_report_response__descriptor);
	cr_assert_eq(rep->n_rows, 1);
	cr_assert_eq(rep->rows[0]->mode,
		     OSPAY__V1__INSTALLMENT_MODE__INSTALLMENT_MODE_AUTOMATIC_PIX);
	cr_assert_str_eq(rep->rows[0]->pix_txid, txid);
	protobuf_c_message_free_unpacked(&rep->base, NULL);
}

Test(pix_billing, failed_attempt_retried_on_the_planned_day_then_paid)
{
	uint64_t svc, c = pix_customer(2, NULL, &svc);
	uint64_t inv = tso_invoice(P.fd, c, svc, DUE);
	run_expect(1, 0, 0, 0);
	char txid[40];
	first_txid(c, txid);
	outcomes(txid, "[\"AC06\",\"paid\"]");
	go_to(10); /* Wed: the first attempt fails */
	run_expect(0, 1, 0, 0);
	Ospay__V1__BillingListChargesResponse *r = charges(c);
	cr_assert_eq(r->n_charges, 2);
	cr_assert_eq(r->charges[0]->status, CHG(DECLINED));
	cr_assert_str_eq(r->charges[0]->psp_reason, "AC06");
	cr_assert_eq(r->charges[1]->status, CHG(PENDING));
	cr_assert_eq(r->charges[1]->attempt, 2);
	cr_assert_str_eq(r->charges[1]->pix_txid, txid);
	/* D+1, a Thursday: asked for on the day before at the latest. */
	cr_assert_str_eq(r->charges[1]->pix_settlement_date, "2027-03-11");
	protobuf_c_message_free_unpacked(&r->base, NULL);
	go_to(11);
	run();
	TSP_AWAIT(tso_invoice_status(P.fd, inv) == INV(PAID), "paid by the retry");
	cr_assert_eq(charge_status(c, 1), CHG(APPROVED));
	run_expect(0, 0, 0, 0);
}

/*
 * Every attempt of a cycle fails: the retries are asked for on the days
 * core/pix.h plans (business days, each after the previous, within D+7), one
 * at a time after the previous failed, and none after the last.
 */
static bool br_holiday(int64_t day, void *arg)
{
	(void)arg;
	return holiday_br_name(day) != NULL;
}

static void retries_as_planned(uint32_t n, int due_m, int due_d, int sent_m, int sent_d,
			       bool holidays)
{
	char due_s[16];
	snprintf(due_s, sizeof(due_s), "2027-%02d-%02d", due_m, due_d);
	int64_t due = 0, days[PIX_RETRY_MAX];
	cr_assert_eq(date_parse(due_s, &due), 0);
	pix_retry_cfg_t cfg = PIX_RETRY_DEFAULT;
	int planned = pix_retry_plan(&cfg, PIX_RETRY_3R_7D, due, 0, holidays ? br_holiday : NULL,
				     NULL, days);
	uint64_t svc, c = pix_customer(n, NULL, &svc);
	uint64_t inv = tso_invoice(P.fd, c, svc, due_s);
	go_to_month(sent_m, sent_d);
	run_expect(1, 0, 0, 0);
	char txid[40];
	first_txid(c, txid);
	outcomes(txid, "[\"AC06\",\"AC06\",\"AC06\",\"AC06\"]");
	int y, m, d;
	date_to_civil(due, &y, &m, &d);
	go_to_month(m, d);
	for (int i = 0; i < planned; i++) {
		run_expect(0, 1, 0, 0);
		Ospay__V1__BillingListChargesResponse *r = charges(c);
		cr_assert_eq(r->n_charges, (size_t)i + 2);
		cr_assert_eq(r->charges[i]->status, CHG(DECLINED));
		char want[16];
		date_format(days[i], want, sizeof(want));
		cr_assert_str_eq(r->charges[i + 1]->pix_settlement_date, want, "retry %d", i + 1);
		cr_assert_eq(r->charges[i + 1]->attempt, (uint32_t)i + 2);
		protobuf_c_message_free_unpacked(&r->base, NULL);
		date_to_civil(days[i], &y, &m, &d);
		go_to_month(m, d);
	}
	run_expect(0, 0, 0, 0); /* the retries are used: none more */
	Ospay__V1__BillingListChargesResponse *r = charges(c);
	cr_assert_eq(r->n_charges, (size_t)planned + 1);
	cr_assert_eq(r->charges[planned]->status, CHG(DECLINED));
	protobuf_c_message_free_unpacked(&r->base, NULL);
	cr_assert_eq(tso_invoice_status(P.fd, inv), INV(OPEN));
}

Test(pix_billing, retries_on_a_friday_due_date_skip_the_weekend)
{
	/* Fri 03-12: D+1 is a Saturday (Mon 03-15), D+3 that Monday again (dropped), D+5 Wed. */
	retries_as_planned(3, 3, 12, 3, 2, false);
}

Test(pix_billing, retries_skip_a_national_holiday_when_the_organization_closes_them)
{
	/* Tue 04-20: D+1 is Tiradentes (Wed 04-21), a Pix date only when holidays are closed. */
	Ospay__V1__AgendasSetNationalHolidaysRequest m =
		OSPAY__V1__AGENDAS_SET_NATIONAL_HOLIDAYS_REQUEST__INIT;
	m.closed = true;
	Ospay__V1__AgendasSetNationalHolidaysResponse *r =
		tsp_call_ok(P.fd, "ospay.v1.Agendas/SetNationalHolidays", &m.base,
			    &ospay__v1__agendas_set_national_holidays_response__descriptor);
	protobuf_c_message_free_unpacked(&r->base, NULL);
	int64_t due = 0, with[PIX_RETRY_MAX], without[PIX_RETRY_MAX];
	pix_retry_cfg_t cfg = PIX_RETRY_DEFAULT;
	cr_assert_eq(date_parse("2027-04-20", &due), 0);
	pix_retry_plan(&cfg, PIX_RETRY_3R_7D, due, 0, br_holiday, NULL, with);
	pix_retry_plan(&cfg, PIX_RETRY_3R_7D, due, 0, NULL, NULL, without);
	cr_assert_neq(with[0], without[0], "the holiday moves the first retry");
	retries_as_planned(15, 4, 20, 4, 12, true);
}

Test(pix_billing, retries_across_the_month_end)
{
	/* Wed 03-31: D+1 Thu 04-01, D+3 Sat 04-03 (Mon 04-05), D+5 Mon 04-05 (dropped). */
	retries_as_planned(11, 3, 31, 3, 22, false);
}

Test(pix_billing, nao_permite_retries_nothing_and_the_profile_blocks)
{
	Ospay__V1__PixSettings s = tsp_pix_settings(&P);
	s.no_retries = true;
	status_t st;
	cr_assert_eq(tsp_pix_set(&P, &s, false, &st), ST_OK, "%s", st.message);
	cr_assert_eq(tso_set_profile(P.fd, 3, &st), ST_OK);
	uint64_t svc, c = pix_customer(4, NULL, &svc);
	tso_invoice(P.fd, c, svc, DUE);
	run_expect(1, 0, 0, 0);
	char txid[40];
	first_txid(c, txid);
	outcomes(txid, "[\"AC06\"]");
	go_to(10);
	run_expect(0, 0, 0, 0);
	cr_assert_eq(charge_status(c, 0), CHG(DECLINED));
	cr_assert_eq(charge_status(c, 1), -1, "NAO_PERMITE: no retry");
	go_to(14);
	run();
	cr_assert_eq(tso_service_status(P.fd, c, svc),
		     OSPAY__V1__SERVICE_STATUS__SERVICE_STATUS_BLOCKED);
}

Test(pix_billing, invoice_canceled_before_the_deadline_cancels_the_instruction)
{
	uint64_t svc, c = pix_customer(5, NULL, &svc);
	uint64_t inv = tso_invoice(P.fd, c, svc, DUE);
	run_expect(1, 0, 0, 0);
	cancel_invoice(inv);
	run_expect(0, 0, 1, 0);
	cr_assert_eq(charge_status(c, 0), CHG(CANCELED));
	go_to(10);
	run_expect(0, 0, 0, 0);
	cr_assert_eq(charge_status(c, 0), CHG(CANCELED), "nothing debited");
}

Test(pix_billing, above_the_payers_maximum_then_refused_before_sending)
{
	pix_opts_t o = {.max = "50.00"};
	uint64_t svc, c = pix_customer(6, &o, &svc);
	tso_invoice(P.fd, c, svc, DUE);
	run_expect(1, 0, 0, 0);
	/* The payer's bank refuses it at once (AM02): no retry, the maximum learned. */
	TSP_AWAIT(charge_status(c, 0) == CHG(DECLINED), "AM02 recorded (the callback's re-query)");
	Ospay__V1__BillingListChargesResponse *r = charges(c);
	cr_assert_str_eq(r->charges[0]->psp_reason, "AM02");
	protobuf_c_message_free_unpacked(&r->base, NULL);
	/* Next month's invoice is not sent: the operator is told. */
	tso_invoice(P.fd, c, svc, "2027-03-11");
	run_expect(0, 0, 0, 1);
	r = charges(c);
	cr_assert_eq(r->n_charges, 2);
	cr_assert_eq(r->charges[1]->status, CHG(ERROR));
	cr_assert_str_eq(r->charges[1]->psp_status, "NOT_SENT");
	cr_assert(strstr(r->charges[1]->note, "ChargeInvoice") != NULL, "%s", r->charges[1]->note);
	protobuf_c_message_free_unpacked(&r->base, NULL);
}

Test(pix_billing, fixed_amount_takes_only_its_amount)
{
	pix_opts_t o = {.fixed = true};
	uint64_t svc, c = pix_customer(7, &o, &svc);
	Ospay__V1__BillingCreateInvoiceRequest m;
	tsr_invoice(&m, c, svc, DUE);
	m.amount = 12345;
	tsp_call_id(P.fd, "ospay.v1.Billing/CreateInvoice", &m.base,
		    &ospay__v1__billing_create_invoice_response__descriptor, "invoice");
	run_expect(0, 0, 0, 1);
	Ospay__V1__BillingListChargesResponse *r = charges(c);
	cr_assert_eq(r->n_charges, 1);
	cr_assert_eq(r->charges[0]->status, CHG(ERROR));
	cr_assert(strstr(r->charges[0]->return_message, "fixed") != NULL);
	char txid[40];
	snprintf(txid, sizeof(txid), "%s", r->charges[0]->pix_txid);
	protobuf_c_message_free_unpacked(&r->base, NULL);
	cr_assert_eq(sandbox_count(txid), 0, "nothing went to the PSP");
}

Test(pix_billing, payer_cancels_one_payment)
{
	uint64_t svc, c = pix_customer(8, NULL, &svc);
	uint64_t inv = tso_invoice(P.fd, c, svc, DUE);
	run_expect(1, 0, 0, 0);
	char txid[40], path[128];
	first_txid(c, txid);
	snprintf(path, sizeof(path), "/control/pix/cobrs/%s/payer-cancel", txid);
	json_decref(tsp_pix_control(&P, "POST", path, NULL, 200));
	go_to(10);
	run_expect(0, 0, 0, 0);
	TSP_AWAIT(charge_status(c, 0) == CHG(DECLINED), "the payer's cancel fails the charge");
	cr_assert_eq(charge_status(c, 1), -1, "no retry of a payment the payer refused");
	cr_assert_eq(tso_invoice_status(P.fd, inv), INV(OPEN));
}

Test(pix_billing, reset_after_the_psp_processed_the_put_is_adopted)
{
	uint64_t svc, c = pix_customer(9, NULL, &svc);
	tso_invoice(P.fd, c, svc, DUE);
	fault("cobr_put", "reset");
	run();
	char txid[40];
	first_txid(c, txid);
	/* The resolve pass asks GET /cobr/{txid} and adopts it. */
	TSP_AWAIT(charge_status(c, 0) == CHG(PENDING) && sandbox_count(txid) == 1, "adopted");
	run_expect(0, 0, 0, 0);
	Ospay__V1__BillingListChargesResponse *r = charges(c);
	cr_assert_eq(r->n_charges, 1);
	cr_assert_str_eq(r->charges[0]->psp_status, "AGENDADA");
	protobuf_c_message_free_unpacked(&r->base, NULL);
	cr_assert_eq(sandbox_count(txid), 1, "one instruction");
}

Test(pix_billing, kill_between_sending_and_recording_then_restart)
{
	uint64_t svc, c = pix_customer(10, NULL, &svc);
	tso_invoice(P.fd, c, svc, DUE);
	/* The PSP processes the PUT and never answers; ospayd dies meanwhile. */
	fault("cobr_put", "timeout");
	int fd2 = tsp_login(&P.srv, P.srv.admin_token);
	cr_assert_eq(tsp_send_request(fd2, 1, "ospay.v1.Billing/RunNow", NULL, 0, NULL), 0);
	char txid[40] = "";
	TSP_AWAIT(charge_status(c, 0) == CHG(PENDING), "the attempt is stored first");
	first_txid(c, txid);
	TSP_AWAIT(sandbox_count(txid) == 1, "the PSP got the PUT");
	tsp_server_kill(&P.srv, SIGKILL);
	close(fd2);
	close(P.fd);
	const char *args[] = {"--test-clock", START, "--gateway-ca", P.psp_crt, NULL};
	cr_assert_eq(tsp_server_start(&P.srv, args), 0);
	P.fd = tsp_login(&P.srv, P.srv.admin_token);
	memset(seen, 0, sizeof(seen)); /* a new process counts from 0 */
	run();
	TSP_AWAIT(strcmp(psp_status_of(c), "AGENDADA") == 0, "adopted after the restart");
	run_expect(0, 0, 0, 0);
	cr_assert_eq(sandbox_count(txid), 1, "never two instructions");
}

/* ---------------------------------------------------------------- callbacks */

static long long wh_metric(const char *result)
{
	char series[96];
	snprintf(series, sizeof(series), "ospay_webhooks_total{result=\"%s\"}", result);
	long long v = tsp_metric(&P.srv, series);
	return v < 0 ? 0 : v;
}

Test(pix_billing, callbacks_forged_refused_duplicated_settled_once)
{
	uint64_t svc, c = pix_customer(12, NULL, &svc);
	uint64_t inv = tso_invoice(P.fd, c, svc, DUE);
	run_expect(1, 0, 0, 0);
	char txid[40], path[128], body[256], out[512];
	first_txid(c, txid);
	/* Forged: a body that says paid, without ospay's secret: 401, nothing stored. */
	long long unauthorized = wh_metric("unauthorized"), accepted = wh_metric("accepted");
	snprintf(path, sizeof(path), "/webhooks/pix/%llu?hmac=forged&ignorar=/cobr",
		 (unsigned long long)P.srv.org_id);
	snprintf(body, sizeof(body), "{\"cobsr\":[{\"txid\":\"%s\",\"status\":\"CONCLUIDA\"}]}",
		 txid);
	cr_assert_eq(tsp_https(&P.srv, "POST", path, body, out, sizeof(out)), 401, "%s", out);
	snprintf(path, sizeof(path), "/webhooks/pix/%llu/cobr", (unsigned long long)P.srv.org_id);
	cr_assert_eq(tsp_https(&P.srv, "POST", path, body, out, sizeof(out)), 401, "%s", out);
	cr_assert_eq(wh_metric("unauthorized"), unauthorized + 2);
	cr_assert_eq(wh_metric("accepted"), accepted);
	cr_assert_eq(charge_status(c, 0), CHG(PENDING));
	cr_assert_eq(tso_invoice_status(P.fd, inv), INV(OPEN));
	/* The payer's bank settles; its callback comes twice. ospayd's clock stays
	 * before the due date, so only the callback's re-query can settle it. */
	json_decref(tsp_pix_control(
		&P, "POST", "/control/webhook-faults",
		"{\"service\":\"pix\",\"kind\":\"duplicate\",\"copies\":2,\"count\":1}", 201));
	json_decref(
		tsp_pix_control(&P, "POST", "/control/pix/settle", "{\"date\":\"" DUE "\"}", 200));
	TSP_AWAIT(tso_invoice_status(P.fd, inv) == INV(PAID), "paid through the callback");
	TSP_AWAIT(wh_metric("duplicate") >= 1, "the copy was a duplicate");
	Ospay__V1__BillingListChargesResponse *r = charges(c);
	cr_assert_eq(r->n_charges, 1);
	cr_assert_eq(r->charges[0]->status, CHG(APPROVED));
	protobuf_c_message_free_unpacked(&r->base, NULL);
	cr_assert_eq(pix_metric("settled"), 1, "settled once");
}

/* ---------------------------------------------------------------- paid another way */

/*
 * Cielo at the sandbox (tag); a Pix customer (n makes its CPF) who also has a
 * Visa card the sandbox approves (*card) and an invoice due DUE (*inv), whose
 * first run sends the Pix instruction. The customer's id.
 */
static uint64_t pix_and_card(uint32_t n, const char *tag, uint64_t *card, uint64_t *inv)
{
	tsg_cielo(P.fd, &P.sb, P.srv.org_id, tag, false);
	uint64_t svc, c = pix_customer(n, NULL, &svc);
	*card = tso_visa_card(P.fd, c, 1);
	*inv = tso_invoice(P.fd, c, svc, DUE);
	run_expect(1, 0, 0, 0);
	return c;
}

/* The operator's Billing/ChargeInvoice of inv on card: the status code, st the status. */
static int charge_on_card(uint64_t inv, uint64_t card, status_t *st)
{
	Ospay__V1__BillingChargeInvoiceRequest m = OSPAY__V1__BILLING_CHARGE_INVOICE_REQUEST__INIT;
	m.invoice_id = inv;
	m.card_id = card;
	return tsp_call(P.fd, "ospay.v1.Billing/ChargeInvoice", &m.base, NULL, NULL, NULL, st);
}

Test(pix_billing, paid_by_card_before_the_deadline_cancels_the_instruction)
{
	uint64_t card, inv, c = pix_and_card(13, "pixcard", &card, &inv);
	char txid[40];
	first_txid(c, txid);
	/* The operator charges the card (the instruction is known, not an unknown outcome). */
	status_t st;
	cr_assert_eq(charge_on_card(inv, card, &st), 0, "%s", st.message);
	cr_assert_eq(tso_invoice_status(P.fd, inv), INV(PAID));
	run_expect(0, 0, 1, 0);
	cr_assert_eq(charge_status(c, 0), CHG(CANCELED));
	/* Nothing is debited on the due date. */
	go_to(10);
	run_expect(0, 0, 0, 0);
	cr_assert_eq(charge_status(c, 0), CHG(CANCELED));
}

Test(pix_billing, canceled_after_the_deadline_the_instruction_stands)
{
	uint64_t svc, c = pix_customer(14, NULL, &svc);
	uint64_t inv = tso_invoice(P.fd, c, svc, DUE);
	run_expect(1, 0, 0, 0);
	/* 22:00 of D-1: past the 21:00 cutoff. */
	go_to(9);
	tso_advance(P.fd, 13LL * 3600 * 1000);
	cancel_invoice(inv);
	run_expect(0, 0, 0, 0);
	Ospay__V1__BillingListChargesResponse *r = charges(c);
	cr_assert_eq(r->charges[0]->status, CHG(PENDING), "no cancel after the cutoff");
	cr_assert(strstr(r->charges[0]->note, "stands") != NULL, "%s", r->charges[0]->note);
	protobuf_c_message_free_unpacked(&r->base, NULL);
	/* It is debited on the due date: recorded for a refund, the invoice stays canceled. */
	json_decref(
		tsp_pix_control(&P, "POST", "/control/pix/settle", "{\"date\":\"" DUE "\"}", 200));
	tso_advance(P.fd, 11LL * 3600 * 1000);
	snprintf(today, sizeof(today), "%s", DUE);
	run();
	TSP_AWAIT(charge_status(c, 0) == CHG(APPROVED), "the payment is recorded");
	r = charges(c);
	cr_assert(strstr(r->charges[0]->note, "refund") != NULL, "%s", r->charges[0]->note);
	protobuf_c_message_free_unpacked(&r->base, NULL);
	cr_assert_eq(tso_invoice_status(P.fd, inv), INV(CANCELED));
}

Test(pix_billing, card_charge_refused_while_a_standing_instruction_settles)
{
	uint64_t card, inv, c = pix_and_card(16, "pixstand", &card, &inv);
	/* 22:00 of D-1: the instruction can no longer be canceled, so a card charge
	 * would take the money twice. */
	go_to(9);
	tso_advance(P.fd, 13LL * 3600 * 1000);
	status_t st;
	cr_assert_eq(charge_on_card(inv, card, &st), ST_FAILED_PRECONDITION, "%s", st.message);
	cr_assert(strstr(st.message, "Pix") != NULL, "%s", st.message);
	cr_assert_eq(tso_invoice_status(P.fd, inv), INV(OPEN));
	cr_assert_eq(charge_status(c, 0), CHG(PENDING));
	Ospay__V1__BillingListChargesRequest q = OSPAY__V1__BILLING_LIST_CHARGES_REQUEST__INIT;
	q.customer_id = c;
	q.rail = OSPAY__V1__PAYMENT_RAIL__PAYMENT_RAIL_CARD;
	cr_assert_eq(tsp_list_count(P.fd, "ospay.v1.Billing/ListCharges", &q.base,
				    &ospay__v1__billing_list_charges_response__descriptor,
				    "charges"),
		     0, "no card charge was made");
}

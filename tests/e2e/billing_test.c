/*
 * The billing run end to end (docs/spec.md 4.7): a real ospayd on the test clock
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
#include "support/cards.h"
#include "support/domain.h"
#include "support/enums.h"
#include "support/gateways.h"
#include "support/proc.h"
#include "support/cielo_suite.h"

/* 12:00 local (UTC-03:00) on the seed's due date. */
TSP_CIELO_SUITE(billing, "2020-12-10T15:00:00Z", 120, "bill", true);

/* The sandbox's records of an invoice's attempt (merchant order id <inv>A<attempt>). */
static tsc_sales_t sales(uint64_t inv, int attempt)
{
	char moid[32];
	snprintf(moid, sizeof(moid), "%020lluA%d", (unsigned long long)inv, attempt);
	return tsc_sandbox_sales(&sbx, moid);
}

Test(billing, seed_example_declined_then_second_attempt_then_none)
{
	uint64_t inv, c = tso_invoiced_customer(adm, srv.unit_id, 1, 2, "2020-12-10", &inv, NULL);
	tso_run_now(adm);
	Ospay__V1__BillingListChargesResponse *r = tso_charges(adm, c, 0);
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
	tso_run_now(adm);
	cr_assert_eq(tso_n_charges(adm, c), 1);

	tso_advance(adm, DAY_MS); /* 2020-12-11 */
	tso_run_now(adm);
	r = tso_charges(adm, c, 0);
	cr_assert_eq(r->n_charges, 2);
	cr_assert_eq(r->charges[1]->attempt, 2);
	cr_assert_str_eq(r->charges[1]->local_date, "2020-12-11");
	cr_assert_eq(r->charges[1]->status, CHG(DECLINED));
	protobuf_c_message_free_unpacked(&r->base, NULL);

	tso_advance(adm, DAY_MS); /* 2020-12-12 */
	tso_run_now(adm);
	cr_assert_eq(tso_n_charges(adm, c), 2);
	cr_assert_eq(tso_invoice_status(adm, inv), INV(OPEN));
	cr_assert_eq(sales(inv, 1).count, 1);
	cr_assert_eq(sales(inv, 2).count, 1);
}

Test(billing, success_at_attempt_one_pays_the_invoice)
{
	uint64_t inv, c = tso_invoiced_customer(adm, srv.unit_id, 2, 0, "2020-12-10", &inv, NULL);
	tso_run_now(adm);
	cr_assert_eq(tso_only_charge_status(adm, c), CHG(APPROVED));
	cr_assert_eq(tso_invoice_status(adm, inv), INV(PAID));
	/* A paid invoice is not charged again. */
	tso_advance(adm, DAY_MS);
	tso_run_now(adm);
	cr_assert_eq(tso_n_charges(adm, c), 1);
	tsc_sales_t s = sales(inv, 1);
	cr_assert_eq(s.count, 1);
	cr_assert_eq(s.approved, 1);
}

Test(billing, irreversible_decline_gets_no_second_attempt)
{
	uint64_t inv, c = tso_invoiced_customer(adm, srv.unit_id, 3, 7, "2020-12-10", &inv, NULL);
	tso_run_now(adm);
	Ospay__V1__BillingListChargesResponse *r = tso_charges(adm, c, 0);
	cr_assert_eq(r->n_charges, 1);
	cr_assert_eq(r->charges[0]->status, CHG(DECLINED));
	cr_assert_str_eq(r->charges[0]->return_code, "77");
	cr_assert(r->charges[0]->irreversible);
	protobuf_c_message_free_unpacked(&r->base, NULL);
	tso_advance(adm, DAY_MS);
	tso_run_now(adm);
	cr_assert_eq(tso_n_charges(adm, c), 1);
	cr_assert_eq(tso_invoice_status(adm, inv), INV(OPEN));
}

Test(billing, blocked_card_stores_code_78)
{
	uint64_t c = tso_invoiced_customer(adm, srv.unit_id, 4, 5, "2020-12-10", NULL, NULL);
	tso_run_now(adm);
	Ospay__V1__BillingListChargesResponse *r = tso_charges(adm, c, 0);
	cr_assert_eq(r->n_charges, 1);
	cr_assert_eq(r->charges[0]->status, CHG(DECLINED));
	cr_assert_str_eq(r->charges[0]->return_code, "78");
	cr_assert_str_eq(r->charges[0]->return_message, "Cartao Bloqueado");
	protobuf_c_message_free_unpacked(&r->base, NULL);
	/* The panel's filter: these are recurring charges. */
	r = tso_charges(adm, c,
			OSPAY__V1__CHARGE_RECURRENCE_FILTER__CHARGE_RECURRENCE_FILTER_RECURRING);
	cr_assert_eq(r->n_charges, 1);
	protobuf_c_message_free_unpacked(&r->base, NULL);
	r = tso_charges(
		adm, c,
		OSPAY__V1__CHARGE_RECURRENCE_FILTER__CHARGE_RECURRENCE_FILTER_NON_RECURRING);
	cr_assert_eq(r->n_charges, 0);
	protobuf_c_message_free_unpacked(&r->base, NULL);
}

Test(billing, nothing_charged_when_off_canceled_or_not_due)
{
	/* Recurring off for the service. */
	uint64_t svc1, c1 = tso_billed_customer(adm, srv.unit_id, 5, 0, false, &svc1);
	uint64_t inv1 = tso_invoice(adm, c1, svc1, "2020-12-10");
	/* A canceled invoice. */
	uint64_t inv2,
		c2 = tso_invoiced_customer(adm, srv.unit_id, 6, 0, "2020-12-10", &inv2, NULL);
	Ospay__V1__BillingCancelInvoiceRequest cm = OSPAY__V1__BILLING_CANCEL_INVOICE_REQUEST__INIT;
	cm.invoice_id = inv2;
	status_t st;
	cr_assert_eq(
		tsp_call(adm, "ospay.v1.Billing/CancelInvoice", &cm.base, NULL, NULL, NULL, &st), 0,
		"%s", st.message);
	/* Due later, and due long ago (outside the two days). */
	uint64_t svc3, c3 = tso_billed_customer(adm, srv.unit_id, 7, 0, true, &svc3);
	tso_invoice(adm, c3, svc3, "2020-12-11");
	tso_invoice(adm, c3, svc3, "2020-12-08");
	tso_run_now(adm);
	cr_assert_eq(tso_n_charges(adm, c1), 0);
	cr_assert_eq(tso_n_charges(adm, c2), 0);
	cr_assert_eq(tso_n_charges(adm, c3), 0);
	cr_assert_eq(tso_invoice_status(adm, inv1), INV(OPEN));
	cr_assert_eq(tso_invoice_status(adm, inv2), INV(CANCELED));
}

Test(billing, nothing_charged_when_automatic_recurrence_is_off)
{
	tsg_set_cielo(adm, &sbx, "bill", false);
	uint64_t inv, c = tso_invoiced_customer(adm, srv.unit_id, 8, 0, "2020-12-10", &inv, NULL);
	tso_run_now(adm);
	cr_assert_eq(tso_n_charges(adm, c), 0);
	cr_assert_eq(tso_invoice_status(adm, inv), INV(OPEN));
	cr_assert_eq(sales(inv, 1).count, 0);
}

Test(billing, no_card_records_no_valid_card_without_calling_the_gateway)
{
	uint64_t inv, c = tso_invoiced_customer(adm, srv.unit_id, 9, -1, "2020-12-10", &inv, NULL);
	tso_run_now(adm);
	cr_assert_eq(tso_only_charge_status(adm, c), CHG(NO_VALID_CARD));
	cr_assert_eq(sales(inv, 1).count, 0);
	cr_assert_eq(tso_invoice_status(adm, inv), INV(OPEN));
}

/* The sandbox makes the next sale but holds its answer, which never comes. */
static void hold_the_next_sale(void)
{
	tsg_fault(&sbx, "{\"service\":\"cielo\",\"route\":\"sale_create\",\"kind\":\"timeout\","
			"\"process\":true,\"count\":1}");
}

Test(billing, unknown_outcome_is_resolved_by_query_and_never_charged_twice, .timeout = 150)
{
	uint64_t inv, c = tso_invoiced_customer(adm, srv.unit_id, 10, 0, "2020-12-10", &inv, NULL);
	hold_the_next_sale();
	/* Advance starts a run; the sale is made but its answer never comes: the
	 * gateway call's own timeout (30 s) ends it, hence a longer hang guard. */
	tso_advance(adm, 1000);
	int status = 0;
	tsp_poll_t p = tsp_poll_start(4 * TSP_HANG_MS);
	do {
		Ospay__V1__BillingListChargesResponse *r = tso_charges(adm, c, 0);
		status = r->n_charges == 1 ? (int)r->charges[0]->status : 0;
		protobuf_c_message_free_unpacked(&r->base, NULL);
		if (status == CHG(UNKNOWN) || status == CHG(APPROVED))
			break;
		cr_assert(status == 0 || status == CHG(PENDING), "status %d", status);
	} while (tsp_poll_next(&p));
	/* Unknown, or already resolved by a resolve pass on a slow machine. */
	cr_assert(status == CHG(UNKNOWN) || status == CHG(APPROVED), "status %d", status);
	/* The next run asks the gateway first and learns the sale was approved. */
	tso_run_now(adm);
	cr_assert_eq(tso_only_charge_status(adm, c), CHG(APPROVED));
	cr_assert_eq(tso_invoice_status(adm, inv), INV(PAID));
	tso_run_now(adm);
	tsc_sales_t s = sales(inv, 1);
	cr_assert_eq(s.count, 1);
	cr_assert_eq(s.approved, 1);
	cr_assert_eq(sales(inv, 2).count, 0);
}

Test(billing, success_at_attempt_two_with_the_chosen_card)
{
	uint64_t svc, inv,
		c = tso_invoiced_customer(adm, srv.unit_id, 11, 2, "2020-12-10", &inv, &svc);
	tso_run_now(adm);
	cr_assert_eq(tso_n_charges(adm, c), 1);
	/* The customer adds a good card and the service picks it before D+1. */
	uint64_t good = tso_visa_card(adm, c, 0);
	tso_choose_card(adm, svc, good);
	tso_advance(adm, DAY_MS);
	tso_run_now(adm);
	Ospay__V1__BillingListChargesResponse *r = tso_charges(adm, c, 0);
	cr_assert_eq(r->n_charges, 2);
	cr_assert_eq(r->charges[1]->attempt, 2);
	cr_assert_eq(r->charges[1]->status, CHG(APPROVED));
	cr_assert_eq(r->charges[1]->card_id, good);
	protobuf_c_message_free_unpacked(&r->base, NULL);
	cr_assert_eq(tso_invoice_status(adm, inv), INV(PAID));
}

Test(billing, chosen_card_removed_charges_the_default)
{
	uint64_t svc, c = tso_billed_customer(adm, srv.unit_id, 12, 0, true, &svc);
	uint64_t other = tso_visa_card(adm, c, 4);
	tso_choose_card(adm, svc, other);
	Ospay__V1__CardsRemoveRequest rm = OSPAY__V1__CARDS_REMOVE_REQUEST__INIT;
	rm.card_id = other;
	status_t st;
	cr_assert_eq(tsp_call(adm, "ospay.v1.Cards/Remove", &rm.base, NULL, NULL, NULL, &st), 0,
		     "Remove: %s", st.message);
	tso_invoice(adm, c, svc, "2020-12-10");
	tso_run_now(adm);
	tso_only_charge_approved_on(adm, c, 0, other);
}

Test(billing, kill_mid_charge_then_restart_resolves_by_query, .timeout = 150)
{
	uint64_t inv, c = tso_invoiced_customer(adm, srv.unit_id, 13, 0, "2020-12-10", &inv, NULL);
	hold_the_next_sale();
	tso_advance(adm, 1000);
	/* Wait until the sandbox has made the sale (its answer is held), then kill -9. */
	TSP_AWAIT(sales(inv, 1).count > 0, "no sale at the sandbox");
	cr_assert_eq(sales(inv, 1).count, 1);
	cr_assert_eq(tso_only_charge_status(adm, c), CHG(PENDING));
	close(adm);
	tsp_server_kill(&srv, SIGKILL);
	const char *args[] = {"--test-clock", "2020-12-10T15:00:00Z", NULL};
	cr_assert_eq(tsp_server_start(&srv, args), 0);
	adm = tsp_login(&srv, srv.admin_token);
	/* The start-up run queries the attempt before anything else; RunNow waits for a run. */
	tso_run_now(adm);
	cr_assert_eq(tso_only_charge_status(adm, c), CHG(APPROVED));
	cr_assert_eq(tso_invoice_status(adm, inv), INV(PAID));
	tsc_sales_t s = sales(inv, 1);
	cr_assert_eq(s.count, 1);
	cr_assert_eq(s.approved, 1);
	cr_assert_eq(sales(inv, 2).count, 0);
}

Test(billing, both_attempts_fail_then_blocked_after_the_profile_days_then_unblocked)
{
	status_t st;
	cr_assert_eq(tso_set_profile(adm, 1, &st), 3);
	cr_assert_eq(tso_set_profile(adm, 366, &st), 3);
	cr_assert_eq(tso_set_profile(adm, 2, &st), 0, "%s", st.message);
	uint64_t svc, inv,
		c = tso_invoiced_customer(adm, srv.unit_id, 14, 2, "2020-12-10", &inv, &svc);
	tso_run_now(adm);
	tso_advance(adm, DAY_MS); /* 12-11: attempt 2 fails too, not blocked yet */
	tso_run_now(adm);
	cr_assert_eq(tso_n_charges(adm, c), 2);
	cr_assert_eq(tso_service_status(adm, c, svc), SVC(ACTIVE));
	tso_advance(adm, DAY_MS); /* 12-12: the due date + 2 days */
	tso_run_now(adm);
	cr_assert_eq(tso_n_charges(adm, c), 2);
	cr_assert_eq(tso_service_status(adm, c, svc), SVC(BLOCKED));
	/* Settling the invoice unblocks at once. */
	Ospay__V1__BillingCancelInvoiceRequest cm = OSPAY__V1__BILLING_CANCEL_INVOICE_REQUEST__INIT;
	cm.invoice_id = inv;
	cr_assert_eq(
		tsp_call(adm, "ospay.v1.Billing/CancelInvoice", &cm.base, NULL, NULL, NULL, &st), 0,
		"%s", st.message);
	cr_assert_eq(tso_service_status(adm, c, svc), SVC(ACTIVE));
	tso_run_now(adm);
	cr_assert_eq(tso_service_status(adm, c, svc), SVC(ACTIVE));
}

Test(billing, an_old_unpaid_invoice_blocks_and_paying_a_newer_one_does_not_unblock)
{
	status_t st;
	cr_assert_eq(tso_set_profile(adm, 2, &st), 0, "%s", st.message);
	uint64_t svc, c = tso_billed_customer(adm, srv.unit_id, 15, 0, true, &svc);
	tso_invoice(adm, c, svc, "2020-12-01"); /* long overdue: blocks, never charged */
	uint64_t inv = tso_invoice(adm, c, svc, "2020-12-10");
	tso_run_now(adm);
	cr_assert_eq(tso_invoice_status(adm, inv), INV(PAID));
	cr_assert_eq(tso_n_charges(adm, c), 1);
	cr_assert_eq(tso_service_status(adm, c, svc), SVC(BLOCKED));
}

static int last_status(uint64_t customer, size_t *n)
{
	Ospay__V1__BillingListChargesResponse *r = tso_charges(adm, customer, 0);
	*n = r->n_charges;
	int s = r->n_charges > 0 ? (int)r->charges[r->n_charges - 1]->status : 0;
	protobuf_c_message_free_unpacked(&r->base, NULL);
	return s;
}

/*
 * After a sale fault the first run leaves customer c's one attempt unknown
 * until the gateway is asked (or already settled as outcome, when a resolve
 * pass asked first on a slow machine); the next run asks and settles it as
 * outcome, without a second attempt.
 */
static void first_run_unknown_then(uint64_t c, int outcome)
{
	size_t n;
	tso_run_now(adm);
	int st = last_status(c, &n);
	cr_assert(st == CHG(UNKNOWN) || st == outcome, "status %d", st);
	tso_run_now(adm);
	cr_assert_eq(last_status(c, &n), outcome);
	cr_assert_eq(n, 1);
}

Test(billing, http500_not_processed_is_an_error_then_attempt_two_next_day)
{
	uint64_t inv, c = tso_invoiced_customer(adm, srv.unit_id, 16, 0, "2020-12-10", &inv, NULL);
	tsg_sale_fault(&sbx, "http500", false);
	/* A 5xx may or may not have been processed. The gateway has no sale under
	 * that order id: a failed attempt, no money taken. */
	first_run_unknown_then(c, CHG(ERROR));
	cr_assert_eq(tso_invoice_status(adm, inv), INV(OPEN));
	size_t n;
	tso_advance(adm, DAY_MS);
	tso_run_now(adm);
	cr_assert_eq(last_status(c, &n), CHG(APPROVED));
	cr_assert_eq(n, 2);
	cr_assert_eq(tso_invoice_status(adm, inv), INV(PAID));
	cr_assert_eq(sales(inv, 1).count, 0);
	cr_assert_eq(sales(inv, 2).approved, 1);
}

Test(billing, reset_after_processing_is_resolved_as_approved_once)
{
	uint64_t inv, c = tso_invoiced_customer(adm, srv.unit_id, 17, 0, "2020-12-10", &inv, NULL);
	tsg_sale_fault(&sbx, "reset", true);
	first_run_unknown_then(c, CHG(APPROVED));
	cr_assert_eq(tso_invoice_status(adm, inv), INV(PAID));
	tsc_sales_t s = sales(inv, 1);
	cr_assert_eq(s.count, 1);
	cr_assert_eq(s.approved, 1);
}

/* GetNet runs the recurrence instead of Cielo. */
static void use_getnet(void)
{
	tsg_register_getnet(&sbx, srv.org_id, "bill");
	tsg_set_cielo(adm, &sbx, "bill", false);
	tsg_set_getnet(adm, &sbx, "bill", true);
}

Test(billing, getnet_declines_store_its_code_and_message)
{
	use_getnet();
	uint64_t inv5,
		c5 = tso_invoiced_customer(adm, srv.unit_id, 18, 5, "2020-12-10", &inv5, NULL);
	uint64_t c7 = tso_invoiced_customer(adm, srv.unit_id, 19, 7, "2020-12-10", NULL, NULL);
	uint64_t inv0,
		c0 = tso_invoiced_customer(adm, srv.unit_id, 20, 0, "2020-12-10", &inv0, NULL);
	tso_run_now(adm);
	Ospay__V1__BillingListChargesResponse *r = tso_charges(adm, c5, 0);
	cr_assert_eq(r->n_charges, 1);
	cr_assert_eq(r->charges[0]->gateway, OSPAY__V1__GATEWAY_KIND__GATEWAY_KIND_GETNET);
	cr_assert_eq(r->charges[0]->status, CHG(DECLINED));
	cr_assert_str_eq(r->charges[0]->return_code, "78");
	cr_assert_not_null(strstr(r->charges[0]->return_message, "CARTAO BLOQUEADO"), "%s",
			   r->charges[0]->return_message);
	cr_assert_not(r->charges[0]->irreversible);
	protobuf_c_message_free_unpacked(&r->base, NULL);
	r = tso_charges(adm, c7, 0);
	cr_assert_eq(r->n_charges, 1);
	cr_assert_str_eq(r->charges[0]->return_code, "R1");
	cr_assert(r->charges[0]->irreversible);
	protobuf_c_message_free_unpacked(&r->base, NULL);
	cr_assert_eq(tso_only_charge_status(adm, c0), CHG(APPROVED));
	cr_assert_eq(tso_invoice_status(adm, inv0), INV(PAID));
	/* The next day: a second attempt for the reversible decline only. */
	tso_advance(adm, DAY_MS);
	tso_run_now(adm);
	cr_assert_eq(tso_n_charges(adm, c5), 2);
	cr_assert_eq(tso_n_charges(adm, c7), 1);
	cr_assert_eq(tso_n_charges(adm, c0), 1);
	cr_assert_eq(tso_invoice_status(adm, inv5), INV(OPEN));
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

Test(billing, metrics_count_the_runs_charges_and_its_peak_in_flight)
{
	uint64_t svc[3];
	for (uint32_t i = 0; i < 3; i++) {
		uint64_t c = tso_billed_customer(adm, srv.unit_id, 40 + i, 0, true, &svc[i]);
		tso_invoice(adm, c, svc[i], "2020-12-10");
	}
	tso_run_now(adm);
	cr_assert_eq(tsp_metric(&srv, "ospay_billing_charges_total"), 3);
	/* The run is over: nothing in flight; its peak is within the bound. */
	cr_assert_eq(tsp_metric(&srv, "ospay_billing_in_flight"), 0);
	long long limit = tsp_metric(&srv, "ospay_billing_in_flight_limit");
	long long peak = tsp_metric(&srv, "ospay_billing_in_flight_max");
	long long calls = tsp_metric(&srv, "ospay_billing_calls_in_flight_max");
	cr_assert(limit >= 1, "limit %lld", limit);
	cr_assert(peak >= 1 && peak <= 3 && peak <= limit, "peak %lld", peak);
	cr_assert(calls >= 1 && calls <= peak, "calls %lld", calls);
	/* Another run charges nothing more (all three are paid). */
	tso_run_now(adm);
	cr_assert_eq(tsp_metric(&srv, "ospay_billing_charges_total"), 3);
	cr_assert_eq(tsp_metric(&srv, "ospay_billing_in_flight_max"), 0);
}

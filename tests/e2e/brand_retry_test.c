/*
 * The brand retry rules end to end (issue 16 item 2, docs/billing.md "Brand
 * retry rules"): a real ospayd on the test clock and a real ospay-sandbox told
 * to decline with a chosen return code and Mastercard advice code
 * (POST /control/cielo/decline). Every advice code and Visa category, the
 * second attempt made only when the brand allows it, Visa's 20 reattempts in
 * 30 days across a month boundary, Mastercard's fee from the 8th, the
 * /metrics counter of refused retries.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>

#include "ospay/v1/billing.pb-c.h"
#include "ospay/v1/installments.pb-c.h"
#include "support/domain.h"
#include "support/enums.h"
#include "support/gateways.h"
#include "support/proc.h"
#include "support/cielo_suite.h"

/* 12:00 local (UTC-03:00). */
TSP_CIELO_SUITE(brand_retry, "2020-12-10T15:00:00Z", 300, "brand", true);

/* A customer with a recurring service and a card (Visa or Mastercard ending in 0,
 * which the sandbox approves unless told otherwise); *svc its service. */
static uint64_t customer_with(uint32_t n, bool mastercard, uint64_t *svc)
{
	char number[17];
	uint64_t c = tso_customer(adm, srv.unit_id, n, "São Paulo");
	if (mastercard)
		tso_mastercard_ending(0, number);
	else
		tso_visa_ending(0, number);
	tso_card(adm, c, number);
	*svc = tso_service(adm, c, true);
	return c;
}

typedef struct expect {
	const char *code, *mac;
	bool mastercard;
	const char *cls;
	bool second; /* the brand allows the second attempt on the next day */
} expect_t;

/* One invoice per case, each declined on the due day by its own code; the next
 * day the run makes only the second attempts the brand allows. The first
 * case's customer. */
static uint64_t check_cases(const expect_t *e, size_t n)
{
	uint64_t cust[16];
	long long before = tsp_metric(&srv, "ospay_billing_retries_refused_total");
	size_t refused = 0;
	cr_assert_leq(n, 16);
	for (size_t i = 0; i < n; i++) {
		uint64_t svc;
		cust[i] = customer_with((uint32_t)(10 + i), e[i].mastercard, &svc);
		tso_invoice(adm, cust[i], svc, "2020-12-10");
		/* One customer's invoice per run: each gets its own decline. */
		tsg_cielo_decline(&sbx, e[i].code, e[i].mac, 1, false);
		tso_run_now(adm);
		Ospay__V1__BillingListChargesResponse *r = tso_charges(adm, cust[i], 0);
		cr_assert_eq(r->n_charges, 1);
		Ospay__V1__Charge *a = r->charges[0];
		cr_assert_eq(a->status, CHG(DECLINED), "case %zu", i);
		cr_assert_str_eq(a->decline_class, e[i].cls, "case %zu (%s/%s)", i, e[i].code,
				 e[i].mac != NULL ? e[i].mac : "");
		cr_assert_neq(a->advice[0], '\0');
		cr_assert_str_eq(a->merchant_advice_code, e[i].mac != NULL ? e[i].mac : "");
		bool no_second = a->retry_refused || a->irreversible;
		cr_assert_eq(no_second, !e[i].second, "case %zu (%s/%s)", i, e[i].code,
			     e[i].mac != NULL ? e[i].mac : "");
		if (e[i].second)
			cr_assert_gt(a->next_retry_ms, 0);
		refused += a->retry_refused;
		protobuf_c_message_free_unpacked(&r->base, NULL);
	}
	cr_assert_eq(tsp_metric(&srv, "ospay_billing_retries_refused_total"),
		     before + (long long)refused);
	tso_advance(adm, DAY_MS); /* 2020-12-11 12:00 */
	tso_run_now(adm);
	for (size_t i = 0; i < n; i++) {
		Ospay__V1__BillingListChargesResponse *r = tso_charges(adm, cust[i], 0);
		cr_assert_eq(r->n_charges, e[i].second ? 2 : 1, "case %zu (%s/%s)", i, e[i].code,
			     e[i].mac != NULL ? e[i].mac : "");
		if (e[i].second) {
			cr_assert(r->charges[1]->reattempt);
			cr_assert_eq(r->charges[1]->status, CHG(APPROVED));
		}
		protobuf_c_message_free_unpacked(&r->base, NULL);
	}
	return cust[0];
}

/* The recurring-credit report's rows of customer's charges carry the verdicts too. */
static void report_shows(uint64_t customer, const char *cls)
{
	Ospay__V1__BillingRecurringCreditReportRequest m =
		OSPAY__V1__BILLING_RECURRING_CREDIT_REPORT_REQUEST__INIT;
	m.from = "2020-12-01";
	m.to = "2020-12-31";
	m.customer_id = customer;
	Ospay__V1__BillingRecurringCreditReportResponse *r = NULL;
	status_t st;
	cr_assert_eq(tsp_call(adm, "ospay.v1.Billing/RecurringCreditReport", &m.base,
			      &ospay__v1__billing_recurring_credit_report_response__descriptor,
			      (ProtobufCMessage **)&r, NULL, &st),
		     0, "%s", st.message);
	cr_assert_geq(r->n_rows, 1);
	cr_assert_str_eq(r->rows[0]->decline_class, cls);
	cr_assert_neq(r->rows[0]->advice[0], '\0');
	protobuf_c_message_free_unpacked(&r->base, NULL);
}

Test(brand_retry, mastercard_advice_codes)
{
	static const expect_t e[] = {
		{"51", "01", true, "mastercard-update-card", false},
		{"51", "02", true, "mastercard-retry-later", false}, /* 72 h: after the window */
		{"51", "03", true, "mastercard-never", false},
		{"51", "21", true, "mastercard-never", false},
		{"51", "24", true, "mastercard-retry-later", true}, /* 1 h */
		{"51", "25", true, "mastercard-retry-later", true}, /* 24 h: the next day */
		{"51", "26", true, "mastercard-retry-later", false},
		{"51", "27", true, "mastercard-retry-later", false},
		{"51", "28", true, "mastercard-retry-later", false},
		{"51", "29", true, "mastercard-retry-later", false},
		{"51", "30", true, "mastercard-retry-later", false},
		{"51", NULL, true, "reversible", true},
	};
	report_shows(check_cases(e, sizeof(e) / sizeof(e[0])), "mastercard-update-card");
}

Test(brand_retry, visa_categories)
{
	static const expect_t e[] = {
		{"14", NULL, false, "visa-category-1", false},
		{"57", NULL, false, "visa-category-1", false},
		{"51", NULL, false, "visa-category-2", true},
		{"55", NULL, false, "visa-category-3", true},
		{"54", NULL, false, "visa-category-3", false}, /* expired: ABECS irreversible */
		{"05", NULL, false, "visa-category-4", true},
	};
	/* The first customer's (code 14) row in the report. */
	report_shows(check_cases(e, sizeof(e) / sizeof(e[0])), "visa-category-1");
}

/* Billing/ChargeInvoice of inv with idempotency key key; the status code. */
static int operator_charge(uint64_t inv, const char *key, status_t *st)
{
	Ospay__V1__BillingChargeInvoiceRequest q = OSPAY__V1__BILLING_CHARGE_INVOICE_REQUEST__INIT;
	q.invoice_id = inv;
	return tsp_call(adm, "ospay.v1.Billing/ChargeInvoice", &q.base, NULL, NULL, key, st);
}

/*
 * Visa: 20 reattempts of a card in a rolling 30 days, across January and
 * February on the test clock. Operator charges of a declined invoice, one a
 * day from 2021-01-20, are the reattempts; the 21st is refused until the
 * first has left the window (2021-02-19 12:00), and the billing run's own
 * second attempt is refused meanwhile too.
 */
Test(brand_retry, visa_twenty_reattempts_in_thirty_days_across_months)
{
	uint64_t svc, c = customer_with(30, false, &svc);
	tso_advance(adm, tso_at(2021, 1, 20, 12, 0) - tso_at(2020, 12, 10, 12, 0));
	tsg_cielo_decline(&sbx, "51", NULL, 1000, false);
	uint64_t inv = tso_invoice(adm, c, svc, "2021-12-10");
	status_t st;
	char key[32];
	/* The first charge of the invoice is no reattempt. */
	cr_assert_eq(operator_charge(inv, "op-0", &st), 0, "%s", st.message);
	for (int i = 1; i <= 20; i++) {
		snprintf(key, sizeof(key), "op-%d", i);
		cr_assert_eq(operator_charge(inv, key, &st), 0, "reattempt %d: %s", i, st.message);
		if (i < 20)
			tso_advance(adm, DAY_MS);
	}
	/* 2021-02-08 12:00: 20 reattempts since 2021-01-20 12:00. */
	cr_assert_eq(operator_charge(inv, "op-21", &st), 9, "%s", st.message);
	cr_assert(strstr(st.message, "Visa allows 20") != NULL, "%s", st.message);

	/* The run's attempt 1 of another invoice is no reattempt: made; its
	 * second attempt is refused by the same count. */
	uint64_t inv2 = tso_invoice(adm, c, svc, "2021-02-08");
	tso_run_now(adm);
	Ospay__V1__BillingListChargesResponse *r = tso_charges(adm, c, 1);
	cr_assert_eq(r->n_charges, 1);
	cr_assert_eq(r->charges[0]->invoice_id, inv2);
	cr_assert(r->charges[0]->retry_refused);
	cr_assert(strstr(r->charges[0]->note, "20 reattempts") != NULL, "%s", r->charges[0]->note);
	protobuf_c_message_free_unpacked(&r->base, NULL);
	tso_advance(adm, DAY_MS); /* 2021-02-09 */
	tso_run_now(adm);
	cr_assert_eq(tso_n_charges(adm, c), 22);

	/* 2021-02-18 12:00: Jan 20's reattempt is still inside (exactly 29 days). */
	tso_advance(adm, tso_at(2021, 2, 18, 12, 0) - tso_at(2021, 2, 9, 12, 0));
	cr_assert_eq(operator_charge(inv, "op-22", &st), 9, "%s", st.message);
	/* 2021-02-19 12:00: it has left the window; one more fits. */
	tso_advance(adm, DAY_MS);
	cr_assert_eq(operator_charge(inv, "op-23", &st), 0, "%s", st.message);
	cr_assert_eq(operator_charge(inv, "op-24", &st), 9, "%s", st.message);
	cr_assert_geq(tsp_metric(&srv, "ospay_billing_retries_refused_total"), 4);
}

/* Mastercard: no cap, but the 8th reattempt in 30 days is flagged for its fee. */
Test(brand_retry, mastercard_fee_from_the_eighth_reattempt)
{
	uint64_t svc, c = customer_with(40, true, &svc);
	tsg_cielo_decline(&sbx, "51", NULL, 1000, false);
	uint64_t inv = tso_invoice(adm, c, svc, "2021-12-10");
	status_t st;
	char key[32];
	for (int i = 0; i <= 9; i++) {
		snprintf(key, sizeof(key), "mc-%d", i);
		cr_assert_eq(operator_charge(inv, key, &st), 0, "charge %d: %s", i, st.message);
	}
	Ospay__V1__BillingListChargesResponse *r = tso_charges(adm, c, 0);
	cr_assert_eq(r->n_charges, 10);
	cr_assert_not(r->charges[0]->reattempt);
	for (int i = 1; i <= 9; i++) {
		cr_assert(r->charges[i]->reattempt);
		cr_assert_eq(r->charges[i]->retry_fee, i >= 8, "reattempt %d", i);
	}
	protobuf_c_message_free_unpacked(&r->base, NULL);
}

/* An operator's retry waits as long as the advice code says (MAC 02: 72 hours). */
Test(brand_retry, operator_retry_waits_for_the_advice_code)
{
	uint64_t svc, c = customer_with(50, true, &svc);
	uint64_t inv = tso_invoice(adm, c, svc, "2021-12-10");
	status_t st;
	tsg_cielo_decline(&sbx, "51", "02", 1, false);
	cr_assert_eq(operator_charge(inv, "w-0", &st), 0, "%s", st.message);
	cr_assert_eq(operator_charge(inv, "w-1", &st), 9, "%s", st.message);
	cr_assert(strstr(st.message, "MAC 02") != NULL, "%s", st.message);
	tso_advance(adm, 3 * DAY_MS - 60000);
	cr_assert_eq(operator_charge(inv, "w-2", &st), 9, "%s", st.message);
	tso_advance(adm, 60000);
	cr_assert_eq(operator_charge(inv, "w-3", &st), 0, "%s", st.message);
	cr_assert_eq(tso_invoice_status(adm, inv), INV(PAID));
}

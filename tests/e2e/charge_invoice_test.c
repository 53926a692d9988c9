/*
 * Billing/ChargeInvoice end to end (docs/billing.md, "Operator charges"): an
 * operator's non-recurring charge of an OPEN invoice
 * whose automatic attempts failed, against a real ospay-sandbox (Cielo; the
 * outcome follows the card number's final digit). Paying unblocks the
 * service; a decline leaves everything as it was and is listed as a
 * non-recurring charge with its code; the refusals; the sale carries no
 * Recurrent flag and is customer-initiated (the sandbox records what it got);
 * an unknown outcome is resolved by the run before another charge.
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
TSP_CIELO_SUITE(charge_invoice, "2020-12-10T15:00:00Z", 120, "bill", true);

#define NON_RECURRING OSPAY__V1__CHARGE_RECURRENCE_FILTER__CHARGE_RECURRENCE_FILTER_NON_RECURRING
#define RECURRING OSPAY__V1__CHARGE_RECURRENCE_FILTER__CHARGE_RECURRENCE_FILTER_RECURRING

/* Billing/ChargeInvoice: the status code; *out (may be NULL) the response when OK. */
static int charge_invoice(uint64_t inv, uint64_t card, const char *idem,
			  Ospay__V1__BillingChargeInvoiceResponse **out, status_t *st)
{
	Ospay__V1__BillingChargeInvoiceRequest m = OSPAY__V1__BILLING_CHARGE_INVOICE_REQUEST__INIT;
	m.invoice_id = inv;
	m.card_id = card;
	return tsp_call(adm, "ospay.v1.Billing/ChargeInvoice", &m.base,
			&ospay__v1__billing_charge_invoice_response__descriptor,
			(ProtobufCMessage **)out, idem, st);
}

/* A customer whose two automatic attempts were declined and whose service is
 * BLOCKED (profile of 2 days; the clock ends on 2020-12-12). */
static uint64_t blocked_customer(uint32_t n, uint64_t *svc, uint64_t *inv)
{
	status_t st;
	cr_assert_eq(tso_set_profile(adm, 2, &st), 0, "%s", st.message);
	uint64_t c = tso_billed_customer(adm, srv.unit_id, n, 2, true, svc);
	*inv = tso_invoice(adm, c, *svc, "2020-12-10");
	tso_run_now(adm);
	tso_advance(adm, DAY_MS);
	tso_run_now(adm);
	tso_advance(adm, DAY_MS);
	tso_run_now(adm);
	cr_assert_eq(tso_n_charges(adm, c), 2);
	cr_assert_eq(tso_invoice_status(adm, *inv), INV(OPEN));
	cr_assert_eq(tso_service_status(adm, c, *svc), SVC(BLOCKED));
	return c;
}

Test(charge_invoice, approved_pays_the_invoice_and_unblocks_the_service)
{
	uint64_t svc, inv;
	uint64_t c = blocked_customer(1, &svc, &inv);
	uint64_t good = tso_visa_card(adm, c, 0);
	Ospay__V1__BillingChargeInvoiceResponse *r = NULL;
	status_t st;
	cr_assert_eq(charge_invoice(inv, good, "op-charge-1", &r, &st), 0, "%s", st.message);
	cr_assert_eq(r->charge->status, CHG(APPROVED));
	cr_assert_not(r->charge->recurring);
	cr_assert_eq(r->charge->card_id, good);
	cr_assert_eq(r->charge->attempt, 1);
	cr_assert_str_eq(r->charge->local_date, "2020-12-12");
	char oid[32];
	snprintf(oid, sizeof(oid), "%020lluM1", (unsigned long long)inv);
	cr_assert_str_eq(r->charge->merchant_order_id, oid);
	cr_assert_eq(r->invoice->status, INV(PAID));
	uint64_t charge_id = r->charge->id;
	protobuf_c_message_free_unpacked(&r->base, NULL);
	cr_assert_eq(tso_invoice_status(adm, inv), INV(PAID));
	cr_assert_eq(tso_service_status(adm, c, svc), SVC(ACTIVE));

	/* A repeat with the same idempotency key gets the same charge, no new sale. */
	cr_assert_eq(charge_invoice(inv, good, "op-charge-1", &r, &st), 0, "%s", st.message);
	cr_assert_eq(r->charge->id, charge_id);
	protobuf_c_message_free_unpacked(&r->base, NULL);
	/* Another key: the invoice is PAID now. */
	cr_assert_eq(charge_invoice(inv, good, "op-charge-2", NULL, &st), 9, "%s", st.message);

	/* The panel: 2 recurring attempts, 1 non-recurring charge. */
	Ospay__V1__BillingListChargesResponse *l = tso_charges(adm, c, NON_RECURRING);
	cr_assert_eq(l->n_charges, 1);
	cr_assert_eq(l->charges[0]->id, charge_id);
	protobuf_c_message_free_unpacked(&l->base, NULL);
	l = tso_charges(adm, c, RECURRING);
	cr_assert_eq(l->n_charges, 2);
	protobuf_c_message_free_unpacked(&l->base, NULL);

	/* At Cielo: one sale, customer-initiated, without Recurrent; the run's had it. */
	tsc_sales_t s = tsc_sandbox_sales(&sbx, oid);
	cr_assert_eq(s.count, 1);
	cr_assert_not(s.recurrent);
	/* A Visa card: no initiator indicator, which is Mastercard's (issue 16). */
	cr_assert_str_eq(s.initiator, "");
	snprintf(oid, sizeof(oid), "%020lluA2", (unsigned long long)inv);
	s = tsc_sandbox_sales(&sbx, oid);
	cr_assert_eq(s.count, 1);
	cr_assert(s.recurrent);
	cr_assert_str_eq(s.initiator, "");

	/* The run afterwards leaves the paid invoice alone. */
	tso_advance(adm, DAY_MS);
	tso_run_now(adm);
	cr_assert_eq(tso_n_charges(adm, c), 3);
	cr_assert_eq(tso_service_status(adm, c, svc), SVC(ACTIVE));
}

Test(charge_invoice, declined_keeps_the_invoice_open_and_the_service_blocked)
{
	uint64_t svc, inv;
	uint64_t c = blocked_customer(2, &svc, &inv);
	/* No card named: the default card (ending in 2) is charged, and declined. */
	Ospay__V1__BillingChargeInvoiceResponse *r = NULL;
	status_t st;
	cr_assert_eq(charge_invoice(inv, 0, NULL, &r, &st), 0, "%s", st.message);
	cr_assert_eq(r->charge->status, CHG(DECLINED));
	cr_assert_str_eq(r->charge->return_code, "05");
	cr_assert_not(r->charge->recurring);
	cr_assert_eq(r->invoice->status, INV(OPEN));
	protobuf_c_message_free_unpacked(&r->base, NULL);
	cr_assert_eq(tso_invoice_status(adm, inv), INV(OPEN));
	cr_assert_eq(tso_service_status(adm, c, svc), SVC(BLOCKED));

	/* Another card, blocked at the issuer: code 78, the operator's second charge. */
	uint64_t blocked = tso_visa_card(adm, c, 5);
	cr_assert_eq(charge_invoice(inv, blocked, NULL, &r, &st), 0, "%s", st.message);
	cr_assert_eq(r->charge->status, CHG(DECLINED));
	cr_assert_eq(r->charge->attempt, 2);
	char oid[32];
	snprintf(oid, sizeof(oid), "%020lluM2", (unsigned long long)inv);
	cr_assert_str_eq(r->charge->merchant_order_id, oid);
	protobuf_c_message_free_unpacked(&r->base, NULL);

	Ospay__V1__BillingListChargesResponse *l = tso_charges(adm, c, NON_RECURRING);
	cr_assert_eq(l->n_charges, 2);
	cr_assert_str_eq(l->charges[0]->return_code, "05");
	cr_assert_str_eq(l->charges[1]->return_code, "78");
	cr_assert_str_eq(l->charges[1]->return_message, "Cartao Bloqueado");
	for (size_t i = 0; i < l->n_charges; i++)
		cr_assert_not(l->charges[i]->recurring);
	protobuf_c_message_free_unpacked(&l->base, NULL);

	/* The run is not misled by the operator's charges: no third attempt, still blocked. */
	tso_run_now(adm);
	cr_assert_eq(tso_n_charges(adm, c), 4);
	cr_assert_eq(tso_service_status(adm, c, svc), SVC(BLOCKED));
	cr_assert_eq(tso_invoice_status(adm, inv), INV(OPEN));
}

Test(charge_invoice, refusals)
{
	status_t st;
	/* No such invoice. */
	cr_assert_eq(charge_invoice(999999, 0, NULL, NULL, &st), 5, "%s", st.message);
	/* A customer without a card. */
	uint64_t svc1, c1 = tso_billed_customer(adm, srv.unit_id, 3, -1, true, &svc1);
	uint64_t inv1 = tso_invoice(adm, c1, svc1, "2020-12-20");
	cr_assert_eq(charge_invoice(inv1, 0, NULL, NULL, &st), 9, "%s", st.message);
	cr_assert(strstr(st.message, "no card") != NULL, "%s", st.message);
	/* Another customer's card. */
	uint64_t svc2, c2 = tso_billed_customer(adm, srv.unit_id, 4, 0, true, &svc2);
	uint64_t other = tso_visa_card(adm, c2, 0);
	cr_assert_eq(charge_invoice(inv1, other, NULL, NULL, &st), 5, "%s", st.message);
	/* A canceled invoice. */
	uint64_t inv2 = tso_invoice(adm, c2, svc2, "2020-12-20");
	Ospay__V1__BillingCancelInvoiceRequest cm = OSPAY__V1__BILLING_CANCEL_INVOICE_REQUEST__INIT;
	cm.invoice_id = inv2;
	tsp_call_ok(adm, "ospay.v1.Billing/CancelInvoice", &cm.base, NULL);
	cr_assert_eq(charge_invoice(inv2, 0, NULL, NULL, &st), 9, "%s", st.message);
	/* A read-only token may not charge. */
	char secret[160];
	tso_token(adm, 3, srv.unit_id, secret, sizeof(secret));
	int ro = tsp_login(&srv, secret);
	Ospay__V1__BillingChargeInvoiceRequest m = OSPAY__V1__BILLING_CHARGE_INVOICE_REQUEST__INIT;
	uint64_t inv3 = tso_invoice(adm, c2, svc2, "2020-12-20");
	m.invoice_id = inv3;
	cr_assert_eq(tsp_call(ro, "ospay.v1.Billing/ChargeInvoice", &m.base, NULL, NULL, NULL, &st),
		     7, "%s", st.message);
	close(ro);
	cr_assert_eq(tso_n_charges(adm, c2), 0);
}

Test(charge_invoice, an_unknown_outcome_is_resolved_before_another_charge)
{
	uint64_t svc, c = tso_billed_customer(adm, srv.unit_id, 5, 0, true, &svc);
	uint64_t inv = tso_invoice(adm, c, svc, "2020-12-20");
	/* A 5xx the sandbox did not process: the outcome is unknown. Queries fail
	 * too for now, so it stays unknown however slow this machine is. */
	tsg_sale_fault(&sbx, "http500", false);
	tsg_fault(&sbx, "{\"service\":\"cielo\",\"route\":\"sale_query\",\"kind\":\"http500\"}");
	Ospay__V1__BillingChargeInvoiceResponse *r = NULL;
	status_t st;
	cr_assert_eq(charge_invoice(inv, 0, NULL, &r, &st), 0, "%s", st.message);
	cr_assert_eq(r->charge->status, CHG(UNKNOWN));
	uint64_t first = r->charge->id;
	protobuf_c_message_free_unpacked(&r->base, NULL);
	/* Unknown first: refused, naming the charge, and so is canceling the invoice. */
	char want[64];
	snprintf(want, sizeof(want), "charge %llu ", (unsigned long long)first);
	cr_assert_eq(charge_invoice(inv, 0, NULL, NULL, &st), 9, "%s", st.message);
	cr_assert(strstr(st.message, want) != NULL, "%s", st.message);
	cr_assert(strstr(st.message, "unknown outcome") != NULL, "%s", st.message);
	Ospay__V1__BillingCancelInvoiceRequest cq = OSPAY__V1__BILLING_CANCEL_INVOICE_REQUEST__INIT;
	cq.invoice_id = inv;
	cr_assert_eq(
		tsp_call(adm, "ospay.v1.Billing/CancelInvoice", &cq.base, NULL, NULL, NULL, &st), 9,
		"%s", st.message);
	cr_assert(strstr(st.message, want) != NULL, "%s", st.message);
	cr_assert_eq(tso_invoice_status(adm, inv), INV(OPEN));
	tsg_faults_clear(&sbx);
	/* The run queries it: no sale under that id, a failed charge (no money taken). */
	tso_run_now(adm);
	Ospay__V1__BillingListChargesResponse *l = tso_charges(adm, c, NON_RECURRING);
	cr_assert_eq(l->n_charges, 1);
	cr_assert_eq(l->charges[0]->status, CHG(ERROR));
	protobuf_c_message_free_unpacked(&l->base, NULL);
	/* Now the operator may charge again: the second of its series. */
	cr_assert_eq(charge_invoice(inv, 0, NULL, &r, &st), 0, "%s", st.message);
	cr_assert_eq(r->charge->status, CHG(APPROVED));
	cr_assert_eq(r->charge->attempt, 2);
	cr_assert_eq(r->invoice->status, INV(PAID));
	protobuf_c_message_free_unpacked(&r->base, NULL);
}

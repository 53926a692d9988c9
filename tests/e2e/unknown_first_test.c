/*
 * Unknown first, always (docs/billing.md, "Unknown outcomes"): a charge whose
 * outcome is unknown is settled before anything else happens to its invoice,
 * against a real ospay-sandbox. Cielo: a sale processed but answered with a
 * reset is refused a cancel and an operator charge, then found approved by a
 * resolve pass that no RunNow or clock move started. GetNet (no query by
 * order id): the attempt waits for the operator, is never charged again nor
 * suspended meanwhile, shows in ListCharges and /metrics, and is settled by
 * GetNet's own notification or by Billing/ResolveCharge; a notification of an
 * approved sale for an invoice canceled meanwhile voids it at the gateway.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ospay/v1/billing.pb-c.h"
#include "support/cards.h"
#include "support/domain.h"
#include "support/enums.h"
#include "support/gateways.h"
#include "support/proc.h"
#include "support/cielo_suite.h"

#define RES(x) OSPAY__V1__CHARGE_RESOLUTION__CHARGE_RESOLUTION_##x

/* 12:00 local (UTC-03:00) on the due date. */
TSP_CIELO_SUITE(unknown_first, "2020-12-10T15:00:00Z", 150, "uf", true);

/* GetNet runs the recurrence instead of Cielo. */
static void use_getnet(void)
{
	tsg_register_getnet(&sbx, srv.org_id, "uf");
	tsg_set_cielo(adm, &sbx, "uf", false);
	tsg_set_getnet(adm, &sbx, "uf", true);
}

/* The next n GetNet payments are made but their answers are lost (a reset
 * after processing); with notify false their notifications are lost too. */
static void lose_getnet_answers(int n, bool notify)
{
	char body[200];
	snprintf(body, sizeof(body),
		 "{\"service\":\"getnet\",\"route\":\"payment_credit\",\"kind\":\"reset\","
		 "\"process\":true,\"count\":%d}",
		 n);
	tsg_fault(&sbx, body);
	if (notify)
		return;
	snprintf(body, sizeof(body), "{\"service\":\"getnet\",\"kind\":\"drop\",\"count\":%d}", n);
	tsg_webhook_fault(&sbx, body);
}

/* GetNet's notification of a payment, as GetNet sends it, to ospayd; asserts 200. */
static void getnet_notify(const char *order_id, const char *payment_id)
{
	char path[512], out[512];
	snprintf(path, sizeof(path),
		 "/webhooks/getnet/%llu?payment_type=credit&order_id=%s&payment_id=%s"
		 "&status=APPROVED&seller_id=seller-uf",
		 (unsigned long long)srv.org_id, order_id, payment_id);
	cr_assert_eq(tsp_https(&srv, "GET", path, NULL, out, sizeof(out)), 200, "%s", out);
}

/* The customer's only charge, asserted to be the only one (free it). */
/* Polls (bounded, no timing asserted) until the customer's charge has status want;
 * resolve passes back off from 5 s, hence the longer hang guard. */
static void wait_status(uint64_t customer, int want)
{
	int st = 0;
	TSP_AWAIT_MS(2 * TSP_HANG_MS, (st = tso_only_charge_status(adm, customer)) == want,
		     "charge status %d, waiting for %d", st, want);
}

static int cancel_invoice(uint64_t inv, status_t *st)
{
	Ospay__V1__BillingCancelInvoiceRequest m = OSPAY__V1__BILLING_CANCEL_INVOICE_REQUEST__INIT;
	m.invoice_id = inv;
	return tsp_call(adm, "ospay.v1.Billing/CancelInvoice", &m.base, NULL, NULL, NULL, st);
}

static int charge_invoice(uint64_t inv, status_t *st)
{
	Ospay__V1__BillingChargeInvoiceRequest m = OSPAY__V1__BILLING_CHARGE_INVOICE_REQUEST__INIT;
	m.invoice_id = inv;
	return tsp_call(adm, "ospay.v1.Billing/ChargeInvoice", &m.base, NULL, NULL, NULL, st);
}

static int resolve_charge(uint64_t charge, int resolution, const char *reason,
			  Ospay__V1__BillingResolveChargeResponse **out, status_t *st)
{
	Ospay__V1__BillingResolveChargeRequest m = OSPAY__V1__BILLING_RESOLVE_CHARGE_REQUEST__INIT;
	m.charge_id = charge;
	m.resolution = resolution;
	m.reason = (char *)reason;
	return tsp_call(adm, "ospay.v1.Billing/ResolveCharge", &m.base,
			&ospay__v1__billing_resolve_charge_response__descriptor,
			(ProtobufCMessage **)out, NULL, st);
}

/* ospayd's count of charges left with an unsettled status (unknown, operator_review). */
#define UNSETTLED(status) tsp_metric(&srv, "ospay_billing_charges_unsettled{status=\"" status "\"}")

/* The refusal names the charge and says why. */
static void assert_names(const status_t *st, uint64_t charge, const char *why)
{
	char want[48];
	snprintf(want, sizeof(want), "charge %llu ", (unsigned long long)charge);
	cr_assert_not_null(strstr(st->message, want), "%s", st->message);
	cr_assert_not_null(strstr(st->message, why), "%s", st->message);
}

/* The id of the customer's one charge, asserting its status. */
static uint64_t charge_id(uint64_t customer, int status)
{
	Ospay__V1__BillingListChargesResponse *r;
	Ospay__V1__Charge *ch = tso_only_charge(adm, customer, &r);
	cr_assert_eq(ch->status, status);
	uint64_t id = ch->id;
	protobuf_c_message_free_unpacked(&r->base, NULL);
	return id;
}

Test(unknown_first, cielo_reset_after_processing_blocks_cancel_until_resolved_by_query)
{
	uint64_t inv, c = tso_invoiced_customer(adm, srv.unit_id, 1, 0, "2020-12-10", &inv, NULL);
	/* The sale is made, its answer lost; queries fail for now, so it stays
	 * unknown while the refusals are checked, however slow this machine is. */
	tsg_sale_fault(&sbx, "reset", true);
	tsg_fault(&sbx, "{\"service\":\"cielo\",\"route\":\"sale_query\",\"kind\":\"http500\"}");
	tso_run_now(adm);
	uint64_t id = charge_id(c, CHG(UNKNOWN));
	status_t st;
	cr_assert_eq(cancel_invoice(inv, &st), 9, "%s", st.message);
	assert_names(&st, id, "unknown outcome");
	cr_assert_eq(charge_invoice(inv, &st), 9, "%s", st.message);
	assert_names(&st, id, "unknown outcome");
	cr_assert_eq(tso_invoice_status(adm, inv), INV(OPEN));
	cr_assert_eq(UNSETTLED("unknown"), 1);
	/* No RunNow, no clock move: a resolve pass (backoff) asks Cielo and finds
	 * the sale approved. */
	tsg_faults_clear(&sbx);
	wait_status(c, CHG(APPROVED));
	cr_assert_eq(tso_invoice_status(adm, inv), INV(PAID));
	cr_assert_eq(cancel_invoice(inv, &st), 9, "%s", st.message);
	cr_assert_not_null(strstr(st.message, "paid"), "%s", st.message);
	tsc_sales_t s = tsc_sandbox_sales(&sbx, "00000000000000000001A1");
	cr_assert_eq(s.count, 1);
	cr_assert_eq(s.approved, 1);
	cr_assert_eq(UNSETTLED("unknown"), 0);
}

Test(unknown_first, getnet_unknown_waits_for_the_operator_and_is_never_suspended)
{
	use_getnet();
	status_t st;
	cr_assert_eq(tso_set_profile(adm, 2, &st), 0, "%s", st.message);
	uint64_t svc, inv,
		c = tso_invoiced_customer(adm, srv.unit_id, 2, 0, "2020-12-10", &inv, &svc);
	/* GetNet processes the payment, the answer is lost, and so is its notification. */
	lose_getnet_answers(1, false);
	tso_run_now(adm);
	uint64_t id = charge_id(c, CHG(OPERATOR_REVIEW));
	/* Listed by its status, counted on /metrics. */
	Ospay__V1__BillingListChargesRequest lq = OSPAY__V1__BILLING_LIST_CHARGES_REQUEST__INIT;
	lq.status = CHG(OPERATOR_REVIEW);
	Ospay__V1__BillingListChargesResponse *r =
		tsp_call_ok(adm, "ospay.v1.Billing/ListCharges", &lq.base,
			    &ospay__v1__billing_list_charges_response__descriptor);
	cr_assert_eq(r->n_charges, 1);
	cr_assert_eq(r->charges[0]->id, id);
	protobuf_c_message_free_unpacked(&r->base, NULL);
	cr_assert_eq(UNSETTLED("operator_review"), 1);
	cr_assert_eq(cancel_invoice(inv, &st), 9, "%s", st.message);
	assert_names(&st, id, "operator");
	/* Days pass: no second attempt, and past the profile's 2 days no block. */
	for (int d = 0; d < 3; d++) {
		tso_advance(adm, DAY_MS);
		tso_run_now(adm);
	}
	cr_assert_eq(tso_n_charges(adm, c), 1);
	cr_assert_eq(tso_service_status(adm, c, svc), SVC(ACTIVE));
	cr_assert_eq(tso_invoice_status(adm, inv), INV(OPEN));
	cr_assert_eq(tsc_sandbox_sales(&sbx, "00000000000000000001A1").count, 1);
	/* Bad resolutions are refused with the field named. */
	cr_assert_eq(resolve_charge(id, RES(APPROVED), "", NULL, &st), 3);
	cr_assert(tso_violation(&st, "reason"));
	cr_assert_eq(resolve_charge(id, 0, "seen at the portal", NULL, &st), 3);
	cr_assert(tso_violation(&st, "resolution"));
	/* The operator found it approved at GetNet's portal. */
	Ospay__V1__BillingResolveChargeResponse *rr = NULL;
	cr_assert_eq(resolve_charge(id, RES(APPROVED), "portal shows APPROVED, NSU 123", &rr, &st),
		     0, "%s", st.message);
	cr_assert_eq(rr->charge->status, CHG(APPROVED));
	cr_assert_not_null(strstr(rr->charge->note, "portal shows APPROVED, NSU 123"), "%s",
			   rr->charge->note);
	cr_assert_neq(rr->charge->resolved_by, 0);
	cr_assert_eq(rr->invoice->status, INV(PAID));
	protobuf_c_message_free_unpacked(&rr->base, NULL);
	cr_assert_eq(tso_service_status(adm, c, svc), SVC(ACTIVE));
	/* Once only. */
	cr_assert_eq(resolve_charge(id, RES(DECLINED), "changed my mind", NULL, &st), 9, "%s",
		     st.message);
	cr_assert_eq(UNSETTLED("operator_review"), 0);
}

Test(unknown_first, getnet_unknown_is_settled_by_its_notification)
{
	use_getnet();
	uint64_t inv, c = tso_invoiced_customer(adm, srv.unit_id, 3, 0, "2020-12-10", &inv, NULL);
	/* The answer is lost; GetNet's notification (order id + payment id) is not. */
	lose_getnet_answers(1, true);
	tso_run_now(adm);
	wait_status(c, CHG(APPROVED));
	cr_assert_eq(tso_invoice_status(adm, inv), INV(PAID));
	tsc_sales_t s = tsc_sandbox_sales(&sbx, "00000000000000000001A1");
	cr_assert_eq(s.count, 1);
	cr_assert_eq(s.approved, 1);
}

Test(unknown_first, notification_of_an_approved_sale_for_a_canceled_invoice_voids_it)
{
	use_getnet();
	uint64_t inv, c = tso_invoiced_customer(adm, srv.unit_id, 4, 0, "2020-12-10", &inv, NULL);
	lose_getnet_answers(1, false);
	tso_run_now(adm);
	uint64_t id = charge_id(c, CHG(OPERATOR_REVIEW));
	/* The portal showed nothing yet: not charged; then the invoice is canceled. */
	status_t st;
	cr_assert_eq(
		resolve_charge(id, RES(NOT_CHARGED), "nothing at the portal at 12:05", NULL, &st),
		0, "%s", st.message);
	cr_assert_eq(cancel_invoice(inv, &st), 0, "%s", st.message);
	cr_assert_eq(tso_invoice_status(adm, inv), INV(CANCELED));
	/* GetNet's notification of that sale, as it would have come. */
	const char *moid = "00000000000000000001A1";
	tsc_sales_t s = tsc_sandbox_sales(&sbx, moid);
	const char *pid = s.payment_id;
	cr_assert_eq(s.approved, 1);
	getnet_notify(moid, pid);
	/* Re-queried, found approved for a canceled invoice: voided at GetNet. */
	wait_status(c, CHG(VOIDED));
	Ospay__V1__BillingListChargesResponse *r;
	Ospay__V1__Charge *ch = tso_only_charge(adm, c, &r);
	cr_assert_str_eq(ch->payment_id, pid);
	cr_assert_not_null(strstr(ch->note, "voided at the gateway"), "%s", ch->note);
	cr_assert_not_null(strstr(ch->note, "CANCELED"), "%s", ch->note);
	protobuf_c_message_free_unpacked(&r->base, NULL);
	cr_assert_eq(tso_invoice_status(adm, inv), INV(CANCELED));
	cr_assert_eq(tsp_metric(&srv, "ospay_billing_voids_total"), 1);
	/* GetNet canceled the payment (its own notification of the cancel says so). */
	char url[256], log[65536];
	snprintf(url, sizeof(url), "%s/control/webhooks?service=getnet", sbx.base);
	cr_assert_eq(tsp_http("GET", url, NULL, NULL, NULL, log, sizeof(log)), 200);
	char want[160];
	snprintf(want, sizeof(want), "payment_id=%s status=CANCELED", pid);
	cr_assert_not_null(strstr(log, want), "%s", log);
}

Test(unknown_first, a_notification_naming_another_payment_settles_nothing)
{
	use_getnet();
	/* A and B: both answers and both notifications lost; GetNet approved both. */
	uint64_t sa, a = tso_billed_customer(adm, srv.unit_id, 5, 0, true, &sa);
	tso_invoice(adm, a, sa, "2020-12-10");
	uint64_t sb, b = tso_billed_customer(adm, srv.unit_id, 6, 0, true, &sb);
	uint64_t inv_b = tso_invoice(adm, b, sb, "2020-12-10");
	lose_getnet_answers(2, false);
	tso_run_now(adm);
	cr_assert_eq(tso_only_charge_status(adm, a), CHG(OPERATOR_REVIEW));
	cr_assert_eq(tso_only_charge_status(adm, b), CHG(OPERATOR_REVIEW));
	/* A notification with B's order id but A's payment id (someone who knows
	 * the seller id): accepted as a hint and re-queried; GetNet's answer names
	 * A's order, so B is left as it is (and so is A: not its notification). */
	tsc_sales_t s = tsc_sandbox_sales(&sbx, "00000000000000000001A1");
	cr_assert_eq(s.approved, 1);
	long long before = tsp_metric(&srv, "ospay_webhook_requeries_total");
	getnet_notify("00000000000000000002A1", s.payment_id);
	TSP_AWAIT(tsp_metric(&srv, "ospay_webhook_requeries_total") > before,
		  "the notification was never re-queried");
	cr_assert_eq(tso_only_charge_status(adm, b), CHG(OPERATOR_REVIEW));
	cr_assert_eq(tso_only_charge_status(adm, a), CHG(OPERATOR_REVIEW));
	cr_assert_eq(tso_invoice_status(adm, inv_b), INV(OPEN));
	/* The operator settles B with the CLI, which answers in words. */
	Ospay__V1__BillingListChargesResponse *r = NULL;
	char id[24], out[8192];
	snprintf(id, sizeof(id), "%llu", (unsigned long long)tso_only_charge(adm, b, &r)->id);
	protobuf_c_message_free_unpacked(&r->base, NULL);
	cr_assert_eq(tso_cli(&srv, NULL, out, sizeof(out), "charges", "resolve", id,
			     "--not-charged", "--reason", "não consta no portal", NULL),
		     0, "%s", out);
	cr_assert_not_null(strstr(out, "não consta no portal"), "%s", out);
	cr_assert_null(strstr(out, "CHARGE_"), "a raw enum name:\n%s", out);
	cr_assert_null(strstr(out, "_ms"), "a raw field name:\n%s", out);
	cr_assert_neq(tso_only_charge_status(adm, b), CHG(OPERATOR_REVIEW), "resolved");
}

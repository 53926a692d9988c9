/*
 * Payment links on orders end to end: a real ospayd finalizing orders with
 * recurring credit through a real ospay-sandbox standing in for PagoLivre
 * (the link is created there, the SMS recorded), and the MANUAL mode that
 * needs no gateway.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ospay/v1/admin.pb-c.h"
#include "ospay/v1/gateway.pb-c.h"
#include "ospay/v1/orders.pb-c.h"
#include "ospay/v1/records.pb-c.h"
#include "server/db/db.h"
#include "server/rpc/srv.h"
#include "support/domain.h"
#include "support/enums.h"
#include "support/gateways.h"
#include "support/live.h"
#include "support/proc.h"
#include "support/suite.h"

static tsp_sandbox_t sbx;

#define TOKEN "pl-token-paylink"

static void after_up(void);
TSP_E2E_SUITE_THEN(paylink, fd, &sbx, NULL, 60, after_up);

static void after_up(void)
{
	tsg_pagolivre(fd, &sbx, srv.org_id, TOKEN);
}

static uint64_t order(uint32_t n)
{
	uint64_t c = tso_customer(fd, srv.unit_id, n, "São Paulo"), id = 0;
	status_t st;
	cr_assert_eq(tso_order(fd, c, 0, 0, 0, 0, &id, &st), 0, "order: %s", st.message);
	return id;
}

/* Is the PagoLivre object of key registered in the live store? */
static bool object_registered(const char *key)
{
	Ospay__V1__GatewayObjectRecord *o = tsl_object(&srv, SRV_SERVICE_PAGOLIVRE, key);
	if (o != NULL)
		ospay__v1__gateway_object_record__free_unpacked(o, NULL);
	return o != NULL;
}

Test(paylink, integrated_finalize_sends_the_link_and_leaves_the_order_pending)
{
	uint64_t pm =
		tso_payment_method(fd, "Crédito recorrente", T(RECURRING_CREDIT), M(INTEGRATED));
	uint64_t id = order(1);
	status_t st;
	Ospay__V1__Order *o = tso_finalize_ok(fd, id, pm, 0, 3);
	cr_assert_eq(o->status, OSPAY__V1__ORDER_STATUS__ORDER_STATUS_OPEN);
	cr_assert_eq(o->payment_status, PAY(PENDING));
	cr_assert_eq(o->payment->payment_method_id, pm);
	cr_assert_eq(o->payment->method_type, T(RECURRING_CREDIT));
	cr_assert(o->payment->integrated);
	cr_assert_eq(o->payment->installments, 3);
	cr_assert_eq(o->payment->attempt, 1);
	char key[64];
	snprintf(key, sizeof(key), "os-%llu-1", (unsigned long long)id);
	cr_assert_str_eq(o->payment->order_key, key);
	cr_assert(strstr(o->payment->link_url, "/pagolivre/pay/") != NULL, "link %s",
		  o->payment->link_url);
	cr_assert_eq(o->payment->n_schedule, 3);
	for (size_t i = 0; i < 3; i++) {
		cr_assert_eq(o->payment->schedule[i]->number, i + 1);
		cr_assert_eq(o->payment->schedule[i]->status, IST(WAITING));
		cr_assert_eq(o->payment->schedule[i]->amount, 5000);
		cr_assert_eq(strlen(o->payment->schedule[i]->due_date), 10);
	}
	/* Monthly: the months of the due dates follow each other. */
	int m0 = atoi(o->payment->schedule[0]->due_date + 5);
	int m1 = atoi(o->payment->schedule[1]->due_date + 5);
	cr_assert_eq(m1, m0 % 12 + 1);
	char link[2100];
	snprintf(link, sizeof(link), "%s", o->payment->link_url);
	ospay__v1__order__free_unpacked(o, NULL);

	/* Orders/Get shows the pending payment and its link. */
	o = tso_get_order(fd, id);
	cr_assert_eq(o->payment_status, PAY(PENDING));
	cr_assert_str_eq(o->payment->link_url, link);
	cr_assert_eq(o->payment->n_schedule, 3);
	ospay__v1__order__free_unpacked(o, NULL);

	/* The customer got the link by SMS (recorded by the sandbox). */
	char url[300], out[65536];
	snprintf(url, sizeof(url), "%s/control/messages?service=pagolivre", sbx.base);
	cr_assert_eq(tsp_http("GET", url, NULL, NULL, NULL, out, sizeof(out)), 200);
	cr_assert(strstr(out, link) != NULL, "no SMS with the link: %s", out);
	/* Its webhooks are accepted: the provider object exists. */
	cr_assert(object_registered(key));

	/* A pending payment blocks another Finalize and Cancel. */
	cr_assert_eq(tso_finalize(fd, id, pm, 0, 3, NULL, &st), 9);
	cr_assert(strstr(st.message, "payment pending") != NULL, "%s", st.message);
}

Test(paylink, manual_mode_creates_installments_without_a_gateway)
{
	uint64_t pm = tso_payment_method(fd, "Recorrente manual", T(RECURRING_CREDIT), M(MANUAL));
	uint64_t id = order(2);
	Ospay__V1__Order *o = tso_finalize_ok(fd, id, pm, 0, 12);
	/* docs/spec.md 10.1: a MANUAL method closes the order; the installments come later. */
	cr_assert_eq(o->status, OSPAY__V1__ORDER_STATUS__ORDER_STATUS_CLOSED);
	cr_assert_eq(o->payment_status, PAY(PENDING));
	cr_assert(!o->payment->integrated);
	cr_assert_str_eq(o->payment->link_url, "");
	cr_assert_eq(o->payment->n_schedule, 12);
	int64_t sum = 0;
	for (size_t i = 0; i < 12; i++) {
		cr_assert_eq(o->payment->schedule[i]->status, IST(WAITING));
		sum += o->payment->schedule[i]->amount;
	}
	/* 15000 in 12: 1250 each, nothing left over. */
	cr_assert_eq(sum, 15000);
	ospay__v1__order__free_unpacked(o, NULL);
}

Test(paylink, a_failed_link_leaves_the_order_unchanged)
{
	uint64_t pm =
		tso_payment_method(fd, "Crédito recorrente", T(RECURRING_CREDIT), M(INTEGRATED));
	uint64_t id = order(3);
	tsg_fault(&sbx, "{\"service\":\"pagolivre\",\"route\":\"order_create\","
			"\"kind\":\"http500\",\"count\":1}");
	status_t st;
	cr_assert_eq(tso_finalize(fd, id, pm, 0, 3, NULL, &st), 14, "%s", st.message);
	cr_assert(strstr(st.message, "the order is unchanged") != NULL, "%s", st.message);
	Ospay__V1__Order *o = tso_get_order(fd, id);
	cr_assert_eq(o->status, OSPAY__V1__ORDER_STATUS__ORDER_STATUS_OPEN);
	cr_assert_neq(o->payment_status, PAY(PENDING));
	cr_assert_null(o->payment);
	ospay__v1__order__free_unpacked(o, NULL);
	/* The fault is gone: the next try makes the link. */
	o = tso_finalize_ok(fd, id, pm, 0, 3);
	cr_assert_eq(o->payment_status, PAY(PENDING));
	ospay__v1__order__free_unpacked(o, NULL);
}

Test(paylink, a_stored_non_integrated_method_closes_the_order)
{
	uint64_t pm = tso_payment_method(fd, "Pix", T(PIX), M(UNSPECIFIED));
	uint64_t id = order(4);
	status_t st;
	Ospay__V1__Order *o = tso_finalize_ok(fd, id, pm, 0, 0);
	cr_assert_eq(o->status, OSPAY__V1__ORDER_STATUS__ORDER_STATUS_CLOSED);
	cr_assert_eq(o->payment->payment_method_id, pm);
	cr_assert_eq(o->payment->method_type, T(PIX));
	cr_assert_eq(o->payment_status, PAY(PAID), "a manual PIX is paid at once");
	ospay__v1__order__free_unpacked(o, NULL);
	/* A method of no organization of the caller's is unknown. */
	cr_assert_eq(tso_finalize(fd, order(5), pm + 100, 0, 0, NULL, &st), 5);
}

/* ------------------------------------------------------------------ webhook-driven outcomes */

/* An integrated order finalized with n installments; its link key in key. */
static uint64_t linked_order(uint32_t cust, uint32_t n, char key[64])
{
	uint64_t pm =
		tso_payment_method(fd, "Crédito recorrente", T(RECURRING_CREDIT), M(INTEGRATED));
	uint64_t id = order(cust);
	Ospay__V1__Order *o = tso_finalize_ok(fd, id, pm, 0, n);
	snprintf(key, 64, "%s", o->payment->order_key);
	ospay__v1__order__free_unpacked(o, NULL);
	return id;
}

/* Waits (a hang guard) until the order's payment status is want and, when n > 0,
 * installment n has status inst; returns the order (caller frees) or NULL. */
static Ospay__V1__Order *wait_order(uint64_t id, int want, uint32_t n, int inst)
{
	tsp_poll_t p = tsp_poll_start(TSP_HANG_MS);
	do {
		Ospay__V1__Order *o = tso_get_order(fd, id);
		if ((int)o->payment_status == want &&
		    (n == 0 || (o->payment != NULL && n <= o->payment->n_schedule &&
				(int)o->payment->schedule[n - 1]->status == inst)))
			return o;
		ospay__v1__order__free_unpacked(o, NULL);
	} while (tsp_poll_next(&p));
	return NULL;
}

Test(paylink, a_paid_link_closes_the_order)
{
	char key[64];
	uint64_t id = linked_order(11, 3, key);
	cr_assert_eq(tsg_pagolivre_control(&sbx, "pay", key, NULL), 200);
	Ospay__V1__Order *o = wait_order(id, PAY(PAID), 1, IST(CONFIRMED));
	cr_assert_not_null(o, "the order should be PAID with installment 1 confirmed");
	cr_assert_eq(o->status, OSPAY__V1__ORDER_STATUS__ORDER_STATUS_CLOSED);
	cr_assert_eq(o->payment->schedule[1]->status, IST(WAITING));
	const Ospay__V1__OrderStatusChange *h = o->history[o->n_history - 1];
	cr_assert_eq(h->to, OSPAY__V1__ORDER_STATUS__ORDER_STATUS_CLOSED);
	cr_assert_eq(h->by_token_id, 0);
	cr_assert(strstr(h->note, "PagoLivre") != NULL);
	ospay__v1__order__free_unpacked(o, NULL);
}

Test(paylink, a_failed_first_payment_shows_the_reason)
{
	char key[64];
	uint64_t id = linked_order(12, 3, key);
	cr_assert_eq(tsg_pagolivre_control(
			     &sbx, "pay", key,
			     "{\"outcome\":\"declined\",\"reason\":\"Saldo insuficiente\"}"),
		     200);
	Ospay__V1__Order *o = wait_order(id, PAY(ERROR), 0, 0);
	cr_assert_not_null(o, "the order should show the payment ERROR");
	cr_assert_eq(o->status, OSPAY__V1__ORDER_STATUS__ORDER_STATUS_OPEN);
	cr_assert(strstr(o->payment->error_message, "Saldo insuficiente") != NULL, "reason: %s",
		  o->payment->error_message);
	ospay__v1__order__free_unpacked(o, NULL);
}

Test(paylink, twelve_installments_some_denied_with_duplicated_and_reordered_webhooks)
{
	char key[64];
	uint64_t id = linked_order(13, 12, key);
	cr_assert_eq(tsg_pagolivre_control(&sbx, "pay", key, NULL), 200);
	Ospay__V1__Order *o = wait_order(id, PAY(PAID), 1, IST(CONFIRMED));
	cr_assert_not_null(o);
	ospay__v1__order__free_unpacked(o, NULL);
	/* Every notification twice, and batches of three delivered out of order. */
	tsg_webhook_fault(&sbx, "{\"service\":\"pagolivre\",\"kind\":\"duplicate\"}");
	tsg_webhook_fault(&sbx, "{\"service\":\"pagolivre\",\"kind\":\"reorder\",\"batch\":3}");
	/* Installments 2..12: 4, 7 and 12 denied. */
	for (uint32_t n = 2; n <= 12; n++) {
		bool deny = n == 4 || n == 7 || n == 12;
		cr_assert_eq(
			tsg_pagolivre_control(
				&sbx, "charge", key,
				deny ? "{\"outcome\":\"declined\",\"reason\":\"Cartão bloqueado\"}"
				     : "{\"outcome\":\"paid\"}"),
			200, "charge %u", n);
	}
	o = wait_order(id, PAY(PAID), 12, IST(DENIED));
	cr_assert_not_null(o, "installment 12 should be denied");
	ospay__v1__order__free_unpacked(o, NULL);
	/* The reordered batches all arrive: wait for each installment's final state. */
	for (uint32_t n = 2; n <= 12; n++) {
		bool deny = n == 4 || n == 7 || n == 12;
		o = wait_order(id, PAY(PAID), n, deny ? IST(DENIED) : IST(CONFIRMED));
		cr_assert_not_null(o, "installment %u", n);
		if (deny)
			cr_assert(strstr(o->payment->schedule[n - 1]->reason, "bloqueado") != NULL,
				  "reason %u: %s", n, o->payment->schedule[n - 1]->reason);
		cr_assert_eq(o->status, OSPAY__V1__ORDER_STATUS__ORDER_STATUS_CLOSED);
		ospay__v1__order__free_unpacked(o, NULL);
	}
	/* One CLOSED entry only, whatever the duplicates. */
	o = tso_get_order(fd, id);
	size_t closes = 0;
	for (size_t i = 0; i < o->n_history; i++)
		closes += o->history[i]->to == OSPAY__V1__ORDER_STATUS__ORDER_STATUS_CLOSED;
	cr_assert_eq(closes, 1);
	ospay__v1__order__free_unpacked(o, NULL);
}

/* ------------------------------------------------------------------ cancel attempt */

static int cancel_attempt(uint64_t id, Ospay__V1__Order **out, status_t *st)
{
	Ospay__V1__OrdersCancelPaymentAttemptRequest c =
		OSPAY__V1__ORDERS_CANCEL_PAYMENT_ATTEMPT_REQUEST__INIT;
	c.id = id;
	c.reason = "cliente desistiu";
	return tsp_call_take(fd, "ospay.v1.Orders/CancelPaymentAttempt", &c.base,
			     &ospay__v1__orders_cancel_payment_attempt_response__descriptor,
			     "order", (ProtobufCMessage **)out, st);
}

Test(paylink, a_canceled_attempt_returns_the_order_to_open_none)
{
	char key[64];
	uint64_t id = linked_order(21, 3, key);
	Ospay__V1__Order *o = NULL;
	status_t st;
	cr_assert_eq(cancel_attempt(id, &o, &st), 0, "cancel: %s", st.message);
	cr_assert_eq(o->status, OSPAY__V1__ORDER_STATUS__ORDER_STATUS_OPEN);
	cr_assert_eq(o->payment_status, PAY(NONE));
	cr_assert_null(o->closing, "the undone Finalize's closing goes with it");
	for (size_t i = 0; i < o->payment->n_schedule; i++)
		cr_assert_eq(o->payment->schedule[i]->status, IST(CANCELED));
	ospay__v1__order__free_unpacked(o, NULL);
	/* Canceled at PagoLivre too: paying the link is refused there. */
	cr_assert_eq(tsg_pagolivre_control(&sbx, "pay", key, NULL), 409);
	/* Nothing left to cancel; a new attempt gets a new key. */
	cr_assert_eq(cancel_attempt(id, NULL, &st), 9, "%s", st.message);
	uint64_t pm =
		tso_payment_method(fd, "Crédito recorrente", T(RECURRING_CREDIT), M(INTEGRATED));
	o = tso_finalize_ok(fd, id, pm, 0, 2);
	char key2[64];
	snprintf(key2, sizeof(key2), "os-%llu-2", (unsigned long long)id);
	cr_assert_str_eq(o->payment->order_key, key2);
	cr_assert_eq(o->payment_status, PAY(PENDING));
	ospay__v1__order__free_unpacked(o, NULL);
	/* The first link's late cancel notification does not touch the new attempt:
	 * once ospayd has re-queried it (the only event of this test), nothing changed. */
	TSP_AWAIT(tsp_metric(&srv, "ospay_webhook_requeries_total") >= 1,
		  "the cancel notification was never re-queried");
	o = tso_get_order(fd, id);
	cr_assert_eq(o->payment_status, PAY(PENDING));
	cr_assert_str_eq(o->payment->order_key, key2);
	ospay__v1__order__free_unpacked(o, NULL);
}

Test(paylink, a_manual_schedule_has_no_attempt_a_failed_link_cancels_locally)
{
	uint64_t pm = tso_payment_method(fd, "Recorrente manual", T(RECURRING_CREDIT), M(MANUAL));
	uint64_t id = order(22);
	Ospay__V1__Order *o = NULL;
	status_t st;
	cr_assert_eq(tso_finalize(fd, id, pm, 0, 4, NULL, &st), 0, "%s", st.message);
	/* A MANUAL schedule closes the order (docs/spec.md 10.1): no attempt is left to cancel;
	 * unpaid installments are recorded CANCELED (installments_test.c). */
	cr_assert_eq(cancel_attempt(id, &o, &st), 9, "%s", st.message);
	cr_assert(strstr(st.message, "only OPEN orders change") != NULL, "%s", st.message);

	char key[64];
	id = linked_order(23, 3, key);
	cr_assert_eq(tsg_pagolivre_control(&sbx, "pay", key,
					   "{\"outcome\":\"declined\",\"reason\":\"Recusado\"}"),
		     200);
	o = wait_order(id, PAY(ERROR), 0, 0);
	cr_assert_not_null(o);
	ospay__v1__order__free_unpacked(o, NULL);
	cr_assert_eq(cancel_attempt(id, &o, &st), 0, "%s", st.message);
	cr_assert_eq(o->payment_status, PAY(NONE));
	ospay__v1__order__free_unpacked(o, NULL);
}

/* ------------------------------------------------------------------ refresh */

static int refresh(uint64_t id, Ospay__V1__Order **out, status_t *st)
{
	Ospay__V1__OrdersRefreshPaymentRequest q = OSPAY__V1__ORDERS_REFRESH_PAYMENT_REQUEST__INIT;
	q.id = id;
	return tsp_call_take(fd, "ospay.v1.Orders/RefreshPayment", &q.base,
			     &ospay__v1__orders_refresh_payment_response__descriptor, "order",
			     (ProtobufCMessage **)out, st);
}

Test(paylink, refresh_learns_what_lost_webhooks_did_not_say)
{
	char key[64];
	uint64_t id = linked_order(31, 3, key);
	Ospay__V1__Order *o = NULL;
	status_t st;
	/* Still pending: a refresh answers the order as it is. */
	cr_assert_eq(refresh(id, &o, &st), 0, "%s", st.message);
	cr_assert_eq(o->payment_status, PAY(PENDING));
	ospay__v1__order__free_unpacked(o, NULL);
	/* Every notification lost from now on. */
	tsg_webhook_fault(&sbx, "{\"service\":\"pagolivre\",\"kind\":\"drop\"}");
	cr_assert_eq(tsg_pagolivre_control(&sbx, "pay", key, NULL), 200);
	/* The sandbox drops the notification as it makes it: none can come later. */
	cr_assert_eq(tsg_webhooks_logged(&sbx, "pagolivre", key, "drop"), 1);
	o = tso_get_order(fd, id);
	cr_assert_eq(o->payment_status, PAY(PENDING), "no webhook: nothing known yet");
	ospay__v1__order__free_unpacked(o, NULL);
	cr_assert_eq(refresh(id, &o, &st), 0, "%s", st.message);
	cr_assert_eq(o->payment_status, PAY(PAID));
	cr_assert_eq(o->status, OSPAY__V1__ORDER_STATUS__ORDER_STATUS_CLOSED);
	cr_assert_eq(o->payment->schedule[0]->status, IST(CONFIRMED));
	ospay__v1__order__free_unpacked(o, NULL);
	/* A CLOSED order is refreshed too: its monthly installments go on. */
	cr_assert_eq(tsg_pagolivre_control(&sbx, "charge", key,
					   "{\"outcome\":\"declined\",\"reason\":\"Sem limite\"}"),
		     200);
	cr_assert_eq(refresh(id, &o, &st), 0, "%s", st.message);
	cr_assert_eq(o->payment->schedule[1]->status, IST(DENIED));
	cr_assert(strstr(o->payment->schedule[1]->reason, "Sem limite") != NULL, "%s",
		  o->payment->schedule[1]->reason);
	cr_assert_eq(o->payment->schedule[2]->status, IST(WAITING));
	ospay__v1__order__free_unpacked(o, NULL);
	/* Refreshing again changes nothing. */
	cr_assert_eq(refresh(id, &o, &st), 0, "%s", st.message);
	cr_assert_eq(o->payment->schedule[1]->status, IST(DENIED));
	size_t closes = 0;
	for (size_t i = 0; i < o->n_history; i++)
		closes += o->history[i]->to == OSPAY__V1__ORDER_STATUS__ORDER_STATUS_CLOSED;
	cr_assert_eq(closes, 1);
	ospay__v1__order__free_unpacked(o, NULL);
	/* An order without a link has nothing to refresh. */
	cr_assert_eq(refresh(order(32), NULL, &st), 9);
	cr_assert(strstr(st.message, "no payment link") != NULL, "%s", st.message);
}

/* ------------------------------------------------------------------ CLI */

static char cli_out[65536];

/* Runs ospay with the arguments (NULL-terminated), stderr folded into cli_out. */
#define ospay(...) tso_cli(&srv, NULL, cli_out, sizeof(cli_out), __VA_ARGS__)

#define HAS(s) cr_assert(strstr(cli_out, (s)) != NULL, "missing \"%s\" in:\n%s", (s), cli_out)

Test(paylink, cli_finalize_refresh_and_cancel_payment)
{
	uint64_t pm =
		tso_payment_method(fd, "Crédito recorrente", T(RECURRING_CREDIT), M(INTEGRATED));
	uint64_t id = order(41);
	char ids[24], pms[24], key[64];
	snprintf(ids, sizeof(ids), "%llu", (unsigned long long)id);
	snprintf(pms, sizeof(pms), "%llu", (unsigned long long)pm);
	snprintf(key, sizeof(key), "os-%llu-1", (unsigned long long)id);
	cr_assert_eq(ospay("orders", "finalize", ids, "--payment-method", pms, "--installments",
			   "3", NULL),
		     0, "%s", cli_out);
	HAS("pending");
	HAS("/pagolivre/pay/");
	HAS("installments");
	HAS("waiting");
	cr_assert_eq(ospay("orders", "refresh-payment", ids, NULL), 0, "%s", cli_out);
	HAS("pending");
	cr_assert_eq(ospay("orders", "cancel-payment", ids, "--reason", "desistiu", NULL), 0, "%s",
		     cli_out);
	HAS("none");
	HAS("canceled");
	cr_assert_eq(ospay("orders", "refresh-payment", ids, NULL), 0, "%s", cli_out);
	cr_assert_neq(ospay("orders", "cancel-payment", ids, NULL), 0);
	HAS("no payment attempt to cancel");
}

Test(paylink, a_lost_create_answer_is_recovered_by_the_order_key)
{
	uint64_t pm =
		tso_payment_method(fd, "Crédito recorrente", T(RECURRING_CREDIT), M(INTEGRATED));
	uint64_t id = order(51);
	/* The link is made at PagoLivre but its answer arrives garbled. */
	tsg_fault(&sbx, "{\"service\":\"pagolivre\",\"route\":\"order_create\","
			"\"kind\":\"malformed\",\"count\":1}");
	Ospay__V1__Order *o = tso_finalize_ok(fd, id, pm, 0, 2);
	cr_assert_eq(o->payment_status, PAY(PENDING));
	cr_assert(strstr(o->payment->link_url, "/pagolivre/pay/") != NULL, "%s",
		  o->payment->link_url);
	cr_assert_neq(o->payment->link_id[0], '\0');
	char key[64];
	snprintf(key, sizeof(key), "%s", o->payment->order_key);
	ospay__v1__order__free_unpacked(o, NULL);
	/* It is the one link: paying it closes the order. */
	cr_assert_eq(tsg_pagolivre_control(&sbx, "pay", key, NULL), 200);
	o = wait_order(id, PAY(PAID), 1, IST(CONFIRMED));
	cr_assert_not_null(o);
	ospay__v1__order__free_unpacked(o, NULL);
}

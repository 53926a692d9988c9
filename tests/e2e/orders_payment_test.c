/*
 * Orders/Finalize with non-integrated methods (docs/spec.md 4.4, 10.1) end to end,
 * against a real ospayd: every such method closes the order at once; cash,
 * PIX and card (paid at once) set payment_status PAID, a boleto leaves it
 * NONE, and a MANUAL recurring credit closes with a schedule of WAITING
 * installments and payment_status PENDING until Billing/RecordInstallment
 * records the first one. Orders/List's payment-status filter (an index
 * written with the order) finds each where it belongs.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "ospay/v1/admin.pb-c.h"
#include "ospay/v1/billing.pb-c.h"
#include "ospay/v1/installments.pb-c.h"
#include "ospay/v1/orders.pb-c.h"
#include "support/domain.h"
#include "support/enums.h"
#include "support/proc.h"
#include "support/suite.h"

#define OST(x) OSPAY__V1__ORDER_STATUS__ORDER_STATUS_##x

/* Tuesday 2026-03-10, 12:00 local (UTC-03:00). */
TSP_E2E_SUITE(orders_payment, fd, NULL, "2026-03-10T15:00:00Z", 120);

/* ------------------------------------------------------------------ helpers */

/* A new order (15000 centavos) of a new customer made from n. */
static uint64_t new_order(uint32_t n)
{
	uint64_t c = tso_customer(fd, srv.unit_id, n, "São Paulo"), id = 0;
	status_t st;
	cr_assert_eq(tso_order(fd, c, 0, 0, 0, 0, &id, &st), 0, "order: %s", st.message);
	return id;
}

/* Orders/Finalize by stored method pm, or by bare type when pm is 0; asserts OK. */
static Ospay__V1__Order *finalize(uint64_t id, uint64_t pm, int type, uint32_t installments)
{
	Ospay__V1__Order *o = tso_finalize_ok(fd, id, pm, type, installments);
	return o;
}

/* Billing/RecordInstallment; asserts OK; the order after it. */
static Ospay__V1__Order *record(uint64_t id, uint32_t n, int status)
{
	Ospay__V1__BillingRecordInstallmentRequest m =
		OSPAY__V1__BILLING_RECORD_INSTALLMENT_REQUEST__INIT;
	m.order_id = id;
	m.number = n;
	m.status = status;
	Ospay__V1__Order *o = NULL;
	status_t st;
	cr_assert_eq(tsp_call_take(fd, "ospay.v1.Billing/RecordInstallment", &m.base,
				   &ospay__v1__billing_record_installment_response__descriptor,
				   "order", (ProtobufCMessage **)&o, &st),
		     0, "record: %s", st.message);
	return o;
}

/* Is order id in Orders/List filtered by payment status pay (and status, 0 = any)? */
static bool listed(uint64_t id, int pay, int status)
{
	Ospay__V1__OrdersListRequest m = OSPAY__V1__ORDERS_LIST_REQUEST__INIT;
	m.payment_status = pay;
	m.status = status;
	m.page_size = 1000;
	Ospay__V1__OrdersListResponse *r = tsp_call_ok(
		fd, "ospay.v1.Orders/List", &m.base, &ospay__v1__orders_list_response__descriptor);
	cr_assert_str_empty(r->next_page_token, "one page holds every order of the test");
	bool seen = false;
	for (size_t i = 0; i < r->n_orders; i++) {
		cr_assert_eq(r->orders[i]->payment_status, pay, "the filter is kept");
		seen |= r->orders[i]->id == id;
	}
	protobuf_c_message_free_unpacked(&r->base, NULL);
	return seen;
}

/* ------------------------------------------------------------------ tests */

Test(orders_payment, manual_recurring_credit_closes_with_waiting_installments)
{
	uint64_t pm = tso_payment_method(fd, "Carnê", T(RECURRING_CREDIT), M(MANUAL));
	uint64_t id = new_order(1);
	Ospay__V1__Order *o = finalize(id, pm, 0, 3);
	cr_assert_eq(o->status, OST(CLOSED));
	cr_assert_eq(o->payment_status, PAY(PENDING));
	cr_assert_eq(o->history[o->n_history - 1]->to, OST(CLOSED));
	cr_assert_not(o->payment->integrated);
	cr_assert_eq(o->payment->n_schedule, 3);
	const char *due[] = {"2026-03-10", "2026-04-10", "2026-05-10"};
	for (size_t i = 0; i < 3; i++) {
		cr_assert_eq(o->payment->schedule[i]->status, IST(WAITING));
		cr_assert_eq(o->payment->schedule[i]->amount, 5000);
		cr_assert_str_eq(o->payment->schedule[i]->due_date, due[i]);
	}
	ospay__v1__order__free_unpacked(o, NULL);
	cr_assert(listed(id, PAY(PENDING), 0));
	cr_assert(listed(id, PAY(PENDING), OST(CLOSED)));
	cr_assert_not(listed(id, PAY(PENDING), OST(OPEN)));

	/* The first installment in: paid (as the integrated flow, docs/spec.md 4.6). */
	o = record(id, 1, IST(CONFIRMED));
	cr_assert_eq(o->status, OST(CLOSED));
	cr_assert_eq(o->payment_status, PAY(PAID));
	cr_assert_eq(o->payment->schedule[0]->status, IST(CONFIRMED));
	cr_assert_eq(o->payment->schedule[1]->status, IST(WAITING));
	ospay__v1__order__free_unpacked(o, NULL);
	cr_assert(listed(id, PAY(PAID), 0));
	cr_assert_not(listed(id, PAY(PENDING), 0));
	/* Every installment confirmed: still paid, nothing else moves. */
	ospay__v1__order__free_unpacked(record(id, 2, IST(CONFIRMED)), NULL);
	o = record(id, 3, IST(CONFIRMED));
	cr_assert_eq(o->payment_status, PAY(PAID));
	for (size_t i = 0; i < 3; i++)
		cr_assert_eq(o->payment->schedule[i]->status, IST(CONFIRMED));
	ospay__v1__order__free_unpacked(o, NULL);

	/* A denied first installment on a closed order: payment error, still listed. */
	uint64_t id2 = new_order(2);
	ospay__v1__order__free_unpacked(finalize(id2, pm, 0, 2), NULL);
	Ospay__V1__BillingRecordInstallmentRequest m =
		OSPAY__V1__BILLING_RECORD_INSTALLMENT_REQUEST__INIT;
	m.order_id = id2;
	m.number = 1;
	m.status = IST(DENIED);
	m.reason = "Sem limite";
	tsp_call_ok(fd, "ospay.v1.Billing/RecordInstallment", &m.base, NULL);
	cr_assert(listed(id2, PAY(ERROR), OST(CLOSED)));
	cr_assert_not(listed(id2, PAY(PENDING), 0));
}

Test(orders_payment, cash_pix_and_card_close_paid_boleto_closes_unpaid)
{
	uint64_t cash = new_order(11);
	Ospay__V1__Order *o = finalize(cash, 0, T(CASH), 0);
	cr_assert_eq(o->status, OST(CLOSED));
	cr_assert_eq(o->payment_status, PAY(PAID));
	ospay__v1__order__free_unpacked(o, NULL);
	cr_assert(listed(cash, PAY(PAID), 0));
	cr_assert(listed(cash, PAY(PAID), OST(CLOSED)));
	cr_assert_not(listed(cash, PAY(NONE), 0));

	/* A stored cash method and a stored (manual) PIX method. */
	uint64_t pm_cash = tso_payment_method(fd, "Dinheiro", T(CASH), M(UNSPECIFIED));
	uint64_t pm_pix = tso_payment_method(fd, "Pix", T(PIX), M(UNSPECIFIED));
	uint64_t by_cash = new_order(12), by_pix = new_order(13), by_card = new_order(14);
	o = finalize(by_cash, pm_cash, 0, 0);
	cr_assert_eq(o->payment_status, PAY(PAID));
	ospay__v1__order__free_unpacked(o, NULL);
	o = finalize(by_pix, pm_pix, 0, 1);
	cr_assert_eq(o->status, OST(CLOSED));
	cr_assert_eq(o->payment_status, PAY(PAID));
	ospay__v1__order__free_unpacked(o, NULL);
	o = finalize(by_card, 0, T(CARD), 0);
	cr_assert_eq(o->status, OST(CLOSED));
	cr_assert_eq(o->payment_status, PAY(PAID));
	ospay__v1__order__free_unpacked(o, NULL);
	cr_assert(listed(by_pix, PAY(PAID), 0));
	cr_assert(listed(by_card, PAY(PAID), 0));

	/* A boleto is paid later, at a bank ospay does not hear from: closed, NONE. */
	uint64_t boleto = new_order(15);
	o = finalize(boleto, 0, T(BOLETO), 0);
	cr_assert_eq(o->status, OST(CLOSED));
	cr_assert_eq(o->payment_status, PAY(NONE));
	cr_assert_eq(o->payment->n_schedule, 0);
	ospay__v1__order__free_unpacked(o, NULL);
	cr_assert(listed(boleto, PAY(NONE), OST(CLOSED)));
	cr_assert_not(listed(boleto, PAY(PAID), 0));

	/* What Get answers is what List saw. */
	o = tso_get_order(fd, cash);
	cr_assert_eq(o->payment_status, PAY(PAID));
	ospay__v1__order__free_unpacked(o, NULL);
}

/*
 * The stored-credential chain end to end (issue 16, docs/cards.md): a real
 * ospayd on the test clock charging at a real ospay-sandbox, whose charge
 * records say what each request carried (CardOnFile usage, initiator
 * indicator, the network transaction id sent back) and whose fault mode
 * denies a later charge that does not send the first one's id back. The
 * holder rules at Cards/Add; a card billed monthly for a year, across a
 * restart and a master-key rotation; Mastercard's indicator; GetNet's
 * RECURRING then RECURRING_PAYMENT with transaction_id.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>

#include "ospay/v1/billing.pb-c.h"
#include "ospay/v1/cards.pb-c.h"
#include "support/cards.h"
#include "support/domain.h"
#include "support/enums.h"
#include "support/gateways.h"
#include "support/proc.h"
#include "support/cielo_suite.h"

TSP_CIELO_SUITE(card_on_file, "2020-12-10T15:00:00Z", 300, "cof", true);

/* ---------------------------------------------------------------- helpers */

/* Cards/List of customer, which has one card (asserted). */
static Ospay__V1__CardsListResponse *cards_of(uint64_t customer)
{
	Ospay__V1__CardsListResponse *r = tso_cards(adm, customer);
	cr_assert_eq(r->n_cards, 1);
	return r;
}

/* Cards/Add with holder; the status code, the card in *out (may be NULL) when OK. */
static int add_card(uint64_t customer, const char *number, const char *holder,
		    Ospay__V1__CardsAddResponse **out, status_t *st)
{
	Ospay__V1__CardsAddRequest m = OSPAY__V1__CARDS_ADD_REQUEST__INIT;
	m.customer_id = customer;
	m.number = (char *)number;
	m.holder = (char *)holder;
	m.expiry = "12/2030";
	m.security_code = "123";
	return tsp_call(adm, "ospay.v1.Cards/Add", &m.base,
			&ospay__v1__cards_add_response__descriptor, (ProtobufCMessage **)out, NULL,
			st);
}

static void moid_of(uint64_t inv, char kind, int n, char out[32])
{
	snprintf(out, 32, "%020llu%c%d", (unsigned long long)inv, kind, n);
}

/* An invoice of svc due on due, the run, the invoice PAID (asserted); *w what
 * the sandbox received for its first attempt. The invoice. */
static uint64_t bill_paid(uint64_t c, uint64_t svc, const char *due, tsc_wire_t *w)
{
	char moid[32];
	uint64_t inv = tso_invoice(adm, c, svc, due);
	tso_run_now(adm);
	cr_assert_eq(tso_invoice_status(adm, inv), INV(PAID));
	moid_of(inv, 'A', 1, moid);
	tsc_sandbox_wire(&sbx, moid, w);
	return inv;
}

/* The charges of customer, the last one returned in *last (asserted non-empty). */
static Ospay__V1__BillingListChargesResponse *charges_last(uint64_t customer,
							   Ospay__V1__Charge **last)
{
	Ospay__V1__BillingListChargesResponse *r = tso_charges(adm, customer, 0);
	cr_assert_gt(r->n_charges, 0);
	*last = r->charges[r->n_charges - 1];
	return r;
}

/* ---------------------------------------------------------------- Cards/Add */

Test(card_on_file, holder_limits_at_add)
{
	uint64_t c = tso_customer(adm, srv.unit_id, 1, "São Paulo");
	char number[17];
	tso_visa_ending(0, number);
	status_t st;
	/* 26 characters: Cielo takes 25; refused, never cut. */
	cr_assert_eq(add_card(c, number, "MARIA APARECIDA DOS SANTOS", NULL, &st), 3, "%s",
		     st.message);
	cr_assert(tso_violation(&st, "holder"), "%s", st.message);
	/* A character Cielo cannot take. */
	cr_assert_eq(add_card(c, number, "MARIA 李", NULL, &st), 3, "%s", st.message);
	cr_assert(tso_violation(&st, "holder"));
	/* Accents and case: folded, and the reply says what Cielo got. */
	Ospay__V1__CardsAddResponse *r = NULL;
	cr_assert_eq(add_card(c, number, "José da Conceição", &r, &st), 0, "%s", st.message);
	cr_assert_str_eq(r->card->holder, "José da Conceição");
	cr_assert_str_eq(r->card->holder_sent, "JOSE DA CONCEICAO");
	cr_assert_gt(r->card->consent_ms, 0);
	cr_assert_str_eq(r->card->network_txn_id, "");
	protobuf_c_message_free_unpacked(&r->base, NULL);
	Ospay__V1__CardsListResponse *l = cards_of(c);
	cr_assert_str_eq(l->cards[0]->holder_sent, "JOSE DA CONCEICAO");
	protobuf_c_message_free_unpacked(&l->base, NULL);
}

/* ---------------------------------------------------------------- the chain */

/*
 * "Done when": a Visa card billed monthly for a year on the test clock. The
 * sandbox denies any later charge without the first one's network id, so
 * twelve approvals are themselves the proof; every request is also read back
 * as the sandbox received it. Half-way, ospayd restarts with a rotated key.
 */
Test(card_on_file, visa_billed_monthly_for_a_year)
{
	tsc_require_chain(&sbx);
	uint64_t svc, c = tso_billed_customer(adm, srv.unit_id, 2, 0, true, &svc);
	char ntid[64] = "";
	int y = 2020, m = 12;
	int64_t now = tso_at(2020, 12, 10, 12, 0);
	for (int month = 0; month < 12; month++) {
		char due[32], moid[32];
		snprintf(due, sizeof(due), "%04d-%02d-10", y, m);
		uint64_t inv = tso_invoice(adm, c, svc, due);
		/* Month 3: a "not now" decline (Visa category 2), retried the next day;
		 * month 7: a category 1 decline, never retried. */
		if (month == 3 || month == 7)
			tsg_cielo_decline(&sbx, month == 3 ? "51" : "14", NULL, 1, false);
		tso_run_now(adm);
		int attempt = 1;
		if (month == 3 || month == 7) {
			Ospay__V1__Charge *d;
			Ospay__V1__BillingListChargesResponse *dr = charges_last(c, &d);
			cr_assert_eq(d->status, CHG(DECLINED));
			cr_assert_str_eq(d->decline_class,
					 month == 3 ? "visa-category-2" : "visa-category-1");
			protobuf_c_message_free_unpacked(&dr->base, NULL);
			size_t before = tso_n_charges(adm, c);
			tso_advance(adm, DAY_MS);
			now += DAY_MS;
			tso_run_now(adm);
			if (month == 7) {
				/* No retry breaks the brand's rule. */
				cr_assert_eq(tso_n_charges(adm, c), before);
				cr_assert_eq(tso_invoice_status(adm, inv), INV(OPEN));
				goto next;
			}
			attempt = 2;
		}
		cr_assert_eq(tso_invoice_status(adm, inv), INV(PAID), "month %d", month);
		moid_of(inv, 'A', attempt, moid);
		tsc_wire_t w;
		tsc_sandbox_wire(&sbx, moid, &w);
		cr_assert(w.approved, "month %d: %s", month, w.code);
		cr_assert(w.recurrent);
		/* Visa: no initiator indicator, ever. */
		cr_assert_str_eq(w.initiator, "", "month %d", month);
		Ospay__V1__Charge *last;
		Ospay__V1__BillingListChargesResponse *cr = charges_last(c, &last);
		if (month == 0) {
			cr_assert_str_eq(w.usage, "First");
			cr_assert_str_eq(w.sent, "");
			cr_assert_neq(w.returned[0], '\0');
			snprintf(ntid, sizeof(ntid), "%s", w.returned);
			cr_assert(last->first_use);
			cr_assert_str_eq(last->network_txn_id, ntid);
		} else {
			cr_assert_str_eq(w.usage, "Used", "month %d", month);
			cr_assert_str_eq(w.sent, ntid, "month %d", month);
			cr_assert_not(last->first_use);
			cr_assert_str_eq(last->network_txn_id, ntid);
		}
		protobuf_c_message_free_unpacked(&cr->base, NULL);
	next:;
		Ospay__V1__CardsListResponse *l = cards_of(c);
		cr_assert_str_eq(l->cards[0]->network_txn_id, ntid);
		cr_assert_neq(l->cards[0]->network_txn_charge_id, 0);
		protobuf_c_message_free_unpacked(&l->base, NULL);
		/* The 10th of next month, 12:00 local. */
		int ny = m == 12 ? y + 1 : y, nm = m == 12 ? 1 : m + 1;
		int64_t then = tso_at(ny, nm, 10, 12, 0);
		if (month == 5)
			tsc_restart_rotated(&srv, &adm, then);
		else
			tso_advance(adm, then - now);
		now = then;
		y = ny;
		m = nm;
	}
}

Test(card_on_file, mastercard_carries_the_initiator_indicator)
{
	tsc_require_chain(&sbx);
	uint64_t c = tso_customer(adm, srv.unit_id, 4, "São Paulo");
	char number[17];
	tso_mastercard_ending(0, number);
	tso_card(adm, c, number);
	uint64_t svc = tso_service(adm, c, true);
	uint64_t inv = tso_invoice(adm, c, svc, "2020-12-10");
	tso_run_now(adm);
	char moid[32];
	moid_of(inv, 'A', 1, moid);
	tsc_wire_t w;
	tsc_sandbox_wire(&sbx, moid, &w);
	cr_assert(w.approved, "%s", w.code);
	cr_assert_str_eq(w.initiator, "C1/Subscription");
	cr_assert_str_eq(w.usage, "First");
	tso_advance(adm, tso_at(2021, 1, 10, 12, 0) - tso_at(2020, 12, 10, 12, 0));
	uint64_t inv2 = tso_invoice(adm, c, svc, "2021-01-10");
	tso_run_now(adm);
	moid_of(inv2, 'A', 1, moid);
	tsc_sandbox_wire(&sbx, moid, &w);
	cr_assert(w.approved, "%s", w.code);
	cr_assert_str_eq(w.initiator, "M1/Subscription");
	cr_assert_str_eq(w.usage, "Used");
	cr_assert_neq(w.sent[0], '\0');
}

Test(card_on_file, getnet_recurring_then_recurring_payment)
{
	tsc_require_chain(&sbx);
	/* GetNet charges: Cielo's automatic recurrence off, GetNet's on. */
	tsg_set_cielo(adm, &sbx, "cof", false);
	tsg_register_getnet(&sbx, srv.org_id, "cofg");
	tsg_set_getnet(adm, &sbx, "cofg", true);
	uint64_t svc, c = tso_billed_customer(adm, srv.unit_id, 5, 0, true, &svc);
	tsc_wire_t w;
	bill_paid(c, svc, "2020-12-10", &w);
	cr_assert_str_eq(w.usage, "RECURRING");
	cr_assert_str_eq(w.sent, "");
	char ntid[64];
	snprintf(ntid, sizeof(ntid), "%s", w.returned);
	cr_assert_neq(ntid[0], '\0');
	tso_advance(adm, tso_at(2021, 1, 10, 12, 0) - tso_at(2020, 12, 10, 12, 0));
	bill_paid(c, svc, "2021-01-10", &w);
	cr_assert_str_eq(w.usage, "RECURRING_PAYMENT");
	cr_assert_str_eq(w.sent, ntid);
	Ospay__V1__CardsListResponse *l = cards_of(c);
	cr_assert_str_eq(l->cards[0]->network_txn_id, ntid);
	protobuf_c_message_free_unpacked(&l->base, NULL);
}

/*
 * Zero Auth (a gateway setting): Cards/Add validates the card, a refused one
 * is not stored, and the validation's network id opens the chain, so the
 * first billing charge is already "Used" and sends it back.
 */
Test(card_on_file, zero_auth_at_add_opens_the_chain)
{
	tsc_cielo_zero_auth(adm, &sbx, true);
	tsc_require_chain(&sbx);
	uint64_t c = tso_customer(adm, srv.unit_id, 6, "São Paulo");
	char number[17];
	status_t st;
	tso_visa_ending(5, number); /* the sandbox's 78 */
	cr_assert_eq(add_card(c, number, "ANA SOUZA", NULL, &st), 9, "%s", st.message);
	cr_assert(strstr(st.message, "Zero Auth") != NULL, "%s", st.message);
	cr_assert(strstr(st.message, "78") != NULL, "%s", st.message);
	Ospay__V1__CardsListResponse *none = tso_cards(adm, c);
	cr_assert_eq(none->n_cards, 0);
	protobuf_c_message_free_unpacked(&none->base, NULL);

	tso_visa_ending(0, number);
	Ospay__V1__CardsAddResponse *r = NULL;
	cr_assert_eq(add_card(c, number, "ANA SOUZA", &r, &st), 0, "%s", st.message);
	char ntid[64];
	snprintf(ntid, sizeof(ntid), "%s", r->card->network_txn_id);
	cr_assert_neq(ntid[0], '\0');
	protobuf_c_message_free_unpacked(&r->base, NULL);

	uint64_t svc = tso_service(adm, c, true);
	tsc_wire_t w;
	bill_paid(c, svc, "2020-12-10", &w);
	cr_assert_str_eq(w.usage, "Used");
	cr_assert_str_eq(w.sent, ntid);
}

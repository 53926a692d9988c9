/*
 * A service's chosen card (docs/spec.md 4.2, 4.7) end to end, against a real ospayd
 * and ospay-sandbox (Cielo): Customers/AddService and UpdateService accept
 * only a stored card of the service's own customer in
 * recurring_payment.card_id, answer a unit-scoped token the same for a card
 * that does not exist and another unit's card, and Cards/Remove moves the
 * services that chose the removed card back to the default card with a note
 * on the service, which the billing run and the CLI then follow.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "ospay/v1/billing.pb-c.h"
#include "ospay/v1/cards.pb-c.h"
#include "ospay/v1/customers.pb-c.h"
#include "support/domain.h"
#include "support/enums.h"
#include "support/gateways.h"
#include "support/proc.h"
#include "support/records.h"
#include "support/cielo_suite.h"

#define FIELD "recurring_payment.card_id"

/* 12:00 local (UTC-03:00) on 2020-12-10. */
TSP_CIELO_SUITE(services_cards, "2020-12-10T15:00:00Z", 120, "svcc", true);

/* ------------------------------------------------------------------ helpers */

/* Customers/AddService on fd with recurring payment on card; *out the service when OK. */
static int add_service(int fd, uint64_t customer, uint64_t card, Ospay__V1__CustomerService **out,
		       status_t *st)
{
	Ospay__V1__RecurringPayment rp = OSPAY__V1__RECURRING_PAYMENT__INIT;
	rp.enabled = true;
	rp.card_id = card;
	Ospay__V1__CustomersAddServiceRequest a = OSPAY__V1__CUSTOMERS_ADD_SERVICE_REQUEST__INIT;
	a.customer_id = customer;
	a.plan_name = "Fibra 500";
	a.monthly_amount = 9990;
	a.recurring_payment = &rp;
	return tsp_call_take(fd, "ospay.v1.Customers/AddService", &a.base,
			     &ospay__v1__customers_add_service_response__descriptor, "service",
			     (ProtobufCMessage **)out, st);
}

/* Customers/UpdateService of recurring_payment (on, card) only. */
static int choose_card(int fd, uint64_t svc, uint64_t card, Ospay__V1__CustomerService **out,
		       status_t *st)
{
	Ospay__V1__RecurringPayment rp = OSPAY__V1__RECURRING_PAYMENT__INIT;
	rp.enabled = true;
	rp.card_id = card;
	Ospay__V1__CustomersUpdateServiceRequest u;
	tsr_service_rp(&u, svc, &rp);
	return tsp_call_take(fd, "ospay.v1.Customers/UpdateService", &u.base,
			     &ospay__v1__customers_update_service_response__descriptor, "service",
			     (ProtobufCMessage **)out, st);
}

/* The stored service svc of customer (Customers/ListServices); asserts it is there. */
static Ospay__V1__CustomerService *stored_service(uint64_t customer, uint64_t svc)
{
	Ospay__V1__CustomersListServicesResponse *r = tso_services(adm, customer);
	Ospay__V1__CustomerService *found = NULL;
	for (size_t i = 0; i < r->n_services; i++) {
		if (r->services[i]->id == svc) {
			found = r->services[i];
			r->services[i] = r->services[--r->n_services];
			break;
		}
	}
	protobuf_c_message_free_unpacked(&r->base, NULL);
	cr_assert_not_null(found, "service %llu not listed", (unsigned long long)svc);
	return found;
}

static void remove_card(uint64_t card)
{
	Ospay__V1__CardsRemoveRequest rm = OSPAY__V1__CARDS_REMOVE_REQUEST__INIT;
	rm.card_id = card;
	tsp_call_ok(adm, "ospay.v1.Cards/Remove", &rm.base, NULL);
}

/* st is INVALID_ARGUMENT with the violation on FIELD saying exactly want. */
static void assert_card_violation(const status_t *st, const char *want)
{
	cr_assert_eq(st->code, 3, "%d %s", st->code, st->message);
	bool seen = false;
	for (size_t i = 0; i < st->n_violations; i++) {
		if (strcmp(st->violations[i].field, FIELD) == 0) {
			seen = true;
			if (want != NULL)
				cr_assert_str_eq(st->violations[i].description, want);
		}
	}
	cr_assert(seen, "no violation on " FIELD ": %s", st->message);
}

static void expected_text(uint64_t card, uint64_t customer, char *out, size_t cap)
{
	snprintf(out, cap, "no card %llu among customer %llu's cards (0 = the default card)",
		 (unsigned long long)card, (unsigned long long)customer);
}

/* ------------------------------------------------------------------ tests */

Test(services_cards, add_and_update_take_only_the_customers_stored_cards)
{
	uint64_t svc, c = tso_billed_customer(adm, srv.unit_id, 1, 0, true, &svc);
	uint64_t own = tso_visa_card(adm, c, 4);
	uint64_t gone = tso_visa_card(adm, c, 6);
	remove_card(gone);
	uint64_t other_svc, other = tso_billed_customer(adm, srv.unit_id, 2, 0, true, &other_svc);
	uint64_t others_card = tso_visa_card(adm, other, 4);
	const uint64_t bad[] = {others_card + 1000, gone, others_card};
	const char *why[] = {"no such card", "a removed card", "another customer's card"};
	char want[200];
	status_t st;
	for (size_t i = 0; i < 3; i++) {
		expected_text(bad[i], c, want, sizeof(want));
		cr_assert_eq(add_service(adm, c, bad[i], NULL, &st), 3, "AddService, %s", why[i]);
		assert_card_violation(&st, want);
		cr_assert_eq(choose_card(adm, svc, bad[i], NULL, &st), 3, "UpdateService, %s",
			     why[i]);
		assert_card_violation(&st, want);
	}
	/* Nothing was stored by the refusals. */
	Ospay__V1__CustomerService *s = stored_service(c, svc);
	cr_assert_eq(s->recurring_payment->card_id, 0);
	ospay__v1__customer_service__free_unpacked(s, NULL);

	/* The customer's own card, and 0 (the default), are taken. */
	cr_assert_eq(add_service(adm, c, own, &s, &st), 0, "%s", st.message);
	cr_assert_eq(s->recurring_payment->card_id, own);
	ospay__v1__customer_service__free_unpacked(s, NULL);
	cr_assert_eq(choose_card(adm, svc, own, &s, &st), 0, "%s", st.message);
	cr_assert_eq(s->recurring_payment->card_id, own);
	ospay__v1__customer_service__free_unpacked(s, NULL);
	s = stored_service(c, svc);
	cr_assert_eq(s->recurring_payment->card_id, own);
	ospay__v1__customer_service__free_unpacked(s, NULL);
	cr_assert_eq(choose_card(adm, svc, 0, NULL, &st), 0, "%s", st.message);
	/* An update that leaves recurring_payment alone is not judged on it. */
	cr_assert_eq(choose_card(adm, other_svc, others_card, NULL, &st), 0, "%s", st.message);
}

Test(services_cards, a_unit_token_learns_nothing_of_other_units_cards)
{
	uint64_t unit_b = tso_unit(adm, "Zona Norte");
	uint64_t svc_b, cust_b = tso_billed_customer(adm, unit_b, 3, 0, true, &svc_b);
	uint64_t card_b = tso_visa_card(adm, cust_b, 4);
	uint64_t svc_a, cust_a = tso_billed_customer(adm, srv.unit_id, 4, 0, true, &svc_a);
	char secret[160];
	tso_token(adm, OSPAY__V1__ROLE__ROLE_OPERATOR, srv.unit_id, secret, sizeof(secret));
	int op = tsp_login(&srv, secret);
	/* Unit B's card and a card that never existed: the same answer, word for word
	 * but for the number the caller sent. */
	uint64_t nowhere = card_b + 1000;
	status_t st_b, st_none;
	char want_b[200], want_none[200];
	expected_text(card_b, cust_a, want_b, sizeof(want_b));
	expected_text(nowhere, cust_a, want_none, sizeof(want_none));
	cr_assert_eq(add_service(op, cust_a, card_b, NULL, &st_b), 3);
	cr_assert_eq(add_service(op, cust_a, nowhere, NULL, &st_none), 3);
	assert_card_violation(&st_b, want_b);
	assert_card_violation(&st_none, want_none);
	cr_assert_str_eq(st_b.message, st_none.message);
	cr_assert_eq(st_b.n_violations, st_none.n_violations);
	cr_assert_eq(choose_card(op, svc_a, card_b, NULL, &st_b), 3);
	cr_assert_eq(choose_card(op, svc_a, nowhere, NULL, &st_none), 3);
	assert_card_violation(&st_b, want_b);
	assert_card_violation(&st_none, want_none);
	cr_assert_str_eq(st_b.message, st_none.message);
	close(op);
}

Test(services_cards, removing_the_chosen_card_moves_the_service_to_the_default)
{
	/* Default card ending in 0 (approved at the sandbox), chosen card ending in 4. */
	uint64_t svc, c = tso_billed_customer(adm, srv.unit_id, 5, 0, true, &svc);
	uint64_t chosen = tso_visa_card(adm, c, 4);
	uint64_t plain_svc = tso_service(adm, c, true);
	status_t st;
	cr_assert_eq(choose_card(adm, svc, chosen, NULL, &st), 0, "%s", st.message);
	remove_card(chosen);

	Ospay__V1__CustomerService *s = stored_service(c, svc);
	cr_assert_eq(s->recurring_payment->card_id, 0);
	cr_assert(s->recurring_payment->enabled, "recurring payment stays on");
	cr_assert_not_null(s->card_fallback);
	cr_assert_eq(s->card_fallback->removed_card_id, chosen);
	cr_assert_eq(s->card_fallback->removed_ms, tso_at(2020, 12, 10, 12, 0));
	cr_assert(strstr(s->card_fallback->note,
			 ") was removed on 2020-12-10; the default card is charged") != NULL,
		  "%s", s->card_fallback->note);
	char head[40];
	snprintf(head, sizeof(head), "card %llu (Visa •••• ", (unsigned long long)chosen);
	cr_assert(strncmp(s->card_fallback->note, head, strlen(head)) == 0, "%s",
		  s->card_fallback->note);
	ospay__v1__customer_service__free_unpacked(s, NULL);
	/* A service that had not chosen it is untouched. */
	s = stored_service(c, plain_svc);
	cr_assert_null(s->card_fallback);
	ospay__v1__customer_service__free_unpacked(s, NULL);

	/* The CLI shows the note with the service. */
	char out[8192];
	char cid[24];
	snprintf(cid, sizeof(cid), "%llu", (unsigned long long)c);
	cr_assert_eq(tso_cli(&srv, NULL, out, sizeof(out), "customers", "services", cid, NULL), 0,
		     "%s", out);
	cr_assert(strstr(out, "NOTE") != NULL, "%s", out);
	cr_assert(strstr(out, "was removed on 2020-12-10; the default card is charged") != NULL,
		  "%s", out);

	/* The run charges the default card. */
	tso_invoice(adm, c, svc, "2020-12-10");
	tso_run_now(adm);
	tso_only_charge_approved_on(adm, c, 0, chosen);

	/* Choosing a card again clears the note. */
	uint64_t again = tso_visa_card(adm, c, 6);
	cr_assert_eq(choose_card(adm, svc, again, &s, &st), 0, "%s", st.message);
	cr_assert_null(s->card_fallback);
	ospay__v1__customer_service__free_unpacked(s, NULL);
}

Test(services_cards, removing_a_chosen_default_card_promotes_and_notes)
{
	uint64_t svc, c = tso_billed_customer(adm, srv.unit_id, 6, 4, true, &svc);
	Ospay__V1__CardsListRequest lq = OSPAY__V1__CARDS_LIST_REQUEST__INIT;
	lq.customer_id = c;
	Ospay__V1__CardsListResponse *cl = NULL;
	status_t st;
	cl = tsp_call_ok(adm, "ospay.v1.Cards/List", &lq.base,
			 &ospay__v1__cards_list_response__descriptor);
	cr_assert_eq(cl->n_cards, 1);
	uint64_t first = cl->cards[0]->id;
	protobuf_c_message_free_unpacked(&cl->base, NULL);
	uint64_t newest = tso_visa_card(adm, c, 0);
	cr_assert_eq(choose_card(adm, svc, first, NULL, &st), 0, "%s", st.message);
	remove_card(first); /* the default: the newest remaining card is promoted */

	Ospay__V1__CustomerService *s = stored_service(c, svc);
	cr_assert_eq(s->recurring_payment->card_id, 0);
	cr_assert_not_null(s->card_fallback);
	cr_assert_eq(s->card_fallback->removed_card_id, first);
	ospay__v1__customer_service__free_unpacked(s, NULL);
	tso_invoice(adm, c, svc, "2020-12-10");
	tso_run_now(adm);
	Ospay__V1__BillingListChargesResponse *r = tso_charges(adm, c, 0);
	cr_assert_eq(r->n_charges, 1);
	cr_assert_eq(r->charges[0]->card_id, newest);
	cr_assert_eq(r->charges[0]->status, CHG(APPROVED));
	protobuf_c_message_free_unpacked(&r->base, NULL);

	/* A card the service no longer chose: its note stays about the first one. */
	remove_card(newest);
	s = stored_service(c, svc);
	cr_assert_eq(s->card_fallback->removed_card_id, first);
	ospay__v1__customer_service__free_unpacked(s, NULL);
	/* The last card gone: the note says nothing is left to charge. */
	uint64_t only = tso_visa_card(adm, c, 0);
	cr_assert_eq(choose_card(adm, svc, only, NULL, &st), 0, "%s", st.message);
	remove_card(only);
	s = stored_service(c, svc);
	cr_assert_not_null(s->card_fallback);
	cr_assert(strstr(s->card_fallback->note, "the customer has no card left to charge") != NULL,
		  "%s", s->card_fallback->note);
	ospay__v1__customer_service__free_unpacked(s, NULL);
}

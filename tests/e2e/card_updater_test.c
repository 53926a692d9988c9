/*
 * The card updater end to end (issue 16 item 3, docs/cards.md "The card
 * updater"): a decline from the sandbox's Cielo that names the card's
 * replacement (Renova Fácil's NewCard, POST /control/cielo/decline with
 * "new_card") makes ospayd tokenize the new card, keep the old one as
 * REPLACED with why, move the services that chose it, and charge the invoice
 * once more on the new card; the replaced card keeps billing afterwards.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>

#include "ospay/v1/billing.pb-c.h"
#include "ospay/v1/cards.pb-c.h"
#include "ospay/v1/customers.pb-c.h"
#include "support/domain.h"
#include "support/enums.h"
#include "support/gateways.h"
#include "support/proc.h"
#include "support/records.h"
#include "support/cielo_suite.h"

TSP_CIELO_SUITE(card_updater, "2020-12-10T15:00:00Z", 120, "upd", true);

Test(card_updater, a_replaced_card_moves_its_services_and_keeps_billing)
{
	uint64_t c = tso_customer(adm, srv.unit_id, 1, "São Paulo");
	uint64_t old = tso_visa_card(adm, c, 0);
	uint64_t svc = tso_service(adm, c, true);
	uint64_t svc2 = tso_service(adm, c, true);
	tso_choose_card(adm, svc, old); /* one chose the card, the other charges the default */
	uint64_t inv = tso_invoice(adm, c, svc, "2020-12-10");

	/* The issuer says the card was replaced (expired, 54) and names the new one. */
	tsg_cielo_decline(&sbx, "54", NULL, 1, true);
	tso_run_now(adm);
	Ospay__V1__BillingListChargesResponse *r = tso_charges(adm, c, 0);
	cr_assert_eq(r->n_charges, 1);
	cr_assert_eq(r->charges[0]->status, CHG(DECLINED));
	cr_assert_eq(r->charges[0]->card_id, old);
	cr_assert(strstr(r->charges[0]->note, "Renova") != NULL, "%s", r->charges[0]->note);
	protobuf_c_message_free_unpacked(&r->base, NULL);

	Ospay__V1__CardsListResponse *l = tso_cards(adm, c);
	cr_assert_eq(l->n_cards, 2);
	Ospay__V1__Card *o = l->cards[0], *n = l->cards[1];
	cr_assert_eq(o->id, old);
	cr_assert_eq(o->status, OSPAY__V1__CARD_STATUS__CARD_STATUS_REPLACED);
	cr_assert_eq(o->replaced_by, n->id);
	cr_assert(strstr(o->replaced_reason, "Renova") != NULL, "%s", o->replaced_reason);
	cr_assert_not(o->is_default);
	cr_assert_eq(n->status, OSPAY__V1__CARD_STATUS__CARD_STATUS_ACTIVE);
	cr_assert_eq(n->replaces, old);
	cr_assert(n->is_default);
	cr_assert_str_eq(n->holder, o->holder);
	cr_assert_str_eq(n->last4 + 3, "0");
	cr_assert_neq(strcmp(n->last4, o->last4), 0);
	cr_assert_eq(n->exp_year, 2032);
	uint64_t fresh = n->id;
	protobuf_c_message_free_unpacked(&l->base, NULL);
	cr_assert_eq(tso_service_card(adm, c, svc), fresh);
	cr_assert_eq(tso_service_card(adm, c, svc2), 0);
	/* The replaced card cannot become the default again. */
	Ospay__V1__CardsSetDefaultRequest sd = OSPAY__V1__CARDS_SET_DEFAULT_REQUEST__INIT;
	sd.card_id = old;
	status_t st;
	cr_assert_eq(tsp_call(adm, "ospay.v1.Cards/SetDefault", &sd.base, NULL, NULL, NULL, &st), 9,
		     "%s", st.message);
	/* Nor a service's card: the run would pass it over and charge the default. */
	Ospay__V1__CustomersUpdateServiceRequest u;
	Ospay__V1__RecurringPayment rp = OSPAY__V1__RECURRING_PAYMENT__INIT;
	rp.enabled = true;
	rp.card_id = old;
	tsr_service_rp(&u, svc2, &rp);
	cr_assert_eq(
		tsp_call(adm, "ospay.v1.Customers/UpdateService", &u.base, NULL, NULL, NULL, &st),
		3, "%s", st.message);
	cr_assert(tso_violation(&st, "recurring_payment.card_id"));
	cr_assert(strstr(st.violations[0].description, "replaced by card") != NULL, "%s",
		  st.violations[0].description);
	cr_assert_eq(tso_service_card(adm, c, svc2), 0);

	/* The next day: the one retry, on the new card, though 54 is irreversible
	 * for the old one. */
	tso_advance(adm, DAY_MS);
	tso_run_now(adm);
	r = tso_charges(adm, c, 0);
	cr_assert_eq(r->n_charges, 2);
	cr_assert_eq(r->charges[1]->card_id, fresh);
	cr_assert_eq(r->charges[1]->status, CHG(APPROVED));
	protobuf_c_message_free_unpacked(&r->base, NULL);
	cr_assert_eq(tso_invoice_status(adm, inv), INV(PAID));

	/* A month later both services bill on the new card. */
	tso_advance(adm, tso_at(2021, 1, 10, 12, 0) - tso_at(2020, 12, 11, 12, 0));
	uint64_t a = tso_invoice(adm, c, svc, "2021-01-10");
	uint64_t b = tso_invoice(adm, c, svc2, "2021-01-10");
	tso_run_now(adm);
	cr_assert_eq(tso_invoice_status(adm, a), INV(PAID));
	cr_assert_eq(tso_invoice_status(adm, b), INV(PAID));
	r = tso_charges(adm, c, 0);
	cr_assert_eq(r->n_charges, 4);
	cr_assert_eq(r->charges[2]->card_id, fresh);
	cr_assert_eq(r->charges[3]->card_id, fresh);
	protobuf_c_message_free_unpacked(&r->base, NULL);
}

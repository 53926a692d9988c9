/*
 * A card's attempts as its network counts them (issue 16's last rules,
 * docs/cards.md "The card's fingerprint"), against a real ospayd on the test
 * clock and a real ospay-sandbox: the rolling 30 days are per card number,
 * not per stored card id, so removing and adding a card again keeps its count;
 * Zero Auths at Cards/Add are counted, declined ones too, and one the brand's
 * rules would refuse is refused without calling the gateway (the sandbox
 * counts the Zero Auth requests it receives through a latency fault's hits);
 * the fingerprint survives a restart with a rotated key. And a first charge
 * approved only through the gateway's notification opens the card's
 * stored-credential chain, so the next charge sends its id back.
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
#include "support/records.h"
#include "support/cielo_suite.h"
#include "support/wait.h"

/* 12:00 local (UTC-03:00). */
TSP_CIELO_SUITE(card_attempts, "2020-12-10T15:00:00Z", 300, "att", true);

#define REFUSED "ospay_billing_retries_refused_total"
#define FAILED_PRECONDITION 9

/* Cards/Add of number for customer; the status code, the card's id in *id. */
static int add(uint64_t customer, const char *number, uint64_t *id, status_t *st)
{
	Ospay__V1__CardsAddRequest m;
	Ospay__V1__CardsAddResponse *r = NULL;
	tsr_card(&m, customer, number);
	int code = tsp_call(adm, "ospay.v1.Cards/Add", &m.base,
			    &ospay__v1__cards_add_response__descriptor, (ProtobufCMessage **)&r,
			    NULL, st);
	if (id != NULL)
		*id = code == 0 ? r->card->id : 0;
	if (r != NULL)
		protobuf_c_message_free_unpacked(&r->base, NULL);
	return code;
}

static void card_remove(uint64_t card)
{
	Ospay__V1__CardsRemoveRequest m = OSPAY__V1__CARDS_REMOVE_REQUEST__INIT;
	status_t st;
	m.card_id = card;
	cr_assert_eq(tsp_call(adm, "ospay.v1.Cards/Remove", &m.base, NULL, NULL, NULL, &st), 0,
		     "%s", st.message);
}

static int charge_invoice(uint64_t inv, uint64_t card, status_t *st)
{
	Ospay__V1__BillingChargeInvoiceRequest m = OSPAY__V1__BILLING_CHARGE_INVOICE_REQUEST__INIT;
	m.invoice_id = inv;
	m.card_id = card;
	return tsp_call(adm, "ospay.v1.Billing/ChargeInvoice", &m.base, NULL, NULL, NULL, st);
}

/* A fault that delays Cielo's Zero Auth by 1 ms, forever: its hits count them. */
static uint64_t count_zero_auths(void)
{
	return tsg_fault(&sbx,
			 "{\"service\":\"cielo\",\"route\":\"zero_auth\",\"kind\":\"latency\","
			 "\"ms\":1}");
}

static void assert_has(const status_t *st, const char *part)
{
	cr_assert_not_null(strstr(st->message, part), "\"%s\" not in: %s", part, st->message);
}

/* Cards/Add of number is refused (FAILED_PRECONDITION) saying part. */
static void add_refused(uint64_t customer, const char *number, const char *part)
{
	status_t st;
	cr_assert_eq(add(customer, number, NULL, &st), FAILED_PRECONDITION, "%s", st.message);
	assert_has(&st, part);
}

/* Cards/Add of number is stored. */
static void add_ok(uint64_t customer, const char *number)
{
	status_t st;
	cr_assert_eq(add(customer, number, NULL, &st), 0, "%s", st.message);
}

/* The customer's charges that are reattempts. */
static size_t reattempts_of(uint64_t customer)
{
	Ospay__V1__BillingListChargesResponse *r = tso_charges(adm, customer, 0);
	size_t n = 0;
	for (size_t i = 0; i < r->n_charges; i++)
		n += r->charges[i]->reattempt;
	protobuf_c_message_free_unpacked(&r->base, NULL);
	return n;
}

/*
 * Twenty Visa reattempts of a card (twenty invoices, each declined "not now"
 * on the due day and again the next day); the card is removed and added
 * again: the new card id has the same number, so the 21st reattempt is refused
 * both as an operator's charge and as a Zero Auth, until the first of them
 * leaves the 30 days.
 */
Test(card_attempts, a_card_removed_and_added_again_keeps_its_count)
{
	status_t st;
	char number[17];
	uint64_t inv[20];
	uint64_t c = tso_customer(adm, srv.unit_id, 1, "São Paulo");
	tso_visa_ending(0, number);
	uint64_t card = tso_card(adm, c, number);
	uint64_t svc = tso_service(adm, c, true);
	for (int i = 0; i < 20; i++)
		inv[i] = tso_invoice(adm, c, svc, "2020-12-10");
	tsg_cielo_decline(&sbx, "51", NULL, 40, false);
	tso_run_now(adm);
	cr_assert_eq(tso_n_charges(adm, c), 20);
	tso_advance(adm, DAY_MS); /* 2020-12-11 12:00 local: the second attempts */
	tso_run_now(adm);
	cr_assert_eq(tso_n_charges(adm, c), 40);
	cr_assert_eq(reattempts_of(c), 20);

	card_remove(card);
	uint64_t again = 0;
	cr_assert_eq(add(c, number, &again, &st), 0, "%s", st.message);
	cr_assert_neq(again, card);
	long long refused = tsp_metric(&srv, REFUSED);
	/* Per card id the new card would have none; per number it has twenty. */
	cr_assert_eq(charge_invoice(inv[0], again, &st), FAILED_PRECONDITION, "%s", st.message);
	assert_has(&st, "20 reattempts");
	cr_assert_eq(tsp_metric(&srv, REFUSED), refused + 1);
	cr_assert_eq(tso_n_charges(adm, c), 40, "nothing was charged");

	/* A Zero Auth of the same number retries the declines too. */
	tsc_cielo_zero_auth(adm, &sbx, true);
	uint64_t hits = count_zero_auths();
	card_remove(again);
	/* The reattempts were made on 2020-12-11 12:00: allowed 30 days later. */
	add_refused(c, number,
		    "Visa allows 20 reattempts of a card in 30 days); it is allowed "
		    "from 2021-01-10 12:00");
	cr_assert_eq(tsg_fault_hits(&sbx, hits), 0, "no Zero Auth was sent");
	cr_assert_eq(tsp_metric(&srv, REFUSED), refused + 2);

	/* Once they leave the window, the card is validated and stored again. */
	tso_advance(adm, tso_at(2021, 1, 10, 12, 0) - tso_at(2020, 12, 11, 12, 0));
	add_ok(c, number);
	cr_assert_eq(tsg_fault_hits(&sbx, hits), 1);
}

/*
 * Declined Zero Auths are attempts: the first decline, then twenty more that
 * retry it, and the next one is refused without reaching the gateway. A Zero
 * Auth after a Visa category 1 decline is refused at once; another number is
 * not.
 */
Test(card_attempts, declined_zero_auths_count_and_category_1_refuses_the_next)
{
	char number[17];
	uint64_t c = tso_customer(adm, srv.unit_id, 2, "São Paulo");
	tsc_cielo_zero_auth(adm, &sbx, true);
	uint64_t hits = count_zero_auths();
	long long refused = tsp_metric(&srv, REFUSED);
	tso_visa_ending(0, number);
	tsg_cielo_decline(&sbx, "51", NULL, 21, false);
	for (int i = 0; i < 21; i++)
		add_refused(c, number, "at Zero Auth (code \"51\"");
	cr_assert_eq(tsg_fault_hits(&sbx, hits), 21);
	add_refused(c, number, "Visa allows 20 reattempts");
	cr_assert_eq(tsg_fault_hits(&sbx, hits), 21, "refused without calling Cielo");
	cr_assert_eq(tsp_metric(&srv, REFUSED), refused + 1);

	/* Category 1 ("14", invalid card): never again within the 30 days. */
	tso_visa_ending(1, number);
	tsg_cielo_decline(&sbx, "14", NULL, 1, false);
	add_refused(c, number, "Visa category 1");
	cr_assert_eq(tsg_fault_hits(&sbx, hits), 22);
	add_refused(c, number,
		    "(Visa category 1: the issuer will never approve); it is allowed from "
		    "2021-01-09 12:00; nothing was sent");
	cr_assert_eq(tsg_fault_hits(&sbx, hits), 22, "refused without calling Cielo");
	cr_assert_eq(tsp_metric(&srv, REFUSED), refused + 2);
	Ospay__V1__CardsListResponse *l = tso_cards(adm, c);
	cr_assert_eq(l->n_cards, 0, "no refused card was stored");
	protobuf_c_message_free_unpacked(&l->base, NULL);

	/* Another number has its own attempts. */
	tso_visa_ending(4, number);
	add_ok(c, number);
	cr_assert_eq(tsg_fault_hits(&sbx, hits), 23);
}

/*
 * The fingerprint is kept across a restart with a rotated key: a card stored
 * before, declined (category 1) after, is recognized when its number is
 * added again, so the Zero Auth is refused without a call.
 */
Test(card_attempts, the_fingerprint_survives_a_restart_and_a_key_rotation)
{
	char number[17];
	uint64_t c = tso_customer(adm, srv.unit_id, 3, "São Paulo");
	tso_visa_ending(0, number);
	uint64_t card = tso_card(adm, c, number);
	uint64_t svc = tso_service(adm, c, true);
	tsc_restart_rotated(&srv, &adm, tso_at(2020, 12, 10, 12, 0));
	tso_invoice(adm, c, svc, "2020-12-10");
	tsg_cielo_decline(&sbx, "14", NULL, 1, false);
	tso_run_now(adm);
	Ospay__V1__BillingListChargesResponse *r = tso_charges(adm, c, 0);
	cr_assert_eq(r->n_charges, 1);
	cr_assert_eq(r->charges[0]->status, CHG(DECLINED));
	cr_assert_str_eq(r->charges[0]->decline_class, "visa-category-1");
	protobuf_c_message_free_unpacked(&r->base, NULL);

	card_remove(card);
	tsc_cielo_zero_auth(adm, &sbx, true);
	uint64_t hits = count_zero_auths();
	add_refused(c, number, "Visa category 1");
	cr_assert_eq(tsg_fault_hits(&sbx, hits), 0);
}

/* GetNet runs the recurrence instead of Cielo. */
static void use_getnet(void)
{
	tsg_register_getnet(&sbx, srv.org_id, "att");
	tsg_set_cielo(adm, &sbx, "att", false);
	tsg_set_getnet(adm, &sbx, "att", true);
}

static int only_charge_status(uint64_t customer)
{
	Ospay__V1__BillingListChargesResponse *r = tso_charges(adm, customer, 0);
	cr_assert_eq(r->n_charges, 1);
	int st = (int)r->charges[0]->status;
	protobuf_c_message_free_unpacked(&r->base, NULL);
	return st;
}

/*
 * GetNet approves a card's first charge but its answer is lost; its
 * notification, re-queried, settles the charge: the query's transaction_id
 * opens the card's chain, so next month's charge is RECURRING_PAYMENT and
 * sends it back (the sandbox declines it otherwise).
 */
Test(card_attempts, a_first_charge_approved_by_notification_opens_the_chain)
{
	use_getnet();
	tsc_require_chain(&sbx);
	uint64_t svc, c = tso_billed_customer(adm, srv.unit_id, 4, 0, true, &svc);
	uint64_t inv = tso_invoice(adm, c, svc, "2020-12-10");
	tsg_fault(&sbx, "{\"service\":\"getnet\",\"route\":\"payment_credit\",\"kind\":\"reset\","
			"\"process\":true,\"count\":1}");
	tso_run_now(adm);
	int st = 0;
	TSP_AWAIT_MS(2 * TSP_HANG_MS, (st = only_charge_status(c)) == CHG(APPROVED),
		     "charge status %d", st);
	cr_assert_eq(tso_invoice_status(adm, inv), INV(PAID));
	char moid[32];
	snprintf(moid, sizeof(moid), "%020lluA1", (unsigned long long)inv);
	tsc_wire_t w;
	tsc_sandbox_wire(&sbx, moid, &w);
	cr_assert_str_eq(w.usage, "RECURRING");
	cr_assert_neq(w.returned[0], '\0');
	Ospay__V1__CardsListResponse *l = tso_cards(adm, c);
	cr_assert_eq(l->n_cards, 1);
	cr_assert_str_eq(l->cards[0]->network_txn_id, w.returned);
	cr_assert_neq(l->cards[0]->network_txn_charge_id, 0);
	protobuf_c_message_free_unpacked(&l->base, NULL);

	tso_advance(adm, tso_at(2021, 1, 10, 12, 0) - tso_at(2020, 12, 10, 12, 0));
	uint64_t inv2 = tso_invoice(adm, c, svc, "2021-01-10");
	tso_run_now(adm);
	cr_assert_eq(tso_invoice_status(adm, inv2), INV(PAID));
	tsc_wire_t w2;
	snprintf(moid, sizeof(moid), "%020lluA1", (unsigned long long)inv2);
	tsc_sandbox_wire(&sbx, moid, &w2);
	cr_assert(w2.approved, "%s", w2.code);
	cr_assert_str_eq(w2.usage, "RECURRING_PAYMENT");
	cr_assert_str_eq(w2.sent, w.returned);
}

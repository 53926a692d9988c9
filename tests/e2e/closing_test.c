/*
 * Closing an order properly end to end: Finalize's outcome (concluded / not
 * concluded), a closing reason from the organization's list, the executed
 * start and end; Orders/AddNote's timeline shown by Get; and the CLI.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "support/domain.h"
#include "support/proc.h"
#include "support/cli_suite.h"

/* The test clock: 2026-12-07 18:00 local. */
TSP_CLI_SUITE(closing, "2026-12-07T21:00:00Z", 60);

#define CONCLUDED OSPAY__V1__CLOSING_OUTCOME__CLOSING_OUTCOME_CONCLUDED
#define NOT_CONCLUDED OSPAY__V1__CLOSING_OUTCOME__CLOSING_OUTCOME_NOT_CONCLUDED
#define PIX OSPAY__V1__PAYMENT_METHOD_TYPE__PAYMENT_METHOD_TYPE_PIX

static uint64_t reason(const char *name, int outcome)
{
	Ospay__V1__OrdersCreateClosingReasonRequest m =
		OSPAY__V1__ORDERS_CREATE_CLOSING_REASON_REQUEST__INIT;
	ProtobufCMessage *r = NULL;
	status_t st;
	m.name = (char *)name;
	m.outcome = outcome;
	cr_assert_eq(tsp_call_take(adm, "ospay.v1.Orders/CreateClosingReason", &m.base,
				   &ospay__v1__orders_create_closing_reason_response__descriptor,
				   "reason", &r, &st),
		     0, "%s", st.message);
	uint64_t id = ((Ospay__V1__ClosingReason *)r)->id;
	protobuf_c_message_free_unpacked(r, NULL);
	return id;
}

static int finalize(Ospay__V1__OrdersFinalizeRequest *m, Ospay__V1__Order **o, status_t *st)
{
	return tsp_call_take(adm, "ospay.v1.Orders/Finalize", &m->base,
			     &ospay__v1__orders_finalize_response__descriptor, "order",
			     (ProtobufCMessage **)o, st);
}

static uint64_t an_order(void)
{
	static uint32_t n;
	uint64_t c = tso_customer(adm, unit, ++n, "São Paulo"), id;
	status_t st;
	cr_assert_eq(tso_order(adm, c, 0, 0, tso_at(2026, 12, 7, 9, 0), 60, &id, &st), 0, "%s",
		     st.message);
	return id;
}

/* A Finalize request for a new order (an_order); the test fills in the rest. */
static Ospay__V1__OrdersFinalizeRequest finalizing_new_order(void)
{
	Ospay__V1__OrdersFinalizeRequest m = OSPAY__V1__ORDERS_FINALIZE_REQUEST__INIT;
	m.id = an_order();
	return m;
}

Test(closing, concluded_with_executed_times)
{
	Ospay__V1__OrdersFinalizeRequest m = finalizing_new_order();
	Ospay__V1__Order *o = NULL;
	status_t st;
	m.method_type = PIX;
	m.executed_start_ms = tso_at(2026, 12, 7, 9, 5);
	m.executed_end_ms = tso_at(2026, 12, 7, 10, 20);
	cr_assert_eq(finalize(&m, &o, &st), 0, "%s", st.message);
	cr_assert_eq(o->status, OSPAY__V1__ORDER_STATUS__ORDER_STATUS_CLOSED);
	cr_assert_not_null(o->closing);
	cr_assert_eq(o->closing->outcome, CONCLUDED, "unspecified means concluded");
	cr_assert_eq(o->closing->executed_start_ms, tso_at(2026, 12, 7, 9, 5));
	cr_assert_eq(o->closing->executed_end_ms, tso_at(2026, 12, 7, 10, 20));
	ospay__v1__order__free_unpacked(o, NULL);
	o = tso_get_order(adm, m.id);
	cr_assert_eq(o->closing->executed_end_ms, tso_at(2026, 12, 7, 10, 20), "kept");
	ospay__v1__order__free_unpacked(o, NULL);
}

Test(closing, not_concluded_needs_a_reason_and_may_go_unpaid)
{
	uint64_t absent = reason("Cliente ausente", NOT_CONCLUDED);
	uint64_t done = reason("Instalação concluída", CONCLUDED);
	Ospay__V1__OrdersFinalizeRequest m = finalizing_new_order();
	Ospay__V1__Order *o = NULL;
	status_t st;
	m.outcome = NOT_CONCLUDED;
	cr_assert_eq(finalize(&m, &o, &st), 3);
	cr_assert(tso_violation(&st, "closing_reason_id"));
	m.closing_reason_id = done;
	cr_assert_eq(finalize(&m, &o, &st), 3, "a reason for the other outcome");
	cr_assert(strstr(st.violations[0].description, "other outcome") != NULL);
	m.closing_reason_id = 999;
	cr_assert_eq(finalize(&m, &o, &st), 5, "unknown reason");
	m.closing_reason_id = absent;
	m.executed_start_ms = tso_at(2026, 12, 7, 9, 0);
	m.executed_end_ms = tso_at(2026, 12, 8, 9, 0); /* tomorrow: the future */
	cr_assert_eq(finalize(&m, &o, &st), 3);
	cr_assert(tso_violation(&st, "executed_end_ms"));
	m.executed_end_ms = tso_at(2026, 12, 7, 8, 0);
	cr_assert_eq(finalize(&m, &o, &st), 3, "end before start");
	m.executed_start_ms = m.executed_end_ms = 0;
	cr_assert_eq(finalize(&m, &o, &st), 0, "%s", st.message);
	cr_assert_eq(o->status, OSPAY__V1__ORDER_STATUS__ORDER_STATUS_CLOSED);
	cr_assert_eq(o->payment_status, OSPAY__V1__ORDER_PAYMENT_STATUS__ORDER_PAYMENT_STATUS_NONE);
	cr_assert_null(o->payment, "no payment recorded");
	cr_assert_eq(o->closing->outcome, NOT_CONCLUDED);
	cr_assert_eq(o->closing->reason_id, absent);
	cr_assert_str_eq(o->closing->reason, "Cliente ausente");
	ospay__v1__order__free_unpacked(o, NULL);
	/* A concluded order still needs its payment method. */
	Ospay__V1__OrdersFinalizeRequest m2 = finalizing_new_order();
	m2.closing_reason_id = done;
	cr_assert_eq(finalize(&m2, &o, &st), 3);
	cr_assert(tso_violation(&st, "method_type"));
	/* Reason names are unique (folded). */
	Ospay__V1__OrdersCreateClosingReasonRequest cr =
		OSPAY__V1__ORDERS_CREATE_CLOSING_REASON_REQUEST__INIT;
	cr.name = "CLIENTE AUSENTE";
	cr_assert_eq(tsp_call(adm, "ospay.v1.Orders/CreateClosingReason", &cr.base, NULL, NULL,
			      NULL, &st),
		     6);
}

Test(closing, notes_timeline)
{
	uint64_t id = an_order();
	char secret[128];
	tso_token(adm, 2 /* OPERATOR */, 0, secret, sizeof(secret));
	int op = tsp_login(&srv, secret);
	Ospay__V1__OrdersAddNoteRequest m = OSPAY__V1__ORDERS_ADD_NOTE_REQUEST__INIT;
	status_t st;
	m.id = id;
	m.text = "cliente pediu para ligar antes";
	cr_assert_eq(tsp_call(op, "ospay.v1.Orders/AddNote", &m.base, NULL, NULL, NULL, &st), 0,
		     "%s", st.message);
	m.text = "";
	cr_assert_eq(tsp_call(op, "ospay.v1.Orders/AddNote", &m.base, NULL, NULL, NULL, &st), 3);
	/* A closed order still takes notes. */
	Ospay__V1__OrdersFinalizeRequest f = OSPAY__V1__ORDERS_FINALIZE_REQUEST__INIT;
	Ospay__V1__Order *o = NULL;
	f.id = id;
	f.method_type = PIX;
	cr_assert_eq(finalize(&f, &o, &st), 0, "%s", st.message);
	ospay__v1__order__free_unpacked(o, NULL);
	m.text = "cliente elogiou o técnico";
	cr_assert_eq(tsp_call(adm, "ospay.v1.Orders/AddNote", &m.base, NULL, NULL, NULL, &st), 0);
	o = tso_get_order(adm, id);
	cr_assert_eq(o->n_notes, 2);
	cr_assert_str_eq(o->notes[0]->text, "cliente pediu para ligar antes");
	cr_assert_neq(o->notes[0]->by_token_id, o->notes[1]->by_token_id, "who wrote each");
	cr_assert_gt(o->notes[0]->at_ms, 0);
	cr_assert_str_neq(o->notes[0]->by_name, "");
	ospay__v1__order__free_unpacked(o, NULL);
	/* A read-only token may not write notes. */
	tso_token(adm, 3 /* READ_ONLY */, 0, secret, sizeof(secret));
	int ro = tsp_login(&srv, secret);
	m.text = "x";
	cr_assert_eq(tsp_call(ro, "ospay.v1.Orders/AddNote", &m.base, NULL, NULL, NULL, &st), 7);
	close(ro);
	close(op);
}

Test(closing, cli)
{
	an_order();
	cr_assert_eq(ospay("closing-reasons", "create", "--name", "Cliente ausente", "--outcome",
			   "not-concluded", NULL),
		     0, "%s", out);
	HAS("Cliente ausente");
	HAS("not-concluded");
	cr_assert_eq(ospay("closing-reasons", "list", NULL), 0, "%s", out);
	HAS("Cliente ausente");
	cr_assert_eq(ospay("orders", "note", "1", "--text", "portão azul", NULL), 0, "%s", out);
	HAS("portão azul");
	cr_assert_eq(ospay("orders", "finalize", "1", "--outcome", "not-concluded",
			   "--closing-reason", "1", "--executed-from", "2026-12-07 09:00",
			   "--executed-to", "2026-12-07 09:15", NULL),
		     0, "%s", out);
	HAS("closed as");
	HAS("not-concluded");
	HAS("Cliente ausente");
	HAS("2026-12-07 09:15");
	cr_assert_eq(ospay("orders", "get", "1", NULL), 0, "%s", out);
	HAS("notes");
	HAS("portão azul");
	HAS("(token 1)");
	cr_assert_eq(ospay("orders", "finalize", "1", "--outcome", "maybe", NULL), 2, "%s", out);
	/* A reason taken off the list: the closed order keeps its name. */
	cr_assert_eq(ospay("closing-reasons", "remove", "1", NULL), 0, "%s", out);
	HAS("closing reason 1 removed");
	cr_assert_eq(ospay("closing-reasons", "list", NULL), 0, "%s", out);
	cr_assert(strstr(out, "Cliente ausente") == NULL, "still listed:\n%s", out);
	cr_assert_eq(ospay("orders", "get", "1", NULL), 0, "%s", out);
	HAS("Cliente ausente");
	cr_assert_neq(ospay("closing-reasons", "remove", "1", NULL), 0, "%s", out);
	HAS("no closing reason 1");
}

Test(closing, removed_reasons_are_no_longer_offered)
{
	uint64_t absent = reason("Cliente ausente", NOT_CONCLUDED);
	uint64_t rain = reason("Chuva", NOT_CONCLUDED);
	Ospay__V1__OrdersRemoveClosingReasonRequest rm =
		OSPAY__V1__ORDERS_REMOVE_CLOSING_REASON_REQUEST__INIT;
	status_t st;
	rm.id = absent;
	tsp_call_ok(adm, "ospay.v1.Orders/RemoveClosingReason", &rm.base, NULL);
	Ospay__V1__OrdersFinalizeRequest m = finalizing_new_order();
	Ospay__V1__Order *o = NULL;
	m.outcome = NOT_CONCLUDED;
	m.closing_reason_id = absent;
	cr_assert_eq(finalize(&m, &o, &st), 5, "a removed reason: %s", st.message);
	m.closing_reason_id = rain;
	cr_assert_eq(finalize(&m, &o, &st), 0, "%s", st.message);
	cr_assert_str_eq(o->closing->reason, "Chuva");
	ospay__v1__order__free_unpacked(o, NULL);
	/* Twice, and id 0: not found. An operator may not change the list. */
	cr_assert_eq(tsp_call(adm, "ospay.v1.Orders/RemoveClosingReason", &rm.base, NULL, NULL,
			      NULL, &st),
		     5);
	rm.id = 0;
	cr_assert_eq(tsp_call(adm, "ospay.v1.Orders/RemoveClosingReason", &rm.base, NULL, NULL,
			      NULL, &st),
		     5);
	char secret[128];
	tso_token(adm, OSPAY__V1__ROLE__ROLE_OPERATOR, 0, secret, sizeof(secret));
	int op = tsp_login(&srv, secret);
	rm.id = rain;
	cr_assert_eq(tsp_call(op, "ospay.v1.Orders/RemoveClosingReason", &rm.base, NULL, NULL, NULL,
			      &st),
		     7, "%s", st.message);
	close(op);
}

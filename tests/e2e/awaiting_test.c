/*
 * Orders that wait for a date (aguardando agendamento) end to end: created on
 * an agenda without a start, listed by their status, shown by the calendar,
 * scheduled later by Reschedule (with every booking check), back to waiting
 * when Update removes the start, canceled while waiting, never finalized;
 * and the CLI.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>

#include "support/domain.h"
#include "support/proc.h"
#include "support/cli_suite.h"

TSP_CLI_SUITE(awaiting, "2026-12-01T12:00:00Z", 60);

enum {
	OPEN = OSPAY__V1__ORDER_STATUS__ORDER_STATUS_OPEN,
	AWAITING = OSPAY__V1__ORDER_STATUS__ORDER_STATUS_AWAITING_SCHEDULING,
	CANCELED = OSPAY__V1__ORDER_STATUS__ORDER_STATUS_CANCELED,
};

static int status_of(uint64_t id)
{
	Ospay__V1__Order *o = tso_get_order(adm, id);
	int s = o->status;
	ospay__v1__order__free_unpacked(o, NULL);
	return s;
}

static int reschedule(uint64_t id, int64_t start, status_t *st)
{
	return tso_reschedule(adm, id, start, 0, 0, 0, st);
}

Test(awaiting, created_waiting_then_scheduled)
{
	Ospay__V1__AgendaWindow w = tso_window(1, 8, 12, 1);
	const char *cities[] = {"São Paulo"};
	uint64_t ag = tso_agenda(adm, unit, cities, 1, &w, 1, 0, 60);
	uint64_t c = tso_customer(adm, unit, 1, "São Paulo");
	uint64_t far = tso_customer(adm, unit, 2, "Campinas");
	status_t st;
	uint64_t id, blocker;
	cr_assert_eq(tso_order(adm, c, ag, 0, 0, 0, &id, &st), 0, "%s", st.message);
	cr_assert_eq(status_of(id), AWAITING);
	/* The city rule still applies to a waiting order. */
	cr_assert_eq(tso_order(adm, far, ag, 0, 0, 0, NULL, &st), 9, "city");
	/* It holds no place: another order takes the only one. */
	cr_assert_eq(tso_order(adm, c, ag, 0, tso_at(2026, 12, 7, 8, 0), 0, &blocker, &st), 0);
	/* Scheduling it runs the checks: full window refused, the next Monday accepted. */
	cr_assert_eq(reschedule(id, tso_at(2026, 12, 7, 9, 0), &st), 9);
	cr_assert(strstr(st.message, "full") != NULL, "%s", st.message);
	cr_assert_eq(status_of(id), AWAITING);
	cr_assert_eq(reschedule(id, tso_at(2026, 12, 14, 9, 0), &st), 0, "%s", st.message);
	Ospay__V1__Order *o = tso_get_order(adm, id);
	cr_assert_eq(o->status, OPEN);
	cr_assert_eq(o->duration_minutes, 60, "the agenda's slot");
	cr_assert_eq(o->n_history, 2);
	cr_assert_eq(o->history[0]->to, AWAITING);
	cr_assert_eq(o->history[1]->from, AWAITING);
	cr_assert_eq(o->history[1]->to, OPEN);
	cr_assert_str_eq(o->history[1]->note, "scheduled");
	ospay__v1__order__free_unpacked(o, NULL);
	/* Removing the start makes it wait again. */
	cr_assert_eq(tso_order_clear(adm, id, "scheduled_start_ms", &st), 0, "%s", st.message);
	cr_assert_eq(status_of(id), AWAITING);
	/* A waiting order is not finalized; it is canceled. */
	cr_assert_eq(tso_finalize(adm, id, 0,
				  OSPAY__V1__PAYMENT_METHOD_TYPE__PAYMENT_METHOD_TYPE_PIX, 0, NULL,
				  &st),
		     9);
	cr_assert(strstr(st.message, "awaits scheduling") != NULL, "%s", st.message);
	Ospay__V1__OrdersCancelRequest cr = OSPAY__V1__ORDERS_CANCEL_REQUEST__INIT;
	cr.id = id;
	cr.reason = "cliente desistiu";
	cr_assert_eq(tsp_call(adm, "ospay.v1.Orders/Cancel", &cr.base, NULL, NULL, NULL, &st), 0);
	cr_assert_eq(status_of(id), CANCELED);
	/* Orders without an agenda and without a start stay OPEN, as before. */
	uint64_t loose;
	cr_assert_eq(tso_order(adm, c, 0, 0, 0, 0, &loose, &st), 0);
	cr_assert_eq(status_of(loose), OPEN);
	(void)blocker;
}

Test(awaiting, list_filter_and_calendar)
{
	Ospay__V1__AgendaWindow w = tso_window(1, 8, 12, 4);
	uint64_t ag = tso_agenda(adm, unit, NULL, 0, &w, 1, 0, 60);
	uint64_t c = tso_customer(adm, unit, 1, "São Paulo");
	uint64_t t = tso_technician(adm, unit, "João");
	uint64_t waiting, booked;
	cr_assert_eq(tso_order(adm, c, ag, t, 0, 0, &waiting, NULL), 0);
	cr_assert_eq(tso_order(adm, c, ag, 0, tso_at(2026, 12, 7, 8, 0), 0, &booked, NULL), 0);
	Ospay__V1__OrdersListRequest l = OSPAY__V1__ORDERS_LIST_REQUEST__INIT;
	ProtobufCMessage *resp = NULL;
	status_t st;
	l.status = OSPAY__V1__ORDER_STATUS__ORDER_STATUS_AWAITING_SCHEDULING;
	cr_assert_eq(tsp_call(adm, "ospay.v1.Orders/List", &l.base,
			      &ospay__v1__orders_list_response__descriptor, &resp, NULL, &st),
		     0, "%s", st.message);
	Ospay__V1__OrdersListResponse *lr = (void *)resp;
	cr_assert_eq(lr->n_orders, 1);
	cr_assert_eq(lr->orders[0]->id, waiting);
	protobuf_c_message_free_unpacked(resp, NULL);
	for (int by = 1; by <= 2; by++) {
		Ospay__V1__AgendasCalendarRequest cq = OSPAY__V1__AGENDAS_CALENDAR_REQUEST__INIT;
		cq.from_date = "2026-12-07";
		cq.to_date = "2026-12-13";
		cq.view_by = by;
		cr_assert_eq(tsp_call(adm, "ospay.v1.Agendas/Calendar", &cq.base,
				      &ospay__v1__agendas_calendar_response__descriptor, &resp,
				      NULL, &st),
			     0, "%s", st.message);
		Ospay__V1__AgendasCalendarResponse *cal = (void *)resp;
		cr_assert_eq(cal->n_groups, 1);
		cr_assert_eq(cal->groups[0]->n_awaiting, 1, "view %d", by);
		cr_assert_eq(cal->groups[0]->awaiting[0]->order_id, waiting);
		cr_assert_eq(cal->groups[0]->awaiting[0]->status, AWAITING);
		protobuf_c_message_free_unpacked(resp, NULL);
	}
	(void)booked;
}

Test(awaiting, cli)
{
	Ospay__V1__AgendaWindow w = tso_window(1, 8, 12, 4);
	tso_agenda(adm, unit, NULL, 0, &w, 1, 0, 60);
	tso_customer(adm, unit, 1, "São Paulo");
	cr_assert_eq(ospay("orders", "create", "--customer", "1", "--kind", "REPARO", "--agenda",
			   "1", NULL),
		     0, "%s", out);
	HAS("awaiting-scheduling");
	HAS("not scheduled");
	cr_assert_eq(ospay("orders", "list", "--status", "awaiting-scheduling", NULL), 0, "%s",
		     out);
	HAS("REPARO");
	cr_assert_eq(ospay("calendar", "--by", "agenda", "--from", "2026-12-07", "--to",
			   "2026-12-07", NULL),
		     0, "%s", out);
	HAS("awaiting scheduling");
	HAS("REPARO");
	cr_assert_eq(ospay("orders", "reschedule", "1", "--start", "2026-12-07 09:00", NULL), 0,
		     "%s", out);
	HAS("2026-12-07 09:00");
	HAS("scheduled");
	cr_assert_eq(ospay("orders", "get", "1", NULL), 0, "%s", out);
	HAS("awaiting-scheduling");
	HAS("open");
}

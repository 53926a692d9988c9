/*
 * Orders and agendas end to end against a real ospayd: the city rule, windows,
 * capacity and the daily maximum, the race for the last place (inside one
 * group commit and across connections), technician double-booking, reschedule,
 * agenda changes, finalize, cancel and the calendar.
 */
#include <criterion/criterion.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "common/util.h"
#include "ospay/v1/rpc.pb-c.h"
#include "support/domain.h"
#include "support/proc.h"
#include "support/suite.h"

#define CREATE_ORDER "ospay.v1.Orders/Create"

static uint64_t unit;

static void after_up(void);
TSP_E2E_SUITE_THEN(orders, adm, NULL, "2026-12-01T12:00:00Z", 60, after_up);

static void after_up(void)
{
	unit = srv.unit_id;
}

/* 2026-12-07 is a Monday; 2026-12-08 a Tuesday. */
#define MON(h, m) tso_at(2026, 12, 7, (h), (m))
#define TUE(h, m) tso_at(2026, 12, 8, (h), (m))

static void expect(int code, int want, const status_t *st, const char *what)
{
	cr_assert_eq(code, want, "%s: want %d, got %d (%s)", what, want, code, st->message);
}

Test(orders, city_rule_ignores_case_and_accents)
{
	const char *cities[] = {"São Paulo", "Santo André"};
	Ospay__V1__AgendaWindow w = tso_window(1, 8, 18, 100);
	uint64_t ag = tso_agenda(adm, unit, cities, 2, &w, 1, 0, 30);
	const char *ok[] = {"SAO PAULO", "sao paulo", "São Paulo", "  são   PAULO ", "SANTO ANDRE"};
	status_t st;
	for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		uint64_t c = tso_customer(adm, unit, 100 + (uint32_t)i, ok[i]);
		int code = tso_order(adm, c, ag, 0, MON(8, 0), 0, NULL, &st);
		expect(code, 0, &st, ok[i]);
	}
	uint64_t far = tso_customer(adm, unit, 200, "Campinas");
	int code = tso_order(adm, far, ag, 0, MON(8, 0), 0, NULL, &st);
	expect(code, 9, &st, "Campinas");
	cr_assert(strstr(st.message, "city") != NULL, "%s", st.message);
	/* An agenda without cities serves every city. */
	uint64_t any = tso_agenda(adm, unit, NULL, 0, &w, 1, 0, 30);
	code = tso_order(adm, far, any, 0, MON(8, 0), 0, NULL, &st);
	expect(code, 0, &st, "no cities");
	/* Without an agenda there is no city rule. */
	code = tso_order(adm, far, 0, 0, MON(8, 0), 60, NULL, &st);
	expect(code, 0, &st, "no agenda");
}

Test(orders, window_capacity_and_daily_maximum)
{
	Ospay__V1__AgendaWindow w[] = {tso_window(1, 8, 12, 2), tso_window(1, 13, 18, 3)};
	uint64_t ag = tso_agenda(adm, unit, NULL, 0, w, 2, 4, 30);
	uint64_t c = tso_customer(adm, unit, 1, "São Paulo");
	status_t st;
	uint64_t first;
	expect(tso_order(adm, c, ag, 0, MON(8, 0), 0, &first, &st), 0, &st, "08:00");
	Ospay__V1__Order *o = tso_get_order(adm, first);
	cr_assert_eq(o->duration_minutes, 30, "default duration is the agenda's slot");
	ospay__v1__order__free_unpacked(o, NULL);
	expect(tso_order(adm, c, ag, 0, MON(11, 30), 60, NULL, &st), 0, &st, "11:30");
	expect(tso_order(adm, c, ag, 0, MON(10, 0), 0, NULL, &st), 9, &st, "window full");
	cr_assert(strstr(st.message, "full") != NULL, "%s", st.message);
	expect(tso_order(adm, c, ag, 0, MON(13, 0), 0, NULL, &st), 0, &st, "13:00");
	expect(tso_order(adm, c, ag, 0, MON(17, 30), 0, NULL, &st), 0, &st, "17:30");
	expect(tso_order(adm, c, ag, 0, MON(14, 0), 0, NULL, &st), 9, &st, "daily max");
	cr_assert(strstr(st.message, "daily maximum") != NULL, "%s", st.message);
	/* Outside the windows, off the slot grid, another weekday. */
	expect(tso_order(adm, c, ag, 0, MON(12, 0), 0, NULL, &st), 9, &st, "12:00");
	cr_assert(strstr(st.message, "outside") != NULL, "%s", st.message);
	expect(tso_order(adm, c, ag, 0, MON(7, 30), 0, NULL, &st), 9, &st, "07:30");
	expect(tso_order(adm, c, ag, 0, MON(18, 0), 0, NULL, &st), 9, &st, "18:00");
	expect(tso_order(adm, c, ag, 0, TUE(9, 0), 0, NULL, &st), 9, &st, "Tuesday");
	expect(tso_order(adm, c, ag, 0, MON(13, 15), 0, NULL, &st), 9, &st, "off grid");
	cr_assert(strstr(st.message, "slot") != NULL, "%s", st.message);
	/* Canceling gives the place back. */
	Ospay__V1__OrdersCancelRequest cr = OSPAY__V1__ORDERS_CANCEL_REQUEST__INIT;
	cr.id = first;
	cr.reason = "cliente desistiu";
	tsp_call_ok(adm, "ospay.v1.Orders/Cancel", &cr.base, NULL);
	expect(tso_order(adm, c, ag, 0, MON(9, 0), 0, NULL, &st), 0, &st, "freed place");
	/* The next Monday is a new day. */
	expect(tso_order(adm, c, ag, 0, tso_at(2026, 12, 14, 8, 0), 0, NULL, &st), 0, &st,
	       "next week");
}

Test(orders, last_place_race_inside_one_group_commit)
{
	Ospay__V1__AgendaWindow w = tso_window(1, 8, 12, 1);
	uint64_t ag = tso_agenda(adm, unit, NULL, 0, &w, 1, 0, 30);
	uint64_t c1 = tso_customer(adm, unit, 1, "São Paulo");
	uint64_t c2 = tso_customer(adm, unit, 2, "São Paulo");
	for (int round = 0; round < 5; round++) {
		/* Two requests for the only place of a new Monday, in one send(): the server
		 * reads them in one loop turn and commits them in one batch. */
		int64_t day = tso_at(2026, 12, 7 + 7 * round, 9, 0);
		uint8_t frames[1024];
		size_t len = tso_order_frame(frames, 1, c1, ag, day, "REPARO");
		len += tso_order_frame(frames + len, 2, c2, ag, day + 30 * 60000, "REPARO");
		cr_assert_eq(send(adm, frames, len, MSG_NOSIGNAL), (ssize_t)len);
		int ok = 0, refused = 0;
		for (int i = 0; i < 2; i++) {
			int code;
			cr_assert_eq(tsp_recv_response(adm, NULL, &code, NULL, NULL, TSP_HANG_MS),
				     0);
			ok += code == 0;
			refused += code == 9;
		}
		cr_assert_eq(ok, 1, "round %d: exactly one wins (%d did)", round, ok);
		cr_assert_eq(refused, 1, "round %d: the other gets FAILED_PRECONDITION", round);
	}
}

Test(orders, last_place_race_across_connections)
{
	Ospay__V1__AgendaWindow w = tso_window(1, 8, 12, 1);
	uint64_t ag = tso_agenda(adm, unit, NULL, 0, &w, 1, 0, 30);
	uint64_t c = tso_customer(adm, unit, 1, "São Paulo");
	enum { CONNS = 4, ROUNDS = 5 };
	int fds[CONNS];
	for (int i = 0; i < CONNS; i++)
		fds[i] = tsp_login(&srv, srv.admin_token);
	for (int round = 0; round < ROUNDS; round++) {
		int64_t start = tso_at(2026, 12, 7 + 7 * round, 8, 0);
		for (int i = 0; i < CONNS; i++) {
			uint8_t frame[512];
			size_t len = tso_order_frame(frame, (uint64_t)i + 1, c, ag,
						     start + (int64_t)i * 30 * 60000, "REPARO");
			cr_assert_eq(send(fds[i], frame, len, MSG_NOSIGNAL), (ssize_t)len);
		}
		int ok = 0;
		for (int i = 0; i < CONNS; i++) {
			int code;
			cr_assert_eq(
				tsp_recv_response(fds[i], NULL, &code, NULL, NULL, TSP_HANG_MS), 0);
			cr_assert(code == 0 || code == 9, "unexpected code %d", code);
			ok += code == 0;
		}
		cr_assert_eq(ok, 1, "round %d: %d requests won the only place", round, ok);
	}
	for (int i = 0; i < CONNS; i++)
		close(fds[i]);
}

static int reschedule(uint64_t id, int64_t start, uint32_t minutes, status_t *st)
{
	return tso_reschedule(adm, id, start, minutes, 0, 0, st);
}

static int update_tech(uint64_t id, uint64_t tech, status_t *st)
{
	Ospay__V1__OrdersUpdateRequest m = OSPAY__V1__ORDERS_UPDATE_REQUEST__INIT;
	char *mask[] = {"technician_id"};
	m.id = id;
	m.technician_id = tech;
	m.update_mask = mask;
	m.n_update_mask = 1;
	return tsp_call(adm, "ospay.v1.Orders/Update", &m.base, NULL, NULL, NULL, st);
}

static bool names_order(const status_t *st, uint64_t id)
{
	char want[40];
	snprintf(want, sizeof(want), "order %llu ", (unsigned long long)id);
	return strstr(st->message, want) != NULL;
}

Test(orders, technician_is_never_double_booked)
{
	uint64_t c = tso_customer(adm, unit, 1, "Campinas");
	uint64_t t = tso_technician(adm, unit, "João");
	uint64_t t2 = tso_technician(adm, unit, "Maria");
	status_t st;
	uint64_t o1, o2, o3;
	/* o1: 09:00-10:00. */
	expect(tso_order(adm, c, 0, t, MON(9, 0), 60, &o1, &st), 0, &st, "o1");
	expect(tso_order(adm, c, 0, t, MON(9, 30), 60, NULL, &st), 9, &st, "create overlap");
	cr_assert(names_order(&st, o1), "must name the conflicting order: %s", st.message);
	expect(tso_order(adm, c, 0, t, MON(8, 0), 61, NULL, &st), 9, &st, "overlap from before");
	cr_assert(names_order(&st, o1), "%s", st.message);
	/* Touching ends do not overlap. */
	expect(tso_order(adm, c, 0, t, MON(10, 0), 30, &o2, &st), 0, &st, "o2 10:00");
	expect(tso_order(adm, c, 0, t, MON(8, 0), 60, NULL, &st), 0, &st, "08:00-09:00");
	/* Another technician is free then. */
	expect(tso_order(adm, c, 0, t2, MON(9, 0), 60, &o3, &st), 0, &st, "o3 other tech");
	/* Edit: moving o3 to t collides with o1 (09:00-10:00). */
	expect(update_tech(o3, t, &st), 9, &st, "update overlap");
	cr_assert(names_order(&st, o1), "%s", st.message);
	/* Reschedule: o2 into o1's time, and o1 lengthened into o2's. */
	expect(reschedule(o2, MON(9, 45), 0, &st), 9, &st, "reschedule overlap");
	cr_assert(names_order(&st, o1), "%s", st.message);
	expect(reschedule(o1, MON(9, 0), 90, &st), 9, &st, "lengthen overlap");
	cr_assert(names_order(&st, o2), "%s", st.message);
	/* Moving within its own time is not a conflict with itself. */
	expect(reschedule(o1, MON(9, 0), 45, &st), 0, &st, "shorten");
	expect(reschedule(o1, MON(9, 15), 45, &st), 0, &st, "shift inside");
	/* A long job that crosses midnight blocks the next morning. */
	expect(tso_order(adm, c, 0, t, TUE(0, 0) - 60 * 60000, 600, NULL, &st), 0, &st, "night");
	expect(tso_order(adm, c, 0, t, TUE(8, 0), 60, NULL, &st), 9, &st, "next morning");
	/* Canceling frees the technician. */
	Ospay__V1__OrdersCancelRequest cr = OSPAY__V1__ORDERS_CANCEL_REQUEST__INIT;
	cr.id = o1;
	tsp_call_ok(adm, "ospay.v1.Orders/Cancel", &cr.base, NULL);
	expect(update_tech(o3, t, &st), 0, &st, "after cancel");
	/* A technician of another unit cannot be assigned. */
	uint64_t u2 = tso_unit(adm, "Zona Norte");
	uint64_t t3 = tso_technician(adm, u2, "Ana");
	expect(update_tech(o3, t3, &st), 9, &st, "other unit's technician");
	expect(update_tech(o3, 999999, &st), 5, &st, "unknown technician");
}

Test(orders, reschedule_into_a_full_window)
{
	Ospay__V1__AgendaWindow w[] = {tso_window(1, 8, 12, 1), tso_window(1, 13, 18, 2)};
	uint64_t ag = tso_agenda(adm, unit, NULL, 0, w, 2, 0, 30);
	uint64_t c = tso_customer(adm, unit, 1, "São Paulo");
	status_t st;
	uint64_t morning, afternoon;
	expect(tso_order(adm, c, ag, 0, MON(8, 0), 0, &morning, &st), 0, &st, "morning");
	expect(tso_order(adm, c, ag, 0, MON(13, 0), 0, &afternoon, &st), 0, &st, "afternoon");
	expect(reschedule(afternoon, MON(9, 0), 0, &st), 9, &st, "into the full morning");
	cr_assert(strstr(st.message, "full") != NULL, "%s", st.message);
	Ospay__V1__Order *o = tso_get_order(adm, afternoon);
	cr_assert_eq(o->scheduled_start_ms, MON(13, 0), "a refused reschedule changes nothing");
	ospay__v1__order__free_unpacked(o, NULL);
	/* Moving inside its own window, and changing the length, are fine. */
	expect(reschedule(morning, MON(11, 30), 120, &st), 0, &st, "own window");
	o = tso_get_order(adm, morning);
	cr_assert_eq(o->scheduled_start_ms, MON(11, 30));
	cr_assert_eq(o->duration_minutes, 120);
	ospay__v1__order__free_unpacked(o, NULL);
	/* Outside windows and off the grid. */
	expect(reschedule(afternoon, MON(12, 30), 0, &st), 9, &st, "between windows");
	expect(reschedule(afternoon, MON(14, 10), 0, &st), 9, &st, "off grid");
	expect(reschedule(afternoon, MON(14, 0), 0, &st), 0, &st, "afternoon again");
	expect(reschedule(afternoon, 0, 0, &st), 3, &st, "no start");
	cr_assert(tso_violation(&st, "scheduled_start_ms"));
}

Test(orders, changing_the_agenda_is_checked_again)
{
	Ospay__V1__AgendaWindow w = tso_window(1, 8, 12, 1);
	const char *sp[] = {"São Paulo"};
	const char *rio[] = {"Rio de Janeiro"};
	uint64_t a1 = tso_agenda(adm, unit, sp, 1, &w, 1, 0, 30);
	uint64_t a_rio = tso_agenda(adm, unit, rio, 1, &w, 1, 0, 30);
	uint64_t a_full = tso_agenda(adm, unit, NULL, 0, &w, 1, 0, 30);
	Ospay__V1__AgendaWindow tue = tso_window(2, 8, 12, 5);
	uint64_t a_tue = tso_agenda(adm, unit, NULL, 0, &tue, 1, 0, 30);
	uint64_t a_ok = tso_agenda(adm, unit, sp, 1, &w, 1, 0, 30);
	uint64_t c = tso_customer(adm, unit, 1, "sao paulo");
	status_t st;
	uint64_t o, filler;
	expect(tso_order(adm, c, a1, 0, MON(9, 0), 0, &o, &st), 0, &st, "order");
	expect(tso_order(adm, c, a_full, 0, MON(11, 0), 0, &filler, &st), 0, &st, "filler");
	Ospay__V1__OrdersUpdateRequest m = OSPAY__V1__ORDERS_UPDATE_REQUEST__INIT;
	m.id = o;
	m.agenda_id = a_rio;
	expect(tsp_call(adm, "ospay.v1.Orders/Update", &m.base, NULL, NULL, NULL, &st), 9, &st,
	       "city");
	m.agenda_id = a_full;
	expect(tsp_call(adm, "ospay.v1.Orders/Update", &m.base, NULL, NULL, NULL, &st), 9, &st,
	       "full");
	m.agenda_id = a_tue;
	expect(tsp_call(adm, "ospay.v1.Orders/Update", &m.base, NULL, NULL, NULL, &st), 9, &st,
	       "no window on Monday");
	/* Agenda and start together, in one call. */
	m.scheduled_start_ms = TUE(8, 0);
	expect(tsp_call(adm, "ospay.v1.Orders/Update", &m.base, NULL, NULL, NULL, &st), 0, &st,
	       "agenda + start");
	m.agenda_id = a_ok;
	m.scheduled_start_ms = MON(10, 0);
	expect(tsp_call(adm, "ospay.v1.Orders/Update", &m.base, NULL, NULL, NULL, &st), 0, &st,
	       "back");
	Ospay__V1__Order *got = tso_get_order(adm, o);
	cr_assert_eq(got->agenda_id, a_ok);
	ospay__v1__order__free_unpacked(got, NULL);
	/* Removing the agenda needs the path in the mask (0 is "not given" otherwise). */
	Ospay__V1__OrdersUpdateRequest rm = OSPAY__V1__ORDERS_UPDATE_REQUEST__INIT;
	char *mask[] = {"agenda_id"};
	rm.id = o;
	rm.update_mask = mask;
	rm.n_update_mask = 1;
	expect(tsp_call(adm, "ospay.v1.Orders/Update", &rm.base, NULL, NULL, NULL, &st), 0, &st,
	       "remove agenda");
	got = tso_get_order(adm, o);
	cr_assert_eq(got->agenda_id, 0);
	cr_assert_eq(got->scheduled_start_ms, MON(10, 0));
	ospay__v1__order__free_unpacked(got, NULL);
	/* The freed place of a_ok can be taken. */
	expect(tso_order(adm, c, a_ok, 0, MON(8, 0), 0, NULL, &st), 0, &st, "freed");
}

Test(orders, finalize_and_cancel_follow_the_state_machine)
{
	uint64_t c = tso_customer(adm, unit, 1, "São Paulo");
	status_t st;
	uint64_t o1, o2;
	expect(tso_order(adm, c, 0, 0, 0, 0, &o1, &st), 0, &st, "unscheduled order");
	expect(tso_order(adm, c, 0, 0, 0, 0, &o2, &st), 0, &st, "second");
	Ospay__V1__OrdersFinalizeRequest f = OSPAY__V1__ORDERS_FINALIZE_REQUEST__INIT;
	f.id = o1;
	f.method_type = OSPAY__V1__PAYMENT_METHOD_TYPE__PAYMENT_METHOD_TYPE_RECURRING_CREDIT;
	f.installments = 3;
	expect(tsp_call(adm, "ospay.v1.Orders/Finalize", &f.base, NULL, NULL, NULL, &st), 9, &st,
	       "integrated");
	cr_assert_str_eq(st.message, "integrated recurring credit needs PagoLivre: set it first");
	f.method_type = 0;
	f.payment_method_id = 42;
	expect(tsp_call(adm, "ospay.v1.Orders/Finalize", &f.base, NULL, NULL, NULL, &st), 5, &st,
	       "unknown payment method");
	f.payment_method_id = 0;
	f.method_type = OSPAY__V1__PAYMENT_METHOD_TYPE__PAYMENT_METHOD_TYPE_PIX;
	expect(tsp_call(adm, "ospay.v1.Orders/Finalize", &f.base, NULL, NULL, NULL, &st), 3, &st,
	       "installments for pix");
	cr_assert(tso_violation(&st, "installments"));
	f.installments = 0;
	f.note = "pago no local";
	Ospay__V1__OrdersFinalizeResponse *fr = NULL;
	expect(tsp_call(adm, "ospay.v1.Orders/Finalize", &f.base,
			&ospay__v1__orders_finalize_response__descriptor, (ProtobufCMessage **)&fr,
			NULL, &st),
	       0, &st, "finalize");
	Ospay__V1__Order *o = fr->order;
	cr_assert_eq(o->status, OSPAY__V1__ORDER_STATUS__ORDER_STATUS_CLOSED);
	/* A manual PIX is paid at once (docs/spec.md 10.1). */
	cr_assert_eq(o->payment_status, OSPAY__V1__ORDER_PAYMENT_STATUS__ORDER_PAYMENT_STATUS_PAID);
	cr_assert_not_null(o->payment);
	cr_assert_eq(o->payment->method_type,
		     OSPAY__V1__PAYMENT_METHOD_TYPE__PAYMENT_METHOD_TYPE_PIX);
	cr_assert_eq(o->payment->installments, 1);
	cr_assert_eq(o->n_history, 2);
	cr_assert_eq(o->history[0]->from, OSPAY__V1__ORDER_STATUS__ORDER_STATUS_UNSPECIFIED);
	cr_assert_eq(o->history[0]->to, OSPAY__V1__ORDER_STATUS__ORDER_STATUS_OPEN);
	cr_assert_eq(o->history[1]->from, OSPAY__V1__ORDER_STATUS__ORDER_STATUS_OPEN);
	cr_assert_eq(o->history[1]->to, OSPAY__V1__ORDER_STATUS__ORDER_STATUS_CLOSED);
	cr_assert_str_eq(o->history[1]->note, "pago no local");
	cr_assert_neq(o->history[1]->by_token_id, 0);
	cr_assert_eq(o->history[1]->at_ms, tso_at(2026, 12, 1, 9, 0), "the test clock's now");
	ospay__v1__orders_finalize_response__free_unpacked(fr, NULL);
	/* Closed: nothing changes any more. */
	expect(tsp_call(adm, "ospay.v1.Orders/Finalize", &f.base, NULL, NULL, NULL, &st), 9, &st,
	       "finalize twice");
	Ospay__V1__OrdersCancelRequest cr = OSPAY__V1__ORDERS_CANCEL_REQUEST__INIT;
	cr.id = o1;
	expect(tsp_call(adm, "ospay.v1.Orders/Cancel", &cr.base, NULL, NULL, NULL, &st), 9, &st,
	       "cancel closed");
	expect(reschedule(o1, MON(9, 0), 60, &st), 9, &st, "reschedule closed");
	/* Cancel keeps the reason in the history. */
	cr.id = o2;
	cr.reason = "duplicada";
	expect(tsp_call(adm, "ospay.v1.Orders/Cancel", &cr.base, NULL, NULL, NULL, &st), 0, &st,
	       "cancel");
	o = tso_get_order(adm, o2);
	cr_assert_eq(o->status, OSPAY__V1__ORDER_STATUS__ORDER_STATUS_CANCELED);
	cr_assert_eq(o->n_history, 2);
	cr_assert_str_eq(o->history[1]->note, "duplicada");
	ospay__v1__order__free_unpacked(o, NULL);
	f.id = o2;
	expect(tsp_call(adm, "ospay.v1.Orders/Finalize", &f.base, NULL, NULL, NULL, &st), 9, &st,
	       "finalize canceled");
	expect(tsp_call(adm, "ospay.v1.Orders/Cancel", &cr.base, NULL, NULL, NULL, &st), 9, &st,
	       "cancel twice");
}

static Ospay__V1__AgendasCalendarResponse *calendar(int view, const char *from, const char *to,
						    bool canceled)
{
	Ospay__V1__AgendasCalendarRequest m = OSPAY__V1__AGENDAS_CALENDAR_REQUEST__INIT;
	m.from_date = (char *)from;
	m.to_date = (char *)to;
	m.view_by = view;
	m.include_canceled = canceled;
	Ospay__V1__AgendasCalendarResponse *r = NULL;
	status_t st;
	int code = tsp_call(adm, "ospay.v1.Agendas/Calendar", &m.base,
			    &ospay__v1__agendas_calendar_response__descriptor,
			    (ProtobufCMessage **)&r, NULL, &st);
	cr_assert_eq(code, 0, "Calendar: %d %s", code, st.message);
	return r;
}

Test(orders, calendar_by_agenda_and_by_technician)
{
	Ospay__V1__AgendaWindow w[] = {tso_window(1, 8, 18, 10), tso_window(2, 8, 18, 10)};
	uint64_t a1 = tso_agenda(adm, unit, NULL, 0, w, 2, 0, 60);
	uint64_t a2 = tso_agenda(adm, unit, NULL, 0, w, 2, 0, 60);
	uint64_t t1 = tso_technician(adm, unit, "João");
	uint64_t t2 = tso_technician(adm, unit, "Maria");
	uint64_t c = tso_customer(adm, unit, 1, "São Paulo");
	status_t st;
	uint64_t o[5];
	expect(tso_order(adm, c, a1, t1, MON(9, 0), 0, &o[0], &st), 0, &st, "o0");
	expect(tso_order(adm, c, a1, t2, MON(8, 0), 0, &o[1], &st), 0, &st, "o1");
	expect(tso_order(adm, c, a2, t1, TUE(10, 0), 0, &o[2], &st), 0, &st, "o2");
	expect(tso_order(adm, c, a2, 0, TUE(11, 0), 0, &o[3], &st), 0, &st, "o3");
	/* Out of the range: the next Monday. */
	expect(tso_order(adm, c, a1, t1, tso_at(2026, 12, 14, 9, 0), 0, &o[4], &st), 0, &st, "o4");
	Ospay__V1__OrdersCancelRequest cr = OSPAY__V1__ORDERS_CANCEL_REQUEST__INIT;
	cr.id = o[3];
	tsp_call_ok(adm, "ospay.v1.Orders/Cancel", &cr.base, NULL);

	Ospay__V1__AgendasCalendarResponse *r =
		calendar(OSPAY__V1__CALENDAR_VIEW_BY__CALENDAR_VIEW_BY_AGENDA, "2026-12-07",
			 "2026-12-13", false);
	cr_assert_eq(r->n_groups, 2);
	cr_assert_eq(r->utc_offset_minutes, -180);
	cr_assert_eq(r->groups[0]->id, a1);
	cr_assert_eq(r->groups[0]->n_entries, 2);
	cr_assert_eq(r->groups[0]->entries[0]->order_id, o[1], "by start time");
	cr_assert_eq(r->groups[0]->entries[1]->order_id, o[0]);
	Ospay__V1__CalendarEntry *e = r->groups[0]->entries[1];
	cr_assert_str_eq(e->local_date, "2026-12-07");
	cr_assert_eq(e->local_start_minute, 9 * 60);
	cr_assert_eq(e->duration_minutes, 60);
	cr_assert_str_eq(e->customer_name, "Cliente 1");
	cr_assert_eq(e->customer_id, c);
	cr_assert_eq(e->technician_id, t1);
	cr_assert_eq(e->status, OSPAY__V1__ORDER_STATUS__ORDER_STATUS_OPEN);
	cr_assert_eq(r->groups[1]->id, a2);
	cr_assert_eq(r->groups[1]->n_entries, 1, "canceled orders are left out");
	ospay__v1__agendas_calendar_response__free_unpacked(r, NULL);

	r = calendar(OSPAY__V1__CALENDAR_VIEW_BY__CALENDAR_VIEW_BY_AGENDA, "2026-12-07",
		     "2026-12-13", true);
	cr_assert_eq(r->groups[1]->n_entries, 2);
	cr_assert_eq(r->groups[1]->entries[1]->status,
		     OSPAY__V1__ORDER_STATUS__ORDER_STATUS_CANCELED);
	ospay__v1__agendas_calendar_response__free_unpacked(r, NULL);

	r = calendar(OSPAY__V1__CALENDAR_VIEW_BY__CALENDAR_VIEW_BY_TECHNICIAN, "2026-12-07",
		     "2026-12-14", false);
	cr_assert_eq(r->n_groups, 2);
	cr_assert_eq(r->groups[0]->id, t1);
	cr_assert_str_eq(r->groups[0]->name, "João");
	cr_assert_eq(r->groups[0]->n_entries, 3, "o0, o2 and next Monday's o4");
	cr_assert_eq(r->groups[0]->entries[0]->order_id, o[0]);
	cr_assert_eq(r->groups[0]->entries[1]->order_id, o[2]);
	cr_assert_eq(r->groups[0]->entries[2]->order_id, o[4]);
	cr_assert_eq(r->groups[1]->id, t2);
	cr_assert_eq(r->groups[1]->n_entries, 1);
	ospay__v1__agendas_calendar_response__free_unpacked(r, NULL);

	/* One day only: the range is local days, both ends included. */
	r = calendar(OSPAY__V1__CALENDAR_VIEW_BY__CALENDAR_VIEW_BY_TECHNICIAN, "2026-12-08",
		     "2026-12-08", false);
	cr_assert_eq(r->groups[0]->n_entries, 1);
	cr_assert_eq(r->groups[0]->entries[0]->order_id, o[2]);
	cr_assert_eq(r->groups[1]->n_entries, 0);
	ospay__v1__agendas_calendar_response__free_unpacked(r, NULL);

	/* Named groups only. */
	Ospay__V1__AgendasCalendarRequest m = OSPAY__V1__AGENDAS_CALENDAR_REQUEST__INIT;
	uint64_t ids[] = {a2};
	m.from_date = "2026-12-01";
	m.to_date = "2027-01-31";
	m.view_by = OSPAY__V1__CALENDAR_VIEW_BY__CALENDAR_VIEW_BY_AGENDA;
	m.ids = ids;
	m.n_ids = 1;
	tsp_list_only(adm, "ospay.v1.Agendas/Calendar", &m.base,
		      &ospay__v1__agendas_calendar_response__descriptor, "groups", a2);
	/* 63 days is too many. */
	m.to_date = "2027-02-01";
	cr_assert_eq(tsp_call(adm, "ospay.v1.Agendas/Calendar", &m.base, NULL, NULL, NULL, &st), 3);
	cr_assert(tso_violation(&st, "to_date"));
}

Test(orders, idempotent_create_books_once)
{
	Ospay__V1__AgendaWindow w = tso_window(1, 8, 12, 1);
	uint64_t ag = tso_agenda(adm, unit, NULL, 0, &w, 1, 0, 30);
	uint64_t c = tso_customer(adm, unit, 1, "São Paulo");
	Ospay__V1__OrdersCreateRequest m = OSPAY__V1__ORDERS_CREATE_REQUEST__INIT;
	m.customer_id = c;
	m.kind = "REPARO";
	m.agenda_id = ag;
	m.scheduled_start_ms = MON(8, 0);
	uint64_t ids[2];
	for (int i = 0; i < 2; i++) {
		Ospay__V1__OrdersCreateResponse *r = NULL;
		status_t st;
		int code = tsp_call(adm, CREATE_ORDER, &m.base,
				    &ospay__v1__orders_create_response__descriptor,
				    (ProtobufCMessage **)&r, "os-key-1", &st);
		cr_assert_eq(code, 0, "try %d: %s", i, st.message);
		ids[i] = r->order->id;
		ospay__v1__orders_create_response__free_unpacked(r, NULL);
	}
	cr_assert_eq(ids[0], ids[1], "a repeat must not take a second place");
}

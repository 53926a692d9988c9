/*
 * Moving orders across the calendar's rows end to end: Reschedule to another
 * technician (with the overlap rule) or agenda; deleting an agenda with
 * booked future orders refused with their count unless they are released,
 * and an order left on a removed agenda still moved; and the CLI.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>

#include "support/domain.h"
#include "support/proc.h"
#include "support/cli_suite.h"

TSP_CLI_SUITE(move, "2026-12-01T12:00:00Z", 60);
#define MON(h, m) tso_at(2026, 12, 7, (h), (m))

static int move(uint64_t id, int64_t start, uint64_t tech, uint64_t agenda, status_t *st)
{
	return tso_reschedule(adm, id, start, 0, tech, agenda, st);
}

Test(move, to_another_technician_with_the_overlap_rule)
{
	Ospay__V1__AgendaWindow w = tso_window(1, 8, 12, 4);
	uint64_t ag = tso_agenda(adm, unit, NULL, 0, &w, 1, 0, 60);
	uint64_t c = tso_customer(adm, unit, 1, "São Paulo");
	uint64_t joao = tso_technician(adm, unit, "João"), ana = tso_technician(adm, unit, "Ana");
	uint64_t a, b;
	status_t st;
	cr_assert_eq(tso_order(adm, c, ag, joao, MON(8, 0), 0, &a, &st), 0);
	cr_assert_eq(tso_order(adm, c, ag, ana, MON(9, 0), 0, &b, &st), 0);
	/* João's 08:00 to Ana at 09:00: she is busy. */
	cr_assert_eq(move(a, MON(9, 0), ana, 0, &st), 9);
	cr_assert(strstr(st.message, "already booked on order") != NULL, "%s", st.message);
	/* At 10:00 she is free. */
	cr_assert_eq(move(a, MON(10, 0), ana, 0, &st), 0, "%s", st.message);
	Ospay__V1__Order *o = tso_get_order(adm, a);
	cr_assert_eq(o->technician_id, ana);
	cr_assert_eq(o->scheduled_start_ms, MON(10, 0));
	ospay__v1__order__free_unpacked(o, NULL);
	/* A technician of another unit is refused. */
	uint64_t u2 = tso_unit(adm, "Zona Sul");
	uint64_t far = tso_technician(adm, u2, "Pedro");
	cr_assert_eq(move(a, MON(10, 0), far, 0, &st), 9);
	/* Across agendas: the other agenda's window and city rule apply. */
	const char *cities[] = {"Campinas"};
	uint64_t ag2 = tso_agenda(adm, unit, cities, 1, &w, 1, 0, 60);
	cr_assert_eq(move(b, MON(9, 0), 0, ag2, &st), 9);
	cr_assert(strstr(st.message, "city") != NULL, "%s", st.message);
	uint64_t ag3 = tso_agenda(adm, unit, NULL, 0, &w, 1, 0, 30);
	cr_assert_eq(move(b, MON(8, 30), 0, ag3, &st), 0, "%s", st.message);
}

Test(move, cli)
{
	Ospay__V1__AgendaWindow w = tso_window(1, 8, 12, 4);
	tso_agenda(adm, unit, NULL, 0, &w, 1, 0, 60);
	tso_customer(adm, unit, 1, "São Paulo");
	tso_technician(adm, unit, "João");
	tso_technician(adm, unit, "Ana");
	cr_assert_eq(ospay("orders", "create", "--customer", "1", "--kind", "REPARO", "--agenda",
			   "1", "--technician", "1", "--start", "2026-12-07 08:00", NULL),
		     0, "%s", out);
	cr_assert_eq(ospay("orders", "reschedule", "1", "--start", "2026-12-07 09:00",
			   "--technician", "2", NULL),
		     0, "%s", out);
	HAS("2026-12-07 09:00");
	cr_assert_eq(ospay("orders", "reschedule", "1", "--start", "2026-12-07 09:00",
			   "--technician", "none", NULL),
		     2, "%s", out);
}

static int delete_agenda(uint64_t id, bool release, status_t *st)
{
	Ospay__V1__AgendasDeleteRequest m = OSPAY__V1__AGENDAS_DELETE_REQUEST__INIT;
	m.id = id;
	m.release_orders = release;
	return tsp_call(adm, "ospay.v1.Agendas/Delete", &m.base, NULL, NULL, NULL, st);
}

Test(move, deleting_an_agenda_with_booked_orders)
{
	Ospay__V1__AgendaWindow w = tso_window(1, 8, 12, 4);
	uint64_t ag = tso_agenda(adm, unit, NULL, 0, &w, 1, 0, 60);
	uint64_t c = tso_customer(adm, unit, 1, "São Paulo");
	uint64_t t = tso_technician(adm, unit, "João");
	uint64_t a, b, gone;
	status_t st;
	cr_assert_eq(tso_order(adm, c, ag, t, MON(8, 0), 0, &a, &st), 0);
	cr_assert_eq(tso_order(adm, c, ag, 0, MON(9, 0), 0, &b, &st), 0);
	cr_assert_eq(tso_order(adm, c, ag, 0, MON(10, 0), 0, &gone, &st), 0);
	Ospay__V1__OrdersCancelRequest cr = OSPAY__V1__ORDERS_CANCEL_REQUEST__INIT;
	cr.id = gone;
	cr_assert_eq(tsp_call(adm, "ospay.v1.Orders/Cancel", &cr.base, NULL, NULL, NULL, &st), 0);
	cr_assert_eq(delete_agenda(ag, false, &st), 9);
	cr_assert(strstr(st.message, "has 2 booked orders from now on") != NULL, "%s", st.message);
	cr_assert(strstr(st.message, "2026-12-07 08:00") != NULL, "%s", st.message);
	cr_assert(strstr(st.message, "release_orders") != NULL, "%s", st.message);
	cr_assert_eq(delete_agenda(ag, true, &st), 0, "%s", st.message);
	/* Left on the removed agenda, an order still moves (the technician's rule holds). */
	cr_assert_eq(move(b, MON(8, 30), t, 0, &st), 9, "overlaps João's 08:00");
	cr_assert_eq(move(b, MON(14, 0), 0, 0, &st), 0, "%s", st.message);
	Ospay__V1__Order *o = tso_get_order(adm, b);
	cr_assert_eq(o->agenda_id, ag, "keeps the agenda's id");
	cr_assert_eq(o->scheduled_start_ms, MON(14, 0));
	ospay__v1__order__free_unpacked(o, NULL);
	/* An agenda with only past or canceled orders goes at once. */
	uint64_t ag2 = tso_agenda(adm, unit, NULL, 0, &w, 1, 0, 60);
	cr_assert_eq(delete_agenda(ag2, false, &st), 0, "%s", st.message);
	cr_assert_eq(ospay("agendas", "create", "--unit", "1", "--name", "X", "--slot", "60",
			   "--window", "mon,08:00-12:00,2", NULL),
		     0, "%s", out);
}

Test(move, cli_delete)
{
	Ospay__V1__AgendaWindow w = tso_window(1, 8, 12, 4);
	uint64_t ag = tso_agenda(adm, unit, NULL, 0, &w, 1, 0, 60);
	uint64_t c = tso_customer(adm, unit, 1, "São Paulo");
	cr_assert_eq(tso_order(adm, c, ag, 0, MON(8, 0), 0, NULL, NULL), 0);
	cr_assert_eq(ospay("agendas", "delete", "1", NULL), 1, "%s", out);
	HAS("has 1 booked order from now on");
	cr_assert_eq(ospay("agendas", "delete", "1", "--release-orders", NULL), 0, "%s", out);
	HAS("agenda 1 deleted");
}

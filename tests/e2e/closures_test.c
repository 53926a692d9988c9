/*
 * Closed days end to end: closures per agenda and organization-wide with a
 * reason, Brazil's national holidays (on by default, switchable), Orders
 * Create / Update / Reschedule refusing a closed day with the reason,
 * Availability showing it, and the CLI.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "support/domain.h"
#include "support/proc.h"
#include "support/cli_suite.h"

TSP_CLI_SUITE(closures, "2026-12-01T12:00:00Z", 60);

/* Every weekday 08:00-12:00, 4 places, 60-minute slots. */
static uint64_t weekly_agenda(void)
{
	Ospay__V1__AgendaWindow w[7];
	for (int i = 0; i < 7; i++)
		w[i] = tso_window(i + 1, 8, 12, 4);
	return tso_agenda(adm, unit, NULL, 0, w, 7, 0, 60);
}

static int add_closure(uint64_t agenda, const char *date, const char *reason, uint64_t *id,
		       status_t *st)
{
	Ospay__V1__AgendasAddClosureRequest m = OSPAY__V1__AGENDAS_ADD_CLOSURE_REQUEST__INIT;
	ProtobufCMessage *c = NULL;
	m.agenda_id = agenda;
	m.date = (char *)date;
	m.reason = (char *)reason;
	int code = tsp_call_take(adm, "ospay.v1.Agendas/AddClosure", &m.base,
				 &ospay__v1__agendas_add_closure_response__descriptor, "closure",
				 &c, st);
	if (code == 0 && id != NULL)
		*id = ((Ospay__V1__Closure *)c)->id;
	if (c != NULL)
		protobuf_c_message_free_unpacked(c, NULL);
	return code;
}

static void set_holidays(bool closed)
{
	Ospay__V1__AgendasSetNationalHolidaysRequest m =
		OSPAY__V1__AGENDAS_SET_NATIONAL_HOLIDAYS_REQUEST__INIT;
	status_t st;
	m.closed = closed;
	cr_assert_eq(tsp_call(adm, "ospay.v1.Agendas/SetNationalHolidays", &m.base, NULL, NULL,
			      NULL, &st),
		     0, "%s", st.message);
}

Test(closures, national_holiday_refused_with_reason_and_switchable)
{
	uint64_t ag = weekly_agenda();
	uint64_t c = tso_customer(adm, unit, 1, "São Paulo");
	status_t st;
	cr_assert_eq(tso_order(adm, c, ag, 0, tso_at(2026, 12, 25, 8, 0), 0, NULL, &st), 0,
		     "open by default: %s", st.message);
	set_holidays(true);
	int code = tso_order(adm, c, ag, 0, tso_at(2026, 12, 25, 9, 0), 0, NULL, &st);
	cr_assert_eq(code, 9, "Christmas is closed once switched on");
	cr_assert(strstr(st.message, "2026-12-25 is closed: Natal") != NULL, "%s", st.message);
	code = tso_order(adm, c, ag, 0, tso_at(2027, 2, 9, 9, 0), 0, NULL, &st);
	cr_assert_eq(code, 9);
	cr_assert(strstr(st.message, "Carnaval") != NULL, "%s", st.message);
	/* The day before is open. */
	cr_assert_eq(tso_order(adm, c, ag, 0, tso_at(2026, 12, 24, 9, 0), 0, NULL, &st), 0);
	set_holidays(false);
	cr_assert_eq(tso_order(adm, c, ag, 0, tso_at(2026, 12, 25, 9, 0), 0, NULL, &st), 0,
		     "the organization works on holidays: %s", st.message);
	set_holidays(true);
	cr_assert_eq(tso_order(adm, c, ag, 0, tso_at(2026, 12, 25, 10, 0), 0, NULL, &st), 9);
}

Test(closures, agenda_and_organization_closures)
{
	uint64_t a1 = weekly_agenda(), a2 = weekly_agenda();
	uint64_t c = tso_customer(adm, unit, 1, "São Paulo");
	status_t st;
	uint64_t team, all;
	cr_assert_eq(add_closure(a1, "2026-12-09", "treinamento da equipe", &team, &st), 0, "%s",
		     st.message);
	cr_assert_eq(add_closure(0, "2026-12-10", "inventário", &all, &st), 0, "%s", st.message);
	cr_assert_eq(add_closure(a1, "2026-12-09", "de novo", NULL, &st), 6,
		     "twice: ALREADY_EXISTS");
	cr_assert_eq(add_closure(a1, "2026-12-32", "", NULL, &st), 3);
	cr_assert(tso_violation(&st, "date"));
	cr_assert(tso_violation(&st, "reason"));
	int code = tso_order(adm, c, a1, 0, tso_at(2026, 12, 9, 9, 0), 0, NULL, &st);
	cr_assert_eq(code, 9);
	cr_assert(strstr(st.message, "treinamento da equipe") != NULL, "%s", st.message);
	cr_assert_eq(tso_order(adm, c, a2, 0, tso_at(2026, 12, 9, 9, 0), 0, NULL, &st), 0,
		     "the other agenda is open");
	cr_assert_eq(tso_order(adm, c, a2, 0, tso_at(2026, 12, 10, 9, 0), 0, NULL, &st), 9,
		     "organization-wide");
	cr_assert(strstr(st.message, "inventário") != NULL, "%s", st.message);
	/* Reschedule onto a closed day: refused with the reason. */
	uint64_t o;
	cr_assert_eq(tso_order(adm, c, a1, 0, tso_at(2026, 12, 8, 9, 0), 0, &o, &st), 0);
	Ospay__V1__OrdersRescheduleRequest rr = OSPAY__V1__ORDERS_RESCHEDULE_REQUEST__INIT;
	rr.id = o;
	rr.scheduled_start_ms = tso_at(2026, 12, 10, 9, 0);
	cr_assert_eq(tsp_call(adm, "ospay.v1.Orders/Reschedule", &rr.base, NULL, NULL, NULL, &st),
		     9);
	cr_assert(strstr(st.message, "closed: inventário") != NULL, "%s", st.message);
	/* Availability shows the closed day with no free place. */
	Ospay__V1__AgendasAvailabilityRequest ar = OSPAY__V1__AGENDAS_AVAILABILITY_REQUEST__INIT;
	ProtobufCMessage *resp = NULL;
	ar.agenda_id = a1;
	ar.from_date = "2026-12-08";
	ar.days = 3;
	cr_assert_eq(tsp_call(adm, "ospay.v1.Agendas/Availability", &ar.base,
			      &ospay__v1__agendas_availability_response__descriptor, &resp, NULL,
			      &st),
		     0);
	Ospay__V1__AgendasAvailabilityResponse *av = (void *)resp;
	cr_assert(!av->days[0]->closed);
	cr_assert_eq(av->days[0]->windows[0]->free, 3);
	cr_assert(av->days[1]->closed);
	cr_assert_str_eq(av->days[1]->closed_reason, "treinamento da equipe");
	cr_assert_eq(av->days[1]->windows[0]->free, 0);
	cr_assert(av->days[2]->closed);
	protobuf_c_message_free_unpacked(resp, NULL);
	/* Removing a closure opens the day again. */
	Ospay__V1__AgendasRemoveClosureRequest rm = OSPAY__V1__AGENDAS_REMOVE_CLOSURE_REQUEST__INIT;
	rm.id = team;
	cr_assert_eq(
		tsp_call(adm, "ospay.v1.Agendas/RemoveClosure", &rm.base, NULL, NULL, NULL, &st), 0,
		"%s", st.message);
	cr_assert_eq(tso_order(adm, c, a1, 0, tso_at(2026, 12, 9, 9, 0), 0, NULL, &st), 0, "%s",
		     st.message);
	cr_assert_eq(
		tsp_call(adm, "ospay.v1.Agendas/RemoveClosure", &rm.base, NULL, NULL, NULL, &st), 5,
		"gone");
}

Test(closures, operators_may_not_close_days)
{
	char secret[128];
	tso_token(adm, 2 /* OPERATOR */, 0, secret, sizeof(secret));
	int op = tsp_login(&srv, secret);
	Ospay__V1__AgendasAddClosureRequest m = OSPAY__V1__AGENDAS_ADD_CLOSURE_REQUEST__INIT;
	status_t st;
	m.date = "2026-12-24";
	m.reason = "véspera";
	cr_assert_eq(tsp_call(op, "ospay.v1.Agendas/AddClosure", &m.base, NULL, NULL, NULL, &st), 7,
		     "PERMISSION_DENIED");
	close(op);
}

Test(closures, cli)
{
	uint64_t ag = weekly_agenda();
	char id[24];
	snprintf(id, sizeof(id), "%llu", (unsigned long long)ag);
	cr_assert_eq(ospay("closures", "add", "--agenda", id, "--date", "2026-12-24", "--reason",
			   "Véspera de Natal", NULL),
		     0, "%s", out);
	HAS("Véspera de Natal");
	HAS("2026-12-24");
	cr_assert_eq(ospay("closures", "list", "--agenda", id, "--from", "2026-12-01", "--to",
			   "2027-01-31", NULL),
		     0, "%s", out);
	HAS("2026-12-24  Thursday");
	HAS("Véspera de Natal (closure 1, agenda 1)");
	cr_assert(strstr(out, "(national holiday)") == NULL, "holidays are open by default");
	cr_assert_eq(ospay("closures", "national-holidays", "open", NULL), 0, "%s", out);
	HAS("works on national holidays");
	cr_assert_eq(ospay("closures", "national-holidays", "closed", NULL), 0, "%s", out);
	HAS("national holidays are closed days");
	cr_assert_eq(ospay("closures", "list", "--agenda", id, "--from", "2026-12-20", "--to",
			   "2026-12-31", NULL),
		     0, "%s", out);
	HAS("Natal (national holiday)");
	cr_assert_eq(ospay("closures", "national-holidays", "open", NULL), 0, "%s", out);
	cr_assert_eq(ospay("closures", "list", "--from", "2026-12-01", "--to", "2026-12-31", NULL),
		     0, "%s", out);
	cr_assert(strstr(out, "Natal (national holiday)") == NULL, "%s", out);
	cr_assert_eq(
		ospay("agendas", "availability", id, "--from", "2026-12-24", "--days", "1", NULL),
		0, "%s", out);
	HAS("closed: Véspera de Natal");
	cr_assert_eq(ospay("closures", "national-holidays", "maybe", NULL), 2, "%s", out);
	cr_assert_eq(ospay("closures", "remove", "1", NULL), 0, "%s", out);
	HAS("closure 1 removed");
}

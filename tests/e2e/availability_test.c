/*
 * Agendas/Availability end to end against a real ospayd: per day and window,
 * capacity, booked, free, the daily maximum left and the technicians free,
 * always the numbers Orders/Create enforces: checked one create at a time and
 * against a race of creates from many connections. And the CLI's table.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "common/util.h"
#include "ospay/v1/rpc.pb-c.h"
#include "support/domain.h"
#include "support/proc.h"
#include "support/cli_suite.h"

TSP_CLI_SUITE(availability, "2026-12-01T12:00:00Z", 120);

/* 2026-12-07 is a Monday. */
#define MON(h, m) tso_at(2026, 12, 7, (h), (m))

/* Availability of agenda from date for days (asserting OK); free the response. */
static Ospay__V1__AgendasAvailabilityResponse *avail(int fd, uint64_t agenda, const char *from,
						     uint32_t days)
{
	Ospay__V1__AgendasAvailabilityRequest m = OSPAY__V1__AGENDAS_AVAILABILITY_REQUEST__INIT;
	ProtobufCMessage *resp = NULL;
	status_t st;
	m.agenda_id = agenda;
	m.from_date = (char *)from;
	m.days = days;
	int code =
		tsp_call(fd, "ospay.v1.Agendas/Availability", &m.base,
			 &ospay__v1__agendas_availability_response__descriptor, &resp, NULL, &st);
	cr_assert_eq(code, 0, "Availability: %d %s", code, st.message);
	return (Ospay__V1__AgendasAvailabilityResponse *)resp;
}

/* The free count of window w of the first day. */
static uint32_t free_at(int fd, uint64_t agenda, size_t w)
{
	Ospay__V1__AgendasAvailabilityResponse *r = avail(fd, agenda, "2026-12-07", 1);
	cr_assert_eq(r->n_days, 1);
	cr_assert_gt(r->days[0]->n_windows, w);
	uint32_t f = r->days[0]->windows[w]->free;
	ospay__v1__agendas_availability_response__free_unpacked(r, NULL);
	return f;
}

Test(availability, days_windows_and_daily_maximum)
{
	Ospay__V1__AgendaWindow w[] = {tso_window(1, 13, 18, 3), tso_window(1, 8, 12, 2),
				       tso_window(3, 8, 10, 1)};
	uint64_t ag = tso_agenda(adm, unit, NULL, 0, w, 3, 4, 60);
	uint64_t c = tso_customer(adm, unit, 1, "São Paulo");
	uint64_t joao = tso_technician(adm, unit, "João");
	uint64_t ana = tso_technician(adm, unit, "Ana");
	cr_assert_eq(tso_order(adm, c, ag, joao, MON(8, 0), 0, NULL, NULL), 0);
	cr_assert_eq(tso_order(adm, c, ag, 0, MON(13, 0), 0, NULL, NULL), 0);
	Ospay__V1__AgendasAvailabilityResponse *r = avail(adm, ag, "2026-12-07", 3);
	cr_assert_eq(r->n_days, 3);
	cr_assert_str_eq(r->days[0]->date, "2026-12-07");
	cr_assert_eq(r->days[0]->weekday, OSPAY__V1__WEEKDAY__WEEKDAY_MONDAY);
	cr_assert_eq(r->days[0]->n_windows, 2, "Monday's windows, by start");
	const Ospay__V1__AvailabilityWindow *am = r->days[0]->windows[0];
	const Ospay__V1__AvailabilityWindow *pm = r->days[0]->windows[1];
	cr_assert_eq(am->start_minute, 8 * 60);
	cr_assert_eq(am->capacity, 2);
	cr_assert_eq(am->booked, 1);
	cr_assert_eq(am->free, 1);
	cr_assert_eq(pm->booked, 1);
	cr_assert_eq(pm->free, 2);
	cr_assert_eq(r->days[0]->booked, 2);
	cr_assert_eq(r->days[0]->daily_max, 4);
	cr_assert_eq(r->days[0]->daily_left, 2);
	/* João is booked 08:00-09:00: free from 09:00; Ana from 08:00. */
	cr_assert_eq(am->n_technicians, 2);
	for (size_t i = 0; i < am->n_technicians; i++) {
		const Ospay__V1__AvailableTechnician *t = am->technicians[i];
		cr_assert_eq(t->first_free_ms, t->id == joao ? MON(9, 0) : MON(8, 0), "%s",
			     t->name);
		cr_assert(t->id == joao || t->id == ana);
	}
	cr_assert_eq(r->days[1]->n_windows, 0, "no Tuesday windows");
	cr_assert_eq(r->days[2]->n_windows, 1);
	cr_assert_eq(r->days[2]->windows[0]->free, 1);
	ospay__v1__agendas_availability_response__free_unpacked(r, NULL);
	/* Two more fill the daily maximum: every window of the day shows 0 free. */
	cr_assert_eq(tso_order(adm, c, ag, 0, MON(14, 0), 0, NULL, NULL), 0);
	cr_assert_eq(tso_order(adm, c, ag, 0, MON(15, 0), 0, NULL, NULL), 0);
	cr_assert_eq(free_at(adm, ag, 0), 0, "daily maximum reached");
	cr_assert_eq(free_at(adm, ag, 1), 0, "daily maximum reached");
	status_t st;
	cr_assert_eq(tso_order(adm, c, ag, 0, MON(9, 0), 0, NULL, &st), 9, "Create agrees");
}

Test(availability, bad_requests)
{
	Ospay__V1__AgendaWindow w = tso_window(1, 8, 12, 2);
	uint64_t ag = tso_agenda(adm, unit, NULL, 0, &w, 1, 0, 60);
	Ospay__V1__AgendasAvailabilityRequest m = OSPAY__V1__AGENDAS_AVAILABILITY_REQUEST__INIT;
	status_t st;
	m.agenda_id = ag;
	m.from_date = "2026-13-01";
	m.days = 40;
	tso_invalid(adm, "ospay.v1.Agendas/Availability", &m.base, "month 13, 40 days", "from_date",
		    "days", NULL);
	m.agenda_id = 999;
	m.from_date = "2026-12-07";
	m.days = 1;
	cr_assert_eq(tsp_call(adm, "ospay.v1.Agendas/Availability", &m.base, NULL, NULL, NULL, &st),
		     5, "an unknown agenda is NOT_FOUND");
}

Test(availability, race_of_creates_never_disagrees)
{
	/* Window capacity 5, daily maximum 7 over two windows: the race is for both limits. */
	Ospay__V1__AgendaWindow w[] = {tso_window(1, 8, 12, 5), tso_window(1, 13, 17, 5)};
	uint64_t ag = tso_agenda(adm, unit, NULL, 0, w, 2, 7, 30);
	uint64_t c = tso_customer(adm, unit, 1, "São Paulo");
	enum { CONNS = 6, ROUNDS = 4 };
	int fds[CONNS];
	for (int i = 0; i < CONNS; i++)
		fds[i] = tsp_login(&srv, srv.admin_token);
	uint32_t booked = 0;
	for (int round = 0; round < ROUNDS; round++) {
		uint32_t before_am = free_at(adm, ag, 0), before_pm = free_at(adm, ag, 1);
		/* Each connection sends two creates at once (one per window) in one send. */
		for (int i = 0; i < CONNS; i++) {
			uint8_t frames[1024];
			size_t len = tso_order_frame(frames, 1, c, ag, MON(8, 0) + i % 8 * 1800000,
						     "INSTALAÇÃO");
			len += tso_order_frame(frames + len, 2, c, ag, MON(13, 0) + i % 8 * 1800000,
					       "INSTALAÇÃO");
			cr_assert_eq(send(fds[i], frames, len, MSG_NOSIGNAL), (ssize_t)len);
		}
		uint32_t ok = 0;
		for (int i = 0; i < CONNS; i++) {
			for (int k = 0; k < 2; k++) {
				int code;
				cr_assert_eq(tsp_recv_response(fds[i], NULL, &code, NULL, NULL,
							       TSP_HANG_MS),
					     0);
				cr_assert(code == 0 || code == 9, "unexpected code %d", code);
				ok += code == 0;
			}
		}
		booked += ok;
		uint32_t after_am = free_at(adm, ag, 0), after_pm = free_at(adm, ag, 1);
		/* What was free before is exactly what the race could win, up to the day's
		 * limit, and what is free now is what is left. */
		cr_assert_leq(ok, before_am + before_pm, "round %d: %u won, %u+%u were free", round,
			      ok, before_am, before_pm);
		cr_assert_eq(booked, 7 < 2 * CONNS * (round + 1) ? 7 : booked, "round %d", round);
		Ospay__V1__AgendasAvailabilityResponse *r = avail(adm, ag, "2026-12-07", 1);
		cr_assert_eq(r->days[0]->booked, booked);
		cr_assert_eq(r->days[0]->daily_left, 7 - booked);
		cr_assert_eq(after_am, 7 - booked < 5 - r->days[0]->windows[0]->booked
					       ? 7 - booked
					       : 5 - r->days[0]->windows[0]->booked);
		ospay__v1__agendas_availability_response__free_unpacked(r, NULL);
		(void)after_pm;
	}
	cr_assert_eq(booked, 7, "the daily maximum, exactly");
	/* And Create agrees with a free count of zero. */
	status_t st;
	cr_assert_eq(free_at(adm, ag, 0) + free_at(adm, ag, 1), 0);
	cr_assert_eq(tso_order(adm, c, ag, 0, MON(11, 30), 0, NULL, &st), 9, "%s", st.message);
	for (int i = 0; i < CONNS; i++)
		close(fds[i]);
}

Test(availability, one_create_at_a_time_agrees)
{
	/* Walk every grid start: Create succeeds exactly while the window shows a place. */
	Ospay__V1__AgendaWindow w = tso_window(1, 8, 10, 3);
	uint64_t ag = tso_agenda(adm, unit, NULL, 0, &w, 1, 0, 30);
	uint64_t c = tso_customer(adm, unit, 1, "São Paulo");
	for (int i = 0; i < 5; i++) {
		uint32_t f = free_at(adm, ag, 0);
		status_t st;
		int code = tso_order(adm, c, ag, 0, MON(8, 0) + (int64_t)(i % 4) * 1800000, 0, NULL,
				     &st);
		cr_assert_eq(code, f > 0 ? 0 : 9, "free %u, Create said %d (%s)", f, code,
			     st.message);
	}
}

Test(availability, cli_table)
{
	Ospay__V1__AgendaWindow w[] = {tso_window(1, 8, 12, 2), tso_window(1, 13, 18, 4)};
	uint64_t ag = tso_agenda(adm, unit, NULL, 0, w, 2, 5, 60);
	uint64_t c = tso_customer(adm, unit, 1, "São Paulo");
	tso_technician(adm, unit, "João");
	cr_assert_eq(tso_order(adm, c, ag, 0, MON(9, 0), 0, NULL, NULL), 0);
	char id[24];
	snprintf(id, sizeof(id), "%llu", (unsigned long long)ag);
	cr_assert_eq(
		ospay("agendas", "availability", id, "--from", "2026-12-07", "--days", "2", NULL),
		0, "%s", out);
	HAS("DATE");
	HAS("FREE");
	HAS("2026-12-07");
	HAS("Monday");
	HAS("08:00-12:00");
	HAS("13:00-18:00");
	HAS("4 of 5");
	HAS("João (1) 08:00");
	HAS("2026-12-08");
	HAS("no windows");
	cr_assert_eq(ospay("--json", "agendas", "availability", id, "--from", "2026-12-07", NULL),
		     0, "%s", out);
	HAS("\"days\"");
	HAS("\"free\"");
}

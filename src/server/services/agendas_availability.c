/*
 * Agendas/Availability: free places per local day and window, computed with
 * the very functions Orders/Create enforces (booking.h, core/agenda.h): a
 * window's start is located like an order's start, counted like one, and its
 * room is agenda_room's. Technicians are free when booking_tech_overlap finds
 * nothing for a slot-long order on the window's grid.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "core/agenda.h"
#include "core/date.h"
#include "common/util.h"
#include "core/order.h"
#include "ospay/v1/admin.pb-c.h"
#include "server/db/db.h"
#include "server/rpc/kit.h"
#include "server/rpc/srv.h"
#include "server/services/booking.h"
#include "server/services/services.h"

#define AVAIL_DEFAULT_DAYS 7
#define AVAIL_MAX_DAYS 31
#define AVAIL_MAX_TECHS 100

/* Everything the reply points into: one list of plain allocations. */
typedef struct avail {
	void **held;
	size_t n_held, cap_held;
	Ospay__V1__Technician *techs[AVAIL_MAX_TECHS];
	size_t n_techs;
} avail_t;

/* calloc(n, size) kept in v, freed by avail_free; NULL when out of memory. */
static void *avail_alloc(avail_t *v, size_t n, size_t size)
{
	if (v->n_held == v->cap_held) {
		size_t ncap = v->cap_held == 0 ? 64 : v->cap_held * 2;
		void **grown = realloc(v->held, ncap * sizeof(*grown));
		if (grown == NULL)
			return NULL;
		v->held = grown;
		v->cap_held = ncap;
	}
	void *p = calloc(n == 0 ? 1 : n, size);
	if (p != NULL)
		v->held[v->n_held++] = p;
	return p;
}

static void avail_free(avail_t *v)
{
	for (size_t i = 0; i < v->n_held; i++)
		free(v->held[i]);
	free(v->held);
	for (size_t i = 0; i < v->n_techs; i++)
		ospay__v1__technician__free_unpacked(v->techs[i], NULL);
}

/* The technicians of the agenda's unit, by id (the first AVAIL_MAX_TECHS). */
static int avail_techs(store_txn_t *txn, avail_t *v, uint64_t unit)
{
	store_cursor_t *cur = NULL;
	store_val_t ck, cv;
	uint8_t k[8], v0[8];
	be64_put(k, unit);
	be64_put(v0, 0);
	int rc = store_cursor_open(txn, DB_TECHNICIANS_BY_UNIT, &cur);
	if (rc == 0)
		rc = store_cursor_seek_dup(cur, k, 8, v0, 8, &ck, &cv);
	for (; rc == 0 && v->n_techs < AVAIL_MAX_TECHS; rc = store_cursor_next_dup(cur, &ck, &cv)) {
		Ospay__V1__Technician *t = NULL;
		rc = kit_load(txn, DB_TECHNICIANS, be64_get(cv.data),
			      &ospay__v1__technician__descriptor, &t);
		if (rc != 0)
			break;
		v->techs[v->n_techs++] = t;
	}
	if (rc == -ENOENT)
		rc = 0;
	store_cursor_close(cur);
	return rc;
}

/*
 * The first start on the window's grid at or after from where a slot-long
 * order would not overlap the technician's bookings; 0 when none. Each
 * conflict moves the search past its end, so the work is bounded by the
 * technician's bookings in the window.
 */
static int avail_tech_first_free(store_txn_t *txn, uint64_t tech, int64_t w_from, int64_t w_to,
				 uint32_t slot, int64_t *first)
{
	int64_t slot_ms = (int64_t)slot * 60000;
	int rc = 0;
	*first = 0;
	for (int64_t s = w_from; s < w_to && rc == 0;) {
		Ospay__V1__Order *c = NULL;
		rc = booking_tech_overlap(txn, tech, s, slot, 0, &c);
		if (rc != 0)
			break;
		if (c == NULL) {
			*first = s;
			break;
		}
		int64_t end = order_end_ms(c->scheduled_start_ms, c->duration_minutes);
		ospay__v1__order__free_unpacked(c, NULL);
		int64_t k = (end - w_from + slot_ms - 1) / slot_ms;
		s = w_from + (k > 0 ? k : 1) * slot_ms;
	}
	return rc;
}

/* Windows of one weekday, by start. */
static size_t avail_windows_of(const agenda_rules_t *rules, int weekday, size_t *idx)
{
	size_t n = 0;
	for (size_t i = 0; i < rules->n_windows; i++) {
		if (rules->windows[i].weekday != weekday)
			continue;
		size_t j = n++;
		while (j > 0 &&
		       rules->windows[idx[j - 1]].start_min > rules->windows[i].start_min) {
			idx[j] = idx[j - 1];
			j--;
		}
		idx[j] = i;
	}
	return n;
}

/* One window of one day as Create would see it now. */
static int avail_window(store_txn_t *txn, avail_t *v, const Ospay__V1__Agenda *a,
			const agenda_rules_t *rules, const agenda_window_t *w, int64_t day,
			bool closed, Ospay__V1__AvailabilityDay *ad,
			Ospay__V1__AvailabilityWindow *aw)
{
	agenda_place_t place;
	agenda_room_t room;
	uint32_t in_window = 0, in_day = 0;
	int64_t start = date_local_to_utc(day, (int)w->start_min, rules->utc_offset_min);
	int rc = 0;
	ospay__v1__availability_window__init(aw);
	aw->start_minute = w->start_min;
	aw->end_minute = w->end_min;
	aw->capacity = w->capacity;
	aw->start_ms = start;
	if (agenda_locate(rules, start, &place) != AGENDA_OK)
		return rc; /* no grid (never for a stored agenda): nothing to book */
	rc = booking_room(txn, a->id, rules, &place, true, 0, &in_window, &in_day, &room);
	if (rc != 0)
		return rc;
	aw->booked = in_window;
	aw->free = closed ? 0 : room.free;
	ad->booked = in_day;
	ad->daily_left = rules->daily_max != 0 ? room.day_left : 0;
	if (aw->free == 0 || v->n_techs == 0)
		return rc;
	aw->technicians = avail_alloc(v, v->n_techs, sizeof(*aw->technicians));
	Ospay__V1__AvailableTechnician *ts = avail_alloc(v, v->n_techs, sizeof(*ts));
	if (aw->technicians == NULL || ts == NULL)
		return -ENOMEM;
	for (size_t i = 0; i < v->n_techs && rc == 0; i++) {
		int64_t first = 0;
		rc = avail_tech_first_free(txn, v->techs[i]->id, place.window_from_ms,
					   place.window_to_ms, rules->slot_minutes, &first);
		if (rc != 0 || first == 0)
			continue;
		Ospay__V1__AvailableTechnician *t = &ts[aw->n_technicians];
		ospay__v1__available_technician__init(t);
		t->id = v->techs[i]->id;
		t->name = v->techs[i]->name;
		t->first_free_ms = first;
		aw->technicians[aw->n_technicians++] = t;
	}
	return rc;
}

int h_agendas_availability(srv_req_t *r, store_txn_t *txn)
{
	const Ospay__V1__AgendasAvailabilityRequest *in = (const void *)r->in;
	Ospay__V1__Agenda *a = NULL;
	Ospay__V1__FieldSettingsRecord *fs = NULL;
	agenda_window_t wbuf[AGENDA_MAX_WINDOWS];
	agenda_rules_t rules;
	avail_t v;
	int64_t from = 0;
	int offset = 0;
	uint32_t ndays = in->days == 0 ? AVAIL_DEFAULT_DAYS : in->days;
	memset(&v, 0, sizeof(v));
	int rc = kit_get(r, txn, &kit_agendas, "agenda_id", in->agenda_id, PERM_READ, &a);
	if (rc != 0 || !srv_ok(r))
		goto out;
	if (date_parse(in->from_date, &from) != 0)
		status_violation(&r->st, "from_date", "a date \"YYYY-MM-DD\"");
	if (ndays > AVAIL_MAX_DAYS)
		status_violation(&r->st, "days", "1..%d (0 means %d)", AVAIL_MAX_DAYS,
				 AVAIL_DEFAULT_DAYS);
	if (!srv_ok(r))
		goto out;
	rc = kit_org_offset(r, txn, &offset);
	if (rc == 0)
		rc = avail_techs(txn, &v, a->unit_id);
	if (rc == 0)
		rc = booking_settings_load(txn, a->organization_id, &fs);
	if (rc != 0)
		goto out;
	kit_agenda_rules(a, offset, wbuf, &rules);
	Ospay__V1__AvailabilityDay **days = avail_alloc(&v, ndays, sizeof(*days));
	Ospay__V1__AvailabilityDay *dbuf = avail_alloc(&v, ndays, sizeof(*dbuf));
	char *dates = avail_alloc(&v, ndays, 16);
	if (days == NULL || dbuf == NULL || dates == NULL) {
		rc = -ENOMEM;
		goto out;
	}
	for (uint32_t d = 0; d < ndays && rc == 0; d++) {
		int64_t day = from + d;
		Ospay__V1__AvailabilityDay *ad = &dbuf[d];
		size_t idx[AGENDA_MAX_WINDOWS];
		ospay__v1__availability_day__init(ad);
		days[d] = ad;
		date_format(day, dates + 16 * d, 16);
		ad->date = dates + 16 * d;
		ad->weekday = agenda_iso_weekday(day);
		ad->daily_max = rules.daily_max;
		ad->daily_left = rules.daily_max;
		uint64_t closure;
		const char *why = booking_day_closed(fs, a->id, day, &closure);
		ad->closed = why != NULL;
		ad->closed_reason = why != NULL ? (char *)why : "";
		size_t nw = avail_windows_of(&rules, ad->weekday, idx);
		ad->windows = avail_alloc(&v, nw, sizeof(*ad->windows));
		Ospay__V1__AvailabilityWindow *wb = avail_alloc(&v, nw, sizeof(*wb));
		if (ad->windows == NULL || wb == NULL) {
			rc = -ENOMEM;
			break;
		}
		for (size_t i = 0; i < nw && rc == 0; i++) {
			rc = avail_window(txn, &v, a, &rules, &rules.windows[idx[i]], day,
					  ad->closed, ad, &wb[i]);
			ad->windows[ad->n_windows++] = &wb[i];
		}
	}
	if (rc != 0)
		goto out;
	Ospay__V1__AgendasAvailabilityResponse resp =
		OSPAY__V1__AGENDAS_AVAILABILITY_RESPONSE__INIT;
	resp.agenda = a;
	resp.days = days;
	resp.n_days = ndays;
	resp.utc_offset_minutes = offset;
	rc = srv_reply_msg(r, &resp.base);
out:
	if (rc < 0 && rc != -ENOMEM)
		rc = srv_store_fail(r, rc, "availability");
	avail_free(&v);
	ospay__v1__field_settings_record__free_unpacked(fs, NULL);
	return rc;
}

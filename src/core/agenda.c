#include "core/agenda.h"

#include <stdio.h>
#include <string.h>

#include "core/addr.h"

#include "core/date.h"
#include "core/text.h"

int agenda_iso_weekday(int64_t day)
{
	int w = date_weekday(day); /* 0 = Sunday */
	return w == 0 ? 7 : w;
}

const char *agenda_check_window(const agenda_window_t *w)
{
	if (w->weekday < 1 || w->weekday > 7)
		return "weekday is required (WEEKDAY_MONDAY ... WEEKDAY_SUNDAY)";
	if (w->start_min >= AGENDA_DAY_MINUTES)
		return "start_minute must be 0..1439";
	if (w->end_min <= w->start_min || w->end_min > AGENDA_DAY_MINUTES)
		return "end_minute must be after start_minute and at most 1440";
	if (w->capacity == 0 || w->capacity > AGENDA_MAX_CAPACITY)
		return "capacity must be 1..10000";
	return NULL;
}

const char *agenda_check_windows(const agenda_window_t *w, size_t n, size_t *bad)
{
	*bad = 0;
	if (n > AGENDA_MAX_WINDOWS) {
		*bad = AGENDA_MAX_WINDOWS;
		return "at most 64 windows";
	}
	for (size_t i = 0; i < n; i++) {
		const char *why = agenda_check_window(&w[i]);
		if (why != NULL) {
			*bad = i;
			return why;
		}
	}
	for (size_t i = 0; i < n; i++) {
		for (size_t j = 0; j < i; j++) {
			if (w[i].weekday == w[j].weekday && w[i].start_min < w[j].end_min &&
			    w[j].start_min < w[i].end_min) {
				*bad = i;
				return "overlaps another window of the same weekday";
			}
		}
	}
	return NULL;
}

const char *agenda_check_slot(uint32_t slot_minutes)
{
	if (slot_minutes < AGENDA_SLOT_MIN || slot_minutes > AGENDA_DAY_MINUTES)
		return "must be 5..1440 minutes";
	return NULL;
}

int agenda_locate(const agenda_rules_t *a, int64_t start_ms, agenda_place_t *place)
{
	int64_t day = date_local_day(start_ms, a->utc_offset_min);
	uint32_t minute = (uint32_t)date_local_minute(start_ms, a->utc_offset_min);
	int wd = agenda_iso_weekday(day);
	for (size_t i = 0; i < a->n_windows; i++) {
		const agenda_window_t *w = &a->windows[i];
		if (w->weekday != wd || minute < w->start_min || minute >= w->end_min)
			continue;
		/* A start between two minutes (seconds set) is off the grid too. */
		int64_t in_minute =
			start_ms - date_local_to_utc(day, (int)minute, a->utc_offset_min);
		if (a->slot_minutes == 0 || (minute - w->start_min) % a->slot_minutes != 0 ||
		    in_minute != 0)
			return AGENDA_OFF_GRID;
		place->window = i;
		place->day = day;
		place->window_from_ms =
			date_local_to_utc(day, (int)w->start_min, a->utc_offset_min);
		place->window_to_ms = date_local_to_utc(day, (int)w->end_min, a->utc_offset_min);
		place->day_from_ms = date_local_to_utc(day, 0, a->utc_offset_min);
		place->day_to_ms = date_local_to_utc(day + 1, 0, a->utc_offset_min);
		return AGENDA_OK;
	}
	return AGENDA_NO_WINDOW;
}

void agenda_room(const agenda_rules_t *a, const agenda_place_t *place, uint32_t in_window,
		 uint32_t in_day, agenda_room_t *out)
{
	uint32_t cap = a->windows[place->window].capacity;
	out->window_left = in_window < cap ? cap - in_window : 0;
	if (a->daily_max == 0)
		out->day_left = UINT32_MAX;
	else
		out->day_left = in_day < a->daily_max ? a->daily_max - in_day : 0;
	out->free = out->window_left < out->day_left ? out->window_left : out->day_left;
}

int agenda_check_counts(const agenda_rules_t *a, const agenda_place_t *place, uint32_t in_window,
			uint32_t in_day)
{
	agenda_room_t room;
	agenda_room(a, place, in_window, in_day, &room);
	return agenda_room_verdict(&room);
}

int agenda_room_verdict(const agenda_room_t *room)
{
	if (room->window_left == 0)
		return AGENDA_WINDOW_FULL;
	if (room->day_left == 0)
		return AGENDA_DAY_FULL;
	return AGENDA_OK;
}

static void hhmm(uint32_t minute, char *out, size_t cap)
{
	/* Minutes of a day: clamp so the hour always has two digits. */
	unsigned m = minute % (24 * 60);
	snprintf(out, cap, "%02u:%02u", (m / 60) % 24, m % 60);
}

void agenda_explain(const agenda_rules_t *a, int verdict, int64_t start_ms,
		    const agenda_place_t *place, char *out, size_t cap)
{
	static const char *const days[] = {"",         "Monday", "Tuesday",  "Wednesday",
					   "Thursday", "Friday", "Saturday", "Sunday"};
	int64_t day = date_local_day(start_ms, a->utc_offset_min);
	char date[16], t[8], ws[8], we[8];
	date_format(day, date, sizeof(date));
	hhmm((uint32_t)date_local_minute(start_ms, a->utc_offset_min), t, sizeof(t));
	const agenda_window_t *w = verdict == AGENDA_WINDOW_FULL || verdict == AGENDA_DAY_FULL
					   ? &a->windows[place->window]
					   : NULL;
	if (w != NULL) {
		hhmm(w->start_min, ws, sizeof(ws));
		hhmm(w->end_min, we, sizeof(we));
	}
	switch (verdict) {
	case AGENDA_NO_WINDOW:
		snprintf(out, cap, "%s %s (%s) is outside the agenda's windows", date, t,
			 days[agenda_iso_weekday(day)]);
		break;
	case AGENDA_OFF_GRID:
		snprintf(out, cap, "%s %s is not on the agenda's %u-minute slots", date, t,
			 a->slot_minutes);
		break;
	case AGENDA_WINDOW_FULL:
		snprintf(out, cap, "the window %s-%s of %s is full (capacity %u)", ws, we, date,
			 w->capacity);
		break;
	case AGENDA_DAY_FULL:
		snprintf(out, cap, "the agenda's daily maximum of %u orders is reached on %s",
			 a->daily_max, date);
		break;
	default:
		snprintf(out, cap, "accepted");
		break;
	}
}

/* Longest city text split for its UF; longer ones compare whole (no city is that long). */
#define CITY_SPLIT_MAX 256

/*
 * Copies s's city name into name (cap CITY_SPLIT_MAX) and its trailing UF, if
 * any, into uf ("" when none): "Bom Jesus/PI", "Bom Jesus - PI", "Bom Jesus (PI)",
 * "Bom Jesus, PI". A text without a valid UF after a separator is all name.
 */
static void city_split(const char *s, char name[CITY_SPLIT_MAX], char uf[3])
{
	size_t len = strlen(s);
	uf[0] = '\0';
	if (len >= CITY_SPLIT_MAX) {
		name[0] = '\0';
		return;
	}
	memcpy(name, s, len + 1);
	while (len > 0 && name[len - 1] == ' ')
		len--;
	size_t end = len;
	if (end > 0 && name[end - 1] == ')')
		end--;
	if (end < 3)
		return;
	char cand[3] = {name[end - 2], name[end - 1], '\0'};
	size_t k = end - 2;
	bool sep = false;
	while (k > 0 && (name[k - 1] == ' ' || name[k - 1] == '/' || name[k - 1] == '-' ||
			 name[k - 1] == ',' || (name[k - 1] == '(' && end < len))) {
		sep = sep || name[k - 1] != ' ';
		k--;
	}
	if (!sep || k == 0 || addr_uf_parse(cand, uf) != NULL) {
		uf[0] = '\0';
		return;
	}
	name[k] = '\0';
}

bool agenda_city_same(const char *a, const char *uf_a, const char *b, const char *uf_b)
{
	char na[CITY_SPLIT_MAX], nb[CITY_SPLIT_MAX], ua[3], ub[3], ka[3] = "", kb[3] = "";
	if (strlen(a) >= CITY_SPLIT_MAX || strlen(b) >= CITY_SPLIT_MAX)
		return text_cmp_folded(a, b) == 0;
	city_split(a, na, ua);
	city_split(b, nb, ub);
	/* A UF written in the text wins over the one known apart. */
	if (ua[0] == '\0' && uf_a != NULL && addr_uf_parse(uf_a, ka) == NULL)
		memcpy(ua, ka, 3);
	if (ub[0] == '\0' && uf_b != NULL && addr_uf_parse(uf_b, kb) == NULL)
		memcpy(ub, kb, 3);
	if (text_cmp_folded(na, nb) != 0)
		return false;
	return ua[0] == '\0' || ub[0] == '\0' || strcmp(ua, ub) == 0;
}

bool agenda_city_served(const char *const *cities, size_t n, const char *city, const char *uf)
{
	if (n == 0)
		return true;
	for (size_t i = 0; i < n; i++)
		if (agenda_city_same(cities[i], NULL, city, uf))
			return true;
	return false;
}

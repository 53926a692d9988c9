/*
 * Agenda rules (docs/spec.md 4.3): weekly windows with a capacity, an optional daily
 * maximum, a slot length and a list of cities. Pure functions over plain
 * values; the caller counts the bookings already made (from the store) and
 * asks here whether one more fits. Times of day are minutes since local
 * midnight in the organization's time zone.
 *
 * Decisions:
 * - A booking belongs to the window its start falls in: start_min <= t <
 *   end_min on the window's weekday. Only the start must be inside the window
 *   ("how many orders may start inside that window"); the order may run past
 *   the window's end, as a job started at 11:30 in a morning window does.
 * - Starts lie on the window's slot grid: start_min + k * slot_minutes.
 * - Windows of one weekday do not overlap, so a start has at most one window.
 * - Windows do not cross midnight (end_min <= 1440).
 */
#ifndef OSPAY_CORE_AGENDA_H
#define OSPAY_CORE_AGENDA_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define AGENDA_DAY_MINUTES 1440
#define AGENDA_SLOT_MIN 5
#define AGENDA_MAX_WINDOWS 64
#define AGENDA_MAX_CITIES 100
#define AGENDA_MAX_CAPACITY 10000

typedef struct agenda_window {
	int weekday; /* 1 = Monday ... 7 = Sunday (ISO, as proto Weekday) */
	uint32_t start_min;
	uint32_t end_min;
	uint32_t capacity;
} agenda_window_t;

typedef struct agenda_rules {
	const agenda_window_t *windows;
	size_t n_windows;
	uint32_t daily_max; /* 0: none */
	uint32_t slot_minutes;
	int utc_offset_min; /* the organization's */
} agenda_rules_t;

/* Where a start falls: its window, its local day, and both as UTC ranges [from, to). */
typedef struct agenda_place {
	size_t window;
	int64_t day;
	int64_t window_from_ms, window_to_ms;
	int64_t day_from_ms, day_to_ms;
} agenda_place_t;

enum agenda_verdict {
	AGENDA_OK = 0,
	AGENDA_NO_WINDOW,   /* no window of that weekday holds the start */
	AGENDA_OFF_GRID,    /* inside a window, but not on its slot grid */
	AGENDA_WINDOW_FULL, /* the window's capacity is used up that day */
	AGENDA_DAY_FULL,    /* the daily maximum is reached */
};

/* ISO weekday (1 = Monday ... 7 = Sunday) of a day number. */
int agenda_iso_weekday(int64_t day);

/* One window's own fields. NULL when fine, else why not (static). */
const char *agenda_check_window(const agenda_window_t *w);

/*
 * A whole set: each window fine, at most AGENDA_MAX_WINDOWS, no two of one
 * weekday overlapping. NULL when fine; else why not, with *bad the offending
 * window's index.
 */
const char *agenda_check_windows(const agenda_window_t *w, size_t n, size_t *bad);

/* slot_minutes in AGENDA_SLOT_MIN..AGENDA_DAY_MINUTES. NULL or why not. */
const char *agenda_check_slot(uint32_t slot_minutes);

/*
 * Finds the window a booking starting at start_ms (UTC) falls in. Returns
 * AGENDA_OK (place filled), AGENDA_NO_WINDOW or AGENDA_OFF_GRID.
 */
int agenda_locate(const agenda_rules_t *a, int64_t start_ms, agenda_place_t *place);

/*
 * How many more bookings fit in a place, given how many others (not canceled,
 * not the one being moved) already start in its window and on its day: the
 * window's places left, the daily maximum's (UINT32_MAX when there is none)
 * and the smaller of both, what Create accepts. The one rule behind
 * agenda_check_counts and the availability view.
 */
typedef struct agenda_room {
	uint32_t window_left;
	uint32_t day_left;
	uint32_t free;
} agenda_room_t;
void agenda_room(const agenda_rules_t *a, const agenda_place_t *place, uint32_t in_window,
		 uint32_t in_day, agenda_room_t *out);
/* AGENDA_OK when room has a place, else AGENDA_WINDOW_FULL or AGENDA_DAY_FULL. */
int agenda_room_verdict(const agenda_room_t *room);

/*
 * Would one more booking fit (agenda_room)? Returns AGENDA_OK,
 * AGENDA_WINDOW_FULL or AGENDA_DAY_FULL.
 */
int agenda_check_counts(const agenda_rules_t *a, const agenda_place_t *place, uint32_t in_window,
			uint32_t in_day);

/* A sentence for a verdict other than AGENDA_OK (for FAILED_PRECONDITION). */
void agenda_explain(const agenda_rules_t *a, int verdict, int64_t start_ms,
		    const agenda_place_t *place, char *out, size_t cap);

/*
 * A city with its state: "Bom Jesus/PI", "Bom Jesus - PI", "Bom Jesus (PI)"
 * (several Brazilian cities share a name). Two cities are the same when their
 * names compare equal (text_cmp_folded) and, when both carry a UF, the UFs
 * are equal. uf_a / uf_b (may be NULL or "") are the UFs known apart from the
 * text (a customer's address.state); a UF written in the text wins.
 */
bool agenda_city_same(const char *a, const char *uf_a, const char *b, const char *uf_b);

/*
 * With no cities every city is served; else the customer's city (with its
 * state uf, may be NULL) must be one of them (agenda_city_same).
 */
bool agenda_city_served(const char *const *cities, size_t n, const char *city, const char *uf);

#endif

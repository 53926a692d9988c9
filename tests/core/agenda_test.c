#include <criterion/criterion.h>
#include <string.h>

#include "core/agenda.h"
#include "core/date.h"

#define BRT (-180)

/* Monday 08:00-12:00 (capacity 2), Monday 13:00-18:00 (capacity 3), Saturday 08:00-12:00. */
static const agenda_window_t win[] = {
	{1, 8 * 60, 12 * 60, 2},
	{1, 13 * 60, 18 * 60, 3},
	{6, 8 * 60, 12 * 60, 1},
};

static agenda_rules_t rules(uint32_t daily_max)
{
	agenda_rules_t a = {win, 3, daily_max, 30, BRT};
	return a;
}

/* 2026-12-07 is a Monday. */
static int64_t at(int d, int h, int m)
{
	return date_local_to_utc(date_from_civil(2026, 12, d), h * 60 + m, BRT);
}

Test(agenda, iso_weekday)
{
	cr_assert_eq(agenda_iso_weekday(date_from_civil(2026, 12, 7)), 1);
	cr_assert_eq(agenda_iso_weekday(date_from_civil(2026, 12, 13)), 7);
}

Test(agenda, start_in_window_in_local_time)
{
	agenda_rules_t a = rules(0);
	agenda_place_t p;
	cr_assert_eq(agenda_locate(&a, at(7, 8, 0), &p), AGENDA_OK);
	cr_assert_eq(p.window, 0);
	cr_assert_eq(p.day, date_from_civil(2026, 12, 7));
	cr_assert_eq(p.window_from_ms, at(7, 8, 0));
	cr_assert_eq(p.window_to_ms, at(7, 12, 0));
	cr_assert_eq(p.day_from_ms, at(7, 0, 0));
	cr_assert_eq(p.day_to_ms, at(8, 0, 0));
	cr_assert_eq(agenda_locate(&a, at(7, 11, 30), &p), AGENDA_OK, "last slot of the window");
	cr_assert_eq(agenda_locate(&a, at(7, 13, 0), &p), AGENDA_OK);
	cr_assert_eq(p.window, 1);
	cr_assert_eq(agenda_locate(&a, at(12, 8, 0), &p), AGENDA_OK);
	cr_assert_eq(p.window, 2);
}

Test(agenda, outside_windows)
{
	agenda_rules_t a = rules(0);
	agenda_place_t p;
	cr_assert_eq(agenda_locate(&a, at(7, 7, 30), &p), AGENDA_NO_WINDOW);
	cr_assert_eq(agenda_locate(&a, at(7, 12, 0), &p), AGENDA_NO_WINDOW, "end is exclusive");
	cr_assert_eq(agenda_locate(&a, at(7, 18, 0), &p), AGENDA_NO_WINDOW);
	cr_assert_eq(agenda_locate(&a, at(8, 9, 0), &p), AGENDA_NO_WINDOW, "Tuesday");
	/* 08:00 local Monday is 11:00 UTC: the same instant read in UTC would be wrong. */
	agenda_rules_t utc = a;
	utc.utc_offset_min = 0;
	cr_assert_eq(agenda_locate(&utc, at(7, 8, 0), &p), AGENDA_OK);
	cr_assert_eq(p.window, 0, "11:00 UTC is in the 08-12 window only in UTC terms");
	cr_assert_eq(agenda_locate(&utc, at(7, 9, 30), &p), AGENDA_NO_WINDOW, "12:30 UTC");
	/* Sunday 23:00 local is Monday 02:00 UTC: still Sunday for the agenda. */
	cr_assert_eq(agenda_locate(&a, at(13, 23, 0), &p), AGENDA_NO_WINDOW);
}

Test(agenda, slot_grid)
{
	agenda_rules_t a = rules(0);
	agenda_place_t p;
	cr_assert_eq(agenda_locate(&a, at(7, 8, 15), &p), AGENDA_OFF_GRID);
	cr_assert_eq(agenda_locate(&a, at(7, 8, 30), &p), AGENDA_OK);
	cr_assert_eq(agenda_locate(&a, at(7, 8, 30) + 1000, &p), AGENDA_OFF_GRID, "seconds");
}

Test(agenda, capacity_and_daily_max)
{
	agenda_rules_t a = rules(4);
	agenda_place_t p;
	cr_assert_eq(agenda_locate(&a, at(7, 9, 0), &p), AGENDA_OK);
	cr_assert_eq(agenda_check_counts(&a, &p, 0, 0), AGENDA_OK);
	cr_assert_eq(agenda_check_counts(&a, &p, 1, 1), AGENDA_OK);
	cr_assert_eq(agenda_check_counts(&a, &p, 2, 2), AGENDA_WINDOW_FULL);
	cr_assert_eq(agenda_locate(&a, at(7, 14, 0), &p), AGENDA_OK);
	cr_assert_eq(agenda_check_counts(&a, &p, 2, 3), AGENDA_OK);
	cr_assert_eq(agenda_check_counts(&a, &p, 2, 4), AGENDA_DAY_FULL);
	a.daily_max = 0;
	cr_assert_eq(agenda_check_counts(&a, &p, 2, 400), AGENDA_OK, "0 = no daily maximum");
	char why[160];
	agenda_explain(&a, AGENDA_WINDOW_FULL, at(7, 14, 0), &p, why, sizeof(why));
	cr_assert_str_eq(why, "the window 13:00-18:00 of 2026-12-07 is full (capacity 3)");
	agenda_explain(&a, AGENDA_NO_WINDOW, at(8, 9, 0), &p, why, sizeof(why));
	cr_assert_str_eq(why, "2026-12-08 09:00 (Tuesday) is outside the agenda's windows");
}

Test(agenda, window_validation)
{
	size_t bad;
	cr_assert_null(agenda_check_windows(win, 3, &bad));
	agenda_window_t w[2] = {{1, 480, 720, 2}, {1, 700, 800, 1}};
	cr_assert_str_eq(agenda_check_windows(w, 2, &bad),
			 "overlaps another window of the same weekday");
	cr_assert_eq(bad, 1);
	w[1].start_min = 720; /* touching is fine */
	cr_assert_null(agenda_check_windows(w, 2, &bad));
	w[1].weekday = 0;
	cr_assert_not_null(agenda_check_windows(w, 2, &bad));
	cr_assert_eq(bad, 1);
	/* Single windows: refused, but for the whole day. */
	static const struct {
		const char *what;
		agenda_window_t w;
		bool ok;
	} one[] = {
		{"weekday 8", {8, 0, 60, 1}, false},
		{"empty window", {2, 600, 600, 1}, false},
		{"past midnight", {2, 600, 1441, 1}, false},
		{"starts at 24:00", {2, 1440, 1440, 1}, false},
		{"capacity 0", {2, 0, 1440, 0}, false},
		{"a whole day", {2, 0, 1440, 1}, true},
	};
	for (size_t i = 0; i < sizeof(one) / sizeof(one[0]); i++)
		cr_assert_eq(agenda_check_window(&one[i].w) == NULL, one[i].ok, "%s", one[i].what);
	agenda_window_t many[AGENDA_MAX_WINDOWS + 1];
	for (int i = 0; i <= AGENDA_MAX_WINDOWS; i++)
		many[i] = (agenda_window_t){1 + i % 7, (uint32_t)(i / 7) * 60,
					    (uint32_t)(i / 7) * 60 + 30, 1};
	cr_assert_null(agenda_check_windows(many, AGENDA_MAX_WINDOWS, &bad));
	cr_assert_not_null(agenda_check_windows(many, AGENDA_MAX_WINDOWS + 1, &bad));
	cr_assert_null(agenda_check_slot(5));
	cr_assert_not_null(agenda_check_slot(4));
	cr_assert_not_null(agenda_check_slot(1441));
}

Test(agenda, cities_without_case_or_accents)
{
	const char *cities[] = {"São Paulo", "Santo André"};
	cr_assert(agenda_city_served(cities, 2, "SAO PAULO", NULL));
	cr_assert(agenda_city_served(cities, 2, "sao paulo", NULL));
	cr_assert(agenda_city_served(cities, 2, "SANTO ANDRE", NULL));
	cr_assert_not(agenda_city_served(cities, 2, "Campinas", NULL));
	cr_assert(agenda_city_served(NULL, 0, "Campinas", NULL), "no cities: any city");
	/* Decomposed on either side (docs/spec.md 10.2): letter + combining tilde / acute. */
	cr_assert(agenda_city_served(cities, 2, "Sa\xcc\x83o Paulo", NULL));
	cr_assert(agenda_city_served(cities, 2, "Santo Andre\xcc\x81", NULL));
	const char *decomposed[] = {"Foz do Iguac\xcc\xa7u"};
	cr_assert(agenda_city_served(decomposed, 1, "Foz do Iguaçu", NULL));
	cr_assert_not(agenda_city_served(decomposed, 1, "Sa\xcc\x83o Paulo", NULL));
}

Test(agenda, cities_with_their_state)
{
	/* Bom Jesus is a city of PI, RS, GO, SC and PB: the UF tells them apart. */
	const char *cities[] = {"Bom Jesus/PI", "Santo André"};
	cr_assert(agenda_city_served(cities, 2, "Bom Jesus", "PI"));
	cr_assert(agenda_city_served(cities, 2, "BOM JESUS", "pi"));
	cr_assert_not(agenda_city_served(cities, 2, "Bom Jesus", "RS"), "another state");
	cr_assert(agenda_city_served(cities, 2, "Bom Jesus", NULL), "no UF on one side: the name");
	cr_assert(agenda_city_served(cities, 2, "Santo Andre", "SP"), "no UF on the agenda's");
	cr_assert(agenda_city_same("Bom Jesus - PI", NULL, "bom jesus (PI)", NULL));
	cr_assert(agenda_city_same("Bom Jesus, PI", NULL, "Bom Jesus/pi", NULL));
	cr_assert_not(agenda_city_same("Bom Jesus/GO", NULL, "Bom Jesus/PI", NULL));
	/* The text's UF wins over the address's state. */
	cr_assert_not(agenda_city_same("Bom Jesus/PI", NULL, "Bom Jesus/GO", "PI"));
	/* Not a UF after the separator: all of it is the name. */
	cr_assert(agenda_city_same("Mogi-Mirim", NULL, "mogi-mirim", "SP"));
	cr_assert_not(agenda_city_same("Mogi-Mirim", NULL, "Mogi", "MI"));
	cr_assert(agenda_city_same("Embu-Guaçu", NULL, "EMBU-GUACU", "SP"));
	cr_assert(agenda_city_same("Santa Rita/XX", NULL, "Santa Rita/XX", NULL));
	cr_assert_not(agenda_city_same("/PI", NULL, "PI", NULL));
}

Test(agenda, room_is_what_check_counts_enforces)
{
	/* The availability's free count and Create's verdict come from one function. */
	agenda_rules_t a = rules(4);
	agenda_place_t p;
	agenda_room_t room;
	cr_assert_eq(agenda_locate(&a, at(7, 14, 0), &p), AGENDA_OK); /* capacity 3 */
	for (uint32_t w = 0; w <= 4; w++) {
		for (uint32_t d = w; d <= 6; d++) {
			agenda_room(&a, &p, w, d, &room);
			uint32_t want_w = w < 3 ? 3 - w : 0, want_d = d < 4 ? 4 - d : 0;
			cr_assert_eq(room.window_left, want_w);
			cr_assert_eq(room.day_left, want_d);
			cr_assert_eq(room.free, want_w < want_d ? want_w : want_d);
			cr_assert_eq(agenda_check_counts(&a, &p, w, d) == AGENDA_OK, room.free > 0,
				     "window %u day %u", w, d);
		}
	}
	a.daily_max = 0;
	agenda_room(&a, &p, 1, 1000, &room);
	cr_assert_eq(room.day_left, UINT32_MAX, "no daily maximum");
	cr_assert_eq(room.free, 2);
}

#include "core/holidays.h"

#include "core/date.h"

int64_t holiday_easter(int year)
{
	/* The Gregorian computus (Meeus/Jones/Butcher): golden number, century
	 * corrections, epact, then the Sunday after the paschal full moon. */
	int a = year % 19, b = year / 100, c = year % 100;
	int d = b / 4, e = b % 4, f = (b + 8) / 25, g = (b - f + 1) / 3;
	int h = (19 * a + b - d - g + 15) % 30;
	int i = c / 4, k = c % 4;
	int l = (32 + 2 * e + 2 * i - h - k) % 7;
	int m = (a + 11 * h + 22 * l) / 451;
	int month = (h + l - 7 * m + 114) / 31;
	int day = (h + l - 7 * m + 114) % 31 + 1;
	return date_from_civil(year, month, day);
}

size_t holiday_br_year(int year, holiday_t *out, size_t cap)
{
	static const struct {
		int m, d, since;
		const char *name;
	} fixed[] = {
		{1, 1, 0, "Confraternização Universal"},
		{4, 21, 0, "Tiradentes"},
		{5, 1, 0, "Dia do Trabalho"},
		{9, 7, 0, "Independência do Brasil"},
		{10, 12, 1980, "Nossa Senhora Aparecida"},
		{11, 2, 0, "Finados"},
		{11, 15, 0, "Proclamação da República"},
		{11, 20, 2024, "Dia Nacional de Zumbi e da Consciência Negra"},
		{12, 25, 0, "Natal"},
	};
	int64_t easter = holiday_easter(year);
	const struct {
		int64_t day;
		const char *name;
	} movable[] = {
		{easter - 48, "Carnaval"},
		{easter - 47, "Carnaval"},
		{easter - 2, "Sexta-feira Santa"},
		{easter + 60, "Corpus Christi"},
	};
	size_t n = 0;
	for (size_t i = 0; i < sizeof(fixed) / sizeof(fixed[0]) && n < cap; i++) {
		if (year < fixed[i].since)
			continue;
		out[n].day = date_from_civil(year, fixed[i].m, fixed[i].d);
		out[n++].name = fixed[i].name;
	}
	for (size_t i = 0; i < sizeof(movable) / sizeof(movable[0]) && n < cap; i++) {
		out[n].day = movable[i].day;
		out[n++].name = movable[i].name;
	}
	/* By date: a short insertion sort. */
	for (size_t i = 1; i < n; i++) {
		holiday_t h = out[i];
		size_t j = i;
		for (; j > 0 && out[j - 1].day > h.day; j--)
			out[j] = out[j - 1];
		out[j] = h;
	}
	return n;
}

const char *holiday_br_name(int64_t day)
{
	holiday_t hs[HOLIDAY_MAX_PER_YEAR];
	int y, m, d;
	date_to_civil(day, &y, &m, &d);
	size_t n = holiday_br_year(y, hs, HOLIDAY_MAX_PER_YEAR);
	for (size_t i = 0; i < n; i++)
		if (hs[i].day == day)
			return hs[i].name;
	return NULL;
}

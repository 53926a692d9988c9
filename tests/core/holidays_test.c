/*
 * Brazil's national holidays against the federal government's calendars for
 * 2026 and 2027 (feriados nacionais, plus Carnaval and Corpus Christi, which
 * that calendar lists as pontos facultativos), Easter-based dates included.
 */
#include <criterion/criterion.h>
#include <string.h>

#include "core/date.h"
#include "core/holidays.h"

typedef struct want {
	const char *date;
	const char *name;
} want_t;

static void check_year(int year, const want_t *w, size_t n)
{
	holiday_t hs[HOLIDAY_MAX_PER_YEAR];
	size_t got = holiday_br_year(year, hs, HOLIDAY_MAX_PER_YEAR);
	cr_assert_eq(got, n, "%d: %zu holidays, want %zu", year, got, n);
	for (size_t i = 0; i < n; i++) {
		char d[16];
		date_format(hs[i].day, d, sizeof(d));
		cr_assert_str_eq(d, w[i].date, "%d #%zu", year, i);
		cr_assert_str_eq(hs[i].name, w[i].name, "%s", d);
	}
}

Test(holidays, easter)
{
	char d[16];
	const struct {
		int y;
		const char *date;
	} e[] = {{2024, "2024-03-31"}, {2025, "2025-04-20"}, {2026, "2026-04-05"},
		 {2027, "2027-03-28"}, {2028, "2028-04-16"}, {2038, "2038-04-25"},
		 {2285, "2285-03-22"}, {2000, "2000-04-23"}};
	for (size_t i = 0; i < sizeof(e) / sizeof(e[0]); i++) {
		date_format(holiday_easter(e[i].y), d, sizeof(d));
		cr_assert_str_eq(d, e[i].date, "Easter %d", e[i].y);
	}
}

Test(holidays, official_2026)
{
	static const want_t w[] = {
		{"2026-01-01", "Confraternização Universal"},
		{"2026-02-16", "Carnaval"},
		{"2026-02-17", "Carnaval"},
		{"2026-04-03", "Sexta-feira Santa"},
		{"2026-04-21", "Tiradentes"},
		{"2026-05-01", "Dia do Trabalho"},
		{"2026-06-04", "Corpus Christi"},
		{"2026-09-07", "Independência do Brasil"},
		{"2026-10-12", "Nossa Senhora Aparecida"},
		{"2026-11-02", "Finados"},
		{"2026-11-15", "Proclamação da República"},
		{"2026-11-20", "Dia Nacional de Zumbi e da Consciência Negra"},
		{"2026-12-25", "Natal"},
	};
	check_year(2026, w, sizeof(w) / sizeof(w[0]));
}

Test(holidays, official_2027)
{
	static const want_t w[] = {
		{"2027-01-01", "Confraternização Universal"},
		{"2027-02-08", "Carnaval"},
		{"2027-02-09", "Carnaval"},
		{"2027-03-26", "Sexta-feira Santa"},
		{"2027-04-21", "Tiradentes"},
		{"2027-05-01", "Dia do Trabalho"},
		{"2027-05-27", "Corpus Christi"},
		{"2027-09-07", "Independência do Brasil"},
		{"2027-10-12", "Nossa Senhora Aparecida"},
		{"2027-11-02", "Finados"},
		{"2027-11-15", "Proclamação da República"},
		{"2027-11-20", "Dia Nacional de Zumbi e da Consciência Negra"},
		{"2027-12-25", "Natal"},
	};
	check_year(2027, w, sizeof(w) / sizeof(w[0]));
}

Test(holidays, by_day)
{
	cr_assert_str_eq(holiday_br_name(date_from_civil(2026, 12, 25)), "Natal");
	cr_assert_str_eq(holiday_br_name(date_from_civil(2027, 2, 9)), "Carnaval");
	cr_assert_null(holiday_br_name(date_from_civil(2026, 12, 24)), "Christmas Eve is not");
	cr_assert_null(holiday_br_name(date_from_civil(2026, 2, 18)), "Ash Wednesday is not");
	cr_assert_null(holiday_br_name(date_from_civil(2023, 11, 20)), "national only from 2024");
}

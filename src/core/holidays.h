/*
 * Brazil's national holidays (feriados nacionais), computed, never stored:
 * the fixed dates of federal law (Leis 662/1949, 6.802/1980, 10.607/2002,
 * 14.759/2023) and the movable ones from Easter (Gregorian computus):
 * Carnaval Monday and Tuesday (Easter - 48, - 47), Sexta-feira Santa
 * (Easter - 2) and Corpus Christi (Easter + 60). Carnaval and Corpus Christi
 * are "pontos facultativos" in the federal calendar but days off in field
 * service practice; the organization switches the whole set on or off.
 * Pure; day numbers as core/date.h.
 */
#ifndef OSPAY_CORE_HOLIDAYS_H
#define OSPAY_CORE_HOLIDAYS_H

#include <stddef.h>
#include <stdint.h>

#define HOLIDAY_MAX_PER_YEAR 16

typedef struct holiday {
	int64_t day;
	const char *name; /* static, Portuguese ("Natal") */
} holiday_t;

/* Easter Sunday of a Gregorian year (1583..9999) as a day number. */
int64_t holiday_easter(int year);

/* The national holidays of year, by date, into out (cap >= HOLIDAY_MAX_PER_YEAR); the count. */
size_t holiday_br_year(int year, holiday_t *out, size_t cap);

/* The holiday's name when day is a national holiday, else NULL. */
const char *holiday_br_name(int64_t day);

#endif

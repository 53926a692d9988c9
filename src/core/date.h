/*
 * Calendar dates that matter to people (due dates, agenda days) as day numbers
 * (days since 1970-01-01, proleptic Gregorian), and conversions between UTC
 * instants (ms) and an organization's local time given its UTC offset in
 * minutes (Brazil: -180, no daylight saving since 2019). Pure, no I/O.
 */
#ifndef OSPAY_CORE_DATE_H
#define OSPAY_CORE_DATE_H

#include <stddef.h>
#include <stdint.h>

#define DATE_MS_PER_DAY INT64_C(86400000)

/* Day number of y-m-d (m 1..12, d 1..31; not validated: see date_valid). */
int64_t date_from_civil(int y, int m, int d);
void date_to_civil(int64_t day, int *y, int *m, int *d);
/* 1 when y-m-d exists (leap years included). */
int date_valid(int y, int m, int d);
/* 0 = Sunday ... 6 = Saturday. */
int date_weekday(int64_t day);
/* Local day of a UTC instant. */
int64_t date_local_day(int64_t utc_ms, int offset_min);
/* Local minutes since midnight (0..1439) of a UTC instant. */
int date_local_minute(int64_t utc_ms, int offset_min);
/* UTC instant of local day + minute. */
int64_t date_local_to_utc(int64_t day, int minute, int offset_min);
/* Strict "YYYY-MM-DD"; 0 or -EINVAL. */
int date_parse(const char *s, int64_t *day);
/* "YYYY-MM-DD" into out (at least 11 bytes). */
void date_format(int64_t day, char *out, size_t outlen);
/* First day of day's month, and the same for the month after. */
int64_t date_month_start(int64_t day);
int64_t date_next_month_start(int64_t day);
/* n months after day (n >= 0), the same day of the month, or the month's last
 * day when it has no such day (Jan 31 + 1 = Feb 28 or 29). */
int64_t date_add_months(int64_t day, int n);

#endif

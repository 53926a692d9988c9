#include "core/date.h"

#include <errno.h>
#include <stdio.h>

#include "common/util.h"

int64_t date_from_civil(int y, int m, int d)
{
	return util_days_from_civil(y, m, d);
}

void date_to_civil(int64_t day, int *y, int *m, int *d)
{
	util_civil_from_days(day, y, m, d);
}

int date_valid(int y, int m, int d)
{
	return util_date_valid(y, m, d);
}

int date_weekday(int64_t day)
{
	/* 1970-01-01 was a Thursday (4). */
	int64_t w = (day + 4) % 7;
	return (int)(w < 0 ? w + 7 : w);
}

static int64_t floor_div(int64_t a, int64_t b)
{
	int64_t q = a / b;
	return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q;
}

int64_t date_local_day(int64_t utc_ms, int offset_min)
{
	return floor_div(utc_ms + (int64_t)offset_min * 60000, DATE_MS_PER_DAY);
}

int date_local_minute(int64_t utc_ms, int offset_min)
{
	int64_t local = utc_ms + (int64_t)offset_min * 60000;
	int64_t ms = local - floor_div(local, DATE_MS_PER_DAY) * DATE_MS_PER_DAY;
	return (int)(ms / 60000);
}

int64_t date_local_to_utc(int64_t day, int minute, int offset_min)
{
	return day * DATE_MS_PER_DAY + (int64_t)minute * 60000 - (int64_t)offset_min * 60000;
}

int date_parse(const char *s, int64_t *day)
{
	return util_date_parse(s, day);
}

void date_format(int64_t day, char *out, size_t outlen)
{
	util_date_format(day, out, outlen);
}

int64_t date_month_start(int64_t day)
{
	int y, m, d;
	date_to_civil(day, &y, &m, &d);
	return date_from_civil(y, m, 1);
}

int64_t date_next_month_start(int64_t day)
{
	int y, m, d;
	date_to_civil(day, &y, &m, &d);
	return m == 12 ? date_from_civil(y + 1, 1, 1) : date_from_civil(y, m + 1, 1);
}

int64_t date_add_months(int64_t day, int n)
{
	int y, m, d;
	date_to_civil(day, &y, &m, &d);
	m += n;
	y += (m - 1) / 12;
	m = (m - 1) % 12 + 1;
	while (d > 28 && !date_valid(y, m, d))
		d--;
	return date_from_civil(y, m, d);
}

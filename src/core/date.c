#include "core/date.h"

#include <errno.h>
#include <stdio.h>

int64_t date_from_civil(int y, int m, int d)
{
	int64_t yy = y - (m <= 2);
	const int64_t era = (yy >= 0 ? yy : yy - 399) / 400;
	const int64_t yoe = yy - era * 400;
	const int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	const int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + doe - 719468;
}

void date_to_civil(int64_t day, int *y, int *m, int *d)
{
	day += 719468;
	const int64_t era = (day >= 0 ? day : day - 146096) / 146097;
	const int64_t doe = day - era * 146097;
	const int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	const int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	const int64_t mp = (5 * doy + 2) / 153;
	*d = (int)(doy - (153 * mp + 2) / 5 + 1);
	*m = (int)(mp < 10 ? mp + 3 : mp - 9);
	*y = (int)(yoe + era * 400 + (*m <= 2));
}

int date_valid(int y, int m, int d)
{
	static const int mdays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
	if (y < 1900 || y > 9999 || m < 1 || m > 12 || d < 1)
		return 0;
	int leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
	return d <= mdays[m - 1] + (m == 2 && leap);
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
	int v[3] = {0, 0, 0};
	const int width[3] = {4, 2, 2};
	const char *p = s;
	for (int f = 0; f < 3; f++) {
		for (int i = 0; i < width[f]; i++, p++) {
			if (*p < '0' || *p > '9')
				return -EINVAL;
			v[f] = v[f] * 10 + (*p - '0');
		}
		if (f < 2 && *p++ != '-')
			return -EINVAL;
	}
	if (*p != '\0' || !date_valid(v[0], v[1], v[2]))
		return -EINVAL;
	*day = date_from_civil(v[0], v[1], v[2]);
	return 0;
}

void date_format(int64_t day, char *out, size_t outlen)
{
	int y, m, d;
	date_to_civil(day, &y, &m, &d);
	snprintf(out, outlen, "%04d-%02d-%02d", y, m, d);
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

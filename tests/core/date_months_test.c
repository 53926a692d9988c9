/* core/date.h's date_add_months: the same day a month on, or the month's last day. */
#include <criterion/criterion.h>

#include "core/date.h"

static void is(int64_t got, int y, int m, int d)
{
	int gy, gm, gd;
	date_to_civil(got, &gy, &gm, &gd);
	cr_assert(gy == y && gm == m && gd == d, "%04d-%02d-%02d, wanted %04d-%02d-%02d", gy, gm,
		  gd, y, m, d);
}

Test(date_months, same_day_or_the_months_last)
{
	is(date_add_months(date_from_civil(2027, 1, 12), 1), 2027, 2, 12);
	is(date_add_months(date_from_civil(2027, 1, 31), 1), 2027, 2, 28);
	is(date_add_months(date_from_civil(2028, 1, 31), 1), 2028, 2, 29);
	is(date_add_months(date_from_civil(2027, 3, 31), 1), 2027, 4, 30);
	is(date_add_months(date_from_civil(2026, 12, 15), 1), 2027, 1, 15);
	is(date_add_months(date_from_civil(2026, 11, 30), 3), 2027, 2, 28);
	is(date_add_months(date_from_civil(2026, 12, 31), 12), 2027, 12, 31);
	is(date_add_months(date_from_civil(2026, 5, 5), 0), 2026, 5, 5);
	/* From the original day each time: Jan 31 + 2 is Mar 31, not Mar 28. */
	is(date_add_months(date_from_civil(2027, 1, 31), 2), 2027, 3, 31);
}

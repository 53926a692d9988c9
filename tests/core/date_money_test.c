#include <criterion/criterion.h>
#include <string.h>

#include "core/date.h"
#include "core/money.h"
#include "core/perm.h"
#include "core/text.h"

Test(date, civil_roundtrip_and_weekday)
{
	int64_t d = date_from_civil(2020, 12, 10);
	char s[16];
	date_format(d, s, sizeof(s));
	cr_assert_str_eq(s, "2020-12-10");
	cr_assert_eq(date_weekday(d), 4, "2020-12-10 was a Thursday");
	cr_assert_eq(date_from_civil(1970, 1, 1), 0);
	for (int64_t x = -1000; x < 200000; x += 37) {
		int y, m, dd;
		date_to_civil(x, &y, &m, &dd);
		cr_assert_eq(date_from_civil(y, m, dd), x);
	}
}

Test(date, parse_is_strict)
{
	int64_t d;
	cr_assert_eq(date_parse("2024-02-29", &d), 0);
	cr_assert_neq(date_parse("2023-02-29", &d), 0);
	cr_assert_neq(date_parse("2023-2-28", &d), 0);
	cr_assert_neq(date_parse("2023-02-28x", &d), 0);
	cr_assert_neq(date_parse("", &d), 0);
}

Test(date, local_day_in_brazil)
{
	/* 2020-12-11T02:00Z is still 2020-12-10 23:00 in UTC-03:00. */
	int64_t ms = date_local_to_utc(date_from_civil(2020, 12, 10), 23 * 60, -180);
	cr_assert_eq(date_local_day(ms, -180), date_from_civil(2020, 12, 10));
	cr_assert_eq(date_local_day(ms, 0), date_from_civil(2020, 12, 11));
	cr_assert_eq(date_local_minute(ms, -180), 23 * 60);
	cr_assert_eq(date_month_start(date_from_civil(2020, 12, 10)), date_from_civil(2020, 12, 1));
	cr_assert_eq(date_next_month_start(date_from_civil(2020, 12, 10)),
		     date_from_civil(2021, 1, 1));
}

Test(money, brl_format)
{
	char s[32];
	money_format_brl(123456, s, sizeof(s));
	cr_assert_str_eq(s, "R$ 1.234,56");
	money_format_brl(-100, s, sizeof(s));
	cr_assert_str_eq(s, "-R$ 1,00");
	money_format_brl(5, s, sizeof(s));
	cr_assert_str_eq(s, "R$ 0,05");
	money_format_plain(1000000, s, sizeof(s));
	cr_assert_str_eq(s, "10000.00");
}

Test(text, names_and_utf8)
{
	cr_assert_null(text_check_name("São Paulo", 100));
	cr_assert_not_null(text_check_name("   ", 100));
	cr_assert_not_null(text_check_name("a\nb", 100));
	cr_assert_not_null(text_check_name("\xc3\x28", 100));
	cr_assert_not_null(text_check_name("\xed\xa0\x80", 100), "surrogates are not UTF-8");
	cr_assert_not_null(text_check_name("abcdef", 5));
}

Test(perm, roles_and_units)
{
	uint64_t units[] = {2, 5};
	perm_principal_t scoped = {
		.org_id = 1, .role = PERM_ROLE_OPERATOR, .unit_ids = units, .n_units = 2};
	perm_principal_t ro = {.org_id = 1, .role = PERM_ROLE_READ_ONLY, .org_wide = true};
	status_t st;
	status_clear(&st);
	cr_assert_eq(perm_check(&scoped, PERM_OPERATE, 1, 5, &st), ST_OK);
	cr_assert_eq(perm_check(&scoped, PERM_READ, 1, 3, &st), ST_NOT_FOUND);
	cr_assert_eq(perm_check(&scoped, PERM_READ, 2, 5, &st), ST_NOT_FOUND, "other org");
	cr_assert_eq(perm_check(&scoped, PERM_CONFIGURE, 1, 5, &st), ST_PERMISSION_DENIED);
	cr_assert_eq(perm_check(&scoped, PERM_OPERATE, 1, 0, &st), ST_PERMISSION_DENIED,
		     "org-level changes need an org-wide token");
	cr_assert_eq(perm_check(&ro, PERM_READ, 1, 9, &st), ST_OK);
	cr_assert_eq(perm_check(&ro, PERM_OPERATE, 1, 9, &st), ST_PERMISSION_DENIED);
	perm_principal_t admin = {
		.org_id = 1, .role = PERM_ROLE_ADMIN, .unit_ids = units, .n_units = 2};
	uint64_t ok[] = {5}, bad[] = {3};
	cr_assert_eq(perm_check_token_scope(&admin, PERM_ROLE_OPERATOR, false, ok, 1, &st), ST_OK);
	cr_assert_eq(perm_check_token_scope(&admin, PERM_ROLE_OPERATOR, false, bad, 1, &st),
		     ST_PERMISSION_DENIED);
	cr_assert_eq(perm_check_token_scope(&admin, PERM_ROLE_OPERATOR, true, NULL, 0, &st),
		     ST_PERMISSION_DENIED);
	cr_assert_eq(perm_check_token_scope(&scoped, PERM_ROLE_READ_ONLY, false, ok, 1, &st),
		     ST_PERMISSION_DENIED, "only admins manage tokens");
}

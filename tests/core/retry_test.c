/*
 * The brand retry rules (core/retry.h): Visa categories, every Mastercard
 * Merchant Advice Code, ABECS for the rest, and the rolling 30-day counts
 * across month boundaries.
 */
#include <criterion/criterion.h>
#include <stdint.h>

#include "core/date.h"
#include "core/retry.h"

static const int64_t T0 = 1609502400000LL; /* 2021-01-01T12:00:00Z */
#define H (3600 * 1000LL)
#define D RETRY_DAY_MS

Test(retry, visa_categories)
{
	static const struct {
		const char *code;
		enum retry_class cls;
		bool never;
	} want[] = {
		{"04", RETRY_CLASS_VISA_1, true},  {"14", RETRY_CLASS_VISA_1, true},
		{"41", RETRY_CLASS_VISA_1, true},  {"43", RETRY_CLASS_VISA_1, true},
		{"57", RETRY_CLASS_VISA_1, true},  {"R0", RETRY_CLASS_VISA_1, true},
		{"R1", RETRY_CLASS_VISA_1, true},  {"51", RETRY_CLASS_VISA_2, false},
		{"61", RETRY_CLASS_VISA_2, false}, {"91", RETRY_CLASS_VISA_2, false},
		{"78", RETRY_CLASS_VISA_2, false}, {"54", RETRY_CLASS_VISA_3, true},
		{"55", RETRY_CLASS_VISA_3, false}, {"N7", RETRY_CLASS_VISA_3, true},
		{"05", RETRY_CLASS_VISA_4, false}, {"", RETRY_CLASS_VISA_4, false},
	};
	for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
		retry_verdict_t v;
		retry_judge(CARD_BRAND_VISA, want[i].code, NULL, T0, &v);
		cr_assert_eq(v.cls, want[i].cls, "code %s", want[i].code);
		/* Category 1 never; others follow ABECS (54 expired and N7 are irreversible). */
		cr_assert_eq(v.never, want[i].never, "code %s", want[i].code);
		cr_assert_eq(v.next_ms, v.never ? INT64_MAX : T0, "code %s", want[i].code);
		cr_assert_neq(v.advice[0], '\0');
	}
	/* A MAC on a Visa decline means nothing. */
	retry_verdict_t v;
	retry_judge(CARD_BRAND_VISA, "51", "03", T0, &v);
	cr_assert_eq(v.cls, RETRY_CLASS_VISA_2);
}

Test(retry, mastercard_advice_codes)
{
	static const struct {
		const char *mac;
		enum retry_class cls;
		bool never;
		int64_t wait;
	} want[] = {
		{"01", RETRY_CLASS_MC_UPDATE, true, 0},
		{"1", RETRY_CLASS_MC_UPDATE, true, 0},
		{"02", RETRY_CLASS_MC_LATER, false, 72 * H},
		{"03", RETRY_CLASS_MC_NEVER, true, 0},
		{"21", RETRY_CLASS_MC_NEVER, true, 0},
		{"24", RETRY_CLASS_MC_LATER, false, H},
		{"25", RETRY_CLASS_MC_LATER, false, D},
		{"26", RETRY_CLASS_MC_LATER, false, 2 * D},
		{"27", RETRY_CLASS_MC_LATER, false, 4 * D},
		{"28", RETRY_CLASS_MC_LATER, false, 6 * D},
		{"29", RETRY_CLASS_MC_LATER, false, 8 * D},
		{"30", RETRY_CLASS_MC_LATER, false, 10 * D},
	};
	for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
		retry_verdict_t v;
		retry_judge(CARD_BRAND_MASTERCARD, "51", want[i].mac, T0, &v);
		cr_assert_eq(v.cls, want[i].cls, "MAC %s", want[i].mac);
		cr_assert_eq(v.never, want[i].never, "MAC %s", want[i].mac);
		cr_assert_eq(v.next_ms, v.never ? INT64_MAX : T0 + want[i].wait, "MAC %s",
			     want[i].mac);
	}
	/* No MAC, or one the rules do not know: ABECS decides. */
	retry_verdict_t v;
	retry_judge(CARD_BRAND_MASTERCARD, "51", "", T0, &v);
	cr_assert_eq(v.cls, RETRY_CLASS_REVERSIBLE);
	cr_assert_not(v.never);
	retry_judge(CARD_BRAND_MASTERCARD, "41", "99", T0, &v);
	cr_assert_eq(v.cls, RETRY_CLASS_IRREVERSIBLE);
	cr_assert(v.never);
	/* Other brands: ABECS only. */
	retry_judge(CARD_BRAND_ELO, "51", "03", T0, &v);
	cr_assert_eq(v.cls, RETRY_CLASS_REVERSIBLE);
	retry_judge(CARD_BRAND_ELO, "14", NULL, T0, &v);
	cr_assert(v.never);
}

/* 20 reattempts in a rolling 30 days, counted across a month boundary. */
Test(retry, visa_twenty_in_thirty_days_across_months)
{
	int64_t t[40];
	size_t n = 0;
	/* One reattempt a day from 2021-01-20 to 2021-02-08: 20 of them. */
	int64_t jan20;
	cr_assert_eq(date_parse("2021-01-20", &jan20), 0);
	int64_t base = jan20 * D + 12 * H;
	for (int i = 0; i < 20; i++)
		t[n++] = base + i * D;
	int64_t feb8 = base + 19 * D;
	cr_assert_eq(retry_in_window(t, n, feb8), 20);
	cr_assert_not(retry_window_allows(CARD_BRAND_VISA, retry_in_window(t, n, feb8)));
	/* Mastercard and the rest have no such cap. */
	cr_assert(retry_window_allows(CARD_BRAND_MASTERCARD, 20));
	/* 2021-02-19 12:00: Jan 20's has just left the window (30 days later), so one fits. */
	int64_t feb19 = base + 30 * D;
	cr_assert_eq(retry_in_window(t, n, feb19), 19);
	cr_assert(retry_window_allows(CARD_BRAND_VISA, retry_in_window(t, n, feb19)));
	/* One ms earlier it is still in. */
	cr_assert_eq(retry_in_window(t, n, feb19 - 1), 20);
	/* Future times do not count. */
	cr_assert_eq(retry_in_window(t, n, base), 1);
}

Test(retry, mastercard_fee_from_the_eighth)
{
	cr_assert_not(retry_fee(CARD_BRAND_MASTERCARD, 6));
	cr_assert(retry_fee(CARD_BRAND_MASTERCARD, 7));
	cr_assert(retry_fee(CARD_BRAND_MASTERCARD, 12));
	cr_assert_not(retry_fee(CARD_BRAND_VISA, 12));
}

Test(retry, class_names)
{
	cr_assert_str_eq(retry_class_name(RETRY_CLASS_VISA_1), "visa-category-1");
	cr_assert_str_eq(retry_class_name(RETRY_CLASS_MC_LATER), "mastercard-retry-later");
	cr_assert_str_eq(retry_class_name((enum retry_class)99), "");
}

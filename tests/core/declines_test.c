#include <criterion/criterion.h>
#include <errno.h>
#include <string.h>

#include "core/declines.h"

static enum decline_kind kind(const char *code, enum card_brand brand)
{
	decline_info_t info;
	decline_classify(code, brand, &info);
	return info.kind;
}

static const enum card_brand all_brands[] = {
	CARD_BRAND_VISA,      CARD_BRAND_MASTERCARD, CARD_BRAND_AMEX,     CARD_BRAND_ELO,
	CARD_BRAND_HIPERCARD, CARD_BRAND_DINERS,     CARD_BRAND_DISCOVER, CARD_BRAND_JCB,
};
#define N_BRANDS (sizeof(all_brands) / sizeof(all_brands[0]))

Test(declines, irreversible_for_every_brand)
{
	/* Reference 1.10: lost, stolen, invalid number, expired, recurring suspended... */
	static const char *const codes[] = {"41", "43", "14", "54", "13", "12", "R0", "R1",
					    "R3", "SC", "BN", "82", "46", "58", "15"};
	for (size_t i = 0; i < sizeof(codes) / sizeof(codes[0]); i++)
		for (size_t b = 0; b < N_BRANDS; b++)
			cr_assert_eq(kind(codes[i], all_brands[b]), DECLINE_IRREVERSIBLE,
				     "%s brand %d", codes[i], all_brands[b]);
}

Test(declines, reversible_for_every_brand)
{
	static const char *const codes[] = {"05", "5",  "51", "61",    "65",   "91",
					    "96", "60", "67", "70",    "98",   "999",
					    "AA", "BL", "DM", "BP171", "BP900"};
	for (size_t i = 0; i < sizeof(codes) / sizeof(codes[0]); i++)
		for (size_t b = 0; b < N_BRANDS; b++)
			cr_assert_eq(kind(codes[i], all_brands[b]), DECLINE_REVERSIBLE,
				     "%s brand %d", codes[i], all_brands[b]);
}

#define IRREV DECLINE_IRREVERSIBLE
#define REV DECLINE_REVERSIBLE

/* Codes whose kind depends on the brand: with the brand's own column of
 * reference table 1.10, and for brands without one. */
enum brand_group { COLUMNS, NO_COLUMN };
static const struct brand_case {
	enum brand_group group;
	const char *code;
	enum card_brand brand;
	enum decline_kind want;
} brand_cases[] = {
	/* 57: Elo/Visa irreversible, Mastercard/Hiper reversible (reference table 1.10). */
	{COLUMNS, "57", CARD_BRAND_ELO, IRREV},
	{COLUMNS, "57", CARD_BRAND_MASTERCARD, REV},
	{COLUMNS, "57", CARD_BRAND_HIPERCARD, REV},
	{COLUMNS, "57", CARD_BRAND_VISA, IRREV},
	/* 78: "card not unlocked" is reversible for every brand (table 1.10). */
	{COLUMNS, "78", CARD_BRAND_ELO, REV},
	{COLUMNS, "78", CARD_BRAND_VISA, REV},
	{COLUMNS, "78", CARD_BRAND_MASTERCARD, REV},
	/* 63: security violation is final for Elo/Visa, reversible for Mastercard. */
	{COLUMNS, "63", CARD_BRAND_ELO, IRREV},
	{COLUMNS, "63", CARD_BRAND_VISA, IRREV},
	{COLUMNS, "63", CARD_BRAND_MASTERCARD, REV},
	/* 04: Elo asks for a retry; for Visa/Mastercard it is "pick up card". */
	{COLUMNS, "04", CARD_BRAND_ELO, REV},
	{COLUMNS, "04", CARD_BRAND_VISA, IRREV},
	{COLUMNS, "04", CARD_BRAND_MASTERCARD, IRREV},
	/* 06: Elo "consult acquirer" reversible; Visa card error irreversible. */
	{COLUMNS, "06", CARD_BRAND_ELO, REV},
	{COLUMNS, "06", CARD_BRAND_VISA, IRREV},
	/* 62: temporary block (Elo, Visa) vs Mastercard's restricted/closed. */
	{COLUMNS, "62", CARD_BRAND_ELO, REV},
	{COLUMNS, "62", CARD_BRAND_VISA, REV},
	{COLUMNS, "62", CARD_BRAND_MASTERCARD, IRREV},
	/* 6P: irreversible for Visa (ABECS), "4 times in 16 days" otherwise. */
	{COLUMNS, "6P", CARD_BRAND_VISA, IRREV},
	{COLUMNS, "6P", CARD_BRAND_ELO, REV},
	/* Amex through Cielo's De/Para. */
	{COLUMNS, "FD", CARD_BRAND_AMEX, IRREV},
	{COLUMNS, "BV", CARD_BRAND_AMEX, IRREV},
	{COLUMNS, "A5", CARD_BRAND_AMEX, REV},
	{COLUMNS, "A1", CARD_BRAND_AMEX, REV},
	/* R0 is only in Visa's column: final everywhere. */
	{NO_COLUMN, "R0", CARD_BRAND_ELO, IRREV},
	{NO_COLUMN, "R0", CARD_BRAND_DINERS, IRREV},
	/* 57 is mixed across columns: brands without a column get the second attempt. */
	{NO_COLUMN, "57", CARD_BRAND_DINERS, REV},
	{NO_COLUMN, "57", CARD_BRAND_DISCOVER, REV},
	{NO_COLUMN, "57", CARD_BRAND_JCB, REV},
	{NO_COLUMN, "57", CARD_BRAND_UNSPECIFIED, REV},
	/* 77 only in Elo's column (irreversible): the sandbox's "Cartão Cancelado". */
	{NO_COLUMN, "77", CARD_BRAND_VISA, IRREV},
};

static void check_brand_group(enum brand_group g)
{
	size_t n = 0;
	for (size_t i = 0; i < sizeof(brand_cases) / sizeof(brand_cases[0]); i++) {
		const struct brand_case *c = &brand_cases[i];
		if (c->group != g)
			continue;
		n++;
		cr_assert_eq(kind(c->code, c->brand), c->want, "%s brand %d", c->code, c->brand);
	}
	cr_assert_gt(n, 0);
}

Test(declines, brand_dependent_codes)
{
	check_brand_group(COLUMNS);
}

Test(declines, brands_without_a_column_follow_the_others)
{
	check_brand_group(NO_COLUMN);
}

Test(declines, delayed_retries_beyond_the_window_are_final)
{
	/* NR: retry after 30 days; RP: after 72 hours. The schedule has no such day. */
	for (size_t b = 0; b < N_BRANDS; b++) {
		cr_assert_eq(kind("NR", all_brands[b]), DECLINE_IRREVERSIBLE);
		cr_assert_eq(kind("RP", all_brands[b]), DECLINE_IRREVERSIBLE);
	}
}

Test(declines, code_spelling)
{
	decline_info_t info;
	decline_classify(" 05 ", CARD_BRAND_VISA, &info);
	cr_assert(info.known);
	cr_assert_str_eq(info.meaning, "generic decline");
	decline_classify("005", CARD_BRAND_VISA, &info);
	cr_assert(info.known);
	decline_classify("r0", CARD_BRAND_VISA, &info);
	cr_assert(info.known);
	cr_assert_eq(info.kind, DECLINE_IRREVERSIBLE);
	decline_classify("sc", CARD_BRAND_MASTERCARD, &info);
	cr_assert_eq(info.kind, DECLINE_IRREVERSIBLE);
	cr_assert_str_eq(info.meaning, "recurring payment, service canceled");
	/* "0"s alone stay a code. */
	decline_classify("00", CARD_BRAND_VISA, &info);
	cr_assert_not(info.known);
}

Test(declines, unknown_codes_are_reversible)
{
	static const char *const codes[] = {
		"99", "ZZ", "123456", "", "   ", "THIS-CODE-IS-FAR-TOO-LONG-TO-BE-A-RETURN-CODE"};
	for (size_t i = 0; i < sizeof(codes) / sizeof(codes[0]); i++) {
		decline_info_t info;
		decline_classify(codes[i], CARD_BRAND_VISA, &info);
		cr_assert_eq(info.kind, DECLINE_REVERSIBLE, "%s", codes[i]);
		cr_assert_not(info.known);
		cr_assert_str_eq(info.meaning, "");
	}
	decline_info_t info;
	decline_classify(NULL, CARD_BRAND_VISA, &info);
	cr_assert_eq(info.kind, DECLINE_REVERSIBLE);
	cr_assert_not(decline_is_irreversible(NULL, CARD_BRAND_ELO));
	cr_assert(decline_is_irreversible("41", CARD_BRAND_ELO));
}

Test(declines, cielo_sandbox_return_codes)
{
	/* Reference 1.9: the sandbox's codes by final digit, seen as production codes. */
	cr_assert_eq(kind("05", CARD_BRAND_VISA), DECLINE_REVERSIBLE, "final digit 2");
	cr_assert_eq(kind("57", CARD_BRAND_VISA), DECLINE_IRREVERSIBLE, "final digit 3");
	cr_assert_eq(kind("78", CARD_BRAND_VISA), DECLINE_REVERSIBLE, "final digit 5, Visa");
	cr_assert_eq(kind("78", CARD_BRAND_ELO), DECLINE_REVERSIBLE, "final digit 5, Elo");
	cr_assert_eq(kind("99", CARD_BRAND_VISA), DECLINE_REVERSIBLE, "final digit 6");
	cr_assert_eq(kind("77", CARD_BRAND_VISA), DECLINE_IRREVERSIBLE, "final digit 7");
	cr_assert_eq(kind("70", CARD_BRAND_VISA), DECLINE_REVERSIBLE, "final digit 8");
}

Test(declines, getnet_acquirer_code)
{
	static const struct {
		const char *text, *code;
	} good[] = {
		/* The recorded decline of reference 2.7. */
		{"CARTAO EXCEDEU O LIMITE PARA PARCELAMENTO [ECOM - 23]", "23"},
		{"CARTAO PERDIDO [ECOM-41]", "41"},
		{"[old - 05] NEGADA [ECOM - R0]", "R0"},
		{"[51]", "51"},
		/* The letters and digits just before the ']': a space or a '-' ends them. */
		{"NEGADA [ECOM 05]", "05"},
		{"[ECOM - 2 3]", "3"},
		{"[ECOM - 23] ]", "23"},
		{"[ECOM - N7XY]", "N7XY"},
	};
	char code[DECLINE_CODE_MAX + 1];
	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		cr_assert_eq(decline_getnet_code(good[i].text, code, sizeof(code)), 0, "%s",
			     good[i].text);
		cr_assert_str_eq(code, good[i].code, "%s", good[i].text);
	}
	/* Reference 2.7's code 23 (invalid installment) is final. */
	cr_assert_eq(kind("23", CARD_BRAND_ELO), DECLINE_IRREVERSIBLE, "invalid installment");

	static const char *const bad[] = {
		"NO CODE HERE", "[ECOM - ]", "[ECOM - 23 ]",   "ECOM - 23]",
		"[ECOM - 23",   "][",        "[ECOM - BP171]", "[ECOM - 23] [x",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		cr_assert_eq(decline_getnet_code(bad[i], code, sizeof(code)), -EINVAL, "%s",
			     bad[i]);
		cr_assert_str_eq(code, "");
	}
	cr_assert_eq(decline_getnet_code(NULL, code, sizeof(code)), -EINVAL);
	char tiny[2];
	cr_assert_eq(decline_getnet_code("[ECOM - 23]", tiny, sizeof(tiny)), -EINVAL);
	cr_assert_str_eq(tiny, "");
}

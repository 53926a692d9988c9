#include <criterion/criterion.h>
#include <string.h>

#include "core/card.h"
#include "core/date.h"

/*
 * Reasons go to clients and logs: none may carry a run of digits (the only
 * digits allowed are the bounds, "12 to 19").
 */
static void assert_reason_clean(const char *reason)
{
	int run = 0;
	cr_assert_not_null(reason);
	for (const char *p = reason; *p != '\0'; p++) {
		run = *p >= '0' && *p <= '9' ? run + 1 : 0;
		cr_assert_lt(run, 3, "reason \"%s\" carries digits", reason);
	}
}

typedef struct known_card {
	const char *number;
	enum card_brand brand;
	const char *source;
} known_card_t;

/* Public test numbers; every one passes Luhn. */
static const known_card_t known_cards[] = {
	/* Cielo's manual (CIELO-MAN) sale examples; sandbox outcome by final digit (ref. 1.9). */
	{"4551870000000183", CARD_BRAND_VISA, "Cielo manual"},
	/* GetNet test cards (GETNET-SWAGGER "Cartões para Teste"). */
	{"5155901222280001", CARD_BRAND_MASTERCARD, "GetNet approved"},
	{"5155901222270002", CARD_BRAND_MASTERCARD, "GetNet invalid card"},
	{"5155901222240005", CARD_BRAND_MASTERCARD, "GetNet insufficient funds"},
	{"4012001037141112", CARD_BRAND_VISA, "GetNet Visa"},
	/* Widely published gateway test PANs. */
	{"4111111111111111", CARD_BRAND_VISA, "Visa"},
	{"5555555555554444", CARD_BRAND_MASTERCARD, "Mastercard"},
	{"2223003122003222", CARD_BRAND_MASTERCARD, "Mastercard 2-series"},
	{"378282246310005", CARD_BRAND_AMEX, "Amex 37"},
	{"371449635398431", CARD_BRAND_AMEX, "Amex 37"},
	{"30569309025904", CARD_BRAND_DINERS, "Diners 305"},
	{"38520000023237", CARD_BRAND_DINERS, "Diners 38"},
	{"36006666333344", CARD_BRAND_DINERS, "Diners 36"},
	{"6011111111111117", CARD_BRAND_DISCOVER, "Discover 6011"},
	{"6011000990139424", CARD_BRAND_DISCOVER, "Discover 6011"},
	{"3530111333300000", CARD_BRAND_JCB, "JCB"},
	{"3566002020360505", CARD_BRAND_JCB, "JCB"},
	{"6362970000457013", CARD_BRAND_ELO, "Elo 636297"},
	{"5066991111111118", CARD_BRAND_ELO, "Elo 506699"},
	{"6062828888666688", CARD_BRAND_HIPERCARD, "Hipercard 606282"},
	{"6062825624254001", CARD_BRAND_HIPERCARD, "Hipercard 606282"},
};

Test(card, known_test_numbers_pass_with_their_brand)
{
	for (size_t i = 0; i < sizeof(known_cards) / sizeof(known_cards[0]); i++) {
		card_pan_t pan;
		const char *reason = card_check_number(known_cards[i].number, &pan);
		cr_assert_null(reason, "%s: %s", known_cards[i].source, reason);
		cr_assert_eq(pan.brand, known_cards[i].brand, "%s: brand %d", known_cards[i].source,
			     pan.brand);
		cr_assert_str_eq(pan.digits, known_cards[i].number);
		card_pan_wipe(&pan);
		cr_assert_eq(pan.len, 0);
		cr_assert_eq(pan.digits[0], '\0');
	}
}

Test(card, cielo_sandbox_final_digits)
{
	/*
	 * The Cielo sandbox picks the outcome by the final digit (ref. 1.9) and
	 * wants Luhn-valid numbers for tokenization and recurrence (1.4): these
	 * Visa numbers end in 0..9 and all pass.
	 */
	static const char *const by_digit[] = {
		"4551870000000050", "4551870000000001", "4551870000000092", "4551870000000043",
		"4551870000000084", "4551870000000035", "4551870000000076", "4551870000000027",
		"4551870000000068", "4551870000000019",
	};
	for (int d = 0; d < 10; d++) {
		card_pan_t pan;
		cr_assert_null(card_check_number(by_digit[d], &pan));
		cr_assert_eq(pan.digits[pan.len - 1] - '0', d);
		cr_assert_eq(pan.brand, CARD_BRAND_VISA);
	}
	/*
	 * The manual's other example number fails Luhn: Cielo's sandbox takes it
	 * for a plain sale, but ospay always tokenizes, so it is refused.
	 */
	card_pan_t pan;
	const char *reason = card_check_number("4551870000000181", &pan);
	cr_assert_str_eq(reason, "is not a valid card number (check digit)");
	assert_reason_clean(reason);
}

Test(card, separators_and_bad_characters)
{
	card_pan_t pan;
	cr_assert_null(card_check_number("4111 1111 1111 1111", &pan));
	cr_assert_str_eq(pan.digits, "4111111111111111");
	cr_assert_null(card_check_number("4111-1111-1111-1111", &pan));
	cr_assert_null(card_check_number(" 4111111111111111 ", &pan));
	cr_assert_str_eq(card_check_number("4111.1111.1111.1111", &pan),
			 "must contain only digits, spaces and dashes");
	cr_assert_eq(pan.len, 0, "a refused number leaves nothing behind");
	cr_assert_str_eq(card_check_number("4111x111111111111", &pan),
			 "must contain only digits, spaces and dashes");
	cr_assert_str_eq(card_check_number("", &pan), "required");
	cr_assert_str_eq(card_check_number(NULL, &pan), "required");
	cr_assert_str_eq(card_check_number("   ", &pan), "must have 12 to 19 digits");
	cr_assert_str_eq(card_check_number("41111111111", &pan), "must have 12 to 19 digits");
	cr_assert_str_eq(card_check_number("41111111111111111111", &pan),
			 "must have 12 to 19 digits");
	char big[200];
	memset(big, '-', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	cr_assert_str_eq(card_check_number(big, &pan), "must have 12 to 19 digits");
}

Test(card, luhn)
{
	cr_assert(card_luhn_valid("79927398713", 11), "the classic example");
	cr_assert_not(card_luhn_valid("79927398710", 11));
	cr_assert_not(card_luhn_valid("4111111111111112", 16));
	cr_assert_not(card_luhn_valid("", 0));
	cr_assert_not(card_luhn_valid("41x1", 4));
	/* Every single-digit change of a valid number is caught. */
	char n[] = "5155901222280001";
	for (size_t i = 0; i < 16; i++) {
		char orig = n[i];
		for (char c = '0'; c <= '9'; c++) {
			if (c == orig)
				continue;
			n[i] = c;
			cr_assert_not(card_luhn_valid(n, 16), "%zu=%c", i, c);
		}
		n[i] = orig;
	}
}

Test(card, brand_prefixes)
{
	static const struct {
		const char *prefix;
		enum card_brand brand;
	} cases[] = {
		{"4000000000000000", CARD_BRAND_VISA},
		{"5100000000000000", CARD_BRAND_MASTERCARD},
		{"5500000000000000", CARD_BRAND_MASTERCARD},
		{"5600000000000000", CARD_BRAND_UNSPECIFIED},
		{"2221000000000000", CARD_BRAND_MASTERCARD},
		{"2720990000000000", CARD_BRAND_MASTERCARD},
		{"2220990000000000", CARD_BRAND_UNSPECIFIED},
		{"2721000000000000", CARD_BRAND_UNSPECIFIED},
		{"340000000000000", CARD_BRAND_AMEX},
		{"370000000000000", CARD_BRAND_AMEX},
		{"350000000000000", CARD_BRAND_UNSPECIFIED},
		{"30000000000000", CARD_BRAND_DINERS},
		{"30500000000000", CARD_BRAND_DINERS},
		{"30600000000000", CARD_BRAND_UNSPECIFIED},
		{"36000000000000", CARD_BRAND_DINERS},
		{"38000000000000", CARD_BRAND_DINERS},
		{"3841000000000000000", CARD_BRAND_HIPERCARD},
		{"3840000000000000", CARD_BRAND_DINERS},
		{"6062820000000000", CARD_BRAND_HIPERCARD},
		{"6062830000000000", CARD_BRAND_UNSPECIFIED},
		{"6011000000000000", CARD_BRAND_DISCOVER},
		{"6440000000000000", CARD_BRAND_DISCOVER},
		{"6490000000000000", CARD_BRAND_DISCOVER},
		{"6500000000000000", CARD_BRAND_DISCOVER},
		{"6599000000000000", CARD_BRAND_DISCOVER},
		{"6430000000000000", CARD_BRAND_UNSPECIFIED},
		{"3528000000000000", CARD_BRAND_JCB},
		{"3589000000000000", CARD_BRAND_JCB},
		{"3527000000000000", CARD_BRAND_UNSPECIFIED},
		{"3590000000000000", CARD_BRAND_UNSPECIFIED},
		/* Elo ranges, including those inside Visa's and Discover's. */
		{"4011780000000000", CARD_BRAND_ELO},
		{"4011790000000000", CARD_BRAND_ELO},
		{"4011800000000000", CARD_BRAND_VISA},
		{"4312740000000000", CARD_BRAND_ELO},
		{"4389350000000000", CARD_BRAND_ELO},
		{"4514160000000000", CARD_BRAND_ELO},
		{"4573930000000000", CARD_BRAND_ELO},
		{"4576310000000000", CARD_BRAND_ELO},
		{"4576320000000000", CARD_BRAND_ELO},
		{"4576330000000000", CARD_BRAND_VISA},
		{"5041750000000000", CARD_BRAND_ELO},
		{"5066990000000000", CARD_BRAND_ELO},
		{"5067780000000000", CARD_BRAND_ELO},
		{"5067790000000000", CARD_BRAND_UNSPECIFIED},
		{"5090000000000000", CARD_BRAND_ELO},
		{"5099990000000000", CARD_BRAND_ELO},
		{"6277800000000000", CARD_BRAND_ELO},
		{"6362970000000000", CARD_BRAND_ELO},
		{"6363680000000000", CARD_BRAND_ELO},
		{"6500310000000000", CARD_BRAND_ELO},
		{"6500340000000000", CARD_BRAND_DISCOVER},
		{"6500350000000000", CARD_BRAND_ELO},
		{"6504850000000000", CARD_BRAND_ELO},
		{"6516520000000000", CARD_BRAND_ELO},
		{"6550200000000000", CARD_BRAND_DISCOVER},
		{"6550210000000000", CARD_BRAND_ELO},
		{"6550580000000000", CARD_BRAND_ELO},
		{"1234567890123456", CARD_BRAND_UNSPECIFIED},
		{"9999999999999999", CARD_BRAND_UNSPECIFIED},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		cr_assert_eq(card_brand_of(cases[i].prefix, strlen(cases[i].prefix)),
			     cases[i].brand, "%s: got %d", cases[i].prefix,
			     card_brand_of(cases[i].prefix, strlen(cases[i].prefix)));
}

Test(card, unknown_brand_and_wrong_length_are_refused)
{
	card_pan_t pan;
	/* Luhn-valid, but 1... belongs to no accepted brand. */
	const char *reason = card_check_number("1234123412341238", &pan);
	cr_assert_not_null(reason);
	cr_assert(strncmp(reason, "brand not accepted", 18) == 0, "%s", reason);
	cr_assert_eq(pan.len, 0);
	/* Luhn-valid Mastercard prefix with 15 digits; Amex with 16. */
	reason = card_check_number("555555555555558", &pan);
	cr_assert_str_eq(reason, "has the wrong number of digits for its brand");
	reason = card_check_number("3782822463100052", &pan);
	cr_assert_str_eq(reason, "has the wrong number of digits for its brand");
	/* Visa: 13 digits (legacy) passes, 14 does not. */
	cr_assert_null(card_check_number("4222222222222", &pan));
	cr_assert_eq(pan.brand, CARD_BRAND_VISA);
	cr_assert_str_eq(card_check_number("42222222222226", &pan),
			 "has the wrong number of digits for its brand");
	cr_assert(card_brand_length_ok(CARD_BRAND_HIPERCARD, 19));
	cr_assert(card_brand_length_ok(CARD_BRAND_DINERS, 14));
	cr_assert_not(card_brand_length_ok(CARD_BRAND_ELO, 19));
	cr_assert_not(card_brand_length_ok(CARD_BRAND_UNSPECIFIED, 16));
	cr_assert_not(card_brand_length_ok(CARD_BRAND_VISA, 40));
}

Test(card, reasons_never_carry_the_number)
{
	static const char *const bad[] = {
		"4111111111111112", "4111.1111.1111.1111",
		"1234123412341238", "555555555555558",
		"411111",           "41111111111111111111111",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		card_pan_t pan;
		const char *reason = card_check_number(bad[i], &pan);
		assert_reason_clean(reason);
		cr_assert_null(strstr(reason, "1111"));
		cr_assert_null(strstr(reason, "5555"));
	}
}

Test(card, brand_names)
{
	cr_assert_str_eq(card_brand_name(CARD_BRAND_VISA), "Visa");
	cr_assert_str_eq(card_brand_name(CARD_BRAND_ELO), "Elo");
	cr_assert_str_eq(card_brand_name(CARD_BRAND_JCB), "JCB");
	cr_assert_null(card_brand_name(CARD_BRAND_UNSPECIFIED));
	cr_assert_null(card_brand_name((enum card_brand)99));
}

Test(card, expiry_parse)
{
	card_expiry_t e;
	cr_assert_null(card_parse_expiry("12/2030", &e));
	cr_assert_eq(e.month, 12);
	cr_assert_eq(e.year, 2030);
	cr_assert_null(card_parse_expiry("01/27", &e));
	cr_assert_eq(e.month, 1);
	cr_assert_eq(e.year, 2027);
	cr_assert_str_eq(card_parse_expiry("13/2030", &e), "month must be 01 to 12");
	cr_assert_str_eq(card_parse_expiry("00/2030", &e), "month must be 01 to 12");
	cr_assert_str_eq(card_parse_expiry("1/2030", &e), "must be MM/YYYY or MM/YY");
	cr_assert_str_eq(card_parse_expiry("12-2030", &e), "must be MM/YYYY or MM/YY");
	cr_assert_str_eq(card_parse_expiry("12/203", &e), "must be MM/YYYY or MM/YY");
	cr_assert_str_eq(card_parse_expiry("12/20300", &e), "must be MM/YYYY or MM/YY");
	cr_assert_str_eq(card_parse_expiry("12/20a0", &e), "must be MM/YYYY or MM/YY");
	cr_assert_str_eq(card_parse_expiry(" 12/2030", &e), "must be MM/YYYY or MM/YY");
	cr_assert_str_eq(card_parse_expiry("12/1999", &e), "year is not plausible");
	cr_assert_str_eq(card_parse_expiry("", &e), "required");
	cr_assert_str_eq(card_parse_expiry(NULL, &e), "required");
	char s[CARD_EXPIRY_SIZE];
	card_expiry_format((card_expiry_t){.month = 3, .year = 2031}, s);
	cr_assert_str_eq(s, "03/2031");
}

Test(card, valid_through_the_last_day_of_the_month)
{
	card_expiry_t e = {.month = 12, .year = 2020};
	cr_assert_eq(card_expiry_last_day(e), date_from_civil(2020, 12, 31));
	cr_assert(card_expiry_valid_on(e, date_from_civil(2020, 12, 31)));
	cr_assert_not(card_expiry_valid_on(e, date_from_civil(2021, 1, 1)));
	e = (card_expiry_t){.month = 2, .year = 2024};
	cr_assert_eq(card_expiry_last_day(e), date_from_civil(2024, 2, 29), "leap year");
	e = (card_expiry_t){.month = 2, .year = 2023};
	cr_assert_eq(card_expiry_last_day(e), date_from_civil(2023, 2, 28));
	cr_assert_not(card_expiry_valid_on((card_expiry_t){0}, date_from_civil(2000, 1, 1)));

	int64_t today = date_from_civil(2020, 12, 10);
	cr_assert_null(card_check_expiry("12/2020", today, &e), "valid until 2020-12-31");
	cr_assert_str_eq(card_check_expiry("11/2020", today, &e), "card has expired");
	cr_assert_str_eq(card_check_expiry("11/20", today, &e), "card has expired");
	cr_assert_null(card_check_expiry("12/2040", today, &e));
	cr_assert_str_eq(card_check_expiry("01/2041", today, &e), "is too far in the future");
	cr_assert_str_eq(card_check_expiry("12/2099", today, &e), "is too far in the future");
}

Test(card, security_codes)
{
	cr_assert_null(card_check_security_code("123", CARD_BRAND_VISA));
	cr_assert_null(card_check_security_code("000", CARD_BRAND_ELO));
	cr_assert_null(card_check_security_code("1234", CARD_BRAND_AMEX));
	cr_assert_str_eq(card_check_security_code("123", CARD_BRAND_AMEX), "must have 4 digits");
	cr_assert_str_eq(card_check_security_code("1234", CARD_BRAND_MASTERCARD),
			 "must have 3 digits");
	cr_assert_str_eq(card_check_security_code("12", CARD_BRAND_VISA), "must have 3 digits");
	cr_assert_str_eq(card_check_security_code("12a", CARD_BRAND_VISA),
			 "must contain only digits");
	cr_assert_str_eq(card_check_security_code("123456", CARD_BRAND_VISA), "must have 3 digits");
	cr_assert_str_eq(card_check_security_code("", CARD_BRAND_VISA), "required");
	cr_assert_str_eq(card_check_security_code(NULL, CARD_BRAND_VISA), "required");
}

Test(card, last4_and_mask)
{
	card_pan_t pan;
	char last4[5], masked[CARD_MASKED_SIZE];
	cr_assert_null(card_check_number("5155 9012 2228 0001", &pan));
	card_last4(&pan, last4);
	cr_assert_str_eq(last4, "0001");
	card_masked(last4, masked);
	cr_assert_str_eq(masked, "\xe2\x80\xa2\xe2\x80\xa2\xe2\x80\xa2\xe2\x80\xa2 0001");
	cr_assert_eq(strlen(masked), CARD_MASKED_SIZE - 1);
	card_masked("12", masked);
	cr_assert_str_eq(masked, "\xe2\x80\xa2\xe2\x80\xa2\xe2\x80\xa2\xe2\x80\xa2");
	card_masked("12345", masked);
	cr_assert_str_eq(masked, "\xe2\x80\xa2\xe2\x80\xa2\xe2\x80\xa2\xe2\x80\xa2");
	card_masked(NULL, masked);
	cr_assert_str_eq(masked, "\xe2\x80\xa2\xe2\x80\xa2\xe2\x80\xa2\xe2\x80\xa2");
	card_pan_t empty = {0};
	card_last4(&empty, last4);
	cr_assert_str_eq(last4, "");
}

#include "core/card.h"

#include <errno.h>
#include <string.h>

#include "common/crypto.h"
#include "core/date.h"
#include "core/text.h"

/* Bit n set: a number of n digits is allowed. */
#define LEN(n) (UINT32_C(1) << (n))

/*
 * Brand prefixes (IIN/BIN ranges). A prefix of `digits` digits is read as a
 * number and matched against [lo, hi]; the first matching row wins, so the
 * narrow ranges that sit inside wider ones come first: Elo's BINs inside Visa
 * (4...), Discover (65...) and the otherwise unassigned 50.../62.../63...;
 * Hipercard's 3841 inside Diners' 38.
 *
 * Sources:
 * - Elo: the BIN list of braintree/credit-card-type (src/lib/card-types.ts,
 *   commit 0bac61c0), the list most Brazilian checkouts copy; Elo publishes no
 *   machine-readable table. It covers the common ranges, not every BIN.
 * - Hipercard: 606282 (16 or 19 digits) and 3841 (19 digits), the ranges
 *   Brazilian checkouts match (e.g. /^(606282\d{10}(\d{3})?)|(3841\d{15})$/);
 *   16 is allowed for 3841 too, since Luhn still guards the number.
 * - Visa 4; Mastercard 51-55 and 2221-2720; American Express 34, 37; Diners
 *   Club 300-305, 36, 38, 39; Discover 6011, 644-649, 65; JCB 3528-3589, with
 *   lengths as in braintree/credit-card-type (Visa also 13, the legacy length
 *   still in ISO/IEC 7812 and in Brazilian acquirers' validators).
 */
typedef struct brand_range {
	uint32_t lo, hi;
	int digits;
	enum card_brand brand;
	uint32_t lengths;
} brand_range_t;

#define ELO_LEN LEN(16)
#define HIPER_LEN (LEN(16) | LEN(19))

static const brand_range_t brand_ranges[] = {
	{401178, 401179, 6, CARD_BRAND_ELO, ELO_LEN},
	{431274, 431274, 6, CARD_BRAND_ELO, ELO_LEN},
	{438935, 438935, 6, CARD_BRAND_ELO, ELO_LEN},
	{451416, 451416, 6, CARD_BRAND_ELO, ELO_LEN},
	{457393, 457393, 6, CARD_BRAND_ELO, ELO_LEN},
	{457631, 457632, 6, CARD_BRAND_ELO, ELO_LEN},
	{504175, 504175, 6, CARD_BRAND_ELO, ELO_LEN},
	{506699, 506778, 6, CARD_BRAND_ELO, ELO_LEN},
	{509000, 509999, 6, CARD_BRAND_ELO, ELO_LEN},
	{627780, 627780, 6, CARD_BRAND_ELO, ELO_LEN},
	{636297, 636297, 6, CARD_BRAND_ELO, ELO_LEN},
	{636368, 636368, 6, CARD_BRAND_ELO, ELO_LEN},
	{650031, 650033, 6, CARD_BRAND_ELO, ELO_LEN},
	{650035, 650051, 6, CARD_BRAND_ELO, ELO_LEN},
	{650405, 650439, 6, CARD_BRAND_ELO, ELO_LEN},
	{650485, 650538, 6, CARD_BRAND_ELO, ELO_LEN},
	{650541, 650598, 6, CARD_BRAND_ELO, ELO_LEN},
	{650700, 650718, 6, CARD_BRAND_ELO, ELO_LEN},
	{650720, 650727, 6, CARD_BRAND_ELO, ELO_LEN},
	{650901, 650978, 6, CARD_BRAND_ELO, ELO_LEN},
	{651652, 651679, 6, CARD_BRAND_ELO, ELO_LEN},
	{655000, 655019, 6, CARD_BRAND_ELO, ELO_LEN},
	{655021, 655058, 6, CARD_BRAND_ELO, ELO_LEN},
	{606282, 606282, 6, CARD_BRAND_HIPERCARD, HIPER_LEN},
	{3841, 3841, 4, CARD_BRAND_HIPERCARD, HIPER_LEN},
	{34, 34, 2, CARD_BRAND_AMEX, LEN(15)},
	{37, 37, 2, CARD_BRAND_AMEX, LEN(15)},
	{300, 305, 3, CARD_BRAND_DINERS, LEN(14) | LEN(16) | LEN(19)},
	{36, 36, 2, CARD_BRAND_DINERS, LEN(14) | LEN(16) | LEN(19)},
	{38, 39, 2, CARD_BRAND_DINERS, LEN(14) | LEN(16) | LEN(19)},
	{3528, 3589, 4, CARD_BRAND_JCB, LEN(16) | LEN(17) | LEN(18) | LEN(19)},
	{6011, 6011, 4, CARD_BRAND_DISCOVER, LEN(16) | LEN(19)},
	{644, 649, 3, CARD_BRAND_DISCOVER, LEN(16) | LEN(19)},
	{65, 65, 2, CARD_BRAND_DISCOVER, LEN(16) | LEN(19)},
	{2221, 2720, 4, CARD_BRAND_MASTERCARD, LEN(16)},
	{51, 55, 2, CARD_BRAND_MASTERCARD, LEN(16)},
	{4, 4, 1, CARD_BRAND_VISA, LEN(13) | LEN(16) | LEN(18) | LEN(19)},
};

#define N_RANGES (sizeof(brand_ranges) / sizeof(brand_ranges[0]))

static const char *const brand_names[] = {
	NULL,          "Visa",     "Mastercard", "American Express", "Elo", "Hipercard",
	"Diners Club", "Discover", "JCB",
};

static bool is_digit(char c)
{
	return c >= '0' && c <= '9';
}

static uint32_t prefix_value(const char *digits, int n)
{
	uint32_t v = 0;
	for (int i = 0; i < n; i++)
		v = v * 10 + (uint32_t)(digits[i] - '0');
	return v;
}

const char *card_brand_name(enum card_brand brand)
{
	const char *name = NULL;
	if ((int)brand >= 1 && (int)brand <= CARD_BRAND_JCB)
		name = brand_names[brand];
	return name;
}

const char *card_normalize(const char *input, card_pan_t *out)
{
	const char *reason = NULL;
	size_t n = 0;
	memset(out, 0, sizeof(*out));
	if (input == NULL || input[0] == '\0') {
		reason = "required";
		goto out;
	}
	if (strnlen(input, CARD_INPUT_MAX + 1) > CARD_INPUT_MAX) {
		reason = "must have 12 to 19 digits";
		goto out;
	}
	for (const char *p = input; *p != '\0'; p++) {
		if (*p == ' ' || *p == '-')
			continue;
		if (!is_digit(*p)) {
			reason = "must contain only digits, spaces and dashes";
			goto out;
		}
		/* Count past the maximum without storing, to report the length. */
		if (n < CARD_PAN_MAX)
			out->digits[n] = *p;
		n++;
	}
	if (n < CARD_PAN_MIN || n > CARD_PAN_MAX) {
		reason = "must have 12 to 19 digits";
		goto out;
	}
	out->len = n;
out:
	if (reason != NULL)
		card_pan_wipe(out);
	return reason;
}

bool card_luhn_valid(const char *digits, size_t n)
{
	unsigned sum = 0;
	bool ok = n > 0;
	for (size_t i = 0; i < n && ok; i++) {
		char c = digits[n - 1 - i];
		if (!is_digit(c)) {
			ok = false;
			break;
		}
		unsigned d = (unsigned)(c - '0');
		/* Every second digit from the right is doubled; 2d - 9 sums its digits. */
		if (i % 2 == 1) {
			d *= 2;
			if (d > 9)
				d -= 9;
		}
		sum += d;
	}
	return ok && sum % 10 == 0;
}

static const brand_range_t *find_range(const char *digits, size_t n)
{
	const brand_range_t *found = NULL;
	for (size_t i = 0; i < N_RANGES && found == NULL; i++) {
		const brand_range_t *r = &brand_ranges[i];
		if ((size_t)r->digits > n)
			continue;
		uint32_t v = prefix_value(digits, r->digits);
		if (v >= r->lo && v <= r->hi)
			found = r;
	}
	return found;
}

enum card_brand card_brand_of(const char *digits, size_t n)
{
	enum card_brand brand = CARD_BRAND_UNSPECIFIED;
	for (size_t i = 0; i < n; i++)
		if (!is_digit(digits[i]))
			goto out;
	const brand_range_t *r = find_range(digits, n);
	if (r != NULL)
		brand = r->brand;
out:
	return brand;
}

bool card_brand_length_ok(enum card_brand brand, size_t n)
{
	bool ok = false;
	if (n > CARD_PAN_MAX)
		goto out;
	/* A brand has several rows (Diners, Hipercard...): any of them may allow n. */
	for (size_t i = 0; i < N_RANGES && !ok; i++)
		if (brand_ranges[i].brand == brand && (brand_ranges[i].lengths & LEN(n)) != 0)
			ok = true;
out:
	return ok;
}

const char *card_check_number(const char *input, card_pan_t *out)
{
	const char *reason = card_normalize(input, out);
	if (reason != NULL)
		goto out;
	if (!card_luhn_valid(out->digits, out->len)) {
		reason = "is not a valid card number (check digit)";
		goto out;
	}
	const brand_range_t *r = find_range(out->digits, out->len);
	if (r == NULL) {
		reason = "brand not accepted: use Visa, Mastercard, American Express, Elo, "
			 "Hipercard, Diners Club, Discover or JCB";
		goto out;
	}
	/* The matching row's own lengths: Hipercard's 3841 differs from 606282 in practice. */
	if ((r->lengths & LEN(out->len)) == 0) {
		reason = "has the wrong number of digits for its brand";
		goto out;
	}
	out->brand = r->brand;
out:
	if (reason != NULL)
		card_pan_wipe(out);
	return reason;
}

void card_pan_wipe(card_pan_t *pan)
{
	crypto_wipe(pan, sizeof(*pan));
}

static int two_digits(const char *s)
{
	return (s[0] - '0') * 10 + (s[1] - '0');
}

const char *card_parse_expiry(const char *s, card_expiry_t *out)
{
	const char *reason = NULL;
	size_t n;
	out->month = 0;
	out->year = 0;
	if (s == NULL || s[0] == '\0') {
		reason = "required";
		goto out;
	}
	n = strnlen(s, 8);
	if ((n != 5 && n != 7) || !is_digit(s[0]) || !is_digit(s[1]) || s[2] != '/') {
		reason = "must be MM/YYYY or MM/YY";
		goto out;
	}
	for (size_t i = 3; i < n; i++) {
		if (!is_digit(s[i])) {
			reason = "must be MM/YYYY or MM/YY";
			goto out;
		}
	}
	int month = two_digits(s);
	if (month < 1 || month > 12) {
		reason = "month must be 01 to 12";
		goto out;
	}
	/* Cards expire decades after they are issued at most: YY is always 20YY. */
	int year = n == 5 ? 2000 + two_digits(s + 3) : two_digits(s + 3) * 100 + two_digits(s + 5);
	if (year < 2000) {
		reason = "year is not plausible";
		goto out;
	}
	out->month = month;
	out->year = year;
out:
	return reason;
}

int64_t card_expiry_last_day(card_expiry_t e)
{
	/* The day before the first day of the next month. */
	int y = e.month == 12 ? e.year + 1 : e.year;
	int m = e.month == 12 ? 1 : e.month + 1;
	return date_from_civil(y, m, 1) - 1;
}

bool card_expiry_valid_on(card_expiry_t e, int64_t today)
{
	bool ok = false;
	if (e.month < 1 || e.month > 12 || e.year < 2000)
		goto out;
	ok = today <= card_expiry_last_day(e);
out:
	return ok;
}

const char *card_check_expiry(const char *s, int64_t today, card_expiry_t *out)
{
	int y, m, d;
	const char *reason = card_parse_expiry(s, out);
	if (reason != NULL)
		goto out;
	if (!card_expiry_valid_on(*out, today)) {
		reason = "card has expired";
		goto out;
	}
	date_to_civil(today, &y, &m, &d);
	if ((int64_t)out->year * 12 + out->month > (int64_t)(y + CARD_EXPIRY_MAX_YEARS) * 12 + m) {
		reason = "is too far in the future";
		goto out;
	}
out:
	return reason;
}

void card_expiry_format(card_expiry_t e, char out[CARD_EXPIRY_SIZE])
{
	/* Hand-rolled so a wrong value can never overflow out: it shows as 00/0000. */
	int m = e.month >= 1 && e.month <= 12 ? e.month : 0;
	int y = e.year >= 0 && e.year <= 9999 ? e.year : 0;
	out[0] = (char)('0' + m / 10);
	out[1] = (char)('0' + m % 10);
	out[2] = '/';
	out[3] = (char)('0' + y / 1000);
	out[4] = (char)('0' + y / 100 % 10);
	out[5] = (char)('0' + y / 10 % 10);
	out[6] = (char)('0' + y % 10);
	out[7] = '\0';
}

const char *card_check_security_code(const char *code, enum card_brand brand)
{
	const char *reason = NULL;
	size_t want = brand == CARD_BRAND_AMEX ? 4 : 3;
	size_t n;
	if (code == NULL || code[0] == '\0') {
		reason = "required";
		goto out;
	}
	n = strnlen(code, 5);
	for (size_t i = 0; i < n; i++) {
		if (!is_digit(code[i])) {
			reason = "must contain only digits";
			goto out;
		}
	}
	if (n != want)
		reason = want == 4 ? "must have 4 digits" : "must have 3 digits";
out:
	return reason;
}

void card_last4(const card_pan_t *pan, char out[5])
{
	size_t n = pan->len >= 4 && pan->len <= CARD_PAN_MAX ? pan->len : 0;
	if (n > 0) {
		memcpy(out, pan->digits + n - 4, 4);
		out[4] = '\0';
	} else {
		out[0] = '\0';
	}
}

void card_masked(const char *last4, char out[CARD_MASKED_SIZE])
{
	static const char bullets[] = "\xe2\x80\xa2\xe2\x80\xa2\xe2\x80\xa2\xe2\x80\xa2";
	bool ok = last4 != NULL && strnlen(last4, 5) == 4;
	for (int i = 0; ok && i < 4; i++)
		ok = is_digit(last4[i]);
	memcpy(out, bullets, 12);
	if (ok) {
		out[12] = ' ';
		memcpy(out + 13, last4, 4);
		out[17] = '\0';
	} else {
		out[12] = '\0';
	}
}

const char *card_holder_for_gateway(const char *holder, int gateway, char out[CARD_HOLDER_SIZE])
{
	const char *why = NULL;
	out[0] = '\0';
	if (holder == NULL || text_check_name(holder, CARD_HOLDER_MAX) != NULL) {
		why = "must be a name of 1 to 64 bytes";
		goto out;
	}
	if (gateway != 2) {
		/* GetNet publishes no rule for cardholder_name: the name as typed. */
		size_t a = 0, b = strlen(holder);
		while (holder[a] == ' ')
			a++;
		while (b > a && holder[b - 1] == ' ')
			b--;
		memcpy(out, holder + a, b - a);
		out[b - a] = '\0';
		goto out;
	}
	int n = text_fold_upper_ascii(holder, CARD_HOLDER_CIELO_MAX, out, CARD_HOLDER_SIZE);
	if (n == -E2BIG)
		why = "is longer than Cielo's 25 characters once accents are removed; "
		      "type the name as printed on the card (abbreviated)";
	else if (n < 0)
		why = "has a character Cielo cannot take (letters, digits, spaces, "
		      "'.', '-' and apostrophes only)";
out:
	return why;
}

void card_fingerprint(const uint8_t key[CRYPTO_KEY_LEN], uint64_t org, const card_pan_t *pan,
		      uint8_t out[CARD_FP_LEN])
{
	static const char label[] = "card-fingerprint/v1";
	uint8_t msg[sizeof(label) - 1 + 8 + CARD_PAN_MAX];
	size_t n = sizeof(label) - 1;
	memcpy(msg, label, n);
	for (int i = 7; i >= 0; i--)
		msg[n++] = (uint8_t)(org >> (8 * i));
	size_t len = pan->len <= CARD_PAN_MAX ? pan->len : CARD_PAN_MAX;
	memcpy(msg + n, pan->digits, len);
	crypto_hmac_sha256(key, CRYPTO_KEY_LEN, msg, n + len, out);
	/* The digits were copied: the copy is a secret too. */
	crypto_wipe(msg, sizeof(msg));
}

/*
 * Card numbers, expiry dates and security codes as a person types them: the
 * checks docs/spec.md 4.7 asks for before a card is tokenized (digits, length, Luhn,
 * brand from the number, not expired) and the harmless forms a card may be
 * shown in (brand, last four digits, "•••• 1234"). Pure functions, no I/O.
 *
 * Every check returns NULL when the input is fine, else a short static reason
 * meant for a field violation ("is not a valid card number"). A reason never
 * contains any part of the input, so it can be logged and returned as is.
 */
#ifndef OSPAY_CORE_CARD_H
#define OSPAY_CORE_CARD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/crypto.h"

/* Numbered like a proto enum: 0 is "not known". */
enum card_brand {
	CARD_BRAND_UNSPECIFIED = 0,
	CARD_BRAND_VISA = 1,
	CARD_BRAND_MASTERCARD = 2,
	CARD_BRAND_AMEX = 3,
	CARD_BRAND_ELO = 4,
	CARD_BRAND_HIPERCARD = 5,
	CARD_BRAND_DINERS = 6,
	CARD_BRAND_DISCOVER = 7,
	CARD_BRAND_JCB = 8,
};

#define CARD_PAN_MIN 12
#define CARD_PAN_MAX 19
/* Longest raw number accepted, separators included (a bound, not a rule). */
#define CARD_INPUT_MAX 64
/* "•••• 1234": four 3-byte bullets, a space, four digits, NUL. */
#define CARD_MASKED_SIZE 18
/* "MM/YYYY" and NUL. */
#define CARD_EXPIRY_SIZE 8
/* How far ahead an expiry may be: issuers print at most about 10 years. */
#define CARD_EXPIRY_MAX_YEARS 20

/*
 * A card number reduced to its digits. It is a secret: keep it on the stack
 * for the one call that needs it and clear it with card_pan_wipe.
 */
typedef struct card_pan {
	char digits[CARD_PAN_MAX + 1];
	size_t len;
	enum card_brand brand;
} card_pan_t;

typedef struct card_expiry {
	int month; /* 1..12 */
	int year;  /* four digits */
} card_expiry_t;

/*
 * Strips spaces and dashes from input (NUL-terminated, caller's) into out's
 * digits; anything else, or fewer than 12 or more than 19 digits, is refused.
 * out->brand is left UNSPECIFIED. NULL or the reason.
 */
const char *card_normalize(const char *input, card_pan_t *out);

/* True when the n digits pass the Luhn (mod 10) check. */
bool card_luhn_valid(const char *digits, size_t n);

/* The brand the n digits' prefix belongs to, or CARD_BRAND_UNSPECIFIED. */
enum card_brand card_brand_of(const char *digits, size_t n);

/* True when a number of that brand may have n digits. */
bool card_brand_length_ok(enum card_brand brand, size_t n);

/*
 * Everything a number must pass before it is tokenized: card_normalize, Luhn,
 * a known brand and a length valid for that brand. On success out holds the
 * digits and the brand; on failure out is wiped. NULL or the reason.
 */
const char *card_check_number(const char *input, card_pan_t *out);

/* Clears the digits of pan (the compiler may not drop it). */
void card_pan_wipe(card_pan_t *pan);

/* "Visa", "Mastercard", ... for people; NULL for an unknown value. */
const char *card_brand_name(enum card_brand brand);

/*
 * Parses "MM/YYYY" or "MM/YY" (20YY) strictly: two-digit month 01..12, no
 * spaces. Does not look at the calendar. NULL or the reason.
 */
const char *card_parse_expiry(const char *s, card_expiry_t *out);

/* Day number of the last day of the expiry month: the card's last valid day. */
int64_t card_expiry_last_day(card_expiry_t e);

/* True when the card is still valid on the local day today. */
bool card_expiry_valid_on(card_expiry_t e, int64_t today);

/*
 * card_parse_expiry plus "not expired on today" and "at most
 * CARD_EXPIRY_MAX_YEARS ahead" (a typo guard). NULL or the reason.
 */
const char *card_check_expiry(const char *s, int64_t today, card_expiry_t *out);

/* "MM/YYYY" into out, the form both gateways take. */
void card_expiry_format(card_expiry_t e, char out[CARD_EXPIRY_SIZE]);

/*
 * The security code for a card of brand: exactly 4 digits for American
 * Express, exactly 3 for every other brand. NULL or the reason.
 */
const char *card_check_security_code(const char *code, enum card_brand brand);

/* The last four digits of pan into out (NUL-terminated). */
void card_last4(const card_pan_t *pan, char out[5]);

/*
 * The cardholder name a gateway is sent (docs/cards.md, "Holder names"):
 * Cielo takes at most CARD_HOLDER_CIELO_MAX characters, upper case, no
 * accents; GetNet documents no rule and gets the name as typed (trimmed,
 * CARD_HOLDER_MAX bytes at most). gateway is a gw_kind (2 Cielo, 3 GetNet).
 * The result goes to out (CARD_HOLDER_SIZE bytes). Nothing is ever cut: a
 * name that cannot be written within the gateway's rules is refused. NULL,
 * or the reason (static, never quoting the input).
 */
#define CARD_HOLDER_MAX 64
#define CARD_HOLDER_SIZE (CARD_HOLDER_MAX + 1)
#define CARD_HOLDER_CIELO_MAX 25
const char *card_holder_for_gateway(const char *holder, int gateway, char out[CARD_HOLDER_SIZE]);

/* "•••• " and last4 (four digits) into out; any other last4 gives "••••". */
void card_masked(const char *last4, char out[CARD_MASKED_SIZE]);

/*
 * The card as its network sees it, without keeping its number
 * (docs/cards.md, "The card's fingerprint"): HMAC-SHA256 under key (the
 * master key's "card-fingerprint" key) of "card-fingerprint/v1", the
 * organization id (8 bytes, big-endian) and the number's digits. The same
 * number in the same organization always gives the same 32 bytes; nobody
 * without the key can test a guessed number against it.
 */
#define CARD_FP_LEN 32
void card_fingerprint(const uint8_t key[CRYPTO_KEY_LEN], uint64_t org, const card_pan_t *pan,
		      uint8_t out[CARD_FP_LEN]);

#endif

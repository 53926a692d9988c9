/*
 * The card networks' retry rules on top of the billing run's two attempts
 * (docs/billing.md, "Brand retry rules"): what one decline means for a retry
 * of the same card (Visa's categories, Mastercard's Merchant Advice Codes,
 * the ABECS classification of declines.h for every brand), how many
 * reattempts a card may take in a rolling 30 days, and when a Mastercard
 * reattempt carries the excessive-retry fee. Pure functions, no I/O: the
 * billing run counts the card's attempts and stores what these say.
 */
#ifndef OSPAY_CORE_RETRY_H
#define OSPAY_CORE_RETRY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/card.h"

#define RETRY_DAY_MS (24LL * 3600 * 1000)
/* Every count is over a rolling window of this length ending now. */
#define RETRY_WINDOW_MS (30 * RETRY_DAY_MS)
/* Visa: at most this many reattempts of one card at one merchant in the window. */
#define RETRY_VISA_MAX 20
/* Mastercard: the reattempt that reaches this count in the window is charged a fee. */
#define RETRY_MC_FEE_FROM 8

enum retry_class {
	RETRY_CLASS_NONE = 0,
	RETRY_CLASS_REVERSIBLE,   /* ABECS reversible (brands without their own rules) */
	RETRY_CLASS_IRREVERSIBLE, /* ABECS irreversible */
	RETRY_CLASS_VISA_1,       /* Visa category 1: the issuer will never approve */
	RETRY_CLASS_VISA_2,       /* Visa category 2: cannot approve at this time */
	RETRY_CLASS_VISA_3,       /* Visa category 3: data quality */
	RETRY_CLASS_VISA_4,       /* Visa category 4: generic */
	RETRY_CLASS_MC_UPDATE,    /* Mastercard MAC 01: new account information */
	RETRY_CLASS_MC_LATER,     /* Mastercard MAC 02, 24-30: retry after a wait */
	RETRY_CLASS_MC_NEVER,     /* Mastercard MAC 03, 21: never again */
};

typedef struct retry_verdict {
	enum retry_class cls;
	/* Static text for people ("MAC 02: retry after 72 hours"); "" when none. */
	const char *advice;
	/* No retry of this card for this charge, ever. */
	bool never;
	/* The earliest a retry may be made (at_ms when there is no wait);
	 * INT64_MAX when never. */
	int64_t next_ms;
} retry_verdict_t;

/*
 * One decline of a card of brand at at_ms: the issuer's return code (Cielo
 * ReturnCode, GetNet's bracketed ABECS code) and Mastercard's Merchant Advice
 * Code (mac: "02", "2", "24"...; NULL or "" when none). A MAC decides for
 * Mastercard; Visa goes by category; every brand's ABECS-irreversible codes
 * are never retried. Fills out.
 */
void retry_judge(enum card_brand brand, const char *code, const char *mac, int64_t at_ms,
		 retry_verdict_t *out);

/*
 * How many of the n times (ms) fall in the window ending at now_ms:
 * (now_ms - RETRY_WINDOW_MS, now_ms]. Order does not matter.
 */
size_t retry_in_window(const int64_t *times, size_t n, int64_t now_ms);

/* May one more reattempt be made, with `reattempts` already made in the window? */
bool retry_window_allows(enum card_brand brand, size_t reattempts);

/* Is a reattempt made with `reattempts` already in the window one that costs a fee? */
bool retry_fee(enum card_brand brand, size_t reattempts);

/*
 * One attempt at a card as its network counts them (docs/billing.md, "The
 * card as the network sees it"): a charge of any stored card with the same
 * number, or a Zero Auth at Cards/Add.
 */
#define RETRY_ADVICE_MAX 96
typedef struct retry_attempt {
	int64_t at_ms;
	bool zero_auth;
	bool declined;   /* settled as a decline */
	bool reattempt;  /* it retried a decline: counted against the brand's cap */
	bool never;      /* its decline's verdict: never again */
	int64_t next_ms; /* its decline's earliest retry (a wait); 0 when none */
	char advice[RETRY_ADVICE_MAX];
} retry_attempt_t;

/* What the brand says of one more attempt at a card (retry_gate). */
typedef struct retry_gate {
	bool allowed;
	/* It would retry a decline: the latest attempt in the window was declined. */
	bool reattempt;
	/* Reattempts already in the window. */
	size_t reattempts;
	/* When refused: why (static or an attempt's advice, copied) and the
	 * earliest time it would be allowed. */
	char why[RETRY_ADVICE_MAX + 64];
	int64_t from_ms;
} retry_gate_t;

/*
 * May one more attempt (a Zero Auth) be made at now_ms on a card of brand
 * whose attempts in the log are these, in time order as the store keeps them
 * (those outside the window are ignored)? Refused while a declined attempt in the window said never
 * (until it leaves the window), before a decline's wait ends, or, when it
 * would be a reattempt, while the brand's cap is used up (Visa 20: until
 * enough reattempts leave the window). Fills out.
 */
void retry_gate(enum card_brand brand, const retry_attempt_t *log, size_t n, int64_t now_ms,
		retry_gate_t *out);

/* How many attempts of the log in the window ending at now_ms are reattempts. */
size_t retry_log_reattempts(const retry_attempt_t *log, size_t n, int64_t now_ms);

/* "reversible", "visa-category-1", "mastercard-mac-02-later"...: stable names. */
const char *retry_class_name(enum retry_class c);

#endif

/*
 * What a gateway's decline means for the billing schedule: is a declined
 * charge worth a second attempt (REVERSIBLE) or never (IRREVERSIBLE). Table
 * from the ABECS return-code table and GetNet's codes (docs/gateways.md);
 * see declines.c for the sources and the choices made where the
 * sources disagree. What a Cielo or GetNet payment status means is the
 * adapter's (gw_cielo.c, gw_getnet.c): it answers in gw_outcome_t, which
 * every caller reads. Pure functions, no I/O.
 */
#ifndef OSPAY_CORE_DECLINES_H
#define OSPAY_CORE_DECLINES_H

#include <stdbool.h>
#include <stddef.h>

#include "core/card.h"

/* Longest return code looked up; Cielo's ReturnCode may be up to 32 bytes. */
#define DECLINE_CODE_MAX 32

enum decline_kind {
	DECLINE_REVERSIBLE = 1,   /* a second attempt is allowed */
	DECLINE_IRREVERSIBLE = 2, /* never retry the same card for this charge */
};

typedef struct decline_info {
	enum decline_kind kind;
	bool known;          /* the code is in the table; unknown codes are REVERSIBLE */
	const char *meaning; /* short English text, static; "" when not known */
} decline_info_t;

/*
 * Classifies a decline's return code (Cielo Payment.ReturnCode, or the
 * ABECS code GetNet puts in brackets, see decline_getnet_code) for a card of
 * brand. Surrounding spaces are ignored, letters compared in upper case and
 * leading zeros of numeric codes dropped ("05" is "5"). An empty, unknown or
 * over-long code is REVERSIBLE and not known: the schedule's default is the
 * second attempt, as for Cielo's own recurrences (reference 1.10).
 */
void decline_classify(const char *code, enum card_brand brand, decline_info_t *out);

/* Shorthand: decline_classify(...).kind == DECLINE_IRREVERSIBLE. */
bool decline_is_irreversible(const char *code, enum card_brand brand);

/* GetNet's bracketed codes are ABECS codes: two or three characters. */
#define DECLINE_GETNET_CODE_MAX 4

/*
 * Extracts the acquirer's code from a GetNet description_detail such as
 * "CARTAO EXCEDEU O LIMITE PARA PARCELAMENTO [ECOM - 23]" (reference 2.7):
 * the letters and digits just before the first ']' after the last '[', into
 * out (outlen bytes, NUL-terminated). 0, or -EINVAL when there is no such
 * code, it is longer than DECLINE_GETNET_CODE_MAX or it does not fit (out is
 * then "").
 */
int decline_getnet_code(const char *detail, char *out, size_t outlen);

#endif

/*
 * What a gateway's answer means for the billing schedule: is a declined
 * charge worth a second attempt (REVERSIBLE) or never (IRREVERSIBLE), and
 * which attempt result a Cielo or GetNet payment status stands for. Tables
 * from shared/reference/gateways.md 1.8, 1.10, 2.6 and 2.7 and the Cielo page
 * they cite; see declines.c for the sources and the choices made where the
 * sources disagree. Pure functions, no I/O.
 */
#ifndef OSPAY_CORE_DECLINES_H
#define OSPAY_CORE_DECLINES_H

#include <stdbool.h>
#include <stddef.h>

#include "core/billing.h"
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

/* A gateway payment status seen as an attempt result. */
typedef struct decline_status {
	enum billing_result result;
	/*
	 * The issuer approved but the money is not captured yet (Cielo 1,
	 * GetNet AUTHORIZED): the adapter must capture before the invoice is paid.
	 */
	bool needs_capture;
	const char *name; /* the gateway's name for the status, static */
} decline_status_t;

/*
 * Cielo Payment.Status (reference 1.8): 1, 2 SUCCESS; 3 DECLINED; 0, 10, 11,
 * 13, 20 ERROR (no money taken); 12 and any value not in the table UNKNOWN
 * (query again).
 */
void decline_cielo_status(int status, decline_status_t *out);

/*
 * GetNet payment status (reference 2.6, compared without case): APPROVED,
 * CONFIRMED, PAID, AUTHORIZED SUCCESS; DENIED and "NOT APPROVED" (the status
 * in a decline's details, 2.7) DECLINED; CANCELED, ERROR, EXPIRED,
 * UNPROCESSED ERROR; PENDING, NULL and anything else UNKNOWN.
 */
void decline_getnet_status(const char *status, decline_status_t *out);

/*
 * Extracts the acquirer's code from a GetNet description_detail such as
 * "CARTAO EXCEDEU O LIMITE PARA PARCELAMENTO [ECOM - 23]" (reference 2.7):
 * the text after the last '-' inside the last [...] pair, trimmed, into out
 * (outlen bytes, NUL-terminated). 0, or -EINVAL when there is no such code
 * or it does not fit (out is then "").
 */
int decline_getnet_code(const char *detail, char *out, size_t outlen);

#endif

/*
 * A card's fingerprint (core/card.h card_fingerprint): the same number in the
 * same organization under the same key gives the same bytes; another number,
 * organization or key does not, nor does the HMAC of the bare number.
 */
#include <criterion/criterion.h>
#include <string.h>

#include "common/crypto.h"
#include "core/card.h"

static void pan_of(const char *digits, card_pan_t *pan)
{
	memset(pan, 0, sizeof(*pan));
	cr_assert_null(card_normalize(digits, pan));
}

Test(card_fingerprint, stable_and_keyed)
{
	uint8_t key[CRYPTO_KEY_LEN], key2[CRYPTO_KEY_LEN];
	uint8_t a[CARD_FP_LEN], b[CARD_FP_LEN], c[CARD_FP_LEN], d[CARD_FP_LEN], e[CARD_FP_LEN];
	memset(key, 7, sizeof(key));
	memset(key2, 8, sizeof(key2));
	card_pan_t p, q;
	pan_of("4111 1111 1111 1111", &p);
	pan_of("4111111111111111", &q);
	card_fingerprint(key, 1, &p, a);
	card_fingerprint(key, 1, &q, b);
	cr_assert_arr_eq(a, b, CARD_FP_LEN, "spaces do not change the card");
	card_fingerprint(key, 2, &p, c);
	cr_assert_arr_neq(a, c, CARD_FP_LEN, "another organization, another fingerprint");
	card_fingerprint(key2, 1, &p, d);
	cr_assert_arr_neq(a, d, CARD_FP_LEN, "another key, another fingerprint");
	pan_of("4012888888881881", &q);
	card_fingerprint(key, 1, &q, e);
	cr_assert_arr_neq(a, e, CARD_FP_LEN, "another number, another fingerprint");
	/* Domain-separated: not the HMAC of the bare digits. */
	uint8_t bare[32];
	crypto_hmac_sha256(key, sizeof(key), p.digits, p.len, bare);
	cr_assert_arr_neq(a, bare, CARD_FP_LEN);
	card_pan_wipe(&p);
	card_pan_wipe(&q);
}

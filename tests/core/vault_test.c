#include <criterion/criterion.h>
#include <errno.h>
#include <string.h>

#include "core/vault.h"

/* A Cielo CardToken, the kind of secret a card record seals. */
static const char token[] = "6e1bf77a-b28b-4660-b14f-455e2a1c95e9";

static uint8_t master[CRYPTO_KEY_LEN];
static vault_key_t key1, key2;
static const vault_context_t card_ctx = {
	.kind = "card", .org_id = 1, .owner_id = 10, .record_id = 100};

static void setup(void)
{
	for (size_t i = 0; i < sizeof(master); i++)
		master[i] = (uint8_t)(i * 7 + 1);
	cr_assert_eq(vault_key_derive(master, 1, &key1), 0);
	cr_assert_eq(vault_key_derive(master, 2, &key2), 0);
}

static size_t seal_token(uint8_t *out, size_t cap)
{
	size_t n = 0;
	cr_assert_eq(vault_seal(&key1, &card_ctx, token, strlen(token), out, cap, &n), 0);
	cr_assert_eq(n, strlen(token) + VAULT_OVERHEAD);
	return n;
}

TestSuite(vault, .init = setup);

Test(vault, seal_open_roundtrip)
{
	uint8_t sealed[VAULT_MAX_SEALED], pt[VAULT_MAX_PLAINTEXT];
	size_t n = seal_token(sealed, sizeof(sealed)), m = 0;
	cr_assert_eq(sealed[0], VAULT_VERSION);
	uint32_t id = 0;
	cr_assert_eq(vault_sealed_key_id(sealed, n, &id), 0);
	cr_assert_eq(id, 1);
	cr_assert_null(memmem(sealed, n, token, strlen(token)), "the token is not in clear");
	cr_assert_null(memmem(sealed, n, "455e2a1c95e9", 12));

	cr_assert_eq(vault_open(&key1, 1, &card_ctx, sealed, n, pt, sizeof(pt), &m), 0);
	cr_assert_eq(m, strlen(token));
	cr_assert_eq(memcmp(pt, token, m), 0);

	/* Empty secrets work too (a record may have nothing to hide yet). */
	cr_assert_eq(vault_seal(&key1, &card_ctx, NULL, 0, sealed, sizeof(sealed), &n), 0);
	cr_assert_eq(n, VAULT_OVERHEAD);
	cr_assert_eq(vault_open(&key1, 1, &card_ctx, sealed, n, pt, sizeof(pt), &m), 0);
	cr_assert_eq(m, 0);
}

Test(vault, fresh_nonce_every_time)
{
	uint8_t a[128], b[128];
	size_t na = seal_token(a, sizeof(a)), nb = seal_token(b, sizeof(b));
	cr_assert_eq(na, nb);
	cr_assert_neq(memcmp(a + 5, b + 5, CRYPTO_GCM_NONCE_LEN), 0);
	cr_assert_neq(memcmp(a, b, na), 0);
}

Test(vault, every_tampered_byte_is_detected)
{
	uint8_t sealed[128], pt[128];
	size_t n = seal_token(sealed, sizeof(sealed)), m = 99;
	for (size_t i = 0; i < n; i++) {
		for (int bit = 0; bit < 8; bit++) {
			sealed[i] ^= (uint8_t)(1 << bit);
			int rc = vault_open(&key1, 1, &card_ctx, sealed, n, pt, sizeof(pt), &m);
			/* Flipping the key id names a key we do not hold, or one that fails. */
			cr_assert(rc == -EBADMSG || rc == -ENOKEY, "byte %zu bit %d: %d", i, bit,
				  rc);
			cr_assert_eq(m, 0);
			sealed[i] ^= (uint8_t)(1 << bit);
		}
	}
	/* Truncated or extended inputs fail as well. */
	cr_assert_eq(vault_open(&key1, 1, &card_ctx, sealed, n - 1, pt, sizeof(pt), &m), -EBADMSG);
	cr_assert_eq(
		vault_open(&key1, 1, &card_ctx, sealed, VAULT_OVERHEAD - 1, pt, sizeof(pt), &m),
		-EBADMSG);
	sealed[n] = 0;
	cr_assert_eq(vault_open(&key1, 1, &card_ctx, sealed, n + 1, pt, sizeof(pt), &m), -EBADMSG);
	cr_assert_eq(vault_open(&key1, 1, &card_ctx, sealed, n, pt, sizeof(pt), &m), 0);
}

Test(vault, failed_open_leaves_no_plaintext)
{
	uint8_t sealed[128], pt[128];
	size_t n = seal_token(sealed, sizeof(sealed)), m = 0;
	sealed[n - 1] ^= 1;
	memset(pt, 0xAA, sizeof(pt));
	cr_assert_eq(vault_open(&key1, 1, &card_ctx, sealed, n, pt, sizeof(pt), &m), -EBADMSG);
	for (size_t i = 0; i < sizeof(pt); i++)
		cr_assert_eq(pt[i], 0);
}

Test(vault, wrong_key)
{
	uint8_t sealed[128], pt[128];
	size_t n = seal_token(sealed, sizeof(sealed)), m = 0;
	/* No key with the sealed id. */
	cr_assert_eq(vault_open(&key2, 1, &card_ctx, sealed, n, pt, sizeof(pt), &m), -ENOKEY);
	/* A key that claims id 1 but comes from another master key. */
	uint8_t other_master[CRYPTO_KEY_LEN] = {0};
	vault_key_t impostor;
	cr_assert_eq(vault_key_derive(other_master, 1, &impostor), 0);
	cr_assert_eq(vault_open(&impostor, 1, &card_ctx, sealed, n, pt, sizeof(pt), &m), -EBADMSG);
	/* Key 1 derived again from the right master opens it. */
	vault_key_t again;
	cr_assert_eq(vault_key_derive(master, 1, &again), 0);
	cr_assert_eq(memcmp(again.bytes, key1.bytes, CRYPTO_KEY_LEN), 0, "derivation is stable");
	cr_assert_neq(memcmp(key1.bytes, key2.bytes, CRYPTO_KEY_LEN), 0);
	cr_assert_eq(vault_open(&again, 1, &card_ctx, sealed, n, pt, sizeof(pt), &m), 0);
	vault_key_wipe(&again);
	cr_assert_eq(again.id, 0);
	cr_assert_eq(vault_key_derive(master, 0, &again), -EINVAL, "id 0 is never a key");
}

Test(vault, wrong_context_cannot_open)
{
	uint8_t sealed[128], pt[128];
	size_t n = seal_token(sealed, sizeof(sealed)), m = 0;
	vault_context_t other[] = {card_ctx, card_ctx, card_ctx, card_ctx};
	other[0].record_id = 101;  /* another card of the same customer */
	other[1].owner_id = 11;    /* the same card id under another customer */
	other[2].org_id = 2;       /* another organization */
	other[3].kind = "gateway"; /* another kind of record */
	for (size_t i = 0; i < sizeof(other) / sizeof(other[0]); i++)
		cr_assert_eq(vault_open(&key1, 1, &other[i], sealed, n, pt, sizeof(pt), &m),
			     -EBADMSG, "context %zu", i);
	/* Kinds are length-prefixed: "car" + 'd' in the ids cannot alias "card". */
	vault_context_t shorter = card_ctx;
	shorter.kind = "car";
	cr_assert_eq(vault_open(&key1, 1, &shorter, sealed, n, pt, sizeof(pt), &m), -EBADMSG);
}

Test(vault, rotation)
{
	uint8_t sealed[128], rotated[128], pt[128];
	size_t n = seal_token(sealed, sizeof(sealed)), r = 0, m = 0;
	vault_key_t ring[] = {key1, key2};
	cr_assert_eq(
		vault_reseal(ring, 2, &key2, &card_ctx, sealed, n, rotated, sizeof(rotated), &r),
		0);
	cr_assert_eq(r, n);
	uint32_t id = 0;
	cr_assert_eq(vault_sealed_key_id(rotated, r, &id), 0);
	cr_assert_eq(id, 2);
	/* Only key 2 is needed now: the old key can be dropped. */
	cr_assert_eq(vault_open(&key2, 1, &card_ctx, rotated, r, pt, sizeof(pt), &m), 0);
	cr_assert_eq(memcmp(pt, token, m), 0);
	cr_assert_eq(vault_open(&key1, 1, &card_ctx, rotated, r, pt, sizeof(pt), &m), -ENOKEY);
	/* Rotation keeps the binding: the re-sealed value opens only for its record. */
	vault_context_t other = card_ctx;
	other.record_id = 101;
	cr_assert_eq(vault_open(&key2, 1, &other, rotated, r, pt, sizeof(pt), &m), -EBADMSG);
	/* A ring without the old key cannot rotate, and leaves out clean. */
	memset(rotated, 0xAA, sizeof(rotated));
	cr_assert_eq(
		vault_reseal(&key2, 1, &key2, &card_ctx, sealed, n, rotated, sizeof(rotated), &r),
		-ENOKEY);
	cr_assert_eq(r, 0);
	for (size_t i = 0; i < sizeof(rotated); i++)
		cr_assert_eq(rotated[i], 0);
	/* Tampered input is not laundered into a fresh valid seal. */
	sealed[10] ^= 1;
	cr_assert_eq(
		vault_reseal(ring, 2, &key2, &card_ctx, sealed, n, rotated, sizeof(rotated), &r),
		-EBADMSG);
}

Test(vault, bounds_and_bad_arguments)
{
	static uint8_t big[VAULT_MAX_PLAINTEXT + 1];
	static uint8_t out[VAULT_MAX_SEALED + 1];
	size_t n = 0;
	cr_assert_eq(vault_seal(&key1, &card_ctx, big, sizeof(big), out, sizeof(out), &n),
		     -EMSGSIZE);
	cr_assert_eq(vault_seal(&key1, &card_ctx, big, VAULT_MAX_PLAINTEXT, out, sizeof(out), &n),
		     0);
	cr_assert_eq(n, VAULT_MAX_SEALED);
	uint8_t small[VAULT_OVERHEAD + 3];
	cr_assert_eq(vault_seal(&key1, &card_ctx, token, strlen(token), small, sizeof(small), &n),
		     -ENOSPC);
	cr_assert_eq(n, 0);

	uint8_t sealed[128], pt[8];
	size_t len = seal_token(sealed, sizeof(sealed)), m = 0;
	cr_assert_eq(vault_open(&key1, 1, &card_ctx, sealed, len, pt, sizeof(pt), &m), -ENOSPC);

	vault_context_t bad = card_ctx;
	bad.kind = "";
	cr_assert_eq(vault_seal(&key1, &bad, token, 3, sealed, sizeof(sealed), &n), -EINVAL);
	bad.kind = NULL;
	cr_assert_eq(vault_seal(&key1, &bad, token, 3, sealed, sizeof(sealed), &n), -EINVAL);
	bad.kind = "a-kind-name-that-is-longer-than-32-bytes";
	cr_assert_eq(vault_seal(&key1, &bad, token, 3, sealed, sizeof(sealed), &n), -EINVAL);
	vault_key_t zero = {0};
	cr_assert_eq(vault_seal(&zero, &card_ctx, token, 3, sealed, sizeof(sealed), &n), -EINVAL);
	uint32_t id;
	cr_assert_eq(vault_sealed_key_id(sealed, 3, &id), -EBADMSG);
}

Test(vault, crypto_wrappers_match_known_answers)
{
	/* RFC 5869 test case 1 (HKDF-SHA256). */
	uint8_t ikm[22], salt[13], info[10], okm[42];
	memset(ikm, 0x0b, sizeof(ikm));
	for (size_t i = 0; i < sizeof(salt); i++)
		salt[i] = (uint8_t)i;
	for (size_t i = 0; i < sizeof(info); i++)
		info[i] = (uint8_t)(0xf0 + i);
	cr_assert_eq(crypto_hkdf_sha256(salt, sizeof(salt), ikm, sizeof(ikm), info, sizeof(info),
					okm, sizeof(okm)),
		     0);
	char hex[2 * sizeof(okm) + 1];
	crypto_hex(okm, sizeof(okm), hex);
	cr_assert_str_eq(hex, "3cb25f25faacd57a90434f64d0362f2a2d2d0a90cf1a5a4c5db02d56ecc4c5bf"
			      "34007208d5b887185865");
	cr_assert_eq(crypto_hkdf_sha256(salt, 1, ikm, 1, info, 1, okm, 0), -EINVAL);

	/* NIST GCM test case 13 (AES-256, zero key and IV, empty input): the tag. */
	uint8_t key[CRYPTO_KEY_LEN] = {0}, nonce[CRYPTO_GCM_NONCE_LEN] = {0}, tag[16];
	cr_assert_eq(crypto_aes256gcm_seal(key, nonce, NULL, 0, NULL, 0, NULL, tag), 0);
	crypto_hex(tag, sizeof(tag), hex);
	cr_assert_str_eq(hex, "530f8afbc74536b9a963b4f1c4cb738b");
	/* Test case 14: one zero block. */
	uint8_t pt[16] = {0}, ct[16];
	cr_assert_eq(crypto_aes256gcm_seal(key, nonce, NULL, 0, pt, 16, ct, tag), 0);
	crypto_hex(ct, sizeof(ct), hex);
	cr_assert_str_eq(hex, "cea7403d4d606b6e074ec5d3baf39d18");
	crypto_hex(tag, sizeof(tag), hex);
	cr_assert_str_eq(hex, "d0d1c8a799996bf0265b98b5d48ab919");
	uint8_t back[16];
	cr_assert_eq(crypto_aes256gcm_open(key, nonce, NULL, 0, ct, 16, tag, back), 0);
	cr_assert_eq(memcmp(back, pt, 16), 0);
	tag[0] ^= 1;
	cr_assert_eq(crypto_aes256gcm_open(key, nonce, NULL, 0, ct, 16, tag, back), -EBADMSG);
}

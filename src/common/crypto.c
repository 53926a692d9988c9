#include "common/crypto.h"

#include <errno.h>
#include <malloc.h>
#include <stdlib.h>
#include <string.h>
#include <mbedtls/ctr_drbg.h>
#include <mbedtls/entropy.h>
#include <mbedtls/gcm.h>
#include <mbedtls/hkdf.h>
#include <mbedtls/md.h>
#include <mbedtls/platform_util.h>
#include <mbedtls/sha256.h>

static mbedtls_entropy_context g_entropy;
static mbedtls_ctr_drbg_context g_drbg;
static int g_seeded;

static int rng_seed(void)
{
	if (g_seeded)
		return 0;
	mbedtls_entropy_init(&g_entropy);
	mbedtls_ctr_drbg_init(&g_drbg);
	static const unsigned char pers[] = "ospay";
	if (mbedtls_ctr_drbg_seed(&g_drbg, mbedtls_entropy_func, &g_entropy, pers,
				  sizeof(pers) - 1) != 0)
		return -EIO;
	g_seeded = 1;
	return 0;
}

int crypto_random(void *out, size_t n)
{
	if (rng_seed() != 0)
		return -EIO;
	unsigned char *p = out;
	while (n > 0) {
		size_t k = n > MBEDTLS_CTR_DRBG_MAX_REQUEST ? MBEDTLS_CTR_DRBG_MAX_REQUEST : n;
		if (mbedtls_ctr_drbg_random(&g_drbg, p, k) != 0)
			return -EIO;
		p += k;
		n -= k;
	}
	return 0;
}

void *crypto_rng_ctx(void)
{
	return rng_seed() == 0 ? &g_drbg : NULL;
}

int crypto_rng_fn(void *ctx, unsigned char *out, size_t n)
{
	return mbedtls_ctr_drbg_random(ctx, out, n);
}

void crypto_sha256(const void *a, size_t alen, const void *b, size_t blen, uint8_t out[32])
{
	mbedtls_sha256_context c;
	mbedtls_sha256_init(&c);
	mbedtls_sha256_starts_ret(&c, 0);
	mbedtls_sha256_update_ret(&c, a, alen);
	if (blen > 0)
		mbedtls_sha256_update_ret(&c, b, blen);
	mbedtls_sha256_finish_ret(&c, out);
	mbedtls_sha256_free(&c);
}

void crypto_hmac_sha256(const uint8_t *key, size_t klen, const void *data, size_t dlen,
			uint8_t out[32])
{
	mbedtls_md_hmac(mbedtls_md_info_from_type(MBEDTLS_MD_SHA256), key, klen, data, dlen, out);
}

int crypto_derive_key(const uint8_t master[CRYPTO_KEY_LEN], const char *label,
		      uint8_t out[CRYPTO_KEY_LEN])
{
	static const unsigned char salt[] = "ospay key derivation";
	size_t llen = 0;
	while (label[llen] != '\0')
		llen++;
	if (mbedtls_hkdf(mbedtls_md_info_from_type(MBEDTLS_MD_SHA256), salt, sizeof(salt) - 1,
			 master, CRYPTO_KEY_LEN, (const unsigned char *)label, llen, out,
			 CRYPTO_KEY_LEN) != 0)
		return -EINVAL;
	return 0;
}

int crypto_hkdf_sha256(const void *salt, size_t saltlen, const void *ikm, size_t ikmlen,
		       const void *info, size_t infolen, uint8_t *out, size_t outlen)
{
	int rc = 0;
	if (outlen == 0 || outlen > 255 * 32) {
		rc = -EINVAL;
		goto out;
	}
	if (mbedtls_hkdf(mbedtls_md_info_from_type(MBEDTLS_MD_SHA256), salt, saltlen, ikm, ikmlen,
			 info, infolen, out, outlen) != 0)
		rc = -EINVAL;
out:
	return rc;
}

/* An AES-256-GCM context keyed with key: -EINVAL when mbedTLS refuses the key;
 * mbedtls_gcm_free it either way (it holds the key schedule). */
static int crypto_gcm_start(mbedtls_gcm_context *gcm, const uint8_t key[CRYPTO_KEY_LEN])
{
	mbedtls_gcm_init(gcm);
	return mbedtls_gcm_setkey(gcm, MBEDTLS_CIPHER_ID_AES, key, CRYPTO_KEY_LEN * 8) != 0
		       ? -EINVAL
		       : 0;
}

int crypto_aes256gcm_seal(const uint8_t key[CRYPTO_KEY_LEN],
			  const uint8_t nonce[CRYPTO_GCM_NONCE_LEN], const void *aad, size_t aadlen,
			  const void *pt, size_t n, uint8_t *ct, uint8_t tag[CRYPTO_GCM_TAG_LEN])
{
	mbedtls_gcm_context gcm;
	int rc = crypto_gcm_start(&gcm, key);

	if (rc != 0)
		goto out;
	if (mbedtls_gcm_crypt_and_tag(&gcm, MBEDTLS_GCM_ENCRYPT, n, nonce, CRYPTO_GCM_NONCE_LEN,
				      aad, aadlen, pt, ct, CRYPTO_GCM_TAG_LEN, tag) != 0)
		rc = -EINVAL;
out:
	/* The context holds the expanded key schedule: free wipes it. */
	mbedtls_gcm_free(&gcm);
	return rc;
}

int crypto_aes256gcm_open(const uint8_t key[CRYPTO_KEY_LEN],
			  const uint8_t nonce[CRYPTO_GCM_NONCE_LEN], const void *aad, size_t aadlen,
			  const uint8_t *ct, size_t n, const uint8_t tag[CRYPTO_GCM_TAG_LEN],
			  uint8_t *pt)
{
	mbedtls_gcm_context gcm;
	int rc = crypto_gcm_start(&gcm, key);

	if (rc != 0)
		goto out;
	/* Any failure here (tag mismatch above all) is reported as a bad message. */
	if (mbedtls_gcm_auth_decrypt(&gcm, n, nonce, CRYPTO_GCM_NONCE_LEN, aad, aadlen, tag,
				     CRYPTO_GCM_TAG_LEN, ct, pt) != 0)
		rc = -EBADMSG;
out:
	if (rc != 0 && n > 0)
		mbedtls_platform_zeroize(pt, n);
	mbedtls_gcm_free(&gcm);
	return rc;
}

bool crypto_equal(const void *a, const void *b, size_t n)
{
	const volatile unsigned char *x = a, *y = b;
	unsigned char d = 0;
	for (size_t i = 0; i < n; i++)
		d |= x[i] ^ y[i];
	return d == 0;
}

void crypto_hex(const uint8_t *in, size_t n, char *out)
{
	static const char digits[] = "0123456789abcdef";
	for (size_t i = 0; i < n; i++) {
		out[2 * i] = digits[in[i] >> 4];
		out[2 * i + 1] = digits[in[i] & 15];
	}
	out[2 * n] = '\0';
}

/* base64 of n bytes with alphabet tbl, padded with '=' when pad. */
static void base64_encode(const char *tbl, bool pad, const uint8_t *in, size_t n, char *out)
{
	size_t o = 0, i = 0;
	for (; i + 2 < n; i += 3) {
		uint32_t v = ((uint32_t)in[i] << 16) | ((uint32_t)in[i + 1] << 8) | in[i + 2];
		out[o++] = tbl[(v >> 18) & 63];
		out[o++] = tbl[(v >> 12) & 63];
		out[o++] = tbl[(v >> 6) & 63];
		out[o++] = tbl[v & 63];
	}
	if (i < n) {
		uint32_t v = (uint32_t)in[i] << 16;
		if (i + 1 < n)
			v |= (uint32_t)in[i + 1] << 8;
		out[o++] = tbl[(v >> 18) & 63];
		out[o++] = tbl[(v >> 12) & 63];
		if (i + 1 < n)
			out[o++] = tbl[(v >> 6) & 63];
		else if (pad)
			out[o++] = '=';
		if (pad)
			out[o++] = '=';
	}
	out[o] = '\0';
}

void crypto_base64url(const uint8_t *in, size_t n, char *out)
{
	base64_encode("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_", false, in,
		      n, out);
}

void crypto_base64(const uint8_t *in, size_t n, char *out)
{
	base64_encode("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/", true, in,
		      n, out);
}

static int base64_value(char c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '+' || c == '-')
		return 62;
	if (c == '/' || c == '_')
		return 63;
	return -1;
}

int crypto_base64_decode(const char *in, size_t n, uint8_t *out, size_t *outlen)
{
	uint32_t acc = 0;
	unsigned bits = 0;
	size_t o = 0, pad = 0;
	/* Padding only at the end, at most two. */
	while (pad < 2 && n > 0 && in[n - 1] == '=') {
		n--;
		pad++;
	}
	if ((pad > 0 && (n + pad) % 4 != 0) || n % 4 == 1)
		return -EINVAL;
	for (size_t i = 0; i < n; i++) {
		int v = base64_value(in[i]);
		if (v < 0)
			return -EINVAL;
		acc = (acc << 6) | (uint32_t)v;
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			out[o++] = (uint8_t)(acc >> bits);
			acc &= (1u << bits) - 1;
		}
	}
	*outlen = o;
	return 0;
}

void crypto_wipe(void *p, size_t n)
{
	mbedtls_platform_zeroize(p, n);
}

void crypto_free_wiped(void *p)
{
	if (p != NULL)
		mbedtls_platform_zeroize(p, malloc_usable_size(p));
	free(p);
}

void *crypto_realloc_wiped(void *p, size_t n)
{
	if (p == NULL)
		return malloc(n);
	if (n == 0) {
		crypto_free_wiped(p);
		return NULL;
	}
	/* Always moves: realloc in place could leave the tail of a shrunk block. */
	size_t old = malloc_usable_size(p);
	void *q = malloc(n);
	if (q == NULL)
		return NULL;
	memcpy(q, p, old < n ? old : n);
	crypto_free_wiped(p);
	return q;
}

char *crypto_strdup_wiped(const char *s)
{
	size_t n = strlen(s) + 1;
	char *d = malloc(n);
	if (d != NULL)
		memcpy(d, s, n);
	return d;
}

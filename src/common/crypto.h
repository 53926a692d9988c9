/* Thin wrappers over mbedTLS for the few primitives ospay needs. */
#ifndef OSPAY_COMMON_CRYPTO_H
#define OSPAY_COMMON_CRYPTO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define CRYPTO_KEY_LEN 32

/* Fills out with n bytes from a CTR-DRBG seeded by mbedTLS's entropy; 0 or -EIO. */
int crypto_random(void *out, size_t n);
/* The process's DRBG, for mbedtls_ssl_conf_rng (pass crypto_rng_fn, crypto_rng_ctx()). */
void *crypto_rng_ctx(void);
int crypto_rng_fn(void *ctx, unsigned char *out, size_t n);

void crypto_sha256(const void *a, size_t alen, const void *b, size_t blen, uint8_t out[32]);
void crypto_hmac_sha256(const uint8_t *key, size_t klen, const void *data, size_t dlen,
			uint8_t out[32]);
/* HKDF-SHA256 of a master key with a label ("ospay token v1"); 0 or -EINVAL. */
int crypto_derive_key(const uint8_t master[CRYPTO_KEY_LEN], const char *label,
		      uint8_t out[CRYPTO_KEY_LEN]);
/*
 * HKDF-SHA256 (RFC 5869) of ikm with any salt and info into outlen bytes of out
 * (at most 255 * 32). Nothing is allocated; 0 or -EINVAL.
 */
int crypto_hkdf_sha256(const void *salt, size_t saltlen, const void *ikm, size_t ikmlen,
		       const void *info, size_t infolen, uint8_t *out, size_t outlen);

#define CRYPTO_GCM_NONCE_LEN 12
#define CRYPTO_GCM_TAG_LEN 16

/*
 * AES-256-GCM: encrypts n bytes of pt into ct (n bytes, may be pt itself) and
 * writes the tag, authenticating aad too. The caller owns every buffer and must
 * never reuse a nonce with the same key. 0 or -EINVAL.
 */
int crypto_aes256gcm_seal(const uint8_t key[CRYPTO_KEY_LEN],
			  const uint8_t nonce[CRYPTO_GCM_NONCE_LEN], const void *aad, size_t aadlen,
			  const void *pt, size_t n, uint8_t *ct, uint8_t tag[CRYPTO_GCM_TAG_LEN]);
/*
 * The inverse of crypto_aes256gcm_seal: 0 when the tag matches, else -EBADMSG
 * with pt zeroed, so a forged or damaged input never yields plaintext bytes.
 */
int crypto_aes256gcm_open(const uint8_t key[CRYPTO_KEY_LEN],
			  const uint8_t nonce[CRYPTO_GCM_NONCE_LEN], const void *aad, size_t aadlen,
			  const uint8_t *ct, size_t n, const uint8_t tag[CRYPTO_GCM_TAG_LEN],
			  uint8_t *pt);

/* Constant-time comparison of two n-byte strings. */
bool crypto_equal(const void *a, const void *b, size_t n);

/* Zeroes n bytes in a way the compiler may not drop (keys, secrets). */
void crypto_wipe(void *p, size_t n);

/*
 * free() and realloc() that wipe the whole block first (its usable size), for
 * the allocators handed to libraries that copy secrets (curl, jansson): a
 * freed buffer then holds no card number or credential.
 */
void crypto_free_wiped(void *p);
void *crypto_realloc_wiped(void *p, size_t n);
char *crypto_strdup_wiped(const char *s);

/* Lowercase hex of n bytes into out (2n+1 bytes). */
void crypto_hex(const uint8_t *in, size_t n, char *out);
/* Unpadded base64url of n bytes into out (4*ceil(n/3)+1 bytes is enough). */
void crypto_base64url(const uint8_t *in, size_t n, char *out);

#endif

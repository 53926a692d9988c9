/*
 * Sealing small secrets stored in records (a card's gateway token, a
 * gateway's credentials) with AES-256-GCM under keys derived from the master
 * key, each sealed value naming the key id it was sealed under so keys can be
 * rotated (`ospayd rotate-key`). Pure computation over caller-owned buffers:
 * no I/O, no allocation; randomness only from crypto_random for nonces.
 *
 * Sealed layout (VAULT_OVERHEAD bytes plus the plaintext's length):
 *
 *   version (1 byte, 1) | key id (4 bytes, big-endian) | nonce (12 bytes)
 *   | ciphertext (n bytes) | GCM tag (16 bytes)
 *
 * The additional authenticated data binds the version, the key id and a
 * context naming the record (kind, organization, owner, record id), so a
 * sealed value copied into another record, or another organization's, or a
 * different kind of record, fails to open.
 */
#ifndef OSPAY_CORE_VAULT_H
#define OSPAY_CORE_VAULT_H

#include <stddef.h>
#include <stdint.h>

#include "common/crypto.h"

#define VAULT_VERSION 1
#define VAULT_HEADER_LEN (1 + 4 + CRYPTO_GCM_NONCE_LEN)
#define VAULT_OVERHEAD (VAULT_HEADER_LEN + CRYPTO_GCM_TAG_LEN)
/* Largest plaintext sealed (a bound, not a rule: tokens are tens of bytes). */
#define VAULT_MAX_PLAINTEXT 4096
#define VAULT_MAX_SEALED (VAULT_MAX_PLAINTEXT + VAULT_OVERHEAD)
/* Longest context kind ("card", "gateway"). */
#define VAULT_KIND_MAX 32

/* A data key and its id. A secret: clear it with vault_key_wipe. */
typedef struct vault_key {
	uint32_t id; /* 1.. ; 0 is never a key */
	uint8_t bytes[CRYPTO_KEY_LEN];
} vault_key_t;

/* Which record a sealed value belongs to; kind is a static string. */
typedef struct vault_context {
	const char *kind; /* "card", "gateway": 1..VAULT_KIND_MAX bytes */
	uint64_t org_id;
	uint64_t owner_id; /* the customer for a card; 0 where there is none */
	uint64_t record_id;
} vault_context_t;

/*
 * Derives data key `id` from the 32-byte master key: HKDF-SHA256 with info
 * "ospay vault v1" and the id (big-endian). 0, or -EINVAL for id 0.
 */
int vault_key_derive(const uint8_t master[CRYPTO_KEY_LEN], uint32_t id, vault_key_t *out);

/* Clears key. */
void vault_key_wipe(vault_key_t *key);

/*
 * Seals n bytes of pt for ctx under key into out (cap bytes; n +
 * VAULT_OVERHEAD are needed) and sets *out_len. A fresh random 96-bit nonce
 * each time, so sealing the same value twice gives different bytes.
 * 0, -EINVAL (bad key or context), -EMSGSIZE (n > VAULT_MAX_PLAINTEXT),
 * -ENOSPC (out too small), -EIO (no randomness); out is zeroed on failure.
 */
int vault_seal(const vault_key_t *key, const vault_context_t *ctx, const void *pt, size_t n,
	       uint8_t *out, size_t cap, size_t *out_len);

/* The key id a sealed value names, without opening it; 0 or -EBADMSG. */
int vault_sealed_key_id(const uint8_t *sealed, size_t len, uint32_t *key_id);

/*
 * Opens a sealed value for ctx with whichever of keys[0..n_keys) has its key
 * id, into out (cap bytes; len - VAULT_OVERHEAD are needed), setting *out_len.
 * 0, -EBADMSG (malformed, tampered, other record's, or wrong key bytes),
 * -ENOKEY (no key with that id), -ENOSPC, -EINVAL; out is zeroed on failure.
 */
int vault_open(const vault_key_t *keys, size_t n_keys, const vault_context_t *ctx,
	       const uint8_t *sealed, size_t len, uint8_t *out, size_t cap, size_t *out_len);

/*
 * Rotation: opens sealed with keys (as vault_open) and seals the plaintext
 * again under new_key with a fresh nonce, into out (len bytes suffice). The
 * plaintext lives only on this function's stack and is wiped before it
 * returns. Errors as vault_open and vault_seal; out is zeroed on failure.
 */
int vault_reseal(const vault_key_t *keys, size_t n_keys, const vault_key_t *new_key,
		 const vault_context_t *ctx, const uint8_t *sealed, size_t len, uint8_t *out,
		 size_t cap, size_t *out_len);

#endif

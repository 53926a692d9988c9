#include "core/vault.h"

#include <errno.h>
#include <string.h>

/* Same salt as crypto_derive_key; the info string separates the uses. */
static const char derive_salt[] = "ospay key derivation";
static const char derive_info[] = "ospay vault v1";

/* version, key id, kind length, kind, three ids. */
#define AAD_MAX (1 + 4 + 1 + VAULT_KIND_MAX + 3 * 8)

static void put_be32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

static uint32_t get_be32(const uint8_t *p)
{
	return ((uint32_t)p[0] << 24) | ((uint32_t)p[1] << 16) | ((uint32_t)p[2] << 8) | p[3];
}

static void put_be64(uint8_t *p, uint64_t v)
{
	put_be32(p, (uint32_t)(v >> 32));
	put_be32(p + 4, (uint32_t)v);
}

static size_t kind_len(const vault_context_t *ctx)
{
	return ctx != NULL && ctx->kind != NULL ? strnlen(ctx->kind, VAULT_KIND_MAX + 1) : 0;
}

static bool context_ok(const vault_context_t *ctx)
{
	size_t n = kind_len(ctx);
	return n >= 1 && n <= VAULT_KIND_MAX;
}

/*
 * The authenticated data: the header fields that are not the nonce (GCM
 * binds the nonce by itself) and the record's identity, each length-prefixed
 * or fixed-size so no two contexts serialize alike.
 */
static size_t build_aad(uint32_t key_id, const vault_context_t *ctx, uint8_t aad[AAD_MAX])
{
	size_t klen = kind_len(ctx);
	size_t o = 0;
	aad[o++] = VAULT_VERSION;
	put_be32(aad + o, key_id);
	o += 4;
	aad[o++] = (uint8_t)klen;
	memcpy(aad + o, ctx->kind, klen);
	o += klen;
	put_be64(aad + o, ctx->org_id);
	o += 8;
	put_be64(aad + o, ctx->owner_id);
	o += 8;
	put_be64(aad + o, ctx->record_id);
	o += 8;
	return o;
}

int vault_key_derive(const uint8_t master[CRYPTO_KEY_LEN], uint32_t id, vault_key_t *out)
{
	int rc = 0;
	uint8_t info[sizeof(derive_info) - 1 + 4];
	memset(out, 0, sizeof(*out));
	if (id == 0) {
		rc = -EINVAL;
		goto out;
	}
	memcpy(info, derive_info, sizeof(derive_info) - 1);
	put_be32(info + sizeof(derive_info) - 1, id);
	rc = crypto_hkdf_sha256(derive_salt, sizeof(derive_salt) - 1, master, CRYPTO_KEY_LEN, info,
				sizeof(info), out->bytes, CRYPTO_KEY_LEN);
	if (rc != 0)
		goto out;
	out->id = id;
out:
	if (rc != 0)
		vault_key_wipe(out);
	return rc;
}

void vault_key_wipe(vault_key_t *key)
{
	crypto_wipe(key, sizeof(*key));
}

/* Where a seal or an open ends: len into out_len on success; on failure out
 * (which may hold part of a result) is wiped. */
static int vault_end(int rc, uint8_t *out, size_t cap, size_t len, size_t *out_len)
{
	if (rc == 0)
		*out_len = len;
	else if (out != NULL && cap > 0)
		crypto_wipe(out, cap);
	return rc;
}

int vault_seal(const vault_key_t *key, const vault_context_t *ctx, const void *pt, size_t n,
	       uint8_t *out, size_t cap, size_t *out_len)
{
	int rc = 0;
	uint8_t aad[AAD_MAX];
	size_t aadlen;
	*out_len = 0;
	if (key == NULL || key->id == 0 || !context_ok(ctx) || (pt == NULL && n > 0) ||
	    out == NULL) {
		rc = -EINVAL;
		goto out;
	}
	if (n > VAULT_MAX_PLAINTEXT) {
		rc = -EMSGSIZE;
		goto out;
	}
	if (cap < n + VAULT_OVERHEAD) {
		rc = -ENOSPC;
		goto out;
	}
	out[0] = VAULT_VERSION;
	put_be32(out + 1, key->id);
	/*
	 * Random nonces: 2^-32 collision odds are reached only after about 2^32
	 * seals under one key, far beyond the cards and credentials one key seals.
	 */
	rc = crypto_random(out + 5, CRYPTO_GCM_NONCE_LEN);
	if (rc != 0) {
		rc = -EIO;
		goto out;
	}
	aadlen = build_aad(key->id, ctx, aad);
	rc = crypto_aes256gcm_seal(key->bytes, out + 5, aad, aadlen, pt, n, out + VAULT_HEADER_LEN,
				   out + VAULT_HEADER_LEN + n);
out:
	return vault_end(rc, out, cap, n + VAULT_OVERHEAD, out_len);
}

int vault_sealed_key_id(const uint8_t *sealed, size_t len, uint32_t *key_id)
{
	int rc = 0;
	if (sealed == NULL || len < VAULT_OVERHEAD || sealed[0] != VAULT_VERSION ||
	    get_be32(sealed + 1) == 0) {
		rc = -EBADMSG;
		goto out;
	}
	*key_id = get_be32(sealed + 1);
out:
	return rc;
}

int vault_open(const vault_key_t *keys, size_t n_keys, const vault_context_t *ctx,
	       const uint8_t *sealed, size_t len, uint8_t *out, size_t cap, size_t *out_len)
{
	int rc = 0;
	uint32_t id = 0;
	const vault_key_t *key = NULL;
	uint8_t aad[AAD_MAX];
	size_t aadlen, n = 0;
	*out_len = 0;
	if (!context_ok(ctx) || (keys == NULL && n_keys > 0)) {
		rc = -EINVAL;
		goto out;
	}
	rc = vault_sealed_key_id(sealed, len, &id);
	if (rc != 0)
		goto out;
	for (size_t i = 0; i < n_keys && key == NULL; i++)
		if (keys[i].id == id)
			key = &keys[i];
	if (key == NULL) {
		rc = -ENOKEY;
		goto out;
	}
	n = len - VAULT_OVERHEAD;
	if (n > VAULT_MAX_PLAINTEXT) {
		rc = -EBADMSG;
		goto out;
	}
	if (cap < n || (out == NULL && n > 0)) {
		rc = -ENOSPC;
		goto out;
	}
	aadlen = build_aad(id, ctx, aad);
	rc = crypto_aes256gcm_open(key->bytes, sealed + 5, aad, aadlen, sealed + VAULT_HEADER_LEN,
				   n, sealed + VAULT_HEADER_LEN + n, out);
out:
	return vault_end(rc, out, cap, n, out_len);
}

int vault_reseal(const vault_key_t *keys, size_t n_keys, const vault_key_t *new_key,
		 const vault_context_t *ctx, const uint8_t *sealed, size_t len, uint8_t *out,
		 size_t cap, size_t *out_len)
{
	int rc = 0;
	uint8_t pt[VAULT_MAX_PLAINTEXT];
	size_t n = 0;
	*out_len = 0;
	rc = vault_open(keys, n_keys, ctx, sealed, len, pt, sizeof(pt), &n);
	if (rc != 0)
		goto out;
	rc = vault_seal(new_key, ctx, pt, n, out, cap, out_len);
out:
	crypto_wipe(pt, sizeof(pt));
	if (rc != 0 && out != NULL && cap > 0)
		crypto_wipe(out, cap);
	return rc;
}

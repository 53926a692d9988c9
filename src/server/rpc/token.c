/* API tokens: random secrets, stored only as a keyed hash. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "common/crypto.h"
#include "common/util.h"
#include "server/rpc/token.h"

int srv_token_new(char *out, size_t outlen)
{
	uint8_t raw[32];
	char b64[48];
	if (outlen < sizeof(SRV_TOKEN_PREFIX) + 43)
		return -EINVAL;
	int rc = crypto_random(raw, sizeof(raw));
	if (rc != 0)
		return rc;
	crypto_base64url(raw, sizeof(raw), b64);
	snprintf(out, outlen, "%s%s", SRV_TOKEN_PREFIX, b64);
	return 0;
}

void srv_token_hash(const uint8_t key[CRYPTO_KEY_LEN], const char *token, uint8_t out[32])
{
	crypto_hmac_sha256(key, CRYPTO_KEY_LEN, token, strlen(token), out);
}

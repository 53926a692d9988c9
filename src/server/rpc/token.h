/* API tokens (token.c): made by init and Admin/CreateToken, checked by Session/Hello. */
#ifndef OSPAY_SERVER_RPC_TOKEN_H
#define OSPAY_SERVER_RPC_TOKEN_H

#include <stddef.h>
#include <stdint.h>

#include "common/crypto.h"

/* Token secrets: "ospt_" + 43 base64url chars. Hash with the server's token key. */
#define SRV_TOKEN_PREFIX "ospt_"
#define SRV_TOKEN_MAX 128
int srv_token_new(char *out, size_t outlen);
void srv_token_hash(const uint8_t key[CRYPTO_KEY_LEN], const char *token, uint8_t out[32]);

#endif

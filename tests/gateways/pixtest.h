/*
 * What the Pix adapter's scripted-responder tests share (after gwtest.h): the
 * credentials, a token answer, a gateway configuration per PSP profile and a
 * recorder of Pix results.
 */
#ifndef OSPAY_TESTS_GATEWAYS_PIXTEST_H
#define OSPAY_TESTS_GATEWAYS_PIXTEST_H

#include "gateways/gwtest.h"

#define CID "Client_Id_4e6f1c"
#define CSECRET "Client_Secret_9a8b7c"
#define HOOK_SECRET "s3cr3t-hook"
#define IDREC "RR1234567820240115abcdefghijk"

#define TOKEN_OK "{\"access_token\":\"tok-1\",\"token_type\":\"Bearer\",\"expires_in\":3600}"

static inline gw_config_t pix_cfg(const char *profile)
{
	gw_config_t c = {0};
	c.kind = GW_KIND_PIX;
	c.pix_profile = profile;
	c.client_id = CID;
	c.client_secret = CSECRET;
	c.pix_branch = "9708";
	c.pix_account = "012682";
	c.webhook_secret = HOOK_SECRET;
	c.timeout_ms = TSP_HANG_MS;
	return c;
}

struct rec_pix {
	int calls;
	gw_pix_result_t res;
};

static inline void rec_on_pix(const gw_pix_result_t *r, void *arg)
{
	struct rec_pix *c = arg;
	c->calls++;
	c->res = *r;
}

#endif

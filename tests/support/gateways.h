/*
 * Test support for the payment and notification gateways: registering the
 * organization at a running ospay-sandbox (POST <sandbox>/control/orgs/<org>/
 * <service>) and pointing ospayd at the sandbox (Admin/SetGateway,
 * Admin/SetNotifier). Credentials come from a tag: tag "bill" gives Cielo
 * merchant "mid-bill", key "mkey-bill" and X-Cielo-Hook "hook-bill", GetNet
 * "cid-bill" / "cs-bill" / "seller-bill", ZapMe "zapi-bill" / "zsecret-bill"
 * with X-ZapMe-Secret "zhook-bill". Every helper asserts (cr_assert) success.
 */
#ifndef OSPAY_TESTS_GATEWAYS_H
#define OSPAY_TESTS_GATEWAYS_H

#include <stdbool.h>
#include <stdint.h>

#include "ospay/v1/gateway.pb-c.h"
#include "support/proc.h"

/* POSTs body to the sandbox's control/orgs/<org>/<service>; asserts a 2xx answer. */
void tsg_register(const tsp_sandbox_t *sb, uint64_t org, const char *service, const char *body);
/* Registers Cielo credentials of tag at the sandbox; asserts a 2xx answer. */
void tsg_register_cielo(const tsp_sandbox_t *sb, uint64_t org, const char *tag);
/* Registers GetNet credentials of tag at the sandbox; asserts a 2xx answer. */
void tsg_register_getnet(const tsp_sandbox_t *sb, uint64_t org, const char *tag);

/*
 * Admin/SetGateway of kind at <sandbox>/<service> with cred (may be NULL:
 * keep the stored ones) and allow_automatic_recurrence; asserts OK.
 */
void tsg_set_gateway(int fd, const tsp_sandbox_t *sb, Ospay__V1__GatewayKind kind,
		     const char *service, Ospay__V1__GatewayCredentials *cred, bool automatic);
/* tsg_set_gateway with the gateway's zero_auth setting (Cards/Add validates cards). */
void tsg_set_gateway_with(int fd, const tsp_sandbox_t *sb, Ospay__V1__GatewayKind kind,
			  const char *service, Ospay__V1__GatewayCredentials *cred, bool automatic,
			  bool zero_auth);
/* Admin/SetGateway: Cielo with tag's credentials and webhook header; asserts OK. */
void tsg_set_cielo(int fd, const tsp_sandbox_t *sb, const char *tag, bool automatic);
/* Admin/SetGateway: GetNet with tag's credentials; asserts OK. */
void tsg_set_getnet(int fd, const tsp_sandbox_t *sb, const char *tag, bool automatic);
/* tsg_register_cielo then tsg_set_cielo; asserts both. */
void tsg_cielo(int fd, const tsp_sandbox_t *sb, uint64_t org, const char *tag, bool automatic);
/* Registers {"token": token} for PagoLivre at the sandbox and sets the gateway; asserts both. */
void tsg_pagolivre(int fd, const tsp_sandbox_t *sb, uint64_t org, const char *token);

/* Registers ZapMe credentials of tag at the sandbox; asserts a 2xx answer. */
void tsg_register_zapme(const tsp_sandbox_t *sb, uint64_t org, const char *tag);
/* Admin/SetNotifier: WhatsApp through ZapMe with tag's credentials and webhook header; asserts OK. */
void tsg_set_zapme(int fd, const tsp_sandbox_t *sb, const char *tag);

/* POST control/cielo/decline: the next count Cielo sales are declined with code and
 * Mastercard advice code mac (NULL: none), naming a replacement card (Renova Fácil)
 * when new_card; asserts 200. */
void tsg_cielo_decline(const tsp_sandbox_t *sb, const char *code, const char *mac, int count,
		       bool new_card);
/* POSTs a fault (JSON body) to the sandbox's control/faults; asserts 201; its id. */
uint64_t tsg_fault(const tsp_sandbox_t *sb, const char *body);
/* tsg_fault for the next Cielo sale_create: kind (http500, timeout...), processed
 * by the gateway or not, once; asserts 201. */
void tsg_sale_fault(const tsp_sandbox_t *sb, const char *kind, bool process);
/* How many requests fault id has matched; -1 once it is gone (deleted, or its
 * count used up). */
long long tsg_fault_hits(const tsp_sandbox_t *sb, uint64_t id);
/*
 * True once fault id has matched a request at the sandbox: the request got
 * there. A fault whose count is used up is gone, which counts as matched.
 */
bool tsg_fault_hit(const tsp_sandbox_t *sb, uint64_t id);
/* Deletes every fault (control/faults and control/webhook-faults); asserts 200. */
void tsg_faults_clear(const tsp_sandbox_t *sb);
/* POSTs a webhook fault (JSON body) to the sandbox's control/webhook-faults; asserts 201. */
void tsg_webhook_fault(const tsp_sandbox_t *sb, const char *body);
/*
 * The webhooks of service the sandbox has logged (delivered, failed or dropped
 * by a fault) whose summary holds summary_part, with fault (NULL: any).
 */
int tsg_webhooks_logged(const tsp_sandbox_t *sb, const char *service, const char *summary_part,
			const char *fault);

/* POST control/pagolivre/orders/<ref>/<action> (pay, charge...); the HTTP status. */
int tsg_pagolivre_control(const tsp_sandbox_t *sb, const char *action, const char *ref,
			  const char *body);
/*
 * POSTs n PagoLivre notifications "orderPaid" of orders <prefix>0 .. <prefix>n-1
 * (event ids the same) straight to ospayd's webhook with token, 50 at a time;
 * returns how many were answered 200.
 */
int tsg_pagolivre_events(const tsp_server_t *s, const char *token, const char *prefix, int n);

/*
 * A tag's credentials as ospayd is given them (see the top of this file), with the
 * strings and the one webhook header they point to: fill it in place with
 * tsg_cielo_creds or tsg_zapme_creds and do not copy it.
 */
typedef struct tsg_creds {
	Ospay__V1__GatewayCredentials cred;
	Ospay__V1__HeaderPair hook, *slot;
	char id[64], secret[64], hook_value[64];
} tsg_creds_t;
/* Cielo's credentials of tag (merchant id and key, X-Cielo-Hook) in *c; returns &c->cred. */
Ospay__V1__GatewayCredentials *tsg_cielo_creds(tsg_creds_t *c, const char *tag);
/* ZapMe's credentials of tag (API key and secret, X-ZapMe-Secret) in *c; returns &c->cred. */
Ospay__V1__GatewayCredentials *tsg_zapme_creds(tsg_creds_t *c, const char *tag);

#endif

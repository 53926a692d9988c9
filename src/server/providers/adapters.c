/*
 * Gateway settings and the open adapters: a service's stored settings and
 * sealed credentials of an organization, and the gw_t opened from them, kept
 * open (least recently used replaced) until the settings change.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/crypto.h"
#include "common/util.h"
#include "core/vault.h"
#include "gateways/gateway.h"
#include "ospay/v1/records.pb-c.h"
#include "server/db/db.h"
#include "server/providers/adapters.h"

#define GWC_SLOTS 64 /* open adapters kept, one per (organization, service) */

const char *prov_service_name(int kind)
{
	static const char *const names[] = {NULL, "pagolivre", "cielo", "getnet", "zapme", "pix"};
	return kind >= 1 && kind <= SRV_SERVICE_PIX ? names[kind] : NULL;
}

int prov_service_parse(const char *name)
{
	for (int k = 1; k <= SRV_SERVICE_PIX; k++)
		if (strcmp(name, prov_service_name(k)) == 0)
			return k;
	return 0;
}

void prov_vault_context(uint64_t org, int kind, vault_context_t *ctx)
{
	ctx->kind = "gateway";
	ctx->org_id = org;
	ctx->owner_id = (uint64_t)kind;
	ctx->record_id = 0;
}

int prov_open_credentials(const srv_t *s, const Ospay__V1__GatewayRecord *rec,
			  Ospay__V1__GatewayCredentials **out)
{
	uint8_t plain[VAULT_MAX_PLAINTEXT];
	size_t n = 0;
	vault_context_t ctx;
	prov_vault_context(rec->organization_id, rec->kind, &ctx);
	int rc = vault_open(s->vault_keys, s->n_vault_keys, &ctx, rec->sealed_credentials.data,
			    rec->sealed_credentials.len, plain, sizeof(plain), &n);
	if (rc == 0) {
		*out = ospay__v1__gateway_credentials__unpack(NULL, n, plain);
		if (*out == NULL)
			rc = -EBADMSG;
	}
	crypto_wipe(plain, sizeof(plain));
	return rc;
}

void prov_credentials_free(Ospay__V1__GatewayCredentials *creds)
{
	if (creds == NULL)
		return;
	/* Secrets: wipe the unpacked strings before freeing them. */
	const char *f[] = {creds->merchant_id,   creds->merchant_key, creds->client_id,
			   creds->client_secret, creds->seller_id,    creds->api_token,
			   creds->api_key,       creds->api_secret,   creds->client_key_pem,
			   creds->webhook_secret};
	for (size_t i = 0; i < OSPAY_ARRAY_LEN(f); i++)
		crypto_wipe((void *)f[i], strlen(f[i]));
	for (size_t i = 0; i < creds->n_webhook_headers; i++)
		crypto_wipe(creds->webhook_headers[i]->value,
			    strlen(creds->webhook_headers[i]->value));
	ospay__v1__gateway_credentials__free_unpacked(creds, NULL);
}

int prov_settings_get(store_txn_t *txn, uint64_t org, int kind, Ospay__V1__GatewayRecord **out)
{
	uint8_t k[9];
	be64_put(k, org);
	k[8] = (uint8_t)kind;
	return db_get_msg(txn, DB_GATEWAYS, k, sizeof(k), &ospay__v1__gateway_record__descriptor,
			  (ProtobufCMessage **)out);
}

/* ------------------------------------------------------------------ adapters */

typedef struct gwc_slot {
	uint64_t org;
	int kind;
	uint64_t epoch;
	uint64_t used;
	gw_t *gw;
} gwc_slot_t;

/* The open adapters, owned by the server object (s->adapters). */
struct prov_adapters {
	gwc_slot_t slot[GWC_SLOTS];
	uint64_t clock; /* use counter: the least recently used slot is reopened */
};

void prov_config_from(const srv_t *s, const Ospay__V1__GatewayRecord *rec,
		      const Ospay__V1__GatewayCredentials *c, gw_config_t *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	cfg->ca_file = s->opts.gateway_ca;
	cfg->kind = (gw_kind_t)rec->kind;
	cfg->base_url = rec->base_url;
	cfg->query_base_url = rec->query_base_url[0] ? rec->query_base_url : NULL;
	cfg->merchant_id = c->merchant_id[0] ? c->merchant_id : NULL;
	cfg->merchant_key = c->merchant_key[0] ? c->merchant_key : NULL;
	cfg->client_id = c->client_id[0] ? c->client_id : NULL;
	cfg->client_secret = c->client_secret[0] ? c->client_secret : NULL;
	cfg->seller_id = c->seller_id[0] ? c->seller_id : NULL;
	cfg->api_token = c->api_token[0] ? c->api_token : NULL;
	cfg->api_key = c->api_key[0] ? c->api_key : NULL;
	cfg->api_secret = c->api_secret[0] ? c->api_secret : NULL;
	cfg->soft_descriptor = rec->soft_descriptor[0] ? rec->soft_descriptor : NULL;
	cfg->client_cert_pem = c->client_certificate_pem[0] ? c->client_certificate_pem : NULL;
	cfg->client_key_pem = c->client_key_pem[0] ? c->client_key_pem : NULL;
	cfg->webhook_secret = c->webhook_secret[0] ? c->webhook_secret : NULL;
	if (rec->pix != NULL) {
		const Ospay__V1__PixSettings *p = rec->pix;
		cfg->pix_profile = p->profile[0] ? p->profile : NULL;
		cfg->pix_branch = p->branch[0] ? p->branch : NULL;
		cfg->pix_account = p->account[0] ? p->account : NULL;
		cfg->pix_account_type = p->account_type[0] ? p->account_type : NULL;
		/* Journeys 3 and 4: the cob and cobv name the receiver's key. */
		cfg->pix_key = p->pix_key[0] ? p->pix_key : NULL;
	}
	for (size_t i = 0; i < c->n_webhook_headers && i < GW_MAX_WEBHOOK_HEADERS; i++) {
		cfg->webhook_headers[i].name = c->webhook_headers[i]->name;
		cfg->webhook_headers[i].value = c->webhook_headers[i]->value;
		cfg->n_webhook_headers = i + 1;
	}
}

/*
 * The adapter for (org, kind), opened from its stored settings when there is
 * none or the settings changed since. 0, -ENOENT (not configured), or another
 * negative errno.
 */
int prov_adapter(srv_t *s, store_txn_t *txn, uint64_t org, int kind, gw_t **out)
{
	prov_adapters_t *c = s->adapters;
	if (c == NULL)
		return -ECANCELED; /* stopping: no new calls */
	gwc_slot_t *gwc = c->slot, *slot = NULL, *victim = &gwc[0];
	Ospay__V1__GatewayRecord *rec = NULL;
	Ospay__V1__GatewayCredentials *creds = NULL;
	int rc = 0;
	for (size_t i = 0; i < GWC_SLOTS; i++) {
		if (gwc[i].gw != NULL && gwc[i].org == org && gwc[i].kind == kind)
			slot = &gwc[i];
		if (gwc[i].used < victim->used)
			victim = &gwc[i];
	}
	if (slot != NULL && slot->epoch == s->gateway_epoch) {
		slot->used = ++c->clock;
		*out = slot->gw;
		goto out;
	}
	if (slot == NULL)
		slot = victim;
	rc = prov_settings_get(txn, org, kind, &rec);
	if (rc == 0)
		rc = prov_open_credentials(s, rec, &creds);
	if (rc != 0)
		goto out;
	gw_config_t cfg;
	prov_config_from(s, rec, creds, &cfg);
	gw_t *gw = NULL;
	rc = gw_open(&gw, s->http, s->loop, &cfg, NULL);
	crypto_wipe(&cfg, sizeof(cfg));
	if (rc != 0)
		goto out;
	gw_close(slot->gw); /* calls in flight finish on their own */
	slot->gw = gw;
	slot->org = org;
	slot->kind = kind;
	slot->epoch = s->gateway_epoch;
	slot->used = ++c->clock;
	*out = gw;
out:
	prov_credentials_free(creds); /* wipes the secrets */
	ospay__v1__gateway_record__free_unpacked(rec, NULL);
	return rc;
}

int prov_adapters_init(srv_t *s)
{
	s->adapters = calloc(1, sizeof(*s->adapters));
	return s->adapters != NULL ? 0 : -ENOMEM;
}

void prov_adapters_close(srv_t *s)
{
	prov_adapters_t *c = s->adapters;
	if (c == NULL)
		return;
	/* Their calls in flight are canceled by the HTTP client's close. */
	for (size_t i = 0; i < GWC_SLOTS; i++)
		gw_close(c->slot[i].gw);
	free(c);
	s->adapters = NULL;
}

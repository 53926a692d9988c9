/*
 * Gateway settings and the open adapters (adapters.c): what every path that
 * calls an external service (the billing run, the outbox, webhook re-queries,
 * Cards/Add, payment links) goes through.
 */
#ifndef OSPAY_SERVER_PROVIDERS_ADAPTERS_H
#define OSPAY_SERVER_PROVIDERS_ADAPTERS_H

#include <stdint.h>

#include "core/vault.h"
#include "ospay/v1/records.pb-c.h"
#include "server/rpc/srv.h"
#include "store/store.h"

struct gw;

/* "pagolivre", "cielo", "getnet", "zapme", "pix" (NULL for others), and back (0 if unknown). */
const char *prov_service_name(int kind);
int prov_service_parse(const char *name);

/* The context a service's credentials are sealed under (org, kind). */
void prov_vault_context(uint64_t org, int kind, vault_context_t *ctx);
/* The stored settings of (org, kind): 0, -ENOENT, or a store error. Caller frees. */
int prov_settings_get(store_txn_t *txn, uint64_t org, int kind, Ospay__V1__GatewayRecord **out);
/* Opens a record's sealed credentials (caller frees; they are secrets). */
int prov_open_credentials(const srv_t *s, const Ospay__V1__GatewayRecord *rec,
			  Ospay__V1__GatewayCredentials **out);

/* Wipes the secrets of unpacked credentials and frees them (NULL ignored). */
void prov_credentials_free(Ospay__V1__GatewayCredentials *creds);
/* The adapter configuration of a record and its opened credentials (borrowed:
 * cfg points into both). */
struct gw_config;
void prov_config_from(const srv_t *s, const Ospay__V1__GatewayRecord *rec,
		      const Ospay__V1__GatewayCredentials *c, struct gw_config *cfg);

/* The open adapters, owned by s (s->adapters): made at start, closed at stop. */
int prov_adapters_init(srv_t *s);
void prov_adapters_close(srv_t *s);
/*
 * The adapter for (org, kind), opened from its stored settings when there is
 * none or the settings changed since (s->gateway_epoch). 0, -ENOENT (not
 * configured), -ECANCELED (stopping), or another negative errno.
 */
int prov_adapter(srv_t *s, store_txn_t *txn, uint64_t org, int kind, struct gw **out);

#endif

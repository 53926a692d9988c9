/*
 * Test support that reaches into a running ospayd's LMDB store from the test
 * process (LMDB allows a second process): what a test needs to set up or read
 * that no RPC exposes. Each helper asserts (cr_assert) what its comment says.
 */
#ifndef OSPAY_TESTS_LIVE_H
#define OSPAY_TESTS_LIVE_H

#include "ospay/v1/records.pb-c.h"
#include "store/store.h"
#include "support/proc.h"

/* Opens the server's store (asserting it opens); close with store_close. */
store_t *tsl_store_attach(const tsp_server_t *s);
/* The provider object ospayd recorded for (kind, ref), NULL when none; caller frees. */
Ospay__V1__GatewayObjectRecord *tsl_object(const tsp_server_t *s, int kind, const char *ref);
/* Registers the provider object (kind, ref) as ospayd does when it asks a service
 * for it, so that its webhooks are accepted (asserts the write). */
void tsl_register_object(const tsp_server_t *s, int kind, const char *ref);
/* The same for <prefix>0 .. <prefix>n-1, in one write. */
void tsl_register_objects(const tsp_server_t *s, int kind, const char *prefix, int n);
/*
 * Creates a PagoLivre payment link with order key `key` at the sandbox (token:
 * the organization's API token; asserts 201) and registers it in ospayd as
 * Orders/Finalize would, so its webhooks are accepted (asserts the write).
 */
void tsl_pagolivre_link(const tsp_server_t *s, const tsp_sandbox_t *sb, const char *token,
			const char *key, int installments);

#endif

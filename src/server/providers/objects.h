/* Provider objects (objects.c). */
#ifndef OSPAY_SERVER_PROVIDERS_OBJECTS_H
#define OSPAY_SERVER_PROVIDERS_OBJECTS_H

#include <stddef.h>
#include <stdint.h>

#include "ospay/v1/records.pb-c.h"
#include "store/store.h"

/* org | kind | text: the key of webhook events and provider objects; cut to cap. */
size_t prov_ref_key(uint64_t org, int kind, const char *text, uint8_t *k, size_t cap);

/* Registers (org, kind, ref) as asked for, PENDING, unless known. 0, -EINVAL, or a store error. */
int prov_object_register(store_txn_t *txn, uint64_t org, int kind, const char *ref, int64_t now_ms);
/* The same for a card charge's payment id, tied to the charge it settles. */
int prov_object_register_charge(store_txn_t *txn, uint64_t org, int kind, const char *ref,
				uint64_t charge_id, int64_t now_ms);
/* The stored object: 0, -ENOENT or a store error; caller frees. */
int prov_object_get(store_txn_t *txn, uint64_t org, int kind, const char *ref,
		    Ospay__V1__GatewayObjectRecord **out);

#endif

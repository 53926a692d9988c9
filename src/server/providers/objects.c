/*
 * Provider objects: what ospay asked a service for (a payment link, a card
 * charge, a message), keyed by organization, service and the service's (or
 * our) reference. Registering one makes its webhooks acceptable; a query's
 * answer is merged into it (jobs/webhooks.c).
 */
#include <errno.h>
#include <string.h>

#include "common/util.h"
#include "gateways/gateway.h"
#include "server/db/db.h"
#include "server/providers/objects.h"

/* org | kind | text, the key of events and provider objects. */
size_t prov_ref_key(uint64_t org, int kind, const char *text, uint8_t *k, size_t cap)
{
	size_t n = strlen(text);
	if (9 + n > cap)
		n = cap - 9;
	be64_put(k, org);
	k[8] = (uint8_t)kind;
	memcpy(k + 9, text, n);
	return 9 + n;
}

/* A provider object not seen before: PENDING, amount unknown (-1), charge_id 0 if none yet. */
static int object_put_new(store_txn_t *txn, const uint8_t *k, size_t klen, uint64_t org, int kind,
			  const char *ref, uint64_t charge_id, int64_t now_ms)
{
	Ospay__V1__GatewayObjectRecord obj = OSPAY__V1__GATEWAY_OBJECT_RECORD__INIT;
	obj.organization_id = org;
	obj.kind = kind;
	obj.ref = (char *)ref;
	obj.outcome = GW_OUTCOME_PENDING;
	obj.amount = -1;
	obj.updated_ms = now_ms;
	obj.charge_id = charge_id;
	return db_put_msg(txn, DB_GW_OBJECTS, k, klen, &obj.base, 0);
}

int prov_object_register(store_txn_t *txn, uint64_t org, int kind, const char *ref, int64_t now_ms)
{
	uint8_t k[9 + GW_ID_MAX];
	store_val_t v;
	if (ref[0] == '\0' || strlen(ref) >= GW_ID_MAX)
		return -EINVAL;
	size_t klen = prov_ref_key(org, kind, ref, k, sizeof(k));
	int rc = store_get(txn, DB_GW_OBJECTS, k, klen, &v);
	if (rc != -ENOENT)
		return rc;
	return object_put_new(txn, k, klen, org, kind, ref, 0, now_ms);
}

int prov_object_register_charge(store_txn_t *txn, uint64_t org, int kind, const char *ref,
				uint64_t charge_id, int64_t now_ms)
{
	Ospay__V1__GatewayObjectRecord *old = NULL;
	uint8_t k[9 + GW_ID_MAX];
	if (ref[0] == '\0' || strlen(ref) >= GW_ID_MAX)
		return -EINVAL;
	size_t klen = prov_ref_key(org, kind, ref, k, sizeof(k));
	int rc = db_get_msg(txn, DB_GW_OBJECTS, k, klen,
			    &ospay__v1__gateway_object_record__descriptor,
			    (ProtobufCMessage **)&old);
	if (rc == 0 && old->charge_id == 0) {
		/* Known before its charge was (a notification first): tie them now. */
		old->charge_id = charge_id;
		rc = db_put_msg(txn, DB_GW_OBJECTS, k, klen, &old->base, 0);
	} else if (rc == -ENOENT) {
		rc = object_put_new(txn, k, klen, org, kind, ref, charge_id, now_ms);
	}
	ospay__v1__gateway_object_record__free_unpacked(old, NULL);
	return rc;
}

int prov_object_get(store_txn_t *txn, uint64_t org, int kind, const char *ref,
		    Ospay__V1__GatewayObjectRecord **out)
{
	uint8_t k[9 + GW_ID_MAX];
	size_t klen = prov_ref_key(org, kind, ref, k, sizeof(k));
	return db_get_msg(txn, DB_GW_OBJECTS, k, klen,
			  &ospay__v1__gateway_object_record__descriptor, (ProtobufCMessage **)out);
}

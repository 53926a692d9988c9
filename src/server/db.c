#include "server/db.h"

#include <errno.h>
#include <stdlib.h>

#include "common/util.h"

const store_table_def_t db_tables[DB_N_TABLES] = {
	[DB_ORGS] = {"orgs", 0},
	[DB_UNITS] = {"units", 0},
	[DB_UNITS_BY_ORG] = {"units_by_org", STORE_DUPSORT},
	[DB_TOKENS] = {"tokens", 0},
	[DB_TOKENS_BY_HASH] = {"tokens_by_hash", 0},
	[DB_IDEM] = {"idempotency", 0},
	[DB_IDEM_BY_TIME] = {"idempotency_by_time", 0},
};

int db_get_msg(store_txn_t *txn, unsigned table, const void *key, size_t klen,
	       const ProtobufCMessageDescriptor *desc, ProtobufCMessage **out)
{
	store_val_t v;
	int rc = store_get(txn, table, key, klen, &v);
	if (rc != 0)
		return rc;
	*out = protobuf_c_message_unpack(desc, NULL, v.len, v.data);
	return *out != NULL ? 0 : -EBADMSG;
}

int db_put_msg(store_txn_t *txn, unsigned table, const void *key, size_t klen,
	       const ProtobufCMessage *msg, unsigned flags)
{
	uint8_t small[512];
	size_t n = protobuf_c_message_get_packed_size(msg);
	uint8_t *p = n <= sizeof(small) ? small : malloc(n);
	if (p == NULL)
		return -ENOMEM;
	protobuf_c_message_pack(msg, p);
	int rc = store_put(txn, table, key, klen, p, n, flags);
	if (p != small)
		free(p);
	return rc;
}

int db_get_by_id(store_txn_t *txn, unsigned table, uint64_t id,
		 const ProtobufCMessageDescriptor *desc, ProtobufCMessage **out)
{
	uint8_t k[8];
	be64_put(k, id);
	return db_get_msg(txn, table, k, sizeof(k), desc, out);
}

int db_put_by_id(store_txn_t *txn, unsigned table, uint64_t id, const ProtobufCMessage *msg)
{
	uint8_t k[8];
	be64_put(k, id);
	return db_put_msg(txn, table, k, sizeof(k), msg, 0);
}

int db_index_add(store_txn_t *txn, unsigned table, uint64_t key, uint64_t val)
{
	uint8_t k[8], v[8];
	be64_put(k, key);
	be64_put(v, val);
	return store_put(txn, table, k, sizeof(k), v, sizeof(v), STORE_NODUPDATA);
}

int db_unit_insert(store_txn_t *txn, Ospay__V1__Unit *unit)
{
	int rc = db_put_by_id(txn, DB_UNITS, unit->id, &unit->base);
	if (rc == 0)
		rc = db_index_add(txn, DB_UNITS_BY_ORG, unit->organization_id, unit->id);
	return rc;
}

int db_token_insert(store_txn_t *txn, Ospay__V1__TokenRecord *rec)
{
	uint8_t v[8];
	int rc = db_put_by_id(txn, DB_TOKENS, rec->token->id, &rec->base);
	if (rc != 0)
		return rc;
	be64_put(v, rec->token->id);
	return store_put(txn, DB_TOKENS_BY_HASH, rec->secret_hash.data, rec->secret_hash.len, v,
			 sizeof(v), STORE_NOOVERWRITE);
}

int db_token_by_hash(store_txn_t *txn, const uint8_t hash[32], Ospay__V1__TokenRecord **out)
{
	store_val_t v;
	int rc = store_get(txn, DB_TOKENS_BY_HASH, hash, 32, &v);
	if (rc != 0)
		return rc;
	if (v.len != 8)
		return -EBADMSG;
	return db_get_by_id(txn, DB_TOKENS, be64_get(v.data), &ospay__v1__token_record__descriptor,
			    (ProtobufCMessage **)out);
}

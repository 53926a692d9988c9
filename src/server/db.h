/*
 * The schema: which tables exist, how their keys are laid out, and typed
 * helpers that keep a record and its secondary indexes in the same
 * transaction. Records are protobuf messages from proto/ospay/v1.
 *
 * Keys are big-endian so LMDB's byte order is numeric order.
 */
#ifndef OSPAY_SERVER_DB_H
#define OSPAY_SERVER_DB_H

#include <protobuf-c/protobuf-c.h>

#include "ospay/v1/common.pb-c.h"
#include "ospay/v1/records.pb-c.h"
#include "store/store.h"

enum db_table {
	DB_ORGS,           /* org id -> Organization */
	DB_UNITS,          /* unit id -> Unit */
	DB_UNITS_BY_ORG,   /* org id -> unit id (dup) */
	DB_TOKENS,         /* token id -> TokenRecord */
	DB_TOKENS_BY_HASH, /* HMAC of the secret -> token id */
	DB_IDEM,           /* token id | key -> IdempotencyRecord */
	DB_IDEM_BY_TIME,   /* created ms | token id | key -> "" */
	DB_N_TABLES,
};

extern const store_table_def_t db_tables[DB_N_TABLES];

/* Longest idempotency key accepted. */
#define DB_IDEM_KEY_MAX 128

/* Reads table[key] and unpacks it with desc. 0, -ENOENT, -EBADMSG (corrupt), -ENOMEM. */
int db_get_msg(store_txn_t *txn, unsigned table, const void *key, size_t klen,
	       const ProtobufCMessageDescriptor *desc, ProtobufCMessage **out);
/* Packs msg and stores it at table[key] (flags as store_put). */
int db_put_msg(store_txn_t *txn, unsigned table, const void *key, size_t klen,
	       const ProtobufCMessage *msg, unsigned flags);
/* Record keyed by a 64-bit id. */
int db_get_by_id(store_txn_t *txn, unsigned table, uint64_t id,
		 const ProtobufCMessageDescriptor *desc, ProtobufCMessage **out);
int db_put_by_id(store_txn_t *txn, unsigned table, uint64_t id, const ProtobufCMessage *msg);
/* Adds (or removes) index entry id-key -> 64-bit value in a DUPSORT table. */
int db_index_add(store_txn_t *txn, unsigned table, uint64_t key, uint64_t val);

/* Units and tokens: record + indexes in one call. */
int db_unit_insert(store_txn_t *txn, Ospay__V1__Unit *unit);
int db_token_insert(store_txn_t *txn, Ospay__V1__TokenRecord *rec);
/* Looks up a token by the HMAC of its secret; -ENOENT when unknown. */
int db_token_by_hash(store_txn_t *txn, const uint8_t hash[32], Ospay__V1__TokenRecord **out);

#endif

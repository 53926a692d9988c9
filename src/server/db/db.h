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

#include "ospay/v1/admin.pb-c.h"
#include "ospay/v1/agendas.pb-c.h"
#include "ospay/v1/billing.pb-c.h"
#include "ospay/v1/common.pb-c.h"
#include "ospay/v1/customers.pb-c.h"
#include "ospay/v1/orders.pb-c.h"
#include "ospay/v1/records.pb-c.h"
#include "core/vault.h"
#include "store/store.h"

enum db_table {
	DB_ORGS,                /* org id -> Organization */
	DB_UNITS,               /* unit id -> Unit */
	DB_UNITS_BY_ORG,        /* org id -> unit id (dup) */
	DB_TOKENS,              /* token id -> TokenRecord */
	DB_TOKENS_BY_HASH,      /* HMAC of the secret -> token id */
	DB_IDEM,                /* token id | key -> IdempotencyRecord */
	DB_IDEM_BY_TIME,        /* created ms | token id | key -> "" */
	DB_CUSTOMERS,           /* customer id -> Customer */
	DB_CUSTOMERS_BY_UNIT,   /* unit id -> customer id (dup) */
	DB_CUSTOMERS_BY_DOC,    /* unit id | document digits -> customer id (unique per unit) */
	DB_SERVICES,            /* service id -> CustomerService */
	DB_SERVICES_BY_CUST,    /* customer id -> service id (dup) */
	DB_TECHNICIANS,         /* technician id -> Technician */
	DB_TECHNICIANS_BY_UNIT, /* unit id -> technician id (dup) */
	DB_AGENDAS,             /* agenda id -> Agenda */
	DB_AGENDAS_BY_UNIT,     /* unit id -> agenda id (dup) */
	DB_ORDERS,              /* order id -> Order */
	/*
	 * Order indexes (dup). Every value is a 16-byte position: a sort key then
	 * the order id, both big-endian. In the ORD_C tables the sort key is
	 * created_ms (lists in creation order, created ranges); in the ORD_S
	 * tables it is scheduled_start_ms, and only scheduled orders are in them
	 * (scheduled ranges, agenda capacity, technician overlap, the calendar).
	 * Canceled orders stay in every index: lists and the calendar show them.
	 */
	DB_ORD_C_UNIT,      /* unit id -> created | order id */
	DB_ORD_C_STATUS,    /* unit id | status (1 byte) -> created | order id */
	DB_ORD_C_PAY,       /* unit id | payment status (1 byte) -> created | order id */
	DB_ORD_C_AGENDA,    /* agenda id -> created | order id */
	DB_ORD_C_TECH,      /* technician id -> created | order id */
	DB_ORD_C_CUSTOMER,  /* customer id -> created | order id */
	DB_ORD_S_UNIT,      /* unit id -> start | order id */
	DB_ORD_S_AGENDA,    /* agenda id -> start | order id */
	DB_ORD_S_TECH,      /* technician id -> start | order id */
	DB_GATEWAYS,        /* org id | service kind (1 byte) -> GatewayRecord */
	DB_WEBHOOK_EVENTS,  /* org id | kind | provider event id -> WebhookEventRecord */
	DB_WEBHOOK_INBOX,   /* received ms | org id | kind | event id -> "" (awaiting re-query) */
	DB_GW_OBJECTS,      /* org id | kind | provider reference -> GatewayObjectRecord */
	DB_PAYMENT_METHODS, /* payment method id -> PaymentMethod */
	DB_PAYMENT_METHODS_BY_ORG, /* org id -> payment method id (dup) */
	DB_CARDS,                  /* card id -> CardRecord */
	DB_CARDS_BY_CUST,          /* customer id -> card id (dup) */
	/*
	 * Invoices and their indexes (dup). Values are 16-byte positions: the due
	 * date's day number then the invoice id, so lists come by due date and a
	 * due range is one seek. Canceled invoices stay in every index.
	 */
	DB_INVOICES,     /* invoice id -> Invoice */
	DB_INV_UNIT,     /* unit id -> due day | invoice id */
	DB_INV_STATUS,   /* unit id | status (1 byte) -> due day | invoice id */
	DB_INV_CUSTOMER, /* customer id -> due day | invoice id */
	/*
	 * Billing run and charge attempts. DB_INV_OPEN holds OPEN invoices only,
	 * so the run seeks straight to an organization's due window.
	 */
	DB_INV_OPEN,       /* org id -> due day | invoice id (dup, OPEN only) */
	DB_CHARGES,        /* charge id -> Charge */
	DB_CHG_TIME,       /* unit id -> created ms | charge id (dup) */
	DB_CHG_INVOICE,    /* invoice id -> charge id (dup) */
	DB_CHG_UNRESOLVED, /* charge id -> "" (PENDING, UNKNOWN, OPERATOR_REVIEW, VOIDING) */
	DB_CHG_CARD,       /* card id -> created ms | charge id (dup; the brand retry window) */
	DB_SUSPENSION,     /* org id -> SuspensionProfile */
	/*
	 * The notifications outbox (server/outbox.c). DB_OUTBOX_DUE holds every
	 * message the sender still has to act on, by when: QUEUED ones at their
	 * next try, SENDING ones at 0 (the head), SENT ones at their next status
	 * query.
	 */
	DB_OUTBOX,          /* message id -> OutboxMessageRecord */
	DB_OUTBOX_DUE,      /* when ms | message id -> "" */
	DB_OUTBOX_OBJ,      /* object kind | object id | message kind | event id -> message id */
	DB_OUTBOX_PROVIDER, /* org id | provider message id -> message id */
	/*
	 * Installments of orders (dup), kept by db_order_put. Values are 16-byte
	 * positions (db_inst_pos_put): due day, order id, number, so a due range
	 * is one seek. DB_INST_RECON holds only what reconciliation looks at:
	 * INTEGRATED installments still WAITING of a link that is PENDING or PAID.
	 */
	DB_INST_UNIT,      /* unit id -> due day | order id | number */
	DB_INST_STATUS,    /* unit id | status (1 byte) -> due day | order id | number */
	DB_INST_RECON,     /* org id -> due day | order id | number */
	DB_VAULT_KEYS,     /* vault key id (4 bytes) -> created ms (8) | done (1); last: current */
	DB_FIELD_SETTINGS, /* org id -> FieldSettingsRecord (closures, holidays, closing reasons) */
	/* Attempts at a card as its network counts them, every card with that
	 * number (db_card_attempt_put): org id | fingerprint | at ms | seq ->
	 * CardAttemptRecord. */
	DB_CARD_ATTEMPTS,
	/* Pix Automático authorizations (jobs/pix_auth.c): the service holding a rec,
	 * and the service whose first payment (journeys 3, 4) has a txid. */
	DB_SVC_REC,  /* org id | idRec -> service id */
	DB_SVC_TXID, /* org id | txid -> service id */
	/* Pix Automático charges by their cycle's txid: every attempt of a cobr, in
	 * attempt order (charge ids grow with attempts); kept by db_charge_put. */
	DB_CHG_TXID, /* org id | txid -> charge id (dup) */
	DB_N_TABLES,
};

/* Length of an order index value (sort key | order id). */
#define DB_POS_LEN 16

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

/*
 * A new card (c->id set): its CardRecord with token sealed under key (vault
 * kind "card", the organization, the customer and the card id in the AAD),
 * its number's fingerprint (fp_len bytes; none when 0) and its customer
 * index. 0, -EPROTO when sealing failed, or a store error.
 */
int db_card_insert(store_txn_t *txn, const Ospay__V1__Card *c, const vault_key_t *key,
		   const char *token, const uint8_t *fp, size_t fp_len);

/*
 * Appends an attempt (rec->at_ms set) to the log of the card with fingerprint
 * fp (CARD_FP_LEN bytes) in org. 0 or a store error.
 */
int db_card_attempt_put(store_txn_t *txn, uint64_t org, const uint8_t *fp,
			const Ospay__V1__CardAttemptRecord *rec);
/*
 * Calls fn for each attempt of fp in org with from_ms <= at_ms <= to_ms, in
 * time order; fn's rec is freed after it returns. Stops at fn's first
 * non-zero answer and returns it; else 0 or a store error.
 */
typedef int (*db_card_attempt_fn)(const Ospay__V1__CardAttemptRecord *rec, void *arg);
int db_card_attempts_each(store_txn_t *txn, uint64_t org, const uint8_t *fp, int64_t from_ms,
			  int64_t to_ms, db_card_attempt_fn fn, void *arg);

/* Units and tokens: record + indexes in one call. */
int db_unit_insert(store_txn_t *txn, Ospay__V1__Unit *unit);
int db_token_insert(store_txn_t *txn, Ospay__V1__TokenRecord *rec);
/* Looks up a token by the HMAC of its secret; -ENOENT when unknown. */
int db_token_by_hash(store_txn_t *txn, const uint8_t hash[32], Ospay__V1__TokenRecord **out);

/* Removes index entry key -> val of a DUPSORT table keyed by 64-bit ids. */
int db_index_del(store_txn_t *txn, unsigned table, uint64_t key, uint64_t val);

/*
 * Customers: the record, its unit index and its document index. old is the
 * stored version being replaced (NULL for a new customer). -EEXIST when the
 * document is taken in the unit (*holder, may be NULL, gets the customer id).
 */
int db_customer_put(store_txn_t *txn, const Ospay__V1__Customer *old, const Ospay__V1__Customer *c,
		    uint64_t *holder);
/* The customer of a unit with that document (digits); -ENOENT when none. */
int db_customer_by_doc(store_txn_t *txn, uint64_t unit_id, const char *doc, uint64_t *id);

/* Services, technicians, agendas: record + the index of their owner. */
int db_service_insert(store_txn_t *txn, const Ospay__V1__CustomerService *svc);
int db_technician_insert(store_txn_t *txn, const Ospay__V1__Technician *t);
int db_agenda_insert(store_txn_t *txn, const Ospay__V1__Agenda *a);
int db_agenda_delete(store_txn_t *txn, const Ospay__V1__Agenda *a);

/*
 * Stores an order and brings every order index in line with it, in txn: old
 * is the stored version being replaced (NULL for a new order); only the index
 * entries that differ are deleted and added.
 */
int db_order_put(store_txn_t *txn, const Ospay__V1__Order *old, const Ospay__V1__Order *o);
/*
 * Appends to o's history its change to status `to` at at_ms by token by (0: none)
 * and sets the status. *hist gets the new array (malloc'd: the caller frees it, not
 * its entries, which belong to the stored order and to *entry). 0 or -ENOMEM.
 */
int db_order_history_append(Ospay__V1__Order *o, Ospay__V1__OrderStatusChange *entry, int to,
			    int64_t at_ms, uint64_t by, const char *note,
			    Ospay__V1__OrderStatusChange ***hist);

/*
 * Stores an invoice and brings its indexes in line with it: old is the stored
 * version being replaced (NULL for a new invoice). Unit, customer and due
 * date never change; only the status index moves.
 */
int db_invoice_put(store_txn_t *txn, const Ospay__V1__Invoice *old, const Ospay__V1__Invoice *inv,
		   int64_t due_day);

/*
 * Stores a charge attempt and its indexes: old is the stored version (NULL for
 * a new one). The unresolved index follows the status (PENDING, UNKNOWN,
 * OPERATOR_REVIEW, VOIDING).
 */
int db_charge_put(store_txn_t *txn, const Ospay__V1__Charge *old, const Ospay__V1__Charge *c);
/* DB_CHG_TXID's key for (org, txid): its length, 0 when txid is empty or too long. */
#define DB_TXID_KEY_MAX (8 + 35)
size_t db_chg_txid_key(uint64_t org, const char *txid, uint8_t out[DB_TXID_KEY_MAX]);

/* An installment position: due day (4 bytes, order-preserving), order id, number. */
void db_inst_pos_put(uint8_t out[DB_POS_LEN], int64_t due_day, uint64_t order_id, uint32_t number);
int64_t db_inst_pos_day(const uint8_t *pos);
uint64_t db_inst_pos_order(const uint8_t *pos);
uint32_t db_inst_pos_number(const uint8_t *pos);

/* An index position: sort key (signed ms) and order id. */
void db_pos_put(uint8_t out[DB_POS_LEN], int64_t sort, uint64_t id);
int64_t db_pos_sort(const uint8_t *pos);
uint64_t db_pos_id(const uint8_t *pos);

/*
 * A merged walk over several keys of one DUPSORT table whose values all have
 * length vlen: every value of every key, in ascending byte order (ties come
 * once), starting at the first value >= from. Keys are nkeys contiguous
 * klen-byte strings (copied). Reads cost one store read per value returned
 * plus one per key at open.
 */
typedef struct db_scan db_scan_t;
int db_scan_open(store_txn_t *txn, unsigned table, const uint8_t *keys, size_t klen, size_t nkeys,
		 const uint8_t *from, size_t vlen, db_scan_t **out);
/* db_scan_open of one 8-byte key, id big-endian, over its 8-byte values from the first. */
int db_scan_id(store_txn_t *txn, unsigned table, uint64_t id, db_scan_t **out);
/* Next value (valid until the next call or close); -ENOENT at the end. */
int db_scan_next(db_scan_t *s, const uint8_t **val);
void db_scan_close(db_scan_t *s);
/* Every 8-byte value (an id) of the nkeys keys of a DUPSORT "id -> id" index,
 * ascending, each once (free *out; NULL when *n is 0). 0 or a store error. */
int db_index_ids(store_txn_t *txn, unsigned table, const uint64_t *keys, size_t nkeys,
		 uint64_t **out, size_t *n);

#endif

/*
 * Helpers shared by the handlers of customers, technicians, agendas and
 * orders: permissions on stored records, the units a list covers, paging,
 * update masks and field validation that adds violations to r->st.
 */
#ifndef OSPAY_SERVER_RPC_KIT_H
#define OSPAY_SERVER_RPC_KIT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/agenda.h"
#include "ospay/v1/agendas.pb-c.h"
#include "server/db/db.h"
#include "server/rpc/srv.h"

#define KIT_PAGE_DEFAULT 100
#define KIT_PAGE_MAX 1000
#define KIT_NAME_MAX 100
#define KIT_TEXT_MAX 2000
/* Raw page-token bytes at most (encoded: 4/3 of that). */
#define KIT_TOKEN_RAW_MAX 48
#define KIT_TOKEN_MAX 72

/* Page tokens say which list they belong to. */
enum h_token_kind {
	KIT_TOK_CUSTOMERS = 1,
	KIT_TOK_SERVICES = 2,
	KIT_TOK_TECHNICIANS = 3,
	KIT_TOK_AGENDAS = 4,
	KIT_TOK_ORDERS = 5,
	KIT_TOK_UNITS = 6,
	KIT_TOK_PAYMENT_METHODS = 7,
	KIT_TOK_INVOICES = 8,
	KIT_TOK_CHARGES = 9,
	KIT_TOK_INSTALLMENTS = 10,
};

/*
 * Helpers that may refuse the call keep the handler contract (rpc/srv.h):
 * 0 or a negative errno, the refusal in r->st.
 */

/*
 * perm_check on a stored record of (org_id, unit_id): NOT_FOUND when the
 * caller cannot see it (another organization or unit), PERMISSION_DENIED when
 * its role may not do action. True to go on, else r->st is set.
 */
bool kit_check_record(srv_req_t *r, enum perm_action action, uint64_t org_id, uint64_t unit_id);
/* True when the caller sees records of (org_id, unit_id). */
bool kit_sees(const srv_req_t *r, uint64_t org_id, uint64_t unit_id);

/* A kind of record kit_get loads, and how a caller is told it is not there. */
typedef struct kit_rec {
	unsigned table;
	const ProtobufCMessageDescriptor *desc;
	const char *lookup; /* a store error's name in the log: "agenda lookup" */
	/* NOT_FOUND's message: nf_before, the id, nf_after ("no agenda 7"). */
	const char *nf_before, *nf_after;
	/* The owner, when not the record's own organization_id and unit_id (cards). */
	void (*owner)(const ProtobufCMessage *m, uint64_t *org, uint64_t *unit);
} kit_rec_t;

/* The kinds the services load, NOT_FOUND "no customer 7". */
extern const kit_rec_t kit_agendas, kit_customers, kit_orders, kit_services, kit_technicians;
/* The billing side's (docs/spec.md 4.7), NOT_FOUND "invoice 7 not found". */
extern const kit_rec_t kit_bill_cards, kit_bill_charges, kit_bill_customers, kit_bill_invoices;

/*
 * Loads record id of kind k into *out for a caller that may do action on it.
 * Refusals in r->st: a violation "required" on field (unless NULL) for id 0;
 * NOT_FOUND with k's message when the record is missing or not the caller's
 * to see (kit_check_record: a unit-scoped token does not see other units');
 * PERMISSION_DENIED when its role may not do action; a store error
 * (srv_store_fail). *out is set only when the call goes on, and belongs to
 * the request (srv_keep: freed when the call ends; do not free it).
 * 0 or a negative errno.
 */
int kit_get(srv_req_t *r, store_txn_t *txn, const kit_rec_t *k, const char *field, uint64_t id,
	    enum perm_action action, void *out);
/* kit_get for a record the caller only has to see (kit_sees: no role check). */
int kit_get_seen(srv_req_t *r, store_txn_t *txn, const kit_rec_t *k, uint64_t id, void *out);
/*
 * A whole Get method: kit_get, then the reply of type resp whose field 1 is
 * the record (message GetResponse { Record record = 1; }).
 */
int kit_reply_get(srv_req_t *r, store_txn_t *txn, const kit_rec_t *k, const char *field,
		  uint64_t id, enum perm_action action, const ProtobufCMessageDescriptor *resp);
/* Answers a resp whose field 1 is m (borrowed): {order: o} and the like. */
int kit_reply_one(srv_req_t *r, const ProtobufCMessageDescriptor *resp, const ProtobufCMessage *m);

/*
 * The unit a create names: unit_id, or the token's only unit when 0. Checks
 * the caller may do action there and that the unit exists in its
 * organization: *unit set, or r->st filled (a violation on field when unit_id
 * is missing or names no unit, INVALID_ARGUMENT). 0 or a negative errno.
 */
int kit_unit_for_create(srv_req_t *r, store_txn_t *txn, const char *field, uint64_t unit_id,
			enum perm_action action, uint64_t *unit);

/*
 * The units a list covers, ascending: the filter's unit when the caller sees
 * it (else none), else the token's units, else every unit of the
 * organization. *units is malloc'd (free it; may be NULL when *n is 0).
 * Returns 0 or a negative errno.
 */
int kit_scope_units(srv_req_t *r, store_txn_t *txn, uint64_t unit_filter, uint64_t **units,
		    size_t *n);
/*
 * Opens a scan (db_scan_open) of the per-unit index table over the units of
 * kit_scope_units(unit_filter): one key a unit, its id followed by the byte tag
 * when tag >= 0, each walked from `from` (DB_POS_LEN bytes). *scan stays NULL
 * when no unit is in scope. 0 or a negative errno.
 */
int kit_scan_units(srv_req_t *r, store_txn_t *txn, uint64_t unit_filter, unsigned table, int tag,
		   const uint8_t *from, db_scan_t **scan);

/* page_size 0 means 100; more than 1000 is served as 1000. */
size_t kit_page_limit(uint32_t page_size);

/* Page tokens: opaque base64url of a version byte, a kind byte and raw bytes. */
void kit_token_encode(uint8_t kind, const uint8_t *raw, size_t n, char out[KIT_TOKEN_MAX]);
/* Decodes a token of that kind carrying exactly n bytes. */
bool kit_token_decode(const char *tok, uint8_t kind, uint8_t *raw, size_t n);

/*
 * Lists records through an index "owner id -> record id" (DUPSORT, 8-byte
 * values) for the owners in ids: one page, record ids ascending over all of
 * them, continuing after the page token. items gets up to
 * kit_page_limit(page_size) unpacked records (free each with
 * protobuf_c_message_free_unpacked, then the array, which may be NULL). Fills next
 * (empty on the last page). A bad token is refused in r->st, a store error
 * described there too (srv_store_fail). 0 or a negative errno.
 */
int kit_list_by_keys(srv_req_t *r, store_txn_t *txn, unsigned index, const uint64_t *ids,
		     size_t nkeys, unsigned table, const ProtobufCMessageDescriptor *desc,
		     uint8_t token_kind, uint32_t page_size, const char *page_token,
		     ProtobufCMessage ***items, size_t *n, char next[KIT_TOKEN_MAX]);

/*
 * Lists records through a "unit id -> record id" index: one page of the units
 * in scope, ids ascending, continuing after the page token. items gets up to
 * kit_page_limit(page_size) unpacked records (free each with
 * protobuf_c_message_free_unpacked, then the array). Fills next (may be empty).
 * Refusals in r->st, like kit_list_by_keys. 0 or a negative errno.
 */
int kit_list_by_unit(srv_req_t *r, store_txn_t *txn, unsigned index, unsigned table,
		     const ProtobufCMessageDescriptor *desc, uint8_t token_kind,
		     uint64_t unit_filter, uint32_t page_size, const char *page_token,
		     ProtobufCMessage ***items, size_t *n, char next[KIT_TOKEN_MAX]);

/*
 * A whole list reply: resp is message XListResponse { repeated X xs = 1;
 * string next_page_token = 2; }, packed with items (still the caller's to
 * free, kit_items_free) and next. 0 or a negative errno.
 */
int kit_reply_list(srv_req_t *r, const ProtobufCMessageDescriptor *resp, ProtobufCMessage **items,
		   size_t n, const char *next);
/*
 * A whole List method over a "unit id -> record id" index of k's records:
 * kit_list_by_unit, then kit_reply_list with resp. 0 or a negative errno.
 */
int kit_reply_list_by_unit(srv_req_t *r, store_txn_t *txn, const kit_rec_t *k, unsigned index,
			   uint8_t token_kind, uint64_t unit_filter, uint32_t page_size,
			   const char *page_token, const ProtobufCMessageDescriptor *resp);
/* Frees a list's items and the array. */
void kit_items_free(ProtobufCMessage **items, size_t n);

/*
 * Update masks (AIP-134). paths are the names a request may use, at most 32;
 * the result has bit i set for paths[i]. An unknown path adds a violation on
 * "update_mask" and sets *bad.
 */
uint32_t kit_mask_parse(srv_req_t *r, char **mask, size_t n_mask, const char *const *paths,
			size_t n_paths, bool *bad);

/* A required name: trimmed non-empty, at most max bytes, UTF-8, no control characters. */
bool kit_check_name(srv_req_t *r, const char *field, const char *s, size_t max);
/* Optional free text: at most max bytes, UTF-8, no control characters but tab and newline. */
bool kit_check_text(srv_req_t *r, const char *field, const char *s, size_t max);

/* The organization's UTC offset in minutes. 0 or a negative errno. */
int kit_org_offset(srv_req_t *r, store_txn_t *txn, int *offset_min);

/*
 * The core rules of a stored agenda: windows are copied into buf (at least
 * AGENDA_MAX_WINDOWS entries; extra stored windows are ignored).
 */
void kit_agenda_rules(const Ospay__V1__Agenda *a, int offset_min, agenda_window_t *buf,
		      agenda_rules_t *out);

/* The organization_id and unit_id fields of a record (0 when it has none). */
void kit_owner(const ProtobufCMessage *m, uint64_t *org, uint64_t *unit);

/* Loads table[id] into *out; -ENOENT when missing. */
int kit_load(store_txn_t *txn, unsigned table, uint64_t id, const ProtobufCMessageDescriptor *desc,
	     void *out);
/* kit_load for a handler: *out belongs to the request (srv_keep: do not free it). */
int kit_read(srv_req_t *r, store_txn_t *txn, unsigned table, uint64_t id,
	     const ProtobufCMessageDescriptor *desc, void *out);

/*
 * The id of a record the request creates: the next of store sequence seq. A store
 * error is srv_store_fail's ("<seq> id", underscores as spaces, in the log); a
 * request already refused (its fields checked before) gets no id and 0. Go on
 * only when this returns 0 and srv_ok(r).
 */
int kit_new_id(srv_req_t *r, store_txn_t *txn, const char *seq, uint64_t *id);

#endif

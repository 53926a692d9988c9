/*
 * Orders/Get from the stored bytes (docs/spec.md 8: records kept in their wire
 * form are not encoded again on reads). A stored Order is exactly what packing
 * it would give, and OrdersGetResponse is { Order order = 1; repeated
 * Notification notifications = 2; }, so the reply is the record behind its
 * field's tag and length: no unpack, no pack.
 *
 * Its own return convention, not a status: the scan says whether the bytes
 * can be served (DB_ORDER_WIRE_READY) or the caller must unpack the record
 * (DB_ORDER_WIRE_UNPACK); building the reply fails only with an errno.
 */
#ifndef OSPAY_SERVER_DB_ORDER_WIRE_H
#define OSPAY_SERVER_DB_ORDER_WIRE_H

#include <stddef.h>
#include <stdint.h>

#include "common/buf.h"
#include "ospay/v1/notifications.pb-c.h"
#include "store/store.h"

enum db_order_wire {
	DB_ORDER_WIRE_READY,  /* *rec holds the stored bytes, *org and *unit its owner */
	DB_ORDER_WIRE_UNPACK, /* missing, unreadable or not well-formed: unpack it instead */
};

/*
 * Order id's stored bytes and its owner fields (organization_id = 2,
 * unit_id = 3), read without unpacking. READY only when the whole record
 * scans as well-formed protobuf: otherwise the unpacking path reports the
 * damage (or that the order does not exist). *rec lives as long as txn.
 */
enum db_order_wire db_order_wire_scan(store_txn_t *txn, uint64_t id, store_val_t *rec,
				      uint64_t *org, uint64_t *unit);

/*
 * out = an OrdersGetResponse of the scanned record and its notifications, the
 * bytes packing the unpacked response would give. 0 or -ENOMEM.
 */
int db_order_wire_reply(buf_t *out, const store_val_t *rec, Ospay__V1__Notification *const *notes,
			size_t n_notes);

#endif

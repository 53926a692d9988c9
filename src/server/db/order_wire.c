/* Orders/Get from the stored bytes (order_wire.h; docs/spec.md 8). */
#include "server/db/order_wire.h"

#include <errno.h>
#include <stdlib.h>

#include "common/util.h"
#include "server/db/db.h"

/* One base-128 varint at p[*i], at most 10 bytes and within n. */
static inline bool get_varint(const uint8_t *p, size_t n, size_t *i, uint64_t *v)
{
	if (*i < n && p[*i] < 0x80) { /* most tags and small numbers: one byte */
		*v = p[(*i)++];
		return true;
	}
	*v = 0;
	for (unsigned shift = 0; shift < 70 && *i < n; shift += 7) {
		uint8_t b = p[(*i)++];
		*v |= (uint64_t)(b & 0x7f) << shift;
		if (!(b & 0x80))
			return true;
	}
	return false;
}

/* The owner fields of an Order's wire form; false unless it all scans well-formed. */
static bool owner_scan(const uint8_t *p, size_t n, uint64_t *org, uint64_t *unit)
{
	size_t i = 0;
	*org = *unit = 0;
	while (i < n) {
		uint64_t key, v;
		if (!get_varint(p, n, &i, &key) || key >> 3 == 0)
			return false;
		switch (key & 7) {
		case 0:
			if (!get_varint(p, n, &i, &v))
				return false;
			if (key >> 3 == 2)
				*org = v;
			else if (key >> 3 == 3)
				*unit = v;
			break;
		case 1:
			if (n - i < 8)
				return false;
			i += 8;
			break;
		case 2:
			if (!get_varint(p, n, &i, &v) || v > n - i)
				return false;
			i += (size_t)v;
			break;
		case 5:
			if (n - i < 4)
				return false;
			i += 4;
			break;
		default:
			return false;
		}
	}
	return true;
}

enum db_order_wire db_order_wire_scan(store_txn_t *txn, uint64_t id, store_val_t *rec,
				      uint64_t *org, uint64_t *unit)
{
	uint8_t k[8];
	be64_put(k, id);
	if (store_get(txn, DB_ORDERS, k, sizeof(k), rec) != 0 ||
	    !owner_scan(rec->data, rec->len, org, unit))
		return DB_ORDER_WIRE_UNPACK;
	return DB_ORDER_WIRE_READY;
}

/* Appends a length-delimited field (tag byte, varint length, bytes) to b. */
static int wire_append(buf_t *b, uint8_t tag, const void *p, size_t len)
{
	uint8_t hdr[11];
	size_t h = 0;
	hdr[h++] = tag;
	for (uint64_t n = len; h < sizeof(hdr); n >>= 7) {
		hdr[h++] = (uint8_t)(n & 0x7f) | (n >= 0x80 ? 0x80 : 0);
		if (n < 0x80)
			break;
	}
	int rc = buf_append(b, hdr, h, SIZE_MAX / 2);
	return rc != 0 ? rc : buf_append(b, p, len, SIZE_MAX / 2);
}

int db_order_wire_reply(buf_t *out, const store_val_t *rec, Ospay__V1__Notification *const *notes,
			size_t n_notes)
{
	out->len = 0;
	int rc = wire_append(out, 0x0a /* field 1, length-delimited */, rec->data, rec->len);
	/* Field 2, the order's notifications, after it: what pack would write. */
	for (size_t i = 0; rc == 0 && i < n_notes; i++) {
		size_t len = protobuf_c_message_get_packed_size(&notes[i]->base);
		uint8_t *p = malloc(len > 0 ? len : 1);
		if (p == NULL) {
			rc = -ENOMEM;
			break;
		}
		protobuf_c_message_pack(&notes[i]->base, p);
		rc = wire_append(out, 0x12, p, len);
		free(p);
	}
	return rc;
}

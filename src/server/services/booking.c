/* Booking rules over the store (booking.h): one implementation for Orders and Availability. */
#include "server/services/booking.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "common/util.h"
#include "core/date.h"
#include "core/holidays.h"
#include "core/order.h"
#include "server/db/db.h"
#include "server/rpc/kit.h"

int booking_each_order(store_txn_t *txn, unsigned index, uint64_t key_id, int64_t from_ms,
		       int64_t to_ms, uint64_t self, booking_order_fn fn, void *arg)
{
	db_scan_t *scan = NULL;
	uint8_t key[8], from[DB_POS_LEN];
	const uint8_t *pos;
	int verdict = BOOKING_NEXT;
	be64_put(key, key_id);
	db_pos_put(from, from_ms, 0);
	int rc = db_scan_open(txn, index, key, 8, 1, from, DB_POS_LEN, &scan);
	while (rc == 0 && verdict == BOOKING_NEXT) {
		rc = db_scan_next(scan, &pos);
		if (rc != 0 || db_pos_sort(pos) >= to_ms)
			break;
		if (db_pos_id(pos) == self)
			continue;
		Ospay__V1__Order *o = NULL;
		rc = kit_load(txn, DB_ORDERS, db_pos_id(pos), &ospay__v1__order__descriptor, &o);
		if (rc == -ENOENT)
			rc = -EBADMSG; /* an index entry without its order: damage */
		if (rc != 0)
			break;
		verdict = fn(o, db_pos_sort(pos), arg);
		if (verdict != BOOKING_TAKE)
			ospay__v1__order__free_unpacked(o, NULL);
	}
	if (rc == -ENOENT)
		rc = 0;
	db_scan_close(scan);
	return rc;
}

/* What booking_room counts. */
typedef struct room_count {
	const agenda_place_t *p;
	uint32_t in_window, in_day;
} room_count_t;

static int room_count(Ospay__V1__Order *o, int64_t start, void *arg)
{
	room_count_t *c = arg;
	if (order_holds_time(o->status)) {
		c->in_day++;
		if (start >= c->p->window_from_ms && start < c->p->window_to_ms)
			c->in_window++;
	}
	return BOOKING_NEXT;
}

int booking_room(store_txn_t *txn, uint64_t agenda_id, const agenda_rules_t *rules,
		 const agenda_place_t *p, bool whole_day, uint64_t self, uint32_t *in_window,
		 uint32_t *in_day, agenda_room_t *room)
{
	room_count_t c = {.p = p};
	int rc = booking_each_order(
		txn, DB_ORD_S_AGENDA, agenda_id, whole_day ? p->day_from_ms : p->window_from_ms,
		whole_day ? p->day_to_ms : p->window_to_ms, self, room_count, &c);
	*in_window = c.in_window;
	*in_day = whole_day ? c.in_day : 0;
	if (rc == 0)
		agenda_room(rules, p, *in_window, *in_day, room);
	return rc;
}

/* What booking_tech_overlap looks for. */
typedef struct overlap {
	int64_t start;
	uint32_t minutes;
	Ospay__V1__Order *conflict;
} overlap_t;

static int overlap_find(Ospay__V1__Order *o, int64_t start, void *arg)
{
	overlap_t *x = arg;
	(void)start;
	if (!order_holds_time(o->status) ||
	    !order_spans_overlap(x->start, x->minutes, o->scheduled_start_ms, o->duration_minutes))
		return BOOKING_NEXT;
	x->conflict = o;
	return BOOKING_TAKE;
}

int booking_tech_overlap(store_txn_t *txn, uint64_t tech, int64_t start, uint32_t minutes,
			 uint64_t self, Ospay__V1__Order **conflict)
{
	overlap_t x = {.start = start, .minutes = minutes};
	/* Nothing lasts longer than ORDER_MAX_DURATION_MIN: earlier starts cannot reach us. */
	int rc = booking_each_order(txn, DB_ORD_S_TECH, tech,
				    start - (int64_t)ORDER_MAX_DURATION_MIN * 60000,
				    order_end_ms(start, minutes), self, overlap_find, &x);
	*conflict = x.conflict;
	return rc;
}

int booking_settings_load(store_txn_t *txn, uint64_t org, Ospay__V1__FieldSettingsRecord **out)
{
	int rc = kit_load(txn, DB_FIELD_SETTINGS, org,
			  &ospay__v1__field_settings_record__descriptor, out);
	if (rc == -ENOENT) {
		/* Nothing stored yet: an empty record, freed like a stored one. */
		*out = ospay__v1__field_settings_record__unpack(NULL, 0, NULL);
		rc = *out != NULL ? 0 : -ENOMEM;
	}
	return rc;
}

const char *booking_day_closed(const Ospay__V1__FieldSettingsRecord *fs, uint64_t agenda_id,
			       int64_t day, uint64_t *closure_id)
{
	*closure_id = 0;
	for (size_t i = 0; i < fs->n_closures; i++) {
		const Ospay__V1__Closure *c = fs->closures[i];
		int64_t d;
		if ((c->agenda_id == 0 || c->agenda_id == agenda_id) &&
		    date_parse(c->date, &d) == 0 && d == day) {
			*closure_id = c->id;
			return c->reason;
		}
	}
	return fs->national_holidays_closed ? holiday_br_name(day) : NULL;
}

int booking_settings_get(srv_req_t *r, store_txn_t *txn, Ospay__V1__FieldSettingsRecord **out)
{
	int rc = booking_settings_load(txn, r->sess->p.org_id, out);
	return rc != 0 ? srv_store_fail(r, rc, "field settings") : srv_keep(r, out);
}

int booking_settings_for(srv_req_t *r, store_txn_t *txn, enum perm_action action, uint64_t unit,
			 Ospay__V1__FieldSettingsRecord **out)
{
	*out = NULL;
	return srv_check(r, action, unit) ? booking_settings_get(r, txn, out) : 0;
}

/* fs's repeated message field named field, as protobuf-c lays it out: a count and an array. */
static int settings_list(srv_req_t *r, Ospay__V1__FieldSettingsRecord *fs, const char *field,
			 size_t **n, ProtobufCMessage ****arr)
{
	const ProtobufCFieldDescriptor *fd =
		protobuf_c_message_descriptor_get_field_by_name(fs->base.descriptor, field);
	if (fd == NULL || fd->label != PROTOBUF_C_LABEL_REPEATED ||
	    fd->type != PROTOBUF_C_TYPE_MESSAGE)
		return srv_store_fail(r, -EINVAL, "field settings field");
	*n = (size_t *)((char *)fs + fd->quantifier_offset);
	*arr = (ProtobufCMessage ***)((char *)fs + fd->offset);
	return 0;
}

int booking_settings_put(srv_req_t *r, store_txn_t *txn, Ospay__V1__FieldSettingsRecord *fs,
			 const char *field, ProtobufCMessage *item)
{
	ProtobufCMessage **grown = NULL, **own = NULL;
	size_t *n = NULL;
	ProtobufCMessage ***arr = NULL;
	int rc = 0;
	if (field != NULL) {
		rc = settings_list(r, fs, field, &n, &arr);
		if (rc != 0)
			goto out;
		grown = malloc((*n + 1) * sizeof(*grown));
		if (grown == NULL) {
			rc = -ENOMEM;
			goto out;
		}
		if (*n > 0)
			memcpy(grown, *arr, *n * sizeof(*grown));
		grown[*n] = item;
		/* Borrowed for the write: the record's own array goes back before it is freed. */
		own = *arr;
		*arr = grown;
		(*n)++;
	}
	fs->updated_ms = r->now_ms;
	rc = db_put_by_id(txn, DB_FIELD_SETTINGS, r->sess->p.org_id, &fs->base);
	if (field != NULL) {
		*arr = own;
		(*n)--;
	}
	if (rc != 0)
		rc = srv_store_fail(r, rc, "field settings store");
out:
	free(grown);
	return rc;
}

int booking_settings_drop(srv_req_t *r, store_txn_t *txn, Ospay__V1__FieldSettingsRecord *fs,
			  const char *field, size_t i)
{
	size_t *n = NULL;
	ProtobufCMessage ***arr = NULL;
	int rc = settings_list(r, fs, field, &n, &arr);
	if (rc != 0 || i >= *n)
		return rc != 0 ? rc : -EINVAL;
	protobuf_c_message_free_unpacked((*arr)[i], NULL);
	memmove(&(*arr)[i], &(*arr)[i + 1], (*n - i - 1) * sizeof(**arr));
	(*n)--;
	return booking_settings_put(r, txn, fs, NULL, NULL);
}

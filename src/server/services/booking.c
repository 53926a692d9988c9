/* Booking rules over the store (booking.h): one implementation for Orders and Availability. */
#include "server/services/booking.h"

#include <errno.h>

#include "common/util.h"
#include "core/date.h"
#include "core/holidays.h"
#include "core/order.h"
#include "server/db/db.h"
#include "server/rpc/kit.h"

int booking_room(store_txn_t *txn, uint64_t agenda_id, const agenda_rules_t *rules,
		 const agenda_place_t *p, bool whole_day, uint64_t self, uint32_t *in_window,
		 uint32_t *in_day, agenda_room_t *room)
{
	db_scan_t *scan = NULL;
	uint8_t key[8], from[DB_POS_LEN];
	int64_t lo = whole_day ? p->day_from_ms : p->window_from_ms;
	int64_t hi = whole_day ? p->day_to_ms : p->window_to_ms;
	const uint8_t *pos;
	*in_window = *in_day = 0;
	be64_put(key, agenda_id);
	db_pos_put(from, lo, 0);
	int rc = db_scan_open(txn, DB_ORD_S_AGENDA, key, 8, 1, from, DB_POS_LEN, &scan);
	while (rc == 0) {
		rc = db_scan_next(scan, &pos);
		if (rc != 0 || db_pos_sort(pos) >= hi)
			break;
		if (db_pos_id(pos) == self)
			continue;
		Ospay__V1__Order *o = NULL;
		rc = kit_load(txn, DB_ORDERS, db_pos_id(pos), &ospay__v1__order__descriptor, &o);
		if (rc == -ENOENT)
			rc = -EBADMSG;
		if (rc != 0)
			break;
		if (order_holds_time(o->status)) {
			int64_t s = db_pos_sort(pos);
			(*in_day)++;
			if (s >= p->window_from_ms && s < p->window_to_ms)
				(*in_window)++;
		}
		ospay__v1__order__free_unpacked(o, NULL);
	}
	if (rc == -ENOENT)
		rc = 0;
	db_scan_close(scan);
	if (!whole_day)
		*in_day = 0;
	if (rc == 0)
		agenda_room(rules, p, *in_window, *in_day, room);
	return rc;
}

int booking_tech_overlap(store_txn_t *txn, uint64_t tech, int64_t start, uint32_t minutes,
			 uint64_t self, Ospay__V1__Order **conflict)
{
	db_scan_t *scan = NULL;
	uint8_t key[8], from[DB_POS_LEN];
	int64_t end = order_end_ms(start, minutes);
	const uint8_t *pos;
	*conflict = NULL;
	be64_put(key, tech);
	/* Nothing lasts longer than ORDER_MAX_DURATION_MIN: earlier starts cannot reach us. */
	db_pos_put(from, start - (int64_t)ORDER_MAX_DURATION_MIN * 60000, 0);
	int rc = db_scan_open(txn, DB_ORD_S_TECH, key, 8, 1, from, DB_POS_LEN, &scan);
	while (rc == 0 && *conflict == NULL) {
		rc = db_scan_next(scan, &pos);
		if (rc != 0 || db_pos_sort(pos) >= end)
			break;
		if (db_pos_id(pos) == self)
			continue;
		Ospay__V1__Order *o = NULL;
		rc = kit_load(txn, DB_ORDERS, db_pos_id(pos), &ospay__v1__order__descriptor, &o);
		if (rc == -ENOENT)
			rc = -EBADMSG;
		if (rc != 0)
			break;
		if (order_holds_time(o->status) &&
		    order_spans_overlap(start, minutes, o->scheduled_start_ms, o->duration_minutes))
			*conflict = o;
		else
			ospay__v1__order__free_unpacked(o, NULL);
	}
	if (rc == -ENOENT)
		rc = 0;
	db_scan_close(scan);
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

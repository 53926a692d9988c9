/*
 * The booking rules that read the store, shared by Orders (Create, Update,
 * Reschedule) and Agendas/Availability so that both compute with the same
 * functions: the places an agenda has left at a place (window and day), a
 * technician's overlapping booking, and whether a day is closed. Services
 * only; nothing else includes it.
 */
#ifndef OSPAY_SERVER_SERVICES_BOOKING_H
#define OSPAY_SERVER_SERVICES_BOOKING_H

#include <stdbool.h>
#include <stdint.h>

#include "core/agenda.h"
#include "ospay/v1/orders.pb-c.h"
#include "ospay/v1/records.pb-c.h"
#include "store/store.h"

/*
 * Counts the bookings of an agenda that hold their place (not canceled, not
 * order self) starting in the place's window (*in_window) and, when
 * whole_day, on its day (*in_day; else 0), then what is left (agenda_room).
 * 0 or a negative errno (-EBADMSG for a damaged index).
 */
int booking_room(store_txn_t *txn, uint64_t agenda_id, const agenda_rules_t *rules,
		 const agenda_place_t *p, bool whole_day, uint64_t self, uint32_t *in_window,
		 uint32_t *in_day, agenda_room_t *room);

/*
 * The technician's booking that overlaps [start, start + minutes), other than
 * self: *conflict gets it (caller frees) or stays NULL. 0 or a negative errno.
 */
int booking_tech_overlap(store_txn_t *txn, uint64_t tech, int64_t start, uint32_t minutes,
			 uint64_t self, Ospay__V1__Order **conflict);

/*
 * The organization's field settings (closures, the national-holiday switch):
 * *out is the stored record, or an empty one when none is stored (free it
 * with ospay__v1__field_settings_record__free_unpacked). 0 or a negative errno.
 */
int booking_settings_load(store_txn_t *txn, uint64_t org, Ospay__V1__FieldSettingsRecord **out);

/*
 * Is local day closed for bookings on agenda_id (a closure of that agenda or
 * an organization-wide one, or a national holiday when the organization
 * closes them)? NULL when open, else the reason (fs's or static).
 */
const char *booking_day_closed(const Ospay__V1__FieldSettingsRecord *fs, uint64_t agenda_id,
			       int64_t day, uint64_t *closure_id);

#endif

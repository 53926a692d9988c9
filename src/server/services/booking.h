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
#include "server/rpc/srv.h"
#include "store/store.h"

/* What a booking_each_order callback answers. */
enum booking_walk {
	BOOKING_NEXT = 0, /* go on; the order is freed */
	BOOKING_STOP = 1, /* stop; the order is freed */
	BOOKING_TAKE = 2, /* stop; the callback keeps the order (and frees it) */
};
typedef int (*booking_order_fn)(Ospay__V1__Order *o, int64_t start, void *arg);

/*
 * Walks a schedule index (DB_ORD_S_AGENDA, DB_ORD_S_TECH: key_id -> start |
 * order id) from from_ms to before to_ms, loading each order but self and
 * calling fn with it and its start. 0 or a negative errno (-EBADMSG for an
 * index entry without its order).
 */
int booking_each_order(store_txn_t *txn, unsigned index, uint64_t key_id, int64_t from_ms,
		       int64_t to_ms, uint64_t self, booking_order_fn fn, void *arg);

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

/* booking_settings_load of the caller's organization, a store error in r->st; *out
 * belongs to the request (srv_keep: do not free it). */
int booking_settings_get(srv_req_t *r, store_txn_t *txn, Ospay__V1__FieldSettingsRecord **out);
/* booking_settings_get for a caller who may do action in unit (0: the whole
 * organization; *out belongs to the request, as booking_settings_get's); else
 * *out stays NULL and r->st says why (srv_check). */
int booking_settings_for(srv_req_t *r, store_txn_t *txn, enum perm_action action, uint64_t unit,
			 Ospay__V1__FieldSettingsRecord **out);

/*
 * Stores fs for the caller's organization (updated now), with item appended
 * to its repeated message field named field (NULL: as it is). item is only
 * borrowed: fs is as it was after the call. 0, or a negative errno / a store
 * error in r->st.
 */
int booking_settings_put(srv_req_t *r, store_txn_t *txn, Ospay__V1__FieldSettingsRecord *fs,
			 const char *field, ProtobufCMessage *item);
/* Removes item i of fs's repeated message field named field (freed), then stores fs. */
int booking_settings_drop(srv_req_t *r, store_txn_t *txn, Ospay__V1__FieldSettingsRecord *fs,
			  const char *field, size_t i);

#endif

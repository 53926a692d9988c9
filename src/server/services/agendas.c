/* Agendas (docs/spec.md 4.3): booking calendars with windows, capacity and cities; the
 * calendar view. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "common/log.h"
#include "common/util.h"
#include "core/agenda.h"
#include "core/date.h"
#include "core/order.h"
#include "core/text.h"
#include "server/db/db.h"
#include "server/rpc/kit.h"
#include "server/rpc/srv.h"
#include "server/services/booking.h"
#include "server/services/services.h"

#define DAILY_MAX_LIMIT 100000
#define CALENDAR_MAX_DAYS 62
#define CALENDAR_MAX_ENTRIES 10000
#define CALENDAR_MAX_GROUPS 1000
#define CALENDAR_MAX_AWAITING 100
/* Counting what a delete would strand stops here ("at least"). */
#define DELETE_COUNT_MAX 10000

/* Validates an agenda's settings, adding a violation per bad field. */
static void check_settings(srv_req_t *r, const char *name, char **cities, size_t n_cities,
			   Ospay__V1__AgendaWindow **windows, size_t n_windows, uint32_t daily_max,
			   uint32_t slot, uint32_t which)
{
	if (which & 1u)
		kit_check_name(r, "name", name, KIT_NAME_MAX);
	if (which & 2u) {
		if (n_cities > AGENDA_MAX_CITIES)
			status_violation(&r->st, "cities", "at most %d cities", AGENDA_MAX_CITIES);
		for (size_t i = 0; i < n_cities && i < AGENDA_MAX_CITIES; i++) {
			char field[32];
			snprintf(field, sizeof(field), "cities[%zu]", i);
			if (!kit_check_name(r, field, cities[i], KIT_NAME_MAX))
				continue;
			for (size_t j = 0; j < i; j++) {
				if (agenda_city_same(cities[i], NULL, cities[j], NULL)) {
					status_violation(&r->st, field,
							 "the same city as cities[%zu]", j);
					break;
				}
			}
		}
	}
	if (which & 4u) {
		agenda_window_t w[AGENDA_MAX_WINDOWS + 1];
		size_t n = n_windows <= AGENDA_MAX_WINDOWS ? n_windows : AGENDA_MAX_WINDOWS + 1;
		for (size_t i = 0; i < n; i++) {
			w[i].weekday = (int)windows[i]->weekday;
			w[i].start_min = windows[i]->start_minute;
			w[i].end_min = windows[i]->end_minute;
			w[i].capacity = windows[i]->capacity;
		}
		size_t bad;
		const char *why = n == 0 ? "at least one window: when orders may start"
					 : agenda_check_windows(w, n, &bad);
		if (why != NULL && n > 0 && bad < n_windows && n <= AGENDA_MAX_WINDOWS) {
			char field[32];
			snprintf(field, sizeof(field), "windows[%zu]", bad);
			status_violation(&r->st, field, "%s", why);
		} else if (why != NULL) {
			status_violation(&r->st, "windows", "%s", why);
		}
	}
	if ((which & 8u) && daily_max > DAILY_MAX_LIMIT)
		status_violation(&r->st, "daily_max", "at most %d (0: no daily maximum)",
				 DAILY_MAX_LIMIT);
	if (which & 16u) {
		const char *why = agenda_check_slot(slot);
		if (why != NULL)
			status_violation(&r->st, "slot_minutes", "%s", why);
	}
}

int h_agendas_create(srv_req_t *r, store_txn_t *txn)
{
	const Ospay__V1__AgendasCreateRequest *in = (const void *)r->in;
	Ospay__V1__Agenda a = OSPAY__V1__AGENDA__INIT;
	int rc = kit_unit_for_create(r, txn, "unit_id", in->unit_id, PERM_CONFIGURE, &a.unit_id);
	/* A bad unit_id is one violation among the others; not seeing it ends here. */
	if (rc != 0 || (!srv_ok(r) && r->st.code != ST_INVALID_ARGUMENT))
		return rc;
	check_settings(r, in->name, in->cities, in->n_cities, in->windows, in->n_windows,
		       in->daily_max, in->slot_minutes, 31u);
	rc = kit_new_id(r, txn, "agenda", &a.id);
	if (rc != 0 || !srv_ok(r))
		return rc;
	a.organization_id = r->sess->p.org_id;
	a.name = in->name;
	a.cities = in->cities;
	a.n_cities = in->n_cities;
	a.windows = in->windows;
	a.n_windows = in->n_windows;
	a.daily_max = in->daily_max;
	a.slot_minutes = in->slot_minutes;
	a.created_ms = a.updated_ms = r->now_ms;
	rc = db_agenda_insert(txn, &a);
	if (rc != 0)
		return srv_store_fail(r, rc, "agenda insert");
	rc = kit_reply_one(r, &ospay__v1__agendas_create_response__descriptor, &a.base);
	log_info("agenda created", "agenda_id=%llu unit=%llu by=%llu", (unsigned long long)a.id,
		 (unsigned long long)a.unit_id, (unsigned long long)r->sess->p.token_id);
	return rc;
}

int h_agendas_get(srv_req_t *r, store_txn_t *txn)
{
	const Ospay__V1__AgendasGetRequest *in = (const void *)r->in;
	return kit_reply_get(r, txn, &kit_agendas, "id", in->id, PERM_READ,
			     &ospay__v1__agendas_get_response__descriptor);
}

int h_agendas_list(srv_req_t *r, store_txn_t *txn)
{
	const Ospay__V1__AgendasListRequest *in = (const void *)r->in;
	return kit_reply_list_by_unit(r, txn, &kit_agendas, DB_AGENDAS_BY_UNIT, KIT_TOK_AGENDAS,
				      in->unit_id, in->page_size, in->page_token,
				      &ospay__v1__agendas_list_response__descriptor);
}

enum { AU_NAME, AU_CITIES, AU_WINDOWS, AU_DAILY_MAX, AU_SLOT };
static const char *const agenda_paths[] = {"name", "cities", "windows", "daily_max",
					   "slot_minutes"};

int h_agendas_update(srv_req_t *r, store_txn_t *txn)
{
	const Ospay__V1__AgendasUpdateRequest *in = (const void *)r->in;
	Ospay__V1__Agenda *old = NULL;
	bool bad;
	int rc = kit_get(r, txn, &kit_agendas, "id", in->id, PERM_CONFIGURE, &old);
	if (rc != 0 || !srv_ok(r))
		return rc;
	uint32_t m = kit_mask_parse(r, in->update_mask, in->n_update_mask, agenda_paths,
				    OSPAY_ARRAY_LEN(agenda_paths), &bad);
	if (in->n_update_mask == 0)
		m = (in->name[0] != '\0') << AU_NAME | (in->n_cities > 0) << AU_CITIES |
		    (in->n_windows > 0) << AU_WINDOWS | (in->daily_max != 0) << AU_DAILY_MAX |
		    (in->slot_minutes != 0) << AU_SLOT;
	check_settings(r, in->name, in->cities, in->n_cities, in->windows, in->n_windows,
		       in->daily_max, in->slot_minutes, m);
	if (!srv_ok(r) || bad)
		return rc;
	Ospay__V1__Agenda a = *old;
	if (m & (1u << AU_NAME))
		a.name = in->name;
	if (m & (1u << AU_CITIES)) {
		a.cities = in->cities;
		a.n_cities = in->n_cities;
	}
	if (m & (1u << AU_WINDOWS)) {
		a.windows = in->windows;
		a.n_windows = in->n_windows;
	}
	if (m & (1u << AU_DAILY_MAX))
		a.daily_max = in->daily_max;
	if (m & (1u << AU_SLOT))
		a.slot_minutes = in->slot_minutes;
	a.updated_ms = r->now_ms;
	rc = db_put_by_id(txn, DB_AGENDAS, a.id, &a.base);
	if (rc != 0)
		return srv_store_fail(r, rc, "agenda update");
	return kit_reply_one(r, &ospay__v1__agendas_update_response__descriptor, &a.base);
}

/* What deleting an agenda would strand: its OPEN orders from now on, and the first. */
typedef struct stranded {
	uint32_t n;
	uint64_t first_id;
	int64_t first_ms;
} stranded_t;

static int stranded_count(Ospay__V1__Order *o, int64_t start, void *arg)
{
	stranded_t *x = arg;
	if (order_is_open(o->status) && x->n++ == 0) {
		x->first_id = o->id;
		x->first_ms = start;
	}
	return x->n < DELETE_COUNT_MAX ? BOOKING_NEXT : BOOKING_STOP;
}

int h_agendas_delete(srv_req_t *r, store_txn_t *txn)
{
	const Ospay__V1__AgendasDeleteRequest *in = (const void *)r->in;
	Ospay__V1__Agenda *a = NULL;
	stranded_t x = {0};
	int rc = kit_get(r, txn, &kit_agendas, "id", in->id, PERM_CONFIGURE, &a);
	if (rc != 0 || !srv_ok(r))
		return rc;
	rc = booking_each_order(txn, DB_ORD_S_AGENDA, a->id, r->now_ms, INT64_MAX, 0,
				stranded_count, &x);
	uint32_t n = x.n;
	uint64_t first_id = x.first_id;
	int64_t first_ms = x.first_ms;
	if (rc != 0)
		return srv_store_fail(r, rc, "agenda orders");
	if (n > 0 && !in->release_orders) {
		int offset = 0;
		char when[48] = "", date[16];
		if (kit_org_offset(r, txn, &offset) == 0) {
			int m = date_local_minute(first_ms, offset);
			date_format(date_local_day(first_ms, offset), date, sizeof(date));
			snprintf(when, sizeof(when), "%s %02d:%02d", date, m / 60, m % 60);
		}
		return srv_fail(r, ST_FAILED_PRECONDITION,
				"agenda %llu has %s%u booked order%s from now on (the first: order "
				"%llu at %s): move them, or delete with release_orders",
				(unsigned long long)a->id, n >= DELETE_COUNT_MAX ? "at least " : "",
				n, n == 1 ? "" : "s", (unsigned long long)first_id, when);
	}
	rc = db_agenda_delete(txn, a);
	if (rc != 0)
		return srv_store_fail(r, rc, "agenda delete");
	Ospay__V1__AgendasDeleteResponse resp = OSPAY__V1__AGENDAS_DELETE_RESPONSE__INIT;
	rc = srv_reply_msg(r, &resp.base);
	log_info("agenda deleted", "agenda_id=%llu released=%u by=%llu", (unsigned long long)a->id,
		 n, (unsigned long long)r->sess->p.token_id);
	return rc;
}

/* ------------------------------------------------------------------ calendar */

/* Everything a calendar reply points into, freed once the reply is packed. */
typedef struct cal {
	ProtobufCMessage **held;
	size_t n_held, cap_held;
	Ospay__V1__CalendarGroup *groups;
	Ospay__V1__CalendarGroup **group_ptrs;
	size_t n_groups;
	size_t n_entries;
	bool truncated;
	Ospay__V1__Customer *last_customer;
} cal_t;

/* An entry and the text it points to. */
typedef struct cal_entry {
	Ospay__V1__CalendarEntry e;
	char date[16];
} cal_entry_t;

/* Whether n reached the cap max: the calendar then says it is truncated. */
static bool cal_full(cal_t *c, size_t n, size_t max)
{
	if (n >= max)
		c->truncated = true;
	return n >= max;
}

static int cal_hold(cal_t *c, ProtobufCMessage *m)
{
	if (c->n_held == c->cap_held) {
		size_t ncap = c->cap_held == 0 ? 64 : c->cap_held * 2;
		ProtobufCMessage **grown = realloc(c->held, ncap * sizeof(*grown));
		if (grown == NULL) {
			protobuf_c_message_free_unpacked(m, NULL);
			return -ENOMEM;
		}
		c->held = grown;
		c->cap_held = ncap;
	}
	c->held[c->n_held++] = m;
	return 0;
}

/* The order an index entry names, held by the calendar (freed with it); an entry
 * whose order is gone is a broken index (-EBADMSG). */
static int cal_order(cal_t *c, store_txn_t *txn, const uint8_t *pos, Ospay__V1__Order **o)
{
	int rc = kit_load(txn, DB_ORDERS, db_pos_id(pos), &ospay__v1__order__descriptor, o);

	if (rc == -ENOENT)
		rc = -EBADMSG;
	if (rc == 0)
		rc = cal_hold(c, &(*o)->base);
	return rc;
}

static void cal_free(cal_t *c)
{
	for (size_t i = 0; i < c->n_held; i++)
		protobuf_c_message_free_unpacked(c->held[i], NULL);
	free(c->held);
	for (size_t g = 0; g < c->n_groups; g++) {
		/* Entries were allocated as cal_entry_t, with e first. */
		for (size_t i = 0; i < c->groups[g].n_entries; i++)
			free(c->groups[g].entries[i]);
		free(c->groups[g].entries);
		for (size_t i = 0; i < c->groups[g].n_awaiting; i++)
			free(c->groups[g].awaiting[i]);
		free(c->groups[g].awaiting);
	}
	free(c->groups);
	free(c->group_ptrs);
}

/* The name a calendar shows for the customer (cached: consecutive entries often share one). */
static int cal_customer(cal_t *c, store_txn_t *txn, uint64_t id, const char **name)
{
	int rc = 0;
	if (c->last_customer == NULL || c->last_customer->id != id) {
		Ospay__V1__Customer *cust = NULL;
		rc = kit_load(txn, DB_CUSTOMERS, id, &ospay__v1__customer__descriptor, &cust);
		if (rc == 0)
			rc = cal_hold(c, &cust->base);
		if (rc != 0)
			return rc;
		c->last_customer = cust;
	}
	*name = c->last_customer->name;
	return rc;
}

/* Appends an entry for order o to *list (n items, room for *cap); strings point into c. */
static int cal_entry_add(cal_t *c, store_txn_t *txn, Ospay__V1__CalendarEntry ***list, size_t *n,
			 size_t *cap, const Ospay__V1__Order *o, int offset)
{
	if (*n == *cap) {
		size_t ncap = *cap == 0 ? 16 : *cap * 2;
		Ospay__V1__CalendarEntry **grown = realloc(*list, ncap * sizeof(*grown));
		if (grown == NULL)
			return -ENOMEM;
		*list = grown;
		*cap = ncap;
	}
	cal_entry_t *ce = calloc(1, sizeof(*ce));
	if (ce == NULL)
		return -ENOMEM;
	(*list)[(*n)++] = &ce->e;
	Ospay__V1__CalendarEntry *e = &ce->e;
	ospay__v1__calendar_entry__init(e);
	e->order_id = o->id;
	e->customer_id = o->customer_id;
	int rc = cal_customer(c, txn, o->customer_id, (const char **)&e->customer_name);
	if (rc == -ENOENT)
		rc = -EBADMSG;
	e->scheduled_start_ms = o->scheduled_start_ms;
	e->duration_minutes = o->duration_minutes;
	e->status = o->status;
	e->kind = o->kind;
	e->agenda_id = o->agenda_id;
	e->technician_id = o->technician_id;
	if (o->scheduled_start_ms != 0) {
		date_format(date_local_day(o->scheduled_start_ms, offset), ce->date,
			    sizeof(ce->date));
		e->local_start_minute = (uint32_t)date_local_minute(o->scheduled_start_ms, offset);
	}
	e->local_date = ce->date;
	return rc;
}

/* Fills one group with the orders of one agenda or technician in [from, to). */
static int cal_fill(srv_req_t *r, store_txn_t *txn, cal_t *c, Ospay__V1__CalendarGroup *g,
		    unsigned index, int64_t from_ms, int64_t to_ms, int offset, bool canceled)
{
	db_scan_t *scan = NULL;
	uint8_t key[8], from[DB_POS_LEN];
	size_t cap = 0;
	int rc;
	be64_put(key, g->id);
	db_pos_put(from, from_ms, 0);
	rc = db_scan_open(txn, index, key, 8, 1, from, DB_POS_LEN, &scan);
	const uint8_t *pos;
	while (rc == 0) {
		rc = db_scan_next(scan, &pos);
		if (rc != 0 || db_pos_sort(pos) >= to_ms)
			break;
		if (cal_full(c, c->n_entries, CALENDAR_MAX_ENTRIES))
			break;
		Ospay__V1__Order *o = NULL;
		rc = cal_order(c, txn, pos, &o);
		if (rc != 0)
			break;
		if (!kit_sees(r, o->organization_id, o->unit_id) ||
		    (!canceled && o->status == OSPAY__V1__ORDER_STATUS__ORDER_STATUS_CANCELED))
			continue;
		rc = cal_entry_add(c, txn, &g->entries, &g->n_entries, &cap, o, offset);
		if (rc != 0)
			break;
		c->n_entries++;
	}
	if (rc == -ENOENT)
		rc = 0;
	db_scan_close(scan);
	return rc;
}

/* Adds a group for an agenda or technician record (held by c). */
static int cal_group(cal_t *c, uint64_t id, const char *name)
{
	if (cal_full(c, c->n_groups, CALENDAR_MAX_GROUPS))
		return 0;
	Ospay__V1__CalendarGroup *g = &c->groups[c->n_groups++];
	ospay__v1__calendar_group__init(g);
	g->id = id;
	g->name = (char *)name;
	return 0;
}

/* The agendas or technicians to show: those named, else all of the units in view. */
static int cal_groups(srv_req_t *r, store_txn_t *txn, cal_t *c, bool by_agenda,
		      const Ospay__V1__AgendasCalendarRequest *in)
{
	const ProtobufCMessageDescriptor *desc =
		by_agenda ? &ospay__v1__agenda__descriptor : &ospay__v1__technician__descriptor;
	unsigned table = by_agenda ? DB_AGENDAS : DB_TECHNICIANS;
	uint64_t *units = NULL;
	size_t nu = 0;
	store_cursor_t *cur = NULL;
	int rc = 0;
	c->groups = calloc(CALENDAR_MAX_GROUPS, sizeof(*c->groups));
	if (c->groups == NULL) {
		rc = -ENOMEM;
		goto out;
	}
	for (size_t i = 0; i < in->n_ids && rc == 0; i++) {
		ProtobufCMessage *m = NULL;
		uint64_t org = 0, unit = 0;
		const char *name = "";
		rc = kit_load(txn, table, in->ids[i], desc, &m);
		if (rc == 0) {
			rc = cal_hold(c, m);
			if (rc != 0)
				goto out;
			if (by_agenda) {
				const Ospay__V1__Agenda *a = (const Ospay__V1__Agenda *)m;
				org = a->organization_id;
				unit = a->unit_id;
				name = a->name;
			} else {
				const Ospay__V1__Technician *t = (const Ospay__V1__Technician *)m;
				org = t->organization_id;
				unit = t->unit_id;
				name = t->name;
			}
		} else if (rc != -ENOENT) {
			goto out;
		}
		if (rc == -ENOENT || !kit_sees(r, org, unit) ||
		    (in->unit_id != 0 && unit != in->unit_id)) {
			rc = srv_fail(r, ST_NOT_FOUND, "no %s %llu",
				      by_agenda ? "agenda" : "technician",
				      (unsigned long long)in->ids[i]);
			goto out;
		}
		rc = cal_group(c, in->ids[i], name);
	}
	if (in->n_ids > 0)
		goto out;
	rc = kit_scope_units(r, txn, in->unit_id, &units, &nu);
	if (rc != 0)
		goto out;
	rc = store_cursor_open(txn, by_agenda ? DB_AGENDAS_BY_UNIT : DB_TECHNICIANS_BY_UNIT, &cur);
	for (size_t u = 0; u < nu && rc == 0 && !c->truncated; u++) {
		uint8_t k[8], v0[8];
		store_val_t ck, cv;
		be64_put(k, units[u]);
		be64_put(v0, 0);
		for (rc = store_cursor_seek_dup(cur, k, 8, v0, 8, &ck, &cv); rc == 0;
		     rc = store_cursor_next_dup(cur, &ck, &cv)) {
			ProtobufCMessage *m = NULL;
			uint64_t id = be64_get(cv.data);
			rc = kit_load(txn, table, id, desc, &m);
			if (rc == 0)
				rc = cal_hold(c, m);
			if (rc != 0)
				break;
			rc = cal_group(c, id,
				       by_agenda ? ((Ospay__V1__Agenda *)m)->name
						 : ((Ospay__V1__Technician *)m)->name);
			if (rc != 0 || c->truncated)
				break;
		}
		if (rc == -ENOENT)
			rc = 0;
	}
out:
	store_cursor_close(cur);
	free(units);
	return rc;
}

/*
 * The groups' orders awaiting scheduling: one walk of the AWAITING status index
 * per unit in view (they are few: an order waits until someone books it), each
 * order to its agenda's or technician's group, at most CALENDAR_MAX_AWAITING a group.
 */
static int cal_awaiting(srv_req_t *r, store_txn_t *txn, cal_t *c, bool by_agenda,
			uint64_t unit_filter, int offset)
{
	uint64_t *units = NULL;
	size_t nu = 0, examined = 0;
	size_t *caps = calloc(c->n_groups + 1, sizeof(*caps));
	int rc = caps != NULL ? kit_scope_units(r, txn, unit_filter, &units, &nu) : -ENOMEM;
	for (size_t u = 0; u < nu && rc == 0; u++) {
		db_scan_t *scan = NULL;
		uint8_t key[9], from[DB_POS_LEN];
		const uint8_t *pos;
		be64_put(key, units[u]);
		key[8] = (uint8_t)OSPAY__V1__ORDER_STATUS__ORDER_STATUS_AWAITING_SCHEDULING;
		db_pos_put(from, INT64_MIN, 0);
		rc = db_scan_open(txn, DB_ORD_C_STATUS, key, 9, 1, from, DB_POS_LEN, &scan);
		while (rc == 0) {
			rc = db_scan_next(scan, &pos);
			if (rc != 0)
				break;
			if (cal_full(c, examined++, CALENDAR_MAX_ENTRIES))
				break;
			Ospay__V1__Order *o = NULL;
			rc = cal_order(c, txn, pos, &o);
			if (rc != 0)
				break;
			uint64_t want = by_agenda ? o->agenda_id : o->technician_id;
			for (size_t g = 0; g < c->n_groups && want != 0; g++) {
				Ospay__V1__CalendarGroup *grp = &c->groups[g];
				if (grp->id != want || grp->n_awaiting >= CALENDAR_MAX_AWAITING ||
				    !kit_sees(r, o->organization_id, o->unit_id))
					continue;
				rc = cal_entry_add(c, txn, &grp->awaiting, &grp->n_awaiting,
						   &caps[g], o, offset);
				break;
			}
		}
		if (rc == -ENOENT)
			rc = 0;
		db_scan_close(scan);
	}
	free(caps);
	free(units);
	return rc;
}

int h_agendas_calendar(srv_req_t *r, store_txn_t *txn)
{
	const Ospay__V1__AgendasCalendarRequest *in = (const void *)r->in;
	cal_t c;
	int64_t from_day = 0, to_day = 0;
	int offset = 0;
	int rc = 0;
	memset(&c, 0, sizeof(c));
	if (date_parse(in->from_date, &from_day) != 0)
		status_violation(&r->st, "from_date", "a date \"YYYY-MM-DD\"");
	if (date_parse(in->to_date, &to_day) != 0)
		status_violation(&r->st, "to_date", "a date \"YYYY-MM-DD\"");
	else if (srv_ok(r) && to_day < from_day)
		status_violation(&r->st, "to_date", "must not be before from_date");
	else if (srv_ok(r) && to_day - from_day + 1 > CALENDAR_MAX_DAYS)
		status_violation(&r->st, "to_date", "at most %d days from from_date",
				 CALENDAR_MAX_DAYS);
	bool by_agenda = in->view_by == OSPAY__V1__CALENDAR_VIEW_BY__CALENDAR_VIEW_BY_AGENDA;
	if (!by_agenda && in->view_by != OSPAY__V1__CALENDAR_VIEW_BY__CALENDAR_VIEW_BY_TECHNICIAN)
		status_violation(&r->st, "view_by",
				 "CALENDAR_VIEW_BY_AGENDA or CALENDAR_VIEW_BY_TECHNICIAN");
	if (in->n_ids > CALENDAR_MAX_GROUPS)
		status_violation(&r->st, "ids", "at most %d", CALENDAR_MAX_GROUPS);
	if (!srv_ok(r) || !srv_check(r, PERM_READ, 0))
		goto out;
	rc = kit_org_offset(r, txn, &offset);
	if (rc == 0)
		rc = cal_groups(r, txn, &c, by_agenda, in);
	if (rc != 0 || !srv_ok(r))
		goto out;
	int64_t from_ms = date_local_to_utc(from_day, 0, offset);
	int64_t to_ms = date_local_to_utc(to_day + 1, 0, offset);
	unsigned index = by_agenda ? DB_ORD_S_AGENDA : DB_ORD_S_TECH;
	for (size_t g = 0; g < c.n_groups && rc == 0; g++)
		rc = cal_fill(r, txn, &c, &c.groups[g], index, from_ms, to_ms, offset,
			      in->include_canceled);
	if (rc == 0)
		rc = cal_awaiting(r, txn, &c, by_agenda, in->unit_id, offset);
	if (rc != 0)
		goto out;
	c.group_ptrs = calloc(c.n_groups + 1, sizeof(*c.group_ptrs));
	if (c.group_ptrs == NULL) {
		rc = -ENOMEM;
		goto out;
	}
	for (size_t g = 0; g < c.n_groups; g++)
		c.group_ptrs[g] = &c.groups[g];
	Ospay__V1__AgendasCalendarResponse resp = OSPAY__V1__AGENDAS_CALENDAR_RESPONSE__INIT;
	resp.view_by = in->view_by;
	resp.groups = c.group_ptrs;
	resp.n_groups = c.n_groups;
	resp.truncated = c.truncated;
	resp.utc_offset_minutes = offset;
	rc = srv_reply_msg(r, &resp.base);
out:
	if (rc < 0 && rc != -ENOMEM)
		rc = srv_store_fail(r, rc, "calendar");
	cal_free(&c);
	return rc;
}

/*
 * Service orders (docs/spec.md 4.3, 4.4): create, get, list, update, reschedule,
 * finalize, cancel, with the agenda and technician checks.
 *
 * The checks read what the current write batch holds: two requests handled in
 * one group commit run one after the other in nested transactions of the same
 * batch, so the second sees the first's booking and "the last place" has
 * exactly one winner.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "server/services/orders_internal.h"

/* core/order.h numbers payment statuses and methods like the proto enums. */
_Static_assert((int)ORDER_PAY_NONE == OSPAY__V1__ORDER_PAYMENT_STATUS__ORDER_PAYMENT_STATUS_NONE &&
		       (int)ORDER_PAY_PENDING ==
			       OSPAY__V1__ORDER_PAYMENT_STATUS__ORDER_PAYMENT_STATUS_PENDING &&
		       (int)ORDER_PAY_PAID ==
			       OSPAY__V1__ORDER_PAYMENT_STATUS__ORDER_PAYMENT_STATUS_PAID,
	       "order and proto payment statuses differ");
_Static_assert((int)ORDER_METHOD_CASH == OSPAY__V1__PAYMENT_METHOD_TYPE__PAYMENT_METHOD_TYPE_CASH &&
		       (int)ORDER_METHOD_CARD ==
			       OSPAY__V1__PAYMENT_METHOD_TYPE__PAYMENT_METHOD_TYPE_CARD,
	       "order and proto methods differ");

/* ------------------------------------------------------------------ loading */

/* "2026-12-07 09:00" in the organization's time. */
static void local_time(int64_t ms, int offset, char *out, size_t cap)
{
	char d[16];
	int m = date_local_minute(ms, offset);
	date_format(date_local_day(ms, offset), d, sizeof(d));
	snprintf(out, cap, "%s %02d:%02d", d, m / 60, m % 60);
}

/* ------------------------------------------------------------------ booking checks */

/* A start on a closed day (a closure or a national holiday) is refused with the reason. */
static int check_closed(srv_req_t *r, store_txn_t *txn, uint64_t agenda_id, int64_t start,
			int offset)
{
	Ospay__V1__FieldSettingsRecord *fs = NULL;
	uint64_t closure;
	int64_t day = date_local_day(start, offset);
	int rc = booking_settings_get(r, txn, &fs);
	if (rc != 0)
		return rc;
	const char *why = booking_day_closed(fs, agenda_id, day, &closure);
	if (why != NULL) {
		char date[16];
		date_format(day, date, sizeof(date));
		rc = srv_fail(r, ST_FAILED_PRECONDITION, "agenda %llu: %s is closed: %s",
			      (unsigned long long)agenda_id, date, why);
	}
	return rc;
}

/* The agenda checks: unit, city, window, slot grid, capacity, daily maximum. */
static int check_agenda(srv_req_t *r, store_txn_t *txn, Ospay__V1__Order *o, bool agenda_changed,
			int offset)
{
	Ospay__V1__Agenda *a = NULL;
	Ospay__V1__Customer *cust = NULL;
	agenda_window_t wbuf[AGENDA_MAX_WINDOWS];
	agenda_rules_t rules;
	agenda_place_t place;
	uint32_t in_window, in_day;
	agenda_room_t room;
	char why[200];
	int rc = 0;
	if (!agenda_changed) {
		/* Left on a removed agenda: its rules are gone, the order still moves. */
		rc = kit_load(txn, DB_AGENDAS, o->agenda_id, &ospay__v1__agenda__descriptor, &a);
		if (rc == -ENOENT) {
			rc = 0;
			goto out;
		}
		if (rc != 0) {
			rc = srv_store_fail(r, rc, "agenda lookup");
			goto out;
		}
		ospay__v1__agenda__free_unpacked(a, NULL);
		a = NULL;
	}
	rc = kit_get_seen(r, txn, &kit_agendas, o->agenda_id, &a);
	if (rc != 0 || !srv_ok(r))
		goto out;
	if (a->unit_id != o->unit_id) {
		rc = srv_fail(r, ST_FAILED_PRECONDITION,
			      "agenda %llu belongs to unit %llu, the customer to unit %llu",
			      (unsigned long long)a->id, (unsigned long long)a->unit_id,
			      (unsigned long long)o->unit_id);
		goto out;
	}
	if (agenda_changed && a->n_cities > 0) {
		rc = kit_load(txn, DB_CUSTOMERS, o->customer_id, &ospay__v1__customer__descriptor,
			      &cust);
		if (rc != 0) {
			rc = srv_store_fail(r, rc == -ENOENT ? -EBADMSG : rc, "order customer");
			goto out;
		}
		/* The address the order was booked at, else the customer's (older orders). */
		const Ospay__V1__Address *addr =
			o->installation_address != NULL ? o->installation_address : cust->address;
		const char *city = addr != NULL ? addr->city : "";
		const char *uf = addr != NULL ? addr->state : "";
		if (!agenda_city_served((const char *const *)a->cities, a->n_cities, city, uf)) {
			rc = srv_fail(r, ST_FAILED_PRECONDITION,
				      "agenda %llu does not serve the customer's installation city",
				      (unsigned long long)a->id);
			goto out;
		}
	}
	if (o->scheduled_start_ms == 0)
		goto out; /* awaiting scheduling: no place to check yet */
	if (o->duration_minutes == 0)
		o->duration_minutes = a->slot_minutes;
	rc = check_closed(r, txn, a->id, o->scheduled_start_ms, offset);
	if (rc != 0 || !srv_ok(r))
		goto out;
	kit_agenda_rules(a, offset, wbuf, &rules);
	int verdict = agenda_locate(&rules, o->scheduled_start_ms, &place);
	if (verdict == AGENDA_OK) {
		rc = booking_room(txn, a->id, &rules, &place, rules.daily_max != 0, o->id,
				  &in_window, &in_day, &room);
		if (rc != 0) {
			rc = srv_store_fail(r, rc, "agenda count");
			goto out;
		}
		verdict = agenda_room_verdict(&room);
	}
	if (verdict != AGENDA_OK) {
		agenda_explain(&rules, verdict, o->scheduled_start_ms, &place, why, sizeof(why));
		rc = srv_fail(r, ST_FAILED_PRECONDITION, "agenda %llu: %s",
			      (unsigned long long)a->id, why);
		goto out;
	}
out:
	ospay__v1__customer__free_unpacked(cust, NULL);
	return rc;
}

/* The technician checks: same unit, and no other booking overlapping this one. */
static int check_technician(srv_req_t *r, store_txn_t *txn, const Ospay__V1__Order *o,
			    bool tech_changed, int offset)
{
	Ospay__V1__Technician *t = NULL;
	Ospay__V1__Order *other = NULL;
	int rc = 0;
	if (tech_changed) {
		rc = kit_get_seen(r, txn, &kit_technicians, o->technician_id, &t);
		if (rc != 0 || !srv_ok(r))
			goto out;
		if (t->unit_id != o->unit_id) {
			rc = srv_fail(r, ST_FAILED_PRECONDITION,
				      "technician %llu belongs to unit %llu, the customer to unit "
				      "%llu",
				      (unsigned long long)t->id, (unsigned long long)t->unit_id,
				      (unsigned long long)o->unit_id);
			goto out;
		}
	}
	if (o->scheduled_start_ms == 0)
		goto out;
	rc = booking_tech_overlap(txn, o->technician_id, o->scheduled_start_ms, o->duration_minutes,
				  o->id, &other);
	if (rc != 0) {
		rc = srv_store_fail(r, rc, "technician overlap");
		goto out;
	}
	if (other != NULL) {
		char from[32], to[32];
		local_time(other->scheduled_start_ms, offset, from, sizeof(from));
		local_time(order_end_ms(other->scheduled_start_ms, other->duration_minutes), offset,
			   to, sizeof(to));
		rc = srv_fail(r, ST_FAILED_PRECONDITION,
			      "technician %llu is already booked on order %llu from %s to %s",
			      (unsigned long long)o->technician_id, (unsigned long long)other->id,
			      from, to);
	}
out:
	ospay__v1__order__free_unpacked(other, NULL);
	return rc;
}

/*
 * Every check of docs/spec.md 4.3 for an order as it will be stored. old is the
 * stored version (NULL on create): only what changed is checked again, so an
 * order already booked is not refused for a window that filled up later. May
 * set o's duration to the agenda's slot when it has none.
 */
static int check_booking(srv_req_t *r, store_txn_t *txn, const Ospay__V1__Order *old,
			 Ospay__V1__Order *o)
{
	bool agenda_changed = old == NULL || old->agenda_id != o->agenda_id;
	bool start_changed = old == NULL || old->scheduled_start_ms != o->scheduled_start_ms;
	bool time_changed = start_changed || old->duration_minutes != o->duration_minutes;
	bool tech_changed = old == NULL || old->technician_id != o->technician_id;
	int offset = 0;
	int rc = kit_org_offset(r, txn, &offset);
	if (rc != 0)
		return srv_store_fail(r, rc, "organization");
	if (o->agenda_id != 0 && (agenda_changed || start_changed)) {
		rc = check_agenda(r, txn, o, agenda_changed, offset);
		if (rc != 0 || !srv_ok(r))
			return rc;
	}
	if (o->scheduled_start_ms != 0 && o->duration_minutes == 0) {
		status_violation(&r->st, "duration_minutes",
				 "required for a scheduled order without an agenda");
		return rc;
	}
	if (o->technician_id != 0 && (tech_changed || time_changed))
		rc = check_technician(r, txn, o, tech_changed, offset);
	return rc;
}

/* ------------------------------------------------------------------ field checks */

/*
 * The service an order names must be its customer's: o's service_id and plan
 * snapshot are set, or r->st says why not. 0 or a negative errno.
 */
static int check_service(srv_req_t *r, store_txn_t *txn, Ospay__V1__Order *o, uint64_t id,
			 char *plan, size_t cap)
{
	Ospay__V1__CustomerService *svc = NULL;
	int rc = 0;
	o->service_id = id;
	o->service_plan = "";
	if (id == 0)
		return rc;
	rc = kit_get_seen(r, txn, &kit_services, id, &svc);
	if (rc != 0 || !srv_ok(r))
		return rc;
	if (svc->customer_id != o->customer_id)
		return srv_fail(r, ST_FAILED_PRECONDITION,
				"service %llu belongs to customer %llu, the order to customer %llu",
				(unsigned long long)id, (unsigned long long)svc->customer_id,
				(unsigned long long)o->customer_id);
	snprintf(plan, cap, "%s", svc->plan_name);
	o->service_plan = plan;
	return rc;
}

static void check_start(srv_req_t *r, const char *field, int64_t start)
{
	if (start == 0)
		return;
	if (start < START_MIN_MS || start >= START_MAX_MS)
		status_violation(&r->st, field, "UTC ms between 2000 and 2200");
	else if (start % 60000 != 0)
		status_violation(&r->st, field, "must be a whole minute");
}

static void check_duration(srv_req_t *r, uint32_t minutes, int64_t start)
{
	if (minutes > ORDER_MAX_DURATION_MIN)
		status_violation(&r->st, "duration_minutes", "at most %d minutes (a day)",
				 ORDER_MAX_DURATION_MIN);
	else if (minutes != 0 && start == 0)
		status_violation(&r->st, "duration_minutes", "only for a scheduled order");
}

static void check_amount(srv_req_t *r, int64_t amount)
{
	if (amount < 0 || amount > MONEY_MAX_CENTAVOS)
		status_violation(&r->st, "amount", "must be 0..%lld centavos",
				 (long long)MONEY_MAX_CENTAVOS);
}

/* ------------------------------------------------------------------ history */

/* db_order_history_append at the request's time, by its token. */
int orders_history_append(srv_req_t *r, Ospay__V1__Order *o, Ospay__V1__OrderStatusChange *entry,
			  int to, const char *note, Ospay__V1__OrderStatusChange ***hist)
{
	return db_order_history_append(o, entry, to, r->now_ms, r->sess->p.token_id, note, hist);
}

/* Stores o (replacing old, NULL for a new order) with its indexes. */
int orders_put_order(srv_req_t *r, store_txn_t *txn, const Ospay__V1__Order *old,
		     Ospay__V1__Order *o)
{
	o->updated_ms = r->now_ms;
	int rc = db_order_put(txn, old, o);
	return rc != 0 ? srv_store_fail(r, rc, "order store") : 0;
}

/* ------------------------------------------------------------------ handlers */

int h_orders_create(srv_req_t *r, store_txn_t *txn)
{
	const Ospay__V1__OrdersCreateRequest *in = (const void *)r->in;
	Ospay__V1__Customer *cust = NULL;
	Ospay__V1__OrderStatusChange created, **hist = NULL;
	Ospay__V1__Order o = OSPAY__V1__ORDER__INIT;
	char plan[KIT_NAME_MAX + 1];
	int rc = kit_get(r, txn, &kit_customers, "customer_id", in->customer_id, PERM_OPERATE,
			 &cust);
	if (rc != 0 || !srv_ok(r))
		goto out;
	kit_check_name(r, "kind", in->kind, KIND_MAX);
	kit_check_text(r, "description", in->description, KIT_TEXT_MAX);
	check_start(r, "scheduled_start_ms", in->scheduled_start_ms);
	check_duration(r, in->duration_minutes, in->scheduled_start_ms);
	check_amount(r, in->amount);
	o.organization_id = cust->organization_id;
	o.unit_id = cust->unit_id;
	o.customer_id = cust->id;
	o.kind = in->kind;
	o.description = in->description;
	o.agenda_id = in->agenda_id;
	o.technician_id = in->technician_id;
	o.scheduled_start_ms = in->scheduled_start_ms;
	o.duration_minutes = in->duration_minutes;
	o.amount = in->amount;
	/* The installation address as booked: the customer may move later. */
	o.installation_address = cust->address;
	o.status = OSPAY__V1__ORDER_STATUS__ORDER_STATUS_UNSPECIFIED;
	o.payment_status = OSPAY__V1__ORDER_PAYMENT_STATUS__ORDER_PAYMENT_STATUS_NONE;
	o.created_ms = r->now_ms;
	if (!srv_ok(r))
		goto out;
	rc = check_service(r, txn, &o, in->service_id, plan, sizeof(plan));
	if (rc == 0 && srv_ok(r))
		rc = check_booking(r, txn, NULL, &o);
	if (rc != 0 || !srv_ok(r))
		goto out;
	rc = kit_new_id(r, txn, "order", &o.id);
	if (rc != 0 || !srv_ok(r))
		goto out;
	rc = orders_history_append(
		r, &o, &created, order_schedule_status(o.agenda_id != 0, o.scheduled_start_ms != 0),
		"", &hist);
	if (rc == 0)
		rc = orders_put_order(r, txn, NULL, &o);
	if (rc != 0 || !srv_ok(r))
		goto out;
	rc = kit_reply_one(r, &ospay__v1__orders_create_response__descriptor, &o.base);
	/* Debug only: this runs before the commit (and again if the store reruns
	 * it), and at thousands of orders a second one write(2) each costs ~15 %
	 * of the create path (bench/, perf). The order's history is the record. */
	if (rc == 0)
		log_debug("order created",
			  "order_id=%llu unit=%llu customer=%llu agenda=%llu by=%llu",
			  (unsigned long long)o.id, (unsigned long long)o.unit_id,
			  (unsigned long long)o.customer_id, (unsigned long long)o.agenda_id,
			  (unsigned long long)r->sess->p.token_id);
out:
	free(hist);
	return rc;
}

/*
 * Orders/Get from the stored bytes when they scan well-formed (db/order_wire.h):
 * *served when answered or refused (r->st), else the unpacking path is taken.
 * 0 or a negative errno.
 */
static int get_from_wire(srv_req_t *r, store_txn_t *txn, uint64_t id, bool *served)
{
	store_val_t rec;
	uint64_t org, unit;
	*served = db_order_wire_scan(txn, id, &rec, &org, &unit) == DB_ORDER_WIRE_READY;
	if (!*served)
		return 0;
	if (!kit_check_record(r, PERM_READ, org, unit)) {
		if (r->st.code == ST_NOT_FOUND)
			srv_fail(r, ST_NOT_FOUND, "no order %llu", (unsigned long long)id);
		return 0;
	}
	Ospay__V1__Notification **notes = NULL;
	size_t n_notes = 0;
	int rc = outbox_list(txn, OUTBOX_OBJ_ORDER, id, &notes, &n_notes);
	if (rc == 0)
		rc = db_order_wire_reply(&r->out, &rec, notes, n_notes);
	outbox_list_free(notes, n_notes);
	return rc;
}

int h_orders_get(srv_req_t *r, store_txn_t *txn)
{
	const Ospay__V1__OrdersGetRequest *in = (const void *)r->in;
	Ospay__V1__Order *o = NULL;
	Ospay__V1__Notification **notes = NULL;
	int rc;
	bool served = false;
	if (in->id == 0) {
		status_violation(&r->st, "id", "required");
		return 0;
	}
	rc = get_from_wire(r, txn, in->id, &served);
	if (rc != 0 || served)
		return rc;
	rc = kit_get(r, txn, &kit_orders, NULL, in->id, PERM_READ, &o);
	if (rc != 0 || !srv_ok(r))
		return rc;
	Ospay__V1__OrdersGetResponse resp = OSPAY__V1__ORDERS_GET_RESPONSE__INIT;
	resp.order = o;
	rc = outbox_list(txn, OUTBOX_OBJ_ORDER, o->id, &notes, &resp.n_notifications);
	resp.notifications = notes;
	if (rc == 0)
		rc = srv_reply_msg(r, &resp.base);
	outbox_list_free(notes, resp.n_notifications);
	return rc;
}

/* Loads an order to change: visible, the caller may operate, and still OPEN. */
int orders_load_open_order(srv_req_t *r, store_txn_t *txn, uint64_t id, Ospay__V1__Order **o)
{
	int rc = kit_get(r, txn, &kit_orders, "id", id, PERM_OPERATE, o);
	if (rc == 0 && srv_ok(r) && (int)(*o)->status == ORDER_AWAITING)
		rc = srv_fail(r, ST_FAILED_PRECONDITION,
			      "order %llu awaits scheduling: schedule it first",
			      (unsigned long long)id);
	else if (rc == 0 && srv_ok(r) && !order_is_open((*o)->status))
		rc = srv_fail(r, ST_FAILED_PRECONDITION,
			      "order %llu is %s: only OPEN orders change", (unsigned long long)id,
			      order_status_name((*o)->status));
	return rc;
}

/* The same for edits, reschedules and cancels: OPEN or awaiting scheduling. */
static int load_editable_order(srv_req_t *r, store_txn_t *txn, uint64_t id, Ospay__V1__Order **o)
{
	int rc = kit_get(r, txn, &kit_orders, "id", id, PERM_OPERATE, o);
	if (rc == 0 && srv_ok(r) && !order_is_editable((*o)->status))
		rc = srv_fail(r, ST_FAILED_PRECONDITION,
			      "order %llu is %s: only OPEN orders change", (unsigned long long)id,
			      order_status_name((*o)->status));
	return rc;
}

/*
 * An order given a start leaves AWAITING_SCHEDULING (OPEN); one on an agenda
 * whose start is removed awaits again. The change goes to the history
 * (*entry, *hist as orders_history_append).
 */
static int follow_schedule(srv_req_t *r, Ospay__V1__Order *o, Ospay__V1__OrderStatusChange *entry,
			   Ospay__V1__OrderStatusChange ***hist)
{
	int want = order_schedule_status(o->agenda_id != 0, o->scheduled_start_ms != 0);
	if ((int)o->status == want)
		return 0;
	return orders_history_append(
		r, o, entry, want, want == ORDER_AWAITING ? "schedule removed" : "scheduled", hist);
}

/*
 * Update's and Reschedule's end: o replaces old under the booking rules, its
 * status follows its schedule, and it is written and answered as resp.
 */
static int rebook(srv_req_t *r, store_txn_t *txn, const Ospay__V1__Order *old, Ospay__V1__Order *o,
		  const ProtobufCMessageDescriptor *resp)
{
	Ospay__V1__OrderStatusChange moved, **hist = NULL;
	int rc = check_booking(r, txn, old, o);
	if (rc == 0 && srv_ok(r))
		rc = follow_schedule(r, o, &moved, &hist);
	if (rc == 0 && srv_ok(r))
		rc = orders_put_order(r, txn, old, o);
	if (rc == 0 && srv_ok(r))
		rc = kit_reply_one(r, resp, &o->base);
	free(hist);
	return rc;
}

enum { OU_KIND, OU_DESCRIPTION, OU_AGENDA, OU_TECH, OU_START, OU_DURATION, OU_AMOUNT, OU_SERVICE };
static const char *const order_paths[] = {"kind",          "description",        "agenda_id",
					  "technician_id", "scheduled_start_ms", "duration_minutes",
					  "amount",        "service_id"};

int h_orders_update(srv_req_t *r, store_txn_t *txn)
{
	const Ospay__V1__OrdersUpdateRequest *in = (const void *)r->in;
	Ospay__V1__Order *old = NULL;
	bool bad;
	int rc = load_editable_order(r, txn, in->id, &old);
	if (rc != 0 || !srv_ok(r))
		return rc;
	uint32_t m = kit_mask_parse(r, in->update_mask, in->n_update_mask, order_paths,
				    OSPAY_ARRAY_LEN(order_paths), &bad);
	if (in->n_update_mask == 0)
		m = (in->kind[0] != '\0') << OU_KIND |
		    (in->description[0] != '\0') << OU_DESCRIPTION |
		    (in->agenda_id != 0) << OU_AGENDA | (in->technician_id != 0) << OU_TECH |
		    (in->scheduled_start_ms != 0) << OU_START |
		    (in->duration_minutes != 0) << OU_DURATION | (in->amount != 0) << OU_AMOUNT |
		    (in->service_id != 0) << OU_SERVICE;
	Ospay__V1__Order o = *old;
	if (m & (1u << OU_KIND)) {
		kit_check_name(r, "kind", in->kind, KIND_MAX);
		o.kind = in->kind;
	}
	if (m & (1u << OU_DESCRIPTION)) {
		kit_check_text(r, "description", in->description, KIT_TEXT_MAX);
		o.description = in->description;
	}
	if (m & (1u << OU_AGENDA))
		o.agenda_id = in->agenda_id;
	if (m & (1u << OU_TECH))
		o.technician_id = in->technician_id;
	if (m & (1u << OU_START)) {
		check_start(r, "scheduled_start_ms", in->scheduled_start_ms);
		o.scheduled_start_ms = in->scheduled_start_ms;
		/* Unscheduling an order also drops its duration. */
		if (o.scheduled_start_ms == 0 && !(m & (1u << OU_DURATION)))
			o.duration_minutes = 0;
	}
	if (m & (1u << OU_DURATION)) {
		check_duration(r, in->duration_minutes, o.scheduled_start_ms);
		o.duration_minutes = in->duration_minutes;
	}
	if (m & (1u << OU_AMOUNT)) {
		check_amount(r, in->amount);
		o.amount = in->amount;
	}
	char plan[KIT_NAME_MAX + 1];
	if ((m & (1u << OU_SERVICE)) && srv_ok(r) && !bad) {
		rc = check_service(r, txn, &o, in->service_id, plan, sizeof(plan));
		if (rc != 0)
			return rc;
	}
	if (!srv_ok(r) || bad)
		return rc;
	return rebook(r, txn, old, &o, &ospay__v1__orders_update_response__descriptor);
}

int h_orders_reschedule(srv_req_t *r, store_txn_t *txn)
{
	const Ospay__V1__OrdersRescheduleRequest *in = (const void *)r->in;
	Ospay__V1__Order *old = NULL;
	int rc = load_editable_order(r, txn, in->id, &old);
	if (rc != 0 || !srv_ok(r))
		return rc;
	if (in->scheduled_start_ms == 0)
		status_violation(&r->st, "scheduled_start_ms", "required: the new start");
	check_start(r, "scheduled_start_ms", in->scheduled_start_ms);
	check_duration(r, in->duration_minutes, in->scheduled_start_ms);
	if (!srv_ok(r))
		return rc;
	Ospay__V1__Order o = *old;
	o.scheduled_start_ms = in->scheduled_start_ms;
	if (in->duration_minutes != 0)
		o.duration_minutes = in->duration_minutes;
	/* The calendar's drag across rows: another technician or agenda, checked as a create. */
	if (in->technician_id != 0)
		o.technician_id = in->technician_id;
	if (in->agenda_id != 0)
		o.agenda_id = in->agenda_id;
	return rebook(r, txn, old, &o, &ospay__v1__orders_reschedule_response__descriptor);
}

int h_orders_cancel(srv_req_t *r, store_txn_t *txn)
{
	const Ospay__V1__OrdersCancelRequest *in = (const void *)r->in;
	Ospay__V1__Order *old = NULL;
	Ospay__V1__OrderStatusChange canceled, **hist = NULL;
	int rc = load_editable_order(r, txn, in->id, &old);
	if (rc != 0 || !srv_ok(r))
		goto out;
	if (old->payment_status == OSPAY__V1__ORDER_PAYMENT_STATUS__ORDER_PAYMENT_STATUS_PENDING) {
		rc = srv_fail(r, ST_FAILED_PRECONDITION,
			      "order %llu has a payment pending: cancel the payment attempt first",
			      (unsigned long long)old->id);
		goto out;
	}
	if (!kit_check_text(r, "reason", in->reason, NOTE_MAX))
		goto out;
	Ospay__V1__Order o = *old;
	rc = orders_history_append(r, &o, &canceled, ORDER_CANCELED, in->reason, &hist);
	if (rc == 0)
		rc = orders_put_order(r, txn, old, &o);
	if (rc != 0 || !srv_ok(r))
		goto out;
	rc = kit_reply_one(r, &ospay__v1__orders_cancel_response__descriptor, &o.base);
	if (rc == 0)
		log_info("order canceled", "order_id=%llu by=%llu", (unsigned long long)o.id,
			 (unsigned long long)r->sess->p.token_id);
out:
	free(hist);
	return rc;
}

/* ------------------------------------------------------------------ list */

/*
 * How a List call walks the indexes. Results come in the index's order: by
 * (scheduled start, id) when a scheduled range is given, else by (created,
 * id); every index of a family has that order, so the one with the fewest
 * expected entries is chosen from the filters alone (never from the data),
 * and the rest of the filters are checked on each order read.
 */
typedef struct list_plan {
	unsigned table;
	bool scheduled;
	bool by_unit; /* keys are the units in scope (with a status byte for some) */
	int tag;      /* status byte after the unit, or -1 */
	uint64_t key; /* the agenda, technician or customer when !by_unit */
	int64_t lo, hi;
} list_plan_t;

static void list_plan(const Ospay__V1__OrdersListRequest *in, list_plan_t *p)
{
	const int pending = OSPAY__V1__ORDER_PAYMENT_STATUS__ORDER_PAYMENT_STATUS_PENDING;
	const int error = OSPAY__V1__ORDER_PAYMENT_STATUS__ORDER_PAYMENT_STATUS_ERROR;
	memset(p, 0, sizeof(*p));
	p->tag = -1;
	p->scheduled = in->scheduled_from_ms != 0 || in->scheduled_to_ms != 0;
	int64_t from = p->scheduled ? in->scheduled_from_ms : in->created_from_ms;
	int64_t to = p->scheduled ? in->scheduled_to_ms : in->created_to_ms;
	p->lo = from != 0 ? from : INT64_MIN;
	p->hi = to != 0 ? to : INT64_MAX;
	if (p->scheduled) {
		if (in->technician_id != 0) {
			p->table = DB_ORD_S_TECH;
			p->key = in->technician_id;
		} else if (in->agenda_id != 0) {
			p->table = DB_ORD_S_AGENDA;
			p->key = in->agenda_id;
		} else {
			p->table = DB_ORD_S_UNIT;
			p->by_unit = true;
		}
		return;
	}
	/* A customer has few orders, a technician or an agenda more; orders with a
	 * payment pending or in error are few, a status many. */
	if (in->customer_id != 0) {
		p->table = DB_ORD_C_CUSTOMER;
		p->key = in->customer_id;
	} else if (in->technician_id != 0) {
		p->table = DB_ORD_C_TECH;
		p->key = in->technician_id;
	} else if (in->agenda_id != 0) {
		p->table = DB_ORD_C_AGENDA;
		p->key = in->agenda_id;
	} else if ((int)in->payment_status == pending || (int)in->payment_status == error) {
		p->table = DB_ORD_C_PAY;
		p->by_unit = true;
		p->tag = (int)in->payment_status;
	} else if (in->status != 0) {
		p->table = DB_ORD_C_STATUS;
		p->by_unit = true;
		p->tag = (int)in->status;
	} else if (in->payment_status != 0) {
		p->table = DB_ORD_C_PAY;
		p->by_unit = true;
		p->tag = (int)in->payment_status;
	} else {
		p->table = DB_ORD_C_UNIT;
		p->by_unit = true;
	}
}

static bool in_range(int64_t v, int64_t from, int64_t to)
{
	return (from == 0 || v >= from) && (to == 0 || v < to);
}

/* What Orders/List's page callbacks see. */
typedef struct list_ctx {
	const Ospay__V1__OrdersListRequest *in;
	list_plan_t plan;
} list_ctx_t;

static bool list_match(const srv_req_t *r, const uint8_t *pos, const ProtobufCMessage *m, void *arg)
{
	const Ospay__V1__OrdersListRequest *in = ((const list_ctx_t *)arg)->in;
	const Ospay__V1__Order *o = (const Ospay__V1__Order *)m;
	bool scheduled = in->scheduled_from_ms != 0 || in->scheduled_to_ms != 0;
	return kit_sees(r, o->organization_id, o->unit_id) &&
	       (in->unit_id == 0 || o->unit_id == in->unit_id) &&
	       (in->status == 0 || o->status == in->status) &&
	       (in->payment_status == 0 || o->payment_status == in->payment_status) &&
	       (in->agenda_id == 0 || o->agenda_id == in->agenda_id) &&
	       (in->technician_id == 0 || o->technician_id == in->technician_id) &&
	       (in->customer_id == 0 || o->customer_id == in->customer_id) &&
	       (!scheduled ||
		(o->scheduled_start_ms != 0 &&
		 in_range(o->scheduled_start_ms, in->scheduled_from_ms, in->scheduled_to_ms))) &&
	       in_range(o->created_ms, in->created_from_ms, in->created_to_ms);
}

/* A token is good only for the filters it was made for. */
static void list_filters_hash(const Ospay__V1__OrdersListRequest *in, uint8_t out[4])
{
	uint8_t b[8 * 10], h[32];
	be64_put(b, (uint64_t)in->status);
	be64_put(b + 8, (uint64_t)in->payment_status);
	be64_put(b + 16, in->agenda_id);
	be64_put(b + 24, in->technician_id);
	be64_put(b + 32, in->customer_id);
	be64_put(b + 40, in->unit_id);
	be64_put_i64(b + 48, in->scheduled_from_ms);
	be64_put_i64(b + 56, in->scheduled_to_ms);
	be64_put_i64(b + 64, in->created_from_ms);
	be64_put_i64(b + 72, in->created_to_ms);
	crypto_sha256(b, sizeof(b), NULL, 0, h);
	memcpy(out, h, 4);
}

static void list_check(srv_req_t *r, const Ospay__V1__OrdersListRequest *in)
{
	if ((int)in->status < 0 ||
	    in->status > OSPAY__V1__ORDER_STATUS__ORDER_STATUS_AWAITING_SCHEDULING)
		status_violation(&r->st, "status", "an OrderStatus");
	if ((int)in->payment_status < 0 ||
	    in->payment_status > OSPAY__V1__ORDER_PAYMENT_STATUS__ORDER_PAYMENT_STATUS_PAID)
		status_violation(&r->st, "payment_status", "an OrderPaymentStatus");
	if (in->scheduled_from_ms < 0)
		status_violation(&r->st, "scheduled_from_ms", "must not be negative");
	if (in->scheduled_to_ms < 0)
		status_violation(&r->st, "scheduled_to_ms", "must not be negative");
	else if (in->scheduled_to_ms != 0 && in->scheduled_to_ms <= in->scheduled_from_ms)
		status_violation(&r->st, "scheduled_to_ms", "must be after scheduled_from_ms");
	if (in->created_from_ms < 0)
		status_violation(&r->st, "created_from_ms", "must not be negative");
	if (in->created_to_ms < 0)
		status_violation(&r->st, "created_to_ms", "must not be negative");
	else if (in->created_to_ms != 0 && in->created_to_ms <= in->created_from_ms)
		status_violation(&r->st, "created_to_ms", "must be after created_from_ms");
}

/* False when the filter names an agenda, technician or customer the caller cannot see. */
static int list_key_visible(srv_req_t *r, store_txn_t *txn, const list_plan_t *p, bool *visible)
{
	unsigned table;
	const ProtobufCMessageDescriptor *desc;
	ProtobufCMessage *m = NULL;
	*visible = true;
	if (p->by_unit)
		return 0;
	if (p->table == DB_ORD_C_CUSTOMER) {
		table = DB_CUSTOMERS;
		desc = &ospay__v1__customer__descriptor;
	} else if (p->table == DB_ORD_C_TECH || p->table == DB_ORD_S_TECH) {
		table = DB_TECHNICIANS;
		desc = &ospay__v1__technician__descriptor;
	} else {
		table = DB_AGENDAS;
		desc = &ospay__v1__agenda__descriptor;
	}
	int rc = kit_load(txn, table, p->key, desc, &m);
	if (rc == 0) {
		uint64_t org, unit;
		kit_owner(m, &org, &unit);
		*visible = kit_sees(r, org, unit);
		protobuf_c_message_free_unpacked(m, NULL);
	}
	/* A deleted agenda's orders keep its id: they are checked one by one. */
	return rc == -ENOENT ? 0 : rc;
}

/*
 * Opens the plan's walk at from: nothing when the filter names an agenda,
 * technician or customer the caller cannot see.
 */
static int list_open(srv_req_t *r, store_txn_t *txn, const uint8_t *from, db_scan_t **scan,
		     void *arg)
{
	const list_ctx_t *c = arg;
	const list_plan_t *p = &c->plan;
	uint8_t one[8];
	bool visible = true;
	int rc = 0;
	*scan = NULL;
	if (!srv_check(r, PERM_READ, 0))
		return rc;
	rc = list_key_visible(r, txn, p, &visible);
	if (rc != 0 || !visible)
		return rc;
	if (!p->by_unit) {
		be64_put(one, p->key);
		return db_scan_open(txn, p->table, one, 8, 1, from, DB_POS_LEN, scan);
	}
	return kit_scan_units(r, txn, c->in->unit_id, p->table, p->tag, from, scan);
}

int h_orders_list(srv_req_t *r, store_txn_t *txn)
{
	const Ospay__V1__OrdersListRequest *in = (const void *)r->in;
	list_ctx_t c = {.in = in};
	list_plan(in, &c.plan);
	page_t pg = {.token_kind = KIT_TOK_ORDERS,
		     .token = in->page_token,
		     .size = in->page_size,
		     .lo = c.plan.lo,
		     .hi = c.plan.hi,
		     .table = DB_ORDERS,
		     .desc = &ospay__v1__order__descriptor,
		     .what = "list orders",
		     .open = list_open,
		     .match = list_match,
		     .arg = &c};
	list_filters_hash(in, pg.hash);
	list_check(r, in);
	int rc = page_list(r, txn, &pg);
	if (rc == 0 && srv_ok(r))
		rc = kit_reply_list(r, &ospay__v1__orders_list_response__descriptor, pg.items, pg.n,
				    pg.next);
	page_free(&pg);
	return rc;
}

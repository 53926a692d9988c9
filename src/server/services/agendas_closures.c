/*
 * Closed days (Agendas/AddClosure, RemoveClosure, ListClosures,
 * SetNationalHolidays): stored in the organization's FieldSettingsRecord, read
 * by Orders' checks and Availability through booking_day_closed.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "core/date.h"
#include "core/holidays.h"
#include "server/db/db.h"
#include "server/rpc/kit.h"
#include "server/rpc/srv.h"
#include "server/services/booking.h"
#include "server/services/services.h"

#define CLOSURES_MAX 2000
#define CLOSURE_REASON_MAX 200
#define CLOSURES_LIST_MAX_DAYS 366

int h_agendas_add_closure(srv_req_t *r, store_txn_t *txn)
{
	const Ospay__V1__AgendasAddClosureRequest *in = (const void *)r->in;
	Ospay__V1__Agenda *a = NULL;
	Ospay__V1__FieldSettingsRecord *fs = NULL;
	Ospay__V1__Closure c = OSPAY__V1__CLOSURE__INIT;
	int64_t day;
	uint64_t unit = 0;
	int rc = 0;
	if (in->agenda_id != 0) {
		rc = kit_get(r, txn, &kit_agendas, "agenda_id", in->agenda_id, PERM_CONFIGURE, &a);
		if (rc != 0 || !srv_ok(r))
			return rc;
		unit = a->unit_id;
	}
	if (date_parse(in->date, &day) != 0)
		status_violation(&r->st, "date", "a date \"YYYY-MM-DD\"");
	kit_check_name(r, "reason", in->reason, CLOSURE_REASON_MAX);
	if (!srv_ok(r))
		return rc;
	rc = booking_settings_for(r, txn, PERM_CONFIGURE, unit, &fs);
	if (rc != 0 || !srv_ok(r))
		return rc;
	for (size_t i = 0; i < fs->n_closures; i++) {
		if (fs->closures[i]->agenda_id == in->agenda_id &&
		    strcmp(fs->closures[i]->date, in->date) == 0)
			return srv_fail(r, ST_ALREADY_EXISTS,
					"%s is already closed (closure %llu: %s)", in->date,
					(unsigned long long)fs->closures[i]->id,
					fs->closures[i]->reason);
	}
	if (fs->n_closures >= CLOSURES_MAX)
		return srv_fail(r, ST_RESOURCE_EXHAUSTED, "at most %d closures: remove past ones",
				CLOSURES_MAX);
	rc = kit_new_id(r, txn, "closure", &c.id);
	if (rc != 0 || !srv_ok(r))
		return rc;
	c.agenda_id = in->agenda_id;
	c.date = in->date;
	c.reason = in->reason;
	c.created_ms = r->now_ms;
	c.created_by_token_id = r->sess->p.token_id;
	rc = booking_settings_put(r, txn, fs, "closures", &c.base);
	if (rc != 0 || !srv_ok(r))
		return rc;
	return kit_reply_one(r, &ospay__v1__agendas_add_closure_response__descriptor, &c.base);
}

int h_agendas_remove_closure(srv_req_t *r, store_txn_t *txn)
{
	const Ospay__V1__AgendasRemoveClosureRequest *in = (const void *)r->in;
	Ospay__V1__FieldSettingsRecord *fs = NULL;
	Ospay__V1__Agenda *a = NULL;
	int rc = booking_settings_get(r, txn, &fs);
	size_t i = 0;
	if (rc != 0)
		return rc;
	while (i < fs->n_closures && fs->closures[i]->id != in->id)
		i++;
	if (in->id == 0 || i == fs->n_closures)
		return srv_fail(r, ST_NOT_FOUND, "no closure %llu", (unsigned long long)in->id);
	/* An agenda's closure is its unit's configuration; an organization-wide one needs an
	 * organization-wide admin. */
	uint64_t unit = 0;
	if (fs->closures[i]->agenda_id != 0) {
		rc = kit_get(r, txn, &kit_agendas, NULL, fs->closures[i]->agenda_id, PERM_CONFIGURE,
			     &a);
		if (rc != 0)
			return rc;
		if (!srv_ok(r) && r->st.code != ST_NOT_FOUND)
			return rc;
		if (!srv_ok(r)) {
			/* A deleted agenda's closure: whoever configures the organization. */
			status_clear(&r->st);
		} else {
			unit = a->unit_id;
		}
	}
	if (!srv_check(r, PERM_CONFIGURE, unit))
		return rc;
	rc = booking_settings_drop(r, txn, fs, "closures", i);
	if (rc != 0 || !srv_ok(r))
		return rc;
	Ospay__V1__AgendasRemoveClosureResponse resp =
		OSPAY__V1__AGENDAS_REMOVE_CLOSURE_RESPONSE__INIT;
	return srv_reply_msg(r, &resp.base);
}

int h_agendas_list_closures(srv_req_t *r, store_txn_t *txn)
{
	const Ospay__V1__AgendasListClosuresRequest *in = (const void *)r->in;
	Ospay__V1__FieldSettingsRecord *fs = NULL;
	Ospay__V1__Agenda *a = NULL;
	Ospay__V1__ClosedDay *days = NULL, **ptrs = NULL;
	char *dates = NULL;
	int64_t from = 0, to = 0;
	size_t n = 0;
	int rc = 0;
	if (in->agenda_id != 0) {
		rc = kit_get(r, txn, &kit_agendas, "agenda_id", in->agenda_id, PERM_READ, &a);
		if (rc != 0 || !srv_ok(r))
			goto out;
	} else if (!srv_check(r, PERM_READ, 0)) {
		goto out;
	}
	if (date_parse(in->from_date, &from) != 0)
		status_violation(&r->st, "from_date", "a date \"YYYY-MM-DD\"");
	if (date_parse(in->to_date, &to) != 0)
		status_violation(&r->st, "to_date", "a date \"YYYY-MM-DD\"");
	else if (srv_ok(r) && (to < from || to - from + 1 > CLOSURES_LIST_MAX_DAYS))
		status_violation(&r->st, "to_date", "from from_date, at most %d days",
				 CLOSURES_LIST_MAX_DAYS);
	if (!srv_ok(r))
		goto out;
	rc = booking_settings_get(r, txn, &fs);
	if (rc != 0)
		goto out;
	size_t ndays = (size_t)(to - from + 1);
	days = calloc(ndays, sizeof(*days));
	ptrs = calloc(ndays, sizeof(*ptrs));
	dates = calloc(ndays, 16);
	if (days == NULL || ptrs == NULL || dates == NULL) {
		rc = -ENOMEM;
		goto out;
	}
	/* Day by day, the same question Create asks: one answer per closed day. */
	for (int64_t d = from; d <= to; d++) {
		uint64_t closure;
		const char *why = booking_day_closed(fs, in->agenda_id, d, &closure);
		if (why == NULL)
			continue;
		Ospay__V1__ClosedDay *cd = &days[n];
		ospay__v1__closed_day__init(cd);
		date_format(d, dates + 16 * n, 16);
		cd->date = dates + 16 * n;
		cd->reason = (char *)why;
		cd->closure_id = closure;
		cd->national_holiday = closure == 0;
		for (size_t i = 0; i < fs->n_closures && closure != 0; i++)
			if (fs->closures[i]->id == closure)
				cd->agenda_id = fs->closures[i]->agenda_id;
		ptrs[n++] = cd;
	}
	Ospay__V1__AgendasListClosuresResponse resp =
		OSPAY__V1__AGENDAS_LIST_CLOSURES_RESPONSE__INIT;
	resp.days = ptrs;
	resp.n_days = n;
	resp.national_holidays_closed = fs->national_holidays_closed;
	rc = srv_reply_msg(r, &resp.base);
out:
	free(days);
	free(ptrs);
	free(dates);
	return rc;
}

int h_agendas_set_national_holidays(srv_req_t *r, store_txn_t *txn)
{
	const Ospay__V1__AgendasSetNationalHolidaysRequest *in = (const void *)r->in;
	Ospay__V1__FieldSettingsRecord *fs = NULL;
	int rc = booking_settings_for(r, txn, PERM_CONFIGURE, 0, &fs);
	if (rc != 0 || !srv_ok(r))
		return rc;
	fs->national_holidays_closed = in->closed;
	rc = booking_settings_put(r, txn, fs, NULL, NULL);
	if (rc != 0 || !srv_ok(r))
		return rc;
	Ospay__V1__AgendasSetNationalHolidaysResponse resp =
		OSPAY__V1__AGENDAS_SET_NATIONAL_HOLIDAYS_RESPONSE__INIT;
	resp.closed = in->closed;
	return srv_reply_msg(r, &resp.base);
}

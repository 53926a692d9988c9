/*
 * Bad input on every field of every new method: INVALID_ARGUMENT with a
 * violation naming the field, and nothing stored.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "support/domain.h"
#include "support/proc.h"
#include "support/records.h"
#include "support/suite.h"

TSP_E2E_SUITE(validation, adm, NULL, "2026-12-01T12:00:00Z", 60);

/* Calls method and asserts INVALID_ARGUMENT with a violation on each field named. */
static void bad(const char *method, const ProtobufCMessage *m, const char *const *fields, size_t n,
		const char *what)
{
	status_t st;
	int code = tsp_call(adm, method, m, NULL, NULL, NULL, &st);
	cr_assert_eq(code, 3, "%s: %s answered %d (%s), not INVALID_ARGUMENT", what, method, code,
		     st.message);
	for (size_t i = 0; i < n; i++) {
		char all[1024] = "";
		for (size_t k = 0; k < st.n_violations; k++) {
			strncat(all, st.violations[k].field, sizeof(all) - strlen(all) - 2);
			strncat(all, " ", sizeof(all) - strlen(all) - 1);
		}
		cr_assert(tso_violation(&st, fields[i]), "%s: no violation on %s (got: %s)", what,
			  fields[i], all);
	}
}

#define BAD1(method, msg, field, what)                                                             \
	do {                                                                                       \
		const char *f_[] = {field};                                                        \
		bad(method, &(msg).base, f_, 1, what);                                             \
	} while (0)

Test(validation, customers_create_every_field)
{
	const char *cc = "ospay.v1.Customers/Create";
	Ospay__V1__Address a;
	Ospay__V1__CustomersCreateRequest m;
	tsr_customer(&m, &a, srv.unit_id, "Maria", "529.982.247-25");
	m.email = "maria@example.com";
	char long_text[300];
	memset(long_text, 'x', sizeof(long_text) - 1);
	long_text[sizeof(long_text) - 1] = '\0';

	Ospay__V1__CustomersCreateRequest x = m;
	x.name = "  ";
	BAD1(cc, x, "name", "blank name");
	x = m;
	x.name = long_text;
	BAD1(cc, x, "name", "long name");
	x = m;
	x.document = "529.982.247-26";
	BAD1(cc, x, "document", "CPF check digit");
	x.document = "11.222.333/0001-82";
	BAD1(cc, x, "document", "CNPJ check digit");
	x.document = "111.111.111-11";
	BAD1(cc, x, "document", "same digits");
	x.document = "123";
	BAD1(cc, x, "document", "short");
	x.document = "";
	BAD1(cc, x, "document", "missing");
	x = m;
	x.phone = "11 98765-4321";
	BAD1(cc, x, "phone", "no country code");
	x.phone = "+55 11 8765-432";
	BAD1(cc, x, "phone", "short Brazilian number");
	x = m;
	x.email = "maria@";
	BAD1(cc, x, "email", "email");
	x = m;
	x.address = NULL;
	BAD1(cc, x, "address", "no address");
	x = m;
	x.unit_id = 0;
	BAD1(cc, x, "unit_id", "org-wide token without unit");
	x.unit_id = 424242;
	BAD1(cc, x, "unit_id", "unknown unit");

	Ospay__V1__Address b = a;
	x = m;
	x.address = &b;
	b.street = "";
	BAD1(cc, x, "address.street", "street");
	b = a;
	b.number = "123456789012345678901";
	BAD1(cc, x, "address.number", "number");
	b = a;
	b.complement = "apto\x01";
	BAD1(cc, x, "address.complement", "complement");
	b = a;
	b.district = long_text;
	BAD1(cc, x, "address.district", "district");
	b = a;
	b.city = "";
	BAD1(cc, x, "address.city", "city");
	b = a;
	b.state = "XX";
	BAD1(cc, x, "address.state", "state");
	b = a;
	b.cep = "0130-000";
	BAD1(cc, x, "address.cep", "cep");

	/* Everything wrong at once: every field named in one reply. */
	Ospay__V1__Address all = OSPAY__V1__ADDRESS__INIT;
	all.street = "";
	all.city = "";
	all.state = "ZZ";
	all.cep = "1";
	x = m;
	x.name = "";
	x.document = "1";
	x.phone = "1";
	x.email = "1";
	x.address = &all;
	const char *fields[] = {"name",           "document",     "phone",         "email",
				"address.street", "address.city", "address.state", "address.cep"};
	bad(cc, &x.base, fields, 8, "all at once");

	/* Nothing was stored by any of them. */
	Ospay__V1__CustomersListRequest l = OSPAY__V1__CUSTOMERS_LIST_REQUEST__INIT;
	Ospay__V1__CustomersListResponse *r =
		tsp_call_ok(adm, "ospay.v1.Customers/List", &l.base,
			    &ospay__v1__customers_list_response__descriptor);
	cr_assert_eq(r->n_customers, 0);
	ospay__v1__customers_list_response__free_unpacked(r, NULL);
}

Test(validation, customers_other_methods)
{
	uint64_t c = tso_customer(adm, srv.unit_id, 1, "São Paulo");
	Ospay__V1__CustomersGetRequest g = OSPAY__V1__CUSTOMERS_GET_REQUEST__INIT;
	BAD1("ospay.v1.Customers/Get", g, "id", "get id 0");
	Ospay__V1__CustomersListRequest l = OSPAY__V1__CUSTOMERS_LIST_REQUEST__INIT;
	l.document = "12";
	BAD1("ospay.v1.Customers/List", l, "document", "list by bad document");
	l.document = "";
	l.page_token = "garbage!";
	BAD1("ospay.v1.Customers/List", l, "page_token", "page token");

	const char *cu = "ospay.v1.Customers/Update";
	Ospay__V1__CustomersUpdateRequest u = OSPAY__V1__CUSTOMERS_UPDATE_REQUEST__INIT;
	u.name = "X";
	BAD1(cu, u, "id", "update id 0");
	u.id = c;
	char *unknown[] = {"name", "favorite_color"};
	u.update_mask = unknown;
	u.n_update_mask = 2;
	BAD1(cu, u, "update_mask", "unknown path");
	char *name[] = {"name"};
	u.update_mask = name;
	u.n_update_mask = 1;
	u.name = "";
	BAD1(cu, u, "name", "clearing a required name");
	char *addr[] = {"address"};
	u.update_mask = addr;
	BAD1(cu, u, "address", "clearing the address");
	u.update_mask = NULL;
	u.n_update_mask = 0;
	u.phone = "+55 00 12345678";
	BAD1(cu, u, "phone", "update phone");
	u.phone = "";
	u.email = "a@b";
	BAD1(cu, u, "email", "update email");
	u.email = "";
	u.document = "00000000000";
	BAD1(cu, u, "document", "update document");

	const char *as = "ospay.v1.Customers/AddService";
	Ospay__V1__CustomersAddServiceRequest s = OSPAY__V1__CUSTOMERS_ADD_SERVICE_REQUEST__INIT;
	s.plan_name = "Fibra";
	BAD1(as, s, "customer_id", "service without customer");
	s.customer_id = c;
	s.plan_name = "";
	BAD1(as, s, "plan_name", "plan name");
	s.plan_name = "Fibra";
	s.monthly_amount = -1;
	BAD1(as, s, "monthly_amount", "negative amount");
	s.monthly_amount = 1000000001;
	BAD1(as, s, "monthly_amount", "huge amount");
	s.monthly_amount = 9990;
	Ospay__V1__CustomersAddServiceResponse *sr = tsp_call_ok(
		adm, as, &s.base, &ospay__v1__customers_add_service_response__descriptor);
	uint64_t svc = sr->service->id;
	ospay__v1__customers_add_service_response__free_unpacked(sr, NULL);
	const char *us = "ospay.v1.Customers/UpdateService";
	Ospay__V1__CustomersUpdateServiceRequest v =
		OSPAY__V1__CUSTOMERS_UPDATE_SERVICE_REQUEST__INIT;
	v.plan_name = "X";
	BAD1(us, v, "service_id", "service id 0");
	v.service_id = svc;
	v.status = 7;
	BAD1(us, v, "status", "status");
	v.status = 0;
	v.monthly_amount = -3;
	BAD1(us, v, "monthly_amount", "amount");
	char *mask[] = {"plan_name", "speed"};
	v.monthly_amount = 0;
	v.update_mask = mask;
	v.n_update_mask = 2;
	BAD1(us, v, "update_mask", "unknown path");
	/* customer_id 0 lists every customer's services; the filters are checked. */
	Ospay__V1__CustomersListServicesRequest ls =
		OSPAY__V1__CUSTOMERS_LIST_SERVICES_REQUEST__INIT;
	ls.rail = 9;
	BAD1("ospay.v1.Customers/ListServices", ls, "rail", "list services");
}

Test(validation, technicians)
{
	const char *ct = "ospay.v1.Admin/CreateTechnician";
	Ospay__V1__CreateTechnicianRequest t = OSPAY__V1__CREATE_TECHNICIAN_REQUEST__INIT;
	t.unit_id = srv.unit_id;
	t.name = "";
	BAD1(ct, t, "name", "name");
	t.name = "João";
	t.phone = "123";
	BAD1(ct, t, "phone", "phone");
	t.phone = "";
	t.email = "joão@x.com";
	BAD1(ct, t, "email", "email");
	Ospay__V1__ListTechniciansRequest l = OSPAY__V1__LIST_TECHNICIANS_REQUEST__INIT;
	l.page_token = "AAAAAAAAAAAA";
	BAD1("ospay.v1.Admin/ListTechnicians", l, "page_token", "page token");
}

Test(validation, agendas)
{
	const char *ac = "ospay.v1.Agendas/Create";
	Ospay__V1__AgendaWindow w0 = tso_window(1, 8, 12, 2), w1 = tso_window(1, 13, 18, 2);
	Ospay__V1__AgendaWindow *wp[] = {&w0, &w1};
	char *cities[] = {"São Paulo", "Santos"};
	Ospay__V1__AgendasCreateRequest m = OSPAY__V1__AGENDAS_CREATE_REQUEST__INIT;
	m.unit_id = srv.unit_id;
	m.name = "Instalações";
	m.cities = cities;
	m.n_cities = 2;
	m.windows = wp;
	m.n_windows = 2;
	m.slot_minutes = 30;
	Ospay__V1__AgendasCreateRequest x = m;
	x.name = "";
	BAD1(ac, x, "name", "name");
	x = m;
	char *dup[] = {"São Paulo", "SAO PAULO"};
	x.cities = dup;
	BAD1(ac, x, "cities[1]", "same city twice");
	char *blank[] = {"Santos", ""};
	x.cities = blank;
	BAD1(ac, x, "cities[1]", "blank city");
	x = m;
	x.n_windows = 0;
	BAD1(ac, x, "windows", "no windows");
	x = m;
	w1.weekday = 0;
	BAD1(ac, x, "windows[1]", "weekday");
	w1 = tso_window(1, 11, 14, 2);
	BAD1(ac, x, "windows[1]", "overlap");
	w1 = tso_window(2, 14, 13, 2);
	BAD1(ac, x, "windows[1]", "end before start");
	w1 = tso_window(2, 13, 25, 2);
	BAD1(ac, x, "windows[1]", "past midnight");
	w1 = tso_window(2, 13, 18, 0);
	BAD1(ac, x, "windows[1]", "capacity 0");
	w1 = tso_window(1, 13, 18, 2);
	Ospay__V1__AgendaWindow many[65], *mp[65];
	for (int i = 0; i < 65; i++) {
		many[i] = tso_window(1 + i % 7, i / 7, i / 7 + 1, 1);
		mp[i] = &many[i];
	}
	x.windows = mp;
	x.n_windows = 65;
	BAD1(ac, x, "windows", "65 windows");
	x = m;
	x.daily_max = 100001;
	BAD1(ac, x, "daily_max", "daily max");
	x = m;
	x.slot_minutes = 4;
	BAD1(ac, x, "slot_minutes", "slot");
	x.slot_minutes = 0;
	BAD1(ac, x, "slot_minutes", "no slot");
	x = m;
	x.unit_id = 0;
	BAD1(ac, x, "unit_id", "unit");

	Ospay__V1__AgendasCreateResponse *r =
		tsp_call_ok(adm, ac, &m.base, &ospay__v1__agendas_create_response__descriptor);
	uint64_t id = r->agenda->id;
	ospay__v1__agendas_create_response__free_unpacked(r, NULL);
	const char *au = "ospay.v1.Agendas/Update";
	Ospay__V1__AgendasUpdateRequest u = OSPAY__V1__AGENDAS_UPDATE_REQUEST__INIT;
	u.name = "x";
	BAD1(au, u, "id", "update id");
	u.id = id;
	char *mask[] = {"colour"};
	u.update_mask = mask;
	u.n_update_mask = 1;
	BAD1(au, u, "update_mask", "unknown path");
	char *wmask[] = {"windows"};
	u.update_mask = wmask;
	BAD1(au, u, "windows", "clearing the windows");
	char *smask[] = {"slot_minutes"};
	u.update_mask = smask;
	BAD1(au, u, "slot_minutes", "clearing the slot");
	Ospay__V1__AgendasGetRequest g = OSPAY__V1__AGENDAS_GET_REQUEST__INIT;
	BAD1("ospay.v1.Agendas/Get", g, "id", "get");
	Ospay__V1__AgendasDeleteRequest d = OSPAY__V1__AGENDAS_DELETE_REQUEST__INIT;
	BAD1("ospay.v1.Agendas/Delete", d, "id", "delete");

	const char *cal = "ospay.v1.Agendas/Calendar";
	Ospay__V1__AgendasCalendarRequest c = OSPAY__V1__AGENDAS_CALENDAR_REQUEST__INIT;
	c.from_date = "2026-12-01";
	c.to_date = "2026-12-07";
	c.view_by = OSPAY__V1__CALENDAR_VIEW_BY__CALENDAR_VIEW_BY_AGENDA;
	Ospay__V1__AgendasCalendarRequest y = c;
	y.from_date = "2026-13-01";
	BAD1(cal, y, "from_date", "month 13");
	y = c;
	y.to_date = "07/12/2026";
	BAD1(cal, y, "to_date", "Brazilian date format");
	y = c;
	y.to_date = "2026-11-30";
	BAD1(cal, y, "to_date", "before from");
	y = c;
	y.view_by = 0;
	BAD1(cal, y, "view_by", "view by");
}

Test(validation, orders)
{
	uint64_t c = tso_customer(adm, srv.unit_id, 1, "São Paulo");
	const char *oc = "ospay.v1.Orders/Create";
	Ospay__V1__OrdersCreateRequest m = OSPAY__V1__ORDERS_CREATE_REQUEST__INIT;
	m.customer_id = c;
	m.kind = "REPARO";
	m.scheduled_start_ms = tso_at(2026, 12, 7, 9, 0);
	m.duration_minutes = 60;
	Ospay__V1__OrdersCreateRequest x = m;
	x.customer_id = 0;
	BAD1(oc, x, "customer_id", "customer");
	x = m;
	x.kind = "";
	BAD1(oc, x, "kind", "kind");
	x = m;
	x.description = "linha\x02";
	BAD1(oc, x, "description", "control character");
	x = m;
	x.scheduled_start_ms += 1000;
	BAD1(oc, x, "scheduled_start_ms", "not a whole minute");
	x.scheduled_start_ms = 631152000000; /* 1990 */
	BAD1(oc, x, "scheduled_start_ms", "1990");
	x.scheduled_start_ms = -60000;
	BAD1(oc, x, "scheduled_start_ms", "negative");
	x = m;
	x.duration_minutes = 1441;
	BAD1(oc, x, "duration_minutes", "longer than a day");
	x = m;
	x.scheduled_start_ms = 0;
	BAD1(oc, x, "duration_minutes", "duration without start");
	x = m;
	x.duration_minutes = 0;
	BAD1(oc, x, "duration_minutes", "start without duration or agenda");
	/* An agenda without a start is an order awaiting scheduling (awaiting_test.c). */
	x = m;
	x.amount = -1;
	BAD1(oc, x, "amount", "negative amount");
	x.amount = 1000000001;
	BAD1(oc, x, "amount", "huge amount");

	uint64_t id;
	status_t st;
	cr_assert_eq(tso_order(adm, c, 0, 0, 0, 0, &id, &st), 0);
	const char *ou = "ospay.v1.Orders/Update";
	Ospay__V1__OrdersUpdateRequest u = OSPAY__V1__ORDERS_UPDATE_REQUEST__INIT;
	u.kind = "x";
	BAD1(ou, u, "id", "update id");
	u.id = id;
	char *mask[] = {"priority"};
	u.update_mask = mask;
	u.n_update_mask = 1;
	BAD1(ou, u, "update_mask", "unknown path");
	char *kmask[] = {"kind"};
	u.update_mask = kmask;
	u.kind = "";
	BAD1(ou, u, "kind", "clearing kind");
	u.update_mask = NULL;
	u.n_update_mask = 0;
	u.kind = "";
	u.duration_minutes = 30;
	BAD1(ou, u, "duration_minutes", "duration of an unscheduled order");
	/* Update putting an unscheduled order on an agenda makes it await scheduling. */
	u.duration_minutes = 0;
	u.agenda_id = 0;
	u.amount = -2;
	BAD1(ou, u, "amount", "amount");

	const char *orr = "ospay.v1.Orders/Reschedule";
	Ospay__V1__OrdersRescheduleRequest r = OSPAY__V1__ORDERS_RESCHEDULE_REQUEST__INIT;
	r.scheduled_start_ms = tso_at(2026, 12, 7, 9, 0);
	BAD1(orr, r, "id", "reschedule id");
	r.id = id;
	r.scheduled_start_ms = 0;
	BAD1(orr, r, "scheduled_start_ms", "reschedule without start");
	r.scheduled_start_ms = tso_at(2026, 12, 7, 9, 0) + 30000;
	BAD1(orr, r, "scheduled_start_ms", "half minute");
	r.scheduled_start_ms = tso_at(2026, 12, 7, 9, 0);
	r.duration_minutes = 5000;
	BAD1(orr, r, "duration_minutes", "long");
	r.duration_minutes = 0;
	BAD1(orr, r, "duration_minutes", "no duration known");

	const char *of = "ospay.v1.Orders/Finalize";
	Ospay__V1__OrdersFinalizeRequest f = OSPAY__V1__ORDERS_FINALIZE_REQUEST__INIT;
	BAD1(of, f, "id", "finalize id");
	f.id = id;
	BAD1(of, f, "method_type", "no method");
	f.method_type = 99;
	BAD1(of, f, "method_type", "unknown method");
	f.method_type = OSPAY__V1__PAYMENT_METHOD_TYPE__PAYMENT_METHOD_TYPE_CASH;
	f.installments = 2;
	BAD1(of, f, "installments", "installments for cash");
	f.installments = 0;
	char long_note[600];
	memset(long_note, 'n', sizeof(long_note) - 1);
	long_note[sizeof(long_note) - 1] = '\0';
	f.note = long_note;
	BAD1(of, f, "note", "note");
	Ospay__V1__OrdersCancelRequest cn = OSPAY__V1__ORDERS_CANCEL_REQUEST__INIT;
	BAD1("ospay.v1.Orders/Cancel", cn, "id", "cancel id");
	cn.id = id;
	cn.reason = long_note;
	BAD1("ospay.v1.Orders/Cancel", cn, "reason", "reason");
	Ospay__V1__OrdersGetRequest g = OSPAY__V1__ORDERS_GET_REQUEST__INIT;
	BAD1("ospay.v1.Orders/Get", g, "id", "get id");

	const char *ol = "ospay.v1.Orders/List";
	Ospay__V1__OrdersListRequest l = OSPAY__V1__ORDERS_LIST_REQUEST__INIT;
	Ospay__V1__OrdersListRequest y = l;
	y.status = 9;
	BAD1(ol, y, "status", "status");
	y = l;
	y.payment_status = 9;
	BAD1(ol, y, "payment_status", "payment status");
	y = l;
	y.scheduled_from_ms = -1;
	BAD1(ol, y, "scheduled_from_ms", "negative");
	y = l;
	y.scheduled_from_ms = 2000;
	y.scheduled_to_ms = 1000;
	BAD1(ol, y, "scheduled_to_ms", "empty range");
	y = l;
	y.created_to_ms = -5;
	BAD1(ol, y, "created_to_ms", "negative");
	y = l;
	y.created_from_ms = 5;
	y.created_to_ms = 5;
	BAD1(ol, y, "created_to_ms", "empty created range");
	y = l;
	y.page_token = "!!!!";
	BAD1(ol, y, "page_token", "token");

	/* The one order made above is all there is. */
	Ospay__V1__OrdersListResponse *lr =
		tsp_call_ok(adm, ol, &l.base, &ospay__v1__orders_list_response__descriptor);
	cr_assert_eq(lr->n_orders, 1);
	cr_assert_eq(lr->orders[0]->status, OSPAY__V1__ORDER_STATUS__ORDER_STATUS_OPEN);
	ospay__v1__orders_list_response__free_unpacked(lr, NULL);
}

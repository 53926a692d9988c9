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

/* Longer than any name, district, note or reason may be. */
static char long_text[600];

/*
 * The bad requests, one a row: the method, the case's name, then up to two
 * fields set on the method's valid request (tsr_variant_set: path, value).
 * The reply must name the first field set in a violation.
 */
static const char *const cases[][6] = {
	{"Customers/Create", "blank name", "name", "  "},
	{"Customers/Create", "long name", "name", long_text},
	{"Customers/Create", "CPF check digit", "document", "529.982.247-26"},
	{"Customers/Create", "CNPJ check digit", "document", "11.222.333/0001-82"},
	{"Customers/Create", "same digits", "document", "111.111.111-11"},
	{"Customers/Create", "short", "document", "123"},
	{"Customers/Create", "missing", "document", ""},
	{"Customers/Create", "no country code", "phone", "11 98765-4321"},
	{"Customers/Create", "short Brazilian number", "phone", "+55 11 8765-432"},
	{"Customers/Create", "email", "email", "maria@"},
	{"Customers/Create", "no address", "address", NULL},
	{"Customers/Create", "org-wide token without unit", "unit_id", "0"},
	{"Customers/Create", "unknown unit", "unit_id", "424242"},
	{"Customers/Create", "street", "address.street", ""},
	{"Customers/Create", "number", "address.number", "123456789012345678901"},
	{"Customers/Create", "complement", "address.complement", "apto\x01"},
	{"Customers/Create", "district", "address.district", long_text},
	{"Customers/Create", "city", "address.city", ""},
	{"Customers/Create", "state", "address.state", "XX"},
	{"Customers/Create", "cep", "address.cep", "0130-000"},

	{"Customers/Get", "get id 0", "id", "0"},
	{"Customers/List", "list by bad document", "document", "12"},
	{"Customers/List", "page token", "page_token", "garbage!"},
	{"Customers/Update", "update id 0", "id", "0", "name", "X"},
	{"Customers/Update", "unknown path", "update_mask", "name,favorite_color", "name", "X"},
	{"Customers/Update", "clearing a required name", "name", "", "update_mask", "name"},
	{"Customers/Update", "clearing the address", "address", NULL, "update_mask", "address"},
	{"Customers/Update", "update phone", "phone", "+55 00 12345678"},
	{"Customers/Update", "update email", "email", "a@b"},
	{"Customers/Update", "update document", "document", "00000000000"},
	{"Customers/AddService", "service without customer", "customer_id", "0"},
	{"Customers/AddService", "plan name", "plan_name", ""},
	{"Customers/AddService", "negative amount", "monthly_amount", "-1"},
	{"Customers/AddService", "huge amount", "monthly_amount", "1000000001"},
	{"Customers/UpdateService", "service id 0", "service_id", "0"},
	{"Customers/UpdateService", "status", "status", "7"},
	{"Customers/UpdateService", "amount", "monthly_amount", "-3"},
	{"Customers/UpdateService", "unknown path", "update_mask", "plan_name,speed"},
	/* customer_id 0 lists every customer's services; the filters are checked. */
	{"Customers/ListServices", "list services", "rail", "9"},

	{"Admin/CreateTechnician", "name", "name", ""},
	{"Admin/CreateTechnician", "phone", "phone", "123"},
	{"Admin/CreateTechnician", "email", "email", "joão@x.com"},
	{"Admin/ListTechnicians", "page token", "page_token", "AAAAAAAAAAAA"},

	{"Agendas/Create", "name", "name", ""},
	{"Agendas/Create", "no windows", "windows", NULL},
	{"Agendas/Create", "daily max", "daily_max", "100001"},
	{"Agendas/Create", "slot", "slot_minutes", "4"},
	{"Agendas/Create", "no slot", "slot_minutes", "0"},
	{"Agendas/Create", "unit", "unit_id", "0"},
	{"Agendas/Update", "update id", "id", "0"},
	{"Agendas/Update", "unknown path", "update_mask", "colour"},
	{"Agendas/Update", "clearing the windows", "windows", NULL, "update_mask", "windows"},
	{"Agendas/Update", "clearing the slot", "slot_minutes", "0", "update_mask", "slot_minutes"},
	{"Agendas/Get", "get", "id", "0"},
	{"Agendas/Delete", "delete", "id", "0"},
	{"Agendas/Calendar", "month 13", "from_date", "2026-13-01"},
	{"Agendas/Calendar", "Brazilian date format", "to_date", "07/12/2026"},
	{"Agendas/Calendar", "before from", "to_date", "2026-11-30"},
	{"Agendas/Calendar", "view by", "view_by", "0"},

	/* The valid start is Monday 2026-12-07 09:00 local, 1796644800000. An agenda
	 * without a start is an order awaiting scheduling (awaiting_test.c). */
	{"Orders/Create", "customer", "customer_id", "0"},
	{"Orders/Create", "kind", "kind", ""},
	{"Orders/Create", "control character", "description", "linha\x02"},
	{"Orders/Create", "not a whole minute", "scheduled_start_ms", "1796644801000"},
	{"Orders/Create", "1990", "scheduled_start_ms", "631152000000"},
	{"Orders/Create", "negative", "scheduled_start_ms", "-60000"},
	{"Orders/Create", "longer than a day", "duration_minutes", "1441"},
	{"Orders/Create", "duration without start", "duration_minutes", "60", "scheduled_start_ms",
	 "0"},
	{"Orders/Create", "start without duration or agenda", "duration_minutes", "0"},
	{"Orders/Create", "negative amount", "amount", "-1"},
	{"Orders/Create", "huge amount", "amount", "1000000001"},
	/* Update putting an unscheduled order on an agenda makes it await scheduling. */
	{"Orders/Update", "update id", "id", "0", "kind", "x"},
	{"Orders/Update", "unknown path", "update_mask", "priority"},
	{"Orders/Update", "clearing kind", "kind", "", "update_mask", "kind"},
	{"Orders/Update", "duration of an unscheduled order", "duration_minutes", "30"},
	{"Orders/Update", "amount", "amount", "-2"},
	{"Orders/Reschedule", "reschedule id", "id", "0"},
	{"Orders/Reschedule", "reschedule without start", "scheduled_start_ms", "0"},
	{"Orders/Reschedule", "half minute", "scheduled_start_ms", "1796644830000"},
	{"Orders/Reschedule", "long", "duration_minutes", "5000"},
	{"Orders/Reschedule", "no duration known", "duration_minutes", "0"},
	{"Orders/Finalize", "finalize id", "id", "0"},
	{"Orders/Finalize", "no method", "method_type", "0"},
	{"Orders/Finalize", "unknown method", "method_type", "99"},
	{"Orders/Finalize", "installments for cash", "installments", "2", "method_type",
	 "PAYMENT_METHOD_TYPE_CASH"},
	{"Orders/Finalize", "note", "note", long_text, "method_type", "PAYMENT_METHOD_TYPE_CASH"},
	{"Orders/Cancel", "cancel id", "id", "0"},
	{"Orders/Cancel", "reason", "reason", long_text},
	{"Orders/Get", "get id", "id", "0"},
	{"Orders/List", "status", "status", "9"},
	{"Orders/List", "payment status", "payment_status", "9"},
	{"Orders/List", "negative", "scheduled_from_ms", "-1"},
	{"Orders/List", "empty range", "scheduled_to_ms", "1000", "scheduled_from_ms", "2000"},
	{"Orders/List", "negative", "created_to_ms", "-5"},
	{"Orders/List", "empty created range", "created_to_ms", "5", "created_from_ms", "5"},
	{"Orders/List", "token", "page_token", "!!!!"},
};

/* Every case of method ("Orders/List"), each sent on its own variant of valid. */
static void bad_each(const char *method, const ProtobufCMessage *valid)
{
	char full[64];
	snprintf(full, sizeof(full), "ospay.v1.%s", method);
	size_t ran = 0;
	memset(long_text, 'x', sizeof(long_text) - 1); /* the rows hold only its address */
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const char *const *c = cases[i];
		if (strcmp(c[0], method) != 0)
			continue;
		tsr_variant_t v;
		cr_assert_eq(tsr_variant_init(&v, valid), 0);
		for (size_t k = 2; k < 6 && c[k] != NULL; k += 2)
			cr_assert_eq(tsr_variant_set(&v, c[k], c[k + 1]), 0, "%s: %s cannot be %s",
				     c[1], c[k], c[k + 1]);
		tso_invalid_fields(adm, full, v.msg, c[1], &c[2], 1);
		tsr_variant_free(&v);
		ran++;
	}
	cr_assert_gt(ran, 0, "no case of %s", method);
}

Test(validation, customers_every_field)
{
	Ospay__V1__Address a;
	Ospay__V1__CustomersCreateRequest m;
	tsr_customer(&m, &a, srv.unit_id, "Maria", "529.982.247-25");
	m.email = "maria@example.com";
	bad_each("Customers/Create", &m.base);

	/* Everything wrong at once: every field named in one reply. */
	static const char *const wrong[][2] = {
		{"name", ""},
		{"document", "1"},
		{"phone", "1"},
		{"email", "1"},
		{"address.street", ""},
		{"address.city", ""},
		{"address.state", "ZZ"},
		{"address.cep", "1"},
	};
	const char *fields[8];
	tsr_variant_t v;
	cr_assert_eq(tsr_variant_init(&v, &m.base), 0);
	for (size_t i = 0; i < 8; i++) {
		fields[i] = wrong[i][0];
		cr_assert_eq(tsr_variant_set(&v, wrong[i][0], wrong[i][1]), 0, "%s", fields[i]);
	}
	tso_invalid_fields(adm, "ospay.v1.Customers/Create", v.msg, "all at once", fields, 8);
	tsr_variant_free(&v);

	/* Nothing was stored by any of them. */
	Ospay__V1__CustomersListRequest l = OSPAY__V1__CUSTOMERS_LIST_REQUEST__INIT;
	cr_assert_eq(tsp_list_count(adm, "ospay.v1.Customers/List", &l.base,
				    &ospay__v1__customers_list_response__descriptor, "customers"),
		     0);
}

Test(validation, customers_other_methods)
{
	uint64_t c = tso_customer(adm, srv.unit_id, 1, "São Paulo");
	Ospay__V1__CustomersGetRequest g = OSPAY__V1__CUSTOMERS_GET_REQUEST__INIT;
	bad_each("Customers/Get", &g.base);
	Ospay__V1__CustomersListRequest l = OSPAY__V1__CUSTOMERS_LIST_REQUEST__INIT;
	bad_each("Customers/List", &l.base);
	Ospay__V1__CustomersUpdateRequest u = OSPAY__V1__CUSTOMERS_UPDATE_REQUEST__INIT;
	u.id = c;
	bad_each("Customers/Update", &u.base);
	Ospay__V1__CustomersAddServiceRequest s = OSPAY__V1__CUSTOMERS_ADD_SERVICE_REQUEST__INIT;
	s.customer_id = c;
	s.plan_name = "Fibra";
	s.monthly_amount = 9990;
	bad_each("Customers/AddService", &s.base);
	Ospay__V1__CustomersUpdateServiceRequest v =
		OSPAY__V1__CUSTOMERS_UPDATE_SERVICE_REQUEST__INIT;
	v.service_id =
		tsp_call_id(adm, "ospay.v1.Customers/AddService", &s.base,
			    &ospay__v1__customers_add_service_response__descriptor, "service");
	v.plan_name = "X";
	bad_each("Customers/UpdateService", &v.base);
	Ospay__V1__CustomersListServicesRequest ls =
		OSPAY__V1__CUSTOMERS_LIST_SERVICES_REQUEST__INIT;
	bad_each("Customers/ListServices", &ls.base);
}

Test(validation, technicians)
{
	Ospay__V1__CreateTechnicianRequest t = OSPAY__V1__CREATE_TECHNICIAN_REQUEST__INIT;
	t.unit_id = srv.unit_id;
	t.name = "João";
	bad_each("Admin/CreateTechnician", &t.base);
	Ospay__V1__ListTechniciansRequest l = OSPAY__V1__LIST_TECHNICIANS_REQUEST__INIT;
	bad_each("Admin/ListTechnicians", &l.base);
}

Test(validation, agendas)
{
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
	bad_each("Agendas/Create", &m.base);
	/* The second city, and then the second window, wrong in each of these ways. */
	char *dup[] = {"São Paulo", "SAO PAULO"}, *blank[] = {"Santos", ""};
	m.cities = dup;
	tso_invalid(adm, "ospay.v1.Agendas/Create", &m.base, "same city twice", "cities[1]", NULL);
	m.cities = blank;
	tso_invalid(adm, "ospay.v1.Agendas/Create", &m.base, "blank city", "cities[1]", NULL);
	m.cities = cities;
	const struct {
		const char *what;
		Ospay__V1__AgendaWindow w;
	} second[] = {
		{"weekday", tso_window(0, 13, 18, 2)},
		{"overlap", tso_window(1, 11, 14, 2)},
		{"end before start", tso_window(2, 14, 13, 2)},
		{"past midnight", tso_window(2, 13, 25, 2)},
		{"capacity 0", tso_window(2, 13, 18, 0)},
	};
	for (size_t i = 0; i < sizeof(second) / sizeof(second[0]); i++) {
		w1 = second[i].w;
		tso_invalid(adm, "ospay.v1.Agendas/Create", &m.base, second[i].what, "windows[1]",
			    NULL);
	}
	w1 = tso_window(1, 13, 18, 2);
	Ospay__V1__AgendaWindow many[65], *mp[65];
	for (int i = 0; i < 65; i++) {
		many[i] = tso_window(1 + i % 7, i / 7, i / 7 + 1, 1);
		mp[i] = &many[i];
	}
	Ospay__V1__AgendasCreateRequest x = m;
	x.windows = mp;
	x.n_windows = 65;
	tso_invalid(adm, "ospay.v1.Agendas/Create", &x.base, "65 windows", "windows", NULL);

	Ospay__V1__AgendasUpdateRequest u = OSPAY__V1__AGENDAS_UPDATE_REQUEST__INIT;
	u.id = tsp_call_id(adm, "ospay.v1.Agendas/Create", &m.base,
			   &ospay__v1__agendas_create_response__descriptor, "agenda");
	u.name = "x";
	bad_each("Agendas/Update", &u.base);
	Ospay__V1__AgendasGetRequest g = OSPAY__V1__AGENDAS_GET_REQUEST__INIT;
	bad_each("Agendas/Get", &g.base);
	Ospay__V1__AgendasDeleteRequest d = OSPAY__V1__AGENDAS_DELETE_REQUEST__INIT;
	bad_each("Agendas/Delete", &d.base);
	Ospay__V1__AgendasCalendarRequest c = OSPAY__V1__AGENDAS_CALENDAR_REQUEST__INIT;
	c.from_date = "2026-12-01";
	c.to_date = "2026-12-07";
	c.view_by = OSPAY__V1__CALENDAR_VIEW_BY__CALENDAR_VIEW_BY_AGENDA;
	bad_each("Agendas/Calendar", &c.base);
}

Test(validation, orders)
{
	uint64_t c = tso_customer(adm, srv.unit_id, 1, "São Paulo");
	Ospay__V1__OrdersCreateRequest m = OSPAY__V1__ORDERS_CREATE_REQUEST__INIT;
	m.customer_id = c;
	m.kind = "REPARO";
	m.scheduled_start_ms = tso_at(2026, 12, 7, 9, 0);
	m.duration_minutes = 60;
	cr_assert_eq(m.scheduled_start_ms, 1796644800000, "the start the cases are written around");
	bad_each("Orders/Create", &m.base);

	uint64_t id;
	status_t st;
	cr_assert_eq(tso_order(adm, c, 0, 0, 0, 0, &id, &st), 0);
	Ospay__V1__OrdersUpdateRequest u = OSPAY__V1__ORDERS_UPDATE_REQUEST__INIT;
	u.id = id;
	bad_each("Orders/Update", &u.base);
	Ospay__V1__OrdersRescheduleRequest r = OSPAY__V1__ORDERS_RESCHEDULE_REQUEST__INIT;
	r.id = id;
	r.scheduled_start_ms = m.scheduled_start_ms;
	bad_each("Orders/Reschedule", &r.base);
	Ospay__V1__OrdersFinalizeRequest f = OSPAY__V1__ORDERS_FINALIZE_REQUEST__INIT;
	f.id = id;
	bad_each("Orders/Finalize", &f.base);
	Ospay__V1__OrdersCancelRequest cn = OSPAY__V1__ORDERS_CANCEL_REQUEST__INIT;
	cn.id = id;
	bad_each("Orders/Cancel", &cn.base);
	Ospay__V1__OrdersGetRequest g = OSPAY__V1__ORDERS_GET_REQUEST__INIT;
	bad_each("Orders/Get", &g.base);
	Ospay__V1__OrdersListRequest l = OSPAY__V1__ORDERS_LIST_REQUEST__INIT;
	bad_each("Orders/List", &l.base);

	/* The one order made above is all there is. */
	Ospay__V1__OrdersListResponse *lr = tsp_call_ok(
		adm, "ospay.v1.Orders/List", &l.base, &ospay__v1__orders_list_response__descriptor);
	cr_assert_eq(lr->n_orders, 1);
	cr_assert_eq(lr->orders[0]->status, OSPAY__V1__ORDER_STATUS__ORDER_STATUS_OPEN);
	ospay__v1__orders_list_response__free_unpacked(lr, NULL);
}

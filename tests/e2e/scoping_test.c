/*
 * Permissions on every method of Customers, Agendas, Orders and the Admin
 * technician methods: a unit-scoped token never sees another unit's data
 * (gets answer NOT_FOUND, lists leave it out), READ_ONLY changes nothing,
 * OPERATOR does not configure, and an org-wide token sees every unit.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/pbmethod.h"
#include "support/domain.h"
#include "support/proc.h"
#include "support/records.h"
#include "support/suite.h"

TSP_E2E_SUITE(scoping, adm, NULL, "2026-12-01T12:00:00Z", 60);

#define MON(h, m) tso_at(2026, 12, 7, (h), (m))

/* Unit 1's data, made by the org-wide admin. */
static struct {
	uint64_t u1, u2, cust, svc, agenda, tech, order, u2cust;
} d;

static void build(void)
{
	d.u1 = srv.unit_id;
	d.u2 = tso_unit(adm, "Zona Norte");
	d.cust = tso_customer(adm, d.u1, 1, "São Paulo");
	Ospay__V1__AgendaWindow w = tso_window(1, 8, 18, 10);
	d.agenda = tso_agenda(adm, d.u1, NULL, 0, &w, 1, 0, 30);
	d.tech = tso_technician(adm, d.u1, "João");
	status_t st;
	cr_assert_eq(tso_order(adm, d.cust, d.agenda, d.tech, MON(9, 0), 0, &d.order, &st), 0, "%s",
		     st.message);
	Ospay__V1__CustomersAddServiceRequest as = OSPAY__V1__CUSTOMERS_ADD_SERVICE_REQUEST__INIT;
	as.customer_id = d.cust;
	as.plan_name = "Fibra 500";
	as.monthly_amount = 9990;
	Ospay__V1__CustomersAddServiceResponse *r =
		tsp_call_ok(adm, "ospay.v1.Customers/AddService", &as.base,
			    &ospay__v1__customers_add_service_response__descriptor);
	d.svc = r->service->id;
	ospay__v1__customers_add_service_response__free_unpacked(r, NULL);
	d.u2cust = tso_customer(adm, d.u2, 2, "São Paulo");
}

static int call(int fd, const char *method, const ProtobufCMessage *m)
{
	status_t st;
	int code = tsp_call(fd, method, m, NULL, NULL, NULL, &st);
	cr_assert_geq(code, 0, "%s: no reply", method);
	return code;
}

/* What a method does: read, daily work (an operator's write) or configuration. */
enum { READ, OP, CONF };

/*
 * The methods whose request needs only a record of build() (id_field naming
 * *id) and at most one other field (path, value; NULL when none), in the
 * order every_method calls them.
 */
static const struct {
	const char *method;
	int kind;
	const char *id_field;
	const uint64_t *id;
	const char *path, *value;
} plain[] = {
	{"ospay.v1.Customers/Get", READ, "id", &d.cust, NULL, NULL},
	{"ospay.v1.Customers/ListServices", READ, "customer_id", &d.cust, NULL, NULL},
	{"ospay.v1.Agendas/Get", READ, "id", &d.agenda, NULL, NULL},
	{"ospay.v1.Orders/Get", READ, "id", &d.order, NULL, NULL},
	{"ospay.v1.Customers/Update", OP, "id", &d.cust, "name", "Outro Nome"},
	{"ospay.v1.Customers/AddService", OP, "customer_id", &d.cust, "plan_name", "Fibra 1G"},
	{"ospay.v1.Customers/UpdateService", OP, "service_id", &d.svc, "plan_name", "Fibra 2G"},
	{"ospay.v1.Orders/Create", OP, "customer_id", &d.cust, "kind", "REPARO"},
	{"ospay.v1.Orders/Update", OP, "id", &d.order, "description", "mudou"},
	{"ospay.v1.Agendas/Update", CONF, "id", &d.agenda, "name", "Renomeada"},
	{"ospay.v1.Admin/CreateTechnician", CONF, "unit_id", &d.u1, "name", "Pedro"},
};

/* Calls plain[i] on fd: the status code. */
static int call_plain(int fd, size_t i)
{
	const ProtobufCMethodDescriptor *md = pbmethod_find(plain[i].method);
	cr_assert_not_null(md, "%s", plain[i].method);
	ProtobufCMessage *empty = calloc(1, md->input->sizeof_message);
	cr_assert_not_null(empty);
	protobuf_c_message_init(md->input, empty);
	tsr_variant_t v;
	cr_assert_eq(tsr_variant_init(&v, empty), 0);
	char id[24];
	snprintf(id, sizeof(id), "%llu", (unsigned long long)*plain[i].id);
	cr_assert_eq(tsr_variant_set(&v, plain[i].id_field, id), 0, "%s", plain[i].method);
	if (plain[i].path != NULL)
		cr_assert_eq(tsr_variant_set(&v, plain[i].path, plain[i].value), 0, "%s",
			     plain[i].method);
	int code = call(fd, plain[i].method, v.msg);
	tsr_variant_free(&v);
	free(empty);
	return code;
}

/*
 * Every method once with requests naming unit 1's records (or creating in
 * unit 1). want_read / want_op / want_conf: the codes expected for reads,
 * daily-work writes and configuration writes.
 */
static void every_method(int fd, int want_read, int want_op, int want_conf, const char *who)
{
	const int want[] = {[READ] = want_read, [OP] = want_op, [CONF] = want_conf};
	for (size_t i = 0; i < sizeof(plain) / sizeof(plain[0]); i++) {
		int code = call_plain(fd, i);
		cr_assert_eq(code, want[plain[i].kind], "%s: %s answered %d, expected %d", who,
			     plain[i].method, code, want[plain[i].kind]);
	}
#define EXPECT(method, msg, want)                                                                  \
	do {                                                                                       \
		int c_ = call(fd, method, &(msg).base);                                            \
		cr_assert_eq(c_, (want), "%s: %s answered %d, expected %d", who, method, c_,       \
			     (want));                                                              \
	} while (0)
	Ospay__V1__AgendasCalendarRequest cal = OSPAY__V1__AGENDAS_CALENDAR_REQUEST__INIT;
	uint64_t ids[] = {d.agenda};
	cal.from_date = "2026-12-07";
	cal.to_date = "2026-12-07";
	cal.view_by = OSPAY__V1__CALENDAR_VIEW_BY__CALENDAR_VIEW_BY_AGENDA;
	cal.ids = ids;
	cal.n_ids = 1;
	EXPECT("ospay.v1.Agendas/Calendar", cal, want_read);
	uint64_t tids[] = {d.tech};
	cal.view_by = OSPAY__V1__CALENDAR_VIEW_BY__CALENDAR_VIEW_BY_TECHNICIAN;
	cal.ids = tids;
	EXPECT("ospay.v1.Agendas/Calendar", cal, want_read);

	Ospay__V1__Address a = tsr_place("Rua A", "", "Santos", "SP", "11010-000");
	Ospay__V1__CustomersCreateRequest cc = OSPAY__V1__CUSTOMERS_CREATE_REQUEST__INIT;
	char cpf[12];
	tso_cpf(900, cpf);
	cc.unit_id = d.u1;
	cc.name = "Nova";
	cc.document = cpf;
	cc.address = &a;
	EXPECT("ospay.v1.Customers/Create", cc, want_op);
	Ospay__V1__OrdersRescheduleRequest orr = OSPAY__V1__ORDERS_RESCHEDULE_REQUEST__INIT;
	orr.id = d.order;
	orr.scheduled_start_ms = MON(10, 0);
	EXPECT("ospay.v1.Orders/Reschedule", orr, want_op);
	/* Finalize and Cancel would end the order: run them only where they must fail. */
	if (want_op != 0) {
		Ospay__V1__OrdersFinalizeRequest of = OSPAY__V1__ORDERS_FINALIZE_REQUEST__INIT;
		of.id = d.order;
		of.method_type = OSPAY__V1__PAYMENT_METHOD_TYPE__PAYMENT_METHOD_TYPE_CASH;
		EXPECT("ospay.v1.Orders/Finalize", of, want_op);
		Ospay__V1__OrdersCancelRequest ocn = OSPAY__V1__ORDERS_CANCEL_REQUEST__INIT;
		ocn.id = d.order;
		EXPECT("ospay.v1.Orders/Cancel", ocn, want_op);
	}

	Ospay__V1__AgendasCreateRequest ac = OSPAY__V1__AGENDAS_CREATE_REQUEST__INIT;
	Ospay__V1__AgendaWindow w = tso_window(2, 8, 12, 1), *wp[] = {&w};
	ac.unit_id = d.u1;
	ac.name = "Nova agenda";
	ac.windows = wp;
	ac.n_windows = 1;
	ac.slot_minutes = 60;
	EXPECT("ospay.v1.Agendas/Create", ac, want_conf);
	if (want_conf != 0) {
		Ospay__V1__AgendasDeleteRequest ad = OSPAY__V1__AGENDAS_DELETE_REQUEST__INIT;
		ad.id = d.agenda;
		EXPECT("ospay.v1.Agendas/Delete", ad, want_conf);
	}
#undef EXPECT
}

/* Whether the list method answers, in its field `field`, the record id. */
static bool listed(int fd, const char *method, const ProtobufCMessage *req,
		   const ProtobufCMessageDescriptor *resp_desc, const char *field, uint64_t id)
{
	ProtobufCMessage *r = tsp_call_ok(fd, method, req, resp_desc);
	int has = tsr_list_has(r, field, id);
	cr_assert_geq(has, 0, "%s has no list %s of records with ids", resp_desc->name, field);
	protobuf_c_message_free_unpacked(r, NULL);
	return has == 1;
}

/* Whether each list shows unit 1's records (those build() made). */
static void lists_show(int fd, bool want, const char *who)
{
	Ospay__V1__CustomersListRequest cl = OSPAY__V1__CUSTOMERS_LIST_REQUEST__INIT;
	cr_assert_eq(listed(fd, "ospay.v1.Customers/List", &cl.base,
			    &ospay__v1__customers_list_response__descriptor, "customers", d.cust),
		     want, "%s: customers", who);
	char cpf[12];
	tso_cpf(1, cpf);
	cl.document = cpf;
	Ospay__V1__CustomersListResponse *c =
		tsp_call_ok(fd, "ospay.v1.Customers/List", &cl.base,
			    &ospay__v1__customers_list_response__descriptor);
	cr_assert_eq(c->n_customers, want ? 1 : 0, "%s: customers by document", who);
	ospay__v1__customers_list_response__free_unpacked(c, NULL);

	Ospay__V1__AgendasListRequest al = OSPAY__V1__AGENDAS_LIST_REQUEST__INIT;
	cr_assert_eq(listed(fd, "ospay.v1.Agendas/List", &al.base,
			    &ospay__v1__agendas_list_response__descriptor, "agendas", d.agenda),
		     want, "%s: agendas", who);

	Ospay__V1__ListTechniciansRequest tl = OSPAY__V1__LIST_TECHNICIANS_REQUEST__INIT;
	cr_assert_eq(listed(fd, "ospay.v1.Admin/ListTechnicians", &tl.base,
			    &ospay__v1__list_technicians_response__descriptor, "technicians",
			    d.tech),
		     want, "%s: technicians", who);

	Ospay__V1__OrdersListRequest ol = OSPAY__V1__ORDERS_LIST_REQUEST__INIT;
	cr_assert_eq(listed(fd, "ospay.v1.Orders/List", &ol.base,
			    &ospay__v1__orders_list_response__descriptor, "orders", d.order),
		     want, "%s: orders", who);

	Ospay__V1__AgendasCalendarRequest cal = OSPAY__V1__AGENDAS_CALENDAR_REQUEST__INIT;
	cal.from_date = "2026-12-07";
	cal.to_date = "2026-12-07";
	cal.view_by = OSPAY__V1__CALENDAR_VIEW_BY__CALENDAR_VIEW_BY_TECHNICIAN;
	Ospay__V1__AgendasCalendarResponse *k =
		tsp_call_ok(fd, "ospay.v1.Agendas/Calendar", &cal.base,
			    &ospay__v1__agendas_calendar_response__descriptor);
	bool seen = false;
	for (size_t g = 0; g < k->n_groups; g++)
		for (size_t i = 0; i < k->groups[g]->n_entries; i++)
			seen |= k->groups[g]->entries[i]->order_id == d.order;
	cr_assert_eq(seen, want, "%s: calendar", who);
	ospay__v1__agendas_calendar_response__free_unpacked(k, NULL);
}

static int token_conn(int role, uint64_t unit)
{
	char secret[160];
	tso_token(adm, role, unit, secret, sizeof(secret));
	return tsp_login(&srv, secret);
}

Test(scoping, another_units_token_finds_nothing)
{
	build();
	int op = token_conn(OSPAY__V1__ROLE__ROLE_OPERATOR, d.u2);
	every_method(op, 5, 5, 5, "unit 2 operator");
	lists_show(op, false, "unit 2 operator");
	/* Naming unit 1 in a list filter shows nothing either. */
	Ospay__V1__CustomersListRequest cl = OSPAY__V1__CUSTOMERS_LIST_REQUEST__INIT;
	cl.unit_id = d.u1;
	Ospay__V1__CustomersListResponse *c =
		tsp_call_ok(op, "ospay.v1.Customers/List", &cl.base,
			    &ospay__v1__customers_list_response__descriptor);
	cr_assert_eq(c->n_customers, 0);
	ospay__v1__customers_list_response__free_unpacked(c, NULL);
	/* Its own unit works; a unit-2 order cannot use unit 1's agenda or technician. */
	status_t st;
	uint64_t own;
	cr_assert_eq(tso_order(op, d.u2cust, 0, 0, 0, 0, &own, &st), 0, "%s", st.message);
	cr_assert_eq(tso_order(op, d.u2cust, d.agenda, 0, MON(9, 0), 0, NULL, &st), 5);
	cr_assert_eq(tso_order(op, d.u2cust, 0, d.tech, MON(9, 0), 30, NULL, &st), 5);
	close(op);
	int ad = token_conn(OSPAY__V1__ROLE__ROLE_ADMIN, d.u2);
	every_method(ad, 5, 5, 5, "unit 2 admin");
	lists_show(ad, false, "unit 2 admin");
	close(ad);
	/* The org-wide admin's order in unit 2 with unit 1's agenda: another unit. */
	cr_assert_eq(tso_order(adm, d.u2cust, d.agenda, 0, MON(9, 0), 0, NULL, &st), 9);
}

Test(scoping, read_only_tokens_change_nothing)
{
	build();
	int ro = token_conn(OSPAY__V1__ROLE__ROLE_READ_ONLY, 0);
	every_method(ro, 0, 7, 7, "org-wide read-only");
	lists_show(ro, true, "org-wide read-only");
	close(ro);
	int uro = token_conn(OSPAY__V1__ROLE__ROLE_READ_ONLY, d.u1);
	every_method(uro, 0, 7, 7, "unit 1 read-only");
	lists_show(uro, true, "unit 1 read-only");
	close(uro);
	/* Nothing changed. */
	Ospay__V1__Order *o = tso_get_order(adm, d.order);
	cr_assert_eq(o->status, OSPAY__V1__ORDER_STATUS__ORDER_STATUS_OPEN);
	cr_assert_str_eq(o->description, "instalação na casa do cliente");
	cr_assert_eq(o->scheduled_start_ms, MON(9, 0));
	ospay__v1__order__free_unpacked(o, NULL);
}

Test(scoping, operators_do_daily_work_but_do_not_configure)
{
	build();
	int op = token_conn(OSPAY__V1__ROLE__ROLE_OPERATOR, d.u1);
	lists_show(op, true, "unit 1 operator");
	every_method(op, 0, 0, 7, "unit 1 operator");
	close(op);
}

Test(scoping, unit_admins_configure_their_units)
{
	build();
	int ua = token_conn(OSPAY__V1__ROLE__ROLE_ADMIN, d.u1);
	every_method(ua, 0, 0, 0, "unit 1 admin");
	/* A unit-1 admin may not create in unit 2. */
	Ospay__V1__CreateTechnicianRequest ct = OSPAY__V1__CREATE_TECHNICIAN_REQUEST__INIT;
	ct.unit_id = d.u2;
	ct.name = "Pedro";
	cr_assert_eq(call(ua, "ospay.v1.Admin/CreateTechnician", &ct.base), 5);
	/* Its only unit is the default for creates. */
	ct.unit_id = 0;
	Ospay__V1__CreateTechnicianResponse *r =
		tsp_call_ok(ua, "ospay.v1.Admin/CreateTechnician", &ct.base,
			    &ospay__v1__create_technician_response__descriptor);
	cr_assert_eq(r->technician->unit_id, d.u1);
	ospay__v1__create_technician_response__free_unpacked(r, NULL);
	close(ua);
}

Test(scoping, org_wide_tokens_see_every_unit)
{
	build();
	Ospay__V1__CustomersListRequest cl = OSPAY__V1__CUSTOMERS_LIST_REQUEST__INIT;
	Ospay__V1__CustomersListResponse *c =
		tsp_call_ok(adm, "ospay.v1.Customers/List", &cl.base,
			    &ospay__v1__customers_list_response__descriptor);
	cr_assert_eq(c->n_customers, 2);
	cr_assert_eq(c->customers[0]->unit_id, d.u1);
	cr_assert_eq(c->customers[1]->unit_id, d.u2);
	ospay__v1__customers_list_response__free_unpacked(c, NULL);
	/* An org-wide create must say which unit. */
	Ospay__V1__CreateTechnicianRequest ct = OSPAY__V1__CREATE_TECHNICIAN_REQUEST__INIT;
	ct.name = "Pedro";
	status_t st;
	cr_assert_eq(
		tsp_call(adm, "ospay.v1.Admin/CreateTechnician", &ct.base, NULL, NULL, NULL, &st),
		3);
	cr_assert(tso_violation(&st, "unit_id"));
	ct.unit_id = 987654;
	cr_assert_eq(
		tsp_call(adm, "ospay.v1.Admin/CreateTechnician", &ct.base, NULL, NULL, NULL, &st),
		3);
	cr_assert(tso_violation(&st, "unit_id"));
}

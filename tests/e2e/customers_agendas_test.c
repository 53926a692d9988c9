/*
 * Customers, services, technicians and agendas end to end: normalized fields,
 * document uniqueness, updates by mask, paging, and what deleting an agenda
 * does to the orders booked on it.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "support/domain.h"
#include "support/proc.h"
#include "support/records.h"
#include "support/suite.h"

TSP_E2E_SUITE(crud, adm, NULL, "2026-12-01T12:00:00Z", 60);

static Ospay__V1__Customer *create_customer(uint64_t unit, const char *doc, int *code, status_t *st)
{
	Ospay__V1__Address a = tsr_place("Av. Paulista", "1578", "São Paulo", "sp", "01310-200");
	Ospay__V1__CustomersCreateRequest m = OSPAY__V1__CUSTOMERS_CREATE_REQUEST__INIT;
	m.unit_id = unit;
	m.name = "Empresa Exemplo Ltda";
	m.document = (char *)doc;
	m.phone = "+55 (11) 3333-4444";
	m.email = "contato@exemplo.com.br";
	m.address = &a;
	Ospay__V1__CustomersCreateResponse *r = NULL;
	*code = tsp_call(adm, "ospay.v1.Customers/Create", &m.base,
			 &ospay__v1__customers_create_response__descriptor, (ProtobufCMessage **)&r,
			 NULL, st);
	if (r == NULL)
		return NULL;
	Ospay__V1__Customer *c = r->customer;
	r->customer = NULL;
	ospay__v1__customers_create_response__free_unpacked(r, NULL);
	return c;
}

Test(crud, customers_are_normalized_and_unique_per_unit)
{
	int code;
	status_t st;
	Ospay__V1__Customer *c = create_customer(srv.unit_id, "11.222.333/0001-81", &code, &st);
	cr_assert_eq(code, 0, "%s", st.message);
	cr_assert_str_eq(c->document, "11222333000181");
	cr_assert_eq(c->document_type, OSPAY__V1__DOCUMENT_TYPE__DOCUMENT_TYPE_CNPJ);
	cr_assert_str_eq(c->phone, "+551133334444");
	cr_assert_str_eq(c->address->state, "SP");
	cr_assert_str_eq(c->address->cep, "01310200");
	cr_assert_str_eq(c->address->city, "São Paulo", "the city is kept as typed");
	cr_assert_eq(c->unit_id, srv.unit_id);
	uint64_t id = c->id;
	ospay__v1__customer__free_unpacked(c, NULL);
	/* The same document in the same unit, typed differently. */
	c = create_customer(srv.unit_id, "11222333000181", &code, &st);
	cr_assert_eq(code, 6, "ALREADY_EXISTS expected, got %d", code);
	char want[40];
	snprintf(want, sizeof(want), "customer %llu ", (unsigned long long)id);
	cr_assert(strstr(st.message, want) != NULL, "%s", st.message);
	/* Another unit may have its own customer with that document. */
	uint64_t u2 = tso_unit(adm, "Zona Norte");
	c = create_customer(u2, "11222333000181", &code, &st);
	cr_assert_eq(code, 0, "%s", st.message);
	ospay__v1__customer__free_unpacked(c, NULL);

	/* Found by document, with or without punctuation. */
	Ospay__V1__CustomersListRequest l = OSPAY__V1__CUSTOMERS_LIST_REQUEST__INIT;
	l.document = "11.222.333/0001-81";
	l.unit_id = srv.unit_id;
	tsp_list_only(adm, "ospay.v1.Customers/List", &l.base,
		      &ospay__v1__customers_list_response__descriptor, "customers", id);

	/* Update by mask: the phone changes, the e-mail is cleared, the rest stays. */
	Ospay__V1__CustomersUpdateRequest u = OSPAY__V1__CUSTOMERS_UPDATE_REQUEST__INIT;
	char *mask[] = {"phone", "email"};
	u.id = id;
	u.phone = "+55 11 91234-5678";
	u.update_mask = mask;
	u.n_update_mask = 2;
	Ospay__V1__CustomersUpdateResponse *ur =
		tsp_call_ok(adm, "ospay.v1.Customers/Update", &u.base,
			    &ospay__v1__customers_update_response__descriptor);
	cr_assert_str_eq(ur->customer->phone, "+5511912345678");
	cr_assert_str_empty(ur->customer->email);
	cr_assert_str_eq(ur->customer->name, "Empresa Exemplo Ltda");
	cr_assert_str_eq(ur->customer->document, "11222333000181");
	ospay__v1__customers_update_response__free_unpacked(ur, NULL);
	/* Changing the document moves it in the index; taking another's is refused. */
	uint64_t other = tso_customer(adm, srv.unit_id, 5, "Santos");
	char cpf5[12];
	tso_cpf(5, cpf5);
	Ospay__V1__CustomersUpdateRequest d = OSPAY__V1__CUSTOMERS_UPDATE_REQUEST__INIT;
	d.id = id;
	d.document = cpf5;
	cr_assert_eq(tsp_call(adm, "ospay.v1.Customers/Update", &d.base, NULL, NULL, NULL, &st), 6);
	d.document = "529.982.247-25";
	tsp_call_ok(adm, "ospay.v1.Customers/Update", &d.base, NULL);
	l.document = "11222333000181";
	cr_assert_eq(tsp_list_count(adm, "ospay.v1.Customers/List", &l.base,
				    &ospay__v1__customers_list_response__descriptor, "customers"),
		     0, "the old document is free");
	c = create_customer(srv.unit_id, "11222333000181", &code, &st);
	cr_assert_eq(code, 0, "%s", st.message);
	ospay__v1__customer__free_unpacked(c, NULL);
	(void)other;
}

Test(crud, customers_and_services_page)
{
	enum { N = 25 };
	uint64_t ids[N];
	for (int i = 0; i < N; i++)
		ids[i] = tso_customer(adm, srv.unit_id, 10 + (uint32_t)i, "Santos");
	Ospay__V1__CustomersListRequest l = OSPAY__V1__CUSTOMERS_LIST_REQUEST__INIT;
	l.page_size = 10;
	char token[80] = "";
	int seen = 0, pages = 0;
	do {
		l.page_token = token;
		Ospay__V1__CustomersListResponse *r =
			tsp_call_ok(adm, "ospay.v1.Customers/List", &l.base,
				    &ospay__v1__customers_list_response__descriptor);
		for (size_t i = 0; i < r->n_customers; i++)
			cr_assert_eq(r->customers[i]->id, ids[seen++]);
		snprintf(token, sizeof(token), "%s", r->next_page_token);
		ospay__v1__customers_list_response__free_unpacked(r, NULL);
		pages++;
	} while (token[0] != '\0');
	cr_assert_eq(seen, N);
	cr_assert_eq(pages, 3);

	uint64_t svc[3];
	for (int i = 0; i < 3; i++) {
		Ospay__V1__CustomersAddServiceRequest a =
			OSPAY__V1__CUSTOMERS_ADD_SERVICE_REQUEST__INIT;
		Ospay__V1__RecurringPayment rp = OSPAY__V1__RECURRING_PAYMENT__INIT;
		rp.enabled = i == 0;
		a.customer_id = ids[0];
		a.plan_name = "Fibra 500";
		a.monthly_amount = 9990 + i;
		a.recurring_payment = &rp;
		Ospay__V1__CustomersAddServiceResponse *r =
			tsp_call_ok(adm, "ospay.v1.Customers/AddService", &a.base,
				    &ospay__v1__customers_add_service_response__descriptor);
		cr_assert_eq(r->service->status, OSPAY__V1__SERVICE_STATUS__SERVICE_STATUS_ACTIVE);
		cr_assert_eq(r->service->recurring_payment->enabled, i == 0);
		svc[i] = r->service->id;
		ospay__v1__customers_add_service_response__free_unpacked(r, NULL);
	}
	/* Another customer's service is not in this customer's list. */
	Ospay__V1__CustomersAddServiceRequest a = OSPAY__V1__CUSTOMERS_ADD_SERVICE_REQUEST__INIT;
	a.customer_id = ids[1];
	a.plan_name = "Rádio";
	tsp_call_ok(adm, "ospay.v1.Customers/AddService", &a.base, NULL);

	Ospay__V1__CustomersUpdateServiceRequest u =
		OSPAY__V1__CUSTOMERS_UPDATE_SERVICE_REQUEST__INIT;
	Ospay__V1__RecurringPayment rp = OSPAY__V1__RECURRING_PAYMENT__INIT;
	rp.enabled = 1;
	rp.card_id = 0; /* a card must be the customer's own: services_cards_test.c */
	u.service_id = svc[1];
	u.recurring_payment = &rp;
	u.status = OSPAY__V1__SERVICE_STATUS__SERVICE_STATUS_BLOCKED;
	tsp_call_ok(adm, "ospay.v1.Customers/UpdateService", &u.base, NULL);

	Ospay__V1__CustomersListServicesRequest ls =
		OSPAY__V1__CUSTOMERS_LIST_SERVICES_REQUEST__INIT;
	ls.customer_id = ids[0];
	ls.page_size = 2;
	Ospay__V1__CustomersListServicesResponse *r =
		tsp_call_ok(adm, "ospay.v1.Customers/ListServices", &ls.base,
			    &ospay__v1__customers_list_services_response__descriptor);
	cr_assert_eq(r->n_services, 2);
	cr_assert_eq(r->services[0]->id, svc[0]);
	cr_assert_eq(r->services[1]->id, svc[1]);
	cr_assert_eq(r->services[1]->status, OSPAY__V1__SERVICE_STATUS__SERVICE_STATUS_BLOCKED);
	cr_assert(r->services[1]->recurring_payment->enabled);
	cr_assert_eq(r->services[1]->monthly_amount, 9991, "not in the update: unchanged");
	cr_assert_str_not_empty(r->next_page_token);
	char tok[80];
	snprintf(tok, sizeof(tok), "%s", r->next_page_token);
	ospay__v1__customers_list_services_response__free_unpacked(r, NULL);
	ls.page_token = tok;
	r = tsp_call_ok(adm, "ospay.v1.Customers/ListServices", &ls.base,
			&ospay__v1__customers_list_services_response__descriptor);
	cr_assert_eq(r->n_services, 1);
	cr_assert_eq(r->services[0]->id, svc[2]);
	cr_assert_str_empty(r->next_page_token);
	ospay__v1__customers_list_services_response__free_unpacked(r, NULL);
}

Test(crud, agendas_update_and_delete)
{
	Ospay__V1__AgendaWindow w = tso_window(1, 8, 12, 1);
	const char *cities[] = {"São Paulo"};
	uint64_t ag = tso_agenda(adm, srv.unit_id, cities, 1, &w, 1, 0, 30);
	uint64_t c = tso_customer(adm, srv.unit_id, 1, "São Paulo");
	status_t st;
	uint64_t o;
	cr_assert_eq(tso_order(adm, c, ag, 0, tso_at(2026, 12, 7, 8, 0), 0, &o, &st), 0);
	/* A second window; the cities cleared through the mask. */
	Ospay__V1__AgendaWindow w2[] = {tso_window(1, 8, 12, 1), tso_window(3, 8, 12, 4)};
	Ospay__V1__AgendaWindow *wp[] = {&w2[0], &w2[1]};
	Ospay__V1__AgendasUpdateRequest u = OSPAY__V1__AGENDAS_UPDATE_REQUEST__INIT;
	char *mask[] = {"windows", "cities", "daily_max"};
	u.id = ag;
	u.windows = wp;
	u.n_windows = 2;
	u.daily_max = 3;
	u.update_mask = mask;
	u.n_update_mask = 3;
	Ospay__V1__AgendasUpdateResponse *ur =
		tsp_call_ok(adm, "ospay.v1.Agendas/Update", &u.base,
			    &ospay__v1__agendas_update_response__descriptor);
	cr_assert_eq(ur->agenda->n_windows, 2);
	cr_assert_eq(ur->agenda->n_cities, 0);
	cr_assert_eq(ur->agenda->daily_max, 3);
	cr_assert_eq(ur->agenda->slot_minutes, 30);
	ospay__v1__agendas_update_response__free_unpacked(ur, NULL);
	uint64_t far = tso_customer(adm, srv.unit_id, 2, "Manaus");
	cr_assert_eq(tso_order(adm, far, ag, 0, tso_at(2026, 12, 9, 8, 0), 0, NULL, &st), 0,
		     "Wednesday window, any city now: %s", st.message);

	Ospay__V1__AgendasDeleteRequest d = OSPAY__V1__AGENDAS_DELETE_REQUEST__INIT;
	d.id = ag;
	/* Booked orders from now on: refused with their count unless released (move_test.c). */
	cr_assert_eq(tsp_call(adm, "ospay.v1.Agendas/Delete", &d.base, NULL, NULL, NULL, &st), 9);
	d.release_orders = true;
	tsp_call_ok(adm, "ospay.v1.Agendas/Delete", &d.base, NULL);
	cr_assert_eq(tsp_call(adm, "ospay.v1.Agendas/Delete", &d.base, NULL, NULL, NULL, &st), 5);
	Ospay__V1__AgendasGetRequest g = OSPAY__V1__AGENDAS_GET_REQUEST__INIT;
	g.id = ag;
	cr_assert_eq(tsp_call(adm, "ospay.v1.Agendas/Get", &g.base, NULL, NULL, NULL, &st), 5);
	Ospay__V1__AgendasListRequest al = OSPAY__V1__AGENDAS_LIST_REQUEST__INIT;
	cr_assert_eq(tsp_list_count(adm, "ospay.v1.Agendas/List", &al.base,
				    &ospay__v1__agendas_list_response__descriptor, "agendas"),
		     0);
	/* Its orders keep the id and are still found by it; new bookings are refused. */
	Ospay__V1__Order *got = tso_get_order(adm, o);
	cr_assert_eq(got->agenda_id, ag);
	ospay__v1__order__free_unpacked(got, NULL);
	Ospay__V1__OrdersListRequest ol = OSPAY__V1__ORDERS_LIST_REQUEST__INIT;
	ol.agenda_id = ag;
	cr_assert_eq(tsp_list_count(adm, "ospay.v1.Orders/List", &ol.base,
				    &ospay__v1__orders_list_response__descriptor, "orders"),
		     2);
	cr_assert_eq(tso_order(adm, c, ag, 0, tso_at(2026, 12, 7, 9, 0), 0, NULL, &st), 5);
	/* Left on the removed agenda, an order can still be moved (its rules are gone). */
	Ospay__V1__OrdersRescheduleRequest r = OSPAY__V1__ORDERS_RESCHEDULE_REQUEST__INIT;
	r.id = o;
	r.scheduled_start_ms = tso_at(2026, 12, 7, 9, 0);
	cr_assert_eq(tsp_call(adm, "ospay.v1.Orders/Reschedule", &r.base, NULL, NULL, NULL, &st), 0,
		     "%s", st.message);
	/* Other edits of such an order still work. */
	Ospay__V1__OrdersUpdateRequest ou = OSPAY__V1__ORDERS_UPDATE_REQUEST__INIT;
	ou.id = o;
	ou.description = "sem agenda agora";
	tsp_call_ok(adm, "ospay.v1.Orders/Update", &ou.base, NULL);
}

/*
 * docs/spec.md 10.2: a city typed with combining marks ("Sa" U+0303 "o Paulo", "Foz do
 * Iguac" U+0327 "u", as some keyboards and imports send it) is the city the
 * agenda lists precomposed, and the other way round; another city is still refused.
 */
Test(crud, decomposed_accents_match_the_agendas_cities)
{
	Ospay__V1__AgendaWindow w = tso_window(1, 8, 18, 20);
	const char *cities[] = {"São Paulo", "Foz do Iguaçu"};
	uint64_t ag = tso_agenda(adm, srv.unit_id, cities, 2, &w, 1, 0, 60);
	const char *same[] = {"Sa\xcc\x83o Paulo", "Foz do Iguac\xcc\xa7u", "SA\xcc\x83O PAULO",
			      "FOZ DO IGUAC\xcc\xa7U"};
	status_t st;
	uint64_t o = 0;
	for (size_t i = 0; i < sizeof(same) / sizeof(same[0]); i++) {
		uint64_t c = tso_customer(adm, srv.unit_id, 40 + (uint32_t)i, same[i]);
		int code = tso_order(adm, c, ag, 0, tso_at(2026, 12, 7, 8 + (int)i, 0), 0, &o, &st);
		cr_assert_eq(code, 0, "%s: %d %s", same[i], code, st.message);
		Ospay__V1__Order *got = tso_get_order(adm, o);
		cr_assert_eq(got->agenda_id, ag);
		ospay__v1__order__free_unpacked(got, NULL);
	}
	/* Different cities, decomposed or not, are still refused. */
	const char *other[] = {"Sa\xcc\x83o Carlos", "Foz do Jorda\xcc\x83o", "Campinas"};
	for (size_t i = 0; i < sizeof(other) / sizeof(other[0]); i++) {
		uint64_t c = tso_customer(adm, srv.unit_id, 50 + (uint32_t)i, other[i]);
		int code = tso_order(adm, c, ag, 0, tso_at(2026, 12, 7, 14, 0), 0, NULL, &st);
		cr_assert_eq(code, 9, "%s: %d %s", other[i], code, st.message);
		cr_assert(strstr(st.message, "city") != NULL, "%s", st.message);
	}

	/* An agenda that lists the city decomposed serves the composed spelling. */
	const char *dcities[] = {"Foz do Iguac\xcc\xa7u"};
	uint64_t dag = tso_agenda(adm, srv.unit_id, dcities, 1, &w, 1, 0, 60);
	uint64_t foz = tso_customer(adm, srv.unit_id, 60, "Foz do Iguaçu");
	cr_assert_eq(tso_order(adm, foz, dag, 0, tso_at(2026, 12, 7, 8, 0), 0, NULL, &st), 0, "%s",
		     st.message);
	uint64_t sp = tso_customer(adm, srv.unit_id, 61, "São Paulo");
	cr_assert_eq(tso_order(adm, sp, dag, 0, tso_at(2026, 12, 7, 9, 0), 0, NULL, &st), 9, "%s",
		     st.message);

	/* Moving an order onto the agenda (Orders/Update) applies the same rule. */
	uint64_t spd = tso_customer(adm, srv.unit_id, 62, "Sa\xcc\x83o Paulo");
	uint64_t free_o = 0;
	cr_assert_eq(tso_order(adm, spd, 0, 0, tso_at(2026, 12, 7, 10, 0), 60, &free_o, &st), 0,
		     "%s", st.message);
	char *mask[] = {"agenda_id"};
	Ospay__V1__OrdersUpdateRequest u = OSPAY__V1__ORDERS_UPDATE_REQUEST__INIT;
	u.id = free_o;
	u.agenda_id = dag;
	u.update_mask = mask;
	u.n_update_mask = 1;
	cr_assert_eq(tsp_call(adm, "ospay.v1.Orders/Update", &u.base, NULL, NULL, NULL, &st), 9,
		     "%s", st.message);
	u.agenda_id = ag;
	tsp_call_ok(adm, "ospay.v1.Orders/Update", &u.base, NULL);

	/* The same city composed and decomposed in one agenda is listed twice. */
	const char *twice[] = {"São Paulo", "Sa\xcc\x83o Paulo"};
	Ospay__V1__AgendaWindow *wp[] = {&w};
	Ospay__V1__AgendasCreateRequest m = OSPAY__V1__AGENDAS_CREATE_REQUEST__INIT;
	m.unit_id = srv.unit_id;
	m.name = "Agenda";
	m.cities = (char **)twice;
	m.n_cities = 2;
	m.windows = wp;
	m.n_windows = 1;
	m.slot_minutes = 60;
	cr_assert_eq(tsp_call(adm, "ospay.v1.Agendas/Create", &m.base, NULL, NULL, NULL, &st), 3,
		     "%s", st.message);
	cr_assert(tso_violation(&st, "cities[1]"), "%s", st.message);
}

Test(crud, technicians_list_by_unit)
{
	uint64_t u2 = tso_unit(adm, "Zona Norte");
	uint64_t t1 = tso_technician(adm, srv.unit_id, "João");
	uint64_t t2 = tso_technician(adm, u2, "Maria");
	Ospay__V1__CreateTechnicianRequest m = OSPAY__V1__CREATE_TECHNICIAN_REQUEST__INIT;
	m.unit_id = srv.unit_id;
	m.name = "Pedro";
	m.phone = "+55 21 99876-5432";
	m.email = "pedro@example.com";
	Ospay__V1__CreateTechnicianResponse *cr =
		tsp_call_ok(adm, "ospay.v1.Admin/CreateTechnician", &m.base,
			    &ospay__v1__create_technician_response__descriptor);
	cr_assert_str_eq(cr->technician->phone, "+5521998765432");
	uint64_t t3 = cr->technician->id;
	ospay__v1__create_technician_response__free_unpacked(cr, NULL);
	Ospay__V1__ListTechniciansRequest l = OSPAY__V1__LIST_TECHNICIANS_REQUEST__INIT;
	Ospay__V1__ListTechniciansResponse *r =
		tsp_call_ok(adm, "ospay.v1.Admin/ListTechnicians", &l.base,
			    &ospay__v1__list_technicians_response__descriptor);
	cr_assert_eq(r->n_technicians, 3);
	cr_assert_eq(r->technicians[0]->id, t1, "by id over every unit");
	cr_assert_eq(r->technicians[1]->id, t2);
	cr_assert_eq(r->technicians[2]->id, t3);
	ospay__v1__list_technicians_response__free_unpacked(r, NULL);
	l.unit_id = u2;
	r = tsp_call_ok(adm, "ospay.v1.Admin/ListTechnicians", &l.base,
			&ospay__v1__list_technicians_response__descriptor);
	cr_assert_eq(r->n_technicians, 1);
	cr_assert_eq(r->technicians[0]->id, t2);
	ospay__v1__list_technicians_response__free_unpacked(r, NULL);
}

/*
 * An order knows its contract and address, and agendas' cities carry their
 * state, end to end: the service an order names must be its customer's, the
 * installation address is kept as booked when the customer moves, a city
 * listed as "Bom Jesus/PI" serves Bom Jesus in Piauí only; and the CLI.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>

#include "support/domain.h"
#include "support/proc.h"
#include "support/records.h"
#include "support/cli_suite.h"

TSP_CLI_SUITE(order_contract, "2026-12-01T12:00:00Z", 60);
#define MON(h, m) tso_at(2026, 12, 7, (h), (m))

/* A customer living in city, state uf; n makes its CPF. */
static uint64_t customer_in(uint32_t n, const char *city, const char *uf)
{
	char cpf[12];
	tso_cpf(n, cpf);
	Ospay__V1__Address a = tsr_place("Rua Principal", "10", city, uf, "64900-000");
	Ospay__V1__CustomersCreateRequest m = OSPAY__V1__CUSTOMERS_CREATE_REQUEST__INIT;
	m.unit_id = unit;
	m.name = "Cliente";
	m.document = cpf;
	m.address = &a;
	ProtobufCMessage *c = NULL;
	status_t st;
	cr_assert_eq(tsp_call_take(adm, "ospay.v1.Customers/Create", &m.base,
				   &ospay__v1__customers_create_response__descriptor, "customer",
				   &c, &st),
		     0, "%s", st.message);
	uint64_t id = ((Ospay__V1__Customer *)c)->id;
	protobuf_c_message_free_unpacked(c, NULL);
	return id;
}

static int create(uint64_t customer, uint64_t agenda, uint64_t service, uint64_t *id, status_t *st)
{
	Ospay__V1__OrdersCreateRequest m = OSPAY__V1__ORDERS_CREATE_REQUEST__INIT;
	ProtobufCMessage *o = NULL;
	m.customer_id = customer;
	m.kind = "INSTALAÇÃO FIBRA";
	m.agenda_id = agenda;
	m.scheduled_start_ms = MON(9, 0);
	m.duration_minutes = agenda != 0 ? 0 : 60;
	m.service_id = service;
	int code = tsp_call_take(adm, "ospay.v1.Orders/Create", &m.base,
				 &ospay__v1__orders_create_response__descriptor, "order", &o, st);
	if (code == 0 && id != NULL)
		*id = ((Ospay__V1__Order *)o)->id;
	if (o != NULL)
		protobuf_c_message_free_unpacked(o, NULL);
	return code;
}

Test(order_contract, service_and_address_snapshot)
{
	uint64_t c = tso_customer(adm, unit, 1, "São Paulo");
	uint64_t other = tso_customer(adm, unit, 2, "São Paulo");
	uint64_t svc = tso_service(adm, c, false);
	uint64_t not_hers = tso_service(adm, other, false);
	uint64_t id;
	status_t st;
	cr_assert_eq(create(c, 0, not_hers, NULL, &st), 9);
	cr_assert(strstr(st.message, "belongs to customer") != NULL, "%s", st.message);
	cr_assert_eq(create(c, 0, 999, NULL, &st), 5, "unknown service");
	cr_assert_eq(create(c, 0, svc, &id, &st), 0, "%s", st.message);
	/* The customer moves: the order keeps the address it was booked at. */
	Ospay__V1__Address a = tsr_place("Avenida Paulista", "1000", "Santos", "SP", "11010-000");
	Ospay__V1__CustomersUpdateRequest u = OSPAY__V1__CUSTOMERS_UPDATE_REQUEST__INIT;
	char *mask[] = {"address"};
	u.id = c;
	u.address = &a;
	u.update_mask = mask;
	u.n_update_mask = 1;
	cr_assert_eq(tsp_call(adm, "ospay.v1.Customers/Update", &u.base, NULL, NULL, NULL, &st), 0,
		     "%s", st.message);
	Ospay__V1__Order *o = tso_get_order(adm, id);
	cr_assert_eq(o->service_id, svc);
	cr_assert_str_eq(o->service_plan, "Fibra 500");
	cr_assert_not_null(o->installation_address);
	cr_assert_str_eq(o->installation_address->street, "Rua Augusta");
	cr_assert_str_eq(o->installation_address->city, "São Paulo");
	ospay__v1__order__free_unpacked(o, NULL);
	/* Update may name another service of the customer, or none. */
	cr_assert_eq(tso_order_clear(adm, id, "service_id", &st), 0, "%s", st.message);
	o = tso_get_order(adm, id);
	cr_assert_eq(o->service_id, 0);
	cr_assert_str_eq(o->service_plan, "");
	ospay__v1__order__free_unpacked(o, NULL);
}

Test(order_contract, cities_with_their_state)
{
	Ospay__V1__AgendaWindow w = tso_window(1, 8, 12, 10);
	const char *cities[] = {"Bom Jesus/PI", "Teresina"};
	uint64_t ag = tso_agenda(adm, unit, cities, 2, &w, 1, 0, 60);
	uint64_t pi = customer_in(1, "Bom Jesus", "PI");
	uint64_t rs = customer_in(2, "Bom Jesus", "RS");
	uint64_t te = customer_in(3, "TERESINA", "PI");
	status_t st;
	cr_assert_eq(create(pi, ag, 0, NULL, &st), 0, "%s", st.message);
	cr_assert_eq(create(rs, ag, 0, NULL, &st), 9, "Bom Jesus in Rio Grande do Sul");
	cr_assert(strstr(st.message, "city") != NULL, "%s", st.message);
	cr_assert_eq(create(te, ag, 0, NULL, &st), 0, "no UF on the agenda's side: %s", st.message);
	/* Two states' Bom Jesus may both be listed; the same one twice may not. */
	const char *both[] = {"Bom Jesus/PI", "Bom Jesus - RS"};
	tso_agenda(adm, unit, both, 2, &w, 1, 0, 60);
	Ospay__V1__AgendasCreateRequest m = OSPAY__V1__AGENDAS_CREATE_REQUEST__INIT;
	Ospay__V1__AgendaWindow *wp = &w;
	char *twice[] = {"Bom Jesus/PI", "bom jesus (pi)"};
	m.unit_id = unit;
	m.name = "Sul";
	m.cities = twice;
	m.n_cities = 2;
	m.windows = &wp;
	m.n_windows = 1;
	m.slot_minutes = 60;
	cr_assert_eq(tsp_call(adm, "ospay.v1.Agendas/Create", &m.base, NULL, NULL, NULL, &st), 3);
	cr_assert(tso_violation(&st, "cities[1]"));
}

Test(order_contract, cli)
{
	uint64_t c = tso_customer(adm, unit, 1, "São Paulo");
	tso_service(adm, c, false);
	cr_assert_eq(ospay("orders", "create", "--customer", "1", "--kind", "INSTALAÇÃO", "--start",
			   "2026-12-07 09:00", "--minutes", "60", "--service", "1", NULL),
		     0, "%s", out);
	HAS("Fibra 500 (service 1)");
	HAS("Rua Augusta, 100, Consolação, São Paulo/SP, CEP 01305-000");
}

#include "support/domain.h"

#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>

#include "support/proc.h"

static int64_t days_from_civil(int y, int m, int d)
{
	y -= m <= 2;
	const int64_t era = (y >= 0 ? y : y - 399) / 400;
	const int64_t yoe = y - era * 400;
	const int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	const int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + doe - 719468;
}

int64_t tso_at(int y, int mo, int d, int h, int mi)
{
	return days_from_civil(y, mo, d) * 86400000 + ((int64_t)h * 60 + mi) * 60000 -
	       (int64_t)TSO_OFFSET_MIN * 60000;
}

void tso_cpf(uint32_t n, char out[12])
{
	/* Nine base digits from n (never all equal), then the two check digits. */
	snprintf(out, 12, "%09u", 100000000u + n % 800000000u);
	for (int k = 9; k <= 10; k++) {
		int sum = 0;
		for (int i = 0; i < k; i++)
			sum += (out[i] - '0') * (k + 1 - i);
		int r = sum % 11;
		out[k] = (char)('0' + (r < 2 ? 0 : 11 - r));
	}
	out[11] = '\0';
}

uint64_t tso_token(int fd, int role, uint64_t unit, char *secret, size_t cap)
{
	Ospay__V1__CreateTokenRequest m = OSPAY__V1__CREATE_TOKEN_REQUEST__INIT;
	uint64_t units[1] = {unit};
	m.name = "test token";
	m.role = role;
	if (unit != 0) {
		m.unit_ids = units;
		m.n_unit_ids = 1;
	} else {
		m.org_wide = 1;
	}
	Ospay__V1__CreateTokenResponse *r = NULL;
	int code = tsp_call(fd, "ospay.v1.Admin/CreateToken", &m.base,
			    &ospay__v1__create_token_response__descriptor, (ProtobufCMessage **)&r,
			    NULL, NULL);
	cr_assert_eq(code, 0, "CreateToken answered %d", code);
	snprintf(secret, cap, "%s", r->secret);
	uint64_t id = r->token->id;
	ospay__v1__create_token_response__free_unpacked(r, NULL);
	return id;
}

uint64_t tso_unit(int fd, const char *name)
{
	Ospay__V1__CreateUnitRequest m = OSPAY__V1__CREATE_UNIT_REQUEST__INIT;
	m.name = (char *)name;
	Ospay__V1__CreateUnitResponse *r = NULL;
	int code = tsp_call(fd, "ospay.v1.Admin/CreateUnit", &m.base,
			    &ospay__v1__create_unit_response__descriptor, (ProtobufCMessage **)&r,
			    NULL, NULL);
	cr_assert_eq(code, 0, "CreateUnit answered %d", code);
	uint64_t id = r->unit->id;
	ospay__v1__create_unit_response__free_unpacked(r, NULL);
	return id;
}

uint64_t tso_customer(int fd, uint64_t unit, uint32_t n, const char *city)
{
	char cpf[12], name[40];
	snprintf(name, sizeof(name), "Cliente %u", n);
	tso_cpf(n, cpf);
	Ospay__V1__Address a = OSPAY__V1__ADDRESS__INIT;
	a.street = "Rua Augusta";
	a.number = "100";
	a.district = "Consolação";
	a.city = (char *)city;
	a.state = "SP";
	a.cep = "01305-000";
	Ospay__V1__CustomersCreateRequest m = OSPAY__V1__CUSTOMERS_CREATE_REQUEST__INIT;
	m.unit_id = unit;
	m.name = name;
	m.document = cpf;
	m.phone = "+55 11 98765-4321";
	m.email = "cliente@example.com.br";
	m.address = &a;
	Ospay__V1__CustomersCreateResponse *r = NULL;
	status_t st;
	int code = tsp_call(fd, "ospay.v1.Customers/Create", &m.base,
			    &ospay__v1__customers_create_response__descriptor,
			    (ProtobufCMessage **)&r, NULL, &st);
	cr_assert_eq(code, 0, "Customers/Create answered %d: %s (%s %s)", code, st.message,
		     st.n_violations ? st.violations[0].field : "",
		     st.n_violations ? st.violations[0].description : "");
	uint64_t id = r->customer->id;
	ospay__v1__customers_create_response__free_unpacked(r, NULL);
	return id;
}

uint64_t tso_technician(int fd, uint64_t unit, const char *name)
{
	Ospay__V1__CreateTechnicianRequest m = OSPAY__V1__CREATE_TECHNICIAN_REQUEST__INIT;
	m.unit_id = unit;
	m.name = (char *)name;
	Ospay__V1__CreateTechnicianResponse *r = NULL;
	int code = tsp_call(fd, "ospay.v1.Admin/CreateTechnician", &m.base,
			    &ospay__v1__create_technician_response__descriptor,
			    (ProtobufCMessage **)&r, NULL, NULL);
	cr_assert_eq(code, 0, "CreateTechnician answered %d", code);
	uint64_t id = r->technician->id;
	ospay__v1__create_technician_response__free_unpacked(r, NULL);
	return id;
}

Ospay__V1__AgendaWindow tso_window(int weekday, int start_h, int end_h, uint32_t capacity)
{
	Ospay__V1__AgendaWindow w = OSPAY__V1__AGENDA_WINDOW__INIT;
	w.weekday = weekday;
	w.start_minute = (uint32_t)start_h * 60;
	w.end_minute = (uint32_t)end_h * 60;
	w.capacity = capacity;
	return w;
}

uint64_t tso_agenda(int fd, uint64_t unit, const char *const *cities, size_t n_cities,
		    Ospay__V1__AgendaWindow *w, size_t n_windows, uint32_t daily_max, uint32_t slot)
{
	Ospay__V1__AgendaWindow *wp[64];
	cr_assert_leq(n_windows, 64);
	for (size_t i = 0; i < n_windows; i++)
		wp[i] = &w[i];
	Ospay__V1__AgendasCreateRequest m = OSPAY__V1__AGENDAS_CREATE_REQUEST__INIT;
	m.unit_id = unit;
	m.name = "Agenda";
	m.cities = (char **)cities;
	m.n_cities = n_cities;
	m.windows = wp;
	m.n_windows = n_windows;
	m.daily_max = daily_max;
	m.slot_minutes = slot;
	Ospay__V1__AgendasCreateResponse *r = NULL;
	status_t st;
	int code = tsp_call(fd, "ospay.v1.Agendas/Create", &m.base,
			    &ospay__v1__agendas_create_response__descriptor,
			    (ProtobufCMessage **)&r, NULL, &st);
	cr_assert_eq(code, 0, "Agendas/Create answered %d: %s", code, st.message);
	uint64_t id = r->agenda->id;
	ospay__v1__agendas_create_response__free_unpacked(r, NULL);
	return id;
}

int tso_order(int fd, uint64_t customer, uint64_t agenda, uint64_t tech, int64_t start,
	      uint32_t minutes, uint64_t *id, status_t *st)
{
	Ospay__V1__OrdersCreateRequest m = OSPAY__V1__ORDERS_CREATE_REQUEST__INIT;
	m.customer_id = customer;
	m.kind = "INSTALAÇÃO FIBRA";
	m.description = "instalação na casa do cliente";
	m.agenda_id = agenda;
	m.technician_id = tech;
	m.scheduled_start_ms = start;
	m.duration_minutes = minutes;
	m.amount = 15000;
	Ospay__V1__OrdersCreateResponse *r = NULL;
	int code = tsp_call(fd, "ospay.v1.Orders/Create", &m.base,
			    &ospay__v1__orders_create_response__descriptor, (ProtobufCMessage **)&r,
			    NULL, st);
	cr_assert_geq(code, 0, "Orders/Create: no reply");
	if (id != NULL)
		*id = code == 0 ? r->order->id : 0;
	if (r != NULL)
		ospay__v1__orders_create_response__free_unpacked(r, NULL);
	return code;
}

Ospay__V1__Order *tso_get_order(int fd, uint64_t id)
{
	Ospay__V1__OrdersGetRequest m = OSPAY__V1__ORDERS_GET_REQUEST__INIT;
	m.id = id;
	Ospay__V1__OrdersGetResponse *r = NULL;
	int code = tsp_call(fd, "ospay.v1.Orders/Get", &m.base,
			    &ospay__v1__orders_get_response__descriptor, (ProtobufCMessage **)&r,
			    NULL, NULL);
	cr_assert_eq(code, 0, "Orders/Get %llu answered %d", (unsigned long long)id, code);
	Ospay__V1__Order *o = r->order;
	r->order = NULL;
	ospay__v1__orders_get_response__free_unpacked(r, NULL);
	return o;
}

bool tso_violation(const status_t *st, const char *field)
{
	for (size_t i = 0; i < st->n_violations; i++)
		if (strcmp(st->violations[i].field, field) == 0)
			return true;
	return false;
}

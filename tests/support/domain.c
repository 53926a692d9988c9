#include "support/domain.h"

#include <criterion/criterion.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "ospay/v1/cards.pb-c.h"
#include "ospay/v1/clock.pb-c.h"
#include "support/proc.h"
#include "support/records.h"
#include "support/testdata.h"

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
	tsd_cpf(n, out);
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
	Ospay__V1__CreateTokenResponse *r =
		tsp_call_ok(fd, "ospay.v1.Admin/CreateToken", &m.base,
			    &ospay__v1__create_token_response__descriptor);
	snprintf(secret, cap, "%s", r->secret);
	uint64_t id = r->token->id;
	ospay__v1__create_token_response__free_unpacked(r, NULL);
	return id;
}

uint64_t tso_unit(int fd, const char *name)
{
	Ospay__V1__CreateUnitRequest m = OSPAY__V1__CREATE_UNIT_REQUEST__INIT;
	m.name = (char *)name;
	return tsp_call_id(fd, "ospay.v1.Admin/CreateUnit", &m.base,
			   &ospay__v1__create_unit_response__descriptor, "unit");
}

uint64_t tso_customer(int fd, uint64_t unit, uint32_t n, const char *city)
{
	char cpf[12], name[40];
	snprintf(name, sizeof(name), "Cliente %u", n);
	tso_cpf(n, cpf);
	Ospay__V1__Address a;
	Ospay__V1__CustomersCreateRequest m;
	tsr_customer(&m, &a, unit, name, cpf);
	a.city = (char *)city;
	return tsp_call_id(fd, "ospay.v1.Customers/Create", &m.base,
			   &ospay__v1__customers_create_response__descriptor, "customer");
}

uint64_t tso_technician(int fd, uint64_t unit, const char *name)
{
	Ospay__V1__CreateTechnicianRequest m = OSPAY__V1__CREATE_TECHNICIAN_REQUEST__INIT;
	m.unit_id = unit;
	m.name = (char *)name;
	return tsp_call_id(fd, "ospay.v1.Admin/CreateTechnician", &m.base,
			   &ospay__v1__create_technician_response__descriptor, "technician");
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
	return tsp_call_id(fd, "ospay.v1.Agendas/Create", &m.base,
			   &ospay__v1__agendas_create_response__descriptor, "agenda");
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

int tso_reschedule(int fd, uint64_t id, int64_t start, uint32_t minutes, uint64_t tech,
		   uint64_t agenda, status_t *st)
{
	Ospay__V1__OrdersRescheduleRequest m = OSPAY__V1__ORDERS_RESCHEDULE_REQUEST__INIT;
	m.id = id;
	m.scheduled_start_ms = start;
	m.duration_minutes = minutes;
	m.technician_id = tech;
	m.agenda_id = agenda;
	return tsp_call(fd, "ospay.v1.Orders/Reschedule", &m.base, NULL, NULL, NULL, st);
}

size_t tso_order_frame(uint8_t *out, uint64_t id, uint64_t customer, uint64_t agenda, int64_t start,
		       const char *kind)
{
	Ospay__V1__OrdersCreateRequest m = OSPAY__V1__ORDERS_CREATE_REQUEST__INIT;
	uint8_t body[256];
	m.customer_id = customer;
	m.kind = (char *)kind;
	m.agenda_id = agenda;
	m.scheduled_start_ms = start;
	cr_assert_leq(ospay__v1__orders_create_request__get_packed_size(&m), sizeof(body));
	size_t blen = ospay__v1__orders_create_request__pack(&m, body);
	return tsp_frame_request(out, id, "ospay.v1.Orders/Create", body, blen, NULL);
}

int tso_order_clear(int fd, uint64_t id, const char *field, status_t *st)
{
	Ospay__V1__OrdersUpdateRequest u = OSPAY__V1__ORDERS_UPDATE_REQUEST__INIT;
	char *mask[] = {(char *)field};
	u.id = id;
	u.update_mask = mask;
	u.n_update_mask = 1;
	return tsp_call(fd, "ospay.v1.Orders/Update", &u.base, NULL, NULL, NULL, st);
}

int tso_finalize(int fd, uint64_t id, uint64_t pm, int type, uint32_t installments,
		 Ospay__V1__Order **out, status_t *st)
{
	Ospay__V1__OrdersFinalizeRequest f = OSPAY__V1__ORDERS_FINALIZE_REQUEST__INIT;
	f.id = id;
	f.payment_method_id = pm;
	f.method_type = type;
	f.installments = installments;
	return tsp_call_take(fd, "ospay.v1.Orders/Finalize", &f.base,
			     &ospay__v1__orders_finalize_response__descriptor, "order",
			     (ProtobufCMessage **)out, st);
}

Ospay__V1__Order *tso_finalize_ok(int fd, uint64_t id, uint64_t pm, int type, uint32_t installments)
{
	Ospay__V1__Order *o = NULL;
	status_t st;
	int code = tso_finalize(fd, id, pm, type, installments, &o, &st);
	cr_assert_eq(code, 0, "finalize %llu answered %d: %s", (unsigned long long)id, code,
		     st.message);
	return o;
}

Ospay__V1__Order *tso_get_order(int fd, uint64_t id)
{
	Ospay__V1__OrdersGetRequest m = OSPAY__V1__ORDERS_GET_REQUEST__INIT;
	m.id = id;
	Ospay__V1__OrdersGetResponse *r = tsp_call_ok(fd, "ospay.v1.Orders/Get", &m.base,
						      &ospay__v1__orders_get_response__descriptor);
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

void tso_invalid_fields(int fd, const char *method, const ProtobufCMessage *req, const char *what,
			const char *const *fields, size_t n)
{
	status_t st;
	int code = tsp_call(fd, method, req, NULL, NULL, NULL, &st);
	cr_assert_eq(code, 3, "%s: %s answered %d (%s), not INVALID_ARGUMENT", what, method, code,
		     st.message);
	char all[1024] = "";
	for (size_t k = 0; k < st.n_violations; k++) {
		strncat(all, st.violations[k].field, sizeof(all) - strlen(all) - 2);
		strncat(all, " ", sizeof(all) - strlen(all) - 1);
	}
	for (size_t i = 0; i < n; i++)
		cr_assert(tso_violation(&st, fields[i]), "%s: no violation on %s (got: %s)", what,
			  fields[i], all);
}

void tso_invalid(int fd, const char *method, const ProtobufCMessage *req, const char *what,
		 const char *field, ...)
{
	const char *fields[16];
	size_t n = 0;
	va_list ap;
	va_start(ap, field);
	for (const char *f = field; f != NULL; f = va_arg(ap, const char *)) {
		cr_assert_lt(n, sizeof(fields) / sizeof(fields[0]), "%s: too many fields", what);
		fields[n++] = f;
	}
	va_end(ap);
	tso_invalid_fields(fd, method, req, what, fields, n);
}

void tso_visa_ending(int last, char out[17])
{
	cr_assert_eq(tsd_visa_ending((unsigned)last, out), 0, "no Visa number ends in %d", last);
}

void tso_mastercard_ending(int last, char out[17])
{
	cr_assert_eq(tsd_number_ending("555555555555", (unsigned)last, out), 0,
		     "no Mastercard number ends in %d", last);
}

uint64_t tso_card(int fd, uint64_t customer, const char *number)
{
	Ospay__V1__CardsAddRequest m;
	tsr_card(&m, customer, number);
	return tsp_call_id(fd, "ospay.v1.Cards/Add", &m.base,
			   &ospay__v1__cards_add_response__descriptor, "card");
}

uint64_t tso_visa_card(int fd, uint64_t customer, int last)
{
	char number[17];
	tso_visa_ending(last, number);
	return tso_card(fd, customer, number);
}

static uint64_t add_service(int fd, uint64_t customer, Ospay__V1__RecurringPayment *rp)
{
	Ospay__V1__CustomersAddServiceRequest m;
	tsr_service(&m, customer, rp);
	return tsp_call_id(fd, "ospay.v1.Customers/AddService", &m.base,
			   &ospay__v1__customers_add_service_response__descriptor, "service");
}

uint64_t tso_service(int fd, uint64_t customer, bool recurring)
{
	Ospay__V1__RecurringPayment rp = OSPAY__V1__RECURRING_PAYMENT__INIT;
	rp.enabled = recurring;
	return add_service(fd, customer, &rp);
}

uint64_t tso_service_plain(int fd, uint64_t customer)
{
	return add_service(fd, customer, NULL);
}

uint64_t tso_billed_customer(int fd, uint64_t unit, uint32_t n, int last, bool recurring,
			     uint64_t *svc)
{
	uint64_t c = tso_customer(fd, unit, n, "São Paulo");
	if (last >= 0)
		tso_visa_card(fd, c, last);
	*svc = tso_service(fd, c, recurring);
	return c;
}

uint64_t tso_invoiced_customer(int fd, uint64_t unit, uint32_t n, int last, const char *due,
			       uint64_t *inv, uint64_t *svc)
{
	uint64_t s, c = tso_billed_customer(fd, unit, n, last, true, &s);
	uint64_t i = tso_invoice(fd, c, s, due);
	if (inv != NULL)
		*inv = i;
	if (svc != NULL)
		*svc = s;
	return c;
}

uint64_t tso_invoice(int fd, uint64_t customer, uint64_t svc, const char *due)
{
	Ospay__V1__BillingCreateInvoiceRequest m;
	tsr_invoice(&m, customer, svc, due);
	return tsp_call_id(fd, "ospay.v1.Billing/CreateInvoice", &m.base,
			   &ospay__v1__billing_create_invoice_response__descriptor, "invoice");
}

int tso_invoice_status(int fd, uint64_t id)
{
	Ospay__V1__BillingGetInvoiceRequest m = OSPAY__V1__BILLING_GET_INVOICE_REQUEST__INIT;
	m.invoice_id = id;
	Ospay__V1__BillingGetInvoiceResponse *r =
		tsp_call_ok(fd, "ospay.v1.Billing/GetInvoice", &m.base,
			    &ospay__v1__billing_get_invoice_response__descriptor);
	int s = r->invoice->status;
	protobuf_c_message_free_unpacked(&r->base, NULL);
	return s;
}

void tso_run_now(int fd)
{
	Ospay__V1__BillingRunNowRequest m = OSPAY__V1__BILLING_RUN_NOW_REQUEST__INIT;
	tsp_call_ok(fd, "ospay.v1.Billing/RunNow", &m.base, NULL);
}

void tso_advance(int fd, int64_t ms)
{
	Ospay__V1__AdvanceRequest m = OSPAY__V1__ADVANCE_REQUEST__INIT;
	m.by_ms = ms;
	tsp_call_ok(fd, "ospay.v1.Clock/Advance", &m.base, NULL);
}

Ospay__V1__BillingListChargesResponse *tso_charges(int fd, uint64_t customer, int recurrence)
{
	Ospay__V1__BillingListChargesRequest m = OSPAY__V1__BILLING_LIST_CHARGES_REQUEST__INIT;
	m.customer_id = customer;
	m.recurrence = recurrence;
	return tsp_call_ok(fd, "ospay.v1.Billing/ListCharges", &m.base,
			   &ospay__v1__billing_list_charges_response__descriptor);
}

Ospay__V1__Charge *tso_only_charge(int fd, uint64_t customer,
				   Ospay__V1__BillingListChargesResponse **r)
{
	*r = tso_charges(fd, customer, 0);
	cr_assert_eq((*r)->n_charges, 1, "customer %llu has %zu charges",
		     (unsigned long long)customer, (*r)->n_charges);
	return (*r)->charges[0];
}

void tso_only_charge_approved_on(int fd, uint64_t customer, int last, uint64_t not_card)
{
	Ospay__V1__BillingListChargesResponse *r;
	Ospay__V1__Charge *ch = tso_only_charge(fd, customer, &r);
	cr_assert_eq(ch->status, OSPAY__V1__CHARGE_STATUS__CHARGE_STATUS_APPROVED, "status %d",
		     ch->status);
	cr_assert_neq(ch->card_id, not_card);
	cr_assert(strlen(ch->card_last4) == 4 && ch->card_last4[3] == '0' + last,
		  "charged the card ending in \"%s\", not %d", ch->card_last4, last);
	protobuf_c_message_free_unpacked(&r->base, NULL);
}

int tso_only_charge_status(int fd, uint64_t customer)
{
	Ospay__V1__BillingListChargesResponse *r;
	int st = (int)tso_only_charge(fd, customer, &r)->status;
	protobuf_c_message_free_unpacked(&r->base, NULL);
	return st;
}

size_t tso_n_charges(int fd, uint64_t customer)
{
	Ospay__V1__BillingListChargesResponse *r = tso_charges(fd, customer, 0);
	size_t n = r->n_charges;
	protobuf_c_message_free_unpacked(&r->base, NULL);
	return n;
}

Ospay__V1__CustomersListServicesResponse *tso_services(int fd, uint64_t customer)
{
	Ospay__V1__CustomersListServicesRequest m =
		OSPAY__V1__CUSTOMERS_LIST_SERVICES_REQUEST__INIT;
	m.customer_id = customer;
	return tsp_call_ok(fd, "ospay.v1.Customers/ListServices", &m.base,
			   &ospay__v1__customers_list_services_response__descriptor);
}

/* Service svc of customer: its status (-1 if absent) and, in *card (may be
 * NULL), its recurring_payment.card_id (UINT64_MAX without one). */
static int service_facts(int fd, uint64_t customer, uint64_t svc, uint64_t *card)
{
	Ospay__V1__CustomersListServicesResponse *r = tso_services(fd, customer);
	int s = -1;
	if (card != NULL)
		*card = UINT64_MAX;
	for (size_t i = 0; i < r->n_services; i++) {
		if (r->services[i]->id != svc)
			continue;
		s = r->services[i]->status;
		if (card != NULL && r->services[i]->recurring_payment != NULL)
			*card = r->services[i]->recurring_payment->card_id;
	}
	protobuf_c_message_free_unpacked(&r->base, NULL);
	return s;
}

uint64_t tso_service_card(int fd, uint64_t customer, uint64_t svc)
{
	uint64_t card = UINT64_MAX;
	service_facts(fd, customer, svc, &card);
	return card;
}

int tso_service_status(int fd, uint64_t customer, uint64_t svc)
{
	return service_facts(fd, customer, svc, NULL);
}

int tso_set_profile(int fd, uint32_t days, status_t *st)
{
	Ospay__V1__SetSuspensionProfileRequest m = OSPAY__V1__SET_SUSPENSION_PROFILE_REQUEST__INIT;
	m.days = days;
	return tsp_call(fd, "ospay.v1.Admin/SetSuspensionProfile", &m.base, NULL, NULL, NULL, st);
}

uint64_t tso_payment_method(int fd, const char *name, int type, int mode)
{
	Ospay__V1__CreatePaymentMethodRequest m = OSPAY__V1__CREATE_PAYMENT_METHOD_REQUEST__INIT;
	m.name = (char *)name;
	m.type = type;
	m.operation_mode = mode;
	return tsp_call_id(fd, "ospay.v1.Admin/CreatePaymentMethod", &m.base,
			   &ospay__v1__create_payment_method_response__descriptor,
			   "payment_method");
}

int tso_cli(const tsp_server_t *s, const char *stdin_text, char *out, size_t cap, const char *first,
	    ...)
{
	/* The shell folds stderr into stdout; with stdin_text, printf feeds it. */
	const char *cmd = stdin_text != NULL
				  ? "printf '%s' \"$OSPAY_TEST_STDIN\" | \"$0\" \"$@\" 2>&1"
				  : "exec \"$0\" \"$@\" 2>&1";
	const char *argv[40] = {"/bin/sh", "-c", cmd, OSPAY_BIN, first};
	size_t n = 5;
	va_list ap;
	va_start(ap, first);
	for (const char *a = va_arg(ap, const char *); a != NULL; a = va_arg(ap, const char *)) {
		cr_assert_lt(n, 39);
		argv[n++] = a;
	}
	va_end(ap);
	argv[n] = NULL;
	char addr[96], tok[200], in[200];
	snprintf(addr, sizeof(addr), "OSPAY_ADDR=%s", s->rpc_addr);
	snprintf(tok, sizeof(tok), "OSPAY_TOKEN=%s", s->admin_token);
	snprintf(in, sizeof(in), "OSPAY_TEST_STDIN=%s", stdin_text != NULL ? stdin_text : "");
	const char *env[] = {addr, tok, stdin_text != NULL ? in : NULL, NULL};
	return tsp_run(argv, env, out, cap);
}

void tso_choose_card(int fd, uint64_t svc, uint64_t card)
{
	Ospay__V1__CustomersUpdateServiceRequest u;
	Ospay__V1__RecurringPayment rp = OSPAY__V1__RECURRING_PAYMENT__INIT;
	rp.enabled = true;
	rp.card_id = card;
	tsr_service_rp(&u, svc, &rp);
	status_t st;
	cr_assert_eq(
		tsp_call(fd, "ospay.v1.Customers/UpdateService", &u.base, NULL, NULL, NULL, &st), 0,
		"UpdateService: %s", st.message);
}

Ospay__V1__CardsListResponse *tso_cards(int fd, uint64_t customer)
{
	Ospay__V1__CardsListRequest m = OSPAY__V1__CARDS_LIST_REQUEST__INIT;
	m.customer_id = customer;
	Ospay__V1__CardsListResponse *r = NULL;
	status_t st;
	cr_assert_eq(tsp_call(fd, "ospay.v1.Cards/List", &m.base,
			      &ospay__v1__cards_list_response__descriptor, (ProtobufCMessage **)&r,
			      NULL, &st),
		     0, "Cards/List: %s", st.message);
	return r;
}

#include "support/pix_steps.h"

#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>

#include "support/domain.h"
#include "support/gateways.h"
#include "support/proc.h"

void tsp_pix_use_key(tsp_pix_t *p, const char *key)
{
	char body[256];
	status_t st;
	snprintf(body, sizeof(body),
		 "{\"client_id\":\"%s\",\"client_secret\":\"%s\",\"pix_key\":\"%s\"}",
		 TSP_PIX_CLIENT_ID, TSP_PIX_CLIENT_SECRET, key);
	tsg_register(&p->sb, p->srv.org_id, "pix", body);
	Ospay__V1__PixSettings s = tsp_pix_settings(p);
	s.pix_key = (char *)key;
	cr_assert_eq(tsp_pix_set(p, &s, true, &st), ST_OK, "SetGateway with the key: %s",
		     st.message);
}

Ospay__V1__CustomerService *tsp_pix_authorize(tsp_pix_t *p, uint64_t svc, int journey,
					      uint64_t invoice)
{
	Ospay__V1__CustomersAuthorizePixRequest m =
		OSPAY__V1__CUSTOMERS_AUTHORIZE_PIX_REQUEST__INIT;
	Ospay__V1__CustomerService *out = NULL;
	status_t st;
	m.service_id = svc;
	m.journey = journey;
	m.invoice_id = invoice;
	m.do_not_send = true;
	m.switch_rail = true;
	int code = tsp_call_take(p->fd, "ospay.v1.Customers/AuthorizePix", &m.base,
				 &ospay__v1__customers_authorize_pix_response__descriptor,
				 "service", (ProtobufCMessage **)&out, &st);
	cr_assert_eq(code, ST_OK, "AuthorizePix: %s", st.message);
	cr_assert(out != NULL && out->pix != NULL);
	return out;
}

uint64_t tsp_pix_accepted(tsp_pix_t *p, uint32_t n, uint64_t *svc)
{
	char path[128];
	uint64_t c = tso_customer(p->fd, p->srv.unit_id, n, "São Paulo");
	*svc = tso_service(p->fd, c, true);
	Ospay__V1__CustomerService *s = tsp_pix_authorize(p, *svc, 0, 0);
	snprintf(path, sizeof(path), "/control/pix/recs/%s/approve", s->pix->id_rec);
	protobuf_c_message_free_unpacked(&s->base, NULL);
	json_decref(tsp_pix_control(p, "POST", path, NULL, 200));
	s = tsp_pix_refresh(p, *svc);
	cr_assert_eq(s->pix->state,
		     OSPAY__V1__PIX_AUTHORIZATION_STATE__PIX_AUTHORIZATION_STATE_ACCEPTED);
	cr_assert_eq(s->recurring_payment->rail,
		     OSPAY__V1__PAYMENT_RAIL__PAYMENT_RAIL_PIX_AUTOMATICO);
	protobuf_c_message_free_unpacked(&s->base, NULL);
	return c;
}

Ospay__V1__CustomerService *tsp_pix_refresh(tsp_pix_t *p, uint64_t svc)
{
	Ospay__V1__CustomersRefreshPixRequest q = OSPAY__V1__CUSTOMERS_REFRESH_PIX_REQUEST__INIT;
	Ospay__V1__CustomerService *out = NULL;
	status_t st;
	q.service_id = svc;
	int code = tsp_call_take(p->fd, "ospay.v1.Customers/RefreshPix", &q.base,
				 &ospay__v1__customers_refresh_pix_response__descriptor, "service",
				 (ProtobufCMessage **)&out, &st);
	cr_assert_eq(code, ST_OK, "RefreshPix: %s", st.message);
	return out;
}

Ospay__V1__CustomerService *tsp_pix_stored(tsp_pix_t *p, uint64_t customer, uint64_t svc)
{
	Ospay__V1__CustomersListServicesRequest m =
		OSPAY__V1__CUSTOMERS_LIST_SERVICES_REQUEST__INIT;
	Ospay__V1__CustomerService *out = NULL;
	m.customer_id = customer;
	Ospay__V1__CustomersListServicesResponse *r =
		tsp_call_ok(p->fd, "ospay.v1.Customers/ListServices", &m.base,
			    &ospay__v1__customers_list_services_response__descriptor);
	for (size_t i = 0; i < r->n_services && out == NULL; i++) {
		if (r->services[i]->id == svc) {
			out = r->services[i];
			r->services[i] = r->services[--r->n_services];
		}
	}
	protobuf_c_message_free_unpacked(&r->base, NULL);
	cr_assert_not_null(out, "service %llu", (unsigned long long)svc);
	return out;
}

Ospay__V1__BillingListChargesResponse *tsp_pix_charges(tsp_pix_t *p, uint64_t customer)
{
	Ospay__V1__BillingListChargesRequest m = OSPAY__V1__BILLING_LIST_CHARGES_REQUEST__INIT;
	m.customer_id = customer;
	m.rail = OSPAY__V1__PAYMENT_RAIL__PAYMENT_RAIL_PIX_AUTOMATICO;
	return tsp_call_ok(p->fd, "ospay.v1.Billing/ListCharges", &m.base,
			   &ospay__v1__billing_list_charges_response__descriptor);
}

long long tsp_pix_metric(const tsp_pix_t *p, const char *series)
{
	long long v = tsp_metric(&p->srv, series);
	return v < 0 ? 0 : v;
}

int tsp_pix_hooks_logged(const tsp_pix_t *p, const char *fault, int status)
{
	json_t *j = tsp_pix_control(p, "GET", "/control/webhooks?service=pix", NULL, 200);
	json_t *d = json_object_get(j, "deliveries"), *one;
	size_t i;
	int n = 0;
	json_array_foreach(d, i, one)
	{
		const char *f = json_string_value(json_object_get(one, "fault"));
		int st = (int)json_integer_value(json_object_get(one, "status"));
		if (strcmp(f != NULL ? f : "", fault) == 0 && (status == 0 || st == status))
			n++;
	}
	json_decref(j);
	return n;
}

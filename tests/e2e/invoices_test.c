/*
 * Billing invoices against a real ospayd: create, get, cancel, validation
 * with field names, list filters (customer, status, due range) with paging
 * from the indexes, and unit scoping.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "ospay/v1/billing.pb-c.h"
#include "ospay/v1/customers.pb-c.h"
#include "support/domain.h"
#include "support/proc.h"
#include "support/suite.h"

TSP_E2E_SUITE(invoices, adm, NULL, "2026-12-01T12:00:00Z", 60);

#define OPEN OSPAY__V1__INVOICE_STATUS__INVOICE_STATUS_OPEN
#define CANCELED OSPAY__V1__INVOICE_STATUS__INVOICE_STATUS_CANCELED

static int create(int fd, uint64_t customer, uint64_t svc, int64_t amount, const char *due,
		  uint64_t *id, status_t *st)
{
	Ospay__V1__BillingCreateInvoiceRequest m = OSPAY__V1__BILLING_CREATE_INVOICE_REQUEST__INIT;
	m.customer_id = customer;
	m.service_id = svc;
	m.amount = amount;
	m.due_date = (char *)due;
	Ospay__V1__BillingCreateInvoiceResponse *r = NULL;
	int code = tsp_call(fd, "ospay.v1.Billing/CreateInvoice", &m.base,
			    &ospay__v1__billing_create_invoice_response__descriptor,
			    (ProtobufCMessage **)&r, NULL, st);
	if (code == 0) {
		cr_assert_eq(r->invoice->status, OPEN);
		cr_assert_eq(r->invoice->customer_id, customer);
		cr_assert_eq(r->invoice->service_id, svc);
		cr_assert_eq(r->invoice->amount, amount);
		cr_assert_str_eq(r->invoice->due_date, due);
		if (id != NULL)
			*id = r->invoice->id;
		protobuf_c_message_free_unpacked(&r->base, NULL);
	}
	return code;
}

static uint64_t create_ok(uint64_t customer, uint64_t svc, const char *due)
{
	status_t st;
	uint64_t id = 0;
	cr_assert_eq(create(adm, customer, svc, 9990, due, &id, &st), 0, "%s", st.message);
	return id;
}

/* invoice_id calls (Get and Cancel have the same request shape). */
static int by_id(int fd, const char *method, uint64_t id, Ospay__V1__Invoice **out)
{
	Ospay__V1__BillingGetInvoiceRequest m = OSPAY__V1__BILLING_GET_INVOICE_REQUEST__INIT;
	m.invoice_id = id;
	Ospay__V1__BillingGetInvoiceResponse *r = NULL;
	status_t st;
	int code =
		tsp_call(fd, method, &m.base, &ospay__v1__billing_get_invoice_response__descriptor,
			 (ProtobufCMessage **)&r, NULL, &st);
	if (code == 0 && out != NULL) {
		*out = r->invoice;
		r->invoice = NULL;
	}
	if (r != NULL)
		protobuf_c_message_free_unpacked(&r->base, NULL);
	return code;
}

/* Every page of a list; ids in order into ids (returns how many). */
static size_t list_all(int fd, Ospay__V1__BillingListInvoicesRequest *m, uint64_t *ids, size_t cap)
{
	size_t n = 0;
	char token[128] = "";
	for (int pages = 0; pages < 50; pages++) {
		m->page_token = token;
		Ospay__V1__BillingListInvoicesResponse *r =
			tsp_call_ok(fd, "ospay.v1.Billing/ListInvoices", &m->base,
				    &ospay__v1__billing_list_invoices_response__descriptor);
		for (size_t i = 0; i < r->n_invoices && n < cap; i++)
			ids[n++] = r->invoices[i]->id;
		snprintf(token, sizeof(token), "%s", r->next_page_token);
		protobuf_c_message_free_unpacked(&r->base, NULL);
		if (token[0] == '\0')
			break;
	}
	m->page_token = "";
	return n;
}

Test(invoices, create_get_cancel)
{
	uint64_t cust = tso_customer(adm, srv.unit_id, 1, "São Paulo");
	uint64_t svc = tso_service_plain(adm, cust);
	uint64_t id = create_ok(cust, svc, "2026-12-10");
	Ospay__V1__Invoice *inv = NULL;
	cr_assert_eq(by_id(adm, "ospay.v1.Billing/GetInvoice", id, &inv), 0);
	cr_assert_eq(inv->status, OPEN);
	cr_assert_eq(inv->unit_id, srv.unit_id);
	cr_assert_eq(inv->organization_id, srv.org_id);
	ospay__v1__invoice__free_unpacked(inv, NULL);
	cr_assert_eq(by_id(adm, "ospay.v1.Billing/CancelInvoice", id, &inv), 0);
	cr_assert_eq(inv->status, CANCELED);
	ospay__v1__invoice__free_unpacked(inv, NULL);
	/* Canceling again changes nothing. */
	cr_assert_eq(by_id(adm, "ospay.v1.Billing/CancelInvoice", id, &inv), 0);
	cr_assert_eq(inv->status, CANCELED);
	ospay__v1__invoice__free_unpacked(inv, NULL);
	cr_assert_eq(by_id(adm, "ospay.v1.Billing/GetInvoice", id, &inv), 0);
	cr_assert_eq(inv->status, CANCELED);
	ospay__v1__invoice__free_unpacked(inv, NULL);
	cr_assert_eq(by_id(adm, "ospay.v1.Billing/GetInvoice", id + 1000, NULL), 5);
	cr_assert_eq(by_id(adm, "ospay.v1.Billing/GetInvoice", 0, NULL), 3);
}

Test(invoices, validation)
{
	uint64_t cust = tso_customer(adm, srv.unit_id, 2, "São Paulo");
	uint64_t other = tso_customer(adm, srv.unit_id, 3, "São Paulo");
	uint64_t other_svc = tso_service_plain(adm, other);
	status_t st;
	cr_assert_eq(create(adm, 0, 0, 0, "", NULL, &st), 3);
	cr_assert(tso_violation(&st, "customer_id"));
	cr_assert(tso_violation(&st, "service_id"));
	cr_assert(tso_violation(&st, "amount"));
	cr_assert(tso_violation(&st, "due_date"));
	cr_assert_eq(create(adm, cust, other_svc, -5, "2026-02-30", NULL, &st), 3);
	cr_assert(tso_violation(&st, "service_id"));
	cr_assert(tso_violation(&st, "amount"));
	cr_assert(tso_violation(&st, "due_date"));
	cr_assert_eq(create(adm, 999999, other_svc, 100, "2026-12-10", NULL, &st), 5);
	Ospay__V1__BillingListInvoicesRequest m = OSPAY__V1__BILLING_LIST_INVOICES_REQUEST__INIT;
	m.due_from = "2026-13-01";
	m.due_to = "x";
	m.status = 9;
	tso_invalid(adm, "ospay.v1.Billing/ListInvoices", &m.base, "bad dates and status",
		    "due_from", "due_to", "status", NULL);
	m.due_from = "2026-12-10";
	m.due_to = "2026-12-09";
	m.status = 0;
	tso_invalid(adm, "ospay.v1.Billing/ListInvoices", &m.base, "empty range", "due_to", NULL);
}

Test(invoices, list_filters_and_pages)
{
	uint64_t a = tso_customer(adm, srv.unit_id, 4, "São Paulo");
	uint64_t b = tso_customer(adm, srv.unit_id, 5, "São Paulo");
	uint64_t sa = tso_service_plain(adm, a), sb = tso_service_plain(adm, b);
	/* Created out of due order: lists come by due date. */
	uint64_t a3 = create_ok(a, sa, "2027-03-10");
	uint64_t a1 = create_ok(a, sa, "2027-01-10");
	uint64_t a2 = create_ok(a, sa, "2027-02-10");
	uint64_t b1 = create_ok(b, sb, "2027-01-05");
	uint64_t b2 = create_ok(b, sb, "2027-02-20");
	cr_assert_eq(by_id(adm, "ospay.v1.Billing/CancelInvoice", a2, NULL), 0);
	uint64_t ids[32];
	Ospay__V1__BillingListInvoicesRequest m = OSPAY__V1__BILLING_LIST_INVOICES_REQUEST__INIT;
	m.page_size = 2;
	m.due_from = "2027-01-01";
	size_t n = list_all(adm, &m, ids, 32);
	cr_assert_eq(n, 5);
	uint64_t want_all[] = {b1, a1, a2, b2, a3};
	for (size_t i = 0; i < 5; i++)
		cr_assert_eq(ids[i], want_all[i], "position %zu", i);
	m.customer_id = a;
	n = list_all(adm, &m, ids, 32);
	cr_assert_eq(n, 3);
	cr_assert_eq(ids[0], a1);
	cr_assert_eq(ids[1], a2);
	cr_assert_eq(ids[2], a3);
	m.status = OPEN;
	n = list_all(adm, &m, ids, 32);
	cr_assert_eq(n, 2);
	cr_assert_eq(ids[0], a1);
	cr_assert_eq(ids[1], a3);
	m.customer_id = 0;
	m.status = CANCELED;
	n = list_all(adm, &m, ids, 32);
	cr_assert_eq(n, 1);
	cr_assert_eq(ids[0], a2);
	m.status = OPEN;
	m.due_from = "2027-01-06";
	m.due_to = "2027-02-20";
	n = list_all(adm, &m, ids, 32);
	cr_assert_eq(n, 2);
	cr_assert_eq(ids[0], a1);
	cr_assert_eq(ids[1], b2);
	/* A page token belongs to its filters. */
	m.status = 0;
	m.due_from = "2027-01-01";
	m.due_to = "";
	m.page_size = 1;
	Ospay__V1__BillingListInvoicesResponse *r = NULL;
	status_t st;
	r = tsp_call_ok(adm, "ospay.v1.Billing/ListInvoices", &m.base,
			&ospay__v1__billing_list_invoices_response__descriptor);
	cr_assert_str_neq(r->next_page_token, "");
	m.page_token = r->next_page_token;
	m.customer_id = b;
	cr_assert_eq(tsp_call(adm, "ospay.v1.Billing/ListInvoices", &m.base, NULL, NULL, NULL, &st),
		     3);
	cr_assert(tso_violation(&st, "page_token"));
	protobuf_c_message_free_unpacked(&r->base, NULL);
}

Test(invoices, unit_scoping_and_roles)
{
	uint64_t u2 = tso_unit(adm, "Zona Norte");
	uint64_t mine = tso_customer(adm, srv.unit_id, 6, "São Paulo");
	uint64_t theirs = tso_customer(adm, u2, 7, "São Paulo");
	uint64_t my_inv = create_ok(mine, tso_service_plain(adm, mine), "2028-01-10");
	uint64_t their_svc = tso_service_plain(adm, theirs);
	uint64_t their_inv = create_ok(theirs, their_svc, "2028-01-10");
	char secret[160];
	tso_token(adm, 2, srv.unit_id, secret, sizeof(secret));
	int op = tsp_login(&srv, secret);
	status_t st;
	cr_assert_eq(create(op, theirs, their_svc, 100, "2028-01-10", NULL, &st), 5);
	cr_assert_eq(by_id(op, "ospay.v1.Billing/GetInvoice", their_inv, NULL), 5);
	cr_assert_eq(by_id(op, "ospay.v1.Billing/CancelInvoice", their_inv, NULL), 5);
	cr_assert_eq(by_id(op, "ospay.v1.Billing/GetInvoice", my_inv, NULL), 0);
	uint64_t ids[32];
	Ospay__V1__BillingListInvoicesRequest m = OSPAY__V1__BILLING_LIST_INVOICES_REQUEST__INIT;
	m.due_from = "2028-01-01";
	size_t n = list_all(op, &m, ids, 32);
	cr_assert_eq(n, 1);
	cr_assert_eq(ids[0], my_inv);
	m.customer_id = theirs;
	cr_assert_eq(list_all(op, &m, ids, 32), 0);
	m.customer_id = 0;
	m.unit_id = u2;
	cr_assert_eq(list_all(op, &m, ids, 32), 0);
	/* The org-wide admin sees both units. */
	m.unit_id = 0;
	cr_assert_eq(list_all(adm, &m, ids, 32), 2);
	tso_token(adm, 3, srv.unit_id, secret, sizeof(secret));
	int ro = tsp_login(&srv, secret);
	cr_assert_eq(create(ro, mine, tso_service_plain(adm, mine), 100, "2028-01-10", NULL, &st),
		     7);
	cr_assert_eq(by_id(ro, "ospay.v1.Billing/CancelInvoice", my_inv, NULL), 7);
	cr_assert_eq(by_id(ro, "ospay.v1.Billing/GetInvoice", my_inv, NULL), 0);
	close(op);
	close(ro);
}

/* Test support: the server's handlers called in-process (handlers.h). */
#include "support/handlers.h"

#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "server/db/db.h"
#include "server/services/services.h"
#include "support/records.h"
#include "support/seed.h"

store_t *tsh_store_up(char *dir, size_t cap, const char *name)
{
	store_t *st = NULL;
	snprintf(dir, cap, "/tmp/ospay-%s-XXXXXX", name);
	cr_assert_not_null(mkdtemp(dir));
	store_opts_t o = {.path = dir, .tables = db_tables, .n_tables = DB_N_TABLES};
	cr_assert_eq(store_open(&st, &o), 0);
	return st;
}

void tsh_store_down(store_t *st, const char *dir)
{
	char cmd[128];
	store_close(st);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	cr_assert_eq(system(cmd), 0);
}

void tsh_session(srv_session_t *sess, enum perm_role role)
{
	memset(sess, 0, sizeof(*sess));
	sess->authed = true;
	sess->p.org_id = 1;
	sess->p.token_id = 1;
	sess->p.role = role;
	sess->p.org_wide = true;
}

/* A write handler in the batch, as the dispatcher runs it: a refused call
 * keeps nothing (a status other than OK undoes its nested transaction), and a
 * run again after the map grows starts without the records the last run kept. */
static int run_write(store_txn_t *txn, void *arg)
{
	srv_req_t *r = arg;
	srv_release_kept(r, r->kept_mark);
	status_clear(&r->st);
	r->out.len = 0;
	int rc = r->method->fn(r, txn);
	return rc != 0 ? rc : r->st.code;
}

int tsh_call(srv_t *s, srv_session_t *sess, srv_req_t *r, const char *method, ProtobufCMessage *in)
{
	store_txn_t *txn = NULL;
	int rc;
	memset(r, 0, sizeof(*r));
	r->srv = s;
	r->sess = sess;
	r->method = services_method_find(method);
	cr_assert_not_null(r->method, "%s", method);
	r->in = in;
	r->now_ms = s->clock_ms;
	status_clear(&r->st);
	if (r->method->flags & SRV_M_WRITE) {
		rc = store_write(s->store, run_write, NULL, r);
	} else {
		cr_assert_eq(store_read_begin(s->store, &txn), 0);
		rc = r->method->fn(r, txn);
		store_read_end(txn);
		if (rc == 0)
			rc = r->st.code;
	}
	/* The call ends as ospayd ends it: the records its handler kept are freed. */
	srv_release_kept(r, 0);
	return rc;
}

void *tsh_call_ok(srv_t *s, srv_session_t *sess, const char *method, ProtobufCMessage *in,
		  const ProtobufCMessageDescriptor *resp_desc)
{
	srv_req_t r;
	int rc = tsh_call(s, sess, &r, method, in);
	cr_assert_eq(rc, 0, "%s: %d %s (%s)", method, rc, r.st.message,
		     r.st.n_violations ? r.st.violations[0].field : "");
	ProtobufCMessage *out = NULL;
	if (resp_desc != NULL) {
		out = protobuf_c_message_unpack(resp_desc, NULL, r.out.len, r.out.data);
		cr_assert_not_null(out, "%s: the reply does not unpack", method);
	}
	buf_free(&r.out);
	return out;
}

uint64_t tsh_call_id(srv_t *s, srv_session_t *sess, const char *method, ProtobufCMessage *in,
		     const ProtobufCMessageDescriptor *resp_desc, const char *field)
{
	ProtobufCMessage *resp = tsh_call_ok(s, sess, method, in, resp_desc);
	uint64_t id = 0;
	cr_assert_eq(tsr_record_id(resp, field, &id), 0, "%s: no %s with an id in the reply",
		     method, field);
	protobuf_c_message_free_unpacked(resp, NULL);
	return id;
}

void tsh_store_write(store_t *st, store_write_fn fn, void *arg)
{
	cr_assert_eq(store_write(st, fn, NULL, arg), 0);
	cr_assert_eq(store_flush(st), 0);
}

void tsh_assert_order_reply(store_t *st, uint64_t id, Ospay__V1__Notification **nps, size_t n,
			    const uint8_t *got, size_t len)
{
	store_txn_t *txn = NULL;
	Ospay__V1__Order *o = NULL;
	cr_assert_eq(store_read_begin(st, &txn), 0);
	cr_assert_eq(db_get_by_id(txn, DB_ORDERS, id, &ospay__v1__order__descriptor,
				  (ProtobufCMessage **)&o),
		     0);
	store_read_end(txn);
	Ospay__V1__OrdersGetResponse resp = OSPAY__V1__ORDERS_GET_RESPONSE__INIT;
	resp.order = o;
	resp.notifications = nps;
	resp.n_notifications = n;
	size_t want_len = ospay__v1__orders_get_response__get_packed_size(&resp);
	uint8_t *want = malloc(want_len);
	cr_assert_not_null(want);
	ospay__v1__orders_get_response__pack(&resp, want);
	cr_assert_eq(len, want_len);
	cr_assert_eq(memcmp(got, want, len), 0);
	free(want);
	ospay__v1__order__free_unpacked(o, NULL);
}

store_t *tsh_admin_up(srv_t *s, srv_session_t *sess, char *dir, size_t cap, const char *name,
		      int64_t clock_ms)
{
	s->store = tsh_store_up(dir, cap, name);
	s->clock_ms = clock_ms;
	tsh_session(sess, PERM_ROLE_ADMIN);
	cr_assert_eq(store_write(s->store, tss_org_unit_fn, NULL, NULL), 0);
	return s->store;
}

uint64_t tsh_customer(srv_t *s, srv_session_t *sess, const char *name, const char *cpf)
{
	Ospay__V1__Address a;
	Ospay__V1__CustomersCreateRequest c;
	tsr_customer(&c, &a, 1, name, cpf);
	return tsh_call_id(s, sess, "ospay.v1.Customers/Create", &c.base,
			   &ospay__v1__customers_create_response__descriptor, "customer");
}

uint64_t tsh_service(srv_t *s, srv_session_t *sess, uint64_t customer,
		     Ospay__V1__RecurringPayment *rp)
{
	Ospay__V1__CustomersAddServiceRequest m;
	tsr_service(&m, customer, rp);
	return tsh_call_id(s, sess, "ospay.v1.Customers/AddService", &m.base,
			   &ospay__v1__customers_add_service_response__descriptor, "service");
}

uint64_t tsh_invoice(srv_t *s, srv_session_t *sess, uint64_t customer, uint64_t svc,
		     const char *due)
{
	Ospay__V1__BillingCreateInvoiceRequest m;
	tsr_invoice(&m, customer, svc, due);
	return tsh_call_id(s, sess, "ospay.v1.Billing/CreateInvoice", &m.base,
			   &ospay__v1__billing_create_invoice_response__descriptor, "invoice");
}

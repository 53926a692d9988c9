/*
 * Orders/Get answers from the stored bytes (docs/spec.md 8: no re-encode on reads):
 * the reply must be exactly what packing the unpacked record would give, the
 * unit scope must still hide orders of other units, and a record that is not
 * well-formed must not be sent as it is.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/log.h"
#include "common/util.h"
#include "server/db/db.h"
#include "server/rpc/srv.h"
#include "server/services/services.h"
#include "support/handlers.h"
#include "support/seed.h"

static char dir[64];
static store_t *store;
static srv_t srv;
static srv_session_t sess;

static int seed(store_txn_t *txn, void *arg)
{
	(void)arg;
	int rc = tss_org_units(txn, 2);
	/* Order 7 in unit 2, with the nested parts a stored order can have. */
	Ospay__V1__OrderStatusChange h = OSPAY__V1__ORDER_STATUS_CHANGE__INIT, *hp = &h;
	h.at_ms = 1700000000000;
	h.to = OSPAY__V1__ORDER_STATUS__ORDER_STATUS_OPEN;
	h.note = "aberta";
	Ospay__V1__OrderInstallment in = OSPAY__V1__ORDER_INSTALLMENT__INIT, *inp = &in;
	in.number = 1;
	in.amount = 15000;
	in.due_date = "2026-12-10";
	Ospay__V1__OrderPayment pay = OSPAY__V1__ORDER_PAYMENT__INIT;
	pay.installments = 1;
	pay.schedule = &inp;
	pay.n_schedule = 1;
	pay.link_url = "https://pagolivre.example/pay/abc";
	Ospay__V1__Order o = OSPAY__V1__ORDER__INIT;
	o.id = 7;
	o.organization_id = 1;
	o.unit_id = 2;
	o.customer_id = 3;
	o.kind = "INSTALAÇÃO FIBRA";
	o.description = "levar ONU";
	o.amount = 15000;
	o.status = OSPAY__V1__ORDER_STATUS__ORDER_STATUS_OPEN;
	o.history = &hp;
	o.n_history = 1;
	o.payment = &pay;
	o.created_ms = o.updated_ms = h.at_ms;
	if (rc == 0)
		rc = db_order_put(txn, NULL, &o);
	/* Order 8: bytes that do not scan. */
	return rc == 0 ? tss_broken_order(txn, 8) : rc;
}

static void setup(void)
{
	log_set_level(log_level_parse("error"));
	store = tsh_store_up(dir, sizeof(dir), "getwire");
	tsh_store_write(store, seed, NULL);
	memset(&srv, 0, sizeof(srv));
	srv.store = store;
	tsh_session(&sess, PERM_ROLE_READ_ONLY);
}

static void teardown(void)
{
	tsh_store_down(store, dir);
}

TestSuite(orders_get_wire, .init = setup, .fini = teardown);

/*
 * Orders/Get of id in a read snapshot, as ospayd runs it: the handler's errno,
 * else the status it left in r->st. r->out is the caller's.
 */
static int get(uint64_t id, srv_req_t *r)
{
	static Ospay__V1__OrdersGetRequest in;
	ospay__v1__orders_get_request__init(&in);
	in.id = id;
	return tsh_call(&srv, &sess, r, "ospay.v1.Orders/Get", &in.base);
}

Test(orders_get_wire, reply_is_the_packed_record)
{
	srv_req_t r;
	cr_assert_eq(get(7, &r), ST_OK);
	/* What the unpack-and-pack path answered. */
	tsh_assert_order_reply(store, 7, NULL, 0, r.out.data, r.out.len);
	/* And a client reads it back as the order. */
	Ospay__V1__OrdersGetResponse *back =
		ospay__v1__orders_get_response__unpack(NULL, r.out.len, r.out.data);
	cr_assert_not_null(back);
	cr_assert_eq(back->order->id, 7);
	cr_assert_eq(back->order->unit_id, 2);
	cr_assert_str_eq(back->order->payment->link_url, "https://pagolivre.example/pay/abc");
	ospay__v1__orders_get_response__free_unpacked(back, NULL);
	buf_free(&r.out);
}

Test(orders_get_wire, other_units_order_is_not_found)
{
	static const uint64_t unit1[] = {1};
	sess.p.org_wide = false;
	sess.p.unit_ids = unit1;
	sess.p.n_units = 1;
	srv_req_t r;
	cr_assert_eq(get(7, &r), ST_NOT_FOUND);
	cr_assert_str_eq(r.st.message, "no order 7");
	cr_assert_eq(r.out.len, 0);
	buf_free(&r.out);
	/* Another organization's token does not see it either. */
	sess.p.org_id = 2;
	sess.p.org_wide = true;
	cr_assert_eq(get(7, &r), ST_NOT_FOUND);
	cr_assert_eq(r.out.len, 0);
	buf_free(&r.out);
}

Test(orders_get_wire, malformed_record_is_not_sent)
{
	srv_req_t r;
	int rc = get(8, &r);
	cr_assert_neq(rc, ST_OK);
	cr_assert_eq(r.out.len, 0, "the damaged bytes must not reach the client");
	buf_free(&r.out);
	cr_assert_eq(get(9, &r), ST_NOT_FOUND);
	cr_assert_str_eq(r.st.message, "no order 9");
	buf_free(&r.out);
}

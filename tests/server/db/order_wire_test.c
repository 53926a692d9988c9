/*
 * db/order_wire.h: an order's stored bytes are served only when they scan as
 * well-formed protobuf, with the owner read from them, and the reply built
 * from them is exactly what packing the unpacked response would give.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/log.h"
#include "common/util.h"
#include "server/db/db.h"
#include "server/db/order_wire.h"
#include "support/handlers.h"
#include "support/seed.h"

static char dir[64];
static store_t *store;

static int seed(store_txn_t *txn, void *arg)
{
	(void)arg;
	Ospay__V1__Order o = OSPAY__V1__ORDER__INIT;
	o.id = 7;
	o.organization_id = 300; /* two-byte varints */
	o.unit_id = 2;
	o.kind = "REPARO";
	o.amount = 15000;
	int rc = db_order_put(txn, NULL, &o);
	/* Order 8: a field 2 varint cut short. */
	return rc == 0 ? tss_broken_order(txn, 8) : rc;
}

static void setup(void)
{
	log_set_level(log_level_parse("error"));
	store = tsh_store_up(dir, sizeof(dir), "orderwire");
	tsh_store_write(store, seed, NULL);
}

static void teardown(void)
{
	tsh_store_down(store, dir);
}

TestSuite(order_wire, .init = setup, .fini = teardown);

Test(order_wire, a_well_formed_order_is_served_as_packed)
{
	store_txn_t *txn;
	store_val_t rec;
	uint64_t org = 0, unit = 0;
	cr_assert_eq(store_read_begin(store, &txn), 0);
	cr_assert_eq(db_order_wire_scan(txn, 7, &rec, &org, &unit), DB_ORDER_WIRE_READY);
	cr_assert_eq(org, 300);
	cr_assert_eq(unit, 2);
	Ospay__V1__Notification n = OSPAY__V1__NOTIFICATION__INIT, *np = &n;
	n.id = 5;
	buf_t out = {0};
	cr_assert_eq(db_order_wire_reply(&out, &rec, &np, 1), 0);
	store_read_end(txn);
	tsh_assert_order_reply(store, 7, &np, 1, out.data, out.len);
	buf_free(&out);
}

Test(order_wire, missing_or_malformed_takes_the_unpacking_path)
{
	store_txn_t *txn;
	store_val_t rec;
	uint64_t org, unit;
	cr_assert_eq(store_read_begin(store, &txn), 0);
	cr_assert_eq(db_order_wire_scan(txn, 8, &rec, &org, &unit), DB_ORDER_WIRE_UNPACK);
	cr_assert_eq(db_order_wire_scan(txn, 9, &rec, &org, &unit), DB_ORDER_WIRE_UNPACK);
	store_read_end(txn);
}

/*
 * The last place of an agenda window inside one group commit, without the
 * network in between: two Orders/Create mutations in the same batch (no
 * store_flush between them). The second runs after the first in the batch's
 * transaction, sees its booking and is refused.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/log.h"
#include "core/date.h"
#include "server/db/db.h"
#include "server/rpc/srv.h"
#include "server/services/services.h"
#include "support/handlers.h"

static char dir[64];
static store_t *store;
static srv_t srv;
static srv_session_t sess;

/* One write mutation in the current batch; its errno, else its status code. */
static int write_call(const char *method, ProtobufCMessage *in, uint64_t *id_out)
{
	srv_req_t r;
	int rc = tsh_call(&srv, &sess, &r, method, in);
	if (rc == 0 && id_out != NULL) {
		/* Each create response holds its record as field 1; read the record's id. */
		ProtobufCMessage *m = protobuf_c_message_unpack(
			strcmp(method, "ospay.v1.Orders/Create") == 0
				? &ospay__v1__orders_create_response__descriptor
			: strcmp(method, "ospay.v1.Customers/Create") == 0
				? &ospay__v1__customers_create_response__descriptor
				: &ospay__v1__agendas_create_response__descriptor,
			NULL, r.out.len, r.out.data);
		cr_assert_not_null(m);
		const ProtobufCFieldDescriptor *f = &m->descriptor->fields[0];
		const ProtobufCMessage *rec = *(ProtobufCMessage **)((char *)m + f->offset);
		const ProtobufCFieldDescriptor *idf =
			protobuf_c_message_descriptor_get_field_by_name(rec->descriptor, "id");
		*id_out = *(const uint64_t *)((const char *)rec + idf->offset);
		protobuf_c_message_free_unpacked(m, NULL);
	}
	buf_free(&r.out);
	return rc;
}

static int seed(store_txn_t *txn, void *arg)
{
	(void)arg;
	Ospay__V1__Organization org = OSPAY__V1__ORGANIZATION__INIT;
	org.id = 1;
	org.utc_offset_minutes = -180;
	Ospay__V1__Unit u = OSPAY__V1__UNIT__INIT;
	u.id = 1;
	u.organization_id = 1;
	int rc = db_put_by_id(txn, DB_ORGS, 1, &org.base);
	return rc == 0 ? db_unit_insert(txn, &u) : rc;
}

Test(orders_batch, last_place_in_one_batch_has_one_winner)
{
	log_set_level(log_level_parse("warn"));
	store = tsh_store_up(dir, sizeof(dir), "batch");
	srv.store = store;
	srv.clock_ms = date_local_to_utc(date_from_civil(2026, 12, 1), 9 * 60, -180);
	tsh_session(&sess, PERM_ROLE_ADMIN);
	cr_assert_eq(store_write(store, seed, NULL, NULL), 0);

	Ospay__V1__Address a = OSPAY__V1__ADDRESS__INIT;
	a.street = "Rua";
	a.city = "São Paulo";
	a.state = "SP";
	a.cep = "01000000";
	Ospay__V1__CustomersCreateRequest c = OSPAY__V1__CUSTOMERS_CREATE_REQUEST__INIT;
	c.unit_id = 1;
	c.name = "Maria";
	c.document = "52998224725";
	c.address = &a;
	uint64_t cust;
	cr_assert_eq(write_call("ospay.v1.Customers/Create", &c.base, &cust), 0);
	Ospay__V1__AgendaWindow w = OSPAY__V1__AGENDA_WINDOW__INIT, *wp = &w;
	w.weekday = 1;
	w.start_minute = 8 * 60;
	w.end_minute = 12 * 60;
	w.capacity = 1;
	Ospay__V1__AgendasCreateRequest ag = OSPAY__V1__AGENDAS_CREATE_REQUEST__INIT;
	ag.unit_id = 1;
	ag.name = "A";
	ag.windows = &wp;
	ag.n_windows = 1;
	ag.slot_minutes = 30;
	uint64_t agenda;
	cr_assert_eq(write_call("ospay.v1.Agendas/Create", &ag.base, &agenda), 0);
	cr_assert_eq(store_flush(store), 0);

	store_stats_t before, after;
	store_get_stats(store, &before);
	Ospay__V1__OrdersCreateRequest m = OSPAY__V1__ORDERS_CREATE_REQUEST__INIT;
	m.customer_id = cust;
	m.kind = "REPARO";
	m.agenda_id = agenda;
	m.scheduled_start_ms = date_local_to_utc(date_from_civil(2026, 12, 7), 8 * 60, -180);
	uint64_t first;
	cr_assert_eq(write_call("ospay.v1.Orders/Create", &m.base, &first), 0);
	m.scheduled_start_ms += 30 * 60000;
	cr_assert_eq(write_call("ospay.v1.Orders/Create", &m.base, NULL), ST_FAILED_PRECONDITION,
		     "the second booking of the batch must see the first");
	cr_assert(store_pending(store), "both ran before any commit");
	cr_assert_eq(store_flush(store), 0);
	store_get_stats(store, &after);
	cr_assert_eq(after.commits - before.commits, 1, "one group commit");
	cr_assert_eq(after.writes_committed - before.writes_committed, 1, "one booking committed");

	tsh_store_down(store, dir);
}

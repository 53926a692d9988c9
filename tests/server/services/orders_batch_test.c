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
#include "support/records.h"
#include "support/seed.h"

static char dir[64];
static store_t *store;
static srv_t srv;
static srv_session_t sess;

/* Orders/Create in the current batch: its errno, else its status code (no assertion). */
static int create_order(Ospay__V1__OrdersCreateRequest *m)
{
	srv_req_t r;
	int rc = tsh_call(&srv, &sess, &r, "ospay.v1.Orders/Create", &m->base);
	buf_free(&r.out);
	return rc;
}

Test(orders_batch, last_place_in_one_batch_has_one_winner)
{
	log_set_level(log_level_parse("warn"));
	store = tsh_admin_up(&srv, &sess, dir, sizeof(dir), "batch",
			     date_local_to_utc(date_from_civil(2026, 12, 1), 9 * 60, -180));

	/* Every write below runs in the same batch (tsh_call_id asserts OK). */
	uint64_t cust = tsh_customer(&srv, &sess, "Maria", "52998224725");
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
	uint64_t agenda = tsh_call_id(&srv, &sess, "ospay.v1.Agendas/Create", &ag.base,
				      &ospay__v1__agendas_create_response__descriptor, "agenda");
	cr_assert_eq(store_flush(store), 0);

	store_stats_t before, after;
	store_get_stats(store, &before);
	Ospay__V1__OrdersCreateRequest m = OSPAY__V1__ORDERS_CREATE_REQUEST__INIT;
	m.customer_id = cust;
	m.kind = "REPARO";
	m.agenda_id = agenda;
	m.scheduled_start_ms = date_local_to_utc(date_from_civil(2026, 12, 7), 8 * 60, -180);
	uint64_t first = tsh_call_id(&srv, &sess, "ospay.v1.Orders/Create", &m.base,
				     &ospay__v1__orders_create_response__descriptor, "order");
	m.scheduled_start_ms += 30 * 60000;
	cr_assert_eq(create_order(&m), ST_FAILED_PRECONDITION,
		     "the second booking of the batch must see the first (order %llu)",
		     (unsigned long long)first);
	cr_assert(store_pending(store), "both ran before any commit");
	cr_assert_eq(store_flush(store), 0);
	store_get_stats(store, &after);
	cr_assert_eq(after.commits - before.commits, 1, "one group commit");
	cr_assert_eq(after.writes_committed - before.writes_committed, 1, "one booking committed");

	tsh_store_down(store, dir);
}

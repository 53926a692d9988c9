/*
 * `ospayd rotate-key` end to end: cards added and a Cielo gateway set under
 * key 1, the server stopped, the key rotated, the server started again: the
 * cards still list and the billing run still charges them at the sandbox
 * (their tokens and the gateway's credentials open under the new key), every
 * sealed record in the store names the new key id, a card added afterwards is
 * sealed under it, a second rotation works the same way, and rotate-key on
 * the data dir of a running server is refused without touching anything.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/vault.h"
#include "ospay/v1/admin.pb-c.h"
#include "ospay/v1/billing.pb-c.h"
#include "ospay/v1/cards.pb-c.h"
#include "ospay/v1/customers.pb-c.h"
#include "ospay/v1/gateway.pb-c.h"
#include "ospay/v1/records.pb-c.h"
#include "server/db/db.h"
#include "store/store.h"
#include "support/domain.h"
#include "support/enums.h"
#include "support/gateways.h"
#include "support/proc.h"

static tsp_server_t srv;
static tsp_sandbox_t sbx;
static int adm = -1;
static const char *const clock_args[] = {"--test-clock", "2020-12-10T15:00:00Z", NULL};

static void setup(void)
{
	adm = tsp_env_up(&srv, &sbx, NULL, clock_args);
	tsg_cielo(adm, &sbx, srv.org_id, "rot", true);
}

static void teardown(void)
{
	tsp_env_down(&srv, &sbx, adm); /* adm is -1 while the server is stopped */
}

TestSuite(rotate_key, .init = setup, .fini = teardown, .timeout = 120);

static size_t n_cards(uint64_t customer)
{
	Ospay__V1__CardsListRequest m = OSPAY__V1__CARDS_LIST_REQUEST__INIT;
	m.customer_id = customer;
	Ospay__V1__CardsListResponse *r = tsp_call_ok(adm, "ospay.v1.Cards/List", &m.base,
						      &ospay__v1__cards_list_response__descriptor);
	size_t n = r->n_cards;
	protobuf_c_message_free_unpacked(&r->base, NULL);
	return n;
}

/* `ospayd rotate-key --data DIR [extra...]`: its exit code, its stdout in out. */
static int rotate_with(const char *a1, const char *a2, const char *a3, const char *a4, char *out,
		       size_t cap)
{
	char data[300];
	snprintf(data, sizeof(data), "%s/data", srv.dir);
	const char *argv[] = {OSPAYD_BIN, "rotate-key", "--data", data, a1, a2, a3, a4, NULL};
	out[0] = '\0';
	return tsp_run(argv, NULL, out, cap);
}

static int rotate(char *out, size_t cap)
{
	return rotate_with(NULL, NULL, NULL, NULL, out, cap);
}

static long json_num(const char *json, const char *key)
{
	char pat[64];
	snprintf(pat, sizeof(pat), "\"%s\": ", key);
	const char *p = strstr(json, pat);
	cr_assert_not_null(p, "no %s in %s", key, json);
	return atol(p + strlen(pat));
}

/* What the store holds, read directly (the server is stopped). */
typedef struct sealed_census {
	size_t cards, gateways;
	size_t under[8]; /* records per key id 0..7 */
	uint32_t current;
} sealed_census_t;

/* Counts the table's records under each key id in c->under; returns how many it read. */
static size_t count_table(store_txn_t *txn, unsigned table, sealed_census_t *c)
{
	size_t n = 0;
	store_cursor_t *cur = NULL;
	store_val_t k, v;
	cr_assert_eq(store_cursor_open(txn, table, &cur), 0);
	int rc = store_cursor_first(cur, &k, &v);
	while (rc == 0) {
		const ProtobufCBinaryData *sealed;
		ProtobufCMessage *m = NULL;
		if (table == DB_CARDS) {
			Ospay__V1__CardRecord *r =
				ospay__v1__card_record__unpack(NULL, v.len, v.data);
			cr_assert_not_null(r);
			sealed = &r->sealed_token;
			m = &r->base;
		} else {
			Ospay__V1__GatewayRecord *r =
				ospay__v1__gateway_record__unpack(NULL, v.len, v.data);
			cr_assert_not_null(r);
			sealed = &r->sealed_credentials;
			m = &r->base;
		}
		uint32_t id = 0;
		cr_assert_eq(vault_sealed_key_id(sealed->data, sealed->len, &id), 0);
		cr_assert_lt(id, 8);
		c->under[id]++;
		n++;
		protobuf_c_message_free_unpacked(m, NULL);
		rc = store_cursor_next(cur, &k, &v);
	}
	cr_assert_eq(rc, -ENOENT);
	store_cursor_close(cur);
	return n;
}

static void census(sealed_census_t *c)
{
	char path[400];
	store_t *st = NULL;
	store_txn_t *txn = NULL;
	memset(c, 0, sizeof(*c));
	snprintf(path, sizeof(path), "%s/data/store", srv.dir);
	store_opts_t so = {
		.path = path, .read_only = true, .tables = db_tables, .n_tables = DB_N_TABLES};
	cr_assert_eq(store_open(&st, &so), 0);
	cr_assert_eq(store_read_begin(st, &txn), 0);
	c->cards = count_table(txn, DB_CARDS, c);
	c->gateways = count_table(txn, DB_GATEWAYS, c);
	store_cursor_t *cur = NULL;
	store_val_t k, v;
	c->current = 1;
	cr_assert_eq(store_cursor_open(txn, DB_VAULT_KEYS, &cur), 0);
	if (store_cursor_last(cur, &k, &v) == 0) {
		const uint8_t *p = k.data;
		cr_assert_eq(k.len, 4);
		c->current = ((uint32_t)p[0] << 24) | ((uint32_t)p[1] << 16) |
			     ((uint32_t)p[2] << 8) | p[3];
	}
	store_cursor_close(cur);
	store_read_end(txn);
	store_close(st);
}

static void stop_server(void)
{
	close(adm);
	adm = -1;
	tsp_server_stop(&srv);
}

static void start_server(void)
{
	cr_assert_eq(tsp_server_start(&srv, clock_args), 0);
	adm = tsp_login(&srv, srv.admin_token);
}

/* A customer with a recurring service, a card ending in 0 (approved), an invoice due today. */
static uint64_t billed(uint32_t n, uint64_t *inv)
{
	uint64_t c = tso_customer(adm, srv.unit_id, n, "São Paulo");
	tso_visa_card(adm, c, 0);
	uint64_t svc = tso_service(adm, c, true);
	*inv = tso_invoice(adm, c, svc, "2020-12-10");
	return c;
}

Test(rotate_key, reseals_every_record_and_cards_still_charge)
{
	char out[4096];
	/* Under key 1: two customers' cards (one with two) and the Cielo credentials. */
	uint64_t inv1, inv2;
	uint64_t c1 = billed(1, &inv1);
	tso_visa_card(adm, c1, 2);
	uint64_t c2 = billed(2, &inv2);
	(void)c2;

	/* A running server holds the data dir: refused, and nothing changed. */
	cr_assert_neq(rotate(out, sizeof(out)), 0, "%s", out);
	stop_server();
	sealed_census_t before;
	census(&before);
	cr_assert_eq(before.current, 1);
	cr_assert_eq(before.cards, 3);
	cr_assert_eq(before.gateways, 1);
	cr_assert_eq(before.under[1], 4);

	cr_assert_eq(rotate(out, sizeof(out)), 0, "%s", out);
	cr_assert_eq(json_num(out, "key_id"), 2, "%s", out);
	cr_assert_eq(json_num(out, "previous_key_id"), 1, "%s", out);
	cr_assert_eq(json_num(out, "resealed"), 4, "%s", out);
	sealed_census_t after;
	census(&after);
	cr_assert_eq(after.current, 2);
	cr_assert_eq(after.cards, 3);
	cr_assert_eq(after.under[1], 0, "records still under key 1");
	cr_assert_eq(after.under[2], 4);

	/* The cards list, and the run charges them (tokens and credentials open). */
	start_server();
	cr_assert_eq(n_cards(c1), 2);
	tso_run_now(adm);
	cr_assert_eq(tso_invoice_status(adm, inv1), INV(PAID));
	cr_assert_eq(tso_invoice_status(adm, inv2), INV(PAID));
	/* A card added now is sealed under the current key. */
	uint64_t inv3;
	billed(3, &inv3);

	/* The second rotation. */
	stop_server();
	census(&before);
	cr_assert_eq(before.under[2], 5);
	cr_assert_eq(rotate(out, sizeof(out)), 0, "%s", out);
	cr_assert_eq(json_num(out, "key_id"), 3, "%s", out);
	cr_assert_eq(json_num(out, "resealed"), 5, "%s", out);
	census(&after);
	cr_assert_eq(after.current, 3);
	cr_assert_eq(after.under[1] + after.under[2], 0);
	cr_assert_eq(after.under[3], 5);
	start_server();
	tso_run_now(adm);
	cr_assert_eq(tso_invoice_status(adm, inv3), INV(PAID));
	cr_assert_eq(n_cards(c1), 2);
}

Test(rotate_key, a_second_server_on_the_same_data_dir_is_refused)
{
	/* The lock that keeps rotate-key away also keeps a second server away. */
	tsp_server_t other = srv;
	other.pid = 0;
	snprintf(other.log_path, sizeof(other.log_path), "%s/other.log", srv.dir);
	cr_assert_neq(tsp_server_start(&other, clock_args), 0);
	/* The first one still answers. */
	cr_assert_eq(n_cards(tso_customer(adm, srv.unit_id, 9, "São Paulo")), 0);
}

Test(rotate_key, an_interrupted_rotation_leaves_both_keys_readable_and_resumes)
{
	char out[4096];
	uint64_t inv[3], cust[3];
	for (int i = 0; i < 3; i++)
		cust[i] = billed((uint32_t)(20 + i), &inv[i]);
	stop_server();
	/* Two transactions of one record, then a stop: as a crash midway would leave it. */
	cr_assert_eq(rotate_with("--batch", "1", "--max-batches", "2", out, sizeof(out)), 0, "%s",
		     out);
	cr_assert(strstr(out, "\"complete\": false") != NULL, "%s", out);
	cr_assert_eq(json_num(out, "key_id"), 2, "%s", out);
	cr_assert_eq(json_num(out, "resealed"), 2, "%s", out);
	sealed_census_t c;
	census(&c);
	cr_assert_eq(c.current, 2);
	cr_assert_eq(c.under[1], 2, "one card and the gateway still under key 1");
	cr_assert_eq(c.under[2], 2);

	/* Both keys open: every card lists and is charged, through the key-1 credentials. */
	start_server();
	for (int i = 0; i < 3; i++)
		cr_assert_eq(n_cards(cust[i]), 1);
	tso_run_now(adm);
	for (int i = 0; i < 3; i++)
		cr_assert_eq(tso_invoice_status(adm, inv[i]), INV(PAID));
	stop_server();

	/* Run again: the same key is taken up and finished, no new one. */
	cr_assert_eq(rotate(out, sizeof(out)), 0, "%s", out);
	cr_assert(strstr(out, "\"resumed\": true") != NULL, "%s", out);
	cr_assert(strstr(out, "\"complete\": true") != NULL, "%s", out);
	cr_assert_eq(json_num(out, "key_id"), 2, "%s", out);
	cr_assert_eq(json_num(out, "resealed"), 2, "%s", out);
	census(&c);
	cr_assert_eq(c.under[1], 0);
	cr_assert_eq(c.under[2], 4);
	/* Finished: the next rotation adds key 3. */
	cr_assert_eq(rotate(out, sizeof(out)), 0, "%s", out);
	cr_assert(strstr(out, "\"resumed\": false") != NULL, "%s", out);
	cr_assert_eq(json_num(out, "key_id"), 3, "%s", out);
	start_server();
}

/* Test support: a running ospayd's store, from the test process (live.h). */
#include "support/live.h"

#include <criterion/criterion.h>
#include <stdio.h>

#include "server/db/db.h"
#include "server/providers/objects.h"
#include "server/rpc/srv.h"

store_t *tsl_store_attach(const tsp_server_t *s)
{
	char path[400];
	snprintf(path, sizeof(path), "%s/data/store", s->dir);
	store_opts_t so = {.path = path, .tables = db_tables, .n_tables = DB_N_TABLES};
	store_t *st = NULL;
	cr_assert_eq(store_open(&st, &so), 0);
	return st;
}

Ospay__V1__GatewayObjectRecord *tsl_object(const tsp_server_t *s, int kind, const char *ref)
{
	store_t *st = tsl_store_attach(s);
	store_txn_t *txn;
	cr_assert_eq(store_read_begin(st, &txn), 0);
	Ospay__V1__GatewayObjectRecord *o = NULL;
	if (prov_object_get(txn, s->org_id, kind, ref, &o) != 0)
		o = NULL;
	store_read_end(txn);
	store_close(st);
	return o;
}

void tsl_pagolivre_link(const tsp_server_t *s, const tsp_sandbox_t *sb, const char *token,
			const char *key, int installments)
{
	char url[200], body[512], auth[200], out[4096];
	snprintf(url, sizeof(url), "%s/pagolivre/orders", sb->base);
	snprintf(body, sizeof(body),
		 "{\"requestId\":\"req-%s\",\"orderKey\":\"%s\",\"amount\":300.00,"
		 "\"installments\":%d,\"receivingOptionType\":\"creditCard\","
		 "\"orderGuests\":[{\"cpf\":\"12345678909\",\"mobileNumber\":\"5511985850505\"}]}",
		 key, key, installments);
	snprintf(auth, sizeof(auth), "Authorization: Basic %s", token);
	int code = tsp_http("POST", url, body, auth, NULL, out, sizeof(out));
	cr_assert_eq(code, 201, "create link: %s", out);
	tsl_register_object(s, SRV_SERVICE_PAGOLIVRE, key);
}

typedef struct objects_reg {
	uint64_t org;
	int kind;
	const char *ref; /* with n > 0, the prefix of ref0 .. ref<n-1> */
	int n;
} objects_reg_t;

static int objects_register_fn(store_txn_t *txn, void *arg)
{
	const objects_reg_t *r = arg;
	if (r->n == 0)
		return prov_object_register(txn, r->org, r->kind, r->ref, 1);
	char ref[128];
	int rc = 0;
	for (int i = 0; i < r->n && rc == 0; i++) {
		snprintf(ref, sizeof(ref), "%s%d", r->ref, i);
		rc = prov_object_register(txn, r->org, r->kind, ref, 1);
	}
	return rc;
}

static void register_objects(const tsp_server_t *s, const objects_reg_t *r)
{
	store_t *st = tsl_store_attach(s);
	cr_assert_eq(store_write(st, objects_register_fn, NULL, (void *)r), 0);
	cr_assert_eq(store_flush(st), 0);
	store_close(st);
}

void tsl_register_object(const tsp_server_t *s, int kind, const char *ref)
{
	objects_reg_t r = {.org = s->org_id, .kind = kind, .ref = ref, .n = 0};
	register_objects(s, &r);
}

void tsl_register_objects(const tsp_server_t *s, int kind, const char *prefix, int n)
{
	objects_reg_t r = {.org = s->org_id, .kind = kind, .ref = prefix, .n = n};
	register_objects(s, &r);
}

/* Test support: the server's handlers called in-process (handlers.h). */
#include "support/handlers.h"

#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "server/db/db.h"
#include "server/services/services.h"

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
 * keeps nothing (a status other than OK undoes its nested transaction). */
static int run_write(store_txn_t *txn, void *arg)
{
	srv_req_t *r = arg;
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
	if (r->method->flags & SRV_M_WRITE)
		return store_write(s->store, run_write, NULL, r);
	cr_assert_eq(store_read_begin(s->store, &txn), 0);
	rc = r->method->fn(r, txn);
	store_read_end(txn);
	return rc != 0 ? rc : r->st.code;
}

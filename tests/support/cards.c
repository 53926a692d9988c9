#include "support/cards.h"

#include <criterion/criterion.h>
#include <jansson.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "support/gateways.h"

static void copy_field(json_t *o, const char *name, char *out, size_t cap)
{
	const char *v = json_string_value(json_object_get(o, name));
	snprintf(out, cap, "%s", v != NULL ? v : "");
}

/* The sandbox's control/charges answer for moid, parsed (asserted); caller decrefs. */
static json_t *sandbox_charges(const tsp_sandbox_t *sb, const char *moid)
{
	char url[256], out[16384];
	snprintf(url, sizeof(url), "%s/control/charges?merchant_order_id=%s", sb->base, moid);
	cr_assert_eq(tsp_http("GET", url, NULL, NULL, NULL, out, sizeof(out)), 200, "%s", out);
	json_t *j = json_loads(out, 0, NULL);
	cr_assert(json_is_array(json_object_get(j, "charges")), "%s", out);
	return j;
}

tsc_sales_t tsc_sandbox_sales(const tsp_sandbox_t *sb, const char *moid)
{
	json_t *j = sandbox_charges(sb, moid);
	json_t *first = json_array_get(json_object_get(j, "charges"), 0);
	tsc_sales_t s = {
		.count = (int)json_integer_value(json_object_get(j, "count")),
		.approved = (int)json_integer_value(json_object_get(j, "approved")),
		.recurrent = json_is_true(json_object_get(first, "recurrent")),
	};
	copy_field(first, "payment_id", s.payment_id, sizeof(s.payment_id));
	copy_field(first, "initiator", s.initiator, sizeof(s.initiator));
	json_decref(j);
	return s;
}

void tsc_sandbox_wire(const tsp_sandbox_t *sb, const char *moid, tsc_wire_t *w)
{
	json_t *j = sandbox_charges(sb, moid);
	json_t *arr = json_object_get(j, "charges");
	cr_assert_eq(json_array_size(arr), 1, "one request for %s", moid);
	json_t *c = json_array_get(arr, 0);
	memset(w, 0, sizeof(*w));
	w->approved = json_is_true(json_object_get(c, "approved"));
	w->recurrent = json_is_true(json_object_get(c, "recurrent"));
	copy_field(c, "usage", w->usage, sizeof(w->usage));
	copy_field(c, "initiator", w->initiator, sizeof(w->initiator));
	copy_field(c, "network_txn_id_sent", w->sent, sizeof(w->sent));
	copy_field(c, "network_txn_id_returned", w->returned, sizeof(w->returned));
	copy_field(c, "code", w->code, sizeof(w->code));
	json_decref(j);
}

void tsc_require_chain(const tsp_sandbox_t *sb)
{
	char url[256], out[512];
	snprintf(url, sizeof(url), "%s/control/settings", sb->base);
	cr_assert_eq(tsp_http("POST", url, "{\"require_network_txn_id\":1}", NULL, NULL, out,
			      sizeof(out)),
		     200, "%s", out);
}

void tsc_cielo_zero_auth(int fd, const tsp_sandbox_t *sb, bool zero_auth)
{
	tsg_set_gateway_with(fd, sb, OSPAY__V1__GATEWAY_KIND__GATEWAY_KIND_CIELO, "cielo", NULL,
			     true, zero_auth);
}

void tsc_restart_rotated(tsp_server_t *s, int *fd, int64_t now_ms)
{
	char data[300], out[2048], at[32];
	time_t t = (time_t)(now_ms / 1000);
	struct tm tm;
	close(*fd);
	*fd = -1;
	tsp_server_stop(s);
	snprintf(data, sizeof(data), "%s/data", s->dir);
	const char *argv[] = {OSPAYD_BIN, "rotate-key", "--data", data, NULL};
	cr_assert_eq(tsp_run(argv, NULL, out, sizeof(out)), 0, "rotate-key: %s", out);
	gmtime_r(&t, &tm);
	strftime(at, sizeof(at), "%Y-%m-%dT%H:%M:%SZ", &tm);
	const char *args[] = {"--test-clock", at, NULL};
	cr_assert_eq(tsp_server_start(s, args), 0);
	*fd = tsp_login(s, s->admin_token);
}

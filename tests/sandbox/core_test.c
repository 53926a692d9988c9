/*
 * The sandbox's emulation core as plain functions: requests in, responses and
 * queued webhooks out, without sockets.
 */
#include <criterion/criterion.h>

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/util.h"
#include "sandbox/sbx.h"
#include "sandbox/sbx_int.h"
#include "support/proc.h"

static sbx_t *S;

static void setup(void)
{
	S = sbx_new("http://127.0.0.1:1", "http://127.0.0.1:2");
	cr_assert_not_null(S);
}

static void teardown(void)
{
	sbx_free(S);
	tsp_assert_no_leaks();
}

TestSuite(sbx_core, .init = setup, .fini = teardown, .timeout = 30);

/* Runs one request; the caller frees the response and the parsed body. */
static int call(const char *method, const char *target, const char *const *hdr, const char *body,
		sbx_resp_t *rs, json_t **json)
{
	char path[512];
	const char *q = strchr(target, '?');
	sbx_header_t h[8];
	size_t nh = 0;
	snprintf(path, sizeof(path), "%.*s", q != NULL ? (int)(q - target) : (int)strlen(target),
		 target);
	for (; hdr != NULL && hdr[nh] != NULL && nh < 8; nh++) {
		static char names[8][64];
		const char *colon = strchr(hdr[nh], ':');
		snprintf(names[nh], sizeof(names[nh]), "%.*s", (int)(colon - hdr[nh]), hdr[nh]);
		h[nh].name = names[nh];
		h[nh].value = colon + 2;
	}
	sbx_req_t rq = {.method = method,
			.path = path,
			.query = q != NULL ? q + 1 : "",
			.headers = h,
			.n_headers = nh,
			.body = (const uint8_t *)(body != NULL ? body : ""),
			.body_len = body != NULL ? strlen(body) : 0};
	sbx_handle(S, &rq, rs);
	if (json != NULL)
		*json = rs->body_len > 0 ? json_loadb(rs->body, rs->body_len, 0, NULL) : NULL;
	return rs->status;
}

static int ctl(const char *method, const char *target, const char *body)
{
	sbx_resp_t rs;
	int st = call(method, target, NULL, body, &rs, NULL);
	sbx_resp_free(&rs);
	return st;
}

static const char *const CIELO[] = {"MerchantId: m1", "MerchantKey: k1", NULL};

static void with_cielo(void)
{
	cr_assert_eq(ctl("POST", "/control/orgs/3/cielo",
			 "{\"merchant_id\":\"m1\",\"merchant_key\":\"k1\","
			 "\"notification_headers\":{\"X-A\":\"secret-a\"}}"),
		     200);
}

static int sale(const char *moid, const char *card, json_t **j)
{
	char body[512];
	sbx_resp_t rs;
	snprintf(body, sizeof(body),
		 "{\"MerchantOrderId\":\"%s\",\"Payment\":{\"Type\":\"CreditCard\",\"Amount\":100,"
		 "\"Capture\":true,\"CreditCard\":{\"CardNumber\":\"%s\",\"Holder\":\"A\","
		 "\"ExpirationDate\":\"01/2031\",\"Brand\":\"Master\"}}}",
		 moid, card);
	int st = call("POST", "/cielo/1/sales/", CIELO, body, &rs, j);
	sbx_resp_free(&rs);
	return st;
}

/* The error a control call answered, "" when none. */
static const char *ctl_error(const char *target, const char *body, char *out, size_t cap)
{
	sbx_resp_t rs;
	json_t *j = NULL;
	call("POST", target, NULL, body, &rs, &j);
	snprintf(out, cap, "%s",
		 json_string_value(json_object_get(j, "error")) != NULL
			 ? json_string_value(json_object_get(j, "error"))
			 : "");
	json_decref(j);
	sbx_resp_free(&rs);
	return out;
}

Test(sbx_core, a_credential_names_one_organization)
{
	char err[160];
	cr_assert_eq(ctl("POST", "/control/orgs/3/getnet",
			 "{\"client_id\":\"c1\",\"client_secret\":\"s\",\"seller_id\":\"x\"}"),
		     200);
	cr_assert_str_eq(
		ctl_error("/control/orgs/4/getnet",
			  "{\"client_id\":\"c1\",\"client_secret\":\"t\",\"seller_id\":\"y\"}", err,
			  sizeof(err)),
		"invalid or missing field: client_id (another organization has it)");
	cr_assert_str_eq(ctl_error("/control/orgs/4/pix",
				   "{\"client_id\":\"a:b\",\"client_secret\":\"t\"}", err,
				   sizeof(err)),
			 "invalid or missing field: client_id (no ':' allowed in HTTP Basic)");
	cr_assert_eq(ctl("POST", "/control/orgs/3/pagolivre", "{\"token\":\"t1\"}"), 200);
	cr_assert_str_eq(
		ctl_error("/control/orgs/4/pagolivre", "{\"token\":\"t1\"}", err, sizeof(err)),
		"invalid or missing field: token (another organization has it)");
	cr_assert_eq(ctl("POST", "/control/orgs/3/getnet",
			 "{\"client_id\":\"c1\",\"client_secret\":\"s2\",\"seller_id\":\"x\"}"),
		     200, "an organization may register its own credential again");
}

Test(sbx_core, routes_match_segments_and_methods)
{
	char buf[256];
	const char *args[SBX_MAX_ARGS + 1] = {0};
	bool mm = false;
	const sbx_route_t *r = sbx_route_find(sbx_cielo_routes, sbx_cielo_n_routes, "PUT",
					      "/1/sales/abc/capture", buf, sizeof(buf), args, &mm);
	cr_assert_not_null(r);
	cr_assert_str_eq(r->name, "sale_capture");
	cr_assert_str_eq(args[0], "abc");
	r = sbx_route_find(sbx_cielo_routes, sbx_cielo_n_routes, "DELETE", "/1/sales/abc", buf,
			   sizeof(buf), args, &mm);
	cr_assert_null(r);
	cr_assert(mm);
	r = sbx_route_find(sbx_cielo_routes, sbx_cielo_n_routes, "GET", "/1/sales//capture", buf,
			   sizeof(buf), args, &mm);
	cr_assert_null(r, "an empty segment is no id");
	sbx_resp_t rs;
	cr_assert_eq(call("DELETE", "/cielo/1/sales/x", NULL, NULL, &rs, NULL), 405);
	sbx_resp_free(&rs);
	cr_assert_eq(call("GET", "/nowhere", NULL, NULL, &rs, NULL), 404);
	sbx_resp_free(&rs);
	char longp[3000];
	memset(longp, 'a', sizeof(longp) - 1);
	longp[0] = '/';
	memcpy(longp, "/cielo/", 7);
	longp[sizeof(longp) - 1] = '\0';
	cr_assert_eq(call("GET", longp, NULL, NULL, &rs, NULL), 404);
	sbx_resp_free(&rs);
}

Test(sbx_core, forms_decode_and_bound)
{
	char out[16];
	const char *f = "a=1&name=Ol%C3%A1+Ana&empty=&flag&long=0123456789abcdefXYZ";
	cr_assert(sbx_form_get(f, strlen(f), "name", out, sizeof(out)));
	cr_assert_str_eq(out, "Olá Ana");
	cr_assert(sbx_form_get(f, strlen(f), "empty", out, sizeof(out)));
	cr_assert_str_eq(out, "");
	cr_assert(sbx_form_get(f, strlen(f), "flag", out, sizeof(out)));
	cr_assert_not(sbx_form_get(f, strlen(f), "long", out, sizeof(out)), "too long for out");
	cr_assert_not(sbx_form_get(f, strlen(f), "nam", out, sizeof(out)));
	cr_assert_not(sbx_form_get("x=%00", 5, "x", out, sizeof(out)), "NUL is refused");
	char enc[32];
	cr_assert(sbx_url_encode("a b/ç", enc, sizeof(enc)));
	cr_assert_str_eq(enc, "a%20b%2F%C3%A7");
}

Test(sbx_core, cards)
{
	char m[24];
	cr_assert(sbx_luhn_ok("4111111111111111"));
	cr_assert_not(sbx_luhn_ok("4111111111111112"));
	cr_assert_not(sbx_luhn_ok("41111111111a1111"));
	cr_assert_not(sbx_luhn_ok("0"));
	cr_assert_eq(sbx_final_digit("455187000000005"), 5);
	cr_assert_eq(sbx_final_digit(""), -1);
	sbx_mask_card("4111111111111111", m);
	cr_assert_str_eq(m, "411111******1111");
}

Test(sbx_core, cielo_final_digit_nine_is_repeatable)
{
	json_t *a = NULL, *b = NULL;
	with_cielo();
	cr_assert_eq(sale("nine1", "455187000000039", &a), 201);
	cr_assert_eq(sale("nine1", "455187000000039", &b), 201);
	const char *ca =
		json_string_value(json_object_get(json_object_get(a, "Payment"), "ReturnCode"));
	const char *cb =
		json_string_value(json_object_get(json_object_get(b, "Payment"), "ReturnCode"));
	cr_assert_str_eq(ca, cb);
	int code = atoi(ca);
	cr_assert(code >= 4 && code <= 99, "code %d", code);
	json_decref(a);
	json_decref(b);
}

Test(sbx_core, cielo_capture_queues_a_notification_with_the_registered_header)
{
	with_cielo();
	cr_assert_eq(sale("n1", "455187000000070", NULL), 201);
	sbx_hook_t *h = sbx_outbox_pop(S);
	cr_assert_not_null(h);
	cr_assert_str_eq(h->url, "http://127.0.0.1:1/webhooks/cielo/3");
	cr_assert_str_eq(h->method, "POST");
	cr_assert_eq(h->n_hdr, 2);
	cr_assert_str_eq(h->hdr_name[1], "X-A");
	cr_assert_str_eq(h->hdr_value[1], "secret-a");
	cr_assert_eq(h->max_attempts, 4);
	cr_assert_null(sbx_outbox_pop(S));
	sbx_hook_free(h);
}

Test(sbx_core, hook_faults_duplicate_drop_bad_auth_reorder)
{
	with_cielo();
	cr_assert_eq(ctl("POST", "/control/webhook-faults",
			 "{\"service\":\"cielo\",\"kind\":\"duplicate\",\"count\":1}"),
		     201);
	cr_assert_eq(sale("h1", "455187000000070", NULL), 201);
	sbx_hook_t *a = sbx_outbox_pop(S), *b = sbx_outbox_pop(S);
	cr_assert(a != NULL && b != NULL && sbx_outbox_pop(S) == NULL);
	cr_assert_eq(a->id, b->id, "copies share the event id");
	cr_assert_str_eq(a->body, b->body);
	sbx_hook_free(a);
	sbx_hook_free(b);

	cr_assert_eq(ctl("POST", "/control/webhook-faults",
			 "{\"service\":\"cielo\",\"kind\":\"drop\",\"count\":1}"),
		     201);
	cr_assert_eq(sale("h2", "455187000000070", NULL), 201);
	cr_assert_null(sbx_outbox_pop(S));

	cr_assert_eq(ctl("POST", "/control/webhook-faults",
			 "{\"service\":\"*\",\"kind\":\"bad_auth\",\"count\":1}"),
		     201);
	cr_assert_eq(sale("h3", "455187000000070", NULL), 201);
	a = sbx_outbox_pop(S);
	cr_assert_not_null(a);
	cr_assert_str_eq(a->hdr_value[1], "wrong-credential");
	cr_assert_str_eq(a->hdr_value[0], "application/json", "Content-Type is kept");
	sbx_hook_free(a);

	cr_assert_eq(ctl("POST", "/control/webhook-faults",
			 "{\"service\":\"cielo\",\"kind\":\"reorder\",\"batch\":3,\"ms\":60000}"),
		     201);
	cr_assert_eq(sale("r1", "455187000000070", NULL), 201);
	cr_assert_eq(sale("r2", "455187000000070", NULL), 201);
	cr_assert_null(sbx_outbox_pop(S), "held until the batch is full");
	sbx_tick(S, util_mono_ms());
	cr_assert_null(sbx_outbox_pop(S), "the window has not passed");
	cr_assert_eq(sale("r3", "455187000000070", NULL), 201);
	uint64_t ids[3];
	for (int i = 0; i < 3; i++) {
		a = sbx_outbox_pop(S);
		cr_assert_not_null(a);
		ids[i] = a->id;
		sbx_hook_free(a);
	}
	cr_assert(ids[0] > ids[1] && ids[1] > ids[2], "released newest first");
	/* A partial batch leaves once its window passes. */
	cr_assert_eq(sale("r4", "455187000000070", NULL), 201);
	sbx_tick(S, util_mono_ms() + 60001);
	a = sbx_outbox_pop(S);
	cr_assert_not_null(a);
	sbx_hook_free(a);

	json_t *log = sbx_hooklog_json(S, "cielo");
	cr_assert_eq(json_array_size(log), 1, "the drop is in the log");
	cr_assert_str_eq(json_string_value(json_object_get(json_array_get(log, 0), "fault")),
			 "drop");
	json_decref(log);
}

static int forgotten;

static void count_forget(list_node_t *n)
{
	(void)n;
	forgotten++;
}

Test(sbx_core, tables_forget_the_oldest)
{
	sbx_table_t t;
	const sbx_table_spec_t spec = {.table = &t, .cap = 2, .forget = count_forget};
	cr_assert_eq(sbx_table_open(&spec), 0);
	list_node_t *a = malloc(sizeof(*a)), *b = malloc(sizeof(*b)), *c = malloc(sizeof(*c));
	forgotten = 0;
	sbx_table_add(&t, a);
	sbx_table_add(&t, b);
	cr_assert_eq(forgotten, 0);
	sbx_table_add(&t, c);
	cr_assert_eq(forgotten, 1);
	cr_assert_eq(t.n, 2);
	cr_assert_eq(t.fifo.next, b, "a, the oldest, went first");
	sbx_table_clear(&t);
	cr_assert_eq(forgotten, 3);
	sbx_table_close(&t);
}

typedef struct keyed {
	list_node_t age;
	sbx_hnode_t by_key;
	char key[8];
} keyed_t;

Test(sbx_core, tables_index_what_they_hold)
{
	sbx_htab_t by_key;
	sbx_table_t t;
	const sbx_table_spec_t spec = {
		.table = &t, .cap = 2, .idx = {SBX_INDEX(&by_key, keyed_t, by_key, key)}};
	cr_assert_eq(sbx_table_open(&spec), 0);
	keyed_t *a = calloc(1, sizeof(*a)), *b = calloc(1, sizeof(*b)), *c = calloc(1, sizeof(*c));
	snprintf(a->key, sizeof(a->key), "a");
	snprintf(c->key, sizeof(c->key), "c");
	sbx_table_add(&t, &a->age);
	sbx_table_add(&t, &b->age);
	cr_assert_eq(SBX_HTAB_GET(&by_key, "a", keyed_t, by_key), a);
	cr_assert_null(sbx_htab_find(&by_key, ""), "an empty key is not indexed");
	sbx_table_add(&t, &c->age);
	cr_assert_null(sbx_htab_find(&by_key, "a"), "the dropped record left its index");
	cr_assert_eq(SBX_HTAB_GET(&by_key, "c", keyed_t, by_key), c);
	sbx_table_close(&t);
}

Test(sbx_core, htab_keeps_duplicates_newest_first)
{
	sbx_htab_t t;
	sbx_hnode_t a, b, c;
	cr_assert_eq(sbx_htab_init(&t, 4), 0);
	sbx_htab_insert(&t, &a, "k");
	sbx_htab_insert(&t, &b, "other");
	sbx_htab_insert(&t, &c, "k");
	cr_assert_eq(sbx_htab_find(&t, "k"), &c);
	cr_assert_eq(sbx_htab_next(&c), &a);
	cr_assert_null(sbx_htab_next(&a));
	sbx_htab_remove(&t, &c);
	cr_assert_eq(sbx_htab_find(&t, "k"), &a);
	cr_assert_eq(sbx_htab_find(&t, "other"), &b);
	cr_assert_null(sbx_htab_find(&t, "none"));
	sbx_htab_free(&t);
}

Test(sbx_core, reset_forgets_everything_and_bumps_the_epoch)
{
	with_cielo();
	cr_assert_eq(sale("x1", "455187000000070", NULL), 201);
	uint64_t e = sbx_epoch(S);
	cr_assert_eq(ctl("POST", "/control/reset", NULL), 200);
	cr_assert_gt(sbx_epoch(S), e);
	cr_assert_null(sbx_outbox_pop(S), "queued webhooks are gone");
	cr_assert_eq(sale("x2", "455187000000070", NULL), 401, "the organization is gone");
	json_t *c = sbx_charges_json(S, NULL);
	cr_assert_eq(json_array_size(c), 0);
	json_decref(c);
}

Test(sbx_core, faults_are_bounded_and_counted)
{
	int st = 0;
	for (int i = 0; i < SBX_MAX_FAULTS + 1 && st != 507; i++)
		st = ctl("POST", "/control/faults", "{\"service\":\"zapme\",\"kind\":\"http500\"}");
	cr_assert_eq(st, 507);
	cr_assert_eq(ctl("DELETE", "/control/faults", NULL), 200);
	cr_assert_eq(ctl("POST", "/control/faults",
			 "{\"service\":\"zapme\",\"route\":\"account_status\",\"kind\":\"timeout\","
			 "\"count\":2}"),
		     201);
	sbx_resp_t rs;
	for (int i = 0; i < 3; i++) {
		call("POST", "/zapme/status", NULL, "api=a&secret=b", &rs, NULL);
		cr_assert_eq(rs.action, i < 2 ? SBX_ACT_HANG : SBX_ACT_RESPOND, "request %d", i);
		sbx_resp_free(&rs);
	}
	cr_assert_eq(ctl("DELETE", "/control/faults/999", NULL), 404);
}

Test(sbx_core, hostile_bodies)
{
	with_cielo();
	sbx_resp_t rs;
	json_t *j = NULL;
	char *deep = malloc(200001);
	memset(deep, '[', 200000);
	deep[200000] = '\0';
	cr_assert_eq(call("POST", "/cielo/1/sales/", CIELO, deep, &rs, &j), 400);
	cr_assert(json_is_array(j));
	json_decref(j);
	sbx_resp_free(&rs);
	free(deep);
	cr_assert_eq(call("POST", "/cielo/1/sales/", CIELO,
			  "{\"MerchantOrderId\":\"a\",\"Payment\":{\"Type\":\"CreditCard\","
			  "\"Amount\":1,\"CreditCard\":{\"CardNumber\":"
			  "\"45518700000000000000000000000000000000000005\",\"Holder\":\"A\","
			  "\"ExpirationDate\":\"01/2031\",\"Brand\":\"Visa\"}}}",
			  &rs, &j),
		     400);
	cr_assert_eq(json_integer_value(json_object_get(json_array_get(j, 0), "Code")), 128);
	json_decref(j);
	sbx_resp_free(&rs);
	cr_assert_eq(
		ctl("POST", "/control/orgs/5/zapme",
		    "{\"api\":\"a\",\"secret\":\"b\",\"webhook_header\":\"X-Bad\\r\\nInjected\","
		    "\"webhook_secret\":\"s\"}"),
		400, "no header injection through the control API");
}

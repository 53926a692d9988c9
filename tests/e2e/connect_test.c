/*
 * Connect unary over ospayd's HTTPS listener (docs/connect.md), from outside
 * with libcurl (and the curl command, for the README's example): both codecs,
 * the bearer token, idempotency shared with the binary protocol, and the error
 * table (Connect code and HTTP status) for every way a call can be refused.
 */
#include <criterion/criterion.h>
#include <curl/curl.h>
#include <jansson.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ospay/v1/admin.pb-c.h"
#include "ospay/v1/common.pb-c.h"
#include "ospay/v1/orders.pb-c.h"
#include "ospay/v1/rpc.pb-c.h"
#include "support/domain.h"
#include "support/enums.h"
#include "support/gateways.h"
#include "support/proc.h"

static tsp_server_t srv;
static tsp_sandbox_t sbx;
static int fd = -1;

static void setup(void)
{
	curl_global_init(CURL_GLOBAL_DEFAULT);
	fd = tsp_env_up(&srv, &sbx, NULL, NULL);
}

static void teardown(void)
{
	tsp_env_down(&srv, &sbx, fd);
	curl_global_cleanup();
}

TestSuite(e2e_connect, .init = setup, .fini = teardown, .timeout = 120);

typedef struct answer {
	long status;
	char ctype[128];
	char body[65536];
	size_t len;
	char headers[4096];
} answer_t;

static size_t on_body(char *p, size_t size, size_t n, void *arg)
{
	answer_t *a = arg;
	size_t k = size * n;
	if (a->len + k < sizeof(a->body)) {
		memcpy(a->body + a->len, p, k);
		a->len += k;
		a->body[a->len] = '\0';
	}
	return k;
}

static size_t on_header(char *p, size_t size, size_t n, void *arg)
{
	answer_t *a = arg;
	size_t k = size * n, have = strlen(a->headers);
	if (have + k < sizeof(a->headers))
		memcpy(a->headers + have, p, k), a->headers[have + k] = '\0';
	return k;
}

/*
 * method (POST, GET) to path with body and header lines (NULL-terminated, may be
 * NULL); the bearer token unless token is NULL. Asserts the transfer worked.
 */
static void call(answer_t *a, const char *method, const char *path, const char *token,
		 const char *const *hdrs, const void *body, size_t len)
{
	char url[256], auth[256];
	struct curl_slist *h = NULL;
	CURL *c = curl_easy_init();
	cr_assert_not_null(c);
	memset(a, 0, sizeof(*a));
	snprintf(url, sizeof(url), "https://%s%s", srv.https_addr, path);
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_CAINFO, srv.cacert);
	curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
	if (body != NULL) {
		curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
		curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE, (long)len);
	}
	if (token != NULL) {
		snprintf(auth, sizeof(auth), "Authorization: Bearer %s", token);
		h = curl_slist_append(h, auth);
	}
	for (size_t i = 0; hdrs != NULL && hdrs[i] != NULL; i++)
		h = curl_slist_append(h, hdrs[i]);
	/* curl would add its own form content type. */
	h = curl_slist_append(h, "Expect:");
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, a);
	curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, on_header);
	curl_easy_setopt(c, CURLOPT_HEADERDATA, a);
	curl_easy_setopt(c, CURLOPT_TIMEOUT, 30L);
	CURLcode rc = curl_easy_perform(c);
	cr_assert_eq(rc, CURLE_OK, "%s %s: %s", method, path, curl_easy_strerror(rc));
	curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &a->status);
	const char *ct = NULL;
	curl_easy_getinfo(c, CURLINFO_CONTENT_TYPE, &ct);
	snprintf(a->ctype, sizeof(a->ctype), "%s", ct != NULL ? ct : "");
	curl_slist_free_all(h);
	curl_easy_cleanup(c);
}

static const char *const JSON_HDRS[] = {"Content-Type: application/json",
					"Connect-Protocol-Version: 1", NULL};
static const char *const PROTO_HDRS[] = {"Content-Type: application/proto",
					 "Connect-Protocol-Version: 1", NULL};

/* A JSON call with the admin token. */
static void jcall(answer_t *a, const char *method, const char *json)
{
	char path[128];
	snprintf(path, sizeof(path), "/ospay.v1.%s", method);
	call(a, "POST", path, srv.admin_token, JSON_HDRS, json, strlen(json));
}

/* The answer's JSON (asserted to parse); the caller decrefs. */
static json_t *parsed(const answer_t *a)
{
	json_error_t e;
	json_t *j = json_loads(a->body, 0, &e);
	cr_assert_not_null(j, "not JSON (%s): %s", e.text, a->body);
	return j;
}

/* Asserts a Connect error: HTTP status, code, and (when not NULL) a piece of the message. */
static void expect_error(const answer_t *a, long http, const char *code, const char *msg)
{
	cr_assert_eq(a->status, http, "HTTP %ld, want %ld: %s", a->status, http, a->body);
	cr_assert(strncmp(a->ctype, "application/json", 16) == 0, "%s", a->ctype);
	json_t *j = parsed(a);
	cr_assert_str_eq(json_string_value(json_object_get(j, "code")), code, "%s", a->body);
	if (msg != NULL)
		cr_assert(strstr(json_string_value(json_object_get(j, "message")), msg) != NULL,
			  "message lacks \"%s\": %s", msg, a->body);
	json_decref(j);
}

/* The first field violation of an error's ospay.v1.Status detail: field and description. */
static void expect_violation(const answer_t *a, const char *field, const char *what)
{
	json_t *j = parsed(a);
	json_t *d = json_array_get(json_object_get(j, "details"), 0);
	cr_assert_not_null(d, "no details: %s", a->body);
	cr_assert_str_eq(json_string_value(json_object_get(d, "type")), "ospay.v1.Status");
	cr_assert(json_string_length(json_object_get(d, "value")) > 0);
	json_t *v = json_array_get(json_object_get(json_object_get(d, "debug"), "violations"), 0);
	cr_assert_str_eq(json_string_value(json_object_get(v, "field")), field, "%s", a->body);
	cr_assert(strstr(json_string_value(json_object_get(v, "description")), what) != NULL, "%s",
		  a->body);
	json_decref(j);
}

Test(e2e_connect, json_read_and_write_in_canonical_form)
{
	answer_t a;
	jcall(&a, "Admin/CreateUnit", "{\"name\":\"Zona Norte\"}");
	cr_assert_eq(a.status, 200, "%s", a.body);
	cr_assert(strncmp(a.ctype, "application/json", 16) == 0);
	json_t *j = parsed(&a);
	json_t *unit = json_object_get(j, "unit");
	/* uint64 ids are strings; lowerCamelCase keys. */
	cr_assert(json_is_string(json_object_get(unit, "id")), "%s", a.body);
	cr_assert_str_eq(json_string_value(json_object_get(unit, "name")), "Zona Norte");
	cr_assert_not_null(json_object_get(unit, "organizationId"), "%s", a.body);
	char id[32];
	snprintf(id, sizeof(id), "%s", json_string_value(json_object_get(unit, "id")));
	json_decref(j);

	/* Answered after its commit: the binary protocol sees it at once. */
	Ospay__V1__ListUnitsRequest lr = OSPAY__V1__LIST_UNITS_REQUEST__INIT;
	Ospay__V1__ListUnitsResponse *lu = NULL;
	cr_assert_eq(tsp_call(fd, "ospay.v1.Admin/ListUnits", &lr.base,
			      &ospay__v1__list_units_response__descriptor, (ProtobufCMessage **)&lu,
			      NULL, NULL),
		     0);
	bool seen = false;
	for (size_t i = 0; i < lu->n_units; i++)
		seen |= lu->units[i]->id == strtoull(id, NULL, 10);
	cr_assert(seen, "unit %s not listed over the binary protocol", id);
	protobuf_c_message_free_unpacked(&lu->base, NULL);

	/* .proto names and a number for a 32-bit field are read too. */
	jcall(&a, "Admin/ListUnits", "{\"page_size\":\"1\"}");
	cr_assert_eq(a.status, 200, "%s", a.body);
	j = parsed(&a);
	cr_assert_eq(json_array_size(json_object_get(j, "units")), 1, "%s", a.body);
	cr_assert(json_string_length(json_object_get(j, "nextPageToken")) > 0, "%s", a.body);
	json_decref(j);
}

Test(e2e_connect, binary_codec_both_ways)
{
	Ospay__V1__CreateUnitRequest m = OSPAY__V1__CREATE_UNIT_REQUEST__INIT;
	m.name = "Proto";
	uint8_t buf[64];
	size_t n = ospay__v1__create_unit_request__pack(&m, buf);
	answer_t a;
	call(&a, "POST", "/ospay.v1.Admin/CreateUnit", srv.admin_token, PROTO_HDRS, buf, n);
	cr_assert_eq(a.status, 200, "%s", a.body);
	cr_assert_str_eq(a.ctype, "application/proto");
	Ospay__V1__CreateUnitResponse *r =
		ospay__v1__create_unit_response__unpack(NULL, a.len, (uint8_t *)a.body);
	cr_assert_not_null(r);
	cr_assert_str_eq(r->unit->name, "Proto");
	ospay__v1__create_unit_response__free_unpacked(r, NULL);

	/* Errors are JSON whatever the request's codec: the table holds for binary bodies too. */
	call(&a, "POST", "/ospay.v1.Admin/CreateUnit", srv.admin_token, PROTO_HDRS, "\xff\xff", 2);
	expect_error(&a, 400, "invalid_argument", "not a valid ospay.v1.CreateUnitRequest");
	call(&a, "POST", "/ospay.v1.Admin/CreateUnit", NULL, PROTO_HDRS, buf, n);
	expect_error(&a, 401, "unauthenticated", NULL);
	call(&a, "POST", "/ospay.v1.Admin/Nope", srv.admin_token, PROTO_HDRS, buf, n);
	expect_error(&a, 404, "unimplemented", NULL);
	Ospay__V1__OrdersGetRequest g = OSPAY__V1__ORDERS_GET_REQUEST__INIT;
	g.id = 424242;
	n = ospay__v1__orders_get_request__pack(&g, buf);
	call(&a, "POST", "/ospay.v1.Orders/Get", srv.admin_token, PROTO_HDRS, buf, n);
	expect_error(&a, 404, "not_found", NULL);
	m.name = "";
	n = ospay__v1__create_unit_request__pack(&m, buf);
	call(&a, "POST", "/ospay.v1.Admin/CreateUnit", srv.admin_token, PROTO_HDRS, buf, n);
	expect_error(&a, 400, "invalid_argument", NULL);
	expect_violation(&a, "name", "");
}

Test(e2e_connect, readme_curl_example)
{
	char url[160], auth[256], out[16384];
	snprintf(url, sizeof(url), "https://localhost:%s/ospay.v1.Admin/ListUnits",
		 strrchr(srv.https_addr, ':') + 1);
	snprintf(auth, sizeof(auth), "Authorization: Bearer %s", srv.admin_token);
	const char *argv[] = {"/usr/bin/curl",
			      "-sS",
			      "--max-time",
			      "20",
			      "--cacert",
			      srv.cacert,
			      "-H",
			      auth,
			      "-H",
			      "Content-Type: application/json",
			      "-d",
			      "{}",
			      url,
			      NULL};
	cr_assert_eq(tsp_run(argv, NULL, out, sizeof(out)), 0, "curl: %s", out);
	cr_assert(strstr(out, "\"units\":[{\"id\":\"") != NULL, "%s", out);
}

Test(e2e_connect, idempotency_key_shared_with_the_binary_protocol)
{
	const char *hdrs[] = {"Content-Type: application/json", "Idempotency-Key: unit-once-1",
			      NULL};
	const char *body = "{\"name\":\"Once\"}";
	answer_t a, b;
	call(&a, "POST", "/ospay.v1.Admin/CreateUnit", srv.admin_token, hdrs, body, strlen(body));
	call(&b, "POST", "/ospay.v1.Admin/CreateUnit", srv.admin_token, hdrs, body, strlen(body));
	cr_assert_eq(a.status, 200, "%s", a.body);
	cr_assert_str_eq(a.body, b.body, "a repeat gets the first answer");

	/* The same request over the binary protocol, same token and key: the same unit. */
	Ospay__V1__CreateUnitRequest m = OSPAY__V1__CREATE_UNIT_REQUEST__INIT;
	m.name = "Once";
	Ospay__V1__CreateUnitResponse *r = NULL;
	cr_assert_eq(tsp_call(fd, "ospay.v1.Admin/CreateUnit", &m.base,
			      &ospay__v1__create_unit_response__descriptor, (ProtobufCMessage **)&r,
			      "unit-once-1", NULL),
		     0);
	json_t *j = parsed(&a);
	char want[32];
	snprintf(want, sizeof(want), "%llu", (unsigned long long)r->unit->id);
	cr_assert_str_eq(json_string_value(json_object_get(json_object_get(j, "unit"), "id")),
			 want);
	json_decref(j);
	protobuf_c_message_free_unpacked(&r->base, NULL);

	/* The key with another request: refused. */
	const char *other = "{\"name\":\"Twice\"}";
	call(&a, "POST", "/ospay.v1.Admin/CreateUnit", srv.admin_token, hdrs, other, strlen(other));
	expect_error(&a, 400, "failed_precondition", "different request");
}

Test(e2e_connect, token_checks_as_hello)
{
	answer_t a;
	call(&a, "POST", "/ospay.v1.Admin/ListUnits", NULL, JSON_HDRS, "{}", 2);
	expect_error(&a, 401, "unauthenticated", "Authorization: Bearer");
	cr_assert(strstr(a.headers, "WWW-Authenticate: Bearer") != NULL, "%s", a.headers);
	call(&a, "POST", "/ospay.v1.Admin/ListUnits", "ospt_nope", JSON_HDRS, "{}", 2);
	expect_error(&a, 401, "unauthenticated", "invalid token");

	/* A read-only token reads and may not write; revoked, it is refused at once. */
	char secret[160];
	uint64_t id = tso_token(fd, OSPAY__V1__ROLE__ROLE_READ_ONLY, 0, secret, sizeof(secret));
	call(&a, "POST", "/ospay.v1.Admin/ListUnits", secret, JSON_HDRS, "{}", 2);
	cr_assert_eq(a.status, 200, "%s", a.body);
	call(&a, "POST", "/ospay.v1.Admin/CreateUnit", secret, JSON_HDRS, "{\"name\":\"x\"}", 12);
	expect_error(&a, 403, "permission_denied", NULL);
	char rv[64];
	snprintf(rv, sizeof(rv), "{\"tokenId\":\"%llu\"}", (unsigned long long)id);
	jcall(&a, "Admin/RevokeToken", rv);
	cr_assert_eq(a.status, 200, "%s", a.body);
	call(&a, "POST", "/ospay.v1.Admin/ListUnits", secret, JSON_HDRS, "{}", 2);
	expect_error(&a, 401, "unauthenticated", "revoked");

	/* Session/Hello needs no header: it checks the token in its body. */
	char hello[256];
	snprintf(hello, sizeof(hello), "{\"token\":\"%s\"}", srv.admin_token);
	call(&a, "POST", "/ospay.v1.Session/Hello", NULL, JSON_HDRS, hello, strlen(hello));
	cr_assert_eq(a.status, 200, "%s", a.body);
	cr_assert(strstr(a.body, "\"role\":\"ROLE_ADMIN\"") != NULL, "%s", a.body);
	cr_assert(strstr(a.body, srv.admin_token) == NULL, "the token is never answered");
}

Test(e2e_connect, error_table)
{
	answer_t a;
	/* Routing, method, content type, encoding, protocol version. */
	jcall(&a, "Admin/NoSuchMethod", "{}");
	expect_error(&a, 404, "unimplemented", "unknown method");
	call(&a, "GET", "/ospay.v1.Admin/ListUnits", srv.admin_token, NULL, NULL, 0);
	expect_error(&a, 405, "unimplemented", "POST");
	cr_assert(strstr(a.headers, "Allow: POST") != NULL, "%s", a.headers);
	const char *text[] = {"Content-Type: text/plain", NULL};
	call(&a, "POST", "/ospay.v1.Admin/ListUnits", srv.admin_token, text, "{}", 2);
	expect_error(&a, 415, "invalid_argument", "Content-Type");
	cr_assert(strstr(a.headers, "Accept-Post: application/json, application/proto") != NULL);
	const char *gz[] = {"Content-Type: application/json", "Content-Encoding: gzip", NULL};
	call(&a, "POST", "/ospay.v1.Admin/ListUnits", srv.admin_token, gz, "{}", 2);
	expect_error(&a, 501, "unimplemented", "Content-Encoding");
	const char *v2[] = {"Content-Type: application/json", "Connect-Protocol-Version: 2", NULL};
	call(&a, "POST", "/ospay.v1.Admin/ListUnits", srv.admin_token, v2, "{}", 2);
	expect_error(&a, 400, "invalid_argument", "Connect-Protocol-Version");

	/* Bodies: malformed, unknown keys, wrong types, the handler's own violations. */
	jcall(&a, "Admin/CreateUnit", "{\"name\":");
	expect_error(&a, 400, "invalid_argument", "malformed JSON at line 1");
	jcall(&a, "Admin/CreateUnit", "{\"name\":\"x\",\"colour\":1}");
	expect_error(&a, 400, "invalid_argument", "colour: unknown field");
	expect_violation(&a, "colour", "unknown field");
	jcall(&a, "Admin/ListUnits", "{\"pageSize\":-1}");
	expect_violation(&a, "pageSize", "out of range");
	jcall(&a, "Admin/CreateUnit", "{\"name\":\"\"}");
	expect_error(&a, 400, "invalid_argument", NULL);
	expect_violation(&a, "name", "");
	jcall(&a, "Orders/Get", "{\"id\":\"999999\"}");
	expect_error(&a, 404, "not_found", NULL);

	/* Headers: deadline, idempotency key. */
	const char *t0[] = {"Content-Type: application/json", "Connect-Timeout-Ms: 0", NULL};
	call(&a, "POST", "/ospay.v1.Admin/ListUnits", srv.admin_token, t0, "{}", 2);
	expect_error(&a, 504, "deadline_exceeded", NULL);
	const char *tbad[] = {"Content-Type: application/json", "Connect-Timeout-Ms: 12345678901",
			      NULL};
	call(&a, "POST", "/ospay.v1.Admin/ListUnits", srv.admin_token, tbad, "{}", 2);
	expect_error(&a, 400, "invalid_argument", "Connect-Timeout-Ms");
	const char *tok[] = {"Content-Type: application/json", "Connect-Timeout-Ms: 5000", NULL};
	call(&a, "POST", "/ospay.v1.Admin/ListUnits", srv.admin_token, tok, "{}", 2);
	cr_assert_eq(a.status, 200, "%s", a.body);
	char longkey[200] = "Idempotency-Key: ";
	memset(longkey + strlen(longkey), 'k', 129);
	const char *klong[] = {"Content-Type: application/json", longkey, NULL};
	call(&a, "POST", "/ospay.v1.Admin/CreateUnit", srv.admin_token, klong, "{\"name\":\"k\"}",
	     12);
	expect_error(&a, 400, "invalid_argument", "Idempotency-Key");

	/* The listener's own body cap (1 MiB) holds for Connect too. */
	size_t big = 1100 * 1024;
	char *huge = malloc(big);
	cr_assert_not_null(huge);
	memset(huge, ' ', big);
	call(&a, "POST", "/ospay.v1.Admin/ListUnits", srv.admin_token, JSON_HDRS, huge, big);
	free(huge);
	cr_assert_eq(a.status, 413, "%ld %s", a.status, a.body);

	/* The other routes are as they were. */
	call(&a, "GET", "/healthz", NULL, NULL, NULL, 0);
	cr_assert_eq(a.status, 200);
	call(&a, "GET", "/nope", NULL, NULL, NULL, 0);
	cr_assert_eq(a.status, 404);
}

/*
 * PagoLivre at the sandbox, an integrated recurring-credit method and an order of
 * customer n; body is its Orders/Finalize request in JSON (3 installments by a
 * payment link). Returns the order's id (everything asserted).
 */
static uint64_t linked_finalize_body(uint32_t n, char *body, size_t cap)
{
	tsg_pagolivre(fd, &sbx, srv.org_id, "pl-connect");
	uint64_t pm =
		tso_payment_method(fd, "Crédito recorrente", T(RECURRING_CREDIT), M(INTEGRATED));
	uint64_t cust = tso_customer(fd, srv.unit_id, n, "São Paulo"), id = 0;
	status_t st;
	cr_assert_eq(tso_order(fd, cust, 0, 0, 0, 0, &id, &st), 0, "order: %s", st.message);
	snprintf(body, cap, "{\"id\":\"%llu\",\"paymentMethodId\":\"%llu\",\"installments\":3}",
		 (unsigned long long)id, (unsigned long long)pm);
	return id;
}

Test(e2e_connect, a_deadline_passing_first_answers_504_and_the_write_still_lands)
{
	char body[160];
	uint64_t id = linked_finalize_body(41, body, sizeof(body));
	/* The link is asked of a stopped PagoLivre: the 300 ms deadline passes first. */
	const char *hdrs[] = {"Content-Type: application/json", "Connect-Timeout-Ms: 300",
			      "Idempotency-Key: finalize-late", NULL};
	answer_t a;
	tsp_sandbox_pause(&sbx);
	call(&a, "POST", "/ospay.v1.Orders/Finalize", srv.admin_token, hdrs, body, strlen(body));
	tsp_sandbox_resume(&sbx);
	expect_error(&a, 504, "deadline_exceeded", "Connect-Timeout-Ms");

	/* The gateway's answer still comes, and the order gets its link. */
	tsp_poll_t p = tsp_poll_start(TSP_HANG_MS);
	Ospay__V1__Order *o = NULL;
	do {
		if (o != NULL)
			ospay__v1__order__free_unpacked(o, NULL);
		o = tso_get_order(fd, id);
	} while (o->payment_status != PAY(PENDING) && tsp_poll_next(&p));
	cr_assert_eq(o->payment_status, PAY(PENDING), "no link after the deadline");
	cr_assert(o->payment != NULL && o->payment->link_url[0] != '\0');
	ospay__v1__order__free_unpacked(o, NULL);

	/* A repeat with the key gets that result, now in time. */
	const char *again[] = {"Content-Type: application/json", "Idempotency-Key: finalize-late",
			       NULL};
	call(&a, "POST", "/ospay.v1.Orders/Finalize", srv.admin_token, again, body, strlen(body));
	cr_assert_eq(a.status, 200, "%s", a.body);
	cr_assert(strstr(a.body, "\"linkUrl\":\"http") != NULL, "%s", a.body);
}

typedef struct late_call {
	answer_t a;
	const char *body;
} late_call_t;

static void *finalize_thread(void *arg)
{
	late_call_t *lc = arg;
	const char *hdrs[] = {"Content-Type: application/json", NULL};
	call(&lc->a, "POST", "/ospay.v1.Orders/Finalize", srv.admin_token, hdrs, lc->body,
	     strlen(lc->body));
	return NULL;
}

Test(e2e_connect, shutdown_waits_for_a_connect_call_in_flight)
{
	char body[160];
	linked_finalize_body(42, body, sizeof(body));

	/* The call waits on a stopped PagoLivre when SIGTERM comes. */
	late_call_t lc = {.body = body};
	pthread_t t;
	tsp_sandbox_pause(&sbx);
	cr_assert_eq(pthread_create(&t, NULL, finalize_thread, &lc), 0);
	TSP_AWAIT(tsp_metric(&srv, "ospay_gateway_calls_in_flight") == 1,
		  "the Finalize never reached PagoLivre");
	cr_assert_eq(kill(srv.pid, SIGTERM), 0);
	tsp_sandbox_resume(&sbx);
	pthread_join(t, NULL);
	cr_assert_eq(lc.a.status, 200, "answered %ld: %s", lc.a.status, lc.a.body);
	cr_assert(strstr(lc.a.body, "\"linkUrl\":\"http") != NULL, "%s", lc.a.body);
	/* And it exits 0 (the teardown checks), with nothing left open. */
}

Test(e2e_connect, the_listeners_body_timeout_holds_for_connect)
{
	/* A server whose body timeout is 500 ms, and a Connect call whose body never ends. */
	tsp_server_down(&srv);
	const char *args[] = {"--https-body-timeout-ms", "500", NULL};
	tsp_server_up(&srv, args);
	char cmd[1200], out[4096];
	snprintf(cmd, sizeof(cmd),
		 "(printf 'POST /ospay.v1.Admin/ListUnits HTTP/1.1\\r\\nHost: x\\r\\n"
		 "Authorization: Bearer %s\\r\\nContent-Type: application/json\\r\\n"
		 "Content-Length: 100\\r\\n\\r\\n{'; sleep 3) | timeout 20 openssl s_client -quiet "
		 "-connect %s -servername localhost 2>/dev/null",
		 srv.admin_token, srv.https_addr);
	const char *argv[] = {"/bin/sh", "-c", cmd, NULL};
	tsp_run(argv, NULL, out, sizeof(out));
	cr_assert(strstr(out, " 408 ") != NULL, "expected 408 Request Timeout:\n%.300s", out);
	cr_assert(strstr(out, "\"units\"") == NULL, "the cut request must not be served");
}

/*
 * The harness of the ospay black-box tests (cli_test.c, cli_calls_test.c): the
 * scripted server on a thread, what it saw, and run_cli() to run the real binary
 * against it. Included by one test file per executable.
 */
#ifndef OSPAY_TESTS_CLIENT_CLI_FAKE_H
#define OSPAY_TESTS_CLIENT_CLI_FAKE_H

#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <poll.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "ospay/v1/admin.pb-c.h"
#include "ospay/v1/billing.pb-c.h"
#include "ospay/v1/customers.pb-c.h"
#include "ospay/v1/notifications.pb-c.h"
#include "ospay/v1/orders.pb-c.h"
#include "ospay/v1/session.pb-c.h"
#include "support/fakesrv.h"

extern char **environ;

#define GOOD_TOKEN "tok-good-5f2c9a7e1b"
#define LEAKY_TOKEN "tok-leaky-88d1e0c4aa"
#define HANG_TOKEN "tok-hang-0000000000"

typedef struct run {
	int status;
	char out[65536];
	char err[65536];
} run_t;

/* What the server saw; written by its thread, read after the CLI exited. */
struct seen {
	int hellos;
	int list_calls;
	uint32_t page_size;
	char page_tokens[4][16];
	int create_unit_calls;
	char create_keys[4][64];
	Ospay__V1__CreateTokenRequest *token_req;
	char token_key[64];
	bool drop_next_create;
	/* The last call the server does not implement: what a command sent. */
	char other_method[64];
	uint8_t other_body[4096];
	size_t other_len;
};
static struct seen S;
static uv_mutex_t MU;

/*
 * A copy taken under the lock: tests assert on the copy, never while holding
 * the lock, so a failed assert cannot leave the server's thread blocked.
 */
static struct seen seen_now(void)
{
	uv_mutex_lock(&MU);
	struct seen c = S;
	uv_mutex_unlock(&MU);
	return c;
}

static tsp_fake_thread_t T;

/* The handlers run on the server's thread, where Criterion's asserts cannot report. */
#define MUST(x)                                                                                    \
	do {                                                                                       \
		if (!(x))                                                                          \
			abort();                                                                   \
	} while (0)

/*
 * The calls answered from their request: handler() unpacks it into m and
 * frees it after the reply, unless its row says the reply keeps it.
 */
typedef void (*reply_fn)(tsp_fake_conn_t *conn, const Ospay__V1__RpcRequest *req, void *m);

static void reply_unit_list(tsp_fake_conn_t *conn, const Ospay__V1__RpcRequest *req, void *m)
{
	const Ospay__V1__ListUnitsRequest *in = m;
	Ospay__V1__ListUnitsResponse out = OSPAY__V1__LIST_UNITS_RESPONSE__INIT;
	Ospay__V1__Unit u[2] = {OSPAY__V1__UNIT__INIT, OSPAY__V1__UNIT__INIT};
	Ospay__V1__Unit *ups[2] = {&u[0], &u[1]};
	uv_mutex_lock(&MU);
	int n = S.list_calls++;
	if (n < 4)
		snprintf(S.page_tokens[n], sizeof(S.page_tokens[0]), "%s", in->page_token);
	S.page_size = in->page_size;
	uv_mutex_unlock(&MU);
	/* Three pages: "" -> "p2" -> "p3" -> end. */
	int page = in->page_token[0] == '\0' ? 0 : in->page_token[1] - '1';
	if (page == 0) {
		u[0].id = 1;
		u[0].name = "São Paulo";
		u[0].created_ms = 1700000000000;
		u[1].id = 2;
		u[1].name = "Rio";
		out.n_units = 2;
		out.next_page_token = "p2";
	} else if (page == 1) {
		u[0].id = 10;
		u[0].name = "東京";
		u[1].id = 11;
		u[1].name = "Belo Horizonte";
		out.n_units = 2;
		out.next_page_token = "p3";
	} else {
		u[0].id = 12;
		u[0].name = "Curitiba";
		out.n_units = 1;
	}
	out.units = ups;
	tsp_fake_reply(conn, req->id, 0, NULL, &out.base);
}

static void reply_create_unit(tsp_fake_conn_t *conn, const Ospay__V1__RpcRequest *req, void *m)
{
	const Ospay__V1__CreateUnitRequest *in = m;
	Ospay__V1__CreateUnitResponse out = OSPAY__V1__CREATE_UNIT_RESPONSE__INIT;
	Ospay__V1__Unit u = OSPAY__V1__UNIT__INIT;
	bool drop = false;
	uv_mutex_lock(&MU);
	int n = S.create_unit_calls++;
	if (n < 4)
		snprintf(S.create_keys[n], sizeof(S.create_keys[0]), "%s", req->idempotency_key);
	drop = S.drop_next_create;
	S.drop_next_create = false;
	uv_mutex_unlock(&MU);
	if (drop) {
		/* As if the server went away before answering. */
		tsp_fake_conn_close(conn);
	} else if (in->name[0] == '\0') {
		tsp_fake_reply_violation(conn, req->id, "name", "must not be empty");
	} else {
		u.id = 77;
		u.organization_id = 7;
		u.name = in->name;
		u.created_ms = 1700000000000;
		out.unit = &u;
		tsp_fake_reply(conn, req->id, 0, NULL, &out.base);
	}
}

/* The request is kept in S.token_req for the test to read (its row says so). */
static void reply_create_token(tsp_fake_conn_t *conn, const Ospay__V1__RpcRequest *req, void *m)
{
	Ospay__V1__CreateTokenRequest *in = m;
	Ospay__V1__CreateTokenResponse out = OSPAY__V1__CREATE_TOKEN_RESPONSE__INIT;
	Ospay__V1__Token t = OSPAY__V1__TOKEN__INIT;
	t.id = 35;
	t.organization_id = 7;
	t.name = in->name;
	t.role = in->role;
	t.org_wide = in->org_wide;
	t.n_unit_ids = in->n_unit_ids;
	t.unit_ids = in->unit_ids;
	out.token = &t;
	out.secret = "s3cr3t-once";
	/* Recorded before the reply: the CLI exits on the reply and the test looks at once. */
	uv_mutex_lock(&MU);
	ospay__v1__create_token_request__free_unpacked(S.token_req, NULL);
	S.token_req = in;
	snprintf(S.token_key, sizeof(S.token_key), "%s", req->idempotency_key);
	uv_mutex_unlock(&MU);
	tsp_fake_reply(conn, req->id, 0, NULL, &out.base);
}

static void reply_revoke(tsp_fake_conn_t *conn, const Ospay__V1__RpcRequest *req, void *m)
{
	const Ospay__V1__RevokeTokenRequest *in = m;
	Ospay__V1__RevokeTokenResponse out = OSPAY__V1__REVOKE_TOKEN_RESPONSE__INIT;
	Ospay__V1__Token t = OSPAY__V1__TOKEN__INIT;
	if (in->token_id == 404) {
		tsp_fake_reply(conn, req->id, 5, "token 404 does not exist", NULL);
	} else {
		t.id = in->token_id;
		t.name = "ci";
		t.role = OSPAY__V1__ROLE__ROLE_READ_ONLY;
		t.org_wide = 1;
		t.revoked_ms = 1700000000000;
		out.token = &t;
		tsp_fake_reply(conn, req->id, 0, NULL, &out.base);
	}
}

/* The id in which the canned replies below answer: any other gets UNIMPLEMENTED. */
#define CANNED_ID 42
#define T0 1796641200000 /* 2026-12-07 08:00 at UTC-3, the fake organization's offset */

/* Orders/Get for CANNED_ID: an order with every part filled in. */
static void reply_order(tsp_fake_conn_t *conn, uint64_t id)
{
	Ospay__V1__OrdersGetResponse out = OSPAY__V1__ORDERS_GET_RESPONSE__INIT;
	Ospay__V1__Order o = OSPAY__V1__ORDER__INIT;
	Ospay__V1__OrderPayment p = OSPAY__V1__ORDER_PAYMENT__INIT;
	Ospay__V1__OrderInstallment in[2] = {OSPAY__V1__ORDER_INSTALLMENT__INIT,
					     OSPAY__V1__ORDER_INSTALLMENT__INIT};
	Ospay__V1__OrderInstallment *inp[] = {&in[0], &in[1]};
	Ospay__V1__OrderStatusChange h[2] = {OSPAY__V1__ORDER_STATUS_CHANGE__INIT,
					     OSPAY__V1__ORDER_STATUS_CHANGE__INIT};
	Ospay__V1__OrderStatusChange *hp[] = {&h[0], &h[1]};
	Ospay__V1__Notification n = OSPAY__V1__NOTIFICATION__INIT;
	Ospay__V1__Notification *np[] = {&n};
	o.id = CANNED_ID;
	o.unit_id = 3;
	o.customer_id = 7;
	o.kind = "REPARO";
	o.description = "trocar ONU";
	o.technician_id = 5;
	o.scheduled_start_ms = T0;
	o.duration_minutes = 90;
	o.amount = 123456;
	o.status = OSPAY__V1__ORDER_STATUS__ORDER_STATUS_OPEN;
	o.payment_status = OSPAY__V1__ORDER_PAYMENT_STATUS__ORDER_PAYMENT_STATUS_ERROR;
	o.created_ms = T0 - 86400000;
	o.updated_ms = T0 - 3600000;
	p.method_type = OSPAY__V1__PAYMENT_METHOD_TYPE__PAYMENT_METHOD_TYPE_RECURRING_CREDIT;
	p.installments = 2;
	p.link_url = "https://pay.example/l/1";
	p.error_message = "gateway timed out";
	for (int i = 0; i < 2; i++) {
		in[i].number = (uint32_t)i + 1;
		in[i].due_date = i == 0 ? "2026-12-07" : "2027-01-07";
		in[i].amount = 61728;
		in[i].status = i == 0 ? OSPAY__V1__INSTALLMENT_STATUS__INSTALLMENT_STATUS_DENIED
				      : OSPAY__V1__INSTALLMENT_STATUS__INSTALLMENT_STATUS_WAITING;
	}
	in[0].reason = "sem saldo";
	p.n_schedule = 2;
	p.schedule = inp;
	o.payment = &p;
	h[0].at_ms = o.created_ms;
	h[0].to = OSPAY__V1__ORDER_STATUS__ORDER_STATUS_OPEN;
	h[0].by_token_id = 9;
	h[1].at_ms = o.updated_ms;
	h[1].from = OSPAY__V1__ORDER_STATUS__ORDER_STATUS_OPEN;
	h[1].to = OSPAY__V1__ORDER_STATUS__ORDER_STATUS_OPEN;
	h[1].by_token_id = 9;
	h[1].note = "reaberta";
	o.n_history = 2;
	o.history = hp;
	n.id = 11;
	n.kind = OSPAY__V1__NOTIFICATION_KIND__NOTIFICATION_KIND_PAYMENT_LINK_CREATED;
	n.status = OSPAY__V1__NOTIFICATION_STATUS__NOTIFICATION_STATUS_FAILED;
	n.attempts = 3;
	n.updated_ms = o.updated_ms;
	n.last_error = "no WhatsApp";
	out.order = &o;
	out.n_notifications = 1;
	out.notifications = np;
	tsp_fake_reply(conn, id, 0, NULL, &out.base);
}

/* Billing/ListCharges for unit CANNED_ID: with a card or none, a note or not. */
static void reply_charges(tsp_fake_conn_t *conn, uint64_t id)
{
	Ospay__V1__BillingListChargesResponse out = OSPAY__V1__BILLING_LIST_CHARGES_RESPONSE__INIT;
	Ospay__V1__Charge c[3] = {OSPAY__V1__CHARGE__INIT, OSPAY__V1__CHARGE__INIT,
				  OSPAY__V1__CHARGE__INIT};
	Ospay__V1__Charge *cp[] = {&c[0], &c[1], &c[2]};
	for (int i = 0; i < 3; i++) {
		c[i].id = (uint64_t)i + 1;
		c[i].local_date = "2026-12-01";
		c[i].customer_id = 7;
		c[i].invoice_id = 30 + (uint64_t)i;
		c[i].attempt = (uint32_t)i + 1;
	}
	c[0].card_brand = OSPAY__V1__CARD_BRAND__CARD_BRAND_VISA;
	c[0].card_last4 = "1111";
	c[0].amount = 9990;
	c[0].recurring = 1;
	c[0].status = OSPAY__V1__CHARGE_STATUS__CHARGE_STATUS_DECLINED;
	c[0].return_code = "51";
	c[0].return_message = "Insufficient funds";
	c[1].amount = 100;
	c[1].status = OSPAY__V1__CHARGE_STATUS__CHARGE_STATUS_VOIDED;
	c[1].return_message = "Sale voided";
	c[1].note = "operator: twice";
	c[2].amount = 123456789;
	c[2].status = OSPAY__V1__CHARGE_STATUS__CHARGE_STATUS_OPERATOR_REVIEW;
	c[2].note = "outcome unknown";
	out.n_charges = 3;
	out.charges = cp;
	tsp_fake_reply(conn, id, 0, NULL, &out.base);
}

/* Customers/ListServices for customer CANNED_ID: every way a service is charged. */
static void reply_services(tsp_fake_conn_t *conn, uint64_t id)
{
	Ospay__V1__CustomersListServicesResponse out =
		OSPAY__V1__CUSTOMERS_LIST_SERVICES_RESPONSE__INIT;
	Ospay__V1__CustomerService s[3] = {OSPAY__V1__CUSTOMER_SERVICE__INIT,
					   OSPAY__V1__CUSTOMER_SERVICE__INIT,
					   OSPAY__V1__CUSTOMER_SERVICE__INIT};
	Ospay__V1__CustomerService *sp[] = {&s[0], &s[1], &s[2]};
	Ospay__V1__RecurringPayment rp[2] = {OSPAY__V1__RECURRING_PAYMENT__INIT,
					     OSPAY__V1__RECURRING_PAYMENT__INIT};
	Ospay__V1__CardFallback fb = OSPAY__V1__CARD_FALLBACK__INIT;
	s[0].id = 1;
	s[0].plan_name = "Fibra 500";
	s[0].monthly_amount = 9990;
	s[0].status = OSPAY__V1__SERVICE_STATUS__SERVICE_STATUS_ACTIVE;
	rp[0].enabled = 1;
	rp[0].card_id = 4;
	s[0].recurring_payment = &rp[0];
	s[1].id = 2;
	s[1].plan_name = "TV";
	s[1].monthly_amount = 5000;
	s[1].status = OSPAY__V1__SERVICE_STATUS__SERVICE_STATUS_BLOCKED;
	rp[1].enabled = 1;
	s[1].recurring_payment = &rp[1];
	fb.note = "card 4 was removed; the default card is charged";
	s[1].card_fallback = &fb;
	s[2].id = 10;
	s[2].plan_name = "Fone";
	s[2].monthly_amount = 100000;
	s[2].status = OSPAY__V1__SERVICE_STATUS__SERVICE_STATUS_ACTIVE;
	out.n_services = 3;
	out.services = sp;
	tsp_fake_reply(conn, id, 0, NULL, &out.base);
}

/* A canned reply when req is one of the calls above for CANNED_ID; false otherwise. */
static bool reply_canned(tsp_fake_conn_t *conn, const Ospay__V1__RpcRequest *req)
{
	static const struct {
		const char *method;
		const ProtobufCMessageDescriptor *desc;
		const char *key; /* the request's uint64 field that must be CANNED_ID */
		void (*reply)(tsp_fake_conn_t *conn, uint64_t id);
	} canned[] = {
		{"ospay.v1.Orders/Get", &ospay__v1__orders_get_request__descriptor, "id",
		 reply_order},
		{"ospay.v1.Billing/ListCharges",
		 &ospay__v1__billing_list_charges_request__descriptor, "unit_id", reply_charges},
		{"ospay.v1.Customers/ListServices",
		 &ospay__v1__customers_list_services_request__descriptor, "customer_id",
		 reply_services},
	};
	for (size_t i = 0; i < sizeof(canned) / sizeof(canned[0]); i++) {
		if (strcmp(req->method, canned[i].method) != 0)
			continue;
		ProtobufCMessage *in = protobuf_c_message_unpack(canned[i].desc, NULL,
								 req->body.len, req->body.data);
		const ProtobufCFieldDescriptor *f = protobuf_c_message_descriptor_get_field_by_name(
			canned[i].desc, canned[i].key);
		MUST(in != NULL && f != NULL);
		uint64_t key = *(const uint64_t *)((const char *)in + f->offset);
		protobuf_c_message_free_unpacked(in, NULL);
		if (key != CANNED_ID)
			return false;
		canned[i].reply(conn, req->id);
		return true;
	}
	return false;
}

static void reply_hello(tsp_fake_conn_t *conn, const Ospay__V1__RpcRequest *req, void *m)
{
	const Ospay__V1__HelloRequest *h = m;
	uv_mutex_lock(&MU);
	S.hellos++;
	uv_mutex_unlock(&MU);
	if (strcmp(h->token, GOOD_TOKEN) == 0) {
		tsp_fake_hello_ok(conn, req->id);
	} else if (strcmp(h->token, LEAKY_TOKEN) == 0) {
		/* A careless server quoting the token back: the CLI must not repeat it. */
		tsp_fake_reply(conn, req->id, 16, "token " LEAKY_TOKEN " is unknown", NULL);
		tsp_fake_conn_close(conn);
	} else if (strcmp(h->token, HANG_TOKEN) != 0) {
		tsp_fake_reply(conn, req->id, 16, "unknown token", NULL);
		tsp_fake_conn_close(conn);
	}
}

static void handler(tsp_fake_conn_t *conn, const Ospay__V1__RpcRequest *req, void *arg)
{
	static const struct {
		const char *method;
		const ProtobufCMessageDescriptor *desc;
		reply_fn reply;
		bool keep; /* the reply keeps the request: not freed here */
	} replies[] = {
		{"ospay.v1.Session/Hello", &ospay__v1__hello_request__descriptor, reply_hello,
		 false},
		{"ospay.v1.Admin/ListUnits", &ospay__v1__list_units_request__descriptor,
		 reply_unit_list, false},
		{"ospay.v1.Admin/CreateUnit", &ospay__v1__create_unit_request__descriptor,
		 reply_create_unit, false},
		{"ospay.v1.Admin/CreateToken", &ospay__v1__create_token_request__descriptor,
		 reply_create_token, true},
		{"ospay.v1.Admin/RevokeToken", &ospay__v1__revoke_token_request__descriptor,
		 reply_revoke, false},
	};
	const char *m = req->method;
	size_t i = 0;
	while (i < sizeof(replies) / sizeof(replies[0]) && strcmp(m, replies[i].method) != 0)
		i++;
	if (i < sizeof(replies) / sizeof(replies[0])) {
		ProtobufCMessage *in = protobuf_c_message_unpack(replies[i].desc, NULL,
								 req->body.len, req->body.data);
		MUST(in != NULL);
		replies[i].reply(conn, req, in);
		if (!replies[i].keep)
			protobuf_c_message_free_unpacked(in, NULL);
	} else if (!reply_canned(conn, req)) {
		uv_mutex_lock(&MU);
		snprintf(S.other_method, sizeof(S.other_method), "%s", m);
		S.other_len = req->body.len < sizeof(S.other_body) ? req->body.len : 0;
		if (S.other_len > 0) /* an empty body has no data pointer */
			memcpy(S.other_body, req->body.data, S.other_len);
		uv_mutex_unlock(&MU);
		tsp_fake_reply(conn, req->id, 12, "unimplemented", NULL);
	}
}

static void setup(void)
{
	memset(&S, 0, sizeof(S));
	uv_mutex_init(&MU);
	cr_assert_eq(tsp_fake_thread_start(&T, handler, NULL), 0);
}

static void teardown(void)
{
	tsp_fake_thread_stop(&T);
	ospay__v1__create_token_request__free_unpacked(S.token_req, NULL);
	uv_mutex_destroy(&MU);
}

static void drain(int fd, char *buf, size_t cap, size_t *len, bool *open)
{
	ssize_t n = read(fd, buf + *len, cap - 1 - *len);
	if (n <= 0) {
		*open = false;
		return;
	}
	*len += (size_t)n;
	buf[*len] = '\0';
	if (*len + 1 >= cap)
		*open = false;
}

/* Runs ospay with args (NULL-terminated), OSPAY_ADDR pointing at the fake server. */
static void run_cli(run_t *r, const char *token, const char *const *args)
{
	const char *argv[32];
	char *envp[256];
	char addr_env[96], token_env[128];
	int out[2], err[2], argc = 0, envc = 0;
	posix_spawn_file_actions_t fa;
	pid_t pid;
	memset(r, 0, sizeof(*r));
	argv[argc++] = OSPAY_BIN;
	for (int i = 0; args[i] != NULL && argc < 31; i++)
		argv[argc++] = args[i];
	argv[argc] = NULL;
	snprintf(addr_env, sizeof(addr_env), "OSPAY_ADDR=%s", T.srv.addr);
	envp[envc++] = addr_env;
	if (token != NULL) {
		snprintf(token_env, sizeof(token_env), "OSPAY_TOKEN=%s", token);
		envp[envc++] = token_env;
	}
	for (char **e = environ; *e != NULL && envc < 254; e++) {
		if (strncmp(*e, "OSPAY_", 6) != 0)
			envp[envc++] = *e;
	}
	envp[envc] = NULL;
	cr_assert_eq(pipe2(out, O_CLOEXEC), 0);
	cr_assert_eq(pipe2(err, O_CLOEXEC), 0);
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_adddup2(&fa, out[1], 1);
	posix_spawn_file_actions_adddup2(&fa, err[1], 2);
	cr_assert_eq(posix_spawn(&pid, OSPAY_BIN, &fa, NULL, (char *const *)argv, envp), 0);
	posix_spawn_file_actions_destroy(&fa);
	close(out[1]);
	close(err[1]);
	size_t olen = 0, elen = 0;
	bool oopen = true, eopen = true;
	while (oopen || eopen) {
		struct pollfd p[2] = {{out[0], POLLIN, 0}, {err[0], POLLIN, 0}};
		cr_assert_gt(poll(p, 2, 30000), 0, "ospay hung");
		if (oopen && (p[0].revents & (POLLIN | POLLHUP)))
			drain(out[0], r->out, sizeof(r->out), &olen, &oopen);
		if (eopen && (p[1].revents & (POLLIN | POLLHUP)))
			drain(err[0], r->err, sizeof(r->err), &elen, &eopen);
		if (!oopen)
			p[0].fd = -1;
	}
	close(out[0]);
	close(err[0]);
	int ws = 0;
	cr_assert_eq(waitpid(pid, &ws, 0), pid);
	cr_assert(WIFEXITED(ws), "ospay died: %s", r->err);
	r->status = WEXITSTATUS(ws);
	/* Never, in any output, whatever happened. */
	if (token != NULL && token[0] != '\0') {
		cr_assert_null(strstr(r->out, token), "token on stdout");
		cr_assert_null(strstr(r->err, token), "token on stderr");
	}
	cr_assert_null(strstr(r->err, "Sanitizer"), "%s", r->err);
	cr_assert_null(strstr(r->err, "runtime error"), "%s", r->err);
}

#define ARGS(...)                                                                                  \
	(const char *const[])                                                                      \
	{                                                                                          \
		__VA_ARGS__, NULL                                                                  \
	}

static json_t *parse_json(const char *text)
{
	json_error_t e;
	json_t *j = json_loads(text, 0, &e);
	cr_assert_not_null(j, "not JSON (%s): %s", e.text, text);
	return j;
}

#endif

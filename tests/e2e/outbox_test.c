/*
 * The notifications outbox end to end (docs/spec.md 4.8): a real ospayd with the test
 * clock and a real ospay-sandbox standing in for PagoLivre, Cielo and ZapMe.
 * Messages are queued with the event that causes them, sent through ZapMe
 * with retries and backoff, follow ZapMe's delivery webhooks, and show on
 * Orders/Get and Billing/GetInvoice.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ospay/v1/admin.pb-c.h"
#include "ospay/v1/billing.pb-c.h"
#include "ospay/v1/cards.pb-c.h"
#include "ospay/v1/clock.pb-c.h"
#include "ospay/v1/customers.pb-c.h"
#include "ospay/v1/gateway.pb-c.h"
#include "ospay/v1/notifications.pb-c.h"
#include "ospay/v1/orders.pb-c.h"
#include "ospay/v1/records.pb-c.h"
#include "server/db/db.h"
#include "server/providers/adapters.h"
#include "server/rpc/srv.h"
#include "support/domain.h"
#include "support/enums.h"
#include "support/gateways.h"
#include "support/live.h"
#include "support/proc.h"
#include "support/records.h"
#include "support/suite.h"

static tsp_sandbox_t sbx;

#define PL_TOKEN "pl-token-outbox"
#define START "2020-12-10T15:00:00Z"
#define NST(x) OSPAY__V1__NOTIFICATION_STATUS__NOTIFICATION_STATUS_##x
#define NKIND(x) OSPAY__V1__NOTIFICATION_KIND__NOTIFICATION_KIND_##x
#define NC(x) OSPAY__V1__NOTIFIER_CHANNEL__NOTIFIER_CHANNEL_##x

static void after_up(void);
TSP_E2E_SUITE_THEN(outbox, fd, &sbx, START, 90, after_up);

static void after_up(void)
{
	tsg_pagolivre(fd, &sbx, srv.org_id, PL_TOKEN);
	tsg_register_zapme(&sbx, srv.org_id, "ob");
}

/* A customer whose phone is "+55 11 98765-432<last>" (ZapMe sandbox: 8 is never
 * delivered by itself, 9 has no WhatsApp, others are delivered at once). */
static uint64_t customer(uint32_t n, int last)
{
	char cpf[12], phone[32], name[32];
	tso_cpf(n, cpf);
	snprintf(phone, sizeof(phone), "+55 11 98765-432%d", last);
	snprintf(name, sizeof(name), "Maria %u", n);
	Ospay__V1__CustomersCreateRequest m = OSPAY__V1__CUSTOMERS_CREATE_REQUEST__INIT;
	m.unit_id = srv.unit_id;
	m.name = name;
	m.document = cpf;
	m.phone = phone;
	Ospay__V1__Address a;
	tsr_address(&a);
	m.address = &a;
	return tsp_call_id(fd, "ospay.v1.Customers/Create", &m.base,
			   &ospay__v1__customers_create_response__descriptor, "customer");
}

/* An order of the customer finalized with integrated recurring credit. */
static uint64_t linked_order(uint64_t cust, char link[2100])
{
	uint64_t pm =
		tso_payment_method(fd, "Crédito recorrente", T(RECURRING_CREDIT), M(INTEGRATED));
	uint64_t id = 0;
	status_t st;
	cr_assert_eq(tso_order(fd, cust, 0, 0, 0, 0, &id, &st), 0, "order: %s", st.message);
	Ospay__V1__Order *o = tso_finalize_ok(fd, id, pm, 0, 3);
	snprintf(link, 2100, "%s", o->payment->link_url);
	ospay__v1__order__free_unpacked(o, NULL);
	return id;
}

static Ospay__V1__OrdersGetResponse *get_order(uint64_t id)
{
	Ospay__V1__OrdersGetRequest m = OSPAY__V1__ORDERS_GET_REQUEST__INIT;
	m.id = id;
	Ospay__V1__OrdersGetResponse *r = tsp_call_ok(fd, "ospay.v1.Orders/Get", &m.base,
						      &ospay__v1__orders_get_response__descriptor);
	return r;
}

/*
 * Waits (a hang guard) until the order's only notification has status want
 * and (attempts > 0) that many tries; returns a copy of it (caller frees) or
 * fails the test with the last one seen.
 */
static Ospay__V1__Notification *wait_note(uint64_t order, int want, uint32_t attempts)
{
	int last = -1;
	uint32_t last_att = 0;
	tsp_poll_t p = tsp_poll_start(TSP_HANG_MS);
	do {
		Ospay__V1__OrdersGetResponse *r = get_order(order);
		cr_assert_leq(r->n_notifications, 1);
		if (r->n_notifications == 1) {
			Ospay__V1__Notification *n = r->notifications[0];
			last = (int)n->status;
			last_att = n->attempts;
			if (last == want && (attempts == 0 || n->attempts == attempts)) {
				r->notifications[0] = NULL;
				r->n_notifications = 0;
				protobuf_c_message_free_unpacked(&r->base, NULL);
				return n;
			}
		}
		protobuf_c_message_free_unpacked(&r->base, NULL);
	} while (tsp_poll_next(&p));
	cr_assert_fail("notification of order %llu: status %d after %u tries, wanted %d/%u",
		       (unsigned long long)order, last, last_att, want, attempts);
	return NULL;
}

/* WhatsApp messages the sandbox's ZapMe recorded for the phone; the texts in out. */
static int zapme_messages(const char *phone, char *out, size_t cap)
{
	char url[300];
	snprintf(url, sizeof(url), "%s/control/messages?service=zapme&phone=%s", sbx.base, phone);
	cr_assert_eq(tsp_http("GET", url, NULL, NULL, NULL, out, cap), 200, "%s", out);
	int n = 0;
	for (const char *p = strstr(out, "\"text\""); p != NULL; p = strstr(p + 1, "\"text\""))
		n++;
	return n;
}

static void zapme_status(const char *id, const char *status)
{
	char url[300], body[80], out[4096];
	snprintf(url, sizeof(url), "%s/control/zapme/messages/%s/status", sbx.base, id);
	snprintf(body, sizeof(body), "{\"status\":\"%s\"}", status);
	cr_assert_eq(tsp_http("POST", url, body, NULL, NULL, out, sizeof(out)), 200, "%s", out);
}

/* How often ospay has queried ZapMe about its message (the live store). */
static uint32_t zapme_queries(const char *id)
{
	Ospay__V1__GatewayObjectRecord *o = tsl_object(&srv, SRV_SERVICE_ZAPME, id);
	uint32_t n = o != NULL ? o->queries : 0;
	if (o != NULL)
		ospay__v1__gateway_object_record__free_unpacked(o, NULL);
	return n;
}

static void wait_queries(const char *id, uint32_t want)
{
	TSP_AWAIT(zapme_queries(id) >= want, "ZapMe message %s: never re-queried", id);
}

/* ------------------------------------------------------------------ payment links */

Test(outbox, a_new_link_is_sent_then_follows_delivery_and_read_never_backwards)
{
	tsg_set_zapme(fd, &sbx, "ob");
	char link[2100], out[65536];
	uint64_t id = linked_order(customer(1, 8), link);
	Ospay__V1__Notification *n = wait_note(id, NST(SENT), 1);
	cr_assert_eq(n->kind, NKIND(PAYMENT_LINK_CREATED));
	cr_assert_eq(n->channel, OSPAY__V1__NOTIFIER_CHANNEL__NOTIFIER_CHANNEL_WHATSAPP);
	cr_assert_eq(n->order_id, id);
	cr_assert(strstr(n->text, link) != NULL, "text: %s", n->text);
	cr_assert(strstr(n->text, "Maria") != NULL, "text: %s", n->text);
	cr_assert(strstr(n->text, "Para pagar a ordem de serviço") != NULL,
		  "a message, not a URL: %s", n->text);
	cr_assert_neq(n->provider_message_id[0], '\0');
	cr_assert_str_eq(n->last_error, "");
	cr_assert_gt(n->sent_ms, 0);
	char mid[64];
	snprintf(mid, sizeof(mid), "%s", n->provider_message_id);
	ospay__v1__notification__free_unpacked(n, NULL);
	/* The sandbox got it once, with the link, at the customer's phone. */
	cr_assert_eq(zapme_messages("5511987654328", out, sizeof(out)), 1, "%s", out);
	cr_assert(strstr(out, link) != NULL, "%s", out);

	/* ZapMe's webhook (confirmed by a query) moves it to DELIVERED; the same
	 * status again, duplicated, changes nothing. */
	tsg_webhook_fault(&sbx, "{\"service\":\"zapme\",\"kind\":\"duplicate\"}");
	zapme_status(mid, "delivered");
	n = wait_note(id, NST(DELIVERED), 1);
	int64_t delivered = n->delivered_ms;
	cr_assert_gt(delivered, 0);
	ospay__v1__notification__free_unpacked(n, NULL);
	uint32_t q = zapme_queries(mid);
	zapme_status(mid, "delivered");
	wait_queries(mid, q + 1);
	n = wait_note(id, NST(DELIVERED), 1);
	cr_assert_eq(n->delivered_ms, delivered);
	ospay__v1__notification__free_unpacked(n, NULL);

	zapme_status(mid, "read");
	ospay__v1__notification__free_unpacked(wait_note(id, NST(READ), 1), NULL);
	/* An older status after READ (ZapMe's query says delivered) is ignored. */
	q = zapme_queries(mid);
	zapme_status(mid, "delivered");
	wait_queries(mid, q + 1);
	ospay__v1__notification__free_unpacked(wait_note(id, NST(READ), 1), NULL);
	cr_assert_eq(zapme_messages("5511987654328", out, sizeof(out)), 1, "%s", out);
}

Test(outbox, a_sent_message_nobody_told_about_is_asked_for_later)
{
	tsg_set_zapme(fd, &sbx, "ob");
	char link[2100];
	uint64_t id = linked_order(customer(9, 8), link);
	Ospay__V1__Notification *n = wait_note(id, NST(SENT), 1);
	cr_assert_eq(n->next_attempt_ms, n->sent_ms + 5 * 60000);
	char mid[64];
	snprintf(mid, sizeof(mid), "%s", n->provider_message_id);
	ospay__v1__notification__free_unpacked(n, NULL);
	/* Delivered at ZapMe, but its webhook is lost. */
	tsg_webhook_fault(&sbx, "{\"service\":\"zapme\",\"kind\":\"drop\"}");
	zapme_status(mid, "delivered");
	tso_advance(fd, 5 * 60000);
	n = wait_note(id, NST(DELIVERED), 1);
	cr_assert_eq(n->next_attempt_ms, 0);
	ospay__v1__notification__free_unpacked(n, NULL);
}

/* ------------------------------------------------------------------ CLI */

static char cli_out[65536];

#define ospay(...) tso_cli(&srv, NULL, cli_out, sizeof(cli_out), __VA_ARGS__)

Test(outbox, delivered_at_once_and_shown_by_the_cli)
{
	tsg_set_zapme(fd, &sbx, "ob");
	char link[2100];
	uint64_t id = linked_order(customer(2, 1), link);
	ospay__v1__notification__free_unpacked(wait_note(id, NST(DELIVERED), 1), NULL);
	char ids[24];
	snprintf(ids, sizeof(ids), "%llu", (unsigned long long)id);
	cr_assert_eq(ospay("orders", "get", ids, NULL), 0, "%s", cli_out);
	cr_assert(strstr(cli_out, "notifications") != NULL, "%s", cli_out);
	cr_assert(strstr(cli_out, "payment-link-created") != NULL, "%s", cli_out);
	cr_assert(strstr(cli_out, "delivered") != NULL, "%s", cli_out);
}

Test(outbox, a_number_without_whatsapp_ends_failed_with_zapmes_reason)
{
	tsg_set_zapme(fd, &sbx, "ob");
	char link[2100];
	uint64_t id = linked_order(customer(3, 9), link);
	Ospay__V1__Notification *n = wait_note(id, NST(FAILED), 1);
	cr_assert(strstr(n->last_error, "missing_number") != NULL, "%s", n->last_error);
	cr_assert_eq(n->delivered_ms, 0);
	ospay__v1__notification__free_unpacked(n, NULL);
}

Test(outbox, no_notifier_queues_nothing)
{
	char link[2100], out[65536];
	uint64_t id = linked_order(customer(4, 1), link);
	/* Queued in Finalize's own transaction: its absence is final at once. */
	Ospay__V1__OrdersGetResponse *r = get_order(id);
	cr_assert_eq(r->n_notifications, 0);
	protobuf_c_message_free_unpacked(&r->base, NULL);
	cr_assert_eq(zapme_messages("5511987654321", out, sizeof(out)), 0, "%s", out);
	/* A notifier set later does not send old events. */
	tsg_set_zapme(fd, &sbx, "ob");
	tso_advance(fd, 60000);
	r = get_order(id);
	cr_assert_eq(r->n_notifications, 0);
	protobuf_c_message_free_unpacked(&r->base, NULL);
}

/* ------------------------------------------------------------------ settings */

/* Admin/SetNotifier of ZapMe at the sandbox on channel; credentials of tag "ob" unless keep. */
static int set_notifier(int channel, const char *path, bool keep, status_t *st)
{
	char base[160];
	snprintf(base, sizeof(base), "%s%s", sbx.base, path);
	Ospay__V1__GatewayCredentials cred = OSPAY__V1__GATEWAY_CREDENTIALS__INIT;
	cred.api_key = "zapi-ob";
	cred.api_secret = "zsecret-ob";
	Ospay__V1__HeaderPair hook = OSPAY__V1__HEADER_PAIR__INIT;
	hook.name = "X-ZapMe-Secret";
	hook.value = "zhook-ob";
	Ospay__V1__HeaderPair *hooks[] = {&hook};
	cred.webhook_headers = hooks;
	cred.n_webhook_headers = 1;
	Ospay__V1__SetNotifierRequest req = OSPAY__V1__SET_NOTIFIER_REQUEST__INIT;
	req.base_url = base;
	req.channel = (Ospay__V1__NotifierChannel)channel;
	req.credentials = keep ? NULL : &cred;
	return tsp_call(fd, "ospay.v1.Admin/SetNotifier", &req.base, NULL, NULL, NULL, st);
}

/*
 * The stored ZapMe settings (read from the live store), NULL when none; caller
 * frees. Opened read-only: a write refused by ospayd leaves its group-commit
 * batch (and LMDB's writer lock) open until the next write, and a writable open
 * would wait for that lock.
 */
static Ospay__V1__GatewayRecord *stored_notifier(void)
{
	char path[400];
	snprintf(path, sizeof(path), "%s/data/store", srv.dir);
	store_opts_t so = {
		.path = path, .tables = db_tables, .n_tables = DB_N_TABLES, .read_only = true};
	store_t *st = NULL;
	cr_assert_eq(store_open(&st, &so), 0);
	store_txn_t *txn;
	cr_assert_eq(store_read_begin(st, &txn), 0);
	Ospay__V1__GatewayRecord *rec = NULL;
	int rc = prov_settings_get(txn, srv.org_id, SRV_SERVICE_ZAPME, &rec);
	cr_assert(rc == 0 || rc == -ENOENT, "prov_settings_get: %d", rc);
	store_read_end(txn);
	store_close(st);
	return rc == 0 ? rec : NULL;
}

static void expect_sms_refused(int code, const status_t *st)
{
	cr_assert_eq(code, 3, "SMS through ZapMe answered %d: %s", code, st->message);
	cr_assert_eq(st->n_violations, 1, "%s", st->message);
	cr_assert_str_eq(st->violations[0].field, "channel");
	cr_assert_str_eq(st->violations[0].description,
			 "ZapMe delivers WhatsApp messages only; SMS is not supported");
}

Test(outbox, sms_through_zapme_is_refused_and_nothing_is_stored)
{
	/* No notifier yet: refused, and none is created. */
	status_t st;
	int code = set_notifier(NC(SMS), "/zapme", false, &st);
	expect_sms_refused(code, &st);
	cr_assert_null(stored_notifier(), "a refused SetNotifier stored settings");
	char link[2100], out[65536];
	uint64_t quiet = linked_order(customer(5, 1), link);
	Ospay__V1__OrdersGetResponse *r = get_order(quiet);
	cr_assert_eq(r->n_notifications, 0, "no notifier: nothing queued");
	protobuf_c_message_free_unpacked(&r->base, NULL);

	/* WhatsApp is accepted; then SMS, even with other settings, changes nothing. */
	code = set_notifier(NC(WHATSAPP), "/zapme", false, &st);
	cr_assert_eq(code, 0, "WhatsApp: %s", st.message);
	Ospay__V1__GatewayRecord *before = stored_notifier();
	cr_assert_not_null(before);
	cr_assert_eq(before->channel, NC(WHATSAPP));
	code = set_notifier(NC(SMS), "/elsewhere", false, &st);
	expect_sms_refused(code, &st);
	code = set_notifier(NC(SMS), "/zapme", true, &st);
	expect_sms_refused(code, &st);
	Ospay__V1__GatewayRecord *after = stored_notifier();
	cr_assert_not_null(after);
	cr_assert_eq(after->channel, NC(WHATSAPP));
	cr_assert_str_eq(after->base_url, before->base_url);
	cr_assert_eq(after->updated_ms, before->updated_ms);
	ospay__v1__gateway_record__free_unpacked(before, NULL);
	ospay__v1__gateway_record__free_unpacked(after, NULL);

	/* And messages still go out by WhatsApp, to the sandbox's ZapMe. */
	uint64_t id = linked_order(customer(6, 1), link);
	Ospay__V1__Notification *n = wait_note(id, NST(DELIVERED), 1);
	cr_assert_eq(n->channel, NC(WHATSAPP));
	cr_assert_str_eq(n->last_error, "");
	ospay__v1__notification__free_unpacked(n, NULL);
	cr_assert_eq(zapme_messages("5511987654321", out, sizeof(out)), 1, "%s", out);
	cr_assert(strstr(out, link) != NULL, "%s", out);
}

/* ------------------------------------------------------------------ failures */

/* ZapMe set with a fault on its message route, then an order of a new customer n whose link is
 * queued for it. */
static uint64_t order_under_fault(uint32_t n, const char *fault)
{
	char link[2100];
	tsg_set_zapme(fd, &sbx, "ob");
	tsg_fault(&sbx, fault);
	return linked_order(customer(n, 1), link);
}

Test(outbox, http_500s_are_retried_with_backoff_through_the_test_clock)
{
	uint64_t id = order_under_fault(5, "{\"service\":\"zapme\",\"route\":\"message_create\","
					   "\"kind\":\"http500\",\"count\":2}");
	char out[65536];
	Ospay__V1__Notification *n = wait_note(id, NST(QUEUED), 1);
	cr_assert(strstr(n->last_error, "500") != NULL, "%s", n->last_error);
	cr_assert_eq(n->next_attempt_ms, n->updated_ms + 30000);
	ospay__v1__notification__free_unpacked(n, NULL);
	/* Not due yet: a pass changes nothing. */
	tso_advance(fd, 29000);
	n = wait_note(id, NST(QUEUED), 1);
	ospay__v1__notification__free_unpacked(n, NULL);
	tso_advance(fd, 1000);
	n = wait_note(id, NST(QUEUED), 2);
	cr_assert_eq(n->next_attempt_ms, n->updated_ms + 60000);
	ospay__v1__notification__free_unpacked(n, NULL);
	tso_advance(fd, 60000);
	n = wait_note(id, NST(DELIVERED), 3);
	cr_assert_str_eq(n->last_error, "");
	ospay__v1__notification__free_unpacked(n, NULL);
	cr_assert_eq(zapme_messages("5511987654321", out, sizeof(out)), 1, "%s", out);
}

Test(outbox, after_six_tries_the_message_fails_with_the_reason)
{
	uint64_t id = order_under_fault(
		6, "{\"service\":\"zapme\",\"route\":\"message_create\",\"kind\":\"http500\"}");
	char out[65536];
	int64_t delay = 30000;
	for (uint32_t k = 1; k < 6; k++, delay *= 2) {
		Ospay__V1__Notification *n = wait_note(id, NST(QUEUED), k);
		cr_assert_eq(n->next_attempt_ms, n->updated_ms + delay, "try %u", k);
		ospay__v1__notification__free_unpacked(n, NULL);
		tso_advance(fd, delay);
	}
	Ospay__V1__Notification *n = wait_note(id, NST(FAILED), 6);
	cr_assert(strstr(n->last_error, "given up after 6 tries") != NULL, "%s", n->last_error);
	cr_assert(strstr(n->last_error, "HTTP 500") != NULL, "%s", n->last_error);
	cr_assert_eq(n->next_attempt_ms, 0);
	ospay__v1__notification__free_unpacked(n, NULL);
	/* FAILED is final: time passing sends nothing. */
	tso_advance(fd, DAY_MS);
	n = wait_note(id, NST(FAILED), 6);
	ospay__v1__notification__free_unpacked(n, NULL);
	cr_assert_eq(zapme_messages("5511987654321", out, sizeof(out)), 0, "%s", out);
}

Test(outbox, kill_while_sending_never_sends_twice)
{
	/* ZapMe takes the message and never answers. */
	uint64_t id = order_under_fault(7, "{\"service\":\"zapme\",\"route\":\"message_create\","
					   "\"kind\":\"timeout\",\"process\":true,\"count\":1}");
	char out[65536];
	Ospay__V1__Notification *n = wait_note(id, NST(SENDING), 1);
	ospay__v1__notification__free_unpacked(n, NULL);
	TSP_AWAIT(zapme_messages("5511987654321", out, sizeof(out)) > 0, "ZapMe never got it");
	cr_assert_eq(zapme_messages("5511987654321", out, sizeof(out)), 1, "%s", out);
	close(fd);
	tsp_server_kill(&srv, SIGKILL);
	const char *args[] = {"--test-clock", START, NULL};
	cr_assert_eq(tsp_server_start(&srv, args), 0);
	fd = tsp_login(&srv, srv.admin_token);
	/* ZapMe cannot be asked whether it got it (no id, no idempotency key):
	 * FAILED with the reason, never sent again. */
	n = wait_note(id, NST(FAILED), 1);
	cr_assert(strstr(n->last_error, "interrupted") != NULL, "%s", n->last_error);
	ospay__v1__notification__free_unpacked(n, NULL);
	tso_advance(fd, DAY_MS);
	ospay__v1__notification__free_unpacked(wait_note(id, NST(FAILED), 1), NULL);
	cr_assert_eq(zapme_messages("5511987654321", out, sizeof(out)), 1, "%s", out);
}

/* A customer with a declined card, a recurring service and an invoice due today. */
static uint64_t declined_invoice(uint64_t *svc_out)
{
	uint64_t c = customer(8, 1);
	tso_visa_card(fd, c, 2); /* declined, "05" */
	*svc_out = tso_service(fd, c, true);
	return tso_invoice(fd, c, *svc_out, "2020-12-10");
}

/* Waits until the invoice shows n notifications, all DELIVERED; returns the response. */
static Ospay__V1__BillingGetInvoiceResponse *wait_invoice_notes(uint64_t inv, size_t n)
{
	Ospay__V1__BillingGetInvoiceResponse *r = NULL;
	tsp_poll_t p = tsp_poll_start(TSP_HANG_MS);
	do {
		Ospay__V1__BillingGetInvoiceRequest m =
			OSPAY__V1__BILLING_GET_INVOICE_REQUEST__INIT;
		m.invoice_id = inv;
		if (r != NULL)
			protobuf_c_message_free_unpacked(&r->base, NULL);
		r = NULL;
		r = tsp_call_ok(fd, "ospay.v1.Billing/GetInvoice", &m.base,
				&ospay__v1__billing_get_invoice_response__descriptor);
		bool done = r->n_notifications == n;
		for (size_t k = 0; done && k < n; k++)
			done = r->notifications[k]->status == NST(DELIVERED);
		if (done)
			return r;
	} while (tsp_poll_next(&p));
	cr_assert_fail("invoice %llu: %zu notifications, wanted %zu delivered",
		       (unsigned long long)inv, r->n_notifications, n);
	return NULL;
}

Test(outbox, failed_charges_and_the_blocked_service_are_told_on_the_invoice)
{
	tsg_set_zapme(fd, &sbx, "ob");
	tsg_cielo(fd, &sbx, srv.org_id, "ob", true);
	status_t pst;
	cr_assert_eq(tso_set_profile(fd, 2, &pst), 0, "%s", pst.message);
	uint64_t svc = 0, inv = declined_invoice(&svc);
	tso_run_now(fd); /* attempt 1 declined */
	Ospay__V1__BillingGetInvoiceResponse *r = wait_invoice_notes(inv, 1);
	cr_assert_eq(r->notifications[0]->kind, NKIND(CHARGE_FAILED));
	cr_assert_neq(r->notifications[0]->charge_id, 0);
	cr_assert(strstr(r->notifications[0]->text, "não foi aprovada") != NULL, "%s",
		  r->notifications[0]->text);
	/* The plan, not a number; and the first decline says the second comes tomorrow. */
	cr_assert(strstr(r->notifications[0]->text, "do plano Fibra 500") != NULL, "%s",
		  r->notifications[0]->text);
	cr_assert(strstr(r->notifications[0]->text, "tentar de novo amanhã") != NULL, "%s",
		  r->notifications[0]->text);
	protobuf_c_message_free_unpacked(&r->base, NULL);
	tso_run_now(fd); /* the same day: no attempt, no message */
	tso_advance(fd, DAY_MS);
	tso_run_now(fd); /* attempt 2 declined */
	r = wait_invoice_notes(inv, 2);
	cr_assert_eq(r->notifications[1]->kind, NKIND(CHARGE_FAILED));
	cr_assert_neq(r->notifications[1]->charge_id, r->notifications[0]->charge_id);
	cr_assert(strstr(r->notifications[1]->text, "Não haverá nova tentativa") != NULL, "%s",
		  r->notifications[1]->text);
	protobuf_c_message_free_unpacked(&r->base, NULL);
	tso_advance(fd, DAY_MS);
	tso_run_now(fd); /* due + 2 days: blocked */
	r = wait_invoice_notes(inv, 3);
	cr_assert_eq(r->notifications[2]->kind, NKIND(SERVICE_BLOCKED));
	cr_assert_eq(r->notifications[2]->service_id, svc);
	cr_assert(strstr(r->notifications[2]->text, "Seu serviço Fibra 500 foi bloqueado") != NULL,
		  "%s", r->notifications[2]->text);
	protobuf_c_message_free_unpacked(&r->base, NULL);
	tso_run_now(fd);
	r = wait_invoice_notes(inv, 3);
	protobuf_c_message_free_unpacked(&r->base, NULL);
	char out[65536];
	cr_assert_eq(zapme_messages("5511987654321", out, sizeof(out)), 3, "%s", out);
}

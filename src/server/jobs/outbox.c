/*
 * The notifications outbox (docs/spec.md 4.8; outbox.h).
 *
 * A message is written QUEUED with the event that causes it. The sender walks
 * DB_OUTBOX_DUE from its head: what is due is acted on, at most OB_INFLIGHT
 * messages at a time, and the walk stops at the first entry in the future.
 *
 * - QUEUED: marked SENDING durably (moved to the index's head, time 0)
 *   before ZapMe is called, then SENT, QUEUED again at its next try
 *   (30 s, 1 min, 2 min ... 30 min), or FAILED after OB_MAX_ATTEMPTS tries.
 * - SENDING and not in flight here: a crash interrupted the call. ZapMe has
 *   no idempotency key nor a reference of ours to look the message up by,
 *   so it is not sent again (a customer never gets it twice without anybody
 *   knowing): FAILED, the reason saying it may have been delivered.
 * - SENT: ZapMe is asked for its status a few times (5 min, 10 min, 20 min)
 *   when no delivery webhook came; DELIVERED, READ or FAILED end that.
 *
 * Statuses only move forward (outbox.h); the webhook pipeline and the status
 * queries both go through ob_apply_word.
 */
#include "server/jobs/outbox.h"

#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "common/log.h"
#include "common/util.h"
#include "core/money.h"
#include "gateways/gateway.h"
#include "ospay/v1/customers.pb-c.h"
#include "ospay/v1/records.pb-c.h"
#include "server/db/db.h"
#include "server/providers/adapters.h"
#include "server/providers/objects.h"
#include "server/rpc/kit.h"

/* Messages being sent or queried at once (ZapMe's pool bounds it too). */
#define OB_INFLIGHT 8
/* Due entries looked at per pass. */
#define OB_BATCH 64
/* Tries of a send before it is given up. */
#define OB_MAX_ATTEMPTS 6
#define OB_RETRY_FIRST_MS 30000
#define OB_RETRY_MAX_MS (30 * 60000)
/* Status queries of a SENT message nobody told us about: 5, 10, 20 min. */
#define OB_CHECK_FIRST_MS (5 * 60000)
#define OB_MAX_CHECKS 3
/* A pass when nothing wakes the sender earlier (wall clock). */
#define OB_IDLE_MS 60000
#define OB_TEXT_MAX 1024
#define OB_PHONE_MAX 16

#define NST(x) OSPAY__V1__NOTIFICATION_STATUS__NOTIFICATION_STATUS_##x
#define NKIND(x) OSPAY__V1__NOTIFICATION_KIND__NOTIFICATION_KIND_##x
#define CHG(x) OSPAY__V1__CHARGE_STATUS__CHARGE_STATUS_##x

/* ------------------------------------------------------------------ keys */

#define DUE_LEN 16
#define OBJ_LEN 18
#define PROV_CAP (8 + GW_ID_MAX)

static void due_key(uint8_t k[DUE_LEN], int64_t when, uint64_t id)
{
	be64_put_i64(k, when);
	be64_put(k + 8, id);
}

static void obj_key(uint8_t k[OBJ_LEN], int obj, uint64_t obj_id, int kind, uint64_t event)
{
	k[0] = (uint8_t)obj;
	be64_put(k + 1, obj_id);
	k[9] = (uint8_t)kind;
	be64_put(k + 10, event);
}

static size_t prov_key(uint8_t k[PROV_CAP], uint64_t org, const char *msg_id)
{
	size_t n = strnlen(msg_id, GW_ID_MAX - 1);
	be64_put(k, org);
	memcpy(k + 8, msg_id, n);
	return 8 + n;
}

static int due_put(store_txn_t *txn, int64_t when, uint64_t id)
{
	uint8_t k[DUE_LEN];
	due_key(k, when, id);
	return store_put(txn, DB_OUTBOX_DUE, k, sizeof(k), "", 0, 0);
}

/* Removes a due entry; one that is not there is fine. */
static int due_del(store_txn_t *txn, int64_t when, uint64_t id)
{
	uint8_t k[DUE_LEN];
	due_key(k, when, id);
	int rc = store_del(txn, DB_OUTBOX_DUE, k, sizeof(k), NULL, 0);
	return rc == -ENOENT ? 0 : rc;
}

static int rec_load(store_txn_t *txn, uint64_t id, Ospay__V1__OutboxMessageRecord **out)
{
	int rc = db_get_by_id(txn, DB_OUTBOX, id, &ospay__v1__outbox_message_record__descriptor,
			      (ProtobufCMessage **)out);
	if (rc == 0 && (*out)->notification == NULL) {
		ospay__v1__outbox_message_record__free_unpacked(*out, NULL);
		*out = NULL;
		rc = -EBADMSG;
	}
	return rc;
}

/* ------------------------------------------------------------------ the sender's state */

typedef struct outbox {
	srv_job_life_t life; /* first: how it ends (job.h) */
	srv_t *s;
	uv_timer_t timer;
	unsigned inflight;
	uint64_t busy[OB_INFLIGHT]; /* ids of the messages in flight (0: free slot) */
} outbox_t;

static void on_timer(uv_timer_t *t);

/* Soon, not now: the write that asks is committed at the end of this loop
 * turn, and a pass reads only what is committed. */
static void ob_kick_in(outbox_t *ob, uint64_t ms)
{
	if (ob != NULL && !ob->life.stopping)
		uv_timer_start(&ob->timer, on_timer, ms, 0);
}

static void ob_kick_later(outbox_t *ob)
{
	ob_kick_in(ob, 1);
}

/* Does the message need its due entry at when? Any other entry is stale. */
static bool entry_needed(const Ospay__V1__Notification *n, int64_t when)
{
	switch ((int)n->status) {
	case NST(QUEUED):
		return n->next_attempt_ms == when;
	case NST(SENDING):
		return when == 0;
	case NST(SENT):
		return when != 0 && n->next_attempt_ms == when && n->provider_message_id[0] != '\0';
	default:
		return false;
	}
}

/* ------------------------------------------------------------------ statuses */

/* Forward order; FAILED ends anything before DELIVERED. */
static int status_rank(int st)
{
	switch (st) {
	case NST(QUEUED):
		return 1;
	case NST(SENDING):
		return 2;
	case NST(SENT):
		return 3;
	case NST(DELIVERED):
		return 4;
	case NST(READ):
		return 5;
	default:
		return 0;
	}
}

/* ZapMe's status word as an outbox status; 0 when it says nothing new
 * ("message_sent", "pending"). Only message_sent and missing_number are
 * documented (reference 4); the rest is read by what the word says. */
static int status_of_word(const char *w)
{
	if (strcasecmp(w, "delivered") == 0 || strcasecmp(w, "received") == 0)
		return NST(DELIVERED);
	if (strcasecmp(w, "read") == 0 || strcasecmp(w, "seen") == 0 ||
	    strcasecmp(w, "viewed") == 0)
		return NST(READ);
	if (strcasecmp(w, "missing_number") == 0 || strstr(w, "fail") != NULL ||
	    strstr(w, "invalid") != NULL || strstr(w, "error") != NULL ||
	    strstr(w, "undeliver") != NULL)
		return NST(FAILED);
	return 0;
}

/*
 * What the notifier says of a message, into n (whose strings the caller
 * keeps alive): never backwards, nothing after FAILED, FAILED never after
 * DELIVERED. Leaves the due index when the message needs nothing more.
 * True when n changed.
 */
static int ob_apply_word(store_txn_t *txn, Ospay__V1__Notification *n, const char *word,
			 char *last_error, size_t cap, int64_t now_ms, bool *changed)
{
	int to = status_of_word(word);
	int from = (int)n->status;
	*changed = false;
	if (to == 0 || from == NST(FAILED) || from == NST(QUEUED) || from == NST(SENDING))
		return 0;
	if (to == NST(FAILED) ? status_rank(from) >= status_rank(NST(DELIVERED))
			      : status_rank(to) <= status_rank(from))
		return 0;
	int rc = due_del(txn, n->next_attempt_ms, n->id);
	if (rc != 0)
		return rc;
	n->status = to;
	n->next_attempt_ms = 0;
	n->updated_ms = now_ms;
	if (to != NST(FAILED) && n->delivered_ms == 0)
		n->delivered_ms = now_ms;
	if (to == NST(FAILED)) {
		snprintf(last_error, cap, "ZapMe could not deliver it: %s", word);
		n->last_error = last_error;
	}
	*changed = true;
	return 0;
}

/* ------------------------------------------------------------------ enqueue */

typedef struct ob_event {
	uint64_t org, unit, customer;
	int kind;
	int obj;
	uint64_t obj_id;
	uint64_t event; /* what makes the event unique within its object and kind */
	uint64_t order_id, invoice_id, charge_id, service_id;
} ob_event_t;

/* "+55 11 98765-4321" -> "5511987654321"; false when not a usable number. */
static bool phone_digits(const char *in, char out[OB_PHONE_MAX])
{
	size_t n = 0;
	for (const char *p = in; *p != '\0'; p++) {
		if (*p >= '0' && *p <= '9') {
			if (n + 1 >= OB_PHONE_MAX)
				return false;
			out[n++] = *p;
		}
	}
	out[n] = '\0';
	return n >= 10;
}

/* The first name of a customer, for a greeting. */
static void first_name(const char *name, char *out, size_t cap)
{
	size_t n = strcspn(name, " ");
	if (n >= cap)
		n = cap - 1;
	memcpy(out, name, n);
	out[n] = '\0';
}

/* "YYYY-MM-DD" -> "DD/MM/YYYY" (as it is when not that shape). */
static void date_br(const char *iso, char *out, size_t cap)
{
	if (strlen(iso) == 10 && iso[4] == '-' && iso[7] == '-')
		snprintf(out, cap, "%.2s/%.2s/%.4s", iso + 8, iso + 5, iso);
	else
		snprintf(out, cap, "%s", iso);
}

/* A service's plan name ("Fibra 500") into out; "" when there is none to name. */
static void plan_name(store_txn_t *txn, uint64_t service_id, char *out, size_t cap)
{
	Ospay__V1__CustomerService *svc = NULL;
	out[0] = '\0';
	if (service_id != 0 && kit_load(txn, DB_SERVICES, service_id,
					&ospay__v1__customer_service__descriptor, &svc) == 0)
		snprintf(out, cap, "%s", svc->plan_name);
	ospay__v1__customer_service__free_unpacked(svc, NULL);
}

/*
 * Does a failed charge get a second attempt tomorrow? The billing run's schedule
 * (docs/billing.md, "The attempt schedule"): a recurring attempt 1 made on the
 * due day and not declined for good is tried again on D+1; attempt 1 made on
 * D+1 is the last.
 */
static bool retry_tomorrow(const Ospay__V1__Charge *c, const Ospay__V1__Invoice *inv)
{
	return c->recurring && c->attempt == 1 && !c->irreversible &&
	       c->status != OSPAY__V1__CHARGE_STATUS__CHARGE_STATUS_NO_VALID_CARD &&
	       strcmp(c->local_date, inv->due_date) == 0;
}

/*
 * Queues one message in txn: nothing when the organization has no notifier,
 * or when this event already has its message. text is a printf format whose
 * first argument is the customer's first name.
 */
static int ob_enqueue(srv_t *s, store_txn_t *txn, const ob_event_t *e, int64_t now_ms,
		      const char *fmt, ...) __attribute__((format(printf, 5, 6)));

static int ob_enqueue(srv_t *s, store_txn_t *txn, const ob_event_t *e, int64_t now_ms,
		      const char *fmt, ...)
{
	Ospay__V1__GatewayRecord *notifier = NULL;
	Ospay__V1__Customer *cust = NULL;
	uint8_t ok[OBJ_LEN], v[8];
	store_val_t val;
	char text[OB_TEXT_MAX], phone[OB_PHONE_MAX], name[64];
	uint64_t id = 0;
	int rc = prov_settings_get(txn, e->org, SRV_SERVICE_ZAPME, &notifier);
	if (rc == -ENOENT) {
		rc = 0; /* no notifier: nothing to send */
		goto out;
	}
	if (rc != 0)
		goto out;
	obj_key(ok, e->obj, e->obj_id, e->kind, e->event);
	rc = store_get(txn, DB_OUTBOX_OBJ, ok, sizeof(ok), &val);
	if (rc != -ENOENT)
		goto out; /* 0: this event has its message already */
	rc = kit_load(txn, DB_CUSTOMERS, e->customer, &ospay__v1__customer__descriptor, &cust);
	if (rc != 0)
		goto out;
	first_name(cust->name, name, sizeof(name));
	va_list ap;
	va_start(ap, fmt);
	char body[OB_TEXT_MAX - 80];
	vsnprintf(body, sizeof(body), fmt, ap);
	va_end(ap);
	snprintf(text, sizeof(text), "Olá, %s! %s", name, body);
	rc = store_seq_next(txn, "outbox", &id);
	if (rc != 0)
		goto out;
	Ospay__V1__Notification n = OSPAY__V1__NOTIFICATION__INIT;
	n.id = id;
	n.kind = e->kind;
	n.channel = notifier->channel == OSPAY__V1__NOTIFIER_CHANNEL__NOTIFIER_CHANNEL_SMS
			    ? OSPAY__V1__NOTIFIER_CHANNEL__NOTIFIER_CHANNEL_SMS
			    : OSPAY__V1__NOTIFIER_CHANNEL__NOTIFIER_CHANNEL_WHATSAPP;
	n.unit_id = e->unit;
	n.customer_id = e->customer;
	n.order_id = e->order_id;
	n.invoice_id = e->invoice_id;
	n.charge_id = e->charge_id;
	n.service_id = e->service_id;
	n.text = text;
	n.created_ms = n.updated_ms = now_ms;
	bool usable = phone_digits(cust->phone, phone);
	if (usable) {
		n.status = NST(QUEUED);
		n.next_attempt_ms = now_ms;
		rc = due_put(txn, now_ms, id);
	} else {
		/* Kept, so people see why the customer was not told. */
		n.status = NST(FAILED);
		n.last_error = "the customer has no usable phone number";
		phone[0] = '\0';
	}
	Ospay__V1__OutboxMessageRecord rec = OSPAY__V1__OUTBOX_MESSAGE_RECORD__INIT;
	rec.notification = &n;
	rec.organization_id = e->org;
	rec.phone = phone;
	if (rc == 0)
		rc = db_put_by_id(txn, DB_OUTBOX, id, &rec.base);
	be64_put(v, id);
	if (rc == 0)
		rc = store_put(txn, DB_OUTBOX_OBJ, ok, sizeof(ok), v, sizeof(v), STORE_NOOVERWRITE);
	if (rc == 0 && usable)
		ob_kick_later(s->outbox);
out:
	if (cust != NULL)
		ospay__v1__customer__free_unpacked(cust, NULL);
	if (notifier != NULL)
		ospay__v1__gateway_record__free_unpacked(notifier, NULL);
	return rc;
}

int outbox_on_link_created(srv_t *s, store_txn_t *txn, const Ospay__V1__Order *o, int64_t now_ms)
{
	const Ospay__V1__OrderPayment *p = o->payment;
	char amount[40];
	if (p == NULL || p->link_url == NULL || p->link_url[0] == '\0')
		return 0;
	ob_event_t e = {.org = o->organization_id,
			.unit = o->unit_id,
			.customer = o->customer_id,
			.kind = NKIND(PAYMENT_LINK_CREATED),
			.obj = OUTBOX_OBJ_ORDER,
			.obj_id = o->id,
			.event = p->attempt,
			.order_id = o->id};
	money_format_brl(o->amount, amount, sizeof(amount));
	/* People know their contract by its plan, not by an order number alone. */
	bool plan = o->service_plan != NULL && o->service_plan[0] != '\0';
	return ob_enqueue(s, txn, &e, now_ms,
			  "Para pagar a ordem de serviço %" PRIu64 " (%s%s%s), de %s em %u "
			  "parcela%s no cartão de crédito, use este link seguro: %s",
			  o->id, o->kind, plan ? ", plano " : "", plan ? o->service_plan : "",
			  amount, p->installments, p->installments == 1 ? "" : "s", p->link_url);
}

/* A message about charge c of its invoice: one per charge and kind. */
static ob_event_t charge_event(const Ospay__V1__Charge *c, int kind)
{
	return (ob_event_t){.org = c->organization_id,
			    .unit = c->unit_id,
			    .customer = c->customer_id,
			    .kind = kind,
			    .obj = OUTBOX_OBJ_INVOICE,
			    .obj_id = c->invoice_id,
			    .event = c->id,
			    .invoice_id = c->invoice_id,
			    .charge_id = c->id,
			    .service_id = c->service_id};
}

int outbox_on_charge(srv_t *s, store_txn_t *txn, const Ospay__V1__Charge *c, int64_t now_ms)
{
	Ospay__V1__Invoice *inv = NULL;
	char amount[40], due[16];
	/* Pix Automático charges speak of no card: outbox_on_pix_charge tells them. */
	if (c->rail == OSPAY__V1__PAYMENT_RAIL__PAYMENT_RAIL_PIX_AUTOMATICO)
		return 0;
	if (c->status != CHG(DECLINED) && c->status != CHG(ERROR) &&
	    c->status != CHG(NO_VALID_CARD))
		return 0;
	int rc = kit_load(txn, DB_INVOICES, c->invoice_id, &ospay__v1__invoice__descriptor, &inv);
	if (rc != 0)
		return rc;
	ob_event_t e = charge_event(c, NKIND(CHARGE_FAILED));
	money_format_brl(inv->amount, amount, sizeof(amount));
	date_br(inv->due_date, due, sizeof(due));
	char plan[128], what[160];
	plan_name(txn, c->service_id, plan, sizeof(plan));
	if (plan[0] != '\0')
		snprintf(what, sizeof(what), "do plano %s", plan);
	else
		snprintf(what, sizeof(what), "%" PRIu64, inv->id);
	/* The gateway's message is not quoted: it may repeat request data. */
	if (c->status == CHG(NO_VALID_CARD))
		rc = ob_enqueue(s, txn, &e, now_ms,
				"Não conseguimos cobrar a fatura %s (%s, vencimento %s): não há "
				"cartão válido cadastrado. Atualize seu cartão ou fale conosco.",
				what, amount, due);
	else
		rc = ob_enqueue(
			s, txn, &e, now_ms,
			"A cobrança da fatura %s (%s, vencimento %s) no cartão final %s não "
			"foi aprovada. %s",
			what, amount, due,
			c->card_last4 != NULL && c->card_last4[0] ? c->card_last4 : "-",
			retry_tomorrow(c, inv)
				? "Vamos tentar de novo amanhã; se quiser, atualize seu "
				  "cartão antes ou fale conosco."
				: "Não haverá nova tentativa automática: atualize seu cartão "
				  "ou fale conosco para pagar.");
	ospay__v1__invoice__free_unpacked(inv, NULL);
	return rc;
}

int outbox_on_service_blocked(srv_t *s, store_txn_t *txn, uint64_t invoice_id, uint64_t service_id,
			      int64_t now_ms)
{
	Ospay__V1__Invoice *inv = NULL;
	char amount[40], due[16];
	int rc = kit_load(txn, DB_INVOICES, invoice_id, &ospay__v1__invoice__descriptor, &inv);
	if (rc != 0)
		return rc;
	ob_event_t e = {.org = inv->organization_id,
			.unit = inv->unit_id,
			.customer = inv->customer_id,
			.kind = NKIND(SERVICE_BLOCKED),
			.obj = OUTBOX_OBJ_INVOICE,
			.obj_id = invoice_id,
			.event = service_id,
			.invoice_id = invoice_id,
			.service_id = service_id};
	money_format_brl(inv->amount, amount, sizeof(amount));
	date_br(inv->due_date, due, sizeof(due));
	char plan[128];
	plan_name(txn, service_id, plan, sizeof(plan));
	rc = ob_enqueue(s, txn, &e, now_ms,
			"Seu serviço%s%s foi bloqueado porque a fatura %" PRIu64
			" (%s, vencimento %s) está em aberto. Ele volta a funcionar "
			"assim que o pagamento for confirmado.",
			plan[0] != '\0' ? " " : "", plan, invoice_id, amount, due);
	ospay__v1__invoice__free_unpacked(inv, NULL);
	return rc;
}

int outbox_on_pix_auth(srv_t *s, store_txn_t *txn, const Ospay__V1__CustomerService *svc, int kind,
		       uint64_t event, const char *text, int64_t now_ms, bool *queued)
{
	Ospay__V1__OutboxMessageRecord *rec = NULL;
	uint8_t ok[OBJ_LEN];
	store_val_t v;
	ob_event_t e = {.org = svc->organization_id,
			.unit = svc->unit_id,
			.customer = svc->customer_id,
			.kind = kind,
			.obj = OUTBOX_OBJ_SERVICE,
			.obj_id = svc->id,
			.event = event,
			.service_id = svc->id};
	int rc = ob_enqueue(s, txn, &e, now_ms, "%s", text);
	if (rc != 0 || queued == NULL)
		return rc;
	/* What ob_enqueue did (or had done for this event): a message not FAILED. */
	*queued = false;
	obj_key(ok, e.obj, e.obj_id, e.kind, e.event);
	rc = store_get(txn, DB_OUTBOX_OBJ, ok, sizeof(ok), &v);
	if (rc == -ENOENT)
		return 0;
	if (rc == 0 && v.len != 8)
		rc = -EBADMSG;
	if (rc == 0)
		rc = rec_load(txn, be64_get(v.data), &rec);
	if (rc == 0)
		*queued = rec->notification->status != NST(FAILED);
	ospay__v1__outbox_message_record__free_unpacked(rec, NULL);
	return rc;
}

/* ------------------------------------------------------------------ status answers */

int outbox_on_message_status(store_txn_t *txn, uint64_t org, const char *message_id,
			     const char *status, int64_t now_ms)
{
	Ospay__V1__OutboxMessageRecord *rec = NULL;
	uint8_t k[PROV_CAP];
	store_val_t v;
	char err[GW_MSG_MAX], word[GW_STATUS_MAX];
	bool changed = false;
	if (message_id == NULL || message_id[0] == '\0' || status == NULL)
		return 0;
	int rc = store_get(txn, DB_OUTBOX_PROVIDER, k, prov_key(k, org, message_id), &v);
	if (rc == -ENOENT)
		return 0;
	if (rc != 0)
		return rc;
	if (v.len != 8)
		return -EBADMSG;
	rc = rec_load(txn, be64_get(v.data), &rec);
	if (rc != 0)
		return rc == -ENOENT ? 0 : rc;
	Ospay__V1__Notification n = *rec->notification;
	snprintf(word, sizeof(word), "%s", status);
	rc = ob_apply_word(txn, &n, word, err, sizeof(err), now_ms, &changed);
	if (rc == 0 && changed) {
		n.provider_status = word;
		Ospay__V1__OutboxMessageRecord r2 = *rec;
		r2.notification = &n;
		rc = db_put_by_id(txn, DB_OUTBOX, n.id, &r2.base);
		log_info("notification status", "id=%" PRIu64 " status=%d", n.id, (int)n.status);
	}
	ospay__v1__outbox_message_record__free_unpacked(rec, NULL);
	return rc;
}

/* ------------------------------------------------------------------ lists */

int outbox_list(store_txn_t *txn, enum outbox_object kind, uint64_t id,
		Ospay__V1__Notification ***out, size_t *n)
{
	store_cursor_t *cur = NULL;
	store_val_t k, v;
	uint8_t from[OBJ_LEN];
	Ospay__V1__Notification **vec = NULL;
	size_t cnt = 0;
	*out = NULL;
	*n = 0;
	obj_key(from, kind, id, 0, 0);
	int rc = store_cursor_open(txn, DB_OUTBOX_OBJ, &cur);
	for (rc = rc == 0 ? store_cursor_seek(cur, from, sizeof(from), &k, &v) : rc;
	     rc == 0 && cnt < OUTBOX_LIST_MAX; rc = store_cursor_next(cur, &k, &v)) {
		if (k.len != OBJ_LEN || memcmp(k.data, from, 9) != 0)
			break;
		Ospay__V1__OutboxMessageRecord *rec = NULL;
		if (v.len != 8 || rec_load(txn, be64_get(v.data), &rec) != 0)
			continue; /* an index entry without its message: not shown */
		Ospay__V1__Notification **nv = realloc(vec, (cnt + 1) * sizeof(*vec));
		if (nv == NULL) {
			ospay__v1__outbox_message_record__free_unpacked(rec, NULL);
			rc = -ENOMEM;
			break;
		}
		vec = nv;
		/* The notification keeps its own allocation; the record shell goes. */
		vec[cnt++] = rec->notification;
		rec->notification = NULL;
		ospay__v1__outbox_message_record__free_unpacked(rec, NULL);
	}
	store_cursor_close(cur);
	if (rc != 0 && rc != -ENOENT) {
		outbox_list_free(vec, cnt);
		return rc;
	}
	/* Oldest first: ids grow with time, the index is by kind then event. */
	for (size_t i = 1; i < cnt; i++)
		for (size_t j = i; j > 0 && vec[j - 1]->id > vec[j]->id; j--) {
			Ospay__V1__Notification *t = vec[j];
			vec[j] = vec[j - 1];
			vec[j - 1] = t;
		}
	*out = vec;
	*n = cnt;
	return 0;
}

void outbox_list_free(Ospay__V1__Notification **v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		ospay__v1__notification__free_unpacked(v[i], NULL);
	free(v);
}

/* ------------------------------------------------------------------ jobs */

enum ob_what { OB_SEND, OB_CHECK, OB_ORPHAN, OB_STALE };

struct ob_msg;

typedef struct ob_job {
	outbox_t *ob; /* the sender it runs in */
	enum ob_what what;
	/* What its next write does to its message (job_write_fn). */
	int (*step)(store_txn_t *txn, struct ob_job *j, struct ob_msg *m);
	uint64_t id, org;
	int64_t due_ms; /* the due entry the job was started from */
	int channel;
	char phone[OB_PHONE_MAX];
	char text[OB_TEXT_MAX];
	char msg_id[GW_ID_MAX];
	/* The call's result. */
	int outcome;
	long http_status;
	int call_err; /* the call could not start: -errno */
	char word[GW_STATUS_MAX];
	char message[GW_MSG_MAX];
	char err[GW_MSG_MAX + 64];
} ob_job_t;

static void job_done_after(ob_job_t *j, uint64_t ms)
{
	outbox_t *ob = j->ob;
	for (size_t i = 0; i < OB_INFLIGHT; i++)
		if (ob->busy[i] == j->id) {
			ob->busy[i] = 0;
			break;
		}
	ob->inflight--;
	free(j);
	if (!ob->life.stopping)
		ob_kick_in(ob, ms);
	else
		srv_job_release(&ob->life);
}

static void job_done(ob_job_t *j)
{
	job_done_after(j, 1);
}

static bool in_flight(const outbox_t *ob, uint64_t id)
{
	for (size_t i = 0; i < OB_INFLIGHT; i++)
		if (ob->busy[i] == id)
			return true;
	return false;
}

/* The delay before try attempts + 1: 30 s doubling, capped. */
static int64_t retry_delay(uint32_t attempts)
{
	int64_t d = OB_RETRY_FIRST_MS;
	for (uint32_t i = 1; i < attempts && d < OB_RETRY_MAX_MS; i++)
		d *= 2;
	return d < OB_RETRY_MAX_MS ? d : OB_RETRY_MAX_MS;
}

/*
 * A job's message while its write changes it: n is a copy of the stored
 * notification and r2 of the record, pointing at n, so that n may point at the
 * job's strings while rec (freed after the write) keeps its own.
 */
typedef struct ob_msg {
	Ospay__V1__OutboxMessageRecord *rec;
	Ospay__V1__OutboxMessageRecord r2;
	Ospay__V1__Notification n;
} ob_msg_t;

/* Writes the message back: the record with its changed notification. */
static int msg_put(store_txn_t *txn, ob_msg_t *m)
{
	return db_put_by_id(txn, DB_OUTBOX, m->n.id, &m->r2.base);
}

/* A due entry the message no longer needs goes (it changed meanwhile). */
static int entry_drop_stale(store_txn_t *txn, const ob_job_t *j, const Ospay__V1__Notification *n)
{
	return entry_needed(n, j->due_ms) ? 0 : due_del(txn, j->due_ms, j->id);
}

/* QUEUED -> SENDING, durable before the call; -EALREADY when it is no longer due. */
static int mark_step(store_txn_t *txn, ob_job_t *j, ob_msg_t *m)
{
	Ospay__V1__Notification *n = &m->n;
	if (n->status != NST(QUEUED) || n->next_attempt_ms != j->due_ms)
		return -EALREADY;
	int rc = due_del(txn, n->next_attempt_ms, n->id);
	if (rc == 0)
		rc = due_put(txn, 0, n->id);
	n->status = NST(SENDING);
	n->attempts++;
	n->next_attempt_ms = 0;
	n->updated_ms = srv_now_ms(j->ob->s);
	if (rc == 0)
		rc = msg_put(txn, m);
	return rc;
}

/* A send's answer: SENT, QUEUED again, or FAILED. */
static int result_step(store_txn_t *txn, ob_job_t *j, ob_msg_t *m)
{
	Ospay__V1__Notification *n = &m->n;
	int64_t now = srv_now_ms(j->ob->s);
	if (n->status != NST(SENDING))
		return -EALREADY;
	int rc = due_del(txn, 0, n->id);
	if (rc != 0)
		return rc;
	n->updated_ms = now;
	n->next_attempt_ms = 0;
	bool retry = false, failed = false;
	if (j->call_err != 0) {
		/* Nothing reached ZapMe. */
		retry = j->call_err == -EAGAIN || j->call_err == -ENOMEM ||
			j->call_err == -ENOENT || j->call_err == -ESHUTDOWN;
		failed = !retry;
		snprintf(j->err, sizeof(j->err), "%s",
			 j->call_err == -ENOTSUP ? "ZapMe sends WhatsApp messages only (no SMS)"
			 : j->call_err == -EINVAL
				 ? "ZapMe does not accept this phone number or text"
			 : j->call_err == -ENOENT ? "no notifier configured"
						  : "the notifier could not be called");
	} else {
		switch (j->outcome) {
		case GW_OUTCOME_APPROVED:
		case GW_OUTCOME_PENDING:
			break;
		case GW_OUTCOME_ERROR_RETRYABLE:
		case GW_OUTCOME_AUTH_FAILED:
			/* Nothing was sent (or credentials an operator can fix). */
			retry = true;
			break;
		case GW_OUTCOME_UNKNOWN:
			/* An HTTP error answer is ZapMe saying it failed: tried again. No
			 * answer at all (timeout, reset after sending) may hide a sent
			 * message, and ZapMe has no idempotency key: not sent twice. */
			retry = j->http_status >= 500;
			failed = !retry;
			break;
		default:
			failed = true;
			break;
		}
		snprintf(j->err, sizeof(j->err), "%s%s", j->message,
			 failed && j->outcome == GW_OUTCOME_UNKNOWN
				 ? " (no answer: it may have been sent, so it is not sent again)"
				 : "");
	}
	if (retry && n->attempts >= OB_MAX_ATTEMPTS) {
		retry = false;
		failed = true;
		char why[sizeof(j->err)];
		snprintf(why, sizeof(why), "%s", j->err);
		snprintf(j->err, sizeof(j->err), "given up after %u tries: %.256s", n->attempts,
			 why);
	}
	if (retry) {
		n->status = NST(QUEUED);
		n->next_attempt_ms = now + retry_delay(n->attempts);
		n->last_error = j->err;
		rc = due_put(txn, n->next_attempt_ms, n->id);
	} else if (failed) {
		n->status = NST(FAILED);
		n->last_error = j->err;
	} else {
		n->status = NST(SENT);
		n->sent_ms = now;
		n->last_error = "";
		n->provider_message_id = j->msg_id;
		n->provider_status = j->word;
		if (j->msg_id[0] != '\0') {
			uint8_t k[PROV_CAP], v[8];
			be64_put(v, n->id);
			rc = store_put(txn, DB_OUTBOX_PROVIDER, k, prov_key(k, j->org, j->msg_id),
				       v, sizeof(v), 0);
			/* Makes ZapMe's webhooks about it acceptable (webhooks.c). */
			if (rc == 0)
				rc = prov_object_register(txn, j->org, SRV_SERVICE_ZAPME, j->msg_id,
							  now);
			n->next_attempt_ms = now + OB_CHECK_FIRST_MS;
			if (rc == 0)
				rc = due_put(txn, n->next_attempt_ms, n->id);
		}
	}
	if (rc == 0)
		rc = msg_put(txn, m);
	if (rc == 0)
		log_info("notification", "id=%" PRIu64 " status=%d attempts=%u", n->id,
			 (int)n->status, n->attempts);
	return rc;
}

/* A status query's answer for a SENT message, or the next query scheduled. */
static int check_step(store_txn_t *txn, ob_job_t *j, ob_msg_t *m)
{
	Ospay__V1__Notification *n = &m->n;
	int64_t now = srv_now_ms(j->ob->s);
	char err[GW_MSG_MAX];
	bool changed = false;
	int rc = 0;
	/* Changed meanwhile (a webhook): the entry goes unless it is needed. */
	if (n->status != NST(SENT) || n->next_attempt_ms != j->due_ms)
		return entry_drop_stale(txn, j, n);
	if (j->word[0] != '\0')
		rc = ob_apply_word(txn, n, j->word, err, sizeof(err), now, &changed);
	if (rc == 0 && changed)
		n->provider_status = j->word;
	if (rc == 0 && !changed) {
		rc = due_del(txn, n->next_attempt_ms, n->id);
		m->r2.status_checks++;
		n->next_attempt_ms =
			m->r2.status_checks < OB_MAX_CHECKS
				? now + ((int64_t)OB_CHECK_FIRST_MS << m->r2.status_checks)
				: 0;
		if (rc == 0 && n->next_attempt_ms != 0)
			rc = due_put(txn, n->next_attempt_ms, n->id);
	}
	if (rc == 0)
		rc = msg_put(txn, m);
	return rc;
}

/* A SENDING message nothing here is sending (a crash), or a stale entry. */
static int orphan_step(store_txn_t *txn, ob_job_t *j, ob_msg_t *m)
{
	Ospay__V1__Notification *n = &m->n;
	/* Not what the entry says: the entry goes unless it is needed now. */
	if (j->what == OB_STALE || n->status != NST(SENDING) || j->due_ms != 0)
		return entry_drop_stale(txn, j, n);
	int rc = due_del(txn, 0, n->id);
	n->status = NST(FAILED);
	n->updated_ms = srv_now_ms(j->ob->s);
	n->last_error = "interrupted while being sent (ospayd stopped); ZapMe has no idempotency "
			"key, so it is not sent again: it may or may not have reached the customer";
	if (rc == 0)
		rc = msg_put(txn, m);
	if (rc == 0)
		log_warn("notification interrupted while sending: not sent again", "id=%" PRIu64,
			 n->id);
	return rc;
}

/*
 * A job's write (store_write_fn): its message loaded, then its step. A send's
 * message that is gone fails the write; any other job's entry without its
 * message goes.
 */
static int job_write_fn(store_txn_t *txn, void *arg)
{
	ob_job_t *j = arg;
	ob_msg_t m = {0};
	int rc = rec_load(txn, j->id, &m.rec);
	if ((rc == -ENOENT || rc == -EBADMSG) && j->what != OB_SEND)
		return due_del(txn, j->due_ms, j->id);
	if (rc != 0)
		return rc;
	m.n = *m.rec->notification;
	m.r2 = *m.rec;
	m.r2.notification = &m.n;
	rc = j->step(txn, j, &m);
	ospay__v1__outbox_message_record__free_unpacked(m.rec, NULL);
	return rc;
}

static void write_done(void *arg, int rc)
{
	ob_job_t *j = arg;
	if (rc != 0 && rc != -EALREADY)
		log_error("outbox: a write failed; the message is looked at again",
			  "id=%" PRIu64 " err=%d", j->id, rc);
	/* A failing write is not retried in a tight loop. */
	job_done_after(j, rc != 0 && rc != -EALREADY ? 1000 : 1);
}

static void job_write(ob_job_t *j, int (*step)(store_txn_t *, ob_job_t *, ob_msg_t *))
{
	outbox_t *ob = j->ob;
	j->step = step;
	if (ob->life.stopping) {
		/* Shutting down: the message stays as stored; the next start sees it. */
		job_done(j);
		return;
	}
	int rc = store_write(ob->s->store, job_write_fn, write_done, j);
	if (rc != 0)
		write_done(j, rc);
}

static void take_result(ob_job_t *j, const gw_message_result_t *res)
{
	j->outcome = res->r.outcome;
	j->http_status = res->r.http_status;
	snprintf(j->word, sizeof(j->word), "%s", res->status);
	/* Messages of the adapter are already free of secrets (gateway.h). */
	snprintf(j->message, sizeof(j->message), "%s", res->r.message);
	if (j->what == OB_SEND)
		snprintf(j->msg_id, sizeof(j->msg_id), "%s", res->message_id);
}

static void on_sent(const gw_message_result_t *res, void *arg)
{
	ob_job_t *j = arg;
	take_result(j, res);
	j->phone[0] = '\0';
	job_write(j, result_step);
}

static void on_checked(const gw_message_result_t *res, void *arg)
{
	ob_job_t *j = arg;
	take_result(j, res);
	/* A failed query tells nothing: the next one is scheduled. */
	if (res->r.outcome != GW_OUTCOME_APPROVED && res->r.outcome != GW_OUTCOME_DECLINED &&
	    res->r.outcome != GW_OUTCOME_PENDING)
		j->word[0] = '\0';
	job_write(j, check_step);
}

/* The notifier call of a job-> */
static void job_call(ob_job_t *j)
{
	outbox_t *ob = j->ob;
	store_txn_t *txn = NULL;
	gw_t *gw = NULL;
	int rc = store_read_begin(ob->s->store, &txn);
	if (rc == 0) {
		rc = prov_adapter(ob->s, txn, j->org, SRV_SERVICE_ZAPME, &gw);
		store_read_end(txn);
	}
	if (rc == 0 && j->what == OB_SEND) {
		gw_message_req_t req = {
			.phone = j->phone,
			.text = j->text,
			.channel = j->channel == OSPAY__V1__NOTIFIER_CHANNEL__NOTIFIER_CHANNEL_SMS
					   ? GW_CHANNEL_SMS
					   : GW_CHANNEL_WHATSAPP,
		};
		rc = gw_send_message(gw, &req, on_sent, j);
	} else if (rc == 0) {
		rc = gw_message_status(gw, j->msg_id, on_checked, j);
	}
	if (rc == 0)
		return;
	log_warn("outbox: notifier call not made", "id=%" PRIu64 " err=%d", j->id, rc);
	j->call_err = rc;
	job_write(j, j->what == OB_SEND ? result_step : check_step);
}

static void marked(void *arg, int rc)
{
	ob_job_t *j = arg;
	outbox_t *ob = j->ob;
	if (rc != 0 || ob->life.stopping) {
		write_done(j, rc);
		return;
	}
	job_call(j);
}

static void job_start(ob_job_t *j)
{
	outbox_t *ob = j->ob;
	int rc;
	switch (j->what) {
	case OB_SEND:
		if (ob->life.stopping) {
			job_done(j);
			return;
		}
		j->step = mark_step;
		rc = store_write(ob->s->store, job_write_fn, marked, j);
		if (rc != 0)
			marked(j, rc);
		return;
	case OB_CHECK:
		job_call(j);
		return;
	default:
		job_write(j, orphan_step);
		return;
	}
}

/* ------------------------------------------------------------------ the pass */

/* A job for the due entry (when, id), or NULL when there is nothing to do. */
static int plan(store_txn_t *txn, int64_t when, uint64_t id, ob_job_t **out)
{
	Ospay__V1__OutboxMessageRecord *rec = NULL;
	*out = NULL;
	int rc = rec_load(txn, id, &rec);
	if (rc != 0 && rc != -ENOENT && rc != -EBADMSG)
		return rc;
	ob_job_t *j = malloc(sizeof(*j));
	if (j == NULL) {
		rc = -ENOMEM;
		goto out;
	}
	*j = (ob_job_t){.id = id, .due_ms = when, .what = OB_STALE};
	if (rec != NULL) {
		const Ospay__V1__Notification *n = rec->notification;
		j->org = rec->organization_id;
		j->channel = (int)n->channel;
		if (n->status == NST(QUEUED) && n->next_attempt_ms == when) {
			j->what = OB_SEND;
			snprintf(j->phone, sizeof(j->phone), "%s", rec->phone);
			snprintf(j->text, sizeof(j->text), "%s", n->text);
		} else if (n->status == NST(SENDING) && when == 0) {
			j->what = OB_ORPHAN;
		} else if (n->status == NST(SENT) && n->next_attempt_ms == when &&
			   n->provider_message_id[0] != '\0') {
			j->what = OB_CHECK;
			snprintf(j->msg_id, sizeof(j->msg_id), "%s", n->provider_message_id);
		}
	}
	*out = j;
	rc = 0;
out:
	ospay__v1__outbox_message_record__free_unpacked(rec, NULL);
	return rc;
}

static void ob_pump(outbox_t *ob)
{
	srv_t *s = ob->s;
	store_txn_t *txn = NULL;
	store_cursor_t *cur = NULL;
	store_val_t k, v;
	ob_job_t *jobs[OB_INFLIGHT];
	size_t nj = 0, seen = 0;
	int64_t now = srv_now_ms(s), next = -1;
	if (ob->life.stopping || s->draining || ob->inflight >= OB_INFLIGHT)
		return;
	if (store_read_begin(s->store, &txn) != 0)
		goto rearm;
	int rc = store_cursor_open(txn, DB_OUTBOX_DUE, &cur);
	for (rc = rc == 0 ? store_cursor_first(cur, &k, &v) : rc;
	     rc == 0 && seen < OB_BATCH && ob->inflight + nj < OB_INFLIGHT;
	     rc = store_cursor_next(cur, &k, &v), seen++) {
		if (k.len != DUE_LEN)
			continue;
		int64_t when = be64_get_i64(k.data);
		uint64_t id = be64_get((const uint8_t *)k.data + 8);
		if (when > now) {
			next = when;
			break;
		}
		if (in_flight(ob, id))
			continue;
		ob_job_t *j = NULL;
		if (plan(txn, when, id, &j) != 0 || j == NULL)
			continue;
		j->ob = ob;
		jobs[nj++] = j;
	}
	store_cursor_close(cur);
	store_read_end(txn);
	/* Writes start after the read: the map may have to grow. */
	for (size_t i = 0; i < nj; i++) {
		for (size_t b = 0; b < OB_INFLIGHT; b++)
			if (ob->busy[b] == 0) {
				ob->busy[b] = jobs[i]->id;
				break;
			}
		ob->inflight++;
	}
	for (size_t i = 0; i < nj; i++)
		job_start(jobs[i]);
	if (nj > 0)
		return; /* each job's end looks again */
rearm:
	if (ob->life.stopping || ob->inflight > 0)
		return;
	/* The test clock moves only by Clock/Advance, which kicks; a second's look
	 * is cheap and covers a kick that came while calls were in flight. */
	uint64_t wait = OB_IDLE_MS;
	if (next >= 0 && !s->opts.test_clock && (uint64_t)(next - now) < wait)
		wait = (uint64_t)(next - now);
	if (next >= 0 && s->opts.test_clock)
		wait = 1000;
	uv_timer_start(&ob->timer, on_timer, wait, 0);
}

/* ------------------------------------------------------------------ lifetime */

static void on_timer(uv_timer_t *t)
{
	ob_pump(t->data);
}

/* Freed once its timer is closed and no message is in flight. */
static bool ob_idle(const void *state)
{
	return ((const outbox_t *)state)->inflight == 0;
}

static int outbox_start(srv_t *s)
{
	outbox_t *ob = srv_job_new(s, sizeof(*ob), ob_idle, free);
	if (ob == NULL)
		return -ENOMEM;
	ob->s = s;
	uv_timer_init(s->loop, &ob->timer);
	ob->timer.data = ob;
	s->outbox = ob;
	/* SENDING messages of a previous run sit at the index's head: the first
	 * pass finds them (nothing is in flight yet) and resolves them. */
	uv_timer_start(&ob->timer, on_timer, 0, 0);
	return 0;
}

static void outbox_kick(srv_t *s)
{
	ob_kick_later(s->outbox);
}

static bool outbox_busy(const srv_t *s)
{
	return s->outbox != NULL && s->outbox->inflight > 0;
}

static void outbox_stop(srv_t *s, srv_job_done_fn done)
{
	outbox_t *ob = s->outbox;
	if (ob == NULL)
		return; /* never started, or stopped already */
	srv_job_close(&ob->life, done, (uv_handle_t *[]){(uv_handle_t *)&ob->timer}, 1);
	s->outbox = NULL;
}

/* ------------------------------------------------------------------ Pix Automático */

int outbox_on_pix_charge(srv_t *s, store_txn_t *txn, const Ospay__V1__Charge *c,
			 enum outbox_pix_event what, const char *next_day, int64_t now_ms)
{
	static const int kinds[] = {
		[OUTBOX_PIX_SCHEDULED] = NKIND(PIX_CHARGE_SCHEDULED),
		[OUTBOX_PIX_RETRY] = NKIND(PIX_RETRY_SCHEDULED),
		[OUTBOX_PIX_FAILED] = NKIND(CHARGE_FAILED),
		[OUTBOX_PIX_CANCELED] = NKIND(PIX_CHARGE_CANCELED),
	};
	Ospay__V1__Invoice *inv = NULL;
	char amount[40], due[16], day[16], plan[128], ref[240], text[OB_TEXT_MAX];
	if ((unsigned)what >= OSPAY_ARRAY_LEN(kinds))
		return -EINVAL;
	int rc = kit_load(txn, DB_INVOICES, c->invoice_id, &ospay__v1__invoice__descriptor, &inv);
	if (rc != 0)
		return rc;
	ob_event_t e = charge_event(c, kinds[what]);
	money_format_brl(c->amount, amount, sizeof(amount));
	date_br(inv->due_date, due, sizeof(due));
	date_br(next_day != NULL ? next_day : "", day, sizeof(day));
	plan_name(txn, c->service_id, plan, sizeof(plan));
	/* "fatura do plano Fibra 500 (R$ 99,90, vencimento 10/03/2027)" */
	if (plan[0] != '\0')
		snprintf(ref, sizeof(ref), "fatura do plano %s (%s, vencimento %s)", plan, amount,
			 due);
	else
		snprintf(ref, sizeof(ref), "fatura %" PRIu64 " (%s, vencimento %s)", inv->id,
			 amount, due);
	/* The PSP's reason is not quoted to the customer (never "saldo insuficiente"). */
	if (what == OUTBOX_PIX_SCHEDULED)
		snprintf(text, sizeof(text),
			 "A %s foi agendada no Pix Automático e será debitada da sua conta em %s.",
			 ref, day);
	else if (what == OUTBOX_PIX_RETRY)
		snprintf(text, sizeof(text),
			 "Vamos tentar de novo o débito da %s pelo Pix Automático em %s.", ref,
			 day);
	else if (what == OUTBOX_PIX_FAILED)
		snprintf(text, sizeof(text),
			 "O débito da %s pelo Pix Automático não foi concluído. %s", ref,
			 day[0] != '\0' ? "Vamos tentar de novo; avisaremos a data."
					: "Não haverá nova tentativa automática: fale conosco para "
					  "pagar.");
	else
		snprintf(text, sizeof(text),
			 "O débito da %s pelo Pix Automático foi cancelado: nada será debitado da "
			 "sua conta.",
			 ref);
	rc = ob_enqueue(s, txn, &e, now_ms, "%s", text);
	ospay__v1__invoice__free_unpacked(inv, NULL);
	return rc;
}

const srv_job_t outbox_job = {"outbox", outbox_start, outbox_kick, outbox_busy, outbox_stop};

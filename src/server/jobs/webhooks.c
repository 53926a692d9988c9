/*
 * Inbound webhooks (docs/spec.md 5): /webhooks/<service>/<organization id>.
 *
 * A request is authenticated first (the organization's own credentials at that
 * service, compared in constant time): failures get 401 and nothing is stored.
 * An unknown service or organization, or a service the organization has not
 * configured, gets the very same 401: from outside, nobody learns which
 * organizations use which service.
 * Then its body is parsed for the provider's event id and references; the
 * reference must name something ospay asked that service for (a provider
 * object of this organization), else 404. An accepted event is written
 * durably, deduplicated by (organization, service, event id), and only then
 * answered 200; a repeat gets 200 and changes nothing.
 *
 * The body is a hint, never the truth: after the commit the event is
 * re-queried with ospay's own credentials, and what the service answers is
 * recorded on the provider object, never moving a final state back. Events
 * waiting for their re-query live in an inbox table ordered by when to try
 * next, so a restart resumes them and failures back off.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "common/crypto.h"
#include "common/log.h"
#include "common/util.h"
#include "core/pix.h"
#include "gateways/gateway.h"
#include "ospay/v1/gateway.pb-c.h"
#include "ospay/v1/records.pb-c.h"
#include "server/db/db.h"
#include "server/jobs/billing_pix.h"
#include "server/jobs/billing_run.h"
#include "server/jobs/outbox.h"
#include "server/jobs/pix_auth.h"
#include "server/jobs/webhooks.h"
#include "server/providers/adapters.h"
#include "server/providers/links.h"
#include "server/providers/objects.h"
#include "server/rpc/srv.h"

#define GWC_SLOTS 64 /* open adapters kept, one per (organization, service) */
/* Re-queries started per pass; the HTTP client's per-service bound queues the rest. */
#define REQUERY_PARALLEL 1024
#define REQUERY_MAX_TRIES 10 /* then the event is left for an operator */
/* Inbox entries looked at per pass: more than queries, so that a backlog's
 * events about one object share a query (see webhooks_kick). */
#define REQUERY_BATCH 4096
/* The one answer to a wrong credential, an unknown organization or service. */
#define WH_UNAUTHORIZED "unauthorized"
#define WH_MAX_HEADERS 64

static void webhooks_kick(srv_t *s);

/* ------------------------------------------------------------------ keys */

enum { EV_WAITING = 0, EV_DONE = 1, EV_GAVE_UP = 2 };

/* next try (ms) | org | kind | event id: the inbox's order. */
static size_t inbox_key(int64_t when, uint64_t org, int kind, const char *event_id, uint8_t *k,
			size_t cap)
{
	be64_put_i64(k, when);
	return 8 + prov_ref_key(org, kind, event_id, k + 8, cap - 8);
}

#define KEY_CAP (8 + 9 + GW_EVENT_ID_MAX)

/* GATEWAY_KIND_PIX_AUTOMATICO: the organization's Pix PSP (docs/pix-automatico.md). */
#define WH_PIX 5
/* Items of one Pix callback stored at most (each is an inbox event). */
#define WH_PIX_ITEMS_MAX 100

/* The provider object an event is about. */
static const char *event_ref(int kind, const Ospay__V1__WebhookEventRecord *ev)
{
	switch (kind) {
	case WH_PIX: /* a cobr's or cob's txid, else a rec's idRec */
		return ev->payment_id[0] != '\0' ? ev->payment_id : ev->order_ref;
	case SRV_SERVICE_PAGOLIVRE:
		return ev->order_ref;
	case SRV_SERVICE_ZAPME:
		return ev->message_id;
	default:
		return ev->payment_id;
	}
}

/* ------------------------------------------------------------------ accepting */

typedef struct wh_accept {
	srv_t *srv;
	https_request_t *req;
	Ospay__V1__WebhookEventRecord ev;
	char event_id[GW_EVENT_ID_MAX];
	char payment_id[GW_ID_MAX], order_ref[GW_ID_MAX], message_id[GW_ID_MAX];
	char hint[GW_STATUS_MAX];
	bool duplicate;
	/* A card gateway's payment id first heard of here: the charge it is about
	 * (found by the notification's order id), registered with the event. */
	uint64_t charge_id;
} wh_accept_t;

static int accept_fn(store_txn_t *txn, void *arg)
{
	wh_accept_t *a = arg;
	uint8_t k[KEY_CAP];
	size_t klen = prov_ref_key(a->ev.organization_id, a->ev.kind, a->event_id, k, sizeof(k));
	store_val_t v;
	int rc = store_get(txn, DB_WEBHOOK_EVENTS, k, klen, &v);
	a->duplicate = rc == 0;
	if (rc == 0 && !a->ev.derived_id)
		return 0;
	if (rc != 0 && rc != -ENOENT)
		return rc;
	/*
	 * An id derived from the content (Cielo sends none) repeats whenever the
	 * same notification does, and also when the same payment really changes
	 * again with the same change type: such a repeat changes no event, but
	 * the payment is queried once more.
	 */
	if (rc == -ENOENT)
		rc = db_put_msg(txn, DB_WEBHOOK_EVENTS, k, klen, &a->ev.base, 0);
	else
		rc = 0;
	if (rc == 0) {
		uint8_t ik[KEY_CAP];
		size_t ilen = inbox_key(a->ev.received_ms, a->ev.organization_id, a->ev.kind,
					a->event_id, ik, sizeof(ik));
		rc = store_put(txn, DB_WEBHOOK_INBOX, ik, ilen, "", 0, 0);
	}
	if (rc == 0 && a->charge_id != 0)
		rc = prov_object_register_charge(txn, a->ev.organization_id, a->ev.kind,
						 a->payment_id, a->charge_id, a->ev.received_ms);
	return rc;
}

static void respond(https_request_t *req, int status, const char *text)
{
	char body[300];
	int n = snprintf(body, sizeof(body), "%s\n", text);
	https_respond(req, status, "text/plain; charset=utf-8", body,
		      n > 0 && (size_t)n < sizeof(body) ? (size_t)n : strlen(body), NULL);
}

/* The answer once an event's write ended (rc): stored, a duplicate, or not
 * stored; kick: the re-query pass runs now (when stored). */
static void answer_stored(srv_t *s, https_request_t *req, int rc, bool duplicate, bool kick)
{
	if (rc != 0) {
		s->wh_stats.failed++;
		respond(req, 503, "could not store the event; send it again");
		return;
	}
	if (duplicate) {
		s->wh_stats.duplicates++;
		respond(req, 200, "duplicate: already received");
	} else {
		s->wh_stats.accepted++;
		respond(req, 200, "ok");
	}
	if (kick)
		webhooks_kick(s);
}

/* The adapter of the event's service could not be had (rc): an unknown
 * organization and an unconfigured service look the same from outside, and the
 * same as wrong credentials. */
static void refuse_no_adapter(srv_t *s, https_request_t *req, int rc)
{
	s->wh_stats.rejected++;
	respond(req, rc == -ENOENT ? 401 : 503,
		rc == -ENOENT ? WH_UNAUTHORIZED : "service unavailable");
}

static void accept_done(void *arg, int rc)
{
	wh_accept_t *a = arg;
	/* A repeated derived id is queried once more (accept_fn). */
	answer_stored(a->srv, a->req, rc, a->duplicate, !a->duplicate || a->ev.derived_id);
	free(a);
}

/* Does the event name something ospay asked this service for? */
static bool reference_known(store_txn_t *txn, uint64_t org, int kind, const char *ref)
{
	uint8_t k[9 + GW_ID_MAX];
	store_val_t v;
	if (ref[0] == '\0')
		return false;
	size_t klen = prov_ref_key(org, kind, ref, k, sizeof(k));
	return store_get(txn, DB_GW_OBJECTS, k, klen, &v) == 0;
}

/* ------------------------------------------------------------------ Pix callbacks */

/* One item of a Pix callback, accepted as its own event. */
typedef struct wh_pix_item {
	char event_id[GW_EVENT_ID_MAX];
	char txid[GW_ID_MAX], id_rec[GW_ID_MAX], hint[GW_STATUS_MAX];
	int event_kind;
} wh_pix_item_t;

typedef struct wh_pix_accept {
	srv_t *srv;
	https_request_t *req;
	uint64_t org;
	size_t n, n_new;
	wh_pix_item_t items[];
} wh_pix_accept_t;

static int pix_accept_fn(store_txn_t *txn, void *arg)
{
	wh_pix_accept_t *a = arg;
	int64_t now = srv_now_ms(a->srv);
	a->n_new = 0;
	int rc = 0;
	for (size_t i = 0; i < a->n && rc == 0; i++) {
		wh_pix_item_t *it = &a->items[i];
		uint8_t k[KEY_CAP];
		store_val_t v;
		size_t klen = prov_ref_key(a->org, WH_PIX, it->event_id, k, sizeof(k));
		rc = store_get(txn, DB_WEBHOOK_EVENTS, k, klen, &v);
		if (rc == 0)
			continue; /* the same item again: settled once */
		if (rc != -ENOENT)
			break;
		Ospay__V1__WebhookEventRecord ev = OSPAY__V1__WEBHOOK_EVENT_RECORD__INIT;
		ev.organization_id = a->org;
		ev.kind = WH_PIX;
		ev.event_id = it->event_id;
		ev.derived_id = true;
		ev.event_kind = it->event_kind;
		ev.payment_id = it->txid;
		ev.order_ref = it->id_rec;
		ev.hint = it->hint;
		ev.received_ms = now;
		ev.state = EV_WAITING;
		rc = db_put_msg(txn, DB_WEBHOOK_EVENTS, k, klen, &ev.base, 0);
		if (rc == 0) {
			uint8_t ik[KEY_CAP];
			size_t ilen = inbox_key(now, a->org, WH_PIX, it->event_id, ik, sizeof(ik));
			rc = store_put(txn, DB_WEBHOOK_INBOX, ik, ilen, "", 0, 0);
		}
		a->n_new++;
	}
	return rc;
}

static void pix_accept_done(void *arg, int rc)
{
	wh_pix_accept_t *a = arg;
	answer_stored(a->srv, a->req, rc, a->n_new == 0, a->n_new > 0);
	free(a);
}

/*
 * One item's event: its kind by the list it came in, its reference, and an id
 * derived from its content (the BCB shape has no event ids), so a repeated
 * item is a duplicate. 0, or -EBADMSG (not a usable item), -ENOENT (a cobr
 * ospay never sent: nothing of ours).
 */
static int pix_item(store_txn_t *txn, uint64_t org, const char *list, json_t *item,
		    wh_pix_item_t *it)
{
	const char *txid = json_string_value(json_object_get(item, "txid"));
	const char *id_rec = json_string_value(json_object_get(item, "idRec"));
	const char *status = json_string_value(json_object_get(item, "status"));
	uint8_t k[DB_TXID_KEY_MAX], h[32];
	char sum[65];
	store_val_t v;
	memset(it, 0, sizeof(*it));
	if (!json_is_object(item))
		return -EBADMSG;
	/* Each names something ospay asked the PSP for, in the index that holds it. */
	unsigned table = DB_SVC_TXID;
	if (strcmp(list, "cobsr") == 0) {
		it->event_kind = GW_EVENT_PAYMENT_STATUS;
		table = DB_CHG_TXID;
	} else if (strcmp(list, "recs") == 0) {
		it->event_kind = GW_EVENT_RECURRENCE;
		table = DB_SVC_REC;
	} else {
		it->event_kind = GW_EVENT_OTHER;
	}
	bool rec = it->event_kind == GW_EVENT_RECURRENCE;
	if (rec ? id_rec == NULL || !pix_idrec_valid(id_rec)
		: txid == NULL || !pix_txid_valid(txid))
		return -EBADMSG;
	size_t klen = db_chg_txid_key(org, rec ? id_rec : txid, k);
	if (klen == 0 || store_get(txn, table, k, klen, &v) != 0)
		return -ENOENT;
	snprintf(it->txid, sizeof(it->txid), "%s",
		 it->event_kind != GW_EVENT_RECURRENCE ? txid : "");
	snprintf(it->id_rec, sizeof(it->id_rec), "%s", id_rec != NULL ? id_rec : "");
	snprintf(it->hint, sizeof(it->hint), "%s", status != NULL ? status : "");
	char *dump = json_dumps(item, JSON_COMPACT | JSON_SORT_KEYS);
	if (dump == NULL)
		return -ENOMEM;
	crypto_sha256(list, strlen(list), dump, strlen(dump), h);
	free(dump);
	crypto_hex(h, 16, sum);
	snprintf(it->event_id, sizeof(it->event_id), "pix:%s", sum);
	return 0;
}

/*
 * /webhooks/pix/<org>[/rec|/cobr|/pix]: the PSP appends its suffix to the URL
 * ospay registered ("...?hmac=<secret>&ignorar=" + "/cobr"), so it may come in
 * the query as well as in the path; the body's list says the kind anyway.
 * Authenticated by the secret (401 and nothing stored otherwise), then one
 * inbox event per item naming something of ours; the body is a hint, every
 * item is re-queried (GET /cobr/{txid}, GET /rec/{idRec}).
 */
static void pix_handle(srv_t *s, https_request_t *req, uint64_t org, const gw_webhook_req_t *wr)
{
	static const char *const lists[] = {"cobsr", "recs", "pix"};
	store_txn_t *txn = NULL;
	gw_t *gw = NULL;
	json_t *body = NULL, *arr = NULL;
	wh_pix_accept_t *a = NULL;
	const char *list = NULL;
	if (store_read_begin(s->store, &txn) != 0) {
		respond(req, 503, "storage unavailable");
		return;
	}
	int rc = prov_adapter(s, txn, org, WH_PIX, &gw);
	if (rc != 0) {
		refuse_no_adapter(s, req, rc);
		goto out;
	}
	if (gw_verify_webhook(gw, wr) != 0) {
		s->wh_stats.unauthorized++;
		log_warn("webhook refused: bad credentials", "service=pix org=%llu peer=%s",
			 (unsigned long long)org, https_request_peer(req));
		respond(req, 401, WH_UNAUTHORIZED);
		goto out;
	}
	body = json_loadb((const char *)wr->body, wr->body_len, JSON_REJECT_DUPLICATES, NULL);
	for (size_t i = 0; body != NULL && i < OSPAY_ARRAY_LEN(lists) && arr == NULL; i++) {
		arr = json_object_get(body, lists[i]);
		list = lists[i];
	}
	size_t n = json_array_size(arr);
	if (!json_is_array(arr) || n == 0 || n > WH_PIX_ITEMS_MAX) {
		s->wh_stats.rejected++;
		respond(req, 400, "bad notification: expected a list of recs, cobsr or pix");
		goto out;
	}
	a = calloc(1, sizeof(*a) + n * sizeof(a->items[0]));
	if (a == NULL) {
		respond(req, 503, "out of memory");
		goto out;
	}
	for (size_t i = 0; i < n; i++) {
		rc = pix_item(txn, org, list, json_array_get(arr, i), &a->items[a->n]);
		if (rc == -EBADMSG || rc == -ENOMEM) {
			s->wh_stats.rejected++;
			respond(req, rc == -ENOMEM ? 503 : 400,
				rc == -ENOMEM ? "out of memory"
					      : "bad notification: a malformed item");
			goto out;
		}
		if (rc == 0)
			a->n++;
	}
	if (a->n == 0) {
		s->wh_stats.rejected++;
		respond(req, 404, "unknown reference for this organization");
		goto out;
	}
	store_read_end(txn);
	txn = NULL;
	a->srv = s;
	a->req = req;
	a->org = org;
	if (store_write(s->store, pix_accept_fn, pix_accept_done, a) != 0) {
		s->wh_stats.failed++;
		respond(req, 503, "could not store the event; send it again");
		goto out;
	}
	a = NULL;
out:
	free(a);
	json_decref(body);
	if (txn != NULL)
		store_read_end(txn);
}

void webhooks_handle(srv_t *s, https_request_t *req, const char *service, const char *org_s)
{
	bool pix = strcmp(service, "pix") == 0;
	int kind = pix ? WH_PIX : prov_service_parse(service);
	char *end = NULL;
	unsigned long long org = strtoull(org_s, &end, 10);
	store_txn_t *txn = NULL;
	wh_accept_t *a = NULL;
	/* Pix: the PSP's suffix may follow the organization in the path. */
	bool suffix_ok =
		pix && end != NULL &&
		(strcmp(end, "/rec") == 0 || strcmp(end, "/cobr") == 0 || strcmp(end, "/pix") == 0);
	if (kind == 0 || org == 0 || end == org_s || (*end != '\0' && !suffix_ok)) {
		s->wh_stats.rejected++;
		respond(req, 401, WH_UNAUTHORIZED);
		return;
	}
	const char *method = https_request_method(req);
	bool get_ok = kind == SRV_SERVICE_GETNET && strcmp(method, "GET") == 0;
	if (strcmp(method, "POST") != 0 && !get_ok) {
		respond(req, 405, "method not allowed");
		return;
	}
	http_header_t hdrs[WH_MAX_HEADERS];
	size_t nh = https_request_header_count(req);
	if (nh > WH_MAX_HEADERS)
		nh = WH_MAX_HEADERS;
	for (size_t i = 0; i < nh; i++)
		https_request_header_at(req, i, &hdrs[i].name, &hdrs[i].value);
	size_t blen = 0;
	const uint8_t *body = https_request_body(req, &blen);
	const char *query = https_request_query(req);
	gw_webhook_req_t wr = {.method = method,
			       .query = query[0] ? query : NULL,
			       .headers = hdrs,
			       .n_headers = nh,
			       .body = body,
			       .body_len = blen};
	if (pix) {
		pix_handle(s, req, org, &wr);
		return;
	}
	if (store_read_begin(s->store, &txn) != 0) {
		respond(req, 503, "storage unavailable");
		return;
	}
	gw_t *gw = NULL;
	int rc = prov_adapter(s, txn, org, kind, &gw);
	if (rc != 0) {
		refuse_no_adapter(s, req, rc);
		goto out;
	}
	if (gw_verify_webhook(gw, &wr) != 0) {
		s->wh_stats.unauthorized++;
		log_warn("webhook refused: bad credentials", "service=%s org=%llu peer=%s", service,
			 org, https_request_peer(req));
		respond(req, 401, WH_UNAUTHORIZED);
		goto out;
	}
	gw_event_t ev;
	memset(&ev, 0, sizeof(ev));
	if (gw_parse_webhook(gw, &wr, &ev) != 0) {
		s->wh_stats.rejected++;
		char msg[GW_MSG_MAX + 32];
		snprintf(msg, sizeof(msg), "bad notification: %s", ev.error);
		respond(req, 400, msg);
		goto out;
	}
	const char *ref = kind == SRV_SERVICE_PAGOLIVRE ? ev.order_ref
			  : kind == SRV_SERVICE_ZAPME   ? ev.message_id
							: ev.payment_id;
	uint64_t charge_id = 0;
	/* A sale whose answer was lost has a payment id ospay never saw; GetNet's
	 * notification also names our order id, which ties it to the charge. */
	if (kind == SRV_SERVICE_GETNET && ev.order_ref[0] != '\0' && ev.payment_id[0] != '\0' &&
	    !reference_known(txn, org, kind, ref) &&
	    billing_run_charge_by_order(txn, org, ev.order_ref, &charge_id) != 0)
		charge_id = 0;
	if (charge_id == 0 && !reference_known(txn, org, kind, ref)) {
		s->wh_stats.rejected++;
		respond(req, 404, "unknown reference for this organization");
		goto out;
	}
	store_read_end(txn);
	txn = NULL;
	a = calloc(1, sizeof(*a));
	if (a == NULL) {
		respond(req, 503, "out of memory");
		goto out;
	}
	a->srv = s;
	a->req = req;
	a->charge_id = charge_id;
	ospay__v1__webhook_event_record__init(&a->ev);
	snprintf(a->event_id, sizeof(a->event_id), "%s", ev.event_id);
	snprintf(a->payment_id, sizeof(a->payment_id), "%s", ev.payment_id);
	snprintf(a->order_ref, sizeof(a->order_ref), "%s", ev.order_ref);
	snprintf(a->message_id, sizeof(a->message_id), "%s", ev.message_id);
	snprintf(a->hint, sizeof(a->hint), "%s", ev.hint);
	a->ev.organization_id = org;
	a->ev.kind = kind;
	a->ev.event_id = a->event_id;
	a->ev.derived_id = ev.derived_id;
	a->ev.event_kind = ev.kind;
	a->ev.payment_id = a->payment_id;
	a->ev.order_ref = a->order_ref;
	a->ev.message_id = a->message_id;
	a->ev.installment = ev.installment;
	a->ev.hint = a->hint;
	a->ev.received_ms = srv_now_ms(s);
	a->ev.state = EV_WAITING;
	a->ev.last_error = "";
	rc = store_write(s->store, accept_fn, accept_done, a);
	if (rc != 0) {
		s->wh_stats.failed++;
		respond(req, 503, "could not store the event; send it again");
		free(a);
	}
out:
	if (txn != NULL)
		store_read_end(txn);
}

/* ------------------------------------------------------------------ re-query */

/* An event settled by another event's query: same provider object, same pass. */
typedef struct follower {
	struct follower *next;
	uint8_t inbox_key[KEY_CAP];
	size_t inbox_len;
	Ospay__V1__WebhookEventRecord *ev;
} follower_t;

typedef struct requery {
	srv_t *srv;
	struct requery *next_leader; /* the pass's list, until started */
	uint8_t inbox_key[KEY_CAP];
	size_t inbox_len;
	Ospay__V1__WebhookEventRecord *ev;
	follower_t *followers, **tail; /* in inbox order */
	size_t n_followers;
	/* What the service answered, as the object record to merge. */
	Ospay__V1__GatewayObjectRecord obj;
	Ospay__V1__GatewayInstallment inst[GW_MAX_INSTALLMENTS];
	Ospay__V1__GatewayInstallment *instp[GW_MAX_INSTALLMENTS];
	char status[GW_STATUS_MAX], code[GW_CODE_MAX], message[GW_MSG_MAX];
	char order_id[GW_ORDER_ID_MAX];
	char ntid[GW_ID_MAX], mac[GW_CODE_MAX]; /* a card charge's network id, advice code */
	char inst_status[GW_MAX_INSTALLMENTS][GW_STATUS_MAX];
	char inst_reason[GW_MAX_INSTALLMENTS][GW_MSG_MAX];
	bool retry;
	bool resolve;         /* a card charge it settled is to be voided: a resolve pass */
	gw_pix_result_t *pix; /* a Pix PSP's answer (kind WH_PIX) */
	bool pix_cobv;        /* a /pix item: the cob was not found, the cobv asked */
	char error[GW_MSG_MAX];
} requery_t;

/* A re-query pass's entries that could not even start, moved back after the scan. */
typedef struct wh_failed {
	uint8_t key[KEY_CAP];
	size_t len;
} wh_failed_t;

/*
 * A pass coalesces events of one provider object into one query: a leader
 * per object, found by an open-addressing map twice the pass's leaders.
 */
#define COALESCE_SLOTS (2 * REQUERY_PARALLEL)

/* The re-query job's state, owned by the server object (s->webhooks). */
struct webhooks {
	srv_job_life_t life; /* first: how it ends (job.h) */
	uv_timer_t timer;    /* the next pass */
	unsigned inflight;   /* queries of the current pass not stored yet */
	requery_t *coalesce[COALESCE_SLOTS];
	wh_failed_t failed[REQUERY_BATCH];
};

/* Final states are never moved back by an older answer (docs/spec.md 5). */
static int outcome_rank(int o)
{
	switch (o) {
	case GW_OUTCOME_PENDING:
		return 0;
	case GW_OUTCOME_APPROVED:
	case GW_OUTCOME_DECLINED:
	case GW_OUTCOME_EXPIRED:
		return 1;
	case GW_OUTCOME_CANCELED:
		return 2;
	default:
		return -1;
	}
}

/*
 * Merges a query's answer (q->obj) into the stored provider object and writes
 * it; a payment link's order follows in the same transaction. May run again
 * (store.h): it only reads q's answer and rewrites q's own buffers.
 */
static int object_store(store_txn_t *txn, requery_t *q, int64_t now_ms)
{
	Ospay__V1__GatewayObjectRecord *old = NULL;
	uint8_t k[KEY_CAP];
	size_t klen = prov_ref_key(q->obj.organization_id, q->obj.kind, q->obj.ref, k, sizeof(k));
	int rc = db_get_msg(txn, DB_GW_OBJECTS, k, klen,
			    &ospay__v1__gateway_object_record__descriptor,
			    (ProtobufCMessage **)&old);
	if ((rc == 0 || rc == -ENOENT) && outcome_rank(q->obj.outcome) < 0) {
		/* NOT_FOUND, REJECTED: nothing to learn about the object itself. */
		rc = 0;
	} else if (rc == 0 && outcome_rank(q->obj.outcome) < outcome_rank(old->outcome)) {
		/* An answer older than what we know: keep the final state. */
		rc = 0;
	} else if (rc == 0 || rc == -ENOENT) {
		if (old != NULL) {
			q->obj.queries = old->queries + 1;
			q->obj.charge_id = old->charge_id;
		}
		/* Installments: a final one is never moved back to waiting. */
		for (size_t i = 0; old != NULL && i < q->obj.n_installments; i++)
			for (size_t j = 0; j < old->n_installments; j++) {
				const Ospay__V1__GatewayInstallment *o = old->installments[j];
				Ospay__V1__GatewayInstallment *n = &q->inst[i];
				if (o->number != n->number ||
				    outcome_rank(n->outcome) >= outcome_rank(o->outcome))
					continue;
				/* Copied into q's own buffers: old is freed below. */
				n->outcome = o->outcome;
				n->amount = o->amount;
				snprintf(q->inst_status[i], GW_STATUS_MAX, "%s", o->status);
				snprintf(q->inst_reason[i], GW_MSG_MAX, "%s", o->reason);
			}
		rc = db_put_msg(txn, DB_GW_OBJECTS, k, klen, &q->obj.base, 0);
		/* A payment link's order follows it in the same transaction. */
		if (rc == 0 && q->obj.kind == SRV_SERVICE_PAGOLIVRE)
			rc = prov_link_update(txn, &q->obj, now_ms);
		/* So does a notification (outbox.c), by ZapMe's status word. */
		if (rc == 0 && q->obj.kind == SRV_SERVICE_ZAPME)
			rc = outbox_on_message_status(txn, q->obj.organization_id, q->obj.ref,
						      q->obj.status_text, now_ms);
		/* And a card charge, by the rules of every path that settles one. */
		q->resolve = false;
		if (rc == 0 && q->obj.charge_id != 0)
			rc = billing_run_charge_answer(txn, q->srv, &q->obj, &q->resolve);
	}
	ospay__v1__gateway_object_record__free_unpacked(old, NULL);
	return rc;
}

/*
 * Settles one event after its object's query: the inbox entry goes, and the
 * event is done, or backed off, or given up, by its own attempts count.
 * May run again: works on a shallow copy (fields of the unpacked record must
 * not point at q's buffers, or free_unpacked would free them).
 */
static int event_settle(store_txn_t *txn, const requery_t *q, const uint8_t *ikey, size_t ilen,
			const Ospay__V1__WebhookEventRecord *orig)
{
	srv_t *s = q->srv;
	Ospay__V1__WebhookEventRecord copy = *orig, *ev = &copy;
	uint8_t k[KEY_CAP];
	int rc = store_del(txn, DB_WEBHOOK_INBOX, ikey, ilen, NULL, 0);
	if (rc != 0 && rc != -ENOENT)
		return rc;
	rc = 0;
	ev->attempts++;
	ev->last_error = (char *)q->error;
	if (q->retry && ev->attempts < REQUERY_MAX_TRIES) {
		/* Back off: 1 s, 2 s, 4 s ... capped at 10 min. */
		int64_t delay = (int64_t)1000 << (ev->attempts < 10 ? ev->attempts - 1 : 9);
		if (delay > 600000)
			delay = 600000;
		uint8_t ik[KEY_CAP];
		size_t n = inbox_key(srv_now_ms(s) + delay, ev->organization_id, ev->kind,
				     ev->event_id, ik, sizeof(ik));
		rc = store_put(txn, DB_WEBHOOK_INBOX, ik, n, "", 0, 0);
	} else if (q->retry) {
		ev->state = EV_GAVE_UP;
		log_warn("webhook re-query given up", "service=%s org=%llu tries=%u",
			 prov_service_name(ev->kind), (unsigned long long)ev->organization_id,
			 ev->attempts);
	} else {
		ev->state = EV_DONE;
		ev->processed_ms = srv_now_ms(s);
	}
	if (rc == 0) {
		size_t klen =
			prov_ref_key(ev->organization_id, ev->kind, ev->event_id, k, sizeof(k));
		rc = db_put_msg(txn, DB_WEBHOOK_EVENTS, k, klen, &ev->base, 0);
	}
	return rc;
}

/*
 * A Pix PSP's answer: a cobr's charges follow it (billing_pix.c), a rec's or
 * a first payment's (cob, cobv) the service's authorization (pix_auth.c); an
 * answer about nothing ospay holds (-ENOENT) settles the event all the same.
 */
static int pix_answer_store(store_txn_t *txn, requery_t *q)
{
	int rc = 0;
	gw_outcome_t o = q->pix->r.outcome;
	if (o != GW_OUTCOME_PENDING && o != GW_OUTCOME_APPROVED && o != GW_OUTCOME_DECLINED &&
	    o != GW_OUTCOME_CANCELED && o != GW_OUTCOME_EXPIRED)
		return 0; /* NOT_FOUND, REJECTED: nothing to learn */
	uint64_t org = q->ev->organization_id;
	if (q->ev->event_kind == GW_EVENT_PAYMENT_STATUS)
		rc = billing_pix_cobr_answer(txn, q->srv, org, q->pix);
	else if (q->ev->event_kind == GW_EVENT_RECURRENCE)
		rc = pix_auth_rec_answer(txn, q->srv, org, q->pix);
	else
		rc = pix_auth_cob_answer(txn, q->srv, org, q->pix);
	return rc == -ENOENT ? 0 : rc;
}

/* The answer is recorded once; every event that waited for it is settled with it. */
static int requery_store_fn(store_txn_t *txn, void *arg)
{
	requery_t *q = arg;
	int rc = q->retry         ? 0
		 : q->pix != NULL ? pix_answer_store(txn, q)
				  : object_store(txn, q, srv_now_ms(q->srv));
	if (rc == 0)
		rc = event_settle(txn, q, q->inbox_key, q->inbox_len, q->ev);
	for (const follower_t *f = q->followers; rc == 0 && f != NULL; f = f->next)
		rc = event_settle(txn, q, f->inbox_key, f->inbox_len, f->ev);
	return rc;
}

/* Frees a pass's query that was never started (or whose start failed). */
static void requery_discard(requery_t *q)
{
	follower_t *f = q->followers;
	while (f != NULL) {
		follower_t *next = f->next;
		ospay__v1__webhook_event_record__free_unpacked(f->ev, NULL);
		free(f);
		f = next;
	}
	ospay__v1__webhook_event_record__free_unpacked(q->ev, NULL);
	free(q->pix);
	free(q);
}

static void requery_free(requery_t *q)
{
	struct webhooks *w = q->srv->webhooks;
	w->inflight--;
	requery_discard(q);
	if (w->life.stopping)
		srv_job_release(&w->life);
}

static void requery_stored(void *arg, int rc)
{
	requery_t *q = arg;
	srv_t *s = q->srv;
	if (rc == 0) {
		s->wh_stats.coalesced += q->n_followers;
		if (!q->retry)
			s->wh_stats.requeried += 1 + q->n_followers;
		if (q->resolve)
			billing_run_resolve_soon(s);
	}
	requery_free(q);
	webhooks_kick(s);
}

static void on_requery_timer(uv_timer_t *t);

/* Copies src into q's buffer dst (cap bytes) and returns dst: q's object
 * points at q's own copies, which outlive the adapter's answer. */
static char *keep_str(char *dst, size_t cap, const char *src)
{
	snprintf(dst, cap, "%s", src);
	return dst;
}

/* The reply part of a query's answer, into q's object. */
static void answer_fill(requery_t *q, const gw_reply_t *r, int64_t now_ms)
{
	q->obj.outcome = r->outcome;
	q->obj.code = keep_str(q->code, sizeof(q->code), r->code);
	q->obj.message = keep_str(q->message, sizeof(q->message), r->message);
	q->obj.status_text = q->status;
	q->obj.updated_ms = now_ms;
	q->obj.queries = 1;
}

/* Records the outcome of the re-query (from an adapter callback). */
static void requery_finish(requery_t *q, const gw_reply_t *r)
{
	q->retry = r->outcome == GW_OUTCOME_ERROR_RETRYABLE || r->outcome == GW_OUTCOME_UNKNOWN ||
		   r->outcome == GW_OUTCOME_AUTH_FAILED;
	snprintf(q->error, sizeof(q->error), "%s",
		 r->outcome == GW_OUTCOME_APPROVED || r->outcome == GW_OUTCOME_PENDING
			 ? ""
			 : r->message);
	answer_fill(q, r, srv_now_ms(q->srv));
	/* The newest event the answer settles. */
	q->obj.last_event_id = q->ev->event_id;
	for (const follower_t *f = q->followers; f != NULL; f = f->next)
		q->obj.last_event_id = f->ev->event_id;
	if (q->srv->draining ||
	    store_write(q->srv->store, requery_store_fn, requery_stored, q) != 0) {
		srv_t *s = q->srv;
		requery_free(q); /* stays in the inbox: tried again in a second, not at once */
		struct webhooks *w = s->webhooks; /* NULL once a stop freed it */
		if (w != NULL && !s->draining && !w->life.stopping && w->inflight == 0)
			uv_timer_start(&w->timer, on_requery_timer, 1000, 0);
	}
}

/* A link query's status and installments, into q's object. */
static void link_fill(requery_t *q, const gw_link_result_t *res)
{
	snprintf(q->status, sizeof(q->status), "%s", res->status);
	q->obj.amount = -1;
	for (size_t i = 0; i < res->n_charges && i < GW_MAX_INSTALLMENTS; i++) {
		Ospay__V1__GatewayInstallment *g = &q->inst[i];
		ospay__v1__gateway_installment__init(g);
		g->number = res->charges[i].number;
		g->outcome = res->charges[i].outcome;
		g->status = keep_str(q->inst_status[i], GW_STATUS_MAX, res->charges[i].status);
		g->reason = keep_str(q->inst_reason[i], GW_MSG_MAX, res->charges[i].reason);
		g->amount = res->charges[i].amount_cents;
		q->instp[i] = g;
		q->obj.n_installments = i + 1;
	}
	q->obj.installments = q->instp;
}

static void on_link(const gw_link_result_t *res, void *arg)
{
	requery_t *q = arg;
	link_fill(q, res);
	requery_finish(q, &res->r);
}

/* ------------------------------------------------------------------ link answers */

struct webhooks_link_answer {
	requery_t q;
	char ref[GW_ID_MAX];
};

int webhooks_link_answer_new(uint64_t org, const char *ref, const gw_link_result_t *res,
			     int64_t now_ms, webhooks_link_answer_t **out)
{
	if (outcome_rank(res->r.outcome) < 0)
		return -EINVAL;
	webhooks_link_answer_t *a = calloc(1, sizeof(*a));
	if (a == NULL)
		return -ENOMEM;
	snprintf(a->ref, sizeof(a->ref), "%s", ref);
	ospay__v1__gateway_object_record__init(&a->q.obj);
	a->q.obj.organization_id = org;
	a->q.obj.kind = SRV_SERVICE_PAGOLIVRE;
	a->q.obj.ref = a->ref;
	a->q.obj.last_event_id = "";
	link_fill(&a->q, res);
	answer_fill(&a->q, &res->r, now_ms);
	*out = a;
	return 0;
}

int webhooks_link_answer_store(store_txn_t *txn, webhooks_link_answer_t *a, int64_t now_ms)
{
	return object_store(txn, &a->q, now_ms);
}

static void on_charge(const gw_charge_result_t *res, void *arg)
{
	requery_t *q = arg;
	snprintf(q->status, sizeof(q->status), "%s", res->status_text);
	q->obj.order_id = keep_str(q->order_id, sizeof(q->order_id), res->merchant_order_id);
	/* What settles a card charge needs: the chain's id, the brand's advice. */
	q->obj.network_txn_id = keep_str(q->ntid, sizeof(q->ntid), res->network_txn_id);
	q->obj.advice_code = keep_str(q->mac, sizeof(q->mac), res->advice_code);
	q->obj.provider_status = res->provider_status;
	q->obj.amount = res->amount_cents;
	requery_finish(q, &res->r);
}

static void on_pix(const gw_pix_result_t *res, void *arg);

/* A /pix item's txid is a journey-3 cob's or a journey-4 cobv's: cob first. */
static bool pix_try_cobv(requery_t *q, const gw_pix_result_t *res)
{
	store_txn_t *txn = NULL;
	gw_t *gw = NULL;
	if (q->ev->event_kind != GW_EVENT_OTHER || res->r.outcome != GW_OUTCOME_NOT_FOUND ||
	    q->pix_cobv)
		return false;
	q->pix_cobv = true;
	if (store_read_begin(q->srv->store, &txn) != 0)
		return false;
	int rc = prov_adapter(q->srv, txn, q->ev->organization_id, WH_PIX, &gw);
	store_read_end(txn);
	return rc == 0 && gw_pix_query_cobv(gw, q->obj.ref, on_pix, q) == 0;
}

static void on_pix(const gw_pix_result_t *res, void *arg)
{
	requery_t *q = arg;
	if (pix_try_cobv(q, res))
		return;
	q->pix = malloc(sizeof(*q->pix));
	if (q->pix == NULL) {
		gw_reply_t r = {.outcome = GW_OUTCOME_ERROR_RETRYABLE};
		snprintf(r.message, sizeof(r.message), "out of memory");
		requery_finish(q, &r);
		return;
	}
	*q->pix = *res;
	snprintf(q->status, sizeof(q->status), "%s", res->status);
	/* NOT_FOUND: the PSP holds no such object; nothing to settle, nothing to retry. */
	requery_finish(q, &res->r);
}

static void on_message(const gw_message_result_t *res, void *arg)
{
	requery_t *q = arg;
	snprintf(q->status, sizeof(q->status), "%s", res->status);
	requery_finish(q, &res->r);
}

/*
 * The pass's queries by provider object (org | kind | ref), open addressing:
 * at most REQUERY_PARALLEL leaders, so a free slot always remains. Only used
 * while a pass collects its entries, emptied before any query starts.
 */
static requery_t **coalesce_slot(struct webhooks *w, uint64_t org, int kind, const char *ref)
{
	requery_t **coalesce_map = w->coalesce;
	uint64_t h = 1469598103934665603ULL; /* FNV-1a */
	for (int i = 0; i < 8; i++)
		h = (h ^ ((org >> (8 * i)) & 0xff)) * 1099511628211ULL;
	h = (h ^ (uint8_t)kind) * 1099511628211ULL;
	for (const char *p = ref; *p != '\0'; p++)
		h = (h ^ (uint8_t)*p) * 1099511628211ULL;
	for (size_t i = h & (COALESCE_SLOTS - 1);; i = (i + 1) & (COALESCE_SLOTS - 1)) {
		requery_t *q = coalesce_map[i];
		if (q == NULL || (q->obj.organization_id == org && q->obj.kind == kind &&
				  strcmp(q->obj.ref, ref) == 0))
			return &coalesce_map[i];
	}
}

/*
 * Reads one due inbox entry's event: it joins the pass's query for the same
 * object, or becomes the leader of a new one (appended to *tail). 0; -EAGAIN
 * when the pass has all the queries it may start (the entry waits for the
 * next pass); another negative errno when it cannot be re-queried.
 */
static int requery_collect(srv_t *s, store_txn_t *txn, const store_val_t *ik, size_t *n_leaders,
			   requery_t ***tail)
{
	Ospay__V1__WebhookEventRecord *ev = NULL;
	const uint8_t *ek = (const uint8_t *)ik->data + 8;
	int rc = db_get_msg(txn, DB_WEBHOOK_EVENTS, ek, ik->len - 8,
			    &ospay__v1__webhook_event_record__descriptor, (ProtobufCMessage **)&ev);
	if (rc != 0)
		return rc;
	const char *ref = event_ref(ev->kind, ev);
	requery_t **slot = coalesce_slot(s->webhooks, ev->organization_id, ev->kind, ref);
	if (*slot != NULL) {
		/* Its query starts after this entry was committed: the answer is as new. */
		follower_t *f = calloc(1, sizeof(*f));
		if (f == NULL) {
			rc = -ENOMEM;
			goto fail;
		}
		memcpy(f->inbox_key, ik->data, ik->len);
		f->inbox_len = ik->len;
		f->ev = ev;
		*(*slot)->tail = f;
		(*slot)->tail = &f->next;
		(*slot)->n_followers++;
		return 0;
	}
	if (*n_leaders >= REQUERY_PARALLEL) {
		rc = -EAGAIN;
		goto fail;
	}
	requery_t *q = calloc(1, sizeof(*q));
	if (q == NULL) {
		rc = -ENOMEM;
		goto fail;
	}
	q->srv = s;
	memcpy(q->inbox_key, ik->data, ik->len);
	q->inbox_len = ik->len;
	q->ev = ev;
	q->tail = &q->followers;
	ospay__v1__gateway_object_record__init(&q->obj);
	q->obj.organization_id = ev->organization_id;
	q->obj.kind = ev->kind;
	q->obj.ref = (char *)ref;
	q->obj.status_text = "";
	q->obj.code = "";
	q->obj.message = "";
	q->obj.last_event_id = "";
	*slot = q;
	**tail = q;
	*tail = &q->next_leader;
	(*n_leaders)++;
	return 0;
fail:
	ospay__v1__webhook_event_record__free_unpacked(ev, NULL);
	return rc;
}

/* Starts a leader's query; 0 when its callback will run (q is then its own). */
static int requery_start(srv_t *s, store_txn_t *txn, requery_t *q)
{
	gw_t *gw = NULL;
	int rc = prov_adapter(s, txn, q->ev->organization_id, q->ev->kind, &gw);
	if (rc != 0)
		return rc;
	s->webhooks->inflight++;
	switch (q->ev->kind) {
	case SRV_SERVICE_PAGOLIVRE:
		rc = gw_query_link(gw, q->obj.ref, on_link, q);
		break;
	case SRV_SERVICE_ZAPME:
		rc = gw_message_status(gw, q->obj.ref, on_message, q);
		break;
	case WH_PIX:
		/* Re-queried by its kind: the cobr, or the rec (a cob's /pix: its rec). */
		if (q->ev->event_kind == GW_EVENT_PAYMENT_STATUS)
			rc = gw_pix_query_cobr(gw, q->obj.ref, on_pix, q);
		else if (q->ev->event_kind == GW_EVENT_RECURRENCE)
			rc = gw_pix_query_rec(gw, q->ev->order_ref, NULL, on_pix, q);
		else /* a /pix item: journey 3's cob (or 4's cobv, pix_try_cobv) */
			rc = gw_pix_query_cob(gw, q->obj.ref, on_pix, q);
		break;
	default:
		rc = gw_query_charge(gw, q->obj.ref, on_charge, q);
		break;
	}
	if (rc != 0)
		s->webhooks->inflight--;
	return rc;
}

typedef struct defer {
	srv_t *srv;
	uint8_t key[KEY_CAP];
	size_t len;
	const char *why;
} defer_t;

static int defer_fn(store_txn_t *txn, void *arg)
{
	defer_t *d = arg;
	Ospay__V1__WebhookEventRecord *ev = NULL;
	int rc = store_del(txn, DB_WEBHOOK_INBOX, d->key, d->len, NULL, 0);
	if (rc != 0)
		return rc == -ENOENT ? 0 : rc;
	rc = db_get_msg(txn, DB_WEBHOOK_EVENTS, d->key + 8, d->len - 8,
			&ospay__v1__webhook_event_record__descriptor, (ProtobufCMessage **)&ev);
	if (rc == -ENOENT || rc == -EBADMSG)
		return 0; /* nothing left to re-query: the entry just goes */
	if (rc != 0)
		return rc;
	Ospay__V1__WebhookEventRecord copy = *ev;
	copy.attempts++;
	copy.last_error = (char *)d->why;
	if (copy.attempts >= REQUERY_MAX_TRIES) {
		copy.state = EV_GAVE_UP;
	} else {
		int64_t delay = (int64_t)1000 << (copy.attempts < 10 ? copy.attempts - 1 : 9);
		uint8_t ik[KEY_CAP];
		be64_put_i64(ik, srv_now_ms(d->srv) + (delay > 600000 ? 600000 : delay));
		memcpy(ik + 8, d->key + 8, d->len - 8);
		rc = store_put(txn, DB_WEBHOOK_INBOX, ik, d->len, "", 0, 0);
	}
	if (rc == 0)
		rc = db_put_msg(txn, DB_WEBHOOK_EVENTS, d->key + 8, d->len - 8, &copy.base, 0);
	ospay__v1__webhook_event_record__free_unpacked(ev, NULL);
	return rc;
}

static void defer_done(void *arg, int rc)
{
	(void)rc;
	free(arg);
}

/* Moves an inbox entry to a later try (or gives it up), in the next commit. */
static void requery_defer(srv_t *s, const uint8_t *key, size_t len, const char *why)
{
	defer_t *d = calloc(1, sizeof(*d));
	if (d == NULL)
		return;
	d->srv = s;
	memcpy(d->key, key, len);
	d->len = len;
	d->why = why;
	if (store_write(s->store, defer_fn, defer_done, d) != 0)
		free(d);
}

static void on_requery_timer(uv_timer_t *t)
{
	struct webhooks *w = t->data;
	webhooks_kick(w->life.s);
}

/*
 * One pass: the due inbox entries are collected first, events about the same
 * provider object joining one query (the one answer settles them all, in one
 * transaction), then the queries start. A pass starts only when none is in
 * flight, so nothing starts twice.
 */
static void webhooks_kick(srv_t *s)
{
	store_txn_t *txn = NULL;
	store_cursor_t *cur = NULL;
	struct webhooks *w = s->webhooks;
	if (w == NULL || w->life.stopping || s->draining || w->inflight > 0 || s->store == NULL)
		return;
	if (store_read_begin(s->store, &txn) != 0)
		return;
	int64_t now = srv_now_ms(s), next = -1;
	/* Entries whose re-query could not even start (gateway gone, record
	 * unreadable) are moved back with a backoff after the scan, so they
	 * neither block the inbox nor spin. */
	wh_failed_t *failed = w->failed;
	size_t n_failed = 0, n_leaders = 0;
	requery_t *leaders = NULL, **tail = &leaders;
	int rc = store_cursor_open(txn, DB_WEBHOOK_INBOX, &cur);
	store_val_t k, v;
	size_t seen = 0;
	for (rc = rc == 0 ? store_cursor_first(cur, &k, &v) : rc; rc == 0 && seen < REQUERY_BATCH;
	     rc = store_cursor_next(cur, &k, &v), seen++) {
		if (k.len < 17 || k.len > KEY_CAP)
			continue;
		int64_t when = be64_get_i64(k.data);
		if (when > now) {
			next = when;
			break;
		}
		int crc = requery_collect(s, txn, &k, &n_leaders, &tail);
		/* All the queries a pass may start: the rest waits for the next pass
		 * rather than being read now and again then. */
		if (crc == -EAGAIN)
			break;
		if (crc != 0 && n_failed < REQUERY_BATCH) {
			memcpy(failed[n_failed].key, k.data, k.len);
			failed[n_failed++].len = k.len;
		}
	}
	store_cursor_close(cur);
	memset(w->coalesce, 0, sizeof(w->coalesce));
	for (requery_t *q = leaders, *nq; q != NULL; q = nq) {
		nq = q->next_leader; /* q may be gone once started */
		if (requery_start(s, txn, q) == 0)
			continue;
		if (n_failed < REQUERY_BATCH) {
			memcpy(failed[n_failed].key, q->inbox_key, q->inbox_len);
			failed[n_failed++].len = q->inbox_len;
		}
		for (const follower_t *f = q->followers; f != NULL && n_failed < REQUERY_BATCH;
		     f = f->next) {
			memcpy(failed[n_failed].key, f->inbox_key, f->inbox_len);
			failed[n_failed++].len = f->inbox_len;
		}
		requery_discard(q);
	}
	store_read_end(txn);
	for (size_t i = 0; i < n_failed; i++)
		requery_defer(s, failed[i].key, failed[i].len, "the re-query could not start");
	if (n_failed > 0 && next < 0)
		next = now + 1000;
	/* Come back when the earliest backed-off entry is due (test clock: 1 s). */
	if (next >= 0 && w->inflight == 0) {
		uint64_t wait = (uint64_t)(next - now);
		if (s->opts.test_clock || wait > 600000)
			wait = 1000;
		uv_timer_start(&w->timer, on_requery_timer, wait, 0);
	}
}

/* ------------------------------------------------------------------ lifetime */

/* Freed once the timer is closed and no query is in flight. */
static bool wh_idle(const void *state)
{
	return ((const struct webhooks *)state)->inflight == 0;
}

static void wh_free(void *state)
{
	struct webhooks *w = state;
	w->life.s->webhooks = NULL;
	free(w);
}

static int webhooks_start(srv_t *s)
{
	struct webhooks *w = srv_job_new(s, sizeof(*w), wh_idle, wh_free);
	if (w == NULL)
		return -ENOMEM;
	uv_timer_init(s->loop, &w->timer);
	w->timer.data = w;
	s->webhooks = w;
	/* Events a previous run left in the inbox. */
	webhooks_kick(s);
	return 0;
}

static bool webhooks_busy(const srv_t *s)
{
	return s->webhooks != NULL && s->webhooks->inflight > 0;
}

static void webhooks_stop(srv_t *s, srv_job_done_fn done)
{
	struct webhooks *w = s->webhooks;
	if (w == NULL || w->life.stopping)
		return; /* never started, or stopped already */
	srv_job_close(&w->life, done, (uv_handle_t *[]){(uv_handle_t *)&w->timer}, 1);
}

const srv_job_t webhooks_job = {"webhook re-query", webhooks_start, webhooks_kick, webhooks_busy,
				webhooks_stop};

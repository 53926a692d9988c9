/*
 * The sandbox's front door: routes each request to its service by prefix,
 * applies the request faults set through the control API, and keeps the
 * recordings (charges, messages, webhook deliveries) and the webhook outbox.
 */
#include "sandbox/sbx_int.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "common/util.h"

/* Longest path the sandbox routes; longer ones are 404s. */
#define SBX_MAX_PATH 1024

typedef struct sbx_service {
	const char *name;
	const char *prefix;
	const sbx_route_t *routes;
	const size_t *n_routes;
	sbx_org_t *(*auth)(sbx_t *s, const sbx_req_t *rq, sbx_resp_t *rs);
	const char *open; /* the one route served without credentials, NULL when none */
} sbx_service_t;

static const sbx_service_t sbx_services[] = {
	{"cielo", "/cielo", sbx_cielo_routes, &sbx_cielo_n_routes, sbx_cielo_auth, NULL},
	{"getnet", "/getnet", sbx_getnet_routes, &sbx_getnet_n_routes, sbx_getnet_auth, "token"},
	{"pagolivre", "/pagolivre", sbx_pagolivre_routes, &sbx_pagolivre_n_routes,
	 sbx_pagolivre_auth, "pay_page"},
	{"zapme", "/zapme", sbx_zapme_routes, &sbx_zapme_n_routes, sbx_zapme_auth, NULL},
	{"pix", "/pix", sbx_pix_routes, &sbx_pix_n_routes, sbx_pix_auth, "token"},
};

size_t sbx_service_routes(const char *name, const sbx_route_t **routes)
{
	size_t n = 0;
	for (size_t i = 0; i < OSPAY_ARRAY_LEN(sbx_services) && n == 0; i++) {
		if (strcmp(sbx_services[i].name, name) == 0) {
			*routes = sbx_services[i].routes;
			n = *sbx_services[i].n_routes;
		}
	}
	return n;
}

/* ------------------------------------------------------------------ recordings */

typedef struct sbx_charge {
	list_node_t age;
	sbx_hnode_t by_moid;
	uint64_t seq;
	uint64_t org;
	char service[16];
	char moid[101];
	char payment_id[64];
	int64_t amount;
	bool approved;
	char status[24];
	char code[16];
	char message[96];
	int installment;
	int64_t at_ms;
	bool recurrent;     /* Cielo's Payment.Recurrent as sent */
	char initiator[48]; /* Cielo's InitiatedTransactionIndicator "Category/Subcategory" */
	char usage[24];     /* CardOnFile.Usage / credentials_on_file_type as sent */
	char ntid_sent[64];
	char ntid_reply[64];
} sbx_charge_t;

typedef struct sbx_sent {
	list_node_t age;
	uint64_t seq;
	uint64_t org;
	char service[16];
	char channel[12];
	char phone[32];
	char ref[40];
	char *text;
	int64_t at_ms;
} sbx_sent_t;

typedef struct sbx_hooklog {
	list_node_t age;
	uint64_t seq;
	uint64_t hook_id;
	uint64_t org;
	char service[16];
	uint32_t attempt;
	long status;
	char error[64];
	char fault[24];
	char summary[96];
	int64_t at_ms;
} sbx_hooklog_t;

static void sbx_sent_forget(list_node_t *n)
{
	free(container_of(n, sbx_sent_t, age)->text);
}

void sbx_charge_record(sbx_t *s, const char *service, uint64_t org, const char *moid,
		       const char *payment_id, int64_t amount, bool approved, const char *status,
		       const char *code, const char *message, int installment)
{
	sbx_charge_t *c = calloc(1, sizeof(*c));
	if (c == NULL)
		goto out;
	c->seq = sbx_next(s);
	c->org = org;
	snprintf(c->service, sizeof(c->service), "%s", service);
	snprintf(c->moid, sizeof(c->moid), "%s", moid);
	snprintf(c->payment_id, sizeof(c->payment_id), "%s", payment_id);
	c->amount = amount;
	c->approved = approved;
	snprintf(c->status, sizeof(c->status), "%s", status);
	snprintf(c->code, sizeof(c->code), "%s", code);
	snprintf(c->message, sizeof(c->message), "%s", message);
	c->installment = installment;
	c->at_ms = util_wall_ms();
	sbx_table_add(&s->charges, &c->age);
out:
	return;
}

void sbx_sent_record(sbx_t *s, const char *service, const char *channel, uint64_t org,
		     const char *phone, const char *text, const char *ref)
{
	sbx_sent_t *m = calloc(1, sizeof(*m));
	size_t n = strnlen(text, SBX_MAX_TEXT);
	if (m == NULL)
		goto out;
	m->text = malloc(n + 1);
	if (m->text == NULL) {
		free(m);
		goto out;
	}
	memcpy(m->text, text, n);
	m->text[n] = '\0';
	m->seq = sbx_next(s);
	m->org = org;
	snprintf(m->service, sizeof(m->service), "%s", service);
	snprintf(m->channel, sizeof(m->channel), "%s", channel);
	snprintf(m->phone, sizeof(m->phone), "%s", phone);
	snprintf(m->ref, sizeof(m->ref), "%s", ref);
	m->at_ms = util_wall_ms();
	sbx_table_add(&s->sent, &m->age);
out:
	return;
}

void sbx_hook_record(sbx_t *s, const sbx_hook_t *h, long status, const char *err)
{
	sbx_hooklog_t *l = calloc(1, sizeof(*l));
	if (l == NULL)
		goto out;
	l->seq = sbx_next(s);
	l->hook_id = h->id;
	l->org = h->org;
	snprintf(l->service, sizeof(l->service), "%s", h->service);
	l->attempt = h->attempt;
	l->status = status;
	snprintf(l->error, sizeof(l->error), "%s", err != NULL ? err : "");
	snprintf(l->fault, sizeof(l->fault), "%s", h->fault);
	snprintf(l->summary, sizeof(l->summary), "%s", h->summary);
	l->at_ms = util_wall_ms();
	sbx_table_add(&s->hooklog, &l->age);
out:
	return;
}

void sbx_charge_mark(sbx_t *s, const char *moid, const sbx_cof_t *cof)
{
	/* Newest first: the charge to mark was just recorded, so this is O(1) and not a
	 * walk of every charge so far (which made a 100,000-sale run quadratic). */
	sbx_charge_t *last = NULL;
	for (list_node_t *n = s->charges.fifo.prev; n != &s->charges.fifo; n = n->prev) {
		sbx_charge_t *c = container_of(n, sbx_charge_t, age);
		if (strcmp(moid, c->moid) == 0) {
			last = c;
			break;
		}
	}
	if (last != NULL) {
		last->recurrent = cof->recurrent;
		snprintf(last->initiator, sizeof(last->initiator), "%s", cof->initiator);
		snprintf(last->usage, sizeof(last->usage), "%s", cof->usage);
		snprintf(last->ntid_sent, sizeof(last->ntid_sent), "%s", cof->ntid_sent);
		snprintf(last->ntid_reply, sizeof(last->ntid_reply), "%s", cof->ntid_reply);
	}
}

json_t *sbx_charges_json(sbx_t *s, const char *moid)
{
	json_t *arr = json_array();
	list_node_t *n, *tmp;
	list_for_each_safe(n, tmp, &s->charges.fifo) {
		sbx_charge_t *c = container_of(n, sbx_charge_t, age);
		char at[32];
		if (moid != NULL && strcmp(moid, c->moid) != 0)
			continue;
		sbx_time_iso(c->at_ms, at);
		json_array_append_new(
			arr, json_pack("{s:s, s:I, s:s, s:s, s:I, s:b, s:s, s:s, s:s, s:i, s:s, "
				       "s:b, s:s, s:s, "
				       "s:s, s:s}",
				       "service", c->service, "org", (json_int_t)c->org,
				       "merchant_order_id", c->moid, "payment_id", c->payment_id,
				       "amount", (json_int_t)c->amount, "approved", c->approved,
				       "status", c->status, "code", c->code, "message", c->message,
				       "installment", c->installment, "at", at, "recurrent",
				       c->recurrent, "initiator", c->initiator, "usage", c->usage,
				       "network_txn_id_sent", c->ntid_sent,
				       "network_txn_id_returned", c->ntid_reply));
	}
	return arr;
}

json_t *sbx_sent_json(sbx_t *s, const char *service, const char *phone)
{
	json_t *arr = json_array();
	list_node_t *n, *tmp;
	list_for_each_safe(n, tmp, &s->sent.fifo) {
		sbx_sent_t *m = container_of(n, sbx_sent_t, age);
		char at[32];
		if ((service != NULL && strcmp(service, m->service) != 0) ||
		    (phone != NULL && strcmp(phone, m->phone) != 0))
			continue;
		sbx_time_iso(m->at_ms, at);
		json_array_append_new(arr, json_pack("{s:s, s:s, s:I, s:s, s:s, s:s, s:s}",
						     "service", m->service, "channel", m->channel,
						     "org", (json_int_t)m->org, "phone", m->phone,
						     "text", m->text, "ref", m->ref, "at", at));
	}
	return arr;
}

json_t *sbx_hooklog_json(sbx_t *s, const char *service)
{
	json_t *arr = json_array();
	list_node_t *n, *tmp;
	list_for_each_safe(n, tmp, &s->hooklog.fifo) {
		sbx_hooklog_t *l = container_of(n, sbx_hooklog_t, age);
		char at[32];
		if (service != NULL && strcmp(service, l->service) != 0)
			continue;
		sbx_time_iso(l->at_ms, at);
		json_array_append_new(
			arr, json_pack("{s:I, s:I, s:s, s:I, s:i, s:i, s:s, s:s, s:s, s:s}", "seq",
				       (json_int_t)l->seq, "hook_id", (json_int_t)l->hook_id,
				       "service", l->service, "org", (json_int_t)l->org, "attempt",
				       (int)l->attempt, "status", (int)l->status, "error", l->error,
				       "fault", l->fault, "summary", l->summary, "at", at));
	}
	return arr;
}

/* ------------------------------------------------------------------ webhook outbox */

void sbx_hook_free(sbx_hook_t *h)
{
	if (h != NULL) {
		free(h->url);
		free(h->body);
		free(h);
	}
}

static sbx_hook_t *sbx_hook_clone(const sbx_hook_t *h)
{
	sbx_hook_t *c = malloc(sizeof(*c));
	if (c == NULL)
		goto out;
	*c = *h;
	list_init(&c->node);
	c->url = strdup(h->url);
	c->body = NULL;
	if (h->body != NULL) {
		c->body = malloc(h->body_len + 1);
		if (c->body != NULL) {
			memcpy(c->body, h->body, h->body_len);
			c->body[h->body_len] = '\0';
		}
	}
	if (c->url == NULL || (h->body != NULL && c->body == NULL)) {
		sbx_hook_free(c);
		c = NULL;
	}
out:
	return c;
}

/* Replaces every occurrence of cred in str (a malloc'd string) with a wrong value. */
static char *sbx_spoil(char *str, const char *cred)
{
	const char *bad = "wrong-credential";
	char *p = strstr(str, cred);
	char *res = str;
	if (p != NULL && cred[0] != '\0') {
		size_t pre = (size_t)(p - str), cl = strlen(cred), bl = strlen(bad);
		size_t rest = strlen(p + cl);
		res = malloc(pre + bl + rest + 1);
		if (res == NULL) {
			res = str;
		} else {
			memcpy(res, str, pre);
			memcpy(res + pre, bad, bl);
			memcpy(res + pre + bl, p + cl, rest + 1);
			free(str);
		}
	}
	return res;
}

static void sbx_hook_spoil(sbx_hook_t *h, const char *cred)
{
	for (size_t i = 0; i < h->n_hdr; i++) {
		if (strcasecmp(h->hdr_name[i], "Content-Type") == 0)
			continue;
		if (cred == NULL || strcmp(h->hdr_value[i], cred) == 0)
			snprintf(h->hdr_value[i], sizeof(h->hdr_value[i]), "wrong-credential");
	}
	if (cred != NULL)
		h->url = sbx_spoil(h->url, cred);
	snprintf(h->fault, sizeof(h->fault), "bad_auth");
}

/*
 * A "lie" fault: writes the fault's members into the body before it leaves,
 * URL and headers (the credentials) untouched, so the receiver takes it for
 * the service's own word. They go into each object item of the member named
 * lie_in, else of the body's one list ({"cobsr":[...]}), else into the body
 * object itself; with lie_body the fault's text replaces the whole body (of
 * a webhook carrying lie_in, when set). False (the fault not used) when there
 * is nothing to rewrite.
 */
/* Writes set's members into each object item of the list target (or into
 * target when it is an object); how many took them. */
static size_t sbx_lie_items(json_t *target, json_t *set)
{
	json_t *it;
	size_t n = 0, i;
	if (json_is_object(target))
		n = json_object_update(target, set) == 0;
	json_array_foreach(target, i, it)
	{
		if (json_is_object(it) && json_object_update(it, set) == 0)
			n++;
	}
	return n;
}

static bool sbx_hook_lie(sbx_hook_t *h, const sbx_fault_t *f)
{
	json_t *body = NULL, *set = NULL, *target;
	char *text = NULL;
	bool ok = false;

	if (h->body == NULL)
		goto out;
	body = json_loadb(h->body, h->body_len, 0, NULL);
	set = json_loads(f->lie_set, 0, NULL);
	if (!json_is_object(body) || !json_is_object(set))
		goto out;
	target = body;
	if (f->lie_in[0] != '\0')
		target = json_object_get(body, f->lie_in);
	else if (json_object_size(body) == 1 &&
		 json_is_array(json_object_iter_value(json_object_iter(body))))
		target = json_object_iter_value(json_object_iter(body));
	if (target == NULL || (!f->lie_body && sbx_lie_items(target, set) == 0))
		goto out;
	text = json_dumps(f->lie_body ? set : body, JSON_COMPACT);
	if (text == NULL)
		goto out;
	free(h->body);
	h->body = text;
	h->body_len = strlen(text);
	snprintf(h->fault, sizeof(h->fault), "lie");
	ok = true;
out:
	json_decref(body);
	json_decref(set);
	return ok;
}

static void sbx_outbox_push(sbx_t *s, sbx_hook_t *h)
{
	list_insert_tail(&s->outbox, &h->node);
	s->n_outbox++;
}

/*
 * Releases the webhooks a reorder fault held, newest first. The held list is
 * detached whole before it is walked: GCC 12 at -O2 kept the old head pointer
 * in a register across the inlined list_remove() of the form "pop the head's
 * prev until empty" and looped forever (seen in the disassembly).
 */
static void sbx_held_release(sbx_t *s)
{
	if (list_empty(&s->held))
		return;
	list_node_t *first = s->held.next, *n = s->held.prev;
	list_init(&s->held);
	s->n_held = 0;
	for (;;) {
		list_node_t *prev = n->prev;
		bool last = n == first;
		list_init(n);
		sbx_outbox_push(s, container_of(n, sbx_hook_t, node));
		if (last)
			break;
		n = prev;
	}
}

static bool sbx_fault_matches(const sbx_fault_t *f, const char *service, const char *route)
{
	return f->remaining != 0 &&
	       (strcmp(f->service, "*") == 0 || strcmp(f->service, service) == 0) &&
	       (route == NULL || strcmp(f->route, "*") == 0 || strcmp(f->route, route) == 0);
}

/* Counts one use of fault i; an exhausted fault is removed (i then names the next). */
static bool sbx_fault_use(sbx_t *s, size_t i)
{
	sbx_fault_t *f = &s->faults[i];
	bool removed = false;
	f->hits++;
	if (f->remaining > 0 && --f->remaining == 0) {
		memmove(&s->faults[i], &s->faults[i + 1], (s->n_faults - i - 1) * sizeof(*f));
		s->n_faults--;
		removed = true;
	}
	return removed;
}

void sbx_hook_emit(sbx_t *s, const char *service, uint64_t org, const char *method,
		   const char *path_query, const char *const (*headers)[2], size_t n_headers,
		   const char *body, size_t body_len, uint32_t max_attempts, const char *summary,
		   const char *cred)
{
	sbx_hook_t *h = NULL;
	uint32_t copies = 0, batch = 0, window = 0;
	bool reorder = false, drop = false;
	size_t ulen = strlen(s->webhook_base) + strlen(service) + strlen(path_query) + 48;

	if (s->n_outbox + s->n_held >= SBX_MAX_OUTBOX) {
		/* Bounded: past the cap new webhooks are lost, and the log says so. */
		s->hooks_overflowed++;
		goto out;
	}
	h = calloc(1, sizeof(*h));
	if (h == NULL)
		goto out;
	list_init(&h->node);
	h->id = ++s->next_hook_id;
	h->org = org;
	snprintf(h->service, sizeof(h->service), "%s", service);
	snprintf(h->method, sizeof(h->method), "%s", method);
	snprintf(h->summary, sizeof(h->summary), "%s", summary);
	h->max_attempts = max_attempts;
	h->url = malloc(ulen);
	if (h->url == NULL)
		goto fail;
	snprintf(h->url, ulen, "%s/webhooks/%s/%" PRIu64 "%s", s->webhook_base, service, org,
		 path_query);
	for (size_t i = 0; i < n_headers && i < SBX_HOOK_MAX_HDR; i++) {
		snprintf(h->hdr_name[i], sizeof(h->hdr_name[i]), "%s", headers[i][0]);
		snprintf(h->hdr_value[i], sizeof(h->hdr_value[i]), "%s", headers[i][1]);
		h->n_hdr++;
	}
	if (body != NULL) {
		h->body = malloc(body_len + 1);
		if (h->body == NULL)
			goto fail;
		memcpy(h->body, body, body_len);
		h->body[body_len] = '\0';
		h->body_len = body_len;
	}

	for (size_t i = 0; i < s->n_faults;) {
		sbx_fault_t f = s->faults[i];
		bool hookf = f.kind >= SBX_F_HOOK_DUPLICATE;
		if (!hookf || !sbx_fault_matches(&f, service, NULL)) {
			i++;
			continue;
		}
		switch (f.kind) {
		case SBX_F_HOOK_DROP:
			drop = true;
			break;
		case SBX_F_HOOK_BAD_AUTH:
			sbx_hook_spoil(h, cred);
			break;
		case SBX_F_HOOK_LIE:
			if (!sbx_hook_lie(h, &f)) {
				i++; /* not this webhook's body: kept for the next one */
				continue;
			}
			break;
		case SBX_F_HOOK_DELAY:
			h->delay_ms += f.ms;
			if (h->fault[0] == '\0')
				snprintf(h->fault, sizeof(h->fault), "delay");
			break;
		case SBX_F_HOOK_DUPLICATE:
			copies += f.copies;
			if (h->fault[0] == '\0')
				snprintf(h->fault, sizeof(h->fault), "duplicate");
			break;
		case SBX_F_HOOK_REORDER:
			reorder = true;
			batch = f.copies;
			window = f.ms;
			if (h->fault[0] == '\0')
				snprintf(h->fault, sizeof(h->fault), "reorder");
			break;
		default:
			break;
		}
		if (!sbx_fault_use(s, i))
			i++;
	}
	if (drop) {
		snprintf(h->fault, sizeof(h->fault), "drop");
		sbx_hook_record(s, h, 0, "dropped by fault");
		goto fail;
	}
	for (uint32_t c = 0; c <= copies; c++) {
		sbx_hook_t *one = c == copies ? h : sbx_hook_clone(h);
		if (one == NULL)
			continue;
		if (reorder) {
			if (list_empty(&s->held))
				s->held_since = util_mono_ms();
			list_insert_tail(&s->held, &one->node);
			s->n_held++;
			s->held_batch = batch;
			s->held_window_ms = window;
		} else {
			sbx_outbox_push(s, one);
		}
	}
	h = NULL;
	if (reorder && s->n_held >= s->held_batch)
		sbx_held_release(s);
	goto out;
fail:
	sbx_hook_free(h);
out:
	return;
}

sbx_hook_t *sbx_outbox_pop(sbx_t *s)
{
	sbx_hook_t *h = NULL;
	if (!list_empty(&s->outbox)) {
		list_node_t *n = s->outbox.next;
		list_remove(n);
		s->n_outbox--;
		h = container_of(n, sbx_hook_t, node);
	}
	return h;
}

void sbx_tick(sbx_t *s, uint64_t now_ms)
{
	s->now_mono = now_ms;
	if (s->n_held > 0 && now_ms >= s->held_since + s->held_window_ms)
		sbx_held_release(s);
}

uint32_t sbx_hook_retry_ms(const sbx_t *s)
{
	return s->hook_retry_ms;
}

uint32_t sbx_hook_timeout_ms(const sbx_t *s)
{
	return s->hook_timeout_ms;
}

uint64_t sbx_epoch(const sbx_t *s)
{
	return s->epoch;
}

static void sbx_hooks_clear(sbx_t *s)
{
	sbx_hook_t *h;
	while ((h = sbx_outbox_pop(s)) != NULL)
		sbx_hook_free(h);
	while (!list_empty(&s->held)) {
		list_node_t *n = s->held.next;
		list_remove(n);
		sbx_hook_free(container_of(n, sbx_hook_t, node));
	}
	s->n_held = 0;
}

/* ------------------------------------------------------------------ lifecycle */

static void sbx_settings_default(sbx_t *s)
{
	s->gn_token_ttl_ms = 3600u * 1000u;
	s->hook_retry_ms = 2000;
	s->hook_timeout_ms = 10000;
	s->pl_expiry_s = 3 * 86400;
	s->require_ntid = 0;
	s->cielo_next_n = 0;
}

int sbx_tables_open(sbx_t *s, const sbx_table_spec_t *specs, size_t n)
{
	int rc = 0;
	for (size_t i = 0; i < n && rc == 0; i++) {
		if (s->n_tables >= SBX_MAX_TABLES) {
			rc = -ENOSPC;
		} else {
			/* Kept before it opens: a half-opened table is closed all the same. */
			s->tables[s->n_tables++] = specs[i].table;
			rc = sbx_table_open(&specs[i]);
		}
	}
	return rc;
}

void sbx_clear(sbx_t *s, bool keep_orgs)
{
	for (size_t i = 0; i < s->n_tables; i++)
		sbx_table_clear(s->tables[i]);
	sbx_hooks_clear(s);
	s->n_faults = 0;
	if (!keep_orgs)
		s->n_orgs = 0;
	sbx_settings_default(s);
	s->px_today = 0;
	s->hooks_overflowed = 0;
	s->epoch++;
}

/* The emulator's own tables: what it recorded. */
static int sbx_recordings_init(sbx_t *s)
{
	const sbx_table_spec_t tables[] = {
		{.table = &s->sent, .cap = SBX_MAX_SENT, .forget = sbx_sent_forget},
		{.table = &s->charges,
		 .cap = SBX_MAX_CHARGES,
		 .idx = {SBX_INDEX(&s->charge_by_moid, sbx_charge_t, by_moid, moid)}},
		{.table = &s->hooklog, .cap = SBX_MAX_HOOKLOG},
	};
	return sbx_tables_open(s, tables, OSPAY_ARRAY_LEN(tables));
}

sbx_t *sbx_new(const char *webhook_base, const char *self_base)
{
	static int (*const inits[])(sbx_t *) = {sbx_recordings_init, sbx_cielo_init,
						sbx_getnet_init,     sbx_pagolivre_init,
						sbx_zapme_init,      sbx_pix_init};
	sbx_t *s = calloc(1, sizeof(*s));
	int rc = 0;
	if (s == NULL)
		goto out;
	list_init(&s->outbox);
	list_init(&s->held);
	sbx_settings_default(s);
	s->webhook_base = strdup(webhook_base);
	s->self_base = strdup(self_base);
	rc = s->webhook_base == NULL || s->self_base == NULL ? -ENOMEM : 0;
	for (size_t i = 0; i < OSPAY_ARRAY_LEN(inits) && rc == 0; i++)
		rc = inits[i](s);
	if (rc != 0) {
		sbx_free(s);
		s = NULL;
	}
out:
	return s;
}

void sbx_free(sbx_t *s)
{
	if (s == NULL)
		return;
	sbx_hooks_clear(s);
	for (size_t i = 0; i < s->n_tables; i++)
		sbx_table_close(s->tables[i]);
	free(s->webhook_base);
	free(s->self_base);
	free(s);
}

void sbx_resp_free(sbx_resp_t *rs)
{
	free(rs->body);
	rs->body = NULL;
	rs->body_len = 0;
}

/* ------------------------------------------------------------------ routing */

static bool sbx_match(const char *pat, const char *path, char *argbuf, size_t argcap,
		      const char **args)
{
	size_t used = 0, na = 0;
	bool ok = true;
	while (ok && *pat != '\0' && *path != '\0') {
		if (*pat == '*') {
			size_t n = strcspn(path, "/");
			ok = n > 0 && na < SBX_MAX_ARGS && used + n + 1 <= argcap;
			if (ok) {
				memcpy(argbuf + used, path, n);
				argbuf[used + n] = '\0';
				args[na++] = argbuf + used;
				used += n + 1;
				path += n;
				pat++;
			}
		} else {
			ok = *pat == *path;
			pat++;
			path++;
		}
	}
	return ok && *pat == '\0' && *path == '\0';
}

const sbx_route_t *sbx_route_find(const sbx_route_t *table, size_t n, const char *method,
				  const char *path, char *argbuf, size_t argcap, const char **args,
				  bool *method_mismatch)
{
	const sbx_route_t *r = NULL;
	*method_mismatch = false;
	for (size_t i = 0; i < n && r == NULL; i++) {
		/* Each pattern starts afresh: no segment of a failed one is left behind. */
		memset(args, 0, (SBX_MAX_ARGS + 1) * sizeof(*args));
		if (!sbx_match(table[i].pattern, path, argbuf, argcap, args))
			continue;
		if (strcmp(table[i].method, method) == 0)
			r = &table[i];
		else
			*method_mismatch = true;
	}
	return r;
}

/* Runs route once the service's credentials name an organization (its open route
 * at once), with the body parsed. */
static void sbx_call_route(sbx_t *s, const sbx_service_t *svc, const sbx_route_t *route,
			   const sbx_req_t *rq, const char *const *args, sbx_resp_t *rs)
{
	bool open = svc->open != NULL && strcmp(route->name, svc->open) == 0;
	sbx_call_t call = {rq, args, NULL, open ? NULL : svc->auth(s, rq, rs)};
	if (open || call.org != NULL) {
		call.body = sbx_req_json(rq);
		route->fn(s, &call, rs);
		json_decref(call.body);
	}
}

/* Cuts the body in half and adds bytes no JSON parser accepts. */
static void sbx_garble(sbx_resp_t *rs)
{
	static const char tail[] = "\x01<!-- truncated -->";
	size_t keep = rs->body_len / 2;
	char *nb = malloc(keep + sizeof(tail));
	if (nb != NULL) {
		if (keep > 0)
			memcpy(nb, rs->body, keep);
		memcpy(nb + keep, tail, sizeof(tail));
		free(rs->body);
		rs->body = nb;
		rs->body_len = keep + sizeof(tail) - 1;
		if (rs->status == 204)
			rs->status = 200;
		if (rs->content_type == NULL)
			rs->content_type = "application/json; charset=utf-8";
	}
}

void sbx_handle(sbx_t *s, const sbx_req_t *rq, sbx_resp_t *rs)
{
	const sbx_service_t *svc = NULL;
	const sbx_route_t *route = NULL;
	const char *sub = NULL;
	char path[SBX_MAX_PATH];
	char argbuf[SBX_MAX_PATH];
	const char *args[SBX_MAX_ARGS + 1] = {0};
	bool mismatch = false;
	sbx_fault_t term = {0};
	bool has_term = false;
	uint32_t latency = 0;

	memset(rs, 0, sizeof(*rs));
	rs->status = 404;
	if (strncmp(rq->path, "/control", 8) == 0 && (rq->path[8] == '/' || rq->path[8] == '\0')) {
		sbx_control(s, rq, rq->path + 8, rs);
		goto out;
	}
	for (size_t i = 0; i < OSPAY_ARRAY_LEN(sbx_services) && svc == NULL; i++) {
		size_t pl = strlen(sbx_services[i].prefix);
		if (strncmp(rq->path, sbx_services[i].prefix, pl) == 0 &&
		    (rq->path[pl] == '/' || rq->path[pl] == '\0')) {
			svc = &sbx_services[i];
			sub = rq->path + pl;
		}
	}
	if (svc == NULL || strlen(sub) >= sizeof(path)) {
		sbx_resp_json(rs, 404, json_pack("{s:s}", "message", "no such route"));
		goto out;
	}
	/* Cielo documents "POST /1/sales/" with the slash; both forms are served. */
	snprintf(path, sizeof(path), "%s", sub[0] == '\0' ? "/" : sub);
	size_t pl = strlen(path);
	if (pl > 1 && path[pl - 1] == '/')
		path[pl - 1] = '\0';
	route = sbx_route_find(svc->routes, *svc->n_routes, rq->method, path, argbuf,
			       sizeof(argbuf), args, &mismatch);
	if (route == NULL) {
		sbx_resp_json(rs, mismatch ? 405 : 404,
			      json_pack("{s:s}", "message",
					mismatch ? "method not allowed" : "no such route"));
		goto out;
	}

	for (size_t i = 0; i < s->n_faults;) {
		sbx_fault_t f = s->faults[i];
		if (f.kind >= SBX_F_HOOK_DUPLICATE ||
		    !sbx_fault_matches(&f, svc->name, route->name) ||
		    (f.kind != SBX_F_LATENCY && has_term)) {
			i++;
			continue;
		}
		if (f.kind == SBX_F_LATENCY) {
			latency += f.ms;
		} else {
			term = f;
			has_term = true;
		}
		if (!sbx_fault_use(s, i))
			i++;
	}

	if (!has_term || term.process)
		sbx_call_route(s, svc, route, rq, args, rs);
	if (has_term) {
		switch (term.kind) {
		case SBX_F_HTTP500:
			sbx_resp_set(rs, 500, "text/html; charset=utf-8",
				     "<html><body><h1>500 Internal Server Error</h1></body></html>",
				     59);
			break;
		case SBX_F_TIMEOUT:
			rs->action = SBX_ACT_HANG;
			break;
		case SBX_F_RESET:
			rs->action = SBX_ACT_RESET;
			break;
		case SBX_F_MALFORMED:
			sbx_garble(rs);
			break;
		default:
			break;
		}
	}
	rs->delay_ms = latency;
out:
	return;
}

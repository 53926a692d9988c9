#include "server/rpc/kit.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/util.h"
#include "core/text.h"
#include "ospay/v1/common.pb-c.h"
#include "server/db/db.h"

#define TOKEN_VERSION 1

bool kit_check_record(srv_req_t *r, enum perm_action action, uint64_t org_id, uint64_t unit_id)
{
	return perm_check(&r->sess->p, action, org_id, unit_id, &r->st) == ST_OK;
}

bool kit_sees(const srv_req_t *r, uint64_t org_id, uint64_t unit_id)
{
	return org_id == r->sess->p.org_id && perm_sees_unit(&r->sess->p, unit_id);
}

int kit_load(store_txn_t *txn, unsigned table, uint64_t id, const ProtobufCMessageDescriptor *desc,
	     void *out)
{
	return db_get_by_id(txn, table, id, desc, (ProtobufCMessage **)out);
}

int kit_read(srv_req_t *r, store_txn_t *txn, unsigned table, uint64_t id,
	     const ProtobufCMessageDescriptor *desc, void *out)
{
	int rc = db_get_by_id(txn, table, id, desc, out);
	return rc == 0 ? srv_keep(r, out) : rc;
}

const kit_rec_t kit_agendas = {.table = DB_AGENDAS,
			       .desc = &ospay__v1__agenda__descriptor,
			       .lookup = "agenda lookup",
			       .nf_before = "no agenda ",
			       .nf_after = ""};
const kit_rec_t kit_customers = {.table = DB_CUSTOMERS,
				 .desc = &ospay__v1__customer__descriptor,
				 .lookup = "customer lookup",
				 .nf_before = "no customer ",
				 .nf_after = ""};
const kit_rec_t kit_orders = {.table = DB_ORDERS,
			      .desc = &ospay__v1__order__descriptor,
			      .lookup = "order lookup",
			      .nf_before = "no order ",
			      .nf_after = ""};
const kit_rec_t kit_services = {.table = DB_SERVICES,
				.desc = &ospay__v1__customer_service__descriptor,
				.lookup = "service lookup",
				.nf_before = "no service ",
				.nf_after = ""};
const kit_rec_t kit_technicians = {.table = DB_TECHNICIANS,
				   .desc = &ospay__v1__technician__descriptor,
				   .lookup = "technician lookup",
				   .nf_before = "no technician ",
				   .nf_after = ""};

/* A stored card's owner is its Card's. */
static void card_owner(const ProtobufCMessage *m, uint64_t *org, uint64_t *unit)
{
	const Ospay__V1__Card *c = ((const Ospay__V1__CardRecord *)m)->card;
	*org = c != NULL ? c->organization_id : 0;
	*unit = c != NULL ? c->unit_id : 0;
}

const kit_rec_t kit_bill_cards = {.table = DB_CARDS,
				  .desc = &ospay__v1__card_record__descriptor,
				  .lookup = "card lookup",
				  .nf_before = "card ",
				  .nf_after = " not found",
				  .owner = card_owner};
const kit_rec_t kit_bill_charges = {.table = DB_CHARGES,
				    .desc = &ospay__v1__charge__descriptor,
				    .lookup = "charge lookup",
				    .nf_before = "charge ",
				    .nf_after = " not found"};
const kit_rec_t kit_bill_customers = {.table = DB_CUSTOMERS,
				      .desc = &ospay__v1__customer__descriptor,
				      .lookup = "customer lookup",
				      .nf_before = "customer ",
				      .nf_after = " not found"};
const kit_rec_t kit_bill_invoices = {.table = DB_INVOICES,
				     .desc = &ospay__v1__invoice__descriptor,
				     .lookup = "invoice lookup",
				     .nf_before = "invoice ",
				     .nf_after = " not found"};

/* kit_get's work; action NULL: seeing the record is enough. */
static int get(srv_req_t *r, store_txn_t *txn, const kit_rec_t *k, const char *field, uint64_t id,
	       const enum perm_action *action, ProtobufCMessage **m)
{
	uint64_t org, unit;
	*m = NULL;
	if (id == 0 && field != NULL) {
		status_violation(&r->st, field, "required");
		return 0;
	}
	int rc = db_get_by_id(txn, k->table, id, k->desc, m);
	if (rc == 0) {
		(k->owner != NULL ? k->owner : kit_owner)(*m, &org, &unit);
		bool ok = action != NULL ? kit_check_record(r, *action, org, unit)
					 : kit_sees(r, org, unit);
		/* Not the caller's to see reads as missing; a role's refusal stays. */
		if (!ok && (action == NULL || r->st.code == ST_NOT_FOUND))
			rc = -ENOENT;
		if (!ok) {
			protobuf_c_message_free_unpacked(*m, NULL);
			*m = NULL;
		}
	}
	if (rc == -ENOENT)
		return srv_fail(r, ST_NOT_FOUND, "%s%llu%s", k->nf_before, (unsigned long long)id,
				k->nf_after);
	return rc != 0 ? srv_store_fail(r, rc, k->lookup) : srv_keep(r, m);
}

int kit_get(srv_req_t *r, store_txn_t *txn, const kit_rec_t *k, const char *field, uint64_t id,
	    enum perm_action action, void *out)
{
	return get(r, txn, k, field, id, &action, out);
}

int kit_get_seen(srv_req_t *r, store_txn_t *txn, const kit_rec_t *k, uint64_t id, void *out)
{
	return get(r, txn, k, NULL, id, NULL, out);
}

int kit_reply_one(srv_req_t *r, const ProtobufCMessageDescriptor *resp, const ProtobufCMessage *m)
{
	const ProtobufCFieldDescriptor *f = protobuf_c_message_descriptor_get_field(resp, 1);
	ProtobufCMessage *reply = NULL;
	int rc = 0;
	if (f == NULL || f->type != PROTOBUF_C_TYPE_MESSAGE || f->descriptor != m->descriptor) {
		rc = -EINVAL;
		goto out;
	}
	reply = calloc(1, resp->sizeof_message);
	if (reply == NULL) {
		rc = -ENOMEM;
		goto out;
	}
	resp->message_init(reply);
	/* Borrowed: only the shell is freed below. */
	memcpy((char *)reply + f->offset, &m, sizeof(m));
	rc = srv_reply_msg(r, reply);
out:
	free(reply);
	return rc;
}

int kit_reply_get(srv_req_t *r, store_txn_t *txn, const kit_rec_t *k, const char *field,
		  uint64_t id, enum perm_action action, const ProtobufCMessageDescriptor *resp)
{
	const ProtobufCFieldDescriptor *f = protobuf_c_message_descriptor_get_field(resp, 1);
	ProtobufCMessage *m = NULL;
	if (f == NULL || f->type != PROTOBUF_C_TYPE_MESSAGE || f->descriptor != k->desc)
		return -EINVAL;
	int rc = kit_get(r, txn, k, field, id, action, &m);
	if (rc == 0 && srv_ok(r))
		rc = kit_reply_one(r, resp, m);
	return rc;
}

int kit_unit_for_create(srv_req_t *r, store_txn_t *txn, const char *field, uint64_t unit_id,
			enum perm_action action, uint64_t *unit)
{
	const perm_principal_t *p = &r->sess->p;
	Ospay__V1__Unit *u = NULL;
	int rc = 0;
	if (unit_id == 0 && !p->org_wide && p->n_units == 1)
		unit_id = p->unit_ids[0];
	if (unit_id == 0) {
		status_violation(&r->st, field, "required: the unit this belongs to");
		goto out;
	}
	if (!srv_check(r, action, unit_id))
		goto out;
	rc = kit_load(txn, DB_UNITS, unit_id, &ospay__v1__unit__descriptor, &u);
	if (rc == -ENOENT || (rc == 0 && u->organization_id != p->org_id)) {
		status_violation(&r->st, field, "no unit %llu in this organization",
				 (unsigned long long)unit_id);
		rc = 0;
		goto out;
	}
	if (rc != 0) {
		rc = srv_store_fail(r, rc, "unit lookup");
		goto out;
	}
	*unit = unit_id;
out:
	ospay__v1__unit__free_unpacked(u, NULL);
	return rc;
}

int kit_scope_units(srv_req_t *r, store_txn_t *txn, uint64_t unit_filter, uint64_t **units,
		    size_t *n)
{
	const perm_principal_t *p = &r->sess->p;
	uint64_t *out = NULL;
	size_t cnt = 0, cap = 0;
	store_cursor_t *cur = NULL;
	int rc = 0;
	*units = NULL;
	*n = 0;
	if (unit_filter != 0) {
		/* An org-wide token could name another organization's unit: check. */
		Ospay__V1__Unit *u = NULL;
		rc = kit_load(txn, DB_UNITS, unit_filter, &ospay__v1__unit__descriptor, &u);
		bool visible = rc == 0 && u->organization_id == p->org_id &&
			       perm_sees_unit(p, unit_filter);
		ospay__v1__unit__free_unpacked(u, NULL);
		if (rc == -ENOENT)
			rc = 0;
		if (rc != 0 || !visible)
			goto out;
		out = malloc(sizeof(*out));
		if (out == NULL) {
			rc = -ENOMEM;
			goto out;
		}
		out[cnt++] = unit_filter;
		goto out;
	}
	if (!p->org_wide) {
		if (p->n_units > 0) {
			out = malloc(p->n_units * sizeof(*out));
			if (out == NULL) {
				rc = -ENOMEM;
				goto out;
			}
			memcpy(out, p->unit_ids, p->n_units * sizeof(*out));
			cnt = p->n_units;
		}
		goto out;
	}
	rc = store_cursor_open(txn, DB_UNITS_BY_ORG, &cur);
	if (rc != 0)
		goto out;
	uint8_t k[8], v0[8];
	be64_put(k, p->org_id);
	be64_put(v0, 0);
	store_val_t ck, cv;
	for (rc = store_cursor_seek_dup(cur, k, 8, v0, 8, &ck, &cv); rc == 0;
	     rc = store_cursor_next_dup(cur, &ck, &cv)) {
		if (cnt == cap) {
			size_t ncap = cap == 0 ? 16 : cap * 2;
			uint64_t *grown = realloc(out, ncap * sizeof(*out));
			if (grown == NULL) {
				rc = -ENOMEM;
				goto out;
			}
			out = grown;
			cap = ncap;
		}
		out[cnt++] = be64_get(cv.data);
	}
	if (rc == -ENOENT)
		rc = 0;
out:
	store_cursor_close(cur);
	if (rc != 0) {
		free(out);
		out = NULL;
		cnt = 0;
	}
	*units = out;
	*n = cnt;
	return rc;
}

int kit_scan_units(srv_req_t *r, store_txn_t *txn, uint64_t unit_filter, unsigned table, int tag,
		   const uint8_t *from, db_scan_t **scan)
{
	uint64_t *units = NULL;
	size_t nu = 0, klen = tag >= 0 ? 9 : 8;
	uint8_t one[9], *keys = one;
	int rc = kit_scope_units(r, txn, unit_filter, &units, &nu);

	*scan = NULL;
	if (rc != 0 || nu == 0)
		goto out;
	/* Most tokens see one unit: no allocation for its key. */
	if (nu > 1) {
		keys = malloc(nu * klen);
		if (keys == NULL) {
			rc = -ENOMEM;
			goto out;
		}
	}
	for (size_t i = 0; i < nu; i++) {
		be64_put(keys + i * klen, units[i]);
		if (tag >= 0)
			keys[i * klen + 8] = (uint8_t)tag;
	}
	rc = db_scan_open(txn, table, keys, klen, nu, from, DB_POS_LEN, scan);
out:
	if (keys != one)
		free(keys);
	free(units);
	return rc;
}

size_t kit_page_limit(uint32_t page_size)
{
	if (page_size == 0)
		return KIT_PAGE_DEFAULT;
	return page_size > KIT_PAGE_MAX ? KIT_PAGE_MAX : page_size;
}

void kit_token_encode(uint8_t kind, const uint8_t *raw, size_t n, char out[KIT_TOKEN_MAX])
{
	uint8_t buf[2 + KIT_TOKEN_RAW_MAX];
	if (n > KIT_TOKEN_RAW_MAX)
		n = KIT_TOKEN_RAW_MAX;
	buf[0] = TOKEN_VERSION;
	buf[1] = kind;
	memcpy(buf + 2, raw, n);
	crypto_base64url(buf, n + 2, out);
}

bool kit_token_decode(const char *tok, uint8_t kind, uint8_t *raw, size_t n)
{
	uint8_t buf[2 + KIT_TOKEN_RAW_MAX + 3];
	size_t len = strlen(tok), out = 0;
	/* Exactly the unpadded length: padding and other lengths are not ours. */
	if (n > KIT_TOKEN_RAW_MAX || len != ((n + 2) * 4 + 2) / 3)
		return false;
	if (crypto_base64_decode(tok, len, buf, &out) != 0 || out != n + 2 ||
	    buf[0] != TOKEN_VERSION || buf[1] != kind)
		return false;
	memcpy(raw, buf + 2, n);
	return true;
}

int kit_list_by_keys(srv_req_t *r, store_txn_t *txn, unsigned index, const uint64_t *ids,
		     size_t nkeys, unsigned table, const ProtobufCMessageDescriptor *desc,
		     uint8_t token_kind, uint32_t page_size, const char *page_token,
		     ProtobufCMessage ***items, size_t *n, char next[KIT_TOKEN_MAX])
{
	size_t cnt = 0;
	ProtobufCMessage **out = NULL;
	db_scan_t *scan = NULL;
	uint8_t from[8], keys_buf[8];
	uint8_t *keys = NULL;
	uint64_t after = 0;
	int rc = 0;
	next[0] = '\0';
	if (page_token[0] != '\0') {
		uint8_t raw[8];
		if (!kit_token_decode(page_token, token_kind, raw, sizeof(raw))) {
			status_violation(&r->st, "page_token", "not a page token from this method");
			goto out;
		}
		after = be64_get(raw);
	}
	size_t limit = kit_page_limit(page_size);
	out = calloc(limit, sizeof(*out));
	if (out == NULL) {
		rc = -ENOMEM;
		goto out;
	}
	if (nkeys == 0 || after == UINT64_MAX)
		goto out;
	keys = nkeys == 1 ? keys_buf : malloc(nkeys * 8);
	if (keys == NULL) {
		rc = -ENOMEM;
		goto out;
	}
	for (size_t i = 0; i < nkeys; i++)
		be64_put(keys + i * 8, ids[i]);
	be64_put(from, after + 1);
	rc = db_scan_open(txn, index, keys, 8, nkeys, from, 8, &scan);
	const uint8_t *v;
	while (rc == 0) {
		rc = db_scan_next(scan, &v);
		if (rc != 0)
			break;
		if (cnt == limit) {
			uint8_t raw[8];
			be64_put(raw, after);
			kit_token_encode(token_kind, raw, sizeof(raw), next);
			break;
		}
		after = be64_get(v);
		int g = db_get_by_id(txn, table, after, desc, &out[cnt]);
		/* An index entry without its record is corruption, not the end. */
		rc = g == -ENOENT ? -EBADMSG : g;
		if (rc == 0)
			cnt++;
	}
	if (rc == -ENOENT)
		rc = 0;
out:
	if (rc < 0 && rc != -ENOMEM)
		rc = srv_store_fail(r, rc, "list");
	db_scan_close(scan);
	if (keys != keys_buf)
		free(keys);
	*items = out;
	*n = cnt;
	return rc;
}

int kit_list_by_unit(srv_req_t *r, store_txn_t *txn, unsigned index, unsigned table,
		     const ProtobufCMessageDescriptor *desc, uint8_t token_kind,
		     uint64_t unit_filter, uint32_t page_size, const char *page_token,
		     ProtobufCMessage ***items, size_t *n, char next[KIT_TOKEN_MAX])
{
	uint64_t *units = NULL;
	size_t nu = 0;
	*items = NULL;
	*n = 0;
	next[0] = '\0';
	int rc = kit_scope_units(r, txn, unit_filter, &units, &nu);
	if (rc != 0)
		rc = srv_store_fail(r, rc, "list scope");
	else
		rc = kit_list_by_keys(r, txn, index, units, nu, table, desc, token_kind, page_size,
				      page_token, items, n, next);
	free(units);
	return rc;
}

int kit_reply_list(srv_req_t *r, const ProtobufCMessageDescriptor *resp, ProtobufCMessage **items,
		   size_t n, const char *next)
{
	const ProtobufCFieldDescriptor *f = protobuf_c_message_descriptor_get_field(resp, 1);
	const ProtobufCFieldDescriptor *t = protobuf_c_message_descriptor_get_field(resp, 2);
	if (f == NULL || f->label != PROTOBUF_C_LABEL_REPEATED ||
	    f->type != PROTOBUF_C_TYPE_MESSAGE || t == NULL || t->type != PROTOBUF_C_TYPE_STRING ||
	    t->label == PROTOBUF_C_LABEL_REPEATED)
		return -EINVAL;
	ProtobufCMessage *m = calloc(1, resp->sizeof_message);
	if (m == NULL)
		return -ENOMEM;
	resp->message_init(m);
	/* Borrowed, like a response on the stack: only m itself is freed. */
	memcpy((char *)m + f->quantifier_offset, &n, sizeof(n));
	memcpy((char *)m + f->offset, &items, sizeof(items));
	memcpy((char *)m + t->offset, &next, sizeof(next));
	int rc = srv_reply_msg(r, m);
	free(m);
	return rc;
}

int kit_reply_list_by_unit(srv_req_t *r, store_txn_t *txn, const kit_rec_t *k, unsigned index,
			   uint8_t token_kind, uint64_t unit_filter, uint32_t page_size,
			   const char *page_token, const ProtobufCMessageDescriptor *resp)
{
	ProtobufCMessage **items = NULL;
	size_t n = 0;
	char next[KIT_TOKEN_MAX];
	int rc = kit_list_by_unit(r, txn, index, k->table, k->desc, token_kind, unit_filter,
				  page_size, page_token, &items, &n, next);
	if (rc == 0 && srv_ok(r))
		rc = kit_reply_list(r, resp, items, n, next);
	kit_items_free(items, n);
	return rc;
}

void kit_items_free(ProtobufCMessage **items, size_t n)
{
	for (size_t i = 0; i < n; i++)
		protobuf_c_message_free_unpacked(items[i], NULL);
	free(items);
}

uint32_t kit_mask_parse(srv_req_t *r, char **mask, size_t n_mask, const char *const *paths,
			size_t n_paths, bool *bad)
{
	uint32_t bits = 0;
	*bad = false;
	for (size_t i = 0; i < n_mask; i++) {
		size_t j = 0;
		while (j < n_paths && strcmp(mask[i], paths[j]) != 0)
			j++;
		if (j == n_paths) {
			status_violation(&r->st, "update_mask", "unknown field \"%.40s\"", mask[i]);
			*bad = true;
		} else {
			bits |= UINT32_C(1) << j;
		}
	}
	return bits;
}

bool kit_check_name(srv_req_t *r, const char *field, const char *s, size_t max)
{
	const char *why = text_check_name(s, max);
	if (why != NULL)
		status_violation(&r->st, field, "%s", why);
	return why == NULL;
}

bool kit_check_text(srv_req_t *r, const char *field, const char *s, size_t max)
{
	size_t n = strlen(s);
	const char *why = NULL;
	if (n > max)
		why = "too long";
	else if (!text_utf8_valid(s, n))
		why = "not valid UTF-8";
	for (size_t i = 0; i < n && why == NULL; i++) {
		unsigned char c = (unsigned char)s[i];
		if ((c < 0x20 && c != '\n' && c != '\t') || c == 0x7F)
			why = "control characters are not allowed";
	}
	if (why != NULL)
		status_violation(&r->st, field, "%s", why);
	return why == NULL;
}

int kit_org_offset(srv_req_t *r, store_txn_t *txn, int *offset_min)
{
	Ospay__V1__Organization *org = NULL;
	int rc = kit_load(txn, DB_ORGS, r->sess->p.org_id, &ospay__v1__organization__descriptor,
			  &org);
	if (rc == 0)
		*offset_min = org->utc_offset_minutes;
	ospay__v1__organization__free_unpacked(org, NULL);
	return rc;
}

void kit_agenda_rules(const Ospay__V1__Agenda *a, int offset_min, agenda_window_t *buf,
		      agenda_rules_t *out)
{
	size_t n = a->n_windows < AGENDA_MAX_WINDOWS ? a->n_windows : AGENDA_MAX_WINDOWS;
	for (size_t i = 0; i < n; i++) {
		buf[i].weekday = (int)a->windows[i]->weekday;
		buf[i].start_min = a->windows[i]->start_minute;
		buf[i].end_min = a->windows[i]->end_minute;
		buf[i].capacity = a->windows[i]->capacity;
	}
	out->windows = buf;
	out->n_windows = n;
	out->daily_max = a->daily_max;
	out->slot_minutes = a->slot_minutes;
	out->utc_offset_min = offset_min;
}

/* Reads a uint64 field by name through the message's descriptor. */
static uint64_t field_u64(const ProtobufCMessage *m, const char *name)
{
	const ProtobufCFieldDescriptor *f =
		protobuf_c_message_descriptor_get_field_by_name(m->descriptor, name);
	if (f == NULL || f->type != PROTOBUF_C_TYPE_UINT64 || f->label == PROTOBUF_C_LABEL_REPEATED)
		return 0;
	uint64_t v;
	memcpy(&v, (const char *)m + f->offset, sizeof(v));
	return v;
}

void kit_owner(const ProtobufCMessage *m, uint64_t *org, uint64_t *unit)
{
	*org = field_u64(m, "organization_id");
	*unit = field_u64(m, "unit_id");
}

int kit_new_id(srv_req_t *r, store_txn_t *txn, const char *seq, uint64_t *id)
{
	char what[64];
	if (!srv_ok(r))
		return 0;
	int rc = store_seq_next(txn, seq, id);
	if (rc == 0)
		return 0;
	snprintf(what, sizeof(what), "%s id", seq);
	for (char *c = what; *c != '\0'; c++)
		if (*c == '_')
			*c = ' ';
	return srv_store_fail(r, rc, what);
}

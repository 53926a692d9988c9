#include "server/db/db.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "common/crypto.h"
#include "common/util.h"
#include "core/date.h"

const store_table_def_t db_tables[DB_N_TABLES] = {
	[DB_ORGS] = {"orgs", 0},
	[DB_UNITS] = {"units", 0},
	[DB_UNITS_BY_ORG] = {"units_by_org", STORE_DUPSORT},
	[DB_TOKENS] = {"tokens", 0},
	[DB_TOKENS_BY_HASH] = {"tokens_by_hash", 0},
	[DB_IDEM] = {"idempotency", 0},
	[DB_IDEM_BY_TIME] = {"idempotency_by_time", 0},
	[DB_CUSTOMERS] = {"customers", 0},
	[DB_CUSTOMERS_BY_UNIT] = {"customers_by_unit", STORE_DUPSORT},
	[DB_CUSTOMERS_BY_DOC] = {"customers_by_document", 0},
	[DB_SERVICES] = {"services", 0},
	[DB_SERVICES_BY_CUST] = {"services_by_customer", STORE_DUPSORT},
	[DB_TECHNICIANS] = {"technicians", 0},
	[DB_TECHNICIANS_BY_UNIT] = {"technicians_by_unit", STORE_DUPSORT},
	[DB_AGENDAS] = {"agendas", 0},
	[DB_AGENDAS_BY_UNIT] = {"agendas_by_unit", STORE_DUPSORT},
	[DB_ORDERS] = {"orders", 0},
	[DB_ORD_C_UNIT] = {"orders_c_unit", STORE_DUPSORT},
	[DB_ORD_C_STATUS] = {"orders_c_status", STORE_DUPSORT},
	[DB_ORD_C_PAY] = {"orders_c_payment", STORE_DUPSORT},
	[DB_ORD_C_AGENDA] = {"orders_c_agenda", STORE_DUPSORT},
	[DB_ORD_C_TECH] = {"orders_c_technician", STORE_DUPSORT},
	[DB_ORD_C_CUSTOMER] = {"orders_c_customer", STORE_DUPSORT},
	[DB_ORD_S_UNIT] = {"orders_s_unit", STORE_DUPSORT},
	[DB_ORD_S_AGENDA] = {"orders_s_agenda", STORE_DUPSORT},
	[DB_ORD_S_TECH] = {"orders_s_technician", STORE_DUPSORT},
	[DB_GATEWAYS] = {"gateways", 0},
	[DB_WEBHOOK_EVENTS] = {"webhook_events", 0},
	[DB_WEBHOOK_INBOX] = {"webhook_inbox", 0},
	[DB_GW_OBJECTS] = {"gateway_objects", 0},
	[DB_PAYMENT_METHODS] = {"payment_methods", 0},
	[DB_PAYMENT_METHODS_BY_ORG] = {"payment_methods_by_org", STORE_DUPSORT},
	[DB_CARDS] = {"cards", 0},
	[DB_CARDS_BY_CUST] = {"cards_by_customer", STORE_DUPSORT},
	[DB_INVOICES] = {"invoices", 0},
	[DB_INV_UNIT] = {"invoices_unit", STORE_DUPSORT},
	[DB_INV_STATUS] = {"invoices_status", STORE_DUPSORT},
	[DB_INV_CUSTOMER] = {"invoices_customer", STORE_DUPSORT},
	[DB_INV_OPEN] = {"invoices_open", STORE_DUPSORT},
	[DB_CHARGES] = {"charges", 0},
	[DB_CHG_TIME] = {"charges_time", STORE_DUPSORT},
	[DB_CHG_INVOICE] = {"charges_invoice", STORE_DUPSORT},
	[DB_CHG_UNRESOLVED] = {"charges_unresolved", 0},
	[DB_CHG_CARD] = {"charges_card", STORE_DUPSORT},
	[DB_SUSPENSION] = {"suspension_profiles", 0},
	[DB_OUTBOX] = {"outbox", 0},
	[DB_OUTBOX_DUE] = {"outbox_due", 0},
	[DB_OUTBOX_OBJ] = {"outbox_by_object", 0},
	[DB_OUTBOX_PROVIDER] = {"outbox_by_provider_id", 0},
	[DB_INST_UNIT] = {"installments_unit", STORE_DUPSORT},
	[DB_INST_STATUS] = {"installments_status", STORE_DUPSORT},
	[DB_INST_RECON] = {"installments_reconcile", STORE_DUPSORT},
	[DB_VAULT_KEYS] = {"vault_keys", 0},
	[DB_FIELD_SETTINGS] = {"field_settings", 0},
	[DB_CARD_ATTEMPTS] = {"card_attempts", 0},
	[DB_SVC_REC] = {"services_by_pix_rec", 0},
	[DB_SVC_TXID] = {"services_by_pix_txid", 0},
	[DB_CHG_TXID] = {"charges_txid", STORE_DUPSORT},
};

int db_get_msg(store_txn_t *txn, unsigned table, const void *key, size_t klen,
	       const ProtobufCMessageDescriptor *desc, ProtobufCMessage **out)
{
	store_val_t v;
	int rc = store_get(txn, table, key, klen, &v);
	if (rc != 0)
		return rc;
	*out = protobuf_c_message_unpack(desc, NULL, v.len, v.data);
	return *out != NULL ? 0 : -EBADMSG;
}

int db_put_msg(store_txn_t *txn, unsigned table, const void *key, size_t klen,
	       const ProtobufCMessage *msg, unsigned flags)
{
	uint8_t small[512];
	size_t n = protobuf_c_message_get_packed_size(msg);
	uint8_t *p = n <= sizeof(small) ? small : malloc(n);
	if (p == NULL)
		return -ENOMEM;
	protobuf_c_message_pack(msg, p);
	int rc = store_put(txn, table, key, klen, p, n, flags);
	if (p != small)
		free(p);
	return rc;
}

int db_get_by_id(store_txn_t *txn, unsigned table, uint64_t id,
		 const ProtobufCMessageDescriptor *desc, ProtobufCMessage **out)
{
	uint8_t k[8];
	be64_put(k, id);
	return db_get_msg(txn, table, k, sizeof(k), desc, out);
}

int db_put_by_id(store_txn_t *txn, unsigned table, uint64_t id, const ProtobufCMessage *msg)
{
	uint8_t k[8];
	be64_put(k, id);
	return db_put_msg(txn, table, k, sizeof(k), msg, 0);
}

int db_index_add(store_txn_t *txn, unsigned table, uint64_t key, uint64_t val)
{
	uint8_t k[8], v[8];
	be64_put(k, key);
	be64_put(v, val);
	return store_put(txn, table, k, sizeof(k), v, sizeof(v), STORE_NODUPDATA);
}

int db_unit_insert(store_txn_t *txn, Ospay__V1__Unit *unit)
{
	int rc = db_put_by_id(txn, DB_UNITS, unit->id, &unit->base);
	if (rc == 0)
		rc = db_index_add(txn, DB_UNITS_BY_ORG, unit->organization_id, unit->id);
	return rc;
}

int db_token_insert(store_txn_t *txn, Ospay__V1__TokenRecord *rec)
{
	uint8_t v[8];
	int rc = db_put_by_id(txn, DB_TOKENS, rec->token->id, &rec->base);
	if (rc != 0)
		return rc;
	be64_put(v, rec->token->id);
	return store_put(txn, DB_TOKENS_BY_HASH, rec->secret_hash.data, rec->secret_hash.len, v,
			 sizeof(v), STORE_NOOVERWRITE);
}

int db_token_by_hash(store_txn_t *txn, const uint8_t hash[32], Ospay__V1__TokenRecord **out)
{
	store_val_t v;
	int rc = store_get(txn, DB_TOKENS_BY_HASH, hash, 32, &v);
	if (rc != 0)
		return rc;
	if (v.len != 8)
		return -EBADMSG;
	return db_get_by_id(txn, DB_TOKENS, be64_get(v.data), &ospay__v1__token_record__descriptor,
			    (ProtobufCMessage **)out);
}

int db_index_del(store_txn_t *txn, unsigned table, uint64_t key, uint64_t val)
{
	uint8_t k[8], v[8];
	be64_put(k, key);
	be64_put(v, val);
	return store_del(txn, table, k, sizeof(k), v, sizeof(v));
}

/* ------------------------------------------------------------------ customers */

static size_t doc_key(uint8_t *k, uint64_t unit_id, const char *doc)
{
	size_t n = strnlen(doc, 32);
	be64_put(k, unit_id);
	memcpy(k + 8, doc, n);
	return 8 + n;
}

int db_customer_by_doc(store_txn_t *txn, uint64_t unit_id, const char *doc, uint64_t *id)
{
	uint8_t k[8 + 32];
	store_val_t v;
	int rc = store_get(txn, DB_CUSTOMERS_BY_DOC, k, doc_key(k, unit_id, doc), &v);
	if (rc == 0 && v.len != 8)
		rc = -EBADMSG;
	if (rc == 0)
		*id = be64_get(v.data);
	return rc;
}

int db_customer_put(store_txn_t *txn, const Ospay__V1__Customer *old, const Ospay__V1__Customer *c,
		    uint64_t *holder)
{
	uint8_t k[8 + 32], v[8];
	int rc = 0;
	bool doc_changed = old == NULL || strcmp(old->document, c->document) != 0;
	if (doc_changed) {
		uint64_t other;
		rc = db_customer_by_doc(txn, c->unit_id, c->document, &other);
		if (rc == 0) {
			if (holder != NULL)
				*holder = other;
			rc = -EEXIST;
			goto out;
		}
		if (rc != -ENOENT)
			goto out;
		if (old != NULL) {
			rc = store_del(txn, DB_CUSTOMERS_BY_DOC, k,
				       doc_key(k, old->unit_id, old->document), NULL, 0);
			if (rc != 0)
				goto out;
		}
		be64_put(v, c->id);
		rc = store_put(txn, DB_CUSTOMERS_BY_DOC, k, doc_key(k, c->unit_id, c->document), v,
			       sizeof(v), STORE_NOOVERWRITE);
		if (rc != 0)
			goto out;
	}
	rc = db_put_by_id(txn, DB_CUSTOMERS, c->id, &c->base);
	if (rc == 0 && old == NULL)
		rc = db_index_add(txn, DB_CUSTOMERS_BY_UNIT, c->unit_id, c->id);
out:
	return rc;
}

/* ---------------------------------------------------- services, technicians, agendas */

int db_service_insert(store_txn_t *txn, const Ospay__V1__CustomerService *svc)
{
	int rc = db_put_by_id(txn, DB_SERVICES, svc->id, &svc->base);
	if (rc == 0)
		rc = db_index_add(txn, DB_SERVICES_BY_CUST, svc->customer_id, svc->id);
	return rc;
}

int db_technician_insert(store_txn_t *txn, const Ospay__V1__Technician *t)
{
	int rc = db_put_by_id(txn, DB_TECHNICIANS, t->id, &t->base);
	if (rc == 0)
		rc = db_index_add(txn, DB_TECHNICIANS_BY_UNIT, t->unit_id, t->id);
	return rc;
}

int db_agenda_insert(store_txn_t *txn, const Ospay__V1__Agenda *a)
{
	int rc = db_put_by_id(txn, DB_AGENDAS, a->id, &a->base);
	if (rc == 0)
		rc = db_index_add(txn, DB_AGENDAS_BY_UNIT, a->unit_id, a->id);
	return rc;
}

int db_agenda_delete(store_txn_t *txn, const Ospay__V1__Agenda *a)
{
	uint8_t k[8];
	be64_put(k, a->id);
	int rc = store_del(txn, DB_AGENDAS, k, sizeof(k), NULL, 0);
	if (rc == 0)
		rc = db_index_del(txn, DB_AGENDAS_BY_UNIT, a->unit_id, a->id);
	return rc;
}

/* ------------------------------------------------------------------ orders */

void db_pos_put(uint8_t out[DB_POS_LEN], int64_t sort, uint64_t id)
{
	be64_put_i64(out, sort);
	be64_put(out + 8, id);
}

int64_t db_pos_sort(const uint8_t *pos)
{
	return be64_get_i64(pos);
}

uint64_t db_pos_id(const uint8_t *pos)
{
	return be64_get(pos + 8);
}

/* One index entry of an order. */
typedef struct ord_entry {
	unsigned table;
	uint8_t key[9];
	size_t klen;
	uint8_t val[DB_POS_LEN];
} ord_entry_t;

/* 9 of the order, 3 per installment (12 at most; more are not indexed). */
#define ORD_INST_MAX 12
#define ORD_MAX_ENTRIES (9 + 3 * ORD_INST_MAX)

void db_inst_pos_put(uint8_t out[DB_POS_LEN], int64_t due_day, uint64_t order_id, uint32_t number)
{
	/* The sign bit flipped: unsigned byte order is numeric order. */
	uint32_t d = (uint32_t)(int32_t)due_day ^ UINT32_C(0x80000000);
	out[0] = (uint8_t)(d >> 24);
	out[1] = (uint8_t)(d >> 16);
	out[2] = (uint8_t)(d >> 8);
	out[3] = (uint8_t)d;
	be64_put(out + 4, order_id);
	out[12] = (uint8_t)(number >> 24);
	out[13] = (uint8_t)(number >> 16);
	out[14] = (uint8_t)(number >> 8);
	out[15] = (uint8_t)number;
}

int64_t db_inst_pos_day(const uint8_t *pos)
{
	uint32_t d =
		(uint32_t)pos[0] << 24 | (uint32_t)pos[1] << 16 | (uint32_t)pos[2] << 8 | pos[3];
	return (int64_t)(int32_t)(d ^ UINT32_C(0x80000000));
}

uint64_t db_inst_pos_order(const uint8_t *pos)
{
	return be64_get(pos + 4);
}

uint32_t db_inst_pos_number(const uint8_t *pos)
{
	return (uint32_t)pos[12] << 24 | (uint32_t)pos[13] << 16 | (uint32_t)pos[14] << 8 | pos[15];
}

static void ord_entry(ord_entry_t *e, unsigned table, uint64_t key, int tag, int64_t sort,
		      uint64_t id)
{
	e->table = table;
	be64_put(e->key, key);
	e->klen = 8;
	if (tag >= 0) {
		e->key[8] = (uint8_t)tag;
		e->klen = 9;
	}
	db_pos_put(e->val, sort, id);
}

/* Is an installment one reconciliation may have to query (DB_INST_RECON)? */
static bool inst_reconcilable(const Ospay__V1__Order *o, const Ospay__V1__OrderInstallment *in)
{
	return o->payment->integrated &&
	       in->status == OSPAY__V1__INSTALLMENT_STATUS__INSTALLMENT_STATUS_WAITING &&
	       o->status != OSPAY__V1__ORDER_STATUS__ORDER_STATUS_CANCELED &&
	       (o->payment_status ==
			OSPAY__V1__ORDER_PAYMENT_STATUS__ORDER_PAYMENT_STATUS_PENDING ||
		o->payment_status == OSPAY__V1__ORDER_PAYMENT_STATUS__ORDER_PAYMENT_STATUS_PAID);
}

/* The installment index entries of an order (due dates that do not parse are left out). */
static size_t inst_entries(const Ospay__V1__Order *o, ord_entry_t *e)
{
	size_t n = 0;
	if (o->payment == NULL)
		return 0;
	for (size_t i = 0; i < o->payment->n_schedule && i < ORD_INST_MAX; i++) {
		const Ospay__V1__OrderInstallment *in = o->payment->schedule[i];
		int64_t day;
		if (date_parse(in->due_date, &day) != 0)
			continue;
		ord_entry_t *x = &e[n];
		x->table = DB_INST_UNIT;
		be64_put(x->key, o->unit_id);
		x->klen = 8;
		db_inst_pos_put(x->val, day, o->id, in->number);
		e[n + 1] = *x;
		e[n + 1].table = DB_INST_STATUS;
		e[n + 1].key[8] = (uint8_t)in->status;
		e[n + 1].klen = 9;
		n += 2;
		if (inst_reconcilable(o, in)) {
			e[n] = *x;
			e[n].table = DB_INST_RECON;
			be64_put(e[n].key, o->organization_id);
			n++;
		}
	}
	return n;
}

/* Every index entry an order has, from its fields alone. */
static size_t ord_entries(const Ospay__V1__Order *o, ord_entry_t *e)
{
	size_t n = 0;
	int64_t c = o->created_ms, s = o->scheduled_start_ms;
	ord_entry(&e[n++], DB_ORD_C_UNIT, o->unit_id, -1, c, o->id);
	ord_entry(&e[n++], DB_ORD_C_STATUS, o->unit_id, (int)o->status, c, o->id);
	ord_entry(&e[n++], DB_ORD_C_PAY, o->unit_id, (int)o->payment_status, c, o->id);
	ord_entry(&e[n++], DB_ORD_C_CUSTOMER, o->customer_id, -1, c, o->id);
	if (o->agenda_id != 0)
		ord_entry(&e[n++], DB_ORD_C_AGENDA, o->agenda_id, -1, c, o->id);
	if (o->technician_id != 0)
		ord_entry(&e[n++], DB_ORD_C_TECH, o->technician_id, -1, c, o->id);
	if (s != 0) {
		ord_entry(&e[n++], DB_ORD_S_UNIT, o->unit_id, -1, s, o->id);
		if (o->agenda_id != 0)
			ord_entry(&e[n++], DB_ORD_S_AGENDA, o->agenda_id, -1, s, o->id);
		if (o->technician_id != 0)
			ord_entry(&e[n++], DB_ORD_S_TECH, o->technician_id, -1, s, o->id);
	}
	return n + inst_entries(o, e + n);
}

static bool ord_entry_in(const ord_entry_t *x, const ord_entry_t *set, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (set[i].table == x->table && set[i].klen == x->klen &&
		    memcmp(set[i].key, x->key, x->klen) == 0 &&
		    memcmp(set[i].val, x->val, DB_POS_LEN) == 0)
			return true;
	return false;
}

int db_order_put(store_txn_t *txn, const Ospay__V1__Order *old, const Ospay__V1__Order *o)
{
	ord_entry_t before[ORD_MAX_ENTRIES], after[ORD_MAX_ENTRIES];
	size_t nb = old != NULL ? ord_entries(old, before) : 0;
	size_t na = ord_entries(o, after);
	int rc = db_put_by_id(txn, DB_ORDERS, o->id, &o->base);
	for (size_t i = 0; i < nb && rc == 0; i++)
		if (!ord_entry_in(&before[i], after, na))
			rc = store_del(txn, before[i].table, before[i].key, before[i].klen,
				       before[i].val, DB_POS_LEN);
	for (size_t i = 0; i < na && rc == 0; i++)
		if (!ord_entry_in(&after[i], before, nb))
			rc = store_put(txn, after[i].table, after[i].key, after[i].klen,
				       after[i].val, DB_POS_LEN, STORE_NODUPDATA);
	return rc;
}

/* ------------------------------------------------------------------ merged scans */

#define DB_SCAN_VAL_MAX 16

typedef struct scan_src {
	store_cursor_t *cur;
	bool live;
	uint8_t val[DB_SCAN_VAL_MAX];
} scan_src_t;

struct db_scan {
	size_t n, vlen;
	uint8_t out[DB_SCAN_VAL_MAX];
	scan_src_t src[];
};

/* Keeps a source's current value, or marks it done at the end of its key. */
static int scan_take(db_scan_t *s, scan_src_t *src, int rc, const store_val_t *v)
{
	if (rc == -ENOENT) {
		src->live = false;
		return 0;
	}
	if (rc != 0)
		return rc;
	if (v->len != s->vlen)
		return -EBADMSG;
	memcpy(src->val, v->data, s->vlen);
	src->live = true;
	return 0;
}

int db_scan_open(store_txn_t *txn, unsigned table, const uint8_t *keys, size_t klen, size_t nkeys,
		 const uint8_t *from, size_t vlen, db_scan_t **out)
{
	int rc = 0;
	db_scan_t *s = NULL;
	*out = NULL;
	if (vlen == 0 || vlen > DB_SCAN_VAL_MAX) {
		rc = -EINVAL;
		goto out;
	}
	s = calloc(1, sizeof(*s) + nkeys * sizeof(s->src[0]));
	if (s == NULL) {
		rc = -ENOMEM;
		goto out;
	}
	s->vlen = vlen;
	for (size_t i = 0; i < nkeys && rc == 0; i++) {
		store_val_t k, v;
		rc = store_cursor_open(txn, table, &s->src[i].cur);
		s->n = i + 1;
		if (rc == 0)
			rc = store_cursor_seek_dup(s->src[i].cur, keys + i * klen, klen, from, vlen,
						   &k, &v);
		if (rc == 0 || rc == -ENOENT)
			rc = scan_take(s, &s->src[i], rc, &v);
	}
	if (rc == 0) {
		*out = s;
		s = NULL;
	}
out:
	db_scan_close(s);
	return rc;
}

int db_scan_next(db_scan_t *s, const uint8_t **val)
{
	scan_src_t *min = NULL;
	int rc = 0;
	for (size_t i = 0; i < s->n; i++)
		if (s->src[i].live && (min == NULL || memcmp(s->src[i].val, min->val, s->vlen) < 0))
			min = &s->src[i];
	if (min == NULL) {
		rc = -ENOENT;
		goto out;
	}
	memcpy(s->out, min->val, s->vlen);
	*val = s->out;
	/* Advance every source sitting on this value, so a tie comes out once. */
	for (size_t i = 0; i < s->n && rc == 0; i++) {
		scan_src_t *src = &s->src[i];
		if (!src->live || memcmp(src->val, s->out, s->vlen) != 0)
			continue;
		store_val_t k, v;
		int mrc = store_cursor_next_dup(src->cur, &k, &v);
		rc = scan_take(s, src, mrc, &v);
	}
out:
	return rc;
}

int db_order_history_append(Ospay__V1__Order *o, Ospay__V1__OrderStatusChange *entry, int to,
			    int64_t at_ms, uint64_t by, const char *note,
			    Ospay__V1__OrderStatusChange ***hist)
{
	Ospay__V1__OrderStatusChange **h = malloc((o->n_history + 1) * sizeof(*h));
	if (h == NULL)
		return -ENOMEM;
	if (o->n_history > 0)
		memcpy(h, o->history, o->n_history * sizeof(*h));
	ospay__v1__order_status_change__init(entry);
	entry->at_ms = at_ms;
	entry->from = o->status;
	entry->to = to;
	entry->by_token_id = by;
	entry->note = (char *)note;
	h[o->n_history] = entry;
	o->history = h;
	o->n_history++;
	o->status = to;
	*hist = h;
	return 0;
}

int db_scan_id(store_txn_t *txn, unsigned table, uint64_t id, db_scan_t **out)
{
	uint8_t key[8], from[8] = {0};
	be64_put(key, id);
	return db_scan_open(txn, table, key, sizeof(key), 1, from, sizeof(from), out);
}

void db_scan_close(db_scan_t *s)
{
	if (s == NULL)
		return;
	for (size_t i = 0; i < s->n; i++)
		store_cursor_close(s->src[i].cur);
	free(s);
}

static void inv_status_key(uint8_t k[9], uint64_t unit, int status)
{
	be64_put(k, unit);
	k[8] = (uint8_t)status;
}

/*
 * The billing run's index: an invoice is in DB_INV_OPEN exactly while OPEN
 * (the run never walks paid or canceled invoices, however many there are).
 */
static int inv_open_index(store_txn_t *txn, const Ospay__V1__Invoice *old,
			  const Ospay__V1__Invoice *inv, const uint8_t pos[DB_POS_LEN])
{
	const int open = OSPAY__V1__INVOICE_STATUS__INVOICE_STATUS_OPEN;
	bool was = old != NULL && old->status == open, is = inv->status == open;
	uint8_t k[8];
	be64_put(k, inv->organization_id);
	if (is && !was)
		return store_put(txn, DB_INV_OPEN, k, 8, pos, DB_POS_LEN, STORE_NODUPDATA);
	if (was && !is) {
		int rc = store_del(txn, DB_INV_OPEN, k, 8, pos, DB_POS_LEN);
		return rc == -ENOENT ? 0 : rc;
	}
	return 0;
}

int db_invoice_put(store_txn_t *txn, const Ospay__V1__Invoice *old, const Ospay__V1__Invoice *inv,
		   int64_t due_day)
{
	uint8_t pos[DB_POS_LEN], k[9];
	db_pos_put(pos, due_day, inv->id);
	int rc = db_put_by_id(txn, DB_INVOICES, inv->id, &inv->base);
	if (rc != 0)
		return rc;
	if (old == NULL) {
		be64_put(k, inv->unit_id);
		rc = store_put(txn, DB_INV_UNIT, k, 8, pos, sizeof(pos), STORE_NODUPDATA);
		be64_put(k, inv->customer_id);
		if (rc == 0)
			rc = store_put(txn, DB_INV_CUSTOMER, k, 8, pos, sizeof(pos),
				       STORE_NODUPDATA);
	} else if (old->status != inv->status) {
		inv_status_key(k, old->unit_id, old->status);
		rc = store_del(txn, DB_INV_STATUS, k, sizeof(k), pos, sizeof(pos));
		if (rc == -ENOENT)
			rc = 0;
	}
	if (rc == 0 && (old == NULL || old->status != inv->status)) {
		inv_status_key(k, inv->unit_id, inv->status);
		rc = store_put(txn, DB_INV_STATUS, k, sizeof(k), pos, sizeof(pos), STORE_NODUPDATA);
	}
	if (rc == 0)
		rc = inv_open_index(txn, old, inv, pos);
	return rc;
}

/* ------------------------------------------------------------------ charges */

/* Charges something still has to happen to: a call in flight or lost
 * (PENDING, UNKNOWN), an operator's look (OPERATOR_REVIEW), a void (VOIDING). */
static bool charge_unresolved(const Ospay__V1__Charge *c)
{
	switch (c->status) {
	case OSPAY__V1__CHARGE_STATUS__CHARGE_STATUS_PENDING:
	case OSPAY__V1__CHARGE_STATUS__CHARGE_STATUS_UNKNOWN:
	case OSPAY__V1__CHARGE_STATUS__CHARGE_STATUS_OPERATOR_REVIEW:
	case OSPAY__V1__CHARGE_STATUS__CHARGE_STATUS_VOIDING:
		return true;
	default:
		return false;
	}
}

/* A Pix charge's entry in DB_CHG_TXID (org | txid -> charge id). */
static int db_chg_txid_add(store_txn_t *txn, const Ospay__V1__Charge *c)
{
	uint8_t k[DB_TXID_KEY_MAX], v[8];
	size_t klen = db_chg_txid_key(c->organization_id, c->pix_txid, k);
	if (klen == 0)
		return -EINVAL;
	be64_put(v, c->id);
	return store_put(txn, DB_CHG_TXID, k, klen, v, sizeof(v), STORE_NODUPDATA);
}

size_t db_chg_txid_key(uint64_t org, const char *txid, uint8_t out[DB_TXID_KEY_MAX])
{
	size_t n = strlen(txid);
	if (n == 0 || n > DB_TXID_KEY_MAX - 8)
		return 0;
	be64_put(out, org);
	memcpy(out + 8, txid, n);
	return 8 + n;
}

int db_charge_put(store_txn_t *txn, const Ospay__V1__Charge *old, const Ospay__V1__Charge *c)
{
	uint8_t k[8], pos[DB_POS_LEN];
	int rc = db_put_by_id(txn, DB_CHARGES, c->id, &c->base);
	if (rc == 0 && old == NULL) {
		be64_put(k, c->unit_id);
		db_pos_put(pos, c->created_ms, c->id);
		rc = store_put(txn, DB_CHG_TIME, k, 8, pos, sizeof(pos), STORE_NODUPDATA);
		if (rc == 0)
			rc = db_index_add(txn, DB_CHG_INVOICE, c->invoice_id, c->id);
		if (rc == 0 && c->card_id != 0) {
			be64_put(k, c->card_id);
			rc = store_put(txn, DB_CHG_CARD, k, 8, pos, sizeof(pos), STORE_NODUPDATA);
		}
		if (rc == 0 && c->pix_txid != NULL && c->pix_txid[0] != '\0')
			rc = db_chg_txid_add(txn, c);
	}
	be64_put(k, c->id);
	bool was = old != NULL && charge_unresolved(old), is = charge_unresolved(c);
	if (rc == 0 && is && !was)
		rc = store_put(txn, DB_CHG_UNRESOLVED, k, 8, "", 0, 0);
	if (rc == 0 && was && !is) {
		rc = store_del(txn, DB_CHG_UNRESOLVED, k, 8, NULL, 0);
		if (rc == -ENOENT)
			rc = 0;
	}
	return rc;
}

int db_card_insert(store_txn_t *txn, const Ospay__V1__Card *c, const vault_key_t *key,
		   const char *token, const uint8_t *fp, size_t fp_len)
{
	uint8_t sealed[512 + VAULT_OVERHEAD];
	size_t slen = 0;
	vault_context_t ctx = {.kind = "card",
			       .org_id = c->organization_id,
			       .owner_id = c->customer_id,
			       .record_id = c->id};
	int rc = vault_seal(key, &ctx, token, strlen(token), sealed, sizeof(sealed), &slen);
	if (rc != 0) {
		rc = -EPROTO;
		goto out;
	}
	Ospay__V1__CardRecord rec = OSPAY__V1__CARD_RECORD__INIT;
	rec.card = (Ospay__V1__Card *)c;
	rec.sealed_token.data = sealed;
	rec.sealed_token.len = slen;
	rec.fingerprint.data = (uint8_t *)fp;
	rec.fingerprint.len = fp_len;
	rc = db_put_by_id(txn, DB_CARDS, c->id, &rec.base);
	if (rc == 0)
		rc = db_index_add(txn, DB_CARDS_BY_CUST, c->customer_id, c->id);
out:
	crypto_wipe(sealed, sizeof(sealed));
	return rc;
}

/* org id | fingerprint | at ms: the prefix of an attempt's key. */
#define ATTEMPT_FP_LEN 32
#define ATTEMPT_PREFIX (8 + ATTEMPT_FP_LEN)
#define ATTEMPT_KEY (ATTEMPT_PREFIX + 8 + 8)

static void attempt_key(uint8_t k[ATTEMPT_KEY], uint64_t org, const uint8_t *fp, int64_t at_ms,
			uint64_t seq)
{
	be64_put(k, org);
	memcpy(k + 8, fp, ATTEMPT_FP_LEN);
	be64_put_i64(k + ATTEMPT_PREFIX, at_ms);
	be64_put(k + ATTEMPT_PREFIX + 8, seq);
}

int db_card_attempt_put(store_txn_t *txn, uint64_t org, const uint8_t *fp,
			const Ospay__V1__CardAttemptRecord *rec)
{
	uint8_t k[ATTEMPT_KEY];
	uint64_t seq = 0;
	int rc = store_seq_next(txn, "card_attempt", &seq);
	if (rc != 0)
		return rc;
	attempt_key(k, org, fp, rec->at_ms, seq);
	return db_put_msg(txn, DB_CARD_ATTEMPTS, k, sizeof(k), &rec->base, STORE_NOOVERWRITE);
}

int db_card_attempts_each(store_txn_t *txn, uint64_t org, const uint8_t *fp, int64_t from_ms,
			  int64_t to_ms, db_card_attempt_fn fn, void *arg)
{
	uint8_t from[ATTEMPT_KEY];
	store_cursor_t *cur = NULL;
	store_val_t k, v;
	attempt_key(from, org, fp, from_ms, 0);
	int rc = store_cursor_open(txn, DB_CARD_ATTEMPTS, &cur);
	if (rc == 0)
		rc = store_cursor_seek(cur, from, sizeof(from), &k, &v);
	while (rc == 0) {
		if (k.len != ATTEMPT_KEY || memcmp(k.data, from, ATTEMPT_PREFIX) != 0 ||
		    be64_get_i64((const uint8_t *)k.data + ATTEMPT_PREFIX) > to_ms)
			break;
		Ospay__V1__CardAttemptRecord *rec =
			ospay__v1__card_attempt_record__unpack(NULL, v.len, v.data);
		if (rec == NULL) {
			rc = -EBADMSG;
			break;
		}
		rc = fn(rec, arg);
		ospay__v1__card_attempt_record__free_unpacked(rec, NULL);
		if (rc == 0)
			rc = store_cursor_next(cur, &k, &v);
	}
	store_cursor_close(cur);
	return rc == -ENOENT ? 0 : rc;
}

int db_index_ids(store_txn_t *txn, unsigned table, const uint64_t *keys, size_t nkeys,
		 uint64_t **out, size_t *n)
{
	uint8_t from[8] = {0}, one[8];
	uint8_t *k = nkeys <= 1 ? one : malloc(nkeys * 8);
	db_scan_t *scan = NULL;
	const uint8_t *val;
	uint64_t *v = NULL;
	size_t cnt = 0;
	int rc = k == NULL ? -ENOMEM : 0;
	for (size_t i = 0; rc == 0 && i < nkeys; i++)
		be64_put(k + 8 * i, keys[i]);
	if (rc == 0 && nkeys > 0)
		rc = db_scan_open(txn, table, k, 8, nkeys, from, 8, &scan);
	while (rc == 0 && nkeys > 0 && (rc = db_scan_next(scan, &val)) == 0) {
		uint64_t *nv = realloc(v, (cnt + 1) * sizeof(*v));
		if (nv == NULL) {
			rc = -ENOMEM;
			break;
		}
		v = nv;
		v[cnt++] = be64_get(val);
	}
	if (rc == -ENOENT)
		rc = 0;
	db_scan_close(scan);
	if (k != one)
		free(k);
	*out = v;
	*n = cnt;
	return rc;
}

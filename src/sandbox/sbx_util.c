/* Helpers for the sandbox's emulation: hash index, bounded tables, forms, JSON, ids, time. */
#include "sandbox/sbx_int.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "common/crypto.h"
#include "common/util.h"

/* ------------------------------------------------------------------ hash index */

/*
 * Keys come from the network (merchant order ids, tokens), so the index uses
 * SipHash-2-4 under a random per-process key: crafted keys cannot pile up in
 * one bucket.
 */
static uint64_t sbx_sip_key[2];
static bool sbx_sip_ready;

#define SBX_ROTL(x, b) (uint64_t)(((x) << (b)) | ((x) >> (64 - (b))))
#define SBX_SIPROUND                                                                               \
	do {                                                                                       \
		v0 += v1;                                                                          \
		v1 = SBX_ROTL(v1, 13);                                                             \
		v1 ^= v0;                                                                          \
		v0 = SBX_ROTL(v0, 32);                                                             \
		v2 += v3;                                                                          \
		v3 = SBX_ROTL(v3, 16);                                                             \
		v3 ^= v2;                                                                          \
		v0 += v3;                                                                          \
		v3 = SBX_ROTL(v3, 21);                                                             \
		v3 ^= v0;                                                                          \
		v2 += v1;                                                                          \
		v1 = SBX_ROTL(v1, 17);                                                             \
		v1 ^= v2;                                                                          \
		v2 = SBX_ROTL(v2, 32);                                                             \
	} while (0)

static uint64_t sbx_siphash(const char *key)
{
	size_t len = strlen(key);
	const uint8_t *p = (const uint8_t *)key;
	uint64_t k0 = sbx_sip_key[0], k1 = sbx_sip_key[1];
	uint64_t v0 = 0x736f6d6570736575ULL ^ k0, v1 = 0x646f72616e646f6dULL ^ k1;
	uint64_t v2 = 0x6c7967656e657261ULL ^ k0, v3 = 0x7465646279746573ULL ^ k1;
	uint64_t b = (uint64_t)len << 56;
	size_t full = len & ~(size_t)7;

	for (size_t i = 0; i < full; i += 8) {
		uint64_t m = 0;
		for (int j = 7; j >= 0; j--)
			m = (m << 8) | p[i + (size_t)j];
		v3 ^= m;
		SBX_SIPROUND;
		SBX_SIPROUND;
		v0 ^= m;
	}
	for (size_t i = full; i < len; i++)
		b |= (uint64_t)p[i] << (8 * (i - full));
	v3 ^= b;
	SBX_SIPROUND;
	SBX_SIPROUND;
	v0 ^= b;
	v2 ^= 0xff;
	SBX_SIPROUND;
	SBX_SIPROUND;
	SBX_SIPROUND;
	SBX_SIPROUND;
	return v0 ^ v1 ^ v2 ^ v3;
}

int sbx_htab_init(sbx_htab_t *t, size_t expected)
{
	int rc = 0;
	size_t n = 16;

	if (!sbx_sip_ready) {
		if (crypto_random(sbx_sip_key, sizeof(sbx_sip_key)) != 0) {
			rc = -EIO;
			goto out;
		}
		sbx_sip_ready = true;
	}
	while (n < expected && n < ((size_t)1 << 30))
		n <<= 1;
	t->b = calloc(n, sizeof(*t->b));
	if (t->b == NULL) {
		rc = -ENOMEM;
		goto out;
	}
	t->mask = n - 1;
out:
	return rc;
}

void sbx_htab_free(sbx_htab_t *t)
{
	free(t->b);
	t->b = NULL;
	t->mask = 0;
}

void sbx_htab_insert(sbx_htab_t *t, sbx_hnode_t *n, const char *key)
{
	n->hash = sbx_siphash(key);
	n->key = key;
	sbx_hnode_t **slot = &t->b[n->hash & t->mask];
	n->next = *slot;
	*slot = n;
}

static sbx_hnode_t *sbx_htab_scan(sbx_hnode_t *n, uint64_t hash, const char *key)
{
	while (n != NULL && (n->hash != hash || strcmp(n->key, key) != 0))
		n = n->next;
	return n;
}

sbx_hnode_t *sbx_htab_find(const sbx_htab_t *t, const char *key)
{
	uint64_t h = sbx_siphash(key);
	return sbx_htab_scan(t->b[h & t->mask], h, key);
}

sbx_hnode_t *sbx_htab_next(const sbx_hnode_t *n)
{
	return sbx_htab_scan(n->next, n->hash, n->key);
}

void sbx_htab_remove(sbx_htab_t *t, sbx_hnode_t *n)
{
	sbx_hnode_t **pp = &t->b[n->hash & t->mask];
	while (*pp != NULL && *pp != n)
		pp = &(*pp)->next;
	if (*pp == n)
		*pp = n->next;
	n->next = NULL;
}

/* ------------------------------------------------------------------ bounded tables */

static const char *sbx_index_key(const sbx_index_t *x, const list_node_t *rec)
{
	return (const char *)rec + x->key_off;
}

static sbx_hnode_t *sbx_index_node(const sbx_index_t *x, list_node_t *rec)
{
	return (sbx_hnode_t *)((char *)rec + x->node_off);
}

/* Takes rec (already off the list; empty keys were never indexed) out of its indexes, then frees it and what it holds. */
static void sbx_table_drop(sbx_table_t *t, list_node_t *rec)
{
	for (size_t i = 0; i < t->n_idx; i++)
		if (sbx_index_key(&t->idx[i], rec)[0] != '\0')
			sbx_htab_remove(t->idx[i].htab, sbx_index_node(&t->idx[i], rec));
	if (t->forget != NULL)
		t->forget(rec);
	free(rec);
}

int sbx_table_open(const sbx_table_spec_t *spec)
{
	sbx_table_t *t = spec->table;
	int rc = 0;
	list_init(&t->fifo);
	t->n = 0;
	t->cap = spec->cap;
	t->n_idx = 0;
	t->forget = spec->forget;
	for (size_t i = 0; i < SBX_TABLE_MAX_INDEXES && spec->idx[i].htab != NULL && rc == 0; i++) {
		t->idx[t->n_idx++] = spec->idx[i];
		rc = sbx_htab_init(spec->idx[i].htab, spec->cap);
	}
	return rc;
}

void sbx_table_add(sbx_table_t *t, list_node_t *rec)
{
	while (t->n >= t->cap && !list_empty(&t->fifo)) {
		list_node_t *old = t->fifo.next;
		list_remove(old);
		t->n--;
		sbx_table_drop(t, old);
	}
	for (size_t i = 0; i < t->n_idx; i++) {
		const char *key = sbx_index_key(&t->idx[i], rec);
		/* Nothing is looked up by an empty key (PagoLivre's optional requestId). */
		if (key[0] != '\0')
			sbx_htab_insert(t->idx[i].htab, sbx_index_node(&t->idx[i], rec), key);
	}
	list_insert_tail(&t->fifo, rec);
	t->n++;
}

void sbx_table_clear(sbx_table_t *t)
{
	while (!list_empty(&t->fifo)) {
		list_node_t *old = t->fifo.next;
		list_remove(old);
		sbx_table_drop(t, old);
	}
	t->n = 0;
}

void sbx_table_close(sbx_table_t *t)
{
	sbx_table_clear(t);
	for (size_t i = 0; i < t->n_idx; i++)
		sbx_htab_free(t->idx[i].htab);
}

/* ------------------------------------------------------------------ requests */

sbx_access_t *sbx_access_issue(sbx_t *s, const char *service, uint64_t org, int64_t ttl_ms)
{
	sbx_access_t *a = calloc(1, sizeof(*a));
	if (a == NULL)
		return NULL;
	a->org = org;
	snprintf(a->service, sizeof(a->service), "%s", service);
	sbx_uuid(a->token);
	a->expires_ms = util_wall_ms() + ttl_ms;
	sbx_table_add(&s->gn_access, &a->age);
	return a;
}

sbx_access_t *sbx_access_bearer(sbx_t *s, const sbx_req_t *rq, const char *service)
{
	const char *h = sbx_req_header(rq, "Authorization");
	sbx_access_t *a = NULL;
	if (h != NULL && strncasecmp(h, "Bearer ", 7) == 0)
		a = SBX_HTAB_GET(&s->gn_access_by_tok, h + 7, sbx_access_t, by_tok);
	return a != NULL && strcmp(a->service, service) == 0 ? a : NULL;
}

sbx_org_t *sbx_org_find(sbx_t *s, uint64_t id)
{
	sbx_org_t *o = NULL;
	for (size_t i = 0; i < s->n_orgs && o == NULL; i++)
		if (s->orgs[i].id == id)
			o = &s->orgs[i];
	return o;
}

const char *sbx_req_header(const sbx_req_t *rq, const char *name)
{
	const char *v = NULL;
	for (size_t i = 0; i < rq->n_headers && v == NULL; i++)
		if (strcasecmp(rq->headers[i].name, name) == 0)
			v = rq->headers[i].value;
	return v;
}

static int sbx_hexval(int c)
{
	int v = -1;
	if (c >= '0' && c <= '9')
		v = c - '0';
	else if (c >= 'a' && c <= 'f')
		v = c - 'a' + 10;
	else if (c >= 'A' && c <= 'F')
		v = c - 'A' + 10;
	return v;
}

/* Decodes a form value (+ and %XX) into out; false when it does not fit. */
static bool sbx_form_decode(const char *p, size_t n, char *out, size_t cap)
{
	size_t o = 0;
	bool ok = true;
	for (size_t i = 0; i < n && ok; i++) {
		int c = (unsigned char)p[i];
		if (c == '+') {
			c = ' ';
		} else if (c == '%') {
			int hi = i + 1 < n ? sbx_hexval(p[i + 1]) : -1;
			int lo = i + 2 < n ? sbx_hexval(p[i + 2]) : -1;
			if (hi >= 0 && lo >= 0) {
				c = hi * 16 + lo;
				i += 2;
			}
		}
		if (o + 1 >= cap || c == 0)
			ok = false;
		else
			out[o++] = (char)c;
	}
	if (cap > 0)
		out[ok ? o : 0] = '\0';
	return ok;
}

bool sbx_form_get(const char *form, size_t len, const char *name, char *out, size_t cap)
{
	size_t nlen = strlen(name);
	size_t i = 0;
	bool found = false;

	while (i < len && !found) {
		size_t end = i;
		while (end < len && form[end] != '&')
			end++;
		const char *eq = memchr(form + i, '=', end - i);
		size_t klen = eq != NULL ? (size_t)(eq - (form + i)) : end - i;
		if (klen == nlen && memcmp(form + i, name, nlen) == 0) {
			found = true;
			if (eq != NULL)
				found = sbx_form_decode(eq + 1, (size_t)(form + end - (eq + 1)),
							out, cap);
			else if (cap > 0)
				out[0] = '\0';
		}
		i = end + 1;
	}
	return found;
}

bool sbx_url_encode(const char *s, char *out, size_t cap)
{
	static const char hex[] = "0123456789ABCDEF";
	size_t o = 0;
	bool ok = true;
	for (; *s != '\0' && ok; s++) {
		unsigned char c = (unsigned char)*s;
		if (isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') {
			ok = o + 1 < cap;
			if (ok)
				out[o++] = (char)c;
		} else {
			ok = o + 3 < cap;
			if (ok) {
				out[o++] = '%';
				out[o++] = hex[c >> 4];
				out[o++] = hex[c & 15];
			}
		}
	}
	if (cap > 0)
		out[ok ? o : 0] = '\0';
	return ok;
}

/* ------------------------------------------------------------------ responses and JSON */

void sbx_resp_set(sbx_resp_t *rs, int status, const char *ctype, const char *body, size_t len)
{
	free(rs->body);
	rs->body = NULL;
	rs->body_len = 0;
	rs->status = status;
	rs->content_type = ctype;
	if (body != NULL && len > 0) {
		rs->body = malloc(len + 1);
		if (rs->body == NULL) {
			/* Out of memory: a bodiless 500 still tells the client something. */
			rs->status = 500;
			rs->content_type = NULL;
		} else {
			memcpy(rs->body, body, len);
			rs->body[len] = '\0';
			rs->body_len = len;
		}
	}
}

void sbx_resp_json(sbx_resp_t *rs, int status, json_t *j)
{
	char *txt = NULL;
	if (j != NULL)
		txt = json_dumps(j, JSON_COMPACT | JSON_REAL_PRECISION(15) | JSON_ENCODE_ANY);
	if (j != NULL && txt == NULL) {
		sbx_resp_set(rs, 500, NULL, NULL, 0);
	} else {
		free(rs->body);
		rs->status = status;
		rs->content_type = txt != NULL ? "application/json; charset=utf-8" : NULL;
		rs->body = txt;
		rs->body_len = txt != NULL ? strlen(txt) : 0;
	}
	json_decref(j);
}

json_t *sbx_req_json(const sbx_req_t *rq)
{
	json_error_t err;
	json_t *j = NULL;
	if (rq->body_len > 0)
		j = json_loadb((const char *)rq->body, rq->body_len, JSON_REJECT_DUPLICATES, &err);
	return j;
}

const char *sbx_jstr(const json_t *o, const char *key)
{
	json_t *v = json_is_object(o) ? json_object_get(o, key) : NULL;
	return json_is_string(v) ? json_string_value(v) : NULL;
}

bool sbx_jint(const json_t *o, const char *key, int64_t *out)
{
	json_t *v = json_is_object(o) ? json_object_get(o, key) : NULL;
	bool ok = json_is_integer(v);
	if (ok)
		*out = (int64_t)json_integer_value(v);
	return ok;
}

bool sbx_jbool(const json_t *o, const char *key, bool def)
{
	json_t *v = json_is_object(o) ? json_object_get(o, key) : NULL;
	return json_is_boolean(v) ? json_is_true(v) : def;
}

bool sbx_copy(char *dst, size_t cap, const char *src)
{
	size_t n = strlen(src);
	bool ok = n < cap;
	if (ok)
		memcpy(dst, src, n + 1);
	return ok;
}

/* ------------------------------------------------------------------ ids and time */

void sbx_uuid(char out[37])
{
	uint8_t b[16];
	if (crypto_random(b, sizeof(b)) != 0) {
		/* The DRBG never fails once seeded; a clock-based fallback keeps ids distinct. */
		uint64_t t = util_mono_ms() ^ ((uint64_t)rand() << 20);
		memcpy(b, &t, 8);
		memcpy(b + 8, &t, 8);
	}
	b[6] = (uint8_t)((b[6] & 0x0f) | 0x40);
	b[8] = (uint8_t)((b[8] & 0x3f) | 0x80);
	snprintf(out, 37, "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x",
		 b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7], b[8], b[9], b[10], b[11], b[12],
		 b[13], b[14], b[15]);
}

void sbx_hexid(char *out, size_t n)
{
	uint8_t b[64];
	size_t bytes = (n + 1) / 2;
	char hex[129];
	if (bytes > sizeof(b))
		bytes = sizeof(b);
	if (crypto_random(b, bytes) != 0)
		memset(b, 0x5a, bytes);
	crypto_hex(b, bytes, hex);
	memcpy(out, hex, n);
	out[n] = '\0';
}

uint64_t sbx_next(sbx_t *s)
{
	return ++s->next_id;
}

void sbx_time_brt(int64_t ms, char out[32])
{
	time_t t = (time_t)(ms / 1000) - 3 * 3600;
	struct tm tm;
	gmtime_r(&t, &tm);
	strftime(out, 32, "%Y-%m-%d %H:%M:%S", &tm);
}

void sbx_time_iso(int64_t ms, char out[32])
{
	util_rfc3339(ms, out, 32);
}

/* ------------------------------------------------------------------ cards */

int sbx_final_digit(const char *number)
{
	size_t n = strlen(number);
	return n > 0 && isdigit((unsigned char)number[n - 1]) ? number[n - 1] - '0' : -1;
}

bool sbx_luhn_ok(const char *number)
{
	size_t n = strlen(number);
	bool ok = n >= 12 && n <= 19;
	int sum = 0;
	for (size_t i = 0; i < n && ok; i++) {
		int c = (unsigned char)number[n - 1 - i];
		if (!isdigit(c)) {
			ok = false;
		} else {
			int d = c - '0';
			if (i % 2 == 1) {
				d *= 2;
				if (d > 9)
					d -= 9;
			}
			sum += d;
		}
	}
	return ok && sum % 10 == 0;
}

void sbx_mask_card(const char *number, char out[24])
{
	size_t n = strlen(number);
	if (n < 10 || n > 19) {
		snprintf(out, 24, "******");
	} else {
		memcpy(out, number, 6);
		memset(out + 6, '*', n - 10);
		memcpy(out + n - 4, number + n - 4, 4);
		out[n] = '\0';
	}
}

/*
 * Helpers every adapter uses: classification of HTTP answers into outcomes,
 * defensive JSON reading, encodings, constant-time credential checks and the
 * scrubbing of service messages.
 */
#include <errno.h>
#include <math.h> /* isfinite, a macro: no libm needed */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "common/crypto.h"
#include "common/util.h"
#include "gateways/gw_internal.h"

/* ------------------------------------------------------------------ small strings */

bool gw_copy(char *dst, size_t cap, const char *src)
{
	size_t n = strlen(src);

	if (n >= cap) {
		dst[0] = '\0';
		return false;
	}
	memcpy(dst, src, n + 1);
	return true;
}

bool gw_is_digit(int c)
{
	return c >= '0' && c <= '9';
}

bool gw_is_alnum(int c)
{
	return gw_is_digit(c) || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

bool gw_is_id_char(int c)
{
	return gw_is_alnum(c) || c == '-' || c == '_' || c == '.' || c == ':';
}

bool gw_str_charset(const char *s, size_t max, bool (*ok)(int c))
{
	size_t n = 0;

	if (s == NULL || *s == '\0')
		return false;
	for (; *s != '\0'; s++) {
		if (++n > max || !ok((unsigned char)*s))
			return false;
	}
	return true;
}

/* Length of the UTF-8 sequence starting at s (0 when invalid), per RFC 3629. */
static size_t gw_utf8_len(const unsigned char *s)
{
	unsigned char c = s[0];
	size_t n;
	uint32_t cp;

	if (c < 0x80)
		return 1;
	if (c >= 0xc2 && c <= 0xdf) {
		n = 2;
		cp = c & 0x1f;
	} else if (c >= 0xe0 && c <= 0xef) {
		n = 3;
		cp = c & 0x0f;
	} else if (c >= 0xf0 && c <= 0xf4) {
		n = 4;
		cp = c & 0x07;
	} else {
		return 0;
	}
	for (size_t i = 1; i < n; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		cp = (cp << 6) | (s[i] & 0x3f);
	}
	/* Overlong forms, surrogates and values past U+10FFFF are invalid. */
	if ((n == 3 && cp < 0x800) || (n == 4 && (cp < 0x10000 || cp > 0x10ffff)) ||
	    (cp >= 0xd800 && cp <= 0xdfff))
		return 0;
	return n;
}

static bool gw_text_check(const char *s, size_t max, bool multiline)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t n;

	if (s == NULL || *s == '\0' || strlen(s) > max)
		return false;
	while (*p != '\0') {
		bool ws = *p == '\n' || *p == '\r' || *p == '\t';
		if ((*p < 0x20 && !(multiline && ws)) || *p == 0x7f)
			return false;
		n = gw_utf8_len(p);
		if (n == 0)
			return false;
		p += n;
	}
	return true;
}

bool gw_text_ok(const char *s, size_t max)
{
	return gw_text_check(s, max, false);
}

bool gw_text_multiline_ok(const char *s, size_t max)
{
	return gw_text_check(s, max, true);
}

int gw_url_encode(const char *s, char *out, size_t cap)
{
	static const char hex[] = "0123456789ABCDEF";
	size_t o = 0;

	for (; *s != '\0'; s++) {
		unsigned char c = (unsigned char)*s;
		bool keep = gw_is_alnum(c) || c == '-' || c == '_' || c == '.' || c == '~';
		if (o + (keep ? 1 : 3) >= cap)
			return -E2BIG;
		if (keep) {
			out[o++] = (char)c;
		} else {
			out[o++] = '%';
			out[o++] = hex[c >> 4];
			out[o++] = hex[c & 15];
		}
	}
	if (o >= cap)
		return -E2BIG;
	out[o] = '\0';
	return 0;
}

int gw_call_id_path(gw_call_t *call, const char *method, const char *prefix, const char *id,
		    const char *suffix)
{
	char enc[3 * GW_ID_MAX];

	if (!gw_str_charset(id, GW_ID_MAX - 1, gw_is_id_char))
		return -EINVAL;
	if (gw_url_encode(id, enc, sizeof(enc)) < 0)
		return -E2BIG;
	call->method = method;
	return gw_call_path(call, "%s%s%s", prefix, enc, suffix);
}

/* Decodes one form component (n bytes) into out; '+' is a space. */
static int gw_form_decode(const char *s, size_t n, char *out, size_t cap)
{
	size_t o = 0;

	for (size_t i = 0; i < n; i++) {
		int c = (unsigned char)s[i];
		int hi;
		int lo;

		if (c == '+') {
			c = ' ';
		} else if (c == '%') {
			if (n - i < 3)
				return -EINVAL;
			hi = util_hexval((unsigned char)s[i + 1]);
			lo = util_hexval((unsigned char)s[i + 2]);
			if (hi < 0 || lo < 0)
				return -EINVAL;
			c = hi * 16 + lo;
			i += 2;
		}
		if (c == 0)
			return -EINVAL;
		if (o + 1 >= cap)
			return -E2BIG;
		out[o++] = (char)c;
	}
	if (cap == 0)
		return -E2BIG;
	out[o] = '\0';
	return 0;
}

int gw_form_get(const char *s, size_t len, const char *key, char *out, size_t cap)
{
	size_t klen = strlen(key);
	size_t i = 0;
	int found = 0;
	int rc = -ENOENT;

	if (cap > 0)
		out[0] = '\0';
	while (s != NULL && i < len) {
		size_t start = i;
		size_t eq;
		size_t end;
		char name[128];

		while (i < len && s[i] != '&')
			i++;
		end = i++;
		eq = start;
		while (eq < end && s[eq] != '=')
			eq++;
		/* Names are decoded too: "seller%5Fid" is seller_id. */
		if (eq - start >= sizeof(name) ||
		    gw_form_decode(s + start, eq - start, name, sizeof(name)) < 0)
			continue;
		if (strlen(name) != klen || memcmp(name, key, klen) != 0)
			continue;
		if (++found > 1) {
			rc = -EEXIST;
			break;
		}
		rc = gw_form_decode(s + (eq < end ? eq + 1 : end), eq < end ? end - eq - 1 : 0, out,
				    cap);
		if (rc < 0)
			break;
	}
	if (rc < 0 && cap > 0)
		out[0] = '\0';
	return rc;
}

const char *gw_header_get(const gw_webhook_req_t *req, const char *name, size_t *count)
{
	const char *v = NULL;
	size_t n = 0;

	for (size_t i = 0; i < req->n_headers; i++) {
		if (req->headers[i].name != NULL && strcasecmp(req->headers[i].name, name) == 0) {
			if (v == NULL)
				v = req->headers[i].value != NULL ? req->headers[i].value : "";
			n++;
		}
	}
	if (count != NULL)
		*count = n;
	return v;
}

/* ------------------------------------------------------------------ credentials */

static uint64_t gw_compares;

bool gw_secret_equal(const char *got, size_t got_len, const char *want)
{
	uint8_t a[32];
	uint8_t b[32];
	bool eq;

	gw_compares++;
	if (want == NULL || want[0] == '\0' || got == NULL)
		return false;
	crypto_sha256(got, got_len, NULL, 0, a);
	crypto_sha256(want, strlen(want), NULL, 0, b);
	eq = crypto_equal(a, b, sizeof(a));
	crypto_wipe(a, sizeof(a));
	crypto_wipe(b, sizeof(b));
	return eq;
}

uint64_t gw_secret_compare_count(void)
{
	return gw_compares;
}

int gw_verify_header_pairs(const gw_t *gw, const gw_webhook_req_t *req)
{
	bool ok = gw->cfg.n_webhook_headers > 0;

	/* Every pair is checked, with no early exit, so timing says nothing about
	 * which one failed. */
	for (size_t i = 0; i < gw->cfg.n_webhook_headers; i++) {
		const gw_header_pair_t *h = &gw->cfg.webhook_headers[i];
		size_t count = 0;
		const char *v = gw_header_get(req, h->name, &count);
		bool eq = gw_secret_equal(v != NULL ? v : "", v != NULL ? strlen(v) : 0, h->value);
		/* A repeated credential header is ambiguous: refused. */
		ok = ok && count == 1 && eq;
	}
	return ok ? 0 : -EACCES;
}

void gw_event_id_set(gw_event_t *ev, const char *s)
{
	uint8_t d[32];
	char hex[65];

	if (gw_copy(ev->event_id, sizeof(ev->event_id), s))
		return;
	crypto_sha256(s, strlen(s), NULL, 0, d);
	crypto_hex(d, sizeof(d), hex);
	snprintf(ev->event_id, sizeof(ev->event_id), "sha256:%s", hex);
}

static void gw_event_id_vderive(gw_event_t *ev, const char *fmt, va_list ap)
	__attribute__((format(printf, 2, 0)));

static void gw_event_id_vderive(gw_event_t *ev, const char *fmt, va_list ap)
{
	char id[2 * GW_ID_MAX + GW_STATUS_MAX + 64];

	vsnprintf(id, sizeof(id), fmt, ap);
	gw_event_id_set(ev, id);
	ev->derived_id = true;
}

void gw_event_id_derive(gw_event_t *ev, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	gw_event_id_vderive(ev, fmt, ap);
	va_end(ap);
}

void gw_event_id_given_or_derive(gw_event_t *ev, const char *given, const char *fmt, ...)
{
	va_list ap;

	if (given[0] != '\0') {
		gw_event_id_set(ev, given);
		return;
	}
	va_start(ap, fmt);
	gw_event_id_vderive(ev, fmt, ap);
	va_end(ap);
}

void gw_uuid_from(const char *label, const char *key, char out[37])
{
	uint8_t d[32];

	crypto_sha256(label, strlen(label), key, strlen(key), d);
	/* Version and variant bits as RFC 4122 v4 so strict parsers accept it. */
	d[6] = (uint8_t)((d[6] & 0x0f) | 0x40);
	d[8] = (uint8_t)((d[8] & 0x3f) | 0x80);
	snprintf(out, 37, "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x",
		 d[0], d[1], d[2], d[3], d[4], d[5], d[6], d[7], d[8], d[9], d[10], d[11], d[12],
		 d[13], d[14], d[15]);
}

/* ------------------------------------------------------------------ messages */

/* Replaces every occurrence of secret in s (a string in cap bytes) by a mark,
 * cutting the end when the mark is longer than the secret and room runs out. */
static void gw_redact(char *s, size_t cap, const char *secret)
{
	static const char mark[] = "[redacted]";
	const size_t ml = sizeof(mark) - 1;
	size_t sl;
	char *p;

	/* Short configured values ("1") would shred ordinary text and are not secrets
	 * worth the name; credentials are far longer. */
	if (secret == NULL || (sl = strlen(secret)) < 6)
		return;
	p = strstr(s, secret);
	while (p != NULL) {
		size_t at = (size_t)(p - s);
		size_t tail = strlen(p + sl);

		if (at + ml >= cap) {
			*p = '\0';
			break;
		}
		if (at + ml + tail >= cap)
			tail = cap - 1 - at - ml;
		memmove(p + ml, p + sl, tail);
		memcpy(p, mark, ml);
		p[ml + tail] = '\0';
		/* Search after the mark: a secret inside "[redacted]" must not loop. */
		p = strstr(p + ml, secret);
	}
}

/* Card numbers are 12-19 digits, possibly grouped by spaces or dashes: any run
 * of 13 or more digits (single separators between digits allowed) is hidden.
 * The mark is shorter than such a run, so the string never grows. */
static void gw_redact_digits(char *s)
{
	static const char mark[] = "[redacted]";
	size_t i = 0;
	size_t w = 0;

	while (s[i] != '\0') {
		size_t j = i;
		size_t digits = 0;
		size_t last = i;

		while (gw_is_digit((unsigned char)s[j]) ||
		       ((s[j] == ' ' || s[j] == '-') && digits > 0 &&
			gw_is_digit((unsigned char)s[j + 1]))) {
			if (gw_is_digit((unsigned char)s[j])) {
				digits++;
				last = j + 1;
			}
			j++;
		}
		if (digits >= 13) {
			memcpy(s + w, mark, sizeof(mark) - 1);
			w += sizeof(mark) - 1;
			i = last;
		} else if (j > i) {
			memmove(s + w, s + i, j - i);
			w += j - i;
			i = j;
		} else {
			s[w++] = s[i++];
		}
	}
	s[w] = '\0';
}

void gw_reply_message(const gw_t *gw, gw_reply_t *r, const char *msg)
{
	const char *secrets[] = {gw->cfg.merchant_key, gw->cfg.merchant_id, gw->cfg.client_secret,
				 gw->cfg.client_id,    gw->cfg.api_token,   gw->cfg.api_key,
				 gw->cfg.api_secret,   gw->cfg.seller_id,   gw->cfg.webhook_secret};
	size_t n = 0;
	const unsigned char *p = (const unsigned char *)msg;

	/* Copy valid UTF-8 only, control characters as spaces, cut on a character
	 * boundary. */
	while (*p != '\0') {
		size_t cl = gw_utf8_len(p);
		if (cl == 0) {
			if (n + 1 >= sizeof(r->message))
				break;
			r->message[n++] = '?';
			p++;
			continue;
		}
		if (n + cl >= sizeof(r->message))
			break;
		for (size_t i = 0; i < cl; i++)
			r->message[n++] =
				(char)((cl == 1 && (p[i] < 0x20 || p[i] == 0x7f)) ? ' ' : p[i]);
		p += cl;
	}
	r->message[n] = '\0';
	for (size_t i = 0; i < OSPAY_ARRAY_LEN(secrets); i++)
		gw_redact(r->message, sizeof(r->message), secrets[i]);
	for (size_t i = 0; i < gw->cfg.n_webhook_headers; i++)
		gw_redact(r->message, sizeof(r->message), gw->cfg.webhook_headers[i].value);
	gw_redact_digits(r->message);
}

/* ------------------------------------------------------------------ classification */

gw_outcome_t gw_outcome_of(const gw_outcome_word_t *map, size_t n, const char *s)
{
	for (size_t i = 0; i < n; i++) {
		if (strcasecmp(s, map[i].word) == 0)
			return map[i].o;
	}
	return GW_OUTCOME_UNKNOWN;
}

void gw_reply_from_http(gw_reply_t *r, const http_response_t *res, bool mutating,
			const char *service)
{
	r->http_status = res->status;
	if (res->error < 0) {
		/* transfer_us is 0 when the request never left the queue: nothing was
		 * sent. A refused connection or an unresolved name sent nothing either. */
		bool never_sent = res->transfer_us == 0 || res->error == -ECONNREFUSED ||
				  res->error == -EHOSTUNREACH || res->error == -ENETUNREACH ||
				  res->error == -EINVAL || res->error == -ENOTSUP;
		r->error = res->error;
		r->http_status = 0;
		r->outcome =
			(mutating && !never_sent) ? GW_OUTCOME_UNKNOWN : GW_OUTCOME_ERROR_RETRYABLE;
		snprintf(r->message, sizeof(r->message), "%s: %s", service,
			 res->error_msg != NULL && res->error_msg[0] != '\0' ? res->error_msg
									     : "transfer failed");
		return;
	}
	r->error = -EPROTO;
	if (res->status == 401 || res->status == 403) {
		r->outcome = GW_OUTCOME_AUTH_FAILED;
		snprintf(r->message, sizeof(r->message), "%s: credentials refused (HTTP %ld)",
			 service, res->status);
	} else if (res->status == 404) {
		r->outcome = GW_OUTCOME_NOT_FOUND;
		snprintf(r->message, sizeof(r->message), "%s: not found (HTTP 404)", service);
	} else if (res->status == 429 || res->status == 408) {
		r->outcome = GW_OUTCOME_ERROR_RETRYABLE;
		snprintf(r->message, sizeof(r->message), "%s: try again later (HTTP %ld)", service,
			 res->status);
	} else if (res->status >= 500) {
		/* A 5xx after a request that changes something does not say whether the
		 * change happened: only a query can. */
		r->outcome = mutating ? GW_OUTCOME_UNKNOWN : GW_OUTCOME_ERROR_RETRYABLE;
		snprintf(r->message, sizeof(r->message), "%s: server error (HTTP %ld)", service,
			 res->status);
	} else {
		r->outcome = GW_OUTCOME_REJECTED;
		snprintf(r->message, sizeof(r->message), "%s: unexpected HTTP %ld", service,
			 res->status);
	}
}

void gw_reply_create_404(gw_reply_t *r)
{
	if (r->outcome == GW_OUTCOME_NOT_FOUND)
		r->outcome = GW_OUTCOME_REJECTED;
}

void gw_reply_malformed(gw_reply_t *r, long http_status, bool mutating, const char *service,
			const char *why)
{
	r->http_status = http_status;
	r->error = -EBADMSG;
	r->outcome = mutating ? GW_OUTCOME_UNKNOWN : GW_OUTCOME_ERROR_RETRYABLE;
	snprintf(r->message, sizeof(r->message), "%s: malformed answer: %s", service, why);
}

/*
 * ABECS response codes that forbid retrying (reference/gateways.md 1.10), with
 * the brands for which a code means something else: 57 and 63 are reversible
 * for Mastercard, 04 and 06 for Elo.
 */
static const char *const gw_irreversible_all[] = {
	"14",
	"01",
	"56",
	"N7",
	"58",
	"03",
	"19",
	"30",
	"12",
	"13",
	"23",
	"41",
	"43",
	"54",
	"46",
	"82",
	"83",
	"74",
	"81",
	"76",
	"77",
	"07",
	"15",
	"64",
	"92",
	"93",
	"94",
	"N3",
	"N8",
	"R0",
	"R1",
	"R3",
	"6P",
	"FM",
	"P5",
	/* Cielo's own codes marked "no retry" ("Outros códigos retornados"). */
	"2",
	"SC",
	"BN",
	"BM",
	"BR",
	"FC",
	"GA",
	"GF",
	"GT",
	"GK",
	"79",
	"80",
	"85",
	"90",
	"97",
	"C1",
	"C2",
	"C3",
	"KA",
	"KB",
	"KE",
	"U3",
};

bool gw_code_irreversible(const char *code, gw_brand_t brand)
{
	bool master = brand == GW_BRAND_MASTERCARD;
	bool elo = brand == GW_BRAND_ELO;

	if (code == NULL || code[0] == '\0')
		return false;
	if (strcmp(code, "57") == 0 || strcmp(code, "63") == 0)
		return !master;
	if (strcmp(code, "04") == 0 || strcmp(code, "06") == 0)
		return !elo;
	for (size_t i = 0; i < OSPAY_ARRAY_LEN(gw_irreversible_all); i++) {
		if (strcmp(code, gw_irreversible_all[i]) == 0)
			return true;
	}
	return false;
}

/* ------------------------------------------------------------------ JSON writing */

void gw_jset(json_t *obj, const char *key, json_t *value, int *rc)
{
	if (value == NULL || obj == NULL || json_object_set_new(obj, key, value) < 0) {
		if (obj == NULL)
			json_decref(value);
		if (*rc == 0)
			*rc = -ENOMEM;
	}
}

json_t *gw_jobject_at(json_t *obj, const char *key, int *rc)
{
	json_t *child = json_object();
	int set = 0;

	gw_jset(obj, key, child, &set);
	if (set != 0 && *rc == 0)
		*rc = set;
	return set == 0 ? child : NULL;
}

/* ------------------------------------------------------------------ JSON reading */

void gw_parse_fail(gw_parse_t *p, const char *fmt, ...)
{
	va_list ap;

	if (p->err != 0)
		return;
	p->err = -EBADMSG;
	va_start(ap, fmt);
	vsnprintf(p->why, sizeof(p->why), fmt, ap);
	va_end(ap);
}

json_t *gw_json_parse(gw_parse_t *p, const void *body, size_t len)
{
	json_error_t e;
	json_t *j;

	if (body == NULL || len == 0) {
		gw_parse_fail(p, "empty body");
		return NULL;
	}
	j = json_loadb(body, len, JSON_REJECT_DUPLICATES, &e);
	if (j == NULL)
		gw_parse_fail(p, "not JSON (line %d: %.60s)", e.line, e.text);
	return j;
}

int gw_json_webhook(const gw_t *gw, const gw_webhook_req_t *req, gw_event_t *ev)
{
	gw_parse_t p = {0};
	json_t *j = gw_json_parse(&p, req->body, req->body_len);
	int rc = -EBADMSG;

	if (j != NULL && !json_is_object(j))
		gw_parse_fail(&p, "expected an object");
	if (p.err == 0)
		gw->ad->webhook_fields(&p, j, ev);
	if (p.err != 0) {
		snprintf(ev->error, sizeof(ev->error), "%s: %s", gw->ad->name, p.why);
		goto out;
	}
	rc = 0;
out:
	json_decref(j);
	return rc;
}

/* "Payment.Status" into buf for messages. */
static const char *gw_field(char *buf, size_t cap, const char *ctx, const char *key)
{
	if (ctx != NULL && ctx[0] != '\0')
		snprintf(buf, cap, "%s.%s", ctx, key);
	else
		snprintf(buf, cap, "%s", key);
	return buf;
}

/* obj[key], NULL for absent or null; a failure when required. */
static json_t *gw_member(gw_parse_t *p, const json_t *obj, const char *ctx, const char *key,
			 unsigned flags)
{
	char f[96];
	json_t *v = json_is_object(obj) ? json_object_get(obj, key) : NULL;

	if (v == NULL || json_is_null(v)) {
		if (flags & GW_F_REQ)
			gw_parse_fail(p, "%s: missing", gw_field(f, sizeof(f), ctx, key));
		return NULL;
	}
	return v;
}

bool gw_get_str(gw_parse_t *p, const json_t *obj, const char *ctx, const char *key, char *out,
		size_t cap, unsigned flags)
{
	char f[96];
	char num[24];
	json_t *v = gw_member(p, obj, ctx, key, flags);
	const char *s;
	size_t n;

	out[0] = '\0';
	if (v == NULL)
		return false;
	if (json_is_integer(v) && (flags & GW_F_NUMOK)) {
		snprintf(num, sizeof(num), "%lld", (long long)json_integer_value(v));
		s = num;
		n = strlen(num);
	} else if (json_is_string(v)) {
		s = json_string_value(v);
		n = json_string_length(v);
	} else {
		gw_parse_fail(p, "%s: expected a string", gw_field(f, sizeof(f), ctx, key));
		return false;
	}
	if (n >= cap && !(flags & GW_F_TRUNC)) {
		gw_parse_fail(p, "%s: longer than %zu bytes", gw_field(f, sizeof(f), ctx, key),
			      cap - 1);
		return false;
	}
	if (flags & GW_F_ID) {
		for (size_t i = 0; i < n; i++) {
			if (!gw_is_id_char((unsigned char)s[i])) {
				gw_parse_fail(p, "%s: not an id", gw_field(f, sizeof(f), ctx, key));
				return false;
			}
		}
		if (n == 0 && (flags & GW_F_REQ)) {
			gw_parse_fail(p, "%s: empty", gw_field(f, sizeof(f), ctx, key));
			return false;
		}
	}
	if (n >= cap)
		n = cap - 1;
	memcpy(out, s, n);
	out[n] = '\0';
	return n > 0 || !(flags & GW_F_ID);
}

bool gw_get_int(gw_parse_t *p, const json_t *obj, const char *ctx, const char *key, int64_t *out,
		int64_t min, int64_t max, unsigned flags)
{
	char f[96];
	json_t *v = gw_member(p, obj, ctx, key, flags);
	json_int_t x;

	if (v == NULL)
		return false;
	if (!json_is_integer(v)) {
		gw_parse_fail(p, "%s: expected an integer", gw_field(f, sizeof(f), ctx, key));
		return false;
	}
	x = json_integer_value(v);
	if (x < min || x > max) {
		gw_parse_fail(p, "%s: out of range", gw_field(f, sizeof(f), ctx, key));
		return false;
	}
	*out = x;
	return true;
}

bool gw_get_int_lenient(gw_parse_t *p, const json_t *obj, const char *ctx, const char *key,
			int64_t *out, int64_t min, int64_t max, unsigned flags)
{
	char f[96];
	json_t *v = gw_member(p, obj, ctx, key, flags);
	const char *s;
	int64_t x = 0;

	if (v == NULL)
		return false;
	if (json_is_integer(v))
		return gw_get_int(p, obj, ctx, key, out, min, max, flags);
	if (!json_is_string(v)) {
		gw_parse_fail(p, "%s: expected an integer", gw_field(f, sizeof(f), ctx, key));
		return false;
	}
	s = json_string_value(v);
	if (*s == '\0' || strlen(s) > 18 || !gw_str_charset(s, 18, gw_is_digit)) {
		gw_parse_fail(p, "%s: expected digits", gw_field(f, sizeof(f), ctx, key));
		return false;
	}
	for (; *s != '\0'; s++)
		x = x * 10 + (*s - '0');
	if (x < min || x > max) {
		gw_parse_fail(p, "%s: out of range", gw_field(f, sizeof(f), ctx, key));
		return false;
	}
	*out = x;
	return true;
}

bool gw_get_bool(gw_parse_t *p, const json_t *obj, const char *ctx, const char *key, bool *out,
		 unsigned flags)
{
	char f[96];
	json_t *v = gw_member(p, obj, ctx, key, flags);

	if (v == NULL)
		return false;
	if (!json_is_boolean(v)) {
		gw_parse_fail(p, "%s: expected true or false", gw_field(f, sizeof(f), ctx, key));
		return false;
	}
	*out = json_is_true(v);
	return true;
}

/* The member key when it is absent (NULL) or of the JSON type wanted; a parse failure
 * naming what was expected otherwise. */
static json_t *gw_get_typed(gw_parse_t *p, const json_t *obj, const char *ctx, const char *key,
			    unsigned flags, json_type type, const char *what)
{
	char f[96];
	json_t *v = gw_member(p, obj, ctx, key, flags);

	if (v != NULL && json_typeof(v) != type) {
		gw_parse_fail(p, "%s: expected %s", gw_field(f, sizeof(f), ctx, key), what);
		return NULL;
	}
	return v;
}

json_t *gw_get_object(gw_parse_t *p, const json_t *obj, const char *ctx, const char *key,
		      unsigned flags)
{
	return gw_get_typed(p, obj, ctx, key, flags, JSON_OBJECT, "an object");
}

json_t *gw_get_array(gw_parse_t *p, const json_t *obj, const char *ctx, const char *key,
		     unsigned flags)
{
	return gw_get_typed(p, obj, ctx, key, flags, JSON_ARRAY, "an array");
}

/* "157", "157.5", "157.50" to centavos; false when not such a number. */
static bool gw_decimal_cents(const char *s, int64_t *cents)
{
	int64_t whole = 0;
	int64_t frac = 0;
	int fd = 0;
	size_t wd = 0;

	if (*s == '\0')
		return false;
	for (; gw_is_digit((unsigned char)*s); s++) {
		if (++wd > 12)
			return false;
		whole = whole * 10 + (*s - '0');
	}
	if (wd == 0)
		return false;
	if (*s == '.') {
		for (s++; gw_is_digit((unsigned char)*s); s++) {
			if (++fd > 2)
				return false;
			frac = frac * 10 + (*s - '0');
		}
		if (fd == 0)
			return false;
	}
	if (*s != '\0')
		return false;
	if (fd == 1)
		frac *= 10;
	*cents = whole * 100 + frac;
	return true;
}

bool gw_get_reais(gw_parse_t *p, const json_t *obj, const char *ctx, const char *key,
		  int64_t *cents, unsigned flags)
{
	char f[96];
	char buf[48];
	json_t *v = gw_member(p, obj, ctx, key, flags);
	int64_t c = 0;
	bool ok = false;

	if (v == NULL)
		return false;
	if (json_is_string(v)) {
		ok = json_string_length(v) < sizeof(buf) &&
		     gw_decimal_cents(json_string_value(v), &c);
	} else if (json_is_integer(v)) {
		json_int_t x = json_integer_value(v);
		ok = x >= 0 && x <= GW_MAX_AMOUNT_CENTS / 100;
		c = (int64_t)x * 100;
	} else if (json_is_real(v)) {
		/* A binary double holds 157.1 as 157.0999...; rounding to the cent is
		 * exact for every amount with at most two decimals in range. */
		double d = json_real_value(v);
		double x = d * 100.0;
		double diff;

		ok = isfinite(d) && d >= 0 && x <= (double)GW_MAX_AMOUNT_CENTS;
		if (ok) {
			c = (int64_t)(x + 0.5);
			diff = x - (double)c;
			/* Three or more decimals ("1.005") are not an amount in reais. */
			ok = diff < 1e-3 && diff > -1e-3;
		}
	}
	if (!ok || c > GW_MAX_AMOUNT_CENTS) {
		gw_parse_fail(p, "%s: not an amount in reais", gw_field(f, sizeof(f), ctx, key));
		return false;
	}
	*cents = c;
	return true;
}

#include "common/pbjson.h"

#include <errno.h>
#include <float.h>
#include <inttypes.h>
#include <malloc.h>
#include <math.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/crypto.h"
#include "common/util.h"

/* ------------------------------------------------------------------ shared */

static void wiping_free(void *p)
{
	if (p != NULL)
		crypto_wipe(p, malloc_usable_size(p));
	free(p);
}

void pbjson_wipe_on_free(void)
{
	json_set_alloc_funcs(malloc, wiping_free);
}

void pbjson_json_name(const char *name, char *out, size_t cap)
{
	size_t o = 0;
	bool up = false;
	for (; *name != '\0' && o + 1 < cap; name++) {
		if (*name == '_') {
			up = true;
			continue;
		}
		char c = *name;
		out[o++] = up && c >= 'a' && c <= 'z' ? (char)(c - 'a' + 'A') : c;
		up = false;
	}
	if (cap > 0)
		out[o] = '\0';
}

/* Whether key is name's JSON name, without building it. */
static bool json_name_eq(const char *name, const char *key)
{
	bool up = false;
	for (; *name != '\0'; name++) {
		if (*name == '_') {
			up = true;
			continue;
		}
		char c = up && *name >= 'a' && *name <= 'z' ? (char)(*name - 'a' + 'A') : *name;
		if (*key++ != c)
			return false;
		up = false;
	}
	return *key == '\0';
}

size_t pbjson_value_size(ProtobufCType t)
{
	switch (t) {
	case PROTOBUF_C_TYPE_INT64:
	case PROTOBUF_C_TYPE_SINT64:
	case PROTOBUF_C_TYPE_SFIXED64:
	case PROTOBUF_C_TYPE_UINT64:
	case PROTOBUF_C_TYPE_FIXED64:
		return sizeof(uint64_t);
	case PROTOBUF_C_TYPE_DOUBLE:
		return sizeof(double);
	case PROTOBUF_C_TYPE_BOOL:
		return sizeof(protobuf_c_boolean);
	case PROTOBUF_C_TYPE_ENUM:
		return sizeof(int);
	case PROTOBUF_C_TYPE_STRING:
		return sizeof(char *);
	case PROTOBUF_C_TYPE_BYTES:
		return sizeof(ProtobufCBinaryData);
	case PROTOBUF_C_TYPE_MESSAGE:
		return sizeof(ProtobufCMessage *);
	default:
		return sizeof(uint32_t);
	}
}

/* ------------------------------------------------------------------ message -> JSON */

static json_t *out_message(const ProtobufCMessage *m, unsigned flags, int depth);

static json_t *out_64(bool neg, uint64_t v, unsigned flags)
{
	char text[24];
	/* jansson's integers are signed: a string keeps every digit where a real would round. */
	if ((flags & PBJSON_INT64_NUMBERS) && (neg || v <= (uint64_t)INT64_MAX))
		return json_integer(neg ? (json_int_t)(int64_t)v : (json_int_t)v);
	if (neg)
		snprintf(text, sizeof(text), "%" PRId64, (int64_t)v);
	else
		snprintf(text, sizeof(text), "%" PRIu64, v);
	return json_string(text);
}

static json_t *out_double(double d)
{
	if (isnan(d))
		return json_string("NaN");
	if (isinf(d))
		return json_string(d > 0 ? "Infinity" : "-Infinity");
	return json_real(d);
}

/* jansson refuses invalid UTF-8; stored text is not trusted to be valid. */
static json_t *out_string(const char *s)
{
	json_t *j = NULL;
	char *fixed = NULL;
	size_t n = 0, o = 0;
	if (s == NULL)
		s = "";
	n = strlen(s);
	j = json_stringn(s, n);
	if (j != NULL)
		goto out;
	/* Each bad byte becomes U+FFFD (3 bytes): at most 3n + 1. */
	fixed = malloc(3 * n + 1);
	if (fixed == NULL)
		goto out;
	for (size_t i = 0; i < n;) {
		uint32_t cp = 0;
		size_t k = util_utf8_decode(s + i, n - i, &cp);
		if (k == 0) {
			memcpy(fixed + o, "\xEF\xBF\xBD", 3);
			o += 3;
			i++;
		} else {
			memcpy(fixed + o, s + i, k);
			o += k;
			i += k;
		}
	}
	j = json_stringn(fixed, o);
out:
	free(fixed);
	return j;
}

static json_t *out_bytes(const ProtobufCBinaryData *b)
{
	json_t *j = NULL;
	char *text = malloc(4 * ((b->len + 2) / 3) + 1);
	if (text != NULL) {
		crypto_base64(b->data, b->len, text);
		j = json_string(text);
	}
	free(text);
	return j;
}

static json_t *out_enum(const ProtobufCFieldDescriptor *f, int v)
{
	const ProtobufCEnumValue *ev = protobuf_c_enum_descriptor_get_value(f->descriptor, v);
	return ev != NULL ? json_string(ev->name) : json_integer(v);
}

/* One value of field f stored at p (an element, for repeated fields). */
static json_t *out_value(const ProtobufCFieldDescriptor *f, const void *p, unsigned flags,
			 int depth)
{
	switch (f->type) {
	case PROTOBUF_C_TYPE_INT32:
	case PROTOBUF_C_TYPE_SINT32:
	case PROTOBUF_C_TYPE_SFIXED32:
		return json_integer(*(const int32_t *)p);
	case PROTOBUF_C_TYPE_UINT32:
	case PROTOBUF_C_TYPE_FIXED32:
		return json_integer(*(const uint32_t *)p);
	case PROTOBUF_C_TYPE_INT64:
	case PROTOBUF_C_TYPE_SINT64:
	case PROTOBUF_C_TYPE_SFIXED64: {
		int64_t v = *(const int64_t *)p;
		return out_64(v < 0, (uint64_t)v, flags);
	}
	case PROTOBUF_C_TYPE_UINT64:
	case PROTOBUF_C_TYPE_FIXED64:
		return out_64(false, *(const uint64_t *)p, flags);
	case PROTOBUF_C_TYPE_FLOAT:
		return out_double(*(const float *)p);
	case PROTOBUF_C_TYPE_DOUBLE:
		return out_double(*(const double *)p);
	case PROTOBUF_C_TYPE_BOOL:
		return json_boolean(*(const protobuf_c_boolean *)p);
	case PROTOBUF_C_TYPE_ENUM:
		return out_enum(f, *(const int *)p);
	case PROTOBUF_C_TYPE_STRING:
		return out_string(*(char *const *)p);
	case PROTOBUF_C_TYPE_BYTES:
		return out_bytes(p);
	case PROTOBUF_C_TYPE_MESSAGE: {
		const ProtobufCMessage *sub = *(const ProtobufCMessage *const *)p;
		return sub != NULL ? out_message(sub, flags, depth + 1) : json_null();
	}
	}
	return NULL;
}

static json_t *out_repeated(const ProtobufCFieldDescriptor *f, const ProtobufCMessage *m,
			    unsigned flags, int depth)
{
	const char *base = (const char *)m;
	size_t n = *(const size_t *)(base + f->quantifier_offset);
	const char *arr = *(const char *const *)(base + f->offset);
	size_t size = pbjson_value_size(f->type);
	json_t *a = json_array();
	if (a == NULL)
		return NULL;
	for (size_t i = 0; i < n && arr != NULL; i++) {
		json_t *v = out_value(f, arr + i * size, flags, depth);
		if (v == NULL || json_array_append_new(a, v) != 0) {
			json_decref(a);
			return NULL;
		}
	}
	return a;
}

/* Whether an optional (proto2, or proto3 `optional`) field is set. */
static bool out_has(const ProtobufCFieldDescriptor *f, const ProtobufCMessage *m)
{
	const char *base = (const char *)m;
	if (f->type == PROTOBUF_C_TYPE_MESSAGE || f->type == PROTOBUF_C_TYPE_STRING)
		return *(const void *const *)(base + f->offset) != NULL;
	return *(const protobuf_c_boolean *)(base + f->quantifier_offset);
}

/* Whether a proto3 singular field holds its default (canonical JSON leaves it out). */
static bool out_is_default(const ProtobufCFieldDescriptor *f, const void *p)
{
	switch (f->type) {
	case PROTOBUF_C_TYPE_INT64:
	case PROTOBUF_C_TYPE_SINT64:
	case PROTOBUF_C_TYPE_SFIXED64:
	case PROTOBUF_C_TYPE_UINT64:
	case PROTOBUF_C_TYPE_FIXED64:
		return *(const uint64_t *)p == 0;
	case PROTOBUF_C_TYPE_FLOAT:
		return *(const float *)p == 0 && !signbit(*(const float *)p);
	case PROTOBUF_C_TYPE_DOUBLE:
		return *(const double *)p == 0 && !signbit(*(const double *)p);
	case PROTOBUF_C_TYPE_BOOL:
		return !*(const protobuf_c_boolean *)p;
	case PROTOBUF_C_TYPE_ENUM:
		return *(const int *)p == 0;
	case PROTOBUF_C_TYPE_STRING: {
		const char *s = *(const char *const *)p;
		return s == NULL || s[0] == '\0';
	}
	case PROTOBUF_C_TYPE_BYTES:
		return ((const ProtobufCBinaryData *)p)->len == 0;
	case PROTOBUF_C_TYPE_MESSAGE:
		return *(const void *const *)p == NULL;
	default:
		return *(const uint32_t *)p == 0;
	}
}

static json_t *out_message(const ProtobufCMessage *m, unsigned flags, int depth)
{
	const ProtobufCMessageDescriptor *d = m->descriptor;
	const char *base = (const char *)m;
	bool all = flags & PBJSON_ALL_FIELDS;
	json_t *o = NULL;
	char key[128];
	if (depth > PBJSON_MAX_DEPTH)
		goto fail;
	o = json_object();
	if (o == NULL)
		goto fail;
	for (unsigned i = 0; i < d->n_fields; i++) {
		const ProtobufCFieldDescriptor *f = &d->fields[i];
		json_t *v = NULL;
		if (f->flags & PROTOBUF_C_FIELD_FLAG_ONEOF) {
			/* A oneof shows only the member that is set. */
			if (*(const uint32_t *)(base + f->quantifier_offset) != f->id)
				continue;
			v = out_value(f, base + f->offset, flags, depth);
		} else if (f->label == PROTOBUF_C_LABEL_REPEATED) {
			if (!all && *(const size_t *)(base + f->quantifier_offset) == 0)
				continue;
			v = out_repeated(f, m, flags, depth);
		} else if (f->label == PROTOBUF_C_LABEL_OPTIONAL && !out_has(f, m)) {
			if (!all)
				continue;
			v = json_null();
		} else if (f->label == PROTOBUF_C_LABEL_NONE && !all &&
			   out_is_default(f, base + f->offset)) {
			continue;
		} else {
			v = out_value(f, base + f->offset, flags, depth);
		}
		if (flags & PBJSON_PROTO_NAMES)
			snprintf(key, sizeof(key), "%s", f->name);
		else
			pbjson_json_name(f->name, key, sizeof(key));
		if (v == NULL || json_object_set_new(o, key, v) != 0)
			goto fail;
	}
	return o;
fail:
	json_decref(o);
	return NULL;
}

json_t *pbjson_from_message(const ProtobufCMessage *m, unsigned flags)
{
	return m != NULL ? out_message(m, flags, 0) : NULL;
}

/* ------------------------------------------------------------------ JSON -> message */

typedef struct in_ctx {
	pbjson_err_t *err;
	char path[128];
	size_t plen;
	int depth;
} in_ctx_t;

/* Records why reading failed at the current path; returns -EINVAL. */
static int in_fail(in_ctx_t *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static int in_fail(in_ctx_t *c, const char *fmt, ...)
{
	va_list ap;
	snprintf(c->err->path, sizeof(c->err->path), "%s", c->path);
	va_start(ap, fmt);
	vsnprintf(c->err->reason, sizeof(c->err->reason), fmt, ap);
	va_end(ap);
	return -EINVAL;
}

/* Appends a path piece; returns the length to restore with in_pop. */
static size_t in_push(in_ctx_t *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static size_t in_push(in_ctx_t *c, const char *fmt, ...)
{
	size_t was = c->plen;
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(c->path + c->plen, sizeof(c->path) - c->plen, fmt, ap);
	va_end(ap);
	if (n > 0)
		c->plen += (size_t)n < sizeof(c->path) - c->plen ? (size_t)n
								 : sizeof(c->path) - c->plen - 1;
	return was;
}

static void in_pop(in_ctx_t *c, size_t was)
{
	c->plen = was;
	c->path[was] = '\0';
}

static int in_message(in_ctx_t *c, const json_t *j, const ProtobufCMessageDescriptor *d,
		      ProtobufCMessage **out);

/* A decimal integer in text, strictly (no spaces, no plus sign, no exponent). */
static bool parse_int_text(const char *s, bool *neg, uint64_t *mag)
{
	uint64_t v = 0;
	*neg = *s == '-';
	if (*neg)
		s++;
	if (*s == '\0')
		return false;
	for (; *s != '\0'; s++) {
		if (*s < '0' || *s > '9')
			return false;
		unsigned dgt = (unsigned)(*s - '0');
		if (v > (UINT64_MAX - dgt) / 10)
			return false;
		v = v * 10 + dgt;
	}
	*mag = v;
	return true;
}

/* Any JSON integer form as sign and magnitude; -EINVAL (with the reason) otherwise. */
static int in_integer(in_ctx_t *c, const json_t *v, bool *neg, uint64_t *mag)
{
	if (json_is_integer(v)) {
		json_int_t i = json_integer_value(v);
		*neg = i < 0;
		*mag = i < 0 ? (uint64_t)0 - (uint64_t)i : (uint64_t)i;
		return 0;
	}
	if (json_is_real(v)) {
		double d = json_real_value(v);
		if (!isfinite(d) || floor(d) != d || fabs(d) >= 18446744073709551616.0)
			return in_fail(c, "expected an integer");
		*neg = d < 0;
		*mag = (uint64_t)fabs(d);
		return 0;
	}
	if (json_is_string(v)) {
		if (!parse_int_text(json_string_value(v), neg, mag))
			return in_fail(c, "expected an integer");
		return 0;
	}
	return in_fail(c, "expected an integer");
}

static int in_signed(in_ctx_t *c, const json_t *v, int64_t lo, int64_t hi, int64_t *out)
{
	bool neg;
	uint64_t mag;
	int rc = in_integer(c, v, &neg, &mag);
	if (rc != 0)
		return rc;
	if ((!neg && mag > (uint64_t)hi) || (neg && mag > (uint64_t)0 - (uint64_t)lo))
		return in_fail(c, "out of range");
	*out = neg ? (int64_t)((uint64_t)0 - mag) : (int64_t)mag;
	return 0;
}

static int in_unsigned(in_ctx_t *c, const json_t *v, uint64_t hi, uint64_t *out)
{
	bool neg;
	uint64_t mag;
	int rc = in_integer(c, v, &neg, &mag);
	if (rc != 0)
		return rc;
	if ((neg && mag != 0) || mag > hi)
		return in_fail(c, "out of range");
	*out = mag;
	return 0;
}

static int in_double(in_ctx_t *c, const json_t *v, bool is_float, double *out)
{
	double d;
	if (json_is_number(v)) {
		d = json_number_value(v);
	} else if (json_is_string(v)) {
		const char *s = json_string_value(v);
		char *end = NULL;
		if (strcmp(s, "NaN") == 0) {
			*out = NAN;
			return 0;
		}
		if (strcmp(s, "Infinity") == 0 || strcmp(s, "-Infinity") == 0) {
			*out = s[0] == '-' ? -INFINITY : INFINITY;
			return 0;
		}
		errno = 0;
		d = strtod(s, &end);
		if (*s == '\0' || *end != '\0' || errno != 0 || !isfinite(d) ||
		    strchr("0123456789-.", *s) == NULL)
			return in_fail(c, "expected a number");
	} else {
		return in_fail(c, "expected a number");
	}
	if (is_float && fabs(d) > FLT_MAX)
		return in_fail(c, "out of range");
	*out = d;
	return 0;
}

/* Whether s looks like an enum value's name: only those are quoted back in an error
 * (anything else the client put there could be a secret). */
static bool enum_like(const char *s)
{
	size_t n = 0;
	for (; s[n] != '\0'; n++)
		if (!((s[n] >= 'A' && s[n] <= 'Z') || (s[n] >= '0' && s[n] <= '9') || s[n] == '_'))
			return false;
	return n > 0 && n <= 60;
}

/* One value of f from v into p (the field's storage, or an array element). */
static int in_value(in_ctx_t *c, const ProtobufCFieldDescriptor *f, const json_t *v, void *p)
{
	int64_t i;
	uint64_t u;
	double d;
	int rc = 0;
	switch (f->type) {
	case PROTOBUF_C_TYPE_INT32:
	case PROTOBUF_C_TYPE_SINT32:
	case PROTOBUF_C_TYPE_SFIXED32:
		rc = in_signed(c, v, INT32_MIN, INT32_MAX, &i);
		if (rc == 0)
			*(int32_t *)p = (int32_t)i;
		return rc;
	case PROTOBUF_C_TYPE_UINT32:
	case PROTOBUF_C_TYPE_FIXED32:
		rc = in_unsigned(c, v, UINT32_MAX, &u);
		if (rc == 0)
			*(uint32_t *)p = (uint32_t)u;
		return rc;
	case PROTOBUF_C_TYPE_INT64:
	case PROTOBUF_C_TYPE_SINT64:
	case PROTOBUF_C_TYPE_SFIXED64:
		rc = in_signed(c, v, INT64_MIN, INT64_MAX, &i);
		if (rc == 0)
			*(int64_t *)p = i;
		return rc;
	case PROTOBUF_C_TYPE_UINT64:
	case PROTOBUF_C_TYPE_FIXED64:
		rc = in_unsigned(c, v, UINT64_MAX, &u);
		if (rc == 0)
			*(uint64_t *)p = u;
		return rc;
	case PROTOBUF_C_TYPE_FLOAT:
		rc = in_double(c, v, true, &d);
		if (rc == 0)
			*(float *)p = (float)d;
		return rc;
	case PROTOBUF_C_TYPE_DOUBLE:
		rc = in_double(c, v, false, &d);
		if (rc == 0)
			*(double *)p = d;
		return rc;
	case PROTOBUF_C_TYPE_BOOL:
		if (!json_is_boolean(v))
			return in_fail(c, "expected true or false");
		*(protobuf_c_boolean *)p = json_is_true(v);
		return 0;
	case PROTOBUF_C_TYPE_ENUM: {
		const ProtobufCEnumValue *ev = NULL;
		if (json_is_string(v)) {
			const char *name = json_string_value(v);
			bool quote = enum_like(name);
			ev = protobuf_c_enum_descriptor_get_value_by_name(f->descriptor, name);
			if (ev == NULL)
				return in_fail(
					c, "unknown value%s%.60s%s of %s", quote ? " \"" : "",
					quote ? name : "", quote ? "\"" : "",
					((const ProtobufCEnumDescriptor *)f->descriptor)->name);
			*(int *)p = ev->value;
			return 0;
		}
		/* Open enums (proto3): an unknown number is kept as it is. */
		rc = json_is_integer(v) ? in_signed(c, v, INT32_MIN, INT32_MAX, &i)
					: in_fail(c, "expected an enum name or number");
		if (rc == 0)
			*(int *)p = (int)i;
		return rc;
	}
	case PROTOBUF_C_TYPE_STRING: {
		if (!json_is_string(v))
			return in_fail(c, "expected a string");
		/* jansson refuses \u0000 on load (no JSON_ALLOW_NUL): a C string holds it all. */
		char *s = strdup(json_string_value(v));
		if (s == NULL)
			return -ENOMEM;
		char **slot = p;
		if (*slot != NULL && *slot != f->default_value)
			free(*slot);
		*slot = s;
		return 0;
	}
	case PROTOBUF_C_TYPE_BYTES: {
		if (!json_is_string(v))
			return in_fail(c, "expected a base64 string");
		size_t n = json_string_length(v), len = 0;
		uint8_t *data = malloc(3 * (n / 4) + 3);
		if (data == NULL)
			return -ENOMEM;
		if (crypto_base64_decode(json_string_value(v), n, data, &len) != 0) {
			free(data);
			return in_fail(c, "expected a base64 string");
		}
		ProtobufCBinaryData *b = p;
		b->data = data;
		b->len = len;
		return 0;
	}
	case PROTOBUF_C_TYPE_MESSAGE:
		return in_message(c, v, f->descriptor, p);
	}
	return in_fail(c, "unsupported field type");
}

static int in_repeated(in_ctx_t *c, const ProtobufCFieldDescriptor *f, const json_t *v, char *base)
{
	if (!json_is_array(v))
		return in_fail(c, "expected an array");
	size_t n = json_array_size(v), size = pbjson_value_size(f->type);
	if (n == 0)
		return 0;
	/* Zeroed and counted first: a failure half-way frees what was filled. */
	char *arr = calloc(n, size);
	if (arr == NULL)
		return -ENOMEM;
	*(void **)(base + f->offset) = arr;
	*(size_t *)(base + f->quantifier_offset) = n;
	for (size_t i = 0; i < n; i++) {
		const json_t *e = json_array_get(v, i);
		size_t was = in_push(c, "[%zu]", i);
		int rc = json_is_null(e) ? in_fail(c, "null is not a value of a list")
					 : in_value(c, f, e, arr + i * size);
		if (rc != 0)
			return rc;
		in_pop(c, was);
	}
	return 0;
}

/* The field a key names, by its .proto name or its JSON name; NULL if none. */
static const ProtobufCFieldDescriptor *in_field(const ProtobufCMessageDescriptor *d,
						const char *key)
{
	/* Linear: ospay's messages have few fields, and a descriptor written by hand may
	 * lack the sorted index protobuf_c_message_descriptor_get_field_by_name needs. */
	for (unsigned i = 0; i < d->n_fields; i++)
		if (strcmp(d->fields[i].name, key) == 0 || json_name_eq(d->fields[i].name, key))
			return &d->fields[i];
	return NULL;
}

static int in_field_value(in_ctx_t *c, const ProtobufCFieldDescriptor *f, const json_t *v,
			  char *base)
{
	if (f->label == PROTOBUF_C_LABEL_REPEATED)
		return in_repeated(c, f, v, base);
	if (f->flags & PROTOBUF_C_FIELD_FLAG_ONEOF) {
		uint32_t *which = (uint32_t *)(base + f->quantifier_offset);
		if (*which != 0)
			return in_fail(c, "a second member of the same oneof");
		int rc = in_value(c, f, v, base + f->offset);
		if (rc == 0)
			*which = f->id;
		return rc;
	}
	int rc = in_value(c, f, v, base + f->offset);
	if (rc == 0 && f->label == PROTOBUF_C_LABEL_OPTIONAL &&
	    f->type != PROTOBUF_C_TYPE_MESSAGE && f->type != PROTOBUF_C_TYPE_STRING)
		*(protobuf_c_boolean *)(base + f->quantifier_offset) = 1;
	return rc;
}

static ProtobufCMessage *in_new(const ProtobufCMessageDescriptor *d)
{
	ProtobufCMessage *m = malloc(d->sizeof_message);
	if (m == NULL)
		return NULL;
	if (d->message_init != NULL) {
		d->message_init(m);
	} else {
		memset(m, 0, d->sizeof_message);
		m->descriptor = d;
	}
	return m;
}

static int in_message(in_ctx_t *c, const json_t *j, const ProtobufCMessageDescriptor *d,
		      ProtobufCMessage **out)
{
	const char *key;
	const json_t *v;
	unsigned char *seen = NULL;
	ProtobufCMessage *m = NULL;
	int rc = 0;
	*out = NULL;
	if (json_is_null(j))
		return 0;
	if (!json_is_object(j))
		return in_fail(c, "expected an object");
	if (++c->depth > PBJSON_MAX_DEPTH) {
		rc = in_fail(c, "nested too deeply");
		goto out;
	}
	m = in_new(d);
	seen = calloc(d->n_fields + 1, 1);
	if (m == NULL || seen == NULL) {
		rc = -ENOMEM;
		goto out;
	}
	json_object_foreach((json_t *)j, key, v)
	{
		size_t was = in_push(c, "%s%.60s", c->plen > 0 ? "." : "", key);
		const ProtobufCFieldDescriptor *f = in_field(d, key);
		if (f == NULL) {
			rc = in_fail(c, "unknown field");
			goto out;
		}
		size_t idx = (size_t)(f - d->fields);
		if (seen[idx]) {
			rc = in_fail(c, "given twice (by its .proto and its JSON name)");
			goto out;
		}
		seen[idx] = 1;
		/* null is the field's default (unset, for a message or an optional). */
		if (!json_is_null(v)) {
			rc = in_field_value(c, f, v, (char *)m);
			if (rc != 0)
				goto out;
		}
		in_pop(c, was);
	}
out:
	c->depth--;
	free(seen);
	if (rc != 0 && m != NULL) {
		protobuf_c_message_free_unpacked(m, NULL);
		m = NULL;
	}
	*out = m;
	return rc;
}

int pbjson_to_message(const json_t *j, const ProtobufCMessageDescriptor *d, ProtobufCMessage **out,
		      pbjson_err_t *err)
{
	in_ctx_t c = {.err = err};
	*out = NULL;
	err->path[0] = err->reason[0] = '\0';
	if (!json_is_object(j))
		return in_fail(&c, "expected a JSON object");
	return in_message(&c, j, d, out);
}

int pbjson_parse(const char *text, size_t len, const ProtobufCMessageDescriptor *d,
		 ProtobufCMessage **out, pbjson_err_t *err)
{
	json_error_t je;
	*out = NULL;
	err->path[0] = err->reason[0] = '\0';
	if (len > PBJSON_MAX_TEXT) {
		snprintf(err->reason, sizeof(err->reason), "more than %u bytes of JSON",
			 PBJSON_MAX_TEXT);
		return -EINVAL;
	}
	/* Duplicate keys are refused: which one wins is not something to guess. */
	json_t *j = json_loadb(text, len, JSON_REJECT_DUPLICATES, &je);
	if (j == NULL) {
		/* jansson quotes the input it stopped at ("near '4111...'"): it could be a card
		 * number, and a secret never goes into an error message. */
		char *near = strstr(je.text, " near ");
		if (near != NULL)
			*near = '\0';
		snprintf(err->reason, sizeof(err->reason),
			 "malformed JSON at line %d column %d: %.60s", je.line, je.column, je.text);
		return -EINVAL;
	}
	int rc = pbjson_to_message(j, d, out, err);
	json_decref(j);
	return rc;
}

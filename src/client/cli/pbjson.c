#include "client/cli/pbjson.h"

#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "client/cli/utf8.h"

/* Deeper than any ospay message; stops a recursive type from exhausting the stack. */
#define PBJSON_MAX_DEPTH 64

static json_t *pbjson_message(const ProtobufCMessage *m, int depth);

void cli_pbjson_base64(const uint8_t *in, size_t n, char *out)
{
	static const char tab[] =
		"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	size_t i = 0, o = 0;
	for (; i + 2 < n; i += 3) {
		uint32_t v = ((uint32_t)in[i] << 16) | ((uint32_t)in[i + 1] << 8) | in[i + 2];
		out[o++] = tab[(v >> 18) & 63];
		out[o++] = tab[(v >> 12) & 63];
		out[o++] = tab[(v >> 6) & 63];
		out[o++] = tab[v & 63];
	}
	if (i < n) {
		uint32_t v = (uint32_t)in[i] << 16;
		if (i + 1 < n)
			v |= (uint32_t)in[i + 1] << 8;
		out[o++] = tab[(v >> 18) & 63];
		out[o++] = tab[(v >> 12) & 63];
		out[o++] = i + 1 < n ? tab[(v >> 6) & 63] : '=';
		out[o++] = '=';
	}
	out[o] = '\0';
}

static json_t *pbjson_u64(uint64_t v)
{
	char text[24];
	if (v <= (uint64_t)INT64_MAX)
		return json_integer((json_int_t)v);
	/* jansson's integers are signed: a string keeps every digit where a real would round. */
	snprintf(text, sizeof(text), "%" PRIu64, v);
	return json_string(text);
}

static json_t *pbjson_double(double d)
{
	if (isnan(d))
		return json_string("NaN");
	if (isinf(d))
		return json_string(d > 0 ? "Infinity" : "-Infinity");
	return json_real(d);
}

/* jansson refuses invalid UTF-8; servers are not trusted to send only valid text. */
static json_t *pbjson_string(const char *s)
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
		size_t k = cli_utf8_decode(s + i, n - i, &cp);
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

static json_t *pbjson_bytes(const ProtobufCBinaryData *b)
{
	json_t *j = NULL;
	char *text = malloc(4 * ((b->len + 2) / 3) + 1);
	if (text != NULL) {
		cli_pbjson_base64(b->data, b->len, text);
		j = json_string(text);
	}
	free(text);
	return j;
}

static json_t *pbjson_enum(const ProtobufCFieldDescriptor *f, int v)
{
	const ProtobufCEnumValue *ev = protobuf_c_enum_descriptor_get_value(f->descriptor, v);
	return ev != NULL ? json_string(ev->name) : json_integer(v);
}

/* One value of field f stored at p (an element, for repeated fields). */
static json_t *pbjson_value(const ProtobufCFieldDescriptor *f, const void *p, int depth)
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
	case PROTOBUF_C_TYPE_SFIXED64:
		return json_integer(*(const int64_t *)p);
	case PROTOBUF_C_TYPE_UINT64:
	case PROTOBUF_C_TYPE_FIXED64:
		return pbjson_u64(*(const uint64_t *)p);
	case PROTOBUF_C_TYPE_FLOAT:
		return pbjson_double(*(const float *)p);
	case PROTOBUF_C_TYPE_DOUBLE:
		return pbjson_double(*(const double *)p);
	case PROTOBUF_C_TYPE_BOOL:
		return json_boolean(*(const protobuf_c_boolean *)p);
	case PROTOBUF_C_TYPE_ENUM:
		return pbjson_enum(f, *(const int *)p);
	case PROTOBUF_C_TYPE_STRING:
		return pbjson_string(*(char *const *)p);
	case PROTOBUF_C_TYPE_BYTES:
		return pbjson_bytes(p);
	case PROTOBUF_C_TYPE_MESSAGE: {
		const ProtobufCMessage *sub = *(const ProtobufCMessage *const *)p;
		return sub != NULL ? pbjson_message(sub, depth + 1) : json_null();
	}
	}
	return NULL;
}

static size_t pbjson_elem_size(ProtobufCType t)
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

static json_t *pbjson_repeated(const ProtobufCFieldDescriptor *f, const ProtobufCMessage *m,
			       int depth)
{
	const char *base = (const char *)m;
	size_t n = *(const size_t *)(base + f->quantifier_offset);
	const char *arr = *(const char *const *)(base + f->offset);
	size_t size = pbjson_elem_size(f->type);
	json_t *a = json_array();
	if (a == NULL)
		return NULL;
	for (size_t i = 0; i < n && arr != NULL; i++) {
		json_t *v = pbjson_value(f, arr + i * size, depth);
		if (v == NULL || json_array_append_new(a, v) != 0) {
			json_decref(a);
			return NULL;
		}
	}
	return a;
}

/* Whether an optional (proto2, or proto3 `optional`) field is set. */
static int pbjson_has(const ProtobufCFieldDescriptor *f, const ProtobufCMessage *m)
{
	const char *base = (const char *)m;
	if (f->type == PROTOBUF_C_TYPE_MESSAGE || f->type == PROTOBUF_C_TYPE_STRING)
		return *(const void *const *)(base + f->offset) != NULL;
	return *(const protobuf_c_boolean *)(base + f->quantifier_offset);
}

static json_t *pbjson_message(const ProtobufCMessage *m, int depth)
{
	const ProtobufCMessageDescriptor *d = m->descriptor;
	const char *base = (const char *)m;
	json_t *o = NULL;
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
			v = pbjson_value(f, base + f->offset, depth);
		} else if (f->label == PROTOBUF_C_LABEL_REPEATED) {
			v = pbjson_repeated(f, m, depth);
		} else if (f->label == PROTOBUF_C_LABEL_OPTIONAL && !pbjson_has(f, m)) {
			v = json_null();
		} else {
			v = pbjson_value(f, base + f->offset, depth);
		}
		if (v == NULL || json_object_set_new(o, f->name, v) != 0)
			goto fail;
	}
	return o;
fail:
	json_decref(o);
	return NULL;
}

json_t *cli_pbjson_from_message(const ProtobufCMessage *m)
{
	return m != NULL ? pbjson_message(m, 0) : NULL;
}

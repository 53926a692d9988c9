/*
 * The C side of pbjson_python.py (the JSON mapping against Google's json_format).
 *
 *   pbjson_tool gen     for every message type of proto/, samples (all fields set,
 *                       and empty) as lines "TYPE<TAB>base64(binary)<TAB>JSON"
 *   pbjson_tool parse   reads lines "TYPE<TAB>JSON", answers "OK<TAB>base64(binary)"
 *                       or "ERR<TAB>path: reason", one line each
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/crypto.h"
#include "common/pbjson.h"
#include "common/pblist.h"

static const ProtobufCMessageDescriptor *find_type(const char *name)
{
	for (size_t i = 0; ospay_pb_messages[i] != NULL; i++)
		if (strcmp(ospay_pb_messages[i]->name, name) == 0)
			return ospay_pb_messages[i];
	return NULL;
}

static void fill(ProtobufCMessage *m, unsigned seed, int depth);

/* A value that is not the default for f, varied by seed, at p. */
static void fill_value(const ProtobufCFieldDescriptor *f, void *p, unsigned seed, int depth)
{
	static const char *const texts[] = {"São Paulo", "a \"quoted\" \\ line\nnext",
					    "Instalação fibra ☎", "x"};
	switch (f->type) {
	case PROTOBUF_C_TYPE_INT32:
	case PROTOBUF_C_TYPE_SINT32:
	case PROTOBUF_C_TYPE_SFIXED32:
		*(int32_t *)p = seed % 2 ? -(int32_t)(seed * 1000 + 7) : INT32_MAX - (int32_t)seed;
		break;
	case PROTOBUF_C_TYPE_UINT32:
	case PROTOBUF_C_TYPE_FIXED32:
		*(uint32_t *)p = UINT32_MAX - seed;
		break;
	case PROTOBUF_C_TYPE_INT64:
	case PROTOBUF_C_TYPE_SINT64:
	case PROTOBUF_C_TYPE_SFIXED64:
		/* Past 2^53: a double would lose digits. */
		*(int64_t *)p = seed % 2 ? INT64_MIN + seed : INT64_C(9007199254740993) + seed;
		break;
	case PROTOBUF_C_TYPE_UINT64:
	case PROTOBUF_C_TYPE_FIXED64:
		*(uint64_t *)p = seed % 2 ? UINT64_MAX - seed : UINT64_C(1700000000000) + seed;
		break;
	case PROTOBUF_C_TYPE_FLOAT:
		*(float *)p = 0.5f + (float)seed;
		break;
	case PROTOBUF_C_TYPE_DOUBLE:
		*(double *)p = -1.25 - seed;
		break;
	case PROTOBUF_C_TYPE_BOOL:
		*(protobuf_c_boolean *)p = 1;
		break;
	case PROTOBUF_C_TYPE_ENUM: {
		const ProtobufCEnumDescriptor *e = f->descriptor;
		/* A named non-zero value; on odd seeds a number the enum does not name. */
		*(int *)p = seed % 3 == 2
				    ? 977
				    : e->values[e->n_values > 1 ? 1 + seed % (e->n_values - 1) : 0]
					      .value;
		break;
	}
	case PROTOBUF_C_TYPE_STRING: {
		char text[160];
		snprintf(text, sizeof(text), "%s %s %u", f->name, texts[seed % 4], seed);
		*(char **)p = strdup(text);
		break;
	}
	case PROTOBUF_C_TYPE_BYTES: {
		ProtobufCBinaryData *b = p;
		b->len = 1 + seed % 5;
		b->data = malloc(b->len);
		for (size_t i = 0; i < b->len; i++)
			b->data[i] = (uint8_t)(0xFB + i + seed);
		break;
	}
	case PROTOBUF_C_TYPE_MESSAGE: {
		const ProtobufCMessageDescriptor *d = f->descriptor;
		ProtobufCMessage *sub = calloc(1, d->sizeof_message);
		d->message_init(sub);
		if (depth < 3)
			fill(sub, seed + 1, depth + 1);
		*(ProtobufCMessage **)p = sub;
		break;
	}
	}
}

/* Every field of m set (two elements per list; messages three levels deep). */
static void fill(ProtobufCMessage *m, unsigned seed, int depth)
{
	const ProtobufCMessageDescriptor *d = m->descriptor;
	char *base = (char *)m;
	for (unsigned i = 0; i < d->n_fields; i++) {
		const ProtobufCFieldDescriptor *f = &d->fields[i];
		unsigned s = seed + i;
		if (f->label == PROTOBUF_C_LABEL_REPEATED) {
			if (f->type == PROTOBUF_C_TYPE_MESSAGE && depth >= 3)
				continue;
			size_t n = 2, size = pbjson_value_size(f->type);
			char *arr = calloc(n, size);
			for (size_t k = 0; k < n; k++)
				fill_value(f, arr + k * size, s + (unsigned)k, depth);
			*(size_t *)(base + f->quantifier_offset) = n;
			*(void **)(base + f->offset) = arr;
			continue;
		}
		if (f->type == PROTOBUF_C_TYPE_MESSAGE && depth >= 3)
			continue;
		if (f->flags & PROTOBUF_C_FIELD_FLAG_ONEOF) {
			uint32_t *which = (uint32_t *)(base + f->quantifier_offset);
			if (*which != 0)
				continue;
			*which = f->id;
		} else if (f->label == PROTOBUF_C_LABEL_OPTIONAL &&
			   f->type != PROTOBUF_C_TYPE_STRING &&
			   f->type != PROTOBUF_C_TYPE_MESSAGE) {
			*(protobuf_c_boolean *)(base + f->quantifier_offset) = 1;
		}
		fill_value(f, base + f->offset, s, depth);
	}
}

static void print_sample(const ProtobufCMessage *m)
{
	size_t n = protobuf_c_message_get_packed_size(m);
	uint8_t *bin = malloc(n + 1);
	char *b64 = malloc(4 * ((n + 2) / 3) + 1);
	protobuf_c_message_pack(m, bin);
	crypto_base64(bin, n, b64);
	json_t *j = pbjson_from_message(m, 0);
	char *text = j != NULL ? json_dumps(j, JSON_COMPACT) : NULL;
	printf("%s\t%s\t%s\n", m->descriptor->name, b64, text != NULL ? text : "(null)");
	free(text);
	json_decref(j);
	free(b64);
	free(bin);
}

static int gen(void)
{
	for (size_t i = 0; ospay_pb_messages[i] != NULL; i++) {
		const ProtobufCMessageDescriptor *d = ospay_pb_messages[i];
		for (unsigned seed = 0; seed < 3; seed++) {
			ProtobufCMessage *m = calloc(1, d->sizeof_message);
			d->message_init(m);
			if (seed > 0)
				fill(m, seed, 0);
			print_sample(m);
			protobuf_c_message_free_unpacked(m, NULL);
		}
	}
	return 0;
}

static int parse(void)
{
	char *line = NULL;
	size_t cap = 0;
	ssize_t len;
	while ((len = getline(&line, &cap, stdin)) > 0) {
		if (line[len - 1] == '\n')
			line[--len] = '\0';
		char *tab = strchr(line, '\t');
		if (tab == NULL)
			return 2;
		*tab = '\0';
		const ProtobufCMessageDescriptor *d = find_type(line);
		if (d == NULL) {
			printf("ERR\tunknown type %s\n", line);
			continue;
		}
		ProtobufCMessage *m = NULL;
		pbjson_err_t err;
		int rc = pbjson_parse(tab + 1, strlen(tab + 1), d, &m, &err);
		if (rc != 0) {
			printf("ERR\t%s: %s\n", err.path, err.reason);
		} else {
			size_t n = protobuf_c_message_get_packed_size(m);
			uint8_t *bin = malloc(n + 1);
			char *b64 = malloc(4 * ((n + 2) / 3) + 1);
			protobuf_c_message_pack(m, bin);
			crypto_base64(bin, n, b64);
			printf("OK\t%s\n", b64);
			free(b64);
			free(bin);
			protobuf_c_message_free_unpacked(m, NULL);
		}
		fflush(stdout);
	}
	free(line);
	return 0;
}

int main(int argc, char **argv)
{
	if (argc == 2 && strcmp(argv[1], "gen") == 0)
		return gen();
	if (argc == 2 && strcmp(argv[1], "parse") == 0)
		return parse();
	fprintf(stderr, "usage: pbjson_tool gen|parse\n");
	return 2;
}

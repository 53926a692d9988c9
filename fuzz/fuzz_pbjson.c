/*
 * libFuzzer target: the JSON mapping (src/common/pbjson.c), Connect's JSON codec.
 * The first byte picks the message type (of every type in proto/); the rest is
 * the JSON text. Whatever the bytes, reading must neither crash nor read out of
 * bounds nor leak; what it accepts must encode, be written back as JSON, and
 * that JSON must read back into the same binary encoding.
 */
#include <stdlib.h>
#include <string.h>

#include "common/pbjson.h"
#include "common/pblist.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static uint8_t *packed(const ProtobufCMessage *m, size_t *n)
{
	*n = protobuf_c_message_get_packed_size(m);
	uint8_t *b = malloc(*n + 1);
	if (b == NULL)
		abort();
	protobuf_c_message_pack(m, b);
	return b;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	size_t types = 0;
	while (ospay_pb_messages[types] != NULL)
		types++;
	if (size < 1)
		return 0;
	const ProtobufCMessageDescriptor *d = ospay_pb_messages[data[0] % types];
	ProtobufCMessage *m = NULL, *again = NULL;
	pbjson_err_t err;
	if (pbjson_parse((const char *)data + 1, size - 1, d, &m, &err) != 0)
		return 0;
	size_t n1 = 0, n2 = 0;
	uint8_t *b1 = packed(m, &n1);
	json_t *j = pbjson_from_message(m, 0);
	char *text = j != NULL ? json_dumps(j, JSON_COMPACT) : NULL;
	if (text == NULL || pbjson_parse(text, strlen(text), d, &again, &err) != 0)
		abort();
	uint8_t *b2 = packed(again, &n2);
	/* Strings with bad UTF-8 cannot come from JSON, so the round trip is exact. */
	if (n1 != n2 || memcmp(b1, b2, n1) != 0)
		abort();
	free(b2);
	free(b1);
	free(text);
	json_decref(j);
	protobuf_c_message_free_unpacked(again, NULL);
	protobuf_c_message_free_unpacked(m, NULL);
	return 0;
}

/*
 * Any protobuf-c message as JSON and back, driven by its descriptor: the one
 * mapping the server (Connect, docs/connect.md) and the CLI (--json) share.
 *
 * Canonical form (flags 0), proto3's JSON mapping as Google's json_format
 * writes it:
 *   - keys are lowerCamelCase ("customerId"), in field-number order;
 *   - fields holding their default value are left out (zero, "", empty
 *     repeated, unset message); a set proto3 `optional` field and the set
 *     member of a oneof are always written;
 *   - enums are their value names ("ROLE_ADMIN"), or the number when unknown;
 *   - 64-bit integers are decimal strings, 32-bit ones numbers;
 *   - float and double are numbers, or "NaN", "Infinity", "-Infinity";
 *   - bytes are standard base64 with padding;
 *   - strings that are not valid UTF-8 get U+FFFD for each bad byte;
 *   - repeated fields are arrays. Map fields (none in ospay's protos) come out
 *     as arrays of {key, value} objects, not as JSON objects.
 *
 * Reading accepts all of that and also: the .proto names ("customer_id"), enum
 * numbers, 64-bit integers as numbers, 32-bit ones as strings, integral
 * numbers written as 1.0 or 1e3, URL-safe or unpadded base64, null for "the
 * default". It refuses unknown keys, a field given twice (under both names),
 * two members of one oneof, values of the wrong type or out of range, and
 * nesting deeper than PBJSON_MAX_DEPTH, saying where: "items[2].amountCents".
 */
#ifndef OSPAY_COMMON_PBJSON_H
#define OSPAY_COMMON_PBJSON_H

#include <jansson.h>
#include <protobuf-c/protobuf-c.h>
#include <stddef.h>
#include <stdint.h>

/* Deeper than any ospay message; stops a recursive type from exhausting the stack. */
#define PBJSON_MAX_DEPTH 64
/* The most JSON text pbjson_parse reads: the binary protocol's largest frame (4 MiB). */
#define PBJSON_MAX_TEXT (4u << 20)

enum pbjson_flags {
	PBJSON_PROTO_NAMES = 1u << 0,   /* keys are the .proto names (snake_case) */
	PBJSON_ALL_FIELDS = 1u << 1,    /* every field, defaults too; unset messages and
					   optionals are null */
	PBJSON_INT64_NUMBERS = 1u << 2, /* 64-bit integers as numbers (a uint64 above
					   INT64_MAX stays a string: jansson's are signed) */
};

/* What the CLI's --json prints (docs/client.md): every field, by .proto name, numbers. */
#define PBJSON_CLI (PBJSON_PROTO_NAMES | PBJSON_ALL_FIELDS | PBJSON_INT64_NUMBERS)

/* Where reading stopped and why ("customer.document", "expected a string"). */
typedef struct pbjson_err {
	char path[128];
	char reason[128];
} pbjson_err_t;

/* A new JSON object for m (the caller owns it); NULL when out of memory or nested too deep. */
json_t *pbjson_from_message(const ProtobufCMessage *m, unsigned flags);

/*
 * A new message of type d from the JSON object j, in *out (free it with
 * protobuf_c_message_free_unpacked). 0; -EINVAL with err saying where and why;
 * -ENOMEM.
 */
int pbjson_to_message(const json_t *j, const ProtobufCMessageDescriptor *d, ProtobufCMessage **out,
		      pbjson_err_t *err);

/* The same from JSON text (len bytes, no NUL needed); malformed JSON, or more than
 * PBJSON_MAX_TEXT bytes, is -EINVAL too. */
int pbjson_parse(const char *text, size_t len, const ProtobufCMessageDescriptor *d,
		 ProtobufCMessage **out, pbjson_err_t *err);

/*
 * Makes jansson wipe every block it frees, process-wide (call before any jansson
 * use): a JSON body can hold a card number (Connect's Cards/Add, a gateway's sale),
 * and jansson keeps its own copies of the strings it parses and builds.
 */
void pbjson_wipe_on_free(void);

/* The bytes one value of type t takes in a protobuf-c message (an element of a repeated field). */
size_t pbjson_value_size(ProtobufCType t);

/* protoc's JSON name of a field name ("customer_id" -> "customerId") into out. */
void pbjson_json_name(const char *name, char *out, size_t cap);

#endif

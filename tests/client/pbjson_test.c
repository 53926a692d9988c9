/*
 * The shared protobuf <-> JSON mapping (src/common/pbjson.c): the CLI's form
 * (PBJSON_CLI) and the canonical proto3 form both ways. Agreement with
 * Google's json_format on every message type is pbjson_python_test.
 */
#include <criterion/criterion.h>
#include <math.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "common/crypto.h"
#include "common/pbjson.h"
#include "ospay/v1/admin.pb-c.h"
#include "ospay/v1/common.pb-c.h"
#include "ospay/v1/records.pb-c.h"

/* Compact JSON text of m, keys in the converter's (field-number) order. */
static char *to_text(const ProtobufCMessage *m)
{
	json_t *j = pbjson_from_message(m, PBJSON_CLI);
	cr_assert_not_null(j);
	char *s = json_dumps(j, JSON_COMPACT);
	cr_assert_not_null(s);
	json_decref(j);
	return s;
}

static void expect_json(const ProtobufCMessage *m, const char *want)
{
	char *got = to_text(m);
	cr_assert_str_eq(got, want);
	free(got);
}

Test(pbjson, nested_repeated_enum_and_64_bit_fields)
{
	Ospay__V1__Principal p = OSPAY__V1__PRINCIPAL__INIT;
	Ospay__V1__Organization org = OSPAY__V1__ORGANIZATION__INIT;
	Ospay__V1__Token tok = OSPAY__V1__TOKEN__INIT;
	/* 2^53 + 1: a double would print it as ...992. */
	uint64_t units[] = {3, 4, UINT64_C(9007199254740993)};
	org.id = 7;
	org.name = "Acme Telecom";
	org.utc_offset_minutes = -180;
	org.created_ms = INT64_C(1700000000000);
	tok.id = 9;
	tok.organization_id = 7;
	tok.name = "ops";
	tok.role = OSPAY__V1__ROLE__ROLE_OPERATOR;
	tok.n_unit_ids = 3;
	tok.unit_ids = units;
	tok.created_ms = INT64_MIN;
	tok.created_by_token_id = (uint64_t)INT64_MAX;
	p.organization = &org;
	p.token = &tok;
	expect_json(&p.base, "{\"organization\":{\"id\":7,\"name\":\"Acme Telecom\","
			     "\"utc_offset_minutes\":-180,\"created_ms\":1700000000000},"
			     "\"token\":{\"id\":9,\"organization_id\":7,\"name\":\"ops\","
			     "\"role\":\"ROLE_OPERATOR\",\"org_wide\":false,"
			     "\"unit_ids\":[3,4,9007199254740993],"
			     "\"created_ms\":-9223372036854775808,\"revoked_ms\":0,"
			     "\"created_by_token_id\":9223372036854775807}}");
}

Test(pbjson, uint64_beyond_int64_is_a_lossless_string)
{
	Ospay__V1__Unit u = OSPAY__V1__UNIT__INIT;
	u.id = UINT64_MAX;
	u.organization_id = (uint64_t)INT64_MAX + 1;
	expect_json(&u.base, "{\"id\":\"18446744073709551615\","
			     "\"organization_id\":\"9223372036854775808\",\"name\":\"\","
			     "\"created_ms\":0}");
}

Test(pbjson, zero_values_and_unset_messages_are_present)
{
	Ospay__V1__Principal p = OSPAY__V1__PRINCIPAL__INIT;
	Ospay__V1__Token tok = OSPAY__V1__TOKEN__INIT;
	expect_json(&p.base, "{\"organization\":null,\"token\":null}");
	tok.name = NULL; /* hand-built messages may leave strings NULL */
	expect_json(&tok.base, "{\"id\":0,\"organization_id\":0,\"name\":\"\","
			       "\"role\":\"ROLE_UNSPECIFIED\",\"org_wide\":false,\"unit_ids\":[],"
			       "\"created_ms\":0,\"revoked_ms\":0,\"created_by_token_id\":0}");
}

Test(pbjson, repeated_messages_become_an_array_of_objects)
{
	Ospay__V1__ListUnitsResponse r = OSPAY__V1__LIST_UNITS_RESPONSE__INIT;
	Ospay__V1__Unit a = OSPAY__V1__UNIT__INIT, b = OSPAY__V1__UNIT__INIT;
	Ospay__V1__Unit *units[] = {&a, &b};
	a.id = 1;
	a.name = "São Paulo";
	b.id = 2;
	b.name = "東京";
	r.n_units = 2;
	r.units = units;
	r.next_page_token = "p2";
	json_t *j = pbjson_from_message(&r.base, PBJSON_CLI);
	cr_assert_not_null(j);
	json_t *arr = json_object_get(j, "units");
	cr_assert(json_is_array(arr));
	cr_assert_eq(json_array_size(arr), 2);
	cr_assert_str_eq(json_string_value(json_object_get(json_array_get(arr, 0), "name")),
			 "São Paulo");
	cr_assert_eq(json_integer_value(json_object_get(json_array_get(arr, 1), "id")), 2);
	cr_assert_str_eq(json_string_value(json_object_get(j, "next_page_token")), "p2");
	json_decref(j);
}

Test(pbjson, bytes_are_padded_base64)
{
	Ospay__V1__TokenRecord rec = OSPAY__V1__TOKEN_RECORD__INIT;
	uint8_t hash[] = {0x00, 0x01, 0x02, 0xfe, 0xff};
	rec.secret_hash.data = hash;
	rec.secret_hash.len = sizeof(hash);
	expect_json(&rec.base, "{\"token\":null,\"secret_hash\":\"AAEC/v8=\"}");

	/* RFC 4648 section 10 vectors. */
	static const char *const in[] = {"", "f", "fo", "foo", "foob", "fooba", "foobar"};
	static const char *const want[] = {"",         "Zg==",     "Zm8=",    "Zm9v",
					   "Zm9vYg==", "Zm9vYmE=", "Zm9vYmFy"};
	char out[16];
	for (size_t i = 0; i < 7; i++) {
		crypto_base64((const uint8_t *)in[i], strlen(in[i]), out);
		cr_assert_str_eq(out, want[i]);
	}
}

Test(pbjson, unknown_enum_is_a_number_and_bad_utf8_is_replaced)
{
	Ospay__V1__Token tok = OSPAY__V1__TOKEN__INIT;
	tok.role = (Ospay__V1__Role)42;
	tok.name = "a\xff"
		   "b\xc3";
	json_t *j = pbjson_from_message(&tok.base, PBJSON_CLI);
	cr_assert_not_null(j);
	cr_assert_eq(json_integer_value(json_object_get(j, "role")), 42);
	cr_assert_str_eq(json_string_value(json_object_get(j, "name")), "a\xEF\xBF\xBD"
									"b\xEF\xBF\xBD");
	json_decref(j);
}

/*
 * Types ospay's protos do not use yet (double, float, proto3 optional, oneof,
 * repeated double), through a descriptor written by hand.
 */
typedef struct mixed {
	ProtobufCMessage base;
	double d;
	float f;
	protobuf_c_boolean b;
	protobuf_c_boolean has_opt_i;
	int32_t opt_i;
	char *opt_s;
	uint32_t which;
	union {
		int64_t one_a;
		char *one_b;
	};
	size_t n_ds;
	double *ds;
} mixed_t;

/*
 * A message described by hand, and a field of mixed_t named after its member
 * (quant: the member counting or choosing it, 0 when none).
 */
#define TEST_MESSAGE(full_name, type, field_table)                                                 \
	{                                                                                          \
		.magic = PROTOBUF_C__MESSAGE_DESCRIPTOR_MAGIC, .name = (full_name),                \
		.sizeof_message = sizeof(type),                                                    \
		.n_fields = sizeof(field_table) / sizeof((field_table)[0]),                        \
		.fields = (field_table)                                                            \
	}
#define MIXED_FIELD(member, number, label_, type_, quant, flags_)                                  \
	{                                                                                          \
		.name = #member, .id = (number), .label = (label_), .type = (type_),               \
		.quantifier_offset = (quant), .offset = offsetof(mixed_t, member),                 \
		.flags = (flags_)                                                                  \
	}

static const ProtobufCFieldDescriptor mixed_fields[] = {
	MIXED_FIELD(d, 1, PROTOBUF_C_LABEL_NONE, PROTOBUF_C_TYPE_DOUBLE, 0, 0),
	MIXED_FIELD(f, 2, PROTOBUF_C_LABEL_NONE, PROTOBUF_C_TYPE_FLOAT, 0, 0),
	MIXED_FIELD(b, 3, PROTOBUF_C_LABEL_NONE, PROTOBUF_C_TYPE_BOOL, 0, 0),
	MIXED_FIELD(opt_i, 4, PROTOBUF_C_LABEL_OPTIONAL, PROTOBUF_C_TYPE_INT32,
		    offsetof(mixed_t, has_opt_i), 0),
	MIXED_FIELD(opt_s, 5, PROTOBUF_C_LABEL_OPTIONAL, PROTOBUF_C_TYPE_STRING, 0, 0),
	MIXED_FIELD(one_a, 6, PROTOBUF_C_LABEL_NONE, PROTOBUF_C_TYPE_INT64,
		    offsetof(mixed_t, which), PROTOBUF_C_FIELD_FLAG_ONEOF),
	MIXED_FIELD(one_b, 7, PROTOBUF_C_LABEL_NONE, PROTOBUF_C_TYPE_STRING,
		    offsetof(mixed_t, which), PROTOBUF_C_FIELD_FLAG_ONEOF),
	MIXED_FIELD(ds, 8, PROTOBUF_C_LABEL_REPEATED, PROTOBUF_C_TYPE_DOUBLE,
		    offsetof(mixed_t, n_ds), 0),
};

static const ProtobufCMessageDescriptor mixed_desc =
	TEST_MESSAGE("test.Mixed", mixed_t, mixed_fields);

Test(pbjson, floats_optionals_and_oneofs)
{
	mixed_t m;
	double ds[] = {NAN, INFINITY, -2.5};
	memset(&m, 0, sizeof(m));
	m.base.descriptor = &mixed_desc;
	m.d = 1.5;
	m.f = 0.25f;
	m.b = 1;
	m.which = 7;
	m.one_b = "x";
	m.n_ds = 3;
	m.ds = ds;
	expect_json(&m.base, "{\"d\":1.5,\"f\":0.25,\"b\":true,\"opt_i\":null,\"opt_s\":null,"
			     "\"one_b\":\"x\",\"ds\":[\"NaN\",\"Infinity\",-2.5]}");
	/* A set optional holding zero is not the same as an unset one. */
	m.has_opt_i = 1;
	m.opt_i = 0;
	m.opt_s = "";
	m.which = 6;
	m.one_a = -1;
	m.n_ds = 0;
	m.ds = NULL;
	expect_json(&m.base, "{\"d\":1.5,\"f\":0.25,\"b\":true,\"opt_i\":0,\"opt_s\":\"\","
			     "\"one_a\":-1,\"ds\":[]}");
	m.which = 0;
	char *none = to_text(&m.base);
	cr_assert_null(strstr(none, "one_"), "an unset oneof shows no member: %s", none);
	free(none);
}

typedef struct node {
	ProtobufCMessage base;
	struct node *child;
} node_t;

extern const ProtobufCMessageDescriptor node_desc;
static const ProtobufCFieldDescriptor node_fields[] = {
	{.name = "child",
	 .id = 1,
	 .label = PROTOBUF_C_LABEL_NONE,
	 .type = PROTOBUF_C_TYPE_MESSAGE,
	 .offset = offsetof(node_t, child),
	 .descriptor = &node_desc},
};
const ProtobufCMessageDescriptor node_desc = TEST_MESSAGE("test.Node", node_t, node_fields);

Test(pbjson, nesting_is_bounded)
{
	static node_t chain[100];
	for (int i = 0; i < 100; i++) {
		chain[i].base.descriptor = &node_desc;
		chain[i].child = i + 1 < 100 ? &chain[i + 1] : NULL;
	}
	cr_assert_null(pbjson_from_message(&chain[0].base, PBJSON_CLI), "100 levels are refused");
	json_t *j = pbjson_from_message(&chain[90].base, PBJSON_CLI);
	cr_assert_not_null(j, "10 levels are fine");
	json_decref(j);
}

/* ---- canonical form and reading (the server's Connect codec) */

static char *canonical(const ProtobufCMessage *m)
{
	json_t *j = pbjson_from_message(m, 0);
	cr_assert_not_null(j);
	char *s = json_dumps(j, JSON_COMPACT);
	json_decref(j);
	return s;
}

Test(pbjson, canonical_camel_case_int64_strings_defaults_left_out)
{
	Ospay__V1__Token tok = OSPAY__V1__TOKEN__INIT;
	uint64_t units[] = {3};
	tok.id = 9;
	tok.organization_id = 7;
	tok.role = OSPAY__V1__ROLE__ROLE_OPERATOR;
	tok.n_unit_ids = 1;
	tok.unit_ids = units;
	char *s = canonical(&tok.base);
	cr_assert_str_eq(s, "{\"id\":\"9\",\"organizationId\":\"7\",\"role\":\"ROLE_OPERATOR\","
			    "\"unitIds\":[\"3\"]}");
	free(s);
}

Test(pbjson, canonical_optionals_and_oneofs_are_written_when_set)
{
	mixed_t m;
	memset(&m, 0, sizeof(m));
	m.base.descriptor = &mixed_desc;
	m.has_opt_i = 1;
	m.which = 6;
	char *s = canonical(&m.base);
	cr_assert_str_eq(s, "{\"optI\":0,\"oneA\":\"0\"}");
	free(s);
}

/* Reads text as a Token; returns the result and fills err. */
static int read_token(const char *text, Ospay__V1__Token **out, pbjson_err_t *err)
{
	return pbjson_parse(text, strlen(text), &ospay__v1__token__descriptor,
			    (ProtobufCMessage **)out, err);
}

Test(pbjson, reads_both_names_numbers_and_strings)
{
	Ospay__V1__Token *t = NULL;
	pbjson_err_t err;
	cr_assert_eq(read_token("{\"id\":\"18446744073709551615\",\"organization_id\":7,"
				"\"role\":2,\"unitIds\":[1,\"2\",3.0],\"createdMs\":\"-5\","
				"\"name\":null,\"orgWide\":true}",
				&t, &err),
		     0, "%s: %s", err.path, err.reason);
	cr_assert_eq(t->id, UINT64_MAX);
	cr_assert_eq(t->organization_id, 7);
	cr_assert_eq(t->role, 2);
	cr_assert_eq(t->n_unit_ids, 3);
	cr_assert_eq(t->unit_ids[1], 2);
	cr_assert_eq(t->unit_ids[2], 3);
	cr_assert_eq(t->created_ms, -5);
	cr_assert_str_eq(t->name, "");
	cr_assert(t->org_wide);
	ospay__v1__token__free_unpacked(t, NULL);
}

Test(pbjson, refusals_name_where_and_why)
{
	static const struct {
		const char *in, *path, *reason;
	} cases[] = {
		{"{\"id\":1,\"bogus\":2}", "bogus", "unknown field"},
		{"{\"id\":\"1x\"}", "id", "expected an integer"},
		{"{\"id\":-1}", "id", "out of range"},
		{"{\"id\":1.5}", "id", "expected an integer"},
		{"{\"unitIds\":[1,true]}", "unitIds[1]", "expected an integer"},
		{"{\"unitIds\":[null]}", "unitIds[0]", "null is not a value of a list"},
		{"{\"unitIds\":1}", "unitIds", "expected an array"},
		{"{\"role\":\"ROLE_KING\"}", "role",
		 "unknown value \"ROLE_KING\" of ospay.v1.Role"},
		{"{\"role\":\"4111 1111\"}", "role", "unknown value of ospay.v1.Role"},
		{"{\"orgWide\":\"true\"}", "orgWide", "expected true or false"},
		{"{\"name\":5}", "name", "expected a string"},
		{"{\"org_wide\":true,\"orgWide\":true}", "orgWide",
		 "given twice (by its .proto and its JSON name)"},
		{"[]", "", "expected a JSON object"},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		Ospay__V1__Token *t = NULL;
		pbjson_err_t err;
		cr_assert_eq(read_token(cases[i].in, &t, &err), -EINVAL, "%s", cases[i].in);
		cr_assert_null(t);
		cr_assert_str_eq(err.path, cases[i].path, "%s", cases[i].in);
		cr_assert_str_eq(err.reason, cases[i].reason, "%s", cases[i].in);
	}
}

Test(pbjson, nested_paths_malformed_text_and_duplicate_keys)
{
	Ospay__V1__Principal *p = NULL;
	pbjson_err_t err;
	const char *in = "{\"token\":{\"unitIds\":[\"1\",\"x\"]}}";
	cr_assert_eq(pbjson_parse(in, strlen(in), &ospay__v1__principal__descriptor,
				  (ProtobufCMessage **)&p, &err),
		     -EINVAL);
	cr_assert_str_eq(err.path, "token.unitIds[1]");
	Ospay__V1__Token *t = NULL;
	cr_assert_eq(read_token("{\"id\":", &t, &err), -EINVAL);
	cr_assert(strncmp(err.reason, "malformed JSON at line 1", 24) == 0, "%s", err.reason);
	/* What jansson stopped at is not quoted back: it could be a secret. */
	cr_assert_eq(read_token("{\"name\":\"4111111111111111\\q\"}", &t, &err), -EINVAL);
	cr_assert_null(strstr(err.reason, "4111"), "%s", err.reason);
	cr_assert(strstr(err.reason, "invalid escape") != NULL, "%s", err.reason);
	cr_assert_eq(read_token("{\"id\":1,\"id\":2}", &t, &err), -EINVAL);
	cr_assert(strstr(err.reason, "duplicate") != NULL, "%s", err.reason);
	/* Size: refused before jansson reads a byte. */
	cr_assert_eq(pbjson_parse("{}", PBJSON_MAX_TEXT + 1, &ospay__v1__token__descriptor,
				  (ProtobufCMessage **)&t, &err),
		     -EINVAL);
	cr_assert(strstr(err.reason, "bytes of JSON") != NULL, "%s", err.reason);
}

Test(pbjson, oneof_twice_bytes_and_depth)
{
	mixed_t *m = NULL;
	pbjson_err_t err;
	const char *two = "{\"oneA\":\"1\",\"one_b\":\"x\"}";
	cr_assert_eq(pbjson_parse(two, strlen(two), &mixed_desc, (ProtobufCMessage **)&m, &err),
		     -EINVAL);
	cr_assert_str_eq(err.path, "one_b");
	cr_assert_str_eq(err.reason, "a second member of the same oneof");
	const char *ok = "{\"opt_i\":0,\"ds\":[\"NaN\",1,\"-Infinity\"],\"f\":\"2.5\"}";
	cr_assert_eq(pbjson_parse(ok, strlen(ok), &mixed_desc, (ProtobufCMessage **)&m, &err), 0,
		     "%s: %s", err.path, err.reason);
	cr_assert(m->has_opt_i);
	cr_assert_eq(m->n_ds, 3);
	cr_assert(isnan(m->ds[0]) && m->ds[2] < 0 && isinf(m->ds[2]));
	cr_assert_float_eq(m->f, 2.5f, 0);
	protobuf_c_message_free_unpacked(&m->base, NULL);

	uint8_t out[16];
	size_t n = 0;
	cr_assert_eq(crypto_base64_decode("-_8", 3, out, &n), 0);
	cr_assert_eq(n, 2);
	cr_assert(out[0] == 0xfb && out[1] == 0xff);
	cr_assert_eq(crypto_base64_decode("+/8=", 4, out, &n), 0);
	cr_assert_eq(n, 2);
	cr_assert_eq(crypto_base64_decode("a", 1, out, &n), -EINVAL);
	cr_assert_eq(crypto_base64_decode("ab!c", 4, out, &n), -EINVAL);

	/* 100 levels of {"child": ...}: refused at PBJSON_MAX_DEPTH, not by the stack. */
	char deep[1200] = "";
	for (int i = 0; i < 100; i++)
		strcat(deep, "{\"child\":");
	strcat(deep, "null");
	for (int i = 0; i < 100; i++)
		strcat(deep, "}");
	node_t *nd = NULL;
	cr_assert_eq(pbjson_parse(deep, strlen(deep), &node_desc, (ProtobufCMessage **)&nd, &err),
		     -EINVAL);
	cr_assert_str_eq(err.reason, "nested too deeply");
}

/*
 * The shared pieces of the gateways layer: names, encodings, the
 * constant-time credential comparison, message scrubbing, defensive JSON
 * readers, and the gateway object's lifetime.
 */
#include "gateways/gwtest.h"

#include <errno.h>
#include <stdlib.h>

Test(gateway_names, enums)
{
	cr_assert_str_eq(gw_outcome_name(GW_OUTCOME_APPROVED), "APPROVED");
	cr_assert_str_eq(gw_outcome_name(GW_OUTCOME_UNKNOWN), "UNKNOWN");
	cr_assert_str_eq(gw_outcome_name((gw_outcome_t)77), "?");
	cr_assert_str_eq(gw_kind_name(GW_KIND_CIELO), "cielo");
	cr_assert_str_eq(gw_kind_name(GW_KIND_PAGOLIVRE), "pagolivre");
	cr_assert_str_eq(gw_kind_name((gw_kind_t)0), "?");
	cr_assert_str_eq(gw_event_kind_name(GW_EVENT_INSTALLMENT_DENIED), "installment_denied");
	cr_assert_eq(gw_brand_parse("Master"), GW_BRAND_MASTERCARD);
	cr_assert_eq(gw_brand_parse("MasterCard"), GW_BRAND_MASTERCARD);
	cr_assert_eq(gw_brand_parse("visa"), GW_BRAND_VISA);
	cr_assert_eq(gw_brand_parse("American Express"), GW_BRAND_AMEX);
	cr_assert_eq(gw_brand_parse("Diners Club"), GW_BRAND_DINERS);
	cr_assert_eq(gw_brand_parse("Hipercard"), GW_BRAND_HIPERCARD);
	cr_assert_eq(gw_brand_parse("nope"), GW_BRAND_UNKNOWN);
	cr_assert_eq(gw_brand_parse(NULL), GW_BRAND_UNKNOWN);
	cr_assert_eq(gw_brand_parse("a very long brand name beyond any buffer size at all"),
		     GW_BRAND_UNKNOWN);
	cr_assert_str_eq(gw_brand_name(GW_BRAND_ELO), "elo");
}

Test(gateway_util, secret_equal_is_exact)
{
	uint64_t before = gw_secret_compare_count();

	cr_assert(gw_secret_equal("abc123", 6, "abc123"));
	cr_assert_not(gw_secret_equal("abc124", 6, "abc123"));
	cr_assert_not(gw_secret_equal("abc12", 5, "abc123"), "a prefix is not a match");
	cr_assert_not(gw_secret_equal("abc1234", 7, "abc123"));
	cr_assert_not(gw_secret_equal("", 0, ""), "an empty secret never matches");
	cr_assert_not(gw_secret_equal("x", 1, NULL));
	cr_assert_not(gw_secret_equal(NULL, 0, "x"));
	/* Length counts, not the NUL: "abc\0" is not "abc". */
	cr_assert_not(gw_secret_equal("abc\0", 4, "abc"));
	cr_assert_eq(gw_secret_compare_count() - before, 8);
}

Test(gateway_util, form_get)
{
	char v[32];
	const char *q = "a=1&b=hello+world&c=%41%42&d=&e&seller%5Fid=z&dup=1&dup=2&bad=%4";

	cr_assert_eq(gw_form_get(q, strlen(q), "a", v, sizeof(v)), 0);
	cr_assert_str_eq(v, "1");
	cr_assert_eq(gw_form_get(q, strlen(q), "b", v, sizeof(v)), 0);
	cr_assert_str_eq(v, "hello world");
	cr_assert_eq(gw_form_get(q, strlen(q), "c", v, sizeof(v)), 0);
	cr_assert_str_eq(v, "AB");
	cr_assert_eq(gw_form_get(q, strlen(q), "d", v, sizeof(v)), 0);
	cr_assert_str_eq(v, "");
	cr_assert_eq(gw_form_get(q, strlen(q), "e", v, sizeof(v)), 0);
	cr_assert_eq(gw_form_get(q, strlen(q), "seller_id", v, sizeof(v)), 0);
	cr_assert_str_eq(v, "z");
	cr_assert_eq(gw_form_get(q, strlen(q), "dup", v, sizeof(v)), -EEXIST);
	cr_assert_eq(gw_form_get(q, strlen(q), "bad", v, sizeof(v)), -EINVAL);
	cr_assert_eq(gw_form_get(q, strlen(q), "zz", v, sizeof(v)), -ENOENT);
	cr_assert_eq(gw_form_get("a=%00", 5, "a", v, sizeof(v)), -EINVAL, "no NUL smuggling");
	cr_assert_eq(gw_form_get("a=0123456789", 12, "a", v, 5), -E2BIG);
	cr_assert_eq(gw_form_get(NULL, 0, "a", v, sizeof(v)), -ENOENT);
	/* The length bounds the search: nothing past it is read. */
	cr_assert_eq(gw_form_get("a=1&b=2", 3, "b", v, sizeof(v)), -ENOENT);
}

Test(gateway_util, url_encode)
{
	char out[64];

	cr_assert_eq(gw_url_encode("abc-_.~XYZ09", out, sizeof(out)), 0);
	cr_assert_str_eq(out, "abc-_.~XYZ09");
	cr_assert_eq(gw_url_encode("a b/c?d=e&f\xc3\xa9", out, sizeof(out)), 0);
	cr_assert_str_eq(out, "a%20b%2Fc%3Fd%3De%26f%C3%A9");
	cr_assert_eq(gw_url_encode("abcdef", out, 6), -E2BIG);
	cr_assert_eq(gw_url_encode("a/", out, 4), -E2BIG);
}

Test(gateway_util, text_checks)
{
	cr_assert(gw_text_ok("S\xc3\xa3o Paulo", 64));
	cr_assert_not(gw_text_ok("", 64));
	cr_assert_not(gw_text_ok("a\nb", 64));
	cr_assert(gw_text_multiline_ok("a\nb\tc", 64));
	cr_assert_not(gw_text_multiline_ok("a\x01", 64));
	cr_assert_not(gw_text_ok("\xc3", 64), "truncated sequence");
	cr_assert_not(gw_text_ok("\xc0\xaf", 64), "overlong");
	cr_assert_not(gw_text_ok("\xed\xa0\x80", 64), "surrogate");
	cr_assert_not(gw_text_ok("abcdef", 5));
	cr_assert(gw_str_charset("123", 3, gw_is_digit));
	cr_assert_not(gw_str_charset("1234", 3, gw_is_digit));
	cr_assert_not(gw_str_charset(NULL, 3, gw_is_digit));
}

Test(gateway_util, messages_are_scrubbed)
{
	struct gwpfx p;
	gw_config_t c = {0};
	gw_reply_t r;

	c.kind = GW_KIND_ZAPME;
	c.api_key = "key-abcdef";
	c.api_secret = "s3cr3t-value";
	gwpfx_open(&p, &c);
	memset(&r, 0, sizeof(r));
	gw_reply_message(p.gw, &r, "bad secret s3cr3t-value for key-abcdef");
	cr_assert_str_eq(r.message, "bad secret [redacted] for [redacted]");
	gw_reply_message(p.gw, &r, "card 4111-1111-1111-1111 and 5155901222280001, order 123-1");
	cr_assert_str_eq(r.message, "card [redacted] and [redacted], order 123-1");
	gw_reply_message(p.gw, &r, "ok\r\nInjected: 1\x7f");
	cr_assert_str_eq(r.message, "ok  Injected: 1 ");
	gw_reply_message(p.gw, &r, "bad \xff byte");
	cr_assert_str_eq(r.message, "bad ? byte");
	/* Twelve digits (a NSU, a phone) are not a card number. */
	gw_reply_message(p.gw, &r, "nsu 000196242394");
	cr_assert_str_eq(r.message, "nsu 000196242394");
	gwpfx_close(&p);
}

Test(gateway_util, json_readers)
{
	gw_parse_t p = {0};
	json_t *j = json_loads("{\"s\":\"abc\",\"n\":12,\"b\":true,\"o\":{},\"a\":[],\"z\":null,"
			       "\"d\":\"42\",\"big\":\"12345678901234567890\",\"neg\":-1}",
			       0, NULL);
	char s[8];
	int64_t i = 0;
	bool b = false;

	cr_assert(gw_get_str(&p, j, "", "s", s, sizeof(s), GW_F_REQ));
	cr_assert_str_eq(s, "abc");
	cr_assert(gw_get_str(&p, j, "", "n", s, sizeof(s), GW_F_NUMOK));
	cr_assert_str_eq(s, "12");
	cr_assert_not(gw_get_str(&p, j, "", "z", s, sizeof(s), 0), "null is absent");
	cr_assert_eq(p.err, 0);
	cr_assert(gw_get_int(&p, j, "", "n", &i, 0, 100, 0));
	cr_assert(gw_get_int_lenient(&p, j, "", "d", &i, 0, 100, 0));
	cr_assert_eq(i, 42);
	cr_assert(gw_get_bool(&p, j, "", "b", &b, 0));
	cr_assert_not_null(gw_get_object(&p, j, "", "o", 0));
	cr_assert_not_null(gw_get_array(&p, j, "", "a", 0));
	cr_assert_eq(p.err, 0);
	/* Each failure is reported once, with the field's name. */
	cr_assert_not(gw_get_int(&p, j, "Root", "s", &i, 0, 100, 0));
	cr_assert_eq(p.err, -EBADMSG);
	cr_assert_str_eq(p.why, "Root.s: expected an integer");
	cr_assert_not(gw_get_str(&p, j, "", "n", s, sizeof(s), 0));
	cr_assert_str_eq(p.why, "Root.s: expected an integer", "the first problem is kept");
	memset(&p, 0, sizeof(p));
	cr_assert_not(gw_get_int_lenient(&p, j, "", "big", &i, 0, INT64_MAX, 0));
	memset(&p, 0, sizeof(p));
	cr_assert_not(gw_get_int(&p, j, "", "neg", &i, 0, 10, 0));
	cr_assert_str_eq(p.why, "neg: out of range");
	memset(&p, 0, sizeof(p));
	cr_assert_not(gw_get_str(&p, j, "", "missing", s, sizeof(s), GW_F_REQ));
	cr_assert_str_eq(p.why, "missing: missing");
	memset(&p, 0, sizeof(p));
	cr_assert_not(gw_get_object(&p, j, "", "a", 0));
	cr_assert_eq(p.err, -EBADMSG);
	json_decref(j);
}

Test(gateway_util, reais_to_centavos)
{
	json_t *j = json_loads("{\"a\":157.1,\"b\":\"157.10\",\"c\":157,\"d\":0.29,\"e\":1.005,"
			       "\"f\":\"1.2.3\",\"g\":-1.0,\"h\":\"12a\",\"i\":999999999.99,"
			       "\"k\":1e300,\"l\":\".5\"}",
			       0, NULL);
	gw_parse_t p = {0};
	int64_t c = 0;

	cr_assert(gw_get_reais(&p, j, "", "a", &c, 0));
	cr_assert_eq(c, 15710);
	cr_assert(gw_get_reais(&p, j, "", "b", &c, 0));
	cr_assert_eq(c, 15710);
	cr_assert(gw_get_reais(&p, j, "", "c", &c, 0));
	cr_assert_eq(c, 15700);
	cr_assert(gw_get_reais(&p, j, "", "d", &c, 0));
	cr_assert_eq(c, 29, "0.29 is 28.999... as a double");
	cr_assert(gw_get_reais(&p, j, "", "i", &c, 0));
	cr_assert_eq(c, 99999999999);
	cr_assert_eq(p.err, 0);
	static const char *const bad[] = {"e", "f", "g", "h", "k", "l"};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		memset(&p, 0, sizeof(p));
		cr_assert_not(gw_get_reais(&p, j, "", bad[i], &c, 0), "%s", bad[i]);
		cr_assert_eq(p.err, -EBADMSG);
	}
	json_decref(j);
}

Test(gateway_util, derived_ids)
{
	char a[37];
	char b[37];
	gw_event_t ev;
	char big[400];

	gw_uuid_from("label", "key-1", a);
	gw_uuid_from("label", "key-1", b);
	cr_assert_str_eq(a, b);
	cr_assert_eq(a[14], '4', "version nibble");
	cr_assert(strchr("89ab", a[19]) != NULL, "variant");
	gw_uuid_from("label", "key-2", b);
	cr_assert_str_neq(a, b);
	memset(&ev, 0, sizeof(ev));
	memset(big, 'q', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	gw_event_id_set(&ev, big);
	cr_assert_eq(strncmp(ev.event_id, "sha256:", 7), 0, "long ids are hashed, not cut");
	cr_assert_eq(strlen(ev.event_id), 7 + 64);
}

Test(gateway_life, config_is_copied_and_close_is_safe)
{
	struct gwpfx p;
	gw_config_t c = {0};
	char key[] = "mutable-key-123456";
	char hdr[] = "X-Hook";
	char val[] = "hook-value";
	struct rec_charge rec = {0};
	gw_webhook_req_t w = {0};
	http_header_t h[] = {{"X-Hook", "hook-value"}};

	c.kind = GW_KIND_CIELO;
	c.merchant_id = "mid";
	c.merchant_key = key;
	c.webhook_headers[0] = (gw_header_pair_t){hdr, val};
	c.n_webhook_headers = 1;
	gwpfx_open(&p, &c);
	/* The caller's strings may change or go: the gateway kept copies. */
	memset(key, 'x', sizeof(key) - 1);
	memset(val, 'y', sizeof(val) - 1);
	memset(hdr, 'z', sizeof(hdr) - 1);
	w.headers = h;
	w.n_headers = 1;
	cr_assert_eq(gw_verify_webhook(p.gw, &w), 0);
	cr_assert_eq(gw_kind(p.gw), GW_KIND_CIELO);
	cr_assert_eq(gw_query_charge(p.gw, "abc", NULL, &rec), -EINVAL, "a callback is required");
	gw_close(NULL);
	gwpfx_close(&p);
}

Test(gateway_life, every_kind_checks_its_credentials)
{
	struct gwpfx p;
	gw_config_t c;
	gw_t *gw = NULL;
	status_t st;
	static const gw_kind_t kinds[] = {GW_KIND_CIELO, GW_KIND_GETNET, GW_KIND_PAGOLIVRE,
					  GW_KIND_ZAPME};
	static const size_t want[] = {2, 3, 1, 2};

	gwpfx_open_client(&p);
	for (size_t i = 0; i < 4; i++) {
		memset(&c, 0, sizeof(c));
		c.kind = kinds[i];
		c.base_url = "http://127.0.0.1:9";
		cr_assert_eq(gw_open(&gw, p.http, &p.loop, &c, &st), -EINVAL);
		cr_assert_eq(st.n_violations, want[i], "%s: %zu", gw_kind_name(kinds[i]),
			     st.n_violations);
		cr_assert_null(gw);
	}
	memset(&c, 0, sizeof(c));
	c.kind = GW_KIND_GETNET;
	c.base_url = "http://127.0.0.1:9";
	c.client_id = "id:with:colons";
	c.client_secret = "s";
	c.seller_id = "x";
	cr_assert_eq(gw_open(&gw, p.http, &p.loop, &c, NULL), -EINVAL);
	gwpfx_close(&p);
}

/* One serialization into a stack buffer when it fits, the sizing pass when it does not:
 * both give exactly json_dumps's compact bytes, and a later body replaces the first. */
Test(gateway_body, set_json_small_and_large_bodies)
{
	gw_call_t *call = calloc(1, sizeof(*call));
	json_t *small = json_pack("{s:s,s:i,s:f}", "Name", "Ana", "Amount", 1990, "Rate", 1.5);
	json_t *large = json_object();
	char big[3000];
	char *want = NULL;

	cr_assert_not_null(call);
	cr_assert_not_null(small);
	cr_assert_not_null(large);
	memset(big, 'x', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	cr_assert_eq(json_object_set_new(large, "Blob", json_string(big)), 0);

	cr_assert_eq(gw_call_set_json(call, small), 0);
	want = json_dumps(small, JSON_COMPACT | JSON_REAL_PRECISION(15));
	cr_assert_eq(call->body_len, strlen(want));
	cr_assert_eq(memcmp(call->body, want, call->body_len), 0);
	cr_assert_str_eq(call->content_type, "application/json");
	free(want);

	cr_assert_eq(gw_call_set_json(call, large), 0);
	want = json_dumps(large, JSON_COMPACT | JSON_REAL_PRECISION(15));
	cr_assert_gt(strlen(want), 2048);
	cr_assert_eq(call->body_len, strlen(want));
	cr_assert_eq(memcmp(call->body, want, call->body_len), 0);
	free(want);

	free(call->body);
	free(call);
	json_decref(small);
	json_decref(large);
}

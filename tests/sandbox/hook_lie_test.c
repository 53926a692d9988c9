/*
 * The "lie" webhook fault: a callback whose body says what the service's own
 * records contradict, sent with the real credentials. On the Pix PSP it
 * rewrites the items of the callback's one list (or of the list "in" names,
 * passing over callbacks without it), or replaces the whole body; on a plain
 * JSON body (Cielo's) it rewrites the body itself. It is counted, logged with
 * fault "lie", and checked on input.
 */
#include "pix_harness.h"

#define TXID "osp00000000000000000000000000000001"
#define COB_TX "J3cob0000000000000000000000001"

TestSuite(sandbox_hook_lie, .init = px_setup, .fini = h_teardown, .timeout = 60);

static void lie(const char *svc, const char *more)
{
	char b[512];
	snprintf(b, sizeof(b), "{\"service\":\"%s\",\"kind\":\"lie\",\"count\":1,%s}", svc, more);
	h_hook_fault(b);
}

/* Registers org 7's callback at path (hmac hk7). */
static void callback_at(const char *path)
{
	h_free(px_ok("PUT", path, "{\"webhookUrl\":\"https://isp.example/w?hmac=hk7&ignorar=\"}",
		     200));
}

/* An approved journey-2 rec of org 7 with its cobr TXID: PUT /cobr's callback follows. */
static void cobr_made(void)
{
	char id[40], path[128], body[320];
	h_resp_t *r = px_rec_new("12345678909", true, NULL, 201);
	snprintf(id, sizeof(id), "%s", px_str(r->json, "idRec", NULL));
	h_free(r);
	snprintf(path, sizeof(path), "/control/pix/recs/%s/approve", id);
	h_ctl_ok("POST", path, NULL);
	snprintf(body, sizeof(body),
		 "{\"idRec\":\"%s\",\"calendario\":{\"dataDeVencimento\":\"2027-03-10\"},"
		 "\"valor\":{\"original\":\"10.00\"},\"recebedor\":{\"conta\":\"1\"}}",
		 id);
	h_free(px_ok("PUT", "/pix/cobr/" TXID, body, 201));
}

/* The webhook log's entries with fault "lie" (their summary of the last into out). */
static int lies_logged(char *summary, size_t cap)
{
	h_resp_t *w = h_ctl("GET", "/control/webhooks", NULL, 200);
	json_t *d = json_object_get(w->json, "deliveries");
	int n = 0;
	for (size_t i = 0; i < json_array_size(d); i++) {
		if (strcmp(px_str(json_array_get(d, i), "fault", NULL), "lie") == 0) {
			n++;
			snprintf(summary, cap, "%s", px_str(json_array_get(d, i), "summary", NULL));
		}
	}
	h_free(w);
	return n;
}

Test(sandbox_hook_lie, a_cobr_callback_lies_with_the_right_credentials)
{
	static char raw[H_BODY_MAX];
	char summary[128] = "";
	callback_at("/pix/webhookcobr");
	lie("pix", "\"set\":{\"status\":\"CONCLUIDA\",\"pix\":[{\"endToEndId\":\"E1\"}]}");
	cobr_made();
	cr_assert_eq(h_hooks_wait(1, 5000), 1);
	h_hook_read(0, raw, sizeof(raw));
	cr_assert_not_null(strstr(raw, "hmac=hk7&ignorar=/cobr"), "credentials kept: %.120s", raw);
	json_t *j = h_hook_json(0);
	json_t *item = json_array_get(json_object_get(j, "cobsr"), 0);
	cr_assert_str_eq(px_str(item, "status", NULL), "CONCLUIDA");
	cr_assert_str_eq(
		px_str(json_array_get(json_object_get(item, "pix"), 0), "endToEndId", NULL), "E1");
	cr_assert_str_eq(px_str(item, "txid", NULL), TXID, "the rest of the item is the truth");
	json_decref(j);
	/* The PSP's own record says otherwise. */
	h_resp_t *r = px_ok("GET", "/pix/cobr/" TXID, NULL, 200);
	cr_assert_str_eq(px_str(r->json, "status", NULL), "ATIVA");
	h_free(r);
	/* Logged as a lie (the summary tells the truth), used up. */
	cr_assert_eq(lies_logged(summary, sizeof(summary)), 1);
	cr_assert_not_null(strstr(summary, "status=ATIVA"), "%s", summary);
	r = h_ctl("GET", "/control/webhook-faults", NULL, 200);
	cr_assert_eq(json_array_size(json_object_get(r->json, "faults")), 0, "%s", r->body);
	h_free(r);
}

Test(sandbox_hook_lie, in_passes_over_callbacks_without_that_list)
{
	callback_at("/pix/webhookcobr");
	callback_at("/pix/webhook/cobranca%40isp.example");
	lie("pix", "\"in\":\"pix\",\"set\":{\"txid\":\"" COB_TX "\"}");
	h_resp_t *f = h_ctl("GET", "/control/webhook-faults", NULL, 200);
	json_t *one = json_array_get(json_object_get(f->json, "faults"), 0);
	cr_assert_str_eq(px_str(one, "in", NULL), "pix");
	cr_assert_str_eq(px_str(one, "set", "txid", NULL), COB_TX);
	h_free(f);
	cobr_made(); /* a /cobr callback: not the lie's */
	cr_assert_eq(h_hooks_wait(1, 5000), 1);
	json_t *j = h_hook_json(0);
	cr_assert_str_eq(px_str(json_array_get(json_object_get(j, "cobsr"), 0), "txid", NULL),
			 TXID);
	json_decref(j);
	/* Another cob is paid: its /pix callback names COB_TX instead. */
	h_free(px_ok("PUT", "/pix/cob/J3cob0000000000000000000000009",
		     "{\"valor\":{\"original\":\"99.90\"},\"chave\":\"" PX_KEY "\"}", 201));
	h_ctl_ok("POST", "/control/pix/cobs/J3cob0000000000000000000000009/pay", NULL);
	cr_assert_eq(h_hooks_wait(2, 5000), 2);
	j = h_hook_json(1);
	cr_assert_str_eq(px_str(json_array_get(json_object_get(j, "pix"), 0), "txid", NULL),
			 COB_TX);
	json_decref(j);
}

Test(sandbox_hook_lie, a_whole_body_replaces_the_callbacks)
{
	static char raw[H_BODY_MAX];
	callback_at("/pix/webhookcobr");
	lie("pix", "\"in\":\"cobsr\",\"body\":{\"pix\":[{\"txid\":\"" COB_TX "\"}]}");
	cobr_made();
	cr_assert_eq(h_hooks_wait(1, 5000), 1);
	h_hook_read(0, raw, sizeof(raw));
	cr_assert_not_null(strstr(raw, "hmac=hk7&ignorar=/cobr"), "the URL kept: %.120s", raw);
	json_t *j = h_hook_json(0);
	cr_assert_eq(json_object_size(j), 1);
	cr_assert_str_eq(px_str(json_array_get(json_object_get(j, "pix"), 0), "txid", NULL),
			 COB_TX);
	json_decref(j);
}

Test(sandbox_hook_lie, a_plain_body_is_rewritten_itself)
{
	static char raw[H_BODY_MAX];
	lie("cielo", "\"set\":{\"ChangeType\":2}");
	h_free(h_cielo_sale("lie1", "455187000000021", true));
	cr_assert_eq(h_hooks_wait(1, 5000), 1);
	h_hook_read(0, raw, sizeof(raw));
	cr_assert_not_null(strstr(raw, "hook-secret-7"), "the registered header is sent");
	json_t *j = h_hook_json(0);
	cr_assert_eq(json_integer_value(json_object_get(j, "ChangeType")), 2);
	cr_assert_str_neq(px_str(j, "PaymentId", NULL), "");
	json_decref(j);
}

Test(sandbox_hook_lie, bad_lies_are_refused)
{
	static const char *const bad[] = {
		"{\"kind\":\"lie\",\"service\":\"pix\"}",
		"{\"kind\":\"lie\",\"service\":\"pix\",\"set\":[1]}",
		"{\"kind\":\"lie\",\"service\":\"pix\",\"set\":{}}",
		"{\"kind\":\"lie\",\"service\":\"pix\",\"body\":\"x\"}",
		"{\"kind\":\"lie\",\"service\":\"pix\",\"set\":{\"a\":1},\"body\":{\"b\":1}}",
		"{\"kind\":\"lie\",\"service\":\"pix\",\"set\":{\"a\":1},\"in\":\"\"}",
		"{\"kind\":\"lie\",\"service\":\"pix\",\"set\":{\"a\":1},\"in\":7}",
		"{\"kind\":\"lie\",\"service\":\"pix\",\"set\":{\"a\":1},"
		"\"in\":\"0123456789012345678901234567890123\"}",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		h_free(h_ctl("POST", "/control/webhook-faults", bad[i], 400));
	char big[1200];
	int n = snprintf(big, sizeof(big), "{\"kind\":\"lie\",\"set\":{\"a\":\"");
	memset(big + n, 'x', 600);
	snprintf(big + n + 600, sizeof(big) - (size_t)n - 600, "\"}}");
	h_free(h_ctl("POST", "/control/webhook-faults", big, 400));
	/* A request fault cannot lie. */
	h_free(h_ctl("POST", "/control/faults", "{\"kind\":\"lie\",\"set\":{\"a\":1}}", 400));
}

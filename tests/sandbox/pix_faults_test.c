/*
 * Faults at ospay-sandbox's Pix PSP, as at the other services: the request
 * fault mechanism on every Pix route by its name (cob and cobv included), a
 * write processed before its answer is lost, and the webhook faults on the
 * /rec, /cobr and /pix callbacks (duplicate, delay, reorder, drop, bad_auth).
 */
#include "pix_harness.h"

#define COB_TX "J3cob0000000000000000000000001"

TestSuite(sandbox_pix_faults, .init = px_setup, .fini = h_teardown, .timeout = 60);

static void wfault(const char *kind_and_more)
{
	char b[256];
	snprintf(b, sizeof(b), "{\"service\":\"pix\",%s}", kind_and_more);
	h_hook_fault(b);
}

static void rfault(const char *route, const char *kind, bool process)
{
	char b[256];
	snprintf(b, sizeof(b),
		 "{\"service\":\"pix\",\"route\":\"%s\",\"kind\":\"%s\",\"count\":1,"
		 "\"process\":%s}",
		 route, kind, process ? "true" : "false");
	h_fault(b);
}

static void cob_put(const char *txid)
{
	char path[96];
	snprintf(path, sizeof(path), "/pix/cob/%s", txid);
	h_free(px_ok("PUT", path, "{\"valor\":{\"original\":\"99.90\"},\"chave\":\"" PX_KEY "\"}",
		     201));
}

static void hooks_registered(void)
{
	static const char *const paths[] = {"/pix/webhookrec", "/pix/webhookcobr",
					    "/pix/webhook/cobranca%40isp.example"};
	for (size_t i = 0; i < 3; i++)
		h_free(px_ok("PUT", paths[i],
			     "{\"webhookUrl\":\"https://isp.example/w?hmac=hk7&ignorar=\"}", 200));
}

/* A journey-3 rec on cob txid, its QR unpaid: paying emits /pix then /rec. */
static void journey_3_ready(const char *txid)
{
	cob_put(txid);
	h_free(px_rec_new("12345678909", true, txid, 201));
}

static void pay(const char *txid)
{
	char path[96];
	snprintf(path, sizeof(path), "/control/pix/cobs/%s/pay", txid);
	h_ctl_ok("POST", path, NULL);
}

/* The tail of webhook i's request line ("/pix", "/rec", "/cobr"). */
static const char *hook_tail(int i)
{
	static char line[512];
	char *sp;
	px_hook_line(i, line, sizeof(line));
	sp = strrchr(line, ' ');
	if (sp != NULL)
		*sp = '\0';
	return strrchr(line, '/');
}

Test(sandbox_pix_faults, every_route_takes_request_faults)
{
	static const struct {
		const char *method, *path, *route;
	} routes[] = {
		{"POST", "/pix/oauth/token", "token"},
		{"POST", "/pix/locrec", "locrec_create"},
		{"GET", "/pix/locrec/1", "locrec_get"},
		{"GET", "/pix/locrec", "locrec_list"},
		{"POST", "/pix/rec", "rec_create"},
		{"GET", "/pix/rec/RR1234567820270301000000000001", "rec_get"},
		{"PATCH", "/pix/rec/RR1234567820270301000000000001", "rec_patch"},
		{"GET", "/pix/rec", "rec_list"},
		{"POST", "/pix/solicrec", "solicrec_create"},
		{"GET", "/pix/solicrec/SC1234567820270301000000000001", "solicrec_get"},
		{"PATCH", "/pix/solicrec/SC1234567820270301000000000001", "solicrec_patch"},
		{"PUT", "/pix/cobr/" COB_TX, "cobr_put"},
		{"GET", "/pix/cobr/" COB_TX, "cobr_get"},
		{"PATCH", "/pix/cobr/" COB_TX, "cobr_patch"},
		{"POST", "/pix/cobr/" COB_TX "/retentativa/2027-03-05", "cobr_retry"},
		{"GET", "/pix/cobr", "cobr_list"},
		{"PUT", "/pix/cob/" COB_TX, "cob_put"},
		{"GET", "/pix/cob/" COB_TX, "cob_get"},
		{"PUT", "/pix/cobv/" COB_TX, "cobv_put"},
		{"GET", "/pix/cobv/" COB_TX, "cobv_get"},
		{"PUT", "/pix/webhookrec", "webhookrec"},
		{"GET", "/pix/webhookrec", "webhookrec_get"},
		{"DELETE", "/pix/webhookrec", "webhookrec_delete"},
		{"PUT", "/pix/webhookcobr", "webhookcobr"},
		{"GET", "/pix/webhookcobr", "webhookcobr_get"},
		{"DELETE", "/pix/webhookcobr", "webhookcobr_delete"},
		{"PUT", "/pix/webhook/k", "webhook"},
		{"GET", "/pix/webhook/k", "webhook_get"},
		{"DELETE", "/pix/webhook/k", "webhook_delete"},
	};
	for (size_t i = 0; i < sizeof(routes) / sizeof(routes[0]); i++) {
		rfault(routes[i].route, "http500", false);
		cr_assert_eq(px(routes[i].method, routes[i].path, "{}", NULL, NULL, 0), 500, "%s",
			     routes[i].route);
		cr_assert_neq(px(routes[i].method, routes[i].path, "{}", NULL, NULL, 0), 500,
			      "%s: the fault was used up", routes[i].route);
	}
	h_free(h_ctl("POST", "/control/faults",
		     "{\"service\":\"pix\",\"route\":\"cobx_put\",\"kind\":\"http500\"}", 400));
}

Test(sandbox_pix_faults, a_cob_made_before_its_answer_is_lost)
{
	const char *hdrs[] = {TOKEN, "Content-Type: application/json", NULL};
	h_resp_t *r, *g;

	rfault("cob_put", "reset", true);
	r = h_req("PUT", "/pix/cob/" COB_TX, hdrs,
		  "{\"valor\":{\"original\":\"99.90\"},\"chave\":\"" PX_KEY "\"}", 0);
	cr_assert_neq(r->curl_rc, 0, "no answer");
	g = px_ok("GET", "/pix/cob/" COB_TX, NULL, 200);
	cr_assert_str_eq(px_str(g->json, "status", NULL), "ATIVA", "the PSP made it");
	H_FREE_ALL(r, g);
	/* A garbled answer to a real read. */
	rfault("cob_get", "malformed", true);
	g = px_ok("GET", "/pix/cob/" COB_TX, NULL, 200);
	cr_assert_null(g->json, "%s", g->body);
	h_free(g);
	/* Latency adds to the answer, which still comes. */
	h_fault("{\"service\":\"pix\",\"route\":\"cobv_put\",\"kind\":\"latency\","
		"\"ms\":300,\"count\":1}");
	{
		uint64_t t0 = h_now_ms();
		cr_assert_eq(
			px("PUT", "/pix/cobv/J4cobv000000000000000000000001", "{}", NULL, NULL, 0),
			400);
		cr_assert_geq(h_now_ms() - t0, 250, "a lower bound only");
	}
}

/* The /pix callback duplicated, then dropped, then spoiled; the /rec after each intact. */
Test(sandbox_pix_faults, pix_callbacks_duplicated_dropped_and_spoiled)
{
	static char raw[H_BODY_MAX];
	json_t *a, *b;
	h_resp_t *w;

	hooks_registered();
	journey_3_ready(COB_TX);
	journey_3_ready("J3cob0000000000000000000000002");
	journey_3_ready("J3cob0000000000000000000000003");
	wfault("\"kind\":\"duplicate\",\"copies\":2,\"count\":1");
	pay(COB_TX);
	cr_assert_eq(h_hooks_wait(4, 5000), 4);
	for (int i = 0; i < 3; i++)
		cr_assert_str_eq(hook_tail(i), "/pix", "%d", i);
	cr_assert_str_eq(hook_tail(3), "/rec");
	a = h_hook_json(0);
	b = h_hook_json(2);
	cr_assert(json_equal(a, b), "identical copies");
	json_decref(a);
	json_decref(b);

	wfault("\"kind\":\"drop\",\"count\":1");
	pay("J3cob0000000000000000000000002");
	cr_assert_eq(h_hooks_wait(5, 5000), 5);
	usleep(200000);
	cr_assert_eq(h_hooks_count(), 5, "the /pix was dropped");
	cr_assert_str_eq(hook_tail(4), "/rec");
	w = h_ctl("GET", "/control/webhooks?service=pix", NULL, 200);
	{
		json_t *d = json_object_get(w->json, "deliveries");
		bool seen = false;
		for (size_t i = 0; i < json_array_size(d); i++)
			seen = seen ||
			       strcmp(px_str(json_array_get(d, i), "fault", NULL), "drop") == 0;
		cr_assert(seen, "%s", w->body);
	}
	h_free(w);

	wfault("\"kind\":\"bad_auth\",\"count\":1");
	pay("J3cob0000000000000000000000003");
	cr_assert_eq(h_hooks_wait(7, 5000), 7);
	h_hook_read(5, raw, sizeof(raw));
	cr_assert_not_null(strstr(raw, "hmac=wrong-credential&ignorar=/pix"), "%.120s", raw);
	h_hook_read(6, raw, sizeof(raw));
	cr_assert_not_null(strstr(raw, "hmac=hk7&ignorar=/rec"), "%.120s", raw);
}

/* Reordered (/rec before the /pix that caused it), delayed, and a /cobr spoiled. */
Test(sandbox_pix_faults, callbacks_reordered_delayed_and_cobr_spoiled)
{
	static char raw[H_BODY_MAX];
	char id[32], path[128], body[320];
	h_resp_t *r;
	uint64_t t0;

	hooks_registered();
	journey_3_ready(COB_TX);
	wfault("\"kind\":\"reorder\",\"batch\":2,\"count\":2");
	pay(COB_TX);
	cr_assert_eq(h_hooks_wait(2, 5000), 2);
	cr_assert_str_eq(hook_tail(0), "/rec", "newest first");
	cr_assert_str_eq(hook_tail(1), "/pix");

	cob_put("J3cob0000000000000000000000002");
	wfault("\"kind\":\"delay\",\"ms\":700,\"count\":1");
	t0 = h_now_ms();
	pay("J3cob0000000000000000000000002");
	/* A lower bound only: load can make it later, never sooner. */
	cr_assert_eq(h_hooks_wait(3, 5000), 3);
	cr_assert_geq(h_now_ms() - t0, 650);
	cr_assert_str_eq(hook_tail(2), "/pix");

	/* An approved journey-2 rec and its cobr: the /cobr callback spoiled. */
	r = px_rec_new("12345678909", true, NULL, 201);
	snprintf(id, sizeof(id), "%s", px_str(r->json, "idRec", NULL));
	h_free(r);
	snprintf(path, sizeof(path), "/control/pix/recs/%s/approve", id);
	h_ctl_ok("POST", path, NULL);
	cr_assert_eq(h_hooks_wait(4, 5000), 4);
	wfault("\"kind\":\"bad_auth\",\"count\":1");
	snprintf(body, sizeof(body),
		 "{\"idRec\":\"%s\",\"calendario\":{\"dataDeVencimento\":\"2027-03-10\"},"
		 "\"valor\":{\"original\":\"10.00\"},\"recebedor\":{\"conta\":\"1\"}}",
		 id);
	h_free(px_ok("PUT", "/pix/cobr/osp00000000000000000000000000000001", body, 201));
	cr_assert_eq(h_hooks_wait(5, 5000), 5);
	h_hook_read(4, raw, sizeof(raw));
	cr_assert_not_null(strstr(raw, "hmac=wrong-credential&ignorar=/cobr"), "%.120s", raw);
}

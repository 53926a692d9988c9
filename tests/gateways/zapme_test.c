/*
 * ZapMe adapter: the send form (api, secret, phone, message), the status
 * query, the answer envelope {status, result, date, data}, and the
 * delivery-status webhook behind the configured secret header.
 */
#include "gateways/gwtest.h"

#include <errno.h>
#include <stdlib.h>

#define API_KEY "zapme-api-key-0001"
#define API_SECRET "zapme-secret/+=&0002"

static gw_config_t zm_cfg(void)
{
	gw_config_t c = {0};
	c.kind = GW_KIND_ZAPME;
	c.api_key = API_KEY;
	c.api_secret = API_SECRET;
	c.timeout_ms = TSP_HANG_MS; /* a hang guard: tests of timeouts set their own */
	c.webhook_headers[0] = (gw_header_pair_t){"X-ZapMe-Secret", "hook-secret-xyz"};
	c.n_webhook_headers = 1;
	return c;
}

static gw_message_result_t parse(long status, const char *body, bool mutating)
{
	http_response_t res = gwfx_resp(status, body);
	gw_message_result_t r = {0};
	gw_zapme_parse(gwp.gw, &res, mutating, &r);
	return r;
}

/* Each test of the suites declared with it gets its own gateway in gwp (it never sends). */
static void zapme_open(void)
{
	gwp_open(zm_cfg());
}

TestSuite(zapme_parse, .init = zapme_open, .fini = gwp_close);

Test(zapme_parse, envelopes)
{
	gw_message_result_t r =
		parse(200,
		      "{\"status\":true,\"result\":\"success\",\"date\":\"2022-08-01 01:57:50\","
		      "\"data\":\"message_sent\"}",
		      true);
	cr_assert_eq(r.r.outcome, GW_OUTCOME_APPROVED);
	cr_assert_str_eq(r.status, "message_sent");
	cr_assert_eq(r.message_id[0], '\0');
	/* An id beside "data" (ospay-sandbox's addition) is kept; an unusable one is not. */
	r = parse(200,
		  "{\"status\":true,\"result\":\"success\",\"data\":\"message_sent\",\"id\":982}",
		  true);
	cr_assert_eq(r.r.outcome, GW_OUTCOME_APPROVED);
	cr_assert_str_eq(r.message_id, "982");
	r = parse(200,
		  "{\"status\":true,\"result\":\"success\",\"data\":\"message_sent\",\"id\":{}}",
		  true);
	cr_assert_eq(r.r.outcome, GW_OUTCOME_APPROVED);
	cr_assert_eq(r.message_id[0], '\0');
	r = parse(200,
		  "{\"status\":true,\"result\":\"success\",\"data\":{\"id\":981,\"hash\":\"ab12\","
		  "\"message\":\"Seu link: https://pay/x 4111111111111111\",\"phone\":"
		  "\"5511985850505\",\"type\":\"api\",\"status\":\"missing_number\","
		  "\"created_at\":\"2022-08-01 01:57:50\",\"updated_at\":\"2022-08-01 01:58:00\"}}",
		  false);
	cr_assert_eq(r.r.outcome, GW_OUTCOME_DECLINED);
	cr_assert_str_eq(r.message_id, "981");
	cr_assert_str_eq(r.status, "missing_number");
	cr_assert_null(strstr(r.r.message, "4111"), "the message text is not copied");
	r = parse(200, "{\"status\":false,\"result\":\"invalid_api_credentials\"}", true);
	cr_assert_eq(r.r.outcome, GW_OUTCOME_REJECTED);
	cr_assert_str_eq(r.r.code, "invalid_api_credentials");
	r = parse(200, "{\"status\":\"yes\",\"result\":\"success\"}", true);
	cr_assert_eq(r.r.outcome, GW_OUTCOME_UNKNOWN);
	cr_assert_eq(r.r.error, -EBADMSG);
	/* Answers whose outcome is all there is to check. */
	static const struct {
		long status;
		const char *body;
		bool mutating;
		gw_outcome_t want;
	} outcomes[] = {
		{200, "{\"status\":false,\"result\":\"message_not_found\"}", false,
		 GW_OUTCOME_NOT_FOUND},
		{200,
		 "{\"status\":true,\"result\":\"success\",\"data\":{\"id\":\"5\","
		 "\"status\":\"queued\"}}",
		 false, GW_OUTCOME_PENDING},
		{401, "", true, GW_OUTCOME_AUTH_FAILED},
		{502, "", true, GW_OUTCOME_UNKNOWN},
		{200, "{\"status\":true,\"result\":\"success\",\"data\":[1]}", false,
		 GW_OUTCOME_ERROR_RETRYABLE},
		{200, "{\"status\":true}", false, GW_OUTCOME_ERROR_RETRYABLE},
		{200, "<!doctype html>", false, GW_OUTCOME_ERROR_RETRYABLE},
	};
	for (size_t i = 0; i < sizeof(outcomes) / sizeof(outcomes[0]); i++) {
		r = parse(outcomes[i].status, outcomes[i].body, outcomes[i].mutating);
		cr_assert_eq(r.r.outcome, outcomes[i].want, "%ld %s", outcomes[i].status,
			     outcomes[i].body);
	}
}

Test(zapme_http, send_and_status)
{
	gwsrv_rule_t rules[] = {
		{"POST", "/zapme/messages/create", 200,
		 "{\"status\":true,\"result\":\"success\",\"date\":\"2022-08-01 01:57:50\","
		 "\"data\":\"message_sent\"}",
		 GWSRV_REPLY, 0, 0},
		{"GET", "/zapme/messages/981?*", 200,
		 "{\"status\":true,\"result\":\"success\",\"data\":{\"id\":981,\"status\":"
		 "\"message_sent\"}}",
		 GWSRV_REPLY, 0, 0},
	};
	struct gwfx fx;
	gw_config_t c = zm_cfg();
	gw_message_req_t m = {
		.phone = "+5511985850505",
		.text = "Ol\xc3\xa1! Seu link: https://pay.example/p?a=1&b=2\nObrigado"};
	struct rec_msg sent = {0};
	struct rec_msg st = {0};
	gwsrv_req_t *reqs;
	size_t n;
	char h[128];

	gwfx_open(&fx, &c, "/zapme", NULL, rules, 2);
	cr_assert_eq(gw_send_message(fx.gw, &m, rec_on_msg, &sent), 0);
	cr_assert_eq(gw_message_status(fx.gw, "981", rec_on_msg, &st), 0);
	gwfx_run(&fx);
	cr_assert_eq(sent.res.r.outcome, GW_OUTCOME_APPROVED, "%s", sent.res.r.message);
	cr_assert_eq(st.res.r.outcome, GW_OUTCOME_APPROVED);
	cr_assert_str_eq(st.res.message_id, "981");
	n = gwfx_requests(&fx, &reqs);
	cr_assert_eq(n, 2);
	for (size_t i = 0; i < n; i++) {
		if (strcmp(reqs[i].method, "POST") == 0) {
			cr_assert_str_eq(gwsrv_req_header(&reqs[i], "Content-Type", h, sizeof(h)),
					 "application/x-www-form-urlencoded");
			cr_assert_str_eq(
				reqs[i].body,
				"api=zapme-api-key-0001&secret=zapme-secret%2F%2B%3D%260002"
				"&phone=5511985850505&message=Ol%C3%A1%21%20Seu%20link%3A%20"
				"https%3A%2F%2Fpay.example%2Fp%3Fa%3D1%26b%3D2%0AObrigado");
		} else {
			cr_assert_str_eq(reqs[i].target,
					 "/zapme/messages/981?api=zapme-api-key-0001&secret=zapme-"
					 "secret%2F%2B%3D%260002");
		}
	}
	gwfx_close(&fx);
}

Test(zapme_http, faults_and_refusals)
{
	gwsrv_rule_t rules[] = {
		{"POST", "/zapme/messages/create", 0, NULL, GWSRV_HANG, 0, 1},
		{"POST", "/zapme/messages/create", 200,
		 "{\"status\":false,\"result\":\"invalid_phone\"}", GWSRV_REPLY, 0, 1},
		{"GET", "/zapme/messages/*", 404, "", GWSRV_REPLY, 0, 0},
	};
	struct gwfx fx;
	gw_config_t c = zm_cfg();
	gw_message_req_t m = {.phone = "5511985850505", .text = "oi"};
	gw_message_req_t sms = {.phone = "5511985850505", .text = "oi", .channel = GW_CHANNEL_SMS};
	gw_message_req_t bad = {.phone = "55 11", .text = "oi"};
	gw_message_req_t ctl = {.phone = "5511985850505", .text = "a\x01b"};
	struct rec_msg a = {0}, b = {0}, s = {0}, none = {0};

	gwfx_open(&fx, &c, "/zapme", NULL, rules, 3);
	cr_assert_eq(gw_send_message(fx.gw, &sms, rec_on_msg, &none), -ENOTSUP);
	cr_assert_eq(gw_send_message(fx.gw, &bad, rec_on_msg, &none), -EINVAL);
	cr_assert_eq(gw_send_message(fx.gw, &ctl, rec_on_msg, &none), -EINVAL);
	cr_assert_eq(gw_message_status(fx.gw, "a/b", rec_on_msg, &none), -EINVAL);
	gwfx_timeout(&fx, 300); /* the first send hangs */
	cr_assert_eq(gw_send_message(fx.gw, &m, rec_on_msg, &a), 0);
	gwfx_run(&fx);
	gwfx_timeout(&fx, TSP_HANG_MS);
	cr_assert_eq(gw_send_message(fx.gw, &m, rec_on_msg, &b), 0);
	cr_assert_eq(gw_message_status(fx.gw, "77", rec_on_msg, &s), 0);
	gwfx_run(&fx);
	cr_assert_eq(none.calls, 0);
	cr_assert_eq(a.res.r.outcome, GW_OUTCOME_UNKNOWN, "a lost send may have gone out");
	cr_assert_eq(b.res.r.outcome, GW_OUTCOME_REJECTED);
	cr_assert_str_eq(b.res.r.code, "invalid_phone");
	cr_assert_eq(s.res.r.outcome, GW_OUTCOME_NOT_FOUND);
	cr_assert_null(strstr(a.res.r.message, API_SECRET));
	gwfx_close(&fx);
}

TestSuite(zapme_webhook, .init = zapme_open, .fini = gwp_close);

Test(zapme_webhook, secret_header_and_parse)
{
	http_header_t good[] = {{"x-zapme-secret", "hook-secret-xyz"}};
	http_header_t badh[] = {{"X-ZapMe-Secret", "hook-secret-xy"}};
	gw_webhook_req_t w = {.method = "POST"};
	gw_event_t ev;
	uint64_t before;

	gwfx_hook_body(&w, "{\"id\":981,\"status\":\"message_sent\"}");
	before = gw_secret_compare_count();
	w.headers = good;
	w.n_headers = 1;
	cr_assert_eq(gw_verify_webhook(gwp.gw, &w), 0);
	cr_assert_eq(gw_secret_compare_count() - before, 1);
	w.headers = badh;
	cr_assert_eq(gw_verify_webhook(gwp.gw, &w), -EACCES);
	w.headers = NULL;
	w.n_headers = 0;
	cr_assert_eq(gw_verify_webhook(gwp.gw, &w), -EACCES);
	cr_assert_eq(gw_parse_webhook(gwp.gw, &w, &ev), 0, "%s", ev.error);
	cr_assert_eq(ev.kind, GW_EVENT_MESSAGE_STATUS);
	cr_assert_str_eq(ev.message_id, "981");
	cr_assert_str_eq(ev.hint, "message_sent");
	cr_assert(ev.derived_id);
	gwfx_hook_body(&w, "{\"data\":{\"id\":\"982\",\"status\":\"read\"}}");
	cr_assert_eq(gw_parse_webhook(gwp.gw, &w, &ev), 0);
	cr_assert_str_eq(ev.message_id, "982");
	gwfx_hook_body(&w, "{\"status\":\"read\"}");
	cr_assert_eq(gw_parse_webhook(gwp.gw, &w, &ev), -EBADMSG);
	gwfx_hook_body(&w, "{\"id\":true}");
	cr_assert_eq(gw_parse_webhook(gwp.gw, &w, &ev), -EBADMSG);
}

/* The capability SetNotifier checks before storing settings (gw_send_message applies it too). */
Test(zapme_channels, whatsapp_only)
{
	char why[160];
	cr_assert_eq(gw_check_channel(GW_KIND_ZAPME, GW_CHANNEL_WHATSAPP, why, sizeof(why)), 0);
	cr_assert_eq(gw_check_channel(GW_KIND_ZAPME, GW_CHANNEL_SMS, why, sizeof(why)), -ENOTSUP);
	cr_assert_str_eq(why, "ZapMe delivers WhatsApp messages only; SMS is not supported");
	cr_assert_eq(gw_check_channel(GW_KIND_ZAPME, GW_CHANNEL_SMS, NULL, 0), -ENOTSUP);
	/* The payment gateways send no messages on any channel. */
	cr_assert_eq(gw_check_channel(GW_KIND_CIELO, GW_CHANNEL_WHATSAPP, why, sizeof(why)),
		     -ENOTSUP);
	cr_assert_str_eq(why, "Cielo sends no messages");
	cr_assert_eq(gw_check_channel(GW_KIND_PAGOLIVRE, GW_CHANNEL_SMS, NULL, 0), -ENOTSUP);
	/* Outside the enums; a short buffer is truncated, never overrun. */
	cr_assert_eq(gw_check_channel((gw_kind_t)99, GW_CHANNEL_WHATSAPP, why, sizeof(why)),
		     -EINVAL);
	cr_assert_eq(gw_check_channel(GW_KIND_ZAPME, (gw_channel_t)7, NULL, 0), -EINVAL);
	char tiny[6] = "xxxxx";
	cr_assert_eq(gw_check_channel(GW_KIND_ZAPME, GW_CHANNEL_SMS, tiny, 5), -ENOTSUP);
	cr_assert_str_eq(tiny, "ZapM");
	cr_assert_str_eq(gw_channel_name(GW_CHANNEL_SMS), "SMS");
	cr_assert_str_eq(gw_channel_name((gw_channel_t)9), "?");
}

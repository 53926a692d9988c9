/*
 * libFuzzer target: every gateway response parser and webhook parser (docs/spec.md 9).
 * The first byte picks the parser and the HTTP status; the rest is the body
 * (and, for webhooks, the query string up to the first NUL). Whatever the
 * bytes, parsers must neither crash nor read out of bounds nor leak, and every
 * result they fill must stay NUL-terminated within its buffer.
 */
#include <stdlib.h>
#include <string.h>
#include <uv.h>

#include "gateways/gateway.h"
#include "gateways/gw_internal.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static gw_t *gws[4];

static void open_all(void)
{
	static uv_loop_t loop;
	static http_client_t *http;
	static const gw_header_pair_t hook = {"X-Hook", "secret"};
	uv_loop_init(&loop);
	if (http_client_init(&http, &loop, NULL) != 0)
		abort();
	gw_config_t cfg[4] = {
		{.kind = GW_KIND_CIELO,
		 .base_url = "http://127.0.0.1:9/cielo",
		 .merchant_id = "11111111-2222-3333-4444-555555555555",
		 .merchant_key = "key",
		 .webhook_headers = {hook},
		 .n_webhook_headers = 1},
		{.kind = GW_KIND_GETNET,
		 .base_url = "http://127.0.0.1:9/getnet",
		 .client_id = "cid",
		 .client_secret = "cs",
		 .seller_id = "seller"},
		{.kind = GW_KIND_PAGOLIVRE,
		 .base_url = "http://127.0.0.1:9/pl",
		 .api_token = "tok"},
		{.kind = GW_KIND_ZAPME,
		 .base_url = "http://127.0.0.1:9/zapme",
		 .api_key = "k",
		 .api_secret = "s",
		 .webhook_headers = {{"X-ZapMe-Secret", "secret"}},
		 .n_webhook_headers = 1},
	};
	for (int i = 0; i < 4; i++)
		if (gw_open(&gws[i], http, &loop, &cfg[i], NULL) != 0)
			abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const long statuses[] = {200, 201, 204, 400, 401, 402, 404, 500};
	if (gws[0] == NULL)
		open_all();
	if (size < 1)
		return 0;
	uint8_t sel = data[0];
	data++;
	size--;
	/* Parsers expect a NUL after the body, as the HTTP client guarantees. */
	uint8_t *body = malloc(size + 1);
	if (body == NULL)
		return 0;
	memcpy(body, data, size);
	body[size] = '\0';
	http_response_t res = {.status = statuses[(sel >> 3) & 7],
			       .body = body,
			       .body_len = size,
			       .error_msg = "",
			       .error_detail = ""};
	bool mutating = sel & 0x40;
	switch (sel & 7) {
	case 0: {
		gw_charge_result_t out = {0};
		gw_cielo_parse_sale(gws[0], &res, mutating, GW_BRAND_VISA, &out);
		break;
	}
	case 1: {
		gw_charge_result_t out = {0};
		gw_getnet_parse_payment(gws[1], &res, mutating, &out);
		break;
	}
	case 2: {
		gw_link_result_t out = {0};
		gw_pagolivre_parse_order(gws[2], &res, mutating, &out);
		break;
	}
	case 3: {
		gw_message_result_t out = {0};
		gw_zapme_parse(gws[3], &res, mutating, &out);
		break;
	}
	default: {
		/* Webhooks: authenticated as the service would, then parsed. */
		int k = (sel & 7) - 4;
		static const char *const queries[] = {NULL, "seller_id=seller&payment_id=p",
						      "accessToken=tok", NULL};
		http_header_t h[2] = {{"X-Hook", "secret"}, {"X-ZapMe-Secret", "secret"}};
		gw_webhook_req_t wr = {.method = (sel & 0x80) ? "GET" : "POST",
				       .query = queries[k],
				       .headers = h,
				       .n_headers = 2,
				       .body = body,
				       .body_len = size};
		gw_event_t ev = {0};
		if (gw_verify_webhook(gws[k], &wr) == 0)
			gw_parse_webhook(gws[k], &wr, &ev);
		break;
	}
	}
	free(body);
	return 0;
}

/*
 * The Pix adapter's cob and cobv calls (journeys 3 and 4's first payments),
 * the Pix-received webhook registration and its /pix callback, against a
 * scripted responder: bodies as BCB API 2.9.0 shows them, success, RFC 7807
 * errors, malformed and lying answers, an unknown outcome after a reset
 * resolved by the query, and requests refused before anything is sent.
 */
#include "gateways/pixtest.h"

#include <errno.h>
#include <stdlib.h>

#include "common/util.h"

#define PIX_KEY "cobranca+isp@example.com"
#define TXID "J3cob0123456789abcdef0123456789"
#define TXIDV "J4cobv0123456789abcdef012345678"
#define E2E "E12345678202605110000abcdef12345"

/* BCB cobResponse1's shape (CobGerada): the PSP chose the location. */
#define COB_ATIVA                                                                                  \
	"{\"calendario\":{\"criacao\":\"2026-05-01T10:00:00.000Z\",\"expiracao\":3600},"           \
	"\"txid\":\"" TXID "\",\"revisao\":0,\"loc\":{\"id\":789,\"location\":"                    \
	"\"pix.example.com/qr/v2/9d36b84fc70b478fb95c12729b90ca25\",\"tipoCob\":\"cob\"},"         \
	"\"location\":\"pix.example.com/qr/v2/9d36b84fc70b478fb95c12729b90ca25\",\"status\":"      \
	"\"ATIVA\",\"devedor\":{\"cpf\":\"12345678909\",\"nome\":\"Francisco da Silva\"},"         \
	"\"valor\":{\"original\":\"99.90\"},\"chave\":\"" PIX_KEY "\",\"solicitacaoPagador\":"     \
	"\"Primeira mensalidade\",\"pixCopiaECola\":\"00020101021226830014br.gov.bcb.pix"          \
	"6304D1E2\"}"

#define COB_PAID                                                                                   \
	"{\"calendario\":{\"criacao\":\"2026-05-01T10:00:00.000Z\",\"expiracao\":3600},"           \
	"\"txid\":\"" TXID "\",\"revisao\":0,\"status\":\"CONCLUIDA\",\"valor\":{\"original\":"    \
	"\"99.90\"},\"chave\":\"" PIX_KEY "\",\"pix\":[{\"endToEndId\":\"" E2E "\",\"txid\":"      \
	"\"" TXID "\",\"valor\":\"99.90\",\"horario\":\"2026-05-01T10:05:00.000Z\"}]}"

#define COBV_ATIVA                                                                                 \
	"{\"calendario\":{\"criacao\":\"2026-05-01T10:00:00.000Z\",\"dataDeVencimento\":"          \
	"\"2026-05-20\",\"validadeAposVencimento\":30},\"txid\":\"" TXIDV "\",\"revisao\":0,"      \
	"\"loc\":{\"id\":790,\"location\":\"pix.example.com/qr/v2/cobv/abc\",\"tipoCob\":"         \
	"\"cobv\"},\"status\":\"ATIVA\",\"devedor\":{\"cnpj\":\"11222333000181\",\"nome\":"        \
	"\"Empresa de Servicos SA\"},\"valor\":{\"original\":\"150.00\"},\"chave\":\"" PIX_KEY     \
	"\",\"pixCopiaECola\":\"0002010102122679cobv6304AAAA\"}"

#define COBV_REMOVED                                                                               \
	"{\"calendario\":{\"dataDeVencimento\":\"2026-05-20\"},\"txid\":\"" TXIDV "\","            \
	"\"status\":\"REMOVIDA_PELO_PSP\",\"valor\":{\"original\":\"150.00\"}}"

#define PROBLEM_COB                                                                                \
	"{\"type\":\"https://pix.bcb.gov.br/api/v2/error/CobOperacaoInvalida\",\"title\":"         \
	"\"Cobranca invalida\",\"status\":400,\"detail\":\"A chave informada nao pertence ao "     \
	"usuario recebedor.\"}"

/* The Pix settings with the receiver's key, which cob and cobv need. */
static gw_config_t cob_cfg(const char *profile)
{
	gw_config_t c = pix_cfg(profile);
	c.pix_key = PIX_KEY;
	return c;
}

static gw_pix_cob_req_t cob_req(void)
{
	gw_pix_cob_req_t r = {0};
	r.txid = TXID;
	r.amount_cents = 9990;
	r.debtor_doc = "12345678909";
	r.debtor_name = "Francisco da Silva";
	r.info = "Primeira mensalidade";
	return r;
}

static gw_pix_cobv_req_t cobv_req(void)
{
	gw_pix_cobv_req_t r = {0};
	r.txid = TXIDV;
	r.due_date = "2026-05-20";
	r.amount_cents = 15000;
	r.debtor_doc = "11222333000181";
	r.debtor_name = "Empresa de Servicos SA";
	return r;
}

static const char *jpath(json_t *j, const char *a, const char *b)
{
	json_t *o = json_object_get(j, a);
	return json_string_value(b != NULL ? json_object_get(o, b) : o);
}

Test(pix_cob, put_cob_body_and_result)
{
	gwsrv_rule_t rules[] = {
		{"POST", "/api/oauth/token", 200, TOKEN_OK, 0, 0, 0},
		{"PUT", "/api/cob/" TXID, 201, COB_ATIVA, 0, 0, 0},
	};
	struct gwfx fx;
	struct rec_pix rec = {0};
	gw_pix_cob_req_t r = cob_req();
	gw_config_t c = cob_cfg(NULL);
	gwsrv_req_t *reqs;
	size_t n;
	json_t *j;

	gwfx_open(&fx, &c, "/api", NULL, rules, OSPAY_ARRAY_LEN(rules));
	cr_assert_eq(gw_pix_put_cob(fx.gw, &r, rec_on_pix, &rec), 0);
	gwfx_run(&fx);
	cr_assert_eq(rec.calls, 1);
	cr_assert_eq(rec.res.r.outcome, GW_OUTCOME_PENDING, "%s", rec.res.r.message);
	cr_assert_eq(rec.res.outcome_detail, -1, "a cob is not a cobr");
	cr_assert_str_eq(rec.res.status, "ATIVA");
	cr_assert_str_eq(rec.res.txid, TXID);
	cr_assert_eq(rec.res.amount_cents, 9990);
	cr_assert_eq(rec.res.loc_id, 789);
	cr_assert_str_eq(rec.res.location,
			 "pix.example.com/qr/v2/9d36b84fc70b478fb95c12729b90ca25");
	cr_assert_str_eq(rec.res.copia_e_cola, "00020101021226830014br.gov.bcb.pix6304D1E2");
	cr_assert_str_eq(rec.res.end_to_end_id, "");
	n = gwfx_requests(&fx, &reqs);
	cr_assert_eq(n, 2);
	cr_assert_str_eq(reqs[1].method, "PUT");
	j = gwfx_json(&reqs[1]);
	cr_assert_eq(
		json_integer_value(json_object_get(json_object_get(j, "calendario"), "expiracao")),
		86400, "0 is a day");
	cr_assert_str_eq(jpath(j, "valor", "original"), "99.90");
	cr_assert_str_eq(jpath(j, "chave", NULL), PIX_KEY);
	cr_assert_str_eq(jpath(j, "devedor", "cpf"), "12345678909");
	cr_assert_str_eq(jpath(j, "devedor", "nome"), "Francisco da Silva");
	cr_assert_str_eq(jpath(j, "solicitacaoPagador", NULL), "Primeira mensalidade");
	cr_assert_null(json_object_get(j, "loc"), "the PSP gives the cob its own location");
	json_decref(j);
	gwfx_close(&fx);
}

Test(pix_cob, cob_without_debtor_and_paid_query)
{
	gwsrv_rule_t rules[] = {
		{"POST", "/api/oauth/token", 200, TOKEN_OK, 0, 0, 0},
		{"PUT", "/api/v2/cob/" TXID, 201, COB_ATIVA, 0, 0, 0},
		{"GET", "/api/v2/cob/" TXID, 200, COB_PAID, 0, 0, 0},
	};
	struct gwfx fx;
	struct rec_pix put = {0}, get = {0};
	gw_pix_cob_req_t r = cob_req();
	gw_config_t c = cob_cfg("efi");
	gwsrv_req_t *reqs;
	size_t n;
	json_t *j;

	r.debtor_doc = NULL;
	r.debtor_name = NULL;
	r.info = NULL;
	r.expires_s = 600;
	gwfx_open(&fx, &c, "/api", NULL, rules, OSPAY_ARRAY_LEN(rules));
	cr_assert_eq(gw_pix_put_cob(fx.gw, &r, rec_on_pix, &put), 0);
	cr_assert_eq(gw_pix_query_cob(fx.gw, TXID, rec_on_pix, &get), 0);
	gwfx_run(&fx);
	cr_assert_eq(put.res.r.outcome, GW_OUTCOME_PENDING, "%s", put.res.r.message);
	cr_assert_eq(get.res.r.outcome, GW_OUTCOME_APPROVED, "%s", get.res.r.message);
	cr_assert_str_eq(get.res.end_to_end_id, E2E);
	cr_assert_eq(get.res.amount_cents, 9990);
	n = gwfx_requests(&fx, &reqs);
	cr_assert_eq(n, 3, "one token for both");
	for (size_t i = 0; i < n; i++) {
		if (strcmp(reqs[i].method, "PUT") != 0)
			continue;
		j = gwfx_json(&reqs[i]);
		cr_assert_null(json_object_get(j, "devedor"));
		cr_assert_null(json_object_get(j, "solicitacaoPagador"));
		cr_assert_eq(json_integer_value(json_object_get(json_object_get(j, "calendario"),
								"expiracao")),
			     600);
		json_decref(j);
	}
	gwfx_close(&fx);
}

Test(pix_cob, put_and_query_cobv)
{
	gwsrv_rule_t rules[] = {
		{"POST", "/api/oauth/token", 200, TOKEN_OK, 0, 0, 0},
		{"PUT", "/api/cobv/" TXIDV, 201, COBV_ATIVA, 0, 0, 0},
		{"GET", "/api/cobv/" TXIDV, 200, COBV_REMOVED, 0, 0, 0},
	};
	struct gwfx fx;
	struct rec_pix put = {0}, get = {0};
	gw_pix_cobv_req_t r = cobv_req();
	gw_config_t c = cob_cfg(NULL);
	gwsrv_req_t *reqs;
	size_t n;
	json_t *j;

	gwfx_open(&fx, &c, "/api", NULL, rules, OSPAY_ARRAY_LEN(rules));
	cr_assert_eq(gw_pix_put_cobv(fx.gw, &r, rec_on_pix, &put), 0);
	gwfx_run(&fx);
	cr_assert_eq(gw_pix_query_cobv(fx.gw, TXIDV, rec_on_pix, &get), 0);
	gwfx_run(&fx);
	cr_assert_eq(put.res.r.outcome, GW_OUTCOME_PENDING, "%s", put.res.r.message);
	cr_assert_str_eq(put.res.due_date, "2026-05-20");
	cr_assert_eq(put.res.amount_cents, 15000);
	cr_assert_eq(put.res.loc_id, 790);
	cr_assert_str_eq(put.res.location, "pix.example.com/qr/v2/cobv/abc", "from loc");
	cr_assert_str_eq(put.res.copia_e_cola, "0002010102122679cobv6304AAAA");
	cr_assert_eq(get.res.r.outcome, GW_OUTCOME_CANCELED, "%s", get.res.r.message);
	cr_assert_str_eq(get.res.status, "REMOVIDA_PELO_PSP");
	n = gwfx_requests(&fx, &reqs);
	cr_assert_eq(n, 3);
	j = gwfx_json(&reqs[1]);
	cr_assert_str_eq(jpath(j, "calendario", "dataDeVencimento"), "2026-05-20");
	cr_assert_eq(json_integer_value(json_object_get(json_object_get(j, "calendario"),
							"validadeAposVencimento")),
		     30, "0 is 30 days");
	cr_assert_str_eq(jpath(j, "devedor", "cnpj"), "11222333000181");
	cr_assert_str_eq(jpath(j, "devedor", "nome"), "Empresa de Servicos SA");
	cr_assert_str_eq(jpath(j, "valor", "original"), "150.00");
	cr_assert_str_eq(jpath(j, "chave", NULL), PIX_KEY);
	json_decref(j);
	gwfx_close(&fx);
}

Test(pix_cob, problems_not_found_and_lies)
{
	gwsrv_rule_t rules[] = {
		{"POST", "/api/oauth/token", 200, TOKEN_OK, 0, 0, 0},
		{"PUT", "/api/cob/" TXID, 400, PROBLEM_COB, 0, 0, 0},
		{"GET", "/api/cob/" TXID, 404,
		 "{\"type\":\"https://pix.bcb.gov.br/api/v2/error/CobNaoEncontrado\",\"title\":"
		 "\"Cobranca nao encontrada\",\"status\":404}",
		 0, 0, 0},
		/* A cobr's word on a cob, a cob without valor, not an object. */
		{"GET", "/api/cobv/" TXIDV, 200,
		 "{\"txid\":\"" TXIDV
		 "\",\"status\":\"APROVADA\",\"valor\":{\"original\":\"1.00\"}}",
		 0, 0, 0},
		{"PUT", "/api/cobv/" TXIDV, 201, "{\"txid\":\"" TXIDV "\",\"status\":\"ATIVA\"}", 0,
		 0, 0},
		{"GET", "/api/cobv/J4cobv0123456789abcdef01234567b", 200, "[]", 0, 0, 0},
	};
	struct gwfx fx;
	struct rec_pix put = {0}, get = {0}, lie = {0}, novalor = {0}, arr = {0};
	gw_pix_cob_req_t r = cob_req();
	gw_pix_cobv_req_t v = cobv_req();
	gw_config_t c = cob_cfg(NULL);

	gwfx_open(&fx, &c, "/api", NULL, rules, OSPAY_ARRAY_LEN(rules));
	cr_assert_eq(gw_pix_put_cob(fx.gw, &r, rec_on_pix, &put), 0);
	cr_assert_eq(gw_pix_query_cob(fx.gw, TXID, rec_on_pix, &get), 0);
	cr_assert_eq(gw_pix_query_cobv(fx.gw, TXIDV, rec_on_pix, &lie), 0);
	cr_assert_eq(gw_pix_put_cobv(fx.gw, &v, rec_on_pix, &novalor), 0);
	cr_assert_eq(gw_pix_query_cobv(fx.gw, "J4cobv0123456789abcdef01234567b", rec_on_pix, &arr),
		     0);
	gwfx_run(&fx);
	cr_assert_eq(put.res.r.outcome, GW_OUTCOME_REJECTED, "%s", put.res.r.message);
	cr_assert_str_eq(put.res.r.code, "CobOperacaoInvalida");
	cr_assert(strstr(put.res.r.message, "chave") != NULL, "%s", put.res.r.message);
	cr_assert_str_eq(put.res.txid, TXID);
	cr_assert_eq(get.res.r.outcome, GW_OUTCOME_NOT_FOUND);
	cr_assert_str_eq(get.res.r.code, "CobNaoEncontrado");
	cr_assert_eq(lie.res.r.outcome, GW_OUTCOME_ERROR_RETRYABLE, "%s", lie.res.r.message);
	cr_assert_eq(novalor.res.r.outcome, GW_OUTCOME_UNKNOWN, "an unreadable write is unknown");
	cr_assert_eq(novalor.res.r.error, -EBADMSG);
	cr_assert_eq(arr.res.r.outcome, GW_OUTCOME_ERROR_RETRYABLE);
	gwfx_close(&fx);
}

Test(pix_cob, reset_after_put_is_unknown_then_query_resolves)
{
	gwsrv_rule_t rules[] = {
		{"POST", "/api/oauth/token", 200, TOKEN_OK, 0, 0, 0},
		/* The PSP processed the PUT, the answer is lost. */
		{"PUT", "/api/cobv/" TXIDV, 0, NULL, GWSRV_RESET, 0, 0},
		{"GET", "/api/cobv/" TXIDV, 200, COBV_ATIVA, 0, 0, 0},
		{"PUT", "/api/cob/" TXID, 0, NULL, GWSRV_RESET, 0, 0},
		{"GET", "/api/cob/" TXID, 200, COB_PAID, 0, 0, 0},
	};
	struct gwfx fx;
	struct rec_pix put = {0}, get = {0}, put3 = {0}, get3 = {0};
	gw_pix_cobv_req_t v = cobv_req();
	gw_pix_cob_req_t r = cob_req();
	gw_config_t c = cob_cfg(NULL);

	gwfx_open(&fx, &c, "/api", NULL, rules, OSPAY_ARRAY_LEN(rules));
	cr_assert_eq(gw_pix_put_cobv(fx.gw, &v, rec_on_pix, &put), 0);
	cr_assert_eq(gw_pix_put_cob(fx.gw, &r, rec_on_pix, &put3), 0);
	gwfx_run(&fx);
	cr_assert_eq(put.res.r.outcome, GW_OUTCOME_UNKNOWN, "%s", put.res.r.message);
	cr_assert_str_eq(put.res.txid, TXIDV, "the txid is known even without an answer");
	cr_assert_eq(put3.res.r.outcome, GW_OUTCOME_UNKNOWN, "%s", put3.res.r.message);
	cr_assert_str_eq(put3.res.txid, TXID);
	cr_assert_eq(gw_pix_query_cobv(fx.gw, put.res.txid, rec_on_pix, &get), 0);
	cr_assert_eq(gw_pix_query_cob(fx.gw, put3.res.txid, rec_on_pix, &get3), 0);
	gwfx_run(&fx);
	cr_assert_eq(get.res.r.outcome, GW_OUTCOME_PENDING, "%s", get.res.r.message);
	cr_assert_eq(get3.res.r.outcome, GW_OUTCOME_APPROVED, "paid meanwhile: %s",
		     get3.res.r.message);
	cr_assert_str_eq(get3.res.end_to_end_id, E2E);
	gwfx_close(&fx);
}

Test(pix_cob, invalid_requests_fail_at_once)
{
	gw_config_t c = cob_cfg(NULL);
	struct gwpfx p;
	struct rec_pix rec = {0};
	gw_pix_cob_req_t r;
	gw_pix_cobv_req_t v;
	char info[160];

	memset(info, 'x', sizeof(info) - 1);
	info[sizeof(info) - 1] = '\0';
	gwpfx_open(&p, &c);
	r = cob_req();
	r.txid = "short";
	cr_assert_eq(gw_pix_put_cob(p.gw, &r, rec_on_pix, &rec), -EINVAL);
	r = cob_req();
	r.amount_cents = 0;
	cr_assert_eq(gw_pix_put_cob(p.gw, &r, rec_on_pix, &rec), -EINVAL);
	r = cob_req();
	r.debtor_doc = NULL;
	cr_assert_eq(gw_pix_put_cob(p.gw, &r, rec_on_pix, &rec), -EINVAL, "a name alone");
	r = cob_req();
	r.debtor_name = NULL;
	cr_assert_eq(gw_pix_put_cob(p.gw, &r, rec_on_pix, &rec), -EINVAL, "a document alone");
	r = cob_req();
	r.info = info;
	cr_assert_eq(gw_pix_put_cob(p.gw, &r, rec_on_pix, &rec), -EINVAL, "> 140 bytes");
	r = cob_req();
	r.expires_s = UINT32_MAX;
	cr_assert_eq(gw_pix_put_cob(p.gw, &r, rec_on_pix, &rec), -EINVAL);
	v = cobv_req();
	v.debtor_doc = NULL;
	v.debtor_name = NULL;
	cr_assert_eq(gw_pix_put_cobv(p.gw, &v, rec_on_pix, &rec), -EINVAL, "cobv needs a debtor");
	v = cobv_req();
	v.due_date = "2026-02-30";
	cr_assert_eq(gw_pix_put_cobv(p.gw, &v, rec_on_pix, &rec), -EINVAL);
	v = cobv_req();
	v.validity_days = 100000;
	cr_assert_eq(gw_pix_put_cobv(p.gw, &v, rec_on_pix, &rec), -EINVAL);
	cr_assert_eq(gw_pix_query_cob(p.gw, "../../cobr/x0123456789abcdef0123", rec_on_pix, &rec),
		     -EINVAL);
	cr_assert_eq(gw_pix_query_cobv(p.gw, NULL, rec_on_pix, &rec), -EINVAL);
	cr_assert_eq(gw_pix_put_cob(p.gw, NULL, rec_on_pix, &rec), -EINVAL);
	cr_assert_eq(rec.calls, 0);
	gwpfx_close(&p);

	/* No Pix key: cob, cobv and the Pix webhook cannot be named. */
	c.pix_key = NULL;
	gwpfx_open(&p, &c);
	r = cob_req();
	v = cobv_req();
	cr_assert_eq(gw_pix_put_cob(p.gw, &r, rec_on_pix, &rec), -EINVAL);
	cr_assert_eq(gw_pix_put_cobv(p.gw, &v, rec_on_pix, &rec), -EINVAL);
	cr_assert_eq(gw_pix_register_webhook(p.gw, GW_PIX_HOOK_PIX, "https://isp.example/w",
					     rec_on_pix, &rec),
		     -EINVAL);
	cr_assert_eq(rec.calls, 0);
	gwpfx_close(&p);

	/* A key with a space is refused at configuration. */
	{
		gw_config_t bad = cob_cfg(NULL);
		status_t st;
		gw_t *gw = NULL;
		uv_loop_t loop;
		http_client_t *http = NULL;
		bad.pix_key = "a key";
		bad.base_url = "http://127.0.0.1:9";
		uv_loop_init(&loop);
		http_client_init(&http, &loop, NULL);
		cr_assert_eq(gw_open(&gw, http, &loop, &bad, &st), -EINVAL);
		cr_assert_str_eq(st.violations[0].field, "pix_key");
		http_client_close(http, NULL, NULL);
		uv_run(&loop, UV_RUN_DEFAULT);
		cr_assert_eq(uv_loop_close(&loop), 0);
	}
}

Test(pix_cob, pix_webhook_registration_names_the_key)
{
	gwsrv_rule_t rules[] = {
		{"POST", "/api/oauth/token", 200, TOKEN_OK, 0, 0, 0},
		{"PUT", "/api/v2/webhook/cobranca%2Bisp%40example.com", 200, NULL, 0, 0, 0},
	};
	struct gwfx fx;
	struct rec_pix rec = {0};
	gw_config_t c = cob_cfg("efi");
	gwsrv_req_t *reqs;
	char h[64];
	size_t n;
	json_t *j;

	gwfx_open(&fx, &c, "/api", NULL, rules, OSPAY_ARRAY_LEN(rules));
	cr_assert_eq(gw_pix_register_webhook(fx.gw, GW_PIX_HOOK_PIX,
					     "https://isp.example/webhooks/pix", rec_on_pix, &rec),
		     0);
	gwfx_run(&fx);
	cr_assert_eq(rec.res.r.outcome, GW_OUTCOME_APPROVED, "%s", rec.res.r.message);
	n = gwfx_requests(&fx, &reqs);
	cr_assert_eq(n, 2);
	cr_assert_str_eq(reqs[1].target, "/api/v2/webhook/cobranca%2Bisp%40example.com",
			 "the key is percent-encoded in the path");
	cr_assert_str_eq(gwsrv_req_header(&reqs[1], "x-skip-mtls-checking", h, sizeof(h)), "true");
	j = gwfx_json(&reqs[1]);
	cr_assert_str_eq(jpath(j, "webhookUrl", NULL),
			 "https://isp.example/webhooks/pix?hmac=" HOOK_SECRET "&ignorar=");
	json_decref(j);
	gwfx_close(&fx);
	cr_assert_eq(
		gw_pix_register_webhook(NULL, (gw_pix_hook_t)7, "https://x/y", rec_on_pix, &rec),
		-EINVAL);
}

Test(pix_cob, parse_pix_received_callback)
{
	gw_config_t c = cob_cfg(NULL);
	struct gwpfx p;
	gw_webhook_req_t req = {0};
	gw_event_t ev, ev2;
	static const char pix[] = "{\"pix\":[{\"endToEndId\":\"" E2E "\",\"txid\":\"" TXID
				  "\",\"valor\":\"99.90\",\"horario\":"
				  "\"2026-05-01T10:05:00.000Z\",\"infoPagador\":\"ok\"}]}";

	gwpfx_open(&p, &c);
	req.method = "POST";
	req.query = "hmac=" HOOK_SECRET "&ignorar=/pix";
	cr_assert_eq(gw_verify_webhook(p.gw, &req), 0);
	gwfx_hook_body(&req, pix);
	cr_assert_eq(gw_parse_webhook(p.gw, &req, &ev), 0, "%s", ev.error);
	cr_assert_eq(ev.kind, GW_EVENT_PAYMENT_STATUS);
	cr_assert_str_eq(ev.payment_id, TXID);
	cr_assert_str_eq(ev.order_ref, E2E);
	cr_assert_str_eq(ev.recurrence_id, "");
	cr_assert_str_eq(ev.hint, "CONCLUIDA");
	cr_assert(ev.derived_id);
	cr_assert_eq(gw_parse_webhook(p.gw, &req, &ev2), 0);
	cr_assert_str_eq(ev.event_id, ev2.event_id, "a duplicate has the same id");
	const char *bad[] = {
		"{\"pix\":[]}",
		"{\"pix\":[{\"endToEndId\":\"" E2E "\",\"valor\":\"1.00\"}]}", /* no txid */
		"{\"pix\":[{\"txid\":\"" TXID "\"}]}",                         /* no endToEndId */
		"{\"pix\":[{\"endToEndId\":\"" E2E "\",\"txid\":\"../x\"}]}",
		"{\"pix\":[],\"cobsr\":[]}",
		"{\"pix\":{}}",
	};
	for (size_t i = 0; i < OSPAY_ARRAY_LEN(bad); i++) {
		gwfx_hook_body(&req, bad[i]);
		cr_assert_eq(gw_parse_webhook(p.gw, &req, &ev), -EBADMSG, "%s", bad[i]);
	}
	gwpfx_close(&p);
}

Test(pix_cob, removed_by_the_receiver_is_canceled)
{
	gw_config_t c = cob_cfg(NULL);
	struct gwpfx p;
	gw_pix_result_t out = {0};
	http_response_t res = gwfx_resp(
		200, "{\"txid\":\"" TXID "\",\"status\":\"REMOVIDA_PELO_USUARIO_RECEBEDOR\","
		     "\"valor\":{\"original\":\"99.90\"},\"calendario\":{\"expiracao\":3600}}");

	gwpfx_open(&p, &c);
	out.loc_id = -1;
	out.outcome_detail = -1;
	gw_pix_parse(p.gw, GW_OP_PIX_QUERY_COB, &res, false, &out);
	cr_assert_eq(out.r.outcome, GW_OUTCOME_CANCELED, "%s", out.r.message);
	cr_assert_str_eq(out.status, "REMOVIDA_PELO_USUARIO_RECEBEDOR");
	cr_assert_eq(out.loc_id, -1, "no location given");
	cr_assert_eq(out.outcome_detail, -1);
	gwpfx_close(&p);
}

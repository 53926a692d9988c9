/*
 * Pix Automático adapter against a scripted responder: the token per PSP
 * profile, every call's path and body, the BCB shapes (reference §4, bodies
 * as in BCB API 2.9.0's examples), RFC 7807 errors, malformed answers, an
 * unknown outcome after a reset resolved by GET /cobr/{txid}, webhooks.
 */
#include "gateways/pixtest.h"

#include <errno.h>
#include <stdlib.h>

#include "common/util.h"
#include "core/pix.h"

#define TXID "osp0123456789abcdef0123456789abcdef"

#define REC_CRIADA                                                                                 \
	"{\"idRec\":\"" IDREC                                                                      \
	"\",\"status\":\"CRIADA\",\"politicaRetentativa\":\"PERMITE_3R_7D\","                      \
	"\"vinculo\":{\"contrato\":\"svc-1\",\"devedor\":{\"cpf\":\"45164632481\",\"nome\":"       \
	"\"Fulano de Tal\"}},\"calendario\":{\"dataInicial\":\"2026-05-10\",\"periodicidade\":"    \
	"\"MENSAL\"},\"valor\":{\"valorRec\":\"99.90\"},\"recebedor\":{\"cnpj\":"                  \
	"\"11222333000181\",\"nome\":\"ISP\"},\"loc\":{\"id\":108,\"location\":"                   \
	"\"pix.example.com/qr/v2/rec/abc\"},\"atualizacao\":[{\"status\":\"CRIADA\",\"data\":"     \
	"\"2026-05-01T10:00:00Z\"}],\"ativacao\":{\"tipoJornada\":\"AGUARDANDO_DEFINICAO\"}}"

#define REC_QR                                                                                     \
	"{\"idRec\":\"" IDREC "\",\"status\":\"CRIADA\",\"ativacao\":{\"dadosJornada\":{"          \
	"\"tipoJornada\":\"JORNADA_2\"}},\"dadosQR\":{\"jornada\":\"JORNADA_2\","                  \
	"\"pixCopiaECola\":"                                                                       \
	"\"00020126180014br.gov.bcb.pix6304ABCD\"},\"atualizacao\":[{\"nome\":\"CRIADA\","         \
	"\"data\":"                                                                                \
	"\"2026-05-01T10:00:00Z\"}]}"

#define REC_CANCELED_BY_PAYER                                                                      \
	"{\"idRec\":\"" IDREC "\",\"status\":\"CANCELADA\",\"encerramento\":{\"cancelamento\":{"   \
	"\"solicitante\":\"USUARIO_PAGADOR\",\"codigo\":\"SLDB\",\"descricao\":\"x\"}},"           \
	"\"atualizacao\":[]}"

#define COBR_CRIADA                                                                                \
	"{\"idRec\":\"" IDREC "\",\"txid\":\"" TXID "\",\"status\":\"CRIADA\",\"calendario\":{"    \
	"\"criacao\":\"2026-05-01\",\"dataDeVencimento\":\"2026-05-10\"},\"valor\":{\"original\":" \
	"\"99.90\"},\"politicaRetentativa\":\"PERMITE_3R_7D\",\"ajusteDiaUtil\":true,"             \
	"\"recebedor\":{\"cnpj\":\"11222333000181\",\"conta\":\"012682\",\"tipoConta\":"           \
	"\"CORRENTE\"},\"atualizacao\":[{\"status\":\"CRIADA\",\"data\":\"2026-05-01T10:00:00Z\"}" \
	"]}"

/* After a missed due date with a retry scheduled (BCB cobRResponse3, trimmed). */
#define COBR_RETRYING                                                                              \
	"{\"idRec\":\"" IDREC "\",\"txid\":\"" TXID "\",\"calendario\":{\"criacao\":"              \
	"\"2026-05-01\",\"dataDeVencimento\":\"2026-05-11\"},\"valor\":{\"original\":\"99.90\"},"  \
	"\"status\":\"ATIVA\",\"politicaRetentativa\":\"PERMITE_3R_7D\",\"tentativas\":["          \
	"{\"dataLiquidacao\":\"2026-05-11\",\"tipo\":\"AGND\",\"endToEndId\":"                     \
	"\"E12345678202605110000abcdef12345\",\"status\":\"REJEITADA\",\"rejeicao\":{\"codigo\":"  \
	"\"AC06\"}},{\"dataLiquidacao\":\"2026-05-12\",\"tipo\":\"NTAG\",\"endToEndId\":"          \
	"\"E12345678202605120000abcdef12345\",\"status\":\"AGENDADA\"}]}"

#define COBR_PAID                                                                                  \
	"{\"idRec\":\"" IDREC "\",\"txid\":\"" TXID "\",\"status\":\"CONCLUIDA\",\"valor\":{"      \
	"\"original\":\"99.90\"},\"calendario\":{\"dataDeVencimento\":\"2026-05-11\"},"            \
	"\"tentativas\":[{\"dataLiquidacao\":\"2026-05-11\",\"tipo\":\"AGND\",\"endToEndId\":"     \
	"\"E12345678202605110000abcdef12345\",\"status\":\"PAGA\"}],\"pix\":[{\"endToEndId\":"     \
	"\"E12345678202605110000abcdef12345\",\"txid\":\"" TXID "\",\"valor\":\"99.90\","          \
	"\"horario\":\"2026-05-11T06:00:00Z\"}]}"

#define COBR_CANCELED                                                                              \
	"{\"idRec\":\"" IDREC "\",\"txid\":\"" TXID "\",\"status\":\"CANCELADA\",\"valor\":{"      \
	"\"original\":\"99.90\"},\"encerramento\":{\"cancelamento\":{\"solicitante\":"             \
	"\"USUARIO_RECEBEDOR\",\"codigo\":\"SLCR\",\"descricao\":\"x\"}}}"

#define PROBLEM_COBR                                                                               \
	"{\"type\":\"https://pix.bcb.gov.br/api/v2/error/CobROperacaoInvalida\",\"title\":"        \
	"\"Cobranca invalida\",\"status\":400,\"detail\":\"A politica configurada na recorrencia " \
	"nao permite retentativa de cobranca.\"}"

static gw_pix_cobr_req_t cobr_req(void)
{
	gw_pix_cobr_req_t r = {.txid = TXID,
			       .id_rec = IDREC,
			       .due_date = "2026-05-10",
			       .amount_cents = 9990,
			       .info = "Internet 300 Mb, maio"};
	return r;
}

/* Runs one call on a fresh fixture with rules; the result into *rec. */
#define PIX_RUN(fx, profile, rules, call_expr)                                                     \
	do {                                                                                       \
		gw_config_t c_ = pix_cfg(profile);                                                 \
		gwfx_open(&(fx), &c_, "/api", NULL, rules, OSPAY_ARRAY_LEN(rules));                \
		cr_assert_eq((call_expr), 0);                                                      \
		gwfx_run(&(fx));                                                                   \
	} while (0)

Test(pix_http, token_form_then_put_cobr_bcb_profile)
{
	gwsrv_rule_t rules[] = {
		{"POST", "/api/oauth/token", 200, TOKEN_OK, 0, 0, 0},
		{"PUT", "/api/cobr/" TXID, 201, COBR_CRIADA, 0, 0, 0},
	};
	struct gwfx fx;
	struct rec_pix rec = {0};
	gw_pix_cobr_req_t r = cobr_req();
	gwsrv_req_t *reqs;
	char h[256];
	size_t n;
	json_t *j;

	PIX_RUN(fx, NULL, rules, gw_pix_put_cobr(fx.gw, &r, rec_on_pix, &rec));
	cr_assert_eq(rec.calls, 1);
	cr_assert_eq(rec.res.r.outcome, GW_OUTCOME_PENDING, "%s", rec.res.r.message);
	cr_assert_eq(rec.res.outcome_detail, PIX_OUT_PENDING);
	cr_assert_str_eq(rec.res.txid, TXID);
	cr_assert_str_eq(rec.res.id_rec, IDREC);
	cr_assert_eq(rec.res.amount_cents, 9990);
	cr_assert_str_eq(rec.res.due_date, "2026-05-10");
	n = gwfx_requests(&fx, &reqs);
	cr_assert_eq(n, 2);
	cr_assert_str_eq(gwsrv_req_header(&reqs[0], "Content-Type", h, sizeof(h)),
			 "application/x-www-form-urlencoded");
	cr_assert_str_eq(reqs[0].body, "grant_type=client_credentials");
	cr_assert_not_null(gwsrv_req_header(&reqs[0], "Authorization", h, sizeof(h)));
	cr_assert(strncmp(h, "Basic ", 6) == 0);
	cr_assert_str_eq(gwsrv_req_header(&reqs[1], "Authorization", h, sizeof(h)), "Bearer tok-1");
	j = gwfx_json(&reqs[1]);
	cr_assert_str_eq(json_string_value(json_object_get(j, "idRec")), IDREC);
	cr_assert_str_eq(json_string_value(json_object_get(json_object_get(j, "calendario"),
							   "dataDeVencimento")),
			 "2026-05-10");
	cr_assert_str_eq(
		json_string_value(json_object_get(json_object_get(j, "valor"), "original")),
		"99.90");
	cr_assert(json_is_true(json_object_get(j, "ajusteDiaUtil")));
	cr_assert_str_eq(
		json_string_value(json_object_get(json_object_get(j, "recebedor"), "tipoConta")),
		"CORRENTE");
	cr_assert_str_eq(
		json_string_value(json_object_get(json_object_get(j, "recebedor"), "conta")),
		"012682");
	json_decref(j);
	gwfx_close(&fx);
}

Test(pix_http, efi_profile_json_token_and_v2_paths)
{
	gwsrv_rule_t rules[] = {
		{"POST", "/api/oauth/token", 200, TOKEN_OK, 0, 0, 0},
		{"POST", "/api/v2/rec", 201, REC_CRIADA, 0, 0, 0},
	};
	struct gwfx fx;
	struct rec_pix rec = {0};
	gw_pix_rec_req_t r = {0};
	gwsrv_req_t *reqs;
	size_t n;
	json_t *j;

	r.contract = "svc-1";
	r.object = "Internet 300 Mb";
	r.debtor_doc = "45164632481";
	r.debtor_name = "Fulano de Tal";
	r.first_date = "2026-05-10";
	r.fixed_cents = 9990;
	r.retries = true;
	r.loc_id = 108;
	PIX_RUN(fx, "efi", rules, gw_pix_create_rec(fx.gw, &r, rec_on_pix, &rec));
	cr_assert_eq(rec.res.r.outcome, GW_OUTCOME_PENDING, "%s", rec.res.r.message);
	cr_assert_str_eq(rec.res.id_rec, IDREC);
	cr_assert_str_eq(rec.res.policy, "PERMITE_3R_7D");
	cr_assert_eq(rec.res.loc_id, 108);
	cr_assert_str_eq(rec.res.journey, "AGUARDANDO_DEFINICAO", "kept without a dadosQR");
	cr_assert_eq(rec.res.amount_cents, 9990);
	cr_assert_eq(rec.res.outcome_detail, -1);
	n = gwfx_requests(&fx, &reqs);
	cr_assert_eq(n, 2);
	cr_assert_str_eq(reqs[0].body, "{\"grant_type\":\"client_credentials\"}");
	j = gwfx_json(&reqs[1]);
	cr_assert_str_eq(
		json_string_value(json_object_get(json_object_get(j, "vinculo"), "contrato")),
		"svc-1");
	cr_assert_str_eq(json_string_value(json_object_get(
				 json_object_get(json_object_get(j, "vinculo"), "devedor"), "cpf")),
			 "45164632481");
	cr_assert_str_eq(json_string_value(json_object_get(json_object_get(j, "calendario"),
							   "periodicidade")),
			 "MENSAL");
	cr_assert_str_eq(
		json_string_value(json_object_get(json_object_get(j, "valor"), "valorRec")),
		"99.90");
	cr_assert_str_eq(json_string_value(json_object_get(j, "politicaRetentativa")),
			 "PERMITE_3R_7D");
	cr_assert_eq(json_integer_value(json_object_get(j, "loc")), 108);
	json_decref(j);
	gwfx_close(&fx);
}

Test(pix_http, inter_profile_token_form_with_scopes)
{
	gwsrv_rule_t rules[] = {
		{"POST", "/api/oauth/v2/token", 200, TOKEN_OK, 0, 0, 0},
		{"GET", "/api/pix/v2/cobr/" TXID, 200, COBR_PAID, 0, 0, 0},
	};
	struct gwfx fx;
	struct rec_pix rec = {0};
	gwsrv_req_t *reqs;
	size_t n;

	PIX_RUN(fx, "inter", rules, gw_pix_query_cobr(fx.gw, TXID, rec_on_pix, &rec));
	cr_assert_eq(rec.res.r.outcome, GW_OUTCOME_APPROVED, "%s", rec.res.r.message);
	cr_assert_eq(rec.res.outcome_detail, PIX_OUT_PAID);
	cr_assert_str_eq(rec.res.end_to_end_id, "E12345678202605110000abcdef12345");
	n = gwfx_requests(&fx, &reqs);
	cr_assert_eq(n, 2);
	cr_assert(strstr(reqs[0].body, "client_id=" CID "&client_secret=" CSECRET) != NULL);
	cr_assert(strstr(reqs[0].body, "scope=rec.read+rec.write") != NULL);
	gwfx_close(&fx);
}

Test(pix_http, query_cobr_attempts_and_retry)
{
	gwsrv_rule_t rules[] = {
		{"POST", "/api/oauth/token", 200, TOKEN_OK, 0, 0, 0},
		{"GET", "/api/cobr/" TXID, 200, COBR_RETRYING, 0, 0, 0},
		{"POST", "/api/cobr/" TXID "/retentativa/2026-05-13", 201, COBR_RETRYING, 0, 0, 0},
	};
	struct gwfx fx;
	struct rec_pix rec = {0}, retry = {0};
	gwsrv_req_t *reqs;
	size_t n;
	gw_config_t c = pix_cfg(NULL);

	gwfx_open(&fx, &c, "/api", NULL, rules, OSPAY_ARRAY_LEN(rules));
	cr_assert_eq(gw_pix_query_cobr(fx.gw, TXID, rec_on_pix, &rec), 0);
	cr_assert_eq(gw_pix_retry_cobr(fx.gw, TXID, "2026-05-13", rec_on_pix, &retry), 0);
	gwfx_run(&fx);
	cr_assert_eq(rec.res.r.outcome, GW_OUTCOME_PENDING, "%s", rec.res.r.message);
	cr_assert_eq(rec.res.n_attempts, 2);
	cr_assert_str_eq(rec.res.attempts[0].kind, "AGND");
	cr_assert_str_eq(rec.res.attempts[0].status, "REJEITADA");
	cr_assert_str_eq(rec.res.attempts[0].reason, "AC06");
	cr_assert_str_eq(rec.res.attempts[1].date, "2026-05-12");
	cr_assert_eq(rec.res.outcome_detail, PIX_OUT_PENDING, "the last attempt is scheduled");
	cr_assert_eq(retry.res.r.outcome, GW_OUTCOME_PENDING, "%s", retry.res.r.message);
	n = gwfx_requests(&fx, &reqs);
	cr_assert_eq(n, 3, "one token fetch shared by both calls");
	cr_assert_eq(gw_pix_token_fetches(fx.gw), 1);
	cr_assert_eq(reqs[2].body_len, 0, "retentativa has no body");
	gwfx_close(&fx);
}

Test(pix_http, retry_refused_is_rejected_with_the_problem_type)
{
	gwsrv_rule_t rules[] = {
		{"POST", "/api/oauth/token", 200, TOKEN_OK, 0, 0, 0},
		{"POST", "/api/cobr/*", 400, PROBLEM_COBR, 0, 0, 0},
	};
	struct gwfx fx;
	struct rec_pix rec = {0};

	PIX_RUN(fx, NULL, rules, gw_pix_retry_cobr(fx.gw, TXID, "2026-05-13", rec_on_pix, &rec));
	cr_assert_eq(rec.res.r.outcome, GW_OUTCOME_REJECTED);
	cr_assert_str_eq(rec.res.r.code, "CobROperacaoInvalida");
	cr_assert(strstr(rec.res.r.message, "retentativa") != NULL, "%s", rec.res.r.message);
	cr_assert_str_eq(rec.res.txid, TXID);
	gwfx_close(&fx);
}

Test(pix_http, cancel_cobr_and_rec)
{
	gwsrv_rule_t rules[] = {
		{"POST", "/api/oauth/token", 200, TOKEN_OK, 0, 0, 0},
		{"PATCH", "/api/cobr/" TXID, 200, COBR_CANCELED, 0, 0, 0},
		{"PATCH", "/api/rec/" IDREC, 200, REC_CANCELED_BY_PAYER, 0, 0, 0},
	};
	struct gwfx fx;
	struct rec_pix a = {0}, b = {0};
	gwsrv_req_t *reqs;
	size_t n;
	gw_config_t c = pix_cfg(NULL);

	gwfx_open(&fx, &c, "/api", NULL, rules, OSPAY_ARRAY_LEN(rules));
	cr_assert_eq(gw_pix_cancel_cobr(fx.gw, TXID, rec_on_pix, &a), 0);
	gwfx_run(&fx);
	cr_assert_eq(gw_pix_cancel_rec(fx.gw, IDREC, rec_on_pix, &b), 0);
	gwfx_run(&fx);
	cr_assert_eq(a.res.r.outcome, GW_OUTCOME_CANCELED, "%s", a.res.r.message);
	cr_assert_eq(a.res.outcome_detail, PIX_OUT_CANCELED);
	cr_assert_str_eq(a.res.ended_by, "USUARIO_RECEBEDOR");
	cr_assert_eq(b.res.r.outcome, GW_OUTCOME_CANCELED);
	cr_assert_str_eq(b.res.ended_by, "USUARIO_PAGADOR");
	cr_assert_str_eq(b.res.end_code, "SLDB");
	n = gwfx_requests(&fx, &reqs);
	cr_assert_eq(n, 3);
	cr_assert_str_eq(reqs[1].body, "{\"status\":\"CANCELADA\"}");
	cr_assert_str_eq(reqs[2].body, "{\"status\":\"CANCELADA\"}");
	gwfx_close(&fx);
}

Test(pix_http, location_query_rec_qr_and_solicrec)
{
	gwsrv_rule_t rules[] = {
		{"POST", "/api/oauth/token", 200, TOKEN_OK, 0, 0, 0},
		{"POST", "/api/locrec", 201,
		 "{\"id\":108,\"location\":\"pix.example.com/qr/v2/rec/abc\",\"criacao\":"
		 "\"2026-05-01T10:00:00Z\"}",
		 0, 0, 0},
		{"GET", "/api/rec/" IDREC "?txid=" TXID, 200, REC_QR, 0, 0, 0},
		{"POST", "/api/solicrec", 201,
		 "{\"idSolicRec\":\"SC1234567820260501abcdefghijk\",\"idRec\":\"" IDREC
		 "\",\"status\":\"CRIADA\"}",
		 0, 0, 0},
		/* PATCH answers 201 (sic, BCB API 2.9.0). */
		{"PATCH", "/api/solicrec/SC1234567820260501abcdefghijk", 201,
		 "{\"idSolicRec\":\"SC1234567820260501abcdefghijk\",\"idRec\":\"" IDREC
		 "\",\"status\":\"CANCELADA\"}",
		 0, 0, 0},
	};
	struct gwfx fx;
	struct rec_pix loc = {0}, qr = {0}, sol = {0};
	gw_pix_solicrec_req_t s = {IDREC,    "2026-05-20T12:00:00Z", "91193552", "2569",
				   "550689", "15231470190"};
	gw_config_t c = pix_cfg(NULL);
	gwsrv_req_t *reqs;
	size_t n;
	json_t *j;

	gwfx_open(&fx, &c, "/api", NULL, rules, OSPAY_ARRAY_LEN(rules));
	cr_assert_eq(gw_pix_create_location(fx.gw, rec_on_pix, &loc), 0);
	cr_assert_eq(gw_pix_query_rec(fx.gw, IDREC, TXID, rec_on_pix, &qr), 0);
	cr_assert_eq(gw_pix_create_solicrec(fx.gw, &s, rec_on_pix, &sol), 0);
	gwfx_run(&fx);
	cr_assert_eq(loc.res.r.outcome, GW_OUTCOME_APPROVED, "%s", loc.res.r.message);
	cr_assert_eq(loc.res.loc_id, 108);
	cr_assert_str_eq(loc.res.location, "pix.example.com/qr/v2/rec/abc");
	cr_assert_eq(qr.res.r.outcome, GW_OUTCOME_PENDING, "%s", qr.res.r.message);
	cr_assert_str_eq(qr.res.journey, "JORNADA_2");
	cr_assert_str_eq(qr.res.copia_e_cola, "00020126180014br.gov.bcb.pix6304ABCD");
	cr_assert_eq(sol.res.r.outcome, GW_OUTCOME_PENDING, "%s", sol.res.r.message);
	cr_assert_str_eq(sol.res.id_solicrec, "SC1234567820260501abcdefghijk");
	{
		struct rec_pix cancel = {0};
		cr_assert_eq(
			gw_pix_cancel_solicrec(fx.gw, sol.res.id_solicrec, rec_on_pix, &cancel), 0);
		gwfx_run(&fx);
		cr_assert_eq(cancel.res.r.outcome, GW_OUTCOME_CANCELED, "%s", cancel.res.r.message);
		cr_assert_eq(gw_pix_query_solicrec(fx.gw, "SC/../x", rec_on_pix, &cancel), -EINVAL);
	}
	n = gwfx_requests(&fx, &reqs);
	cr_assert_eq(n, 5);
	for (size_t i = 0; i < n; i++) {
		if (strcmp(reqs[i].target, "/api/solicrec") != 0)
			continue;
		j = gwfx_json(&reqs[i]);
		cr_assert_str_eq(json_string_value(json_object_get(
					 json_object_get(j, "destinatario"), "ispbParticipante")),
				 "91193552");
		cr_assert_str_eq(json_string_value(json_object_get(
					 json_object_get(j, "destinatario"), "cpf")),
				 "15231470190");
		json_decref(j);
	}
	gwfx_close(&fx);
}

Test(pix_http, webhook_registration_carries_the_secret_and_efi_header)
{
	gwsrv_rule_t rules[] = {
		{"POST", "/api/oauth/token", 200, TOKEN_OK, 0, 0, 0},
		{"PUT", "/api/v2/webhookcobr", 200, NULL, 0, 0, 0},
	};
	struct gwfx fx;
	struct rec_pix rec = {0};
	gwsrv_req_t *reqs;
	char h[64];
	size_t n;
	json_t *j;

	PIX_RUN(fx, "efi", rules,
		gw_pix_register_webhook(fx.gw, GW_PIX_HOOK_COBR, "https://isp.example/webhooks/pix",
					rec_on_pix, &rec));
	cr_assert_eq(rec.res.r.outcome, GW_OUTCOME_APPROVED, "%s", rec.res.r.message);
	n = gwfx_requests(&fx, &reqs);
	cr_assert_eq(n, 2);
	cr_assert_str_eq(gwsrv_req_header(&reqs[1], "x-skip-mtls-checking", h, sizeof(h)), "true");
	j = gwfx_json(&reqs[1]);
	cr_assert_str_eq(json_string_value(json_object_get(j, "webhookUrl")),
			 "https://isp.example/webhooks/pix?hmac=" HOOK_SECRET "&ignorar=");
	json_decref(j);
	gwfx_close(&fx);
	/* Only https URLs, no query of their own. */
	{
		gw_config_t c = pix_cfg(NULL);
		struct gwpfx p;
		gwpfx_open(&p, &c);
		cr_assert_eq(gw_pix_register_webhook(p.gw, GW_PIX_HOOK_REC, "http://x/y",
						     rec_on_pix, &rec),
			     -EINVAL);
		cr_assert_eq(gw_pix_register_webhook(p.gw, GW_PIX_HOOK_REC, "https://x/y?a=b",
						     rec_on_pix, &rec),
			     -EINVAL);
		gwpfx_close(&p);
	}
}

Test(pix_http, reset_after_put_is_unknown_then_get_resolves)
{
	gwsrv_rule_t rules[] = {
		{"POST", "/api/oauth/token", 200, TOKEN_OK, 0, 0, 0},
		/* The PSP processed the PUT, the answer is lost. */
		{"PUT", "/api/cobr/" TXID, 0, NULL, GWSRV_RESET, 0, 0},
		{"GET", "/api/cobr/" TXID, 200, COBR_CRIADA, 0, 0, 0},
	};
	struct gwfx fx;
	struct rec_pix put = {0}, get = {0};
	gw_pix_cobr_req_t r = cobr_req();
	gw_config_t c = pix_cfg(NULL);

	gwfx_open(&fx, &c, "/api", NULL, rules, OSPAY_ARRAY_LEN(rules));
	cr_assert_eq(gw_pix_put_cobr(fx.gw, &r, rec_on_pix, &put), 0);
	gwfx_run(&fx);
	cr_assert_eq(put.res.r.outcome, GW_OUTCOME_UNKNOWN, "%s", put.res.r.message);
	cr_assert_str_eq(put.res.txid, TXID, "the txid is known even without an answer");
	cr_assert_eq(gw_pix_query_cobr(fx.gw, put.res.txid, rec_on_pix, &get), 0);
	gwfx_run(&fx);
	cr_assert_eq(get.res.r.outcome, GW_OUTCOME_PENDING, "%s", get.res.r.message);
	cr_assert_str_eq(get.res.status, "CRIADA");
	gwfx_close(&fx);
}

Test(pix_http, malformed_and_lying_answers)
{
	gwsrv_rule_t rules[] = {
		{"POST", "/api/oauth/token", 200, TOKEN_OK, 0, 0, 0},
		{"PUT", "/api/cobr/" TXID, 201, "{\"idRec\":", 0, 0, 0},
		{"GET", "/api/cobr/" TXID, 200,
		 "{\"idRec\":\"" IDREC "\",\"txid\":\"" TXID "\",\"status\":\"APROVADA\","
		 "\"valor\":{\"original\":\"1.00\"}}",
		 0, 0, 0},
		{"GET", "/api/rec/" IDREC, 200, "[1,2]", 0, 0, 0},
	};
	struct gwfx fx;
	struct rec_pix put = {0}, get = {0}, rec = {0};
	gw_pix_cobr_req_t r = cobr_req();
	gw_config_t c = pix_cfg(NULL);

	gwfx_open(&fx, &c, "/api", NULL, rules, OSPAY_ARRAY_LEN(rules));
	cr_assert_eq(gw_pix_put_cobr(fx.gw, &r, rec_on_pix, &put), 0);
	cr_assert_eq(gw_pix_query_cobr(fx.gw, TXID, rec_on_pix, &get), 0);
	cr_assert_eq(gw_pix_query_rec(fx.gw, IDREC, NULL, rec_on_pix, &rec), 0);
	gwfx_run(&fx);
	cr_assert_eq(put.res.r.outcome, GW_OUTCOME_UNKNOWN, "an unreadable write is unknown");
	cr_assert_eq(put.res.r.error, -EBADMSG);
	cr_assert_eq(get.res.r.outcome, GW_OUTCOME_ERROR_RETRYABLE,
		     "a rec's word on a cobr is a lie: %s", get.res.r.message);
	cr_assert_eq(rec.res.r.outcome, GW_OUTCOME_ERROR_RETRYABLE);
	gwfx_close(&fx);
}

Test(pix_http, not_found_auth_and_token_failures)
{
	gwsrv_rule_t rules[] = {
		{"POST", "/api/oauth/token", 200, TOKEN_OK, 0, 0, 0},
		{"GET", "/api/cobr/" TXID, 404,
		 "{\"type\":\"https://pix.bcb.gov.br/api/v2/error/CobRNaoEncontrado\",\"title\":"
		 "\"Cobranca nao encontrada\",\"status\":404}",
		 0, 0, 0},
		/* A 401 once: the token is dropped, fetched again, the call re-sent. */
		{"GET", "/api/rec/" IDREC, 401, NULL, 0, 0, 1},
		{"GET", "/api/rec/" IDREC, 200, REC_CRIADA, 0, 0, 0},
	};
	struct gwfx fx;
	struct rec_pix nf = {0}, rec = {0};
	gw_config_t c = pix_cfg(NULL);

	gwfx_open(&fx, &c, "/api", NULL, rules, OSPAY_ARRAY_LEN(rules));
	cr_assert_eq(gw_pix_query_cobr(fx.gw, TXID, rec_on_pix, &nf), 0);
	gwfx_run(&fx);
	cr_assert_eq(gw_pix_query_rec(fx.gw, IDREC, NULL, rec_on_pix, &rec), 0);
	gwfx_run(&fx);
	cr_assert_eq(nf.res.r.outcome, GW_OUTCOME_NOT_FOUND);
	cr_assert_str_eq(nf.res.r.code, "CobRNaoEncontrado");
	cr_assert_eq(rec.res.r.outcome, GW_OUTCOME_PENDING, "%s", rec.res.r.message);
	cr_assert_eq(gw_pix_token_fetches(fx.gw), 2);
	gwfx_close(&fx);

	/* The token refused: every waiting call fails retryable, nothing was sent. */
	gwsrv_rule_t bad[] = {{"POST", "/api/oauth/token", 401, "{}", 0, 0, 0}};
	struct rec_pix a = {0};
	gw_pix_cobr_req_t r = cobr_req();
	PIX_RUN(fx, NULL, bad, gw_pix_put_cobr(fx.gw, &r, rec_on_pix, &a));
	cr_assert_eq(a.calls, 1);
	cr_assert_eq(a.res.r.outcome, GW_OUTCOME_AUTH_FAILED, "%s", a.res.r.message);
	cr_assert(strstr(a.res.r.message, CSECRET) == NULL);
	gwfx_close(&fx);
}

Test(pix_build, invalid_requests_fail_at_once)
{
	gw_config_t c = pix_cfg(NULL);
	struct gwpfx p;
	struct rec_pix rec = {0};
	gw_pix_cobr_req_t r = cobr_req();
	gw_pix_rec_req_t rr = {0};

	gwpfx_open(&p, &c);
	r.txid = "short";
	cr_assert_eq(gw_pix_put_cobr(p.gw, &r, rec_on_pix, &rec), -EINVAL);
	r = cobr_req();
	r.amount_cents = 0;
	cr_assert_eq(gw_pix_put_cobr(p.gw, &r, rec_on_pix, &rec), -EINVAL);
	r = cobr_req();
	r.due_date = "2026-02-30";
	cr_assert_eq(gw_pix_put_cobr(p.gw, &r, rec_on_pix, &rec), -EINVAL);
	r = cobr_req();
	r.id_rec = "RR../../etc";
	cr_assert_eq(gw_pix_put_cobr(p.gw, &r, rec_on_pix, &rec), -EINVAL);
	cr_assert_eq(gw_pix_query_cobr(p.gw, "a/b/c/d/e/f/g/h/i/j/k/l/m/n", rec_on_pix, &rec),
		     -EINVAL);
	cr_assert_eq(gw_pix_retry_cobr(p.gw, TXID, "tomorrow", rec_on_pix, &rec), -EINVAL);
	rr.contract = "svc-1";
	rr.debtor_doc = "45164632481";
	rr.debtor_name = "Fulano";
	rr.first_date = "2026-05-10";
	rr.fixed_cents = 100;
	rr.floor_cents = 100;
	cr_assert_eq(gw_pix_create_rec(p.gw, &rr, rec_on_pix, &rec), -EINVAL,
		     "valorRec and valorMinimoRecebedor together");
	rr.floor_cents = 0;
	rr.debtor_doc = "123";
	cr_assert_eq(gw_pix_create_rec(p.gw, &rr, rec_on_pix, &rec), -EINVAL);
	cr_assert_eq(rec.calls, 0);
	gwpfx_close(&p);
	/* Configuration. */
	gw_config_t bad = pix_cfg("nubank");
	bad.webhook_secret = NULL;
	bad.client_cert_pem = "-----BEGIN CERTIFICATE-----\n";
	status_t st;
	gw_t *gw = NULL;
	uv_loop_t loop;
	http_client_t *http = NULL;
	uv_loop_init(&loop);
	http_client_init(&http, &loop, NULL);
	cr_assert_eq(gw_open(&gw, http, &loop, &bad, &st), -EINVAL);
	cr_assert_geq(st.n_violations, 3);
	http_client_close(http, NULL, NULL);
	uv_run(&loop, UV_RUN_DEFAULT);
	cr_assert_eq(uv_loop_close(&loop), 0);
}

Test(pix_webhook, secret_in_the_url_authenticates)
{
	gw_config_t c = pix_cfg(NULL);
	struct gwpfx p;
	gw_webhook_req_t req = {0};

	gwpfx_open(&p, &c);
	req.method = "POST";
	req.query = "hmac=" HOOK_SECRET "&ignorar=/cobr";
	cr_assert_eq(gw_verify_webhook(p.gw, &req), 0);
	req.query = "hmac=wrong&ignorar=/cobr";
	cr_assert_eq(gw_verify_webhook(p.gw, &req), -EACCES);
	req.query = "hmac=" HOOK_SECRET "&hmac=" HOOK_SECRET;
	cr_assert_eq(gw_verify_webhook(p.gw, &req), -EACCES);
	req.query = NULL;
	cr_assert_eq(gw_verify_webhook(p.gw, &req), -EACCES);
	gwpfx_close(&p);
}

Test(pix_webhook, parse_rec_and_cobr_callbacks)
{
	gw_config_t c = pix_cfg(NULL);
	struct gwpfx p;
	gw_webhook_req_t req = {0};
	gw_event_t ev, ev2;
	static const char rec[] =
		"{\"recs\":[{\"idRec\":\"" IDREC "\",\"status\":\"APROVADA\",\"atualizacao\":"
		"[{\"status\":\"APROVADA\",\"data\":\"2026-05-02T12:00:00Z\"}],\"ativacao\":{"
		"\"tipoJornada\":\"JORNADA_2\"}}]}";
	static const char cobr[] =
		"{\"cobsr\":[{\"idRec\":\"" IDREC "\",\"txid\":\"" TXID "\",\"status\":\"ATIVA\","
		"\"atualizacao\":[],\"tentativas\":[{\"dataLiquidacao\":\"2024-20-08\",\"tipo\":"
		"\"AGND\",\"status\":\"SOLICITADA\",\"endToEndId\":\"E1\"}]}]}";

	gwpfx_open(&p, &c);
	req.method = "POST";
	gwfx_hook_body(&req, rec);
	cr_assert_eq(gw_parse_webhook(p.gw, &req, &ev), 0, "%s", ev.error);
	cr_assert_eq(ev.kind, GW_EVENT_RECURRENCE);
	cr_assert_str_eq(ev.recurrence_id, IDREC);
	cr_assert_str_eq(ev.hint, "APROVADA");
	cr_assert(ev.derived_id);
	cr_assert_eq(gw_parse_webhook(p.gw, &req, &ev2), 0);
	cr_assert_str_eq(ev.event_id, ev2.event_id, "a duplicate has the same id");
	gwfx_hook_body(&req, cobr);
	cr_assert_eq(gw_parse_webhook(p.gw, &req, &ev), 0, "%s", ev.error);
	cr_assert_eq(ev.kind, GW_EVENT_PAYMENT_STATUS);
	cr_assert_str_eq(ev.payment_id, TXID);
	cr_assert_str_neq(ev.event_id, ev2.event_id);
	const char *bad[] = {"",
			     "[]",
			     "{\"recs\":[]}",
			     "{\"recs\":[{}]}",
			     "{\"recs\":[],\"cobsr\":[]}",
			     "{\"cobsr\":[{\"idRec\":\"" IDREC "\",\"status\":\"ATIVA\"}]}"};
	for (size_t i = 0; i < OSPAY_ARRAY_LEN(bad); i++) {
		gwfx_hook_body(&req, bad[i]);
		cr_assert_eq(gw_parse_webhook(p.gw, &req, &ev), -EBADMSG, "%s", bad[i]);
	}
	gwpfx_close(&p);
}

/*
 * ospay-sandbox's Pix PSP over raw HTTP, the way a hostile or careless client
 * would speak to it: no token, another service's token, malformed bodies,
 * impossible dates and amounts, ids of another organization; and the control
 * calls' refusals. What a correct client sees is in tests/gateways/pix_e2e_test.c.
 */
#include "pix_harness.h"

TestSuite(sandbox_pix, .init = px_setup, .fini = h_teardown, .timeout = 60);

Test(sandbox_pix, tokens_open_only_their_service_and_organization)
{
	char gn[96], t[64];
	/* No token, a made-up one, GetNet's token: 401 with the BCB problem shape. */
	cr_assert_eq(px("GET", "/pix/cobr/osp0123456789abcdef0123456789abcdef", NULL,
			"Authorization: Bearer nope", t, sizeof(t)),
		     401);
	cr_assert_str_eq(t, "AcessoNegado");
	cr_assert_eq(px("POST", "/pix/locrec", NULL, "X-Nothing: 1", NULL, 0), 401);
	{
		const char *hdrs[] = {"Authorization: Basic Y2lkLTc6Y3NlY3JldC03",
				      "Content-Type: application/x-www-form-urlencoded", NULL};
		h_resp_t *r = h_req("POST", "/getnet/auth/oauth/v2/token", hdrs,
				    "scope=oob&grant_type=client_credentials", 0);
		cr_assert_eq(r->status, 200);
		snprintf(gn, sizeof(gn), "Authorization: Bearer %s",
			 json_string_value(json_object_get(r->json, "access_token")));
		h_free(r);
	}
	cr_assert_eq(px("POST", "/pix/locrec", NULL, gn, NULL, 0), 401, "GetNet's token");
	/* And a Pix token is no GetNet token. */
	cr_assert_eq(px("GET", "/getnet/v1/cards/x", NULL, TOKEN, NULL, 0), 401);
	/* Wrong client secret, wrong grant. */
	{
		const char *hdrs[] = {"Authorization: Basic cGNpZC03Ondyb25n", NULL};
		h_resp_t *r =
			h_req("POST", "/pix/oauth/token", hdrs, "grant_type=client_credentials", 0);
		cr_assert_eq(r->status, 401);
		h_free(r);
	}
	{
		const char *hdrs[] = {"Authorization: Basic cGNpZC03OnBzLTc=", NULL};
		h_resp_t *r = h_req("POST", "/pix/oauth/token", hdrs, "grant_type=password", 0);
		cr_assert_eq(r->status, 400);
		h_free(r);
	}
}

Test(sandbox_pix, hostile_rec_and_cobr_bodies_are_problems)
{
	char t[64], other[96];
	const char *bad_recs[] = {
		"not json",
		"{}",
		"[1,2]",
		/* dataInicial before today (2027-03-01) */
		"{\"vinculo\":{\"contrato\":\"c\",\"devedor\":{\"cpf\":\"45164632481\",\"nome\":"
		"\"F\"}},"
		"\"calendario\":{\"dataInicial\":\"2027-02-28\",\"periodicidade\":\"MENSAL\"},"
		"\"politicaRetentativa\":\"NAO_PERMITE\"}",
		/* valorRec and valorMinimoRecebedor together */
		"{\"vinculo\":{\"contrato\":\"c\",\"devedor\":{\"cpf\":\"45164632481\",\"nome\":"
		"\"F\"}},"
		"\"calendario\":{\"dataInicial\":\"2027-03-10\",\"periodicidade\":\"MENSAL\"},"
		"\"valor\":{\"valorRec\":\"1.00\",\"valorMinimoRecebedor\":\"1.00\"},"
		"\"politicaRetentativa\":\"NAO_PERMITE\"}",
		/* a 36-character contract */
		"{\"vinculo\":{\"contrato\":\"012345678901234567890123456789012345\",\"devedor\":{"
		"\"cpf\":\"45164632481\",\"nome\":\"F\"}},\"calendario\":{\"dataInicial\":"
		"\"2027-03-10\",\"periodicidade\":\"MENSAL\"},\"politicaRetentativa\":\"NAO_"
		"PERMITE\"}",
		/* 2027-02-30, an unknown policy, an unused location */
		"{\"vinculo\":{\"contrato\":\"c\",\"devedor\":{\"cpf\":\"45164632481\",\"nome\":"
		"\"F\"}},"
		"\"calendario\":{\"dataInicial\":\"2027-02-30\",\"periodicidade\":\"MENSAL\"},"
		"\"politicaRetentativa\":\"NAO_PERMITE\"}",
		"{\"vinculo\":{\"contrato\":\"c\",\"devedor\":{\"cpf\":\"45164632481\",\"nome\":"
		"\"F\"}},"
		"\"calendario\":{\"dataInicial\":\"2027-03-10\",\"periodicidade\":\"MENSAL\"},"
		"\"politicaRetentativa\":\"SEMPRE\"}",
		"{\"vinculo\":{\"contrato\":\"c\",\"devedor\":{\"cpf\":\"45164632481\",\"nome\":"
		"\"F\"}},"
		"\"calendario\":{\"dataInicial\":\"2027-03-10\",\"periodicidade\":\"MENSAL\"},"
		"\"politicaRetentativa\":\"NAO_PERMITE\",\"loc\":99999999}",
	};
	for (size_t i = 0; i < sizeof(bad_recs) / sizeof(bad_recs[0]); i++) {
		cr_assert_eq(px("POST", "/pix/rec", bad_recs[i], NULL, t, sizeof(t)), 400, "%zu",
			     i);
		cr_assert_str_eq(t, "RecOperacaoInvalida", "%zu", i);
	}
	/* A cobr for a rec that does not exist, a short txid, a bad amount. */
	const char *cobr = "{\"idRec\":\"RR1234567820270301000000000001\",\"calendario\":{"
			   "\"dataDeVencimento\":\"2027-03-10\"},\"valor\":{\"original\":\"1.00\"},"
			   "\"recebedor\":{\"conta\":\"1\",\"tipoConta\":\"CORRENTE\"}}";
	cr_assert_eq(px("PUT", "/pix/cobr/osp0123456789abcdef0123456789abcdef", cobr, NULL, t,
			sizeof(t)),
		     400);
	cr_assert_str_eq(t, "CobROperacaoInvalida");
	cr_assert_eq(px("PUT", "/pix/cobr/short", cobr, NULL, NULL, 0), 400);
	cr_assert_eq(px("PUT", "/pix/cobr/osp0123456789abcdef0123456789abcdef", "{", NULL, NULL, 0),
		     400);
	/* Another organization's objects are not found. */
	{
		h_resp_t *r;
		const char *hdrs[] = {TOKEN, "Content-Type: application/json", NULL};
		r = h_req("POST", "/pix/rec", hdrs,
			  "{\"vinculo\":{\"contrato\":\"c\",\"devedor\":{\"cpf\":\"45164632481\","
			  "\"nome\":\"F\"}},\"calendario\":{\"dataInicial\":\"2027-03-10\","
			  "\"periodicidade\":\"MENSAL\"},\"politicaRetentativa\":\"NAO_PERMITE\"}",
			  0);
		cr_assert_eq(r->status, 201, "%s", r->body);
		char path[96];
		snprintf(path, sizeof(path), "/pix/rec/%s",
			 json_string_value(json_object_get(r->json, "idRec")));
		h_free(r);
		token_for("cGNpZC04OnBzLTg=", other, sizeof(other));
		cr_assert_eq(px("GET", path, NULL, other, t, sizeof(t)), 404);
		cr_assert_str_eq(t, "RecNaoEncontrada");
		cr_assert_eq(px("PATCH", path, "{\"status\":\"CANCELADA\"}", other, NULL, 0), 404);
		cr_assert_eq(px("GET", path, NULL, NULL, NULL, 0), 200);
		/* Only a cancel is a valid PATCH. */
		cr_assert_eq(px("PATCH", path, "{\"status\":\"APROVADA\"}", NULL, NULL, 0), 400);
	}
	/* A webhook URL that is not https. */
	cr_assert_eq(px("PUT", "/pix/webhookcobr", "{\"webhookUrl\":\"http://x/y\"}", NULL, t,
			sizeof(t)),
		     400);
	cr_assert_str_eq(t, "WebhookCobROperacaoInvalida");
}

Test(sandbox_pix, control_calls_refuse_what_the_payer_cannot_do)
{
	h_free(h_ctl("POST", "/control/pix/recs/RR0000/approve", NULL, 404));
	h_free(h_ctl("POST", "/control/pix/cobrs/x/outcomes", "{\"outcomes\":[]}", 404));
	h_free(h_ctl("POST", "/control/pix/cobrs/x/payer-cancel", NULL, 404));
	h_free(h_ctl("POST", "/control/pix/settle", "{\"date\":\"03/10/2027\"}", 400));
	h_free(h_ctl("POST", "/control/pix/settle", "{}", 400));
	{
		const char *hdrs[] = {TOKEN, "Content-Type: application/json", NULL};
		h_resp_t *r =
			h_req("POST", "/pix/rec", hdrs,
			      "{\"vinculo\":{\"contrato\":\"c\",\"devedor\":{\"cpf\":"
			      "\"45164632481\",\"nome\":\"F\"}},\"calendario\":{\"dataInicial\":"
			      "\"2027-03-10\",\"periodicidade\":\"MENSAL\"},"
			      "\"politicaRetentativa\":\"NAO_PERMITE\"}",
			      0);
		char path[128];
		cr_assert_eq(r->status, 201);
		snprintf(path, sizeof(path), "/control/pix/recs/%s/cancel",
			 json_string_value(json_object_get(r->json, "idRec")));
		/* Not approved yet: the payer cannot cancel it, only reject it. */
		h_free(h_ctl("POST", path, NULL, 409));
		snprintf(path, sizeof(path), "/control/pix/recs/%s/approve",
			 json_string_value(json_object_get(r->json, "idRec")));
		h_free(h_ctl("POST", path, "{\"max\":\"12,00\"}", 400));
		h_free(h_ctl("POST", path, NULL, 200));
		h_free(h_ctl("POST", path, NULL, 409));
		h_free(r);
	}
}

/*
 * ospay-sandbox's Pix journeys 3 and 4 over raw HTTP: the cob or cobv with a
 * location of its own, the rec's QR naming both locations (a BR Code with a
 * valid CRC), the payer paying (journey 3: the payment approves the rec;
 * journey 4: only with the opt-in) or letting the QR expire (the rec
 * EXPIRADA), the /pix and /rec callbacks, and what a PSP refuses on the way.
 */
#include "pix_harness.h"

#define COB_TX "J3cob0000000000000000000000001"
#define COBV_TX "J4cobv000000000000000000000001"

TestSuite(sandbox_pix_journeys, .init = px_setup, .fini = h_teardown, .timeout = 60);

static void hooks_registered(void)
{
	h_free(px_ok("PUT", "/pix/webhookrec",
		     "{\"webhookUrl\":\"https://isp.example/w?hmac=hk7&ignorar=\"}", 200));
	h_free(px_ok("PUT", "/pix/webhook/cobranca%40isp.example",
		     "{\"webhookUrl\":\"https://isp.example/w?hmac=hk7&ignorar=\"}", 200));
}

/* PUT /pix/cob/{txid} (R$ 99.90, a debtor, an hour) or /pix/cobv/{txid} (R$ 150.00, due
 * 2027-03-10, a company), asserting expect. */
static void charge_put(bool cobv, const char *txid, long expect)
{
	char path[96];
	snprintf(path, sizeof(path), "/pix/%s/%s", cobv ? "cobv" : "cob", txid);
	h_free(px_ok("PUT", path,
		     cobv ? "{\"calendario\":{\"dataDeVencimento\":\"2027-03-10\"},\"devedor\":{"
			    "\"cnpj\":\"11222333000181\",\"nome\":\"Empresa SA\"},\"valor\":{"
			    "\"original\":\"150.00\"},\"chave\":\"" PX_KEY "\"}"
			  : "{\"calendario\":{\"expiracao\":3600},\"devedor\":{\"cpf\":"
			    "\"12345678909\",\"nome\":\"Francisco da Silva\"},\"valor\":{"
			    "\"original\":\"99.90\"},\"chave\":\"" PX_KEY "\","
			    "\"solicitacaoPagador\":\"Primeira mensalidade\"}",
		     expect));
}

#define cob_put(txid, expect) charge_put(false, (txid), (expect))
#define cobv_put(txid, expect) charge_put(true, (txid), (expect))

/* A rec on a fresh location, for journey 3 when jtxid is not NULL; its idRec into id. */
static void rec_with_loc(const char *jtxid, char id[32])
{
	h_resp_t *r = px_rec_new("12345678909", true, jtxid, 201);
	snprintf(id, 32, "%s", px_str(r->json, "idRec", NULL));
	h_free(r);
}

static h_resp_t *rec_get(const char *id, const char *txid, long expect)
{
	char path[128];
	snprintf(path, sizeof(path), "/pix/rec/%s%s%s", id, txid != NULL ? "?txid=" : "",
		 txid != NULL ? txid : "");
	return px_ok("GET", path, NULL, expect);
}

static h_resp_t *cob_ctl(const char *txid, const char *action, const char *body, long expect)
{
	char path[128];
	snprintf(path, sizeof(path), "/control/pix/cobs/%s/%s", txid, action);
	return h_ctl("POST", path, body, expect);
}

Test(sandbox_pix_journeys, journey_3_paying_the_cob_approves_the_rec)
{
	char id[32], line[512], path[128];
	h_resp_t *c, *q, *p, *g, *rg;
	json_t *hook;

	hooks_registered();
	cob_put(COB_TX, 201);
	c = px_ok("GET", "/pix/cob/" COB_TX, NULL, 200);
	cr_assert_str_eq(px_str(c->json, "status", NULL), "ATIVA");
	cr_assert_str_eq(px_str(c->json, "loc", "tipoCob", NULL), "cob");
	cr_assert(strncmp(px_str(c->json, "location", NULL), "pix.sandbox.ospay/qr/v2/cob/", 28) ==
		  0);
	cr_assert(px_crc_ok(px_str(c->json, "pixCopiaECola", NULL)), "%s",
		  px_str(c->json, "pixCopiaECola", NULL));
	cr_assert_str_eq(px_str(c->json, "devedor", "nome", NULL), "Francisco da Silva");
	cr_assert_eq(json_integer_value(
			     json_object_get(json_object_get(c->json, "calendario"), "expiracao")),
		     3600);
	rec_with_loc(COB_TX, id);

	/* The checker itself, on the BR Code manual's static example. */
	cr_assert(
		px_crc_ok("00020126580014br.gov.bcb.pix0136123e4567-e12b-12d1-a456-4266554400005"
			  "204000053039865802BR5913Fulano de Tal6008BRASILIA62070503***63041D3D"));
	cr_assert_not(px_crc_ok("00020126580014br.gov.bcb.pix63041D3D"));
	/* The QR names the cob's location (tag 26) and the rec's (tag 80). */
	q = rec_get(id, COB_TX, 200);
	cr_assert_str_eq(px_str(q->json, "dadosQR", "jornada", NULL), "JORNADA_3");
	const char *qr = px_str(q->json, "dadosQR", "pixCopiaECola", NULL);
	cr_assert(strncmp(qr, "000201010212", 12) == 0, "%s", qr);
	cr_assert_not_null(strstr(qr, px_str(c->json, "location", NULL)), "%s", qr);
	cr_assert_not_null(strstr(qr, px_str(q->json, "loc", "location", NULL)), "%s", qr);
	cr_assert_not_null(strstr(qr, "80820014br.gov.bcb.pix2560"), "%s", qr);
	cr_assert(px_crc_ok(qr), "%s", qr);

	/* The payer's app cannot approve journey 3 without paying. */
	snprintf(path, sizeof(path), "/control/pix/recs/%s/approve", id);
	h_free(h_ctl("POST", path, NULL, 409));
	h_free(cob_ctl(COB_TX, "pay", "{\"opt_in\":true}", 400));
	p = cob_ctl(COB_TX, "pay", NULL, 200);
	cr_assert_str_eq(px_str(p->json, "rec", "status", NULL), "APROVADA");
	cr_assert_str_eq(px_str(p->json, "rec", "tipoJornada", NULL), "JORNADA_3");

	g = px_ok("GET", "/pix/cob/" COB_TX, NULL, 200);
	cr_assert_str_eq(px_str(g->json, "status", NULL), "CONCLUIDA");
	cr_assert_str_eq(json_string_value(json_object_get(
				 json_array_get(json_object_get(g->json, "pix"), 0), "endToEndId")),
			 px_str(p->json, "endToEndId", NULL));
	cr_assert_null(json_object_get(g->json, "pixCopiaECola"), "a paid QR is gone");
	rg = rec_get(id, NULL, 200);
	cr_assert_str_eq(px_str(rg->json, "status", NULL), "APROVADA");
	cr_assert_str_eq(px_str(rg->json, "ativacao", "tipoJornada", NULL), "JORNADA_3");
	cr_assert_null(json_object_get(rg->json, "dadosQR"));
	h_expect_charges(COB_TX, 1, 1, "the first payment");

	/* /pix first, then /rec, each to the registered URL plus its tail. */
	cr_assert_eq(h_hooks_wait(2, 5000), 2);
	px_hook_line(0, line, sizeof(line));
	cr_assert(strncmp(line, "POST /webhooks/pix/7?hmac=hk7&ignorar=/pix HTTP/1.1", 51) == 0,
		  "%s", line);
	hook = h_hook_json(0);
	cr_assert_str_eq(json_string_value(json_object_get(
				 json_array_get(json_object_get(hook, "pix"), 0), "txid")),
			 COB_TX);
	cr_assert_str_eq(json_string_value(json_object_get(
				 json_array_get(json_object_get(hook, "pix"), 0), "valor")),
			 "99.90");
	json_decref(hook);
	px_hook_line(1, line, sizeof(line));
	cr_assert_not_null(strstr(line, "ignorar=/rec "), "%s", line);
	hook = h_hook_json(1);
	json_t *item = json_array_get(json_object_get(hook, "recs"), 0);
	cr_assert_str_eq(px_str(item, "status", NULL), "APROVADA");
	cr_assert_str_eq(px_str(item, "ativacao", "tipoJornada", NULL), "JORNADA_3");
	json_decref(hook);
	H_FREE_ALL(c, q, p, g, rg);
}

Test(sandbox_pix_journeys, journey_3_unpaid_qr_leaves_the_rec_expired)
{
	char id[32];
	h_resp_t *e, *r, *c;

	cob_put(COB_TX, 201);
	rec_with_loc(COB_TX, id);
	e = cob_ctl(COB_TX, "expire", NULL, 200);
	cr_assert_str_eq(px_str(e->json, "status", NULL), "REMOVIDA_PELO_PSP");
	cr_assert_str_eq(px_str(e->json, "rec", "status", NULL), "EXPIRADA");
	h_free(cob_ctl(COB_TX, "pay", NULL, 409));
	h_free(cob_ctl(COB_TX, "expire", NULL, 409));
	r = rec_get(id, COB_TX, 200);
	cr_assert_str_eq(px_str(r->json, "status", NULL), "EXPIRADA");
	cr_assert_null(json_object_get(r->json, "dadosQR"), "no QR for an expired rec");
	c = px_ok("GET", "/pix/cob/" COB_TX, NULL, 200);
	cr_assert_str_eq(px_str(c->json, "status", NULL), "REMOVIDA_PELO_PSP");
	h_expect_charges(COB_TX, 0, 0, "nothing paid");
	H_FREE_ALL(e, r, c);
}

Test(sandbox_pix_journeys, journey_4_pay_then_opt_in_or_not)
{
	char in[32], out[32];
	h_resp_t *v, *q, *p, *p2, *r2, *q2;

	hooks_registered();
	cobv_put(COBV_TX, 201);
	cobv_put("J4cobv000000000000000000000002", 201);
	v = px_ok("GET", "/pix/cobv/" COBV_TX, NULL, 200);
	cr_assert_str_eq(px_str(v->json, "calendario", "dataDeVencimento", NULL), "2027-03-10");
	cr_assert_eq(json_integer_value(json_object_get(json_object_get(v->json, "calendario"),
							"validadeAposVencimento")),
		     30);
	cr_assert_str_eq(px_str(v->json, "devedor", "cnpj", NULL), "11222333000181");
	rec_with_loc(NULL, in);
	rec_with_loc(NULL, out);
	q = rec_get(in, COBV_TX, 200);
	cr_assert_str_eq(px_str(q->json, "dadosQR", "jornada", NULL), "JORNADA_4");
	cr_assert_not_null(strstr(px_str(q->json, "dadosQR", "pixCopiaECola", NULL),
				  px_str(v->json, "location", NULL)));
	cr_assert(px_crc_ok(px_str(q->json, "dadosQR", "pixCopiaECola", NULL)));
	/* The same cobv cannot be another rec's QR. */
	h_free(rec_get(out, COBV_TX, 400));
	q2 = rec_get(out, "J4cobv000000000000000000000002", 200);

	p = cob_ctl(COBV_TX, "pay", "{\"opt_in\":true}", 200);
	cr_assert_str_eq(px_str(p->json, "status", NULL), "CONCLUIDA");
	cr_assert_str_eq(px_str(p->json, "rec", "status", NULL), "APROVADA");
	cr_assert_str_eq(px_str(p->json, "rec", "tipoJornada", NULL), "JORNADA_4");
	p2 = cob_ctl("J4cobv000000000000000000000002", "pay", "{\"opt_in\":false}", 200);
	cr_assert_str_eq(px_str(p2->json, "status", NULL), "CONCLUIDA");
	cr_assert_str_eq(px_str(p2->json, "rec", "status", NULL), "CRIADA", "paid, not enrolled");
	r2 = rec_get(out, NULL, 200);
	cr_assert_str_eq(px_str(r2->json, "status", NULL), "CRIADA");
	/* Two /pix callbacks and one /rec. */
	cr_assert_eq(h_hooks_wait(3, 5000), 3);
	usleep(200000);
	cr_assert_eq(h_hooks_count(), 3);
	H_FREE_ALL(v, q, p, p2, r2, q2);
}

Test(sandbox_pix_journeys, what_the_psp_refuses)
{
	char id[32], other[32], t[64];
	h_resp_t *r;

	cob_put(COB_TX, 201);
	cob_put(COB_TX, 400);  /* the txid is used */
	cobv_put(COB_TX, 400); /* by a cob: no cobv with it either */
	cobv_put("J4cobv000000000000000000000003", 201);
	/* Another key, no devedor on a cobv, a due date in the past, a bad expiry. */
	cr_assert_eq(px("PUT", "/pix/cob/J3cob0000000000000000000000009",
			"{\"valor\":{\"original\":\"1.00\"},\"chave\":\"other@x\"}", NULL, t,
			sizeof(t)),
		     400);
	cr_assert_str_eq(t, "CobOperacaoInvalida");
	cr_assert_eq(px("PUT", "/pix/cobv/J4cobv000000000000000000000009",
			"{\"calendario\":{\"dataDeVencimento\":\"2027-03-10\"},\"valor\":{"
			"\"original\":\"1.00\"},\"chave\":\"" PX_KEY "\"}",
			NULL, t, sizeof(t)),
		     400);
	cr_assert_str_eq(t, "CobVOperacaoInvalida");
	cr_assert_eq(px("PUT", "/pix/cobv/J4cobv000000000000000000000009",
			"{\"calendario\":{\"dataDeVencimento\":\"2027-02-28\"},\"devedor\":{"
			"\"cpf\":\"12345678909\",\"nome\":\"F\"},\"valor\":{\"original\":\"1.00\"},"
			"\"chave\":\"" PX_KEY "\"}",
			NULL, NULL, 0),
		     400);
	cr_assert_eq(px("PUT", "/pix/cob/J3cob0000000000000000000000009",
			"{\"calendario\":{\"expiracao\":-1},\"valor\":{\"original\":\"1.00\"},"
			"\"chave\":\"" PX_KEY "\"}",
			NULL, NULL, 0),
		     400);
	cr_assert_eq(px("PUT", "/pix/cob/J3cob0000000000000000000000009",
			"{\"valor\":{\"original\":\"1.00\"},\"chave\":\"" PX_KEY
			"\",\"devedor\":{\"nome\":\"F\"}}",
			NULL, NULL, 0),
		     400, "a devedor without a document");
	/* The kinds do not mix: a cobv is no cob, and not another organization's. */
	cr_assert_eq(px("GET", "/pix/cob/J4cobv000000000000000000000003", NULL, NULL, t, sizeof(t)),
		     404);
	cr_assert_str_eq(t, "CobNaoEncontrado");
	{
		char o8[96];
		token_for("cGNpZC04OnBzLTg=", o8, sizeof(o8));
		cr_assert_eq(px("GET", "/pix/cob/" COB_TX, NULL, o8, NULL, 0), 404);
		/* Org 8 has no key configured: any key is its own. */
		cr_assert_eq(px("PUT", "/pix/webhook/any-key",
				"{\"webhookUrl\":\"https://x.example/w\"}", o8, NULL, 0),
			     200);
	}
	cr_assert_eq(px("PUT", "/pix/webhook/other%40x", "{\"webhookUrl\":\"https://x.example/w\"}",
			NULL, NULL, 0),
		     404, "not org 7's key");
	cr_assert_eq(px("GET", "/pix/webhook/cobranca%40isp.example", NULL, NULL, NULL, 0), 404,
		     "none registered yet");
	/* A journey-3 rec needs an active cob of its own and a location. */
	r = px_rec_new("12345678909", false, COB_TX, 400);
	cr_assert_str_eq(px_str(r->json, "type", NULL),
			 "https://pix.bcb.gov.br/api/v2/error/RecOperacaoInvalida");
	h_free(r);
	rec_with_loc(COB_TX, id);
	rec_with_loc(NULL, other);
	/* The cob is taken now; a cobv is not a journey-3 cob. */
	h_free(px_rec_new("12345678909", true, COB_TX, 400));
	h_free(px_rec_new("12345678909", true, "J4cobv000000000000000000000003", 400));
	/* GET /rec?txid=: unknown txid, another rec's cob, a cobv on a journey-3 rec. */
	r = rec_get(id, "J3cob0000000000000000000000404", 400);
	cr_assert_str_eq(px_str(r->json, "type", NULL),
			 "https://pix.bcb.gov.br/api/v2/error/RecConsultaInvalida");
	h_free(r);
	h_free(rec_get(other, COB_TX, 400));
	h_free(rec_get(id, "J4cobv000000000000000000000003", 400));
	/* The control calls. */
	h_free(cob_ctl("nope", "pay", NULL, 404));
	h_free(cob_ctl(COB_TX, "refund", NULL, 404));
}

/*
 * ospay-sandbox's Pix list queries (GET /rec, /cobr, /locrec): the creation
 * window (inicio and fim required), the paging counts of BCB API 2.9.0
 * (paginaAtual from 0, itensPorPagina 1..1000), the filters, another
 * organization's records never listed, and malformed queries refused.
 */
#include "pix_harness.h"

#define ALL "inicio=2000-01-01T00:00:00Z&fim=2100-01-01T00:00:00Z"

TestSuite(sandbox_pix_lists, .init = px_setup, .fini = h_teardown, .timeout = 60);

/* A rec of debtor cpf (on a new location when loc); returns its idRec in id. */
static void rec(const char *cpf, bool loc, char id[32])
{
	h_resp_t *r = px_rec_new(cpf, loc, NULL, 201);
	snprintf(id, 32, "%s", px_str(r->json, "idRec", NULL));
	h_free(r);
}

static void cobr(const char *id_rec, const char *txid, const char *due)
{
	char path[96], body[320], ap[96];
	snprintf(ap, sizeof(ap), "/control/pix/recs/%s/approve", id_rec);
	h_free(h_req("POST", ap, NULL, NULL, 0)); /* 409 once approved: fine */
	snprintf(path, sizeof(path), "/pix/cobr/%s", txid);
	snprintf(body, sizeof(body),
		 "{\"idRec\":\"%s\",\"calendario\":{\"dataDeVencimento\":\"%s\"},\"valor\":{"
		 "\"original\":\"10.00\"},\"recebedor\":{\"conta\":\"1\",\"tipoConta\":"
		 "\"CORRENTE\"}}",
		 id_rec, due);
	h_free(px_ok("PUT", path, body, 201));
}

/* GET path?query; asserts 200 and the total; the caller frees. */
static h_resp_t *list(const char *path, const char *query, long total)
{
	char p[512];
	h_resp_t *r;
	snprintf(p, sizeof(p), "%s?%s", path, query);
	r = px_ok("GET", p, NULL, 200);
	cr_assert_eq(json_integer_value(json_object_get(
			     json_object_get(json_object_get(r->json, "parametros"), "paginacao"),
			     "quantidadeTotalDeItens")),
		     total, "%s: %s", p, r->body);
	return r;
}

static long paging(const h_resp_t *r, const char *k)
{
	return (long)json_integer_value(json_object_get(
		json_object_get(json_object_get(r->json, "parametros"), "paginacao"), k));
}

Test(sandbox_pix_lists, recs_paged_and_filtered)
{
	char a[32], b[32], c[32], o8[96];
	h_resp_t *r;

	rec("11111111111", true, a);
	rec("22222222222", false, b);
	rec("11111111111", false, c);
	r = list("/pix/rec", ALL "&paginacao.itensPorPagina=2", 3);
	cr_assert_eq(paging(r, "quantidadeDePaginas"), 2);
	cr_assert_eq(paging(r, "itensPorPagina"), 2);
	cr_assert_eq(paging(r, "paginaAtual"), 0);
	cr_assert_eq(json_array_size(json_object_get(r->json, "recs")), 2);
	cr_assert_str_eq(px_str(json_array_get(json_object_get(r->json, "recs"), 0), "idRec", NULL),
			 a, "oldest first");
	cr_assert_str_eq(px_str(r->json, "parametros", "inicio", NULL), "2000-01-01T00:00:00Z");
	h_free(r);
	r = list("/pix/rec", ALL "&paginacao.itensPorPagina=2&paginacao.paginaAtual=1", 3);
	cr_assert_eq(json_array_size(json_object_get(r->json, "recs")), 1);
	cr_assert_str_eq(px_str(json_array_get(json_object_get(r->json, "recs"), 0), "idRec", NULL),
			 c);
	h_free(r);
	r = list("/pix/rec", ALL "&paginacao.paginaAtual=9", 3);
	cr_assert_eq(json_array_size(json_object_get(r->json, "recs")), 0, "past the last page");
	h_free(r);
	h_free(list("/pix/rec", ALL "&cpf=11111111111", 2));
	h_free(list("/pix/rec", ALL "&cnpj=11111111111", 0));
	h_free(list("/pix/rec", ALL "&locationPresente=true", 1));
	h_free(list("/pix/rec", ALL "&locationPresente=false&cpf=11111111111", 1));
	h_free(list("/pix/rec", ALL "&status=CRIADA", 3));
	h_free(list("/pix/rec", ALL "&status=APROVADA", 0));
	/* The window is on creation time; an offset's '+' may come encoded or not. */
	h_free(list("/pix/rec", "inicio=2099-01-01T00:00:00Z&fim=2100-01-01T00:00:00Z", 0));
	h_free(list("/pix/rec", "inicio=2000-01-01T00:00:00%2B03:00&fim=2100-01-01T00:00:00-03:00",
		    3));
	/* Another organization sees none of them. */
	token_for("cGNpZC04OnBzLTg=", o8, sizeof(o8));
	{
		const char *hdrs[] = {o8, NULL};
		h_resp_t *x = h_req("GET", "/pix/rec?" ALL, hdrs, NULL, 0);
		cr_assert_eq(x->status, 200);
		cr_assert_eq(json_array_size(json_object_get(x->json, "recs")), 0);
		h_free(x);
	}
	(void)b;
}

Test(sandbox_pix_lists, cobrs_and_locations)
{
	char a[32], b[32];
	h_resp_t *r;

	rec("11111111111", true, a);
	rec("22222222222", false, b);
	cobr(a, "osp00000000000000000000000000000001", "2027-03-10");
	cobr(a, "osp00000000000000000000000000000002", "2027-04-10");
	cobr(b, "osp00000000000000000000000000000003", "2027-03-10");
	r = list("/pix/cobr", ALL, 3);
	cr_assert_str_eq(px_str(json_array_get(json_object_get(r->json, "cobsr"), 2), "txid", NULL),
			 "osp00000000000000000000000000000003");
	cr_assert_eq(json_array_size(json_object_get(
			     json_array_get(json_object_get(r->json, "cobsr"), 0), "tentativas")),
		     1, "the full cobr");
	h_free(r);
	h_free(list("/pix/cobr", ALL "&idRec=", 3));
	{
		char q[160];
		snprintf(q, sizeof(q), ALL "&idRec=%s", a);
		h_free(list("/pix/cobr", q, 2));
	}
	h_free(list("/pix/cobr", ALL "&cpf=22222222222", 1));
	h_free(list("/pix/cobr", ALL "&status=ATIVA", 3));
	h_free(list("/pix/cobr", ALL "&status=CONCLUIDA", 0));
	/* Locations: one used by a rec, one free. */
	h_free(px_ok("POST", "/pix/locrec", NULL, 201));
	r = list("/pix/locrec", ALL, 2);
	cr_assert_str_eq(px_str(json_array_get(json_object_get(r->json, "loc"), 0), "idRec", NULL),
			 a);
	cr_assert_neq(
		px_str(json_array_get(json_object_get(r->json, "loc"), 0), "criacao", NULL)[0],
		'\0');
	h_free(r);
	h_free(list("/pix/locrec", ALL "&idRecPresente=true", 1));
	h_free(list("/pix/locrec", ALL "&idRecPresente=false", 1));
}

Test(sandbox_pix_lists, malformed_queries_are_problems)
{
	static const struct {
		const char *path, *type;
	} bad[] = {
		{"/pix/rec", "RecConsultaInvalida"},
		{"/pix/rec?inicio=2000-01-01T00:00:00Z", "RecConsultaInvalida"},
		{"/pix/rec?inicio=yesterday&fim=2100-01-01T00:00:00Z", "RecConsultaInvalida"},
		{"/pix/rec?inicio=2100-01-01T00:00:00Z&fim=2000-01-01T00:00:00Z",
		 "RecConsultaInvalida"},
		{"/pix/rec?" ALL "&paginacao.itensPorPagina=0", "RecConsultaInvalida"},
		{"/pix/rec?" ALL "&paginacao.itensPorPagina=1001", "RecConsultaInvalida"},
		{"/pix/rec?" ALL "&paginacao.paginaAtual=-1", "RecConsultaInvalida"},
		{"/pix/rec?" ALL "&paginacao.paginaAtual=1x", "RecConsultaInvalida"},
		{"/pix/rec?" ALL "&cpf=1&cnpj=2", "RecConsultaInvalida"},
		{"/pix/rec?" ALL "&locationPresente=yes", "RecConsultaInvalida"},
		{"/pix/cobr?fim=2100-01-01T00:00:00Z", "CobRConsultaInvalida"},
		{"/pix/locrec?" ALL "&idRecPresente=1", "PayloadLocationRecConsultaInvalida"},
	};
	char t[64];
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		cr_assert_eq(px("GET", bad[i].path, NULL, NULL, t, sizeof(t)), 400, "%s",
			     bad[i].path);
		cr_assert_str_eq(t, bad[i].type, "%s", bad[i].path);
	}
	cr_assert_eq(px("GET", "/pix/rec?" ALL, NULL, "Authorization: Bearer x", NULL, 0), 401);
}

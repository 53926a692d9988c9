/*
 * Pix Automático through a PSP speaking the Central Bank's API Pix (BCB API
 * 2.9.0: Efí, Inter, Cielo API Pix): OAuth2 client credentials over mutual
 * TLS, locrec, rec, solicrec, cobr (PUT by our txid, GET, PATCH cancel,
 * retentativa), cob and cobv (the first payments of journeys 3 and 4) and
 * webhook registration. What differs between PSPs is one row of pix_profiles
 * (docs/pix-automatico.md, "Adapter").
 *
 * The token is shared by concurrent calls (they wait for one fetch) and
 * refreshed before it expires; a 401 drops the token the call was sent with
 * and re-sends once: a 401 means nothing was processed.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <mbedtls/base64.h>

#include "common/crypto.h"
#include "common/util.h"
#include "core/date.h"
#include "core/pix.h"
#include "gateways/gw_internal.h"

#define PIX "pix"
#define PIX_PEM_MAX (64u * 1024u)

/* Which token request a PSP wants. */
enum pix_token_style {
	PIX_TOKEN_FORM = 0,   /* Basic + grant_type=client_credentials (RFC 6749) */
	PIX_TOKEN_JSON,       /* Basic + {"grant_type":"client_credentials"} (Efí) */
	PIX_TOKEN_FORM_SCOPE, /* form with client_id, client_secret and scopes (Inter) */
};

typedef struct pix_profile {
	const char *name;
	const char *prefix;     /* before every API path: "/v2" */
	const char *token_path; /* from the base URL */
	enum pix_token_style token_style;
	/* Efí: "x-skip-mtls-checking: true" on webhook registration, so ospay's
	 * listener authenticates the callback by the secret in its URL. */
	bool skip_mtls_header;
} pix_profile_t;

/* Reference §9; the token paths of Inter and Cielo are not public and are assumptions. */
static const pix_profile_t pix_profiles[] = {
	{"bcb", "", "/oauth/token", PIX_TOKEN_FORM, false},
	{"efi", "/v2", "/oauth/token", PIX_TOKEN_JSON, true},
	{"inter", "/pix/v2", "/oauth/v2/token", PIX_TOKEN_FORM_SCOPE, false},
	{"cielo", "/cielo-pix/v1", "/cielo-pix/v1/oauth/token", PIX_TOKEN_FORM, false},
};

static const char pix_scopes[] =
	"rec.read rec.write solicrec.read solicrec.write cobr.read cobr.write "
	"payloadlocationrec.read payloadlocationrec.write webhookrec.read webhookrec.write "
	"webhookcobr.read webhookcobr.write cob.read cob.write cobv.read cobv.write "
	"webhook.read webhook.write";

static const pix_profile_t *pix_profile_find(const char *name)
{
	for (size_t i = 0; i < OSPAY_ARRAY_LEN(pix_profiles); i++)
		if (strcmp(pix_profiles[i].name, name != NULL ? name : "bcb") == 0)
			return &pix_profiles[i];
	return NULL;
}

/* ------------------------------------------------------------------ configuration */

static bool pix_pem_ok(const char *s)
{
	return s != NULL && strlen(s) <= PIX_PEM_MAX && gw_text_multiline_ok(s, PIX_PEM_MAX);
}

static bool pix_account_type_ok(const char *s)
{
	return s == NULL || strcmp(s, "CORRENTE") == 0 || strcmp(s, "POUPANCA") == 0 ||
	       strcmp(s, "PAGAMENTO") == 0;
}

/* A Pix key: 1..77 bytes of text without spaces (it goes, encoded, into a path). */
static bool pix_key_ok(const char *s)
{
	return gw_text_ok(s, 77) && strchr(s, ' ') == NULL;
}

static int pix_check_config(const gw_config_t *cfg, status_t *st)
{
	if (pix_profile_find(cfg->pix_profile) == NULL)
		status_violation(st, "pix_profile", "one of bcb, efi, inter, cielo");
	if (cfg->client_id == NULL)
		status_violation(st, "client_id", "required for Pix");
	if (cfg->client_secret == NULL)
		status_violation(st, "client_secret", "required for Pix");
	if (cfg->client_id != NULL && strchr(cfg->client_id, ':') != NULL)
		status_violation(st, "client_id", "must not contain ':'");
	if (cfg->pix_account == NULL || strlen(cfg->pix_account) > 20)
		status_violation(st, "pix_account", "the receiver's account, 1..20 bytes");
	if (cfg->pix_branch != NULL && strlen(cfg->pix_branch) > 4)
		status_violation(st, "pix_branch", "at most 4 bytes");
	if (!pix_account_type_ok(cfg->pix_account_type))
		status_violation(st, "pix_account_type", "CORRENTE, POUPANCA or PAGAMENTO");
	if ((cfg->client_cert_pem == NULL) != (cfg->client_key_pem == NULL))
		status_violation(st, "client_cert_pem", "certificate and key go together");
	if (cfg->client_cert_pem != NULL &&
	    (!pix_pem_ok(cfg->client_cert_pem) || !pix_pem_ok(cfg->client_key_pem)))
		status_violation(st, "client_cert_pem", "PEM text of at most 64 KiB each");
	if (cfg->webhook_secret == NULL)
		status_violation(st, "webhook_secret", "required: it authenticates callbacks");
	if (cfg->pix_key != NULL && !pix_key_ok(cfg->pix_key))
		status_violation(st, "pix_key", "the receiver's Pix key, 1..77 bytes, no spaces");
	return st->code == ST_OK ? 0 : -EINVAL;
}

static int pix_fetch_token(gw_t *gw);
static int pix_send_now(gw_call_t *call);
static void pix_prep(gw_call_t *call);

static int pix_priv_init(gw_t *gw)
{
	return gw_oauth_priv_init(gw, PIX, pix_fetch_token, pix_send_now, pix_prep);
}

uint32_t gw_pix_token_fetches(const gw_t *gw)
{
	return gw->cfg.kind == GW_KIND_PIX ? gw->oauth->fetches : 0;
}

/* ------------------------------------------------------------------ answers */

static bool pix_is_solicrec(gw_op_t op)
{
	return op == GW_OP_PIX_SOLICREC || op == GW_OP_PIX_QUERY_SOLICREC ||
	       op == GW_OP_PIX_CANCEL_SOLICREC;
}

static bool pix_is_cob(gw_op_t op)
{
	return op == GW_OP_PIX_PUT_COB || op == GW_OP_PIX_QUERY_COB || op == GW_OP_PIX_PUT_COBV ||
	       op == GW_OP_PIX_QUERY_COBV;
}

/* A cob's or cobv's status (BCB StatusCobranca). */
static gw_outcome_t pix_cob_outcome(const char *status)
{
	if (strcmp(status, "ATIVA") == 0)
		return GW_OUTCOME_PENDING;
	if (strcmp(status, "CONCLUIDA") == 0)
		return GW_OUTCOME_APPROVED;
	if (strcmp(status, "REMOVIDA_PELO_USUARIO_RECEBEDOR") == 0 ||
	    strcmp(status, "REMOVIDA_PELO_PSP") == 0)
		return GW_OUTCOME_CANCELED;
	return GW_OUTCOME_UNKNOWN;
}

static gw_outcome_t pix_outcome_of(gw_op_t op, const char *status)
{
	static const struct {
		const char *word;
		gw_outcome_t rec, cobr, solicrec;
	} t[] = {
		{"CRIADA", GW_OUTCOME_PENDING, GW_OUTCOME_PENDING, GW_OUTCOME_PENDING},
		{"APROVADA", GW_OUTCOME_APPROVED, GW_OUTCOME_UNKNOWN, GW_OUTCOME_UNKNOWN},
		{"ATIVA", GW_OUTCOME_UNKNOWN, GW_OUTCOME_PENDING, GW_OUTCOME_UNKNOWN},
		{"CONCLUIDA", GW_OUTCOME_UNKNOWN, GW_OUTCOME_APPROVED, GW_OUTCOME_UNKNOWN},
		{"ENVIADA", GW_OUTCOME_UNKNOWN, GW_OUTCOME_UNKNOWN, GW_OUTCOME_PENDING},
		{"RECEBIDA", GW_OUTCOME_UNKNOWN, GW_OUTCOME_UNKNOWN, GW_OUTCOME_PENDING},
		{"ACEITA", GW_OUTCOME_UNKNOWN, GW_OUTCOME_UNKNOWN, GW_OUTCOME_APPROVED},
		{"REJEITADA", GW_OUTCOME_DECLINED, GW_OUTCOME_DECLINED, GW_OUTCOME_DECLINED},
		{"EXPIRADA", GW_OUTCOME_EXPIRED, GW_OUTCOME_DECLINED, GW_OUTCOME_EXPIRED},
		{"CANCELADA", GW_OUTCOME_CANCELED, GW_OUTCOME_CANCELED, GW_OUTCOME_CANCELED},
	};
	if (pix_is_cob(op))
		return pix_cob_outcome(status);
	for (size_t i = 0; i < OSPAY_ARRAY_LEN(t); i++) {
		if (strcmp(t[i].word, status) != 0)
			continue;
		if (pix_is_solicrec(op))
			return t[i].solicrec;
		if (op == GW_OP_PIX_PUT_COBR || op == GW_OP_PIX_QUERY_COBR ||
		    op == GW_OP_PIX_CANCEL_COBR || op == GW_OP_PIX_RETRY_COBR)
			return t[i].cobr;
		return t[i].rec;
	}
	return GW_OUTCOME_UNKNOWN;
}

static bool pix_is_cobr(gw_op_t op)
{
	return op == GW_OP_PIX_PUT_COBR || op == GW_OP_PIX_QUERY_COBR ||
	       op == GW_OP_PIX_CANCEL_COBR || op == GW_OP_PIX_RETRY_COBR;
}

/* RFC 7807 problem: code = the last segment of "type", message = detail or title. */
static void pix_problem(const gw_t *gw, const http_response_t *res, bool mutating,
			gw_pix_result_t *out)
{
	gw_parse_t p = {0};
	json_t *j = NULL;
	char type[256] = "", msg[GW_MSG_MAX] = "";
	const char *slash;

	gw_reply_from_http(&out->r, res, mutating, PIX);
	if (res->error < 0 || res->body_len == 0)
		goto out;
	j = gw_json_parse(&p, res->body, res->body_len);
	if (j == NULL || !json_is_object(j))
		goto out;
	gw_get_str(&p, j, "", "type", type, sizeof(type), GW_F_TRUNC);
	if (!gw_get_str(&p, j, "", "detail", msg, sizeof(msg), GW_F_TRUNC))
		gw_get_str(&p, j, "", "title", msg, sizeof(msg), GW_F_TRUNC);
	slash = strrchr(type, '/');
	gw_copy(out->r.code, sizeof(out->r.code), slash != NULL ? slash + 1 : type);
	if (msg[0] != '\0') {
		char full[GW_MSG_MAX];
		snprintf(full, sizeof(full), "pix: %s", msg);
		gw_reply_message(gw, &out->r, full);
	}
out:
	json_decref(j);
}

static void pix_read_end(gw_parse_t *p, const json_t *obj, gw_pix_result_t *out)
{
	json_t *end = gw_get_object(p, obj, "", "encerramento", 0);
	json_t *c = gw_get_object(p, end, "encerramento", "cancelamento", 0);
	json_t *r = gw_get_object(p, end, "encerramento", "rejeicao", 0);

	if (c != NULL) {
		gw_get_str(p, c, "cancelamento", "solicitante", out->ended_by,
			   sizeof(out->ended_by), 0);
		gw_get_str(p, c, "cancelamento", "codigo", out->end_code, sizeof(out->end_code), 0);
	} else if (r != NULL) {
		gw_get_str(p, r, "rejeicao", "codigo", out->end_code, sizeof(out->end_code), 0);
	}
}

/* pix[0].endToEndId: the Pix that paid a cobr, cob or cobv. */
static void pix_read_paid(gw_parse_t *p, const json_t *pix, gw_pix_result_t *out)
{
	if (pix != NULL && json_array_size(pix) > 0)
		gw_get_str(p, json_array_get(pix, 0), "pix", "endToEndId", out->end_to_end_id,
			   sizeof(out->end_to_end_id), GW_F_REQ | GW_F_ID);
}

/* A cob or cobv (BCB CobCompleta / CobVCompleta): no idRec, a location of its own. */
static void pix_read_cob(gw_parse_t *p, const json_t *j, gw_pix_result_t *out)
{
	json_t *o, *loc;

	gw_get_str(p, j, "", "txid", out->txid, sizeof(out->txid), GW_F_REQ | GW_F_ID);
	o = gw_get_object(p, j, "", "valor", GW_F_REQ);
	gw_get_reais(p, o, "valor", "original", &out->amount_cents, GW_F_REQ);
	o = gw_get_object(p, j, "", "calendario", 0);
	gw_get_str(p, o, "calendario", "dataDeVencimento", out->due_date, sizeof(out->due_date), 0);
	gw_get_str(p, j, "", "pixCopiaECola", out->copia_e_cola, sizeof(out->copia_e_cola), 0);
	gw_get_str(p, j, "", "location", out->location, sizeof(out->location), 0);
	loc = gw_get_object(p, j, "", "loc", 0);
	gw_get_int_lenient(p, loc, "loc", "id", &out->loc_id, 1, INT64_MAX, 0);
	if (out->location[0] == '\0')
		gw_get_str(p, loc, "loc", "location", out->location, sizeof(out->location), 0);
	pix_read_paid(p, gw_get_array(p, j, "", "pix", 0), out);
}

static void pix_read_attempts(gw_parse_t *p, const json_t *obj, gw_pix_result_t *out)
{
	json_t *a = gw_get_array(p, obj, "", "tentativas", 0);
	json_t *pix = gw_get_array(p, obj, "", "pix", 0);
	size_t n = a != NULL ? json_array_size(a) : 0;

	/* The latest attempts matter: keep the last GW_PIX_MAX_ATTEMPTS. */
	for (size_t i = n > GW_PIX_MAX_ATTEMPTS ? n - GW_PIX_MAX_ATTEMPTS : 0; i < n; i++) {
		json_t *t = json_array_get(a, i);
		gw_pix_attempt_t *at = &out->attempts[out->n_attempts++];
		json_t *rej;
		if (!json_is_object(t)) {
			gw_parse_fail(p, "tentativas: not objects");
			return;
		}
		gw_get_str(p, t, "tentativa", "dataLiquidacao", at->date, sizeof(at->date), 0);
		gw_get_str(p, t, "tentativa", "tipo", at->kind, sizeof(at->kind), 0);
		gw_get_str(p, t, "tentativa", "status", at->status, sizeof(at->status), GW_F_REQ);
		gw_get_str(p, t, "tentativa", "endToEndId", at->end_to_end_id,
			   sizeof(at->end_to_end_id), GW_F_ID);
		rej = gw_get_object(p, t, "tentativa", "rejeicao", 0);
		gw_get_str(p, rej, "rejeicao", "codigo", at->reason, sizeof(at->reason), 0);
	}
	pix_read_paid(p, pix, out);
}

/* The cobr's ospay outcome from its words (core/pix.h), and the result's outcome. */
static void pix_cobr_detail(gw_pix_result_t *out)
{
	pix_attempt_view_t last = {0};
	enum pix_outcome o;

	if (out->n_attempts > 0) {
		last.status = out->attempts[out->n_attempts - 1].status;
		last.reason = out->attempts[out->n_attempts - 1].reason;
	}
	if (pix_cobr_outcome(out->status, out->n_attempts > 0 ? &last : NULL, out->end_code, &o) ==
	    0)
		out->outcome_detail =
			(int)(o == PIX_OUT_CANCELED ? pix_cobr_canceled_by(out->ended_by) : o);
}

void gw_pix_parse(const gw_t *gw, gw_op_t op, const http_response_t *res, bool mutating,
		  gw_pix_result_t *out)
{
	gw_parse_t p = {0};
	json_t *j = NULL;
	json_t *o;
	long want =
		(op == GW_OP_PIX_LOCATION || op == GW_OP_PIX_CREATE_REC ||
		 op == GW_OP_PIX_SOLICREC || op == GW_OP_PIX_PUT_COBR ||
		 op == GW_OP_PIX_RETRY_COBR || op == GW_OP_PIX_PUT_COB || op == GW_OP_PIX_PUT_COBV)
			? 201
			: 200;

	/* PATCH /solicrec answers 201 (sic); some PSPs answer 200 to creates. */
	if (res->error < 0 || (res->status != want && res->status != 200 && res->status != 201)) {
		pix_problem(gw, res, mutating, out);
		goto out;
	}
	out->r.http_status = res->status;
	j = gw_json_parse(&p, res->body, res->body_len);
	if (j != NULL && !json_is_object(j))
		gw_parse_fail(&p, "expected an object");
	if (p.err != 0)
		goto bad;
	if (op == GW_OP_PIX_LOCATION || op == GW_OP_PIX_QUERY_LOCATION) {
		gw_get_int_lenient(&p, j, "", "id", &out->loc_id, 1, INT64_MAX, GW_F_REQ);
		gw_get_str(&p, j, "", "location", out->location, sizeof(out->location), GW_F_REQ);
		gw_get_str(&p, j, "", "idRec", out->id_rec, sizeof(out->id_rec), GW_F_ID);
		if (p.err != 0)
			goto bad;
		out->r.outcome = GW_OUTCOME_APPROVED;
		goto out;
	}
	gw_get_str(&p, j, "", "status", out->status, sizeof(out->status), GW_F_REQ);
	if (pix_is_cob(op)) {
		pix_read_cob(&p, j, out);
		if (p.err != 0)
			goto bad;
		goto verdict;
	}
	gw_get_str(&p, j, "", "idRec", out->id_rec, sizeof(out->id_rec), GW_F_REQ | GW_F_ID);
	if (pix_is_solicrec(op))
		gw_get_str(&p, j, "", "idSolicRec", out->id_solicrec, sizeof(out->id_solicrec),
			   GW_F_REQ | GW_F_ID);
	gw_get_str(&p, j, "", "politicaRetentativa", out->policy, sizeof(out->policy), 0);
	pix_read_end(&p, j, out);
	if (pix_is_cobr(op)) {
		gw_get_str(&p, j, "", "txid", out->txid, sizeof(out->txid), GW_F_REQ | GW_F_ID);
		o = gw_get_object(&p, j, "", "valor", GW_F_REQ);
		gw_get_reais(&p, o, "valor", "original", &out->amount_cents, GW_F_REQ);
		o = gw_get_object(&p, j, "", "calendario", 0);
		gw_get_str(&p, o, "calendario", "dataDeVencimento", out->due_date,
			   sizeof(out->due_date), 0);
		pix_read_attempts(&p, j, out);
	} else if (!pix_is_solicrec(op)) {
		json_t *act = gw_get_object(&p, j, "", "ativacao", 0);
		json_t *qr = gw_get_object(&p, j, "", "dadosQR", 0);
		json_t *loc = gw_get_object(&p, j, "", "loc", 0);
		o = gw_get_object(&p, j, "", "valor", 0);
		gw_get_reais(&p, o, "valor", "valorRec", &out->amount_cents, 0);
		/* 2.9.0's example puts tipoJornada inside dadosJornada: read both. */
		if (!gw_get_str(&p, act, "ativacao", "tipoJornada", out->journey,
				sizeof(out->journey), 0))
			gw_get_str(&p, gw_get_object(&p, act, "ativacao", "dadosJornada", 0),
				   "dadosJornada", "tipoJornada", out->journey,
				   sizeof(out->journey), 0);
		gw_get_str(&p, qr, "dadosQR", "pixCopiaECola", out->copia_e_cola,
			   sizeof(out->copia_e_cola), 0);
		/* The QR's journey wins when there is one (it names J2/J3/J4 before approval). */
		if (json_object_get(qr, "jornada") != NULL)
			gw_get_str(&p, qr, "dadosQR", "jornada", out->journey, sizeof(out->journey),
				   0);
		gw_get_int_lenient(&p, loc, "loc", "id", &out->loc_id, 1, INT64_MAX, 0);
		gw_get_str(&p, loc, "loc", "location", out->location, sizeof(out->location), 0);
	}
	if (p.err != 0)
		goto bad;
verdict:
	out->r.outcome = pix_outcome_of(op, out->status);
	if (out->r.outcome == GW_OUTCOME_UNKNOWN) {
		/* A status word this object never has: a lie or a new version; re-query. */
		gw_parse_fail(&p, "status: unknown word");
		goto bad;
	}
	out->r.error = 0;
	if (pix_is_cobr(op))
		pix_cobr_detail(out);
	gw_copy(out->r.code, sizeof(out->r.code), out->end_code);
	goto out;
bad:
	gw_reply_malformed(&out->r, res->status, mutating, PIX, p.why);
out:
	json_decref(j);
}

/* ------------------------------------------------------------------ the token */

static void pix_on_http(const http_response_t *res, void *arg);

/* A cobr's, cob's or cobv's txid is ours: its result keeps it however the call ends. */
static void pix_prep(gw_call_t *call)
{
	if ((pix_is_cobr(call->op) || pix_is_cob(call->op)) && call->res.pix.txid[0] == '\0')
		gw_copy(call->res.pix.txid, sizeof(call->res.pix.txid), call->merchant_order_id);
}

static int pix_fetch_token(gw_t *gw)
{
	const pix_profile_t *prof = pix_profile_find(gw->cfg.pix_profile);
	char url[GW_URL_MAX];
	char body[1600];
	char id[1100], secret[1100];
	http_header_t h[3];
	size_t nh = 0;
	http_request_t req = {0};
	int n = snprintf(url, sizeof(url), "%s%s", gw->base_url, prof->token_path);
	int rc = 0;

	if (n < 0 || (size_t)n >= sizeof(url))
		return -E2BIG;
	h[nh++] = (http_header_t){"Accept", "application/json"};
	switch (prof->token_style) {
	case PIX_TOKEN_JSON:
		h[nh++] = (http_header_t){"Authorization", gw->oauth->basic};
		h[nh++] = (http_header_t){"Content-Type", "application/json"};
		n = snprintf(body, sizeof(body), "{\"grant_type\":\"client_credentials\"}");
		break;
	case PIX_TOKEN_FORM_SCOPE:
		h[nh++] = (http_header_t){"Content-Type", "application/x-www-form-urlencoded"};
		if (gw_url_encode(gw->cfg.client_id, id, sizeof(id)) < 0 ||
		    gw_url_encode(gw->cfg.client_secret, secret, sizeof(secret)) < 0) {
			rc = -E2BIG;
			goto out;
		}
		n = snprintf(body, sizeof(body),
			     "client_id=%s&client_secret=%s&grant_type=client_credentials&scope=%s",
			     id, secret, pix_scopes);
		for (char *s = strstr(body, "&scope="); s != NULL && *s; s++)
			if (*s == ' ')
				*s = '+';
		break;
	default:
		h[nh++] = (http_header_t){"Authorization", gw->oauth->basic};
		h[nh++] = (http_header_t){"Content-Type", "application/x-www-form-urlencoded"};
		n = snprintf(body, sizeof(body), "grant_type=client_credentials");
		break;
	}
	if (n < 0 || (size_t)n >= sizeof(body)) {
		rc = -E2BIG;
		goto out;
	}
	req.url = url;
	req.headers = h;
	req.n_headers = nh;
	req.body = body;
	req.body_len = (size_t)n;
	rc = gw_oauth_fetch(gw, &req);
out:
	crypto_wipe(body, sizeof(body));
	crypto_wipe(secret, sizeof(secret));
	return rc;
}

static int pix_send_now(gw_call_t *call)
{
	gw_t *gw = call->gw;
	const pix_profile_t *prof = pix_profile_find(gw->cfg.pix_profile);
	char auth[GW_OAUTH_TOKEN_MAX + 8];
	http_header_t h[4];
	size_t n = 0;
	int rc;

	gw_oauth_bearer(call, auth, sizeof(auth));
	h[n++] = (http_header_t){"Authorization", auth};
	h[n++] = (http_header_t){"Accept", "application/json"};
	if (call->body != NULL)
		h[n++] = (http_header_t){"Content-Type", call->content_type};
	if (call->op == GW_OP_PIX_WEBHOOK && prof->skip_mtls_header)
		h[n++] = (http_header_t){"x-skip-mtls-checking", "true"};
	rc = gw_http_send(call, h, n, pix_on_http);
	crypto_wipe(auth, sizeof(auth));
	return rc;
}

static void pix_on_http(const http_response_t *res, void *arg)
{
	gw_call_t *call = arg;
	gw_pix_result_t *out = &call->res.pix;

	if (gw_oauth_resend_401(call, res))
		return;
	if (call->op == GW_OP_PIX_WEBHOOK) {
		if (res->error == 0 && res->status >= 200 && res->status < 300) {
			out->r.outcome = GW_OUTCOME_APPROVED;
			out->r.http_status = res->status;
		} else {
			pix_problem(call->gw, res, true, out);
		}
	} else {
		gw_pix_parse(call->gw, call->op, res, call->mutating, out);
		if (call->op == GW_OP_PIX_LOCATION || call->op == GW_OP_PIX_CREATE_REC ||
		    call->op == GW_OP_PIX_SOLICREC)
			gw_reply_create_404(&out->r);
	}
	pix_prep(call);
	gw_call_finish(call);
}

/* ------------------------------------------------------------------ requests */

static bool pix_doc_ok(const char *s)
{
	size_t n = s != NULL ? strlen(s) : 0;
	if (n == 11)
		return gw_str_charset(s, 11, gw_is_digit);
	if (n != 14)
		return false;
	for (size_t i = 0; i < n; i++)
		if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'A' && s[i] <= 'Z')))
			return false;
	return true;
}

static bool pix_date_ok(const char *s)
{
	int64_t d;
	return s != NULL && date_parse(s, &d) == 0;
}

static json_t *pix_money(int64_t cents, int *rc)
{
	char m[PIX_MONEY_SIZE];
	if (pix_money_format(cents, m) < 0) {
		*rc = -EINVAL;
		return NULL;
	}
	return json_string(m);
}

static void pix_doc_set(json_t *obj, const char *doc, int *rc)
{
	gw_jset(obj, strlen(doc) == 11 ? "cpf" : "cnpj", json_string(doc), rc);
}

/* Hands a built body over, or drops it: a constructor's failure is -ENOMEM. */
static int pix_built(json_t *b, int rc, json_t **out)
{
	if (rc < 0) {
		json_decref(b);
		b = NULL;
		if (rc != -EINVAL)
			rc = -ENOMEM;
	}
	*out = b;
	return rc;
}

int gw_pix_build_rec(const gw_t *gw, const gw_pix_rec_req_t *req, json_t **out)
{
	static const char *const periods[] = {"SEMANAL", "MENSAL", "TRIMESTRAL", "SEMESTRAL",
					      "ANUAL"};
	const char *period = req->periodicity != NULL ? req->periodicity : "MENSAL";
	json_t *b = NULL, *v, *dev, *cal, *val;
	bool period_ok = false;
	int rc = 0;

	(void)gw;
	for (size_t i = 0; i < OSPAY_ARRAY_LEN(periods); i++)
		period_ok = period_ok || strcmp(period, periods[i]) == 0;
	if (!gw_text_ok(req->contract, 35) || (req->object && !gw_text_ok(req->object, 35)) ||
	    !pix_doc_ok(req->debtor_doc) || !gw_text_ok(req->debtor_name, 140) ||
	    !pix_date_ok(req->first_date) || (req->last_date && !pix_date_ok(req->last_date)) ||
	    (req->last_date && strcmp(req->last_date, req->first_date) < 0) || !period_ok ||
	    req->fixed_cents < 0 || req->floor_cents < 0 ||
	    (req->fixed_cents > 0 && req->floor_cents > 0) || req->loc_id < 0 ||
	    (req->journey_txid && !pix_txid_valid(req->journey_txid))) {
		rc = -EINVAL;
		goto out;
	}
	b = json_object();
	v = gw_jobject_at(b, "vinculo", &rc);
	gw_jset(v, "contrato", json_string(req->contract), &rc);
	if (req->object)
		gw_jset(v, "objeto", json_string(req->object), &rc);
	dev = gw_jobject_at(v, "devedor", &rc);
	pix_doc_set(dev, req->debtor_doc, &rc);
	gw_jset(dev, "nome", json_string(req->debtor_name), &rc);
	cal = gw_jobject_at(b, "calendario", &rc);
	gw_jset(cal, "dataInicial", json_string(req->first_date), &rc);
	if (req->last_date)
		gw_jset(cal, "dataFinal", json_string(req->last_date), &rc);
	gw_jset(cal, "periodicidade", json_string(period), &rc);
	if (req->fixed_cents > 0 || req->floor_cents > 0) {
		val = gw_jobject_at(b, "valor", &rc);
		if (req->fixed_cents > 0)
			gw_jset(val, "valorRec", pix_money(req->fixed_cents, &rc), &rc);
		else
			gw_jset(val, "valorMinimoRecebedor", pix_money(req->floor_cents, &rc), &rc);
	}
	gw_jset(b, "politicaRetentativa",
		json_string(req->retries ? "PERMITE_3R_7D" : "NAO_PERMITE"), &rc);
	if (req->loc_id > 0)
		gw_jset(b, "loc", json_integer(req->loc_id), &rc);
	if (req->journey_txid) {
		json_t *a = gw_jobject_at(b, "ativacao", &rc);

		gw_jset(gw_jobject_at(a, "dadosJornada", &rc), "txid",
			json_string(req->journey_txid), &rc);
	}
out:
	return pix_built(b, rc, out);
}

int gw_pix_build_cobr(const gw_t *gw, const gw_pix_cobr_req_t *req, json_t **out)
{
	json_t *b = NULL, *cal, *val, *rec;
	int rc = 0;

	if (!pix_txid_valid(req->txid) || !pix_idrec_valid(req->id_rec) ||
	    !pix_date_ok(req->due_date) || req->amount_cents <= 0 ||
	    req->amount_cents > PIX_MONEY_MAX_CENTAVOS ||
	    (req->info && !gw_text_ok(req->info, 140))) {
		rc = -EINVAL;
		goto out;
	}
	b = json_object();
	gw_jset(b, "idRec", json_string(req->id_rec), &rc);
	if (req->info)
		gw_jset(b, "infoAdicional", json_string(req->info), &rc);
	cal = gw_jobject_at(b, "calendario", &rc);
	gw_jset(cal, "dataDeVencimento", json_string(req->due_date), &rc);
	val = gw_jobject_at(b, "valor", &rc);
	gw_jset(val, "original", pix_money(req->amount_cents, &rc), &rc);
	/* The PSP moves a closed day to the next business day of the payer's town. */
	gw_jset(b, "ajusteDiaUtil", json_true(), &rc);
	rec = gw_jobject_at(b, "recebedor", &rc);
	if (gw->cfg.pix_branch)
		gw_jset(rec, "agencia", json_string(gw->cfg.pix_branch), &rc);
	gw_jset(rec, "conta", json_string(gw->cfg.pix_account), &rc);
	gw_jset(rec, "tipoConta",
		json_string(gw->cfg.pix_account_type ? gw->cfg.pix_account_type : "CORRENTE"), &rc);
out:
	return pix_built(b, rc, out);
}

/* What cob and cobv share: devedor, valor.original, chave, solicitacaoPagador. */
static void pix_cob_common(json_t *b, const gw_t *gw, int64_t amount, const char *doc,
			   const char *name, const char *info, int *rc)
{
	if (doc != NULL) {
		json_t *dev = gw_jobject_at(b, "devedor", rc);

		pix_doc_set(dev, doc, rc);
		gw_jset(dev, "nome", json_string(name), rc);
	}
	gw_jset(gw_jobject_at(b, "valor", rc), "original", pix_money(amount, rc), rc);
	gw_jset(b, "chave", json_string(gw->cfg.pix_key), rc);
	if (info != NULL)
		gw_jset(b, "solicitacaoPagador", json_string(info), rc);
}

static bool pix_cob_fields_ok(const gw_t *gw, const char *txid, int64_t amount, const char *info)
{
	return gw->cfg.pix_key != NULL && pix_txid_valid(txid) && amount > 0 &&
	       amount <= PIX_MONEY_MAX_CENTAVOS && (info == NULL || gw_text_ok(info, 140));
}

/* PUT /cob/{txid} (CobSolicitada): no "loc", so the PSP gives the cob its own. */
static int pix_build_cob(const gw_t *gw, const gw_pix_cob_req_t *req, json_t **out)
{
	json_t *b = NULL, *cal;
	int rc = 0;

	/* BCB devedor: cpf or cnpj with nome (<= 200), or no devedor at all. */
	if (!pix_cob_fields_ok(gw, req->txid, req->amount_cents, req->info) ||
	    req->expires_s > INT32_MAX ||
	    (req->debtor_doc != NULL
		     ? !pix_doc_ok(req->debtor_doc) || !gw_text_ok(req->debtor_name, 200)
		     : req->debtor_name != NULL)) {
		rc = -EINVAL;
		goto out;
	}
	b = json_object();
	cal = gw_jobject_at(b, "calendario", &rc);
	gw_jset(cal, "expiracao", json_integer(req->expires_s != 0 ? req->expires_s : 86400), &rc);
	pix_cob_common(b, gw, req->amount_cents, req->debtor_doc, req->debtor_name, req->info, &rc);
out:
	return pix_built(b, rc, out);
}

/* PUT /cobv/{txid} (CobVSolicitada): the debtor is required. */
static int pix_build_cobv(const gw_t *gw, const gw_pix_cobv_req_t *req, json_t **out)
{
	json_t *b = NULL, *cal;
	int rc = 0;

	if (!pix_cob_fields_ok(gw, req->txid, req->amount_cents, req->info) ||
	    !pix_date_ok(req->due_date) || req->validity_days > 3650 ||
	    !pix_doc_ok(req->debtor_doc) || !gw_text_ok(req->debtor_name, 200)) {
		rc = -EINVAL;
		goto out;
	}
	b = json_object();
	cal = gw_jobject_at(b, "calendario", &rc);
	gw_jset(cal, "dataDeVencimento", json_string(req->due_date), &rc);
	gw_jset(cal, "validadeAposVencimento",
		json_integer(req->validity_days != 0 ? req->validity_days : 30), &rc);
	pix_cob_common(b, gw, req->amount_cents, req->debtor_doc, req->debtor_name, req->info, &rc);
out:
	return pix_built(b, rc, out);
}

static int pix_status_body(gw_call_t *call, const char *status)
{
	json_t *b = json_object();
	int rc = 0;

	gw_jset(b, "status", json_string(status), &rc);
	if (rc == 0)
		rc = gw_call_set_json(call, b);
	json_decref(b);
	return rc;
}

/* A query (GET) or, for the op given, a cancellation (PATCH status CANCELADA) of the same path. */
static int pix_get_or_cancel(gw_call_t *call, gw_op_t cancel_op)
{
	if (call->op != cancel_op) {
		call->method = "GET";
		return 0;
	}
	call->method = "PATCH";
	return pix_status_body(call, "CANCELADA");
}

/* The body and path of each call, then the send. */
static int pix_call(gw_call_t *call, const void *a, const void *b)
{
	const pix_profile_t *prof = pix_profile_find(call->gw->cfg.pix_profile);
	const char *pre = prof->prefix;
	json_t *body = NULL;
	int rc = 0;

	switch (call->op) {
	case GW_OP_PIX_LOCATION:
		call->method = "POST";
		rc = gw_call_path(call, "%s/locrec", pre);
		break;
	case GW_OP_PIX_QUERY_LOCATION:
		call->method = "GET";
		rc = gw_call_path(call, "%s/locrec/%" PRId64, pre, *(const int64_t *)a);
		break;
	case GW_OP_PIX_CREATE_REC:
		call->method = "POST";
		rc = gw_pix_build_rec(call->gw, a, &body);
		if (rc == 0)
			rc = gw_call_path(call, "%s/rec", pre);
		break;
	case GW_OP_PIX_QUERY_REC:
	case GW_OP_PIX_CANCEL_REC: {
		const char *txid = b;
		if (!pix_idrec_valid(a) || (txid != NULL && !pix_txid_valid(txid))) {
			rc = -EINVAL;
			break;
		}
		rc = pix_get_or_cancel(call, GW_OP_PIX_CANCEL_REC);
		if (rc == 0)
			rc = txid != NULL ? gw_call_path(call, "%s/rec/%s?txid=%s", pre,
							 (const char *)a, txid)
					  : gw_call_path(call, "%s/rec/%s", pre, (const char *)a);
		break;
	}
	case GW_OP_PIX_SOLICREC: {
		const gw_pix_solicrec_req_t *r = a;
		json_t *cal, *dest;
		int64_t ms;
		if (!pix_idrec_valid(r->id_rec) || r->expires_at == NULL ||
		    util_parse_rfc3339(r->expires_at, &ms) != 0 || !pix_doc_ok(r->doc) ||
		    !gw_str_charset(r->ispb, 8, gw_is_alnum) || strlen(r->ispb) != 8 ||
		    !gw_str_charset(r->account, 20, gw_is_alnum) ||
		    (r->branch && !gw_str_charset(r->branch, 4, gw_is_digit))) {
			rc = -EINVAL;
			break;
		}
		body = json_object();
		gw_jset(body, "idRec", json_string(r->id_rec), &rc);
		cal = gw_jobject_at(body, "calendario", &rc);
		gw_jset(cal, "dataExpiracaoSolicitacao", json_string(r->expires_at), &rc);
		dest = gw_jobject_at(body, "destinatario", &rc);
		gw_jset(dest, "conta", json_string(r->account), &rc);
		gw_jset(dest, "ispbParticipante", json_string(r->ispb), &rc);
		if (r->branch)
			gw_jset(dest, "agencia", json_string(r->branch), &rc);
		pix_doc_set(dest, r->doc, &rc);
		call->method = "POST";
		if (rc == 0)
			rc = gw_call_path(call, "%s/solicrec", pre);
		break;
	}
	case GW_OP_PIX_QUERY_SOLICREC:
	case GW_OP_PIX_CANCEL_SOLICREC:
		/* SC + 8 + yyyyMMdd + 11: 29 letters and digits. */
		if (!gw_str_charset(a, 29, gw_is_alnum) || strlen(a) != 29) {
			rc = -EINVAL;
			break;
		}
		rc = pix_get_or_cancel(call, GW_OP_PIX_CANCEL_SOLICREC);
		if (rc == 0)
			rc = gw_call_path(call, "%s/solicrec/%s", pre, (const char *)a);
		break;
	case GW_OP_PIX_PUT_COBR: {
		const gw_pix_cobr_req_t *r = a;
		call->method = "PUT";
		rc = gw_pix_build_cobr(call->gw, r, &body);
		if (rc == 0)
			rc = gw_call_path(call, "%s/cobr/%s", pre, r->txid);
		if (rc == 0)
			gw_copy(call->merchant_order_id, sizeof(call->merchant_order_id), r->txid);
		break;
	}
	case GW_OP_PIX_QUERY_COBR:
	case GW_OP_PIX_CANCEL_COBR:
	case GW_OP_PIX_RETRY_COBR:
		if (!pix_txid_valid(a) || (b != NULL && !pix_date_ok(b))) {
			rc = -EINVAL;
			break;
		}
		gw_copy(call->merchant_order_id, sizeof(call->merchant_order_id), a);
		if (call->op != GW_OP_PIX_RETRY_COBR) {
			rc = pix_get_or_cancel(call, GW_OP_PIX_CANCEL_COBR);
			if (rc == 0)
				rc = gw_call_path(call, "%s/cobr/%s", pre, (const char *)a);
		} else {
			call->method = "POST";
			rc = gw_call_path(call, "%s/cobr/%s/retentativa/%s", pre, (const char *)a,
					  (const char *)b);
		}
		break;
	case GW_OP_PIX_PUT_COB:
	case GW_OP_PIX_PUT_COBV: {
		const char *txid = call->op == GW_OP_PIX_PUT_COB
					   ? ((const gw_pix_cob_req_t *)a)->txid
					   : ((const gw_pix_cobv_req_t *)a)->txid;
		call->method = "PUT";
		rc = call->op == GW_OP_PIX_PUT_COB ? pix_build_cob(call->gw, a, &body)
						   : pix_build_cobv(call->gw, a, &body);
		if (rc == 0)
			rc = gw_call_path(call, "%s/%s/%s", pre,
					  call->op == GW_OP_PIX_PUT_COB ? "cob" : "cobv", txid);
		if (rc == 0)
			gw_copy(call->merchant_order_id, sizeof(call->merchant_order_id), txid);
		break;
	}
	case GW_OP_PIX_QUERY_COB:
	case GW_OP_PIX_QUERY_COBV:
		if (!pix_txid_valid(a)) {
			rc = -EINVAL;
			break;
		}
		call->method = "GET";
		gw_copy(call->merchant_order_id, sizeof(call->merchant_order_id), a);
		rc = gw_call_path(call, "%s/%s/%s", pre,
				  call->op == GW_OP_PIX_QUERY_COB ? "cob" : "cobv",
				  (const char *)a);
		break;
	case GW_OP_PIX_WEBHOOK: {
		const gw_pix_hook_t *hook = a;
		char url[GW_URL_MAX], enc[1100], key[256] = "";
		json_t *w;
		int n;
		if (strncmp(b, "https://", 8) != 0 || !gw_text_ok(b, 1024) ||
		    strchr(b, '?') != NULL || strchr(b, '#') != NULL ||
		    gw_url_encode(call->gw->cfg.webhook_secret, enc, sizeof(enc)) < 0 ||
		    (*hook == GW_PIX_HOOK_PIX &&
		     (call->gw->cfg.pix_key == NULL ||
		      gw_url_encode(call->gw->cfg.pix_key, key, sizeof(key)) < 0))) {
			rc = -EINVAL;
			break;
		}
		n = snprintf(url, sizeof(url), "%s?hmac=%s&ignorar=", (const char *)b, enc);
		crypto_wipe(enc, sizeof(enc));
		if (n < 0 || (size_t)n >= sizeof(url)) {
			rc = -E2BIG;
			break;
		}
		body = json_object();
		w = json_string(url);
		crypto_wipe(url, sizeof(url));
		gw_jset(body, "webhookUrl", w, &rc);
		call->method = "PUT";
		if (rc == 0 && *hook == GW_PIX_HOOK_PIX)
			rc = gw_call_path(call, "%s/webhook/%s", pre, key);
		else if (rc == 0)
			rc = gw_call_path(call, "%s/%s", pre,
					  *hook == GW_PIX_HOOK_REC ? "webhookrec" : "webhookcobr");
		break;
	}
	default:
		rc = -ENOTSUP;
		break;
	}
	if (rc == 0 && body != NULL)
		rc = gw_call_set_json(call, body);
	if (rc == 0)
		rc = gw_oauth_send(call);
	json_decref(body);
	return rc;
}

/* ------------------------------------------------------------------ webhooks */

static int pix_verify_webhook(const gw_t *gw, const gw_webhook_req_t *req)
{
	char tok[1100];
	int rc = gw_form_get(req->query, req->query != NULL ? strlen(req->query) : 0, "hmac", tok,
			     sizeof(tok));
	/* Compared even when absent or repeated, so every path costs the same. */
	bool eq = gw_secret_equal(tok, rc == 0 ? strlen(tok) : 0, gw->cfg.webhook_secret);

	crypto_wipe(tok, sizeof(tok));
	return rc == 0 && eq ? 0 : -EACCES;
}

/*
 * {"recs":[{idRec,status,...}]}, {"cobsr":[{idRec,txid,status,...}]} or
 * {"pix":[{endToEndId,txid,valor,horario}]} (a Pix received on a cob or cobv:
 * PAYMENT_STATUS with payment_id = its txid, order_ref = endToEndId, no
 * recurrence_id, hint "CONCLUIDA"). The event names the first item (what to
 * re-query); a batch's other items are named by the same re-query of the
 * whole list later (docs/pix-automatico.md).
 */
static int pix_parse_webhook(const gw_t *gw, const gw_webhook_req_t *req, gw_event_t *ev)
{
	gw_parse_t p = {0};
	json_t *j = gw_json_parse(&p, req->body, req->body_len);
	json_t *recs = NULL, *cobrs = NULL, *pix = NULL, *item;
	int rc = -EBADMSG;
	char sum[65];
	uint8_t h[32];

	(void)gw;
	if (j == NULL || !json_is_object(j)) {
		snprintf(ev->error, sizeof(ev->error), "not a JSON object");
		goto out;
	}
	recs = gw_get_array(&p, j, "", "recs", 0);
	cobrs = gw_get_array(&p, j, "", "cobsr", 0);
	pix = gw_get_array(&p, j, "", "pix", 0);
	if ((recs != NULL) + (cobrs != NULL) + (pix != NULL) != 1) {
		snprintf(ev->error, sizeof(ev->error), "expected one of recs, cobsr or pix");
		goto out;
	}
	item = json_array_get(recs != NULL ? recs : cobrs != NULL ? cobrs : pix, 0);
	if (!json_is_object(item)) {
		snprintf(ev->error, sizeof(ev->error), "empty or malformed list");
		goto out;
	}
	if (pix != NULL) {
		/* A Pix without a txid was not paid on one of our charges. */
		gw_get_str(&p, item, "pix", "txid", ev->payment_id, sizeof(ev->payment_id),
			   GW_F_REQ | GW_F_ID);
		gw_get_str(&p, item, "pix", "endToEndId", ev->order_ref, sizeof(ev->order_ref),
			   GW_F_REQ | GW_F_ID);
		gw_copy(ev->hint, sizeof(ev->hint), "CONCLUIDA");
		ev->kind = GW_EVENT_PAYMENT_STATUS;
		goto done;
	}
	gw_get_str(&p, item, "item", "idRec", ev->recurrence_id, sizeof(ev->recurrence_id),
		   GW_F_REQ | GW_F_ID);
	gw_get_str(&p, item, "item", "status", ev->hint, sizeof(ev->hint), GW_F_REQ);
	if (cobrs != NULL) {
		gw_get_str(&p, item, "item", "txid", ev->payment_id, sizeof(ev->payment_id),
			   GW_F_REQ | GW_F_ID);
		ev->kind = GW_EVENT_PAYMENT_STATUS;
	} else {
		ev->kind = GW_EVENT_RECURRENCE;
	}
done:
	if (p.err != 0) {
		snprintf(ev->error, sizeof(ev->error), "%s", p.why);
		goto out;
	}
	/* No event ids in the BCB shape: identical bodies get identical ids. */
	crypto_sha256(req->body, req->body_len, NULL, 0, h);
	crypto_hex(h, 16, sum);
	gw_event_id_derive(ev, "pix:%s", sum);
	rc = 0;
out:
	json_decref(j);
	return rc;
}

const gw_adapter_t gw_pix_adapter = {
	.kind = GW_KIND_PIX,
	.name = "pix",
	.title = "Pix Automático",
	.check_config = pix_check_config,
	.priv_init = pix_priv_init,
	.priv_free = gw_oauth_priv_free,
	.pix = pix_call,
	.verify_webhook = pix_verify_webhook,
	.parse_webhook = pix_parse_webhook,
};

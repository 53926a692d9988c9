/*
 * A PSP speaking the Central Bank's API Pix for Pix Automático (BCB API 2.9.0
 * shape, docs/sandbox.md "Pix Automático"): OAuth2 client credentials, locrec,
 * rec, solicrec, cobr (PUT by the receiver's txid, GET, PATCH cancel,
 * retentativa), cob and cobv (journeys 3 and 4, with the EMV QR of each
 * journey), webhook registration and the /rec, /cobr and /pix callbacks. The
 * payer's side is driven through the control API: the payer approves,
 * rejects, lets expire or cancels a rec; pays a journey-3 cob (which
 * approves its rec) or a journey-4 cobv (opting in or not) or lets it
 * expire; the payer's bank settles each scheduled attempt on its date with
 * the outcome queued for that cobr (paid by default, or a reject code).
 */
#include "sandbox/sbx_int.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <mbedtls/base64.h>

#include "common/crypto.h"
#include "common/util.h"

#define PX_HOOK_ATTEMPTS 4
#define PX_ISPB "12345678"
#define PX_MAX_ATTEMPTS 4 /* the original and three retries */
#define PX_MAX_OUTCOMES 8
#define PX_TOKEN_TTL_MS (3600 * 1000)

typedef struct px_loc {
	list_node_t age;
	sbx_hnode_t by_id;
	uint64_t org;
	char id[24];
	char location[128];
	char id_rec[30];
	int64_t created_ms;
} px_loc_t;

typedef struct px_rec {
	list_node_t age;
	sbx_hnode_t by_id;
	uint64_t org;
	char id[30];
	char status[12];
	char policy[16];
	char contract[40];
	char object[40];
	char doc_key[8]; /* "cpf" or "cnpj" */
	char doc[16];
	char name[144];
	char first_date[11];
	char last_date[11];
	char period[12];
	int64_t fixed;   /* centavos, 0 = variable */
	int64_t floor;   /* centavos, 0 = none */
	int64_t max;     /* the payer's maximum set at approval, 0 = none */
	char loc_id[24]; /* "" = none */
	char journey[24];
	char jtxid[36];
	char end_by[20];
	char end_code[8];
	char id_solic[30];
	char solic_status[12];
	int64_t created_ms;
} px_rec_t;

typedef struct px_attempt {
	char date[11];
	char kind[5];
	char status[12];
	char e2e[33];
	char reason[8];
} px_attempt_t;

typedef struct px_cobr {
	list_node_t age;
	sbx_hnode_t by_txid;
	uint64_t org;
	char txid[36];
	char id_rec[30];
	char status[12];
	char due[11];
	char created[11];
	int64_t amount;
	char info[144];
	char end_by[20];
	char end_code[8];
	size_t n_att;
	px_attempt_t att[PX_MAX_ATTEMPTS];
	char paid_e2e[33];
	int64_t paid_ms;
	int64_t created_ms;
	/* what the payer's bank does with each coming attempt: "" paid, else a reject code */
	size_t n_out, next_out;
	char outcomes[PX_MAX_OUTCOMES][8];
} px_cobr_t;

/* An immediate (cob, journey 3) or due-date (cobv, journey 4) charge. */
typedef struct px_cob {
	list_node_t age;
	sbx_hnode_t by_txid;
	uint64_t org;
	bool cobv;
	char txid[36];
	char status[32]; /* ATIVA, CONCLUIDA, REMOVIDA_PELO_USUARIO_RECEBEDOR, REMOVIDA_PELO_PSP */
	int64_t amount;
	int64_t expires_s; /* cob: calendario.expiracao */
	char due[11];      /* cobv: dataDeVencimento */
	int64_t validity;  /* cobv: validadeAposVencimento */
	char doc_key[8];   /* "" = no devedor */
	char doc[16];
	char name[204];
	char key[80];
	char info[144];
	char loc_id[24];
	char location[128];
	char id_rec[30]; /* the rec its QR activates (journey 3 or 4), "" = none */
	char paid_e2e[33];
	int64_t paid_ms;
	int64_t created_ms;
} px_cob_t;

/* Whole-cobr reject codes (BCB API 2.9.0 CobRTentativas.rejeicao). */
static const char *const px_whole_codes[] = {"AC05", "AM09", "DENC", "DS27", "DTED",
					     "MIDI", "MSUC", "NITX", "RC09"};

/* ------------------------------------------------------------------ state */

int sbx_pix_init(sbx_t *s)
{
	const sbx_table_spec_t tables[] = {
		{.table = &s->px_locs,
		 .cap = SBX_MAX_PX_RECS,
		 .idx = {SBX_INDEX(&s->px_loc_by_id, px_loc_t, by_id, id)}},
		{.table = &s->px_recs,
		 .cap = SBX_MAX_PX_RECS,
		 .idx = {SBX_INDEX(&s->px_rec_by_id, px_rec_t, by_id, id)}},
		{.table = &s->px_cobrs,
		 .cap = SBX_MAX_PX_COBRS,
		 .idx = {SBX_INDEX(&s->px_cobr_by_txid, px_cobr_t, by_txid, txid)}},
		{.table = &s->px_cobs,
		 .cap = SBX_MAX_PX_COBS,
		 .idx = {SBX_INDEX(&s->px_cob_by_txid, px_cob_t, by_txid, txid)}},
	};
	return sbx_tables_open(s, tables, OSPAY_ARRAY_LEN(tables));
}

/* ------------------------------------------------------------------ dates and money */

/* Day numbers (days since 1970-01-01) of proleptic Gregorian dates. */
static int64_t px_days(int y, int m, int d)
{
	y -= m <= 2;
	int64_t era = (y >= 0 ? y : y - 399) / 400;
	int64_t yoe = y - era * 400;
	int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + doe - 719468;
}

static void px_civil(int64_t z, int *y, int *m, int *d)
{
	z += 719468;
	int64_t era = (z >= 0 ? z : z - 146096) / 146097;
	int64_t doe = z - era * 146097;
	int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	int64_t mp = (5 * doy + 2) / 153;
	*d = (int)(doy - (153 * mp + 2) / 5 + 1);
	*m = (int)(mp < 10 ? mp + 3 : mp - 9);
	*y = (int)(yoe + era * 400 + (*m <= 2));
}

/* Strict YYYY-MM-DD of an existing day; false otherwise. */
static bool px_date(const char *s, int64_t *day)
{
	int y, m, d, yy, mm, dd;
	if (s == NULL || strlen(s) != 10 || s[4] != '-' || s[7] != '-')
		return false;
	for (int i = 0; i < 10; i++)
		if (i != 4 && i != 7 && (s[i] < '0' || s[i] > '9'))
			return false;
	y = atoi(s);
	m = atoi(s + 5);
	d = atoi(s + 8);
	if (m < 1 || m > 12 || d < 1 || d > 31)
		return false;
	*day = px_days(y, m, d);
	px_civil(*day, &yy, &mm, &dd);
	return yy == y && mm == m && dd == d;
}

static void px_date_fmt(int64_t day, char out[11])
{
	int y, m, d;
	px_civil(day, &y, &m, &d);
	snprintf(out, 11, "%04d-%02d-%02d", y, m, d);
}

/* "Today" of the emulated payer's bank: set by /control/pix/settle, else the wall clock (UTC-3). */
static int64_t px_today(const sbx_t *s)
{
	if (s->px_today != 0)
		return s->px_today;
	return (util_wall_ms() - 3 * 3600 * 1000) / 86400000;
}

static bool px_money(const char *s, int64_t *cents)
{
	int64_t v = 0;
	size_t i = 0;
	if (s == NULL)
		return false;
	for (; s[i] >= '0' && s[i] <= '9'; i++) {
		if (i >= 10)
			return false;
		v = v * 10 + (s[i] - '0');
	}
	if (i == 0 || s[i] != '.' || s[i + 1] < '0' || s[i + 1] > '9' || s[i + 2] < '0' ||
	    s[i + 2] > '9' || s[i + 3] != '\0')
		return false;
	*cents = v * 100 + (s[i + 1] - '0') * 10 + (s[i + 2] - '0');
	return true;
}

static json_t *px_money_json(int64_t cents)
{
	char b[32];
	snprintf(b, sizeof(b), "%" PRId64 ".%02" PRId64, cents / 100, cents % 100);
	return json_string(b);
}

static bool px_alnum(const char *s, size_t min, size_t max)
{
	size_t n = s != NULL ? strlen(s) : 0;
	if (n < min || n > max)
		return false;
	for (size_t i = 0; i < n; i++)
		if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'z') ||
		      (s[i] >= 'A' && s[i] <= 'Z')))
			return false;
	return true;
}

/* ------------------------------------------------------------------ answers */

/* RFC 7807 problem, BCB types. */
static void px_problem(sbx_resp_t *rs, int status, const char *type, const char *detail)
{
	char t[160];
	snprintf(t, sizeof(t), "https://pix.bcb.gov.br/api/v2/error/%s", type);
	sbx_resp_json(rs, status,
		      json_pack("{s:s, s:s, s:i, s:s}", "type", t, "title", type, "status", status,
				"detail", detail));
	rs->content_type = "application/problem+json";
}

static px_rec_t *px_rec_find(sbx_t *s, const sbx_org_t *org, const char *id)
{
	sbx_hnode_t *n = sbx_htab_find(&s->px_rec_by_id, id);
	px_rec_t *r = n != NULL ? container_of(n, px_rec_t, by_id) : NULL;
	return r != NULL && r->org == org->id ? r : NULL;
}

static px_cobr_t *px_cobr_find(sbx_t *s, const sbx_org_t *org, const char *txid)
{
	sbx_hnode_t *n = sbx_htab_find(&s->px_cobr_by_txid, txid);
	px_cobr_t *c = n != NULL ? container_of(n, px_cobr_t, by_txid) : NULL;
	return c != NULL && c->org == org->id ? c : NULL;
}

static px_cob_t *px_cob_find(sbx_t *s, const sbx_org_t *org, const char *txid)
{
	sbx_hnode_t *n = sbx_htab_find(&s->px_cob_by_txid, txid);
	px_cob_t *c = n != NULL ? container_of(n, px_cob_t, by_txid) : NULL;
	return c != NULL && (org == NULL || c->org == org->id) ? c : NULL;
}

/* CRC-16/CCITT-FALSE (poly 0x1021, init 0xFFFF): the BR Code's tag 63. */
static unsigned px_crc16(const char *s, size_t n)
{
	unsigned crc = 0xFFFF;
	for (size_t i = 0; i < n; i++) {
		crc ^= (unsigned)(unsigned char)s[i] << 8;
		for (int b = 0; b < 8; b++)
			crc = (crc & 0x8000) ? ((crc << 1) ^ 0x1021) & 0xFFFF : (crc << 1) & 0xFFFF;
	}
	return crc;
}

/* Appends an EMV field (id, two-digit length, value) when it fits in 99 bytes. */
static void px_tlv(char *out, size_t cap, const char *id, const char *val)
{
	size_t at = strlen(out), n = strlen(val);
	if (n <= 99)
		snprintf(out + at, cap - at, "%s%02zu%s", id, n, val);
}

/* The GUI with a location: 00 "br.gov.bcb.pix", 25 the URL without scheme. */
static void px_gui_loc(char *out, size_t cap, const char *location)
{
	out[0] = '\0';
	px_tlv(out, cap, "00", "br.gov.bcb.pix");
	if (location != NULL)
		px_tlv(out, cap, "25", location);
}

/*
 * A BR Code in the shape of reference §7: tag 26 names the cob or cobv's
 * location (journeys 3, 4) or only the GUI (journey 2); tag 80 the rec's
 * location (NULL for a plain cob's own QR); 63 the CRC of everything before
 * its value.
 */
static void px_emv(char out[400], const char *cob_loc, const char *rec_loc)
{
	char sub[160];
	size_t n;

	out[0] = '\0';
	px_tlv(out, 400, "00", "01");
	if (cob_loc != NULL)
		px_tlv(out, 400, "01", "12");
	px_gui_loc(sub, sizeof(sub), cob_loc);
	px_tlv(out, 400, "26", sub);
	px_tlv(out, 400, "52", "0000");
	px_tlv(out, 400, "53", "986");
	px_tlv(out, 400, "58", "BR");
	px_tlv(out, 400, "59", "SANDBOX ISP");
	px_tlv(out, 400, "60", "SAO PAULO");
	px_tlv(out, 400, "62", "0503***");
	if (rec_loc != NULL) {
		px_gui_loc(sub, sizeof(sub), rec_loc);
		px_tlv(out, 400, "80", sub);
	}
	n = strlen(out);
	snprintf(out + n, 400 - n, "6304");
	snprintf(out + n + 4, 400 - n - 4, "%04X", px_crc16(out, n + 4));
}

static json_t *px_end_json(const char *by, const char *code)
{
	if (code[0] == '\0')
		return NULL;
	if (by[0] == '\0')
		return json_pack("{s:{s:s, s:s}}", "rejeicao", "codigo", code, "descricao",
				 "rejeitada");
	return json_pack("{s:{s:s, s:s, s:s}}", "cancelamento", "solicitante", by, "codigo", code,
			 "descricao", "cancelada");
}

static json_t *px_rec_json(sbx_t *s, const px_rec_t *r, bool full, const px_cob_t *qr_cob)
{
	json_t *dev = json_pack("{s:s, s:s}", r->doc_key, r->doc, "nome", r->name);
	json_t *cal =
		json_pack("{s:s, s:s}", "dataInicial", r->first_date, "periodicidade", r->period);
	json_t *j;
	json_t *end = px_end_json(r->end_by, r->end_code);
	char at[32];

	if (r->last_date[0] != '\0')
		json_object_set_new(cal, "dataFinal", json_string(r->last_date));
	sbx_time_iso(r->created_ms, at);
	j = json_pack("{s:s, s:s, s:{s:s, s:o}, s:o, s:s, s:{s:s, s:s}, s:[{s:s, s:s}]}", "idRec",
		      r->id, "status", r->status, "vinculo", "contrato", r->contract, "devedor",
		      dev, "calendario", cal, "politicaRetentativa", r->policy, "recebedor", "cnpj",
		      "11222333000181", "nome", "Sandbox ISP", "atualizacao", "status", "CRIADA",
		      "data", at);
	if (r->object[0] != '\0')
		json_object_set_new(json_object_get(j, "vinculo"), "objeto",
				    json_string(r->object));
	if (r->fixed > 0)
		json_object_set_new(j, "valor",
				    json_pack("{s:o}", "valorRec", px_money_json(r->fixed)));
	else if (r->floor > 0)
		json_object_set_new(
			j, "valor",
			json_pack("{s:o}", "valorMinimoRecebedor", px_money_json(r->floor)));
	json_object_set_new(j, "ativacao", json_pack("{s:s}", "tipoJornada", r->journey));
	if (r->jtxid[0] != '\0')
		json_object_set_new(json_object_get(j, "ativacao"), "dadosJornada",
				    json_pack("{s:s}", "txid", r->jtxid));
	if (end != NULL)
		json_object_set_new(j, "encerramento", end);
	if (r->loc_id[0] != '\0') {
		sbx_hnode_t *n = sbx_htab_find(&s->px_loc_by_id, r->loc_id);
		px_loc_t *l = n != NULL ? container_of(n, px_loc_t, by_id) : NULL;
		if (l != NULL)
			json_object_set_new(j, "loc",
					    json_pack("{s:I, s:s, s:s}", "id",
						      (json_int_t)strtoll(l->id, NULL, 10),
						      "location", l->location, "idRec", r->id));
		/* The QR of journeys 2, 3 and 4, while the payer can still use it. */
		if (full && l != NULL && strcmp(r->status, "CRIADA") == 0 &&
		    (qr_cob == NULL || strcmp(qr_cob->status, "ATIVA") == 0)) {
			char qr[400];
			px_emv(qr, qr_cob != NULL ? qr_cob->location : NULL, l->location);
			json_object_set_new(j, "dadosQR",
					    json_pack("{s:s, s:s}", "jornada",
						      qr_cob == NULL ? "JORNADA_2"
						      : qr_cob->cobv ? "JORNADA_4"
								     : "JORNADA_3",
						      "pixCopiaECola", qr));
		}
	}
	return j;
}

/* One Pix received (BCB Pix): what pix[] lists and the /pix callback carries. */
static json_t *px_pix_json(const char *e2e, const char *txid, int64_t amount, int64_t ms)
{
	char at[32];
	sbx_time_iso(ms, at);
	return json_pack("{s:s, s:s, s:o, s:s}", "endToEndId", e2e, "txid", txid, "valor",
			 px_money_json(amount), "horario", at);
}

static json_t *px_cobr_json(const px_cobr_t *c, const char *policy)
{
	json_t *att = json_array();
	json_t *end = px_end_json(c->end_by, c->end_code);
	json_t *j;

	for (size_t i = 0; i < c->n_att; i++) {
		const px_attempt_t *a = &c->att[i];
		json_t *t = json_pack("{s:s, s:s, s:s, s:s}", "dataLiquidacao", a->date, "tipo",
				      a->kind, "status", a->status, "endToEndId", a->e2e);
		if (a->reason[0] != '\0')
			json_object_set_new(t, "rejeicao",
					    json_pack("{s:s, s:s}", "codigo", a->reason,
						      "descricao", "rejeitada"));
		json_array_append_new(att, t);
	}
	j = json_pack("{s:s, s:s, s:s, s:{s:s, s:s}, s:{s:o}, s:s, s:b, s:{s:s, s:s, s:s}, s:o}",
		      "idRec", c->id_rec, "txid", c->txid, "status", c->status, "calendario",
		      "criacao", c->created, "dataDeVencimento", c->due, "valor", "original",
		      px_money_json(c->amount), "politicaRetentativa", policy, "ajusteDiaUtil",
		      true, "recebedor", "cnpj", "11222333000181", "conta", "012682", "tipoConta",
		      "CORRENTE", "tentativas", att);
	if (c->info[0] != '\0')
		json_object_set_new(j, "infoAdicional", json_string(c->info));
	if (end != NULL)
		json_object_set_new(j, "encerramento", end);
	if (c->paid_e2e[0] != '\0')
		json_object_set_new(
			j, "pix",
			json_pack("[o]", px_pix_json(c->paid_e2e, c->txid, c->amount, c->paid_ms)));
	return j;
}

static const char *px_policy_of(sbx_t *s, const sbx_org_t *org, const px_cobr_t *c)
{
	px_rec_t *r = px_rec_find(s, org, c->id_rec);
	return r != NULL ? r->policy : "NAO_PERMITE";
}

enum px_hook { PX_HOOK_REC, PX_HOOK_COBR, PX_HOOK_PIX };

/* Queues the /rec, /cobr or /pix callback when ospay registered one (steals item). */
static void px_notify(sbx_t *s, const sbx_org_t *org, enum px_hook kind, json_t *item)
{
	static const char *const list[] = {"recs", "cobsr", "pix"};
	static const char *const tail[] = {"rec", "cobr", "pix"};
	static const char *const ref[] = {"idRec", "txid", "txid"};
	const char *q = kind == PX_HOOK_REC    ? org->px_hook_rec
			: kind == PX_HOOK_COBR ? org->px_hook_cobr
					       : org->px_hook_pix;
	static const char *const hdr[][2] = {{"Content-Type", "application/json"}};
	char path[400], summary[128], cred[300] = "";
	json_t *j = json_pack("{s:[o]}", list[kind], item);
	char *body = NULL;

	if (q[0] == '\0' || j == NULL)
		goto out;
	body = json_dumps(j, JSON_COMPACT);
	if (body == NULL)
		goto out;
	/* The PSP appends /rec, /cobr or /pix to the registered URL (its query included). */
	snprintf(path, sizeof(path), "?%s/%s", q, tail[kind]);
	sbx_form_get(q, strlen(q), "hmac", cred, sizeof(cred));
	snprintf(summary, sizeof(summary), "%s %s status=%s", tail[kind], sbx_jstr(item, ref[kind]),
		 kind == PX_HOOK_PIX ? "CONCLUIDA" : sbx_jstr(item, "status"));
	sbx_hook_emit(s, "pix", org->id, "POST", path, hdr, 1, body, strlen(body), PX_HOOK_ATTEMPTS,
		      summary, cred[0] != '\0' ? cred : NULL);
out:
	free(body);
	json_decref(j);
}

static void px_cobr_notify(sbx_t *s, const sbx_org_t *org, const px_cobr_t *c)
{
	px_notify(s, org, PX_HOOK_COBR, px_cobr_json(c, px_policy_of(s, org, c)));
}

static void px_rec_notify(sbx_t *s, const sbx_org_t *org, const px_rec_t *r)
{
	json_t *j = json_pack("{s:s, s:s, s:[], s:{s:s}}", "idRec", r->id, "status", r->status,
			      "atualizacao", "ativacao", "tipoJornada", r->journey);
	json_t *end = px_end_json(r->end_by, r->end_code);
	if (end != NULL)
		json_object_set_new(j, "encerramento", end);
	px_notify(s, org, PX_HOOK_REC, j);
}

/* ------------------------------------------------------------------ auth */

static bool px_eq(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b);
	return la == lb && crypto_equal(a, b, la);
}

static void px_token(sbx_t *s, const sbx_call_t *call, sbx_resp_t *rs)
{
	const char *h = sbx_req_header(call->rq, "Authorization");
	char cred[512] = "", grant[64] = "";
	unsigned char dec[512];
	size_t dl = 0;
	sbx_org_t *org = NULL;
	sbx_access_t *a;
	json_t *jb = call->body;

	if (h != NULL && strncasecmp(h, "Basic ", 6) == 0 &&
	    mbedtls_base64_decode(dec, sizeof(dec) - 1, &dl, (const unsigned char *)h + 6,
				  strlen(h + 6)) == 0) {
		dec[dl] = '\0';
		snprintf(cred, sizeof(cred), "%s", (const char *)dec);
		crypto_wipe(dec, sizeof(dec));
	}
	char *colon = strchr(cred, ':');
	if (colon != NULL) {
		*colon = '\0';
		for (size_t i = 0; i < s->n_orgs && org == NULL; i++)
			if (s->orgs[i].pix && px_eq(s->orgs[i].px_client_id, cred) &&
			    px_eq(s->orgs[i].px_client_secret, colon + 1))
				org = &s->orgs[i];
	}
	crypto_wipe(cred, sizeof(cred));
	if (org == NULL) {
		sbx_resp_json(rs, 401, json_pack("{s:s}", "error", "invalid_client"));
		goto out;
	}
	/* Form (RFC 6749) or Efí's JSON body. */
	if (jb != NULL && sbx_jstr(jb, "grant_type") != NULL)
		snprintf(grant, sizeof(grant), "%s", sbx_jstr(jb, "grant_type"));
	else
		sbx_form_get((const char *)call->rq->body, call->rq->body_len, "grant_type", grant,
			     sizeof(grant));
	if (strcmp(grant, "client_credentials") != 0) {
		sbx_resp_json(rs, 400, json_pack("{s:s}", "error", "unsupported_grant_type"));
		goto out;
	}
	a = sbx_access_issue(s, "pix", org->id, PX_TOKEN_TTL_MS);
	if (a == NULL) {
		sbx_resp_set(rs, 500, NULL, NULL, 0);
		goto out;
	}
	sbx_resp_json(rs, 200,
		      json_pack("{s:s, s:s, s:i, s:s}", "access_token", a->token, "token_type",
				"Bearer", "expires_in", PX_TOKEN_TTL_MS / 1000, "scope",
				"rec.write rec.read cobr.write cobr.read"));
out:
	return;
}

sbx_org_t *sbx_pix_auth(sbx_t *s, const sbx_req_t *rq, sbx_resp_t *rs)
{
	sbx_access_t *a = sbx_access_bearer(s, rq, "pix");
	sbx_org_t *org = NULL;

	if (a != NULL && a->expires_ms > util_wall_ms())
		org = sbx_org_find(s, a->org);
	if (org == NULL || !org->pix) {
		org = NULL;
		px_problem(rs, 403, "AcessoNegado", "token ausente, expirado ou inválido");
		rs->status = 401;
	}
	return org;
}

/* The caller's rec or cobr named in the path, or NULL with the 404 answered. */
static px_rec_t *px_rec_for(sbx_t *s, const sbx_call_t *call, sbx_resp_t *rs)
{
	px_rec_t *r = px_rec_find(s, call->org, call->args[0]);
	if (r == NULL)
		px_problem(rs, 404, "RecNaoEncontrada", "recorrência não encontrada");
	return r;
}

static px_cobr_t *px_cobr_for(sbx_t *s, const sbx_call_t *call, sbx_resp_t *rs)
{
	px_cobr_t *c = px_cobr_find(s, call->org, call->args[0]);
	if (c == NULL)
		px_problem(rs, 404, "CobRNaoEncontrado", "cobrança não encontrada");
	return c;
}

/* ------------------------------------------------------------------ routes: locrec and rec */

static void px_locrec_create(sbx_t *s, const sbx_call_t *call, sbx_resp_t *rs)
{
	px_loc_t *l;
	char hex[33], at[32];
	l = calloc(1, sizeof(*l));
	if (l == NULL) {
		sbx_resp_set(rs, 500, NULL, NULL, 0);
		return;
	}
	l->org = call->org->id;
	snprintf(l->id, sizeof(l->id), "%" PRIu64, sbx_next(s));
	sbx_hexid(hex, 32);
	snprintf(l->location, sizeof(l->location), "pix.sandbox.ospay/qr/v2/rec/%s", hex);
	l->created_ms = util_wall_ms();
	sbx_table_add(&s->px_locs, &l->age);
	sbx_time_iso(l->created_ms, at);
	sbx_resp_json(rs, 201,
		      json_pack("{s:I, s:s, s:s}", "id", (json_int_t)strtoll(l->id, NULL, 10),
				"location", l->location, "criacao", at));
}

static void px_locrec_get(sbx_t *s, const sbx_call_t *call, sbx_resp_t *rs)
{
	sbx_hnode_t *n;
	px_loc_t *l;
	n = sbx_htab_find(&s->px_loc_by_id, call->args[0]);
	l = n != NULL ? container_of(n, px_loc_t, by_id) : NULL;
	if (l == NULL || l->org != call->org->id) {
		px_problem(rs, 404, "PayloadLocationRecNaoEncontrado", "location não encontrada");
		return;
	}
	json_t *j = json_pack("{s:I, s:s}", "id", (json_int_t)strtoll(l->id, NULL, 10), "location",
			      l->location);
	if (l->id_rec[0] != '\0')
		json_object_set_new(j, "idRec", json_string(l->id_rec));
	sbx_resp_json(rs, 200, j);
}

/* Copies a string member into dst; *bad names the first field missing or too long. */
static void px_field(json_t *o, const char *key, char *dst, size_t cap, bool req, const char **bad)
{
	const char *v = sbx_jstr(o, key);
	if (v == NULL ? req : !sbx_copy(dst, cap, v) || v[0] == '\0')
		if (*bad == NULL)
			*bad = key;
}

static void px_rec_create(sbx_t *s, const sbx_call_t *call, sbx_resp_t *rs)
{
	sbx_org_t *org = call->org;
	json_t *b = call->body, *v, *dev, *cal, *val;
	px_rec_t *r = NULL;
	const char *bad = NULL;
	int64_t d1, d2, loc;
	char today[11], seq[12];

	r = calloc(1, sizeof(*r));
	if (r == NULL) {
		sbx_resp_set(rs, 500, NULL, NULL, 0);
		goto out;
	}
	v = json_object_get(b, "vinculo");
	dev = json_object_get(v, "devedor");
	cal = json_object_get(b, "calendario");
	val = json_object_get(b, "valor");
	px_field(v, "contrato", r->contract, 36, true, &bad);
	px_field(v, "objeto", r->object, 36, false, &bad);
	px_field(dev, "nome", r->name, 141, true, &bad);
	if (sbx_jstr(dev, "cpf") != NULL) {
		snprintf(r->doc_key, sizeof(r->doc_key), "cpf");
		px_field(dev, "cpf", r->doc, 12, true, &bad);
	} else {
		snprintf(r->doc_key, sizeof(r->doc_key), "cnpj");
		px_field(dev, "cnpj", r->doc, 15, true, &bad);
	}
	px_field(cal, "dataInicial", r->first_date, 11, true, &bad);
	px_field(cal, "dataFinal", r->last_date, 11, false, &bad);
	px_field(cal, "periodicidade", r->period, 12, true, &bad);
	px_field(b, "politicaRetentativa", r->policy, 16, true, &bad);
	if (bad == NULL && (!px_date(r->first_date, &d1) || d1 < px_today(s)))
		bad = "calendario.dataInicial";
	if (bad == NULL && r->last_date[0] != '\0' && (!px_date(r->last_date, &d2) || d2 < d1))
		bad = "calendario.dataFinal";
	if (bad == NULL && strcmp(r->policy, "NAO_PERMITE") != 0 &&
	    strcmp(r->policy, "PERMITE_3R_7D") != 0)
		bad = "politicaRetentativa";
	if (bad == NULL && val != NULL) {
		const char *f = sbx_jstr(val, "valorRec"),
			   *m = sbx_jstr(val, "valorMinimoRecebedor");
		if ((f != NULL && m != NULL) || (f != NULL && !px_money(f, &r->fixed)) ||
		    (m != NULL && !px_money(m, &r->floor)))
			bad = "valor";
	}
	if (bad == NULL && json_object_get(b, "loc") != NULL) {
		char id[24];
		sbx_hnode_t *n;
		px_loc_t *l;
		if (!sbx_jint(b, "loc", &loc)) {
			bad = "loc";
		} else {
			snprintf(id, sizeof(id), "%" PRId64, loc);
			n = sbx_htab_find(&s->px_loc_by_id, id);
			l = n != NULL ? container_of(n, px_loc_t, by_id) : NULL;
			if (l == NULL || l->org != org->id || l->id_rec[0] != '\0')
				bad = "loc (não existe ou já usada)";
			else
				snprintf(r->loc_id, sizeof(r->loc_id), "%s", id);
		}
	}
	px_field(json_object_get(json_object_get(b, "ativacao"), "dadosJornada"), "txid", r->jtxid,
		 sizeof(r->jtxid), false, &bad);
	/* Journey 3: an active cob of this receiver, not yet any rec's, and a QR location. */
	if (bad == NULL && r->jtxid[0] != '\0') {
		px_cob_t *c = px_cob_find(s, org, r->jtxid);
		if (c == NULL || c->cobv || strcmp(c->status, "ATIVA") != 0 || c->id_rec[0] != '\0')
			bad = "ativacao.dadosJornada.txid (cob inexistente, inativa ou já usada)";
		else if (r->loc_id[0] == '\0')
			bad = "loc (a jornada 3 precisa de uma location)";
	}
	if (bad != NULL) {
		char msg[160];
		snprintf(msg, sizeof(msg), "campo inválido ou ausente: %s", bad);
		px_problem(rs, 400, "RecOperacaoInvalida", msg);
		goto out;
	}
	r->org = org->id;
	r->created_ms = util_wall_ms();
	px_date_fmt(px_today(s), today);
	snprintf(seq, sizeof(seq), "%011" PRIu64, sbx_next(s) % UINT64_C(100000000000));
	snprintf(r->id, sizeof(r->id), "R%c%s%c%c%c%c%c%c%c%c%s",
		 strcmp(r->policy, "PERMITE_3R_7D") == 0 ? 'R' : 'N', PX_ISPB, today[0], today[1],
		 today[2], today[3], today[5], today[6], today[8], today[9], seq);
	snprintf(r->status, sizeof(r->status), "CRIADA");
	snprintf(r->journey, sizeof(r->journey), "AGUARDANDO_DEFINICAO");
	if (r->loc_id[0] != '\0') {
		sbx_hnode_t *n = sbx_htab_find(&s->px_loc_by_id, r->loc_id);
		snprintf(container_of(n, px_loc_t, by_id)->id_rec, 30, "%s", r->id);
	}
	if (r->jtxid[0] != '\0')
		snprintf(px_cob_find(s, org, r->jtxid)->id_rec, 30, "%s", r->id);
	sbx_table_add(&s->px_recs, &r->age);
	sbx_resp_json(rs, 201, px_rec_json(s, r, false, NULL));
	r = NULL;
out:
	free(r);
}

/*
 * GET /rec/{idRec}?txid=: the QR of journey 3 (the rec's own cob) or 4 (a cobv,
 * which this query links to the rec: paying it may then approve the rec).
 */
static void px_rec_get(sbx_t *s, const sbx_call_t *call, sbx_resp_t *rs)
{
	px_rec_t *r = px_rec_for(s, call, rs);
	char txid[64] = "";
	px_cob_t *c = NULL;
	const char *why = NULL;
	if (r == NULL)
		return;
	if (sbx_form_get(call->rq->query, strlen(call->rq->query), "txid", txid, sizeof(txid))) {
		c = px_cob_find(s, call->org, txid);
		if (c == NULL)
			why = "txid: nenhuma cob ou cobv com este txid";
		else if (!c->cobv && strcmp(r->jtxid, txid) != 0)
			why = "txid: esta cob não é a da jornada 3 desta recorrência";
		else if (c->cobv && (r->jtxid[0] != '\0' ||
				     (c->id_rec[0] != '\0' && strcmp(c->id_rec, r->id) != 0)))
			why = "txid: cobv de outra recorrência ou numa recorrência de jornada 3";
		if (why != NULL) {
			px_problem(rs, 400, "RecConsultaInvalida", why);
			return;
		}
		if (c->cobv && strcmp(r->status, "CRIADA") == 0)
			snprintf(c->id_rec, sizeof(c->id_rec), "%s", r->id);
	}
	sbx_resp_json(rs, 200, px_rec_json(s, r, true, c));
}

static bool px_final(const char *status)
{
	return strcmp(status, "CANCELADA") == 0 || strcmp(status, "REJEITADA") == 0 ||
	       strcmp(status, "EXPIRADA") == 0 || strcmp(status, "CONCLUIDA") == 0;
}

/* Cancels every cobr of the rec still waiting: later payments do not happen. */
static void px_rec_end_cobrs(sbx_t *s, const sbx_org_t *org, const px_rec_t *r, const char *by)
{
	list_node_t *n;
	for (n = s->px_cobrs.fifo.next; n != &s->px_cobrs.fifo; n = n->next) {
		px_cobr_t *c = container_of(n, px_cobr_t, age);
		if (c->org != org->id || strcmp(c->id_rec, r->id) != 0 || px_final(c->status))
			continue;
		snprintf(c->status, sizeof(c->status), "CANCELADA");
		snprintf(c->end_by, sizeof(c->end_by), "%s", by);
		snprintf(c->end_code, sizeof(c->end_code), "CCLD");
		for (size_t i = 0; i < c->n_att; i++)
			if (strcmp(c->att[i].status, "AGENDADA") == 0 ||
			    strcmp(c->att[i].status, "SOLICITADA") == 0)
				snprintf(c->att[i].status, sizeof(c->att[i].status), "CANCELADA");
		px_cobr_notify(s, org, c);
	}
}

static void px_rec_set(sbx_t *s, const sbx_org_t *org, px_rec_t *r, const char *status,
		       const char *by, const char *code)
{
	snprintf(r->status, sizeof(r->status), "%s", status);
	snprintf(r->end_by, sizeof(r->end_by), "%s", by != NULL ? by : "");
	snprintf(r->end_code, sizeof(r->end_code), "%s", code != NULL ? code : "");
	if (strcmp(status, "CANCELADA") == 0)
		px_rec_end_cobrs(s, org, r, by);
	px_rec_notify(s, org, r);
}

static void px_rec_patch(sbx_t *s, const sbx_call_t *call, sbx_resp_t *rs)
{
	json_t *b = call->body;
	px_rec_t *r = px_rec_for(s, call, rs);
	const char *st;
	if (r == NULL)
		goto out;
	st = sbx_jstr(b, "status");
	if (strcmp(r->status, "CANCELADA") == 0 || strcmp(r->status, "REJEITADA") == 0 ||
	    strcmp(r->status, "EXPIRADA") == 0 || st == NULL || strcmp(st, "CANCELADA") != 0) {
		px_problem(rs, 400, "RecOperacaoInvalida",
			   "só o cancelamento de uma recorrência ativa é aceito aqui");
		goto out;
	}
	px_rec_set(s, call->org, r, "CANCELADA", "USUARIO_RECEBEDOR", "SLDB");
	sbx_resp_json(rs, 200, px_rec_json(s, r, false, NULL));
out:
	return;
}

/* ------------------------------------------------------------------ routes: solicrec */

static json_t *px_solic_json(const px_rec_t *r)
{
	return json_pack("{s:s, s:s, s:s}", "idSolicRec", r->id_solic, "idRec", r->id, "status",
			 r->solic_status);
}

static px_rec_t *px_rec_by_solic(sbx_t *s, const sbx_org_t *org, const char *id)
{
	list_node_t *n;
	for (n = s->px_recs.fifo.next; n != &s->px_recs.fifo; n = n->next) {
		px_rec_t *r = container_of(n, px_rec_t, age);
		if (r->org == org->id && strcmp(r->id_solic, id) == 0)
			return r;
	}
	return NULL;
}

static void px_solicrec_create(sbx_t *s, const sbx_call_t *call, sbx_resp_t *rs)
{
	json_t *b = call->body, *dest;
	px_rec_t *r;
	char today[11];
	dest = json_object_get(b, "destinatario");
	r = sbx_jstr(b, "idRec") != NULL ? px_rec_find(s, call->org, sbx_jstr(b, "idRec")) : NULL;
	if (r == NULL || strcmp(r->status, "CRIADA") != 0 || r->loc_id[0] != '\0' ||
	    sbx_jstr(dest, "conta") == NULL || sbx_jstr(dest, "ispbParticipante") == NULL ||
	    json_object_get(b, "calendario") == NULL ||
	    (r->id_solic[0] != '\0' && strcmp(r->solic_status, "CANCELADA") != 0)) {
		px_problem(rs, 400, "SolicRecOperacaoInvalida",
			   "recorrência inexistente, não CRIADA, com location ou já solicitada");
		goto out;
	}
	px_date_fmt(px_today(s), today);
	snprintf(r->id_solic, sizeof(r->id_solic), "SC%s%.4s%.2s%.2s%011" PRIu64, PX_ISPB, today,
		 today + 5, today + 8, sbx_next(s) % UINT64_C(100000000000));
	snprintf(r->solic_status, sizeof(r->solic_status), "ENVIADA");
	sbx_resp_json(rs, 201, px_solic_json(r));
out:
	return;
}

static void px_solicrec_get(sbx_t *s, const sbx_call_t *call, sbx_resp_t *rs)
{
	px_rec_t *r;
	r = px_rec_by_solic(s, call->org, call->args[0]);
	if (r == NULL) {
		px_problem(rs, 404, "SolicRecNaoEncontrada", "solicitação não encontrada");
		return;
	}
	if (strcmp(call->rq->method, "PATCH") == 0) {
		if (strcmp(r->solic_status, "ENVIADA") != 0 &&
		    strcmp(r->solic_status, "RECEBIDA") != 0) {
			px_problem(rs, 400, "SolicRecOperacaoInvalida", "não pode ser cancelada");
			return;
		}
		snprintf(r->solic_status, sizeof(r->solic_status), "CANCELADA");
		sbx_resp_json(rs, 201, px_solic_json(r));
		return;
	}
	sbx_resp_json(rs, 200, px_solic_json(r));
}

/* ------------------------------------------------------------------ routes: cobr */

/* Same cycle: the same month for MENSAL (the sandbox's reading), else the same day. */
static bool px_same_cycle(const px_rec_t *r, const char *a, const char *b)
{
	return strcmp(r->period, "MENSAL") == 0 ? strncmp(a, b, 7) == 0 : strcmp(a, b) == 0;
}

static void px_e2e(sbx_t *s, char out[33])
{
	char hex[12];
	sbx_hexid(hex, 11);
	snprintf(out, 33, "E%.8s%012" PRIu64 "%.11s", PX_ISPB,
		 sbx_next(s) % UINT64_C(1000000000000), hex);
}

static void px_cobr_put(sbx_t *s, const sbx_call_t *call, sbx_resp_t *rs)
{
	sbx_org_t *org = call->org;
	json_t *b = call->body;
	px_cobr_t *c = NULL;
	px_rec_t *r;
	int64_t due, amount = 0;
	const char *why = NULL;
	list_node_t *n;

	r = sbx_jstr(b, "idRec") != NULL ? px_rec_find(s, org, sbx_jstr(b, "idRec")) : NULL;
	if (!px_alnum(call->args[0], 26, 35))
		why = "txid inválido";
	else if (px_cobr_find(s, org, call->args[0]) != NULL ||
		 px_cob_find(s, org, call->args[0]) != NULL)
		why = "txid já utilizado";
	else if (r == NULL || strcmp(r->status, "APROVADA") != 0)
		why = "a recorrência não existe ou não está aprovada";
	else if (!px_date(sbx_jstr(json_object_get(b, "calendario"), "dataDeVencimento"), &due) ||
		 due < px_today(s))
		why = "calendario.dataDeVencimento inválida";
	else if (!px_money(sbx_jstr(json_object_get(b, "valor"), "original"), &amount) ||
		 amount <= 0)
		why = "valor.original inválido";
	else if (r->fixed > 0 && amount != r->fixed)
		why = "o valor difere do valor fixo da recorrência";
	else if (json_object_get(b, "recebedor") == NULL ||
		 sbx_jstr(json_object_get(b, "recebedor"), "conta") == NULL)
		why = "recebedor.conta ausente";
	for (n = s->px_cobrs.fifo.next; why == NULL && n != &s->px_cobrs.fifo; n = n->next) {
		px_cobr_t *o = container_of(n, px_cobr_t, age);
		if (o->org == org->id && strcmp(o->id_rec, r->id) == 0 &&
		    strcmp(o->status, "REJEITADA") != 0 && strcmp(o->status, "CANCELADA") != 0 &&
		    px_same_cycle(r, o->due,
				  sbx_jstr(json_object_get(b, "calendario"), "dataDeVencimento")))
			why = "já existe uma cobrança para este ciclo";
	}
	if (why != NULL) {
		px_problem(rs, 400, "CobROperacaoInvalida", why);
		goto out;
	}
	c = calloc(1, sizeof(*c));
	if (c == NULL) {
		sbx_resp_set(rs, 500, NULL, NULL, 0);
		goto out;
	}
	c->org = org->id;
	snprintf(c->txid, sizeof(c->txid), "%s", call->args[0]);
	snprintf(c->id_rec, sizeof(c->id_rec), "%s", r->id);
	snprintf(c->status, sizeof(c->status), "CRIADA");
	px_date_fmt(due, c->due);
	px_date_fmt(px_today(s), c->created);
	c->created_ms = util_wall_ms();
	c->amount = amount;
	if (sbx_jstr(b, "infoAdicional") != NULL)
		sbx_copy(c->info, sizeof(c->info), sbx_jstr(b, "infoAdicional"));
	c->n_att = 1;
	snprintf(c->att[0].date, sizeof(c->att[0].date), "%s", c->due);
	snprintf(c->att[0].kind, sizeof(c->att[0].kind), "AGND");
	snprintf(c->att[0].status, sizeof(c->att[0].status), "SOLICITADA");
	px_e2e(s, c->att[0].e2e);
	sbx_table_add(&s->px_cobrs, &c->age);
	sbx_resp_json(rs, 201, px_cobr_json(c, r->policy));
	/* The payer's bank takes it at once: scheduled, or refused over the payer's maximum. */
	if (r->max > 0 && amount > r->max) {
		snprintf(c->status, sizeof(c->status), "REJEITADA");
		snprintf(c->att[0].status, sizeof(c->att[0].status), "REJEITADA");
		snprintf(c->att[0].reason, sizeof(c->att[0].reason), "AM02");
		snprintf(c->end_code, sizeof(c->end_code), "AM02");
	} else {
		snprintf(c->status, sizeof(c->status), "ATIVA");
		snprintf(c->att[0].status, sizeof(c->att[0].status), "AGENDADA");
	}
	px_cobr_notify(s, org, c);
	sbx_charge_record(s, "pix", org->id, c->txid, c->txid, amount, false, c->status,
			  c->end_code, "instruction received", 0);
out:
	return;
}

static void px_cobr_get(sbx_t *s, const sbx_call_t *call, sbx_resp_t *rs)
{
	px_cobr_t *c = px_cobr_for(s, call, rs);
	if (c == NULL)
		return;
	sbx_resp_json(rs, 200, px_cobr_json(c, px_policy_of(s, call->org, c)));
}

static void px_cobr_patch(sbx_t *s, const sbx_call_t *call, sbx_resp_t *rs)
{
	sbx_org_t *org = call->org;
	json_t *b = call->body;
	px_cobr_t *c = px_cobr_for(s, call, rs);
	int64_t due = 0;
	if (c == NULL)
		goto out;
	px_date(c->due, &due);
	if (sbx_jstr(b, "status") == NULL || strcmp(sbx_jstr(b, "status"), "CANCELADA") != 0 ||
	    px_final(c->status) || px_today(s) >= due) {
		px_problem(rs, 400, "CobROperacaoInvalida",
			   "não é possível cancelar na data prevista da liquidação ou depois");
		goto out;
	}
	snprintf(c->status, sizeof(c->status), "CANCELADA");
	snprintf(c->end_by, sizeof(c->end_by), "USUARIO_RECEBEDOR");
	snprintf(c->end_code, sizeof(c->end_code), "SLCR");
	for (size_t i = 0; i < c->n_att; i++)
		if (!px_final(c->att[i].status) && strcmp(c->att[i].status, "PAGA") != 0)
			snprintf(c->att[i].status, sizeof(c->att[i].status), "CANCELADA");
	sbx_resp_json(rs, 200, px_cobr_json(c, px_policy_of(s, org, c)));
	px_cobr_notify(s, org, c);
out:
	return;
}

static void px_cobr_retry(sbx_t *s, const sbx_call_t *call, sbx_resp_t *rs)
{
	sbx_org_t *org = call->org;
	px_cobr_t *c = px_cobr_for(s, call, rs);
	int64_t day, due;
	const char *why = NULL;
	size_t retries = 0;
	if (c == NULL)
		return;
	for (size_t i = 0; i < c->n_att; i++)
		retries += strcmp(c->att[i].kind, "NTAG") == 0;
	px_date(c->due, &due);
	if (strcmp(px_policy_of(s, org, c), "PERMITE_3R_7D") != 0)
		why = "A política configurada na recorrência não permite retentativa de cobrança.";
	else if (strcmp(c->status, "ATIVA") != 0)
		why = "a cobrança não está ativa";
	else if (strcmp(c->att[c->n_att - 1].status, "AGENDADA") == 0 ||
		 strcmp(c->att[c->n_att - 1].status, "SOLICITADA") == 0)
		why = "há uma tentativa em andamento";
	else if (!px_date(call->args[1], &day) || day <= px_today(s))
		why = "a data deve ser futura";
	else if (day > due + 7)
		why = "a data passa de 7 dias após a liquidação original";
	else if (retries >= 3 || c->n_att >= PX_MAX_ATTEMPTS)
		why = "as 3 retentativas já foram usadas";
	for (size_t i = 0; why == NULL && i < c->n_att; i++)
		if (strcmp(c->att[i].date, call->args[1]) == 0)
			why = "já existe uma tentativa para esta data";
	if (why != NULL) {
		px_problem(rs, 400, "CobROperacaoInvalida", why);
		return;
	}
	px_attempt_t *a = &c->att[c->n_att++];
	px_date_fmt(day, a->date);
	snprintf(a->kind, sizeof(a->kind), "NTAG");
	snprintf(a->status, sizeof(a->status), "AGENDADA");
	px_e2e(s, a->e2e);
	sbx_resp_json(rs, 201, px_cobr_json(c, px_policy_of(s, org, c)));
	px_cobr_notify(s, org, c);
}

/* ------------------------------------------------------------------ routes: cob and cobv */

static json_t *px_cob_json(const px_cob_t *c)
{
	char at[32];
	json_t *j, *cal;

	sbx_time_iso(c->created_ms, at);
	if (c->cobv) {
		char day[11];
		px_date_fmt(c->created_ms / 86400000, day);
		cal = json_pack("{s:s, s:s, s:I}", "criacao", day, "dataDeVencimento", c->due,
				"validadeAposVencimento", (json_int_t)c->validity);
	} else {
		cal = json_pack("{s:s, s:I}", "criacao", at, "expiracao", (json_int_t)c->expires_s);
	}
	j = json_pack("{s:o, s:s, s:i, s:{s:I, s:s, s:s}, s:s, s:s, s:{s:o}, s:s}", "calendario",
		      cal, "txid", c->txid, "revisao", 0, "loc", "id",
		      (json_int_t)strtoll(c->loc_id, NULL, 10), "location", c->location, "tipoCob",
		      c->cobv ? "cobv" : "cob", "location", c->location, "status", c->status,
		      "valor", "original", px_money_json(c->amount), "chave", c->key);
	if (c->doc_key[0] != '\0')
		json_object_set_new(j, "devedor",
				    json_pack("{s:s, s:s}", c->doc_key, c->doc, "nome", c->name));
	if (c->info[0] != '\0')
		json_object_set_new(j, "solicitacaoPagador", json_string(c->info));
	if (strcmp(c->status, "ATIVA") == 0) {
		char qr[400];
		px_emv(qr, c->location, NULL);
		json_object_set_new(j, "pixCopiaECola", json_string(qr));
	}
	if (c->paid_e2e[0] != '\0')
		json_object_set_new(
			j, "pix",
			json_pack("[o]", px_pix_json(c->paid_e2e, c->txid, c->amount, c->paid_ms)));
	return j;
}

/* CPF (11 digits) or CNPJ (14 of [0-9A-Z]) of a devedor object into c; false if neither. */
static bool px_cob_debtor(json_t *dev, px_cob_t *c)
{
	const char *cpf = sbx_jstr(dev, "cpf"), *cnpj = sbx_jstr(dev, "cnpj");
	const char *nome = sbx_jstr(dev, "nome");
	const char *doc = cpf != NULL ? cpf : cnpj;
	size_t n = doc != NULL ? strlen(doc) : 0;

	if ((cpf != NULL) == (cnpj != NULL) || n != (cpf != NULL ? 11u : 14u) || nome == NULL ||
	    nome[0] == '\0' || !sbx_copy(c->name, 201, nome))
		return false;
	for (size_t i = 0; i < n; i++)
		if (!((doc[i] >= '0' && doc[i] <= '9') ||
		      (cnpj != NULL && doc[i] >= 'A' && doc[i] <= 'Z')))
			return false;
	snprintf(c->doc_key, sizeof(c->doc_key), "%s", cpf != NULL ? "cpf" : "cnpj");
	snprintf(c->doc, sizeof(c->doc), "%s", doc);
	return true;
}

/* Why a cob or cobv body is refused, or NULL with c filled. */
static const char *px_cob_read(sbx_t *s, const sbx_org_t *org, json_t *b, px_cob_t *c)
{
	json_t *cal = json_object_get(b, "calendario"), *dev = json_object_get(b, "devedor");
	const char *key = sbx_jstr(b, "chave"), *info = sbx_jstr(b, "solicitacaoPagador");
	int64_t due;

	if (!px_money(sbx_jstr(json_object_get(b, "valor"), "original"), &c->amount) ||
	    c->amount <= 0)
		return "valor.original inválido";
	if (key == NULL || key[0] == '\0' || strlen(key) > 77 || !sbx_copy(c->key, 78, key))
		return "chave ausente ou inválida";
	if (org->px_key[0] != '\0' && strcmp(org->px_key, key) != 0)
		return "a chave não pertence ao usuário recebedor";
	if (info != NULL && !sbx_copy(c->info, 141, info))
		return "solicitacaoPagador: até 140 caracteres";
	if ((dev != NULL || c->cobv) && !px_cob_debtor(dev, c))
		return "devedor: cpf ou cnpj e nome";
	if (!c->cobv) {
		c->expires_s = 86400;
		if (json_object_get(cal, "expiracao") != NULL &&
		    (!sbx_jint(cal, "expiracao", &c->expires_s) || c->expires_s <= 0 ||
		     c->expires_s > INT32_MAX))
			return "calendario.expiracao inválida";
		return NULL;
	}
	if (!px_date(sbx_jstr(cal, "dataDeVencimento"), &due) || due < px_today(s))
		return "calendario.dataDeVencimento inválida";
	px_date_fmt(due, c->due);
	c->validity = 30;
	if (json_object_get(cal, "validadeAposVencimento") != NULL &&
	    (!sbx_jint(cal, "validadeAposVencimento", &c->validity) || c->validity < 0 ||
	     c->validity > 3650))
		return "calendario.validadeAposVencimento inválida";
	return NULL;
}

/* PUT /cob/{txid} or /cobv/{txid}: the PSP gives the charge its own location. */
static void px_cob_put(sbx_t *s, const sbx_call_t *call, sbx_resp_t *rs, bool cobv)
{
	const char *txid = call->args[0];
	sbx_org_t *org = call->org;
	json_t *b = call->body;
	px_cob_t *c = NULL;
	const char *why = NULL;
	char hex[33];

	c = calloc(1, sizeof(*c));
	if (c == NULL) {
		sbx_resp_set(rs, 500, NULL, NULL, 0);
		goto out;
	}
	c->cobv = cobv;
	if (!px_alnum(txid, 26, 35))
		why = "txid inválido";
	else if (px_cob_find(s, org, txid) != NULL || px_cobr_find(s, org, txid) != NULL)
		why = "txid já utilizado";
	else if (!json_is_object(b))
		why = "corpo inválido";
	else
		why = px_cob_read(s, org, b, c);
	if (why != NULL) {
		px_problem(rs, 400, cobv ? "CobVOperacaoInvalida" : "CobOperacaoInvalida", why);
		goto out;
	}
	c->org = org->id;
	snprintf(c->txid, sizeof(c->txid), "%s", txid);
	snprintf(c->status, sizeof(c->status), "ATIVA");
	snprintf(c->loc_id, sizeof(c->loc_id), "%" PRIu64, sbx_next(s));
	sbx_hexid(hex, 32);
	snprintf(c->location, sizeof(c->location), "pix.sandbox.ospay/qr/v2/%s/%s",
		 cobv ? "cobv" : "cob", hex);
	c->created_ms = util_wall_ms();
	sbx_table_add(&s->px_cobs, &c->age);
	sbx_resp_json(rs, 201, px_cob_json(c));
	c = NULL;
out:
	free(c);
}

static void px_cob_get(sbx_t *s, const sbx_call_t *call, sbx_resp_t *rs, bool cobv)
{
	const char *txid = call->args[0];
	px_cob_t *c;
	c = px_cob_find(s, call->org, txid);
	if (c == NULL || c->cobv != cobv) {
		px_problem(rs, 404, cobv ? "CobVNaoEncontrada" : "CobNaoEncontrado",
			   "cobrança não encontrada");
		return;
	}
	sbx_resp_json(rs, 200, px_cob_json(c));
}

static void px_cob_put_r(sbx_t *s, const sbx_call_t *call, sbx_resp_t *rs)
{
	px_cob_put(s, call, rs, false);
}

static void px_cobv_put_r(sbx_t *s, const sbx_call_t *call, sbx_resp_t *rs)
{
	px_cob_put(s, call, rs, true);
}

static void px_cob_get_r(sbx_t *s, const sbx_call_t *call, sbx_resp_t *rs)
{
	px_cob_get(s, call, rs, false);
}

static void px_cobv_get_r(sbx_t *s, const sbx_call_t *call, sbx_resp_t *rs)
{
	px_cob_get(s, call, rs, true);
}

/* ------------------------------------------------------------------ routes: lists */

enum px_list { PX_LIST_REC, PX_LIST_COBR, PX_LIST_LOC };

/* A list query's parameters (BCB API 2.9.0 "parameters"). */
typedef struct px_query {
	char inicio[40], fim[40];
	int64_t from_ms, to_ms;
	int64_t page, per;
	char cpf[16], cnpj[16], status[16], id_rec[32];
	int present; /* locationPresente / idRecPresente: -1 not given, 0 false, 1 true */
} px_query_t;

/* A number parameter within [min, max] (def when absent); false when malformed. */
static bool px_qnum(const sbx_req_t *rq, const char *name, int64_t min, int64_t max, int64_t def,
		    int64_t *out)
{
	char v[24];
	char *end;
	long long n;
	if (!sbx_form_get(rq->query, strlen(rq->query), name, v, sizeof(v))) {
		*out = def;
		return true;
	}
	n = strtoll(v, &end, 10);
	*out = n;
	return v[0] >= '0' && v[0] <= '9' && *end == '\0' && n >= min && n <= max;
}

/* An RFC 3339 parameter; a '+' of an offset arrives decoded as a space. */
static bool px_qtime(const sbx_req_t *rq, const char *name, char *v, size_t cap, int64_t *ms)
{
	if (!sbx_form_get(rq->query, strlen(rq->query), name, v, cap))
		return false;
	for (char *p = v; *p != '\0'; p++)
		if (*p == ' ')
			*p = '+';
	return util_parse_rfc3339(v, ms) == 0;
}

/* Why the query is refused, or NULL with q filled. */
static const char *px_query_read(const sbx_req_t *rq, enum px_list kind, px_query_t *q)
{
	const char *ql = rq->query;
	char present[8] = "";
	const char *pname = kind == PX_LIST_LOC ? "idRecPresente" : "locationPresente";

	memset(q, 0, sizeof(*q));
	q->present = -1;
	if (!px_qtime(rq, "inicio", q->inicio, sizeof(q->inicio), &q->from_ms) ||
	    !px_qtime(rq, "fim", q->fim, sizeof(q->fim), &q->to_ms))
		return "inicio e fim (RFC 3339) são obrigatórios";
	if (q->to_ms < q->from_ms)
		return "fim anterior a inicio";
	if (!px_qnum(rq, "paginacao.paginaAtual", 0, INT32_MAX, 0, &q->page) ||
	    !px_qnum(rq, "paginacao.itensPorPagina", 1, 1000, 100, &q->per))
		return "paginacao: paginaAtual >= 0, itensPorPagina de 1 a 1000";
	sbx_form_get(ql, strlen(ql), "cpf", q->cpf, sizeof(q->cpf));
	sbx_form_get(ql, strlen(ql), "cnpj", q->cnpj, sizeof(q->cnpj));
	if (q->cpf[0] != '\0' && q->cnpj[0] != '\0')
		return "cpf e cnpj não podem ser usados juntos";
	sbx_form_get(ql, strlen(ql), "status", q->status, sizeof(q->status));
	sbx_form_get(ql, strlen(ql), "idRec", q->id_rec, sizeof(q->id_rec));
	if (sbx_form_get(ql, strlen(ql), pname, present, sizeof(present))) {
		if (strcmp(present, "true") != 0 && strcmp(present, "false") != 0)
			return "locationPresente/idRecPresente: true ou false";
		q->present = present[0] == 't';
	}
	return NULL;
}

static bool px_doc_match(const px_query_t *q, const px_rec_t *r)
{
	if (q->cpf[0] != '\0')
		return r != NULL && strcmp(r->doc_key, "cpf") == 0 && strcmp(r->doc, q->cpf) == 0;
	if (q->cnpj[0] != '\0')
		return r != NULL && strcmp(r->doc_key, "cnpj") == 0 && strcmp(r->doc, q->cnpj) == 0;
	return true;
}

/* The record behind n when it is org's and matches q: its JSON (new), else NULL. */
static json_t *px_list_item(sbx_t *s, const sbx_org_t *org, enum px_list kind, list_node_t *n,
			    const px_query_t *q, bool build)
{
	int64_t at;
	if (kind == PX_LIST_REC) {
		px_rec_t *r = container_of(n, px_rec_t, age);
		at = r->created_ms;
		if (r->org != org->id || at < q->from_ms || at > q->to_ms || !px_doc_match(q, r) ||
		    (q->status[0] && strcmp(q->status, r->status) != 0) ||
		    (q->present >= 0 && q->present != (r->loc_id[0] != '\0')))
			return NULL;
		return build ? px_rec_json(s, r, false, NULL) : json_true();
	}
	if (kind == PX_LIST_COBR) {
		px_cobr_t *c = container_of(n, px_cobr_t, age);
		at = c->created_ms;
		if (c->org != org->id || at < q->from_ms || at > q->to_ms ||
		    (q->status[0] && strcmp(q->status, c->status) != 0) ||
		    (q->id_rec[0] && strcmp(q->id_rec, c->id_rec) != 0) ||
		    !px_doc_match(q, px_rec_find(s, org, c->id_rec)))
			return NULL;
		return build ? px_cobr_json(c, px_policy_of(s, org, c)) : json_true();
	}
	px_loc_t *l = container_of(n, px_loc_t, age);
	char iso[32];
	json_t *j;
	at = l->created_ms;
	if (l->org != org->id || at < q->from_ms || at > q->to_ms ||
	    (q->present >= 0 && q->present != (l->id_rec[0] != '\0')))
		return NULL;
	if (!build)
		return json_true();
	sbx_time_iso(l->created_ms, iso);
	j = json_pack("{s:I, s:s, s:s}", "id", (json_int_t)strtoll(l->id, NULL, 10), "location",
		      l->location, "criacao", iso);
	if (l->id_rec[0] != '\0')
		json_object_set_new(j, "idRec", json_string(l->id_rec));
	return j;
}

/*
 * GET /rec, /cobr, /locrec: the organization's records created between inicio
 * and fim (inclusive), oldest first, one page of them with the paging counts.
 */
static void px_list(sbx_t *s, const sbx_call_t *call, sbx_resp_t *rs, enum px_list kind)
{
	static const char *const bad[] = {"RecConsultaInvalida", "CobRConsultaInvalida",
					  "PayloadLocationRecConsultaInvalida"};
	static const char *const key[] = {"recs", "cobsr", "loc"};
	sbx_table_t *t = kind == PX_LIST_REC    ? &s->px_recs
			 : kind == PX_LIST_COBR ? &s->px_cobrs
						: &s->px_locs;
	px_query_t q;
	const char *why;
	json_t *arr, *item;
	int64_t total = 0, first;

	why = px_query_read(call->rq, kind, &q);
	if (why != NULL) {
		px_problem(rs, 400, bad[kind], why);
		return;
	}
	first = q.page * q.per;
	arr = json_array();
	for (list_node_t *n = t->fifo.next; n != &t->fifo; n = n->next) {
		bool in_page = total >= first && total < first + q.per;
		item = px_list_item(s, call->org, kind, n, &q, in_page);
		if (item == NULL)
			continue;
		total++;
		if (in_page)
			json_array_append_new(arr, item);
		else
			json_decref(item);
	}
	sbx_resp_json(rs, 200,
		      json_pack("{s:{s:s, s:s, s:{s:I, s:I, s:I, s:I}}, s:o}", "parametros",
				"inicio", q.inicio, "fim", q.fim, "paginacao", "paginaAtual",
				(json_int_t)q.page, "itensPorPagina", (json_int_t)q.per,
				"quantidadeDePaginas", (json_int_t)((total + q.per - 1) / q.per),
				"quantidadeTotalDeItens", (json_int_t)total, key[kind], arr));
}

static void px_rec_list(sbx_t *s, const sbx_call_t *call, sbx_resp_t *rs)
{
	px_list(s, call, rs, PX_LIST_REC);
}

static void px_cobr_list(sbx_t *s, const sbx_call_t *call, sbx_resp_t *rs)
{
	px_list(s, call, rs, PX_LIST_COBR);
}

static void px_locrec_list(sbx_t *s, const sbx_call_t *call, sbx_resp_t *rs)
{
	px_list(s, call, rs, PX_LIST_LOC);
}

/* ------------------------------------------------------------------ routes: webhooks */

/* Percent-decodes a path segment into out; false when malformed or too long. */
static bool px_unpct(const char *in, char *out, size_t cap)
{
	size_t w = 0;
	for (size_t i = 0; in[i] != '\0'; i++) {
		int c = (unsigned char)in[i];
		if (c == '%') {
			char h[3] = {in[i + 1], in[i + 1] != '\0' ? in[i + 2] : '\0', '\0'};
			char *end;
			long v = strtol(h, &end, 16);
			if (strlen(h) != 2 || *end != '\0' || v == 0)
				return false;
			c = (int)v;
			i += 2;
		}
		if (w + 1 >= cap)
			return false;
		out[w++] = (char)c;
	}
	out[w] = '\0';
	return true;
}

static void px_webhook(sbx_t *s, const sbx_call_t *call, sbx_resp_t *rs, enum px_hook kind)
{
	static const char *const bad_type[] = {"WebhookRecOperacaoInvalida",
					       "WebhookCobROperacaoInvalida",
					       "WebhookOperacaoInvalida"};
	sbx_org_t *org = call->org;
	char *slot;
	const char *url, *q;
	char key[80];
	(void)s;
	slot = kind == PX_HOOK_REC    ? org->px_hook_rec
	       : kind == PX_HOOK_COBR ? org->px_hook_cobr
				      : org->px_hook_pix;
	/* /webhook/{chave}: the receiver's key (any key when none was configured). */
	if (kind == PX_HOOK_PIX && (!px_unpct(call->args[0], key, sizeof(key)) ||
				    (org->px_key[0] != '\0' && strcmp(org->px_key, key) != 0))) {
		px_problem(rs, 404, "NaoEncontrado", "chave não pertence ao usuário recebedor");
		goto out;
	}
	if (strcmp(call->rq->method, "GET") == 0 || strcmp(call->rq->method, "DELETE") == 0) {
		if (slot[0] == '\0') {
			px_problem(rs, 404, "NaoEncontrado", "nenhum webhook cadastrado");
		} else if (call->rq->method[0] == 'D') {
			slot[0] = '\0';
			sbx_resp_set(rs, 204, NULL, NULL, 0);
		} else {
			sbx_resp_json(rs, 200, json_pack("{s:s}", "webhookUrl", "(registered)"));
		}
		goto out;
	}
	url = sbx_jstr(call->body, "webhookUrl");
	q = url != NULL ? strchr(url, '?') : NULL;
	/* Only the query is kept: callbacks go to --webhook-base/webhooks/pix/<org>. */
	if (url == NULL || strncmp(url, "https://", 8) != 0 ||
	    !sbx_copy(slot, sizeof(org->px_hook_rec), q != NULL ? q + 1 : "")) {
		px_problem(rs, 400, bad_type[kind], "webhookUrl inválida");
		goto out;
	}
	sbx_resp_set(rs, 200, NULL, NULL, 0);
out:
	return;
}

static void px_webhookrec(sbx_t *s, const sbx_call_t *call, sbx_resp_t *rs)
{
	px_webhook(s, call, rs, PX_HOOK_REC);
}

static void px_webhookcobr(sbx_t *s, const sbx_call_t *call, sbx_resp_t *rs)
{
	px_webhook(s, call, rs, PX_HOOK_COBR);
}

static void px_webhookpix(sbx_t *s, const sbx_call_t *call, sbx_resp_t *rs)
{
	px_webhook(s, call, rs, PX_HOOK_PIX);
}

const sbx_route_t sbx_pix_routes[] = {
	{"POST", "/oauth/token", "token", px_token},
	{"POST", "/locrec", "locrec_create", px_locrec_create},
	{"GET", "/locrec/*", "locrec_get", px_locrec_get},
	{"POST", "/rec", "rec_create", px_rec_create},
	{"GET", "/rec/*", "rec_get", px_rec_get},
	{"PATCH", "/rec/*", "rec_patch", px_rec_patch},
	{"POST", "/solicrec", "solicrec_create", px_solicrec_create},
	{"GET", "/solicrec/*", "solicrec_get", px_solicrec_get},
	{"PATCH", "/solicrec/*", "solicrec_patch", px_solicrec_get},
	{"PUT", "/cobr/*", "cobr_put", px_cobr_put},
	{"GET", "/cobr/*", "cobr_get", px_cobr_get},
	{"PATCH", "/cobr/*", "cobr_patch", px_cobr_patch},
	{"POST", "/cobr/*/retentativa/*", "cobr_retry", px_cobr_retry},
	{"PUT", "/webhookrec", "webhookrec", px_webhookrec},
	{"GET", "/webhookrec", "webhookrec_get", px_webhookrec},
	{"DELETE", "/webhookrec", "webhookrec_delete", px_webhookrec},
	{"PUT", "/webhookcobr", "webhookcobr", px_webhookcobr},
	{"GET", "/webhookcobr", "webhookcobr_get", px_webhookcobr},
	{"DELETE", "/webhookcobr", "webhookcobr_delete", px_webhookcobr},
	{"PUT", "/cob/*", "cob_put", px_cob_put_r},
	{"GET", "/cob/*", "cob_get", px_cob_get_r},
	{"PUT", "/cobv/*", "cobv_put", px_cobv_put_r},
	{"GET", "/cobv/*", "cobv_get", px_cobv_get_r},
	{"PUT", "/webhook/*", "webhook", px_webhookpix},
	{"GET", "/webhook/*", "webhook_get", px_webhookpix},
	{"DELETE", "/webhook/*", "webhook_delete", px_webhookpix},
	{"GET", "/rec", "rec_list", px_rec_list},
	{"GET", "/cobr", "cobr_list", px_cobr_list},
	{"GET", "/locrec", "locrec_list", px_locrec_list},
};
const size_t sbx_pix_n_routes = OSPAY_ARRAY_LEN(sbx_pix_routes);

/* ------------------------------------------------------------------ control: the payer's side */

static bool px_whole(const char *code)
{
	for (size_t i = 0; i < OSPAY_ARRAY_LEN(px_whole_codes); i++)
		if (strcmp(code, px_whole_codes[i]) == 0)
			return true;
	return false;
}

/* Settles c's scheduled attempt with its next queued outcome. */
static void px_settle_one(sbx_t *s, const sbx_org_t *org, px_cobr_t *c)
{
	px_attempt_t *a = &c->att[c->n_att - 1];
	const char *code = c->next_out < c->n_out ? c->outcomes[c->next_out] : "";
	c->next_out++;
	if (code[0] == '\0') {
		snprintf(a->status, sizeof(a->status), "PAGA");
		snprintf(c->status, sizeof(c->status), "CONCLUIDA");
		snprintf(c->paid_e2e, sizeof(c->paid_e2e), "%s", a->e2e);
		c->paid_ms = util_wall_ms();
	} else {
		snprintf(a->status, sizeof(a->status), "REJEITADA");
		sbx_copy(a->reason, sizeof(a->reason), code);
		if (px_whole(code)) {
			snprintf(c->status, sizeof(c->status), "REJEITADA");
			sbx_copy(c->end_code, sizeof(c->end_code), code);
		}
	}
	sbx_charge_record(s, "pix", org->id, c->txid, a->e2e, c->amount, code[0] == '\0', c->status,
			  code, a->kind, (int)c->n_att);
	px_cobr_notify(s, org, c);
}

/*
 * POST /control/pix/settle {"date":"YYYY-MM-DD"}: the payer's bank on that day:
 * every scheduled attempt dated on or before it is settled with its outcome.
 * The date also becomes the emulated "today" (cancel and retry rules).
 */
void sbx_pix_control_settle(sbx_t *s, json_t *body, sbx_resp_t *rs)
{
	int64_t day;
	size_t settled = 0;
	list_node_t *n;

	if (!px_date(sbx_jstr(body, "date"), &day)) {
		sbx_resp_json(rs, 400, json_pack("{s:s}", "error", "date must be YYYY-MM-DD"));
		return;
	}
	s->px_today = day;
	for (n = s->px_cobrs.fifo.next; n != &s->px_cobrs.fifo; n = n->next) {
		px_cobr_t *c = container_of(n, px_cobr_t, age);
		px_attempt_t *a = &c->att[c->n_att - 1];
		int64_t ad;
		sbx_org_t *org = sbx_org_find(s, c->org);
		if (org == NULL || strcmp(c->status, "ATIVA") != 0 ||
		    strcmp(a->status, "AGENDADA") != 0 || !px_date(a->date, &ad) || ad > day)
			continue;
		px_settle_one(s, org, c);
		settled++;
	}
	sbx_resp_json(rs, 200, json_pack("{s:I}", "settled", (json_int_t)settled));
}

/*
 * POST /control/pix/cobrs/{txid}/outcomes {"outcomes":["AC06","paid"]}: what the
 * payer's bank does with the cobr's next attempts, in order ("paid" or a code).
 */
void sbx_pix_control_cobr(sbx_t *s, const char *txid, json_t *body, sbx_resp_t *rs)
{
	json_t *arr = json_object_get(body, "outcomes");
	px_cobr_t *c = NULL;
	sbx_hnode_t *n = sbx_htab_find(&s->px_cobr_by_txid, txid);

	c = n != NULL ? container_of(n, px_cobr_t, by_txid) : NULL;
	if (c == NULL) {
		sbx_resp_json(rs, 404, json_pack("{s:s}", "error", "no such cobr"));
		return;
	}
	if (!json_is_array(arr) || json_array_size(arr) > PX_MAX_OUTCOMES) {
		sbx_resp_json(rs, 400, json_pack("{s:s}", "error", "outcomes: up to 8 strings"));
		return;
	}
	c->n_out = 0;
	c->next_out = 0;
	for (size_t i = 0; i < json_array_size(arr); i++) {
		const char *o = json_string_value(json_array_get(arr, i));
		if (o == NULL || (strcmp(o, "paid") != 0 && !px_alnum(o, 4, 4))) {
			sbx_resp_json(rs, 400,
				      json_pack("{s:s}", "error",
						"each outcome: paid or a 4-letter code"));
			return;
		}
		snprintf(c->outcomes[c->n_out++], sizeof(c->outcomes[0]), "%s",
			 strcmp(o, "paid") == 0 ? "" : o);
	}
	sbx_resp_json(rs, 200, json_pack("{s:b}", "ok", true));
}

/*
 * POST /control/pix/cobrs/{txid}/payer-cancel: the payer cancels this cycle's
 * scheduled payment in the bank's app (allowed until the day before the attempt).
 */
void sbx_pix_control_payer_cancel(sbx_t *s, const char *txid, sbx_resp_t *rs)
{
	sbx_hnode_t *n = sbx_htab_find(&s->px_cobr_by_txid, txid);
	px_cobr_t *c = n != NULL ? container_of(n, px_cobr_t, by_txid) : NULL;
	sbx_org_t *org = c != NULL ? sbx_org_find(s, c->org) : NULL;
	px_attempt_t *a;
	int64_t day = 0;

	if (c == NULL || org == NULL) {
		sbx_resp_json(rs, 404, json_pack("{s:s}", "error", "no such cobr"));
		return;
	}
	a = &c->att[c->n_att - 1];
	if (strcmp(c->status, "ATIVA") != 0 || strcmp(a->status, "AGENDADA") != 0 ||
	    !px_date(a->date, &day) || px_today(s) >= day) {
		sbx_resp_json(
			rs, 409,
			json_pack("{s:s}", "error",
				  "only a scheduled payment, before its day, can be canceled"));
		return;
	}
	snprintf(a->status, sizeof(a->status), "CANCELADA");
	snprintf(c->status, sizeof(c->status), "CANCELADA");
	snprintf(c->end_by, sizeof(c->end_by), "USUARIO_PAGADOR");
	snprintf(c->end_code, sizeof(c->end_code), "SLBD");
	px_cobr_notify(s, org, c);
	sbx_resp_json(rs, 200, json_pack("{s:s, s:s}", "txid", c->txid, "status", c->status));
}

/*
 * POST /control/pix/recs/{idRec}/{approve|reject|expire|cancel}: the payer
 * (approve may carry {"max":"200.00"}, the payer's maximum per payment).
 */
void sbx_pix_control_rec(sbx_t *s, const char *id, const char *action, json_t *body, sbx_resp_t *rs)
{
	sbx_hnode_t *n = sbx_htab_find(&s->px_rec_by_id, id);
	px_rec_t *r = n != NULL ? container_of(n, px_rec_t, by_id) : NULL;
	sbx_org_t *org = r != NULL ? sbx_org_find(s, r->org) : NULL;
	bool created = r != NULL && strcmp(r->status, "CRIADA") == 0;

	if (r == NULL || org == NULL) {
		sbx_resp_json(rs, 404, json_pack("{s:s}", "error", "no such rec"));
		return;
	}
	if (strcmp(action, "approve") == 0 && created && r->jtxid[0] != '\0') {
		/* Journey 3: the payment is what activates the recurrence. */
		sbx_resp_json(rs, 409,
			      json_pack("{s:s}", "error",
					"journey 3: the payer approves by paying the cob "
					"(/control/pix/cobs/{txid}/pay)"));
		return;
	} else if (strcmp(action, "approve") == 0 && created) {
		const char *max = sbx_jstr(body, "max");
		if (max != NULL && !px_money(max, &r->max)) {
			sbx_resp_json(rs, 400, json_pack("{s:s}", "error", "max: 0.00 format"));
			return;
		}
		snprintf(r->journey, sizeof(r->journey), "%s",
			 r->loc_id[0] == '\0'  ? "JORNADA_1"
			 : r->jtxid[0] != '\0' ? "JORNADA_3"
					       : "JORNADA_2");
		if (r->id_solic[0] != '\0')
			snprintf(r->solic_status, sizeof(r->solic_status), "ACEITA");
		px_rec_set(s, org, r, "APROVADA", NULL, NULL);
	} else if (strcmp(action, "reject") == 0 && created) {
		px_rec_set(s, org, r, "REJEITADA", "", "AP13");
	} else if (strcmp(action, "expire") == 0 && created) {
		px_rec_set(s, org, r, "EXPIRADA", NULL, NULL);
	} else if (strcmp(action, "cancel") == 0 && strcmp(r->status, "APROVADA") == 0) {
		px_rec_set(s, org, r, "CANCELADA", "USUARIO_PAGADOR", "SLDB");
	} else {
		sbx_resp_json(rs, 409,
			      json_pack("{s:s, s:s}", "error",
					"approve/reject/expire need CRIADA, cancel needs APROVADA",
					"status", r->status));
		return;
	}
	sbx_resp_json(rs, 200, json_pack("{s:s, s:s}", "idRec", r->id, "status", r->status));
}

/*
 * POST /control/pix/cobs/{txid}/pay [{"opt_in":true}]: the payer pays the cob or
 * cobv by its QR. A journey-3 cob approves its rec (tipoJornada JORNADA_3); a
 * journey-4 cobv approves the rec its QR named only with opt_in. The /pix
 * callback goes first, then the rec's.
 * POST /control/pix/cobs/{txid}/expire: the QR is left unpaid until it expires:
 * the charge is REMOVIDA_PELO_PSP and a rec waiting on it EXPIRADA.
 */
void sbx_pix_control_cob(sbx_t *s, const char *txid, const char *action, json_t *body,
			 sbx_resp_t *rs)
{
	px_cob_t *c = px_cob_find(s, NULL, txid);
	sbx_org_t *org = c != NULL ? sbx_org_find(s, c->org) : NULL;
	px_rec_t *r = org != NULL && c->id_rec[0] != '\0' ? px_rec_find(s, org, c->id_rec) : NULL;
	bool opt_in = sbx_jbool(body, "opt_in", false);
	int64_t due = 0;
	json_t *j;

	if (c == NULL || org == NULL) {
		sbx_resp_json(rs, 404, json_pack("{s:s}", "error", "no such cob or cobv"));
		return;
	}
	if (strcmp(action, "pay") != 0 && strcmp(action, "expire") != 0) {
		sbx_resp_json(rs, 404, json_pack("{s:s}", "error", "action: pay or expire"));
		return;
	}
	if (strcmp(c->status, "ATIVA") != 0) {
		sbx_resp_json(rs, 409,
			      json_pack("{s:s, s:s}", "error", "the charge is not ATIVA", "status",
					c->status));
		return;
	}
	if (opt_in && !c->cobv) {
		sbx_resp_json(rs, 400,
			      json_pack("{s:s}", "error", "opt_in is journey 4's (a cobv)"));
		return;
	}
	if (strcmp(action, "expire") == 0) {
		snprintf(c->status, sizeof(c->status), "REMOVIDA_PELO_PSP");
		if (r != NULL && strcmp(r->status, "CRIADA") == 0)
			px_rec_set(s, org, r, "EXPIRADA", NULL, NULL);
	} else {
		if (c->cobv && px_date(c->due, &due) && px_today(s) > due + c->validity) {
			sbx_resp_json(rs, 409,
				      json_pack("{s:s}", "error", "the cobv is past its validity"));
			return;
		}
		snprintf(c->status, sizeof(c->status), "CONCLUIDA");
		px_e2e(s, c->paid_e2e);
		c->paid_ms = util_wall_ms();
		sbx_charge_record(s, "pix", org->id, c->txid, c->paid_e2e, c->amount, true,
				  c->status, "", c->cobv ? "cobv paid" : "cob paid", 1);
		px_notify(s, org, PX_HOOK_PIX,
			  px_pix_json(c->paid_e2e, c->txid, c->amount, c->paid_ms));
		if (r != NULL && strcmp(r->status, "CRIADA") == 0 && (!c->cobv || opt_in)) {
			snprintf(r->journey, sizeof(r->journey), "%s",
				 c->cobv ? "JORNADA_4" : "JORNADA_3");
			px_rec_set(s, org, r, "APROVADA", NULL, NULL);
		}
	}
	j = json_pack("{s:s, s:s}", "txid", c->txid, "status", c->status);
	if (c->paid_e2e[0] != '\0')
		json_object_set_new(j, "endToEndId", json_string(c->paid_e2e));
	if (r != NULL)
		json_object_set_new(j, "rec",
				    json_pack("{s:s, s:s, s:s}", "idRec", r->id, "status",
					      r->status, "tipoJornada", r->journey));
	sbx_resp_json(rs, 200, j);
}

/*
 * What the sandbox's Pix tests share (after sbx_harness.h): organizations 7
 * and 8 registered at the Pix PSP (7 with the Pix key PX_KEY), the PSP's
 * "today" pinned to 2027-03-01, organization 7's bearer token, requests with
 * it, and the BR Code checks.
 */
#ifndef OSPAY_TESTS_SANDBOX_PIX_HARNESS_H
#define OSPAY_TESTS_SANDBOX_PIX_HARNESS_H

#include <stdarg.h>

#include "sbx_harness.h"

#define PX_KEY "cobranca@isp.example"

static char TOKEN[96];

static inline void token_for(const char *basic, char *out, size_t cap)
{
	char auth[160];
	const char *hdrs[] = {auth, "Content-Type: application/x-www-form-urlencoded", NULL};
	h_resp_t *r;
	snprintf(auth, sizeof(auth), "Authorization: Basic %s", basic);
	r = h_req("POST", "/pix/oauth/token", hdrs, "grant_type=client_credentials", 0);
	cr_assert_eq(r->status, 200, "%s", r->body);
	snprintf(out, cap, "Authorization: Bearer %s",
		 json_string_value(json_object_get(r->json, "access_token")));
	h_free(r);
}

static inline void px_setup(void)
{
	h_setup();
	h_fresh();
	h_ctl_ok("POST", "/control/orgs/7/pix",
		 "{\"client_id\":\"pcid-7\",\"client_secret\":\"ps-7\",\"pix_key\":\"" PX_KEY
		 "\"}");
	h_ctl_ok("POST", "/control/orgs/8/pix",
		 "{\"client_id\":\"pcid-8\",\"client_secret\":\"ps-8\"}");
	h_ctl_ok("POST", "/control/pix/settle", "{\"date\":\"2027-03-01\"}");
	/* base64("pcid-7:ps-7") */
	token_for("cGNpZC03OnBzLTc=", TOKEN, sizeof(TOKEN));
}

/* A request with org 7's token (or hdr instead when not NULL); returns the status
 * and, when type is not NULL, the last segment of the problem's type. */
static inline long px(const char *method, const char *path, const char *body, const char *hdr,
		      char *type, size_t cap)
{
	const char *hdrs[] = {hdr != NULL ? hdr : TOKEN, "Content-Type: application/json", NULL};
	h_resp_t *r = h_req(method, path, hdrs, body, 0);
	long st = r->status;
	if (type != NULL) {
		const char *t = json_string_value(json_object_get(r->json, "type"));
		const char *slash = t != NULL ? strrchr(t, '/') : NULL;
		snprintf(type, cap, "%s", slash != NULL ? slash + 1 : "");
	}
	h_free(r);
	return st;
}

/* The same, asserting the status; the caller frees the response. */
static inline h_resp_t *px_ok(const char *method, const char *path, const char *body, long expect)
{
	const char *hdrs[] = {TOKEN, "Content-Type: application/json", NULL};
	h_resp_t *r = h_req(method, path, hdrs, body, 0);
	cr_assert_eq(r->status, expect, "%s %s -> %ld %s", method, path, r->status, r->body);
	return r;
}

/*
 * POST /pix/rec: debtor cpf, monthly from 2027-03-05, R$ 10.00, PERMITE_3R_7D, on a new
 * location when loc, journey 3 with the cob jtxid when not NULL; asserts expect. The
 * caller frees; the idRec is in ->json.
 */
static inline h_resp_t *px_rec_new(const char *cpf, bool loc, const char *jtxid, long expect)
{
	char body[640], l[40] = "", j[96] = "";
	if (loc) {
		h_resp_t *lr = px_ok("POST", "/pix/locrec", NULL, 201);
		snprintf(l, sizeof(l), ",\"loc\":%lld",
			 (long long)json_integer_value(json_object_get(lr->json, "id")));
		h_free(lr);
	}
	if (jtxid != NULL)
		snprintf(j, sizeof(j), ",\"ativacao\":{\"dadosJornada\":{\"txid\":\"%s\"}}", jtxid);
	snprintf(
		body, sizeof(body),
		"{\"vinculo\":{\"contrato\":\"c\",\"devedor\":{\"cpf\":\"%s\",\"nome\":\"F\"}},"
		"\"calendario\":{\"dataInicial\":\"2027-03-05\",\"periodicidade\":\"MENSAL\"},"
		"\"valor\":{\"valorRec\":\"10.00\"},\"politicaRetentativa\":\"PERMITE_3R_7D\"%s%s}",
		cpf, l, j);
	return px_ok("POST", "/pix/rec", body, expect);
}

/* A string member along a path of keys ("a", "b", NULL), "" when absent. */
static inline const char *px_str(const json_t *j, ...)
{
	va_list ap;
	const char *k;
	va_start(ap, j);
	while (j != NULL && (k = va_arg(ap, const char *)) != NULL)
		j = json_object_get(j, k);
	va_end(ap);
	return json_is_string(j) ? json_string_value(j) : "";
}

/* The request line of webhook i ("POST /webhooks/pix/7?... HTTP/1.1"). */
static inline void px_hook_line(int i, char *out, size_t cap)
{
	static char raw[H_BODY_MAX];
	h_hook_read(i, raw, sizeof(raw));
	snprintf(out, cap, "%.*s", (int)strcspn(raw, "\r"), raw);
}

/* True when the BR Code's tag 63 is the CRC-16/CCITT-FALSE of all before its value. */
static inline bool px_crc_ok(const char *qr)
{
	size_t n = strlen(qr);
	unsigned crc = 0xFFFF;
	char want[5];
	if (n < 8 || strncmp(qr + n - 8, "6304", 4) != 0)
		return false;
	for (size_t i = 0; i < n - 4; i++) {
		crc ^= (unsigned)(unsigned char)qr[i] << 8;
		for (int b = 0; b < 8; b++)
			crc = (crc & 0x8000) ? ((crc << 1) ^ 0x1021) & 0xFFFF : (crc << 1) & 0xFFFF;
	}
	snprintf(want, sizeof(want), "%04X", crc);
	return strcmp(qr + n - 4, want) == 0;
}

#endif

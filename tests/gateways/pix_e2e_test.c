/*
 * The Pix Automático adapter against the real ospay-sandbox over real HTTP:
 * a QR authorization approved by the payer, a month charged and paid on its
 * due date, a month failed then retried (on the day core/pix.h plans) and
 * paid, retries refused under NAO_PERMITE, the payer's maximum exceeded, the
 * payer canceling the authorization, a receiver cancel before the deadline
 * and refused on the due date, one instruction per cycle (also after a reset
 * that lost the answer to a PUT the PSP processed), faults, and the /rec and
 * /cobr callbacks delivered to a recording responder (authenticated and parsed
 * by the adapter, duplicated by a webhook fault with the same derived id).
 *
 * With its mutual-TLS listener, the sandbox answers the adapter only when the
 * adapter presents the client certificate (given as PEM text, from memory).
 *
 * The sandbox's "today" is pinned through /control/pix/settle: nothing here
 * depends on the wall clock's date.
 */
#include <criterion/criterion.h>

#include <errno.h>
#include <jansson.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <uv.h>

#include "common/util.h"
#include "core/date.h"
#include "core/pix.h"
#include "gateways/gateway.h"
#include "net/http_client.h"
#include "net/tls.h"
#include "support/gwsrv.h"
#include "support/proc.h"
#include "support/wait.h"

#define HOOK_SECRET "hook-secret-7"
#define HOOK_URL "https://ospay.example/webhooks/pix/7"

static tsp_sandbox_t S;
static gwsrv_t H; /* where the sandbox delivers webhooks */

static struct {
	uv_loop_t loop;
	http_client_t *http;
	gw_t *gw;
	int closed;
	bool open;
} F;

/* ---------------------------------------------------------------- control API */

static json_t *ctl(const char *method, const char *path, const char *body, int expect)
{
	static char out[64 * 1024];
	char url[512];
	int st;

	snprintf(url, sizeof(url), "%s%s", S.base, path);
	st = tsp_http(method, url, body, "Content-Type: application/json", NULL, out, sizeof(out));
	cr_assert_eq(st, expect, "%s %s -> %d %s", method, path, st, out);
	return json_loads(out, 0, NULL);
}

static void ctl_ok(const char *method, const char *path, const char *body, int expect)
{
	json_decref(ctl(method, path, body, expect));
}

static void settle(const char *date)
{
	char b[64];
	snprintf(b, sizeof(b), "{\"date\":\"%s\"}", date);
	ctl_ok("POST", "/control/pix/settle", b, 200);
}

static void fault(const char *route, const char *kind, bool process)
{
	char b[256];
	snprintf(
		b, sizeof(b),
		"{\"service\":\"pix\",\"route\":\"%s\",\"kind\":\"%s\",\"count\":1,\"process\":%s}",
		route, kind, process ? "true" : "false");
	ctl_ok("POST", "/control/faults", b, 201);
}

/* ---------------------------------------------------------------- fixture */

static void setup(void)
{
	static const gwsrv_rule_t hooks[] = {{"POST", "/*", 200, "{}", GWSRV_REPLY, 0, 0}};
	http_client_opts_t o = {.proxy = ""};
	char log[128];

	memset(&F, 0, sizeof(F));
	signal(SIGPIPE, SIG_IGN);
	cr_assert_eq(gwsrv_start(&H, hooks, 1), 0);
	snprintf(log, sizeof(log), "/tmp/ospay-pixe2e-sandbox-%d.log", (int)getpid());
	tsp_sandbox_start(&S, H.base, NULL, log);
	ctl_ok("POST", "/control/orgs/7/pix",
	       "{\"client_id\":\"pix-cid-7\",\"client_secret\":\"pix-secret-7\"}", 200);
	settle("2027-03-01");
	cr_assert_eq(uv_loop_init(&F.loop), 0);
	cr_assert_eq(http_client_init(&F.http, &F.loop, &o), 0);
	F.open = true;
}

static void on_closed(void *arg)
{
	(void)arg;
	F.closed++;
}

static void finish(void)
{
	gw_close(F.gw);
	F.gw = NULL;
	http_client_close(F.http, on_closed, NULL);
	cr_assert_eq(uv_run(&F.loop, UV_RUN_DEFAULT), 0);
	cr_assert_eq(F.closed, 1);
	cr_assert_eq(uv_loop_close(&F.loop), 0, "handles left on the loop");
	F.open = false;
}

static void teardown(void)
{
	if (F.open) {
		gw_close(F.gw);
		http_client_close(F.http, NULL, NULL);
		uv_run(&F.loop, UV_RUN_DEFAULT);
		uv_loop_close(&F.loop);
	}
	tsp_sandbox_down(&S);
	unlink(S.log_path);
	gwsrv_stop(&H);
}

TestSuite(pix_e2e, .init = setup, .fini = teardown, .timeout = 120);

/* Organization 7's Pix settings at base (the sandbox's URL + "/pix"). */
static gw_config_t pix_cfg(const char *base, const char *secret)
{
	gw_config_t c = {0};
	c.kind = GW_KIND_PIX;
	c.base_url = base;
	c.client_id = "pix-cid-7";
	c.client_secret = secret;
	c.pix_account = "012682";
	c.webhook_secret = HOOK_SECRET;
	c.timeout_ms = TSP_HANG_MS;
	return c;
}

static gw_t *pix_open(const gw_config_t *c)
{
	status_t st;
	cr_assert_eq(gw_open(&F.gw, F.http, &F.loop, c, &st), 0, "%s", st.message);
	return F.gw;
}

static gw_t *pix_gw(const char *secret)
{
	char base[160];
	gw_config_t c;

	snprintf(base, sizeof(base), "%s/pix", S.base);
	c = pix_cfg(base, secret);
	return pix_open(&c);
}

/* ---------------------------------------------------------------- one call at a time */

struct res {
	int calls;
	gw_pix_result_t r;
};

static void on_pix(const gw_pix_result_t *r, void *arg)
{
	struct res *x = arg;
	x->calls++;
	x->r = *r;
}

/* Runs the loop until the call's callback ran (exactly once). */
static gw_pix_result_t wait_res(struct res *x, int rc)
{
	cr_assert_eq(rc, 0, "call refused: %d", rc);
	cr_assert_eq(x->calls, 0, "callback inside the call");
	while (x->calls == 0)
		uv_run(&F.loop, UV_RUN_ONCE);
	cr_assert_eq(x->calls, 1);
	return x->r;
}

/* One call and its result: CALL(gw_pix_xxx(gw, ..., on_pix, X)). */
static struct res X_;
#define X (&X_)
#define CALL(expr) (memset(&X_, 0, sizeof(X_)), wait_res(&X_, (expr)))

/* A rec for the sandbox's payer from first_date (fixed 0: the amount varies). */
static gw_pix_rec_req_t payer_rec(const char *contract, const char *first_date, int64_t fixed,
				  bool retries)
{
	gw_pix_rec_req_t r = {.contract = contract,
			      .debtor_doc = "45164632481",
			      .debtor_name = "Fulano de Tal",
			      .first_date = first_date,
			      .fixed_cents = fixed,
			      .retries = retries};
	return r;
}

/* An approved rec (QR journey 2) of amount fixed (0: variable) with the given policy. */
static void approved_rec(gw_t *gw, int64_t fixed, bool retries, const char *approve_body,
			 char id_rec[GW_ID_MAX])
{
	gw_pix_rec_req_t r = payer_rec("svc-42", "2027-03-10", fixed, retries);
	gw_pix_result_t res;
	char path[128];

	res = CALL(gw_pix_create_location(gw, on_pix, X));
	cr_assert_eq(res.r.outcome, GW_OUTCOME_APPROVED, "%s", res.r.message);
	r.object = "Internet 300 Mb";
	r.loc_id = res.loc_id;
	res = CALL(gw_pix_create_rec(gw, &r, on_pix, X));
	cr_assert_eq(res.r.outcome, GW_OUTCOME_PENDING, "%s", res.r.message);
	cr_assert(pix_idrec_valid(res.id_rec), "%s", res.id_rec);
	cr_assert_eq(res.id_rec[1], retries ? 'R' : 'N');
	strcpy(id_rec, res.id_rec);
	/* The QR the customer gets (by WhatsApp, next session). */
	res = CALL(gw_pix_query_rec(gw, id_rec, NULL, on_pix, X));
	cr_assert_str_eq(res.journey, "JORNADA_2");
	cr_assert(strstr(res.copia_e_cola, "br.gov.bcb.pix") != NULL);
	snprintf(path, sizeof(path), "/control/pix/recs/%s/approve", id_rec);
	ctl_ok("POST", path, approve_body, 200);
	res = CALL(gw_pix_query_rec(gw, id_rec, NULL, on_pix, X));
	cr_assert_eq(res.r.outcome, GW_OUTCOME_APPROVED);
	cr_assert_str_eq(res.status, "APROVADA");
}

static void txid_for(const char *invoice, const char *due, char out[PIX_TXID_SIZE])
{
	int64_t day;
	cr_assert_eq(date_parse(due, &day), 0);
	cr_assert_eq(pix_txid("org7", invoice, day, out), 0);
}

/* invoice's cobr due on due under id_rec; its txid (the invoice's and the day's) into txid. */
static gw_pix_result_t put_cobr(gw_t *gw, const char *id_rec, const char *invoice, const char *due,
				int64_t amount, char txid[PIX_TXID_SIZE])
{
	txid_for(invoice, due, txid);
	gw_pix_cobr_req_t c = {txid, id_rec, due, amount, "Internet, marco"};
	return CALL(gw_pix_put_cobr(gw, &c, on_pix, X));
}

/* An approved rec and invoice's cobr due 2027-03-10 whose attempts end as outcomes
 * says (a JSON array), the due date's settlement run: the first attempt has failed. */
static void month_failed(gw_t *gw, bool retries, const char *invoice, const char *outcomes,
			 char id_rec[GW_ID_MAX], char txid[PIX_TXID_SIZE])
{
	char path[160], body[160];
	gw_pix_result_t r;

	approved_rec(gw, 9990, retries, NULL, id_rec);
	r = put_cobr(gw, id_rec, invoice, "2027-03-10", 9990, txid);
	cr_assert_eq(r.r.outcome, GW_OUTCOME_PENDING, "%s", r.r.message);
	snprintf(path, sizeof(path), "/control/pix/cobrs/%s/outcomes", txid);
	snprintf(body, sizeof(body), "{\"outcomes\":%s}", outcomes);
	ctl_ok("POST", path, body, 200);
	settle("2027-03-10");
	r = CALL(gw_pix_query_cobr(gw, txid, on_pix, X));
	cr_assert_eq(r.outcome_detail, PIX_OUT_ATTEMPT_FAILED, "%s", r.status);
}

/* ---------------------------------------------------------------- tests */

Test(pix_e2e, qr_authorized_then_a_month_paid_on_the_due_date)
{
	gw_t *gw = pix_gw("pix-secret-7");
	char id_rec[GW_ID_MAX], txid[PIX_TXID_SIZE];
	gw_pix_result_t r;

	approved_rec(gw, 9990, true, NULL, id_rec);
	r = put_cobr(gw, id_rec, "inv-1", "2027-03-10", 9990, txid);
	cr_assert_eq(r.r.outcome, GW_OUTCOME_PENDING, "%s", r.r.message);
	r = CALL(gw_pix_query_cobr(gw, txid, on_pix, X));
	cr_assert_str_eq(r.status, "ATIVA");
	cr_assert_eq(r.n_attempts, 1);
	cr_assert_str_eq(r.attempts[0].status, "AGENDADA");
	cr_assert_eq(r.outcome_detail, PIX_OUT_PENDING);
	/* The day before: nothing settles. */
	settle("2027-03-09");
	r = CALL(gw_pix_query_cobr(gw, txid, on_pix, X));
	cr_assert_str_eq(r.status, "ATIVA");
	settle("2027-03-10");
	r = CALL(gw_pix_query_cobr(gw, txid, on_pix, X));
	cr_assert_eq(r.r.outcome, GW_OUTCOME_APPROVED, "%s", r.r.message);
	cr_assert_eq(r.outcome_detail, PIX_OUT_PAID);
	cr_assert_eq(strlen(r.end_to_end_id), 32);
	cr_assert_eq(r.amount_cents, 9990);
	finish();
}

Test(pix_e2e, journey_1_a_request_to_the_payers_app)
{
	gw_t *gw = pix_gw("pix-secret-7");
	gw_pix_rec_req_t r = payer_rec("svc-43", "2027-03-10", 9990, true);
	gw_pix_solicrec_req_t q = {0};
	gw_pix_result_t res;
	char id_rec[GW_ID_MAX], id_sol[GW_ID_MAX], path[192];

	res = CALL(gw_pix_create_rec(gw, &r, on_pix, X));
	cr_assert_eq(res.r.outcome, GW_OUTCOME_PENDING, "%s", res.r.message);
	strcpy(id_rec, res.id_rec);
	q.id_rec = id_rec;
	q.expires_at = "2027-03-05T12:00:00Z";
	q.ispb = "91193552";
	q.branch = "2569";
	q.account = "550689";
	q.doc = "45164632481";
	res = CALL(gw_pix_create_solicrec(gw, &q, on_pix, X));
	cr_assert_eq(res.r.outcome, GW_OUTCOME_PENDING, "%s", res.r.message);
	cr_assert_str_eq(res.status, "ENVIADA");
	strcpy(id_sol, res.id_solicrec);
	/* One active request per rec. */
	res = CALL(gw_pix_create_solicrec(gw, &q, on_pix, X));
	cr_assert_eq(res.r.outcome, GW_OUTCOME_REJECTED);
	snprintf(path, sizeof(path), "/control/pix/recs/%s/approve", id_rec);
	ctl_ok("POST", path, NULL, 200);
	res = CALL(gw_pix_query_solicrec(gw, id_sol, on_pix, X));
	cr_assert_eq(res.r.outcome, GW_OUTCOME_APPROVED, "%s", res.status);
	res = CALL(gw_pix_query_rec(gw, id_rec, NULL, on_pix, X));
	cr_assert_str_eq(res.journey, "JORNADA_1");
	/* An accepted request can no longer be canceled. */
	res = CALL(gw_pix_cancel_solicrec(gw, id_sol, on_pix, X));
	cr_assert_eq(res.r.outcome, GW_OUTCOME_REJECTED);
	finish();
}

Test(pix_e2e, a_month_failed_then_retried_on_the_planned_day_and_paid)
{
	gw_t *gw = pix_gw("pix-secret-7");
	char id_rec[GW_ID_MAX], txid[PIX_TXID_SIZE], day_s[16];
	pix_retry_cfg_t cfg = PIX_RETRY_DEFAULT;
	int64_t due, day;
	gw_pix_result_t r;

	month_failed(gw, true, "inv-2", "[\"AC06\",\"paid\"]", id_rec, txid);
	r = CALL(gw_pix_query_cobr(gw, txid, on_pix, X));
	cr_assert_str_eq(r.attempts[0].reason, "AC06");
	/* The retry the rules plan: D+1 (a Thursday). */
	date_parse("2027-03-10", &due);
	cr_assert_eq(pix_retry_next(&cfg, PIX_RETRY_3R_7D, due, 0, due, 0, 0, NULL, NULL, &day), 0);
	date_format(day, day_s, sizeof(day_s));
	cr_assert_str_eq(day_s, "2027-03-11");
	r = CALL(gw_pix_retry_cobr(gw, txid, day_s, on_pix, X));
	cr_assert_eq(r.r.outcome, GW_OUTCOME_PENDING, "%s", r.r.message);
	cr_assert_eq(r.n_attempts, 2);
	cr_assert_str_eq(r.attempts[1].kind, "NTAG");
	/* A second retry while one is scheduled is refused. */
	r = CALL(gw_pix_retry_cobr(gw, txid, "2027-03-12", on_pix, X));
	cr_assert_eq(r.r.outcome, GW_OUTCOME_REJECTED);
	cr_assert_str_eq(r.r.code, "CobROperacaoInvalida");
	settle("2027-03-11");
	r = CALL(gw_pix_query_cobr(gw, txid, on_pix, X));
	cr_assert_eq(r.outcome_detail, PIX_OUT_PAID, "%s", r.status);
	finish();
}

Test(pix_e2e, no_retry_under_nao_permite_and_none_past_seven_days)
{
	gw_t *gw = pix_gw("pix-secret-7");
	char id_rec[GW_ID_MAX], txid[PIX_TXID_SIZE];
	gw_pix_result_t r;

	month_failed(gw, false, "inv-3", "[\"AC06\"]", id_rec, txid);
	r = CALL(gw_pix_retry_cobr(gw, txid, "2027-03-11", on_pix, X));
	cr_assert_eq(r.r.outcome, GW_OUTCOME_REJECTED);
	cr_assert(strstr(r.r.message, "retentativa") != NULL, "%s", r.r.message);
	/* With PERMITE_3R_7D: D+8 is refused, D+7 accepted. */
	month_failed(gw, true, "inv-3b", "[\"AC06\"]", id_rec, txid);
	r = CALL(gw_pix_retry_cobr(gw, txid, "2027-03-18", on_pix, X));
	cr_assert_eq(r.r.outcome, GW_OUTCOME_REJECTED, "%s", r.r.message);
	r = CALL(gw_pix_retry_cobr(gw, txid, "2027-03-17", on_pix, X));
	cr_assert_eq(r.r.outcome, GW_OUTCOME_PENDING, "%s", r.r.message);
	finish();
}

Test(pix_e2e, one_instruction_per_cycle_even_after_a_lost_answer)
{
	gw_t *gw = pix_gw("pix-secret-7");
	char id_rec[GW_ID_MAX], txid[PIX_TXID_SIZE], other[PIX_TXID_SIZE];
	gw_pix_result_t r;
	json_t *j;

	approved_rec(gw, 9990, true, NULL, id_rec);
	/* The PSP processes the PUT and the connection resets before the answer. */
	fault("cobr_put", "reset", true);
	r = put_cobr(gw, id_rec, "inv-4", "2027-03-10", 9990, txid);
	cr_assert_eq(r.r.outcome, GW_OUTCOME_UNKNOWN, "%s", r.r.message);
	/* Resolved by GET before anything else: it exists. */
	r = CALL(gw_pix_query_cobr(gw, r.txid, on_pix, X));
	cr_assert_eq(r.r.outcome, GW_OUTCOME_PENDING, "%s", r.r.message);
	/* Sending again anyway is refused, and so is another txid for the same cycle. */
	r = put_cobr(gw, id_rec, "inv-4", "2027-03-10", 9990, txid);
	cr_assert_eq(r.r.outcome, GW_OUTCOME_REJECTED);
	r = put_cobr(gw, id_rec, "inv-4b", "2027-03-12", 9990, other);
	cr_assert_eq(r.r.outcome, GW_OUTCOME_REJECTED);
	cr_assert(strstr(r.r.message, "ciclo") != NULL, "%s", r.r.message);
	/* The PSP holds one instruction for the txid. */
	{
		char path[160];
		json_int_t count = -1;
		snprintf(path, sizeof(path), "/control/charges?merchant_order_id=%s", txid);
		j = ctl("GET", path, NULL, 200);
		cr_assert_not_null(j);
		cr_assert_eq(json_unpack(j, "{s:I}", "count", &count), 0);
		cr_assert_eq(count, 1);
		json_decref(j);
	}
	/* A fixed-amount rec refuses any other amount. */
	r = put_cobr(gw, id_rec, "inv-5", "2027-04-10", 9991, other);
	cr_assert_eq(r.r.outcome, GW_OUTCOME_REJECTED);
	finish();
}

Test(pix_e2e, cancel_before_the_due_date_not_on_it)
{
	gw_t *gw = pix_gw("pix-secret-7");
	char id_rec[GW_ID_MAX], t1[PIX_TXID_SIZE], t2[PIX_TXID_SIZE];
	gw_pix_result_t r;

	approved_rec(gw, 9990, true, NULL, id_rec);
	put_cobr(gw, id_rec, "inv-6", "2027-03-10", 9990, t1);
	r = CALL(gw_pix_cancel_cobr(gw, t1, on_pix, X));
	cr_assert_eq(r.r.outcome, GW_OUTCOME_CANCELED, "%s", r.r.message);
	cr_assert_str_eq(r.ended_by, "USUARIO_RECEBEDOR");
	/* A canceled cobr frees the cycle. */
	r = put_cobr(gw, id_rec, "inv-6", "2027-03-15", 9990, t2);
	cr_assert_eq(r.r.outcome, GW_OUTCOME_PENDING, "%s", r.r.message);
	settle("2027-03-15");
	r = CALL(gw_pix_cancel_cobr(gw, t2, on_pix, X));
	cr_assert_eq(r.r.outcome, GW_OUTCOME_REJECTED, "too late: %s", r.r.message);
	finish();
}

Test(pix_e2e, payer_cancels_one_scheduled_payment)
{
	gw_t *gw = pix_gw("pix-secret-7");
	char id_rec[GW_ID_MAX], txid[PIX_TXID_SIZE], path[160];
	gw_pix_result_t r;

	approved_rec(gw, 9990, true, NULL, id_rec);
	put_cobr(gw, id_rec, "inv-11", "2027-03-10", 9990, txid);
	snprintf(path, sizeof(path), "/control/pix/cobrs/%s/payer-cancel", txid);
	ctl_ok("POST", path, NULL, 200);
	r = CALL(gw_pix_query_cobr(gw, txid, on_pix, X));
	cr_assert_eq(r.r.outcome, GW_OUTCOME_CANCELED);
	cr_assert_str_eq(r.ended_by, "USUARIO_PAGADOR");
	cr_assert_eq(r.outcome_detail, PIX_OUT_FAILED, "for the invoice, a failed charge");
	/* On the day itself it is too late. */
	put_cobr(gw, id_rec, "inv-12", "2027-04-10", 9990, txid);
	settle("2027-04-10");
	snprintf(path, sizeof(path), "/control/pix/cobrs/%s/payer-cancel", txid);
	ctl_ok("POST", path, NULL, 409);
	finish();
}

Test(pix_e2e, payer_maximum_exceeded_fails_the_cobr)
{
	gw_t *gw = pix_gw("pix-secret-7");
	char id_rec[GW_ID_MAX], txid[PIX_TXID_SIZE];
	gw_pix_result_t r;
	pix_reason_info_t ri;

	approved_rec(gw, 0, true, "{\"max\":\"50.00\"}", id_rec);
	put_cobr(gw, id_rec, "inv-7", "2027-03-10", 9990, txid);
	r = CALL(gw_pix_query_cobr(gw, txid, on_pix, X));
	cr_assert_eq(r.r.outcome, GW_OUTCOME_DECLINED);
	cr_assert_eq(r.outcome_detail, PIX_OUT_FAILED);
	pix_reason_classify(r.end_code, &ri);
	cr_assert_eq(ri.kind, PIX_REASON_ABOVE_MAX, "%s", r.end_code);
	finish();
}

Test(pix_e2e, payer_cancels_the_authorization)
{
	gw_t *gw = pix_gw("pix-secret-7");
	char id_rec[GW_ID_MAX], txid[PIX_TXID_SIZE], path[160];
	enum pix_auth_state st;
	gw_pix_result_t r;

	approved_rec(gw, 9990, true, NULL, id_rec);
	put_cobr(gw, id_rec, "inv-8", "2027-03-10", 9990, txid);
	snprintf(path, sizeof(path), "/control/pix/recs/%s/cancel", id_rec);
	ctl_ok("POST", path, NULL, 200);
	r = CALL(gw_pix_query_rec(gw, id_rec, NULL, on_pix, X));
	cr_assert_eq(r.r.outcome, GW_OUTCOME_CANCELED);
	cr_assert_eq(pix_auth_from_rec(r.status, r.ended_by, &st), 0);
	cr_assert_eq(st, PIX_AUTH_CANCELED_PAYER);
	cr_assert_eq(pix_auth_step(PIX_AUTH_ACCEPTED, st), PIX_STEP_OK);
	/* The scheduled payment goes with it. */
	r = CALL(gw_pix_query_cobr(gw, txid, on_pix, X));
	cr_assert_eq(r.r.outcome, GW_OUTCOME_CANCELED);
	/* And a receiver cancel of a canceled rec is refused. */
	r = CALL(gw_pix_cancel_rec(gw, id_rec, on_pix, X));
	cr_assert_eq(r.r.outcome, GW_OUTCOME_REJECTED);
	finish();
}

Test(pix_e2e, faults_and_wrong_credentials)
{
	gw_t *gw;
	gw_pix_result_t r;
	char txid[PIX_TXID_SIZE];

	txid_for("inv-9", "2027-03-10", txid);
	gw = pix_gw("wrong-secret");
	r = CALL(gw_pix_query_cobr(gw, txid, on_pix, X));
	cr_assert_eq(r.r.outcome, GW_OUTCOME_AUTH_FAILED, "%s", r.r.message);
	gw_close(gw);
	gw = pix_gw("pix-secret-7");
	r = CALL(gw_pix_query_cobr(gw, txid, on_pix, X));
	cr_assert_eq(r.r.outcome, GW_OUTCOME_NOT_FOUND);
	fault("cobr_get", "http500", false);
	r = CALL(gw_pix_query_cobr(gw, txid, on_pix, X));
	cr_assert_eq(r.r.outcome, GW_OUTCOME_ERROR_RETRYABLE, "%s", r.r.message);
	fault("locrec_create", "malformed", true);
	r = CALL(gw_pix_create_location(gw, on_pix, X));
	cr_assert_eq(r.r.outcome, GW_OUTCOME_UNKNOWN, "%s", r.r.message);
	finish();
}

/* A recorded delivery as ospay's listener would hand it to the adapter. */
static gw_webhook_req_t hook_req(const gwsrv_req_t *got)
{
	gw_webhook_req_t w = {0};
	w.method = "POST";
	w.query = strchr(got->target, '?') + 1;
	w.body = (const uint8_t *)got->body;
	w.body_len = got->body_len;
	return w;
}

/* The recorded webhook deliveries to /webhooks/pix/7 whose query ends in suffix. */
static size_t hooks(const char *suffix, gwsrv_req_t **out)
{
	gwsrv_req_t *all;
	size_t n = gwsrv_requests(&H, &all), k = 0;
	*out = calloc(n + 1, sizeof(**out));
	for (size_t i = 0; i < n; i++) {
		const char *t = all[i].target;
		size_t tl = strlen(t), sl = strlen(suffix);
		if (strncmp(t, "/webhooks/pix/7?", 16) == 0 && tl >= sl &&
		    strcmp(t + tl - sl, suffix) == 0) {
			(*out)[k] = all[i];
			memset(&all[i], 0, sizeof(all[i]));
			k++;
		}
	}
	gwsrv_reqs_free(all, n);
	return k;
}

Test(pix_e2e, callbacks_reach_ospay_authenticated_and_duplicated)
{
	gw_t *gw = pix_gw("pix-secret-7");
	char id_rec[GW_ID_MAX], txid[PIX_TXID_SIZE];
	gwsrv_req_t *got = NULL;
	gw_pix_result_t r;
	size_t n = 0;

	r = CALL(gw_pix_register_webhook(gw, GW_PIX_HOOK_REC, HOOK_URL, on_pix, X));
	cr_assert_eq(r.r.outcome, GW_OUTCOME_APPROVED, "%s", r.r.message);
	r = CALL(gw_pix_register_webhook(gw, GW_PIX_HOOK_COBR, HOOK_URL, on_pix, X));
	cr_assert_eq(r.r.outcome, GW_OUTCOME_APPROVED, "%s", r.r.message);
	ctl_ok("POST", "/control/webhook-faults",
	       "{\"service\":\"pix\",\"kind\":\"duplicate\",\"copies\":1,\"count\":1}", 201);
	approved_rec(gw, 9990, true, NULL, id_rec);
	put_cobr(gw, id_rec, "inv-10", "2027-03-10", 9990, txid);
	/* rec APROVADA twice (the duplicate), cobr ATIVA once. */
	TSP_AWAIT((gwsrv_reqs_free(got, n), n = hooks("/rec", &got)) >= 2, "rec callbacks: %zu", n);
	gw_event_t ev0;
	for (size_t i = 0; i < n; i++) {
		gw_webhook_req_t w = hook_req(&got[i]);
		gw_event_t ev;
		cr_assert_eq(gw_verify_webhook(gw, &w), 0, "%s", got[i].target);
		cr_assert_eq(gw_parse_webhook(gw, &w, &ev), 0, "%s", ev.error);
		cr_assert_eq(ev.kind, GW_EVENT_RECURRENCE);
		cr_assert_str_eq(ev.recurrence_id, id_rec);
		if (i == 0)
			ev0 = ev;
		else
			cr_assert_str_eq(ev.event_id, ev0.event_id, "a duplicate keeps its id");
	}
	gwsrv_reqs_free(got, n);
	got = NULL;
	n = 0;
	TSP_AWAIT((gwsrv_reqs_free(got, n), n = hooks("/cobr", &got)) >= 1, "cobr callbacks");
	{
		gw_webhook_req_t w = hook_req(&got[0]);
		gw_event_t ev;
		cr_assert_eq(gw_parse_webhook(gw, &w, &ev), 0, "%s", ev.error);
		cr_assert_eq(ev.kind, GW_EVENT_PAYMENT_STATUS);
		cr_assert_str_eq(ev.payment_id, txid);
		/* A forged one (no secret) is refused. */
		w.query = "ignorar=/cobr";
		cr_assert_eq(gw_verify_webhook(gw, &w), -EACCES);
	}
	gwsrv_reqs_free(got, n);
	/* A callback whose secret a fault replaced (as a forger would send it) is refused. */
	ctl_ok("POST", "/control/webhook-faults",
	       "{\"service\":\"pix\",\"kind\":\"bad_auth\",\"count\":1}", 201);
	r = CALL(gw_pix_cancel_cobr(gw, txid, on_pix, X));
	cr_assert_eq(r.r.outcome, GW_OUTCOME_CANCELED, "%s", r.r.message);
	got = NULL;
	n = 0;
	TSP_AWAIT((gwsrv_reqs_free(got, n), n = hooks("/cobr", &got)) >= 2, "cobr callbacks");
	{
		gw_webhook_req_t w = hook_req(&got[n - 1]);
		cr_assert_eq(gw_verify_webhook(gw, &w), -EACCES, "%s", got[n - 1].target);
	}
	gwsrv_reqs_free(got, n);
	finish();
}

/* Reads a whole PEM file (the test's own; a real one comes unsealed from the store). */
static char *pem(const char *path)
{
	FILE *f = fopen(path, "rb");
	char *b = calloc(1, 65536);
	cr_assert_not_null(f);
	cr_assert_gt(fread(b, 1, 65535, f), 0);
	fclose(f);
	return b;
}

/* POST /locrec through a gateway with cfg and that client certificate (NULL: none). */
static gw_pix_result_t location_with(gw_config_t cfg, const char *cert, const char *key)
{
	gw_pix_result_t r;
	cfg.client_cert_pem = cert;
	cfg.client_key_pem = key;
	r = CALL(gw_pix_create_location(pix_open(&cfg), on_pix, X));
	gw_close(F.gw);
	F.gw = NULL;
	return r;
}

Test(pix_e2e, mutual_tls_the_certificate_opens_the_door)
{
	char dir[] = "/tmp/ospay-pixmtls-XXXXXX", p[6][96], base[160], log[128];
	const char *names[6] = {"srv.crt", "srv.key", "cli.crt", "cli.key", "oth.crt", "oth.key"};
	tsp_sandbox_t M;
	gw_config_t c;
	gw_pix_result_t r;
	char *cert, *key, *ocert, *okey;

	cr_assert_not_null(mkdtemp(dir));
	for (int i = 0; i < 6; i++)
		snprintf(p[i], sizeof(p[i]), "%s/%s", dir, names[i]);
	cr_assert_eq(tls_cert_generate(p[0], p[1], "localhost"), 0);
	cr_assert_eq(tls_cert_generate(p[2], p[3], "ospay-org7"), 0);
	cr_assert_eq(tls_cert_generate(p[4], p[5], "stranger"), 0);
	snprintf(log, sizeof(log), "%s/sandbox.log", dir);
	tsp_sandbox_start_mtls(&M, H.base, log, p[0], p[1], p[2]);
	{
		char url[160], out[512];
		snprintf(url, sizeof(url), "%s/control/orgs/7/pix", M.base);
		cr_assert_eq(
			tsp_http("POST", url,
				 "{\"client_id\":\"pix-cid-7\",\"client_secret\":\"pix-secret-7\"}",
				 "Content-Type: application/json", NULL, out, sizeof(out)),
			200);
	}
	cert = pem(p[2]);
	key = pem(p[3]);
	ocert = pem(p[4]);
	okey = pem(p[5]);
	snprintf(base, sizeof(base), "https://%s/pix", M.mtls_addr);
	c = pix_cfg(base, "pix-secret-7");
	c.ca_file = p[0];
	/* The organization's certificate: token and call go through. */
	r = location_with(c, cert, key);
	cr_assert_eq(r.r.outcome, GW_OUTCOME_APPROVED, "%s", r.r.message);
	/* A certificate the PSP does not know, or none: nothing is sent. */
	r = location_with(c, ocert, okey);
	cr_assert_eq(r.r.outcome, GW_OUTCOME_ERROR_RETRYABLE, "%s", r.r.message);
	cr_assert_lt(r.r.error, 0);
	r = location_with(c, NULL, NULL);
	cr_assert_eq(r.r.outcome, GW_OUTCOME_ERROR_RETRYABLE, "%s", r.r.message);
	finish();
	tsp_sandbox_down(&M);
	free(cert);
	free(key);
	free(ocert);
	free(okey);
	for (int i = 0; i < 6; i++)
		unlink(p[i]);
	unlink(log);
	rmdir(dir);
}

/* ---------------------------------------------------------------- journeys 3 and 4 */

#define PIX_KEY "cobranca@isp.example"

static gw_t *pix_gw_keyed(void)
{
	char base[160];
	gw_config_t c;

	snprintf(base, sizeof(base), "%s/pix", S.base);
	c = pix_cfg(base, "pix-secret-7");
	c.pix_key = PIX_KEY;
	return pix_open(&c);
}

/* A location and a rec on it (for journey 3 when jtxid is not NULL); its idRec into id. */
static void qr_rec(gw_t *gw, const char *jtxid, char id[GW_ID_MAX])
{
	gw_pix_rec_req_t r = payer_rec("svc-77", "2027-04-10", 9990, true);
	gw_pix_result_t res = CALL(gw_pix_create_location(gw, on_pix, X));

	r.loc_id = res.loc_id;
	r.journey_txid = jtxid;
	res = CALL(gw_pix_create_rec(gw, &r, on_pix, X));
	cr_assert_eq(res.r.outcome, GW_OUTCOME_PENDING, "%s", res.r.message);
	strcpy(id, res.id_rec);
}

static void cob_pay(const char *txid, const char *body)
{
	char path[128];
	snprintf(path, sizeof(path), "/control/pix/cobs/%s/pay", txid);
	ctl_ok("POST", path, body, 200);
}

Test(pix_e2e, journey_3_the_first_payment_authorizes)
{
	gw_t *gw = pix_gw_keyed();
	gw_pix_cob_req_t cob = {0};
	gw_pix_result_t r;
	char id[GW_ID_MAX], txid[PIX_TXID_SIZE];
	gwsrv_req_t *got = NULL;
	size_t n = 0;

	r = CALL(gw_pix_register_webhook(gw, GW_PIX_HOOK_PIX, HOOK_URL, on_pix, X));
	cr_assert_eq(r.r.outcome, GW_OUTCOME_APPROVED, "%s", r.r.message);
	txid_for("inv-j3", "2027-03-01", txid);
	cob.txid = txid;
	cob.amount_cents = 9990;
	cob.expires_s = 3600;
	cob.debtor_doc = "45164632481";
	cob.debtor_name = "Fulano de Tal";
	cob.info = "Primeira mensalidade";
	r = CALL(gw_pix_put_cob(gw, &cob, on_pix, X));
	cr_assert_eq(r.r.outcome, GW_OUTCOME_PENDING, "%s", r.r.message);
	cr_assert_gt(r.loc_id, 0);
	cr_assert_neq(r.location[0], '\0');
	qr_rec(gw, txid, id);
	r = CALL(gw_pix_query_rec(gw, id, txid, on_pix, X));
	cr_assert_str_eq(r.journey, "JORNADA_3");
	cr_assert(strncmp(r.copia_e_cola, "000201010212", 12) == 0, "%s", r.copia_e_cola);
	cob_pay(txid, NULL);
	r = CALL(gw_pix_query_cob(gw, txid, on_pix, X));
	cr_assert_eq(r.r.outcome, GW_OUTCOME_APPROVED, "%s", r.status);
	cr_assert_eq(strlen(r.end_to_end_id), 32);
	cr_assert_eq(r.amount_cents, 9990);
	r = CALL(gw_pix_query_rec(gw, id, NULL, on_pix, X));
	cr_assert_eq(r.r.outcome, GW_OUTCOME_APPROVED, "%s", r.status);
	cr_assert_str_eq(r.journey, "JORNADA_3");
	/* The Pix-received callback, authenticated and read by the adapter. */
	TSP_AWAIT((gwsrv_reqs_free(got, n), n = hooks("/pix", &got)) >= 1, "pix callbacks");
	{
		gw_webhook_req_t w = hook_req(&got[0]);
		gw_event_t ev;
		cr_assert_eq(gw_verify_webhook(gw, &w), 0);
		cr_assert_eq(gw_parse_webhook(gw, &w, &ev), 0, "%s", ev.error);
		cr_assert_eq(ev.kind, GW_EVENT_PAYMENT_STATUS);
		cr_assert_str_eq(ev.payment_id, txid);
	}
	gwsrv_reqs_free(got, n);
	finish();
}

Test(pix_e2e, journey_4_the_invoice_pix_and_the_opt_in)
{
	gw_t *gw = pix_gw_keyed();
	gw_pix_cobv_req_t v = {0};
	gw_pix_result_t r;
	char id[GW_ID_MAX], txid[PIX_TXID_SIZE];

	txid_for("inv-j4", "2027-03-10", txid);
	v.txid = txid;
	v.due_date = "2027-03-10";
	v.amount_cents = 15000;
	v.debtor_doc = "11222333000181";
	v.debtor_name = "Empresa SA";
	/* The answer is lost after the PSP made it: the query finds it. */
	fault("cobv_put", "reset", true);
	r = CALL(gw_pix_put_cobv(gw, &v, on_pix, X));
	cr_assert_eq(r.r.outcome, GW_OUTCOME_UNKNOWN, "%s", r.r.message);
	r = CALL(gw_pix_query_cobv(gw, txid, on_pix, X));
	cr_assert_eq(r.r.outcome, GW_OUTCOME_PENDING, "%s", r.r.message);
	cr_assert_str_eq(r.due_date, "2027-03-10");
	r = CALL(gw_pix_put_cobv(gw, &v, on_pix, X));
	cr_assert_eq(r.r.outcome, GW_OUTCOME_REJECTED, "one charge per txid");
	qr_rec(gw, NULL, id);
	r = CALL(gw_pix_query_rec(gw, id, txid, on_pix, X));
	cr_assert_str_eq(r.journey, "JORNADA_4");
	cob_pay(txid, "{\"opt_in\":true}");
	r = CALL(gw_pix_query_cobv(gw, txid, on_pix, X));
	cr_assert_eq(r.r.outcome, GW_OUTCOME_APPROVED, "%s", r.status);
	r = CALL(gw_pix_query_rec(gw, id, NULL, on_pix, X));
	cr_assert_eq(r.r.outcome, GW_OUTCOME_APPROVED, "%s", r.status);
	cr_assert_str_eq(r.journey, "JORNADA_4");
	finish();
}

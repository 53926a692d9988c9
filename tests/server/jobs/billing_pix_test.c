/*
 * What a PSP's answer about a cycle's instruction (GET /cobr/{txid}) does to
 * its charges, in-process (billing_pix_cobr_answer, the one path every Pix
 * answer goes through: the run's calls, its polls and the webhook inbox):
 * paid marks the invoice PAID, a failed attempt is DECLINED with the PSP's
 * reason and a retry or none by the authorization's policy, AM02 teaches the
 * payer's maximum, the payer canceling the payment is a failed charge, ospay's
 * cancel is CANCELED, a scheduled answer (the lying webhook's GET) and a
 * repeat change nothing, an unknown txid or status word is refused.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "common/log.h"
#include "common/util.h"
#include "core/date.h"
#include "core/pix.h"
#include "server/db/db.h"
#include "server/jobs/billing_pix.h"
#include "server/rpc/kit.h"
#include "server/rpc/srv.h"
#include "support/handlers.h"
#include "support/records.h"
#include "support/seed.h"

#define DUE "2027-03-10"
#define ID_REC "RR1234567820270301abcdefghijk"

static char dir[64];
static store_t *store;
static srv_t srv;
static srv_session_t sess;
static uint64_t service_id, invoice_id;
static char txid[PIX_TXID_SIZE];

/* What the fixture writes: the Pix gateway, the accepted authorization, attempt 1. */
static struct {
	bool retries;
	int64_t payer_max;
} F;

static int fixture_fn(store_txn_t *txn, void *arg)
{
	(void)arg;
	Ospay__V1__PixSettings ps = OSPAY__V1__PIX_SETTINGS__INIT;
	Ospay__V1__GatewayRecord g = OSPAY__V1__GATEWAY_RECORD__INIT;
	g.organization_id = 1;
	g.kind = 5;
	g.pix = &ps;
	uint8_t k[9];
	be64_put(k, 1);
	k[8] = 5;
	int rc = db_put_msg(txn, DB_GATEWAYS, k, sizeof(k), &g.base, 0);
	Ospay__V1__CustomerService *svc = NULL;
	if (rc == 0)
		rc = kit_load(txn, DB_SERVICES, service_id,
			      &ospay__v1__customer_service__descriptor, &svc);
	if (rc != 0)
		return rc;
	Ospay__V1__PixAuthorization pix = OSPAY__V1__PIX_AUTHORIZATION__INIT;
	pix.state = OSPAY__V1__PIX_AUTHORIZATION_STATE__PIX_AUTHORIZATION_STATE_ACCEPTED;
	pix.id_rec = ID_REC;
	pix.retries_allowed = F.retries;
	pix.payer_max_amount = F.payer_max;
	Ospay__V1__CustomerService copy = *svc;
	copy.pix = &pix;
	rc = db_put_by_id(txn, DB_SERVICES, copy.id, &copy.base);
	ospay__v1__customer_service__free_unpacked(svc, NULL);
	Ospay__V1__Charge c = OSPAY__V1__CHARGE__INIT;
	if (rc == 0)
		rc = store_seq_next(txn, "charge", &c.id);
	c.organization_id = 1;
	c.unit_id = 1;
	c.customer_id = 1;
	c.service_id = service_id;
	c.invoice_id = invoice_id;
	c.gateway = 5;
	c.amount = 9990;
	c.attempt = 1;
	c.recurring = true;
	c.rail = OSPAY__V1__PAYMENT_RAIL__PAYMENT_RAIL_PIX_AUTOMATICO;
	c.status = OSPAY__V1__CHARGE_STATUS__CHARGE_STATUS_PENDING;
	c.local_date = "2027-03-02";
	c.pix_txid = txid;
	c.merchant_order_id = txid;
	c.pix_settlement_date = DUE;
	c.psp_status = "AGENDADA";
	if (rc == 0)
		rc = db_charge_put(txn, NULL, &c);
	return rc;
}

static void setup_with(bool retries, int64_t payer_max)
{
	log_set_level(log_level_parse("error"));
	memset(&srv, 0, sizeof(srv));
	store = tsh_admin_up(&srv, &sess, dir, sizeof(dir), "billpix",
			     date_local_to_utc(date_from_civil(2027, 3, 10), 9 * 60, -180));
	uint64_t cust = tsh_customer(&srv, &sess, "Maria", "52998224725");
	service_id = tsh_service(&srv, &sess, cust, NULL);
	invoice_id = tsh_invoice(&srv, &sess, cust, service_id, DUE);
	cr_assert_eq(store_flush(store), 0);
	int64_t due = 0;
	cr_assert_eq(date_parse(DUE, &due), 0);
	char inv_s[24];
	snprintf(inv_s, sizeof(inv_s), "%llu", (unsigned long long)invoice_id);
	cr_assert_eq(pix_txid("1", inv_s, due, txid), 0);
	F.retries = retries;
	F.payer_max = payer_max;
	tsh_store_write(store, fixture_fn, NULL);
}

static void teardown(void)
{
	tsh_store_down(store, dir);
	store = NULL;
}

/* ---------------------------------------------------------------- answers */

static gw_pix_result_t R;

/* A cobr answer: its status, and one attempt on DUE (status, reason) when attempt is set. */
static void answer(const char *status, const char *attempt, const char *reason)
{
	memset(&R, 0, sizeof(R));
	R.r.outcome = GW_OUTCOME_PENDING;
	snprintf(R.txid, sizeof(R.txid), "%s", txid);
	snprintf(R.status, sizeof(R.status), "%s", status);
	if (attempt != NULL) {
		R.n_attempts = 1;
		snprintf(R.attempts[0].date, sizeof(R.attempts[0].date), "%s", DUE);
		snprintf(R.attempts[0].kind, sizeof(R.attempts[0].kind), "AGND");
		snprintf(R.attempts[0].status, sizeof(R.attempts[0].status), "%s", attempt);
		snprintf(R.attempts[0].reason, sizeof(R.attempts[0].reason), "%s",
			 reason != NULL ? reason : "");
	}
}

static int applied_rc;

static int apply_fn(store_txn_t *txn, void *arg)
{
	(void)arg;
	applied_rc = billing_pix_cobr_answer(txn, &srv, 1, &R);
	return applied_rc == -ENOENT ? 0 : applied_rc;
}

static int apply(void)
{
	tsh_store_write(store, apply_fn, NULL);
	return applied_rc;
}

/* The cycle's one charge and the invoice, as stored now. */
static Ospay__V1__Charge *charge(void)
{
	store_txn_t *txn = NULL;
	Ospay__V1__Charge *c = NULL;
	uint8_t key[DB_TXID_KEY_MAX];
	store_val_t v;
	store_cursor_t *cur = NULL;
	store_val_t k;
	cr_assert_eq(store_read_begin(store, &txn), 0);
	size_t klen = db_chg_txid_key(1, txid, key);
	cr_assert_eq(store_cursor_open(txn, DB_CHG_TXID, &cur), 0);
	cr_assert_eq(store_cursor_seek(cur, key, klen, &k, &v), 0);
	cr_assert_eq(k.len, klen, "the txid index holds the charge");
	cr_assert_eq(v.len, 8);
	cr_assert_eq(
		kit_load(txn, DB_CHARGES, be64_get(v.data), &ospay__v1__charge__descriptor, &c), 0);
	store_cursor_close(cur);
	store_read_end(txn);
	return c;
}

/* Record id of table as stored now; the caller frees it. */
static void *stored(unsigned table, uint64_t id, const ProtobufCMessageDescriptor *desc)
{
	store_txn_t *txn = NULL;
	void *m = NULL;
	cr_assert_eq(store_read_begin(store, &txn), 0);
	cr_assert_eq(kit_load(txn, table, id, desc, &m), 0);
	store_read_end(txn);
	return m;
}

static int invoice_status(void)
{
	Ospay__V1__Invoice *inv = stored(DB_INVOICES, invoice_id, &ospay__v1__invoice__descriptor);
	int st = (int)inv->status;
	ospay__v1__invoice__free_unpacked(inv, NULL);
	return st;
}

static int64_t payer_max(void)
{
	Ospay__V1__CustomerService *svc =
		stored(DB_SERVICES, service_id, &ospay__v1__customer_service__descriptor);
	int64_t m = svc->pix->payer_max_amount;
	ospay__v1__customer_service__free_unpacked(svc, NULL);
	return m;
}

#define CHG(x) OSPAY__V1__CHARGE_STATUS__CHARGE_STATUS_##x
#define INV(x) OSPAY__V1__INVOICE_STATUS__INVOICE_STATUS_##x

static void expect(int status, const char *reason)
{
	Ospay__V1__Charge *c = charge();
	cr_assert_eq((int)c->status, status, "charge status %d, expected %d", (int)c->status,
		     status);
	if (reason != NULL)
		cr_assert_str_eq(c->psp_reason, reason);
	ospay__v1__charge__free_unpacked(c, NULL);
}

/* The charge DECLINED (with psp_reason when reason is set), and whether the
 * cycle's retry is refused (why: the rule that says so). */
static void expect_declined(const char *reason, bool refused, const char *why)
{
	expect(CHG(DECLINED), reason);
	Ospay__V1__Charge *c = charge();
	cr_assert_eq(c->retry_refused, refused, "%s", why);
	ospay__v1__charge__free_unpacked(c, NULL);
}

static void setup(void)
{
	setup_with(true, 0);
}

static void setup_nao(void)
{
	setup_with(false, 0);
}

Test(billing_pix, paid_marks_the_invoice_paid_once, .init = setup, .fini = teardown)
{
	answer("CONCLUIDA", "PAGA", NULL);
	cr_assert_eq(apply(), 0);
	expect(CHG(APPROVED), "");
	cr_assert_eq(invoice_status(), INV(PAID));
	/* The same answer again (a duplicated webhook's re-query): nothing moves. */
	cr_assert_eq(apply(), 0);
	expect(CHG(APPROVED), "");
}

Test(billing_pix, scheduled_answer_changes_nothing, .init = setup, .fini = teardown)
{
	/* A webhook said CONCLUIDA; the PSP's GET says it is still scheduled. */
	answer("ATIVA", "AGENDADA", NULL);
	cr_assert_eq(apply(), 0);
	expect(CHG(PENDING), NULL);
	cr_assert_eq(invoice_status(), INV(OPEN));
}

Test(billing_pix, failed_attempt_keeps_a_retry_under_permite, .init = setup, .fini = teardown)
{
	answer("ATIVA", "REJEITADA", "AC06");
	cr_assert_eq(apply(), 0);
	Ospay__V1__Charge *c = charge();
	cr_assert_eq((int)c->status, CHG(DECLINED));
	cr_assert_str_eq(c->psp_reason, "AC06");
	cr_assert_str_eq(c->return_code, "AC06");
	cr_assert(!c->retry_refused, "a retry follows under PERMITE_3R_7D");
	cr_assert_null(strstr(c->return_message, "insufficient"));
	ospay__v1__charge__free_unpacked(c, NULL);
	cr_assert_eq(invoice_status(), INV(OPEN));
}

Test(billing_pix, failed_attempt_ends_under_nao_permite, .init = setup_nao, .fini = teardown)
{
	answer("ATIVA", "REJEITADA", "AC06");
	cr_assert_eq(apply(), 0);
	expect_declined(NULL, true, "NAO_PERMITE: no retry");
}

Test(billing_pix, am02_teaches_the_payer_maximum_and_ends_the_cycle, .init = setup,
     .fini = teardown)
{
	answer("ATIVA", "REJEITADA", "AM02");
	cr_assert_eq(apply(), 0);
	expect_declined(NULL, true, "above the maximum: no retry");
	cr_assert_eq(payer_max(), 9989, "the largest amount not known to be refused");
	cr_assert_eq(pix_amount_check(9990, 0, payer_max()), PIX_AMOUNT_ABOVE_MAX,
		     "next month's same amount is refused before sending");
}

Test(billing_pix, whole_cobr_reject_ends_the_cycle, .init = setup, .fini = teardown)
{
	answer("REJEITADA", "REJEITADA", "MD01");
	snprintf(R.end_code, sizeof(R.end_code), "AC05");
	R.attempts[0].reason[0] = '\0';
	cr_assert_eq(apply(), 0);
	expect_declined("AC05", true, "the whole cobr was rejected: no retry");
}

Test(billing_pix, payer_cancel_is_a_failed_charge, .init = setup, .fini = teardown)
{
	answer("CANCELADA", NULL, NULL);
	snprintf(R.ended_by, sizeof(R.ended_by), "USUARIO_PAGADOR");
	snprintf(R.end_code, sizeof(R.end_code), "SLBD");
	cr_assert_eq(apply(), 0);
	expect_declined(NULL, true, "the payer refused this cycle: no retry");
	cr_assert_eq(invoice_status(), INV(OPEN), "the invoice stays open (suspension applies)");
}

Test(billing_pix, receiver_cancel_is_canceled, .init = setup, .fini = teardown)
{
	answer("CANCELADA", NULL, NULL);
	snprintf(R.ended_by, sizeof(R.ended_by), "USUARIO_RECEBEDOR");
	cr_assert_eq(apply(), 0);
	expect(CHG(CANCELED), NULL);
}

Test(billing_pix, unknown_status_and_txid_move_nothing, .init = setup, .fini = teardown)
{
	answer("PAGA_TALVEZ", NULL, NULL);
	cr_assert_eq(apply(), 0);
	expect(CHG(PENDING), NULL);
	answer("CONCLUIDA", "PAGA", NULL);
	snprintf(R.txid, sizeof(R.txid), "osp00000000000000000000000000000000");
	cr_assert_eq(apply(), -ENOENT);
	expect(CHG(PENDING), NULL);
	cr_assert_eq(invoice_status(), INV(OPEN));
}

/*
 * The Billing service's card side: RunNow, ListCharges, ChargeInvoice,
 * ResolveCharge. What they start (a run, an operator's charge, a settlement)
 * is the billing run's (jobs/billing_run.h); these check the request and the
 * caller. Invoices and installments have files of their own
 * (billing_invoices.c, billing_installments.c).
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/crypto.h"
#include "common/log.h"
#include "common/util.h"
#include "gateways/gateway.h"
#include "ospay/v1/billing.pb-c.h"
#include "ospay/v1/records.pb-c.h"
#include "server/db/db.h"
#include "server/jobs/billing_run.h"
#include "server/rpc/kit.h"
#include "server/rpc/page.h"
#include "server/services/services.h"

#define CHG(x) OSPAY__V1__CHARGE_STATUS__CHARGE_STATUS_##x
#define INV_OPEN OSPAY__V1__INVOICE_STATUS__INVOICE_STATUS_OPEN
#define INV_PAID OSPAY__V1__INVOICE_STATUS__INVOICE_STATUS_PAID

/* ------------------------------------------------------------------ RunNow */

int h_billing_run_now(srv_req_t *r, store_txn_t *txn)
{
	(void)txn;
	/* The run is the organization's (every unit's invoices): org-wide ADMIN only. */
	if (!srv_check(r, PERM_CONFIGURE, 0))
		return 0;
	return billing_run_wait(r);
}

/* ------------------------------------------------------------------ ListCharges */

static void list_hash(const Ospay__V1__BillingListChargesRequest *in, uint8_t out[4])
{
	uint8_t buf[8 * 7], h[32];
	be64_put(buf, in->unit_id);
	be64_put(buf + 8, in->customer_id);
	be64_put(buf + 16, (uint64_t)in->status);
	be64_put(buf + 24, (uint64_t)in->recurrence);
	be64_put(buf + 32, (uint64_t)in->from_ms);
	be64_put(buf + 40, (uint64_t)in->to_ms);
	be64_put(buf + 48, (uint64_t)in->rail);
	crypto_sha256(buf, sizeof(buf), NULL, 0, h);
	memcpy(out, h, 4);
}

static bool list_match(const srv_req_t *r, const uint8_t *pos, const ProtobufCMessage *m, void *arg)
{
	const Ospay__V1__BillingListChargesRequest *in = arg;
	const Ospay__V1__Charge *c = (const Ospay__V1__Charge *)m;
	if (in->status != 0 && (int)c->status != (int)in->status)
		return false;
	if (in->customer_id != 0 && c->customer_id != in->customer_id)
		return false;
	/* CARD also matches charges stored before the rail existed (UNSPECIFIED). */
	if (in->rail == OSPAY__V1__PAYMENT_RAIL__PAYMENT_RAIL_PIX_AUTOMATICO &&
	    c->rail != OSPAY__V1__PAYMENT_RAIL__PAYMENT_RAIL_PIX_AUTOMATICO)
		return false;
	if (in->rail == OSPAY__V1__PAYMENT_RAIL__PAYMENT_RAIL_CARD &&
	    c->rail == OSPAY__V1__PAYMENT_RAIL__PAYMENT_RAIL_PIX_AUTOMATICO)
		return false;
	if (in->recurrence ==
		    OSPAY__V1__CHARGE_RECURRENCE_FILTER__CHARGE_RECURRENCE_FILTER_RECURRING &&
	    !c->recurring)
		return false;
	if (in->recurrence ==
		    OSPAY__V1__CHARGE_RECURRENCE_FILTER__CHARGE_RECURRENCE_FILTER_NON_RECURRING &&
	    c->recurring)
		return false;
	return kit_sees(r, c->organization_id, c->unit_id);
}

/* The charges' time index of every unit in scope. */
static int list_open(srv_req_t *r, store_txn_t *txn, const uint8_t *from, db_scan_t **scan,
		     void *arg)
{
	const Ospay__V1__BillingListChargesRequest *in = arg;
	uint64_t *units = NULL;
	uint8_t *keys = NULL;
	size_t nu = 0;
	int rc = kit_scope_units(r, txn, in->unit_id, &units, &nu);
	if (rc != 0 || nu == 0)
		goto out;
	keys = malloc(nu * 8);
	if (keys == NULL) {
		rc = -ENOMEM;
		goto out;
	}
	for (size_t i = 0; i < nu; i++)
		be64_put(keys + i * 8, units[i]);
	rc = db_scan_open(txn, DB_CHG_TIME, keys, 8, nu, from, DB_POS_LEN, scan);
out:
	free(keys);
	free(units);
	return rc;
}

int h_billing_list_charges(srv_req_t *r, store_txn_t *txn)
{
	const Ospay__V1__BillingListChargesRequest *in = (const void *)r->in;
	page_t pg = {.token_kind = KIT_TOK_CHARGES,
		     .token = in->page_token,
		     .size = in->page_size,
		     .lo = in->from_ms,
		     .hi = in->to_ms > 0 ? in->to_ms : INT64_MAX,
		     .table = DB_CHARGES,
		     .desc = &ospay__v1__charge__descriptor,
		     .what = "list charges",
		     .open = list_open,
		     .match = list_match,
		     .arg = (void *)in};
	if (in->rail < 0 || in->rail > OSPAY__V1__PAYMENT_RAIL__PAYMENT_RAIL_PIX_AUTOMATICO)
		status_violation(&r->st, "rail", "CARD, PIX_AUTOMATICO, or unspecified");
	if (in->status < 0 || in->status > CHG(CANCELED))
		status_violation(&r->st, "status", "a ChargeStatus, or unspecified");
	if (in->recurrence < 0 ||
	    in->recurrence > OSPAY__V1__CHARGE_RECURRENCE_FILTER__CHARGE_RECURRENCE_FILTER_ALL)
		status_violation(&r->st, "recurrence", "ALL, RECURRING or NON_RECURRING");
	if (in->from_ms < 0)
		status_violation(&r->st, "from_ms", "must not be negative");
	if (in->to_ms < 0 || (in->to_ms > 0 && in->to_ms <= in->from_ms))
		status_violation(&r->st, "to_ms", "must be after from_ms (or 0: unbounded)");
	list_hash(in, pg.hash);
	int rc = page_list(r, txn, &pg);
	if (rc == 0 && srv_ok(r))
		rc = kit_reply_list(r, &ospay__v1__billing_list_charges_response__descriptor,
				    pg.items, pg.n, pg.next);
	page_free(&pg);
	return rc;
}

/* ------------------------------------------------------------------ ChargeInvoice */

int h_billing_charge_invoice(srv_req_t *r, store_txn_t *txn)
{
	const Ospay__V1__BillingChargeInvoiceRequest *in = (const void *)r->in;
	Ospay__V1__Invoice *inv = NULL;
	int rc = kit_get(r, txn, &kit_bill_invoices, "invoice_id", in->invoice_id, PERM_OPERATE,
			 &inv);
	if (rc != 0 || !srv_ok(r))
		return rc;
	if (inv->status != INV_OPEN)
		return srv_fail(r, ST_FAILED_PRECONDITION, "invoice %" PRIu64 " is %s, not OPEN",
				inv->id, inv->status == INV_PAID ? "PAID" : "CANCELED");
	return billing_run_operator_charge(r, txn, inv, in->card_id);
}

/* ------------------------------------------------------------------ ResolveCharge */

#define REASON_MIN 3
#define REASON_MAX 500

static bool reason_ok(const char *s)
{
	size_t n = strlen(s);
	if (n < REASON_MIN || n > REASON_MAX)
		return false;
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f)
			return false;
	return true;
}

static bool payment_id_ok(const char *s)
{
	size_t n = strlen(s);
	if (n >= GW_ID_MAX)
		return false;
	for (size_t i = 0; i < n; i++) {
		char c = s[i];
		if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		      c == '-' || c == '_' || c == '.'))
			return false;
	}
	return true;
}

int h_billing_resolve_charge(srv_req_t *r, store_txn_t *txn)
{
	const Ospay__V1__BillingResolveChargeRequest *in = (const void *)r->in;
	Ospay__V1__Charge *old = NULL;
	int rc;
	if (in->charge_id == 0)
		status_violation(&r->st, "charge_id", "required");
	if (in->resolution < OSPAY__V1__CHARGE_RESOLUTION__CHARGE_RESOLUTION_APPROVED ||
	    in->resolution > OSPAY__V1__CHARGE_RESOLUTION__CHARGE_RESOLUTION_NOT_CHARGED)
		status_violation(&r->st, "resolution", "APPROVED, DECLINED or NOT_CHARGED");
	if (!reason_ok(in->reason))
		status_violation(
			&r->st, "reason",
			"what the gateway's portal showed: %d to %d characters, no control "
			"characters",
			REASON_MIN, REASON_MAX);
	if (!payment_id_ok(in->payment_id))
		status_violation(&r->st, "payment_id",
				 "letters, digits, '-', '_' or '.', shorter than %d", GW_ID_MAX);
	if (!srv_ok(r))
		return 0;
	rc = kit_get(r, txn, &kit_bill_charges, NULL, in->charge_id, PERM_OPERATE, &old);
	if (rc != 0 || !srv_ok(r))
		return rc;
	if (old->status != CHG(OPERATOR_REVIEW))
		return srv_fail(
			r, ST_FAILED_PRECONDITION,
			"charge %" PRIu64 " is not waiting for an operator (its status is %s); "
			"only a charge in OPERATOR_REVIEW is resolved by hand",
			old->id,
			protobuf_c_enum_descriptor_get_value(&ospay__v1__charge_status__descriptor,
							     (int)old->status) != NULL
				? protobuf_c_enum_descriptor_get_value(
					  &ospay__v1__charge_status__descriptor, (int)old->status)
					  ->name
				: "?");
	return billing_run_operator_settle(r, txn, old, (int)in->resolution, in->payment_id,
					   in->reason);
}

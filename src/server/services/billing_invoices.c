/*
 * Billing/CreateInvoice, GetInvoice, ListInvoices, CancelInvoice (docs/spec.md 4.7):
 * a customer's invoices (faturas). The billing run charges only invoices that
 * exist; creating them is the business's job, through these methods.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "common/crypto.h"
#include "common/log.h"
#include "common/util.h"
#include "core/date.h"
#include "ospay/v1/billing.pb-c.h"
#include "server/db/db.h"
#include "server/jobs/billing_run.h"
#include "server/jobs/outbox.h"
#include "server/rpc/kit.h"
#include "server/rpc/page.h"
#include "server/rpc/srv.h"
#include "server/services/services.h"

/* Largest amount: R$ 1 billion (the gateways' bound too). */
#define INVOICE_AMOUNT_MAX INT64_C(100000000000)

int h_billing_create_invoice(srv_req_t *r, store_txn_t *txn)
{
	const Ospay__V1__BillingCreateInvoiceRequest *in = (const void *)r->in;
	Ospay__V1__Customer *cust = NULL;
	Ospay__V1__CustomerService *svc = NULL;
	int64_t due = 0;
	uint64_t id = 0;
	int rc = kit_get(r, txn, &kit_bill_customers, "customer_id", in->customer_id, PERM_OPERATE,
			 &cust);
	/* A missing customer_id is one violation among the others; not seeing it ends here. */
	if (rc != 0 || (!srv_ok(r) && r->st.code != ST_INVALID_ARGUMENT))
		return rc;
	if (in->service_id == 0) {
		status_violation(&r->st, "service_id", "required");
	} else if (cust != NULL) {
		rc = kit_read(r, txn, DB_SERVICES, in->service_id,
			      &ospay__v1__customer_service__descriptor, &svc);
		if (rc != 0 && rc != -ENOENT)
			return srv_store_fail(r, rc, "service lookup");
		if (rc == -ENOENT || svc->customer_id != cust->id)
			status_violation(&r->st, "service_id", "not a service of this customer");
		rc = 0;
	}
	if (in->amount <= 0 || in->amount > INVOICE_AMOUNT_MAX)
		status_violation(&r->st, "amount", "centavos, 1 to %" PRId64, INVOICE_AMOUNT_MAX);
	if (date_parse(in->due_date, &due) != 0)
		status_violation(&r->st, "due_date", "required: a date \"YYYY-MM-DD\"");
	rc = kit_new_id(r, txn, "invoice", &id);
	if (rc != 0 || !srv_ok(r))
		return rc;
	Ospay__V1__Invoice inv = OSPAY__V1__INVOICE__INIT;
	inv.id = id;
	inv.organization_id = cust->organization_id;
	inv.unit_id = cust->unit_id;
	inv.customer_id = cust->id;
	inv.service_id = svc->id;
	inv.amount = in->amount;
	inv.due_date = in->due_date;
	inv.status = OSPAY__V1__INVOICE_STATUS__INVOICE_STATUS_OPEN;
	inv.created_ms = inv.updated_ms = r->now_ms;
	rc = db_invoice_put(txn, NULL, &inv, due);
	if (rc != 0)
		return srv_store_fail(r, rc, "invoice insert");
	rc = kit_reply_one(r, &ospay__v1__billing_create_invoice_response__descriptor, &inv.base);
	log_info("invoice created", "invoice_id=%" PRIu64 " customer_id=%" PRIu64 " by=%" PRIu64,
		 id, inv.customer_id, r->sess->p.token_id);
	return rc;
}

int h_billing_get_invoice(srv_req_t *r, store_txn_t *txn)
{
	const Ospay__V1__BillingGetInvoiceRequest *in = (const void *)r->in;
	Ospay__V1__Invoice *inv = NULL;
	Ospay__V1__Notification **notes = NULL;
	int rc = kit_get(r, txn, &kit_bill_invoices, "invoice_id", in->invoice_id, PERM_READ, &inv);
	if (rc == 0 && srv_ok(r)) {
		Ospay__V1__BillingGetInvoiceResponse resp =
			OSPAY__V1__BILLING_GET_INVOICE_RESPONSE__INIT;
		resp.invoice = inv;
		/* Failed charges and the blocked service told to the customer. */
		rc = outbox_list(txn, OUTBOX_OBJ_INVOICE, inv->id, &notes, &resp.n_notifications);
		resp.notifications = notes;
		if (rc == 0)
			rc = srv_reply_msg(r, &resp.base);
		outbox_list_free(notes, resp.n_notifications);
	}
	return rc;
}

int h_billing_cancel_invoice(srv_req_t *r, store_txn_t *txn)
{
	const Ospay__V1__BillingCancelInvoiceRequest *in = (const void *)r->in;
	Ospay__V1__Invoice *inv = NULL;
	int64_t due = 0;
	int rc = kit_get(r, txn, &kit_bill_invoices, "invoice_id", in->invoice_id, PERM_OPERATE,
			 &inv);
	if (rc != 0 || !srv_ok(r))
		return rc;
	if (inv->status == OSPAY__V1__INVOICE_STATUS__INVOICE_STATUS_PAID)
		return srv_fail(r, ST_FAILED_PRECONDITION, "a paid invoice cannot be canceled");
	/* Unknown first (docs/spec.md 4.7): a charge that may have paid it is settled
	 * before the invoice can be canceled. */
	if (inv->status == OSPAY__V1__INVOICE_STATUS__INVOICE_STATUS_OPEN) {
		rc = billing_run_refuse_unresolved(r, txn, inv->id, "canceling it");
		if (rc != 0 || !srv_ok(r))
			return rc;
	}
	/* Canceling a canceled invoice changes nothing and says so by its status. */
	if (inv->status == OSPAY__V1__INVOICE_STATUS__INVOICE_STATUS_OPEN) {
		Ospay__V1__Invoice old = *inv;
		Ospay__V1__Invoice now = *inv;
		now.status = OSPAY__V1__INVOICE_STATUS__INVOICE_STATUS_CANCELED;
		now.updated_ms = r->now_ms;
		if (date_parse(inv->due_date, &due) != 0)
			return srv_store_fail(r, -EBADMSG, "invoice due date");
		rc = db_invoice_put(txn, &old, &now, due);
		/* Canceling settles the invoice: it no longer blocks its service. */
		if (rc == 0)
			rc = billing_run_unblock(txn, &now, r->now_ms);
		if (rc != 0)
			return srv_store_fail(r, rc, "invoice update");
		inv->status = now.status;
		inv->updated_ms = now.updated_ms;
		log_info("invoice canceled", "invoice_id=%" PRIu64 " by=%" PRIu64, inv->id,
			 r->sess->p.token_id);
	}
	return kit_reply_one(r, &ospay__v1__billing_cancel_invoice_response__descriptor,
			     &inv->base);
}

/* ------------------------------------------------------------------ List */

/* The first 4 bytes of a hash of the filters: a page token fits only its own list. */
static void list_hash(const Ospay__V1__BillingListInvoicesRequest *in, uint8_t out[4])
{
	uint8_t buf[8 * 3], h[32];
	be64_put(buf, in->unit_id);
	be64_put(buf + 8, in->customer_id);
	be64_put(buf + 16, (uint64_t)in->status);
	char dates[64];
	int n = snprintf(dates, sizeof(dates), "%.20s|%.20s", in->due_from, in->due_to);
	crypto_sha256(buf, sizeof(buf), dates, n > 0 ? (size_t)n : 0, h);
	memcpy(out, h, 4);
}

/*
 * Opens the walk: the customer's index when one is named (nothing when the
 * caller does not see that customer), else the status index or the unit
 * index of every unit in scope. *scan stays NULL when there is nothing.
 */
static int list_open(srv_req_t *r, store_txn_t *txn, const uint8_t *from, db_scan_t **scan,
		     void *arg)
{
	const Ospay__V1__BillingListInvoicesRequest *in = arg;
	int rc = 0;
	*scan = NULL;
	if (in->customer_id != 0) {
		Ospay__V1__Customer *c = NULL;
		rc = kit_read(r, txn, DB_CUSTOMERS, in->customer_id,
			      &ospay__v1__customer__descriptor, &c);
		bool visible = rc == 0 && kit_sees(r, c->organization_id, c->unit_id) &&
			       (in->unit_id == 0 || in->unit_id == c->unit_id);
		if (rc == -ENOENT)
			rc = 0;
		if (rc == 0 && visible) {
			uint8_t k[8];
			be64_put(k, in->customer_id);
			rc = db_scan_open(txn, DB_INV_CUSTOMER, k, sizeof(k), 1, from, DB_POS_LEN,
					  scan);
		}
		return rc;
	}
	return kit_scan_units(r, txn, in->unit_id, in->status != 0 ? DB_INV_STATUS : DB_INV_UNIT,
			      in->status != 0 ? (int)in->status : -1, from, scan);
}

/* The customer's index holds every status and unit: filter here. */
static bool list_match(const srv_req_t *r, const uint8_t *pos, const ProtobufCMessage *m, void *arg)
{
	const Ospay__V1__BillingListInvoicesRequest *in = arg;
	const Ospay__V1__Invoice *inv = (const Ospay__V1__Invoice *)m;
	return (in->status == 0 || (int)inv->status == (int)in->status) &&
	       kit_sees(r, inv->organization_id, inv->unit_id);
}

int h_billing_list_invoices(srv_req_t *r, store_txn_t *txn)
{
	const Ospay__V1__BillingListInvoicesRequest *in = (const void *)r->in;
	page_t pg = {.token_kind = KIT_TOK_INVOICES,
		     .token = in->page_token,
		     .size = in->page_size,
		     .lo = INT64_MIN,
		     .hi = INT64_MAX,
		     .table = DB_INVOICES,
		     .desc = &ospay__v1__invoice__descriptor,
		     .what = "list invoices",
		     .open = list_open,
		     .match = list_match,
		     .arg = (void *)in};
	int64_t day;
	if (in->status < 0 || in->status > OSPAY__V1__INVOICE_STATUS__INVOICE_STATUS_CANCELED)
		status_violation(&r->st, "status", "one of OPEN, PAID, CANCELED, or unspecified");
	if (in->due_from[0] != '\0') {
		if (date_parse(in->due_from, &day) != 0)
			status_violation(&r->st, "due_from", "a date \"YYYY-MM-DD\"");
		else
			pg.lo = day;
	}
	if (in->due_to[0] != '\0') {
		if (date_parse(in->due_to, &day) != 0)
			status_violation(&r->st, "due_to", "a date \"YYYY-MM-DD\"");
		else
			pg.hi = day + 1; /* inclusive bound, exclusive in the walk */
	}
	if (pg.lo != INT64_MIN && pg.hi != INT64_MAX && pg.hi <= pg.lo)
		status_violation(&r->st, "due_to", "must not be before due_from");
	list_hash(in, pg.hash);
	int rc = page_list(r, txn, &pg);
	if (rc == 0 && srv_ok(r))
		rc = kit_reply_list(r, &ospay__v1__billing_list_invoices_response__descriptor,
				    pg.items, pg.n, pg.next);
	page_free(&pg);
	return rc;
}

/*
 * The billing run's jobs and the facts they start from: a job for a charge,
 * its strings, the suspension profile, the customer's cards and the opened
 * card token. The bottom of the billing run's files: it calls none of them.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "server/jobs/billing_job.h"

void bill_job_free(bill_job_t *j)
{
	crypto_wipe(j->token, sizeof(j->token));
	crypto_wipe(j->new_token, sizeof(j->new_token));
	free(j->pix_res);
	free(j);
}

/* The job's charge points into its own buffers (a copy survives the txn). */
void bill_job_link(bill_job_t *j)
{
	j->c.card_last4 = j->last4;
	j->c.local_date = j->date;
	j->c.merchant_order_id = j->order_id;
	j->c.return_code = j->code;
	j->c.return_message = j->msg;
	j->c.payment_id = j->payment_id;
	j->c.note = j->note;
	j->c.network_txn_id = j->ntid;
	j->c.decline_class = j->cls;
	j->c.advice = j->advice;
	j->c.merchant_advice_code = j->mac;
	j->c.pix_txid = j->txid;
	j->c.pix_settlement_date = j->settle_date;
	j->c.psp_status = j->psp_status;
	j->c.psp_reason = j->psp_reason;
}

int bill_charge_at(store_txn_t *txn, const uint8_t *val, Ospay__V1__Charge **out)
{
	int rc = kit_load(txn, DB_CHARGES, be64_get(val), &ospay__v1__charge__descriptor, out);
	return rc == -ENOENT ? -EBADMSG : rc;
}

bill_job_t *bill_job_new(struct srv_billing *b, const Ospay__V1__Invoice *inv, int gateway)
{
	bill_job_t *j = calloc(1, sizeof(*j));
	if (j == NULL)
		return NULL;
	j->b = b;
	ospay__v1__charge__init(&j->c);
	j->c.organization_id = inv->organization_id;
	j->c.unit_id = inv->unit_id;
	j->c.customer_id = inv->customer_id;
	j->c.service_id = inv->service_id;
	j->c.invoice_id = inv->id;
	j->c.gateway = gateway;
	j->c.amount = inv->amount;
	bill_job_link(j);
	return j;
}

int bill_invoice_open(store_txn_t *txn, uint64_t id)
{
	Ospay__V1__Invoice *inv = NULL;
	int rc = kit_load(txn, DB_INVOICES, id, &ospay__v1__invoice__descriptor, &inv);
	if (rc == 0 && inv->status != INV_OPEN)
		rc = -EALREADY;
	ospay__v1__invoice__free_unpacked(inv, NULL);
	return rc;
}

void bill_copy_str(char *dst, size_t cap, const char *src)
{
	snprintf(dst, cap, "%s", src != NULL ? src : "");
}

/* A RESOLVE job for a stored charge (copied: c may be freed after). */
bill_job_t *bill_job_for_charge(struct srv_billing *b, const Ospay__V1__Charge *c)
{
	bill_job_t *j = calloc(1, sizeof(*j));
	if (j == NULL)
		return NULL;
	j->b = b;
	j->action = BILLING_ACTION_RESOLVE_UNKNOWN;
	j->c = *c;
	bill_copy_str(j->last4, sizeof(j->last4), c->card_last4);
	bill_copy_str(j->date, sizeof(j->date), c->local_date);
	bill_copy_str(j->order_id, sizeof(j->order_id), c->merchant_order_id);
	bill_copy_str(j->code, sizeof(j->code), c->return_code);
	bill_copy_str(j->msg, sizeof(j->msg), c->return_message);
	bill_copy_str(j->payment_id, sizeof(j->payment_id), c->payment_id);
	bill_copy_str(j->note, sizeof(j->note), c->note);
	bill_copy_str(j->ntid, sizeof(j->ntid), c->network_txn_id);
	bill_copy_str(j->cls, sizeof(j->cls), c->decline_class);
	bill_copy_str(j->advice, sizeof(j->advice), c->advice);
	bill_copy_str(j->mac, sizeof(j->mac), c->merchant_advice_code);
	bill_copy_str(j->txid, sizeof(j->txid), c->pix_txid);
	bill_copy_str(j->settle_date, sizeof(j->settle_date), c->pix_settlement_date);
	bill_copy_str(j->psp_status, sizeof(j->psp_status), c->psp_status);
	bill_copy_str(j->psp_reason, sizeof(j->psp_reason), c->psp_reason);
	j->brand = (enum card_brand)c->card_brand;
	j->void_sale = c->status == CHG(VOIDING);
	bill_job_link(j);
	return j;
}

/* An organization's suspension profile days (0 when none is set). */
int bill_profile_days(store_txn_t *txn, uint64_t org, int *days)
{
	Ospay__V1__SuspensionProfile *p = NULL;
	*days = 0;
	int rc = kit_load(txn, DB_SUSPENSION, org, &ospay__v1__suspension_profile__descriptor, &p);
	if (rc == -ENOENT)
		return 0;
	if (rc == 0)
		*days = (int)p->days;
	ospay__v1__suspension_profile__free_unpacked(p, NULL);
	return rc;
}

/* Something must still happen to the charge before anything else happens to
 * its invoice (docs/spec.md 4.7: unknown first, always). */
bool bill_unresolved(const Ospay__V1__Charge *c)
{
	/* A Pix instruction the PSP has accepted is known, only not due yet: the
	 * invoice may be canceled or paid another way meanwhile (the run then
	 * cancels the instruction, docs/pix-automatico.md). */
	if (c->rail == OSPAY__V1__PAYMENT_RAIL__PAYMENT_RAIL_PIX_AUTOMATICO &&
	    c->status == CHG(PENDING) && c->psp_status != NULL && c->psp_status[0] != '\0')
		return false;
	return c->status == CHG(PENDING) || c->status == CHG(UNKNOWN) ||
	       c->status == CHG(OPERATOR_REVIEW) || c->status == CHG(VOIDING);
}

void bill_bcard_of(const Ospay__V1__Card *c, billing_card_t *out)
{
	out->id = c->id;
	out->expiry.month = (int)c->exp_month;
	out->expiry.year = (int)c->exp_year;
}

/* The service's chosen card (if still stored) and the customer's default. */
int bill_load_cards(store_txn_t *txn, uint64_t customer, uint64_t chosen_id,
		    Ospay__V1__CardRecord **chosen, Ospay__V1__CardRecord **def)
{
	db_scan_t *scan = NULL;
	const uint8_t *val;
	int rc = db_scan_id(txn, DB_CARDS_BY_CUST, customer, &scan);
	while (rc == 0 && (rc = db_scan_next(scan, &val)) == 0) {
		uint64_t id = be64_get(val);
		Ospay__V1__CardRecord *c = NULL;
		rc = kit_load(txn, DB_CARDS, id, &ospay__v1__card_record__descriptor, &c);
		if (rc != 0)
			break;
		bool keep = false;
		if (id == chosen_id && *chosen == NULL) {
			*chosen = c;
			keep = true;
		}
		if (c->card->is_default && *def == NULL) {
			*def = keep ? NULL : c;
			if (keep) {
				/* The chosen card is the default too: load it once more. */
				rc = kit_load(txn, DB_CARDS, id,
					      &ospay__v1__card_record__descriptor, def);
				if (rc != 0)
					break;
			}
			keep = true;
		}
		if (!keep)
			ospay__v1__card_record__free_unpacked(c, NULL);
	}
	if (rc == -ENOENT)
		rc = 0;
	db_scan_close(scan);
	return rc;
}

/* Opens a card's sealed gateway token into j->token. */
int bill_open_token(srv_t *s, const Ospay__V1__CardRecord *rec, bill_job_t *j)
{
	vault_context_t ctx = {.kind = "card",
			       .org_id = rec->card->organization_id,
			       .owner_id = rec->card->customer_id,
			       .record_id = rec->card->id};
	size_t len = 0;
	int rc = vault_open(s->vault_keys, s->n_vault_keys, &ctx, rec->sealed_token.data,
			    rec->sealed_token.len, (uint8_t *)j->token, sizeof(j->token) - 1, &len);
	if (rc == 0)
		j->token[len] = '\0';
	return rc;
}

void bill_job_card(bill_job_t *j, const Ospay__V1__Card *card)
{
	j->c.card_id = card->id;
	j->c.card_brand = card->brand;
	j->brand = (enum card_brand)card->brand;
	bill_copy_str(j->last4, sizeof(j->last4), card->last4);
	/* No network id yet: this charge is the credential's first use (customer-
	 * initiated); its approval's id is what every later charge sends back. */
	j->c.first_use = card->network_txn_id[0] == '\0';
	bill_copy_str(j->ntid, sizeof(j->ntid), card->network_txn_id);
	/* Cards stored before holder_sent existed: the gateway's form of the name. */
	if (card->holder_sent[0] != '\0')
		bill_copy_str(j->holder, sizeof(j->holder), card->holder_sent);
	else if (card_holder_for_gateway(card->holder, (int)card->gateway, j->holder) != NULL)
		j->holder[0] = '\0';
}

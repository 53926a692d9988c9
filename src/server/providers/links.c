/*
 * Payment-link outcomes: an order follows what PagoLivre said about its link
 * (paid, declined, monthly installments), in the transaction that stored the
 * answer, whichever path brought it (a webhook's re-query, Orders/
 * RefreshPayment, the reconciliation).
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/log.h"
#include "common/util.h"
#include "core/order.h"
#include "gateways/gateway.h"
#include "ospay/v1/orders.pb-c.h"
#include "ospay/v1/records.pb-c.h"
#include "server/db/db.h"
#include "server/providers/links.h"
#include "server/rpc/kit.h"

/* The installment status a provider's installment outcome means (0: no news). */
static int installment_status(int outcome)
{
	switch (outcome) {
	case GW_OUTCOME_APPROVED:
		return OSPAY__V1__INSTALLMENT_STATUS__INSTALLMENT_STATUS_CONFIRMED;
	case GW_OUTCOME_DECLINED:
		return OSPAY__V1__INSTALLMENT_STATUS__INSTALLMENT_STATUS_DENIED;
	case GW_OUTCOME_CANCELED:
		return OSPAY__V1__INSTALLMENT_STATUS__INSTALLMENT_STATUS_CANCELED;
	default:
		return 0;
	}
}

/* Sets installment n (1-based) of p to st; a final one never goes back to WAITING. */
static bool installment_set(Ospay__V1__OrderPayment *p, uint32_t n, int st, const char *reason,
			    int64_t now_ms)
{
	if (st == 0 || n == 0 || n > p->n_schedule)
		return false;
	Ospay__V1__OrderInstallment *in = p->schedule[n - 1];
	if ((int)in->status == st)
		return false;
	in->status = st;
	in->reason = (char *)(st == OSPAY__V1__INSTALLMENT_STATUS__INSTALLMENT_STATUS_DENIED &&
					      reason != NULL
				      ? reason
				      : "");
	in->updated_ms = now_ms;
	return true;
}

int prov_link_update(store_txn_t *txn, const Ospay__V1__GatewayObjectRecord *obj, int64_t now_ms)
{
	Ospay__V1__Order *old = NULL;
	Ospay__V1__OrderStatusChange closed, **hist = NULL;
	Ospay__V1__OrderInstallment ins[ORDER_MAX_INSTALLMENTS], *insp[ORDER_MAX_INSTALLMENTS];
	unsigned long long id = 0;
	unsigned attempt = 0;
	int n = 0;
	int rc = 0;
	/* Only keys of ours ("os-<order>-<attempt>") belong to orders. */
	if (sscanf(obj->ref, "os-%llu-%u%n", &id, &attempt, &n) != 2 || obj->ref[n] != '\0')
		goto out;
	rc = kit_load(txn, DB_ORDERS, id, &ospay__v1__order__descriptor, &old);
	if (rc == -ENOENT) {
		rc = 0;
		goto out;
	}
	if (rc != 0)
		goto out;
	const Ospay__V1__OrderPayment *op = old->payment;
	if (op == NULL || !op->integrated || strcmp(op->order_key, obj->ref) != 0 ||
	    old->organization_id != obj->organization_id || op->n_schedule > ORDER_MAX_INSTALLMENTS)
		goto out; /* an older attempt's link, or not an order's */
	/* Shallow copies: the unpacked order stays intact for put and free. */
	Ospay__V1__Order o = *old;
	Ospay__V1__OrderPayment p = *op;
	for (size_t i = 0; i < op->n_schedule; i++) {
		ins[i] = *op->schedule[i];
		insp[i] = &ins[i];
	}
	p.schedule = insp;
	o.payment = &p;
	bool changed = false;
	for (size_t i = 0; i < obj->n_installments; i++) {
		const Ospay__V1__GatewayInstallment *g = obj->installments[i];
		changed |= installment_set(&p, g->number, installment_status(g->outcome), g->reason,
					   now_ms);
	}
	if (obj->outcome == GW_OUTCOME_APPROVED &&
	    o.payment_status != OSPAY__V1__ORDER_PAYMENT_STATUS__ORDER_PAYMENT_STATUS_PAID) {
		/* The link paid: the first installment is in, the order is done. */
		installment_set(&p, 1, OSPAY__V1__INSTALLMENT_STATUS__INSTALLMENT_STATUS_CONFIRMED,
				NULL, now_ms);
		o.payment_status = OSPAY__V1__ORDER_PAYMENT_STATUS__ORDER_PAYMENT_STATUS_PAID;
		p.error_message = "";
		if (order_is_open(o.status)) {
			/* No token closed it: the entry has by 0 and says who did. */
			rc = db_order_history_append(
				&o, &closed, OSPAY__V1__ORDER_STATUS__ORDER_STATUS_CLOSED, now_ms,
				0, "paid through the PagoLivre payment link", &hist);
			if (rc != 0)
				goto out;
		}
		changed = true;
	} else if ((obj->outcome == GW_OUTCOME_DECLINED || obj->outcome == GW_OUTCOME_EXPIRED ||
		    obj->outcome == GW_OUTCOME_CANCELED) &&
		   o.payment_status ==
			   OSPAY__V1__ORDER_PAYMENT_STATUS__ORDER_PAYMENT_STATUS_PENDING) {
		/* The attempt failed: the order stays OPEN and shows the provider's reason. */
		o.payment_status = OSPAY__V1__ORDER_PAYMENT_STATUS__ORDER_PAYMENT_STATUS_ERROR;
		if (obj->message[0] != '\0')
			p.error_message = obj->message;
		else if (obj->outcome == GW_OUTCOME_EXPIRED)
			p.error_message = "the payment link expired";
		else if (obj->outcome == GW_OUTCOME_CANCELED)
			p.error_message = "the payment link was canceled at PagoLivre";
		else
			p.error_message = "the payment was declined";
		changed = true;
	}
	if (changed) {
		o.updated_ms = now_ms;
		rc = db_order_put(txn, old, &o);
		if (rc == 0)
			log_info("order payment updated", "order_id=%llu attempt=%u outcome=%s", id,
				 attempt, gw_outcome_name(obj->outcome));
	}
out:
	free(hist);
	ospay__v1__order__free_unpacked(old, NULL);
	return rc;
}

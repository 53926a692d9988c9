/*
 * Pix Automático authorizations on the service (pix_auth.h;
 * docs/pix-automatico.md, "Authorizing a service").
 *
 * The service keeps its latest authorization (CustomerService.pix). Two
 * indexes find it from what the PSP's answers name: DB_SVC_REC (the rec's
 * idRec) and DB_SVC_TXID (the txid of the first payment of journeys 3, 4).
 * An index entry of a rec the service has since replaced still points at the
 * service; its answers are then ignored (the service holds another idRec).
 */
#include "server/jobs/pix_auth.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "common/log.h"
#include "common/util.h"
#include "ospay/v1/billing.pb-c.h"
#include "server/db/db.h"
#include "server/jobs/billing_run.h"
#include "server/jobs/outbox.h"
#include "server/rpc/kit.h"

#define AUTH(x) OSPAY__V1__PIX_AUTHORIZATION_STATE__PIX_AUTHORIZATION_STATE_##x
#define RAIL(x) OSPAY__V1__PAYMENT_RAIL__PAYMENT_RAIL_##x
#define NKIND(x) OSPAY__V1__NOTIFICATION_KIND__NOTIFICATION_KIND_##x

/* The proto's states are core/pix.h's, number for number. */
_Static_assert((int)AUTH(CREATED) == (int)PIX_AUTH_CREATED, "pix states differ");
_Static_assert((int)AUTH(ACCEPTED) == (int)PIX_AUTH_ACCEPTED, "pix states differ");
_Static_assert((int)AUTH(CANCELED_BY_PAYER) == (int)PIX_AUTH_CANCELED_PAYER, "pix states differ");
_Static_assert((int)AUTH(CANCELED_BY_RECEIVER) == (int)PIX_AUTH_CANCELED_RECEIVER,
	       "pix states differ");

/* org | an id of the PSP's ([A-Za-z0-9], at most 35). */
#define LINK_KEY_MAX (8 + PIX_TXID_MAX)

static size_t link_key(uint8_t k[LINK_KEY_MAX], uint64_t org, const char *id)
{
	size_t n = strnlen(id, PIX_TXID_MAX);
	be64_put(k, org);
	memcpy(k + 8, id, n);
	return 8 + n;
}

static int link_put(store_txn_t *txn, unsigned table, uint64_t org, const char *id,
		    uint64_t service_id)
{
	uint8_t k[LINK_KEY_MAX], v[8];
	if (id == NULL || id[0] == '\0')
		return -EINVAL;
	be64_put(v, service_id);
	return store_put(txn, table, k, link_key(k, org, id), v, sizeof(v), 0);
}

/* The service an id names in table; -ENOENT when none. */
static int link_get(store_txn_t *txn, unsigned table, uint64_t org, const char *id,
		    Ospay__V1__CustomerService **svc)
{
	uint8_t k[LINK_KEY_MAX];
	store_val_t v;
	if (id == NULL || id[0] == '\0')
		return -ENOENT;
	int rc = store_get(txn, table, k, link_key(k, org, id), &v);
	if (rc == 0 && v.len != 8)
		rc = -EBADMSG;
	if (rc == 0)
		rc = kit_load(txn, DB_SERVICES, be64_get(v.data),
			      &ospay__v1__customer_service__descriptor, svc);
	if (rc == 0 && (*svc)->organization_id != org) {
		ospay__v1__customer_service__free_unpacked(*svc, NULL);
		*svc = NULL;
		rc = -ENOENT;
	}
	return rc;
}

int pix_auth_link_rec(store_txn_t *txn, uint64_t org, const char *id_rec, uint64_t service_id)
{
	return link_put(txn, DB_SVC_REC, org, id_rec, service_id);
}

int pix_auth_link_txid(store_txn_t *txn, uint64_t org, const char *txid, uint64_t service_id)
{
	return link_put(txn, DB_SVC_TXID, org, txid, service_id);
}

/* ---------------------------------------------------------------- the customer told */

/* One message per rec and kind (and state): FNV-1a of the idRec. */
static uint64_t rec_event(const char *id_rec, int state)
{
	uint64_t h = UINT64_C(14695981039346656037);
	for (const char *p = id_rec; *p != '\0'; p++) {
		h ^= (uint8_t)*p;
		h *= UINT64_C(1099511628211);
	}
	return h + (uint64_t)state;
}

int pix_auth_send_qr(store_txn_t *txn, srv_t *s, const Ospay__V1__CustomerService *svc,
		     int64_t now_ms, bool *queued)
{
	char text[900];
	const Ospay__V1__PixAuthorization *p = svc->pix;
	*queued = false;
	if (p == NULL || p->copia_e_cola[0] == '\0')
		return 0;
	snprintf(text, sizeof(text),
		 "Para pagar o plano %s por Pix Automático, abra o app do seu banco, escolha "
		 "Pix Copia e Cola e cole este código: %s",
		 svc->plan_name, p->copia_e_cola);
	return outbox_on_pix_auth(s, txn, svc, NKIND(PIX_AUTHORIZATION_REQUEST),
				  rec_event(p->id_rec, 0), text, now_ms, queued);
}

/* Kind 5: the new state and what charges the service now. */
static int tell_changed(store_txn_t *txn, srv_t *s, const Ospay__V1__CustomerService *svc,
			bool rail_moved, int64_t now_ms)
{
	char text[600];
	const Ospay__V1__PixAuthorization *p = svc->pix;
	const char *plan = svc->plan_name;
	switch ((int)p->state) {
	case AUTH(ACCEPTED):
		snprintf(text, sizeof(text),
			 "Sua autorização de Pix Automático do plano %s foi confirmada.%s", plan,
			 rail_moved ? " As próximas faturas serão cobradas por Pix Automático."
				    : "");
		break;
	case AUTH(REJECTED):
	case AUTH(EXPIRED):
		snprintf(text, sizeof(text),
			 "A autorização de Pix Automático do plano %s não foi concluída (%s). "
			 "A forma de pagamento das suas faturas não mudou.",
			 plan, p->state == AUTH(REJECTED) ? "recusada no app do banco" : "expirou");
		break;
	case AUTH(CANCELED_BY_PAYER):
	case AUTH(CANCELED_BY_RECEIVER):
		snprintf(text, sizeof(text), "%s a autorização de Pix Automático do plano %s.%s",
			 p->state == AUTH(CANCELED_BY_PAYER) ? "Você cancelou" : "Cancelamos", plan,
			 rail_moved ? " As próximas faturas voltam a ser cobradas no cartão." : "");
		break;
	default:
		return 0;
	}
	return outbox_on_pix_auth(s, txn, svc, NKIND(PIX_AUTHORIZATION_CHANGED),
				  rec_event(p->id_rec, (int)p->state), text, now_ms, NULL);
}

/* ---------------------------------------------------------------- state changes */

/* Why it ended, for people (the PSP's code, if any, in brackets). */
static void end_words(enum pix_auth_state st, const char *code, char *out, size_t cap)
{
	const char *w = st == PIX_AUTH_REJECTED  ? "the payer declined it in their bank's app"
			: st == PIX_AUTH_EXPIRED ? "the payer did not answer in time"
			: st == PIX_AUTH_CANCELED_PAYER
				? "the payer canceled it"
				: "canceled by the organization (CancelPix)";
	if (code != NULL && code[0] != '\0')
		snprintf(out, cap, "%s (code %s)", w, code);
	else
		snprintf(out, cap, "%s", w);
}

int pix_auth_move(store_txn_t *txn, srv_t *s, const Ospay__V1__CustomerService *old,
		  enum pix_auth_state to, const char *end_code, int64_t now_ms, enum pix_step *step)
{
	Ospay__V1__RecurringPayment off = OSPAY__V1__RECURRING_PAYMENT__INIT;
	char code[GW_CODE_MAX], reason[160];
	bool rail_moved = false;
	*step = PIX_STEP_ILLEGAL;
	if (old->pix == NULL)
		return 0;
	*step = pix_auth_step((enum pix_auth_state)old->pix->state, to);
	if (*step != PIX_STEP_OK)
		return 0;
	/* Copies over the unpacked record: it frees only what it owns. */
	Ospay__V1__CustomerService svc = *old;
	Ospay__V1__PixAuthorization p = *old->pix;
	Ospay__V1__RecurringPayment rp =
		old->recurring_payment != NULL ? *old->recurring_payment : off;
	svc.pix = &p;
	svc.recurring_payment = &rp;
	p.state = (Ospay__V1__PixAuthorizationState)to;
	p.updated_ms = now_ms;
	if (to == PIX_AUTH_ACCEPTED) {
		p.accepted_ms = now_ms;
		if (p.switch_rail && rp.rail != RAIL(PIX_AUTOMATICO)) {
			rp.rail = RAIL(PIX_AUTOMATICO);
			rp.enabled = true;
			rail_moved = true;
		}
	}
	if (pix_auth_final(to)) {
		snprintf(code, sizeof(code), "%s", end_code != NULL ? end_code : "");
		end_words(to, code, reason, sizeof(reason));
		p.end_code = code;
		p.end_reason = reason;
		/* Only a cancellation ends an accepted authorization: the card again. */
		if (rp.rail == RAIL(PIX_AUTOMATICO)) {
			rp.rail = RAIL(CARD);
			rail_moved = true;
		}
	}
	svc.updated_ms = now_ms;
	int rc = db_put_by_id(txn, DB_SERVICES, svc.id, &svc.base);
	if (rc == 0)
		rc = tell_changed(txn, s, &svc, rail_moved, now_ms);
	if (rc == 0)
		log_info("pix authorization", "service_id=%" PRIu64 " from=%s to=%s rail_moved=%d",
			 svc.id, pix_auth_name((enum pix_auth_state)old->pix->state),
			 pix_auth_name(to), rail_moved);
	return rc;
}

/* One step of a queried rec: what a query always updates (checked_ms, the QR it
 * adds when asked) is stored even when the state does not move. */
static int rec_step(store_txn_t *txn, srv_t *s, const Ospay__V1__CustomerService *svc,
		    const gw_pix_result_t *res, enum pix_auth_state to, int64_t now,
		    enum pix_step *step)
{
	Ospay__V1__CustomerService t = *svc;
	Ospay__V1__PixAuthorization tp = *svc->pix;
	t.pix = &tp;
	tp.checked_ms = now;
	if (tp.copia_e_cola[0] == '\0' && res->copia_e_cola[0] != '\0')
		tp.copia_e_cola = (char *)res->copia_e_cola;
	int rc = pix_auth_move(txn, s, &t, to, res->end_code, now, step);
	if (rc == 0 && *step != PIX_STEP_OK)
		rc = db_put_by_id(txn, DB_SERVICES, t.id, &t.base);
	return rc;
}

int pix_auth_rec_answer(store_txn_t *txn, srv_t *s, uint64_t org, const gw_pix_result_t *res)
{
	Ospay__V1__CustomerService *svc = NULL;
	enum pix_auth_state to;
	enum pix_step step = PIX_STEP_SAME;
	int64_t now = srv_now_ms(s);
	int rc = link_get(txn, DB_SVC_REC, org, res->id_rec, &svc);
	if (rc != 0)
		goto out;
	if (svc->pix == NULL || strcmp(svc->pix->id_rec, res->id_rec) != 0)
		goto out; /* a rec this service has since replaced */
	if (res->r.error != 0 || pix_auth_from_rec(res->status, res->ended_by, &to) != 0) {
		rc = -EINVAL;
		goto out;
	}
	/* Decision 8: a cancellation is the receiver's only when ospay recorded asking. */
	if (to == PIX_AUTH_CANCELED_PAYER || to == PIX_AUTH_CANCELED_RECEIVER)
		to = svc->pix->cancel_requested_ms != 0 ? PIX_AUTH_CANCELED_RECEIVER
							: PIX_AUTH_CANCELED_PAYER;
	/* CRIADA is where created and sent both are: the PSP cannot tell them apart. */
	if (to == PIX_AUTH_CREATED && svc->pix->state == AUTH(SENT))
		to = PIX_AUTH_SENT;
	/* The payer cancels only what they approved: an approval ospay never saw (its
	 * hint lost, nobody refreshed in between) is recorded on the way. */
	if (to == PIX_AUTH_CANCELED_PAYER &&
	    (svc->pix->state == AUTH(CREATED) || svc->pix->state == AUTH(SENT))) {
		rc = rec_step(txn, s, svc, res, PIX_AUTH_ACCEPTED, now, &step);
		ospay__v1__customer_service__free_unpacked(svc, NULL);
		svc = NULL;
		if (rc == 0)
			rc = link_get(txn, DB_SVC_REC, org, res->id_rec, &svc);
		if (rc != 0)
			goto out;
	}
	rc = rec_step(txn, s, svc, res, to, now, &step);
	if (rc == 0 && step == PIX_STEP_ILLEGAL)
		log_warn("pix authorization: a change the rules refuse, kept as it was",
			 "service_id=%" PRIu64 " state=%s psp_status=%s", svc->id,
			 pix_auth_name((enum pix_auth_state)svc->pix->state), res->status);
out:
	ospay__v1__customer_service__free_unpacked(svc, NULL);
	return rc;
}

/* ---------------------------------------------------------------- the first payment */

/* Invoice id, when still OPEN, becomes PAID (its service unblocked). */
static int pay_invoice(store_txn_t *txn, uint64_t invoice_id, int64_t now_ms, bool *paid)
{
	Ospay__V1__Invoice *inv = NULL;
	*paid = false;
	int rc = kit_load(txn, DB_INVOICES, invoice_id, &ospay__v1__invoice__descriptor, &inv);
	if (rc == 0 && inv->status == OSPAY__V1__INVOICE_STATUS__INVOICE_STATUS_OPEN) {
		rc = billing_run_pay_invoice(txn, inv, now_ms);
		*paid = rc == 0;
	}
	ospay__v1__invoice__free_unpacked(inv, NULL);
	return rc;
}

int pix_auth_cob_answer(store_txn_t *txn, srv_t *s, uint64_t org, const gw_pix_result_t *res)
{
	Ospay__V1__CustomerService *svc = NULL;
	bool paid = false;
	int rc = link_get(txn, DB_SVC_TXID, org, res->txid, &svc);
	if (rc != 0)
		goto out;
	if (res->r.error != 0) {
		rc = -EINVAL;
		goto out;
	}
	if (svc->pix == NULL || strcmp(svc->pix->first_txid, res->txid) != 0 ||
	    strcmp(res->status, "CONCLUIDA") != 0)
		goto out; /* not paid (yet), or a first payment since replaced */
	rc = pay_invoice(txn, svc->pix->first_invoice_id, srv_now_ms(s), &paid);
	if (rc == 0 && paid)
		log_info("pix first payment paid its invoice",
			 "service_id=%" PRIu64 " invoice_id=%" PRIu64, svc->id,
			 svc->pix->first_invoice_id);
out:
	ospay__v1__customer_service__free_unpacked(svc, NULL);
	return rc;
}

/*
 * Pix Automático authorizations (docs/pix-automatico.md, "Authorizing a
 * service"): what an answer of the PSP about a service's rec, or about the
 * cob/cobv of its first payment (journeys 3, 4), changes on the service.
 *
 * Every function runs inside a write transaction and may run again with it
 * (store.h): they only write through txn. The state moves only by the legal
 * steps of core/pix.h; the answer is a query's (GET), never a webhook's body.
 */
#ifndef OSPAY_SERVER_PIX_AUTH_H
#define OSPAY_SERVER_PIX_AUTH_H

#include <stdint.h>

#include "core/pix.h"
#include "gateways/gateway.h"
#include "ospay/v1/customers.pb-c.h"
#include "server/rpc/srv.h"
#include "store/store.h"

/* Applies a queried rec (GET /rec/{idRec}) to the service that holds it, inside txn:
 * state change (legal transitions only, core/pix.h), rail switch/fallback, customer
 * notification. -ENOENT when no service holds id_rec. */
int pix_auth_rec_answer(store_txn_t *txn, srv_t *s, uint64_t org, const gw_pix_result_t *res);
/* Applies a queried journey-3 cob or journey-4 cobv (its txid is some service's
 * pix.first_txid): paid -> that invoice PAID (+ the rec's state re-asked). -ENOENT when
 * no service's first payment has this txid. */
int pix_auth_cob_answer(store_txn_t *txn, srv_t *s, uint64_t org, const gw_pix_result_t *res);

/* ---------------------------------------------------------------- for services/pix.c */

/* Records which service holds a rec (DB_SVC_REC) or a first payment's txid (DB_SVC_TXID). */
int pix_auth_link_rec(store_txn_t *txn, uint64_t org, const char *id_rec, uint64_t service_id);
int pix_auth_link_txid(store_txn_t *txn, uint64_t org, const char *txid, uint64_t service_id);

/*
 * Moves the authorization of the stored service old to state `to` (end_code
 * may be NULL) and stores the service: legal steps only (*step says which),
 * accepted_ms, the rail switched to Pix when accepted with switch_rail, back
 * to the card when canceled, the customer told (kind 5). 0 or a store error.
 */
int pix_auth_move(store_txn_t *txn, srv_t *s, const Ospay__V1__CustomerService *old,
		  enum pix_auth_state to, const char *end_code, int64_t now_ms,
		  enum pix_step *step);

/*
 * Queues the authorization's QR code / copia-e-cola to the customer (kind 4).
 * *queued says a message is on its way (no notifier, or no usable phone: not).
 */
int pix_auth_send_qr(store_txn_t *txn, srv_t *s, const Ospay__V1__CustomerService *svc,
		     int64_t now_ms, bool *queued);

#endif

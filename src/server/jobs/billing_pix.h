/*
 * Pix Automático charges (docs/pix-automatico.md, "Charging"): what the PSP
 * says about a cycle's instruction (cobr), applied to its charges. The billing
 * run sends, retries and cancels instructions (billing_pix.c through the run's
 * own header); these are what other paths need: the webhook inbox settles
 * with the PSP's answer, and the authorization's payer maximum is learned.
 */
#ifndef OSPAY_SERVER_JOBS_BILLING_PIX_H
#define OSPAY_SERVER_JOBS_BILLING_PIX_H

#include <stdint.h>

#include "gateways/gateway.h"
#include "server/rpc/srv.h"
#include "store/store.h"

/* Applies a queried cobr (GET /cobr/{txid}) to the charges of its cycle, inside txn.
 * -ENOENT when no charge has this txid. */
int billing_pix_cobr_answer(store_txn_t *txn, srv_t *s, uint64_t org, const gw_pix_result_t *res);

/*
 * The payer's maximum as ospay learned it (an AM02 refusal of amount: the
 * largest amount not known to be refused is amount - 1): written to the
 * service's authorization when lower than the one known. The only field of
 * CustomerService.pix the billing side writes. 0 or a store error.
 */
int billing_pix_learn_max(store_txn_t *txn, uint64_t service_id, int64_t max, int64_t now_ms);

#endif

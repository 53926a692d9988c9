/* Payment-link outcomes (links.c). */
#ifndef OSPAY_SERVER_PROVIDERS_LINKS_H
#define OSPAY_SERVER_PROVIDERS_LINKS_H

#include <stdint.h>

#include "ospay/v1/records.pb-c.h"
#include "store/store.h"

/*
 * A PagoLivre object (a payment link) was written with what the service said;
 * the order of that link follows it in the same transaction (paid, declined,
 * monthly installments). Objects of no order, or of an older attempt, change
 * nothing. 0 or a store error.
 */
int prov_link_update(store_txn_t *txn, const Ospay__V1__GatewayObjectRecord *obj, int64_t now_ms);

#endif

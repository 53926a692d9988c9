/* What orders.c and orders_payment.c share; nothing else includes it. */
#ifndef OSPAY_SERVER_SERVICES_ORDERS_INTERNAL_H
#define OSPAY_SERVER_SERVICES_ORDERS_INTERNAL_H

#include "common/log.h"
#include "common/util.h"
#include "core/agenda.h"
#include "core/date.h"
#include "core/money.h"
#include "core/order.h"
#include "core/text.h"
#include "gateways/gateway.h"
#include "ospay/v1/admin.pb-c.h"
#include "ospay/v1/customers.pb-c.h"
#include "ospay/v1/records.pb-c.h"
#include "server/db/db.h"
#include "server/db/order_wire.h"
#include "server/jobs/outbox.h"
#include "server/jobs/webhooks.h"
#include "server/providers/adapters.h"
#include "server/providers/objects.h"
#include "server/rpc/kit.h"
#include "server/rpc/page.h"
#include "server/rpc/srv.h"
#include "server/services/booking.h"
#include "server/services/services.h"

#define KIND_MAX 100
#define NOTE_MAX 500
/* Scheduled starts between 2000-01-01 and 2200-01-01 (a bound against typos). */
#define START_MIN_MS (INT64_C(10957) * DATE_MS_PER_DAY)
#define START_MAX_MS (INT64_C(84006) * DATE_MS_PER_DAY)

int orders_history_append(srv_req_t *r, Ospay__V1__Order *o, Ospay__V1__OrderStatusChange *entry,
			  int to, const char *note, Ospay__V1__OrderStatusChange ***hist);
int orders_put_order(srv_req_t *r, store_txn_t *txn, const Ospay__V1__Order *old,
		     Ospay__V1__Order *o);
int orders_load_open_order(srv_req_t *r, store_txn_t *txn, uint64_t id, Ospay__V1__Order **o);
/*
 * Checks Finalize's closing fields (outcome, closing reason of the
 * organization's list, executed times) and fills c for the order, the
 * reason's name copied into name (cap bytes). Refusals in r->st. 0 or a
 * negative errno.
 */
int orders_closing_build(srv_req_t *r, store_txn_t *txn, const Ospay__V1__OrdersFinalizeRequest *in,
			 Ospay__V1__OrderClosing *c, char *name, size_t cap);

#endif

/*
 * Test support for stored cards end to end (issue 16): what ospay-sandbox
 * recorded of a card request, its fault mode that enforces the stored-
 * credential chain, Cielo's Zero Auth setting, and a restart of ospayd with
 * a rotated key. Every helper asserts (cr_assert) success.
 */
#ifndef OSPAY_TESTS_CARDS_H
#define OSPAY_TESTS_CARDS_H

#include <stdbool.h>
#include <stdint.h>

#include "support/proc.h"

/* What the sandbox recorded of the one request under a merchant order id. */
typedef struct tsc_wire {
	bool approved, recurrent;
	char usage[24], initiator[48], sent[64], returned[64], code[16];
} tsc_wire_t;

/* GET control/charges?merchant_order_id=moid: exactly one request (asserted) into *w. */
void tsc_sandbox_wire(const tsp_sandbox_t *sb, const char *moid, tsc_wire_t *w);

/* What the sandbox recorded under a merchant order id: how many requests, how
 * many approved, and of the first one listed its payment id, whether it was
 * recurrent and its initiator ("" when none). */
typedef struct tsc_sales {
	int count, approved;
	bool recurrent;
	char payment_id[64], initiator[48];
} tsc_sales_t;

/* GET control/charges?merchant_order_id=moid (asserting the answer). */
tsc_sales_t tsc_sandbox_sales(const tsp_sandbox_t *sb, const char *moid);
/* The sandbox's fault mode: a later stored-credential charge without the first
 * one's network id is declined. */
void tsc_require_chain(const tsp_sandbox_t *sb);
/* Admin/SetGateway for Cielo at the sandbox, keeping its credentials, with
 * automatic recurrence and Zero Auth set as asked. */
void tsc_cielo_zero_auth(int fd, const tsp_sandbox_t *sb, bool zero_auth);
/* Closes *fd, stops ospayd, runs `ospayd rotate-key` on its data, serves it
 * again on the test clock at now_ms and logs in again as admin into *fd. */
void tsc_restart_rotated(tsp_server_t *s, int *fd, int64_t now_ms);

#endif

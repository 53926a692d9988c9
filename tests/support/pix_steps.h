/*
 * Steps of the Pix Automático end-to-end tests on top of support/pix.h: the
 * receiver's Pix key (for journeys 3 and 4 and the /pix callback), an
 * authorization asked for and accepted, the service as stored, the Pix
 * charges, and what the sandbox's webhook log says. Every helper asserts
 * success.
 */
#ifndef OSPAY_TESTS_PIX_STEPS_H
#define OSPAY_TESTS_PIX_STEPS_H

#include "ospay/v1/billing.pb-c.h"
#include "ospay/v1/customers.pb-c.h"
#include "support/pix.h"

/* Registers key as the organization's Pix key at the sandbox and in SetGateway
 * (which then registers the /pix callback too). */
void tsp_pix_use_key(tsp_pix_t *p, const char *key);

/* Customers/AuthorizePix of svc, not sent to the customer (CREATED), the rail
 * switched once accepted; journey and invoice may be 0. The service (caller
 * frees). */
Ospay__V1__CustomerService *tsp_pix_authorize(tsp_pix_t *p, uint64_t svc, int journey,
					      uint64_t invoice);

/* Customers/RefreshPix of svc (the PSP asked); the service (caller frees). */
Ospay__V1__CustomerService *tsp_pix_refresh(tsp_pix_t *p, uint64_t svc);

/* A new customer n (the first unit) whose new service's authorization the payer
 * approved, refreshed to ACCEPTED on the Pix rail; the service id into *svc. */
uint64_t tsp_pix_accepted(tsp_pix_t *p, uint32_t n, uint64_t *svc);

/* The service as stored, nothing asked of the PSP (ListServices of its
 * customer); caller frees. */
Ospay__V1__CustomerService *tsp_pix_stored(tsp_pix_t *p, uint64_t customer, uint64_t svc);

/* The customer's Pix charges, oldest first; caller frees. */
Ospay__V1__BillingListChargesResponse *tsp_pix_charges(tsp_pix_t *p, uint64_t customer);

/* A counter of ospayd's /metrics, 0 when absent. */
long long tsp_pix_metric(const tsp_pix_t *p, const char *series);

/* The Pix webhook deliveries the sandbox logged with that fault ("" none) and
 * HTTP status (0: any). */
int tsp_pix_hooks_logged(const tsp_pix_t *p, const char *fault, int status);

#endif

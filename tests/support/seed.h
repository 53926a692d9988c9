/*
 * Records written straight into a store of the server's tables (no handler in
 * between), for in-process tests and the Orders/List bench. No Criterion:
 * each returns 0 or the store's negative errno, for a store_write_fn to pass on.
 */
#ifndef OSPAY_TESTS_SEED_H
#define OSPAY_TESTS_SEED_H

#include <stdint.h>

#include "store/store.h"

/* Organization 1 ("Org", UTC-03:00) and its units 1..n_units (each "Unit"). */
int tss_org_units(store_txn_t *txn, uint64_t n_units);
/* tss_org_units with one unit, as a store_write_fn (arg unused). */
int tss_org_unit_fn(store_txn_t *txn, void *arg);
/* Under order id, bytes that do not scan as an order (a field 2 varint cut short). */
int tss_broken_order(store_txn_t *txn, uint64_t id);

#endif

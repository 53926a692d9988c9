/*
 * Test support for the domain services: building customers, technicians,
 * agendas and orders over a raw connection (tsp_call), asserting success
 * where the helper's name says so. Times are local to UTC-03:00 (the
 * organization ospayd init creates).
 */
#ifndef OSPAY_TESTS_DOMAIN_H
#define OSPAY_TESTS_DOMAIN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/status.h"
#include "ospay/v1/admin.pb-c.h"
#include "ospay/v1/agendas.pb-c.h"
#include "ospay/v1/customers.pb-c.h"
#include "ospay/v1/orders.pb-c.h"

#define TSO_OFFSET_MIN (-180)

/* UTC ms of a local date and time in UTC-03:00. */
int64_t tso_at(int y, int mo, int d, int h, int mi);

/* A valid CPF (digits only) made from n; different n give different CPFs. */
void tso_cpf(uint32_t n, char out[12]);

/* Creates a token (asserting OK) and copies its secret; unit 0 = org-wide. */
uint64_t tso_token(int fd, int role, uint64_t unit, char *secret, size_t cap);
/* Creates a unit (asserting OK). */
uint64_t tso_unit(int fd, const char *name);

/* Creates a customer living in city (SP); n makes its CPF. Asserts OK. */
uint64_t tso_customer(int fd, uint64_t unit, uint32_t n, const char *city);
uint64_t tso_technician(int fd, uint64_t unit, const char *name);

/* A window for tso_agenda: weekday 1..7 (Monday..Sunday), hours. */
Ospay__V1__AgendaWindow tso_window(int weekday, int start_h, int end_h, uint32_t capacity);
uint64_t tso_agenda(int fd, uint64_t unit, const char *const *cities, size_t n_cities,
		    Ospay__V1__AgendaWindow *w, size_t n_windows, uint32_t daily_max,
		    uint32_t slot);

/*
 * Orders/Create; returns the status code, *id (may be NULL) the new order's
 * id, st (may be NULL) the status.
 */
int tso_order(int fd, uint64_t customer, uint64_t agenda, uint64_t tech, int64_t start,
	      uint32_t minutes, uint64_t *id, status_t *st);
/* Orders/Get (asserting OK); free with ospay__v1__order__free_unpacked. */
Ospay__V1__Order *tso_get_order(int fd, uint64_t id);

/* True when st has a violation on field. */
bool tso_violation(const status_t *st, const char *field);

#endif

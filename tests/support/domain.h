/*
 * Test support for the domain services: building customers, technicians,
 * agendas, orders, cards, services and invoices, driving the billing run and
 * the test clock, over a raw connection (tsp_call), asserting success
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
#include "ospay/v1/billing.pb-c.h"
#include "ospay/v1/cards.pb-c.h"
#include "ospay/v1/customers.pb-c.h"
#include "ospay/v1/orders.pb-c.h"
#include "support/proc.h"

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
/*
 * Orders/Finalize by stored method pm (or, when 0, by bare method type) in
 * installments; returns the status code, *out (may be NULL) the order when OK
 * (caller frees), st (may be NULL) the status.
 */
int tso_finalize(int fd, uint64_t id, uint64_t pm, int type, uint32_t installments,
		 Ospay__V1__Order **out, status_t *st);
/* Orders/Update naming field in the mask with no value, which clears it (the
 * scheduled start, the service); returns the status code, st (may be NULL) the status. */
int tso_order_clear(int fd, uint64_t id, const char *field, status_t *st);
/* Orders/Reschedule to start; minutes, tech and agenda 0 keep the order's own. Returns
 * the status code, st (may be NULL) the status. */
int tso_reschedule(int fd, uint64_t id, int64_t start, uint32_t minutes, uint64_t tech,
		   uint64_t agenda, status_t *st);
/* An Orders/Create request frame (tsp_frame_request) of kind for customer on agenda at
 * start, for tests that send several at once; out has room for 512 bytes. */
size_t tso_order_frame(uint8_t *out, uint64_t id, uint64_t customer, uint64_t agenda, int64_t start,
		       const char *kind);
/* tso_finalize asserting OK: the order (free with ospay__v1__order__free_unpacked). */
Ospay__V1__Order *tso_finalize_ok(int fd, uint64_t id, uint64_t pm, int type,
				  uint32_t installments);
/* Orders/Get (asserting OK); free with ospay__v1__order__free_unpacked. */
Ospay__V1__Order *tso_get_order(int fd, uint64_t id);

/* True when st has a violation on field. */
bool tso_violation(const status_t *st, const char *field);
/*
 * Calls method with req and asserts INVALID_ARGUMENT with a violation on each
 * of the n fields; a failure names what, the method and the fields the reply
 * named.
 */
void tso_invalid_fields(int fd, const char *method, const ProtobufCMessage *req, const char *what,
			const char *const *fields, size_t n);
/* tso_invalid_fields with the fields as a NULL-terminated list (16 at most). */
void tso_invalid(int fd, const char *method, const ProtobufCMessage *req, const char *what,
		 const char *field, ...) __attribute__((sentinel));

/* ---- billing: cards, services, invoices, the billing run (asserting OK) */

/* A Visa number passing Luhn whose final digit is last (the sandbox's outcome);
 * asserts there is one. */
void tso_visa_ending(int last, char out[17]);
/* The same for a Mastercard number (prefix 5555). */
void tso_mastercard_ending(int last, char out[17]);
/* Cards/Add of number for MARIA DA SILVA, 12/2030, code 123; asserts OK; the card's id. */
uint64_t tso_card(int fd, uint64_t customer, const char *number);
/* tso_card with tso_visa_ending(last); asserts OK; the card's id. */
uint64_t tso_visa_card(int fd, uint64_t customer, int last);
/* Customers/UpdateService: svc charges card (0: the default) with recurring
 * payment on; asserts OK. */
void tso_choose_card(int fd, uint64_t svc, uint64_t card);
/* Cards/List of customer (asserting OK); free with protobuf_c_message_free_unpacked. */
Ospay__V1__CardsListResponse *tso_cards(int fd, uint64_t customer);
/* Customers/AddService "Fibra 500" at 99.90 a month with recurring payment on
 * or off; asserts OK; the service's id. */
uint64_t tso_service(int fd, uint64_t customer, bool recurring);
/* The same service with no recurring payment in the request; asserts OK; its id. */
uint64_t tso_service_plain(int fd, uint64_t customer);
/* A customer of unit in São Paulo (n makes its CPF), with (last >= 0) a card
 * ending in last (tso_visa_card) and a tso_service; *svc its id. Asserts OK. */
uint64_t tso_billed_customer(int fd, uint64_t unit, uint32_t n, int last, bool recurring,
			     uint64_t *svc);
/* tso_billed_customer (recurring) with a tso_invoice due on due; *inv and *svc (each may
 * be NULL) their ids. The customer's id. */
uint64_t tso_invoiced_customer(int fd, uint64_t unit, uint32_t n, int last, const char *due,
			       uint64_t *inv, uint64_t *svc);
/* Billing/CreateInvoice of 99.90 due on due (YYYY-MM-DD); asserts OK; the invoice's id. */
uint64_t tso_invoice(int fd, uint64_t customer, uint64_t svc, const char *due);
/* Billing/GetInvoice (asserting OK): the invoice's status. */
int tso_invoice_status(int fd, uint64_t id);
/* Billing/RunNow; asserts OK. */
void tso_run_now(int fd);
/* Clock/Advance by ms (the server runs with --test-clock); asserts OK. */
void tso_advance(int fd, int64_t ms);
/* Billing/ListCharges of a customer, one page (asserting OK); free the response. */
Ospay__V1__BillingListChargesResponse *tso_charges(int fd, uint64_t customer, int recurrence);
/* tso_charges (any recurrence) asserting the customer has exactly one charge: that
 * charge, inside *r (free *r). */
Ospay__V1__Charge *tso_only_charge(int fd, uint64_t customer,
				   Ospay__V1__BillingListChargesResponse **r);
/* Asserts the customer's one charge (tso_only_charge) was approved on a card
 * ending in last that is not card not_card (the fallback from a removed card). */
void tso_only_charge_approved_on(int fd, uint64_t customer, int last, uint64_t not_card);
/* The status of the customer's one charge (tso_only_charge). */
int tso_only_charge_status(int fd, uint64_t customer);
/* How many charges the customer has (tso_charges, any recurrence). */
size_t tso_n_charges(int fd, uint64_t customer);
/* Customers/ListServices of a customer, one page (asserting OK); free the response. */
Ospay__V1__CustomersListServicesResponse *tso_services(int fd, uint64_t customer);
/* Customers/ListServices (asserting OK): the status of service svc, -1 if absent. */
int tso_service_status(int fd, uint64_t customer, uint64_t svc);
/* Customers/ListServices: service svc's recurring_payment.card_id (0: the default;
 * UINT64_MAX when absent). Asserts OK. */
uint64_t tso_service_card(int fd, uint64_t customer, uint64_t svc);
/* Admin/SetSuspensionProfile of days; returns the status code (st may be NULL). */
int tso_set_profile(int fd, uint32_t days, status_t *st);
/* Admin/CreatePaymentMethod; asserts OK; the method's id. */
uint64_t tso_payment_method(int fd, const char *name, int type, int mode);

/*
 * Runs the ospay CLI against s with its admin token and the arguments
 * (NULL-terminated, 35 at most), stderr folded into out; stdin_text (NULL:
 * none) is fed on standard input. Returns the exit status as tsp_run does.
 */
int tso_cli(const tsp_server_t *s, const char *stdin_text, char *out, size_t cap, const char *first,
	    ...);

#endif

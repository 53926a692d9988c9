/*
 * The ordinary valid requests that tests and benchmarks build again and again
 * (a customer in São Paulo, its card, its "Fibra 500" service, an invoice),
 * filled in once. No Criterion and no I/O, so bench/ builds it too. Every
 * string is borrowed: the caller keeps name, document, number and due alive
 * while the request is used.
 */
#ifndef OSPAY_TESTS_RECORDS_H
#define OSPAY_TESTS_RECORDS_H

#include <stdint.h>
#include <protobuf-c/protobuf-c.h>

#include "ospay/v1/billing.pb-c.h"
#include "ospay/v1/cards.pb-c.h"
#include "ospay/v1/customers.pb-c.h"

/* Rua Augusta 100, Consolação, São Paulo SP, CEP 01305-000. */
void tsr_address(Ospay__V1__Address *a);
/* An address of street and number in city, state (as typed: "sp" too), with cep; no district. */
Ospay__V1__Address tsr_place(const char *street, const char *number, const char *city,
			     const char *state, const char *cep);
/* A customer of unit living at tsr_address (filled into *a, which m points to),
 * phone +55 11 98765-4321, e-mail cliente@example.com.br. */
void tsr_customer(Ospay__V1__CustomersCreateRequest *m, Ospay__V1__Address *a, uint64_t unit,
		  const char *name, const char *document);
/* Card number of MARIA DA SILVA, expiring 12/2030, security code 123. */
void tsr_card(Ospay__V1__CardsAddRequest *m, uint64_t customer, const char *number);
/* Service "Fibra 500" at 99.90 a month; rp may be NULL (no recurring payment). */
void tsr_service(Ospay__V1__CustomersAddServiceRequest *m, uint64_t customer,
		 Ospay__V1__RecurringPayment *rp);
/* An invoice of 99.90 for the service, due on due (YYYY-MM-DD). */
void tsr_invoice(Ospay__V1__BillingCreateInvoiceRequest *m, uint64_t customer, uint64_t svc,
		 const char *due);
/* UpdateService of svc's recurring payment to rp (the mask names only that field). */
void tsr_service_rp(Ospay__V1__CustomersUpdateServiceRequest *m, uint64_t svc,
		    Ospay__V1__RecurringPayment *rp);
/* ListServices of customer (0: every one) with a Pix state and a rail (0: any). */
void tsr_list_services(Ospay__V1__CustomersListServicesRequest *m, uint64_t customer, int pix_state,
		       int rail);
/* The ids of r's services, in order, at most cap into ids: how many. */
size_t tsr_service_ids(const Ospay__V1__CustomersListServicesResponse *r, uint64_t *ids,
		       size_t cap);

/*
 * The id of the record a response holds in its message field `field` (what a
 * Create or an Add answers). 0, or -EINVAL when there is no such field,
 * record or id.
 */
int tsr_record_id(const ProtobufCMessage *resp, const char *field, uint64_t *id);
/*
 * Whether the repeated message field `field` of a list response holds a
 * record whose id is id: 1 or 0, or -EINVAL when the response has no such
 * field or its records no id (a typo must not read as "not listed").
 */
int tsr_list_has(const ProtobufCMessage *resp, const char *field, uint64_t id);
/* How many records the repeated message field `field` of a list response holds,
 * or -EINVAL when the response has no such field. */
long tsr_list_len(const ProtobufCMessage *resp, const char *field);

/*
 * A valid request with some of its fields changed, for the tests of bad input.
 * The copy is shallow: what no change touches stays borrowed from the valid
 * request (which must outlive the variant), and every message on a changed
 * path is copied first, so the valid request itself never changes.
 */
typedef struct tsr_variant {
	ProtobufCMessage *msg; /* the request to send */
	void *owned[8];        /* the copies and lists the variant allocated */
	size_t n_owned;
} tsr_variant_t;

/* v becomes a copy of valid: 0, or -ENOMEM. */
int tsr_variant_init(tsr_variant_t *v, const ProtobufCMessage *valid);
/*
 * Sets the field at path of v->msg: a field of the request or, through dots,
 * of a message it holds ("address.cep"). value is read by the field's type:
 * a string as it is (borrowed), a number in decimal, an enum by number or by
 * its value's name, a repeated string field as a comma-separated list; NULL
 * unsets a message field and empties a repeated one. 0, -EINVAL when the path
 * or the value does not fit the request, or -ENOMEM.
 */
int tsr_variant_set(tsr_variant_t *v, const char *path, const char *value);
/* Frees what the variant allocated (never what it borrowed). */
void tsr_variant_free(tsr_variant_t *v);

#endif

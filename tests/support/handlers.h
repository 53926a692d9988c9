/*
 * Test support for calling the server's handlers in-process, without the
 * network: a store of the server's schema in a temporary directory, a
 * session, and one call run the way the dispatcher runs it. Each helper
 * asserts (cr_assert) what its comment says.
 */
#ifndef OSPAY_TESTS_HANDLERS_H
#define OSPAY_TESTS_HANDLERS_H

#include <stddef.h>
#include <stdint.h>

#include "core/perm.h"
#include "ospay/v1/customers.pb-c.h"
#include "ospay/v1/orders.pb-c.h"
#include "server/rpc/srv.h"
#include "store/store.h"

/* Makes /tmp/ospay-<name>-XXXXXX into dir (cap bytes) and opens a store of
 * the server's tables there (asserts both). */
store_t *tsh_store_up(char *dir, size_t cap, const char *name);
/* Closes st and removes dir (asserts the removal). */
void tsh_store_down(store_t *st, const char *dir);
/* An authenticated org-wide session of organization 1, token 1, with role. */
void tsh_session(srv_session_t *sess, enum perm_role role);
/*
 * Runs method on in for sess against s's store as ospayd does: a write
 * method in the current write batch (no flush: the caller decides when the
 * batch commits), a read method in a read snapshot. r is filled (now_ms is
 * s->clock_ms); r->out holds the reply, freed by the caller with buf_free;
 * the records the handler kept (srv_keep) are freed, as when ospayd ends a
 * call. Returns the handler's errno, else the status it left in r->st.
 */
int tsh_call(srv_t *s, srv_session_t *sess, srv_req_t *r, const char *method, ProtobufCMessage *in);
/*
 * tsh_call that asserts OK (the failure names the method, the code, the
 * message and the first violation field). Returns the reply unpacked with
 * resp_desc (the caller frees it), or NULL when resp_desc is NULL.
 */
void *tsh_call_ok(srv_t *s, srv_session_t *sess, const char *method, ProtobufCMessage *in,
		  const ProtobufCMessageDescriptor *resp_desc);
/* tsh_call_ok for a Create: the id of the record in the reply's field `field`. */
uint64_t tsh_call_id(srv_t *s, srv_session_t *sess, const char *method, ProtobufCMessage *in,
		     const ProtobufCMessageDescriptor *resp_desc, const char *field);
/*
 * Asserts that got (len bytes) is exactly the Orders/Get reply for stored
 * order id with the n notifications nps, as unpacking the record and packing
 * the reply gives it.
 */
void tsh_assert_order_reply(store_t *st, uint64_t id, Ospay__V1__Notification **nps, size_t n,
			    const uint8_t *got, size_t len);
/* store_write of fn(arg), then store_flush: committed (asserts both). */
void tsh_store_write(store_t *st, store_write_fn fn, void *arg);
/*
 * A server s on a fresh store (tsh_store_up) with its clock at clock_ms, sess an
 * admin's (tsh_session), and organization 1 with unit 1 written in the current
 * batch (not flushed). Returns the store (s->store).
 */
store_t *tsh_admin_up(srv_t *s, srv_session_t *sess, char *dir, size_t cap, const char *name,
		      int64_t clock_ms);
/* Customers/Create of a customer of unit 1 (tsr_customer) in the current batch: its id. */
uint64_t tsh_customer(srv_t *s, srv_session_t *sess, const char *name, const char *cpf);
/* Customers/AddService (tsr_service) in the current batch: its id. */
uint64_t tsh_service(srv_t *s, srv_session_t *sess, uint64_t customer,
		     Ospay__V1__RecurringPayment *rp);
/* Billing/CreateInvoice (tsr_invoice) in the current batch: its id. */
uint64_t tsh_invoice(srv_t *s, srv_session_t *sess, uint64_t customer, uint64_t svc,
		     const char *due);

#endif

/*
 * The handlers of every proto service, one file each (admin*.c, agendas.c,
 * billing*.c, cards.c, clock.c, customers.c, orders.c, session.c), and the
 * method table (methods.c) the dispatcher looks them up in.
 */
#ifndef OSPAY_SERVER_SERVICES_SERVICES_H
#define OSPAY_SERVER_SERVICES_SERVICES_H

#include "ospay/v1/records.pb-c.h"
#include "server/rpc/srv.h"
#include "store/store.h"

/* Looks a method up by its full name ("ospay.v1.Orders/Get"); NULL if unknown. */
const srv_method_t *services_method_find(const char *name);

/*
 * Hello's checks of a token (the binary protocol's Hello, Connect's bearer
 * token): when it is live, sess takes its principal (and *rec_out, when not
 * NULL, its record, the caller's to free); else st is UNAUTHENTICATED. 0, or a
 * negative errno when the store failed.
 */
int services_session_auth(srv_t *s, store_txn_t *txn, const char *token, srv_session_t *sess,
			  status_t *st, Ospay__V1__TokenRecord **rec_out);
int h_session_hello(srv_req_t *r, store_txn_t *txn);
int h_admin_create_unit(srv_req_t *r, store_txn_t *txn);
int h_admin_list_units(srv_req_t *r, store_txn_t *txn);
int h_admin_create_token(srv_req_t *r, store_txn_t *txn);
int h_admin_revoke_token(srv_req_t *r, store_txn_t *txn);
int h_clock_now(srv_req_t *r, store_txn_t *txn);
int h_clock_advance(srv_req_t *r, store_txn_t *txn);
int h_admin_create_technician(srv_req_t *r, store_txn_t *txn);
int h_admin_set_gateway(srv_req_t *r, store_txn_t *txn);
int h_admin_get_gateway(srv_req_t *r, store_txn_t *txn);
int h_admin_set_notifier(srv_req_t *r, store_txn_t *txn);
int h_admin_list_technicians(srv_req_t *r, store_txn_t *txn);
int h_admin_set_suspension_profile(srv_req_t *r, store_txn_t *txn);
int h_admin_create_payment_method(srv_req_t *r, store_txn_t *txn);
int h_admin_list_payment_methods(srv_req_t *r, store_txn_t *txn);
int h_billing_create_invoice(srv_req_t *r, store_txn_t *txn);
int h_billing_get_invoice(srv_req_t *r, store_txn_t *txn);
int h_billing_list_invoices(srv_req_t *r, store_txn_t *txn);
int h_billing_cancel_invoice(srv_req_t *r, store_txn_t *txn);
int h_billing_list_charges(srv_req_t *r, store_txn_t *txn);
int h_billing_run_now(srv_req_t *r, store_txn_t *txn);
int h_billing_charge_invoice(srv_req_t *r, store_txn_t *txn);
int h_cards_add(srv_req_t *r, store_txn_t *txn);
int h_cards_list(srv_req_t *r, store_txn_t *txn);
int h_cards_remove(srv_req_t *r, store_txn_t *txn);
int h_cards_set_default(srv_req_t *r, store_txn_t *txn);
int h_customers_create(srv_req_t *r, store_txn_t *txn);
int h_customers_get(srv_req_t *r, store_txn_t *txn);
int h_customers_list(srv_req_t *r, store_txn_t *txn);
int h_customers_update(srv_req_t *r, store_txn_t *txn);
int h_customers_add_service(srv_req_t *r, store_txn_t *txn);
int h_customers_update_service(srv_req_t *r, store_txn_t *txn);
int h_customers_list_services(srv_req_t *r, store_txn_t *txn);
/* services/pix.c: a service's Pix Automático authorization (SRV_M_ASYNC). */
int h_customers_authorize_pix(srv_req_t *r, store_txn_t *txn);
int h_customers_cancel_pix(srv_req_t *r, store_txn_t *txn);
int h_customers_refresh_pix(srv_req_t *r, store_txn_t *txn);
int h_agendas_create(srv_req_t *r, store_txn_t *txn);
int h_agendas_get(srv_req_t *r, store_txn_t *txn);
int h_agendas_list(srv_req_t *r, store_txn_t *txn);
int h_agendas_update(srv_req_t *r, store_txn_t *txn);
int h_agendas_delete(srv_req_t *r, store_txn_t *txn);
int h_agendas_calendar(srv_req_t *r, store_txn_t *txn);
int h_agendas_availability(srv_req_t *r, store_txn_t *txn);
int h_agendas_add_closure(srv_req_t *r, store_txn_t *txn);
int h_agendas_remove_closure(srv_req_t *r, store_txn_t *txn);
int h_agendas_list_closures(srv_req_t *r, store_txn_t *txn);
int h_agendas_set_national_holidays(srv_req_t *r, store_txn_t *txn);
int h_orders_add_note(srv_req_t *r, store_txn_t *txn);
int h_orders_create_closing_reason(srv_req_t *r, store_txn_t *txn);
int h_orders_list_closing_reasons(srv_req_t *r, store_txn_t *txn);
int h_orders_remove_closing_reason(srv_req_t *r, store_txn_t *txn);
int h_orders_create(srv_req_t *r, store_txn_t *txn);
int h_orders_get(srv_req_t *r, store_txn_t *txn);
int h_orders_list(srv_req_t *r, store_txn_t *txn);
int h_orders_update(srv_req_t *r, store_txn_t *txn);
int h_orders_reschedule(srv_req_t *r, store_txn_t *txn);
int h_orders_finalize(srv_req_t *r, store_txn_t *txn);
int h_orders_cancel(srv_req_t *r, store_txn_t *txn);
int h_orders_cancel_payment_attempt(srv_req_t *r, store_txn_t *txn);
int h_orders_refresh_payment(srv_req_t *r, store_txn_t *txn);
int h_billing_list_installments(srv_req_t *r, store_txn_t *txn);
int h_billing_record_installment(srv_req_t *r, store_txn_t *txn);
int h_billing_recurring_credit_report(srv_req_t *r, store_txn_t *txn);
int h_billing_resolve_charge(srv_req_t *r, store_txn_t *txn);

#endif

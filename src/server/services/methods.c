/* The method table: every RPC method, its request type, handler and flags. */
#include <stdlib.h>
#include <string.h>

#include "common/util.h"
#include "ospay/v1/admin.pb-c.h"
#include "ospay/v1/agendas.pb-c.h"
#include "ospay/v1/billing.pb-c.h"
#include "ospay/v1/cards.pb-c.h"
#include "ospay/v1/clock.pb-c.h"
#include "ospay/v1/customers.pb-c.h"
#include "ospay/v1/orders.pb-c.h"
#include "ospay/v1/session.pb-c.h"
#include "server/services/services.h"

#define HELLO_METHOD "ospay.v1.Session/Hello"

/* Sorted by name (strcmp order): looked up with bsearch. */
static const srv_method_t methods[] = {
	{"ospay.v1.Admin/CreatePaymentMethod",
	 &ospay__v1__create_payment_method_request__descriptor, h_admin_create_payment_method,
	 SRV_M_WRITE},
	{"ospay.v1.Admin/CreateTechnician", &ospay__v1__create_technician_request__descriptor,
	 h_admin_create_technician, SRV_M_WRITE},
	{"ospay.v1.Admin/CreateToken", &ospay__v1__create_token_request__descriptor,
	 h_admin_create_token, SRV_M_WRITE},
	{"ospay.v1.Admin/CreateUnit", &ospay__v1__create_unit_request__descriptor,
	 h_admin_create_unit, SRV_M_WRITE},
	{"ospay.v1.Admin/GetGateway", &ospay__v1__get_gateway_request__descriptor,
	 h_admin_get_gateway, 0},
	{"ospay.v1.Admin/ListPaymentMethods", &ospay__v1__list_payment_methods_request__descriptor,
	 h_admin_list_payment_methods, 0},
	{"ospay.v1.Admin/ListTechnicians", &ospay__v1__list_technicians_request__descriptor,
	 h_admin_list_technicians, 0},
	{"ospay.v1.Admin/ListUnits", &ospay__v1__list_units_request__descriptor, h_admin_list_units,
	 0},
	{"ospay.v1.Admin/RevokeToken", &ospay__v1__revoke_token_request__descriptor,
	 h_admin_revoke_token, SRV_M_WRITE},
	{"ospay.v1.Admin/SetGateway", &ospay__v1__set_gateway_request__descriptor,
	 h_admin_set_gateway, SRV_M_ASYNC},
	{"ospay.v1.Admin/SetNotifier", &ospay__v1__set_notifier_request__descriptor,
	 h_admin_set_notifier, SRV_M_WRITE | SRV_M_SECRET},
	{"ospay.v1.Admin/SetSuspensionProfile",
	 &ospay__v1__set_suspension_profile_request__descriptor, h_admin_set_suspension_profile,
	 SRV_M_WRITE},
	{"ospay.v1.Agendas/AddClosure", &ospay__v1__agendas_add_closure_request__descriptor,
	 h_agendas_add_closure, SRV_M_WRITE},
	{"ospay.v1.Agendas/Availability", &ospay__v1__agendas_availability_request__descriptor,
	 h_agendas_availability, 0},
	{"ospay.v1.Agendas/Calendar", &ospay__v1__agendas_calendar_request__descriptor,
	 h_agendas_calendar, 0},
	{"ospay.v1.Agendas/Create", &ospay__v1__agendas_create_request__descriptor,
	 h_agendas_create, SRV_M_WRITE},
	{"ospay.v1.Agendas/Delete", &ospay__v1__agendas_delete_request__descriptor,
	 h_agendas_delete, SRV_M_WRITE},
	{"ospay.v1.Agendas/Get", &ospay__v1__agendas_get_request__descriptor, h_agendas_get, 0},
	{"ospay.v1.Agendas/List", &ospay__v1__agendas_list_request__descriptor, h_agendas_list, 0},
	{"ospay.v1.Agendas/ListClosures", &ospay__v1__agendas_list_closures_request__descriptor,
	 h_agendas_list_closures, 0},
	{"ospay.v1.Agendas/RemoveClosure", &ospay__v1__agendas_remove_closure_request__descriptor,
	 h_agendas_remove_closure, SRV_M_WRITE},
	{"ospay.v1.Agendas/SetNationalHolidays",
	 &ospay__v1__agendas_set_national_holidays_request__descriptor,
	 h_agendas_set_national_holidays, SRV_M_WRITE},
	{"ospay.v1.Agendas/Update", &ospay__v1__agendas_update_request__descriptor,
	 h_agendas_update, SRV_M_WRITE},
	{"ospay.v1.Billing/CancelInvoice", &ospay__v1__billing_cancel_invoice_request__descriptor,
	 h_billing_cancel_invoice, SRV_M_WRITE},
	{"ospay.v1.Billing/ChargeInvoice", &ospay__v1__billing_charge_invoice_request__descriptor,
	 h_billing_charge_invoice, SRV_M_ASYNC},
	{"ospay.v1.Billing/CreateInvoice", &ospay__v1__billing_create_invoice_request__descriptor,
	 h_billing_create_invoice, SRV_M_WRITE},
	{"ospay.v1.Billing/GetInvoice", &ospay__v1__billing_get_invoice_request__descriptor,
	 h_billing_get_invoice, 0},
	{"ospay.v1.Billing/ListCharges", &ospay__v1__billing_list_charges_request__descriptor,
	 h_billing_list_charges, 0},
	{"ospay.v1.Billing/ListInstallments",
	 &ospay__v1__billing_list_installments_request__descriptor, h_billing_list_installments, 0},
	{"ospay.v1.Billing/ListInvoices", &ospay__v1__billing_list_invoices_request__descriptor,
	 h_billing_list_invoices, 0},
	{"ospay.v1.Billing/RecordInstallment",
	 &ospay__v1__billing_record_installment_request__descriptor, h_billing_record_installment,
	 SRV_M_WRITE},
	{"ospay.v1.Billing/RecurringCreditReport",
	 &ospay__v1__billing_recurring_credit_report_request__descriptor,
	 h_billing_recurring_credit_report, 0},
	{"ospay.v1.Billing/ResolveCharge", &ospay__v1__billing_resolve_charge_request__descriptor,
	 h_billing_resolve_charge, SRV_M_WRITE},
	{"ospay.v1.Billing/RunNow", &ospay__v1__billing_run_now_request__descriptor,
	 h_billing_run_now, SRV_M_ASYNC},
	{"ospay.v1.Cards/Add", &ospay__v1__cards_add_request__descriptor, h_cards_add, SRV_M_ASYNC},
	{"ospay.v1.Cards/List", &ospay__v1__cards_list_request__descriptor, h_cards_list, 0},
	{"ospay.v1.Cards/Remove", &ospay__v1__cards_remove_request__descriptor, h_cards_remove,
	 SRV_M_WRITE},
	{"ospay.v1.Cards/SetDefault", &ospay__v1__cards_set_default_request__descriptor,
	 h_cards_set_default, SRV_M_WRITE},
	{"ospay.v1.Clock/Advance", &ospay__v1__advance_request__descriptor, h_clock_advance, 0},
	{"ospay.v1.Clock/Now", &ospay__v1__now_request__descriptor, h_clock_now, 0},
	{"ospay.v1.Customers/AddService", &ospay__v1__customers_add_service_request__descriptor,
	 h_customers_add_service, SRV_M_WRITE},
	{"ospay.v1.Customers/Create", &ospay__v1__customers_create_request__descriptor,
	 h_customers_create, SRV_M_WRITE},
	{"ospay.v1.Customers/Get", &ospay__v1__customers_get_request__descriptor, h_customers_get,
	 0},
	{"ospay.v1.Customers/List", &ospay__v1__customers_list_request__descriptor,
	 h_customers_list, 0},
	{"ospay.v1.Customers/ListServices", &ospay__v1__customers_list_services_request__descriptor,
	 h_customers_list_services, 0},
	{"ospay.v1.Customers/Update", &ospay__v1__customers_update_request__descriptor,
	 h_customers_update, SRV_M_WRITE},
	{"ospay.v1.Customers/UpdateService",
	 &ospay__v1__customers_update_service_request__descriptor, h_customers_update_service,
	 SRV_M_WRITE},
	{"ospay.v1.Orders/AddNote", &ospay__v1__orders_add_note_request__descriptor,
	 h_orders_add_note, SRV_M_WRITE},
	{"ospay.v1.Orders/Cancel", &ospay__v1__orders_cancel_request__descriptor, h_orders_cancel,
	 SRV_M_WRITE},
	{"ospay.v1.Orders/CancelPaymentAttempt",
	 &ospay__v1__orders_cancel_payment_attempt_request__descriptor,
	 h_orders_cancel_payment_attempt, SRV_M_ASYNC},
	{"ospay.v1.Orders/Create", &ospay__v1__orders_create_request__descriptor, h_orders_create,
	 SRV_M_WRITE},
	{"ospay.v1.Orders/CreateClosingReason",
	 &ospay__v1__orders_create_closing_reason_request__descriptor,
	 h_orders_create_closing_reason, SRV_M_WRITE},
	{"ospay.v1.Orders/Finalize", &ospay__v1__orders_finalize_request__descriptor,
	 h_orders_finalize, SRV_M_ASYNC},
	{"ospay.v1.Orders/Get", &ospay__v1__orders_get_request__descriptor, h_orders_get, 0},
	{"ospay.v1.Orders/List", &ospay__v1__orders_list_request__descriptor, h_orders_list, 0},
	{"ospay.v1.Orders/ListClosingReasons",
	 &ospay__v1__orders_list_closing_reasons_request__descriptor, h_orders_list_closing_reasons,
	 0},
	{"ospay.v1.Orders/RefreshPayment", &ospay__v1__orders_refresh_payment_request__descriptor,
	 h_orders_refresh_payment, SRV_M_ASYNC},
	{"ospay.v1.Orders/RemoveClosingReason",
	 &ospay__v1__orders_remove_closing_reason_request__descriptor,
	 h_orders_remove_closing_reason, SRV_M_WRITE},
	{"ospay.v1.Orders/Reschedule", &ospay__v1__orders_reschedule_request__descriptor,
	 h_orders_reschedule, SRV_M_WRITE},
	{"ospay.v1.Orders/Update", &ospay__v1__orders_update_request__descriptor, h_orders_update,
	 SRV_M_WRITE},
	{HELLO_METHOD, &ospay__v1__hello_request__descriptor, h_session_hello, SRV_M_NOAUTH},
};

static int method_cmp(const void *key, const void *elem)
{
	return strcmp(key, ((const srv_method_t *)elem)->name);
}

const srv_method_t *services_method_find(const char *name)
{
	return bsearch(name, methods, OSPAY_ARRAY_LEN(methods), sizeof(methods[0]), method_cmp);
}

/*
 * The ospay command as a black box, command by command: the usage errors word
 * for word (and which wins when a line has several), what each command sends,
 * and the richest tables and records byte for byte. The harness is cli_fake.h.
 */
#include "client/cli/utf8.c"
#include "common/pbjson.h"
#include "client/cli_fake.h"
#include "ospay/v1/agendas.pb-c.h"
#include "ospay/v1/billing.pb-c.h"
#include "ospay/v1/cards.pb-c.h"
#include "ospay/v1/clock.pb-c.h"
#include "ospay/v1/customers.pb-c.h"
#include "ospay/v1/installments.pb-c.h"
#include "ospay/v1/orders.pb-c.h"

/* The canned replies of cli_fake.h as people read them (as the CLI printed them before its
 * commands became tables). */
#define ORDER_42                                                                                   \
	"id              42\n"                                                                     \
	"unit            3\n"                                                                      \
	"customer        7\n"                                                                      \
	"service\n"                                                                                \
	"address\n"                                                                                \
	"kind            REPARO\n"                                                                 \
	"description     trocar ONU\n"                                                             \
	"agenda          none\n"                                                                   \
	"technician      5\n"                                                                      \
	"start           2026-12-07 08:00\n"                                                       \
	"duration        90 min\n"                                                                 \
	"amount          R$ 1.234,56\n"                                                            \
	"status          open\n"                                                                   \
	"payment         error\n"                                                                  \
	"payment method  recurring-credit, 2 installments\n"                                       \
	"payment link    https://pay.example/l/1\n"                                                \
	"payment error   gateway timed out\n"                                                      \
	"created         2026-12-06 08:00\n"                                                       \
	"updated         2026-12-07 07:00\n"                                                       \
	"\n"                                                                                       \
	"installments\n"                                                                           \
	"N  DUE         AMOUNT     STATUS   REASON\n"                                              \
	"1  2026-12-07  R$ 617,28  denied   sem saldo\n"                                           \
	"2  2027-01-07  R$ 617,28  waiting\n"                                                      \
	"\n"                                                                                       \
	"history\n"                                                                                \
	"WHEN              FROM  TO    BY TOKEN  NOTE\n"                                           \
	"2026-12-06 08:00  -     open  9\n"                                                        \
	"2026-12-07 07:00  open  open  9         reaberta\n"                                       \
	"\n"                                                                                       \
	"notifications\n"                                                                          \
	"ID  KIND                  STATUS  TRIES  UPDATED           ERROR\n"                       \
	"11  payment-link-created  failed  3      2026-12-07 07:00  no WhatsApp\n"
#define CHARGES_42                                                                                 \
	"ID  DATE        CUSTOMER  INVOICE  ATTEMPT  RAIL  CARD                    AMOUNT"         \
	"  RECURRING  STATUS           CODE  MESSAGE                        SETTLES  PSP\n"        \
	" 1  2026-12-01  7         30       1        card  visa ****1111         R$ 99,90"         \
	"  yes        declined         51    Insufficient funds\n"                                 \
	" 2  2026-12-01  7         31       2        card                         R$ 1,00"         \
	"  no         voided                 Sale voided (operator: twice)\n"                      \
	" 3  2026-12-01  7         32       3        card                 R$ 1.234.567,89"         \
	"  no         operator-review        outcome unknown\n"
#define SERVICES_42                                                                                \
	"ID  PLAN           MONTHLY  STATUS   RECURRING          NOTE\n"                           \
	" 1  Fibra 500     R$ 99,90  active   on (card 4)\n"                                       \
	" 2  TV            R$ 50,00  blocked  on (default card)  card 4 was removed; the default " \
	"card is charged\n"                                                                        \
	"10  Fone       R$ 1.000,00  active   off\n"

TestSuite(cli_calls, .init = setup, .fini = teardown, .timeout = 120);

/*
 * Usage errors word for word, and which one wins when a line has several:
 * each command checks its arguments in a set order, and nothing is sent.
 */
Test(cli_calls, usage_errors_and_their_order)
{
	const struct {
		const char *const *args;
		const char *err; /* the first line of stderr; the command's usage follows */
	} cases[] = {
		{ARGS("orders", "update", "x", "--customer", "2"), "ID must be an id, not \"x\""},
		{ARGS("orders", "update", "1", "--customer", "2", "--agenda", "x"),
		 "an order's customer does not change"},
		{ARGS("orders", "update", "1"), "nothing to change: give at least one option"},
		{ARGS("orders", "create", "--amount", "x", "--minutes", "5", "--agenda", "x"),
		 "--agenda must be an id, not \"x\""},
		{ARGS("orders", "finalize", "1", "--installments", "x", "--method", "bogus"),
		 "--installments must be a number, not \"x\""},
		{ARGS("orders", "reschedule", "1", "--kind", "x"),
		 "--start \"YYYY-MM-DD HH:MM\" is required"},
		{ARGS("orders", "refresh-payment", "1", "--reason", "x"),
		 "unknown option --reason"},
		{ARGS("orders", "list", "--limit", "y", "--payment", "bogus"),
		 "--limit must be a number, not \"y\""},
		{ARGS("orders", "list", "--limit"), "--limit needs a value"},
		{ARGS("agendas", "update", "1", "--unit", "2", "--window", "bad"),
		 "--window is DAY,HH:MM-HH:MM,CAPACITY (e.g. mon,08:00-12:00,4), not \"bad\""},
		{ARGS("agendas", "update", "1"), "nothing to change: give at least one option"},
		{ARGS("agendas", "create", "--window", "bad", "--daily-max", "x"),
		 "--daily-max must be a number, not \"x\""},
		{ARGS("agendas", "create", "--any-city", "--city", "X"),
		 "--any-city and --city exclude each other"},
		{ARGS("calendar", "--unit", "y", "--by", "bogus"),
		 "--unit must be an id, not \"y\""},
		{ARGS("customers", "update", "1", "--unit", "1", "--name", "y"),
		 "a customer's unit does not change"},
		{ARGS("customers", "update", "1"),
		 "nothing to change: give at least one field option"},
		{ARGS("customers", "list", "--unit", "x", "--document", "1", "--document", "2"),
		 "--document given twice"},
		{ARGS("customers", "get"), "missing argument"},
		{ARGS("customers", "services", "x"), "CUSTOMER_ID must be an id, not \"x\""},
		{ARGS("customers", "add-service", "1", "--card", "x", "--status", "active"),
		 "--card must be an id, not \"x\""},
		{ARGS("customers", "update-service", "1", "--card", "3", "--status", "bogus"),
		 "--status is active or blocked"},
		{ARGS("customers", "update-service", "1"),
		 "nothing to change: give at least one option"},
		{ARGS("cards", "add", "--customer", "x", "--holder", "h"),
		 "--customer must be an id, not \"x\""},
		{ARGS("cards", "list"), "--customer is required"},
		{ARGS("payment-methods", "create", "--mode", "bogus"),
		 "--type is cash, pix, boleto, card or recurring-credit"},
		{ARGS("invoices", "get", "0"), "ID must be an id, not \"0\""},
		{ARGS("invoices", "charge", "1", "--card", "x", "--card", "y"),
		 "--card given twice"},
		{ARGS("invoices", "list", "--status", "bogus", "--customer", "x"),
		 "--customer must be an id, not \"x\""},
		{ARGS("charges", "list", "--recurring", "--non-recurring", "--customer", "x"),
		 "--recurring and --non-recurring exclude each other"},
		{ARGS("suspension-profile", "set"), "--days is required (0: never block)"},
		{ARGS("installments", "record", "--order", "x", "--number", "1"),
		 "--order, --number and --status are required"},
		{ARGS("installments", "list", "--mode", "automatic-card"),
		 "--mode is integrated or manual"},
		{ARGS("installments", "list", "--mode", "automatic-pix"),
		 "--mode is integrated or manual"},
		{ARGS("charges", "list", "--rail", "boleto"), "--rail is card or pix-automatico"},
		{ARGS("report", "recurring-credit", "--period", "bogus", "--customer", "x"),
		 "--period is today, this-week, this-month or last-month"},
		{ARGS("units", "list", "extra"), "too many arguments"},
		{ARGS("tokens", "revoke", "0"), "ID must be a token id, not \"0\""},
		{ARGS("tokens", "create", "--role", "root", "--name", "a", "--name", "b"),
		 "unknown role \"root\": use admin, operator or read-only"},
		{ARGS("tokens", "create", "--unit", "x", "--bogus"),
		 "--unit needs a unit id, not \"x\""},
		{ARGS("gateways", "get", "visa"), "the service is pagolivre, cielo, getnet or pix"},
		{ARGS("notifier", "set", "--channel", "fax"), "--channel is whatsapp or sms"},
		{ARGS("billing", "run", "--bogus"), "unknown option --bogus"},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const char *const *a = cases[i].args;
		char want[512];
		run_t r;
		run_cli(&r, GOOD_TOKEN, a);
		cr_assert_eq(r.status, 2, "%s %s: %d %s", a[0], a[1], r.status, r.err);
		snprintf(want, sizeof(want), "error: %s\nusage: ospay %s ", cases[i].err, a[0]);
		cr_assert(strncmp(r.err, want, strlen(want)) == 0, "%s %s: want %s, got %s", a[0],
			  a[1], want, r.err);
		cr_assert_str_eq(r.out, "");
	}
	struct seen s = seen_now();
	cr_assert_eq(s.hellos, 0, "usage errors never connect");
}

Test(cli_calls, command_help_is_its_table_row)
{
	run_t r;
	run_cli(&r, GOOD_TOKEN, ARGS("orders", "cancel", "--help"));
	cr_assert_eq(r.status, 0);
	cr_assert_str_eq(r.out,
			 "usage: ospay orders cancel ID [--reason R]\n\ncancel an open order.\n");
	run_cli(&r, GOOD_TOKEN, ARGS("help", "agendas", "delete"));
	cr_assert_eq(r.status, 0);
	cr_assert_str_eq(
		r.out, "usage: ospay agendas delete ID [--release-orders]\n\ndelete an agenda.\n\n"
		       "Its orders keep the agenda's id and can still be listed by it. With open "
		       "orders\nfrom now on it is refused with their count, unless "
		       "--release-orders: they stay\nbooked at their times and can still be "
		       "moved.\n");
}

/*
 * What people read, byte for byte, where the table or record has the most
 * kinds of cells: local times, money, "none" and empty for zero, enum names,
 * lists under the record, cells made of several fields.
 */
Test(cli_calls, tables_and_records_byte_for_byte)
{
	run_t r;
	run_cli(&r, GOOD_TOKEN, ARGS("orders", "get", "42"));
	cr_assert_eq(r.status, 0, "%s", r.err);
	cr_assert_str_eq(r.out, ORDER_42, "%s", r.out);
	run_cli(&r, GOOD_TOKEN, ARGS("charges", "list", "--unit", "42"));
	cr_assert_eq(r.status, 0, "%s", r.err);
	cr_assert_str_eq(r.out, CHARGES_42, "%s", r.out);
	run_cli(&r, GOOD_TOKEN, ARGS("customers", "services", "42"));
	cr_assert_eq(r.status, 0, "%s", r.err);
	cr_assert_str_eq(r.out, SERVICES_42, "%s", r.out);
}

/*
 * What each command sends: its method, and the request fields its arguments
 * fill (compared as JSON, only the fields named). The fake server does not
 * implement these methods, so every run ends in the same error.
 */
Test(cli_calls, commands_send_their_method_and_fields)
{
	const struct {
		const char *const *args;
		const char *method;
		const ProtobufCMessageDescriptor *req;
		const char *fields; /* a JSON object: what the request must hold */
	} cases[] = {
		{ARGS("clock", "now"), "ospay.v1.Clock/Now", &ospay__v1__now_request__descriptor,
		 "{}"},
		{ARGS("clock", "advance", "1h"), "ospay.v1.Clock/Advance",
		 &ospay__v1__advance_request__descriptor, "{\"by_ms\": 3600000}"},
		{ARGS("gateways", "get", "getnet"), "ospay.v1.Admin/GetGateway",
		 &ospay__v1__get_gateway_request__descriptor,
		 "{\"kind\": \"GATEWAY_KIND_GETNET\"}"},
		{ARGS("gateways", "set", "cielo", "--base-url", "a", "--base-url", "b",
		      "--allow-automatic-recurrence"),
		 "ospay.v1.Admin/SetGateway", &ospay__v1__set_gateway_request__descriptor,
		 "{\"base_url\": \"b\", \"allow_automatic_recurrence\": true, \"credentials\": "
		 "null}"},
		{ARGS("notifier", "set", "--base-url", "u", "--channel", "sms"),
		 "ospay.v1.Admin/SetNotifier", &ospay__v1__set_notifier_request__descriptor,
		 "{\"base_url\": \"u\", \"channel\": \"NOTIFIER_CHANNEL_SMS\"}"},
		{ARGS("payment-methods", "create", "--name", "Carnê", "--type", "recurring-credit",
		      "--mode", "manual"),
		 "ospay.v1.Admin/CreatePaymentMethod",
		 &ospay__v1__create_payment_method_request__descriptor,
		 "{\"name\": \"Carnê\", \"type\": \"PAYMENT_METHOD_TYPE_RECURRING_CREDIT\", "
		 "\"operation_mode\": \"OPERATION_MODE_MANUAL\"}"},
		{ARGS("payment-methods", "list"), "ospay.v1.Admin/ListPaymentMethods",
		 &ospay__v1__list_payment_methods_request__descriptor,
		 "{\"page_size\": 1000, \"page_token\": \"\"}"},
		{ARGS("technicians", "create", "--name", "Ana", "--unit", "3", "--phone", "p",
		      "--email", "e"),
		 "ospay.v1.Admin/CreateTechnician",
		 &ospay__v1__create_technician_request__descriptor,
		 "{\"unit_id\": 3, \"name\": \"Ana\", \"phone\": \"p\", \"email\": \"e\"}"},
		{ARGS("technicians", "list", "--unit", "4"), "ospay.v1.Admin/ListTechnicians",
		 &ospay__v1__list_technicians_request__descriptor, "{\"unit_id\": 4}"},
		{ARGS("suspension-profile", "set", "--days", "5"),
		 "ospay.v1.Admin/SetSuspensionProfile",
		 &ospay__v1__set_suspension_profile_request__descriptor, "{\"days\": 5}"},
		{ARGS("customers", "create", "--name", "X", "--unit", "3", "--city", "C", "--cep",
		      "Z"),
		 "ospay.v1.Customers/Create", &ospay__v1__customers_create_request__descriptor,
		 "{\"unit_id\": 3, \"name\": \"X\", \"document\": \"\", \"address\": {\"street\": "
		 "\"\", "
		 "\"number\": \"\", \"complement\": \"\", \"district\": \"\", \"city\": \"C\", "
		 "\"state\": \"\", \"cep\": \"Z\"}}"},
		{ARGS("customers", "get", "12"), "ospay.v1.Customers/Get",
		 &ospay__v1__customers_get_request__descriptor, "{\"id\": 12}"},
		{ARGS("customers", "list", "--document", "123"), "ospay.v1.Customers/List",
		 &ospay__v1__customers_list_request__descriptor,
		 "{\"unit_id\": 0, \"document\": \"123\", \"page_size\": 1000}"},
		{ARGS("customers", "update", "5", "--email", "", "--name", "Y"),
		 "ospay.v1.Customers/Update", &ospay__v1__customers_update_request__descriptor,
		 "{\"id\": 5, \"name\": \"Y\", \"email\": \"\", \"address\": null, "
		 "\"update_mask\": [\"name\", \"email\"]}"},
		{ARGS("customers", "update", "5", "--city", "Y"), "ospay.v1.Customers/Get",
		 &ospay__v1__customers_get_request__descriptor, "{\"id\": 5}"},
		{ARGS("customers", "add-service", "5", "--plan", "P", "--amount", "9,90", "--card",
		      "2"),
		 "ospay.v1.Customers/AddService",
		 &ospay__v1__customers_add_service_request__descriptor,
		 "{\"customer_id\": 5, \"plan_name\": \"P\", \"monthly_amount\": 990, "
		 "\"recurring_payment\": {\"enabled\": false, \"card_id\": 2, \"rail\": "
		 "\"PAYMENT_RAIL_UNSPECIFIED\"}}"},
		{ARGS("customers", "update-service", "6", "--status", "blocked", "--recurring",
		      "on", "--card", "none", "--plan", "Q"),
		 "ospay.v1.Customers/UpdateService",
		 &ospay__v1__customers_update_service_request__descriptor,
		 "{\"service_id\": 6, \"plan_name\": \"Q\", \"status\": "
		 "\"SERVICE_STATUS_BLOCKED\", "
		 "\"recurring_payment\": {\"enabled\": true, \"card_id\": 0, \"rail\": "
		 "\"PAYMENT_RAIL_UNSPECIFIED\"}, "
		 "\"update_mask\": [\"plan_name\", \"recurring_payment\", \"status\"]}"},
		{ARGS("customers", "services", "7"), "ospay.v1.Customers/ListServices",
		 &ospay__v1__customers_list_services_request__descriptor, "{\"customer_id\": 7}"},
		{ARGS("cards", "list", "--customer", "8"), "ospay.v1.Cards/List",
		 &ospay__v1__cards_list_request__descriptor, "{\"customer_id\": 8}"},
		{ARGS("cards", "remove", "9"), "ospay.v1.Cards/Remove",
		 &ospay__v1__cards_remove_request__descriptor, "{\"card_id\": 9}"},
		{ARGS("cards", "set-default", "9"), "ospay.v1.Cards/SetDefault",
		 &ospay__v1__cards_set_default_request__descriptor, "{\"card_id\": 9}"},
		{ARGS("invoices", "create", "--customer", "1", "--service", "2", "--amount",
		      "1.234,5", "--due", "2027-01-10"),
		 "ospay.v1.Billing/CreateInvoice",
		 &ospay__v1__billing_create_invoice_request__descriptor,
		 "{\"customer_id\": 1, \"service_id\": 2, \"amount\": 123450, "
		 "\"due_date\": \"2027-01-10\"}"},
		{ARGS("invoices", "get", "3"), "ospay.v1.Billing/GetInvoice",
		 &ospay__v1__billing_get_invoice_request__descriptor, "{\"invoice_id\": 3}"},
		{ARGS("invoices", "cancel", "3"), "ospay.v1.Billing/CancelInvoice",
		 &ospay__v1__billing_cancel_invoice_request__descriptor, "{\"invoice_id\": 3}"},
		{ARGS("invoices", "charge", "3", "--card", "4"), "ospay.v1.Billing/ChargeInvoice",
		 &ospay__v1__billing_charge_invoice_request__descriptor,
		 "{\"invoice_id\": 3, \"card_id\": 4}"},
		{ARGS("invoices", "list", "--status", "paid", "--from", "2027-01-01", "--unit", "2",
		      "--limit", "5"),
		 "ospay.v1.Billing/ListInvoices",
		 &ospay__v1__billing_list_invoices_request__descriptor,
		 "{\"customer_id\": 0, \"status\": \"INVOICE_STATUS_PAID\", \"due_from\": "
		 "\"2027-01-01\", \"due_to\": \"\", \"unit_id\": 2, \"page_size\": 1000}"},
		{ARGS("charges", "list", "--non-recurring", "--status", "operator-review"),
		 "ospay.v1.Billing/ListCharges",
		 &ospay__v1__billing_list_charges_request__descriptor,
		 "{\"status\": \"CHARGE_STATUS_OPERATOR_REVIEW\", \"recurrence\": "
		 "\"CHARGE_RECURRENCE_FILTER_NON_RECURRING\"}"},
		{ARGS("charges", "list", "--rail", "pix-automatico", "--status", "canceled"),
		 "ospay.v1.Billing/ListCharges",
		 &ospay__v1__billing_list_charges_request__descriptor,
		 "{\"status\": \"CHARGE_STATUS_CANCELED\", \"rail\": "
		 "\"PAYMENT_RAIL_PIX_AUTOMATICO\"}"},
		{ARGS("charges", "resolve", "3", "--declined", "--reason", "r"),
		 "ospay.v1.Billing/ResolveCharge",
		 &ospay__v1__billing_resolve_charge_request__descriptor,
		 "{\"charge_id\": 3, \"resolution\": \"CHARGE_RESOLUTION_DECLINED\", \"reason\": "
		 "\"r\", "
		 "\"payment_id\": \"\"}"},
		{ARGS("billing", "run"), "ospay.v1.Billing/RunNow",
		 &ospay__v1__billing_run_now_request__descriptor, "{}"},
		{ARGS("agendas", "create", "--name", "A", "--slot", "30", "--window",
		      "tue,08:00-12:00,2", "--city", "X", "--city", "Y"),
		 "ospay.v1.Agendas/Create", &ospay__v1__agendas_create_request__descriptor,
		 "{\"name\": \"A\", \"slot_minutes\": 30, \"daily_max\": 0, \"cities\": [\"X\", "
		 "\"Y\"], \"windows\": [{\"weekday\": \"WEEKDAY_TUESDAY\", \"start_minute\": 480, "
		 "\"end_minute\": 720, "
		 "\"capacity\": 2}]}"},
		{ARGS("agendas", "get", "2"), "ospay.v1.Agendas/Get",
		 &ospay__v1__agendas_get_request__descriptor, "{\"id\": 2}"},
		{ARGS("agendas", "list"), "ospay.v1.Agendas/List",
		 &ospay__v1__agendas_list_request__descriptor, "{\"unit_id\": 0}"},
		{ARGS("agendas", "update", "2", "--any-city", "--daily-max", "4"),
		 "ospay.v1.Agendas/Update", &ospay__v1__agendas_update_request__descriptor,
		 "{\"id\": 2, \"daily_max\": 4, \"cities\": [], "
		 "\"update_mask\": [\"cities\", \"daily_max\"]}"},
		{ARGS("agendas", "delete", "2"), "ospay.v1.Agendas/Delete",
		 &ospay__v1__agendas_delete_request__descriptor, "{\"id\": 2}"},
		{ARGS("calendar", "--by", "technician", "--from", "2026-12-01", "--to",
		      "2026-12-02", "--id", "5", "--canceled"),
		 "ospay.v1.Agendas/Calendar", &ospay__v1__agendas_calendar_request__descriptor,
		 "{\"view_by\": \"CALENDAR_VIEW_BY_TECHNICIAN\", \"from_date\": \"2026-12-01\", "
		 "\"to_date\": \"2026-12-02\", \"ids\": [5], \"include_canceled\": true}"},
		{ARGS("orders", "create", "--customer", "1", "--kind", "K", "--agenda", "none",
		      "--start", "2026-12-07 08:00", "--amount", "150"),
		 "ospay.v1.Orders/Create", &ospay__v1__orders_create_request__descriptor,
		 "{\"customer_id\": 1, \"kind\": \"K\", \"agenda_id\": 0, "
		 "\"scheduled_start_ms\": 1796641200000, \"amount\": 15000}"},
		{ARGS("orders", "get", "4"), "ospay.v1.Orders/Get",
		 &ospay__v1__orders_get_request__descriptor, "{\"id\": 4}"},
		{ARGS("orders", "list", "--status", "open", "--from", "2026-12-01", "--to",
		      "2026-12-01", "--technician", "3"),
		 "ospay.v1.Orders/List", &ospay__v1__orders_list_request__descriptor,
		 "{\"status\": \"ORDER_STATUS_OPEN\", \"technician_id\": 3, "
		 "\"scheduled_from_ms\": 1796094000000, \"scheduled_to_ms\": 1796180400000}"},
		{ARGS("orders", "update", "4", "--technician", "none", "--minutes", "30"),
		 "ospay.v1.Orders/Update", &ospay__v1__orders_update_request__descriptor,
		 "{\"id\": 4, \"technician_id\": 0, \"duration_minutes\": 30, "
		 "\"update_mask\": [\"technician_id\", \"duration_minutes\"]}"},
		{ARGS("orders", "reschedule", "4", "--start", "2026-12-07 10:00"),
		 "ospay.v1.Orders/Reschedule", &ospay__v1__orders_reschedule_request__descriptor,
		 "{\"id\": 4, \"scheduled_start_ms\": 1796648400000, \"duration_minutes\": 0}"},
		{ARGS("orders", "finalize", "4", "--method", "pix", "--installments", "2"),
		 "ospay.v1.Orders/Finalize", &ospay__v1__orders_finalize_request__descriptor,
		 "{\"id\": 4, \"method_type\": \"PAYMENT_METHOD_TYPE_PIX\", \"installments\": 2, "
		 "\"note\": \"\"}"},
		{ARGS("orders", "cancel", "4", "--reason", "r"), "ospay.v1.Orders/Cancel",
		 &ospay__v1__orders_cancel_request__descriptor, "{\"id\": 4, \"reason\": \"r\"}"},
		{ARGS("orders", "refresh-payment", "4"), "ospay.v1.Orders/RefreshPayment",
		 &ospay__v1__orders_refresh_payment_request__descriptor, "{\"id\": 4}"},
		{ARGS("orders", "cancel-payment", "4"), "ospay.v1.Orders/CancelPaymentAttempt",
		 &ospay__v1__orders_cancel_payment_attempt_request__descriptor,
		 "{\"id\": 4, \"reason\": \"\"}"},
		{ARGS("installments", "list", "--mode", "manual", "--to", "2027-01-01"),
		 "ospay.v1.Billing/ListInstallments",
		 &ospay__v1__billing_list_installments_request__descriptor,
		 "{\"mode\": \"INSTALLMENT_MODE_MANUAL\", \"due_to\": \"2027-01-01\"}"},
		{ARGS("installments", "record", "--order", "4", "--number", "2", "--status",
		      "denied", "--reason", "r"),
		 "ospay.v1.Billing/RecordInstallment",
		 &ospay__v1__billing_record_installment_request__descriptor,
		 "{\"order_id\": 4, \"number\": 2, \"status\": \"INSTALLMENT_STATUS_DENIED\", "
		 "\"reason\": \"r\"}"},
		{ARGS("report", "recurring-credit", "--period", "last-month", "--mode",
		      "automatic-card", "--max-rows", "9"),
		 "ospay.v1.Billing/RecurringCreditReport",
		 &ospay__v1__billing_recurring_credit_report_request__descriptor,
		 "{\"period\": \"REPORT_PERIOD_LAST_MONTH\", \"mode\": "
		 "\"INSTALLMENT_MODE_AUTOMATIC_CARD\", \"max_rows\": 9, \"from\": \"\"}"},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const char *const *a = cases[i].args;
		run_t r;
		run_cli(&r, GOOD_TOKEN, a);
		cr_assert_eq(r.status, 1, "%s %s: %d %s", a[0], a[1], r.status, r.err);
		cr_assert_str_eq(r.err, "error: UNIMPLEMENTED: unimplemented\n", "%s %s", a[0],
				 a[1]);
		struct seen s = seen_now();
		cr_assert_str_eq(s.other_method, cases[i].method, "%s %s", a[0], a[1]);
		ProtobufCMessage *m =
			protobuf_c_message_unpack(cases[i].req, NULL, s.other_len, s.other_body);
		cr_assert_not_null(m, "%s %s: bad request", a[0], a[1]);
		json_t *got = pbjson_from_message(m, PBJSON_CLI);
		json_t *want = parse_json(cases[i].fields);
		const char *key;
		json_t *v;
		json_object_foreach(want, key, v)
		{
			char *g = json_dumps(json_object_get(got, key),
					     JSON_COMPACT | JSON_ENCODE_ANY);
			char *w = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);
			cr_assert_str_eq(g, w, "%s %s: %s is %s", a[0], a[1], key, g);
			free(g);
			free(w);
		}
		json_decref(want);
		json_decref(got);
		protobuf_c_message_free_unpacked(m, NULL);
	}
}

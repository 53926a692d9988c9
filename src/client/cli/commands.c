/* Every ospay command, in the order `ospay help` lists them. */
#include "client/cli/cli.h"

const cli_command_t cli_commands[] = {
	{"ping", NULL, cli_cmd_ping, NULL, "", "connect, say Hello and print the round-trip time",
	 "Measures connecting and authenticating (TCP connect + Session/Hello).\n"},
	{"whoami", NULL, cli_cmd_whoami, NULL, "",
	 "show the token's organization, role and unit scope", NULL},
	{"clock", "now", NULL, &cli_dom_clock_now, "",
	 "show the server's clock (the test clock when it runs on one)", NULL},
	{"clock", "advance", cli_cmd_clock_advance, NULL, "DURATION",
	 "move the test clock forward (ADMIN; servers started with --test-clock)",
	 "DURATION is a number with a unit: 90s, 30m, 2h, 1d (or several: 1d12h).\n"
	 "Timers fire as if the time had passed (the billing run, retries).\n"
	 "Not retried on a broken connection: check `ospay clock now` before repeating.\n"},
	{"units", "list", NULL, &cli_dom_units_list, "",
	 "list the organization's units (every page)", NULL},
	{"units", "create", cli_cmd_units_create, NULL, "NAME", "create a unit",
	 "NAME may contain spaces and accents when quoted: ospay units create \"São Paulo\".\n"},
	{"tokens", "create", cli_cmd_tokens_create, NULL,
	 "--name N --role admin|operator|read-only (--org-wide | --unit ID [--unit ID...])",
	 "create an API token and print its secret, once",
	 "The secret is printed this once (the server keeps only a keyed hash): store it now.\n"
	 "--org-wide lets the token see every unit; otherwise give each unit with --unit.\n"},
	{"tokens", "revoke", cli_cmd_tokens_revoke, NULL, "ID", "revoke a token", NULL},
	{"gateways", "set", cli_cmd_gateways_set, NULL,
	 "pagolivre|cielo|getnet|pix --base-url URL [--query-base-url URL] [--credentials FILE|-] "
	 "[--soft-descriptor TEXT] [--allow-automatic-recurrence] [--client-cert PEM "
	 "--client-key PEM] [--pix FILE]",
	 "configure a payment gateway (credentials are stored sealed, never shown)",
	 "--credentials reads a JSON object (a file, or - for standard input) so secrets stay off\n"
	 "the command line: {\"merchant_id\": \"...\", \"merchant_key\": \"...\",\n"
	 "\"webhook_headers\": {\"X-Name\": \"value\"}} for Cielo; client_id, client_secret and\n"
	 "seller_id for GetNet; api_token for PagoLivre. Without --credentials the stored ones "
	 "are\n"
	 "kept. Automatic recurrence is off unless --allow-automatic-recurrence is given.\n"
	 "pix (a Pix Automatico PSP): --credentials {\"client_id\": \"...\", \"client_secret\":\n"
	 "\"...\"}, the PSP's mutual-TLS identity with --client-cert and --client-key (PEM "
	 "files),\n"
	 "and --pix a JSON file of settings: {\"account\": \"012682\", \"callback_base_url\":\n"
	 "\"https://pay.example.com\"} and optionally profile (bcb|efi|inter|cielo), branch,\n"
	 "account_type, pix_key, window_open_days, window_close_days, retry_days, no_retries,\n"
	 "cancel_cutoff_minutes. The PSP's callbacks are registered before anything is stored.\n"},
	{"gateways", "get", cli_cmd_gateways_get, NULL, "pagolivre|cielo|getnet|pix",
	 "show a gateway's settings (never its credentials)", NULL},
	{"notifier", "set", cli_cmd_notifier_set, NULL,
	 "--base-url URL [--channel whatsapp|sms] [--credentials FILE|-]",
	 "configure ZapMe (WhatsApp/SMS)",
	 "--credentials: {\"api_key\": \"...\", \"api_secret\": \"...\", \"webhook_headers\":\n"
	 "{\"X-ZapMe-Secret\": \"...\"}}.\n"},
	{"payment-methods", "create", cli_cmd_payment_methods_create, NULL,
	 "--name N --type cash|pix|boleto|card|recurring-credit [--mode integrated|manual]",
	 "create a payment method (organization-wide admins)",
	 "--mode is required for recurring-credit: integrated (a gateway charges) or manual\n"
	 "(the business records the payments).\n"},
	{"payment-methods", "list", NULL, &cli_dom_payment_methods_list, "",
	 "list the organization's payment methods", NULL},
	{"technicians", "create", NULL, &cli_dom_technicians_create,
	 "--name N [--unit ID] [--phone +55...] [--email E]", "add a field technician to a unit",
	 "--unit may be left out by a token scoped to one unit.\n"},
	{"technicians", "list", NULL, &cli_dom_technicians_list, "[--unit ID]", "list technicians",
	 NULL},
	{"customers", "create", cli_cmd_customers_create, NULL,
	 "--name N --document CPF|CNPJ --street S --city C --state UF --cep CEP [--number N] "
	 "[--district D] [--complement C] [--phone +55...] [--email E] [--unit ID]",
	 "create a customer with its installation address",
	 "Documents, phones and CEPs may carry the usual punctuation: 529.982.247-25,\n"
	 "\"+55 (11) 98765-4321\", 01310-100. Phones need the country code.\n"},
	{"customers", "get", NULL, &cli_dom_customers_get, "ID", "show a customer", NULL},
	{"customers", "list", NULL, &cli_dom_customers_list, "[--unit ID] [--document CPF|CNPJ]",
	 "list customers (every page)", NULL},
	{"customers", "update", cli_cmd_customers_update, NULL,
	 "ID [--name N] [--document D] [--phone P] [--email E] [address options]",
	 "change a customer's fields",
	 "Only the fields given change. An empty value clears an optional field (--email \"\").\n"
	 "Address options (--street, --number, --complement, --district, --city, --state,\n"
	 "--cep) change those parts and keep the rest of the address.\n"},
	{"customers", "add-service", cli_cmd_customers_add_service, NULL,
	 "CUSTOMER_ID --plan P --amount 99.90 [--recurring on|off [--card ID] [--rail card]]",
	 "add a service (contract) to a customer", NULL},
	{"customers", "update-service", cli_cmd_customers_update_service, NULL,
	 "SERVICE_ID [--plan P] [--amount A] [--recurring on|off [--card ID|none] "
	 "[--rail card|pix-automatico]] [--status active|blocked]",
	 "change a service",
	 "--rail pix-automatico charges the service by Pix Automático: it needs an accepted\n"
	 "authorization (ospay services pix-authorize).\n"},
	{"customers", "services", NULL, &cli_dom_customers_services, "CUSTOMER_ID",
	 "list a customer's services", NULL},
	{"services", "list", NULL, &cli_dom_services_list,
	 "[--customer ID] [--pix-state STATE] [--rail card|pix-automatico]",
	 "list services (every customer's, or one's) with their rail and Pix authorization",
	 "--pix-state is created, sent, accepted, rejected, expired, canceled-by-payer or\n"
	 "canceled-by-receiver. --rail card also lists services stored before Pix existed.\n"},
	{"services", "pix-authorize", cli_cmd_services_pix_authorize, NULL,
	 "SERVICE [--journey qr|qr-payment|invoice] [--invoice ID] [--fixed] [--max AMOUNT] "
	 "[--no-send] [--switch]",
	 "ask the customer to authorize Pix Automático for a service",
	 "qr (the default): a QR code / copia-e-cola that only authorizes; qr-payment: one that\n"
	 "pays --invoice now and authorizes the next ones; invoice: --invoice's own Pix, after\n"
	 "which the customer's bank offers to authorize. The code goes to the customer by\n"
	 "WhatsApp unless --no-send (it is printed either way). --fixed: every charge is the\n"
	 "monthly amount; --max: the most the customer said they allow; --switch: charge the\n"
	 "service by Pix once the customer accepts.\n"},
	{"services", "pix-cancel", NULL, &cli_dom_services_pix_cancel, "SERVICE",
	 "cancel a service's Pix Automático authorization (the card is charged again)", NULL},
	{"services", "pix-refresh", NULL, &cli_dom_services_pix_refresh, "SERVICE",
	 "ask the PSP for the authorization's state now", NULL},
	{"cards", "add", cli_cmd_cards_add, NULL, "--customer ID --holder NAME --expiry MM/YYYY",
	 "add a card on file (tokenized at the organization's Cielo or GetNet)",
	 "The card number and the security code are never command-line arguments: they are\n"
	 "read from standard input, one per line, or prompted for without echo on a terminal.\n"
	 "Example: printf '%s\\n%s\\n' \"$NUMBER\" \"$CVV\" | ospay cards add --customer 7 \\\n"
	 "    --holder \"MARIA SILVA\" --expiry 12/2030\n"
	 "The first card of a customer becomes its default.\n"},
	{"cards", "list", cli_cmd_cards_list, NULL, "--customer ID",
	 "list a customer's cards (brand, last four digits, expiry)", NULL},
	{"cards", "remove", cli_cmd_cards_remove, NULL, "ID", "remove a card",
	 "Removing the default card makes the newest remaining card the default.\n"},
	{"cards", "set-default", NULL, &cli_dom_cards_set_default, "ID", "make a card the default",
	 NULL},
	{"invoices", "create", NULL, &cli_dom_invoices_create,
	 "--customer ID --service ID --amount 99,90 --due YYYY-MM-DD",
	 "create an invoice (fatura) for a customer's service", NULL},
	{"invoices", "get", NULL, &cli_dom_invoices_get, "ID", "show an invoice", NULL},
	{"invoices", "list", NULL, &cli_dom_invoices_list,
	 "[--customer ID] [--status open|paid|canceled] [--from DATE] [--to DATE] [--unit ID] "
	 "[--limit N]",
	 "list invoices by due date (every page, or --limit)",
	 "--from/--to bound the due date (both days included).\n"},
	{"invoices", "cancel", NULL, &cli_dom_invoices_cancel, "ID", "cancel an open invoice",
	 NULL},
	{"invoices", "charge", NULL, &cli_dom_invoices_charge, "ID [--card ID]",
	 "charge an open invoice now (operator-initiated, not recurring)",
	 "The card is --card, else the service's chosen card, else the default card.\n"},
	{"charges", "list", cli_cmd_charges_list, NULL,
	 "[--recurring|--non-recurring] [--status S] [--rail card|pix-automatico] [--customer ID]\n"
	 "[--unit ID] [--limit N]",
	 "list charge attempts (the card processing panel)",
	 "S is pending, approved, declined, error, unknown, no-valid-card, operator-review,\n"
	 "voiding, voided or canceled. Declines show the gateway's return code and message.\n"
	 "Pix Automático charges show 'pix <txid>', the day the payer's bank settles\n"
	 "them (SETTLES), the PSP's status word and its reason code (CODE).\n"
	 "operator-review: the outcome is unknown and the gateway (GetNet) cannot be asked;\n"
	 "look the sale up in the gateway's portal and record it with 'charges resolve'.\n"},
	{"charges", "resolve", cli_cmd_charges_resolve, NULL,
	 "ID --approved|--declined|--not-charged --reason TEXT [--payment-id ID]",
	 "record what the gateway's portal shows for a charge in operator review",
	 "Approved pays the invoice (or voids the sale if the invoice is no longer open);\n"
	 "declined and not-charged leave it open for its next attempt. The reason is kept\n"
	 "on the charge.\n"},
	{"suspension-profile", "set", cli_cmd_suspension_set, NULL, "--days N",
	 "block a customer's service N days after an unpaid due date (ADMIN)",
	 "N is 0 (never block) or 2 to 365. Paying or canceling the invoice unblocks.\n"},
	{"billing", "run", NULL, &cli_dom_billing_run, "",
	 "run the automatic card billing now and wait for it (ADMIN)", NULL},
	{"agendas", "create", cli_cmd_agendas_create, NULL,
	 "--name N --slot MIN --window DAY,HH:MM-HH:MM,CAP [--window ...] [--daily-max N] "
	 "[--city C ...] [--unit ID]",
	 "create an agenda (booking calendar for orders)",
	 "DAY is mon..sun (or seg..dom). Orders may start on the slot grid of a window,\n"
	 "CAP of them per window and day, at most --daily-max a day (0: no maximum).\n"
	 "With cities, only customers installed in one of them (case and accents\n"
	 "ignored) can be booked.\n"
	 "Example: ospay agendas create --name Instalações --slot 60 \\\n"
	 "    --window mon,08:00-12:00,4 --window mon,13:00-18:00,4 --city \"São Paulo\"\n"},
	{"agendas", "get", NULL, &cli_dom_agendas_get, "ID", "show an agenda and its windows",
	 NULL},
	{"agendas", "list", NULL, &cli_dom_agendas_list, "[--unit ID]", "list agendas", NULL},
	{"agendas", "update", cli_cmd_agendas_update, NULL,
	 "ID [--name N] [--window ... (replaces all)] [--city ... | --any-city] [--daily-max N] "
	 "[--slot MIN]",
	 "change an agenda; orders already booked stay", NULL},
	{"agendas", "delete", cli_cmd_agendas_delete, NULL, "ID [--release-orders]",
	 "delete an agenda",
	 "Its orders keep the agenda's id and can still be listed by it. With open orders\n"
	 "from now on it is refused with their count, unless --release-orders: they stay\n"
	 "booked at their times and can still be moved.\n"},
	{"agendas", "availability", NULL, &cli_dom_agendas_availability,
	 "ID [--from YYYY-MM-DD] [--days N]",
	 "free places per day and window, and the technicians free in each",
	 "The numbers are the ones orders create enforces right now: FREE is how many\n"
	 "more orders may start in the window (0 on a closed day), DAY MAX LEFT what is\n"
	 "left of the daily maximum. --days is 1..31 (default 7).\n"
	 "Example: ospay agendas availability 1 --from 2026-12-07 --days 7\n"},
	{"closures", "add", NULL, &cli_dom_closures_add,
	 "--date YYYY-MM-DD --reason TEXT [--agenda ID]",
	 "close a day for bookings: on one agenda, or on every agenda (ADMIN)",
	 "Orders create, update and reschedule refuse a start on a closed day with the\n"
	 "reason. Brazil's national holidays are closed too once switched on\n"
	 "('closures national-holidays closed').\n"
	 "Example: ospay closures add --date 2026-12-24 --reason \"Véspera de Natal\"\n"},
	{"closures", "list", NULL, &cli_dom_closures_list,
	 "--from YYYY-MM-DD --to YYYY-MM-DD [--agenda ID]",
	 "the closed days of a range: closures and national holidays",
	 "Without --agenda, the organization-wide ones; with it, the agenda's too.\n"},
	{"closures", "remove", cli_cmd_closures_remove, NULL, "ID",
	 "open a closed day again (ADMIN)", NULL},
	{"closures", "national-holidays", cli_cmd_closures_holidays, NULL, "closed|open",
	 "whether Brazil's national holidays are closed days (ADMIN; default open)",
	 "The holidays: Confraternização Universal, Carnaval (Monday and Tuesday),\n"
	 "Sexta-feira Santa, Tiradentes, Dia do Trabalho, Corpus Christi, Independência,\n"
	 "Nossa Senhora Aparecida, Finados, Proclamação da República, Consciência Negra,\n"
	 "Natal.\n"},
	{"calendar", NULL, cli_cmd_calendar, NULL,
	 "--by agenda|technician --from YYYY-MM-DD --to YYYY-MM-DD [--unit ID] [--id ID ...] "
	 "[--canceled]",
	 "the orders of a date range, day by day (at most 62 days)",
	 "--id limits the view to those agendas or technicians.\n"},
	{"orders", "create", cli_cmd_orders_create, NULL,
	 "--customer ID --kind K [--description D] [--agenda ID] [--technician ID] "
	 "[--start \"YYYY-MM-DD HH:MM\"] [--minutes N] [--amount 150.00] [--service ID]",
	 "open a service order",
	 "Times are the organization's local time. With an agenda and no --start the order\n"
	 "awaits scheduling (aguardando agendamento) until 'orders reschedule' gives it a\n"
	 "start; with a start, --minutes defaults to the agenda's slot.\n"},
	{"orders", "get", NULL, &cli_dom_orders_get, "ID", "show an order and its history", NULL},
	{"orders", "list", cli_cmd_orders_list, NULL,
	 "[--status open|closed|canceled|awaiting-scheduling] [--payment none|pending|error|paid] "
	 "[--agenda ID] "
	 "[--technician ID] [--customer ID] [--unit ID] [--from DATE] [--to DATE] "
	 "[--created-from DATE] [--created-to DATE] [--limit N]",
	 "list orders (every page, or --limit)",
	 "--from/--to filter the scheduled start by local date (both days included) and\n"
	 "sort by start; otherwise orders come in creation order.\n"
	 "Example: ospay orders list --status open --agenda 3 --from 2026-12-01 --to 2026-12-07\n"},
	{"orders", "update", cli_cmd_orders_update, NULL,
	 "ID [--kind K] [--description D] [--agenda ID|none] [--technician ID|none] "
	 "[--start T|none] [--minutes N] [--amount A] [--service ID|none]",
	 "change an open order (agenda and technician are checked again)", NULL},
	{"orders", "reschedule", cli_cmd_orders_reschedule, NULL,
	 "ID --start \"YYYY-MM-DD HH:MM\" [--minutes N] [--technician ID] [--agenda ID]",
	 "move an order (to another time, technician or agenda) and/or change its duration",
	 "The calendar's drag: the same checks as create (overlap, window, capacity, city,\n"
	 "closed days). An order awaiting scheduling gets its start this way.\n"},
	{"orders", "finalize", cli_cmd_orders_finalize, NULL,
	 "ID --method cash|pix|boleto|card|recurring-credit | --payment-method ID "
	 "[--installments N] [--note N] [--outcome concluded|not-concluded] "
	 "[--closing-reason ID] [--executed-from \"YYYY-MM-DD HH:MM\" --executed-to ...]",
	 "close an order, recording how the work ended and how it was paid; recurring credit "
	 "sends a payment link (integrated) or schedules the installments (manual) and leaves "
	 "it open",
	 "--outcome defaults to concluded; not-concluded needs --closing-reason (see\n"
	 "'closing-reasons list') and may leave the payment out. --executed-from/--to are\n"
	 "when the work ran, local time.\n"
	 "Example: ospay orders finalize 1 --method pix --executed-from \"2026-12-07 09:05\" \\\n"
	 "    --executed-to \"2026-12-07 10:20\"\n"},
	{"orders", "note", NULL, &cli_dom_orders_note, "ID --text T",
	 "add a note to an order's timeline (any status)", NULL},
	{"closing-reasons", "create", NULL, &cli_dom_closing_reasons_create,
	 "--name N [--outcome concluded|not-concluded]",
	 "add a reason to the organization's list of closing reasons (ADMIN)", NULL},
	{"closing-reasons", "list", NULL, &cli_dom_closing_reasons_list, "",
	 "the organization's closing reasons", NULL},
	{"closing-reasons", "remove", cli_cmd_closing_reasons_remove, NULL, "ID",
	 "take a reason off the list; orders closed with it keep its name (ADMIN)", NULL},
	{"orders", "cancel", NULL, &cli_dom_orders_cancel, "ID [--reason R]",
	 "cancel an open order", NULL},
	{"orders", "refresh-payment", NULL, &cli_dom_orders_refresh_payment, "ID",
	 "ask the gateway about the order's payment link now", NULL},
	{"orders", "cancel-payment", NULL, &cli_dom_orders_cancel_payment, "ID [--reason R]",
	 "cancel the payment attempt (the link at the gateway); the order stays open", NULL},
	{"installments", "list", cli_cmd_installments_list, NULL,
	 "[--status waiting|confirmed|denied|canceled] [--mode integrated|manual] [--customer ID] "
	 "[--unit ID] [--from DATE] [--to DATE] [--limit N]",
	 "list the installments of orders by due date (every page, or --limit)",
	 "--from/--to bound the due date (both days included).\n"},
	{"installments", "record", cli_cmd_installments_record, NULL,
	 "--order ID --number N --status confirmed|denied|canceled [--reason TEXT]",
	 "record a MANUAL installment's result",
	 "--reason is required with denied. Confirming installment 1 closes the order as paid;\n"
	 "a final status cannot be changed. Repeating the same record changes nothing.\n"},
	{"report", "recurring-credit", cli_cmd_report_recurring_credit, NULL,
	 "[--period today|this-week|this-month|last-month | --from YYYY-MM-DD --to YYYY-MM-DD] "
	 "[--status S] [--mode integrated|manual|automatic-card|automatic-pix] [--customer ID] "
	 "[--unit ID] "
	 "[--max-rows N] [--csv]",
	 "installments and recurring card and Pix charges of a period, with totals per status",
	 "Periods are in the organization's local calendar (weeks from Monday); the default\n"
	 "is this month. Without --unit an org-wide token sees the whole organization.\n"
	 "--csv prints the rows as CSV (amounts like 1234.56, no totals).\n"
	 "Example: ospay report recurring-credit --period last-month --status denied --csv\n"},
};

const size_t cli_n_commands = sizeof(cli_commands) / sizeof(cli_commands[0]);

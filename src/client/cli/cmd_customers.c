/* ospay customers ...: the Customers service (customers and their services). */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "client/cli/cli.h"
#include "client/cli/dom.h"
#include "ospay/v1/customers.pb-c.h"

/* create and update; update refuses --unit before it fills the rest. */
static const dom_flag_t customer_flags[] = {
	DOM_OPT("unit", 'U', DOM_ID, "unit_id"),
	DOM_OPT("name", 'n', DOM_TEXT, "name"),
	DOM_OPT("document", 'd', DOM_TEXT, "document"),
	DOM_OPT("phone", 'p', DOM_TEXT, "phone"),
	DOM_OPT("email", 'e', DOM_TEXT, "email"),
	DOM_OPT("street", 's', DOM_VALUE, NULL),
	DOM_OPT("number", 'N', DOM_VALUE, NULL),
	DOM_OPT("complement", 'c', DOM_VALUE, NULL),
	DOM_OPT("district", 'D', DOM_VALUE, NULL),
	DOM_OPT("city", 'C', DOM_VALUE, NULL),
	DOM_OPT("state", 'S', DOM_VALUE, NULL),
	DOM_OPT("cep", 'z', DOM_VALUE, NULL),
	{NULL},
};

/* Copies the address options given over a (which may hold the stored address). */
static bool address_opts(const dom_opts_t *o, Ospay__V1__Address *a)
{
	const struct {
		int code;
		char **field;
	} map[] = {{'s', &a->street}, {'N', &a->number}, {'c', &a->complement}, {'D', &a->district},
		   {'C', &a->city},   {'S', &a->state},  {'z', &a->cep}};
	bool any = false;
	for (size_t i = 0; i < sizeof(map) / sizeof(map[0]); i++) {
		if (o->v[map[i].code] != NULL) {
			*map[i].field = (char *)o->v[map[i].code];
			any = true;
		}
	}
	return any;
}

int cli_cmd_customers_create(cli_ctx_t *ctx, int argc, char **argv)
{
	dom_opts_t o;
	Ospay__V1__Address a = OSPAY__V1__ADDRESS__INIT;
	Ospay__V1__CustomersCreateRequest req = OSPAY__V1__CUSTOMERS_CREATE_REQUEST__INIT;
	int rc = dom_parse_fill(ctx, argc, argv, customer_flags, &o, &req.base);
	if (rc != CLI_EXIT_OK)
		goto out;
	address_opts(&o, &a);
	req.address = &a;
	/* The server names every missing or bad field at once. */
	rc = dom_call_print(ctx, "ospay.v1.Customers/Create", &req.base,
			    &ospay__v1__customers_create_response__descriptor, CLI_CALL_MUTATING,
			    "customer", dom_print_record);
out:
	return rc;
}

const dom_cmd_t cli_dom_customers_get = {
	.method = "ospay.v1.Customers/Get",
	.arg = "ID",
	.arg_field = "id",
	.record = "customer",
};

static const dom_col_t customer_cols[] = {
	DOM_COL_RIGHT("ID", "id", DOM_C_NUM),
	DOM_COL("UNIT", "unit_id", DOM_C_NUM),
	DOM_COL("NAME", "name", DOM_C_TEXT),
	DOM_COL("DOCUMENT", "document", DOM_C_TEXT),
	/* Empty for a customer without an address. */
	DOM_COL("CITY", "address.city", DOM_C_TEXT),
	DOM_COL("UF", "address.state", DOM_C_TEXT),
	DOM_COL("PHONE", "phone", DOM_C_TEXT),
	{NULL},
};

static const dom_flag_t customers_list_flags[] = {
	DOM_OPT("unit", 'U', DOM_ID, "unit_id"),
	DOM_OPT("document", 'd', DOM_TEXT, "document"),
	{NULL},
};

const dom_cmd_t cli_dom_customers_list = {
	.method = "ospay.v1.Customers/List",
	.flags = customers_list_flags,
	.items = "customers",
	.cols = customer_cols,
};

int cli_cmd_customers_update(cli_ctx_t *ctx, int argc, char **argv)
{
	dom_opts_t o;
	char *mask[8];
	size_t nm = 0;
	ProtobufCMessage *cur = NULL;
	Ospay__V1__CustomersUpdateRequest req = OSPAY__V1__CUSTOMERS_UPDATE_REQUEST__INIT;
	Ospay__V1__Address a = OSPAY__V1__ADDRESS__INIT;
	int rc = dom_parse_id(ctx, argc, argv, customer_flags, &o, "ID", &req.id);
	if (rc == CLI_EXIT_OK && o.v['U'] != NULL)
		rc = cli_usage_error(ctx, "a customer's unit does not change");
	if (rc == CLI_EXIT_OK)
		rc = dom_fill(ctx, &o, &req.base);
	if (rc != CLI_EXIT_OK)
		goto out;
	nm = dom_mask(&o, mask, 4);
	Ospay__V1__Address probe = OSPAY__V1__ADDRESS__INIT;
	if (address_opts(&o, &probe)) {
		/* The address is replaced whole: start from the stored one. */
		Ospay__V1__CustomersGetRequest g = OSPAY__V1__CUSTOMERS_GET_REQUEST__INIT;
		g.id = req.id;
		rc = cli_call(ctx, "ospay.v1.Customers/Get", &g.base,
			      &ospay__v1__customers_get_response__descriptor, 0, &cur);
		if (rc != CLI_EXIT_OK)
			goto out;
		const Ospay__V1__Customer *c = ((Ospay__V1__CustomersGetResponse *)cur)->customer;
		if (c != NULL && c->address != NULL)
			a = *c->address;
		address_opts(&o, &a);
		req.address = &a;
		mask[nm++] = "address";
	}
	if (nm == 0) {
		rc = cli_usage_error(ctx, "nothing to change: give at least one field option");
		goto out;
	}
	req.update_mask = mask;
	req.n_update_mask = nm;
	rc = dom_call_print(ctx, "ospay.v1.Customers/Update", &req.base,
			    &ospay__v1__customers_update_response__descriptor, CLI_CALL_MUTATING,
			    "customer", dom_print_record);
out:
	protobuf_c_message_free_unpacked(cur, NULL);
	return rc;
}

/*
 * add-service and update-service; add-service refuses --status before it
 * fills the rest. The fields name update-service's mask paths.
 */
static const dom_flag_t service_flags[] = {
	DOM_OPT("plan", 'p', DOM_TEXT, "plan_name"),
	DOM_OPT("amount", 'a', DOM_VALUE, "monthly_amount"),
	DOM_OPT("recurring", 'r', DOM_VALUE, "recurring_payment"),
	DOM_OPT("card", 'c', DOM_VALUE, NULL),
	DOM_OPT_ENUM("status", 's', "status", "SERVICE_STATUS_", "--status is active or blocked"),
	DOM_OPT("rail", 'R', DOM_VALUE, NULL),
	{NULL},
};

/* --amount and --recurring on|off / --card for both service commands. */
static int service_values(cli_ctx_t *ctx, const dom_opts_t *o, int64_t *amount,
			  Ospay__V1__RecurringPayment *rp)
{
	int rc = CLI_EXIT_OK;
	if (o->v['a'] != NULL && dom_money_parse(o->v['a'], amount) != 0)
		rc = cli_usage_error(ctx, "--amount must be money (99.90 or 99,90), not \"%s\"",
				     o->v['a']);
	if (rc == CLI_EXIT_OK && o->v['r'] != NULL) {
		if (strcmp(o->v['r'], "on") == 0)
			rp->enabled = 1;
		else if (strcmp(o->v['r'], "off") != 0)
			rc = cli_usage_error(ctx, "--recurring is on or off");
	}
	if (rc == CLI_EXIT_OK)
		rc = dom_opt_id(ctx, o, 'c', true, &rp->card_id);
	int rail = 0;
	if (rc == CLI_EXIT_OK && o->v['R'] != NULL &&
	    dom_enum_parse(&ospay__v1__payment_rail__descriptor, "PAYMENT_RAIL_", o->v['R'],
			   &rail) != 0)
		rc = cli_usage_error(ctx, "--rail is card or pix-automatico");
	rp->rail = (Ospay__V1__PaymentRail)rail;
	if (rc == CLI_EXIT_OK && o->v['R'] != NULL && o->v['r'] == NULL)
		rc = cli_usage_error(ctx, "--rail goes with --recurring on|off");
	return rc;
}

int cli_cmd_customers_add_service(cli_ctx_t *ctx, int argc, char **argv)
{
	dom_opts_t o;
	Ospay__V1__RecurringPayment rp = OSPAY__V1__RECURRING_PAYMENT__INIT;
	Ospay__V1__CustomersAddServiceRequest req = OSPAY__V1__CUSTOMERS_ADD_SERVICE_REQUEST__INIT;
	int rc = dom_parse_id(ctx, argc, argv, service_flags, &o, "CUSTOMER_ID", &req.customer_id);
	if (rc == CLI_EXIT_OK)
		rc = service_values(ctx, &o, &req.monthly_amount, &rp);
	if (rc == CLI_EXIT_OK && o.v['s'] != NULL)
		rc = cli_usage_error(ctx,
				     "a new service is active: --status is for update-service");
	if (rc == CLI_EXIT_OK)
		rc = dom_fill(ctx, &o, &req.base);
	if (rc != CLI_EXIT_OK)
		goto out;
	req.recurring_payment = &rp;
	rc = dom_call_print(ctx, "ospay.v1.Customers/AddService", &req.base,
			    &ospay__v1__customers_add_service_response__descriptor,
			    CLI_CALL_MUTATING, "service", dom_print_record);
out:
	return rc;
}

int cli_cmd_customers_update_service(cli_ctx_t *ctx, int argc, char **argv)
{
	dom_opts_t o;
	char *mask[4];
	size_t nm = 0;
	Ospay__V1__RecurringPayment rp = OSPAY__V1__RECURRING_PAYMENT__INIT;
	Ospay__V1__CustomersUpdateServiceRequest req =
		OSPAY__V1__CUSTOMERS_UPDATE_SERVICE_REQUEST__INIT;
	int rc = dom_parse_id(ctx, argc, argv, service_flags, &o, "SERVICE_ID", &req.service_id);
	if (rc == CLI_EXIT_OK)
		rc = service_values(ctx, &o, &req.monthly_amount, &rp);
	if (rc == CLI_EXIT_OK)
		rc = dom_fill(ctx, &o, &req.base);
	if (rc == CLI_EXIT_OK && o.v['c'] != NULL && o.v['r'] == NULL)
		rc = cli_usage_error(ctx, "--card goes with --recurring on|off");
	if (rc != CLI_EXIT_OK)
		goto out;
	if (o.v['r'] != NULL)
		req.recurring_payment = &rp;
	nm = dom_mask(&o, mask, 4);
	if (nm == 0) {
		rc = cli_usage_error(ctx, "nothing to change: give at least one option");
		goto out;
	}
	req.update_mask = mask;
	req.n_update_mask = nm;
	rc = dom_call_print(ctx, "ospay.v1.Customers/UpdateService", &req.base,
			    &ospay__v1__customers_update_service_response__descriptor,
			    CLI_CALL_MUTATING, "service", dom_print_record);
out:
	return rc;
}

/* "off", "on (default card)" or "on (card 7)". */
static void recurring_cell(const ProtobufCMessage *m, char *out, size_t n)
{
	const Ospay__V1__RecurringPayment *rp =
		((const Ospay__V1__CustomerService *)m)->recurring_payment;
	if (rp == NULL || !rp->enabled)
		snprintf(out, n, "off");
	else if (rp->card_id == 0)
		snprintf(out, n, "on (default card)");
	else
		snprintf(out, n, "on (card %" PRIu64 ")", rp->card_id);
}

/* The rail recurring charges travel on: "card" also for records before Pix. */
static void rail_cell(const ProtobufCMessage *m, char *out, size_t n)
{
	const Ospay__V1__RecurringPayment *rp =
		((const Ospay__V1__CustomerService *)m)->recurring_payment;
	snprintf(out, n, "%s",
		 rp != NULL && rp->rail == OSPAY__V1__PAYMENT_RAIL__PAYMENT_RAIL_PIX_AUTOMATICO
			 ? "pix-automatico"
			 : "card");
}

/* The Pix Automático authorization's state: "" when none was asked for. */
static void pix_cell(const ProtobufCMessage *m, char *out, size_t n)
{
	const Ospay__V1__PixAuthorization *p = ((const Ospay__V1__CustomerService *)m)->pix;
	char buf[40];
	if (p == NULL)
		snprintf(out, n, "%s", "");
	else if (p->state ==
		 OSPAY__V1__PIX_AUTHORIZATION_STATE__PIX_AUTHORIZATION_STATE_UNSPECIFIED)
		snprintf(out, n, "%s", "being created");
	else
		snprintf(out, n, "%s",
			 dom_enum_text(&ospay__v1__pix_authorization_state__descriptor,
				       "PIX_AUTHORIZATION_STATE_", (int)p->state, buf,
				       sizeof(buf)));
}

static const dom_col_t service_cols[] = {
	DOM_COL_RIGHT("ID", "id", DOM_C_NUM),
	DOM_COL("PLAN", "plan_name", DOM_C_TEXT),
	DOM_COL_RIGHT("MONTHLY", "monthly_amount", DOM_C_MONEY),
	DOM_COL_ENUM("STATUS", "status", "SERVICE_STATUS_"),
	DOM_COL_CELL("RECURRING", recurring_cell),
	/* Why the service went back to the default card, when its card was removed. */
	DOM_COL("NOTE", "card_fallback.note", DOM_C_TEXT),
	{NULL},
};

/* ospay services list: who, and the rail and Pix authorization beside the rest. */
static const dom_col_t pix_service_cols[] = {
	DOM_COL_RIGHT("ID", "id", DOM_C_NUM),
	DOM_COL_RIGHT("CUSTOMER", "customer_id", DOM_C_NUM),
	DOM_COL("PLAN", "plan_name", DOM_C_TEXT),
	DOM_COL_RIGHT("MONTHLY", "monthly_amount", DOM_C_MONEY),
	DOM_COL_ENUM("STATUS", "status", "SERVICE_STATUS_"),
	DOM_COL_CELL("RECURRING", recurring_cell),
	DOM_COL_CELL("RAIL", rail_cell),
	DOM_COL_CELL("PIX", pix_cell),
	/* What the customer pastes in their bank's app to authorize. */
	DOM_COL("PIX CODE", "pix.copia_e_cola", DOM_C_TEXT),
	{NULL},
};

const dom_cmd_t cli_dom_customers_services = {
	.method = "ospay.v1.Customers/ListServices",
	.arg = "CUSTOMER_ID",
	.arg_field = "customer_id",
	.items = "services",
	.cols = service_cols,
};

/* ------------------------------------------------------------------ ospay services ... */

static const dom_flag_t services_list_flags[] = {
	DOM_OPT("customer", 'c', DOM_ID, "customer_id"),
	DOM_OPT_ENUM("pix-state", 'p', "pix_state", "PIX_AUTHORIZATION_STATE_",
		     "--pix-state is created, sent, accepted, rejected, expired, "
		     "canceled-by-payer or canceled-by-receiver"),
	DOM_OPT_ENUM("rail", 'r', "rail", "PAYMENT_RAIL_", "--rail is card or pix-automatico"),
	{NULL},
};

const dom_cmd_t cli_dom_services_list = {
	.method = "ospay.v1.Customers/ListServices",
	.flags = services_list_flags,
	.items = "services",
	.cols = pix_service_cols,
};

/* --journey's words, as the Central Bank numbers the journeys. */
static int journey_parse(const char *s, Ospay__V1__PixJourney *out)
{
	static const struct {
		const char *word;
		Ospay__V1__PixJourney j;
	} t[] = {
		{"qr", OSPAY__V1__PIX_JOURNEY__PIX_JOURNEY_QR},
		{"qr-payment", OSPAY__V1__PIX_JOURNEY__PIX_JOURNEY_QR_WITH_PAYMENT},
		{"invoice", OSPAY__V1__PIX_JOURNEY__PIX_JOURNEY_INVOICE_OFFER},
	};
	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		if (strcmp(s, t[i].word) == 0) {
			*out = t[i].j;
			return 0;
		}
	}
	return -1;
}

int cli_cmd_services_pix_authorize(cli_ctx_t *ctx, int argc, char **argv)
{
	static const dom_flag_t flags[] = {
		DOM_OPT("journey", 'j', DOM_VALUE, NULL),
		DOM_OPT("invoice", 'i', DOM_ID, "invoice_id"),
		DOM_OPT("fixed", 'f', DOM_SWITCH, NULL),
		DOM_OPT_MONEY("max", 'm', "payer_max_amount",
			      "--max must be money (150 or 150,00)"),
		DOM_OPT("no-send", 'n', DOM_SWITCH, NULL),
		DOM_OPT("switch", 's', DOM_SWITCH, NULL),
		{NULL},
	};
	dom_opts_t o;
	Ospay__V1__CustomersAuthorizePixRequest req =
		OSPAY__V1__CUSTOMERS_AUTHORIZE_PIX_REQUEST__INIT;
	int rc = dom_parse_id(ctx, argc, argv, flags, &o, "SERVICE", &req.service_id);
	if (rc == CLI_EXIT_OK && o.v['j'] != NULL && journey_parse(o.v['j'], &req.journey) != 0)
		rc = cli_usage_error(ctx, "--journey is qr, qr-payment or invoice");
	if (rc == CLI_EXIT_OK)
		rc = dom_fill(ctx, &o, &req.base);
	if (rc != CLI_EXIT_OK)
		return rc;
	req.fixed_amount = o.seen['f'];
	req.do_not_send = o.seen['n'];
	req.switch_rail = o.seen['s'];
	return dom_call_print(ctx, "ospay.v1.Customers/AuthorizePix", &req.base,
			      &ospay__v1__customers_authorize_pix_response__descriptor,
			      CLI_CALL_MUTATING, "service", dom_print_record);
}

const dom_cmd_t cli_dom_services_pix_cancel = {
	.method = "ospay.v1.Customers/CancelPix",
	.call = CLI_CALL_MUTATING,
	.arg = "SERVICE",
	.arg_field = "service_id",
	.record = "service",
};

const dom_cmd_t cli_dom_services_pix_refresh = {
	.method = "ospay.v1.Customers/RefreshPix",
	.call = CLI_CALL_MUTATING,
	.arg = "SERVICE",
	.arg_field = "service_id",
	.record = "service",
};

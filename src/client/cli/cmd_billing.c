/*
 * ospay cards add|list|remove|set-default, ospay payment-methods create|list,
 * ospay invoices create|get|list|cancel.
 *
 * A card's number and security code are never taken from the command line
 * (argv is visible in `ps` and kept in shell history): `cards add` reads them
 * from standard input, one per line, or prompts for them without echo when
 * standard input is a terminal. The buffers are wiped once the call is made.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#include "client/cli/cli.h"
#include "client/cli/dom.h"
#include "common/crypto.h"
#include "ospay/v1/admin.pb-c.h"
#include "ospay/v1/billing.pb-c.h"
#include "ospay/v1/cards.pb-c.h"

#define SECRET_MAX 80
#define TYPE_PREFIX "PAYMENT_METHOD_TYPE_"
#define MODE_PREFIX "OPERATION_MODE_"
#define BRAND_PREFIX "CARD_BRAND_"
#define INV_PREFIX "INVOICE_STATUS_"

/* ------------------------------------------------------------------ cards */

/*
 * One line of standard input into buf (newline removed); on a terminal, after
 * prompt on stderr and with echo off. 0, or -EIO at end of input.
 */
static int read_secret(const char *prompt, char *buf, size_t cap)
{
	struct termios old, quiet;
	bool tty = isatty(STDIN_FILENO) && tcgetattr(STDIN_FILENO, &old) == 0;
	if (tty) {
		fputs(prompt, stderr);
		fflush(stderr);
		quiet = old;
		quiet.c_lflag &= ~(tcflag_t)ECHO;
		tcsetattr(STDIN_FILENO, TCSAFLUSH, &quiet);
	}
	char *got = fgets(buf, (int)cap, stdin);
	if (tty) {
		tcsetattr(STDIN_FILENO, TCSAFLUSH, &old);
		fputc('\n', stderr);
	}
	if (got == NULL)
		return -EIO;
	buf[strcspn(buf, "\r\n")] = '\0';
	return 0;
}

int cli_cmd_cards_add(cli_ctx_t *ctx, int argc, char **argv)
{
	static const dom_flag_t flags[] = {
		DOM_OPT("customer", 'c', DOM_ID, "customer_id"),
		DOM_OPT("holder", 'h', DOM_TEXT, "holder"),
		DOM_OPT("expiry", 'e', DOM_TEXT, "expiry"),
		{NULL},
	};
	dom_opts_t o;
	char number[SECRET_MAX] = "", code[SECRET_MAX] = "";
	Ospay__V1__CardsAddRequest req = OSPAY__V1__CARDS_ADD_REQUEST__INIT;
	int rc = dom_parse_fill(ctx, argc, argv, flags, &o, &req.base);
	if (rc == CLI_EXIT_OK && (o.v['c'] == NULL || o.v['h'] == NULL || o.v['e'] == NULL))
		rc = cli_usage_error(ctx, "--customer, --holder and --expiry are required");
	if (rc != CLI_EXIT_OK)
		goto out;
	if (read_secret("Card number: ", number, sizeof(number)) != 0 ||
	    read_secret("Security code: ", code, sizeof(code)) != 0) {
		rc = cli_usage_error(ctx, "the card number and the security code are read from "
					  "standard input, one per line");
		goto out;
	}
	req.number = number;
	req.security_code = code;
	rc = dom_call_print(ctx, "ospay.v1.Cards/Add", &req.base,
			    &ospay__v1__cards_add_response__descriptor, CLI_CALL_MUTATING, "card",
			    dom_print_record);
out:
	crypto_wipe(number, sizeof(number));
	crypto_wipe(code, sizeof(code));
	return rc;
}

/*
 * "•••• 1111": the last four digits, all the CLI ever shows of a number. These
 * cells keep the widths they always had, however long what the server sends.
 */
static void masked_cell(const ProtobufCMessage *m, char *out, size_t n)
{
	char masked[32];
	snprintf(masked, sizeof(masked), "•••• %s", ((const Ospay__V1__Card *)m)->last4);
	snprintf(out, n, "%s", masked);
}

static void expiry_cell(const ProtobufCMessage *m, char *out, size_t n)
{
	const Ospay__V1__Card *c = (const Ospay__V1__Card *)m;
	char exp[16];
	snprintf(exp, sizeof(exp), "%02u/%04u", c->exp_month, c->exp_year);
	snprintf(out, n, "%s", exp);
}

static const dom_col_t card_cols[] = {
	DOM_COL_RIGHT("ID", "id", DOM_C_NUM),
	DOM_COL_ENUM("BRAND", "brand", BRAND_PREFIX),
	DOM_COL_CELL("CARD", masked_cell),
	DOM_COL("HOLDER", "holder", DOM_C_TEXT),
	DOM_COL("SENT AS", "holder_sent", DOM_C_TEXT),
	DOM_COL_CELL("EXPIRY", expiry_cell),
	{"DEFAULT", "is_default", DOM_C_YES, .zero = ""},
	DOM_COL_ENUM("GATEWAY", "gateway", "GATEWAY_KIND_"),
	DOM_COL("ADDED", "created_ms", DOM_C_TIME),
	/* The stored-credential chain: empty until the first approved charge. */
	DOM_COL("NETWORK ID", "network_txn_id", DOM_C_TEXT),
	{NULL},
};

int cli_cmd_cards_list(cli_ctx_t *ctx, int argc, char **argv)
{
	static const dom_flag_t flags[] = {DOM_OPT("customer", 'c', DOM_ID, "customer_id"), {NULL}};
	dom_opts_t o;
	Ospay__V1__CardsListRequest req = OSPAY__V1__CARDS_LIST_REQUEST__INIT;
	int rc = dom_parse_fill(ctx, argc, argv, flags, &o, &req.base);
	if (rc == CLI_EXIT_OK && o.v['c'] == NULL)
		rc = cli_usage_error(ctx, "--customer is required");
	if (rc == CLI_EXIT_OK)
		rc = dom_list_table(ctx, "ospay.v1.Cards/List", &req.base,
				    &ospay__v1__cards_list_response__descriptor, "cards", card_cols,
				    0);
	return rc;
}

int cli_cmd_cards_remove(cli_ctx_t *ctx, int argc, char **argv)
{
	dom_opts_t o;
	Ospay__V1__CardsRemoveResponse *resp = NULL;
	Ospay__V1__CardsRemoveRequest req = OSPAY__V1__CARDS_REMOVE_REQUEST__INIT;
	int rc = dom_parse_id(ctx, argc, argv, NULL, &o, "ID", &req.card_id);
	if (rc == CLI_EXIT_OK)
		rc = cli_call(ctx, "ospay.v1.Cards/Remove", &req.base,
			      &ospay__v1__cards_remove_response__descriptor, CLI_CALL_MUTATING,
			      (ProtobufCMessage **)&resp);
	if (rc != CLI_EXIT_OK)
		goto out;
	if (ctx->json)
		rc = cli_output_message(&resp->base);
	else if (resp->new_default != NULL)
		printf("card %" PRIu64 " removed; card %" PRIu64 " is now the default\n",
		       req.card_id, resp->new_default->id);
	else
		printf("card %" PRIu64 " removed\n", req.card_id);
out:
	ospay__v1__cards_remove_response__free_unpacked(resp, NULL);
	return rc;
}

const dom_cmd_t cli_dom_cards_set_default = {
	.method = "ospay.v1.Cards/SetDefault",
	.call = CLI_CALL_MUTATING,
	.arg = "ID",
	.arg_field = "card_id",
	.record = "card",
};

/* ------------------------------------------------------------------ payment methods */

int cli_cmd_payment_methods_create(cli_ctx_t *ctx, int argc, char **argv)
{
	static const char type_msg[] = "--type is cash, pix, boleto, card or recurring-credit";
	static const dom_flag_t flags[] = {
		DOM_OPT_ENUM("type", 't', "type", TYPE_PREFIX, type_msg),
		DOM_OPT_ENUM("mode", 'm', "operation_mode", MODE_PREFIX,
			     "--mode is integrated or manual"),
		DOM_OPT("name", 'n', DOM_TEXT, "name"),
		{NULL},
	};
	dom_opts_t o;
	Ospay__V1__CreatePaymentMethodRequest req = OSPAY__V1__CREATE_PAYMENT_METHOD_REQUEST__INIT;
	int rc = dom_parse(ctx, argc, argv, flags, 0, &o, NULL);
	if (rc == CLI_EXIT_OK && o.v['t'] == NULL)
		rc = cli_usage_error(ctx, "%s", type_msg);
	if (rc == CLI_EXIT_OK)
		rc = dom_fill(ctx, &o, &req.base);
	if (rc != CLI_EXIT_OK)
		return rc;
	return dom_call_print(ctx, "ospay.v1.Admin/CreatePaymentMethod", &req.base,
			      &ospay__v1__create_payment_method_response__descriptor,
			      CLI_CALL_MUTATING, "payment_method", dom_print_record);
}

static const dom_col_t method_cols[] = {
	DOM_COL_RIGHT("ID", "id", DOM_C_NUM),
	DOM_COL("NAME", "name", DOM_C_TEXT),
	DOM_COL_ENUM("TYPE", "type", TYPE_PREFIX),
	{"MODE", "operation_mode", DOM_C_ENUM, .zero = "", .affix = MODE_PREFIX},
	{NULL},
};

const dom_cmd_t cli_dom_payment_methods_list = {
	.method = "ospay.v1.Admin/ListPaymentMethods",
	.items = "payment_methods",
	.cols = method_cols,
};

/* ------------------------------------------------------------------ invoices */

static const dom_flag_t invoices_create_flags[] = {
	DOM_OPT("customer", 'c', DOM_ID, "customer_id"),
	DOM_OPT("service", 's', DOM_ID, "service_id"),
	DOM_OPT_MONEY("amount", 'a', "amount", "--amount is money: 99.90 or 99,90"),
	DOM_OPT("due", 'd', DOM_TEXT, "due_date"),
	{NULL},
};

const dom_cmd_t cli_dom_invoices_create = {
	.method = "ospay.v1.Billing/CreateInvoice",
	.call = CLI_CALL_MUTATING,
	.flags = invoices_create_flags,
	.record = "invoice",
};

const dom_cmd_t cli_dom_invoices_get = {
	.method = "ospay.v1.Billing/GetInvoice",
	.arg = "ID",
	.arg_field = "invoice_id",
	.record = "invoice",
};

/*
 * CancelInvoice's answer is read as GetInvoice's (the same invoice, plus
 * an empty notifications list), so its --json output stays as it was.
 */
const dom_cmd_t cli_dom_invoices_cancel = {
	.method = "ospay.v1.Billing/CancelInvoice",
	.req = &ospay__v1__billing_get_invoice_request__descriptor,
	.resp = &ospay__v1__billing_get_invoice_response__descriptor,
	.call = CLI_CALL_MUTATING,
	.arg = "ID",
	.arg_field = "invoice_id",
	.record = "invoice",
};

static const dom_flag_t invoices_charge_flags[] = {DOM_OPT("card", 'k', DOM_ID, "card_id"), {NULL}};

/* The attempt is what the operator looks at: approved, or the decline's code. */
const dom_cmd_t cli_dom_invoices_charge = {
	.method = "ospay.v1.Billing/ChargeInvoice",
	.call = CLI_CALL_MUTATING,
	.arg = "ID",
	.arg_field = "invoice_id",
	.flags = invoices_charge_flags,
	.record = "charge",
};

static const dom_col_t invoice_cols[] = {
	DOM_COL_RIGHT("ID", "id", DOM_C_NUM),
	DOM_COL("DUE", "due_date", DOM_C_TEXT),
	DOM_COL("CUSTOMER", "customer_id", DOM_C_NUM),
	DOM_COL("SERVICE", "service_id", DOM_C_NUM),
	DOM_COL_RIGHT("AMOUNT", "amount", DOM_C_MONEY),
	DOM_COL_ENUM("STATUS", "status", INV_PREFIX),
	{NULL},
};

static const dom_flag_t invoices_list_flags[] = {
	DOM_OPT("customer", 'c', DOM_ID, "customer_id"),
	DOM_OPT("unit", 'U', DOM_ID, "unit_id"),
	DOM_OPT("limit", 'l', DOM_LIMIT, NULL),
	DOM_OPT_ENUM("status", 's', "status", INV_PREFIX, "--status is open, paid or canceled"),
	DOM_OPT("from", 'f', DOM_TEXT, "due_from"),
	DOM_OPT("to", 't', DOM_TEXT, "due_to"),
	{NULL},
};

const dom_cmd_t cli_dom_invoices_list = {
	.method = "ospay.v1.Billing/ListInvoices",
	.flags = invoices_list_flags,
	.items = "invoices",
	.cols = invoice_cols,
};

/* ------------------------------------------------------------------ charges, billing run */

#define CHG_PREFIX "CHARGE_STATUS_"

/* "visa ****1111", Pix Automático's "pix <txid>", or nothing when no card was used. */
static void charge_card_cell(const ProtobufCMessage *m, char *out, size_t n)
{
	const Ospay__V1__Charge *c = (const Ospay__V1__Charge *)m;
	char brand[24], card[48] = "";
	if (c->rail == OSPAY__V1__PAYMENT_RAIL__PAYMENT_RAIL_PIX_AUTOMATICO) {
		snprintf(card, sizeof(card), "pix %s", c->pix_txid);
	} else if (c->card_last4[0] != '\0') {
		dom_enum_text(&ospay__v1__card_brand__descriptor, BRAND_PREFIX, c->card_brand,
			      brand, sizeof(brand));
		snprintf(card, sizeof(card), "%s ****%s", brand, c->card_last4);
	}
	snprintf(out, n, "%s", card);
}

/* Charges stored before the rail existed are the card's. */
static void charge_rail_cell(const ProtobufCMessage *m, char *out, size_t n)
{
	const Ospay__V1__Charge *c = (const Ospay__V1__Charge *)m;
	snprintf(out, n, "%s",
		 c->rail == OSPAY__V1__PAYMENT_RAIL__PAYMENT_RAIL_PIX_AUTOMATICO ? "pix-automatico"
										 : "card");
}

/* An operator's resolution or a void says more than the gateway's words. */
static void charge_message_cell(const ProtobufCMessage *m, char *out, size_t n)
{
	const Ospay__V1__Charge *c = (const Ospay__V1__Charge *)m;
	if (c->note[0] != '\0' && c->return_message[0] != '\0')
		snprintf(out, n, "%s (%s)", c->return_message, c->note);
	else
		snprintf(out, n, "%s", c->note[0] != '\0' ? c->note : c->return_message);
}

static const dom_col_t charge_cols[] = {
	DOM_COL_RIGHT("ID", "id", DOM_C_NUM),
	DOM_COL("DATE", "local_date", DOM_C_TEXT),
	DOM_COL("CUSTOMER", "customer_id", DOM_C_NUM),
	DOM_COL("INVOICE", "invoice_id", DOM_C_NUM),
	DOM_COL("ATTEMPT", "attempt", DOM_C_NUM),
	DOM_COL_CELL("RAIL", charge_rail_cell),
	DOM_COL_CELL("CARD", charge_card_cell),
	DOM_COL_RIGHT("AMOUNT", "amount", DOM_C_MONEY),
	DOM_COL("RECURRING", "recurring", DOM_C_YES),
	DOM_COL_ENUM("STATUS", "status", CHG_PREFIX),
	DOM_COL("CODE", "return_code", DOM_C_TEXT),
	DOM_COL_CELL("MESSAGE", charge_message_cell),
	/* Pix Automático: the day the payer's bank settles it, the PSP's word. */
	DOM_COL("SETTLES", "pix_settlement_date", DOM_C_TEXT),
	DOM_COL("PSP", "psp_status", DOM_C_TEXT),
	{NULL},
};

int cli_cmd_charges_list(cli_ctx_t *ctx, int argc, char **argv)
{
	static const dom_flag_t flags[] = {
		DOM_OPT("recurring", 'r', DOM_SWITCH, NULL),
		DOM_OPT("non-recurring", 'n', DOM_SWITCH, NULL),
		DOM_OPT("customer", 'c', DOM_ID, "customer_id"),
		DOM_OPT("unit", 'U', DOM_ID, "unit_id"),
		DOM_OPT("limit", 'l', DOM_LIMIT, NULL),
		DOM_OPT_ENUM(
			"status", 's', "status", CHG_PREFIX,
			"--status is pending, approved, declined, error, unknown, no-valid-card, "
			"operator-review, voiding, voided or canceled"),
		DOM_OPT_ENUM("rail", 'R', "rail", "PAYMENT_RAIL_",
			     "--rail is card or pix-automatico"),
		{NULL},
	};
	dom_opts_t o;
	Ospay__V1__BillingListChargesRequest req = OSPAY__V1__BILLING_LIST_CHARGES_REQUEST__INIT;
	int rc = dom_parse(ctx, argc, argv, flags, 0, &o, NULL);
	if (rc == CLI_EXIT_OK && o.seen['r'] && o.seen['n'])
		rc = cli_usage_error(ctx, "--recurring and --non-recurring exclude each other");
	if (rc == CLI_EXIT_OK)
		rc = dom_fill(ctx, &o, &req.base);
	if (rc != CLI_EXIT_OK)
		return rc;
	if (o.seen['r'])
		req.recurrence =
			OSPAY__V1__CHARGE_RECURRENCE_FILTER__CHARGE_RECURRENCE_FILTER_RECURRING;
	if (o.seen['n'])
		req.recurrence =
			OSPAY__V1__CHARGE_RECURRENCE_FILTER__CHARGE_RECURRENCE_FILTER_NON_RECURRING;
	return dom_list_table(ctx, "ospay.v1.Billing/ListCharges", &req.base,
			      &ospay__v1__billing_list_charges_response__descriptor, "charges",
			      charge_cols, o.limit);
}

/* No idempotency key: a repeated run is harmless, the schedule decides per invoice. */
const dom_cmd_t cli_dom_billing_run = {
	.method = "ospay.v1.Billing/RunNow",
};

int cli_cmd_suspension_set(cli_ctx_t *ctx, int argc, char **argv)
{
	static const dom_flag_t flags[] = {DOM_OPT("days", 'd', DOM_U32, "days"), {NULL}};
	dom_opts_t o;
	Ospay__V1__SetSuspensionProfileRequest req =
		OSPAY__V1__SET_SUSPENSION_PROFILE_REQUEST__INIT;
	int rc = dom_parse(ctx, argc, argv, flags, 0, &o, NULL);
	if (rc == CLI_EXIT_OK && o.v['d'] == NULL)
		rc = cli_usage_error(ctx, "--days is required (0: never block)");
	if (rc == CLI_EXIT_OK)
		rc = dom_fill(ctx, &o, &req.base);
	if (rc != CLI_EXIT_OK)
		return rc;
	return dom_call_print(ctx, "ospay.v1.Admin/SetSuspensionProfile", &req.base,
			      &ospay__v1__set_suspension_profile_response__descriptor,
			      CLI_CALL_MUTATING, "profile", dom_print_record);
}

int cli_cmd_charges_resolve(cli_ctx_t *ctx, int argc, char **argv)
{
	static const dom_flag_t flags[] = {
		DOM_OPT("approved", 'a', DOM_SWITCH, NULL),
		DOM_OPT("declined", 'd', DOM_SWITCH, NULL),
		DOM_OPT("not-charged", 'n', DOM_SWITCH, NULL),
		DOM_OPT("reason", 'r', DOM_TEXT, "reason"),
		DOM_OPT("payment-id", 'p', DOM_TEXT, "payment_id"),
		{NULL},
	};
	dom_opts_t o;
	Ospay__V1__BillingResolveChargeRequest req =
		OSPAY__V1__BILLING_RESOLVE_CHARGE_REQUEST__INIT;
	int rc = dom_parse_id(ctx, argc, argv, flags, &o, "ID", &req.charge_id);
	if (rc == CLI_EXIT_OK && (int)o.seen['a'] + (int)o.seen['d'] + (int)o.seen['n'] != 1)
		rc = cli_usage_error(ctx, "give one of --approved, --declined or --not-charged: "
					  "what the gateway's portal shows");
	if (rc == CLI_EXIT_OK && o.v['r'] == NULL)
		rc = cli_usage_error(ctx, "--reason is required (what the portal showed)");
	if (rc == CLI_EXIT_OK)
		rc = dom_fill(ctx, &o, &req.base);
	if (rc != CLI_EXIT_OK)
		return rc;
	req.resolution = o.seen['a'] ? OSPAY__V1__CHARGE_RESOLUTION__CHARGE_RESOLUTION_APPROVED
			 : o.seen['d']
				 ? OSPAY__V1__CHARGE_RESOLUTION__CHARGE_RESOLUTION_DECLINED
				 : OSPAY__V1__CHARGE_RESOLUTION__CHARGE_RESOLUTION_NOT_CHARGED;
	return dom_call_print(ctx, "ospay.v1.Billing/ResolveCharge", &req.base,
			      &ospay__v1__billing_resolve_charge_response__descriptor,
			      CLI_CALL_MUTATING, "charge", dom_print_record);
}

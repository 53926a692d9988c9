/* ospay orders ...: the Orders service. Times are the organization's local time. */
#include <stdio.h>
#include <string.h>

#include "client/cli/cli.h"
#include "client/cli/dom.h"
#include "client/cli/table.h"
#include "ospay/v1/notifications.pb-c.h"
#include "ospay/v1/orders.pb-c.h"

#define STATUS_PREFIX "ORDER_STATUS_"
#define PAY_PREFIX "ORDER_PAYMENT_STATUS_"
#define METHOD_PREFIX "PAYMENT_METHOD_TYPE_"
#define OUTCOME_PREFIX "CLOSING_OUTCOME_"

/* "pix, 1 installment", once the order has a payment method. */
static void method_cell(const ProtobufCMessage *m, char *out, size_t n)
{
	const Ospay__V1__OrderPayment *p = ((const Ospay__V1__Order *)m)->payment;
	char mt[32];
	if (p == NULL || p->method_type == 0)
		return;
	dom_enum_text(&ospay__v1__payment_method_type__descriptor, METHOD_PREFIX, p->method_type,
		      mt, sizeof(mt));
	snprintf(out, n, "%s, %u installment%s", mt, p->installments,
		 p->installments == 1 ? "" : "s");
}

/* "Fibra 500 (service 2)", when the order names a service. */
static void service_cell(const ProtobufCMessage *m, char *out, size_t n)
{
	const Ospay__V1__Order *o = (const Ospay__V1__Order *)m;
	if (o->service_id != 0)
		snprintf(out, n, "%s (service %llu)", o->service_plan,
			 (unsigned long long)o->service_id);
}

/* "Rua Augusta, 100, apto 3, Consolação, São Paulo/SP, CEP 01305-000" as booked. */
static void address_cell(const ProtobufCMessage *m, char *out, size_t n)
{
	const Ospay__V1__Address *a = ((const Ospay__V1__Order *)m)->installation_address;
	if (a == NULL)
		return;
	size_t k = 0;
	const char *parts[] = {a->street, a->number, a->complement, a->district};
	for (size_t i = 0; i < 4 && k < n; i++) {
		if (parts[i][0] == '\0')
			continue;
		int w = snprintf(out + k, n - k, "%s%s", k ? ", " : "", parts[i]);
		k += w > 0 ? (size_t)w : 0;
	}
	if (k < n)
		snprintf(out + k, n - k, "%s%s/%s, CEP %.5s-%.3s", k ? ", " : "", a->city, a->state,
			 a->cep, strlen(a->cep) == 8 ? a->cep + 5 : "");
}

static const dom_col_t order_fields[] = {
	DOM_COL("id", "id", DOM_C_NUM),
	DOM_COL("unit", "unit_id", DOM_C_NUM),
	DOM_COL("customer", "customer_id", DOM_C_NUM),
	DOM_COL_CELL("service", service_cell),
	DOM_COL_CELL("address", address_cell),
	DOM_COL("kind", "kind", DOM_C_TEXT),
	DOM_COL("description", "description", DOM_C_TEXT),
	{"agenda", "agenda_id", DOM_C_NUM, .zero = "none"},
	{"technician", "technician_id", DOM_C_NUM, .zero = "none"},
	{"start", "scheduled_start_ms", DOM_C_LOCAL, .zero = "not scheduled"},
	{"duration", "duration_minutes", DOM_C_NUM, .affix = " min"},
	DOM_COL("amount", "amount", DOM_C_MONEY),
	DOM_COL_ENUM("status", "status", STATUS_PREFIX),
	DOM_COL_ENUM("payment", "payment_status", PAY_PREFIX),
	DOM_COL_CELL("payment method", method_cell),
	DOM_COL("payment link", "payment.link_url", DOM_C_TEXT),
	DOM_COL("payment error", "payment.error_message", DOM_C_TEXT),
	DOM_COL("created", "created_ms", DOM_C_LOCAL),
	DOM_COL("updated", "updated_ms", DOM_C_LOCAL),
	{NULL},
};

/* How the work ended: printed under the order once Finalize recorded it. */
static const dom_col_t closing_fields[] = {
	{"closed as", "outcome", DOM_C_ENUM, .affix = OUTCOME_PREFIX},
	DOM_COL("closing reason", "reason", DOM_C_TEXT),
	{"executed from", "executed_start_ms", DOM_C_LOCAL, .zero = "not given"},
	{"executed to", "executed_end_ms", DOM_C_LOCAL, .zero = "not given"},
	DOM_COL("recorded", "recorded_ms", DOM_C_LOCAL),
	{NULL},
};

/* "field-app (token 3)". */
static void note_who_cell(const ProtobufCMessage *m, char *out, size_t n)
{
	const Ospay__V1__OrderNote *x = (const Ospay__V1__OrderNote *)m;
	snprintf(out, n, "%s (token %llu)", x->by_name, (unsigned long long)x->by_token_id);
}

static const dom_col_t note_cols[] = {
	DOM_COL("WHEN", "at_ms", DOM_C_LOCAL),
	DOM_COL_CELL("WHO", note_who_cell),
	DOM_COL("NOTE", "text", DOM_C_TEXT),
	{NULL},
};

static const dom_col_t installment_cols[] = {
	DOM_COL("N", "number", DOM_C_NUM),
	DOM_COL("DUE", "due_date", DOM_C_TEXT),
	DOM_COL("AMOUNT", "amount", DOM_C_MONEY),
	DOM_COL_ENUM("STATUS", "status", "INSTALLMENT_STATUS_"),
	DOM_COL("REASON", "reason", DOM_C_TEXT),
	{NULL},
};

static const dom_col_t history_cols[] = {
	DOM_COL("WHEN", "at_ms", DOM_C_LOCAL),
	{"FROM", "from", DOM_C_ENUM, .zero = "-", .affix = STATUS_PREFIX},
	DOM_COL_ENUM("TO", "to", STATUS_PREFIX),
	DOM_COL("BY TOKEN", "by_token_id", DOM_C_NUM),
	DOM_COL("NOTE", "note", DOM_C_TEXT),
	{NULL},
};

static const dom_col_t notification_cols[] = {
	DOM_COL("ID", "id", DOM_C_NUM),
	DOM_COL_ENUM("KIND", "kind", "NOTIFICATION_KIND_"),
	DOM_COL_ENUM("STATUS", "status", "NOTIFICATION_STATUS_"),
	DOM_COL("TRIES", "attempts", DOM_C_NUM),
	DOM_COL("UPDATED", "updated_ms", DOM_C_LOCAL),
	DOM_COL("ERROR", "last_error", DOM_C_TEXT),
	{NULL},
};

/* An order for people: its fields in local time, its installments and its history. */
static int print_order(cli_ctx_t *ctx, const ProtobufCMessage *m)
{
	int offset = 0;
	int rc = dom_offset(ctx, &offset);
	cli_table_t *t = rc == CLI_EXIT_OK ? cli_table_new(2, NULL) : NULL;
	if (rc == CLI_EXIT_OK)
		rc = t != NULL ? dom_kv_add(t, order_fields, m, offset) : CLI_EXIT_ERROR;
	const Ospay__V1__Order *ord = (const Ospay__V1__Order *)m;
	if (rc == CLI_EXIT_OK && ord->closing != NULL) {
		const char *row[] = {"", ""};
		rc = cli_table_add(t, row) < 0
			     ? CLI_EXIT_ERROR
			     : dom_kv_add(t, closing_fields, &ord->closing->base, offset);
	}
	if (rc == CLI_EXIT_OK && cli_table_print(t, stdout) < 0)
		rc = CLI_EXIT_ERROR;
	if (rc == CLI_EXIT_OK)
		rc = dom_print_items("installments", installment_cols, m, "payment.schedule",
				     offset);
	if (rc == CLI_EXIT_OK)
		rc = dom_print_items("history", history_cols, m, "history", offset);
	if (rc == CLI_EXIT_OK)
		rc = dom_print_items("notes", note_cols, m, "notes", offset);
	cli_table_free(t);
	return rc;
}

/* Orders/Get: the order, then the messages sent to the customer about it. */
static int print_order_get(cli_ctx_t *ctx, const ProtobufCMessage *m)
{
	const Ospay__V1__OrdersGetResponse *r = (const Ospay__V1__OrdersGetResponse *)m;
	int offset = 0;
	int rc = r->order != NULL ? print_order(ctx, &r->order->base) : CLI_EXIT_OK;
	if (rc == CLI_EXIT_OK)
		rc = dom_offset(ctx, &offset);
	if (rc == CLI_EXIT_OK)
		rc = dom_print_items("notifications", notification_cols, m, "notifications",
				     offset);
	return rc;
}

/*
 * create, update and reschedule; update refuses --customer before it fills
 * the rest, reschedule all but --start and --minutes. The fields name
 * update's mask paths; --start is parsed by order_start (local time).
 */
static const dom_flag_t order_flags[] = {
	DOM_OPT("customer", 'c', DOM_ID, "customer_id"),
	DOM_OPT("kind", 'k', DOM_TEXT, "kind"),
	DOM_OPT("description", 'd', DOM_TEXT, "description"),
	DOM_OPT("agenda", 'a', DOM_ID_NONE, "agenda_id"),
	DOM_OPT("technician", 't', DOM_ID_NONE, "technician_id"),
	DOM_OPT("start", 's', DOM_VALUE, "scheduled_start_ms"),
	DOM_OPT("minutes", 'm', DOM_U32, "duration_minutes"),
	DOM_OPT_MONEY("amount", 'A', "amount", "--amount must be money (150.00 or 150,00)"),
	DOM_OPT("service", 'S', DOM_ID_NONE, "service_id"),
	{NULL},
};

/* --start "YYYY-MM-DD HH:MM" in the organization's time, or "none". */
static int order_start(cli_ctx_t *ctx, const dom_opts_t *o, int64_t *start)
{
	int rc = CLI_EXIT_OK;
	if (o->v['s'] != NULL) {
		int offset = 0;
		if (strcmp(o->v['s'], "none") == 0) {
			*start = 0;
			return CLI_EXIT_OK;
		}
		rc = dom_offset(ctx, &offset);
		if (rc == CLI_EXIT_OK && dom_datetime_parse(o->v['s'], offset, start) != 0)
			rc = cli_usage_error(ctx, "--start is \"YYYY-MM-DD HH:MM\" (local time)");
	}
	return rc;
}

/* Calls an Orders method that changes an order, and prints the order it answers. */
static int order_call(cli_ctx_t *ctx, const char *method, const ProtobufCMessage *req,
		      const ProtobufCMessageDescriptor *resp_desc)
{
	return dom_call_print(ctx, method, req, resp_desc, CLI_CALL_MUTATING, "order", print_order);
}

/* --start into *start, then order_call: create and reschedule. */
static int order_start_call(cli_ctx_t *ctx, const dom_opts_t *o, int64_t *start, const char *method,
			    const ProtobufCMessage *req,
			    const ProtobufCMessageDescriptor *resp_desc)
{
	int rc = order_start(ctx, o, start);
	return rc == CLI_EXIT_OK ? order_call(ctx, method, req, resp_desc) : rc;
}

int cli_cmd_orders_create(cli_ctx_t *ctx, int argc, char **argv)
{
	dom_opts_t o;
	Ospay__V1__OrdersCreateRequest req = OSPAY__V1__ORDERS_CREATE_REQUEST__INIT;
	int rc = dom_parse_fill(ctx, argc, argv, order_flags, &o, &req.base);
	if (rc == CLI_EXIT_OK)
		rc = order_start_call(ctx, &o, &req.scheduled_start_ms, "ospay.v1.Orders/Create",
				      &req.base, &ospay__v1__orders_create_response__descriptor);
	return rc;
}

const dom_cmd_t cli_dom_orders_get = {
	.method = "ospay.v1.Orders/Get",
	.arg = "ID",
	.arg_field = "id",
	.print = print_order_get,
};

int cli_cmd_orders_update(cli_ctx_t *ctx, int argc, char **argv)
{
	dom_opts_t o;
	char *mask[8];
	size_t nm = 0;
	Ospay__V1__OrdersUpdateRequest req = OSPAY__V1__ORDERS_UPDATE_REQUEST__INIT;
	int rc = dom_parse_id(ctx, argc, argv, order_flags, &o, "ID", &req.id);
	if (rc == CLI_EXIT_OK && o.v['c'] != NULL)
		rc = cli_usage_error(ctx, "an order's customer does not change");
	if (rc == CLI_EXIT_OK)
		rc = dom_fill(ctx, &o, &req.base);
	if (rc == CLI_EXIT_OK)
		rc = order_start(ctx, &o, &req.scheduled_start_ms);
	if (rc != CLI_EXIT_OK)
		goto out;
	nm = dom_mask(&o, mask, 8);
	if (nm == 0) {
		rc = cli_usage_error(ctx, "nothing to change: give at least one option");
		goto out;
	}
	req.update_mask = mask;
	req.n_update_mask = nm;
	rc = order_call(ctx, "ospay.v1.Orders/Update", &req.base,
			&ospay__v1__orders_update_response__descriptor);
out:
	return rc;
}

int cli_cmd_orders_reschedule(cli_ctx_t *ctx, int argc, char **argv)
{
	dom_opts_t o;
	Ospay__V1__OrdersRescheduleRequest req = OSPAY__V1__ORDERS_RESCHEDULE_REQUEST__INIT;
	int rc = dom_parse_id(ctx, argc, argv, order_flags, &o, "ID", &req.id);
	if (rc == CLI_EXIT_OK && (o.v['s'] == NULL || strcmp(o.v['s'], "none") == 0))
		rc = cli_usage_error(ctx, "--start \"YYYY-MM-DD HH:MM\" is required");
	for (const char *p = "ckdAS"; rc == CLI_EXIT_OK && *p != '\0'; p++)
		if (o.v[(int)*p] != NULL)
			rc = cli_usage_error(
				ctx,
				"reschedule takes --start, --minutes, --technician and --agenda");
	for (const char *p = "ta"; rc == CLI_EXIT_OK && *p != '\0'; p++)
		if (o.v[(int)*p] != NULL && strcmp(o.v[(int)*p], "none") == 0)
			rc = cli_usage_error(ctx, "%s none: use orders update to remove it",
					     dom_opt_name(&o, *p));
	if (rc == CLI_EXIT_OK)
		rc = dom_fill(ctx, &o, &req.base);
	if (rc == CLI_EXIT_OK)
		rc = order_start_call(ctx, &o, &req.scheduled_start_ms,
				      "ospay.v1.Orders/Reschedule", &req.base,
				      &ospay__v1__orders_reschedule_response__descriptor);
	return rc;
}

int cli_cmd_orders_finalize(cli_ctx_t *ctx, int argc, char **argv)
{
	static const dom_flag_t flags[] = {
		DOM_OPT("payment-method", 'p', DOM_ID, "payment_method_id"),
		DOM_OPT("installments", 'i', DOM_U32, "installments"),
		DOM_OPT_ENUM("method", 'm', "method_type", METHOD_PREFIX,
			     "--method is cash, pix, boleto, card or recurring-credit"),
		DOM_OPT("note", 'n', DOM_TEXT, "note"),
		DOM_OPT_ENUM("outcome", 'o', "outcome", OUTCOME_PREFIX,
			     "--outcome is concluded or not-concluded"),
		DOM_OPT("closing-reason", 'r', DOM_ID, "closing_reason_id"),
		DOM_OPT("executed-from", 'f', DOM_VALUE, NULL),
		DOM_OPT("executed-to", 't', DOM_VALUE, NULL),
		{NULL},
	};
	dom_opts_t o;
	int offset = 0;
	Ospay__V1__OrdersFinalizeRequest req = OSPAY__V1__ORDERS_FINALIZE_REQUEST__INIT;
	int rc = dom_parse_id(ctx, argc, argv, flags, &o, "ID", &req.id);
	if (rc == CLI_EXIT_OK)
		rc = dom_fill(ctx, &o, &req.base);
	if (rc == CLI_EXIT_OK && o.v['m'] == NULL && o.v['p'] == NULL &&
	    req.outcome != OSPAY__V1__CLOSING_OUTCOME__CLOSING_OUTCOME_NOT_CONCLUDED)
		rc = cli_usage_error(ctx, "give --method or --payment-method");
	if (rc == CLI_EXIT_OK && (o.v['f'] != NULL || o.v['t'] != NULL))
		rc = dom_offset(ctx, &offset);
	if (rc == CLI_EXIT_OK && o.v['f'] != NULL &&
	    dom_datetime_parse(o.v['f'], offset, &req.executed_start_ms) != 0)
		rc = cli_usage_error(ctx, "--executed-from is \"YYYY-MM-DD HH:MM\" (local time)");
	if (rc == CLI_EXIT_OK && o.v['t'] != NULL &&
	    dom_datetime_parse(o.v['t'], offset, &req.executed_end_ms) != 0)
		rc = cli_usage_error(ctx, "--executed-to is \"YYYY-MM-DD HH:MM\" (local time)");
	if (rc == CLI_EXIT_OK)
		rc = order_call(ctx, "ospay.v1.Orders/Finalize", &req.base,
				&ospay__v1__orders_finalize_response__descriptor);
	return rc;
}

/*
 * A command on one order (ID, the request's id) that changes it and prints
 * the order it answers.
 */
#define ORDER_CMD(method_, flags_)                                                                 \
	{                                                                                          \
		.method = (method_), .call = CLI_CALL_MUTATING, .arg = "ID", .arg_field = "id",    \
		.flags = (flags_), .record = "order", .print = print_order                         \
	}

/* cancel and cancel-payment. */
static const dom_flag_t reason_flags[] = {DOM_OPT("reason", 'r', DOM_TEXT, "reason"), {NULL}};

const dom_cmd_t cli_dom_orders_cancel = ORDER_CMD("ospay.v1.Orders/Cancel", reason_flags);

const dom_cmd_t cli_dom_orders_refresh_payment = ORDER_CMD("ospay.v1.Orders/RefreshPayment", NULL);

const dom_cmd_t cli_dom_orders_cancel_payment =
	ORDER_CMD("ospay.v1.Orders/CancelPaymentAttempt", reason_flags);

static const dom_col_t order_cols[] = {
	DOM_COL_RIGHT("ID", "id", DOM_C_NUM),
	DOM_COL("START", "scheduled_start_ms", DOM_C_LOCAL),
	{"MIN", "duration_minutes", DOM_C_NUM, .zero = ""},
	DOM_COL("CUSTOMER", "customer_id", DOM_C_NUM),
	{"AGENDA", "agenda_id", DOM_C_NUM, .zero = ""},
	{"TECH", "technician_id", DOM_C_NUM, .zero = ""},
	DOM_COL_ENUM("STATUS", "status", STATUS_PREFIX),
	DOM_COL_ENUM("PAYMENT", "payment_status", PAY_PREFIX),
	DOM_COL_RIGHT("AMOUNT", "amount", DOM_C_MONEY),
	DOM_COL("KIND", "kind", DOM_C_TEXT),
	{NULL},
};

int cli_cmd_orders_list(cli_ctx_t *ctx, int argc, char **argv)
{
	static const dom_flag_t flags[] = {
		DOM_OPT("agenda", 'a', DOM_ID, "agenda_id"),
		DOM_OPT("technician", 't', DOM_ID, "technician_id"),
		DOM_OPT("customer", 'c', DOM_ID, "customer_id"),
		DOM_OPT("unit", 'U', DOM_ID, "unit_id"),
		DOM_OPT("limit", 'l', DOM_LIMIT, NULL),
		DOM_OPT_ENUM("status", 's', "status", STATUS_PREFIX,
			     "--status is open, closed, canceled or awaiting-scheduling"),
		DOM_OPT_ENUM("payment", 'p', "payment_status", PAY_PREFIX,
			     "--payment is none, pending, error or paid"),
		DOM_OPT("from", 'f', DOM_VALUE, NULL),
		DOM_OPT("to", 'T', DOM_VALUE, NULL),
		DOM_OPT("created-from", 'F', DOM_VALUE, NULL),
		DOM_OPT("created-to", 'G', DOM_VALUE, NULL),
		{NULL},
	};
	/* Date options: local days, both ends included. */
	static const struct {
		int code;
		bool end;
	} dates[] = {{'f', false}, {'T', true}, {'F', false}, {'G', true}};
	dom_opts_t o;
	int offset = 0;
	Ospay__V1__OrdersListRequest req = OSPAY__V1__ORDERS_LIST_REQUEST__INIT;
	int64_t *ranges[] = {&req.scheduled_from_ms, &req.scheduled_to_ms, &req.created_from_ms,
			     &req.created_to_ms};
	int rc = dom_parse_fill(ctx, argc, argv, flags, &o, &req.base);
	if (rc == CLI_EXIT_OK)
		rc = dom_offset(ctx, &offset);
	for (size_t i = 0; i < 4 && rc == CLI_EXIT_OK; i++) {
		int64_t day;
		const char *v = o.v[dates[i].code];
		if (v == NULL)
			continue;
		if (dom_date_parse(v, &day) != 0)
			rc = cli_usage_error(ctx, "%s is a date YYYY-MM-DD, not \"%s\"",
					     dom_opt_name(&o, dates[i].code), v);
		else
			*ranges[i] = dom_day_start(day + (dates[i].end ? 1 : 0), offset);
	}
	if (rc != CLI_EXIT_OK)
		return rc;
	return dom_list_table(ctx, "ospay.v1.Orders/List", &req.base,
			      &ospay__v1__orders_list_response__descriptor, "orders", order_cols,
			      o.limit);
}

static const dom_flag_t orders_note_flags[] = {DOM_OPT("text", 'x', DOM_TEXT, "text"), {NULL}};

const dom_cmd_t cli_dom_orders_note = ORDER_CMD("ospay.v1.Orders/AddNote", orders_note_flags);

static const dom_col_t reason_cols[] = {
	DOM_COL_RIGHT("ID", "id", DOM_C_NUM),
	DOM_COL("NAME", "name", DOM_C_TEXT),
	{"FOR", "outcome", DOM_C_ENUM, .affix = OUTCOME_PREFIX, .zero = "either outcome"},
	{NULL},
};

static int print_reason(cli_ctx_t *ctx, const ProtobufCMessage *m)
{
	(void)ctx;
	return dom_print_row(reason_cols, dom_ncols(reason_cols), m);
}

static const dom_flag_t closing_reasons_create_flags[] = {
	DOM_OPT("name", 'n', DOM_TEXT, "name"),
	DOM_OPT_ENUM("outcome", 'o', "outcome", OUTCOME_PREFIX,
		     "--outcome is concluded or not-concluded"),
	{NULL},
};

const dom_cmd_t cli_dom_closing_reasons_create = {
	.method = "ospay.v1.Orders/CreateClosingReason",
	.call = CLI_CALL_MUTATING,
	.flags = closing_reasons_create_flags,
	.record = "reason",
	.print = print_reason,
};

int cli_cmd_closing_reasons_remove(cli_ctx_t *ctx, int argc, char **argv)
{
	return dom_remove(ctx, argc, argv, "ospay.v1.Orders/RemoveClosingReason",
			  &ospay__v1__orders_remove_closing_reason_request__descriptor,
			  &ospay__v1__orders_remove_closing_reason_response__descriptor,
			  "closing reason", ": orders closed with it keep its name");
}

const dom_cmd_t cli_dom_closing_reasons_list = {
	.method = "ospay.v1.Orders/ListClosingReasons",
	.items = "reasons",
	.cols = reason_cols,
};

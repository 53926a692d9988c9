/* ospay orders ...: the Orders service. Times are the organization's local time. */
#include <inttypes.h>
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

/* An order for people: its fields, local times, payment and history. */
static int print_order(cli_ctx_t *ctx, const ProtobufCMessage *m)
{
	const Ospay__V1__Order *o = (const Ospay__V1__Order *)m;
	char id[24], unit[24], cust[24], agenda[24], tech[24], start[32], dur[24], amount[40],
		status[24], pay[24], created[32], updated[32], method[96] = "";
	int offset = 0;
	int rc = dom_offset(ctx, &offset);
	cli_table_t *t = NULL, *h = NULL, *in = NULL;
	if (rc != CLI_EXIT_OK)
		goto out;
	snprintf(id, sizeof(id), "%" PRIu64, o->id);
	snprintf(unit, sizeof(unit), "%" PRIu64, o->unit_id);
	snprintf(cust, sizeof(cust), "%" PRIu64, o->customer_id);
	snprintf(agenda, sizeof(agenda), o->agenda_id ? "%" PRIu64 : "none", o->agenda_id);
	snprintf(tech, sizeof(tech), o->technician_id ? "%" PRIu64 : "none", o->technician_id);
	dom_datetime_text(o->scheduled_start_ms, offset, start, sizeof(start));
	if (start[0] == '\0')
		snprintf(start, sizeof(start), "not scheduled");
	snprintf(dur, sizeof(dur), "%u min", o->duration_minutes);
	dom_money_text(o->amount, amount, sizeof(amount));
	dom_enum_text(&ospay__v1__order_status__descriptor, STATUS_PREFIX, o->status, status,
		      sizeof(status));
	dom_enum_text(&ospay__v1__order_payment_status__descriptor, PAY_PREFIX, o->payment_status,
		      pay, sizeof(pay));
	dom_datetime_text(o->created_ms, offset, created, sizeof(created));
	dom_datetime_text(o->updated_ms, offset, updated, sizeof(updated));
	if (o->payment != NULL && o->payment->method_type != 0) {
		char mt[32];
		dom_enum_text(&ospay__v1__payment_method_type__descriptor, METHOD_PREFIX,
			      o->payment->method_type, mt, sizeof(mt));
		snprintf(method, sizeof(method), "%s, %u installment%s", mt,
			 o->payment->installments, o->payment->installments == 1 ? "" : "s");
	}
	const char *rows[][2] = {
		{"id", id},
		{"unit", unit},
		{"customer", cust},
		{"kind", o->kind},
		{"description", o->description},
		{"agenda", agenda},
		{"technician", tech},
		{"start", start},
		{"duration", dur},
		{"amount", amount},
		{"status", status},
		{"payment", pay},
		{"payment method", method},
		{"payment link", o->payment != NULL ? o->payment->link_url : ""},
		{"payment error", o->payment != NULL ? o->payment->error_message : ""},
		{"created", created},
		{"updated", updated},
	};
	t = cli_table_new(2, NULL);
	h = cli_table_new(5, (const char *const[]){"WHEN", "FROM", "TO", "BY TOKEN", "NOTE"});
	if (t == NULL || h == NULL) {
		rc = CLI_EXIT_ERROR;
		goto out;
	}
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]) && rc == CLI_EXIT_OK; i++)
		if (cli_table_add(t, rows[i]) < 0)
			rc = CLI_EXIT_ERROR;
	for (size_t i = 0; i < o->n_history && rc == CLI_EXIT_OK; i++) {
		const Ospay__V1__OrderStatusChange *c = o->history[i];
		char when[32], from[24], to[24], by[24];
		dom_datetime_text(c->at_ms, offset, when, sizeof(when));
		if (c->from == 0)
			snprintf(from, sizeof(from), "-");
		else
			dom_enum_text(&ospay__v1__order_status__descriptor, STATUS_PREFIX, c->from,
				      from, sizeof(from));
		dom_enum_text(&ospay__v1__order_status__descriptor, STATUS_PREFIX, c->to, to,
			      sizeof(to));
		snprintf(by, sizeof(by), "%" PRIu64, c->by_token_id);
		const char *row[] = {when, from, to, by, c->note};
		if (cli_table_add(h, row) < 0)
			rc = CLI_EXIT_ERROR;
	}
	if (rc == CLI_EXIT_OK && cli_table_print(t, stdout) < 0)
		rc = CLI_EXIT_ERROR;
	size_t n_inst = o->payment != NULL ? o->payment->n_schedule : 0;
	if (rc == CLI_EXIT_OK && n_inst > 0) {
		in = cli_table_new(5,
				   (const char *const[]){"N", "DUE", "AMOUNT", "STATUS", "REASON"});
		if (in == NULL)
			rc = CLI_EXIT_ERROR;
		for (size_t i = 0; i < n_inst && rc == CLI_EXIT_OK; i++) {
			const Ospay__V1__OrderInstallment *x = o->payment->schedule[i];
			char n[16], amt[40], st[24];
			snprintf(n, sizeof(n), "%u", x->number);
			dom_money_text(x->amount, amt, sizeof(amt));
			dom_enum_text(&ospay__v1__installment_status__descriptor,
				      "INSTALLMENT_STATUS_", x->status, st, sizeof(st));
			const char *row[] = {n, x->due_date, amt, st, x->reason};
			if (cli_table_add(in, row) < 0)
				rc = CLI_EXIT_ERROR;
		}
		printf("\ninstallments\n");
		if (rc == CLI_EXIT_OK && cli_table_print(in, stdout) < 0)
			rc = CLI_EXIT_ERROR;
	}
	if (rc == CLI_EXIT_OK && o->n_history > 0) {
		printf("\nhistory\n");
		if (cli_table_print(h, stdout) < 0)
			rc = CLI_EXIT_ERROR;
	}
out:
	cli_table_free(t);
	cli_table_free(h);
	cli_table_free(in);
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
	if (rc != CLI_EXIT_OK || r->n_notifications == 0)
		return rc;
	cli_table_t *t = cli_table_new(
		6, (const char *const[]){"ID", "KIND", "STATUS", "TRIES", "UPDATED", "ERROR"});
	if (t == NULL)
		return CLI_EXIT_ERROR;
	for (size_t i = 0; i < r->n_notifications && rc == CLI_EXIT_OK; i++) {
		const Ospay__V1__Notification *n = r->notifications[i];
		char id[24], kind[40], st[24], tries[16], when[32];
		snprintf(id, sizeof(id), "%" PRIu64, n->id);
		dom_enum_text(&ospay__v1__notification_kind__descriptor, "NOTIFICATION_KIND_",
			      n->kind, kind, sizeof(kind));
		dom_enum_text(&ospay__v1__notification_status__descriptor, "NOTIFICATION_STATUS_",
			      n->status, st, sizeof(st));
		snprintf(tries, sizeof(tries), "%u", n->attempts);
		dom_datetime_text(n->updated_ms, offset, when, sizeof(when));
		const char *row[] = {id, kind, st, tries, when, n->last_error};
		if (cli_table_add(t, row) < 0)
			rc = CLI_EXIT_ERROR;
	}
	printf("\nnotifications\n");
	if (rc == CLI_EXIT_OK && cli_table_print(t, stdout) < 0)
		rc = CLI_EXIT_ERROR;
	cli_table_free(t);
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

int cli_cmd_orders_create(cli_ctx_t *ctx, int argc, char **argv)
{
	dom_opts_t o;
	int first;
	Ospay__V1__OrdersCreateRequest req = OSPAY__V1__ORDERS_CREATE_REQUEST__INIT;
	int rc = dom_parse(ctx, argc, argv, order_flags, 0, &o, &first);
	if (rc == CLI_EXIT_OK)
		rc = dom_fill(ctx, &o, &req.base);
	if (rc == CLI_EXIT_OK)
		rc = order_start(ctx, &o, &req.scheduled_start_ms);
	if (rc != CLI_EXIT_OK)
		goto out;
	rc = dom_call_print(ctx, "ospay.v1.Orders/Create", &req.base,
			    &ospay__v1__orders_create_response__descriptor, CLI_CALL_MUTATING,
			    "order", print_order);
out:
	return rc;
}

int cli_cmd_orders_get(cli_ctx_t *ctx, int argc, char **argv)
{
	dom_opts_t o;
	int first;
	Ospay__V1__OrdersGetRequest req = OSPAY__V1__ORDERS_GET_REQUEST__INIT;
	int rc = dom_parse(ctx, argc, argv, NULL, 1, &o, &first);
	if (rc == CLI_EXIT_OK)
		rc = dom_id(ctx, argv[first], "ID", &req.id);
	ProtobufCMessage *resp = NULL;
	if (rc == CLI_EXIT_OK)
		rc = cli_call(ctx, "ospay.v1.Orders/Get", &req.base,
			      &ospay__v1__orders_get_response__descriptor, 0, &resp);
	if (rc == CLI_EXIT_OK)
		rc = ctx->json ? cli_output_message(resp) : print_order_get(ctx, resp);
	if (resp != NULL)
		protobuf_c_message_free_unpacked(resp, NULL);
	return rc;
}

int cli_cmd_orders_update(cli_ctx_t *ctx, int argc, char **argv)
{
	dom_opts_t o;
	int first;
	char *mask[8];
	size_t nm = 0;
	Ospay__V1__OrdersUpdateRequest req = OSPAY__V1__ORDERS_UPDATE_REQUEST__INIT;
	int rc = dom_parse(ctx, argc, argv, order_flags, 1, &o, &first);
	if (rc == CLI_EXIT_OK)
		rc = dom_id(ctx, argv[first], "ID", &req.id);
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
	rc = dom_call_print(ctx, "ospay.v1.Orders/Update", &req.base,
			    &ospay__v1__orders_update_response__descriptor, CLI_CALL_MUTATING,
			    "order", print_order);
out:
	return rc;
}

int cli_cmd_orders_reschedule(cli_ctx_t *ctx, int argc, char **argv)
{
	dom_opts_t o;
	int first;
	Ospay__V1__OrdersRescheduleRequest req = OSPAY__V1__ORDERS_RESCHEDULE_REQUEST__INIT;
	int rc = dom_parse(ctx, argc, argv, order_flags, 1, &o, &first);
	if (rc == CLI_EXIT_OK)
		rc = dom_id(ctx, argv[first], "ID", &req.id);
	if (rc == CLI_EXIT_OK && (o.v['s'] == NULL || strcmp(o.v['s'], "none") == 0))
		rc = cli_usage_error(ctx, "--start \"YYYY-MM-DD HH:MM\" is required");
	for (const char *p = "ckdatA"; rc == CLI_EXIT_OK && *p != '\0'; p++)
		if (o.v[(int)*p] != NULL)
			rc = cli_usage_error(ctx, "reschedule takes --start and --minutes only");
	if (rc == CLI_EXIT_OK)
		rc = dom_fill(ctx, &o, &req.base);
	if (rc == CLI_EXIT_OK)
		rc = order_start(ctx, &o, &req.scheduled_start_ms);
	if (rc == CLI_EXIT_OK)
		rc = dom_call_print(ctx, "ospay.v1.Orders/Reschedule", &req.base,
				    &ospay__v1__orders_reschedule_response__descriptor,
				    CLI_CALL_MUTATING, "order", print_order);
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
		{NULL},
	};
	dom_opts_t o;
	int first;
	Ospay__V1__OrdersFinalizeRequest req = OSPAY__V1__ORDERS_FINALIZE_REQUEST__INIT;
	int rc = dom_parse(ctx, argc, argv, flags, 1, &o, &first);
	if (rc == CLI_EXIT_OK)
		rc = dom_id(ctx, argv[first], "ID", &req.id);
	if (rc == CLI_EXIT_OK)
		rc = dom_fill(ctx, &o, &req.base);
	if (rc == CLI_EXIT_OK && o.v['m'] == NULL && o.v['p'] == NULL)
		rc = cli_usage_error(ctx, "give --method or --payment-method");
	if (rc != CLI_EXIT_OK)
		goto out;
	rc = dom_call_print(ctx, "ospay.v1.Orders/Finalize", &req.base,
			    &ospay__v1__orders_finalize_response__descriptor, CLI_CALL_MUTATING,
			    "order", print_order);
out:
	return rc;
}

int cli_cmd_orders_cancel(cli_ctx_t *ctx, int argc, char **argv)
{
	static const dom_flag_t flags[] = {DOM_OPT("reason", 'r', DOM_TEXT, "reason"), {NULL}};
	dom_opts_t o;
	int first;
	Ospay__V1__OrdersCancelRequest req = OSPAY__V1__ORDERS_CANCEL_REQUEST__INIT;
	int rc = dom_parse(ctx, argc, argv, flags, 1, &o, &first);
	if (rc == CLI_EXIT_OK)
		rc = dom_id(ctx, argv[first], "ID", &req.id);
	if (rc == CLI_EXIT_OK)
		rc = dom_fill(ctx, &o, &req.base);
	if (rc != CLI_EXIT_OK)
		goto out;
	rc = dom_call_print(ctx, "ospay.v1.Orders/Cancel", &req.base,
			    &ospay__v1__orders_cancel_response__descriptor, CLI_CALL_MUTATING,
			    "order", print_order);
out:
	return rc;
}

/* refresh-payment and cancel-payment: one order id in, the order out. */
int cli_cmd_orders_refresh_payment(cli_ctx_t *ctx, int argc, char **argv)
{
	dom_opts_t o;
	int first;
	Ospay__V1__OrdersRefreshPaymentRequest req =
		OSPAY__V1__ORDERS_REFRESH_PAYMENT_REQUEST__INIT;
	int rc = dom_parse(ctx, argc, argv, NULL, 1, &o, &first);
	if (rc == CLI_EXIT_OK)
		rc = dom_id(ctx, argv[first], "ID", &req.id);
	if (rc != CLI_EXIT_OK)
		goto out;
	rc = dom_call_print(ctx, "ospay.v1.Orders/RefreshPayment", &req.base,
			    &ospay__v1__orders_refresh_payment_response__descriptor,
			    CLI_CALL_MUTATING, "order", print_order);
out:
	return rc;
}

int cli_cmd_orders_cancel_payment(cli_ctx_t *ctx, int argc, char **argv)
{
	static const dom_flag_t flags[] = {DOM_OPT("reason", 'r', DOM_TEXT, "reason"), {NULL}};
	dom_opts_t o;
	int first;
	Ospay__V1__OrdersCancelPaymentAttemptRequest req =
		OSPAY__V1__ORDERS_CANCEL_PAYMENT_ATTEMPT_REQUEST__INIT;
	int rc = dom_parse(ctx, argc, argv, flags, 1, &o, &first);
	if (rc == CLI_EXIT_OK)
		rc = dom_id(ctx, argv[first], "ID", &req.id);
	if (rc == CLI_EXIT_OK)
		rc = dom_fill(ctx, &o, &req.base);
	if (rc != CLI_EXIT_OK)
		goto out;
	rc = dom_call_print(ctx, "ospay.v1.Orders/CancelPaymentAttempt", &req.base,
			    &ospay__v1__orders_cancel_payment_attempt_response__descriptor,
			    CLI_CALL_MUTATING, "order", print_order);
out:
	return rc;
}

typedef struct list_state {
	cli_table_t *t;
	int offset;
} list_state_t;

static int order_row(cli_ctx_t *ctx, const ProtobufCMessage *m, void *state)
{
	const Ospay__V1__Order *o = (const Ospay__V1__Order *)m;
	list_state_t *ls = state;
	char id[24], start[32], dur[16], cust[24], agenda[24], tech[24], status[24], pay[24],
		amount[40];
	(void)ctx;
	snprintf(id, sizeof(id), "%" PRIu64, o->id);
	dom_datetime_text(o->scheduled_start_ms, ls->offset, start, sizeof(start));
	snprintf(dur, sizeof(dur), o->duration_minutes ? "%u" : "", o->duration_minutes);
	snprintf(cust, sizeof(cust), "%" PRIu64, o->customer_id);
	snprintf(agenda, sizeof(agenda), o->agenda_id ? "%" PRIu64 : "", o->agenda_id);
	snprintf(tech, sizeof(tech), o->technician_id ? "%" PRIu64 : "", o->technician_id);
	dom_enum_text(&ospay__v1__order_status__descriptor, STATUS_PREFIX, o->status, status,
		      sizeof(status));
	dom_enum_text(&ospay__v1__order_payment_status__descriptor, PAY_PREFIX, o->payment_status,
		      pay, sizeof(pay));
	dom_money_text(o->amount, amount, sizeof(amount));
	const char *row[] = {id, start, dur, cust, agenda, tech, status, pay, amount, o->kind};
	return cli_table_add(ls->t, row) < 0 ? CLI_EXIT_ERROR : CLI_EXIT_OK;
}

int cli_cmd_orders_list(cli_ctx_t *ctx, int argc, char **argv)
{
	static const dom_flag_t flags[] = {
		DOM_OPT("agenda", 'a', DOM_ID, "agenda_id"),
		DOM_OPT("technician", 't', DOM_ID, "technician_id"),
		DOM_OPT("customer", 'c', DOM_ID, "customer_id"),
		DOM_OPT("unit", 'U', DOM_ID, "unit_id"),
		DOM_OPT("limit", 'l', DOM_LIMIT, NULL),
		DOM_OPT_ENUM("status", 's', "status", STATUS_PREFIX,
			     "--status is open, closed or canceled"),
		DOM_OPT_ENUM("payment", 'p', "payment_status", PAY_PREFIX,
			     "--payment is none, pending, error or paid"),
		DOM_OPT("from", 'f', DOM_VALUE, NULL),
		DOM_OPT("to", 'T', DOM_VALUE, NULL),
		DOM_OPT("created-from", 'F', DOM_VALUE, NULL),
		DOM_OPT("created-to", 'G', DOM_VALUE, NULL),
		{NULL},
	};
	static const char *const hdr[] = {"ID",   "START",  "MIN",     "CUSTOMER", "AGENDA",
					  "TECH", "STATUS", "PAYMENT", "AMOUNT",   "KIND"};
	/* Date options: local days, both ends included. */
	static const struct {
		int code;
		bool end;
	} dates[] = {{'f', false}, {'T', true}, {'F', false}, {'G', true}};
	dom_opts_t o;
	int first;
	list_state_t ls = {NULL, 0};
	Ospay__V1__OrdersListRequest req = OSPAY__V1__ORDERS_LIST_REQUEST__INIT;
	int64_t *ranges[] = {&req.scheduled_from_ms, &req.scheduled_to_ms, &req.created_from_ms,
			     &req.created_to_ms};
	int rc = dom_parse(ctx, argc, argv, flags, 0, &o, &first);
	if (rc == CLI_EXIT_OK)
		rc = dom_fill(ctx, &o, &req.base);
	if (rc == CLI_EXIT_OK)
		rc = dom_offset(ctx, &ls.offset);
	for (size_t i = 0; i < 4 && rc == CLI_EXIT_OK; i++) {
		int64_t day;
		const char *v = o.v[dates[i].code];
		if (v == NULL)
			continue;
		if (dom_date_parse(v, &day) != 0)
			rc = cli_usage_error(ctx, "%s is a date YYYY-MM-DD, not \"%s\"",
					     dom_opt_name(&o, dates[i].code), v);
		else
			*ranges[i] = dom_day_start(day + (dates[i].end ? 1 : 0), ls.offset);
	}
	if (rc != CLI_EXIT_OK)
		goto out;
	ls.t = cli_table_new(10, hdr);
	if (ls.t == NULL) {
		rc = CLI_EXIT_ERROR;
		goto out;
	}
	cli_table_align(ls.t, 0, CLI_ALIGN_RIGHT);
	cli_table_align(ls.t, 8, CLI_ALIGN_RIGHT);
	rc = dom_list(ctx, "ospay.v1.Orders/List", &req.base,
		      &ospay__v1__orders_list_response__descriptor, "orders", o.limit, order_row,
		      &ls);
	if (rc == CLI_EXIT_OK && !ctx->json && cli_table_print(ls.t, stdout) < 0)
		rc = CLI_EXIT_ERROR;
out:
	cli_table_free(ls.t);
	return rc;
}

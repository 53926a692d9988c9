/*
 * ospay installments list|record, ospay report recurring-credit (docs/spec.md 4.9).
 *
 * The report prints a table with totals per status, or CSV (RFC 4180 quoting,
 * one line per row, no totals: a spreadsheet sums them) with --csv, or the
 * response as JSON with --json.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "client/cli/cli.h"
#include "client/cli/dom.h"
#include "client/cli/table.h"
#include "ospay/v1/billing.pb-c.h"
#include "ospay/v1/installments.pb-c.h"

#define IST_PREFIX "INSTALLMENT_STATUS_"
#define IMODE_PREFIX "INSTALLMENT_MODE_"
#define PERIOD_PREFIX "REPORT_PERIOD_"

#define STATUS_MSG "--status is waiting, confirmed, denied or canceled"
#define MODE_MSG "--mode is integrated or manual"

/* "order 12 #2/12" or "charge 7 (invoice 3)". */
static void ref_cell(const ProtobufCMessage *m, char *out, size_t n)
{
	const Ospay__V1__InstallmentRow *w = (const Ospay__V1__InstallmentRow *)m;
	if (w->charge_id != 0)
		snprintf(out, n, "charge %" PRIu64 " (invoice %" PRIu64 ")", w->charge_id,
			 w->invoice_id);
	else
		snprintf(out, n, "order %" PRIu64 " #%u/%u", w->order_id, w->number,
			 w->installments);
}

/* ------------------------------------------------------------------ installments list */

/* The installments list and the report's rows. */
static const dom_col_t row_cols[] = {
	DOM_COL("DATE", "due_date", DOM_C_TEXT),
	DOM_COL_CELL("WHAT", ref_cell),
	DOM_COL("CUSTOMER", "customer_id", DOM_C_NUM),
	DOM_COL("UNIT", "unit_id", DOM_C_NUM),
	DOM_COL_ENUM("MODE", "mode", IMODE_PREFIX),
	DOM_COL_ENUM("STATUS", "status", IST_PREFIX),
	DOM_COL_RIGHT("AMOUNT", "amount", DOM_C_MONEY),
	DOM_COL("REASON", "reason", DOM_C_TEXT),
	{NULL},
};

/* "Ana Lima (1)". */
static void customer_cell(const ProtobufCMessage *m, char *out, size_t n)
{
	const Ospay__V1__InstallmentRow *w = (const Ospay__V1__InstallmentRow *)m;
	snprintf(out, n, "%s (%" PRIu64 ")", w->customer_name, w->customer_id);
}

static void document_cell(const ProtobufCMessage *m, char *out, size_t n)
{
	dom_document_text(((const Ospay__V1__InstallmentRow *)m)->customer_document, out, n);
}

/* The report's rows: the customer by name and CPF/CNPJ. */
static const dom_col_t report_cols[] = {
	DOM_COL("DATE", "due_date", DOM_C_TEXT),
	DOM_COL_CELL("WHAT", ref_cell),
	DOM_COL_CELL("CUSTOMER", customer_cell),
	DOM_COL_CELL("CPF/CNPJ", document_cell),
	DOM_COL_ENUM("MODE", "mode", IMODE_PREFIX),
	DOM_COL_ENUM("STATUS", "status", IST_PREFIX),
	DOM_COL_RIGHT("AMOUNT", "amount", DOM_C_MONEY),
	DOM_COL("REASON", "reason", DOM_C_TEXT),
	{NULL},
};

int cli_cmd_installments_list(cli_ctx_t *ctx, int argc, char **argv)
{
	static const dom_flag_t flags[] = {
		DOM_OPT("customer", 'c', DOM_ID, "customer_id"),
		DOM_OPT("unit", 'U', DOM_ID, "unit_id"),
		DOM_OPT("limit", 'l', DOM_LIMIT, NULL),
		DOM_OPT_ENUM("status", 's', "status", IST_PREFIX, STATUS_MSG),
		DOM_OPT_ENUM("mode", 'm', "mode", IMODE_PREFIX, MODE_MSG),
		DOM_OPT("from", 'f', DOM_TEXT, "due_from"),
		DOM_OPT("to", 't', DOM_TEXT, "due_to"),
		{NULL},
	};
	dom_opts_t o;
	Ospay__V1__BillingListInstallmentsRequest req =
		OSPAY__V1__BILLING_LIST_INSTALLMENTS_REQUEST__INIT;
	int rc = dom_parse_fill(ctx, argc, argv, flags, &o, &req.base);
	/* Automatic card and Pix charges are not order installments: only the report has them. */
	if (rc == CLI_EXIT_OK &&
	    (req.mode == OSPAY__V1__INSTALLMENT_MODE__INSTALLMENT_MODE_AUTOMATIC_CARD ||
	     req.mode == OSPAY__V1__INSTALLMENT_MODE__INSTALLMENT_MODE_AUTOMATIC_PIX))
		rc = cli_usage_error(ctx, MODE_MSG);
	if (rc != CLI_EXIT_OK)
		return rc;
	return dom_list_table(ctx, "ospay.v1.Billing/ListInstallments", &req.base,
			      &ospay__v1__billing_list_installments_response__descriptor,
			      "installments", row_cols, o.limit);
}

/* ------------------------------------------------------------------ installments record */

int cli_cmd_installments_record(cli_ctx_t *ctx, int argc, char **argv)
{
	static const dom_flag_t flags[] = {
		DOM_OPT("order", 'o', DOM_ID, "order_id"),
		DOM_OPT("number", 'n', DOM_U32, "number"),
		DOM_OPT_ENUM("status", 's', "status", IST_PREFIX, STATUS_MSG),
		DOM_OPT("reason", 'r', DOM_TEXT, "reason"),
		{NULL},
	};
	dom_opts_t o;
	Ospay__V1__BillingRecordInstallmentRequest req =
		OSPAY__V1__BILLING_RECORD_INSTALLMENT_REQUEST__INIT;
	int rc = dom_parse(ctx, argc, argv, flags, 0, &o, NULL);
	if (rc == CLI_EXIT_OK && (o.v['o'] == NULL || o.v['n'] == NULL || o.v['s'] == NULL))
		rc = cli_usage_error(ctx, "--order, --number and --status are required");
	if (rc == CLI_EXIT_OK)
		rc = dom_fill(ctx, &o, &req.base);
	if (rc != CLI_EXIT_OK)
		return rc;
	return dom_call_print(ctx, "ospay.v1.Billing/RecordInstallment", &req.base,
			      &ospay__v1__billing_record_installment_response__descriptor,
			      CLI_CALL_MUTATING, "order", dom_print_record);
}

/* ------------------------------------------------------------------ report */

/* One CSV field: quoted when it holds a comma, a quote or a line break. */
static void csv_field(FILE *f, const char *s, bool last)
{
	if (strpbrk(s, ",\"\r\n") != NULL) {
		fputc('"', f);
		for (const char *p = s; *p != '\0'; p++) {
			if (*p == '"')
				fputc('"', f);
			fputc(*p, f);
		}
		fputc('"', f);
	} else {
		fputs(s, f);
	}
	fputc(last ? '\n' : ',', f);
}

/* Centavos as "1234.56" (CSV: no currency sign, no thousands separator). */
static void csv_amount(int64_t c, char *out, size_t n)
{
	uint64_t a = c < 0 ? (uint64_t)0 - (uint64_t)c : (uint64_t)c;
	snprintf(out, n, "%s%" PRIu64 ".%02" PRIu64, c < 0 ? "-" : "", a / 100, a % 100);
}

static int report_csv(const Ospay__V1__BillingRecurringCreditReportResponse *r)
{
	static const char *const hdr[] = {
		"date",       "order_id", "number",      "installments",  "charge_id",
		"invoice_id", "unit_id",  "customer_id", "customer_name", "customer_document",
		"mode",       "status",   "amount",      "reason"};
	size_t nh = sizeof(hdr) / sizeof(hdr[0]);
	for (size_t i = 0; i < nh; i++)
		csv_field(stdout, hdr[i], i + 1 == nh);
	for (size_t i = 0; i < r->n_rows; i++) {
		const Ospay__V1__InstallmentRow *w = r->rows[i];
		char ord[24] = "", num[12] = "", of[12] = "", chg[24] = "", inv[24] = "", unit[24],
		     cust[24], mode[32], st[32], amount[40], doc[40];
		if (w->order_id != 0) {
			snprintf(ord, sizeof(ord), "%" PRIu64, w->order_id);
			snprintf(num, sizeof(num), "%u", w->number);
			snprintf(of, sizeof(of), "%u", w->installments);
		}
		if (w->charge_id != 0) {
			snprintf(chg, sizeof(chg), "%" PRIu64, w->charge_id);
			snprintf(inv, sizeof(inv), "%" PRIu64, w->invoice_id);
		}
		snprintf(unit, sizeof(unit), "%" PRIu64, w->unit_id);
		snprintf(cust, sizeof(cust), "%" PRIu64, w->customer_id);
		dom_enum_text(&ospay__v1__installment_mode__descriptor, IMODE_PREFIX, w->mode, mode,
			      sizeof(mode));
		dom_enum_text(&ospay__v1__installment_status__descriptor, IST_PREFIX, w->status, st,
			      sizeof(st));
		csv_amount(w->amount, amount, sizeof(amount));
		dom_document_text(w->customer_document, doc, sizeof(doc));
		const char *cells[] = {
			w->due_date,      ord, num,  of, chg,    inv,      unit, cust,
			w->customer_name, doc, mode, st, amount, w->reason};
		for (size_t k = 0; k < nh; k++)
			csv_field(stdout, cells[k], k + 1 == nh);
	}
	return ferror(stdout) ? CLI_EXIT_ERROR : CLI_EXIT_OK;
}

static const dom_col_t total_cols[] = {
	DOM_COL_ENUM("STATUS", "status", IST_PREFIX),
	DOM_COL_RIGHT("COUNT", "count", DOM_C_NUM),
	DOM_COL_RIGHT("AMOUNT", "amount", DOM_C_MONEY),
	{NULL},
};

static int report_table(const Ospay__V1__BillingRecurringCreditReportResponse *r)
{
	cli_table_t *t = dom_table_new(report_cols, dom_ncols(report_cols));
	cli_table_t *tot = dom_table_new(total_cols, dom_ncols(total_cols));
	int rc = t != NULL && tot != NULL ? CLI_EXIT_OK : CLI_EXIT_ERROR;
	uint64_t count = 0;
	int64_t sum = 0;
	for (size_t i = 0; i < r->n_rows && rc == CLI_EXIT_OK; i++)
		rc = dom_table_add(t, report_cols, dom_ncols(report_cols), &r->rows[i]->base, 0);
	for (size_t i = 0; i < r->n_totals && rc == CLI_EXIT_OK; i++) {
		rc = dom_table_add(tot, total_cols, dom_ncols(total_cols), &r->totals[i]->base, 0);
		count += r->totals[i]->count;
		sum += r->totals[i]->amount;
	}
	if (rc == CLI_EXIT_OK) {
		char n[24], amount[40];
		snprintf(n, sizeof(n), "%" PRIu64, count);
		dom_money_text(sum, amount, sizeof(amount));
		const char *row[] = {"total", n, amount};
		if (cli_table_add(tot, row) < 0)
			rc = CLI_EXIT_ERROR;
	}
	if (rc == CLI_EXIT_OK) {
		printf("Recurring credit %s to %s\n\n", r->from, r->to);
		if (r->n_rows > 0 && cli_table_print(t, stdout) < 0)
			rc = CLI_EXIT_ERROR;
		if (r->n_rows == 0)
			printf("(no installments or charges)\n");
		if (r->truncated)
			printf("(%zu of %" PRIu64 " rows shown; the totals cover all of them)\n",
			       r->n_rows, r->total_rows);
		printf("\n");
		if (rc == CLI_EXIT_OK && cli_table_print(tot, stdout) < 0)
			rc = CLI_EXIT_ERROR;
	}
	cli_table_free(t);
	cli_table_free(tot);
	return rc;
}

int cli_cmd_report_recurring_credit(cli_ctx_t *ctx, int argc, char **argv)
{
	static const dom_flag_t flags[] = {
		DOM_OPT_ENUM("period", 'p', "period", PERIOD_PREFIX,
			     "--period is today, this-week, this-month or last-month"),
		DOM_OPT("customer", 'c', DOM_ID, "customer_id"),
		DOM_OPT("unit", 'U', DOM_ID, "unit_id"),
		DOM_OPT("max-rows", 'x', DOM_U32, "max_rows"),
		DOM_OPT_ENUM("status", 's', "status", IST_PREFIX, STATUS_MSG),
		DOM_OPT_ENUM("mode", 'm', "mode", IMODE_PREFIX,
			     "--mode is integrated, manual, automatic-card or automatic-pix"),
		DOM_OPT("from", 'f', DOM_TEXT, "from"),
		DOM_OPT("to", 't', DOM_TEXT, "to"),
		DOM_OPT("csv", 'C', DOM_SWITCH, NULL),
		{NULL},
	};
	dom_opts_t o;
	Ospay__V1__BillingRecurringCreditReportResponse *resp = NULL;
	Ospay__V1__BillingRecurringCreditReportRequest req =
		OSPAY__V1__BILLING_RECURRING_CREDIT_REPORT_REQUEST__INIT;
	int rc = dom_parse(ctx, argc, argv, flags, 0, &o, NULL);
	if (rc == CLI_EXIT_OK && o.v['p'] != NULL && (o.v['f'] != NULL || o.v['t'] != NULL))
		rc = cli_usage_error(ctx, "--period excludes --from/--to");
	if (rc == CLI_EXIT_OK && (o.v['f'] != NULL) != (o.v['t'] != NULL))
		rc = cli_usage_error(ctx, "--from and --to go together");
	if (rc == CLI_EXIT_OK && o.seen['C'] && ctx->json)
		rc = cli_usage_error(ctx, "--csv and --json exclude each other");
	if (rc == CLI_EXIT_OK)
		rc = dom_fill(ctx, &o, &req.base);
	if (rc != CLI_EXIT_OK)
		goto out;
	rc = cli_call(ctx, "ospay.v1.Billing/RecurringCreditReport", &req.base,
		      &ospay__v1__billing_recurring_credit_report_response__descriptor, 0,
		      (ProtobufCMessage **)&resp);
	if (rc != CLI_EXIT_OK)
		goto out;
	if (ctx->json)
		rc = cli_output_message(&resp->base);
	else if (o.seen['C'])
		rc = report_csv(resp);
	else
		rc = report_table(resp);
	if (rc == CLI_EXIT_OK && o.seen['C'] && resp->truncated)
		fprintf(stderr, "warning: %zu of %" PRIu64 " rows (raise --max-rows, up to 5000)\n",
			resp->n_rows, resp->total_rows);
out:
	ospay__v1__billing_recurring_credit_report_response__free_unpacked(resp, NULL);
	return rc;
}

/*
 * ospay CLI internals shared by main.c and the command files.
 *
 * Adding a command: write `int cli_cmd_x(cli_ctx_t *ctx, int argc, char **argv)`
 * (or, for one call, a `const dom_cmd_t cli_dom_x`) in a cmd_<service>.c,
 * declare it below, and add a row to cli_commands[] in commands.c. A handler
 * gets argv[0] = its own (sub)command word and the arguments after it, with
 * the global flags already removed; it returns an exit code. cli_call() does the RPC and the error report; cli_output_json()
 * and the table printer do the output. A command that is one call is better
 * written as data: a dom_cmd_t (dom.h) named by its row, which dom_run() runs.
 */
#ifndef OSPAY_CLI_CLI_H
#define OSPAY_CLI_CLI_H

#include <getopt.h>
#include <jansson.h>
#include <protobuf-c/protobuf-c.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "client/lib/ospay.h"
#include "ospay/v1/common.pb-c.h"

#define CLI_DEFAULT_ADDR "127.0.0.1:7411"
#define CLI_DEFAULT_TIMEOUT_MS 30000u

/* Exit codes: the contract with scripts. */
enum cli_exit {
	CLI_EXIT_OK = 0,
	CLI_EXIT_ERROR = 1, /* the server (or the connection to it) said no */
	CLI_EXIT_USAGE = 2, /* the command line is wrong; nothing was sent */
};

struct cli_command;
struct dom_cmd;

typedef struct cli_ctx {
	const char *addr; /* --addr, else OSPAY_ADDR, else CLI_DEFAULT_ADDR */
	uint32_t timeout_ms;
	bool json;
	const struct cli_command *cmd; /* the command running, for its usage line */
	ospay_sync_t *session;         /* opened by the first call */
	uint64_t connect_ns;           /* how long opening the session took */
} cli_ctx_t;

typedef int (*cli_handler)(cli_ctx_t *ctx, int argc, char **argv);

typedef struct cli_command {
	const char *name; /* "units" */
	const char *sub;  /* "list"; NULL for a command without subcommands */
	cli_handler run;
	const struct dom_cmd *dom; /* or a command as data (run is NULL), run by dom_run() */
	const char *args;          /* the synopsis after the words: "NAME"; "" for none */
	const char *summary;       /* one line for `ospay help` */
	const char *details;       /* more for `ospay help units create`; may be NULL */
} cli_command_t;

extern const cli_command_t cli_commands[];
extern const size_t cli_n_commands;

/* cli_call flags */
#define CLI_CALL_MUTATING 1u /* sends an idempotency key; retries reuse it */
#define CLI_CALL_ONCE 2u     /* never resent: a call that is neither read-only nor keyed */

/*
 * Opens the session (OSPAY_TOKEN, ctx->addr, ctx->timeout_ms) unless open.
 * Returns CLI_EXIT_OK with *out set, or prints why not and returns an exit code.
 */
int cli_session(cli_ctx_t *ctx, ospay_sync_t **out);

/*
 * Calls method with req and unpacks the reply with resp_desc into *resp (free
 * with protobuf_c_message_free_unpacked). A dropped connection is retried
 * (twice, on a new connection; mutating calls keep their idempotency key, so
 * the server runs them once). On failure prints "error: CODE: message" and the
 * field violations on stderr and returns CLI_EXIT_ERROR.
 */
int cli_call(cli_ctx_t *ctx, const char *method, const ProtobufCMessage *req,
	     const ProtobufCMessageDescriptor *resp_desc, unsigned flags, ProtobufCMessage **resp);

/* Prints st as "error: CODE_NAME: message" and one line per violation, on stderr. */
void cli_print_status(const status_t *st);

/* Prints "error: ..." and the command's usage on stderr; returns CLI_EXIT_USAGE. */
int cli_usage_error(const cli_ctx_t *ctx, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/*
 * Parses a handler's options with getopt_long (long options only); on_opt is
 * called for each. Unknown options and missing values are usage errors.
 * *first is the index of the first positional argument.
 */
typedef int (*cli_opt_fn)(cli_ctx_t *ctx, int opt, const char *value, void *state);
int cli_getopt(cli_ctx_t *ctx, int argc, char **argv, const struct option *opts, cli_opt_fn on_opt,
	       void *state, int *first);

/* Checks the number of positional arguments left after cli_getopt. */
int cli_positionals(const cli_ctx_t *ctx, int argc, int first, int min, int max);

/* cli_getopt and cli_positionals for a command that takes no options (first may be NULL). */
int cli_no_options(cli_ctx_t *ctx, int argc, char **argv, int min, int max, int *first);
/* The same for a command of one argument and no options: *arg is argv's. */
int cli_one_arg(cli_ctx_t *ctx, int argc, char **argv, char **arg);

/* Prints j (stolen) on stdout, indented; CLI_EXIT_OK or CLI_EXIT_ERROR. */
int cli_output_json(json_t *j);
/* cli_output_json of a message through pbjson. */
int cli_output_message(const ProtobufCMessage *m);

/* Strict decimal: digits only, no sign, no overflow. 0 or -EINVAL. */
int cli_parse_u64(const char *s, uint64_t *out);
int cli_parse_u32(const char *s, uint32_t *out);

/* "admin", "operator", "read-only" (and "unspecified"). */
const char *cli_role_name(int role);
/* The inverse; -EINVAL for anything else. */
int cli_role_parse(const char *s, int *role);

/* "org-wide" or "units 3, 4" into out (truncated with "..." when long). */
void cli_scope_text(const Ospay__V1__Token *t, char *out, size_t n);
/* RFC 3339 UTC, or "" for 0 (never). */
void cli_time_text(int64_t ms, char *out, size_t n);

/* Help output, generated from cli_commands[]. */
void cli_print_usage(FILE *f);
void cli_print_command_help(FILE *f, const cli_command_t *cmd);
void cli_print_group_help(FILE *f, const char *name);

/* ---- commands (cmd_*.c) */
int cli_cmd_ping(cli_ctx_t *ctx, int argc, char **argv);
int cli_cmd_whoami(cli_ctx_t *ctx, int argc, char **argv);
int cli_cmd_clock_advance(cli_ctx_t *ctx, int argc, char **argv);
int cli_cmd_units_create(cli_ctx_t *ctx, int argc, char **argv);
int cli_cmd_tokens_create(cli_ctx_t *ctx, int argc, char **argv);
int cli_cmd_tokens_revoke(cli_ctx_t *ctx, int argc, char **argv);
int cli_cmd_gateways_set(cli_ctx_t *ctx, int argc, char **argv);
int cli_cmd_gateways_get(cli_ctx_t *ctx, int argc, char **argv);
int cli_cmd_notifier_set(cli_ctx_t *ctx, int argc, char **argv);
int cli_cmd_payment_methods_create(cli_ctx_t *ctx, int argc, char **argv);
int cli_cmd_cards_add(cli_ctx_t *ctx, int argc, char **argv);
int cli_cmd_cards_list(cli_ctx_t *ctx, int argc, char **argv);
int cli_cmd_cards_remove(cli_ctx_t *ctx, int argc, char **argv);
int cli_cmd_charges_list(cli_ctx_t *ctx, int argc, char **argv);
int cli_cmd_charges_resolve(cli_ctx_t *ctx, int argc, char **argv);
int cli_cmd_suspension_set(cli_ctx_t *ctx, int argc, char **argv);
int cli_cmd_customers_create(cli_ctx_t *ctx, int argc, char **argv);
int cli_cmd_customers_update(cli_ctx_t *ctx, int argc, char **argv);
int cli_cmd_customers_add_service(cli_ctx_t *ctx, int argc, char **argv);
int cli_cmd_customers_update_service(cli_ctx_t *ctx, int argc, char **argv);
int cli_cmd_services_pix_authorize(cli_ctx_t *ctx, int argc, char **argv);
int cli_cmd_agendas_create(cli_ctx_t *ctx, int argc, char **argv);
int cli_cmd_agendas_update(cli_ctx_t *ctx, int argc, char **argv);
int cli_cmd_agendas_delete(cli_ctx_t *ctx, int argc, char **argv);
int cli_cmd_calendar(cli_ctx_t *ctx, int argc, char **argv);
int cli_cmd_closing_reasons_remove(cli_ctx_t *ctx, int argc, char **argv);
int cli_cmd_closures_remove(cli_ctx_t *ctx, int argc, char **argv);
int cli_cmd_closures_holidays(cli_ctx_t *ctx, int argc, char **argv);
int cli_cmd_orders_create(cli_ctx_t *ctx, int argc, char **argv);
int cli_cmd_orders_list(cli_ctx_t *ctx, int argc, char **argv);
int cli_cmd_orders_update(cli_ctx_t *ctx, int argc, char **argv);
int cli_cmd_orders_reschedule(cli_ctx_t *ctx, int argc, char **argv);
int cli_cmd_orders_finalize(cli_ctx_t *ctx, int argc, char **argv);
int cli_cmd_installments_list(cli_ctx_t *ctx, int argc, char **argv);
int cli_cmd_installments_record(cli_ctx_t *ctx, int argc, char **argv);
int cli_cmd_report_recurring_credit(cli_ctx_t *ctx, int argc, char **argv);

/* ---- commands as data (cmd_*.c), run by dom_run() */
extern const struct dom_cmd cli_dom_units_list;
extern const struct dom_cmd cli_dom_agendas_get;
extern const struct dom_cmd cli_dom_agendas_list;
extern const struct dom_cmd cli_dom_technicians_create;
extern const struct dom_cmd cli_dom_technicians_list;
extern const struct dom_cmd cli_dom_agendas_availability;
extern const struct dom_cmd cli_dom_closures_add;
extern const struct dom_cmd cli_dom_closures_list;
extern const struct dom_cmd cli_dom_cards_set_default;
extern const struct dom_cmd cli_dom_payment_methods_list;
extern const struct dom_cmd cli_dom_invoices_create;
extern const struct dom_cmd cli_dom_invoices_get;
extern const struct dom_cmd cli_dom_invoices_cancel;
extern const struct dom_cmd cli_dom_invoices_charge;
extern const struct dom_cmd cli_dom_invoices_list;
extern const struct dom_cmd cli_dom_billing_run;
extern const struct dom_cmd cli_dom_customers_get;
extern const struct dom_cmd cli_dom_customers_list;
extern const struct dom_cmd cli_dom_customers_services;
extern const struct dom_cmd cli_dom_services_list;
extern const struct dom_cmd cli_dom_services_pix_cancel;
extern const struct dom_cmd cli_dom_services_pix_refresh;
extern const struct dom_cmd cli_dom_orders_get;
extern const struct dom_cmd cli_dom_orders_cancel;
extern const struct dom_cmd cli_dom_orders_refresh_payment;
extern const struct dom_cmd cli_dom_orders_cancel_payment;
extern const struct dom_cmd cli_dom_orders_note;
extern const struct dom_cmd cli_dom_closing_reasons_create;
extern const struct dom_cmd cli_dom_closing_reasons_list;
extern const struct dom_cmd cli_dom_clock_now;

#endif

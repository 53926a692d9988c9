/*
 * ospay CLI: helpers for the domain commands (customers, technicians,
 * agendas, orders, billing, ...): options declared as tables that fill the
 * request, parsers for ids, money, local dates and times and enum names,
 * paging through List methods, and key/value output. Local dates and times
 * are in the organization's time zone, which Session/Hello tells.
 */
#ifndef OSPAY_CLI_DOM_H
#define OSPAY_CLI_DOM_H

#include <stdbool.h>
#include <stdint.h>

#include "client/cli/cli.h"
#include "client/cli/table.h"

#define DOM_MAX_REPEATED 64
#define DOM_MAX_FLAGS 16

/* ------------------------------------------------------------------ options (flags.c) */

/* What an option's value is and, for the kinds that fill a request field, how. */
enum dom_kind {
	DOM_VALUE,   /* a value the command reads itself (o->v[code]) */
	DOM_LIST,    /* a repeatable value, read by the command (o->rep) */
	DOM_SWITCH,  /* no value (o->seen[code]) */
	DOM_TEXT,    /* a string field */
	DOM_ID,      /* a uint64 field: an id (> 0) */
	DOM_ID_NONE, /* the same, or "none" for 0 */
	DOM_U32,     /* a uint32 field: a number */
	DOM_MONEY,   /* an int64 field: "99,90" as centavos; msg when not money */
	DOM_ENUM,    /* an enum field: a value's name without prefix; msg when unknown */
	DOM_LIMIT,   /* a number kept in o->limit: the most items a listing prints */
};

/* One option of a command; a table of them ends with a NULL name. */
typedef struct dom_flag {
	const char *name; /* without "--" */
	int code;         /* its key in dom_opts_t: a character */
	enum dom_kind kind;
	const char *field;  /* the request field it fills, or changes (its update-mask path) */
	const char *msg;    /* DOM_MONEY, DOM_ENUM: the usage error for a bad value */
	const char *prefix; /* DOM_ENUM: the value names' prefix ("ORDER_STATUS_") */
} dom_flag_t;

/* Rows of a dom_flag_t table (which ends with {NULL}). */
#define DOM_OPT(name, code, kind, field)                                                           \
	{                                                                                          \
		(name), (code), (kind), (field), NULL, NULL                                        \
	}
#define DOM_OPT_ENUM(name, code, field, prefix, msg)                                               \
	{                                                                                          \
		(name), (code), DOM_ENUM, (field), (msg), (prefix)                                 \
	}
#define DOM_OPT_MONEY(name, code, field, msg)                                                      \
	{                                                                                          \
		(name), (code), DOM_MONEY, (field), (msg), NULL                                    \
	}

/*
 * Options seen by a command, by their code: the value of each single option,
 * whether it was given, and every value of the repeatable ones (DOM_LIST).
 */
typedef struct dom_opts {
	const dom_flag_t *flags;
	struct option table[DOM_MAX_FLAGS + 1]; /* for getopt_long, from flags */
	const char *v[128];
	bool seen[128];
	const char *rep[DOM_MAX_REPEATED];
	int rep_code[DOM_MAX_REPEATED];
	size_t n_rep;
	uint32_t limit; /* DOM_LIMIT; 0: all */
} dom_opts_t;

/*
 * Parses the options of flags (NULL: none) and checks for n positionals;
 * *first is the first one's index (first may be NULL).
 */
int dom_parse(cli_ctx_t *ctx, int argc, char **argv, const dom_flag_t *flags, int n, dom_opts_t *o,
	      int *first);

/*
 * Fills req from the options given, in the order of the table: each value is
 * checked (the first bad one is the usage error) and stored in its field.
 */
int dom_fill(cli_ctx_t *ctx, dom_opts_t *o, ProtobufCMessage *req);
/* The start of a command of options only (no positional): dom_parse, then dom_fill. */
int dom_parse_fill(cli_ctx_t *ctx, int argc, char **argv, const dom_flag_t *flags, dom_opts_t *o,
		   ProtobufCMessage *req);
/* The start of a command of one id and options: dom_parse, then dom_id of the id (what names it). */
int dom_parse_id(cli_ctx_t *ctx, int argc, char **argv, const dom_flag_t *flags, dom_opts_t *o,
		 const char *what, uint64_t *id);

/*
 * Where a value for req's field name goes, checked to be a single field of
 * type; NULL, and an internal error naming what on stderr, otherwise.
 */
void *dom_slot(const ProtobufCMessage *req, const char *name, ProtobufCType type, const char *what,
	       const ProtobufCFieldDescriptor **fd);

/* The fields of the options given, in table order, each once: an update mask. */
size_t dom_mask(const dom_opts_t *o, char **mask, size_t cap);

/* The long name of option code c ("--agenda"), for messages. */
const char *dom_opt_name(const dom_opts_t *o, int c);

/* An id (> 0) from text; CLI_EXIT_OK or a usage error naming what. */
int dom_id(cli_ctx_t *ctx, const char *text, const char *what, uint64_t *out);
/* Option c as an id, when given (*out untouched otherwise). "none" gives 0 when allow_none. */
int dom_opt_id(cli_ctx_t *ctx, const dom_opts_t *o, int c, bool allow_none, uint64_t *out);
int dom_opt_u32(cli_ctx_t *ctx, const dom_opts_t *o, int c, uint32_t *out);

/* ------------------------------------------------------------------ values (dom.c) */

/* The field of d called name; NULL when it has none. */
const ProtobufCFieldDescriptor *dom_field(const ProtobufCMessageDescriptor *d, const char *name);

/* "150", "150.5", "150,50", "1.234,56" as centavos; -EINVAL when not money. */
int dom_money_parse(const char *s, int64_t *centavos);
/* "R$ 1.234,56". */
void dom_money_text(int64_t centavos, char *out, size_t n);
/* CPF digits as "529.982.247-25", CNPJ as "11.222.333/0001-81"; anything else as it is. */
void dom_document_text(const char *digits, char *out, size_t n);

/* The organization's UTC offset (minutes) from the session; opens it if needed. */
int dom_offset(cli_ctx_t *ctx, int *offset_min);
/* "YYYY-MM-DD" as a day number; -EINVAL otherwise. */
int dom_date_parse(const char *s, int64_t *day);
/* UTC ms of local midnight starting day. */
int64_t dom_day_start(int64_t day, int offset_min);
/* "YYYY-MM-DD HH:MM" (or with a T) in local time as UTC ms; -EINVAL otherwise. */
int dom_datetime_parse(const char *s, int offset_min, int64_t *ms);
/* UTC ms as local "YYYY-MM-DD HH:MM"; "" for 0. */
void dom_datetime_text(int64_t ms, int offset_min, char *out, size_t n);
/* "YYYY-MM-DD" of a day number, and its weekday name ("Monday"). */
void dom_date_text(int64_t day, char *out, size_t n);
const char *dom_weekday_name(int64_t day);

/* Enum values by the names people type (case-insensitive), and back. */
int dom_enum_parse(const ProtobufCEnumDescriptor *d, const char *prefix, const char *s, int *out);
/* The value's name without prefix, lower case ("open"); "?" when unknown. */
const char *dom_enum_text(const ProtobufCEnumDescriptor *d, const char *prefix, int v, char *buf,
			  size_t n);

/* Called for each item of a listing. */
typedef int (*dom_item_fn)(cli_ctx_t *ctx, const ProtobufCMessage *item, void *state);

/*
 * Pages through a List method: req's page_size and page_token are set by
 * name, the response's repeated field `items` is walked. Stops after limit
 * items (0: all). With --json, prints {"<items>": [...]} and ignores fn.
 */
int dom_list(cli_ctx_t *ctx, const char *method, ProtobufCMessage *req,
	     const ProtobufCMessageDescriptor *resp_desc, const char *items, size_t limit,
	     dom_item_fn fn, void *state);

/*
 * A record for people: one "key  value" line per field, nested messages as
 * "address.city", lists as compact JSON. With --json, the message itself.
 */
int dom_print_record(cli_ctx_t *ctx, const ProtobufCMessage *m);

typedef int (*dom_print_fn)(cli_ctx_t *ctx, const ProtobufCMessage *m);

/*
 * Calls a method and prints the record in the response's field `field` (NULL:
 * the whole response) with print; with --json, prints the response.
 */
int dom_call_print(cli_ctx_t *ctx, const char *method, const ProtobufCMessage *req,
		   const ProtobufCMessageDescriptor *resp_desc, unsigned flags, const char *field,
		   dom_print_fn print);

/*
 * "NOUN remove ID": calls method with a request whose field id is ID (req_desc
 * has one), then prints "<what> ID removed<after>", or {"removed": ID} with
 * --json.
 */
int dom_remove(cli_ctx_t *ctx, int argc, char **argv, const char *method,
	       const ProtobufCMessageDescriptor *req_desc,
	       const ProtobufCMessageDescriptor *resp_desc, const char *what, const char *after);

/* ------------------------------------------------------------------ tables (cols.c) */

#define DOM_MAX_COLS 16

/* How a column shows its field. */
enum dom_fmt {
	DOM_C_TEXT,  /* a string */
	DOM_C_NUM,   /* an integer, or how many items a repeated field has; then affix */
	DOM_C_MONEY, /* centavos: "R$ 1.234,56" */
	DOM_C_ENUM,  /* the value's name without the prefix affix, lower case */
	DOM_C_TIME,  /* ms: RFC 3339 UTC; "" for 0 */
	DOM_C_LOCAL, /* ms: the organization's local "YYYY-MM-DD HH:MM"; "" for 0 */
	DOM_C_YES,   /* a bool: "yes" or "no" */
	DOM_C_CELL,  /* written by cell() from the whole item */
};

typedef void (*dom_cell_fn)(const ProtobufCMessage *item, char *out, size_t n);

/*
 * One column of a table, or one line of a key/value record; a table of them
 * ends with a NULL header.
 */
typedef struct dom_col {
	const char *header;
	const char *field; /* "address.city": a field of a field (empty when that is unset) */
	enum dom_fmt fmt;
	bool right;        /* right-aligned */
	const char *zero;  /* shown for 0 (false, no items) instead; NULL: the value as usual */
	const char *affix; /* DOM_C_ENUM: the value names' prefix; DOM_C_NUM: a unit (" min") */
	dom_cell_fn cell;  /* DOM_C_CELL */
} dom_col_t;

/* Rows of a dom_col_t table; write the others with .zero or .affix named. */
#define DOM_COL(header, field, fmt)                                                                \
	{                                                                                          \
		(header), (field), (fmt), false, NULL, NULL, NULL                                  \
	}
#define DOM_COL_RIGHT(header, field, fmt)                                                          \
	{                                                                                          \
		(header), (field), (fmt), true, NULL, NULL, NULL                                   \
	}
#define DOM_COL_ENUM(header, field, prefix)                                                        \
	{                                                                                          \
		(header), (field), DOM_C_ENUM, false, NULL, (prefix), NULL                         \
	}
#define DOM_COL_CELL(header, cell)                                                                 \
	{                                                                                          \
		(header), NULL, DOM_C_CELL, false, NULL, NULL, (cell)                              \
	}

/* How many columns cols has. */
size_t dom_ncols(const dom_col_t *cols);
/* A table with the headers and alignment of the first n of cols; NULL when out of memory. */
cli_table_t *dom_table_new(const dom_col_t *cols, size_t n);
/* One row: item as the first n of cols show it; offset is for DOM_C_LOCAL. */
int dom_table_add(cli_table_t *t, const dom_col_t *cols, size_t n, const ProtobufCMessage *item,
		  int offset);
/* A table of its own with one row, item's. */
int dom_print_row(const dom_col_t *cols, size_t n, const ProtobufCMessage *item);
/* "header  value" rows of m into t, a 2-column table: a record for people. */
int dom_kv_add(cli_table_t *t, const dom_col_t *cols, const ProtobufCMessage *m, int offset);
/* The items of m's repeated field path as a table after "\ntitle\n"; nothing when none. */
int dom_print_items(const char *title, const dom_col_t *cols, const ProtobufCMessage *m,
		    const char *path, int offset);

/* A table being filled by dom_list(): its dom_item_fn is dom_row(). */
typedef struct dom_rows {
	cli_table_t *t;
	const dom_col_t *cols;
	int offset;
} dom_rows_t;
int dom_row(cli_ctx_t *ctx, const ProtobufCMessage *item, void *state);

/* ------------------------------------------------------------------ commands (run.c) */

/*
 * A listing printed as the table cols: every page of method (limit items at
 * most; 0: all), or its one answer when req has no page_token. With --json,
 * {"<items>": [...]} for pages, the response for one answer.
 */
int dom_list_table(cli_ctx_t *ctx, const char *method, ProtobufCMessage *req,
		   const ProtobufCMessageDescriptor *resp_desc, const char *items,
		   const dom_col_t *cols, uint32_t limit);

/* A command that is one call: what it sends, what it takes, what it prints. */
typedef struct dom_cmd {
	const char *method;                     /* "ospay.v1.Orders/Get" */
	const ProtobufCMessageDescriptor *req;  /* its request (NULL: the method's, pbmethod.h) */
	const ProtobufCMessageDescriptor *resp; /* and response (NULL: the method's) */
	unsigned call;                          /* CLI_CALL_* */
	const char *arg;                        /* the one positional, an id ("ID"); NULL: none */
	const char *arg_field;                  /* the request field it fills */
	const dom_flag_t *flags;                /* the options; NULL: none */
	const char *record;    /* one record: the response field printed (NULL: all of it) */
	dom_print_fn print;    /* and how (NULL: dom_print_record) */
	const char *items;     /* or a listing: the response's repeated field */
	const dom_col_t *cols; /* and its table */
} dom_cmd_t;

/* Parses the command line as c says, fills a request, calls, prints. */
int dom_run(cli_ctx_t *ctx, int argc, char **argv, const dom_cmd_t *c);

#endif

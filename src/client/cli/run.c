/*
 * Commands as data (dom_cmd_t): a command that is one call states its method,
 * its positional id and options, and what it prints; dom_run() does the rest.
 * dom_list_table() is the listing half, for the commands that build their
 * request themselves.
 */
#include "client/cli/dom.h"

#include <inttypes.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>

#include "common/pbmethod.h"

static bool has_local(const dom_col_t *cols)
{
	for (const dom_col_t *c = cols; c->header != NULL; c++)
		if (c->fmt == DOM_C_LOCAL)
			return true;
	return false;
}

/* A listing that fits one answer: its items into rows->t, or the answer as JSON. */
static int list_once(cli_ctx_t *ctx, const char *method, const ProtobufCMessage *req,
		     const ProtobufCMessageDescriptor *resp_desc, const char *items,
		     dom_rows_t *rows)
{
	const ProtobufCFieldDescriptor *f = dom_field(resp_desc, items);
	ProtobufCMessage *resp = NULL;
	int rc = f == NULL ? CLI_EXIT_ERROR : cli_call(ctx, method, req, resp_desc, 0, &resp);
	if (rc == CLI_EXIT_OK && ctx->json) {
		rc = cli_output_message(resp);
	} else if (rc == CLI_EXIT_OK) {
		size_t n = *(size_t *)((char *)resp + f->quantifier_offset);
		ProtobufCMessage **list = *(ProtobufCMessage ***)((char *)resp + f->offset);
		for (size_t i = 0; i < n && rc == CLI_EXIT_OK; i++)
			rc = dom_row(ctx, list[i], rows);
	}
	protobuf_c_message_free_unpacked(resp, NULL);
	return rc;
}

int dom_list_table(cli_ctx_t *ctx, const char *method, ProtobufCMessage *req,
		   const ProtobufCMessageDescriptor *resp_desc, const char *items,
		   const dom_col_t *cols, uint32_t limit)
{
	dom_rows_t rows = {dom_table_new(cols, dom_ncols(cols)), cols, 0};
	int rc = rows.t != NULL ? CLI_EXIT_OK : CLI_EXIT_ERROR;
	/* Local times need the organization's offset; the session tells it. */
	if (rc == CLI_EXIT_OK && has_local(cols))
		rc = dom_offset(ctx, &rows.offset);
	if (rc == CLI_EXIT_OK && dom_field(req->descriptor, "page_token") != NULL)
		rc = dom_list(ctx, method, req, resp_desc, items, limit, dom_row, &rows);
	else if (rc == CLI_EXIT_OK)
		rc = list_once(ctx, method, req, resp_desc, items, &rows);
	if (rc == CLI_EXIT_OK && !ctx->json && cli_table_print(rows.t, stdout) < 0)
		rc = CLI_EXIT_ERROR;
	cli_table_free(rows.t);
	return rc;
}

int dom_parse_fill(cli_ctx_t *ctx, int argc, char **argv, const dom_flag_t *flags, dom_opts_t *o,
		   ProtobufCMessage *req)
{
	int rc = dom_parse(ctx, argc, argv, flags, 0, o, NULL);
	return rc == CLI_EXIT_OK ? dom_fill(ctx, o, req) : rc;
}

int dom_parse_id(cli_ctx_t *ctx, int argc, char **argv, const dom_flag_t *flags, dom_opts_t *o,
		 const char *what, uint64_t *id)
{
	int first = 0;
	int rc = dom_parse(ctx, argc, argv, flags, 1, o, &first);
	return rc == CLI_EXIT_OK ? dom_id(ctx, argv[first], what, id) : rc;
}

int dom_run(cli_ctx_t *ctx, int argc, char **argv, const dom_cmd_t *c)
{
	/* The method's own types unless the command names them. */
	const ProtobufCMethodDescriptor *md =
		c->req == NULL || c->resp == NULL ? pbmethod_find(c->method) : NULL;
	const ProtobufCMessageDescriptor *req_desc = c->req != NULL ? c->req
						     : md           ? md->input
								    : NULL;
	const ProtobufCMessageDescriptor *resp_desc = c->resp != NULL ? c->resp
						      : md            ? md->output
								      : NULL;
	const ProtobufCFieldDescriptor *fd = NULL;
	ProtobufCMessage *req =
		req_desc != NULL && resp_desc != NULL ? malloc(req_desc->sizeof_message) : NULL;
	uint64_t *id = NULL;
	dom_opts_t o;
	int first = 0;
	int rc = req != NULL ? CLI_EXIT_OK : CLI_EXIT_ERROR;
	if (rc == CLI_EXIT_OK) {
		protobuf_c_message_init(req_desc, req);
		rc = dom_parse(ctx, argc, argv, c->flags, c->arg != NULL ? 1 : 0, &o, &first);
	}
	if (rc == CLI_EXIT_OK && c->arg != NULL) {
		id = dom_slot(req, c->arg_field, PROTOBUF_C_TYPE_UINT64, c->arg, &fd);
		rc = id != NULL ? dom_id(ctx, argv[first], c->arg, id) : CLI_EXIT_ERROR;
	}
	if (rc == CLI_EXIT_OK)
		rc = dom_fill(ctx, &o, req);
	if (rc == CLI_EXIT_OK && c->items != NULL)
		rc = dom_list_table(ctx, c->method, req, resp_desc, c->items, c->cols, o.limit);
	else if (rc == CLI_EXIT_OK)
		rc = dom_call_print(ctx, c->method, req, resp_desc, c->call, c->record,
				    c->print != NULL ? c->print : dom_print_record);
	/* Its strings are argv's or constants: only the message itself is ours. */
	free(req);
	return rc;
}

int dom_remove(cli_ctx_t *ctx, int argc, char **argv, const char *method,
	       const ProtobufCMessageDescriptor *req_desc,
	       const ProtobufCMessageDescriptor *resp_desc, const char *what, const char *after)
{
	dom_opts_t o;
	int first;
	uint64_t id = 0;
	ProtobufCMessage *resp = NULL;
	const ProtobufCFieldDescriptor *f = dom_field(req_desc, "id");
	ProtobufCMessage *req = calloc(1, req_desc->sizeof_message);
	int rc = f != NULL && req != NULL ? dom_parse(ctx, argc, argv, NULL, 1, &o, &first)
					  : CLI_EXIT_ERROR;
	if (rc == CLI_EXIT_OK)
		rc = dom_id(ctx, argv[first], "ID", &id);
	if (rc == CLI_EXIT_OK) {
		req_desc->message_init(req);
		*(uint64_t *)((char *)req + f->offset) = id;
		rc = cli_call(ctx, method, req, resp_desc, CLI_CALL_MUTATING, &resp);
	}
	if (rc == CLI_EXIT_OK && ctx->json) {
		rc = cli_output_json(json_pack("{s:I}", "removed", (json_int_t)id));
	} else if (rc == CLI_EXIT_OK) {
		printf("%s %" PRIu64 " removed%s\n", what, id, after);
	}
	protobuf_c_message_free_unpacked(resp, NULL);
	free(req);
	return rc;
}

/* ospay units ..., ospay tokens ...: the Admin service. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "client/cli/cli.h"
#include "client/cli/dom.h"
#include "client/cli/pbjson.h"
#include "client/cli/table.h"
#include "ospay/v1/admin.pb-c.h"

/* The server's maximum page (admin.proto): fewest round trips. */
#define CLI_UNITS_PAGE 1000u
/* A server that never ends the listing must not keep the CLI forever. */
#define CLI_MAX_PAGES 100000u
#define CLI_MAX_UNIT_FLAGS 10000u

static const dom_col_t unit_cols[] = {
	DOM_COL_RIGHT("ID", "id", DOM_C_NUM),
	DOM_COL("NAME", "name", DOM_C_TEXT),
	DOM_COL("CREATED", "created_ms", DOM_C_TIME),
	{NULL},
};

static int table_out(cli_table_t *t)
{
	return cli_table_print(t, stdout) < 0 ? CLI_EXIT_ERROR : CLI_EXIT_OK;
}

int cli_cmd_units_list(cli_ctx_t *ctx, int argc, char **argv)
{
	Ospay__V1__ListUnitsRequest req = OSPAY__V1__LIST_UNITS_REQUEST__INIT;
	Ospay__V1__ListUnitsResponse *resp = NULL;
	ProtobufCMessage *m = NULL;
	json_t *units = NULL;
	cli_table_t *t = NULL;
	char *page = NULL;
	int first = 0;
	int rc = cli_no_options(ctx, argc, argv, 0, 0, &first);
	if (rc != CLI_EXIT_OK)
		goto out;
	if (ctx->json)
		units = json_array();
	else
		t = dom_table_new(unit_cols, dom_ncols(unit_cols));
	if (units == NULL && t == NULL) {
		rc = CLI_EXIT_ERROR;
		goto out;
	}
	req.page_size = CLI_UNITS_PAGE;
	for (unsigned n = 0;; n++) {
		req.page_token = page != NULL ? page : "";
		rc = cli_call(ctx, "ospay.v1.Admin/ListUnits", &req.base,
			      &ospay__v1__list_units_response__descriptor, 0, &m);
		resp = (Ospay__V1__ListUnitsResponse *)m;
		if (rc != CLI_EXIT_OK)
			goto out;
		for (size_t i = 0; i < resp->n_units && rc == CLI_EXIT_OK; i++) {
			if (units != NULL)
				rc = json_array_append_new(
					     units,
					     cli_pbjson_from_message(&resp->units[i]->base)) == 0
					     ? CLI_EXIT_OK
					     : CLI_EXIT_ERROR;
			else
				rc = dom_table_add(t, unit_cols, dom_ncols(unit_cols),
						   &resp->units[i]->base, 0);
		}
		if (rc != CLI_EXIT_OK || resp->next_page_token[0] == '\0')
			break;
		if ((page != NULL && strcmp(page, resp->next_page_token) == 0) ||
		    n + 1 >= CLI_MAX_PAGES) {
			fprintf(stderr, "error: the server keeps answering more pages; stopped\n");
			rc = CLI_EXIT_ERROR;
			goto out;
		}
		free(page);
		page = strdup(resp->next_page_token);
		protobuf_c_message_free_unpacked(&resp->base, NULL);
		resp = NULL;
		if (page == NULL) {
			rc = CLI_EXIT_ERROR;
			goto out;
		}
	}
	if (rc != CLI_EXIT_OK)
		goto out;
	if (units != NULL) {
		rc = cli_output_json(json_pack("{s:O}", "units", units));
	} else {
		rc = table_out(t);
	}
out:
	if (resp != NULL)
		protobuf_c_message_free_unpacked(&resp->base, NULL);
	json_decref(units);
	cli_table_free(t);
	free(page);
	return rc;
}

int cli_cmd_units_create(cli_ctx_t *ctx, int argc, char **argv)
{
	Ospay__V1__CreateUnitRequest req = OSPAY__V1__CREATE_UNIT_REQUEST__INIT;
	Ospay__V1__CreateUnitResponse *resp = NULL;
	ProtobufCMessage *m = NULL;
	int first = 0;
	int rc = cli_no_options(ctx, argc, argv, 1, 1, &first);
	if (rc != CLI_EXIT_OK)
		goto out;
	req.name = argv[first];
	rc = cli_call(ctx, "ospay.v1.Admin/CreateUnit", &req.base,
		      &ospay__v1__create_unit_response__descriptor, CLI_CALL_MUTATING, &m);
	resp = (Ospay__V1__CreateUnitResponse *)m;
	if (rc != CLI_EXIT_OK)
		goto out;
	if (ctx->json) {
		rc = cli_output_message(&resp->base);
		goto out;
	}
	rc = resp->unit == NULL ? CLI_EXIT_ERROR
				: dom_print_row(unit_cols, dom_ncols(unit_cols), &resp->unit->base);
out:
	if (resp != NULL)
		protobuf_c_message_free_unpacked(&resp->base, NULL);
	return rc;
}

static void role_cell(const ProtobufCMessage *m, char *out, size_t n)
{
	snprintf(out, n, "%s", cli_role_name(((const Ospay__V1__Token *)m)->role));
}

static void scope_cell(const ProtobufCMessage *m, char *out, size_t n)
{
	char scope[512];
	cli_scope_text((const Ospay__V1__Token *)m, scope, sizeof(scope));
	snprintf(out, n, "%s", scope);
}

/* A token as people read it; tokens create shows no REVOKED column. */
static const dom_col_t token_cols[] = {
	DOM_COL_RIGHT("ID", "id", DOM_C_NUM),
	DOM_COL("NAME", "name", DOM_C_TEXT),
	DOM_COL_CELL("ROLE", role_cell),
	DOM_COL_CELL("SCOPE", scope_cell),
	DOM_COL("REVOKED", "revoked_ms", DOM_C_TIME),
	{NULL},
};

static int tokens_out(const Ospay__V1__Token *tok, bool with_revoked)
{
	size_t n = dom_ncols(token_cols) - (with_revoked ? 0 : 1);
	return tok != NULL ? dom_print_row(token_cols, n, &tok->base) : CLI_EXIT_ERROR;
}

typedef struct token_opts {
	const char *name;
	int role;
	bool org_wide;
	uint64_t *units;
	size_t n_units;
	size_t cap_units;
} token_opts_t;

static int token_unit(cli_ctx_t *ctx, token_opts_t *o, const char *value)
{
	uint64_t id = 0;
	int rc = CLI_EXIT_OK;
	if (cli_parse_u64(value, &id) < 0 || id == 0) {
		rc = cli_usage_error(ctx, "--unit needs a unit id, not \"%s\"", value);
		goto out;
	}
	if (o->n_units == o->cap_units) {
		size_t cap = o->cap_units ? o->cap_units * 2 : 8;
		uint64_t *units = NULL;
		if (cap > CLI_MAX_UNIT_FLAGS) {
			rc = cli_usage_error(ctx, "too many --unit flags");
			goto out;
		}
		units = realloc(o->units, cap * sizeof(*units));
		if (units == NULL) {
			rc = CLI_EXIT_ERROR;
			goto out;
		}
		o->units = units;
		o->cap_units = cap;
	}
	o->units[o->n_units++] = id;
out:
	return rc;
}

static int token_opt(cli_ctx_t *ctx, int opt, const char *value, void *state)
{
	token_opts_t *o = state;
	int rc = CLI_EXIT_OK;
	switch (opt) {
	case 'n':
		if (o->name != NULL)
			rc = cli_usage_error(ctx, "--name given twice");
		o->name = value;
		break;
	case 'r':
		if (cli_role_parse(value, &o->role) < 0)
			rc = cli_usage_error(
				ctx, "unknown role \"%s\": use admin, operator or read-only",
				value);
		break;
	case 'o':
		o->org_wide = true;
		break;
	case 'u':
		rc = token_unit(ctx, o, value);
		break;
	default:
		rc = cli_usage_error(ctx, "unexpected option");
		break;
	}
	return rc;
}

int cli_cmd_tokens_create(cli_ctx_t *ctx, int argc, char **argv)
{
	static const struct option opts[] = {
		{"name", required_argument, NULL, 'n'},
		{"role", required_argument, NULL, 'r'},
		{"org-wide", no_argument, NULL, 'o'},
		{"unit", required_argument, NULL, 'u'},
		{NULL, 0, NULL, 0},
	};
	Ospay__V1__CreateTokenRequest req = OSPAY__V1__CREATE_TOKEN_REQUEST__INIT;
	Ospay__V1__CreateTokenResponse *resp = NULL;
	ProtobufCMessage *m = NULL;
	token_opts_t o = {NULL, OSPAY__V1__ROLE__ROLE_UNSPECIFIED, false, NULL, 0, 0};
	int first = 0;
	int rc = cli_getopt(ctx, argc, argv, opts, token_opt, &o, &first);
	if (rc == CLI_EXIT_OK)
		rc = cli_positionals(ctx, argc, first, 0, 0);
	if (rc != CLI_EXIT_OK)
		goto out;
	if (o.name == NULL)
		rc = cli_usage_error(ctx, "--name is required");
	else if (o.role == OSPAY__V1__ROLE__ROLE_UNSPECIFIED)
		rc = cli_usage_error(ctx, "--role is required");
	else if (o.org_wide && o.n_units > 0)
		rc = cli_usage_error(ctx, "--org-wide and --unit exclude each other");
	else if (!o.org_wide && o.n_units == 0)
		rc = cli_usage_error(ctx, "give --org-wide or at least one --unit ID");
	if (rc != CLI_EXIT_OK)
		goto out;
	req.name = (char *)o.name;
	req.role = (Ospay__V1__Role)o.role;
	req.org_wide = o.org_wide;
	req.n_unit_ids = o.n_units;
	req.unit_ids = o.units;
	rc = cli_call(ctx, "ospay.v1.Admin/CreateToken", &req.base,
		      &ospay__v1__create_token_response__descriptor, CLI_CALL_MUTATING, &m);
	resp = (Ospay__V1__CreateTokenResponse *)m;
	if (rc != CLI_EXIT_OK)
		goto out;
	if (ctx->json) {
		rc = cli_output_message(&resp->base);
		goto out;
	}
	rc = tokens_out(resp->token, false);
	if (rc == CLI_EXIT_OK) {
		printf("\nsecret: %s\n", resp->secret);
		fprintf(stderr, "The secret is shown only this once: store it now.\n");
	}
out:
	if (resp != NULL)
		protobuf_c_message_free_unpacked(&resp->base, NULL);
	free(o.units);
	return rc;
}

int cli_cmd_tokens_revoke(cli_ctx_t *ctx, int argc, char **argv)
{
	Ospay__V1__RevokeTokenRequest req = OSPAY__V1__REVOKE_TOKEN_REQUEST__INIT;
	Ospay__V1__RevokeTokenResponse *resp = NULL;
	ProtobufCMessage *m = NULL;
	int first = 0;
	int rc = cli_no_options(ctx, argc, argv, 1, 1, &first);
	if (rc != CLI_EXIT_OK)
		goto out;
	if (cli_parse_u64(argv[first], &req.token_id) < 0 || req.token_id == 0) {
		rc = cli_usage_error(ctx, "ID must be a token id, not \"%s\"", argv[first]);
		goto out;
	}
	rc = cli_call(ctx, "ospay.v1.Admin/RevokeToken", &req.base,
		      &ospay__v1__revoke_token_response__descriptor, CLI_CALL_MUTATING, &m);
	resp = (Ospay__V1__RevokeTokenResponse *)m;
	if (rc != CLI_EXIT_OK)
		goto out;
	rc = ctx->json ? cli_output_message(&resp->base) : tokens_out(resp->token, true);
out:
	if (resp != NULL)
		protobuf_c_message_free_unpacked(&resp->base, NULL);
	return rc;
}

/* ospay units ..., ospay tokens ...: the Admin service. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

#include "client/cli/cli.h"
#include "client/cli/dom.h"
#include "ospay/v1/admin.pb-c.h"

#define CLI_MAX_UNIT_FLAGS 10000u

static const dom_col_t unit_cols[] = {
	DOM_COL_RIGHT("ID", "id", DOM_C_NUM),
	DOM_COL("NAME", "name", DOM_C_TEXT),
	DOM_COL("CREATED", "created_ms", DOM_C_TIME),
	{NULL},
};

const dom_cmd_t cli_dom_units_list = {
	.method = "ospay.v1.Admin/ListUnits",
	.items = "units",
	.cols = unit_cols,
};

/* The unit in a table of one row, as units list shows it. */
static int unit_created(cli_ctx_t *ctx, const ProtobufCMessage *m)
{
	const Ospay__V1__Unit *u = ((const Ospay__V1__CreateUnitResponse *)m)->unit;
	(void)ctx;
	return u != NULL ? dom_print_row(unit_cols, dom_ncols(unit_cols), &u->base)
			 : CLI_EXIT_ERROR;
}

int cli_cmd_units_create(cli_ctx_t *ctx, int argc, char **argv)
{
	Ospay__V1__CreateUnitRequest req = OSPAY__V1__CREATE_UNIT_REQUEST__INIT;
	int rc = cli_one_arg(ctx, argc, argv, &req.name);
	if (rc != CLI_EXIT_OK)
		return rc;
	return dom_call_print(ctx, "ospay.v1.Admin/CreateUnit", &req.base,
			      &ospay__v1__create_unit_response__descriptor, CLI_CALL_MUTATING, NULL,
			      unit_created);
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

/* The new token, then its secret: the only time anyone sees it. */
static int token_created(cli_ctx_t *ctx, const ProtobufCMessage *m)
{
	const Ospay__V1__CreateTokenResponse *r = (const Ospay__V1__CreateTokenResponse *)m;
	int rc = tokens_out(r->token, false);
	(void)ctx;
	if (rc == CLI_EXIT_OK) {
		printf("\nsecret: %s\n", r->secret);
		fprintf(stderr, "The secret is shown only this once: store it now.\n");
	}
	return rc;
}

static int token_revoked(cli_ctx_t *ctx, const ProtobufCMessage *m)
{
	(void)ctx;
	return tokens_out(((const Ospay__V1__RevokeTokenResponse *)m)->token, true);
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
	rc = dom_call_print(ctx, "ospay.v1.Admin/CreateToken", &req.base,
			    &ospay__v1__create_token_response__descriptor, CLI_CALL_MUTATING, NULL,
			    token_created);
out:
	free(o.units);
	return rc;
}

int cli_cmd_tokens_revoke(cli_ctx_t *ctx, int argc, char **argv)
{
	Ospay__V1__RevokeTokenRequest req = OSPAY__V1__REVOKE_TOKEN_REQUEST__INIT;
	char *id = NULL;
	int rc = cli_one_arg(ctx, argc, argv, &id);
	if (rc != CLI_EXIT_OK)
		return rc;
	if (cli_parse_u64(id, &req.token_id) < 0 || req.token_id == 0)
		return cli_usage_error(ctx, "ID must be a token id, not \"%s\"", id);
	return dom_call_print(ctx, "ospay.v1.Admin/RevokeToken", &req.base,
			      &ospay__v1__revoke_token_response__descriptor, CLI_CALL_MUTATING,
			      NULL, token_revoked);
}

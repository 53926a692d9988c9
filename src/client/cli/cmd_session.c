/* ospay ping, ospay whoami: Session/Hello and what it answers. */
#include <inttypes.h>
#include <stdio.h>

#include "client/cli/cli.h"
#include "client/cli/pbjson.h"
#include "client/cli/table.h"

int cli_cmd_ping(cli_ctx_t *ctx, int argc, char **argv)
{
	ospay_sync_t *s = NULL;
	json_t *j = NULL;
	int first = 0;
	double ms = 0;
	int rc = cli_getopt(ctx, argc, argv, NULL, NULL, NULL, &first);
	if (rc == CLI_EXIT_OK)
		rc = cli_positionals(ctx, argc, first, 0, 0);
	if (rc == CLI_EXIT_OK)
		rc = cli_session(ctx, &s);
	if (rc != CLI_EXIT_OK)
		goto out;
	ms = (double)ctx->connect_ns / 1e6;
	if (ctx->json) {
		j = json_pack("{s:s, s:f}", "addr", ctx->addr, "rtt_ms", ms);
		rc = cli_output_json(j);
	} else {
		printf("pong from %s in %.3f ms\n", ctx->addr, ms);
	}
out:
	return rc;
}

int cli_cmd_whoami(cli_ctx_t *ctx, int argc, char **argv)
{
	static const char *const keys[] = {"organization", "token", "role", "scope"};
	const Ospay__V1__Principal *p = NULL;
	ospay_sync_t *s = NULL;
	cli_table_t *t = NULL;
	char org[320], tok[320], scope[512];
	int first = 0;
	int rc = cli_getopt(ctx, argc, argv, NULL, NULL, NULL, &first);
	if (rc == CLI_EXIT_OK)
		rc = cli_positionals(ctx, argc, first, 0, 0);
	if (rc == CLI_EXIT_OK)
		rc = cli_session(ctx, &s);
	if (rc != CLI_EXIT_OK)
		goto out;
	p = ospay_client_principal(ospay_sync_client(s));
	if (ctx->json) {
		rc = cli_output_message(&p->base);
		goto out;
	}
	if (p->organization != NULL)
		snprintf(org, sizeof(org), "%s (id %" PRIu64 ")", p->organization->name,
			 p->organization->id);
	else
		snprintf(org, sizeof(org), "?");
	if (p->token != NULL) {
		snprintf(tok, sizeof(tok), "%s (id %" PRIu64 ")", p->token->name, p->token->id);
		cli_scope_text(p->token, scope, sizeof(scope));
	} else {
		snprintf(tok, sizeof(tok), "?");
		snprintf(scope, sizeof(scope), "?");
	}
	const char *values[] = {org, tok, p->token ? cli_role_name(p->token->role) : "?", scope};
	t = cli_table_new(2, NULL);
	rc = t == NULL ? CLI_EXIT_ERROR : CLI_EXIT_OK;
	for (size_t i = 0; i < 4 && rc == CLI_EXIT_OK; i++) {
		const char *row[] = {keys[i], values[i]};
		if (cli_table_add(t, row) < 0)
			rc = CLI_EXIT_ERROR;
	}
	if (rc == CLI_EXIT_OK && cli_table_print(t, stdout) < 0)
		rc = CLI_EXIT_ERROR;
out:
	cli_table_free(t);
	return rc;
}

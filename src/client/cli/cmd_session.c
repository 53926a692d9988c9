/* ospay ping, whoami, clock: Session/Hello and what it answers; the Clock service. */
#include <inttypes.h>
#include <stdio.h>

#include "client/cli/cli.h"
#include "client/cli/dom.h"
#include "common/pbjson.h"
#include "client/cli/table.h"
#include "ospay/v1/clock.pb-c.h"

int cli_cmd_ping(cli_ctx_t *ctx, int argc, char **argv)
{
	ospay_sync_t *s = NULL;
	json_t *j = NULL;
	double ms = 0;
	int rc = cli_no_options(ctx, argc, argv, 0, 0, NULL);
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
	int rc = cli_no_options(ctx, argc, argv, 0, 0, NULL);
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

/* ------------------------------------------------------------------ clock */

/* Clock/Now and Clock/Advance both answer now_ms and now. */
static int clock_print(cli_ctx_t *ctx, const ProtobufCMessage *m)
{
	const char *p = (const char *)m;
	const ProtobufCFieldDescriptor *ms = dom_field(m->descriptor, "now_ms");
	const ProtobufCFieldDescriptor *now = dom_field(m->descriptor, "now");
	(void)ctx;
	printf("%s (%" PRId64 " ms)\n", *(char *const *)(p + now->offset),
	       *(const int64_t *)(p + ms->offset));
	return CLI_EXIT_OK;
}

const dom_cmd_t cli_dom_clock_now = {
	.method = "ospay.v1.Clock/Now",
	.print = clock_print,
};

/* "1d12h30m15s" -> ms; -1 when malformed or out of range. */
static int64_t clock_parse_duration(const char *s)
{
	int64_t total = 0;
	if (*s == '\0')
		return -1;
	while (*s != '\0') {
		int64_t n = 0, unit;
		if (*s < '0' || *s > '9')
			return -1;
		for (; *s >= '0' && *s <= '9'; s++) {
			n = n * 10 + (*s - '0');
			if (n > 100000000)
				return -1;
		}
		switch (*s++) {
		case 'd':
			unit = 86400000;
			break;
		case 'h':
			unit = 3600000;
			break;
		case 'm':
			unit = 60000;
			break;
		case 's':
			unit = 1000;
			break;
		default:
			return -1;
		}
		total += n * unit;
		if (total > INT64_C(400) * 86400000 * 366)
			return -1;
	}
	return total;
}

int cli_cmd_clock_advance(cli_ctx_t *ctx, int argc, char **argv)
{
	char *duration = NULL;
	Ospay__V1__AdvanceRequest req = OSPAY__V1__ADVANCE_REQUEST__INIT;
	int rc = cli_one_arg(ctx, argc, argv, &duration);
	if (rc != CLI_EXIT_OK)
		return rc;
	req.by_ms = clock_parse_duration(duration);
	if (req.by_ms <= 0)
		return cli_usage_error(ctx, "DURATION is like 90s, 30m, 2h, 1d or 1d12h");
	/* No idempotency key on Clock/Advance: a resend would move the clock twice. */
	return dom_call_print(ctx, "ospay.v1.Clock/Advance", &req.base,
			      &ospay__v1__advance_response__descriptor, CLI_CALL_ONCE, NULL,
			      clock_print);
}

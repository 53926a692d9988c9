/* The plumbing every ospay command shares: session, calls, errors, output, parsing. */
#include "client/cli/cli.h"

#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/pbjson.h"
#include "common/crypto.h"
#include "common/util.h"

#define CLI_RETRIES 2
#define CLI_RETRY_PAUSE_MS 250u

/*
 * The token is never printed; a server that echoes it back in an error
 * message must not make the CLI print it either.
 */
static void cli_redact(char *s, size_t cap)
{
	static const char mark[] = "[redacted]";
	const char *token = getenv("OSPAY_TOKEN");
	size_t tlen = token != NULL ? strlen(token) : 0;
	char *from = s;
	char *hit = NULL;
	/* Shorter "tokens" would match ordinary words; real ones are long. */
	if (tlen < 8)
		return;
	while ((hit = strstr(from, token)) != NULL) {
		size_t room = cap - 1 - (size_t)(hit - s);
		size_t keep = sizeof(mark) - 1 < room ? sizeof(mark) - 1 : room;
		size_t tail = strlen(hit + tlen);
		/* The mark may be longer than the token: the end of the text gives way. */
		if (keep + tail > room)
			tail = room - keep;
		memmove(hit + keep, hit + tlen, tail);
		memcpy(hit, mark, keep);
		hit[keep + tail] = '\0';
		from = hit + keep;
	}
}

void cli_print_status(const status_t *st)
{
	status_t copy = *st;
	cli_redact(copy.message, sizeof(copy.message));
	fprintf(stderr, "error: %s: %s\n", status_code_name(copy.code), copy.message);
	for (size_t i = 0; i < copy.n_violations; i++) {
		status_violation_t *v = &copy.violations[i];
		cli_redact(v->description, sizeof(v->description));
		fprintf(stderr, "  %s: %s\n", v->field, v->description);
	}
}

/* OSPAY_TLS=1 (with OSPAY_CA, optionally OSPAY_TLS_NAME) asks for TLS; anything
 * else but unset, "" or "0" is a usage error rather than a silent plaintext. */
static int cli_tls_opts(ospay_connect_opts_t *o)
{
	const char *tls = getenv("OSPAY_TLS");
	int rc = CLI_EXIT_OK;
	memset(o, 0, sizeof(*o));
	if (tls == NULL || tls[0] == '\0' || strcmp(tls, "0") == 0)
		goto out;
	if (strcmp(tls, "1") != 0) {
		fprintf(stderr, "error: OSPAY_TLS must be 1 or 0\n");
		rc = CLI_EXIT_USAGE;
		goto out;
	}
	o->tls = true;
	o->tls_ca_file = getenv("OSPAY_CA");
	o->tls_server_name = getenv("OSPAY_TLS_NAME");
	if (o->tls_ca_file == NULL || o->tls_ca_file[0] == '\0') {
		fprintf(stderr, "error: OSPAY_TLS=1 needs OSPAY_CA=<file>: the server's "
				"certificate (var/data/tls.crt) or its CA\n");
		rc = CLI_EXIT_USAGE;
	}
out:
	return rc;
}

int cli_session(cli_ctx_t *ctx, ospay_sync_t **out)
{
	const char *token = getenv("OSPAY_TOKEN");
	ospay_connect_opts_t co;
	status_t st;
	int rc = CLI_EXIT_OK;
	uint64_t t0 = 0;
	if (ctx->session != NULL)
		goto out;
	if (token == NULL || token[0] == '\0') {
		fprintf(stderr, "error: OSPAY_TOKEN is not set: export the API token first\n");
		rc = CLI_EXIT_USAGE;
		goto out;
	}
	rc = cli_tls_opts(&co);
	if (rc != CLI_EXIT_OK)
		goto out;
	t0 = uv_hrtime();
	if (ospay_sync_open_opts(ctx->addr, token, ctx->timeout_ms, &co, &ctx->session, &st) !=
	    ST_OK) {
		cli_print_status(&st);
		rc = CLI_EXIT_ERROR;
		goto out;
	}
	ctx->connect_ns = uv_hrtime() - t0;
out:
	*out = ctx->session;
	return rc;
}

static int cli_idempotency_key(char out[33])
{
	uint8_t raw[16];
	int rc = crypto_random(raw, sizeof(raw));
	if (rc == 0)
		crypto_hex(raw, sizeof(raw), out);
	return rc;
}

int cli_call(cli_ctx_t *ctx, const char *method, const ProtobufCMessage *req,
	     const ProtobufCMessageDescriptor *resp_desc, unsigned flags, ProtobufCMessage **resp)
{
	ospay_call_opts_t opts = {NULL, 0};
	ospay_sync_t *s = NULL;
	char key[33];
	status_t st;
	int rc = CLI_EXIT_OK;
	*resp = NULL;
	if (flags & CLI_CALL_MUTATING) {
		if (cli_idempotency_key(key) < 0) {
			fprintf(stderr, "error: no randomness for an idempotency key\n");
			rc = CLI_EXIT_ERROR;
			goto out;
		}
		opts.idempotency_key = key;
	}
	for (int attempt = 0;; attempt++) {
		rc = cli_session(ctx, &s);
		if (rc != CLI_EXIT_OK)
			goto out;
		if (ospay_sync_call(s, method, req, resp_desc, &opts, resp, &st) == ST_OK)
			goto out;
		/*
		 * UNAVAILABLE: the connection broke (or the server is draining).
		 * Whether the call ran is unknown, so it is sent again on a new
		 * connection; the idempotency key makes a mutation happen once.
		 */
		if (st.code != ST_UNAVAILABLE || attempt >= CLI_RETRIES || (flags & CLI_CALL_ONCE))
			break;
		ospay_sync_close(ctx->session);
		ctx->session = NULL;
		uv_sleep(CLI_RETRY_PAUSE_MS * (unsigned)(attempt + 1));
	}
	cli_print_status(&st);
	rc = CLI_EXIT_ERROR;
out:
	return rc;
}

static void cli_print_synopsis(FILE *f, const cli_command_t *cmd)
{
	fprintf(f, "usage: ospay %s%s%s%s%s\n", cmd->name, cmd->sub ? " " : "",
		cmd->sub ? cmd->sub : "", cmd->args[0] ? " " : "", cmd->args);
}

int cli_usage_error(const cli_ctx_t *ctx, const char *fmt, ...)
{
	va_list ap;
	fputs("error: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	if (ctx != NULL && ctx->cmd != NULL)
		cli_print_synopsis(stderr, ctx->cmd);
	return CLI_EXIT_USAGE;
}

int cli_getopt(cli_ctx_t *ctx, int argc, char **argv, const struct option *opts, cli_opt_fn on_opt,
	       void *state, int *first)
{
	static const struct option none[] = {{NULL, 0, NULL, 0}};
	int rc = CLI_EXIT_OK;
	int c = 0;
	/* getopt keeps state in globals; each handler parses from a clean start. */
	optind = 0;
	opterr = 0;
	for (;;) {
		int index = -1;
		c = getopt_long(argc, argv, ":", opts != NULL ? opts : none, &index);
		if (c == -1)
			break;
		if (c == '?') {
			rc = cli_usage_error(ctx, "unknown option %s", argv[optind - 1]);
			goto out;
		}
		if (c == ':') {
			rc = cli_usage_error(ctx, "%s needs a value", argv[optind - 1]);
			goto out;
		}
		rc = on_opt(ctx, c, optarg, state);
		if (rc != CLI_EXIT_OK)
			goto out;
	}
	*first = optind;
out:
	return rc;
}

int cli_positionals(const cli_ctx_t *ctx, int argc, int first, int min, int max)
{
	int n = argc - first;
	if (n < min)
		return cli_usage_error(ctx, "missing argument");
	if (n > max)
		return cli_usage_error(ctx, "too many arguments");
	return CLI_EXIT_OK;
}

int cli_no_options(cli_ctx_t *ctx, int argc, char **argv, int min, int max, int *first)
{
	int at = 0;
	int rc = cli_getopt(ctx, argc, argv, NULL, NULL, NULL, &at);
	if (rc == CLI_EXIT_OK)
		rc = cli_positionals(ctx, argc, at, min, max);
	if (first != NULL)
		*first = at;
	return rc;
}

int cli_one_arg(cli_ctx_t *ctx, int argc, char **argv, char **arg)
{
	int first = 0;
	int rc = cli_no_options(ctx, argc, argv, 1, 1, &first);
	if (rc == CLI_EXIT_OK)
		*arg = argv[first];
	return rc;
}

int cli_output_json(json_t *j)
{
	int rc = CLI_EXIT_OK;
	if (j == NULL || json_dumpf(j, stdout, JSON_INDENT(2)) != 0 || fputc('\n', stdout) == EOF) {
		fprintf(stderr, "error: cannot write JSON output\n");
		rc = CLI_EXIT_ERROR;
	}
	json_decref(j);
	return rc;
}

int cli_output_message(const ProtobufCMessage *m)
{
	return cli_output_json(pbjson_from_message(m, PBJSON_CLI));
}

int cli_parse_u64(const char *s, uint64_t *out)
{
	uint64_t v = 0;
	if (s == NULL || s[0] == '\0')
		return -EINVAL;
	for (const char *p = s; *p != '\0'; p++) {
		unsigned d = (unsigned)(*p - '0');
		if (*p < '0' || *p > '9' || v > (UINT64_MAX - d) / 10)
			return -EINVAL;
		v = v * 10 + d;
	}
	*out = v;
	return 0;
}

int cli_parse_u32(const char *s, uint32_t *out)
{
	uint64_t v = 0;
	if (cli_parse_u64(s, &v) < 0 || v > UINT32_MAX)
		return -EINVAL;
	*out = (uint32_t)v;
	return 0;
}

static const struct {
	int role;
	const char *name;
} cli_roles[] = {
	{OSPAY__V1__ROLE__ROLE_ADMIN, "admin"},
	{OSPAY__V1__ROLE__ROLE_OPERATOR, "operator"},
	{OSPAY__V1__ROLE__ROLE_READ_ONLY, "read-only"},
};

const char *cli_role_name(int role)
{
	for (size_t i = 0; i < OSPAY_ARRAY_LEN(cli_roles); i++) {
		if (cli_roles[i].role == role)
			return cli_roles[i].name;
	}
	return "unspecified";
}

int cli_role_parse(const char *s, int *role)
{
	for (size_t i = 0; i < OSPAY_ARRAY_LEN(cli_roles); i++) {
		if (strcmp(cli_roles[i].name, s) == 0) {
			*role = cli_roles[i].role;
			return 0;
		}
	}
	return -EINVAL;
}

void cli_scope_text(const Ospay__V1__Token *t, char *out, size_t n)
{
	size_t used = 0;
	if (n == 0)
		return;
	out[0] = '\0';
	if (t->org_wide) {
		snprintf(out, n, "org-wide");
		return;
	}
	used = (size_t)snprintf(out, n, "%s", t->n_unit_ids == 1 ? "unit" : "units");
	for (size_t i = 0; i < t->n_unit_ids && used < n; i++) {
		char one[32];
		int k = snprintf(one, sizeof(one), "%s%" PRIu64, i ? ", " : " ", t->unit_ids[i]);
		/* Leave room for "..." so a cut list says it was cut. */
		if (used + (size_t)k + 4 > n) {
			snprintf(out + used, n - used, "...");
			return;
		}
		memcpy(out + used, one, (size_t)k + 1);
		used += (size_t)k;
	}
}

void cli_time_text(int64_t ms, char *out, size_t n)
{
	if (ms != 0)
		util_rfc3339(ms, out, n);
	else if (n > 0)
		out[0] = '\0';
}

/* ---- help, generated from the table */

#define CLI_HELP_COL 36

void cli_print_usage(FILE *f)
{
	fputs("usage: ospay [--json] [--addr HOST:PORT] [--timeout-ms N] COMMAND [ARGS]\n"
	      "\n"
	      "Talks to ospayd over its RPC protocol.\n"
	      "\n"
	      "Commands:\n",
	      f);
	for (size_t i = 0; i < cli_n_commands; i++) {
		const cli_command_t *c = &cli_commands[i];
		char words[256];
		int k = snprintf(words, sizeof(words), "%s%s%s%s%s", c->name, c->sub ? " " : "",
				 c->sub ? c->sub : "", c->args[0] ? " " : "", c->args);
		if (k + 2 < CLI_HELP_COL)
			fprintf(f, "  %-*s%s\n", CLI_HELP_COL - 2, words, c->summary);
		else
			fprintf(f, "  %s\n  %-*s%s\n", words, CLI_HELP_COL - 2, "", c->summary);
	}
	fprintf(f,
		"  %-*s%s\n"
		"\n"
		"Global flags (anywhere on the line, before a lone --):\n"
		"  --json             print JSON for scripts: .proto field names, enums by name,\n"
		"                     64-bit integers as numbers, bytes as base64\n"
		"  --addr HOST:PORT   server address (default: $OSPAY_ADDR, else %s)\n"
		"  --timeout-ms N     give up on the connection or a call after N ms (default %u)\n"
		"  --help, -h         this text, or a command's (ospay units create --help)\n"
		"\n"
		"Environment:\n"
		"  OSPAY_ADDR         server address\n"
		"  OSPAY_TOKEN        API token (required; never printed)\n"
		"  OSPAY_TLS          1: connect with TLS (a server started with --rpc-tls)\n"
		"  OSPAY_CA           with OSPAY_TLS=1: the PEM file to trust (the server's\n"
		"                     var/data/tls.crt, or its CA)\n"
		"  OSPAY_TLS_NAME     the name the certificate must carry (default: the host\n"
		"                     of the address; localhost for an IP address)\n"
		"\n"
		"Exit status: 0 ok, 1 error from the server or the connection, 2 usage error.\n",
		CLI_HELP_COL - 2, "help [COMMAND]", "show this help or a command's",
		CLI_DEFAULT_ADDR, CLI_DEFAULT_TIMEOUT_MS);
}

void cli_print_command_help(FILE *f, const cli_command_t *cmd)
{
	cli_print_synopsis(f, cmd);
	fprintf(f, "\n%s.\n", cmd->summary);
	if (cmd->details != NULL)
		fprintf(f, "\n%s", cmd->details);
}

void cli_print_group_help(FILE *f, const char *name)
{
	fprintf(f, "usage: ospay %s SUBCOMMAND\n\n", name);
	for (size_t i = 0; i < cli_n_commands; i++) {
		const cli_command_t *c = &cli_commands[i];
		if (strcmp(c->name, name) == 0 && c->sub != NULL)
			fprintf(f, "  ospay %s %s%s%s\n      %s\n", c->name, c->sub,
				c->args[0] ? " " : "", c->args, c->summary);
	}
}

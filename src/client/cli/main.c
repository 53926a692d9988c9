/*
 * ospay: the command line. Global flags are taken out of argv wherever they
 * appear (before a lone "--"), the command is found in cli_commands[], and its
 * handler gets the rest.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "client/cli/cli.h"
#include "client/cli/dom.h"

typedef struct cli_args {
	char **argv; /* what is left for the command */
	int argc;
	bool help;
} cli_args_t;

/* "--flag VALUE" or "--flag=VALUE": the value, advancing *i; NULL when not this flag. */
static const char *global_value(char **argv, int argc, int *i, const char *flag, bool *missing)
{
	size_t n = strlen(flag);
	const char *a = argv[*i];
	const char *v = NULL;
	if (strncmp(a, flag, n) == 0 && a[n] == '=') {
		v = a + n + 1;
	} else if (strcmp(a, flag) == 0) {
		if (*i + 1 < argc) {
			*i += 1;
			v = argv[*i];
		} else {
			*missing = true;
		}
	}
	return v;
}

static int parse_globals(cli_ctx_t *ctx, int argc, char **argv, cli_args_t *out)
{
	bool dashdash = false;
	int rc = CLI_EXIT_OK;
	out->argv = calloc((size_t)argc + 1, sizeof(*out->argv));
	if (out->argv == NULL) {
		rc = CLI_EXIT_ERROR;
		goto out;
	}
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		const char *v = NULL;
		bool missing = false;
		if (dashdash || a[0] != '-') {
			out->argv[out->argc++] = argv[i];
			continue;
		}
		if (strcmp(a, "--") == 0) {
			/* Kept: the command's option parser must see it too. */
			dashdash = true;
			out->argv[out->argc++] = argv[i];
			continue;
		}
		if (strcmp(a, "--json") == 0) {
			ctx->json = true;
			continue;
		}
		if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
			out->help = true;
			continue;
		}
		v = global_value(argv, argc, &i, "--addr", &missing);
		if (v != NULL) {
			ctx->addr = v;
			continue;
		}
		if (!missing)
			v = global_value(argv, argc, &i, "--timeout-ms", &missing);
		if (v != NULL) {
			if (cli_parse_u32(v, &ctx->timeout_ms) < 0 || ctx->timeout_ms == 0) {
				rc = cli_usage_error(NULL, "--timeout-ms needs a positive number");
				goto out;
			}
			continue;
		}
		if (missing) {
			rc = cli_usage_error(NULL, "%s needs a value", a);
			goto out;
		}
		out->argv[out->argc++] = argv[i];
	}
out:
	return rc;
}

static const cli_command_t *find_command(const char *name, const char *sub, bool *group)
{
	const cli_command_t *found = NULL;
	*group = false;
	for (size_t i = 0; i < cli_n_commands && found == NULL; i++) {
		const cli_command_t *c = &cli_commands[i];
		if (strcmp(c->name, name) != 0)
			continue;
		if (c->sub == NULL)
			found = c;
		else if (sub != NULL && strcmp(c->sub, sub) == 0)
			found = c;
		else
			*group = true;
	}
	return found;
}

/* `ospay help [COMMAND [SUB]]`. */
static int run_help(int argc, char **argv)
{
	const cli_command_t *c = NULL;
	bool group = false;
	int rc = CLI_EXIT_OK;
	if (argc < 2) {
		cli_print_usage(stdout);
		goto out;
	}
	c = find_command(argv[1], argc > 2 ? argv[2] : NULL, &group);
	if (c != NULL) {
		cli_print_command_help(stdout, c);
	} else if (group) {
		cli_print_group_help(stdout, argv[1]);
	} else {
		rc = cli_usage_error(NULL, "no command \"%s\" (see ospay help)", argv[1]);
	}
out:
	return rc;
}

int main(int argc, char **argv)
{
	cli_ctx_t ctx;
	cli_args_t args = {NULL, 0, false};
	const cli_command_t *cmd = NULL;
	bool group = false;
	int used = 0;
	int rc = CLI_EXIT_OK;
	memset(&ctx, 0, sizeof(ctx));
	ctx.addr = getenv("OSPAY_ADDR");
	if (ctx.addr == NULL || ctx.addr[0] == '\0')
		ctx.addr = CLI_DEFAULT_ADDR;
	ctx.timeout_ms = CLI_DEFAULT_TIMEOUT_MS;
	rc = parse_globals(&ctx, argc, argv, &args);
	if (rc != CLI_EXIT_OK)
		goto out;
	if (args.argc == 0) {
		cli_print_usage(args.help ? stdout : stderr);
		rc = args.help ? CLI_EXIT_OK : CLI_EXIT_USAGE;
		goto out;
	}
	if (strcmp(args.argv[0], "help") == 0) {
		rc = run_help(args.argc, args.argv);
		goto out;
	}
	cmd = find_command(args.argv[0], args.argc > 1 ? args.argv[1] : NULL, &group);
	if (cmd == NULL && group) {
		if (!args.help && args.argc > 1)
			fprintf(stderr, "error: no subcommand \"%s %s\"\n", args.argv[0],
				args.argv[1]);
		cli_print_group_help(args.help ? stdout : stderr, args.argv[0]);
		rc = args.help ? CLI_EXIT_OK : CLI_EXIT_USAGE;
		goto out;
	}
	if (cmd == NULL) {
		rc = cli_usage_error(NULL, "no command \"%s\" (see ospay help)", args.argv[0]);
		goto out;
	}
	if (args.help) {
		cli_print_command_help(stdout, cmd);
		goto out;
	}
	ctx.cmd = cmd;
	/* The handler's argv[0] is its last command word; its arguments follow. */
	used = cmd->sub != NULL ? 1 : 0;
	rc = cmd->run != NULL ? cmd->run(&ctx, args.argc - used, args.argv + used)
			      : dom_run(&ctx, args.argc - used, args.argv + used, cmd->dom);
out:
	ospay_sync_close(ctx.session);
	if (fflush(stdout) != 0 && rc == CLI_EXIT_OK) {
		fprintf(stderr, "error: writing output: %s\n", strerror(errno));
		rc = CLI_EXIT_ERROR;
	}
	free(args.argv);
	return rc;
}

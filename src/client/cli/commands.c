/* Every ospay command, in the order `ospay help` lists them. */
#include "client/cli/cli.h"

const cli_command_t cli_commands[] = {
	{"ping", NULL, cli_cmd_ping, "", "connect, say Hello and print the round-trip time",
	 "Measures connecting and authenticating (TCP connect + Session/Hello).\n"},
	{"whoami", NULL, cli_cmd_whoami, "", "show the token's organization, role and unit scope",
	 NULL},
	{"units", "list", cli_cmd_units_list, "", "list the organization's units (every page)",
	 NULL},
	{"units", "create", cli_cmd_units_create, "NAME", "create a unit",
	 "NAME may contain spaces and accents when quoted: ospay units create \"São Paulo\".\n"},
	{"tokens", "create", cli_cmd_tokens_create,
	 "--name N --role admin|operator|read-only (--org-wide | --unit ID [--unit ID...])",
	 "create an API token and print its secret, once",
	 "The secret is printed this once (the server keeps only a keyed hash): store it now.\n"
	 "--org-wide lets the token see every unit; otherwise give each unit with --unit.\n"},
	{"tokens", "revoke", cli_cmd_tokens_revoke, "ID", "revoke a token", NULL},
};

const size_t cli_n_commands = sizeof(cli_commands) / sizeof(cli_commands[0]);

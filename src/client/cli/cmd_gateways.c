/*
 * ospay gateways set|get, ospay notifier set: an organization's external
 * services. Credentials come from a JSON file (or "-" for standard input), so
 * secrets never sit on a command line, in shell history or in `ps`.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "client/cli/cli.h"
#include "client/cli/dom.h"
#include "ospay/v1/admin.pb-c.h"
#include "ospay/v1/gateway.pb-c.h"

#define CRED_FIELDS 8
#define CRED_HEADERS 3

typedef struct gw_opts {
	int kind;
	int channel;
	const char *base_url;
	const char *query_base_url;
	const char *soft_descriptor;
	const char *credentials; /* path or "-" */
	bool allow_recurrence;
} gw_opts_t;

/* Credentials read from JSON; strings owned by the json_t kept alongside. */
typedef struct creds {
	json_t *root;
	Ospay__V1__GatewayCredentials msg;
	Ospay__V1__HeaderPair pairs[CRED_HEADERS];
	Ospay__V1__HeaderPair *pairp[CRED_HEADERS];
} creds_t;

static int kind_parse(const char *s)
{
	if (strcmp(s, "pagolivre") == 0)
		return OSPAY__V1__GATEWAY_KIND__GATEWAY_KIND_PAGOLIVRE;
	if (strcmp(s, "cielo") == 0)
		return OSPAY__V1__GATEWAY_KIND__GATEWAY_KIND_CIELO;
	if (strcmp(s, "getnet") == 0)
		return OSPAY__V1__GATEWAY_KIND__GATEWAY_KIND_GETNET;
	return 0;
}

static const char *kind_name(int k)
{
	static const char *const names[] = {"?", "pagolivre", "cielo", "getnet"};
	return k >= 1 && k <= 3 ? names[k] : "?";
}

/* Reads {"merchant_id": ..., "webhook_headers": {"Name": "value"}} into c. */
static int creds_load(cli_ctx_t *ctx, const char *path, creds_t *c)
{
	static const char *const keys[CRED_FIELDS] = {"merchant_id",   "merchant_key", "client_id",
						      "client_secret", "seller_id",    "api_token",
						      "api_key",       "api_secret"};
	json_error_t err;
	ospay__v1__gateway_credentials__init(&c->msg);
	c->root =
		strcmp(path, "-") == 0 ? json_loadf(stdin, 0, &err) : json_load_file(path, 0, &err);
	if (c->root == NULL || !json_is_object(c->root))
		return cli_usage_error(ctx, "--credentials: not a JSON object (line %d: %s)",
				       err.line, err.text);
	char **dst[CRED_FIELDS] = {&c->msg.merchant_id,   &c->msg.merchant_key, &c->msg.client_id,
				   &c->msg.client_secret, &c->msg.seller_id,    &c->msg.api_token,
				   &c->msg.api_key,       &c->msg.api_secret};
	const char *key;
	json_t *v;
	json_object_foreach(c->root, key, v)
	{
		bool known = strcmp(key, "webhook_headers") == 0;
		for (size_t i = 0; i < CRED_FIELDS && !known; i++) {
			if (strcmp(key, keys[i]) != 0)
				continue;
			if (!json_is_string(v))
				return cli_usage_error(ctx, "--credentials: %s must be a string",
						       key);
			*dst[i] = (char *)json_string_value(v);
			known = true;
		}
		if (!known)
			return cli_usage_error(ctx, "--credentials: unknown field %s", key);
	}
	json_t *h = json_object_get(c->root, "webhook_headers");
	if (h != NULL) {
		if (!json_is_object(h) || json_object_size(h) > CRED_HEADERS)
			return cli_usage_error(ctx,
					       "--credentials: webhook_headers must be an "
					       "object of at most 3 \"Name\": \"value\" pairs");
		json_object_foreach(h, key, v)
		{
			if (!json_is_string(v))
				return cli_usage_error(ctx,
						       "--credentials: header values are strings");
			size_t i = c->msg.n_webhook_headers++;
			ospay__v1__header_pair__init(&c->pairs[i]);
			c->pairs[i].name = (char *)key;
			c->pairs[i].value = (char *)json_string_value(v);
			c->pairp[i] = &c->pairs[i];
		}
		c->msg.webhook_headers = c->pairp;
	}
	return CLI_EXIT_OK;
}

static void creds_free(creds_t *c)
{
	json_decref(c->root);
}

static int gw_opt(cli_ctx_t *ctx, int opt, const char *value, void *state)
{
	gw_opts_t *o = state;
	switch (opt) {
	case 'b':
		o->base_url = value;
		break;
	case 'q':
		o->query_base_url = value;
		break;
	case 's':
		o->soft_descriptor = value;
		break;
	case 'c':
		o->credentials = value;
		break;
	case 'r':
		o->allow_recurrence = true;
		break;
	case 'w':
		if (strcmp(value, "whatsapp") == 0)
			o->channel = OSPAY__V1__NOTIFIER_CHANNEL__NOTIFIER_CHANNEL_WHATSAPP;
		else if (strcmp(value, "sms") == 0)
			o->channel = OSPAY__V1__NOTIFIER_CHANNEL__NOTIFIER_CHANNEL_SMS;
		else
			return cli_usage_error(ctx, "--channel is whatsapp or sms");
		break;
	default:
		return CLI_EXIT_USAGE;
	}
	return CLI_EXIT_OK;
}

static int gateway_out(cli_ctx_t *ctx, const ProtobufCMessage *m)
{
	const Ospay__V1__Gateway *g = (const Ospay__V1__Gateway *)m;
	char updated[40];
	(void)ctx;
	cli_time_text(g->updated_ms, updated, sizeof(updated));
	printf("service                     %s\n", kind_name(g->kind));
	printf("base url                    %s\n", g->base_url);
	if (g->query_base_url[0] != '\0')
		printf("query base url              %s\n", g->query_base_url);
	printf("credentials                 %s\n",
	       g->credentials_set ? "set (never shown)" : "none");
	printf("automatic recurrence        %s\n", g->allow_automatic_recurrence ? "yes" : "no");
	if (g->soft_descriptor[0] != '\0')
		printf("soft descriptor             %s\n", g->soft_descriptor);
	printf("webhook path                %s\n", g->webhook_path);
	printf("updated                     %s\n", updated);
	return CLI_EXIT_OK;
}

int cli_cmd_gateways_set(cli_ctx_t *ctx, int argc, char **argv)
{
	static const struct option longopts[] = {
		{"base-url", required_argument, NULL, 'b'},
		{"query-base-url", required_argument, NULL, 'q'},
		{"soft-descriptor", required_argument, NULL, 's'},
		{"credentials", required_argument, NULL, 'c'},
		{"allow-automatic-recurrence", no_argument, NULL, 'r'},
		{NULL, 0, NULL, 0}};
	gw_opts_t o = {0};
	creds_t c = {0};
	int first = 0;
	int rc = cli_getopt(ctx, argc, argv, longopts, gw_opt, &o, &first);
	if (rc == CLI_EXIT_OK)
		rc = cli_positionals(ctx, argc, first, 1, 1);
	if (rc != CLI_EXIT_OK)
		goto out;
	o.kind = kind_parse(argv[first]);
	if (o.kind == 0) {
		rc = cli_usage_error(ctx, "the service is pagolivre, cielo or getnet");
		goto out;
	}
	Ospay__V1__SetGatewayRequest req = OSPAY__V1__SET_GATEWAY_REQUEST__INIT;
	req.kind = o.kind;
	req.base_url = (char *)(o.base_url ? o.base_url : "");
	req.query_base_url = (char *)(o.query_base_url ? o.query_base_url : "");
	req.soft_descriptor = (char *)(o.soft_descriptor ? o.soft_descriptor : "");
	req.allow_automatic_recurrence = o.allow_recurrence;
	if (o.credentials != NULL) {
		rc = creds_load(ctx, o.credentials, &c);
		if (rc != CLI_EXIT_OK)
			goto out;
		req.credentials = &c.msg;
	}
	rc = dom_call_print(ctx, "ospay.v1.Admin/SetGateway", &req.base,
			    &ospay__v1__set_gateway_response__descriptor, CLI_CALL_MUTATING,
			    "gateway", gateway_out);
out:
	creds_free(&c);
	return rc;
}

int cli_cmd_gateways_get(cli_ctx_t *ctx, int argc, char **argv)
{
	int first = 0;
	int rc = cli_no_options(ctx, argc, argv, 1, 1, &first);
	if (rc != CLI_EXIT_OK)
		return rc;
	Ospay__V1__GetGatewayRequest req = OSPAY__V1__GET_GATEWAY_REQUEST__INIT;
	req.kind = kind_parse(argv[first]);
	if (req.kind == 0)
		return cli_usage_error(ctx, "the service is pagolivre, cielo or getnet");
	return dom_call_print(ctx, "ospay.v1.Admin/GetGateway", &req.base,
			      &ospay__v1__get_gateway_response__descriptor, 0, "gateway",
			      gateway_out);
}

static int notifier_out(cli_ctx_t *ctx, const ProtobufCMessage *m)
{
	const Ospay__V1__Notifier *n = (const Ospay__V1__Notifier *)m;
	(void)ctx;
	printf("notifier      zapme (%s)\n",
	       n->channel == OSPAY__V1__NOTIFIER_CHANNEL__NOTIFIER_CHANNEL_SMS ? "sms"
									       : "whatsapp");
	printf("base url      %s\n", n->base_url);
	printf("credentials   set (never shown)\n");
	printf("webhook path  %s\n", n->webhook_path);
	return CLI_EXIT_OK;
}

int cli_cmd_notifier_set(cli_ctx_t *ctx, int argc, char **argv)
{
	static const struct option longopts[] = {{"base-url", required_argument, NULL, 'b'},
						 {"channel", required_argument, NULL, 'w'},
						 {"credentials", required_argument, NULL, 'c'},
						 {NULL, 0, NULL, 0}};
	gw_opts_t o = {.channel = OSPAY__V1__NOTIFIER_CHANNEL__NOTIFIER_CHANNEL_WHATSAPP};
	creds_t c = {0};
	int first = 0;
	int rc = cli_getopt(ctx, argc, argv, longopts, gw_opt, &o, &first);
	if (rc == CLI_EXIT_OK)
		rc = cli_positionals(ctx, argc, first, 0, 0);
	if (rc != CLI_EXIT_OK)
		goto out;
	Ospay__V1__SetNotifierRequest req = OSPAY__V1__SET_NOTIFIER_REQUEST__INIT;
	req.base_url = (char *)(o.base_url ? o.base_url : "");
	req.channel = o.channel;
	if (o.credentials != NULL) {
		rc = creds_load(ctx, o.credentials, &c);
		if (rc != CLI_EXIT_OK)
			goto out;
		req.credentials = &c.msg;
	}
	rc = dom_call_print(ctx, "ospay.v1.Admin/SetNotifier", &req.base,
			    &ospay__v1__set_notifier_response__descriptor, CLI_CALL_MUTATING,
			    "notifier", notifier_out);
out:
	creds_free(&c);
	return rc;
}

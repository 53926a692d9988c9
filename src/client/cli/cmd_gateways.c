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
#include "common/crypto.h"
#include "common/pbjson.h"
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
	/* Pix: the mutual-TLS identity's PEM files and the PixSettings JSON file. */
	const char *client_cert;
	const char *client_key;
	const char *pix;
} gw_opts_t;

#define PEM_FILE_MAX (64 * 1024)

/* Credentials read from JSON; strings owned by the json_t kept alongside. */
typedef struct creds {
	json_t *root;
	char *cert_pem, *key_pem; /* read from --client-cert / --client-key */
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
	if (strcmp(s, "pix") == 0)
		return OSPAY__V1__GATEWAY_KIND__GATEWAY_KIND_PIX_AUTOMATICO;
	return 0;
}

#define KIND_USAGE "the service is pagolivre, cielo, getnet or pix"

static const char *kind_name(int k)
{
	static const char *const names[] = {"?", "pagolivre", "cielo", "getnet", "?", "pix"};
	return k >= 1 && k <= 5 ? names[k] : "?";
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

/* A whole text file of at most PEM_FILE_MAX bytes, NUL-terminated (caller frees). */
static int file_text(cli_ctx_t *ctx, const char *opt, const char *path, char **out)
{
	FILE *f = fopen(path, "rb");
	char *buf = NULL;
	size_t n = 0;
	if (f == NULL)
		return cli_usage_error(ctx, "%s: cannot open %s: %s", opt, path, strerror(errno));
	buf = malloc(PEM_FILE_MAX + 1);
	if (buf != NULL)
		n = fread(buf, 1, PEM_FILE_MAX + 1, f);
	fclose(f);
	if (buf == NULL || n == 0 || n > PEM_FILE_MAX || memchr(buf, '\0', n) != NULL) {
		if (buf != NULL)
			crypto_wipe(buf, PEM_FILE_MAX + 1);
		free(buf);
		return cli_usage_error(ctx, "%s: %s is empty, binary or larger than %d bytes", opt,
				       path, PEM_FILE_MAX);
	}
	buf[n] = '\0';
	*out = buf;
	return CLI_EXIT_OK;
}

/* The PEM files of --client-cert and --client-key, into the credentials. */
static int creds_pems(cli_ctx_t *ctx, const gw_opts_t *o, creds_t *c)
{
	int rc;
	if ((o->client_cert == NULL) != (o->client_key == NULL))
		return cli_usage_error(ctx, "--client-cert and --client-key go together");
	if (o->client_cert == NULL)
		return CLI_EXIT_OK;
	if (c->root == NULL)
		return cli_usage_error(ctx,
				       "--client-cert needs --credentials (client id, secret)");
	rc = file_text(ctx, "--client-cert", o->client_cert, &c->cert_pem);
	if (rc == CLI_EXIT_OK)
		rc = file_text(ctx, "--client-key", o->client_key, &c->key_pem);
	c->msg.client_certificate_pem = c->cert_pem;
	c->msg.client_key_pem = c->key_pem;
	return rc;
}

static void creds_free(creds_t *c)
{
	if (c->key_pem != NULL)
		crypto_wipe(c->key_pem, strlen(c->key_pem));
	free(c->key_pem);
	free(c->cert_pem);
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
	case 'C':
		o->client_cert = value;
		break;
	case 'K':
		o->client_key = value;
		break;
	case 'p':
		o->pix = value;
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
	if (g->pix != NULL) {
		const Ospay__V1__PixSettings *p = g->pix;
		printf("pix profile                 %s\n", p->profile[0] ? p->profile : "bcb");
		printf("pix account                 %s%s%s (%s)\n", p->branch,
		       p->branch[0] ? "/" : "", p->account,
		       p->account_type[0] ? p->account_type : "CORRENTE");
		printf("pix callbacks               %s%s\n", p->callback_base_url, g->webhook_path);
		printf("pix new authorizations      %s\n",
		       p->no_retries ? "NAO_PERMITE (no retries)" : "PERMITE_3R_7D (retries)");
	}
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
		{"client-cert", required_argument, NULL, 'C'},
		{"client-key", required_argument, NULL, 'K'},
		{"pix", required_argument, NULL, 'p'},
		{NULL, 0, NULL, 0}};
	gw_opts_t o = {0};
	creds_t c = {0};
	ProtobufCMessage *pix = NULL;
	int first = 0;
	int rc = cli_getopt(ctx, argc, argv, longopts, gw_opt, &o, &first);
	if (rc == CLI_EXIT_OK)
		rc = cli_positionals(ctx, argc, first, 1, 1);
	if (rc != CLI_EXIT_OK)
		goto out;
	o.kind = kind_parse(argv[first]);
	if (o.kind == 0) {
		rc = cli_usage_error(ctx, KIND_USAGE);
		goto out;
	}
	if ((o.pix != NULL || o.client_cert != NULL) &&
	    o.kind != OSPAY__V1__GATEWAY_KIND__GATEWAY_KIND_PIX_AUTOMATICO) {
		rc = cli_usage_error(ctx, "--pix and --client-cert are for pix only");
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
	rc = creds_pems(ctx, &o, &c);
	if (rc != CLI_EXIT_OK)
		goto out;
	if (o.pix != NULL) {
		char *text = NULL;
		rc = file_text(ctx, "--pix", o.pix, &text);
		if (rc != CLI_EXIT_OK)
			goto out;
		pbjson_err_t err;
		int e = pbjson_parse(text, strlen(text), &ospay__v1__pix_settings__descriptor, &pix,
				     &err);
		free(text);
		if (e != 0) {
			rc = cli_usage_error(ctx, "--pix: not PixSettings JSON (%s: %s)", err.path,
					     err.reason);
			goto out;
		}
		req.pix = (Ospay__V1__PixSettings *)pix;
	}
	rc = dom_call_print(ctx, "ospay.v1.Admin/SetGateway", &req.base,
			    &ospay__v1__set_gateway_response__descriptor, CLI_CALL_MUTATING,
			    "gateway", gateway_out);
out:
	protobuf_c_message_free_unpacked(pix, NULL);
	creds_free(&c);
	return rc;
}

int cli_cmd_gateways_get(cli_ctx_t *ctx, int argc, char **argv)
{
	char *kind = NULL;
	int rc = cli_one_arg(ctx, argc, argv, &kind);
	if (rc != CLI_EXIT_OK)
		return rc;
	Ospay__V1__GetGatewayRequest req = OSPAY__V1__GET_GATEWAY_REQUEST__INIT;
	req.kind = kind_parse(kind);
	if (req.kind == 0)
		return cli_usage_error(ctx, KIND_USAGE);
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

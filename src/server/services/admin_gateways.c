/*
 * Admin/SetGateway, GetGateway, SetNotifier: an organization's external
 * services. Credentials are sealed with the vault (AES-256-GCM under a key
 * derived from the master key, bound to the organization and service) and
 * never returned, logged or echoed in an error.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/log.h"
#include "common/util.h"
#include "core/netaddr.h"
#include "net/tls.h"
#include "core/vault.h"
#include "gateways/gateway.h"
#include "ospay/v1/admin.pb-c.h"
#include "ospay/v1/gateway.pb-c.h"
#include "server/db/db.h"
#include "server/providers/adapters.h"
#include "server/providers/pix_settings.h"
#include "server/rpc/kit.h"
#include "server/rpc/srv.h"
#include "server/services/services.h"

#define URL_MAX 512
#define CRED_MAX 512
#define SOFT_DESCRIPTOR_MAX 13
#define HEADERS_MAX 3
#define PEM_MAX (16 * 1024)
#define WEBHOOK_SECRET_BYTES 24

/* ------------------------------------------------------------------ validation */

/*
 * A service URL: http(s), bounded, no spaces; its host must not be this
 * machine or its network (loopback, private, link-local such as the cloud
 * metadata address, unspecified), written in any form, unless the operator
 * allowed it (--allow-private-gateways). Names are checked again on every
 * connection (the HTTP client refuses such addresses too).
 */
static void check_url(srv_req_t *r, const char *field, const char *url, bool required)
{
	size_t n = strlen(url);
	netaddr_origin_t o;
	if (n == 0) {
		if (required)
			status_violation(&r->st, field, "required");
		return;
	}
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)url[i] <= ' ' || url[i] == 0x7f) {
			status_violation(&r->st, field, "no spaces or control characters");
			return;
		}
	const char *why = netaddr_url_origin(url, &o);
	if (n > URL_MAX)
		status_violation(&r->st, field, "at most %d characters", URL_MAX);
	else if (why != NULL)
		status_violation(&r->st, field, "%s", why);
	else if (netaddr_kind_internal(o.kind) && !r->srv->opts.allow_private_gateways)
		status_violation(&r->st, field,
				 "the host is a %s address; ospayd sends credentials and card data "
				 "there only when started with --allow-private-gateways",
				 netaddr_kind_name(o.kind));
}

/* The origin (scheme, host, port) a URL's requests go to; false when it has none. */
static bool url_origin(const char *url, netaddr_origin_t *o)
{
	return url[0] != '\0' && netaddr_url_origin(url, o) == NULL;
}

/*
 * Stored credentials are bound to the hosts they were given for: a new base
 * (or query) origin without new credentials is refused, else a changed URL
 * would deliver the kept secrets, and the card data, to any host.
 */
static void check_same_hosts(srv_req_t *r, const Ospay__V1__GatewayRecord *old,
			     const char *base_url, const char *query_base_url)
{
	netaddr_origin_t a, b;
	const char *old_q = old->query_base_url[0] ? old->query_base_url : old->base_url;
	const char *new_q = query_base_url[0] ? query_base_url : base_url;
	bool base_same = url_origin(old->base_url, &a) && url_origin(base_url, &b) &&
			 netaddr_origin_equal(&a, &b);
	bool query_same =
		url_origin(old_q, &a) && url_origin(new_q, &b) && netaddr_origin_equal(&a, &b);
	if (!base_same || !query_same)
		status_violation(&r->st, "credentials",
				 "required again when %s moves to another host (scheme, host "
				 "or port): stored credentials stay with the host they were "
				 "given for",
				 !base_same ? "base_url" : "query_base_url");
}

/* A credential field: present when required, bounded, printable. Never echoed. */
static void check_secret(srv_req_t *r, const char *field, const char *v, bool required)
{
	size_t n = strlen(v);
	if (n == 0 && required)
		status_violation(&r->st, field, "required");
	if (n > CRED_MAX)
		status_violation(&r->st, field, "at most %d characters", CRED_MAX);
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)v[i] < 0x20 || v[i] == 0x7f) {
			status_violation(&r->st, field, "no control characters");
			break;
		}
}

static void check_headers(srv_req_t *r, const Ospay__V1__GatewayCredentials *c, bool required)
{
	if (c->n_webhook_headers == 0 && required)
		status_violation(&r->st, "credentials.webhook_headers",
				 "at least one header the service sends with its notifications");
	if (c->n_webhook_headers > HEADERS_MAX)
		status_violation(&r->st, "credentials.webhook_headers", "at most %d", HEADERS_MAX);
	for (size_t i = 0; i < c->n_webhook_headers && i < HEADERS_MAX; i++) {
		const char *name = c->webhook_headers[i]->name;
		size_t n = strlen(name);
		bool token = n > 0 && n <= 64;
		for (size_t j = 0; j < n && token; j++)
			token = name[j] > ' ' && name[j] < 0x7f && name[j] != ':';
		if (!token)
			status_violation(&r->st, "credentials.webhook_headers.name",
					 "a header name: 1-64 visible characters, no ':'");
		check_secret(r, "credentials.webhook_headers.value", c->webhook_headers[i]->value,
			     true);
	}
}

/*
 * A mutual-TLS identity (Pix): both or neither (a PSP's sandbox without mTLS),
 * bounded, parsed, the key the certificate's, the certificate in date.
 */
static void check_client_pair(srv_req_t *r, const Ospay__V1__GatewayCredentials *c)
{
	size_t nc = strlen(c->client_certificate_pem), nk = strlen(c->client_key_pem);
	const char *why;
	if ((nc == 0) != (nk == 0)) {
		status_violation(&r->st, "credentials.client_certificate_pem",
				 "the certificate and its key go together");
		return;
	}
	if (nc == 0)
		return;
	if (nc > PEM_MAX || nk > PEM_MAX) {
		status_violation(&r->st, "credentials.client_certificate_pem",
				 "PEM text of at most %d bytes each", PEM_MAX);
		return;
	}
	why = tls_check_pair_pem(c->client_certificate_pem, c->client_key_pem);
	if (why != NULL)
		status_violation(&r->st, "credentials.client_certificate_pem", "%s", why);
}

/* The fields each service needs (gateways.md, section 8 and the adapters). */
static void check_credentials(srv_req_t *r, int kind, const Ospay__V1__GatewayCredentials *c)
{
	switch (kind) {
	case SRV_SERVICE_CIELO:
		check_secret(r, "credentials.merchant_id", c->merchant_id, true);
		check_secret(r, "credentials.merchant_key", c->merchant_key, true);
		check_headers(r, c, true);
		break;
	case SRV_SERVICE_GETNET:
		check_secret(r, "credentials.client_id", c->client_id, true);
		check_secret(r, "credentials.client_secret", c->client_secret, true);
		check_secret(r, "credentials.seller_id", c->seller_id, true);
		break;
	case SRV_SERVICE_PAGOLIVRE:
		check_secret(r, "credentials.api_token", c->api_token, true);
		break;
	case SRV_SERVICE_ZAPME:
		check_secret(r, "credentials.api_key", c->api_key, true);
		check_secret(r, "credentials.api_secret", c->api_secret, true);
		check_headers(r, c, true);
		break;
	case SRV_SERVICE_PIX:
		check_secret(r, "credentials.client_id", c->client_id, true);
		check_secret(r, "credentials.client_secret", c->client_secret, true);
		check_client_pair(r, c);
		break;
	}
}

/* ------------------------------------------------------------------ views */

static void webhook_path(uint64_t org, int kind, char *out, size_t cap)
{
	snprintf(out, cap, "/webhooks/%s/%llu", prov_service_name(kind), (unsigned long long)org);
}

static void gateway_view(const Ospay__V1__GatewayRecord *rec, Ospay__V1__Gateway *g, char *path,
			 size_t cap)
{
	g->kind = (Ospay__V1__GatewayKind)rec->kind;
	g->base_url = rec->base_url;
	g->query_base_url = rec->query_base_url;
	g->allow_automatic_recurrence = rec->allow_automatic_recurrence;
	g->zero_auth = rec->zero_auth;
	g->credentials_set = rec->sealed_credentials.len > 0;
	g->soft_descriptor = rec->soft_descriptor;
	g->updated_ms = rec->updated_ms;
	g->pix = rec->pix;
	webhook_path(rec->organization_id, rec->kind, path, cap);
	g->webhook_path = path;
}

/* ------------------------------------------------------------------ write */

static void gateway_committed(srv_req_t *r)
{
	/* Open adapters hold the old settings: the next use reopens them. */
	r->srv->gateway_epoch++;
}

/* Seals c (when given) into rec, or keeps rec's credentials; stores rec. */
static int gateway_store(srv_req_t *r, store_txn_t *txn, Ospay__V1__GatewayRecord *rec,
			 const Ospay__V1__GatewayCredentials *c)
{
	uint8_t plain[VAULT_MAX_PLAINTEXT], sealed[VAULT_MAX_SEALED];
	int rc = 0;
	if (c != NULL) {
		size_t n = ospay__v1__gateway_credentials__get_packed_size(c), len = 0;
		if (n > sizeof(plain)) {
			status_violation(&r->st, "credentials", "too large");
			goto out;
		}
		ospay__v1__gateway_credentials__pack(c, plain);
		vault_context_t ctx;
		prov_vault_context(rec->organization_id, rec->kind, &ctx);
		rc = vault_seal(&r->srv->vault_key, &ctx, plain, n, sealed, sizeof(sealed), &len);
		if (rc != 0) {
			log_error("sealing credentials failed", "err=%d", rc);
			rc = srv_fail(r, ST_INTERNAL, "could not protect the credentials");
			goto out;
		}
		rec->sealed_credentials.data = sealed;
		rec->sealed_credentials.len = len;
	}
	rec->updated_ms = r->now_ms;
	uint8_t k[9];
	be64_put(k, rec->organization_id);
	k[8] = (uint8_t)rec->kind;
	rc = db_put_msg(txn, DB_GATEWAYS, k, sizeof(k), &rec->base, 0);
	if (rc != 0)
		rc = srv_store_fail(r, rc, "gateway store");
	else
		r->on_commit = gateway_committed;
out:
	crypto_wipe(plain, sizeof(plain));
	return rc;
}

/*
 * The checks SetGateway and SetNotifier share: permission, URLs, the existing
 * record (*old, the request's: srv_keep; credentials kept when none are given) and the
 * credentials each service needs.
 */
static int service_check(srv_req_t *r, store_txn_t *txn, int kind, const char *base_url,
			 const char *query_base_url, const Ospay__V1__GatewayCredentials *creds,
			 Ospay__V1__GatewayRecord **old)
{
	if (!srv_check(r, PERM_CONFIGURE, 0))
		return 0;
	check_url(r, "base_url", base_url, true);
	check_url(r, "query_base_url", query_base_url, false);
	int rc = prov_settings_get(txn, r->sess->p.org_id, kind, old);
	if (rc == 0)
		rc = srv_keep(r, old);
	if (rc != 0 && rc != -ENOENT)
		return srv_store_fail(r, rc, "gateway lookup");
	if (creds != NULL)
		check_credentials(r, kind, creds);
	else if (*old == NULL)
		status_violation(&r->st, "credentials", "required the first time");
	else if (srv_ok(r))
		check_same_hosts(r, *old, base_url, query_base_url);
	return 0;
}

/* Checks, then seals (or keeps) the credentials and stores rec. */
static int service_set(srv_req_t *r, store_txn_t *txn, int kind, const char *base_url,
		       const char *query_base_url, const Ospay__V1__GatewayCredentials *creds,
		       Ospay__V1__GatewayRecord *rec, Ospay__V1__GatewayRecord **old)
{
	int rc = service_check(r, txn, kind, base_url, query_base_url, creds, old);
	if (rc != 0 || !srv_ok(r))
		return rc;
	rec->organization_id = r->sess->p.org_id;
	rec->kind = kind;
	rec->base_url = (char *)base_url;
	rec->query_base_url = (char *)query_base_url;
	if (creds == NULL)
		rec->sealed_credentials = (*old)->sealed_credentials;
	return gateway_store(r, txn, rec, creds);
}

/* ------------------------------------------------------------------ SetGateway */

/*
 * A Pix PSP's SetGateway: the callbacks are registered at the PSP with the
 * new settings before anything is stored, so a stored Pix gateway is one whose
 * credentials, certificate and callback address the PSP accepted.
 */
typedef struct gw_set {
	srv_req_t *r;
	gw_t *gw;    /* opened from the new settings for the registration only */
	int hook;    /* the next of pix_hooks to register */
	int n_hooks; /* how many of pix_hooks this PSP gets */
	char url[GW_URL_MAX];
	/* The callbacks' secret: new with new credentials, else the stored one. */
	char secret[2 * WEBHOOK_SECRET_BYTES + 1];
} gw_set_t;

/* The Pix-received callback (journeys 3 and 4's first payments) only with a Pix key:
 * PUT /webhook/{chave} names it. */
static const gw_pix_hook_t pix_hooks[] = {GW_PIX_HOOK_REC, GW_PIX_HOOK_COBR, GW_PIX_HOOK_PIX};

static void gw_set_free(void *arg)
{
	gw_set_t *a = arg;
	gw_close(a->gw);
	crypto_wipe(a->secret, sizeof(a->secret));
	free(a);
}

static bool kind_ok(int kind)
{
	return (kind >= SRV_SERVICE_PAGOLIVRE && kind <= SRV_SERVICE_GETNET) ||
	       kind == SRV_SERVICE_PIX;
}

#define KIND_WORDS "one of PAGOLIVRE, CIELO, GETNET, PIX_AUTOMATICO"

/* The request's credentials with the callbacks' secret ospay chose (Pix). */
static Ospay__V1__GatewayCredentials creds_with_secret(const Ospay__V1__GatewayCredentials *in,
						       const gw_set_t *a)
{
	Ospay__V1__GatewayCredentials c = *in;
	c.webhook_secret = a != NULL ? (char *)a->secret : (char *)"";
	return c;
}

/* The write that ends SetGateway (every kind): checked again against the
 * record as it is now, then stored. */
static int set_gateway_write(srv_req_t *r, store_txn_t *txn)
{
	const Ospay__V1__SetGatewayRequest *in = (const Ospay__V1__SetGatewayRequest *)r->in;
	Ospay__V1__GatewayRecord rec = OSPAY__V1__GATEWAY_RECORD__INIT, *old = NULL;
	Ospay__V1__GatewayCredentials c;
	const Ospay__V1__GatewayCredentials *creds = in->credentials;
	gw_set_t *a = r->async_arg;
	int rc;
	if (creds != NULL && (int)in->kind == SRV_SERVICE_PIX) {
		c = creds_with_secret(creds, a);
		creds = &c;
	}
	rec.allow_automatic_recurrence = in->allow_automatic_recurrence;
	rec.soft_descriptor = in->soft_descriptor;
	rec.zero_auth = in->zero_auth;
	rec.pix = in->pix;
	rc = service_set(r, txn, (int)in->kind, in->base_url, in->query_base_url, creds, &rec,
			 &old);
	if (rc != 0 || !srv_ok(r))
		goto out;
	char path[64];
	Ospay__V1__Gateway g = OSPAY__V1__GATEWAY__INIT;
	gateway_view(&rec, &g, path, sizeof(path));
	rc = kit_reply_one(r, &ospay__v1__set_gateway_response__descriptor, &g.base);
	log_info("gateway configured", "org=%llu service=%s credentials=%s auto_recurrence=%d",
		 (unsigned long long)rec.organization_id, prov_service_name(rec.kind),
		 in->credentials != NULL ? "replaced" : "kept", rec.allow_automatic_recurrence);
out:
	if (creds == &c)
		crypto_wipe(&c, sizeof(c));
	return rc;
}

static void pix_register_next(gw_set_t *a);

static void on_pix_registered(const gw_pix_result_t *res, void *arg)
{
	gw_set_t *a = arg;
	srv_req_t *r = a->r;
	log_info("pix callback registration", "org=%llu hook=%d outcome=%s code=\"%s\"",
		 (unsigned long long)r->sess->p.org_id, pix_hooks[a->hook - 1],
		 gw_outcome_name(res->r.outcome), res->r.code);
	switch (res->r.outcome) {
	case GW_OUTCOME_APPROVED:
		pix_register_next(a);
		return;
	case GW_OUTCOME_AUTH_FAILED:
		srv_async_fail(r, ST_FAILED_PRECONDITION,
			       "the PSP refused ospay's credentials (client id, secret or "
			       "certificate); nothing was stored");
		return;
	case GW_OUTCOME_DECLINED:
	case GW_OUTCOME_REJECTED:
		srv_async_fail(r, ST_FAILED_PRECONDITION,
			       "the PSP refused the callback address %s (code \"%s\"); nothing "
			       "was stored",
			       a->url, res->r.code);
		return;
	default:
		break;
	}
	srv_async_fail(r, ST_UNAVAILABLE,
		       "the PSP did not confirm the callback registration; nothing was stored, "
		       "try again");
}

/* Registers the next callback, or ends the call with the write. */
static void pix_register_next(gw_set_t *a)
{
	if (a->hook == a->n_hooks) {
		srv_async_finish(a->r, set_gateway_write);
		return;
	}
	int rc = gw_pix_register_webhook(a->gw, pix_hooks[a->hook++], a->url, on_pix_registered, a);
	if (rc != 0)
		srv_async_fail(a->r, ST_UNAVAILABLE,
			       "the PSP could not be called (error %d); nothing was stored", rc);
}

/*
 * Opens an adapter from the request's settings (or the stored credentials when
 * none are given) and starts the registrations. 0 with the call pending, or
 * r->st says why not.
 */
static int pix_register_start(srv_req_t *r, const Ospay__V1__GatewayRecord *old)
{
	const Ospay__V1__SetGatewayRequest *in = (const Ospay__V1__SetGatewayRequest *)r->in;
	Ospay__V1__GatewayRecord tmp = OSPAY__V1__GATEWAY_RECORD__INIT;
	Ospay__V1__GatewayCredentials *stored = NULL, c;
	gw_config_t cfg;
	status_t st;
	gw_set_t *a = calloc(1, sizeof(*a));
	int rc = 0;
	if (a == NULL)
		return -ENOMEM;
	a->r = r;
	a->n_hooks = in->pix->pix_key[0] != '\0' ? 3 : 2;
	if (prov_pix_callback_url(in->pix, r->sess->p.org_id, a->url, sizeof(a->url)) != 0) {
		rc = srv_fail(r, ST_INVALID_ARGUMENT, "pix.callback_base_url: too long");
		goto out;
	}
	if (in->credentials != NULL) {
		uint8_t raw[WEBHOOK_SECRET_BYTES];
		if (crypto_random(raw, sizeof(raw)) != 0) {
			rc = srv_fail(r, ST_INTERNAL, "no randomness for the callbacks' secret");
			goto out;
		}
		for (size_t i = 0; i < sizeof(raw); i++)
			snprintf(a->secret + 2 * i, 3, "%02x", raw[i]);
		crypto_wipe(raw, sizeof(raw));
		c = creds_with_secret(in->credentials, a);
	} else {
		rc = prov_open_credentials(r->srv, old, &stored);
		if (rc != 0) {
			log_error("stored gateway credentials unreadable", "err=%d", rc);
			rc = srv_fail(r, ST_INTERNAL, "the stored credentials could not be opened");
			goto out;
		}
		snprintf(a->secret, sizeof(a->secret), "%s", stored->webhook_secret);
		c = *stored;
	}
	tmp.organization_id = r->sess->p.org_id;
	tmp.kind = SRV_SERVICE_PIX;
	tmp.base_url = in->base_url;
	tmp.query_base_url = in->query_base_url;
	tmp.pix = in->pix;
	prov_config_from(r->srv, &tmp, &c, &cfg);
	status_clear(&st);
	rc = gw_open(&a->gw, r->srv->http, r->srv->loop, &cfg, &st);
	crypto_wipe(&cfg, sizeof(cfg));
	crypto_wipe(&c, sizeof(c));
	if (rc == -EINVAL) {
		/* The adapter's own checks (field names are the adapter's). */
		r->st = st;
		rc = 0;
		goto out;
	}
	if (rc != 0)
		goto out;
	r->async_arg = a;
	r->async_free = gw_set_free;
	a = NULL;
	srv_pend(r);
	pix_register_next(r->async_arg);
out:
	prov_credentials_free(stored);
	if (a != NULL)
		gw_set_free(a);
	return rc;
}

/* Runs in a read snapshot (SRV_M_ASYNC): checks, then a Pix PSP's
 * registrations or, for the other services, the write at once. */
int h_admin_set_gateway(srv_req_t *r, store_txn_t *txn)
{
	const Ospay__V1__SetGatewayRequest *in = (const Ospay__V1__SetGatewayRequest *)r->in;
	Ospay__V1__GatewayRecord *old = NULL;
	int rc;
	if (!kind_ok((int)in->kind)) {
		status_violation(&r->st, "kind", KIND_WORDS);
		return 0;
	}
	size_t sd = strlen(in->soft_descriptor);
	bool sd_ok = sd <= SOFT_DESCRIPTOR_MAX;
	for (size_t i = 0; i < sd && sd_ok; i++)
		sd_ok = (in->soft_descriptor[i] >= 'A' && in->soft_descriptor[i] <= 'Z') ||
			(in->soft_descriptor[i] >= 'a' && in->soft_descriptor[i] <= 'z') ||
			(in->soft_descriptor[i] >= '0' && in->soft_descriptor[i] <= '9') ||
			in->soft_descriptor[i] == ' ';
	if (!sd_ok)
		status_violation(&r->st, "soft_descriptor", "at most 13 letters, digits or spaces");
	/* Zero Auth is Cielo's call; GetNet has none. */
	if (in->zero_auth && in->kind != OSPAY__V1__GATEWAY_KIND__GATEWAY_KIND_CIELO)
		status_violation(&r->st, "zero_auth", "only Cielo offers Zero Auth");
	if ((int)in->kind == SRV_SERVICE_PIX) {
		prov_pix_check(in->pix, &r->st);
		if (sd > 0)
			status_violation(&r->st, "soft_descriptor", "not used by Pix");
	} else if (in->pix != NULL) {
		status_violation(&r->st, "pix", "only for PIX_AUTOMATICO");
	}
	rc = service_check(r, txn, (int)in->kind, in->base_url, in->query_base_url, in->credentials,
			   &old);
	if (rc != 0 || !srv_ok(r))
		return rc;
	if ((int)in->kind == SRV_SERVICE_PIX)
		rc = pix_register_start(r, old);
	else
		srv_write_now(r, set_gateway_write);
	return rc;
}

int h_admin_get_gateway(srv_req_t *r, store_txn_t *txn)
{
	const Ospay__V1__GetGatewayRequest *in = (const Ospay__V1__GetGatewayRequest *)r->in;
	Ospay__V1__GatewayRecord *rec = NULL;
	if (!srv_check(r, PERM_CONFIGURE, 0))
		return 0;
	if (!kind_ok((int)in->kind)) {
		status_violation(&r->st, "kind", KIND_WORDS);
		return 0;
	}
	int rc = prov_settings_get(txn, r->sess->p.org_id, (int)in->kind, &rec);
	if (rc == -ENOENT)
		return srv_fail(r, ST_NOT_FOUND, "%s is not configured",
				prov_service_name(in->kind));
	if (rc != 0)
		return srv_store_fail(r, rc, "gateway lookup");
	char path[64];
	Ospay__V1__Gateway g = OSPAY__V1__GATEWAY__INIT;
	gateway_view(rec, &g, path, sizeof(path));
	rc = kit_reply_one(r, &ospay__v1__get_gateway_response__descriptor, &g.base);
	ospay__v1__gateway_record__free_unpacked(rec, NULL);
	return rc;
}

int h_admin_set_notifier(srv_req_t *r, store_txn_t *txn)
{
	const Ospay__V1__SetNotifierRequest *in = (const Ospay__V1__SetNotifierRequest *)r->in;
	Ospay__V1__GatewayRecord rec = OSPAY__V1__GATEWAY_RECORD__INIT, *old = NULL;
	gw_channel_t ch = in->channel == OSPAY__V1__NOTIFIER_CHANNEL__NOTIFIER_CHANNEL_SMS
				  ? GW_CHANNEL_SMS
				  : GW_CHANNEL_WHATSAPP;
	char why[160];
	if (in->channel != OSPAY__V1__NOTIFIER_CHANNEL__NOTIFIER_CHANNEL_WHATSAPP &&
	    in->channel != OSPAY__V1__NOTIFIER_CHANNEL__NOTIFIER_CHANNEL_SMS) {
		status_violation(&r->st, "channel", "WHATSAPP or SMS");
	} else if (gw_check_channel(GW_KIND_ZAPME, ch, why, sizeof(why)) != 0) {
		/* Every message would fail at send: refused before anything is stored. */
		status_violation(&r->st, "channel", "%s", why);
	}
	rec.channel = in->channel;
	int rc = service_set(r, txn, SRV_SERVICE_ZAPME, in->base_url, "", in->credentials, &rec,
			     &old);
	if (rc != 0 || !srv_ok(r))
		return rc;
	char path[64];
	Ospay__V1__Notifier nt = OSPAY__V1__NOTIFIER__INIT;
	nt.base_url = rec.base_url;
	nt.channel = (Ospay__V1__NotifierChannel)rec.channel;
	nt.credentials_set = true;
	nt.updated_ms = rec.updated_ms;
	webhook_path(rec.organization_id, SRV_SERVICE_ZAPME, path, sizeof(path));
	nt.webhook_path = path;
	rc = kit_reply_one(r, &ospay__v1__set_notifier_response__descriptor, &nt.base);
	log_info("notifier configured", "org=%llu credentials=%s",
		 (unsigned long long)rec.organization_id,
		 in->credentials != NULL ? "replaced" : "kept");
	return rc;
}

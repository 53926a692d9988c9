/*
 * Cards/Add, List, Remove, SetDefault (docs/spec.md 4.7): a customer's cards on file.
 *
 * Add checks the number (core/card.h), tokenizes it at the organization's
 * card gateway through the adapter, without blocking the loop (an
 * SRV_M_ASYNC method: the gateway call runs between the read snapshot that
 * validated the request and the write that stores the card), and keeps only
 * brand, last four digits, holder, expiry, the gateway's token sealed by
 * the vault and a keyed fingerprint of the number (the brand rules count a
 * card's attempts by it, Zero Auths included). The number and the security
 * code are never stored or logged; every copy ospay makes of them is wiped.
 *
 * Every customer with a card has exactly one default: the first card becomes
 * it, and removing it promotes the newest remaining card.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/log.h"
#include "common/util.h"
#include "core/card.h"
#include "core/date.h"
#include "core/retry.h"
#include "core/vault.h"
#include "gateways/gateway.h"
#include "ospay/v1/cards.pb-c.h"
#include "ospay/v1/customers.pb-c.h"
#include "ospay/v1/records.pb-c.h"
#include "server/db/db.h"
#include "server/jobs/billing_run.h"
#include "server/providers/adapters.h"
#include "server/rpc/kit.h"
#include "server/rpc/srv.h"
#include "server/services/services.h"

/* A bound on one customer's cards, so a list is one bounded reply. */
#define CARDS_MAX 100

/* card.h numbers brands like gateway.h and the CardBrand proto enum. */
_Static_assert((int)CARD_BRAND_JCB == (int)GW_BRAND_JCB, "card and gateway brands differ");
_Static_assert((int)CARD_BRAND_JCB == OSPAY__V1__CARD_BRAND__CARD_BRAND_JCB,
	       "card and proto brands differ");

/* Every card of a customer, ids ascending (free with cards_free). */
static int cards_load(store_txn_t *txn, uint64_t customer, Ospay__V1__CardRecord ***out, size_t *n)
{
	db_scan_t *scan = NULL;
	const uint8_t *val;
	Ospay__V1__CardRecord **v = NULL;
	size_t cnt = 0;
	int rc = db_scan_id(txn, DB_CARDS_BY_CUST, customer, &scan);
	while (rc == 0 && (rc = db_scan_next(scan, &val)) == 0) {
		Ospay__V1__CardRecord **nv = realloc(v, (cnt + 1) * sizeof(*v));
		if (nv == NULL) {
			rc = -ENOMEM;
			break;
		}
		v = nv;
		rc = kit_load(txn, DB_CARDS, be64_get(val), &ospay__v1__card_record__descriptor,
			      &v[cnt]);
		if (rc == 0)
			cnt++;
	}
	if (rc == -ENOENT)
		rc = 0;
	db_scan_close(scan);
	*out = v;
	*n = cnt;
	return rc;
}

static void cards_free(Ospay__V1__CardRecord **v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		ospay__v1__card_record__free_unpacked(v[i], NULL);
	free(v);
}

/* ------------------------------------------------------------------ Add */

/* What Add keeps between its read phase and its write (no number, no code). */
typedef struct card_add {
	srv_req_t *r;
	Ospay__V1__Card card;
	char last4[5];
	char holder_sent[CARD_HOLDER_SIZE];
	char token[GW_TOKEN_MAX];
	/* The gateway's setting: validate with Zero Auth before storing; its
	 * network id then opens the card's stored-credential chain. */
	bool zero_auth;
	char ntid[GW_ID_MAX];
	/* The number as its network sees it (docs/cards.md), and its Zero Auth
	 * as the brand rules log it (a retry of a decline or not, its verdict). */
	uint8_t fp[CARD_FP_LEN];
	Ospay__V1__CardAttemptRecord za;
	char za_code[GW_CODE_MAX], za_class[32], za_advice[RETRY_ADVICE_MAX];
} card_add_t;

static void card_add_free(void *arg)
{
	card_add_t *a = arg;
	crypto_wipe(a->token, sizeof(a->token));
	crypto_wipe(a->fp, sizeof(a->fp));
	free(a);
}

/* The Zero Auth joins the log of its number (card_id 0 when refused). */
static int zero_auth_log(store_txn_t *txn, card_add_t *a, uint64_t card_id)
{
	a->za.card_id = card_id;
	return db_card_attempt_put(txn, a->card.organization_id, a->fp, &a->za);
}

/*
 * The card gateway of an organization: CIELO or GETNET, whichever is
 * configured; with both, the one with automatic recurrence on (the one the
 * billing run will charge through), else CIELO. 0 when none.
 */
static int pick_gateway(store_txn_t *txn, uint64_t org, int *kind)
{
	Ospay__V1__GatewayRecord *cielo = NULL, *getnet = NULL;
	int rc = prov_settings_get(txn, org, SRV_SERVICE_CIELO, &cielo);
	if (rc == -ENOENT)
		rc = 0;
	if (rc == 0)
		rc = prov_settings_get(txn, org, SRV_SERVICE_GETNET, &getnet);
	if (rc == -ENOENT)
		rc = 0;
	*kind = 0;
	if (cielo != NULL && getnet != NULL)
		*kind = getnet->allow_automatic_recurrence && !cielo->allow_automatic_recurrence
				? SRV_SERVICE_GETNET
				: SRV_SERVICE_CIELO;
	else if (cielo != NULL)
		*kind = SRV_SERVICE_CIELO;
	else if (getnet != NULL)
		*kind = SRV_SERVICE_GETNET;
	ospay__v1__gateway_record__free_unpacked(cielo, NULL);
	ospay__v1__gateway_record__free_unpacked(getnet, NULL);
	return rc;
}

/* Whether the organization's card gateway kind validates new cards (Zero Auth). */
static int gateway_zero_auth(store_txn_t *txn, uint64_t org, int kind, bool *on)
{
	Ospay__V1__GatewayRecord *g = NULL;
	int rc = prov_settings_get(txn, org, kind, &g);
	*on = rc == 0 && g->zero_auth;
	ospay__v1__gateway_record__free_unpacked(g, NULL);
	return rc == -ENOENT ? 0 : rc;
}

/* In the write batch: the card gets its id, its sealed token and maybe the default. */
static int card_add_commit(srv_req_t *r, store_txn_t *txn)
{
	card_add_t *a = r->async_arg;
	Ospay__V1__CardRecord **all = NULL;
	size_t n = 0;
	uint64_t id = 0;
	int rc = cards_load(txn, a->card.customer_id, &all, &n);
	if (rc != 0) {
		rc = srv_store_fail(r, rc, "cards lookup");
		goto out;
	}
	if (n >= CARDS_MAX) {
		rc = srv_fail(r, ST_FAILED_PRECONDITION,
			      "a customer has at most %d cards; remove one first", CARDS_MAX);
		goto out;
	}
	rc = kit_new_id(r, txn, "card", &id);
	if (rc != 0 || !srv_ok(r))
		goto out;
	Ospay__V1__Card c = a->card;
	c.id = id;
	c.is_default = n == 0;
	c.created_ms = r->now_ms;
	rc = db_card_insert(txn, &c, &r->srv->vault_key, a->token, a->fp, sizeof(a->fp));
	if (rc == 0 && a->zero_auth)
		rc = zero_auth_log(txn, a, id);
	if (rc == -EPROTO) {
		log_error("sealing a card token failed", "err=%d", rc);
		rc = srv_fail(r, ST_INTERNAL, "could not protect the card token");
		goto out;
	}
	if (rc != 0) {
		rc = srv_store_fail(r, rc, "card insert");
		goto out;
	}
	rc = kit_reply_one(r, &ospay__v1__cards_add_response__descriptor, &c.base);
	log_info("card added", "card_id=%" PRIu64 " customer_id=%" PRIu64 " gateway=%s by=%" PRIu64,
		 id, c.customer_id, prov_service_name(c.gateway), r->sess->p.token_id);
out:
	cards_free(all, n);
	return rc;
}

static int zero_auth_declined_fn(store_txn_t *txn, void *arg)
{
	return zero_auth_log(txn, arg, 0);
}

static void zero_auth_declined_done(void *arg, int rc)
{
	card_add_t *a = arg;
	if (rc != 0)
		log_warn("a declined Zero Auth could not be logged", "err=%d", rc);
	srv_async_fail(a->r, ST_FAILED_PRECONDITION,
		       "the issuer refused the card at Zero Auth (code \"%s\": %s); nothing was "
		       "stored",
		       a->za_code, a->za_advice);
}

/*
 * A declined Zero Auth is an attempt the card's network counts (docs/cards.md):
 * it is logged with the brand's verdict in its own write, then the call is
 * refused. Without the write it is refused all the same.
 */
static void zero_auth_declined(card_add_t *a, const gw_charge_result_t *res)
{
	retry_verdict_t v;
	int64_t now = srv_now_ms(a->r->srv);
	const char *code = res->abecs_code[0] != '\0' ? res->abecs_code : res->r.code;
	retry_judge((enum card_brand)a->card.brand, code, res->advice_code, now, &v);
	snprintf(a->za_code, sizeof(a->za_code), "%s", code);
	snprintf(a->za_class, sizeof(a->za_class), "%s", retry_class_name(v.cls));
	snprintf(a->za_advice, sizeof(a->za_advice), "%s", v.advice);
	a->za.declined = true;
	a->za.return_code = a->za_code;
	a->za.decline_class = a->za_class;
	a->za.advice = a->za_advice;
	a->za.next_retry_ms = v.never ? 0 : v.next_ms;
	if (store_write(a->r->srv->store, zero_auth_declined_fn, zero_auth_declined_done, a) != 0)
		zero_auth_declined_done(a, -EIO);
}

/* Zero Auth's answer: a valid card is stored with its chain open. */
static void on_zero_auth(const gw_charge_result_t *res, void *arg)
{
	card_add_t *a = arg;
	srv_req_t *r = a->r;
	log_info("card zero auth", "customer_id=%" PRIu64 " outcome=%s code=\"%s\"",
		 a->card.customer_id, gw_outcome_name(res->r.outcome), res->r.code);
	switch (res->r.outcome) {
	case GW_OUTCOME_APPROVED:
		snprintf(a->ntid, sizeof(a->ntid), "%s", res->network_txn_id);
		a->card.network_txn_id = a->ntid;
		srv_async_finish(r, card_add_commit);
		return;
	case GW_OUTCOME_DECLINED:
		zero_auth_declined(a, res);
		return;
	case GW_OUTCOME_REJECTED:
		srv_async_fail(
			r, ST_FAILED_PRECONDITION,
			"the issuer refused the card at Zero Auth (code \"%s\"); nothing was "
			"stored",
			res->r.code);
		return;
	default:
		break;
	}
	srv_async_fail(
		r, ST_UNAVAILABLE,
		"the card could not be validated (Zero Auth); nothing was stored, try again");
}

/* Starts Zero Auth of the new token; 0, or the reason it could not start. */
static int zero_auth_start(card_add_t *a)
{
	store_txn_t *txn = NULL;
	gw_t *gw = NULL;
	int rc = store_read_begin(a->r->srv->store, &txn);
	if (rc == 0) {
		rc = prov_adapter(a->r->srv, txn, a->card.organization_id, (int)a->card.gateway,
				  &gw);
		store_read_end(txn);
	}
	gw_zero_auth_req_t zr = {.card_token = a->token, .brand = (gw_brand_t)a->card.brand};
	if (rc == 0)
		rc = gw_zero_auth(gw, &zr, on_zero_auth, a);
	return rc;
}

static void on_tokenized(const gw_token_result_t *res, void *arg)
{
	card_add_t *a = arg;
	srv_req_t *r = a->r;
	/* The service's message is not echoed: a refusal may quote what was sent. */
	log_info("card tokenization", "customer_id=%" PRIu64 " gateway=%s outcome=%s code=\"%s\"",
		 a->card.customer_id, prov_service_name(a->card.gateway),
		 gw_outcome_name(res->r.outcome), res->r.code);
	switch (res->r.outcome) {
	case GW_OUTCOME_APPROVED:
		if (res->card_token[0] == '\0' || strlen(res->card_token) >= sizeof(a->token))
			break;
		memcpy(a->token, res->card_token, strlen(res->card_token) + 1);
		if (!a->zero_auth) {
			srv_async_finish(r, card_add_commit);
			return;
		}
		if (zero_auth_start(a) == 0)
			return;
		break;
	case GW_OUTCOME_DECLINED:
	case GW_OUTCOME_REJECTED:
		srv_async_fail(r, ST_FAILED_PRECONDITION,
			       "the %s gateway refused the card (code \"%s\"); nothing was stored",
			       prov_service_name(a->card.gateway), res->r.code);
		return;
	case GW_OUTCOME_AUTH_FAILED:
		srv_async_fail(r, ST_FAILED_PRECONDITION,
			       "the %s gateway refused ospay's credentials; check its settings",
			       prov_service_name(a->card.gateway));
		return;
	default:
		break;
	}
	/* Unreachable, timed out, or an answer without a token: a retry is safe
	 * (at worst the gateway keeps an unused token). */
	srv_async_fail(r, ST_UNAVAILABLE,
		       "the %s gateway did not tokenize the card; nothing was stored, try again",
		       prov_service_name(a->card.gateway));
}

/* "2020-12-10 12:00" local (offset minutes) of a UTC ms. */
#define LOCAL_TIME_SIZE 40
static void local_time(int64_t ms, int off, char out[LOCAL_TIME_SIZE])
{
	char day[16];
	unsigned minute = (unsigned)date_local_minute(ms, off) % (24 * 60);
	date_format(date_local_day(ms, off), day, sizeof(day));
	snprintf(out, LOCAL_TIME_SIZE, "%s %02u:%02u", day, minute / 60, minute % 60);
}

/*
 * Before a Zero Auth: the brand's rules, fed from every attempt at this
 * number in 30 days (its cards' charges and Zero Auths, docs/cards.md), may
 * refuse it as a reattempt; then no gateway is called, r->st names the rule
 * and when it would be allowed, and the refusal is counted for /metrics.
 * Otherwise a->za is the attempt to log. 0 or a store error.
 */
static int zero_auth_gate(srv_req_t *r, store_txn_t *txn, card_add_t *a, int off)
{
	retry_attempt_t *log = NULL;
	retry_gate_t g;
	size_t n = 0;
	char when[LOCAL_TIME_SIZE];
	int rc = billing_card_log(txn, a->card.organization_id, a->fp, r->now_ms, 0, &log, &n);
	if (rc != 0) {
		rc = srv_store_fail(r, rc, "card attempts lookup");
		goto out;
	}
	retry_gate((enum card_brand)a->card.brand, log, n, r->now_ms, &g);
	if (!g.allowed) {
		billing_run_count_refused(r->srv);
		local_time(g.from_ms, off, when);
		rc = srv_fail(r, ST_FAILED_PRECONDITION,
			      "the card's brand rules refuse another Zero Auth of this card "
			      "number now (%s); it is allowed from %s; nothing was sent",
			      g.why, when);
		goto out;
	}
	ospay__v1__card_attempt_record__init(&a->za);
	a->za.at_ms = r->now_ms;
	a->za.zero_auth = true;
	a->za.reattempt = g.reattempt;
out:
	free(log);
	return rc;
}

int h_cards_add(srv_req_t *r, store_txn_t *txn)
{
	Ospay__V1__CardsAddRequest *in = (Ospay__V1__CardsAddRequest *)r->in;
	Ospay__V1__Customer *cust = NULL;
	card_add_t *a = NULL;
	card_pan_t pan;
	card_expiry_t exp = {0, 0};
	char cust_id[24];
	char holder_sent[CARD_HOLDER_SIZE] = "";
	bool zero_auth = false;
	int kind = 0, off = 0;
	gw_t *gw = NULL;
	const char *why;
	int rc = 0;
	memset(&pan, 0, sizeof(pan));
	rc = kit_get(r, txn, &kit_bill_customers, "customer_id", in->customer_id, PERM_OPERATE,
		     &cust);
	/* A missing customer_id is one violation among the others; not seeing it ends here. */
	if (rc != 0 || (!srv_ok(r) && r->st.code != ST_INVALID_ARGUMENT))
		goto out;
	why = card_check_number(in->number, &pan);
	if (why != NULL)
		status_violation(&r->st, "number", "%s", why);
	kit_check_name(r, "holder", in->holder, CARD_HOLDER_MAX);
	rc = kit_org_offset(r, txn, &off);
	if (rc != 0) {
		rc = srv_store_fail(r, rc, "organization lookup");
		goto out;
	}
	/* "Not expired" is judged on the organization's local calendar. */
	why = card_check_expiry(in->expiry, date_local_day(r->now_ms, off), &exp);
	if (why != NULL)
		status_violation(&r->st, "expiry", "%s", why);
	if (in->security_code[0] == '\0')
		status_violation(&r->st, "security_code", "required");
	else if (pan.brand != CARD_BRAND_UNSPECIFIED &&
		 (why = card_check_security_code(in->security_code, pan.brand)) != NULL)
		status_violation(&r->st, "security_code", "%s", why);
	if (!srv_ok(r))
		goto out;
	rc = pick_gateway(txn, cust->organization_id, &kind);
	if (rc != 0) {
		rc = srv_store_fail(r, rc, "gateway lookup");
		goto out;
	}
	if (kind == 0) {
		rc = srv_fail(r, ST_FAILED_PRECONDITION,
			      "no card gateway is configured: set CIELO or GETNET first");
		goto out;
	}
	rc = gateway_zero_auth(txn, cust->organization_id, kind, &zero_auth);
	if (rc != 0) {
		rc = srv_store_fail(r, rc, "gateway lookup");
		goto out;
	}
	/* The gateway's holder rules, applied now so the reply says what is sent
	 * and a name they cannot take is refused rather than cut. */
	why = card_holder_for_gateway(in->holder, kind, holder_sent);
	if (why != NULL) {
		status_violation(&r->st, "holder", "%s", why);
		goto out;
	}
	rc = prov_adapter(r->srv, txn, cust->organization_id, kind, &gw);
	if (rc != 0) {
		log_error("card gateway unusable", "gateway=%s err=%d", prov_service_name(kind),
			  rc);
		rc = srv_fail(r, ST_FAILED_PRECONDITION,
			      "the %s gateway's settings cannot be used; set them again",
			      prov_service_name(kind));
		goto out;
	}
	a = calloc(1, sizeof(*a));
	if (a == NULL) {
		rc = -ENOMEM;
		goto out;
	}
	a->r = r;
	ospay__v1__card__init(&a->card);
	a->card.organization_id = cust->organization_id;
	a->card.unit_id = cust->unit_id;
	a->card.customer_id = cust->id;
	a->card.brand = (Ospay__V1__CardBrand)pan.brand;
	card_last4(&pan, a->last4);
	a->card.last4 = a->last4;
	a->card.holder = in->holder; /* kept alive by r->in until the call ends */
	a->card.exp_month = (uint32_t)exp.month;
	a->card.exp_year = (uint32_t)exp.year;
	a->card.gateway = (Ospay__V1__GatewayKind)kind;
	memcpy(a->holder_sent, holder_sent, sizeof(a->holder_sent));
	a->card.holder_sent = a->holder_sent;
	/* Adding a card is the operator's statement that its holder agreed to
	 * keep it on file and be charged by it (docs/cards.md). */
	a->card.consent_ms = r->now_ms;
	a->zero_auth = zero_auth;
	card_fingerprint(r->srv->card_fp_key, cust->organization_id, &pan, a->fp);
	if (zero_auth) {
		rc = zero_auth_gate(r, txn, a, off);
		if (rc != 0 || !srv_ok(r))
			goto out;
	}
	snprintf(cust_id, sizeof(cust_id), "%" PRIu64, cust->id);
	gw_card_t gc = {
		.number = pan.digits,
		.holder = a->holder_sent,
		.exp_month = (unsigned)exp.month,
		.exp_year = (unsigned)exp.year,
		.security_code = in->security_code,
		.brand = (gw_brand_t)pan.brand,
		.customer_id = cust_id,
		.customer_name = cust->name,
		.document = cust->document[0] != '\0' ? cust->document : NULL,
	};
	/* The adapter copies the card into its request body before returning. */
	rc = gw_tokenize_card(gw, &gc, on_tokenized, a);
	crypto_wipe(&gc, sizeof(gc));
	if (rc != 0) {
		log_error("card tokenization not started", "gateway=%s err=%d",
			  prov_service_name(kind), rc);
		if (rc == -EAGAIN)
			rc = srv_fail(r, ST_UNAVAILABLE, "the card gateway is busy; try again");
		else if (rc == -EINVAL)
			/* The adapter's own rules: a brand this gateway does not take (GetNet
			 * has no Diners, Discover or JCB) or a name it refuses. */
			rc = srv_fail(r, ST_FAILED_PRECONDITION,
				      "the %s gateway does not accept this card (brand or names)",
				      prov_service_name(kind));
		else
			rc = srv_fail(r, ST_INTERNAL, "the card could not be sent");
		goto out;
	}
	srv_pend_owning(r, a, card_add_free);
	a = NULL;
out:
	card_pan_wipe(&pan);
	/* The code is used for the one call: wipe it now rather than at the reply. */
	crypto_wipe(in->security_code, strlen(in->security_code));
	crypto_wipe(in->number, strlen(in->number));
	free(a);
	return rc;
}

/* ------------------------------------------------------------------ List */

int h_cards_list(srv_req_t *r, store_txn_t *txn)
{
	const Ospay__V1__CardsListRequest *in = (const void *)r->in;
	Ospay__V1__Customer *cust = NULL;
	Ospay__V1__CardRecord **all = NULL;
	Ospay__V1__Card **cards = NULL;
	size_t n = 0;
	int rc = kit_get(r, txn, &kit_bill_customers, "customer_id", in->customer_id, PERM_READ,
			 &cust);
	if (rc != 0 || !srv_ok(r))
		goto out;
	rc = cards_load(txn, cust->id, &all, &n);
	if (rc != 0) {
		rc = srv_store_fail(r, rc, "cards lookup");
		goto out;
	}
	cards = calloc(n + 1, sizeof(*cards));
	if (cards == NULL) {
		rc = -ENOMEM;
		goto out;
	}
	/* Only the Card part: the sealed token never leaves the store. */
	for (size_t i = 0; i < n; i++)
		cards[i] = all[i]->card;
	Ospay__V1__CardsListResponse resp = OSPAY__V1__CARDS_LIST_RESPONSE__INIT;
	resp.cards = cards;
	resp.n_cards = n;
	rc = srv_reply_msg(r, &resp.base);
out:
	free(cards);
	cards_free(all, n);
	return rc;
}

/* ------------------------------------------------------------------ Remove, SetDefault */

/*
 * The services of the card's customer that chose it go back to the default
 * card (card_id 0: docs/spec.md 4.7) and say why in their record, in the removal's
 * own transaction so no billing run sees one without the other. left is how
 * many cards the customer still has. 0 or a negative errno.
 */
static int services_unchoose(srv_req_t *r, store_txn_t *txn, const Ospay__V1__Card *c, size_t left)
{
	Ospay__V1__CustomerService *svc = NULL;
	uint64_t *ids = NULL;
	size_t n = 0;
	char day[11], note[240];
	int off = 0;
	int rc = kit_org_offset(r, txn, &off);
	if (rc != 0)
		goto out;
	/* The ids first: no store write while the index scan is open. */
	rc = db_index_ids(txn, DB_SERVICES_BY_CUST, &c->customer_id, 1, &ids, &n);
	if (rc != 0)
		goto out;
	date_format(date_local_day(r->now_ms, off), day, sizeof(day));
	const char *brand = card_brand_name((enum card_brand)c->brand);
	char masked[CARD_MASKED_SIZE];
	card_masked(c->last4, masked);
	snprintf(note, sizeof(note), "card %" PRIu64 " (%s %s) was removed on %s; %s", c->id,
		 brand != NULL ? brand : "card", masked, day,
		 left > 0 ? "the default card is charged"
			  : "the customer has no card left to charge");
	Ospay__V1__CardFallback fb = OSPAY__V1__CARD_FALLBACK__INIT;
	fb.removed_card_id = c->id;
	fb.removed_ms = r->now_ms;
	fb.note = note;
	for (size_t i = 0; i < n && rc == 0; i++) {
		rc = kit_load(txn, DB_SERVICES, ids[i], &ospay__v1__customer_service__descriptor,
			      &svc);
		if (rc != 0)
			break;
		if (svc->recurring_payment != NULL && svc->recurring_payment->card_id == c->id) {
			/* Copies over the unpacked record: it frees only what it owns. */
			Ospay__V1__CustomerService s = *svc;
			Ospay__V1__RecurringPayment rp = *svc->recurring_payment;
			rp.card_id = 0;
			s.recurring_payment = &rp;
			s.card_fallback = &fb;
			s.updated_ms = r->now_ms;
			rc = db_put_by_id(txn, DB_SERVICES, s.id, &s.base);
			if (rc == 0)
				log_info("service back to the default card",
					 "service_id=%" PRIu64 " removed_card_id=%" PRIu64, s.id,
					 c->id);
		}
		ospay__v1__customer_service__free_unpacked(svc, NULL);
		svc = NULL;
	}
out:
	free(ids);
	return rc;
}

int h_cards_remove(srv_req_t *r, store_txn_t *txn)
{
	const Ospay__V1__CardsRemoveRequest *in = (const void *)r->in;
	Ospay__V1__CardRecord *rec = NULL, **all = NULL;
	size_t n = 0;
	uint8_t k[8];
	int rc = kit_get(r, txn, &kit_bill_cards, "card_id", in->card_id, PERM_OPERATE, &rec);
	if (rc != 0 || !srv_ok(r))
		goto out;
	const Ospay__V1__Card *c = rec->card;
	be64_put(k, c->id);
	rc = store_del(txn, DB_CARDS, k, sizeof(k), NULL, 0);
	if (rc == 0)
		rc = db_index_del(txn, DB_CARDS_BY_CUST, c->customer_id, c->id);
	if (rc == 0)
		rc = cards_load(txn, c->customer_id, &all, &n);
	if (rc != 0) {
		rc = srv_store_fail(r, rc, "card delete");
		goto out;
	}
	Ospay__V1__CardsRemoveResponse resp = OSPAY__V1__CARDS_REMOVE_RESPONSE__INIT;
	if (c->is_default && n > 0) {
		/* The newest remaining card: ids grow with time, all[] is ascending. */
		Ospay__V1__CardRecord *next = all[n - 1];
		next->card->is_default = true;
		rc = db_put_by_id(txn, DB_CARDS, next->card->id, &next->base);
		if (rc != 0) {
			rc = srv_store_fail(r, rc, "card update");
			goto out;
		}
		resp.new_default = next->card;
	}
	rc = services_unchoose(r, txn, c, n);
	if (rc != 0) {
		rc = srv_store_fail(r, rc, "services update");
		goto out;
	}
	rc = srv_reply_msg(r, &resp.base);
	log_info("card removed", "card_id=%" PRIu64 " customer_id=%" PRIu64 " by=%" PRIu64, c->id,
		 c->customer_id, r->sess->p.token_id);
out:
	cards_free(all, n);
	return rc;
}

int h_cards_set_default(srv_req_t *r, store_txn_t *txn)
{
	const Ospay__V1__CardsSetDefaultRequest *in = (const void *)r->in;
	Ospay__V1__CardRecord *rec = NULL, **all = NULL;
	size_t n = 0;
	int rc = kit_get(r, txn, &kit_bill_cards, "card_id", in->card_id, PERM_OPERATE, &rec);
	if (rc != 0 || !srv_ok(r))
		goto out;
	/* The issuer replaced it: its number no longer charges. */
	if (rec->card->status == OSPAY__V1__CARD_STATUS__CARD_STATUS_REPLACED) {
		rc = srv_fail(r, ST_FAILED_PRECONDITION,
			      "card %" PRIu64 " was replaced by card %" PRIu64 "; choose that one",
			      rec->card->id, rec->card->replaced_by);
		goto out;
	}
	rc = cards_load(txn, rec->card->customer_id, &all, &n);
	for (size_t i = 0; rc == 0 && i < n; i++) {
		bool want = all[i]->card->id == rec->card->id;
		if (all[i]->card->is_default == want)
			continue;
		all[i]->card->is_default = want;
		rc = db_put_by_id(txn, DB_CARDS, all[i]->card->id, &all[i]->base);
	}
	if (rc != 0) {
		rc = srv_store_fail(r, rc, "card update");
		goto out;
	}
	rec->card->is_default = true;
	rc = kit_reply_one(r, &ospay__v1__cards_set_default_response__descriptor, &rec->card->base);
out:
	cards_free(all, n);
	return rc;
}

/*
 * Cards end to end: a real ospayd tokenizing at a real ospay-sandbox (Cielo),
 * the number and the security code nowhere in the log or the store, field
 * violations, the default-card invariant, unit scoping, and idempotent Add
 * (one tokenization; a concurrent repeat is ABORTED).
 */
#include <criterion/criterion.h>
#include <dirent.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ospay/v1/admin.pb-c.h"
#include "ospay/v1/cards.pb-c.h"
#include "ospay/v1/gateway.pb-c.h"
#include "ospay/v1/rpc.pb-c.h"
#include "support/domain.h"
#include "support/gateways.h"
#include "support/proc.h"
#include "support/cielo_suite.h"

TSP_CIELO_SUITE(cards, "2026-12-01T12:00:00Z", 90, "e2e", false);

#define VISA "4111111111111111"
#define MASTER "5555555555554444"
#define VISA2 "4012888888881881"

static void add_req(Ospay__V1__CardsAddRequest *m, uint64_t customer, const char *number,
		    const char *expiry, const char *code)
{
	ospay__v1__cards_add_request__init(m);
	m->customer_id = customer;
	m->number = (char *)number;
	m->holder = "MARIA DA SILVA";
	m->expiry = (char *)expiry;
	m->security_code = (char *)code;
}

/* Cards/Add; returns the status code, *card (may be NULL) the new card. */
static int add(int fd, uint64_t customer, const char *number, const char *expiry, const char *code,
	       const char *key, Ospay__V1__Card **card, status_t *st)
{
	Ospay__V1__CardsAddRequest m;
	add_req(&m, customer, number, expiry, code);
	Ospay__V1__CardsAddResponse *r = NULL;
	int rc = tsp_call(fd, "ospay.v1.Cards/Add", &m.base,
			  &ospay__v1__cards_add_response__descriptor, (ProtobufCMessage **)&r, key,
			  st);
	if (rc == 0 && card != NULL) {
		*card = r->card;
		r->card = NULL;
	}
	if (r != NULL)
		protobuf_c_message_free_unpacked(&r->base, NULL);
	return rc;
}

static uint64_t add_ok(int fd, uint64_t customer, const char *number)
{
	status_t st;
	Ospay__V1__Card *c = NULL;
	cr_assert_eq(add(fd, customer, number, "12/2030", "123", NULL, &c, &st), 0, "Add: %s",
		     st.message);
	uint64_t id = c->id;
	ospay__v1__card__free_unpacked(c, NULL);
	return id;
}

static int list(int fd, uint64_t customer, Ospay__V1__CardsListResponse **out)
{
	Ospay__V1__CardsListRequest m = OSPAY__V1__CARDS_LIST_REQUEST__INIT;
	m.customer_id = customer;
	status_t st;
	return tsp_call(fd, "ospay.v1.Cards/List", &m.base,
			&ospay__v1__cards_list_response__descriptor, (ProtobufCMessage **)out, NULL,
			&st);
}

/* The id of the customer's only default card; asserts there is exactly one (or none). */
static uint64_t default_of(uint64_t customer, size_t *n_cards)
{
	Ospay__V1__CardsListResponse *r = NULL;
	cr_assert_eq(list(adm, customer, &r), 0);
	uint64_t id = 0;
	size_t defaults = 0;
	for (size_t i = 0; i < r->n_cards; i++)
		if (r->cards[i]->is_default) {
			id = r->cards[i]->id;
			defaults++;
		}
	cr_assert_eq(defaults, r->n_cards > 0 ? 1u : 0u, "%zu defaults among %zu cards", defaults,
		     r->n_cards);
	*n_cards = r->n_cards;
	protobuf_c_message_free_unpacked(&r->base, NULL);
	return id;
}

static int card_call(int fd, const char *method, uint64_t card, ProtobufCMessage **resp,
		     const ProtobufCMessageDescriptor *desc)
{
	Ospay__V1__CardsRemoveRequest m = OSPAY__V1__CARDS_REMOVE_REQUEST__INIT;
	m.card_id = card; /* CardsSetDefaultRequest has the same shape */
	status_t st;
	return tsp_call(fd, method, &m.base, desc, resp, NULL, &st);
}

/* How many cards the sandbox's Cielo holds (one per tokenization). */
static long sandbox_cielo_cards(void)
{
	char url[200], out[4096];
	snprintf(url, sizeof(url), "%s/control/health", sbx.base);
	cr_assert_eq(tsp_http("GET", url, NULL, NULL, NULL, out, sizeof(out)), 200);
	const char *p = strstr(out, "\"cielo_cards\":");
	cr_assert_not_null(p, "%s", out);
	return strtol(p + strlen("\"cielo_cards\":"), NULL, 10);
}

Test(cards, add_and_list_show_brand_and_last4_only)
{
	uint64_t cust = tso_customer(adm, srv.unit_id, 1, "São Paulo");
	long before = sandbox_cielo_cards();
	status_t st;
	Ospay__V1__Card *c = NULL;
	cr_assert_eq(add(adm, cust, "4111 1111 1111 1111", "12/30", "123", NULL, &c, &st), 0, "%s",
		     st.message);
	cr_assert_eq(c->brand, OSPAY__V1__CARD_BRAND__CARD_BRAND_VISA);
	cr_assert_str_eq(c->last4, "1111");
	cr_assert_str_eq(c->holder, "MARIA DA SILVA");
	cr_assert_eq(c->exp_month, 12);
	cr_assert_eq(c->exp_year, 2030);
	cr_assert(c->is_default);
	cr_assert_eq(c->customer_id, cust);
	cr_assert_eq(c->unit_id, srv.unit_id);
	cr_assert_eq(c->gateway, OSPAY__V1__GATEWAY_KIND__GATEWAY_KIND_CIELO);
	cr_assert_gt(c->created_ms, 0);
	cr_assert_eq(sandbox_cielo_cards(), before + 1);
	Ospay__V1__CardsListResponse *r = NULL;
	cr_assert_eq(list(adm, cust, &r), 0);
	cr_assert_eq(r->n_cards, 1);
	cr_assert_eq(r->cards[0]->id, c->id);
	cr_assert_str_eq(r->cards[0]->last4, "1111");
	/* The wire form of the list holds no digit run longer than four. */
	uint8_t buf[4096];
	size_t n = ospay__v1__cards_list_response__pack(r, buf);
	cr_assert_null(memmem(buf, n, "41111111", 8));
	protobuf_c_message_free_unpacked(&r->base, NULL);
	ospay__v1__card__free_unpacked(c, NULL);
}

/* True when the file at path contains needle. */
static bool file_has(const char *path, const char *needle)
{
	FILE *f = fopen(path, "rb");
	if (f == NULL)
		return false;
	fseek(f, 0, SEEK_END);
	long n = ftell(f);
	fseek(f, 0, SEEK_SET);
	char *p = malloc((size_t)n + 1);
	cr_assert_not_null(p);
	size_t got = fread(p, 1, (size_t)n, f);
	fclose(f);
	bool found = memmem(p, got, needle, strlen(needle)) != NULL;
	free(p);
	return found;
}

Test(cards, number_and_security_code_are_never_logged_or_stored)
{
	/* A security code unlikely to occur by chance in a few MB of store and log. */
	const char *number = "5555 5555 5555 4444", *digits = MASTER, *code = "9173";
	uint64_t cust = tso_customer(adm, srv.unit_id, 2, "São Paulo");
	status_t st;
	/* Four digits is an Amex code: refused with the number's brand named, nothing kept. */
	cr_assert_eq(add(adm, cust, number, "12/2030", code, "secret-1", NULL, &st), 3);
	cr_assert(tso_violation(&st, "security_code"));
	cr_assert_null(strstr(st.message, "9173"));
	cr_assert_eq(add(adm, cust, number, "12/2030", "917", "secret-2", NULL, &st), 0, "%s",
		     st.message);
	cr_assert_eq(add(adm, cust, number, "12/2030", "917", "secret-2", NULL, &st), 0, "%s",
		     st.message);
	char path[600];
	snprintf(path, sizeof(path), "%s/data/store", srv.dir);
	DIR *d = opendir(path);
	cr_assert_not_null(d);
	struct dirent *e;
	int files = 0;
	while ((e = readdir(d)) != NULL) {
		if (e->d_name[0] == '.')
			continue;
		char f[900];
		snprintf(f, sizeof(f), "%s/%s", path, e->d_name);
		files++;
		cr_assert_not(file_has(f, digits), "the card number is in %s", e->d_name);
		cr_assert_not(file_has(f, "5555 5555 5555 4444"), "the number is in %s", e->d_name);
		/*
		 * The store holds sealed blobs, nonces and keyed hashes: four random bytes
		 * spell "9173" now and then (1 run in ~40 here). A stored code would be a
		 * protobuf string (length 4, then the digits), JSON or form-encoded text, so
		 * those are what is searched for; the number's 16 digits need no such care.
		 */
		cr_assert_not(file_has(f, "\x04"
					  "9173"),
			      "the security code is in %s", e->d_name);
		cr_assert_not(file_has(f, "\"9173\""), "the security code is in %s", e->d_name);
		cr_assert_not(file_has(f, "=9173"), "the security code is in %s", e->d_name);
		cr_assert_not(file_has(f, "\"917\""), "the security code is in %s", e->d_name);
	}
	closedir(d);
	cr_assert_geq(files, 1);
	cr_assert_not(file_has(srv.log_path, digits), "the card number is in the log");
	cr_assert_not(file_has(srv.log_path, "5555 5555"), "the card number is in the log");
	cr_assert_not(file_has(srv.log_path, "9173"), "the security code is in the log");
	cr_assert_not(file_has(srv.log_path, "917\""), "the security code is in the log");
	cr_assert_not(file_has(srv.log_path, "=917"), "the security code is in the log");
	/* The log does say a card was added. */
	cr_assert(file_has(srv.log_path, "card added"));
}

Test(cards, invalid_input_names_the_fields)
{
	uint64_t cust = tso_customer(adm, srv.unit_id, 3, "São Paulo");
	status_t st;
	/* Bad check digit, expired at the organization's today (2026-12-01), no code. */
	cr_assert_eq(add(adm, cust, "4111111111111112", "11/2026", "", NULL, NULL, &st), 3);
	cr_assert(tso_violation(&st, "number"));
	cr_assert(tso_violation(&st, "expiry"));
	cr_assert(tso_violation(&st, "security_code"));
	cr_assert_null(strstr(st.message, "411111"));
	for (size_t i = 0; i < st.n_violations; i++)
		cr_assert_null(strstr(st.violations[i].description, "4111"));
	/* The month of today is still valid; a bad holder and an unknown brand are not. */
	Ospay__V1__CardsAddRequest m;
	add_req(&m, cust, "9999999999999995", "12/2026", "123");
	m.holder = "";
	cr_assert_eq(tsp_call(adm, "ospay.v1.Cards/Add", &m.base, NULL, NULL, NULL, &st), 3);
	cr_assert(tso_violation(&st, "number"));
	cr_assert(tso_violation(&st, "holder"));
	cr_assert_not(tso_violation(&st, "expiry"));
	cr_assert_eq(add(adm, 0, VISA, "12/2030", "123", NULL, NULL, &st), 3);
	cr_assert(tso_violation(&st, "customer_id"));
	cr_assert_eq(add(adm, 999999, VISA, "12/2030", "123", NULL, NULL, &st), 5);
	cr_assert_eq(add(adm, cust, VISA, "13/2030", "123", NULL, NULL, &st), 3);
	cr_assert(tso_violation(&st, "expiry"));
	size_t n = 0;
	cr_assert_eq(default_of(cust, &n), 0);
	cr_assert_eq(n, 0);
}

Test(cards, one_default_always)
{
	uint64_t cust = tso_customer(adm, srv.unit_id, 4, "São Paulo");
	size_t n = 0;
	uint64_t a = add_ok(adm, cust, VISA);
	cr_assert_eq(default_of(cust, &n), a);
	uint64_t b = add_ok(adm, cust, MASTER);
	uint64_t c = add_ok(adm, cust, VISA2);
	cr_assert_eq(default_of(cust, &n), a, "the first card stays the default");
	cr_assert_eq(n, 3);
	Ospay__V1__CardsSetDefaultResponse *sd = NULL;
	cr_assert_eq(card_call(adm, "ospay.v1.Cards/SetDefault", c, (ProtobufCMessage **)&sd,
			       &ospay__v1__cards_set_default_response__descriptor),
		     0);
	cr_assert_eq(sd->card->id, c);
	cr_assert(sd->card->is_default);
	protobuf_c_message_free_unpacked(&sd->base, NULL);
	cr_assert_eq(default_of(cust, &n), c);
	/* Removing the default promotes the newest remaining card (b). */
	Ospay__V1__CardsRemoveResponse *rm = NULL;
	cr_assert_eq(card_call(adm, "ospay.v1.Cards/Remove", c, (ProtobufCMessage **)&rm,
			       &ospay__v1__cards_remove_response__descriptor),
		     0);
	cr_assert_not_null(rm->new_default);
	cr_assert_eq(rm->new_default->id, b);
	protobuf_c_message_free_unpacked(&rm->base, NULL);
	cr_assert_eq(default_of(cust, &n), b);
	cr_assert_eq(n, 2);
	/* Removing a card that is not the default changes no default. */
	rm = NULL;
	cr_assert_eq(card_call(adm, "ospay.v1.Cards/Remove", a, (ProtobufCMessage **)&rm,
			       &ospay__v1__cards_remove_response__descriptor),
		     0);
	cr_assert_null(rm->new_default);
	protobuf_c_message_free_unpacked(&rm->base, NULL);
	cr_assert_eq(default_of(cust, &n), b);
	cr_assert_eq(card_call(adm, "ospay.v1.Cards/Remove", b, NULL, NULL), 0);
	cr_assert_eq(default_of(cust, &n), 0);
	cr_assert_eq(n, 0);
	cr_assert_eq(card_call(adm, "ospay.v1.Cards/Remove", b, NULL, NULL), 5);
	/* A new first card becomes the default again. */
	uint64_t d = add_ok(adm, cust, MASTER);
	cr_assert_eq(default_of(cust, &n), d);
}

Test(cards, unit_tokens_see_their_units_only)
{
	uint64_t u2 = tso_unit(adm, "Zona Norte");
	uint64_t mine = tso_customer(adm, srv.unit_id, 5, "São Paulo");
	uint64_t theirs = tso_customer(adm, u2, 6, "São Paulo");
	uint64_t their_card = add_ok(adm, theirs, VISA);
	char secret[160];
	tso_token(adm, 2, srv.unit_id, secret, sizeof(secret));
	int op = tsp_login(&srv, secret);
	status_t st;
	cr_assert_eq(add(op, theirs, VISA, "12/2030", "123", NULL, NULL, &st), 5);
	Ospay__V1__CardsListResponse *r = NULL;
	cr_assert_eq(list(op, theirs, &r), 5);
	cr_assert_eq(card_call(op, "ospay.v1.Cards/Remove", their_card, NULL, NULL), 5);
	cr_assert_eq(card_call(op, "ospay.v1.Cards/SetDefault", their_card, NULL, NULL), 5);
	/* Its own unit's customer is fine. */
	cr_assert_eq(add(op, mine, VISA, "12/2030", "123", NULL, NULL, &st), 0, "%s", st.message);
	cr_assert_eq(list(op, mine, &r), 0);
	cr_assert_eq(r->n_cards, 1);
	protobuf_c_message_free_unpacked(&r->base, NULL);
	/* A read-only token lists but does not add. */
	tso_token(adm, 3, srv.unit_id, secret, sizeof(secret));
	int ro = tsp_login(&srv, secret);
	cr_assert_eq(add(ro, mine, VISA, "12/2030", "123", NULL, NULL, &st), 7);
	cr_assert_eq(list(ro, mine, &r), 0);
	protobuf_c_message_free_unpacked(&r->base, NULL);
	close(op);
	close(ro);
	size_t n = 0;
	cr_assert_eq(default_of(theirs, &n), their_card);
}

Test(cards, idempotent_add_tokenizes_once)
{
	uint64_t cust = tso_customer(adm, srv.unit_id, 7, "São Paulo");
	long before = sandbox_cielo_cards();
	status_t st;
	Ospay__V1__Card *c1 = NULL, *c2 = NULL;
	cr_assert_eq(add(adm, cust, VISA, "12/2030", "123", "add-1", &c1, &st), 0, "%s",
		     st.message);
	cr_assert_eq(add(adm, cust, VISA, "12/2030", "123", "add-1", &c2, &st), 0, "%s",
		     st.message);
	cr_assert_eq(c1->id, c2->id);
	cr_assert_eq(sandbox_cielo_cards(), before + 1);
	/* The same key with another card is refused. */
	cr_assert_eq(add(adm, cust, MASTER, "12/2030", "123", "add-1", NULL, &st), 9);
	size_t n = 0;
	cr_assert_eq(default_of(cust, &n), c1->id);
	cr_assert_eq(n, 1);
	ospay__v1__card__free_unpacked(c1, NULL);
	ospay__v1__card__free_unpacked(c2, NULL);
}

Test(cards, repeat_while_in_progress_is_aborted)
{
	uint64_t cust = tso_customer(adm, srv.unit_id, 8, "São Paulo");
	tsg_fault(&sbx, "{\"service\":\"cielo\",\"route\":\"card_create\",\"kind\":\"latency\","
			"\"ms\":1000,\"count\":1}");
	long before = sandbox_cielo_cards();
	Ospay__V1__CardsAddRequest m;
	add_req(&m, cust, VISA, "12/2030", "123");
	uint8_t buf[512];
	size_t len = ospay__v1__cards_add_request__pack(&m, buf);
	cr_assert_eq(tsp_send_request(adm, 501, "ospay.v1.Cards/Add", buf, len, "slow-1"), 0);
	cr_assert_eq(tsp_send_request(adm, 502, "ospay.v1.Cards/Add", buf, len, "slow-1"), 0);
	int codes[3] = {-1, -1, -1};
	for (int i = 0; i < 2; i++) {
		uint64_t id = 0;
		int code = -1;
		cr_assert_eq(tsp_recv_response(adm, &id, &code, NULL, NULL, TSP_HANG_MS), 0);
		cr_assert(id == 501 || id == 502);
		codes[id - 500] = code;
	}
	cr_assert_eq(codes[1], 0);
	cr_assert_eq(codes[2], 10, "the repeat in progress is ABORTED, got %d", codes[2]);
	/* Once done, the repeat gets the stored card without a second tokenization. */
	status_t st;
	cr_assert_eq(add(adm, cust, VISA, "12/2030", "123", "slow-1", NULL, &st), 0);
	cr_assert_eq(sandbox_cielo_cards(), before + 1);
	size_t n = 0;
	default_of(cust, &n);
	cr_assert_eq(n, 1);
}

Test(cards, gateway_failure_stores_nothing)
{
	uint64_t cust = tso_customer(adm, srv.unit_id, 9, "São Paulo");
	status_t st;
	tsg_fault(&sbx, "{\"service\":\"cielo\",\"route\":\"card_create\",\"kind\":\"http500\","
			"\"count\":1}");
	cr_assert_eq(add(adm, cust, VISA, "12/2030", "123", "fail-1", NULL, &st), 14, "%s",
		     st.message);
	cr_assert_null(strstr(st.message, "4111"));
	size_t n = 0;
	default_of(cust, &n);
	cr_assert_eq(n, 0);
	/* An unreadable answer: the token may exist at the gateway, ospay has none. */
	tsg_fault(&sbx, "{\"service\":\"cielo\",\"route\":\"card_create\",\"kind\":\"malformed\","
			"\"count\":1}");
	cr_assert_eq(add(adm, cust, VISA, "12/2030", "123", "fail-1", NULL, &st), 14, "%s",
		     st.message);
	/* A failure is not stored under the key: the retry with it succeeds. */
	cr_assert_eq(add(adm, cust, VISA, "12/2030", "123", "fail-1", NULL, &st), 0, "%s",
		     st.message);
	default_of(cust, &n);
	cr_assert_eq(n, 1);
}

/* Sends Cards/Add on fd with a deadline, without waiting for the answer. */
static void send_add(int fd, uint64_t id, uint64_t customer, const char *key, uint32_t deadline)
{
	Ospay__V1__CardsAddRequest m;
	add_req(&m, customer, VISA, "12/2030", "123");
	uint8_t body[512], frame[1024];
	Ospay__V1__RpcRequest rq = OSPAY__V1__RPC_REQUEST__INIT;
	rq.id = id;
	rq.method = "ospay.v1.Cards/Add";
	rq.body.data = body;
	rq.body.len = ospay__v1__cards_add_request__pack(&m, body);
	rq.idempotency_key = (char *)key;
	rq.deadline_ms = deadline;
	size_t n = ospay__v1__rpc_request__pack(&rq, frame);
	cr_assert_eq(tsp_send_frame(fd, frame, n), 0);
}

Test(cards, deadline_passed_or_client_gone_still_commits)
{
	uint64_t cust = tso_customer(adm, srv.unit_id, 10, "São Paulo");
	long before = sandbox_cielo_cards();
	tsg_fault(
		&sbx,
		"{\"service\":\"cielo\",\"route\":\"card_create\",\"kind\":\"latency\",\"ms\":800,"
		"\"count\":2}");
	/* The deadline passes while the gateway works: DEADLINE_EXCEEDED... */
	send_add(adm, 701, cust, "late-1", 200);
	uint64_t id = 0;
	int code = -1;
	cr_assert_eq(tsp_recv_response(adm, &id, &code, NULL, NULL, TSP_HANG_MS), 0);
	cr_assert_eq(id, 701);
	cr_assert_eq(code, 4);
	/* ...and a client that hangs up before the answer. */
	int fd = tsp_login(&srv, srv.admin_token);
	send_add(fd, 702, cust, "gone-1", 0);
	close(fd);
	/* Both tokenizations finish and are committed (the loop kept serving meanwhile). */
	size_t n = 0;
	TSP_AWAIT((default_of(cust, &n), n == 2), "%zu of the 2 cards stored", n);
	cr_assert_eq(sandbox_cielo_cards(), before + 2);
	/* Repeating with the keys gets the stored cards: no new tokenization. */
	status_t st;
	Ospay__V1__Card *c = NULL;
	cr_assert_eq(add(adm, cust, VISA, "12/2030", "123", "late-1", &c, &st), 0, "%s",
		     st.message);
	cr_assert_eq(c->customer_id, cust);
	ospay__v1__card__free_unpacked(c, NULL);
	cr_assert_eq(sandbox_cielo_cards(), before + 2);
	default_of(cust, &n);
	cr_assert_eq(n, 2);
}

Test(cards, getnet_when_it_runs_the_recurrence)
{
	char url[200], out[4096];
	tsg_register_getnet(&sbx, srv.org_id, "e2e");
	status_t st;
	uint64_t cust = tso_customer(adm, srv.unit_id, 11, "São Paulo");
	/* Both configured, neither recurring: Cielo. */
	tsg_set_getnet(adm, &sbx, "e2e", false);
	Ospay__V1__Card *c = NULL;
	cr_assert_eq(add(adm, cust, VISA, "12/2030", "123", NULL, &c, &st), 0, "%s", st.message);
	cr_assert_eq(c->gateway, OSPAY__V1__GATEWAY_KIND__GATEWAY_KIND_CIELO);
	ospay__v1__card__free_unpacked(c, NULL);
	/* GetNet runs the automatic recurrence: cards go there. */
	tsg_set_gateway(adm, &sbx, OSPAY__V1__GATEWAY_KIND__GATEWAY_KIND_GETNET, "getnet", NULL,
			true);
	cr_assert_eq(add(adm, cust, MASTER, "12/2030", "123", NULL, &c, &st), 0, "%s", st.message);
	cr_assert_eq(c->gateway, OSPAY__V1__GATEWAY_KIND__GATEWAY_KIND_GETNET);
	cr_assert_eq(c->brand, OSPAY__V1__CARD_BRAND__CARD_BRAND_MASTERCARD);
	ospay__v1__card__free_unpacked(c, NULL);
	/* GetNet takes no Discover card: refused before anything is sent, nothing stored. */
	cr_assert_eq(add(adm, cust, "6011111111111117", "12/2030", "123", NULL, NULL, &st), 9);
	cr_assert_not_null(strstr(st.message, "getnet"), "%s", st.message);
	size_t n = 0;
	default_of(cust, &n);
	cr_assert_eq(n, 2);
	snprintf(url, sizeof(url), "%s/control/health", sbx.base);
	cr_assert_eq(tsp_http("GET", url, NULL, NULL, NULL, out, sizeof(out)), 200);
	cr_assert_not_null(strstr(out, "\"getnet_cards\":1"), "%s", out);
}

/* An organization without a card gateway. */
static void setup_nogw(void)
{
	adm = tsp_env_up(&srv, NULL, NULL, NULL);
}

static void teardown_nogw(void)
{
	tsp_env_down(&srv, NULL, adm);
}

TestSuite(cards_nogw, .init = setup_nogw, .fini = teardown_nogw, .timeout = 60);

Test(cards_nogw, add_needs_a_card_gateway)
{
	uint64_t cust = tso_customer(adm, srv.unit_id, 1, "São Paulo");
	status_t st;
	cr_assert_eq(add(adm, cust, VISA, "12/2030", "123", NULL, NULL, &st), 9);
	cr_assert_not_null(strstr(st.message, "gateway"), "%s", st.message);
}

/*
 * A new customer's (n) Cards/Add, call id call with idempotency key key, sent
 * while the sandbox's next card_create has a fault (kind: the fault's JSON
 * members, "\"kind\":\"timeout\""); once the call reached the gateway, ospayd
 * is stopped with SIGTERM. The customer's id.
 */
static uint64_t add_then_stop(uint32_t n, uint64_t call, const char *key, const char *kind)
{
	uint64_t cust = tso_customer(adm, srv.unit_id, n, "São Paulo");
	char fault[200];
	snprintf(fault, sizeof(fault),
		 "{\"service\":\"cielo\",\"route\":\"card_create\",%s,\"count\":1}", kind);
	uint64_t f = tsg_fault(&sbx, fault);
	send_add(adm, call, cust, key, 0);
	TSP_AWAIT(tsg_fault_hit(&sbx, f), "the Add never reached the gateway");
	tsp_server_stop(&srv);
	return cust;
}

/* Serves the stopped ospayd's data again and logs in as admin. */
static void restart(void)
{
	close(adm);
	cr_assert_eq(tsp_server_start(&srv, NULL), 0);
	adm = tsp_login(&srv, srv.admin_token);
}

Test(cards, shutdown_waits_for_a_pending_add)
{
	/* SIGTERM drains: the pending call is finished, committed and answered first. */
	uint64_t cust = add_then_stop(12, 801, "drain-1", "\"kind\":\"latency\",\"ms\":1000");
	uint64_t id = 0;
	int code = -1;
	cr_assert_eq(tsp_recv_response(adm, &id, &code, NULL, NULL, TSP_HANG_MS), 0);
	cr_assert_eq(id, 801);
	cr_assert_eq(code, 0);
	restart();
	size_t n = 0;
	cr_assert_neq(default_of(cust, &n), 0);
	cr_assert_eq(n, 1);
}

Test(cards, shutdown_with_a_gateway_that_never_answers)
{
	/* The drain gives up on the call (or the gateway's timeout ends it): a clean exit. */
	uint64_t cust = add_then_stop(13, 901, "stuck-1", "\"kind\":\"timeout\"");
	uint64_t id = 0;
	int code = -1;
	if (tsp_recv_response(adm, &id, &code, NULL, NULL, 1000) == 0)
		cr_assert_eq(code, 14, "a stuck tokenization is UNAVAILABLE, got %d", code);
	restart();
	size_t n = 0;
	default_of(cust, &n);
	cr_assert_eq(n, 0);
}

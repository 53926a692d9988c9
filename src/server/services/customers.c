/* Customers and their services (docs/spec.md 4.2). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "common/log.h"
#include "common/util.h"
#include "core/addr.h"
#include "core/contact.h"
#include "core/doc.h"
#include "core/money.h"
#include "server/db/db.h"
#include "server/rpc/kit.h"
#include "server/rpc/srv.h"
#include "server/services/services.h"

#define CUST_NAME_MAX 200
#define STREET_MAX 200
#define NUMBER_MAX 20
#define PLAN_NAME_MAX 100

/* Normalized forms of what a person typed, owned by the handler's stack. */
typedef struct cust_norm {
	char doc[DOC_MAX_DIGITS + 1];
	int doc_type;
	char phone[CONTACT_PHONE_MAX + 1];
	char uf[3];
	char cep[9];
	Ospay__V1__Address addr;
} cust_norm_t;

static void check_document(srv_req_t *r, const char *in, cust_norm_t *n)
{
	const char *why = NULL;
	n->doc_type = doc_parse(in, n->doc, &why);
	if (n->doc_type == DOC_NONE)
		status_violation(&r->st, "document", "%s", why);
}

static void check_phone(srv_req_t *r, const char *in, cust_norm_t *n)
{
	n->phone[0] = '\0';
	if (in[0] == '\0')
		return;
	const char *why = contact_phone_parse(in, n->phone);
	if (why != NULL)
		status_violation(&r->st, "phone", "%s", why);
}

static void check_email(srv_req_t *r, const char *in)
{
	const char *why = in[0] != '\0' ? contact_email_check(in) : NULL;
	if (why != NULL)
		status_violation(&r->st, "email", "%s", why);
}

/* Validates the address and fills n->addr with it, state and CEP normalized. */
static void check_address(srv_req_t *r, const Ospay__V1__Address *a, cust_norm_t *n)
{
	const char *why;
	ospay__v1__address__init(&n->addr);
	if (a == NULL) {
		status_violation(&r->st, "address", "required: the installation address");
		return;
	}
	kit_check_name(r, "address.street", a->street, STREET_MAX);
	kit_check_text(r, "address.number", a->number, NUMBER_MAX);
	kit_check_text(r, "address.complement", a->complement, KIT_NAME_MAX);
	kit_check_text(r, "address.district", a->district, KIT_NAME_MAX);
	kit_check_name(r, "address.city", a->city, KIT_NAME_MAX);
	why = addr_uf_parse(a->state, n->uf);
	if (why != NULL)
		status_violation(&r->st, "address.state", "%s", why);
	why = addr_cep_parse(a->cep, n->cep);
	if (why != NULL)
		status_violation(&r->st, "address.cep", "%s", why);
	n->addr = *a;
	n->addr.state = n->uf;
	n->addr.cep = n->cep;
}

static int doc_taken(srv_req_t *r, uint64_t holder)
{
	return srv_fail(r, ST_ALREADY_EXISTS, "customer %llu of this unit has that document",
			(unsigned long long)holder);
}

int h_customers_create(srv_req_t *r, store_txn_t *txn)
{
	const Ospay__V1__CustomersCreateRequest *in = (const void *)r->in;
	cust_norm_t n;
	Ospay__V1__Customer c = OSPAY__V1__CUSTOMER__INIT;
	uint64_t holder = 0;
	int rc = kit_unit_for_create(r, txn, "unit_id", in->unit_id, PERM_OPERATE, &c.unit_id);
	/* A bad unit_id is one violation among the others; not seeing it ends here. */
	if (rc != 0 || (!srv_ok(r) && r->st.code != ST_INVALID_ARGUMENT))
		return rc;
	kit_check_name(r, "name", in->name, CUST_NAME_MAX);
	check_document(r, in->document, &n);
	check_phone(r, in->phone, &n);
	check_email(r, in->email);
	check_address(r, in->address, &n);
	rc = kit_new_id(r, txn, "customer", &c.id);
	if (rc != 0 || !srv_ok(r))
		return rc;
	c.organization_id = r->sess->p.org_id;
	c.name = in->name;
	c.document = n.doc;
	c.document_type = n.doc_type;
	c.phone = n.phone;
	c.email = in->email;
	c.address = &n.addr;
	c.created_ms = c.updated_ms = r->now_ms;
	rc = db_customer_put(txn, NULL, &c, &holder);
	if (rc == -EEXIST)
		return doc_taken(r, holder);
	if (rc != 0)
		return srv_store_fail(r, rc, "customer insert");
	rc = kit_reply_one(r, &ospay__v1__customers_create_response__descriptor, &c.base);
	log_info("customer created", "customer_id=%llu unit=%llu by=%llu", (unsigned long long)c.id,
		 (unsigned long long)c.unit_id, (unsigned long long)r->sess->p.token_id);
	return rc;
}

int h_customers_get(srv_req_t *r, store_txn_t *txn)
{
	const Ospay__V1__CustomersGetRequest *in = (const void *)r->in;
	return kit_reply_get(r, txn, &kit_customers, "id", in->id, PERM_READ,
			     &ospay__v1__customers_get_response__descriptor);
}

/* A document filter finds at most one customer per unit: no paging needed. */
static int list_by_document(srv_req_t *r, store_txn_t *txn,
			    const Ospay__V1__CustomersListRequest *in)
{
	char doc[DOC_MAX_DIGITS + 1];
	const char *why = NULL;
	uint64_t *units = NULL;
	size_t nu = 0, cnt = 0;
	Ospay__V1__Customer **found = NULL;
	int rc = 0;
	if (doc_parse(in->document, doc, &why) == DOC_NONE) {
		status_violation(&r->st, "document", "%s", why);
		goto out;
	}
	if (in->page_token[0] != '\0') {
		status_violation(&r->st, "page_token", "a document filter has a single page");
		goto out;
	}
	rc = kit_scope_units(r, txn, in->unit_id, &units, &nu);
	if (rc != 0)
		goto out;
	found = calloc(nu + 1, sizeof(*found));
	if (found == NULL) {
		rc = -ENOMEM;
		goto out;
	}
	for (size_t i = 0; i < nu && rc == 0; i++) {
		uint64_t id;
		rc = db_customer_by_doc(txn, units[i], doc, &id);
		if (rc == -ENOENT) {
			rc = 0;
			continue;
		}
		if (rc == 0)
			rc = kit_load(txn, DB_CUSTOMERS, id, &ospay__v1__customer__descriptor,
				      &found[cnt]);
		if (rc == 0)
			cnt++;
	}
	if (rc != 0)
		goto out;
	Ospay__V1__CustomersListResponse resp = OSPAY__V1__CUSTOMERS_LIST_RESPONSE__INIT;
	resp.customers = found;
	resp.n_customers = cnt;
	resp.next_page_token = "";
	rc = srv_reply_msg(r, &resp.base);
out:
	if (rc < 0 && rc != -ENOMEM)
		rc = srv_store_fail(r, rc, "customers by document");
	for (size_t i = 0; i < cnt; i++)
		ospay__v1__customer__free_unpacked(found[i], NULL);
	free(found);
	free(units);
	return rc;
}

int h_customers_list(srv_req_t *r, store_txn_t *txn)
{
	const Ospay__V1__CustomersListRequest *in = (const void *)r->in;
	if (in->document[0] != '\0')
		return list_by_document(r, txn, in);
	return kit_reply_list_by_unit(r, txn, &kit_customers, DB_CUSTOMERS_BY_UNIT,
				      KIT_TOK_CUSTOMERS, in->unit_id, in->page_size, in->page_token,
				      &ospay__v1__customers_list_response__descriptor);
}

enum { CU_NAME, CU_DOCUMENT, CU_PHONE, CU_EMAIL, CU_ADDRESS };
static const char *const cust_paths[] = {"name", "document", "phone", "email", "address"};

int h_customers_update(srv_req_t *r, store_txn_t *txn)
{
	const Ospay__V1__CustomersUpdateRequest *in = (const void *)r->in;
	Ospay__V1__Customer *old = NULL;
	cust_norm_t n;
	uint64_t holder = 0;
	bool bad;
	int rc = kit_get(r, txn, &kit_customers, "id", in->id, PERM_OPERATE, &old);
	if (rc != 0 || !srv_ok(r))
		return rc;
	uint32_t m = kit_mask_parse(r, in->update_mask, in->n_update_mask, cust_paths,
				    OSPAY_ARRAY_LEN(cust_paths), &bad);
	if (in->n_update_mask == 0) {
		/* AIP-134: no mask means every field that was given. */
		m = (in->name[0] != '\0') << CU_NAME | (in->document[0] != '\0') << CU_DOCUMENT |
		    (in->phone[0] != '\0') << CU_PHONE | (in->email[0] != '\0') << CU_EMAIL |
		    (in->address != NULL) << CU_ADDRESS;
	}
	Ospay__V1__Customer c = *old;
	if (m & (1u << CU_NAME)) {
		kit_check_name(r, "name", in->name, CUST_NAME_MAX);
		c.name = in->name;
	}
	if (m & (1u << CU_DOCUMENT)) {
		check_document(r, in->document, &n);
		c.document = n.doc;
		c.document_type = n.doc_type;
	}
	if (m & (1u << CU_PHONE)) {
		check_phone(r, in->phone, &n);
		c.phone = n.phone;
	}
	if (m & (1u << CU_EMAIL)) {
		check_email(r, in->email);
		c.email = in->email;
	}
	if (m & (1u << CU_ADDRESS)) {
		check_address(r, in->address, &n);
		c.address = &n.addr;
	}
	if (!srv_ok(r) || bad)
		return rc;
	c.updated_ms = r->now_ms;
	rc = db_customer_put(txn, old, &c, &holder);
	if (rc == -EEXIST)
		return doc_taken(r, holder);
	if (rc != 0)
		return srv_store_fail(r, rc, "customer update");
	return kit_reply_one(r, &ospay__v1__customers_update_response__descriptor, &c.base);
}

/* ------------------------------------------------------------------ services */

static void check_amount(srv_req_t *r, const char *field, int64_t amount)
{
	if (amount < 0 || amount > MONEY_MAX_CENTAVOS)
		status_violation(&r->st, field, "must be 0..%lld centavos",
				 (long long)MONEY_MAX_CENTAVOS);
}

/*
 * recurring_payment.card_id (when not 0) must be a stored card of the
 * service's own customer, not replaced by its issuer: a card of nobody's, one
 * removed (Cards/Remove deletes the record), a replaced one or another
 * customer's would be passed over by the
 * billing run, which would then charge the default card unasked. The
 * violation reads the same in all three cases, so a unit-scoped token learns
 * nothing of other units' cards. 0, or a negative errno (store failure).
 */
static int check_service_card(srv_req_t *r, store_txn_t *txn, uint64_t customer_id,
			      const Ospay__V1__RecurringPayment *rp)
{
	Ospay__V1__CardRecord *card = NULL;
	int rc = 0;
	if (rp == NULL || rp->card_id == 0)
		return rc;
	rc = kit_read(r, txn, DB_CARDS, rp->card_id, &ospay__v1__card_record__descriptor, &card);
	if (rc != 0 && rc != -ENOENT)
		return rc;
	if (rc == 0 && card->card != NULL && card->card->customer_id == customer_id &&
	    card->card->status == OSPAY__V1__CARD_STATUS__CARD_STATUS_REPLACED) {
		/* The issuer replaced it: the billing run would pass it over. */
		status_violation(&r->st, "recurring_payment.card_id",
				 "card %llu was replaced by card %llu; choose that one",
				 (unsigned long long)card->card->id,
				 (unsigned long long)card->card->replaced_by);
		return rc;
	}
	if (rc == 0 && card->card != NULL && card->card->customer_id == customer_id)
		return rc;
	rc = 0;
	status_violation(&r->st, "recurring_payment.card_id",
			 "no card %llu among customer %llu's cards (0 = the default card)",
			 (unsigned long long)rp->card_id, (unsigned long long)customer_id);
	return rc;
}

#define RAIL(x) OSPAY__V1__PAYMENT_RAIL__PAYMENT_RAIL_##x
#define PIX_STATE(x) OSPAY__V1__PIX_AUTHORIZATION_STATE__PIX_AUTHORIZATION_STATE_##x

/*
 * recurring_payment.rail: Pix Automático only over an ACCEPTED authorization
 * (the billing run would charge nothing else); AuthorizePix's switch_rail
 * does it when the payer accepts.
 */
static void check_service_rail(srv_req_t *r, const Ospay__V1__CustomerService *svc,
			       const Ospay__V1__RecurringPayment *rp)
{
	if (rp->rail != RAIL(UNSPECIFIED) && rp->rail != RAIL(CARD) &&
	    rp->rail != RAIL(PIX_AUTOMATICO)) {
		status_violation(&r->st, "recurring_payment.rail",
				 "PAYMENT_RAIL_CARD or PAYMENT_RAIL_PIX_AUTOMATICO");
		return;
	}
	if (rp->rail != RAIL(PIX_AUTOMATICO) ||
	    (svc != NULL && svc->pix != NULL && svc->pix->state == PIX_STATE(ACCEPTED)))
		return;
	const ProtobufCEnumValue *v = protobuf_c_enum_descriptor_get_value(
		&ospay__v1__pix_authorization_state__descriptor,
		svc != NULL && svc->pix != NULL ? (int)svc->pix->state : 0);
	status_violation(&r->st, "recurring_payment.rail",
			 "PAYMENT_RAIL_PIX_AUTOMATICO needs an ACCEPTED Pix authorization "
			 "(the service's is %s; AuthorizePix first)",
			 svc != NULL && svc->pix != NULL && v != NULL ? v->name : "none");
}

int h_customers_add_service(srv_req_t *r, store_txn_t *txn)
{
	const Ospay__V1__CustomersAddServiceRequest *in = (const void *)r->in;
	Ospay__V1__Customer *c = NULL;
	Ospay__V1__CustomerService s = OSPAY__V1__CUSTOMER_SERVICE__INIT;
	int rc = kit_get(r, txn, &kit_customers, "customer_id", in->customer_id, PERM_OPERATE, &c);
	if (rc != 0 || !srv_ok(r))
		return rc;
	kit_check_name(r, "plan_name", in->plan_name, PLAN_NAME_MAX);
	check_amount(r, "monthly_amount", in->monthly_amount);
	rc = check_service_card(r, txn, c->id, in->recurring_payment);
	if (rc != 0)
		return srv_store_fail(r, rc, "card lookup");
	if (in->recurring_payment != NULL)
		check_service_rail(r, NULL, in->recurring_payment);
	rc = kit_new_id(r, txn, "service", &s.id);
	if (rc != 0 || !srv_ok(r))
		return rc;
	Ospay__V1__RecurringPayment off = OSPAY__V1__RECURRING_PAYMENT__INIT;
	s.organization_id = c->organization_id;
	s.unit_id = c->unit_id;
	s.customer_id = c->id;
	s.plan_name = in->plan_name;
	s.monthly_amount = in->monthly_amount;
	s.recurring_payment = in->recurring_payment != NULL ? in->recurring_payment : &off;
	s.status = OSPAY__V1__SERVICE_STATUS__SERVICE_STATUS_ACTIVE;
	s.created_ms = s.updated_ms = r->now_ms;
	rc = db_service_insert(txn, &s);
	if (rc != 0)
		return srv_store_fail(r, rc, "service insert");
	return kit_reply_one(r, &ospay__v1__customers_add_service_response__descriptor, &s.base);
}

enum { SU_PLAN, SU_AMOUNT, SU_RECURRING, SU_STATUS };
static const char *const svc_paths[] = {"plan_name", "monthly_amount", "recurring_payment",
					"status"};

int h_customers_update_service(srv_req_t *r, store_txn_t *txn)
{
	const Ospay__V1__CustomersUpdateServiceRequest *in = (const void *)r->in;
	Ospay__V1__CustomerService *old = NULL;
	bool bad;
	int rc = kit_get(r, txn, &kit_services, "service_id", in->service_id, PERM_OPERATE, &old);
	if (rc != 0 || !srv_ok(r))
		return rc;
	uint32_t m = kit_mask_parse(r, in->update_mask, in->n_update_mask, svc_paths,
				    OSPAY_ARRAY_LEN(svc_paths), &bad);
	if (in->n_update_mask == 0)
		m = (in->plan_name[0] != '\0') << SU_PLAN | (in->monthly_amount != 0) << SU_AMOUNT |
		    (in->recurring_payment != NULL) << SU_RECURRING |
		    (in->status != 0) << SU_STATUS;
	Ospay__V1__RecurringPayment off = OSPAY__V1__RECURRING_PAYMENT__INIT;
	Ospay__V1__CustomerService s = *old;
	if (m & (1u << SU_PLAN)) {
		kit_check_name(r, "plan_name", in->plan_name, PLAN_NAME_MAX);
		s.plan_name = in->plan_name;
	}
	if (m & (1u << SU_AMOUNT)) {
		check_amount(r, "monthly_amount", in->monthly_amount);
		s.monthly_amount = in->monthly_amount;
	}
	if (m & (1u << SU_RECURRING)) {
		s.recurring_payment = in->recurring_payment != NULL ? in->recurring_payment : &off;
		/* A new choice supersedes the note of a removed card. */
		s.card_fallback = NULL;
		rc = check_service_card(r, txn, old->customer_id, s.recurring_payment);
		if (rc != 0)
			return srv_store_fail(r, rc, "card lookup");
		check_service_rail(r, old, s.recurring_payment);
	}
	if (m & (1u << SU_STATUS)) {
		if (in->status != OSPAY__V1__SERVICE_STATUS__SERVICE_STATUS_ACTIVE &&
		    in->status != OSPAY__V1__SERVICE_STATUS__SERVICE_STATUS_BLOCKED)
			status_violation(&r->st, "status",
					 "SERVICE_STATUS_ACTIVE or SERVICE_STATUS_BLOCKED");
		s.status = in->status;
	}
	if (!srv_ok(r) || bad)
		return rc;
	s.updated_ms = r->now_ms;
	rc = db_put_by_id(txn, DB_SERVICES, s.id, &s.base);
	if (rc != 0)
		return srv_store_fail(r, rc, "service update");
	return kit_reply_one(r, &ospay__v1__customers_update_service_response__descriptor, &s.base);
}

/* The customers a token sees, ascending (free *out): ListServices without a customer. */
static int customers_in_scope(srv_req_t *r, store_txn_t *txn, uint64_t **out, size_t *n)
{
	uint64_t *units = NULL;
	size_t nu = 0;
	*out = NULL;
	*n = 0;
	int rc = kit_scope_units(r, txn, 0, &units, &nu);
	if (rc == 0)
		rc = db_index_ids(txn, DB_CUSTOMERS_BY_UNIT, units, nu, out, n);
	free(units);
	return rc;
}

/* The request's pix_state and rail filters (CARD also matches records before Pix). */
static bool service_matches(const Ospay__V1__CustomersListServicesRequest *in,
			    const Ospay__V1__CustomerService *s)
{
	int rail = s->recurring_payment != NULL ? (int)s->recurring_payment->rail : 0;
	if (in->pix_state != PIX_STATE(UNSPECIFIED) &&
	    (s->pix == NULL || s->pix->state != in->pix_state))
		return false;
	if (in->rail == RAIL(CARD))
		return rail == RAIL(UNSPECIFIED) || rail == RAIL(CARD);
	return in->rail == RAIL(UNSPECIFIED) || rail == (int)in->rail;
}

/*
 * One customer's services, or (customer_id 0) every customer's the token sees,
 * by service id. The filters apply to each page walked: a page may hold fewer
 * than page_size services (even none) and still have a next one.
 */
int h_customers_list_services(srv_req_t *r, store_txn_t *txn)
{
	const Ospay__V1__CustomersListServicesRequest *in = (const void *)r->in;
	Ospay__V1__Customer *c = NULL;
	ProtobufCMessage **items = NULL;
	uint64_t *ids = NULL;
	size_t n = 0, nids = 0, kept = 0;
	char next[KIT_TOKEN_MAX];
	int rc = 0;
	if (in->pix_state < PIX_STATE(UNSPECIFIED) ||
	    in->pix_state > PIX_STATE(CANCELED_BY_RECEIVER))
		status_violation(&r->st, "pix_state", "a PixAuthorizationState");
	if (in->rail < RAIL(UNSPECIFIED) || in->rail > RAIL(PIX_AUTOMATICO))
		status_violation(&r->st, "rail", "a PaymentRail");
	if (!srv_ok(r))
		goto out;
	if (in->customer_id != 0) {
		rc = kit_get(r, txn, &kit_customers, "customer_id", in->customer_id, PERM_READ, &c);
		if (rc != 0 || !srv_ok(r))
			goto out;
	} else {
		rc = customers_in_scope(r, txn, &ids, &nids);
		if (rc != 0) {
			rc = srv_store_fail(r, rc, "customers lookup");
			goto out;
		}
	}
	rc = kit_list_by_keys(r, txn, DB_SERVICES_BY_CUST, c != NULL ? &c->id : ids,
			      c != NULL ? 1 : nids, DB_SERVICES,
			      &ospay__v1__customer_service__descriptor, KIT_TOK_SERVICES,
			      in->page_size, in->page_token, &items, &n, next);
	if (rc != 0 || !srv_ok(r))
		goto out;
	for (size_t i = 0; i < n; i++) {
		if (service_matches(in, (const Ospay__V1__CustomerService *)items[i]))
			items[kept++] = items[i];
		else
			protobuf_c_message_free_unpacked(items[i], NULL);
	}
	n = kept;
	rc = kit_reply_list(r, &ospay__v1__customers_list_services_response__descriptor, items, n,
			    next);
out:
	kit_items_free(items, n);
	free(ids);
	return rc;
}

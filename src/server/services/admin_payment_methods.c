/*
 * Admin/CreatePaymentMethod and Admin/ListPaymentMethods (docs/spec.md 4.5): how an
 * organization's orders and invoices are paid. Payment methods belong to the
 * organization, not to a unit, so creating one needs an organization-wide
 * admin; every role lists them.
 */
#include <errno.h>
#include <stdlib.h>

#include "common/log.h"
#include "ospay/v1/admin.pb-c.h"
#include "server/db/db.h"
#include "server/rpc/kit.h"
#include "server/rpc/srv.h"
#include "server/services/services.h"

int h_admin_create_payment_method(srv_req_t *r, store_txn_t *txn)
{
	const Ospay__V1__CreatePaymentMethodRequest *in = (const void *)r->in;
	uint64_t id = 0;
	/* Unit 0: an organization-level record, which perm_check keeps to org-wide tokens. */
	if (!srv_check(r, PERM_CONFIGURE, 0))
		return 0;
	kit_check_name(r, "name", in->name, KIT_NAME_MAX);
	bool recurring =
		in->type == OSPAY__V1__PAYMENT_METHOD_TYPE__PAYMENT_METHOD_TYPE_RECURRING_CREDIT;
	if (in->type <= OSPAY__V1__PAYMENT_METHOD_TYPE__PAYMENT_METHOD_TYPE_UNSPECIFIED ||
	    in->type > OSPAY__V1__PAYMENT_METHOD_TYPE__PAYMENT_METHOD_TYPE_RECURRING_CREDIT)
		status_violation(&r->st, "type",
				 "required: CASH, PIX, BOLETO, CARD or RECURRING_CREDIT");
	if (recurring &&
	    in->operation_mode != OSPAY__V1__OPERATION_MODE__OPERATION_MODE_INTEGRATED &&
	    in->operation_mode != OSPAY__V1__OPERATION_MODE__OPERATION_MODE_MANUAL)
		status_violation(&r->st, "operation_mode",
				 "required for RECURRING_CREDIT: INTEGRATED or MANUAL");
	if (!recurring &&
	    in->operation_mode != OSPAY__V1__OPERATION_MODE__OPERATION_MODE_UNSPECIFIED)
		status_violation(&r->st, "operation_mode", "only RECURRING_CREDIT has one");
	int rc = kit_new_id(r, txn, "payment_method", &id);
	if (rc != 0 || !srv_ok(r))
		return rc;
	Ospay__V1__PaymentMethod pm = OSPAY__V1__PAYMENT_METHOD__INIT;
	pm.id = id;
	pm.organization_id = r->sess->p.org_id;
	pm.name = in->name;
	pm.type = in->type;
	pm.operation_mode = in->operation_mode;
	pm.created_ms = r->now_ms;
	rc = db_put_by_id(txn, DB_PAYMENT_METHODS, id, &pm.base);
	if (rc == 0)
		rc = db_index_add(txn, DB_PAYMENT_METHODS_BY_ORG, pm.organization_id, id);
	if (rc != 0)
		return srv_store_fail(r, rc, "payment method insert");
	rc = kit_reply_one(r, &ospay__v1__create_payment_method_response__descriptor, &pm.base);
	log_info("payment method created", "payment_method_id=%llu type=%d by=%llu",
		 (unsigned long long)id, (int)in->type, (unsigned long long)r->sess->p.token_id);
	return rc;
}

int h_admin_list_payment_methods(srv_req_t *r, store_txn_t *txn)
{
	const Ospay__V1__ListPaymentMethodsRequest *in = (const void *)r->in;
	ProtobufCMessage **items = NULL;
	size_t n = 0;
	char next[KIT_TOKEN_MAX];
	/* Every role of every scope reads them: a unit's staff pick one when finalizing. */
	uint64_t org = r->sess->p.org_id;
	int rc = kit_list_by_keys(r, txn, DB_PAYMENT_METHODS_BY_ORG, &org, 1, DB_PAYMENT_METHODS,
				  &ospay__v1__payment_method__descriptor, KIT_TOK_PAYMENT_METHODS,
				  in->page_size, in->page_token, &items, &n, next);
	if (rc == 0 && srv_ok(r))
		rc = kit_reply_list(r, &ospay__v1__list_payment_methods_response__descriptor, items,
				    n, next);
	kit_items_free(items, n);
	return rc;
}

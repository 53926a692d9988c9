/*
 * Admin/CreatePaymentMethod and Admin/ListPaymentMethods against a real
 * ospayd: validation with field names, organization-wide admins only for
 * creating, every role and scope for listing, paging.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "ospay/v1/admin.pb-c.h"
#include "support/domain.h"
#include "support/enums.h"
#include "support/proc.h"
#include "support/suite.h"

TSP_E2E_SUITE(payment_methods, adm, NULL, NULL, 60);

static int create(int fd, const char *name, int type, int mode, uint64_t *id, status_t *st)
{
	Ospay__V1__CreatePaymentMethodRequest m = OSPAY__V1__CREATE_PAYMENT_METHOD_REQUEST__INIT;
	m.name = (char *)name;
	m.type = type;
	m.operation_mode = mode;
	Ospay__V1__CreatePaymentMethodResponse *r = NULL;
	int code = tsp_call(fd, "ospay.v1.Admin/CreatePaymentMethod", &m.base,
			    &ospay__v1__create_payment_method_response__descriptor,
			    (ProtobufCMessage **)&r, NULL, st);
	if (code == 0) {
		cr_assert_str_eq(r->payment_method->name, name);
		cr_assert_eq(r->payment_method->type, type);
		cr_assert_eq(r->payment_method->operation_mode, mode);
		cr_assert_eq(r->payment_method->organization_id, srv.org_id);
		if (id != NULL)
			*id = r->payment_method->id;
		protobuf_c_message_free_unpacked(&r->base, NULL);
	}
	return code;
}

static Ospay__V1__ListPaymentMethodsResponse *list(int fd, uint32_t page_size, const char *token)
{
	Ospay__V1__ListPaymentMethodsRequest m = OSPAY__V1__LIST_PAYMENT_METHODS_REQUEST__INIT;
	m.page_size = page_size;
	m.page_token = (char *)token;
	Ospay__V1__ListPaymentMethodsResponse *r =
		tsp_call_ok(fd, "ospay.v1.Admin/ListPaymentMethods", &m.base,
			    &ospay__v1__list_payment_methods_response__descriptor);
	return r;
}

Test(payment_methods, create_and_list)
{
	status_t st;
	uint64_t a = 0, b = 0, c = 0;
	cr_assert_eq(create(adm, "Dinheiro", T(CASH), M(UNSPECIFIED), &a, &st), 0, "%s",
		     st.message);
	cr_assert_eq(create(adm, "Crédito recorrente", T(RECURRING_CREDIT), M(INTEGRATED), &b, &st),
		     0, "%s", st.message);
	cr_assert_eq(create(adm, "Recorrente manual", T(RECURRING_CREDIT), M(MANUAL), &c, &st), 0,
		     "%s", st.message);
	cr_assert(a < b && b < c);
	Ospay__V1__ListPaymentMethodsResponse *r = list(adm, 2, "");
	cr_assert_eq(r->n_payment_methods, 2);
	cr_assert_eq(r->payment_methods[0]->id, a);
	cr_assert_eq(r->payment_methods[1]->id, b);
	cr_assert_str_neq(r->next_page_token, "");
	Ospay__V1__ListPaymentMethodsResponse *r2 = list(adm, 2, r->next_page_token);
	cr_assert_eq(r2->n_payment_methods, 1);
	cr_assert_eq(r2->payment_methods[0]->id, c);
	cr_assert_eq(r2->payment_methods[0]->operation_mode, M(MANUAL));
	cr_assert_str_eq(r2->next_page_token, "");
	protobuf_c_message_free_unpacked(&r->base, NULL);
	protobuf_c_message_free_unpacked(&r2->base, NULL);
}

Test(payment_methods, validation)
{
	status_t st;
	cr_assert_eq(create(adm, "", T(UNSPECIFIED), M(UNSPECIFIED), NULL, &st), 3);
	cr_assert(tso_violation(&st, "name"));
	cr_assert(tso_violation(&st, "type"));
	cr_assert_eq(create(adm, "Recorrente", T(RECURRING_CREDIT), M(UNSPECIFIED), NULL, &st), 3);
	cr_assert(tso_violation(&st, "operation_mode"));
	cr_assert_eq(create(adm, "Pix", T(PIX), M(MANUAL), NULL, &st), 3);
	cr_assert(tso_violation(&st, "operation_mode"));
	cr_assert_eq(create(adm, "Estranho", 99, M(UNSPECIFIED), NULL, &st), 3);
	cr_assert(tso_violation(&st, "type"));
}

Test(payment_methods, roles_and_scopes)
{
	status_t st;
	char secret[160];
	uint64_t id = 0;
	cr_assert_eq(create(adm, "Boleto", T(BOLETO), M(UNSPECIFIED), &id, &st), 0);
	/* A unit-scoped admin configures its unit, not the organization. */
	tso_token(adm, 1, srv.unit_id, secret, sizeof(secret));
	int unit_admin = tsp_login(&srv, secret);
	cr_assert_eq(create(unit_admin, "Pix", T(PIX), M(UNSPECIFIED), NULL, &st), 7);
	/* An operator does not configure. */
	tso_token(adm, 2, 0, secret, sizeof(secret));
	int op = tsp_login(&srv, secret);
	cr_assert_eq(create(op, "Pix", T(PIX), M(UNSPECIFIED), NULL, &st), 7);
	/* Everyone lists them. */
	tso_token(adm, 3, srv.unit_id, secret, sizeof(secret));
	int ro = tsp_login(&srv, secret);
	int fds[] = {unit_admin, op, ro};
	for (size_t i = 0; i < 3; i++) {
		Ospay__V1__ListPaymentMethodsResponse *r = list(fds[i], 0, "");
		cr_assert_eq(r->n_payment_methods, 1);
		cr_assert_eq(r->payment_methods[0]->id, id);
		protobuf_c_message_free_unpacked(&r->base, NULL);
		close(fds[i]);
	}
}

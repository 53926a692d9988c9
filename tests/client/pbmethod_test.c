/*
 * common/pbmethod: a method found by its full name gives the request and
 * response types the CLI's table commands and Connect rely on.
 */
#include <criterion/criterion.h>
#include <stdio.h>

#include "common/pblist.h"
#include "common/pbmethod.h"
#include "ospay/v1/admin.pb-c.h"
#include "ospay/v1/orders.pb-c.h"

Test(pbmethod, finds_a_method_and_its_types)
{
	const ProtobufCMethodDescriptor *md = pbmethod_find("ospay.v1.Orders/Get");
	cr_assert_not_null(md);
	cr_assert_eq(md->input, &ospay__v1__orders_get_request__descriptor);
	cr_assert_eq(md->output, &ospay__v1__orders_get_response__descriptor);
	md = pbmethod_find("ospay.v1.Admin/ListUnits");
	cr_assert_not_null(md);
	cr_assert_eq(md->output, &ospay__v1__list_units_response__descriptor);
}

Test(pbmethod, every_method_of_every_service)
{
	size_t n = 0;
	for (size_t i = 0; ospay_pb_services[i] != NULL; i++) {
		const ProtobufCServiceDescriptor *sd = ospay_pb_services[i];
		for (unsigned m = 0; m < sd->n_methods; m++, n++) {
			char name[256];
			snprintf(name, sizeof(name), "%s/%s", sd->name, sd->methods[m].name);
			cr_expect_eq(pbmethod_find(name), &sd->methods[m], "%s", name);
		}
	}
	cr_assert_gt(n, 50);
}

Test(pbmethod, unknown_or_malformed_names)
{
	cr_assert_null(pbmethod_find("ospay.v1.Orders/Nope"));
	cr_assert_null(pbmethod_find("ospay.v1.Order/Get"));
	cr_assert_null(pbmethod_find("ospay.v1.Orders"));
	cr_assert_null(pbmethod_find("ospay.v1.OrdersX/Get"));
	cr_assert_null(pbmethod_find("/Get"));
	cr_assert_null(pbmethod_find(""));
}

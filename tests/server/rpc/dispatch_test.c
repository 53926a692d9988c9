/*
 * The dispatch table against the .proto services: every method of every
 * service the server implements is found (the table is sorted for bsearch)
 * and decodes its own request message.
 */
#include <criterion/criterion.h>
#include <stdio.h>

#include "ospay/v1/admin.pb-c.h"
#include "ospay/v1/agendas.pb-c.h"
#include "ospay/v1/clock.pb-c.h"
#include "ospay/v1/customers.pb-c.h"
#include "ospay/v1/orders.pb-c.h"
#include "ospay/v1/session.pb-c.h"
#include "server/rpc/srv.h"
#include "server/services/services.h"

Test(dispatch, every_proto_method_is_served_with_its_request_type)
{
	const ProtobufCServiceDescriptor *services[] = {
		&ospay__v1__session__descriptor, &ospay__v1__admin__descriptor,
		&ospay__v1__clock__descriptor,   &ospay__v1__customers__descriptor,
		&ospay__v1__agendas__descriptor, &ospay__v1__orders__descriptor,
	};
	for (size_t s = 0; s < sizeof(services) / sizeof(services[0]); s++) {
		for (unsigned i = 0; i < services[s]->n_methods; i++) {
			char name[128];
			snprintf(name, sizeof(name), "%s/%s", services[s]->name,
				 services[s]->methods[i].name);
			const srv_method_t *m = services_method_find(name);
			cr_assert_not_null(m, "%s is not in the dispatch table (or it is unsorted)",
					   name);
			cr_assert_eq(m->in, services[s]->methods[i].input,
				     "%s decodes another type", name);
		}
	}
	cr_assert_null(services_method_find("ospay.v1.Orders/Nope"));
}

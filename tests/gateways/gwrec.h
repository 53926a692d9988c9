/*
 * What a gateway test keeps of one call's callback: how many times it ran and
 * the last result (gwtest.h's recorders and the sandbox end-to-end test fill them).
 */
#ifndef OSPAY_TESTS_GATEWAYS_GWREC_H
#define OSPAY_TESTS_GATEWAYS_GWREC_H

#include "gateways/gateway.h"

struct rec_charge {
	int calls;
	gw_charge_result_t res;
};

struct rec_token {
	int calls;
	gw_token_result_t res;
};

struct rec_link {
	int calls;
	gw_link_result_t res;
};

struct rec_msg {
	int calls;
	gw_message_result_t res;
};

#endif

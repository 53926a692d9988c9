/*
 * Short names for the proto enum values e2e tests compare against, e.g.
 * CHG(APPROVED) for OSPAY__V1__CHARGE_STATUS__CHARGE_STATUS_APPROVED; the ones
 * several suites use (a suite's own stay in it).
 */
#ifndef OSPAY_TESTS_ENUMS_H
#define OSPAY_TESTS_ENUMS_H

#include "ospay/v1/admin.pb-c.h"
#include "ospay/v1/billing.pb-c.h"
#include "ospay/v1/customers.pb-c.h"
#include "ospay/v1/orders.pb-c.h"

#define DAY_MS (24LL * 3600 * 1000)

#define T(x) OSPAY__V1__PAYMENT_METHOD_TYPE__PAYMENT_METHOD_TYPE_##x
#define M(x) OSPAY__V1__OPERATION_MODE__OPERATION_MODE_##x
#define PAY(x) OSPAY__V1__ORDER_PAYMENT_STATUS__ORDER_PAYMENT_STATUS_##x
#define IST(x) OSPAY__V1__INSTALLMENT_STATUS__INSTALLMENT_STATUS_##x
#define INV(x) OSPAY__V1__INVOICE_STATUS__INVOICE_STATUS_##x
#define CHG(x) OSPAY__V1__CHARGE_STATUS__CHARGE_STATUS_##x
#define SVC(x) OSPAY__V1__SERVICE_STATUS__SERVICE_STATUS_##x

#endif

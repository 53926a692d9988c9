#include "support/seed.h"

#include "common/util.h"
#include "ospay/v1/admin.pb-c.h"
#include "server/db/db.h"

int tss_org_units(store_txn_t *txn, uint64_t n_units)
{
	Ospay__V1__Organization org = OSPAY__V1__ORGANIZATION__INIT;
	org.id = 1;
	org.name = "Org";
	org.utc_offset_minutes = -180;
	int rc = db_put_by_id(txn, DB_ORGS, 1, &org.base);
	for (uint64_t id = 1; id <= n_units && rc == 0; id++) {
		Ospay__V1__Unit u = OSPAY__V1__UNIT__INIT;
		u.id = id;
		u.organization_id = 1;
		u.name = "Unit";
		rc = db_unit_insert(txn, &u);
	}
	return rc;
}

int tss_org_unit_fn(store_txn_t *txn, void *arg)
{
	(void)arg;
	return tss_org_units(txn, 1);
}

int tss_broken_order(store_txn_t *txn, uint64_t id)
{
	uint8_t k[8], bad[] = {0x08, 0x08, 0x10, 0x81};
	be64_put(k, id);
	return store_put(txn, DB_ORDERS, k, sizeof(k), bad, sizeof(bad), 0);
}

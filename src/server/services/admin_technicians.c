/* Admin/CreateTechnician and Admin/ListTechnicians: the people orders are assigned to. */
#include <errno.h>
#include <stdlib.h>

#include "common/log.h"
#include "core/contact.h"
#include "ospay/v1/admin.pb-c.h"
#include "server/db/db.h"
#include "server/rpc/kit.h"
#include "server/rpc/srv.h"
#include "server/services/services.h"

int h_admin_create_technician(srv_req_t *r, store_txn_t *txn)
{
	const Ospay__V1__CreateTechnicianRequest *in = (const void *)r->in;
	char phone[CONTACT_PHONE_MAX + 1] = "";
	Ospay__V1__Technician t = OSPAY__V1__TECHNICIAN__INIT;
	const char *why;
	int rc = kit_unit_for_create(r, txn, "unit_id", in->unit_id, PERM_CONFIGURE, &t.unit_id);
	/* A bad unit_id is one violation among the others; not seeing it ends here. */
	if (rc != 0 || (!srv_ok(r) && r->st.code != ST_INVALID_ARGUMENT))
		return rc;
	kit_check_name(r, "name", in->name, KIT_NAME_MAX);
	if (in->phone[0] != '\0') {
		why = contact_phone_parse(in->phone, phone);
		if (why != NULL)
			status_violation(&r->st, "phone", "%s", why);
	}
	why = in->email[0] != '\0' ? contact_email_check(in->email) : NULL;
	if (why != NULL)
		status_violation(&r->st, "email", "%s", why);
	rc = kit_new_id(r, txn, "technician", &t.id);
	if (rc != 0 || !srv_ok(r))
		return rc;
	t.organization_id = r->sess->p.org_id;
	t.name = in->name;
	t.phone = phone;
	t.email = in->email;
	t.created_ms = r->now_ms;
	rc = db_technician_insert(txn, &t);
	if (rc != 0)
		return srv_store_fail(r, rc, "technician insert");
	rc = kit_reply_one(r, &ospay__v1__create_technician_response__descriptor, &t.base);
	log_info("technician created", "technician_id=%llu unit=%llu by=%llu",
		 (unsigned long long)t.id, (unsigned long long)t.unit_id,
		 (unsigned long long)r->sess->p.token_id);
	return rc;
}

int h_admin_list_technicians(srv_req_t *r, store_txn_t *txn)
{
	const Ospay__V1__ListTechniciansRequest *in = (const void *)r->in;
	if (!srv_check(r, PERM_READ, 0))
		return 0;
	return kit_reply_list_by_unit(
		r, txn, &kit_technicians, DB_TECHNICIANS_BY_UNIT, KIT_TOK_TECHNICIANS, in->unit_id,
		in->page_size, in->page_token, &ospay__v1__list_technicians_response__descriptor);
}

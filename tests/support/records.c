#include "support/records.h"

#include <errno.h>

Ospay__V1__Address tsr_place(const char *street, const char *number, const char *city,
			     const char *state, const char *cep)
{
	Ospay__V1__Address a = OSPAY__V1__ADDRESS__INIT;
	a.street = (char *)street; /* protobuf-c fields are not const */
	a.number = (char *)number;
	a.city = (char *)city;
	a.state = (char *)state;
	a.cep = (char *)cep;
	return a;
}

void tsr_address(Ospay__V1__Address *a)
{
	*a = tsr_place("Rua Augusta", "100", "São Paulo", "SP", "01305-000");
	a->district = "Consolação";
}

void tsr_customer(Ospay__V1__CustomersCreateRequest *m, Ospay__V1__Address *a, uint64_t unit,
		  const char *name, const char *document)
{
	tsr_address(a);
	*m = (Ospay__V1__CustomersCreateRequest)OSPAY__V1__CUSTOMERS_CREATE_REQUEST__INIT;
	m->unit_id = unit;
	m->name = (char *)name; /* protobuf-c fields are not const */
	m->document = (char *)document;
	m->phone = "+55 11 98765-4321";
	m->email = "cliente@example.com.br";
	m->address = a;
}

void tsr_card(Ospay__V1__CardsAddRequest *m, uint64_t customer, const char *number)
{
	*m = (Ospay__V1__CardsAddRequest)OSPAY__V1__CARDS_ADD_REQUEST__INIT;
	m->customer_id = customer;
	m->number = (char *)number;
	m->holder = "MARIA DA SILVA";
	m->expiry = "12/2030";
	m->security_code = "123";
}

void tsr_service(Ospay__V1__CustomersAddServiceRequest *m, uint64_t customer,
		 Ospay__V1__RecurringPayment *rp)
{
	*m = (Ospay__V1__CustomersAddServiceRequest)OSPAY__V1__CUSTOMERS_ADD_SERVICE_REQUEST__INIT;
	m->customer_id = customer;
	m->plan_name = "Fibra 500";
	m->monthly_amount = 9990;
	m->recurring_payment = rp;
}

void tsr_service_rp(Ospay__V1__CustomersUpdateServiceRequest *m, uint64_t svc,
		    Ospay__V1__RecurringPayment *rp)
{
	static char *mask[] = {"recurring_payment"};
	*m = (Ospay__V1__CustomersUpdateServiceRequest)
		OSPAY__V1__CUSTOMERS_UPDATE_SERVICE_REQUEST__INIT;
	m->service_id = svc;
	m->recurring_payment = rp;
	m->update_mask = mask;
	m->n_update_mask = 1;
}

void tsr_list_services(Ospay__V1__CustomersListServicesRequest *m, uint64_t customer, int pix_state,
		       int rail)
{
	*m = (Ospay__V1__CustomersListServicesRequest)
		OSPAY__V1__CUSTOMERS_LIST_SERVICES_REQUEST__INIT;
	m->customer_id = customer;
	m->pix_state = pix_state;
	m->rail = rail;
}

size_t tsr_service_ids(const Ospay__V1__CustomersListServicesResponse *r, uint64_t *ids, size_t cap)
{
	size_t n = r->n_services < cap ? r->n_services : cap;
	for (size_t i = 0; i < n; i++)
		ids[i] = r->services[i]->id;
	return n;
}

void tsr_invoice(Ospay__V1__BillingCreateInvoiceRequest *m, uint64_t customer, uint64_t svc,
		 const char *due)
{
	*m = (Ospay__V1__BillingCreateInvoiceRequest)
		OSPAY__V1__BILLING_CREATE_INVOICE_REQUEST__INIT;
	m->customer_id = customer;
	m->service_id = svc;
	m->amount = 9990;
	m->due_date = (char *)due;
}

int tsr_record_id(const ProtobufCMessage *resp, const char *field, uint64_t *id)
{
	const ProtobufCFieldDescriptor *f =
		protobuf_c_message_descriptor_get_field_by_name(resp->descriptor, field);
	if (f == NULL || f->type != PROTOBUF_C_TYPE_MESSAGE ||
	    f->label == PROTOBUF_C_LABEL_REPEATED)
		return -EINVAL;
	const ProtobufCMessage *rec = *(ProtobufCMessage *const *)((const char *)resp + f->offset);
	if (rec == NULL)
		return -EINVAL;
	const ProtobufCFieldDescriptor *idf =
		protobuf_c_message_descriptor_get_field_by_name(rec->descriptor, "id");
	if (idf == NULL || idf->type != PROTOBUF_C_TYPE_UINT64 ||
	    idf->label == PROTOBUF_C_LABEL_REPEATED)
		return -EINVAL;
	*id = *(const uint64_t *)((const char *)rec + idf->offset);
	return 0;
}

int tsr_list_has(const ProtobufCMessage *resp, const char *field, uint64_t id)
{
	const ProtobufCFieldDescriptor *f =
		protobuf_c_message_descriptor_get_field_by_name(resp->descriptor, field);
	if (f == NULL || f->type != PROTOBUF_C_TYPE_MESSAGE ||
	    f->label != PROTOBUF_C_LABEL_REPEATED)
		return -EINVAL;
	const ProtobufCMessageDescriptor *rd = f->descriptor;
	const ProtobufCFieldDescriptor *idf =
		protobuf_c_message_descriptor_get_field_by_name(rd, "id");
	if (idf == NULL || idf->type != PROTOBUF_C_TYPE_UINT64 ||
	    idf->label == PROTOBUF_C_LABEL_REPEATED)
		return -EINVAL;
	size_t n = *(const size_t *)((const char *)resp + f->quantifier_offset);
	ProtobufCMessage *const *recs =
		*(ProtobufCMessage *const *const *)((const char *)resp + f->offset);
	for (size_t i = 0; i < n; i++)
		if (*(const uint64_t *)((const char *)recs[i] + idf->offset) == id)
			return 1;
	return 0;
}

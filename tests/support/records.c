#include "support/records.h"

#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

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

long tsr_list_len(const ProtobufCMessage *resp, const char *field)
{
	const ProtobufCFieldDescriptor *f =
		protobuf_c_message_descriptor_get_field_by_name(resp->descriptor, field);
	if (f == NULL || f->type != PROTOBUF_C_TYPE_MESSAGE ||
	    f->label != PROTOBUF_C_LABEL_REPEATED)
		return -EINVAL;
	return (long)*(const size_t *)((const char *)resp + f->quantifier_offset);
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

/* Keeps p to free with the variant; NULL (p freed) when it is NULL or there is no room. */
static void *variant_own(tsr_variant_t *v, void *p)
{
	if (p == NULL || v->n_owned == sizeof(v->owned) / sizeof(v->owned[0])) {
		free(p);
		return NULL;
	}
	v->owned[v->n_owned++] = p;
	return p;
}

static bool variant_owns(const tsr_variant_t *v, const void *p)
{
	for (size_t i = 0; i < v->n_owned; i++)
		if (v->owned[i] == p)
			return true;
	return false;
}

static ProtobufCMessage *variant_copy(tsr_variant_t *v, const ProtobufCMessage *m)
{
	size_t n = m->descriptor->sizeof_message;
	ProtobufCMessage *c = variant_own(v, malloc(n));
	if (c != NULL)
		memcpy(c, m, n);
	return c;
}

int tsr_variant_init(tsr_variant_t *v, const ProtobufCMessage *valid)
{
	v->n_owned = 0;
	v->msg = variant_copy(v, valid);
	return v->msg != NULL ? 0 : -ENOMEM;
}

void tsr_variant_free(tsr_variant_t *v)
{
	for (size_t i = 0; i < v->n_owned; i++)
		free(v->owned[i]);
	v->n_owned = 0;
	v->msg = NULL;
}

/* The field of m named by the len bytes at name; NULL when there is none. */
static const ProtobufCFieldDescriptor *variant_field(const ProtobufCMessage *m, const char *name,
						     size_t len)
{
	char buf[64];
	if (len >= sizeof(buf))
		return NULL;
	memcpy(buf, name, len);
	buf[len] = '\0';
	return protobuf_c_message_descriptor_get_field_by_name(m->descriptor, buf);
}

/* value split at its commas into one allocation: the array, then the strings. */
static int variant_list(tsr_variant_t *v, const char *value, char ***list, size_t *n)
{
	size_t len = strlen(value), count = 1;
	for (const char *p = value; *p != '\0'; p++)
		count += *p == ',';
	char **items = variant_own(v, malloc(count * sizeof(char *) + len + 1));
	if (items == NULL)
		return -ENOMEM;
	char *text = memcpy(items + count, value, len + 1);
	for (size_t i = 0; i < count; i++) {
		items[i] = text;
		text += strcspn(text, ",");
		*text++ = '\0';
	}
	*list = items;
	*n = count;
	return 0;
}

/* A singular scalar field of type t (with enum descriptor ed) at slot, read from value. */
static int variant_scalar(void *slot, ProtobufCType t, const ProtobufCEnumDescriptor *ed,
			  const char *value)
{
	if (t == PROTOBUF_C_TYPE_STRING) {
		*(char **)slot = (char *)value; /* protobuf-c fields are not const */
		return 0;
	}
	const ProtobufCEnumValue *named =
		t == PROTOBUF_C_TYPE_ENUM ? protobuf_c_enum_descriptor_get_value_by_name(ed, value)
					  : NULL;
	if (named != NULL) {
		*(int *)slot = named->value;
		return 0;
	}
	char *end;
	errno = 0;
	long long s = strtoll(value, &end, 10);
	if (errno != 0 || end == value || *end != '\0')
		return -EINVAL;
	switch (t) {
	case PROTOBUF_C_TYPE_INT32:
	case PROTOBUF_C_TYPE_SINT32:
	case PROTOBUF_C_TYPE_SFIXED32:
	case PROTOBUF_C_TYPE_ENUM:
		*(int32_t *)slot = (int32_t)s;
		return 0;
	case PROTOBUF_C_TYPE_UINT32:
	case PROTOBUF_C_TYPE_FIXED32:
		*(uint32_t *)slot = (uint32_t)s;
		return 0;
	case PROTOBUF_C_TYPE_INT64:
	case PROTOBUF_C_TYPE_SINT64:
	case PROTOBUF_C_TYPE_SFIXED64:
		*(int64_t *)slot = s;
		return 0;
	case PROTOBUF_C_TYPE_UINT64:
	case PROTOBUF_C_TYPE_FIXED64:
		*(uint64_t *)slot = (uint64_t)s;
		return 0;
	case PROTOBUF_C_TYPE_BOOL:
		*(protobuf_c_boolean *)slot = s != 0;
		return 0;
	default:
		return -EINVAL;
	}
}

int tsr_variant_set(tsr_variant_t *v, const char *path, const char *value)
{
	ProtobufCMessage *m = v->msg;
	/* Every message on the way becomes the variant's own copy before it changes. */
	for (const char *dot = strchr(path, '.'); dot != NULL; dot = strchr(path, '.')) {
		const ProtobufCFieldDescriptor *f = variant_field(m, path, (size_t)(dot - path));
		if (f == NULL || f->type != PROTOBUF_C_TYPE_MESSAGE ||
		    f->label == PROTOBUF_C_LABEL_REPEATED)
			return -EINVAL;
		ProtobufCMessage **sub = (ProtobufCMessage **)((char *)m + f->offset);
		if (*sub == NULL)
			return -EINVAL;
		if (!variant_owns(v, *sub))
			*sub = variant_copy(v, *sub);
		if (*sub == NULL)
			return -ENOMEM;
		m = *sub;
		path = dot + 1;
	}
	const ProtobufCFieldDescriptor *f = variant_field(m, path, strlen(path));
	if (f == NULL)
		return -EINVAL;
	void *slot = (char *)m + f->offset;
	if (f->label == PROTOBUF_C_LABEL_REPEATED) {
		size_t *n = (size_t *)((char *)m + f->quantifier_offset);
		if (value == NULL) {
			*(void **)slot = NULL;
			*n = 0;
			return 0;
		}
		return f->type == PROTOBUF_C_TYPE_STRING ? variant_list(v, value, slot, n)
							 : -EINVAL;
	}
	if (f->type == PROTOBUF_C_TYPE_MESSAGE && value == NULL) {
		*(void **)slot = NULL;
		return 0;
	}
	if (value == NULL || f->type == PROTOBUF_C_TYPE_MESSAGE || f->type == PROTOBUF_C_TYPE_BYTES)
		return -EINVAL;
	return variant_scalar(slot, f->type, f->descriptor, value);
}

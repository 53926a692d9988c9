#include "common/pbmethod.h"

#include <string.h>

#include "common/pblist.h"

const ProtobufCMethodDescriptor *pbmethod_find(const char *name)
{
	const char *slash = strchr(name, '/');
	if (slash == NULL)
		return NULL;
	size_t n = (size_t)(slash - name);
	for (size_t i = 0; ospay_pb_services[i] != NULL; i++) {
		const ProtobufCServiceDescriptor *sd = ospay_pb_services[i];
		if (strlen(sd->name) == n && strncmp(sd->name, name, n) == 0)
			return protobuf_c_service_descriptor_get_method_by_name(sd, slash + 1);
	}
	return NULL;
}

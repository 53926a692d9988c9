/*
 * A method of the proto services by its full name ("ospay.v1.Orders/Get"), from
 * the generated service descriptors (pblist.h): its request and response types.
 */
#ifndef OSPAY_COMMON_PBMETHOD_H
#define OSPAY_COMMON_PBMETHOD_H

#include <protobuf-c/protobuf-c.h>

/* The method's descriptor, or NULL when no service has it. */
const ProtobufCMethodDescriptor *pbmethod_find(const char *name);

#endif

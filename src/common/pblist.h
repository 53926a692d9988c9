/*
 * Every message and service descriptor of proto/ospay/v1, NULL-terminated
 * (generated at build time by scripts/pb-list.sh into the proto library).
 */
#ifndef OSPAY_COMMON_PBLIST_H
#define OSPAY_COMMON_PBLIST_H

#include <protobuf-c/protobuf-c.h>

extern const ProtobufCMessageDescriptor *const ospay_pb_messages[];
extern const ProtobufCServiceDescriptor *const ospay_pb_services[];

#endif

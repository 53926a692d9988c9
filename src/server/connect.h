/*
 * Every RPC method over HTTPS, unary Connect protocol (docs/connect.md):
 * POST /ospay.v1.<Service>/<Method> with a JSON (proto3 canonical) or binary
 * protobuf body, a bearer token, the same dispatcher as the binary protocol.
 */
#ifndef OSPAY_SERVER_CONNECT_H
#define OSPAY_SERVER_CONNECT_H

#include <stdbool.h>

#include "net/https_server.h"
#include "server/rpc/srv.h"

/* Whether path is one of Connect's ("/ospay.v1.Orders/Get", known or not). */
bool connect_route(const char *path);

/* Answers a request whose path connect_route accepted (now or when its call ends). */
void connect_handle(srv_t *s, https_request_t *req);

#endif

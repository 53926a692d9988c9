/* The HTTPS listener's routes (http.c): webhooks, /healthz, /metrics. */
#ifndef OSPAY_SERVER_HTTP_H
#define OSPAY_SERVER_HTTP_H

#include <stddef.h>

#include "net/https_server.h"
#include "server/rpc/srv.h"

/* The listener's request handler (https_handler_fn); udata is the srv_t. */
void srv_http_handle(https_request_t *req, void *udata);
/* The /metrics page into out (cap bytes) from *off. */
int srv_metrics_format(srv_t *s, char *out, size_t cap, size_t *off);

#endif

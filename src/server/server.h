/*
 * ospayd's top: serving (server.c), `ospayd init` and `backup` (init.c). The
 * layers below, lowest first: db (the schema), rpc (the server object, the
 * dispatcher, the handler contract), providers (adapters, provider objects,
 * link outcomes), jobs (billing run, reconciliation, outbox, webhook inbox),
 * services (one file per proto service).
 */
#ifndef OSPAY_SERVER_SERVER_H
#define OSPAY_SERVER_SERVER_H

#include "server/rpc/srv.h"

/* Runs the server until SIGTERM/SIGINT; returns the process exit code. */
int srv_serve(const srv_opts_t *opts);
/* `ospayd init`: creates the data dir and prints the init JSON on stdout. */
int srv_init_data(const char *dir, const char *org_name, const char *unit_name);
/* `ospayd backup`: a consistent copy of a (possibly running) server's data dir. */
int srv_backup(const char *dir, const char *out);

#endif

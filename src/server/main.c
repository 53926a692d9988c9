/* ospayd: init, serve, backup, rotate-key (docs/spec.md 3.2). */
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/log.h"
#include "common/util.h"
#include "common/pbjson.h"
#include "server/keys.h"
#include "server/rpc/srv.h"
#include "server/server.h"

static void usage(FILE *f)
{
	fprintf(f,
		"usage:\n"
		"  ospayd init --data DIR [--org-name NAME] [--unit-name NAME]\n"
		"  ospayd serve --data DIR --rpc HOST:PORT --https HOST:PORT\n"
		"               [--test-clock RFC3339] [--log-level debug|info|warn|error]\n"
		"               [--max-frame BYTES] [--max-inflight N] [--idle-timeout-ms MS]\n"
		"               [--max-conns N] [--map-size BYTES]\n"
		"               [--rpc-tls] [--rpc-tls-cert FILE] [--rpc-tls-key FILE]\n"
		"               [--max-conns-per-addr N] [--hello-timeout-ms MS]\n"
		"               [--max-output-bytes BYTES] [--stall-timeout-ms MS]\n"
		"               [--https-max-header-bytes N] [--https-max-body-bytes N]\n"
		"               [--https-header-timeout-ms MS] [--https-body-timeout-ms MS]\n"
		"               [--https-idle-timeout-ms MS] [--https-max-conns N]\n"
		"               [--https-max-conns-per-addr N] [--https-handshake-timeout-ms MS]\n"
		"               [--https-first-request-timeout-ms MS]\n"
		"               [--gateway-max-inflight N] [--allow-private-gateways]\n"
		"               [--metrics-token-file FILE] [--keep-dumpable]\n"
		"               [--gateway-ca FILE]\n"
		"    listener defaults: --max-conns-per-addr 512\n"
		"      --hello-timeout-ms 10000 (no whole frame by then: closed)\n"
		"      --max-output-bytes 8388608 (unsent replies, all connections)\n"
		"      --stall-timeout-ms 10000   --https-max-conns-per-addr 256\n"
		"      --https-handshake-timeout-ms 10000\n"
		"      --https-first-request-timeout-ms 5000\n"
		"    --rpc-tls: RPC over TLS with DIR/tls.crt and DIR/tls.key, or the\n"
		"      files given by --rpc-tls-cert and --rpc-tls-key\n"
		"    --gateway-ca: external services' certificates are checked against\n"
		"      this PEM bundle instead of the system's CAs (a PSP's private CA)\n"
		"  ospayd backup --data DIR OUT\n"
		"  ospayd rotate-key --data DIR [--batch N] [--max-batches N]\n"
		"               (with no server running on DIR; --max-batches stops early,\n"
		"                the next rotate-key resumes)\n"
		"  ospayd --version\n");
}

/* Reads an unsigned decimal option value in [min, max]. */
static int opt_u64(const char *name, const char *v, uint64_t min, uint64_t max, uint64_t *out)
{
	char *end;
	errno = 0;
	unsigned long long x = strtoull(v, &end, 10);
	if (errno || *end != '\0' || v[0] == '-' || x < min || x > max) {
		fprintf(stderr, "ospayd: %s must be a number in [%llu, %llu]\n", name,
			(unsigned long long)min, (unsigned long long)max);
		return -1;
	}
	*out = x;
	return 0;
}

/* serve's numeric options: their bounds and the field of srv_opts_t each one sets (every
 * such field is an unsigned integer of 4 or 8 bytes). */
typedef struct num_opt {
	const char *name;
	uint64_t min, max;
	size_t offset, size;
} num_opt_t;

#define NUM_OPT(name, min, max, field)                                                             \
	{                                                                                          \
		(name), (min), (max), offsetof(srv_opts_t, field),                                 \
			sizeof(((srv_opts_t *)NULL)->field)                                        \
	}

static const num_opt_t num_opts[] = {
	NUM_OPT("--max-frame", 64, 64u << 20, rpc.max_frame),
	NUM_OPT("--max-inflight", 1, 1u << 20, rpc.max_inflight),
	NUM_OPT("--idle-timeout-ms", 100, UINT32_MAX, rpc.idle_ms),
	NUM_OPT("--max-conns", 1, 1u << 20, rpc.max_conns),
	NUM_OPT("--max-conns-per-addr", 1, 1u << 20, rpc.max_conns_per_addr),
	NUM_OPT("--hello-timeout-ms", 100, 600000, rpc.hello_ms),
	NUM_OPT("--max-output-bytes", 1u << 20, UINT64_C(1) << 32, rpc.out_total_max),
	NUM_OPT("--stall-timeout-ms", 100, 3600000, rpc.stall_ms),
	NUM_OPT("--https-max-conns-per-addr", 1, 1u << 20, https.max_connections_per_addr),
	NUM_OPT("--https-handshake-timeout-ms", 100, 600000, https.handshake_timeout_ms),
	NUM_OPT("--https-first-request-timeout-ms", 100, 600000, https.first_request_timeout_ms),
	NUM_OPT("--https-max-header-bytes", 1024, 1u << 20, https.max_header_bytes),
	NUM_OPT("--https-max-body-bytes", 1024, 64u << 20, https.max_body_bytes),
	NUM_OPT("--https-header-timeout-ms", 100, 600000, https.header_timeout_ms),
	NUM_OPT("--https-body-timeout-ms", 100, 600000, https.body_timeout_ms),
	NUM_OPT("--https-idle-timeout-ms", 100, 3600000, https.idle_timeout_ms),
	NUM_OPT("--https-max-conns", 1, 1u << 20, https.max_connections),
	NUM_OPT("--gateway-max-inflight", 1, 4096, gateway_max_inflight),
	NUM_OPT("--map-size", 1u << 20, UINT64_C(1) << 40, map_size),
};

/* Sets o's numeric option a to v: 1 when done, 0 when a is no numeric option, -1 when v is
 * out of its bounds (said on stderr). */
static int num_opt_set(srv_opts_t *o, const char *a, const char *v)
{
	for (size_t i = 0; i < OSPAY_ARRAY_LEN(num_opts); i++) {
		const num_opt_t *n = &num_opts[i];
		uint64_t x;
		if (strcmp(a, n->name) != 0)
			continue;
		if (opt_u64(a, v, n->min, n->max, &x))
			return -1;
		if (n->size == sizeof(uint32_t)) {
			uint32_t y = (uint32_t)x;
			memcpy((char *)o + n->offset, &y, sizeof(y));
		} else if (n->size == sizeof(uint64_t)) {
			memcpy((char *)o + n->offset, &x, sizeof(x));
		} else {
			fprintf(stderr, "ospayd: %s: a field of %zu bytes\n", a, n->size);
			return -1;
		}
		return 1;
	}
	return 0;
}

/* serve's options that take a string: the field of srv_opts_t each one points at the
 * argument (argv outlives the server). */
typedef struct str_opt {
	const char *name;
	size_t offset;
} str_opt_t;

static const str_opt_t str_opts[] = {
	{"--data", offsetof(srv_opts_t, data_dir)},
	{"--rpc", offsetof(srv_opts_t, rpc_listen)},
	{"--https", offsetof(srv_opts_t, https_listen)},
	{"--rpc-tls-cert", offsetof(srv_opts_t, rpc_tls_cert)},
	{"--rpc-tls-key", offsetof(srv_opts_t, rpc_tls_key)},
	{"--metrics-token-file", offsetof(srv_opts_t, metrics_token_file)},
	{"--gateway-ca", offsetof(srv_opts_t, gateway_ca)},
};

/* Sets o's string option a to v: false when a is no string option. */
static bool str_opt_set(srv_opts_t *o, const char *a, const char *v)
{
	for (size_t i = 0; i < OSPAY_ARRAY_LEN(str_opts); i++) {
		if (strcmp(a, str_opts[i].name) == 0) {
			memcpy((char *)o + str_opts[i].offset, &v, sizeof(v));
			return true;
		}
	}
	return false;
}

static int cmd_serve(int argc, char **argv)
{
	srv_opts_t o = {0};
	rpc_limits_default(&o.rpc);
	https_options_default(&o.https);
	for (int i = 0; i < argc; i++) {
		const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
		if (strcmp(a, "--help") == 0) {
			usage(stdout);
			return 0;
		}
		/* The flags without a value. */
		if (strcmp(a, "--allow-private-gateways") == 0) {
			o.allow_private_gateways = true;
			continue;
		}
		if (strcmp(a, "--keep-dumpable") == 0) {
			o.keep_dumpable = true;
			continue;
		}
		if (strcmp(a, "--rpc-tls") == 0) {
			o.rpc_tls = true;
			continue;
		}
		if (v == NULL) {
			fprintf(stderr, "ospayd serve: %s needs a value\n", a);
			return 2;
		}
		i++;
		int known = num_opt_set(&o, a, v);
		if (known < 0)
			return 2;
		if (known > 0 || str_opt_set(&o, a, v))
			continue;
		if (strcmp(a, "--test-clock") == 0) {
			if (util_parse_rfc3339(v, &o.test_clock_ms) != 0) {
				fprintf(stderr, "ospayd serve: --test-clock wants RFC 3339\n");
				return 2;
			}
			o.test_clock = true;
		} else if (strcmp(a, "--log-level") == 0) {
			int l = log_level_parse(v);
			if (l < 0) {
				fprintf(stderr, "ospayd serve: unknown log level %s\n", v);
				return 2;
			}
			log_set_level(l);
		} else {
			fprintf(stderr, "ospayd serve: unknown option %s\n", a);
			usage(stderr);
			return 2;
		}
	}
	if (o.data_dir == NULL || o.rpc_listen == NULL || o.https_listen == NULL) {
		fprintf(stderr, "ospayd serve: --data, --rpc and --https are required\n");
		usage(stderr);
		return 2;
	}
	/* Card numbers pass through JSON (Connect bodies, gateway sales): wipe what jansson frees. */
	pbjson_wipe_on_free();
	return srv_serve(&o);
}

static int cmd_init(int argc, char **argv)
{
	const char *dir = NULL, *org = "My organization", *unit = "Main unit";
	for (int i = 0; i + 1 < argc; i += 2) {
		if (strcmp(argv[i], "--data") == 0)
			dir = argv[i + 1];
		else if (strcmp(argv[i], "--org-name") == 0)
			org = argv[i + 1];
		else if (strcmp(argv[i], "--unit-name") == 0)
			unit = argv[i + 1];
		else
			dir = NULL, i = argc;
	}
	if (dir == NULL || argc % 2 != 0) {
		usage(stderr);
		return 2;
	}
	return srv_init_data(dir, org, unit) == 0 ? 0 : 1;
}

static int cmd_backup(int argc, char **argv)
{
	if (argc != 3 || strcmp(argv[0], "--data") != 0) {
		usage(stderr);
		return 2;
	}
	return srv_backup(argv[1], argv[2]) == 0 ? 0 : 1;
}

static int cmd_rotate_key(int argc, char **argv)
{
	const char *dir = NULL;
	uint64_t batch = 0, max_batches = 0;
	for (int i = 0; i < argc; i += 2) {
		const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
		if (v == NULL) {
			usage(stderr);
			return 2;
		}
		if (strcmp(a, "--data") == 0) {
			dir = v;
		} else if (strcmp(a, "--batch") == 0) {
			if (opt_u64(a, v, 1, 1024, &batch))
				return 2;
		} else if (strcmp(a, "--max-batches") == 0) {
			if (opt_u64(a, v, 1, UINT32_MAX, &max_batches))
				return 2;
		} else {
			usage(stderr);
			return 2;
		}
	}
	if (dir == NULL) {
		usage(stderr);
		return 2;
	}
	return srv_rotate_key(dir, (size_t)batch, max_batches) == 0 ? 0 : 1;
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		usage(stderr);
		return 2;
	}
	const char *cmd = argv[1];
	if (strcmp(cmd, "serve") == 0)
		return cmd_serve(argc - 2, argv + 2);
	if (strcmp(cmd, "init") == 0)
		return cmd_init(argc - 2, argv + 2);
	if (strcmp(cmd, "backup") == 0)
		return cmd_backup(argc - 2, argv + 2);
	if (strcmp(cmd, "rotate-key") == 0)
		return cmd_rotate_key(argc - 2, argv + 2);
	if (strcmp(cmd, "--version") == 0 || strcmp(cmd, "version") == 0) {
		printf("ospayd %s\n", OSPAY_VERSION);
		return 0;
	}
	if (strcmp(cmd, "--help") == 0 || strcmp(cmd, "help") == 0) {
		usage(stdout);
		return 0;
	}
	usage(stderr);
	return 2;
}

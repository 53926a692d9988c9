/*
 * The data directory's secrets (keys.c): the master key file, the lock that
 * keeps one process per data dir, the vault keys derived from the master key,
 * and `ospayd rotate-key`.
 */
#ifndef OSPAY_SERVER_KEYS_H
#define OSPAY_SERVER_KEYS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/crypto.h"
#include "core/vault.h"
#include "store/store.h"

/* Paths inside a data dir. */
#define SRV_MASTER_KEY_FILE "master.key"
#define SRV_TLS_CERT_FILE "tls.crt"
#define SRV_TLS_KEY_FILE "tls.key"
#define SRV_STORE_DIR "store"
#define SRV_METRICS_TOKEN_FILE "metrics.token"
/* The master key file's 32 bytes; -EPERM when it is open to group or others. */
int srv_load_master_key(const char *dir, uint8_t key[CRYPTO_KEY_LEN]);
/*
 * Opens a secret file read-only: an fd, -EPERM (logged) when group or others
 * have any access to it (master.key, tls.key, metrics.token), or -errno.
 */
int srv_open_private(const char *path, const char *what);
/* srv_open_private's check alone: 0 or its error. */
int srv_check_private(const char *path, const char *what);

#define SRV_METRICS_TOKEN_MIN 16
#define SRV_METRICS_TOKEN_MAX 128
/*
 * The bearer token /metrics wants: the first line of file, or when file is
 * NULL of the data dir's metrics.token, created (random, mode 0600) when
 * absent. Checked like the master key. 0 or a negative errno (logged).
 */
int srv_metrics_token_load(const char *dir, const char *file, char out[SRV_METRICS_TOKEN_MAX + 1]);
/* Best effort: pages holding keys kept out of core dumps and swap. */
void srv_key_pages_protect(const void *p, size_t n);

/*
 * The data dir's lock file: held by a serving ospayd for its lifetime and by
 * `ospayd rotate-key`, so they never run on one data dir together. An
 * exclusive flock, released when the process ends however it ends. 0 and
 * *fd, -EWOULDBLOCK when another process holds it, or -errno.
 */
#define SRV_LOCK_FILE "ospayd.lock"
int srv_data_lock(const char *dir, int *fd);
/* Largest vault key id: rotations are rare, every key is derived at start. */
#define SRV_VAULT_MAX_KEYS 1000
/*
 * The vault keys of a store: ids 1..current (current is the last id in
 * DB_VAULT_KEYS, 1 when none was ever added), derived from master. *keys
 * (caller frees after vault_key_wipe of each) has *n entries, the last the
 * current one. 0 or a store error / -ENOMEM / -ERANGE.
 */
int srv_vault_keys_load(store_t *st, const uint8_t master[CRYPTO_KEY_LEN], vault_key_t **keys,
			size_t *n);
void srv_vault_keys_free(vault_key_t *keys, size_t n);
/*
 * `ospayd rotate-key`: a new current key, every sealed record sealed again
 * under it, batch records per transaction (0: 256; at most 1024). With
 * max_batches > 0 it stops after that many transactions, the rotation left
 * unfinished; the next call resumes it under the same key instead of adding one.
 */
int srv_rotate_key(const char *dir, size_t batch, uint64_t max_batches);

#endif

/*
 * Server-side TLS for the inbound HTTPS listener: mbedTLS 2.28 sessions that read
 * and write ciphertext through in-memory buffers, so that libuv owns the socket
 * and mbedTLS never blocks; plus the self-signed certificate `ospayd init` writes.
 *
 * The session calls return mbedTLS's "would block" conditions as TLS_WANT_READ /
 * TLS_WANT_WRITE and every other mbedTLS error as a negative errno code; the
 * translation happens in one place (tls.c).
 */
#ifndef OSPAY_NET_TLS_H
#define OSPAY_NET_TLS_H

#include <errno.h>
#include <stdbool.h>
#include <stddef.h>

#include <mbedtls/ssl.h>

#include "common/buf.h"

/* mbedTLS needs more ciphertext from the peer: wait for the socket (after tls_session_pending). */
#define TLS_WANT_READ (-EAGAIN)
/* mbedTLS could not queue its output (buffer full): flush the output buffer, then retry. */
#define TLS_WANT_WRITE (-ENOBUFS)

/* Certificate, key and mbedTLS configuration shared by every session of one listener. */
typedef struct tls_config tls_config_t;

/*
 * One TLS connection. The ciphertext buffers belong to the caller (usually the
 * connection struct that embeds this session) and must outlive it: mbedTLS reads
 * from in->data + *in_head and appends to out.
 */
typedef struct tls_session {
	mbedtls_ssl_context ssl;
	buf_t *in;       /* ciphertext received from the peer */
	size_t *in_head; /* bytes of *in already consumed */
	buf_t *out;      /* ciphertext to send, drained by the caller */
	size_t out_limit;
	/* Length of a write that returned TLS_WANT_WRITE: mbedTLS requires the retry to
	 * pass the same length, and tls_session_write enforces it. */
	size_t write_pending;
	unsigned flaky_tick;
	bool flaky;
	bool handshake_done;
} tls_session_t;

/*
 * Loads a PEM certificate (chain) and its PEM private key (unencrypted) and builds
 * a TLS 1.2+ server configuration (forward-secret AEAD suites, ALPN http/1.1).
 * On success *out is owned by the caller (tls_config_free). Fails with -EIO
 * (unreadable file or no random generator), -EINVAL (bad PEM, key does not match
 * the certificate) or -ENOMEM; *out is untouched then.
 */
int tls_config_new(tls_config_t **out, const char *crt_path, const char *key_path);

/*
 * A TLS 1.2+ client configuration (same suites) that trusts only the PEM
 * certificates in ca_path (a CA, or the server's self-signed certificate pinned)
 * and requires the server to present a chain to one of them. Same result
 * convention as tls_config_new.
 */
int tls_config_new_client(tls_config_t **out, const char *ca_path);

/*
 * Mutual TLS: every client must present a certificate chained to the PEM bundle
 * at ca_path (a handshake without one fails). 0, -EIO, -EINVAL or -ENOMEM.
 */
int tls_config_require_client(tls_config_t *cfg, const char *ca_path);

/* Frees a configuration; every session made from it must be freed first. NULL is fine. */
void tls_config_free(tls_config_t *cfg);

/*
 * Sets up a server session over the caller's buffers. out_limit caps *out: past it
 * mbedTLS sees "would block" (it must exceed one TLS record, about 17 KiB). flaky
 * is a test hook: the buffer callbacks then answer "would block" on every other
 * call, like mbedTLS's ssl_server2 nbio=2, to exercise every retry path.
 * 0, or -ENOMEM / -EPROTO (session left freed, nothing to clean up).
 */
int tls_session_init(tls_session_t *s, const tls_config_t *cfg, buf_t *in, size_t *in_head,
		     buf_t *out, size_t out_limit, bool flaky);

/* Client sessions: the name the server's certificate must carry (DNS name in its
 * subjectAltName or CN). 0, -EINVAL or -ENOMEM. */
int tls_session_set_hostname(tls_session_t *s, const char *name);

/* After a failed client handshake: a short reason for people ("certificate not
 * trusted", "certificate name mismatch", "certificate expired", or NULL). */
const char *tls_session_verify_reason(const tls_session_t *s);

/* Releases the session's mbedTLS state (not the caller's buffers). */
void tls_session_free(tls_session_t *s);

/* Advances the handshake: 0 once complete (and on every later call), TLS_WANT_READ,
 * TLS_WANT_WRITE, or a negative errno for a failed handshake (-EPROTO, -ENOMEM...). */
int tls_session_handshake(tls_session_t *s);

/* Decrypts into buf: bytes (> 0), 0 when the peer sent close_notify, TLS_WANT_READ,
 * TLS_WANT_WRITE, or a negative errno (the connection is unusable then). */
int tls_session_read(tls_session_t *s, void *buf, size_t cap);

/*
 * Encrypts up to len bytes of buf into the output buffer: bytes consumed (> 0),
 * TLS_WANT_WRITE, TLS_WANT_READ, or a negative errno. After a "would block" the
 * caller retries with the same bytes; if more have been queued behind them since,
 * the retry still consumes exactly the pending length (mbedTLS's rule).
 */
int tls_session_write(tls_session_t *s, const void *buf, size_t len);

/*
 * Encrypts plain from its front until it is empty or the output buffer is full
 * (then the rest waits for the next call, mbedTLS's retry rule kept). What was
 * taken is removed from plain, the bytes it vacated are wiped (they may be a
 * token or a card number), and *taken says how many. 0 or a negative errno.
 */
int tls_session_encrypt_buf(tls_session_t *s, buf_t *plain, size_t *taken);

/* Queues a close_notify alert: 0, TLS_WANT_WRITE, or a negative errno. */
int tls_session_close_notify(tls_session_t *s);

/* True when mbedTLS may produce plaintext without new socket data: it holds buffered
 * records (mbedtls_ssl_check_pending) or unread ciphertext is left in *in. */
bool tls_session_pending(const tls_session_t *s);

/*
 * Writes a new ECDSA P-256 key (PEM, mode 0600) and a self-signed X.509 v3
 * certificate for it (PEM, mode 0644): subject CN=common_name, SAN DNS:localhost,
 * IP:127.0.0.1, IP:::1 (and DNS:common_name when it is a host name), SHA-256
 * signature, valid from yesterday for ten years. Each file is written to a
 * temporary name, synced and renamed, so a reader never sees half a file.
 * common_name: 1-64 characters among letters, digits, ".-_ " (else -EINVAL).
 * Returns 0 or a negative errno (-EIO, -ENOMEM, or the failed file call's errno).
 */
int tls_cert_generate(const char *crt_path, const char *key_path, const char *common_name);

/*
 * Checks a client certificate and its private key given as PEM text (a mutual
 * TLS identity kept in memory): both parse, the key is the certificate's, and
 * the certificate is within its validity period by the wall clock. NULL when
 * they are fine, else why not, for people (never a byte of the key).
 */
const char *tls_check_pair_pem(const char *cert_pem, const char *key_pem);

#endif

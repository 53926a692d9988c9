/* Self-signed certificates for the webhook listener (`ospayd init`). */
#ifndef OSPAY_NET_TLS_CERT_H
#define OSPAY_NET_TLS_CERT_H

/*
 * Writes a new ECDSA P-256 key (key_path, mode 0600) and a self-signed
 * certificate for common_name (crt_path), PEM, valid ten years, with
 * subjectAltName DNS:localhost and IP:127.0.0.1. Returns 0 or a negative errno.
 */
int tls_cert_generate(const char *crt_path, const char *key_path, const char *common_name);

#endif

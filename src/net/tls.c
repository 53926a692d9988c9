#include "net/tls.h"

#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <mbedtls/asn1write.h>
#include <mbedtls/bignum.h>
#include <mbedtls/ecp.h>
#include <mbedtls/error.h>
#include <mbedtls/oid.h>
#include <mbedtls/pem.h>
#include <mbedtls/pk.h>
#include <mbedtls/platform_util.h>
#include <mbedtls/x509_crt.h>

#include "common/crypto.h"

struct tls_config {
	mbedtls_ssl_config conf;
	mbedtls_x509_crt crt;
	mbedtls_x509_crt client_ca; /* empty unless tls_config_require_client */
	mbedtls_pk_context key;
};

/*
 * Only forward-secret AEAD suites: payment gateways all speak TLS 1.2 with ECDHE and
 * GCM, and nothing older is worth the risk on an endpoint that moves money. The RSA
 * entries serve operators who bring an RSA certificate instead of the generated one.
 */
static const int tls_ciphersuites[] = {
	MBEDTLS_TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256,
	MBEDTLS_TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384,
	MBEDTLS_TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256,
	MBEDTLS_TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256,
	MBEDTLS_TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384,
	MBEDTLS_TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256,
	0,
};

/* Answering ALPN keeps clients that offer h2 (curl does) on HTTP/1.1 explicitly. */
static const char *tls_alpn[] = {"http/1.1", NULL};

/* True when the mbedTLS code rc carries the given (negative) error in its high or
 * low part: mbedTLS adds a module's low-level code to the high-level one. */
static bool tls_err_is(int rc, int code)
{
	int v = -rc, c = -code;
	return v == c || (v & 0xFF80) == c || (v & 0x007F) == c;
}

/* The one place where mbedTLS error codes become errno codes. */
static int tls_errno(int rc)
{
	int e = -EPROTO;
	if (rc >= 0)
		e = rc;
	else if (rc == MBEDTLS_ERR_SSL_WANT_READ)
		e = TLS_WANT_READ;
	else if (rc == MBEDTLS_ERR_SSL_WANT_WRITE)
		e = TLS_WANT_WRITE;
	else if (rc == MBEDTLS_ERR_SSL_PEER_CLOSE_NOTIFY)
		e = -ESHUTDOWN;
	else if (rc == MBEDTLS_ERR_SSL_CONN_EOF)
		e = -ECONNRESET;
	else if (tls_err_is(rc, MBEDTLS_ERR_SSL_ALLOC_FAILED) ||
		 tls_err_is(rc, MBEDTLS_ERR_PK_ALLOC_FAILED) ||
		 tls_err_is(rc, MBEDTLS_ERR_X509_ALLOC_FAILED) ||
		 tls_err_is(rc, MBEDTLS_ERR_ECP_ALLOC_FAILED) ||
		 tls_err_is(rc, MBEDTLS_ERR_MPI_ALLOC_FAILED))
		e = -ENOMEM;
	else if (tls_err_is(rc, MBEDTLS_ERR_PK_FILE_IO_ERROR) ||
		 tls_err_is(rc, MBEDTLS_ERR_X509_FILE_IO_ERROR))
		e = -EIO;
	else if (tls_err_is(rc, MBEDTLS_ERR_PK_KEY_INVALID_FORMAT) ||
		 tls_err_is(rc, MBEDTLS_ERR_PK_BAD_INPUT_DATA) ||
		 tls_err_is(rc, MBEDTLS_ERR_PK_PASSWORD_REQUIRED) ||
		 tls_err_is(rc, MBEDTLS_ERR_PK_UNKNOWN_PK_ALG) ||
		 tls_err_is(rc, MBEDTLS_ERR_PK_TYPE_MISMATCH) ||
		 tls_err_is(rc, MBEDTLS_ERR_ECP_BAD_INPUT_DATA) ||
		 tls_err_is(rc, MBEDTLS_ERR_X509_INVALID_FORMAT) ||
		 tls_err_is(rc, MBEDTLS_ERR_X509_BAD_INPUT_DATA) ||
		 tls_err_is(rc, MBEDTLS_ERR_PEM_NO_HEADER_FOOTER_PRESENT) ||
		 tls_err_is(rc, MBEDTLS_ERR_PEM_INVALID_DATA) ||
		 tls_err_is(rc, MBEDTLS_ERR_SSL_BAD_INPUT_DATA))
		e = -EINVAL;
	return e;
}

/*
 * What server and client configurations share: the certificates of crt_path (the
 * server's chain, or the client's trust anchors), the random generator, TLS 1.2
 * at least, the suites above, no renegotiation. *out is set on success only.
 */
static int tls_config_start(tls_config_t **out, int endpoint, const char *crt_path)
{
	int rc = 0;
	tls_config_t *cfg = calloc(1, sizeof(*cfg));
	if (cfg == NULL)
		return -ENOMEM;
	mbedtls_ssl_config_init(&cfg->conf);
	mbedtls_x509_crt_init(&cfg->crt);
	mbedtls_x509_crt_init(&cfg->client_ca);
	mbedtls_pk_init(&cfg->key);

	void *rng = crypto_rng_ctx();
	if (rng == NULL) {
		rc = -EIO;
		goto out;
	}
	rc = tls_errno(mbedtls_x509_crt_parse_file(&cfg->crt, crt_path));
	/* parse_file returns a positive count of certificates it skipped: refuse those too,
	 * a half-readable chain would fail later at every handshake. */
	if (rc > 0)
		rc = -EINVAL;
	if (rc != 0)
		goto out;
	rc = tls_errno(mbedtls_ssl_config_defaults(
		&cfg->conf, endpoint, MBEDTLS_SSL_TRANSPORT_STREAM, MBEDTLS_SSL_PRESET_DEFAULT));
	if (rc != 0)
		goto out;
	mbedtls_ssl_conf_rng(&cfg->conf, crypto_rng_fn, rng);
	mbedtls_ssl_conf_min_version(&cfg->conf, MBEDTLS_SSL_MAJOR_VERSION_3,
				     MBEDTLS_SSL_MINOR_VERSION_3);
	mbedtls_ssl_conf_ciphersuites(&cfg->conf, tls_ciphersuites);
	mbedtls_ssl_conf_renegotiation(&cfg->conf, MBEDTLS_SSL_RENEGOTIATION_DISABLED);
out:
	if (rc != 0)
		tls_config_free(cfg);
	else
		*out = cfg;
	return rc;
}

int tls_config_new(tls_config_t **out, const char *crt_path, const char *key_path)
{
	tls_config_t *cfg = NULL;
	int rc = tls_config_start(&cfg, MBEDTLS_SSL_IS_SERVER, crt_path);
	if (rc != 0)
		goto out;
	rc = tls_errno(mbedtls_pk_parse_keyfile(&cfg->key, key_path, NULL));
	if (rc != 0)
		goto out;
	rc = tls_errno(mbedtls_pk_check_pair(&cfg->crt.pk, &cfg->key));
	if (rc != 0) {
		rc = -EINVAL;
		goto out;
	}
	rc = tls_errno(mbedtls_ssl_conf_alpn_protocols(&cfg->conf, tls_alpn));
	if (rc != 0)
		goto out;
	rc = tls_errno(mbedtls_ssl_conf_own_cert(&cfg->conf, &cfg->crt, &cfg->key));
out:
	if (rc != 0)
		tls_config_free(cfg);
	else
		*out = cfg;
	return rc;
}

int tls_config_new_client(tls_config_t **out, const char *ca_path)
{
	/* cfg->crt holds the trust anchors here: there is no client certificate. */
	tls_config_t *cfg = NULL;
	int rc = tls_config_start(&cfg, MBEDTLS_SSL_IS_CLIENT, ca_path);
	if (rc == 0) {
		mbedtls_ssl_conf_authmode(&cfg->conf, MBEDTLS_SSL_VERIFY_REQUIRED);
		mbedtls_ssl_conf_ca_chain(&cfg->conf, &cfg->crt, NULL);
		*out = cfg;
	}
	return rc;
}

int tls_config_require_client(tls_config_t *cfg, const char *ca_path)
{
	int rc = tls_errno(mbedtls_x509_crt_parse_file(&cfg->client_ca, ca_path));
	/* A bundle with unreadable certificates would silently trust fewer peers. */
	if (rc > 0)
		rc = -EINVAL;
	if (rc == 0) {
		mbedtls_ssl_conf_ca_chain(&cfg->conf, &cfg->client_ca, NULL);
		mbedtls_ssl_conf_authmode(&cfg->conf, MBEDTLS_SSL_VERIFY_REQUIRED);
	}
	return rc;
}

void tls_config_free(tls_config_t *cfg)
{
	if (cfg != NULL) {
		mbedtls_ssl_config_free(&cfg->conf);
		mbedtls_x509_crt_free(&cfg->crt);
		mbedtls_x509_crt_free(&cfg->client_ca);
		mbedtls_pk_free(&cfg->key);
		free(cfg);
	}
}

/* mbedTLS's receive callback: hands over buffered ciphertext, never blocks. */
static int tls_bio_recv(void *ctx, unsigned char *p, size_t n)
{
	tls_session_t *s = ctx;
	int rc = MBEDTLS_ERR_SSL_WANT_READ;
	size_t avail = s->in->len - *s->in_head;
	if ((s->flaky && (s->flaky_tick++ & 1u) == 0) || avail == 0)
		goto out;
	if (n > avail)
		n = avail;
	if (n > INT_MAX)
		n = INT_MAX;
	memcpy(p, s->in->data + *s->in_head, n);
	*s->in_head += n;
	if (*s->in_head == s->in->len) {
		s->in->len = 0;
		*s->in_head = 0;
	}
	rc = (int)n;
out:
	return rc;
}

/* mbedTLS's send callback: appends to the output buffer up to its limit. */
static int tls_bio_send(void *ctx, const unsigned char *p, size_t n)
{
	tls_session_t *s = ctx;
	int rc = MBEDTLS_ERR_SSL_WANT_WRITE;
	if ((s->flaky && (s->flaky_tick++ & 1u) == 0) || s->out->len >= s->out_limit)
		goto out;
	size_t room = s->out_limit - s->out->len;
	if (n > room)
		n = room;
	if (n > INT_MAX)
		n = INT_MAX;
	if (buf_append(s->out, p, n, s->out_limit) != 0)
		rc = MBEDTLS_ERR_SSL_ALLOC_FAILED;
	else
		rc = (int)n;
out:
	return rc;
}

int tls_session_init(tls_session_t *s, const tls_config_t *cfg, buf_t *in, size_t *in_head,
		     buf_t *out, size_t out_limit, bool flaky)
{
	memset(s, 0, sizeof(*s));
	s->in = in;
	s->in_head = in_head;
	s->out = out;
	s->out_limit = out_limit;
	s->flaky = flaky;
	mbedtls_ssl_init(&s->ssl);
	int rc = tls_errno(mbedtls_ssl_setup(&s->ssl, &cfg->conf));
	if (rc != 0) {
		mbedtls_ssl_free(&s->ssl);
		goto out;
	}
	mbedtls_ssl_set_bio(&s->ssl, s, tls_bio_send, tls_bio_recv, NULL);
out:
	return rc;
}

int tls_session_set_hostname(tls_session_t *s, const char *name)
{
	return tls_errno(mbedtls_ssl_set_hostname(&s->ssl, name));
}

const char *tls_session_verify_reason(const tls_session_t *s)
{
	uint32_t flags = mbedtls_ssl_get_verify_result(&s->ssl);
	const char *why = NULL;
	if (flags == (uint32_t)-1 || flags == 0)
		why = NULL;
	else if (flags & MBEDTLS_X509_BADCERT_CN_MISMATCH)
		why = "certificate name mismatch";
	else if (flags & (MBEDTLS_X509_BADCERT_EXPIRED | MBEDTLS_X509_BADCERT_FUTURE))
		why = "certificate expired or not yet valid";
	else
		why = "certificate not trusted";
	return why;
}

void tls_session_free(tls_session_t *s)
{
	mbedtls_ssl_free(&s->ssl);
}

int tls_session_handshake(tls_session_t *s)
{
	int rc = 0;
	if (!s->handshake_done) {
		rc = tls_errno(mbedtls_ssl_handshake(&s->ssl));
		if (rc == 0)
			s->handshake_done = true;
	}
	return rc;
}

int tls_session_read(tls_session_t *s, void *buf, size_t cap)
{
	int rc = tls_errno(mbedtls_ssl_read(&s->ssl, buf, cap));
	if (rc == -ESHUTDOWN)
		rc = 0;
	return rc;
}

int tls_session_write(tls_session_t *s, const void *buf, size_t len)
{
	int rc = 0;
	if (s->write_pending != 0) {
		/* mbedTLS already copied the first write_pending bytes into its record;
		 * the retry only flushes it and reports that length as written. */
		if (len < s->write_pending) {
			rc = -EINVAL;
			goto out;
		}
		len = s->write_pending;
	}
	rc = tls_errno(mbedtls_ssl_write(&s->ssl, buf, len));
	if (rc == TLS_WANT_WRITE || rc == TLS_WANT_READ)
		s->write_pending = len;
	else
		s->write_pending = 0;
out:
	return rc;
}

int tls_session_encrypt_buf(tls_session_t *s, buf_t *plain, size_t *taken)
{
	int rc = 0;
	size_t before = plain->len;
	while (plain->len > 0) {
		rc = tls_session_write(s, plain->data, plain->len);
		if (rc == TLS_WANT_WRITE || rc == TLS_WANT_READ) {
			rc = 0;
			break;
		}
		if (rc < 0)
			break;
		buf_consume(plain, (size_t)rc);
		rc = 0;
	}
	*taken = before - plain->len;
	if (*taken > 0)
		mbedtls_platform_zeroize(plain->data + plain->len, *taken);
	return rc;
}

int tls_session_close_notify(tls_session_t *s)
{
	return tls_errno(mbedtls_ssl_close_notify(&s->ssl));
}

bool tls_session_pending(const tls_session_t *s)
{
	return mbedtls_ssl_check_pending(&s->ssl) != 0 || s->in->len > *s->in_head;
}

/* ---------------------------------------------------------------- certificate */

/* Accepts names that cannot break mbedTLS's "CN=..." string parser. */
static bool tls_cn_valid(const char *cn)
{
	size_t n = strlen(cn);
	if (n == 0 || n > 64)
		return false;
	for (size_t i = 0; i < n; i++) {
		char ch = cn[i];
		bool ok = (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
			  (ch >= '0' && ch <= '9') || ch == '.' || ch == '-' || ch == '_' ||
			  ch == ' ';
		if (!ok)
			return false;
	}
	return true;
}

/* A host name worth a DNS SAN entry: letters, digits, dots and dashes only. */
static bool tls_cn_is_hostname(const char *cn)
{
	for (const char *p = cn; *p != '\0'; p++) {
		char ch = *p;
		bool ok = (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
			  (ch >= '0' && ch <= '9') || ch == '.' || ch == '-';
		if (!ok)
			return false;
	}
	return true;
}

/* Prepends one DER element (tag, length, value) before *p, ASN.1-writer style.
 * Returns its encoded size or a negative mbedTLS code. */
static int tls_der_prepend(unsigned char **p, unsigned char *start, unsigned char tag,
			   const void *v, size_t n)
{
	int total = 0;
	int rc = mbedtls_asn1_write_raw_buffer(p, start, v, n);
	if (rc < 0)
		goto out;
	total += rc;
	rc = mbedtls_asn1_write_len(p, start, n);
	if (rc < 0)
		goto out;
	total += rc;
	rc = mbedtls_asn1_write_tag(p, start, tag);
	if (rc < 0)
		goto out;
	total += rc;
	rc = total;
out:
	return rc;
}

/*
 * mbedTLS 2.28 has no helper for subjectAltName on certificates it writes (3.x
 * added one), so the extension value is DER-encoded here: GeneralNames ::=
 * SEQUENCE OF GeneralName, with dNSName [2] IA5String and iPAddress [7] OCTET
 * STRING. Elements are written back to front, as mbedTLS's ASN.1 writer does.
 */
static int tls_set_san(mbedtls_x509write_cert *crt, const char *cn)
{
	static const unsigned char ip4[4] = {127, 0, 0, 1};
	static const unsigned char ip6[16] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1};
	const unsigned char dns = MBEDTLS_ASN1_CONTEXT_SPECIFIC | 2;
	const unsigned char ip = MBEDTLS_ASN1_CONTEXT_SPECIFIC | 7;
	unsigned char der[512];
	unsigned char *p = der + sizeof(der);
	int len = 0, rc = 0;

	rc = tls_der_prepend(&p, der, ip, ip6, sizeof(ip6));
	if (rc < 0)
		goto out;
	len += rc;
	rc = tls_der_prepend(&p, der, ip, ip4, sizeof(ip4));
	if (rc < 0)
		goto out;
	len += rc;
	if (strcmp(cn, "localhost") != 0 && tls_cn_is_hostname(cn)) {
		rc = tls_der_prepend(&p, der, dns, cn, strlen(cn));
		if (rc < 0)
			goto out;
		len += rc;
	}
	rc = tls_der_prepend(&p, der, dns, "localhost", strlen("localhost"));
	if (rc < 0)
		goto out;
	len += rc;
	rc = mbedtls_asn1_write_len(&p, der, (size_t)len);
	if (rc < 0)
		goto out;
	len += rc;
	rc = mbedtls_asn1_write_tag(&p, der, MBEDTLS_ASN1_CONSTRUCTED | MBEDTLS_ASN1_SEQUENCE);
	if (rc < 0)
		goto out;
	len += rc;
	rc = mbedtls_x509write_crt_set_extension(crt, MBEDTLS_OID_SUBJECT_ALT_NAME,
						 MBEDTLS_OID_SIZE(MBEDTLS_OID_SUBJECT_ALT_NAME), 0,
						 p, (size_t)len);
out:
	return rc;
}

/* Formats t + days as the "YYYYMMDDhhmmss" UTC string mbedTLS wants for validity. */
static int tls_validity_time(time_t t, long days, char out[16])
{
	int rc = 0;
	struct tm tm;
	time_t v = t + (time_t)days * 86400;
	if (gmtime_r(&v, &tm) == NULL || strftime(out, 16, "%Y%m%d%H%M%S", &tm) != 14)
		rc = -EINVAL;
	return rc;
}

/* Writes path atomically: temporary file in the same directory, fsync, rename. */
static int tls_write_file(const char *path, const void *data, size_t n, mode_t mode)
{
	int rc = 0, fd = -1;
	bool created = false;
	char tmp[PATH_MAX];
	if (snprintf(tmp, sizeof(tmp), "%s.tmpXXXXXX", path) >= (int)sizeof(tmp)) {
		rc = -ENAMETOOLONG;
		goto out;
	}
	/* mkstemp creates the file 0600, so a private key is never readable by others,
	 * not even for the moment before fchmod. */
	fd = mkstemp(tmp);
	if (fd < 0) {
		rc = -errno;
		goto out;
	}
	created = true;
	if (fchmod(fd, mode) != 0) {
		rc = -errno;
		goto out;
	}
	const unsigned char *p = data;
	while (n > 0) {
		ssize_t w = write(fd, p, n);
		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0) {
			rc = -errno;
			goto out;
		}
		p += w;
		n -= (size_t)w;
	}
	if (fsync(fd) != 0) {
		rc = -errno;
		goto out;
	}
	if (close(fd) != 0) {
		fd = -1;
		rc = -errno;
		goto out;
	}
	fd = -1;
	if (rename(tmp, path) != 0)
		rc = -errno;
out:
	if (fd >= 0)
		close(fd);
	if (rc != 0 && created)
		unlink(tmp);
	return rc;
}

int tls_cert_generate(const char *crt_path, const char *key_path, const char *common_name)
{
	int rc = 0;
	mbedtls_pk_context key;
	mbedtls_x509write_cert crt;
	mbedtls_mpi serial;
	unsigned char key_pem[2048];
	unsigned char crt_pem[4096];
	unsigned char rnd[16];
	char subject[80], not_before[16], not_after[16];

	mbedtls_pk_init(&key);
	mbedtls_x509write_crt_init(&crt);
	mbedtls_mpi_init(&serial);

	void *rng = crypto_rng_ctx();
	if (!tls_cn_valid(common_name)) {
		rc = -EINVAL;
		goto out;
	}
	if (rng == NULL) {
		rc = -EIO;
		goto out;
	}
	rc = tls_errno(mbedtls_pk_setup(&key, mbedtls_pk_info_from_type(MBEDTLS_PK_ECKEY)));
	if (rc != 0)
		goto out;
	rc = tls_errno(mbedtls_ecp_gen_key(MBEDTLS_ECP_DP_SECP256R1, mbedtls_pk_ec(key),
					   crypto_rng_fn, rng));
	if (rc != 0)
		goto out;

	/* A random positive 127-bit serial: clients cache certificates by issuer and
	 * serial, and a re-generated certificate must not collide with the old one. */
	rc = crypto_random(rnd, sizeof(rnd));
	if (rc != 0)
		goto out;
	rnd[0] &= 0x7f;
	rnd[0] |= 0x01;
	rc = tls_errno(mbedtls_mpi_read_binary(&serial, rnd, sizeof(rnd)));
	if (rc != 0)
		goto out;

	time_t now = time(NULL);
	rc = tls_validity_time(now, -1, not_before);
	if (rc == 0)
		rc = tls_validity_time(now, 3650, not_after);
	if (rc != 0)
		goto out;
	snprintf(subject, sizeof(subject), "CN=%s", common_name);

	mbedtls_x509write_crt_set_version(&crt, MBEDTLS_X509_CRT_VERSION_3);
	mbedtls_x509write_crt_set_md_alg(&crt, MBEDTLS_MD_SHA256);
	mbedtls_x509write_crt_set_subject_key(&crt, &key);
	mbedtls_x509write_crt_set_issuer_key(&crt, &key);
	rc = tls_errno(mbedtls_x509write_crt_set_serial(&crt, &serial));
	if (rc == 0)
		rc = tls_errno(mbedtls_x509write_crt_set_subject_name(&crt, subject));
	if (rc == 0)
		rc = tls_errno(mbedtls_x509write_crt_set_issuer_name(&crt, subject));
	if (rc == 0)
		rc = tls_errno(mbedtls_x509write_crt_set_validity(&crt, not_before, not_after));
	/* An end-entity certificate that clients pin as their trust anchor (curl
	 * --cacert): not a CA, so it cannot sign anything else if it leaks. */
	if (rc == 0)
		rc = tls_errno(mbedtls_x509write_crt_set_basic_constraints(&crt, 0, -1));
	if (rc == 0)
		rc = tls_errno(mbedtls_x509write_crt_set_key_usage(
			&crt, MBEDTLS_X509_KU_DIGITAL_SIGNATURE));
	if (rc == 0)
		rc = tls_errno(mbedtls_x509write_crt_set_subject_key_identifier(&crt));
	if (rc == 0)
		rc = tls_errno(mbedtls_x509write_crt_set_authority_key_identifier(&crt));
	if (rc == 0)
		rc = tls_errno(tls_set_san(&crt, common_name));
	if (rc != 0)
		goto out;

	rc = tls_errno(mbedtls_pk_write_key_pem(&key, key_pem, sizeof(key_pem)));
	if (rc != 0)
		goto out;
	rc = tls_errno(
		mbedtls_x509write_crt_pem(&crt, crt_pem, sizeof(crt_pem), crypto_rng_fn, rng));
	if (rc != 0)
		goto out;
	rc = tls_write_file(key_path, key_pem, strlen((const char *)key_pem), 0600);
	if (rc != 0)
		goto out;
	rc = tls_write_file(crt_path, crt_pem, strlen((const char *)crt_pem), 0644);
out:
	mbedtls_platform_zeroize(key_pem, sizeof(key_pem));
	mbedtls_mpi_free(&serial);
	mbedtls_x509write_crt_free(&crt);
	mbedtls_pk_free(&key);
	return rc;
}

const char *tls_check_pair_pem(const char *cert_pem, const char *key_pem)
{
	mbedtls_x509_crt crt;
	mbedtls_pk_context key;
	const char *why = NULL;
	mbedtls_x509_crt_init(&crt);
	mbedtls_pk_init(&key);
	/* The PEM parsers count the terminating NUL in the length. */
	if (strstr(cert_pem, "-----BEGIN CERTIFICATE-----") == NULL ||
	    mbedtls_x509_crt_parse(&crt, (const unsigned char *)cert_pem, strlen(cert_pem) + 1) !=
		    0)
		why = "the client certificate is not a PEM X.509 certificate";
	else if (strstr(key_pem, "PRIVATE KEY-----") == NULL ||
		 mbedtls_pk_parse_key(&key, (const unsigned char *)key_pem, strlen(key_pem) + 1,
				      NULL, 0) != 0)
		why = "the client key is not an unencrypted PEM private key";
	else if (mbedtls_pk_check_pair(&crt.pk, &key) != 0)
		why = "the client key is not the certificate's";
	/* By the wall clock (never a test clock), as the peer's TLS stack checks it. */
	else if (mbedtls_x509_time_is_future(&crt.valid_from))
		why = "the client certificate is not valid yet";
	else if (mbedtls_x509_time_is_past(&crt.valid_to))
		why = "the client certificate has expired";
	mbedtls_pk_free(&key);
	mbedtls_x509_crt_free(&crt);
	return why;
}

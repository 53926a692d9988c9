#include "net/tls_cert.h"

#include <errno.h>
#include <fcntl.h>
#include <mbedtls/asn1write.h>
#include <mbedtls/ecp.h>
#include <mbedtls/oid.h>
#include <mbedtls/pk.h>
#include <mbedtls/x509_crt.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "common/crypto.h"

static int write_file(const char *path, const unsigned char *p, size_t n, mode_t mode)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode);
	if (fd < 0)
		return -errno;
	int rc = 0;
	while (n > 0) {
		ssize_t w = write(fd, p, n);
		if (w < 0) {
			if (errno == EINTR)
				continue;
			rc = -errno;
			break;
		}
		p += w;
		n -= (size_t)w;
	}
	if (rc == 0 && fsync(fd) != 0)
		rc = -errno;
	close(fd);
	return rc;
}

/* subjectAltName: SEQUENCE { [2] dNSName "localhost", [7] iPAddress 127.0.0.1 }. */
static int add_san(mbedtls_x509write_cert *crt)
{
	static const unsigned char san[] = {
		0x30, 0x11, 0x82, 0x09, 'l',  'o', 'c', 'a', 'l', 'h',
		'o',  's',  't',  0x87, 0x04, 127, 0,   0,   1,
	};
	return mbedtls_x509write_crt_set_extension(crt, MBEDTLS_OID_SUBJECT_ALT_NAME,
						   MBEDTLS_OID_SIZE(MBEDTLS_OID_SUBJECT_ALT_NAME),
						   0, san, sizeof(san));
}

int tls_cert_generate(const char *crt_path, const char *key_path, const char *common_name)
{
	mbedtls_pk_context key;
	mbedtls_x509write_cert crt;
	mbedtls_mpi serial;
	unsigned char pem[4096];
	char subject[160], from[16], to[16];
	int rc = -EIO;
	void *rng = crypto_rng_ctx();

	mbedtls_pk_init(&key);
	mbedtls_x509write_crt_init(&crt);
	mbedtls_mpi_init(&serial);
	if (rng == NULL)
		goto out;
	if (mbedtls_pk_setup(&key, mbedtls_pk_info_from_type(MBEDTLS_PK_ECKEY)) != 0 ||
	    mbedtls_ecp_gen_key(MBEDTLS_ECP_DP_SECP256R1, mbedtls_pk_ec(key), crypto_rng_fn, rng) !=
		    0)
		goto out;

	time_t now = time(NULL);
	struct tm tm;
	gmtime_r(&now, &tm);
	strftime(from, sizeof(from), "%Y%m%d%H%M%S", &tm);
	tm.tm_year += 10;
	strftime(to, sizeof(to), "%Y%m%d%H%M%S", &tm);
	snprintf(subject, sizeof(subject), "CN=%s,O=ospay", common_name);
	unsigned char serial_raw[16];
	if (crypto_random(serial_raw, sizeof(serial_raw)) != 0)
		goto out;
	serial_raw[0] &= 0x7F; /* a positive serial number */
	if (mbedtls_mpi_read_binary(&serial, serial_raw, sizeof(serial_raw)) != 0)
		goto out;

	mbedtls_x509write_crt_set_version(&crt, MBEDTLS_X509_CRT_VERSION_3);
	mbedtls_x509write_crt_set_md_alg(&crt, MBEDTLS_MD_SHA256);
	mbedtls_x509write_crt_set_subject_key(&crt, &key);
	mbedtls_x509write_crt_set_issuer_key(&crt, &key);
	if (mbedtls_x509write_crt_set_subject_name(&crt, subject) != 0 ||
	    mbedtls_x509write_crt_set_issuer_name(&crt, subject) != 0 ||
	    mbedtls_x509write_crt_set_serial(&crt, &serial) != 0 ||
	    mbedtls_x509write_crt_set_validity(&crt, from, to) != 0 ||
	    mbedtls_x509write_crt_set_basic_constraints(&crt, 0, -1) != 0 ||
	    mbedtls_x509write_crt_set_subject_key_identifier(&crt) != 0 || add_san(&crt) != 0)
		goto out;

	memset(pem, 0, sizeof(pem));
	if (mbedtls_pk_write_key_pem(&key, pem, sizeof(pem)) != 0)
		goto out;
	rc = write_file(key_path, pem, strlen((char *)pem), 0600);
	if (rc != 0)
		goto out;
	memset(pem, 0, sizeof(pem));
	rc = -EIO;
	if (mbedtls_x509write_crt_pem(&crt, pem, sizeof(pem), crypto_rng_fn, rng) != 0)
		goto out;
	rc = write_file(crt_path, pem, strlen((char *)pem), 0644);
out:
	mbedtls_platform_zeroize(pem, sizeof(pem));
	mbedtls_mpi_free(&serial);
	mbedtls_x509write_crt_free(&crt);
	mbedtls_pk_free(&key);
	return rc;
}

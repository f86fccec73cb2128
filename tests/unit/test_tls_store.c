/* Unit tests of tls_store.h: the embedded DER bundle split by ASN.1
 * lengths, loading a CA file that replaces the store, and the sentences
 * that explain a verification failure. */
#include "ca_bundle.h"
#include "tls_store.h"
#include "t.h"

#include <stdlib.h>

#include "mbedtls/x509.h"

static void test_der_list(void)
{
	if (kling_ca_der_len == 0) {
		printf("SKIP tls_store/embedded bundle: built with EMBED_CA=0\n");
		return;
	}
	mbedtls_x509_crt chain;
	int bad;
	mbedtls_x509_crt_init(&chain);
	const unsigned char *der = (const unsigned char *)t_guarded(kling_ca_der, kling_ca_der_len);
	int n = tls_store_parse_der_list(&chain, der, kling_ca_der_len, &bad);
	T_CHECK("tls_store/every embedded certificate parses", n == (int)kling_ca_count && bad == 0);
	mbedtls_x509_crt_free(&chain);

	mbedtls_x509_crt_init(&chain);
	der = (const unsigned char *)t_guarded(kling_ca_der, kling_ca_der_len - 1);
	n = tls_store_parse_der_list(&chain, der, kling_ca_der_len - 1, &bad);
	T_CHECK("tls_store/a cut bundle keeps the whole ones", n == (int)kling_ca_count - 1 && bad == 1);
	mbedtls_x509_crt_free(&chain);

	static const unsigned char junk[] = {0x30, 0x84, 0xff, 0xff, 0xff, 0xff, 0x00};
	mbedtls_x509_crt_init(&chain);
	n = tls_store_parse_der_list(&chain, (const unsigned char *)t_guarded(junk, sizeof junk), sizeof junk, &bad);
	T_CHECK("tls_store/length past the end", n == 0 && bad == 1);
	static const unsigned char bogus[] = {0x30, 0x03, 0x01, 0x02, 0x03, 0x30, 0x81};
	n = tls_store_parse_der_list(&chain, (const unsigned char *)t_guarded(bogus, sizeof bogus), sizeof bogus, &bad);
	T_CHECK("tls_store/not a certificate, then a cut header", n == 0 && bad == 2);
	mbedtls_x509_crt_free(&chain);
}

static void test_file(void)
{
	char err[400];
	tls_store_configure("/nonexistent/ca.pem");
	T_CHECK("tls_store/missing file", tls_store_get(err, sizeof err) == NULL && strstr(err, "/nonexistent/ca.pem") &&
						  strstr(err, "SSL_CERT_FILE"));
	if (kling_ca_der_len) {
		/* a DER file with one certificate: the first of the bundle */
		char path[] = "/tmp/kling-tls-store-XXXXXX";
		int fd = mkstemp(path);
		size_t first = ((size_t)kling_ca_der[2] << 8 | kling_ca_der[3]) + 4; /* 30 82 hh ll */
		T_CHECK("tls_store/temp file", fd >= 0 && write(fd, kling_ca_der, first) == (ssize_t)first);
		close(fd);
		setenv("KLING_CA_FILE", path, 1);
		tls_store_configure(path);
		mbedtls_x509_crt *c = tls_store_get(err, sizeof err);
		T_CHECK("tls_store/CA file loaded", c != NULL);
		T_CHECK("tls_store/CA file replaces the store", c && c->next == NULL);
		T_CHECK("tls_store/source names the variable and file",
			strstr(tls_store_source(), "KLING_CA_FILE") && strstr(tls_store_source(), "(1 certificate)"));
		T_CHECK("tls_store/loaded once", tls_store_get(err, sizeof err) == c);
		tls_store_free();
		T_CHECK("tls_store/free forgets the source", tls_store_source()[0] == 0);
		unlink(path);
		unsetenv("KLING_CA_FILE");
	}
	tls_store_configure(NULL);
}

static void test_explain(void)
{
	char out[600];
	struct tls_peer_info peer;
	memset(&peer, 0, sizeof peer);
	peer.have = 1;
	strcpy(peer.subject, "CN=wrong.example");
	strcpy(peer.issuer, "CN=Some CA");
	peer.valid_from = (mbedtls_x509_time){2020, 1, 1, 0, 0, 0};
	peer.valid_to = (mbedtls_x509_time){2020, 1, 2, 0, 0, 0};
	int64_t now = 1800000000; /* 2027 */
	tls_store_explain(MBEDTLS_X509_BADCERT_NOT_TRUSTED, &peer, "api.example", now, out, sizeof out);
	T_CHECK("explain/unknown CA", strstr(out, "not signed by a trusted CA") && strstr(out, "issued by CN=Some CA") &&
					      strstr(out, "trust store:"));
	tls_store_explain(MBEDTLS_X509_BADCERT_CN_MISMATCH, &peer, "api.example", now, out, sizeof out);
	T_CHECK("explain/name mismatch", strstr(out, "(CN=wrong.example) is not valid for the name api.example") != NULL);
	tls_store_explain(MBEDTLS_X509_BADCERT_EXPIRED, &peer, "h", now, out, sizeof out);
	T_CHECK("explain/expired with dates",
		strstr(out, "expired at 2020-01-02T00:00:00Z") && strstr(out, "the clock reads 2027-01-15"));
	T_CHECK("explain/no clock hint with a sane clock", !strstr(out, "set the clock"));
	tls_store_explain(MBEDTLS_X509_BADCERT_FUTURE, &peer, "h", now, out, sizeof out);
	T_CHECK("explain/not yet valid", strstr(out, "not valid before 2020-01-01T00:00:00Z") != NULL);
	tls_store_explain(MBEDTLS_X509_BADCERT_FUTURE | MBEDTLS_X509_BADCERT_NOT_TRUSTED, &peer, "h", 1000, out,
			  sizeof out);
	T_CHECK("explain/clock before 2020", strstr(out, "the system clock reads 1970-01-01T00:16:40Z: set the clock "
							 "first") != NULL);
	T_CHECK("explain/several reasons joined", strstr(out, "); the certificate of h is not valid before 2020"));
	tls_store_explain(MBEDTLS_X509_BADCERT_REVOKED, NULL, "h", now, out, sizeof out);
	T_CHECK("explain/other flags in words", strstr(out, "revoked") != NULL && !strchr(out, '\n'));
	tls_store_explain(MBEDTLS_X509_BADCERT_NOT_TRUSTED, NULL, "h", now, out, 40);
	T_CHECK("explain/bounded", strlen(out) < 40);
}

int main(void)
{
	test_der_list();
	test_file();
	test_explain();
	tls_store_free();
	return t_done();
}

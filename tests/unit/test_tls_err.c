/* Unit tests of tls_err.h: the words for mbedTLS error codes, composite
 * codes, unknown codes, and small buffers. */
#include "tls_err.h"
#include "t.h"

#include "mbedtls/asn1.h"
#include "mbedtls/ssl.h"
#include "mbedtls/x509.h"

int main(void)
{
	t_plan(6);
	char out[200];
	tls_err_text(MBEDTLS_ERR_SSL_FATAL_ALERT_MESSAGE, out, sizeof out);
	T_STREQ("tls_err/SSL code", out, "the server ended the handshake with a fatal alert (-0x7780)");
	tls_err_text(MBEDTLS_ERR_SSL_BAD_PROTOCOL_VERSION, out, sizeof out);
	T_CHECK("tls_err/protocol version", strstr(out, "neither TLS 1.2 nor TLS 1.3") != NULL);
	tls_err_text(MBEDTLS_ERR_X509_INVALID_FORMAT + MBEDTLS_ERR_ASN1_OUT_OF_DATA, out, sizeof out);
	T_STREQ("tls_err/two parts", out, "malformed certificate: ASN.1 data cut short (-0x21e0)");
	int code = MBEDTLS_ERR_SSL_INTERNAL_ERROR + MBEDTLS_ERR_ASN1_INVALID_DATA - 0x1000;
	tls_err_text(code, out, sizeof out);
	T_CHECK("tls_err/unknown high part, known low part", strstr(out, "invalid ASN.1 data (-0x") == out);
	tls_err_text(-0x5A80, out, sizeof out);
	T_STREQ("tls_err/unknown code named by its number", out, "TLS library error (-0x5a80)");
	tls_err_text(MBEDTLS_ERR_SSL_HANDSHAKE_FAILURE, out, 12);
	T_CHECK("tls_err/bounded", strlen(out) == 11);
	return t_done();
}

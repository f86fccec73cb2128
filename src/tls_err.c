/* tls_err — see tls_err.h. */
#include "tls_err.h"

#include <stdio.h>

#include "mbedtls/asn1.h"
#include "mbedtls/bignum.h"
#include "mbedtls/ecp.h"
#include "mbedtls/gcm.h"
#include "mbedtls/net_sockets.h"
#include "mbedtls/pem.h"
#include "mbedtls/pk.h"
#include "mbedtls/rsa.h"
#include "mbedtls/ssl.h"
#include "mbedtls/x509.h"

struct words {
	short code; /* negative, as mbedTLS returns it */
	const char *text;
};

/* High-level codes: bits 7-14 (SSL, X.509, PEM, PK, RSA, ECP). */
static const struct words g_high[] = {
	{MBEDTLS_ERR_SSL_FEATURE_UNAVAILABLE, "the server asked for a TLS feature this client does not have"},
	{MBEDTLS_ERR_SSL_INVALID_MAC, "a TLS record failed its integrity check"},
	{MBEDTLS_ERR_SSL_INVALID_RECORD, "the server sent an invalid TLS record"},
	{MBEDTLS_ERR_SSL_CONN_EOF, "the connection was closed"},
	{MBEDTLS_ERR_SSL_DECODE_ERROR, "a TLS message could not be decoded"},
	{MBEDTLS_ERR_SSL_UNSUPPORTED_EXTENSION, "the server sent a TLS extension that was not asked for"},
	{MBEDTLS_ERR_SSL_UNEXPECTED_MESSAGE, "the server sent an unexpected TLS message"},
	{MBEDTLS_ERR_SSL_FATAL_ALERT_MESSAGE, "the server ended the handshake with a fatal alert"},
	{MBEDTLS_ERR_SSL_UNRECOGNIZED_NAME, "the server does not know the host name asked for"},
	{MBEDTLS_ERR_SSL_PEER_CLOSE_NOTIFY, "the server closed the connection"},
	{MBEDTLS_ERR_SSL_BAD_CERTIFICATE, "the server's certificate could not be used"},
	{MBEDTLS_ERR_SSL_ALLOC_FAILED, "out of memory"},
	{MBEDTLS_ERR_SSL_BAD_PROTOCOL_VERSION, "the server speaks neither TLS 1.2 nor TLS 1.3"},
	{MBEDTLS_ERR_SSL_HANDSHAKE_FAILURE,
	 "no cipher suite, key exchange group or signature algorithm in common with the server"},
	{MBEDTLS_ERR_SSL_INTERNAL_ERROR, "internal TLS error"},
	{MBEDTLS_ERR_SSL_BUFFER_TOO_SMALL, "a TLS message was too large"},
	{MBEDTLS_ERR_SSL_UNEXPECTED_RECORD, "the server sent an unexpected TLS record"},
	{MBEDTLS_ERR_SSL_ILLEGAL_PARAMETER, "the server sent an illegal parameter in the handshake"},
	{MBEDTLS_ERR_SSL_BAD_CONFIG, "invalid TLS configuration"},
	/* In a handshake, what mbedTLS says when a message does not fit its input buffer. */
	{MBEDTLS_ERR_SSL_BAD_INPUT_DATA, "a handshake message of the server, most likely its certificate chain, is larger "
					 "than the 16 KiB this client accepts"},
	{MBEDTLS_ERR_X509_FEATURE_UNAVAILABLE, "the certificate uses a feature this client does not have"},
	{MBEDTLS_ERR_X509_UNKNOWN_OID, "unknown object identifier in a certificate"},
	{MBEDTLS_ERR_X509_INVALID_FORMAT, "malformed certificate"},
	{MBEDTLS_ERR_X509_INVALID_VERSION, "invalid certificate version"},
	{MBEDTLS_ERR_X509_INVALID_SERIAL, "invalid certificate serial number"},
	{MBEDTLS_ERR_X509_INVALID_ALG, "invalid algorithm in a certificate"},
	{MBEDTLS_ERR_X509_INVALID_NAME, "invalid name in a certificate"},
	{MBEDTLS_ERR_X509_INVALID_DATE, "invalid date in a certificate"},
	{MBEDTLS_ERR_X509_INVALID_SIGNATURE, "invalid signature in a certificate"},
	{MBEDTLS_ERR_X509_INVALID_EXTENSIONS, "invalid extension in a certificate"},
	{MBEDTLS_ERR_X509_UNKNOWN_VERSION, "unsupported certificate version"},
	{MBEDTLS_ERR_X509_UNKNOWN_SIG_ALG, "unsupported signature algorithm in a certificate"},
	{MBEDTLS_ERR_X509_SIG_MISMATCH, "the certificate's two signature algorithm fields differ"},
	{MBEDTLS_ERR_X509_CERT_VERIFY_FAILED, "certificate verification failed"},
	{MBEDTLS_ERR_X509_CERT_UNKNOWN_FORMAT, "not a certificate in PEM or DER"},
	{MBEDTLS_ERR_X509_ALLOC_FAILED, "out of memory"},
	{MBEDTLS_ERR_X509_FILE_IO_ERROR, "the file could not be read"},
	{MBEDTLS_ERR_PEM_INVALID_DATA, "invalid PEM data"},
	{MBEDTLS_ERR_PEM_ALLOC_FAILED, "out of memory"},
	{MBEDTLS_ERR_PK_ALLOC_FAILED, "out of memory"},
	{MBEDTLS_ERR_PK_KEY_INVALID_FORMAT, "malformed public key"},
	{MBEDTLS_ERR_PK_UNKNOWN_PK_ALG, "unsupported public key algorithm"},
	{MBEDTLS_ERR_PK_INVALID_PUBKEY, "invalid public key"},
	{MBEDTLS_ERR_PK_UNKNOWN_NAMED_CURVE, "unsupported elliptic curve"},
	{MBEDTLS_ERR_PK_FEATURE_UNAVAILABLE, "unsupported public key feature"},
	{MBEDTLS_ERR_RSA_VERIFY_FAILED, "an RSA signature did not verify"},
	{MBEDTLS_ERR_ECP_VERIFY_FAILED, "an ECDSA signature did not verify"},
	{MBEDTLS_ERR_ECP_FEATURE_UNAVAILABLE, "unsupported elliptic curve"},
	{MBEDTLS_ERR_ECP_INVALID_KEY, "invalid elliptic curve key"},
};

/* Low-level codes: bits 0-6 (ASN.1, bignum, GCM, sockets). */
static const struct words g_low[] = {
	{MBEDTLS_ERR_ASN1_OUT_OF_DATA, "ASN.1 data cut short"},
	{MBEDTLS_ERR_ASN1_UNEXPECTED_TAG, "unexpected ASN.1 tag"},
	{MBEDTLS_ERR_ASN1_INVALID_LENGTH, "invalid ASN.1 length"},
	{MBEDTLS_ERR_ASN1_LENGTH_MISMATCH, "ASN.1 length mismatch"},
	{MBEDTLS_ERR_ASN1_INVALID_DATA, "invalid ASN.1 data"},
	{MBEDTLS_ERR_ASN1_ALLOC_FAILED, "out of memory"},
	{MBEDTLS_ERR_MPI_ALLOC_FAILED, "out of memory"},
	{MBEDTLS_ERR_GCM_AUTH_FAILED, "authentication tag mismatch"},
	{MBEDTLS_ERR_NET_RECV_FAILED, "receiving failed"},
	{MBEDTLS_ERR_NET_SEND_FAILED, "sending failed"},
	{MBEDTLS_ERR_NET_CONN_RESET, "connection reset"},
};

static const struct {
	unsigned char alert;
	const char *text;
} g_alerts[] = {
	{40, "handshake_failure (no cipher suite, key exchange group or signature algorithm in common)"},
	{42, "bad_certificate"},
	{46, "certificate_unknown"},
	{48, "unknown_ca"},
	{70, "protocol_version (it speaks neither TLS 1.2 nor 1.3)"},
	{71, "insufficient_security"},
	{80, "internal_error (a failure on its side)"},
	{112, "unrecognized_name (it does not serve the host name asked for)"},
	{116, "certificate_required (it wants a client certificate)"},
};

const char *tls_err_alert_text(int alert)
{
	for (size_t i = 0; i < sizeof g_alerts / sizeof *g_alerts; i++)
		if (g_alerts[i].alert == alert)
			return g_alerts[i].text;
	return NULL;
}

static const char *find(const struct words *w, size_t n, int code)
{
	for (size_t i = 0; i < n; i++)
		if (w[i].code == code)
			return w[i].text;
	return NULL;
}

void tls_err_text(int code, char *out, size_t cap)
{
	if (cap == 0)
		return;
	int neg = code < 0 ? -code : code;
	int high = neg & 0xFF80, low = neg & 0x7F;
	const char *h = high ? find(g_high, sizeof g_high / sizeof *g_high, -high) : NULL;
	const char *l = low ? find(g_low, sizeof g_low / sizeof *g_low, -low) : NULL;
	if (!h && !l)
		h = "TLS library error";
	snprintf(out, cap, "%s%s%s (-0x%04x)", h ? h : "", h && l ? ": " : "", l ? l : "", (unsigned)neg);
}

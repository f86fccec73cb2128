/*
 * tls_store — the trust anchors server certificates are verified against,
 * and the explanation of a verification failure.
 *
 * Where the anchors come from, first found (DESIGN.md):
 *   1. config.ca_file (KLING_CA_FILE, else SSL_CERT_FILE): *replaces* the
 *      store; if it cannot be read or holds no certificate, that is the error;
 *   2. the first system bundle that exists: /etc/ssl/certs/ca-certificates.crt,
 *      /etc/pki/tls/certs/ca-bundle.crt, /etc/ssl/cert.pem;
 *   3. the bundle embedded at build time (ca_bundle.h): concatenated DER,
 *      split by each certificate's ASN.1 length and parsed without copying.
 * Loaded once, on the first TLS handshake (start-up reads no file), and kept
 * until tls_store_free().
 */
#ifndef KLING_TLS_STORE_H
#define KLING_TLS_STORE_H

#include <stddef.h>
#include <stdint.h>

#include "mbedtls/x509_crt.h"

/* Remember where to load from (the string must outlive the store); NULL =
 * system or embedded. Frees a store loaded earlier. */
void tls_store_configure(const char *ca_file);

/* The anchors, loaded on first call. Returns NULL when there are none, with
 * a sentence in err[0..errcap) naming the file and what went wrong; a later
 * call tries again. */
mbedtls_x509_crt *tls_store_get(char *err, size_t errcap);

/* Where the loaded anchors came from, e.g. "KLING_CA_FILE /x.pem (1
 * certificate)", "system bundle /etc/ssl/certs/ca-certificates.crt (150
 * certificates)", "embedded bundle (150 certificates)"; "" before loading. */
const char *tls_store_source(void);

/* What we saw of the server's certificate while verifying it. */
struct tls_peer_info {
	int have;                /* 1 once the leaf was seen */
	char subject[160];       /* leaf subject, e.g. "CN=localhost" */
	char issuer[160];        /* leaf issuer */
	mbedtls_x509_time valid_from, valid_to;
};

/* Verification callback for mbedtls_ssl_set_verify(): records the leaf's
 * names and dates in p_info (a struct tls_peer_info); changes no flag. */
int tls_store_verify_cb(void *p_info, mbedtls_x509_crt *crt, int depth, uint32_t *flags);

/* Explain verification flags (mbedtls_ssl_get_verify_result) for host in
 * out[0..cap), the clock reading now_s (Unix seconds): unknown CA (and which
 * store was used), name mismatch, expired or not yet valid with the dates,
 * and, when the clock reads a time before 2020, that it must be set first. */
void tls_store_explain(uint32_t flags, const struct tls_peer_info *peer, const char *host, int64_t now_s, char *out,
		       size_t cap);

/* Parse concatenated DER certificates der[0..len) into chain without
 * copying them (der must outlive chain), each split off by its ASN.1
 * SEQUENCE length. Stops at the first malformed length. Returns the number
 * parsed; *bad counts those that could not be parsed or were cut short. */
int tls_store_parse_der_list(mbedtls_x509_crt *chain, const unsigned char *der, size_t len, int *bad);

/* Free the anchors (and whatever the store owns). */
void tls_store_free(void);

#endif

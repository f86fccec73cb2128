/*
 * tls_store — the trust anchors server certificates are verified against,
 * and the explanation of a verification failure.
 *
 * Where the anchors come from, first found:
 *   1. config.ca_file (KLING_CA_FILE, else SSL_CERT_FILE): *replaces* the
 *      store; if it cannot be read or holds no certificate, that is the error;
 *   2. the first system bundle that exists: /etc/ssl/certs/ca-certificates.crt,
 *      /etc/pki/tls/certs/ca-bundle.crt, /etc/ssl/cert.pem;
 *   3. the bundle embedded at build time (ca_bundle.h): compact trust
 *      anchors (what mbedTLS reads of a trusted root, see tools/gen_ca.py),
 *      rebuilt into DER certificates by tls_store_rebuild() only when this
 *      source is the one used (the embedded bytes are otherwise never read).
 * Loaded once, on the first TLS handshake (start-up reads no file), and kept
 * until tls_store_free().
 *
 * Kept as DER and parsed only when needed: a PEM file is decoded in place to
 * DER (the embedded anchors are rebuilt into a buffer), and each certificate's
 * place and subject name are indexed. Verification asks tls_store_ca_cb()
 * for the anchors that can have signed a certificate: those whose subject
 * equals its issuer byte for byte (as Go's crypto/x509 matches them), parsed
 * without copying and freed by mbedTLS right after. So the ~150 anchors of a
 * system bundle cost their DER (~160 KB) instead of ~480 KB parsed, and
 * loading reads no public key.
 */
#ifndef KLING_TLS_STORE_H
#define KLING_TLS_STORE_H

#include <stddef.h>
#include <stdint.h>

#include "mbedtls/x509_crt.h"

/* Remember where to load from (the string must outlive the store); NULL =
 * system or embedded. Frees a store loaded earlier. */
void tls_store_configure(const char *ca_file);

/* Load the anchors if not loaded yet. Returns 0, or -1 when there are none,
 * with a sentence in err[0..errcap) naming the file and what went wrong; a
 * later call tries again. */
int tls_store_load(char *err, size_t errcap);

/* The number of anchors loaded (0 before loading). */
int tls_store_count(void);

/* For mbedtls_ssl_conf_ca_cb() (context unused): the anchors whose subject
 * equals child's issuer, parsed into a new chain in *candidates (NULL when
 * there is none), which mbedTLS frees. The chain points into the store's
 * DER: valid until tls_store_free(). Returns 0, or -1 out of memory. */
int tls_store_ca_cb(void *ctx, mbedtls_x509_crt const *child, mbedtls_x509_crt **candidates);

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
	/* Set by the caller before the handshake when the host is an IP
	 * literal (4 or 16 bytes; 0 for a name): mbedTLS would also accept a
	 * DNS-type SAN or a CN spelling the address, so the name check is left
	 * to the callback, which accepts only an IP-type SAN (RFC 6125 6.2.1). */
	unsigned char ip[16];
	size_t ip_len;
};

/* Verification callback for mbedtls_ssl_set_verify(): records the leaf's
 * names and dates in p_info (a struct tls_peer_info); when p_info names an
 * IP, sets MBEDTLS_X509_BADCERT_CN_MISMATCH unless the leaf has an IP-type
 * subjectAltName equal to it. Changes no other flag. */
int tls_store_verify_cb(void *p_info, mbedtls_x509_crt *crt, int depth, uint32_t *flags);

/* Explain verification flags (mbedtls_ssl_get_verify_result) for host in
 * out[0..cap), the clock reading now_s (Unix seconds): unknown CA (and which
 * store was used), name mismatch, expired or not yet valid with the dates,
 * and, when the clock reads a time before 2020, that it must be set first. */
void tls_store_explain(uint32_t flags, const struct tls_peer_info *peer, const char *host, int64_t now_s, char *out,
		       size_t cap);

/* Where one certificate lies in a DER buffer, and its subject Name (the
 * whole TLV), which a certificate it signed carries as its issuer. */
struct tls_anchor {
	uint32_t off, len;
	uint32_t subj_off, subj_len;
};

/* Index concatenated DER certificates der[0..len), each split off by its
 * ASN.1 SEQUENCE length, into out[0..cap) (offsets relative to der). Reads
 * the structure as far as the subject; parses nothing else. Stops at the
 * first malformed length. Returns the number indexed; *bad counts those
 * whose structure could not be read or that were cut short or left out. */
int tls_store_index_der(const unsigned char *der, size_t len, struct tls_anchor *out, int cap, int *bad);

/* Rebuild the embedded bundle's compact anchors in[0..len) (tools/gen_ca.py)
 * as DER certificates, one after the other, into out[0..cap) (2 * len + 160
 * per anchor is enough). Returns the bytes written; *bad is 1 when an anchor
 * was malformed or did not fit (it and the rest are left out), else 0. */
size_t tls_store_rebuild(const unsigned char *in, size_t len, unsigned char *out, size_t cap, int *bad);

/* Free the anchors and the DER they point into. */
void tls_store_free(void);

#endif

/*
 * tls_err — words for the mbedTLS error codes a TLS client can meet.
 *
 * Replaces mbedTLS's own error module (MBEDTLS_ERROR_C), 16 KB of text for
 * every code of every module, most of which a client never sees (server,
 * key generation, file formats we do not read). A code with no words here is
 * still named by its number, which mbedTLS's error.h documents.
 */
#ifndef KLING_TLS_ERR_H
#define KLING_TLS_ERR_H

#include <stddef.h>

/* Write into out[0..cap) a sentence for the mbedTLS error code (negative),
 * ending in its number: "the server sent a fatal alert (-0x7780)". A code
 * mbedTLS builds from two parts (e.g. X.509 + ASN.1) gets both, joined by
 * ": ". Always NUL-terminates when cap > 0; cut short when out is small. */
void tls_err_text(int code, char *out, size_t cap);

/* Words for a TLS alert description the server sent (RFC 8446 6.2), e.g.
 * 40: "handshake_failure (no cipher suite, key exchange group or signature
 * algorithm in common)"; NULL for one not known. */
const char *tls_err_alert_text(int alert);

#endif

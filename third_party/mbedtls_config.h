/*
 * mbedTLS 3.6 configuration for kling-mcp: a TLS 1.2 + 1.3 client and nothing
 * more. Passed to the library and to our code alike with
 * -DMBEDTLS_CONFIG_FILE='"mbedtls_config.h"' so both see the same macros.
 * Why each group is here is said once above it; sizes measured are in README.
 */
#ifndef KLING_MBEDTLS_CONFIG_H
#define KLING_MBEDTLS_CONFIG_H

/* Platform. Random numbers come from getrandom() (src/rng.c): under musl
 * mbedTLS would open /dev/random, absent in a scratch image, and the kernel's
 * generator needs no entropy pool or DRBG of ours (-4.4 KB). */
#define MBEDTLS_HAVE_ASM
#define MBEDTLS_HAVE_TIME
#define MBEDTLS_HAVE_TIME_DATE
#define MBEDTLS_PLATFORM_C
#define MBEDTLS_PSA_CRYPTO_EXTERNAL_RNG
/* No MBEDTLS_ERROR_C (16,240 B of text for every code of every module):
 * src/tls_err.c has words for the codes a client can meet. */
#define MBEDTLS_VERSION_C        /* --version reads the linked library's version */

/* Public key: RSA and ECDSA server certificates, ECDHE key exchange over
 * P-256 (every TLS 1.3 server must offer it, RFC 8446 9.1) or P-384. No
 * X25519: mbedTLS computes it with generic bignum code, so a handshake costs
 * 7% more instructions with it than with the optimized P-256 (and 4 KB). */
#define MBEDTLS_BIGNUM_C
#define MBEDTLS_OID_C
#define MBEDTLS_ASN1_PARSE_C
#define MBEDTLS_ASN1_WRITE_C
#define MBEDTLS_PK_C
#define MBEDTLS_PK_PARSE_C
#define MBEDTLS_RSA_C
#define MBEDTLS_PKCS1_V15
#define MBEDTLS_PKCS1_V21        /* RSA-PSS: TLS 1.3 with RSA certificates */
#define MBEDTLS_ECP_C
#define MBEDTLS_ECDH_C
#define MBEDTLS_ECDSA_C
#define MBEDTLS_ECP_DP_SECP256R1_ENABLED
#define MBEDTLS_ECP_DP_SECP384R1_ENABLED
#define MBEDTLS_ECP_NIST_OPTIM

/* Symmetric ciphers: AES-GCM, which every TLS 1.3 server must offer (RFC
 * 8446 9.1) and which runs on AES-NI/ARMv8-CE where present. No
 * ChaCha20-Poly1305 (-4.3 KB): servers choose AES-GCM for a client that
 * does not prefer ChaCha. */
#define MBEDTLS_CIPHER_C
#define MBEDTLS_AES_C
#define MBEDTLS_AES_ROM_TABLES
#define MBEDTLS_AES_FEWER_TABLES
#if defined(__x86_64__)
#define MBEDTLS_AESNI_C
#endif
#if defined(__aarch64__)
#define MBEDTLS_AESCE_C
#endif
#define MBEDTLS_GCM_C

/* Hashes. SHA-1 stays: 24 of Debian's 150 roots are SHA-1-signed and would
 * not parse without it. SHA-512 code is needed for SHA-384. No SHA-224
 * (nothing we verify uses it). MD_C also gives HMAC-SHA256 for the JWT.
 * The SMALLER variants: hashes only see handshake messages and certificates
 * (records use GCM); -2.9 KB at no measurable cost (callgrind: a full
 * handshake + call runs 0.5% fewer instructions). */
#define MBEDTLS_MD_C
#define MBEDTLS_SHA1_C
#define MBEDTLS_SHA256_C
#define MBEDTLS_SHA256_SMALLER
#define MBEDTLS_SHA384_C
#define MBEDTLS_SHA512_C
#define MBEDTLS_SHA512_SMALLER
#define MBEDTLS_HKDF_C
#define MBEDTLS_PSA_CRYPTO_C     /* TLS 1.3 in 3.6 needs PSA; no storage */

/* X.509 verification of the server's chain. REMOVE_INFO drops the
 * certificate printer and the OID descriptions (tls_store.c words the
 * verification flags itself). The trust store hands mbedTLS only the anchors
 * a chain can use, through the callback (tls_store.h); it reads PEM files
 * itself, so no PEM/base64 module and no file I/O in mbedTLS. */
#define MBEDTLS_X509_USE_C
#define MBEDTLS_X509_CRT_PARSE_C
#define MBEDTLS_X509_REMOVE_INFO
#define MBEDTLS_X509_RSASSA_PSS_SUPPORT
#define MBEDTLS_X509_TRUSTED_CERTIFICATE_CALLBACK

/* TLS client, 1.2 and 1.3. */
#define MBEDTLS_SSL_TLS_C
#define MBEDTLS_SSL_CLI_C
#define MBEDTLS_SSL_PROTO_TLS1_2
#define MBEDTLS_SSL_PROTO_TLS1_3
#define MBEDTLS_SSL_TLS1_3_COMPATIBILITY_MODE
#define MBEDTLS_SSL_TLS1_3_KEY_EXCHANGE_MODE_EPHEMERAL_ENABLED
#define MBEDTLS_KEY_EXCHANGE_ECDHE_RSA_ENABLED
#define MBEDTLS_KEY_EXCHANGE_ECDHE_ECDSA_ENABLED
#define MBEDTLS_SSL_SERVER_NAME_INDICATION
#define MBEDTLS_SSL_EXTENDED_MASTER_SECRET
#define MBEDTLS_SSL_KEEP_PEER_CERTIFICATE   /* required by TLS 1.3 in 3.6 */
#define MBEDTLS_SSL_ALL_ALERT_MESSAGES

/* Session resumption: a reconnect (after the idle timeout, or when the
 * server closed a kept-alive connection) skips the certificate chain and its
 * signature checks. TLS 1.2 tickets, and TLS 1.3 tickets used in
 * psk_dhe_ke mode only (still (EC)DHE: forward secret; pure PSK stays off).
 * Measured (x86-64, loopback, TLS 1.3): +4,096 B stripped; client CPU per
 * connection 4.4 ms resumed instead of 11.8 ms (ECDSA P-256 server) or
 * 8.7 ms (RSA 2048). Memory: one saved session per host/port/proxy (its
 * ticket and the peer's certificate, ~1-3 KB), LIMIT_TLS_SESSIONS at most. */
#define MBEDTLS_SSL_SESSION_TICKETS
#define MBEDTLS_SSL_TLS1_3_KEY_EXCHANGE_MODE_PSK_EPHEMERAL_ENABLED

/* Record buffers: a client cannot receive less than 16 KiB records unless the
 * server agrees to a smaller fragment; our requests are small. */
#define MBEDTLS_SSL_IN_CONTENT_LEN  16384
#define MBEDTLS_SSL_OUT_CONTENT_LEN 4096

#endif /* KLING_MBEDTLS_CONFIG_H */

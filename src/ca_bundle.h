/*
 * ca_bundle — the CA certificates embedded at build time (tools/gen_ca.py).
 * The bundle is concatenated DER; each certificate is split off by its ASN.1
 * length header. With EMBED_CA=0 it is empty (kling_ca_der_len == 0).
 */
#ifndef KLING_CA_BUNDLE_H
#define KLING_CA_BUNDLE_H

extern const unsigned char kling_ca_der[];
extern const unsigned long kling_ca_der_len;
extern const unsigned kling_ca_count;

#endif

/*
 * ca_bundle — the CA roots embedded at build time (tools/gen_ca.py), as
 * compact trust anchors: subject, key, validity and the CA extensions of
 * each, the form tools/gen_ca.py describes; tls_store_rebuild() makes DER
 * certificates of them. kling_ca_count anchors, kling_ca_der_len bytes. With
 * EMBED_CA=0 it is empty (kling_ca_der_len == 0).
 */
#ifndef KLING_CA_BUNDLE_H
#define KLING_CA_BUNDLE_H

extern const unsigned char kling_ca_der[];
extern const unsigned long kling_ca_der_len;
extern const unsigned kling_ca_count;

#endif

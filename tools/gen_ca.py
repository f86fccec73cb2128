#!/usr/bin/env python3
"""Turn a PEM CA bundle into C source: each root as a compact trust anchor.

usage: gen_ca.py BUNDLE.pem > ca_bundle.c     (embed every usable root)
       gen_ca.py --none > ca_bundle.c         (an empty bundle: EMBED_CA=0)

A root is trusted because it ships in the bundle, not because it signs itself
(RFC 5914: a trust anchor is a name and a key). Of a trusted root, mbedTLS 3.6
(library/x509_crt.c) reads, while verifying a chain through it:
  - its subject, parsed, against the child's issuer (x509_crt_check_parent,
    x509_name_cmp; tls_store_ca_cb first matches the raw bytes);
  - basicConstraints cA (x509_crt_check_parent; a v1/v2 root at the top is
    exempt) and pathLenConstraint (max_pathlen, x509_crt_find_parent_in);
  - keyUsage, for keyCertSign only, when the extension is present
    (mbedtls_x509_crt_check_key_usage from x509_crt_check_parent);
  - its key: mbedtls_pk_can_do(parent key, child's sig_pk) and the child's
    signature (x509_crt_check_signature), the key's size and curve
    (x509_profile_check_key);
  - notBefore and notAfter: to prefer a valid parent (find_parent_in) and
    as every certificate of the chain (x509_crt_verify_chain).
It reads nothing else: x509_crt_verify_chain returns at a trusted root before
its own sig_md/sig_pk or signature are looked at; its serial and issuer name
serve only CRLs (none here) and the locally-trusted leaf case (a leaf that is
itself in the store, compared whole, which the old emptied signatures already
ruled out); key identifiers are not used to find parents; name constraints are
not implemented (a critical one makes the root unparsable, so such a root is
left out here as it was unusable before; a non-critical one was ignored).

So each anchor is stored as only those facts (70 KB instead of 110 KB of
TBSCertificates for Debian's roots) and src/tls_store.c rebuilds, when the
embedded bundle is used, a minimal certificate mbedTLS parses: v3, serial 1,
signatureAlgorithm sha256WithRSAEncryption or ecdsa-with-SHA256 as the key
needs, issuer = subject, the validity, subject and key, basicConstraints
(cA, pathLen) and keyUsage when the root had one, and an empty signature.
One anchor, concatenated with the next:

  flags      1 byte: 1 notBefore is a GeneralizedTime (else UTCTime),
             2 the same for notAfter, 4 a pathLenConstraint follows,
             8 a keyUsage follows, 16 an EC key (else RSA)
  pathLen    1 byte (0..127), when flag 4
  keyUsage   the BIT STRING's DER, when flag 8
  notBefore  7 bytes, YYYYMMDDhhmmss in BCD (UTCTime: the century is dropped)
  notAfter   7 bytes, the same
  subject    the Name's DER, byte for byte
  key        the SubjectPublicKeyInfo's DER, byte for byte

Left out, as they could verify nothing: roots already expired at the source's
date (mbedTLS checks the validity of every certificate of a chain, the trusted
root included; 5 of Debian's 144 in December 2026) -- the date is
SOURCE_DATE_EPOCH, else the time of the commit being built (one commit gives
the same bytes), else none is left out; v3 roots without basicConstraints cA,
or whose keyUsage lacks keyCertSign (x509_crt_check_parent refuses them as a
parent); keys other than RSA and EC; roots with a critical extension mbedTLS
cannot parse.
"""
import base64
import calendar
import os
import re
import subprocess
import sys

RSA = bytes.fromhex("2a864886f70d010101")       # rsaEncryption
EC = bytes.fromhex("2a8648ce3d0201")            # id-ecPublicKey
BASIC, KEY_USAGE = bytes.fromhex("551d13"), bytes.fromhex("551d0f")
# the extensions mbedTLS 3.6 parses (x509_get_crt_ext): a critical one of
# another kind makes the certificate unparsable
PARSED = {bytes.fromhex(h) for h in ("551d13", "551d0f", "551d25", "551d11", "551d0e", "551d23",
                                     "6086480186f8420101")}


def ders(pem_text):
    for m in re.finditer(r"-----BEGIN CERTIFICATE-----(.*?)-----END CERTIFICATE-----", pem_text, re.S):
        yield base64.b64decode("".join(m.group(1).split()))


def tlv(b, i):
    """(tag, start of contents, length) of the DER element at b[i]."""
    tag, n = b[i], b[i + 1]
    i += 2
    if n & 0x80:
        k = n & 0x7F
        n = int.from_bytes(b[i:i + k], "big")
        i += k
    return tag, i, n


def items(b, i, end):
    """(tag, whole element, contents) of each element in b[i:end]."""
    while i < end:
        tag, j, n = tlv(b, i)
        yield tag, b[i:j + n], b[j:j + n]
        i = j + n


def fields(der):
    """The TBSCertificate's fields: {name: (tag, whole element, contents)}."""
    _, i, _ = tlv(der, 0)       # Certificate
    _, j, n = tlv(der, i)       # TBSCertificate
    f = list(items(der, j, j + n))
    version = 0
    if f[0][0] == 0xA0:         # [0] version
        version = f[0][2][-1]
        f = f[1:]
    names = ["serial", "signature", "issuer", "validity", "subject", "spki"]
    out = dict(zip(names, f))
    out["version"] = version
    ext = next((x[2] for x in f[6:] if x[0] == 0xA3), b"")  # [3] { SEQUENCE OF Extension }
    out["extensions"] = list(items(ext, tlv(ext, 0)[1], len(ext))) if ext else []
    return out


def unix(tag, t):
    t = t.decode()
    if tag == 0x17:             # UTCTime YYMMDDhhmmssZ
        t = ("19" if int(t[:2]) >= 50 else "20") + t
    return calendar.timegm((int(t[:4]), int(t[4:6]), int(t[6:8]), int(t[8:10]), int(t[10:12]), int(t[12:14])))


def bcd(tag, t):
    """The 7 BCD bytes of a DER time; None when it is not of the form DER asks."""
    t = t.decode()
    if not re.fullmatch(r"\d{12}Z" if tag == 0x17 else r"\d{14}Z", t):
        return None
    return bytes.fromhex(("00" if tag == 0x17 else "") + t[:-1])


def anchor(der):
    """The compact anchor of a certificate, or None when it can verify nothing."""
    f = fields(der)
    flags, pathlen, ku, ca = 0, b"", b"", f["version"] < 2   # v1/v2: no cA needed at the top
    for _, ext, _ in f["extensions"]:
        parts = list(items(ext, tlv(ext, 0)[1], len(ext)))
        oid, critical, value = parts[0][2], len(parts) == 3 and parts[1][2] == b"\xff", parts[-1][2]
        if critical and oid not in PARSED:
            return None
        if oid == BASIC:
            seq = list(items(value, tlv(value, 0)[1], len(value)))
            ca = bool(seq) and seq[0][0] == 0x01 and seq[0][2] != b"\x00"
            if ca and len(seq) > 1:
                n = int.from_bytes(seq[1][2], "big")
                if n > 127:
                    return None
                flags, pathlen = flags | 4, bytes([n])
        elif oid == KEY_USAGE:
            bits = value[3] if len(value) > 3 else 0
            if not bits & 0x04:     # keyCertSign
                return None
            flags, ku = flags | 8, value
    if not ca:
        return None
    _, i, _ = tlv(f["spki"][2], 0)  # AlgorithmIdentifier
    key = list(items(f["spki"][2], i, len(f["spki"][2])))[0][2]
    if key == EC:
        flags |= 16
    elif key != RSA:
        return None
    times = list(items(f["validity"][2], 0, len(f["validity"][2])))
    b = [bcd(t[0], t[2]) for t in times]
    if None in b:
        return None
    flags |= (times[0][0] == 0x18) | (times[1][0] == 0x18) << 1
    return bytes([flags]) + pathlen + ku + b[0] + b[1] + f["subject"][1] + f["spki"][1]


def not_after(der):
    """notAfter of a certificate, in Unix seconds."""
    tag, _, t = list(items(fields(der)["validity"][2], 0, len(fields(der)["validity"][2])))[1]
    return unix(tag, t)


def source_date():
    if os.environ.get("SOURCE_DATE_EPOCH"):
        return int(os.environ["SOURCE_DATE_EPOCH"])
    try:
        out = subprocess.run(["git", "log", "-1", "--format=%ct"], capture_output=True, text=True,
                             cwd=os.path.dirname(os.path.abspath(__file__)), timeout=10)
        return int(out.stdout.strip()) if out.returncode == 0 else None
    except (OSError, ValueError, subprocess.TimeoutExpired):
        return None


def main():
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    certs = [] if sys.argv[1] == "--none" else list(ders(open(sys.argv[1]).read()))
    when = source_date()
    if when is not None:
        certs = [c for c in certs if not_after(c) > when]
    anchors = [a for a in map(anchor, certs) if a is not None]
    blob = b"".join(anchors)
    out = ["/* Generated by tools/gen_ca.py: %d trust anchors of %d certificates, %d bytes. */"
           % (len(anchors), len(certs), len(blob)),
           '#include "ca_bundle.h"',
           # In a section of its own, placed after all other read-only data:
           # pages of it are mapped only when the bundle is read, not as the
           # neighbours of constants every run reads.
           '__attribute__((section(".rodata1"))) const unsigned char kling_ca_der[] = {']
    for i in range(0, len(blob), 16):
        out.append("".join("%d," % b for b in blob[i:i + 16]))
    if not blob:
        out.append("0")
    out.append("};")
    out.append("const unsigned long kling_ca_der_len = %d;" % len(blob))
    out.append("const unsigned kling_ca_count = %d;" % len(anchors))
    print("\n".join(out))


if __name__ == "__main__":
    main()

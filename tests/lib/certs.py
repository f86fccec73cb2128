"""Test certificates made at test time with the openssl CLI (never committed).

    from certs import make_certs
    c = make_certs(tmpdir)        # dict of paths, see below

Makes, in `tmpdir`:
  ca.pem            test CA (EC P-256), the trust anchor the tests pass as KLING_CA_FILE
  good.pem/.key     server cert for localhost, 127.0.0.1 and ::1, signed by the CA
  rsa.pem/.key      the same names, RSA 2048 key (for handshake cost figures)
  wronghost.pem/.key  signed by the CA, valid only for wrong.example
  expired.pem/.key    signed by the CA, valid 2020-01-01 .. 2020-01-02
  future.pem/.key     signed by the CA, valid from 2099-01-01
  untrusted.pem/.key  for localhost, signed by a second CA nobody trusts
  other_ca.pem      that second CA
Each server .pem holds the leaf only (the CA is the anchor, not sent).

Explicit validity dates need `openssl ca -startdate/-enddate`: Debian 12's
OpenSSL 3.0 has no `x509 -not_before`, and faketime is not installed.
"""
import os
import subprocess

_CA_CNF = """
[ ca ]
default_ca = tca
[ tca ]
dir = {dir}
database = $dir/index.txt
new_certs_dir = $dir/newcerts
serial = $dir/serial
default_md = sha256
policy = pol
unique_subject = no
copy_extensions = none
[ pol ]
commonName = supplied
[ req ]
distinguished_name = dn
prompt = no
[ dn ]
CN = unused
"""

_EXT = """
[ leaf ]
basicConstraints = critical,CA:FALSE
keyUsage = critical,digitalSignature,keyEncipherment
extendedKeyUsage = serverAuth
subjectAltName = {san}
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
"""

_LOCAL_SAN = "DNS:localhost,IP:127.0.0.1,IP:::1"


def _run(args, cwd):
    r = subprocess.run(args, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    if r.returncode != 0:
        raise RuntimeError("openssl failed: %s\n%s" % (" ".join(args), r.stdout.decode(errors="replace")))


def _key(path, cwd, rsa=False):
    if rsa:
        _run(["openssl", "genpkey", "-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:2048", "-out", path], cwd)
    else:
        _run(["openssl", "genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256", "-out", path], cwd)


def _make_ca(d, name, cn):
    cadir = os.path.join(d, name + ".d")
    os.makedirs(os.path.join(cadir, "newcerts"), exist_ok=True)
    open(os.path.join(cadir, "index.txt"), "w").close()
    with open(os.path.join(cadir, "serial"), "w") as f:
        f.write("1000\n")
    cnf = os.path.join(cadir, "ca.cnf")
    with open(cnf, "w") as f:
        f.write(_CA_CNF.format(dir=cadir))
    key = os.path.join(d, name + ".key")
    _key(key, d)
    _run(["openssl", "req", "-x509", "-new", "-key", key, "-sha256", "-days", "3650", "-subj", "/CN=" + cn,
          "-addext", "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=critical,keyCertSign,cRLSign",
          "-out", os.path.join(d, name + ".pem")], d)
    return cadir, cnf, key, os.path.join(d, name + ".pem")


def _leaf(d, ca, name, cn, san, start=None, end=None, rsa=False):
    cadir, cnf, cakey, capem = ca
    key = os.path.join(d, name + ".key")
    csr = os.path.join(d, name + ".csr")
    ext = os.path.join(d, name + ".ext")
    with open(ext, "w") as f:
        f.write(_EXT.format(san=san))
    _key(key, d, rsa)
    _run(["openssl", "req", "-new", "-key", key, "-subj", "/CN=" + cn, "-out", csr], d)
    args = ["openssl", "ca", "-batch", "-notext", "-config", cnf, "-cert", capem, "-keyfile", cakey,
            "-in", csr, "-out", os.path.join(d, name + ".pem"), "-extfile", ext, "-extensions", "leaf"]
    if start:
        args += ["-startdate", start]
    if end:
        args += ["-enddate", end]
    else:
        args += ["-days", "825"]
    _run(args, d)
    return os.path.join(d, name + ".pem"), key


def make_certs(d):
    """Create every certificate in folder d (which must exist); return a dict of paths."""
    ca = _make_ca(d, "ca", "kling-mcp test CA")
    other = _make_ca(d, "other_ca", "kling-mcp untrusted CA")
    out = {"dir": d, "ca": ca[3], "other_ca": other[3]}
    out["good"], out["good_key"] = _leaf(d, ca, "good", "localhost", _LOCAL_SAN)
    out["rsa"], out["rsa_key"] = _leaf(d, ca, "rsa", "localhost", _LOCAL_SAN, rsa=True)
    out["wronghost"], out["wronghost_key"] = _leaf(d, ca, "wronghost", "wrong.example", "DNS:wrong.example")
    out["expired"], out["expired_key"] = _leaf(d, ca, "expired", "localhost", _LOCAL_SAN,
                                               start="20200101000000Z", end="20200102000000Z")
    out["future"], out["future_key"] = _leaf(d, ca, "future", "localhost", _LOCAL_SAN,
                                             start="20990101000000Z", end="20991231000000Z")
    out["untrusted"], out["untrusted_key"] = _leaf(d, other, "untrusted", "localhost", _LOCAL_SAN)
    return out


if __name__ == "__main__":
    import sys
    import tempfile
    d = sys.argv[1] if len(sys.argv) > 1 else tempfile.mkdtemp()
    for k, v in sorted(make_certs(d).items()):
        print(k, v)

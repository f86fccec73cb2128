"""Figures of the HTTP client on loopback (make bench): TLS handshake cost,
full and resumed, per request on a kept-alive connection, and peak memory.
Prints a markdown table. Needs build/tools/httpget and the openssl CLI."""
import os
import re
import shutil
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "lib"))
sys.path.insert(0, os.path.join(HERE, "..", "mock"))
from certs import make_certs  # noqa: E402
from https_server import HttpsServer  # noqa: E402

BUILD = os.environ.get("BUILD_DIR") or os.path.join(HERE, "..", "..", "build")
HTTPGET = os.path.join(BUILD, "tools", "httpget")
N = 40


def run(port, n, path, env):
    e = {k: v for k, v in os.environ.items() if k not in ("HTTPS_PROXY", "https_proxy", "SSL_CERT_FILE")}
    e.update(env)
    out = subprocess.run([HTTPGET, "-n", str(n), "127.0.0.1", str(port), path], env=e, stdout=subprocess.PIPE,
                         text=True, check=True).stdout
    us = sorted(int(x) for x in re.findall(r"STATUS 200 .* US (\d+)$", out, re.M)[1:])
    cpu = int(re.search(r"CPU_US (\d+)", out).group(1))
    m = re.search(r"VmHWM_KB (\d+)", out)
    rss = int(m.group(1)) if m else -1
    return us, cpu, rss


def main():
    tmp = tempfile.mkdtemp(prefix="kling-bench-")
    try:
        c = make_certs(tmp)
        ca = {"KLING_CA_FILE": c["ca"]}
        print("| HTTP client on loopback | value |")
        print("|---|---|")
        for cert, label in (("good", "ECDSA P-256"), ("rsa", "RSA 2048")):
            for tickets in (False, True):
                srv = HttpsServer(c[cert], c[cert + "_key"], tickets=tickets).start()
                us, cpu, _ = run(srv.port, N, "/connclose", ca)
                srv.stop()
                print("| TLS 1.3 %s handshake + request, %s server: client CPU / wall (median) | %.1f ms / %.1f ms |"
                      % ("resumed" if tickets else "full", label, cpu / N / 1000, us[len(us) // 2] / 1000))
        srv = HttpsServer(c["good"], c["good_key"]).start()
        us, _, _ = run(srv.port, N * 5, "/echo", ca)
        print("| request on a kept-alive connection (median / 90th percentile) | %.2f ms / %.2f ms |"
              % (us[len(us) // 2] / 1000, us[int(len(us) * 0.9)] / 1000))
        _, _, rss = run(srv.port, 1, "/echo", ca)
        print("| peak RSS (VmHWM) of the driver for one request, trust store = 1 CA | %d KB |" % rss)
        _, _, rss = run(srv.port, 1, "/bigbody?size=4194304", ca)
        print("| the same with a 4 MiB body (the limit) | %d KB |" % rss)
        bundle = "/etc/ssl/certs/ca-certificates.crt"
        if os.path.exists(bundle):
            # the test server is unknown to the system bundle: this measures parsing it
            out = subprocess.run([HTTPGET, "127.0.0.1", str(srv.port), "/echo"], stdout=subprocess.PIPE, text=True,
                                 env=dict(os.environ, SSL_CERT_FILE=bundle)).stdout
            m = re.search(r"VmHWM_KB (\d+)", out)
            print("| peak RSS with the system bundle (%s) parsed | %s KB |" % (bundle, m.group(1) if m else "?"))
        srv.stop()
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()

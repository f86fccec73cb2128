"""Hardening of the network layer, through the binary (kling-mcp --check and
tools/call) against loopback servers with certificates made at test time:
  - a FIFO as KLING_CA_FILE / SSL_CERT_FILE never freezes anything;
  - no SNI for an IP literal, and an IP host matches only an IP-type SAN;
  - TLS failures in words (wrong extended key usage, an over-long chain, a
    handshake_failure alert), not bare mbedTLS codes;
  - IPv6 printed [::1]:port; NO_PROXY domain rules never match an IP, CIDR
    entries do; an overflowing Retry-After is the longest wait;
  - a deadline names the phase the request stuck in, in --check and in a
    tools/call's answer (connecting, TLS handshake, waiting for the response).
"""
import os
import re
import socket
import subprocess
import sys
import tempfile
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "lib"))
sys.path.insert(0, os.path.join(HERE, "..", "mock"))
import kt  # noqa: E402
import certs  # noqa: E402
import harness  # noqa: E402
from https_server import HttpsServer  # noqa: E402
from connect_proxy import ConnectProxy  # noqa: E402

PLAN = 27
KEY = "harden-net-key-0123456789"
SLOW = 3 if os.environ.get("SANITIZE") == "1" else 1


def base_env(**extra):
    e = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "KLING_API_KEY": KEY}
    e.update({k: v for k, v in extra.items() if v is not None})
    return e


def check_run(env, timeout=20):
    """kling-mcp --check: (exit status or "TIMEOUT", stdout + stderr, seconds)."""
    t0 = time.monotonic()
    try:
        r = subprocess.run([kt.binary(), "--check"], env=env, capture_output=True, text=True, timeout=timeout)
        return r.returncode, r.stdout + r.stderr, time.monotonic() - t0
    except subprocess.TimeoutExpired:
        return "TIMEOUT", "", time.monotonic() - t0


def conn_line(out):
    for line in out.splitlines():
        if line.startswith("[") and "connection" in line:
            return line
    return ""


def leaf(c, name, san, eku="serverAuth"):
    """A leaf signed by the test CA of c, with its own SAN and extended key usage."""
    d = c["dir"]
    ca = (os.path.join(d, "ca.d"), os.path.join(d, "ca.d", "ca.cnf"), os.path.join(d, "ca.key"), c["ca"])
    saved = certs._EXT
    certs._EXT = saved.replace("extendedKeyUsage = serverAuth", "extendedKeyUsage = " + eku)
    try:
        return certs._leaf(d, ca, name, "localhost", san)
    finally:
        certs._EXT = saved


def server(cert, key, host="127.0.0.1", **kw):
    s = HttpsServer(cert, key, host=host, **kw)
    s.sni = []
    s.ctx.sni_callback = lambda sock, name, ctx: s.sni.append(name)
    return s.start()


def url(s):
    return "https://[%s]:%d" % (s.host, s.port) if ":" in s.host else "https://%s:%d" % (s.host, s.port)


def test_ca_fifo(c, good):
    fifo = os.path.join(c["dir"], "ca.fifo")
    os.mkfifo(fifo)
    for var in ("KLING_CA_FILE", "SSL_CERT_FILE"):
        rc, out, secs = check_run(base_env(KLING_BASE_URL=url(good), **{var: fifo}), timeout=10 * SLOW)
        kt.check(f"ca-fifo/{var}: --check answers at once, failing", rc == 1 and secs < 5 * SLOW, f"rc={rc} {secs:.1f}s")
        kt.check(f"ca-fifo/{var}: names the file and why", fifo in out and "not a regular file" in out, out)
    m = harness.McpProc(base_env(KLING_BASE_URL=url(good), KLING_CA_FILE=fifo, KLING_TIMEOUT_MS="3000"))
    try:
        m.initialize()
        t0 = time.monotonic()
        r = m.call_tool("list_tasks", {}, timeout=10 * SLOW)
        text = harness.text_of(r)
        kt.check("ca-fifo/tools/call answers with an error naming the file",
                 r is not None and r.get("isError") and fifo in text and time.monotonic() - t0 < 3, repr(r))
        p = m.request("ping", timeout=5 * SLOW)
        kt.check("ca-fifo/ping still answered", p is not None and p.get("result") == {}, repr(p))
    finally:
        m.close()


def test_ip_names(c, good):
    dns_cert, dns_key = leaf(c, "dnsip", "DNS:127.0.0.1,DNS:localhost")
    s = server(dns_cert, dns_key)
    rc, out, _ = check_run(base_env(KLING_BASE_URL=url(s), KLING_CA_FILE=c["ca"]))
    line = conn_line(out)
    kt.check("san/a DNS-type SAN 127.0.0.1 does not verify for the IP 127.0.0.1",
             rc == 1 and line.startswith("[FAIL]") and "not valid for the name 127.0.0.1" in line, out)
    s.stop()
    cn_cert, cn_key = leaf(c, "cnonly", "DNS:other.example")
    s = server(cn_cert, cn_key)
    rc, out, _ = check_run(base_env(KLING_BASE_URL=url(s), KLING_CA_FILE=c["ca"]))
    kt.check("san/a certificate without the IP does not verify", conn_line(out).startswith("[FAIL]"), out)
    s.stop()

    rc, out, _ = check_run(base_env(KLING_BASE_URL=url(good), KLING_CA_FILE=c["ca"]))
    kt.check("san/an IP-type SAN 127.0.0.1 verifies", conn_line(out).startswith("[ OK ]"), out)
    kt.eq("sni/none sent for 127.0.0.1", good.sni[-1:], [None])
    rc, out, _ = check_run(base_env(KLING_BASE_URL="https://localhost:%d" % good.port, KLING_CA_FILE=c["ca"]))
    kt.check("sni/sent for a name", conn_line(out).startswith("[ OK ]") and good.sni[-1:] == ["localhost"],
             repr(good.sni) + out)
    try:
        v6 = server(c["good"], c["good_key"], host="::1")
    except OSError as e:
        for n in ("sni/none sent for ::1", "ipv6/log prints [::1]:port"):
            kt.skip(n, f"no IPv6 loopback: {e}")
        return
    rc, out, _ = check_run(base_env(KLING_BASE_URL=url(v6), KLING_CA_FILE=c["ca"], KLING_LOG_LEVEL="debug"))
    kt.check("sni/none sent for ::1", conn_line(out).startswith("[ OK ]") and v6.sni[-1:] == [None],
             repr(v6.sni) + out)
    kt.check("ipv6/log prints [::1]:port", "https://[::1]:%d" % v6.port in out and "https://::1:" not in out, out)
    v6.stop()


def test_tls_words(c):
    eku_cert, eku_key = leaf(c, "eku", certs._LOCAL_SAN, eku="clientAuth")
    s = server(eku_cert, eku_key)
    rc, out, _ = check_run(base_env(KLING_BASE_URL=url(s), KLING_CA_FILE=c["ca"]))
    line = conn_line(out)
    kt.check("tls-words/wrong extended key usage said in words",
             line.startswith("[FAIL]") and "extended key usage" in line and "0x7a00" not in line, out)
    s.stop()

    big = os.path.join(c["dir"], "longchain.pem")
    with open(big, "w") as f:
        f.write(open(c["good"]).read() + open(c["ca"]).read() * 40)
    s = server(big, c["good_key"])
    rc, out, _ = check_run(base_env(KLING_BASE_URL=url(s), KLING_CA_FILE=c["ca"]))
    line = conn_line(out)
    kt.check("tls-words/over-long chain said in words",
             line.startswith("[FAIL]") and "certificate chain" in line and "16 KiB" in line, out)
    s.stop()

    s = HttpsServer(c["rsa"], c["rsa_key"], tls_max="1.2")
    s.ctx.set_ciphers("@SECLEVEL=0:AES128-SHA")  # RSA key exchange: nothing in common with the client
    s.start()
    rc, out, _ = check_run(base_env(KLING_BASE_URL=url(s), KLING_CA_FILE=c["ca"]))
    line = conn_line(out)
    kt.check("tls-words/handshake_failure alert said in words",
             line.startswith("[FAIL]") and "handshake_failure" in line and "in common" in line and
             "0x7780" not in line, out)
    s.stop()


def test_no_proxy(c, good):
    px = ConnectProxy().start()
    proxy = "http://127.0.0.1:%d" % px.port
    rc, out, _ = check_run(base_env(KLING_BASE_URL=url(good), KLING_CA_FILE=c["ca"], HTTPS_PROXY=proxy,
                                    NO_PROXY=".0.0.1"))
    kt.check("no-proxy/.0.0.1 does not match 127.0.0.1 (the proxy is used)",
             conn_line(out).startswith("[ OK ]") and px.tunnels == 1, "tunnels=%d %s" % (px.tunnels, out))
    before = px.tunnels
    rc, out, _ = check_run(base_env(KLING_BASE_URL=url(good), KLING_CA_FILE=c["ca"], HTTPS_PROXY=proxy,
                                    NO_PROXY="example.com, 127.0.0.0/8"))
    kt.check("no-proxy/127.0.0.0/8 matches 127.0.0.1 (direct)",
             conn_line(out).startswith("[ OK ]") and px.tunnels == before, "tunnels=%d %s" % (px.tunnels, out))
    rc, out, _ = check_run(base_env(KLING_BASE_URL=url(good), KLING_CA_FILE=c["ca"], HTTPS_PROXY=proxy,
                                    NO_PROXY="10.0.0.0/8"))
    kt.check("no-proxy/10.0.0.0/8 does not match 127.0.0.1 (the proxy is used)",
             conn_line(out).startswith("[ OK ]") and px.tunnels == before + 1, "tunnels=%d %s" % (px.tunnels, out))
    px.stop()


def test_retry_after_overflow():
    with harness.Stack(api_key=KEY, env={"KLING_TIMEOUT_MS": str(8000 * SLOW)}) as s:
        s.mcp.initialize()
        s.mock.fault(mode="kling_error", http=429, code=1302, message="slow down",
                     retry_after="9" * 30, count=5)
        t0 = time.monotonic()
        r = s.mcp.call_tool("list_tasks", {"page_size": 5}, timeout=30 * SLOW)
        text = harness.text_of(r)
        kt.check("retry-after/an overflowing number is the longest wait: not retried",
                 r is not None and r.get("isError") and "86400000 ms" in text and "not retried" in text, repr(r))
        kt.check("retry-after/answered at once", time.monotonic() - t0 < 2 * SLOW, "%.1f s" % (time.monotonic() - t0))


def call_stuck(env):
    """One list_tasks through MCP with a 800 ms KLING_TIMEOUT_MS: (text, isError, seconds)."""
    p = harness.McpProc(dict(env, KLING_TIMEOUT_MS="800"))
    try:
        p.initialize()
        t0 = time.monotonic()
        r = p.call_tool("list_tasks", {})
        took = time.monotonic() - t0
    finally:
        p.close()
    return harness.text_of(r), bool(r and r.get("isError")), took


def phase_named(text, err, took, phase):
    """The HTTP client's phase text reached the user, not the MCP backstop's."""
    return (err and re.search(r"timeout after \d+ ms while " + phase, text) and "did not finish" not in text
            and took < 0.8 + 2 * SLOW)


def test_phases(c):
    # tools/call, stuck connecting: a listener whose accept queue is full
    # drops the SYN, so connect() neither succeeds nor fails.
    ls = socket.socket()
    ls.bind(("127.0.0.1", 0))
    ls.listen(0)
    fill = []
    for _ in range(4):
        f = socket.socket()
        f.setblocking(False)
        f.connect_ex(("127.0.0.1", ls.getsockname()[1]))
        fill.append(f)
    time.sleep(0.1)
    text, err, took = call_stuck(base_env(KLING_BASE_URL="https://127.0.0.1:%d" % ls.getsockname()[1]))
    kt.check("phase/tools/call stuck connecting: the answer says connecting",
             phase_named(text, err, took, r"connecting to 127\.0\.0\.1"), "%.1f s: %s" % (took, text))
    kt.check("phase/tools/call past its deadline: the answer names KLING_TIMEOUT_MS, which raises it",
             re.search(r"timeout after \d+ ms while .*\(KLING_TIMEOUT_MS=800 sets the deadline; raise it", text), text)
    for f in fill:
        f.close()
    ls.close()

    # TLS: the server accepts TCP and never speaks.
    ls = socket.socket()
    ls.bind(("127.0.0.1", 0))
    ls.listen(8)
    held = []
    stop = threading.Event()

    def accept():
        ls.settimeout(0.2)
        while not stop.is_set():
            try:
                held.append(ls.accept()[0])
            except OSError:
                pass
    threading.Thread(target=accept, daemon=True).start()
    rc, out, _ = check_run(base_env(KLING_BASE_URL="https://127.0.0.1:%d" % ls.getsockname()[1],
                                    KLING_CA_FILE=c["ca"], KLING_TIMEOUT_MS="800"))
    kt.check("phase/a deadline in the handshake names it",
             re.search(r"timeout after \d+ ms while doing the TLS handshake with 127\.0\.0\.1", conn_line(out)), out)
    text, err, took = call_stuck(base_env(KLING_BASE_URL="https://127.0.0.1:%d" % ls.getsockname()[1],
                                          KLING_CA_FILE=c["ca"]))
    kt.check("phase/tools/call stuck in the TLS handshake: the answer says so",
             phase_named(text, err, took, r"doing the TLS handshake with 127\.0\.0\.1"), "%.1f s: %s" % (took, text))
    stop.set()
    for h in held:
        h.close()
    ls.close()
    # The answer: the server reads the request and never answers.
    with harness.Stack(api_key=KEY, start_mcp=False) as st:
        st.mock.fault(mode="hang", seconds=30, count=-1)
        rc, out, _ = check_run(dict(st.env, KLING_TIMEOUT_MS="800"))
        kt.check("phase/a deadline while waiting names it",
                 re.search(r"timeout after \d+ ms while waiting for the response of localhost", out), out)
        text, err, took = call_stuck(st.env)
        kt.check("phase/tools/call with no answer coming: the answer says waiting for the response",
                 phase_named(text, err, took, "waiting for the response of localhost"), "%.1f s: %s" % (took, text))


def main():
    kt.plan(PLAN)
    tmp = tempfile.mkdtemp(prefix="kmcp-cafifo-")  # not a prefix of KEY: those are masked
    c = certs.make_certs(tmp)
    good = server(c["good"], c["good_key"])
    try:
        test_ca_fifo(c, good)
        test_ip_names(c, good)
        test_tls_words(c)
        test_no_proxy(c, good)
        test_retry_after_overflow()
        test_phases(c)
    finally:
        good.stop()
    kt.done()


if __name__ == "__main__":
    main()

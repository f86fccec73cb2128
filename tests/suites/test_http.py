"""The HTTP client (src/http_client.c, http_parse.c, net_conn.c, tls_store.c, net_resolve.c, net_proxy.c) driven
through build/tools/httpget against our own HTTPS server, CONNECT proxy and a
test CA made at run time. Loopback only; verification is never turned off.
"""
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "lib"))
sys.path.insert(0, os.path.join(HERE, "..", "mock"))
from kt import check, done, eq, fail, plan, root, skip  # noqa: E402
from certs import make_certs  # noqa: E402
from limits import limit  # noqa: E402
from https_server import HttpsServer, body_bytes  # noqa: E402
from connect_proxy import ConnectProxy  # noqa: E402
sys.path.insert(0, os.path.join(root(), "tools"))
import gen_ca  # noqa: E402

BUILD = os.environ.get("BUILD_DIR") or os.path.join(root(), "build")
HTTPGET = os.path.join(BUILD, "tools", "httpget")
SANITIZE = os.environ.get("SANITIZE", "0") == "1"
VERSION = re.search(r"^VERSION\s*:=\s*(\S+)", open(os.path.join(root(), "Makefile")).read(), re.M).group(1)
LIMIT_BODY = limit("LIMIT_HTTP_BODY_BYTES")
# Slack on top of a deadline before we call a timeout late (sanitizer builds are slower).
SLACK_MS = 1500 if SANITIZE else 700

ENV_VARS = ("KLING_CA_FILE", "SSL_CERT_FILE", "HTTPS_PROXY", "https_proxy", "NO_PROXY", "no_proxy",
            "KLING_LOG_LEVEL", "HTTP_PROXY", "http_proxy", "ALL_PROXY", "all_proxy")


class Run:
    def __init__(self, proc, elapsed):
        self.rc = proc.returncode
        self.out = proc.stdout
        self.err = proc.stderr
        self.elapsed_ms = elapsed * 1000
        self.reqs = {}
        self.bodies = []
        for line in self.out.splitlines():
            if line.startswith("BODY "):
                self.bodies.append(line[5:])
            m = re.match(r"REQ (\d+) ERROR (.*) US (\d+)$", line)
            if m:
                self.reqs[int(m.group(1))] = {"error": m.group(2), "us": int(m.group(3))}
                continue
            m = re.match(r"REQ (\d+) STATUS (\d+) LEN (\d+) REUSED (\d) RETRY (-?\d+) CT (\S+) SUM (\w+) US (\d+)$",
                         line)
            if m:
                self.reqs[int(m.group(1))] = {"status": int(m.group(2)), "len": int(m.group(3)),
                                              "reused": int(m.group(4)), "retry": int(m.group(5)),
                                              "ct": m.group(6), "sum": m.group(7), "us": int(m.group(8))}
        self.clean = self.rc == 0 and "PENDING-AFTER-SHUTDOWN 0" in self.out and "TWICE" not in self.out

    def req(self, i=0):
        return self.reqs.get(i, {})

    def error(self, i=0):
        return self.req(i).get("error", "")

    def why(self):
        return "rc=%s out=%r err=%r" % (self.rc, self.out[-1500:], self.err[-1500:])


def httpget(host, port, *paths, args=(), env=None, timeout=60):
    e = {k: v for k, v in os.environ.items() if k not in ENV_VARS}
    e.update(env or {})
    e = {k: v for k, v in e.items() if v is not None}
    t0 = time.time()
    p = subprocess.run([HTTPGET, *args, host, str(port), *paths], env=e, stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE, text=True, timeout=timeout)
    return Run(p, time.time() - t0)


def fnv(b):
    h = 2166136261
    for x in b:
        h = ((h ^ x) * 16777619) & 0xFFFFFFFF
    return "%08x" % h


def ok_status(name, r, i=0, status=200):
    return check(name, r.clean and r.req(i).get("status") == status, r.why())


def timeout_has(name, r, budget_ms, *needles, within_ms=None):
    """A deadline error: "timeout after N ms while ..." where N is the budget
    less the millisecond or two between the driver reading the clock and the
    request starting (a sanitizer build is slow enough to show them)."""
    m = re.search(r"timeout after (\d+) ms", r.error() or "")
    return err_has(name, r, *needles, within_ms=within_ms) and \
        check(name + ": the budget named", m and budget_ms - 10 <= int(m.group(1)) <= budget_ms, r.why())


def err_has(name, r, *needles, i=0, within_ms=None):
    e = r.error(i)
    good = r.clean and e and all(n in e for n in needles)
    if good and within_ms is not None:
        good = r.req(i)["us"] / 1000 <= within_ms
    return check(name, good, "want %r in the error%s; %s" % (
        needles, "" if within_ms is None else " within %d ms" % within_ms, r.why()))


def main():
    plan(102)
    if not os.path.exists(HTTPGET):
        fail("http/driver built", HTTPGET + " is missing (make test builds it)")
        return
    tmp = tempfile.mkdtemp(prefix="kling-http-")
    try:
        certs = make_certs(tmp)
        suite(tmp, certs)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def suite(tmp, c):
    ca = {"KLING_CA_FILE": c["ca"]}
    good = HttpsServer(c["good"], c["good_key"]).start()
    L = "127.0.0.1"
    P = good.port

    # ---- requests as sent -----------------------------------------------
    r = httpget(L, P, "/echo", args=["-b", "-a", "Bearer secret-token-123"], env=ca)
    ok_status("request/GET answered", r)
    seen = good.requests[-1]["headers"] if good.requests else {}
    eq("request/Host with the port", seen.get("host"), "127.0.0.1:%d" % P)
    eq("request/User-Agent", seen.get("user-agent"), "kling-mcp/" + VERSION)
    eq("request/Accept", seen.get("accept"), "application/json")
    eq("request/Authorization as given", seen.get("authorization"), "Bearer secret-token-123")
    check("request/no Accept-Encoding", "accept-encoding" not in seen, str(seen))
    check("request/Authorization never logged", "secret-token" not in r.err, r.err)
    r = httpget(L, P, "/echo", args=["-X", "POST", "-d", '{"limit":10}'], env=ca)
    ok_status("request/POST answered", r)
    last = good.requests[-1] if good.requests else {}
    check("request/POST body and headers", last.get("method") == "POST" and last.get("body") == '{"limit":10}' and
          last["headers"].get("content-type") == "application/json" and
          last["headers"].get("content-length") == "12", str(last))
    n = len(good.requests)
    conns = good.connections
    r = httpget(L, P, "/echo", args=["-a", "Bearer x\r\nX-Injected: 1"], env=ca)
    err_has("request/CRLF in Authorization refused", r, "refused before sending", "Authorization")
    r2 = httpget(L, P, "/a b", env=ca)
    err_has("request/space in path refused", r2, "refused before sending", "path")
    check("request/refused requests never reach the server", len(good.requests) == n and good.connections == conns,
          "requests %d->%d" % (n, len(good.requests)))

    # ---- response framing -------------------------------------------------
    r = httpget(L, P, "/cl?size=100000", "/chunked", "/close", "/close?notify=0", "/continue",
                "/bigbody?size=%d" % LIMIT_BODY, "/status?code=429&retry=7", "/status?code=503", env=ca)
    ok_status("framing/Content-Length", r, 0)
    eq("framing/Content-Length body intact", (r.req(0).get("len"), r.req(0).get("sum")),
       (100000, fnv(body_bytes(100000))))
    ok_status("framing/chunked with extensions and trailers", r, 1)
    eq("framing/chunked body decoded", (r.req(1).get("len"), r.req(1).get("sum")), (8, fnv(b'{"ok":1}')))
    ok_status("framing/read to close, close_notify", r, 2)
    eq("framing/read to close body", r.req(2).get("len"), 14)
    ok_status("framing/read to close, bare FIN", r, 3)
    ok_status("framing/100 and 103 skipped", r, 4)
    eq("framing/body after 1xx", r.req(4).get("sum"), fnv(b'{"ok": "after 1xx"}'))
    ok_status("framing/body of exactly the limit accepted", r, 5)
    eq("framing/limit-size body intact", r.req(5).get("sum"), fnv(body_bytes(LIMIT_BODY)))
    ok_status("framing/429 returned to the caller", r, 6, 429)
    eq("framing/Retry-After seconds", r.req(6).get("retry"), 7)
    eq("framing/no Retry-After is -1", r.req(7).get("retry"), -1)
    eq("framing/Content-Type exposed", r.req(0).get("ct"), "application/json")
    check("framing/close-delimited bodies not kept alive", r.req(3).get("reused") == 0, r.why())

    bad = [
        ("/reset", ("reset",)),
        ("/truncchunk", ("closed the connection in the middle of the response body",)),
        ("/badchunk", ("bad chunked framing", "not hexadecimal")),
        ("/bighead", (f"over {limit('LIMIT_HTTP_HEAD_BYTES')} bytes", "LIMIT_HTTP_HEAD_BYTES")),
        ("/manyheaders", (f"more than {limit('LIMIT_HTTP_HEADERS')} headers", "LIMIT_HTTP_HEADERS")),
        ("/bigbody", ("5242880 bytes", f"limit of {LIMIT_BODY} bytes", "LIMIT_HTTP_BODY_BYTES")),
        ("/bigchunked", (f"limit of {LIMIT_BODY} bytes", "LIMIT_HTTP_BODY_BYTES")),
        ("/bigclose", (f"limit of {LIMIT_BODY} bytes", "LIMIT_HTTP_BODY_BYTES")),
        ("/clchunked", ("both Content-Length and Transfer-Encoding",)),
        ("/twocl", ("repeats Content-Length",)),
        ("/redirect", ("HTTP 301", "redirect to https://elsewhere.example/next", "not followed")),
        ("/garbage", ("not valid HTTP/1.1", "<html>")),
    ]
    for path, needles in bad:
        r = httpget(L, P, path, env=ca)
        err_has("errors/%s" % path.lstrip("/"), r, *needles)

    # ---- deadlines ----------------------------------------------------------
    r = httpget(L, P, "/hang", args=["-t", "800"], env=ca)
    timeout_has("deadline/no answer", r, 800, "ms while waiting for the response", within_ms=800 + SLACK_MS)
    check("deadline/no answer not early", r.req().get("us", 0) >= 790 * 1000, r.why())
    r = httpget(L, P, "/drip?ms=50", args=["-t", "800"], env=ca)
    timeout_has("deadline/slow drip", r, 800, "ms while reading the response body", "of 100 bytes",
                within_ms=800 + SLACK_MS)
    mute = socket.socket()
    mute.bind((L, 0))
    mute.listen(4)
    r = httpget(L, mute.getsockname()[1], "/", args=["-t", "600"], env=ca)
    timeout_has("deadline/TLS handshake that never ends", r, 600, "ms while doing the TLS handshake",
                within_ms=600 + SLACK_MS)
    mute.close()
    r = httpget(L, P, "/slow?ms=300", args=["-t", "3000"], env=ca)
    ok_status("deadline/a slow answer within the deadline", r)
    r = httpget("nonexistent.invalid", 443, "/", args=["-t", "1500"], env=ca)
    check("deadline/DNS failure or timeout, bounded",
          r.clean and ("DNS lookup of nonexistent.invalid failed" in r.error() or
                       "timeout after 1500 ms while resolving nonexistent.invalid" in r.error()) and
          r.elapsed_ms < 1500 + SLACK_MS + 500, r.why())

    # ---- connecting ---------------------------------------------------------
    s = socket.socket()
    s.bind((L, 0))
    dead = s.getsockname()[1]
    s.close()
    r = httpget(L, dead, "/", env=ca)
    err_has("connect/refused", r, "cannot connect to 127.0.0.1 port %d (1 address tried)" % dead, "refused")
    r = httpget("localhost", P, "/echo", env=ca)
    ok_status("connect/host name looked up (forked getaddrinfo)", r)
    try:
        good6 = HttpsServer(c["good"], c["good_key"], host="::1").start()
    except OSError as e:
        good6 = None
        skip("connect/IPv6 literal", "no ::1 here: %s" % e)
    if good6:
        r = httpget("::1", good6.port, "/echo", args=["-b"], env=ca)
        ok_status("connect/IPv6 literal, certificate IP ::1", r)
        check("connect/IPv6 Host header bracketed",
              good6.requests and good6.requests[-1]["headers"].get("host") == "[::1]:%d" % good6.port,
              str(good6.requests[-1:]))
        good6.stop()
    plain = socket.socket()
    plain.bind((L, 0))
    plain.listen(4)

    def http_only():
        try:
            conn, _ = plain.accept()
            conn.recv(4096)
            conn.sendall(b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
            conn.close()
        except OSError:
            pass
    threading.Thread(target=http_only, daemon=True).start()
    r = httpget(L, plain.getsockname()[1], "/", env=ca)
    err_has("connect/plain HTTP port named as such", r, "an HTTPS port?")
    plain.close()

    # ---- certificates and the trust store ----------------------------------
    servers = {}
    for name in ("wronghost", "untrusted", "expired", "future"):
        servers[name] = HttpsServer(c[name], c[name + "_key"]).start()
    r = httpget(L, servers["wronghost"].port, "/echo", env=ca)
    err_has("tls/name mismatch", r, "TLS certificate check failed", "not valid for the name 127.0.0.1",
            "wrong.example")
    r = httpget(L, servers["untrusted"].port, "/echo", env=ca)
    err_has("tls/unknown CA", r, "not signed by a trusted CA", "untrusted CA", "KLING_CA_FILE " + c["ca"])
    r = httpget(L, servers["expired"].port, "/echo", env=ca)
    err_has("tls/expired", r, "expired at 2020-01-02T00:00:00Z", "the clock reads 20")
    r = httpget(L, servers["future"].port, "/echo", env=ca)
    err_has("tls/not yet valid", r, "not valid before 2099-01-01T00:00:00Z")
    for s in servers.values():
        s.stop()
    r = httpget(L, P, "/echo", env={})
    err_has("store/test CA unknown to the default store", r, "not signed by a trusted CA", "trust store:")
    r = httpget(L, P, "/echo", env={"SSL_CERT_FILE": c["ca"]})
    ok_status("store/SSL_CERT_FILE is read", r)
    r = httpget(L, P, "/echo", env={"SSL_CERT_FILE": c["ca"], "KLING_CA_FILE": c["other_ca"]})
    err_has("store/KLING_CA_FILE replaces the store and wins", r, "not signed by a trusted CA",
            "KLING_CA_FILE " + c["other_ca"])
    r = httpget(L, P, "/echo", env={"KLING_CA_FILE": os.path.join(tmp, "missing.pem")})
    err_has("store/missing CA file named", r, "cannot read the CA file", "missing.pem (KLING_CA_FILE)")
    junk = os.path.join(tmp, "junk.pem")
    with open(junk, "w") as f:
        f.write("not a certificate\n")
    r = httpget(L, P, "/echo", env={"KLING_CA_FILE": junk})
    err_has("store/CA file without certificates", r, "holds no usable certificate")
    # The embedded bundle keeps each root as a compact anchor (tools/gen_ca.py)
    # that tls_store_rebuild() turns back into a certificate without the
    # root's own signature (build/tools/anchors runs it): the rebuilt root must
    # still verify the chains it signs, and must not start accepting chains
    # that another key signed.
    anchors = os.path.join(BUILD, "tools", "anchors")
    for label, pem, good_chain in (("verifies its chain", c["ca"], True),
                                   ("of another CA still refuses", c["other_ca"], False)):
        der = os.path.join(tmp, "anchor-%d.der" % good_chain)
        compact = gen_ca.anchor(next(gen_ca.ders(open(pem).read())))
        with open(der, "wb") as f:
            p = subprocess.run([anchors], input=compact, stdout=f, stderr=subprocess.PIPE)
        r = httpget(L, P, "/echo", env={"KLING_CA_FILE": der})
        name = "store/a compact anchor rebuilt (as embedded) " + label
        if p.returncode != 0:
            fail(name, "anchors: %r" % p.stderr)
        elif good_chain:
            ok_status(name, r)
        else:
            err_has(name, r, "not signed by a trusted CA", "KLING_CA_FILE " + der)
    tls12 = HttpsServer(c["rsa"], c["rsa_key"], tls_max="1.2").start()
    r = httpget(L, tls12.port, "/connclose", "/echo", args=["-b"], env=dict(ca, KLING_LOG_LEVEL="info"))
    ok_status("tls/TLS 1.2 server with an RSA key (OpenSSL picks RSA-PSS)", r, 0)
    ok_status("tls/TLS 1.2 again", r, 1)
    # 1: refused by mbedTLS 3.6.6 (PSS in TLS 1.2), 2: TLS 1.2 only, 3: resumed,
    # without a first failed try: the host is remembered.
    check("tls/TLS 1.2 fallback remembered and session resumed", tls12.connections == 3 and tls12.resumed == 1 and
          r.err.count("offering TLS 1.2 only") == 1,
          "connections %d resumed %d; %s" % (tls12.connections, tls12.resumed, r.why()))
    tls12.stop()
    good.reset_counts()
    r = httpget(L, P, "/connclose", "/connclose", "/echo", env=ca)
    check("tls/TLS 1.3 ticket resumed on reconnect", r.clean and good.connections == 3 and good.resumed == 2,
          "connections %d resumed %d; %s" % (good.connections, good.resumed, r.why()))

    jail_checks = ("store/embedded bundle in an empty root", "connect/every address tried in turn",
                   "connect/the address that answered goes first next time", "connect/all addresses refused, counted")
    if SANITIZE:
        for n in jail_checks:
            skip(n, "sanitizer builds are dynamic: no empty root")
    elif os.geteuid() != 0 or not shutil.which("chroot"):
        for n in jail_checks:
            skip(n, "chroot needs root")
    else:
        jail = os.path.join(tmp, "jail")
        os.makedirs(os.path.join(jail, "etc"))
        shutil.copy(HTTPGET, os.path.join(jail, "httpget"))
        jail_env = {k: v for k, v in os.environ.items() if k not in ENV_VARS}

        def in_jail(*args, env=None):
            p = subprocess.run(["chroot", jail, "/httpget", *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                               text=True, timeout=30, env=dict(jail_env, **(env or {})))
            return p.stdout + p.stderr
        out = in_jail(L, str(P), "/echo")
        embedded = "embedded CA bundle: none" not in subprocess.run(
            [os.environ.get("KLING_MCP") or os.path.join(BUILD, "kling-mcp"), "--version"],
            stdout=subprocess.PIPE, text=True).stdout
        if embedded:
            check("store/embedded bundle in an empty root", "trust store: embedded bundle (" in out and
                  "not signed by a trusted CA" in out, out)
        else:
            check("store/EMBED_CA=0 in an empty root says so", "no trust store" in out and "EMBED_CA=0" in out, out)
        # A name with two addresses, the first refused: the second is tried,
        # and the connection it made is kept alive. (musl reads the jail's
        # /etc/hosts; the server listens on 127.0.0.1 only.)
        with open(os.path.join(jail, "etc", "hosts"), "w") as f:
            f.write("::1 localhost\n127.0.0.1 localhost\n::1 twoaddr.test\n127.0.0.1 twoaddr.test\n")
        shutil.copy(c["ca"], os.path.join(jail, "ca.pem"))
        out = in_jail("-n", "2", "localhost", str(P), "/echo", env={"KLING_CA_FILE": "/ca.pem",
                                                                   "KLING_LOG_LEVEL": "debug"})
        check("connect/every address tried in turn (::1 refused, then 127.0.0.1)",
              "connect: ::1 port %d: Connection refused" % P in out and
              re.search(r"REQ 1 STATUS 200 .* REUSED 1 ", out) is not None, out)
        out = in_jail("-n", "2", "localhost", str(P), "/connclose", env={"KLING_CA_FILE": "/ca.pem",
                                                                        "KLING_LOG_LEVEL": "debug"})
        check("connect/the address that answered goes first next time",
              out.count("Connection refused") == 1 and out.count("connected to 127.0.0.1") == 2, out)
        out = in_jail("twoaddr.test", str(dead), "/", env={"KLING_CA_FILE": "/ca.pem"})
        check("connect/all addresses refused, counted", "(2 addresses tried)" in out, out)

    # ---- keep-alive ---------------------------------------------------------
    good.reset_counts()
    r = httpget(L, P, "/echo", args=["-n", "5"], env=ca)
    check("keepalive/5 requests, 1 connection", r.clean and good.connections == 1 and
          [r.req(i).get("status") for i in range(5)] == [200] * 5, "connections %d; %s" % (good.connections, r.why()))
    eq("keepalive/reused flags", [r.req(i).get("reused") for i in range(5)], [0, 1, 1, 1, 1])
    good.reset_counts()
    r = httpget(L, P, "/dropnext", "/echo", env=dict(ca, KLING_LOG_LEVEL="info"))
    check("keepalive/server closed it: one transparent retry",
          r.clean and r.req(1).get("status") == 200 and r.req(1).get("reused") == 0 and good.connections == 2 and
          "sending again on a new one" in r.err, "connections %d; %s" % (good.connections, r.why()))
    eq("keepalive/the retried request reached the server twice", [q["path"] for q in good.requests],
       ["/dropnext", "/echo", "/echo"])
    good.reset_counts()
    r = httpget(L, P, "/closeafter", args=["-n", "2", "-w", "300"], env=dict(ca, KLING_LOG_LEVEL="info"))
    check("keepalive/idle connection closed by the server is noticed",
          r.clean and r.req(1).get("status") == 200 and r.req(1).get("reused") == 0 and good.connections == 2 and
          "sending again" not in r.err, "connections %d; %s" % (good.connections, r.why()))
    good.reset_counts()
    r = httpget(L, P, "/connclose", "/echo", env=ca)
    check("keepalive/Connection: close honoured", r.clean and good.connections == 2 and r.req(1).get("reused") == 0,
          r.why())
    good.reset_counts()
    r = httpget(L, P, "/slow?ms=300", "/slow?ms=300", "/slow?ms=300", "/slow?ms=300", args=["-p", "-n", "2"], env=ca)
    check("keepalive/4 at once run concurrently", r.clean and all(r.req(i).get("us", 10**9) < 1200 * 1000
                                                                  for i in range(4)), r.why())
    check("keepalive/second burst reuses the 4 connections", r.clean and good.connections == 4 and
          [r.req(i).get("reused") for i in range(4, 8)] == [1] * 4, "connections %d; %s" % (good.connections, r.why()))

    r = httpget(L, P, "/echo", args=["-s", "-n", "2"], env=ca)
    check("api/http_client_run (synchronous) and reuse", r.clean and r.req(1).get("status") == 200 and
          r.req(1).get("reused") == 1, r.why())
    r = httpget(L, P, "/echo", args=["-x", "-n", "2"], env=ca)
    check("api/cancel and shutdown inside done are harmless", r.clean and r.req(0).get("status") == 200 and
          "SHUTDOWN-IN-DONE" in r.out, r.why())
    err_has("api/requests after shutdown are refused", r, "not initialized", i=1)

    # ---- cancel -------------------------------------------------------------
    good.reset_counts()
    r = httpget(L, P, "/hang", args=["-c", "150", "-t", "5000"], env=ca)
    check("cancel/dropped at once, no callback", r.clean and "REQ 0 CANCELLED" in r.out and "REQ 0 ERROR" not in r.out
          and r.elapsed_ms < 3000, r.why())

    # ---- proxy --------------------------------------------------------------
    px = ConnectProxy().start()
    env = dict(ca, HTTPS_PROXY="http://127.0.0.1:%d" % px.port)
    good.reset_counts()
    r = httpget(L, P, "/echo", args=["-n", "3"], env=env)
    check("proxy/CONNECT tunnel", r.clean and r.req(2).get("status") == 200 and px.tunnels == 1 and
          px.targets == ["127.0.0.1:%d" % P], "tunnels %d targets %s; %s" % (px.tunnels, px.targets, r.why()))
    check("proxy/keep-alive through the tunnel", good.connections == 1 and r.req(2).get("reused") == 1, r.why())
    wh = HttpsServer(c["wronghost"], c["wronghost_key"]).start()
    r = httpget(L, wh.port, "/echo", env=env)
    err_has("proxy/TLS in the tunnel still checks the origin", r, "not valid for the name 127.0.0.1")
    wh.stop()
    before = px.tunnels
    for np in ("127.0.0.1", "*", "example.com, .invalid ,127.0.0.1:1"):
        r = httpget(L, P, "/echo", env=dict(env, NO_PROXY=np))
        check("proxy/NO_PROXY=%s bypasses" % np, r.clean and r.req().get("status") == 200 and px.tunnels == before,
              "tunnels %d; %s" % (px.tunnels, r.why()))
    r = httpget("localhost", P, "/echo", env=dict(env, no_proxy=".localhost"))
    check("proxy/no_proxy suffix matches the host itself", r.clean and px.tunnels == before, r.why())
    r = httpget(L, P, "/echo", env=dict(env, NO_PROXY="example.com"))
    check("proxy/NO_PROXY for other hosts does not bypass", r.clean and px.tunnels == before + 1, r.why())
    px.stop()
    apx = ConnectProxy(user="kling user", password="p@ss:w%rd").start()
    r = httpget(L, P, "/echo", env=dict(ca, https_proxy="http://kling%%20user:p%%40ss%%3Aw%%25rd@127.0.0.1:%d" % apx.port))
    ok_status("proxy/Basic auth, percent-decoded", r)
    check("proxy/password never logged", "p@ss" not in r.out + r.err and "w%rd" not in r.out + r.err, r.why())
    r = httpget(L, P, "/echo", env=dict(ca, HTTPS_PROXY="http://kling%%20user:wrong@127.0.0.1:%d" % apx.port))
    err_has("proxy/wrong password", r, "HTTP 407", "refused the user name and password")
    check("proxy/wrong password not echoed", "wrong" not in r.error(), r.error())
    r = httpget(L, P, "/echo", env=dict(ca, HTTPS_PROXY="http://127.0.0.1:%d" % apx.port))
    err_has("proxy/credentials missing", r, "requires authentication (HTTP 407)")
    apx.stop()
    r = httpget(L, P, "/echo", env=dict(ca, HTTPS_PROXY="socks5://u:secretpw@127.0.0.1:1080"))
    err_has("proxy/other schemes refused", r, "must be an http:// proxy URL", "socks5")
    check("proxy/refused URL not echoed", "secretpw" not in r.out + r.err, r.why())
    r = httpget(L, P, "/echo", env=dict(ca, HTTPS_PROXY="http://127.0.0.1:%d" % dead))
    err_has("proxy/dead proxy named", r, "cannot connect to proxy 127.0.0.1 port %d" % dead)

    # ---- memory (ASan builds count the heap) -------------------------------
    heaps = dict(re.findall(r"^HEAP (\S+) (\d+)$", httpget(L, P, "/echo", env=ca).out, re.M))
    if heaps:
        check("memory/everything freed at shutdown", int(heaps["after-shutdown"]) <= int(heaps["start"]) + 1024,
              str(heaps))
    elif SANITIZE:
        fail("memory/everything freed at shutdown", "the ASan build printed no HEAP lines")
    else:
        skip("memory/everything freed at shutdown", "the heap is counted only in ASan builds (make test SANITIZE=1)")
    good.stop()


if __name__ == "__main__":
    main()
    done()

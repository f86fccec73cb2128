#!/usr/bin/env python3
"""`kling-mcp --probe URL`, the health check of a FROM scratch image and of
the procd/systemd setups: exit 0 on a 2xx answer, 1 on anything else (another
status, no answer, nothing listening, a bad URL) with a short reason on
stderr; it reads no configuration and sends no credential.

A small Python HTTP server on loopback plays the listener and records each
request; the last checks probe the real listener's GET /health, and skip,
saying why, while that answers 404 (the endpoint is built on another branch:
they turn on by themselves once it is merged)."""
import os
import socket
import subprocess
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
import kt  # noqa: E402
import listen  # noqa: E402

SECRET = "probe-secret-key-0123456789abcdef"
SEEN = []


class Handler(BaseHTTPRequestHandler):
    def do_GET(self):
        SEEN.append((self.command, self.path, dict(self.headers)))
        code = {"/health": 200, "/nocontent": 204, "/missing": 404, "/broken": 500, "/moved": 301}.get(
            self.path.split("?")[0], 404)
        body = b'{"status":"ok"}' if code == 200 else b""
        self.send_response(code)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *a):
        pass


class V6Server(ThreadingHTTPServer):
    address_family = socket.AF_INET6


def probe(url, env=None):
    r = subprocess.run([kt.binary(), "--probe", url], capture_output=True, text=True, timeout=60,
                       env=env if env is not None else {"PATH": "/usr/bin:/bin"})
    return r.returncode, r.stdout, r.stderr


def silent_server():
    """Accepts and reads, never answers: the probe's own timeout must end it."""
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    s.listen(4)
    conns = []

    def run():
        while True:
            try:
                c, _ = s.accept()
            except OSError:
                return
            conns.append(c)
    threading.Thread(target=run, daemon=True).start()
    return s, conns


def garbage_server():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    s.listen(4)

    def run():
        while True:
            try:
                c, _ = s.accept()
            except OSError:
                return
            c.recv(4096)
            c.sendall(b"SSH-2.0-OpenSSH_9.2\r\n")
            c.close()
    threading.Thread(target=run, daemon=True).start()
    return s


def real_listener():
    env = {"PATH": "/usr/bin:/bin", "KLING_API_KEY": SECRET, "KLING_BASE_URL": "https://127.0.0.1:9"}
    srv = listen.Listener(env)
    try:
        r = srv.req("GET", path="/health")
        if r.status == 404:
            for name in ("probe/listener: GET /health exits 0", "probe/listener: /health answers no secret"):
                kt.skip(name, "the listener answers 404 on /health: the health endpoint is not in this build yet")
            return
        rc, _, err = probe(f"http://127.0.0.1:{srv.port}/health")
        kt.check("probe/listener: GET /health exits 0", rc == 0, err)
        kt.check("probe/listener: /health answers no secret", r.status == 200 and SECRET.encode() not in r.body,
                 repr(r))
    finally:
        srv.stop()


def main():
    kt.plan(17)
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    port = httpd.server_address[1]
    base = f"http://127.0.0.1:{port}"
    try:
        rc, out, err = probe(base + "/health", {"PATH": "/usr/bin:/bin", "KLING_API_KEY": SECRET,
                                                "KLING_MCP_TOKEN": SECRET})
        kt.check("probe/200: exit 0, nothing printed", rc == 0 and out == "" and err == "", (rc, out, err))
        method, path, headers = SEEN[-1] if SEEN else ("", "", {})
        kt.check("probe/sends GET of the URL's path", (method, path) == ("GET", "/health"), SEEN)
        kt.eq("probe/Host header is the URL's authority", headers.get("Host"), f"127.0.0.1:{port}")
        kt.check("probe/sends no credential (no Authorization, no secret)",
                 "Authorization" not in headers and SECRET not in repr(headers), headers)
        rc, _, err = probe(base + "/nocontent")
        kt.eq("probe/204 is healthy too: exit 0", rc, 0)
        rc, _, err = probe(base + "/missing")
        kt.check("probe/404: exit 1, reason names the status", rc == 1 and "HTTP 404" in err, (rc, err))
        rc, _, err = probe(base + "/broken")
        kt.check("probe/500: exit 1, reason names the status", rc == 1 and "HTTP 500" in err, (rc, err))
        rc, _, err = probe(base + "/moved")
        kt.check("probe/301 is not healthy (not followed): exit 1", rc == 1 and "HTTP 301" in err, (rc, err))
        rc, _, _ = probe(f"http://127.0.0.1:{port}")
        kt.check("probe/no path means /", rc == 1 and SEEN[-1][1] == "/", SEEN[-1:])

        dead = socket.socket()
        dead.bind(("127.0.0.1", 0))
        dport = dead.getsockname()[1]
        dead.close()  # nothing listens there now
        rc, _, err = probe(f"http://127.0.0.1:{dport}/health")
        kt.check("probe/nothing listening: exit 1, 'cannot connect'", rc == 1 and "cannot connect" in err, (rc, err))

        g = garbage_server()
        rc, _, err = probe(f"http://127.0.0.1:{g.getsockname()[1]}/health")
        kt.check("probe/not HTTP: exit 1, 'no HTTP answer'", rc == 1 and "no HTTP answer" in err, (rc, err))
        g.close()

        s, conns = silent_server()
        rc, _, err = probe(f"http://127.0.0.1:{s.getsockname()[1]}/health")
        kt.check("probe/a server that never answers: its timeout ends it, exit 1",
                 rc == 1 and "no HTTP answer" in err, (rc, err))
        s.close()
        for c in conns:
            c.close()

        bad = [f"https://127.0.0.1:{port}/health", "127.0.0.1/health", "http:///health", "http://::1/health",
               f"http://127.0.0.1:{port}0000/health", "http://u:p@127.0.0.1/health", "http://[::1/health"]
        results = [(u,) + probe(u)[::2] for u in bad]
        kt.check("probe/bad URLs: exit 1, 'not an http://host[:port][/path] URL'",
                 all(rc == 1 and "not an http://" in err for _, rc, err in results), results)

        try:
            v6 = V6Server(("::1", 0), Handler)
        except OSError as e:
            kt.skip("probe/[::1] literal", f"no IPv6 loopback here ({e})")
        else:
            threading.Thread(target=v6.serve_forever, daemon=True).start()
            rc, _, err = probe(f"http://[::1]:{v6.server_address[1]}/health")
            kt.check("probe/[::1] literal", rc == 0 and SEEN[-1][2].get("Host") == f"[::1]:{v6.server_address[1]}",
                     (rc, err, SEEN[-1:]))
            v6.shutdown()
        rc, _, err = probe(f"http://localhost:{port}/health")
        kt.eq("probe/a name (localhost) is resolved", rc, 0)
    finally:
        httpd.shutdown()
    real_listener()
    kt.done()


if __name__ == "__main__":
    main()

"""kling-mcp --listen driven over raw HTTP/1.1 sockets (loopback only).

    srv = Listener(env)                 # starts `kling-mcp --listen 127.0.0.1:0`
    r = srv.post({"jsonrpc": "2.0", "id": 1, "method": "initialize", ...})
    r.status, r.headers["mcp-session-id"], r.json()
    srv.stop()                          # SIGTERM, returns (exit status, stderr)
Responses are read by their framing (Content-Length, chunked, or close), so a
test sees exactly what the server sent.
"""
import json
import os
import re
import select
import signal
import socket
import subprocess
import threading
import time

INIT = {"protocolVersion": "2025-11-25", "capabilities": {}, "clientInfo": {"name": "kling-tests", "version": "1"}}
V2026 = "2026-07-28"
META = {"io.modelcontextprotocol/protocolVersion": V2026,
        "io.modelcontextprotocol/clientCapabilities": {}}


class Response:
    def __init__(self, status, headers, body, raw_head=b""):
        self.status = status
        self.headers = headers  # lower-case name -> last value
        self.body = body
        self.raw_head = raw_head

    def json(self):
        """The JSON body; for an SSE reply (a slow call is answered as a
        stream when the client accepts one), the last message event."""
        if self.headers.get("content-type") == "text/event-stream":
            ev = self.events()
            return ev[-1] if ev else {}
        return json.loads(self.body)

    def events(self):
        """SSE: the data of each 'message' event, parsed."""
        out = []
        for block in self.body.decode().split("\n\n"):
            data = [ln[6:] for ln in block.split("\n") if ln.startswith("data: ")]
            if data:
                out.append(json.loads("\n".join(data)))
        return out

    def __repr__(self):
        return f"<{self.status} {self.headers} {self.body[:300]!r}>"


class Reader:
    """Reads HTTP/1.1 responses from one socket."""

    def __init__(self, sock, data=b""):
        self.sock = sock
        self.buf = data

    def _more(self, deadline):
        left = deadline - time.monotonic()
        if left <= 0:
            raise TimeoutError("no complete response in time")
        r, _, _ = select.select([self.sock], [], [], left)
        if not r:
            raise TimeoutError("no complete response in time")
        chunk = self.sock.recv(65536)
        if not chunk:
            return False
        self.buf += chunk
        return True

    def read(self, timeout=15, head_only=False):
        """One response; head_only=True: the answer to a HEAD (no body
        whatever Content-Length says)."""
        deadline = time.monotonic() + timeout
        while b"\r\n\r\n" not in self.buf:
            if not self._more(deadline):
                raise ConnectionError("closed before a response head: %r" % self.buf[:200])
        head, self.buf = self.buf.split(b"\r\n\r\n", 1)
        lines = head.decode("latin-1").split("\r\n")
        status = int(lines[0].split(" ")[1])
        headers = {}
        for ln in lines[1:]:
            k, v = ln.split(":", 1)
            headers[k.strip().lower()] = v.strip()
        if head_only or status in (100, 204, 304):
            body = b""
        elif "content-length" in headers:
            n = int(headers["content-length"])
            while len(self.buf) < n:
                if not self._more(deadline):
                    raise ConnectionError("closed in the body")
            body, self.buf = self.buf[:n], self.buf[n:]
        elif headers.get("transfer-encoding") == "chunked":
            body = b""
            while True:
                while b"\r\n" not in self.buf:
                    if not self._more(deadline):
                        raise ConnectionError("closed in a chunk size")
                line, rest = self.buf.split(b"\r\n", 1)
                size = int(line.split(b";")[0], 16)
                while len(rest) < size + 2:
                    if not self._more(deadline):
                        raise ConnectionError("closed in a chunk")
                    line, rest = self.buf.split(b"\r\n", 1)
                body += rest[:size]
                self.buf = rest[size + 2:]
                if size == 0:
                    break
        else:  # close-delimited (an HTTP/1.0 stream): the body ends at the close
            while self._more(deadline):
                pass
            body, self.buf = self.buf, b""
        return Response(status, headers, body, head)


def request_bytes(method, path="/mcp", headers=None, body=b"", port=0, host=None):
    h = {"Host": host or f"127.0.0.1:{port}"}
    if method == "POST":
        h["Content-Type"] = "application/json"
        h["Accept"] = "application/json, text/event-stream"
    h.update(headers or {})
    if body or method == "POST":
        h["Content-Length"] = str(len(body))
    lines = [f"{method} {path} HTTP/1.1"] + [f"{k}: {v}" for k, v in h.items() if v is not None]
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + body


class Listener:
    def __init__(self, env, addr="127.0.0.1:0", binary=None, extra_args=()):
        from kt import binary as kt_binary
        self.bin = binary or kt_binary()
        self.proc = subprocess.Popen([self.bin, "--listen", addr, *extra_args], stdin=subprocess.DEVNULL,
                                     stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env)
        self.err = b""
        self._lock = threading.Lock()
        self.port = None
        self.host = None
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and self.port is None:
            r, _, _ = select.select([self.proc.stderr], [], [], 0.2)
            if r:
                chunk = os.read(self.proc.stderr.fileno(), 65536)
                if not chunk:
                    break
                self.err += chunk
                m = re.search(rb"listening on http://(\[[^\]]+\]|[0-9.]+):(\d+)/mcp", self.err)
                if m:
                    self.host = m.group(1).decode()
                    self.port = int(m.group(2))
        if self.port is None:
            self.proc.kill()
            self.proc.wait()
            raise RuntimeError("kling-mcp --listen did not start: " + self.err.decode(errors="replace"))
        self._t = threading.Thread(target=self._drain, daemon=True)
        self._t.start()

    def _drain(self):
        while True:
            try:
                chunk = os.read(self.proc.stderr.fileno(), 65536)
            except OSError:
                return
            if not chunk:
                return
            with self._lock:
                self.err += chunk

    def stderr(self):
        with self._lock:
            return self.err.decode(errors="replace")

    def connect(self):
        fam = socket.AF_INET6 if self.host.startswith("[") else socket.AF_INET
        s = socket.socket(fam, socket.SOCK_STREAM)
        s.settimeout(15)
        s.connect((self.host.strip("[]"), self.port))
        return s

    def raw(self, data, timeout=15):
        """Send bytes on a new connection; the response (closing the socket)."""
        s = self.connect()
        try:
            s.sendall(data)
            return Reader(s).read(timeout)
        finally:
            s.close()

    def req(self, method, body=None, headers=None, path="/mcp", timeout=15, host=None):
        data = b"" if body is None else (body if isinstance(body, bytes) else json.dumps(body).encode())
        return self.raw(request_bytes(method, path, headers, data, self.port, host), timeout)

    def post(self, body, sid=None, headers=None, **kw):
        h = {}
        if sid:
            h["Mcp-Session-Id"] = sid
            h["MCP-Protocol-Version"] = "2025-11-25"
        h.update(headers or {})
        return self.req("POST", body, h, **kw)

    def initialize(self, version="2025-11-25", headers=None):
        p = dict(INIT, protocolVersion=version)
        r = self.post({"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": p}, headers=headers)
        sid = r.headers.get("mcp-session-id")
        if sid:
            self.post({"jsonrpc": "2.0", "method": "notifications/initialized"}, sid=sid, headers=headers)
        return sid, r

    def post2026(self, method, params=None, rid=1, headers=None, name=None, **kw):
        p = dict(params or {})
        p["_meta"] = dict(META, **p.get("_meta", {}))
        h = {"MCP-Protocol-Version": V2026, "Mcp-Method": method}
        if name is not None:
            h["Mcp-Name"] = name
        h.update(headers or {})
        return self.req("POST", {"jsonrpc": "2.0", "id": rid, "method": method, "params": p}, h, **kw)

    def stop(self, sig=signal.SIGTERM, timeout=15):
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
        try:
            self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        self._t.join(2)
        self.proc.stdout.close()
        self.proc.stderr.close()
        return self.proc.returncode, self.stderr()

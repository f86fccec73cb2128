"""An HTTPS test server with misbehaviours on demand (Python stdlib only).

    from https_server import HttpsServer
    srv = HttpsServer(certfile, keyfile)   # host="127.0.0.1" or "::1", tls_max="1.2", tickets=False
    srv.start(); ... srv.port ...; srv.stop()

Counts what keep-alive tests need: srv.connections (TCP accepts),
srv.handshakes, srv.resumed (TLS sessions resumed), srv.requests (list of
dicts: conn, method, path, headers, body). Each response carries X-Conn (the
number of the connection that served it) and X-Resumed (1 if that TLS session
was resumed).

The request path picks the behaviour (query parameters in brackets):
  /echo              200, JSON of the request as seen (method, path, headers, body)
  /cl[?size=N]       Content-Length body (N bytes, default a small JSON)
  /chunked           chunked, with chunk extensions and trailers
  /close[?notify=0]  no length: the body ends when the server closes (with
                     close_notify unless notify=0)
  /continue          100 Continue and 103 Early Hints, then the answer
  /drip[?ms=M]       Content-Length 100, one byte every M ms (default 100)
  /slow[?ms=M]       answers after M ms (default 1000)
  /hang              reads the request, never answers
  /reset             head + part of the body, then a TCP reset
  /truncchunk        a chunk cut short, then close
  /badchunk          a chunk size that is not hex
  /bighead           a 20 KiB header line
  /manyheaders       70 headers
  /bigbody[?size=N]  Content-Length N (default 5 MiB); sends it all
  /bigchunked        chunked, 5 MiB
  /bigclose          read-to-close, 5 MiB
  /clchunked         both Content-Length and Transfer-Encoding
  /twocl             Content-Length twice (different values)
  /redirect          301 to https://elsewhere.example/next
  /status?code=C[&retry=R]  status C, optional Retry-After R
  /dropnext          answers, then drops the next request on this connection
                     unanswered (the server closing a kept-alive connection)
  /closeafter        answers (keep-alive), then closes the connection
  /connclose         answers with Connection: close
  /garbage           not HTTP at all
  /count             JSON: connections, handshakes, resumed
Run alone: python3 https_server.py CERT KEY [PORT] prints "PORT n".
"""
import json
import os
import socket
import ssl
import struct
import sys
import time
import urllib.parse

from loopback import LoopbackServer, read_head


class HttpsServer(LoopbackServer):
    def __init__(self, certfile, keyfile, host="127.0.0.1", tls_max=None, tickets=True, handshake_timeout=5):
        LoopbackServer.__init__(self, host, backlog=64)
        self.ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        self.ctx.load_cert_chain(certfile, keyfile)
        if tls_max == "1.2":
            self.ctx.maximum_version = ssl.TLSVersion.TLSv1_2
        if not tickets:  # every handshake a full one
            self.ctx.options |= ssl.OP_NO_TICKET
            self.ctx.num_tickets = 0
        self.handshake_timeout = handshake_timeout
        self.reset_counts()

    def reset_counts(self):
        self.connections = 0
        self.handshakes = 0
        self.resumed = 0
        self.requests = []

    def _accepted(self, raw):
        self.open.append(raw)

    def _serve(self, raw, conn_no):
        raw.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)  # our small writes must not wait for ACKs
        raw.settimeout(self.handshake_timeout)
        try:
            s = self.ctx.wrap_socket(raw, server_side=True)
        except (OSError, ssl.SSLError):
            raw.close()
            return
        self.open.append(s)
        resumed = 1 if s.session_reused else 0
        with self.lock:
            self.handshakes += 1
            self.resumed += resumed
        st = {"conn": conn_no, "resumed": resumed, "drop_next": False}
        buf = b""
        try:
            s.settimeout(30)
            while not self.stopping:
                got = read_head(s, buf)
                if got is None:
                    return
                method, target, headers, buf = got
                n = int(headers.get("content-length", "0"))
                while len(buf) < n:
                    d = s.recv(65536)
                    if not d:
                        return
                    buf += d
                body, buf = buf[:n], buf[n:]
                req = {"conn": conn_no, "method": method, "path": target, "headers": headers,
                       "body": body.decode("utf-8", "replace")}
                with self.lock:
                    self.requests.append(req)
                if st["drop_next"]:
                    return  # the kept-alive connection dies under the client
                if not self._answer(s, req, st):
                    return
        except (OSError, ssl.SSLError, ValueError):
            pass
        finally:
            try:
                s.close()
            except OSError:
                pass

    def _head(self, st, status, reason, extra=(), length=None):
        h = "HTTP/1.1 %d %s\r\nX-Conn: %d\r\nX-Resumed: %d\r\n" % (status, reason, st["conn"], st["resumed"])
        for k, v in extra:
            h += "%s: %s\r\n" % (k, v)
        if length is not None:
            h += "Content-Length: %d\r\n" % length
        return (h + "\r\n").encode()

    def _answer(self, s, req, st):
        """Send the answer; return False to close the connection."""
        u = urllib.parse.urlsplit(req["path"])
        q = dict(urllib.parse.parse_qsl(u.query))
        p = u.path
        ctype = [("Content-Type", "application/json")]

        def send_json(obj, status=200, reason="OK", extra=()):
            b = json.dumps(obj).encode()
            s.sendall(self._head(st, status, reason, list(ctype) + list(extra), len(b)) + b)

        if p == "/echo" or p == "/dropnext" or p == "/closeafter":
            send_json({"method": req["method"], "path": req["path"], "headers": req["headers"],
                       "body": req["body"], "conn": st["conn"], "resumed": st["resumed"]})
            if p == "/dropnext":
                st["drop_next"] = True
            return p != "/closeafter"
        if p == "/connclose":
            send_json({"ok": True}, extra=[("Connection", "close")])
            return False
        if p == "/count":
            send_json({"connections": self.connections, "handshakes": self.handshakes, "resumed": self.resumed})
            return True
        if p == "/cl":
            size = int(q.get("size", "-1"))
            b = json.dumps({"ok": True, "path": req["path"]}).encode() if size < 0 else body_bytes(size)
            s.sendall(self._head(st, 200, "OK", ctype, len(b)) + b)
            return True
        if p == "/chunked":
            s.sendall(self._head(st, 200, "OK", ctype + [("Transfer-Encoding", "chunked"), ("Trailer", "X-Sum")]))
            s.sendall(b'7;name=value;flag\r\n{"ok":1\r\n')
            s.sendall(b'1\r\n}\r\n')
            s.sendall(b'0;last=1\r\nX-Sum: 8\r\nX-Other: y\r\n\r\n')
            return True
        if p == "/close":
            s.sendall(self._head(st, 200, "OK", ctype) + b'{"ok":"close"}')
            if q.get("notify", "1") == "1":
                try:
                    s.settimeout(1)
                    s.unwrap()
                except (OSError, ssl.SSLError):
                    pass
            return False
        if p == "/continue":
            s.sendall(b"HTTP/1.1 100 Continue\r\n\r\n")
            s.sendall(b"HTTP/1.1 103 Early Hints\r\nLink: </style.css>; rel=preload\r\n\r\n")
            send_json({"ok": "after 1xx"})
            return True
        if p == "/drip":
            ms = int(q.get("ms", "100"))
            s.sendall(self._head(st, 200, "OK", ctype, 100))
            for _ in range(100):
                time.sleep(ms / 1000)
                s.sendall(b"x")
            return True
        if p == "/slow":
            time.sleep(int(q.get("ms", "1000")) / 1000)
            send_json({"ok": "slow"})
            return True
        if p == "/hang":
            while not self.stopping:
                time.sleep(0.05)
            return False
        if p == "/reset":
            s.sendall(self._head(st, 200, "OK", ctype, 1000) + b"x" * 100)
            time.sleep(0.05)
            raw = socket.socket(fileno=os.dup(s.fileno()))
            raw.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            raw.close()
            s.close()
            return False
        if p == "/truncchunk":
            s.sendall(self._head(st, 200, "OK", ctype + [("Transfer-Encoding", "chunked")]) + b"a\r\n12345")
            return False
        if p == "/badchunk":
            s.sendall(self._head(st, 200, "OK", ctype + [("Transfer-Encoding", "chunked")]) + b"zz\r\nhello\r\n")
            return False
        if p == "/bighead":
            s.sendall(self._head(st, 200, "OK", [("X-Big", "a" * 20000)], 2) + b"{}")
            return True
        if p == "/manyheaders":
            s.sendall(self._head(st, 200, "OK", [("X-H%d" % i, "v") for i in range(70)], 2) + b"{}")
            return True
        if p == "/bigbody":
            size = int(q.get("size", str(5 * 1024 * 1024)))
            s.sendall(self._head(st, 200, "OK", ctype, size))
            s.sendall(body_bytes(size))
            return True
        if p == "/bigchunked":
            s.sendall(self._head(st, 200, "OK", ctype + [("Transfer-Encoding", "chunked")]))
            piece = b"%x\r\n%s\r\n" % (65536, b"y" * 65536)
            for _ in range(80):
                s.sendall(piece)
            s.sendall(b"0\r\n\r\n")
            return True
        if p == "/bigclose":
            s.sendall(self._head(st, 200, "OK", ctype))
            for _ in range(80):
                s.sendall(b"z" * 65536)
            return False
        if p == "/clchunked":
            s.sendall(self._head(st, 200, "OK", ctype + [("Transfer-Encoding", "chunked")], 5) + b"5\r\nhello\r\n0\r\n\r\n")
            return False
        if p == "/twocl":
            s.sendall(self._head(st, 200, "OK", ctype + [("Content-Length", "3")], 2) + b"{}")
            return False
        if p == "/redirect":
            s.sendall(self._head(st, 301, "Moved Permanently", [("Location", "https://elsewhere.example/next")], 0))
            return True
        if p == "/status":
            extra = [("Retry-After", q["retry"])] if "retry" in q else []
            send_json({"code": int(q.get("code", "200"))}, int(q.get("code", "200")), "Status", extra)
            return True
        if p == "/garbage":
            s.sendall(b"<html><body>not http</body></html>\r\n\r\n")
            return False
        send_json({"error": "no such mode"}, 404, "Not Found")
        return True


def body_bytes(n):
    """n bytes of a JSON-ish body, the same every time (tests compare sums)."""
    unit = b'{"k":"0123456789abcdef"},'
    return (unit * (n // len(unit) + 1))[:n]


if __name__ == "__main__":
    srv = HttpsServer(sys.argv[1], sys.argv[2]).start()
    print("PORT", srv.port, flush=True)
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        pass

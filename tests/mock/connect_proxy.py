"""A tiny HTTP CONNECT proxy for the tests (Python stdlib only).

    from connect_proxy import ConnectProxy
    px = ConnectProxy(user="u", password="p w")   # or no credentials: open proxy
    px.start(); ... px.port ...; px.stop()

Counts px.tunnels (CONNECTs answered 200) and keeps px.targets ("host:port"
asked for) and px.auth_failures. Only loopback targets are allowed; with
credentials set, a CONNECT without the right Proxy-Authorization: Basic gets
407. Bytes are relayed both ways until either side closes.
"""
import base64
import select
import socket

from loopback import LoopbackServer, read_head


class ConnectProxy(LoopbackServer):
    def __init__(self, user=None, password=None, host="127.0.0.1"):
        LoopbackServer.__init__(self, host, backlog=16)
        self.need = None
        if user is not None:
            self.need = "Basic " + base64.b64encode(("%s:%s" % (user, password)).encode()).decode()
        self.tunnels = 0
        self.targets = []
        self.auth_failures = 0

    def _serve(self, c, _conn_no):
        c.settimeout(10)
        try:
            got = read_head(c, bufsize=4096)
            if got is None:
                return
            method, target, headers, _ = got
            self.targets.append(target)
            if method != "CONNECT":
                c.sendall(b"HTTP/1.1 405 Method Not Allowed\r\nContent-Length: 0\r\n\r\n")
                return
            if self.need and headers.get("proxy-authorization") != self.need:
                self.auth_failures += 1
                c.sendall(b'HTTP/1.1 407 Proxy Authentication Required\r\nProxy-Authenticate: Basic realm="t"\r\n'
                          b"Content-Length: 0\r\n\r\n")
                return
            host, port = target.rsplit(":", 1)
            host = host.strip("[]")
            if host not in ("127.0.0.1", "::1", "localhost"):
                c.sendall(b"HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\n\r\n")
                return
            try:
                up = socket.create_connection((host, int(port)), timeout=5)
            except OSError:
                c.sendall(b"HTTP/1.1 502 Bad Gateway\r\nContent-Length: 0\r\n\r\n")
                return
            self.tunnels += 1
            c.sendall(b"HTTP/1.1 200 Connection established\r\n\r\n")
            self._relay(c, up)
        except (OSError, ValueError):
            pass
        finally:
            c.close()

    def _relay(self, a, b):
        a.settimeout(None)
        b.settimeout(None)
        try:
            while not self.stopping:
                r, _, _ = select.select([a, b], [], [], 0.5)
                for s in r:
                    d = s.recv(65536)
                    if not d:
                        return
                    (b if s is a else a).sendall(d)
        except OSError:
            pass
        finally:
            b.close()

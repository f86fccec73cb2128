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
import threading


class ConnectProxy:
    def __init__(self, user=None, password=None, host="127.0.0.1"):
        self.need = None
        if user is not None:
            self.need = "Basic " + base64.b64encode(("%s:%s" % (user, password)).encode()).decode()
        fam = socket.AF_INET6 if ":" in host else socket.AF_INET
        self.sock = socket.socket(fam, socket.SOCK_STREAM)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind((host, 0))
        self.sock.listen(16)
        self.port = self.sock.getsockname()[1]
        self.tunnels = 0
        self.targets = []
        self.auth_failures = 0
        self.stopping = False

    def start(self):
        threading.Thread(target=self._loop, daemon=True).start()
        return self

    def stop(self):
        self.stopping = True
        try:
            self.sock.close()
        except OSError:
            pass

    def _loop(self):
        while not self.stopping:
            try:
                c, _ = self.sock.accept()
            except OSError:
                return
            threading.Thread(target=self._handle, args=(c,), daemon=True).start()

    def _handle(self, c):
        c.settimeout(10)
        try:
            buf = b""
            while b"\r\n\r\n" not in buf:
                d = c.recv(4096)
                if not d:
                    return
                buf += d
            head = buf.split(b"\r\n\r\n", 1)[0].decode("latin-1").split("\r\n")
            method, target, _ = head[0].split(" ", 2)
            headers = {}
            for line in head[1:]:
                k, v = line.split(":", 1)
                headers[k.strip().lower()] = v.strip()
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

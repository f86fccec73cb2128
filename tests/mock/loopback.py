"""What the test servers in this folder share (Python stdlib only): a
listening socket on a loopback address with an accept thread, and the
reading of one HTTP/1.1 request head.

    class MyServer(LoopbackServer):
        def _serve(self, sock, conn_no): ...   # one thread per connection
    srv = MyServer(host="127.0.0.1", backlog=16).start(); ... srv.port ...; srv.stop()
"""
import socket
import threading


class LoopbackServer:
    def __init__(self, host="127.0.0.1", backlog=16):
        self.host = host
        fam = socket.AF_INET6 if ":" in host else socket.AF_INET
        self.sock = socket.socket(fam, socket.SOCK_STREAM)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind((host, 0))
        self.sock.listen(backlog)
        self.port = self.sock.getsockname()[1]
        self.lock = threading.Lock()
        self.stopping = False
        self.connections = 0
        self.open = []  # sockets stop() closes too (what a subclass appends)

    def start(self):
        threading.Thread(target=self._accept_loop, daemon=True).start()
        return self

    def stop(self):
        self.stopping = True
        try:
            self.sock.close()
        except OSError:
            pass
        for s in list(self.open):
            try:
                s.close()
            except OSError:
                pass

    def _accept_loop(self):
        while not self.stopping:
            try:
                raw, _ = self.sock.accept()
            except OSError:
                return
            with self.lock:
                self.connections += 1
                n = self.connections
            self._accepted(raw)
            threading.Thread(target=self._serve, args=(raw, n), daemon=True).start()

    def _accepted(self, raw):
        """Called in the accept thread for each new connection, before _serve."""

    def _serve(self, sock, conn_no):
        raise NotImplementedError


def read_head(sock, buf=b"", bufsize=65536):
    """Read from sock until a request head ends (CRLF CRLF). Returns (method,
    target, headers with lower-case names, bytes after the head), or None when
    the peer closes first. A malformed head raises ValueError."""
    while b"\r\n\r\n" not in buf:
        d = sock.recv(bufsize)
        if not d:
            return None
        buf += d
    head, rest = buf.split(b"\r\n\r\n", 1)
    lines = head.decode("latin-1").split("\r\n")
    method, target, _ = lines[0].split(" ", 2)
    headers = {}
    for line in lines[1:]:
        k, v = line.split(":", 1)
        headers[k.strip().lower()] = v.strip()
    return method, target, headers, rest

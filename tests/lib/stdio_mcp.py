"""One MCP client over stdio for the Python suites and benches: kling-mcp (or
build/tools/fake_server --serve) as a child process with pipes, one JSON-RPC
message per line each way.

    c = StdioMcp([binary], env)
    c.initialize()
    result = c.call_tool("list_tasks", {"page_size": 5})
    code = c.close()            # stdin closed; the exit status (c.stderr() the text)

Every read has a timeout (None comes back on a timeout or at the end of
output), and stderr is read whenever stdout is, so a chatty child never
blocks on a full pipe. self.buf holds what stdout gave that no read has taken
yet. A caller that reads stdout itself (a reader thread: tests/soak.py) calls
release_stdout() first: from then on nothing here reads it. A subclass decides
what a line that is not one JSON message means (on_bad_line: harness.McpProc
makes it a failed check).
"""
import json
import os
import select
import subprocess
import time


class StdioMcp:
    def __init__(self, argv, env=None, **popen):
        self.proc = subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     stderr=subprocess.PIPE, env=env, **popen)
        self.own_stdout = True  # False once release_stdout() was called
        self.buf = b""  # stdout bytes not taken by a read yet
        self.err = b""  # all of stderr so far
        self.next_id = 1
        self.hung = False  # close() had to kill the child

    # -- output side
    def _ours(self):
        """The output pipes read here that have not ended."""
        return [f for f in (self.proc.stdout, self.proc.stderr)
                if not f.closed and (f is self.proc.stderr or self.own_stdout)]

    def _drain(self, timeout):
        """Read what stdout and stderr have within timeout (a pipe at its end is
        closed); False once stdout has ended."""
        fds = self._ours()
        if not fds:
            time.sleep(max(timeout, 0))
        for f in select.select(fds, [], [], max(timeout, 0))[0] if fds else []:
            try:
                data = os.read(f.fileno(), 1 << 20)
            except BlockingIOError:
                continue
            if not data:
                f.close()
            elif f is self.proc.stderr:
                self.err += data
            else:
                self.buf += data
        return not self.proc.stdout.closed

    def release_stdout(self):
        """The caller reads stdout itself from now on (what self.buf holds is
        its too); stderr is still read here."""
        self.own_stdout = False

    def line(self, timeout=15):
        """The next raw stdout line (without its newline); None on a timeout or at the end."""
        deadline = time.monotonic() + timeout
        while b"\n" not in self.buf:
            left = deadline - time.monotonic()
            if left <= 0 or not self._drain(left):
                if b"\n" not in self.buf:
                    return None
        line, self.buf = self.buf.split(b"\n", 1)
        return line

    def on_bad_line(self, line):
        """Called with a stdout line that is not one JSON object or array."""

    def recv(self, timeout=15):
        """The next line parsed as JSON; None on a timeout or at the end. A line
        that is not a JSON object or array goes to on_bad_line and comes back as
        {"not JSON": its start}, which no check takes for a good answer."""
        line = self.line(timeout)
        if line is None:
            return None
        try:
            v = json.loads(line)
        except ValueError:
            v = None
        if not isinstance(v, (dict, list)):
            self.on_bad_line(line)
            return {"not JSON": line[:200].decode("latin-1")}
        return v

    def stderr(self):
        """What the child wrote on stderr so far, as text."""
        self._drain(0)
        return self.err.decode("utf-8", "replace")

    # -- input side
    def send_raw(self, data):
        """Write all of data; while the child does not take it, read its output
        (it may be waiting for us to), so neither side blocks."""
        fd = self.proc.stdin.fileno()
        os.set_blocking(fd, False)
        view = memoryview(data)
        deadline = time.monotonic() + 30
        while view:
            if not select.select([], [fd], [], 0.01)[1]:
                if time.monotonic() > deadline:
                    raise TimeoutError("the child does not read its input")
                self._drain(0.05)
                continue
            try:
                n = os.write(fd, view[:1 << 16])
            except BlockingIOError:
                continue
            view = view[n:]
            deadline = time.monotonic() + 30

    def send(self, obj):
        """One message (an object, or bytes/str sent as they are) and its newline."""
        if not isinstance(obj, (bytes, str)):
            obj = json.dumps(obj)
        self.send_raw((obj.encode() if isinstance(obj, str) else obj) + b"\n")

    def notify(self, method, params=None):
        msg = {"jsonrpc": "2.0", "method": method}
        if params is not None:
            msg["params"] = params
        self.send(msg)

    def request(self, method, params=None, timeout=15):
        """Send a request; its answer (the messages before it, such as progress
        notifications, are passed over), or None when nothing came for timeout
        seconds."""
        rid = self.next_id
        self.next_id += 1
        msg = {"jsonrpc": "2.0", "id": rid, "method": method}
        if params is not None:
            msg["params"] = params
        self.send(msg)
        while True:
            r = self.recv(timeout)
            if r is None or (isinstance(r, dict) and r.get("id") == rid):
                return r

    def initialize(self, version="2025-11-25", name="kling-tests"):
        """initialize and notifications/initialized; the answer to initialize."""
        r = self.request("initialize", {"protocolVersion": version, "capabilities": {},
                                        "clientInfo": {"name": name, "version": "1"}})
        self.notify("notifications/initialized")
        return r

    def call_tool(self, name, args=None, timeout=30):
        """The tools/call result object, or the error object, or None on a timeout."""
        params = {"name": name}
        if args is not None:
            params["arguments"] = args
        r = self.request("tools/call", params, timeout)
        if r is None:
            return None
        return r.get("result", r.get("error"))

    def close(self, timeout=5):
        """Close stdin and wait for the exit, reading the output meanwhile (a
        child that does not exit within timeout is killed: self.hung); returns
        the exit status."""
        try:
            self.proc.stdin.close()
        except OSError:
            pass
        deadline = time.monotonic() + timeout
        while self.proc.poll() is None and time.monotonic() < deadline:
            self._drain(0.05)
        if self.proc.poll() is None:
            self.hung = True
            self.proc.kill()
            self.proc.wait()
        end = time.monotonic() + 2  # the rest of the output, unless another process holds the pipes
        while self._ours() and time.monotonic() < end:
            self._drain(0.1)
        self.proc.stdout.close()
        self.proc.stderr.close()
        return self.proc.returncode

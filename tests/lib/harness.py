"""End-to-end harness: a test CA, the mock Kling API over HTTPS, and kling-mcp
driven as an MCP client would drive it (one JSON-RPC message per line).

    with harness.Stack(api_key="k") as s:
        s.mcp.initialize()
        res = s.mcp.call_tool("list_tasks", {"page_size": 5})
        log = s.mock.requests()
Everything binds 127.0.0.1; certificates are made fresh with the openssl CLI.
"""
import json
import os
import select
import shutil
import ssl
import subprocess
import sys
import tempfile
import time
import http.client

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
MOCK = os.path.join(ROOT, "tests", "mock", "kling_mock.py")
sys.path.insert(0, os.path.join(ROOT, "tests", "mock"))


def make_certs(d):
    """Test CA + server certificate (SAN localhost, 127.0.0.1) in d; returns (ca, cert, key)."""
    ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes"]
    with open(os.path.join(d, "ext.cnf"), "w") as f:
        f.write("subjectAltName=DNS:localhost,IP:127.0.0.1\nbasicConstraints=CA:FALSE\n"
                "keyUsage=critical,digitalSignature\nextendedKeyUsage=serverAuth\n"
                "subjectKeyIdentifier=hash\nauthorityKeyIdentifier=keyid,issuer\n")
    cmds = [
        ["openssl", "req", "-x509", *ec, "-keyout", "ca.key", "-out", "ca.pem", "-days", "2",
         "-subj", "/CN=kling-mock test CA", "-addext", "basicConstraints=critical,CA:TRUE",
         "-addext", "keyUsage=critical,keyCertSign,cRLSign"],
        ["openssl", "req", *ec, "-keyout", "server.key", "-out", "server.csr", "-subj", "/CN=localhost"],
        ["openssl", "x509", "-req", "-in", "server.csr", "-CA", "ca.pem", "-CAkey", "ca.key",
         "-CAcreateserial", "-out", "server.pem", "-days", "2", "-extfile", "ext.cnf"],
    ]
    for c in cmds:
        subprocess.run(c, cwd=d, check=True, capture_output=True)
    return tuple(os.path.join(d, n) for n in ("ca.pem", "server.pem", "server.key"))


def start_mock(tmp, name, args):
    """Start kling_mock.py on a free loopback port; returns (process, port)."""
    port_file = os.path.join(tmp, name + ".port")
    log = open(os.path.join(tmp, name + ".log"), "w")
    proc = subprocess.Popen([sys.executable, MOCK, "--port", "0", "--port-file", port_file, *args],
                            stdout=log, stderr=log)
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        if os.path.exists(port_file):
            return proc, int(open(port_file).read())
        if proc.poll() is not None:
            break
        time.sleep(0.05)
    raise RuntimeError(f"mock {name} did not start: " + open(log.name).read())


def stop(proc):
    if proc and proc.poll() is None:
        proc.kill()
        proc.wait()


class MockControl:
    """The mock's control API (faults, request log) over TLS with the test CA."""

    def __init__(self, port, ca):
        self.port = port
        self.ctx = ssl.create_default_context(cafile=ca)

    def _do(self, method, path, body=None):
        c = http.client.HTTPSConnection("localhost", self.port, context=self.ctx, timeout=10)
        data = json.dumps(body).encode() if body is not None else None
        c.request(method, path, body=data, headers={"X-Mock-Control": "1", "Content-Type": "application/json"})
        r = c.getresponse()
        out = r.read()
        c.close()
        return json.loads(out) if out else None

    def fault(self, **spec):
        return self._do("POST", "/_mock/fault", spec)

    def requests(self):
        return self._do("GET", "/_mock/requests")

    def stats(self):
        return self._do("GET", "/_mock/stats")

    def reset(self):
        return self._do("POST", "/_mock/reset", {})


class McpProc:
    """kling-mcp as a child process, spoken to line by line."""

    def __init__(self, env, argv=None):
        self.proc = subprocess.Popen(argv or [os.environ.get("KLING_MCP") or os.path.join(ROOT, "build", "kling-mcp")],
                                     stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                     env=env)
        self.buf = b""
        self.next_id = 1

    def send_raw(self, data):
        self.proc.stdin.write(data)
        self.proc.stdin.flush()

    def send(self, obj):
        self.send_raw(json.dumps(obj).encode() + b"\n")

    def recv(self, timeout=15):
        """The next line from stdout parsed as JSON; None on timeout or EOF. A
        line that is not a JSON object or array is a FAIL line, and comes back
        as {"not JSON": its start}."""
        deadline = time.monotonic() + timeout
        while b"\n" not in self.buf:
            left = deadline - time.monotonic()
            if left <= 0:
                return None
            r, _, _ = select.select([self.proc.stdout], [], [], left)
            if not r:
                return None
            chunk = os.read(self.proc.stdout.fileno(), 65536)
            if not chunk:
                return None
            self.buf += chunk
        line, self.buf = self.buf.split(b"\n", 1)
        try:
            v = json.loads(line)
        except ValueError:
            v = None
        if not isinstance(v, (dict, list)):
            # Not one JSON message: a failed check (stdout must hold only those),
            # and an answer no caller's check will take for a good one.
            import kt
            kt.fail("stdout/every line is a JSON message", f"got {line[:200]!r}")
            return {"not JSON": line[:200].decode("latin-1")}
        return v

    def request(self, method, params=None, timeout=15):
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

    def initialize(self, version="2025-11-25"):
        r = self.request("initialize", {"protocolVersion": version, "capabilities": {},
                                        "clientInfo": {"name": "kling-tests", "version": "1"}})
        self.send({"jsonrpc": "2.0", "method": "notifications/initialized"})
        return r

    def call_tool(self, name, args=None, timeout=30):
        """The tools/call result object, or the error object, or None on timeout."""
        params = {"name": name}
        if args is not None:
            params["arguments"] = args
        r = self.request("tools/call", params, timeout)
        if r is None:
            return None
        return r.get("result", r.get("error"))

    def close(self, timeout=5):
        """Close stdin; returns (exit status, stderr text)."""
        try:
            self.proc.stdin.close()
        except OSError:
            pass
        try:
            self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        err = self.proc.stderr.read().decode(errors="replace")
        self.proc.stdout.close()
        self.proc.stderr.close()
        return self.proc.returncode, err


def text_of(result):
    """The text of a tool result's first content block ("" when there is none)."""
    try:
        return result["content"][0]["text"]
    except (KeyError, IndexError, TypeError):
        return ""


class Stack:
    """Certificates + mock + kling-mcp wired together. Keyword arguments:
    api_key, access_key, secret_key: credentials for both sides (mock_* to
    give the mock different ones); backend; mock_args; env (extra variables)."""

    def __init__(self, api_key=None, access_key=None, secret_key=None, backend=None, mock_args=(),
                 env=None, mock_api_key=None, mock_access_key=None, mock_secret_key=None, start_mcp=True):
        self.tmp = tempfile.mkdtemp(prefix="kling-e2e-")
        self.ca, cert, key = make_certs(self.tmp)
        margs = ["--cert", cert, "--key", key, *mock_args]
        mk = mock_api_key or api_key
        mak, msk = mock_access_key or access_key, mock_secret_key or secret_key
        if mk:
            margs += ["--api-key", mk]
        if mak and msk:
            margs += ["--access-key", mak, "--secret-key", msk]
        self.mock_proc, self.port = start_mock(self.tmp, "mock", margs)
        self.mock = MockControl(self.port, self.ca)
        self.env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"),
                    "KLING_BASE_URL": f"https://localhost:{self.port}", "KLING_CA_FILE": self.ca}
        for k, v in (("KLING_API_KEY", api_key), ("KLING_ACCESS_KEY", access_key),
                     ("KLING_SECRET_KEY", secret_key), ("KLING_BACKEND", backend)):
            if v:
                self.env[k] = v
        self.env.update(env or {})
        self.mcp = McpProc(self.env) if start_mcp else None

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def close(self):
        if self.mcp and self.mcp.proc.poll() is None:
            self.mcp.close()
        stop(self.mock_proc)
        shutil.rmtree(self.tmp, ignore_errors=True)

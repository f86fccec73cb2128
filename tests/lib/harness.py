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
import shutil
import ssl
import subprocess
import sys
import tempfile
import time
import http.client

from stdio_mcp import StdioMcp

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


class McpProc(StdioMcp):
    """kling-mcp ($KLING_MCP, or argv) as a child process, spoken to line by
    line (stdio_mcp.StdioMcp); a stdout line that is not one JSON message is a
    failed check. close() returns (exit status, stderr text)."""

    def __init__(self, env, argv=None):
        super().__init__(argv or [os.environ.get("KLING_MCP") or os.path.join(ROOT, "build", "kling-mcp")], env)

    def on_bad_line(self, line):
        # stdout must hold only JSON-RPC messages
        import kt
        kt.fail("stdout/every line is a JSON message", f"got {line[:200]!r}")

    def close(self, timeout=5):
        code = super().close(timeout)
        return code, self.err.decode(errors="replace")


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

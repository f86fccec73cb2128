"""kling-mcp --listen fed the way networks deliver bytes: each request split
at every byte boundary (small requests), at random points (large ones, the
seed printed; SPLIT_SEED=n repeats a run), and pipelined (several requests in
one write, then the same bytes split). Each piece is sent only once the
server has read everything before it (its socket's receive queue is empty,
read from /proc/net/tcp), so every split really is a separate read.

Each check asserts that every answer is complete (framed by its
Content-Length, nothing extra), is the right one (status, id, content), and
that the server is still running; a server that died is reported with its
exit status and started again for the next check. Under SANITIZE=1 (ASan and
UBSan) a seeded sample of the split points keeps CI within budget.
"""
import json
import os
import random
import socket
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "lib"))
from kt import check, done, fail, plan  # noqa: E402
import harness  # noqa: E402
from listen import INIT, META, V2026, Listener, Reader, request_bytes  # noqa: E402

SANITIZE = os.environ.get("SANITIZE") == "1"
SEED = int(os.environ.get("SPLIT_SEED") or int(time.time()) % 100000)
TOKEN = "split-test-token-0123456789abcdef"
SAMPLE = 24  # under SANITIZE: split points per small request (plus the first and last four)
RANDOM_RUNS = 3 if SANITIZE else 8  # large requests: random cuttings each
ST = {}


def start():
    ST["srv"] = Listener(dict(ST["stack"].env, KLING_MCP_TOKEN=TOKEN, KLING_LOG_LEVEL="info"))
    sid, r = ST["srv"].initialize(headers=auth())
    if not sid:
        raise RuntimeError(f"no session: {r!r}")
    ST["sid"] = sid


def auth(tok=TOKEN):
    return {"Authorization": "Bearer " + tok}


def in_session(extra=None):
    h = dict(auth(), **{"Mcp-Session-Id": ST["sid"], "MCP-Protocol-Version": "2025-11-25"})
    h.update(extra or {})
    return h


def post(body, headers):
    data = body if isinstance(body, bytes) else json.dumps(body).encode()
    return request_bytes("POST", body=data, port=ST["srv"].port, headers=headers)


def stateless(method, params=None, rid=1, name=None):
    p = dict(params or {})
    p["_meta"] = dict(META, **p.get("_meta", {}))
    h = dict(auth(), **{"MCP-Protocol-Version": V2026, "Mcp-Method": method})
    if name:
        h["Mcp-Name"] = name
    return post({"jsonrpc": "2.0", "id": rid, "method": method, "params": p}, h)


# ---- expectations: each takes a Response, returns "" when right, else why ----

def result_id(rid, pred=lambda res: True, status=200):
    def want(r):
        if r.status != status:
            return f"status {r.status}: {r.body[:200]!r}"
        try:
            m = r.json()
        except ValueError:
            return f"not JSON: {r.body[:200]!r}"
        if m.get("id") != rid or "result" not in m or not pred(m["result"]):
            return f"wrong answer: {r.body[:300]!r}"
        return ""
    return want


def bare(status):
    def want(r):
        return "" if r.status == status else f"status {r.status}, want {status}: {r.body[:200]!r}"
    return want


def has_tool(res):
    return any(t.get("name") == "list_tasks" for t in res.get("tools", []))


def pad(n):
    """A ping whose params carry n bytes of padding (the body about n bytes)."""
    return {"jsonrpc": "2.0", "id": "big", "method": "ping", "params": {"_meta": {"pad": "x" * n}}}


# ---- delivery ----

def _hexport(addr):
    return int(addr.split(":")[1], 16)


def queues(lport, rport):
    """(tx_queue, rx_queue) of the loopback socket lport -> rport, or None."""
    for path in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            with open(path) as f:
                next(f)
                for line in f:
                    p = line.split()
                    if _hexport(p[1]) == lport and _hexport(p[2]) == rport:
                        tx, rx = p[4].split(":")
                        return int(tx, 16), int(rx, 16)
        except OSError:
            pass
    return None


def wait_read(sock, server_port):
    """Until the server has read all we sent (our send queue and its receive
    queue empty) or its socket is gone; bounded, never a failure by itself."""
    me = sock.getsockname()[1]
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        mine, theirs = queues(me, server_port), queues(server_port, me)
        if theirs is None or (theirs[1] == 0 and (mine is None or mine[0] == 0)):
            return
        time.sleep(0.0005)


def deliver(pieces, timeout=30):
    """Send pieces on a new connection, each after the server read the last;
    returns the connection's Reader (a refusal may close early: a send that
    fails leaves the rest unsent and the answer is read all the same)."""
    s = ST["srv"].connect()
    s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    try:
        for i, piece in enumerate(pieces):
            if i:
                wait_read(s, ST["srv"].port)
            s.sendall(piece)
    except OSError:
        pass
    return s, Reader(s)


def cut(data, points):
    points = sorted(set(p for p in points if 0 < p < len(data)))
    edges = [0] + points + [len(data)]
    return [data[a:b] for a, b in zip(edges, edges[1:])]


def alive(settle=2.0):
    """"" while the server runs; else why, and a fresh server for the next
    check. After a failed read the server may be dying: wait for that a moment
    (a condition, bounded) so the death is reported by the check it caused."""
    try:
        rc = ST["srv"].proc.wait(settle) if settle else ST["srv"].proc.poll()
    except subprocess.TimeoutExpired:
        rc = None
    if rc is None:
        return ""
    err = ST["srv"].stderr()
    ST["srv"].stop()
    start()
    report = [ln for ln in err.splitlines() if "Sanitizer" in ln or ln.lstrip().startswith(("#0 ", "#1 ", "#2 "))]
    return f"the server died (exit status {rc}): " + (" | ".join(report[:6]) if report else err[-500:])


def run_cuttings(data, wants, cuttings, keep_open_ok=True):
    """Each cutting (a list of split points) on its own connection: every
    answer in order right and complete; the first wrong one is the reason."""
    n = 0
    for points in cuttings:
        s, rd = deliver(cut(data, points))
        try:
            for k, want in enumerate(wants):
                try:
                    r = rd.read(30)
                except Exception as e:  # noqa: BLE001
                    r, why = None, f"{type(e).__name__}: {e}"
                else:
                    why = want(r)
                if why:
                    dead = alive()
                    return False, f"split at {points[:6]}{'...' if len(points) > 6 else ''} (of {len(data)} B), " \
                        f"answer {k + 1} of {len(wants)}: {why}" + (f"; {dead}" if dead else "")
            if rd.buf:
                return False, f"split at {points[:6]}: {len(rd.buf)} bytes more than the answers: {rd.buf[:100]!r}"
        finally:
            s.close()
        n += 1
    dead = alive(0)
    return not dead, dead or f"{n} deliveries"


def every_boundary(n):
    """Each split point 1..n-1 as its own cutting (a sample under SANITIZE)."""
    pts = list(range(1, n))
    if SANITIZE and len(pts) > SAMPLE + 8:
        rnd = random.Random(SEED ^ n)
        pts = pts[:4] + sorted(rnd.sample(pts[4:-4], SAMPLE)) + pts[-4:]
    return [[p] for p in pts]


def random_cuttings(n, runs, most=6, salt=0):
    rnd = random.Random(SEED * 1000 + salt)
    return [sorted(rnd.sample(range(1, n), rnd.randint(1, most))) for _ in range(runs)]


# ---- the checks ----

def small_cases():
    return [
        ("ping_in_session", lambda: post({"jsonrpc": "2.0", "id": 11, "method": "ping"}, in_session()),
         [result_id(11, lambda res: res == {})]),
        ("notification_202", lambda: post({"jsonrpc": "2.0", "method": "notifications/initialized"}, in_session()),
         [bare(202)]),
        ("initialize_2025", lambda: post({"jsonrpc": "2.0", "id": 12, "method": "initialize", "params": INIT}, auth()),
         [result_id(12, lambda res: res.get("protocolVersion") == "2025-11-25")]),
        ("tools_list_2026", lambda: stateless("tools/list", rid=13), [result_id(13, has_tool)]),
        ("tools_call_2026", lambda: stateless("tools/call", {"name": "list_tasks", "arguments": {"page_size": 2}},
                                              rid=14, name="list_tasks"),
         [result_id(14, lambda res: len(res.get("structuredContent", {}).get("tasks", [])) == 2)]),
        ("wrong_token_401", lambda: post({"jsonrpc": "2.0", "id": 15, "method": "ping"},
                                         dict(in_session(), Authorization="Bearer not-the-token")), [bare(401)]),
        ("get_405", lambda: request_bytes("GET", port=ST["srv"].port, headers=auth()), [bare(405)]),
    ]


def large_cases():
    return [(f"ping_{n // 1000}k", n) for n in (10_000, 100_000, 500_000, 1_000_000)]


def pipeline():
    """Several requests back to back, and what each must get, in order."""
    parts = [
        (post({"jsonrpc": "2.0", "id": 21, "method": "ping"}, in_session()), result_id(21, lambda res: res == {})),
        (stateless("tools/list", rid=22), result_id(22, has_tool)),
        (post({"jsonrpc": "2.0", "method": "notifications/initialized"}, in_session()), bare(202)),
        (request_bytes("GET", port=ST["srv"].port, headers=auth()), bare(405)),
        (post({"jsonrpc": "2.0", "id": 23, "method": "tools/list"}, in_session()), result_id(23, has_tool)),
        (post({"jsonrpc": "2.0", "id": 24, "method": "ping"}, in_session()), result_id(24, lambda res: res == {})),
    ]
    return b"".join(p for p, _ in parts), [w for _, w in parts]


def checks():
    out = []
    for name, build, wants in small_cases():
        out.append((f"split_every_byte/{name}",
                    lambda build=build, wants=wants: run_cuttings(build(), wants, every_boundary(len(build())))))
    for name, n in large_cases():
        def big(n=n):
            data = post(pad(n), in_session())
            return run_cuttings(data, [result_id("big", lambda res: res == {})],
                                random_cuttings(len(data), RANDOM_RUNS, salt=n))
        out.append((f"split_random/{name}", big))
    out.append(("pipelined/one_write", lambda: run_cuttings(pipeline()[0], pipeline()[1], [[]])))
    out.append(("pipelined/split_every_byte",
                lambda: run_cuttings(pipeline()[0], pipeline()[1], every_boundary(len(pipeline()[0])))))

    def pipelined_large():
        data, wants = pipeline()
        big = post(pad(200_000), in_session())
        data = big + data + big
        wants = [result_id("big", lambda res: res == {})] + wants + [result_id("big", lambda res: res == {})]
        return run_cuttings(data, wants, [[]] + random_cuttings(len(data), RANDOM_RUNS, most=12, salt=7))
    out.append(("pipelined/large_split_random", pipelined_large))
    return out


def main():
    names = [n for n, _ in checks()] + ["server_exits_0"]
    plan(len(names), names)
    print(f"note split seed {SEED} (SPLIT_SEED={SEED} repeats it){', sampled under SANITIZE' if SANITIZE else ''}",
          flush=True)
    ST["stack"] = harness.Stack(api_key="test-key", start_mcp=False)
    try:
        start()
        for name, fn in checks():
            t0 = time.monotonic()
            alive(0)  # a server that died after the last check ran is replaced
            try:
                cond, why = fn()
                check(name, cond, why)
            except Exception as e:  # noqa: BLE001
                fail(name, f"{type(e).__name__}: {e}")
                alive()
            print(f"note {name}: {time.monotonic() - t0:.1f} s", flush=True)
        rc, err = ST["srv"].stop()
        check("server_exits_0", rc == 0 and "Sanitizer" not in err, f"exit status {rc}: {err[-600:]}")
    finally:
        ST["stack"].close()
    done()


main()

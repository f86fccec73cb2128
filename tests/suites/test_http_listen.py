"""kling-mcp --listen: Streamable HTTP over raw sockets, loopback only.

Every status code the transport answers, sessions (2025) and the stateless
2026-07-28 flow, the token, Origin/Host, limits, slow clients, many clients
at once, SSE replies, a client gone mid-call, and SIGTERM with calls in
flight; then the defects of issue 20, each delivered the way networks do
(a body in a later read than its head, one byte per read, half-closes,
HTTP/1.0, Expect): no crash, every request answered once, checks before the
body, the body total, the token holder let in when slots are full, HEAD,
501's phrase, Origin with the port, /health, slow calls as SSE (also over
HTTP/1.0, close-delimited). Each check
is one entry of TESTS: PLAN is their number.
"""
import json
import os
import re
import selectors
import signal
import socket
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "lib"))
from kt import binary, check, done, fail, plan  # noqa: E402
import harness  # noqa: E402
from limits import limit  # noqa: E402
from listen import INIT, META, V2026, Listener, Reader, request_bytes  # noqa: E402

TESTS = []


def test(fn):
    TESTS.append(fn)
    return fn


def ok(cond, why=""):
    return bool(cond), why


ST = {}  # shared: stack, servers


def env(**extra):
    e = dict(ST["stack"].env)
    e.update({k: v for k, v in extra.items() if v is not None})
    return e


def srv():
    return ST["srv"]


def tools_call(args, rid=7):
    return {"jsonrpc": "2.0", "id": rid, "method": "tools/call", "params": {"name": "list_tasks", "arguments": args}}


# ---- 2025 sessions ----

@test
def initialize_mints_session():
    sid, r = srv().initialize()
    ST["sid"] = sid
    return ok(r.status == 200 and sid and re.fullmatch(r"[\x21-\x7e]{32,}", sid)
              and r.json()["result"]["protocolVersion"] == "2025-11-25"
              and r.headers.get("content-type") == "application/json", repr(r))


@test
def notification_202():
    r = srv().post({"jsonrpc": "2.0", "method": "notifications/initialized"}, sid=ST["sid"])
    return ok(r.status == 202 and r.body == b"", repr(r))


@test
def tools_list_in_session():
    r = srv().post({"jsonrpc": "2.0", "id": 2, "method": "tools/list"}, sid=ST["sid"])
    names = [t["name"] for t in r.json()["result"]["tools"]] if r.status == 200 else []
    return ok("list_tasks" in names and r.json()["id"] == 2, repr(r))


@test
def tools_call_in_session():
    r = srv().post(tools_call({"page_size": 3}), sid=ST["sid"], timeout=30)
    res = r.json().get("result", {}) if r.status == 200 else {}
    sc = res.get("structuredContent", {})
    return ok(r.status == 200 and len(sc.get("tasks", [])) == 3 and not res.get("isError"), repr(r))


@test
def missing_session_400():
    r = srv().req("POST", {"jsonrpc": "2.0", "id": 3, "method": "tools/list"},
                  {"MCP-Protocol-Version": "2025-11-25"})
    return ok(r.status == 400, repr(r))


@test
def unknown_session_404():
    r = srv().post({"jsonrpc": "2.0", "id": 3, "method": "tools/list"}, sid="0" * 32)
    return ok(r.status == 404 and r.json()["error"]["code"] == -32001, repr(r))


@test
def bad_protocol_version_400():
    r = srv().post({"jsonrpc": "2.0", "id": 3, "method": "tools/list"}, sid=ST["sid"],
                   headers={"MCP-Protocol-Version": "1999-01-01"})
    return ok(r.status == 400, repr(r))


@test
def delete_ends_session():
    sid, _ = srv().initialize()
    d = srv().req("DELETE", None, {"Mcp-Session-Id": sid})
    again = srv().post({"jsonrpc": "2.0", "id": 4, "method": "tools/list"}, sid=sid)
    return ok(200 <= d.status < 300 and again.status == 404, f"{d!r} then {again!r}")


@test
def delete_without_id_400():
    r = srv().req("DELETE")
    return ok(r.status == 400, repr(r))


@test
def batch_only_2025_03_26():
    sid, r0 = srv().initialize("2025-03-26")
    r = srv().post([{"jsonrpc": "2.0", "id": 5, "method": "ping"}, {"jsonrpc": "2.0", "id": 6, "method": "tools/list"}],
                   sid=sid, headers={"MCP-Protocol-Version": "2025-03-26"})
    arr = r.json() if r.status == 200 else None
    bad = srv().post([{"jsonrpc": "2.0", "id": 5, "method": "ping"}], sid=ST["sid"])
    return ok(isinstance(arr, list) and sorted(a["id"] for a in arr) == [5, 6]
              and "error" in bad.json(), f"{r!r} / {bad!r}")


@test
def initialize_again_on_a_session():
    # the MCP core starts a session afresh on a second initialize (as for a
    # bridge's next client); over HTTP it keeps its id
    r = srv().post({"jsonrpc": "2.0", "id": 9, "method": "initialize", "params": INIT}, sid=ST["sid"])
    again = srv().post({"jsonrpc": "2.0", "id": 10, "method": "ping"}, sid=ST["sid"])
    return ok(r.status == 200 and "result" in r.json() and "mcp-session-id" not in r.headers
              and again.status == 200, f"{r!r} {again!r}")


# ---- plain HTTP statuses ----

@test
def get_405():
    r = srv().req("GET", headers={"Accept": "text/event-stream"})
    return ok(r.status == 405 and "POST" in r.headers.get("allow", ""), repr(r))


@test
def put_405():
    r = srv().req("PUT", b"{}", {"Content-Type": "application/json"})
    return ok(r.status == 405, repr(r))


@test
def other_path_404():
    r = srv().req("POST", {"jsonrpc": "2.0", "id": 1, "method": "ping"}, path="/other")
    return ok(r.status == 404, repr(r))


@test
def query_string_allowed():
    r = srv().req("POST", {"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": INIT}, path="/mcp?x=1")
    return ok(r.status == 200, repr(r))


@test
def content_type_415():
    r = srv().req("POST", {"jsonrpc": "2.0", "id": 1, "method": "ping"}, {"Content-Type": "text/plain"})
    return ok(r.status == 415, repr(r))


@test
def accept_406():
    r = srv().req("POST", {"jsonrpc": "2.0", "id": 1, "method": "ping"}, {"Accept": "text/html"})
    return ok(r.status == 406, repr(r))


@test
def bad_json_400():
    r = srv().req("POST", b'{"jsonrpc": "2.0", "id": 1, "meth')
    return ok(r.status == 400 and r.json()["error"]["code"] == -32700, repr(r))


@test
def malformed_head_400():
    r = srv().raw(b"POST /mcp HTTP/1.1\r\nHost: 127.0.0.1\r\nBad Header\r\n\r\n")
    return ok(r.status == 400, repr(r))


@test
def missing_host_400():
    r = srv().raw(b"POST /mcp HTTP/1.1\r\nContent-Type: application/json\r\nContent-Length: 2\r\n\r\n{}")
    return ok(r.status == 400, repr(r))


# ---- 2026-07-28 stateless ----

@test
def discover_2026_no_session():
    r = srv().post2026("server/discover")
    res = r.json().get("result", {})
    return ok(r.status == 200 and "mcp-session-id" not in r.headers and V2026 in res.get("supportedVersions", [])
              and res.get("resultType") == "complete", repr(r))


@test
def tools_list_2026():
    r = srv().post2026("tools/list", rid="a")
    res = r.json().get("result", {})
    return ok(r.status == 200 and r.json()["id"] == "a" and res.get("tools") and "ttlMs" in res, repr(r))


@test
def tools_call_2026():
    r = srv().post2026("tools/call", {"name": "list_tasks", "arguments": {"page_size": 2}}, name="list_tasks",
                       timeout=30)
    sc = r.json().get("result", {}).get("structuredContent", {})
    return ok(r.status == 200 and len(sc.get("tasks", [])) == 2, repr(r))


@test
def header_method_mismatch_32020():
    r = srv().post2026("tools/list", rid=11, headers={"Mcp-Method": "tools/call"})
    e = r.json().get("error", {})
    return ok(r.status == 400 and e.get("code") == -32020 and r.json().get("id") == 11, repr(r))


@test
def header_version_missing_32020():
    r = srv().post2026("tools/list", rid=12, headers={"MCP-Protocol-Version": None})
    return ok(r.status == 400 and r.json()["error"]["code"] == -32020 and r.json()["id"] == 12, repr(r))


@test
def header_name_mismatch_32020():
    r = srv().post2026("tools/call", {"name": "list_tasks", "arguments": {}}, rid=13, name="other_tool")
    return ok(r.status == 400 and r.json()["error"]["code"] == -32020, repr(r))


@test
def header_name_base64():
    r = srv().post2026("tools/call", {"name": "list_tasks", "arguments": {"page_size": 1}}, rid=14,
                       name="=?base64?bGlzdF90YXNrcw==?=", timeout=30)
    return ok(r.status == 200 and "result" in r.json(), repr(r))


@test
def unknown_method_404():
    r = srv().post2026("nope/nothing", rid=15)
    return ok(r.status == 404 and r.json()["error"]["code"] == -32601 and r.json()["id"] == 15, repr(r))


@test
def missing_meta_32602():
    r = srv().req("POST", {"jsonrpc": "2.0", "id": 16, "method": "tools/list"},
                  {"MCP-Protocol-Version": V2026, "Mcp-Method": "tools/list"})
    return ok(r.status == 400 and r.json()["error"]["code"] == -32602 and r.json()["id"] == 16, repr(r))


@test
def unsupported_version_32022():
    meta = {"io.modelcontextprotocol/protocolVersion": "2099-01-01"}
    r = srv().post2026("tools/list", {"_meta": meta}, rid=17, headers={"MCP-Protocol-Version": "2099-01-01"})
    # the header itself names an unknown version: 400 either way, the body says which
    return ok(r.status == 400, repr(r))


# ---- security ----

@test
def foreign_origin_403():
    r = srv().req("POST", {"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": INIT},
                  {"Origin": "http://evil.example.com"})
    return ok(r.status == 403, repr(r))


@test
def foreign_host_403():
    r = srv().req("POST", {"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": INIT},
                  host="evil.example.com")
    return ok(r.status == 403, repr(r))


@test
def localhost_origin_and_host_ok():
    p = srv().port
    r = srv().req("POST", {"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": INIT},
                  {"Origin": f"http://localhost:{p}"}, host=f"localhost:{p}")
    return ok(r.status == 200 and r.headers.get("access-control-allow-origin") == f"http://localhost:{p}"
              and "Mcp-Session-Id" in r.headers.get("access-control-expose-headers", ""), repr(r))


@test
def preflight_204():
    p = srv().port
    r = srv().req("OPTIONS", headers={"Origin": f"http://127.0.0.1:{p}", "Access-Control-Request-Method": "POST"})
    return ok(r.status == 204 and "mcp-session-id" in r.headers.get("access-control-allow-headers", "").lower(),
              repr(r))


@test
def allowed_lists_extend():
    s = Listener(env(KLING_MCP_ALLOWED_ORIGINS="https://app.example, http://x.test",
                     KLING_MCP_ALLOWED_HOSTS="mcp.lan:%d" % 0))
    try:
        a = s.req("POST", {"jsonrpc": "2.0", "id": 1, "method": "ping"}, {"Origin": "https://app.example"})
        b = s.req("POST", {"jsonrpc": "2.0", "id": 1, "method": "ping"}, {"Origin": "https://other.example"})
    finally:
        s.stop()
    return ok(a.status == 200 and b.status == 403, f"{a!r} / {b!r}")


@test
def token_required():
    s = Listener(env(KLING_MCP_TOKEN="s3cret-token-value-42", KLING_LOG_LEVEL="debug"))
    try:
        body = {"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": INIT}
        none = s.req("POST", body)
        wrong = s.req("POST", body, {"Authorization": "Bearer s3cret-token-value-43"})
        right = s.req("POST", body, {"Authorization": "Bearer s3cret-token-value-42"})
    finally:
        rc, err = s.stop()
    return ok(none.status == 401 and "Bearer" in none.headers.get("www-authenticate", "")
              and wrong.status == 401 and right.status == 200 and "s3cret" not in err and rc == 0,
              f"{none!r} {wrong!r} {right!r} rc={rc}")


@test
def non_loopback_needs_token():
    p = subprocess.run([binary(), "--listen", "0.0.0.0:0"], env=env(), capture_output=True, text=True, timeout=10)
    return ok(p.returncode == 2 and "KLING_MCP_TOKEN" in p.stderr, f"rc={p.returncode} {p.stderr!r}")


@test
def bad_listen_address():
    p = subprocess.run([binary(), "--listen", "::1:80"], env=env(), capture_output=True, text=True, timeout=10)
    q = subprocess.run([binary(), "--listen", "127.0.0.1:99999"], env=env(), capture_output=True, text=True,
                       timeout=10)
    return ok(p.returncode == 2 and "[::1]" in p.stderr and q.returncode == 2, f"{p.stderr!r} {q.stderr!r}")


@test
def ipv6_listener():
    try:
        s = Listener(env(), addr="[::1]:0")
    except RuntimeError as e:
        return ok("Cannot assign" in str(e) or "not available" in str(e), str(e))
    try:
        r = s.req("POST", {"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": INIT},
                  host=f"[::1]:{s.port}")
    finally:
        s.stop()
    return ok(r.status == 200, repr(r))


# ---- limits ----

@test
def head_too_large_431():
    r = srv().raw(b"POST /mcp HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Big: " + b"a" * 17000 + b"\r\n\r\n")
    return ok(r.status == 431, repr(r))


@test
def body_too_large_413():
    s = srv().connect()
    s.sendall(b"POST /mcp HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
              b"Content-Length: 1048577\r\n\r\n")
    r = Reader(s).read()
    s.close()
    return ok(r.status == 413, repr(r))


@test
def chunked_411():
    r = srv().raw(b"POST /mcp HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
                  b"Transfer-Encoding: chunked\r\n\r\n2\r\n{}\r\n0\r\n\r\n")
    return ok(r.status == 411, repr(r))


@test
def post_without_length_411():
    r = srv().raw(b"POST /mcp HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n\r\n")
    return ok(r.status == 411, repr(r))


@test
def keep_alive_and_pipelining():
    s = srv().connect()
    p = srv().port
    one = request_bytes("POST", body=json.dumps({"jsonrpc": "2.0", "id": 1, "method": "ping"}).encode(), port=p,
                        headers={"Mcp-Session-Id": ST["sid"], "MCP-Protocol-Version": "2025-11-25"})
    two = request_bytes("POST", body=json.dumps({"jsonrpc": "2.0", "id": 2, "method": "tools/list"}).encode(), port=p,
                        headers={"Mcp-Session-Id": ST["sid"], "MCP-Protocol-Version": "2025-11-25"})
    s.sendall(one + two)  # pipelined
    rd = Reader(s)
    a, b = rd.read(), rd.read()
    s.sendall(one)  # and again on the same connection
    c = rd.read()
    s.close()
    return ok([a.json()["id"], b.json()["id"], c.json()["id"]] == [1, 2, 1], f"{a!r} {b!r} {c!r}")


@test
def pipelined_flood():
    s = srv().connect()
    n = 2000
    s.sendall(b"GET /mcp HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n" * n)
    rd = Reader(s)
    got = 0
    try:
        for _ in range(n):
            if rd.read().status == 405:
                got += 1
    except Exception as e:  # noqa: BLE001
        return ok(False, f"after {got}: {e}")
    finally:
        s.close()
    return ok(got == n, f"{got} of {n}")


def many_clients(n, build):
    """n connections at once, each sends build(i), all read together; returns
    {i: Response}."""
    sel = selectors.DefaultSelector()
    socks = []
    for i in range(n):
        s = srv().connect()
        s.setblocking(False)
        socks.append(s)
    for i, s in enumerate(socks):
        s.setblocking(True)
        s.sendall(build(i))
        s.setblocking(False)
        sel.register(s, selectors.EVENT_READ, i)
    bufs = {i: b"" for i in range(n)}
    out = {}
    deadline = time.monotonic() + 60
    while len(out) < n and time.monotonic() < deadline:
        for key, _ in sel.select(1):
            i = key.data
            chunk = key.fileobj.recv(65536)
            bufs[i] += chunk
            if b"\r\n\r\n" in bufs[i]:
                head, body = bufs[i].split(b"\r\n\r\n", 1)
                m = re.search(rb"content-length: (\d+)", head, re.I)
                if m and len(body) >= int(m.group(1)) or not chunk:
                    sel.unregister(key.fileobj)
                    try:
                        out[i] = Reader(None, bufs[i]).read(1)
                    except Exception:  # noqa: BLE001
                        pass
    for s in socks:
        s.close()
    return out


@test
def two_hundred_clients():
    p = srv().port

    def build(i):
        body = {"jsonrpc": "2.0", "id": f"c{i}", "method": "tools/list", "params": {"_meta": META}}
        return request_bytes("POST", body=json.dumps(body).encode(), port=p,
                             headers={"MCP-Protocol-Version": V2026, "Mcp-Method": "tools/list"})
    out = many_clients(200, build)
    good = sum(1 for i, r in out.items() if r.status == 200 and r.json().get("id") == f"c{i}")
    return ok(good == 200, f"{good} of 200 answered with their own id")


@test
def slowloris_does_not_delay_others():
    slow = []
    for _ in range(20):
        s = srv().connect()
        s.sendall(b"POST /mcp HTTP/1.1\r\nHost: 127.0.0.1\r\n")
        slow.append(s)
    worst = 0.0
    for i in range(10):
        t0 = time.monotonic()
        r = srv().post({"jsonrpc": "2.0", "id": i, "method": "ping"}, sid=ST["sid"])
        worst = max(worst, time.monotonic() - t0)
        for s in slow:
            try:
                s.send(b"X")  # one byte, never a header line's end
            except OSError:
                pass
        time.sleep(0.05)
        if r.status != 200:
            return ok(False, repr(r))
    # the slow ones are closed (408) once their 10 s are up
    time.sleep(10.8)
    closed = 0
    for s in slow:
        s.settimeout(2)
        try:
            data = s.recv(4096)
            closed += data.startswith(b"HTTP/1.1 408") or data == b""
        except OSError:
            closed += 1
        s.close()
    return ok(worst < 1.0 and closed == 20, f"worst {worst:.3f} s, {closed} of 20 slow clients closed")


@test
def connection_limit_503():
    """Every slot held by a connection that has passed the checks: a new one
    gets 503 (unauthenticated ones would be closed to make room instead)."""
    held = []
    p = srv().port
    ping = request_bytes("POST", body=json.dumps({"jsonrpc": "2.0", "id": 0, "method": "ping"}).encode(), port=p)
    try:
        for _ in range(256):
            s = srv().connect()
            s.sendall(ping)
            held.append(s)
        for s in held:
            Reader(s).read()
        r = srv().req("POST", {"jsonrpc": "2.0", "id": 1, "method": "ping"})
    except Exception as e:  # noqa: BLE001
        return ok(False, str(e))
    finally:
        for s in held:
            s.close()
    time.sleep(0.3)
    after = srv().post({"jsonrpc": "2.0", "id": 2, "method": "ping"}, sid=ST["sid"])
    return ok(r.status == 503 and r.headers.get("retry-after") and after.status == 200, f"{r!r} {after!r}")


# ---- SSE, cancellation, access log ----

@test
def sse_with_progress_token():
    body = tools_call({"page_size": 1}, rid=21)
    body["params"]["_meta"] = {"progressToken": "p1"}
    r = srv().post(body, sid=ST["sid"], timeout=30)
    ev = r.events() if r.status == 200 else []
    return ok(r.headers.get("content-type") == "text/event-stream" and r.headers.get("x-accel-buffering") == "no"
              and ev and ev[-1].get("id") == 21 and "result" in ev[-1], repr(r))


@test
def client_gone_mid_call():
    """A client that closes mid-call: an end of input cannot be told from a
    half-close, so the call goes on; the answer's write finds the client
    gone, and the session serves on."""
    ST["stack"].mock.fault(mode="delay", ms=1000, path_prefix="/tasks", count=1)
    s = srv().connect()
    body = json.dumps(tools_call({"page_size": 1}, rid=22)).encode()
    s.sendall(request_bytes("POST", body=body, port=srv().port,
                            headers={"Mcp-Session-Id": ST["sid"], "MCP-Protocol-Version": "2025-11-25"}))
    n0 = srv().stderr().count("POST /tasks -> HTTP 200")
    time.sleep(0.3)
    s.close()
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and srv().stderr().count("POST /tasks -> HTTP 200") == n0:
        time.sleep(0.1)
    r = srv().post({"jsonrpc": "2.0", "id": 23, "method": "ping"}, sid=ST["sid"])
    return ok(r.status == 200 and srv().proc.poll() is None, srv().stderr()[-600:])


@test
def access_log_line():
    log = srv().stderr()
    return ok(re.search(r"http: POST 200 \d+ ms session [0-9a-f]{8}", log), log[-400:])


@test
def sigterm_with_calls_in_flight():
    s = Listener(env(KLING_LOG_LEVEL="info"))
    ST["stack"].mock.fault(mode="delay", ms=1500, path_prefix="/tasks", count=2)
    sid, _ = s.initialize()
    socks = []
    for rid in (31, 32):
        c = s.connect()
        c.sendall(request_bytes("POST", body=json.dumps(tools_call({"page_size": 1}, rid=rid)).encode(),
                                port=s.port, headers={"Mcp-Session-Id": sid, "MCP-Protocol-Version": "2025-11-25"}))
        socks.append(c)
    time.sleep(0.4)
    s.proc.send_signal(signal.SIGTERM)
    time.sleep(0.2)
    refused = False
    try:
        s.connect().close()
    except OSError:
        refused = True
    got = []
    for c in socks:
        try:
            r = Reader(c).read(15)
            got.append(r.status == 200 and "result" in r.json() and r.headers.get("connection") == "close")
        except Exception as e:  # noqa: BLE001
            got.append(str(e))
        c.close()
    rc, err = s.stop()
    return ok(got == [True, True] and rc == 0 and refused, f"{got} rc={rc} refused={refused} {err[-500:]}")


@test
def sigint_exits_0():
    s = Listener(env(KLING_LOG_LEVEL="info"))
    r = s.post({"jsonrpc": "2.0", "id": 1, "method": "ping"})
    t0 = time.monotonic()
    rc, err = s.stop(sig=signal.SIGINT)
    took = time.monotonic() - t0
    return ok(r.status == 200 and rc == 0 and took < 5 and "stopping" in err, f"rc={rc} {took:.2f}s {err[-300:]}")


@test
def session_call_cap():
    """One session holds at most LIMIT_LISTEN_SESSION_CALLS calls; another session still gets in."""
    cap = limit("LIMIT_LISTEN_SESSION_CALLS")
    s = Listener(env(KLING_LOG_LEVEL="warn"))
    ST["stack"].mock.fault(mode="delay", ms=500, path_prefix="/tasks", count=cap)
    socks = []
    try:
        sid, _ = s.initialize()
        other, _ = s.initialize()
        h = {"Mcp-Session-Id": sid, "MCP-Protocol-Version": "2025-11-25"}
        for rid in range(100, 100 + cap):
            c = s.connect()
            c.sendall(request_bytes("POST", body=json.dumps(tools_call({"page_size": 1}, rid=rid)).encode(),
                                    port=s.port, headers=h))
            socks.append(c)
        time.sleep(0.3)
        over = s.post(tools_call({"page_size": 1}, rid=100 + cap), sid=sid, timeout=30)
        elsewhere = s.post(tools_call({"page_size": 1}, rid=101 + cap), sid=other, timeout=30)
        answered = 0
        for c in socks:
            r = Reader(c).read(30)
            answered += r.status == 200 and "structuredContent" in r.json().get("result", {})
    finally:
        for c in socks:
            c.close()
        s.stop()
    res = over.json().get("result", {}) if over.status == 200 else {}
    text = (res.get("content") or [{}])[0].get("text", "")
    good = elsewhere.json().get("result", {}) if elsewhere.status == 200 else {}
    return ok(res.get("isError") and "LIMIT_LISTEN_SESSION_CALLS" in text
              and "structuredContent" in good and not good.get("isError") and answered == cap,
              f"over: {text[:200]!r}; elsewhere: {elsewhere!r}; answered {answered}")


@test
def session_limit_503():
    s = Listener(env(KLING_LOG_LEVEL="warn"))
    try:
        first = None
        for i in range(1024):
            r = s.post({"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": INIT})
            if r.status != 200:
                first = (i, r)
                break
        over = s.post({"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": INIT})
    finally:
        s.stop()
    return ok(first is None and over.status == 503 and over.headers.get("retry-after"), f"{first} {over!r}")


# ---- the network delivers bytes as it likes (issue 20) ----

def pad_ping(rid, size):
    """A ping whose body is about size bytes (a long _meta value)."""
    return json.dumps({"jsonrpc": "2.0", "id": rid, "method": "ping",
                       "params": {"_meta": {"x": "a" * max(0, size - 60)}}}).encode()


def split_send(s, data, at):
    """data in two writes, the second after the server has read the first."""
    s.sendall(data[:at])
    time.sleep(0.15)
    s.sendall(data[at:])


@test
def body_after_head_no_crash():
    """The body in a later read than the head (as http.client writes them):
    the parsed head must not point into the buffer that grows for the body."""
    p = srv().port
    got = []
    for size in (10, 3000, 100000, 900000):
        body = pad_ping(size, size)
        data = request_bytes("POST", body=body, port=p, headers={"Mcp-Session-Id": ST["sid"],
                                                                   "MCP-Protocol-Version": "2025-11-25",
                                                                   "Origin": f"http://127.0.0.1:{p}"})
        s = srv().connect()
        try:
            split_send(s, data, len(data) - len(body))
            r = Reader(s).read()
            got.append(r.status == 200 and r.json().get("id") == size)
        except Exception as e:  # noqa: BLE001
            got.append(str(e))
        finally:
            s.close()
    return ok(got == [True] * 4 and srv().proc.poll() is None, f"{got} exit={srv().proc.poll()}")


@test
def split_at_every_byte_small_request():
    """A small request delivered one byte per read is answered like a whole one."""
    p = srv().port
    data = request_bytes("POST", body=json.dumps({"jsonrpc": "2.0", "id": 5, "method": "ping"}).encode(), port=p,
                         headers={"Mcp-Session-Id": ST["sid"], "MCP-Protocol-Version": "2025-11-25"})
    s = srv().connect()
    s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    try:
        for i in range(len(data)):
            s.sendall(data[i:i + 1])
            if i % 16 == 0:
                time.sleep(0.002)
        r = Reader(s).read()
    finally:
        s.close()
    return ok(r.status == 200 and r.json().get("id") == 5, repr(r))


def read_all_then_eof(s, timeout=15):
    """(first response, whether the server then closed the connection)."""
    rd = Reader(s)
    r = rd.read(timeout)
    closed = False
    try:
        s.settimeout(5)
        closed = rd.buf == b"" and s.recv(1) == b""
    except OSError:
        closed = True
    return r, closed


@test
def connection_close_answered():
    """Connection: close on a call that goes upstream: answered, then closed."""
    ST["stack"].mock.fault(mode="delay", ms=400, path_prefix="/tasks", count=1)
    s = srv().connect()
    body = json.dumps(tools_call({"page_size": 1}, rid=41)).encode()
    s.sendall(request_bytes("POST", body=body, port=srv().port,
                            headers={"Mcp-Session-Id": ST["sid"], "MCP-Protocol-Version": "2025-11-25",
                                     "Connection": "close", "Accept": "application/json"}))
    try:
        r, closed = read_all_then_eof(s)
    finally:
        s.close()
    return ok(r.status == 200 and r.json().get("id") == 41 and r.headers.get("connection") == "close" and closed,
              f"{r!r} closed={closed}")


@test
def http10_answered():
    """HTTP/1.0 (how nginx talks to upstreams): answered, split body and all;
    keep-alive only when asked."""
    p = srv().port
    body = json.dumps(tools_call({"page_size": 1}, rid=42)).encode()
    head = (f"POST /mcp HTTP/1.0\r\nHost: 127.0.0.1:{p}\r\nContent-Type: application/json\r\n"
            f"Accept: application/json, text/event-stream\r\nMcp-Session-Id: {ST['sid']}\r\n"
            f"MCP-Protocol-Version: 2025-11-25\r\nContent-Length: {len(body)}\r\n\r\n").encode()
    s = srv().connect()
    try:
        split_send(s, head + body, len(head))
        r, closed = read_all_then_eof(s)
    finally:
        s.close()
    ka = srv().connect()
    try:
        ping = json.dumps({"jsonrpc": "2.0", "id": 43, "method": "ping"}).encode()
        one = (f"POST /mcp HTTP/1.0\r\nHost: 127.0.0.1:{p}\r\nConnection: keep-alive\r\n"
               f"Content-Type: application/json\r\nMcp-Session-Id: {ST['sid']}\r\n"
               f"Content-Length: {len(ping)}\r\n\r\n").encode() + ping
        ka.sendall(one + one)
        rd = Reader(ka)
        a, b = rd.read(), rd.read()
    finally:
        ka.close()
    return ok(r.status == 200 and r.json().get("id") == 42 and closed and a.status == 200 and b.status == 200
              and a.headers.get("connection", "").lower() == "keep-alive", f"{r!r} closed={closed} {a!r} {b!r}")


@test
def half_close_answered():
    """shutdown(SHUT_WR) after the request: the call is answered, then the
    connection closed (pipelined requests before the end too)."""
    ST["stack"].mock.fault(mode="delay", ms=300, path_prefix="/tasks", count=1)
    p = srv().port
    h = {"Mcp-Session-Id": ST["sid"], "MCP-Protocol-Version": "2025-11-25", "Accept": "application/json"}
    one = request_bytes("POST", body=json.dumps(tools_call({"page_size": 1}, rid=44)).encode(), port=p, headers=h)
    two = request_bytes("POST", body=json.dumps({"jsonrpc": "2.0", "id": 45, "method": "ping"}).encode(), port=p,
                        headers=h)
    s = srv().connect()
    try:
        s.sendall(one + two)
        s.shutdown(socket.SHUT_WR)
        rd = Reader(s)
        a, b = rd.read(), rd.read()
        end = s.recv(1)
    finally:
        s.close()
    return ok(a.json().get("id") == 44 and "result" in a.json() and b.json().get("id") == 45 and end == b"",
              f"{a!r} {b!r} {end!r}")


@test
def head_request_no_body():
    """HEAD /mcp: 405 with no body, so the next answer on the connection reads right."""
    p = srv().port
    s = srv().connect()
    try:
        s.sendall(f"HEAD /mcp HTTP/1.1\r\nHost: 127.0.0.1:{p}\r\n\r\n".encode()
                  + request_bytes("POST", body=json.dumps({"jsonrpc": "2.0", "id": 46, "method": "ping"}).encode(),
                                  port=p, headers={"Mcp-Session-Id": ST["sid"],
                                                   "MCP-Protocol-Version": "2025-11-25"}))
        rd = Reader(s)
        a = rd.read(head_only=True)
        b = rd.read()
    finally:
        s.close()
    return ok(a.status == 405 and b.status == 200 and b.json().get("id") == 46, f"{a!r} {b!r}")


@test
def status_501_phrase():
    r = srv().raw(b"POST /mcp HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
                  b"Transfer-Encoding: gzip, chunked\r\n\r\n")
    return ok(r.status == 501 and r.raw_head.startswith(b"HTTP/1.1 501 Not Implemented\r\n"), repr(r.raw_head))


@test
def origin_needs_listener_port():
    """On a loopback listener an Origin without the listener's port is another
    web service on that host (port 80/443): refused, and not echoed."""
    p = srv().port
    body = {"jsonrpc": "2.0", "id": 1, "method": "ping"}
    got = {o: srv().req("POST", body, {"Origin": o}).status
           for o in ("http://localhost", "http://127.0.0.1", "https://localhost", f"http://localhost:{p + 1}",
                     f"http://localhost:{p}", f"http://127.0.0.1:{p}")}
    want = [403, 403, 403, 403, 200, 200]
    return ok(list(got.values()) == want, repr(got))


@test
def health():
    s = Listener(env(KLING_MCP_TOKEN="s3cret-token-value-42"))
    try:
        g = s.req("GET", path="/health")
        c = s.connect()
        c.sendall(f"HEAD /health HTTP/1.1\r\nHost: 127.0.0.1:{s.port}\r\n\r\n".encode())
        rd = Reader(c)
        h = rd.read(head_only=True)
        c.settimeout(0.5)
        try:
            extra = c.recv(100)  # nothing follows the head of a HEAD answer
        except OSError:
            extra = b""
        c.close()
        m = s.req("GET", path="/mcp")
    finally:
        rc, err = s.stop()
    return ok(g.status == 200 and g.json() == {"status": "ok"} and h.status == 200 and rd.buf == extra == b""
              and m.status == 401 and "warn" not in err, f"{g!r} {h!r} {rd.buf!r} {extra!r} {m!r}")


TOKEN = "s3cret-token-value-42"


@test
def refusal_before_body_closes():
    """No token: 401 as soon as the head is in (nothing of the 1 MiB body is
    awaited or kept), with Connection: close, then the connection ends."""
    s = Listener(env(KLING_MCP_TOKEN=TOKEN))
    c = s.connect()
    try:
        c.sendall(f"POST /mcp HTTP/1.1\r\nHost: 127.0.0.1:{s.port}\r\nContent-Type: application/json\r\n"
                  f"Content-Length: 1000000\r\n\r\n".encode() + b"{" * 1000)
        r, closed = read_all_then_eof(c)
    finally:
        c.close()
        s.stop()
    return ok(r.status == 401 and r.headers.get("connection") == "close" and closed, f"{r!r} closed={closed}")


@test
def expect_100_after_checks():
    """Expect: 100-continue: a wrong token gets its 401 at once (no 100); the
    right one gets 100 Continue, then the body is read and answered."""
    s = Listener(env(KLING_MCP_TOKEN=TOKEN))
    body = json.dumps({"jsonrpc": "2.0", "id": 47, "method": "ping"}).encode()

    def head(tok):
        return (f"POST /mcp HTTP/1.1\r\nHost: 127.0.0.1:{s.port}\r\nContent-Type: application/json\r\n"
                f"Authorization: Bearer {tok}\r\nExpect: 100-continue\r\nContent-Length: {len(body)}\r\n\r\n").encode()
    try:
        bad = s.connect()
        bad.sendall(head("wrong"))
        no = Reader(bad).read()
        bad.close()
        good = s.connect()
        good.sendall(head(TOKEN))
        rd = Reader(good)
        cont = rd.read()
        good.sendall(body)
        yes = rd.read()
        good.close()
    finally:
        s.stop()
    return ok(no.status == 401 and cont.status == 100 and yes.status == 200 and yes.json().get("id") == 47,
              f"{no!r} {cont!r} {yes!r}")


@test
def body_total_cap_503():
    """Bodies held across connections are capped (LIMIT_LISTEN_BODY_TOTAL,
    8 MiB): the ninth 1 MiB body announced at once gets 503 + Retry-After."""
    s = Listener(env(KLING_MCP_TOKEN=TOKEN))
    held = []
    try:
        for _ in range(8):
            c = s.connect()
            c.sendall(f"POST /mcp HTTP/1.1\r\nHost: 127.0.0.1:{s.port}\r\nContent-Type: application/json\r\n"
                      f"Authorization: Bearer {TOKEN}\r\nContent-Length: 1048576\r\n\r\n".encode())
            held.append(c)
        time.sleep(0.3)
        c = s.connect()
        c.sendall(f"POST /mcp HTTP/1.1\r\nHost: 127.0.0.1:{s.port}\r\nContent-Type: application/json\r\n"
                  f"Authorization: Bearer {TOKEN}\r\nContent-Length: 1000\r\n\r\n".encode())
        r = Reader(c).read()
        c.close()
        for c in held[:1]:
            c.close()
        time.sleep(0.3)
        after = s.req("POST", {"jsonrpc": "2.0", "id": 1, "method": "ping"}, {"Authorization": f"Bearer {TOKEN}"})
    finally:
        for c in held:
            c.close()
        s.stop()
    return ok(r.status == 503 and r.headers.get("retry-after") and after.status == 200, f"{r!r} {after!r}")


@test
def token_holder_gets_in():
    """Every slot taken by clients without the token: the token holder still
    gets in (the oldest unauthenticated connection is closed for it)."""
    s = Listener(env(KLING_MCP_TOKEN=TOKEN))
    held = []
    try:
        for i in range(256):
            c = s.connect()
            if i % 2:
                c.sendall(b"POST /mcp HTTP/1.1\r\n")
            held.append(c)
        time.sleep(0.3)
        r = s.req("POST", {"jsonrpc": "2.0", "id": 48, "method": "ping"}, {"Authorization": f"Bearer {TOKEN}"})
    finally:
        for c in held:
            c.close()
        s.stop()
    return ok(r.status == 200 and r.json().get("id") == 48, repr(r))


@test
def slow_call_turns_sse():
    """A call still running after LISTEN_SSE_SWITCH_MS, from a client that
    accepts SSE, is answered as a stream (no progress token needed); a client
    accepting only JSON gets JSON."""
    ST["stack"].mock.fault(mode="delay", ms=2500, path_prefix="/tasks", count=2)
    h = {"Mcp-Session-Id": ST["sid"], "MCP-Protocol-Version": "2025-11-25"}
    a = srv().req("POST", tools_call({"page_size": 1}, rid=49), h, timeout=30)
    b = srv().req("POST", tools_call({"page_size": 1}, rid=50), dict(h, Accept="application/json"), timeout=30)
    return ok(a.headers.get("content-type") == "text/event-stream" and a.json().get("id") == 49
              and "result" in a.json() and b.headers.get("content-type") == "application/json"
              and b.json().get("id") == 50, f"{a!r} {b!r}")


def short_binary():
    b = os.environ.get("KLING_MCP_SHORT") or os.path.join(os.path.dirname(binary()), "short", "kling-mcp")
    return b if os.access(b, os.X_OK) else None


@test
def http10_slow_call_sse_close_delimited():
    """HTTP/1.0 + Connection: close (nginx's defaults to an upstream), slow
    call, Accept with text/event-stream: an SSE stream framed by the close
    (no Content-Length, no chunks) with keep-alive comments before the
    answer, so a proxy's read timeout does not cut it; then the close."""
    b = short_binary()
    if not b:
        return ok(False, "no short-timer build (make test builds build/short/kling-mcp)")
    s2 = Listener(env(), binary=b)
    try:
        sid, _ = s2.initialize()
        ST["stack"].mock.fault(mode="delay", ms=3000, path_prefix="/tasks", count=1)
        body = json.dumps(tools_call({"page_size": 1}, rid=51)).encode()
        head = (f"POST /mcp HTTP/1.0\r\nHost: 127.0.0.1:{s2.port}\r\nConnection: close\r\n"
                f"Content-Type: application/json\r\nAccept: application/json, text/event-stream\r\n"
                f"Mcp-Session-Id: {sid}\r\nMCP-Protocol-Version: 2025-11-25\r\n"
                f"Content-Length: {len(body)}\r\n\r\n").encode()
        s = s2.connect()
        data = b""
        try:
            s.sendall(head + body)
            s.settimeout(30)
            while True:
                chunk = s.recv(65536)
                if not chunk:
                    break
                data += chunk
        finally:
            s.close()
    finally:
        s2.stop()
    h, _, rest = data.partition(b"\r\n\r\n")
    hl = h.decode("latin-1").lower()
    first_ka, first_data = rest.find(b": keepalive"), rest.find(b"data: ")
    msg = {}
    if first_data >= 0:
        try:
            msg = json.loads(rest[first_data + 6:].split(b"\n", 1)[0])
        except ValueError:
            pass
    return ok(hl.startswith("http/1.1 200") and "content-type: text/event-stream" in hl
              and "connection: close" in hl and "content-length" not in hl and "transfer-encoding" not in hl
              and 0 <= first_ka < first_data and msg.get("id") == 51 and "result" in msg
              and rest.endswith(b"\n\n"), repr(data[:600]))


def main():
    plan(len(TESTS), ["http_listen_" + fn.__name__ for fn in TESTS])
    ST["stack"] = harness.Stack(api_key="test-key", start_mcp=False)
    try:
        ST["srv"] = Listener(env(KLING_LOG_LEVEL="info"))
        for fn in TESTS:
            name = "http_listen_" + fn.__name__
            try:
                cond, why = fn()
                check(name, cond, why)
            except Exception as e:  # noqa: BLE001
                fail(name, f"{type(e).__name__}: {e}")
        rc, err = ST["srv"].stop()
        if rc != 0:
            print("server exit status %s: %s" % (rc, err[-800:]), file=sys.stderr)
    finally:
        ST["stack"].close()
    done()


main()

"""kling-mcp --listen: Streamable HTTP over raw sockets, loopback only.

Every status code the transport answers, sessions (2025) and the stateless
2026-07-28 flow, the token, Origin/Host, limits, slow clients, many clients
at once, SSE replies, cancellation by closing, and SIGTERM with calls in
flight. Each check is one entry of TESTS: PLAN is their number.
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
    held = []
    try:
        for _ in range(256):
            held.append(srv().connect())
        time.sleep(0.3)
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
def closing_cancels_call():
    ST["stack"].mock.fault(mode="delay", ms=3000, path_prefix="/tasks", count=1)
    s = srv().connect()
    body = json.dumps(tools_call({"page_size": 1}, rid=22)).encode()
    s.sendall(request_bytes("POST", body=body, port=srv().port,
                            headers={"Mcp-Session-Id": ST["sid"], "MCP-Protocol-Version": "2025-11-25"}))
    time.sleep(0.5)
    s.close()
    time.sleep(0.5)
    log = srv().stderr()
    r = srv().post({"jsonrpc": "2.0", "id": 23, "method": "ping"}, sid=ST["sid"])
    return ok("client left before its answer" in log and r.status == 200, log[-600:])


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
    """One session holds at most LIMIT_LISTEN_SESSION_CALLS (16) calls; another session still gets in."""
    s = Listener(env(KLING_LOG_LEVEL="warn"))
    ST["stack"].mock.fault(mode="delay", ms=500, path_prefix="/tasks", count=16)
    socks = []
    try:
        sid, _ = s.initialize()
        other, _ = s.initialize()
        h = {"Mcp-Session-Id": sid, "MCP-Protocol-Version": "2025-11-25"}
        for rid in range(100, 116):
            c = s.connect()
            c.sendall(request_bytes("POST", body=json.dumps(tools_call({"page_size": 1}, rid=rid)).encode(),
                                    port=s.port, headers=h))
            socks.append(c)
        time.sleep(0.3)
        over = s.post(tools_call({"page_size": 1}, rid=116), sid=sid, timeout=30)
        elsewhere = s.post(tools_call({"page_size": 1}, rid=117), sid=other, timeout=30)
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
              and "structuredContent" in good and not good.get("isError") and answered == 16,
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

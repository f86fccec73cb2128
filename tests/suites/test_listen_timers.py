"""kling-mcp --listen's timers: SSE keep-alive comments on long calls, the
idle expiry of sessions, and the drain at stop (every request answered).

The product's timers are 15 s and 30 min, too long to wait for: these checks
run build/short/kling-mcp (KLING_MCP_SHORT; `make test` builds it from the same
sources with LISTEN_SSE_KEEPALIVE_MS=300, LISTEN_SESSION_IDLE_MS=1500,
LIMIT_LISTEN_SESSIONS=8 and LISTEN_DRAIN_MS=2000: see the Makefile), and one check waits for the
product's own first keep-alive comment (~15 s) alongside the others.
"""
import json
import os
import select
import signal
import sys
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "lib"))
from kt import binary, check, done, fail, plan, skip  # noqa: E402
import harness  # noqa: E402
from listen import INIT, Listener, Reader, request_bytes  # noqa: E402

# The short build's values (SHORT_DEFS in the Makefile).
KEEPALIVE_MS, IDLE_MS, SESSIONS = 300, 1500, 8
PRODUCT_KEEPALIVE_MS = 15000
KA = b": keepalive\n\n"
V = "2025-11-25"

NAMES = ["timers_sse_keepalive_short", "timers_sse_no_keepalive_when_quick", "timers_idle_session_expires",
         "timers_used_session_kept", "timers_call_in_flight_keeps_session", "timers_expiry_frees_session_room",
         "timers_stop_answers_sse_call", "timers_stop_answers_json_call", "timers_connection_close_releases_session",
         "timers_sse_keepalive_product"]


def short_binary():
    b = os.environ.get("KLING_MCP_SHORT") or os.path.join(os.path.dirname(binary()), "short", "kling-mcp")
    return b if os.access(b, os.X_OK) else None


def call_body(rid, progress=True, page_size=1):
    p = {"name": "list_tasks", "arguments": {"page_size": page_size}}
    if progress:
        p["_meta"] = {"progressToken": f"p{rid}"}
    return json.dumps({"jsonrpc": "2.0", "id": rid, "method": "tools/call", "params": p}).encode()


def send_call(srv, sid, rid, progress=True):
    s = srv.connect()
    s.sendall(request_bytes("POST", body=call_body(rid, progress), port=srv.port,
                            headers={"Mcp-Session-Id": sid, "MCP-Protocol-Version": V}))
    return s


def read_timed(s, timeout):
    """Everything up to the end of one chunked reply, with when each byte came:
    (bytes, [(seconds since the call, bytes so far)])."""
    t0 = time.monotonic()
    data, marks = b"", []
    while not data.endswith(b"\r\n0\r\n\r\n") and time.monotonic() - t0 < timeout:
        r, _, _ = select.select([s], [], [], 0.5)
        if r:
            chunk = s.recv(65536)
            if not chunk:
                break
            data += chunk
            marks.append((time.monotonic() - t0, len(data)))
    return data, marks


def first_at(data, marks, needle):
    """When needle was first complete in the stream (None if never)."""
    i = data.find(needle)
    if i < 0:
        return None
    return next(t for t, n in marks if n >= i + len(needle))


def delayed(mock, ms):
    """Delay the mock's next /tasks answer by ms."""
    mock.fault(mode="delay", ms=ms, path_prefix="/tasks", count=1)


def wait_consumed(mock, timeout=10):
    """Until the queued faults have all been taken by a request."""
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if not mock._do("GET", "/_mock/faults"):
            return True
        time.sleep(0.05)
    return False


def sse_check(data, rid):
    """(keep-alive comments before the answer, the answer, the stream ended)."""
    try:
        r = Reader(None, data).read(1)
    except (ConnectionError, TimeoutError, TypeError, ValueError, IndexError):
        return None, 0, False, False  # not one whole reply
    body = r.body
    ans = body.find(b'"id":%d' % rid)
    ka_before = body[:ans].count(KA) if ans >= 0 else 0
    ev = r.events() if r.status == 200 else []
    last = ev[-1] if ev else {}
    ok_last = last.get("id") == rid and "result" in last and not last["result"].get("isError")
    return r, ka_before, ok_last, data.endswith(b"\r\n0\r\n\r\n") and body.rstrip().endswith(b"}")


def product_keepalive(stack, out):
    """On the product binary: a call whose backend answers after 16.5 s gets its
    first keep-alive comment ~15 s after the stream opened, then its answer."""
    srv = Listener(dict(stack.env, KLING_LOG_LEVEL="warn"))
    try:
        sid, _ = srv.initialize()
        delayed(stack.mock, PRODUCT_KEEPALIVE_MS + 1500)
        s = send_call(srv, sid, 91)
        out["sent"].set()
        data, marks = read_timed(s, 30)
        s.close()
        t_head = first_at(data, marks, b"\r\n\r\n")
        t_ka = first_at(data, marks, KA)
        r, ka_before, ok_last, ended = sse_check(data, 91)
        out["result"] = (t_head is not None and t_ka is not None
                         and PRODUCT_KEEPALIVE_MS - 500 <= (t_ka - t_head) * 1000 <= PRODUCT_KEEPALIVE_MS + 1500
                         and ka_before == 1 and ok_last and ended,
                         f"head at {t_head}, first keep-alive at {t_ka} s, {ka_before} before the answer, "
                         f"answer {ok_last}, ended {ended}: {data[-300:]!r}")
    finally:
        out["sent"].set()
        srv.stop()


def short_checks(stack, short):
    srv = Listener(dict(stack.env, KLING_LOG_LEVEL="info"), binary=short)
    try:
        sid, _ = srv.initialize()

        # SSE: a call answered after 1.6 s carries keep-alive comments (one per
        # 300 ms) before its answer, and the stream then ends.
        delayed(stack.mock, 1600)
        s = send_call(srv, sid, 11)
        data, marks = read_timed(s, 15)
        s.close()
        r, ka_before, ok_last, ended = sse_check(data, 11)
        check("timers_sse_keepalive_short", r is not None and r.headers.get("content-type") == "text/event-stream"
              and 3 <= ka_before <= 6 and ok_last and ended,
              f"{ka_before} keep-alive comments before the answer, answer {ok_last}, ended {ended}: {data[-400:]!r}")

        # A quick call has none: the comments come only once the call is long.
        s = send_call(srv, sid, 12)
        data, marks = read_timed(s, 15)
        s.close()
        r, ka_before, ok_last, ended = sse_check(data, 12)
        check("timers_sse_no_keepalive_when_quick", KA not in data and ok_last and ended, repr(data[-400:]))

        # Sessions: fill the table (8), one idle, one used, one with a call in flight.
        idle, _ = srv.initialize()
        used, _ = srv.initialize()
        busy, _ = srv.initialize()
        more = [srv.initialize()[0] for _ in range(SESSIONS - 4)]
        full = srv.post({"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": INIT})
        delayed(stack.mock, 2 * IDLE_MS + 1500)
        c = send_call(srv, busy, 21, progress=False)
        t0 = time.monotonic()
        pings = []
        while time.monotonic() - t0 < 2 * IDLE_MS / 1000 + 0.7:  # past the expiry and one sweep more
            pings.append(srv.post({"jsonrpc": "2.0", "id": 2, "method": "ping"}, sid=used).status)
            time.sleep(IDLE_MS / 1000 / 4)
        gone = srv.post({"jsonrpc": "2.0", "id": 3, "method": "ping"}, sid=idle)
        log = srv.stderr()
        check("timers_idle_session_expires",
              full.status == 503 and gone.status == 404 and f"http: session {idle[:8]} expired" in log
              and all(f"http: session {m[:8]} expired" in log for m in more),
              f"table full: {full!r}; idle session after {2 * IDLE_MS} ms: {gone!r}; {log[-600:]}")
        kept = srv.post({"jsonrpc": "2.0", "id": 4, "method": "ping"}, sid=used)
        check("timers_used_session_kept",
              set(pings) == {200} and kept.status == 200 and kept.json().get("result") == {},
              f"pings {pings}, then {kept!r}")
        try:
            answer = Reader(c).read(15)
        finally:
            c.close()
        after = srv.post({"jsonrpc": "2.0", "id": 5, "method": "ping"}, sid=busy)
        check("timers_call_in_flight_keeps_session",
              answer.status == 200 and answer.json().get("id") == 21 and "result" in answer.json()
              and after.status == 200 and f"http: session {busy[:8]} expired" not in srv.stderr(),
              f"the call's answer {answer!r}; the session after it {after!r}")
        fresh = [srv.post({"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": INIT})
                 for _ in range(SESSIONS - 2)]
        over = srv.post({"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": INIT})
        check("timers_expiry_frees_session_room",
              full.status == 503 and [f.status for f in fresh] == [200] * (SESSIONS - 2) and over.status == 503,
              f"full before: {full.status}; after the expiry: {[f.status for f in fresh]}, then {over.status}")
    finally:
        srv.stop()


def stop_answers(stack, short, sig, accept, name):
    """A call that will not end before the drain (its backend answers after
    30 s): the signal stops the listener, and the call still gets an answer
    (an error with its id) before exit 0 — as an SSE event when the reply had
    turned into a stream, as a 503 JSON reply otherwise."""
    srv = Listener(dict(stack.env, KLING_LOG_LEVEL="info"), binary=short)
    try:
        sid, _ = srv.initialize()
        stack.mock.fault(mode="delay", ms=30000, path_prefix="/tasks", count=1)
        s = srv.connect()
        s.sendall(request_bytes("POST", body=call_body(61, progress=False), port=srv.port,
                                headers={"Mcp-Session-Id": sid, "MCP-Protocol-Version": V, "Accept": accept}))
        wait_consumed(stack.mock)
        time.sleep(1.7)  # past LISTEN_SSE_SWITCH_MS: an SSE client now has a stream
        srv.proc.send_signal(sig)
        try:
            r = Reader(s).read(8)
            msg = r.json()
        except Exception as e:  # noqa: BLE001
            r, msg = repr(e), {}
        s.close()
    finally:
        rc, err = srv.stop()
    sse = accept != "application/json"
    check(name, msg.get("id") == 61 and "error" in msg and rc == 0
          and r.headers.get("content-type") == ("text/event-stream" if sse else "application/json")
          and (sse or r.status == 503), f"{r!r} rc={rc} {err[-400:]}")


def connection_close_releases(stack, short):
    """A call sent with Connection: close is answered, and the session it ran
    in is released: it then expires when idle (its in-flight count dropped)."""
    srv = Listener(dict(stack.env, KLING_LOG_LEVEL="info"), binary=short)
    try:
        sid, _ = srv.initialize()
        delayed(stack.mock, 300)
        s = srv.connect()
        s.sendall(request_bytes("POST", body=call_body(62, progress=False), port=srv.port,
                                headers={"Mcp-Session-Id": sid, "MCP-Protocol-Version": V, "Connection": "close"}))
        try:
            r = Reader(s).read(8)
            msg = r.json()
        except Exception as e:  # noqa: BLE001
            r, msg = repr(e), {}
        s.close()
        end = time.monotonic() + 3 * IDLE_MS / 1000 + 2
        while time.monotonic() < end and f"session {sid[:8]} expired" not in srv.stderr():
            time.sleep(0.1)
        log = srv.stderr()
    finally:
        srv.stop()
    check("timers_connection_close_releases_session", msg.get("id") == 62 and "result" in msg
          and f"session {sid[:8]} expired" in log, f"{r!r} {log[-400:]}")


def main():
    plan(len(NAMES), NAMES)
    short = short_binary()
    with harness.Stack(api_key="test-key", start_mcp=False) as st:
        prod = {"sent": threading.Event(), "result": None}
        t = threading.Thread(target=product_keepalive, args=(st, prod), daemon=True)
        t.start()
        prod["sent"].wait(10)
        if not wait_consumed(st.mock):  # its 16.5 s delay must not hit the calls below
            fail("timers_setup", "the product's delayed call did not reach the mock")
        if short:
            short_checks(st, short)
            stop_answers(st, short, signal.SIGTERM, "application/json, text/event-stream",
                         "timers_stop_answers_sse_call")
            stop_answers(st, short, signal.SIGHUP, "application/json", "timers_stop_answers_json_call")
            connection_close_releases(st, short)
        else:
            for n in NAMES[:-1]:
                skip(n, "no short-timer build (make test builds build/short/kling-mcp; KLING_MCP_SHORT names it)")
        t.join(40)
        res = prod["result"] or (False, "the product's long call did not finish")
        check("timers_sse_keepalive_product", *res)
    done()


main()

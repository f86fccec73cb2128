#!/usr/bin/env python3
"""The network bad-input catalogue: every fault mode of the mock Kling API
(tests/mock/kling_mock.py) and every behaviour of the raw HTTPS test server
(tests/mock/https_server.py), each through ONE long-lived kling-mcp process.
Each case states the answer list_tasks must give (a page, or an isError
naming what went wrong) and, where it matters, how many requests reach the
server and how long it may take; right after each, the same process still
answers a ping and a good list_tasks call."""
import json
import os
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "mock"))
import kt  # noqa: E402
import harness  # noqa: E402
from harness import McpProc, Stack, text_of  # noqa: E402
from limits import limit  # noqa: E402
from https_server import HttpsServer  # noqa: E402

KEY = "network-api-key-0123456789"
TIMEOUT_MS = 4000  # KLING_TIMEOUT_MS of these processes: 2 retries (1 s + 2 s) fit, hangs end soon
SLOW = 4.0 if os.environ.get("SANITIZE") == "1" else 1.0
OK = None  # the expectation "a page of tasks"

# Mock fault modes: (name, fault spec, call arguments, expected needles or OK,
# requests the call makes, at least / at most seconds it takes)
MOCK = [
    ("kling_error 1201 not retried", {"mode": "kling_error", "http": 400, "code": 1201, "message": "bad filter"},
     {}, ["1201", "bad filter", "request_id"], 1, (0, 2)),
    ("kling_error 1002 names the variable", {"mode": "kling_error", "http": 401, "code": 1002}, {},
     ["1002", "KLING_API_KEY"], 1, (0, 2)),
    ("kling_error 1302 retried once, then a page", {"mode": "kling_error", "http": 429, "code": 1302}, {}, OK, 2,
     (0.9, 3)),
    ("kling_error 1303 Retry-After 0 retried at once", {"mode": "kling_error", "http": 429, "code": 1303,
                                                         "retry_after": 0}, {}, OK, 2, (0, 0.9)),
    ("kling_error 5000 three times: gave up", {"mode": "kling_error", "http": 500, "code": 5000, "count": 3}, {},
     ["5000", "gave up after 2 retries"], 3, (2.9, 4)),
    ("kling_error Retry-After past the deadline not waited", {"mode": "kling_error", "http": 429, "code": 1302,
                                                               "retry_after": 3600}, {},
     ["1302", "deadline"], 1, (0, 2)),
    ("http_error 502 HTML three times", {"mode": "http_error", "http": 502, "count": 3}, {},
     ["HTTP 502", "gave up"], 3, (2.9, 4)),
    ("http_error 404 HTML not retried", {"mode": "http_error", "http": 404}, {}, ["HTTP 404"], 1, (0, 2)),
    ("http_error 200 with an HTML body", {"mode": "http_error", "http": 200, "body": "<html>ok</html>"}, {},
     ["not valid JSON"], 1, (0, 2)),
    ("bad_json", {"mode": "bad_json"}, {}, ["not valid JSON"], 1, (0, 2)),
    ("wrong_shape", {"mode": "wrong_shape"}, {}, ["not understood"], 1, (0, 2)),
    ("wrong_shape with an unknown status", {"mode": "wrong_shape", "data": {"result": [
        {"id": "t1", "status": "queued", "create_time": 1795922400000}], "has_more": False}}, {}, OK, 1, (0, 2)),
    ("hang ends at the deadline", {"mode": "hang", "seconds": 30}, {}, ["time"], 1, (TIMEOUT_MS / 1000 - 0.3, 7)),
    ("slow body within the deadline", {"mode": "slow", "interval_ms": 1}, {"page_size": 1}, OK, 1, (0, 4)),
    ("slow body past the deadline", {"mode": "slow", "interval_ms": 200}, {}, ["time"], 1,
     (TIMEOUT_MS / 1000 - 0.3, 7)),
    ("close_mid_body", {"mode": "close_mid_body"}, {}, ["in the middle of the response body"], 1, (0, 2)),
    ("close_before_reply on a kept-alive connection: sent again", {"mode": "close_before_reply"}, {}, OK, 2, (0, 2)),
    ("close_before_reply with close_notify: sent again", {"mode": "close_before_reply", "close_notify": True}, {}, OK,
     2, (0, 2)),
    ("close_before_reply twice: reported", {"mode": "close_before_reply", "count": 2}, {},
     ["closed the connection without answering"], 2, (0, 2)),
    ("oversize past LIMIT_HTTP_BODY_BYTES", {"mode": "oversize", "size": limit("LIMIT_HTTP_BODY_BYTES") + 1024 * 1024}, {},
     ["LIMIT_HTTP_BODY_BYTES"], 1, (0, 3)),
    ("oversize under the limit is fine", {"mode": "oversize", "size": 1024 * 1024}, {}, OK, 1, (0, 3)),
    ("chunked", {"mode": "chunked"}, {}, OK, 1, (0, 2)),
    ("chunked in 1-byte chunks", {"mode": "chunked", "chunk_size": 1}, {}, OK, 1, (0, 3)),
    ("chunked framing outweighing its data", {"mode": "chunked", "chunk_size": 1}, {"page_size": 100},
     ["outweighs"], 1, (0, 3)),
    ("delay within the deadline", {"mode": "delay", "ms": 500}, {}, OK, 1, (0.4, 2)),
    ("delay past the deadline", {"mode": "delay", "ms": 6000}, {}, ["time"], 1, (TIMEOUT_MS / 1000 - 0.3, 7)),
    ("connection_close", {"mode": "connection_close"}, {}, OK, 1, (0, 2)),
]

# https_server.py behaviours (the path that selects each): (name, mode path,
# how many requests get it, expected needles or OK)
NOT_KLING = ["no numeric \"code\""]  # a JSON answer that is not a Kling envelope: its body was read whole
RAW = [
    ("echo (JSON, not Kling)", "/echo", 1, NOT_KLING),
    ("Content-Length body", "/cl", 1, NOT_KLING),
    ("chunked with extensions and trailers", "/chunked", 1, NOT_KLING),
    ("body ended by close_notify", "/close", 1, NOT_KLING),
    ("body ended by a bare close", "/close?notify=0", 1, NOT_KLING),
    ("100 Continue and 103 Early Hints first", "/continue", 1, NOT_KLING),
    ("one byte every 100 ms past the deadline", "/drip", 1, ["time"]),
    ("answer after 1 s", "/slow?ms=1000", 1, NOT_KLING),
    ("never answers", "/hang", 1, ["time"]),
    ("TCP reset in the body", "/reset", 1, ["Could not get an answer"]),
    ("chunk cut short", "/truncchunk", 1, ["in the middle of the response body"]),
    ("chunk size not hex", "/badchunk", 1, ["bad chunked framing"]),
    ("20 KiB header", "/bighead", 1, ["LIMIT_HTTP_HEAD_BYTES"]),
    ("70 headers", "/manyheaders", 1, ["LIMIT_HTTP_HEADERS"]),
    ("5 MiB Content-Length body", "/bigbody", 1, ["LIMIT_HTTP_BODY_BYTES"]),
    ("5 MiB chunked body", "/bigchunked", 1, ["LIMIT_HTTP_BODY_BYTES"]),
    ("5 MiB body ended by close", "/bigclose", 1, ["LIMIT_HTTP_BODY_BYTES"]),
    ("Content-Length and chunked together", "/clchunked", 1, ["Transfer-Encoding"]),
    ("Content-Length twice", "/twocl", 1, ["Content-Length"]),
    ("redirect", "/redirect", 1, ["redirect", "not followed"]),
    ("503 with Retry-After 1, three times", "/status?code=503&retry=1", 3, ["503", "gave up"]),
    ("429 once, then a page", "/status?code=429&retry=0", 1, OK),
    ("400 not retried", "/status?code=400", 1, ["400"]),
    ("the next request on this connection dropped", "/dropnext", 1, NOT_KLING),
    ("closes after answering", "/closeafter", 1, NOT_KLING),
    ("Connection: close", "/connclose", 1, NOT_KLING),
    ("not HTTP at all", "/garbage", 1, ["not valid HTTP"]),
    ("counters (JSON, not Kling)", "/count", 1, NOT_KLING),
]

GOOD = json.dumps({"code": 0, "message": "SUCCEED", "request_id": "good", "data": {
    "result": [{"id": "task-1", "status": "succeeded", "create_time": 1795922400000, "outputs": [
        {"type": "video", "url": "https://cdn.example/v.mp4"}]},
        {"id": "task-2", "status": "failed", "message": "quota", "create_time": 1795922300000}],
    "has_more": False, "next_cursor": ""}}).encode()


class FaultyServer(HttpsServer):
    """https_server.py whose behaviour is chosen per request from a queue the
    test fills (modes[]); with the queue empty it answers a good Kling page."""

    def __init__(self, *a, **kw):
        super().__init__(*a, **kw)
        self.modes = []

    def _answer(self, s, req, st):
        with self.lock:
            mode = self.modes.pop(0) if self.modes else None
        if mode is None:
            s.sendall(self._head(st, 200, "OK", [("Content-Type", "application/json")], len(GOOD)) + GOOD)
            return True
        return super()._answer(s, dict(req, path=mode), st)


def page_ok(res):
    sc = (res or {}).get("structuredContent") or {}
    return not (res or {}).get("isError") and isinstance(sc.get("tasks"), list) and sc["tasks"]


def after_ok(name, mcp, n):
    """The ping and the good call that follow each case."""
    r = mcp.request("ping", None, timeout=10 * SLOW)
    res = mcp.call_tool("list_tasks", {"page_size": 2}, timeout=20 * SLOW)
    kt.check(f"{name}: then ping and a good list_tasks still answered",
             (r or {}).get("result") == {} and page_ok(res), f"ping {r!r}, call {json.dumps(res)[:300]}")


def expect(name, res, want):
    if want is OK:
        kt.check(f"{name}: a page of tasks", page_ok(res), json.dumps(res)[:400])
    else:
        t = text_of(res).lower()
        missing = [w for w in want if w.lower() not in t]
        kt.check(f"{name}: isError naming {want}", (res or {}).get("isError") is True and not missing,
                 f"missing {missing}: {json.dumps(res)[:400]}")


def mock_catalogue():
    with Stack(api_key=KEY, env={"KLING_TIMEOUT_MS": str(TIMEOUT_MS)}) as s:
        s.mcp.initialize()
        after_ok("network/mock/start", s.mcp, 0)
        for name, fault, args, want, requests, (lo, hi) in MOCK:
            name = "network/mock/" + name
            s.mock.reset()
            s.mock.fault(path_prefix="/tasks", **fault)
            t0 = time.monotonic()
            res = s.mcp.call_tool("list_tasks", args, timeout=30 * SLOW)
            took = time.monotonic() - t0
            expect(name, res, want)
            n = len(s.mock.requests())
            kt.check(f"{name}: {requests} request(s) in {lo:g}..{hi:g} s", n == requests and lo <= took <= hi * SLOW,
                     f"{n} requests in {took:.2f} s")
            after_ok(name, s.mcp, n)
        # of the test apparatus: the catalogue names exactly the modes the mock
        # carries out (its Handler.fault_* methods), and FAULT_MODES lists them
        seen = {f["mode"] for _, f, *_ in MOCK}
        import kling_mock
        handled = {m[len("fault_"):] for m in dir(kling_mock.Handler) if m.startswith("fault_")}
        kt.check("mock-self/network/mock: the catalogue covers every fault mode the mock handles",
                 len(handled) >= 10 and seen == handled == kling_mock.FAULT_MODES,
                 f"handled {sorted(handled)}, FAULT_MODES {sorted(kling_mock.FAULT_MODES)}, catalogue {sorted(seen)}")
        code, err = s.mcp.close()
        kt.eq("network/mock/exit 0 at the end", code, 0)
        kt.check("network/mock/the API key never on stderr", KEY not in err, err[:300])


def raw_catalogue():
    import tempfile
    tmp = tempfile.mkdtemp(prefix="kling-net-")
    ca, cert, key = harness.make_certs(tmp)
    srv = FaultyServer(cert, key).start()
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "KLING_BASE_URL": f"https://localhost:{srv.port}",
           "KLING_CA_FILE": ca, "KLING_API_KEY": KEY, "KLING_TIMEOUT_MS": str(TIMEOUT_MS)}
    mcp = McpProc(env)
    try:
        mcp.initialize()
        after_ok("network/raw/start", mcp, 0)
        for name, mode, count, want in RAW:
            name = "network/raw/" + name
            with srv.lock:
                srv.modes[:] = [mode] * count
                before = len(srv.requests)
            res = mcp.call_tool("list_tasks", {}, timeout=30 * SLOW)
            expect(name, res, want)
            with srv.lock:
                left = list(srv.modes)
                srv.modes.clear()
                used = len(srv.requests) - before
            kt.check(f"{name}: the server saw the request(s)", not left and used >= count, f"{used} requests, left {left}")
            after_ok(name, mcp, used)
        # of the test apparatus: the paths https_server.py documents are the ones
        # its code dispatches on (p == "/x"), and the catalogue drives each
        import re
        doc = open(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "mock", "https_server.py")).read()
        listed = {line.split()[0].split("[")[0].split("?")[0] for line in doc.split('"""')[1].splitlines()
                  if line.startswith("  /")}
        dispatched = set(re.findall(r'\bp == "(/[a-z]+)"', doc))
        covered = {m.split("?")[0] for _, m, _, _ in RAW}
        kt.check("mock-self/network/raw: the catalogue covers every path https_server.py documents and handles",
                 len(dispatched) >= 20 and listed == dispatched == covered,
                 f"documented {sorted(listed)}, handled {sorted(dispatched)}, catalogue {sorted(covered)}")
        code, err = mcp.close()
        kt.eq("network/raw/exit 0 at the end", code, 0)
        kt.check("network/raw/the API key never on stderr", KEY not in err, err[:300])
    finally:
        if mcp.proc.poll() is None:
            mcp.proc.kill()
        srv.stop()


def main():
    # The two catalogues run side by side (each mostly waits on deadlines and
    # retry pauses); kt's lines are written whole under a lock.
    # An exception in either thread is an ERROR line and exit status 1 (kt).
    kt.plan(3 * len(MOCK) + 4 + 3 * len(RAW) + 4)
    kt.run_threads(mock_catalogue, raw_catalogue)
    kt.done()


if __name__ == "__main__":
    main()

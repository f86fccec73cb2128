"""The MCP protocol over stdio, line by line, against golden expectations.

Drives the product binary ($KLING_MCP) for everything that needs no Kling
answer, and the test program fake_server --serve (the same server core with a
fake list_tasks backend; see tests/lib/fake_server.c) for call flows:
results, cancellation, deadlines, concurrency, batches holding calls.

Every read has a timeout, so a hang fails a check instead of stalling the run.
Every line the server writes must be one JSON value (an object, or an array
for a batch) and nothing else.
"""
import json
import os
import select
import signal
import subprocess
import sys
import threading
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
import kt  # noqa: E402
from limits import limit  # noqa: E402

BIN = kt.binary()
BUILD = os.environ.get("BUILD_DIR") or os.path.join(kt.root(), "build")
FAKE = os.path.join(BUILD, "tools", "fake_server")
SLOW = 4.0 if os.environ.get("SANITIZE") == "1" else 1.0  # sanitizer builds run slower

LIMIT_LINE_BYTES = limit("LIMIT_LINE_BYTES")
LIMIT_ID_BYTES = limit("LIMIT_ID_BYTES")
LIMIT_CONCURRENT_CALLS = limit("LIMIT_CONCURRENT_CALLS")
LIMIT_QUEUED_CALLS = limit("LIMIT_QUEUED_CALLS")
LIMIT_BATCH_REQUESTS = limit("LIMIT_BATCH_REQUESTS")
MODERN = {
    "io.modelcontextprotocol/protocolVersion": "2026-07-28",
    "io.modelcontextprotocol/clientCapabilities": {},
}
NASTY = ("Fehler: \"quota\" \\ \u00fcberschritten\n\ttab\x01 \u2014 \u5b57 "
         "\U0001F600 \u2028 end")

bad_stdout = []  # lines that were not one JSON value


def clean_env(**extra):
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("KLING_", "HTTPS_PROXY", "https_proxy", "NO_PROXY", "no_proxy", "SSL_CERT"))}
    env.update(extra)
    return env


class Server:
    def __init__(self, binary=BIN, args=(), env=None):
        self.p = subprocess.Popen([binary, *args], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                  stderr=subprocess.PIPE, env=env if env is not None else clean_env())
        for f in (self.p.stdout, self.p.stderr):
            os.set_blocking(f.fileno(), False)
        self.buf = b""
        self.err = b""
        self.lines = []  # raw lines received, in order
        self.next_id = 1000

    # -- output side
    def _drain(self, timeout):
        """Read what is available within timeout; returns False on EOF."""
        fds = [self.p.stdout, self.p.stderr]
        r, _, _ = select.select(fds, [], [], timeout)
        alive = True
        for f in r:
            try:
                data = os.read(f.fileno(), 1 << 20)
            except BlockingIOError:
                continue
            if f is self.p.stderr:
                self.err += data
                continue
            if not data:
                alive = False
            self.buf += data
            while b"\n" in self.buf:
                line, self.buf = self.buf.split(b"\n", 1)
                self.lines.append(line)
                self._pending.append(line)
        return alive

    _pending = None

    def recv_raw(self, timeout=3.0):
        if self._pending is None:
            self._pending = []
        deadline = time.monotonic() + timeout * SLOW
        while not self._pending:
            left = deadline - time.monotonic()
            if left <= 0:
                return None
            if not self._drain(left) and not self._pending:
                return None
        line = self._pending.pop(0)
        try:
            v = json.loads(line)
            if not isinstance(v, (dict, list)):
                raise ValueError("not an object or array")
        except ValueError:
            bad_stdout.append(line[:200])
        return line

    def recv(self, timeout=3.0):
        line = self.recv_raw(timeout)
        if line is None:
            return None
        try:
            v = json.loads(line)
        except ValueError:
            return {"unparsable": line[:200].decode("latin-1")}
        return Batch(v) if isinstance(v, list) else v

    def nothing(self, wait=0.3):
        """True when no line arrives within wait seconds."""
        return self.recv_raw(wait) is None

    # -- input side
    def send_raw(self, data):
        """Write all of data, reading output meanwhile so neither side blocks."""
        if self._pending is None:
            self._pending = []
        fd = self.p.stdin.fileno()
        os.set_blocking(fd, False)
        view = memoryview(data)
        while view:
            _, w, _ = select.select([], [fd], [], 5)
            if not w:
                raise TimeoutError("server does not read its input")
            try:
                n = os.write(fd, view[:1 << 16])
            except BlockingIOError:
                continue
            view = view[n:]
            self._drain(0)

    def send(self, obj):
        if not isinstance(obj, (bytes, str)):
            obj = json.dumps(obj, ensure_ascii=False, separators=(",", ":"))
        if isinstance(obj, str):
            obj = obj.encode()
        self.send_raw(obj + b"\n")

    def req(self, method, params=None, id=None, **kw):
        if id is None:
            self.next_id += 1
            id = self.next_id
        m = {"jsonrpc": "2.0", "id": id, "method": method}
        if params is not None:
            m["params"] = params
        self.send(m)
        return self.recv(**kw)

    def note(self, method, params=None):
        m = {"jsonrpc": "2.0", "method": method}
        if params is not None:
            m["params"] = params
        self.send(m)

    def init(self, version="2025-11-25"):
        return self.req("initialize", {"protocolVersion": version, "capabilities": {},
                                       "clientInfo": {"name": "protocol-suite", "version": "1"}})

    def call(self, args, id=None, meta=None, **kw):
        params = {"name": "list_tasks", "arguments": args}
        if meta:
            params["_meta"] = meta
        return self.req("tools/call", params, id=id, **kw)

    def close(self, timeout=3.0):
        """Close stdin; returns (exit status, seconds taken) or (None, t) on a hang."""
        t0 = time.monotonic()
        try:
            self.p.stdin.close()
        except BrokenPipeError:
            pass
        while time.monotonic() - t0 < timeout * SLOW:
            self._drain(0.05)
            if self.p.poll() is not None:
                self._drain(0)
                return self.p.returncode, time.monotonic() - t0
        self.p.kill()
        self.p.wait()
        return None, time.monotonic() - t0

    def stderr(self):
        self._drain(0)
        return self.err.decode("utf-8", "replace")


class Batch(list):
    """An array answer. Its .get() finds nothing, so a check that expected an
    object where an array came (a batch answered wrongly) fails, instead of
    the suite dying with an AttributeError and its later checks never run."""

    def get(self, key, default=None):
        return default


def error_of(r):
    return (r or {}).get("error") or {}


def text_of(r):
    try:
        return r["result"]["content"][0]["text"]
    except (KeyError, IndexError, TypeError):
        return ""


def is_tool_error(r, *needles):
    res = (r or {}).get("result") or {}
    t = text_of(r)
    return res.get("isError") is True and all(n in t for n in needles)


def check_error(name, r, code, id="absent", *needles):
    e = error_of(r)
    ok = e.get("code") == code and all(n in e.get("message", "") for n in needles)
    if id == "absent":
        ok = ok and r is not None and "id" not in r
    else:
        ok = ok and r is not None and r.get("id") == id
    return kt.check(name, ok, f"got {r!r}")


# ---------------------------------------------------------------------------

def lifecycle():
    s = Server()
    r = s.init("2025-11-25")
    res = (r or {}).get("result", {})
    kt.eq("init/2025-11-25 echoed", res.get("protocolVersion"), "2025-11-25")
    kt.eq("init/capabilities exactly tools.listChanged false and tasks (cancel, tools/call; no list)",
          res.get("capabilities"),
          {"tools": {"listChanged": False}, "tasks": {"cancel": {}, "requests": {"tools": {"call": {}}}}})
    si = res.get("serverInfo", {})
    kt.check("init/serverInfo name, version, title", si.get("name") == "kling-mcp" and si.get("version") and si.get("title"),
             repr(si))
    kt.check("init/instructions say what it does", "list_tasks" in res.get("instructions", ""), repr(res))
    kt.check("init/response echoes the request id", r is not None and r.get("id") == s.next_id, repr(r))
    s.note("notifications/initialized")
    kt.check("init/notifications/initialized is not answered", s.nothing())
    r = s.init("2025-06-18")
    kt.check("init/a second initialize is answered, starting afresh (bridges serve many clients through one stdio)",
             ((r or {}).get("result") or {}).get("protocolVersion") == "2025-06-18" and r.get("id") == s.next_id,
             repr(r)[:200])
    s.init()
    r = s.req("ping")
    kt.eq("ping/answers an empty result", r, {"jsonrpc": "2.0", "id": s.next_id, "result": {}})
    check_error("method/unknown method is -32601 naming it", s.req("resources/list"), -32601, s.next_id, "resources/list")
    check_error("method/server/discover is not a 2025 method", s.req("server/discover"), -32601, s.next_id)
    s.note("notifications/whatever", {"x": 1})
    s.send({"jsonrpc": "2.0", "method": 5})
    s.send({"method": "nojsonrpc"})
    kt.check("notify/unknown and malformed notifications are never answered", s.nothing())
    s.send({"jsonrpc": "2.0", "id": 77, "result": {}})
    s.send({"jsonrpc": "2.0", "id": 78, "error": {"code": 1, "message": "x"}})
    kt.check("notify/responses from the client are ignored", s.nothing())
    rc, took = s.close()
    kt.check("exit/EOF exits 0 promptly", rc == 0 and took < 1.0 * SLOW, f"rc={rc} took {took:.2f}s")

    for v, title in (("2024-11-05", False), ("2025-03-26", False), ("2025-06-18", True)):
        s = Server()
        r = s.init(v)
        res = (r or {}).get("result", {})
        kt.check(f"init/{v} echoed (serverInfo.title only from 2025-06-18)",
                 res.get("protocolVersion") == v and ("title" in res.get("serverInfo", {})) == title, repr(r))
        s.close()
    for name, params in (("an unknown version", {"protocolVersion": "1999-01-01"}),
                         ("2026-07-28 (no initialize there)", {"protocolVersion": "2026-07-28"}),
                         ("a missing version", {}), ("a non-string version", {"protocolVersion": 20251125})):
        s = Server()
        r = s.req("initialize", params)
        kt.eq(f"init/{name} is offered 2025-11-25", ((r or {}).get("result") or {}).get("protocolVersion"), "2025-11-25")
        s.close()
    s = Server()
    r = s.req("initialize")
    kt.eq("init/without params is offered 2025-11-25", ((r or {}).get("result") or {}).get("protocolVersion"), "2025-11-25")
    s.close()

    s = Server()
    kt.eq("ping/before initialize answers {}", (s.req("ping") or {}).get("result"), {})
    check_error("order/tools/list before initialize is -32602 saying how to start", s.req("tools/list"), -32602,
                s.next_id, "initialize")
    check_error("order/unknown method before initialize is -32601", s.req("x/y"), -32601, s.next_id)
    check_error("params/array params are -32602", s.req("ping", [1]), -32602, s.next_id)
    s.close()


def tools_list():
    s = Server()
    s.init("2025-11-25")
    r = s.req("tools/list")
    tools = ((r or {}).get("result") or {}).get("tools") or []
    kt.eq("tools/list has exactly list_tasks and get_task", [t.get("name") for t in tools], ["list_tasks", "get_task"])
    t = tools[0] if tools else {}
    kt.check("tools/list: title and an actionable description",
             t.get("title") and "cursor" in t.get("description", "") and "ISO 8601" in t.get("description", ""), repr(t))
    kt.eq("tools/list: annotations", t.get("annotations", {}).get("readOnlyHint"), True)
    a = t.get("annotations", {})
    kt.check("tools/list: destructive false, idempotent true, open world true",
             a.get("destructiveHint") is False and a.get("idempotentHint") is True and a.get("openWorldHint") is True,
             repr(a))
    sch = t.get("inputSchema", {})
    p = sch.get("properties", {})
    kt.check("tools/list: inputSchema keeps the seed's five and adds cursor, product_type",
             sch.get("type") == "object" and set(p) == {"page", "page_size", "status", "start_time", "end_time", "cursor",
                                                        "product_type"} and sch.get("required") == [], repr(sch))
    kt.check("tools/list: page integer >= 1 default 1; page_size 1..100 default 10",
             p.get("page", {}).get("type") == "integer" and p["page"].get("minimum") == 1 and p["page"].get("default") == 1
             and p.get("page_size", {}).get("maximum") == 100 and p["page_size"].get("default") == 10, repr(p))
    kt.eq("tools/list: status enum", p.get("status", {}).get("enum"), ["submitted", "processing", "succeed", "failed"])
    kt.eq("tools/list: product_type enum", p.get("product_type", {}).get("enum"), ["video", "image", "try_on"])
    out = t.get("outputSchema", {})
    kt.check("tools/list: outputSchema object with the always-present fields required",
             out.get("type") == "object" and out.get("required") == ["backend", "page", "page_size", "has_more", "tasks"],
             repr(out)[:300])
    check_error("tools/list: any cursor is -32602", s.req("tools/list", {"cursor": "abc"}), -32602, s.next_id, "cursor")
    s.close()
    for v in ("2024-11-05", "2025-03-26"):
        s = Server()
        s.init(v)
        t = (((s.req("tools/list") or {}).get("result") or {}).get("tools") or [{}])[0]
        kt.check(f"tools/list: under {v} every member is sent (older clients ignore the new ones)",
                 "annotations" in t and "outputSchema" in t and "title" in t, repr(t)[:200])
        s.close()


def tools_call_product():
    s = Server()
    s.init()
    s.note("notifications/initialized")
    check_error("call/unknown tool is -32602 naming it", s.req("tools/call", {"name": "make_video", "arguments": {}}),
                -32602, s.next_id, "make_video")
    check_error("call/no name is -32602", s.req("tools/call", {"arguments": {}}), -32602, s.next_id, "name")
    check_error("call/non-string name is -32602", s.req("tools/call", {"name": 3}), -32602, s.next_id)
    for what, args in (("an array", [1]), ("a string", "page=1"), ("null", None)):
        check_error(f"call/arguments as {what} is -32602",
                    s.req("tools/call", {"name": "list_tasks", "arguments": args}), -32602, s.next_id, "arguments")
    check_error("call/params missing is -32602", s.req("tools/call"), -32602, s.next_id)
    cases = [
        ("page 0", {"page": 0}, ["page must be an integer from 1"]),
        ("page 1.5", {"page": 1.5}, ["page must be an integer"]),
        ("page as a string", {"page": "2"}, ["page", "got \"2\""]),
        ("page_size 101", {"page_size": 101}, ["page_size", "1 to 100"]),
        ("status outside the enum", {"status": "done"}, ["status must be one of submitted, processing, succeed, failed"]),
        ("the /tasks word succeeded", {"status": "succeeded"}, ["status must be one of"]),
        ("product_type outside the enum", {"product_type": "music"}, ["product_type", "video, image, try_on"]),
        ("an impossible date", {"start_time": "2026-02-30"}, ["start_time", "ISO 8601"]),
        ("start after end", {"start_time": "2026-11-29", "end_time": "2026-11-28"}, ["start_time", "after end_time"]),
        ("an empty cursor", {"cursor": ""}, ["cursor"]),
        ("cursor with page 3", {"cursor": "x", "page": 3}, ["either cursor or page"]),
        ("unknown argument names", {"limit": 5, "offset": 1}, ["unknown arguments", "\"limit\"", "\"offset\""]),
        ("several problems at once", {"page": 0, "page_size": 0}, ["Invalid arguments:", "- page", "- page_size"]),
    ]
    for name, args, needles in cases:
        r = s.call(args)
        kt.check(f"args/{name} is an isError naming it", is_tool_error(r, *needles), text_of(r) or repr(r))
    r = s.call({"status": "\\u0073ucceed"})  # literally backslash-u in the value: not succeed
    kt.check("args/a literal backslash-u string is not succeed", is_tool_error(r, "status must be"), text_of(r))
    s.send('{"jsonrpc":"2.0","id":"esc","method":"tools/call","params":{"name":"list_\\u0074asks",'
           '"arguments":{"\\u0073tatus":"\\u0073ucceed","page_size":1e1}}}')
    r = s.recv()
    kt.check("args/escaped names and \\u0073ucceed are accepted as succeed (then: credentials)",
             is_tool_error(r, "KLING_API_KEY") and r.get("id") == "esc", text_of(r))
    r = s.call({})
    kt.check("call/missing credentials name KLING_API_KEY and the AK/SK pair",
             is_tool_error(r, "KLING_API_KEY", "KLING_ACCESS_KEY", "KLING_SECRET_KEY"), text_of(r))
    kt.check("call/results are isError results, not JSON-RPC errors", r is not None and "error" not in r, repr(r))
    s.close()

    # Nothing listens on port 1 of the loopback: the call fails, names the
    # connection problem, and the server keeps serving.
    s = Server(env=clean_env(KLING_API_KEY="test-key-123456", KLING_BASE_URL="https://127.0.0.1:1"))
    s.init()
    r = s.call({"page_size": 5})
    kt.check("call/with a key and no service: isError naming the connection",
             is_tool_error(r, "127.0.0.1:1") and "connect" in text_of(r).lower(), text_of(r))
    kt.check("call/with a key: invalid args still refused first", is_tool_error(s.call({"page": -1}), "page must"))
    s.close()
    s = Server(env=clean_env(KLING_API_KEY="k", KLING_REGION="mars"))
    s.init()
    r = s.call({})
    kt.check("call/config.error is quoted", is_tool_error(r, "misconfigured", "KLING_REGION", "mars"), text_of(r))
    kt.check("call/a bad argument comes before config.error", is_tool_error(s.call({"page": 0}), "page must"))
    s.close()


def errors_and_framing():
    s = Server()
    s.init()
    check_error("framing/garbage is -32700 without id", (s.send("hello"), s.recv())[1], -32700, "absent", "Parse error")
    check_error("framing/trailing comma is -32700", (s.send('{"jsonrpc":"2.0","id":1,"method":"ping",}'), s.recv())[1],
                -32700)
    check_error("framing/[1,,3] is -32700", (s.send("[1,,3]"), s.recv())[1], -32700)
    check_error("framing/[10} is -32700", (s.send("[10}"), s.recv())[1], -32700)
    check_error("framing/01 is -32700", (s.send('{"jsonrpc":"2.0","id":01,"method":"ping"}'), s.recv())[1], -32700)
    check_error("framing/tru is -32700", (s.send('{"jsonrpc":"2.0","id":1,"method":"ping","x":tru}'), s.recv())[1], -32700)
    check_error("framing/invalid UTF-8 is -32700",
                (s.send_raw(b'{"jsonrpc":"2.0","id":1,"method":"p\xff"}\n'), s.recv())[1], -32700, "absent", "UTF-8")
    check_error("framing/overlong UTF-8 is -32700",
                (s.send_raw(b'{"jsonrpc":"2.0","id":1,"method":"\xc0\xaf"}\n'), s.recv())[1], -32700)
    check_error("framing/a lone surrogate escape is -32700",
                (s.send('{"jsonrpc":"2.0","id":1,"method":"\\ud800"}'), s.recv())[1], -32700, "absent", "surrogate")
    check_error("framing/a raw control character in a string is -32700",
                (s.send_raw(b'{"jsonrpc":"2.0","id":1,"method":"a\x01b"}\n'), s.recv())[1], -32700)
    check_error("envelope/a number is -32600", (s.send("5"), s.recv())[1], -32600)
    check_error("envelope/a string is -32600", (s.send('"ping"'), s.recv())[1], -32600)
    check_error("envelope/{} is -32600", (s.send("{}"), s.recv())[1], -32600)
    r = (s.send('{"jsonrpc":"2.0","id":null,"method":"ping"}'), s.recv())[1]
    check_error("envelope/id null is -32600 with id left out", r, -32600, "absent", "null")
    check_error("envelope/missing jsonrpc is -32600 echoing the id", s.send({"id": 5, "method": "ping"}) or s.recv(),
                -32600, 5, "jsonrpc")
    check_error("envelope/jsonrpc 1.0 is -32600", s.send({"jsonrpc": "1.0", "id": 6, "method": "ping"}) or s.recv(),
                -32600, 6)
    check_error("envelope/method not a string is -32600", s.send({"jsonrpc": "2.0", "id": 7, "method": 1}) or s.recv(),
                -32600, 7)
    check_error("envelope/scalar params is -32600",
                s.send({"jsonrpc": "2.0", "id": 8, "method": "ping", "params": 1}) or s.recv(), -32600, 8)
    check_error("envelope/fractional id is -32600 without id",
                (s.send('{"jsonrpc":"2.0","id":1.5,"method":"ping"}'), s.recv())[1], -32600)
    check_error("envelope/boolean id is -32600", s.send({"jsonrpc": "2.0", "id": True, "method": "ping"}) or s.recv(),
                -32600)
    check_error("envelope/duplicate id member is -32600",
                (s.send('{"jsonrpc":"2.0","id":1,"id":2,"method":"ping"}'), s.recv())[1], -32600, 2, "twice")
    check_error("batch/a batch outside 2025-03-26 is one -32600",
                s.send([{"jsonrpc": "2.0", "id": 1, "method": "ping"}]) or s.recv(), -32600, "absent", "2025-03-26")
    check_error("batch/an empty array is -32600", (s.send("[]"), s.recv())[1], -32600)

    big = "1234567890123456789012345678901234567890"
    s.send('{"jsonrpc":"2.0","id":%s,"method":"ping"}' % big)
    raw = s.recv_raw()
    kt.check("ids/a 40-digit integer id is echoed digit for digit", raw == b'{"jsonrpc":"2.0","id":%s,"result":{}}' % big.encode(),
             repr(raw))
    s.send('{"jsonrpc":"2.0","id":"a\\u00e9\\"b\\\\c","method":"ping"}')
    raw = s.recv_raw()
    kt.check("ids/a string id is echoed byte for byte, escapes and all",
             raw == b'{"jsonrpc":"2.0","id":"a\\u00e9\\"b\\\\c","result":{}}', repr(raw))
    kt.eq("ids/negative integer id", (s.req("ping", id=-42) or {}).get("id"), -42)
    kt.eq("ids/empty string id", (s.req("ping", id="") or {}).get("id"), "")
    check_error("ids/an id longer than LIMIT_ID_BYTES is -32600 naming it",
                s.req("ping", id="x" * LIMIT_ID_BYTES), -32600, "absent", "LIMIT_ID_BYTES")
    kt.eq("ids/an id of LIMIT_ID_BYTES is fine", (s.req("ping", id="y" * (LIMIT_ID_BYTES - 2)) or {}).get("result"), {})

    # lines: limits, resync, CRLF, blanks
    over = b'{"jsonrpc":"2.0","id":1,"method":"ping","pad":"' + b"x" * LIMIT_LINE_BYTES + b'"}\n'
    s.send_raw(over)
    r = s.recv(timeout=5)
    check_error("lines/a line over LIMIT_LINE_BYTES is -32600 naming it, id left out", r, -32600, "absent",
                "LIMIT_LINE_BYTES")
    kt.check("lines/...answered once", s.nothing(0.2))
    kt.eq("lines/the next line after an oversize one is answered", (s.req("ping", id="after") or {}).get("id"), "after")
    t0 = time.monotonic()
    s.send_raw(b"[" * (8 * LIMIT_LINE_BYTES) + b"\n")
    r = s.recv(timeout=10)
    check_error("lines/an 8 MiB line is refused once and skipped", r, -32600, "absent", "LIMIT_LINE_BYTES")
    kt.check("lines/...quickly", time.monotonic() - t0 < 3 * SLOW, f"{time.monotonic() - t0:.2f}s")
    r = s.call({"page": 0}, id="good")
    kt.check("lines/a good call right after is answered", is_tool_error(r, "page must") and r.get("id") == "good", repr(r))
    exact = b'{"jsonrpc":"2.0","id":"exact","method":"ping"}'
    exact = exact + b" " * (LIMIT_LINE_BYTES - len(exact))
    s.send_raw(exact + b"\r\n")
    kt.eq("lines/a line of exactly LIMIT_LINE_BYTES (plus CRLF) is accepted", (s.recv(timeout=5) or {}).get("id"), "exact")
    s.send_raw(b'{"jsonrpc":"2.0","id":"crlf","method":"ping"}\r\n')
    kt.eq("lines/CRLF is tolerated", (s.recv() or {}).get("id"), "crlf")
    s.send_raw(b"\n\r\n   \n\t\n")
    kt.check("lines/blank lines are ignored", s.nothing())
    s.send_raw(b'{"jsonrpc":"2.0","id":"a","method":"ping"}\n{"jsonrpc":"2.0","id":"b","method":"ping"}\n')
    kt.eq("lines/two requests in one write, answered in order", [(s.recv() or {}).get("id"), (s.recv() or {}).get("id")],
          ["a", "b"])
    s.send_raw(b'{"jsonrpc":"2.0","id":"sp')
    time.sleep(0.05)
    s.send_raw(b'lit","method":"ping"}\n')
    kt.eq("lines/a request split across writes", (s.recv() or {}).get("id"), "split")

    # nesting and token limits
    deep = '{"jsonrpc":"2.0","id":"deep","method":"ping","params":{"x":' + "[" * 62 + "]" * 62 + "}}"
    kt.eq("limits/nesting of 64 levels is accepted", (s.send(deep), s.recv())[1].get("id"), "deep")
    deeper = '{"jsonrpc":"2.0","id":"d","method":"ping","params":{"x":' + "[" * 63 + "]" * 63 + "}}"
    check_error("limits/nesting of 65 levels is -32600 naming LIMIT_JSON_DEPTH", (s.send(deeper), s.recv())[1], -32600,
                "absent", "LIMIT_JSON_DEPTH")
    many = '{"jsonrpc":"2.0","id":1,"method":"ping","params":{"x":[' + ",".join(["0"] * 70000) + "]}}"
    check_error("limits/more tokens than LIMIT_JSON_TOKENS is -32600 naming it", (s.send(many), s.recv())[1], -32600,
                "absent", "LIMIT_JSON_TOKENS")

    for i in range(5):
        s.note("notifications/progress", {"progressToken": i, "progress": i})
    r = s.req("ping", id="after-notes")
    kt.check("notify/interleaved notifications get nothing, the ping its answer",
             r is not None and r.get("id") == "after-notes" and s.nothing(0.2), repr(r))
    r = s.req("tools/list")
    kt.check("recover/after all that bad input tools/list still works",
             ((r or {}).get("result") or {}).get("tools", [{}])[0].get("name") == "list_tasks")
    s.send_raw(b'{"jsonrpc":"2.0","id":"last","method":"ping"}')  # no newline: the end of input ends it
    rc, _ = s.close()
    kt.check("lines/a last line without newline is answered at EOF", (s.recv(1) or {}).get("id") == "last")
    kt.eq("exit/status 0 after bad input", rc, 0)


def batches():
    s = Server(FAKE, ["--serve"], clean_env(KLING_API_KEY="k"))
    s.init("2025-03-26")
    s.send([{"jsonrpc": "2.0", "id": 1, "method": "ping"},
            {"jsonrpc": "2.0", "method": "notifications/initialized"},
            {"jsonrpc": "2.0", "id": 2, "method": "tools/list"},
            5,
            {"jsonrpc": "2.0", "id": 3, "method": "nope"}])
    r = s.recv()
    ok = isinstance(r, list) and len(r) == 4 and [x.get("id") for x in r] == [1, 2, None, 3]
    kt.check("batch/2025-03-26: one array, notifications left out, errors inside", ok, repr(r)[:300])
    if ok:
        kt.check("batch/elements: ping, tools/list, -32600, -32601",
                 r[0]["result"] == {} and r[1]["result"]["tools"][0]["name"] == "list_tasks" and
                 r[2]["error"]["code"] == -32600 and "id" not in r[2] and r[3]["error"]["code"] == -32601, repr(r)[:300])
    else:
        kt.skip("batch/elements: ping, tools/list, -32600, -32601", "the answer was not the 4-element array (above)")
    s.send([{"jsonrpc": "2.0", "method": "notifications/initialized"}])
    kt.check("batch/only notifications: no answer at all", s.nothing())
    check_error("batch/empty array is -32600 under 2025-03-26 too", (s.send("[]"), s.recv())[1], -32600)
    s.send([{"jsonrpc": "2.0", "id": i, "method": "ping"} for i in range(LIMIT_BATCH_REQUESTS + 1)])
    check_error("batch/more than LIMIT_BATCH_REQUESTS is -32600 naming it", s.recv(), -32600, "absent",
                "LIMIT_BATCH_REQUESTS")
    s.send([{"jsonrpc": "2.0", "id": "slowcall", "method": "tools/call",
             "params": {"name": "list_tasks", "arguments": {"cursor": "delay:%d" % (300 * SLOW), "page_size": 1}}},
            {"jsonrpc": "2.0", "id": "p", "method": "ping"}])
    kt.check("batch/a batch holding a call waits for it", s.nothing(0.1))
    r = s.recv(timeout=3)
    ok = isinstance(r, list) and sorted(str(x.get("id")) for x in r) == ["p", "slowcall"]
    kt.check("batch/...then answers everything in one array", ok, repr(r)[:300])
    call = next((x for x in r if x.get("id") == "slowcall"), {}) if ok else {}
    kt.check("batch/2025-03-26 results carry structuredContent too (older clients ignore it)",
             "content" in call.get("result", {}) and "structuredContent" in call.get("result", {}), repr(call)[:200])
    s.send([{"jsonrpc": "2.0", "id": "c1", "method": "tools/call",
             "params": {"name": "list_tasks", "arguments": {"cursor": "slow"}}}])
    s.note("notifications/cancelled", {"requestId": "c1"})
    kt.check("batch/a batch whose only call is cancelled sends nothing", s.nothing(0.3))
    kt.eq("batch/the server goes on", (s.req("ping", id="z") or {}).get("result"), {})
    s.close()


def modern():
    s = Server()
    r = s.req("server/discover")
    res = (r or {}).get("result") or {}
    kt.check("2026/server/discover lists supported versions, newest first",
             res.get("supportedVersions", [None])[0] == "2026-07-28" and "2025-11-25" in res.get("supportedVersions", []) and
             "2024-11-05" in res.get("supportedVersions", []), repr(res)[:300])
    kt.check("2026/server/discover: capabilities, resultType, cache hints",
             res.get("capabilities") == {"tools": {"listChanged": False},
                                         "extensions": {"io.modelcontextprotocol/tasks": {}}} and
             res.get("resultType") == "complete" and
             isinstance(res.get("ttlMs"), int) and res["ttlMs"] >= 0 and res.get("cacheScope") in ("public", "private"),
             repr(res)[:300])
    si = res.get("_meta", {}).get("io.modelcontextprotocol/serverInfo", {})
    kt.check("2026/server/discover: _meta serverInfo name and version", si.get("name") == "kling-mcp" and si.get("version"),
             repr(res.get("_meta")))
    kt.eq("2026/a client may fall back to initialize after discover", ((s.init() or {}).get("result") or {}).get(
        "protocolVersion"), "2025-11-25")
    s.close()

    s = Server()
    r = s.req("tools/list", {"_meta": MODERN})
    res = (r or {}).get("result") or {}
    kt.check("2026/tools/list with per-request _meta: tools, resultType, ttlMs, cacheScope",
             res.get("tools", [{}])[0].get("name") == "list_tasks" and res.get("resultType") == "complete" and
             isinstance(res.get("ttlMs"), int) and res.get("cacheScope") in ("public", "private"), repr(res)[:200])
    kt.check("2026/tools carry outputSchema and annotations", "outputSchema" in res.get("tools", [{}])[0] and
             "annotations" in res.get("tools", [{}])[0])
    check_error("2026/missing protocolVersion is -32602", s.req("tools/list", {"_meta": {
        "io.modelcontextprotocol/clientCapabilities": {}}}), -32602, s.next_id, "protocolVersion")
    check_error("2026/missing _meta is -32602", s.req("tools/list", {}), -32602, s.next_id)
    check_error("2026/missing clientCapabilities is -32602", s.req("tools/list", {"_meta": {
        "io.modelcontextprotocol/protocolVersion": "2026-07-28"}}), -32602, s.next_id, "clientCapabilities")
    r = s.req("tools/list", {"_meta": {"io.modelcontextprotocol/protocolVersion": "2099-01-01",
                                       "io.modelcontextprotocol/clientCapabilities": {}}})
    e = error_of(r)
    kt.check("2026/unsupported version is -32022 with data.supported and data.requested",
             e.get("code") == -32022 and "2026-07-28" in e.get("data", {}).get("supported", []) and
             e.get("data", {}).get("requested") == "2099-01-01" and r.get("id") == s.next_id, repr(r))
    check_error("2026/ping does not exist there", s.req("ping", {"_meta": MODERN}), -32601, s.next_id)
    check_error("2026/initialize does not exist there", s.req("initialize", {"_meta": MODERN}), -32601, s.next_id)
    check_error("2026/unknown method is -32601 before any _meta check", s.req("x/y", {}), -32601, s.next_id)
    r = s.call({"page": 0}, meta=MODERN)
    kt.check("2026/an argument error is an isError with resultType complete",
             is_tool_error(r, "page must") and r["result"].get("resultType") == "complete", repr(r))
    r = s.req("server/discover", {"_meta": MODERN})
    kt.eq("2026/server/discover inside the flow", ((r or {}).get("result") or {}).get("resultType"), "complete")
    check_error("2026/batches are refused", s.send([{"jsonrpc": "2.0", "id": 1, "method": "tools/list",
                                                     "params": {"_meta": MODERN}}]) or s.recv(), -32600)
    s.close()

    s = Server()
    r = s.req("tools/list", {"_meta": {"io.modelcontextprotocol/protocolVersion": "2030-01-01",
                                       "io.modelcontextprotocol/clientCapabilities": {}}})
    kt.eq("2026/a first request with an unsupported version is -32022", error_of(r).get("code"), -32022)
    kt.eq("2026/...and does not lock the flow: initialize still works",
          ((s.init() or {}).get("result") or {}).get("protocolVersion"), "2025-11-25")
    s.close()

    s = Server()
    r = s.req("server/discover", {"_meta": {"io.modelcontextprotocol/protocolVersion": "2030-01-01",
                                            "io.modelcontextprotocol/clientCapabilities": {}}})
    kt.eq("2026/server/discover asking an unknown version is -32022", error_of(r).get("code"), -32022)
    s.close()

    s = Server(FAKE, ["--serve"], clean_env(KLING_API_KEY="k"))
    r = s.call({"page_size": 2}, meta=MODERN)
    res = (r or {}).get("result") or {}
    kt.check("2026/a call result has structuredContent and resultType complete",
             res.get("resultType") == "complete" and res.get("structuredContent", {}).get("page_size") == 2, repr(r)[:300])
    s.close()


def calls():
    env = clean_env(KLING_API_KEY="k", KLING_TIMEOUT_MS="400")
    s = Server(FAKE, ["--serve"], env)
    s.init("2025-06-18")
    r = s.call({"page_size": 4})
    res = (r or {}).get("result") or {}
    sc = res.get("structuredContent") or {}
    kt.check("result/text block in the seed's layout",
             text_of(r).startswith("Kling AI Task List (Page 1):\n\nTotal Tasks: 137\n\nTasks:\n\n1. Task ID: task-1-1\n"
                                   "   Type: text2video\n   Status: succeed\n   Created: 2026-11-29T03:20:00.000Z"), text_of(r)[:300])
    kt.check("result/the text tells how to get the next page", 'cursor "page:2"' in text_of(r), text_of(r)[-200:])
    kt.check("result/structuredContent fields", sc.get("backend") == "tasks" and sc.get("page") == 1 and
             sc.get("page_size") == 4 and sc.get("total") == 137 and sc.get("has_more") is True and
             sc.get("next_cursor") == "page:2" and len(sc.get("tasks", [])) == 4, repr(sc)[:300])
    tasks = sc.get("tasks") or [{}, {}, {}, {}]
    kt.eq("result/unicode, quotes, backslashes, newline and tab survive exactly; a control shows as \\u0001",
          tasks[1].get("status_message"), NASTY.replace("\x01", "\\u0001"))
    kt.check("result/optional fields left out, never empty",
             "updated_at" not in tasks[1] and "model_name" not in tasks[2] and "status_message" not in tasks[2] and
             all(v != "" for t in tasks for v in t.values()), repr(tasks)[:300])
    kt.eq("result/a failed task's message is in the text on one line",
          "   Failure: Fehler: \"quota\" \\ \u00fcberschritten  tab\\u0001 \u2014" in text_of(r), True)
    r2 = s.call({"cursor": "page:14", "page_size": 10})
    sc2 = ((r2 or {}).get("result") or {}).get("structuredContent") or {}
    kt.check("result/the last page has no next_cursor", sc2.get("has_more") is False and "next_cursor" not in sc2 and
             "More tasks" not in text_of(r2), repr(sc2)[:200])
    r = s.call({"status": "failed", "page_size": 3})
    kt.check("result/the status filter reaches the backend",
             [t.get("status") for t in (((r or {}).get("result") or {}).get("structuredContent") or {}).get("tasks", [])]
             == ["failed"] * 3)
    kt.check("result/answered from the loop (async)", (s.call({"cursor": "async", "page_size": 1}) or {}).get(
        "result", {}).get("structuredContent", {}).get("page_size") == 1)
    r = s.call({"cursor": "error"})
    kt.check("result/a backend error text becomes the isError text", is_tool_error(r, "1102", "req-\"42\""), text_of(r))
    r = s.call({"cursor": "bad"})
    kt.check("result/an unusable backend result is an isError, not a crash", is_tool_error(r, "unusable result"),
             text_of(r))
    r = s.call({"cursor": "huge"}, timeout=10)
    kt.check("result/a result over LIMIT_RESPONSE_BYTES becomes an isError naming it",
             is_tool_error(r, "LIMIT_RESPONSE_BYTES"), text_of(r)[:200])

    # cancellation
    s.send({"jsonrpc": "2.0", "id": "c1", "method": "tools/call",
            "params": {"name": "list_tasks", "arguments": {"cursor": "slow"}}})
    kt.eq("cancel/ping is answered while a call runs", (s.req("ping", id="p1") or {}).get("id"), "p1")
    check_error("cancel/an id in use by a running call is -32600", s.call({"cursor": "slow"}, id="c1"), -32600, "c1",
                "already")
    s.note("notifications/cancelled", {"requestId": "c1", "reason": "user"})
    s.note("notifications/cancelled", {"requestId": "never-sent"})
    s.note("notifications/cancelled", {"requestId": 12345})
    kt.check("cancel/a cancelled call is never answered", s.nothing(0.6))
    kt.check("cancel/...and its backend operation was cancelled", "fake-backend: cancelled slow" in s.stderr(), s.stderr())
    kt.eq("cancel/the id can be used again afterwards", (s.call({"page": 0}, id="c1") or {}).get("id"), "c1")

    # deadline
    t0 = time.monotonic()
    r = s.call({"cursor": "slow"}, id="late", timeout=3)
    took = time.monotonic() - t0
    kt.check("deadline/a call past KLING_TIMEOUT_MS is an isError naming it",
             is_tool_error(r, "400 ms", "KLING_TIMEOUT_MS") and r.get("id") == "late", repr(r))
    kt.check("deadline/...at about the deadline", 0.35 < took < 1.5 * SLOW, f"{took:.2f}s")
    s.close()

    # concurrency: 4 run, the rest wait in order
    s = Server(FAKE, ["--serve"], clean_env(KLING_API_KEY="k"))
    s.init("2025-06-18")
    for i in range(7):
        s.send({"jsonrpc": "2.0", "id": i, "method": "tools/call",
                "params": {"name": "list_tasks", "arguments": {"cursor": "delay:150", "page_size": 1}}})
    got = [s.recv(timeout=3) for _ in range(7)]
    running = []
    for r in got:
        try:
            running.append(int(r["result"]["structuredContent"]["tasks"][0]["status_message"].split("=")[1]))
        except (KeyError, IndexError, TypeError, ValueError):
            running.append(99)
    kt.check("concurrency/at most LIMIT_CONCURRENT_CALLS run at once", max(running) <= LIMIT_CONCURRENT_CALLS and
             len(got) == 7, repr(running))
    kt.check("concurrency/waiting calls start in arrival order",
             [r.get("id") for r in got if r][:LIMIT_CONCURRENT_CALLS] == [0, 1, 2, 3] and
             sorted(r.get("id") for r in got if r) == list(range(7)), repr([r.get("id") for r in got if r]))
    s.send({"jsonrpc": "2.0", "id": "slowfirst", "method": "tools/call",
            "params": {"name": "list_tasks", "arguments": {"cursor": "delay:300", "page_size": 1}}})
    kt.eq("concurrency/answers may overtake a slow call", (s.req("ping", id="fast") or {}).get("id"), "fast")
    kt.eq("concurrency/...which answers later", (s.recv(timeout=3) or {}).get("id"), "slowfirst")

    total = LIMIT_CONCURRENT_CALLS + LIMIT_QUEUED_CALLS
    for i in range(total):
        s.send({"jsonrpc": "2.0", "id": "q%d" % i, "method": "tools/call",
                "params": {"name": "list_tasks", "arguments": {"cursor": "slow"}}})
    r = s.call({"cursor": "slow"}, id="one-too-many")
    kt.check("queue/beyond LIMIT_QUEUED_CALLS waiting is an isError naming the limit",
             is_tool_error(r, "LIMIT_QUEUED_CALLS") and r.get("id") == "one-too-many", repr(r)[:300])
    kt.check("queue/a bad argument is still reported first when the queue is full",
             is_tool_error(s.call({"page": 0}), "page must"))
    s.note("notifications/cancelled", {"requestId": "q70"})  # not sent: ignored
    s.note("notifications/cancelled", {"requestId": "q67"})  # a waiting one
    kt.check("queue/cancelling a waiting call answers nothing", s.nothing(0.3))
    rc, took = terminate(s)
    s._drain(0.2)
    kt.check("exit/SIGTERM with 67 calls in flight exits 0 promptly, dropping them", rc == 0 and took < 1.0 * SLOW,
             f"rc={rc} {took:.2f}s")
    kt.eq("exit/...and answers none of them", [x for x in s.lines[-3:] if b'"q' in x], [])
    kt.check("exit/...after cancelling every running one",
             s.stderr().count("fake-backend: cancelled slow") == LIMIT_CONCURRENT_CALLS, s.stderr()[-300:])


def terminate(s):
    """SIGTERM to the server: (exit status or None if it had to be killed, seconds it took)."""
    t0 = time.monotonic()
    s.p.send_signal(signal.SIGTERM)
    try:
        rc = s.p.wait(2 * SLOW)
    except subprocess.TimeoutExpired:
        s.p.kill()
        rc = None
    return rc, time.monotonic() - t0


def signals_and_output():
    s = Server()
    s.init()
    time.sleep(0.05)
    rc, took = terminate(s)
    kt.check("exit/SIGTERM while idle exits promptly with 0", rc == 0 and took < 1 * SLOW, f"rc={rc}")

    s = Server(FAKE, ["--serve"], clean_env(KLING_API_KEY="k", KLING_LOG_LEVEL="debug"))
    s.init()
    s.call({"page_size": 3})
    s.req("nope")
    s.send("junk")
    s.recv()
    s.close()
    kt.check("output/with debug logging stdout still holds only JSON lines",
             not bad_stdout and len(s.lines) == 4, repr(s.lines[:5]))
    kt.check("output/logs go to stderr", "kling-mcp: info:" in s.stderr(), s.stderr()[:200])


def backpressure():
    """A client that writes many requests and reads nothing for a while: the
    server queues, stops reading past half of LIMIT_STDOUT_BACKLOG, and once
    the client reads, every answer arrives complete and in order."""
    s = Server()
    s.init()
    n = 3000  # ~3.5 KB per tools/list answer: ~10 MB, past the pause threshold
    data = b"".join(b'{"jsonrpc":"2.0","id":%d,"method":"tools/list"}\n' % i for i in range(n))
    fd = s.p.stdin.fileno()

    def writer():
        os.set_blocking(fd, True)
        try:
            for i in range(0, len(data), 65536):
                os.write(fd, data[i:i + 65536])
        except OSError:
            pass

    th = threading.Thread(target=writer)
    th.start()
    time.sleep(0.5 * SLOW)  # read nothing meanwhile
    ids = []
    deadline = time.monotonic() + 20 * SLOW
    while len(ids) < n and time.monotonic() < deadline:
        r = s.recv(timeout=5)
        if r is None:
            break
        ids.append(r.get("id"))
    th.join(5)
    kt.check("backpressure/every answer arrives, complete and in order, after the client starts reading",
             ids == list(range(n)), f"{len(ids)} answers, first wrong at "
             f"{next((i for i, x in enumerate(ids) if x != i), None)}")
    rc, _ = s.close()
    kt.eq("backpressure/exit 0", rc, 0)

    s = Server()
    s.init()
    s.p.stdout.close()
    os.write(s.p.stdin.fileno(), b'{"jsonrpc":"2.0","id":1,"method":"tools/list"}\n')
    try:
        rc = s.p.wait(3 * SLOW)
    except subprocess.TimeoutExpired:
        s.p.kill()
        rc = None
    kt.check("exit/a client that closed our stdout ends the server (no SIGPIPE death)", rc == 0, f"rc={rc}")


def main():
    kt.plan(178)
    if not os.path.exists(FAKE):
        kt.fail("setup", f"{FAKE} is missing (make builds it)")
        kt.done()
    # One part raising (an answer of an unexpected shape) is a FAIL, and the
    # next parts still run; the runner then reports the checks that did not.
    for part in (lifecycle, tools_list, tools_call_product, errors_and_framing, batches, modern, calls,
                 backpressure, signals_and_output):
        try:
            part()
        except Exception as e:  # noqa: BLE001 - reported, then the next part
            import traceback
            traceback.print_exc()
            kt.fail(f"{part.__name__}/ran to its end", f"raised {type(e).__name__}: {e}")
    kt.check("output/every stdout line of every run was one JSON object or array", not bad_stdout, repr(bad_stdout[:3]))
    kt.done()


if __name__ == "__main__":
    main()

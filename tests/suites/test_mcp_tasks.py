#!/usr/bin/env python3
"""get_task as an MCP task over stdio, driven by a raw client written from the
specifications: the 2025-11-25 form (the tasks capability, execution.taskSupport,
CreateTaskResult, tasks/get, tasks/result held until the task ends, tasks/cancel,
progress on the original token after the task was created), the 2026-07-28
io.modelcontextprotocol/tasks extension (advertised in server/discover, a task
only when the request declares it and the Kling task is not finished, tasks/get
with the result inline, update and cancel acknowledged, result and list -32601,
-32021 without the declaration, ids that a second process sharing
KLING_MCP_TASK_KEY resolves and that forged ids, another key or other
credentials do not), and subscriptions/listen (acknowledged with an empty set,
held open, cancelled by the client, capped, answered "complete" on SIGTERM).
Against the mock Kling API's live tasks; the stateless form also across two
--listen processes sharing the key. Prints PLAN first."""
import json
import os
import signal
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
import kt  # noqa: E402
import harness  # noqa: E402
from harness import Stack, text_of  # noqa: E402
from listen import Listener, request_bytes  # noqa: E402
import re  # noqa: E402

kt.plan(63)

KEY = "tasks-api-key-0123456789"
TASK_KEY = "shared-task-key-0123456789abcdef"
V26 = "2026-07-28"
EXT = "io.modelcontextprotocol/tasks"


def live(s, steps):
    return s.mock._do("POST", "/_mock/live_task", {"steps": steps})["task_id"]


def pending(s):
    return live(s, [{"after_ms": 0, "status": "processing"}])


def succeeds_after(s, ms):
    if ms == 0:
        return live(s, [{"after_ms": 0, "status": "succeed"}])
    return live(s, [{"after_ms": 0, "status": "processing"}, {"after_ms": ms, "status": "succeed"}])


class Client:
    """One stdio process; every line kept, answers by id."""

    def __init__(self, env):
        self.p = harness.McpProc(env)
        self.lines = []  # everything received, in order
        self.answers = {}

    def send(self, msg):
        self.p.send(msg)

    def req(self, method, params=None):
        rid = self.p.next_id
        self.p.next_id += 1
        m = {"jsonrpc": "2.0", "id": rid, "method": method}
        if params is not None:
            m["params"] = params
        self.send(m)
        return rid

    def pump(self, until, timeout=20):
        deadline = time.monotonic() + timeout
        while not until() and time.monotonic() < deadline:
            m = self.p.recv(max(0.05, deadline - time.monotonic()))
            if m is None:
                break
            self.lines.append(m)
            if isinstance(m, dict) and "id" in m and "method" not in m:
                self.answers[m["id"]] = m
        return until()

    def answer(self, rid, timeout=20):
        self.pump(lambda: rid in self.answers, timeout)
        return self.answers.get(rid)

    def call(self, method, params=None, timeout=20):
        return self.answer(self.req(method, params), timeout)

    def close(self):
        return self.p.close()


def result(a):
    return (a or {}).get("result") or {}


def err(a):
    return (a or {}).get("error") or {}


def modern(extra=None, declare=True):
    caps = {"extensions": {EXT: {}}} if declare else {}
    meta = {"io.modelcontextprotocol/protocolVersion": V26, "io.modelcontextprotocol/clientCapabilities": caps}
    return dict(extra or {}, _meta=meta)


def sc(r):
    return (r or {}).get("structuredContent") or {}


# --------------------------------------------------------------------------- 2025-11-25

def form_a(s):
    c = Client(s.env)
    try:
        init = c.call("initialize", {"protocolVersion": "2025-11-25", "capabilities": {},
                                     "clientInfo": {"name": "raw", "version": "1"}})
        c.send({"jsonrpc": "2.0", "method": "notifications/initialized"})
        caps = result(init).get("capabilities", {})
        kt.check("2025/initialize declares tasks {cancel, requests.tools.call}, no list",
                 caps.get("tasks") == {"cancel": {}, "requests": {"tools": {"call": {}}}}, json.dumps(caps))
        tools = {t["name"]: t for t in result(c.call("tools/list")).get("tools", [])}
        kt.check("2025/tools/list: get_task taskSupport optional, list_tasks none",
                 tools.get("get_task", {}).get("execution") == {"taskSupport": "optional"}
                 and "execution" not in tools.get("list_tasks", {}), json.dumps(tools)[:300])
        kt.check("2025/get_task's description: long waits may outlast the client, prefer the task form",
                 "task" in tools.get("get_task", {}).get("description", "")
                 and "outlast" in tools.get("get_task", {}).get("description", ""),
                 tools.get("get_task", {}).get("description", ""))

        tid = succeeds_after(s, 2500)
        rid = c.req("tools/call", {"name": "get_task", "arguments": {"task_id": tid, "wait_seconds": 60},
                                   "task": {"ttl": 1000}, "_meta": {"progressToken": "tok-7"}})
        created = c.answer(rid)
        task = result(created).get("task") or {}
        kt.check("2025/tools/call with params.task: CreateTaskResult at once (working, kta- id, ttl outlasts the "
                 "300 s wait, pollInterval)",
                 task.get("status") == "working" and str(task.get("taskId", "")).startswith("kta-")
                 and task.get("ttl", 0) > 300000 and task.get("pollInterval", 0) > 0
                 and task.get("createdAt") and task.get("lastUpdatedAt"), json.dumps(created))
        task_id = task.get("taskId", "")
        got = result(c.call("tasks/get", {"taskId": task_id}))
        kt.check("2025/tasks/get while waiting: working, a flat Task with the same id",
                 got.get("status") == "working" and got.get("taskId") == task_id and "ttl" in got, json.dumps(got))
        held = c.req("tasks/result", {"taskId": task_id})
        at_create = len(c.lines)
        c.pump(lambda: held in c.answers, 30)
        res = result(c.answers.get(held))
        kt.check("2025/tasks/result held until the task ended: get_task's own result, finished, with the "
                 "related-task _meta",
                 sc(res).get("finished") is True and sc(res).get("task", {}).get("task_id") == tid
                 and res.get("_meta", {}).get("io.modelcontextprotocol/related-task") == {"taskId": task_id},
                 json.dumps(res)[:400])
        prog = [m for m in c.lines[at_create:] if isinstance(m, dict) and m.get("method") == "notifications/progress"]
        kt.check("2025/progress goes on with the original token after CreateTaskResult",
                 len(prog) >= 1 and all(p["params"]["progressToken"] == "tok-7" for p in prog),
                 json.dumps(c.lines[at_create:])[:400])
        after = c.lines[c.lines.index(c.answers[held]) + 1:] if c.answers.get(held) in c.lines else []
        c.pump(lambda: False, 1.5)
        late = [m for m in c.lines[len(c.lines) - len(after):] if m.get("method") == "notifications/progress"]
        kt.check("2025/no progress once the task ended", not late, json.dumps(late)[:300])
        done = result(c.call("tasks/get", {"taskId": task_id}))
        kt.check("2025/tasks/get after: completed, lastUpdatedAt set",
                 done.get("status") == "completed" and done.get("lastUpdatedAt"), json.dumps(done))
        again = result(c.call("tasks/result", {"taskId": task_id}))
        kt.check("2025/tasks/result again: the same result at once", sc(again) == sc(res), json.dumps(again)[:300])

        # cancel a task that never finishes
        ptid = pending(s)
        t2 = result(c.call("tools/call", {"name": "get_task", "arguments": {"task_id": ptid, "wait_seconds": 120},
                                          "task": {}})).get("task", {}).get("taskId", "")
        held2 = c.req("tasks/result", {"taskId": t2})
        can = c.call("tasks/cancel", {"taskId": t2})
        kt.check("2025/tasks/cancel: the task answered cancelled", result(can).get("status") == "cancelled",
                 json.dumps(can))
        r2 = c.answer(held2, 10)
        kt.check("2025/a tasks/result held on it is answered: isError, cancelled",
                 result(r2).get("isError") is True and "cancelled" in text_of(result(r2)), json.dumps(r2))
        kt.check("2025/tasks/get after cancel: cancelled",
                 result(c.call("tasks/get", {"taskId": t2})).get("status") == "cancelled")
        kt.check("2025/cancelling an ended task: -32602",
                 err(c.call("tasks/cancel", {"taskId": t2})).get("code") == -32602)
        kt.check("2025/an unknown task id: -32602",
                 err(c.call("tasks/get", {"taskId": "kta-AAAAAAAAAAAAAAAAAAAAAA"})).get("code") == -32602)
        kt.check("2025/list_tasks as a task: -32601 (taskSupport forbidden)",
                 err(c.call("tools/call", {"name": "list_tasks", "arguments": {}, "task": {}})).get("code") == -32601)
        kt.check("2025/tasks/list: -32601 (not declared)", err(c.call("tasks/list", {})).get("code") == -32601)
        plain = result(c.call("tools/call", {"name": "get_task", "arguments": {"task_id": tid}}))
        kt.check("2025/a plain call is unchanged (a CallToolResult, no task)",
                 sc(plain).get("finished") is True and "task" not in plain, json.dumps(plain)[:300])

        # the per-session cap
        ids = []
        for _ in range(20):
            a = c.call("tools/call", {"name": "get_task", "arguments": {"task_id": ptid, "wait_seconds": 120},
                                      "task": {}})
            if err(a):
                refused = err(a)
                break
            ids.append(result(a)["task"]["taskId"])
        else:
            refused = {}
        kt.check("2025/at most LIMIT_SESSION_TASKS (16) tasks per session, then refused naming it",
                 len(ids) == 14 and "LIMIT_SESSION_TASKS" in refused.get("message", ""),  # 16 with the first two
                 f"{len(ids)} {refused}")
        # end of input with tasks still waiting: the process does not wait for them
        t0 = time.monotonic()
        rc, _ = c.close()
        kt.check("2025/end of input: exits without waiting for the tasks' waits (120 s)",
                 rc == 0 and time.monotonic() - t0 < 60, f"rc={rc}")
    finally:
        if c.p.proc.poll() is None:
            c.p.proc.kill()

    old = Client(s.env)
    init = old.call("initialize", {"protocolVersion": "2025-06-18", "capabilities": {},
                                   "clientInfo": {"name": "raw", "version": "1"}})
    tools = result(old.call("tools/list")).get("tools", [])
    kt.check("2025-06-18: no tasks capability, no execution, tasks/get -32601",
             "tasks" not in result(init).get("capabilities", {}) and all("execution" not in t for t in tools)
             and err(old.call("tasks/get", {"taskId": "x"})).get("code") == -32601)
    a = old.call("tools/call", {"name": "get_task", "arguments": {"task_id": succeeds_after(s, 0)}, "task": {}})
    kt.check("2025-06-18: params.task ignored (a plain result)", "content" in result(a), json.dumps(a)[:300])
    old.close()


# --------------------------------------------------------------------------- 2026-07-28

def form_b(s):
    env = dict(s.env, KLING_MCP_TASK_KEY=TASK_KEY)
    c = Client(env)
    other = Client(env)
    stranger = Client(dict(env, KLING_MCP_TASK_KEY="a-different-key-0123456789"))
    wrong_cred = Client(dict(env, KLING_API_KEY="another-api-key-0123456789"))
    try:
        disc = result(c.call("server/discover", modern()))
        kt.check("2026/server/discover advertises the tasks extension",
                 disc.get("capabilities", {}).get("extensions") == {EXT: {}}, json.dumps(disc)[:300])
        tid = succeeds_after(s, 3000)
        rid = c.req("tools/call", modern({"name": "get_task", "arguments": {"task_id": tid, "wait_seconds": 60}}))
        c.p.send({"jsonrpc": "2.0", "id": "ping-after", "method": "tools/list", "params": modern()})
        t = result(c.answer(rid))
        kt.check("2026/declaring tools/call, task not finished: CreateTaskResult (resultType task, ktb- id, "
                 "ttlMs, pollIntervalMs)",
                 t.get("resultType") == "task" and t.get("status") == "working"
                 and str(t.get("taskId", "")).startswith("ktb-") and t.get("ttlMs", 0) > 300000
                 and t.get("pollIntervalMs", 0) > 0 and "task" not in t, json.dumps(t))
        c.answer("ping-after")
        kt.check("2026/no progress notifications for the task",
                 not [m for m in c.lines if m.get("method") == "notifications/progress"])
        task_id = t.get("taskId", "")
        g = result(c.call("tasks/get", modern({"taskId": task_id})))
        kt.check("2026/tasks/get while working: DetailedTask working, no result, resultType complete",
                 g.get("status") == "working" and "result" not in g and g.get("resultType") == "complete"
                 and g.get("taskId") == task_id, json.dumps(g))
        # a second process sharing the key resolves it (stateless)
        deadline = time.monotonic() + 30
        while True:
            g2 = result(other.call("tasks/get", modern({"taskId": task_id})))
            if g2.get("status") != "working" or time.monotonic() > deadline:
                break
            time.sleep(0.5)
        inner = g2.get("result") or {}
        kt.check("2026/tasks/get on another process sharing KLING_MCP_TASK_KEY: completed, result inline",
                 g2.get("status") == "completed" and sc(inner).get("finished") is True
                 and sc(inner).get("task", {}).get("task_id") == tid, json.dumps(g2)[:400])
        kt.check("2026/the inline result carries no related-task _meta",
                 "io.modelcontextprotocol/related-task" not in json.dumps(g2))
        kt.check("2026/a process with another key: -32602",
                 err(stranger.call("tasks/get", modern({"taskId": task_id}))).get("code") == -32602)
        kt.check("2026/a process with other Kling credentials: -32602",
                 err(wrong_cred.call("tasks/get", modern({"taskId": task_id}))).get("code") == -32602)
        forged = task_id[:-2] + ("AA" if not task_id.endswith("AA") else "BB")
        kt.check("2026/a forged id: -32602",
                 err(c.call("tasks/get", modern({"taskId": forged}))).get("code") == -32602)
        kt.check("2026/the conformance suite's nonexistent id: -32602",
                 err(c.call("tasks/get", modern({"taskId": "tasks-conformance-nonexistent-12345"}))).get("code") == -32602)
        up = result(c.call("tasks/update", modern({"taskId": task_id, "inputResponses": {}})))
        cn = result(c.call("tasks/cancel", modern({"taskId": task_id})))
        kt.check("2026/tasks/update and tasks/cancel acknowledged ({resultType: complete})",
                 up == {"resultType": "complete"} and cn == {"resultType": "complete"}, f"{up} {cn}")
        kt.check("2026/tasks/result and tasks/list: -32601 even when declaring",
                 err(c.call("tasks/result", modern({"taskId": task_id}))).get("code") == -32601
                 and err(c.call("tasks/list", modern({}))).get("code") == -32601)
        nd = err(c.call("tasks/get", modern({"taskId": task_id}, declare=False)))
        kt.check("2026/tasks/get without declaring the extension: -32021 with requiredCapabilities",
                 nd.get("code") == -32021
                 and nd.get("data", {}).get("requiredCapabilities", {}).get("extensions") == {EXT: {}}, json.dumps(nd))
        kt.check("2026/tasks/update and cancel without declaring: -32021",
                 err(c.call("tasks/update", modern({"taskId": task_id}, declare=False))).get("code") == -32021
                 and err(c.call("tasks/cancel", modern({"taskId": task_id}, declare=False))).get("code") == -32021)
        fin = result(c.call("tools/call", modern({"name": "get_task", "arguments": {"task_id": tid, "wait_seconds": 30}})))
        kt.check("2026/declaring, but the task already finished: the plain CallToolResult",
                 fin.get("resultType") == "complete" and sc(fin).get("finished") is True, json.dumps(fin)[:300])
        ptid = pending(s)
        nodecl = result(c.call("tools/call", modern({"name": "get_task", "arguments": {"task_id": ptid, "wait_seconds": 2}},
                                                    declare=False)))
        kt.check("2026/not declaring: today's result after the wait (finished false)",
                 nodecl.get("resultType") == "complete" and sc(nodecl).get("finished") is False, json.dumps(nodecl)[:300])
        legacy = result(c.call("tools/call", modern({"name": "get_task", "arguments": {"task_id": ptid, "wait_seconds": 1},
                                                     "task": {}}, declare=False)))
        kt.check("2026/a legacy params.task is ignored", legacy.get("resultType") == "complete", json.dumps(legacy)[:200])
        # the wait's end: a task past it reads as completed (not finished) without waiting for Kling
        pt = result(c.call("tools/call", modern({"name": "get_task", "arguments": {"task_id": ptid, "wait_seconds": 2}})))
        time.sleep(2.5)
        late = result(c.call("tasks/get", modern({"taskId": pt.get("taskId", "")})))
        kt.check("2026/tasks/get after the wait's end: completed, the task as it is (finished false)",
                 late.get("status") == "completed" and sc(late.get("result")).get("finished") is False, json.dumps(late)[:300])
    finally:
        for x in (c, other, stranger, wrong_cred):
            x.close()


# --------------------------------------------------------------------------- subscriptions/listen

def listen(s):
    c = Client(s.env)
    try:
        lid = c.req("subscriptions/listen", modern({"notifications": {"toolsListChanged": True}}, declare=False))
        c.pump(lambda: any(m.get("method") == "notifications/subscriptions/acknowledged" for m in c.lines), 10)
        ack = next((m for m in c.lines if m.get("method") == "notifications/subscriptions/acknowledged"), {})
        kt.check("listen/acknowledged first, empty notifications set, subscriptionId = the request id",
                 ack.get("params", {}).get("notifications") == {}
                 and ack.get("params", {}).get("_meta", {}).get("io.modelcontextprotocol/subscriptionId") == lid,
                 json.dumps(ack))
        r = c.call("tools/list", modern())
        kt.check("listen/the stream stays open (no answer) while other requests are served",
                 "tools" in result(r) and lid not in c.answers)
        more = [c.req("subscriptions/listen", modern({"notifications": {}})) for _ in range(4)]
        c.pump(lambda: more[-1] in c.answers, 10)
        kt.check("listen/at most LIMIT_SESSION_LISTENS (4) open per client, then -32603 naming it",
                 [x in c.answers for x in more] == [False, False, False, True]
                 and "LIMIT_SESSION_LISTENS" in err(c.answers.get(more[-1])).get("message", ""),
                 json.dumps([c.answers.get(x) for x in more]))
        c.send({"jsonrpc": "2.0", "method": "notifications/cancelled", "params": {"requestId": more[0]}})
        again = c.req("subscriptions/listen", modern({"notifications": {}}))
        c.pump(lambda: False, 1.0)
        kt.check("listen/cancelled by the client: not answered, and its place is free again",
                 more[0] not in c.answers and again not in c.answers)
        tk = c.call("subscriptions/listen", modern({"notifications": {"taskIds": ["x"]}}, declare=False))
        kt.check("listen/taskIds without the tasks extension: -32021", err(tk).get("code") == -32021, json.dumps(tk))
        c.p.proc.send_signal(signal.SIGTERM)
        open_ids = [lid, more[1], more[2], again]
        c.pump(lambda: all(x in c.answers for x in open_ids), 15)
        ends = [result(c.answers.get(x)) for x in open_ids]
        kt.check("listen/SIGTERM: every open stream answered resultType complete with its subscriptionId",
                 all(e.get("resultType") == "complete"
                     and e.get("_meta", {}).get("io.modelcontextprotocol/subscriptionId") == x
                     for e, x in zip(ends, open_ids)), json.dumps(ends))
        rc = c.p.proc.wait(15)
        kt.check("listen/then exit 0", rc == 0, f"rc={rc}")
    finally:
        if c.p.proc.poll() is None:
            c.p.proc.kill()
        c.close()


# --------------------------------------------------------------------------- 2026 over HTTP, two listeners

def http_replicas(s):
    """The stateless form over --listen: a task made by one listener is read on
    another sharing KLING_MCP_TASK_KEY (no state is kept in either)."""
    env = dict(s.env, KLING_MCP_TASK_KEY=TASK_KEY)
    decl = {"io.modelcontextprotocol/clientCapabilities": {"extensions": {EXT: {}}}}
    a, b = Listener(env), Listener(env)
    try:
        tid = succeeds_after(s, 3000)
        r = a.post2026("tools/call", {"name": "get_task", "arguments": {"task_id": tid, "wait_seconds": 60},
                                      "_meta": decl}, name="get_task")
        t = r.json().get("result", {}) if r.status == 200 else {}
        kt.check("http/2026 declaring tools/call on listener A: a task", r.status == 200 and t.get("resultType") == "task",
                 repr(r)[:300])
        got, deadline = {}, time.monotonic() + 30
        while time.monotonic() < deadline:
            g = b.post2026("tasks/get", {"taskId": t.get("taskId", ""), "_meta": decl}, rid=2, name=t.get("taskId", ""))
            got = g.json().get("result", {}) if g.status == 200 else {}
            if got.get("status") != "working":
                break
            time.sleep(0.5)
        kt.check("http/2026 tasks/get on listener B (same key): completed with the result inline",
                 got.get("status") == "completed" and sc(got.get("result")).get("finished") is True, json.dumps(got)[:300])
        nd = b.post2026("tasks/get", {"taskId": t.get("taskId", "")}, rid=3, name=t.get("taskId", ""))
        kt.check("http/2026 tasks/get without the declaration: -32021 (HTTP 400)",
                 nd.status == 400 and nd.json().get("error", {}).get("code") == -32021, repr(nd)[:300])
        tid2 = t.get("taskId", "")
        wrong = b.post2026("tasks/get", {"taskId": tid2, "_meta": decl}, rid=4, name="not-" + tid2)
        kt.check("http/2026 tasks/get with Mcp-Name not its taskId: -32020 (HTTP 400), id echoed",
                 wrong.status == 400 and wrong.json().get("error", {}).get("code") == -32020
                 and wrong.json().get("id") == 4, repr(wrong)[:300])
        miss = b.post2026("tasks/cancel", {"taskId": tid2, "_meta": decl}, rid=5)
        kt.check("http/2026 tasks/cancel without Mcp-Name: -32020 (HTTP 400)",
                 miss.status == 400 and miss.json().get("error", {}).get("code") == -32020, repr(miss)[:300])
        up = b.post2026("tasks/update", {"taskId": tid2, "inputResponses": {}, "_meta": decl}, rid=6, name=tid2)
        kt.check("http/2026 tasks/update with Mcp-Name = taskId: acknowledged (resultType complete)",
                 up.status == 200 and up.json().get("result", {}).get("resultType") == "complete", repr(up)[:300])
        gone = b.post2026("tasks/result", {"taskId": tid2, "_meta": decl}, rid=7)
        kt.check("http/2026 tasks/result: -32601 with HTTP 404",
                 gone.status == 404 and gone.json().get("error", {}).get("code") == -32601, repr(gone)[:300])
    finally:
        a.stop()
        b.stop()


# --------------------------------------------------------------------------- subscriptions/listen over HTTP

LISTEN_BODY = {"notifications": {"toolsListChanged": True}}


class Stream:
    """A subscriptions/listen POST whose SSE reply is read as it comes."""

    def __init__(self, srv, rid, accept=None):
        self.sock, self.buf = srv.connect(), b""
        p = modern(LISTEN_BODY, declare=False)
        h = {"MCP-Protocol-Version": V26, "Mcp-Method": "subscriptions/listen"}
        if accept:
            h["Accept"] = accept
        body = json.dumps({"jsonrpc": "2.0", "id": rid, "method": "subscriptions/listen", "params": p}).encode()
        self.sock.sendall(request_bytes("POST", "/mcp", h, body, srv.port))

    def wait(self, pred, timeout):
        deadline = time.monotonic() + timeout
        self.sock.settimeout(0.2)
        while not pred(self) and time.monotonic() < deadline:
            try:
                d = self.sock.recv(65536)
            except OSError:
                continue
            if not d:
                break
            self.buf += d
        return pred(self)

    def events(self):
        return [json.loads(x) for x in re.findall(rb"data: (\{.*?\})\n\n", self.buf)]

    def close(self):
        self.sock.close()


def http_listen(s):
    """subscriptions/listen on a 2026-07-28 POST: the ack as the first SSE event,
    the stream held open with keep-alive comments, capped (LIMIT_LISTENS), its
    place freed when the client closes it, answered "complete" on SIGTERM. Runs
    the short-timer build (keep-alive every 300 ms: a closed stream is seen at
    once)."""
    short = os.environ.get("KLING_MCP_SHORT") or os.path.join(os.path.dirname(kt.binary()), "short", "kling-mcp")
    names = ["http-listen/ack first (empty notifications, subscriptionId = id), then held open with keep-alives",
             "http-listen/other requests served meanwhile", "http-listen/at most LIMIT_LISTENS (32): -32603 naming it",
             "http-listen/streams closed by the client free their places",
             "http-listen/SIGTERM: every open stream answered complete with its subscriptionId, ended, exit 0",
             "http-listen/a client that takes no SSE: -32601 (HTTP 404)",
             "server-info/a build with PROJECT_URL and PROJECT_ICON: websiteUrl and icons from 2025-11-25 on, not before",
             "server-info/the product (built without them): no websiteUrl, no icons",
             "http-session/a 2025 session holding a working task outlives its idle time (1.5 s here)"]
    if not os.access(short, os.X_OK):
        for n in names:
            kt.skip(n, "no short-timer build (make test builds it)")
        return
    srv = Listener(s.env, binary=short)
    streams = []
    try:
        first = Stream(srv, 100)
        streams.append(first)
        first.wait(lambda x: x.buf.count(b": keepalive") >= 2, 5)
        ev = first.events()
        ack = ev[0] if ev else {}
        kt.check(names[0], b" 200 " in first.buf.split(b"\r\n")[0] and b"text/event-stream" in first.buf
                 and len(ev) == 1 and ack.get("method") == "notifications/subscriptions/acknowledged"
                 and ack.get("params", {}).get("notifications") == {}
                 and ack["params"].get("_meta", {}).get("io.modelcontextprotocol/subscriptionId") == 100
                 and first.buf.count(b": keepalive") >= 2, first.buf[:400])
        r = srv.post2026("tools/list", rid=2)
        kt.check(names[1], r.status == 200 and "tools" in r.json().get("result", {}), repr(r)[:200])
        for i in range(31):
            streams.append(Stream(srv, 101 + i))
        for x in streams:
            x.wait(lambda y: y.events(), 5)
        over = Stream(srv, 200)
        over.wait(lambda y: y.events(), 5)
        oe = over.events()
        kt.check(names[2], all(len(x.events()) == 1 for x in streams) and len(oe) == 1
                 and oe[0].get("error", {}).get("code") == -32603 and "LIMIT_LISTENS" in oe[0]["error"].get("message", ""),
                 json.dumps(oe)[:300])
        over.close()
        for x in streams[16:]:
            x.close()
        del streams[16:]
        time.sleep(1.5)  # a few keep-alives: the closed streams are seen gone
        fresh = [Stream(srv, 300 + i) for i in range(16)]
        for x in fresh:
            x.wait(lambda y: y.events(), 5)
        streams += fresh
        kt.check(names[3], all(x.events() and x.events()[0].get("method") == "notifications/subscriptions/acknowledged"
                               for x in fresh), json.dumps([x.events() for x in fresh])[:300])
        sid, _ = srv.initialize()
        call = {"name": "get_task", "arguments": {"task_id": pending(s), "wait_seconds": 60}, "task": {}}
        made = srv.post({"jsonrpc": "2.0", "id": 2, "method": "tools/call", "params": call}, sid=sid)
        tid = made.json().get("result", {}).get("task", {}).get("taskId", "")
        time.sleep(3.5)  # two idle times and more: every sweep saw the session idle
        g = srv.post({"jsonrpc": "2.0", "id": 3, "method": "tasks/get", "params": {"taskId": tid}}, sid=sid)
        kt.check(names[8], tid and g.status == 200 and g.json().get("result", {}).get("status") == "working",
                 f"{made!r:.200} {g!r:.300}")
        srv.post({"jsonrpc": "2.0", "id": 4, "method": "tasks/cancel", "params": {"taskId": tid}}, sid=sid)
        srv.proc.send_signal(signal.SIGTERM)
        ok = True
        for x in streams:
            x.wait(lambda y: len(y.events()) >= 2 and y.buf.endswith(b"0\r\n\r\n"), 10)
            e = x.events()
            rid = e[0].get("params", {}).get("_meta", {}).get("io.modelcontextprotocol/subscriptionId") if e else None
            ok = ok and len(e) == 2 and e[1].get("id") == rid and e[1].get("result", {}).get("resultType") == "complete" \
                and e[1]["result"].get("_meta", {}).get("io.modelcontextprotocol/subscriptionId") == rid \
                and x.buf.endswith(b"0\r\n\r\n")
        rc, _ = srv.stop()
        kt.check(names[4], ok and rc == 0, f"rc={rc} {streams[0].buf[-300:]!r}")
        srv = Listener(s.env, binary=short)
        j = Stream(srv, 400, accept="application/json")
        j.wait(lambda y: b"\r\n\r\n" in y.buf and b"}" in y.buf, 5)
        kt.check(names[5], b" 404 " in j.buf.split(b"\r\n")[0] and b"-32601" in j.buf, j.buf[:300])
        j.close()
        infos = [srv.initialize(v)[1].json().get("result", {}).get("serverInfo", {}) for v in ("2025-11-25",
                                                                                          "2025-06-18")]
        infos.append(srv.post2026("server/discover").json().get("result", {}).get("_meta", {})
                     .get("io.modelcontextprotocol/serverInfo", {}))
        want = {"websiteUrl": "https://kling-mcp.invalid/", "icons": [{"src": "https://kling-mcp.invalid/icon.png"}]}
        kt.check(names[6], all(infos[i].get(k) == want[k] for i in (0, 2) for k in want)
                 and not any(k in infos[1] for k in want) and infos[1].get("name") == "kling-mcp", json.dumps(infos))
        prod = Listener(s.env)
        try:
            pi = [prod.initialize("2025-11-25")[1].json().get("result", {}).get("serverInfo", {}),
                  prod.post2026("server/discover").json().get("result", {}).get("_meta", {})
                  .get("io.modelcontextprotocol/serverInfo", {})]
        finally:
            prod.stop()
        kt.check(names[7], all(p.get("name") == "kling-mcp" and "websiteUrl" not in p and "icons" not in p for p in pi),
                 json.dumps(pi))
    finally:
        for x in streams:
            x.close()
        srv.stop()


with Stack(api_key=KEY, start_mcp=False) as s:
    form_a(s)
    form_b(s)
    listen(s)
    http_replicas(s)
    http_listen(s)
kt.done()

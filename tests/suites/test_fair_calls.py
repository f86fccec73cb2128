#!/usr/bin/env python3
"""Fair calls: get_task waits never keep plain calls from being admitted or
from running, a look-up that fails or hangs in the middle of a wait is
counted and the wait goes on, and a stop (SIGTERM) ends every wait at once
with the task as last seen. Through the real binary against the mock Kling
API, over stdio and over --listen (stateless 2026-07-28 requests and a 2025
session); the small wait pool of build/short/kling-mcp (LIMIT_WAITS=8) for
the pool-full answer.

No timing assertions: "not delayed" is shown by a plain call answered (not
refused, not timed out behind the waits) while every wait is still
unanswered, with KLING_TIMEOUT_MS short enough that a call queued behind the
waits would have been answered with an error. Prints PLAN first."""
import json
import os
import signal
import sys
import threading
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
import kt  # noqa: E402
import harness  # noqa: E402
from harness import Stack, text_of  # noqa: E402
from limits import limit  # noqa: E402
from listen import Listener  # noqa: E402

kt.plan(21)

KEY = "fair-api-key-0123456789"
SLOW = 4.0 if os.environ.get("SANITIZE") == "1" else 1.0  # sanitizer builds run several times slower
TIMEOUT_MS = str(int(2000 * SLOW))
NWAITS = limit("LIMIT_CALL_SLOTS") + 2  # more than the call slots: stateless waits used to fill them
SESSION_CALLS = limit("LIMIT_LISTEN_SESSION_CALLS")  # a 2025 session's share of the wait pool
SHORT_WAITS = 8  # LIMIT_WAITS of build/short/kling-mcp


def sc(res):
    return (res or {}).get("structuredContent") or {}


def live_pending(s):
    """A live task of the mock that never finishes: every wait on it runs to its end."""
    return s.mock._do("POST", "/_mock/live_task", {"steps": [{"after_ms": 0, "status": "processing"}]})["task_id"]


def lookups_of(s, tid):
    return s.mock._do("GET", f"/_mock/live_task?task_id={tid}").get("lookups", 0)


def wait_until(cond, timeout=30):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if cond():
            return True
        time.sleep(0.05)
    return cond()


def short_binary():
    b = os.environ.get("KLING_MCP_SHORT") or os.path.join(os.path.dirname(kt.binary()), "short", "kling-mcp")
    return b if os.path.exists(b) else None


class Stdio:
    """tools/call over one stdio process, answers kept by id."""

    def __init__(self, env, argv=None):
        self.mcp = harness.McpProc(env, argv)
        self.mcp.initialize()
        self.answers = {}
        self.progress = []

    def start(self, name, args, token=None):
        rid = self.mcp.next_id
        self.mcp.next_id += 1
        params = {"name": name, "arguments": args}
        if token is not None:
            params["_meta"] = {"progressToken": token}
        self.mcp.send({"jsonrpc": "2.0", "id": rid, "method": "tools/call", "params": params})
        return rid

    def pump(self, until, timeout=20):
        deadline = time.monotonic() + timeout
        while not until() and time.monotonic() < deadline:
            m = self.mcp.recv(max(0.05, deadline - time.monotonic()))
            if m is None:
                break
            if "id" in m and "method" not in m:
                self.answers[m["id"]] = m.get("result", m.get("error"))
            elif m.get("method") == "notifications/progress":
                self.progress.append(m["params"])
        return until()

    def result(self, rid, timeout=20):
        self.pump(lambda: rid in self.answers, timeout)
        return self.answers.get(rid)


# --------------------------------------------------------------------------- stdio

def stdio_waits(s):
    tid = live_pending(s)
    c = Stdio(s.env)
    try:
        waits = [c.start("get_task", {"task_id": tid, "wait_seconds": 60}) for _ in range(4)]
        wait_until(lambda: lookups_of(s, tid) >= 4, 10)
        plain = c.start("list_tasks", {"page_size": 1})
        r = c.result(plain, 15)
        early = [w for w in waits if w in c.answers]
        kt.check("stdio/4 waiting get_task calls: a plain list_tasks answers while they wait",
                 r is not None and not r.get("isError") and not early, f"{text_of(r)[:300]} answered waits {early}")
        # SIGTERM: every wait answers at once with the task as last seen, then exit 0
        c.mcp.proc.send_signal(signal.SIGTERM)
        c.pump(lambda: all(w in c.answers for w in waits), 15)
        got = [c.answers.get(w) for w in waits]
        kt.check("stdio/SIGTERM during waits: each answered finished:false, saying kling-mcp is stopping",
                 all(g and not g.get("isError") and sc(g).get("finished") is False
                     and sc(g).get("task", {}).get("task_id") == tid and "stopping" in text_of(g) for g in got),
                 json.dumps(got)[:400])
        try:
            rc = c.mcp.proc.wait(15)
        except Exception:  # noqa: BLE001
            rc = None
        kt.eq("stdio/SIGTERM during waits: exit 0", rc, 0)
    finally:
        c.mcp.close()


def stdio_lookup_faults(s):
    tid = live_pending(s)
    c = Stdio(s.env)
    try:
        # a look-up that hangs in the middle of the wait: cut at KLING_TIMEOUT_MS, counted, the wait goes on
        s.mock.reset()
        rid = c.start("get_task", {"task_id": tid, "wait_seconds": 5}, token="h")
        c.pump(lambda: len(c.progress) >= 1, 10)
        s.mock.fault(mode="hang", count=-1, path_prefix="/tasks", seconds=30)
        r = c.result(rid, 30)
        s.mock.reset()
        kt.check("stdio/a look-up hangs mid-wait: finished:false with the task as last seen, not an error",
                 r and not r.get("isError") and sc(r).get("finished") is False
                 and sc(r).get("task", {}).get("status") == "processing", json.dumps(r)[:400])
        n = sc(r).get("failed_lookups")
        kt.check("stdio/...the failed look-ups counted in structuredContent and the text",
                 isinstance(n, int) and n >= 1 and f"{n} later look-up" in text_of(r) and "timeout" in text_of(r).lower(),
                 f"{n} {text_of(r)[:400]}")
        # a look-up that fails (Kling error) mid-wait: counted, and the next one answers
        c.progress.clear()
        rid = c.start("get_task", {"task_id": tid, "wait_seconds": 4}, token="f")
        c.pump(lambda: len(c.progress) >= 1, 10)
        s.mock.fault(mode="kling_error", http=500, code=5000, message="mock server error", path_prefix="/tasks",
                     count=3)
        r = c.result(rid, 30)
        s.mock.reset()
        kt.check("stdio/a look-up fails mid-wait: counted, the wait goes on to its end",
                 r and not r.get("isError") and sc(r).get("finished") is False and sc(r).get("failed_lookups", 0) >= 1
                 and "5000" in text_of(r), json.dumps(r)[:400])
        # the first look-up failing is still an error: nothing was ever seen
        s.mock.fault(mode="kling_error", http=400, code=1201, message="mock parameter error", path_prefix="/tasks")
        r = c.result(c.start("get_task", {"task_id": tid, "wait_seconds": 30}), 30)
        kt.check("stdio/the first look-up fails: isError with the code", r and r.get("isError") is True
                 and "1201" in text_of(r) and "structuredContent" not in r, json.dumps(r)[:300])
        s.mock.fault(mode="hang", path_prefix="/tasks", seconds=30)
        r = c.result(c.start("get_task", {"task_id": tid, "wait_seconds": 30}), 45)
        s.mock.reset()
        kt.check("stdio/the first look-up hangs: isError (a timeout naming KLING_TIMEOUT_MS)",
                 r and r.get("isError") is True and "KLING_TIMEOUT_MS" in text_of(r), json.dumps(r)[:300])
        # SIGTERM while a later look-up hangs: the task as last seen, at once (the look-up is stopped)
        c.progress.clear()
        rid = c.start("get_task", {"task_id": tid, "wait_seconds": 60}, token="t")
        c.pump(lambda: len(c.progress) >= 1, 10)
        s.mock.fault(mode="hang", count=-1, path_prefix="/tasks", seconds=30)
        wait_until(lambda: any(q.get("fault") == "hang" for q in s.mock.requests()), 15)
        c.mcp.proc.send_signal(signal.SIGTERM)
        r = c.result(rid, 10)
        s.mock.reset()
        kt.check("stdio/SIGTERM while a later look-up hangs: answered finished:false, as last seen, saying so",
                 r and not r.get("isError") and sc(r).get("finished") is False
                 and sc(r).get("task", {}).get("status") == "processing" and "stopping" in text_of(r), json.dumps(r)[:400])
        try:
            rc = c.mcp.proc.wait(10)
        except Exception:  # noqa: BLE001
            rc = None
        kt.eq("stdio/...then exit 0", rc, 0)
    finally:
        c.mcp.close()


def stdio_pool_full(s):
    b = short_binary()
    names = ["pool/the small pool's waits kept, one more answered at once finished:false naming LIMIT_WAITS "
             "with the server's numbers",
             "pool/...and plain calls are still admitted and answered beside the full pool"]
    if not b:
        for n in names:
            kt.skip(n, "no short build (make test builds build/short/kling-mcp; KLING_MCP_SHORT names it)")
        return
    tid = live_pending(s)
    c = Stdio(s.env, [b])
    try:
        waits = [c.start("get_task", {"task_id": tid, "wait_seconds": 60}) for _ in range(SHORT_WAITS)]
        wait_until(lambda: lookups_of(s, tid) >= SHORT_WAITS, 10)
        extra = c.start("get_task", {"task_id": tid, "wait_seconds": 60})
        r = c.result(extra, 15)
        kt.check(names[0], r and not r.get("isError") and sc(r).get("finished") is False
                 and f"{SHORT_WAITS} get_task calls are waiting in this server, for all its clients, of at most "
                 f"{SHORT_WAITS} (LIMIT_WAITS)" in text_of(r) and not any(w in c.answers for w in waits),
                 text_of(r)[:400])
        plain = [c.start("list_tasks", {"page_size": 1}) for _ in range(8)]
        got = [c.result(p, 15) for p in plain]
        kt.check(names[1], all(g and not g.get("isError") for g in got) and not any(w in c.answers for w in waits),
                 json.dumps([text_of(g)[:120] for g in got])[:400])
    finally:
        c.mcp.close()


# --------------------------------------------------------------------------- --listen

def answer_of(resp):
    """The JSON-RPC answer in an HTTP reply (JSON or SSE)."""
    if resp is None:
        return None
    if "text/event-stream" in resp.headers.get("content-type", ""):
        ev = [e for e in resp.events() if "id" in e and "method" not in e]
        return ev[-1] if ev else None
    try:
        return resp.json()
    except ValueError:
        return None


def result_of(resp):
    a = answer_of(resp)
    return None if a is None else a.get("result", a.get("error"))


def listen(s):
    tid = live_pending(s)
    srv = Listener(s.env)
    replies, lock = {}, threading.Lock()

    def run(key, fn):
        def go():
            try:
                r = fn()
            except Exception as e:  # noqa: BLE001 (the check names what came back)
                r = e
            with lock:
                replies[key] = r
        t = threading.Thread(target=go, daemon=True)
        t.start()
        return t

    def stateless_wait(i):
        return srv.post2026("tools/call", {"name": "get_task", "arguments": {"task_id": tid, "wait_seconds": 60}},
                            rid=i, name="get_task", timeout=60)

    threads = []
    try:
        sid, _ = srv.initialize()
        for i in range(4):
            body = {"jsonrpc": "2.0", "id": i + 1, "method": "tools/call",
                    "params": {"name": "get_task", "arguments": {"task_id": tid, "wait_seconds": 60}}}
            threads.append(run(f"session-{i}", lambda b=body: srv.post(b, sid=sid, timeout=60)))
        wait_until(lambda: lookups_of(s, tid) >= 4, 10)
        r = result_of(srv.post2026("tools/call", {"name": "list_tasks", "arguments": {"page_size": 1}}, rid=100,
                                   name="list_tasks", timeout=15))
        kt.check("listen/4 waits of a 2025 session: a stateless list_tasks answers while they wait",
                 r is not None and not r.get("isError") and not replies, f"{json.dumps(r)[:300]} {list(replies)}")
        r = result_of(srv.post({"jsonrpc": "2.0", "id": 101, "method": "tools/call",
                                "params": {"name": "list_tasks", "arguments": {"page_size": 1}}}, sid=sid, timeout=15))
        kt.check("listen/...and the session's own list_tasks too", r is not None and not r.get("isError")
                 and not replies, f"{json.dumps(r)[:300]} {list(replies)}")

        for i in range(NWAITS):
            threads.append(run(f"stateless-{i}", lambda i=i: stateless_wait(1000 + i)))
        all_in = wait_until(lambda: lookups_of(s, tid) >= 4 + NWAITS, 30)
        kt.check(f"listen/{NWAITS} stateless waits all admitted and waiting (each made its first look-up)",
                 all_in and not replies, f"{lookups_of(s, tid)} look-ups, answered early: {list(replies)[:5]}")
        got = [result_of(srv.post2026("tools/call", {"name": "list_tasks", "arguments": {"page_size": 1}}, rid=200 + k,
                                      name="list_tasks", timeout=15)) for k in range(3)]
        got.append(result_of(srv.post({"jsonrpc": "2.0", "id": 300, "method": "tools/call",
                                       "params": {"name": "list_tasks", "arguments": {"page_size": 1}}},
                                      sid=sid, timeout=15)))
        kt.check(f"listen/beside {NWAITS + 4} waits, plain calls (stateless and in the session) are admitted and answered",
                 all(g is not None and not g.get("isError") for g in got) and not replies,
                 json.dumps([text_of(g)[:150] for g in got])[:500])

        t0 = time.monotonic()
        rc, err = srv.stop(signal.SIGTERM, timeout=20)
        for t in threads:
            t.join(max(0.1, 20 - (time.monotonic() - t0)))
        res = {k: (None if isinstance(v, Exception) else result_of(v)) for k, v in replies.items()}
        bad = {k: (str(replies[k])[:120] if v is None else text_of(v)[:120]) for k, v in res.items()
               if not v or v.get("isError") or sc(v).get("finished") is not False or "stopping" not in text_of(v)}
        kt.check(f"listen/SIGTERM: all {NWAITS + 4} waits answered finished:false, saying kling-mcp is stopping",
                 len(res) == NWAITS + 4 and not bad, f"{len(res)} answered; {json.dumps(bad)[:400]}")
        kt.check("listen/SIGTERM: exit 0, nothing dropped", rc == 0 and "dropped" not in err, f"{rc} {err[-300:]}")
    finally:
        if srv.proc.poll() is None:
            srv.stop(signal.SIGKILL)


def listen_session_share(s):
    """A 2025 session's share of the wait pool is its cap (LIMIT_LISTEN_SESSION_CALLS): the wait after them
    is answered at once naming it; a plain call of the session is still admitted."""
    tid = live_pending(s)
    srv = Listener(s.env)
    replies, threads = {}, []
    try:
        sid, _ = srv.initialize()

        def go(i):
            body = {"jsonrpc": "2.0", "id": i, "method": "tools/call",
                    "params": {"name": "get_task", "arguments": {"task_id": tid, "wait_seconds": 60}}}
            try:
                replies[i] = srv.post(body, sid=sid, timeout=60)
            except Exception as e:  # noqa: BLE001
                replies[i] = e
        for i in range(SESSION_CALLS):
            threads.append(threading.Thread(target=go, args=(i + 1,), daemon=True))
            threads[-1].start()
        before = lookups_of(s, tid)
        wait_until(lambda: lookups_of(s, tid) >= SESSION_CALLS, 10)
        r = result_of(srv.post({"jsonrpc": "2.0", "id": 99, "method": "tools/call",
                                "params": {"name": "get_task", "arguments": {"task_id": tid, "wait_seconds": 60}}},
                               sid=sid, timeout=15))
        kt.check("listen/a session's wait past its cap: finished:false at once, naming LIMIT_LISTEN_SESSION_CALLS with "
                 "the session's numbers", r and not r.get("isError") and sc(r).get("finished") is False
                 and f"{SESSION_CALLS} get_task calls are waiting in this session, of at most {SESSION_CALLS} "
                 "(LIMIT_LISTEN_SESSION_CALLS)" in text_of(r) and not replies, f"{before} {text_of(r)[:400]}")
        r = result_of(srv.post({"jsonrpc": "2.0", "id": 98, "method": "tools/call",
                                "params": {"name": "list_tasks", "arguments": {"page_size": 1}}}, sid=sid, timeout=15))
        kt.check("listen/...and its plain call is admitted and answered", r and not r.get("isError"),
                 json.dumps(r)[:300])
        rc, err = srv.stop(signal.SIGTERM, timeout=20)
        for t in threads:
            t.join(20)
        kt.check("listen/SIGTERM ends the session's 16 waits: each answered, exit 0",
                 rc == 0 and len(replies) == 16 and all(not isinstance(v, Exception)
                                                        and sc(result_of(v)).get("finished") is False
                                                        for v in replies.values()), f"{rc} {len(replies)}")
    finally:
        if srv.proc.poll() is None:
            srv.stop(signal.SIGKILL)


def guarded(part, *args):
    try:
        part(*args)
    except Exception as e:  # a crash is one failure, and the other parts still run
        import traceback
        traceback.print_exc()
        kt.fail(f"suite/{getattr(part, '__name__', 'part')}", f"{type(e).__name__}: {e}")


def main():
    with Stack(api_key=KEY, start_mcp=False, env={"KLING_TIMEOUT_MS": TIMEOUT_MS}) as s:
        for part in (stdio_waits, stdio_lookup_faults, stdio_pool_full, listen, listen_session_share):
            guarded(part, s)
    kt.done()


if __name__ == "__main__":
    main()

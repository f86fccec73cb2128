#!/usr/bin/env python3
"""End to end: the get_task tool and `kling-mcp call`, through the real binary
against the mock Kling API over verified HTTPS.

For each backend and credential (API key -> tasks, AK/SK -> legacy, seed -> no
look-up): a task by id and by external id, unknown ids, both or neither id,
wait_seconds out of range (nothing sent for a refused argument), the wait on
a live task of the mock (submitted -> processing -> succeed on a schedule that
starts at its first look-up): it returns once the task is finished and not
before, one notifications/progress per poll when the request carried a
progressToken (strictly increasing, the message says the status) and none
without one, a wait that ends unfinished (finished:false, not an error),
cancellation (no answer, polling stops, ping answered at once), resource_link
blocks, structuredContent; `kling-mcp call` (text, --json, exit codes 0/1/2,
usage errors); the official SDK client calling get_task with onprogress.
Prints PLAN first: the number of checks a full run makes."""
import datetime
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
import kt  # noqa: E402
import harness  # noqa: E402
from harness import Stack, text_of  # noqa: E402
import fixture  # noqa: E402

kt.plan(110)

NOW = int(time.time() * 1000)
TASKS = fixture.make_tasks(NOW)
KEY, AK, SK = "gt-api-key-0123456789", "gt-access-key", "gt-secret-key-abcdef"
LEGACY_DEFAULT = ["videos/text2video", "videos/image2video", "videos/omni-video", "videos/video-extend",
                  "images/generations", "images/kolors-virtual-try-on"]
STATUS_ORDER = ["submitted", "processing", "succeed", "failed"]
MIME = {"mp4": "video/mp4", "png": "image/png", "mp3": "audio/mpeg"}
EXPECTED_STRUCT_KEYS = {"backend", "task", "finished", "waited_ms"}  # and failed_lookups when some failed


FIX = fixture.save(TASKS)
MOCK_ARGS = ["--fixture", FIX, "--now-ms", str(NOW)]

# fixture tasks the checks use (legacy look-ups search the default product set)
SUCCEED_VIDEO = next(t for t in TASKS if t["status"] == "succeed" and t["product"] == "videos/image2video"
                     and len(t["outputs"]) == 1 and "external_task_id" in t and "model_name" in t)
MULTI_IMAGE = next(t for t in TASKS if t["status"] == "succeed" and t["product"] == "images/generations"
                   and len(t["outputs"]) >= 2)
AUDIO = next(t for t in TASKS if any(o["type"] == "audio" for o in t["outputs"]))
FAILED = next(t for t in TASKS if t["status"] == "failed" and "\n" in t["status_message"])
PENDING = next(t for t in TASKS if t["status"] == "processing")
UNKNOWN = "404040404040404040"
FIXTURE_IDS = {t["task_id"] for t in TASKS}


def iso(ms):
    d = datetime.datetime.fromtimestamp(ms // 1000, datetime.timezone.utc)
    return d.strftime("%Y-%m-%dT%H:%M:%S") + ".%03dZ" % (ms % 1000)


def sc(res):
    return (res or {}).get("structuredContent") or {}


def links(res):
    return [c for c in (res or {}).get("content", []) if c.get("type") == "resource_link"]


def lookups(stack):
    """Requests the mock received, the control API aside."""
    return stack.mock.requests()


def is_error_naming(res, *words):
    t = text_of(res)
    return bool(res) and res.get("isError") is True and all(w in t for w in words)


def status_of(message):
    """The status word a progress message names (the longest match wins: 'succeed' in 'succeeded')."""
    found = [w for w in STATUS_ORDER if w in (message or "")]
    return found[-1] if found else None


class Calls:
    """tools/call on a harness.McpProc, keeping the notifications and their arrival times."""

    def __init__(self, mcp):
        self.mcp = mcp
        self.answers = {}  # answers read while waiting for another one

    def start(self, name, args, token=None, meta=None):
        rid = self.mcp.next_id
        self.mcp.next_id += 1
        params = {"name": name, "arguments": args}
        m = dict(meta or {})
        if token is not None:
            m["progressToken"] = token
        if m:
            params["_meta"] = m
        self.mcp.send({"jsonrpc": "2.0", "id": rid, "method": "tools/call", "params": params})
        return rid

    def collect(self, rid, timeout=30, until=None):
        """Read until the answer to rid (or `until(msg)` is true, or timeout).
        Returns (answer or None, [(t, message)], t_answer)."""
        seen, deadline = [], time.monotonic() + timeout
        if rid in self.answers:
            msg, now = self.answers.pop(rid)
            return msg, seen, now
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                return None, seen, None
            msg = self.mcp.recv(left)
            if msg is None:
                return None, seen, None
            now = time.monotonic()
            if "method" not in msg and "id" in msg:
                if msg["id"] == rid:
                    return msg, seen, now
                self.answers[msg["id"]] = (msg, now)
                continue
            seen.append((now, msg))
            if until and until(msg):
                return None, seen, None

    def call(self, name, args, token=None, timeout=30, meta=None):
        t0 = time.monotonic()
        rid = self.start(name, args, token, meta)
        ans, seen, t1 = self.collect(rid, timeout)
        res = None if ans is None else ans.get("result", ans.get("error"))
        return res, [m for _, m in seen if m.get("method") == "notifications/progress"], (t1 or time.monotonic()) - t0


def progress_ok(notes, token):
    """Every notification carries the token, progress strictly increases, each message names a status."""
    ps = [n.get("params", {}) for n in notes]
    return (all(p.get("progressToken") == token for p in ps)
            and all(isinstance(p.get("progress"), (int, float)) for p in ps)
            and all(b["progress"] > a["progress"] for a, b in zip(ps, ps[1:]))
            and all(status_of(p.get("message")) for p in ps))


def statuses(notes):
    return [status_of(n["params"].get("message")) for n in notes]


def in_order(seq):
    ranks = [STATUS_ORDER.index(s) for s in seq if s]
    return ranks == sorted(ranks)


def check_links(name, res, task_id, urls):
    got = links(res)
    ok = [g.get("uri") for g in got] == urls
    for g, u in zip(got, urls):
        ext = u.split("?")[0].rsplit(".", 1)[-1]
        want_name = f"{task_id}.{ext}" if sum(x.split("?")[0].endswith("." + ext) for x in urls) == 1 else None
        if g.get("mimeType") != MIME.get(ext) or not str(g.get("name", "")).startswith(task_id) \
                or not str(g.get("name", "")).endswith("." + ext) or (want_name and g.get("name") != want_name):
            ok = False
    kt.check(name, ok and len({g.get("name") for g in got}) == len(got), json.dumps(got)[:400])


def check_task(name, res, f, backend, type_word):
    """structuredContent.task and the text agree with the fixture task f."""
    s, t = sc(res), sc(res).get("task", {})
    bad = []
    if set(s) != EXPECTED_STRUCT_KEYS:
        bad.append(f"structuredContent keys {sorted(s)}")
    if s.get("backend") != backend:
        bad.append(f"backend {s.get('backend')}")
    for k, want in (("task_id", f["task_id"]), ("status", f["status"]), ("created_at", iso(f["created_at_ms"])),
                    ("external_task_id", f.get("external_task_id")), ("task_type", type_word)):
        if t.get(k) != want:
            bad.append(f"{k} {t.get(k)!r} != {want!r}")
    if f["status_message"] and t.get("status_message") != f["status_message"]:
        bad.append("status_message")
    want_urls = [o.get("url") or o.get("mp3_url") for o in f["outputs"]]
    if [o.get("url") for o in t.get("outputs", [])] != want_urls:
        bad.append(f"outputs {t.get('outputs')}")
    text = text_of(res)
    for piece in (f"Task ID: {f['task_id']}", f"Status: {f['status']}", f"Type: {type_word or 'N/A'}",
                  iso(f["created_at_ms"]), *want_urls):
        if piece not in text:
            bad.append(f"text lacks {piece!r}")
    kt.check(name, res and not res.get("isError") and not bad, "; ".join(bad[:4]) or text_of(res)[:300])


def live(stack, **spec):
    return stack.mock._do("POST", "/_mock/live_task", spec)


def live_state(stack, task_id):
    return stack.mock._do("GET", f"/_mock/live_task?task_id={task_id}")


# --------------------------------------------------------------------------- the tool's definition

def definition(s):
    tools = (s.mcp.request("tools/list") or {}).get("result", {}).get("tools", [])
    t = next((x for x in tools if x.get("name") == "get_task"), {})
    p = t.get("inputSchema", {}).get("properties", {})
    kt.check("list/get_task listed with its three arguments", set(p) == {"task_id", "external_task_id", "wait_seconds"}
             and not t.get("inputSchema", {}).get("required"), json.dumps(t)[:300])
    w = p.get("wait_seconds", {})
    kt.check("list/wait_seconds integer 0..300", w.get("type") == "integer" and w.get("minimum") == 0
             and w.get("maximum") == 300, json.dumps(w))
    o, a = t.get("outputSchema", {}), t.get("annotations", {})
    kt.check("list/outputSchema and read-only annotations",
             o.get("type") == "object" and EXPECTED_STRUCT_KEYS <= set(o.get("required", []))
             and a.get("readOnlyHint") is True and a.get("destructiveHint") is False
             and a.get("idempotentHint") is True and a.get("openWorldHint") is True, json.dumps(t)[:400])


# --------------------------------------------------------------------------- tasks backend (API key)

def tasks_lookups(s, c):
    f = SUCCEED_VIDEO
    s.mock.reset()
    r, notes, _ = c.call("get_task", {"task_id": f["task_id"]})
    check_task("tasks/by id: the task", r, f, "tasks", "video")
    kt.check("tasks/by id: finished, waited_ms 0", sc(r).get("finished") is True and sc(r).get("waited_ms") == 0,
             json.dumps(sc(r))[:200])
    req = lookups(s)
    kt.eq("tasks/by id: one GET /tasks?task_ids=", [(q["method"], q["path"], q["query"], q["auth"]) for q in req],
          [("GET", "/tasks", {"task_ids": f["task_id"]}, "api_key")])
    check_links("tasks/by id: one resource_link <id>.mp4 video/mp4", r, f["task_id"], [f["outputs"][0]["url"]])
    kt.eq("tasks/by id: no progress without a token", notes, [])
    kt.check("tasks/by id: text first, then the links", (r or {}).get("content", [{}])[0].get("type") == "text")

    s.mock.reset()
    r, _, _ = c.call("get_task", {"external_task_id": f["external_task_id"]})
    check_task("tasks/by external id: the task", r, f, "tasks", "video")
    kt.eq("tasks/by external id: GET /tasks?external_task_ids=", [q["query"] for q in lookups(s)],
          [{"external_task_ids": f["external_task_id"]}])

    r, _, _ = c.call("get_task", {"task_id": MULTI_IMAGE["task_id"]})
    check_task("tasks/images: the task, Type from the outputs", r, MULTI_IMAGE, "tasks", "image")
    n = len(MULTI_IMAGE["outputs"])
    kt.eq("tasks/images: one link per image, <id>_<k>.png", [(x.get("name"), x.get("mimeType")) for x in links(r)],
          [(f"{MULTI_IMAGE['task_id']}_{k}.png", "image/png") for k in range(n)])
    r, _, _ = c.call("get_task", {"task_id": AUDIO["task_id"]})
    check_links("tasks/video and audio: .mp4 and .mp3 links", r, AUDIO["task_id"],
                [o.get("url") or o.get("mp3_url") for o in AUDIO["outputs"]])
    r, _, _ = c.call("get_task", {"task_id": FAILED["task_id"]})
    check_task("tasks/failed: status and its message", r, FAILED, "tasks", None)
    kt.check("tasks/failed: finished, no links", sc(r).get("finished") is True and links(r) == [], json.dumps(r)[:300])
    r, _, _ = c.call("get_task", {"task_id": PENDING["task_id"]})
    kt.check("tasks/pending, no wait: finished false, not an error",
             r and not r.get("isError") and sc(r).get("finished") is False and sc(r).get("task", {}).get("status") == "processing"
             and sc(r).get("waited_ms") == 0 and "Type: N/A" in text_of(r), json.dumps(r)[:300])
    r, _, _ = c.call("get_task", {"task_id": f["task_id"], "external_task_id": None, "wait_seconds": None})
    kt.check("tasks/null means not given", r and not r.get("isError") and sc(r).get("task", {}).get("task_id")
             == f["task_id"], text_of(r)[:200])

    r, _, _ = c.call("list_tasks", {"status": "succeed", "page_size": 100})
    listed = sc(r).get("tasks", [])
    kt.check("tasks/list_tasks: Type from the outputs too (text and task_type), not N/A",
             listed and all(t.get("task_type") == t["outputs"][0]["type"] for t in listed)
             and "Type: N/A" not in text_of(r) and "Type: video" in text_of(r) and "Type: image" in text_of(r),
             text_of(r)[:300])

    s.mock.reset()
    t0 = time.monotonic()
    r, _, _ = c.call("get_task", {"task_id": UNKNOWN, "wait_seconds": 30})
    kt.check("tasks/unknown id: isError naming it, at once even with a wait",
             is_error_naming(r, UNKNOWN) and time.monotonic() - t0 < 3, text_of(r))
    kt.eq("tasks/unknown id: one look-up", len(lookups(s)), 1)
    r, _, _ = c.call("get_task", {"external_task_id": "no-such-ext-id"})
    kt.check("tasks/unknown external id: isError naming it", is_error_naming(r, "no-such-ext-id"), text_of(r))


def refusals(s, c):
    """Arguments refused before anything is sent."""
    tid = SUCCEED_VIDEO["task_id"]
    cases = [
        ("both ids", {"task_id": tid, "external_task_id": "x"}, ("task_id", "external_task_id")),
        ("neither id", {}, ("task_id", "external_task_id")),
        ("neither id, nulls", {"task_id": None, "external_task_id": None}, ("task_id", "external_task_id")),
        ("wait_seconds 301", {"task_id": tid, "wait_seconds": 301}, ("wait_seconds",)),
        ("wait_seconds -1", {"task_id": tid, "wait_seconds": -1}, ("wait_seconds",)),
        ("wait_seconds 2.5", {"task_id": tid, "wait_seconds": 2.5}, ("wait_seconds",)),
        ("wait_seconds a string", {"task_id": tid, "wait_seconds": "10"}, ("wait_seconds",)),
        ("task_id a number", {"task_id": 12345}, ("task_id",)),
        ("task_id empty", {"task_id": ""}, ("task_id",)),
        ("task_id with a slash", {"task_id": "1/../../account/costs"}, ("task_id",)),
        ("task_id with a comma", {"task_id": f"{tid},{MULTI_IMAGE['task_id']}"}, ("task_id",)),
        ("external_task_id with a space", {"external_task_id": "a b"}, ("external_task_id",)),
        ("task_id too long", {"task_id": "7" * 300}, ("task_id",)),
        ("unknown argument", {"task_id": tid, "wait": 5}, ("wait",)),
    ]
    s.mock.reset()
    for name, args, words in cases:
        r, _, _ = c.call("get_task", args)
        kt.check(f"refused/{name}: isError naming {', '.join(words)}", is_error_naming(r, *words), text_of(r))
    kt.eq("refused/nothing was sent for any of them", lookups(s), [])
    for w in (0, 300):
        r, _, dt = c.call("get_task", {"task_id": tid, "wait_seconds": w})
        kt.check(f"accepted/wait_seconds {w} on a finished task: at once", r and not r.get("isError")
                 and sc(r).get("finished") is True and dt < 3, text_of(r)[:200])


def waits(s, c):
    # the wait that sees the task finish, with a progress token
    lt = live(s, external_task_id="gt-live-1")
    tid = lt["task_id"]
    s.mock.reset()
    rid = c.start("get_task", {"task_id": tid, "wait_seconds": 30}, token="tok-1")
    first, seen, _ = c.collect(rid, 10, until=lambda m: m.get("method") == "notifications/progress")
    kt.check("wait/a first progress notification at the first poll", first is None and seen, str(seen)[:300])
    s.mcp.send({"jsonrpc": "2.0", "id": "ping-during-wait", "method": "ping"})
    pong, more, t_pong = c.collect("ping-during-wait", 2)
    kt.check("wait/ping answered at once while the call waits", pong is not None and pong.get("result") == {},
             str(pong))
    ans, rest, t_ans = c.collect(rid, 30)
    t_done = time.time()
    res = (ans or {}).get("result", {})
    notes = [m for _, m in seen + more + rest if m.get("method") == "notifications/progress"]
    state = live_state(s, tid)
    succeed_at = (state.get("clock_started_ms") or 0) / 1000 + 3.0
    task = sc(res).get("task", {})
    kt.check("wait/returns succeed, finished", not res.get("isError") and task.get("status") == "succeed"
             and sc(res).get("finished") is True, json.dumps(res)[:300])
    kt.check("wait/not before the task finished", t_done >= succeed_at - 0.05, f"{t_done - succeed_at:.3f} s")
    kt.check("wait/once it finished (within one back-off step)", t_done - succeed_at < 5.6,
             f"{t_done - succeed_at:.3f} s after")
    kt.check("wait/waited_ms covers the wait", 2900 <= sc(res).get("waited_ms", -1) <= 9000, str(sc(res)))
    kt.check("wait/progress: token, strictly increasing, message names the status", progress_ok(notes, "tok-1"),
             json.dumps([n.get("params") for n in notes])[:400])
    st = statuses(notes)
    kt.check("wait/progress: submitted, then processing, then succeed", in_order(st) and st[:1] == ["submitted"]
             and "processing" in st and st[-1] == "succeed", str(st))
    req = [q for q in lookups(s) if q["path"] == "/tasks"]
    kt.eq("wait/one notification per poll", len(notes), len(req))
    kt.check("wait/one kept-alive connection for every poll", len(req) >= 3 and len({q["conn_id"] for q in req}) == 1,
             str([q["conn_id"] for q in req]))
    gaps = [(b["time_ms"] - a["time_ms"]) / 1000 for a, b in zip(req, req[1:])]
    kt.check("wait/back-off: about 1 s at first, never more than 5 s",
             gaps and 0.7 <= gaps[0] <= 1.6 and all(0.7 <= g <= 5.5 for g in gaps)
             and all(b >= a - 0.3 for a, b in zip(gaps, gaps[1:])), str(gaps))
    check_links("wait/the finished task's link", res, tid, [f"{fixture.CDN}/videos/{tid}.mp4?x-expires=1900000000"
                                                           "&x-signature=live"])
    kt.check("wait/the text says it finished", "Status: succeed" in text_of(res), text_of(res)[:300])

    # no token: no notification at all
    lt = live(s, steps=[{"after_ms": 0, "status": "processing"}, {"after_ms": 1500, "status": "failed"}],
              message="mock failure")
    r, notes, dt = c.call("get_task", {"task_id": lt["task_id"], "wait_seconds": 20})
    kt.check("wait/no token: finished failed, with the message", sc(r).get("task", {}).get("status") == "failed"
             and sc(r).get("task", {}).get("status_message") == "mock failure" and sc(r).get("finished") is True
             and not r.get("isError") and 1.4 < dt < 7.5, f"{dt:.2f} s {json.dumps(r)[:300]}")
    kt.eq("wait/no token: no progress notification", notes, [])

    # a wait that ends first
    lt = live(s, steps=[{"after_ms": 0, "status": "processing"}])
    s.mock.reset()
    r, notes, dt = c.call("get_task", {"task_id": lt["task_id"], "wait_seconds": 3}, token=77)
    kt.check("wait/unfinished: finished false, not an error, after the wait",
             r and not r.get("isError") and sc(r).get("finished") is False
             and sc(r).get("task", {}).get("status") == "processing" and 2.9 <= dt < 5, f"{dt:.2f} s {json.dumps(r)[:300]}")
    kt.check("wait/unfinished: waited_ms about the wait", 2900 <= sc(r).get("waited_ms", 0) <= 4500, str(sc(r)))
    kt.check("wait/unfinished: the text says so", "not finished" in text_of(r).lower()
             and "processing" in text_of(r), text_of(r)[:400])
    kt.check("wait/unfinished: integer token kept, polls counted",
             progress_ok(notes, 77) and len(notes) == len(lookups(s)) >= 2, json.dumps(notes)[:300])

    # already finished: one look-up, no wait
    s.mock.reset()
    r, notes, dt = c.call("get_task", {"task_id": FAILED["task_id"], "wait_seconds": 60}, token="t")
    kt.check("wait/already finished: at once, one look-up, one progress",
             sc(r).get("finished") is True and dt < 2 and len(lookups(s)) == 1 and len(notes) == 1
             and progress_ok(notes, "t"), f"{dt:.2f} s, {len(lookups(s))} look-ups, {notes}")

    # an upstream error during the wait is counted and the wait goes on (an
    # error only when no look-up ever answered: tests/suites/test_fair_calls.py)
    lt = live(s, steps=[{"after_ms": 0, "status": "processing"}, {"after_ms": 3500, "status": "succeed"}])
    rid = c.start("get_task", {"task_id": lt["task_id"], "wait_seconds": 30}, token="e")
    c.collect(rid, 5, until=lambda m: m.get("method") == "notifications/progress")
    s.mock.fault(mode="kling_error", http=400, code=1201, message="mock parameter error", path_prefix="/tasks")
    ans, _, _ = c.collect(rid, 15)
    r = (ans or {}).get("result", {})
    kt.check("wait/a Kling error during the wait: counted, the wait goes on to the end",
             not r.get("isError") and sc(r).get("finished") is True and sc(r).get("failed_lookups") == 1
             and "1 later look-up failed" in text_of(r) and "1201" in text_of(r), json.dumps(ans)[:400])


def cancellation(s, c):
    lt = live(s, steps=[{"after_ms": 0, "status": "processing"}])
    rid = c.start("get_task", {"task_id": lt["task_id"], "wait_seconds": 120}, token="cancel-me")
    first, seen0, _ = c.collect(rid, 5, until=lambda m: m.get("method") == "notifications/progress")
    kt.check("cancel/the call was waiting: a progress notification, no answer yet", first is None and seen0,
             json.dumps(first)[:300])
    time.sleep(0.2)
    t_cancel = time.monotonic()
    s.mcp.send({"jsonrpc": "2.0", "method": "notifications/cancelled", "params": {"requestId": rid, "reason": "test"}})
    s.mcp.send({"jsonrpc": "2.0", "id": "ping-after-cancel", "method": "ping"})
    pong, seen, t_pong = c.collect("ping-after-cancel", 3)
    kt.check("cancel/ping answered at once", pong is not None and t_pong - t_cancel < 0.5,
             f"{pong} after {(t_pong or 0) - t_cancel:.3f} s")
    time.sleep(0.3)
    n0 = s.mock.stats()["requests"]
    ans, more, _ = c.collect(rid, 4)
    n1 = s.mock.stats()["requests"]
    kt.check("cancel/no answer to the cancelled call", ans is None, json.dumps(ans)[:200])
    kt.eq("cancel/polling stopped: the mock saw no more look-ups", n1 - n0, 0)
    late = [m for t, m in seen + more if m.get("method") == "notifications/progress" and t > t_cancel + 0.2]
    kt.eq("cancel/no progress after the cancellation", late, [])
    r, _, _ = c.call("get_task", {"task_id": SUCCEED_VIDEO["task_id"]})
    kt.check("cancel/the session goes on", sc(r).get("finished") is True, text_of(r)[:200])


def versions(s):
    """resource_link exists since 2025-06-18: older sessions get the text alone; 2026-07-28 gets both."""
    old = harness.McpProc(s.env)
    try:
        old.initialize("2025-03-26")
        r = old.call_tool("get_task", {"task_id": SUCCEED_VIDEO["task_id"]})
        kt.check("versions/2025-03-26: text only, no resource_link",
                 r and [c["type"] for c in r.get("content", [])] == ["text"]
                 and sc(r).get("task", {}).get("task_id") == SUCCEED_VIDEO["task_id"], json.dumps(r)[:300])
    finally:
        old.close()
    new = harness.McpProc(s.env)
    try:
        meta = {"io.modelcontextprotocol/protocolVersion": "2026-07-28",
                "io.modelcontextprotocol/clientCapabilities": {}, "progressToken": "m"}
        c = Calls(new)
        r, notes, _ = c.call("get_task", {"task_id": SUCCEED_VIDEO["task_id"], "wait_seconds": 5}, meta=meta)
        kt.check("versions/2026-07-28: resultType complete, a link, one progress",
                 r and r.get("resultType") == "complete" and len(links(r)) == 1 and progress_ok(notes, "m")
                 and len(notes) == 1, json.dumps(r)[:300])
    finally:
        new.close()


def tasks_backend():
    with Stack(api_key=KEY, mock_args=MOCK_ARGS) as s:
        s.mcp.initialize()
        c = Calls(s.mcp)
        for part in (definition, lambda s: tasks_lookups(s, c), lambda s: refusals(s, c), lambda s: waits(s, c),
                     lambda s: cancellation(s, c), versions, cli):
            guarded(part, s)


# --------------------------------------------------------------------------- legacy backend (AK/SK)

def legacy_backend():
    with Stack(access_key=AK, secret_key=SK, mock_args=MOCK_ARGS, env={"KLING_TIMEOUT_MS": "2500"}) as s:
        s.mcp.initialize()
        c = Calls(s.mcp)
        f = SUCCEED_VIDEO
        s.mock.reset()
        r, _, _ = c.call("get_task", {"task_id": f["task_id"]})
        check_task("legacy/by id: the task, Type is its product", r, f, "legacy", f["product"])
        req = lookups(s)
        kt.check("legacy/by id: GET /v1/<product>/<id> of the product set, with the JWT",
                 req and all(q["method"] == "GET" and q["auth"] == "jwt" and q["path"] in
                             {f"/v1/{p}/{f['task_id']}" for p in LEGACY_DEFAULT} for q in req)
                 and f"/v1/{f['product']}/{f['task_id']}" in [q["path"] for q in req], str([q["path"] for q in req]))
        kt.check("legacy/by id: the products asked side by side", len({q["conn_id"] for q in req}) >= 2,
                 str([q["conn_id"] for q in req]))
        check_links("legacy/by id: the link", r, f["task_id"], [f["outputs"][0]["url"]])
        r, _, _ = c.call("get_task", {"external_task_id": f["external_task_id"]})
        check_task("legacy/by external id: the task", r, f, "legacy", f["product"])
        r, _, _ = c.call("get_task", {"task_id": MULTI_IMAGE["task_id"]})
        kt.eq("legacy/images: the links", [(x.get("uri"), x.get("mimeType")) for x in links(r)],
              [(o["url"], "image/png") for o in MULTI_IMAGE["outputs"]])
        s.mock.reset()
        r, _, _ = c.call("get_task", {"task_id": UNKNOWN})
        kt.check("legacy/unknown id: isError naming it", is_error_naming(r, UNKNOWN), text_of(r))
        kt.eq("legacy/unknown id: every product asked", sorted(q["path"] for q in lookups(s) if UNKNOWN in q["path"]),
              sorted(f"/v1/{p}/{UNKNOWN}" for p in LEGACY_DEFAULT))

        lt = live(s, product="images/generations", steps=[{"after_ms": 0, "status": "submitted"},
                                                          {"after_ms": 800, "status": "processing"},
                                                          {"after_ms": 2000, "status": "succeed"}])
        s.mock.reset()
        r, notes, dt = c.call("get_task", {"task_id": lt["task_id"], "wait_seconds": 20}, token="L")
        kt.check("legacy/wait: succeed, finished, an image link", sc(r).get("task", {}).get("status") == "succeed"
                 and sc(r).get("finished") is True and [x.get("mimeType") for x in links(r)] == ["image/png"]
                 and dt >= 1.9, f"{dt:.2f} s {json.dumps(r)[:300]}")
        kt.check("legacy/wait: progress in order", progress_ok(notes, "L") and in_order(statuses(notes))
                 and statuses(notes)[-1:] == ["succeed"], json.dumps(notes)[:300])
        later = [q["path"] for q in lookups(s)][len(LEGACY_DEFAULT):]
        kt.check("legacy/wait: later polls ask only the product that has it",
                 later and set(later) == {f"/v1/images/generations/{lt['task_id']}"}, str(later))
        lt = live(s, steps=[{"after_ms": 0, "status": "submitted"}])
        r, _, dt = c.call("get_task", {"task_id": lt["task_id"], "wait_seconds": 4})
        kt.check("legacy/deadline is the wait plus KLING_TIMEOUT_MS (2.5 s): a 4 s wait ends unfinished",
                 r and not r.get("isError") and sc(r).get("finished") is False and 3.9 <= dt < 6.5,
                 f"{dt:.2f} s {text_of(r)[:300]}")

    with Stack(api_key=KEY, backend="legacy", mock_args=MOCK_ARGS) as s:
        s.mcp.initialize()
        r = s.mcp.call_tool("get_task", {"task_id": SUCCEED_VIDEO["task_id"]})
        kt.check("legacy/API key with KLING_BACKEND=legacy", sc(r).get("backend") == "legacy"
                 and {q["auth"] for q in lookups(s)} == {"api_key"}, text_of(r)[:200])
    with Stack(access_key=AK, secret_key=SK, mock_args=MOCK_ARGS,
               env={"KLING_LEGACY_PRODUCTS": "videos/nope,images/nope"}) as s:
        s.mcp.initialize()
        r = s.mcp.call_tool("get_task", {"task_id": SUCCEED_VIDEO["task_id"]})
        kt.check("legacy/every product 404: an error about the base URL, not an unknown id",
                 r and r.get("isError") is True and "404" in text_of(r) and "KLING_BASE_URL" in text_of(r),
                 text_of(r))


# --------------------------------------------------------------------------- seed, no credentials

def seed_and_nothing():
    with Stack(api_key=KEY, backend="seed", mock_args=MOCK_ARGS) as s:
        s.mcp.initialize()
        s.mock.reset()
        r = s.mcp.call_tool("get_task", {"task_id": SUCCEED_VIDEO["task_id"]})
        kt.check("seed/isError: this endpoint has no look-up", r and r.get("isError") is True
                 and "seed" in text_of(r) and "look" in text_of(r).lower(), text_of(r))
        kt.eq("seed/nothing sent", lookups(s), [])
    with Stack(api_key=None, mock_args=MOCK_ARGS) as s:
        s.mcp.initialize()
        r = s.mcp.call_tool("get_task", {"task_id": SUCCEED_VIDEO["task_id"]})
        kt.check("nocred/isError naming the variables", is_error_naming(r, "KLING_API_KEY", "KLING_ACCESS_KEY"),
                 text_of(r))
        kt.eq("nocred/nothing sent", lookups(s), [])


# --------------------------------------------------------------------------- kling-mcp call

def run_call(s, *argv, env=None, timeout=60):
    e = dict(s.env)
    e.update(env or {})
    e = {k: v for k, v in e.items() if v is not None}
    p = subprocess.run([kt.binary(), "call", *argv], env=e, capture_output=True, text=True, timeout=timeout)
    return p.returncode, p.stdout, p.stderr


def cli(s):
    f = SUCCEED_VIDEO
    rc, out, err = run_call(s, "get_task", json.dumps({"task_id": f["task_id"]}))
    kt.check("call/get_task: exit 0, the text on stdout", rc == 0 and f"Task ID: {f['task_id']}" in out
             and f["outputs"][0]["url"] in out and not out.lstrip().startswith("{"), f"{rc} {out[:200]} {err[:200]}")
    rc, out, err = run_call(s, "get_task", json.dumps({"task_id": f["task_id"]}), "--json")
    try:
        doc = json.loads(out)
    except ValueError:
        doc = {}
    doc = doc if isinstance(doc, dict) else {}
    kt.check("call/get_task --json: the structuredContent", rc == 0 and set(doc) == EXPECTED_STRUCT_KEYS
             and doc.get("task", {}).get("task_id") == f["task_id"] and doc.get("finished") is True, f"{rc} {out[:300]}")
    since = iso(NOW - 30 * 86_400_000)
    want = [t["task_id"] for t in TASKS if t["status"] == "failed" and t["created_at_ms"] >= NOW - 30 * 86_400_000]
    rc, out, err = run_call(s, "list_tasks", json.dumps({"status": "failed", "start_time": since,
                                                         "page_size": 100}), "--json")
    try:  # the live tasks of earlier checks that ended failed are listed too
        got = [t["task_id"] for t in json.loads(out)["tasks"] if t["task_id"] in FIXTURE_IDS]
    except (ValueError, KeyError, TypeError):
        got = None
    kt.eq("call/list_tasks --json: the failed tasks since a date (the cron example)", (rc, got), (0, want))
    rc, out, err = run_call(s, "list_tasks")
    kt.check("call/list_tasks without arguments: the first page", rc == 0 and out.startswith(
        "Kling AI Task List (Page 1):"), f"{rc} {out[:200]} {err[:200]}")
    lt = live(s, steps=[{"after_ms": 0, "status": "submitted"}, {"after_ms": 1200, "status": "succeed"}])
    t0 = time.monotonic()
    rc, out, err = run_call(s, "get_task", json.dumps({"task_id": lt["task_id"], "wait_seconds": 20}), "--json")
    try:
        doc = json.loads(out)
    except ValueError:
        doc = {}
    doc = doc if isinstance(doc, dict) else {}
    kt.check("call/get_task with a wait: exits once finished", rc == 0 and doc.get("finished") is True
             and doc.get("task", {}).get("status") == "succeed" and time.monotonic() - t0 >= 1.1, f"{rc} {out[:300]}")
    rc, out, err = run_call(s, "get_task", json.dumps({"task_id": UNKNOWN}))
    kt.check("call/tool error: exit 1, the message on stderr", rc == 1 and UNKNOWN in err, f"{rc} {out} {err}")
    s.mock.reset()
    rc, out, err = run_call(s, "list_tasks", '{"page": 0}')
    kt.check("call/bad argument value: exit 1 naming it, nothing sent", rc == 1 and "page" in err
             and lookups(s) == [], f"{rc} {err}")
    rc, out, err = run_call(s, "get_task", json.dumps({"task_id": f["task_id"]}),
                            env={"KLING_API_KEY": None, "KLING_ACCESS_KEY": None})
    kt.check("call/no credentials: exit 1 naming the variables", rc == 1 and "KLING_API_KEY" in err, f"{rc} {err}")
    for name, argv in (("unknown tool", ["no_such_tool", "{}"]), ("arguments an array", ["list_tasks", "[1]"]),
                       ("arguments not JSON", ["list_tasks", "{oops"]), ("arguments a string", ["list_tasks", '"x"']),
                       ("no tool", []), ("one argument too many", ["list_tasks", "{}", "--json", "more"]),
                       ("unknown option", ["list_tasks", "{}", "--yaml"])):
        rc, out, err = run_call(s, *argv)
        kt.check(f"call/usage error, {name}: exit 2 with a message", rc == 2 and err.strip() and not out.strip(),
                 f"{rc} {out[:100]} {err[:200]}")
    kt.eq("call/usage errors sent nothing", lookups(s), [])
    readme_cron(s)


def readme_cron(s):
    """The README's cron script, as written there, lists the tasks that failed during the last day."""
    import re
    with open(os.path.join(harness.ROOT, "README.md"), encoding="utf-8") as f:
        m = re.search(r"```sh\n(#!/bin/sh\n.*?)```", f.read(), re.S)
    failed = live(s, start="added", steps=[{"after_ms": 0, "status": "failed"}], message="cron check")["task_id"]
    want = {t["task_id"] for t in TASKS if t["status"] == "failed" and t["created_at_ms"] >= NOW - 86_400_000}
    if not m or "/etc/kling-mcp.env" not in m.group(1):
        kt.fail("call/the README's cron script lists the tasks that failed during the last day", "script not found")
        return
    script = m.group(1).replace(". /etc/kling-mcp.env", ":")
    env = dict(s.env)
    link_dir = tempfile.mkdtemp(prefix="kling-cron-")
    try:  # the script calls kling-mcp by name
        os.symlink(os.path.abspath(kt.binary()), os.path.join(link_dir, "kling-mcp"))
        env["PATH"] = link_dir + os.pathsep + env["PATH"]
        p = subprocess.run(["sh", "-c", script], env=env, capture_output=True, text=True, timeout=60)
    finally:
        shutil.rmtree(link_dir, ignore_errors=True)
    listed = set(re.findall(r"Task ID: (\S+)", p.stdout))
    got = {i for i in listed if i in FIXTURE_IDS}  # and the live tasks that ended failed
    kt.check("call/the README's cron script lists the tasks that failed during the last day",
             p.returncode == 0 and got == want and failed in listed,
             f"{p.returncode} {sorted(listed)} lacks {failed} or != {sorted(want)} {p.stderr[:200]}")


# --------------------------------------------------------------------------- the official SDK client

SDK_CHECKS = 7


def sdk():
    sdk_dir = os.path.join(harness.ROOT, "tests", "sdk")
    if not shutil.which("node") or not os.path.isdir(os.path.join(sdk_dir, "node_modules", "@modelcontextprotocol")):
        for i in range(SDK_CHECKS):
            kt.skip(f"sdk/get_task {i + 1}", "node or tests/sdk/node_modules missing (tests/prepare.sh installs it)")
        return
    with Stack(api_key=KEY, access_key=AK, secret_key=SK, mock_args=MOCK_ARGS, start_mcp=False) as s:
        lt_tasks = live(s)["task_id"]
        lt_legacy = live(s, product="images/generations")["task_id"]
        r = subprocess.run(["node", "client.mjs", "--get-task", kt.binary(), s.env["KLING_BASE_URL"], s.ca, KEY, AK,
                            SK, SUCCEED_VIDEO["task_id"], lt_tasks, lt_legacy], cwd=sdk_dir, capture_output=True,
                           text=True, timeout=120)
        lines = [ln for ln in r.stdout.splitlines() if ln.startswith(("PASS ", "FAIL ", "SKIP "))]
        for ln in lines:
            print(ln, flush=True)
        kt.check("sdk/get_task: the client ran its checks", r.returncode == 0 and len(lines) == SDK_CHECKS - 1,
                 f"status {r.returncode}, {len(lines)} lines: {r.stderr[-400:]}")


def guarded(part, *args):
    try:
        part(*args)
    except Exception as e:  # a crash is one failure, and the other parts still run
        import traceback
        traceback.print_exc()
        kt.fail(f"suite/{getattr(part, '__name__', 'part')}", f"{type(e).__name__}: {e}")


def main():
    for part in (tasks_backend, legacy_backend, seed_and_nothing, sdk):
        guarded(part)
    os.unlink(FIX)
    kt.done()


if __name__ == "__main__":
    main()

#!/usr/bin/env python3
"""End to end: list_tasks through the real binary against the mock Kling API
over verified HTTPS, for each backend and credential kind. Asserts the exact
tasks and their order (from the same fixture the mock serves), the request the
mock received (method, path, query or body, auth), dates, URLs, messages, the
errors and the retries."""
import datetime
import json
import os
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
import kt  # noqa: E402
import harness  # noqa: E402
from harness import Stack, text_of  # noqa: E402
import fixture  # noqa: E402

NOW = int(time.time() * 1000)
TASKS = fixture.make_tasks(NOW)
DAY = 86_400_000
KEY, AK, SK = "e2e-api-key-0123456789", "e2e-access-key", "e2e-secret-key-abcdef"
LEGACY_DEFAULT = ["videos/text2video", "videos/image2video", "videos/omni-video", "videos/video-extend",
                  "images/generations", "images/kolors-virtual-try-on"]


def iso(ms):
    d = datetime.datetime.fromtimestamp(ms // 1000, datetime.timezone.utc)
    return d.strftime("%Y-%m-%dT%H:%M:%S") + ".%03dZ" % (ms % 1000)


def window(tasks, start=None, end=None):
    return [t for t in tasks if (start is None or t["created_at_ms"] >= start) and (end is None or t["created_at_ms"] <= end)]


def ids(tasks):
    return [t["task_id"] for t in tasks]


def sc(res):
    return (res or {}).get("structuredContent") or {}


def got_ids(res):
    return [t.get("task_id") for t in sc(res).get("tasks", [])]


def posts(stack):
    return [r for r in stack.mock.requests() if r["path"] == "/tasks"]


FIX = fixture.save(TASKS)
MOCK_ARGS = ["--fixture", FIX, "--now-ms", str(NOW)]


def check_task_fields(name, res, source):
    """Every task's fields agree with the fixture: status, dates, message, outputs."""
    by_id = {t["task_id"]: t for t in source}
    bad = []
    for t in sc(res).get("tasks", []):
        f = by_id.get(t.get("task_id"))
        if not f:
            bad.append(f"unknown id {t.get('task_id')}")
            continue
        if t.get("status") != f["status"]:
            bad.append(f"{f['task_id']} status {t.get('status')} != {f['status']}")
        if t.get("created_at") != iso(f["created_at_ms"]):
            bad.append(f"{f['task_id']} created_at {t.get('created_at')} != {iso(f['created_at_ms'])}")
        if f["status_message"] and t.get("status_message") != f["status_message"]:
            bad.append(f"{f['task_id']} message {t.get('status_message')!r} != {f['status_message']!r}")
        if not f["status_message"] and "status_message" in t:
            bad.append(f"{f['task_id']} has an empty message sent")
        want_urls = [o.get("url") for o in f["outputs"] if o["type"] in ("video", "image")]
        urls = [o.get("url") for o in t.get("outputs", []) if o.get("type") in ("video", "image")]
        if urls != want_urls:
            bad.append(f"{f['task_id']} urls {urls} != {want_urls}")
    kt.check(name, not bad and sc(res).get("tasks"), "; ".join(bad[:3]) or "no tasks")


def tasks_backend():
    recent = window(TASKS, NOW - 30 * DAY, NOW)
    with Stack(api_key=KEY, mock_args=MOCK_ARGS) as s:
        kt.check("e2e/initialize", (s.mcp.initialize() or {}).get("result") is not None)
        r = s.mcp.call_tool("list_tasks", {})
        kt.eq("tasks/default page: newest 10 of the last 30 days", got_ids(r), ids(recent[:10]))
        st = sc(r)
        kt.check("tasks/structured header", st.get("backend") == "tasks" and st.get("page") == 1 and
                 st.get("page_size") == 10 and st.get("has_more") is True, json.dumps(st)[:300])
        kt.check("tasks/next_cursor given", isinstance(st.get("next_cursor"), str) and st["next_cursor"])
        req = posts(s)[-1]
        kt.eq("tasks/request body of the default page", req["body"], {"limit": 10})
        kt.eq("tasks/request uses the API key", (req["auth"], req["headers"].get("authorization")),
              ("api_key", "Bearer " + KEY))
        kt.eq("tasks/request method", req["method"], "POST")
        check_task_fields("tasks/fields match the fixture", r, TASKS)
        text = text_of(r)
        kt.check("tasks/text layout", text.startswith("Kling AI Task List (Page 1):") and
                 f"Task ID: {recent[0]['task_id']}" in text, text[:200])
        kt.check("tasks/text dates are ISO 8601 UTC", iso(recent[0]["created_at_ms"]) in text, text[:400])

        r2 = s.mcp.call_tool("list_tasks", {"cursor": st.get("next_cursor", "x")})
        kt.eq("tasks/cursor gives the next page", got_ids(r2), ids(recent[10:20]))
        kt.eq("tasks/cursor page number", sc(r2).get("page"), 2)
        kt.check("tasks/cursor sent to the service", "cursor" in posts(s)[-1]["body"])

        for status, word in (("succeed", "succeeded"), ("failed", "failed"), ("submitted", "submitted"),
                             ("processing", "processing")):
            r = s.mcp.call_tool("list_tasks", {"status": status, "page_size": 100})
            want = [t for t in recent if t["status"] == status][:100]
            kt.eq(f"tasks/status {status}: exact tasks", got_ids(r), ids(want))
            kt.eq(f"tasks/status {status}: filter sent as {word}", posts(s)[-1]["body"].get("filters"),
                  [{"key": "status", "values": [word]}])
        failed = [t for t in recent if t["status"] == "failed"]
        check_task_fields("tasks/failure messages (unicode, quotes, backslashes, newline) intact",
                          s.mcp.call_tool("list_tasks", {"status": "failed", "page_size": 100}), TASKS)

        r = s.mcp.call_tool("list_tasks", {"status": "succeed", "page_size": 4})
        r2 = s.mcp.call_tool("list_tasks", {"cursor": sc(r).get("next_cursor", "")})
        succ = [t for t in recent if t["status"] == "succeed"]
        kt.eq("tasks/cursor alone keeps the filter and page size", got_ids(r2), ids(succ[4:8]))
        r3 = s.mcp.call_tool("list_tasks", {"cursor": sc(r).get("next_cursor", ""), "status": "failed"})
        kt.check("tasks/cursor with a different filter refused by name",
                 r3.get("isError") and "status differs" in text_of(r3), text_of(r3))
        r3 = s.mcp.call_tool("list_tasks", {"cursor": sc(r).get("next_cursor", ""), "status": "succeed"})
        kt.eq("tasks/cursor with the same filter accepted", got_ids(r3), ids(succ[4:8]))
        r = s.mcp.call_tool("list_tasks", {"product_type": "image", "page_size": 50})
        kt.eq("tasks/product_type image", got_ids(r), ids([t for t in recent if t["product_type"] == "image"][:50]))
        kt.eq("tasks/product_type filter sent", posts(s)[-1]["body"].get("filters"),
              [{"key": "product_type", "values": ["image"]}])

        start, end = NOW - 50 * DAY, NOW - 20 * DAY
        r = s.mcp.call_tool("list_tasks", {"start_time": iso(start), "end_time": iso(end), "page_size": 100})
        kt.eq("tasks/time window: exact tasks", got_ids(r), ids(window(TASKS, start, end)[:100]))
        b = posts(s)[-1]["body"]
        kt.eq("tasks/time window sent as ms strings", (b.get("start_time"), b.get("end_time")), (str(start), str(end)))
        r = s.mcp.call_tool("list_tasks", {"start_time": "2026-01-01T08:00:00+08:00", "end_time": "2026-01-02"})
        b = posts(s)[-1]["body"]
        kt.eq("tasks/offset and date-only times converted", (b.get("start_time"), b.get("end_time")),
              ("1767225600000", "1767398399999"))

        s.mock.reset()
        r = s.mcp.call_tool("list_tasks", {"page": 3, "page_size": 5})
        kt.eq("tasks/page 3 without cursor: exact tasks", got_ids(r), ids(recent[10:15]))
        bodies = [p["body"] for p in posts(s)]
        kt.check("tasks/page 3 walks the cursor: skip 10 then take 5",
                 len(bodies) == 2 and bodies[0].get("limit") == 10 and bodies[1].get("limit") == 5 and
                 "cursor" in bodies[1], json.dumps(bodies)[:300])
        r = s.mcp.call_tool("list_tasks", {"page": 8, "page_size": 10})
        kt.check("tasks/page past the end is empty, no more", got_ids(r) == [] and sc(r).get("has_more") is False
                 and "No tasks found." in text_of(r), json.dumps(sc(r))[:200])
        r = s.mcp.call_tool("list_tasks", {"page": 1000, "page_size": 100})
        kt.check("tasks/page too deep is refused naming cursor", r.get("isError") and "next_cursor" in text_of(r),
                 text_of(r))
        s.mock.reset()
        r = s.mcp.call_tool("list_tasks", {"page": 0})
        kt.check("tasks/bad page is refused before any request", r.get("isError") and "page" in text_of(r) and
                 not s.mock.requests(), text_of(r))
        r = s.mcp.call_tool("list_tasks", {"cursor": "l.2.10"})
        kt.check("tasks/foreign cursor refused", r.get("isError") and "cursor" in text_of(r), text_of(r))
        code, err = s.mcp.close()
        kt.eq("tasks/exit 0 at end of input", code, 0)
        kt.check("tasks/API key never on stderr", KEY not in err, err[:200])


def legacy_backend():
    with Stack(access_key=AK, secret_key=SK, mock_args=MOCK_ARGS) as s:
        s.mcp.initialize()
        r = s.mcp.call_tool("list_tasks", {})
        kt.eq("legacy/default page: newest 10 across products", got_ids(r), ids(TASKS[:10]))
        kt.eq("legacy/backend named", sc(r).get("backend"), "legacy")
        reqs = s.mock.requests()
        kt.check("legacy/every request carries a verified JWT", reqs and all(q["auth"] == "jwt" for q in reqs),
                 json.dumps([q["auth"] for q in reqs]))
        kt.check("legacy/JWT claims iss, exp = nbf + 1805", all(
            q.get("jwt_claims", {}).get("iss") == AK and
            q["jwt_claims"]["exp"] - q["jwt_claims"]["nbf"] == 1805 for q in reqs))
        kt.eq("legacy/one request per default product",
              sorted(q["path"] for q in reqs), sorted("/v1/" + p for p in LEGACY_DEFAULT))
        kt.check("legacy/pageNum and pageSize sent", all(q["query"].get("pageNum") in ("1", ["1"]) for q in reqs),
                 json.dumps([q["query"] for q in reqs])[:300])
        check_task_fields("legacy/fields match the fixture", r, TASKS)
        r = s.mcp.call_tool("list_tasks", {"status": "failed", "page": 2, "page_size": 5})
        kt.eq("legacy/status failed page 2", got_ids(r), ids([t for t in TASKS if t["status"] == "failed"][5:10]))
        r = s.mcp.call_tool("list_tasks", {"status": "failed", "page_size": 3})
        r2 = s.mcp.call_tool("list_tasks", {"cursor": sc(r).get("next_cursor", "")})
        kt.eq("legacy/cursor alone keeps the filter", got_ids(r2), ids([t for t in TASKS if t["status"] == "failed"][3:6]))
        r = s.mcp.call_tool("list_tasks", {"product_type": "video", "page_size": 20})
        kt.eq("legacy/product_type video", got_ids(r), ids([t for t in TASKS if t["product_type"] == "video"][:20]))
        start, end = NOW - 40 * DAY, NOW - 10 * DAY
        r = s.mcp.call_tool("list_tasks", {"start_time": iso(start), "end_time": iso(end), "page_size": 30})
        kt.eq("legacy/time window filtered here", got_ids(r), ids(window(TASKS, start, end)[:30]))
        r = s.mcp.call_tool("list_tasks", {"page_size": 7})
        r2 = s.mcp.call_tool("list_tasks", {"cursor": sc(r).get("next_cursor", "")})
        kt.eq("legacy/cursor gives the next page", got_ids(r2), ids(TASKS[7:14]))
        r = s.mcp.call_tool("list_tasks", {"page": 14, "page_size": 10})
        kt.check("legacy/last page: no more", got_ids(r) == ids(TASKS[130:140]) and sc(r).get("has_more") is False,
                 json.dumps(got_ids(r)))
        s.mcp.close()
    # A product this host does not list (404) is skipped, not fatal.
    with Stack(access_key=AK, secret_key=SK,
               mock_args=MOCK_ARGS + ["--legacy-products", "videos/text2video,images/generations"]) as s:
        s.mcp.initialize()
        r = s.mcp.call_tool("list_tasks", {"page_size": 10})
        want = [t for t in TASKS if t["product"] in ("videos/text2video", "images/generations")][:10]
        kt.check("legacy/404 products skipped", not r.get("isError") and got_ids(r) == ids(want), text_of(r)[:300])
    # AK/SK sent to /tasks: the service's 1002, with the hint to set an API key.
    with Stack(access_key=AK, secret_key=SK, backend="tasks", mock_args=MOCK_ARGS) as s:
        s.mcp.initialize()
        r = s.mcp.call_tool("list_tasks", {})
        t = text_of(r)
        kt.check("tasks with AK/SK: 1002 with the KLING_API_KEY hint",
                 r.get("isError") and "1002" in t and "KLING_API_KEY" in t, t)


def seed_backend():
    with Stack(api_key=KEY, backend="seed", mock_args=MOCK_ARGS) as s:
        s.mcp.initialize()
        r = s.mcp.call_tool("list_tasks", {"page": 2, "page_size": 10, "status": "succeed"})
        succ = [t for t in TASKS if t["status"] == "succeed"]
        kt.eq("seed/exact tasks", got_ids(r), ids(succ[10:20]))
        kt.eq("seed/total from data.total", sc(r).get("total"), len(succ))
        kt.check("seed/Total Tasks in the text", f"Total Tasks: {len(succ)}" in text_of(r), text_of(r)[:200])
        q = s.mock.requests()[-1]
        kt.check("seed/request query", q["path"] == "/v1/task/list" and q["method"] == "GET",
                 json.dumps(q)[:300])
        # seconds on the wire become the right year, not 57422
        got = sc(r).get("tasks", [{}])[0].get("created_at", "")
        want = iso(succ[10]["created_at_ms"] // 1000 * 1000)
        kt.eq("seed/seconds read as seconds", got, want)
    with Stack(api_key=KEY, backend="seed", mock_args=MOCK_ARGS + ["--no-seed-endpoint"]) as s:
        s.mcp.initialize()
        r = s.mcp.call_tool("list_tasks", {})
        t = text_of(r)
        kt.check("seed/404 of the live service explained", r.get("isError") and "404" in t and "KLING_BACKEND" in t, t)


def errors():
    with Stack(api_key=KEY, mock_args=MOCK_ARGS, env={"KLING_TIMEOUT_MS": "8000"}) as s:
        s.mcp.initialize()

        def case(name, fault, want, requests=1, args=None, min_s=0.0):
            s.mock.reset()
            s.mock.fault(**fault)
            t0 = time.monotonic()
            r = s.mcp.call_tool("list_tasks", args or {}) or {}
            dt = time.monotonic() - t0
            n = len(s.mock.requests())
            t = text_of(r)
            ok = all(w.lower() in t.lower() for w in want) if want else not r.get("isError")
            kt.check(name, ok and (want is None or r.get("isError")) and n == requests and dt >= min_s,
                     f"isError={r.get('isError')} requests={n} dt={dt:.2f}s text={t[:300]}")

        case("errors/1101 not retried", {"mode": "kling_error", "http": 429, "code": 1101, "message": "欠费"},
             ["1101", "欠费", "retrying will not help"])
        case("errors/1302 retried once then ok", {"mode": "kling_error", "http": 429, "code": 1302}, None,
             requests=2, min_s=0.9)
        case("errors/5000 gives up after 2 retries", {"mode": "kling_error", "http": 500, "code": 5000, "count": -1},
             ["5000", "gave up after 2 retries"], requests=3, min_s=2.9)
        case("errors/Retry-After honoured", {"mode": "kling_error", "http": 429, "code": 1303, "retry_after": 2},
             None, requests=2, min_s=1.9)
        case("errors/1004 points at the clock", {"mode": "kling_error", "http": 401, "code": 1004}, ["1004", "clock"])
        case("errors/1003 points at the clock", {"mode": "kling_error", "http": 401, "code": 1003}, ["1003", "clock"])
        case("errors/HTML 502 retried then reported", {"mode": "http_error", "http": 502, "count": -1},
             ["HTTP 502"], requests=3)
        case("errors/request id shown", {"mode": "kling_error", "http": 400, "code": 1201, "message": "bad"},
             ["1201", "request_id"])
        case("errors/bad JSON", {"mode": "bad_json"}, ["not valid JSON"])
        case("errors/wrong shape", {"mode": "wrong_shape"}, ["not understood"])
        case("errors/oversize body names the limit", {"mode": "oversize", "size": 5 * 1024 * 1024}, ["limit"])
        case("errors/hang ends at the deadline", {"mode": "hang", "seconds": 30}, ["time"], min_s=7.5)
        r = s.mcp.call_tool("list_tasks", {})
        kt.check("errors/still serving after the faults", not r.get("isError") and len(got_ids(r)) == 10, text_of(r))
    with Stack(api_key=None, mock_args=MOCK_ARGS) as s:
        s.mcp.initialize()
        r = s.mcp.call_tool("list_tasks", {})
        kt.check("errors/missing credentials named", r.get("isError") and "KLING_API_KEY" in text_of(r) and
                 not s.mock.requests(), text_of(r))
    with Stack(api_key="wrong-key", mock_api_key=KEY, mock_args=MOCK_ARGS) as s:
        s.mcp.initialize()
        r = s.mcp.call_tool("list_tasks", {})
        kt.check("errors/rejected key: 1002 and the variable", r.get("isError") and "1002" in text_of(r) and
                 "KLING_API_KEY" in text_of(r), text_of(r))
    other = tempfile.mkdtemp()
    other_ca, _, _ = harness.make_certs(other)
    with Stack(api_key=KEY, mock_args=MOCK_ARGS, env={"KLING_CA_FILE": other_ca}) as s:
        s.mcp.initialize()
        r = s.mcp.call_tool("list_tasks", {})
        t = text_of(r).lower()
        kt.check("errors/untrusted certificate refused", r.get("isError") and ("certificate" in t or "tls" in t) and
                 not s.mock.requests(), text_of(r))


def main():
    kt.plan(75)
    tasks_backend()
    legacy_backend()
    seed_backend()
    errors()
    os.unlink(FIX)
    kt.done()


if __name__ == "__main__":
    main()

#!/usr/bin/env python3
"""Self-test of the mock Kling server (tests/mock/kling_mock.py) and its fixture.

Standard library only. Makes a throwaway test CA and a server certificate for
127.0.0.1 and "localhost" with the openssl CLI, starts the mock on port 0, and
checks every endpoint's shape, the auth rules, each fault mode, keep-alive and
the request log over real TLS (http.client). Prints PASS/FAIL/SKIP lines (kt).
"""
import base64
import hashlib
import hmac
import http.client
import json
import os
import shutil
import signal
import socket
import ssl
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "lib"))
import kt  # noqa: E402
from harness import make_certs, start_mock, stop  # noqa: E402

MOCK_DIR = os.path.join(kt.root(), "tests", "mock")
MOCK = os.path.join(MOCK_DIR, "kling_mock.py")
sys.path.insert(0, MOCK_DIR)
import fixture  # noqa: E402

NOW_MS = 1_795_000_000_000  # 2026-11-18
DAY_MS = 86_400_000
API_KEY = "test-api-key-0123456789"
AK, SK = "test-access-key", "test-secret-key-!@#"
TASK_KEYS = {"id", "status", "message", "create_time", "update_time", "external_id", "outputs", "billing"}
ITEM_KEYS = {"task_id", "task_status", "task_status_msg", "task_info", "created_at", "updated_at",
             "final_unit_deduction", "watermark_info", "task_result"}
SPRING_KEYS = {"timestamp", "status", "error", "message", "path"}


# --------------------------------------------------------------------------- setup

def jwt(nbf_delta=-5, exp_delta=1800, ak=AK, sk=SK, header=None, claims=None):
    enc = lambda b: base64.urlsafe_b64encode(b).rstrip(b"=").decode()  # noqa: E731
    now = int(time.time())
    h = enc(json.dumps(header or {"alg": "HS256", "typ": "JWT"}).encode())
    c = claims if claims is not None else {"iss": ak, "exp": now + exp_delta, "nbf": now + nbf_delta}
    p = enc(json.dumps(c).encode())
    s = enc(hmac.new(sk.encode(), f"{h}.{p}".encode(), hashlib.sha256).digest())
    return f"{h}.{p}.{s}"


class Client:
    """Small http.client wrapper: JSON in, (status, headers, body, json-or-None) out."""

    def __init__(self, port, ca=None, host="localhost"):
        self.port, self.host = port, host
        self.ctx = ssl.create_default_context(cafile=ca) if ca else None

    def connect(self, timeout=10, host=None):
        if self.ctx is None:
            return http.client.HTTPConnection(host or self.host, self.port, timeout=timeout)
        return http.client.HTTPSConnection(host or self.host, self.port, context=self.ctx,
                                           timeout=timeout)

    def call(self, method, path, body=None, auth=API_KEY, headers=None, conn=None):
        own = conn is None
        conn = conn or self.connect()
        h = dict(headers or {})
        if auth is not None:
            h["Authorization"] = f"Bearer {auth}"
        data = None
        if body is not None:
            data = body if isinstance(body, bytes) else json.dumps(body).encode()
            h["Content-Type"] = "application/json"
        try:
            conn.request(method, path, body=data, headers=h)
            r = conn.getresponse()
            raw = r.read()
            try:
                doc = json.loads(raw)
            except ValueError:
                doc = None
            return r.status, r, raw, doc
        finally:
            if own:
                conn.close()

    def control(self, method, path, body=None):
        _, _, _, doc = self.call(method, path, body, auth=None, headers={"X-Mock-Control": "1"})
        return doc

    def fault(self, **spec):
        return self.control("POST", "/_mock/fault", spec)


def tasks_all(c, body, auth=API_KEY):
    """Walk POST /tasks with cursors; returns (ids, pages, last_doc)."""
    ids, pages, body = [], 0, dict(body)
    while True:
        st, _, _, doc = c.call("POST", "/tasks", body, auth=auth)
        if st != 200:
            return ids, pages, doc
        pages += 1
        ids += [t["id"] for t in doc["data"]["result"]]
        if not doc["data"]["has_more"] or pages > 200:
            return ids, pages, doc
        body["cursor"] = doc["data"]["next_cursor"]


# --------------------------------------------------------------------------- checks

def check_fixture(tasks):
    kt.eq("fixture.count", len(tasks), 137)
    kt.eq("fixture.deterministic", fixture.make_tasks(NOW_MS), tasks)
    kt.check("fixture.seed_changes", fixture.make_tasks(NOW_MS, seed=2) != tasks)
    created = [t["created_at_ms"] for t in tasks]
    kt.eq("fixture.created_distinct", len(set(created)), len(created))
    kt.check("fixture.newest_first", created == sorted(created, reverse=True))
    kt.check("fixture.older_than_30d", any(c < NOW_MS - 30 * DAY_MS for c in created))
    kt.check("fixture.within_60d", all(NOW_MS - 60 * DAY_MS <= c < NOW_MS for c in created))
    kt.check("fixture.updated_ok", all(t["created_at_ms"] <= t["updated_at_ms"] <= NOW_MS for t in tasks))
    kt.eq("fixture.products", {t["product"] for t in tasks}, {p for p, _, _ in fixture.PRODUCTS})
    kt.eq("fixture.statuses", {t["status"] for t in tasks}, {"submitted", "processing", "succeed", "failed"})
    msgs = {t["status_message"] for t in tasks if t["status"] == "failed"}
    kt.check("fixture.failure_messages", set(fixture.FAILURE_MESSAGES) <= msgs)
    kt.check("fixture.only_failures_have_messages",
             all((t["status_message"] != "") == (t["status"] == "failed") for t in tasks))
    audio = [t for t in tasks if any(o["type"] == "audio" for o in t["outputs"])]
    kt.eq("fixture.one_audio", len(audio), 1)
    kt.check("fixture.some_external", 0 < sum("external_task_id" in t for t in tasks) < len(tasks))
    kt.check("fixture.some_model", 0 < sum("model_name" in t for t in tasks) < len(tasks))
    out = subprocess.run([sys.executable, os.path.join(MOCK_DIR, "fixture.py"), "--now-ms", str(NOW_MS)],
                         capture_output=True, check=True).stdout
    kt.eq("fixture.cli", json.loads(out), tasks)


def check_tasks_endpoint(c, tasks):
    window = [t for t in tasks if NOW_MS - 30 * DAY_MS <= t["created_at_ms"] <= NOW_MS]
    st, r, _, doc = c.call("POST", "/tasks", {})
    kt.eq("tasks.default.http", st, 200)
    kt.eq("tasks.default.envelope", (doc["code"], doc["message"], "request_id" in doc), (0, "SUCCEED", True))
    data = doc["data"]
    kt.eq("tasks.default.data_keys", set(data), {"result", "count", "next_cursor", "has_more"})
    kt.eq("tasks.default.ids", [t["id"] for t in data["result"]], [t["task_id"] for t in window][:100])
    kt.eq("tasks.default.count_is_page", data["count"], len(data["result"]))
    kt.eq("tasks.keep_alive_header", r.getheader("Connection"), "keep-alive")
    kt.check("tasks.content_length", r.getheader("Content-Length") is not None)
    res = data["result"]
    kt.check("tasks.task_keys", all(set(t) == TASK_KEYS for t in res), str(res[0].keys()))
    kt.check("tasks.status_vocab", {t["status"] for t in res} <= {"submitted", "processing", "succeeded", "failed"})
    kt.check("tasks.succeeded_present", any(t["status"] == "succeeded" for t in res))
    kt.check("tasks.newest_first", [t["create_time"] for t in res] == sorted([t["create_time"] for t in res], reverse=True))
    vid = next(o for t in res for o in t["outputs"] if o["type"] == "video")
    kt.eq("tasks.video_output_keys", set(vid), {"type", "id", "url", "watermark_url", "duration"})
    img = next(o for t in res for o in t["outputs"] if o["type"] == "image")
    kt.eq("tasks.image_output_keys", set(img), {"type", "url", "watermark_url"})
    ext = next(t for t in res if t["external_id"])
    kt.check("tasks.external_id", ext["external_id"].startswith("ext-"))

    # the whole set, 7 at a time: every task exactly once
    ids, pages, last = tasks_all(c, {"start_time": "0", "end_time": str(NOW_MS), "limit": 7})
    kt.eq("tasks.cursor.all_once", ids, [t["task_id"] for t in tasks])
    kt.eq("tasks.cursor.pages", pages, 20)
    kt.eq("tasks.cursor.last", (last["data"]["has_more"], last["data"]["next_cursor"]), (False, ""))
    ids, _, _ = tasks_all(c, {"start_time": 0, "end_time": NOW_MS, "limit": 500})
    kt.eq("tasks.numeric_times", len(ids), len(tasks))

    audio = next(t for t in tasks if any(o["type"] == "audio" for o in t["outputs"]))
    st, _, _, doc = c.call("GET", f"/tasks?task_ids={audio['task_id']}")
    a = next(o for o in doc["data"][0]["outputs"] if o["type"] == "audio")
    kt.check("tasks.audio_output", ".mp3?" in a["mp3_url"] and ".wav?" in a["wav_url"], str(a))

    filt = {"start_time": "0", "end_time": str(NOW_MS), "limit": 500,
            "filters": [{"key": "status", "values": ["succeeded", "failed"]},
                        {"key": "product_type", "values": ["image", "try_on"]}]}
    ids, _, _ = tasks_all(c, filt)
    want = [t["task_id"] for t in tasks if t["status"] in ("succeed", "failed")
            and t["product_type"] in ("image", "try_on")]
    kt.eq("tasks.filters", ids, want)
    ids, _, _ = tasks_all(c, {"limit": 3, "filters": [{"key": "status", "values": ["processing"]}]})
    kt.eq("tasks.filter_processing_paged", ids,
          [t["task_id"] for t in window if t["status"] == "processing"])

    def err(name, body, code=1201, http=400, auth=API_KEY):
        st, _, _, doc = c.call("POST", "/tasks", body, auth=auth)
        kt.eq(name, (st, doc.get("code"), "data" in doc), (http, code, False))
        return doc
    err("tasks.err.succeed_is_invalid", {"filters": [{"key": "status", "values": ["succeed"]}]})
    err("tasks.err.unknown_filter_key", {"filters": [{"key": "model", "values": ["x"]}]})
    err("tasks.err.limit_501", {"limit": 501})
    err("tasks.err.limit_0", {"limit": 0})
    err("tasks.err.start_not_before_end", {"start_time": "5", "end_time": "5"})
    err("tasks.err.bad_time", {"start_time": "yesterday"})
    err("tasks.err.bad_cursor", {"cursor": "not-a-cursor!"})
    err("tasks.err.not_json", b"{oops", code=1200)
    _, _, _, doc = c.call("POST", "/tasks", {"limit": 2})
    err("tasks.err.cursor_other_filters", {"cursor": doc["data"]["next_cursor"],
                                           "filters": [{"key": "product_type", "values": ["video"]}]})
    st, _, _, doc2 = c.call("POST", "/tasks", {"limit": 2, "cursor": doc["data"]["next_cursor"],
                                               "start_time": "1", "end_time": "2"})
    kt.eq("tasks.cursor_ignores_window", [t["id"] for t in doc2["data"]["result"]],
          [t["task_id"] for t in window][2:4])
    doc = err("tasks.jwt_refused", {}, code=1002, http=401, auth=jwt())
    kt.check("tasks.jwt_refused.message", "AK/SK" in doc.get("message", ""), doc.get("message"))

    st, _, _, doc = c.call("GET", f"/tasks?task_ids={tasks[5]['task_id']},nope,{tasks[9]['task_id']}")
    kt.eq("tasks.lookup", [t["id"] for t in doc["data"]], [tasks[5]["task_id"], tasks[9]["task_id"]])
    st, _, _, doc = c.call("GET", "/tasks?task_ids=unknown1,unknown2")
    kt.eq("tasks.lookup_unknown", (st, doc["data"]), (200, []))
    ext = next(t for t in tasks if "external_task_id" in t)
    st, _, _, doc = c.call("GET", f"/tasks?external_task_ids={ext['external_task_id']}")
    kt.eq("tasks.lookup_external", [t["id"] for t in doc["data"]], [ext["task_id"]])


def check_legacy(c, tasks):
    for product in ("videos/text2video", "images/generations", "images/kolors-virtual-try-on"):
        want = [t["task_id"] for t in tasks if t["product"] == product]
        got, page = [], 1
        while True:
            st, _, _, doc = c.call("GET", f"/v1/{product}?pageNum={page}&pageSize=10", auth=jwt())
            if st != 200 or not doc["data"]:
                break
            got += [i["task_id"] for i in doc["data"]]
            page += 1
        kt.eq(f"legacy.paging.{product}", got, want)
    st, _, _, doc = c.call("GET", "/v1/videos/text2video")
    kt.eq("legacy.api_key_default_page", (st, len(doc["data"])), (200, 30))
    items = doc["data"]
    kt.check("legacy.item_keys", all(set(i) == ITEM_KEYS for i in items), str(items[0].keys()))
    kt.check("legacy.status_vocab", {i["task_status"] for i in items} <= {"submitted", "processing", "succeed", "failed"})
    ok = next(i for i in items if i["task_status"] == "succeed")
    kt.eq("legacy.video_result_keys", set(ok["task_result"]["videos"][0]), {"id", "url", "watermark_url", "duration"})
    kt.check("legacy.created_ms", ok["created_at"] > 100_000_000_000)
    st, _, _, doc = c.call("GET", "/v1/images/generations?pageSize=500")
    img = next(i for i in doc["data"] if i["task_status"] == "succeed")
    kt.eq("legacy.image_result_keys", set(img["task_result"]["images"][0]), {"index", "url", "watermark_url"})
    withext = next(t for t in tasks if "external_task_id" in t)
    st, _, _, doc = c.call("GET", f"/v1/{withext['product']}/{withext['task_id']}", auth=jwt())
    kt.eq("legacy.single", (st, doc["data"]["task_id"], doc["data"]["task_info"]),
          (200, withext["task_id"], {"external_task_id": withext["external_task_id"]}))
    st, _, _, doc = c.call("GET", "/v1/videos/text2video/000000")
    kt.eq("legacy.single_unknown", (st, doc["code"]), (404, 1203))
    st, _, _, doc = c.call("GET", "/v1/videos/video-extend?pageNum=1&pageSize=10")
    kt.eq("legacy.empty_product", (st, doc["data"]), (200, []))
    for q in ("pageNum=0", "pageNum=1001", "pageSize=0", "pageSize=501", "pageNum=x"):
        st, _, _, doc = c.call("GET", f"/v1/videos/text2video?{q}")
        kt.eq(f"legacy.err.{q}", (st, doc["code"]), (400, 1201))


def check_seed(c, tasks):
    st, _, _, doc = c.call("GET", "/v1/task/list?page=2&page_size=5", auth=jwt())
    d = doc["data"]
    kt.eq("seed.total", (st, d["total"]), (200, len(tasks)))
    kt.eq("seed.page", [t["task_id"] for t in d["tasks"]], [t["task_id"] for t in tasks[5:10]])
    t0, f0 = d["tasks"][0], tasks[5]
    kt.eq("seed.seconds", (t0["created_at"], t0["updated_at"]),
          (f0["created_at_ms"] // 1000, f0["updated_at_ms"] // 1000))
    kt.eq("seed.task_type", t0["task_type"], f0["product"])
    st, _, _, doc = c.call("GET", "/v1/task/list?status=failed&page_size=100")
    kt.eq("seed.status", doc["data"]["total"], sum(t["status"] == "failed" for t in tasks))
    start = NOW_MS - 10 * DAY_MS
    iso = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(start // 1000))
    st, _, _, doc = c.call("GET", f"/v1/task/list?start_time={iso}&page_size=100")
    kt.eq("seed.start_time", doc["data"]["total"],
          sum(t["created_at_ms"] >= (start // 1000) * 1000 for t in tasks))
    st, _, _, doc = c.call("GET", "/v1/task/list?status=succeeded")
    kt.eq("seed.err.status", (st, doc["code"]), (400, 1201))


def check_auth(c):
    path = "/v1/videos/text2video?pageSize=1"
    cases = [
        ("auth.none", None, 1001),
        ("auth.wrong_key", "nope", 1002),
        ("auth.bad_signature", jwt(sk="other"), 1002),
        ("auth.wrong_iss", jwt(ak="someone-else"), 1002),
        ("auth.padded", jwt() + "=", 1002),
        ("auth.alg_none", jwt(header={"alg": "none", "typ": "JWT"}), 1002),
        ("auth.nbf_future", jwt(nbf_delta=120), 1003),
        ("auth.expired", jwt(nbf_delta=-4000, exp_delta=-1), 1004),
        ("auth.string_claims", jwt(claims={"iss": AK, "exp": str(int(time.time()) + 60),
                                           "nbf": str(int(time.time()) - 5)}), 1002),
    ]
    for name, token, code in cases:
        st, _, _, doc = c.call("GET", path, auth=token)
        kt.eq(name, (st, doc.get("code")), (401, code))
    st, _, _, _ = c.call("GET", path, auth=jwt())
    kt.eq("auth.jwt_ok", st, 200)
    st, _, _, _ = c.call("GET", path, headers={"Authorization": "Bearer " + API_KEY}, auth=None)
    kt.eq("auth.api_key_ok", st, 200)
    st, _, _, doc = c.call("GET", "/account/costs", auth=jwt())
    kt.check("auth.account_costs", st == 200 and doc["data"]["resource_pack_subscribe_infos"])


def check_404(c):
    for path in ("/nope", "/v1/videos/unknown-product", "/_mock/requests"):
        st, _, _, doc = c.call("GET", path)
        kt.eq(f"spring404{path}", (st, set(doc or {}), (doc or {}).get("path")), (404, SPRING_KEYS, path))


def check_log(c):
    c.control("POST", "/_mock/reset")
    c.call("POST", "/tasks?x=1&y=%C3%A9", {"limit": 1})
    c.call("GET", "/v1/videos/text2video?pageSize=1", auth=jwt())
    c.call("GET", "/v1/videos/text2video?pageSize=1", auth="bad")
    c.call("GET", "/v1/videos/text2video?pageSize=1", auth=None)
    log = c.control("GET", "/_mock/requests")
    kt.eq("log.count", len(log), 4)
    e = log[0]
    kt.eq("log.first", (e["n"], e["method"], e["path"], e["query"], e["body"], e["auth"]),
          (1, "POST", "/tasks", {"x": "1", "y": "é"}, {"limit": 1}, "api_key"))
    kt.check("log.headers_lower", e["headers"].get("authorization") == f"Bearer {API_KEY}", str(e["headers"]))
    kt.eq("log.sni", e.get("sni"), "localhost")
    kt.eq("log.auth_kinds", [x["auth"] for x in log], ["api_key", "jwt", "bad", "none"])
    kt.eq("log.jwt_claims", log[1].get("jwt_claims", {}).get("iss"), AK)
    kt.eq("log.since", [x["n"] for x in c.control("GET", "/_mock/requests?since=2")], [3, 4])
    kt.eq("log.control_not_logged", c.control("GET", "/_mock/stats")["requests"], 4)


def check_keep_alive(c):
    c.control("POST", "/_mock/reset")
    conn = c.connect()
    a = c.call("GET", "/v1/videos/text2video?pageSize=2", conn=conn)[0]
    b = c.call("POST", "/tasks", {"limit": 2}, conn=conn)[0]
    conn.close()
    kt.eq("keepalive.two_requests", (a, b), (200, 200))
    stats = c.control("GET", "/_mock/stats")
    kt.eq("keepalive.stats", (stats["connections"], stats["requests"]), (1, 2))
    # a reused connection the server closes: the client sees a disconnect, a retry works
    c.control("POST", "/_mock/reset")
    conn = c.connect()
    c.call("GET", "/v1/videos/text2video?pageSize=1", conn=conn)
    c.fault(mode="close_before_reply", path_prefix="/v1/")
    try:
        c.call("GET", "/v1/videos/text2video?pageSize=1", conn=conn)
        kt.fail("keepalive.close_before_reply", "got an answer")
    except (http.client.RemoteDisconnected, ConnectionError, ssl.SSLError) as e:
        kt.check("keepalive.close_before_reply", True, str(e))
    conn.close()
    st = c.call("GET", "/v1/videos/text2video?pageSize=1")[0]
    log = c.control("GET", "/_mock/requests")
    kt.eq("keepalive.retry", (st, [x["conn_id"] == log[0]["conn_id"] for x in log]), (200, [True, True, False]))
    kt.eq("keepalive.fault_logged", log[1].get("fault"), "close_before_reply")
    conn = c.connect()
    c.call("GET", "/v1/videos/text2video?pageSize=1", conn=conn)
    c.fault(mode="close_before_reply", close_notify=True)
    try:
        c.call("GET", "/v1/videos/text2video?pageSize=1", conn=conn)
        kt.fail("keepalive.close_notify", "got an answer")
    except (http.client.RemoteDisconnected, ConnectionError, ssl.SSLError) as e:
        kt.check("keepalive.close_notify", True, str(e))
    conn.close()


def check_faults(c):
    c.control("POST", "/_mock/reset")
    small = "/tasks?task_ids=none"
    c.fault(mode="kling_error", http=429, code=1302, message="rate limited", retry_after=2)
    st, r, _, doc = c.call("GET", small)
    kt.eq("fault.kling_error", (st, doc["code"], doc["message"], r.getheader("Retry-After")),
          (429, 1302, "rate limited", "2"))
    kt.eq("fault.consumed", c.call("GET", small)[0], 200)

    c.fault(mode="http_error", http=502)
    st, r, raw, doc = c.call("GET", small)
    kt.eq("fault.http_error", (st, r.getheader("Content-Type"), doc, b"502" in raw), (502, "text/html", None, True))

    c.fault(mode="bad_json")
    st, _, raw, doc = c.call("POST", "/tasks", {})
    kt.eq("fault.bad_json", (st, doc is None, len(raw) > 10), (200, True, True))

    c.fault(mode="wrong_shape")
    st, _, _, doc = c.call("POST", "/tasks", {})
    kt.eq("fault.wrong_shape", (st, doc["code"], type(doc["data"]).__name__), (200, 0, "list"))
    c.fault(mode="wrong_shape", data={"result": "x"})
    kt.eq("fault.wrong_shape_data", c.call("GET", small)[3]["data"], {"result": "x"})

    c.fault(mode="hang", seconds=5)
    t0 = time.monotonic()
    try:
        c.call("GET", small, conn=c.connect(timeout=0.5))
        kt.fail("fault.hang", "got an answer")
    except (TimeoutError, socket.timeout):
        kt.check("fault.hang", 0.4 < time.monotonic() - t0 < 2)

    c.fault(mode="slow", interval_ms=5)
    t0 = time.monotonic()
    st, _, raw, doc = c.call("GET", small)
    took = time.monotonic() - t0
    kt.check("fault.slow", st == 200 and doc["data"] == [] and took >= len(raw) * 0.004,
             f"{took:.2f}s for {len(raw)} bytes")

    c.fault(mode="close_mid_body")
    try:
        c.call("POST", "/tasks", {})
        kt.fail("fault.close_mid_body", "full body read")
    except http.client.IncompleteRead as e:
        kt.check("fault.close_mid_body", 0 < len(e.partial) < e.expected + len(e.partial))

    c.fault(mode="oversize", size=5 * 1024 * 1024)
    st, _, raw, doc = c.call("POST", "/tasks", {})
    kt.eq("fault.oversize", (st, len(raw), doc is not None and "data" in doc), (200, 5 * 1024 * 1024, True))

    c.fault(mode="chunked", chunk_size=500, path_prefix="/tasks")
    st, r, raw, doc = c.call("POST", "/tasks", {"limit": 3})
    kt.eq("fault.chunked", (st, r.getheader("Transfer-Encoding"), r.getheader("Content-Length"),
                            len(doc["data"]["result"])), (200, "chunked", None, 3))
    c.fault(mode="chunked", chunk_size=500)
    raw = raw_exchange(c, "POST /tasks HTTP/1.1\r\nHost: localhost\r\nAuthorization: Bearer "
                       f"{API_KEY}\r\nContent-Length: 2\r\nConnection: close\r\n\r\n{{}}")
    kt.check("fault.chunked.extension", b';mock-ext="1"\r\n' in raw)
    kt.check("fault.chunked.trailer", raw.endswith(b"0\r\nX-Mock-Trailer: done\r\n\r\n"), repr(raw[-60:]))

    c.fault(mode="delay", ms=300)
    t0 = time.monotonic()
    st = c.call("GET", small)[0]
    kt.check("fault.delay", st == 200 and time.monotonic() - t0 >= 0.3)

    conn = c.connect()
    c.fault(mode="connection_close")
    st, r, _, _ = c.call("GET", small, conn=conn)
    kt.eq("fault.connection_close", (st, r.getheader("Connection")), (200, "close"))
    conn.close()

    c.fault(mode="kling_error", http=503, code=5001, count=-1, path_prefix="/v1/")
    codes = [c.call("GET", "/v1/videos/text2video?pageSize=1")[0] for _ in range(3)]
    kt.eq("fault.forever_and_prefix", (codes, c.call("GET", small)[0]), ([503, 503, 503], 200))
    kt.eq("fault.pending", [f["mode"] for f in c.control("GET", "/_mock/faults")], ["kling_error"])
    c.control("POST", "/_mock/reset")
    kt.eq("fault.reset_clears", c.call("GET", "/v1/videos/text2video?pageSize=1")[0], 200)
    kt.eq("fault.bad_mode", c.fault(mode="nope").get("ok"), False)


def raw_exchange(c, text):
    """Send raw bytes over TLS, read until the server closes."""
    with socket.create_connection(("127.0.0.1", c.port), timeout=5) as s:
        with c.ctx.wrap_socket(s, server_hostname="localhost") as t:
            t.sendall(text.encode())
            out = b""
            while chunk := t.recv(65536):
                out += chunk
            return out


def check_tls(c):
    st = c.call("GET", "/v1/videos/text2video?pageSize=1")[0]
    conn = c.connect(host="127.0.0.1")
    st2 = c.call("GET", "/v1/videos/text2video?pageSize=1", conn=conn)[0]
    conn.close()
    kt.eq("tls.localhost_and_ip", (st, st2), (200, 200))


def check_second_server(tmp, tasks):
    """--plain-http, --fixture, --legacy-products, --no-seed-endpoint, --count-mode total."""
    path = os.path.join(tmp, "tasks.json")
    with open(path, "wb") as f:
        f.write(subprocess.run([sys.executable, os.path.join(MOCK_DIR, "fixture.py"), "--now-ms",
                                str(NOW_MS)], capture_output=True, check=True).stdout)
    proc = None
    try:
        proc, port = start_mock(tmp, "second", [
            "--plain-http", "--fixture", path, "--api-key", API_KEY, "--now-ms", str(NOW_MS),
            "--legacy-products", "videos/text2video", "--no-seed-endpoint", "--count-mode", "total"])
        c = Client(port)
        st, _, _, doc = c.call("POST", "/tasks", {"limit": 5})
        kt.eq("second.count_total", (st, doc["data"]["count"]),
              (200, sum(t["created_at_ms"] >= NOW_MS - 30 * DAY_MS for t in tasks)))
        kt.eq("second.legacy_kept", c.call("GET", "/v1/videos/text2video")[0], 200)
        st, _, _, doc = c.call("GET", "/v1/images/generations")
        kt.eq("second.legacy_404", (st, doc.get("error")), (404, "Not Found"))
        st, _, _, doc = c.call("GET", "/v1/task/list")
        kt.eq("second.seed_404", (st, doc.get("error")), (404, "Not Found"))
        st, _, _, doc = c.call("GET", "/v1/videos/text2video", auth=jwt())
        kt.eq("second.no_aksk_configured", (st, doc.get("code")), (401, 1002))
        proc.send_signal(signal.SIGTERM)
        try:
            kt.eq("second.sigterm_exit", proc.wait(timeout=5), 0)
        except subprocess.TimeoutExpired:
            kt.fail("second.sigterm_exit", "still running 5 s after SIGTERM")
    finally:
        stop(proc)
    r = subprocess.run([sys.executable, MOCK, "--plain-http", "--host", "0.0.0.0"],
                       capture_output=True, timeout=10)
    kt.check("cli.host_refused", r.returncode != 0 and b"refused" in r.stderr, r.stderr.decode())


def main():
    if not shutil.which("openssl"):
        kt.plan(1)
        kt.skip("mock", "openssl not installed")
        kt.done()
    kt.plan(132)
    tmp = tempfile.mkdtemp(prefix="kling-mock-test-")
    proc = None
    try:
        ca, cert, key = make_certs(tmp)
        tasks = fixture.make_tasks(NOW_MS)
        check_fixture(tasks)
        proc, port = start_mock(tmp, "main", [
            "--cert", cert, "--key", key, "--api-key", API_KEY, "--access-key", AK,
            "--secret-key", SK, "--now-ms", str(NOW_MS)])
        c = Client(port, ca)
        check_tls(c)
        check_tasks_endpoint(c, tasks)
        check_legacy(c, tasks)
        check_seed(c, tasks)
        check_auth(c)
        check_404(c)
        check_log(c)
        check_keep_alive(c)
        check_faults(c)
        check_second_server(tmp, tasks)
    except Exception as e:  # a crash in the suite is one failure, not a silent stop
        import traceback
        traceback.print_exc()
        kt.fail("mock.suite", f"{type(e).__name__}: {e}")
    finally:
        stop(proc)
        shutil.rmtree(tmp, ignore_errors=True)
    kt.done()


if __name__ == "__main__":
    main()

#!/usr/bin/env python3
"""Mock Kling AI API server for kling-mcp's end-to-end tests and `make demo`.

Python 3 standard library only. Serves the three listing shapes described in
the Kling API's documentation over HTTPS (a test CA signs --cert), from the
synthetic task set of fixture.py (or a --fixture JSON file):

    POST /tasks                         unified listing (API key only; a valid JWT gets 401/1002)
    GET  /tasks?task_ids=a,b            lookup by id (or external_task_ids=)
    GET  /v1/<product>?pageNum&pageSize legacy per-product list (API key or JWT)
    GET  /v1/<product>/<task_id>        legacy single task
    GET  /v1/task/list?page&page_size&status&start_time&end_time   the seed's shape
    GET  /account/costs                 minimal resource-pack answer (credential check)
    anything else                       the non-Kling "Spring" 404 body

Test control (header `X-Mock-Control: 1`, no auth, never logged):

    POST /_mock/fault     queue a fault for the next N matching requests
    GET  /_mock/faults    pending faults
    GET  /_mock/requests  log of every request since the last reset (?since=N)
    GET  /_mock/stats     {"connections","requests","accepted","handshake_errors"}
    POST /_mock/reset     clear the log, the faults and the counters
    POST /_mock/live_task add a task whose status moves on a schedule (submitted ->
                          processing -> succeed by default), timed from its first look-up
    GET  /_mock/live_task?task_id=  its status now and when its clock started

See tests/mock/README.md for the flags and the fault modes.
"""
import argparse
import base64
import hashlib
import hmac
import http
import ipaddress
import json
import os
import re
import select
import signal
import socket
import socketserver
import ssl
import sys
import threading
import time
import traceback
import uuid
from datetime import datetime, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qsl, urlsplit

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import fixture  # noqa: E402

DAY_MS = 86_400_000
MAX_REQUEST_BODY = 16 * 1024 * 1024

DEFAULT_LEGACY_PRODUCTS = [
    "videos/text2video", "videos/image2video", "videos/omni-video", "videos/video-extend",
    "images/generations", "images/kolors-virtual-try-on", "videos/multi-image2video",
    "videos/effects",
]
AKSK_REFUSED = ("Authentication error. The current API does not support AK/SK; "
                "please go to the console ... to create API key.")
TASKS_STATUS = {"submitted": "submitted", "processing": "processing",
                "succeed": "succeeded", "failed": "failed"}
SEED_STATUSES = {"submitted", "processing", "succeed", "failed"}
PRODUCT_TYPES = {"video", "image", "try_on"}
COUNT_MODES = ("page", "total")

FAULT_MODES = {"kling_error", "http_error", "bad_json", "wrong_shape", "hang", "slow",
               "close_mid_body", "close_before_reply", "oversize", "chunked", "delay",
               "connection_close"}
HTML_502 = ("<html>\r\n<head><title>502 Bad Gateway</title></head>\r\n<body>\r\n"
            "<center><h1>502 Bad Gateway</h1></center>\r\n</body>\r\n</html>\r\n")


# --------------------------------------------------------------------------- replies

class KlingError(Exception):
    """An error answered with the Kling envelope {code, message, request_id}."""

    def __init__(self, http_status, code, message):
        super().__init__(message)
        self.http_status, self.code, self.message = http_status, code, message


class Reply:
    """A complete HTTP answer; `obj` is the JSON document when there is one."""

    def __init__(self, status, obj=None, body=None, content_type="application/json; charset=utf-8",
                 headers=None):
        self.status = status
        self.obj = obj
        self.body = body if body is not None else json_bytes(obj)
        self.content_type = content_type
        self.headers = list(headers or [])


def json_bytes(obj):
    return json.dumps(obj, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def request_id():
    return str(uuid.uuid4())


def kling_ok(data):
    return Reply(200, {"code": 0, "message": "SUCCEED", "request_id": request_id(), "data": data})


def kling_error(http_status, code, message, headers=None):
    return Reply(http_status, {"code": code, "message": message, "request_id": request_id()},
                 headers=headers)


def spring_404(path):
    stamp = datetime.now(timezone.utc).isoformat(timespec="milliseconds")
    return Reply(404, {"timestamp": stamp, "status": 404, "error": "Not Found",
                       "message": "No message available", "path": path})


def bad_param(message):
    return KlingError(400, 1201, message)


# --------------------------------------------------------------------------- auth

def b64url_decode_strict(part):
    """base64url without padding (RFC 7515); padded or non-alphabet input is refused."""
    if not part or not re.fullmatch(r"[A-Za-z0-9_-]+", part) or len(part) % 4 == 1:
        raise ValueError("not unpadded base64url")
    return base64.urlsafe_b64decode(part + "=" * (-len(part) % 4))


def b64url_encode(raw):
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")


def _int_claim(claims, name):
    v = claims.get(name)
    if not isinstance(v, int) or isinstance(v, bool):
        raise ValueError(f"claim {name} missing or not an integer")
    return v


def verify_jwt(token, access_key, secret_key, now_s):
    """Return the claims of a valid HS256 token, else raise KlingError 1002/1003/1004."""
    invalid = KlingError(401, 1002, "Authorization is invalid")
    try:
        h64, p64, s64 = token.split(".")
        header = json.loads(b64url_decode_strict(h64))
        claims = json.loads(b64url_decode_strict(p64))
        sig = b64url_decode_strict(s64)
        if not isinstance(header, dict) or not isinstance(claims, dict):
            raise ValueError("header or claims not an object")
        if header.get("alg") != "HS256" or header.get("typ", "JWT") != "JWT":
            raise ValueError("alg/typ")
        want = hmac.new(secret_key.encode(), f"{h64}.{p64}".encode(), hashlib.sha256).digest()
        if not hmac.compare_digest(sig, want):
            raise ValueError("signature")
        if not isinstance(claims.get("iss"), str) or not hmac.compare_digest(
                claims["iss"].encode(), access_key.encode()):
            raise ValueError("iss")
        nbf, exp = _int_claim(claims, "nbf"), _int_claim(claims, "exp")
    except (ValueError, TypeError, UnicodeDecodeError):
        raise invalid from None
    if nbf > now_s:
        raise KlingError(401, 1003, "Authorization is not yet valid")
    if exp <= now_s:
        raise KlingError(401, 1004, "Authorization has expired")
    return claims


class Auth:
    """Outcome of checking the Authorization header of one request."""

    def __init__(self, kind, claims=None, error=None):
        self.kind, self.claims, self.error = kind, claims, error  # kind: api_key|jwt|none|bad


def authenticate(header, cfg):
    if header is None or not header.strip():
        return Auth("none", error=KlingError(401, 1001, "Authorization is empty"))
    scheme, _, token = header.strip().partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer":
        return Auth("bad", error=KlingError(401, 1002, "Authorization is invalid"))
    if not token:
        return Auth("none", error=KlingError(401, 1001, "Authorization is empty"))
    if cfg.api_key and hmac.compare_digest(token.encode(), cfg.api_key.encode()):
        return Auth("api_key")
    if cfg.access_key and cfg.secret_key and token.count(".") == 2:
        try:
            claims = verify_jwt(token, cfg.access_key, cfg.secret_key,
                                int(time.time()) + cfg.jwt_clock_offset_s)
            return Auth("jwt", claims=claims)
        except KlingError as e:
            return Auth("bad", error=e)
    return Auth("bad", error=KlingError(401, 1002, "Authorization is invalid"))


def require(auth, api_key_only=False):
    """Raise the auth error of this request, or 1002 for a valid JWT where only API keys work."""
    if auth.error:
        raise auth.error
    if api_key_only and auth.kind == "jwt":
        raise KlingError(401, 1002, AKSK_REFUSED)


# --------------------------------------------------------------------------- rendering

def render_task(t):
    """Normalized fixture task -> the TASK object of POST /tasks."""
    outputs = []
    for o in t.get("outputs", []):
        if o["type"] == "video":
            outputs.append({k: o[k] for k in ("type", "id", "url", "watermark_url", "duration")})
        elif o["type"] == "image":
            outputs.append({k: o[k] for k in ("type", "url", "watermark_url")})
        else:
            outputs.append(dict(o))
    return {"id": t["task_id"], "status": TASKS_STATUS[t["status"]], "message": t["status_message"],
            "create_time": t["created_at_ms"], "update_time": t["updated_at_ms"],
            "external_id": t.get("external_task_id", ""), "outputs": outputs, "billing": []}


def render_item(t):
    """Normalized fixture task -> the ITEM object of the legacy /v1/<product> endpoints."""
    videos = [{k: o[k] for k in ("id", "url", "watermark_url", "duration")}
              for o in t.get("outputs", []) if o["type"] == "video"]
    images = [{k: o[k] for k in ("index", "url", "watermark_url")}
              for o in t.get("outputs", []) if o["type"] == "image"]
    result = {"videos": videos} if videos else {"images": images} if images else {}
    info = {"external_task_id": t["external_task_id"]} if "external_task_id" in t else {}
    return {"task_id": t["task_id"], "task_status": t["status"], "task_status_msg": t["status_message"],
            "task_info": info, "created_at": t["created_at_ms"], "updated_at": t["updated_at_ms"],
            "final_unit_deduction": "1" if t["status"] == "succeed" else "0",
            "watermark_info": {"enabled": False}, "task_result": result}


def render_seed(t):
    """Normalized fixture task -> the tasks[] entry of GET /v1/task/list (times in seconds)."""
    out = {"task_id": t["task_id"], "task_type": t["product"], "task_status": t["status"],
           "created_at": t["created_at_ms"] // 1000, "updated_at": t["updated_at_ms"] // 1000}
    if "model_name" in t:
        out["model_name"] = t["model_name"]
    return out


# --------------------------------------------------------------------------- parameters

def parse_ms(value, name, default):
    if value is None or value == "":
        return default
    if isinstance(value, int) and not isinstance(value, bool) and value >= 0:
        return value
    if isinstance(value, str) and value.isascii() and value.isdigit():
        return int(value)
    raise bad_param(f"{name} is invalid: expected Unix milliseconds")


def parse_limit(value):
    if value is None:
        return 100
    if isinstance(value, str) and value.isascii() and value.isdigit():
        value = int(value)
    if not isinstance(value, int) or isinstance(value, bool) or not 1 <= value <= 500:
        raise bad_param("limit is invalid: must be between 1 and 500")
    return value


def parse_filters(value):
    """[{key, values}] -> list of (key, frozenset of internal values); AND across entries."""
    if value is None:
        return []
    if not isinstance(value, list):
        raise bad_param("filters is invalid: expected an array")
    out = []
    for f in value:
        if not isinstance(f, dict) or not isinstance(f.get("values"), list) or not f["values"]:
            raise bad_param("filters is invalid: each filter needs key and non-empty values")
        key, values = f.get("key"), f["values"]
        if key == "status":
            allowed = {v: k for k, v in TASKS_STATUS.items()}  # succeeded -> succeed
        elif key == "product_type":
            allowed = {v: v for v in PRODUCT_TYPES}
        else:
            raise bad_param(f"filters is invalid: unknown key {key!r}")
        for v in values:
            if not isinstance(v, str) or v not in allowed:
                raise bad_param(f"filters is invalid: {key} value {v!r} is not supported")
        out.append((key, frozenset(allowed[v] for v in values)))
    return out


def filter_hash(filters):
    canon = json.dumps(sorted([k, sorted(v)] for k, v in filters))
    return hashlib.sha256(canon.encode()).hexdigest()[:12]


def task_matches(t, filters):
    field = {"status": "status", "product_type": "product_type"}
    return all(t[field[k]] in values for k, values in filters)


def encode_cursor(offset, start, end, fhash):
    doc = {"v": 1, "o": offset, "s": start, "e": end, "f": fhash}
    return b64url_encode(json.dumps(doc, separators=(",", ":")).encode())


def decode_cursor(cursor):
    try:
        doc = json.loads(b64url_decode_strict(cursor))
        if doc.get("v") != 1 or not all(isinstance(doc.get(k), int) for k in "ose"):
            raise ValueError
        return doc
    except (ValueError, TypeError, AttributeError, UnicodeDecodeError):
        raise bad_param("cursor is invalid") from None


def query_int(query, name, default, lo, hi):
    raw = query.get(name)
    if raw is None or raw == "":
        return default
    if not (raw.isascii() and raw.isdigit()) or not lo <= int(raw) <= hi:
        raise bad_param(f"{name} is invalid: must be an integer between {lo} and {hi}")
    return int(raw)


def parse_iso_ms(raw, name):
    try:
        dt = datetime.fromisoformat(raw.strip())
    except ValueError:
        raise bad_param(f"{name} is invalid: expected ISO 8601") from None
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=timezone.utc)
    return int(dt.timestamp() * 1000)


def parse_json_body(body):
    if not body.strip():
        return {}
    try:
        doc = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        raise KlingError(400, 1200, "Invalid request parameters: body is not JSON") from None
    if not isinstance(doc, dict):
        raise KlingError(400, 1200, "Invalid request parameters: body is not a JSON object")
    return doc


# --------------------------------------------------------------------------- the API

class Api:
    """The Kling endpoints over a fixed task set (newest first)."""

    def __init__(self, cfg, tasks):
        self.cfg = cfg
        self.fixed = sorted(tasks, key=lambda t: (-t["created_at_ms"], t["task_id"]))
        self.lock = threading.Lock()
        self.live = {}  # task_id -> LiveTask, added by the control API

    # The fixture's tasks never change; live tasks are rendered as they are now.
    def all_tasks(self):
        with self.lock:
            live = [lt.view(self.now_ms()) for lt in self.live.values()]
        return sorted(live + self.fixed, key=lambda t: (-t["created_at_ms"], t["task_id"]))

    @property
    def tasks(self):
        return self.all_tasks()

    def add_live(self, spec):
        with self.lock:
            taken = {t["task_id"] for t in self.fixed} | set(self.live)
            lt = LiveTask(spec, self.now_ms(), taken)
            self.live[lt.task["task_id"]] = lt
            return lt

    def live_state(self, task_id):
        with self.lock:
            lt = self.live.get(task_id)
            return None if lt is None else lt.describe(self.now_ms())

    def lookup(self, task_id=None, external_task_id=None, product=None):
        """Tasks with this id (or external id, and product when given) as they are now.
        A look-up that finds a live task starts its clock."""
        def hit(t):
            return ((task_id is not None and t["task_id"] == task_id)
                    or (external_task_id is not None and t.get("external_task_id") == external_task_id)) \
                and product in (None, t["product"])
        with self.lock:
            for lt in self.live.values():
                if hit(lt.task):
                    lt.looked_up()
        return [t for t in self.all_tasks() if hit(t)]

    def now_ms(self):
        return self.cfg.now_ms if self.cfg.now_ms is not None else int(time.time() * 1000)

    def route(self, method, path, query, body, auth):
        """One request -> Reply. Unknown paths answer the Spring 404 without checking auth."""
        try:
            return self._route(method, path, query, body, auth)
        except KlingError as e:
            return kling_error(e.http_status, e.code, e.message)

    def _route(self, method, path, query, body, auth):
        if path == "/tasks":
            if method == "POST":
                require(auth, api_key_only=True)
                return self.tasks_list(parse_json_body(body))
            if method == "GET":
                require(auth, api_key_only=True)
                return self.tasks_lookup(query)
            raise KlingError(404, 1202, "Invalid request method")
        if path == "/v1/task/list" and self.cfg.seed_endpoint:
            self._only(method, "GET")
            require(auth)
            return self.seed_list(query)
        if path == "/account/costs":
            self._only(method, "GET")
            require(auth)
            return self.account_costs()
        parts = path.split("/")
        if len(parts) in (4, 5) and parts[1] == "v1":
            product = "/".join(parts[2:4])
            if product in self.cfg.legacy_products:
                self._only(method, "GET")
                require(auth)
                if len(parts) == 4:
                    return self.legacy_list(product, query)
                return self.legacy_single(product, parts[4])
        return spring_404(path)

    @staticmethod
    def _only(method, allowed):
        if method != allowed:
            raise KlingError(404, 1202, "Invalid request method")

    # POST /tasks
    def tasks_list(self, params):
        filters = parse_filters(params.get("filters"))
        limit = parse_limit(params.get("limit"))
        fhash = filter_hash(filters)
        cursor = params.get("cursor")
        if cursor is not None and not isinstance(cursor, str):
            raise bad_param("cursor is invalid")
        if cursor:
            c = decode_cursor(cursor)
            if c["f"] != fhash:
                raise bad_param("cursor is invalid: filters differ from the first page")
            start, end, offset = c["s"], c["e"], c["o"]
        else:
            end = parse_ms(params.get("end_time"), "end_time", self.now_ms())
            start = parse_ms(params.get("start_time"), "start_time", end - 30 * DAY_MS)
            if start >= end:
                raise bad_param("start_time is invalid: must be earlier than end_time")
            offset = 0
        matching = [t for t in self.all_tasks()
                    if start <= t["created_at_ms"] <= end and task_matches(t, filters)]
        page = matching[offset:offset + limit]
        has_more = offset + limit < len(matching)
        return kling_ok({
            "result": [render_task(t) for t in page],
            "count": len(page) if self.cfg.count_mode == "page" else len(matching),
            "next_cursor": encode_cursor(offset + limit, start, end, fhash) if has_more else "",
            "has_more": has_more,
        })

    # GET /tasks?task_ids=
    def tasks_lookup(self, query):
        ids = [i for i in query.get("task_ids", "").split(",") if i]
        exts = [i for i in query.get("external_task_ids", "").split(",") if i]
        if not ids and not exts:
            raise bad_param("task_ids is invalid: task_ids or external_task_ids is required")
        found, seen = [], set()
        hits = [x for i in ids for x in self.lookup(task_id=i)] + \
               [x for e in exts for x in self.lookup(external_task_id=e)]
        for t in hits:
            if t["task_id"] not in seen:
                seen.add(t["task_id"])
                found.append(t)
        return kling_ok([render_task(t) for t in found])

    # GET /v1/<product>
    def legacy_list(self, product, query):
        page = query_int(query, "pageNum", 1, 1, 1000)
        size = query_int(query, "pageSize", 30, 1, 500)
        mine = [t for t in self.all_tasks() if t["product"] == product]
        return kling_ok([render_item(t) for t in mine[(page - 1) * size:page * size]])

    # GET /v1/<product>/<id>: the path takes the task id or the external task id
    def legacy_single(self, product, some_id):
        found = self.lookup(task_id=some_id, product=product) or \
            self.lookup(external_task_id=some_id, product=product)
        if not found:
            raise KlingError(404, 1203, "Task not found")
        return kling_ok(render_item(found[0]))

    # GET /v1/task/list
    def seed_list(self, query):
        page = query_int(query, "page", 1, 1, 100000)
        size = query_int(query, "page_size", 10, 1, 500)
        status = query.get("status") or None
        if status is not None and status not in SEED_STATUSES:
            raise bad_param(f"status is invalid: {status!r}")
        start = parse_iso_ms(query["start_time"], "start_time") if query.get("start_time") else None
        end = parse_iso_ms(query["end_time"], "end_time") if query.get("end_time") else None
        if start is not None and end is not None and start >= end:
            raise bad_param("start_time is invalid: must be earlier than end_time")
        matching = [t for t in self.all_tasks()
                    if (status is None or t["status"] == status)
                    and (start is None or t["created_at_ms"] >= start)
                    and (end is None or t["created_at_ms"] <= end)]
        chunk = matching[(page - 1) * size:page * size]
        return kling_ok({"total": len(matching), "page": page, "page_size": size,
                         "tasks": [render_seed(t) for t in chunk]})

    # GET /account/costs
    def account_costs(self):
        now = self.now_ms()
        return kling_ok({"code": 0, "msg": "success", "resource_pack_subscribe_infos": [{
            "resource_pack_name": "Mock video pack", "resource_pack_id": "mock-pack-1",
            "resource_pack_type": "decreasing_total", "total_quantity": 200.0,
            "remaining_quantity": 118.0, "purchase_time": now - 10 * DAY_MS,
            "effective_time": now - 10 * DAY_MS, "invalid_time": now + 355 * DAY_MS,
            "status": "online"}]})


# --------------------------------------------------------------------------- live tasks

LIVE_PRODUCTS = {"videos/text2video": "video", "videos/image2video": "video", "videos/omni-video": "video",
                 "videos/video-extend": "video", "videos/multi-image2video": "video", "videos/effects": "video",
                 "images/generations": "image", "images/kolors-virtual-try-on": "try_on"}
DEFAULT_STEPS = [{"after_ms": 0, "status": "submitted"}, {"after_ms": 1000, "status": "processing"},
                 {"after_ms": 3000, "status": "succeed"}]


class LiveTask:
    """A task whose status follows `steps` ([{after_ms, status}], after_ms increasing
    from 0). The clock starts at its first look-up (`start: "first_lookup"`, the
    default) or when it is added (`start: "added"`); until then it is in its first
    step. Succeed gives it one output of its product's kind; failed, `message`."""

    def __init__(self, spec, now_ms, taken):
        if not isinstance(spec, dict):
            raise ValueError("body must be a JSON object")
        product = spec.get("product", "videos/text2video")
        if product not in LIVE_PRODUCTS:
            raise ValueError(f"product must be one of {sorted(LIVE_PRODUCTS)}")
        steps = spec.get("steps", DEFAULT_STEPS)
        if not isinstance(steps, list) or not steps or any(
                not isinstance(st, dict) or st.get("status") not in SEED_STATUSES
                or not isinstance(st.get("after_ms"), int) or isinstance(st.get("after_ms"), bool)
                for st in steps):
            raise ValueError("steps must be a non-empty list of {after_ms: int, status}")
        offsets = [st["after_ms"] for st in steps]
        if offsets[0] != 0 or offsets != sorted(set(offsets)):
            raise ValueError("steps: after_ms must start at 0 and increase")
        start = spec.get("start", "first_lookup")
        if start not in ("first_lookup", "added"):
            raise ValueError("start must be first_lookup or added")
        task_id = spec.get("task_id")
        if task_id is None:  # 18 digits like the fixture's, starting 8 for "live"
            n = len(taken)
            while (task_id := f"8{n:017d}") in taken:
                n += 1
        if not isinstance(task_id, str) or not re.fullmatch(r"[A-Za-z0-9_-]{1,64}", task_id):
            raise ValueError("task_id must be 1..64 characters of [A-Za-z0-9_-]")
        if task_id in taken:
            raise ValueError(f"task_id {task_id} is taken")
        ext = spec.get("external_task_id")
        if ext is not None and (not isinstance(ext, str) or not re.fullmatch(r"[A-Za-z0-9_.-]{1,64}", ext)):
            raise ValueError("external_task_id must be 1..64 characters of [A-Za-z0-9_.-]")
        self.steps = [(st["after_ms"], st["status"]) for st in steps]
        self.message = spec.get("message", "Generation failed (mock live task)")
        self.clock = time.monotonic() if start == "added" else None
        self.clock_wall_ms = int(time.time() * 1000) if start == "added" else None
        self.lookups = 0
        self.task = {"task_id": task_id, "product": product, "product_type": LIVE_PRODUCTS[product],
                     "status": self.steps[0][1], "status_message": "", "created_at_ms": now_ms - 1000,
                     "updated_at_ms": now_ms - 1000, "outputs": []}
        if ext is not None:
            self.task["external_task_id"] = ext
        if isinstance(spec.get("model_name"), str):
            self.task["model_name"] = spec["model_name"]

    def looked_up(self):
        self.lookups += 1
        if self.clock is None:
            self.clock = time.monotonic()
            self.clock_wall_ms = int(time.time() * 1000)

    def elapsed_ms(self):
        return 0 if self.clock is None else int((time.monotonic() - self.clock) * 1000)

    def step(self):
        elapsed = self.elapsed_ms()
        return [st for st in self.steps if st[0] <= elapsed][-1]

    def view(self, _now_ms):
        """The normalized task (fixture.py's shape) as it is now."""
        after, status = self.step()
        t = dict(self.task, status=status, outputs=[])
        t["updated_at_ms"] = t["created_at_ms"] + after
        tid = t["task_id"]
        exp = "x-expires=1900000000&x-signature=live"
        if status == "failed":
            t["status_message"] = self.message
        elif status == "succeed" and t["product_type"] == "video":
            t["outputs"] = [{"type": "video", "id": f"{tid}-v0", "url": f"{fixture.CDN}/videos/{tid}.mp4?{exp}",
                             "watermark_url": f"{fixture.CDN}/videos/{tid}_wm.mp4?{exp}", "duration": "5.1"}]
        elif status == "succeed":
            t["outputs"] = [{"type": "image", "index": 0, "url": f"{fixture.CDN}/images/{tid}_0.png?{exp}",
                             "watermark_url": f"{fixture.CDN}/images/{tid}_0_wm.png?{exp}"}]
        return t

    def describe(self, now_ms):
        t = self.view(now_ms)
        out = {"task_id": t["task_id"], "status": t["status"], "product": t["product"],
               "lookups": self.lookups, "elapsed_ms": self.elapsed_ms(), "clock_started_ms": self.clock_wall_ms,
               "steps": [{"after_ms": a, "status": s} for a, s in self.steps]}
        if "external_task_id" in t:
            out["external_task_id"] = t["external_task_id"]
        return out


# --------------------------------------------------------------------------- shared state

class Fault:
    def __init__(self, spec):
        self.mode = spec.get("mode")
        if self.mode not in FAULT_MODES:
            raise ValueError(f"unknown mode {self.mode!r}; one of {sorted(FAULT_MODES)}")
        self.remaining = spec.get("count", 1)
        if not isinstance(self.remaining, int) or isinstance(self.remaining, bool) \
                or (self.remaining < 1 and self.remaining != -1):
            raise ValueError("count must be a positive integer or -1")
        self.path_prefix = spec.get("path_prefix") or ""
        self.method = spec.get("method")
        self.params = {k: v for k, v in spec.items()
                       if k not in ("mode", "count", "path_prefix", "method")}

    def matches(self, method, path):
        return path.startswith(self.path_prefix) and self.method in (None, method)

    def describe(self):
        return {"mode": self.mode, "count": self.remaining, "path_prefix": self.path_prefix,
                "method": self.method, **self.params}


class State:
    """Request log, fault queue and counters, shared by all connection threads."""

    def __init__(self):
        self.lock = threading.Lock()
        self.next_conn = 0
        self.reset()

    def reset(self):
        with self.lock:
            self.log, self.faults = [], []
            self.accepted = self.handshake_errors = 0

    def new_connection(self):
        with self.lock:
            self.next_conn += 1
            self.accepted += 1
            return self.next_conn

    def handshake_failed(self):
        with self.lock:
            self.handshake_errors += 1

    def record(self, entry):
        with self.lock:
            entry["n"] = len(self.log) + 1
            self.log.append(entry)

    def add_fault(self, fault):
        with self.lock:
            self.faults.append(fault)
            return len(self.faults)

    def take_fault(self, method, path):
        with self.lock:
            for f in self.faults:
                if f.matches(method, path):
                    if f.remaining > 0:
                        f.remaining -= 1
                        if f.remaining == 0:
                            self.faults.remove(f)
                    return f
        return None

    def snapshot(self, since=0):
        with self.lock:
            return [e for e in self.log if e["n"] > since]

    def stats(self):
        with self.lock:
            return {"connections": len({e["conn_id"] for e in self.log}),
                    "requests": len(self.log), "accepted": self.accepted,
                    "handshake_errors": self.handshake_errors}


# --------------------------------------------------------------------------- HTTP layer

def reason(status):
    try:
        return http.HTTPStatus(status).phrase
    except ValueError:
        return "Unknown"


def parse_query(raw):
    out = {}
    for k, v in parse_qsl(raw, keep_blank_values=True):
        if k in out:
            out[k] = out[k] if isinstance(out[k], list) else [out[k]]
            out[k].append(v)
        else:
            out[k] = v
    return out


def single_values(query):
    """Query dict with the last value of repeated names (what the routes read)."""
    return {k: (v[-1] if isinstance(v, list) else v) for k, v in query.items()}


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "kling-mock/1.0"
    sys_version = ""
    timeout = 120  # idle keep-alive connections are dropped after this

    def setup(self):
        super().setup()
        self.conn_id = self.server.state.new_connection()

    def log_message(self, fmt, *args):
        if self.server.cfg.verbose:
            sys.stderr.write("kling-mock: [conn %d] %s\n" % (self.conn_id, fmt % args))

    def do_any(self):
        try:
            body = self.read_body()
        except ValueError as e:
            self.close_connection = True
            self.send_reply(Reply(400, body=str(e).encode(), content_type="text/plain"))
            return
        url = urlsplit(self.path)
        query = parse_query(url.query)
        if url.path.startswith("/_mock/") and self.headers.get("X-Mock-Control") == "1":
            self.send_reply(self.control(url.path, single_values(query), body))
            return
        state, api = self.server.state, self.server.api
        auth = authenticate(self.headers.get("Authorization"), self.server.cfg)
        fault = state.take_fault(self.command, url.path)
        state.record(self.log_entry(url, query, body, auth, fault))
        try:
            reply = api.route(self.command, url.path, single_values(query), body, auth)
        except Exception:  # a mock bug: say so, keep serving
            traceback.print_exc()
            reply = kling_error(500, 5000, "mock internal error")
        if fault is None:
            self.send_reply(reply)
        else:
            self.apply_fault(fault, reply)

    do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = do_HEAD = do_OPTIONS = do_any

    # ---- request side

    def read_body(self):
        if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
            return self.read_chunked()
        raw = self.headers.get("Content-Length")
        if raw is None:
            return b""
        if not raw.strip().isdigit() or int(raw) > MAX_REQUEST_BODY:
            raise ValueError("bad Content-Length")
        return self.rfile.read(int(raw))

    def read_chunked(self):
        body = b""
        while True:
            line = self.rfile.readline(1024).split(b";")[0].strip()
            size = int(line, 16)
            if size == 0:
                while self.rfile.readline(8192).strip():
                    pass  # trailer
                return body
            body += self.rfile.read(size)
            self.rfile.readline(8)
            if len(body) > MAX_REQUEST_BODY:
                raise ValueError("request body too large")

    def log_entry(self, url, query, body, auth, fault):
        headers = {}
        for k, v in self.headers.items():
            k = k.lower()
            headers[k] = headers[k] + ", " + v if k in headers else v
        try:
            parsed = json.loads(body) if body else None
        except (ValueError, UnicodeDecodeError):
            parsed = body.decode("utf-8", "replace")
        entry = {"conn_id": self.conn_id, "method": self.command, "path": url.path,
                 "target": self.path, "query": query, "headers": headers, "body": parsed,
                 "auth": auth.kind, "http_version": self.request_version,
                 "time_ms": int(time.time() * 1000)}
        if auth.claims is not None:
            entry["jwt_claims"] = auth.claims
        if auth.error is not None:
            entry["auth_error"] = auth.error.code
        if fault is not None:
            entry["fault"] = fault.mode
        sni = getattr(self.connection, "mock_sni", None)
        if isinstance(self.connection, ssl.SSLSocket):
            entry["sni"] = sni
            entry["tls_version"] = self.connection.version()
        return entry

    # ---- response side

    def head_bytes(self, reply, length=None, extra=()):
        lines = [f"HTTP/1.1 {reply.status} {reason(reply.status)}",
                 f"Date: {self.date_time_string()}",
                 f"Server: {self.server_version}",
                 f"Content-Type: {reply.content_type}"]
        if length is not None:
            lines.append(f"Content-Length: {length}")
        lines += [f"{k}: {v}" for k, v in list(reply.headers) + list(extra)]
        lines.append("Connection: close" if self.close_connection else "Connection: keep-alive")
        return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")

    def send_reply(self, reply):
        body = b"" if self.command == "HEAD" else reply.body
        self.wfile.write(self.head_bytes(reply, len(reply.body)) + body)
        self.wfile.flush()
        self.log_request(reply.status, len(reply.body))

    def drop(self):
        """Close the connection now, without another byte."""
        self.close_connection = True
        try:
            self.connection.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass

    # ---- faults

    def apply_fault(self, fault, reply):
        getattr(self, "fault_" + fault.mode)(fault.params, reply)

    def fault_kling_error(self, p, _reply):
        headers = list((p.get("headers") or {}).items())
        if "retry_after" in p:
            headers.append(("Retry-After", str(p["retry_after"])))
        self.send_reply(kling_error(int(p.get("http", 400)), int(p.get("code", 1200)),
                                    p.get("message", "mock error"), headers))

    def fault_http_error(self, p, _reply):
        status = int(p.get("http", p.get("status", 502)))
        body = p.get("body", HTML_502 if status == 502 else f"<html><body>{status}</body></html>")
        headers = list((p.get("headers") or {}).items())
        raw = bytes.fromhex(p["body_hex"]) if "body_hex" in p else body.encode("utf-8")  # binary bodies (gzip)
        self.send_reply(Reply(status, body=raw,
                              content_type=p.get("content_type", "text/html"), headers=headers))

    def fault_bad_json(self, _p, reply):
        body = reply.body[: max(1, len(reply.body) // 2)]
        self.send_reply(Reply(200, body=body))

    def fault_wrong_shape(self, p, reply):
        obj = dict(reply.obj) if isinstance(reply.obj, dict) else {"code": 0}
        if "data" in p:
            obj["data"] = p["data"]
        elif isinstance(obj.get("data"), list):
            obj["data"] = {"result": 42}
        elif isinstance(obj.get("data"), dict):
            obj["data"] = [1, 2, 3]
        else:
            obj["data"] = "unexpected"
        obj.update(code=0, message="SUCCEED")
        self.send_reply(Reply(200, obj))

    def fault_hang(self, p, _reply):
        deadline = time.monotonic() + float(p.get("seconds", 60))
        sock = self.connection
        while (left := deadline - time.monotonic()) > 0:
            try:
                ready, _, _ = select.select([sock], [], [], min(left, 0.5))
                if ready and not sock.recv(4096):
                    break  # the client went away
            except ssl.SSLWantReadError:
                continue
            except OSError:
                break
        self.drop()

    def fault_slow(self, p, reply):
        interval = float(p.get("interval_ms", 100)) / 1000
        self.wfile.write(self.head_bytes(reply, len(reply.body)))
        try:
            for i in range(len(reply.body)):
                time.sleep(interval)
                self.wfile.write(reply.body[i:i + 1])
        except OSError:
            self.drop()

    def fault_close_mid_body(self, _p, reply):
        self.wfile.write(self.head_bytes(reply, len(reply.body)) + reply.body[: len(reply.body) // 2])
        self.drop()

    def fault_close_before_reply(self, p, _reply):
        if p.get("close_notify") and isinstance(self.connection, ssl.SSLSocket):
            try:  # a graceful TLS close (what an idle-timeout close looks like), then FIN
                self.connection.settimeout(0.2)
                self.connection.unwrap()
            except (OSError, ValueError):
                pass
        self.drop()

    def fault_oversize(self, p, reply):
        size = int(p.get("size", 5 * 1024 * 1024))
        obj = dict(reply.obj) if isinstance(reply.obj, dict) else {"code": 0}
        obj["padding"] = ""
        base = len(json_bytes(obj))
        obj["padding"] = "x" * max(0, size - base)
        self.send_reply(Reply(200, obj))

    def fault_chunked(self, p, reply):
        size = int(p.get("chunk_size", 1000))
        out = [self.head_bytes(reply, None, [("Transfer-Encoding", "chunked"),
                                             ("Trailer", "X-Mock-Trailer")])]
        body = reply.body
        for i in range(0, len(body), size):
            piece = body[i:i + size]
            ext = ';mock-ext="1"' if i == 0 else ""
            out.append(b"%x%s\r\n%s\r\n" % (len(piece), ext.encode(), piece))
        out.append(b"0\r\nX-Mock-Trailer: done\r\n\r\n")
        self.wfile.write(b"".join(out))

    def fault_delay(self, p, reply):
        time.sleep(float(p.get("ms", 1000)) / 1000)
        self.send_reply(reply)

    def fault_connection_close(self, _p, reply):
        self.close_connection = True
        self.send_reply(reply)

    # ---- control API

    def control(self, path, query, body):
        state = self.server.state
        if path == "/_mock/fault" and self.command == "POST":
            try:
                spec = json.loads(body or b"{}")
                if not isinstance(spec, dict):
                    raise ValueError("body must be a JSON object")
                n = state.add_fault(Fault(spec))
            except ValueError as e:
                return Reply(400, {"ok": False, "error": str(e)})
            return Reply(200, {"ok": True, "pending": n})
        if path == "/_mock/faults" and self.command == "GET":
            with state.lock:
                return Reply(200, [f.describe() for f in state.faults])
        if path == "/_mock/requests" and self.command == "GET":
            since = int(query.get("since", "0") or 0)
            return Reply(200, state.snapshot(since))
        if path == "/_mock/stats" and self.command == "GET":
            return Reply(200, state.stats())
        if path == "/_mock/live_task" and self.command == "POST":
            try:
                lt = self.server.api.add_live(json.loads(body or b"{}"))
            except ValueError as e:
                return Reply(400, {"ok": False, "error": str(e)})
            return Reply(200, {"ok": True, **lt.describe(self.server.api.now_ms())})
        if path == "/_mock/live_task" and self.command == "GET":
            got = self.server.api.live_state(query.get("task_id", ""))
            if got is None:
                return Reply(404, {"ok": False, "error": "no such live task"})
            return Reply(200, {"ok": True, **got})
        if path == "/_mock/reset" and self.command == "POST":
            state.reset()
            return Reply(200, {"ok": True})
        return Reply(404, {"ok": False, "error": f"no control endpoint {self.command} {path}"})


class MockServer(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 64  # bursts of concurrent test clients

    def __init__(self, address, cfg, api, ssl_ctx):
        self.address_family = socket.AF_INET6 if ":" in address[0] else socket.AF_INET
        self.cfg, self.api, self.ssl_ctx, self.state = cfg, api, ssl_ctx, State()
        super().__init__(address, Handler)

    def handle_error(self, request, client_address):
        """Clients that go away mid-exchange are normal here; anything else is a mock bug."""
        if not isinstance(sys.exc_info()[1], (ConnectionError, TimeoutError, ssl.SSLError)):
            super().handle_error(request, client_address)

    def server_bind(self):
        socketserver.TCPServer.server_bind(self)  # skip HTTPServer's getfqdn (a DNS lookup)
        self.server_name, self.server_port = self.server_address[:2]

    def finish_request(self, request, client_address):
        """TLS handshake in the connection's own thread, so one slow client blocks nobody."""
        if self.ssl_ctx is None:
            self.RequestHandlerClass(request, client_address, self)
            return
        request.settimeout(10)
        # as real front ends do: without it a reply written after the TLS 1.3
        # tickets waits ~40 ms for the client's delayed ACK (Nagle)
        request.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        try:
            tls = self.ssl_ctx.wrap_socket(request, server_side=True)
        except (ssl.SSLError, OSError):
            self.state.new_connection()
            self.state.handshake_failed()
            return
        try:
            self.RequestHandlerClass(tls, client_address, self)
        finally:
            tls.close()


def make_ssl_context(cert, key, tickets=True):
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.minimum_version = ssl.TLSVersion.TLSv1_2
    ctx.load_cert_chain(cert, key)
    if not tickets:  # every handshake a full one
        ctx.num_tickets = 0
        ctx.options |= ssl.OP_NO_TICKET

    def remember_sni(sslsock, name, _ctx):
        sslsock.mock_sni = name  # read back into the request log
    ctx.sni_callback = remember_sni
    return ctx


# --------------------------------------------------------------------------- command line

def loopback_host(host):
    if host == "localhost":
        return "127.0.0.1"
    try:
        ip = ipaddress.ip_address(host)
    except ValueError:
        ip = None
    if ip is None or not (ip.version == 4 and ip in ipaddress.ip_network("127.0.0.0/8")
                          or ip == ipaddress.ip_address("::1")):
        raise SystemExit(f"kling-mock: --host {host!r} refused: only 127.0.0.0/8 or ::1")
    return str(ip)


def parse_args(argv):
    ap = argparse.ArgumentParser(description="Mock Kling AI API server (tests only).")
    ap.add_argument("--cert", help="server certificate chain, PEM")
    ap.add_argument("--key", help="server private key, PEM")
    ap.add_argument("--plain-http", action="store_true", help="no TLS (debugging only)")
    ap.add_argument("--host", default="127.0.0.1", help="loopback address to listen on")
    ap.add_argument("--port", type=int, default=0, help="0 = pick a free port")
    ap.add_argument("--port-file", help="write the chosen port here once listening")
    ap.add_argument("--fixture", help="task set JSON (fixture.py output); default: generated")
    ap.add_argument("--fixture-n", type=int, default=137, help="size of the generated set")
    ap.add_argument("--fixture-seed", type=int, default=1, help="seed of the generated set")
    ap.add_argument("--api-key", help="accepted API key")
    ap.add_argument("--access-key", help="JWT iss to accept")
    ap.add_argument("--secret-key", help="JWT HS256 secret")
    ap.add_argument("--now-ms", type=int, help="server's 'now' for defaults (default: real time)")
    ap.add_argument("--jwt-clock-offset-s", type=int, default=0,
                    help="add this to the real clock when checking JWT nbf/exp")
    ap.add_argument("--legacy-products", help="comma list of /v1/<product> endpoints that exist")
    ap.add_argument("--no-seed-endpoint", action="store_true", help="GET /v1/task/list -> 404")
    ap.add_argument("--count-mode", choices=COUNT_MODES, default="page",
                    help="POST /tasks data.count: items in this page (default) or all matching")
    ap.add_argument("--no-tickets", action="store_true", help="issue no session tickets: every handshake is full")
    ap.add_argument("--verbose", action="store_true", help="log each request to stderr")
    args = ap.parse_args(argv)
    if not args.plain_http and not (args.cert and args.key):
        ap.error("--cert and --key are required (or --plain-http)")
    if bool(args.access_key) != bool(args.secret_key):
        ap.error("--access-key and --secret-key go together")
    args.host = loopback_host(args.host)
    args.legacy_products = ([p.strip() for p in args.legacy_products.split(",") if p.strip()]
                            if args.legacy_products is not None else DEFAULT_LEGACY_PRODUCTS)
    args.seed_endpoint = not args.no_seed_endpoint
    return args


def load_tasks(args):
    if args.fixture:
        with open(args.fixture, encoding="utf-8") as f:
            return json.load(f)
    now = args.now_ms if args.now_ms is not None else int(time.time() * 1000)
    return fixture.make_tasks(now, args.fixture_n, args.fixture_seed)


def write_port_file(path, port):
    tmp = f"{path}.tmp{os.getpid()}"
    with open(tmp, "w") as f:
        f.write(f"{port}\n")
    os.replace(tmp, path)


def main(argv=None):
    args = parse_args(argv)
    api = Api(args, load_tasks(args))
    ctx = None if args.plain_http else make_ssl_context(args.cert, args.key, not args.no_tickets)
    server = MockServer((args.host, args.port), args, api, ctx)
    port = server.server_address[1]

    def stop(_sig, _frame):
        raise KeyboardInterrupt
    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    if args.port_file:
        write_port_file(args.port_file, port)
    scheme = "http" if args.plain_http else "https"
    host = f"[{args.host}]" if ":" in args.host else args.host
    sys.stderr.write(f"kling-mock: listening on {scheme}://{host}:{port} "
                     f"({len(api.tasks)} tasks)\n")
    try:
        server.serve_forever(poll_interval=0.2)
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
    return 0


if __name__ == "__main__":
    sys.exit(main())

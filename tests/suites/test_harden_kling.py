#!/usr/bin/env python3
"""Hardening of the Kling layer, through the binary and the loopback mock:
a wrong base path is not an empty account; no piece of a secret shows; the
errors of a broken configuration or a broken upstream name what failed; no
terminal escape reaches stderr; the proxy password leaves the environment."""
import gzip
import json
import os
import subprocess
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
import kt  # noqa: E402
import harness  # noqa: E402

KEY, AK, SK = "harden-api-key-0123456789abcdef", "harden-access-key-01", "harden-secret-key-0123456789"
PLAN = 26


def check_run(env):
    r = subprocess.run([kt.binary(), "--check"], env=env, capture_output=True, text=True, timeout=60)
    return r.returncode, r.stdout, r.stderr


def line(out, what):
    return next((l for l in out.splitlines() if what in l and l.startswith("[")), "")


def call(env, args=None):
    """One list_tasks call on a fresh kling-mcp; (result, text, stderr)."""
    p = harness.McpProc(env)
    try:
        p.initialize()
        res = p.call_tool("list_tasks", args or {})
    finally:
        _, err = p.close()
    return res, harness.text_of(res), err


def is_error(res):
    return bool(res) and res.get("isError") is True


def legacy_404(s):
    env = dict(s.env, KLING_BASE_URL=f"https://localhost:{s.port}/wrong/prefix")
    env.pop("KLING_API_KEY", None)
    res, text, _ = call(env)
    kt.check("harden/all-404 legacy: an error naming HTTP 404, not an empty list",
             is_error(res) and "404" in text and "No tasks found" not in text, text)
    kt.check("harden/all-404 legacy: names the base URL and KLING_BASE_URL",
             f"https://localhost:{s.port}/wrong/prefix" in text and "KLING_BASE_URL" in text, text)
    rc, out, _ = check_run(env)
    kt.check("harden/all-404 legacy: --check fails on credentials",
             rc == 1 and line(out, "credentials").startswith("[FAIL]") and "404" in line(out, "credentials"), out)


def crlf_key(s):
    env = dict(s.env, KLING_API_KEY=KEY + "\r")
    env.pop("KLING_ACCESS_KEY", None)
    env.pop("KLING_SECRET_KEY", None)
    res, text, _ = call(env)
    kt.check("harden/key with a trailing CR: the error names KLING_API_KEY and the CR",
             is_error(res) and "KLING_API_KEY" in text and "carriage return" in text, text)
    rc, out, _ = check_run(env)
    kt.check("harden/key with a trailing CR: --check marks the configuration failed",
             rc == 1 and line(out, "configuration").startswith("[FAIL]"), out)
    env = dict(s.env, KLING_SECRET_KEY=SK + "\r")
    env.pop("KLING_API_KEY", None)
    res, text, _ = call(env)
    kt.check("harden/secret key with a trailing CR: the error names KLING_SECRET_KEY and the CR",
             is_error(res) and "KLING_SECRET_KEY" in text and "carriage return" in text, text)


def base_urls(s):
    for bad in (f"https://localhost:+{s.port}", f"https://localhost: {s.port}", f"https://[127.0.0.1]:{s.port}"):
        res, text, _ = call(dict(s.env, KLING_BASE_URL=bad))
        kt.check(f"harden/KLING_BASE_URL {bad!r} refused",
                 is_error(res) and "KLING_BASE_URL is not a valid" in text, text)


def proxy_wipe(s):
    env = dict(s.env, HTTPS_PROXY="http://puser:proxy-pass-7391@127.0.0.1:9", NO_PROXY="localhost")
    p = harness.McpProc(env)
    try:
        p.initialize()
        with open(f"/proc/{p.proc.pid}/environ", "rb") as f:
            environ = f.read()
    finally:
        p.close()
    kt.check("harden/proxy password wiped from the environment", b"proxy-pass-7391" not in environ
             and b"puser" not in environ, environ.replace(b"\0", b" ").decode(errors="replace"))
    kt.check("harden/the Kling key still wiped", KEY.encode() not in environ, "")


def secret_pieces(s):
    s.mock.reset()
    # the echo of the key is cut at 512 bytes in the middle of it
    s.mock.fault(mode="kling_error", http=400, code=1200, message="x" * 500 + " " + KEY + " tail", count=1)
    res, text, err = call(dict(s.env, KLING_LOG_LEVEL="debug"))
    kt.check("harden/a cut echo of the key shows no piece of it (client)",
             is_error(res) and KEY[:6] not in text and "1200" in text, text[-200:])
    kt.check("harden/a cut echo of the key shows no piece of it (stderr)", KEY[:6] not in err, err[-300:])


def escapes(s):
    s.mock.reset()
    s.mock.fault(mode="kling_error", http=400, code=1200, message="bad \x1b[31mRED\x1b[0m \x07 end", count=1)
    res, text, err = call(dict(s.env, KLING_LOG_LEVEL="info"))
    kt.check("harden/terminal escapes of an upstream message never reach stderr raw",
             "1200" in text and "\x1b" not in err and "\x07" not in err and "\\u001b" in err, err[-300:])
    p = harness.McpProc(dict(s.env, KLING_LOG_LEVEL="debug"))
    try:
        p.request("initialize", {"protocolVersion": "2025-11-25", "capabilities": {},
                                 "clientInfo": {"name": "evil\x1b]0;title\x07", "version": "1"}})
    finally:
        _, err = p.close()
    kt.check("harden/clientInfo.name's escapes never reach stderr raw", "\x1b" not in err and "\x07" not in err,
             err[-300:])


def same_cursor(s):
    s.mock.reset()
    task = {"id": "t-1", "status": "succeeded", "created_at": "1795000000000", "updated_at": "1795000000000"}
    s.mock.fault(mode="wrong_shape", path_prefix="/tasks", count=-1,
                 data={"result": [task], "has_more": True, "next_cursor": "the-same-cursor", "count": 1})
    res, text, _ = call(s.env, {"page_size": 5})
    n = len([r for r in s.mock.requests() if r["path"] == "/tasks"])
    s.mock.reset()
    kt.check("harden/an upstream repeating its cursor: a clear error at once",
             is_error(res) and "same cursor" in text and n <= 2, f"{n} requests: {text}")


def bodies(s):
    s.mock.reset()
    s.mock.fault(mode="http_error", http=200, body_hex=gzip.compress(b'{"code":0,"data":{}}').hex(),
                 content_type="application/json", headers={"Content-Encoding": "gzip"}, count=1)
    res, text, _ = call(s.env)
    kt.check("harden/a gzip body is named as such, not 'not valid JSON'",
             is_error(res) and "gzip" in text and "not valid JSON" not in text, text)
    s.mock.reset()
    s.mock.fault(mode="wrong_shape", path_prefix="/tasks", count=1, data=[0] * 70000)
    res, text, _ = call(s.env)
    kt.check("harden/a body over the token limit says so, not 'not valid JSON'",
             is_error(res) and "LIMIT_JSON_TOKENS" in text and "not valid JSON" not in text, text)
    s.mock.reset()


def bad_strings(s):
    """One task's strings hold a lone surrogate escape and invalid UTF-8: that
    task shows U+FFFD where they were; the page, and its other tasks, list."""
    t = b'{"id":"%s","status":"%s","message":%s,"create_time":%d,"update_time":%d,"external_id":"",' \
        b'"outputs":%s,"billing":[]}'
    ok1 = t % (b"700000000000000001", b"succeeded", b'""', 1794999000000, 1794999000000,
               b'[{"type":"video","id":"v1","url":"https://cdn.example/ok.mp4","watermark_url":"","duration":"5"}]')
    bad = t % (b"700000000000000002", b"failed", b'"quota \\ud800 gone \xff\xfe end"', 1794998000000,
               1794998000000, b'[{"type":"video","id":"v2","url":"https://cdn.example/b\xffd.mp4",'
               b'"watermark_url":"","duration":"5"}]')
    ok2 = t % (b"700000000000000003", b"failed", b'"plain \\u00e9 message"', 1794997000000, 1794997000000, b"[]")
    body = b'{"code":0,"message":"SUCCEED","request_id":"r-bad-utf8","data":{"result":[' + ok1 + b"," + bad + \
        b"," + ok2 + b'],"count":3,"has_more":false,"next_cursor":""}}'
    s.mock.reset()
    s.mock.fault(mode="http_error", http=200, body_hex=body.hex(), content_type="application/json",
                 path_prefix="/tasks", count=1)
    res, text, _ = call(dict(s.env, KLING_BACKEND="tasks"))
    kt.check("harden/one task with a lone surrogate and a \\xff byte does not sink the page",
             res and not is_error(res) and "not valid JSON" not in text and
             all(f"70000000000000000{i}" in text for i in (1, 2, 3)), text)
    sc = (res or {}).get("structuredContent", {})
    tasks = {x.get("task_id"): x for x in sc.get("tasks", [])}
    bad_t = tasks.get("700000000000000002", {})
    kt.check("harden/the bad strings are repaired with U+FFFD, one per bad piece",
             "quota \ufffd gone \ufffd\ufffd end" in text and
             json.dumps(bad_t).count("\\ufffd") >= 4, json.dumps(bad_t)[:600])
    kt.check("harden/the other tasks of that page are intact",
             "plain \u00e9 message" in text and "https://cdn.example/ok.mp4" in text, text[-600:])
    # the legacy shape (task_status_msg, through the AK/SK path) repairs as well
    item = b'{"task_id":"700000000000000009","task_status":"failed","task_status_msg":"bad \\udc00\xc3(",' \
           b'"task_info":{},"created_at":1794999000000,"updated_at":1794999000000,"task_result":{}}'
    s.mock.reset()
    s.mock.fault(mode="http_error", http=200, body_hex=(b'{"code":0,"message":"SUCCEED","request_id":"r2",'
                 b'"data":[' + item + b"]}").hex(), content_type="application/json",
                 path_prefix="/v1/videos/text2video", count=1)
    env = dict(s.env)
    env.pop("KLING_API_KEY", None)
    res, text, _ = call(env, {"page_size": 50})
    s.mock.reset()
    kt.check("harden/a legacy item's bad status message lists as U+FFFD",
             res and not is_error(res) and "700000000000000009" in text and "bad \ufffd\ufffd(" in text, text[-600:])


def cosmetic(s):
    cur = "x" * 59 + "\u00e9" + "yyyy"
    res, text, _ = call(s.env, {"cursor": cur})
    kt.check("harden/a refused cursor is quoted without cutting a character",
             is_error(res) and ("x" * 59 + '..."') in text and "\ufffd" not in text, text)
    s.mock.reset()
    s.mock.fault(mode="wrong_shape", path_prefix="/v1/task/list", count=1, data={"total": 1e30, "tasks": []})
    res, text, _ = call(dict(s.env, KLING_BACKEND="seed"))
    sc = (res or {}).get("structuredContent", {})
    kt.check("harden/a seed total of 1e30 is unknown, not 0",
             res and not is_error(res) and "Total Tasks: 0" not in text and "total" not in sc, text)
    s.mock.reset()


def null_args(s):
    res, text, _ = call(s.env, {"page": None, "status": None, "cursor": None, "page_size": 2})
    kt.check("harden/null for an optional argument means not given",
             res and not is_error(res) and "Page 1" in text and "Task ID" in text, text)


def zero_tasks():
    with harness.Stack(api_key=KEY, mock_args=("--fixture-n", "0"), start_mcp=False) as s:
        rc, out, _ = check_run(s.env)
        kt.check("harden/--check with no task says (0 tasks", rc == 0 and "(0 tasks," in out, out)


def main():
    kt.plan(PLAN)
    s = harness.Stack(api_key=KEY, access_key=AK, secret_key=SK, start_mcp=False)
    try:
        for part in (legacy_404, crlf_key, base_urls, proxy_wipe, secret_pieces, escapes, same_cursor, bodies,
                     bad_strings, cosmetic, null_args):
            try:
                part(s)
            except Exception as e:  # a part that breaks fails, the suite goes on
                kt.fail(f"harden/{part.__name__}", repr(e))
    finally:
        s.close()
    try:
        zero_tasks()
    except Exception as e:
        kt.fail("harden/zero_tasks", repr(e))
    kt.done()


if __name__ == "__main__":
    main()

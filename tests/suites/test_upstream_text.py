#!/usr/bin/env python3
"""What a hostile or broken upstream can make kling-mcp show (issue 21),
through the binary (stdio and `call`, and --check) with the loopback mock:
a raw control byte costs that byte, not the page; no terminal escape (C0, DEL,
C1) reaches a client, a terminal or a log; no piece of 8 bytes or more of a
secret shows, in any of its forms; only http(s) URLs become links or result
lines; `call` says when its result could not be written."""
import json
import os
import subprocess
import sys
import urllib.parse

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
import harness  # noqa: E402
import kt  # noqa: E402

# an API key with characters that URL-encoding and JSON escaping change
KEY = "sk-Ab3/Zx9+Qw7=Lm2/Pp5+Rr8=Tt1\"Uu4"
PLAN = 18
BAD = ("\x1b", "\x07", "\x9b", "\x90", "\x7f", "\r")  # ESC, BEL (ends OSC), CSI, DCS, DEL, CR


def raw_controls(s):
    """None of the characters the rule keeps out, in s."""
    return [c for c in BAD if c in s]


def stdio_call(env, tool="list_tasks", args=None):
    p = harness.McpProc(env)
    try:
        p.initialize()
        res = p.call_tool(tool, args or {})
    finally:
        _, err = p.close()
    return res or {}, harness.text_of(res), err


def cli(env, tool="list_tasks", args="{}", stdout=subprocess.PIPE):
    r = subprocess.run([kt.binary(), "call", tool, args], env=env, stdout=stdout, stderr=subprocess.PIPE,
                       timeout=60)
    return r.returncode, (r.stdout or b"").decode("utf-8", "replace"), r.stderr.decode("utf-8", "replace")


def page_fault(s, tasks, path="/tasks"):
    body = json.dumps({"code": 0, "message": "SUCCEED", "request_id": "r-21",
                       "data": {"result": tasks, "count": len(tasks), "has_more": False, "next_cursor": ""}
                       if path == "/tasks" else tasks}).encode()
    return body


def task(i, status="succeeded", message="", outputs=()):
    return {"id": f"70000000000000002{i}", "status": status, "message": message, "create_time": 1794999000000 - i,
            "update_time": 1794999000000 - i, "external_id": "", "outputs": list(outputs), "billing": []}


def raw_byte_page(s):
    """Item 1: a raw ESC inside one task's message (not valid JSON strictly)."""
    body = page_fault(s, [task(1), task(2, "failed", "quota RAWESC[31m gone"), task(3)])
    body = body.replace(b"RAWESC", b"\x1b")
    s.mock.reset()
    s.mock.fault(mode="http_error", http=200, body_hex=body.hex(), content_type="application/json",
                 path_prefix="/tasks", count=2)
    res, text, _ = stdio_call(s.env)
    kt.check("raw-byte/stdio: a raw ESC in one message costs that byte, the page lists",
             not res.get("isError") and all(f"70000000000000002{i}" in text for i in (1, 2, 3)) and
             "quota \ufffd[31m gone" in text and not raw_controls(text), text[-500:])
    rc, out, err = cli(s.env)
    kt.check("raw-byte/call: the same page prints, ESC replaced",
             rc == 0 and "quota \ufffd[31m gone" in out and not raw_controls(out + err), out[-300:] + err[-300:])


ESCAPES = "red \x1b[31mRED\x1b[0m title \x1b]0;pwned\x07 clip \x1b]52;c;cm0gLXJm\x07 csi \u009b31m dcs \u0090x end"


def escapes(s):
    """Item 2: a Kling error message and a task failure message full of
    terminal escapes: shown as \\u00XX everywhere, obeyed nowhere."""
    s.mock.reset()
    s.mock.fault(mode="kling_error", http=400, code=1200, message=ESCAPES, count=-1)
    res, text, err = stdio_call(dict(s.env, KLING_LOG_LEVEL="info"))
    kt.check("escapes/stdio: the error text shows \\u001b and \\u009b, no raw control",
             res.get("isError") and "\\u001b[31mRED" in text and "\\u009b31m" in text and not raw_controls(text),
             repr(text[-300:]))
    kt.check("escapes/log: no raw C0 or C1 control on stderr", "1200" in err and not raw_controls(err),
             repr(err[-300:]))
    rc, out, err = cli(dict(s.env, KLING_LOG_LEVEL="info"))
    kt.check("escapes/call: stdout and stderr hold no raw control",
             rc == 1 and "\\u009b31m" in out + err and not raw_controls(out + err), repr((out + err)[-300:]))
    r = subprocess.run([kt.binary(), "--check"], env=s.env, capture_output=True, timeout=60)
    out = r.stdout.decode("utf-8", "replace")
    kt.check("escapes/--check: the credentials line quotes the message without raw controls",
             r.returncode == 1 and "\\u001b[31mRED" in out and not raw_controls(out), repr(out[-400:]))
    s.mock.reset()
    body = page_fault(s, [task(1, "failed", ESCAPES)])
    s.mock.fault(mode="http_error", http=200, body_hex=body.hex(), content_type="application/json",
                 path_prefix="/tasks", count=1)
    res, text, _ = stdio_call(s.env)
    sc = json.dumps(res.get("structuredContent", {}), ensure_ascii=False)
    msg = ((res.get("structuredContent") or {}).get("tasks") or [{}])[0].get("status_message", "")
    kt.check("escapes/a task's failure message: text and structuredContent without C0 or C1",
             "\\u009b31m" in text and "\\u009b31m" in msg and not raw_controls(text) and not raw_controls(msg),
             repr(text[-300:]) + repr(sc[-300:]))


def pieces(s):
    """Item 3: an upstream echoing pieces of the key in many forms."""
    middle = KEY[7:21]
    forms = {"without its sk- prefix": KEY[3:], "a 14-byte middle piece": middle,
             "URL-encoded": urllib.parse.quote(KEY, safe=""), "JSON-escaped": json.dumps(KEY)[1:-1].replace("/", "\\/"),
             "an 8-byte piece": KEY[11:19]}
    msg = " | ".join(forms.values())
    s.mock.reset()
    s.mock.fault(mode="kling_error", http=400, code=1201, message="echo: " + msg, count=-1)
    res, text, err = stdio_call(dict(s.env, KLING_LOG_LEVEL="debug"))
    shown = [k for k, v in forms.items() if v in text or v in err]
    kt.check("secrets/stdio and log: no form of a piece of the key shows",
             res.get("isError") and "1201" in text and not shown, f"{shown}: {text[-300:]}")
    rc, out, err = cli(s.env)
    shown = [k for k, v in forms.items() if v in out or v in err]
    kt.check("secrets/call: no form of a piece of the key shows", rc == 1 and "1201" in out + err and not shown,
             f"{shown}: {(out + err)[-300:]}")
    s.mock.reset()
    body = page_fault(s, [task(1, "failed", "your key " + middle + " is over quota")])
    s.mock.fault(mode="http_error", http=200, body_hex=body.hex(), content_type="application/json",
                 path_prefix="/tasks", count=1)
    res, text, _ = stdio_call(s.env)
    kt.check("secrets/a task message echoing a piece of the key: masked in text and structuredContent",
             "is over quota" in text and middle not in text and middle not in json.dumps(res), text[-300:])


LINKS = ["javascript:alert(1)", "file:///etc/passwd", "https://cdn.example/a\x1b[2J.mp4",
         "https://cdn.example/b.mp4\r\nX-Injected: 1", "https://cdn.example/" + "x" * 5000 + ".mp4",
         "https://cdn.example/good.mp4?sig=1"]


def links(s):
    """Item 4: get_task passes on only plain http(s) URLs."""
    outs = [{"type": "video", "id": f"v{i}", "url": u, "watermark_url": "", "duration": "5"}
            for i, u in enumerate(LINKS)]
    t = task(9, outputs=outs)
    body = json.dumps({"code": 0, "message": "SUCCEED", "request_id": "r-l", "data": [t]}).encode()
    s.mock.reset()
    s.mock.fault(mode="http_error", http=200, body_hex=body.hex(), content_type="application/json",
                 path_prefix="/tasks", count=2)
    res, text, _ = stdio_call(s.env, "get_task", {"task_id": t["id"]})
    uris = [c.get("uri", "") for c in res.get("content", []) if c.get("type") == "resource_link"]
    urls = [o.get("url") for o in (res.get("structuredContent") or {}).get("task", {}).get("outputs", [])]
    kt.check("links/stdio: only the https link is a resource_link, and a URL in structuredContent",
             uris == [LINKS[-1]] and [u for u in urls if u] == [LINKS[-1]], f"{uris} {urls}")
    kt.check("links/stdio: the others are left out with a note, never shown",
             text.count("left out (not an http(s) URL") == 5 and "javascript:" not in text and
             "/etc/passwd" not in text and "X-Injected" not in text, text[-800:])
    rc, out, err = cli(s.env, "get_task", json.dumps({"task_id": t["id"]}))
    kt.check("links/call: the same result lines",
             rc == 0 and out.count("left out (not an http(s) URL") == 5 and LINKS[-1] in out and
             "javascript:" not in out and "X-Injected" not in out, out[-500:] + err[-300:])


def unwritable(s):
    """Item 6: `call` whose stdout cannot be written says so on stderr."""
    s.mock.reset()
    with open("/dev/full", "wb") as full:
        rc, _, err = cli(s.env, stdout=full)
    kt.check("call/stdout on /dev/full: exit 1, stderr says why",
             rc == 1 and "could not be written" in err and os.strerror(28) in err, err[-300:])
    r = subprocess.run([kt.binary(), "call", "list_tasks", "{}"], env=s.env, stdout=subprocess.DEVNULL,
                       stderr=subprocess.PIPE, timeout=60, preexec_fn=lambda: os.close(1))
    err = r.stderr.decode("utf-8", "replace")
    kt.check("call/stdout closed: exit 1, stderr says why",
             r.returncode == 1 and "could not be written" in err and os.strerror(9) in err, err[-300:])


def legacy_3_0():
    """Item 7: an AK/SK user (legacy backend) is told, where they look, that
    tasks of Kling 3.0 models are not in the legacy lists."""
    with harness.Stack(access_key="ak-21-access", secret_key="sk-21-secret-0123456789",
                       mock_args=("--fixture-n", "0"), start_mcp=False) as s:
        res, text, _ = stdio_call(s.env)
        kt.check("legacy-3.0/stdio: the empty listing says 3.0 tasks are invisible to the legacy lists",
                 "No tasks found." in text and "Kling 3.0" in text and "KLING_API_KEY" in text, text)
        rc, out, err = cli(s.env)
        kt.check("legacy-3.0/call: the same note", rc == 0 and "Kling 3.0" in out, out + err)
        r = subprocess.run([kt.binary(), "--check"], env=s.env, capture_output=True, text=True, timeout=60)
        kt.check("legacy-3.0/--check: a note under the credentials line",
                 r.returncode == 0 and "note: The legacy per-product lists do not show tasks of Kling 3.0" in r.stdout,
                 r.stdout)


def main():
    kt.plan(PLAN)
    s = harness.Stack(api_key=KEY, start_mcp=False)
    try:
        for part in (raw_byte_page, escapes, pieces, links, unwritable):
            try:
                part(s)
            except Exception as e:  # a part that breaks fails, the suite goes on
                kt.fail(f"upstream-text/{part.__name__}", repr(e))
    finally:
        s.close()
    try:
        legacy_3_0()
    except Exception as e:
        kt.fail("upstream-text/legacy_3_0", repr(e))
    kt.done()


if __name__ == "__main__":
    main()

#!/usr/bin/env python3
"""Secrets never reach stdout or stderr, even at KLING_LOG_LEVEL=debug.

For each credential kind (API key; AK/SK pair, whose JWTs are taken from the
mock's request log, so every token actually sent is checked) kling-mcp runs a
session through success and failure paths: pages, cursors, each backend,
Kling errors (one whose message echoes the credential back), HTTP errors and
retries, bad JSON, a hang past the deadline, a dropped kept-alive
connection, a rejected credential, bad arguments; then --check. Everything
it wrote to stdout and stderr is searched for the API key, the secret key
and every JWT (also percent- or JSON-escaped); /proc/PID/environ must not
show the API key or the secret key once the server runs."""
import json
import os
import subprocess
import sys
import urllib.parse

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
import kt  # noqa: E402
from harness import Stack, text_of  # noqa: E402

KEY = "sk-live-9f8e7d6c5b4a39281706f5e4d3c2b1a0"
AK = "ak-2c4e6a8b0d1f3e5a7c9b"
SK = "ss-Zq8xV2mW5nB7cR1tY4uI6oP0aS3dF9gH"
DEBUG = {"KLING_LOG_LEVEL": "debug", "KLING_TIMEOUT_MS": "4000"}


def forms(secret):
    """The ways a secret could be written out."""
    return {secret, urllib.parse.quote(secret, safe=""), json.dumps(secret)[1:-1]}


def session(s, faults, calls, init=True):
    """Run calls (with a fault queued before each that has one); returns
    (stdout text, stderr text, exit status)."""
    if init:
        s.mcp.initialize()
    out = []
    for fault, args in zip(faults, calls):
        if fault:
            s.mock.fault(**fault)
        r = s.mcp.request("tools/call", {"name": "list_tasks", "arguments": args}, timeout=30)
        out.append(json.dumps(r, ensure_ascii=False))
    raw_rest = s.mcp.buf.decode("utf-8", "replace")
    code, err = s.mcp.close()
    return "\n".join(out) + raw_rest, err, code


def check_clean(name, text, secrets):
    leaks = sorted({label for label, sec in secrets for f in forms(sec) if f and f in text})
    kt.check(name, not leaks, f"found {leaks}")


def api_key():
    faults = [None, None, {"mode": "kling_error", "http": 400, "code": 1201,
                           "message": "bad request with Authorization: Bearer " + KEY},
              {"mode": "kling_error", "http": 429, "code": 1302}, {"mode": "http_error", "http": 502, "count": 3},
              {"mode": "bad_json"}, {"mode": "hang", "seconds": 10}, {"mode": "close_before_reply"},
              {"mode": "kling_error", "http": 401, "code": 1002, "message": KEY}, None]
    calls = [{}, {"page": 2, "page_size": 3}, {}, {}, {}, {}, {}, {}, {}, {"page": 0}]
    with Stack(api_key=KEY, env=DEBUG) as s:
        s.mcp.initialize()  # the configuration has been read by now
        environ = open(f"/proc/{s.mcp.proc.pid}/environ", "rb").read() if os.path.exists("/proc") else None
        stdout, stderr, code = session(s, faults, calls, init=False)
        sent = {r["headers"].get("authorization") for r in s.mock.requests()}
    kt.check("secrets/api key: it was sent (the test is real)", "Bearer " + KEY in sent, repr(sent))
    kt.check("secrets/api key: debug logging was on", "kling-mcp: debug:" in stderr, stderr[:200])
    kt.check("secrets/api key: a Kling message echoing the key is answered, masked",
             "1201" in stdout and "***" in stdout, stdout[:300])
    check_clean("secrets/api key: not on stdout", stdout, [("API key", KEY)])
    check_clean("secrets/api key: not on stderr", stderr, [("API key", KEY)])
    if environ is not None:
        kt.check("secrets/api key: not readable in /proc/PID/environ while serving",
                 KEY.encode() not in environ and b"KLING_API_KEY=" in environ, repr(environ[:200]))
    with Stack(access_key=AK, secret_key=SK, env=DEBUG) as s:
        s.mcp.initialize()  # config read by now
        environ = open(f"/proc/{s.mcp.proc.pid}/environ", "rb").read()
    kt.check("secrets/secret key: not readable in /proc/PID/environ while serving", SK.encode() not in environ,
             repr(environ[:200]))
    kt.eq("secrets/api key: exit 0", code, 0)
    # a key the service refuses
    with Stack(api_key=KEY, mock_api_key="other-key-123456", env=DEBUG) as s:
        stdout, stderr, _ = session(s, [None], [{}])
    kt.check("secrets/refused key: 1002 answered", "1002" in stdout, stdout[:300])
    check_clean("secrets/refused key: not on stdout or stderr", stdout + stderr, [("API key", KEY)])


def aksk():
    faults = [None, None, {"mode": "kling_error", "http": 401, "code": 1004, "path_prefix": "/v1/videos/text2video",
                           "message": "token expired"}, {"mode": "close_mid_body", "path_prefix": "/v1/images"},
              {"mode": "wrong_shape", "path_prefix": "/v1/videos/image2video"}, None]
    calls = [{}, {"status": "failed", "page": 2, "page_size": 4}, {}, {}, {}, {"cursor": "l.2.5"}]
    with Stack(access_key=AK, secret_key=SK, env=DEBUG) as s:
        stdout, stderr, code = session(s, faults, calls)
        jwts = {r["headers"].get("authorization", "")[7:] for r in s.mock.requests() if r.get("auth") == "jwt"}
    kt.check("secrets/aksk: JWTs were sent and captured", len(jwts) >= 1 and all(j.count(".") == 2 for j in jwts),
             repr(jwts))
    secrets = [("secret key", SK)] + [("JWT", j) for j in jwts]
    check_clean("secrets/aksk: secret key and JWTs not on stdout", stdout, secrets)
    check_clean("secrets/aksk: secret key and JWTs not on stderr", stderr, secrets)
    kt.eq("secrets/aksk: exit 0", code, 0)
    # the pair sent to /tasks, which refuses it; and a service echoing the token back
    with Stack(access_key=AK, secret_key=SK, backend="tasks", env=DEBUG) as s:
        stdout, stderr, _ = session(s, [None], [{}])
        jwts = {r["headers"].get("authorization", "")[7:] for r in s.mock.requests()}
    kt.check("secrets/aksk on /tasks: 1002 answered", "1002" in stdout, stdout[:300])
    check_clean("secrets/aksk on /tasks: nothing secret out", stdout + stderr,
                [("secret key", SK)] + [("JWT", j) for j in jwts])
    with Stack(access_key=AK, secret_key=SK, env=DEBUG) as s:
        s.mcp.initialize()
        s.mcp.call_tool("list_tasks", {"page_size": 1})
        jwt = next(r["headers"]["authorization"][7:] for r in s.mock.requests() if r.get("auth") == "jwt")
        s.mock.fault(mode="kling_error", http=400, code=1201, message="rejected token " + jwt, path_prefix="/v1/")
        r = s.mcp.call_tool("list_tasks", {})
        code, err = s.mcp.close()
    kt.check("secrets/aksk: a message echoing the JWT is answered, masked",
             "1201" in text_of(r) and jwt not in json.dumps(r) and jwt not in err, text_of(r)[:300])


def check_cli():
    for name, env in (("api key", {"KLING_API_KEY": KEY}), ("aksk", {"KLING_ACCESS_KEY": AK, "KLING_SECRET_KEY": SK})):
        with Stack(api_key=KEY, access_key=AK, secret_key=SK, start_mcp=False) as s:
            e = {k: v for k, v in s.env.items() if k not in ("KLING_API_KEY", "KLING_ACCESS_KEY", "KLING_SECRET_KEY")}
            e.update(env, KLING_LOG_LEVEL="debug")
            p = subprocess.run([kt.binary(), "--check"], env=e, capture_output=True, timeout=60)
            out = p.stdout.decode("utf-8", "replace") + p.stderr.decode("utf-8", "replace")
            jwts = {r["headers"].get("authorization", "")[7:] for r in s.mock.requests()}
        kt.check(f"secrets/--check with the {name}: it ran", "--check" in out and "kling-mcp" in out, out[:300])
        check_clean(f"secrets/--check with the {name}: nothing secret out", out,
                    [("API key", KEY), ("secret key", SK)] + [("JWT", j) for j in jwts if j.count(".") == 2])


def main():
    kt.plan(21)
    api_key()
    aksk()
    check_cli()
    kt.done()


if __name__ == "__main__":
    main()

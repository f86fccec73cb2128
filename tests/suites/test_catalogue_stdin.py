#!/usr/bin/env python3
"""The stdin bad-input catalogue (tests/lib/catalogue.py) through ONE kling-mcp
process that talks to the mock Kling API: each case gets exactly its expected
answer, and right after it the same process still answers a ping and a good
list_tasks call (a page of tasks from the mock). Cases that must not reach
Kling (argument errors, protocol errors) are checked to send no request."""
import json
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
import kt  # noqa: E402
from catalogue import ABSENT, STDIN  # noqa: E402
from harness import Stack  # noqa: E402

KEY = "catalogue-api-key-0123456789"
SLOW = 4.0 if os.environ.get("SANITIZE") == "1" else 1.0


def parse(line):
    try:
        v = json.loads(line)
        return v if isinstance(v, dict) else {"not an object": line[:200].decode("latin-1")}
    except ValueError:
        return {"not JSON": line[:200].decode("latin-1")}


def text(res):
    try:
        return res["content"][0]["text"]
    except (KeyError, IndexError, TypeError):
        return ""


def judge(expect, msg):
    """'' when msg is the expected answer, else why not."""
    kind = expect[0]
    if kind == "error":
        _, code, want_id, needles = expect
        e = msg.get("error") or {}
        if e.get("code") != code:
            return f"want error {code}, got {json.dumps(msg)[:300]}"
        if want_id is ABSENT and "id" in msg:
            return f"the id must be left out, got {msg.get('id')!r}"
        if want_id is not ABSENT and msg.get("id") != want_id:
            return f"want id {want_id!r}, got {msg.get('id')!r}"
        missing = [n for n in needles if n not in e.get("message", "")]
        return f"message {e.get('message')!r} lacks {missing}" if missing else ""
    res = msg.get("result")
    if not isinstance(res, dict):
        return f"want a result, got {json.dumps(msg)[:300]}"
    if kind == "tool_error":
        missing = [n for n in expect[1] if n not in text(res)]
        if res.get("isError") is not True or missing:
            return f"want isError naming {missing}, got {json.dumps(res)[:300]}"
        return ""
    return "" if expect[1](res) else f"unexpected result {json.dumps(res)[:300]}"


def main():
    names = ["catalogue/initialize"]
    for name, _, _ in STDIN:
        names += [f"stdin/{name}: expected answer", f"stdin/{name}: then ping and a good list_tasks still answered",
                  f"stdin/{name}: requests sent to Kling"]
    names += ["catalogue/exit 0 at end of input after every case", "catalogue/the API key never on stderr"]
    kt.plan(len(names), names)  # those that did not run are listed at exit (NOTRUN)
    with Stack(api_key=KEY) as s:
        init = s.mcp.initialize()
        kt.check("catalogue/initialize", (init or {}).get("result") is not None, repr(init))
        for n, (name, data, expect) in enumerate(STDIN):
            before = s.mock.stats()["requests"]
            s.mcp.send_raw(data + b"\n")
            s.mcp.send({"jsonrpc": "2.0", "id": f"ping-{n}", "method": "ping"})
            s.mcp.send({"jsonrpc": "2.0", "id": f"good-{n}", "method": "tools/call",
                        "params": {"name": "list_tasks", "arguments": {"page_size": 2}}})
            mine = (f"ping-{n}", f"good-{n}")
            got, answer = [], None
            # the case's answer is the message that is neither ping nor good
            # call (a call's answer may come after them: calls run meanwhile)
            while True:
                have = {m.get("id") for m in got}
                if set(mine) <= have and (answer is not None or expect[0] == "none"):
                    break
                line = s.mcp.line((20 if expect[0] != "none" or set(mine) - have else 0.3) * SLOW)
                if line is None:
                    break
                got.append(parse(line))
                if got[-1].get("id", "<none>") not in mine and answer is None:
                    answer = got[-1]
            others = [m for m in got if m.get("id", "<none>") not in mine]
            if expect[0] == "none":
                why = f"want no answer, got {json.dumps(others[:1])[:300]}" if others else ""
            elif answer is None:
                why = "no answer"
            else:
                why = judge(expect, answer)
                if not why and len(others) > 1:
                    why = f"answered more than once: {json.dumps(others)[:300]}"
            kt.check(f"stdin/{name}: expected answer", not why, why)
            ping = next((m for m in got if m.get("id") == mine[0]), None)
            good = next((m for m in got if m.get("id") == mine[1]), None)
            kt.check(f"stdin/{name}: then ping and a good list_tasks still answered",
                     ping and ping.get("result") == {} and good and
                     len(((good.get("result") or {}).get("structuredContent") or {}).get("tasks", [])) == 2,
                     f"ids {[m.get('id', '<none>') for m in got]}, good {json.dumps(good)[:200]}")
            sent = s.mock.stats()["requests"] - before
            want = 2 if expect[0] == "result" and "tools/call" in data.decode("latin-1") else 1
            kt.eq(f"stdin/{name}: requests sent to Kling", sent, want)
        code, err = s.mcp.close()
        kt.eq("catalogue/exit 0 at end of input after every case", code, 0)
        kt.check("catalogue/the API key never on stderr", KEY not in err, err[:300])
    kt.done()


if __name__ == "__main__":
    main()

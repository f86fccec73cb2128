"""Catalogues of bad input, each case with the answer it must get.

STDIN: what an MCP client (or anything writing to our standard input) can
send, after `initialize` (protocol 2025-11-25) with a working backend behind.
Each case is (name, bytes sent, expectation):

    ("error", code, id, needles)   a JSON-RPC error with this code; id is the
                                   id it must echo, or ABSENT when it must be
                                   left out; needles are in its message
    ("tool_error", needles)        a tools/call result with isError: true
                                   whose text holds the needles
    ("result", check)              a result; check(result) -> bool
    ("none",)                      no answer at all (notifications, responses,
                                   blank lines)

Network catalogues (mock fault modes, raw HTTP framing faults) are in the
suite test_catalogue_network.py, next to the servers they drive.

Shared by tests/suites/test_catalogue_stdin.py; other suites may import it.
"""
import json

from limits import limit

ABSENT = object()

LIMIT_LINE_BYTES = limit("LIMIT_LINE_BYTES")
LIMIT_ID_BYTES = limit("LIMIT_ID_BYTES")
LIMIT_JSON_DEPTH = limit("LIMIT_JSON_DEPTH")
LIMIT_CURSOR_BYTES = limit("LIMIT_CURSOR_BYTES")


def _j(obj):
    return json.dumps(obj, ensure_ascii=False, separators=(",", ":")).encode()


def _req(method, params=None, id=1):
    m = {"jsonrpc": "2.0", "id": id, "method": method}
    if params is not None:
        m["params"] = params
    return _j(m)


def _call(args, id=1, name="list_tasks"):
    return _req("tools/call", {"name": name, "arguments": args}, id)


def _has_tasks(res):
    return isinstance((res.get("structuredContent") or {}).get("tasks"), list) and not res.get("isError")


PARSE, INVALID, NO_METHOD, PARAMS = -32700, -32600, -32601, -32602

STDIN = [
    # -- not JSON: -32700, id left out
    ("json/garbage", b"hello", ("error", PARSE, ABSENT, ["Parse error"])),
    ("json/trailing comma", b'{"jsonrpc":"2.0","id":1,"method":"ping",}', ("error", PARSE, ABSENT, [])),
    ("json/empty element [1,,3]", b"[1,,3]", ("error", PARSE, ABSENT, [])),
    ("json/bracket mismatch [10}", b"[10}", ("error", PARSE, ABSENT, [])),
    ("json/leading zero 01", b'{"jsonrpc":"2.0","id":01,"method":"ping"}', ("error", PARSE, ABSENT, [])),
    ("json/literal tru", b'{"jsonrpc":"2.0","id":1,"method":"ping","x":tru}', ("error", PARSE, ABSENT, [])),
    ("json/invalid UTF-8", b'{"jsonrpc":"2.0","id":1,"method":"p\xff"}', ("error", PARSE, ABSENT, ["UTF-8"])),
    ("json/overlong UTF-8", b'{"jsonrpc":"2.0","id":1,"method":"\xc0\xaf"}', ("error", PARSE, ABSENT, [])),
    ("json/encoded surrogate in UTF-8", b'{"jsonrpc":"2.0","id":1,"method":"\xed\xa0\x80"}',
     ("error", PARSE, ABSENT, [])),
    ("json/lone surrogate escape", b'{"jsonrpc":"2.0","id":1,"method":"\\ud800"}',
     ("error", PARSE, ABSENT, ["surrogate"])),
    ("json/raw control character", b'{"jsonrpc":"2.0","id":1,"method":"a\x01b"}', ("error", PARSE, ABSENT, [])),
    ("json/unknown escape \\x", b'{"jsonrpc":"2.0","id":1,"method":"\\x41"}', ("error", PARSE, ABSENT, [])),
    ("json/unterminated string", b'{"jsonrpc":"2.0","id":1,"method":"pi', ("error", PARSE, ABSENT, [])),
    ("json/unclosed object", b'{"jsonrpc":"2.0","id":1', ("error", PARSE, ABSENT, [])),
    ("json/NUL byte", b"\x00", ("error", PARSE, ABSENT, [])),
    # a BOM opening a line (Windows editors, PowerShell pipes) is skipped, not "invalid UTF-8 at byte 0"
    ("json/byte order mark", b'\xef\xbb\xbf{"jsonrpc":"2.0","id":1,"method":"ping"}', ("result", lambda r: r == {})),
    ("json/two values on one line", b'{"jsonrpc":"2.0","id":1,"method":"ping"} {}', ("error", PARSE, ABSENT, [])),
    ("json/number 1.", b'{"jsonrpc":"2.0","id":1.,"method":"ping"}', ("error", PARSE, ABSENT, [])),
    ("json/single quotes", b"{'jsonrpc':'2.0','id':1,'method':'ping'}", ("error", PARSE, ABSENT, [])),
    ("json/NaN", b'{"jsonrpc":"2.0","id":NaN,"method":"ping"}', ("error", PARSE, ABSENT, [])),
    # -- JSON, but not a request: -32600
    ("envelope/a number", b"5", ("error", INVALID, ABSENT, [])),
    ("envelope/a string", b'"ping"', ("error", INVALID, ABSENT, [])),
    ("envelope/null", b"null", ("error", INVALID, ABSENT, [])),
    ("envelope/true", b"true", ("error", INVALID, ABSENT, [])),
    ("envelope/{}", b"{}", ("error", INVALID, ABSENT, [])),
    ("envelope/id null", b'{"jsonrpc":"2.0","id":null,"method":"ping"}', ("error", INVALID, ABSENT, ["null"])),
    ("envelope/no jsonrpc member", b'{"id":5,"method":"ping"}', ("error", INVALID, 5, ["jsonrpc"])),
    ("envelope/jsonrpc 1.0", b'{"jsonrpc":"1.0","id":6,"method":"ping"}', ("error", INVALID, 6, [])),
    ("envelope/jsonrpc as a number", b'{"jsonrpc":2.0,"id":7,"method":"ping"}', ("error", INVALID, 7, [])),
    ("envelope/method a number", b'{"jsonrpc":"2.0","id":8,"method":1}', ("error", INVALID, 8, [])),
    ("envelope/params a number", b'{"jsonrpc":"2.0","id":9,"method":"ping","params":1}', ("error", INVALID, 9, [])),
    ("envelope/params a string", b'{"jsonrpc":"2.0","id":10,"method":"ping","params":"x"}',
     ("error", INVALID, 10, [])),
    ("envelope/fractional id", b'{"jsonrpc":"2.0","id":1.5,"method":"ping"}', ("error", INVALID, ABSENT, [])),
    ("envelope/exponent id", b'{"jsonrpc":"2.0","id":1e3,"method":"ping"}', ("error", INVALID, ABSENT, [])),
    ("envelope/boolean id", b'{"jsonrpc":"2.0","id":true,"method":"ping"}', ("error", INVALID, ABSENT, [])),
    ("envelope/object id", b'{"jsonrpc":"2.0","id":{"a":1},"method":"ping"}', ("error", INVALID, ABSENT, [])),
    ("envelope/array id", b'{"jsonrpc":"2.0","id":[1],"method":"ping"}', ("error", INVALID, ABSENT, [])),
    ("envelope/id twice", b'{"jsonrpc":"2.0","id":1,"id":2,"method":"ping"}', ("error", INVALID, 2, ["twice"])),
    ("envelope/method twice", b'{"jsonrpc":"2.0","id":11,"method":"ping","method":"ping"}',
     ("error", INVALID, 11, ["twice"])),
    ("envelope/id over LIMIT_ID_BYTES", _req("ping", id="x" * LIMIT_ID_BYTES),
     ("error", INVALID, ABSENT, ["LIMIT_ID_BYTES"])),
    ("batch/outside 2025-03-26", b'[{"jsonrpc":"2.0","id":1,"method":"ping"}]',
     ("error", INVALID, ABSENT, ["2025-03-26"])),
    ("batch/empty array", b"[]", ("error", INVALID, ABSENT, [])),
    ("limits/nesting past LIMIT_JSON_DEPTH",
     b'{"jsonrpc":"2.0","id":"d","method":"ping","params":{"x":' + b"[" * 63 + b"]" * 63 + b"}}",
     ("error", INVALID, ABSENT, ["LIMIT_JSON_DEPTH"])),
    ("limits/more than LIMIT_JSON_TOKENS",
     b'{"jsonrpc":"2.0","id":1,"method":"ping","params":{"x":[' + b",".join([b"0"] * 70000) + b"]}}",
     ("error", INVALID, ABSENT, ["LIMIT_JSON_TOKENS"])),
    ("limits/a line over LIMIT_LINE_BYTES",
     b'{"jsonrpc":"2.0","id":1,"method":"ping","pad":"' + b"x" * LIMIT_LINE_BYTES + b'"}',
     ("error", INVALID, ABSENT, ["LIMIT_LINE_BYTES"])),
    ("limits/4 MiB of [ without a newline until the end", b"[" * (4 * LIMIT_LINE_BYTES),
     ("error", INVALID, ABSENT, ["LIMIT_LINE_BYTES"])),
    # -- methods and lifecycle
    ("method/unknown", _req("resources/list", id=20), ("error", NO_METHOD, 20, ["resources/list"])),
    ("method/empty name", _req("", id=21), ("error", NO_METHOD, 21, [])),
    ("method/escaped name is the same method", b'{"jsonrpc":"2.0","id":22,"method":"\\u0070ing"}',
     ("result", lambda r: r == {})),
    ("method/server/discover is not a 2025 method", _req("server/discover", id=23), ("error", NO_METHOD, 23, [])),
    # answered, starting afresh: bridges serve many clients through one stdio process
    ("lifecycle/a second initialize", _req("initialize", {"protocolVersion": "2025-11-25"}, id=24),
     ("result", lambda r: r.get("protocolVersion") == "2025-11-25")),
    ("params/array params", _req("ping", [1], id=25), ("error", PARAMS, 25, [])),
    ("tools/list/any cursor", _req("tools/list", {"cursor": "abc"}, id=26), ("error", PARAMS, 26, ["cursor"])),
    # -- never answered
    ("none/unknown notification", b'{"jsonrpc":"2.0","method":"notifications/whatever","params":{"x":1}}',
     ("none",)),
    ("none/notification with a numeric method", b'{"jsonrpc":"2.0","method":5}', ("none",)),
    ("none/notification without jsonrpc", b'{"method":"nojsonrpc"}', ("none",)),
    ("none/a response from the client", b'{"jsonrpc":"2.0","id":77,"result":{}}', ("none",)),
    ("none/an error response from the client", b'{"jsonrpc":"2.0","id":78,"error":{"code":1,"message":"x"}}',
     ("none",)),
    ("none/cancel of an unknown request", b'{"jsonrpc":"2.0","method":"notifications/cancelled",'
     b'"params":{"requestId":"never-sent"}}', ("none",)),
    ("none/cancel with an object requestId", b'{"jsonrpc":"2.0","method":"notifications/cancelled",'
     b'"params":{"requestId":{"x":1}}}', ("none",)),
    ("none/progress notification", b'{"jsonrpc":"2.0","method":"notifications/progress",'
     b'"params":{"progressToken":1,"progress":1}}', ("none",)),
    ("none/blank line", b"   \t", ("none",)),
    ("none/empty line", b"", ("none",)),
    # -- tools/call: protocol errors
    ("call/unknown tool", _call({}, 30, "make_video"), ("error", PARAMS, 30, ["make_video"])),
    ("call/no name", _req("tools/call", {"arguments": {}}, 31), ("error", PARAMS, 31, ["name"])),
    ("call/name a number", _req("tools/call", {"name": 3}, 32), ("error", PARAMS, 32, [])),
    ("call/arguments an array", _call([1], 33), ("error", PARAMS, 33, ["arguments"])),
    ("call/arguments a string", _call("page=1", 34), ("error", PARAMS, 34, ["arguments"])),
    ("call/arguments null", _call(None, 35), ("error", PARAMS, 35, ["arguments"])),
    ("call/no params", _req("tools/call", None, 36), ("error", PARAMS, 36, [])),
    # -- tools/call: argument values (isError, nothing sent upstream)
    ("args/page 0", _call({"page": 0}), ("tool_error", ["page must be an integer from 1"])),
    ("args/page 1.5", _call({"page": 1.5}), ("tool_error", ["page must be an integer"])),
    ("args/page as a string", _call({"page": "2"}), ("tool_error", ["page", 'got "2"'])),
    ("args/page 1e300", _call({"page": 1e300}), ("tool_error", ["page must be an integer"])),
    ("args/page -1", _call({"page": -1}), ("tool_error", ["page must be"])),
    ("args/page_size 101", _call({"page_size": 101}), ("tool_error", ["page_size", "1 to 100"])),
    ("args/page_size 0", _call({"page_size": 0}), ("tool_error", ["page_size"])),
    ("args/page_size null means not given", _call({"page_size": None}), ("result", _has_tasks)),
    ("args/status outside the enum", _call({"status": "done"}), ("tool_error", ["status must be one of"])),
    ("args/status succeeded (the /tasks word)", _call({"status": "succeeded"}), ("tool_error", ["status must be"])),
    ("args/status with a literal backslash-u", _call({"status": "\\u0073ucceed"}), ("tool_error", ["status must be"])),
    ("args/product_type outside the enum", _call({"product_type": "music"}), ("tool_error", ["product_type"])),
    ("args/impossible date", _call({"start_time": "2026-02-30"}), ("tool_error", ["start_time", "ISO 8601"])),
    ("args/date before 1970", _call({"start_time": "1969-12-31"}), ("tool_error", ["start_time"])),
    ("args/time as a number", _call({"end_time": 1795922400}), ("tool_error", ["end_time"])),
    ("args/start after end", _call({"start_time": "2026-11-29", "end_time": "2026-11-28"}),
     ("tool_error", ["start_time", "after end_time"])),
    ("args/empty cursor", _call({"cursor": ""}), ("tool_error", ["cursor"])),
    ("args/cursor with a control character", _call({"cursor": "a\u0001b"}), ("tool_error", ["cursor"])),
    ("args/cursor over LIMIT_CURSOR_BYTES", _call({"cursor": "c" * (LIMIT_CURSOR_BYTES + 1)}),
     ("tool_error", ["cursor"])),
    ("args/cursor and page 3", _call({"cursor": "x", "page": 3}), ("tool_error", ["either cursor or page"])),
    ("args/unknown names", _call({"limit": 5, "offset": 1}), ("tool_error", ["unknown arguments", '"limit"'])),
    ("args/the same name twice", b'{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"list_tasks",'
     b'"arguments":{"page":1,"page":2}}}', ("tool_error", ["more than once"])),
    ("args/several problems", _call({"page": 0, "page_size": 0}), ("tool_error", ["- page", "- page_size"])),
    ("args/a cursor made by another backend", _call({"cursor": "l.2.10"}), ("tool_error", ["cursor"])),
    ("args/a cursor that is not ours", _call({"cursor": "garbage"}), ("tool_error", ["cursor"])),
    ("args/escaped names and values are the same arguments",
     b'{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"list_\\u0074asks",'
     b'"arguments":{"\\u0073tatus":"\\u0073ucceed","page_size":1e1}}}', ("result", _has_tasks)),
]

#!/usr/bin/env python3
"""make mutate: do the tests catch the bugs they exist for?

Each mutation below changes ONE line of the product in a way a user would
notice (a status word mapped wrongly, a retry lost, a certificate for another
name accepted...). For each, one at a time: the line is changed in a private
copy of the tree (build/mutate/tree: src/ and build/ of the checkout are never
touched), the copy is rebuilt (-O1, no LTO: fast links), the suites that guard
that behaviour are run against it (tests/run.sh, TEST_FILTER per suite, in the
order listed; the first one that fails has caught it), and the line is put back.

    N caught of N        last line; exit 1 when a mutation survived
    ERROR <name>: ...    the anchor (the text to change) is not in the file
                         exactly once, or the unmutated copy fails a suite:
                         the run fails, nothing is skipped silently

MUTATE_ONLY=substring runs only the mutations whose name contains it.
"""
import hashlib
import os
import shutil
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
WORK = os.path.join(ROOT, "build", "mutate")
TREE = os.path.join(WORK, "tree")
OPT = "-O1 -g0 -ffunction-sections -fdata-sections"

# (name, anchor: text found exactly once in all of src/, replacement, suites
# that must catch it, in the order they are tried). The anchor names no file,
# so a function moved to another file keeps its mutation.
MUTATIONS = [
    ("status: the /tasks word succeeded misspelt in the table (read as no status)",
     '{"succeeded", ', '{"succeded", ', ["unit/test_kling_parse", "suite/test_core.py"]),
    ("ISO 8601: the sign of an offset inverted",
     "off_min = (oh * 60 + om) * (c == '-' ? -1 : 1);", "off_min = (oh * 60 + om) * (c == '-' ? 1 : -1);",
     ["unit/test_iso8601"]),
    ("ISO 8601: fractions of two digits read as milliseconds",
     "for (size_t k = i - start; k < 3; k++)", "for (size_t k = i - start; k < 2; k++)", ["unit/test_iso8601"]),
    ("TLS: host name not verified (CN/SAN mismatch cleared)",
     "struct tls_peer_info *info = p_info;",
     "struct tls_peer_info *info = p_info; *flags &= ~(uint32_t)MBEDTLS_X509_BADCERT_CN_MISMATCH;",
     ["suite/test_binary_paths.py"]),
    ("TLS: chain verification optional",
     "mbedtls_ssl_conf_authmode(cf, MBEDTLS_SSL_VERIFY_REQUIRED);",
     "mbedtls_ssl_conf_authmode(cf, MBEDTLS_SSL_VERIFY_OPTIONAL);", ["suite/test_core.py"]),
    ("retry: 1302 (rate limit) not retried",
     "if (code == 1302 || code == 1303 ||", "if (code == 1303 ||", ["unit/test_kling_err"]),
    ("retry: HTTP 502 not retried",
     "http_status == 500 || http_status == 502 ||", "http_status == 500 ||", ["unit/test_kling_err"]),
    ("retry: account errors (1xxx) retried",
     "return 0; /* Kling's auth, account", "return 1; /* Kling's auth, account", ["unit/test_kling_err"]),
    ("/tasks: 5,000 tasks a request instead of the API's 500",
     "KLING_TASKS_LIMIT_MAX 500", "KLING_TASKS_LIMIT_MAX 5000", ["suite/test_binary_paths.py"]),
    ("legacy: merged oldest head first",
     "p->items[p->idx].created_ms > c->prods[best]", "p->items[p->idx].created_ms < c->prods[best]",
     ["suite/test_binary_paths.py"]),
    ("legacy: the 2,000-task depth limit raised to 5,000",
     "? LIMIT_TASKS_SKIP : LIMIT_LEGACY_SKIP;", "? LIMIT_TASKS_SKIP : LIMIT_TASKS_SKIP;",
     ["suite/test_binary_paths.py"]),
    ("batch: accepted under every legacy protocol version",
     "version != MCP_V_2025_03_26) {", "version == 0) {",
     ["suite/test_protocol.py"]),
    ("unknown tool answered -32601 instead of -32602",
     "\")\");\n\tmcp_out_send_error(d, &m->id, JSONRPC_INVALID_PARAMS, msg);",
     "\")\");\n\tmcp_out_send_error(d, &m->id, JSONRPC_METHOD_NOT_FOUND, msg);",
     ["suite/test_protocol.py"]),
    ("null id accepted",
     "if (it == JSON_NULL) {", "if (it == JSON_NULL && 0) {", ["unit/test_mcp_jsonrpc", "suite/test_protocol.py"]),
    ("secrets: a credential echoed by Kling not masked",
     "void log_redact(char *text, size_t len)\n{", "void log_redact(char *text, size_t len)\n{\n\treturn;",
     ["suite/test_secrets.py"]),
    ("deadline: ten times KLING_TIMEOUT_MS",
     "c->deadline = c->arrival + S.set->timeout_ms + (", "c->deadline = c->arrival + 10 * S.set->timeout_ms + (",
     ["suite/test_binary_paths.py"]),
    ("SIGINT: the default action (death by signal)",
     "sigaction(SIGINT, &sa, NULL);", "sigaction(SIGINT, NULL, NULL);", ["suite/test_binary_paths.py"]),
    ("listener: no SSE keep-alive comment on a long call",
     'struct iovec ka = {": keepalive\\n\\n", 13};', 'struct iovec ka = {": keepalive\\n\\n", 0};',
     ["suite/test_listen_timers.py"]),
    ("listener: idle sessions never expire",
     'sess_end(s, "Session expired");', "(void)s;", ["suite/test_listen_timers.py"]),
    ("listener: a session expired while a call of it runs",
     "if (s->inflight == 0 && now - s->last >= LISTEN_SESSION_IDLE_MS && mcp_task_count(s->m) == 0) {",
     "if (now - s->last >= LISTEN_SESSION_IDLE_MS && mcp_task_count(s->m) == 0) {", ["suite/test_listen_timers.py"]),
    ("listener: a session expired while it holds a working task",
     "now - s->last >= LISTEN_SESSION_IDLE_MS && mcp_task_count(s->m) == 0) {",
     "now - s->last >= LISTEN_SESSION_IDLE_MS) {", ["suite/test_mcp_tasks.py"]),
    ("listener: subscriptions/listen over HTTP not held as a stream",
     "\t\tmcp_session_streams(s->m);\n\t\tc->mode = R_SSE;", "\t\tc->mode = R_SSE;", ["suite/test_mcp_tasks.py"]),
    ("listener: Mcp-Name not checked against a task's id",
     "if (i >= 3 && json_type(&H.doc, name) != JSON_STRING)", "if (i >= 3)", ["suite/test_mcp_tasks.py"]),
    ("waits: a sleeping get_task wait keeps its running slot",
     "\tunslot(c);\n\tc->state = C_SLEEPING;", "\tc->state = C_SLEEPING;",
     ["unit/test_mcp", "suite/test_fair_calls.py"]),
    ("waits: mcp_hurry (shutdown) leaves the waits sleeping",
     "\tS.hurry = 1;\n", "\treturn;\n", ["unit/test_mcp", "suite/test_fair_calls.py"]),
    ("get_task: a look-up failing mid-wait ends the call with an error",
     "if (st->seen)\n\t\t\tlookup_failed(st, fail);", "if (0)\n\t\t\tlookup_failed(st, fail);",
     ["suite/test_fair_calls.py"]),
    ("listener: any bearer token accepted",
     "return mcp_http_check_secret_equal(t, n, H.cfg->mcp_token, strlen(H.cfg->mcp_token));", "return 1;",
     ["suite/test_inspector_http.py"]),
    ("buffer: the maximum not enforced (a peer grows memory without limit)",
     "if (b->len > b->max || more > b->max - b->len)", "if (b->len > b->max)", ["unit/test_buf"]),
    ("output queue: written bytes never moved out (the queue grows instead)",
     "if (n > q->b.cap - q->b.len && q->off) {", "if (n > q->b.cap - q->b.len && q->off && 0) {",
     ["unit/test_outq"]),
]

# What each suite needs built (besides build/kling-mcp).
NEEDS = {"suite/test_protocol.py": ["build/tools/fake_server"], "suite/test_http.py": ["build/tools/httpget"],
         "suite/test_listen_timers.py": ["build/short/kling-mcp"], "suite/test_fair_calls.py": ["build/short/kling-mcp"],
         "suite/test_mcp_tasks.py": ["build/short/kling-mcp"]}


def say(*a):
    print(*a, flush=True)


def digest(path):
    with open(path, "rb") as f:
        return hashlib.sha256(f.read()).digest()


def sync_tree():
    """The copy the mutations are made in: what make needs, mtimes kept, only
    changed files rewritten (so the copy's objects stay up to date)."""
    os.makedirs(TREE, exist_ok=True)
    tops = ("src", "tests/unit", "tests/lib", "tests/fuzz", "mk", "tools")
    for top in tops:  # files gone from the checkout (a file renamed) go from the copy
        for d, _, files in os.walk(os.path.join(TREE, top)):
            for f in files:
                dst = os.path.join(d, f)
                if not os.path.exists(os.path.join(ROOT, os.path.relpath(dst, TREE))):
                    os.unlink(dst)
    for top in tops:
        for d, _, files in os.walk(os.path.join(ROOT, top)):
            if "/corpus" in d or "node_modules" in d:
                continue
            for f in files:
                src = os.path.join(d, f)
                dst = os.path.join(TREE, os.path.relpath(src, ROOT))
                if not os.path.exists(dst) or digest(src) != digest(dst):
                    os.makedirs(os.path.dirname(dst), exist_ok=True)
                    shutil.copy2(src, dst)
    for f in ("Makefile", "tests/reliability.mk"):
        shutil.copy2(os.path.join(ROOT, f), os.path.join(TREE, f))
    tp = os.path.join(TREE, "third_party")
    os.makedirs(tp, exist_ok=True)
    for name in os.listdir(os.path.join(ROOT, "third_party")):
        src, dst = os.path.join(ROOT, "third_party", name), os.path.join(tp, name)
        if os.path.isdir(src):  # the fetched, verified sources: shared, read only
            if not os.path.islink(dst):
                os.symlink(src, dst)
        else:
            shutil.copy2(src, dst)


def sources():
    """{path relative to the tree: text} of every src/*.c and src/*.h in the copy."""
    d = os.path.join(TREE, "src")
    return {os.path.join("src", f): open(os.path.join(d, f)).read() for f in sorted(os.listdir(d))
            if f.endswith((".c", ".h"))}


def build(targets):
    """make in the copy; (ok, output tail)."""
    cmd = ["make", "-C", TREE, "--no-print-directory", "-s", "-j2", f"OPT={OPT}", "build/kling-mcp", *targets]
    p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    return p.returncode == 0, p.stdout[-1500:]


def unit_target(suite):
    return "build/tests/" + suite.split("/", 1)[1] if suite.startswith("unit/") else None


def targets_of(suites):
    out = []
    for s in suites:
        out += [unit_target(s)] if unit_target(s) else NEEDS.get(s, [])
    return out


def run_suite(suite):
    """tests/run.sh on one suite against the copy's build; (passed, summary)."""
    env = dict(os.environ, TEST_FILTER=suite, BUILD_DIR=os.path.join(TREE, "build"),
               KLING_MCP=os.path.join(TREE, "build", "kling-mcp"))
    env.pop("SANITIZE", None)
    p = subprocess.run(["sh", os.path.join(ROOT, "tests", "run.sh")], env=env, stdout=subprocess.PIPE,
                       stderr=subprocess.STDOUT, text=True, timeout=900)
    lines = p.stdout.splitlines()
    ran = any(line.startswith("== ") for line in lines)
    fails = [line for line in lines if line.startswith(("FAIL ", "ERROR "))]
    if not ran:
        return None, f"no suite matched {suite!r}"
    return p.returncode == 0, (fails[0] if fails else (lines[-1] if lines else ""))[:240]


def main():
    only = os.environ.get("MUTATE_ONLY", "")
    chosen = [m for m in MUTATIONS if only in m[0]]
    t_start = time.monotonic()
    sync_tree()
    errors = 0
    # Every anchor first: one that is missing or ambiguous is an ERROR.
    where = {}
    for name, old, new, _ in chosen:
        hits = [(f, t.count(old)) for f, t in sources().items() if old in t]
        n = sum(c for _, c in hits)
        if n != 1:
            say(f"ERROR {name}: the anchor {old!r} is in src/ {n} times {[f for f, _ in hits]} "
                "(must be exactly once)")
            errors += 1
        else:
            where[name] = hits[0][0]
    # The unmutated copy must pass every suite used, or "caught" means nothing.
    suites = sorted({s for m in chosen for s in m[3]})
    ok, out = build(targets_of(suites))
    if not ok:
        say(f"ERROR build of the unmutated copy failed:\n{out}")
        return 1
    for s in suites:
        passed, why = run_suite(s)
        if not passed:
            say(f"ERROR {s} fails without any mutation: {why}")
            errors += 1
    if errors:
        say(f"{errors} errors: no mutation run")
        return 1
    caught = 0
    for i, (name, old, new, guards) in enumerate(chosen, 1):
        t0 = time.monotonic()
        path = where[name]
        full = os.path.join(TREE, path)
        original = open(full).read()
        try:
            with open(full, "w") as f:
                f.write(original.replace(old, new, 1))
            ok, out = build(targets_of(guards))
            if not ok:
                say(f"ERROR {name}: the mutated copy does not build:\n{out}")
                errors += 1
                continue
            by = None
            for s in guards:
                passed, why = run_suite(s)
                if passed is None:
                    say(f"ERROR {name}: {why}")
                    errors += 1
                    break
                if not passed:
                    by = f"{s}: {why}"
                    break
            if by:
                caught += 1
                say(f"CAUGHT {i:2d} {name} ({time.monotonic() - t0:.0f} s) by {by}")
            elif passed is not None:
                say(f"SURVIVED {i:2d} {name}: {', '.join(guards)} all passed with {path} changed "
                    f"from {old!r} to {new!r}")
        finally:
            with open(full, "w") as f:  # a new mtime: make rebuilds the object from it
                f.write(original)
    # put the copy's objects back to the unmutated source
    build(targets_of(suites))
    say(f"# {time.monotonic() - t_start:.0f} s in all")
    say(f"{caught} caught of {len(chosen)}")
    return 0 if caught == len(chosen) and not errors else 1


if __name__ == "__main__":
    sys.exit(main())

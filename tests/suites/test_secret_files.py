#!/usr/bin/env python3
"""Secrets from files, as services hand them over (Docker secrets, systemd's
LoadCredential): KLING_API_KEY_FILE, KLING_ACCESS_KEY_FILE,
KLING_SECRET_KEY_FILE, KLING_MCP_TOKEN_FILE are read once, their trailing
line end removed, and then used and masked like the variables themselves; an
unreadable or empty file, or a variable set together with its _FILE form, is
a configuration error naming them. A listener whose token file was not read
does not start (it would serve without the token that was meant). And
`--check` checks the listener's settings: the address, and a token off
loopback."""
import os
import subprocess
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
import kt  # noqa: E402
import harness  # noqa: E402
import listen  # noqa: E402

KEY, AK, SK = "file-api-key-0123456789abcdef", "file-access-key-01", "file-secret-key-0123456789abcd"
TOKEN = "file-token-9f8e7d6c5b4a3928"


def run(args, env, timeout=60):
    r = subprocess.run([kt.binary(), *args], env=env, capture_output=True, text=True, timeout=timeout)
    return r.returncode, r.stdout, r.stderr


def line(out, what):
    return next((ln for ln in out.splitlines() if ln.startswith("[") and what in ln), "")


def write(tmp, name, text, mode=0o600):
    p = os.path.join(tmp, name)
    with open(p, "w") as f:
        f.write(text)
    os.chmod(p, mode)
    return p


def main():
    kt.plan(16)
    s = harness.Stack(api_key=KEY, access_key=AK, secret_key=SK, start_mcp=False)
    try:
        base = {k: v for k, v in s.env.items() if k not in ("KLING_API_KEY", "KLING_ACCESS_KEY", "KLING_SECRET_KEY")}
        keyf = write(s.tmp, "api_key", KEY + "\n")
        rc, out, err = run(["--check"], dict(base, KLING_API_KEY_FILE=keyf))
        kt.check("files/KLING_API_KEY_FILE (line end stripped): --check passes, key accepted by the API",
                 rc == 0 and line(out, "credentials").startswith("[ OK ]"), out + err)
        kt.check("files/key from a file is masked like the variable",
                 KEY not in out + err and f"KLING_API_KEY {KEY[:4]}... ({len(KEY)} bytes)" in out, out)

        crlf = write(s.tmp, "api_key_crlf", KEY + "\r\n")
        rc, out, err = run(["call", "list_tasks", "{}"], dict(base, KLING_API_KEY_FILE=crlf, KLING_LOG_LEVEL="debug"))
        kt.check("files/CRLF line end stripped too: a tool call succeeds", rc == 0, out + err)
        kt.check("files/debug log never shows the key read from a file", KEY not in out + err, err)

        akf, skf = write(s.tmp, "ak", AK), write(s.tmp, "sk", SK + "\n")
        rc, out, err = run(["--check"], dict(base, KLING_ACCESS_KEY_FILE=akf, KLING_SECRET_KEY_FILE=skf))
        kt.check("files/AK/SK pair from files: legacy backend lists", rc == 0 and "backend legacy" in out, out + err)
        kt.check("files/secret key from a file never shown", SK not in out + err, out)

        rc, out, err = run(["--check"], dict(base, KLING_API_KEY=KEY, KLING_API_KEY_FILE=keyf))
        kt.check("files/variable and its _FILE both set: configuration FAIL naming both",
                 rc == 1 and "KLING_API_KEY and KLING_API_KEY_FILE are both set" in line(out, "configuration"), out)

        missing = os.path.join(s.tmp, "no-such-key")
        rc, out, err = run(["--check"], dict(base, KLING_API_KEY_FILE=missing))
        kt.check("files/missing file: FAIL with the variable, path and reason",
                 rc == 1 and f'KLING_API_KEY_FILE: cannot read "{missing}": No such file or directory'
                 in line(out, "configuration"), out)
        rc, out, err = run(["--check"], dict(base, KLING_API_KEY_FILE=s.tmp))
        kt.check("files/a directory: FAIL, cannot read", rc == 1 and "cannot read" in line(out, "configuration"), out)
        empty = write(s.tmp, "empty", "\n")
        rc, out, err = run(["--check"], dict(base, KLING_API_KEY_FILE=empty))
        kt.check("files/an empty file is an error, not 'no key'", rc == 1 and "is empty" in line(out, "configuration"),
                 out)
        big = write(s.tmp, "big", "k" * 5000)
        rc, out, err = run(["--check"], dict(base, KLING_API_KEY_FILE=big))
        kt.check("files/a file longer than any key: FAIL saying so",
                 rc == 1 and "longer than 4096 bytes" in line(out, "configuration"), out)

        tokf = write(s.tmp, "token", TOKEN + "\n")
        env = dict(base, KLING_API_KEY_FILE=keyf, KLING_MCP_TOKEN_FILE=tokf)
        srv = listen.Listener(env)
        try:
            r0 = srv.post({"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": listen.INIT})
            r1 = srv.post({"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": listen.INIT},
                          headers={"Authorization": "Bearer " + TOKEN})
            kt.check("files/KLING_MCP_TOKEN_FILE: the listener asks for that token (401 without, 200 with)",
                     r0.status == 401 and r1.status == 200, (r0, r1))
        finally:
            _, err = srv.stop()
        kt.check("files/the token from a file is never logged", TOKEN not in err, err)

        rc, out, err = run(["--listen", "127.0.0.1:0"], dict(base, KLING_MCP_TOKEN_FILE=missing), timeout=15)
        kt.check("files/listener with an unreadable token file does not start (exit 2, says why)",
                 rc == 2 and "KLING_MCP_TOKEN_FILE" in err and "not starting" in err, (rc, err))

        rc, out, err = run(["--check"], dict(base, KLING_API_KEY_FILE=keyf, KLING_MCP_LISTEN="0.0.0.0:8080"))
        kt.check("check/listener off loopback without a token: FAIL naming KLING_MCP_TOKEN",
                 rc == 1 and line(out, "listener").startswith("[FAIL]") and "KLING_MCP_TOKEN" in out, out)
        rc, out, err = run(["--check"], dict(base, KLING_API_KEY_FILE=keyf, KLING_MCP_TOKEN_FILE=tokf,
                                             KLING_MCP_LISTEN="0.0.0.0:8080"))
        rc2, out2, _ = run(["--check"], dict(base, KLING_API_KEY_FILE=keyf, KLING_MCP_LISTEN="127.0.0.1:99999"))
        kt.check("check/listener with a token: OK, token masked; a bad address: FAIL",
                 rc == 0 and line(out, "listener").startswith("[ OK ]") and TOKEN not in out and
                 "http://0.0.0.0:8080/mcp" in out and line(out2, "listener").startswith("[FAIL]"), out + out2)
    finally:
        s.close()
    kt.done()


if __name__ == "__main__":
    main()

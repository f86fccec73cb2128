#!/usr/bin/env python3
"""packaging/openwrt/files/kling-mcp.init, the procd init script, run under
BusyBox ash with stubs of OpenWrt's procd and uci shell functions
(tests/lib/openwrt_procd_stub.sh) that record what it asks procd for: the command
line, the environment, respawn, the stop grace, the user; that no secret is
ever in argv; that it does not start while disabled, without a credential,
or on a non-loopback address without a token, saying in the log which
option to set."""
import os
import shutil
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
import kt  # noqa: E402
from limits import limit  # noqa: E402

ROOT = kt.root()
INIT = os.path.join(ROOT, "packaging", "openwrt", "files", "kling-mcp.init")
CONF = os.path.join(ROOT, "packaging", "openwrt", "files", "kling-mcp.config")
RUN = os.path.join(ROOT, "tests", "lib", "openwrt_run_init.sh")
KEY, SK, TOKEN = "sk-owrt-0123456789abcdef", "ss-owrt-secret-0123456789", "tok-owrt-0123456789"


def start(tmp, options, action="start"):
    """Run the init script's action with the shipped config plus options."""
    conf = os.path.join(tmp, "config")
    text = open(CONF).read()
    for k, v in options.items():
        text = text.replace(f"\toption {k} ", f"\toption {k}_shipped ")
        text += f"\toption {k} '{v}'\n"
    open(conf, "w").write(text)
    log = os.path.join(tmp, "log")
    open(log, "w").close()
    r = subprocess.run(["busybox", "ash", RUN, INIT, action], env={"PATH": "/usr/bin:/bin", "STUB_LOG": log,
                       "STUB_CONFIG": conf}, capture_output=True, text=True, timeout=30)
    calls = [ln.split("|") for ln in open(log).read().splitlines()]
    return calls, r


def params(calls, name):
    return [c[2:] for c in calls if c[0] in ("procd_set_param", "procd_append_param") and c[1] == name]


def logs(calls):
    return " ".join(c[0] for c in calls if c[0].startswith("LOG "))


def main():
    kt.plan(15)
    if not shutil.which("busybox"):
        for i in range(14):
            kt.skip(f"openwrt-init/{i}", "no busybox here (Debian's busybox package)")
        return kt.done()
    tmp = tempfile.mkdtemp(prefix="kling-owrt-")
    try:
        calls, r = start(tmp, {"enabled": "1", "api_key": KEY, "log_level": "info"})
        opened = [c for c in calls if c[0] == "procd_open_instance"]
        kt.check("openwrt-init/enabled + api_key: one instance", len(opened) == 1 and ["RC 0"] in calls,
                 (calls, r.stderr))
        kt.eq("openwrt-init/command line: the listener, nothing secret",
              params(calls, "command"), [["/usr/bin/kling-mcp", "--listen", "127.0.0.1:8080"]])
        env = [e for p in params(calls, "env") for e in p]
        kt.check("openwrt-init/secrets and settings in the environment",
                 f"KLING_API_KEY={KEY}" in env and "KLING_LOG_LEVEL=info" in env, env)
        kt.eq("openwrt-init/respawn with thresholds", params(calls, "respawn"), [["3600", "5", "5"]])
        drain = limit("LISTEN_DRAIN_MS")
        tt = params(calls, "term_timeout")
        kt.check("openwrt-init/term_timeout outlasts the listener's drain",
                 len(tt) == 1 and int(tt[0][0]) * 1000 > drain, (tt, drain))
        kt.check("openwrt-init/unprivileged user, no_new_privs, logs to logd",
                 params(calls, "user") == [["kling-mcp"]] and params(calls, "no_new_privs") == [["1"]] and
                 params(calls, "stdout") == [["1"]] and params(calls, "stderr") == [["1"]], calls)

        calls, _ = start(tmp, {"enabled": "1", "access_key": "ak-owrt-01", "secret_key": SK, "token": TOKEN,
                               "listen": "0.0.0.0:8080", "allowed_hosts": "router.lan", "region": "cn"})
        argv = [a for p in params(calls, "command") for a in p]
        env = [e for p in params(calls, "env") for e in p]
        kt.check("openwrt-init/AK/SK + token off loopback: started, all in the environment",
                 argv == ["/usr/bin/kling-mcp", "--listen", "0.0.0.0:8080"] and f"KLING_SECRET_KEY={SK}" in env and
                 f"KLING_MCP_TOKEN={TOKEN}" in env and "KLING_MCP_ALLOWED_HOSTS=router.lan" in env and
                 "KLING_REGION=cn" in env, calls)
        kt.check("openwrt-init/no secret in argv", not any(s in " ".join(argv) for s in (KEY, SK, TOKEN)), argv)

        tk = "tk-owrt-0123456789abcdef"
        calls, _ = start(tmp, {"enabled": "1", "api_key": KEY, "task_key": tk})
        argv = [a for p in params(calls, "command") for a in p]
        env = [e for p in params(calls, "env") for e in p]
        kt.check("openwrt-init/task_key: KLING_MCP_TASK_KEY in the environment, not in argv",
                 f"KLING_MCP_TASK_KEY={tk}" in env and tk not in " ".join(argv), calls)

        calls, _ = start(tmp, {"enabled": "1", "api_key": KEY, "listen": "0.0.0.0:8080"})
        kt.check("openwrt-init/non-loopback without a token: not started, log names the token option",
                 not params(calls, "command") and "kling-mcp.main.token" in logs(calls) and ["RC 1"] in calls, calls)
        calls, _ = start(tmp, {"enabled": "1", "api_key": KEY, "listen": "[::1]:9000"})
        calls2, _ = start(tmp, {"enabled": "1", "api_key": KEY, "listen": "8080"})
        kt.check("openwrt-init/[::1]:PORT and a bare PORT are loopback: started without a token",
                 params(calls, "command") and params(calls2, "command"), (calls, calls2))

        calls, _ = start(tmp, {"api_key": KEY})
        kt.check("openwrt-init/shipped config (enabled 0): not started, log says enabled",
                 not params(calls, "command") and "kling-mcp.main.enabled" in logs(calls), calls)
        calls, _ = start(tmp, {"enabled": "1"})
        kt.check("openwrt-init/enabled without a credential: not started, log names api_key",
                 not params(calls, "command") and "kling-mcp.main.api_key" in logs(calls), calls)
        calls, _ = start(tmp, {"enabled": "1", "access_key": "ak-owrt-01"})
        kt.check("openwrt-init/half an AK/SK pair is no credential", not params(calls, "command"), calls)

        calls, _ = start(tmp, {}, action="triggers")
        kt.eq("openwrt-init/reload trigger on the kling-mcp config",
              [c for c in calls if c[0] == "procd_add_reload_trigger"], [["procd_add_reload_trigger", "kling-mcp"]])
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    kt.done()


if __name__ == "__main__":
    main()

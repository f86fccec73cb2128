#!/usr/bin/env python3
"""`kling-mcp --check`: one line per check with OK or FAIL, a hint on failure,
exit 0 only when everything passed; secrets shown masked, never whole."""
import os
import subprocess
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
import kt  # noqa: E402
import harness  # noqa: E402

KEY, AK, SK = "check-api-key-0123456789", "check-access-key-01", "check-secret-key-0123456789"


def run(env):
    r = subprocess.run([kt.binary(), "--check"], env=env, capture_output=True, text=True, timeout=60)
    return r.returncode, r.stdout, r.stderr


def line(out, what):
    for l in out.splitlines():
        if what in l and l.startswith("["):
            return l
    return ""


STEPS = ("configuration", "clock", "trust store", "connection", "credentials")  # --check's lines, in order


def main():
    kt.plan(len(STEPS) + 13)  # one check per step when all pass, and 13 more
    s = harness.Stack(api_key=KEY, access_key=AK, secret_key=SK, start_mcp=False)
    try:
        env = dict(s.env)
        env.pop("KLING_ACCESS_KEY")
        env.pop("KLING_SECRET_KEY")
        rc, out, err = run(env)
        kt.eq("check/all pass with a good API key: exit 0", rc, 0)
        for what in STEPS:
            kt.check(f"check/{what} OK", line(out, what).startswith("[ OK ]"), out)
        kt.check("check/API key masked, never whole", KEY not in out + err and KEY[:4] in out, out)
        kt.check("check/trust store names KLING_CA_FILE", "KLING_CA_FILE" in line(out, "trust store"), out)
        kt.check("check/last line says all passed", out.rstrip().endswith("All checks passed."), out)

        env_jwt = dict(s.env)
        env_jwt.pop("KLING_API_KEY")
        rc, out, err = run(env_jwt)
        kt.check("check/AK/SK pair lists through legacy", rc == 0 and "backend legacy" in out, out)
        kt.check("check/secret key never shown", SK not in out + err, out)

        bad = dict(env, KLING_API_KEY="wrong-key-0123456789")
        rc, out, _ = run(bad)
        kt.check("check/rejected key: exit 1, credentials FAIL with 1002",
                 rc == 1 and line(out, "credentials").startswith("[FAIL]") and "1002" in out, out)
        kt.check("check/rejected key: connection still OK", line(out, "connection").startswith("[ OK ]"), out)

        rc, out, _ = run(dict(env, KLING_BASE_URL="https://127.0.0.1:1"))
        kt.check("check/nothing listening: connection FAIL with a hint",
                 rc == 1 and line(out, "connection").startswith("[FAIL]") and "hint:" in out, out)

        other = os.path.join(s.tmp, "other")
        os.mkdir(other)
        ca2, _, _ = harness.make_certs(other)
        rc, out, _ = run(dict(env, KLING_CA_FILE=ca2))
        kt.check("check/untrusted server certificate: connection FAIL",
                 rc == 1 and line(out, "connection").startswith("[FAIL]") and
                 ("certificate" in out.lower() or "verif" in out.lower()), out)

        rc, out, _ = run(dict(env, KLING_CA_FILE=os.path.join(s.tmp, "missing.pem")))
        kt.check("check/missing CA file: trust store FAIL naming it",
                 rc == 1 and line(out, "trust store").startswith("[FAIL]") and "missing.pem" in out, out)

        none = {k: v for k, v in env.items() if k != "KLING_API_KEY"}
        rc, out, _ = run(none)
        kt.check("check/no credentials: configuration FAIL naming the variables",
                 rc == 1 and "KLING_API_KEY" in line(out, "configuration") + out and
                 line(out, "configuration").startswith("[FAIL]"), out)

        rc, out, _ = run(dict(env, KLING_REGION="mars"))
        kt.check("check/bad region named", rc == 1 and "KLING_REGION" in out, out)
    finally:
        s.close()
    kt.done()


if __name__ == "__main__":
    main()

#!/usr/bin/env python3
"""The packages tools/package.py writes (make ipk, make oci, make
server-json; make dist writes them from the release binaries), from the
binaries this tree has built (make; make cross for the others: an
architecture not built is skipped, saying so):

- each .ipk taken apart: the outer layout ipkg-build writes, the control
  fields, conffiles, file modes and owners, and the binary inside runs
  --version under qemu on that package architecture's CPU; the armv7 build
  uses no NEON and no FPU beyond VFPv3-D16 (so arm_cortex-a9_vfpv3-d16 may
  carry it);
- the OCI archive: skopeo inspects every platform (labels, user, entrypoint,
  stop signal, port); umoci unpacks the amd64 image, whose root holds only
  the binary, and it runs there in a chroot: --version and one tools/list
  over stdio;
- server.json validates against the MCP Registry's rules for server.json
  (as read in the registry's schema, restated below in our own words);
- everything is byte-identical when written twice."""
import gzip
import io
import json
import os
import re
import shutil
import subprocess
import sys
import tarfile
import tempfile

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
import kt  # noqa: E402

ROOT = kt.root()
VERSION = re.search(r"^VERSION\s*:=\s*(\S+)", open(os.path.join(ROOT, "Makefile")).read(), re.M).group(1)
NATIVE = os.uname().machine
BUILDS = {a: os.path.join(os.environ.get("BUILD_DIR") or os.path.join(ROOT, "build"),
                          "" if a == NATIVE else a, "kling-mcp") for a in (NATIVE, "aarch64", "armv7", "mipsel", "mips")}
# package architecture -> (build, qemu command or None for this machine)
IPK = {"x86_64": ("x86_64", None), "aarch64_generic": ("aarch64", ["qemu-aarch64-static", "-cpu", "cortex-a53"]),
       "aarch64_cortex-a53": ("aarch64", ["qemu-aarch64-static", "-cpu", "cortex-a53"]),
       "aarch64_cortex-a72": ("aarch64", ["qemu-aarch64-static", "-cpu", "cortex-a72"]),
       "arm_cortex-a7_neon-vfpv4": ("armv7", ["qemu-arm-static", "-cpu", "cortex-a7"]),
       "arm_cortex-a9_vfpv3-d16": ("armv7", ["qemu-arm-static", "-cpu", "cortex-a9"]),
       "mipsel_24kc": ("mipsel", ["qemu-mipsel-static", "-cpu", "24Kc"]),
       "mips_24kc": ("mips", ["qemu-mips-static", "-cpu", "24Kc"])}
PLATFORMS = [("amd64", None, "x86_64"), ("arm64", None, "aarch64"), ("arm", "v7", "armv7"),
             ("mipsle", None, "mipsel"), ("mips", None, "mips")]
IMAGE, URL = "registry.example/kling/kling-mcp", "https://example.org/kling-mcp"

# The MCP Registry's rules for server.json as read in its schema
# (docs/reference/server-json/server.schema.json), restated: a reverse-DNS
# name with one slash, a description of at most 100 characters, a specific
# version; each package names its registry type, identifier, version (never
# "latest" nor a range) and a transport: stdio, or streamable-http/sse with
# a url; arguments are positional (with a value or valueHint) or named (with
# a name); inputs are strings/booleans of the listed kinds.
INPUT = {"type": "object", "properties": {
    "description": {"type": "string"}, "isRequired": {"type": "boolean"}, "isSecret": {"type": "boolean"},
    "format": {"enum": ["string", "number", "boolean", "filepath"]}, "value": {"type": "string"},
    "default": {"type": "string"}, "placeholder": {"type": "string"},
    "choices": {"type": "array", "items": {"type": "string"}},
    "variables": {"type": "object", "additionalProperties": {"$ref": "#/$defs/input"}}}}
KV = {"allOf": [{"$ref": "#/$defs/input"}, {"required": ["name"], "properties": {"name": {"type": "string"}}}]}
ARG = {"anyOf": [
    {"allOf": [{"$ref": "#/$defs/input"}, {"required": ["type"], "properties": {"type": {"const": "positional"}},
                                           "anyOf": [{"required": ["valueHint"]}, {"required": ["value"]}]}]},
    {"allOf": [{"$ref": "#/$defs/input"}, {"required": ["type", "name"], "properties": {
        "type": {"const": "named"}, "name": {"type": "string"}}}]}]}
VERSION_RULE = {"type": "string", "minLength": 1, "maxLength": 255, "not": {"anyOf": [
    {"const": "latest"}, {"pattern": r"^[\^~><=]"}, {"pattern": r"(\.x|\.\*)$"}]}}
RULES = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "$defs": {"input": INPUT, "kv": KV, "arg": ARG},
    "type": "object", "required": ["name", "description", "version"],
    "properties": {
        "$schema": {"type": "string", "format": "uri"},
        "name": {"type": "string", "pattern": r"^[a-zA-Z0-9.-]+/[a-zA-Z0-9._-]+$", "minLength": 3, "maxLength": 200},
        "description": {"type": "string", "minLength": 1, "maxLength": 100},
        "version": VERSION_RULE,
        "websiteUrl": {"type": "string", "pattern": "^https?://"},
        "packages": {"type": "array", "items": {
            "type": "object", "additionalProperties": False,
            "required": ["registryType", "identifier", "version", "transport"],
            "properties": {
                "registryType": {"type": "string"}, "registryBaseUrl": {"type": "string"},
                "identifier": {"type": "string"}, "version": VERSION_RULE,
                "fileSha256": {"type": "string", "pattern": "^[a-f0-9]{64}$"}, "runtimeHint": {"type": "string"},
                "transport": {"anyOf": [
                    {"type": "object", "required": ["type"], "properties": {"type": {"const": "stdio"}}},
                    {"type": "object", "required": ["type", "url"], "properties": {
                        "type": {"enum": ["streamable-http", "sse"]}, "url": {"type": "string"},
                        "headers": {"type": "array", "items": {"$ref": "#/$defs/kv"}}}}]},
                "runtimeArguments": {"type": "array", "items": {"$ref": "#/$defs/arg"}},
                "packageArguments": {"type": "array", "items": {"$ref": "#/$defs/arg"}},
                "environmentVariables": {"type": "array", "items": {"$ref": "#/$defs/kv"}}}}}}}


def package(kind, out, *extra):
    env = dict(os.environ, SOURCE_DATE_EPOCH="1700000000")
    bins = [f"{a}={p}" for a, p in BUILDS.items() if os.path.exists(p)]
    args = {"ipk": [out, VERSION], "oci": [out, VERSION, "0123abc", URL, IMAGE],
            "server-json": [out, VERSION] + list(extra or (URL, IMAGE))}[kind]
    r = subprocess.run([sys.executable, os.path.join(ROOT, "tools", "package.py"), kind, *args] +
                       (bins if kind != "server-json" else []), env=env, capture_output=True, text=True, timeout=300)
    if r.returncode:
        raise RuntimeError(r.stderr)


def members(blob, gzipped=True):
    data = gzip.decompress(blob) if gzipped else blob
    with tarfile.open(fileobj=io.BytesIO(data)) as t:
        return [(m, t.extractfile(m).read() if m.isfile() else None) for m in t.getmembers()]


def check_ipks(tmp):
    out = os.path.join(tmp, "ipk")
    os.mkdir(out)
    package("ipk", out)
    again = os.path.join(tmp, "ipk2")
    os.mkdir(again)
    package("ipk", again)
    same = sorted(os.listdir(out)) == sorted(os.listdir(again)) and all(
        open(os.path.join(out, f), "rb").read() == open(os.path.join(again, f), "rb").read() for f in os.listdir(out))
    kt.check("ipk/written twice: byte-identical", same and os.listdir(out), sorted(os.listdir(out)))
    for arch, (build, qemu) in IPK.items():
        name = f"ipk/{arch}"
        path = os.path.join(out, f"kling-mcp_{VERSION}_{arch}.ipk")
        if not os.path.exists(BUILDS[build]):
            kt.skip(name + ": layout, control, modes", f"build/{build} not built here (make cross)")
            kt.skip(name + ": runs --version", f"build/{build} not built here (make cross)")
            continue
        outer = members(open(path, "rb").read())
        names = [m.name for m, _ in outer]
        files = {m.name: d for m, d in outer}
        ctl_members = {m.name: (m, d) for m, d in members(files["./control.tar.gz"])}
        text = ctl_members["./control"][1].decode()
        control = dict(ln.split(": ", 1) for ln in text.splitlines() if ": " in ln and not ln.startswith(" "))
        data = {m.name: (m, d) for m, d in members(files["./data.tar.gz"])}
        raw_data = gzip.decompress(files["./data.tar.gz"])
        modes = {n: (m.mode, m.uid, m.gid) for n, (m, _) in data.items() if m.isfile()}
        problems = []
        if names != ["./debian-binary", "./data.tar.gz", "./control.tar.gz"] or files["./debian-binary"] != b"2.0\n":
            problems.append(f"outer {names}")
        want = {"Package": "kling-mcp", "Version": VERSION, "Architecture": arch,
                "Installed-Size": str(len(raw_data)), "Require-User": "kling-mcp:kling-mcp"}
        problems += [f"{k}: {control.get(k)!r} != {v!r}" for k, v in want.items() if control.get(k) != v]
        if ctl_members.get("./conffiles", (0, b""))[1] != b"/etc/config/kling-mcp\n":
            problems.append("conffiles")
        if not all(ctl_members.get(f"./{s}") and ctl_members[f"./{s}"][0].mode == 0o755 for s in ("postinst", "prerm")):
            problems.append("postinst/prerm")
        want_modes = {"./usr/bin/kling-mcp": (0o755, 0, 0), "./etc/init.d/kling-mcp": (0o755, 0, 0),
                      "./etc/config/kling-mcp": (0o600, 0, 0)}
        if modes != want_modes:
            problems.append(f"modes {modes}")
        if data["./usr/bin/kling-mcp"][1] != open(BUILDS[build], "rb").read():
            problems.append("binary differs from the build")
        kt.check(name + ": layout, control, modes", not problems, problems)
        exe = os.path.join(tmp, f"bin-{arch}")
        with open(exe, "wb") as f:
            f.write(data["./usr/bin/kling-mcp"][1])
        os.chmod(exe, 0o755)
        if qemu and not shutil.which(qemu[0]):
            kt.skip(name + ": runs --version", f"no {qemu[0]} (tools/bootstrap.sh cross-test)")
            continue
        r = subprocess.run((qemu or []) + [exe, "--version"], capture_output=True, text=True, timeout=120)
        kt.check(name + ": runs --version", r.returncode == 0 and r.stdout.startswith(f"kling-mcp {VERSION}\n"),
                 (r.returncode, r.stdout, r.stderr))
    armv7 = BUILDS["armv7"]
    if not os.path.exists(armv7):
        kt.skip("ipk/armv7 build: VFPv3-D16, no NEON (fits arm_cortex-a9_vfpv3-d16)", "build/armv7 not built here")
    else:
        attrs = subprocess.run(["readelf", "-A", armv7], capture_output=True, text=True).stdout
        kt.check("ipk/armv7 build: VFPv3-D16, no NEON (fits arm_cortex-a9_vfpv3-d16)",
                 "Tag_FP_arch: VFPv3-D16" in attrs and "Tag_Advanced_SIMD_arch" not in attrs, attrs)


def check_oci(tmp):
    out = os.path.join(tmp, "img.tar")
    package("oci", out)
    package("oci", out + ".2")
    kt.check("oci/written twice: byte-identical", open(out, "rb").read() == open(out + ".2", "rb").read())
    if not shutil.which("skopeo"):
        kt.skip("oci/skopeo inspect: every built platform", "no skopeo (Debian's skopeo package)")
    else:
        bad, seen = [], 0
        for arch, variant, build in PLATFORMS:
            if not os.path.exists(BUILDS[build]):
                continue
            seen += 1
            cmd = ["skopeo", "inspect", "--override-os", "linux", "--override-arch", arch]
            cmd += ["--override-variant", variant] if variant else []
            r = subprocess.run(cmd + ["--config", f"oci-archive:{out}:{VERSION}"], capture_output=True, text=True,
                               timeout=120)
            if r.returncode:
                bad.append((arch, r.stderr))
                continue
            cfg = json.loads(r.stdout)
            c, labels = cfg.get("config", {}), cfg.get("config", {}).get("Labels", {})
            want = {"org.opencontainers.image.title": "kling-mcp", "org.opencontainers.image.version": VERSION,
                    "org.opencontainers.image.revision": "0123abc", "org.opencontainers.image.source": URL,
                    "io.modelcontextprotocol.server.name": json.load(open(os.path.join(tmp, "server.json")))["name"]}
            need = ("description", "licenses", "created")
            if (cfg.get("architecture") != arch or cfg.get("variant") != variant or
                    any(labels.get(k) != v for k, v in want.items()) or
                    any(f"org.opencontainers.image.{k}" not in labels for k in need) or
                    c.get("Entrypoint") != ["/kling-mcp"] or c.get("User", "0").split(":")[0] in ("", "0", "root") or
                    c.get("StopSignal") != "SIGTERM" or "8080/tcp" not in c.get("ExposedPorts", {})):
                bad.append((arch, cfg))
        kt.check(f"oci/skopeo inspect: every built platform ({seen}), labels, user, entrypoint, port",
                 seen and not bad, bad)
    if not (shutil.which("skopeo") and shutil.which("umoci")) or os.geteuid() != 0:
        for n in ("oci/umoci unpack: the root holds only the binary", "oci/chroot: --version",
                  "oci/chroot: one tools/list over stdio"):
            kt.skip(n, "needs skopeo, umoci and root (chroot)")
        return
    lay, bundle = os.path.join(tmp, "layout"), os.path.join(tmp, "bundle")
    subprocess.run(["skopeo", "copy", "--quiet", "--override-arch", "amd64", f"oci-archive:{out}:{VERSION}",
                    f"oci:{lay}:amd64"], check=True, capture_output=True, timeout=120)
    subprocess.run(["umoci", "unpack", "--image", f"{lay}:amd64", bundle], check=True, capture_output=True,
                   timeout=120)
    rootfs = os.path.join(bundle, "rootfs")
    kt.eq("oci/umoci unpack: the root holds only the binary", sorted(os.listdir(rootfs)), ["kling-mcp"])
    if os.environ.get("SANITIZE") == "1":
        for n in ("oci/chroot: --version", "oci/chroot: one tools/list over stdio"):
            kt.skip(n, "the sanitizer build is dynamic and cannot run in an empty root: the static product "
                    "is run there by make test")
        return
    r = subprocess.run(["chroot", rootfs, "/kling-mcp", "--version"], capture_output=True, text=True, timeout=60)
    kt.check("oci/chroot: --version", r.returncode == 0 and r.stdout.startswith(f"kling-mcp {VERSION}"), r)
    lines = [{"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {
        "protocolVersion": "2025-11-25", "capabilities": {}, "clientInfo": {"name": "t", "version": "1"}}},
        {"jsonrpc": "2.0", "method": "notifications/initialized"}, {"jsonrpc": "2.0", "id": 2, "method": "tools/list"}]
    r = subprocess.run(["chroot", rootfs, "/kling-mcp"], input="".join(json.dumps(m) + "\n" for m in lines),
                       capture_output=True, text=True, timeout=60, env={"PATH": os.environ["PATH"], "KLING_API_KEY": "k-0123456789abcdef"})
    answers = [json.loads(ln) for ln in r.stdout.splitlines() if ln.strip()]
    tools = [t["name"] for a in answers if a.get("id") == 2 for t in a.get("result", {}).get("tools", [])]
    kt.check("oci/chroot: one tools/list over stdio", r.returncode == 0 and "list_tasks" in tools, (r.stdout, r.stderr))


def check_server_json(tmp):
    path = os.path.join(tmp, "server.json")
    package("server-json", path)
    doc = json.load(open(path))
    try:
        import jsonschema
    except ImportError:
        kt.skip("server.json/valid under the registry's rules", "no python3-jsonschema")
    else:
        errors = [e.message for e in jsonschema.Draft202012Validator(RULES).iter_errors(doc)]
        kt.check("server.json/valid under the registry's rules", not errors, errors)
        broken = dict(doc, description="x" * 101, packages=[dict(doc["packages"][0], version="latest")])
        kt.check("server.json/the rules can fail (101-character description, version latest)",
                 len(list(jsonschema.Draft202012Validator(RULES).iter_errors(broken))) >= 2)
    kinds = sorted(p["transport"]["type"] for p in doc.get("packages", []))
    http = [p for p in doc.get("packages", []) if p["transport"]["type"] == "streamable-http"]
    kt.check("server.json/the OCI image, over stdio and Streamable HTTP (a URL template)",
             kinds == ["stdio", "streamable-http"] and all(p["registryType"] == "oci" and
                                                          p["identifier"] == f"{IMAGE}:{VERSION}"
                                                          for p in doc["packages"]) and
             http and "{port}" in http[0]["transport"]["url"], doc)
    kt.check("server.json/version is the Makefile's VERSION, websiteUrl the project URL",
             doc["version"] == VERSION and all(p["version"] == VERSION for p in doc["packages"]) and
             doc.get("websiteUrl") == URL, doc)
    package("server-json", path + ".nourl", "", IMAGE)
    kt.check("server.json/no project URL: websiteUrl left out", "websiteUrl" not in json.load(open(path + ".nourl")))


def main():
    kt.plan(29)
    tmp = tempfile.mkdtemp(prefix="kling-pkg-")
    try:
        kt.check("version/numeric, valid for opkg and apk", re.fullmatch(r"[0-9]+(\.[0-9]+)*", VERSION), VERSION)
        check_server_json(tmp)
        check_ipks(tmp)
        check_oci(tmp)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    kt.done()


if __name__ == "__main__":
    main()

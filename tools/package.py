#!/usr/bin/env python3
"""The release packages, written byte for byte the same from the same inputs
(fixed times from SOURCE_DATE_EPOCH, owner 0, sorted members, gzip without
a name or a time):

  package.py ipk  OUTDIR VERSION x86_64=BIN aarch64=BIN ...
      one OpenWrt .ipk per package architecture (PKG_ARCHS below): a gzipped
      tar of ./debian-binary, ./data.tar.gz, ./control.tar.gz, the layout
      OpenWrt's own ipkg-build writes
  package.py oci  OUT.tar VERSION REVISION URL IMAGE x86_64=BIN ...
      an OCI image archive: index.json names one image index (tag VERSION)
      of one image per platform, each one layer holding only /kling-mcp
  package.py server-json OUT VERSION URL IMAGE
      the MCP Registry's server.json for the image IMAGE:VERSION

BIN names the build of an architecture of mk/cross.mk (x86_64 aarch64 armv7
mipsel mips)."""
import gzip
import hashlib
import io
import json
import os
import sys
import tarfile
import time

NAME = "kling-mcp"
# Build-time settings (mk/pkg.mk passes them): the registry name, and the
# licence as an SPDX expression (NOASSERTION until the project names one).
REGISTRY_NAME = os.environ.get("MCP_NAME") or "io.github.kling-mcp/kling-mcp"
DESCRIPTION = "MCP server for the Kling AI API: list generation tasks and wait for one"
LICENSE = os.environ.get("PKG_LICENSE") or "NOASSERTION"
PORT = 8080
# OpenWrt package architecture -> the build whose instructions it can run.
# aarch64: ARMv8-A with nothing optional. armv7: ARMv7-A, VFPv3-D16, no NEON
# (mk/cross.mk's -march=armv7-a+fp): both Cortex-A7 (neon-vfpv4) and
# Cortex-A9 (vfpv3-d16) run it. mips/mipsel: MIPS32r2 soft-float (24Kc).
PKG_ARCHS = {
    "x86_64": "x86_64", "aarch64_generic": "aarch64", "aarch64_cortex-a53": "aarch64",
    "aarch64_cortex-a72": "aarch64", "arm_cortex-a7_neon-vfpv4": "armv7", "arm_cortex-a9_vfpv3-d16": "armv7",
    "mipsel_24kc": "mipsel", "mips_24kc": "mips",
}
# OCI platform -> build.
OCI_PLATFORMS = [
    ({"architecture": "amd64", "os": "linux"}, "x86_64"),
    ({"architecture": "arm64", "os": "linux"}, "aarch64"),
    ({"architecture": "arm", "os": "linux", "variant": "v7"}, "armv7"),
    ({"architecture": "mipsle", "os": "linux"}, "mipsel"),
    ({"architecture": "mips", "os": "linux"}, "mips"),
]
TOP = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
EPOCH = int(os.environ.get("SOURCE_DATE_EPOCH") or 0)


def gz(data):
    out = io.BytesIO()
    with gzip.GzipFile(fileobj=out, mode="wb", compresslevel=9, mtime=0, filename="") as f:
        f.write(data)
    return out.getvalue()


def tar(members, fmt=tarfile.GNU_FORMAT, dirs=True):
    """members: [(path, bytes or None for a directory, mode)], sorted by path."""
    out = io.BytesIO()
    with tarfile.open(fileobj=out, mode="w", format=fmt) as t:
        for path, data, mode in sorted(members):
            ti = tarfile.TarInfo(path)
            ti.mtime, ti.uid, ti.gid, ti.uname, ti.gname, ti.mode = EPOCH, 0, 0, "", "", mode
            if data is None:
                ti.type = tarfile.DIRTYPE
                t.addfile(ti)
            else:
                ti.size = len(data)
                t.addfile(ti, io.BytesIO(data))
    return out.getvalue()


def read(path):
    with open(path, "rb") as f:
        return f.read()


def builds(args):
    return dict(a.split("=", 1) for a in args)


def ipk(outdir, version, bins):
    files = os.path.join(TOP, "packaging", "openwrt", "files")
    data_members = [("./", None, 0o755), ("./etc/", None, 0o755), ("./etc/config/", None, 0o755),
                    ("./etc/init.d/", None, 0o755), ("./usr/", None, 0o755), ("./usr/bin/", None, 0o755),
                    ("./etc/config/kling-mcp", read(os.path.join(files, "kling-mcp.config")), 0o600),
                    ("./etc/init.d/kling-mcp", read(os.path.join(files, "kling-mcp.init")), 0o755)]
    postinst = read(os.path.join(files, "postinst"))
    prerm = read(os.path.join(files, "prerm"))
    for arch, build in sorted(PKG_ARCHS.items()):
        if build not in bins:
            continue
        data_tar = tar(data_members + [("./usr/bin/kling-mcp", read(bins[build]), 0o755)])
        control = (f"Package: {NAME}\nVersion: {version}\nDepends: \nSource: kling-mcp\nSourceName: {NAME}\n"
                   f"License: {LICENSE}\nSection: net\nSourceDateEpoch: {EPOCH}\n"
                   f"Require-User: kling-mcp:kling-mcp\nArchitecture: {arch}\nInstalled-Size: {len(data_tar)}\n"
                   f"Description: {DESCRIPTION}.\n One static executable (Streamable HTTP listener, procd service,\n"
                   f" uci config /etc/config/kling-mcp).\n").encode()
        control_tar = tar([("./", None, 0o755), ("./control", control, 0o644),
                           ("./conffiles", b"/etc/config/kling-mcp\n", 0o644),
                           ("./postinst", postinst, 0o755), ("./prerm", prerm, 0o755)])
        # ipkg-build's order: debian-binary, data, control (tar() sorts, so lay it out by hand)
        outer = tar_in_order([("./debian-binary", b"2.0\n"), ("./data.tar.gz", gz(data_tar)),
                              ("./control.tar.gz", gz(control_tar))])
        path = os.path.join(outdir, f"{NAME}_{version}_{arch}.ipk")
        with open(path, "wb") as f:
            f.write(gz(outer))
        print(f"  IPK     {path} ({os.path.getsize(path)} bytes)")


def tar_in_order(members):
    out = io.BytesIO()
    with tarfile.open(fileobj=out, mode="w", format=tarfile.GNU_FORMAT) as t:
        for path, data in members:
            ti = tarfile.TarInfo(path)
            ti.mtime, ti.uid, ti.gid, ti.uname, ti.gname, ti.mode, ti.size = EPOCH, 0, 0, "", "", 0o644, len(data)
            t.addfile(ti, io.BytesIO(data))
    return out.getvalue()


def blob(blobs, data, media_type, **extra):
    digest = "sha256:" + hashlib.sha256(data).hexdigest()
    blobs[digest] = data
    d = {"mediaType": media_type, "digest": digest, "size": len(data)}
    d.update(extra)
    return d


def jbytes(obj):
    return json.dumps(obj, sort_keys=True, separators=(",", ":")).encode()


def oci(out, version, revision, url, image, bins):
    blobs = {}
    created = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(EPOCH))
    labels = {"org.opencontainers.image.title": NAME, "org.opencontainers.image.description": DESCRIPTION,
              "org.opencontainers.image.version": version, "org.opencontainers.image.revision": revision,
              "org.opencontainers.image.licenses": LICENSE, "org.opencontainers.image.created": created,
              "io.modelcontextprotocol.server.name": REGISTRY_NAME}
    if url:
        labels["org.opencontainers.image.source"] = url
    manifests = []
    for platform, build in OCI_PLATFORMS:
        if build not in bins:
            continue
        layer = tar([("kling-mcp", read(bins[build]), 0o755)], fmt=tarfile.PAX_FORMAT)
        layer_desc = blob(blobs, gz(layer), "application/vnd.oci.image.layer.v1.tar+gzip")
        config = dict(platform, created=created, config={
            "User": "65532:65532", "Entrypoint": ["/kling-mcp"], "StopSignal": "SIGTERM",
            "ExposedPorts": {f"{PORT}/tcp": {}}, "Labels": labels},
            rootfs={"type": "layers", "diff_ids": ["sha256:" + hashlib.sha256(layer).hexdigest()]},
            history=[{"created": created, "created_by": f"kling-mcp {version}: the static binary"}])
        config_desc = blob(blobs, jbytes(config), "application/vnd.oci.image.config.v1+json")
        manifest = {"schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
                    "config": config_desc, "layers": [layer_desc], "annotations": {
                        "org.opencontainers.image.version": version, "org.opencontainers.image.created": created}}
        manifests.append(blob(blobs, jbytes(manifest), "application/vnd.oci.image.manifest.v1+json",
                              platform=platform))
    index = {"schemaVersion": 2, "mediaType": "application/vnd.oci.image.index.v1+json", "manifests": manifests,
             "annotations": {"org.opencontainers.image.version": version}}
    index_desc = blob(blobs, jbytes(index), "application/vnd.oci.image.index.v1+json", annotations={
        "org.opencontainers.image.ref.name": version, "io.containerd.image.name": f"{image}:{version}"})
    top = {"schemaVersion": 2, "mediaType": "application/vnd.oci.image.index.v1+json", "manifests": [index_desc]}
    members = [("oci-layout", jbytes({"imageLayoutVersion": "1.0.0"}), 0o644), ("index.json", jbytes(top), 0o644),
               ("blobs/", None, 0o755), ("blobs/sha256/", None, 0o755)]
    members += [("blobs/sha256/" + d.split(":", 1)[1], data, 0o644) for d, data in blobs.items()]
    with open(out, "wb") as f:
        f.write(tar(members, fmt=tarfile.PAX_FORMAT))
    print(f"  OCI     {out} ({os.path.getsize(out)} bytes, {len(manifests)} platforms, {index_desc['digest']})")


def server_json(out, version, url, image):
    """The registry entry: the OCI image over stdio, and the same image as a
    Streamable HTTP listener whose URL is a template on the chosen port."""
    env = [{"name": "KLING_API_KEY", "description": "Kling API key (or KLING_ACCESS_KEY + KLING_SECRET_KEY)",
            "isSecret": True, "isRequired": False},
           {"name": "KLING_ACCESS_KEY", "description": "AccessKey of a Kling AK/SK pair", "isSecret": True},
           {"name": "KLING_SECRET_KEY", "description": "SecretKey of the pair", "isSecret": True},
           {"name": "KLING_REGION", "description": "global or cn", "default": "global", "choices": ["global", "cn"]}]
    ident = f"{image}:{version}"
    stdio = {"registryType": "oci", "identifier": ident, "version": version, "transport": {"type": "stdio"},
             "runtimeHint": "docker", "environmentVariables": env}
    http = {"registryType": "oci", "identifier": ident, "version": version,
            "transport": {"type": "streamable-http", "url": "http://localhost:{port}/mcp",
                          "headers": [{"name": "Authorization", "value": "Bearer {token}", "isSecret": True,
                                       "description": "the listener's KLING_MCP_TOKEN",
                                       "variables": {"token": {"isSecret": True, "isRequired": True}}}]},
            "runtimeHint": "docker",
            "runtimeArguments": [{"type": "named", "name": "-p", "value": "127.0.0.1:{port}:8080",
                                  "variables": {"port": {"default": "8080", "format": "number"}}}],
            "packageArguments": [{"type": "named", "name": "--listen", "value": "0.0.0.0:8080"}],
            "environmentVariables": env + [{"name": "KLING_MCP_TOKEN", "isSecret": True, "isRequired": True,
                                            "description": "bearer token the HTTP clients send"}]}
    doc = {"$schema": "https://static.modelcontextprotocol.io/schemas/2025-12-11/server.schema.json",
           "name": REGISTRY_NAME, "description": DESCRIPTION, "version": version, "packages": [stdio, http]}
    if url:
        doc["websiteUrl"] = url
    with open(out, "w") as f:
        json.dump(doc, f, indent=2, sort_keys=False)
        f.write("\n")
    print(f"  JSON    {out}")


def main(argv):
    if len(argv) < 2:
        sys.exit(__doc__)
    if argv[1] in ("ipk", "oci") and len(argv) <= (4 if argv[1] == "ipk" else 7):
        sys.exit(f"package: no binary to put in the {argv[1]} (none built, or another version's names)")
    if argv[1] == "ipk":
        ipk(argv[2], argv[3], builds(argv[4:]))
    elif argv[1] == "oci":
        oci(argv[2], argv[3], argv[4], argv[5], argv[6], builds(argv[7:]))
    elif argv[1] == "server-json":
        server_json(argv[2], argv[3], argv[4], argv[5])
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main(sys.argv)

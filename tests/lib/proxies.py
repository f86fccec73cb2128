"""Real reverse proxies (nginx, Caddy, HAProxy) in front of `kling-mcp --listen`,
each started on loopback from the README's recipe as written.

    recipes = readme_recipes()          # {"nginx": text, "caddy": text, "haproxy": text}
    p = Proxy("nginx", upstream_port, tmpdir)          # or short_timeout=True
    p.port                              # where clients connect (127.0.0.1)
    p.stop()

The README's blocks are used as they are; only what must differ on a test
machine is filled in: the upstream port (8080 in the README) becomes the
listener's, the public address (`mcp.example.com`, `bind :443 ssl ...`)
becomes a free loopback port over plain HTTP, and each proxy gets a wrapper
of plumbing only (foreground, its pid/log/temp files in the temp dir, the
packaged HAProxy `defaults`). With short_timeout the proxy's read timeout is
set to SHORT_TIMEOUT_S so a test can wait past it quickly. No packaged
service is touched: each proxy runs as a child of the test.
"""
import os
import re
import shutil
import socket
import subprocess
import time

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
README = os.path.join(ROOT, "README.md")
SECTION = "### Behind a reverse proxy"
FENCES = {"nginx": "nginx", "caddy": "caddyfile", "haproxy": "haproxy"}
BINARIES = {"nginx": ["nginx", "/usr/sbin/nginx"], "caddy": ["caddy", "/usr/bin/caddy"],
            "haproxy": ["haproxy", "/usr/sbin/haproxy"]}
README_UPSTREAM = "127.0.0.1:8080"
SHORT_TIMEOUT_S = 2
# Debian's packaged haproxy.cfg `defaults` (mode and timeouts; its log and
# errorfile lines need the system's paths and change nothing on the wire).
HAPROXY_DEFAULTS = """defaults
    mode http
    timeout connect 5000
    timeout client 50000
    timeout server %s
"""


def readme_recipes(path=README):
    """The fenced config blocks of README's reverse-proxy section, by proxy."""
    text = open(path, encoding="utf-8").read()
    i = text.find(SECTION)
    if i < 0:
        raise ValueError("README has no section " + SECTION)
    j = text.find("\n### ", i + 1)
    j2 = text.find("\n## ", i + 1)
    end = min(x for x in (j, j2, len(text)) if x >= 0)
    sec = text[i:end]
    out = {}
    for name, info in FENCES.items():
        m = re.search(r"^```" + info + r"\n(.*?)^```$", sec, re.S | re.M)
        if not m:
            raise ValueError(f"README's {SECTION!r} has no ```{info} block")
        out[name] = m.group(1)
    return out


def which(kind):
    for b in BINARIES[kind]:
        p = shutil.which(b)
        if p:
            return p
    return None


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def _need(text, what, kind):
    if what not in text:
        raise ValueError(f"the README's {kind} recipe no longer contains {what!r}; update tests/lib/proxies.py")


def nginx_conf(recipe, port, upstream, tmp, short):
    _need(recipe, README_UPSTREAM, "nginx")
    body = recipe.replace(README_UPSTREAM, f"127.0.0.1:{upstream}")
    if short:  # inside the recipe's location: the proxy's read timeout, short
        body = body.rstrip().rstrip("}") + f"    proxy_read_timeout {SHORT_TIMEOUT_S}s;\n}}\n"
    t = {k: os.path.join(tmp, k) for k in ("body", "proxy", "fastcgi", "uwsgi", "scgi")}
    for d in t.values():
        os.makedirs(d, exist_ok=True)
        os.chmod(d, 0o777)  # nginx's workers run as nobody when the tests run as root
    return f"""daemon off;
pid {tmp}/nginx.pid;
error_log {tmp}/error.log info;
events {{}}
http {{
    access_log {tmp}/access.log;
    client_body_temp_path {t['body']};
    proxy_temp_path {t['proxy']};
    fastcgi_temp_path {t['fastcgi']};
    uwsgi_temp_path {t['uwsgi']};
    scgi_temp_path {t['scgi']};
    server {{
        listen 127.0.0.1:{port};
{body}
    }}
}}
"""


def caddy_conf(recipe, port, upstream, tmp, short):
    _need(recipe, README_UPSTREAM, "caddy")
    _need(recipe, "mcp.example.com {", "caddy")
    body = recipe.replace(README_UPSTREAM, f"127.0.0.1:{upstream}")
    body = body.replace("mcp.example.com {", f"http://:{port} {{", 1)
    if short:  # the http transport's read timeout, short
        _need(body, "flush_interval -1\n", "caddy")
        body = body.replace("flush_interval -1\n", "flush_interval -1\n        transport http {\n"
                            f"            read_timeout {SHORT_TIMEOUT_S}s\n        }}\n", 1)
    return "{\n\tadmin off\n\tdefault_bind 127.0.0.1\n\tstorage file_system %s\n}\n%s" % (tmp + "/data", body)


def haproxy_conf(recipe, port, upstream, tmp, short):
    _need(recipe, README_UPSTREAM, "haproxy")
    body = recipe.replace(README_UPSTREAM, f"127.0.0.1:{upstream}")
    body, n = re.subn(r"^(\s*)bind .*$", rf"\g<1>bind 127.0.0.1:{port}", body, count=1, flags=re.M)
    if n != 1:
        raise ValueError("the README's haproxy recipe has no bind line")
    return "global\n    maxconn 1024\n\n" + HAPROXY_DEFAULTS % (SHORT_TIMEOUT_S * 1000 if short else 50000) \
        + "\n" + body


def allowed(port):
    """KLING_MCP_ALLOWED_HOSTS and _ORIGINS for a listener behind a proxy on
    this port (each passes on the client's Host: 127.0.0.1 or localhost)."""
    h = [f"127.0.0.1:{port}", f"localhost:{port}"]
    return {"KLING_MCP_ALLOWED_HOSTS": ",".join(h), "KLING_MCP_ALLOWED_ORIGINS": ",".join("http://" + x for x in h)}


class Proxy:
    def __init__(self, kind, upstream, tmp, short_timeout=False, recipes=None, port=None):
        self.kind = kind
        self.dir = os.path.join(tmp, f"{kind}{'-short' if short_timeout else ''}-{upstream}")
        os.makedirs(self.dir, exist_ok=True)
        os.chmod(self.dir, 0o755)
        os.chmod(tmp, 0o755)
        recipe = (recipes or readme_recipes())[kind]
        self.port = port or free_port()
        exe = which(kind)
        env = dict(os.environ, HOME=self.dir, XDG_DATA_HOME=self.dir, XDG_CONFIG_HOME=self.dir)
        if kind == "nginx":
            conf = os.path.join(self.dir, "nginx.conf")
            open(conf, "w").write(nginx_conf(recipe, self.port, upstream, self.dir, short_timeout))
            argv = [exe, "-p", self.dir, "-c", conf, "-e", os.path.join(self.dir, "error.log")]
        elif kind == "caddy":
            conf = os.path.join(self.dir, "Caddyfile")
            open(conf, "w").write(caddy_conf(recipe, self.port, upstream, self.dir, short_timeout))
            argv = [exe, "run", "--config", conf, "--adapter", "caddyfile"]
        else:
            conf = os.path.join(self.dir, "haproxy.cfg")
            open(conf, "w").write(haproxy_conf(recipe, self.port, upstream, self.dir, short_timeout))
            argv = [exe, "-db", "-f", conf]
        self.conf = conf
        self.log = open(os.path.join(self.dir, "proxy.log"), "wb")
        self.proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=self.log, stderr=self.log, env=env,
                                     cwd=self.dir)
        self._wait_ready()

    def _wait_ready(self, timeout=20):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                break
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=1).close()
                return
            except OSError:
                time.sleep(0.05)
        self.stop()
        raise RuntimeError(f"{self.kind} did not start on 127.0.0.1:{self.port}: {self.output()[-800:]}")

    def output(self):
        self.log.flush()
        out = open(self.log.name, errors="replace").read()
        err = os.path.join(self.dir, "error.log")
        if os.path.exists(err):
            out += open(err, errors="replace").read()
        return out

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.log.close()

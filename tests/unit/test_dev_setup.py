"""dev.sh's set-up when a package index is out of reach: the cause it can see and the fixes that help (issue 26).

On local fakes, never the network: an HTTPS server with a self-signed certificate (what a TLS-inspecting proxy
looks like), a name under .invalid (RFC 6761: never resolves), a proxy on a closed port, and a plain HTTP index."""

import http.server
import os
import shutil
import socket
import ssl
import subprocess
import sys
import threading
from pathlib import Path

import pytest

ROOT = Path(__file__).parents[2]
PROBE = ROOT / "packaging" / "index_probe.py"
PROXY_VARIABLES = ("http_proxy", "https_proxy", "all_proxy", "no_proxy")


def _env(**extra: str) -> dict:
    env = {k: v for k, v in os.environ.items() if k.lower() not in PROXY_VARIABLES
           and k not in ("PIP_CERT", "REQUESTS_CA_BUNDLE", "PIP_INDEX_URL", "SSL_CERT_FILE")}
    return {**env, **extra}


def _probe(url: str, **env: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, str(PROBE), url], capture_output=True, text=True, timeout=60, env=_env(**env))


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class _Index(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        self.send_response(200 if self.path.startswith("/simple/") else 404)
        self.end_headers()

    def log_message(self, *args):
        pass


@pytest.fixture
def index_server():
    """A local index with every project under /simple/; yields start(tls_context=None), which serves and gives the port."""
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Index)
    thread = threading.Thread(target=server.serve_forever, daemon=True)

    def start(context: ssl.SSLContext | None = None) -> int:
        if context is not None:
            server.socket = context.wrap_socket(server.socket, server_side=True)
        thread.start()
        return server.server_address[1]

    yield start
    server.shutdown()
    server.server_close()


def test_an_index_that_answers_passes_and_one_that_lacks_the_page_is_reached(index_server):
    port = index_server()
    result = _probe(f"http://127.0.0.1:{port}/simple/torch/")
    assert (result.returncode, result.stdout) == (0, "")
    missing = _probe(f"http://127.0.0.1:{port}/whl/cu999/torch/")  # reached, but not there: no network advice
    assert missing.returncode == 3 and missing.stdout.count("\n") == 1 and "HTTP 404" in missing.stdout


@pytest.mark.skipif(shutil.which("openssl") is None, reason="needs the openssl command to make a certificate")
def test_a_certificate_that_does_not_verify_is_named_with_the_site_ca_fix(index_server, tmp_path):
    cert, key = tmp_path / "site-ca.pem", tmp_path / "site-ca.key"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", str(key), "-out", str(cert),
                    "-days", "2", "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1"],
                   check=True, capture_output=True, timeout=60)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    port = index_server(context)
    result = _probe(f"https://127.0.0.1:{port}/simple/torch/")
    cause, *fixes = result.stdout.splitlines()
    assert result.returncode == 1 and cause.startswith("certificate verification failed for 127.0.0.1")
    assert "PIP_CERT=" in fixes[0] and "REQUESTS_CA_BUNDLE=" in fixes[0]
    assert "offline bundle" in fixes[-1] and "bundle.sh" in fixes[-1] and "TORCH_SPEC" not in result.stdout
    # the site's CA given as pip would be given it: the same index now passes
    trusted = _probe(f"https://127.0.0.1:{port}/simple/torch/", PIP_CERT=str(cert))
    assert trusted.returncode == 0, trusted.stdout
    assert _probe(f"https://127.0.0.1:{port}/simple/torch/", REQUESTS_CA_BUNDLE=str(cert)).returncode == 0


def test_a_name_that_does_not_resolve_points_to_a_proxy_and_the_offline_bundle():
    result = _probe("https://index.invalid/simple/torch/")
    cause, *fixes = result.stdout.splitlines()
    assert result.returncode == 1 and cause.startswith("name resolution failed for index.invalid")
    assert "HTTPS_PROXY=" in fixes[0] and "offline bundle" in fixes[-1]


def test_a_proxy_that_does_not_answer_is_named():
    proxy = f"http://127.0.0.1:{_closed_port()}"
    result = _probe("https://index.invalid/simple/torch/", HTTPS_PROXY=proxy, https_proxy=proxy)
    cause, *fixes = result.stdout.splitlines()
    assert result.returncode == 1 and cause.startswith(f"the proxy {proxy} did not connect to index.invalid")
    assert "HTTPS_PROXY" in fixes[0] and "offline bundle" in fixes[-1]


def test_dev_sh_names_the_cause_in_its_plan_and_stops_with_the_fixes_that_help(tmp_path):
    """dev.sh end to end with a stand-in for the environment's Python: torch absent, pip failing as it does with no
    index; every probe goes to a proxy on a closed local port, so nothing leaves the machine."""
    venv = tmp_path / "venv"
    (venv / "bin").mkdir(parents=True)
    (venv / "bin" / "python").write_text(f"""#!/bin/sh
case "$*" in
  *--upgrade\\ pip*) exit 0 ;;
  -m\\ pip\\ config*) exit 1 ;;
  -m\\ pip*) echo "ERROR: No matching distribution found" >&2; exit 1 ;;
  -c*) exit 1 ;;
esac
exec {sys.executable} "$@"
""")
    (venv / "bin" / "python").chmod(0o755)
    proxy = f"http://127.0.0.1:{_closed_port()}"
    result = subprocess.run(["bash", str(ROOT / "packaging" / "dev.sh"), "run"], capture_output=True, text=True, timeout=120,
                            env=_env(GPU_ADVISOR_VENV=str(venv), HTTPS_PROXY=proxy, https_proxy=proxy,
                                     PIP_CONFIG_FILE="/dev/null", PATH="/usr/bin:/bin"))
    lines = result.stderr.splitlines()
    plan = next(line for line in lines if line.startswith("dev.sh:   1. torch"))
    assert "is out of reach (the proxy" in plan
    assert result.returncode == 1
    failure = next(line for line in lines if line.startswith("dev.sh: could not install torch"))
    assert "pip reached no package index: the proxy" in failure and "pypi.org" in failure
    assert any("offline bundle" in line for line in lines) and not any("set TORCH_SPEC to" in line for line in lines)

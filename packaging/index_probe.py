"""Can pip reach this package index, and if not, why and what helps (a helper of dev.sh; stdlib only).

    python packaging/index_probe.py URL    # exit 0: it answers; 1: no answer (line 1 the cause, then the fixes);
                                           # 3: it answered with an HTTP error (the index is reached; the page is not there)

The probe trusts what pip would trust (PIP_CERT, else REQUESTS_CA_BUNDLE, else the system's certificates) and goes
through the proxy pip would use (HTTPS_PROXY and friends), so that a failure here names the cause pip's retries
hide in their warnings: a certificate that does not verify (a TLS-inspecting proxy or firewall), a name that does
not resolve (no DNS: an air-gapped site, or one that reaches out only through a proxy), a proxy that does not
answer. Pointing at TORCH_SPEC is no help then: the other dependencies need an index too.
"""

from __future__ import annotations

import os
import socket
import ssl
import sys
import urllib.error
import urllib.parse
import urllib.request

OFFLINE = ("with no way out to an index: build the offline bundle on a connected machine (bash packaging/bundle.sh) "
           "and install it here (README, \"In a secure, air-gapped site\")")


def _proxy_for(url: str) -> str | None:
    scheme = urllib.parse.urlsplit(url).scheme
    host = urllib.parse.urlsplit(url).hostname or ""
    if urllib.request.proxy_bypass(host):
        return None
    return urllib.request.getproxies().get(scheme)


def probe(url: str, timeout: float = 10.0) -> tuple[str, str] | None:
    """None when ``url`` answers; else (kind, cause): kind is http (an answer, not the page), certificate, dns, proxy
    or connection."""
    cafile = os.environ.get("PIP_CERT") or os.environ.get("REQUESTS_CA_BUNDLE") or None
    try:
        context = ssl.create_default_context(cafile=cafile)
    except (OSError, ssl.SSLError) as exc:
        return "certificate", f"the CA bundle {cafile} cannot be read ({exc})"
    opener = urllib.request.build_opener(urllib.request.HTTPSHandler(context=context))
    try:
        opener.open(url, timeout=timeout).close()
        return None
    except urllib.error.HTTPError as exc:  # an answer, but not the page: the index is reached
        return "http", f"{url} answered HTTP {exc.code} {exc.reason}"
    except (urllib.error.URLError, OSError) as exc:
        reason = exc.reason if isinstance(exc, urllib.error.URLError) else exc
        host = urllib.parse.urlsplit(url).hostname
        if isinstance(reason, ssl.SSLCertVerificationError):
            return "certificate", (f"certificate verification failed for {host} ({reason.verify_message}): something "
                                   "between here and the index, such as a TLS-inspecting proxy or firewall, presents a "
                                   "certificate this machine's Python does not trust")
        proxy = _proxy_for(url)
        if proxy:
            return "proxy", f"the proxy {proxy} did not connect to {host} ({reason})"
        if isinstance(reason, socket.gaierror):
            return "dns", f"name resolution failed for {host} ({reason.strerror or reason}): no DNS here, or a proxy is needed"
        return "connection", f"no connection to {host} ({reason})"


def fixes(kind: str) -> list[str]:
    """What helps for each kind of failure, most likely first; the offline bundle always."""
    site_ca = ("give pip your site's CA certificate (ask IT for the PEM file): PIP_CERT=/path/to/site-ca.pem, or "
               "REQUESTS_CA_BUNDLE=/path/to/site-ca.pem, then run again")
    proxy = "if this site reaches the internet through a proxy: HTTPS_PROXY=http://proxy.example:3128 (pip reads it)"
    mirror = "or a package mirror your site runs: PIP_INDEX_URL=https://mirror.example/simple"
    if kind == "certificate":
        return [site_ca, mirror, OFFLINE]
    if kind == "proxy":
        return ["check HTTPS_PROXY / HTTP_PROXY (host, port, and user:password@ if it asks for them)", mirror, OFFLINE]
    return [proxy, mirror, OFFLINE]


def main(argv: list[str]) -> int:
    if len(argv) != 1:
        print("usage: python packaging/index_probe.py URL", file=sys.stderr)
        return 2
    if urllib.parse.urlsplit(argv[0]).scheme not in ("http", "https"):
        return 0  # a local folder or file index: nothing to diagnose over the network
    found = probe(argv[0])
    if found is None:
        return 0
    kind, cause = found
    print(cause)
    if kind == "http":
        return 3
    for line in fixes(kind):
        print(f"  - {line}")
    return 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

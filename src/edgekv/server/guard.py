"""``LoopbackGuard``: the dev server's protection of its management paths.

``edgekv dev`` answers ``/cdn-cgi/edgekv/`` (the REST API, later the explorer) without a
credential, like Miniflare's local explorer. So that a web page cannot reach them through
the user's browser, a request is refused (403) unless:

- its ``Host`` names loopback (``localhost``, ``127.x.x.x``, ``[::1]``) or the address the
  server was started on (``--ip``): a DNS-rebinding page sends its own host name;
- it is not a cross-origin browser request: an ``Origin`` header must name the same host
  and port as ``Host``, and ``Sec-Fetch-Site`` must not be ``cross-site``/``same-site``.
  Non-browser clients (curl, wrangler, the SDK) send neither header and pass.

The Worker's own routes are not guarded: a Worker answers whatever Host it is sent.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable
from urllib.parse import urlsplit

__all__ = ["LoopbackGuard"]


def _split_host(value: str) -> tuple[str, str]:
    """``("host", "port")`` of a Host header value (port ``""`` when absent)."""
    value = value.strip().lower()
    if value.startswith("["):
        host, _, rest = value[1:].partition("]")
        return host, rest.removeprefix(":")
    host, _, port = value.partition(":")
    return host, port


def _is_loopback(host: str) -> bool:
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


class LoopbackGuard:
    """Decides whether a management request may go on (see module docstring)."""

    def __init__(self, extra_hosts: Iterable[str] = ()) -> None:
        self.extra_hosts = {h.strip("[]").lower() for h in extra_hosts if h}
        self.extra_hosts.discard("0.0.0.0")
        self.extra_hosts.discard("::")

    def host_allowed(self, host: str) -> bool:
        return _is_loopback(host) or host in self.extra_hosts

    def refusal(self, headers: dict[str, str]) -> str | None:
        """Why the request is refused, or ``None`` when it may go on."""
        host_header = headers.get("host")
        if not host_header:
            return "a Host header is required"
        host, port = _split_host(host_header)
        if not self.host_allowed(host):
            return f"the Host {host_header!r} is not a loopback address of this server"
        fetch_site = headers.get("sec-fetch-site", "").lower()
        if fetch_site in ("cross-site", "same-site"):
            return "cross-origin browser requests are refused"
        origin = headers.get("origin")
        if origin is not None:
            parts = urlsplit(origin)
            default = {"http": "80", "https": "443"}.get(parts.scheme, "")
            origin_host = (parts.hostname or "").lower()
            origin_port = str(parts.port) if parts.port else default
            if origin_host != host or origin_port != (port or default):
                return f"cross-origin requests (Origin {origin!r}) are refused"
        return None

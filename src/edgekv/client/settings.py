"""Where ``--remote`` goes and who it says it is: wrangler's environment variables.

=============================  ==========================================================
``CLOUDFLARE_API_BASE_URL``    the API root including ``/client/v4`` (default
                               ``https://api.cloudflare.com/client/v4``); alias
                               ``CF_API_BASE_URL``
``CLOUDFLARE_API_TOKEN``       an API token, sent as ``Authorization: Bearer``; alias
                               ``CF_API_TOKEN``
``CLOUDFLARE_API_KEY`` +       a global API key and its account's email, sent as
``CLOUDFLARE_EMAIL``           ``X-Auth-Key``/``X-Auth-Email`` (used when no token is set)
``CLOUDFLARE_ACCOUNT_ID``      the account whose namespaces are used; without it the
                               account comes from ``GET /memberships`` when there is
                               exactly one
=============================  ==========================================================

With no credential at all, only ``edgekv dev``'s API (a base URL ending in
``/cdn-cgi/edgekv/client/v4``) is reached, without credential headers: it is open to
requests from its own machine. Anything else needs a credential, as wrangler does.

As wrangler does on start, the project folder's ``.env`` files are read too (``.env``,
``.env.local``, and with ``--env X`` ``.env.X``, ``.env.X.local``, later files winning);
a variable set in the process environment always wins over the files.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from edgekv.client.errors import RemoteSetupError
from edgekv.config.dotenv import expand_env, parse_dotenv

__all__ = ["DEFAULT_API_BASE_URL", "DEV_API_SUFFIX", "NO_CREDENTIAL", "RemoteSettings",
           "read_environment"]

DEFAULT_API_BASE_URL = "https://api.cloudflare.com/client/v4"
DEV_API_SUFFIX = "/cdn-cgi/edgekv/client/v4"  # where `edgekv dev` answers the API, open locally

NO_CREDENTIAL = (
    "In a non-interactive environment, it's necessary to set a CLOUDFLARE_API_TOKEN environment "
    "variable for wrangler to work. Please go to "
    "https://developers.cloudflare.com/fundamentals/api/get-started/create-token/ for "
    "instructions on how to create an api token, and assign its value to CLOUDFLARE_API_TOKEN."
)


def read_environment(directory: Path | None, env: str | None = None,
                     environ: Mapping[str, str] | None = None) -> dict[str, str]:
    """The process environment plus the ``.env`` files of ``directory`` (the process wins).

    Unreadable files are skipped, as wrangler's loader does."""
    environ = os.environ if environ is None else environ
    if directory is None:
        return dict(environ)
    names = [".env", ".env.local"] + ([f".env.{env}", f".env.{env}.local"] if env else [])
    merged: dict[str, str] = {}
    for name in names:
        path = directory / name
        try:
            merged.update(parse_dotenv(path.read_text(encoding="utf-8")))
        except (OSError, UnicodeDecodeError):
            continue
    return expand_env(merged, environ)


def _first(environ: Mapping[str, str], *names: str) -> str | None:
    for name in names:
        value = environ.get(name)
        if value:
            return value.strip()
    return None


@dataclass(frozen=True)
class RemoteSettings:
    """An API root, a credential, and (maybe) the account to use."""

    base_url: str = DEFAULT_API_BASE_URL
    api_token: str | None = None
    email: str | None = None
    api_key: str | None = None
    account_id: str | None = None

    @classmethod
    def from_environ(cls, environ: Mapping[str, str]) -> RemoteSettings:
        """Read wrangler's variables. Raises ``RemoteSetupError`` without a credential."""
        settings = cls(
            base_url=(_first(environ, "CLOUDFLARE_API_BASE_URL", "CF_API_BASE_URL")
                      or DEFAULT_API_BASE_URL).rstrip("/"),
            api_token=_first(environ, "CLOUDFLARE_API_TOKEN", "CF_API_TOKEN"),
            email=_first(environ, "CLOUDFLARE_EMAIL", "CF_EMAIL"),
            api_key=_first(environ, "CLOUDFLARE_API_KEY", "CF_API_KEY"),
            account_id=_first(environ, "CLOUDFLARE_ACCOUNT_ID", "CF_ACCOUNT_ID"),
        )
        settings.auth_headers()
        return settings

    def auth_headers(self) -> dict[str, str]:
        """The credential headers: the token if set, else the global key and email, else
        none for ``edgekv dev``'s open API. Raises ``RemoteSetupError``."""
        if self.api_token:
            return {"Authorization": f"Bearer {self.api_token}"}
        if self.api_key and self.email:
            return {"X-Auth-Email": self.email, "X-Auth-Key": self.api_key}
        if self.base_url.rstrip("/").endswith(DEV_API_SUFFIX):
            return {}
        raise RemoteSetupError(NO_CREDENTIAL)

"""Which ``KVClient`` a project's KV data is reached through: ``open_client``.

Locally, the project's store (the SQLite file ``edgekv dev`` serves, or any store URL);
remotely, the v4 API that wrangler's variables point at (``CLOUDFLARE_API_BASE_URL``,
``CLOUDFLARE_API_TOKEN``, ...), read from the process environment and the project's
``.env`` files as wrangler reads them (the process wins). Every ``edgekv kv`` command opens
its client here, so a Python user gets the same data the command would touch.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from edgekv.client.kvclient import KVClient
from edgekv.client.local import LocalKV
from edgekv.client.remote import RemoteKV
from edgekv.client.settings import RemoteSettings, read_environment
from edgekv.config import Config

__all__ = ["namespace_title", "open_client"]


def open_client(config: Config, *, remote: bool = False, kv_url: str | None = None,
                environ: Mapping[str, str] | None = None, cwd: Path | None = None) -> KVClient:
    """The client for ``config``'s KV data (use as ``async with``).

    Local (the default): ``kv_url``, else the store of the project's state folder
    (``config.state_paths(cwd=cwd)``). Remote: settings from ``environ`` when given, else from
    the process environment plus the ``.env`` files beside the config (or in ``cwd``), for
    ``config.env``. Raises ``RemoteSetupError`` when a remote run has no credential."""
    if not remote:
        return LocalKV(kv_url or config.state_paths(cwd=cwd).kv_url, config=config)
    if environ is None:
        environ = read_environment(config.config_dir or cwd or Path.cwd(), config.env)
    return RemoteKV(RemoteSettings.from_environ(environ))


def namespace_title(title: str, env: str | None = None, preview: bool = False) -> str:
    """The title wrangler gives a new namespace: ``<env>-<title>`` under an environment,
    ``_preview`` appended for a preview namespace."""
    full = f"{env}-{title}" if env else title
    return full + "_preview" if preview else full

"""Where the CLI's KV data lives: one ``KVClient`` interface, two transports.

Every ``edgekv kv`` command is a call into this package (the CLI adds flags, prompts and
wrangler's output); the table in ``docs/cli.md`` names the function behind each command.

Modules::

    kvclient   KVClient: namespaces, keys, bulk, export (the interface)
    local      LocalKV: the project's local store, in process
    remote     RemoteKV: a server speaking Cloudflare's v4 KV REST API
    settings   RemoteSettings: CLOUDFLARE_API_BASE_URL, _API_TOKEN, _ACCOUNT_ID, .env
    open       open_client: a project's local store or its remote API; namespace_title
    bulk       bulk files checked whole, loaded, exported; keys files read, deleted
    wrangler_state   wrangler's local KV state, read
    wrangler_import  that state imported into a LocalKV
    bulkfile   the bulk-file format, streamed
    jsonout    JSON text as wrangler prints it
    errors     ApiRequestFailed, RemoteSetupError
"""

from edgekv.client.errors import ApiRequestFailed, RemoteSetupError
from edgekv.client.kvclient import KVClient
from edgekv.client.local import LocalKV
from edgekv.client.open import namespace_title, open_client
from edgekv.client.remote import RemoteKV
from edgekv.client.settings import RemoteSettings

__all__ = ["ApiRequestFailed", "KVClient", "LocalKV", "RemoteKV", "RemoteSettings",
           "RemoteSetupError", "namespace_title", "open_client"]

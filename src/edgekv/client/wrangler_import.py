"""``edgekv kv import-wrangler`` as a library call: wrangler's local KV data (read by
``wrangler_state``) copied into a ``LocalKV``."""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from edgekv.client.local import LocalKV
from edgekv.client.wrangler_state import WranglerKVNamespace
from edgekv.config import Config

__all__ = ["binding_titles", "import_namespaces"]


def binding_titles(config: Config) -> dict[str, str]:
    """The binding name of each namespace id the config's ``kv_namespaces`` name (local ids:
    ``preview_id``, ``id`` and the binding name itself, as ``edgekv dev`` reads them)."""
    titles = {kv.local_id(preview=True): kv.binding for kv in config.kv_namespaces}
    titles.update({kv.local_id(preview=False): kv.binding for kv in config.kv_namespaces})
    return titles


async def import_namespaces(local: LocalKV, namespaces: Iterable[WranglerKVNamespace],
                            titles: Mapping[str, str] | None = None) -> list[tuple[str, int]]:
    """``edgekv kv import-wrangler``: copy each namespace's live entries into ``local`` under
    the same id (registered with its title from ``titles``, when it has one), replacing keys of
    the same name; returns (namespace id, keys copied) per namespace, in order.

    Each namespace is one write. Raises ``WranglerStateError`` (namespaces before the one
    that failed are imported) or ``StorageError``."""
    titles = titles or {}
    done: list[tuple[str, int]] = []
    now = int(local.store.clock.now())
    for namespace in namespaces:
        records = list(namespace.records(now))
        await local.store.ensure_namespace(namespace.namespace_id, titles.get(namespace.namespace_id))
        await local.put_records(namespace.namespace_id, records)
        done.append((namespace.namespace_id, len(records)))
    return done

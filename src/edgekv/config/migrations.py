"""Replay ``[[migrations]]`` to learn which Durable Object classes exist and how they store.

Cloudflare applies each migration tag once, in order: ``new_classes`` creates KV-backed
(legacy) classes, ``new_sqlite_classes`` SQLite-backed ones, ``renamed_classes`` moves a
class (and its data) to a new name, ``deleted_classes`` drops it, ``transferred_classes``
adopts a class from another Worker (its storage kind is not known locally; SQLite assumed).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Literal

from edgekv.config.model import Migration

__all__ = ["ClassStorage", "class_storage"]

ClassStorage = Literal["sqlite", "kv"]


def class_storage(migrations: Iterable[Migration]) -> dict[str, ClassStorage]:
    """Map each class alive after all ``migrations`` to ``"sqlite"`` or ``"kv"``.

    Pure function; never raises (a rename or delete of an unknown class is ignored).
    """
    classes: dict[str, ClassStorage] = {}
    for migration in migrations:
        for name in migration.new_classes:
            classes[name] = "kv"
        for name in migration.new_sqlite_classes:
            classes[name] = "sqlite"
        for moved in migration.renamed_classes:
            if moved.from_ in classes:
                classes[moved.to] = classes.pop(moved.from_)
        for transferred in migration.transferred_classes:
            classes[transferred.to] = "sqlite"
        for name in migration.deleted_classes:
            classes.pop(name, None)
    return classes

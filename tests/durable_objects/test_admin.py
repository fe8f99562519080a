"""``ObjectAdmin``: tools reach an object's storage only as one of its events."""

from __future__ import annotations

import asyncio
from typing import Any

from edgekv.durable_objects import DurableObjectState
from edgekv.durable_objects.admin import INDEX_SPACE, ObjectAdmin
from tests.durable_objects.conftest import DurableObject, MakeRuntime


class Slow(DurableObject):
    """``bump`` reads the count, waits for ``gate``, then writes count + 1."""

    gate: asyncio.Event

    async def bump(self) -> int:
        count = await self.ctx.storage.get("count") or 0
        await Slow.gate.wait()
        await self.ctx.storage.put("count", count + 1)
        return int(count + 1)


async def test_run_waits_for_the_event_in_progress(make_runtime: MakeRuntime) -> None:
    rt = await make_runtime()
    ns = rt.namespace("SLOW", Slow, unique_key="w-Slow", sqlite=True)
    admin = ObjectAdmin(rt)
    Slow.gate = asyncio.Event()
    stub = ns.getByName("a")
    bumping = asyncio.create_task(stub.bump())
    await asyncio.sleep(0.01)  # bump holds the object now, between its read and its write

    async def set_100(state: DurableObjectState) -> Any:
        await state.storage.put("count", 100)

    writing = asyncio.create_task(admin.run("SLOW", stub.id, set_100))
    await asyncio.sleep(0.01)
    assert not writing.done()  # queued behind bump: never around the live object
    Slow.gate.set()
    assert await bumping == 1
    await writing

    async def read(state: DurableObjectState) -> Any:
        return await state.storage.get("count")

    assert await admin.run("SLOW", stub.id, read) == 100  # the explorer's write came last
    assert await stub.bump() == 101


async def test_objects_and_names_come_from_the_index(make_runtime: MakeRuntime) -> None:
    rt = await make_runtime()
    kv_ns = rt.namespace("KV", Slow, unique_key="w-KV", sqlite=False)
    sql_ns = rt.namespace("SQL", Slow, unique_key="w-SQL", sqlite=True)
    admin = ObjectAdmin(rt)
    Slow.gate = asyncio.Event()
    Slow.gate.set()
    await kv_ns.getByName("stored").bump()
    unique = kv_ns.newUniqueId()
    await kv_ns.get(unique).bump()

    async def nothing(state: DurableObjectState) -> None:
        return None

    await admin.run("KV", kv_ns.idFromName("empty"), nothing)  # constructed, stores nothing
    listed = await admin.objects("KV")
    assert [(o.id, o.name) for o in listed] == [
        (kv_ns.idFromName("stored").toString(), "stored"), (unique.toString(), None)]
    await sql_ns.getByName("s").bump()
    assert [o.name for o in await admin.objects("SQL")] == ["s"]
    assert [(v.binding, v.sqlite) for v in admin.namespaces()] == [("KV", False), ("SQL", True)]
    # The index is persisted: a name first seen without one keeps the name it was given.
    record = await rt.store.get(INDEX_SPACE, f"w-KV\x00{kv_ns.idFromName('stored').toString()}")
    assert record is not None and record.value == b'{"n": "stored"}'
    found = admin.object_id("KV", hex_id=kv_ns.idFromName("stored").toString())
    await admin.run("KV", found, nothing)
    assert next(o.name for o in await admin.objects("KV")) == "stored"

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


class Blocking(DurableObject):
    """``bump`` holds the input gate (blockConcurrencyWhile) across its read, wait and write."""

    gate: asyncio.Event

    async def bump(self) -> int:
        async def body() -> int:
            count = await self.ctx.storage.get("count") or 0
            await Blocking.gate.wait()
            await self.ctx.storage.put("count", count + 1)
            return int(count + 1)

        return int(await self.ctx.blockConcurrencyWhile(body))


async def test_run_waits_for_the_input_gate(make_runtime: MakeRuntime) -> None:
    rt = await make_runtime()
    ns = rt.namespace("SLOW", Blocking, unique_key="w-Blocking", sqlite=True)
    admin = ObjectAdmin(rt)
    Blocking.gate = asyncio.Event()
    stub = ns.getByName("a")
    bumping = asyncio.create_task(stub.bump())
    await asyncio.sleep(0.01)  # bump holds the input gate now, between its read and its write

    async def set_100(state: DurableObjectState) -> Any:
        await state.storage.put("count", 100)

    writing = asyncio.create_task(admin.run("SLOW", stub.id, set_100))
    await asyncio.sleep(0.01)
    assert not writing.done()  # queued behind the gate: never around the live object
    Blocking.gate.set()
    assert await bumping == 1
    await asyncio.wait_for(writing, 5)

    async def read(state: DurableObjectState) -> Any:
        return await state.storage.get("count")

    assert await admin.run("SLOW", stub.id, read) == 100  # the explorer's write came last
    assert await stub.bump() == 101


async def test_run_is_not_interleaved_by_other_events(make_runtime: MakeRuntime) -> None:
    rt = await make_runtime()
    ns = rt.namespace("SLOW", Slow, unique_key="w-Slow", sqlite=True)
    admin = ObjectAdmin(rt)
    Slow.gate = asyncio.Event()
    Slow.gate.set()
    stub = ns.getByName("a")
    held = asyncio.Event()
    release = asyncio.Event()

    async def hold(state: DurableObjectState) -> Any:
        await state.storage.put("count", 10)
        held.set()
        await release.wait()  # not storage: only the admin's own gate keeps events out
        return await state.storage.get("count")

    admin_call = asyncio.create_task(admin.run("SLOW", stub.id, hold))
    await asyncio.wait_for(held.wait(), 5)
    bumping = asyncio.create_task(stub.bump())
    await asyncio.sleep(0.01)
    assert not bumping.done()
    release.set()
    assert await asyncio.wait_for(admin_call, 5) == 10
    assert await asyncio.wait_for(bumping, 5) == 11


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

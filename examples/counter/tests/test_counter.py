"""Tests for the counter example, in Cloudflare's in-Worker style (run: pytest examples/counter)."""

import asyncio


async def test_each_name_counts_on_its_own(worker):
    assert (await worker.get("/counter/apples")).text == "1"
    assert (await worker.get("/counter/apples")).text == "2"
    assert (await worker.get("/counter/pears")).text == "1"


async def test_concurrent_requests_are_serialised(worker):
    replies = await asyncio.gather(*(worker.get("/counter/busy") for _ in range(25)))
    assert sorted(int(r.text) for r in replies) == list(range(1, 26))


async def test_count_lives_in_durable_storage(env):
    stub = env.COUNTER.getByName("direct")
    await stub.fetch("http://localhost/counter/direct")
    assert env.COUNTER.idFromName("direct").equals(stub.id)


async def test_durable_object_reads_kv(env, worker):
    await env.NAMESPACE.put("someKey", "from KV")
    response = await worker.get("/kv-object")
    assert (response.status_code, response.text) == (200, "from KV")


async def test_unknown_path(worker):
    assert (await worker.get("/nope")).status_code == 404

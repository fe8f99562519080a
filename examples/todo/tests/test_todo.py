"""Tests for the todo example, in Cloudflare's in-Worker style (run: pytest examples/todo)."""


async def test_returns_the_stored_value(env, worker):
    await env.TODO.put("to-do:123", "Buy milk")
    response = await worker.get("/")
    assert (response.status_code, response.text) == (200, "Buy milk")


async def test_each_test_starts_empty(worker):
    assert (await worker.get("/")).text == ""


async def test_expired_value_is_gone(env, worker, clock):
    await env.TODO.put("to-do:123", "soon gone", expirationTtl=60)
    clock.advance(60)
    assert (await worker.get("/")).text == ""

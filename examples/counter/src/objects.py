from workers import DurableObject, Response


class Counter(DurableObject):
    """One counter per name; its count lives in the object's own storage."""

    async def fetch(self, request):
        count = (await self.ctx.storage.get("count") or 0) + 1
        await self.ctx.storage.put("count", count)
        return Response(str(count))


class KVReader(DurableObject):
    """A Durable Object reading the Worker's KV namespace (Cloudflare's "use KV from a DO")."""

    async def fetch(self, request):
        return Response(await self.env.NAMESPACE.get("someKey"))

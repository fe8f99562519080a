from urllib.parse import urlsplit

from objects import Counter, KVReader
from workers import Response, WorkerEntrypoint

__all__ = ["Counter", "Default", "KVReader"]


class Default(WorkerEntrypoint):
    async def fetch(self, request):
        path = urlsplit(request.url).path
        if path.startswith("/counter/") and len(path) > len("/counter/"):
            name = path.removeprefix("/counter/")
            return await self.env.COUNTER.getByName(name).fetch(request)
        if path == "/kv-object":
            return await self.env.KV_READER.getByName("reader").fetch(request)
        return Response("Not found: try /counter/NAME or /kv-object", status=404)

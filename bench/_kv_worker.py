"""The Worker the request benchmarks serve (``bench/http.py``, ``bench/request_path.py``).

``GET /get?key=K`` answers ``env.KV.get(K)`` (404 when missing), ``GET /ping`` answers ``ok``
without KV: the routes of the peer kit's JavaScript Worker, written the way a Python Worker
author writes them (``urlsplit(request.url)``, ``parse_qs``), in namespace ``NAMESPACE_ID``.
"""

NAMESPACE_ID = "be7c4e1a0d2b4f3a9c8d7e6f5a4b3c2d"

WRANGLER = f"""\
name = "bench-http"
main = "src/entry.py"
compatibility_date = "2026-11-01"
compatibility_flags = ["python_workers"]
kv_namespaces = [{{ binding = "KV", id = "{NAMESPACE_ID}" }}]
"""

ENTRY = '''\
from urllib.parse import parse_qs, urlsplit

from workers import Response, WorkerEntrypoint


class Default(WorkerEntrypoint):
    """The peer's /get and /ping routes (worker.mjs), in Python."""

    async def fetch(self, request):
        url = urlsplit(request.url)
        if url.path == "/ping":
            return Response("ok")
        if url.path == "/get" and request.method == "GET":
            key = parse_qs(url.query).get("key", [""])[0]
            value = await self.env.KV.get(key)
            if value is None:
                return Response("", status=404)
            return Response(value)
        return Response("not found", status=404)
'''

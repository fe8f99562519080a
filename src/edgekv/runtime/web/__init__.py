"""The Web platform types a Worker uses, on CPython: one concept per module.

    headers        Headers: case-insensitive multi-map (HTTPMessage + JavaScript APIs)
    blob, formdata Blob/File, FormData and the multipart/urlencoded wire formats
    body           the read-once body shared by Request and Response
    request        Request (with Request.from_asgi for the server side)
    response       Response (json/redirect constructors)
    fetch          outbound fetch over httpx, through the serving runtime's pool
    websocket      WebSocket and WebSocketPair
    htmlrewriter   HTMLRewriter (js.HTMLRewriter)
    resources      WorkerResources: the pool, ASGI lifespans and tasks one runtime owns

This package sits below the Worker lifecycle (``edgekv.runtime``: loader, entrypoints, env,
ctx, events): nothing here imports the lifecycle, the shims, or a Worker. Importing it does
not import httpx.
"""

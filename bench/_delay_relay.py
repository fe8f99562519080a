"""A TCP relay that adds a fixed one-way delay in each direction (bench/cluster.py --netem).

    python bench/_delay_relay.py --target 127.0.0.1:5432 --delay-ms 50 \\
        --listen 10.78.0.1:6432 --listen 10.78.1.1:6432

Every connection accepted on a ``--listen`` address is relayed to ``--target``. Each chunk
read on one side is written to the other ``--delay-ms`` after it was read, in order: a pure
latency line (bandwidth is not limited), so 50 ms each way adds 100 ms to every round trip,
as ``tc qdisc add dev X root netem delay 50ms`` on both ends of a link would. It stands in
for netem on kernels built without ``sch_netem``. Prints ``ready`` once listening; runs until
killed (SIGTERM/SIGINT).
"""

from __future__ import annotations

import argparse
import asyncio
import signal
import time


async def pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, delay: float) -> None:
    """Copy ``reader`` to ``writer``, each chunk ``delay`` seconds after it arrived."""
    queue: asyncio.Queue[tuple[float, bytes]] = asyncio.Queue()

    async def read() -> None:
        while True:
            chunk = await reader.read(65536)
            await queue.put((time.monotonic() + delay, chunk))
            if not chunk:
                return

    async def write() -> None:
        while True:
            due, chunk = await queue.get()
            wait = due - time.monotonic()
            if wait > 0:
                await asyncio.sleep(wait)
            if not chunk:
                if writer.can_write_eof():
                    writer.write_eof()
                return
            writer.write(chunk)
            await writer.drain()

    reading = asyncio.ensure_future(read())
    try:
        await write()
    except (ConnectionError, OSError):
        pass
    finally:
        reading.cancel()


async def serve(listen: list[str], target: str, delay: float) -> None:
    target_host, target_port = target.rsplit(":", 1)

    async def relay(client_reader: asyncio.StreamReader, client_writer: asyncio.StreamWriter) -> None:
        try:
            upstream_reader, upstream_writer = await asyncio.open_connection(target_host, int(target_port))
        except OSError:
            client_writer.close()
            return
        try:
            await asyncio.gather(pipe(client_reader, upstream_writer, delay),
                                 pipe(upstream_reader, client_writer, delay),
                                 return_exceptions=True)
        finally:
            for w in (client_writer, upstream_writer):
                w.close()

    servers = []
    for address in listen:
        host, port = address.rsplit(":", 1)
        servers.append(await asyncio.start_server(relay, host, int(port)))
    print("ready", flush=True)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    await stop.wait()
    for server in servers:
        server.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--listen", action="append", required=True, metavar="HOST:PORT")
    parser.add_argument("--target", required=True, metavar="HOST:PORT")
    parser.add_argument("--delay-ms", type=float, default=50.0, help="one-way delay")
    args = parser.parse_args()
    asyncio.run(serve(args.listen, args.target, args.delay_ms / 1000))


if __name__ == "__main__":
    main()

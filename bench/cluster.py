"""PostgreSQL + three ``edgekv serve`` locations on this machine (docs/cluster.md).

    .venv/bin/python bench/cluster.py [--writes 1000] [--million] [--netem]

Starts a throwaway PostgreSQL (tests/pg.py) and the cluster of tests/cluster/harness.py
(three real ``edgekv serve --store postgresql://... --location NAME`` processes serving one
small Worker), then reports:

1. propagation delay: ``--writes`` writes, round-robin over the locations, each to a key
   every location already caches; from the write's acknowledgment to the first read at each
   other location that returns the new value (p50/p99; target p99 < 250 ms here,
   Cloudflare's contract is 60 s);
2. cached-read requests/s at each location against a single-node SQLite ``edgekv dev`` of
   the same Worker measured in the same run (target >= 0.8x), with bench/_loadgen.py;
3. under a Zipf(s=1.0) read load spread over the locations, store reads per second and the
   hit ratio, for 10,000 and 100,000 keys (and 1,000,000 with ``--million``).

``--netem`` (root only; not run in CI) measures the cluster over a slow network instead:

- each location runs in its own network namespace (``ip netns add ekv-locN``) with two veth
  pairs to the host: ``ekvNh``/``ekvNl`` (10.77.N.0/30) carries the benchmark's HTTP, and
  ``ekvNp``/``ekvNq`` (10.78.N.0/30) carries the location's PostgreSQL connections, through
  a relay on the host (bench/_delay_relay.py; PostgreSQL itself listens on loopback only);
- 100 ms is added to every round trip between a location and PostgreSQL: ``tc qdisc add dev
  ekvNp root netem delay 50ms`` on both ends of the PostgreSQL link when the kernel has
  ``sch_netem``, else (``--delay relay``, or ``auto`` on a kernel built without netem) the
  relay delays each direction by 50 ms. The measured ``SELECT 1`` round trip from inside a
  namespace is printed;
- propagation (as in 1, ``--writes`` default 200 here) with p50/p99 (target p99 < 1 s);
- a partition: ``ekv2p`` (loc2's PostgreSQL link) is set down for ``--partition-seconds``
  (70 s: past the 60 s ``cacheTtl`` of the key it caches). Reported: loc2's reads of a cached
  key during the partition (all served? which ``cacheStatus``: ``HIT`` within the TTL, then
  ``STALE``), how long writes at loc2 take to fail (the first waits for the store timeout
  and opens the breaker; later ones fail at once), a write at loc0 meanwhile, and after the
  link is up again how long loc2 takes to serve that write and to accept writes again.

Namespaces, veths and qdiscs are removed at the end (and any left over by an interrupted run
at the start). Needs ``ip`` and ``tc`` from Debian's iproute2 (installed with ``apt-get``
when missing).
"""

from __future__ import annotations

import argparse
import asyncio
import bisect
import json
import os
import random
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# bench/http.py would shadow the stdlib ``http`` package; the repository root gives ``tests``.
sys.path[:] = [str(ROOT)] + [p for p in sys.path if Path(p or ".").resolve() != ROOT / "bench"]

import httpx
from tests.cluster.harness import NAMESPACE_ID, Cluster, Location
from tests.pg import PostgresCluster, find_bindir


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


async def propagation(cluster: Cluster, writes: int) -> list[float]:
    """Seconds from each write's acknowledgment to visibility at each other location."""
    locations = [loc.url for loc in cluster.locations]
    keys = [f"prop/{i}" for i in range(20)]
    delays: list[float] = []
    async with httpx.AsyncClient(timeout=10) as client:
        for key in keys:
            await client.put(f"{locations[0]}/kv/{key}", content="seed")
            for url in locations:
                await client.get(f"{url}/kv/{key}")  # every location caches it

        async def until_seen(url: str, key: str, value: str, acked: float) -> float:
            deadline = acked + 60
            while time.perf_counter() < deadline:
                reply = await client.get(f"{url}/kv/{key}")
                if reply.text == value:
                    return time.perf_counter() - acked
            raise RuntimeError(f"{key}={value} not visible at {url} within 60 s")

        for i in range(writes):
            writer = locations[i % len(locations)]
            key, value = keys[i % len(keys)], f"v{i}"
            reply = await client.put(f"{writer}/kv/{key}", content=value)
            acked = time.perf_counter()
            assert reply.status_code == 200, reply.text
            others = [url for url in locations if url != writer]
            delays += await asyncio.gather(*(until_seen(url, key, value, acked) for url in others))
    return delays


def loadgen(url: str, path: str, keys: int, n: int, concurrency: int = 8) -> dict[str, float]:
    port = int(url.rsplit(":", 1)[1])
    out = subprocess.run([sys.executable, str(ROOT / "bench" / "_loadgen.py"), "--port", str(port),
                          "--path", path, "--keys", str(keys), "--n", str(n), "--concurrency",
                          str(concurrency), "--warmup", "500", "--expect", "200"],
                         capture_output=True, text=True, timeout=600, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])  # type: ignore[no-any-return]


async def fill(urls: list[str], prefix: str, keys: int) -> None:
    async with httpx.AsyncClient(timeout=30) as client:
        for start in range(0, keys, 50):
            replies = await asyncio.gather(*(client.put(f"{urls[0]}/kv/{prefix}{i}", content=f"value-{i}")
                                             for i in range(start, min(keys, start + 50))))
            assert all(r.status_code == 200 for r in replies)


async def fill_store(store_url: str, prefix: str, keys: int) -> None:
    """Write ``keys`` records straight into the central store (fast bulk load)."""
    from edgekv.storage import Record, open_store

    store = open_store(store_url)
    try:
        for start in range(0, keys, 5000):
            batch = [Record(f"{prefix}{i}", f"value-{i}".encode(), None, None)
                     for i in range(start, min(keys, start + 5000))]
            await store.write_batch(NAMESPACE_ID, batch)
    finally:
        await store.close()


def metric(text: str, name: str) -> float:
    match = re.search(rf"^{name}\{{[^}}]*\}} (\S+)$", text, re.MULTILINE)
    return float(match.group(1)) if match else 0.0


async def zipf_load(cluster: Cluster, keys: int, reads: int, concurrency: int = 9) -> dict[str, float]:
    """Zipf(s=1) reads of ``keys`` keys over the locations; store reads/s and hit ratio."""
    prefix = f"zipf{keys}/"
    await fill_store(cluster.store_url, prefix, keys)
    cumulative: list[float] = []
    total = 0.0
    for rank in range(1, keys + 1):
        total += 1.0 / rank
        cumulative.append(total)
    rng = random.Random(keys)
    order = list(range(keys))
    rng.shuffle(order)  # popular keys spread over the key space
    picks = [order[bisect.bisect_left(cumulative, rng.random() * total)] for _ in range(reads)]
    urls = [loc.url for loc in cluster.locations]
    async with httpx.AsyncClient(timeout=30) as client:
        before = [(await client.get(f"{u}/cdn-cgi/edgekv/metrics")).text for u in urls]
    queue = iter(enumerate(picks))
    errors = 0

    async def worker(url: str) -> None:
        # One keep-alive connection, one request in flight: a raw HTTP/1.1 client spends far
        # less CPU per request than httpx, and the CPU is shared with the locations.
        nonlocal errors
        host, port = url.removeprefix("http://").rsplit(":", 1)
        reader, writer = await asyncio.open_connection(host, int(port))
        try:
            for i, key in queue:
                writer.write(f"GET /kv/{prefix}{key} HTTP/1.1\r\nhost: {host}\r\n\r\n".encode())
                head = await reader.readuntil(b"\r\n\r\n")
                status = int(head.split(b" ", 2)[1])
                length = int(re.search(rb"(?i)content-length:\s*(\d+)", head).group(1))  # type: ignore[union-attr]
                await reader.readexactly(length)
                errors += status != 200
        finally:
            writer.close()

    started = time.perf_counter()
    await asyncio.gather(*(worker(urls[n % len(urls)]) for n in range(concurrency)))
    wall = time.perf_counter() - started
    async with httpx.AsyncClient(timeout=30) as client:
        after = [(await client.get(f"{u}/cdn-cgi/edgekv/metrics")).text for u in urls]

    def delta(name: str) -> float:
        return sum(metric(a, name) - metric(b, name) for a, b in zip(after, before))

    hits = delta("edgekv_edge_hits_total") + delta("edgekv_edge_stale_serves_total")
    misses = delta("edgekv_edge_misses_total")
    store_keys = delta("edgekv_edge_store_keys_read_total")
    return {"keys": keys, "reads": reads, "wall_s": wall, "reads_per_s": reads / wall,
            "store_reads_per_s": store_keys / wall, "store_reads": store_keys,
            "hit_ratio": hits / (hits + misses) if hits + misses else 0.0, "errors": errors}


# -- --netem: network namespaces, delay and a partition ------------------------------------

NETNS_LOCATIONS = 3
RELAY_PORT = 6432
HTTP_PORT = 8787


def sh(*command: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    return subprocess.run(command, capture_output=True, text=True, timeout=30, check=check)


def in_ns(index: int, *command: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    return sh("ip", "netns", "exec", f"ekv-loc{index}", *command, check=check)


def netns_teardown() -> None:
    for index in range(NETNS_LOCATIONS):
        for link in (f"ekv{index}h", f"ekv{index}p"):  # deleting one end deletes the pair
            sh("ip", "link", "del", link, check=False)
        sh("ip", "netns", "del", f"ekv-loc{index}", check=False)


def netem_available() -> bool:
    """Whether the kernel has sch_netem (tried on a throwaway veth pair)."""
    sh("ip", "link", "add", "ekvprobe0", "type", "veth", "peer", "name", "ekvprobe1")
    try:
        return sh("tc", "qdisc", "add", "dev", "ekvprobe0", "root", "netem", "delay", "1ms",
                  check=False).returncode == 0
    finally:
        sh("ip", "link", "del", "ekvprobe0", check=False)


def netns_setup(netem: bool) -> None:
    """The namespaces and links of the module docstring; netem on the PostgreSQL links."""
    netns_teardown()
    for index in range(NETNS_LOCATIONS):
        ns = f"ekv-loc{index}"
        sh("ip", "netns", "add", ns)
        in_ns(index, "ip", "link", "set", "lo", "up")
        for host, inner, net in ((f"ekv{index}h", f"ekv{index}l", 77), (f"ekv{index}p", f"ekv{index}q", 78)):
            sh("ip", "link", "add", host, "type", "veth", "peer", "name", inner)
            sh("ip", "link", "set", inner, "netns", ns)
            sh("ip", "addr", "add", f"10.{net}.{index}.1/30", "dev", host)
            sh("ip", "link", "set", host, "up")
            in_ns(index, "ip", "addr", "add", f"10.{net}.{index}.2/30", "dev", inner)
            in_ns(index, "ip", "link", "set", inner, "up")
        if netem:
            sh("tc", "qdisc", "add", "dev", f"ekv{index}p", "root", "netem", "delay", "50ms")
            in_ns(index, "tc", "qdisc", "add", "dev", f"ekv{index}q", "root", "netem", "delay", "50ms")


def measured_rtt_ms(index: int, store_dsn: str) -> float:
    """Median ``SELECT 1`` round trip from inside namespace ``index`` to PostgreSQL."""
    code = (
        "import asyncio, statistics, time, asyncpg\n"
        "async def main():\n"
        f"    conn = await asyncpg.connect({store_dsn!r})\n"
        "    times = []\n"
        "    for _ in range(20):\n"
        "        t = time.perf_counter(); await conn.fetchval('SELECT 1'); times.append(time.perf_counter() - t)\n"
        "    await conn.close()\n"
        "    print(statistics.median(times) * 1000)\n"
        "asyncio.run(main())\n"
    )
    return float(in_ns(index, sys.executable, "-c", code).stdout.strip())


async def partition(cluster: Cluster, seconds: float) -> dict[str, object]:
    """Cut loc2's PostgreSQL link for ``seconds``; what loc2 and loc0 do meanwhile and after."""
    a, _, c = cluster.locations
    key = "partition/key"
    found: dict[str, object] = {}
    async with httpx.AsyncClient(timeout=30) as client:
        assert (await client.put(f"{a.url}/kv/{key}", content="before")).status_code == 200
        deadline = time.monotonic() + 30
        while (await client.get(f"{c.url}/kv/{key}", params={"cacheTtl": 60})).text != "before":
            if time.monotonic() > deadline:
                raise RuntimeError("loc2 never saw the seed value")
            await asyncio.sleep(0.05)
        sh("ip", "link", "set", "ekv2p", "down")
        cut = time.monotonic()
        statuses: dict[str, int] = {}
        served_old = 0
        reads = 0
        read_ms: list[float] = []
        write_attempts: list[tuple[int, float]] = []

        async def reader() -> None:
            nonlocal served_old, reads
            while time.monotonic() - cut < seconds:
                started = time.perf_counter()
                reply = await client.get(f"{c.url}/kv/{key}", params={"cacheTtl": 60})
                read_ms.append((time.perf_counter() - started) * 1000)
                reads += 1
                served_old += reply.status_code == 200 and reply.text == "before"
                status = reply.headers.get("x-cache-status", "") or str(reply.status_code)
                statuses[status] = statuses.get(status, 0) + 1
                await asyncio.sleep(0.1)

        async def writer() -> None:
            for n in range(5):
                started = time.perf_counter()
                reply = await client.put(f"{c.url}/kv/partition/at-loc2", content=f"w{n}")
                write_attempts.append((reply.status_code, time.perf_counter() - started))
                await asyncio.sleep(1.0)

        async def elsewhere() -> None:
            await asyncio.sleep(1.0)
            reply = await client.put(f"{a.url}/kv/{key}", content="during")
            found["loc0_write_during"] = reply.status_code

        await asyncio.gather(reader(), writer(), elsewhere())
        sh("ip", "link", "set", "ekv2p", "up")
        healed = time.monotonic()
        caught_up = None
        writes_back = None
        while time.monotonic() - healed < 120 and (caught_up is None or writes_back is None):
            if caught_up is None and (await client.get(f"{c.url}/kv/{key}")).text == "during":
                caught_up = time.monotonic() - healed
            if writes_back is None and (await client.put(f"{c.url}/kv/partition/at-loc2",
                                                         content="after")).status_code == 200:
                writes_back = time.monotonic() - healed
            await asyncio.sleep(0.1)
    found.update(reads=reads, served_old=served_old, statuses=statuses,
                 read_p99_ms=percentile(read_ms, 99), writes=write_attempts,
                 caught_up_s=caught_up, writes_back_s=writes_back)
    return found


def run_netem(args: argparse.Namespace, pg: PostgresCluster, root: Path) -> None:
    if os.geteuid() != 0:
        sys.exit("--netem needs root (network namespaces and tc)")
    if not (shutil.which("ip") and shutil.which("tc")) and shutil.which("apt-get"):
        print("installing iproute2 (ip, tc) with apt-get", flush=True)
        subprocess.run(["apt-get", "install", "-y", "-q", "iproute2"], check=False, timeout=600,
                       env={**os.environ, "DEBIAN_FRONTEND": "noninteractive"})
    missing = [tool for tool in ("ip", "tc") if not shutil.which(tool)]
    if missing:
        sys.exit(f"--netem needs {' and '.join(missing)}: apt-get install iproute2")
    netem = args.delay != "relay" and netem_available()
    if args.delay == "netem" and not netem:
        sys.exit("--delay netem: this kernel has no sch_netem (tc: Specified qdisc kind is unknown); "
                 "use --delay relay or auto")
    method = "tc netem delay 50ms on both ends of each PostgreSQL link" if netem else \
        "bench/_delay_relay.py, 50 ms each way (this kernel has no sch_netem)" if args.delay == "auto" \
        else "bench/_delay_relay.py, 50 ms each way"
    relay = None
    try:
        netns_setup(netem)
        relay = subprocess.Popen(
            [sys.executable, str(ROOT / "bench" / "_delay_relay.py"), "--target", f"127.0.0.1:{pg.port}",
             "--delay-ms", "0" if netem else "50",
             *[a for i in range(NETNS_LOCATIONS) for a in ("--listen", f"10.78.{i}.1:{RELAY_PORT}")]],
            stdout=subprocess.PIPE, text=True)
        assert relay.stdout is not None and relay.stdout.readline().strip() == "ready"
        schema = pg.new_schema()
        cluster = Cluster(pg.url(schema), root / "cluster")
        cluster.locations = []
        for index in range(NETNS_LOCATIONS):
            store = f"postgresql://postgres@10.78.{index}.1:{RELAY_PORT}/postgres?schema={schema}"
            location_args = ["serve", str(cluster.project), "--ip", f"10.77.{index}.2", "--port", str(HTTP_PORT),
                             "--store", store, "--location", f"loc{index}", "--persist-to", str(root / f"loc{index}"),
                             "--public-url", f"http://10.77.{index}.2:{HTTP_PORT}"]
            if index == 0:
                location_args.append("--primary")
            cluster.locations.append(Location(f"loc{index}", location_args,
                                              prefix=["ip", "netns", "exec", f"ekv-loc{index}"]))
        rtt = measured_rtt_ms(1, f"postgresql://postgres@10.78.1.1:{RELAY_PORT}/postgres")
        print(f"PostgreSQL at {pg.dsn()}, 3 locations in network namespaces, {os.cpu_count()} CPU cores")
        print(f"delay: {method}; measured SELECT 1 round trip from loc1's namespace: {rtt:.1f} ms")
        with cluster:
            delays = asyncio.run(propagation(cluster, args.writes))
            ms = [d * 1000 for d in delays]
            print(f"\n1. propagation over the slow links, {args.writes} writes -> {len(ms)} pairs:")
            print(f"   p50 {percentile(ms, 50):.1f} ms   p99 {percentile(ms, 99):.1f} ms   "
                  f"max {max(ms):.1f} ms   (target p99 < 1 s)")
            print(f"\n2. partition: loc2's PostgreSQL link down for {args.partition_seconds:.0f} s")
            r = asyncio.run(partition(cluster, args.partition_seconds))
            print(f"   loc2 reads of a key it cached (cacheTtl 60): {r['served_old']}/{r['reads']} served "
                  f"the cached value, cacheStatus {r['statuses']}, p99 {r['read_p99_ms']:.1f} ms")
            writes = ", ".join(f"{status} in {sec:.2f} s" for status, sec in r["writes"])  # type: ignore[attr-defined]
            print(f"   loc2 writes during the partition: {writes}")
            print(f"   loc0 write of the same key during the partition: {r['loc0_write_during']}")
            caught = r["caught_up_s"]
            back = r["writes_back_s"]
            print(f"   after healing: loc2 serves loc0's write after "
                  f"{'never (120 s)' if caught is None else f'{caught:.2f} s'}, accepts writes after "
                  f"{'never (120 s)' if back is None else f'{back:.2f} s'}")
    finally:
        if relay is not None:
            relay.terminate()
            relay.wait(timeout=10)
        netns_teardown()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--writes", type=int, default=1000)
    parser.add_argument("--reads", type=int, default=20_000, help="requests per cached-read and Zipf run")
    parser.add_argument("--million", action="store_true", help="also run the Zipf load over 1,000,000 keys")
    parser.add_argument("--netem", action="store_true",
                        help="locations in network namespaces, 100 ms to PostgreSQL, a partition (root)")
    parser.add_argument("--delay", choices=("auto", "netem", "relay"), default="auto",
                        help="with --netem: how the 100 ms is added (auto: netem if the kernel has it)")
    parser.add_argument("--partition-seconds", type=float, default=70.0)
    args = parser.parse_args()
    if args.netem and "--writes" not in sys.argv:
        args.writes = 200
    bindir = find_bindir()
    if bindir is None:
        sys.exit("PostgreSQL is not installed (initdb/pg_ctl not found)")
    pg = PostgresCluster(bindir)
    pg.start()
    root = Path(tempfile.mkdtemp(prefix="edgekv-bench-cluster-"))
    if args.netem:
        try:
            run_netem(args, pg, root)
        finally:
            pg.stop()
        return
    try:
        store_url = pg.url(pg.new_schema())
        print(f"PostgreSQL at {pg.dsn()}, 3 locations, {os.cpu_count()} CPU cores")
        with Cluster(store_url, root / "cluster") as cluster:
            delays = asyncio.run(propagation(cluster, args.writes))
            ms = [d * 1000 for d in delays]
            print(f"\n1. propagation, {args.writes} writes -> {len(ms)} (write, other location) pairs:")
            print(f"   p50 {percentile(ms, 50):.1f} ms   p99 {percentile(ms, 99):.1f} ms   "
                  f"max {max(ms):.1f} ms   (target p99 < 250 ms; Cloudflare: 60 s)")

            print("\n2. cached reads/s (1,000 keys, 8 connections, through the Worker):")
            urls = [loc.url for loc in cluster.locations]
            asyncio.run(fill(urls, "hot/", 1000))
            dev = Location("dev", ["dev", str(cluster.project), "--port", "0", "--no-watch",
                                   "--persist-to", str(root / "dev")])
            dev.start()
            try:
                asyncio.run(fill([dev.url], "hot/", 1000))
                baseline = loadgen(dev.url, "/kv/hot/{}", 1000, args.reads)
            finally:
                dev.stop()
            print(f"   edgekv dev (SQLite, one node): {baseline['rps']:8.0f} req/s  p50 {baseline['p50_ms']:.2f} ms")
            for loc in cluster.locations:
                run = loadgen(loc.url, "/kv/hot/{}", 1000, args.reads)
                print(f"   location {loc.name}:                {run['rps']:8.0f} req/s  p50 {run['p50_ms']:.2f} ms"
                      f"   {run['rps'] / baseline['rps']:.2f}x (target >= 0.8x)")

            print("\n3. Zipf(s=1) reads spread over the 3 locations (default cacheTtl 60 s):")
            sizes = [10_000, 100_000] + ([1_000_000] if args.million else [])
            for keys in sizes:
                r = asyncio.run(zipf_load(cluster, keys, args.reads))
                print(f"   {keys:>9,} keys: {r['reads_per_s']:7.0f} reads/s, store reads "
                      f"{r['store_reads_per_s']:7.1f}/s ({r['store_reads']:.0f} in {r['wall_s']:.1f} s), "
                      f"hit ratio {r['hit_ratio']:.3f}, errors {r['errors']}")
    finally:
        pg.stop()


if __name__ == "__main__":
    main()

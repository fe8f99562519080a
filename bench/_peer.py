"""Shared pieces of the HTTP benchmarks (``bench/http.py``, ``bench/durable_objects_http.py``).

- :class:`Peer`: the reference peer (Miniflare + workerd, ``docs/peer.md``). Reuses one
  already answering ``/ping``; otherwise uses the copy installed in ``PEER_HOME`` (default
  ``~/.cache/edgekv-peer``, where ``scripts/test.sh`` installs it), installing it there first
  with the peer kit's ``setup.sh`` when ``EDGEKV_PEER_SRC`` names the kit, and starts it on a
  free port. Stops only what it started. :func:`install_peer` is that installation step.
- :class:`EdgekvDev`: a real ``edgekv dev`` subprocess on ``--port 0`` (the port is read
  from its ``Ready on`` line), ``--persist-to`` a temporary folder, stdout to a log file.
  ``quiet_access_log=True`` starts the same CLI with the ``edgekv.dev`` logger at WARNING
  (``edgekv dev`` has no flag for that), which turns the per-request access line off.
- :func:`load`: runs ``bench/_loadgen.py`` as a separate process and returns its JSON.
- :func:`rss_tree`: resident memory of a process and its children (psutil).

Everything binds and connects to 127.0.0.1 only.
"""

from __future__ import annotations

import http.client
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from array import array
from pathlib import Path
from typing import Any, Self

__all__ = [
    "BENCH",
    "PEER_HOME",
    "PEER_MISSING",
    "ROOT",
    "BareFloor",
    "EdgekvDev",
    "Peer",
    "cpu_seconds",
    "edgekv_cli",
    "fmt_row",
    "install_peer",
    "load",
    "merge",
    "rss_tree",
]

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
HOST = "127.0.0.1"
PEER_HOME = Path(os.environ.get("PEER_HOME") or Path.home() / ".cache" / "edgekv-peer")
PEER_MISSING = (
    "the Miniflare peer is not installed in {home} and EDGEKV_PEER_SRC does not name the peer "
    "kit (the folder holding its setup.sh); set EDGEKV_PEER_SRC, or PEER_HOME to an installed "
    "copy (docs/peer.md says what the peer is and how to get it)"
)


def install_peer(home: Path = PEER_HOME) -> Path:
    """``home`` with the peer installed (``node_modules/miniflare`` and ``start.sh``),
    running the kit's ``setup.sh`` from ``EDGEKV_PEER_SRC`` when it is not there yet.
    Raises ``RuntimeError`` with :data:`PEER_MISSING` when neither is available."""
    if (home / "node_modules" / "miniflare").is_dir() and (home / "start.sh").is_file():
        return home
    kit = os.environ.get("EDGEKV_PEER_SRC")
    if not kit or not (Path(kit) / "setup.sh").is_file():
        raise RuntimeError(PEER_MISSING.format(home=home))
    if shutil.which("node") is None or shutil.which("npm") is None:
        raise RuntimeError("node/npm not found; cannot install the peer")
    setup = Path(kit) / "setup.sh"
    done = subprocess.run(["bash", str(setup), str(home)], capture_output=True, text=True,
                          timeout=600, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"{setup} failed: {done.stderr.strip()[-1000:]}")
    return home


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        return int(sock.getsockname()[1])


def _ping(port: int, path: str = "/ping", timeout: float = 2.0) -> bool:
    try:
        conn = http.client.HTTPConnection(HOST, port, timeout=timeout)
        conn.request("GET", path)
        ok = conn.getresponse().status == 200
        conn.close()
        return ok
    except OSError:
        return False


def rss_tree(pid: int) -> int:
    """RSS in bytes of ``pid`` plus all its descendants (0 if psutil is missing)."""
    try:
        import psutil
    except ImportError:
        return 0
    try:
        proc = psutil.Process(pid)
        procs = [proc, *proc.children(recursive=True)]
    except psutil.Error:
        return 0
    total = 0
    for p in procs:
        try:
            total += p.memory_info().rss
        except psutil.Error:
            pass
    return total


def load(port: int, path: str, *, n: int, concurrency: int, keys: int = 1,
         warmup: int = 500, expect: tuple[int, ...] = (200,), method: str = "GET",
         headers: tuple[str, ...] = (), body_size: int = 0) -> dict[str, Any]:
    """Run the load generator in its own process; its JSON result (raises on failure).
    ``method``, ``headers`` ("Name: value") and ``body_size`` shape every request.

    The result also holds ``lat``: the sorted latencies in ns (for :func:`merge`).
    """
    with tempfile.NamedTemporaryFile(prefix="edgekv-lat-", suffix=".bin") as dump:
        cmd = [sys.executable, str(BENCH / "_loadgen.py"), "--host", HOST, "--port", str(port),
               "--path", path, "--keys", str(keys), "--n", str(n), "--concurrency",
               str(concurrency), "--warmup", str(warmup), "--expect", *map(str, expect),
               "--dump", dump.name, "--method", method, "--body-size", str(body_size)]
        for header in headers:
            cmd += ["--header", header]
        done = subprocess.run(cmd, capture_output=True, text=True, timeout=900,
                              check=False)
        if done.returncode != 0:
            raise RuntimeError(f"load generator failed: {done.stderr.strip()[-2000:]}")
        result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
        lat = array("q")
        lat.frombytes(Path(dump.name).read_bytes())
    if result["errors"]:
        raise RuntimeError(f"unexpected statuses for {path}: {result['statuses']}")
    result["lat"] = lat
    return result


def _pct(sorted_ns: Any, p: float) -> float:
    k = min(len(sorted_ns) - 1, max(0, round(p / 100.0 * len(sorted_ns) + 0.5) - 1))
    return float(sorted_ns[k]) / 1e6


def merge(runs: list[dict[str, Any]]) -> dict[str, Any]:
    """One result from several :func:`load` runs: total n / total wall time, percentiles over
    every latency, and ``rps_min``/``rps_max`` of the single runs (how noisy they were)."""
    lat = sorted(x for r in runs for x in r["lat"])
    wall = sum(r["wall_s"] for r in runs)
    return {
        "n": len(lat),
        "rounds": len(runs),
        "wall_s": round(wall, 3),
        "rps": round(len(lat) / wall, 1),
        "rps_min": min(r["rps"] for r in runs),
        "rps_max": max(r["rps"] for r in runs),
        "p50_ms": round(_pct(lat, 50), 3),
        "p90_ms": round(_pct(lat, 90), 3),
        "p99_ms": round(_pct(lat, 99), 3),
        "max_ms": round(lat[-1] / 1e6, 3),
    }


def fmt_row(label: str, r: dict[str, Any] | None, extra: str = "") -> str:
    if r is None:
        return f"{label:<46} {'-':>9} {'-':>15} {'-':>8} {'-':>8} {'-':>8}  {extra}"
    spread = f"{r['rps_min']:,.0f}-{r['rps_max']:,.0f}" if "rps_min" in r else ""
    return (f"{label:<46} {r['rps']:>9,.0f} {spread:>15} {r['p50_ms']:>8.3f} "
            f"{r['p90_ms']:>8.3f} {r['p99_ms']:>8.3f}  {extra}")


class Peer:
    """The Miniflare peer (see module docstring). ``port`` is None when it is unavailable."""

    def __init__(self, home: str | None = None, port: int = 8799, *,
                 enabled: bool = True) -> None:
        self.enabled = enabled
        self.home = Path(home) if home else PEER_HOME
        self.port: int | None = None
        self.why_not = ""
        self._default_port = port
        self._started_pid: int | None = None

    def __enter__(self) -> Self:
        if not self.enabled:
            self.why_not = "disabled (--no-peer)"
            return self
        try:
            self.start()
        except Exception as exc:  # noqa: BLE001 - the benchmark still measures edgekv alone
            self.why_not = str(exc)
            self.port = None
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def start(self) -> None:
        if _ping(self._default_port):
            self.port = self._default_port  # somebody's peer is up: use it, never stop it
            return
        install_peer(self.home)
        port = _free_port()
        env = {**os.environ, "PEER_PORT": str(port),
               "PEER_LOGFILE": str(self.home / f"peer-bench-{port}.log")}
        done = subprocess.run([str(self.home / "start.sh")], capture_output=True, text=True,
                              env=env, timeout=60, check=False)
        if done.returncode != 0:
            raise RuntimeError(f"peer start failed: {(done.stderr or done.stdout).strip()}")
        self._started_pid = int(done.stdout.strip().splitlines()[-1])
        self.port = port
        if not _ping(port, timeout=10):
            raise RuntimeError(f"peer started (pid {self._started_pid}) but /ping fails")

    @property
    def pid(self) -> int | None:
        """The node process of the peer (the one we started, or peer.pid of a running one)."""
        if self._started_pid is not None:
            return self._started_pid
        try:
            return int((self.home / "peer.pid").read_text().strip())
        except (OSError, ValueError):
            return None

    def stop(self) -> None:
        pid, self._started_pid = self._started_pid, None
        if pid is None:
            return
        try:
            os.kill(pid, signal.SIGTERM)  # Miniflare.dispose() stops workerd too
        except ProcessLookupError:
            return
        for _ in range(100):
            try:
                os.kill(pid, 0)
            except ProcessLookupError:
                break
            time.sleep(0.1)
        pid_file = self.home / "peer.pid"
        try:
            if pid_file.read_text().strip() == str(pid):
                pid_file.unlink()
        except OSError:
            pass

    def put(self, key: str, value: bytes) -> None:
        assert self.port is not None
        conn = http.client.HTTPConnection(HOST, self.port, timeout=30)
        conn.request("POST", f"/put?key={key}", body=value)
        status = conn.getresponse().status
        conn.close()
        if status != 204:
            raise RuntimeError(f"peer /put answered {status}")

    def fill(self, keys: list[str], value: bytes) -> None:
        """PUT every key through the peer's ``/put?key=`` route (one keep-alive connection)."""
        assert self.port is not None
        conn = http.client.HTTPConnection(HOST, self.port, timeout=30)
        for key in keys:
            conn.request("POST", f"/put?key={key}", body=value)
            resp = conn.getresponse()
            resp.read()
            if resp.status != 204:
                raise RuntimeError(f"peer /put answered {resp.status}")
        conn.close()


_READY = re.compile(r"Ready on http://[^:\s]+:(\d+)")
_QUIET = ("import logging, sys; logging.getLogger('edgekv.dev').setLevel(logging.WARNING); "
          "from edgekv.cli import main; sys.argv[0] = 'edgekv'; main()")


class EdgekvDev:
    """``edgekv dev PROJECT --port 0 --persist-to STATE`` as a subprocess (module docstring)."""

    def __init__(self, project: Path, state: Path, log: Path, *,
                 quiet_access_log: bool = False, extra_args: tuple[str, ...] = ()) -> None:
        self.project = project
        self.state = state
        self.log = log
        self.quiet = quiet_access_log
        self.extra_args = extra_args
        self.proc: subprocess.Popen[bytes] | None = None
        self.port = 0

    def command(self) -> list[str]:
        """The command line of the server process."""
        args = ["dev", str(self.project), "--ip", HOST, "--port", "0",
                "--persist-to", str(self.state), *self.extra_args]
        python = str(Path(sys.executable))
        if self.quiet:
            return [python, "-c", _QUIET, *args]
        return [python, "-m", "edgekv", *args]

    def __enter__(self) -> Self:
        cmd = self.command()
        with open(self.log, "wb") as out:
            self.proc = subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT,
                                         stdin=subprocess.DEVNULL, cwd=self.project)
        try:
            deadline = time.monotonic() + 60
            while time.monotonic() < deadline:
                m = _READY.search(self.log.read_text(errors="replace"))
                if m:
                    self.port = int(m.group(1))
                    return self
                if self.proc.poll() is not None:
                    break
                time.sleep(0.05)
            raise RuntimeError(f"edgekv dev did not start:\n{self.log.read_text()[-3000:]}")
        except BaseException:
            self.__exit__()
            raise

    def __exit__(self, *exc: object) -> None:
        proc, self.proc = self.proc, None
        if proc is None or proc.poll() is not None:
            return
        proc.send_signal(signal.SIGINT)
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()

    @property
    def pid(self) -> int:
        assert self.proc is not None
        return self.proc.pid

    def log_lines(self) -> int:
        return sum(1 for _ in self.log.open("rb"))

    def cpu_seconds(self) -> float:
        """User + system CPU time the server process has used so far (all its threads)."""
        return cpu_seconds(self.pid)


class BareFloor(EdgekvDev):
    """``bench/_floor.py``: the bare ASGI app on uvicorn over the same SQLite file."""

    def __init__(self, db: Path, namespace: str, log: Path, *, one_write: bool = False) -> None:
        super().__init__(db.parent, db.parent, log)
        self.db = db
        self.namespace = namespace
        self.one_write = one_write

    def command(self) -> list[str]:
        return [sys.executable, str(BENCH / "_floor.py"), "--db", str(self.db),
                "--namespace", self.namespace, *(["--one-write"] if self.one_write else [])]


def cpu_seconds(pid: int) -> float:
    """User + system CPU seconds of process ``pid`` (from /proc, so no psutil needed)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def edgekv_cli(*args: str, cwd: Path) -> None:
    """Run ``edgekv ARGS`` (e.g. ``kv bulk put``) to completion; raise on failure."""
    done = subprocess.run([sys.executable, "-m", "edgekv", *args], cwd=cwd,
                          capture_output=True, text=True, timeout=300, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"edgekv {' '.join(args)} failed: {done.stderr or done.stdout}")

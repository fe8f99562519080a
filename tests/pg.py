"""A throwaway PostgreSQL cluster for the tests: ``initdb`` + ``pg_ctl`` on a free port.

PostgreSQL refuses to run as root, and CI runs as root: then every server command runs as the
unprivileged ``postgres`` user (or ``nobody``) through ``runuser``, in a folder under ``/tmp``
that user owns (pytest's temporary folders are private to root). The binaries come from
``pg_config --bindir``, Debian's ``/usr/lib/postgresql/<version>/bin`` or ``PATH``.

One cluster serves the whole session; each test gets its own schema through the
``?schema=NAME`` parameter of an edgekv ``postgresql://`` URL, which is far cheaper than a
database per test. A streaming replica is started only for the tests that ask for one.
"""

from __future__ import annotations

import glob
import itertools
import os
import pwd
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
from pathlib import Path

__all__ = ["PostgresCluster", "find_bindir"]

_USER_CANDIDATES = ("postgres", "nobody")


def find_bindir() -> Path | None:
    """The folder holding ``initdb`` and ``pg_ctl``, or ``None`` when PostgreSQL is absent."""
    candidates: list[str] = []
    if os.environ.get("EDGEKV_PG_BINDIR"):
        candidates.append(os.environ["EDGEKV_PG_BINDIR"])
    pg_config = shutil.which("pg_config")
    if pg_config:
        try:
            out = subprocess.run(
                [pg_config, "--bindir"], capture_output=True, text=True, timeout=10, check=True
            )
            candidates.append(out.stdout.strip())
        except (OSError, subprocess.SubprocessError):
            pass
    # Debian installs the server outside PATH; take the newest version.
    candidates += sorted(glob.glob("/usr/lib/postgresql/*/bin"),
                         key=lambda p: int(p.split("/")[-2]) if p.split("/")[-2].isdigit() else 0,
                         reverse=True)
    which_initdb = shutil.which("initdb")
    if which_initdb:
        candidates.append(str(Path(which_initdb).parent))
    for folder in candidates:
        path = Path(folder)
        if (path / "initdb").is_file() and (path / "pg_ctl").is_file() and (path / "postgres").is_file():
            return path
    return None


# Run in its own process: when the test process dies without tearing down (killed by a CI
# timeout, say), stop every server of the cluster (SIGQUIT: immediate shutdown) and remove
# its folder, so no PostgreSQL outlives the session.
_WATCHDOG = r"""
import os, shutil, signal, sys, time
parent, root = int(sys.argv[1]), sys.argv[2]
while True:
    try:
        os.kill(parent, 0)
    except ProcessLookupError:
        break
    time.sleep(1)
for name in ("replica", "primary"):
    try:
        with open(os.path.join(root, name, "postmaster.pid")) as f:
            os.kill(int(f.readline()), signal.SIGQUIT)
    except (OSError, ValueError):
        pass
time.sleep(3)
shutil.rmtree(root, ignore_errors=True)
"""


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class PostgresCluster:
    """A primary (and, on demand, one streaming replica) in a private temporary folder."""

    def __init__(self, bindir: Path) -> None:
        self.bindir = bindir
        self.root = Path(tempfile.mkdtemp(prefix="edgekv-pg-", dir="/tmp"))
        self.user: str | None = None  # the OS user the server runs as (None: ourselves)
        if os.geteuid() == 0:
            for name in _USER_CANDIDATES:
                try:
                    entry = pwd.getpwnam(name)
                except KeyError:
                    continue
                self.user = name
                os.chown(self.root, entry.pw_uid, entry.pw_gid)
                break
            else:
                raise RuntimeError("running as root and no unprivileged user to run PostgreSQL")
        os.chmod(self.root, 0o700)
        self.port = _free_port()
        self.replica_port: int | None = None
        self._schemas = itertools.count(1)
        self._watchdog = subprocess.Popen(
            [sys.executable, "-c", _WATCHDOG, str(os.getpid()), str(self.root)],
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
            start_new_session=True,
        )

    # -- commands --------------------------------------------------------------------------

    def _run(self, *args: str, timeout: float = 60.0) -> subprocess.CompletedProcess[str]:
        command = [str(self.bindir / args[0]), *args[1:]]
        if self.user is not None:
            command = ["runuser", "-u", self.user, "--", *command]
        result = subprocess.run(
            command, capture_output=True, text=True, timeout=timeout, cwd=self.root,
            stdin=subprocess.DEVNULL, check=False,  # a failure is raised below with its output
        )
        if result.returncode != 0:
            raise RuntimeError(f"{' '.join(args)} failed:\n{result.stdout}\n{result.stderr}")
        return result

    @property
    def data(self) -> Path:
        return self.root / "primary"

    @property
    def replica_data(self) -> Path:
        return self.root / "replica"

    def start(self) -> None:
        """Create the primary and start it, listening on 127.0.0.1 only."""
        self._run("initdb", "-D", str(self.data), "-U", "postgres", "-A", "trust",
                  "-E", "UTF8", "--locale=C", "--no-sync")
        with open(self.data / "postgresql.conf", "a", encoding="utf-8") as conf:
            conf.write(
                "\nfsync = off\nfull_page_writes = off\n"
                "max_connections = 300\nshared_buffers = 32MB\nmax_wal_senders = 4\n"
                "wal_level = replica\nhot_standby = on\nwal_keep_size = 64MB\nmax_wal_size = 128MB\n"
            )
        with open(self.data / "pg_hba.conf", "a", encoding="utf-8") as hba:
            hba.write("\nhost replication all 127.0.0.1/32 trust\n")
        self._pg_ctl_start(self.data, self.port)

    def _pg_ctl_start(self, data: Path, port: int) -> None:
        options = f"-p {port} -c listen_addresses=127.0.0.1 -c unix_socket_directories={data}"
        self._run("pg_ctl", "-D", str(data), "-o", options, "-l", str(data / "server.log"),
                  "-w", "-t", "60", "start", timeout=90)

    def start_replica(self) -> int:
        """Start a streaming replica of the primary (once); returns its port."""
        if self.replica_port is None:
            self._run("pg_basebackup", "-D", str(self.replica_data), "-h", "127.0.0.1",
                      "-p", str(self.port), "-U", "postgres", "-R", "-X", "stream", "-c", "fast",
                      "--no-sync", timeout=120)
            port = _free_port()
            self._pg_ctl_start(self.replica_data, port)
            self.replica_port = port
        return self.replica_port

    def stop(self) -> None:
        """Stop every server and remove the folder."""
        for data in (self.replica_data, self.data):
            if (data / "postmaster.pid").exists():
                try:
                    self._run("pg_ctl", "-D", str(data), "-m", "immediate", "-w", "-t", "30", "stop")
                except (RuntimeError, subprocess.SubprocessError):
                    pid = self.postmaster_pid(data)
                    if pid:
                        os.kill(pid, signal.SIGQUIT)
        shutil.rmtree(self.root, ignore_errors=True)
        self._watchdog.kill()
        self._watchdog.wait(timeout=10)

    # -- failure injection ------------------------------------------------------------------

    def postmaster_pid(self, data: Path | None = None) -> int | None:
        try:
            return int((data or self.data).joinpath("postmaster.pid").read_text().split()[0])
        except (OSError, ValueError, IndexError):
            return None

    def stop_primary(self) -> None:
        """Stop the primary at once (``pg_ctl stop -m immediate``: every backend is killed,
        as in a crash); its port refuses connections until ``start_primary``."""
        self._run("pg_ctl", "-D", str(self.data), "-m", "immediate", "-w", "-t", "30", "stop")

    def start_primary(self) -> None:
        """Start the primary again after ``stop_primary`` (crash recovery runs)."""
        self._pg_ctl_start(self.data, self.port)

    # -- URLs ---------------------------------------------------------------------------

    def dsn(self, port: int | None = None) -> str:
        return f"postgresql://postgres@127.0.0.1:{port or self.port}/postgres"

    def new_schema(self) -> str:
        """A schema name no other test of this session uses."""
        return f"t{os.getpid()}_{next(self._schemas)}"

    def url(self, schema: str, *, port: int | None = None) -> str:
        """An edgekv store URL on ``schema`` (created by the store on first use)."""
        return f"{self.dsn(port)}?schema={schema}"

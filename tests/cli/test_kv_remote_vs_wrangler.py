"""``edgekv kv … --remote`` next to the real wrangler 4.86 (unmodified): the same commands,
in the same order, against two identical edgekv API servers; stdout and stderr must match
once what differs by nature is masked (ids, ports, the banner's tool name, wrangler's log
path and its "open an issue" note, which point at wrangler's own tracker).

wrangler is installed by ``scripts/install-test-tools.sh`` (``EDGEKV_WRANGLER``); without it
the test fails in CI and is skipped elsewhere, as the acceptance tests are."""

from __future__ import annotations

import json
import os
import re
import subprocess
from pathlib import Path

from click.testing import CliRunner

from edgekv.cli.app import cli
from tests.acceptance.conftest import missing
from tests.acceptance.test_wrangler import _default_wrangler
from tests.cli.live_api import LiveApi

_ANSI = re.compile(r"\x1b\[[0-9;]*m")
_HEX = re.compile(r"\b[0-9a-f]{32}\b")
_HOST = re.compile(r"127\.0\.0\.1:\d+")
_EXPIRATION = re.compile(r'"expiration": \d+')
_ISSUE_NOTE = "  \n  If you think this is a bug, please open an issue at: https://github.com/cloudflare/workers-sdk/issues/new/choose\n"


def _mask(text: str) -> str:
    text = _EXPIRATION.sub('"expiration": N', _HOST.sub("HOST", _HEX.sub("HEX", text)))
    return text.replace("wrangler kv namespace list", "edgekv kv namespace list --remote")


def _wrangler_text(out: str, err: str) -> tuple[str, str]:
    out = "\n".join(line for line in _ANSI.sub("", out).split("\n")
                    if not line.startswith(" ⛅️ wrangler") and set(line) != {"─"})
    err = _ANSI.sub("", err).replace(_ISSUE_NOTE, "")
    err = "\n".join(line for line in err.split("\n") if not line.startswith("🪵  Logs were written"))
    return _mask(out).rstrip("\n"), _mask(err).rstrip("\n")


def _edgekv_text(out: str, err: str) -> tuple[str, str]:
    out = "\n".join(line for line in out.split("\n")
                    if not line.startswith(" ⛅️ edgekv") and set(line) != {"─"})
    return _mask(out).rstrip("\n"), _mask(err).rstrip("\n")


def test_remote_outputs_are_wranglers(tmp_path: Path) -> None:
    binary = os.environ.get("EDGEKV_WRANGLER") or str(_default_wrangler())
    if not os.access(binary, os.X_OK):
        missing(f"wrangler 4.86.0 is not installed at {binary} (run scripts/install-test-tools.sh)")
    theirs, ours = LiveApi(tmp_path / "wrangler").start(), LiveApi(tmp_path / "edgekv").start()
    try:
        home, work = tmp_path / "home", tmp_path / "work"
        home.mkdir()
        work.mkdir()
        (work / "blob.bin").write_bytes(b"\x00\x01\xff")
        (work / "items.json").write_text(json.dumps([{"key": f"b{i:04d}", "value": f"v{i}"}
                                                     for i in range(1_500)]))
        (work / "some.json").write_text(json.dumps(["b0001", {"name": "b0002"}, "nope"]))
        (work / "del.json").write_text(json.dumps([f"b{i:04d}" for i in range(1_200)]))
        base = {k: v for k, v in os.environ.items() if not k.startswith(("CLOUDFLARE_", "CF_", "WRANGLER_"))}
        base.update({"CI": "true", "NO_COLOR": "1", "HOME": str(home), "WRANGLER_SEND_METRICS": "false"})
        runner = CliRunner()
        ids: dict[str, str] = {}

        def both(*args: str, compare_out: bool = True, compare_err: bool = True) -> bytes:
            """Run ``args`` with each tool (``{ns}`` is its namespace id); compare; return
            wrangler's raw stdout."""
            def fill(ns: str) -> list[str]:
                return [a.replace("{ns}", ns) for a in args]

            done = subprocess.run([binary, *fill(ids.get("wrangler", ""))], cwd=work,
                                  env={**base, **theirs.env}, capture_output=True, timeout=120,
                                  stdin=subprocess.DEVNULL,
                                  check=False)  # its exit code is compared with edgekv's
            # wrangler's namespace commands are always remote; edgekv's say so with --remote
            extra = ["--remote"] if args[:2] == ("kv", "namespace") else []
            result = runner.invoke(cli, [*fill(ids.get("edgekv", "")), *extra, "--cwd", str(work)],
                                   env={**base, **ours.env}, catch_exceptions=False)
            wout, werr = _wrangler_text(done.stdout.decode("utf-8", "replace"), done.stderr.decode())
            eout, eerr = _edgekv_text(result.stdout_bytes.decode("utf-8", "replace"), result.stderr)
            assert result.exit_code == done.returncode, (args, werr, eerr)
            if compare_out:
                assert eout == wout, args
            if compare_err:
                assert eerr == werr, args
            if args[:3] == ("kv", "namespace", "create") and done.returncode == 0:
                ids["wrangler"] = _HEX.findall(done.stdout.decode())[-1]
                ids["edgekv"] = _HEX.findall(result.stdout_bytes.decode())[-1]
            if args[:3] == ("kv", "key", "get") and "--text" not in args and done.returncode == 0:
                assert result.stdout_bytes == done.stdout, args
            return done.stdout

        remote = ("--namespace-id", "{ns}", "--remote")
        both("kv", "namespace", "create", "shop")
        both("kv", "namespace", "create", "shop")
        both("kv", "namespace", "list")
        both("kv", "key", "put", "k", "v", *remote, "--ttl", "10")
        both("kv", "key", "put", "sp ace/k", "v1", *remote, "--ttl", "120", "--metadata", '{"a":1}')
        both("kv", "key", "put", "bin", "--path", "blob.bin", *remote)
        both("kv", "key", "get", "sp ace/k", *remote, "--text")
        both("kv", "key", "get", "bin", *remote)
        # wrangler also prints a bug-report prompt on stdout for this one
        both("kv", "key", "get", "no such", *remote, compare_out=False)
        both("kv", "key", "list", *remote)
        both("kv", "key", "list", *remote, "--prefix", "sp")
        both("kv", "bulk", "put", "items.json", *remote)
        # wrangler adds an "open beta" warning of its own on stderr
        both("kv", "bulk", "get", "some.json", *remote, compare_err=False)
        both("kv", "bulk", "delete", "del.json", *remote, "--force")
        both("kv", "key", "delete", "bin", *remote)
        both("kv", "key", "list", *remote, "--prefix", "b")
        both("kv", "namespace", "rename", "shop", "--new-name", "store")
        both("kv", "namespace", "rename", "nope", "--new-name", "x")
        both("kv", "namespace", "delete", "store", "-y")
        # wrangler prints its help text on stdout here
        both("kv", "namespace", "delete", "nope", "-y", compare_out=False)
        both("kv", "namespace", "create", "second")
        both("kv", "namespace", "delete", "--namespace-id", "{ns}")
        both("kv", "namespace", "delete", "--namespace-id", "{ns}")
        both("kv", "namespace", "list")
    finally:
        theirs.stop()
        ours.stop()

"""``edgekv kv … --remote`` against real edgekv API servers over HTTP: every command, a
namespace copied between two servers with ``export``/``import``, ``.env`` settings, and
``edgekv serve`` as a subprocess.

Outputs are wrangler 4.86's for ``--remote`` (workers-sdk
``packages/wrangler/src/__tests__/kv/bulk.test.ts``: "Resource location: remote", the
``Uploaded N% (x out of y)`` lines, ``Success!``)."""

from __future__ import annotations

import base64
import json
import os
import subprocess
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from click.testing import Result

from edgekv import __version__
from tests.cli.live_api import LiveApi
from tests.cli.test_dev_command import EDGEKV


def remote_header() -> str:
    title = f" ⛅️ edgekv {__version__}"
    return f"\n{title}\n{'─' * len(title)}\nResource location: remote \n\n"


@pytest.fixture
def servers(tmp_path: Path) -> Iterator[Callable[[str], LiveApi]]:
    started: list[LiveApi] = []

    def start(name: str) -> LiveApi:
        live = LiveApi(tmp_path / "servers" / name).start()
        started.append(live)
        return live

    yield start
    for live in started:
        live.stop()


@pytest.fixture
def use(monkeypatch: pytest.MonkeyPatch) -> Callable[[LiveApi], None]:
    """Point the CLOUDFLARE_* variables at a server."""
    for name in ("CF_API_TOKEN", "CLOUDFLARE_API_KEY", "CLOUDFLARE_EMAIL", "CF_ACCOUNT_ID",
                 "CF_API_BASE_URL"):
        monkeypatch.delenv(name, raising=False)

    def point(live: LiveApi) -> None:
        for key, value in live.env.items():
            monkeypatch.setenv(key, value)

    return point


def ok(result: Result) -> Result:
    assert result.exit_code == 0, result.stdout + result.stderr
    return result


def namespace_id(output: str) -> str:
    return output.split('id = "')[1].split('"')[0]


def test_every_kv_command_with_remote(run, servers, use, tmp_path: Path) -> None:
    live = servers("one")
    use(live)
    created = ok(run("kv", "namespace", "create", "remote-ns", "--remote"))
    ns = namespace_id(created.stdout)
    assert created.stdout == (
        remote_header() + '🌀 Creating namespace with title "remote-ns"\n✨ Success!\n'
        "To access your new KV Namespace in your Worker, add the following snippet to your "
        f'configuration file:\n[[kv_namespaces]]\nbinding = "remote_ns"\nid = "{ns}"\n')
    again = run("kv", "namespace", "create", "remote-ns", "--remote")
    assert again.exit_code == 1
    assert again.stderr.startswith('✘ [ERROR] A KV namespace with the title "remote-ns" already exists.')
    listed = json.loads(ok(run("kv", "namespace", "list", "--remote")).stdout)
    assert listed == [{"id": ns, "title": "remote-ns", "supports_url_encoding": True}]
    # the local store is untouched by all of this
    assert "remote-ns" not in [n["title"] for n in json.loads(ok(run("kv", "namespace", "list")).stdout)]

    put = ok(run("kv", "key", "put", "sp ace/k", "v1", "--namespace-id", ns, "--remote",
                 "--ttl", "120", "--metadata", '{"a":1}'))
    assert put.stdout == (remote_header() + f'Writing the value "v1" to key "sp ace/k" on namespace '
                          f'id: "{ns}" with metadata "{{"a":1}}".\n')
    (tmp_path / "blob.bin").write_bytes(b"\x00\x01\xff")
    ok(run("kv", "key", "put", "bin", "--path", str(tmp_path / "blob.bin"), "--namespace-id", ns,
           "--remote"))
    assert ok(run("kv", "key", "get", "sp ace/k", "--namespace-id", ns, "--remote", "--text")).stdout == "v1\n"
    assert ok(run("kv", "key", "get", "bin", "--namespace-id", ns, "--remote")).stdout_bytes == b"\x00\x01\xff"
    missing = run("kv", "key", "get", "no such", "--namespace-id", ns, "--remote")
    assert missing.exit_code == 1 and missing.stdout == ""
    assert missing.stderr == (f"✘ [ERROR] Failed to fetch {live.base_url}/accounts/{live.account}/storage/"
                              f"kv/namespaces/{ns}/values/no%20such - 404: Not Found);\n\n")
    keys = json.loads(ok(run("kv", "key", "list", "--namespace-id", ns, "--remote")).stdout)
    assert [k["name"] for k in keys] == ["bin", "sp ace/k"]
    assert keys[1]["metadata"] == {"a": 1} and abs(keys[1]["expiration"] - time.time() - 120) < 10
    assert json.loads(ok(run("kv", "key", "list", "--namespace-id", ns, "--remote", "--prefix", "sp")).stdout)[0]["name"] == "sp ace/k"
    bad_ttl = run("kv", "key", "put", "k", "v", "--namespace-id", ns, "--remote", "--ttl", "10")
    assert bad_ttl.exit_code == 1
    assert bad_ttl.stderr == (
        f"✘ [ERROR] A request to the Cloudflare API (/accounts/{live.account}/storage/kv/namespaces/"
        f"{ns}/values/k) failed.\n\n  Invalid expiration_ttl of 10. Expiration TTL must be at least 60. "
        "[code: 10001]\n\n")
    deleted = ok(run("kv", "key", "delete", "bin", "--namespace-id", ns, "--remote"))
    assert deleted.stdout == remote_header() + f'Deleting the key "bin" on namespace id: "{ns}".\n'

    items = [{"key": f"b{i:04d}", "value": f"v{i}"} for i in range(1_500)]
    (tmp_path / "put.json").write_text(json.dumps(items))
    bulk_put = ok(run("kv", "bulk", "put", str(tmp_path / "put.json"), "--namespace-id", ns, "--remote"))
    assert bulk_put.stdout == (remote_header() + "Uploaded 0% (0 out of 1,500)\n"
                               "Uploaded 66% (1,000 out of 1,500)\n"
                               "Uploaded 100% (1,500 out of 1,500)\nSuccess!\n")
    (tmp_path / "keys.json").write_text(json.dumps(["b0000", {"name": "b1499"}, "nope"]))
    got = ok(run("kv", "bulk", "get", str(tmp_path / "keys.json"), "--namespace-id", ns, "--remote"))
    assert got.stdout == '{\n  "b0000": "v0",\n  "b1499": "v1499",\n  "nope": null\n}\n\nSuccess!\n'
    (tmp_path / "del.json").write_text(json.dumps([i["key"] for i in items[:1_200]]))
    bulk_delete = ok(run("kv", "bulk", "delete", str(tmp_path / "del.json"), "--namespace-id", ns,
                         "--remote", "--force"))
    assert bulk_delete.stdout == (remote_header() + "Deleted 0% (0 out of 1,200)\n"
                                  "Deleted 83% (1,000 out of 1,200)\n"
                                  "Deleted 100% (1,200 out of 1,200)\nSuccess!\n")
    left = json.loads(ok(run("kv", "key", "list", "--namespace-id", ns, "--remote", "--prefix", "b")).stdout)
    assert len(left) == 300

    renamed = ok(run("kv", "namespace", "rename", "remote-ns", "--new-name", "renamed", "--remote"))
    assert renamed.stdout == (remote_header() + f'Renaming KV namespace {ns} to "renamed".\n'
                              '✨ Successfully renamed namespace to "renamed"\n')
    exported = json.loads(ok(run("kv", "namespace", "export", "renamed", "--remote")).stdout)
    assert len(exported) == 301 and exported[-1]["key"] == "sp ace/k"
    gone = ok(run("kv", "namespace", "delete", "renamed", "--remote", "-y"))
    shown = f'name: "renamed" (id: "{ns}")'
    assert gone.stdout == (remote_header() + f"About to delete remote KV namespace {shown}.\n"
                           "This action is irreversible and will permanently delete all data in "
                           f"the KV namespace.\n\nDeleting KV namespace {shown}.\n"
                           f"Deleted KV namespace {shown}.\n")
    assert json.loads(ok(run("kv", "namespace", "list", "--remote")).stdout) == []
    unknown = run("kv", "namespace", "delete", "--namespace-id", ns, "--remote", "-y")
    assert unknown.exit_code == 1
    assert unknown.stderr.startswith(
        f"✘ [ERROR] A request to the Cloudflare API (/accounts/{live.account}/storage/kv/namespaces/{ns}) "
        "failed.\n\n  remove namespace: 'namespace not found' [code: 10013]")


def _backup_items(count: int) -> list[dict[str, object]]:
    """Text and binary values, metadata, expirations: what a real namespace holds."""
    later = int(time.time()) + 86_400
    items: list[dict[str, object]] = []
    for i in range(count):
        item: dict[str, object] = {"key": f"key/{i:05d}"}
        if i % 4 == 0:
            item["value"] = base64.b64encode(bytes([i % 256, 0, 255, 254])).decode()
            item["base64"] = True
        else:
            item["value"] = f"value {i} ü"
        if i % 3 == 0:
            item["metadata"] = {"n": i, "tags": ["x", str(i)]}
        if i % 5 == 0:
            item["expiration"] = later + i
        items.append(item)
    return items


def test_a_namespace_round_trips_between_two_servers(run, servers, use, tmp_path: Path) -> None:
    source, target = servers("source"), servers("target")
    use(source)
    ns = namespace_id(ok(run("kv", "namespace", "create", "backup-me", "--remote")).stdout)
    seed = _backup_items(2_600)
    (tmp_path / "seed.json").write_text(json.dumps(seed))
    ok(run("kv", "bulk", "put", str(tmp_path / "seed.json"), "--namespace-id", ns, "--remote"))
    ok(run("kv", "namespace", "export", "backup-me", "--remote", "-o", str(tmp_path / "a.json")))

    use(target)
    imported = ok(run("kv", "namespace", "import", str(tmp_path / "a.json"), "restored", "--remote"))
    restored = json.loads(ok(run("kv", "namespace", "list", "--remote")).stdout)[0]["id"]
    assert imported.stdout == (
        remote_header() + f'🌀 Created namespace "restored" with id "{restored}".\n'
        f'Importing "{tmp_path / "a.json"}" into KV namespace {restored}.\n'
        "Uploaded 0% (0 out of 2,600)\nUploaded 38% (1,000 out of 2,600)\n"
        "Uploaded 76% (2,000 out of 2,600)\nUploaded 100% (2,600 out of 2,600)\n"
        f"✨ Imported 2600 key-value pair(s) into KV namespace {restored}.\n")
    ok(run("kv", "namespace", "export", "restored", "--remote", "-o", str(tmp_path / "b.json")))
    assert (tmp_path / "a.json").read_text() == (tmp_path / "b.json").read_text()
    exported = json.loads((tmp_path / "b.json").read_text())
    assert exported == sorted(seed, key=lambda item: str(item["key"]))
    assert ok(run("kv", "key", "get", "key/00004", "--namespace-id", restored, "--remote")).stdout_bytes == bytes([4, 0, 255, 254])

    # and back down into the local store, then up again into the source under a new name
    ok(run("kv", "namespace", "import", str(tmp_path / "b.json"), "local-copy"))
    ok(run("kv", "namespace", "export", "local-copy", "-o", str(tmp_path / "c.json")))
    assert (tmp_path / "c.json").read_text() == (tmp_path / "a.json").read_text()


def test_import_checks_the_whole_file_first_and_skips_expired_keys(run, servers, use, tmp_path: Path) -> None:
    use(servers("checks"))
    bad = [{"key": "fine", "value": "v"}, {"key": "", "value": "v"}]
    (tmp_path / "bad.json").write_text(json.dumps(bad))
    failed = run("kv", "namespace", "import", str(tmp_path / "bad.json"), "fresh", "--remote")
    assert failed.exit_code == 1
    assert failed.stderr.startswith('✘ [ERROR] Nothing was written: 1 item(s) in ')
    # the namespace made for a file that could not be loaded is removed again
    assert json.loads(ok(run("kv", "namespace", "list", "--remote")).stdout) == []
    old = [{"key": "gone", "value": "v", "expiration": 1_000}, {"key": "kept", "value": "v"}]
    (tmp_path / "old.json").write_text(json.dumps(old))
    done = ok(run("kv", "namespace", "import", str(tmp_path / "old.json"), "fresh", "--remote"))
    fresh = json.loads(ok(run("kv", "namespace", "list", "--remote")).stdout)[0]["id"]
    assert done.stdout.endswith(f"✨ Imported 1 key-value pair(s) into KV namespace {fresh}.\n")
    assert done.stderr == ('▲ [WARNING] 1 key(s) expired since the export and were not imported: '
                           '"gone".\n\n')


def test_settings_come_from_the_projects_dotenv(run, servers, monkeypatch, project_dir: Path) -> None:
    live = servers("dotenv")
    for name in ("CLOUDFLARE_API_BASE_URL", "CLOUDFLARE_API_TOKEN", "CLOUDFLARE_ACCOUNT_ID",
                 "CF_API_TOKEN", "CF_API_BASE_URL", "CF_ACCOUNT_ID"):
        monkeypatch.delenv(name, raising=False)
    # no account id: the only account of GET /memberships is used
    (project_dir / ".env").write_text(
        f"CLOUDFLARE_API_BASE_URL={live.base_url}\nCLOUDFLARE_API_TOKEN={live.token}\n")
    ok(run("kv", "namespace", "create", "from-dotenv", "--remote"))
    assert json.loads(ok(run("kv", "namespace", "list", "--remote")).stdout)[0]["title"] == "from-dotenv"
    # the process environment wins over the file
    monkeypatch.setenv("CLOUDFLARE_API_TOKEN", "wrong")
    refused = run("kv", "namespace", "list", "--remote")
    assert refused.exit_code == 1 and "Authentication error [code: 10000]" in refused.stderr


def test_binding_with_remote_uses_the_id(run, servers, use) -> None:
    use(servers("binding"))
    # wrangler.toml's BOTH binding: id aaaa…, preview_id bbbb…; --remote takes the id
    result = run("kv", "key", "put", "k", "v", "--binding", "BOTH", "--remote")
    assert result.exit_code == 1
    assert "/namespaces/aaaa0000aaaa0000aaaa0000aaaa0000/values/k) failed." in result.stderr
    preview = run("kv", "key", "get", "k", "--binding", "BOTH", "--preview", "--remote")
    assert "/namespaces/bbbb1111bbbb1111bbbb1111bbbb1111/values/k - 404" in preview.stderr


def test_edgekv_serve_subprocess_round_trip(tmp_path: Path, start_serve) -> None:
    """`edgekv serve` in its own process, `edgekv kv … --remote` in others."""
    import asyncio

    from edgekv.accounts import AccountRegistry
    from edgekv.storage import open_store

    state = tmp_path / "served"
    state.mkdir()

    async def credentials() -> tuple[str, str]:
        store = open_store(f"sqlite:///{state / 'kv.sqlite3'}")
        try:
            registry = AccountRegistry(store)
            account = (await registry.create_account("served")).account
            return account.id, (await registry.create_token(account.id)).secret
        finally:
            await store.close()

    account, token = asyncio.run(credentials())
    from tests.cli.test_dev_command import free_port

    port = free_port()
    server = start_serve("--port", str(port), "--persist-to", str(state), cwd=tmp_path)
    server.wait_for("Ready on")
    env = {**os.environ, "CLOUDFLARE_API_BASE_URL": f"http://127.0.0.1:{port}/client/v4",
           "CLOUDFLARE_API_TOKEN": token, "CLOUDFLARE_ACCOUNT_ID": account, "NO_COLOR": "1"}
    work = tmp_path / "work"
    work.mkdir()

    def edgekv(*args: str) -> subprocess.CompletedProcess[str]:
        done = subprocess.run([*EDGEKV, *args], cwd=work, env=env, capture_output=True, text=True,
                              timeout=120, check=False)
        assert done.returncode == 0, done.stdout + done.stderr
        return done

    seed = _backup_items(300)
    (work / "seed.json").write_text(json.dumps(seed))
    edgekv("kv", "namespace", "import", "seed.json", "served-ns", "--remote")
    edgekv("kv", "namespace", "export", "served-ns", "--remote", "-o", "out.json")
    assert json.loads((work / "out.json").read_text()) == sorted(seed, key=lambda i: str(i["key"]))
    assert edgekv("kv", "namespace", "list", "--remote").stdout.count('"title": "served-ns"') == 1
    assert server.interrupt() == 0


@pytest.fixture
def start_serve():
    from tests.cli.test_serve_command import ServeProcess

    started: list[ServeProcess] = []

    def start(*args: str, cwd: Path) -> ServeProcess:
        process = ServeProcess(*args, cwd=cwd)
        started.append(process)
        return process

    yield start
    for process in started:
        process.kill()

"""The real wrangler (``wrangler@4.86.0``, unmodified) against a live edgekv API server.

wrangler follows ``CLOUDFLARE_API_BASE_URL`` for every KV call, so ``wrangler kv namespace|
key|bulk ... --remote`` manages namespaces, keys, values, metadata and bulk data here. Each
command runs as a subprocess with a real token, in an empty folder (no wrangler config), with
``HOME`` in a temporary folder, ``CI=true`` (non-interactive: confirmations answer
themselves) and no telemetry; its exit code and output are checked, and so is what the
server stored, through the API.

``scripts/install-test-tools.sh`` installs wrangler (``scripts/test.sh`` runs it and exports
``EDGEKV_WRANGLER``).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from tests.acceptance.conftest import LiveServer, missing

WRANGLER_VERSION = "4.86.0"
_ANSI = re.compile(r"\x1b\[[0-9;]*m")


def _default_wrangler() -> Path:
    tools = os.environ.get("EDGEKV_TOOLS") or os.path.expanduser("~/.cache/edgekv-tools")
    return Path(tools) / f"wrangler-{WRANGLER_VERSION}" / "node_modules" / ".bin" / "wrangler"


@pytest.fixture(scope="module")
def wrangler_bin() -> str:
    path = os.environ.get("EDGEKV_WRANGLER") or str(_default_wrangler())
    if not os.access(path, os.X_OK):
        missing(f"wrangler {WRANGLER_VERSION} is not installed at {path} "
                "(run scripts/install-test-tools.sh)")
    if shutil.which("node") is None:
        missing("node is not installed (wrangler needs Node.js 20)")
    package = Path(path).resolve().parent.parent / "package.json"
    version = json.loads(package.read_text()).get("version") if package.exists() else None
    if version != WRANGLER_VERSION:
        missing(f"{path} is wrangler {version}, not {WRANGLER_VERSION}")
    return path


@dataclass
class Result:
    code: int
    out: str  # stdout without colours
    err: str  # stderr without colours
    raw: bytes  # stdout as bytes

    @property
    def lines(self) -> list[str]:
        """stdout's lines, without wrangler's banner (whose update notice varies)."""
        kept = []
        for line in self.out.splitlines():
            if line.startswith(" ⛅️ wrangler") or set(line) == {"─"}:
                continue
            kept.append(line)
        return [line for line in kept if line.strip()]

    def json(self) -> Any:
        """stdout parsed as JSON; ``bulk get`` adds ``Success!`` after the document."""
        text = self.out.split("\nSuccess!")[0] if self.out.rstrip().endswith("Success!") else self.out
        return json.loads(text)


@dataclass
class Wrangler:
    binary: str
    server: LiveServer
    home: Path
    cwd: Path
    token: str
    account_id: str | None
    calls: list[list[str]] = field(default_factory=list)

    def __call__(self, *args: str, token: str | None = None, ok: bool = True,
                 timeout: float = 90) -> Result:
        env = {key: value for key, value in os.environ.items()
               if not key.startswith(("CLOUDFLARE_", "CF_", "WRANGLER_"))}
        env.update({
            "CLOUDFLARE_API_BASE_URL": self.server.base_url,
            "CLOUDFLARE_API_TOKEN": token or self.token,
            "WRANGLER_SEND_METRICS": "false",
            "CI": "true",
            "HOME": str(self.home),
            "XDG_CONFIG_HOME": str(self.home / ".config"),
            "NO_COLOR": "1",
        })
        if self.account_id is not None:
            env["CLOUDFLARE_ACCOUNT_ID"] = self.account_id
        self.calls.append(list(args))
        proc = subprocess.run([self.binary, *args], cwd=self.cwd, env=env, capture_output=True,
                              timeout=timeout, stdin=subprocess.DEVNULL,
                              check=False)  # failures are results too (asserted when ok=True)
        result = Result(proc.returncode, _ANSI.sub("", proc.stdout.decode("utf-8", "replace")),
                        _ANSI.sub("", proc.stderr.decode("utf-8", "replace")), proc.stdout)
        if ok:
            assert result.code == 0, (args, result.out, result.err)
        return result

    def write(self, name: str, data: Any) -> str:
        path = self.cwd / name
        if isinstance(data, bytes):
            path.write_bytes(data)
        else:
            path.write_text(json.dumps(data))
        return name


def _wrangler(binary: str, server: LiveServer, tmp_path: Path, *, account: bool) -> Wrangler:
    home = tmp_path / "home"
    cwd = tmp_path / "project"
    home.mkdir()
    cwd.mkdir()
    return Wrangler(binary, server, home, cwd, server.token, server.account if account else None)


@pytest.fixture
def wrangler(wrangler_bin: str, live_server: LiveServer, tmp_path: Path) -> Wrangler:
    return _wrangler(wrangler_bin, live_server, tmp_path, account=True)


@pytest.fixture
def namespace(wrangler: Wrangler, live_server: LiveServer) -> Iterator[str]:
    """A namespace made through the API for the key and bulk tests; deleted afterwards."""
    title = f"wrangler-{time.monotonic_ns()}"
    response = live_server.api("POST", live_server.ns_path(), json={"title": title})
    assert response.status_code == 200, response.text
    ident = str(response.json()["result"]["id"])
    yield ident
    live_server.api("DELETE", live_server.ns_path(ident))


def stored(server: LiveServer, ns: str, key: str) -> tuple[int, bytes]:
    from urllib.parse import quote

    response = server.api("GET", server.ns_path(ns) + "/values/" + quote(key, safe=""))
    return response.status_code, response.content


def test_spec_recipe(wrangler: Wrangler, live_server: LiveServer) -> None:
    """The wrangler recipe of the REST API documentation, command by command."""
    created = wrangler("kv", "namespace", "create", "test-ns-recipe")
    assert 'Creating namespace with title "test-ns-recipe"' in created.out
    assert "✨ Success!" in created.out
    assert "Resource location: remote" in created.out
    ns = re.search(r'"id": "([0-9a-f]{32})"', created.out)
    assert ns is not None, created.out
    ns_id = ns.group(1)
    snippet = json.loads(created.out[created.out.index("{"):])
    assert snippet == {"kv_namespaces": [{"binding": "test_ns_recipe", "id": ns_id}]}

    listed = wrangler("kv", "namespace", "list")
    ours = [n for n in listed.json() if n["id"] == ns_id]
    assert ours == [{"id": ns_id, "title": "test-ns-recipe", "supports_url_encoding": True}]
    assert listed.out.startswith("[\n  {\n    \"id\"")  # pretty JSON, nothing else

    before = int(time.time())
    put = wrangler("kv", "key", "put", "k1", "v1", "--namespace-id", ns_id, "--remote",
                   "--ttl", "120", "--metadata", '{"a":1}')
    assert put.lines[-1] == (f'Writing the value "v1" to key "k1" on namespace id: "{ns_id}" '
                             'with metadata "{"a":1}".')
    got = wrangler("kv", "key", "get", "k1", "--namespace-id", ns_id, "--remote", "--text")
    assert got.out == "v1\n"
    keys = wrangler("kv", "key", "list", "--namespace-id", ns_id, "--remote", "--prefix", "k")
    [entry] = keys.json()
    assert entry["name"] == "k1" and entry["metadata"] == {"a": 1}
    assert before + 119 <= entry["expiration"] <= int(time.time()) + 121
    meta = live_server.api("GET", live_server.ns_path(ns_id) + "/metadata/k1").json()
    assert meta["result"] == {"a": 1}

    items = wrangler.write("items.json", [
        {"key": "b1", "value": "one"},
        {"key": "b2", "value": "aGk=", "base64": True, "metadata": {"x": 2}},
        {"key": "b3", "value": "three", "expiration_ttl": 3600},
    ])
    keys_file = wrangler.write("keys.json", ["b1", "b2", "nope"])
    bulk_put = wrangler("kv", "bulk", "put", items, "--namespace-id", ns_id, "--remote")
    assert bulk_put.lines[-1] == "Success!"
    assert stored(live_server, ns_id, "b2") == (200, b"hi")
    stored_keys = {k["name"]: k for k in live_server.api(
        "GET", live_server.ns_path(ns_id) + "/keys").json()["result"]}
    assert stored_keys["b2"]["metadata"] == {"x": 2}
    assert before + 3599 <= stored_keys["b3"]["expiration"] <= int(time.time()) + 3601
    bulk_get = wrangler("kv", "bulk", "get", keys_file, "--namespace-id", ns_id, "--remote")
    assert bulk_get.json() == {"b1": "one", "b2": "hi", "nope": None}
    # Remote `bulk get` prints the API's `result.values` as pretty JSON, then `Success!`.
    assert bulk_get.out == '{\n  "b1": "one",\n  "b2": "hi",\n  "nope": null\n}\n\nSuccess!\n'
    assert "`wrangler kv bulk get` is an open beta command" in bulk_get.err
    bulk_delete = wrangler("kv", "bulk", "delete", keys_file, "--namespace-id", ns_id, "--remote",
                           "--force")
    assert bulk_delete.lines[-1] == "Success!"
    assert stored(live_server, ns_id, "b1")[0] == 404
    deleted = wrangler("kv", "key", "delete", "k1", "--namespace-id", ns_id, "--remote")
    assert deleted.lines[-1] == f'Deleting the key "k1" on namespace id: "{ns_id}".'
    remaining = wrangler("kv", "key", "list", "--namespace-id", ns_id, "--remote")
    assert [k["name"] for k in remaining.json()] == ["b3"]

    # A missing key fails the way the real service makes it fail: exit 1, the HTTP status.
    missing_key = wrangler("kv", "key", "get", "k1", "--namespace-id", ns_id, "--remote", "--text",
                           ok=False)
    assert missing_key.code == 1
    url = f"{live_server.base_url}/accounts/{live_server.account}/storage/kv/namespaces/{ns_id}"
    assert f"✘ [ERROR] Failed to fetch {url}/values/k1 - 404: Not Found" in missing_key.err

    renamed = wrangler("kv", "namespace", "rename", "test-ns-recipe", "--new-name", "renamed-recipe")
    assert renamed.lines[-1] == '✨ Successfully renamed namespace to "renamed-recipe"'
    assert live_server.api("GET", live_server.ns_path(ns_id)).json()["result"]["title"] == (
        "renamed-recipe")
    gone = wrangler("kv", "namespace", "delete", "--namespace-id", ns_id, "-y")
    assert gone.lines[-1] == f'Deleted KV namespace id: "{ns_id}".'
    assert live_server.api("GET", live_server.ns_path(ns_id)).status_code == 404

    # Creating a title twice: wrangler turns code 10014 into its own message.
    wrangler("kv", "namespace", "create", "twice-recipe")
    again = wrangler("kv", "namespace", "create", "twice-recipe", ok=False)
    assert again.code == 1
    assert 'A KV namespace with the title "twice-recipe" already exists.' in again.err
    # Deleting by title (wrangler >= 4.65 resolves it through the list API).
    by_name = wrangler("kv", "namespace", "delete", "twice-recipe", "-y")
    assert by_name.lines[-1].startswith("Deleted KV namespace")
    titles = [n["title"] for n in live_server.api("GET", live_server.ns_path(),
                                                   params={"per_page": 1000}).json()["result"]]
    assert "twice-recipe" not in titles


def test_without_account_id_wrangler_asks_memberships(wrangler_bin: str, live_server: LiveServer,
                                                      tmp_path: Path) -> None:
    """No CLOUDFLARE_ACCOUNT_ID: wrangler finds the token's only account through
    ``/memberships`` and caches it in ``.wrangler/cache/wrangler-account.json``."""
    wrangler = _wrangler(wrangler_bin, live_server, tmp_path, account=False)
    created = wrangler("kv", "namespace", "create", "no-account-id")
    ns_id = re.search(r'"id": "([0-9a-f]{32})"', created.out).group(1)  # type: ignore[union-attr]
    cache = json.loads((wrangler.cwd / ".wrangler/cache/wrangler-account.json").read_text())
    assert cache == {"account": {"id": live_server.account, "name": "acceptance"}}
    listed = live_server.api("GET", live_server.ns_path(ns_id)).json()["result"]
    assert listed["title"] == "no-account-id"
    wrangler("kv", "key", "put", "k", "v", "--namespace-id", ns_id, "--remote")
    assert stored(live_server, ns_id, "k") == (200, b"v")
    live_server.api("DELETE", live_server.ns_path(ns_id))

    # A token the server does not know: wrangler reports the API's authentication error.
    (tmp_path / "bad").mkdir()
    fresh = _wrangler(wrangler_bin, live_server, tmp_path / "bad", account=False)
    refused = fresh("kv", "namespace", "list", token="not-a-real-token", ok=False)
    assert refused.code == 1
    assert "A request to the Cloudflare API (/memberships) failed." in refused.err
    assert "Authentication error [code: 10000]" in refused.err


def test_binary_files_odd_key_names_and_large_bulk(wrangler: Wrangler, live_server: LiveServer,
                                                   namespace: str) -> None:
    blob = bytes(range(256)) * 4 + b"\x00\xff"
    wrangler.write("blob.bin", blob)
    name = "sp ace/x?y#z%41ü"
    put = wrangler("kv", "key", "put", name, "--path", "blob.bin", "--namespace-id", namespace,
                   "--remote")
    assert put.lines[-1] == (f'Writing the contents of blob.bin to the key "{name}" on namespace '
                             f'id: "{namespace}".')
    assert stored(live_server, namespace, name) == (200, blob)
    # Without --text, `key get` writes the raw bytes, no newline.
    assert wrangler("kv", "key", "get", name, "--namespace-id", namespace, "--remote").raw == blob
    wrangler("kv", "key", "put", "with-meta", "--path", "blob.bin", "--metadata", '{"file":true}',
             "--ttl", "300", "--namespace-id", namespace, "--remote")
    assert stored(live_server, namespace, "with-meta") == (200, blob)
    assert live_server.api("GET", live_server.ns_path(namespace) + "/metadata/with-meta").json()[
        "result"] == {"file": True}

    # 2,500 items: wrangler sends them 1,000 at a time and reports its progress; `key list`
    # follows the cursors through every page.
    items = [{"key": f"bulk-{i:05d}", "value": f"value {i}"} for i in range(2500)]
    bulk = wrangler("kv", "bulk", "put", wrangler.write("big.json", items), "--namespace-id",
                    namespace, "--remote")
    assert bulk.lines[-5:] == ["Uploaded 0% (0 out of 2,500)", "Uploaded 40% (1,000 out of 2,500)",
                               "Uploaded 80% (2,000 out of 2,500)",
                               "Uploaded 100% (2,500 out of 2,500)", "Success!"]
    listed = wrangler("kv", "key", "list", "--namespace-id", namespace, "--remote", "--prefix",
                      "bulk-")
    assert [k["name"] for k in listed.json()] == [item["key"] for item in items]
    assert stored(live_server, namespace, "bulk-02499") == (200, b"value 2499")
    wrangler.write("big-keys.json", [{"name": item["key"]} for item in items])
    removed = wrangler("kv", "bulk", "delete", "big-keys.json", "--namespace-id", namespace,
                       "--remote", "--force")
    assert removed.lines[-2:] == ["Deleted 100% (2,500 out of 2,500)", "Success!"]
    rest = live_server.api("GET", live_server.ns_path(namespace) + "/keys").json()["result"]
    assert sorted(k["name"] for k in rest) == sorted([name, "with-meta"])


def test_read_only_token_cannot_write(wrangler: Wrangler, live_server: LiveServer,
                                      namespace: str) -> None:
    live_server.api("PUT", live_server.ns_path(namespace) + "/values/k", content=b"v")
    reader = live_server.token_for("--read-only")
    got = wrangler("kv", "key", "get", "k", "--namespace-id", namespace, "--remote", "--text",
                   token=reader)
    assert got.out == "v\n"
    refused = wrangler("kv", "key", "put", "k", "w", "--namespace-id", namespace, "--remote",
                       token=reader, ok=False)
    assert refused.code == 1
    assert (f"A request to the Cloudflare API (/accounts/{live_server.account}/storage/kv/"
            f"namespaces/{namespace}/values/k) failed.") in refused.err
    assert "Authentication error [code: 10000]" in refused.err
    assert stored(live_server, namespace, "k") == (200, b"v")


def test_api_errors_reach_the_user_with_the_services_text(wrangler: Wrangler,
                                                          live_server: LiveServer,
                                                          namespace: str) -> None:
    unknown = "0123456789abcdef0123456789abcdef"
    listed = wrangler("kv", "key", "list", "--namespace-id", unknown, "--remote", ok=False)
    assert listed.code == 1
    assert (f"✘ [ERROR] A request to the Cloudflare API (/accounts/{live_server.account}/storage/"
            f"kv/namespaces/{unknown}/keys) failed.") in listed.err
    assert "list keys: 'namespace not found' [code: 10013]" in listed.err
    short = wrangler("kv", "key", "put", "k", "v", "--namespace-id", namespace, "--remote",
                     "--ttl", "30", ok=False)
    assert short.code == 1
    assert ("Invalid expiration_ttl of 30. Expiration TTL must be at least 60. [code: 10001]"
            in short.err)
    assert stored(live_server, namespace, "k")[0] == 404

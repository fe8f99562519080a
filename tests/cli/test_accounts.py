"""`edgekv account` and `edgekv token` through click's runner, on the project's state folder."""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import Callable
from pathlib import Path

from click.testing import Result

from edgekv.accounts import AccountRegistry
from edgekv.storage import open_store


def _account_id(result: Result) -> str:
    match = re.search(r"Created account ([0-9a-f]{32})", result.output)
    assert match, result.output
    return match.group(1)


def test_account_create_and_list(run: Callable[..., Result]) -> None:
    plain = run("account", "create", "--name", "shop")
    assert plain.exit_code == 0
    assert "Global API key" not in plain.output
    with_key = run("account", "create", "--email", "ada@example.com")
    assert with_key.exit_code == 0
    key = with_key.output.split("store it now):\n")[1].split("\n")[0].strip()
    assert re.fullmatch(r"[0-9a-f]{37}", key)
    listed = json.loads(run("account", "list").output)
    assert sorted(a["name"] for a in listed) == ["ada@example.com's Account", "shop"]
    assert key not in run("account", "list").output
    again = run("account", "create", "--email", "ada@example.com")
    assert again.exit_code == 1
    assert "an account with the email 'ada@example.com' already exists" in again.output.lower()


def _authenticates(project_dir: Path, secret: str) -> bool:
    async def check() -> bool:
        store = open_store(f"sqlite:///{project_dir / '.edgekv' / 'kv.sqlite3'}")
        try:
            return await AccountRegistry(store).authenticate_token(secret) is not None
        finally:
            await store.close()

    return asyncio.run(check())


def test_token_create_list_revoke(run: Callable[..., Result], project_dir: Path) -> None:
    account = _account_id(run("account", "create"))
    created = run("token", "create", "--account", account, "--read-only", "--namespace", "n1",
                  "--expires-in", "12h")
    assert created.exit_code == 0, created.output
    secret = created.output.split("store it now):\n")[1].split("\n")[0].strip()
    assert len(secret) == 40
    assert f"export CLOUDFLARE_API_TOKEN={secret}" in created.output
    listed = json.loads(run("token", "list").output)
    assert len(listed) == 1 and listed[0]["status"] == "active" and listed[0]["read_only"]
    assert listed[0]["namespaces"] == ["n1"] and listed[0]["expires_on"] is not None
    assert secret not in run("token", "list").output
    assert _authenticates(project_dir, secret)
    revoked = run("token", "revoke", listed[0]["id"])
    assert revoked.exit_code == 0 and "Revoked token" in revoked.output
    assert not _authenticates(project_dir, secret)
    assert json.loads(run("token", "list").output)[0]["status"] == "revoked"


def test_token_errors_are_one_line(run: Callable[..., Result]) -> None:
    missing = run("token", "create", "--account", "f" * 32)
    assert missing.exit_code == 1
    assert f"No account with id '{'f' * 32}'." in missing.output
    account = _account_id(run("account", "create"))
    bad = run("token", "create", "--account", account, "--expires-in", "soon")
    assert bad.exit_code == 1 and "--expires-in: invalid duration 'soon'" in bad.output
    assert "Traceback" not in bad.output
    unknown = run("token", "revoke", "0" * 32)
    assert unknown.exit_code == 1 and "No API token with id" in unknown.output

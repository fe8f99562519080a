"""``RemoteSettings`` and ``read_environment``: wrangler's variables, its ``.env`` files and
their precedence."""

from __future__ import annotations

from pathlib import Path

import pytest

from edgekv.client import RemoteSettings, RemoteSetupError
from edgekv.client.settings import DEFAULT_API_BASE_URL, read_environment


def test_dotenv_files_merge_in_wranglers_order_and_the_process_wins(tmp_path: Path) -> None:
    (tmp_path / ".env").write_text("A=env\nB=env\nC=env\nD=env\nE=env\n")
    (tmp_path / ".env.local").write_text("B=local\nC=local\nD=local\nE=local\n")
    (tmp_path / ".env.staging").write_text("C=staging\nD=staging\nE=staging\n")
    (tmp_path / ".env.staging.local").write_text("D=staging-local\nE=staging-local\nR=${A}-x\n")
    found = read_environment(tmp_path, "staging", {"E": "process"})
    assert [found[k] for k in "ABCDE"] == ["env", "local", "staging", "staging-local", "process"]
    assert found["R"] == "env-x"
    assert "C" not in read_environment(tmp_path / "nowhere", None, {})
    assert read_environment(tmp_path, None, {})["C"] == "local"  # no --env: no .env.staging


def test_wranglers_variables_and_their_cf_aliases() -> None:
    settings = RemoteSettings.from_environ({
        "CF_API_BASE_URL": "http://h/client/v4/", "CF_API_TOKEN": "t", "CF_ACCOUNT_ID": "a"})
    assert (settings.base_url, settings.api_token, settings.account_id) == ("http://h/client/v4", "t", "a")
    both = RemoteSettings.from_environ({"CLOUDFLARE_API_TOKEN": "new", "CF_API_TOKEN": "old"})
    assert both.api_token == "new" and both.base_url == DEFAULT_API_BASE_URL
    assert both.auth_headers() == {"Authorization": "Bearer new"}
    keyed = RemoteSettings.from_environ({"CLOUDFLARE_API_KEY": "k", "CLOUDFLARE_EMAIL": "e@x"})
    assert keyed.auth_headers() == {"X-Auth-Email": "e@x", "X-Auth-Key": "k"}
    with pytest.raises(RemoteSetupError):
        RemoteSettings.from_environ({"CLOUDFLARE_API_KEY": "k"})  # a key needs its email
    dev = RemoteSettings.from_environ(
        {"CLOUDFLARE_API_BASE_URL": "http://127.0.0.1:8787/cdn-cgi/edgekv/client/v4"})
    assert dev.auth_headers() == {}

""".dev.vars / .env: dotenv syntax and wrangler's file precedence."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from edgekv.config import load_config, load_dev_vars, parse_dotenv


def test_parse_dotenv_grammar() -> None:
    text = (
        "# comment\n"
        "PLAIN=value\n"
        "SPACED = spaced value   \n"
        "export EXPORTED=yes\n"
        "INLINE=abc # trailing comment\n"
        "SINGLE='single # not a comment'\n"
        'DOUBLE="line1\\nline2"\n'
        "RAW='no\\nescape'\n"
        'MULTI="first\nsecond"\n'
        "EMPTY=\n"
        "COLON: works\n"
        "DUP=first\nDUP=second\r\n"
        "not a pair\n"
    )
    assert parse_dotenv(text) == {
        "PLAIN": "value",
        "SPACED": "spaced value",
        "EXPORTED": "yes",
        "INLINE": "abc",
        "SINGLE": "single # not a comment",
        "DOUBLE": "line1\nline2",
        "RAW": "no\\nescape",
        "MULTI": "first\nsecond",
        "EMPTY": "",
        "COLON": "works",
        "DUP": "second",
    }


def test_dev_vars_env_file_wins_over_dev_vars(write: Callable[..., Path], tmp_path: Path) -> None:
    write(".dev.vars", "A=base\nB=base\n")
    write(".dev.vars.staging", "A=staging\n")
    write(".env", "C=dotenv\n")
    result = load_dev_vars(tmp_path, "staging", environ={})
    assert dict(result.values) == {"A": "staging"}  # only one file, no merging
    assert result.sources == (tmp_path / ".dev.vars.staging",)


def test_dev_vars_used_when_env_file_missing(write: Callable[..., Path], tmp_path: Path) -> None:
    write(".dev.vars", "A=base\n")
    write(".env", "C=dotenv\n")
    result = load_dev_vars(tmp_path, "prod", environ={})
    assert dict(result.values) == {"A": "base"}  # .env ignored when .dev.vars exists
    assert result.log_lines(tmp_path) == ["Using vars defined in .dev.vars"]


def test_env_files_merge_in_order(write: Callable[..., Path], tmp_path: Path) -> None:
    write(".env", "A=env\nB=env\nC=env\nD=env\n")
    write(".env.local", "B=local\nC=local\nD=local\n")
    write(".env.staging", "C=staging\nD=staging\n")
    write(".env.staging.local", "D=staging-local\n")
    result = load_dev_vars(tmp_path, "staging", environ={})
    assert dict(result.values) == {"A": "env", "B": "local", "C": "staging",
                                   "D": "staging-local"}
    assert [p.name for p in result.sources] == [".env", ".env.local", ".env.staging",
                                                ".env.staging.local"]
    no_env = load_dev_vars(tmp_path, None, environ={})
    assert dict(no_env.values) == {"A": "env", "B": "local", "C": "local", "D": "local"}


def test_env_files_expand_references(write: Callable[..., Path], tmp_path: Path) -> None:
    write(".env", "HOST=example.com\nURL=https://${HOST}/x\nPORTED=${PORT:-80}\nLIT=\\$HOST\n")
    values = load_dev_vars(tmp_path, environ={}).values
    assert values["URL"] == "https://example.com/x"
    assert values["PORTED"] == "80"
    assert values["LIT"] == "$HOST"


def test_dev_vars_are_not_expanded(write: Callable[..., Path], tmp_path: Path) -> None:
    write(".dev.vars", "A=1\nB=${A}\n")
    assert load_dev_vars(tmp_path, environ={}).values["B"] == "${A}"


def test_dot_env_loading_can_be_disabled(write: Callable[..., Path], tmp_path: Path) -> None:
    write(".env", "A=1\n")
    off = {"CLOUDFLARE_LOAD_DEV_VARS_FROM_DOT_ENV": "false"}
    assert dict(load_dev_vars(tmp_path, environ=off).values) == {}


def test_process_env_included_on_request(write: Callable[..., Path], tmp_path: Path) -> None:
    write(".env", "A=file\nB=file\n")
    environ = {"CLOUDFLARE_INCLUDE_PROCESS_ENV": "true", "A": "process"}
    values = load_dev_vars(tmp_path, environ=environ).values
    assert values["A"] == "process" and values["B"] == "file"


def test_required_secrets_filter_and_report(write: Callable[..., Path], tmp_path: Path) -> None:
    write(".dev.vars", "TOKEN=t\nVAR=override\nEXTRA=dropped\n")
    result = load_dev_vars(tmp_path, vars={"VAR": "v"}, required=["TOKEN", "KEY"], environ={})
    assert dict(result.values) == {"TOKEN": "t", "VAR": "override"}
    assert result.missing_required == ("KEY",)


def test_load_config_reads_secrets_next_to_config(write: Callable[..., Path],
                                                  tmp_path: Path) -> None:
    write("app/wrangler.toml", '[vars]\nA = "var"\nB = "var"\n[env.stg]\nvars = { A = "s" }\n')
    write("app/.dev.vars", "A=secret\n")
    write("app/.dev.vars.stg", "A=stg-secret\n")
    write(".dev.vars", "A=wrong-dir\n")
    config = load_config(tmp_path / "app", cwd=tmp_path, environ={})
    assert dict(config.secrets) == {"A": "secret"}
    assert config.local_vars() == {"A": "secret", "B": "var"}
    assert config.secret_sources == (tmp_path / "app" / ".dev.vars",)
    staging = load_config(tmp_path / "app", env="stg", cwd=tmp_path, environ={})
    assert staging.local_vars() == {"A": "stg-secret"}


def test_missing_required_secret_warns(write: Callable[..., Path], tmp_path: Path) -> None:
    write("wrangler.json", '{"secrets": {"required": ["API_KEY"]}}')
    config = load_config(tmp_path, cwd=tmp_path, environ={})
    assert [w.message for w in config.diagnostics.all_warnings()] == [
        ("Missing required secrets: API_KEY. Add them to .dev.vars, .env, or set as environment "
        "variables.")
    ]

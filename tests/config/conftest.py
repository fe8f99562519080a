"""Factories for config tests: write a project folder, validate a raw config."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import pytest

from edgekv.config import Config, Diagnostics, validate_raw_config
from edgekv.errors import ConfigError


@pytest.fixture
def write(tmp_path: Path) -> Callable[..., Path]:
    """write(relative_path, text) -> absolute path, creating parent folders."""

    def _write(relative: str, text: str) -> Path:
        path = tmp_path / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
        return path

    return _write


def _check(raw: Mapping[str, Any], env: str | None = None) -> tuple[Config | None, Diagnostics]:
    """Validate ``raw`` as ``/project/wrangler.toml``; return the config (None on error)."""
    path = Path("/project/wrangler.toml")
    try:
        config = validate_raw_config(raw, path, env=env, cwd=Path("/project"))
    except ConfigError as exc:
        assert isinstance(exc.diagnostics, Diagnostics)
        return None, exc.diagnostics
    return config, config.diagnostics


def _errors(raw: Mapping[str, Any], env: str | None = None) -> list[str]:
    """Every error message for ``raw``, in order."""
    return [d.message for d in _check(raw, env)[1].all_errors()]


def _warnings(raw: Mapping[str, Any], env: str | None = None) -> list[str]:
    """Every warning message for ``raw``, in order."""
    return [d.message for d in _check(raw, env)[1].all_warnings()]


@pytest.fixture
def check() -> Callable[..., tuple[Config | None, Diagnostics]]:
    """check(raw, env=None) -> (config or None, diagnostics), for ``/project/wrangler.toml``."""
    return _check


@pytest.fixture
def errors() -> Callable[..., list[str]]:
    """errors(raw, env=None) -> every error message, in order."""
    return _errors


@pytest.fixture
def warnings() -> Callable[..., list[str]]:
    """warnings(raw, env=None) -> every warning message, in order."""
    return _warnings

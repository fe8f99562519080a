"""Attack: bad input into bulk files, configs and storage values
(docs/reliability.md, "Bad input gets the error Cloudflare gives").

Targeted cases (non-UTF-8, deep nesting, NaN/Infinity, endless input, huge values parsed
in linear time) plus hypothesis fuzzers that accept only edgekv's own error classes.
Example counts are small here; bench/reliability.py runs them with large ones
(``EDGEKV_FUZZ_EXAMPLES``).
"""

from __future__ import annotations

import io
import json
import math
import os
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from edgekv.cli.app import cli
from edgekv.client.bulkfile import BulkFileError, iter_json_array
from edgekv.config.parse import parse_config_text
from edgekv.durable_objects import codec
from edgekv.durable_objects.errors import DataCloneError, DurableObjectRangeError
from edgekv.errors import ConfigError
from tests.reliability._procs import make_project

EXAMPLES = int(os.environ.get("EDGEKV_FUZZ_EXAMPLES", "150"))
FUZZ = settings(max_examples=EXAMPLES, deadline=None,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])


@pytest.fixture
def bulk_put(tmp_path: Path) -> Callable[[bytes], Any]:
    project = make_project(tmp_path / "p")

    def invoke(data: bytes) -> Any:
        return CliRunner().invoke(cli, ["kv", "bulk", "put", "-", "--binding", "KV", "--cwd", str(project)],
                                  input=data, catch_exceptions=False)

    return invoke


def _error(result: Any) -> str:
    assert result.exit_code == 1, result.output
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert "Traceback" not in result.output
    assert lines[0].startswith("✘ [ERROR] "), result.stderr
    return "\n".join(lines)


@pytest.mark.parametrize(("data", "expected"), [
    (b'[{"key": "k", "value": "caf\xe9"}]', 'Could not read "stdin": it is not UTF-8 text'),
    (b'[{"key": "k", "value": "v", "expiration_ttl": NaN}]',
     'Could not parse "stdin" as JSON: Unexpected token \'N\', "NaN" is not valid JSON'),
    (b'[{"key": "k", "value": "v", "expiration": Infinity}]',
     'Could not parse "stdin" as JSON: Unexpected token \'I\', "Infinity" is not valid JSON'),
    (b'[{"key": "k", "value": "v", "metadata": -Infinity}]',
     'Could not parse "stdin" as JSON: No number after minus sign in JSON'),
    (b'[{"key": "k", "value": "v", "metadata": ' + b"[" * 100_000 + b"]" * 100_000 + b"}]",
     "nests arrays or objects deeper than edgekv can read"),
])
def test_bad_bulk_input(bulk_put: Callable[[bytes], Any], data: bytes, expected: str) -> None:
    assert expected in _error(bulk_put(data))


def test_kv_key_put_path_dev_zero_stops_at_the_limit(tmp_path: Path) -> None:
    project = make_project(tmp_path / "p")
    started = time.monotonic()
    result = CliRunner().invoke(cli, ["kv", "key", "put", "k", "--path", "/dev/zero", "--binding", "KV",
                                      "--cwd", str(project)], catch_exceptions=False)
    assert _error(result) == "✘ [ERROR] KV PUT failed: 413 Value length of 26214401 exceeds limit of 26214400."
    assert time.monotonic() - started < 30


def test_an_endless_item_stops_at_the_item_limit() -> None:
    class Endless(io.TextIOBase):
        def read(self, size: int | None = -1) -> str:
            return '["' if not hasattr(self, "started") and not setattr(self, "started", 1) else "a" * (size or 1)

    with pytest.raises(BulkFileError, match="holds an item of more than 1,000,000 characters"):
        list(iter_json_array(Endless(), "endless", max_item_chars=1_000_000))


def test_a_25_mib_value_parses_in_linear_time() -> None:
    text = json.dumps([{"key": "k", "value": "x" * (25 << 20)}])
    started = time.perf_counter()
    items = list(iter_json_array(io.StringIO(text), "big.json"))
    elapsed = time.perf_counter() - started
    assert len(items[0]["value"]) == 25 << 20
    assert elapsed < 1.0, f"{elapsed:.2f} s"  # quadratic re-parsing took 6.9 s


def _big_wrangler_json() -> str:
    config = {"name": "big", "main": "src/entry.py", "compatibility_date": "2026-11-01",
              "vars": {f"VAR_{i:05d}": "v" * 40 for i in range(20_000)}}
    return json.dumps(config, indent=2)


def test_a_large_wrangler_json_loads_fast() -> None:
    text = _big_wrangler_json()
    assert len(text) > 1_200_000
    started = time.perf_counter()
    raw = parse_config_text(text, Path("wrangler.json"))
    elapsed = time.perf_counter() - started
    assert len(raw["vars"]) == 20_000
    assert elapsed < 0.2, f"{elapsed:.2f} s"  # json5 alone took 13.2 s


@pytest.mark.parametrize(("text", "expected"), [
    ('{"name": "x", "vars": {"N": NaN}}', "NaN is not a JSON value"),
    ('{"name": "x", // comment\n "vars": {"N": Infinity}}', "Infinity is not a JSON value"),
    ('{"name": "x", "vars": ' + "[" * 50_000 + "]" * 50_000 + "}", "deeper than edgekv can read"),
])
def test_bad_config_files(text: str, expected: str) -> None:
    with pytest.raises(ConfigError) as caught:
        parse_config_text(text, Path("wrangler.jsonc"))
    assert expected in str(caught.value)


def test_deep_toml_is_a_config_error() -> None:
    text = "a = " + "[" * 50_000 + "]" * 50_000
    with pytest.raises(ConfigError):
        parse_config_text(text, Path("wrangler.toml"))


# -- fuzzers ------------------------------------------------------------------------------

_json_text = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=5), inner, max_size=4),
    max_leaves=20,
).map(lambda value: json.dumps(value, allow_nan=True))
_mutated = st.tuples(_json_text, st.integers(0, 200), st.text(max_size=5)).map(
    lambda t: t[0][: t[1]] + t[2] + t[0][t[1]:])
_bulk_like = st.lists(
    st.fixed_dictionaries({"key": st.text(max_size=600), "value": st.text(max_size=50)},
                          optional={"expiration_ttl": st.floats() | st.integers(),
                                    "metadata": st.recursive(st.integers() | st.text(),
                                                             lambda i: st.lists(i, max_size=3)),
                                    "base64": st.booleans()}),
    max_size=5,
).map(lambda items: json.dumps(items, allow_nan=True))


@FUZZ
@given(st.one_of(_mutated, _bulk_like, st.binary(max_size=300).map(lambda b: b.decode("latin-1"))))
def test_fuzz_bulk_files(text: str) -> None:
    from edgekv.client.bulk import validated_records
    from edgekv.kv import KVNamespace
    from edgekv.storage import open_store

    kv = KVNamespace(open_store("memory://"), "ns")
    try:
        list(validated_records(io.StringIO(text), "fuzz.json", kv, warnings=[]))
    except BulkFileError as exc:
        assert str(exc)


@FUZZ
@given(st.one_of(_mutated, _json_text.map(lambda t: '{"name": "x", "vars": {"A": ' + t + "}}"),
                 st.text(max_size=300)),
       st.sampled_from(["wrangler.json", "wrangler.jsonc", "wrangler.toml"]))
def test_fuzz_config_files(text: str, name: str) -> None:
    try:
        parse_config_text(text, Path(name))
    except ConfigError as exc:
        assert str(exc)


_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.integers(min_value=10**4200, max_value=10**4400)
    | st.floats() | st.text() | st.binary(max_size=20),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=4), inner, max_size=4)
    | st.tuples(inner, inner) | st.frozensets(st.integers(), max_size=3),
    max_leaves=25,
)


def _same(a: Any, b: Any) -> bool:
    if isinstance(a, float) and math.isnan(a):
        return isinstance(b, float) and math.isnan(b)
    if isinstance(a, (list, tuple)):
        return type(a) is type(b) and len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, dict):
        return isinstance(b, dict) and a.keys() == b.keys() and all(_same(a[k], b[k]) for k in a)
    return bool(a == b)


@FUZZ
@given(_values)
def test_fuzz_storage_values(value: Any) -> None:
    try:
        data = codec.encode(value)
    except (DataCloneError, DurableObjectRangeError):
        return
    assert _same(codec.decode(data), value)

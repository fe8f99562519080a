"""One ``JsDict``, one ``JSON.stringify``: paths that used to disagree now agree.

Regression tests for issue 11: KV results and RPC values were two different ``JsDict``
classes, and wrangler-style messages printed ``1.0`` where wrangler prints ``1``. Each
expected message was printed by wrangler 4.86.0 for the same input.
"""

from __future__ import annotations

import io
from pathlib import Path

import pytest

from edgekv import open_namespace
from edgekv.client.bulk import validated_records
from edgekv.client.bulkfile import BulkFileError
from edgekv.config import load_config
from edgekv.errors import ConfigError
from edgekv.js import JsDict
from edgekv.runtime.jsglobals import JSON as WorkerJSON
from edgekv.runtime.rpc import python_from_rpc
from edgekv.server.banner import binding_rows


async def test_kv_and_rpc_hand_out_the_same_jsdict() -> None:
    async with open_namespace("memory://", "ns") as kv:
        await kv.put("k", "v", metadata={"n": 1})
        from_kv = await kv.getWithMetadata("k")
        listed = await kv.list()
    from_rpc = python_from_rpc({"value": "v"})
    assert type(from_kv) is type(from_rpc) is type(listed) is JsDict
    assert from_kv.metadata == {"n": 1} and from_rpc.value == "v"
    from_rpc.extra = 2  # attribute writes land in the dict on both paths alike
    from_kv.extra = 2
    assert from_rpc["extra"] == from_kv["extra"] == 2


def test_config_message_prints_numbers_as_wrangler(tmp_path: Path) -> None:
    # wrangler 4.86.0: `- "kv_namespaces[0]" bindings should have a string "id" field but
    # got {"binding":"A","id":1}.` (edgekv printed `"id":1.0` before the one stringify)
    (tmp_path / "wrangler.toml").write_text(
        'name = "x"\nmain = "src/index.js"\ncompatibility_date = "2024-01-01"\n'
        '[[kv_namespaces]]\nbinding = "A"\nid = 1.0\n', encoding="utf-8")
    with pytest.raises(ConfigError) as caught:
        load_config(tmp_path, cwd=tmp_path, environ={})
    assert ('- "kv_namespaces[0]" bindings should have a string "id" field but got '
            '{"binding":"A","id":1}.') in str(caught.value)


async def test_bulk_message_prints_items_as_wrangler() -> None:
    # wrangler 4.86.0, `kv bulk put` of this file: `The item at index 0 is
    # {"key":"a","value":1,"metadata":{"n":2.5}}`, and nothing about item 1, whose metadata
    # integer JSON.parse reads as a double (edgekv used to refuse it as a BigInt).
    text = ('[{"key":"a","value":1.0,"metadata":{"n":2.50}}, '
            '{"key":"b","value":"x","metadata":{"big":12345678901234567890}}]')
    async with open_namespace("memory://", "ns") as kv:
        with pytest.raises(BulkFileError) as caught:
            list(validated_records(io.StringIO(text), "bulk.json", kv))
    message = str(caught.value)
    assert message.endswith('The item at index 0 is {"key":"a","value":1,"metadata":{"n":2.5}}')
    assert "cannot be stored" not in message


def test_banner_and_worker_json_print_numbers_as_v8() -> None:
    from edgekv.config import validate_raw_config

    config = validate_raw_config({"name": "x", "vars": {"RATE": 1.0, "BIG": 1e21}}, None)
    rows = dict(binding_rows(config))
    assert rows["env.RATE (1)"] == rows["env.BIG (1e+21)"] == "Environment Variable"
    assert WorkerJSON.stringify([1.0, float("nan")]) == "[1,null]"  # was [1.0,NaN]

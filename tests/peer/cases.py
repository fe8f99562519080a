"""Operations run against both Cloudflare's simulator (the Miniflare peer) and edgekv.

Each case is ``(label, op)`` in the peer's ``POST /op`` format (docs/peer.md).
``{P}`` in keys, prefixes and values is replaced with a prefix unique to the run, so runs
never see each other's keys in the long-lived peer. ``$cursor`` is the cursor of the last
list result. Expected divergences (documented Miniflare quirks where edgekv follows production
instead, docs/kv-binding.md) are listed in ``DIVERGENCES``.
"""

from __future__ import annotations

import base64
from typing import Any

FUTURE = "$future"  # replaced by now + 3600 s, the same number on both sides

JSON_TEXTS = [
    '{"a":1}', "hello", "", "0", "false", "null", "[1,2]", '"s"', '{"a":1,}',
    "hello world this is long text", '{"a": 1} x', "[1,2", '{"a" 1}', '"abc', "-", "1.", "NaN",
    "{'a':1}", '{"aaaaaaaaaaaaaaaaaaaaaaaa": tru}', '"a\tb"', "1e", "   ",
    "[1,2,3,4,5,6,7,8,9,10,11,12,x]", '"\\x"', "[1,2] 3", '"\\u12"', "[1,]", "tru", "01",
    "Infinity", "undefined", '{"x":1,"y":[1,2,{"z":}]}', "nan", "+1", ".5", "1.5e+",
]


def _put(key: str, value: Any = "value", options: dict[str, Any] | None = None) -> dict[str, Any]:
    op: dict[str, Any] = {"op": "put", "key": key, "value": value}
    if options is not None:
        op["options"] = options
    return op


def _op(name: str, target: Any = None, options: Any = None, *, keys: bool = False) -> dict[str, Any]:
    op: dict[str, Any] = {"op": name}
    if target is not None:
        op["keys" if keys else "key"] = target
    if options is not None:
        op["options"] = options
    return op


def build_cases() -> list[tuple[str, dict[str, Any]]]:
    cases: list[tuple[str, dict[str, Any]]] = []
    add = cases.append
    # key names (catalogue 1)
    for key in ("", ".", "..", "{P}" + "x" * 510, "€" * 171, "{P}" + "k" * 509):
        for name in ("get", "getWithMetadata", "delete"):
            add((f"{name} key {key[:12]!r}", _op(name, key)))
        add((f"put key {key[:12]!r}", _put(key)))
    # values and types (2-5, 8, 9, 11)
    add(("put text", _put("{P}text", "value")))
    add(("get text", _op("get", "{P}text")))
    add(("put binary", {"op": "put", "key": "{P}bin",
                        "value_b64": base64.b64encode(bytes([0, 1, 2, 127, 128, 254, 255])).decode()}))
    for rtype in ("text", "arrayBuffer", "stream", "json", "banana", "TEXT"):
        add((f"get bin {rtype}", _op("get", "{P}bin", rtype)))
        add((f"getWithMetadata bin {rtype}", _op("getWithMetadata", "{P}bin", {"type": rtype})))
        add((f"get missing {rtype}", _op("get", "{P}missing", rtype)))
        add((f"getWithMetadata missing {rtype}", _op("getWithMetadata", "{P}missing", rtype)))
    for i, text in enumerate(JSON_TEXTS):
        add((f"put json {text!r}", _put(f"{{P}}json{i}", text)))
        add((f"get json {text!r}", _op("get", f"{{P}}json{i}", "json")))
    # cacheTtl (7)
    for ttl in ("not a number", 10, 29.9, 30, 60, None, "45", 2**31):
        add((f"get cacheTtl {ttl!r}", _op("get", "{P}text", {"cacheTtl": ttl})))
        add((f"get missing cacheTtl {ttl!r}", _op("get", "{P}missing", {"cacheTtl": ttl})))
    # metadata and expiration (10, 29, 32, 38)
    add(("put meta+exp", _put("{P}meta", "value", {"expiration": FUTURE, "metadata": {"testing": True}})))
    add(("getWithMetadata meta", _op("getWithMetadata", "{P}meta")))
    for i, meta in enumerate([0, False, "", "s", [1], {"n": {"d": [1, None]}}, None, "é" * 511, "é" * 512,
                              {"key": "x" * 1015}, {"key": "x" * 1014}, 1.5, 2.0]):
        add((f"put metadata {str(meta)[:20]!r}", _put(f"{{P}}m{i}", "v", {"metadata": meta})))
        add((f"getWithMetadata metadata {str(meta)[:20]!r}", _op("getWithMetadata", f"{{P}}m{i}")))
    add(("list metadata keys", _op("list", options={"prefix": "{P}m"})))
    # put options (26, 27, 30)
    for ttl in ("nan", 0, None, -1, 30, 1, 59, 59.9, 60, 60.9, "120", 2**31):
        add((f"put expirationTtl {ttl!r}", _put("{P}ttl", "v", {"expirationTtl": ttl})))
    for exp in ("nan", 0, 1, 2147483647, 2147483648, FUTURE):
        add((f"put expiration {exp!r}", _put("{P}exp", "v", {"expiration": exp})))
    add(("put both expiration options", _put("{P}both", "v", {"expiration": 1, "expirationTtl": 120})))
    add(("put both, ttl too short", _put("{P}both", "v", {"expiration": FUTURE, "expirationTtl": 5})))
    # values (23, 28, 31)
    for i, value in enumerate([42, True, None, 1.5, 2.0, "", {"a": 1}, [1, 2]]):
        add((f"put value {value!r}", _put(f"{{P}}coerce{i}", value)))
        add((f"get value {value!r}", _op("get", f"{{P}}coerce{i}")))
    add(("put 25 MiB", {"op": "put", "key": "{P}big", "value_size": 26_214_400}))
    add(("put 25 MiB + 1", {"op": "put", "key": "{P}big2", "value_size": 26_214_401}))
    add(("put options not an object", _put("{P}x", "v", 5)))  # type: ignore[arg-type]
    # overwrite (24, 25)
    add(("put overwrite 1", _put("{P}ow", "v1", {"metadata": {"a": 1}, "expiration": FUTURE})))
    add(("put overwrite 2", _put("{P}ow", "v2")))
    add(("getWithMetadata overwritten", _op("getWithMetadata", "{P}ow")))
    add(("list overwritten", _op("list", options={"prefix": "{P}ow"})))
    add(("put KEY upper", _put("{P}KEY", "upper")))
    add(("get key lower", _op("get", "{P}key")))
    # bulk (12-22)
    add(("bulk basic", _op("get", ["{P}text", "{P}missing"], keys=True)))
    add(("bulk 100", _op("get", [f"{{P}}b{i}" for i in range(100)], keys=True)))
    add(("bulk 101", _op("get", [f"{{P}}b{i}" for i in range(101)], keys=True)))
    add(("bulk empty", _op("get", [], keys=True)))
    for rtype in ("invalid", "arrayBuffer", "stream", "json", "text"):
        add((f"bulk type {rtype}", _op("get", ["{P}json0"], {"type": rtype}, keys=True)))
    add(("bulk json non-json", _op("get", ["{P}json0", "{P}text"], "json", keys=True)))
    add(("bulk meta", _op("getWithMetadata", ["{P}meta", "{P}text", "{P}missing"], keys=True)))
    add(("bulk meta json", _op("getWithMetadata", ["{P}json0"], "json", keys=True)))
    add(("put falsy with metadata", _put("{P}falsy", "", {"metadata": {"testing": True}})))
    add(("put zero with metadata", _put("{P}zero", "0", {"metadata": {"m": 1}})))
    add(("bulk meta falsy", _op("getWithMetadata", ["{P}falsy"], keys=True)))
    add(("bulk meta falsy json", _op("getWithMetadata", ["{P}zero"], "json", keys=True)))
    add(("bulk order dup", _op("get", ["{P}text", "{P}meta", "{P}text"], keys=True)))
    add(("put index key", _put("42", "index")))
    add(("put 042 key", _put("042", "zero")))
    add(("bulk index keys", _op("get", ["42", "042", "{P}text"], keys=True)))
    add(("bulk key checks", _op("get", ["{P}text", ""], keys=True)))
    add(("bulk key dot", _op("get", ["."], keys=True)))
    add(("bulk key long", _op("get", ["y" * 513], keys=True)))
    add(("bulk cacheTtl", _op("get", ["{P}text"], {"cacheTtl": 10}, keys=True)))
    add(("bulk order: type first", _op("get", [f"k{i}" for i in range(101)], "banana", keys=True)))
    add(("bulk order: count before names", _op("get", [""] + [f"k{i}" for i in range(100)], keys=True)))
    add(("bulk order: json before later name", _op("get", ["{P}json1", ""], "json", keys=True)))
    add(("bulk order: name before json", _op("get", ["", "{P}json1"], "json", keys=True)))
    # delete (33)
    add(("delete text", _op("delete", "{P}text")))
    add(("get deleted", _op("get", "{P}text")))
    add(("delete missing", _op("delete", "{P}never")))
    # list (34-47)
    for key in ("L:key3", "L:key1", "L:key2", "L:KEY1", "L:key\\_%1", "L:key\\a", "L:!", "L:, ",
                "L:é", "L:\uffff", "L:😀", "L:a/b", "L:\u0000"):
        add((f"put list key {key!r}", _put("{P}" + key)))
    add(("list all", _op("list", options={"prefix": "{P}L:"})))
    add(("list prefix key", _op("list", options={"prefix": "{P}L:key"})))
    add(("list prefix KEY", _op("list", options={"prefix": "{P}L:KEY"})))
    add(("list prefix special", _op("list", options={"prefix": "{P}L:key\\_%"})))
    add(("list page 1", _op("list", options={"prefix": "{P}L:", "limit": 2})))
    add(("list page 2", _op("list", options={"prefix": "{P}L:", "limit": 3, "cursor": "$cursor"})))
    add(("list page 3", _op("list", options={"prefix": "{P}L:", "limit": 100, "cursor": "$cursor"})))
    for limit in (1001, 1000, 0, -1, "abc", 2.7, "5", None, 2**31):
        add((f"list limit {limit!r}", _op("list", options={"prefix": "{P}L:", "limit": limit})))
    add(("list prefix 513", _op("list", options={"prefix": "p" * 513})))
    add(("list no match", _op("list", options={"prefix": "{P}nothing"})))
    add(("list options not an object", _op("list", options=5)))
    add(("list malformed cursor", _op("list", options={"prefix": "{P}L:", "cursor": "!!!notbase64"})))
    return cases


# label -> why edgekv answers differently from this Miniflare release, on purpose.
DIVERGENCES: dict[str, str] = {
    "bulk meta falsy": (
        "miniflare 4.20260426 answers a bare '' for a falsy value in bulk getWithMetadata; "
        "Miniflare HEAD (commit 1035f745, 2026-07-28) returns {value, metadata}, which edgekv "
        "follows (docs/kv-binding.md, catalogue)"
    ),
    "bulk meta falsy json": "the same bug for JSON falsy values (0, false)",
}

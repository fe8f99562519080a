"""Keys, values and metadata: every body shape real clients send (wrangler 4.86, SDK 5.9.0),
raw bytes out, percent-decoded key names, and the binding's own rules."""

from __future__ import annotations

from urllib.parse import quote

from edgekv.kv import KVNamespace
from edgekv.limits import DEFAULT_LIMITS
from tests.server.api.conftest import Api

NOW = 1_800_000_000


async def test_raw_put_then_get_bytes(api: Api) -> None:
    ns = await api.namespace()
    blob = bytes(range(256)) * 4
    response = await api.client.put(f"{api.base}/{ns}/values/bin", content=blob, headers=api.auth)
    assert response.status_code == 200 and response.json()["result"] == {}
    got = await api.client.get(f"{api.base}/{ns}/values/bin", headers=api.auth)
    assert got.status_code == 200 and got.content == blob
    assert got.headers["content-type"] == "application/octet-stream"
    assert "expiration" not in got.headers


async def test_key_names_are_percent_decoded_including_slash(api: Api) -> None:
    ns = await api.namespace()
    for key in ("sp ace/x?y", "/leading", "a%2Fb", "ünï/cødé", "trailing/", "#hash"):
        url = f"{api.base}/{ns}/values/{quote(key, safe='')}"
        assert (await api.client.put(url, content=key.encode(), headers=api.auth)).status_code == 200
        assert (await api.client.get(url, headers=api.auth)).content == key.encode()
    keys = (await api.client.get(f"{api.base}/{ns}/keys", headers=api.auth)).json()["result"]
    assert sorted(k["name"] for k in keys) == sorted(
        ["sp ace/x?y", "/leading", "a%2Fb", "ünï/cødé", "trailing/", "#hash"])
    bad = await api.client.get(f"{api.base}/{ns}/values/%FF", headers=api.auth)
    assert bad.status_code == 400


async def test_expiration_query_and_header(api: Api) -> None:
    ns = await api.namespace()
    url = f"{api.base}/{ns}/values/k"
    await api.client.put(url, params={"expiration_ttl": 120}, content=b"v", headers=api.auth)
    assert (await api.client.get(url, headers=api.auth)).headers["expiration"] == str(NOW + 120)
    # expiration_ttl wins when both are given
    await api.client.put(url, params={"expiration": NOW + 1000, "expiration_ttl": 300},
                         content=b"v", headers=api.auth)
    assert (await api.client.get(url, headers=api.auth)).headers["expiration"] == str(NOW + 300)
    await api.client.put(url, params={"expiration": NOW + 1000}, content=b"v", headers=api.auth)
    assert (await api.client.get(url, headers=api.auth)).headers["expiration"] == str(NOW + 1000)
    api.clock.advance(1000)
    missing = await api.client.get(url, headers=api.auth)
    assert missing.status_code == 404


async def test_put_validation_texts_are_the_services(api: Api) -> None:
    ns = await api.namespace()
    url = f"{api.base}/{ns}/values/k"
    cases = [
        ({"expiration_ttl": 30}, 400, "Invalid expiration_ttl of 30. Expiration TTL must be at least 60."),
        ({"expiration_ttl": 0}, 400, "Invalid expiration_ttl of 0. Please specify integer greater than 0."),
        ({"expiration": NOW}, 400, (f"Invalid expiration of {NOW}. Please specify integer greater "
                                    "than the current number of seconds since the UNIX epoch.")),
        ({"expiration": NOW + 10}, 400, (f"Invalid expiration of {NOW + 10}. Expiration times must "
                                         "be at least 60 seconds in the future.")),
        ({"expiration_ttl": "soon"}, 400, ("Invalid expiration_ttl of soon. Please specify integer "
                                           "greater than 0.")),
    ]
    for params, status, message in cases:
        response = await api.client.put(url, params=params, content=b"v", headers=api.auth)
        assert response.status_code == status, params
        assert response.json()["errors"] == [{"code": 10001, "message": message}]
    long_key = "k" * 513
    response = await api.client.put(f"{api.base}/{ns}/values/{long_key}", content=b"v", headers=api.auth)
    assert response.status_code == 414
    assert response.json()["errors"][0]["message"] == (
        "UTF-8 encoded length of 513 exceeds key length limit of 512.")
    response = await api.client.put(f"{api.base}/{ns}/values/%2E%2E", content=b"v", headers=api.auth)
    assert response.status_code == 400
    assert response.json()["errors"][0]["message"] == '".." is not allowed as a key name.'
    assert (await api.client.get(f"{api.base}/{ns}/keys", headers=api.auth)).json()["result"] == []


async def test_multipart_shapes_of_wrangler_and_the_sdk(api: Api) -> None:
    ns = await api.namespace()
    url = f"{api.base}/{ns}/values/"
    # wrangler, CLI string value: plain fields
    await api.client.put(url + "a", files={"value": (None, "text value"), "metadata": (None, '{"a":1}')},
                         headers=api.auth)
    # wrangler --path: a file part named blob
    await api.client.put(url + "b", files={"value": ("blob", b"\x00\xff", "application/octet-stream"),
                                           "metadata": (None, '{"b":2}')}, headers=api.auth)
    # SDK 5.9.0: file part named upload, metadata as application/json
    await api.client.put(url + "c", files={"value": ("upload", b"sdk", "application/octet-stream"),
                                           "metadata": (None, '{"c":[3]}', "application/json")},
                         headers=api.auth)
    # SDK without metadata: only the value part
    await api.client.put(url + "d", files={"value": ("upload", b"solo", "application/octet-stream")},
                         headers=api.auth)
    expected = {"a": (b"text value", {"a": 1}), "b": (b"\x00\xff", {"b": 2}),
                "c": (b"sdk", {"c": [3]}), "d": (b"solo", None)}
    for key, (value, metadata) in expected.items():
        assert (await api.client.get(f"{api.base}/{ns}/values/{key}", headers=api.auth)).content == value
        meta = await api.client.get(f"{api.base}/{ns}/metadata/{key}", headers=api.auth)
        assert meta.json()["result"] == metadata
    missing_value = await api.client.put(url + "e", files={"metadata": (None, "{}")}, headers=api.auth)
    assert missing_value.status_code == 400
    assert missing_value.json()["errors"][0] == {"code": 10001, "message": "Missing value field"}
    bad_meta = await api.client.put(url + "e", files={"value": (None, "v"), "metadata": (None, "{")},
                                    headers=api.auth)
    assert bad_meta.status_code == 400
    assert bad_meta.json()["errors"][0] == {"code": 10001, "message": "Invalid metadata JSON"}
    too_big = await api.client.put(url + "e", files={"value": (None, "v"),
                                                     "metadata": (None, '{"x":"' + "y" * 1100 + '"}')},
                                   headers=api.auth)
    assert too_big.status_code == 413
    assert too_big.json()["errors"][0]["message"] == "Metadata length of 1108 exceeds limit of 1024."


async def test_a_json_body_is_stored_verbatim(api: Api) -> None:
    """The real service stores a JSON body as the value (docs/rest-api.md, Endpoints)."""
    ns = await api.namespace()
    body = b'{"metadata": "{}", "value": "v"}'
    await api.client.put(f"{api.base}/{ns}/values/k", content=body,
                         headers={**api.auth, "Content-Type": "application/json"})
    assert (await api.client.get(f"{api.base}/{ns}/values/k", headers=api.auth)).content == body


async def test_missing_key_is_10009(api: Api) -> None:
    ns = await api.namespace()
    response = await api.client.get(f"{api.base}/{ns}/values/nope", headers=api.auth)
    assert response.status_code == 404
    assert response.json() == {"success": False, "errors": [{"code": 10009, "message": "get: 'key not found'"}],
                               "messages": [], "result": None}
    response = await api.client.get(f"{api.base}/{ns}/metadata/nope", headers=api.auth)
    assert response.status_code == 404 and response.json()["errors"][0]["code"] == 10009
    deleted = await api.client.delete(f"{api.base}/{ns}/values/nope", headers=api.auth)
    assert deleted.status_code == 200


async def test_delete_with_sdk_style_empty_json_body(api: Api) -> None:
    ns = await api.namespace()
    url = f"{api.base}/{ns}/values/k"
    await api.client.put(url, content=b"v", headers=api.auth)
    response = await api.client.delete(url, headers={**api.auth, "Content-Type": "application/json"})
    assert response.status_code == 200
    assert (await api.client.get(url, headers=api.auth)).status_code == 404


async def test_list_keys_pages_with_empty_cursor_at_the_end(api: Api) -> None:
    ns = await api.namespace()
    binding = KVNamespace(api.store, ns)
    for i in range(25):
        await binding.put(f"key{i:02d}", "v", metadata={"i": i} if i % 2 else None)
    url = f"{api.base}/{ns}/keys"
    first = (await api.client.get(url, params={"limit": 10, "prefix": ""}, headers=api.auth)).json()
    assert [k["name"] for k in first["result"]] == [f"key{i:02d}" for i in range(10)]
    assert first["result"][1] == {"name": "key01", "metadata": {"i": 1}}
    assert first["result"][0] == {"name": "key00"}
    assert first["result_info"]["count"] == 10 and first["result_info"]["cursor"]
    names, cursor = [], ""
    while True:
        params = {"limit": 10, **({"cursor": cursor} if cursor else {})}
        page = (await api.client.get(url, params=params, headers=api.auth)).json()
        names += [k["name"] for k in page["result"]]
        cursor = page["result_info"]["cursor"]
        if not cursor:
            break
    assert names == [f"key{i:02d}" for i in range(25)]
    prefixed = (await api.client.get(url, params={"prefix": "key1"}, headers=api.auth)).json()
    assert len(prefixed["result"]) == 10 and prefixed["result_info"]["cursor"] == ""
    too_many = await api.client.get(url, params={"limit": 1001}, headers=api.auth)
    assert too_many.status_code == 400
    assert too_many.json()["errors"][0]["message"] == (
        "Invalid key_count_limit of 1001. Please specify an integer less than 1000.")


async def test_http_and_binding_see_the_same_data(api: Api) -> None:
    ns = await api.namespace()
    binding = KVNamespace(api.store, ns)
    await api.client.put(f"{api.base}/{ns}/values/from-http", params={"expiration_ttl": 600},
                         files={"value": ("upload", b"\x01\x02", "application/octet-stream"),
                                "metadata": (None, '{"m":true}')}, headers=api.auth)
    read = await binding.getWithMetadata("from-http", "arrayBuffer")
    assert bytes(read["value"]) == b"\x01\x02" and read["metadata"] == {"m": True}
    await binding.put("from-binding", "héllo", metadata=[1, 2], expirationTtl=3600)
    got = await api.client.get(f"{api.base}/{ns}/values/from-binding", headers=api.auth)
    assert got.content == "héllo".encode() and got.headers["expiration"] == str(NOW + 3600)
    meta = await api.client.get(f"{api.base}/{ns}/metadata/from-binding", headers=api.auth)
    assert meta.json()["result"] == [1, 2]


async def test_largest_value_and_one_byte_more(api: Api) -> None:
    ns = await api.namespace()
    limit = DEFAULT_LIMITS.max_value_size_bytes
    value = b"x" * limit
    url = f"{api.base}/{ns}/values/big"
    assert (await api.client.put(url, content=value, headers=api.auth)).status_code == 200
    assert (await api.client.get(url, headers=api.auth)).content == value
    response = await api.client.put(url, content=value + b"y", headers=api.auth)
    assert response.status_code == 413
    assert response.json()["errors"][0]["message"] == f"Value length of {limit + 1} exceeds limit of {limit}."
    response = await api.client.put(url, files={"value": ("upload", value + b"y")}, headers=api.auth)
    assert response.status_code == 413
    assert (await api.client.get(url, headers=api.auth)).content == value

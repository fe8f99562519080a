"""Bulk endpoints: write (atomic, validated with the binding's rules), delete in both forms,
read with and without metadata."""

from __future__ import annotations

import base64

from tests.server.api.conftest import Api

NOW = 1_800_000_000


async def test_bulk_put_get_delete(api: Api) -> None:
    ns = await api.namespace()
    items = [{"key": "a", "value": "1"},
             {"key": "b", "value": base64.b64encode(b"\xff\x00").decode(), "base64": True},
             {"key": "c", "value": '{"j": 1}', "metadata": {"m": 1}, "expiration_ttl": 600},
             {"key": "0", "value": "zero", "expiration": NOW + 120}]
    response = await api.client.put(f"{api.base}/{ns}/bulk", json=items, headers=api.auth)
    assert response.status_code == 200
    assert response.json()["result"] == {"successful_key_count": 4, "unsuccessful_keys": []}
    assert (await api.client.get(f"{api.base}/{ns}/values/b", headers=api.auth)).content == b"\xff\x00"
    got = await api.client.post(f"{api.base}/{ns}/bulk/get", json={"keys": ["a", "c", "0", "nope"]},
                                headers=api.auth)
    assert got.json()["result"] == {"values": {"a": "1", "c": '{"j": 1}', "0": "zero", "nope": None}}
    got = await api.client.post(f"{api.base}/{ns}/bulk/get",
                                json={"keys": ["c", "nope"], "type": "json", "withMetadata": True},
                                headers=api.auth)
    assert got.json()["result"] == {"values": {
        "c": {"value": {"j": 1}, "metadata": {"m": 1}, "expiration": NOW + 600}, "nope": None}}
    # SDK form
    deleted = await api.client.post(f"{api.base}/{ns}/bulk/delete", json=["a"], headers=api.auth)
    assert deleted.json()["result"] == {"successful_key_count": 1, "unsuccessful_keys": []}
    # wrangler's legacy form
    deleted = await api.client.request("DELETE", f"{api.base}/{ns}/bulk", json=["b", "c"], headers=api.auth)
    assert deleted.status_code == 200
    keys = (await api.client.get(f"{api.base}/{ns}/keys", headers=api.auth)).json()["result"]
    assert keys == [{"name": "0", "expiration": NOW + 120}]


async def test_a_bad_item_stores_nothing_and_is_named(api: Api) -> None:
    ns = await api.namespace()
    cases = [
        ([{"key": "ok", "value": "1"}, {"key": "bad", "value": "2", "expiration_ttl": 30}], 400,
         'item 1 (key "bad"): Invalid expiration_ttl of 30. Expiration TTL must be at least 60.'),
        ([{"key": "ok", "value": "1"}, {"key": "k" * 513, "value": "2"}], 414,
         f'item 1 (key "{"k" * 513}"): UTF-8 encoded length of 513 exceeds key length limit of 512.'),
        ([{"key": "ok", "value": 5}], 400, 'item 0 (key "ok"): value must be a string'),
        ([{"value": "x"}], 400, "item 0: key must be a string"),
        ([{"key": "b", "value": "%%%", "base64": True}], 400, 'item 0 (key "b"): value is not valid base64'),
        ([{"key": "m", "value": "v", "metadata": {"x": "y" * 1100}}], 413,
         'item 0 (key "m"): Metadata length of 1108 exceeds limit of 1024.'),
    ]
    for body, status, message in cases:
        response = await api.client.put(f"{api.base}/{ns}/bulk", json=body, headers=api.auth)
        assert response.status_code == status, body
        assert response.json()["errors"] == [{"code": 10001, "message": message}]
    assert (await api.client.get(f"{api.base}/{ns}/keys", headers=api.auth)).json()["result"] == []
    for body in (b"{}", b"not json", b'[1, 2'):
        response = await api.client.put(f"{api.base}/{ns}/bulk", content=body, headers=api.auth)
        assert response.status_code == 400


async def test_bulk_limits(api: Api) -> None:
    ns = await api.namespace()
    too_many = [{"key": f"k{i}", "value": "v"} for i in range(10_001)]
    response = await api.client.put(f"{api.base}/{ns}/bulk", json=too_many, headers=api.auth)
    assert response.status_code == 400
    response = await api.client.put(f"{api.base}/{ns}/bulk", json=too_many[:10_000], headers=api.auth)
    assert response.json()["result"]["successful_key_count"] == 10_000
    response = await api.client.post(f"{api.base}/{ns}/bulk/get", json={"keys": [f"k{i}" for i in range(101)]},
                                     headers=api.auth)
    assert response.status_code == 400
    assert response.json()["errors"][0]["message"] == "You can request a maximum of 100 keys"
    api.ctx.max_body_bytes = 1000
    response = await api.client.put(f"{api.base}/{ns}/bulk", json=too_many[:100], headers=api.auth)
    assert response.status_code == 413 and response.json()["errors"][0]["code"] == 10005


async def test_bulk_get_of_a_non_json_value_as_json(api: Api) -> None:
    ns = await api.namespace()
    await api.client.put(f"{api.base}/{ns}/values/t", content=b"plain", headers=api.auth)
    response = await api.client.post(f"{api.base}/{ns}/bulk/get", json={"keys": ["t"], "type": "json"},
                                     headers=api.auth)
    assert response.status_code == 400
    assert response.json()["errors"][0]["message"] == (
        "At least one of the requested keys corresponds to a non-json value")

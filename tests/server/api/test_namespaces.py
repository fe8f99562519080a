"""Namespace endpoints (spec: docs/rest-api.md): create, list with page/per_page/order/direction,
get, rename, delete, the per-account limit."""

from __future__ import annotations

from tests.server.api.conftest import Api


async def test_create_get_rename_delete(api: Api) -> None:
    response = await api.client.post(api.base, json={"title": "first"}, headers=api.auth)
    body = response.json()
    assert response.status_code == 200
    assert body["success"] is True and body["errors"] == [] and body["messages"] == []
    created = body["result"]
    assert set(created) == {"id", "title", "supports_url_encoding"}
    assert len(created["id"]) == 32 and created["title"] == "first"
    assert created["supports_url_encoding"] is True
    one = f"{api.base}/{created['id']}"
    assert (await api.client.get(one, headers=api.auth)).json()["result"] == created
    renamed = (await api.client.put(one, json={"title": "second"}, headers=api.auth)).json()["result"]
    assert renamed == {**created, "title": "second"}
    deleted = await api.client.delete(one, headers={**api.auth, "Content-Type": "application/json"})
    assert deleted.status_code == 200 and deleted.json()["success"] is True
    missing = await api.client.get(one, headers=api.auth)
    assert missing.status_code == 404
    assert missing.json()["errors"][0]["code"] == 10013


async def test_duplicate_title_is_10014(api: Api) -> None:
    await api.namespace("taken")
    response = await api.client.post(api.base, json={"title": "taken"}, headers=api.auth)
    assert response.status_code == 400
    assert response.json()["errors"] == [
        {"code": 10014, "message": "a namespace with this account ID and title already exists"}]
    other = await api.namespace("other")
    response = await api.client.put(f"{api.base}/{other}", json={"title": "taken"}, headers=api.auth)
    assert response.status_code == 400 and response.json()["errors"][0]["code"] == 10014


async def test_bad_titles(api: Api) -> None:
    for body in (b"", b"{}", b'{"title": ""}', b'{"title": 5}', b"not json",
                 ('{"title": "' + "x" * 513 + '"}').encode()):
        response = await api.client.post(api.base, content=body, headers=api.auth)
        assert response.status_code == 400, body
        assert response.json()["errors"][0]["code"] == 10001
    assert (await api.client.get(api.base, headers=api.auth)).json()["result"] == []


async def test_paging_order_direction(api: Api) -> None:
    titles = [f"t{i:02d}" for i in range(25)]
    ids = {t: await api.namespace(t) for t in reversed(titles)}
    first = (await api.client.get(api.base, headers=api.auth)).json()
    assert first["result_info"] == {"page": 1, "per_page": 20, "count": 20, "total_count": 25}
    assert [ns["id"] for ns in first["result"]] == sorted(ids.values())[:20]  # default order: id
    by_title = (await api.client.get(api.base, params={"order": "title", "per_page": 10, "page": 3},
                                     headers=api.auth)).json()
    assert [ns["title"] for ns in by_title["result"]] == titles[20:]
    desc = (await api.client.get(api.base, params={"order": "title", "direction": "desc",
                                                   "per_page": 1000}, headers=api.auth)).json()
    assert [ns["title"] for ns in desc["result"]] == titles[::-1]
    past = (await api.client.get(api.base, params={"page": 4, "per_page": 10}, headers=api.auth)).json()
    assert past["result"] == [] and past["result_info"]["count"] == 0
    for params in ({"per_page": 0}, {"per_page": 1001}, {"page": 0}, {"order": "name"},
                   {"direction": "up"}, {"page": "x"}):
        response = await api.client.get(api.base, params=params, headers=api.auth)
        assert response.status_code == 400, params


async def test_namespace_limit_per_account(api: Api) -> None:
    api.ctx.max_namespaces_per_account = 3
    for i in range(3):
        await api.namespace(f"n{i}")
    response = await api.client.post(api.base, json={"title": "n3"}, headers=api.auth)
    assert response.status_code == 400
    assert response.json()["errors"][0]["code"] == 10026
    assert "1000" not in response.json()["errors"][0]["message"]
    assert len((await api.client.get(api.base, headers=api.auth)).json()["result"]) == 3


async def test_unknown_routes_and_methods(api: Api) -> None:
    response = await api.client.get("/client/v4/zones", headers=api.auth)
    assert response.status_code == 404
    assert response.json()["errors"] == [{"code": 7000, "message": "No route for that URI"}]
    response = await api.client.patch(api.base, headers=api.auth)
    assert response.status_code == 405 and response.json()["errors"][0]["code"] == 7001

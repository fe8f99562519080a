"""The identity endpoints wrangler and the SDK call, and the OpenAPI document."""

from __future__ import annotations

from tests.server.api.conftest import Api


async def test_memberships_and_accounts_list_the_credentials_account(api: Api) -> None:
    await api.registry.create_account("someone else")
    memberships = (await api.client.get("/client/v4/memberships", headers=api.auth)).json()
    assert [m["account"]["id"] for m in memberships["result"]] == [api.account]
    assert memberships["result"][0]["account"]["name"] == "test"
    assert memberships["result_info"]["total_count"] == 1
    accounts = (await api.client.get("/client/v4/accounts", headers=api.auth)).json()
    assert [a["id"] for a in accounts["result"]] == [api.account]
    one = await api.client.get(f"/client/v4/accounts/{api.account}", headers=api.auth)
    assert one.json()["result"]["name"] == "test"


async def test_token_verify(api: Api) -> None:
    response = await api.client.get("/client/v4/user/tokens/verify", headers=api.auth)
    body = response.json()
    assert response.status_code == 200 and body["result"]["status"] == "active"
    assert body["messages"][0]["message"] == "This API Token is valid and active"
    bad = await api.client.get("/client/v4/user/tokens/verify", headers={"Authorization": "Bearer no"})
    assert bad.status_code == 401
    assert bad.json()["errors"] == [{"code": 1000, "message": "Invalid API Token"}]


async def test_user(api: Api) -> None:
    response = await api.client.get("/client/v4/user", headers=api.auth)
    assert response.status_code == 200 and response.json()["result"]["id"] == api.account


async def test_openapi_document_lists_every_route(api: Api) -> None:
    document = (await api.client.get("/client/v4/openapi.json")).json()
    assert document["openapi"].startswith("3.")
    assert "/accounts/{account_id}/storage/kv/namespaces/{namespace_id}/values/{key_name}" in document["paths"]
    assert document["servers"] == [{"url": "/client/v4"}]
    prefixed = (await api.client.get("/cdn-cgi/edgekv/client/v4/openapi.json")).json()
    assert prefixed["servers"] == [{"url": "/cdn-cgi/edgekv/client/v4"}]


async def test_health(api: Api) -> None:
    response = await api.client.get("/cdn-cgi/edgekv/health")
    assert response.json() == {"status": "ok"}

"""Credentials: nothing without a valid one; nothing across accounts; read-only stays read-only."""

from __future__ import annotations

from tests.server.api.conftest import Api

AUTH_ERROR = {"success": False, "errors": [{"code": 10000, "message": "Authentication error"}],
              "messages": [], "result": None}


async def test_no_credential_is_refused_everywhere(api: Api) -> None:
    ns = await api.namespace()
    await api.client.put(f"{api.base}/{ns}/values/k", content=b"secret", headers=api.auth)
    for method, url in [("GET", api.base), ("GET", f"{api.base}/{ns}/values/k"),
                        ("GET", f"{api.base}/{ns}/keys"), ("PUT", f"{api.base}/{ns}/values/k"),
                        ("GET", "/client/v4/memberships")]:
        response = await api.client.request(method, url, content=b"x")
        assert response.status_code == 403, (method, url)
        assert response.json() == AUTH_ERROR


async def test_wrong_token_and_wrong_scheme_are_refused(api: Api) -> None:
    for headers in ({"Authorization": "Bearer nope"}, {"Authorization": f"Basic {api.token}"},
                    {"Authorization": f"Bearer {api.token}x"}, {"X-Auth-Key": api.token}):
        response = await api.client.get(api.base, headers=headers)
        assert response.status_code == 403 and response.json() == AUTH_ERROR


async def test_another_account_is_403_whatever_the_path(api: Api) -> None:
    other = (await api.registry.create_account("other")).account
    other_token = (await api.registry.create_token(other.id)).secret
    theirs = f"/client/v4/accounts/{other.id}/storage/kv/namespaces"
    created = await api.client.post(theirs, json={"title": "private"},
                                    headers={"Authorization": f"Bearer {other_token}"})
    other_ns = created.json()["result"]["id"]
    # Existing and missing namespaces of the other account, and a made-up account, all look
    # the same: 403/10000, so nothing tells what exists.
    for url in (theirs, f"{theirs}/{other_ns}", f"{theirs}/{other_ns}/values/k",
                f"{theirs}/{'0' * 32}/values/k", f"/client/v4/accounts/{'f' * 32}/storage/kv/namespaces",
                f"/client/v4/accounts/{other.id}"):
        response = await api.client.get(url, headers=api.auth)
        assert response.status_code == 403 and response.json() == AUTH_ERROR, url
    # Inside its own account, a missing namespace is 404/10013.
    response = await api.client.get(f"{api.base}/{'0' * 32}", headers=api.auth)
    assert response.status_code == 404
    assert response.json()["errors"] == [{"code": 10013, "message": "get namespace: 'namespace not found'"}]
    # Naming another account's namespace under one's own account finds nothing either.
    response = await api.client.get(f"{api.base}/{other_ns}", headers=api.auth)
    assert response.status_code == 404


async def test_read_only_token_cannot_write(api: Api) -> None:
    ns = await api.namespace()
    await api.client.put(f"{api.base}/{ns}/values/k", content=b"v", headers=api.auth)
    read_only = (await api.registry.create_token(api.account, read_only=True)).secret
    headers = {"Authorization": f"Bearer {read_only}"}
    assert (await api.client.get(f"{api.base}/{ns}/values/k", headers=headers)).content == b"v"
    for method, url, body in [("PUT", f"{api.base}/{ns}/values/k", b"w"),
                              ("DELETE", f"{api.base}/{ns}/values/k", b""),
                              ("PUT", f"{api.base}/{ns}/bulk", b"[]"),
                              ("POST", f"{api.base}/{ns}/bulk/delete", b"[]"),
                              ("DELETE", f"{api.base}/{ns}", b""),
                              ("POST", api.base, b'{"title": "x"}')]:
        response = await api.client.request(method, url, content=body, headers=headers)
        assert response.status_code == 403 and response.json() == AUTH_ERROR, (method, url)
    assert (await api.client.get(f"{api.base}/{ns}/values/k", headers=api.auth)).content == b"v"


async def test_namespace_scoped_token(api: Api) -> None:
    allowed, hidden = await api.namespace("allowed"), await api.namespace("hidden")
    scoped = (await api.registry.create_token(api.account, namespaces=(allowed,))).secret
    headers = {"Authorization": f"Bearer {scoped}"}
    listed = (await api.client.get(api.base, headers=headers)).json()["result"]
    assert [ns["id"] for ns in listed] == [allowed]
    assert (await api.client.put(f"{api.base}/{allowed}/values/k", content=b"1",
                                 headers=headers)).status_code == 200
    response = await api.client.put(f"{api.base}/{hidden}/values/k", content=b"1", headers=headers)
    assert response.status_code == 403 and response.json() == AUTH_ERROR


async def test_revocation_applies_to_the_next_request(api: Api) -> None:
    created = await api.registry.create_token(api.account)
    headers = {"Authorization": f"Bearer {created.secret}"}
    assert (await api.client.get(api.base, headers=headers)).status_code == 200
    await api.registry.revoke_token(created.token.id)
    assert (await api.client.get(api.base, headers=headers)).status_code == 403


async def test_expired_token_is_refused(api: Api) -> None:
    created = await api.registry.create_token(api.account, expires_in_seconds=3600)
    headers = {"Authorization": f"Bearer {created.secret}"}
    assert (await api.client.get(api.base, headers=headers)).status_code == 200
    api.clock.advance(3600)
    assert (await api.client.get(api.base, headers=headers)).status_code == 403


async def test_global_api_key(api: Api) -> None:
    created = await api.registry.create_account(email="ada@example.com")
    headers = {"X-Auth-Email": "ada@example.com", "X-Auth-Key": str(created.api_key)}
    url = f"/client/v4/accounts/{created.account.id}/storage/kv/namespaces"
    assert (await api.client.post(url, json={"title": "t"}, headers=headers)).status_code == 200
    headers["X-Auth-Key"] = "0" * 37
    assert (await api.client.get(url, headers=headers)).status_code == 403


async def test_user_without_a_credential_is_9109(api: Api) -> None:
    response = await api.client.get("/client/v4/user", headers={"Authorization": "Bearer nope"})
    assert response.status_code == 403
    assert response.json()["errors"] == [{"code": 9109, "message": "Unauthorized to access requested resource"}]

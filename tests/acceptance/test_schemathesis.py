"""Property-based test of the live API against its own OpenAPI document (schemathesis).

schemathesis reads ``/client/v4/openapi.json`` from the running server and, for every
operation, generates requests that fit the document (positive) and requests that do not
(negative), sends them with a real token and checks each reply: never a 5xx, a status code
the document lists, the content type it lists, a body that matches the documented schema.

Most cases go to the token's own account and to a real namespace (random ids would only
ever meet the 403 that guards other accounts); a third keep the generated ids. Examples per
operation are few (``MAX_EXAMPLES``, deterministic) to keep the run near 30 s.
"""

from __future__ import annotations

import os
from typing import Any

import pytest

from edgekv.server.api.openapi import openapi_document
from tests.acceptance.conftest import LiveServer, missing

try:
    import schemathesis
    from hypothesis import HealthCheck, given, settings
    from hypothesis import strategies as st
    from schemathesis import GenerationMode
    from schemathesis import checks as st_checks
except ImportError:  # pragma: no cover - the test extra installs it
    schemathesis = None  # type: ignore[assignment]

MAX_EXAMPLES = int(os.environ.get("EDGEKV_SCHEMATHESIS_EXAMPLES", "30"))
ROOT = "/client/v4"
OPERATIONS = [(method.upper(), path) for path, item in openapi_document(ROOT)["paths"].items()
              for method in item if method != "parameters"]


@pytest.fixture(scope="module")
def api_schema(live_server: LiveServer) -> Any:
    if schemathesis is None:
        missing("schemathesis is not installed (pip install -e '.[test]')")
    return schemathesis.openapi.from_url(f"{live_server.base_url}/openapi.json")


@pytest.fixture(scope="module")
def target_namespace(live_server: LiveServer) -> str:
    response = live_server.api("POST", live_server.ns_path(), json={"title": "schemathesis"})
    assert response.status_code == 200, response.text
    ns = str(response.json()["result"]["id"])
    live_server.api("PUT", live_server.ns_path(ns) + "/values/known", content=b"value")
    return ns


def test_the_served_document_is_the_one_tested(live_server: LiveServer) -> None:
    response = live_server.api("GET", "/openapi.json")
    assert response.status_code == 200
    assert response.json() == openapi_document(ROOT)


@pytest.mark.parametrize(("method", "path"), OPERATIONS, ids=[f"{m} {p}" for m, p in OPERATIONS])
def test_operation_conforms_to_the_document(method: str, path: str, api_schema: Any,
                                            live_server: LiveServer,
                                            target_namespace: str) -> None:
    operation = api_schema[path][method]
    fixed: dict[str, Any] = {}
    names = {p.name for p in operation.path_parameters}
    if "account_id" in names:
        fixed["account_id"] = live_server.account
    if "namespace_id" in names:
        # Deleting the shared namespace would end the other cases' fun: DELETE gets its own.
        fixed["namespace_id"] = (target_namespace if method != "DELETE" or path.endswith(
            ("/values/{key_name}", "/bulk")) else _fresh_namespace(live_server))
    strategies = [operation.as_strategy(GenerationMode.POSITIVE, path_parameters=fixed or None),
                  operation.as_strategy(GenerationMode.NEGATIVE, path_parameters=fixed or None)]
    if fixed:
        strategies.append(operation.as_strategy(GenerationMode.POSITIVE))
    checks = [st_checks.not_a_server_error, st_checks.status_code_conformance,
              st_checks.content_type_conformance, st_checks.response_schema_conformance]
    headers = {"Authorization": f"Bearer {live_server.token}"}

    @settings(max_examples=MAX_EXAMPLES, deadline=None, database=None, derandomize=True,
              suppress_health_check=list(HealthCheck))
    @given(case=st.one_of(strategies))
    def check(case: Any) -> None:
        response = case.call(headers=headers, timeout=30)
        case.validate_response(response, checks=checks, headers=headers)

    check()


def _fresh_namespace(live_server: LiveServer) -> str:
    import uuid

    response = live_server.api("POST", live_server.ns_path(), json={"title": uuid.uuid4().hex})
    return str(response.json()["result"]["id"])


@pytest.mark.parametrize("suffix", ["/keys?prefix=", "/values/", "/metadata/"])
def test_an_over_long_key_or_prefix_gets_a_documented_414(suffix: str, live_server: LiveServer,
                                                          target_namespace: str) -> None:
    """Found by schemathesis: a prefix (or key) over 512 UTF-8 bytes is the binding's 414,
    which the document had not listed for key listing and value reads."""
    response = live_server.api("GET", live_server.ns_path(target_namespace) + suffix + "é" * 300)
    assert response.status_code == 414
    assert response.json()["errors"] == [
        {"code": 10001, "message": "UTF-8 encoded length of 600 exceeds key length limit of 512."}]
    template = "/accounts/{account_id}/storage/kv/namespaces/{namespace_id}" + (
        "/keys" if suffix.startswith("/keys") else suffix + "{key_name}")
    assert "414" in openapi_document(ROOT)["paths"][template]["get"]["responses"]

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

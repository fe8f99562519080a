"""The OpenAPI 3.0 document of what the API serves (``GET <root>/openapi.json``)."""

from __future__ import annotations

import copy
from typing import Any

__all__ = ["openapi_document"]

_ID = {"type": "string", "maxLength": 32, "minLength": 1}
_ERROR = {"type": "object", "required": ["code", "message"],
          "properties": {"code": {"type": "integer", "minimum": 1000}, "message": {"type": "string"}}}


def _envelope(result: dict[str, Any], info: dict[str, Any] | None = None) -> dict[str, Any]:
    properties: dict[str, Any] = {
        "success": {"type": "boolean"},
        "errors": {"type": "array", "items": _ERROR},
        "messages": {"type": "array", "items": {"type": "object"}},
        "result": result,
    }
    if info is not None:
        properties["result_info"] = info
    return {"type": "object", "required": ["success", "errors", "messages", "result"],
            "properties": properties}


_FAILURE = _envelope({"nullable": True})
_NAMESPACE = {"type": "object", "required": ["id", "title"],
              "properties": {"id": {"type": "string"}, "title": {"type": "string"},
                             "supports_url_encoding": {"type": "boolean"}}}
_KEY = {"type": "object", "required": ["name"],
        "properties": {"name": {"type": "string"}, "expiration": {"type": "integer"},
                       "metadata": {}}}
_BULK_RESULT = {"type": "object", "properties": {
    "successful_key_count": {"type": "integer"},
    "unsuccessful_keys": {"type": "array", "items": {"type": "string"}}}}
_PAGE_INFO = {"type": "object", "properties": {
    "page": {"type": "integer"}, "per_page": {"type": "integer"},
    "count": {"type": "integer"}, "total_count": {"type": "integer"}}}


def _json_body(schema: dict[str, Any]) -> dict[str, Any]:
    return {"required": True, "content": {"application/json": {"schema": schema}}}


def _responses(ok: dict[str, Any], *errors: int) -> dict[str, Any]:
    responses: dict[str, Any] = {"200": {"description": "Success",
                                         "content": {"application/json": {"schema": ok}}}}
    for status in (400, 403, *errors):
        responses[str(status)] = {"description": "Failure",
                                  "content": {"application/json": {"schema": _FAILURE}}}
    return responses


def _path_params(*names: str) -> list[dict[str, Any]]:
    schemas = {"account_id": _ID, "namespace_id": _ID,
               "key_name": {"type": "string", "minLength": 1, "maxLength": 512}}
    return [{"name": n, "in": "path", "required": True, "schema": schemas[n]} for n in names]


def _query(name: str, schema: dict[str, Any]) -> dict[str, Any]:
    return {"name": name, "in": "query", "required": False, "schema": schema}


def _paths() -> dict[str, Any]:
    ns_list = "/accounts/{account_id}/storage/kv/namespaces"
    ns_one = ns_list + "/{namespace_id}"
    title_body = _json_body({"type": "object", "required": ["title"],
                             "properties": {"title": {"type": "string", "minLength": 1, "maxLength": 512}}})
    bulk_item = {"type": "object", "required": ["key", "value"], "properties": {
        "key": {"type": "string", "minLength": 1, "maxLength": 512}, "value": {"type": "string"},
        "base64": {"type": "boolean"}, "expiration": {"type": "integer"},
        "expiration_ttl": {"type": "integer"}, "metadata": {"type": "object"}}}
    return {
        ns_list: {
            "parameters": _path_params("account_id"),
            "get": {"operationId": "listNamespaces", "summary": "List namespaces",
                    "parameters": [_query("page", {"type": "integer", "minimum": 1}),
                                   _query("per_page", {"type": "integer", "minimum": 1, "maximum": 1000}),
                                   _query("order", {"type": "string", "enum": ["id", "title"]}),
                                   _query("direction", {"type": "string", "enum": ["asc", "desc"]})],
                    "responses": _responses(_envelope({"type": "array", "items": _NAMESPACE}, _PAGE_INFO))},
            "post": {"operationId": "createNamespace", "summary": "Create a namespace",
                     "requestBody": title_body, "responses": _responses(_envelope(_NAMESPACE))},
        },
        ns_one: {
            "parameters": _path_params("account_id", "namespace_id"),
            "get": {"operationId": "getNamespace", "responses": _responses(_envelope(_NAMESPACE), 404)},
            "put": {"operationId": "renameNamespace", "requestBody": title_body,
                    "responses": _responses(_envelope(_NAMESPACE), 404)},
            "delete": {"operationId": "deleteNamespace",
                       "responses": _responses(_envelope({"type": "object", "nullable": True}), 404)},
        },
        ns_one + "/keys": {
            "parameters": _path_params("account_id", "namespace_id"),
            "get": {"operationId": "listKeys",
                    "parameters": [_query("prefix", {"type": "string", "maxLength": 512}),
                                   _query("limit", {"type": "integer", "minimum": 10, "maximum": 1000}),
                                   _query("cursor", {"type": "string"})],
                    "responses": _responses(_envelope({"type": "array", "items": _KEY}, {
                        "type": "object", "properties": {"count": {"type": "integer"},
                                                         "cursor": {"type": "string"}}}), 404, 414)},
        },
        ns_one + "/values/{key_name}": {
            "parameters": _path_params("account_id", "namespace_id", "key_name"),
            "get": {"operationId": "getValue", "responses": {
                "200": {"description": "The raw value; header `expiration` when it expires",
                        "content": {"application/octet-stream": {"schema": {"type": "string",
                                                                             "format": "binary"}}}},
                **{str(s): {"description": "Failure",
                            "content": {"application/json": {"schema": _FAILURE}}}
                   for s in (400, 403, 404, 414)}}},
            "put": {"operationId": "putValue",
                    "parameters": [_query("expiration", {"type": "integer"}),
                                   _query("expiration_ttl", {"type": "integer"})],
                    "requestBody": {"required": True, "content": {
                        "application/octet-stream": {"schema": {"type": "string", "format": "binary"}},
                        "multipart/form-data": {"schema": {"type": "object", "required": ["value"],
                                                           "properties": {"value": {"type": "string"},
                                                                          "metadata": {"type": "string"}}}}}},
                    "responses": _responses(_envelope({"type": "object", "nullable": True}), 404, 413, 414)},
            "delete": {"operationId": "deleteValue",
                       "responses": _responses(_envelope({"type": "object", "nullable": True}), 404, 414)},
        },
        ns_one + "/metadata/{key_name}": {
            "parameters": _path_params("account_id", "namespace_id", "key_name"),
            "get": {"operationId": "getMetadata", "responses": _responses(_envelope({}), 404, 414)},
        },
        ns_one + "/bulk": {
            "parameters": _path_params("account_id", "namespace_id"),
            "put": {"operationId": "bulkPut",
                    "requestBody": _json_body({"type": "array", "maxItems": 10000, "items": bulk_item}),
                    "responses": _responses(_envelope(_BULK_RESULT), 404, 413, 414)},
            "delete": {"operationId": "bulkDeleteLegacy",
                       "requestBody": _json_body({"type": "array", "maxItems": 10000,
                                                  "items": {"type": "string"}}),
                       "responses": _responses(_envelope(_BULK_RESULT), 404, 413)},
        },
        ns_one + "/bulk/delete": {
            "parameters": _path_params("account_id", "namespace_id"),
            "post": {"operationId": "bulkDelete",
                     "requestBody": _json_body({"type": "array", "maxItems": 10000,
                                                "items": {"type": "string"}}),
                     "responses": _responses(_envelope(_BULK_RESULT), 404, 413)},
        },
        ns_one + "/bulk/get": {
            "parameters": _path_params("account_id", "namespace_id"),
            "post": {"operationId": "bulkGet",
                     "requestBody": _json_body({"type": "object", "required": ["keys"], "properties": {
                         "keys": {"type": "array", "maxItems": 100, "items": {"type": "string"}},
                         "type": {"type": "string", "enum": ["text", "json"]},
                         "withMetadata": {"type": "boolean"}}}),
                     "responses": _responses(_envelope({"type": "object", "properties": {
                         "values": {"type": "object"}}}), 404, 413, 414)},
        },
        "/accounts": {"get": {"operationId": "listAccounts",
                              "responses": _responses(_envelope({"type": "array"}, _PAGE_INFO))}},
        "/accounts/{account_id}": {"parameters": _path_params("account_id"),
                                   "get": {"operationId": "getAccount",
                                           "responses": _responses(_envelope({"type": "object"}), 404)}},
        "/memberships": {"get": {"operationId": "listMemberships",
                                 "responses": _responses(_envelope({"type": "array"}, _PAGE_INFO))}},
        "/user": {"get": {"operationId": "getUser", "responses": _responses(_envelope({"type": "object"}))}},
        "/user/tokens/verify": {"get": {"operationId": "verifyToken",
                                        "responses": {**_responses(_envelope({"type": "object"})),
                                                      "401": {"description": "Invalid token", "content": {
                                                          "application/json": {"schema": _FAILURE}}}}}},
    }


_DOCUMENT: dict[str, Any] = {
    "openapi": "3.0.3",
    "info": {"title": "edgekv: Cloudflare v4 Workers KV API", "version": "4",
             "description": "The subset of Cloudflare's v4 API that edgekv serves: Workers KV "
                            "namespaces, keys, values, metadata and bulk operations, plus the "
                            "identity endpoints wrangler and the SDK call."},
    "components": {"securitySchemes": {
        "bearer": {"type": "http", "scheme": "bearer"},
        "email": {"type": "apiKey", "in": "header", "name": "X-Auth-Email"},
        "key": {"type": "apiKey", "in": "header", "name": "X-Auth-Key"}}},
    "security": [{"bearer": []}, {"email": [], "key": []}],
    "paths": _paths(),
}


def openapi_document(root: str) -> dict[str, Any]:
    """The document, with ``root`` as the server URL."""
    document = copy.deepcopy(_DOCUMENT)
    document["servers"] = [{"url": root or "/"}]
    return document

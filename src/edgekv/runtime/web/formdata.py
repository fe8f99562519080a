"""``FormData`` plus its two wire formats (``multipart/form-data`` and urlencoded).

``FormData`` follows the SDK: a ``MutableMapping`` whose ``[key]`` is the first value,
``get_all`` every value, ``append`` adds, ``[key] = v`` replaces. Values are ``str`` or
``Blob``/``File``; a ``Blob`` appended to a form becomes a ``File`` named ``"blob"`` as in
JavaScript.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterator, MutableMapping
from typing import Any, TypeAlias
from urllib.parse import parse_qsl

from edgekv.runtime.web.blob import Blob, File

__all__ = ["FormData", "FormDataValue", "encode_multipart", "parse_form"]

FormDataValue: TypeAlias = "str | Blob | File"


def _coerce(value: Any, filename: str | None = None) -> str | File:
    if isinstance(value, File) and filename is None:
        return value
    if isinstance(value, Blob):
        return File(value, filename or "blob", value.content_type)
    if isinstance(value, list):
        raise TypeError("Expected single item in arguments to FormData.__setitem__")
    return str(value)


class FormData(MutableMapping[str, Any]):
    """Ordered multi-map of form fields (see module docstring)."""

    def __init__(self, form_data: FormData | dict[str, Any] | None = None) -> None:
        """Start empty, or from a dict / another ``FormData``; other types raise ``TypeError``."""
        self._entries: list[tuple[str, str | File]] = []
        if not form_data:
            return
        if isinstance(form_data, FormData):
            self._entries = list(form_data._entries)
        elif isinstance(form_data, dict):
            for key, value in form_data.items():
                self.append(key, value)
        else:
            raise TypeError("Expected form_data to be a dict or an instance of FormData")

    def __getitem__(self, key: str) -> Any:
        for k, v in self._entries:
            if k == key:
                return v
        # JavaScript's FormData.get returns null, which the SDK hands back as-is.
        return None

    def get(self, key: str, default: Any = None) -> Any:  # type: ignore[override]
        value = self[key]
        return default if value is None else value

    def __setitem__(self, key: str, value: Any) -> None:
        coerced = _coerce(value)
        out: list[tuple[str, str | File]] = []
        placed = False
        for k, v in self._entries:
            if k == key:
                if not placed:
                    out.append((key, coerced))
                    placed = True
            else:
                out.append((k, v))
        if not placed:
            out.append((key, coerced))
        self._entries = out

    set = __setitem__

    def append(self, key: str, value: Any, filename: str | None = None) -> None:
        """Add ``value`` under ``key`` (``filename`` names a ``Blob`` value)."""
        self._entries.append((str(key), _coerce(value, filename)))

    def delete(self, key: str) -> None:
        self._entries = [(k, v) for k, v in self._entries if k != key]

    def __delitem__(self, key: str) -> None:
        self.delete(key)

    def __contains__(self, key: object) -> bool:
        return any(k == key for k, _ in self._entries)

    has = __contains__

    def get_all(self, key: str) -> list[Any]:
        return [v for k, v in self._entries if k == key]

    getAll = get_all

    def keys(self) -> Iterator[str]:  # type: ignore[override]
        """Keys in insertion order, once per entry (as JavaScript's ``FormData.keys``)."""
        return (k for k, _ in self._entries)

    def values(self) -> Iterator[Any]:  # type: ignore[override]
        return (v for _, v in self._entries)

    def items(self) -> Iterator[tuple[str, Any]]:  # type: ignore[override]
        return iter(list(self._entries))

    entries = items

    def __iter__(self) -> Iterator[str]:
        return self.keys()

    def __len__(self) -> int:
        return len(self._entries)

    @property
    def js_object(self) -> FormData:
        """On CPython the Python object is its own JavaScript-side counterpart."""
        return self

    def __repr__(self) -> str:
        return f"FormData({self._entries!r})"


def _quote_param(value: str) -> str:
    # Browsers percent-encode '"', CR and LF in multipart names (WHATWG HTML spec).
    return value.replace('"', "%22").replace("\r", "%0D").replace("\n", "%0A")


def encode_multipart(form: FormData) -> tuple[bytes, str]:
    """Serialise ``form`` as ``multipart/form-data``; return ``(body, content_type)``."""
    boundary = "----edgekvFormBoundary" + secrets.token_hex(12)
    chunks: list[bytes] = []
    for key, value in form.items():
        disposition = f'form-data; name="{_quote_param(key)}"'
        if isinstance(value, File):
            disposition += f'; filename="{_quote_param(value.name)}"'
            ctype = value.content_type or "application/octet-stream"
            head = f"--{boundary}\r\nContent-Disposition: {disposition}\r\n"
            head += f"Content-Type: {ctype}\r\n\r\n"
            chunks += [head.encode("utf-8"), value.to_bytes(), b"\r\n"]
        else:
            head = f"--{boundary}\r\nContent-Disposition: {disposition}\r\n\r\n"
            chunks += [head.encode("utf-8"), str(value).encode("utf-8"), b"\r\n"]
    chunks.append(f"--{boundary}--\r\n".encode())
    return b"".join(chunks), f"multipart/form-data; boundary={boundary}"


def _params(header_value: str) -> tuple[str, dict[str, str]]:
    """Split ``'type; a="b"; c=d'`` into ``("type", {"a": "b", "c": "d"})``."""
    main, _, rest = header_value.partition(";")
    params: dict[str, str] = {}
    while rest:
        part, _, rest = _split_param(rest)
        name, eq, value = part.strip().partition("=")
        if eq:
            value = value.strip()
            if len(value) >= 2 and value[0] == value[-1] == '"':
                value = value[1:-1].replace('\\"', '"')
            params[name.strip().lower()] = value
    return main.strip().lower(), params


def _split_param(text: str) -> tuple[str, str, str]:
    in_quotes = False
    for i, ch in enumerate(text):
        if ch == '"':
            in_quotes = not in_quotes
        elif ch == ";" and not in_quotes:
            return text[:i], ";", text[i + 1 :]
    return text, "", ""


def _parse_multipart(body: bytes, boundary: str) -> FormData:
    form = FormData()
    delimiter = b"--" + boundary.encode("latin-1")
    sections = body.split(delimiter)
    if len(sections) < 2:
        raise TypeError("Failed to parse body as FormData.")
    for section in sections[1:]:
        if section.startswith(b"--"):
            break
        if section.startswith(b"\r\n"):
            section = section[2:]
        head, sep, content = section.partition(b"\r\n\r\n")
        if not sep:
            raise TypeError("Failed to parse body as FormData.")
        if content.endswith(b"\r\n"):
            content = content[:-2]
        disposition: dict[str, str] = {}
        ctype = ""
        for line in head.decode("utf-8", errors="replace").split("\r\n"):
            name, _, value = line.partition(":")
            if name.strip().lower() == "content-disposition":
                disposition = _params(value)[1]
            elif name.strip().lower() == "content-type":
                ctype = value.strip()
        field = disposition.get("name")
        if field is None:
            raise TypeError("Failed to parse body as FormData.")
        if "filename" in disposition:
            form.append(field, File(content, disposition["filename"], ctype))
        else:
            form.append(field, content.decode("utf-8", errors="replace"))
    return form


def parse_form(body: bytes, content_type: str | None) -> FormData:
    """Decode a request/response body into ``FormData``.

    Raises ``TypeError`` (JavaScript's error class for ``formData()``) when the content type is
    neither ``multipart/form-data`` (with a boundary) nor urlencoded, or the body is malformed.
    """
    mime, params = _params(content_type or "")
    if mime == "multipart/form-data" and params.get("boundary"):
        return _parse_multipart(body, params["boundary"])
    if mime == "application/x-www-form-urlencoded":
        form = FormData()
        for key, value in parse_qsl(body.decode("utf-8", errors="replace"), keep_blank_values=True):
            form.append(key, value)
        return form
    raise TypeError(
        'Parsing a Body as FormData requires a Content-Type header with a value of '
        '"multipart/form-data" or "application/x-www-form-urlencoded".'
    )

"""``multipart/form-data`` bodies of value writes, parsed with python-multipart.

Real clients send the value as a plain field (wrangler, a CLI string), as a file part
(wrangler ``--path``: ``filename="blob"``; the Python SDK: ``filename="upload"``), and the
metadata as a plain field or a part typed ``application/json``. All are accepted; only the
part *names* matter.
"""

from __future__ import annotations

from python_multipart.multipart import MultipartParser, parse_options_header

from edgekv.errors import EdgeKVError

__all__ = ["MultipartError", "boundary_of", "parse_form"]


class MultipartError(EdgeKVError, ValueError):
    """The body is not valid multipart/form-data."""


def boundary_of(content_type: str) -> bytes | None:
    """The boundary of a ``multipart/form-data`` content type, or ``None`` for other types."""
    kind, params = parse_options_header(content_type)
    if kind != b"multipart/form-data":
        return None
    boundary = params.get(b"boundary")
    if not boundary:
        raise MultipartError("multipart/form-data without a boundary")
    return boundary


def parse_form(body: bytes, boundary: bytes) -> dict[str, bytearray]:
    """The parts of ``body`` by name (the first part of each name wins). Raises
    ``MultipartError``."""
    parts: dict[str, bytearray] = {}
    current: dict[str, object] = {}
    header_field = bytearray()
    header_value = bytearray()
    headers: dict[bytes, bytes] = {}

    def on_part_begin() -> None:
        headers.clear()
        current["data"] = bytearray()

    def on_header_field(data: bytes, start: int, end: int) -> None:
        header_field.extend(data[start:end])

    def on_header_value(data: bytes, start: int, end: int) -> None:
        header_value.extend(data[start:end])

    def on_header_end() -> None:
        headers[bytes(header_field).lower()] = bytes(header_value)
        header_field.clear()
        header_value.clear()

    def on_part_data(data: bytes, start: int, end: int) -> None:
        buffer = current["data"]
        assert isinstance(buffer, bytearray)
        buffer.extend(data[start:end])

    def on_part_end() -> None:
        disposition = headers.get(b"content-disposition", b"")
        _, params = parse_options_header(disposition)
        name = params.get(b"name")
        if name is None:
            return
        key = name.decode("utf-8", "replace")
        buffer = current["data"]
        assert isinstance(buffer, bytearray)
        parts.setdefault(key, buffer)

    parser = MultipartParser(boundary, {
        "on_part_begin": on_part_begin,
        "on_part_data": on_part_data,
        "on_part_end": on_part_end,
        "on_header_field": on_header_field,
        "on_header_value": on_header_value,
        "on_header_end": on_header_end,
    })
    try:
        parser.write(body)
        parser.finalize()
    except ValueError as exc:  # python-multipart's errors (FormParserError and its
        # subclasses) are ValueErrors, and so is a UnicodeError from a header's encoding
        raise MultipartError(f"malformed multipart/form-data body: {exc}") from None
    return parts

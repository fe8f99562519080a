"""Blob and File."""

from __future__ import annotations

import pytest

from edgekv.runtime.web.blob import Blob, File


async def test_blob_joins_parts_and_keeps_type() -> None:
    blob = Blob(["héllo ", b"world", Blob(b"!")], "Text/Plain")
    assert blob.size == len("héllo world!".encode())
    assert blob.content_type == "text/plain"
    assert await blob.text() == "héllo world!"
    assert await blob.bytes() == "héllo world!".encode()
    assert await blob.slice(-6).text() == "world!"


def test_single_blob_part_inherits_type() -> None:
    assert Blob(Blob(b"x", "image/png")).content_type == "image/png"


def test_unsupported_part_raises_typeerror() -> None:
    with pytest.raises(TypeError):
        Blob([object()])


def test_file_has_name_and_last_modified() -> None:
    f = File(b"data", "a.txt", "text/plain", last_modified=1234)
    assert (f.name, f.last_modified, f.size, f.content_type) == ("a.txt", 1234, 4, "text/plain")
    assert isinstance(f, Blob)
    assert File(f, "b.txt").last_modified == 1234

"""FormData semantics and the multipart / urlencoded wire formats."""

from __future__ import annotations

import pytest

from edgekv.runtime.web.blob import Blob, File
from edgekv.runtime.web.formdata import FormData, encode_multipart, parse_form


def test_mapping_semantics() -> None:
    form = FormData({"a": "1"})
    form.append("a", "2")
    form.append("b", 3)
    assert form["a"] == "1" and form.get_all("a") == ["1", "2"]
    assert form["b"] == "3" and form["missing"] is None
    assert list(form.keys()) == ["a", "a", "b"] and len(form) == 3
    form["a"] = "x"
    assert form.get_all("a") == ["x"]
    del form["b"]
    assert "b" not in form
    with pytest.raises(TypeError, match="Expected single item"):
        form["c"] = ["1", "2"]
    with pytest.raises(TypeError):
        FormData("nope")  # type: ignore[arg-type]


def test_blob_values_become_files() -> None:
    form = FormData()
    form.append("f", Blob(b"xyz", "text/plain"))
    form.append("g", Blob(b"abc"), "g.bin")
    assert isinstance(form["f"], File) and form["f"].name == "blob"
    assert form["g"].name == "g.bin"


def test_multipart_round_trip() -> None:
    form = FormData()
    form.append("name", 'va"lue')
    form.append("upload", File(b"\x00\x01binary", "a.bin", "application/octet-stream"))
    body, ctype = encode_multipart(form)
    assert ctype.startswith("multipart/form-data; boundary=")
    parsed = parse_form(body, ctype)
    assert parsed["name"] == 'va"lue'
    upload = parsed["upload"]
    assert isinstance(upload, File) and upload.name == "a.bin"
    assert upload._data == b"\x00\x01binary"


def test_urlencoded() -> None:
    parsed = parse_form(b"a=1&b=h%C3%A9&a=2&e=", "application/x-www-form-urlencoded")
    assert parsed.get_all("a") == ["1", "2"] and parsed["b"] == "hé" and parsed["e"] == ""


def test_other_content_type_raises_typeerror() -> None:
    with pytest.raises(TypeError, match="multipart/form-data"):
        parse_form(b"{}", "application/json")

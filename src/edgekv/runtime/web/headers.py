"""``Headers``: a case-insensitive, multi-valued HTTP header collection.

One class serves three audiences, because Worker code written for different eras of the
Cloudflare SDK reads headers in three ways:

* ``workers.Request.headers`` / ``workers.Response.headers`` are ``http.client.HTTPMessage``
  objects on Cloudflare: ``headers["x"]`` and ``headers.get("x")`` return ``None`` when absent,
  ``get_all("set-cookie")`` lists every value, ``keys()``/``items()`` keep duplicates.
* JavaScript ``Headers`` (``js.Headers.new(...)``): ``get``/``has``/``set``/``append``/
  ``delete``/``getSetCookie``/``entries``.
* ASGI servers: ``raw()`` gives the ``list[tuple[bytes, bytes]]`` the wire wants.

Names are stored lowercased, as JavaScript's ``Headers`` iterates them (so Cloudflare's
``HTTPMessage`` keys are lowercase too). ``get`` joins repeated values with ``", "`` (the
JavaScript/RFC 9110 combination Cloudflare applies before building the ``HTTPMessage``), except
``set-cookie``, whose values never combine: ``get`` returns the first, ``get_all`` all of them.

Construction from ASGI is lazy: the byte pairs are decoded only when first read, so a request
whose handler never looks at its headers pays nothing for them.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from typing import Any, TypeAlias

__all__ = ["Headers", "HeadersInit"]

HeadersInit: TypeAlias = (
    "Headers | Mapping[str, str] | Iterable[tuple[str, str]] | Iterable[list[str]] | None"
)

_SET_COOKIE = "set-cookie"


def _pairs_from_init(init: Any) -> list[tuple[str, str]]:
    """Normalise every accepted ``init`` shape to lowercase ``(name, value)`` pairs.

    Raises ``TypeError`` (the SDK's text) for anything that is not headers-like.
    """
    if init is None:
        return []
    if isinstance(init, Headers):
        return list(init._pairs())
    items: Iterable[Any]
    if isinstance(init, Mapping):
        items = init.items()
    elif hasattr(init, "items") and callable(init.items):
        items = init.items()  # http.client.HTTPMessage and other dict-likes
    elif isinstance(init, str | bytes) or not isinstance(init, Iterable):
        raise TypeError("Received unexpected type for headers argument")
    else:
        items = init
    pairs: list[tuple[str, str]] = []
    for item in items:
        if len(item) != 2:
            raise TypeError("Received unexpected type for headers argument")
        name, value = item
        pairs.append((_name(name), _value(value)))
    return pairs


def _name(name: Any) -> str:
    if isinstance(name, bytes):
        name = name.decode("latin-1")
    return str(name).lower()


def _value(value: Any) -> str:
    if isinstance(value, bytes):
        value = value.decode("latin-1")
    # JavaScript's Headers trims leading/trailing HTTP whitespace from values.
    return str(value).strip(" \t\r\n")


class Headers:
    """Case-insensitive multi-map of HTTP headers (see the module docstring for the contract)."""

    __slots__ = ("_list", "_raw")

    def __init__(self, init: Any = None) -> None:
        """Build from a dict, a list of pairs, another ``Headers`` or an ``HTTPMessage``.

        Raises ``TypeError`` for other types, as the Cloudflare SDK does.
        """
        self._raw: list[tuple[bytes, bytes]] | None = None
        self._list: list[tuple[str, str]] | None = _pairs_from_init(init)

    @classmethod
    def from_raw(cls, raw: list[tuple[bytes, bytes]]) -> Headers:
        """Wrap ASGI header byte pairs (names already lowercase) without decoding them yet."""
        self = cls.__new__(cls)
        self._raw = raw
        self._list = None
        return self

    @classmethod
    def from_pairs(cls, pairs: Iterable[tuple[str, str]] | None) -> Headers:
        """Trusted fast constructor: ``pairs`` already lowercase and trimmed (not checked)."""
        self = cls.__new__(cls)
        self._raw = None
        self._list = list(pairs) if pairs is not None else []
        return self

    # -- internal ----------------------------------------------------------------------------

    def _pairs(self) -> list[tuple[str, str]]:
        pairs = self._list
        if pairs is None:
            raw = self._raw or []
            # ASGI promises lowercase names; latin-1 round-trips any byte, as HTTP requires.
            pairs = [(k.decode("latin-1").lower(), v.decode("latin-1")) for k, v in raw]
            self._list = pairs
            self._raw = None
        return pairs

    # -- HTTPMessage / Mapping-style reading -------------------------------------------------

    def get(self, name: str, default: Any = None) -> Any:
        """Value of ``name`` (repeats joined by ``", "``; first ``set-cookie``), else ``default``."""
        key = name.lower()
        found = [v for k, v in self._pairs() if k == key]
        if not found:
            return default
        if len(found) == 1 or key == _SET_COOKIE:
            return found[0]
        return ", ".join(found)

    def __getitem__(self, name: str) -> str | None:
        """Like ``HTTPMessage``: the value, or ``None`` (not ``KeyError``) when absent."""
        return self.get(name)

    def get_all(self, name: str, failobj: Any = None) -> list[str] | Any:
        """Every value of ``name`` in order, or ``failobj`` when absent (``HTTPMessage``)."""
        key = name.lower()
        found = [v for k, v in self._pairs() if k == key]
        return found if found else failobj

    def __contains__(self, name: object) -> bool:
        if not isinstance(name, str):
            return False
        key = name.lower()
        return any(k == key for k, _ in self._pairs())

    def keys(self) -> list[str]:
        """Lowercase names in order, repeated once per value (``HTTPMessage.keys``)."""
        return [k for k, _ in self._pairs()]

    def values(self) -> list[str]:
        return [v for _, v in self._pairs()]

    def items(self) -> list[tuple[str, str]]:
        """``(name, value)`` pairs in order, duplicates kept (``HTTPMessage.items``)."""
        return list(self._pairs())

    def __iter__(self) -> Iterator[str]:
        return iter(self.keys())

    def __len__(self) -> int:
        if self._list is None and self._raw is not None:
            return len(self._raw)
        return len(self._pairs())

    def __bool__(self) -> bool:
        return len(self) > 0

    # -- mutation -----------------------------------------------------------------------------

    def set(self, name: str, value: Any) -> None:
        """Replace every value of ``name`` with ``value`` (JavaScript ``Headers.set``)."""
        key = _name(name)
        pairs = [p for p in self._pairs() if p[0] != key]
        pairs.append((key, _value(value)))
        self._list = pairs

    __setitem__ = set

    def append(self, name: str, value: Any) -> None:
        """Add one more value for ``name`` (JavaScript ``append``, ``HTTPMessage.add_header``)."""
        self._pairs().append((_name(name), _value(value)))

    def add_header(self, name: str, value: Any) -> None:
        """``HTTPMessage.add_header`` without parameters: same as :meth:`append`."""
        self.append(name, value)

    def delete(self, name: str) -> None:
        """Remove every value of ``name``; absent names are ignored."""
        key = name.lower()
        self._list = [p for p in self._pairs() if p[0] != key]

    def __delitem__(self, name: str) -> None:
        self.delete(name)

    def setdefault(self, name: str, value: str) -> str:
        """Set ``name`` to ``value`` unless present; return the value now in effect."""
        current = self.get(name)
        if current is None:
            self.append(name, value)
            return _value(value)
        return str(current)

    # -- JavaScript Headers API ---------------------------------------------------------------

    def has(self, name: str) -> bool:
        return name in self

    def getSetCookie(self) -> list[str]:
        """Every ``Set-Cookie`` value, never combined."""
        return [v for k, v in self._pairs() if k == _SET_COOKIE]

    get_set_cookie = getSetCookie

    def entries(self) -> Iterator[tuple[str, str]]:
        return iter(self.items())

    def copy(self) -> Headers:
        """An independent copy."""
        return Headers(self)

    def raw(self) -> list[tuple[bytes, bytes]]:
        """ASGI-ready ``[(name, value), ...]`` as latin-1 bytes, names lowercase."""
        if self._list is None and self._raw is not None:
            return list(self._raw)
        return [(k.encode("latin-1"), v.encode("latin-1")) for k, v in self._pairs()]

    def __eq__(self, other: object) -> bool:
        if isinstance(other, Headers):
            return self.items() == other.items()
        return NotImplemented

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return f"Headers({self.items()!r})"

"""CPython stand-ins for ``pyodide.ffi``: there is no JavaScript, so conversions are identities.

Worker code written for Pyodide converts values at the JavaScript boundary
(``to_js(d, dict_converter=Object.fromEntries)``, ``result.to_py()``, ``x is jsnull``). On
edgekv every value already is a Python value, so:

* ``to_js(obj, ...)`` returns ``obj`` (a dict stays a dict, bytes stay bytes);
* ``JsProxy`` is a small base class whose ``to_py()`` returns the wrapped Python value;
* ``jsnull`` is a falsy singleton that ``is not None`` (Pyodide >= 0.28 semantics), offered so
  legacy comparisons keep working; edgekv's own bindings return ``None``, never ``jsnull``;
* ``create_proxy(obj)`` returns a proxy whose ``destroy()`` is a no-op and which forwards calls.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Final, Self

__all__ = [
    "JsBuffer",
    "JsException",
    "JsNull",
    "JsProxy",
    "create_once_callable",
    "create_proxy",
    "destroy_proxies",
    "jsnull",
    "to_js",
]


class JsException(Exception):
    """Pyodide's wrapper for JavaScript errors; kept so ``except JsException`` still parses."""

    def __init__(self, message: str = "", name: str = "Error") -> None:
        super().__init__(message)
        self.message = message
        self.name = name


class JsProxy:
    """A value that Pyodide would show as a JavaScript object; here it wraps a Python value."""

    __slots__ = ("_value",)

    def __init__(self, value: Any = None) -> None:
        self._value = value

    def to_py(self, *, depth: int = -1, default_converter: Any = None) -> Any:
        """The wrapped Python value (conversion options are accepted and ignored)."""
        value = self._value
        return value.to_py() if isinstance(value, JsProxy) else value

    def __getattr__(self, name: str) -> Any:
        value = object.__getattribute__(self, "_value")
        if isinstance(value, dict) and name in value:
            return value[name]
        return getattr(value, name)

    def __repr__(self) -> str:
        return f"JsProxy({self._value!r})"


class JsNull:
    """Type of :data:`jsnull`; falsy, compares equal only to itself, ``str`` is ``"null"``."""

    __slots__ = ()
    _instance: JsNull | None = None

    def __new__(cls) -> Self:
        instance = cls._instance
        if instance is None:
            instance = cls._instance = super().__new__(cls)
        return instance  # type: ignore[return-value]

    def __bool__(self) -> bool:
        return False

    def __repr__(self) -> str:
        return "jsnull"

    def __str__(self) -> str:
        return "null"

    def __reduce__(self) -> str:
        return "jsnull"


jsnull: Final = JsNull()


class JsBuffer(bytes):
    """Bytes standing in for a JavaScript ``ArrayBuffer``/typed array seen from Pyodide."""

    def to_bytes(self) -> bytes:
        return bytes(self)

    def to_py(self, **_kwargs: Any) -> memoryview:
        return memoryview(self)

    def to_memoryview(self) -> memoryview:
        return memoryview(self)

    def to_string(self, encoding: str = "utf-8") -> str:
        return self.decode(encoding)

    @property
    def byteLength(self) -> int:
        return len(self)

    @property
    def length(self) -> int:
        """``Uint8Array.length``: the number of bytes."""
        return len(self)

    @property
    def buffer(self) -> JsBuffer:
        """``Uint8Array.buffer``: the underlying ``ArrayBuffer`` (the same bytes)."""
        return self

    def subarray(self, start: int = 0, end: int | None = None) -> JsBuffer:
        return JsBuffer(self[start:end])

    def slice(self, start: int = 0, end: int | None = None) -> JsBuffer:
        return JsBuffer(self[start:end])


def to_js(obj: Any, *args: Any, **_kwargs: Any) -> Any:
    """Return ``obj`` unchanged: on CPython the "JavaScript" value is the Python value.

    ``dict_converter``, ``default_converter``, ``depth``, ``pyproxies`` are accepted and
    ignored, so ``to_js(d, dict_converter=Object.fromEntries)`` keeps ``d`` a ``dict``.
    A ``JsProxy`` is unwrapped. ``bytes``, ``bytearray`` and ``memoryview`` become a
    :class:`JsBuffer` (a ``Uint8Array`` copy, with ``.buffer``, ``.length``, ``.to_bytes()``),
    which is still ``bytes``: ``Response``, KV and WebSockets accept it.
    """
    if isinstance(obj, JsProxy):
        return obj.to_py()
    if isinstance(obj, bytes | bytearray | memoryview) and not isinstance(obj, JsBuffer):
        return JsBuffer(obj)
    return obj


class _Proxy:
    """What ``create_proxy`` returns: forwards calls and attributes; ``destroy()`` does nothing."""

    __slots__ = ("_obj",)

    def __init__(self, obj: Any) -> None:
        self._obj = obj

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        return self._obj(*args, **kwargs)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._obj, name)

    def __await__(self) -> Any:
        return self._obj.__await__()

    def destroy(self) -> None:
        """No-op: CPython's garbage collector owns the object."""

    def unwrap(self) -> Any:
        return self._obj


def create_proxy(obj: Any, *, capture_this: bool = False, roundtrip: bool = True) -> Any:
    """A handle on ``obj`` with a no-op ``destroy()``; calls and awaits reach ``obj``."""
    return _Proxy(obj)


def create_once_callable(func: Callable[..., Any], **_kwargs: Any) -> Callable[..., Any]:
    """Return ``func`` itself (single-use enforcement is a JavaScript memory concern)."""
    return func


def destroy_proxies(_proxies: Any) -> None:
    """No-op, for symmetry with :func:`create_proxy`."""

"""``KVNamespace``: the Workers KV binding, with Cloudflare's semantics, limits and texts.

Behaviour follows docs/kv-binding.md §1-§5. Methods are coroutines; every error is
raised at ``await``. Calling conventions follow Cloudflare's Python SDK (docs/kv-binding.md
§10): the read type as a positional string, inside an options dict or as
the ``type=`` keyword; options as a dict, as keyword arguments (camelCase or snake_case), or
``None``. ``None`` stands for JS ``null`` wherever JS would convert a value.
"""

from __future__ import annotations

from collections.abc import AsyncIterable, Iterable
from typing import Any

from edgekv.edge.store import CachedStore
from edgekv.errors import KVError, KVTypeError, StorageBusy, StorageError, StoreUnavailable
from edgekv.js import JsDict, is_array_index, to_string, undefined
from edgekv.kv import jsjson
from edgekv.kv.cursor import decode_cursor, encode_cursor
from edgekv.kv.jsvalues import js_to_int32
from edgekv.kv.results import ByteStream
from edgekv.kv.validation import (
    check_bulk_key,
    check_cache_ttl,
    check_key,
    check_key_bytes,
    format_megabytes,
    int_option,
    missing_argument,
    option,
    options_dict,
    str_option,
)
from edgekv.limits import DEFAULT_LIMITS, Limits
from edgekv.promises import eager
from edgekv.storage.base import Record, Store

__all__ = ["KVNamespace", "service_failure"]

_READ_TYPES = ("text", "json", "arrayBuffer", "stream")
_UNKNOWN_TYPE = (
    'Unknown response type. Possible types are "text", "arrayBuffer", "json", and "stream".'
)
_BAD_VALUE = (
    "KV put() accepts only strings, ArrayBuffers, ArrayBufferViews, and ReadableStreams as values."
)


class KVNamespace:
    """A KV namespace binding (``env.MY_KV``) over a storage engine space.

    ``drop_index_keys`` reproduces workerd's quirk of leaving canonical array-index keys
    ("0", "42") out of bulk-get results (docs/kv-binding.md §8); it is on by default, as in production.
    """

    __slots__ = ("_clock", "_drop_index_keys", "_edge", "_limits", "_space", "_store", "namespace_id")

    def __init__(
        self,
        store: Store,
        namespace_id: str,
        *,
        limits: Limits = DEFAULT_LIMITS,
        drop_index_keys: bool = True,
    ) -> None:
        self._store = store
        self._space = namespace_id
        self._limits = limits
        self._clock = store.clock
        self._drop_index_keys = drop_index_keys
        self.namespace_id = namespace_id
        # Over an edge cache, reads pass the reader's cacheTtl and report a cacheStatus;
        # over a single-node store they behave as Miniflare (cacheTtl checked, status null).
        self._edge = store if isinstance(store, CachedStore) else None

    def __repr__(self) -> str:
        return f"<KvNamespace {self.namespace_id}>"

    def __iter__(self) -> Any:
        raise TypeError("'KvNamespace' object is not iterable")

    def __len__(self) -> int:
        raise TypeError("object of type 'KvNamespace' has no len()")

    def __bool__(self) -> bool:
        return True

    # -- reads ----------------------------------------------------------------------------

    @eager  # starts when called, like the JS promise a Python Worker gets
    async def get(self, key: Any = undefined, type_or_options: Any = undefined, /, **options: Any) -> Any:
        """Read one key (``str`` key) or up to 100 keys (``list`` of keys).

        Returns ``None`` for a missing key; ``str`` for ``"text"``, parsed JSON for
        ``"json"``, ``memoryview`` for ``"arrayBuffer"``, an async iterator of ``bytes`` for
        ``"stream"``. A list of keys returns a ``dict`` in request order.
        Raises ``KVTypeError``, ``KVError``, ``KVSyntaxError`` with Cloudflare's texts.
        """
        if type(key) is str and type_or_options is undefined and not options:
            # get("key"): text, no cacheTtl; the same checks as below, without option parsing.
            record, _ = await self._get_one(key, None)
            return None if record is None else (record.value or b"").decode("utf-8", "replace")
        if key is undefined:
            raise missing_argument("get", 1)
        read_type, cache_ttl = _read_options(type_or_options, options)
        if isinstance(key, (list, tuple)):
            return await self._get_bulk(key, read_type, cache_ttl, with_metadata=False)
        record, _ = await self._get_one(key, cache_ttl)
        return None if record is None else _decode(record.value or b"", read_type)

    @eager  # starts when called, like the JS promise a Python Worker gets
    async def getWithMetadata(
        self, key: Any = undefined, type_or_options: Any = undefined, /, **options: Any
    ) -> Any:
        """Like ``get``, returning ``{"value", "metadata", "cacheStatus"}`` for one key, or
        a dict of ``{"value", "metadata"}`` entries (``None`` when missing) for a list."""
        if key is undefined:
            raise missing_argument("getWithMetadata", 1)
        read_type, cache_ttl = _read_options(type_or_options, options)
        if isinstance(key, (list, tuple)):
            return await self._get_bulk(key, read_type, cache_ttl, with_metadata=True)
        record, status = await self._get_one(key, cache_ttl)
        if record is None:
            return JsDict(value=None, metadata=None, cacheStatus=status)
        value = _decode(record.value or b"", read_type)
        return JsDict(value=value, metadata=_metadata(record), cacheStatus=status)

    get_with_metadata = getWithMetadata

    async def _get_one(self, key: Any, cache_ttl: int | None) -> tuple[Record | None, str | None]:
        """The record (``None`` when missing) and its cacheStatus (``None`` without an edge
        cache)."""
        name = key if isinstance(key, str) else to_string(key)
        check_key(name, "GET", self._limits)
        if cache_ttl is not None:
            check_cache_ttl(cache_ttl, "GET", self._limits)
        try:
            if self._edge is not None:
                return await self._edge.get_with_status(self._space, name, cache_ttl)
            return await self._store.get(self._space, name), None
        except StorageError as exc:
            raise service_failure("GET", exc) from exc

    async def _get_bulk(
        self, keys: Any, read_type: str, cache_ttl: int | None, *, with_metadata: bool
    ) -> dict[str, Any]:
        limits = self._limits
        names = [k if isinstance(k, str) else to_string(k) for k in keys]
        if read_type not in ("text", "json"):
            raise KVError("GET_BULK", 400, f'"{read_type}" is not a valid type. Use "json" or "text"')
        if len(names) > limits.max_bulk_keys:
            raise KVError("GET_BULK", 400, f"You can request a maximum of {limits.max_bulk_keys} keys")
        if not names:
            raise KVError("GET_BULK", 400, "You must request a minimum of 1 key")
        # The service walks the keys in order: a bad name stops the walk, but a non-JSON
        # value met before that bad name wins (docs/kv-binding.md §8, order of checks).
        key_error: KVError | None = None
        checked = len(names)
        for index, name in enumerate(names):
            try:
                check_bulk_key(name, limits)
                check_cache_ttl(cache_ttl, "GET_BULK", limits)
            except KVError as exc:
                key_error, checked = exc, index
                break
        wanted = list(dict.fromkeys(names[:checked]))
        try:
            if not wanted:
                records: dict[str, Record] = {}
            elif self._edge is not None:
                records = await self._edge.get_many(self._space, wanted, cache_ttl=cache_ttl)
            else:
                records = await self._store.get_many(self._space, wanted)
        except StorageError as exc:
            raise service_failure("GET_BULK", exc) from exc
        result: dict[str, Any] = {}
        total_bytes = 0
        for name in wanted:
            record = records.get(name)
            if record is None:
                result[name] = None
                continue
            raw = record.value or b""
            total_bytes += len(raw)
            text = raw.decode("utf-8", "replace")
            if read_type == "json":
                try:
                    value: Any = jsjson.parse(text)
                except ValueError:
                    raise KVError(
                        "GET_BULK", 400,
                        "At least one of the requested keys corresponds to a non-json value",
                    ) from None
            else:
                value = text
            if with_metadata:
                # Miniflare answers a JSON null value with a null entry (docs/kv-binding.md §8).
                result[name] = None if value is None else JsDict(value=value, metadata=_metadata(record))
            else:
                result[name] = value
        if key_error is not None:
            raise key_error
        if total_bytes > limits.max_bulk_response_bytes:
            raise KVError(
                "GET_BULK", 413,
                "Total size of request exceeds the limit of "
                f"{format_megabytes(limits.max_bulk_response_bytes)}MB",
            )
        if self._drop_index_keys:
            result = {k: v for k, v in result.items() if not is_array_index(k)}
        return result

    # -- writes ---------------------------------------------------------------------------

    @eager  # starts when called, like the JS promise a Python Worker gets
    async def put(
        self, key: Any = undefined, value: Any = undefined, options: Any = undefined, /, **kwargs: Any
    ) -> None:
        """Store ``value`` under ``key``, replacing its value, metadata and expiration.

        ``value``: ``str``, ``bytes``/``bytearray``/``memoryview`` (any buffer), an async
        iterable of bytes, or a number/bool/``None`` (stringified as JS does).
        Options: ``expiration`` (epoch seconds), ``expirationTtl`` (seconds), ``metadata``.
        """
        if key is undefined:
            raise missing_argument("put", 1)
        if value is undefined:
            raise missing_argument("put", 2)
        opts = options_dict(options, kwargs, "put", 3)
        expiration = int_option(opts, "expiration")
        expiration_ttl = int_option(opts, "expirationTtl", "expiration_ttl")
        metadata = option(opts, "metadata")
        name = key if isinstance(key, str) else to_string(key)
        check_key(name, "PUT", self._limits)
        data = _value_bytes(value)
        meta_text, expires = self._check_put_options(expiration, expiration_ttl, metadata)
        if data is None:
            data, size = await _read_stream(value, self._limits.max_value_size_bytes)
        else:
            size = len(data)
        self._check_value_size(size)
        try:
            await self._store.put(self._space, name, data, expiration=expires, metadata=meta_text)
        except StorageError as exc:
            raise service_failure("PUT", exc) from exc

    def prepare_put(
        self,
        key: str,
        value: Any,
        *,
        expiration: Any = None,
        expiration_ttl: Any = None,
        metadata: Any = None,
    ) -> Record:
        """Validate a write exactly as ``put`` would, without storing it (no I/O).

        Returns the ``Record`` to store (absolute expiration, metadata as JSON text). For
        bulk loads; ``value`` may be anything ``put`` accepts except a stream. ``None`` for an
        option means "not given". Raises the same errors, in the same order, as ``put``.
        """
        check_key(key, "PUT", self._limits)
        data = _value_bytes(value)
        if data is None:
            raise KVTypeError(_BAD_VALUE)
        meta_text, expires = self._check_put_options(
            None if expiration is None else js_to_int32(expiration),
            None if expiration_ttl is None else js_to_int32(expiration_ttl),
            undefined if metadata is None else metadata,
        )
        self._check_value_size(len(data))
        return Record(key, data, expires, meta_text)

    async def put_records(self, records: Iterable[Record]) -> None:
        """Store records made by ``prepare_put`` atomically: all of them, or none."""
        await self._store.write_batch(self._space, records)

    def _check_put_options(
        self, expiration: int | None, expiration_ttl: int | None, metadata: Any
    ) -> tuple[str | None, int | None]:
        """The service-side put checks before the value size: metadata serialisation,
        expiration (TTL first), metadata size. Returns (metadata JSON, absolute expiration)."""
        meta_text = None
        if metadata is not undefined and metadata is not None:
            meta_text = jsjson.stringify(metadata)
            if meta_text is None:  # JSON.stringify gave undefined (a function)
                raise KVError("PUT", 500, "Internal Server Error")
        expires = self._expiration(expiration, expiration_ttl)
        if meta_text is not None:
            meta_size = len(meta_text.encode("utf-8", "surrogatepass"))
            limit = self._limits.max_metadata_size_bytes
            if meta_size > limit:
                raise KVError("PUT", 413, f"Metadata length of {meta_size} exceeds limit of {limit}.")
        return meta_text, expires

    def _check_value_size(self, size: int) -> None:
        limit = self._limits.max_value_size_bytes
        if size > limit:
            raise KVError("PUT", 413, f"Value length of {size} exceeds limit of {limit}.")

    def _expiration(self, expiration: int | None, expiration_ttl: int | None) -> int | None:
        """The absolute expiration to store; ``expirationTtl`` wins over ``expiration``."""
        minimum = self._limits.min_expiration_ttl_seconds
        now = int(self._clock.now())
        if expiration_ttl is not None:
            if expiration_ttl <= 0:
                raise KVError(
                    "PUT", 400,
                    f"Invalid expiration_ttl of {expiration_ttl}. "
                    "Please specify integer greater than 0.",
                )
            if expiration_ttl < minimum:
                raise KVError(
                    "PUT", 400,
                    f"Invalid expiration_ttl of {expiration_ttl}. "
                    f"Expiration TTL must be at least {minimum}.",
                )
            return now + expiration_ttl
        if expiration is not None:
            if expiration <= now:
                raise KVError(
                    "PUT", 400,
                    f"Invalid expiration of {expiration}. Please specify integer greater than "
                    "the current number of seconds since the UNIX epoch.",
                )
            if expiration < now + minimum:
                raise KVError(
                    "PUT", 400,
                    f"Invalid expiration of {expiration}. "
                    f"Expiration times must be at least {minimum} seconds in the future.",
                )
            return expiration
        return None

    @eager  # starts when called, like the JS promise a Python Worker gets
    async def delete(self, key: Any = undefined, /, *_ignored: Any) -> None:
        """Remove ``key``. Deleting a missing key succeeds."""
        if key is undefined:
            raise missing_argument("delete", 1)
        name = key if isinstance(key, str) else to_string(key)
        check_key(name, "DELETE", self._limits)
        try:
            await self._store.delete(self._space, name)
        except StorageError as exc:
            raise service_failure("DELETE", exc) from exc

    # -- list -----------------------------------------------------------------------------

    @eager  # starts when called, like the JS promise a Python Worker gets
    async def list(self, options: Any = undefined, /, **kwargs: Any) -> JsDict:
        """A page of keys in UTF-8 byte order: ``{"keys", "list_complete", "cursor"?,
        "cacheStatus"}``. Options: ``prefix``, ``limit`` (1-1000; 0 or less means 1000),
        ``cursor`` (from the previous page; send the same prefix again)."""
        opts = options_dict(options, kwargs, "list", 1)
        limit = int_option(opts, "limit")
        prefix = str_option(opts, "prefix")
        cursor = str_option(opts, "cursor")
        max_limit = self._limits.max_list_limit
        if limit is None or limit <= 0:  # the binding only sends a positive limit
            limit = max_limit
        elif limit > max_limit:
            raise KVError(
                "GET", 400,
                f"Invalid key_count_limit of {limit}. Please specify an integer less than {max_limit}.",
            )
        if prefix:
            check_key_bytes(prefix, "GET", self._limits)
        start_after = decode_cursor(cursor) if cursor else ""
        try:
            rows = await self._store.scan_keys(
                self._space, prefix=prefix or "", start_after=start_after or None, limit=limit + 1
            )
        except StorageError as exc:
            raise service_failure("GET", exc) from exc
        complete = len(rows) <= limit
        keys = []
        for name, expiration, metadata in rows if complete else rows[:limit]:
            entry = JsDict(name=name)
            if expiration is not None:
                entry["expiration"] = expiration
            if metadata is not None:
                entry["metadata"] = jsjson.parse(metadata)
            keys.append(entry)
        result = JsDict(keys=keys, list_complete=complete)
        if not complete:
            result["cursor"] = encode_cursor(keys[-1]["name"])
        result["cacheStatus"] = None
        return result


def service_failure(op: str, exc: StorageError) -> KVError:
    """The error a binding call gets when the store fails: the KV service's answer.

    A store that stayed locked past its bounded wait, or a central store an edge cache
    cannot reach, answers ``503 Service Unavailable`` (retry later; what Cloudflare's KV
    answered during its June 2025 outage); any other storage failure is ``500 Internal
    Server Error``, the generic reason text Cloudflare's binding shows for a backend
    failure. The cause stays chained for the server log.
    """
    if isinstance(exc, (StorageBusy, StoreUnavailable)):
        return KVError(op, 503, "Service Unavailable")
    return KVError(op, 500, "Internal Server Error")


def _read_options(type_or_options: Any, kwargs: dict[str, Any]) -> tuple[str, int | None]:
    """The read type and cacheTtl of a get/getWithMetadata call (argument conversion)."""
    if isinstance(type_or_options, str):
        opts: dict[str, Any] = {"type": type_or_options}
        opts.update(kwargs)
    elif type_or_options is undefined or type_or_options is None:
        opts = kwargs
    elif isinstance(type_or_options, dict):
        opts = {**type_or_options, **kwargs}
    else:  # JS converts a non-object second argument to a type string ("42")
        opts = {"type": to_string(type_or_options), **kwargs}
    read_type = opts.get("type")
    cache_ttl = int_option(opts, "cacheTtl", "cache_ttl") if opts else None
    return ("text" if read_type is None else to_string(read_type)), cache_ttl


def _decode(raw: bytes, read_type: str) -> Any:
    if read_type == "text":
        return raw.decode("utf-8", "replace")
    if read_type == "json":
        return jsjson.parse(raw.decode("utf-8", "replace"))
    if read_type == "arrayBuffer":
        return memoryview(raw)
    if read_type == "stream":
        return ByteStream(raw)
    raise KVTypeError(_UNKNOWN_TYPE)


def _metadata(record: Record) -> Any:
    return None if record.metadata is None else jsjson.parse(record.metadata)


def _value_bytes(value: Any) -> bytes | None:
    """The bytes to store, or ``None`` for a stream still to be read. Raises message 5."""
    if isinstance(value, str):
        try:
            return value.encode("utf-8")
        except UnicodeEncodeError:  # lone surrogates are written as WTF-8, like V8 does
            return value.encode("utf-8", "surrogatepass")
    if isinstance(value, (bytes, bytearray, memoryview)):
        return bytes(value)
    if value is None or isinstance(value, (bool, int, float)):
        return to_string(value).encode("utf-8")
    if isinstance(value, AsyncIterable):
        return None
    try:
        return bytes(memoryview(value))  # any other buffer (array.array, numpy, ...)
    except TypeError:
        raise KVTypeError(_BAD_VALUE) from None


async def _read_stream(stream: AsyncIterable[Any], limit: int) -> tuple[bytes, int]:
    """Read a stream to the end: its bytes and its size. Past ``limit`` bytes only the size
    is kept (it is needed for the 413 text), so an oversized stream costs no memory."""
    chunks: list[bytes] = []
    size = 0
    async for chunk in stream:
        piece = chunk.encode("utf-8") if isinstance(chunk, str) else bytes(chunk)
        size += len(piece)
        if size <= limit:
            chunks.append(piece)
    return b"".join(chunks), size

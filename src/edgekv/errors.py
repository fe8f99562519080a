"""The exception tree of edgekv. Every error edgekv raises derives from ``EdgeKVError``,
except the few that Worker code must see under the class Cloudflare's own runtime uses (listed
after the tree).

The whole tree, including the classes defined next to the code that raises them (the part of
the package is in brackets; ``tests/test_repository.py`` checks this drawing against the real
class hierarchy, both ways, and each class's extra built-in base in parentheses)::

    EdgeKVError                     root: catch this to catch anything edgekv raises
    ├── StorageError                a storage backend failed (driver errors are translated here)
    │   ├── BackendUnavailable      a backend URL needs an optional dependency that is missing
    │   ├── NamespaceNotFound       no KV namespace with that id is registered
    │   ├── NamespaceTitleExists    a KV namespace with that title already exists
    │   ├── AccountNotFound         no account with that id
    │   ├── TokenNotFound           no API token with that id
    │   ├── StorageBusy             the store stayed locked by another writer past the bounded wait
    │   ├── StoreUnavailable        the central store cannot be reached (edge cache: fail fast)
    │   └── PrimaryLeaseHeld        another location holds the primary lease
    ├── KVError                     Cloudflare's ``KV <OP> failed: <status> <text>`` (JS ``Error``)
    ├── KVTypeError (TypeError)     Cloudflare's binding-side ``TypeError`` texts
    ├── KVRangeError (ValueError)   where V8 throws ``RangeError`` (metadata nested too deep)
    ├── KVSyntaxError (ValueError)  ``type="json"`` on a value that is not JSON (JS ``SyntaxError``)
    ├── ConfigError                 a wrangler config file cannot be used (carries diagnostics)
    │   └── ConfigEditError         [config] the config file could not be changed (left as it was)
    ├── StateFolderLocked           [config] another live edgekv process owns the state folder
    ├── DurableObjectError          [durable_objects] JavaScript ``Error`` raised by a DO API
    │   ├── DurableObjectTypeError (TypeError)
    │   │   │                       JavaScript ``TypeError``
    │   │   └── DataCloneError      a value the structured-clone codec cannot copy
    │   ├── DurableObjectRangeError (ValueError)
    │   │                           JavaScript ``RangeError``
    │   ├── StoredValueError        a stored payload is not a valid codec document
    │   └── DurableObjectReset      the object was reset (``durableObjectReset`` is true)
    │       └── ConstraintReset     a commit broke a SQL constraint: reset and rolled back
    ├── RuntimeShimError            [runtime] CPython cannot do what the Worker asked
    │   ├── NoRequestContext (RuntimeError)
    │   │                           ``wait_until``/``env`` used outside a request
    │   ├── UnsupportedJavaScriptModule (ImportError)
    │   │                           ``import_from_javascript`` of a module edgekv lacks
    │   └── DependencyError         the Worker's dependencies cannot be made importable
    ├── WorkerSetupError            [runtime] no usable ``main`` module to load
    ├── WorkerLoadError             [runtime] the Worker's own code failed while loading
    ├── ApiRequestFailed            [client] the v4 API refused a request (wrangler's wording)
    ├── RemoteSetupError            [client] ``--remote`` has no credential or no account
    ├── BulkFileError               [client] a ``kv bulk`` file cannot be used
    ├── WranglerStateError          [client] a folder holds no readable wrangler KV state
    ├── ApiError                    [server] an API failure: HTTP status, envelope code, message
    ├── BodyTooLarge                [server] a request body over its limit (answered 413)
    └── MultipartError (ValueError)
                                    [server] a body that is not valid multipart/form-data

Deliberately outside the tree (each keeps the base class its users expect)::

    JsException                     [runtime] Pyodide's ``pyodide.ffi.JsException`` (Exception),
                                    raised where Worker code expects a JavaScript error (D1,
                                    Workflows)
    NonRetryableError               [runtime] the Workflows SDK class Worker code raises (Exception)
    DurableObjectAbort              [durable_objects] ``ctx.abort()`` (BaseException, like the
                                    Python Workers SDK, so ``except Exception`` cannot eat it)
    CLIError                        [cli] click's ``ClickException``: how click prints and exits
    StrictModeWarning               [strict] a ``UserWarning``, issued and never raised

Classes whose names start with ``_`` are private control flow that never leaves its module.
Errors that Cloudflare defines keep Cloudflare's text byte for byte in ``str(error)``.
"""

from __future__ import annotations

__all__ = [
    "AccountNotFound",
    "BackendUnavailable",
    "ConfigError",
    "EdgeKVError",
    "KVError",
    "KVRangeError",
    "KVSyntaxError",
    "KVTypeError",
    "NamespaceNotFound",
    "NamespaceTitleExists",
    "PrimaryLeaseHeld",
    "StorageBusy",
    "StorageError",
    "StoreUnavailable",
    "TokenNotFound",
]


class EdgeKVError(Exception):
    """Root of every exception raised by edgekv."""


class StorageError(EdgeKVError):
    """A storage backend failed; the original driver error is chained as ``__cause__``."""


class BackendUnavailable(StorageError):
    """The backend named by a URL cannot be loaded (unknown scheme or missing extra)."""


class NamespaceNotFound(StorageError):
    """No KV namespace with the given id is registered in the store."""

    def __init__(self, namespace_id: str) -> None:
        super().__init__(f"no KV namespace with id {namespace_id!r}")
        self.namespace_id = namespace_id


class NamespaceTitleExists(StorageError):
    """A KV namespace with the given title is already registered."""

    def __init__(self, title: str) -> None:
        super().__init__(f"a KV namespace titled {title!r} already exists")
        self.title = title


class AccountNotFound(StorageError):
    """No account with the given id exists."""

    def __init__(self, account_id: str) -> None:
        super().__init__(f"no account with id {account_id!r}")
        self.account_id = account_id


class TokenNotFound(StorageError):
    """No API token with the given id exists."""

    def __init__(self, token_id: str) -> None:
        super().__init__(f"no API token with id {token_id!r}")
        self.token_id = token_id


class StoreUnavailable(StorageError):
    """The authoritative store behind an edge cache cannot be reached (down, timed out, or
    its circuit breaker is open). The KV binding reports it as ``KV <OP> failed: 503 Service
    Unavailable``; backends raise it for connection-level failures."""


class KVError(EdgeKVError):
    """A KV operation failed the way Cloudflare's binding reports a non-2xx service answer.

    ``str(error)`` is exactly ``KV <op> failed: <status> <status_text>``.
    """

    def __init__(self, op: str, status: int, status_text: str) -> None:
        super().__init__(f"KV {op} failed: {status} {status_text}")
        self.op = op
        self.status = status
        self.status_text = status_text


class KVTypeError(EdgeKVError, TypeError):
    """A binding-side argument error, raised where JavaScript raises ``TypeError``."""


class KVSyntaxError(EdgeKVError, ValueError):
    """A value read with ``type="json"`` is not valid JSON (JavaScript's ``SyntaxError``)."""


class ConfigError(EdgeKVError):
    """A wrangler configuration cannot be used; ``diagnostics`` lists every problem found."""

    def __init__(self, message: str, diagnostics: object | None = None) -> None:
        super().__init__(message)
        self.diagnostics = diagnostics


class StorageBusy(StorageError):
    """Another writer held the store's write lock longer than the bounded wait."""


class KVRangeError(EdgeKVError, ValueError):
    """Raised where V8 throws ``RangeError`` in a binding call (``Maximum call stack size
    exceeded`` when ``JSON.stringify`` meets metadata nested deeper than its stack)."""


class PrimaryLeaseHeld(StorageError):
    """Another location holds the primary lease of a many-location deployment."""

    def __init__(self, holder: str, url: str, expires_at: float) -> None:
        super().__init__(
            f"location {holder!r} ({url}) is the primary until {expires_at:.0f}; "
            "a second primary refuses to start"
        )
        self.holder = holder
        self.url = url
        self.expires_at = expires_at

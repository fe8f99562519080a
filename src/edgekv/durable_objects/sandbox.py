"""The SQL sandbox of ``ctx.storage.sql``: workerd's authorizer and limits, rule for rule.

workerd (``util/sqlite.c++``, ``api/sql.c++``) decides per SQLite action what user SQL may do;
this module makes the same decisions for the APSW authorizer:

- Names starting with ``_cf_`` (any case) are reserved: no table, index, trigger, view or
  savepoint may use them, and reading them gives SQLite's ``access to _cf_KV.key is
  prohibited``.
- Only the ``main`` database: no ``ATTACH``/``DETACH``, no temporary tables, indexes, triggers
  or views (the temp schema may only be read).
- Only workerd's pragmas, with its argument rules (``PRAGMA_RULES``); everything else,
  ``hard_heap_limit`` and friends that would change process-wide SQLite state included, is
  ``not authorized``.
- Only workerd's functions (``ALLOWED_FUNCTIONS``): ``sqlite_version()`` and the like are
  ``not authorized to use function: ...``.
- Virtual tables only with the ``fts5``, ``fts5vocab``, ``rtree`` and ``rtree_i32`` modules.
- ``BEGIN``/``SAVEPOINT`` raise workerd's "please use ... transaction()" error.
- Limits (``LIMITS``) are workerd's: at most 5 compound SELECT terms, 100,000-byte statements,
  100 columns, 100 bound parameters, 4 MiB strings and blobs, no attached databases.
"""

from __future__ import annotations

import re
from typing import Any

import apsw

from edgekv.durable_objects.errors import DurableObjectError

__all__ = [
    "ALLOWED_FUNCTIONS",
    "LIMITS",
    "PRAGMA_RULES",
    "TRANSACTION_FORBIDDEN",
    "Sandbox",
    "allowed_name",
    "apply_limits",
    "check_statement_text",
]

TRANSACTION_FORBIDDEN = (
    "To execute a transaction, please use the state.storage.transaction() or "
    "state.storage.transactionSync() APIs instead of the SQL BEGIN TRANSACTION or SAVEPOINT "
    "statements. The JavaScript API is safer because it will automatically roll back on "
    "exceptions, and because it interacts correctly with Durable Objects' automatic atomic "
    "write coalescing."
)

LIMITS: dict[int, int] = {
    apsw.SQLITE_LIMIT_LENGTH: 4 * 1024 * 1024,
    apsw.SQLITE_LIMIT_SQL_LENGTH: 100_000,
    apsw.SQLITE_LIMIT_COLUMN: 100,
    apsw.SQLITE_LIMIT_EXPR_DEPTH: 100,
    apsw.SQLITE_LIMIT_COMPOUND_SELECT: 5,
    apsw.SQLITE_LIMIT_VDBE_OP: 25_000,
    apsw.SQLITE_LIMIT_FUNCTION_ARG: 127,
    apsw.SQLITE_LIMIT_ATTACHED: 0,
    apsw.SQLITE_LIMIT_LIKE_PATTERN_LENGTH: 50,
    apsw.SQLITE_LIMIT_VARIABLE_NUMBER: 100,
    apsw.SQLITE_LIMIT_TRIGGER_DEPTH: 10,
    apsw.SQLITE_LIMIT_WORKER_THREADS: 0,
}

ALLOWED_FUNCTIONS = frozenset(
    # core
    "abs changes char coalesce concat concat_ws format glob hex ifnull iif instr "  # noqa: SIM905
    "last_insert_rowid length like likelihood likely load_extension lower ltrim max_scalar "
    "min_scalar nullif octet_length printf quote random randomblob replace round rtrim sign "
    "soundex substr substring total_changes trim typeof unhex unicode unlikely upper zeroblob "
    # date and time
    "date time datetime julianday unixepoch strftime timediff current_date current_time "
    "current_timestamp "
    # aggregates and window functions
    "avg count group_concat max min string_agg sum total row_number rank dense_rank "
    "percent_rank cume_dist ntile lag lead first_value last_value nth_value "
    # math
    "acos acosh asin asinh atan atan2 atanh ceil cos cosh degrees exp floor ln log log2 mod pi "
    "pow radians sin sinh sqrt tan tanh trunc "
    # JSON
    "json jsonb json_array jsonb_array json_array_length json_extract jsonb_extract -> ->> "
    "json_insert jsonb_insert json_object jsonb_object json_patch jsonb_patch json_remove "
    "jsonb_remove json_replace jsonb_replace json_set jsonb_set json_type json_valid json_quote "
    "json_group_array jsonb_group_array json_group_object jsonb_group_object json_each json_tree "
    # FTS5, R*Tree, ALTER TABLE internals
    "match highlight bm25 snippet rtreecheck sqlite_rename_column sqlite_rename_table "
    "sqlite_rename_test sqlite_drop_column sqlite_rename_quotefix".split()
)

# Pragma -> argument rule: none | boolean | object | optional_object | number | number_or_object
PRAGMA_RULES: dict[str, str] = {
    "data_version": "none",
    "page_size": "none",
    "case_sensitive_like": "boolean",
    "foreign_keys": "boolean",
    "defer_foreign_keys": "boolean",
    "ignore_check_constraints": "boolean",
    "legacy_alter_table": "boolean",
    "recursive_triggers": "boolean",
    "reverse_unordered_selects": "boolean",
    "foreign_key_check": "optional_object",
    "foreign_key_list": "object",
    "index_info": "object",
    "index_list": "object",
    "index_xinfo": "object",
    "quick_check": "number_or_object",
    "optimize": "number",
}
_BOOLEANS = ("true", "false", "yes", "no", "on", "off", "1", "0")
_VTABLE_MODULES = frozenset({"fts5", "fts5vocab", "rtree", "rtree_i32"})
# Stock SQLite does not tell the authorizer the target of ALTER TABLE ... RENAME TO (workerd
# patches SQLite for it); the statement text says it.
_RENAME_TO_RESERVED = re.compile(
    r"\bRENAME\s+(?:COLUMN\s+\S+\s+)?TO\s+[\"'`\[]?_cf_", re.IGNORECASE
)
_OK, _DENY = apsw.SQLITE_OK, apsw.SQLITE_DENY


def allowed_name(name: object) -> bool:
    """``False`` for reserved names (``_cf_`` prefix, any case), as workerd's regulator."""
    return not (isinstance(name, str) and name[:4].lower() == "_cf_")


def apply_limits(conn: apsw.Connection) -> None:
    """Set workerd's limits and defensive mode on ``conn``."""
    conn.config(apsw.SQLITE_DBCONFIG_DEFENSIVE, 1)
    for limit, value in LIMITS.items():
        conn.limit(limit, value)


def check_statement_text(statement: str) -> None:
    """Refuse renames into the reserved namespace (the authorizer cannot see them)."""
    if _RENAME_TO_RESERVED.search(statement):
        raise DurableObjectError("not authorized: SQLITE_AUTH")


def _pragma_allowed(pragma: str, arg: str | None) -> bool:
    if pragma == "table_list":
        return True
    if pragma in ("table_info", "table_xinfo"):
        return arg is not None and allowed_name(arg)
    rule = PRAGMA_RULES.get(pragma.lower())
    if rule is None:
        return False
    if rule == "none":
        return arg is None
    if arg is None:
        return rule != "object"
    if rule == "boolean":
        value = arg
        if len(value) >= 2 and value[0] in "'\"" and value[-1] == value[0]:
            value = value[1:-1]
        return value.lower().startswith(_BOOLEANS)
    if rule in ("object", "optional_object"):
        return allowed_name(arg)
    if rule == "number":
        return _parses_int(arg)
    return _parses_int(arg, unsigned=True) or allowed_name(arg)


def _parses_int(text: str, unsigned: bool = False) -> bool:
    try:
        value = int(text, 0)
    except ValueError:
        return False
    return value >= 0 if unsigned else -(2**31) <= value < 2**31


class Sandbox:
    """The authorizer of one connection; remembers why it last refused a transaction."""

    __slots__ = ("_refused_transaction",)

    def __init__(self) -> None:
        self._refused_transaction = False

    def authorize(
        self, action: int, p1: str | None, p2: str | None, db: str | None, _trigger: Any
    ) -> int:
        """The APSW authorizer: ``SQLITE_OK`` or ``SQLITE_DENY`` as workerd decides."""
        if action == apsw.SQLITE_ALTER_TABLE:
            db, p1 = p1, p2  # SQLite passes (database, table) for this one action
        if db == "temp":
            if action in (apsw.SQLITE_READ, apsw.SQLITE_UPDATE):
                return _OK if allowed_name(p1) else _DENY
            return _DENY
        if db is not None and db != "main":
            return _DENY
        return _OK if self._decide(action, p1, p2) else _DENY

    def _decide(self, action: int, p1: str | None, p2: str | None) -> bool:
        a = apsw
        if action in (a.SQLITE_SELECT, a.SQLITE_RECURSIVE, a.SQLITE_ANALYZE):
            return True
        if action in (
            a.SQLITE_CREATE_TABLE, a.SQLITE_DELETE, a.SQLITE_DROP_TABLE, a.SQLITE_INSERT,
            a.SQLITE_CREATE_VIEW, a.SQLITE_DROP_VIEW, a.SQLITE_REINDEX, a.SQLITE_ALTER_TABLE,
            a.SQLITE_READ, a.SQLITE_UPDATE,
        ):
            return allowed_name(p1)
        if action in (
            a.SQLITE_CREATE_INDEX, a.SQLITE_DROP_INDEX, a.SQLITE_CREATE_TRIGGER,
            a.SQLITE_DROP_TRIGGER,
        ):
            return allowed_name(p1) and allowed_name(p2)
        if action in (a.SQLITE_TRANSACTION, a.SQLITE_SAVEPOINT):
            self._refused_transaction = True
            return False
        if action == a.SQLITE_PRAGMA:
            return p1 is not None and _pragma_allowed(p1, p2)
        if action == a.SQLITE_FUNCTION:
            return p2 is not None and p2.lower() in ALLOWED_FUNCTIONS
        if action in (a.SQLITE_CREATE_VTABLE, a.SQLITE_DROP_VTABLE):
            return (p2 or "").lower() in _VTABLE_MODULES and allowed_name(p1)
        return False  # ATTACH, DETACH, temp objects, COPY and anything unknown

    def failure(self, exc: apsw.Error) -> DurableObjectError | None:
        """The error to raise instead of ``exc`` (the transaction text), else ``None``."""
        refused, self._refused_transaction = self._refused_transaction, False
        if refused and isinstance(exc, apsw.AuthError):
            return DurableObjectError(TRANSACTION_FORBIDDEN)
        return None

    def reset(self) -> None:
        """Forget the last refusal (before a new statement)."""
        self._refused_transaction = False

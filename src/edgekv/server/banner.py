"""The bindings table ``edgekv dev`` prints at start, modelled on wrangler's::

    Your Worker has access to the following bindings:
    Binding                                         Resource                  Mode
    env.COUNTER (Counter)                           Durable Object            local
    env.TODO (06779da6940b431db6e566b4846d64db)     KV Namespace              local
    env.API_HOST ("example.com")                    Environment Variable      local
    env.API_TOKEN ("(hidden)")                      Environment Variable      local

Secrets (from ``.dev.vars``/``.env``) are shown as ``"(hidden)"``, as wrangler does.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from edgekv.config import Config
from edgekv.config.diagnostics import js_json

__all__ = ["binding_rows", "bindings_table"]

HEADER = "Your Worker has access to the following bindings:"
_MAX_VALUE = 40


def _shown(value: Any) -> str:
    text = js_json(value)  # JSON.stringify, as wrangler prints a variable's value
    return text if len(text) <= _MAX_VALUE else text[: _MAX_VALUE - 3] + "..."


def binding_rows(config: Config, vars_override: Mapping[str, Any] | None = None) -> list[tuple[str, str]]:
    """``(binding, resource)`` pairs in wrangler's order: Durable Objects, KV, variables."""
    rows: list[tuple[str, str]] = []
    for do in config.durable_objects:
        where = do.class_name if do.is_local else f"{do.class_name}, defined in {do.script_name}"
        rows.append((f"env.{do.name} ({where})", "Durable Object"))
    for kv in config.kv_namespaces:
        rows.append((f"env.{kv.binding} ({kv.local_id(preview=True)})", "KV Namespace"))
    for wf in config.workflows:
        rows.append((f"env.{wf.binding} ({wf.class_name})", "Workflow"))
    for d1 in config.d1_databases:
        rows.append((f"env.{d1.binding} ({d1.database_name or d1.local_id})", "D1 Database"))
    if config.assets is not None and config.assets.binding:
        rows.append((f"env.{config.assets.binding}", "Assets"))
    overrides = dict(vars_override or {})
    values = {**config.vars, **config.secrets, **overrides}
    for name, value in values.items():
        secret = name in config.secrets and name not in overrides
        shown = '"(hidden)"' if secret else _shown(value)
        rows.append((f"env.{name} ({shown})", "Environment Variable"))
    return rows


def bindings_table(config: Config, vars_override: Mapping[str, Any] | None = None) -> str:
    """The table as text (no trailing newline); ``No bindings`` when there are none."""
    rows = binding_rows(config, vars_override)
    if not rows:
        return "No bindings found."
    width = max(len("Binding"), *(len(b) for b, _ in rows)) + 4
    res_width = max(len("Resource"), *(len(r) for _, r in rows)) + 6
    lines = [HEADER, f"{'Binding':<{width}}{'Resource':<{res_width}}Mode"]
    lines += [f"{binding:<{width}}{resource:<{res_width}}local" for binding, resource in rows]
    return "\n".join(lines)

"""Automatic steps: plain functions registered by name, called by the engine.

A BPMN service task names its handler (`<spiffworkflow:serviceTaskOperator id="transfer.check">`).
Handlers are idempotent: running one twice must not move a record twice. A handler gets a
`Context` (the instance, the user, the data and the services the engine offers) and
imports nothing of the engine.

Handlers declare the decision tables they ask: a step's own (`@handler(..., tables=…)`),
and a procedure's (`procedure_tables`); a version that lacks one is refused at deploy.
"""

from __future__ import annotations

import importlib
import os
import pkgutil
from collections.abc import Callable

from .context import Context, NoSuchTable

__all__ = ["Context", "NoSuchTable", "handler", "load_all", "procedure_tables"]

HandlerFn = Callable[[Context], dict]

HANDLERS: dict[str, HandlerFn] = {}
# How often a background worker tries a failing handler before it becomes an incident.
DEFAULT_TRIES = 3
TRIES: dict[str, int] = {}
# Decision tables a step asks (in whichever diagram has it), and those a procedure's steps ask.
STEP_TABLES: dict[str, tuple[str, ...]] = {}
PROCEDURE_TABLES: dict[str, tuple[str, ...]] = {}


def handler(
    name: str, tries: int = DEFAULT_TRIES, tables: tuple[str, ...] = ()
) -> Callable[[HandlerFn], HandlerFn]:
    def register(fn: HandlerFn) -> HandlerFn:
        if name in HANDLERS:
            raise ValueError(f"handler {name} registered twice")
        HANDLERS[name] = fn
        TRIES[name] = tries
        if tables:
            STEP_TABLES[name] = tables
        return fn

    return register


def procedure_tables(procedure: str, *tables: str) -> tuple[str, ...]:
    """Declare the decision tables every version of `procedure` must ship."""
    if procedure in PROCEDURE_TABLES:
        raise ValueError(f"decision tables of {procedure} declared twice")
    PROCEDURE_TABLES[procedure] = tables
    return tables


def load_all() -> dict[str, HandlerFn]:
    """Import every handler module so that its functions register themselves, and the
    extra modules named in XUEJI_HANDLER_MODULES (comma-separated; a region's own steps)."""
    for module in pkgutil.iter_modules(__path__):
        importlib.import_module(f"{__name__}.{module.name}")
    for name in filter(None, os.environ.get("XUEJI_HANDLER_MODULES", "").split(",")):
        importlib.import_module(name.strip())
    return HANDLERS

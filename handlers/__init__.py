"""Automatic steps: plain functions registered by name, called by the engine.

A BPMN service task names its handler (`<spiffworkflow:serviceTaskOperator id="transfer.check">`).
Handlers are idempotent: running one twice must not move a record twice.
"""

from __future__ import annotations

import importlib
import os
import pkgutil
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

HandlerFn = Callable[["Context"], dict]


@dataclass
class Context:
    """What a handler may use: the instance row, the acting user, the instance data."""

    instance: Any
    user: Any
    data: dict


HANDLERS: dict[str, HandlerFn] = {}
# How often a background worker tries a failing handler before it becomes an incident.
DEFAULT_TRIES = 3
TRIES: dict[str, int] = {}


def handler(name: str, tries: int = DEFAULT_TRIES) -> Callable[[HandlerFn], HandlerFn]:
    def register(fn: HandlerFn) -> HandlerFn:
        if name in HANDLERS:
            raise ValueError(f"handler {name} registered twice")
        HANDLERS[name] = fn
        TRIES[name] = tries
        return fn

    return register


def load_all() -> dict[str, HandlerFn]:
    """Import every handler module so that its functions register themselves, and the
    extra modules named in XUEJI_HANDLER_MODULES (comma-separated; a region's own steps)."""
    for module in pkgutil.iter_modules(__path__):
        importlib.import_module(f"{__name__}.{module.name}")
    for name in filter(None, os.environ.get("XUEJI_HANDLER_MODULES", "").split(",")):
        importlib.import_module(name.strip())
    return HANDLERS

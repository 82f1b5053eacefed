"""Automatic steps: plain functions registered by name, called by the engine.

A BPMN service task names its handler (`<spiffworkflow:serviceTaskOperator id="transfer.check">`).
Handlers are idempotent: running one twice must not move a record twice.
"""

from __future__ import annotations

import importlib
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


def handler(name: str) -> Callable[[HandlerFn], HandlerFn]:
    def register(fn: HandlerFn) -> HandlerFn:
        if name in HANDLERS:
            raise ValueError(f"handler {name} registered twice")
        HANDLERS[name] = fn
        return fn

    return register


def load_all() -> dict[str, HandlerFn]:
    """Import every handler module so that its functions register themselves."""
    for module in pkgutil.iter_modules(__path__):
        importlib.import_module(f"{__name__}.{module.name}")
    return HANDLERS

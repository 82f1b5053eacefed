"""The `xueji` command line: Flask CLI commands registered by the factory.

Messages go to the terminal in Chinese; refusals go to standard error and exit non-zero so
scripts can tell success from failure. Every command but the services (`serve`, `worker`)
is audited in the name of the person at the terminal (`cli:<login user>`).
"""

from __future__ import annotations

import functools
from collections.abc import Callable

import click
from flask import Flask

from ..models import acting_as
from . import accounts, data, exports, services
from .common import login_name

# Commands that run a service: what happens in them is done by users or workers, not by
# the person who started the process.
SERVICES = {"serve", "worker"}


def register(app: Flask) -> None:
    """Attach every command to `app.cli`, so `flask --app webapp.app` and `xueji` share them."""
    for module in (data, exports, accounts, services):
        module.register(app.cli)
    _attribute_to_terminal(app.cli)


def _attribute_to_terminal(group: click.Group) -> None:
    for name, command in group.commands.items():
        if isinstance(command, click.Group):
            _attribute_to_terminal(command)
        elif name not in SERVICES and command.callback is not None:
            command.callback = _as_terminal_user(command.callback)


def _as_terminal_user(callback: Callable) -> Callable:
    @functools.wraps(callback)
    def run(*args, **kwargs):
        with acting_as(f"cli:{login_name()}"):
            return callback(*args, **kwargs)

    return run

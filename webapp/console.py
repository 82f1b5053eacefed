"""The `xueji` program: the Flask command group over the app the factory builds."""

from __future__ import annotations

import click
from flask.cli import FlaskGroup

from .app import create_app
from .cli.common import fail
from .config import InsecureSecret


def _create_app(*args, **kwargs):
    try:
        return create_app()
    except InsecureSecret as exc:
        fail(str(exc))


@click.group(
    cls=FlaskGroup, create_app=_create_app, add_default_commands=False, add_version_option=False
)
def main() -> None:
    """学籍通 xueji."""

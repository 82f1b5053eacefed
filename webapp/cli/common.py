"""What the commands share: how a refusal ends, who is at the terminal, the database set-up."""

from __future__ import annotations

import getpass
import os
from typing import NoReturn

import click
from flask import current_app
from flask_migrate import upgrade

from workflows import deploy

from ..config import InsecureSecret, check_secret
from ..models import db


def fail(message: str) -> NoReturn:
    click.echo(message, err=True)
    raise click.exceptions.Exit(1)


def login_name() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):  # no name for this uid (e.g. a bare container)
        return f"uid{os.getuid()}"


def require_secret() -> None:
    """`serve` and `worker` run a deployment: never with the public demo key."""
    try:
        check_secret(current_app.config)
    except InsecureSecret as exc:
        fail(str(exc))


def migrate() -> None:
    """The schema at the newest migration, and the shipped process models deployed."""
    upgrade()
    deploy.sync_files()
    db.session.commit()

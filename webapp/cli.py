"""The `xueji` command line: Flask CLI commands registered by the factory."""

from __future__ import annotations

import click
from flask import Flask
from flask.cli import FlaskGroup


def register(app: Flask) -> None:
    @app.cli.command("init-db")
    def init_db() -> None:
        """Create or migrate the schema (Alembic), then deploy the shipped procedures."""
        from flask_migrate import upgrade

        from workflows import deploy

        from .extensions import db

        upgrade()
        deploy.sync_files()
        db.session.commit()
        click.echo("数据库已就绪。")


def _create_app(*args, **kwargs):
    from . import create_app

    return create_app()


@click.group(
    cls=FlaskGroup, create_app=_create_app, add_default_commands=False, add_version_option=False
)
def main() -> None:
    """学籍通 xueji."""

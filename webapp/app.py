"""The Flask application factory: every extension, listener and blueprint bound here."""

from __future__ import annotations

from functools import partial
from pathlib import Path

from flask import Flask

from workflows import jurisdiction, producer
from workflows.deploy import validate_files

from . import (
    admin,
    auth,
    guard,
    health,
    importing,
    inbox,
    instances,
    overdue,
    rosters,
    saved_filters,
    security,
    students,
)
from .api import bp as api_bp
from .auth import throttle
from .cli import register as register_cli
from .config import check_secret, from_env
from .extensions import csrf, db, login_manager, migrate
from .views_common import register_template_helpers


def create_app(config: dict | None = None) -> Flask:
    app = Flask(__name__)
    app.config.update(from_env())
    app.config.update(
        MAX_CONTENT_LENGTH=12 * 1024 * 1024,
        PER_PAGE=20,
        JSON_AS_ASCII=False,
        WTF_CSRF_TIME_LIMIT=None,
    )
    if config:
        app.config.update(config)
    if app.config.get("DEPLOYED") and not app.config.get("TESTING"):
        check_secret(app.config)  # InsecureSecret: no real data behind the public demo key
    uri = app.config["SQLALCHEMY_DATABASE_URI"]
    if uri.startswith("sqlite:///"):
        Path(uri[len("sqlite:///") :]).parent.mkdir(parents=True, exist_ok=True)
        # Writers wait for each other instead of failing at once.
        app.config.setdefault("SQLALCHEMY_ENGINE_OPTIONS", {"connect_args": {"timeout": 30}})

    guard.init_app(app)  # before the blueprints: their `<int:…>` rules take its bound
    db.init_app(app)
    migrate.init_app(app, db)
    csrf.init_app(app)
    security.init_app(app)
    throttle.init_app(app)
    login_manager.init_app(app)
    login_manager.login_view = "auth.login"
    login_manager.login_message = "请先登录。"
    jurisdiction.init_app(app)
    producer.init_app(app)

    app.register_blueprint(admin.bp)
    app.register_blueprint(auth.bp)
    app.register_blueprint(health.bp)
    app.register_blueprint(importing.bp)
    app.register_blueprint(inbox.bp)
    app.register_blueprint(instances.bp)
    app.register_blueprint(overdue.bp)
    app.register_blueprint(rosters.bp)
    app.register_blueprint(saved_filters.bp)
    app.register_blueprint(students.bp)
    app.register_blueprint(api_bp)
    csrf.exempt(api_bp)
    register_cli(app)
    app.extensions["xueji_factory"] = partial(create_app, config)  # `xueji serve`'s workers

    register_template_helpers(app)

    validate_files()  # a broken BPMN file stops the app with the element named
    return app

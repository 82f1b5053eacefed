"""The Flask application factory."""

from __future__ import annotations

from pathlib import Path

from flask import Flask

from .extensions import csrf, db, login_manager, migrate


def create_app(config: dict | None = None) -> Flask:
    from .config import from_env

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
    uri = app.config["SQLALCHEMY_DATABASE_URI"]
    if uri.startswith("sqlite:///"):
        Path(uri[len("sqlite:///") :]).parent.mkdir(parents=True, exist_ok=True)
        # Writers wait for each other instead of failing at once.
        app.config.setdefault("SQLALCHEMY_ENGINE_OPTIONS", {"connect_args": {"timeout": 30}})

    from . import guard

    guard.init_app(app)  # before the blueprints: their `<int:…>` rules take its bound
    db.init_app(app)
    migrate.init_app(app, db)
    csrf.init_app(app)
    login_manager.init_app(app)
    login_manager.login_view = "auth.login"
    login_manager.login_message = "请先登录。"

    from . import admin, auth, inbox, instances, overdue, rosters, students
    from .api import bp as api_bp
    from .cli import register as register_cli

    app.register_blueprint(admin.bp)
    app.register_blueprint(auth.bp)
    app.register_blueprint(inbox.bp)
    app.register_blueprint(instances.bp)
    app.register_blueprint(overdue.bp)
    app.register_blueprint(rosters.bp)
    app.register_blueprint(students.bp)
    app.register_blueprint(api_bp)
    csrf.exempt(api_bp)
    register_cli(app)

    from .views_common import register_template_helpers

    register_template_helpers(app)

    from workflows.deploy import validate_files

    validate_files()  # a broken BPMN file stops the app with the element named
    return app

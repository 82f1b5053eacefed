"""Fixtures: a migrated database per test (copied from one migrated template), the app,
clients, a small world of organisations and users, and helpers to act as a user."""

from __future__ import annotations

import os
import shutil
import uuid

import pytest
from sqlalchemy import create_engine, text

from webapp.app import create_app
from webapp.extensions import db
from workflows import deploy

from .scope_check import scope_mismatches
from .world import PASSWORD, SECRET_KEY, build_world

PG_ADMIN_URL = os.environ.get("XUEJI_TEST_PG", "postgresql://postgres@127.0.0.1:5432/postgres")


def _migrate(app) -> None:
    from flask_migrate import upgrade

    with app.app_context():
        upgrade()
        deploy.sync_files()
        db.session.commit()


@pytest.fixture(scope="session")
def template_db(tmp_path_factory):
    path = tmp_path_factory.mktemp("template") / "template.sqlite"
    _migrate(create_app({"SQLALCHEMY_DATABASE_URI": f"sqlite:///{path}"}))
    return path


def _config(uri: str, tmp_path) -> dict:
    return {
        "SQLALCHEMY_DATABASE_URI": uri,
        "TESTING": True,
        "WTF_CSRF_ENABLED": False,
        "SECRET_KEY": SECRET_KEY,
        "DATA_DIR": str(tmp_path),
        "REDIS_URL": None,  # automatic steps inline unless a test runs a worker
    }


@pytest.fixture
def app(template_db, tmp_path):
    path = tmp_path / "test.sqlite"
    shutil.copy(template_db, path)
    app = create_app(_config(f"sqlite:///{path}", tmp_path))
    with app.app_context():
        yield app
        db.session.remove()
        db.engine.dispose()


@pytest.fixture
def pg_app(tmp_path):
    """A fresh PostgreSQL database on the local server, migrated with Alembic."""
    name = f"xueji_test_{uuid.uuid4().hex[:10]}"
    admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    uri = PG_ADMIN_URL.rsplit("/", 1)[0] + f"/{name}"
    app = create_app(_config(uri, tmp_path))
    _migrate(app)
    with app.app_context():
        yield app
        db.session.remove()
        db.engine.dispose()
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


@pytest.fixture
def world(app):
    """The small world; afterwards every record's and instance's scope rows must still
    match the organisation tree, whatever procedures the test ran."""
    w = build_world()
    db.session.commit()
    yield w
    db.session.rollback()
    assert scope_mismatches() == []


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


class Api:
    """Call the JSON API as one user."""

    def __init__(self, client, username: str):
        self.client = client
        resp = client.post("/api/v1/auth/token", json={"username": username, "password": PASSWORD})
        assert resp.status_code == 200, resp.get_json()
        self.headers = {"Authorization": f"Bearer {resp.get_json()['token']}"}

    def get(self, url, **kw):
        return self.client.get(url, headers=self.headers, **kw)

    def post(self, url, **kw):
        return self.client.post(url, headers=self.headers, **kw)


@pytest.fixture
def api(client):
    return lambda username: Api(client, username)


@pytest.fixture
def login(client):
    def do(username: str):
        client.post("/logout")
        resp = client.post("/login", data={"username": username, "password": PASSWORD})
        assert resp.status_code in (302, 303), resp.data.decode()[:500]
        return client

    return do

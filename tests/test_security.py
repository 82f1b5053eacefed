"""Safe on the open internet: the demo key never serves real data, and every answer carries
headers and cookies that keep it out of frames, caches and injected scripts."""

from __future__ import annotations

import re
import shutil
import threading
import urllib.request
from pathlib import Path

import pytest
from click.testing import CliRunner
from flask import Flask
from flask.sessions import SecureCookieSessionInterface
from itsdangerous import URLSafeTimedSerializer
from werkzeug.serving import make_server

from webapp.app import create_app
from webapp.config import DEMO_SECRET, InsecureSecret
from webapp.console import main
from webapp.extensions import db
from webapp.models import User
from webapp.security import QuietRequestHandler

from .world import PASSWORD, build_world

PROPER_KEY = "a-private-deployment-key-0123456789abcdef"
TEMPLATES = Path(__file__).resolve().parent.parent / "webapp" / "templates"


@pytest.fixture
def deployment(template_db, tmp_path, monkeypatch):
    """The environment of a real deployment: DATABASE_URL names a migrated database."""
    path = tmp_path / "deployed.sqlite"
    shutil.copy(template_db, path)
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{path}")
    monkeypatch.setenv("XUEJI_DATA_DIR", str(tmp_path))
    monkeypatch.delenv("SECRET_KEY", raising=False)
    monkeypatch.delenv("REDIS_URL", raising=False)
    monkeypatch.delenv("XUEJI_COOKIE_SECURE", raising=False)
    return monkeypatch


@pytest.fixture
def deployed_app(deployment):
    """A deployment with a proper key. Requests run in app contexts of their own (as served),
    so nothing a request loads, such as the signed-in user, outlives it."""
    deployment.setenv("SECRET_KEY", PROPER_KEY)
    app = create_app()
    with app.app_context():
        build_world()
        db.session.commit()
        admin_id = db.session.scalar(db.select(User.id).filter_by(username="uP1"))
    app.config["TEST_ADMIN_ID"] = admin_id
    yield app
    with app.app_context():
        db.engine.dispose()


# ---- 1. the demo key ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("key", "message"),
    [(None, "未设置 SECRET_KEY"), (DEMO_SECRET, "未设置 SECRET_KEY"), ("short-key", "只有 9 字节")],
)
def test_a_deployment_refuses_to_start_without_a_private_key(deployment, key, message):
    if key is not None:
        deployment.setenv("SECRET_KEY", key)

    with pytest.raises(InsecureSecret, match=message):
        create_app()

    deployment.setenv("SECRET_KEY", PROPER_KEY)  # the control: a proper key starts
    assert create_app().config["SECRET_KEY"] == PROPER_KEY


@pytest.mark.parametrize("command", ["serve", "worker", "init-db"])
def test_the_commands_of_a_deployment_exit_with_a_chinese_message(deployment, command):
    result = CliRunner().invoke(main, [command])

    assert result.exit_code == 1
    assert "拒绝启动：未设置 SECRET_KEY" in result.stderr
    assert "Traceback" not in result.output


def test_serve_and_worker_refuse_the_demo_key_even_without_a_database(runner, app):
    app.config["SECRET_KEY"] = DEMO_SECRET
    for command in ("serve", "worker"):
        result = runner.invoke(args=[command])
        assert result.exit_code == 1
        assert "默认密钥是公开的" in result.stderr


def _sign_in(client, base_url: str = "https://localhost"):
    """Sign in as uP1 through the login form, CSRF token and all, as a browser does."""
    page = client.get("/login", base_url=base_url).data.decode()
    token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    data = {"username": "uP1", "password": PASSWORD, "csrf_token": token}
    referer = {"Referer": f"{base_url}/login"}  # over HTTPS, Flask-WTF checks it too
    return client.post("/login", data=data, base_url=base_url, headers=referer)


def _resigned_session(app: Flask, cookie: str, key: str) -> str:
    """The session cookie's content signed again with `key`, as a forger would."""
    interface = SecureCookieSessionInterface()
    content = interface.get_signing_serializer(app).loads(cookie)
    forger = Flask("forger")
    forger.secret_key = key
    return interface.get_signing_serializer(forger).dumps(dict(content))


def test_a_token_and_a_session_forged_with_the_demo_key_are_refused(deployed_app):
    client = deployed_app.test_client()
    uid = deployed_app.config["TEST_ADMIN_ID"]
    forged = URLSafeTimedSerializer(DEMO_SECRET, salt="xueji-api-token").dumps({"uid": uid})
    resp = client.get("/api/v1/tasks", headers={"Authorization": f"Bearer {forged}"})
    assert resp.status_code == 401
    real = client.post("/api/v1/auth/token", json={"username": "uP1", "password": PASSWORD})
    resp = client.get("/api/v1/tasks", headers={"Authorization": f"Bearer {real.json['token']}"})
    assert resp.status_code == 200  # the control: a token the app issued works

    https = "https://localhost"
    signed_in = deployed_app.test_client()
    assert _sign_in(signed_in).status_code == 302
    cookie = signed_in.get_cookie("session").value
    for key, status in ((DEMO_SECRET, 302), (PROPER_KEY, 200)):  # forged, then the control
        replay = deployed_app.test_client()
        replay.set_cookie("session", _resigned_session(deployed_app, cookie, key))
        assert replay.get("/", base_url=https).status_code == status


# ---- 6. headers and cookies ---------------------------------------------------------------


def _assert_protected(resp) -> None:
    csp = resp.headers["Content-Security-Policy"]
    script_src = re.search(r"script-src ([^;]*)", csp).group(1)
    assert script_src == "'self'"  # no inline script, no eval
    assert "frame-ancestors 'none'" in csp
    assert resp.headers["X-Frame-Options"] == "DENY"
    assert resp.headers["X-Content-Type-Options"] == "nosniff"
    assert resp.headers["Referrer-Policy"] == "same-origin"


def test_pages_and_api_answers_are_protected_and_never_cached(client, world, login, api):
    answers = [client.get("/login"), client.get("/api/v1/tasks")]
    login("uP1")
    answers += [client.get("/"), client.get("/students"), api("uP1").get("/api/v1/students")]
    for resp in answers:
        _assert_protected(resp)
        assert resp.headers["Cache-Control"] == "no-store"

    static = client.get("/static/app.js")  # the control: our own script may be cached
    _assert_protected(static)
    assert "no-store" not in static.headers.get("Cache-Control", "")


def _cookie(resp) -> str:
    return next(h for h in resp.headers.getlist("Set-Cookie") if h.startswith("session="))


def test_the_session_cookie_is_http_only_same_site_and_secure_in_a_deployment(deployed_app):
    cookie = _cookie(_sign_in(deployed_app.test_client()))
    assert "Secure" in cookie and "HttpOnly" in cookie and "SameSite=Lax" in cookie


def test_the_demo_cookie_works_over_plain_http_and_is_still_http_only(client, world):
    resp = client.post("/login", data={"username": "uP1", "password": PASSWORD})
    cookie = _cookie(resp)
    assert "Secure" not in cookie
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie


def test_a_plain_http_intranet_may_turn_secure_cookies_off(deployment):
    deployment.setenv("SECRET_KEY", PROPER_KEY)
    assert create_app().config["SESSION_COOKIE_SECURE"] is True
    deployment.setenv("XUEJI_COOKIE_SECURE", "0")
    assert create_app().config["SESSION_COOKIE_SECURE"] is False


INLINE = re.compile(
    r"<script(?![^>]*\bsrc=)(?![^>]*type=\"application/json\")[^>]*>"  # a script with code
    r"|\son[a-z]+\s*="  # an event-handler attribute
    r"|javascript:",
    re.IGNORECASE,
)


def test_no_template_carries_inline_script():
    assert INLINE.search('<button onclick="go()">')  # the control: the check sees one
    assert INLINE.search("<script>alert(1)</script>")
    assert not INLINE.search('<script src="/static/app.js" defer></script>')
    for template in TEMPLATES.rglob("*.html"):
        found = INLINE.search(template.read_text())
        assert found is None, f"{template.name}: {found.group(0)}"


def _server_header(handler) -> str:
    app = Flask("banner")
    app.add_url_rule("/", "index", lambda: "ok")
    kwargs = {"request_handler": handler} if handler else {}
    srv = make_server("127.0.0.1", 0, app, threaded=True, **kwargs)
    thread = threading.Thread(target=srv.serve_forever, daemon=True)
    thread.start()
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{srv.server_port}/") as resp:
            return resp.headers["Server"]
    finally:
        srv.shutdown()
        thread.join(timeout=10)


def test_the_server_names_no_software_version():
    assert "Werkzeug" in _server_header(None)  # the control: the stock handler does
    assert _server_header(QuietRequestHandler) == "xueji"

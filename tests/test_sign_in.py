"""Sign-in that cannot be guessed and is forgotten when it should be: throttling per account
and per address, one timing for known and unknown users, revocation of cookies and tokens,
the password page and policy, frozen accounts, and audits with address and user agent."""

from __future__ import annotations

import os
import re
import statistics
import time
import uuid
from datetime import timedelta

import pytest
import time_machine
from flask import g
from redis import Redis

from webapp.app import create_app
from webapp.auth import accounts, passwords
from webapp.extensions import db, limiter
from webapp.models import AuditLog, User, utcnow

from .test_web import csrf_app, csrf_world  # noqa: F401  (fixtures: the app with CSRF on)
from .world import PASSWORD, SECRET_KEY

REDIS_URL = os.environ.get("XUEJI_TEST_REDIS", "redis://127.0.0.1:6379/14")
NEW_PASSWORD = "Lantern-harbor-73"


@pytest.fixture
def site(app, world):
    """Requests as when served: what one request loads (the signed-in user) ends with it, so
    a cookie counts only for what it says itself."""
    app.teardown_request(lambda exc: g.pop("_login_user", None))
    return app


def text(resp) -> str:
    return resp.get_data(as_text=True)


def sign_in(client, username: str = "uP1", password: str = PASSWORD, **kw):
    return client.post("/login", data={"username": username, "password": password}, **kw)


def token(client, username: str = "uP1", password: str = PASSWORD):
    return client.post("/api/v1/auth/token", json={"username": username, "password": password})


def bearer(value: str) -> dict:
    return {"Authorization": f"Bearer {value}"}


# ---- throttling ---------------------------------------------------------------------------


def test_the_eleventh_wrong_password_in_a_minute_is_refused_with_the_wait(site, client):
    for _ in range(10):
        assert sign_in(client, password="wrong-guess").status_code == 401
    with time_machine.travel(time.time(), tick=False) as clock:
        resp = sign_in(client, password="wrong-guess")
        assert resp.status_code == 429
        wait = int(re.search(r"请 (\d+) 秒后再试", text(resp)).group(1))
        assert 1 <= wait <= 61 and resp.headers["Retry-After"] == str(wait)

        assert sign_in(client).status_code == 429  # the right password waits too
        assert sign_in(client, "uP3").status_code == 302  # the control: another account

        clock.shift(wait + 1)
        assert sign_in(client).status_code == 302  # the wait is over
    assert AuditLog.query.filter_by(action="auth.throttled").count() == 2


def test_the_login_page_and_the_api_share_the_counter(site, client):
    for _ in range(5):
        assert sign_in(client, password="wrong-guess").status_code == 401
        assert token(client, password="wrong-guess").status_code == 401
    resp = token(client)
    assert resp.status_code == 429
    error = resp.get_json()["error"]
    assert error["code"] == "too_many_requests" and "秒后再试" in error["message"]
    assert sign_in(client).status_code == 429
    assert token(client, "uP3").status_code == 200  # the control


def test_one_address_trying_many_accounts_is_throttled_too(site, client):
    for n in range(30):
        assert sign_in(client, f"nobody{n}", "wrong-guess").status_code == 401
    assert sign_in(client).status_code == 429  # a new account from the same address
    other = {"environ_base": {"REMOTE_ADDR": "10.0.0.9"}}
    assert sign_in(client, **other).status_code == 302  # the control: another address


def fresh_app(template_db, tmp_path, **config):
    """An app of its own on a copy of the migrated database, with `config` on top."""
    path = tmp_path / "own.sqlite"
    if not path.exists():
        path.write_bytes(template_db.read_bytes())
    base = {
        "SQLALCHEMY_DATABASE_URI": f"sqlite:///{path}",
        "TESTING": True,
        "WTF_CSRF_ENABLED": False,
        "SECRET_KEY": SECRET_KEY,
        "DATA_DIR": str(tmp_path),
        "REDIS_URL": None,
    }
    return create_app({**base, **config})


def test_with_redis_the_counters_outlive_a_restart(template_db, tmp_path):
    """Counters in Redis are shared by every server process and survive a restart."""
    redis = Redis.from_url(REDIS_URL)
    redis.ping()  # no skip: CI starts Redis
    someone = f"someone-{uuid.uuid4().hex[:8]}"
    # Its own address too: the counters in Redis outlive this test run.
    address = {"environ_base": {"REMOTE_ADDR": f"10.{uuid.uuid4().int % 250}.0.1"}}
    try:
        client = fresh_app(template_db, tmp_path, REDIS_URL=REDIS_URL).test_client()
        for _ in range(10):
            assert sign_in(client, someone, "wrong-guess", **address).status_code == 401
        assert redis.keys(f"*account:{someone}*")
        restarted = fresh_app(template_db, tmp_path, REDIS_URL=REDIS_URL).test_client()
        assert sign_in(restarted, someone, "wrong-guess", **address).status_code == 429
        control = sign_in(restarted, f"{someone}-2", "wrong-guess", **address)
        assert control.status_code == 401
    finally:
        for pattern in (f"*{someone}*", f"*address:{address['environ_base']['REMOTE_ADDR']}*"):
            for key in redis.keys(pattern):
                redis.delete(key)


def test_with_redis_down_sign_in_works_and_is_still_throttled(template_db, tmp_path, monkeypatch):
    # The limiter is one per process: it must not go on thinking its storage is dead.
    monkeypatch.setattr(limiter, "_storage_dead", False)
    unreachable = "redis://127.0.0.1:1/0"  # nothing listens there
    client = fresh_app(template_db, tmp_path, REDIS_URL=unreachable).test_client()
    for _ in range(10):
        assert sign_in(client, "someone", "wrong-guess").status_code == 401
    assert sign_in(client, "someone", "wrong-guess").status_code == 429  # counted in memory
    assert sign_in(client, "another", "wrong-guess").status_code == 401  # the control


@pytest.mark.parametrize("proxies", [0, 1])
def test_behind_a_proxy_each_client_address_counts_for_itself(template_db, tmp_path, proxies):
    app = fresh_app(template_db, tmp_path, PROXY_COUNT=proxies)
    client = app.test_client()
    for n in range(30):
        forwarded = {"X-Forwarded-For": "203.0.113.7"}
        assert sign_in(client, f"nobody{n}", "wrong-guess", headers=forwarded).status_code == 401
    other = sign_in(client, "nobody", "wrong-guess", headers={"X-Forwarded-For": "198.51.100.2"})
    # a trusted proxy: another client is not held up; none: the header is ignored (spoofable)
    assert other.status_code == (401 if proxies else 429)
    with app.app_context():
        row = AuditLog.query.filter_by(action="auth.login_failed").first()
        assert row.after["address"] == ("203.0.113.7" if proxies else "127.0.0.1")


# ---- one timing for every username -------------------------------------------------------


def test_an_unknown_username_costs_a_password_hash_like_a_known_one(site, client, monkeypatch):
    checked = []
    real = accounts.check_password_hash
    monkeypatch.setattr(
        accounts, "check_password_hash", lambda h, p: checked.append(h) or real(h, p)
    )
    assert sign_in(client, "no-such-user", "wrong-guess").status_code == 401
    assert sign_in(client, "uP1", "wrong-guess").status_code == 401
    unknown, known = checked
    assert unknown.split("$")[0] == known.split("$")[0]  # the same method and cost

    def took(username: str) -> float:
        start = time.perf_counter()
        sign_in(client, username, "wrong-guess", environ_base={"REMOTE_ADDR": username})
        return time.perf_counter() - start

    unknown_ms = statistics.median(took("no-such-user") for _ in range(3))
    known_ms = statistics.median(took("uP1") for _ in range(3))
    assert unknown_ms > 0.5 * known_ms  # was 23 ms against 181 ms


def test_both_refusals_say_the_same(site, client):
    unknown = sign_in(client, "no-such-user", "wrong-guess")
    wrong = sign_in(client, "uP1", "wrong-guess")
    assert "用户名或密码错误" in text(unknown) and "用户名或密码错误" in text(wrong)
    assert token(client, "no-such-user", "x").get_json() == token(client, "uP1", "x").get_json()


# ---- revocation ---------------------------------------------------------------------------


def test_a_session_cookie_replayed_after_logout_is_refused(site, client):
    assert sign_in(client).status_code == 302
    cookie = client.get_cookie("session").value
    replay = site.test_client()
    replay.set_cookie("session", cookie)
    assert replay.get("/").status_code == 200  # the control: the copied cookie worked

    client.post("/logout")

    assert replay.get("/").status_code == 302
    assert replay.get("/").headers["Location"].startswith("/login")
    assert sign_in(client).status_code == 302  # signing in again works


def test_a_session_ends_twelve_hours_after_signing_in(site, client):
    with time_machine.travel(time.time(), tick=False) as clock:
        sign_in(client)
        clock.shift(timedelta(hours=11, minutes=50))
        assert client.get("/").status_code == 200  # the control: a working day
        clock.shift(timedelta(minutes=20))
        assert client.get("/").headers["Location"].startswith("/login")


def test_logout_is_by_post_only(site, client):
    sign_in(client)
    assert client.get("/logout").status_code == 405
    assert client.get("/").status_code == 200
    page = text(client.get("/"))
    assert 'method="post" action="/logout"' in page and 'name="csrf_token"' in page


def test_a_token_issued_before_a_password_change_is_refused(site, client, world):
    old = token(client).get_json()["token"]
    assert client.get("/api/v1/tasks", headers=bearer(old)).status_code == 200
    sign_in(client)

    resp = client.post(
        "/account",
        data={
            "current_password": PASSWORD,
            "new_password": NEW_PASSWORD,
            "confirm_password": NEW_PASSWORD,
        },
    )

    assert resp.status_code == 302
    refused = client.get("/api/v1/tasks", headers=bearer(old))
    assert refused.status_code == 401 and "已失效" in refused.get_json()["error"]["message"]
    assert client.get("/").status_code == 200  # this browser stays signed in
    assert token(client).status_code == 401  # the old password no longer works
    new = token(client, password=NEW_PASSWORD).get_json()["token"]
    assert client.get("/api/v1/tasks", headers=bearer(new)).status_code == 200


def test_a_token_issued_before_logout_is_refused(site, client):
    old = token(client).get_json()["token"]
    sign_in(client)
    client.post("/logout")
    assert client.get("/api/v1/tasks", headers=bearer(old)).status_code == 401
    new = token(client).get_json()["token"]
    assert client.get("/api/v1/tasks", headers=bearer(new)).status_code == 200


def test_signing_out_everywhere_ends_every_session_and_token(site, client):
    other = site.test_client()
    sign_in(other)
    old = token(client).get_json()["token"]
    sign_in(client)

    resp = client.post("/account/sign-out-everywhere", follow_redirects=True)

    assert "已在所有设备上退出登录" in text(resp)
    assert other.get("/").status_code == 302
    assert client.get("/").status_code == 302
    assert client.get("/api/v1/tasks", headers=bearer(old)).status_code == 401


# ---- the password page --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("form", "field", "message"),
    [
        ({"current_password": "not-mine"}, "current_password", "当前密码不正确"),
        ({"new_password": "short"}, "new_password", "密码太短"),
        ({"new_password": "xueji2026"}, "new_password", "密码太短"),
        ({"new_password": "uP1-is-my-name"}, "new_password", "不能包含用户名"),
        ({"new_password": "password123"}, "new_password", "过于常见"),
        ({"new_password": PASSWORD}, "new_password", "密码太短"),
        ({"confirm_password": "something-else"}, "confirm_password", "两次输入的新密码不一致"),
    ],
)
def test_the_password_page_names_the_field_at_fault(site, client, form, field, message):
    sign_in(client)
    data = {
        "current_password": PASSWORD,
        "new_password": NEW_PASSWORD,
        "confirm_password": form.get("new_password", NEW_PASSWORD),
        **form,
    }
    resp = client.post("/account", data=data)
    assert resp.status_code == 422
    page = text(resp)
    assert message in page and "密码未修改" in page
    assert re.search(rf'has-error">\s*<label class="label" for="{field}"', page)
    assert token(client).status_code == 200  # nothing changed


def test_the_password_page_is_in_chinese_and_has_a_csrf_token(site, client):
    assert client.get("/account").status_code == 302  # signed-in users only
    sign_in(client)
    page = text(client.get("/account"))
    assert "修改密码" in page and "当前密码" in page and "再次输入新密码" in page
    assert page.count('name="csrf_token"') >= 3  # logout, password, sign out everywhere


@pytest.mark.parametrize(
    ("password", "message"),
    [
        ("short7!", "密码太短"),
        ("xueji2026", "密码太短"),
        ("my-xueji2026-pass", "演示密码"),
        ("clerk01-password", "用户名"),
        ("Clerk01Password", "用户名"),
        ("1qaz2wsx3edc", "过于常见"),
        ("QWERTYUIOP", "过于常见"),
        ("aaaaaaaaaaaa", "过于简单"),
        ("x" * 129, "密码太长"),
    ],
)
def test_the_policy_refuses_guessable_passwords(password, message):
    assert message in passwords.problem(password, "clerk01")
    assert passwords.problem("Lantern-harbor-73", "clerk01") is None  # the control


# ---- set-password and create-user ---------------------------------------------------------


def test_set_password_from_the_terminal_revokes_sessions_and_tokens(site, client, runner):
    old = token(client).get_json()["token"]
    sign_in(client)

    result = runner.invoke(args=["set-password", "uP1", "--password-stdin"], input="xueji2026\n")
    assert result.exit_code == 1 and "密码不符合要求" in result.stderr
    assert client.get("/api/v1/tasks", headers=bearer(old)).status_code == 200  # unchanged

    result = runner.invoke(
        args=["set-password", "uP1", "--password-stdin"], input=f"{NEW_PASSWORD}\n"
    )
    assert result.exit_code == 0, result.output
    assert "已为 uP1 设置新密码" in result.stdout
    assert client.get("/api/v1/tasks", headers=bearer(old)).status_code == 401
    assert client.get("/").status_code == 302
    assert token(client, password=NEW_PASSWORD).status_code == 200
    row = AuditLog.query.filter_by(action="auth.password_set").one()
    assert row.actor.startswith("cli:")


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["set-password", "ghost", "--password-stdin"], "用户名 ghost 不存在"),
        (["set-password", "uP1"], "--password-stdin"),
    ],
)
def test_set_password_refusals(runner, world, args, message):
    result = runner.invoke(args=args, input=f"{NEW_PASSWORD}\n")
    assert result.exit_code == 1 and message in result.stderr


def test_create_user_applies_the_policy(runner, world):
    args = ["create-user", "clerk01", "--org", "P1", "--role", "school", "--password-stdin"]
    result = runner.invoke(args=args, input="clerk01-secret\n")
    assert result.exit_code == 1 and "密码不能包含用户名" in result.stderr
    assert User.query.filter_by(username="clerk01").first() is None
    result = runner.invoke(args=args, input=f"{NEW_PASSWORD}\n")
    assert result.exit_code == 0, result.output


# ---- frozen accounts, disabling, signing out by an admin ---------------------------------


def _idle(user: User, days: int) -> None:
    user.created_at = user.last_login_at = utcnow() - timedelta(days=days)
    user.unfrozen_at = None
    db.session.commit()


def test_an_account_unused_for_180_days_is_frozen_until_an_admin_lifts_it(site, client, world):
    _idle(world.users["P1"], 181)
    _idle(world.users["P3"], 179)  # the control: not yet

    refused = sign_in(client)
    assert refused.status_code == 401 and "已被封存" in text(refused)
    assert "请联系平台管理员解封" in text(refused)
    assert "已被封存" in token(client).get_json()["error"]["message"]
    wrong = sign_in(client, password="wrong-guess")  # says nothing of the freeze
    assert "已被封存" not in text(wrong) and "用户名或密码错误" in text(wrong)
    assert sign_in(site.test_client(), "uP3").status_code == 302

    admin = site.test_client()
    sign_in(admin, "admin")
    page = text(admin.get("/admin/users?q=uP1"))
    assert "已封存" in page
    admin.post(f"/admin/users/{world.users['P1'].id}/unfreeze")

    assert sign_in(client).status_code == 302
    assert db.session.get(User, world.users["P1"].id).last_login_at > utcnow() - timedelta(1)


def test_an_admin_disabling_a_user_revokes_their_cookie_and_token(site, client, world):
    old = token(client).get_json()["token"]
    sign_in(client)
    admin = site.test_client()
    sign_in(admin, "admin")

    admin.post(f"/admin/users/{world.users['P1'].id}/disable")

    assert client.get("/").status_code == 302
    assert client.get("/api/v1/tasks", headers=bearer(old)).status_code == 401
    assert "该账号已停用" in text(sign_in(client))
    admin.post(f"/admin/users/{world.users['P1'].id}/enable")
    assert sign_in(client).status_code == 302  # the control: enabled again
    assert AuditLog.query.filter_by(action="user.disable").one().user_id == world.users["admin"].id


def test_an_admin_signs_a_user_out_everywhere(site, client, world):
    old = token(client).get_json()["token"]
    sign_in(client)
    admin = site.test_client()
    sign_in(admin, "admin")

    resp = admin.post(f"/admin/users/{world.users['P1'].id}/revoke", follow_redirects=True)

    assert "已让 uP1 在所有设备上退出" in text(resp)
    assert client.get("/").status_code == 302
    assert client.get("/api/v1/tasks", headers=bearer(old)).status_code == 401
    assert admin.get("/").status_code == 200  # the admin's own session is untouched


def test_only_admins_manage_accounts_and_not_their_own_switch(site, client, world):
    sign_in(client)
    assert client.get("/admin/users").status_code == 403
    assert client.post(f"/admin/users/{world.users['P3'].id}/disable").status_code == 403
    admin = site.test_client()
    sign_in(admin, "admin")
    resp = admin.post(f"/admin/users/{world.users['admin'].id}/disable", follow_redirects=True)
    assert "不能停用自己的账号" in text(resp)
    assert db.session.get(User, world.users["admin"].id).active
    assert admin.post("/admin/users/999999/disable").status_code == 404


# ---- audits -------------------------------------------------------------------------------


def test_every_attempt_is_audited_with_address_and_user_agent(site, client, world):
    agent = {"User-Agent": "Mozilla/5.0 测试浏览器"}
    sign_in(client, password="wrong-guess", headers=agent)
    sign_in(client, headers=agent)
    token(client, "no-such-user", "wrong-guess")

    failed = AuditLog.query.filter_by(action="auth.login_failed").one()
    assert failed.user_id is None and failed.object_id == str(world.users["P1"].id)
    assert failed.after["address"] == "127.0.0.1"
    assert failed.after["user_agent"] == "Mozilla/5.0 测试浏览器"
    ok = AuditLog.query.filter_by(action="auth.login").one()
    assert ok.user_id == world.users["P1"].id and ok.after["user_agent"].startswith("Mozilla")
    refused = AuditLog.query.filter_by(action="auth.token_refused").one()
    assert refused.after["username"] == "no-such-user" and refused.after["channel"] == "api"


def test_logout_and_the_account_forms_need_the_csrf_token(csrf_app, csrf_world):  # noqa: F811
    client = csrf_app.test_client()

    def csrf_token(path: str) -> str:
        return re.search(r'name="csrf_token" value="([^"]+)"', text(client.get(path))).group(1)

    data = {"username": "uP1", "password": PASSWORD, "csrf_token": csrf_token("/login")}
    assert client.post("/login", data=data).status_code == 302
    for path in ("/logout", "/account", "/account/sign-out-everywhere"):
        assert client.post(path).status_code == 400  # forged from another site: refused
    assert client.get("/").status_code == 200
    assert client.post("/logout", data={"csrf_token": csrf_token("/")}).status_code == 302
    assert client.get("/").status_code == 302


def test_guessing_the_current_password_on_the_password_page_is_throttled(site, client):
    sign_in(client)
    wrong = {"current_password": "guess", "new_password": NEW_PASSWORD}
    for _ in range(10):
        assert client.post("/account", data=wrong).status_code == 422
    resp = client.post("/account", data=wrong)
    assert resp.status_code == 429 and "秒后再试" in text(resp)
    other = site.test_client()  # the control: another user's page is not held up
    sign_in(other, "uP3")
    assert other.post("/account", data=wrong).status_code == 422

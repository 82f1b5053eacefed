"""The `xueji` commands other than imports: create-user, serve, worker, demo (and its data)."""

from __future__ import annotations

import os

import pytest

from forms.validators import check_id_number
from webapp import demo_data, server
from webapp.cli import services
from webapp.extensions import db
from webapp.models import ROLES, AuditLog, Organization, Student, User
from webapp.models.vocabulary import STAGE_GRADES
from webapp.security import QuietRequestHandler


def create_user(runner, *args, password="good-password\n"):
    return runner.invoke(args=["create-user", *args], input=password)


# ---- create-user -----------------------------------------------------------------------


def test_create_user_hashes_the_password_and_logs_it(runner, world):
    result = create_user(
        runner, "registrar2", "--org", "H1", "--role", "school", "--password-stdin"
    )

    assert result.exit_code == 0, result.output
    assert "已创建用户 registrar2" in result.stdout and "海陵高级中学" in result.stdout
    user = User.query.filter_by(username="registrar2").one()
    assert (user.role, user.org.code) == ("school", "H1")
    assert user.password_hash != "good-password"
    assert user.check_password("good-password")
    assert not user.check_password("good-password\n")
    log = AuditLog.query.filter_by(action="user.create").one()
    assert log.user_id is None and log.object_id == str(user.id)
    assert log.after == {"username": "registrar2", "role": "school", "org": "H1"}


@pytest.mark.parametrize(
    ("org", "role"),
    [("321202", "county"), ("3212", "city"), ("32", "province"), ("P1", "admin"), ("32", "admin")],
)
def test_create_user_role_fits_the_org_level(runner, world, org, role):
    result = create_user(runner, "new_user", "--org", org, "--role", role, "--password-stdin")

    assert result.exit_code == 0, result.output
    assert User.query.filter_by(username="new_user").one().role == role


@pytest.mark.parametrize(
    ("args", "password", "message"),
    [
        (["--org", "P1", "--role", "school", "--password-stdin"], "\n", "密码为空"),
        (["--org", "P1", "--role", "school", "--password-stdin"], "", "密码为空"),
        (["--org", "P1", "--role", "school", "--password-stdin"], "short7!\n", "密码太短"),
        (["--org", "NOPE", "--role", "school", "--password-stdin"], None, "单位代码 NOPE 不存在"),
        (["--org", "P1", "--role", "county", "--password-stdin"], None, "不适用于海陵实验小学"),
        (["--org", "321202", "--role", "school", "--password-stdin"], None, "不适用于海陵区"),
        (["--org", "3212", "--role", "county", "--password-stdin"], None, "不适用于泰州市"),
        (["--org", "321202", "--role", "city", "--password-stdin"], None, "不适用于海陵区"),
        (["--org", "3212", "--role", "province", "--password-stdin"], None, "不适用于泰州市"),
        (["--org", "P1", "--role", "teacher", "--password-stdin"], None, "角色“teacher”无效"),
        (["--org", "P1", "--role", "school"], None, "--password-stdin"),
        (["--role", "school", "--password-stdin"], None, "--org"),
    ],
)
def test_create_user_refusals_create_nothing(runner, world, args, password, message):
    before = User.query.count()

    result = create_user(
        runner, "newcomer", *args, password="good-password\n" if password is None else password
    )

    assert result.exit_code != 0
    assert message in result.stderr
    assert User.query.count() == before
    assert AuditLog.query.filter_by(action="user.create").count() == 0


def test_create_user_refuses_a_taken_username(runner, world):
    old_hash = world.users["uP1b"].password_hash

    result = create_user(runner, "uP1b", "--org", "P1", "--role", "school", "--password-stdin")

    assert result.exit_code != 0
    assert "用户名 uP1b 已存在" in result.stderr
    assert User.query.filter_by(username="uP1b").one().password_hash == old_hash


# ---- serve and worker ------------------------------------------------------------------


@pytest.fixture
def served(monkeypatch):
    calls = []
    monkeypatch.setattr(server, "run", lambda *a, **kw: calls.append(a))
    return calls


@pytest.fixture
def demo_served(monkeypatch):
    """The demo keeps one Werkzeug process."""
    calls = []
    monkeypatch.setattr(services, "run_simple", lambda *a, **kw: calls.append((a, kw)))
    return calls


def test_serve_runs_the_production_server_with_workers_from_the_cpu_count(runner, app, served):
    result = runner.invoke(args=["serve", "--host", "0.0.0.0", "--port", "8123"])
    assert result.exit_code == 0, result.output
    assert served == [("0.0.0.0", 8123, 2 * (os.cpu_count() or 1) + 1)]
    assert runner.invoke(args=["serve", "--workers", "2"]).exit_code == 0
    assert served[-1] == ("127.0.0.1", 5000, 2)
    refused = runner.invoke(args=["serve", "--workers", "0"])
    assert refused.exit_code != 0 and served[-1][2] == 2
    assert User.query.count() == 0  # serving does not load any data


def test_worker_needs_redis_url(runner, app):
    app.config["REDIS_URL"] = None

    result = runner.invoke(args=["worker"])

    assert result.exit_code != 0
    assert "未设置 REDIS_URL" in result.stderr


def test_worker_reports_an_unreachable_redis(runner, app):
    app.config["REDIS_URL"] = "redis://127.0.0.1:1/0"

    result = runner.invoke(args=["worker", "--burst"])

    assert result.exit_code != 0
    assert "无法连接 REDIS_URL 指定的 Redis" in result.stderr


def test_worker_listens_on_the_xueji_queue(runner, app):
    import redis

    url = "redis://127.0.0.1:6379/15"
    redis.Redis.from_url(url).ping()  # CI starts Redis; without it this fails, never skips
    app.config["REDIS_URL"] = url

    result = runner.invoke(args=["worker", "--burst"])

    assert result.exit_code == 0, result.output
    assert "监听队列“xueji”" in result.stdout


# ---- demo ------------------------------------------------------------------------------


def test_demo_loader_gives_every_role_a_user_and_is_idempotent(app):
    summary = demo_data.load()

    assert summary.created
    assert {u.role for u in summary.users} == set(ROLES)
    users = {u.username: User.query.filter_by(username=u.username).one() for u in summary.users}
    assert all(u.check_password(demo_data.DEMO_PASSWORD) for u in users.values())
    first, second, other = users["school_hl"], users["school_hl2"], users["school_gg"]
    assert first.org is second.org and first.org is not other.org
    county_a, county_b = first.org.ancestor("county"), other.org.ancestor("county")
    assert county_a is not county_b
    assert county_a.parent is county_b.parent and county_a.parent.name == "泰州市"
    assert users["county_hl"].org is county_a and users["county_gg"].org is county_b
    assert users["city_tz"].org.code == "3212" and users["province_js"].org.level == "province"
    assert Organization.query.filter_by(level="city").count() == 2
    assert Organization.query.filter_by(level="school", ownership="private").count() == 1

    schools = Organization.query.filter_by(level="school").all()
    stages = {s for school in schools for s in school.stage_list}
    assert stages == {"primary", "junior", "senior", "vocational"}
    for school in schools:
        pupils = Student.query.filter_by(school_id=school.id).all()
        assert len(pupils) == demo_data.STUDENTS_PER_SCHOOL, school.name
        for pupil in pupils:
            assert check_id_number(pupil.id_number, pupil.birth_date, pupil.gender)
            assert any(pupil.grade in STAGE_GRADES[s] for s in school.stage_list)
            assert pupil.status == "enrolled" and pupil.status_number == "G" + pupil.id_number
            assert pupil.class_name.endswith("班") and pupil.guardian_name
    numbers = [s.id_number for s in Student.query]
    assert len(numbers) == len(set(numbers))
    counts = (Organization.query.count(), User.query.count(), Student.query.count())

    again = demo_data.load()

    assert not again.created
    assert [u.username for u in again.users] == [u.username for u in summary.users]
    assert (Organization.query.count(), User.query.count(), Student.query.count()) == counts
    assert AuditLog.query.filter_by(action="demo.load").count() == 1


def test_demo_command_lists_users_then_serves(runner, app, demo_served):
    served = demo_served
    result = runner.invoke(args=["demo"])

    assert result.exit_code == 0, result.output
    assert "演示数据已载入" in result.stdout
    for username, *_ in demo_data.USERS:
        assert username in result.stdout
    assert demo_data.DEMO_PASSWORD in result.stdout
    assert "http://127.0.0.1:5000/" in result.stdout
    ((args, kwargs),) = served
    assert args[:2] == ("127.0.0.1", 5000)
    assert kwargs["request_handler"] is QuietRequestHandler  # no "Werkzeug/x Python/y" banner

    second = runner.invoke(args=["demo", "--port", "5055"])

    assert second.exit_code == 0, second.output
    assert "沿用已有的演示数据" in second.stdout
    assert served[1][0][:2] == ("127.0.0.1", 5055)
    db.session.remove()
    assert User.query.count() == len(demo_data.USERS)

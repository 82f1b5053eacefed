"""Notices by e-mail when SMTP is set up, against a local SMTP sink started by the test."""

from __future__ import annotations

import email
import email.policy
import logging
import socket

import pytest
from aiosmtpd.controller import Controller

from webapp.extensions import db
from webapp.models import Notification, User
from workflows import engine, mail

from .flows import approve_all, transfer_data


class Sink:
    """Keeps every message it is sent: (envelope recipients, parsed message)."""

    def __init__(self):
        self.received: list[tuple[list[str], email.message.EmailMessage]] = []

    async def handle_DATA(self, server, session, envelope):
        message = email.message_from_bytes(envelope.content, policy=email.policy.default)
        self.received.append((list(envelope.rcpt_tos), message))
        return "250 OK"

    def to(self, address: str) -> list[email.message.EmailMessage]:
        return [m for rcpt, m in self.received if address in rcpt]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def smtp(app):
    sink = Sink()
    controller = Controller(sink, hostname="127.0.0.1", port=free_port())
    controller.start()
    app.config.update(
        SMTP_HOST="127.0.0.1", SMTP_PORT=controller.port, SMTP_FROM="学籍通 <xueji@edu.example>"
    )
    yield sink
    controller.stop()


def with_email(world, code: str, address: str) -> User:
    user = world.users[code]
    user.email = address
    db.session.commit()
    return user


def test_a_new_task_is_mailed_to_the_organisations_users_with_an_address(world, smtp):
    with_email(world, "321203", "shenhe@gaogang.example")
    colleague = world.user("u321203b", "321203", "county")  # no address: in-app only
    gone = world.user("u321203c", "321203", "county")
    gone.email, gone.active = "left@gaogang.example", False
    other_org = with_email(world, "321202", "hailing@example.test")
    db.session.commit()
    student = world.student("P1", grade=4, name="王小明")

    engine.start("transfer", world.users["P3"], transfer_data(student, "P3"))

    assert [rcpt for rcpt, _ in smtp.received] == [["shenhe@gaogang.example"]]
    (message,) = smtp.to("shenhe@gaogang.example")
    assert message["To"] == "shenhe@gaogang.example"
    assert message["From"] == "学籍通 <xueji@edu.example>"
    assert message["Subject"] == "【学籍通】新的待办任务"
    body = message.get_content()
    assert "新的待办任务：转学申请（学生 王小明）" in body
    assert "转入地县级教育行政部门审核" in body and "请登录学籍通" in body
    assert colleague.email is None and other_org.email not in str(smtp.received)


def test_completion_notices_are_mailed_too(world, smtp):
    with_email(world, "P1", "p1@school.example")
    with_email(world, "P3", "p3@school.example")
    student = world.student("P1", grade=4, name="李小红")
    approve_all(world, engine.start("transfer", world.users["P3"], transfer_data(student, "P3")))
    (done_p3,) = smtp.to("p3@school.example")
    assert done_p3["Subject"] == "【学籍通】业务办结"
    assert "学生 李小红 的转学手续已办结" in done_p3.get_content()
    subjects = [m["Subject"] for m in smtp.to("p1@school.example")]
    assert subjects == ["【学籍通】他校发起的申请", "【学籍通】新的待办任务", "【学籍通】业务办结"]


def test_nothing_is_mailed_before_the_commit_or_after_a_rollback(world, smtp):
    with_email(world, "P1", "p1@school.example")
    org_id = world.orgs["P1"].id
    db.session.add(Notification(org_id=org_id, role="school", kind="task", message="甲"))
    db.session.flush()
    assert smtp.received == []
    db.session.rollback()
    assert smtp.received == []
    db.session.add(Notification(org_id=org_id, role="school", kind="reminder", message="乙"))
    db.session.commit()
    (message,) = smtp.to("p1@school.example")
    assert message["Subject"] == "【学籍通】办理期限提醒" and message.get_content().startswith("乙")


def test_a_mail_server_down_loses_only_the_mail(world, app, caplog):
    with_email(world, "321203", "shenhe@gaogang.example")
    app.config.update(SMTP_HOST="127.0.0.1", SMTP_PORT=free_port(), SMTP_TIMEOUT=2)
    student = world.student("P1", grade=4)
    with caplog.at_level(logging.ERROR):
        instance = engine.start("transfer", world.users["P3"], transfer_data(student, "P3"))
    db.session.expire_all()
    assert instance.status == "running" and len(engine.open_tasks(instance)) == 1
    assert Notification.query.filter_by(kind="task").count() == 1
    assert "could not send 1 notice mail" in caplog.text


def test_without_smtp_settings_nothing_is_sent(world, monkeypatch):
    with_email(world, "321203", "shenhe@gaogang.example")

    def refuse(*args, **kwargs):
        raise AssertionError("no mail without SMTP settings")

    monkeypatch.setattr(mail, "send", refuse)
    student = world.student("P1", grade=4)
    engine.start("transfer", world.users["P3"], transfer_data(student, "P3"))
    assert Notification.query.filter_by(kind="task").count() == 1


def test_settings_come_from_the_environment(monkeypatch):
    from webapp.config import from_env

    for key, value in {
        "XUEJI_SMTP_HOST": "smtp.example.cn",
        "XUEJI_SMTP_PORT": "587",
        "XUEJI_SMTP_FROM": "xueji@example.cn",
        "XUEJI_SMTP_USER": "xueji",
        "XUEJI_SMTP_PASSWORD": "secret",
        "XUEJI_SMTP_TLS": "starttls",
    }.items():
        monkeypatch.setenv(key, value)
    settings = mail.settings(from_env())
    assert settings["SMTP_HOST"] == "smtp.example.cn" and settings["SMTP_PORT"] == 587
    assert (settings["SMTP_USER"], settings["SMTP_TLS"]) == ("xueji", "starttls")
    monkeypatch.delenv("XUEJI_SMTP_HOST")
    assert mail.settings(from_env()) is None


def test_create_user_takes_an_optional_email(runner, world):
    result = runner.invoke(
        args=[
            "create-user",
            "zhang",
            "--org",
            "P1",
            "--role",
            "school",
            "--password-stdin",
            "--email",
            "zhang@school.example",
        ],
        input="good-password\n",
    )
    assert result.exit_code == 0, result.output
    assert "邮箱 zhang@school.example" in result.stdout
    assert User.query.filter_by(username="zhang").one().email == "zhang@school.example"
    bad = runner.invoke(
        args=["create-user", "li", "--org", "P1", "--role", "school", "--password-stdin"]
        + ["--email", "not-an-address"],
        input="good-password\n",
    )
    assert bad.exit_code == 1 and "电子邮箱“not-an-address”格式不正确" in bad.output
    assert User.query.filter_by(username="li").first() is None

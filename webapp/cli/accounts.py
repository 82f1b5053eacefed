"""Account commands: create a user, set a password (always from standard input)."""

from __future__ import annotations

import re
import sys

import click

from ..auth.passwords import problem
from ..models import LEVEL_LABELS, ROLE_LABELS, ROLES, Organization, User, audit, db
from .common import fail

EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")


def register(cli: click.Group) -> None:
    @cli.command("create-user")
    @click.argument("username")
    @click.option("--org", "org_code", metavar="CODE", help="所属单位代码。")
    @click.option("--role", metavar="school|county|city|province|admin", help="角色。")
    @click.option("--password-stdin", is_flag=True, help="从标准输入读取密码。")
    @click.option(
        "--email",
        metavar="ADDRESS",
        help="电子邮箱（可选）：配置了邮件服务器时，通知同时发到这里。",
    )
    @click.option("--lead", is_flag=True, help="本单位负责人：可释放、转交同事认领的任务。")
    def create_user(
        username: str,
        org_code: str | None,
        role: str | None,
        password_stdin: bool,
        email: str | None,
        lead: bool,
    ) -> None:
        """创建用户：密码从标准输入读取；角色须与单位级别相符（admin 不限）。"""
        _create_user(username, org_code, role, password_stdin, email, lead)

    @cli.command("set-lead")
    @click.argument("username")
    @click.option("--off", is_flag=True, help="取消负责人身份。")
    def set_lead(username: str, off: bool) -> None:
        """设为（或用 --off 取消）本单位负责人：负责人可释放、转交同事认领的任务。"""
        _set_lead(username, not off)

    @cli.command("set-password")
    @click.argument("username")
    @click.option("--password-stdin", is_flag=True, help="从标准输入读取新密码。")
    def set_password(username: str, password_stdin: bool) -> None:
        """设置用户的新密码（从标准输入读取），并让该用户此前的登录和 API 令牌全部失效。"""
        _set_password(username, password_stdin)


def _create_user(
    username: str,
    org_code: str | None,
    role: str | None,
    from_stdin: bool,
    email: str | None = None,
    lead: bool = False,
) -> None:
    if not username.strip() or len(username) > 64 or any(ch.isspace() for ch in username):
        fail(f"用户名“{username}”无效：不能为空、不能含空格，最多 64 个字符。")
    if role not in ROLES:
        fail(f"角色“{role or ''}”无效：--role 应为 {'、'.join(ROLES)} 之一。")
    if not org_code:
        fail("请用 --org 指定所属单位代码。")
    if not from_stdin:
        fail("请加 --password-stdin，并从标准输入提供密码（密码不要写在命令行上）。")
    if email is not None:
        email = email.strip()
        if len(email) > 254 or not EMAIL.fullmatch(email):
            fail(f"电子邮箱“{email}”格式不正确，例如 zhang@school.edu.cn。")
    password = _password_from_stdin(username)
    if db.session.scalar(db.select(User).filter_by(username=username)) is not None:
        fail(f"用户名 {username} 已存在。")
    org = db.session.scalar(db.select(Organization).filter_by(code=org_code))
    if org is None:
        fail(f"单位代码 {org_code} 不存在。")
    if role != "admin" and role != org.level:
        fail(
            f"角色 {role}（{ROLE_LABELS[role]}）不适用于{org.name}"
            f"（{LEVEL_LABELS[org.level]}级单位）：应为 {org.level} 或 admin。"
        )
    user = User(username=username, role=role, org=org, email=email or None, lead=lead)
    user.set_password(password)
    db.session.add(user)
    db.session.flush()
    after = {"username": username, "role": role, "org": org.code}
    if user.email:
        after["email"] = user.email
    if lead:
        after["lead"] = True
    audit(None, "user.create", user, after=after)
    db.session.commit()
    mail = f"，邮箱 {user.email}" if user.email else ""
    head = "，本单位负责人" if lead else ""
    click.echo(
        f"已创建用户 {username}：{ROLE_LABELS[role]}，{org.name}（{org.code}）{head}{mail}。"
    )


def _set_lead(username: str, lead: bool) -> None:
    user = db.session.scalar(db.select(User).filter_by(username=username))
    if user is None:
        fail(f"用户名 {username} 不存在。")
    before = {"lead": user.lead}
    user.lead = lead
    audit(None, "user.set_lead", user, before, {"username": username, "lead": lead})
    db.session.commit()
    if lead:
        click.echo(f"已将 {username} 设为{user.org.name}负责人：可释放、转交本单位同事认领的任务。")
    else:
        click.echo(f"已取消 {username} 的负责人身份。")


def _password_from_stdin(username: str) -> str:
    """The password on standard input (one line), if the policy accepts it for `username`."""
    password = sys.stdin.read().rstrip("\r\n")
    if not password:
        fail("密码为空：请从标准输入提供密码。")
    refused = problem(password, username)
    if refused is not None:
        fail(f"密码不符合要求：{refused}")
    return password


def _set_password(username: str, from_stdin: bool) -> None:
    if not from_stdin:
        fail("请加 --password-stdin，并从标准输入提供密码（密码不要写在命令行上）。")
    user = db.session.scalar(db.select(User).filter_by(username=username))
    if user is None:
        fail(f"用户名 {username} 不存在。")
    user.set_password(_password_from_stdin(username))
    user.revoke_sessions()
    audit(None, "auth.password_set", user, None, {"username": username})
    db.session.commit()
    click.echo(f"已为 {username} 设置新密码；该用户此前的登录和 API 令牌已全部失效。")

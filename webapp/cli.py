"""The `xueji` command line: Flask CLI commands registered by the factory.

Messages go to the terminal in Chinese; refusals go to standard error and exit non-zero so
scripts can tell success from failure.
"""

from __future__ import annotations

import functools
import getpass
import os
import re
import sys
from collections.abc import Callable
from pathlib import Path
from typing import NoReturn

import click
from flask import Flask, current_app
from flask.cli import FlaskGroup
from werkzeug.serving import run_simple

EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")


def register(app: Flask) -> None:
    """Attach every command to `app.cli`, so `flask --app webapp` and `xueji` share them."""

    @app.cli.command("init-db")
    def init_db() -> None:
        """创建或升级数据库结构（Alembic 迁移），并部署自带的流程。"""
        _migrate()
        click.echo("数据库已就绪。")

    @app.cli.group("import")
    def import_group() -> None:
        """从 CSV/XLSX 导入单位或学生；任何一行有错，整个文件都不写入。"""

    @import_group.command("orgs")
    @click.argument("file")
    def import_orgs(file: str) -> None:
        """导入单位：code,name,level,parent_code，学校另填 stage,ownership,star；按代码新增或更新。"""
        from .imports import import_orgs

        _run_import(import_orgs, file)

    @import_group.command("students")
    @click.argument("file")
    def import_students(file: str) -> None:
        """导入学生（在籍，学籍号为 G+身份证号）：id_number,name,gender,birth_date,school_code,grade 等列。"""
        from .imports import import_students

        _run_import(import_students, file)

    @import_group.command("results")
    @click.argument("file")
    def import_results(file: str) -> None:
        """导入成绩（合格/不合格）：id_number,term,subject,kind,result,credits 列；补考成绩替换原成绩并保留历史。"""
        from .imports import import_results

        _run_import(import_results, file)

    @app.cli.command("create-user")
    @click.argument("username")
    @click.option("--org", "org_code", metavar="CODE", help="所属单位代码。")
    @click.option("--role", metavar="school|county|city|province|admin", help="角色。")
    @click.option("--password-stdin", is_flag=True, help="从标准输入读取密码。")
    @click.option(
        "--email",
        metavar="ADDRESS",
        help="电子邮箱（可选）：配置了邮件服务器时，通知同时发到这里。",
    )
    def create_user(
        username: str,
        org_code: str | None,
        role: str | None,
        password_stdin: bool,
        email: str | None,
    ) -> None:
        """创建用户：密码从标准输入读取；角色须与单位级别相符（admin 不限）。"""
        _create_user(username, org_code, role, password_stdin, email)

    @app.cli.command("set-password")
    @click.argument("username")
    @click.option("--password-stdin", is_flag=True, help="从标准输入读取新密码。")
    def set_password(username: str, password_stdin: bool) -> None:
        """设置用户的新密码（从标准输入读取），并让该用户此前的登录和 API 令牌全部失效。"""
        _set_password(username, password_stdin)

    @app.cli.command("serve")
    @click.option("--host", default="127.0.0.1", show_default=True)
    @click.option("--port", default=5000, type=int, show_default=True)
    @click.option(
        "--workers",
        type=click.IntRange(min=1),
        default=None,
        help="工作进程数（默认：CPU 核数 × 2 + 1）。",
    )
    def serve(host: str, port: int, workers: int | None) -> None:
        """启动生产网页服务（gunicorn，多个工作进程；kill -HUP 主进程可平滑重启）；请先运行 init-db。"""
        _require_secret()
        from .server import default_workers, run

        workers = workers or default_workers()
        click.echo(f"学籍通已启动：http://{host}:{port}/（{workers} 个工作进程，按 Ctrl+C 停止）")
        run(host, port, workers)

    @app.cli.command("worker")
    @click.option("--burst", is_flag=True, help="处理完队列中已有的任务后退出。")
    def worker(burst: bool) -> None:
        """启动 RQ 后台任务进程（含定时调度），监听 REDIS_URL 上的“xueji”队列。"""
        _require_secret()
        _worker(burst)

    @app.cli.command("demo")
    @click.option("--host", default="127.0.0.1", show_default=True)
    @click.option("--port", default=5000, type=int, show_default=True)
    def demo(host: str, port: int) -> None:
        """演示：建库，载入演示数据（已有则沿用），列出演示用户，然后启动网页服务。"""
        _demo(host, port)

    @app.cli.command("backup")
    @click.argument("file")
    def backup_command(file: str) -> None:
        """把整个数据库（学籍、业务、上传材料、审计日志）备份到 FILE。"""
        _backup("backup", file)

    @app.cli.command("restore")
    @click.argument("file")
    def restore_command(file: str) -> None:
        """把 FILE 恢复到 DATABASE_URL 指定的空数据库（非空的数据库拒绝恢复）。"""
        _backup("restore", file)

    @app.cli.group("variant")
    def variant_group() -> None:
        """地区变体：市或县（区）执行的流程规则（县区自己的指定优先于所在市）。"""

    @variant_group.command("assign")
    @click.argument("org_code")
    @click.argument("variant")
    def variant_assign(org_code: str, variant: str) -> None:
        """指定市或县（区）执行的地区变体；VARIANT 为 default 时取消该单位自己的指定。"""
        _variant_assign(org_code, variant)

    @variant_group.command("list")
    def variant_list() -> None:
        """列出可用的地区变体，以及各市、县（区）的指定和实际执行的变体。"""
        _variant_list()

    _attribute_to_terminal(app.cli)


# Commands that run a service: what happens in them is done by users or workers, not by
# the person who started the process.
SERVICES = {"serve", "worker"}


def _attribute_to_terminal(group: click.Group) -> None:
    """Every other command's audit rows name `cli:<login user>`."""
    for name, command in group.commands.items():
        if isinstance(command, click.Group):
            _attribute_to_terminal(command)
        elif name not in SERVICES and command.callback is not None:
            command.callback = _as_terminal_user(command.callback)


def _as_terminal_user(callback: Callable) -> Callable:
    @functools.wraps(callback)
    def run(*args, **kwargs):
        from .models import acting_as

        with acting_as(f"cli:{_login_name()}"):
            return callback(*args, **kwargs)

    return run


def _login_name() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):  # no name for this uid (e.g. a bare container)
        return f"uid{os.getuid()}"


def _fail(message: str) -> NoReturn:
    click.echo(message, err=True)
    raise click.exceptions.Exit(1)


def _require_secret() -> None:
    """`serve` and `worker` run a deployment: never with the public demo key."""
    from .config import InsecureSecret, check_secret

    try:
        check_secret(current_app.config)
    except InsecureSecret as exc:
        _fail(str(exc))


def _migrate() -> None:
    from flask_migrate import upgrade

    from workflows import deploy

    from .extensions import db

    upgrade()
    deploy.sync_files()
    db.session.commit()


def _run_import(func: Callable, file: str) -> None:
    from .extensions import db

    name = Path(file).name
    try:
        data = Path(file).read_bytes()
    except OSError as exc:
        _fail(f"无法读取文件 {file}：{exc.strerror or exc}")
    result = func(data, name)
    if not result.ok:
        db.session.rollback()
        for error in result.errors:
            click.echo(str(error), err=True)
        _fail(f"{name}：共 {len(result.errors)} 处错误，未写入任何数据。")
    db.session.commit()
    if result.kind == "students":
        click.echo(f"{name}：已导入 {result.created} 名学生（在籍）。")
    elif result.kind == "results":
        click.echo(
            f"{name}：已导入 {result.created + result.updated} 条成绩，"
            f"其中 {result.updated} 条替换了同一学期同一科目的原成绩（补考）。"
        )
    else:
        click.echo(
            f"{name}：单位新增 {result.created}，更新 {result.updated}，未变 {result.unchanged}。"
        )


def _create_user(
    username: str,
    org_code: str | None,
    role: str | None,
    from_stdin: bool,
    email: str | None = None,
) -> None:
    from .extensions import db
    from .models import LEVEL_LABELS, ROLE_LABELS, ROLES, Organization, User, audit

    if not username.strip() or len(username) > 64 or any(ch.isspace() for ch in username):
        _fail(f"用户名“{username}”无效：不能为空、不能含空格，最多 64 个字符。")
    if role not in ROLES:
        _fail(f"角色“{role or ''}”无效：--role 应为 {'、'.join(ROLES)} 之一。")
    if not org_code:
        _fail("请用 --org 指定所属单位代码。")
    if not from_stdin:
        _fail("请加 --password-stdin，并从标准输入提供密码（密码不要写在命令行上）。")
    if email is not None:
        email = email.strip()
        if len(email) > 254 or not EMAIL.fullmatch(email):
            _fail(f"电子邮箱“{email}”格式不正确，例如 zhang@school.edu.cn。")
    password = _password_from_stdin(username)
    if db.session.scalar(db.select(User).filter_by(username=username)) is not None:
        _fail(f"用户名 {username} 已存在。")
    org = db.session.scalar(db.select(Organization).filter_by(code=org_code))
    if org is None:
        _fail(f"单位代码 {org_code} 不存在。")
    if role != "admin" and role != org.level:
        _fail(
            f"角色 {role}（{ROLE_LABELS[role]}）不适用于{org.name}"
            f"（{LEVEL_LABELS[org.level]}级单位）：应为 {org.level} 或 admin。"
        )
    user = User(username=username, role=role, org=org, email=email or None)
    user.set_password(password)
    db.session.add(user)
    db.session.flush()
    after = {"username": username, "role": role, "org": org.code}
    if user.email:
        after["email"] = user.email
    audit(None, "user.create", user, after=after)
    db.session.commit()
    mail = f"，邮箱 {user.email}" if user.email else ""
    click.echo(f"已创建用户 {username}：{ROLE_LABELS[role]}，{org.name}（{org.code}）{mail}。")


def _password_from_stdin(username: str) -> str:
    """The password on standard input (one line), if the policy accepts it for `username`."""
    from .auth.passwords import problem

    password = sys.stdin.read().rstrip("\r\n")
    if not password:
        _fail("密码为空：请从标准输入提供密码。")
    refused = problem(password, username)
    if refused is not None:
        _fail(f"密码不符合要求：{refused}")
    return password


def _set_password(username: str, from_stdin: bool) -> None:
    from .extensions import db
    from .models import User, audit

    if not from_stdin:
        _fail("请加 --password-stdin，并从标准输入提供密码（密码不要写在命令行上）。")
    user = db.session.scalar(db.select(User).filter_by(username=username))
    if user is None:
        _fail(f"用户名 {username} 不存在。")
    user.set_password(_password_from_stdin(username))
    user.revoke_sessions()
    audit(None, "auth.password_set", user, None, {"username": username})
    db.session.commit()
    click.echo(f"已为 {username} 设置新密码；该用户此前的登录和 API 令牌已全部失效。")


def _serve_demo(host: str, port: int) -> None:
    """The demo's single process (Werkzeug, threaded, no debugger)."""
    from workflows import jobs

    from .security import QuietRequestHandler

    jobs.scan_in_web_process_without_redis(current_app._get_current_object())
    click.echo(f"学籍通已启动：http://{host}:{port}/（按 Ctrl+C 停止）")
    run_simple(
        host,
        port,
        current_app._get_current_object(),
        threaded=True,
        use_reloader=False,
        use_debugger=False,
        request_handler=QuietRequestHandler,
    )


def _worker(burst: bool) -> None:
    url = current_app.config.get("REDIS_URL")
    if not url:
        _fail("未设置 REDIS_URL：后台任务进程需要 Redis，例如 REDIS_URL=redis://127.0.0.1:6379/0。")
    from redis import Redis
    from redis.exceptions import RedisError
    from rq import Worker

    from workflows import jobs, recovery

    connection = Redis.from_url(url)
    try:
        connection.ping()
    except RedisError as exc:
        _fail(f"无法连接 REDIS_URL 指定的 Redis：{exc}")
    every = float(current_app.config.get("SCAN_SECONDS", 30))
    if not burst:
        jobs.start_scan_thread(current_app._get_current_object(), every)
        recovery.start_scheduler_thread(current_app._get_current_object(), jobs.queue)
    click.echo(
        f"后台任务进程已启动，监听队列“{jobs.QUEUE_NAME}”；每 {every:g} 秒扫描一次到期的定时节点。"
    )
    if burst:
        recovery.enqueue_due(jobs.queue())
    # Retries are scheduled by the thread above, not RQ's forked scheduler (see recovery).
    Worker([jobs.QUEUE_NAME], connection=connection).work(with_scheduler=False, burst=burst)


def _demo(host: str, port: int) -> None:
    from . import demo_data
    from .extensions import db

    current_app.config["FREEZE_DAYS"] = 0  # a demo reused months later still lets its users in
    _migrate()
    summary = demo_data.load()
    click.echo("演示数据已载入。" if summary.created else "沿用已有的演示数据。")
    click.echo(f"数据库：{db.engine.url.render_as_string(hide_password=True)}")
    click.echo("")
    click.echo(f"演示用户（密码均为 {demo_data.DEMO_PASSWORD}）：")
    click.echo(f"  {'用户名':<12} {'密码':<10} 角色 / 单位")
    for user in summary.users:
        click.echo(
            f"  {user.username:<15} {demo_data.DEMO_PASSWORD:<12} "
            f"{user.role_label}（{user.role}） / {user.org_name}"
        )
    click.echo("")
    _serve_demo(host, port)


def _backup(verb: str, file: str) -> None:
    from . import backup

    uri = current_app.config["SQLALCHEMY_DATABASE_URI"]
    try:
        kind = getattr(backup, verb)(uri, Path(file))
    except backup.BackupError as exc:
        _fail(str(exc))
    done = f"已备份到 {file}" if verb == "backup" else f"已从 {file} 恢复"
    click.echo(f"{done}（{kind}）。")


def _variant_assign(org_code: str, variant: str) -> None:
    from workflows import variants

    try:
        org = variants.assign(org_code, variant)
    except variants.VariantError as exc:
        _fail(str(exc))
    runs = variants.label(variants.variant_for(org))
    own = "取消了自己的指定" if org.variant is None else f"指定为 {variants.label(org.variant)}"
    click.echo(f"{org.name}（{org.code}）已{own}；其学校新发起的业务执行：{runs}。")


def _variant_list() -> None:
    from workflows import variants

    click.echo("可用的地区变体：" + "、".join(variants.label(v) for v in variants.known()))
    for row in variants.assignments():
        indent = "  " if row.org.level == "county" else ""
        own = row.own or "—"
        click.echo(f"{indent}{row.org.code} {row.org.name}：指定 {own}，执行 {row.runs}")


def _create_app(*args, **kwargs):
    from . import create_app
    from .config import InsecureSecret

    try:
        return create_app()
    except InsecureSecret as exc:
        _fail(str(exc))


@click.group(
    cls=FlaskGroup, create_app=_create_app, add_default_commands=False, add_version_option=False
)
def main() -> None:
    """学籍通 xueji."""

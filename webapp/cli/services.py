"""Service commands: the production server, the background worker, the demo."""

from __future__ import annotations

import click
from flask import current_app
from redis import Redis
from redis.exceptions import RedisError
from rq import Worker
from werkzeug.serving import run_simple

from workflows import producer, recovery, worker

from .. import demo_data, server
from ..models import db
from ..security import QuietRequestHandler
from .common import fail, migrate, require_secret


def register(cli: click.Group) -> None:
    @cli.command("serve")
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
        require_secret()
        workers = workers or server.default_workers()
        click.echo(f"学籍通已启动：http://{host}:{port}/（{workers} 个工作进程，按 Ctrl+C 停止）")
        server.run(host, port, workers, factory=current_app.extensions["xueji_factory"])

    @cli.command("worker")
    @click.option("--burst", is_flag=True, help="处理完队列中已有的任务后退出。")
    def worker_command(burst: bool) -> None:
        """启动 RQ 后台任务进程（含定时调度），监听 REDIS_URL 上的“xueji”队列。"""
        require_secret()
        _worker(burst)

    @cli.command("demo")
    @click.option("--host", default="127.0.0.1", show_default=True)
    @click.option("--port", default=5000, type=int, show_default=True)
    def demo(host: str, port: int) -> None:
        """演示：建库，载入演示数据（已有则沿用），列出演示用户，然后启动网页服务。"""
        _demo(host, port)


def _serve_demo(host: str, port: int) -> None:
    """The demo's single process (Werkzeug, threaded, no debugger)."""
    worker.scan_in_web_process_without_redis(current_app._get_current_object())
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
        fail("未设置 REDIS_URL：后台任务进程需要 Redis，例如 REDIS_URL=redis://127.0.0.1:6379/0。")
    connection = Redis.from_url(url)
    try:
        connection.ping()
    except RedisError as exc:
        fail(f"无法连接 REDIS_URL 指定的 Redis：{exc}")
    every = float(current_app.config.get("SCAN_SECONDS", 30))
    if not burst:
        worker.start_scan_thread(current_app._get_current_object(), every)
        recovery.start_scheduler_thread(current_app._get_current_object(), producer.queue)
    click.echo(
        f"后台任务进程已启动，监听队列“{producer.QUEUE_NAME}”；每 {every:g} 秒扫描一次到期的定时节点。"
    )
    if burst:
        recovery.enqueue_due(producer.queue())
    # Retries are scheduled by the thread above, not RQ's forked scheduler (see recovery).
    Worker([producer.QUEUE_NAME], connection=connection).work(with_scheduler=False, burst=burst)


def _demo(host: str, port: int) -> None:
    current_app.config["FREEZE_DAYS"] = 0  # a demo reused months later still lets its users in
    migrate()
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

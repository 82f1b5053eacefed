"""`xueji backup FILE` and `xueji restore FILE`: the whole database in one file.

Everything lives in the database — records, instances, uploaded evidence (the FileUpload
content column), the audit log, the schema version — so one file is the whole backup: on
SQLite a consistent copy made with SQLite's online backup, on PostgreSQL a `pg_dump`
archive in custom format. A restore goes only into an empty database, so it can never mix
a backup with live data.
"""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
from pathlib import Path

from sqlalchemy import create_engine, inspect
from sqlalchemy.engine import URL, make_url

SQLITE_MAGIC = b"SQLite format 3\x00"
PG_MAGIC = b"PGDMP"


class BackupError(RuntimeError):
    """A backup or restore that cannot be done; the message says why, in Chinese."""


def backup(database_uri: str, target: Path) -> str:
    """Write the database to `target` (which must not exist yet); returns the format."""
    if target.exists():
        raise BackupError(f"备份文件 {target} 已存在：请换一个文件名，以免覆盖已有的备份。")
    url = make_url(database_uri)
    if url.get_backend_name() == "sqlite":
        source = _sqlite_path(url)
        if not source.exists():
            raise BackupError(f"数据库文件 {source} 不存在。")
        _sqlite_copy(source, target)
        return "SQLite"
    _pg_tool(
        "pg_dump", url, ["--format=custom", "--no-owner", "--no-privileges", "-f", str(target)]
    )
    return "PostgreSQL（pg_dump 自定义格式）"


def restore(database_uri: str, source: Path) -> str:
    """Load `source` into the empty database `database_uri`; returns the format."""
    if not source.is_file():
        raise BackupError(f"备份文件 {source} 不存在。")
    with source.open("rb") as fh:
        head = fh.read(16)
    url = make_url(database_uri)
    sqlite = url.get_backend_name() == "sqlite"
    if head.startswith(SQLITE_MAGIC) != sqlite or not head.startswith((SQLITE_MAGIC, PG_MAGIC)):
        kind = "SQLite" if sqlite else "PostgreSQL"
        raise BackupError(
            f"{source} 不是 {kind} 数据库的备份（DATABASE_URL 指向 {kind}）："
            "SQLite 的备份只能恢复到 SQLite，pg_dump 的备份只能恢复到 PostgreSQL。"
        )
    tables = _tables(database_uri)
    if tables:
        raise BackupError(
            f"目标数据库不是空的（已有 {len(tables)} 张表，如 {', '.join(sorted(tables)[:3])}）："
            "恢复只写入空数据库，请先新建一个空数据库并用 DATABASE_URL 指定它。"
        )
    if sqlite:
        _sqlite_copy(source, _sqlite_path(url))
        return "SQLite"
    _pg_tool(
        "pg_restore",
        url,
        ["--no-owner", "--no-privileges", "--exit-on-error", "--single-transaction", str(source)],
        database_flag=True,
    )
    return "PostgreSQL"


def _sqlite_path(url: URL) -> Path:
    if not url.database or url.database == ":memory:":
        raise BackupError("内存中的 SQLite 数据库无法备份或恢复。")
    return Path(url.database)


def _sqlite_copy(source: Path, target: Path) -> None:
    """SQLite's online backup: a consistent copy even while the app writes."""
    target.parent.mkdir(parents=True, exist_ok=True)
    src, dst = sqlite3.connect(source), sqlite3.connect(target)
    try:
        src.backup(dst)
    finally:
        src.close()
        dst.close()


def _tables(database_uri: str) -> list[str]:
    url = make_url(database_uri)
    if url.get_backend_name() == "sqlite" and not _sqlite_path(url).exists():
        return []
    engine = create_engine(url)
    try:
        return inspect(engine).get_table_names()
    finally:
        engine.dispose()


def _pg_tool(tool: str, url: URL, args: list[str], database_flag: bool = False) -> None:
    """Run pg_dump / pg_restore on the database of `url`; the password goes by environment."""
    if shutil.which(tool) is None:
        raise BackupError(f"找不到 {tool}：请安装 PostgreSQL 客户端工具（如 postgresql-client）。")
    env = {**os.environ}
    if url.password:
        env["PGPASSWORD"] = str(url.password)
    dsn = url.set(drivername="postgresql", password=None).render_as_string(hide_password=False)
    command = [tool, *args, ("--dbname=" if database_flag else "") + dsn]
    done = subprocess.run(command, env=env, capture_output=True, text=True)
    if done.returncode != 0:
        raise BackupError(f"{tool} 失败：{done.stderr.strip()[-2000:]}")

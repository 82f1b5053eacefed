"""`xueji backup FILE` / `xueji restore FILE`: a restore gives back the same records,
instances, uploaded files and audit log, and only into an empty database."""

from __future__ import annotations

import io
import uuid

import pytest
from sqlalchemy import create_engine, inspect, text

from webapp.app import create_app
from webapp.extensions import db
from webapp.models import AuditLog, FileUpload, Instance, Student

from .conftest import PG_ADMIN_URL, _config
from .flows import act
from .test_api import png_bytes
from .world import build_world

KEY_TABLES = (
    "student",
    "status_history",
    "instance",
    "instance_event",
    "human_task",
    "file_upload",
    "audit_log",
)


def some_work(client) -> int:
    """A cancellation with an uploaded file, reviewed and done: rows in every key table."""
    world = build_world()
    db.session.commit()
    student = world.student("P1", grade=4)
    token = client.post(
        "/api/v1/auth/token", json={"username": "uP1", "password": "pw-123456"}
    ).get_json()["token"]
    headers = {"Authorization": f"Bearer {token}"}
    upload = client.post(
        "/api/v1/files", headers=headers, data={"file": (io.BytesIO(png_bytes()), "户籍.png")}
    ).get_json()
    body = {
        "procedure": "cancellation",
        "student_id": student.id,
        "data": {"reason": "death", "evidence": [upload["id"]]},
    }
    started = client.post("/api/v1/instances", headers=headers, json=body)
    assert started.status_code == 201, started.get_json()
    act(world, db.session.get(Instance, started.get_json()["id"]))
    return upload["id"]


def dump(uri: str) -> dict[str, list[tuple]]:
    """Every row of every table, in primary-key order."""
    engine = create_engine(uri)
    try:
        with engine.connect() as conn:
            return {
                table: [tuple(r) for r in conn.execute(text(f'SELECT * FROM "{table}" ORDER BY 1'))]
                for table in inspect(engine).get_table_names()
            }
    finally:
        engine.dispose()


def check_round_trip(app, target_uri: str, tmp_path) -> None:
    file_id = some_work(app.test_client())
    before = dump(app.config["SQLALCHEMY_DATABASE_URI"])
    assert all(before[t] for t in KEY_TABLES), {t: len(before[t]) for t in KEY_TABLES}
    archive = tmp_path / "xueji.backup"
    result = app.test_cli_runner().invoke(args=["backup", str(archive)])
    assert result.exit_code == 0, result.output
    assert "已备份到" in result.output and archive.stat().st_size > 0

    again = app.test_cli_runner().invoke(args=["backup", str(archive)])
    assert again.exit_code != 0 and "已存在" in again.output  # never overwrites a backup
    refused = app.test_cli_runner().invoke(args=["restore", str(archive)])
    assert refused.exit_code != 0 and "不是空的" in refused.output
    assert dump(app.config["SQLALCHEMY_DATABASE_URI"]) == before

    target = create_app(_config(target_uri, tmp_path))
    with target.app_context():  # the commands run in the innermost app context
        result = target.test_cli_runner().invoke(args=["restore", str(archive)])
        assert result.exit_code == 0, result.output
        assert "已从" in result.output and dump(target_uri) == before
        upload = db.session.get(FileUpload, file_id)
        assert upload.content == png_bytes() and upload.name == "户籍.png"
        assert Student.query.one().status == "cancelled"
        assert Instance.query.one().status == "completed"
        assert AuditLog.query.filter_by(action="file.upload").count() == 1
        db.session.remove()
        db.engine.dispose()


@pytest.mark.postgres
def test_a_postgres_backup_restores_the_same_records_files_and_audit_log(pg_app, tmp_path):
    name = f"xueji_restore_{uuid.uuid4().hex[:10]}"
    admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        check_round_trip(pg_app, PG_ADMIN_URL.rsplit("/", 1)[0] + f"/{name}", tmp_path)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def test_an_sqlite_backup_restores_the_same_records_files_and_audit_log(app, tmp_path):
    check_round_trip(app, f"sqlite:///{tmp_path / 'restored' / 'xueji.sqlite'}", tmp_path)


def test_a_backup_of_the_other_kind_is_refused(app, tmp_path):
    archive = tmp_path / "pg.backup"
    archive.write_bytes(b"PGDMP\x01\x0e\x00" + b"\x00" * 64)
    target = create_app(_config(f"sqlite:///{tmp_path / 'empty.sqlite'}", tmp_path))
    with target.app_context():
        result = target.test_cli_runner().invoke(args=["restore", str(archive)])
        assert result.exit_code != 0 and "只能恢复到 PostgreSQL" in result.output
        missing = target.test_cli_runner().invoke(args=["restore", str(tmp_path / "none")])
        assert missing.exit_code != 0 and "不存在" in missing.output

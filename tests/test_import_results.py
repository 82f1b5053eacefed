"""`xueji import results`: levels per term and subject, make-ups replace and stay in history."""

from __future__ import annotations

from decimal import Decimal

from webapp.models import AuditLog, Result

from .test_imports import run_import, write_csv, write_xlsx

HEADER = ["id_number", "term", "subject", "kind", "result", "credits"]


def test_results_csv_import_and_a_make_up_replaces_the_earlier_row(runner, world, tmp_path):
    a = world.student("J1", grade=9)
    b = world.student("H1", grade=12)
    rows = [
        [a.id_number, "2025-2026-2", "语文", "core", "pass", ""],
        [a.id_number, "2025-2026-2", "数学", "core", "fail", ""],
        [b.id_number.lower(), "2025-2026-2", "物理", "required", "pass", "4.5"],
    ]
    result = run_import(runner, "results", write_csv(tmp_path / "r.csv", HEADER, rows))
    assert result.exit_code == 0, result.output
    assert "已导入 3 条成绩" in result.stdout
    assert Result.query.filter_by(student_id=b.id).one().credits == Decimal("4.5")

    make_up = [[a.id_number, "2025-2026-2", "数学", "core", "pass", ""]]
    result = run_import(runner, "results", write_xlsx(tmp_path / "m.xlsx", HEADER, make_up))
    assert result.exit_code == 0, result.output
    assert "其中 1 条替换" in result.stdout
    maths = Result.query.filter_by(student_id=a.id, subject="数学").order_by(Result.id).all()
    assert [(r.result, r.current) for r in maths] == [("fail", False), ("pass", True)]
    assert AuditLog.query.filter_by(action="import.results").count() == 2


def test_a_later_row_in_the_same_file_is_the_make_up(runner, world, tmp_path):
    a = world.student("J1", grade=9)
    rows = [
        [a.id_number, "2025-2026-2", "体育", "pe", "fail", ""],
        [a.id_number, "2025-2026-2", "体育", "pe", "pass", ""],
    ]
    assert run_import(runner, "results", write_csv(tmp_path / "r.csv", HEADER, rows)).exit_code == 0
    current = Result.query.filter_by(student_id=a.id, current=True).one()
    assert current.result == "pass"
    assert Result.query.filter_by(student_id=a.id).count() == 2


def test_bad_rows_write_nothing_and_are_named(runner, world, tmp_path):
    a = world.student("J1", grade=9)
    rows = [
        [a.id_number, "2025-2026-2", "语文", "core", "pass", ""],
        [a.id_number, "2025-2026-2", "数学", "main", "pass", ""],
        [a.id_number, "2025-2026-2", "英语", "core", "85", ""],
        ["110101200001011234", "2025-2026-2", "英语", "core", "pass", ""],
        [a.id_number, "", "物理", "required", "pass", "-2"],
    ]
    result = run_import(runner, "results", write_csv(tmp_path / "r.csv", HEADER, rows))
    assert result.exit_code != 0
    err = result.stderr
    assert "第 3 行，字段 kind" in err
    assert "第 4 行，字段 result：应为 pass、fail 之一，实为“85”" in err
    assert "第 5 行，字段 id_number" in err and "没有在籍或休学的学籍" in err
    assert "第 6 行，字段 term：不能为空" in err
    assert "第 6 行，字段 credits" in err
    assert "未写入任何数据" in err
    assert Result.query.count() == 0

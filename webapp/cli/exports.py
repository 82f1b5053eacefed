"""`xueji export students FILE`: records to a spreadsheet a registrar opens in Excel or
carries into the national system; `xueji import students` reads both layouts back."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import click

from .. import exports, sheets
from ..models import Organization, Student, audit, db
from .common import fail

LAYOUTS = ("xueji", "national")


def register(cli: click.Group) -> None:
    @cli.group("export")
    def export_group() -> None:
        """把学籍导出为 XLSX 或 CSV（按文件扩展名）。"""

    @export_group.command("students")
    @click.argument("file")
    @click.option("--school", "school_code", help="只导出该学校（学校代码）的学生。")
    @click.option(
        "--layout",
        type=click.Choice(LAYOUTS),
        default="xueji",
        show_default=True,
        help="xueji：本平台导入列（xueji import students 可读回）；national：国家学生信息导入模板。",
    )
    def export_students(file: str, school_code: str | None, layout: str) -> None:
        """导出学生：全部，或 --school 指定学校学籍在该校的学生，按编号顺序。"""
        fmt = Path(file).suffix.lower().lstrip(".")
        if fmt not in exports.FORMATS:
            fail(f"无法识别的文件类型“{Path(file).suffix or file}”：请使用 .xlsx 或 .csv。")
        if not Path(file).resolve().parent.is_dir():
            fail(f"目录不存在：{Path(file).parent}，未导出。")
        query = Student.query
        if school_code is not None:
            school = Organization.query.filter_by(code=school_code, level="school").first()
            if school is None:
                fail(f"学校代码 {school_code} 不存在，未导出。")
            query = query.filter(Student.school_id == school.id)
        written = _write(Path(file), fmt, sheets.students(query, layout))
        audit(
            None,
            "export",
            None,
            None,
            {"list": "students", "layout": layout, "school": school_code, "rows": written},
        )
        db.session.commit()
        click.echo(f"已导出 {written} 名学生到 {file}。")


def _write(path: Path, fmt: str, sheet: exports.Sheet) -> int:
    """Write beside the target and rename at the end, so a failure leaves no half file."""
    counted = _Counted(sheet.rows)
    partial = tempfile.NamedTemporaryFile(dir=path.parent, suffix=f".{fmt}", delete=False)
    try:
        with partial:
            exports.write(fmt, exports.Sheet(sheet.title, sheet.headers, counted), partial)
        os.replace(partial.name, path)
    except BaseException:
        os.unlink(partial.name)
        raise
    return counted.n


class _Counted:
    """The rows, counted as they are written."""

    def __init__(self, rows):
        self.rows, self.n = rows, 0

    def __iter__(self):
        for row in self.rows:
            self.n += 1
            yield row

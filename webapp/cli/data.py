"""Data commands: the schema, imports from spreadsheets, backup and restore, variants, the
rule list."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import click
from flask import current_app

from workflows import rulebook, variants

from .. import backup
from ..imports import import_orgs, import_results, import_students
from ..models import db
from .common import fail, migrate


def register(cli: click.Group) -> None:
    @cli.command("init-db")
    def init_db() -> None:
        """创建或升级数据库结构（Alembic 迁移），并部署自带的流程。"""
        migrate()
        click.echo("数据库已就绪。")

    @cli.group("import")
    def import_group() -> None:
        """从 XLSX、XLS 或 CSV（UTF-8 或 GBK）导入单位、学生或成绩；任何一行有错，整个文件都不写入。"""

    @import_group.command("orgs")
    @click.argument("file")
    def import_orgs_command(file: str) -> None:
        """导入单位：code,name,level,parent_code，学校另填 stage,ownership,star，可填 identifier（10 位学校标识码）；按代码新增或更新。"""
        _run_import(import_orgs, file)

    @import_group.command("students")
    @click.argument("file")
    def import_students_command(file: str) -> None:
        """导入学生（在籍；学籍号为 G+身份证号，无居民身份证的为 L+出生日期+序号）：本平台格式（id_number,name,gender,birth_date,school_code,grade 等列）或全国学籍系统的学生信息导入模板。"""
        _run_import(import_students, file)

    @import_group.command("results")
    @click.argument("file")
    def import_results_command(file: str) -> None:
        """导入成绩（合格/不合格）：id_number,term,subject,kind,result,credits 列；补考成绩替换原成绩并保留历史。"""
        _run_import(import_results, file)

    @cli.command("backup")
    @click.argument("file")
    def backup_command(file: str) -> None:
        """把整个数据库（学籍、业务、上传材料、审计日志）备份到 FILE。"""
        _backup("backup", file)

    @cli.command("restore")
    @click.argument("file")
    def restore_command(file: str) -> None:
        """把 FILE 恢复到 DATABASE_URL 指定的空数据库（非空的数据库拒绝恢复）。"""
        _backup("restore", file)

    @cli.group("variant")
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

    @cli.command("rules")
    @click.option(
        "--markdown", "file", help="写入该 Markdown 文件（如 rules.md），不写则输出到屏幕。"
    )
    def rules_command(file: str | None) -> None:
        """规则清单：每条规则的名称、提示信息、出处、所在业务和改变它的地区变体（由代码和决策表生成）。"""
        _rules(file)


def _run_import(func: Callable, file: str) -> None:
    name = Path(file).name
    try:
        data = Path(file).read_bytes()
    except OSError as exc:
        fail(f"无法读取文件 {file}：{exc.strerror or exc}")
    result = func(data, name)
    if result.ignored_columns:
        click.echo("未导入的列：" + "、".join(result.ignored_columns), err=True)
    if not result.ok:
        db.session.rollback()
        for error in result.errors:
            click.echo(str(error), err=True)
        fail(f"{name}：共 {len(result.errors)} 处错误，未写入任何数据。")
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


def _backup(verb: str, file: str) -> None:
    uri = current_app.config["SQLALCHEMY_DATABASE_URI"]
    try:
        kind = getattr(backup, verb)(uri, Path(file))
    except backup.BackupError as exc:
        fail(str(exc))
    done = f"已备份到 {file}" if verb == "backup" else f"已从 {file} 恢复"
    click.echo(f"{done}（{kind}）。")


def _variant_assign(org_code: str, variant: str) -> None:
    try:
        org = variants.assign(org_code, variant)
    except variants.VariantError as exc:
        fail(str(exc))
    runs = variants.label(variants.variant_for(org))
    own = "取消了自己的指定" if org.variant is None else f"指定为 {variants.label(org.variant)}"
    click.echo(f"{org.name}（{org.code}）已{own}；其学校新发起的业务执行：{runs}。")


def _rules(file: str | None) -> None:
    text = rulebook.markdown()
    if file is None:
        click.echo(text, nl=False)
        return
    try:
        Path(file).write_text(text, encoding="utf-8")
    except OSError as exc:
        fail(f"无法写入文件 {file}：{exc.strerror or exc}")
    click.echo(f"规则清单已写入 {file}（{len(rulebook.entries())} 条规则）。")


def _variant_list() -> None:
    click.echo("可用的地区变体：" + "、".join(variants.label(v) for v in variants.known()))
    for row in variants.assignments():
        indent = "  " if row.org.level == "county" else ""
        own = row.own or "—"
        click.echo(f"{indent}{row.org.code} {row.org.name}：指定 {own}，执行 {row.runs}")

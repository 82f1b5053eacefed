"""Checking the rows of an organisation import (`xueji import orgs`): codes, levels, parents."""

from __future__ import annotations

from dataclasses import dataclass

from webapp.models import LEVEL_LABELS, LEVELS, STAGES, Organization

from .spreadsheets import DIGITS, RowError, SheetRow, Table, missing_columns

ORG_COLUMNS = ("code", "name", "level", "parent_code")
ORG_SCHOOL_COLUMNS = ("stage", "ownership", "star", "plan_credits")
OWNERSHIPS = ("public", "private")
# The level an organisation's parent must have; a city may stand without a province.
PARENT_LEVEL = {"province": None, "city": "province", "county": "city", "school": "county"}


@dataclass
class OrgRow:
    """A checked organisation row, ready to create or update."""

    row: int
    code: str
    name: str
    level: str
    parent_code: str | None
    stages: str | None
    ownership: str | None
    star: int | None
    plan_credits: int | None = None
    # A file without the plan_credits column leaves every school's number as it is.
    plan_credits_given: bool = False
    # 学校标识码 (10 digits); a file without the identifier column leaves it as it is.
    identifier: str | None = None
    identifier_given: bool = False


def check_orgs(table: Table) -> tuple[list[OrgRow], list[RowError]]:
    """Check every organisation row against the file so far and the database."""
    errors = missing_columns(table, ORG_COLUMNS)
    if errors:
        return [], errors
    codes = {v.get("code", "") for _, v in table.rows} | {
        v.get("parent_code", "") for _, v in table.rows
    }
    existing = {o.code: o for o in Organization.query.filter(Organization.code.in_(codes - {""}))}
    identifiers = _identifiers_held({v.get("identifier", "") for _, v in table.rows} - {""})
    seen: dict[str, OrgRow] = {}
    seen_identifiers: dict[str, int] = {}
    checked: list[OrgRow] = []
    for number, values in table.rows:
        row = SheetRow(number, values, errors)
        before = len(errors)
        code = row.text("code", 32, required=True)
        name = row.text("name", 128, required=True)
        level = row.choice("level", LEVELS)
        parent_code = row.text("parent_code", 32)
        if code and code in seen:
            row.error("code", f"机构代码“{code}”与第 {seen[code].row} 行重复。")
        elif code and level and code in existing and existing[code].level != level:
            old = existing[code].level
            row.error(
                "level",
                f"机构“{code}”已存在，层级为{LEVEL_LABELS[old]}（{old}），不能改为 {level}。",
            )
        if level:
            _check_parent(row, level, parent_code, seen, existing)
        stages, ownership, star = _school_fields(row, level)
        credits = _plan_credits(row, level, stages)
        identifier = _identifier(row, code, identifiers, seen_identifiers)
        if code and name and level and len(errors) == before:
            item = OrgRow(number, code, name, level, parent_code, stages, ownership, star, credits)
            item.plan_credits_given = "plan_credits" in table.columns
            item.identifier, item.identifier_given = identifier, "identifier" in table.columns
            seen[code] = item
            checked.append(item)
    return checked, errors


def _check_parent(
    row: SheetRow,
    level: str,
    parent_code: str | None,
    seen: dict[str, OrgRow],
    existing: dict[str, Organization],
) -> None:
    wanted = PARENT_LEVEL[level]
    if parent_code is None:
        if wanted is not None and level != "city":
            row.error("parent_code", f"{LEVEL_LABELS[level]}必须填写上级机构代码。")
        return
    if wanted is None:
        row.error("parent_code", "省级机构不能有上级机构。")
        return
    if parent_code in seen:
        parent_level = seen[parent_code].level
    elif parent_code in existing:
        parent_level = existing[parent_code].level
    else:
        row.error(
            "parent_code", f"上级机构“{parent_code}”不存在：须已在系统中，或在本文件中先出现。"
        )
        return
    if parent_level != wanted:
        row.error(
            "parent_code",
            f"{LEVEL_LABELS[level]}的上级应为{LEVEL_LABELS[wanted]}，“{parent_code}”是{LEVEL_LABELS[parent_level]}。",
        )


def _school_fields(row: SheetRow, level: str | None) -> tuple[str | None, str | None, int | None]:
    """stage, ownership and star: required (star optional) for schools, empty for others."""
    if level != "school":
        for column in ORG_SCHOOL_COLUMNS:
            if row.values.get(column):
                row.error(column, "只有学校（level 为 school）填写此列。")
        return None, None, None
    stages = None
    raw = row.values.get("stage", "")
    if not raw:
        row.error(
            "stage", "学校必须填写学段（primary、junior、senior、vocational，多个用 + 连接）。"
        )
    else:
        parts = [p.strip() for p in raw.split("+")]
        unknown = [p for p in parts if p not in STAGES]
        if unknown:
            row.error("stage", f"学段应为 {'、'.join(STAGES)}，多个用 + 连接，实为“{raw}”。")
        else:
            stages = "+".join(s for s in STAGES if s in parts)
    ownership = row.choice("ownership", OWNERSHIPS)
    star = row.integer("star", 1, 5, required=False)
    return stages, ownership, star


def _plan_credits(row: SheetRow, level: str | None, stages: str | None) -> int | None:
    """A vocational school's graduation credits, from its filed teaching plan (002 第三十一条)."""
    if level != "school" or not row.values.get("plan_credits"):
        return None
    if "vocational" not in (stages or "").split("+"):
        row.error("plan_credits", "只有中等职业学校填写教学计划规定的毕业学分（002 第三十一条）。")
        return None
    return row.integer("plan_credits", 1, 400, required=False)


def _identifiers_held(identifiers: set[str]) -> dict[str, str]:
    """学校标识码 already held, identifier → the holder's code."""
    found = Organization.query.filter(Organization.identifier.in_(identifiers))
    return {o.identifier: o.code for o in found}


def _identifier(
    row: SheetRow, code: str | None, held: dict[str, str], seen: dict[str, int]
) -> str | None:
    """学校标识码: 10 digits, one organisation's (in the file and in the database)."""
    value = row.values.get("identifier", "")
    if not value:
        return None
    if not (DIGITS.fullmatch(value) and len(value) == 10):
        row.error("identifier", f"学校标识码应为 10 位数字，实为“{value}”。")
        return None
    if value in seen:
        row.error("identifier", f"学校标识码“{value}”与第 {seen[value]} 行重复。")
        return None
    seen[value] = row.number
    if held.get(value, code) != code:
        row.error("identifier", f"学校标识码“{value}”已属于机构“{held[value]}”。")
        return None
    return value

"""The two layouts of a student sheet as the checks see them: which columns the file has,
what each key is called in it (errors name the header as the file writes it), what it
lacks and what the platform does not keep, and one row turned into keyed text.

The national template's rows go through `student_fields.national_to_keys` (its value
formats and code lists); this platform's rows are keyed already.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from webapp.models import Organization

from .spreadsheets import RowError
from .student_fields import (
    BY_HEADER,
    MEMBERS,
    NATIONAL_COLUMNS,
    NATIONAL_EXTRA,
    NATIONAL_HEADERS,
    NATIONAL_REQUIRED,
    XUEJI_COLUMNS,
    XUEJI_REQUIRED,
    is_national,
    national_to_keys,
)

# Read by the checks themselves (StudentCheck._row): an empty required cell of these is
# reported there, by the file's header.
BASE_REQUIRED = {"id_number", "name", "gender", "birth_date", "school_code", "grade"}
# A problem national_to_keys names by header, as the keys whose reads it spoils.
SPOILS = {"入学年月": ("entry_year", "entry_month"), "班号": ("class_number",)}


@dataclass
class Layout:
    national: bool
    present: set[str]  # keys the file has a column for
    names: dict[str, str]  # key → the file's header (national layout)
    missing: list[str]  # required columns the file lacks, by header
    ignored: list[str]  # the file's columns not kept, as it writes them
    extra: list[str] = field(default_factory=list)  # NATIONAL_EXTRA headers in the file

    def prepare(
        self, values: dict[str, str], number: int, errors: list[RowError]
    ) -> tuple[dict[str, str], set[str]]:
        """The row as keyed text and the keys already refused (their errors added)."""
        if not self.national:
            return values, set()
        keyed, problems = national_to_keys(values)
        failed: set[str] = set()
        for header, message in problems:
            errors.append(RowError(number, header, message))
            failed.update(SPOILS.get(header, (BY_HEADER[header].key,)))
        for column in NATIONAL_COLUMNS:
            if column.required and column.key not in BASE_REQUIRED:
                if not values.get(column.header, "").strip() and column.key not in failed:
                    errors.append(RowError(number, column.header, "不能为空。"))
                    failed.add(column.key)
        for n in range(1, MEMBERS + 1):  # 是否监护人 as written (是/否), like the xueji layout
            header = f"成员{n}是否监护人"
            if f"member{n}_guardian" in keyed:
                keyed[f"member{n}_guardian"] = values[header].strip()
        for header, value in values.items():
            if header not in BY_HEADER:
                keyed[header] = value
        return keyed, failed

    def schools(self, codes: set[str]) -> dict[str, Organization]:
        """The schools these codes name: the national layout's 学校标识码 (10 digits) is an
        organisation's identifier, else its code."""
        found: dict[str, Organization] = {}
        if self.national:
            for org in Organization.query.filter(Organization.identifier.in_(codes)):
                found[org.identifier] = org
        rest = codes - set(found)
        if rest:
            for org in Organization.query.filter(Organization.code.in_(rest)):
                found[org.code] = org
        return found


def layout_of(columns: list[str], known: Iterable[str] = ()) -> Layout:
    """The layout of a sheet with these column names (`known`: a procedure's own columns)."""
    known = set(known)
    if not is_national(columns):
        present = set(columns)
        return Layout(
            national=False,
            present=present,
            names={},
            missing=[c for c in XUEJI_REQUIRED if c not in present],
            ignored=[c for c in columns if c not in XUEJI_COLUMNS and c not in known],
        )
    present = {BY_HEADER[c].key for c in columns if c in BY_HEADER}
    names = {c.key: c.header for c in NATIONAL_COLUMNS}
    names.update(
        entry_year="入学年月",
        class_name="班级名称" if "班级名称" in columns else "班号",
        guardian_name="成员1姓名",
        guardian_phone="成员1联系电话",
    )
    if "entry_month" in present:
        present.add("entry_year")
    return Layout(
        national=True,
        present=present,
        names=names,
        missing=[c for c in NATIONAL_REQUIRED if c not in columns],
        ignored=[c for c in columns if c not in NATIONAL_HEADERS and c not in known],
        extra=[c for c in NATIONAL_EXTRA if c in columns],
    )

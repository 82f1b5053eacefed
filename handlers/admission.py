"""High-school admission (高中阶段新生): the city admits, the student reports, and a list row
says both (RULES.md additions; 000 第二部分 第一条、第四条; ⑦ 第四条、第六条).

The city admits and approves senior and vocational new students ("全市普通高中新生由市教育局
统一录取、审批", 000 第二部分 第一条), so their registration list passes the city after the county
(registration.bpmn). The admission notice sets a reporting period; a new student who has not
reported two weeks after it ends, without leave from the school, loses the place ("在规定报到
时间结束两周后仍未到校办理手续且未向学校请假…取消其入学资格", ⑦ 第六条).

Each row of the list records the notice's last reporting day (`report_by`), the day the
student reported (`reported_on`) and any leave (`leave`): the dates differ by student, a
list holds hundreds (no timer per student: the batch rule of SPIFFWORKFLOW.md), and the rule
is judged on the day the list is checked, again on the day the records are made. A student
struck by it gets no record; the list names the rule.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from webapp.models import china_today

REPORT_STAGES_FROM_GRADE = 10  # senior and vocational year 1: the city admits
GRACE = timedelta(days=14)  # ⑦ 第六条: two weeks after the reporting period ends
NOT_NOTED = {"", "0", "否", "无", "no", "n", "false"}
STRUCK_RULE = "not_reported_struck"


def city_admits(grade: int | None) -> bool:
    return grade is not None and grade >= REPORT_STAGES_FROM_GRADE


def _date(row, column: str) -> date | None:
    return row.day(column) if row.values.get(column, "").strip() else None


def check_report(row, values: dict[str, Any]) -> None:
    """A senior or vocational row: the notice's last reporting day, and the report by then
    plus two weeks (or leave noted); `values["struck"]` names why a student lost the place."""
    if not city_admits(values["grade"]):
        return
    if not row.values.get("report_by", "").strip():
        row.error(
            "report_by",
            "高中、中职新生须填写录取通知书规定的报到截止日期（市教育局统一录取，"
            "000 第二部分 第一条、第四条）。",
        )
        return
    report_by, reported_on = _date(row, "report_by"), _date(row, "reported_on")
    if report_by is None:
        return
    today, last_day = china_today(), report_by + GRACE
    on_leave = row.values.get("leave", "").strip().lower() not in NOT_NOTED
    if reported_on is not None and reported_on > today:
        row.error("reported_on", f"报到日期 {reported_on} 晚于今天，请核对。")
    elif reported_on is None and (today <= last_day or on_leave):
        row.error(
            "reported_on",
            f"该生尚未报到：报到后再注册；规定报到时间 {report_by} 结束两周后（{last_day} 以后）"
            "仍未报到且未请假的，取消入学资格（⑦ 第六条）。",
        )
    elif (reported_on is None or reported_on > last_day) and not on_leave:
        values["struck"] = (
            f"规定报到时间 {report_by} 结束两周后仍未到校办理入学手续，且未向学校请假，"
            "取消入学资格，不予注册（⑦ 第六条）。"
        )

"""Years a student has studied, counted from the record, not from the grade it has reached.

000 第二十六条.5 speaks of "累计已经学满九年义务教育年限": years studied. A grade says how far
a student has come, not how long it studied: a skipped grade (跳级) adds a grade without a
year, a repeated one (留级) a year without a grade, and a suspension (休学) keeps the record
while the student studies nowhere ("休学者不得…到其他学校上学", 000 第十八条) — so suspended
time is no time studied.

The count, in months on the China date:

- the grades before the record began (the grade it was registered with, minus one: a record
  entered in junior year 1 has the six primary years behind it);
- plus the months from 1 September of the record's entry year (a school year's start) to
  today;
- minus every approved suspension's months, from its start to its end, to the day the
  student came back when it came back earlier, and to today while it lasts.
"""

from __future__ import annotations

from datetime import date

from webapp.models import Instance, StatusHistory, Student, db
from webapp.models.vocabulary import STAGE_GRADES

from .months import whole_months

SCHOOL_YEAR_START = (9, 1)
# The first grade of each compulsory stage; a record without its registration row is read as
# begun at the one nearer to where normal progress since the entry year would have started.
COMPULSORY_STARTS = (STAGE_GRADES["primary"][0], STAGE_GRADES["junior"][0])


def _entry_grade(student: Student, elapsed_years: int) -> int:
    row = StatusHistory.query.filter_by(
        student_id=student.id, procedure="registration", seq=0
    ).first()
    if row is not None and (row.after or {}).get("grade"):
        return int(row.after["grade"])
    nominal = student.grade - elapsed_years
    return min(COMPULSORY_STARTS, key=lambda first: abs(first - nominal))


def _day(value) -> date | None:
    try:
        return date.fromisoformat(str(value))
    except ValueError:
        return None


def months_suspended(student: Student, today: date) -> int:
    """Months the student's approved suspensions have kept it out of school up to `today`."""
    rows = (
        StatusHistory.query.filter(StatusHistory.student_id == student.id)
        .order_by(StatusHistory.id)
        .all()
    )
    months = 0
    for i, row in enumerate(rows):
        if row.procedure != "suspension" or row.seq != 0 or row.instance_id is None:
            continue
        instance = db.session.get(Instance, row.instance_id)
        period = (instance.data if instance else {}).get("suspension") or {}
        start, end = _day(period.get("start")), _day(period.get("end"))
        if start is None:
            continue
        back = next((r.at.date() for r in rows[i + 1 :] if r.procedure == "resumption"), None)
        stop = min(d for d in (end, back, today) if d is not None)
        months += whole_months(start, stop)
    return months


def months_studied(student: Student, today: date) -> int:
    """Months of schooling studied up to `today` (see the module's note)."""
    entry = date(student.entry_year, *SCHOOL_YEAR_START)
    elapsed = whole_months(entry, today)
    before = (_entry_grade(student, elapsed // 12) - 1) * 12
    return max(0, before + elapsed - months_suspended(student, today))


def school_term(day: date) -> int:
    """The term `day` falls in: 1 from September to January, 2 from February to August (the
    summer belongs to the school year that ends with it)."""
    return 2 if 2 <= day.month <= 8 else 1


def years_studied(student: Student, today: date) -> int:
    """Whole years of schooling studied up to `today`."""
    return months_studied(student, today) // 12

"""Working days on the official calendar, and the due dates review steps get from them."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime

import pytest
import time_machine

from webapp.extensions import db
from webapp.models import CHINA
from workflows import deploy, engine
from workflows.workdays import add_working_days, due_at, is_working_day, remind_cutoff

from .flows import transfer_data


def d(text: str) -> date:
    return date.fromisoformat(text)


# -- the calendar ----------------------------------------------------------------------------


def test_national_day_2025_is_off_and_its_adjusted_weekend_days_are_worked():
    # 国庆节、中秋节 2025: 10月1日至8日放假调休；9月28日（周日）、10月11日（周六）上班
    assert all(not is_working_day(date(2025, 10, day)) for day in range(1, 9))
    assert is_working_day(d("2025-09-28")) and d("2025-09-28").weekday() == 6
    assert is_working_day(d("2025-10-11")) and d("2025-10-11").weekday() == 5
    assert is_working_day(d("2025-10-09"))
    assert not is_working_day(d("2025-10-12"))  # an ordinary Sunday


def test_counting_across_national_day_2025():
    assert add_working_days(d("2025-09-26"), 1) == d("2025-09-28")  # Friday → working Sunday
    assert add_working_days(d("2025-09-30"), 1) == d("2025-10-09")  # over the whole holiday
    # the adjusted working Saturday counts as the third working day after the 30th
    assert add_working_days(d("2025-09-30"), 3) == d("2025-10-11")
    assert add_working_days(d("2025-09-30"), 4) == d("2025-10-13")
    # 10 working days from Friday 26 September: 28, 29, 30 Sep; 9, 10, 11, 13, 14, 15, 16 Oct
    assert add_working_days(d("2025-09-26"), 10) == d("2025-10-16")
    # a step that becomes ready during the holiday starts counting on the first working day
    assert add_working_days(d("2025-10-03"), 1) == d("2025-10-09")
    assert add_working_days(d("2025-10-03"), 0) == d("2025-10-03")


def test_2026_holidays_and_adjusted_working_days():
    # 元旦 1月1日至3日放假，1月4日（周日）上班
    assert not is_working_day(d("2026-01-02")) and is_working_day(d("2026-01-04"))
    # 春节 2月15日至23日放假，2月14日（周六）、2月28日（周六）上班
    assert is_working_day(d("2026-02-14")) and is_working_day(d("2026-02-28"))
    assert not any(is_working_day(date(2026, 2, day)) for day in range(15, 24))
    assert add_working_days(d("2026-02-13"), 1) == d("2026-02-14")
    assert add_working_days(d("2026-02-14"), 1) == d("2026-02-24")
    # 国庆节 10月1日至7日放假，9月20日（周日）、10月10日（周六）上班
    assert is_working_day(d("2026-09-20")) and is_working_day(d("2026-10-10"))
    assert not any(is_working_day(date(2026, 10, day)) for day in range(1, 8))
    assert add_working_days(d("2026-09-30"), 1) == d("2026-10-08")
    assert add_working_days(d("2026-09-30"), 3) == d("2026-10-10")


def test_a_year_the_calendar_does_not_know_counts_monday_to_friday():
    friday = d("2099-01-02")
    assert friday.weekday() == 4
    assert not is_working_day(d("2099-01-03")) and is_working_day(d("2099-01-05"))
    assert add_working_days(friday, 1) == d("2099-01-05")
    assert add_working_days(friday, 10) == d("2099-01-16")


def test_negative_days_are_refused():
    with pytest.raises(ValueError):
        add_working_days(d("2025-10-09"), -1)


def test_due_time_is_the_end_of_the_china_day():
    # Friday 26 Sep 2025, 10:00 in Beijing (02:00 UTC): due at the end of Thursday 16 Oct
    assert due_at(datetime(2025, 9, 26, 2, 0), 10) == datetime(2025, 10, 16, 15, 59, 59)
    # 30 Sep 2025 at 23:30 UTC is already 1 October in Beijing: counting starts in the holiday
    assert due_at(datetime(2025, 9, 30, 23, 30), 1) == datetime(2025, 10, 9, 15, 59, 59)
    assert due_at(datetime(2025, 9, 30, 15, 0), 1) == datetime(2025, 10, 9, 15, 59, 59)


def test_reminder_cutoff_is_two_working_days_ahead():
    # on Tuesday 30 Sep the steps due up to the end of Friday 10 Oct are within two working days
    assert remind_cutoff(datetime(2025, 9, 30, 1, 0)) == datetime(2025, 10, 10, 15, 59, 59)
    # on the working Saturday 11 Oct: up to Tuesday 14 Oct
    assert remind_cutoff(datetime(2025, 10, 11, 1, 0)) == datetime(2025, 10, 14, 15, 59, 59)


# -- due dates of review steps -------------------------------------------------------------


def _beijing(*args) -> time_machine.travel:
    return time_machine.travel(datetime(*args, tzinfo=CHINA), tick=False)


def test_a_review_step_is_due_ten_working_days_after_it_became_ready(world):
    student = world.student("P1", grade=4)
    with _beijing(2025, 9, 26, 10):
        instance = engine.start("transfer", world.users["P3"], transfer_data(student, "P3"))
    (task,) = engine.open_tasks(instance)
    assert task.step == "to_county_review"
    assert task.due_at == datetime(2025, 10, 16, 15, 59, 59)


def test_a_step_may_set_its_own_number_of_days(world):
    bpmn, dmn = deploy.read_files("transfer")
    formkey = '<spiffworkflow:property name="formKey" value="review"/>'
    first = bpmn.index(formkey, bpmn.index('id="to_county_review"'))
    bpmn = bpmn[:first] + '<spiffworkflow:property name="dueDays" value="3"/>' + bpmn[first:]
    deploy.deploy("transfer", bpmn, dmn)
    db.session.commit()
    student = world.student("P1", grade=4)
    with _beijing(2025, 9, 30, 10):
        instance = engine.start("transfer", world.users["P3"], transfer_data(student, "P3"))
    (task,) = engine.open_tasks(instance)
    assert task.due_at == datetime(2025, 10, 11, 15, 59, 59)  # the working Saturday


def test_inbox_and_api_show_the_due_date_and_mark_overdue(world, login, api):
    student = world.student("P1", grade=4, name="王小明")
    with _beijing(2025, 9, 26, 10):
        instance = engine.start("transfer", world.users["P3"], transfer_data(student, "P3"))
    (task,) = engine.open_tasks(instance)
    client = login("u321203")
    with _beijing(2025, 10, 16, 20):  # the last day: not yet overdue
        page = client.get("/").get_data(as_text=True)
        listed = page[page.index("<tbody") :]  # the list, not the filter form's help
        assert "2025-10-16" in listed and "已逾期" not in listed and 'class="overdue"' not in page
        (item,) = api("u321203").get("/api/v1/tasks").get_json()["items"]
        assert item["overdue"] is False
    with _beijing(2025, 10, 17, 8):
        page = client.get("/").get_data(as_text=True)
        row = re.search(r'<tr class="overdue">.*?</tr>', page, re.S).group(0)
        assert "王小明" in row and "2025-10-16" in row and "已逾期" in row
        (item,) = api("u321203").get("/api/v1/tasks").get_json()["items"]
        assert item["id"] == task.id and item["overdue"] is True
        assert datetime.fromisoformat(item["due_at"]).replace(tzinfo=None) == task.due_at
    assert task.due_at.replace(tzinfo=UTC).astimezone(CHINA).date() == d("2025-10-16")

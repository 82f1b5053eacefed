"""Borrow-study in the browser: the host school's start page, the home school's review, the
host's roll of borrowing students, and the end of the borrowing from the student's record."""

import io
import re

from webapp.models import FileUpload, Instance, StatusHistory

from .flows import enrol

PDF = b"%PDF-1.4\n%test\n%%EOF\n"


def text(resp) -> str:
    return resp.get_data(as_text=True)


def task_id(instance: Instance) -> int:
    (task,) = [t for t in instance.tasks if t.state == "open"]
    return task.id


def borrow_form(student, **overrides) -> dict:
    data = {
        "id_number": student.id_number,
        "name": student.name,
        "category": "parents_field_work",
        "start_date": "2026-09-01",
        "end_date": "2027-07-10",
        "note": "父母在外地施工",
    }
    data.update(overrides)
    return data


def borrow_through_the_browser(world, login, student) -> Instance:
    client = login("uP3")
    resp = client.post(
        "/procedures/borrow/new",
        data={**borrow_form(student), "evidence": (io.BytesIO(PDF), "借读申请书.pdf")},
        content_type="multipart/form-data",
    )
    assert resp.status_code == 302, text(resp)
    instance = Instance.query.filter_by(procedure="borrow", student_id=student.id).one()
    home = login("uP1")
    resp = home.post(f"/tasks/{task_id(instance)}", data={"decision": "approve", "comment": "同意"})
    assert resp.status_code == 302
    return instance


def test_host_school_starts_a_borrow_and_the_home_school_approves(world, login):
    enrol(world, "P3")
    student = world.student("P1", grade=4, name="张小红")
    client = login("uP3")
    form = text(client.get("/procedures/borrow/new"))
    assert "高港实验小学（P3）" in form and 'name="host_school_code"' not in form
    assert "父母支援边疆建设" in form and 'type="date"' in form
    resp = client.post(
        "/procedures/borrow/new",
        data={**borrow_form(student), "evidence": (io.BytesIO(PDF), "借读申请书.pdf")},
        content_type="multipart/form-data",
    )
    assert resp.status_code == 302
    page = text(client.get(resp.headers["Location"]))
    assert "借读申请已提交，自动检查通过" in page and "海陵实验小学" in page
    instance = Instance.query.one()
    assert instance.data["evidence"] == [FileUpload.query.one().id]

    home = login("uP1")
    inbox = text(home.get("/"))
    assert "学籍所在学校审核（同意借读）" in inbox and "张小红" in inbox
    task_page = text(home.get(f"/tasks/{task_id(instance)}"))
    for shown in (
        "借读学校",
        "高港实验小学",
        "父母从事野外或流动性工作",
        "2027-07-10",
        "借读申请书.pdf",
    ):
        assert shown in task_page
    resp = home.post(f"/tasks/{task_id(instance)}", data={"decision": "approve"})
    assert resp.status_code == 302
    assert instance.status == "completed"

    host = login("uP3")
    roll = text(host.get("/students"))
    assert "张小红" in roll and "借读生（学籍在海陵实验小学）" in roll
    record = text(host.get(f"/students/{student.id}"))
    assert "本校借读生：学籍保留在海陵实验小学" in record
    assert "借读学校：（无） → 高港实验小学" in record
    # the host may only end the borrowing from the record
    assert f'href="/students/{student.id}/start/borrow_return"' in record
    assert f"/students/{student.id}/start/cancellation" not in record
    assert host.get(f"/students/{student.id}/start/cancellation").status_code == 404
    home_roll = text(login("uP1").get("/students"))
    assert "在高港实验小学借读" in home_roll


def test_bad_dates_keep_what_was_typed(world, login):
    student = world.student("P1", grade=4)
    client = login("uP3")
    resp = client.post(
        "/procedures/borrow/new",
        data=borrow_form(student, end_date="2026-08-01"),
        content_type="multipart/form-data",
    )
    page = text(resp)
    assert resp.status_code == 422
    assert "借读结束日期必须晚于开始日期" in page
    assert f'value="{student.id_number}"' in page and 'value="2026-08-01"' in page
    assert 'value="parents_field_work" selected' in page
    assert Instance.query.count() == 0


def test_a_rule_rejection_names_the_rule(world, login):
    enrol(world, "P2")
    student = world.student("P1", grade=4)
    client = login("uP2")
    resp = client.post("/procedures/borrow/new", data=borrow_form(student))
    page = text(resp)
    assert resp.status_code == 422 and "same_area" not in page
    assert "同一县（区）内不办理借读：同一县（区）内的小学、初中学生原则上不办理借读" in page
    assert Instance.query.count() == 0


def test_record_page_links_to_the_borrow_page(world, login):
    student = world.student("P1", grade=4)
    record = text(login("uP1").get(f"/students/{student.id}"))
    assert (
        'href="/procedures/borrow/new"' in record and "由借读学校按学生身份证号和姓名发起" in record
    )
    assert 'href="/transfers/new"' in record
    # nothing to end: the student is not borrowing
    assert "/start/borrow_return" not in record
    assert login("uP1").get(f"/students/{student.id}/start/borrow_return").status_code == 404


def test_borrow_page_is_for_schools_only(world, login):
    assert login("u321203").get("/procedures/borrow/new").status_code == 403
    assert login("uP3").get("/procedures/withdrawal/new").status_code == 404


def test_host_ends_the_borrowing_with_the_transcript(world, login):
    enrol(world, "P3")
    student = world.student("P1", grade=4, name="李小明")
    borrow_through_the_browser(world, login, student)
    host = login("uP3")
    form = text(host.get(f"/students/{student.id}/start/borrow_return"))
    assert "借读期间成绩、评定和奖惩" in form
    resp = host.post(
        f"/students/{student.id}/start/borrow_return",
        data={"end_date": "2027-01-20", "results": "   "},
        content_type="multipart/form-data",
    )
    assert resp.status_code == 422 and "请填写借读期间的成绩、评定和奖惩记录" in text(resp)
    resp = host.post(
        f"/students/{student.id}/start/borrow_return",
        data={
            "end_date": "2027-01-20",
            "results": "语文 92，数学 88；三好学生",
            "evidence": (io.BytesIO(PDF), "成绩单.pdf"),
        },
        content_type="multipart/form-data",
    )
    assert resp.status_code == 302
    instance = Instance.query.filter_by(procedure="borrow_return").one()
    home = login("uP1")
    inbox = text(home.get("/"))
    assert "学籍所在学校确认借读结束" in inbox and "李小明" in inbox
    page = text(home.get(f"/tasks/{task_id(instance)}"))
    assert "语文 92，数学 88；三好学生" in page and "成绩单.pdf" in page
    home.post(f"/tasks/{task_id(instance)}", data={"decision": "approve"})
    assert instance.status == "completed" and student.borrow_host_id is None
    record = text(home.get(f"/students/{student.id}"))
    assert "借读期间成绩、评定和奖惩：（无） → 语文 92，数学 88；三好学生" in record
    assert "借读学校：高港实验小学 → （无）" in record
    assert 'id="student-borrowing"' not in record
    # the host's roll no longer shows the student; it keeps a read-only copy (000 说明5)
    host = login("uP3")
    assert "李小明" not in text(host.get("/students"))
    copy = text(host.get(f"/students/{student.id}"))
    assert "借读期间学籍档案（留存）" in copy and "可发起的业务" not in copy
    assert StatusHistory.query.filter_by(student_id=student.id).count() == 2


def test_home_school_ends_it_and_the_host_returns_it_for_correction(world, login):
    enrol(world, "P3")
    student = world.student("P1", grade=4)
    borrow_through_the_browser(world, login, student)
    home = login("uP1")
    record = text(home.get(f"/students/{student.id}"))
    assert f'href="/students/{student.id}/start/borrow_return"' in record
    home.post(
        f"/students/{student.id}/start/borrow_return",
        data={"end_date": "2027-01-20", "results": "成绩待补"},
        content_type="multipart/form-data",
    )
    instance = Instance.query.filter_by(procedure="borrow_return").one()
    host = login("uP3")
    resp = host.post(
        f"/tasks/{task_id(instance)}", data={"decision": "return", "comment": "请补全成绩"}
    )
    assert resp.status_code == 302
    home = login("uP1")
    inbox = text(home.get("/"))
    assert "学籍所在学校修改并重新提交" in inbox
    page = text(home.get(f"/tasks/{task_id(instance)}"))
    assert "成绩待补</textarea>" in page and 'value="2027-01-20"' in page
    home.post(
        f"/tasks/{task_id(instance)}",
        data={"end_date": "2027-01-20", "results": "语文 90"},
        content_type="multipart/form-data",
    )
    host = login("uP3")
    host.post(f"/tasks/{task_id(instance)}", data={"decision": "approve"})
    assert instance.status == "completed"
    row = StatusHistory.query.filter_by(instance_id=instance.id).one()
    assert row.after["borrow_results"] == "语文 90"
    assert re.search(r"借读结束.*已办结", text(home.get(f"/instances/{instance.id}")), re.S)


def test_returned_application_is_corrected_by_the_host(world, login):
    enrol(world, "P3")
    student = world.student("P1", grade=4)
    login("uP3").post("/procedures/borrow/new", data=borrow_form(student))
    instance = Instance.query.one()
    login("uP1").post(
        f"/tasks/{task_id(instance)}", data={"decision": "return", "comment": "请核对借读期限"}
    )
    host = login("uP3")
    page = text(host.get(f"/tasks/{task_id(instance)}"))
    assert "借读学校修改并重新提交" in page and "请核对借读期限" in page
    assert 'value="parents_field_work" selected' in page and 'value="2027-07-10"' in page
    resp = host.post(
        f"/tasks/{task_id(instance)}",
        data={
            "category": "parents_field_work",
            "start_date": "2026-09-01",
            "end_date": "2027-01-31",
        },
        content_type="multipart/form-data",
    )
    assert resp.status_code == 302
    assert [t.step for t in instance.tasks if t.state == "open"] == ["from_school_review"]
    assert instance.data["end_date"] == "2027-01-31"

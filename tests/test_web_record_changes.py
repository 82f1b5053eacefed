"""Skip a grade and key-field change in the browser, started from the student's record page."""

import io

from webapp.extensions import db
from webapp.models import Instance

PDF = b"%PDF-1.4\n%test\n%%EOF\n"


def open_task(instance: Instance) -> int:
    (task,) = [t for t in instance.tasks if t.state == "open"]
    return task.id


def test_skip_grade_from_the_record_page_to_the_new_grade(world, login):
    student = world.student("P1", grade=3, class_name="1")
    client = login("uP1")
    page = client.get(f"/students/{student.id}").get_data(as_text=True)
    assert f"/students/{student.id}/start/skip_grade" in page
    assert f"/students/{student.id}/start/info_change" in page
    form = client.get(f"/students/{student.id}/start/skip_grade").get_data(as_text=True)
    assert "跳入年级" in form and "监护人书面申请" in form
    resp = client.post(
        f"/students/{student.id}/start/skip_grade",
        data={
            "to_grade": "4",
            "to_class_name": "2",
            "evidence": (io.BytesIO(PDF), "监护人申请.pdf"),
        },
        content_type="multipart/form-data",
        follow_redirects=True,
    )
    assert "自动检查通过" in resp.get_data(as_text=True)
    instance = Instance.query.one()
    task_id = open_task(instance)
    resp = client.post(f"/tasks/{task_id}", data={"decision": "approve"}, follow_redirects=True)
    assert "四眼原则" in resp.get_data(as_text=True)
    login("uP1b").post(f"/tasks/{task_id}", data={"decision": "approve"})
    county = login("u321202")
    task_page = county.get(f"/tasks/{open_task(instance)}").get_data(as_text=True)
    assert "县级教育行政部门备案" in task_page and "四年级" in task_page
    assert "监护人申请.pdf" in task_page
    county.post(f"/tasks/{open_task(instance)}", data={"decision": "approve"})
    assert (student.grade, student.class_name) == (4, "2")
    record = login("uP1").get(f"/students/{student.id}").get_data(as_text=True)
    assert "年级：三年级 → 四年级" in record and "班级：1 → 2" in record


def test_skip_grade_form_errors_are_shown_in_chinese(world, login):
    student = world.student("P1", grade=3)
    resp = login("uP1").post(
        f"/students/{student.id}/start/skip_grade",
        data={"to_grade": "三", "to_class_name": "2"},
        content_type="multipart/form-data",
    )
    page = resp.get_data(as_text=True)
    assert resp.status_code == 422
    assert "跳入年级必须是整数" in page and "请上传证明材料" in page
    assert Instance.query.count() == 0


def test_info_change_gender_shown_in_chinese_from_task_to_record(world, login):
    student = world.student("P1", grade=3, gender="M")
    student.gender = "F"  # entered wrongly; the ID number says male
    db.session.commit()
    client = login("uP1")
    url = f"/students/{student.id}/start/info_change"
    resp = client.post(
        url,
        data={"field": "gender", "new_value": "X", "evidence": (io.BytesIO(PDF), "户口簿.pdf")},
        content_type="multipart/form-data",
    )
    assert resp.status_code == 422 and "M（男）或 F（女）" in resp.get_data(as_text=True)
    client.post(
        url,
        data={"field": "gender", "new_value": "M", "evidence": (io.BytesIO(PDF), "户口簿.pdf")},
        content_type="multipart/form-data",
    )
    instance = Instance.query.one()
    login("uP1b").post(f"/tasks/{open_task(instance)}", data={"decision": "approve"})
    county = login("u321202")
    task_page = county.get(f"/tasks/{open_task(instance)}").get_data(as_text=True)
    assert "变更项目" in task_page and "性别" in task_page and "户口簿.pdf" in task_page
    assert "<th>变更后的内容</th><td>男</td>" in task_page
    assert "None" not in task_page  # the optional corrections left blank
    county.post(f"/tasks/{open_task(instance)}", data={"decision": "approve"})
    assert student.gender == "M"
    record = login("uP1").get(f"/students/{student.id}").get_data(as_text=True)
    assert "性别：女 → 男" in record


def test_info_change_refused_by_a_rule_says_which(world, login):
    student = world.student("P1", grade=3)
    bad = student.id_number[:17] + ("0" if student.id_number[17] != "0" else "1")
    resp = login("uP1").post(
        f"/students/{student.id}/start/info_change",
        data={"field": "id_number", "new_value": bad, "evidence": (io.BytesIO(PDF), "户口簿.pdf")},
        content_type="multipart/form-data",
    )
    page = resp.get_data(as_text=True)
    assert resp.status_code == 422 and "身份证号须符合国家标准：新身份证号不符合 GB 11643" in page
    assert "id_number_valid" not in page and Instance.query.count() == 0

"""The national template's fields on a record: on the record page and in the API, and only
for those who may see the record."""

from __future__ import annotations

import html
import re

from webapp.extensions import db

MEMBERS = [
    {
        "name": "王建国",
        "relation": "父亲",
        "id_type": "居民身份证",
        "id_number": "32120219800101001X",
        "ethnicity": "回族",
        "employer": "泰州市第一医院",
        "phone": "13900000001",
        "guardian": True,
        "household_code": "321202001001",
        "address": "泰州市海陵区凤凰路 1 号",
    },
    {"name": "李梅", "relation": "母亲", "guardian": False},
]


def page_text(resp) -> str:
    return html.unescape(re.sub(r"<[^>]+>", " ", resp.get_data(as_text=True)))


def national_student(world):
    student = world.student("P1", grade=2, name="王小明")
    student.id_type = "护照"
    student.ethnicity = "回族"
    student.native_place = "江苏泰州"
    student.birthplace_code = "321202000000"
    student.household_code = "321202001001"
    student.nationality = "中国"
    student.overseas = "否"
    student.health = "健康或良好"
    student.household_type = "非农业户口"
    student.class_number = "2021102"
    student.entry_month = 9
    student.admission_mode = "就近入学"
    student.study_mode = "走读"
    student.address_current = "泰州市海陵区凤凰路 1 号"
    student.address_mail = "泰州市海陵区邮政信箱 8 号"
    student.address_home = "泰州市海陵区凤凰路 2 号"
    student.phone = "05238888888"
    student.members = MEMBERS
    student.national_extra = {"政治面貌": "少先队员", "是否留守儿童": "否"}
    db.session.commit()
    return student


def test_every_template_field_is_in_the_api(world, api):
    student = national_student(world)
    body = api("uP1").get(f"/api/v1/students/{student.id}").get_json()
    assert body["ethnicity"] == "回族" and body["native_place"] == "江苏泰州"
    assert body["birthplace_code"] == "321202000000" and body["household_code"] == "321202001001"
    assert body["id_type"] == "护照" and body["nationality"] == "中国"
    assert body["health"] == "健康或良好" and body["household_type"] == "非农业户口"
    assert body["class_number"] == "2021102" and body["entry_month"] == 9
    assert body["addresses"] == {
        "current": "泰州市海陵区凤凰路 1 号",
        "mail": "泰州市海陵区邮政信箱 8 号",
        "home": "泰州市海陵区凤凰路 2 号",
    }
    assert body["phone"] == "05238888888"
    assert body["members"][0] == MEMBERS[0]
    assert body["members"][1]["name"] == "李梅" and body["members"][1]["guardian"] is False
    assert body["national_extra"] == {"政治面貌": "少先队员", "是否留守儿童": "否"}
    # A record without the template's fields says so plainly: the resident ID, no members.
    plain = api("uP1").get(f"/api/v1/students/{world.student('P1').id}").get_json()
    assert plain["id_type"] == "居民身份证" and plain["members"] == []


def test_every_template_field_is_on_the_record_page(world, login):
    student = national_student(world)
    page = page_text(login("uP1").get(f"/students/{student.id}"))
    for shown in (
        "护照",
        "回族",
        "江苏泰州",
        "321202000000",
        "健康或良好",
        "非农业户口",
        "2021102",
        "就近入学",
        "走读",
        "泰州市海陵区邮政信箱 8 号",
        "05238888888",
        "王建国",
        "泰州市第一医院",
        "32120219800101001X",
        "李梅",
        "少先队员",
    ):
        assert shown in page, shown


def test_another_countys_school_does_not_see_the_fields(world, api):
    student = national_student(world)
    assert api("uP3").get(f"/api/v1/students/{student.id}").status_code == 404
    assert api("uP1").get(f"/api/v1/students/{student.id}").status_code == 200

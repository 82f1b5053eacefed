"""Demo data for `xueji demo`: a Jiangsu city with two counties, schools, pupils and one user
per role, so a visitor can walk a transfer from one county to the other in the browser.

Loading is idempotent: organisations and users are found by code and username, and a school
that already has students gets no more, so a second `xueji demo` reuses what is there.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import date

from forms.validators import build_id_number

from .extensions import db
from .models import ROLE_LABELS, Organization, Student, User, audit
from .models.vocabulary import STAGE_GRADES

DEMO_PASSWORD = "xueji2026"
STUDENTS_PER_SCHOOL = 20

# code, name, level, parent code, school fields
ORGS: tuple[tuple[str, str, str, str | None, dict], ...] = (
    ("32", "江苏省", "province", None, {}),
    ("3212", "泰州市", "city", "32", {}),
    ("321202", "海陵区", "county", "3212", {}),
    ("321203", "高港区", "county", "3212", {}),
    ("3210", "扬州市", "city", "32", {}),
    ("321002", "广陵区", "county", "3210", {}),
    ("321202001", "泰州市海陵区实验小学", "school", "321202", {"stages": "primary"}),
    ("321202002", "泰州市海陵区城东小学", "school", "321202", {"stages": "primary"}),
    ("321202003", "泰州市海陵区九龙实验学校", "school", "321202", {"stages": "primary+junior"}),
    (
        "321202004",
        "泰州市海陵区英才民办初级中学",
        "school",
        "321202",
        {"stages": "junior", "ownership": "private"},
    ),
    ("321202005", "泰州市海陵高级中学", "school", "321202", {"stages": "senior", "star": 3}),
    ("321203001", "泰州市高港区实验小学", "school", "321203", {"stages": "primary"}),
    ("321203002", "泰州市高港区口岸初级中学", "school", "321203", {"stages": "junior"}),
    ("321203003", "泰州市第三高级中学", "school", "321203", {"stages": "senior", "star": 4}),
    ("321203004", "泰州市高港中等专业学校", "school", "321203", {"stages": "vocational"}),
    ("321002001", "扬州市广陵区育才小学", "school", "321002", {"stages": "primary"}),
    ("321002002", "扬州市广陵区梅岭中学", "school", "321002", {"stages": "junior"}),
)

# username, org code, role, display name
USERS: tuple[tuple[str, str, str, str], ...] = (
    ("school_hl", "321202001", "school", "王老师（海陵区实验小学学籍管理员）"),
    ("school_hl2", "321202001", "school", "陈老师（海陵区实验小学教导处）"),
    ("school_gg", "321203001", "school", "李老师（高港区实验小学学籍管理员）"),
    ("county_hl", "321202", "county", "海陵区教育局基教科"),
    ("county_gg", "321203", "county", "高港区教育局基教科"),
    ("city_tz", "3212", "city", "泰州市教育局基教处"),
    ("province_js", "32", "province", "江苏省教育厅"),
    ("admin", "32", "admin", "平台管理员"),
)

SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何林高罗郑梁谢宋唐许韩冯邓曹彭曾萧田董潘袁蒋蔡余杜叶程"
GIVEN = {
    "M": "浩然 梓轩 宇航 俊杰 博文 明轩 皓轩 天佑 晨阳 睿哲 泽宇 子墨 铭泽 宏宇 承泽 一鸣".split(),
    "F": "子涵 欣怡 雨桐 诗涵 思彤 梓萱 佳怡 语嫣 嘉怡 若曦 雅琪 可欣 梦瑶 紫涵 欣妍 静怡".split(),
}
FATHER_GIVEN = "建国 志刚 海峰 卫东 立新 永强 文斌 国庆 晓军 建华 德明 春生".split()


@dataclass(frozen=True)
class DemoUser:
    username: str
    role: str
    role_label: str
    org_name: str
    display_name: str


@dataclass(frozen=True)
class DemoSummary:
    created: bool  # False when everything was already there
    users: list[DemoUser]


def load() -> DemoSummary:
    """Create whatever part of the demo world is missing, commit it, and list the demo users."""
    orgs, new_orgs = _orgs()
    new_users = _users(orgs)
    new_students = 0
    schools = [orgs[row[0]] for row in ORGS if row[2] == "school"]
    for index, school in enumerate(schools):
        if Student.query.filter_by(school_id=school.id).first() is None:
            db.session.add_all(_students(school, index))
            new_students += STUDENTS_PER_SCHOOL
    created = bool(new_orgs or new_users or new_students)
    if created:
        audit(
            None,
            "demo.load",
            after={"orgs": new_orgs, "users": new_users, "students": new_students},
        )
    db.session.commit()
    users = [db.session.scalar(db.select(User).filter_by(username=row[0])) for row in USERS]
    return DemoSummary(
        created,
        [DemoUser(u.username, u.role, ROLE_LABELS[u.role], u.org.name, u.label) for u in users],
    )


def _orgs() -> tuple[dict[str, Organization], int]:
    codes = [row[0] for row in ORGS]
    found = {o.code: o for o in Organization.query.filter(Organization.code.in_(codes))}
    created = 0
    for code, name, level, parent, extra in ORGS:
        if code in found:
            continue
        fields = {"ownership": "public", **extra} if level == "school" else {}
        found[code] = Organization(
            code=code, name=name, level=level, parent=found[parent] if parent else None, **fields
        )
        db.session.add(found[code])
        created += 1
    db.session.flush()
    return found, created


def _users(orgs: dict[str, Organization]) -> int:
    created = 0
    for username, org_code, role, display in USERS:
        if db.session.scalar(db.select(User).filter_by(username=username)) is not None:
            continue
        user = User(username=username, role=role, org=orgs[org_code], display_name=display)
        user.set_password(DEMO_PASSWORD)
        db.session.add(user)
        created += 1
    db.session.flush()
    return created


def _students(school: Organization, index: int) -> list[Student]:
    """Pupils spread over the school's grades and two classes, the same on every machine.

    ID numbers are unique across the demo because each school draws its order codes from its
    own block (`index`); in Taizhou a few pupils are registered in the other county.
    """
    rng = random.Random(school.code)
    start = _school_year_start()
    grades = sorted({g for stage in school.stage_list for g in STAGE_GRADES[stage]})
    county = school.parent.code
    other_county = {"321202": "321203", "321203": "321202"}.get(county, county)
    students = []
    for i in range(STUDENTS_PER_SCHOOL):
        grade = grades[i % len(grades)]
        gender = rng.choice("MF")
        month = rng.randint(1, 12)
        birth = date(start - grade - (5 if month <= 8 else 6), month, rng.randint(1, 28))
        household = other_county if i % 7 == 6 else county
        surname = rng.choice(SURNAMES)
        id_number = build_id_number(household, birth, index * STUDENTS_PER_SCHOOL + i, gender)
        stage_first = 1 if grade <= 6 else 7 if grade <= 9 else 10
        students.append(
            Student(
                id_number=id_number,
                name=surname + rng.choice(GIVEN[gender]),
                gender=gender,
                birth_date=birth,
                ethnicity="汉族",
                school=school,
                grade=grade,
                class_name=f"{(i // len(grades)) % 2 + 1}班",
                entry_year=start - (grade - stage_first),
                household_code=household,
                guardian_name=surname + rng.choice(FATHER_GIVEN),
                guardian_phone="1" + rng.choice("3589") + "".join(rng.choices("0123456789", k=9)),
                status="enrolled",
                status_number="G" + id_number,
            )
        )
    return students


def _school_year_start() -> int:
    """The calendar year the current school year began (it starts in September)."""
    today = date.today()
    return today.year if today.month >= 9 else today.year - 1

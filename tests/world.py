"""A small world for tests: two cities, three counties, a handful of schools, one user each."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from itertools import count

from forms.validators import build_id_number
from webapp.extensions import db
from webapp.models import Organization, Student, User

PASSWORD = "pw-123456"
# The test apps' key: as long as a deployment's must be (32 bytes or more).
SECRET_KEY = "test-secret-key-of-at-least-32-bytes"
_HASH: dict[str, str] = {}
_seq = count(1)


def _user(username: str, org: Organization, role: str) -> User:
    user = User(username=username, role=role, org=org, display_name=username)
    if "hash" not in _HASH:
        user.set_password(PASSWORD)
        _HASH["hash"] = user.password_hash
    user.password_hash = _HASH["hash"]
    db.session.add(user)
    return user


@dataclass
class World:
    orgs: dict[str, Organization] = field(default_factory=dict)
    users: dict[str, User] = field(default_factory=dict)

    def org(
        self, code: str, name: str, level: str, parent: str | None = None, **kw
    ) -> Organization:
        org = Organization(
            code=code, name=name, level=level, parent=self.orgs[parent] if parent else None, **kw
        )
        db.session.add(org)
        self.orgs[code] = org
        role = level if level != "school" else "school"
        self.users[code] = _user(f"u{code}", org, role)
        return org

    def user(self, username: str, org_code: str, role: str) -> User:
        self.users[username] = _user(username, self.orgs[org_code], role)
        db.session.flush()
        return self.users[username]

    def student(self, school: str, grade: int = 4, name: str | None = None, **kw) -> Student:
        n = next(_seq)
        gender = kw.pop("gender", "M" if n % 2 else "F")
        birth = kw.pop("birth_date", date(2020 - grade, 1 + n % 12, 1 + n % 28))
        household = kw.pop("household_code", self.orgs[school].parent.code)
        student = Student(
            id_number=build_id_number(household, birth, n, gender),
            name=name or f"学生{n}",
            gender=gender,
            birth_date=birth,
            school=self.orgs[school],
            grade=grade,
            class_name=kw.pop("class_name", "1"),
            entry_year=kw.pop("entry_year", 2026 - grade + 1),
            household_code=household,
            status=kw.pop("status", "enrolled"),
            **kw,
        )
        student.status_number = "G" + student.id_number
        db.session.add(student)
        db.session.commit()
        return student


def build_world() -> World:
    """泰州市 (3212) with 海陵区 (321202) and 高港区 (321203); 扬州市 (3210) with 广陵区 (321002)."""
    w = World()
    w.org("32", "江苏省", "province")
    w.org("3212", "泰州市", "city", "32")
    w.org("321202", "海陵区", "county", "3212")
    w.org("321203", "高港区", "county", "3212")
    w.org("3210", "扬州市", "city", "32")
    w.org("321002", "广陵区", "county", "3210")
    school = dict(level="school", ownership="public")
    w.org("P1", "海陵实验小学", parent="321202", stages="primary", star=None, **school)
    w.org("P2", "海陵第二小学", parent="321202", stages="primary", **school)
    w.org("P3", "高港实验小学", parent="321203", stages="primary", **school)
    w.org("P4", "广陵小学", parent="321002", stages="primary", **school)
    w.org("J1", "海陵中学", parent="321202", stages="junior", **school)
    w.org("J2", "高港中学", parent="321203", stages="junior", **school)
    w.org("H1", "海陵高级中学", parent="321202", stages="senior", star=3, **school)
    w.org("H2", "高港高级中学", parent="321203", stages="senior", star=3, **school)
    w.org("H3", "泰州星级高中", parent="321203", stages="senior", star=4, **school)
    w.org("V1", "高港职业学校", parent="321203", stages="vocational", **school)
    w.org(
        "M1", "海陵民办小学", parent="321202", stages="primary", level="school", ownership="private"
    )
    w.org(
        "M2", "海陵民办高中", parent="321202", stages="senior", level="school", ownership="private"
    )
    w.user("admin", "32", "admin")
    w.user("uP1b", "P1", "school")
    db.session.flush()
    return w

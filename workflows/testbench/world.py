"""The one small world of organisations and users: the test bench builds it in its
sandbox, the tests build it in theirs (tests/world.py), so a school code, a username or a
name means the same in a scenario and in a test.

泰州市 (3212) with 海陵区 (321202) and 高港区 (321203), 扬州市 (3210) with 广陵区 (321002),
eighteen schools under them; a user `u<code>` at every organisation (the role is the
organisation's level), an administrator `admin` at the province and a second registrar
`uP1b` at 海陵实验小学. A test or the bench adds the further users it needs with
`World.user` (the bench: a second registrar at every school)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date
from itertools import count

from forms.validators import build_id_number
from webapp.models import Organization, Student, User, db

# code, name, level, parent, and for schools stages, ownership, star. The first eighteen are
# the tests' long-standing world, in their order (so their ids stay what they were); the
# last two the bench's own additions.
ORGANISATIONS: tuple[tuple, ...] = (
    ("32", "江苏省", "province", None),
    ("3212", "泰州市", "city", "32"),
    ("321202", "海陵区", "county", "3212"),
    ("321203", "高港区", "county", "3212"),
    ("3210", "扬州市", "city", "32"),
    ("321002", "广陵区", "county", "3210"),
    ("P1", "海陵实验小学", "school", "321202", "primary", "public", None),
    ("P2", "海陵第二小学", "school", "321202", "primary", "public", None),
    ("P3", "高港实验小学", "school", "321203", "primary", "public", None),
    ("P4", "广陵小学", "school", "321002", "primary", "public", None),
    ("J1", "海陵中学", "school", "321202", "junior", "public", None),
    ("J2", "高港中学", "school", "321203", "junior", "public", None),
    ("H1", "海陵高级中学", "school", "321202", "senior", "public", 3),
    ("H2", "高港高级中学", "school", "321203", "senior", "public", 3),
    ("H3", "泰州星级高中", "school", "321203", "senior", "public", 4),
    ("V1", "高港职业学校", "school", "321203", "vocational", "public", None),
    ("M1", "海陵民办小学", "school", "321202", "primary", "private", None),
    ("M2", "海陵民办高中", "school", "321202", "senior", "private", None),
    ("H4", "广陵高级中学", "school", "321002", "senior", "public", 3),
    ("V2", "海陵职业学校", "school", "321202", "vocational", "public", None),
)
CITIES = ("3212", "3210")
# The year the students' birth dates and entry years count from, unless a world is told another.
YEAR = 2026
# No password signs in with this hash (the sandbox never signs in).
NO_PASSWORD = "!"


@dataclass
class World:
    """The organisations by code; the users by organisation code (its first user, `u<code>`)
    and by username (every further one); helpers that add an organisation, a user, a student."""

    year: int = YEAR
    password_hash: str = NO_PASSWORD
    serial: Iterator[int] = field(default_factory=lambda: count(1))
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
        self.users[code] = self._user(f"u{code}", org, level)
        return org

    def user(self, username: str, org_code: str, role: str) -> User:
        self.users[username] = self._user(username, self.orgs[org_code], role)
        db.session.flush()
        return self.users[username]

    def _user(self, username: str, org: Organization, role: str) -> User:
        user = User(
            username=username,
            role=role,
            org=org,
            display_name=username,
            password_hash=self.password_hash,
        )
        db.session.add(user)
        return user

    def student(self, school: str, grade: int = 4, name: str | None = None, **kw) -> Student:
        """A student of `school` in `grade`, born and entered as a child of that grade is
        (counted from the world's year); `kw` sets any other column."""
        n = next(self.serial)
        gender = kw.pop("gender", "M" if n % 2 else "F")
        birth = kw.pop("birth_date", date(self.year - 6 - grade, 1 + n % 12, 1 + n % 28))
        household = kw.pop("household_code", self.orgs[school].parent.code)
        student = Student(
            id_number=build_id_number(household, birth, n, gender),
            name=name or f"学生{n}",
            gender=gender,
            birth_date=birth,
            school=self.orgs[school],
            grade=grade,
            class_name=kw.pop("class_name", "1"),
            entry_year=kw.pop("entry_year", self.year - grade + 1),
            household_code=household,
            status=kw.pop("status", "enrolled"),
            **kw,
        )
        student.status_number = "G" + student.id_number
        db.session.add(student)
        db.session.commit()
        return student


def build_world(
    *,
    year: int = YEAR,
    password_hash: str = NO_PASSWORD,
    serial: Iterator[int] | None = None,
) -> World:
    """The world in the current database session (flushed, not committed)."""
    w = World(year=year, password_hash=password_hash, serial=serial or count(1))
    for code, name, level, parent, *school in ORGANISATIONS:
        extra = dict(zip(("stages", "ownership", "star"), school, strict=True)) if school else {}
        w.org(code, name, level, parent, **extra)
    w.user("admin", "32", "admin")
    w.user("uP1b", "P1", "school")
    db.session.flush()
    return w

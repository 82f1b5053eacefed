"""The sandbox: an application context of its own on an empty in-memory SQLite database, the
one world built in it for a scenario, and what the procedures a scenario runs need deployed.

The engine, the handlers and the models all talk to the sandbox database; nothing of the
real database is read or written. The variant under test is assigned to both cities of
the world, so every school runs it (a scenario may `assign` others)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date

from flask import Flask
from sqlalchemy.pool import StaticPool

from webapp.models import FileUpload, Instance, Organization, Student, User, china_today, db

from .. import deploy, jurisdiction
from .scenarios import resolve
from .world import CITIES, World, build_world


@contextmanager
def sandbox() -> Iterator[Flask]:
    """An application context of its own on an empty in-memory database."""
    app = Flask("xueji_sandbox")
    app.config.update(
        SQLALCHEMY_DATABASE_URI="sqlite://",
        SQLALCHEMY_ENGINE_OPTIONS={
            "poolclass": StaticPool,
            "connect_args": {"check_same_thread": False},
        },
        SECRET_KEY="sandbox",
        REDIS_URL=None,  # automatic steps run inline
    )
    db.init_app(app)
    jurisdiction.init_app(app)
    with app.app_context():
        db.create_all()
        try:
            yield app
        finally:
            db.session.remove()
            db.engine.dispose()


class Failed(Exception):
    """The run went another way than the scenario says; the message is the difference."""


class Sandbox:
    """The world of one scenario inside the sandbox database: the one world, with a second
    registrar at every school (a review is not done by who entered it), the variant under
    test at both cities, and the scenario's own `assign`ments."""

    def __init__(self, variant: str, assign: dict[str, str]):
        self.world: World = build_world(year=china_today().year)
        for code, org in self.world.orgs.items():
            if org.level == "school" and f"u{code}b" not in self.world.users:
                self.world.user(f"u{code}b", code, "school")
        if variant != deploy.DEFAULT_VARIANT:
            for code in CITIES:
                self.world.orgs[code].variant = variant
        for code, name in assign.items():
            self.world.orgs[str(code)].variant = None if name == deploy.DEFAULT_VARIANT else name
        db.session.commit()

    def starter(self, code) -> User:
        """The user `u<code>` of the organisation a start names."""
        return self.world.users[self.org(code, "start.as").code]

    def student(self, spec: dict) -> Student:
        """A student as a scenario's `student` (or `classmates`) describes one."""
        school = self.org(spec.get("school"), "student.school")
        kw = {key: spec[key] for key in ("gender", "status") if key in spec}
        if spec.get("household_code"):
            kw["household_code"] = spec["household_code"]
        if "entry_year" in spec:
            kw["entry_year"] = int(spec["entry_year"])
        if spec.get("suspended_until"):
            kw["suspended_until"] = date.fromisoformat(resolve(spec["suspended_until"]))
        grade = int(spec.get("grade", 4))
        class_name = str(spec.get("class_name", "1"))
        return self.world.student(school.code, grade, spec.get("name"), class_name=class_name, **kw)

    def org(self, code, what: str) -> Organization:
        orgs = self.world.orgs
        if str(code) not in orgs:
            raise Failed(f"{what}：沙盒中没有单位 {code}（可用：{'、'.join(orgs)}）")
        return orgs[str(code)]

    def data(self, raw: dict | None, user: User) -> dict:
        out = resolve(raw or {})
        if out.get("evidence") == "upload":
            out["evidence"] = placeholder_upload(user)
        return out

    def actor(self, task, instance: Instance) -> User:
        """A user of the task's organisation and role, other than who entered it if possible."""
        users = self.world.users.values()
        fits = [u for u in users if u.org_id == task.org_id and u.role == task.role]
        others = [u for u in fits if u.id != instance.initiator_id]
        return (others or fits)[0]


def placeholder_upload(user: User, name: str = "证明.pdf") -> list[int]:
    """One small PDF uploaded by `user`, as a form's evidence list: what a scenario's
    `evidence: upload` stands for."""
    f = FileUpload(
        name=name,
        content_type="application/pdf",
        size=8,
        sha256="0" * 64,
        content=b"%PDF-1.4",
        uploaded_by_id=user.id,
    )
    db.session.add(f)
    db.session.commit()
    return [f.id]


def deploy_for(procedure: str, variant: str, draft: tuple[str, dict, dict] | None) -> None:
    """Deploy into the sandbox what instances of `procedure` under `variant` run."""
    if deploy.newest(procedure, variant) is not None:
        return
    if draft is not None:
        bpmn_xml, dmn, segments = draft
        deploy.deploy(procedure, bpmn_xml, dmn, variant=variant, segments=segments)
    elif variant != deploy.DEFAULT_VARIANT and deploy.overrides(procedure, variant):
        deploy.deploy(procedure, *deploy.read_files(procedure, variant), variant=variant)
    elif deploy.newest(procedure) is None:
        deploy.deploy(procedure, *deploy.read_files(procedure))
    db.session.commit()

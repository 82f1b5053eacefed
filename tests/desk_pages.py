"""The main flows' pages for the phone-width and accessibility checks in Chromium: a transfer
waiting at the receiving county's review, and a pupil of the receiving school with a record
and a start form, each page with who opens it."""

from __future__ import annotations

from dataclasses import dataclass

from webapp.extensions import db
from workflows import engine

from .flows import transfer_data


@dataclass
class DeskPage:
    name: str
    username: str
    path: str
    diagram: bool = False  # wait for the diagram to be drawn before looking


def desk_pages(world) -> list[DeskPage]:
    """Builds the cases and lists the pages: the county's desk first, then the school's."""
    mover = world.student("P1", grade=4, name="赵小红")
    pupil = world.student("P3", grade=3, name="孙小兰")
    db.session.commit()
    instance = engine.start("transfer", world.users["P3"], transfer_data(mover, "P3"))
    (task,) = engine.open_tasks(instance)
    db.session.commit()
    return [
        DeskPage("待办任务", "u321203", "/"),
        DeskPage("任务办理", "u321203", f"/tasks/{task.id}", diagram=True),
        DeskPage("业务详情", "u321203", f"/instances/{instance.id}", diagram=True),
        DeskPage("业务查询", "uP3", "/instances"),
        DeskPage("学生学籍", "uP3", "/students"),
        DeskPage("学籍档案", "uP3", f"/students/{pupil.id}"),
        DeskPage("发起休学", "uP3", f"/students/{pupil.id}/start/suspension"),
        DeskPage("批量导入", "uP3", "/imports"),
    ]

"""Overdue in my area: open steps past their due day at the organisations a bureau supervises.

The supervising level sees a step once it is overdue: a county the steps of its schools,
a city the steps of its counties (a province those of its cities). "全部下级" widens the
list to every level below (a city then also sees its schools' steps). Only organisations
in the user's reach appear, and only instances the user may see (`webapp.scope`).
"""

from __future__ import annotations

from flask import abort, render_template, request
from flask_login import current_user, login_required
from sqlalchemy import func

from workflows import jurisdiction
from workflows.deadlines import overdue_filter

from .. import exports, sheets
from ..extensions import db
from ..models import HumanTask, Instance, Organization, utcnow
from ..views_common import paginate
from . import bp

SUPERVISORS = ("county", "city", "province")
RANGES = {"direct": "直属单位", "all": "全部下级单位"}


def _supervised(user, reach: str) -> set[int]:
    """Ids of the organisations whose overdue steps `user` watches."""
    below = (jurisdiction.org_ids_in_reach(user) or set()) - {user.org_id}
    if reach == "all":
        return below
    direct = db.session.scalars(
        db.select(Organization.id).where(Organization.parent_id == user.org_id)
    )
    return below & set(direct)


@bp.route("/overdue")
@login_required
def index():
    """Counts per organisation and the overdue steps, the longest overdue first;
    ?format=xlsx|csv gives the steps (of the chosen organisation, if one is) as a file."""
    if current_user.role not in SUPERVISORS:
        abort(403)
    reach = request.args.get("range", "direct")
    reach = reach if reach in RANGES else "direct"
    orgs = _supervised(current_user, reach)
    now = utcnow()
    visible = jurisdiction.instances(current_user).with_entities(Instance.id)
    conditions = (
        *overdue_filter(now),
        HumanTask.org_id.in_(orgs),
        HumanTask.instance_id.in_(visible),
    )
    counts = (
        db.session.query(HumanTask.org_id, func.count(HumanTask.id), func.min(HumanTask.due_at))
        .filter(*conditions)
        .group_by(HumanTask.org_id)
        .all()
    )
    names = {
        o.id: o
        for o in Organization.query.filter(Organization.id.in_([c[0] for c in counts])).all()
    }
    per_org = sorted(
        ((names[org_id], n, oldest) for org_id, n, oldest in counts),
        key=lambda row: (-row[1], row[0].code),
    )
    chosen = request.args.get("org", type=int)
    query = HumanTask.query.filter(*conditions)
    if chosen is not None:
        if chosen not in orgs:
            abort(404)
        query = query.filter(HumanTask.org_id == chosen)
    query = query.order_by(HumanTask.due_at, HumanTask.id)
    fmt = request.args.get("format")
    if fmt is not None:
        filters = {"range": reach, "org": chosen}
        return exports.download(fmt, sheets.overdue(query), current_user, filters)
    return render_template(
        "overdue/index.html",
        page=paginate(query),
        per_org=per_org,
        total=sum(n for _, n, _ in per_org),
        reach=reach,
        ranges=RANGES,
        chosen=db.session.get(Organization, chosen) if chosen else None,
    )

"""The organisation tree and its users."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from flask_login import UserMixin
from werkzeug.security import check_password_hash, generate_password_hash

from .base import db
from .clock import utcnow


class Organization(db.Model):
    """A node of the tree province → city → county → school."""

    id = db.Column(db.Integer, primary_key=True)
    code = db.Column(db.String(32), unique=True, nullable=False)
    name = db.Column(db.String(128), nullable=False)
    level = db.Column(db.String(16), nullable=False)
    parent_id = db.Column(db.Integer, db.ForeignKey("organization.id"), index=True)
    stages = db.Column(db.String(64))  # "primary+junior"
    ownership = db.Column(db.String(16))  # public | private
    star = db.Column(db.Integer)
    variant = db.Column(db.String(32))
    # Vocational: the graduation credits of the school's filed teaching plan (002 第三十一条).
    plan_credits = db.Column(db.Integer)
    # The school's 10-digit 学校标识码, by which the national template names it.
    identifier = db.Column(db.String(10), unique=True)

    parent = db.relationship("Organization", remote_side=[id], backref="children")

    @property
    def stage_list(self) -> list[str]:
        return [s for s in (self.stages or "").split("+") if s]

    def ancestor(self, level: str) -> Organization | None:
        """The organisation at `level` above (or equal to) this one."""
        org: Organization | None = self
        while org is not None and org.level != level:
            org = org.parent
        return org

    def lineage(self) -> list[Organization]:
        out, org = [], self
        while org is not None:
            out.append(org)
            org = org.parent
        return out

    def __repr__(self) -> str:
        return f"<Org {self.code} {self.name}>"


class User(UserMixin, db.Model):
    id = db.Column(db.Integer, primary_key=True)
    username = db.Column(db.String(64), unique=True, nullable=False)
    password_hash = db.Column(db.String(256), nullable=False)
    role = db.Column(db.String(16), nullable=False)
    org_id = db.Column(db.Integer, db.ForeignKey("organization.id"), nullable=False, index=True)
    display_name = db.Column(db.String(64))
    active = db.Column(db.Boolean, default=True, nullable=False)
    email = db.Column(db.String(254))  # notices are also mailed here when SMTP is set up
    # Session cookies and API tokens carry this generation: raising it revokes them all.
    session_epoch = db.Column(db.Integer, nullable=False, default=0, server_default="0")
    created_at = db.Column(db.DateTime, default=utcnow)
    last_login_at = db.Column(db.DateTime)
    unfrozen_at = db.Column(db.DateTime)  # an admin lifted the freeze of an unused account
    # The organisation's lead (负责人): may release or hand over a colleague's claimed task.
    lead = db.Column(db.Boolean, nullable=False, default=False, server_default=sa.false())

    org = db.relationship("Organization")

    def get_id(self) -> str:
        """What a session cookie names: the user and the session generation it was issued in."""
        return f"{self.id}:{self.session_epoch}"

    def revoke_sessions(self) -> None:
        """Sign the user out everywhere: every cookie and token issued so far stops working."""
        self.session_epoch = User.session_epoch + 1  # atomic, whatever another request does
        db.session.flush()

    @property
    def idle_since(self) -> datetime | None:
        """Since when the account was last used (signed in, created or unfrozen)."""
        times = [t for t in (self.created_at, self.last_login_at, self.unfrozen_at) if t]
        return max(times, default=None)

    def set_password(self, password: str) -> None:
        self.password_hash = generate_password_hash(password)

    def check_password(self, password: str) -> bool:
        return check_password_hash(self.password_hash, password)

    @property
    def label(self) -> str:
        return self.display_name or self.username

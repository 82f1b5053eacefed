"""Saved filters: a user's named query strings for the inbox, 业务查询 and the student list,
kept on the server so they follow the user from one computer to another."""

from __future__ import annotations

from sqlalchemy import Index

from .base import db
from .clock import utcnow

SAVED_FILTER_NAME_MAX = 32
SAVED_FILTER_QUERY_MAX = 1000


class SavedFilter(db.Model):
    """One saved filter: which list (`page`), a name the user chose, the query string."""

    id = db.Column(db.Integer, primary_key=True)
    user_id = db.Column(db.Integer, db.ForeignKey("user.id"), nullable=False)
    page = db.Column(db.String(16), nullable=False)  # inbox | instances | students
    name = db.Column(db.String(SAVED_FILTER_NAME_MAX), nullable=False)
    query_string = db.Column(db.String(SAVED_FILTER_QUERY_MAX), nullable=False, default="")
    created_at = db.Column(db.DateTime, default=utcnow, nullable=False)

    __table_args__ = (
        Index("ix_saved_filter_user_page_name", "user_id", "page", "name", unique=True),
    )

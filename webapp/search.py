"""Finding a student by what a registrar types: the start or the end of an ID number, the
start of a status number, or part of a name. Each form has its index (migration
a3c5e7f9b1d2): prefix indexes on the numbers and on the reversed ID number, a trigram index
on the name (PostgreSQL's pg_trgm; a plain LIKE on SQLite)."""

from __future__ import annotations

import re

from sqlalchemy import func, or_

from .extensions import db
from .models import Student

_DIGITS = re.compile(r"[0-9X]+")  # the start of an ID number
_STATUS_NUMBER = re.compile(r"[A-Z][0-9X]+")  # a status number: a letter, then digits


def _id_ends_with(digits: str):
    """Registrars also type the last digits of an ID number; PostgreSQL finds them through
    an index of the reversed number, SQLite (the demo) by a plain LIKE."""
    if db.session.get_bind().dialect.name == "postgresql":
        return func.reverse(Student.id_number).startswith(digits[::-1])
    return Student.id_number.endswith(digits)


def students_matching(query, q: str):
    """Narrow a query of students to those `q` finds; a blank `q` finds everyone."""
    q = q.strip()
    if not q:
        return query
    upper = q.upper()
    if _DIGITS.fullmatch(upper):
        return query.filter(or_(Student.id_number.startswith(upper), _id_ends_with(upper)))
    if _STATUS_NUMBER.fullmatch(upper):
        return query.filter(Student.status_number.startswith(upper, autoescape=True))
    return query.filter(Student.name.contains(q, autoescape=True))

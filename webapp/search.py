"""Finding a student by what a registrar types: the start or the end of an ID number, the
start of a status number, or part of a name. Each form has its index (migration
a3c5e7f9b1d2): prefix indexes on the numbers, the name and their reversals, a trigram index
on the name (PostgreSQL's pg_trgm; a plain LIKE on SQLite)."""

from __future__ import annotations

import re

from sqlalchemy import func, or_

from .extensions import db
from .models import Student

_DIGITS = re.compile(r"[0-9X]+")  # the start of an ID number
_STATUS_NUMBER = re.compile(r"[A-Z][0-9X]+")  # a status number: a letter, then digits


def _ends_with(column, text: str):
    """Registrars also type the end of a number or of a name: PostgreSQL finds it through an
    index of the reversed column, SQLite (the demo) by a plain LIKE."""
    if db.session.get_bind().dialect.name == "postgresql":
        return func.reverse(column).startswith(text[::-1], autoescape=True)
    return column.endswith(text, autoescape=True)


def _name_part(q: str):
    """Part of a name. Three characters or more: a trigram match anywhere in the name. One
    or two (a surname, a given name, a two-character full name: too short for trigrams):
    the start or the end of the name, each through an index."""
    if len(q) >= 3:
        return Student.name.contains(q, autoescape=True)
    return or_(Student.name.startswith(q, autoescape=True), _ends_with(Student.name, q))


def students_matching(query, q: str):
    """Narrow a query of students to those `q` finds; a blank `q` finds everyone."""
    q = q.strip()
    if not q:
        return query
    upper = q.upper()
    if _DIGITS.fullmatch(upper):
        return query.filter(
            or_(Student.id_number.startswith(upper), _ends_with(Student.id_number, upper))
        )
    if _STATUS_NUMBER.fullmatch(upper):
        return query.filter(Student.status_number.startswith(upper, autoescape=True))
    return query.filter(_name_part(q))

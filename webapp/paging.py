"""Pages of a list that never count the world: the count stops at COUNT_BOUND.

A city's list of a million records shows "1,000+" rather than spending a scan of the
whole index on a number nobody reads; the items of a page are read with OFFSET/LIMIT
through the same index as the count.
"""

from __future__ import annotations

from dataclasses import dataclass
from math import ceil

from sqlalchemy import func, select

from .extensions import db

COUNT_BOUND = 1000


def bounded_count(query, bound: int | None = None) -> int:
    """How many rows `query` has, counting at most `bound + 1` (COUNT_BOUND + 1) of them."""
    bound = COUNT_BOUND if bound is None else bound
    limited = query.order_by(None).with_entities(db.literal(1)).limit(bound + 1).subquery()
    return db.session.scalar(select(func.count()).select_from(limited))


@dataclass
class Page:
    """One page of a list: the attribute names of Flask-SQLAlchemy's pagination."""

    items: list
    page: int
    per_page: int
    total: int  # exact up to COUNT_BOUND
    capped: bool  # more than COUNT_BOUND rows match

    @property
    def pages(self) -> int:
        counted = max(1, ceil(self.total / self.per_page))
        return max(counted, self.page + 1) if self.capped else counted

    @property
    def has_prev(self) -> bool:
        return self.page > 1

    @property
    def has_next(self) -> bool:
        return self.page < self.pages

    @property
    def prev_num(self) -> int:
        return self.page - 1

    @property
    def next_num(self) -> int:
        return self.page + 1

    @property
    def total_label(self) -> str:
        return f"{COUNT_BOUND:,}+" if self.capped else f"{self.total:,}"

    def iter_pages(self, left_edge=1, left_current=2, right_current=3, right_edge=1):
        """Page numbers to show, None for a gap; past the bound, no last page is named.
        Only the numbers around the current page and the edges are looked at, so page
        1,000,000 costs what page 1 does."""
        last = self.pages
        near = range(max(1, self.page - left_current), min(last, self.page + right_current) + 1)
        edges = range(1, min(last, left_edge) + 1)
        ends = () if self.capped else range(max(1, last - right_edge + 1), last + 1)
        shown: list[int | None] = []
        for n in sorted({*edges, *near, *ends}):
            if shown and n - shown[-1] > 1:
                shown.append(None)
            shown.append(n)
        return shown


def page_of(query, page: int, per_page: int) -> Page:
    """Page `page` of `query`: one bounded count and one read of the page's rows."""
    page = max(page, 1)
    total = bounded_count(query)
    items = query.offset((page - 1) * per_page).limit(per_page).all()
    capped = total > COUNT_BOUND
    return Page(items, page, per_page, min(total, COUNT_BOUND), capped)

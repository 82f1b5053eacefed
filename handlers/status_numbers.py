"""The national status number (全国学籍号) of new records, as the national system gives it:
G + the resident ID number; a student without one (港澳台居民居住证, 护照 …) gets L + the birth
date YYYYMMDD + a serial counted per birth date, so a number is never given twice.

`xueji import students` and 新生注册 number their records through `national_numbers`.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from webapp.models.codes import RESIDENT_ID

from .serials import reserve_serials


def national_numbers(students: list[dict[str, Any]]) -> list[str]:
    """One number per checked student row (id_number, id_type, birth_date), in order."""
    numbers: list[str] = [""] * len(students)
    by_day: dict[str, list[int]] = defaultdict(list)
    for index, student in enumerate(students):
        if (student.get("id_type") or RESIDENT_ID) == RESIDENT_ID:
            numbers[index] = "G" + student["id_number"]
        else:
            by_day[student["birth_date"].strftime("%Y%m%d")].append(index)
    for day, indexes in by_day.items():
        serials = reserve_serials(f"status_number:L{day}", len(indexes))
        for index, serial in zip(indexes, serials, strict=True):
            numbers[index] = f"L{day}{serial:04d}"
    return numbers

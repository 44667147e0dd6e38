"""What makes a year's official schedule acceptable (pure)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

from shared.errors import BadInput
from shared.workdays import FIRST_YEAR, LAST_YEAR, DaySource, YearSchedule


@dataclass(frozen=True)
class NamedDay:
    date: date
    name: str


def validate_year_schedule(
    year: int, holidays: Sequence[NamedDay], makeup_workdays: Sequence[NamedDay]
) -> YearSchedule:
    """Check a State Council schedule for ``year`` and return it; BadInput names the bad date.

    Dates must lie in the year, appear once, be either a holiday or a make-up working day,
    make-up working days must be a Saturday or Sunday (调休上班日), and every day has a name.
    """
    if not FIRST_YEAR <= year <= LAST_YEAR:
        raise BadInput(
            f"year {year} is outside {FIRST_YEAR}–{LAST_YEAR}",
            zh=f"年份 {year} 超出 {FIRST_YEAR}–{LAST_YEAR}",
        )
    seen: dict[date, str] = {}
    names = {"holiday": "法定节假日", "make-up working day": "调休上班日"}
    for kind, days in (("holiday", holidays), ("make-up working day", makeup_workdays)):
        for day in days:
            if day.date.year != year:
                raise BadInput(
                    f"{day.date} ({kind}) is not in {year}",
                    zh=f"{day.date}（{names[kind]}）不在 {year} 年内",
                )
            if not day.name.strip():
                raise BadInput(
                    f"{day.date} ({kind}) has no holiday name",
                    zh=f"{day.date}（{names[kind]}）缺少节日名称",
                )
            if day.date in seen:
                if seen[day.date] == kind:
                    raise BadInput(
                        f"{day.date} is listed twice as a {kind}",
                        zh=f"{day.date} 作为{names[kind]}重复列出",
                    )
                raise BadInput(
                    f"{day.date} cannot be both a holiday and a make-up working day",
                    zh=f"{day.date} 不能既是法定节假日又是调休上班日",
                )
            if kind == "make-up working day" and day.date.weekday() < 5:
                raise BadInput(
                    f"{day.date} is a weekday: a make-up working day is a Saturday or Sunday",
                    zh=f"{day.date} 是工作日：调休上班日应为周六或周日",
                )
            seen[day.date] = kind
    return YearSchedule(
        year,
        {d.date: d.name.strip() for d in holidays},
        {d.date: d.name.strip() for d in makeup_workdays},
        DaySource.LOADED,
    )

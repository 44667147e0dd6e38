"""Which time limit a clock gets (pure).

Art 13: dispatch 1 working day. Art 14: verification 2. Art 17: handling 2 for a
consultation, 10 otherwise, and the city may set finer limits per type and category.
Art 18: an extension adds the handling length, at most twice. Art 20: re-handling has the
handling length and no extension. Art 21: final feedback 3 working days after a legal
procedure ends.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from shared.errors import BadInput, NotFound
from shared.vocabulary import ClockKind
from shared.workdays import Deadline, WorkingCalendar, local_date

MAX_EXTENSIONS = 2  # Art 18: 延期申请最多两次
MAX_WORKING_DAYS = 60
MAX_HOURS = 23  # a limit in hours is shorter than a day; a day or more is in working days


# Re-handling takes the handling limit (Art 20), so it is never stored.
STORED_KINDS = frozenset(ClockKind) - {ClockKind.REHANDLING}


@dataclass(frozen=True)
class TimeLimitRule:
    """One row of the limits table; ``None`` type or category matches any."""

    id: int
    clock_kind: ClockKind
    ticket_type: str | None
    category: str | None
    working_days: int
    max_extensions: int
    effective_from: datetime
    hours: int | None = None  # instead of working days (a contact limit for urgent matters)


@dataclass(frozen=True)
class ResolvedLimit:
    clock_kind: ClockKind
    working_days: int
    max_extensions: int
    extension_working_days: int
    rule_id: int
    hours: int | None = None


def due(calendar: WorkingCalendar, at: datetime, limit: ResolvedLimit) -> Deadline:
    """When a clock started at ``at`` under ``limit`` is due: 24:00 of the last working day
    of a period in working days (Art 13, 14, 17); a limit in hours runs round the clock, as
    an urgent matter does not wait for Monday."""
    if limit.hours is None:
        return calendar.deadline(at, limit.working_days)
    due_at = at + timedelta(hours=limit.hours)
    return Deadline(local_date(due_at), due_at, provisional=False)


def resolve_limit(
    rules: Iterable[TimeLimitRule],
    *,
    clock_kind: ClockKind,
    ticket_type: str,
    category: str | None,
    at: datetime,
) -> ResolvedLimit:
    """The limit for a clock started at ``at``: the most specific rule then in force.

    A category rule beats a type rule, which beats a rule for any ticket; among equals the
    latest to take effect wins. Rules taking effect after ``at`` are ignored, so a change
    never reaches clocks already running (Art 17).
    """
    base = ClockKind.HANDLING if clock_kind is ClockKind.REHANDLING else clock_kind
    candidates = [
        rule
        for rule in rules
        if rule.clock_kind == base
        and rule.effective_from <= at
        and rule.ticket_type in (None, ticket_type)
        and rule.category in (None, category)
    ]
    if not candidates:
        raise NotFound(
            f"no {base} time limit for {ticket_type}/{category or '*'} at {at}",
            zh=f"没有适用的时限规则：{base} {ticket_type}/{category or '*'}",
        )
    rule = max(
        candidates,
        key=lambda r: (r.category is not None, r.ticket_type is not None, r.effective_from, r.id),
    )
    return ResolvedLimit(
        clock_kind=clock_kind,
        working_days=rule.working_days,
        # Art 20: re-handling allows no extension.
        max_extensions=0 if clock_kind is ClockKind.REHANDLING else rule.max_extensions,
        # Art 18: each extension is as long as the handling period.
        extension_working_days=rule.working_days,
        rule_id=rule.id,
        hours=rule.hours,
    )


def validate_new_rule(
    *,
    clock_kind: ClockKind,
    working_days: int,
    max_extensions: int,
    effective_from: datetime,
    now: datetime,
    hours: int | None = None,
) -> None:
    """Refuse a limit the Measures do not allow, or one that would rewrite the past."""
    if clock_kind not in STORED_KINDS:
        raise BadInput(
            "re-handling takes the handling limit (Art 20); set that one instead",
            zh="再次办理时限与办理时限相同（《办法》第二十条），请设置办理时限",
        )
    if hours is not None:
        # Art 13, 14, 17 set their periods in working days; only the time to contact the
        # caller, a city's own measure, may be shorter than a day.
        if clock_kind is not ClockKind.CONTACT:
            raise BadInput(
                "only the time to contact the caller may be set in hours",
                zh="只有联系诉求人的时限可以按小时设置，其余时限以工作日计",
            )
        if not 1 <= hours <= MAX_HOURS or working_days:
            raise BadInput(
                f"hours is 1–{MAX_HOURS}, with working_days 0",
                zh=f"小时数应为1至{MAX_HOURS}，且工作日数为0",
            )
    elif not 1 <= working_days <= MAX_WORKING_DAYS:
        raise BadInput(
            f"working_days must be 1–{MAX_WORKING_DAYS}",
            zh=f"工作日数应为1至{MAX_WORKING_DAYS}",
        )
    if clock_kind is ClockKind.HANDLING:
        if not 0 <= max_extensions <= MAX_EXTENSIONS:
            raise BadInput(
                f"at most {MAX_EXTENSIONS} extensions per ticket (Art 18)",
                zh=f"延期以{MAX_EXTENSIONS}次为限（《办法》第十八条）",
            )
    elif max_extensions:
        raise BadInput(
            "only the handling period can be extended (Art 18)",
            zh="只有办理时限可以延期（《办法》第十八条）",
        )
    if effective_from < now:
        raise BadInput(
            "a limit takes effect now or later; running clocks keep theirs",
            zh="时限规则只能从现在或以后生效，计时中的事项沿用原时限",
        )

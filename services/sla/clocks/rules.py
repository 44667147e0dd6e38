"""Clock rules (pure): extensions (Art 18, 20), breaches and supervision (Art 23)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from shared.errors import RuleViolation
from shared.vocabulary import ClockKind
from shared.workdays import WorkingCalendar
from sla.supervision.rules import Reason

# Art 23(1): a ticket late without a valid reason is supervised; Art 23(3): so is a matter
# under Art 21 whose periodic progress report is missing. Verification and dispatch windows
# passing are not the unit's lateness in handling.
SUPERVISED_WHEN_PASSED = {
    ClockKind.HANDLING: Reason.LATE,
    ClockKind.REHANDLING: Reason.LATE,
    ClockKind.FINAL_FEEDBACK: Reason.LATE,
    ClockKind.PROGRESS_REPORT: Reason.LONG_RUNNING,
    ClockKind.CONTACT: Reason.LATE,  # the caller not contacted in time (响应)
}


@dataclass(frozen=True)
class RunningClock:
    kind: ClockKind
    due_at: datetime
    extensions_used: int
    max_extensions: int


def check_extension(handling: RunningClock | None, *, rehandling: bool, now: datetime) -> None:
    """Art 18: before the due time, at most ``max_extensions`` times; Art 20: not in re-handling."""
    if rehandling:
        raise RuleViolation("no_extension_in_rehandling", "re-handling cannot be extended (Art 20)")
    if handling is None:
        raise RuleViolation("no_running_handling_clock", "the ticket is not being handled")
    if now >= handling.due_at:
        raise RuleViolation(
            "extension_after_due", "an extension must be applied for before the due time (Art 18)"
        )
    if handling.extensions_used >= handling.max_extensions:
        raise RuleViolation(
            "extension_limit_reached",
            f"at most {handling.max_extensions} extensions per ticket (Art 18)",
        )


def breach_withdrawn(breached_at: datetime | None, due_at: datetime, *, act_at: datetime) -> bool:
    """Art 17, 23(1): time is judged by when the act happened. A run marked breached whose
    ending act happened by its due time was never late: the news only arrived late."""
    return breached_at is not None and act_at <= due_at


def working_days_late(
    calendar: WorkingCalendar, act_at: datetime, due_date: date, due_at: datetime
) -> int:
    """Working days an act at ``act_at`` is late (0: on time), the working day under way
    counting (Art 17). A limit in hours may end within a day: an act after it that same day
    is late by the day under way, not on time."""
    late = calendar.working_days_late(act_at, due_date)
    return max(late, 1) if act_at > due_at else late


def supervision_reason(kind: ClockKind) -> Reason | None:
    """Why a breach of this clock opens a supervision by itself, if it does (Art 23)."""
    return SUPERVISED_WHEN_PASSED.get(kind)

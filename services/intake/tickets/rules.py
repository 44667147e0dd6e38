"""How a call may end (pure): Art 11 dispositions, direct answers, submission (Art 11–13)."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path

from shared.errors import BadInput, RuleViolation
from shared.vocabulary import TicketType


class Outcome(StrEnum):
    CLOSED_AT_INTAKE = "closed_at_intake"  # Art 11 classified handling
    ANSWERED = "answered"  # a consultation answered from the knowledge base (Art 10, 13)
    SUBMITTED = "submitted"  # dispatched through the agency (Art 13)


class Disposition(StrEnum):
    NORMAL = "normal"
    EMERGENCY = "emergency"  # Art 11(1): 110, 119, 120, 122
    LEGAL_CHANNEL = "legal_channel"  # Art 11(2)
    PARTY_ORGANS = "party_organs"  # Art 11(3)
    IN_PROGRESS = "in_progress"  # Art 11(4)
    CONFIDENTIAL = "confidential"  # Art 11(5)
    REPEAT = "repeat"  # Art 22


# Art 11(1) names 110, 119, 120 and 122 "等": the lines are data, each with its name.
EMERGENCY_LINES: Mapping[str, str] = {
    line["number"]: line["name"]
    for line in json.loads((Path(__file__).parent / "emergency_lines.json").read_text())["lines"]
}


@dataclass(frozen=True)
class Line:
    """A number that receives calls (Art 7): the agency's 12345, or a sub-centre's or
    dual-number unit's own, answered and handled by that unit."""

    number: str
    name: str
    unit_id: str | None


AGENCY_LINE = "12345"
LINES: Mapping[str, Line] = {
    line["number"]: Line(line["number"], line["name"], line["unit_id"])
    for line in json.loads((Path(__file__).parent / "lines.json").read_text())["lines"]
}


def line_of(agent_unit: str | None) -> Line:
    """The line an agent answers: its sub-centre's or dual-number unit's, else 12345."""
    for line in LINES.values():
        if line.unit_id is not None and line.unit_id == agent_unit:
            return line
    if agent_unit is not None:
        raise BadInput(
            f"unit {agent_unit!r} answers no line (Art 7)",
            zh=f"单位 {agent_unit} 没有受理热线（《办法》第七条）",
        )
    return LINES[AGENCY_LINE]


def receiving_line(
    *, agent_unit: str | None, transfer_to: str | None, outcome: Outcome
) -> tuple[Line, Line | None]:
    """Art 7: the line that receives the call, and the line it was transferred from. An agent
    answers its own line; a call for another line is transferred to it (电话转接) and
    submitted there, to be handled by that line's unit (or 12345's agency)."""
    own = line_of(agent_unit)
    if transfer_to is None:
        return own, None
    target = LINES.get(transfer_to)
    if target is None:
        known = "、".join(f"{n} {line.name}" for n, line in LINES.items())
        raise BadInput(
            f"no line {transfer_to!r} to transfer to: {known}",
            zh=f"没有可转接的热线 {transfer_to}，可选：{known}",
        )
    if target.number == own.number:
        raise BadInput(
            "a call is transferred to another line than the one it came in on",
            zh="只能转接到其他热线",
        )
    if outcome is not Outcome.SUBMITTED:
        raise BadInput(
            "a transferred call is submitted to the line that takes it over (Art 7)",
            zh="转接的来电应当转交接收热线办理（《办法》第七条）",
        )
    return target, own


CLOSED_DISPOSITIONS = frozenset(
    {
        Disposition.EMERGENCY,
        Disposition.LEGAL_CHANNEL,
        Disposition.PARTY_ORGANS,
        Disposition.IN_PROGRESS,
        Disposition.CONFIDENTIAL,
    }
)


def check_outcome(
    *,
    outcome: Outcome,
    ticket_type: TicketType,
    disposition: Disposition,
    emergency_number: str | None,
    told_caller: str | None,
    related_ticket_id: str | None,
    kb_entry_id: str | None,
) -> None:
    """Refuse an ending the Measures do not allow, naming what is missing."""
    if outcome is Outcome.CLOSED_AT_INTAKE:
        if disposition not in CLOSED_DISPOSITIONS:
            raise BadInput(
                "closing at intake needs an Art 11 disposition",
                zh="当场办结须选择第十一条规定的分类处理情形",
            )
        if not (told_caller or "").strip():
            raise BadInput(
                "record what the caller was told (Art 11)",
                zh="请记录告知诉求人的内容（《办法》第十一条）",
            )
        if disposition is Disposition.EMERGENCY and emergency_number not in EMERGENCY_LINES:
            lines = "、".join(f"{n} {name}" for n, name in EMERGENCY_LINES.items())
            raise BadInput(
                f"an emergency is transferred to an emergency line: {lines} (Art 11(1))",
                zh=f"紧急事项应当转接紧急服务专线：{lines}（《办法》第十一条）",
            )
        if disposition is Disposition.IN_PROGRESS and not related_ticket_id:
            raise BadInput(
                "link the open ticket whose progress the caller was told (Art 11(4))",
                zh="请关联告知进度的在办事项（《办法》第十一条）",
            )
    elif outcome is Outcome.ANSWERED:
        if ticket_type is not TicketType.CONSULTATION:
            raise BadInput(
                "only a consultation is answered directly (Art 13)",
                zh="只有咨询类事项可以直接答复（《办法》第十三条）",
            )
        if not kb_entry_id or not (told_caller or "").strip():
            raise BadInput(
                "name the knowledge-base answer and what the caller was told",
                zh="请注明引用的知识库答复和告知诉求人的内容",
            )
    elif disposition in CLOSED_DISPOSITIONS:
        raise BadInput(
            f"a {disposition.value} matter is not dispatched (Art 11)",
            zh="此类事项按第十一条分类处理，不予转派",
        )
    elif disposition is Disposition.REPEAT and not related_ticket_id:
        raise BadInput(
            "link the earlier ticket this repeats (Art 22)",
            zh="请关联被重复反映的已办结事项（《办法》第二十二条）",
        )


CLOSED_STATUSES = frozenset({"closed", "closed_at_intake", "answered"})


def check_related(*, disposition: Disposition, related_status: str, same_caller: bool) -> None:
    """Art 11(4), 22: a call is linked only to the same caller's own ticket — an open one to
    tell its progress, a completed one to repeat it (no new facts)."""
    if not same_caller:
        raise RuleViolation(
            "related_ticket_of_another_caller", "a call is linked only to the same caller's ticket"
        )
    closed = related_status in CLOSED_STATUSES
    if disposition is Disposition.REPEAT and not closed:
        raise RuleViolation(
            "repeat_of_open_ticket",
            "a repeat (Art 22) is of a completed ticket; for an open one tell its progress",
        )
    if disposition is Disposition.IN_PROGRESS and closed:
        raise RuleViolation(
            "in_progress_ticket_closed",
            "the linked ticket is completed: it is a repeat (Art 22) or a new matter",
        )


def check_note_allowed(*, outcome: str, status: str) -> None:
    """Art 17: a new situation goes to the unit only for a dispatched ticket not yet closed."""
    if outcome != Outcome.SUBMITTED.value:
        raise RuleViolation("not_dispatched", "this call was not dispatched: open a new ticket")
    if status in CLOSED_STATUSES:
        raise RuleViolation("ticket_closed", "the ticket is closed: open a new ticket")

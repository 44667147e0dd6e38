"""Supervision (Art 23) as pure rules: why and how the agency supervises, who may answer."""

from __future__ import annotations

from enum import StrEnum

from shared.auth import Principal
from shared.errors import Forbidden, RuleViolation


class Reason(StrEnum):
    LATE = "late"  # Art 23(1)
    NON_COMPLIANT_FEEDBACK = "non_compliant_feedback"  # Art 23(2)
    LONG_RUNNING = "long_running"  # Art 23(3)
    OTHER = "other"  # Art 23(4)


class Method(StrEnum):
    PHONE = "phone"
    ONLINE = "online"
    ON_SITE = "on_site"
    MEETING = "meeting"
    DOCUMENT = "document"


def check_answerable(*, addressed_to: str | None, unit: str | None, closed: bool) -> None:
    """Art 23: the unit a supervision is addressed to answers it, while it is open."""
    if addressed_to != unit:
        raise Forbidden(
            "this supervision is addressed to another unit", zh="该督办不是发给本单位的"
        )
    check_open(closed=closed)


def check_open(*, closed: bool) -> None:
    """A closed supervision takes no answer and is not closed twice."""
    if closed:
        raise RuleViolation("supervision_closed", "this supervision is closed")


def check_guidance_may_open(*, reason: Reason, oversees: bool) -> None:
    """Art 21 ¶1, 23(3): a guidance department supervises the Art 21 matters it oversees,
    and only as such (lateness and feedback are the agency's to supervise)."""
    if not oversees:
        raise Forbidden(
            "this department does not oversee this ticket (Art 21)",
            zh="本部门不是该事项的业务指导部门（《办法》第二十一条）",
        )
    if reason is not Reason.LONG_RUNNING:
        raise RuleViolation(
            "guidance_supervises_long_running",
            "a guidance department supervises Art 21 matters (reason long_running, Art 23(3))",
        )


def check_district(principal: Principal, district: str | None) -> None:
    """Art 5: a district hotline agency supervises its own district's tickets."""
    if not principal.sees_district(district):
        raise Forbidden(
            "this ticket is another district's hotline agency's (Art 5)",
            zh="该热线事项属于其他区热线工作机构（《办法》第五条）",
        )

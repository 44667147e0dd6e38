"""Domain words every service uses (rules.md, "Vocabulary")."""

from enum import StrEnum


class TicketType(StrEnum):
    """The five kinds of matter callers raise (Art 11)."""

    CONSULTATION = "consultation"  # 咨询
    HELP_REQUEST = "help_request"  # 求助
    COMPLAINT = "complaint"  # 投诉
    REPORT = "report"  # 举报
    SUGGESTION = "suggestion"  # 意见建议


class ClockKind(StrEnum):
    """The clocks a ticket can run, each with the article that sets it."""

    DISPATCH = "dispatch"  # Art 13
    VERIFICATION = "verification"  # Art 14
    HANDLING = "handling"  # Art 17
    REHANDLING = "rehandling"  # Art 20
    FINAL_FEEDBACK = "final_feedback"  # Art 21

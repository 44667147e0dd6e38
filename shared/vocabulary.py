"""Domain words every service uses (rules.md, "Vocabulary")."""

from enum import StrEnum


class TicketType(StrEnum):
    """The five kinds of matter callers raise (Art 11)."""

    CONSULTATION = "consultation"  # 咨询
    HELP_REQUEST = "help_request"  # 求助
    COMPLAINT = "complaint"  # 投诉
    REPORT = "report"  # 举报
    SUGGESTION = "suggestion"  # 意见建议

"""The codes the CLI offers as choices (listed in help and completed); the services own
them, and a test holds these to theirs."""

from enum import StrEnum


class TicketType(StrEnum):
    CONSULTATION = "consultation"
    HELP_REQUEST = "help_request"
    COMPLAINT = "complaint"
    REPORT = "report"
    SUGGESTION = "suggestion"


class Channel(StrEnum):
    PHONE = "phone"
    WECHAT = "wechat"
    WEB = "web"
    APP = "app"


class Outcome(StrEnum):
    CLOSED_AT_INTAKE = "closed_at_intake"
    ANSWERED = "answered"
    SUBMITTED = "submitted"


class Disposition(StrEnum):
    NORMAL = "normal"
    EMERGENCY = "emergency"
    LEGAL_CHANNEL = "legal_channel"
    PARTY_ORGANS = "party_organs"
    IN_PROGRESS = "in_progress"
    CONFIDENTIAL = "confidential"
    REPEAT = "repeat"


class Rating(StrEnum):
    SATISFIED = "satisfied"
    BASICALLY_SATISFIED = "basically_satisfied"
    UNSATISFIED = "unsatisfied"
    NONE = "none"


class ReturnDecision(StrEnum):
    APPROVE = "approve"
    REJECT = "reject"
    SEVERAL_UNITS = "several_units"


class DisputeKind(StrEnum):
    CROSS_DISTRICT = "cross_district"
    UNCLEAR_RESPONSIBILITY = "unclear_responsibility"
    APPLICABLE_LAW = "applicable_law"


class ConsultedBody(StrEnum):
    BUSINESS_GUIDANCE_DEPARTMENT = "business_guidance_department"
    ESTABLISHMENT_OFFICE = "establishment_office"
    JUSTICE_BUREAU = "justice_bureau"


class PrincipleStatus(StrEnum):
    PROPOSED = "proposed"
    APPROVED = "approved"
    REJECTED = "rejected"


class LegalProcedure(StrEnum):
    LITIGATION = "litigation"
    ARBITRATION = "arbitration"
    ADMINISTRATIVE_RECONSIDERATION = "administrative_reconsideration"
    ADMINISTRATIVE_ADJUDICATION = "administrative_adjudication"
    ADMINISTRATIVE_PENALTY = "administrative_penalty"
    APPRAISAL = "appraisal"
    OTHER = "other"


class RevisitChannel(StrEnum):
    PHONE = "phone"
    SMS = "sms"
    WECHAT = "wechat"
    WEB = "web"


class Method(StrEnum):
    PHONE = "phone"
    ONLINE = "online"
    ON_SITE = "on_site"
    MEETING = "meeting"
    DOCUMENT = "document"


class Queue(StrEnum):
    AWAITING_DISPATCH = "awaiting_dispatch"
    DIFFICULT = "difficult"
    RETURN_APPLICATIONS = "return_applications"
    NEW_SITUATIONS = "new_situations"
    FEEDBACK_REVIEW = "feedback_review"
    AWAITING_EVALUATION = "awaiting_evaluation"
    UNSATISFIED = "unsatisfied"


class GroupBy(StrEnum):
    UNIT = "unit"
    DISTRICT = "district"
    TYPE = "type"
    CATEGORY = "category"
    CLOCK = "clock"


class VolumeBy(StrEnum):
    WEEK = "week"
    UNIT = "unit"
    DISTRICT = "district"
    CATEGORY = "category"


class BreakdownBy(StrEnum):
    DISTRICT = "district"
    STREET = "street"
    CATEGORY = "category"
    ALL = "all"


class HotspotDecision(StrEnum):
    REVIEWED = "reviewed"
    SUPERVISED = "supervised"


class TrendBy(StrEnum):
    WEEK = "week"
    MONTH = "month"


class KbReviewStatus(StrEnum):
    DRAFT = "draft"
    APPROVED = "approved"
    RETIRED = "retired"


class PersonRole(StrEnum):
    """The roles a person in the directory holds (shared.auth.PEOPLE_ROLES)."""

    AGENT = "agent"
    DISPATCHER = "dispatcher"
    UNIT = "unit"
    SUB_UNIT = "sub_unit"
    SUPERVISOR = "supervisor"
    ADMIN = "admin"
    INSPECTOR = "inspector"
    GUIDANCE = "guidance"

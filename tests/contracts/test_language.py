"""Chinese first: every rule code has its Chinese message and article, every code people see
has a Chinese and an English label, and the answers follow Accept-Language."""

import ast
from enum import StrEnum
from pathlib import Path

import pytest
from dispatch.directory.schemas import UnitKind
from dispatch.tickets.schemas import ContactMethod, RevisitChannel
from dispatch.workflow.rules import (
    ConsultedBody,
    DisputeKind,
    LegalProcedure,
    PrincipleStatus,
    ReturnDecision,
)
from identity.schemas import AccountAction
from intake.citizens.rules import AttachmentKind, PublicStage, SubmissionSource
from intake.conduct.schemas import ConductKind
from intake.kb.router import ReviewStatus
from intake.tickets.rules import Disposition, Outcome
from intake.tickets.schemas import Channel, Flag
from sla.assessment.schemas import CostReason, HotspotDecision
from sla.clocks.models import ChangeAction
from sla.supervision.rules import Method, Reason

from shared import i18n
from shared.auth import Role
from shared.i18n import Lang, negotiate
from shared.service import own_labels
from shared.vocabulary import (
    ChannelKind,
    ClockAction,
    ClockKind,
    ClockState,
    NoticeKind,
    NoticeState,
    Rating,
    Resolution,
    StepAction,
    StopKind,
    TicketStatus,
    TicketType,
)

ROOT = Path(__file__).resolve().parents[2]
VOCABULARIES: dict[tuple[str, str], type[StrEnum]] = {
    ("shared", "role"): Role,
    ("shared", "ticket_type"): TicketType,
    ("shared", "ticket_status"): TicketStatus,
    ("shared", "clock_kind"): ClockKind,
    ("shared", "clock_state"): ClockState,
    ("shared", "stop_kind"): StopKind,
    ("shared", "clock_action"): ClockAction,
    ("shared", "rating"): Rating,
    ("shared", "step_action"): StepAction,
    ("shared", "notice_kind"): NoticeKind,
    ("shared", "channel_kind"): ChannelKind,
    ("shared", "notice_state"): NoticeState,
    ("shared", "resolution"): Resolution,
    ("intake", "outcome"): Outcome,
    ("intake", "disposition"): Disposition,
    ("intake", "channel"): Channel,
    ("intake", "flag"): Flag,
    ("intake", "kb_review_status"): ReviewStatus,
    ("intake", "conduct_kind"): ConductKind,
    ("intake", "public_stage"): PublicStage,
    ("intake", "submission_source"): SubmissionSource,
    ("intake", "attachment_kind"): AttachmentKind,
    ("dispatch", "return_decision"): ReturnDecision,
    ("dispatch", "dispute_kind"): DisputeKind,
    ("dispatch", "consulted_body"): ConsultedBody,
    ("dispatch", "principle_status"): PrincipleStatus,
    ("dispatch", "legal_procedure"): LegalProcedure,
    ("dispatch", "revisit_channel"): RevisitChannel,
    ("dispatch", "unit_kind"): UnitKind,
    ("dispatch", "contact_method"): ContactMethod,
    ("sla", "supervision_reason"): Reason,
    ("sla", "supervision_method"): Method,
    ("sla", "clock_change"): ChangeAction,
    ("identity", "account_action"): AccountAction,
    ("sla", "cost_reason"): CostReason,
    ("sla", "hotspot_decision"): HotspotDecision,
}


def _raised_rule_codes() -> set[str]:
    """Every code a RuleViolation is raised with, read from the source."""
    codes = set()
    for path in [*ROOT.joinpath("services").rglob("*.py"), *ROOT.joinpath("shared").rglob("*.py")]:
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if (
                isinstance(node, ast.Call)
                and getattr(node.func, "id", None) == "RuleViolation"
                and node.args
                and isinstance(node.args[0], ast.Constant)
            ):
                codes.add(node.args[0].value)
    return codes


def test_every_rule_code_has_a_chinese_message_and_its_article():
    raised = _raised_rule_codes()
    assert len(raised) >= 30  # the scan finds the rules, not nothing
    assert raised <= i18n.rule_codes(), raised - i18n.rule_codes()
    for code in raised:
        said = i18n.message(code, "english", Lang.ZH)
        assert "《办法》第" in said and not said.isascii(), code


@pytest.mark.parametrize(("owner", "vocabulary"), list(VOCABULARIES))
def test_every_code_people_see_has_a_chinese_and_an_english_label(owner, vocabulary):
    own = () if owner == "shared" else (own_labels(owner),)
    entries = i18n.label_entries(*own)[vocabulary]
    codes = {member.value for member in VOCABULARIES[owner, vocabulary]}
    assert set(entries) == codes
    for names in entries.values():
        assert not names["zh"].isascii() and names["en"].isascii()


@pytest.mark.parametrize(
    ("header", "lang"),
    [
        (None, Lang.ZH),
        ("", Lang.ZH),
        ("en-GB,en;q=0.9", Lang.EN),
        ("zh-CN,zh;q=0.9,en;q=0.8", Lang.ZH),
        ("en;q=0.5,zh;q=0.8", Lang.ZH),
        ("fr-FR,en;q=0.7", Lang.EN),
        ("fr-FR", Lang.ZH),
        ("en;q=0", Lang.ZH),
        ("en;q=abc", Lang.ZH),
    ],
)
def test_chinese_unless_english_is_preferred(header, lang):
    assert negotiate(header) is lang


async def test_refusals_and_validation_speak_chinese_by_default_and_english_on_request(
    make_app, client_for
):
    app = make_app("dispatch")
    async with client_for(app, Role.UNIT, "tianhe-urban") as unit:
        missing = await unit.post("/v1/tickets/nope/accept")
        english = await unit.post("/v1/tickets/nope/accept", headers={"Accept-Language": "en"})
        invalid = await unit.post("/v1/tickets/nope/returns", json={"reason": " "})
        labels = (await unit.get("/v1/labels")).json()
        english_labels = (await unit.get("/v1/labels", params={"lang": "en"})).json()
    assert missing.json()["error"] == {"code": "not_found", "message": "没有热线事项 nope"}
    assert missing.headers["content-language"] == "zh-CN"
    assert english.json()["error"]["message"] == "no ticket 'nope'"
    message = invalid.json()["error"]["message"]
    assert "字段 reason：不能为空" in message and "字段 basis：缺少必填项" in message
    assert labels["labels"]["ticket_status"]["awaiting_dispatch"] == "待派单"
    assert labels["labels"]["return_decision"]["approve"] == "同意退回"
    assert english_labels["labels"]["ticket_status"]["awaiting_dispatch"] == "Awaiting dispatch"


async def test_every_service_serves_the_catalogues_and_rule_labels(make_app, client_for):
    for service in ("intake", "dispatch", "sla"):
        app = make_app(service)
        async with client_for(app, Role.AGENT) as client:
            categories = (await client.get("/v1/catalogues/categories")).json()["items"]
            places = (await client.get("/v1/catalogues/places")).json()["items"]
            rules = (await client.get("/v1/labels", params={"lang": "en"})).json()["labels"]
        noise = next(c for c in categories if c["code"] == "noise")
        assert "noise.construction" in [c["code"] for c in noise["children"]]
        assert "林和街道" in next(p["streets"] for p in places if p["name"] == "天河区")
        assert rules["rule"]["extension_limit_reached"].startswith("At most two extensions")

"""Classification at intake: the model in use, retraining, and a call's suggestions."""

from __future__ import annotations

import asyncio
import csv
from collections.abc import Iterable
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlmodel import col

from intake.classify.model import (
    Labelled,
    TrainedModel,
    evaluate,
    regressions,
    shipped_examples,
)
from intake.classify.models import ClassifierActivation, ClassifierModel
from intake.classify.rules import RuleHit
from intake.classify.suggest import accuracy_with_cues, special_of, suggest
from intake.kb.service import search
from intake.privacy import Vault
from intake.tickets.models import Ticket
from intake.tickets.rules import CLOSED_STATUSES, Disposition
from shared.db import session_scope
from shared.errors import Conflict, DomainError, NotFound
from shared.workdays import local_date

EVALUATION = Path(__file__).parent / "evaluation"


class ModelNotReady(DomainError):
    """No model is loaded yet: the process is warming up (``/readyz`` says so too)."""

    status_code = 503
    code = "classifier_not_ready"

    def __init__(self, message: str, *, zh: str | None = None) -> None:
        super().__init__(message, zh=zh)
        self.headers = {"Retry-After": "2"}


WARM_UP_CALL = "请问热线事项可以延期几次？楼下工地晚上施工太吵了"
# Models loaded in this process, by version: every app (and every test) shares one object.
_LOADED: dict[str, TrainedModel] = {}


async def _active_version(session: AsyncSession) -> str | None:
    query = (
        select(col(ClassifierModel.version))
        .where(col(ClassifierModel.active), col(ClassifierModel.format) == "skops")
        .order_by(col(ClassifierModel.trained_at).desc())
        .limit(1)
    )
    return (await session.scalars(query)).first()


async def _stored(session: AsyncSession, version: str) -> TrainedModel:
    if version not in _LOADED:
        blob = await session.scalar(
            select(col(ClassifierModel.blob)).where(
                col(ClassifierModel.version) == version, col(ClassifierModel.format) == "skops"
            )
        )
        if blob is None:
            raise NotFound(f"no model {version}", zh=f"没有模型 {version}")
        _LOADED[version] = await asyncio.to_thread(TrainedModel.loads, blob)
    return _LOADED[version]


class ModelCache:
    """The active model of this process; a newer one trained by any replica replaces it.

    Requests never train: the first model is trained and stored when the stack is migrated
    (``hotline migrate`` → :func:`ensure_active_model`), and the app loads it in its
    lifespan (:meth:`warm`) before ``/readyz`` says ready.
    """

    def __init__(self) -> None:
        self._model: TrainedModel | None = None

    @property
    def ready(self) -> bool:
        return self._model is not None

    async def warm(self, sessions: async_sessionmaker[AsyncSession], *, now: datetime) -> None:
        """Load the active model, training and storing one first if none exists yet, and read
        one call the way ``/v1/classify`` does: the first agent's call would otherwise pay for
        jieba's dictionary, the knowledge base's word frequencies and the model's first
        reading (about a second). Ready only then."""
        async with session_scope(sessions) as session:
            await ensure_active_model(session, now=now)
        async with session_scope(sessions) as session:
            version = await _active_version(session)
            if version is None:
                raise ModelNotReady("no active model after training")
            model = await _stored(session, version)
            await asyncio.to_thread(suggest, model, WARM_UP_CALL)
            await search(session, WARM_UP_CALL, limit=3, today=local_date(now))
        self._model = model

    async def get(self, session: AsyncSession) -> TrainedModel:
        version = await _active_version(session)
        if self._model is not None and self._model.version == (version or self._model.version):
            return self._model
        if version is None:
            raise ModelNotReady("the classifier is not trained yet; try again shortly")
        self._model = await _stored(session, version)
        return self._model


async def ensure_active_model(session: AsyncSession, *, now: datetime) -> str | None:
    """Train and store the first model if there is no active one; its report, or None."""
    # Replicas warming at once: one trains, the others wait and find its model.
    await session.execute(select(func.pg_advisory_xact_lock(func.hashtext("intake.classifier"))))
    if await _active_version(session) is not None:
        return None
    report, _ = await retrain(session, now=now, by="hotline migrate")
    return report


async def confirmed_examples(session: AsyncSession) -> list[Labelled]:
    """Labels agents confirmed on real calls: the type and category they recorded."""
    rows = await session.execute(
        select(col(Ticket.text), col(Ticket.ticket_type), col(Ticket.category)).where(
            col(Ticket.category).is_not(None), col(Ticket.disposition) == Disposition.NORMAL.value
        )
    )
    return [
        Labelled(text, ticket_type, category)
        for text, ticket_type, category in rows
        if category is not None  # filtered in SQL; said again for the type checker
    ]


def evaluation_sets() -> dict[str, list[dict[str, str]]]:
    """The shipped evaluation files (never trained on; see docs/classification.md)."""
    found = {}
    for path in sorted(EVALUATION.glob("*.tsv")):
        with path.open() as handle:
            found[path.stem] = list(csv.DictReader(handle, delimiter="\t"))
    return found


def evaluate_on_sets(model: TrainedModel) -> tuple[str, dict[str, Any]]:
    """The whole classifier (phrases, cues, model) on each evaluation file: type and
    category, the Art 11 case of every call, emergencies and their line, false alarms."""
    lines, metrics = [], {}
    for name, rows in evaluation_sets().items():
        read = [(r, special_of(model, r["text"])) for r in rows]
        normal = [(r, h) for r, h in read if r["disposition"] == "normal"]
        emergencies = [(r, h) for r, h in read if r["disposition"] == "emergency"]
        specials = [(r, h) for r, h in read if r["disposition"] not in ("normal", "emergency")]
        hard = [h for r, h in normal if r.get("hard") == "yes"]
        labelled = [Labelled(r["text"], r["type"], r["category"]) for r, _ in normal]
        result: dict[str, Any] = accuracy_with_cues(model, labelled) if labelled else {}
        result["disposition_accuracy"] = _share(
            _disposition(h) == r["disposition"] for r, h in read
        )
        result["emergency_recall"] = _share(
            h is not None and h.disposition == "emergency" for _, h in emergencies
        )
        result["emergency_number_right"] = _share(
            h is not None and h.emergency_number == r["number"] for r, h in emergencies
        )
        result["emergencies_marked_low_confidence"] = sum(
            h is not None and h.confidence < 0.5 for _, h in emergencies
        )
        result["false_special_on_normal"] = sum(h is not None for _, h in normal)
        result["false_alarms_marked_confident"] = sum(
            h is not None and h.confidence >= 0.5 for _, h in normal
        )
        if hard:
            result["false_alarms_on_hard_negatives"] = sum(h is not None for h in hard)
        result["special_cases_right"] = sum(
            _disposition(h) == r["disposition"] for r, h in specials
        )
        result["sizes"] = {
            "normal": len(normal),
            "emergency": len(emergencies),
            "special": len(specials),
            "hard_negatives": len(hard),
        }
        metrics[name] = result
        lines.append(f"{name}: {result}")
    return "\n".join(lines), metrics


def _share(outcomes: Iterable[bool]) -> float:
    counted = list(outcomes)
    return round(sum(counted) / max(len(counted), 1), 3)


def _disposition(hit: RuleHit | None) -> str:
    return hit.disposition if hit else "normal"


async def retrain(
    session: AsyncSession, *, now: datetime, by: str, force: bool = False
) -> tuple[str, TrainedModel]:
    """Train on the shipped and confirmed examples and store the model; it becomes active
    unless it does worse than the active one on a fresh evaluation set (then only when
    forced, and the record says so). The report says which."""
    examples = shipped_examples() + await confirmed_examples(session)
    split_report, split_metrics = await asyncio.to_thread(evaluate, examples)
    model = await asyncio.to_thread(TrainedModel.fit, examples)
    sets_report, sets_metrics = await asyncio.to_thread(evaluate_on_sets, model)
    await session.merge(
        ClassifierModel(
            version=model.version,
            trained_at=now,
            trained_on=model.trained_on,
            metrics={"held_out_split": split_metrics, "evaluation_sets": sets_metrics},
            blob=await asyncio.to_thread(model.dumps),
            format="skops",
            active=False,
        )
    )
    await session.flush()
    _LOADED.setdefault(model.version, model)
    worse = await _regressions(session, model, measured=sets_metrics)
    if worse and not force:
        verdict = (
            "kept INACTIVE: it does worse than the active model on the fresh sets —\n  "
            + "\n  ".join(worse)
            + f"\n  (`hotline classifier-activate {model.version} --force` to use it anyway)"
        )
    else:
        await _make_active(session, model.version, now=now, by=by, forced=bool(worse), worse=worse)
        verdict = "ACTIVE" + (" (forced over: " + "; ".join(worse) + ")" if worse else "")
    report = "\n".join(
        [
            f"model {model.version}, trained on {model.trained_on} examples: {verdict}",
            "-- model alone, held-out split of the training examples --",
            split_report,
            "-- whole classifier (rules, cues, model) on the evaluation files --",
            sets_report,
        ]
    )
    return report, model


async def _regressions(
    session: AsyncSession, model: TrainedModel, *, measured: dict[str, Any] | None = None
) -> list[str]:
    """Where ``model`` does worse than the active one, both measured now on the same files."""
    active = await _active_version(session)
    if active is None or active == model.version:
        return []
    try:
        current = await _stored(session, active)
    except ValueError:  # the active model cannot be read: nothing to measure against
        return []
    ours = measured or (await asyncio.to_thread(evaluate_on_sets, model))[1]
    theirs = (await asyncio.to_thread(evaluate_on_sets, current))[1]
    return regressions(ours, theirs)


async def _make_active(
    session: AsyncSession, version: str, *, now: datetime, by: str, forced: bool, worse: list[str]
) -> None:
    await session.execute(update(ClassifierModel).values(active=False))
    await session.execute(
        update(ClassifierModel).where(col(ClassifierModel.version) == version).values(active=True)
    )
    session.add(
        ClassifierActivation(version=version, at=now, by=by, forced=forced, regressions=worse)
    )
    await session.flush()


async def activate(
    session: AsyncSession, version: str, *, now: datetime, by: str, force: bool = False
) -> list[str]:
    """Make a stored model active again (a rollback, or one kept inactive); refused when it
    does worse than the active one on a fresh set, unless forced. What it does worse."""
    model = await _stored(session, version)
    worse = await _regressions(session, model)
    if worse and not force:
        raise Conflict(
            f"{version} does worse than the active model: " + "; ".join(worse),
            zh="该模型在评估集上不如当前模型，如确需启用请强制启用（将留有记录）",
        )
    await _make_active(session, version, now=now, by=by, forced=bool(worse), worse=worse)
    return worse


async def stored_models(session: AsyncSession) -> list[ClassifierModel]:
    """Every stored model, newest first."""
    rows = await session.scalars(
        select(ClassifierModel).order_by(col(ClassifierModel.trained_at).desc())
    )
    return list(rows)


def _similar(a: str, b: str) -> float:
    grams = [{x[i : i + 2] for i in range(len(x) - 1)} for x in (a, b)]
    return len(grams[0] & grams[1]) / max(len(grams[0] | grams[1]), 1)


async def related(
    session: AsyncSession, vault: Vault, *, phone: str | None, category: str | None, text: str
) -> list[dict[str, Any]]:
    """The caller's tickets on the same matter: open (progress, Art 11(4)) or closed (Art 22)."""
    hashes = vault.phone_hashes(phone)
    if not hashes:
        return []
    tickets = (
        await session.scalars(
            select(Ticket)
            .where(col(Ticket.caller_phone_hash).in_(hashes))
            .order_by(col(Ticket.received_at).desc())
            .limit(20)
        )
    ).all()
    found = []
    for ticket in tickets:
        similarity = _similar(ticket.text, text)
        if ticket.category != category and similarity < 0.5:
            continue
        closed = ticket.status in CLOSED_STATUSES
        found.append(
            {
                "ticket_id": ticket.id,
                "number": ticket.number,
                "status": ticket.status,
                "category": ticket.category,
                "relation": "repeat" if closed else "in_progress",
                "similarity": round(similarity, 2),
            }
        )
    return found

"""A call's suggested classification: Art 11 rules, cue phrases, the trained model, places.

Cue phrases are inspectable rules for type and category; where none matches, the model
decides and its confidence says how sure it is. The agent always decides.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field, replace
from functools import cache
from pathlib import Path
from typing import Any

from intake.classify.model import EMERGENCY_THRESHOLD, Prediction, TrainedModel
from intake.classify.rules import Place, RuleHit, locate, special_case

CUE_CONFIDENCE = 0.9
LOW_CONFIDENCE = 0.5


@cache
def _cues() -> tuple[list[tuple[str, re.Pattern[str]]], list[tuple[str, re.Pattern[str]]]]:
    data = json.loads((Path(__file__).parent / "cues.json").read_text())
    return (
        [(label, re.compile(pattern)) for label, pattern in data["types"]],
        [(label, re.compile(pattern)) for label, pattern in data["categories"]],
    )


@dataclass(frozen=True)
class Guess:
    value: str | None
    confidence: float
    evidence: str
    alternatives: list[tuple[str, float]] = field(default_factory=list)

    @property
    def low_confidence(self) -> bool:
        return self.confidence < LOW_CONFIDENCE


def _cue(cues: list[tuple[str, re.Pattern[str]]], text: str) -> tuple[str, str] | None:
    for label, pattern in cues:
        match = pattern.search(text)
        if match:
            return label, match.group(0)
    return None


def _guess(cue: tuple[str, str] | None, predicted: Prediction) -> Guess:
    if cue is not None:
        return Guess(
            cue[0], CUE_CONFIDENCE, f"phrase: {cue[1]}", [(predicted.value, predicted.confidence)]
        )
    return Guess(
        predicted.value,
        predicted.confidence,
        f"model score {predicted.confidence}",
        predicted.alternatives,
    )


@dataclass(frozen=True)
class Suggestion:
    ticket_type: Guess
    category: Guess
    special: RuleHit | None
    place: Place | None


# An emergency phrase the model does not back is still offered, marked low confidence:
# the agent looks twice (a past accident, a fire hazard) but no emergency is dropped.
UNBACKED_PHRASE_CONFIDENCE = 0.45


def special_of(model: TrainedModel, text: str) -> RuleHit | None:
    """The Art 11 case: a phrase rule, or else the emergency model's reading."""
    hit = special_case(text)
    if hit is not None:
        if hit.disposition != "emergency":
            return hit
        probability = model.emergency_probability(text)
        backed = probability >= EMERGENCY_THRESHOLD
        return replace(
            hit,
            evidence=f"{hit.evidence}; model score {probability}",
            confidence=hit.confidence if backed else UNBACKED_PHRASE_CONFIDENCE,
        )
    likely = model.emergency_number(text)
    if likely is None:
        return None
    number, probability = likely
    return RuleHit(
        "emergency",
        number,
        f"model score {probability}",
        "art11_1_model",
        confidence=min(0.9, probability),
    )


def suggest(model: TrainedModel, text: str, *, address: str | None = None) -> Suggestion:
    """Everything the agent is offered for a call, each part with its evidence."""
    type_cues, category_cues = _cues()
    predicted_type, predicted_category = model.predict(text)
    return Suggestion(
        ticket_type=_guess(_cue(type_cues, text), predicted_type),
        category=_guess(_cue(category_cues, text), predicted_category),
        special=special_of(model, text),
        place=locate(text, address),
    )


def accuracy_with_cues(model: TrainedModel, examples: list[Any]) -> dict[str, float]:
    """Type and category accuracy of cues plus model on labelled examples."""
    results = [suggest(model, e.text) for e in examples]
    n = len(examples) or 1
    return {
        "type_accuracy": round(
            sum(
                r.ticket_type.value == e.ticket_type for r, e in zip(results, examples, strict=True)
            )
            / n,
            3,
        ),
        "category_accuracy": round(
            sum(r.category.value == e.category for r, e in zip(results, examples, strict=True)) / n,
            3,
        ),
        "top_level_category_accuracy": round(
            sum(
                (r.category.value or "").split(".")[0] == e.category.split(".")[0]
                for r, e in zip(results, examples, strict=True)
            )
            / n,
            3,
        ),
    }

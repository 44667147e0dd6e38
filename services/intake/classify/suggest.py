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

from intake.classify.model import (
    EMERGENCY_THRESHOLD,
    SPECIAL_THRESHOLD,
    TrainedModel,
)
from intake.classify.rules import NOT_HAPPENING_NOW, Place, RuleHit, locate, special_case

# A cue phrase triples its class's odds against the model's reading: on the corpus (five-fold,
# docs/classification.md) that beat both the model alone and the phrase overriding it.
CUE_WEIGHT = 3.0
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
    words: tuple[str, ...] = ()

    @property
    def low_confidence(self) -> bool:
        return self.confidence < LOW_CONFIDENCE


def _cue(cues: list[tuple[str, re.Pattern[str]]], text: str) -> tuple[str, str] | None:
    for label, pattern in cues:
        match = pattern.search(text)
        if match:
            return label, match.group(0)
    return None


def _guess(
    cue: tuple[str, str] | None, ranked: list[tuple[str, float]], because: list[str]
) -> Guess:
    """The model's reading, a matching cue phrase weighing in; the top three offered."""
    weights = dict(ranked)
    if cue is not None:
        weights[cue[0]] = weights.get(cue[0], 0.0) * CUE_WEIGHT
    total = sum(weights.values()) or 1.0
    (value, confidence), *others = sorted(
        ((label, round(weight / total, 3)) for label, weight in weights.items()),
        key=lambda item: -item[1],
    )
    if cue is not None and cue[0] == value:
        return Guess(value, confidence, f"phrase: {cue[1]}", others[:3], (cue[1],))
    return Guess(value, confidence, _evidence(because, confidence), others[:3], tuple(because))


@dataclass(frozen=True)
class Suggestion:
    ticket_type: Guess
    category: Guess
    special: RuleHit | None
    place: Place | None


# An emergency phrase the model does not back is still offered, marked low confidence:
# the agent looks twice (a past accident, a fire hazard) but no emergency is dropped.
UNBACKED_PHRASE_CONFIDENCE = 0.45


# Art 11 cases the model may read where no phrase names them, and the rule each records.
MODEL_RULES = {
    "legal_channel": "art11_2_model",
    "party_organs": "art11_3_model",
    "in_progress": "art11_4_model",
    "confidential": "art11_5_model",
}


def _evidence(words: list[str] | tuple[str, ...], score: float) -> str:
    return (f"words: {'、'.join(words)}; " if words else "") + f"model score {score}"


def _model_hit(
    model: TrainedModel, text: str, case: str, number: str | None, probability: float, rule: str
) -> RuleHit:
    words = tuple(model.reasons("dispositions", text, case))
    return RuleHit(case, number, _evidence(words, probability), rule, min(0.9, probability), words)


def special_of(model: TrainedModel, text: str) -> RuleHit | None:
    """The Art 11 case: a phrase rule, or else the model's reading, with the words that
    weighed most as its evidence (the model reads the call once for both)."""
    hit = special_case(text)
    if hit is not None and hit.disposition != "emergency":
        return hit
    probabilities = model.disposition_probabilities(text)
    emergency = probabilities.get("emergency", 0.0)
    backed = emergency >= EMERGENCY_THRESHOLD
    if hit is not None and (backed or not NOT_HAPPENING_NOW.search(text)):
        return replace(
            hit,
            evidence=f"{hit.evidence}; model score {emergency}",
            confidence=hit.confidence if backed else UNBACKED_PHRASE_CONFIDENCE,
        )
    if hit is not None:  # an emergency's words, told of the past or asked about
        hit = special_case(text, emergencies=False)
        if hit is not None:
            return hit
    if backed and not NOT_HAPPENING_NOW.search(text):  # the model alone: not of the past either
        return _model_hit(model, text, "emergency", model.line(text), emergency, "art11_1_model")
    case = max(MODEL_RULES, key=lambda c: probabilities.get(c, 0.0))
    probability = probabilities.get(case, 0.0)
    if probability < SPECIAL_THRESHOLD:
        return None
    return _model_hit(model, text, case, None, probability, MODEL_RULES[case])


def suggest(model: TrainedModel, text: str, *, address: str | None = None) -> Suggestion:
    """Everything the agent is offered for a call, each part with its evidence."""
    type_cues, category_cues = _cues()
    categories = model.ranked("categories", text)
    return Suggestion(
        ticket_type=_guess(_cue(type_cues, text), model.ranked("types", text), []),
        category=_guess(
            _cue(category_cues, text),
            categories,
            model.reasons("categories", text, categories[0][0]),
        ),
        special=special_of(model, text),
        place=locate(text, address),
    )


def disposition_of(suggestion: Suggestion, related_tickets: list[dict[str, Any]]) -> dict[str, Any]:
    """Art 11 case first, then an open ticket on the matter, then a repeat (Art 22); a call
    whose words ask after a matter names the caller's open ticket when there is one."""
    open_ticket = next((t for t in related_tickets if t["relation"] == "in_progress"), None)
    if suggestion.special is not None:
        hit = suggestion.special
        linked = open_ticket if hit.disposition == "in_progress" else None
        return {
            "value": hit.disposition,
            "emergency_number": hit.emergency_number,
            "confidence": hit.confidence,
            "low_confidence": hit.confidence < LOW_CONFIDENCE,
            "evidence": f"{hit.evidence} ({hit.rule})",
            "words": list(hit.words),
            "related_ticket": linked["number"] if linked else None,
        }
    for relation in ("in_progress", "repeat"):
        match = next((t for t in related_tickets if t["relation"] == relation), None)
        if match:
            return {
                "value": relation,
                "confidence": 0.7,
                "evidence": f"ticket {match['number']} of the same caller ({match['status']})",
                "related_ticket": match["number"],
            }
    return {"value": "normal", "confidence": 0.8, "evidence": "no Art 11 case, no related ticket"}


def accuracy_with_cues(model: TrainedModel, examples: list[Any]) -> dict[str, float]:
    """Type and category accuracy of cues plus model on labelled examples; how often the
    right category is among the three offered, and how far the category's confidence is from
    its accuracy (expected calibration error, 10 bins)."""
    results = [suggest(model, e.text) for e in examples]
    n = len(examples) or 1
    pairs = list(zip(results, examples, strict=True))
    offered = [[r.category.value, *(c for c, _ in r.category.alternatives)][:3] for r, _ in pairs]
    return {
        "type_accuracy": round(sum(r.ticket_type.value == e.ticket_type for r, e in pairs) / n, 3),
        "category_accuracy": round(sum(r.category.value == e.category for r, e in pairs) / n, 3),
        "top_level_category_accuracy": round(
            sum(
                (r.category.value or "").split(".")[0] == e.category.split(".")[0] for r, e in pairs
            )
            / n,
            3,
        ),
        "category_top3": round(
            sum(e.category in o for o, (_, e) in zip(offered, pairs, strict=True)) / n, 3
        ),
        "category_calibration_error": calibration_error(
            [(r.category.confidence, r.category.value == e.category) for r, e in pairs]
        ),
    }


def calibration_error(outcomes: list[tuple[float, bool]], bins: int = 10) -> float:
    """Expected calibration error: per confidence bin, how far the share right is from the
    mean confidence, weighted by the bin's size."""
    total = 0.0
    for b in range(bins):
        inside = [
            (c, r) for c, r in outcomes if b / bins < c <= (b + 1) / bins or (b == 0 and c == 0)
        ]
        if inside:
            share = sum(r for _, r in inside) / len(inside)
            total += len(inside) * abs(share - sum(c for c, _ in inside) / len(inside))
    return round(total / max(len(outcomes), 1), 3)

"""The whole Art 11 reading (phrases, not-now words, model) out of fold on the corpus: which
emergencies it misses or sends to the wrong line, and which ordinary calls it alarms on —
the check every change to the phrase rules or the not-now words is made against, never an
evaluation set (docs/classification.md); and the ordinary calls' type and category as the
agent is offered them (cues and model), the check for a change to the cues or the labels.

Five fixed folds (the corpus shuffled with the classifier's seed); each fold is read by a model
trained on the other four. Run: `.venv/bin/python bench/eval_alarms.py [-v]` (-v lists each
miss and alarm).
"""

from __future__ import annotations

import random
import sys
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "services")]

from intake.classify.model import FOLDS, SEED, TrainedModel, corpus  # noqa: E402
from intake.classify.suggest import special_of, suggest  # noqa: E402


def main() -> None:
    verbose = "-v" in sys.argv
    calls = list(corpus())
    order = list(range(len(calls)))
    random.Random(SEED).shuffle(order)
    counts: Counter[str] = Counter()
    for fold in range(FOLDS):
        held = set(order[fold::FOLDS])
        training = [calls[i] for i in order if i not in held]
        model = TrainedModel.fit(
            [c for c in training if c.disposition == "normal"],
            [c for c in training if c.disposition != "normal"],
        )
        for i in sorted(held):
            call, hit = calls[i], special_of(model, calls[i].text)
            read = hit.disposition if hit else "normal"
            line = hit.emergency_number if hit else None
            if call.disposition == "emergency":
                counts["emergencies"] += 1
                counts["caught"] += read == "emergency"
                counts["right line"] += read == "emergency" and line == call.number
                if verbose and (read, line) != ("emergency", call.number):
                    print("missed", call.number, "->", read, line, call.text)
            elif call.disposition == "normal":
                counts["ordinary"] += 1
                counts["alarms"] += read == "emergency"
                offered = suggest(model, call.text)
                counts["type"] += offered.ticket_type.value == call.ticket_type
                counts["category"] += offered.category.value == call.category
                if verbose and offered.ticket_type.value != call.ticket_type:
                    print("type", call.ticket_type, "->", offered.ticket_type.value, call.text)
                if verbose and read == "emergency":
                    print("alarm", line, call.text, hit.evidence if hit else "")
            else:
                counts["other cases"] += 1
                counts["other cases right"] += read == call.disposition
    print(
        f"emergencies caught {counts['caught']}/{counts['emergencies']}, "
        f"on the right line {counts['right line']}; "
        f"alarms on ordinary calls {counts['alarms']}/{counts['ordinary']}; "
        f"other Art 11 cases right {counts['other cases right']}/{counts['other cases']}; "
        f"ordinary calls' type right {counts['type']}, category right {counts['category']}"
    )


if __name__ == "__main__":
    main()

"""Which model intake's classifier should use, measured: every candidate of
``intake.classify.model.CANDIDATES`` by five-fold cross-validation on the corpus
(``intake/classify/corpus``), never on an evaluation set.

For type and leaf category (the corpus's ordinary matters) and the Art 11 case (all of it):
accuracy, top-3 accuracy, and the expected calibration error of the top confidence after
the model's temperature (10 equal bins: how far "0.8 sure" is from being right eight times
in ten); then the time to train the
whole model and to read one call (type, category and case, the median of 200 calls, one at
a time as `/v1/classify` does).

With ``--fresh`` it also prints each candidate's results on the fresh evaluation sets, whole
classifier (phrases, cues, model) — to report, not to choose: the choice is made on the
cross-validation (docs/classification.md).
Run: `.venv/bin/python bench/eval_classifier.py [--fresh]` (seeded).
"""

from __future__ import annotations

import itertools
import statistics
import sys
import time
from pathlib import Path

import numpy as np
from scipy.special import logsumexp
from sklearn.model_selection import StratifiedKFold

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "services")]

from intake.classify import model as classifier  # noqa: E402
from intake.classify.model import CANDIDATES, corpus, shipped_examples  # noqa: E402

FOLDS, SEED, BINS = 5, 191, 10


def calibration_error(confidence: np.ndarray, right: np.ndarray) -> float:
    edges = np.linspace(0, 1, BINS + 1)
    total = 0.0
    for low, high in itertools.pairwise(edges):
        inside = (confidence > low) & (confidence <= high)
        if inside.any():
            total += inside.sum() * abs(right[inside].mean() - confidence[inside].mean())
    return total / len(confidence)


def cross_validated(name: str, texts: list[str], labels: list[str]) -> dict[str, float]:
    """Out-of-fold results; each fold's temperature is fitted on its own training calls."""
    classifier._pipeline = CANDIDATES[name]
    labels_ = np.array(labels)
    folds = StratifiedKFold(FOLDS, shuffle=True, random_state=SEED)
    top1, top3, confidence, right = [], [], [], []
    for train, test in folds.split(texts, labels_):
        train_texts = [texts[i] for i in train]
        pipeline = classifier._pipeline().fit(train_texts, labels_[train])
        t = classifier.temperature(train_texts, list(labels_[train]))
        logits = np.log(np.clip(pipeline.predict_proba([texts[i] for i in test]), 1e-12, 1)) / t
        probabilities = np.exp(logits - logsumexp(logits, axis=1, keepdims=True))
        classes = pipeline.classes_
        ranked = np.argsort(-probabilities, axis=1)
        truth = labels_[test]
        top1.extend(classes[ranked[:, 0]] == truth)
        top3.extend((classes[ranked[:, :3]] == truth[:, None]).any(axis=1))
        confidence.extend(probabilities.max(axis=1))
        right.extend(classes[ranked[:, 0]] == truth)
    return {
        "accuracy": float(np.mean(top1)),
        "top3": float(np.mean(top3)),
        "ece": calibration_error(np.array(confidence), np.array(right, dtype=float)),
    }


def timings(name: str) -> tuple[float, float]:
    classifier._pipeline = CANDIDATES[name]
    started = time.perf_counter()
    model = classifier.TrainedModel.fit(shipped_examples())
    fitted = time.perf_counter() - started
    calls = [c.text for c in corpus()][::7][:200]
    each = []
    for text in calls:
        started = time.perf_counter()
        for part in ("types", "categories", "dispositions"):
            model.ranked(part, text)
        each.append(time.perf_counter() - started)
    return fitted, statistics.median(each) * 1000


def fresh(name: str) -> dict[str, dict]:
    from intake.classify.service import evaluate_on_sets

    classifier._pipeline = CANDIDATES[name]
    measured = evaluate_on_sets(classifier.TrainedModel.fit(shipped_examples()))[1]
    return {k: v for k, v in measured.items() if k.startswith("fresh")}


def main() -> None:
    calls = list(corpus())
    normal = [c for c in calls if c.disposition == "normal"]
    tasks = {
        "type": ([c.text for c in normal], [c.ticket_type for c in normal]),
        "category": ([c.text for c in normal], [c.category for c in normal]),
        "art11": ([c.text for c in calls], [c.disposition for c in calls]),
    }
    print(f"corpus: {len(calls)} calls, {len(normal)} ordinary; {FOLDS}-fold, seed {SEED}")
    print(
        "| model | "
        + " | ".join(f"{t} acc | {t} top-3 | {t} ECE" for t in tasks)
        + " | train s | read ms |"
    )
    for name in CANDIDATES:
        cells = []
        for texts, labels in tasks.values():
            result = cross_validated(name, texts, labels)
            cells += [f"{result['accuracy']:.3f}", f"{result['top3']:.3f}", f"{result['ece']:.3f}"]
        fitted, read = timings(name)
        print(f"| {name} | " + " | ".join(cells) + f" | {fitted:.1f} | {read:.2f} |", flush=True)
    if "--fresh" in sys.argv:
        for name in CANDIDATES:
            for set_name, result in fresh(name).items():
                print(name, set_name, result, flush=True)


if __name__ == "__main__":
    main()

"""Which model intake's classifier should use, measured: every candidate of ``CANDIDATES``
(below; intake uses ``chargram-svm``) by five-fold cross-validation on the corpus
(``intake/classify/corpus``), never on an evaluation set.

For type and leaf category (the corpus's ordinary matters) and the Art 11 case (all of it):
accuracy, top-3 accuracy, and the expected calibration error of the top confidence after
the model's temperature (10 equal bins: how far "0.8 sure" is from being right eight times
in ten); then the time to train the whole model and to read one call (type, category and
case, the median of 200 calls, one at a time as `/v1/classify` does).

With ``--fresh`` it also prints each candidate's results on the fresh evaluation sets, whole
classifier (phrases, cues, model) — to report, not to choose: the choice is made on the
cross-validation (docs/classification.md).
Run: `.venv/bin/python bench/eval_classifier.py [--fresh]` (seeded).
"""

from __future__ import annotations

import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

import jieba
import numpy as np
from sklearn.calibration import CalibratedClassifierCV
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import StratifiedKFold
from sklearn.naive_bayes import ComplementNB
from sklearn.pipeline import Pipeline, make_pipeline, make_union
from sklearn.svm import LinearSVC

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "services")]

from intake.classify.model import (  # noqa: E402
    SEED,
    TrainedModel,
    calibrated,
    chargram_svm,
    corpus,
    scores,
    shipped_examples,
    temperature,
)
from intake.classify.suggest import calibration_error  # noqa: E402

FOLDS = 5


def char_features() -> TfidfVectorizer:
    return TfidfVectorizer(analyzer="char_wb", ngram_range=(1, 3), sublinear_tf=True)


def logistic() -> LogisticRegression:
    # saga: the same accuracy as lbfgs on the corpus, trained ten times faster.
    return LogisticRegression(max_iter=3000, C=10.0, solver="saga", tol=1e-3, random_state=SEED)


def chargram_lr() -> Pipeline:
    """Character 1–3-grams and logistic regression: intake's model until 2026-12-07."""
    return make_pipeline(char_features(), logistic())


def words(text: str) -> list[str]:
    """The words of a call (jieba), for the word features beside the character ones."""
    return [w for w in jieba.lcut(text) if w.strip()]


def word_features() -> TfidfVectorizer:
    return TfidfVectorizer(
        tokenizer=words, token_pattern=None, lowercase=False, ngram_range=(1, 2), sublinear_tf=True
    )


def wordchar_lr() -> Pipeline:
    """Character n-grams and jieba's words (and word pairs), logistic regression."""
    return make_pipeline(make_union(char_features(), word_features()), logistic())


def wordchar_svm() -> Pipeline:
    """The same features, a linear SVM whose scores are calibrated to probabilities."""
    return make_pipeline(
        make_union(char_features(), word_features()),
        CalibratedClassifierCV(LinearSVC(C=0.5), cv=3, method="sigmoid"),
    )


def chargram_nb() -> Pipeline:
    """Character n-grams and complement naive Bayes: the cheapest to train."""
    return make_pipeline(char_features(), ComplementNB(alpha=0.3))


CANDIDATES: dict[str, Callable[[], Pipeline]] = {
    "chargram-svm": chargram_svm,  # the model intake uses
    "chargram-lr": chargram_lr,
    "wordchar-lr": wordchar_lr,
    "wordchar-svm": wordchar_svm,
    "chargram-nb": chargram_nb,
}


def cross_validated(name: str, texts: list[str], labels: list[str]) -> dict[str, float]:
    """Out-of-fold results; each fold's temperature is fitted on its own training calls."""
    make = CANDIDATES[name]
    labels_ = np.array(labels)
    folds = StratifiedKFold(FOLDS, shuffle=True, random_state=SEED)
    top1, top3, outcomes = [], [], []
    for train, test in folds.split(texts, labels_):
        train_texts = [texts[i] for i in train]
        pipeline = make().fit(train_texts, labels_[train])
        t = temperature(train_texts, list(labels_[train]), make=make)
        probabilities = calibrated(scores(pipeline, [texts[i] for i in test]), t)
        classes = pipeline.classes_
        ranked = np.argsort(-probabilities, axis=1)
        truth = labels_[test]
        top1.extend(classes[ranked[:, 0]] == truth)
        top3.extend((classes[ranked[:, :3]] == truth[:, None]).any(axis=1))
        outcomes.extend(zip(probabilities.max(axis=1), classes[ranked[:, 0]] == truth, strict=True))
    return {
        "accuracy": float(np.mean(top1)),
        "top3": float(np.mean(top3)),
        "ece": calibration_error([(float(c), bool(r)) for c, r in outcomes]),
    }


def fitted(name: str) -> TrainedModel:
    return TrainedModel.fit(shipped_examples(), make=CANDIDATES[name], name=name)


def timings(name: str) -> tuple[float, float]:
    started = time.perf_counter()
    model = fitted(name)
    trained = time.perf_counter() - started
    calls = [c.text for c in corpus()][::7][:200]
    each = []
    for text in calls:
        started = time.perf_counter()
        for part in ("types", "categories", "dispositions"):
            model.ranked(part, text)
        each.append(time.perf_counter() - started)
    return trained, statistics.median(each) * 1000


def fresh(name: str) -> dict[str, dict]:
    from intake.classify.service import evaluate_on_sets

    measured = evaluate_on_sets(fitted(name))[1]
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

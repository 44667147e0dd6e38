"""What of a passage answers a question: how much of the question it covers, and the sentence
that answers — pure functions over search terms and their weights (IDF)."""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Mapping
from collections.abc import Set as AbstractSet
from functools import lru_cache

from intake.kb import terms

# A sentence ends at 。！？； or a line break (articles' items end with ；).
SENTENCE_END = re.compile(r"(?<=[。！？；\n])")
# A question asking how many, how long or when is answered by a sentence with a number.
ASKS_NUMBER = re.compile(r"几|多少|多久|多长|多大|何时|什么时候|哪天|哪一天")
NUMBER = re.compile(r"\d|[一二两三四五六七八九十百千]+\s*[个次日天年月周岁名倍]")


def sentences(text: str) -> list[str]:
    return [s.strip() for s in SENTENCE_END.split(text) if s.strip()]


def covered(question: list[str], weights: Mapping[str, float], found: AbstractSet[str]) -> float:
    """The share of the question's weight that ``found`` terms carry (0 to 1): a passage
    that matches only the question's common words covers little of it."""
    total = sum(weights[w] for w in question)
    return sum(weights[w] for w in question if w in found) / total if total else 0.0


def bm25(
    question: list[str],
    weights: Mapping[str, float],
    held: list[str],
    mean_length: float,
    *,
    k1: float = 1.2,
    b: float = 0.75,
) -> float:
    """Okapi BM25 of a text's terms (``held``, with repeats) for the question, with the
    usual k1 and b: a term said again counts, less each time, and a long text is discounted."""
    counts = Counter(held)
    length = len(held) / mean_length
    score = 0.0
    for word in question:
        f = sum(counts[a] for a in terms.alternatives(word))
        if f:
            score += weights[word] * f * (k1 + 1) / (f + k1 * (1 - b + b * length))
    return score


def asks_number(question: str) -> bool:
    return ASKS_NUMBER.search(question) is not None


def best_sentence(
    text: str, question: list[str], weights: Mapping[str, float], *, wants_number: bool = False
) -> str:
    """The sentence of ``text`` covering most of the question, the first on a tie. Asked how
    many, how long or when, a sentence with a number wins among those covering at least half
    as much as the best (延期几次 → 延期以2次为限, not the sentence that says how to extend)."""
    found = sentences(text)
    if not found:
        return text
    shares = [
        covered(question, weights, terms.matched(question, _terms_of(s, question))) for s in found
    ]
    best = max(shares)

    def rank(i: int) -> tuple[bool, float, int]:
        numbered = wants_number and shares[i] >= best / 2 and NUMBER.search(found[i]) is not None
        return numbered, shares[i], -i

    return found[max(range(len(found)), key=rank)]


def _terms_of(sentence: str, question: list[str]) -> frozenset[str]:
    """The sentence's terms, cut only when it holds a question term at all: a term cut from
    a sentence is part of its text, so a sentence holding none covers nothing. Cutting every
    sentence of every hit was two thirds of a search's time."""
    lowered = sentence.lower()
    if not any(a in lowered for word in question for a in terms.alternatives(word)):
        return frozenset()
    return _cut(sentence)


@lru_cache(maxsize=20_000)
def _cut(sentence: str) -> frozenset[str]:
    """Passages change only at import, and the same ones answer question after question."""
    return frozenset(terms.terms(sentence))

"""Chinese text to search terms (jieba), for indexing and for questions alike."""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable
from functools import cache
from pathlib import Path

import jieba

jieba.setLogLevel(logging.WARNING)

STOPWORDS = frozenset(
    word
    for line in (Path(__file__).parent / "stopwords.txt").read_text().splitlines()
    if not line.startswith("#")
    for word in line.split()
)
WORD = re.compile(r"^[\w\u4e00-\u9fff]+$")
# A caller's word → the Measures' own word for it (synonyms.txt): a question asks 什么时候实施,
# the article says 施行.
STATUTORY = {
    caller: line.split()[0]
    for line in (Path(__file__).parent / "synonyms.txt").read_text().splitlines()
    if line.strip() and not line.startswith("#")
    for caller in line.split()[1:]
}


@cache
def _initialised() -> bool:
    jieba.initialize()
    return True


def terms(text: str, *, for_search: bool = True) -> list[str]:
    """Terms of a text without stop words or symbols.

    Indexed text is cut for search (words and the shorter words inside them); a question is
    cut precisely, so that one question word does not count several times.
    """
    _initialised()
    found = []
    for token in jieba.cut_for_search(text) if for_search else jieba.cut(text):
        token = token.strip().lower()
        if token and token not in STOPWORDS and WORD.match(token):
            found.append(token)
    return found


def indexed(text: str) -> str:
    """The space-joined terms PostgreSQL indexes with the 'simple' configuration."""
    return " ".join(terms(text))


# "What is X" is answered where a measure defines it: 本办法所称X，是指….
DEFINITION = re.compile(r"什么是|什么叫|是什么意思|指什么|是指什么|的定义")


def question_terms(text: str) -> list[str]:
    """A question's distinct terms; single characters only when nothing longer is left; 所称
    for a question asking what something is."""
    unique = list(dict.fromkeys(terms(text, for_search=False)))
    longer = [t for t in unique if len(t) > 1] or unique
    return [*longer, "所称"] if longer and DEFINITION.search(text) else longer


def statutory(word: str) -> str:
    """The Measures' word for a question's word (itself when callers say it the same)."""
    return STATUTORY.get(word, word)


def alternatives(word: str) -> tuple[str, ...]:
    """A question's word and, if callers say it otherwise than the Measures, their word."""
    return tuple(dict.fromkeys((word, statutory(word))))


def matched(question: list[str], found: Iterable[str]) -> set[str]:
    """The question's words a text holds, as asked or in the Measures' wording."""
    held = set(found)
    return {w for w in question if any(a in held for a in alternatives(w))}

"""Chinese text to search terms (jieba), for indexing and for questions alike."""

from __future__ import annotations

import logging
import re
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


def question_terms(text: str) -> list[str]:
    """A question's distinct terms; single characters only when nothing longer is left."""
    unique = list(dict.fromkeys(terms(text, for_search=False)))
    longer = [t for t in unique if len(t) > 1]
    return longer or unique

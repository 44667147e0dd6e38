"""Repair text extracted from PDF and split it into passages under their headings (pure).

The damage seen in the gazette extractions: punctuation mapped into the Yi block
(``ꎬ ꎮ ꎻ``), guillemets for book-title marks, private-use code points for the decimal
point, dashes and footnote markers, full-width digits and Latin letters, page footers
such as ``１１(本文与正式文件同等效力)``, spaces between every CJK token, and lines broken in
the middle of a sentence (often with blank lines between the pieces).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

PUNCTUATION = str.maketrans(
    {
        "\ua3ac": "，",
        "\ua3ae": "。",
        "\ua3bb": "；",
        "«": "《",
        "»": "》",
        "‹": "〈",
        "›": "〉",
        "\u2236": ":",
        "\U001001b0": ".",
        "\U00100170": "—",
        "\U001000b7": "①",
        "\U001000b8": "②",
        "\U001000b9": "③",
        "\U001000ba": "④",
        "\U001000bb": "⑤",
        "\U001000bc": "⑥",
        "\u3000": " ",
        "\ufeff": "",
        "\ufffd": "",
    }
)
# Full-width digits, Latin letters and a few signs become ASCII; CJK punctuation stays.
WIDTH = str.maketrans(
    {chr(c): chr(c - 0xFEE0) for c in range(0xFF10, 0xFF1A)}
    | {chr(c): chr(c - 0xFEE0) for c in range(0xFF21, 0xFF3B)}
    | {chr(c): chr(c - 0xFEE0) for c in range(0xFF41, 0xFF5B)}
    | {"％": "%", "＋": "+", "＆": "&", "．": "."}
)
ARTEFACTS = re.compile(r"[\ua000-\ua4cf\ue000-\uf8ff\U000f0000-\U0010ffff«»‹›\ufffd]|\[bookmark:")
WORD_BOOKMARK = re.compile(r"\[bookmark:[^\]]*\]")
FOOTER = re.compile(r"^\s*\d+\s*[(（]本文与正式文件同等效力[)）]\s*$")
CJK = r"\u3000-\u303f\u3400-\u9fff\uff00-\uffef“”‘’《》①-⑩—"
SPACE_NEAR_CJK = re.compile(rf"(?<=[{CJK}])[ \t]+|[ \t]+(?=[{CJK}])")
DECIMAL = re.compile(r"(?<=\d)[ \t]*\.[ \t]*(?=\d)")
SENTENCE_END = re.compile(r"[。；！？：:]$|[。！？][”’）)]$")
# A gazette prints its documents one after another; each ends with how it is published.
END_OF_DOCUMENT = re.compile(r"公开方式[:：](?:主动|依申请|不予)公开")
BOOK_TITLE = re.compile(r"《([^》]{4,60})》")

HEADING = re.compile(
    r"^(第[一二三四五六七八九十百零〇]+[章节条]"
    r"|[一二三四五六七八九十]+、"
    r"|[（(][一二三四五六七八九十]+[)）]"
    r"|\d+[.、](?!\d))"
)
ARTICLE = re.compile(r"^第[一二三四五六七八九十百零〇]+条")
ARTICLE_BODY = re.compile(r"^(第[一二三四五六七八九十百零〇]+[章条])(?=\S)")
CHAPTER = re.compile(r"^第[一二三四五六七八九十百零〇]+[章节]")
TITLE_WORDS = re.compile(
    r"(办法|规定|条例|方案|计划|通知|规划|意见|决定|细则|措施|体系)[^，。；]{0,12}$"
)


def normalise(raw: str) -> str:
    """The text with every known artefact repaired and broken lines joined into paragraphs."""
    text = WORD_BOOKMARK.sub("", raw.translate(PUNCTUATION).translate(WIDTH))
    lines = []
    for line in text.splitlines():
        if FOOTER.match(line):
            continue
        line = SPACE_NEAR_CJK.sub("", line).strip()
        line = re.sub(r"[ \t]{2,}", " ", line)
        line = DECIMAL.sub(".", line)  # 3 . 4% → 3.4%
        line = ARTICLE_BODY.sub(r"\1 ", line)  # 第十二条本市… → 第十二条 本市…
        # The end-of-document mark on a line of its own: what follows is the next document.
        lines.extend(END_OF_DOCUMENT.sub(lambda m: f"\n{m.group(0)}\n", line).split("\n"))
    return "\n".join(_paragraphs(lines))


def _paragraphs(lines: list[str]) -> list[str]:
    paragraphs: list[str] = []
    current = ""
    for line in lines:
        if not line:
            continue
        if current and _is_title(current) and line[0] in "的(（" and len(current + line) <= 60:
            current += line  # a title broken over two lines
            continue
        starts_block = bool(HEADING.match(line) or END_OF_DOCUMENT.fullmatch(line)) or _is_title(
            line
        )
        ends_block = (
            SENTENCE_END.search(current)
            or _is_title(current)
            or _is_short_heading(current)
            or END_OF_DOCUMENT.fullmatch(current)
        )
        if current and (starts_block or ends_block):
            paragraphs.append(current)
            current = line
        else:
            current += line
    if current:
        paragraphs.append(current)
    return paragraphs


def _is_title(line: str) -> bool:
    """A short line naming a document (…办法, …方案) with no sentence punctuation."""
    return (
        len(line) <= 40 and not re.search(r"[，。；:：]", line) and bool(TITLE_WORDS.search(line))
    )


def _is_short_heading(line: str) -> bool:
    """四、重点任务: a numbered heading alone on its line."""
    return (
        len(line) <= 15 and bool(HEADING.match(line)) and not re.search(r"[，。；、:：]", line[2:])
    )


def leftover_artefacts(text: str) -> list[str]:
    """Characters of the known damage still present (empty when the repair is complete)."""
    found = ARTEFACTS.findall(text) + [m for m in re.findall(r"[\uff10-\uff19]", text)]
    if any(FOOTER.match(line) for line in text.splitlines()):
        found.append("page footer")
    return found


@dataclass(frozen=True)
class Passage:
    section: str
    text: str


def split_passages(text: str, *, title: str, max_chars: int = 600) -> list[Passage]:
    """Articles (第…条) and numbered sections as passages, each with its heading path."""
    passages: list[Passage] = []
    document, chapter, heading = title, "", ""
    body: list[str] = []

    def flush() -> None:
        if body:
            section = " ".join(p for p in (document, chapter, heading) if p)
            chunk = ""
            for paragraph in body:
                if chunk and len(chunk) + len(paragraph) > max_chars:
                    passages.append(Passage(section, chunk))
                    chunk = ""
                chunk += paragraph
            passages.append(Passage(section, chunk))
            body.clear()

    for paragraph in text.splitlines():
        if END_OF_DOCUMENT.fullmatch(paragraph):
            # What comes next (an order, a notice) belongs to the next document, not to the
            # last article of this one: it is filed under the title it names until its own.
            flush()
            document, chapter, heading = "", "", ""
        elif _is_title(paragraph) and not HEADING.match(paragraph):
            flush()
            document, chapter, heading = paragraph, "", ""
        elif CHAPTER.match(paragraph):
            flush()
            chapter, heading = paragraph, ""
        elif ARTICLE.match(paragraph):
            flush()
            heading = ARTICLE.match(paragraph).group(0)  # type: ignore[union-attr]
            body.append(paragraph)
        elif (
            HEADING.match(paragraph) and len(paragraph) <= 40 and not SENTENCE_END.search(paragraph)
        ):
            flush()
            heading = paragraph
        else:
            if not document:
                named = BOOK_TITLE.search(paragraph)
                document = named.group(1) if named else paragraph[:40]
            body.append(paragraph)
    flush()
    return passages

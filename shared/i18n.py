"""Chinese first, English second: the language of a request, messages and labels.

Codes stay stable English identifiers; what people read is chosen by ``Accept-Language``
(default ``zh-CN``). Refusal messages come from ``reference/messages.json`` (each rule code
with its article of Order No. 191); labels of the shared vocabularies from
``reference/labels.json``, to which each service adds the labels of what it owns.
"""

from __future__ import annotations

import json
from enum import StrEnum
from functools import cache
from pathlib import Path
from typing import Any

REFERENCE = Path(__file__).parent / "reference"


class Lang(StrEnum):
    ZH = "zh-CN"
    EN = "en"


def negotiate(accept_language: str | None) -> Lang:
    """The language to answer in: English only when the caller prefers it to Chinese."""
    best: tuple[float, Lang] | None = None
    for part in (accept_language or "").split(","):
        tag, _, params = part.strip().partition(";")
        tag = tag.strip().lower()
        lang = Lang.EN if tag.startswith("en") else Lang.ZH if tag.startswith("zh") else None
        if lang is None:
            continue
        quality = 1.0
        for param in params.split(";"):
            name, _, value = param.strip().partition("=")
            if name == "q":
                try:
                    quality = float(value)
                except ValueError:
                    quality = 0.0
        if best is None or quality > best[0]:
            best = (quality, lang)
    return best[1] if best and best[0] > 0 else Lang.ZH


@cache
def _messages() -> dict[str, dict[str, dict[str, Any]]]:
    data: dict[str, Any] = json.loads((REFERENCE / "messages.json").read_text(encoding="utf-8"))
    return {"rules": data["rules"], "errors": data["errors"]}


def rule_codes() -> frozenset[str]:
    """Every rule code the catalogue knows (a test holds the code base to it)."""
    return frozenset(_messages()["rules"])


def rule_labels(lang: Lang) -> dict[str, str]:
    """Each rule code with what it says and its article, for a client to show beside it."""
    article = "《办法》" if lang is Lang.ZH else "Order No. 191, "
    return {
        code: f"{rule['zh' if lang is Lang.ZH else 'en']}（{article}{rule['article']}）"
        for code, rule in _messages()["rules"].items()
    }


def message(code: str, english: str, lang: Lang, *, zh: str | None = None) -> str:
    """What a refusal says: the English it was raised with, or the Chinese — the raise
    site's own words if it gave them, else the catalogue's for the code (a rule with its
    article; a generic kind of error followed by the detail)."""
    if lang is Lang.EN:
        return english
    rule = _messages()["rules"].get(code)
    if zh is not None:
        return zh if rule is None else f"{zh}（《办法》{rule['article']}）"
    if rule is not None:
        return f"{rule['zh']}（《办法》{rule['article']}）"
    error = _messages()["errors"].get(code)
    if error is None:
        return english
    return f"{error['zh']}：{english}" if error.get("with_detail") else error["zh"]


@cache
def _label_files(*paths: Path) -> dict[str, dict[str, dict[str, str]]]:
    merged: dict[str, dict[str, dict[str, str]]] = {}
    for path in (REFERENCE / "labels.json", *paths):
        data = json.loads(path.read_text(encoding="utf-8"))
        merged.update({k: v for k, v in data.items() if k != "note"})
    return merged


def labels(lang: Lang, *own: Path) -> dict[str, dict[str, str]]:
    """The labels of the shared vocabularies and a service's ``own`` files, in ``lang``."""
    key = "zh" if lang is Lang.ZH else "en"
    return {
        vocabulary: {code: names[key] for code, names in entries.items()}
        for vocabulary, entries in _label_files(*own).items()
    }


def label_entries(*own: Path) -> dict[str, dict[str, dict[str, str]]]:
    """Every label in both languages (for the tests and for clients that cache them)."""
    return _label_files(*own)


# Pydantic's error types, as a person reads them (422 answers name the field).
_VALIDATION = {
    "missing": "缺少必填项",
    "string_too_short": "不能为空或过短",
    "string_too_long": "过长（不超过 {max_length} 个字符）",
    "too_long": "过多（不超过 {max_length} 项）",
    "too_short": "过少（至少 {min_length} 项）",
    "enum": "应为以下之一：{expected}",
    "literal_error": "应为以下之一：{expected}",
    "int_parsing": "应为整数",
    "int_type": "应为整数",
    "float_parsing": "应为数字",
    "bool_parsing": "应为 true 或 false",
    "bool_type": "应为 true 或 false",
    "string_type": "应为文本",
    "date_parsing": "应为日期，格式 YYYY-MM-DD",
    "date_from_datetime_parsing": "应为日期，格式 YYYY-MM-DD",
    "datetime_parsing": "应为时间，格式如 2026-11-24T09:30:00+08:00",
    "datetime_from_date_parsing": "应为时间，格式如 2026-11-24T09:30:00+08:00",
    "timezone_aware": "时间应带时区，如 +08:00",
    "greater_than_equal": "不能小于 {ge}",
    "less_than_equal": "不能大于 {le}",
    "greater_than": "应大于 {gt}",
    "less_than": "应小于 {lt}",
    "string_pattern_mismatch": "格式不符合要求",
    "json_invalid": "请求体不是有效的 JSON",
    "model_attributes_type": "格式不符合要求",
    "dict_type": "应为对象",
    "list_type": "应为列表",
    "uuid_parsing": "应为 UUID",
    "phone_invalid": "不是有效的电话号码（手机号，或带区号的固定电话）",
    "sms_needs_mobile": "诉求人同意短信告知时，须登记其手机号码",
    "channel_target_invalid": (
        "通知渠道地址与类型不符：Webhook 填 http(s) 网址，电子邮件填邮箱，短信填手机号码"
    ),
}


def validation_problem(error: dict[str, Any], lang: Lang) -> str:
    """One pydantic error as ``field: what is wrong``, in ``lang``."""
    where = ".".join(str(p) for p in error.get("loc", ()) if p != "body") or "body"
    english = str(error.get("msg", "invalid"))
    if lang is Lang.EN:
        return f"{where}: {english}"
    template = _VALIDATION.get(str(error.get("type")))
    if template is None:
        return f"字段 {where}：{english}"
    context = {k: v for k, v in (error.get("ctx") or {}).items()}
    try:
        text = template.format(**context)
    except (KeyError, IndexError):
        text = template.split("（")[0].split("：")[0]
    return f"字段 {where}：{text}"

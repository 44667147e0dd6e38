"""Phrase rules for the Art 11 special cases and the district gazetteer (pure).

Emergencies must be caught with near-perfect recall, so the phrases are broad and the agent
confirms; each hit carries the phrase that matched as its evidence.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path

# Art 11(1): which number takes which emergency; the first listed wins when several match
# (a traffic accident with injuries goes to 122, which brings 120).
EMERGENCIES: list[tuple[str, str, str]] = [
    (
        "119",
        "fire or gas",
        r"(?<!不)着火|起火|失火|火灾(?!隐患)|冒烟|烧起来|烧着|火苗|火情|浓烟|爆炸|"
        r"(燃气|煤气|天然气).{0,6}(泄漏|泄露|漏气|味)|漏气|困在电梯|电梯.{0,4}困|被困|溺水|掉进(河|井|水)",
    ),
    (
        "122",
        "traffic accident",
        r"车祸|撞车|追尾|交通事故|翻车|肇事|逃逸|被.{0,8}撞|"
        r"(车|车子|汽车|货车|电动车|摩托车).{0,6}撞|撞(了|到|倒|伤|死)",
    ),
    (
        "110",
        "crime in progress",
        r"抢劫|(被|刚)抢|抢(了|走|包|钱)|打人|打架|斗殴|"
        r"(拿|持|带)(着|了)?(刀|棍|枪|铁棒|凶器)|刀砍|砍人|行凶|砸(门|车|店)|闯进|撬|小偷|入室盗窃|偷(了|走)|绑架|打起来|"
        r"家暴|打(老婆|老公|孩子|小孩|我)|要打我|非法拘禁|杀人|要杀|救命|跟踪|勒索|威胁|"
        r"要跳(下去|楼|河|江)|轻生|自杀|跳楼",
    ),
    (
        "120",
        "medical",
        r"受伤|流血|出血|晕倒|昏倒|昏迷|叫不醒|不省人事|心脏病|抽搐|中毒|"
        r"呼吸困难|喘不上气|急救|救护车|骨折|摔伤|摔倒|快不行了|没有呼吸|没气了|割腕",
    ),
]
LEGAL_CHANNEL = (
    r"起诉|诉讼|打官司|法院|判决|仲裁|行政复议|信访|上访|纪委|监察委|纪检|政府信息公开|依申请公开"
)
PARTY_ORGANS = r"党委|党组织|党支部|人大代表|人大常委|政协委员|政协|部队|军队|军人|武警|军区"
CONFIDENTIAL = (
    r"国家秘密|涉密|商业秘密|个人隐私|(他人|别人|前夫|前妻|邻居)的?(电话|住址|地址|身份证|行踪)|"
    r"查.{0,10}(住址|地址|电话|手机号|行踪|身份信息)"
)


@dataclass(frozen=True)
class RuleHit:
    disposition: str
    emergency_number: str | None
    evidence: str
    rule: str
    confidence: float = 0.9


def special_case(text: str) -> RuleHit | None:
    """The Art 11 case a call's words point to, if any (emergency first)."""
    for number, kind, pattern in EMERGENCIES:
        match = re.search(pattern, text)
        if match:
            return RuleHit("emergency", number, match.group(0), f"art11_1_{kind.replace(' ', '_')}")
    for disposition, pattern, rule in (
        ("legal_channel", LEGAL_CHANNEL, "art11_2"),
        ("party_organs", PARTY_ORGANS, "art11_3"),
        ("confidential", CONFIDENTIAL, "art11_5"),
    ):
        match = re.search(pattern, text)
        if match:
            return RuleHit(disposition, None, match.group(0), rule)
    return None


@dataclass(frozen=True)
class Place:
    district: str
    street: str | None
    evidence: str


@cache
def _gazetteer() -> dict[str, list[str]]:
    data = json.loads((Path(__file__).parent / "gazetteer.json").read_text())
    return {d["name"]: d["places"] for d in data["districts"]}


def locate(*texts: str | None) -> Place | None:
    """Guangzhou's district (and street or town) named in the words or the address.

    A district named in full wins; otherwise the longest place name found decides.
    """
    joined = " ".join(t for t in texts if t)
    gazetteer = _gazetteer()
    named = [d for d in gazetteer if d in joined]
    candidates = [
        (place, district)
        for district, places in gazetteer.items()
        if not named or district in named
        for place in places
        if place in joined
    ]
    if candidates:
        place, district = max(candidates, key=lambda c: len(c[0]))
        street = place if place.endswith(("街道", "镇")) else None
        return Place(district, street, place)
    if named:
        return Place(named[0], None, named[0])
    for district in gazetteer:
        short = district.removesuffix("区")
        if short in joined:
            return Place(district, None, short)
    return None

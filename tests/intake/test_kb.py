"""The knowledge base (Art 10): repaired imports, search for consultations, kept entries."""

from pathlib import Path

import pytest
from intake.kb import answers, terms
from intake.kb.normalise import leftover_artefacts, normalise, split_passages

from shared.auth import Role

ROOT = Path(__file__).resolve().parents[2]
SEEDS = sorted((ROOT / "data" / "kb").glob("*.txt"))
QUESTIONS = [
    line.split("|")
    for line in (Path(__file__).parent / "kb_questions.txt").read_text().splitlines()
]
# Measured: 19 of the 20 questions find their passage in the top 3 (the miss asks about
# "投诉举报" while Art 17 says "其他热线事项"). The test holds the rate there.
TOP3_RATE = 0.95


@pytest.mark.parametrize("seed", SEEDS, ids=lambda p: p.stem)
def test_every_seed_document_imports_without_a_leftover_artefact(seed):
    repaired = normalise(seed.read_text())
    assert leftover_artefacts(repaired) == []
    assert not any(ch in repaired for ch in "ꎬꎮꎻ«»０１２３４５６７８９")
    assert "本文与正式文件同等效力" not in repaired
    assert split_passages(repaired, title=seed.stem)


def test_repairs_punctuation_digits_footers_and_broken_lines():
    raw = (
        "第二条　 本市 １２３４５ 政务服务便民热线ꎬ 是指 ２４ 小时\n\n公共服务平台ꎮ\n"
        "１１(本文与正式文件同等效力)\n"
        " 第三条　 依照 «中华人民共和国测绘法» 比例尺 １ ∶ ５００ꎻ 增长 ３\U001001b0 ４％ꎮ\n"
    )
    assert normalise(raw).splitlines() == [
        "第二条 本市12345政务服务便民热线，是指24小时公共服务平台。",
        "第三条 依照《中华人民共和国测绘法》比例尺1 : 500；增长3.4%。",
    ]


def test_a_gazettes_next_document_does_not_run_into_the_last_article():
    """A gazette prints one measure after another: the next one's order and notice begin
    after 公开方式:主动公开 and are filed under the title they name, not the last article."""
    text = normalise(
        "第四十四条 本办法自2022年10月1日起施行。\n"
        "公开方式:主动公开广州市人民政府令第191号《广州市政务服务便民热线管理办法》"
        "已经市人民政府常务会议通过，现予公布。\n"
        "广州市政务服务便民热线管理办法\n"
        "第一条 为了规范政务服务便民热线建设和管理，制定本办法。\n"
    )
    passages = split_passages(text, title="广州市测绘地理信息管理办法")
    assert [(p.section, p.text[:8]) for p in passages] == [
        ("广州市测绘地理信息管理办法 第四十四条", "第四十四条 本办"),
        ("广州市政务服务便民热线管理办法", "广州市人民政府令"),
        ("广州市政务服务便民热线管理办法 第一条", "第一条 为了规范"),
    ]


def test_bm25_counts_a_repeated_term_less_each_time_and_discounts_a_long_text():
    weights = {"延期": 2.0, "热线": 1.0}
    once = answers.bm25(["延期"], weights, ["延期", "办理"], mean_length=2)
    assert once == pytest.approx(2.0)  # a text of average length holding the term once: its IDF
    twice = answers.bm25(["延期"], weights, ["延期", "延期"], mean_length=2)
    assert once < twice < 2 * once
    longer = answers.bm25(["延期"], weights, ["延期", "办理", "期限", "回复"], mean_length=2)
    assert longer < once
    assert answers.bm25(["热线"], weights, ["延期"], mean_length=1) == 0.0


def test_passages_keep_their_headings():
    text = normalise((ROOT / "data/kb/hotline-measures-order-191.txt").read_text())
    passages = split_passages(text, title="热线管理办法")
    article_14 = next(p for p in passages if p.text.startswith("第十四条"))
    assert article_14.section.endswith("第十四条")
    assert "2个工作日内" in article_14.text


async def test_consultation_questions_find_their_passage_in_the_top_3(intake_app, client_for):
    found = 0
    async with client_for(intake_app, Role.AGENT) as client:
        for question, expected in QUESTIONS:
            hits = (await client.get("/v1/kb/search", params={"q": question, "limit": 3})).json()
            found += any(expected in (h["section"] or "") + h["text"][:80] for h in hits["items"])
            assert all(h["source"] and h["score"] > 0 for h in hits["items"])
    assert len(QUESTIONS) == 20
    assert found / len(QUESTIONS) >= TOP3_RATE


async def test_a_document_imports_once_and_is_searchable(intake_app, client_for):
    raw = "广州市示例停车管理办法\n第一条　 夜间临时停车ꎬ 每小时收费 ２ 元ꎮ\n"
    body = {"title": "示例停车办法", "source_name": "parking.pdf", "text": raw}
    async with client_for(intake_app, Role.ADMIN) as admin:
        first = await admin.post("/v1/kb/documents", json={**body, "owning_unit": "city-transport"})
        again = await admin.post("/v1/kb/documents", json=body)
        hits = (await admin.get("/v1/kb/search", params={"q": "夜间临时停车怎么收费"})).json()
    assert first.status_code == 201
    assert first.json()["created"] and first.json()["leftover_artefacts"] == []
    assert again.json()["id"] == first.json()["id"] and not again.json()["created"]
    assert hits["items"][0]["text"] == "第一条 夜间临时停车，每小时收费2元。"
    assert hits["items"][0]["source"] == "示例停车办法"


async def test_a_document_split_before_the_splitter_changed_is_split_again(session, clock):
    """Art 10: re-importing a document that an older splitter cut otherwise gives it today's
    passages; the old ones stay for the tickets that cite them (Art 13(1)) but are neither
    searched nor citable by a new ticket."""
    from intake.kb import service
    from intake.kb.models import KbPassage
    from sqlalchemy import select

    raw = (
        "广州市示例管理办法\n第一条 本办法自2022年1月1日起施行。\n"
        "公开方式:主动公开广州市人民政府令第9号《广州市另一示例办法》已经通过。\n"
    )
    args = {"title": "示例办法", "source_name": "x.txt", "raw": raw, "owning_unit": None}
    document, _, _ = await service.import_document(session, **args, actor="test", now=clock.now())
    # As the splitter before 2026-12-07 left it: the next document's order ran into Art 1.
    for passage in await session.scalars(
        select(KbPassage).where(KbPassage.document_id == document.id)
    ):
        await session.delete(passage)
    glued = KbPassage(
        document_id=document.id,
        position=0,
        section="广州市示例管理办法 第一条",
        text="第一条 本办法自2022年1月1日起施行。公开方式:主动公开广州市人民政府令第9号",
        terms="本办法 施行 公开 广州市 人民政府 令",
    )
    session.add(glued)
    await session.flush()

    again, _, created = await service.import_document(
        session, **args, actor="test", now=clock.now()
    )
    held = (
        await session.scalars(select(KbPassage).where(KbPassage.document_id == document.id))
    ).all()
    assert again.id == document.id and not created
    assert glued.retired_at == clock.now()
    assert [p.text[:8] for p in held if p.retired_at is None] == [
        "第一条 本办法自",
        "广州市人民政府令",
    ]
    assert again.passages == 2
    assert not await service.answer_exists(session, str(glued.id))
    hits = await service.search(session, "示例办法什么时候施行", limit=5, today=clock.now().date())
    assert hits and glued.id not in {int(h["id"]) for h in hits if h["kind"] == "passage"}
    # Imported again unchanged: nothing more is retired or added.
    await service.import_document(session, **args, actor="test", now=clock.now())
    count = len(
        (await session.scalars(select(KbPassage).where(KbPassage.document_id == document.id))).all()
    )
    assert count == 3


async def test_entries_are_kept_by_their_unit_reviewed_and_versioned(intake_app, client_for):
    entry = {
        "question": "夜间施工噪音找哪个部门投诉？",
        "answer": "由所在区城市管理和综合执法局受理。",
    }
    async with client_for(intake_app, Role.UNIT, "tianhe-urban") as unit:
        created = (await unit.post("/v1/kb/entries", json=entry)).json()
        draft_hits = (await unit.get("/v1/kb/search", params={"q": "夜间施工噪音投诉"})).json()
    async with client_for(intake_app, Role.DISPATCHER) as reviewer:
        await reviewer.post(f"/v1/kb/entries/{created['id']}/review", json={"status": "approved"})
        hits = (await reviewer.get("/v1/kb/search", params={"q": "夜间施工噪音投诉"})).json()
    async with client_for(intake_app, Role.UNIT, "haizhu-urban") as other:
        foreign = await other.put(f"/v1/kb/entries/{created['id']}", json=entry)
    async with client_for(intake_app, Role.UNIT, "tianhe-urban") as unit:
        updated = (
            await unit.put(
                f"/v1/kb/entries/{created['id']}",
                json={**entry, "answer": "由区城管执法局受理，夜间可拨打12345。"},
            )
        ).json()
    assert created["owning_unit"] == "tianhe-urban" and created["review_status"] == "draft"
    assert all(h["id"] != created["id"] for h in draft_hits["items"])
    assert hits["items"][0]["id"] == created["id"] and hits["items"][0]["kind"] == "entry"
    assert foreign.status_code == 403
    assert (updated["version"], updated["review_status"]) == (2, "draft")
    assert [v["version"] for v in updated["versions"]] == [1, 1, 2]


async def test_an_expired_entry_is_not_offered(intake_app, client_for):
    entry = {"question": "2020年消费券怎么领？", "answer": "活动已结束。", "valid_to": "2020-12-31"}
    async with client_for(intake_app, Role.ADMIN) as admin:
        created = (
            await admin.post("/v1/kb/entries", json={**entry, "owning_unit": "city-amr"})
        ).json()
        await admin.post(f"/v1/kb/entries/{created['id']}/review", json={"status": "approved"})
        hits = (await admin.get("/v1/kb/search", params={"q": "消费券怎么领"})).json()
    assert all(h["id"] != created["id"] for h in hits["items"])


async def test_search_input_is_checked(intake_app, client_for):
    async with client_for(intake_app) as anonymous:
        assert (await anonymous.get("/v1/kb/search", params={"q": "热线"})).status_code == 401
    async with client_for(intake_app, Role.AGENT) as agent:
        assert (await agent.get("/v1/kb/search", params={"q": ""})).status_code == 422
        assert (await agent.get("/v1/kb/search", params={"q": "的了吗"})).json()["items"] == []
        assert (
            await agent.post("/v1/kb/entries", json={"question": "x", "answer": "y"})
        ).status_code == 403


async def test_the_review_desk_lists_the_entries_awaiting_review(intake_app, client_for):
    async with client_for(intake_app, Role.UNIT, "tianhe-urban") as unit:
        first = await unit.post("/v1/kb/entries", json={"question": "甲？", "answer": "甲。"})
        second = await unit.post("/v1/kb/entries", json={"question": "乙？", "answer": "乙。"})
    async with client_for(intake_app, Role.DISPATCHER) as reviewer:
        await reviewer.post(
            f"/v1/kb/entries/{first.json()['id']}/review", json={"status": "approved"}
        )
        drafts = (await reviewer.get("/v1/kb/entries", params={"review_status": "draft"})).json()
        everything = (await reviewer.get("/v1/kb/entries")).json()
        unknown = await reviewer.get("/v1/kb/entries", params={"review_status": "pending"})
    assert [e["id"] for e in drafts["items"]] == [second.json()["id"]]
    assert {e["id"] for e in everything["items"]} == {first.json()["id"], second.json()["id"]}
    assert unknown.status_code == 422


def _questions(name: str) -> list[list[str]]:
    lines = (Path(__file__).parent / name).read_text().splitlines()
    return [line.split("|") for line in lines if line and not line.startswith("#")]


def test_a_passage_is_cut_into_sentences_and_the_answering_one_is_chosen():
    """Art 10, 13(1): the agent reads out the sentence that answers, not a cut passage."""
    article_18 = (
        "第十八条 承办单位无法按期办理的，应当在办理期限届满前通过热线信息系统办理延期，"
        "并告知诉求人延期的理由和办理期限。延期以2次为限，每次延期期限与办理期限相同。"
    )
    assert len(answers.sentences(article_18)) == 2
    weights = {"延期": 1.0, "几次": 3.0}
    # Both sentences cover "延期" alone ("几次" is in neither): asked how many times, the one
    # with the number answers; asked nothing countable, the first.
    assert answers.asks_number("热线事项可以延期几次？")
    chosen = answers.best_sentence(article_18, ["延期", "几次"], weights, wants_number=True)
    assert chosen == "延期以2次为限，每次延期期限与办理期限相同。"
    assert answers.best_sentence(article_18, ["延期", "几次"], weights).startswith("第十八条")
    assert answers.covered(["延期", "社保卡"], {"延期": 1.0, "社保卡": 3.0}, {"延期"}) == 0.25


async def test_a_question_the_knowledge_base_cannot_answer_is_told_so(intake_app, client_for):
    async with client_for(intake_app, Role.AGENT) as client:
        none = (await client.get("/v1/kb/search", params={"q": "护照丢了怎么补办？"})).json()
        some = (await client.get("/v1/kb/search", params={"q": "热线事项可以延期几次？"})).json()
    assert not none["answered"] and not any(h["relevant"] for h in none["items"])
    assert some["answered"]
    article_18 = next(h for h in some["items"] if "第十八条" in (h["section"] or ""))
    assert (
        article_18["sentence"] in article_18["text"] and "延期以2次为限" in article_18["sentence"]
    )


# Figures per question file (docs/classification.md), held as floors: first, in the top 3,
# counted as an answer there, and questions it cannot answer told so. kb_fresh_2026-12-07 and
# b were fresh once, steered decisions (their misses were read) and now only guard, like the
# development file e (callers' everyday words); c and d were written before BM25 ordering and
# the last synonyms, f after them and before anything since, and none of them tuned on.
@pytest.mark.parametrize(
    ("name", "sizes", "floors"),
    [
        ("kb_fresh_2026-12-07.txt", (50, 15), (42, 47, 42, 13)),
        ("kb_fresh_2026-12-07b.txt", (35, 10), (30, 35, 32, 8)),
        ("kb_fresh_2026-12-07c.txt", (53, 12), (47, 49, 48, 12)),
        ("kb_fresh_2026-12-07d.txt", (52, 12), (44, 49, 45, 12)),
        ("kb_dev_2026-12-07e.txt", (30, 0), (12, 24, 15, 0)),
        ("kb_fresh_2026-12-07f.txt", (63, 12), (48, 57, 49, 12)),
        ("kb_fresh_2026-12-07g.txt", (60, 12), (45, 55, 45, 10)),
    ],
)
async def test_the_fresh_questions_are_answered_or_told_there_is_no_good_answer(
    intake_app, client_for, name, sizes, floors
):
    questions = _questions(name)
    top1 = top3 = answered = told_none = 0
    async with client_for(intake_app, Role.AGENT) as client:
        for question, expected in questions:
            found = (await client.get("/v1/kb/search", params={"q": question, "limit": 3})).json()
            if expected == "-":
                told_none += not found["answered"]
                continue
            right = [expected in (h["section"] or "") + h["text"][:80] for h in found["items"]]
            top1 += bool(right[:1] and right[0])
            top3 += any(right)
            answered += any(r and h["relevant"] for r, h in zip(right, found["items"], strict=True))
    unanswerable = sum(e == "-" for _, e in questions)
    assert (len(questions) - unanswerable, unanswerable) == sizes
    measured = (top1, top3, answered, told_none)
    assert all(m >= f for m, f in zip(measured, floors, strict=True)), measured


def test_a_question_in_callers_words_finds_the_measures_wording():
    """Art 10: callers say 实施 and 辱骂 where the Measures say 施行 and 侮辱; "what is X" is
    answered where a measure says 本办法所称X."""
    assert terms.alternatives("实施") == ("实施", "施行")
    assert terms.alternatives("热线") == ("热线",)
    assert terms.alternatives("国企") == ("国企", "国有企业")
    assert terms.alternatives("单子") == ("单子", "事项")
    assert terms.matched(["实施", "办法", "热线"], ["办法", "施行"]) == {"实施", "办法"}
    assert terms.question_terms("什么是双号并行单位？")[-1] == "所称"
    assert "所称" not in terms.question_terms("双号并行单位要做什么？")

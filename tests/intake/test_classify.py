"""Classification (Art 11): phrase rules, cues and model, places, related tickets."""

import pytest
from intake.classify.model import TrainedModel, shipped_examples, shipped_specials
from intake.classify.rules import locate, special_case
from intake.classify.service import evaluate_on_sets, retrain
from sqlalchemy import text

from shared.auth import Role
from shared.vocabulary import TicketType
from tests.intake.conftest import CALL


@pytest.mark.parametrize(
    ("text", "disposition", "number"),
    [
        ("我家厨房着火了", "emergency", "119"),  # Art 11(1)
        ("楼道里有很浓的煤气味", "emergency", "119"),
        ("路口两辆车撞了，有人被卡在车里", "emergency", "122"),
        ("有人拿着刀在街上追人", "emergency", "110"),
        ("我爸突然晕倒了，叫不醒", "emergency", "120"),
        ("厨房的插座一直冒火，关了总闸都没用", "emergency", "119"),
        ("挖掘机把燃气管挖断了，一直在喷", "emergency", "119"),  # a broken gas main, not a crash
        ("停车场有台电动车自燃，旁边还有好多车", "emergency", "119"),
        ("三台车在立交桥上连环相撞，有一台车起火了", "emergency", "122"),  # a crash first: 122
        ("我阿爷在厕所跌倒了，头撞到流血，叫不醒", "emergency", "120"),  # a head struck: no crash
        ("一艘货船在虎门大桥下面冒烟，船员在甲板上招手", "emergency", "12395"),
        ("电动车在楼道里充电爆了，整个楼梯都是烟", "emergency", "119"),
        ("细佬误食了老鼠药，一直在吐", "emergency", "120"),
        ("他们把我关在仓库，不放我走", "emergency", "110"),
        ("司机把车锁了，不给我下车", "emergency", "110"),
        ("我阿公突然口歪眼斜，讲话含糊", "emergency", "120"),
        ("一条游船撞到了码头，船身裂开了", "emergency", "12395"),
        ("我想起诉开发商，要去哪个法院", "legal_channel", None),  # Art 11(2)
        ("对处罚决定不服，怎么申请行政复议", "legal_channel", None),
        ("想申请公开我们村土地征收的批文", "legal_channel", None),
        ("我要反映一个人大代表的问题", "party_organs", None),  # Art 11(3)
        ("附近军营的训练场每天早上打靶，声音好大", "party_organs", None),  # the army's
        ("帮我查一下前夫现在的住址和电话", "confidential", None),  # Art 11(5)
    ],
)
def test_art11_phrase_rules_name_the_case_and_the_number(text, disposition, number):
    hit = special_case(text)
    assert hit is not None and (hit.disposition, hit.emergency_number) == (disposition, number)
    assert hit.evidence in text


@pytest.mark.parametrize(
    "text", ["燃气灶打不着火，燃气公司电话打不通", "楼道堆满杂物，有消防隐患", "工地晚上施工太吵了"]
)
def test_ordinary_matters_are_not_special_cases(text):
    assert special_case(text) is None


def test_places_come_from_the_gazetteer():
    assert locate("林和街道办旁边的工地").district == "天河区"
    assert locate("住在白云区京溪").district == "白云区"  # a named district wins
    assert locate("no place at all") is None


@pytest.fixture(scope="module")
def model():
    return TrainedModel.fit(shipped_examples())


@pytest.fixture(scope="module")
def measured(model):
    return evaluate_on_sets(model)[1]


@pytest.mark.parametrize(
    ("text", "disposition"),
    [
        ("我家楼下的餐馆着火了，烟冲到楼上", "emergency"),  # Art 11(1): happening now
        ("去年我们村的仓库着火以后，到现在都没有装消防栓", None),  # told of the past
        ("万一电梯困人了要打哪个电话", None),  # asked about
        ("上个礼拜我阿妈晕倒送去医院，到现在都查不出原因", None),  # told of the past
        ("新买的暖风机用了一次就冒烟，差点着火，商家不肯退", None),  # a near miss, a shop
        ("叫救护车收了我八百块急救费，比规定的高好多", None),  # the service complained of
        ("路口的红绿灯杆被车撞弯了，一直没人修", None),  # damage, long standing
        ("追尾的事交警已经处理完了，对方保险一直不赔", None),  # over
        ("楼道里好多人给电动车充电，插排拉得乱七八糟，好怕着火", None),  # a fear
        ("这个弯道出过几次交通事故，建议装个反光镜", None),  # happened before; a suggestion
        ("去年的交通事故已经起诉到法院了，我想问判决什么时候出", "legal_channel"),  # Art 11(2)
        ("我的交通事故赔偿案子已经在法院审了，想你们帮我催一下法官", "legal_channel"),
        ("附近那个木材厂晚上偷偷烧废料，黑烟冲天，味道很呛", None),  # wrongdoing reported
    ],
)
def test_an_emergency_told_of_the_past_or_asked_about_is_no_alarm(model, text, disposition):
    """Art 11(1) is for what is happening: an emergency's words in a call about the past or
    about what to do if, which the model does not read as an emergency, raise no alarm; the
    call's other Art 11 case, if any, still counts."""
    from intake.classify.suggest import special_of

    assert special_case(text).disposition == "emergency"  # the phrase alone would alarm
    hit = special_of(model, text)
    assert (hit.disposition if hit else None) == disposition


@pytest.mark.parametrize(
    "text",
    [
        "前几天我的车在停车场被人刮了，报了警，警察来了拍了照就走了",
        "家里老人被骗买了保健品，钱已经转过去了，现在去哪里报案比较好",
    ],
)
def test_the_models_own_reading_of_an_emergency_told_of_the_past_is_no_alarm(model, text):
    """Art 11(1): the past or a question where to go is no emergency, whether a phrase or the
    model alone reads one."""
    from intake.classify.suggest import EMERGENCY_THRESHOLD, special_of

    assert special_case(text) is None
    assert model.disposition_probabilities(text)["emergency"] >= EMERGENCY_THRESHOLD
    assert special_of(model, text) is None


def test_the_tuned_evaluation_sets_stay_where_they_were_tuned(measured):
    """Regression guard on the sets that steered the rules and the corpus (once fresh; see
    docs/classification.md): every emergency of them is still caught."""
    names = ("tuned-1", "tuned-2", "tuned-4", "tuned-5", "tuned-6", "tuned-7", "tuned-8", "tuned-9")
    for name in names:
        assert measured[name]["emergency_recall"] == 1.0, name
    # A missing child is a 110 case there; the corpus (like tuned-1's 走失 elders) has it normal.
    assert measured["tuned-3"]["emergency_recall"] >= 0.93
    assert measured["tuned-1"]["type_accuracy"] >= 0.95
    # Since the corpus's types follow the stated rule, tuned-2's "milk past its date still on
    # sale" reads as a report (someone's unlawful sale) against its older label, a complaint.
    assert measured["tuned-2"]["type_accuracy"] >= 0.9
    assert measured["tuned-1"]["false_special_on_normal"] <= 4
    assert measured["tuned-6"]["category_accuracy"] >= 0.9
    assert measured["tuned-7"]["false_alarms_on_hard_negatives"] <= 2
    assert measured["tuned-7"]["type_accuracy"] >= 0.87
    assert measured["tuned-8"]["disposition_accuracy"] == 1.0
    assert measured["tuned-8"]["false_alarms_on_hard_negatives"] == 0
    assert measured["tuned-9"]["false_alarms_on_hard_negatives"] <= 3
    assert measured["tuned-9"]["type_accuracy"] >= 0.88


AT_MOST = (
    "category_calibration_error",
    "false_alarms_marked_confident",
    "false_alarms_on_hard_negatives",
)


@pytest.mark.parametrize(
    ("name", "floors"),
    [
        (
            "fresh-8",
            {
                "emergency_recall": 1.0,
                "emergency_number_right": 1.0,
                "category_accuracy": 0.9,
                "category_top3": 0.98,
                "type_accuracy": 0.87,
                "disposition_accuracy": 0.96,
                "category_calibration_error": 0.075,
                "false_alarms_marked_confident": 3,
                "false_alarms_on_hard_negatives": 3,
            },
        ),
        (
            "fresh-9",
            {
                "emergency_recall": 1.0,
                "emergency_number_right": 1.0,
                "category_accuracy": 0.9,
                "category_top3": 0.98,
                "type_accuracy": 0.96,
                "disposition_accuracy": 0.95,
                "category_calibration_error": 0.1,
                "false_alarms_marked_confident": 1,
                "false_alarms_on_hard_negatives": 2,
            },
        ),
        (
            "fresh-10",
            {
                "emergency_recall": 1.0,
                "emergency_number_right": 1.0,
                "category_accuracy": 0.8,
                "category_top3": 0.91,
                "type_accuracy": 0.8,
                "disposition_accuracy": 0.93,
                "category_calibration_error": 0.08,
                "false_alarms_marked_confident": 0,
                "false_alarms_on_hard_negatives": 4,
            },
        ),
    ],
)
def test_the_fresh_set_figures_reported_in_docs_hold(measured, name, floors):
    """Each fresh set measured with the current classifier and never tuned on
    (docs/classification.md): the figures reported there, as floors (or ceilings, for errors
    and false alarms), so that a change that loses them is seen."""
    for key, bound in floors.items():
        got = measured[name][key]
        assert got <= bound if key in AT_MOST else got >= bound, (key, got)


async def test_classify_answers_the_contract(intake_app, client_for):
    async with client_for(intake_app, Role.AGENT) as agent:
        answer = (
            await agent.post(
                "/v1/classify",
                json={
                    "text": "林和西路工地每天晚上十一点以后还在打桩，吵得睡不着",
                    "address": "天河区林和西路",
                },
            )
        ).json()
    assert answer["type"]["value"] == "complaint"
    assert answer["category"]["value"] == "noise.construction"
    assert answer["category"]["evidence"].startswith("phrase")
    assert answer["category"]["words"][0] in "林和西路工地每天晚上十一点以后还在打桩，吵得睡不着"
    assert answer["disposition"]["value"] == "normal"
    assert answer["district"]["value"] == "天河区"
    assert answer["model_version"].startswith("chargram-svm-")


async def test_an_emergency_says_which_number(intake_app, client_for):
    async with client_for(intake_app, Role.AGENT) as agent:
        answer = (await agent.post("/v1/classify", json={"text": "对面楼着火了，好大的烟"})).json()
    assert answer["disposition"]["value"] == "emergency"
    assert answer["disposition"]["emergency_number"] == "119"
    assert not answer["disposition"]["low_confidence"]


async def test_an_emergency_phrase_the_model_doubts_is_offered_with_low_confidence(
    intake_app, client_for
):
    async with client_for(intake_app, Role.AGENT) as agent:
        answer = (
            await agent.post("/v1/classify", json={"text": "这个路口交通事故多，一直没有装红绿灯"})
        ).json()
    assert answer["disposition"]["value"] == "emergency"  # not told of the past: kept
    assert answer["disposition"]["low_confidence"]


async def test_a_consultation_gets_knowledge_base_answers(intake_app, client_for):
    async with client_for(intake_app, Role.AGENT) as agent:
        answer = (
            await agent.post("/v1/classify", json={"text": "请问热线事项可以延期几次？"})
        ).json()
    assert answer["type"]["value"] == "consultation"
    assert any("第十八条" in (m["section"] or "") for m in answer["kb_matches"])


async def test_art11_4_and_art22_related_tickets_of_the_same_caller(intake_app, client_for):
    async with client_for(intake_app, Role.AGENT) as agent:
        await agent.post("/v1/tickets", json=CALL)
        answer = (
            await agent.post(
                "/v1/classify", json={"text": CALL["text"], "caller_phone": "138 1234 5678"}
            )
        ).json()
    assert answer["disposition"]["value"] == "in_progress"
    assert answer["related_tickets"][0]["relation"] == "in_progress"


async def test_retraining_stores_an_active_model_with_its_metrics(session, clock):
    report, model = await retrain(session, now=clock.now(), by="test")
    assert "precision" in report and "fresh-8" in report
    assert model.trained_on == len(shipped_examples()) + len(shipped_specials())


async def test_the_first_model_is_stored_at_migrate_and_loaded_from_the_database(session):
    """The run's database was migrated and loaded like a stack's: its model is there, and a
    process that has not seen it loads the stored bytes (no request trains)."""
    from intake.classify import service as classify

    stored = await session.scalar(text("SELECT version FROM intake.classifier_model WHERE active"))
    assert stored is not None
    classify._LOADED.pop(stored, None)  # as a new process: nothing loaded yet
    model = await classify.ModelCache().get(session)
    assert model.version == stored
    (ticket_type, _), *_ = model.ranked("types", "林和西路工地夜间施工噪音扰民")
    assert ticket_type in {t.value for t in TicketType}


async def test_readyz_waits_for_the_warm_model_and_a_request_never_trains(
    intake_app, client_for, session, clock
):
    await session.execute(text("UPDATE intake.classifier_model SET active = false"))
    async with client_for(intake_app) as anonymous:
        cold = await anonymous.get("/readyz")
    async with client_for(intake_app, Role.AGENT) as agent:
        refused = await agent.post("/v1/classify", json={"text": "路灯不亮"})
    await intake_app.state.model_cache.warm(intake_app.state.sessions, now=clock.now())
    async with client_for(intake_app) as anonymous:
        warm = await anonymous.get("/readyz")
    async with client_for(intake_app, Role.AGENT) as agent:
        answered = await agent.post("/v1/classify", json={"text": "路灯不亮"})
    assert (cold.status_code, cold.json()["reason"]) == (503, "classifier warming up")
    assert refused.status_code == 503 and refused.headers["retry-after"] == "2"
    assert refused.json()["error"]["code"] == "classifier_not_ready"
    assert warm.status_code == 200 and answered.status_code == 200
    active = await session.scalar(text("SELECT count(*) FROM intake.classifier_model WHERE active"))
    assert active == 1  # the warm-up trained and stored one, for every replica


def test_a_model_is_stored_in_skops_format_and_nothing_untrusted_is_loaded():
    """Issue 18: no pickle. A stored model is a skops file; a pickle, or a skops file that
    holds a type skops does not trust, is refused instead of run."""
    import pickle
    import zipfile

    import skops.io

    model = TrainedModel.fit(shipped_examples()[:60])
    blob = model.dumps()
    assert zipfile.is_zipfile(__import__("io").BytesIO(blob))
    assert TrainedModel.loads(blob).ranked("categories", "路灯不亮")[0][0]
    with pytest.raises(ValueError):
        TrainedModel.loads(pickle.dumps({"types": model.types}))
    untrusted = skops.io.dumps({"version": "x", "types": _Stranger()})
    with pytest.raises(ValueError, match="not a trusted model"):
        TrainedModel.loads(untrusted)


class _Stranger:
    """A type no model holds."""


def test_a_new_model_may_not_do_worse_on_a_fresh_set():
    from intake.classify.model import regressions

    active = {
        "fresh-1": {"type_accuracy": 0.9, "category_accuracy": 0.8, "false_special_on_normal": 1},
        "tuned-1": {"type_accuracy": 0.95},
    }
    same = {"fresh-1": dict(active["fresh-1"]), "tuned-1": {"type_accuracy": 0.5}}
    assert regressions(same, active) == []  # a tuned set does not judge
    worse = {"fresh-1": {**active["fresh-1"], "category_accuracy": 0.79}}
    alarms = {"fresh-1": {**active["fresh-1"], "false_special_on_normal": 2}}
    assert regressions(worse, active) == ["fresh-1 category_accuracy: 0.79 against 0.8"]
    assert regressions(alarms, active) == ["fresh-1 false_special_on_normal: 2 against 1"]


async def test_a_worse_model_stays_inactive_until_forced_and_the_earlier_one_comes_back(
    session, clock, monkeypatch
):
    """Issue 18's governance: becomes active only if no worse on the fresh sets, or forced
    by an administrator (recorded); any stored model can be made active again."""
    from intake.classify import service as classify
    from intake.classify.models import ClassifierActivation
    from sqlalchemy import select

    from shared.errors import Conflict

    before = await session.scalar(text("SELECT version FROM intake.classifier_model WHERE active"))
    few = shipped_examples()[::3]
    monkeypatch.setattr(classify, "shipped_examples", lambda: few)
    report, weak = await retrain(session, now=clock.now(), by="test")
    active = await session.scalar(text("SELECT version FROM intake.classifier_model WHERE active"))
    assert "kept INACTIVE" in report and active == before
    with pytest.raises(Conflict):
        await classify.activate(session, weak.version, now=clock.now(), by="root")
    worse = await classify.activate(session, weak.version, now=clock.now(), by="root", force=True)
    active = await session.scalar(text("SELECT version FROM intake.classifier_model WHERE active"))
    assert active == weak.version and worse
    # Back to the earlier model (it may do worse on some measure than the weak one, say the
    # weak one's jumpier emergency guess: then the rollback too is forced, and recorded so).
    back = await classify.activate(session, before, now=clock.now(), by="root", force=True)
    active = await session.scalar(text("SELECT version FROM intake.classifier_model WHERE active"))
    assert active == before
    records = (
        await session.scalars(
            select(ClassifierActivation).order_by(ClassifierActivation.id.desc()).limit(2)
        )
    ).all()
    assert [(r.version, r.by, r.forced) for r in records] == [
        (before, "root", bool(back)),
        (weak.version, "root", True),
    ]
    assert records[1].regressions == worse


async def test_an_emergency_the_model_reads_shows_the_words_that_weighed(intake_app, client_for):
    """Issue 18: the reason an emergency is suspected is shown as words of the call."""
    async with client_for(intake_app, Role.AGENT) as agent:
        answer = (
            await agent.post("/v1/classify", json={"text": "我们的渔船在外海失去动力了，浪很大"})
        ).json()
    case = answer["disposition"]
    assert (case["value"], case["emergency_number"]) == ("emergency", "12395")  # Art 11(1) 等
    assert case["words"] and all(w in "我们的渔船在外海失去动力了，浪很大" for w in case["words"])


async def test_words_asking_after_a_matter_point_to_the_callers_open_ticket(intake_app, client_for):
    """Art 11(4): a caller asking about progress is told it, linked to the open ticket."""
    async with client_for(intake_app, Role.AGENT) as agent:
        taken = (await agent.post("/v1/tickets", json=CALL)).json()
        answer = (
            await agent.post(
                "/v1/classify",
                json={
                    "text": "我上个礼拜打电话反映过工地噪音的事，现在处理到哪一步了",
                    "caller_phone": "138 1234 5678",
                },
            )
        ).json()
    assert answer["disposition"]["value"] == "in_progress"
    assert answer["disposition"]["related_ticket"] == taken["number"]


def test_confidences_are_calibrated_and_the_top_three_offered():
    """A model's temperature is fitted on calls its folds never saw; the category is offered
    with two alternatives, the three summing to at most one."""
    from intake.classify.suggest import calibration_error, suggest

    model = TrainedModel.fit(shipped_examples()[::2])
    assert all(0.05 <= t <= 5.0 for t in model.temperatures.values())
    guess = suggest(model, "楼下烧烤店的油烟直接排进我家窗户").category
    assert len(guess.alternatives) == 3
    assert guess.confidence + sum(p for _, p in guess.alternatives) <= 1.001
    # Always right at confidence 1, never right at 0.5: off by 0 and by 0.5.
    assert calibration_error([(1.0, True)] * 4) == 0.0
    assert calibration_error([(0.5, False)] * 4) == 0.5

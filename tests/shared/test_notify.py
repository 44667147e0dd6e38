"""Notifications: templates, quiet hours, signatures, and what the notifier does with a
channel's due notifications (on the test database, with a recording channel)."""

import re
import string
from datetime import UTC, datetime, time, timedelta

import httpx
import pytest
from sqlalchemy import select

from shared.channels import Message, ReceiverDown, mask_address, tc3_authorization
from shared.clock import SHANGHAI, FixedClock
from shared.notify import (
    Notice,
    Notifications,
    Notifier,
    Route,
    due_text,
    quiet_until,
    render,
    templates,
)
from shared.outbox import Outbox
from shared.vocabulary import ChannelKind, NoticeKind

QUIET = {"start": time(22, 0), "end": time(8, 0)}


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=SHANGHAI)


def test_tc3_signature_matches_tencent_clouds_published_example():
    # The worked example of Tencent Cloud's "签名方法 v3" (CVM DescribeInstances, 2019-02-25).
    body = (
        b'{"Limit": 1, "Filters": [{"Values": ["\\u672a\\u547d\\u540d"], "Name": "instance-name"}]}'
    )
    header = tc3_authorization(
        secret_id="AKIDz8krbsJ5yKBZQpn74WFkmLPx3*******",
        secret_key="Gu5t9xGARNpq86cd98joQYCN3*******",
        host="cvm.tencentcloudapi.com",
        body=body,
        timestamp=1551113065,
        service="cvm",
    )
    assert header == (
        "TC3-HMAC-SHA256 Credential=AKIDz8krbsJ5yKBZQpn74WFkmLPx3*******/2019-02-25/cvm/"
        "tc3_request, SignedHeaders=content-type;host, "
        "Signature=2230eefd229f582d8b1b891af7107b91597240707d778ab3738f756258d7652c"
    )


@pytest.mark.parametrize(
    ("now", "until"),
    [
        ("2026-12-07 21:59", None),
        ("2026-12-07 22:00", "2026-12-08 08:00"),
        ("2026-12-08 03:00", "2026-12-08 08:00"),
        ("2026-12-08 07:59", "2026-12-08 08:00"),
        ("2026-12-08 08:00", None),
    ],
)
def test_sms_waits_out_the_quiet_hours_in_beijing_time(now, until):
    # The instant is given in UTC, as the services hold it: 22:00 in Guangzhou is 14:00 UTC.
    utc = at(now).astimezone(UTC)
    assert quiet_until(utc, **QUIET) == (at(until) if until else None)


def test_no_quiet_hours_when_they_start_and_end_at_once():
    assert quiet_until(at("2026-12-07 23:00"), start=time(0), end=time(0)) is None


def test_a_due_time_reads_as_the_end_of_its_working_day():
    # sla's due times are 24:00 of the due day, stored as the next day's 00:00.
    assert due_text(at("2026-12-09 00:00").astimezone(UTC)) == "2026年12月08日 24:00"
    assert due_text(at("2026-12-08 17:30")) == "2026年12月08日 17:30"
    assert due_text(None) == "待定"


def test_every_kind_has_its_texts_in_both_languages_and_its_sms_parameters_in_them():
    fields = lambda text: {f for _, f, _, _ in string.Formatter().parse(text) if f}  # noqa: E731
    for kind in NoticeKind:
        template = templates()[kind.value]
        zh, en = template["zh"], template["en"]
        assert fields(zh["title"] + zh["text"]) == fields(en["title"] + en["text"]), kind
        assert set(template["sms_params"]) <= fields(zh["title"] + zh["text"]), kind
        assert re.search(r"[\u4e00-\u9fff]", zh["text"]), kind


def test_a_missing_parameter_renders_empty_not_as_an_error():
    title, text = render(NoticeKind.FEEDBACK_SENT_BACK, {"number": "GZ1"})
    assert "GZ1" in title and text.endswith("退回重办：")


def test_the_sink_shows_addresses_masked():
    assert mask_address("13800138000") == "138****8000"
    assert mask_address("duty@tianhe.example") == "***@tianhe.example"
    assert mask_address("https://hooks.example/x?token=1") == "hooks.example"


class Recording:
    """A channel that keeps what it was asked to send (or fails while ``down``)."""

    def __init__(self) -> None:
        self.sent: list[Message] = []
        self.down = False

    async def send(self, message: Message) -> None:
        if self.down:
            raise ReceiverDown("receiver unreachable")
        self.sent.append(message)


@pytest.fixture
def channel():
    return Recording()


@pytest.fixture
async def deliver(session, settings, channel):
    """Queue notices on a test channel and hand its due outbox rows to a notifier."""
    notifications, outbox = Notifications("dispatch"), Outbox("dispatch")
    routes = {"kind": ChannelKind.SMS, "kinds": frozenset()}
    clock = FixedClock(at("2026-12-07 10:00"))
    http = httpx.AsyncClient()

    async def address(*_):
        return "+8613800138000"

    async def resolve(*_):
        return Route(channel, routes["kind"], address, kinds=routes["kinds"])

    notifier = Notifier(notifications, settings, http=http, now=clock.now, resolvers={"t": resolve})

    async def run(*notices: Notice, queued_at: datetime | None = None):
        now = queued_at or clock.now()
        await notifications.queue(session, outbox, notices, now=now, channel_ids=lambda _: ["t"])
        table = outbox.outbox
        rows = (
            (
                await session.execute(
                    select(table)
                    .where(table.c.destination == "notify:t", table.c.delivered_at.is_(None))
                    .order_by(table.c.seq)
                )
            )
            .mappings()
            .all()
        )
        outcomes = await notifier.deliver(session, "notify:t", rows)
        states = (
            await session.execute(
                select(notifications.records.c.state, notifications.records.c.last_error).order_by(
                    notifications.records.c.created_at
                )
            )
        ).all()
        return outcomes, states

    run.clock, run.routes, run.notifier = clock, routes, notifier
    yield run
    await http.aclose()


def notice(kind=NoticeKind.TICKET_ASSIGNED, **extra):
    return Notice(kind, "tianhe-urban", {"number": "GZ2612070001"}, ticket_id="t-1", **extra)


async def test_a_notification_is_sent_with_its_rendered_text_and_its_template_parameters(
    deliver, channel
):
    [outcome], [(state, error)] = await deliver(notice())
    assert outcome.done and outcome.error is None
    assert (state, error) == ("sent", None)
    [message] = channel.sent
    assert message.address == "+8613800138000"
    assert message.template_params[0] == "GZ2612070001" and "GZ2612070001" in message.title


async def test_sms_in_the_quiet_hours_waits_for_eight_unless_urgent(deliver, channel):
    deliver.clock.advance(timedelta(hours=13))  # 23:00 in Guangzhou
    [outcome], [(state, _)] = await deliver(notice())
    assert not outcome.done and outcome.retry_at == at("2026-12-08 08:00")
    assert state == "queued" and channel.sent == []
    outcomes, _ = await deliver(notice(urgent=True))
    assert outcomes[-1].done and len(channel.sent) == 1


async def test_a_webhook_is_not_held_to_the_quiet_hours(deliver, channel):
    deliver.routes["kind"] = ChannelKind.WEBHOOK
    deliver.clock.advance(timedelta(hours=13))
    [outcome], _ = await deliver(notice())
    assert outcome.done and len(channel.sent) == 1


async def test_a_kind_the_channel_does_not_take_is_skipped_not_sent(deliver, channel):
    deliver.routes["kinds"] = frozenset({NoticeKind.OVERDUE.value})
    [outcome], [(state, error)] = await deliver(notice())
    assert outcome.done and (state, error) == ("skipped", "channel off")
    assert channel.sent == []


async def test_a_receiver_that_is_down_keeps_the_notification_queued_with_the_reason(
    deliver, channel
):
    channel.down = True
    [outcome], [(state, error)] = await deliver(notice())
    assert not outcome.done and outcome.retry_at is None  # retried with back-off
    assert (state, error) == ("queued", "receiver unreachable")


async def test_a_notification_undelivered_past_its_time_to_live_is_failed(deliver, settings):
    long_ago = deliver.clock.now() - timedelta(hours=settings.notify_give_up_hours)
    [outcome], [(state, error)] = await deliver(notice(), queued_at=long_ago)
    assert outcome.done and state == "failed" and error.startswith("gave up after 72 h")


async def test_a_receiver_gets_no_more_than_its_rate(deliver, channel, settings):
    deliver.notifier.settings = settings.model_copy(update={"notify_rate_per_minute": 2})
    outcomes, _ = await deliver(notice(), notice(), notice())
    assert [o.done for o in outcomes] == [True, True, False]
    assert outcomes[2].retry_at is not None and len(channel.sent) == 2

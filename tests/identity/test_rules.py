"""The directory's time rules, pure."""

from datetime import UTC, datetime, timedelta

from identity import rules

NOW = datetime(2026, 12, 7, 9, 30, 15, 400_000, tzinfo=UTC)


def test_a_refresh_token_sent_twice_within_a_minute_is_two_tabs_later_a_copy():
    assert not rules.copied(NOW - timedelta(seconds=59), NOW)
    assert not rules.copied(NOW - timedelta(seconds=60), NOW)
    assert rules.copied(NOW - timedelta(seconds=61), NOW)


def test_a_sign_out_counts_every_token_of_its_second():
    stamp = rules.signed_out_from(NOW)
    assert stamp == datetime(2026, 12, 7, 9, 30, 16, tzinfo=UTC)
    issued_this_second = int(NOW.timestamp())
    assert issued_this_second < stamp.timestamp()  # refused
    assert int((NOW + timedelta(seconds=1)).timestamp()) >= stamp.timestamp()  # a new sign-in

"""The rules of citizens' own channels (Art 2: the website and apps are channels of the
hotline like the phone): points and their datum, the proof of work, rate windows, what a
progress answer tells, and photos stored without their metadata."""

import io
import random
from datetime import UTC, datetime, timedelta

import eviltransform
import pytest
from intake.citizens import photos
from intake.citizens.rules import (
    PublicStage,
    check_rate,
    checked_challenge,
    is_closed,
    issue_challenge,
    leading_zero_bits,
    phone_tail_matches,
    public_stage,
    publishable,
    solves,
    window_start,
)
from PIL import Image

from shared.catalogue import district_at
from shared.errors import BadInput, Forbidden, TooManyRequests
from shared.geo import Datum, Point, gcj02_to_wgs84, to_wgs84, wgs84_to_gcj02
from shared.vocabulary import TicketStatus

NOW = datetime(2026, 12, 7, 2, 0, 30, tzinfo=UTC)
KEY = b"k" * 32


# --- points ----------------------------------------------------------------------------------


def test_gcj02_agrees_with_an_independent_implementation():
    """eviltransform (another author's code) on 2,000 points across China: the same shift to
    within 1e-6 degrees (~10 cm; it uses the WGS-84 radius where the published formula
    uses Krasovsky's), and our inverse recovers the WGS-84 point."""
    rng = random.Random(7)
    for _ in range(2000):
        lat, lon = rng.uniform(18, 53), rng.uniform(74, 134)
        ours, theirs = wgs84_to_gcj02(lat, lon), eviltransform.wgs2gcj(lat, lon)
        assert ours == pytest.approx(theirs, abs=1e-6)
        assert gcj02_to_wgs84(*ours) == pytest.approx((lat, lon), abs=1e-8)


def test_a_gcj02_point_in_guangzhou_moves_by_hundreds_of_metres():
    """The shift is what makes the conversion matter: in Guangzhou about 500–600 m."""
    lat, lon = 23.1291, 113.2644  # Haizhu Square, as a Chinese map app gives it
    point = to_wgs84(lat, lon, Datum.GCJ02)
    metres = ((point.lat - lat) * 111_000, (point.lon - lon) * 102_000)
    assert 300 < (metres[0] ** 2 + metres[1] ** 2) ** 0.5 < 800
    assert to_wgs84(lat, lon, Datum.WGS84).lat == lat


@pytest.mark.parametrize(
    ("place", "lat", "lon", "district"),
    [
        ("Canton Tower, south of the river", 23.1059, 113.3192, "海珠区"),
        ("Tianhe Sports Centre", 23.1375, 113.3245, "天河区"),
        ("Chen Clan Academy", 23.1262, 113.2452, "荔湾区"),
        ("Yuexiu Park", 23.1396, 113.2653, "越秀区"),
        ("Guangzhou South Station", 22.9886, 113.2697, "番禺区"),
        ("Baiyun Airport's terminals (in Huadu)", 23.3924, 113.2988, "花都区"),
        ("Shenzhen, outside the city", 22.54, 114.06, None),
    ],
)
def test_a_points_district_comes_from_the_boundaries(place, lat, lon, district):
    """WGS-84 points of well-known places (their districts are common knowledge)."""
    assert district_at(Point(lat=lat, lon=lon)) == district


def test_outside_china_gcj02_is_the_identity():
    assert wgs84_to_gcj02(48.8566, 2.3522) == (48.8566, 2.3522)


# --- proof of work ---------------------------------------------------------------------------


def _solved(challenge: str) -> str:
    return next(str(n) for n in range(1_000_000) if solves(challenge, str(n)))


def test_leading_zero_bits():
    assert leading_zero_bits(b"\x00\x00\xff") == 16
    assert leading_zero_bits(b"\x00\x10") == 11
    assert leading_zero_bits(b"\x80") == 0


def test_a_solved_challenge_is_accepted_until_it_expires():
    challenge = issue_challenge(KEY, now=NOW, bits=8, ttl=timedelta(minutes=10))
    nonce = _solved(challenge)
    challenge_id, expires = checked_challenge(KEY, challenge, nonce, now=NOW, min_bits=8)
    assert challenge_id == challenge.split(".")[0]
    assert expires == NOW.replace(microsecond=0) + timedelta(minutes=10)
    with pytest.raises(Forbidden) as late:
        checked_challenge(KEY, challenge, nonce, now=NOW + timedelta(minutes=11), min_bits=8)
    assert late.value.code == "challenge_failed"


@pytest.mark.parametrize("tamper", ["signature", "bits", "nonce", "key", "shape"])
def test_a_challenge_not_issued_or_not_solved_is_refused(tamper):
    challenge = issue_challenge(KEY, now=NOW, bits=8, ttl=timedelta(minutes=10))
    nonce, key = _solved(challenge), KEY
    ident, expires, bits, signature = challenge.split(".")
    if tamper == "signature":
        challenge = f"{ident}.{expires}.{bits}.{'0' * 32}"
    elif tamper == "bits":  # claim an easier puzzle than the server set
        challenge = f"{ident}.{expires}.0.{signature}"
    elif tamper == "nonce":
        nonce = next(str(n) for n in range(1000) if not solves(challenge, str(n)))
    elif tamper == "key":
        key = b"another key"
    else:
        challenge = "no dots at all"
    with pytest.raises(Forbidden):
        checked_challenge(key, challenge, nonce, now=NOW, min_bits=8)


def test_a_challenge_easier_than_the_servers_setting_is_refused():
    """An old challenge issued before the difficulty was raised no longer counts."""
    challenge = issue_challenge(KEY, now=NOW, bits=2, ttl=timedelta(minutes=10))
    with pytest.raises(Forbidden):
        checked_challenge(KEY, challenge, _solved(challenge), now=NOW, min_bits=8)


# --- rate windows ----------------------------------------------------------------------------


def test_the_submission_beyond_the_limit_is_refused_with_retry_after():
    start = window_start(NOW, 60)
    assert start == datetime(2026, 12, 7, 2, 0, tzinfo=UTC)
    check_rate(5, limit=5, window_ends=start + timedelta(seconds=60), now=NOW, what="address")
    with pytest.raises(TooManyRequests) as refused:
        check_rate(6, limit=5, window_ends=start + timedelta(seconds=60), now=NOW, what="address")
    assert refused.value.status_code == 429
    assert refused.value.headers == {"Retry-After": "30"}


# --- progress --------------------------------------------------------------------------------


def test_what_a_citizen_is_told_of_each_status():
    """Art 11(4) progress, in plain words: not yet reviewed, being dispatched, handled,
    answered (feedback approved, Art 19) or closed; Open311's closed is the last two."""
    assert public_stage(None) is PublicStage.AWAITING_REVIEW
    assert public_stage(TicketStatus.AWAITING_DISPATCH) is PublicStage.DISPATCHING
    assert public_stage(TicketStatus.RETURN_REQUESTED) is PublicStage.DISPATCHING
    assert public_stage(TicketStatus.FEEDBACK_REVIEW) is PublicStage.HANDLING
    assert public_stage(TicketStatus.UNSATISFIED) is PublicStage.HANDLING
    assert public_stage(TicketStatus.AWAITING_EVALUATION) is PublicStage.ANSWERED
    assert public_stage("closed_at_intake") is PublicStage.CLOSED
    assert {s for s in PublicStage if is_closed(s)} == {PublicStage.ANSWERED, PublicStage.CLOSED}


def test_the_phone_tail_must_match_the_last_four_digits():
    assert phone_tail_matches("13812345678", "5678")
    assert not phone_tail_matches("13812345678", "1234")
    assert not phone_tail_matches(None, "5678")
    assert not phone_tail_matches("13812345678", "678")


# --- photos ----------------------------------------------------------------------------------


def _photo_with_gps(lat: float, lon: float, *, size: tuple[int, int] = (64, 48)) -> bytes:
    image = Image.new("RGB", size, (200, 30, 30))
    exif = Image.Exif()
    exif[0x010F] = "PhoneMaker"  # the camera's make
    gps = exif.get_ifd(0x8825)

    def dms(value: float) -> tuple[float, float, float]:
        degrees = int(value)
        minutes = int((value - degrees) * 60)
        return (degrees, minutes, round(((value - degrees) * 60 - minutes) * 60, 4))

    gps.update({1: "N", 2: dms(lat), 3: "E", 4: dms(lon)})
    out = io.BytesIO()
    image.save(out, format="JPEG", exif=exif)
    return out.getvalue()


def test_a_photos_gps_and_camera_are_removed_and_the_position_handed_back():
    original = _photo_with_gps(23.1291, 113.2644)
    assert Image.open(io.BytesIO(original)).getexif().get_ifd(0x8825)  # it had a position
    cleaned = photos.clean(original)
    stored = Image.open(io.BytesIO(cleaned.content))
    assert cleaned.content_type == "image/jpeg" and stored.format == "JPEG"
    assert not stored.getexif()  # no EXIF at all: no GPS, no camera
    assert b"PhoneMaker" not in cleaned.content and b"Exif" not in cleaned.content
    assert cleaned.gps is not None
    assert (cleaned.gps.lat, cleaned.gps.lon) == pytest.approx((23.1291, 113.2644), abs=1e-4)


def test_a_large_photo_is_made_smaller_and_a_transparent_one_stays_png():
    big = photos.clean(_photo_with_gps(23.1, 113.3, size=(4000, 3000)))
    assert max(Image.open(io.BytesIO(big.content)).size) == photos.LONGEST_SIDE
    out = io.BytesIO()
    Image.new("RGBA", (10, 10), (0, 0, 0, 0)).save(out, format="PNG")
    assert photos.clean(out.getvalue()).content_type == "image/png"


def test_a_file_that_is_not_an_image_is_refused_whatever_its_name():
    with pytest.raises(BadInput):
        photos.clean(b"<html><script>alert(1)</script></html>")


def test_art11_only_an_ordinary_matter_for_a_unit_is_published():
    """Open311's lists show a request's words only once reviewed as an ordinary matter (or a
    repeat) submitted to a unit; an Art 11(5) secret or privacy case, and anything closed at
    intake, never."""
    assert publishable("submitted", "normal") and publishable("submitted", "repeat")
    assert not publishable("submitted", "confidential")
    assert not publishable("closed_at_intake", "legal_channel")
    assert not publishable("answered", "normal")

"""Callers' personal data (Art 25): encrypted at rest, looked up by keyed hash, masked.

Names, phone numbers and addresses are stored only as Fernet ciphertext; the phone is also
kept as an HMAC so a caller's tickets can be found without decrypting anything. The key is a
ring: the current key seals, every key on the ring opens, so a new key can take over while
`hotline rotate-pii-key` re-seals what the old ones sealed (docs/operations.md).
"""

from __future__ import annotations

import hashlib
import hmac
import re
from collections.abc import Sequence

import phonenumbers
from cryptography.fernet import InvalidToken
from pydantic_core import PydanticCustomError

from shared.sealing import sealer
from shared.settings import Settings


def vault_for(settings: Settings) -> Vault:
    """The vault of the configured key ring."""
    return Vault(
        settings.pii_key.get_secret_value(),
        [k.get_secret_value() for k in settings.pii_retired_keys],
    )


def key_id(pii_key: str) -> str:
    """A short name of a key, stored beside what it sealed; it reveals nothing of the key."""
    return hashlib.sha256(b"id|" + pii_key.encode()).hexdigest()[:12]


class Vault:
    """Encrypts, decrypts and hashes personal data with keys derived from the PII key ring:
    ``pii_key`` seals and hashes from now on; ``retired`` keys only open and find."""

    def __init__(self, pii_key: str, retired: Sequence[str] = ()) -> None:
        self._fernet = sealer([pii_key, *retired], "enc")
        self._hash_keys = [
            hashlib.sha256(f"hash|{k}".encode()).digest() for k in (pii_key, *retired)
        ]
        self.key_id = key_id(pii_key)

    def seal(self, value: str | None) -> str | None:
        return self._fernet.encrypt(value.encode()).decode() if value else None

    def open(self, sealed: str | None) -> str | None:
        if not sealed:
            return None
        try:
            return self._fernet.decrypt(sealed.encode()).decode()
        except InvalidToken:
            raise ValueError("personal data sealed with a key not on the ring") from None

    def reseal(self, sealed: str | None) -> str | None:
        """The same value sealed with the current key (rotation)."""
        return self._fernet.rotate(sealed.encode()).decode() if sealed else None

    def phone_hash(self, phone: str | None) -> str | None:
        """The phone's hash under the current key (what a new ticket stores)."""
        hashes = self.phone_hashes(phone, keys=1)
        return hashes[0] if hashes else None

    def phone_hashes(self, phone: str | None, *, keys: int | None = None) -> list[str]:
        """The phone's hash under every key on the ring (or its first ``keys``): a caller's
        tickets stored before a rotation are found until they are re-sealed."""
        normal = normalise_phone(phone)
        if not normal:
            return []
        ring = self._hash_keys[:keys]
        return [hmac.new(k, normal.encode(), hashlib.sha256).hexdigest() for k in ring]


def valid_phone(text: str) -> str:
    """A caller's phone as dialled from Guangzhou, checked by libphonenumber: a mainland
    mobile (13812345678) or a landline with its area code (020-83123456), written in any
    customary way; another country's number with its +code. Answers the digits a mainland
    number is dialled with, or +E.164 for another country's."""
    try:
        parsed = phonenumbers.parse(text, "CN")
    except phonenumbers.NumberParseException:
        parsed = None
    if parsed is None or not phonenumbers.is_valid_number(parsed):
        raise PydanticCustomError(
            "phone_invalid", "not a valid phone number: {text}", {"text": text}
        )
    if parsed.country_code == 86:
        national = phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.NATIONAL)
        return re.sub(r"\D", "", national)
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)


def is_mobile(phone: str | None) -> bool:
    """Whether a number (as ``valid_phone`` answers it) can receive SMS."""
    if not phone:
        return False
    try:
        kind = phonenumbers.number_type(phonenumbers.parse(phone, "CN"))
    except phonenumbers.NumberParseException:
        return False
    return kind in (
        phonenumbers.PhoneNumberType.MOBILE,
        phonenumbers.PhoneNumberType.FIXED_LINE_OR_MOBILE,
    )


def normalise_phone(phone: str | None) -> str | None:
    """Digits only, without a leading +86/0086: the same caller always hashes the same."""
    if not phone:
        return None
    digits = re.sub(r"\D", "", phone)
    for prefix in ("0086", "86"):
        if digits.startswith(prefix) and len(digits) - len(prefix) == 11:
            digits = digits[len(prefix) :]
    return digits or None


def mask_name(name: str | None) -> str | None:
    """李雷 → 李*; 欧阳娜娜 → 欧***."""
    return name[0] + "*" * (len(name) - 1) if name else None


def mask_phone(phone: str | None) -> str | None:
    """13812345678 → 138****5678."""
    normal = normalise_phone(phone)
    if not normal:
        return None
    if len(normal) < 7:
        return "*" * len(normal)
    return normal[:3] + "*" * (len(normal) - 7) + normal[-4:]


def mask_address(address: str | None) -> str | None:
    """Keep the district-level start, hide the rest: 天河区体育西路1号 → 天河区***."""
    if not address:
        return None
    match = re.match(r"^(.*?[区县市])", address)
    return (match.group(1) if match else address[:2]) + "***"


# Digits as callers and agents type them: ASCII, full-width, and Chinese numerals read out
# one by one (幺 is how 1 is said on the phone).
_DIGITS = str.maketrans(
    "０１２３４５６７８９零〇一二三四五六七八九幺两",
    "01234567890012345678912",
)
_DIGIT_RUN = re.compile(
    r"[0-9０-９零〇一二三四五六七八九幺两][0-9０-９零〇一二三四五六七八九幺两\s\-－]{6,}"
)


def _numbers_in_any_script(text: str) -> str:
    """Runs of digits written in any script, masked when they read as a phone or ID number."""
    from shared.logging import REDACTED, redact_text

    def masked(match: re.Match[str]) -> str:
        run = match.group(0).rstrip(" \t-－")
        ascii_run = run.translate(_DIGITS)
        masked_run = REDACTED if redact_text(ascii_run) != ascii_run else run
        return masked_run + match.group(0)[len(run) :]

    return _DIGIT_RUN.sub(masked, text)


def scrub_free_text(text: str | None) -> str | None:
    """Any phone or identity number in text an agent typed (place, what the caller was told)."""
    from shared.logging import redact_text

    return redact_text(_numbers_in_any_script(text)) if text else text


def scrub(text: str, *, name: str | None, phone: str | None, address: str | None) -> str:
    """The matter's text without the caller's own name, phone or address, nor any phone number.

    Free text is kept for the handling units; whatever identifies the caller in it is masked
    here, and the original is kept only sealed.
    """
    from shared.logging import redact_text

    for value, masked in ((name, mask_name(name)), (address, mask_address(address))):
        if value and masked and len(value) > 1:
            text = text.replace(value, masked)
    normal = normalise_phone(phone)
    if normal:
        text = text.replace(normal, mask_phone(normal) or "")
    return redact_text(_numbers_in_any_script(text))

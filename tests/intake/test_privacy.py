"""Art 25: sealing, keyed look-up, masking and scrubbing of callers' personal data."""

import pytest
from intake.privacy import Vault, mask_address, mask_name, mask_phone, normalise_phone, scrub


def test_sealed_data_opens_only_with_its_key():
    vault = Vault("k" * 44)
    sealed = vault.seal("李雷")
    assert sealed and "李雷" not in sealed
    assert vault.open(sealed) == "李雷"
    with pytest.raises(ValueError):
        Vault("other" * 9).open(sealed)


def test_phone_hash_is_keyed_and_format_blind():
    vault = Vault("k" * 44)
    assert vault.phone_hash("+86 138-1234-5678") == vault.phone_hash("13812345678")
    assert vault.phone_hash("13812345678") != Vault("j" * 44).phone_hash("13812345678")
    assert vault.phone_hash(None) is None
    assert normalise_phone("0086 13812345678") == "13812345678"


def test_masks():
    assert mask_name("欧阳娜娜") == "欧***"
    assert mask_phone("13812345678") == "138****5678"
    assert mask_phone("020-83331234") == "020****1234"
    assert mask_address("越秀区北京路100号") == "越秀区***"
    assert (mask_name(None), mask_phone(""), mask_address(None)) == (None, None, None)


def test_scrub_removes_the_callers_identity_and_any_phone_from_the_matter():
    text = "我是李雷，住天河区林和西路1号，工地噪音，回电13812345678或020-83331234"
    scrubbed = scrub(text, name="李雷", phone="138 1234 5678", address="天河区林和西路1号")
    for personal in ("李雷", "林和西路1号", "13812345678", "83331234"):
        assert personal not in scrubbed
    assert "工地噪音" in scrubbed

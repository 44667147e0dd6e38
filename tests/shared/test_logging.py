import json
import logging

import structlog

from shared.logging import REDACTED, configure_logging, redact, redact_text

PHONE = "13812345678"


def test_phone_numbers_in_free_text_are_masked():
    text = f"caller at {PHONE}, also +86 138-1234-5678 and 020-83331234"
    redacted = redact_text(text)
    assert "1381234" not in redacted
    assert "83331234" not in redacted
    assert redacted.count(REDACTED) == 3


def test_a_phone_number_in_full_width_digits_is_masked():
    redacted = redact_text("回电１３８ １２３４ ５６７８，谢谢")
    assert redacted == f"回电{REDACTED}，谢谢"


def test_identity_numbers_and_email_are_masked():
    redacted = redact_text("id 44010619900101123X mail li.lei@example.cn")
    assert "44010619900101123X" not in redacted
    assert "li.lei@" not in redacted


def test_personal_query_parameters_are_masked():
    redacted = redact_text("/v1/tickets?caller_phone=%2B8613812345678&status=open&name=李雷")
    assert redacted == f"/v1/tickets?caller_phone={REDACTED}&status=open&name={REDACTED}"


def test_personal_keys_are_masked_at_any_depth_and_other_values_kept():
    event = {
        "caller": {"name": "李雷", "address": "天河区体育西路1号", "district": "天河区"},
        "ticket_id": "T20261123-0001",
        "count": 3,
    }
    assert redact(event) == {
        "caller": {"name": REDACTED, "address": REDACTED, "district": "天河区"},
        "ticket_id": "T20261123-0001",
        "count": 3,
    }


def test_ticket_numbers_and_timestamps_are_not_mistaken_for_phones():
    text = "ticket 202611230001 due 2026-11-25T16:00:00+00:00"
    assert redact_text(text) == text


def test_every_log_line_is_redacted_json(capsys):
    configure_logging(service="intake", level="INFO")
    structlog.get_logger("t").info("call_taken", caller_phone=PHONE, note=f"call back {PHONE}")
    logging.getLogger("uvicorn.error").info("library line mentioning %s", PHONE)
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert len(lines) == 2
    assert all(PHONE not in json.dumps(line, ensure_ascii=False) for line in lines)
    assert lines[0]["service"] == "intake" and lines[0]["event"] == "call_taken"
    assert lines[1]["event"] == f"library line mentioning {REDACTED}"


def test_redaction_is_linear_in_the_length_of_the_text():
    """A long run of letters with no "@" once cost quadratic time in the e-mail pattern: a
    40,000-character URL froze a service for 30 s. Run in a child process so that a
    regression fails the test (killed after a minute) instead of hanging the suite; the work
    itself takes milliseconds."""
    import subprocess
    import sys

    program = (
        "from shared.logging import redact_text\n"
        "for text in ('a' * 200_000, 'a.' * 100_000, '1' * 200_000, 'a@' * 100_000):\n"
        "    redact_text(text)\n"
    )
    subprocess.run([sys.executable, "-c", program], check=True, timeout=60)


def test_a_long_log_value_is_cut_before_it_is_redacted():
    from shared.logging import MAX_LOGGED_CHARS, redact

    logged = redact("x" * (MAX_LOGGED_CHARS * 10), "path")
    assert len(logged) < MAX_LOGGED_CHARS + 50
    assert logged.endswith(f"[{MAX_LOGGED_CHARS * 9} more characters]")


def test_a_services_own_outgoing_requests_are_not_logged_twice(capsys):
    """The receiver logs each request with its id; httpx's INFO line of it is dropped, its
    warnings are kept."""
    configure_logging(service="sla", level="INFO")
    logging.getLogger("httpx").info("HTTP Request: GET http://identity/v1/signed-out")
    logging.getLogger("httpx").warning("connection pool full")
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [line["event"] for line in lines] == ["connection pool full"]

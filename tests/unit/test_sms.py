"""Text messages (gbconnect.sms): the demo's folder, a webhook against a real local
HTTP receiver, and a sender of the utility's own named by module and factory."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from gbconnect import sms
from gbconnect.config import Settings, load_settings
from tests.receiver import answer, receiving

SENT: list[tuple[str, str]] = []


class Collecting:
    def send(self, to: str, text: str) -> None:
        SENT.append((to, text))


def collecting(settings: Settings) -> Collecting:
    """A factory GBCONNECT_SMS_SENDER names."""
    return Collecting()


def not_a_sender(settings: Settings) -> object:
    return object()


def test_the_folder_holds_one_readable_file_per_message(tmp_path: Path) -> None:
    settings = load_settings(sms_dir=tmp_path / "sms")
    sms.send(settings, "+14155550123", "Your code is 123456.")
    sms.send(settings, "+66812345678", "Second")
    first, second = sorted((tmp_path / "sms").glob("*.txt"))
    got = sms.read_message(first)
    assert got["to"] == "+14155550123" and got["text"] == "Your code is 123456."
    assert got["date"].endswith("Z")
    assert sms.read_message(second)["text"] == "Second"


def test_the_webhook_gets_json_and_a_refusal_is_an_error() -> None:
    with receiving() as receiver:
        settings = load_settings(sms_webhook=receiver.url)
        assert isinstance(sms.sender(settings), sms.WebhookSender)
        sms.send(settings, "+14155550123", "Your code is 123456.")
        (got,) = receiver.wait_for(1)
        assert json.loads(got.body) == {"to": "+14155550123", "text": "Your code is 123456."}
        assert got.headers["content-type"] == "application/json"
        receiver.behaviour = lambda h: answer(h, 502)
        with pytest.raises(sms.SmsError, match="answered 502"):
            sms.send(settings, "+14155550123", "again")
        port = receiver.port
    with pytest.raises(sms.SmsError, match="could not be reached"):
        sms.WebhookSender(f"http://127.0.0.1:{port}/notify", timeout=2).send("+1", "x")


def test_a_sender_of_the_utility_s_own() -> None:
    SENT.clear()
    settings = load_settings(
        sms_sender="tests.unit.test_sms:collecting", sms_webhook="http://127.0.0.1:9/x"
    )
    sms.send(settings, "+14155550123", "hello")
    assert SENT == [("+14155550123", "hello")]
    for bad in ("tests.unit.test_sms:nothing", "no.such.module:x", "tests.unit.test_sms"):
        with pytest.raises(sms.SmsError, match="GBCONNECT_SMS_SENDER"):
            sms.sender(load_settings(sms_sender=bad))
    with pytest.raises(sms.SmsError, match="made no sender"):
        sms.sender(load_settings(sms_sender="tests.unit.test_sms:not_a_sender"))

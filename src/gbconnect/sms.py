"""Text messages to customers (one-time codes for guest access, creating an online
account and a phone change), through a pluggable :class:`SmsSender`:

- ``GBCONNECT_SMS_SENDER="package.module:factory"``: the utility's own code (the
  factory takes the Settings and returns a sender);
- else ``GBCONNECT_SMS_WEBHOOK``: a JSON POST ``{"to": ..., "text": ...}`` to the
  utility's SMS gateway (:class:`WebhookSender`);
- else each message is a file in ``GBCONNECT_SMS_DIR`` (:class:`FolderSender`, the
  demo's phone), the way :mod:`gbconnect.mail` writes ``.eml`` files.

A message that cannot be sent raises :class:`SmsError`.
"""

from __future__ import annotations

import importlib
import logging
import time
import uuid
from pathlib import Path
from typing import Protocol, runtime_checkable

import httpx

from gbconnect.config import Settings

_log = logging.getLogger(__name__)


class SmsError(RuntimeError):
    """A text message that could not be sent."""


@runtime_checkable
class SmsSender(Protocol):
    """Anything that sends one text message to an E.164 number."""

    def send(self, to: str, text: str) -> None: ...


class FolderSender:
    """Each message a ``.txt`` file in ``folder``: ``To:`` and ``Date:`` lines, a blank
    line, the text; names sort in the order the messages were written."""

    def __init__(self, folder: Path, warn: bool = False) -> None:
        self.folder = folder
        self.warn = warn

    def send(self, to: str, text: str) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        now = time.time_ns()
        stamp = time.strftime("%Y%m%dT%H%M%S", time.gmtime(now // 10**9))
        path = self.folder / f"{stamp}.{now % 10**9:09d}-{uuid.uuid4().hex[:8]}.txt"
        date = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(now // 10**9))
        path.write_text(f"To: {to}\nDate: {date}\n\n{text}\n", encoding="utf-8")
        if self.warn:
            _log.warning("no SMS gateway configured: a text to a customer written to %s", path)


def read_message(path: Path) -> dict[str, str]:
    """A message :class:`FolderSender` wrote: ``to``, ``date`` and ``text``."""
    head, _, text = path.read_text(encoding="utf-8").partition("\n\n")
    fields = dict(line.split(": ", 1) for line in head.splitlines() if ": " in line)
    return {"to": fields.get("To", ""), "date": fields.get("Date", ""), "text": text.strip()}


class WebhookSender:
    """POSTs ``{"to": ..., "text": ...}`` as JSON to ``url``; any answer but 2xx, or
    no answer within ``timeout`` seconds, is an :class:`SmsError`."""

    def __init__(self, url: str, timeout: float = 10.0) -> None:
        self.url = url
        self.timeout = timeout

    def send(self, to: str, text: str) -> None:
        try:
            r = httpx.post(self.url, json={"to": to, "text": text}, timeout=self.timeout)
        except httpx.HTTPError as exc:
            raise SmsError(f"the SMS webhook could not be reached: {exc}") from exc
        if not 200 <= r.status_code < 300:
            raise SmsError(f"the SMS webhook answered {r.status_code}")


def sender(settings: Settings) -> SmsSender:
    """The sender the settings choose."""
    if settings.sms_sender:
        module, _, name = settings.sms_sender.partition(":")
        try:
            factory = getattr(importlib.import_module(module), name)
        except (ImportError, AttributeError, ValueError) as exc:
            raise SmsError(f"GBCONNECT_SMS_SENDER {settings.sms_sender!r}: {exc}") from exc
        made = factory(settings)
        if not isinstance(made, SmsSender):
            raise SmsError(f"GBCONNECT_SMS_SENDER {settings.sms_sender!r} made no sender")
        return made
    if settings.sms_webhook:
        return WebhookSender(settings.sms_webhook)
    return FolderSender(settings.sms_dir, warn=settings.env == "production")


def send(settings: Settings, to: str, text: str) -> None:
    """Text ``text`` to ``to`` (E.164) with the configured sender."""
    sender(settings).send(to, text)


__all__ = [
    "FolderSender",
    "SmsError",
    "SmsSender",
    "WebhookSender",
    "read_message",
    "send",
    "sender",
]

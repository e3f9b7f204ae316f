"""Mail to customers (password reset links): SMTP when ``GBCONNECT_SMTP_HOST`` is set,
otherwise each message is written as an ``.eml`` file to ``GBCONNECT_MAIL_DIR`` (the
demo's mailbox: any mail program opens it). Standard library only (RFC 5322 messages
by :mod:`email`, RFC 5321 by :mod:`smtplib`, STARTTLS per RFC 3207)."""

from __future__ import annotations

import logging
import smtplib
import ssl
import time
import uuid
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from pathlib import Path

from gbconnect.config import Settings

_log = logging.getLogger(__name__)


def message(settings: Settings, to: str, subject: str, body: str) -> EmailMessage:
    msg = EmailMessage()
    msg["From"] = f"{settings.utility_name} <{settings.mail_from}>"
    msg["To"] = to
    msg["Subject"] = subject
    msg["Date"] = formatdate(localtime=False)
    msg["Message-ID"] = make_msgid(domain=settings.mail_from.rsplit("@", 1)[-1])
    msg.set_content(body)
    return msg


def send(settings: Settings, to: str, subject: str, body: str) -> Path | None:
    """Send one plain-text message; the ``.eml`` file written when there is no SMTP
    server (None when it was sent by SMTP)."""
    msg = message(settings, to, subject, body)
    if settings.smtp_host:
        with smtplib.SMTP(settings.smtp_host, settings.smtp_port, timeout=20) as smtp:
            if settings.smtp_starttls:
                smtp.starttls(context=ssl.create_default_context())
            if settings.smtp_user:
                smtp.login(settings.smtp_user, settings.smtp_password or "")
            smtp.send_message(msg)
        return None
    folder = settings.mail_dir
    folder.mkdir(parents=True, exist_ok=True)
    # Names sort in the order the messages were written (to the nanosecond).
    now = time.time_ns()
    stamp = time.strftime("%Y%m%dT%H%M%S", time.gmtime(now // 10**9))
    path = folder / f"{stamp}.{now % 10**9:09d}-{uuid.uuid4().hex[:8]}.eml"
    path.write_bytes(msg.as_bytes())
    if settings.env == "production":
        _log.warning("no SMTP server configured: mail to a customer written to %s", path)
    return path


__all__ = ["message", "send"]

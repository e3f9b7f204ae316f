"""What a test case ends with: pass, fail with the evidence (each request, its status
and the relevant part of the body), or not applicable with the reason."""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass, field
from typing import Any, Literal

Status = Literal["pass", "fail", "not applicable"]
PASS: Status = "pass"
FAIL: Status = "fail"
NA: Status = "not applicable"

#: Characters of a response body kept as evidence.
EXCERPT = 600


@dataclass
class Exchange:
    """One HTTP request the tester sent and what came back. Secrets never appear:
    the Authorization header is shown as its token class (``Bearer <C token>``)."""

    method: str
    url: str
    status: int | None
    auth: str = ""
    body: str = ""
    note: str = ""

    def line(self) -> str:
        status = "no answer" if self.status is None else str(self.status)
        auth = f" [{self.auth}]" if self.auth else ""
        note = f" ({self.note})" if self.note else ""
        return f"{self.method} {self.url}{auth} -> {status}{note}"


class CaseFailed(Exception):
    """The Data Custodian did not do what the case asks; ``message`` says what."""

    def __init__(self, message: str, evidence: list[Exchange] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.evidence = evidence or []


class NotApplicable(Exception):
    """The case cannot run here (no test customer, plain http allowed, ...)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass
class Result:
    case: str
    title: str
    status: Status
    message: str
    evidence: list[Exchange] = field(default_factory=list)
    seconds: float = 0.0
    destructive: bool = False

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


#: Secrets a body or URL may carry (token responses, ApplicationInformation, RFC 7592
#: documents, the redirect with its code): never written to a report.
SECRET_NAMES = "access_token|refresh_token|client_secret|registration_access_token|code"
_JSON_SECRET = re.compile(rf'("(?:{SECRET_NAMES})"\s*:\s*)"[^"]*"')
_XML_SECRET = re.compile(rf"<((?:\w+:)?(?:{SECRET_NAMES}))>[^<]+</\1>")
_QUERY_SECRET = re.compile(rf"([?&](?:{SECRET_NAMES})=)[^&#\s]*")
HIDDEN = "<hidden>"


def redact(text: str) -> str:
    """``text`` with every secret's value replaced by ``<hidden>``."""
    text = _JSON_SECRET.sub(rf'\1"{HIDDEN}"', text)
    text = _XML_SECRET.sub(rf"<\1>{HIDDEN}</\1>", text)
    return _QUERY_SECRET.sub(rf"\1{HIDDEN}", text)


def excerpt(body: bytes | str, limit: int = EXCERPT) -> str:
    """The first ``limit`` characters of a body, as text, secrets hidden."""
    text = body.decode("utf-8", "replace") if isinstance(body, bytes) else body
    text = text if len(text) <= limit else text[:limit] + "..."
    return redact(text)


__all__ = [
    "FAIL",
    "NA",
    "PASS",
    "CaseFailed",
    "Exchange",
    "NotApplicable",
    "Result",
    "Status",
    "excerpt",
    "redact",
]

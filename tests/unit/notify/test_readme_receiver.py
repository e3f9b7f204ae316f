"""The receiver's check in the README ("Receiving notifications") accepts what
gbconnect signs (gbconnect.notify.signing), with one key or two during a rotation, and
refuses a changed body, another key, a stale timestamp and a missing header."""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from gbconnect.notify.signing import signature_headers

README = Path(__file__).resolve().parents[3] / "README.md"
Check = Callable[[str, dict[str, str], bytes], bool]


@pytest.fixture(scope="module")
def verified() -> Check:
    section = README.read_text().split("### Receiving notifications", 1)[1]
    code = re.search(r"```python\n(.*?)```", section, re.S)
    assert code is not None, "the README shows no Python check"
    scope: dict[str, object] = {}
    exec(compile(code.group(1), "README.md", "exec"), scope)
    check = scope["verified"]
    assert callable(check)
    return check  # type: ignore[return-value]


def _lower(headers: dict[str, str]) -> dict[str, str]:
    return {k.lower(): v for k, v in headers.items()}


def test_the_readme_check_accepts_what_gbconnect_signs(verified: Check) -> None:
    body = b'<?xml version="1.0"?><BatchList xmlns="http://naesb.org/espi"/>'
    old, new = "old-key-" + "a" * 35, "new-key-" + "b" * 35
    now = int(time.time())
    one = _lower(signature_headers(new.encode(), body, now))
    two = _lower(signature_headers([new.encode(), old.encode()], body, now))
    assert verified(new, one, body)
    assert verified(new, two, body) and verified(old, two, body)
    assert not verified(old, one, body)
    assert not verified(new, one, body + b" ")
    stale = _lower(signature_headers(new.encode(), body, now - 301))
    assert not verified(new, stale, body)
    assert not verified(new, {"gbconnect-signature": one["gbconnect-signature"]}, body)
    assert not verified(new, {"gbconnect-timestamp": one["gbconnect-timestamp"]}, body)

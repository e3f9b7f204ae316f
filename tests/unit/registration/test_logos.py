"""What a logo may be (gbconnect.registration.logos): a PNG, JPEG, GIF or WebP image,
recognised by its bytes, at most MAX_BYTES; anything else is refused with a reason."""

from __future__ import annotations

import pytest

from gbconnect.registration.logos import MAX_BYTES, LogoError, check, sniff

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 32


@pytest.mark.parametrize(
    ("data", "kind"),
    [
        (PNG, "image/png"),
        (b"\xff\xd8\xff\xe0" + b"\x00" * 16, "image/jpeg"),
        (b"GIF89a" + b"\x00" * 8, "image/gif"),
        (b"GIF87a" + b"\x00" * 8, "image/gif"),
        (b"RIFF\x10\x00\x00\x00WEBPVP8 ", "image/webp"),
        (b'<svg xmlns="http://www.w3.org/2000/svg"><script>x()</script></svg>', None),
        (b"<html>", None),
        (b"RIFF\x10\x00\x00\x00WAVE", None),
        (b"", None),
    ],
)
def test_images_are_known_by_their_bytes(data: bytes, kind: str | None) -> None:
    assert sniff(data) == kind


def test_check_refuses_with_a_reason() -> None:
    assert check(PNG).content_type == "image/png"
    with pytest.raises(LogoError, match="empty"):
        check(b"")
    with pytest.raises(LogoError, match="not a PNG"):
        check(b"<svg/>")
    with pytest.raises(LogoError, match="larger than 256 KB"):
        check(PNG + b"\x00" * MAX_BYTES)

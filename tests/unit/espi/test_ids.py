"""Resource ids and Atom entry ids (REQ.21 FB_13; the GBA's UUID5 entry ids)."""

from __future__ import annotations

import uuid

from hypothesis import given
from hypothesis import strategies as st

from gbconnect.espi.ids import entry_uuid, new_id


@given(st.text())
def test_entry_uuid_is_uuid5_of_the_self_href(href: str) -> None:
    href = href.encode("utf-8", "surrogatepass").decode("utf-8", "replace")
    assert entry_uuid(href) == f"urn:uuid:{uuid.uuid5(uuid.NAMESPACE_DNS, href)}"


def test_entry_uuid_is_stable() -> None:
    # Pinned: ids third parties stored must not change between releases.
    href = "https://example.com/espi/1_1/resource/UsagePoint/1"
    assert entry_uuid(href) == "urn:uuid:68950001-e129-5f53-8915-94b6698526f6"
    assert uuid.UUID(entry_uuid(href)[9:]).version == 5


def test_new_ids_are_positive_below_2_to_the_53() -> None:
    ids = {new_id() for _ in range(1000)}
    assert len(ids) == 1000
    assert all(0 < i < 2**53 and len(str(i)) == 16 for i in ids)

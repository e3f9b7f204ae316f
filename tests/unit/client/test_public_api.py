"""The SDK's public names are exactly those of /work/briefs/sdk_api.md (plus additions),
all in ``__all__`` and importable from ``gbconnect.client``."""

from __future__ import annotations

import dataclasses

import gbconnect.client as sdk

SPEC = [
    "Endpoints",
    "OAuthClient",
    "AuthorizationRequest",
    "TokenSet",
    "OAuthError",
    "DataCustodianClient",
    "Pending",
    "ApiError",
    "parse",
    "readings",
    "Reading",
    "UsagePoint",
    "ReadingType",
    "MeterReading",
    "UsageSummary",
    "LocalTime",
    "CustomerRecord",
    "FeedError",
    "to_rows",
    "to_csv",
    "to_dataframe",
    "NotificationReceiver",
    "Notification",
    "parse_batch_list",
    "verify_signature",
]


def test_every_name_of_the_api_is_exported() -> None:
    assert set(SPEC) <= set(sdk.__all__)
    assert sorted(sdk.__all__) == sorted(set(sdk.__all__))
    for name in sdk.__all__:
        assert getattr(sdk, name) is not None, name


def test_reading_is_a_frozen_slotted_dataclass_and_errors_are_typed() -> None:
    params = sdk.Reading.__dataclass_params__  # type: ignore[attr-defined]
    assert dataclasses.is_dataclass(sdk.Reading) and params.frozen
    assert hasattr(sdk.Reading, "__slots__")
    assert issubclass(sdk.FeedError, ValueError)
    assert issubclass(sdk.PendingError, sdk.ApiError)
    assert [f.name for f in dataclasses.fields(sdk.Reading)] == [
        "usage_point",
        "meter_reading",
        "start",
        "duration",
        "value",
        "unit",
        "raw_value",
        "cost",
        "quality",
        "flow_direction",
    ]

"""The mutual TLS settings (GBCONNECT_MTLS, _MTLS_CERT_HEADER, _CA_CERT/_CA_KEY)."""

from __future__ import annotations

from pathlib import Path

import pytest

from gbconnect.config import ConfigError, load_settings


def test_off_by_default() -> None:
    settings = load_settings()
    assert settings.mtls == "off" and settings.mtls_cert_header is None


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"mtls": "sometimes"}, "GBCONNECT_MTLS"),
        ({"mtls_cert_header": "X-Client-Cert"}, "GBCONNECT_TRUSTED_PROXIES"),
        ({"mtls_cert_header": "bad header:", "trusted_proxies": "10.0.0.1"}, "header name"),
        ({"ca_cert": Path("ca.pem")}, "go together"),
    ],
)
def test_refused(overrides: dict[str, object], message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        load_settings(**overrides)


def test_proxy_header_with_its_proxies() -> None:
    settings = load_settings(mtls="required", mtls_cert_header="X-SSL-Cert", trusted_proxies="::1")
    assert settings.mtls == "required" and settings.mtls_cert_header == "X-SSL-Cert"

"""The SDK against a real ``gbconnect serve`` over real sockets with mutual TLS
(RFC 8705; PG&E: every API call but browser redirects uses a client certificate), on
SQLite and PostgreSQL: discovery, client credentials with the certificate, a bound
token refused with another certificate, a customer's IntervalBlock streamed and
parsed."""

from __future__ import annotations

from pathlib import Path

import pytest
import trustme

from gbconnect.client import (
    ApiError,
    DataCustodianClient,
    Endpoints,
    OAuthClient,
    OAuthError,
    TokenSet,
    readings,
)
from gbconnect.client.http import make_http
from tests.e2e.test_mtls_served import Setup, setup, tls_server, world

__all__ = ["setup", "world"]  # the fixtures of test_mtls_served, used here


def pem_of(folder: Path, name: str, leaf: trustme.LeafCert) -> str:
    path = folder / f"{name}.pem"
    leaf.private_key_and_cert_chain_pem.write_to_path(str(path))
    return str(path)


def test_sdk_over_real_mutual_tls(db_url: str, setup: Setup) -> None:
    one_a = pem_of(setup.folder, "one-a", setup.one_a)
    one_b = pem_of(setup.folder, "one-b", setup.one_b)
    seed = setup.seed
    with tls_server(db_url, setup) as base:
        ca = str(setup.folder / "client-ca.pem")  # the CA that signed the server's too
        with make_http(verify=ca) as http:
            endpoints = Endpoints.discover(base, http=http)
        assert endpoints.token == base + "/oauth/token"
        assert endpoints.resource_base.startswith(base)

        with (
            OAuthClient(
                endpoints, seed.client_id, seed.client_secret, cert=one_a, verify=ca
            ) as oauth,
            OAuthClient(endpoints, seed.client_id, seed.client_secret, verify=ca) as bare,
        ):
            tokens = oauth.client_credentials()
            with pytest.raises(OAuthError) as refused:
                bare.client_credentials()
        assert refused.value.error == "invalid_client" and "RFC 8705" in str(refused.value)

        with DataCustodianClient(endpoints, tokens, cert=one_a, verify=ca) as api:
            assert api.read_service_status() == 1
        with (
            DataCustodianClient(endpoints, tokens, cert=one_b, verify=ca) as other,
            pytest.raises(ApiError) as bound,
        ):
            other.read_service_status()
        assert bound.value.status == 401 and bound.value.error == "invalid_token"

        customer = TokenSet(setup.customer_token, "Bearer", None, None, None, None, None, None)
        block = base + setup.block_path
        with (
            DataCustodianClient(endpoints, customer, cert=one_a, verify=ca) as reader,
            reader.stream(block) as chunks,
        ):
            got = list(readings(chunks))
        # One IntervalBlock entry names its MeterReading but carries no ReadingType.
        assert got and {(r.meter_reading, r.unit) for r in got} == {
            (block.rsplit("/IntervalBlock/")[0], "")
        }

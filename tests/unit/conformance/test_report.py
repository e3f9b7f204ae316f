"""The conformance report writers: the terminal lines, JSON and the self-contained
HTML page (one row per case, evidence escaped, nothing fetched from elsewhere)."""

from __future__ import annotations

import json

from lxml import html

from gbconnect.conformance.outcome import FAIL, NA, PASS, Exchange, Result, excerpt, redact
from gbconnect.conformance.report import line, terminal, to_html, to_json
from gbconnect.conformance.runner import Run


def sample() -> Run:
    run = Run("https://dc.example", 1_700_000_000.0, seconds=3.2)
    run.notes.append("destructive cases (revocations, deletions) ran last: MGA002")
    run.results += [
        Result("FND001", "Configuration", PASS, "endpoints by RFC 8414 discovery"),
        Result(
            "OAD010",
            "Batch/Subscription refuses R, C and no token",
            FAIL,
            "GET ... with the C token answered 200, not 401/403",
            [Exchange("GET", "https://dc.example/x", 200, "C token", "<feed><script>x</script>")],
        ),
        Result("TC001", "HTTPS only", NA, "plain http given with --allow-http"),
    ]
    return run


def test_the_terminal_report_has_a_line_per_case_the_evidence_and_a_summary() -> None:
    text = terminal(sample())
    assert "PASS FND001" in text and "FAIL OAD010" in text and "N/A  TC001" in text
    assert "GET https://dc.example/x [C token] -> 200" in text
    assert text.splitlines()[-1] == "1 passed, 1 failed, 1 not applicable, of 3"
    assert line(sample().results[0]).startswith("PASS FND001  Configuration: ")


def test_the_json_report_says_whether_anything_failed() -> None:
    data = json.loads(to_json(sample()))
    assert data["ok"] is False
    assert data["summary"] == {"pass": 1, "fail": 1, "not applicable": 1, "total": 3}
    assert data["results"][1]["evidence"][0]["status"] == 200
    good = sample()
    good.results.pop(1)
    assert json.loads(to_json(good))["ok"] is True


def test_the_html_report_is_one_page_with_a_row_per_case_and_no_outside_resource() -> None:
    page = to_html(sample())
    doc = html.fromstring(page)
    assert [r.get("id") for r in doc.xpath("//tr[@class='case']")] == ["FND001", "OAD010", "TC001"]
    assert not doc.xpath("//script | //link | //img | //iframe")
    assert "<script>x</script>" not in page and "&lt;script&gt;" in page
    assert "1 failed" in doc.get_element_by_id("summary").text_content()
    assert doc.xpath("//details[@open]")  # a failure's evidence is shown open


def test_an_excerpt_is_cut_and_never_raises_on_bytes() -> None:
    assert excerpt(b"\xff" * 10) == "\ufffd" * 10
    assert excerpt("x" * 700).endswith("...") and len(excerpt("x" * 700)) == 603


def test_secrets_never_reach_a_report() -> None:
    """Token responses, ApplicationInformation and redirects carry secrets: hidden."""
    body = (
        '{"access_token": "AT123", "token_type": "Bearer", "refresh_token":"RT456", '
        '"client_secret": "CS"}'
    )
    text = redact(body)
    assert "AT123" not in text and "RT456" not in text and '"CS"' not in text
    assert '"token_type": "Bearer"' in text
    xml = (
        "<e:client_secret>S3CRET</e:client_secret>"
        "<registration_access_token>R</registration_access_token>"
    )
    assert "S3CRET" not in redact(xml) and ">R<" not in redact(xml)
    assert redact("https://tp/cb?code=abc&state=xyz") == "https://tp/cb?code=<hidden>&state=xyz"
    assert "AT123" not in excerpt(body.encode())

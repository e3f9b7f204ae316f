"""No English sentence is left on a customer's page in Thai or Spanish.

The catalog test (tests/unit/i18n) checks that every *marked* message is translated;
this one catches a sentence that was never marked: each page is rendered in Thai and
in Spanish, its visible text (the data shown, such as names, addresses and units,
taken out) must hold no run of three Latin words with an English-only word among them."""

from __future__ import annotations

import re
from html import unescape

import pytest

from tests.factories.world import World

#: What the pages show of the test data, and the names that stay as they are.
KEPT = (
    "Solar Helper",
    "Electric service SA-1",
    "1 Main St, Oakland CA 94612",
    "Home electric",
    "Home gas",
    "Demo Utility",
    "Green Button Connect My Data",
    "Green Button Download My Data",
    "Green Button",
    "America/Los_Angeles",
    "Download My Data",
    "client secret",
    "client id",
)
RUN = re.compile(r"\b[A-Za-z][a-z]*(?:[ ,'’]+[A-Za-z][a-z]*){2,}\b")
#: Words of English sentences that Spanish does not use.
STOPWORDS = frozenset(
    (
        "the",
        "your",
        "you",
        "and",
        "with",
        "this",
        "that",
        "is",
        "are",
        "for",
        "to",
        "of",
        "be",
        "has",
        "have",
        "will",
        "can",
        "it",
        "its",
        "my",
        "on",
        "at",
        "by",
        "an",
        "or",
        "we",
        "our",
        "their",
        "they",
        "any",
        "was",
        "were",
        "there",
        "here",
        "what",
        "which",
        "when",
    )
)


class _English:
    """Runs of three or more Latin words holding an English-only word."""

    @staticmethod
    def findall(text: str) -> list[str]:
        return [
            run
            for run in RUN.findall(text)
            if STOPWORDS & {w.lower() for w in re.findall(r"[A-Za-z]+", run)}
        ]


ENGLISH = _English()


def visible_text(html: str) -> str:
    """The page's text as a reader sees it: no head, script, style, code or pre."""
    body = html[html.index("<body") :]
    body = re.sub(r"<(code|pre|style|script)\b.*?</\1>", " ", body, flags=re.S)
    body = re.sub(r"<[^>]+>", " ", body)
    text = unescape(body)
    for kept in KEPT:
        text = text.replace(kept, " ")
    return re.sub(r"\s+", " ", text)


def pages(world: World) -> list[str]:
    auth_id = int(str(world.code_tokens()["authorizationURI"]).rsplit("/", 1)[1])
    return [
        "/account",
        "/account/authorizations",
        f"/account/authorizations/{auth_id}/revoke",
        f"/account/authorizations/{auth_id}/end",
        "/account/usage",
        "/account/usage?view=table&step=hour",
        "/account/usage?from=2001-01-01&to=2001-01-31",
        "/account/usage?from=junk",
        "/account/download",
        "/account/download?service=1",
        "/account/share",
        "/account/self-access",
        "/account/security",
        "/account/nothing-here",
        world.authorize_url(),
    ]


@pytest.mark.parametrize("language", ["th", "es"])
def test_no_english_sentence_on_a_translated_page(world: World, language: str) -> None:
    paths = pages(world)
    world.client.get("/language", params={"to": language, "next": "/"})
    found = {}
    for path in paths:
        r = world.client.get(path, headers={"Accept": "text/html"})
        assert f'<html lang="{language}">' in r.text, path
        english = ENGLISH.findall(visible_text(r.text))
        if english:
            found[path] = english
    world.client.post("/logout", data={})  # signed out: the public pages
    world.client.cookies.clear()
    world.client.cookies.set("gbconnect_lang", language)
    for path in ("/login", "/password/forgot", "/password/reset?token=forged"):
        english = ENGLISH.findall(visible_text(world.client.get(path).text))
        if english:
            found[path] = english
    assert found == {}

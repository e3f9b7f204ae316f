"""The portal in English, Spanish and Thai: the visitor's choice (the language switch
and its cookie), else ``Accept-Language`` (RFC 9110 section 12.5.4), else English;
dates and money the language's way; every page labelled with its language."""

from __future__ import annotations

import re

from tests.factories.world import World


def _lang(html: str) -> str:
    m = re.search(r'<html lang="([a-z]+)">', html)
    assert m, html[:200]
    return m.group(1)


def test_accept_language_chooses_the_language(world: World) -> None:
    world.client.cookies.clear()
    for header, expected in [
        ("es-MX,es;q=0.9,en;q=0.5", "es"),
        ("th-TH", "th"),
        ("fr-CA, th;q=0.4, es;q=0.8", "es"),
        ("de", "en"),
        ("*", "en"),
        ("es;q=0, th;q=0.1", "th"),
        (";;;q=abc,,,", "en"),
        ("x" * 5000, "en"),
    ]:
        r = world.client.get("/login", headers={"Accept-Language": header})
        assert r.status_code == 200, header
        assert _lang(r.text) == expected, header
        assert r.headers["content-language"] == expected
        assert "accept-language" in r.headers["vary"].lower()
        assert "cookie" in r.headers["vary"].lower()


def test_the_pages_speak_spanish_and_thai(world: World) -> None:
    world.client.cookies.clear()
    es = world.client.get("/login", headers={"Accept-Language": "es"}).text
    assert "Iniciar sesión" in es or "iniciar sesión" in es.lower()
    assert "Sign in to your" not in es
    th = world.client.get("/login", headers={"Accept-Language": "th"}).text
    assert "เข้าสู่ระบบ" in th
    assert "Sign in to your" not in th


def test_the_switch_remembers_the_choice_over_the_browsers(world: World) -> None:
    world.login()
    r = world.client.get(
        "/language",
        params={"to": "th", "next": "/account/usage?view=table"},
        follow_redirects=False,
    )
    assert r.status_code == 303
    assert r.headers["location"] == "/account/usage?view=table"
    cookie = r.headers["set-cookie"]
    assert "gbconnect_lang=th" in cookie and "Max-Age=31536000" in cookie
    assert "HttpOnly" in cookie and "SameSite=lax" in cookie.replace("Lax", "lax")
    # The remembered choice beats the browser's Accept-Language.
    page = world.client.get("/account", headers={"Accept-Language": "es"})
    assert _lang(page.text) == "th"
    assert 'aria-current="true">ไทย</span>' in page.text
    # Each other language is one link away, back to the same page.
    assert 'href="/language?to=es&amp;next=%2Faccount"' in page.text
    world.client.get("/language", params={"to": "en", "next": "/account"})
    assert _lang(world.client.get("/account").text) == "en"


def test_the_switch_refuses_what_it_does_not_know(world: World) -> None:
    world.client.cookies.clear()
    for target in ("https://evil.example/", "//evil.example/", "/\\evil", "javascript:x"):
        r = world.client.get(
            "/language", params={"to": "es", "next": target}, follow_redirects=False
        )
        assert r.status_code == 303 and r.headers["location"] == "/", target
    r = world.client.get("/language", params={"to": "xx", "next": "/login"}, follow_redirects=False)
    assert r.status_code == 303 and "set-cookie" not in r.headers
    r = world.client.get("/language", follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == "/"
    # A forged cookie value is ignored, not an error.
    world.client.cookies.set("gbconnect_lang", "xx")
    r = world.client.get("/login", headers={"Accept-Language": "es"})
    assert r.status_code == 200 and _lang(r.text) == "es"
    world.client.cookies.set("gbconnect_lang", '"\\x00;;')
    assert world.client.get("/login").status_code == 200


def test_dates_and_money_follow_the_language(world: World) -> None:
    world.code_tokens()
    world.client.get("/language", params={"to": "es", "next": "/account"})
    html = world.client.get("/account").text
    assert "88,12" in html and "US$" in html  # the latest bill
    assert re.search(r"\d{1,2} de [a-z]+ de \d{4}", html)  # its period
    world.client.get("/language", params={"to": "th", "next": "/account"})
    html = world.client.get("/account").text
    assert "US$88.12" in html
    assert "ค.ศ." in html or re.search(r"[\u0e00-\u0e7f]+ \d{4}", html)


def test_an_error_page_is_translated_and_does_not_repeat_the_query(world: World) -> None:
    world.login()
    world.client.get("/language", params={"to": "es", "next": "/"})
    r = world.client.get("/account/usage", params={"service": "999999999"})
    assert r.status_code == 404
    assert _lang(r.text) == "es"
    assert "999999999" not in r.text

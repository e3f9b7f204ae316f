"""The application form of the third-party portal: every ApplicationInformation field
that matters (REQ.21 espi.xsd; STANDARD.md section 4), read and checked.

The function blocks asked for are chosen in words: the data groups customers see on
the consent page (:data:`gbconnect.espi.blocks.DATA_GROUPS`) and the services, each
named by :data:`gbconnect.espi.blocks.TABLE`; the scope is built from the utility's
default scope with those blocks (:mod:`gbconnect.espi.scope`) and checked by
:func:`gbconnect.registration.services.check_scope` (only blocks the utility offers).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from gbconnect.config import Settings
from gbconnect.espi import blocks as fb
from gbconnect.espi import scope as espi_scope
from gbconnect.notify.delivery import NotifyUriError, check_notify_uri
from gbconnect.registration import models as rm
from gbconnect.registration.errors import RegistrationError
from gbconnect.registration.services import (
    DESCRIPTION_MAX,
    check_description,
    check_redirect_uri,
    check_scope,
)
from gbconnect.thirdparty_portal.accounts import PortalInputError

#: espi.xsd thirdPartyApplicationType.
APPLICATION_TYPES = {1: "Web", 2: "Desktop", 3: "Mobile", 4: "Device"}
#: espi.xsd thirdPartyApplicationUse.
APPLICATION_USES = {
    1: "Energy management",
    2: "Comparisons",
    3: "Government",
    4: "Academic",
    5: "Law enforcement",
}
#: thirdPartyApplicationStatus as the portal says it (espi.xsd: 1 development,
#: 2 review/test, 3 production, 4 retired).
THIRD_PARTY_STATUS = {
    1: "development",
    2: "awaiting approval",
    3: "production",
    4: "retired",
}
#: Blocks every application gets, whatever it chose (common, core, security, OAuth).
BASE_BLOCKS = frozenset({1, 3, 13, 14})
#: Interval metering (FB_4): it goes with any kind of usage chosen.
METERING = 4
#: The optional URIs: form field -> (attribute, label).
URI_FIELDS = {
    "client_uri": ("client_uri", "website"),
    "tos_uri": ("tos_uri", "terms of service"),
    "policy_uri": ("policy_uri", "privacy policy"),
    "logo_uri": ("logo_uri", "logo URI"),
    "portal_uri": ("portal_uri", "user portal screen URI"),
}
MAX_REDIRECT_URIS = 10


@dataclass(frozen=True)
class Choice:
    """A checkbox of the form: a group of data or a service, its blocks in words."""

    key: str
    label: str
    blocks: tuple[tuple[int, str], ...]


def choices(settings: Settings) -> tuple[list[Choice], list[Choice]]:
    """The data groups and the services the utility offers, as checkboxes."""
    offered = settings.supported_blocks
    grouped: set[int] = set()
    groups = []
    for g in fb.DATA_GROUPS:
        numbers = sorted(fb.with_current_numbers(g.blocks) & offered)
        grouped |= set(numbers)
        if numbers:
            groups.append(Choice(g.key, g.label, tuple((n, fb.TABLE[n].name) for n in numbers)))
    services = [
        Choice(f"fb{n}", fb.TABLE[n].name, ((n, fb.TABLE[n].name),))
        for n in sorted(offered - grouped - BASE_BLOCKS - {METERING})
        if n in fb.TABLE
    ]
    return groups, services


@dataclass
class ApplicationForm:
    """The form's values as typed (kept on error) and, once checked, as stored."""

    values: dict[str, str] = field(default_factory=dict)
    chosen: set[str] = field(default_factory=set)

    @classmethod
    def read(cls, form: Mapping[str, Sequence[str]]) -> ApplicationForm:
        def one(name: str, limit: int = 2048) -> str:
            values = form.get(name) or [""]
            return values[-1][:limit]

        names = (
            "client_name",
            "description",
            "redirect_uris",
            "notify_uri",
            "application_type",
            "application_use",
            *URI_FIELDS,
        )
        values = {n: one(n, 20_000 if n == "redirect_uris" else 2048) for n in names}
        return cls(values, {c[:16] for c in form.get("block", [])[:100]})

    @classmethod
    def of(cls, app: rm.ApplicationInformation, settings: Settings) -> ApplicationForm:
        values = {
            "client_name": app.client_name,
            "description": app.description or "",
            "redirect_uris": "\n".join(app.redirect_uris),
            "notify_uri": app.notify_uri or "",
            "application_type": str(app.application_type),
            "application_use": str(app.application_use or ""),
        }
        for name, (attr, _label) in URI_FIELDS.items():
            values[name] = getattr(app, attr) or ""
        asked = frozenset().union(*(espi_scope.parse(s).function_blocks for s in app.scopes))
        groups, services = choices(settings)
        chosen = {c.key for c in groups + services if {n for n, _ in c.blocks} & asked}
        return cls(values, chosen)

    # -- checking --

    def name(self) -> str:
        value = " ".join(self.values["client_name"].split())
        if not value:
            raise PortalInputError("Enter the application's name.", "client_name")
        if len(value) > 256:
            raise PortalInputError("The name is at most 256 characters.", "client_name")
        return value

    def description(self) -> str | None:
        try:
            return check_description(self.values["description"])
        except RegistrationError:
            raise PortalInputError(
                f"The description is plain text of at most {DESCRIPTION_MAX} characters.",
                "description",
            ) from None

    def redirect_uris(self, settings: Settings) -> list[str]:
        uris = [u.strip() for u in self.values["redirect_uris"].splitlines() if u.strip()]
        if not uris:
            raise PortalInputError("Enter at least one redirect URI.", "redirect_uris")
        if len(uris) > MAX_REDIRECT_URIS:
            raise PortalInputError(
                f"At most {MAX_REDIRECT_URIS} redirect URIs, one per line.", "redirect_uris"
            )
        for uri in uris:
            if len(uri) > 1024:
                raise PortalInputError(
                    "A redirect URI is at most 1024 characters.", "redirect_uris"
                )
            try:
                check_redirect_uri(uri, settings)
            except RegistrationError as exc:
                raise PortalInputError(_sentence(str(exc)), "redirect_uris") from None
        return uris

    def notify_uri(self, settings: Settings) -> str | None:
        uri = self.values["notify_uri"].strip()
        if not uri:
            return None
        if len(uri) > 1024:
            raise PortalInputError("The notify URI is at most 1024 characters.", "notify_uri")
        try:
            check_redirect_uri(uri, settings)
            check_notify_uri(uri, settings.notify_private_allowed)
        except (RegistrationError, NotifyUriError) as exc:
            text = str(exc).replace("redirect URI", "notify URI")
            raise PortalInputError(_sentence(text), "notify_uri") from None
        return uri

    def uris(self, settings: Settings) -> dict[str, str | None]:
        """The optional URIs by attribute (None when empty)."""
        out: dict[str, str | None] = {}
        for name, (attr, label) in URI_FIELDS.items():
            uri = self.values[name].strip()
            if uri:
                if len(uri) > 1024:
                    raise PortalInputError(f"The {label} is at most 1024 characters.", name)
                try:
                    check_redirect_uri(uri, settings)
                except RegistrationError:
                    raise PortalInputError(
                        f"The {label} must be an absolute http(s) URI without a fragment"
                        + (" (https in production)." if settings.env == "production" else "."),
                        name,
                    ) from None
            out[attr] = uri or None
        return out

    def application_type(self) -> int:
        text = self.values["application_type"].strip() or "1"
        if not text.isdigit() or int(text) not in APPLICATION_TYPES:
            raise PortalInputError("Choose the kind of application.", "application_type")
        return int(text)

    def application_use(self) -> int | None:
        text = self.values["application_use"].strip()
        if not text:
            return None
        if not text.isdigit() or int(text) not in APPLICATION_USES:
            raise PortalInputError("Choose what the application is used for.", "application_use")
        return int(text)

    def scope(self, settings: Settings) -> str:
        """The scope of the chosen blocks, from the utility's default scope."""
        groups, services = choices(settings)
        known = {c.key: c for c in groups + services}
        unknown = self.chosen - set(known)
        if unknown:
            raise PortalInputError("Choose among the kinds of data and services offered.", "block")
        if not any(c in self.chosen for c in (g.key for g in groups)):
            raise PortalInputError("Choose at least one kind of data.", "block")
        asked = set(BASE_BLOCKS & settings.supported_blocks)
        usage = {g.key for g in fb.DATA_GROUPS if g.usage}
        for key in self.chosen:
            asked |= {n for n, _ in known[key].blocks}
            if key in usage and METERING in settings.supported_blocks:
                asked.add(METERING)
        text = str(espi_scope.parse(settings.default_scope).with_function_blocks(asked))
        try:
            return check_scope(text, settings)
        except RegistrationError as exc:
            raise PortalInputError(_sentence(str(exc)), "block") from None


def _sentence(text: str) -> str:
    text = text.strip()
    return text[:1].upper() + text[1:] + ("" if text.endswith(".") else ".")


__all__ = [
    "APPLICATION_TYPES",
    "APPLICATION_USES",
    "THIRD_PARTY_STATUS",
    "ApplicationForm",
    "Choice",
    "choices",
]

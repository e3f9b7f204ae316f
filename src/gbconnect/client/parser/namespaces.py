"""The namespaces of Green Button documents (REQ.21 section 1) and the Clark names the
parser looks for; documents are read by namespace, never by prefix."""

from __future__ import annotations

ATOM = "http://www.w3.org/2005/Atom"
ESPI = "http://naesb.org/espi"
CUSTOMER = "http://naesb.org/espi/customer"


def atom(name: str) -> str:
    return f"{{{ATOM}}}{name}"


def espi(name: str) -> str:
    return f"{{{ESPI}}}{name}"


def local(tag: object) -> str:
    """The local part of a Clark name (``{ns}name`` -> ``name``)."""
    text = str(tag)
    return text.rsplit("}", 1)[-1]


def namespace(tag: object) -> str:
    text = str(tag)
    return text[1:].split("}", 1)[0] if text.startswith("{") else ""

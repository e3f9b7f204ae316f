"""XML namespaces of Green Button documents (REQ.21 section 1, Atom RFC 4287)."""

ATOM = "http://www.w3.org/2005/Atom"
ESPI = "http://naesb.org/espi"
CUSTOMER = "http://naesb.org/espi/customer"

#: Namespaces whose elements may be the payload of an Atom <content>.
PAYLOAD_NAMESPACES = frozenset({ESPI, CUSTOMER})

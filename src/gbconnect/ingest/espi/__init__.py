"""ESPI XML import: the Atom feed and its links (:mod:`.feed`), the espi.xsd resources
(:mod:`.usage`), the customer.xsd resources (:mod:`.customer`), and the importer that
streams a file through them (:mod:`.importer`)."""

from gbconnect.ingest.espi.feed import href_key, parent_candidates
from gbconnect.ingest.espi.importer import EspiImporter

__all__ = ["EspiImporter", "href_key", "parent_candidates"]

"""CSV importers: the gbconnect interval CSV (docs/csv.md) and the PG&E/Opower, SCE
and SDG&E "Download My Data" layouts (shared/espi/CSV-LAYOUTS.md), one module each;
:mod:`.registry` recognises a file's layout."""

from gbconnect.ingest.csv.registry import LAYOUTS, read_csv

__all__ = ["LAYOUTS", "read_csv"]

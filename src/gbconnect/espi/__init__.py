"""The standard itself (REQ.21 ESPI): no database, no web."""

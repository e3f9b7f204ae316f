"""gbconnect: a Green Button Connect My Data platform (NAESB REQ.21 ESPI 4.0)."""

__version__ = "0.1.0"

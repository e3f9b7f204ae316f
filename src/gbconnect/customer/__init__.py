"""Retail customers and customer.xsd data (accounts, agreements, locations, meters)."""

"""The utility's console (issue 12): staff accounts with roles, third-party approval,
customer and authorization search, import history, notification health, paper
authorizations (REQ.21 FB_40) and the audit log, under ``/console``.

English only: these pages are for the utility's own staff (docs/console.md).
"""

"""Notifications to third parties (REQ.21 FB_39, STANDARD.md section 3).

:mod:`gbconnect.notify.events` names what a third party is told about;
:mod:`gbconnect.notify.outbox` records each event with the transaction that caused
it; :mod:`gbconnect.notify.delivery` makes one POST of a ``BatchList`` to the third
party's ``thirdPartyNotifyUri`` and detects a failed one (GBA PSH004), and guards that
URI against the Data Custodian's own network. Durable delivery (a job per
notification, retries with backoff, a dead letter) is not written yet.
"""

"""Notifications to third parties (REQ.21 FB_39, STANDARD.md section 3).

:mod:`gbconnect.notify.events` names what a third party is told about;
:mod:`gbconnect.notify.outbox` records each event with the transaction that caused
it. Delivery (a ``BatchList`` POSTed to the third party's ``thirdPartyNotifyUri``,
retried, a failed POST detected as GBA PSH004 asks) is not written yet.
"""

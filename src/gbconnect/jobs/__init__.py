"""The job engine: what runs beside the web service.

Committed events (the ``notify_event`` outbox, :mod:`gbconnect.notify.outbox`) are
turned into notifications for the third parties they concern
(:mod:`~gbconnect.jobs.expand`); each notification is claimed by one worker at a time,
POSTed, and retried with backoff until delivered or dead
(:mod:`~gbconnect.jobs.queue`, :mod:`~gbconnect.jobs.retry`); the worker
(:mod:`~gbconnect.jobs.worker`) runs that loop in threads, in its own process
(``gbconnect worker``) or inside ``gbconnect serve``, and also ends expired
authorizations. The same code runs on SQLite and PostgreSQL: the notification table is
the queue, claimed with a lease (and ``FOR UPDATE SKIP LOCKED`` on PostgreSQL, so that
several worker processes share it).
"""

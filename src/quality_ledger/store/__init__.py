"""Where events are stored, split by concern: reading a ledger URL
(:mod:`.urls`), the ``eventsourcing`` settings it becomes (:mod:`.settings`),
which recorder keeps the hash chain (:mod:`.recorders`), looking before
opening (:mod:`.locate`), what a driver's error means (:mod:`.failures`) and
how events become stored rows (:mod:`.mapper`).

:mod:`quality_ledger.persistence` gathers their names; this package's
``__init__`` imports nothing, so each part loads only what it needs (the
mapper, say, never the PostgreSQL checks).
"""

"""What a recall leaves behind for the dashboard: the event, its hits, and usage counters.

All or nothing, and a fixed amount of work whatever the number of hits: the event row, the hit
rows, and one UPDATE each for the recalled memories' and triples' counters. On PostgreSQL that is
one statement (data-modifying CTEs, atomic by themselves): one round trip where a transaction of
separate statements takes five (BEGIN, three statements, COMMIT), which is what a recall waits
for most on a busy server. Elsewhere (SQLite, in process: no round trips) it is one transaction
of ORM statements. Both write exactly the same rows. The counters' rows are locked in the order
augmentation locks them (memories, then triples, each by id), so the two never deadlock.

A recall never waits behind writers to store its event. The answer is computed by then; only
the dashboard needs the event. So the event is written at once only if the database lets it
without waiting: on PostgreSQL the counters' rows are locked NOWAIT (augmentation locks the same
rows for the length of its batch); on SQLite, which has one writer at a time, the write lock is
waited for at most `WAIT_FOR_WRITE_LOCK_SECONDS`. Otherwise the event is stored a moment later
by this process's event writer (a thread, `EventWriter`), behind the writers: on PostgreSQL the
event row is still inserted at once (it locks nothing a writer holds), so the caller still gets
its id, and the hits and counters follow; on SQLite nothing can be written without the lock, so
the caller gets no event id (the exchange it records is not linked to the event) and the whole
event follows. Inside a transaction of the caller's the event is part of that transaction, as before.
"""

from __future__ import annotations

import atexit
import copy
import logging
import os
import queue
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from django.db import OperationalError, close_old_connections, connections, router, transaction
from django.db.models import F
from django.utils import timezone

from memory import db
from memory.models import Memory, RecallEvent, RecallHit, Triple
from memory.recall.hits import RecalledItem

logger = logging.getLogger(__name__)

WAIT_FOR_WRITE_LOCK_SECONDS = 0.05  # SQLite: how long a recall may wait for the write lock


@dataclass
class _EventWrite:
    """Everything one event writes, prepared once (the rows are built from `event` and `hits`)."""

    database: str
    event: RecallEvent
    rows: list[RecallHit]
    memory_ids: list[int]
    triple_ids: list[int]
    now: object

    @property
    def in_one_statement(self) -> bool:
        return db.event_in_one_statement(self.database)

    @property
    def usage(self) -> dict:
        """The counters each recalled row's usage goes to, in augmentation's lock order."""
        return {Memory: self.memory_ids, Triple: self.triple_ids}

    def detached(self) -> _EventWrite:
        """A copy for the event writer: the caller keeps (and returns) its own event object."""
        event = copy.copy(self.event)
        event._state = copy.copy(self.event._state)
        rows = [copy.copy(row) for row in self.rows]
        return _EventWrite(self.database, event, rows, self.memory_ids, self.triple_ids, self.now)


def store_recall_event(*, event: RecallEvent, hits: list[RecalledItem]) -> RecallEvent:
    """Save `event` with its hits and count the recalled rows' usage, without waiting behind other
    writers (see the module docstring). Returns `event`; its pk is None when it will be stored
    later by the event writer."""
    now = timezone.now()
    event.created_at = now
    write = _EventWrite(
        database=router.db_for_write(RecallEvent),
        event=event,
        rows=[_hit_row(event, rank, hit) for rank, hit in enumerate(hits, start=1)],
        memory_ids=[hit.memory_id for hit in hits if hit.memory_id],
        triple_ids=[hit.triple_id for hit in hits if hit.triple_id],
        now=now,
    )
    if connections[write.database].in_atomic_block:
        _write(write, wait=True)  # part of the caller's transaction, which holds what it holds
        return event
    try:
        _write(write, wait=False)
    except OperationalError as err:
        if not db.is_lock_wait(err, write.database):
            raise
        if write.in_one_statement:
            event.save(using=write.database)  # locks nothing augmentation holds: the caller gets the id
            later = write.detached()
            event_writer().submit(lambda: _write_hits_and_usage(later, wait=True), what=f"recall event {event.pk}")
        else:
            later = write.detached()
            event_writer().submit(lambda: _write(later, wait=True), what="a recall event")
    return event


def _write(write: _EventWrite, *, wait: bool) -> None:
    """The event, its hits and the usage counters; `wait=False` raises OperationalError rather than
    waiting (more than a moment, on SQLite) for a lock another writer holds."""
    if write.in_one_statement:
        event = write.event
        event.pk = db.insert_event_with_hits(write.database, event, write.rows, write.usage, write.now, nowait=not wait)
        event._state.adding, event._state.db = False, write.database
        return
    with db.write_lock_wait(write.database, None if wait else WAIT_FOR_WRITE_LOCK_SECONDS):
        with transaction.atomic(using=write.database):
            write.event.save(using=write.database)
            for row in write.rows:
                row.event = write.event
            RecallHit.objects.using(write.database).bulk_create(write.rows)
            for model, ids in write.usage.items():
                if ids:
                    model.objects.using(write.database).filter(pk__in=ids).update(
                        last_recalled_at=write.now, recall_count=F("recall_count") + 1
                    )


def _write_hits_and_usage(write: _EventWrite, *, wait: bool) -> None:
    """PostgreSQL, the event row already saved: its hits and the counters, in one statement."""
    if write.rows or write.memory_ids or write.triple_ids:
        db.insert_event_with_hits(write.database, write.event, write.rows, write.usage, write.now, nowait=not wait)


class EventWriter:
    """Stores, on one daemon thread of this process, the recall events that could not be stored at
    once, in the order they came, each retried a few times (a lock held longer than the database's
    timeout, a restarted database) before it is given up with an error in the log. Bounded: beyond
    `MAX_QUEUED` waiting events a new one is dropped with a warning rather than holding memory.
    At exit the queue is flushed for up to `EXIT_FLUSH_SECONDS`."""

    MAX_QUEUED = 1000
    ATTEMPTS = 3
    EXIT_FLUSH_SECONDS = 10.0

    def __init__(self) -> None:
        self._queue: queue.Queue[tuple[Callable[[], None], str]] = queue.Queue(maxsize=self.MAX_QUEUED)
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()

    def submit(self, write: Callable[[], None], *, what: str) -> None:
        try:
            self._queue.put_nowait((write, what))
        except queue.Full:
            logger.warning("memori: %s recall events are waiting to be stored; %s is dropped", self.MAX_QUEUED, what)
            return
        with self._lock:
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(target=self._run, name="memori-recall-events", daemon=True)
                self._thread.start()

    def flush(self, timeout: float) -> bool:
        """Wait until every submitted event is stored (or given up); False if time ran out."""
        deadline = time.monotonic() + timeout
        while self._queue.unfinished_tasks:
            if time.monotonic() >= deadline:
                return False
            time.sleep(0.01)
        return True

    def _run(self) -> None:
        while True:
            write, what = self._queue.get()
            try:
                self._store(write, what)
            finally:
                self._queue.task_done()

    def _store(self, write: Callable[[], None], what: str) -> None:
        try:
            for attempt in range(1, self.ATTEMPTS + 1):
                close_old_connections()
                try:
                    write()
                    return
                except Exception:  # noqa: BLE001 - the writer thread must survive anything
                    if attempt == self.ATTEMPTS:
                        logger.exception("memori: could not store %s; it is lost", what)
                        return
                    logger.warning("memori: could not store %s yet (attempt %s); retrying", what, attempt)
                    _close_connections()
                    time.sleep(attempt)
        finally:
            _close_connections()  # events wait here rarely: no connection is kept between them


def _close_connections() -> None:
    for connection in connections.all(initialized_only=True):
        connection.close()


_writer: EventWriter | None = None
_writer_lock = threading.Lock()


def event_writer() -> EventWriter:
    """This process's event writer (a forked child gets its own)."""
    global _writer
    with _writer_lock:
        if _writer is None:
            _writer = EventWriter()
            atexit.register(_writer.flush, EventWriter.EXIT_FLUSH_SECONDS)
        return _writer


def _forget_writer_in_child() -> None:
    global _writer, _writer_lock
    _writer, _writer_lock = None, threading.Lock()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_forget_writer_in_child)


def _hit_row(event: RecallEvent, rank: int, hit: RecalledItem) -> RecallHit:
    return RecallHit(
        event=event,
        rank=rank,
        memory_id=hit.memory_id,
        triple_id=hit.triple_id,
        episode_id=hit.episode_id,
        kind=hit.kind,
        content=hit.content,
        dense_score=hit.dense_score,
        lexical_score=hit.lexical_score,
        fused_score=hit.score,
        contributing_processes=hit.processes,
        via=(hit.via or "")[:200],
    )

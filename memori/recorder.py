"""Delivering recorded exchanges off the caller's path, with a disk spool so none is lost.

One `Recorder` per (server, API key) per process: a daemon thread posts queued exchanges to
POST /api/v1/exchanges/. When the server is down or slow the exchange is written to the spool
(one JSON file per exchange, named by its idempotency key) and delivered later: when the next
delivery succeeds, when a later process starts a recorder for the same server, or on a periodic retry.
The server deduplicates on the idempotency key, so a file delivered twice (two processes racing,
or a crash between delivery and unlink) still makes one exchange. At exit the queue is flushed
for a bounded time and whatever is left goes to the spool.

Order: no exchange of this process is posted while an older one it spooled is still waiting, so a
session's turns reach the server in the order they were said. And `catch_up()`, called before
every recall, first sends what this process spooled (trying the server even while it is
considered down: the recall is about to try it anyway), then waits for the queue: so the first
call after an outage sees what this process said during it.
"""

from __future__ import annotations

import atexit
import hashlib
import json
import logging
import os
import threading
import time
from collections import deque
from pathlib import Path

from memori._safe import never_break_host
from memori.config import MemoriConfig
from memori.errors import MemoriApiError, MemoriUnavailable
from memori.transport import Transport

logger = logging.getLogger("memori")

RETRY_MIN_SECONDS, RETRY_MAX_SECONDS = 1.0, 30.0
# 4xx answers that may heal without changing the payload: keep the file and retry later.
RETRYABLE_STATUSES = {401, 403, 404, 408, 409, 429}
CONFLICT = 409


class Recorder:
    """The delivery thread and spool of one (server, API key, spool folder) in this process.

    Its timeouts come from the config of the `Memori` object that started it (`record_timeout`,
    `exit_flush_seconds`, and `conflict_retry_seconds`: how long a spooled exchange answered 409 is
    retried — a conflict heals when it was a race, the recall event it names still being stored; one
    that lasts is refused for good, or it would hold back every later exchange of its process).
    """

    _instances: dict[tuple[str, str, str], Recorder] = {}
    _instances_lock = threading.Lock()

    @classmethod
    def for_server(cls, transport: Transport, identity: str, config: MemoriConfig) -> Recorder:
        """The recorder for this server and key (`identity`), started on first use."""
        spool_root = config.spool_dir
        key = (transport.api_url, identity, str(spool_root))
        with cls._instances_lock:
            recorder = cls._instances.get(key)
            if recorder is None:
                digest = hashlib.sha256(f"{transport.api_url}\0{identity}".encode()).hexdigest()[:16]
                recorder = cls(transport, spool_root / digest, config)
                recorder._identity = identity
                cls._instances[key] = recorder
            return recorder

    def __init__(self, transport: Transport, spool_path: Path, config: MemoriConfig) -> None:
        self.transport = transport
        self.spool_path = spool_path
        self._config = config
        self._queue: deque[dict] = deque()
        self._cond = threading.Condition()
        self._spool_lock = threading.Lock()  # one pass over the spool at a time in this process
        self._in_flight = 0  # queued + being delivered
        self._results: dict[str, dict] = {}
        self._rejected_keys: dict[str, str] = {}
        self._retry_at = 0.0  # monotonic time before which the server is considered down
        self._next_spool_pass = 0.0  # monotonic time of the next pass over the spool
        self._backoff = RETRY_MIN_SECONDS
        self._warned_down = False
        self._stopping = False
        self._forked_away = False
        self._current: dict | None = None  # the exchange being posted right now
        self._spooled_here: dict[str, None] = {}  # keys this process spooled and has not delivered, oldest first
        self._identity = ""
        self._thread = threading.Thread(target=self._run, name="memori-recorder", daemon=True)
        self._thread.start()
        atexit.register(self.close)

    # -- caller side -------------------------------------------------------------------------------
    def submit(self, payload: dict) -> None:
        """Queue one exchange (it must carry an idempotency_key). Never blocks, never raises."""
        if self._forked_away:  # an object created before a fork: hand over to this process's own recorder
            Recorder.for_server(self.transport, self._identity, self._config).submit(payload)
            return
        with self._cond:
            if self._stopping:
                self._spool(payload)
                return
            self._queue.append(payload)
            self._in_flight += 1
            self._cond.notify_all()

    def drain(self, timeout: float) -> bool:
        """Wait until every submitted exchange is delivered or spooled; False if time ran out."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while self._in_flight:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return False
                self._cond.wait(remaining)
        return True

    def catch_up(self, timeout: float) -> bool:
        """Before a recall: deliver the exchanges this process spooled (oldest first), then wait for
        the queued ones, within `timeout` in all. False if the server did not answer (it is down:
        the recall need not try), True otherwise (even if time ran out with some still waiting)."""
        deadline = time.monotonic() + timeout
        if self._forked_away:
            return Recorder.for_server(self.transport, self._identity, self._config).catch_up(timeout)
        for _ in range(3):  # an exchange being spooled as the server came back is sent on the next pass
            if self.own_spooled_keys() and not self._deliver_spool(deadline=deadline, own_only=True):
                return False
            self.drain(max(0.0, deadline - time.monotonic()))
            if not self.own_spooled_keys() or time.monotonic() >= deadline:
                break
        return True

    def own_spooled_keys(self) -> list[str]:
        """Keys of the exchanges this process spooled that are still waiting, oldest first."""
        with self._cond:
            return list(self._spooled_here)

    def result(self, idempotency_key: str) -> dict | None:
        """The server's answer for a delivered exchange ({exchange_id, job_id, session_id, created})."""
        with self._cond:
            return self._results.get(idempotency_key)

    def rejection(self, idempotency_key: str) -> str | None:
        """Why the server refused an exchange for good (kept in the spool's rejected/ folder), if it did."""
        with self._cond:
            return self._rejected_keys.get(idempotency_key)

    def spooled_keys(self) -> set[str]:
        try:
            return {p.stem for p in self.spool_path.glob("*.json")}
        except OSError:
            return set()

    def deliver_spool_now(self) -> None:
        """Ask the delivery thread to retry the spool at once (used after the server comes back)."""
        with self._cond:
            self._retry_at = 0.0
            self._next_spool_pass = 0.0
            self._cond.notify_all()

    def close(self) -> None:
        """At exit: flush for a bounded time, then spool whatever is still queued."""
        if self._forked_away:
            return
        self.drain(self._config.exit_flush_seconds)
        with self._cond:
            self._stopping = True
            leftovers = list(self._queue)
            if self._current is not None:  # still being posted: keep a copy (the server dedupes by key)
                leftovers.append(self._current)
            self._queue.clear()
            self._cond.notify_all()
        for payload in leftovers:
            self._spool(payload)
        # A short script may exit before the delivery thread got to older spooled exchanges: try them once.
        if time.monotonic() >= self._retry_at:
            self._deliver_spool(deadline=time.monotonic() + self._config.exit_flush_seconds)

    # -- delivery thread -------------------------------------------------------------------------
    def _run(self) -> None:
        self._deliver_spool()
        while True:
            with self._cond:
                while not self._queue and not self._stopping:
                    if not self._has_spool():
                        self._cond.wait()
                        continue
                    wait_for = max(self._retry_at, self._next_spool_pass) - time.monotonic()
                    if wait_for <= 0:
                        break
                    self._cond.wait(min(wait_for, RETRY_MAX_SECONDS))
                if self._stopping and not self._queue:
                    return
                payload = self._queue.popleft() if self._queue else None
            if payload is not None:
                self._current = payload
                try:  # the delivery thread must survive anything
                    with never_break_host(
                        f"unexpected error delivering exchange {payload.get('idempotency_key')}: {{err}}",
                        level=logging.ERROR,
                        traceback=True,
                    ):
                        self._deliver_one(payload)
                finally:
                    with self._cond:
                        self._current = None
                        self._in_flight -= 1
                        self._cond.notify_all()
            if time.monotonic() >= max(self._retry_at, self._next_spool_pass) and self._has_spool():
                with never_break_host(
                    "unexpected error delivering spooled exchanges: {err}", level=logging.ERROR, traceback=True
                ):
                    self._deliver_spool()
                self._next_spool_pass = time.monotonic() + RETRY_MIN_SECONDS

    def _has_spool(self) -> bool:
        try:
            return any(self.spool_path.glob("*.json"))
        except OSError:
            return False

    def _deliver_one(self, payload: dict) -> None:
        if time.monotonic() < self._retry_at:
            self._spool(payload)
            return
        if self.own_spooled_keys():  # older exchanges of this process first, to keep their order
            self._deliver_spool(own_only=True)
            if self.own_spooled_keys():
                self._spool(payload)
                return
        try:
            self._post(payload)
        except MemoriUnavailable as err:
            self._mark_down(err)
            self._spool(payload)
        except MemoriApiError as err:
            if err.status in RETRYABLE_STATUSES:
                self._mark_down(err)
                self._spool(payload)
            else:
                logger.error("memori: the server refused an exchange (%s); it is kept in %s", err, self._rejected())
                self._reject(payload["idempotency_key"], err)
                self._spool(payload, folder=self._rejected())

    def _deliver_spool(self, deadline: float | None = None, *, own_only: bool = False) -> bool:
        """One pass over the spool, oldest first (only this process's exchanges with `own_only`),
        until `deadline`. False if the server did not answer (it is marked down)."""
        wait = -1 if deadline is None else max(0.0, deadline - time.monotonic())
        if not self._spool_lock.acquire(timeout=wait):
            return True
        try:
            return self._deliver_spool_locked(deadline, own_only)
        finally:
            self._spool_lock.release()

    def _deliver_spool_locked(self, deadline: float | None, own_only: bool) -> bool:
        own = set(self.own_spooled_keys())  # before listing: each of these files was in place by then
        try:
            files = sorted(self.spool_path.glob("*.json"), key=lambda p: p.stat().st_mtime)
        except OSError:
            return True
        for gone in own - {path.stem for path in files}:  # delivered by another process, or rejected
            self._delivered_from_spool(gone)
        if own_only:
            files = [path for path in files if path.stem in own]
        for path in files:
            timeout = self._config.record_timeout
            if deadline is not None:
                timeout = min(timeout, deadline - time.monotonic())
                if timeout <= 0:
                    return True
            if not path.exists():
                self._delivered_from_spool(path.stem)
                continue  # delivered meanwhile by another pass
            try:
                payload = json.loads(path.read_text())
            except (OSError, ValueError):
                continue  # another process delivered it, or it is being written
            try:
                self._post(payload, timeout=timeout)
            except MemoriUnavailable as err:
                self._mark_down(err)
                return False
            except MemoriApiError as err:
                if err.status in RETRYABLE_STATUSES and not self._conflict_outlived(err, path):
                    self._mark_down(err)
                    return False
                logger.error("memori: the server refused a spooled exchange (%s); moved to %s", err, self._rejected())
                self._reject(path.stem, err)
                self._move(path, self._rejected() / path.name)
                self._delivered_from_spool(path.stem)
                continue
            path.unlink(missing_ok=True)
            self._delivered_from_spool(path.stem)
            logger.info("memori: delivered spooled exchange %s", path.stem)
        return True

    def _conflict_outlived(self, err: MemoriApiError, path: Path) -> bool:
        if err.status != CONFLICT:
            return False
        try:
            return time.time() - path.stat().st_mtime >= self._config.conflict_retry_seconds
        except OSError:
            return False

    def _delivered_from_spool(self, idempotency_key: str) -> None:
        with self._cond:
            self._spooled_here.pop(idempotency_key, None)

    def _post(self, payload: dict, timeout: float | None = None) -> None:
        if timeout is None:
            timeout = self._config.record_timeout
        answer = self.transport.post("/api/v1/exchanges/", payload, timeout=timeout)
        with self._cond:
            self._results[payload["idempotency_key"]] = answer
            self._retry_at = 0.0
            self._backoff = RETRY_MIN_SECONDS
            if self._warned_down:
                logger.warning("memori: memory server reachable again; delivering spooled exchanges")
            self._warned_down = False

    def _mark_down(self, err: Exception) -> None:
        with self._cond:
            self._retry_at = time.monotonic() + self._backoff
            self._backoff = min(self._backoff * 2, RETRY_MAX_SECONDS)
            if not self._warned_down:
                logger.warning("memori: could not record exchange (%s); spooling to %s", err, self.spool_path)
                self._warned_down = True

    def _reject(self, idempotency_key: str, err: Exception) -> None:
        with self._cond:
            self._rejected_keys[idempotency_key] = str(err)

    def _rejected(self) -> Path:
        return self.spool_path / "rejected"

    def _spool(self, payload: dict, folder: Path | None = None) -> None:
        folder = folder or self.spool_path
        try:
            folder.mkdir(mode=0o700, parents=True, exist_ok=True)  # exchanges are private conversation text
            target = folder / f"{payload['idempotency_key']}.json"
            tmp = folder / f".{payload['idempotency_key']}.{os.getpid()}.tmp"
            tmp.write_text(json.dumps(payload))
            os.replace(tmp, target)
            if folder == self.spool_path:
                with self._cond:
                    self._spooled_here[payload["idempotency_key"]] = None
        except OSError as err:
            logger.error("memori: could not spool exchange %s: %s", payload.get("idempotency_key"), err)

    @staticmethod
    def _move(source: Path, target: Path) -> None:
        try:
            target.parent.mkdir(parents=True, exist_ok=True)
            os.replace(source, target)
        except OSError:
            pass


def _forget_recorders_in_child() -> None:
    """A forked child (gunicorn, celery prefork) has no delivery thread: it starts its own recorders.
    The parent's recorders stay the parent's job (their locks may have been held at fork time)."""
    for recorder in Recorder._instances.values():
        recorder._forked_away = True
    Recorder._instances = {}
    Recorder._instances_lock = threading.Lock()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_forget_recorders_in_child)

"""One `Memori` object's recordings: the exchanges it submitted (what `augmentation.wait()` waits for) and
the turns each of its sessions already recorded (so a caller resending its history records it once).

Delivery itself is the process-wide `Recorder`'s job (memori/recorder.py), shared by every `Memori`
object talking to the same server with the same key.
"""

from __future__ import annotations

import threading
import time
import uuid
from collections import Counter
from datetime import UTC, datetime
from typing import Any

from memori._safe import never_break_host
from memori.attribution import Attribution
from memori.messages import fingerprint, unseen
from memori.recorder import Recorder


class Recordings:
    def __init__(self, recorder: Recorder, attribution: Attribution) -> None:
        self._recorder = recorder
        self._attribution = attribution
        self._lock = threading.Lock()
        self._recorded: dict[str, Counter] = {}  # session id -> fingerprints of the turns it recorded
        self._submitted: list[str] = []  # idempotency keys, in submission order

    # -- recording ---------------------------------------------------------------------------------
    def submit(self, forms: list[dict], **extra: Any) -> str:
        """Queue one exchange for delivery (never blocks); returns its idempotency key."""
        who = self._attribution
        key = str(uuid.uuid4())
        occurred_at = extra.pop("occurred_at", None) or datetime.now(UTC)
        payload: dict[str, Any] = {
            "entity_id": who.entity_id,
            "process_id": who.process_id,
            "session_id": who.session_id,
            "messages": forms,
            "idempotency_key": key,
            "occurred_at": occurred_at.isoformat(),
        }
        for name, value in extra.items():
            if value not in (None, "", {}):
                payload[name] = value
        with self._lock:
            self._recorded.setdefault(who.session_id, Counter()).update(fingerprint(f) for f in forms)
            self._submitted.append(key)
        self._recorder.submit(payload)
        return key

    def record_call(self, forms: list[dict], **extra: Any) -> None:
        """`submit` for a wrapped LLM call, which must go on whatever happens here."""
        with never_break_host("could not queue the exchange for recording: {err}"):
            self.submit(forms, **extra)

    def new_forms(self, forms: list[dict], history: list[dict]) -> list[dict]:
        """The caller's messages this session has not recorded yet (history from the server counts as recorded)."""
        with self._lock:
            seen = Counter(self._recorded.get(self._attribution.session_id, Counter()))
        seen.update(fingerprint({"role": h.get("role"), "content": h.get("content") or ""}) for h in history)
        return unseen(forms, seen)

    # -- what became of them -----------------------------------------------------------------------
    def submitted_keys(self) -> list[str]:
        with self._lock:
            return list(self._submitted)

    def result(self, idempotency_key: str) -> dict | None:
        """The server's answer for a delivered exchange ({exchange_id, job_id, session_id, created})."""
        return self._recorder.result(idempotency_key)

    def rejection(self, idempotency_key: str) -> str | None:
        """Why the server refused an exchange for good, if it did."""
        return self._recorder.rejection(idempotency_key)

    # -- delivery ------------------------------------------------------------------------------------
    def catch_up(self, timeout: float) -> bool:
        """Before a recall: deliver what this process spooled and queued (see Recorder.catch_up)."""
        return self._recorder.catch_up(timeout)

    def drain(self, timeout: float) -> bool:
        return self._recorder.drain(timeout)

    def deliver_spool_now(self) -> None:
        self._recorder.deliver_spool_now()

    def flush(self, timeout: float) -> bool:
        """Deliver queued and spooled exchanges now; True if nothing is left waiting for the server."""
        deadline = time.monotonic() + timeout
        self._recorder.deliver_spool_now()
        if not self._recorder.drain(timeout):
            return False
        while self._recorder.spooled_keys():
            if time.monotonic() >= deadline:
                return False
            self._recorder.deliver_spool_now()
            time.sleep(0.05)
        return True

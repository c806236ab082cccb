"""`Memori`: attribution, sessions, recall and manual capture, talking to the Memori server over REST."""

from __future__ import annotations

import logging
import os
import threading
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from memori.augmentation import Augmentation
from memori.direct import DirectTransport, direct_mode_available
from memori.errors import InvalidAttribution, MemoriConfigError, MemoriError, MemoriUnavailable
from memori.messages import fingerprint, record_form, unseen
from memori.recorder import Recorder
from memori.transport import RestTransport

logger = logging.getLogger("memori")

DEFAULT_API_URL = "http://127.0.0.1:8000"
MAX_ID_LENGTH = 200
MEMORY_KINDS = ("fact", "preference", "skill", "attribute")


def _env_float(name: str, default: float) -> float:
    raw = os.environ.get(name, "")
    try:
        return float(raw) if raw else default
    except ValueError:
        raise MemoriConfigError(f"{name} must be a number of seconds, got {raw!r}.") from None


WARNING_INTERVAL = 30.0  # an outage is reported once per Memori object per interval, not on every call


def validate_id(value: object, *, label: str) -> str:
    if not isinstance(value, str):
        raise InvalidAttribution(f"{label} must be a string, got {type(value).__name__}.")
    cleaned = value.strip()
    if not cleaned:
        raise InvalidAttribution(f"{label} must not be empty.")
    if len(cleaned) > MAX_ID_LENGTH:
        raise InvalidAttribution(f"{label} must be at most {MAX_ID_LENGTH} characters, got {len(cleaned)}.")
    if any(ord(ch) < 32 or ord(ch) == 127 for ch in cleaned):
        raise InvalidAttribution(f"{label} must not contain control characters.")
    return cleaned


@dataclass(frozen=True)
class RecalledMemory:
    """One item recall would inject: a fact/preference/skill/attribute, a knowledge-graph triple, or an
    episode (a past exchange as it was said)."""

    kind: str
    content: str
    score: float
    processes: list[str] = field(default_factory=list)
    memory_id: int | None = None
    triple_id: int | None = None
    episode_id: int | None = None


@dataclass
class CallContext:
    """What recall gave one wrapped call: the block to inject, history to re-inject, the event to cite."""

    block: str = ""
    history: list[dict] = field(default_factory=list)
    event_id: int | None = None


class Memori:
    """Shared memory for agents. `Memori().llm.register(client)` wraps an OpenAI client in place.

    Configuration comes from MEMORI_API_URL (default http://127.0.0.1:8000) and MEMORI_API_KEY;
    keyword arguments override them.
    """

    def __init__(
        self,
        api_url: str | None = None,
        api_key: str | None = None,
        *,
        recall_timeout: float | None = None,
        recall_limit: int | None = None,
        spool_dir: str | Path | None = None,
    ) -> None:
        self.api_url = (api_url or os.environ.get("MEMORI_API_URL") or DEFAULT_API_URL).rstrip("/")
        api_key = (api_key or os.environ.get("MEMORI_API_KEY") or "").strip()
        tenant = os.environ.get("MEMORI_TENANT", "").strip()
        transport: RestTransport | DirectTransport
        if api_key:
            transport = RestTransport(self.api_url, api_key)
        elif direct_mode_available() and tenant:
            transport = DirectTransport(tenant)  # inside the Django project: same database, no HTTP
            self.api_url, api_key = transport.api_url, f"direct:{tenant}"
        else:
            inside = (
                "; inside the Django project you may instead set MEMORI_TENANT to write to its database directly"
                if direct_mode_available()
                else ""
            )
            raise MemoriConfigError(
                "Memori needs an API key: set MEMORI_API_KEY (create one in the dashboard or with "
                "`python manage.py create_api_key`), and MEMORI_API_URL if the server is not at "
                f"{DEFAULT_API_URL}; or pass Memori(api_key=..., api_url=...){inside}."
            )
        self.recall_timeout = recall_timeout if recall_timeout is not None else _env_float("MEMORI_RECALL_TIMEOUT", 2.0)
        self.recall_limit = recall_limit
        self._transport = transport
        self._recorder = Recorder.for_server(self._transport, api_key, Path(spool_dir) if spool_dir else None)
        self._lock = threading.Lock()
        self._entity_id: str | None = None
        self._process_id: str | None = None
        self._session_id = str(uuid.uuid4())
        self._recorded: dict[str, Counter] = {}
        self._submitted: list[str] = []
        self._warned_off = False
        self._last_recall_warning = -WARNING_INTERVAL
        from memori.llm import LlmRegistry  # late import: llm imports this module's types

        self.llm = LlmRegistry(self)
        self.augmentation = Augmentation(self)

    def __repr__(self) -> str:
        return f"<Memori {self.api_url} entity={self._entity_id!r} process={self._process_id!r}>"

    # -- attribution and sessions ------------------------------------------------------------------
    def attribution(self, entity_id: str | None = None, process_id: str | None = None) -> Memori:
        """Whose memory (entity, shared by all its agents) and which agent (process) this is."""
        self._entity_id = validate_id(entity_id, label="entity_id")
        self._process_id = validate_id(process_id, label="process_id")
        return self

    @property
    def entity_id(self) -> str | None:
        return self._entity_id

    @property
    def process_id(self) -> str | None:
        return self._process_id

    @property
    def session_id(self) -> str:
        return self._session_id

    def new_session(self) -> str:
        """Start a new conversation: later calls do not see this object's earlier turns as history."""
        self._session_id = str(uuid.uuid4())
        return self._session_id

    def set_session(self, session_id: str | uuid.UUID) -> Memori:
        """Continue an existing conversation (e.g. one started by another process run)."""
        try:
            self._session_id = str(uuid.UUID(str(session_id)))
        except (ValueError, TypeError):
            raise InvalidAttribution(f"session_id must be a UUID, got {str(session_id)[:50]!r}.") from None
        return self

    # -- explicit operations ---------------------------------------------------------------------
    def recall(self, query: str, limit: int | None = None) -> list[RecalledMemory]:
        """The memories a call with this query would inject (raises if the server cannot answer)."""
        answer = self._transport.post("/api/v1/recall/", self._recall_body(query, limit), timeout=self.recall_timeout)
        return [
            RecalledMemory(
                kind=item.get("kind", ""),
                content=item.get("content", ""),
                score=float(item.get("score") or 0.0),
                processes=list(item.get("processes") or []),
                memory_id=item.get("memory_id"),
                triple_id=item.get("triple_id"),
                episode_id=item.get("episode_id"),
            )
            for item in answer.get("items", [])
        ]

    def record(self, messages: list[Any], *, model: str = "") -> str:
        """Record messages that never passed through a wrapped LLM call; returns the idempotency key."""
        self._require_attribution("record")
        forms = [record_form(m) for m in messages]
        if not forms:
            raise MemoriError("record() needs at least one message.")
        return self._submit(forms, model=model)

    def remember(self, text: str, kind: str = "fact") -> dict:
        """Store one memory directly (no augmentation): a fact, preference, skill or this process's attribute."""
        self._require_attribution("remember")
        if kind not in MEMORY_KINDS:
            raise MemoriError(f"kind must be one of {', '.join(MEMORY_KINDS)}, got {kind!r}.")
        if not isinstance(text, str) or not text.strip():
            raise MemoriError("remember() needs non-empty text.")
        body = {"entity_id": self._entity_id, "process_id": self._process_id, "kind": kind, "content": text.strip()}
        return self._transport.post("/api/v1/memories/", body, timeout=max(self.recall_timeout, 10.0))

    def flush(self, timeout: float = 10.0) -> bool:
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

    # -- used by the LLM wrappers ---------------------------------------------------------------
    def _memory_on(self) -> bool:
        if self._entity_id and self._process_id:
            return True
        if not self._warned_off:
            self._warned_off = True
            logger.warning(
                "memori: no attribution set, memory is off for this client "
                "(call mem.attribution(entity_id=..., process_id=...) to turn it on)"
            )
        return False

    def _prepare(self, query: str) -> CallContext:
        """Recall for one wrapped call. Never raises: a slow or absent server means a call without memory."""
        try:
            # Handoffs in one script, and the first call after an outage: deliver what this process
            # spooled and queued before recalling (bounded by the recall timeout).
            if not self._recorder.catch_up(self.recall_timeout):
                raise MemoriUnavailable("the memory server does not answer")
            if not query:
                return CallContext()
            answer = self._transport.post(
                "/api/v1/recall/", self._recall_body(query, self.recall_limit), timeout=self.recall_timeout
            )
            return CallContext(
                block=answer.get("block") or "",
                history=list(answer.get("history") or []),
                event_id=answer.get("event_id"),
            )
        except Exception as err:  # noqa: BLE001 - memory must never break the caller's LLM call
            message = f"memori: recall failed ({err}); calling the model without memory"
            now = time.monotonic()
            if now - self._last_recall_warning >= WARNING_INTERVAL:
                self._last_recall_warning = now
                logger.warning(message)
            else:
                logger.debug(message)
            return CallContext()

    def _new_forms(self, forms: list[dict], history: list[dict]) -> list[dict]:
        """The caller's messages this session has not recorded yet (history from the server counts as recorded)."""
        with self._lock:
            seen = Counter(self._recorded.get(self._session_id, Counter()))
        seen.update(fingerprint({"role": h.get("role"), "content": h.get("content") or ""}) for h in history)
        return unseen(forms, seen)

    def _record_call(
        self,
        forms: list[dict],
        *,
        model: str = "",
        usage: dict | None = None,
        latency_ms: float | None = None,
        recall_event_id: int | None = None,
        occurred_at: datetime | None = None,
    ) -> None:
        try:
            self._submit(
                forms,
                model=model,
                usage=usage,
                latency_ms=latency_ms,
                recall_event_id=recall_event_id,
                occurred_at=occurred_at,
            )
        except Exception as err:  # noqa: BLE001
            logger.warning("memori: could not queue the exchange for recording: %s", err)

    # -- internals -------------------------------------------------------------------------------
    def _submit(self, forms: list[dict], **extra: Any) -> str:
        key = str(uuid.uuid4())
        occurred_at = extra.pop("occurred_at", None) or datetime.now(UTC)
        payload: dict[str, Any] = {
            "entity_id": self._entity_id,
            "process_id": self._process_id,
            "session_id": self._session_id,
            "messages": forms,
            "idempotency_key": key,
            "occurred_at": occurred_at.isoformat(),
        }
        for name, value in extra.items():
            if value not in (None, "", {}):
                payload[name] = value
        with self._lock:
            self._recorded.setdefault(self._session_id, Counter()).update(fingerprint(f) for f in forms)
            self._submitted.append(key)
        self._recorder.submit(payload)
        return key

    def _recall_body(self, query: str, limit: int | None) -> dict:
        self._require_attribution("recall")
        body: dict[str, Any] = {
            "entity_id": self._entity_id,
            "process_id": self._process_id,
            "query": query,
            "session_id": self._session_id,
        }
        if limit is not None:
            body["limit"] = int(limit)
        return body

    def _require_attribution(self, what: str) -> None:
        if not (self._entity_id and self._process_id):
            raise InvalidAttribution(
                f"{what}() needs attribution: call mem.attribution(entity_id=..., process_id=...)."
            )

"""`Memori`: the object users hold. A small facade over its parts, each handed what it needs:

- `MemoriConfig` (memori/config.py): read once, here, from the arguments and the environment;
- `Attribution` (memori/attribution.py): entity, process and session;
- `RecallClient` (memori/recall.py): explicit recall, and recall before each wrapped call;
- `Recordings` (memori/recordings.py): what this object recorded, over the process-wide `Recorder`;
- `LlmRegistry` (memori/llm.py) and `Augmentation` (memori/augmentation.py), built on those.
"""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any

from memori.attribution import Attribution
from memori.augmentation import Augmentation
from memori.config import DEFAULT_API_URL, MemoriConfig
from memori.direct import DirectTransport
from memori.errors import MemoriConfigError, MemoriError
from memori.llm import CallMemory, LlmRegistry
from memori.messages import record_form
from memori.recall import RecallClient, RecalledMemory
from memori.recorder import Recorder
from memori.recordings import Recordings
from memori.transport import RestTransport, Transport

MEMORY_KINDS = ("fact", "preference", "skill", "attribute")

__all__ = ["Memori", "RecalledMemory"]


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
        self.config = MemoriConfig.from_environment(
            api_url=api_url,
            api_key=api_key,
            recall_timeout=recall_timeout,
            recall_limit=recall_limit,
            spool_dir=spool_dir,
        )
        self._transport, identity = connect(self.config)
        self.api_url = self._transport.api_url
        self._attribution = Attribution()
        self._recordings = Recordings(Recorder.for_server(self._transport, identity, self.config), self._attribution)
        self._recall = RecallClient(
            self._transport,
            self._attribution,
            self._recordings,
            timeout=self.config.recall_timeout,
            limit=self.config.recall_limit,
        )
        self.llm = LlmRegistry(self, CallMemory(self._attribution, self._recall, self._recordings))
        self.augmentation = Augmentation(self._recordings, self._transport)

    def __repr__(self) -> str:
        return f"<Memori {self.api_url} entity={self.entity_id!r} process={self.process_id!r}>"

    @property
    def recall_timeout(self) -> float:
        return self._recall.timeout

    @property
    def recall_limit(self) -> int | None:
        return self._recall.limit

    # -- attribution and sessions ------------------------------------------------------------------
    def attribution(self, entity_id: str | None = None, process_id: str | None = None) -> Memori:
        """Whose memory (entity, shared by all its agents) and which agent (process) this is."""
        self._attribution.set(entity_id, process_id)
        return self

    @property
    def entity_id(self) -> str | None:
        return self._attribution.entity_id

    @property
    def process_id(self) -> str | None:
        return self._attribution.process_id

    @property
    def session_id(self) -> str:
        return self._attribution.session_id

    def new_session(self) -> str:
        """Start a new conversation: later calls do not see this object's earlier turns as history."""
        return self._attribution.new_session()

    def set_session(self, session_id: str | uuid.UUID) -> Memori:
        """Continue an existing conversation (e.g. one started by another process run)."""
        self._attribution.set_session(session_id)
        return self

    # -- explicit operations ---------------------------------------------------------------------
    def recall(self, query: str, limit: int | None = None) -> list[RecalledMemory]:
        """The memories a call with this query would inject (raises if the server cannot answer)."""
        return self._recall.recall(query, limit)

    def record(self, messages: list[Any], *, model: str = "") -> str:
        """Record messages that never passed through a wrapped LLM call; returns the idempotency key."""
        self._attribution.require("record")
        forms = [record_form(m) for m in messages]
        if not forms:
            raise MemoriError("record() needs at least one message.")
        return self._recordings.submit(forms, model=model)

    def remember(self, text: str, kind: str = "fact") -> dict:
        """Store one memory directly (no augmentation): a fact, preference, skill or this process's attribute."""
        self._attribution.require("remember")
        if kind not in MEMORY_KINDS:
            raise MemoriError(f"kind must be one of {', '.join(MEMORY_KINDS)}, got {kind!r}.")
        if not isinstance(text, str) or not text.strip():
            raise MemoriError("remember() needs non-empty text.")
        body = {"entity_id": self.entity_id, "process_id": self.process_id, "kind": kind, "content": text.strip()}
        return self._transport.post("/api/v1/memories/", body, timeout=max(self.recall_timeout, 10.0))

    def flush(self, timeout: float = 10.0) -> bool:
        """Deliver queued and spooled exchanges now; True if nothing is left waiting for the server."""
        return self._recordings.flush(timeout)


def connect(config: MemoriConfig) -> tuple[Transport, str]:
    """The transport the configuration asks for, and the identity its recorder (and spool) is kept under:
    REST with an API key; inside the Django project without one, its database directly (MEMORI_TENANT)."""
    if config.api_key:
        return RestTransport(config.api_url, config.api_key), config.api_key
    if config.direct_mode_available and config.tenant:
        return DirectTransport(config.tenant, settings_module=config.django_settings_module), f"direct:{config.tenant}"
    inside = (
        "; inside the Django project you may instead set MEMORI_TENANT to write to its database directly"
        if config.direct_mode_available
        else ""
    )
    raise MemoriConfigError(
        "Memori needs an API key: set MEMORI_API_KEY (create one in the dashboard or with "
        "`python manage.py create_api_key`), and MEMORI_API_URL if the server is not at "
        f"{DEFAULT_API_URL}; or pass Memori(api_key=..., api_url=...){inside}."
    )

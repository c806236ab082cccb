"""Recall: what the server would inject for a query, asked explicitly (`mem.recall`) or before each
wrapped call, where it must never hold or break the call."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from memori._safe import OncePerInterval, never_break_host
from memori.attribution import Attribution
from memori.errors import MemoriUnavailable
from memori.recordings import Recordings
from memori.transport import Transport

WARNING_INTERVAL = 30.0  # an outage is reported once per Memori object per interval, not on every call


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


class RecallClient:
    def __init__(
        self,
        transport: Transport,
        attribution: Attribution,
        recordings: Recordings,
        *,
        timeout: float,
        limit: int | None,
    ) -> None:
        self._transport = transport
        self._attribution = attribution
        self._recordings = recordings
        self.timeout = timeout
        self.limit = limit
        self._outage_warning = OncePerInterval(WARNING_INTERVAL)

    def recall(self, query: str, limit: int | None = None) -> list[RecalledMemory]:
        """The memories a call with this query would inject (raises if the server cannot answer)."""
        answer = self._transport.post("/api/v1/recall/", self._body(query, limit), timeout=self.timeout)
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

    def for_call(self, query: str) -> CallContext:
        """Recall for one wrapped call. Never raises: a slow or absent server means a call without memory."""
        context = CallContext()
        with never_break_host("recall failed ({err}); calling the model without memory", throttle=self._outage_warning):
            context = self._for_call(query)
        return context

    def _for_call(self, query: str) -> CallContext:
        # Handoffs in one script, and the first call after an outage: deliver what this process
        # spooled and queued before recalling (bounded by the recall timeout).
        if not self._recordings.catch_up(self.timeout):
            raise MemoriUnavailable("the memory server does not answer")
        if not query:
            return CallContext()
        answer = self._transport.post("/api/v1/recall/", self._body(query, self.limit), timeout=self.timeout)
        return CallContext(
            block=answer.get("block") or "",
            history=list(answer.get("history") or []),
            event_id=answer.get("event_id"),
        )

    def _body(self, query: str, limit: int | None) -> dict[str, Any]:
        who = self._attribution
        who.require("recall")
        body: dict[str, Any] = {
            "entity_id": who.entity_id,
            "process_id": who.process_id,
            "query": query,
            "session_id": who.session_id,
        }
        if limit is not None:
            body["limit"] = int(limit)
        return body

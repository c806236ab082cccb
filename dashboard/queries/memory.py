"""Reads behind a memory's page: who mentioned it where, when it was recalled, its audit trail and
the memories it replaced."""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import QuerySet

from memory.models import AuditEntry, Memory, Provenance, RecallHit

HISTORY_SHOWN = 50


@dataclass(frozen=True)
class MemoryHistory:
    provenance: QuerySet[Provenance]  # every mention, newest first: the page paginates it
    recalls: list[RecallHit]
    audit: list[AuditEntry]
    replaces: list[Memory]


def memory_history(memory: Memory) -> MemoryHistory:
    provenance = (
        Provenance.objects.filter(memory=memory)
        .select_related("process", "session", "message", "job")
        .order_by("-mentioned_at", "-pk")
    )
    recalls = (
        RecallHit.objects.filter(memory=memory)
        .select_related("event__process", "event__session")
        .order_by("-event__created_at", "-pk")[:HISTORY_SHOWN]
    )
    audit = AuditEntry.objects.filter(object_type="memory", object_id=memory.pk).order_by("-created_at")[:HISTORY_SHOWN]
    return MemoryHistory(
        provenance=provenance,
        recalls=list(recalls),
        audit=list(audit),
        replaces=list(memory.supersedes.order_by("-valid_from", "-pk")[:HISTORY_SHOWN]),
    )

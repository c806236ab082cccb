"""What a recall leaves behind for the dashboard: the event, its hits, and usage counters.

One transaction, a fixed number of queries whatever the number of hits: the event row, the hit
rows in one bulk insert, and one UPDATE each for the recalled memories' and triples' counters.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.db import transaction
from django.db.models import F
from django.utils import timezone

from memory.models import Memory, RecallEvent, RecallHit, Triple


@dataclass(frozen=True)
class HitRecord:
    kind: str
    content: str
    memory_id: int | None
    triple_id: int | None
    dense_score: float
    lexical_score: float
    fused_score: float
    processes: list[str]
    via: str | None = None  # "co-mentioned with memory 12": brought by another result, not by the query


def store_recall_event(*, event: RecallEvent, hits: list[HitRecord]) -> RecallEvent:
    now = timezone.now()
    with transaction.atomic():
        event.created_at = now
        event.save()
        RecallHit.objects.bulk_create(
            [
                RecallHit(
                    event=event,
                    rank=rank,
                    memory_id=hit.memory_id,
                    triple_id=hit.triple_id,
                    kind=hit.kind,
                    content=hit.content,
                    dense_score=hit.dense_score,
                    lexical_score=hit.lexical_score,
                    fused_score=hit.fused_score,
                    contributing_processes=hit.processes,
                )
                for rank, hit in enumerate(hits, start=1)
            ]
        )
        memory_ids = [hit.memory_id for hit in hits if hit.memory_id]
        triple_ids = [hit.triple_id for hit in hits if hit.triple_id]
        if memory_ids:
            Memory.objects.filter(pk__in=memory_ids).update(last_recalled_at=now, recall_count=F("recall_count") + 1)
        if triple_ids:
            Triple.objects.filter(pk__in=triple_ids).update(last_recalled_at=now, recall_count=F("recall_count") + 1)
    return event

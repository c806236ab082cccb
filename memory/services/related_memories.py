"""The memories an extractor is shown beside an exchange, so that it can mark an update or a
contradiction of what the entity already knows (memory/extraction/types.py, ``RelatedMemory``).

Per job of a batch, the entity's memories closest to any message of its exchange, best first: one
embedding call for the whole batch, one matrix product per entity over its cached vectors
(memory/services/dedup.py), one query for the contents.
"""

from __future__ import annotations

from collections import defaultdict

import numpy as np

from memory.extraction.types import RelatedMemory
from memory.models import AugmentationJob, Memory, Message
from memory.services import dedup

RELATED_PER_MESSAGE = 20
RELATED_MIN_SCORE = 0.3
MAX_RELATED = 100
MAX_QUERY_CHARS = 2000


def related_memories(
    jobs: list[AugmentationJob],
    messages: dict[int, list[Message]],
    vectors: dict[int, dedup._EntityVectors],
    embedder,
) -> dict[int, list[RelatedMemory]]:
    """``messages``: each exchange's messages by exchange id; ``vectors``: each entity's cached
    vectors. Returns each job's related memories by job id (up to ``MAX_RELATED``)."""
    texts = [(job, m.content[:MAX_QUERY_CHARS]) for job in jobs for m in messages[job.exchange_id] if m.content.strip()]
    asked = [(job, text) for job, text in texts if vectors[job.entity_id].ids]
    wanted: dict[int, dict[int, None]] = {job.pk: {} for job in jobs}
    if asked:
        queries = np.asarray(embedder.embed([text for _, text in asked]), dtype=np.float32)
        rows_by_entity: dict[int, list[int]] = defaultdict(list)
        for index, (job, _) in enumerate(asked):
            rows_by_entity[job.entity_id].append(index)
        for entity_id, indexes in rows_by_entity.items():
            found = dedup.nearest(
                vectors[entity_id], queries[indexes], limit=RELATED_PER_MESSAGE, min_score=RELATED_MIN_SCORE
            )
            for index, ids in zip(indexes, found, strict=True):
                for memory_id in ids:
                    wanted[asked[index][0].pk].setdefault(memory_id, None)
    chosen = {job_id: list(ids)[:MAX_RELATED] for job_id, ids in wanted.items()}
    all_ids = {pk for ids in chosen.values() for pk in ids}
    rows = {
        pk: (kind, content)
        for pk, kind, content in Memory.objects.filter(pk__in=all_ids).values_list("pk", "kind", "content")
    }
    return {
        job_id: [RelatedMemory(memory_id=pk, kind=rows[pk][0], content=rows[pk][1]) for pk in ids if pk in rows]
        for job_id, ids in chosen.items()
    }

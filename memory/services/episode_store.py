"""Storing the episodes of a batch of augmented exchanges (memory/models/episodes.py).

Part of the batch's transaction (memory/services/extraction_store.py): each exchange's shareable
prose (memory/extraction/episodes.py) is embedded in the batch's one embedder call and inserted
in one statement for the whole batch. The exchange is unique, and the batch's stored episodes are
looked up first (one query), so running a job again (a retry, `manage.py reextract`) embeds and
writes nothing more.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from memory import db
from memory.extraction.episodes import episode_texts
from memory.models import AugmentationJob, Episode, Message


@dataclass(frozen=True)
class EpisodeWrite:
    job: AugmentationJob
    content: str


def new_episodes(jobs: Sequence[tuple[AugmentationJob, Sequence[Message], Sequence[str]]]) -> list[EpisodeWrite]:
    """The episode of each job's exchange (its messages, and the attributes its extraction kept
    private) that has shareable prose and none stored yet (one query), in the jobs' order."""
    stored = set(
        Episode.objects.filter(exchange_id__in=[job.exchange_id for job, _, _ in jobs]).values_list(
            "exchange_id", flat=True
        )
    )
    new = [(job, messages, attributes) for job, messages, attributes in jobs if job.exchange_id not in stored]
    contents = episode_texts(
        [([(message.role, message.content) for message in messages], attributes) for _, messages, attributes in new]
    )
    return [
        EpisodeWrite(job=job, content=content) for (job, _, _), content in zip(new, contents, strict=True) if content
    ]


def episodes_insert(
    writes: Sequence[EpisodeWrite], embeddings: Sequence[bytes | None], *, embedding_model: str
) -> None:
    """Insert the episodes (one statement; one a concurrent run inserted first is left as it is)."""
    rows = [
        (
            write.job.entity_id,
            write.job.process_id,
            write.job.exchange.session_id,
            write.job.exchange_id,
            write.content,
            write.job.exchange.occurred_at,
            embedding,
            embedding_model if embedding is not None else "",
        )
        for write, embedding in sorted(zip(writes, embeddings, strict=True), key=lambda pair: pair[0].job.exchange_id)
    ]
    db.insert_rows_ignore(Episode, EPISODE_COLUMNS, rows)


EPISODE_COLUMNS = (
    "entity_id",
    "process_id",
    "session_id",
    "exchange_id",
    "content",
    "occurred_at",
    "embedding",
    "embedding_model",
)

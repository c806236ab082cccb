"""The extraction step of augmentation: what the configured extractor makes of a batch of claimed
jobs, outside any transaction (an LLM call must not hold a lock).

For the whole batch: the jobs' messages in one query, the entities' cached vectors and each job's
related memories (memory/services/related_memories.py, one embedding call), and the extractor's
optional ``prepare`` (the rules extractor parses every message of the batch in one pass); then the
extractor job by job. A job whose extractor call raises is returned with its exception, for the
queue to retry or fail it (memory/services/augmentation.py); the others go on to be stored.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from dataclasses import dataclass, field

from memory.extraction.registry import get_extractor
from memory.extraction.types import ExchangeInput, ExchangeMessage
from memory.models import AugmentationJob, Message
from memory.services import dedup
from memory.services.extraction_store import JobExtraction
from memory.services.related_memories import related_memories

logger = logging.getLogger(__name__)


@dataclass
class BatchExtraction:
    extracted: list[JobExtraction] = field(default_factory=list)
    vectors: dict[int, dedup._EntityVectors] = field(default_factory=dict)  # by entity id, for storing
    errors: dict[int, Exception] = field(default_factory=dict)  # by job id: its extractor call raised


def extract_batch(jobs: list[AugmentationJob]) -> BatchExtraction:
    """Each job's extraction (jobs with exchange, entity and process loaded), in the jobs' order.
    Raises when the batch cannot be read or the extractor not built (every job then shares the error)."""
    from memory.embedding import get_embedder

    extractor = get_extractor()
    embedder = get_embedder()
    extractor_name = str(getattr(extractor, "name", "") or type(extractor).__name__)[:100]
    messages: dict[int, list[Message]] = defaultdict(list)
    for message in Message.objects.filter(exchange_id__in=[job.exchange_id for job in jobs]).order_by("position"):
        messages[message.exchange_id].append(message)
    batch = BatchExtraction(
        vectors=dedup.entities_vectors(sorted({job.entity_id for job in jobs}), embedder.name, embedder.dimensions)
    )
    related = related_memories(jobs, messages, batch.vectors, embedder)
    exchanges = {job.pk: _exchange_input(job, messages[job.exchange_id]) for job in jobs}
    _prepare(extractor, list(exchanges.values()))
    for job in jobs:
        try:
            extraction = extractor(exchanges[job.pk], related[job.pk])
        except Exception as exc:  # this job's error, not the batch's
            batch.errors[job.pk] = exc
            continue
        batch.extracted.append(
            JobExtraction(
                job=job,
                messages=messages[job.exchange_id],
                extraction=extraction,
                extractor_name=extractor_name,
                related_count=len(related[job.pk]),
            )
        )
    return batch


def _exchange_input(job: AugmentationJob, messages: list[Message]) -> ExchangeInput:
    return ExchangeInput(
        entity_id=job.entity.external_id,
        process_id=job.process.external_id,
        messages=tuple(ExchangeMessage(position=m.position, role=m.role, content=m.content) for m in messages),
        occurred_at=job.exchange.occurred_at,
    )


def _prepare(extractor, exchanges: list[ExchangeInput]) -> None:
    """Let an extractor that can work on the whole batch at once do so before it is called job by
    job; optional, and a failure only loses that head start."""
    prepare = getattr(extractor, "prepare", None)
    if callable(prepare):
        try:
            prepare(exchanges)
        except Exception:
            logger.exception("The extractor could not prepare a batch; its jobs run one by one.")

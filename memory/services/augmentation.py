"""Augmentation: one recorded exchange becomes deduplicated, attributed memory.

``augment_job(job_id)`` is what the Celery task (and ``manage.py augment_pending``) calls:

1. claim the job: queued -> running and attempts + 1 in one conditional UPDATE, so a second
   delivery of the same job does nothing while the first runs, and a finished job is a no-op;
2. read the exchange's messages and the entity's related memories (so the extractor can mark an
   update or a contradiction), run the configured extractor outside any transaction (an LLM call
   must not hold a database lock);
3. in one transaction, store what was extracted (memory/services/extraction_store.py), bump the
   entity's memory_version and mark the job done with its counts.

Transient errors (database unavailable or locked, LLM timeout or 5xx) put the job back in the
queue and raise ``RetryableJobError`` for the task to retry with backoff, up to
``MEMORI_AUGMENTATION_MAX_ATTEMPTS``; any other error, or the last attempt, fails the job with its
reason. A worker that dies mid-job leaves it "running": ``jobs_sweep_stale`` requeues it.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import timedelta

import numpy as np
from django.conf import settings
from django.db import InterfaceError, OperationalError, connection, transaction
from django.db.models import F, Q
from django.utils import timezone

from memory.extraction.registry import ExtractorUnavailable, get_extractor
from memory.extraction.types import ExchangeInput, ExchangeMessage, RelatedMemory
from memory.models import AugmentationJob, Memory, Message
from memory.services import dedup
from memory.services.embedding_store import bump_memory_version
from memory.services.extraction_store import store_extraction
from memory.services.publishing import publish_jobs

logger = logging.getLogger(__name__)

TRANSIENT_ERRORS = (OperationalError, InterfaceError, ExtractorUnavailable)
RELATED_PER_MESSAGE = 20
RELATED_MIN_SCORE = 0.3
MAX_RELATED = 100
MAX_ERROR_CHARS = 2000
NEVER_PUBLISHED_GRACE_SECONDS = 2.0

Status = AugmentationJob.Status


class RetryableJobError(Exception):
    """The job hit a transient error and was put back in the queue; retry it later."""

    def __init__(self, job_id: int, reason: str):
        super().__init__(f"augmentation job {job_id}: {reason}")
        self.job_id = job_id
        self.reason = reason


@dataclass
class JobOutcome:
    job_id: int
    status: str
    result: dict = field(default_factory=dict)
    skipped: str = ""  # why nothing ran: "missing", "done", "failed", "running"

    def as_dict(self) -> dict:
        return {"job_id": self.job_id, "status": self.status, "result": self.result, "skipped": self.skipped}


def augment_job(job_id: int) -> JobOutcome:
    """Run one augmentation job; idempotent (a finished job, or one running elsewhere, is left alone)."""
    job = claim_job(job_id)
    if job is None:
        status = AugmentationJob.objects.filter(pk=job_id).values_list("status", flat=True).first()
        return JobOutcome(job_id=job_id, status=status or "missing", skipped=status or "missing")
    try:
        result = _run_forgetting_cache_on_error(job)
    except TRANSIENT_ERRORS as exc:
        reason = _describe(exc)
        if job.attempts >= settings.MEMORI_AUGMENTATION_MAX_ATTEMPTS:
            _finish_failed(job, f"gave up after {job.attempts} attempts: {reason}")
            return JobOutcome(job_id=job_id, status=Status.FAILED)
        logger.warning("Augmentation job %s attempt %s failed (%s); will retry.", job_id, job.attempts, reason)
        _requeue(job, reason)
        raise RetryableJobError(job_id, reason) from exc
    except Exception as exc:
        logger.exception("Augmentation job %s failed.", job_id)
        _finish_failed(job, _describe(exc))
        return JobOutcome(job_id=job_id, status=Status.FAILED)
    return JobOutcome(job_id=job_id, status=Status.DONE, result=result)


def claim_job(job_id: int) -> AugmentationJob | None:
    """queued -> running, attempts + 1, atomically; None when the job is not queued."""
    with transaction.atomic():
        _commit_without_waiting_for_disk()  # a lost claim leaves the job queued: the sweeper has it
        claimed = AugmentationJob.objects.filter(pk=job_id, status=Status.QUEUED).update(
            status=Status.RUNNING, attempts=F("attempts") + 1, started_at=timezone.now(), finished_at=None
        )
        if not claimed:
            return None
        return AugmentationJob.objects.select_related("exchange", "entity", "process").get(pk=job_id)


def _run_forgetting_cache_on_error(job: AugmentationJob) -> dict:
    try:
        return _run(job)
    except BaseException:
        dedup.forget_entity(job.entity_id)  # rows it cached were rolled back
        raise


def _run(job: AugmentationJob) -> dict:
    from memory.embedding import get_embedder

    extractor = get_extractor()
    embedder = get_embedder()
    messages = list(Message.objects.filter(exchange_id=job.exchange_id).order_by("position"))
    vectors = dedup.entity_vectors(job.entity_id, embedder.name, embedder.dimensions)
    related = _related_memories(vectors, messages, embedder)
    exchange = ExchangeInput(
        entity_id=job.entity.external_id,
        process_id=job.process.external_id,
        messages=tuple(ExchangeMessage(position=m.position, role=m.role, content=m.content) for m in messages),
    )
    extraction = extractor(exchange, related)
    extractor_name = str(getattr(extractor, "name", "") or type(extractor).__name__)[:100]
    with transaction.atomic():
        _commit_without_waiting_for_disk()
        result = store_extraction(job=job, messages=messages, extraction=extraction, vectors=vectors)
        result["extractor"] = extractor_name
        result["related_memories"] = len(related)
        if result["memories_created"] or result["mentions_added"] or result["triples_created"]:
            bump_memory_version(job.entity_id)
        AugmentationJob.objects.filter(pk=job.pk).update(
            status=Status.DONE, result=result, error="", extractor=extractor_name, finished_at=timezone.now()
        )
    return result


def _commit_without_waiting_for_disk() -> None:
    """On PostgreSQL, this transaction's commit does not wait for the WAL flush. Safe here: the
    job's status commits with its memories, so a crash that loses the commit loses both, and the
    sweeper runs the job again. (Recording an exchange keeps the default: it must be durable.)"""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SET LOCAL synchronous_commit TO OFF")


def _related_memories(vectors, messages: list[Message], embedder) -> list[RelatedMemory]:
    """The entity's memories closest to any message of the exchange, best first."""
    texts = [m.content[:2000] for m in messages if m.content.strip()]
    if not vectors.ids or not texts:
        return []
    queries = np.asarray(embedder.embed(texts), dtype=np.float32)
    ids: dict[int, None] = {}
    for query in queries:
        for memory_id in dedup.nearest(vectors, query, limit=RELATED_PER_MESSAGE, min_score=RELATED_MIN_SCORE):
            ids.setdefault(memory_id, None)
    wanted = list(ids)[:MAX_RELATED]
    rows = {
        pk: (kind, content)
        for pk, kind, content in Memory.objects.filter(pk__in=wanted).values_list("pk", "kind", "content")
    }
    return [RelatedMemory(memory_id=pk, kind=rows[pk][0], content=rows[pk][1]) for pk in wanted if pk in rows]


def _describe(exc: BaseException) -> str:
    text = str(exc).strip() or type(exc).__name__
    return f"{type(exc).__name__}: {text}"[:MAX_ERROR_CHARS]


def _finish_failed(job: AugmentationJob, reason: str) -> None:
    AugmentationJob.objects.filter(pk=job.pk).update(
        status=Status.FAILED, error=reason[:MAX_ERROR_CHARS], finished_at=timezone.now()
    )


def _requeue(job: AugmentationJob, reason: str) -> None:
    # published_at: the task's retry is the next publish; the sweeper leaves it alone until stale.
    AugmentationJob.objects.filter(pk=job.pk, status=Status.RUNNING).update(
        status=Status.QUEUED, error=reason[:MAX_ERROR_CHARS], published_at=timezone.now()
    )


@dataclass
class SweepResult:
    requeued_running: int = 0
    failed_running: int = 0
    republished: int = 0
    stale_queued: int = 0

    def as_dict(self) -> dict:
        return self.__dict__.copy()


def jobs_sweep_stale(*, older_than: float | None = None, limit: int = 1000) -> SweepResult:
    """Republish what the broker lost: queued jobs never published (the broker was down at commit)
    or published more than ``older_than`` seconds ago (default ``MEMORI_STALE_JOB_SECONDS``), and
    running jobs started that long ago, whose worker died (failed if out of attempts)."""
    seconds = settings.MEMORI_STALE_JOB_SECONDS if older_than is None else older_than
    now = timezone.now()
    cutoff = now - timedelta(seconds=seconds)
    sweep = SweepResult()
    requeued: list[int] = []
    for job_id, attempts in AugmentationJob.objects.filter(status=Status.RUNNING, started_at__lt=cutoff).values_list(
        "pk", "attempts"
    )[:limit]:
        stale = AugmentationJob.objects.filter(pk=job_id, status=Status.RUNNING, started_at__lt=cutoff)
        if attempts >= settings.MEMORI_AUGMENTATION_MAX_ATTEMPTS:
            reason = f"worker lost: still running after {seconds:g}s on attempt {attempts} of {attempts}"
            sweep.failed_running += stale.update(status=Status.FAILED, error=reason, finished_at=now)
        else:
            if stale.update(status=Status.QUEUED, error="worker lost; requeued"):
                sweep.requeued_running += 1
                requeued.append(job_id)
    grace = now - timedelta(seconds=min(seconds, NEVER_PUBLISHED_GRACE_SECONDS))
    stale_queued = (
        AugmentationJob.objects.filter(status=Status.QUEUED)
        .filter(Q(published_at__isnull=True, queued_at__lt=grace) | Q(published_at__lt=cutoff))
        .order_by("queued_at")
        .values_list("pk", flat=True)[:limit]
    )
    ids = requeued + [job_id for job_id in stale_queued if job_id not in requeued]
    sweep.stale_queued = len(ids)
    if ids:
        sweep.republished = publish_jobs(ids)
        logger.info("Sweeper republished %d of %d stale augmentation jobs.", sweep.republished, len(ids))
    return sweep


def pending_job_ids(*, limit: int | None = None) -> list[int]:
    jobs = AugmentationJob.objects.filter(status=Status.QUEUED).order_by("queued_at").values_list("pk", flat=True)
    return list(jobs[:limit] if limit else jobs)

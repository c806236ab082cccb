"""Augmentation: recorded exchanges become deduplicated, attributed memory.

``job_augment_delivered(job_id)`` is what the Celery task runs for a delivered message;
``job_augment_in_batch(job_id)`` runs a job with other queued ones; ``job_augment(job_id)`` runs
exactly one job (tests, benches); ``jobs_backfill(job_ids)`` runs exactly the jobs named, in batches
(``manage.py augment_pending``, ``reextract``). Each:

1. claims its jobs (memory/services/job_queue.py): the task's own job and up to ``batch_size - 1``
   other queued ones, then, for a delivered message, the jobs riding on messages. A delivered task
   whose job is already finished (a batch took it) or running elsewhere does nothing more than look
   its status up;
2. runs the configured extractor on them outside any transaction (memory/services/batch_extraction.py);
3. in one transaction, stores what was extracted (memory/services/extraction_store.py), bumps the
   entities' memory_version and marks the jobs done with their counts. If storing the batch fails
   for another reason than a transient one, each job is stored alone, so only the culprit fails.

Transient errors (database unavailable or locked, LLM timeout or 5xx) put a job back in the queue
(its own task retries it with backoff, up to ``MEMORI_AUGMENTATION_MAX_ATTEMPTS``; the other jobs of
its batch are published again); any other error, or the last attempt, fails the job with its
reason. A worker that dies mid-job leaves it "running": the sweeper requeues it.
"""

from __future__ import annotations

import logging

from django.db import InterfaceError, OperationalError, transaction

from memory import db
from memory.extraction.registry import ExtractorUnavailable
from memory.models import AugmentationJob
from memory.services import dedup, job_queue
from memory.services.batch_extraction import extract_batch
from memory.services.embedding_store import bump_memory_version
from memory.services.extraction_store import JobExtraction, store_extractions
from memory.services.job_queue import JobOutcome, RetryableJobError

logger = logging.getLogger(__name__)

TRANSIENT_ERRORS = (OperationalError, InterfaceError, ExtractorUnavailable)
CHANGES = ("memories_created", "mentions_added", "triples_created", "episodes_created")  # what moves memory_version

Status = AugmentationJob.Status


def job_augment(job_id: int) -> JobOutcome:
    """Run exactly this job; idempotent (a finished job, or one running elsewhere, is left alone)."""
    return _run_from(job_id, batch_size=1)


def job_augment_in_batch(job_id: int, *, batch_size: int | None = None) -> JobOutcome:
    """Run this job together with up to ``batch_size - 1`` other queued jobs; this job's outcome.
    Raises ``RetryableJobError`` when this job was put back in the queue."""
    status = job_queue.job_status(job_id)
    if status != Status.QUEUED:  # a batch took it, or it is gone: one primary-key lookup, no claim
        return job_queue.job_skipped(job_id, status)
    return _run_from(job_id, batch_size=batch_size or job_queue.batch_size())


def job_augment_delivered(job_id: int) -> JobOutcome:
    """What a delivered broker message runs: the riders recorded before this job (published
    without a message of their own, memory/services/job_queue.py; the oldest work goes first), then
    ``job_augment_in_batch``, then a batch of the other riders; this job's outcome. Raises
    ``RetryableJobError`` as ``job_augment_in_batch`` does."""
    size = job_queue.batch_size()
    while riders := job_queue.jobs_claim_riders(batch_size=size, recorded_before=job_id):
        if _run_riders(riders):
            break
    outcome = job_augment_in_batch(job_id, batch_size=size)
    if riders := job_queue.jobs_claim_riders(batch_size=size):
        _run_riders(riders)
        job_queue.jobs_publish_riders()  # the others, if the messages waiting have no room for them
    return outcome


def jobs_backfill(job_ids: list[int], *, batch_size: int | None = None) -> dict[int, JobOutcome]:
    """Run exactly these jobs in this process, a batch at a time (operators' backfills); every
    job's outcome. A job not queued is skipped; one hitting a transient error is left queued with
    its reason (``retry_reason``) for the sweeper to republish."""
    size = batch_size or job_queue.batch_size()
    outcomes: dict[int, JobOutcome] = {}
    for start in range(0, len(job_ids), size):
        chunk = job_ids[start : start + size]
        jobs = job_queue.jobs_claim_exactly(chunk)
        if jobs:
            outcomes.update(_run_claimed(jobs))
        missed = [job_id for job_id in chunk if job_id not in outcomes]
        statuses = job_queue.jobs_status(missed)
        outcomes.update({job_id: job_queue.job_skipped(job_id, statuses.get(job_id)) for job_id in missed})
    return outcomes


def _run_from(job_id: int, *, batch_size: int) -> JobOutcome:
    jobs = job_queue.jobs_claim(job_id, batch_size=batch_size)
    outcomes = _run_claimed(jobs) if jobs else {}
    job_queue.jobs_republish([o.job_id for o in outcomes.values() if o.retry_reason and o.job_id != job_id])
    outcome = outcomes.get(job_id) or job_queue.job_skipped(job_id, job_queue.job_status(job_id))
    if outcome.retry_reason:
        raise RetryableJobError(job_id, outcome.retry_reason)
    return outcome


def _run_riders(jobs: list[AugmentationJob]) -> bool:
    """Run claimed riders; those put back in the queue get a message of their own (they now wait
    for a retry). Whether any was."""
    retried = [outcome.job_id for outcome in _run_claimed(jobs).values() if outcome.retry_reason]
    job_queue.jobs_republish(retried)
    return bool(retried)


def _run_claimed(jobs: list[AugmentationJob]) -> dict[int, JobOutcome]:
    """Extract and store claimed jobs; every job ends done, failed, or back in the queue."""
    try:
        batch = extract_batch(jobs)
    except Exception as exc:  # e.g. a misconfigured extractor, or the database gone: every job says why
        if not isinstance(exc, TRANSIENT_ERRORS):
            logger.exception("Augmentation of jobs %s failed.", [job.pk for job in jobs])
        return {job.pk: _after_error(job, exc, log=False) for job in jobs}
    by_id = {job.pk: job for job in jobs}
    outcomes = {job_id: _after_error(by_id[job_id], exc) for job_id, exc in batch.errors.items()}
    if not batch.extracted:
        return outcomes
    try:
        results = _store(batch.extracted, batch.vectors)
    except Exception as exc:
        if isinstance(exc, TRANSIENT_ERRORS) or len(batch.extracted) == 1:
            outcomes.update({item.job.pk: _after_error(item.job, exc) for item in batch.extracted})
        else:
            logger.warning("Storing a batch of %d jobs failed (%s); storing each alone.", len(batch.extracted), exc)
            outcomes.update({item.job.pk: _store_alone(item, batch.vectors) for item in batch.extracted})
    else:
        outcomes.update({pk: JobOutcome(job_id=pk, status=Status.DONE, result=r) for pk, r in results.items()})
    return outcomes


def _store_alone(item: JobExtraction, vectors) -> JobOutcome:
    try:
        result = _store([item], vectors)[item.job.pk]
    except Exception as exc:
        return _after_error(item.job, exc)
    return JobOutcome(job_id=item.job.pk, status=Status.DONE, result=result)


def _store(items: list[JobExtraction], vectors: dict[int, dedup._EntityVectors]) -> dict[int, dict]:
    """One transaction: what the jobs produced, the entities' new memory_version, the jobs done.
    Its commit need not wait for the disk: a crash that loses it loses the jobs' "done" too, and
    the sweeper runs them again. (Recording an exchange keeps the default: it must be durable.)"""
    try:
        with transaction.atomic():
            db.commit_without_waiting_for_disk()
            results = store_extractions(items, vectors)
            changed: set[int] = set()
            for item in items:
                result = results[item.job.pk]
                result["extractor"] = item.extractor_name
                result["related_memories"] = item.related_count
                if any(result[name] for name in CHANGES):
                    changed.add(item.job.entity_id)
            if changed:
                bump_memory_version(*changed)
            job_queue.jobs_mark_done([(item.job, results[item.job.pk], item.extractor_name) for item in items])
    except BaseException:
        dedup.forget_entities({item.job.entity_id for item in items})  # rows it cached were rolled back
        raise
    return results


def _after_error(job: AugmentationJob, exc: BaseException, *, log: bool = True) -> JobOutcome:
    """A transient error puts the job back in the queue (failed on its last attempt); any other
    error fails it with its reason."""
    if isinstance(exc, TRANSIENT_ERRORS):
        return job_queue.job_retry_or_fail(job, _describe(exc))
    if log:
        logger.error("Augmentation job %s failed.", job.pk, exc_info=exc)
    return job_queue.job_fail(job, _describe(exc))


def _describe(exc: BaseException) -> str:
    text = str(exc).strip() or type(exc).__name__
    return f"{type(exc).__name__}: {text}"[: job_queue.MAX_ERROR_CHARS]

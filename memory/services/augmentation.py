"""Augmentation: recorded exchanges become deduplicated, attributed memory.

``job_augment_delivered(job_id)`` is what the Celery task runs for a delivered message;
``job_augment_in_batch(job_id)`` runs a job with other queued ones; ``job_augment(job_id)`` runs
exactly one job (tests, benches); ``jobs_backfill(job_ids)`` runs exactly the jobs named, in batches
(``manage.py augment_pending``, ``reextract``). Each:

1. claims its jobs (memory/services/job_queue.py): the task's own job and up to ``batch_size - 1``
   other queued ones, then, for a delivered message, the jobs riding on messages. A delivered task
   whose job is already finished (a batch took it) or running elsewhere does nothing more than look
   its status up;
2. reads the jobs' messages and each entity's related memories (memory/services/related_memories.py),
   then runs the configured extractor outside any transaction (an LLM call must not hold a lock);
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
import time
from collections import defaultdict

from django.db import InterfaceError, OperationalError, transaction

from memory import db
from memory.extraction.registry import ExtractorUnavailable, get_extractor
from memory.extraction.types import ExchangeInput, ExchangeMessage
from memory.models import AugmentationJob, Message
from memory.services import dedup, job_queue
from memory.services.embedding_store import bump_memory_version
from memory.services.extraction_store import JobExtraction, store_extractions
from memory.services.job_queue import JobOutcome, RetryableJobError
from memory.services.related_memories import related_memories

logger = logging.getLogger(__name__)

TRANSIENT_ERRORS = (OperationalError, InterfaceError, ExtractorUnavailable)
MAX_RIDING_SECONDS = 30.0  # a task stops taking riders after this long (a worker's warm shutdown waits for it)
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
    """What a delivered broker message runs: ``job_augment_in_batch``, then the jobs riding on
    messages (published without one of their own, memory/services/job_queue.py), a batch at a
    time, until none is left; this job's outcome. Raises ``RetryableJobError`` as the former does."""
    outcome = job_augment_in_batch(job_id)
    _run_riders(job_queue.batch_size())
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


def _run_riders(size: int) -> None:
    """Claim and run the oldest riders (queued jobs without a message of their own), a batch at a
    time, until none is left: they count on a delivered message to do this. After
    ``MAX_RIDING_SECONDS``, or when a batch meets a transient error, what is left is published
    instead (a message per batch)."""
    deadline = time.monotonic() + MAX_RIDING_SECONDS
    while jobs := job_queue.jobs_claim_riders(batch_size=size):
        retried = [o.job_id for o in _run_claimed(jobs).values() if o.retry_reason]
        job_queue.jobs_republish(retried)
        if retried or time.monotonic() > deadline:
            job_queue.jobs_publish_riders()
            return


def _run_claimed(jobs: list[AugmentationJob]) -> dict[int, JobOutcome]:
    """Extract and store claimed jobs; every job ends done, failed, or back in the queue."""
    outcomes: dict[int, JobOutcome] = {}
    try:
        extracted, vectors = _extract_all(jobs, outcomes)
    except TRANSIENT_ERRORS as exc:
        return {**outcomes, **{job.pk: _after_transient(job, exc) for job in jobs if job.pk not in outcomes}}
    except Exception as exc:  # e.g. a misconfigured extractor: every job says why
        logger.exception("Augmentation of jobs %s failed.", [job.pk for job in jobs])
        return {**outcomes, **{job.pk: _fail(job, exc) for job in jobs if job.pk not in outcomes}}
    if not extracted:
        return outcomes
    try:
        results = _store(extracted, vectors)
    except TRANSIENT_ERRORS as exc:
        outcomes.update({item.job.pk: _after_transient(item.job, exc) for item in extracted})
    except Exception as exc:
        if len(extracted) == 1:
            logger.exception("Augmentation job %s failed.", extracted[0].job.pk)
            outcomes[extracted[0].job.pk] = _fail(extracted[0].job, exc)
        else:
            logger.warning("Storing a batch of %d jobs failed (%s); storing each alone.", len(extracted), exc)
            for item in extracted:
                outcomes[item.job.pk] = _store_alone(item, vectors)
    else:
        outcomes.update({pk: JobOutcome(job_id=pk, status=Status.DONE, result=r) for pk, r in results.items()})
    return outcomes


def _store_alone(item: JobExtraction, vectors) -> JobOutcome:
    try:
        result = _store([item], vectors)[item.job.pk]
    except TRANSIENT_ERRORS as exc:
        return _after_transient(item.job, exc)
    except Exception as exc:
        logger.exception("Augmentation job %s failed.", item.job.pk)
        return _fail(item.job, exc)
    return JobOutcome(job_id=item.job.pk, status=Status.DONE, result=result)


def _extract_all(jobs: list[AugmentationJob], outcomes: dict[int, JobOutcome]):
    """Each job's extraction, and the entities' cached vectors; a job whose extractor call fails
    ends in ``outcomes`` instead."""
    from memory.embedding import get_embedder

    extractor = get_extractor()
    embedder = get_embedder()
    extractor_name = str(getattr(extractor, "name", "") or type(extractor).__name__)[:100]
    messages: dict[int, list[Message]] = defaultdict(list)
    for message in Message.objects.filter(exchange_id__in=[job.exchange_id for job in jobs]).order_by("position"):
        messages[message.exchange_id].append(message)
    vectors = dedup.entities_vectors(sorted({job.entity_id for job in jobs}), embedder.name, embedder.dimensions)
    related = related_memories(jobs, messages, vectors, embedder)
    exchanges = {job.pk: _exchange_input(job, messages[job.exchange_id]) for job in jobs}
    _prepare(extractor, list(exchanges.values()))
    extracted = []
    for job in jobs:
        try:
            extraction = extractor(exchanges[job.pk], related[job.pk])
        except TRANSIENT_ERRORS as exc:
            outcomes[job.pk] = _after_transient(job, exc)
            continue
        except Exception as exc:
            logger.exception("Augmentation job %s failed.", job.pk)
            outcomes[job.pk] = _fail(job, exc)
            continue
        extracted.append(
            JobExtraction(
                job=job,
                messages=messages[job.exchange_id],
                extraction=extraction,
                extractor_name=extractor_name,
                related_count=len(related[job.pk]),
            )
        )
    return extracted, vectors


def _exchange_input(job: AugmentationJob, messages: list[Message]) -> ExchangeInput:
    return ExchangeInput(
        entity_id=job.entity.external_id,
        process_id=job.process.external_id,
        messages=tuple(ExchangeMessage(position=m.position, role=m.role, content=m.content) for m in messages),
        occurred_at=job.exchange.occurred_at,
    )


def _prepare(extractor, exchanges: list[ExchangeInput]) -> None:
    """Let an extractor that can work on the whole batch at once (the rules extractor parses every
    message of the batch in one pass) do so before it is called job by job; optional."""
    prepare = getattr(extractor, "prepare", None)
    if callable(prepare):
        try:
            prepare(exchanges)
        except Exception:
            logger.exception("The extractor could not prepare a batch; its jobs run one by one.")


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


def _after_transient(job: AugmentationJob, exc: BaseException) -> JobOutcome:
    return job_queue.job_retry_or_fail(job, _describe(exc))


def _fail(job: AugmentationJob, exc: BaseException) -> JobOutcome:
    return job_queue.job_fail(job, _describe(exc))


def _describe(exc: BaseException) -> str:
    text = str(exc).strip() or type(exc).__name__
    return f"{type(exc).__name__}: {text}"[: job_queue.MAX_ERROR_CHARS]

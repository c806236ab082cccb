"""Augmentation: recorded exchanges become deduplicated, attributed memory.

``augment_batch(job_id)`` is what the Celery task runs; ``augment_job(job_id)`` runs exactly one
job (``manage.py augment_pending``, tests):

1. claim: queued -> running and attempts + 1 in one conditional UPDATE, for the task's own job and
   up to ``batch_size - 1`` more queued jobs (oldest first, never one waiting for a retry), so a
   second delivery of a job does nothing while the first runs, and a finished job is a no-op. The
   later tasks of jobs a batch took find them finished: this process remembers which, without a query;
2. read the jobs' messages and each entity's related memories (so the extractor can mark an update
   or a contradiction), run the configured extractor outside any transaction (an LLM call must not
   hold a database lock);
3. in one transaction, store what was extracted (memory/services/extraction_store.py), bump the
   entities' memory_version and mark the jobs done with their counts. If storing the batch fails
   for another reason than a transient one, each job is stored alone, so only the culprit fails.

The batch size is ``MEMORI_AUGMENTATION_BATCH_SIZE``, or the extractor's own ``batch_size`` (64 for
the rules extractor, which takes a millisecond a job; 1 for an LLM, which takes seconds and is
better spread over worker processes).

Transient errors (database unavailable or locked, LLM timeout or 5xx) put a job back in the queue
(its own task retries it with backoff, up to ``MEMORI_AUGMENTATION_MAX_ATTEMPTS``; the other jobs of
its batch are published again); any other error, or the last attempt, fails the job with its
reason. A worker that dies mid-job leaves it "running": ``jobs_sweep_stale`` requeues it.
"""

from __future__ import annotations

import json
import logging
import threading
from collections import OrderedDict, defaultdict
from dataclasses import dataclass, field
from datetime import timedelta

import numpy as np
from django.conf import settings
from django.db import InterfaceError, OperationalError, connection, transaction
from django.db.models import Q
from django.utils import timezone

from memory.extraction.registry import ExtractorUnavailable, get_extractor
from memory.extraction.types import ExchangeInput, ExchangeMessage, RelatedMemory
from memory.models import AugmentationJob, Memory, Message
from memory.services import dedup
from memory.services.embedding_store import bump_memory_version
from memory.services.extraction_store import JobExtraction, store_extractions
from memory.services.publishing import publish_jobs

logger = logging.getLogger(__name__)

TRANSIENT_ERRORS = (OperationalError, InterfaceError, ExtractorUnavailable)
RELATED_PER_MESSAGE = 20
RELATED_MIN_SCORE = 0.3
MAX_RELATED = 100
MAX_ERROR_CHARS = 2000
NEVER_PUBLISHED_GRACE_SECONDS = 2.0
REMEMBERED_FINISHED_JOBS = 100_000
REPUBLISH_DELAY_SECONDS = 1.0
CHANGES = ("memories_created", "mentions_added", "triples_created", "episodes_created")  # what moves memory_version

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
    retry_reason: str = ""  # set when the job was put back in the queue

    def as_dict(self) -> dict:
        return {"job_id": self.job_id, "status": self.status, "result": self.result, "skipped": self.skipped}


class _FinishedHere:
    """Jobs this process finished as done, newest last, bounded: the later deliveries of jobs a
    batch took are answered without a query. Nothing puts a done job back in the queue (a retry
    from the admin or the API takes failed jobs only), so the answer cannot go stale."""

    def __init__(self, size: int):
        self.size = size
        self.lock = threading.Lock()
        self.ids: OrderedDict[int, None] = OrderedDict()

    def add(self, job_id: int) -> None:
        with self.lock:
            self.ids[job_id] = None
            while len(self.ids) > self.size:
                self.ids.popitem(last=False)

    def get(self, job_id: int) -> bool:
        with self.lock:
            return job_id in self.ids

    def clear(self) -> None:
        with self.lock:
            self.ids.clear()


_finished_here = _FinishedHere(REMEMBERED_FINISHED_JOBS)


def forget_finished_jobs() -> None:
    """For tests, whose rolled-back transactions hand out the same job ids again."""
    _finished_here.clear()


def augment_job(job_id: int) -> JobOutcome:
    """Run exactly this job; idempotent (a finished job, or one running elsewhere, is left alone)."""
    return _outcome_of(job_id, batch_size=1)


def augment_batch(job_id: int, *, batch_size: int | None = None) -> JobOutcome:
    """Run this job together with up to ``batch_size - 1`` other queued jobs; this job's outcome."""
    if _finished_here.get(job_id):
        return JobOutcome(job_id=job_id, status=Status.DONE, skipped=Status.DONE)
    return _outcome_of(job_id, batch_size=batch_size or _batch_size())


def _outcome_of(job_id: int, *, batch_size: int) -> JobOutcome:
    jobs = claim_jobs(job_id, batch_size=batch_size)
    if job_id not in {job.pk for job in jobs}:
        status = AugmentationJob.objects.filter(pk=job_id).values_list("status", flat=True).first()
        outcome = JobOutcome(job_id=job_id, status=status or "missing", skipped=status or "missing")
    else:
        outcome = None
    if jobs:
        outcomes = run_claimed(jobs)
        for other in outcomes.values():
            if other.status == Status.DONE:
                _finished_here.add(other.job_id)
        outcome = outcome or outcomes[job_id]
        _republish_requeued([o.job_id for o in outcomes.values() if o.retry_reason and o.job_id != job_id])
    if outcome.retry_reason:
        raise RetryableJobError(job_id, outcome.retry_reason)
    return outcome


def _batch_size() -> int:
    configured = settings.MEMORI_AUGMENTATION_BATCH_SIZE
    return max(1, configured or int(getattr(get_extractor(), "batch_size", 1) or 1))


def claim_jobs(job_id: int, *, batch_size: int = 1) -> list[AugmentationJob]:
    """queued -> running, attempts + 1, atomically, for ``job_id`` and up to ``batch_size - 1`` other
    queued jobs; returns the claimed jobs (with exchange, entity and process), oldest first. A job
    waiting for its retry (its error is set) is left to its own task."""
    table = AugmentationJob._meta.db_table
    skip_locked = " FOR UPDATE SKIP LOCKED" if connection.features.has_select_for_update_skip_locked else ""
    others = (
        f"SELECT id FROM {table} WHERE status = %s AND error = '' AND id <> %s "  # noqa: S608
        f"ORDER BY queued_at, id LIMIT %s{skip_locked}"
    )
    return _claim(f"(id = %s OR id IN ({others}))", [job_id, Status.QUEUED, job_id, max(0, batch_size - 1)])


def claim_exactly(job_ids: list[int]) -> list[AugmentationJob]:
    """Claim those of ``job_ids`` that are queued, and no other job."""
    if not job_ids:
        return []
    return _claim(f"id IN ({', '.join(['%s'] * len(job_ids))})", list(job_ids))


def _claim(which: str, params: list) -> list[AugmentationJob]:
    table = AugmentationJob._meta.db_table
    now = connection.ops.adapt_datetimefield_value(timezone.now())
    with connection.cursor() as cursor:
        # The table name is the model's; ``which`` is built here from placeholders; values are parameters.
        cursor.execute(
            f"UPDATE {table} SET status = %s, attempts = attempts + 1, started_at = %s, finished_at = NULL "  # noqa: S608
            f"WHERE status = %s AND {which} RETURNING id",
            [Status.RUNNING, now, Status.QUEUED, *params],
        )
        ids = [row[0] for row in cursor.fetchall()]
    if not ids:
        return []
    return list(
        AugmentationJob.objects.filter(pk__in=ids)
        .select_related("exchange", "entity", "process")
        .order_by("queued_at", "pk")
    )


def augment_jobs(job_ids: list[int], *, batch_size: int | None = None) -> dict[int, JobOutcome]:
    """Run exactly these jobs in this process, a batch at a time (operators' backfills); every
    job's outcome. A job not queued is skipped; one hitting a transient error is left queued with
    its reason (``retry_reason``) for the sweeper to republish."""
    size = batch_size or _batch_size()
    outcomes: dict[int, JobOutcome] = {}
    for start in range(0, len(job_ids), size):
        chunk = job_ids[start : start + size]
        jobs = claim_exactly(chunk)
        if jobs:
            outcomes.update(run_claimed(jobs))
        missed = [job_id for job_id in chunk if job_id not in outcomes]
        statuses = dict(AugmentationJob.objects.filter(pk__in=missed).values_list("pk", "status")) if missed else {}
        for job_id in missed:
            status = statuses.get(job_id, "missing")
            outcomes[job_id] = JobOutcome(job_id=job_id, status=status, skipped=status)
    return outcomes


def run_claimed(jobs: list[AugmentationJob]) -> dict[int, JobOutcome]:
    """Extract and store claimed jobs; every job ends done, failed, or back in the queue."""
    outcomes: dict[int, JobOutcome] = {}
    try:
        extracted, vectors = _extract_all(jobs, outcomes)
    except TRANSIENT_ERRORS as exc:
        return {**outcomes, **{job.pk: _after_transient(job, exc) for job in jobs if job.pk not in outcomes}}
    except Exception as exc:  # e.g. a misconfigured extractor: every job says why
        logger.exception("Augmentation of jobs %s failed.", [job.pk for job in jobs])
        return {**outcomes, **{job.pk: _finish_failed(job, _describe(exc)) for job in jobs if job.pk not in outcomes}}
    if not extracted:
        return outcomes
    try:
        results = _store(extracted, vectors)
    except TRANSIENT_ERRORS as exc:
        outcomes.update({item.job.pk: _after_transient(item.job, exc) for item in extracted})
    except Exception as exc:
        if len(extracted) == 1:
            logger.exception("Augmentation job %s failed.", extracted[0].job.pk)
            outcomes[extracted[0].job.pk] = _finish_failed(extracted[0].job, _describe(exc))
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
        return _finish_failed(item.job, _describe(exc))
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
    related = _related_memories(jobs, messages, vectors, embedder)
    exchanges = {
        job.pk: ExchangeInput(
            entity_id=job.entity.external_id,
            process_id=job.process.external_id,
            messages=tuple(
                ExchangeMessage(position=m.position, role=m.role, content=m.content) for m in messages[job.exchange_id]
            ),
            occurred_at=job.exchange.occurred_at,
        )
        for job in jobs
    }
    _prepare(extractor, list(exchanges.values()))
    extracted = []
    for job in jobs:
        exchange = exchanges[job.pk]
        try:
            extraction = extractor(exchange, related[job.pk])
        except TRANSIENT_ERRORS as exc:
            outcomes[job.pk] = _after_transient(job, exc)
            continue
        except Exception as exc:
            logger.exception("Augmentation job %s failed.", job.pk)
            outcomes[job.pk] = _finish_failed(job, _describe(exc))
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
    try:
        with transaction.atomic():
            _commit_without_waiting_for_disk()
            results = store_extractions(items, vectors)
            changed: set[int] = set()
            finished = []
            for item in items:
                result = results[item.job.pk]
                result["extractor"] = item.extractor_name
                result["related_memories"] = item.related_count
                if any(result[name] for name in CHANGES):
                    changed.add(item.job.entity_id)
                finished.append((item.job.pk, result, item.extractor_name))
            if changed:
                bump_memory_version(*changed)
            _mark_done(finished)
    except BaseException:
        dedup.forget_entities({item.job.entity_id for item in items})  # rows it cached were rolled back
        raise
    return results


def _mark_done(finished: list[tuple[int, dict, str]]) -> None:
    """status done, the result and the extractor of each job: one UPDATE joined to a VALUES list."""
    table = AugmentationJob._meta.db_table
    as_json = "::jsonb" if connection.vendor == "postgresql" else ""
    values = ", ".join(f"(%s, %s{as_json}, %s)" for _ in finished)
    params = [value for pk, result, name in finished for value in (pk, json.dumps(result), name)]
    now = connection.ops.adapt_datetimefield_value(timezone.now())
    with connection.cursor() as cursor:
        # The table name is the model's; every value is a parameter.
        cursor.execute(
            f"UPDATE {table} SET status = %s, error = '', finished_at = %s, result = v.column2, "  # noqa: S608
            f"extractor = v.column3 FROM (VALUES {values}) AS v WHERE {table}.id = v.column1",
            [Status.DONE, now, *params],
        )


def _commit_without_waiting_for_disk() -> None:
    """On PostgreSQL, this transaction's commit does not wait for the WAL flush. Safe here: the
    jobs' status commits with their memories, so a crash that loses the commit loses both, and the
    sweeper runs the jobs again. (Recording an exchange keeps the default: it must be durable.)"""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SET LOCAL synchronous_commit TO OFF")


def _related_memories(jobs, messages, vectors, embedder) -> dict[int, list[RelatedMemory]]:
    """Per job, the entity's memories closest to any message of its exchange, best first: one
    embedding call for the whole batch, one matrix product per entity, one query for the contents."""
    texts = [(job, m.content[:2000]) for job in jobs for m in messages[job.exchange_id] if m.content.strip()]
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


def _after_transient(job: AugmentationJob, exc: BaseException) -> JobOutcome:
    reason = _describe(exc)
    if job.attempts >= settings.MEMORI_AUGMENTATION_MAX_ATTEMPTS:
        return _finish_failed(job, f"gave up after {job.attempts} attempts: {reason}")
    logger.warning("Augmentation job %s attempt %s failed (%s); will retry.", job.pk, job.attempts, reason)
    _requeue(job, reason)
    return JobOutcome(job_id=job.pk, status=Status.QUEUED, retry_reason=reason)


def _republish_requeued(job_ids: list[int]) -> None:
    """Jobs of a batch put back in the queue have no task of their own retrying them: send them again."""
    if job_ids:
        publish_jobs(job_ids, countdown=REPUBLISH_DELAY_SECONDS)


def _describe(exc: BaseException) -> str:
    text = str(exc).strip() or type(exc).__name__
    return f"{type(exc).__name__}: {text}"[:MAX_ERROR_CHARS]


def _finish_failed(job: AugmentationJob, reason: str) -> JobOutcome:
    AugmentationJob.objects.filter(pk=job.pk).update(
        status=Status.FAILED, error=reason[:MAX_ERROR_CHARS], finished_at=timezone.now()
    )
    return JobOutcome(job_id=job.pk, status=Status.FAILED)


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

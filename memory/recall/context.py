"""Context recall adds besides memories: other agents' unprocessed work, and this session's history.

Pending context (handoffs without gaps). Augmentation turns an exchange into memories a few hundred
milliseconds to a few seconds after it is recorded (longer with an LLM extractor or a backlog). An
agent that hands off to the next one and returns at once would otherwise leave a gap: the next
agent's recall would not see the work yet. So recall also serves, raw, the entity's exchanges from
OTHER processes whose augmentation job is not finished (queued or running): newest first, the
processes taking turns (`in_turns`), at most `PENDING_LIMIT`, each truncated to `PENDING_CHARS`
(and cut to a fair part of the block's room when they do not all fit, block.py), under its own
heading saying it is not yet processed into memory. Once the job is done the exchange's memories
are recalled instead and the raw text stops being served, so nothing is served twice for long. The
caller's own pending exchanges are not served: they are its own conversation. The recall event
records which jobs were pending and which exchanges were served.

Raw, it carries only what augmentation would share (`shared_statements`, from the extraction
package, which builds each augmented exchange's episode the same way): the exchange's own turn
(from its last user message on: earlier messages an exchange may carry are its session's
conversation), its statements but not its questions, and none of the agent's descriptions of
itself ("I am the billing agent for this account and I handle refunds" becomes an attribute of
that process, which no other process sees), judged by the extraction package
(`memory.extraction.self_description`). System prompts and our own injected `<memori_context>`
blocks are left out.

History: with a session id, the prior user and assistant messages of this entity + process +
session, oldest first, the last `HISTORY_LIMIT`, so an SDK can inject turns the caller did not resend.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable
from dataclasses import dataclass
from datetime import datetime
from typing import TypeVar

from django.db.models import F, QuerySet

from memory.extraction.episodes import shared_statements
from memory.models import AugmentationJob, Message
from memory.recall.text import strip_memori_blocks

PENDING_LIMIT = 24  # a burst of 24 agents; the token budget bounds what is served of them (block.py)
PENDING_CHARS = 600
PENDING_JOB_IDS_LIMIT = 200
HISTORY_LIMIT = 40
HISTORY_CHARS = 8000
HISTORY_ROLES = (Message.Role.USER, Message.Role.ASSISTANT)
UNFINISHED = (AugmentationJob.Status.QUEUED, AugmentationJob.Status.RUNNING)
T = TypeVar("T")


@dataclass(frozen=True)
class PendingWork:
    job_id: int
    exchange_id: int
    process_id: str
    occurred_at: datetime
    text: str
    process_pk: int = 0
    parts: tuple[tuple[str, str], ...] = ()  # (role, shared statements) of each message served: `text` before its cut


def unfinished_jobs(entity_id) -> QuerySet[AugmentationJob]:
    """The entity's queued or running jobs (`entity_id` may be an OuterRef, to ask in a subquery)."""
    return AugmentationJob.objects.filter(entity_id=entity_id, status__in=UNFINISHED)


@dataclass(frozen=True)
class PendingJobs:
    job_ids: list[int]  # all of the entity's unfinished jobs (bounded)
    of_others: list[AugmentationJob]  # those of other processes, in turns (`in_turns`): the work to serve
    memory_version: int | None  # the entity's memory version in the same snapshot; None if no job was left


NOTHING_PENDING = PendingJobs(job_ids=[], of_others=[], memory_version=None)


def pending_jobs(*, entity_id: int, caller_process_id: int | None) -> PendingJobs:
    """The entity's unfinished jobs and, read in the same statement (one snapshot), the entity's
    memory version: a job that finished before this read has its memories in that version."""
    jobs = list(
        unfinished_jobs(entity_id)
        .select_related("exchange", "process")
        .annotate(entity_memory_version=F("entity__memory_version"))
        .order_by("-exchange__occurred_at", "-id")[:PENDING_JOB_IDS_LIMIT]
    )
    others = in_turns([job for job in jobs if job.process_id != caller_process_id], key=lambda job: job.process_id)
    others = others[:PENDING_LIMIT]
    version = jobs[0].entity_memory_version if jobs else None
    return PendingJobs(job_ids=[job.pk for job in jobs], of_others=others, memory_version=version)


def pending_work(jobs: list[AugmentationJob]) -> list[PendingWork]:
    """What may be served raw of each pending exchange (one query for all their messages)."""
    if not jobs:
        return []
    turns: dict[int, list[tuple[str, str]]] = {job.exchange_id: [] for job in jobs}
    messages = (
        Message.objects.filter(exchange_id__in=turns.keys())
        .exclude(role__in=(Message.Role.SYSTEM, Message.Role.DEVELOPER))
        .order_by("exchange_id", "position")
        .values_list("exchange_id", "role", "content")
    )
    for exchange_id, role, content in messages:
        if role == Message.Role.USER:
            turns[exchange_id] = []  # the exchange's own turn starts at its last user message
        turns[exchange_id].append((role, content))
    work = []
    for job in jobs:
        parts = []
        for role, content in turns[job.exchange_id]:
            shared = shared_statements(" ".join(strip_memori_blocks(content).split()), role)
            if shared:
                parts.append((role, shared))
        text = " / ".join(f"{role}: {shared}" for role, shared in parts)
        if len(text) > PENDING_CHARS:
            text = text[: PENDING_CHARS - 1].rstrip() + "…"
        if text:
            work.append(
                PendingWork(
                    job_id=job.pk,
                    exchange_id=job.exchange_id,
                    process_id=job.process.external_id,
                    occurred_at=job.exchange.occurred_at,
                    text=text,
                    process_pk=job.process_id,
                    parts=tuple(parts),
                )
            )
    return work


def in_turns(items: list[T], *, key: Callable[[T], Hashable]) -> list[T]:
    """`items` (newest first) with their processes (`key`) taking turns: each one's newest first,
    the process that spoke last first, then each one's second newest, and so on. One agent's
    string of exchanges does not hide the others' (the limit and the block keep the first)."""
    queues: dict[Hashable, list[T]] = {}
    for item in items:
        queues.setdefault(key(item), []).append(item)
    rounds = max((len(queue) for queue in queues.values()), default=0)
    return [queue[turn] for turn in range(rounds) for queue in queues.values() if turn < len(queue)]


def session_history(session_id: int | None) -> list[dict]:
    """The session's last messages, oldest first, as {"role", "content"} (system prompts excluded)."""
    if session_id is None:
        return []
    rows = list(
        Message.objects.filter(conversation__session_id=session_id, role__in=HISTORY_ROLES)
        .order_by("-position")
        .values_list("role", "content")[:HISTORY_LIMIT]
    )
    history = []
    for role, content in reversed(rows):
        content = strip_memori_blocks(content).strip()[:HISTORY_CHARS]
        if content:
            history.append({"role": role, "content": content})
    return history

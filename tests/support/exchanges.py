"""Recording exchanges and waiting for their augmentation, as the SDK and the API do."""

from __future__ import annotations

import time
from datetime import datetime

from memory.models import AugmentationJob, Tenant
from memory.services.recording import ExchangeInput, MessageInput, RecordedExchange, record_exchange


def record(
    tenant: Tenant,
    *,
    entity: str = "project_alpha",
    process: str = "research_agent",
    user: str = "",
    assistant: str = "",
    system: str = "",
    session_id: str | None = None,
    occurred_at: datetime | None = None,
) -> RecordedExchange:
    messages = [
        MessageInput(role=role, content=text)
        for role, text in (("system", system), ("user", user), ("assistant", assistant))
        if text
    ]
    data = ExchangeInput(
        entity_id=entity, process_id=process, messages=messages, session_id=session_id, occurred_at=occurred_at
    )
    return record_exchange(tenant=tenant, data=data)


def wait_for_jobs(job_ids, *, timeout: float = 60.0, statuses=("done", "failed")) -> list[AugmentationJob]:
    """Poll the database until every job has one of ``statuses``; AssertionError after ``timeout``."""
    ids = list(job_ids)
    deadline = time.monotonic() + timeout
    while True:
        jobs = list(AugmentationJob.objects.filter(pk__in=ids).order_by("pk"))
        if len(jobs) == len(ids) and all(job.status in statuses for job in jobs):
            return jobs
        if time.monotonic() > deadline:
            states = {job.pk: (job.status, job.attempts, job.error) for job in jobs}
            raise AssertionError(f"jobs not {statuses} after {timeout}s: {states}")
        time.sleep(0.1)

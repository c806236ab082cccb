"""Augmentation status for a set of jobs, with a bounded server-side wait (what SDK `wait()` polls).

Holding the request open and polling the database every ~100 ms costs the server far less than a
client hammering the API, and answers within ~100 ms of the last job finishing.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from django.conf import settings

from memory import selectors
from memory.models import AugmentationJob, Tenant

MAX_WAIT_SECONDS = 30.0
POLL_INTERVAL_SECONDS = 0.1


class UnknownJobs(LookupError):
    """Some ids are not jobs of this tenant (never existed, deleted, or another tenant's)."""

    def __init__(self, missing: list[int]) -> None:
        self.missing = missing
        super().__init__(f"No augmentation job with id {', '.join(map(str, missing[:20]))}.")


@dataclass(frozen=True)
class JobsStatus:
    jobs: list[AugmentationJob]

    @property
    def pending(self) -> int:
        return sum(1 for job in self.jobs if not job.is_finished)


def max_wait_seconds() -> float:
    return min(float(getattr(settings, "MEMORI_JOBS_MAX_WAIT_SECONDS", MAX_WAIT_SECONDS)), MAX_WAIT_SECONDS)


def jobs_status(*, tenant: Tenant, ids: list[int], wait_seconds: float = 0.0) -> JobsStatus:
    """The jobs' status now, or once all are finished, or when the wait (≤ 30 s) runs out."""
    wanted = sorted(set(ids))
    deadline = time.monotonic() + max(0.0, min(wait_seconds, max_wait_seconds()))
    while True:
        status = JobsStatus(jobs=selectors.jobs_of(tenant=tenant, ids=wanted))
        if len(status.jobs) != len(wanted):
            found = {job.pk for job in status.jobs}
            raise UnknownJobs([job_id for job_id in wanted if job_id not in found])
        if status.pending == 0 or time.monotonic() >= deadline:
            return status
        time.sleep(min(POLL_INTERVAL_SECONDS, max(0.0, deadline - time.monotonic())))

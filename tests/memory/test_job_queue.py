"""memory/services/job_queue.py: claims. The worker tests (test_worker_*.py, tests/reliability) run
the whole queue with real workers, brokers and faults."""

from __future__ import annotations

import threading
from collections import Counter

import pytest
from django.db import connection

from memory.models import AugmentationJob
from memory.services import job_queue
from tests.support.exchanges import record

pytestmark = pytest.mark.django_db


def _queued(tenant, count: int) -> list[int]:
    return [record(tenant, user=f"fact: job {n}").job.pk for n in range(count)]


def test_a_claim_takes_its_job_and_the_oldest_others_once(tenant):
    ids = _queued(tenant, 6)

    claimed = job_queue.jobs_claim(ids[4], batch_size=3)

    assert [job.pk for job in claimed] == [ids[0], ids[1], ids[4]]  # oldest first
    assert {job.status for job in claimed} == {"running"} and {job.attempts for job in claimed} == {1}
    assert job_queue.jobs_claim(ids[4], batch_size=1) == []  # running: not claimed again
    assert [job.pk for job in job_queue.jobs_claim_exactly([ids[0], ids[5], 10**9])] == [ids[5]]


@pytest.mark.skipif(connection.vendor != "postgresql", reason="SQLite writes one transaction at a time")
@pytest.mark.django_db(transaction=True)
def test_claims_running_at_once_never_take_a_job_twice(tenant):
    ids = _queued(tenant, 60)
    taken: list[int] = []
    lock = threading.Lock()

    def claimer(own: list[int]):
        try:
            for job_id in own:
                claimed = [job.pk for job in job_queue.jobs_claim(job_id, batch_size=8)]
                with lock:
                    taken.extend(claimed)
        finally:
            connection.close()

    threads = [threading.Thread(target=claimer, args=(ids[n::4],)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert Counter(taken).most_common(1)[0][1] == 1
    assert sorted(taken) == ids
    assert set(AugmentationJob.objects.values_list("attempts", flat=True)) == {1}

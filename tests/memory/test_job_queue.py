"""memory/services/job_queue.py: claims, and one broker message per batch. The worker tests
(test_worker_*.py, tests/reliability) run the whole queue with real workers, brokers and faults."""

from __future__ import annotations

import threading
from collections import Counter
from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone

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


def _published(ids: list[int]) -> list[int]:
    return list(
        AugmentationJob.objects.filter(pk__in=ids, published_at__isnull=False)
        .order_by("pk")
        .values_list("pk", flat=True)
    )


def test_new_jobs_get_one_message_per_batch_and_ride_while_waiting_messages_have_room(tenant, settings):
    settings.MEMORI_AUGMENTATION_BATCH_SIZE = 4
    ids, sent = [], []
    for job_id in (record(tenant, user=f"fact: job {n}").job.pk for n in range(10)):
        ids.append(job_id)
        sent.append(job_queue.jobs_publish_new([job_id]))  # what its commit does

    assert sent == [1, 0, 0, 0, 1, 0, 0, 0, 1, 0]  # a message takes its job and three others
    assert _published(ids) == [ids[0], ids[4], ids[8]]


def test_jobs_committed_together_get_a_message_per_batch(tenant, settings):
    settings.MEMORI_AUGMENTATION_BATCH_SIZE = 4
    ids = _queued(tenant, 10)

    assert job_queue.jobs_publish_new(ids) == 3
    assert _published(ids) == [ids[0], ids[4], ids[8]]


def test_with_one_job_a_task_every_job_gets_its_message(tenant, settings):
    settings.MEMORI_AUGMENTATION_BATCH_SIZE = 1
    ids = _queued(tenant, 3)

    assert [job_queue.jobs_publish_new([job_id]) for job_id in ids] == [1, 1, 1]
    assert _published(ids) == ids


def test_the_sweeper_publishes_jobs_left_without_a_message_one_message_per_batch(tenant, settings):
    settings.MEMORI_AUGMENTATION_BATCH_SIZE = 4
    ids = _queued(tenant, 6)

    swept = job_queue.jobs_sweep_stale(older_than=0)

    assert (swept.stale_queued, swept.republished) == (6, 2)
    assert _published(ids) == [ids[0], ids[4]]


def test_jobs_are_published_one_by_one_when_the_extractor_setting_is_wrong(tenant, settings):
    settings.MEMORI_EXTRACTOR = "nonsense"  # the worker fails the jobs saying what to set
    ids = _queued(tenant, 2)

    assert job_queue.jobs_publish_new(ids) == 2
    assert _published(ids) == ids


def test_no_job_rides_on_a_message_the_broker_may_have_lost(tenant, settings):
    settings.MEMORI_AUGMENTATION_BATCH_SIZE = 4
    first = record(tenant, user="fact: one").job.pk
    job_queue.jobs_publish_new([first])
    long_ago = timezone.now() - timedelta(seconds=settings.MEMORI_STALE_JOB_SECONDS + 1)
    AugmentationJob.objects.filter(pk=first).update(published_at=long_ago)  # the sweeper's "stale"
    second = record(tenant, user="fact: two").job.pk

    assert job_queue.jobs_publish_new([second]) == 1
    assert _published([second]) == [second]

"""Batches: one task claims its job and other queued ones and stores them in one transaction.

What a batch stores must be what the same jobs store one after another; a job that cannot be
stored fails alone; a transient error puts every job of the batch back in the queue. The real
worker runs batches in test_worker_pipeline.py."""

from __future__ import annotations

import pytest
from django.db import OperationalError

from memory.models import AugmentationJob, Contradiction, Memory, Triple
from memory.services import augmentation, dedup, job_queue
from memory.services.augmentation import RetryableJobError, job_augment_in_batch
from tests.support.exchanges import record

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def line_extractor(settings):
    dedup.forget_all()  # each test rolls back, so ids are reused: start each with cold caches
    settings.MEMORI_EXTRACTOR = "tests.support.extractors.LineExtractor"
    settings.MEMORI_AUGMENTATION_MAX_ATTEMPTS = 3
    settings.MEMORI_DEDUP_SIMILARITY = 0.95


def _jobs(*pks) -> list[AugmentationJob]:
    return [AugmentationJob.objects.get(pk=pk) for pk in pks]


def test_one_task_claims_the_queued_jobs_and_stores_them_as_if_one_after_another(tenant):
    first = record(tenant, process="coder_agent", user="fact: Our API uses JWT tokens\ntriple: API | uses | JWT").job
    second = record(
        tenant, process="reviewer_agent", user="fact: our API uses  JWT tokens.\ntriple: API | uses | JWT"
    ).job
    near = record(tenant, process="billing_agent", user="fact: The API uses JWT token").job
    other_entity = record(tenant, entity="project_beta", user="fact: Our API uses JWT tokens").job
    attribute = record(tenant, process="reviewer_agent", user="attribute: Reviews pull requests").job
    same_attribute = record(tenant, process="coder_agent", user="attribute: Reviews pull requests").job

    outcome = job_augment_in_batch(first.pk, batch_size=10)

    jobs = _jobs(first.pk, second.pk, near.pk, other_entity.pk, attribute.pk, same_attribute.pk)
    assert outcome.status == "done" and {job.status for job in jobs} == {"done"}
    assert len({job.started_at for job in jobs}) == 1  # claimed together
    shared = Memory.objects.get(entity__external_id="project_alpha", kind="fact")
    assert shared.content == "Our API uses JWT tokens" and shared.mention_count == 3
    assert sorted(shared.mentions.values_list("process__external_id", flat=True)) == [
        "billing_agent",
        "coder_agent",
        "reviewer_agent",
    ]
    first, second, near = jobs[:3]
    assert (first.result["memories_created"], first.result["triples_created"]) == (1, 1)
    assert (second.result["memories_repeated"], second.result["triples_repeated"]) == (1, 1)
    assert near.result["near_duplicates_merged"] == 1
    assert Triple.objects.get().mention_count == 2
    assert Memory.objects.filter(entity__external_id="project_beta").count() == 1
    owners = Memory.objects.filter(kind="attribute").values_list("owner_process__external_id", flat=True)
    assert sorted(owners) == ["coder_agent", "reviewer_agent"]


def test_a_later_delivery_of_a_job_the_batch_finished_costs_one_lookup_and_claims_nothing(
    tenant, django_assert_num_queries
):
    first = record(tenant, user="fact: one").job
    second = record(tenant, user="fact: two").job
    job_augment_in_batch(first.pk, batch_size=2)
    third = record(tenant, user="fact: three").job

    with django_assert_num_queries(1):
        outcome = job_augment_in_batch(second.pk, batch_size=10)

    assert (outcome.status, outcome.skipped) == ("done", "done")
    assert _jobs(third.pk)[0].status == "queued"  # left to its own task
    assert Memory.objects.count() == 2


def test_a_job_delivered_twice_is_run_once(tenant):
    job = record(tenant, user="fact: Deploys run on Fridays").job

    first, second = job_augment_in_batch(job.pk, batch_size=10), job_augment_in_batch(job.pk, batch_size=10)

    assert (first.status, first.skipped, second.skipped) == ("done", "", "done")
    assert _jobs(job.pk)[0].attempts == 1
    assert Memory.objects.get().mention_count == 1


def test_a_delivery_of_a_job_running_elsewhere_leaves_it_alone(tenant):
    running = record(tenant, user="fact: one").job
    queued = record(tenant, user="fact: two").job
    AugmentationJob.objects.filter(pk=running.pk).update(status="running", attempts=1)

    outcome = job_augment_in_batch(running.pk, batch_size=10)

    assert (outcome.status, outcome.skipped) == ("running", "running")
    assert [job.status for job in _jobs(running.pk, queued.pk)] == ["running", "queued"]
    assert _jobs(running.pk)[0].attempts == 1


def test_a_contradiction_between_two_jobs_of_one_batch_is_recorded(tenant):
    first = record(tenant, user="triple: launch | due_on | Friday").job
    record(tenant, process="billing_agent", user="triple: launch | due_on | Monday")

    job_augment_in_batch(first.pk, batch_size=10)

    assert Contradiction.objects.count() == 1
    assert Triple.objects.filter(is_contradicted=True).count() == 2


def test_a_job_that_cannot_be_stored_fails_alone(tenant, monkeypatch):
    good = record(tenant, user="fact: Deploys run on Fridays").job
    bad = record(tenant, process="billing_agent", user="fact: this one breaks storing").job
    also_good = record(tenant, process="coder_agent", user="fact: Builds take ten minutes").job
    store = augmentation.store_extractions

    def store_unless_bad(items, vectors):
        if any(item.job.pk == bad.pk for item in items):
            raise ValueError("cannot store this job")
        return store(items, vectors)

    monkeypatch.setattr(augmentation, "store_extractions", store_unless_bad)

    job_augment_in_batch(good.pk, batch_size=10)

    good, bad, also_good = _jobs(good.pk, bad.pk, also_good.pk)
    assert (good.status, also_good.status, bad.status) == ("done", "done", "failed")
    assert "ValueError: cannot store this job" in bad.error
    assert sorted(Memory.objects.values_list("content", flat=True)) == [
        "Builds take ten minutes",
        "Deploys run on Fridays",
    ]


def test_a_transient_error_puts_the_whole_batch_back_and_nothing_half_stored(tenant, monkeypatch):
    own = record(tenant, user="fact: Deploys run on Fridays").job
    other = record(tenant, process="billing_agent", user="fact: Builds take ten minutes").job
    published: list[list[int]] = []
    monkeypatch.setattr(job_queue, "publish_jobs", lambda ids, countdown=None: published.append(list(ids)))

    def database_gone(items, vectors):
        Memory.objects.create(entity=items[0].job.entity, kind="fact", content="half", normalized="half")
        raise OperationalError("server closed the connection unexpectedly")

    monkeypatch.setattr(augmentation, "store_extractions", database_gone)

    with pytest.raises(RetryableJobError):
        job_augment_in_batch(own.pk, batch_size=10)

    own, other = _jobs(own.pk, other.pk)
    assert (own.status, other.status) == ("queued", "queued")
    assert "server closed the connection" in own.error and "server closed the connection" in other.error
    assert published == [[other.pk]]  # the own job is retried by its task; the other is sent again
    assert not Memory.objects.exists()
    monkeypatch.undo()
    assert job_augment_in_batch(own.pk, batch_size=10).status == "done"
    assert job_augment_in_batch(other.pk, batch_size=10).status == "done"
    assert Memory.objects.count() == 2


def test_a_job_waiting_for_its_retry_is_left_to_its_own_task(tenant):
    own = record(tenant, user="fact: one").job
    waiting = record(tenant, user="fact: two").job
    AugmentationJob.objects.filter(pk=waiting.pk).update(error="LLM timed out; will retry")

    job_augment_in_batch(own.pk, batch_size=10)

    assert _jobs(waiting.pk)[0].status == "queued"
    assert job_augment_in_batch(waiting.pk, batch_size=10).status == "done"


def test_the_batch_size_comes_from_the_extractor_unless_set(settings):
    settings.MEMORI_EXTRACTOR = "rules"
    settings.MEMORI_AUGMENTATION_BATCH_SIZE = 0
    assert job_queue.batch_size() == 64
    settings.MEMORI_EXTRACTOR = "tests.support.extractors.LineExtractor"  # no batch_size: one job a task
    assert job_queue.batch_size() == 1
    settings.MEMORI_AUGMENTATION_BATCH_SIZE = 8
    assert job_queue.batch_size() == 8


def test_operators_run_exactly_the_jobs_they_name_in_batches(tenant):
    named = [record(tenant, user=f"fact: Service number {n} is healthy").job.pk for n in range(3)]
    other = record(tenant, user="fact: not named").job
    done = record(tenant, user="fact: already done").job
    job_augment_in_batch(done.pk, batch_size=1)

    outcomes = augmentation.jobs_backfill([*named, done.pk, 10**9], batch_size=2)

    assert [outcomes[pk].status for pk in named] == ["done", "done", "done"]
    assert (outcomes[done.pk].skipped, outcomes[10**9].skipped) == ("done", "missing")
    assert _jobs(other.pk)[0].status == "queued"
    assert len({job.started_at for job in _jobs(*named)}) == 2  # two batches of at most two


def test_a_delivered_message_takes_a_batch_of_riders_and_sees_to_the_rest(tenant, settings):
    settings.MEMORI_AUGMENTATION_BATCH_SIZE = 2
    ids = [record(tenant, user=f"fact: Service number {n} is healthy").job.pk for n in range(5)]  # no message
    waiting = record(tenant, user="fact: waits for its retry").job
    AugmentationJob.objects.filter(pk=waiting.pk).update(error="LLM timed out; will retry")

    outcome = augmentation.job_augment_delivered(ids[0])

    jobs = _jobs(*ids)
    assert outcome.status == "done" and [job.status for job in jobs] == ["done"] * 4 + ["queued"]
    assert len({job.started_at for job in jobs[:4]}) == 2  # its batch, then a batch of riders
    assert jobs[4].published_at is not None  # the rest got a message
    assert _jobs(waiting.pk)[0].status == "queued"  # left to its own task


def test_a_delivered_message_runs_the_riders_recorded_before_its_job_first(tenant, settings):
    settings.MEMORI_AUGMENTATION_BATCH_SIZE = 1
    rider = record(tenant, user="fact: Deploys run on Fridays").job  # no message
    own = record(tenant, process="billing_agent", user="fact: Builds take ten minutes").job

    augmentation.job_augment_delivered(own.pk)

    rider, own = _jobs(rider.pk, own.pk)
    assert (rider.status, own.status) == ("done", "done")
    assert rider.started_at < own.started_at

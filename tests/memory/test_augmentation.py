"""The augmentation service, run in this process: what one job stores, dedup, contradictions,
idempotency, failures and the sweeper. The real worker runs the same code in test_worker_*.py."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.management import call_command
from django.utils import timezone

from memory.models import AugmentationJob, Contradiction, Entity, Memory, Provenance, Triple
from memory.services import dedup
from memory.services.augmentation import job_augment
from memory.services.job_queue import RetryableJobError, jobs_sweep_stale
from tests.support.exchanges import record
from tests.support.extractors import LineExtractor

pytestmark = pytest.mark.django_db

LINES = "tests.support.extractors.LineExtractor"


@pytest.fixture(autouse=True)
def line_extractor(settings):
    dedup.forget_all()  # each test rolls back, so ids are reused: start each with a cold cache
    settings.MEMORI_EXTRACTOR = LINES
    settings.MEMORI_AUGMENTATION_MAX_ATTEMPTS = 3
    settings.MEMORI_DEDUP_SIMILARITY = 0.95


def _augment(tenant, **kwargs) -> AugmentationJob:
    recorded = record(tenant, **kwargs)
    job_augment(recorded.job.pk)
    return AugmentationJob.objects.get(pk=recorded.job.pk)


def test_a_job_stores_every_kind_with_provenance_down_to_the_message(tenant):
    job = _augment(
        tenant,
        user="fact: Our API uses JWT tokens\npreference: The team prefers dark mode",
        assistant="skill: Can deploy to Kubernetes\nattribute: Handles data analysis\ntriple: API | uses | JWT",
    )

    assert job.status == "done" and job.attempts == 1 and job.extractor == "test-lines"
    assert job.result["memories_created"] == 4 and job.result["triples_created"] == 1
    kinds = dict(Memory.objects.values_list("kind", "content"))
    assert kinds == {
        "fact": "Our API uses JWT tokens",
        "preference": "The team prefers dark mode",
        "skill": "Can deploy to Kubernetes",
        "attribute": "Handles data analysis",
    }
    assert Memory.objects.get(kind="attribute").owner_process.external_id == "research_agent"
    fact = Memory.objects.get(kind="fact")
    mention = fact.mentions.get()
    assert mention.job_id == job.pk and mention.exchange_id == job.exchange_id
    assert mention.message.role == "user" and mention.session_id == job.exchange.session_id
    assert mention.process.external_id == "research_agent" and mention.mentioned_at == mention.message.created_at
    assert Triple.objects.get().mentions.get().message.role == "assistant"
    assert fact.embedding and fact.embedding_model
    assert Entity.objects.get().memory_version >= 1


def test_running_a_job_again_changes_nothing(tenant):
    job = _augment(tenant, user="fact: Uses PostgreSQL 16\ntriple: project | uses | PostgreSQL")
    before = (Memory.objects.count(), Triple.objects.count(), Provenance.objects.count())

    assert job_augment(job.pk).skipped == "done"
    AugmentationJob.objects.filter(pk=job.pk).update(status="queued")  # e.g. a retry from the admin
    job_augment(job.pk)

    assert (Memory.objects.count(), Triple.objects.count(), Provenance.objects.count()) == before
    assert Memory.objects.get().mention_count == 1


def test_same_fact_from_two_processes_is_one_memory_with_both_in_provenance(tenant):
    _augment(tenant, process="coder_agent", user="fact: Our API uses JWT tokens")
    job = _augment(tenant, process="reviewer_agent", user="fact: our API uses  JWT tokens.")

    memory = Memory.objects.get()
    assert memory.mention_count == 2 and memory.first_process.external_id == "coder_agent"
    assert set(memory.mentions.values_list("process__external_id", flat=True)) == {"coder_agent", "reviewer_agent"}
    assert job.result["memories_repeated"] == 1


def test_a_near_duplicate_is_merged_and_keeps_every_mention(tenant):
    _augment(tenant, process="coder_agent", user="fact: Our API uses JWT tokens")
    job = _augment(tenant, process="reviewer_agent", user="fact: The API uses JWT token")

    memory = Memory.objects.get()
    assert memory.content == "Our API uses JWT tokens" and memory.mention_count == 2
    assert job.result["near_duplicates_merged"] == 1
    assert sorted(memory.mentions.values_list("process__external_id", flat=True)) == ["coder_agent", "reviewer_agent"]


def test_similar_sentences_that_say_different_things_stay_apart(tenant):
    _augment(tenant, user="fact: The deadline is Friday\nfact: We use PostgreSQL for the database")
    _augment(tenant, user="fact: The deadline is Monday\nfact: We do not use PostgreSQL for the database")

    assert Memory.objects.count() == 4


def test_unicode_facts_are_deduplicated_but_not_collapsed(tenant):
    facts = [
        "fact: 我们的数据库是PostgreSQL",
        "fact: 我们的缓存是Redis",
        "fact: 项目截止日期是周五",
        "fact: 项目截止日期是周一",
        "fact: Наш API использует JWT токены",
        "fact: Наш API использует OAuth токены",
        "fact: Мы используем PostgreSQL",
        "fact: Мы используем MySQL",
    ]
    _augment(tenant, user="\n".join(facts))
    _augment(tenant, process="other_agent", user="fact: Наш API использует JWT токены\nfact: 我们的缓存是Redis")

    assert Memory.objects.count() == len(facts)
    assert Memory.objects.get(content="我们的缓存是Redis").mention_count == 2
    assert Memory.objects.get(content="Наш API использует JWT токены").mention_count == 2


def test_attributes_stay_with_their_process(tenant):
    _augment(tenant, process="research_agent", user="attribute: Handles data analysis")
    _augment(tenant, process="analysis_agent", user="attribute: Handles data analysis")

    owners = Memory.objects.filter(kind="attribute").values_list("owner_process__external_id", flat=True)
    assert sorted(owners) == ["analysis_agent", "research_agent"]


def test_two_processes_giving_a_single_valued_predicate_another_object_is_a_recorded_contradiction(tenant):
    _augment(tenant, user="triple: project database | is | PostgreSQL\ntriple: project | uses | JWT")
    job = _augment(
        tenant, process="analysis_agent", user="triple: project database | is | MySQL\ntriple: project | uses | bcrypt"
    )

    contradiction = Contradiction.objects.get()
    assert contradiction.reason == "same_subject_predicate"
    assert {contradiction.triple_a.object.name, contradiction.triple_b.object.name} == {"PostgreSQL", "MySQL"}
    assert set(Triple.objects.filter(is_contradicted=True).values_list("object__name", flat=True)) == {
        "PostgreSQL",
        "MySQL",
    }
    assert job.result["contradictions"] == 1


def test_the_same_process_giving_a_single_valued_predicate_another_object_later_is_an_update(tenant):
    _augment(tenant, user="triple: project database | is | PostgreSQL")
    job = _augment(tenant, user="triple: project database | is | MySQL")

    assert not Contradiction.objects.exists() and not Triple.objects.filter(is_contradicted=True).exists()
    assert job.result["contradictions"] == 0


def test_another_process_much_later_is_an_update_too(tenant, settings):
    settings.MEMORI_CONTRADICTION_WINDOW_SECONDS = 300
    _augment(tenant, user="triple: project database | is | PostgreSQL", occurred_at=timezone.now() - timedelta(hours=1))
    _augment(tenant, process="analysis_agent", user="triple: project database | is | MySQL")

    assert not Contradiction.objects.exists()


def test_a_predicate_and_its_negation_contradict(tenant):
    _augment(tenant, user="triple: user | wants | email notifications")
    _augment(tenant, user="triple: user | does_not_want | email notifications")

    assert Contradiction.objects.count() == 1
    assert Triple.objects.filter(is_contradicted=True).count() == 2


def test_the_extractor_sees_related_memories_and_can_mark_a_contradiction(tenant):
    _augment(tenant, user="fact: The launch deadline is Friday")
    old = Memory.objects.get()

    _augment(tenant, user=f"contradiction {old.pk}: The launch deadline is Monday")

    assert old.pk in [related.memory_id for related in LineExtractor.related_seen]
    new = Memory.objects.exclude(pk=old.pk).get()
    contradiction = Contradiction.objects.get()
    assert (contradiction.memory_a, contradiction.memory_b, contradiction.reason) == (old, new, "extractor")
    assert Memory.objects.filter(is_contradicted=True).count() == 2


def test_a_broken_extractor_fails_the_job_with_its_reason(tenant, settings):
    settings.MEMORI_EXTRACTOR = "tests.support.extractors.failing_extractor"

    job = _augment(tenant, user="fact: anything")

    assert job.status == "failed" and job.attempts == 1
    assert "plug-in exploded on purpose" in job.error
    assert not Memory.objects.exists()


def test_a_transient_error_requeues_the_job_until_attempts_run_out(tenant, settings):
    settings.MEMORI_EXTRACTOR = "tests.support.extractors.unavailable_extractor"
    job = record(tenant, user="fact: anything").job

    for attempt in (1, 2):
        with pytest.raises(RetryableJobError):
            job_augment(job.pk)
        job.refresh_from_db()
        assert (job.status, job.attempts) == ("queued", attempt)
        assert "extraction backend unreachable" in job.error
    job_augment(job.pk)

    job.refresh_from_db()
    assert job.status == "failed" and job.attempts == 3
    assert job.error.startswith("gave up after 3 attempts: ExtractorUnavailable")


def test_augment_pending_runs_queued_jobs_inline(tenant):
    jobs = [record(tenant, user=f"fact: Service number {n} is healthy").job for n in range(3)]

    call_command("augment_pending", "--limit", "2")
    assert sorted(AugmentationJob.objects.values_list("status", flat=True)) == ["done", "done", "queued"]
    call_command("augment_pending")

    assert all(job.status == "done" for job in AugmentationJob.objects.filter(pk__in=[j.pk for j in jobs]))
    assert Memory.objects.count() == 3


def test_the_sweeper_requeues_a_job_whose_worker_died_and_fails_one_out_of_attempts(tenant, settings):
    long_ago = timezone.now() - timedelta(minutes=10)
    lost = record(tenant, user="fact: one").job
    exhausted = record(tenant, user="fact: two").job
    AugmentationJob.objects.filter(pk=lost.pk).update(status="running", attempts=1, started_at=long_ago)
    AugmentationJob.objects.filter(pk=exhausted.pk).update(status="running", attempts=3, started_at=long_ago)

    swept = jobs_sweep_stale(older_than=60)

    lost.refresh_from_db()
    exhausted.refresh_from_db()
    assert (swept.requeued_running, swept.failed_running) == (1, 1)
    assert lost.status == "queued" and lost.published_at is not None
    assert exhausted.status == "failed" and "worker lost" in exhausted.error
    job_augment(lost.pk)
    lost.refresh_from_db()
    assert lost.status == "done" and lost.attempts == 2


def test_the_sweeper_leaves_recent_jobs_alone(tenant):
    job = record(tenant, user="fact: one").job
    AugmentationJob.objects.filter(pk=job.pk).update(published_at=timezone.now())

    assert jobs_sweep_stale(older_than=60).stale_queued == 0


def test_an_unknown_extractor_setting_fails_the_job_saying_what_to_set(tenant, settings):
    settings.MEMORI_EXTRACTOR = "nonsense"

    job = _augment(tenant, user="fact: anything")

    assert job.status == "failed"
    assert "MEMORI_EXTRACTOR='nonsense': use 'rules', 'llm' or a dotted path" in job.error


def test_the_default_rules_extractor_runs_offline(tenant, settings):
    settings.MEMORI_EXTRACTOR = "rules"

    job = _augment(
        tenant,
        user="Implement user authentication with JWT tokens. Use bcrypt for passwords.",
        assistant="The login endpoint issues JWT tokens. Passwords are hashed with bcrypt.",
    )

    assert job.status == "done" and job.extractor == "rules"
    assert Memory.objects.filter(content="Passwords are hashed with bcrypt.").exists()
    assert not Memory.objects.filter(content__startswith="Implement").exists()  # the task is not memory

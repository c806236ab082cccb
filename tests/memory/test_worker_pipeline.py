"""Recording an exchange queues its augmentation; a real Celery worker turns it into memory.

The seed samples' own messages (system prompt, user task) plus a plausible model reply are
recorded as the SDK records them, and the default `rules` extractor runs on the worker.
"""

from __future__ import annotations

import uuid

import pytest
from django.db import transaction

from memory.models import AugmentationJob, Conversation, Exchange, Memory, Message, Triple
from memory.services.identity import entity_get_or_create, process_get_or_create, session_get_or_create
from memory.services.job_queue import jobs_sweep_stale
from memory.services.publishing import publish_jobs
from tests.support.exchanges import record, wait_for_jobs
from tests.support.worker import running_workers

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def workers(django_db_setup):
    with running_workers() as pool:
        yield pool


SEED_EXCHANGES = [
    # uc3_dev_team.py: the coder's call
    {
        "entity": "repo_myapp",
        "process": "coder_agent",
        "system": "You are a coding agent. Write clean, well-documented code.",
        "user": "Implement user authentication with JWT tokens. Use bcrypt for passwords.",
        "assistant": "Here is the implementation. The login endpoint issues JWT tokens that expire after 15 minutes."
        " Passwords are hashed with bcrypt.",
    },
    # uc2_support_handoff.py: the triage agent's call
    {
        "entity": "customer_456",
        "process": "triage_agent",
        "system": "You are a triage agent. Assess customer issues and route them to the right specialist.",
        "user": "I can't access my account and I was just charged twice on my card.",
        "assistant": "The customer cannot access their account and was charged twice. The customer prefers email"
        " updates.",
    },
    # uc1_research_pipeline.py: the research agent's call
    {
        "entity": "project_alpha",
        "process": "research_agent",
        "system": "You are a research agent. Gather comprehensive information.",
        "user": "Research vector database technologies and semantic search approaches for AI memory systems.",
        "assistant": "Pinecone and Weaviate are leading vector databases. Our team is proficient in PostgreSQL.",
    },
]


def test_seed_sample_exchanges_become_every_kind_of_memory_with_provenance(tenant, workers):
    workers.start(MEMORI_EXTRACTOR="rules")

    jobs = wait_for_jobs([record(tenant, **exchange).job.pk for exchange in SEED_EXCHANGES])

    assert [(job.status, job.extractor) for job in jobs] == [("done", "rules")] * 3
    assert set(Memory.objects.values_list("kind", flat=True)) == {"fact", "preference", "skill", "attribute"}
    repo = Memory.objects.filter(entity__external_id="repo_myapp")
    assert repo.filter(kind="fact", content__contains="JWT tokens").exists()
    assert repo.filter(kind="fact", content__contains="bcrypt").exists()
    assert not repo.filter(content__startswith="Implement").exists()  # the user's task is not a fact
    attribute = repo.get(kind="attribute")
    assert attribute.owner_process.external_id == "coder_agent" and "coding agent" in attribute.content
    assert Triple.objects.filter(entity__external_id="repo_myapp", object__name__icontains="bcrypt").exists()
    customer = Memory.objects.filter(entity__external_id="customer_456")
    assert customer.filter(kind="fact", content__contains="the user was just charged twice").exists()
    assert customer.filter(kind="preference", content__contains="email updates").exists()
    assert Memory.objects.filter(entity__external_id="project_alpha", kind="skill").exists()
    jwt = repo.filter(content__contains="JWT").order_by("pk").first()
    mention = jwt.mentions.get()
    assert mention.process.external_id == "coder_agent" and mention.job_id == jobs[0].pk
    assert mention.message.exchange_id == jobs[0].exchange_id and mention.message.role in ("user", "assistant")


def test_facts_in_other_scripts_are_kept_apart_by_the_rules_pipeline(tenant, workers):
    workers.start(MEMORI_EXTRACTOR="rules")
    text = (
        "Наш API использует JWT токены. Наш API использует OAuth токены. 我们的数据库是PostgreSQL。我们的缓存是Redis。"
    )

    wait_for_jobs([record(tenant, user=text).job.pk])
    wait_for_jobs([record(tenant, process="other_agent", user="Наш API использует JWT токены.").job.pk])

    contents = list(Memory.objects.order_by("pk").values_list("content", "mention_count"))
    assert len(contents) == 4, contents
    assert Memory.objects.get(content__startswith="Наш API использует JWT").mention_count == 2


def _record_without_publishing(tenant, text: str) -> AugmentationJob:
    """What a broker outage at commit leaves behind: the exchange and its job, never published."""
    entity = entity_get_or_create(tenant=tenant, external_id="project_alpha")
    process = process_get_or_create(tenant=tenant, external_id="research_agent")
    with transaction.atomic():
        session = session_get_or_create(entity=entity, process=process, session_uuid=uuid.uuid4())
        conversation = Conversation.objects.create(session=session, entity=entity, process=process)
        exchange = Exchange.objects.create(conversation=conversation, entity=entity, process=process, session=session)
        Message.objects.create(conversation=conversation, exchange=exchange, position=0, role="user", content=text)
        return AugmentationJob.objects.create(exchange=exchange, entity=entity, process=process)


def test_the_sweeper_republishes_a_job_whose_publish_was_lost(tenant, workers):
    workers.start(MEMORI_EXTRACTOR="rules")
    lost = _record_without_publishing(tenant, "The staging cluster runs Kubernetes 1.30.")
    assert lost.published_at is None and lost.status == "queued"

    swept = jobs_sweep_stale(older_than=0)

    assert swept.republished == 1
    (job,) = wait_for_jobs([lost.pk])
    assert job.status == "done" and job.published_at is not None
    assert Memory.objects.filter(content__contains="Kubernetes 1.30").exists()


def test_a_job_delivered_twice_is_stored_once(tenant, workers):
    workers.start(MEMORI_EXTRACTOR="rules")
    workers.start(MEMORI_EXTRACTOR="rules")
    job = record(tenant, user="Our API uses JWT tokens. The database is PostgreSQL 16.").job
    publish_jobs([job.pk, job.pk, job.pk])  # redeliveries, as after a lost ack

    (done,) = wait_for_jobs([job.pk])
    publish_jobs([done.pk])  # and once more after it finished
    wait_for_jobs([done.pk])

    assert done.status == "done" and done.attempts == 1
    assert all(count == 1 for count in Memory.objects.values_list("mention_count", flat=True))
    assert Memory.objects.count() >= 2

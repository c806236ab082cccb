"""Episodes as augmentation stores them: one per augmented exchange with shareable prose, written
with the batch, embedded, idempotent; and gone with what they belong to."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import numpy as np
import pytest

from memory.embedding import from_bytes, get_embedder
from memory.models import AugmentationJob, Entity, Episode, Exchange, Session
from memory.services import dedup
from memory.services.audit import Actor
from memory.services.augmentation import job_augment, jobs_backfill
from memory.services.forgetting import conversation_delete, entity_forget, process_delete, session_delete
from memory.services.recording import ExchangeInput, MessageInput, record_exchange
from tests.support.exchanges import record

pytestmark = pytest.mark.django_db

ACTOR = Actor(label="test")


@pytest.fixture(autouse=True)
def line_extractor(settings):
    dedup.forget_all()
    settings.MEMORI_EXTRACTOR = "tests.support.extractors.LineExtractor"


def _augmented(tenant, **kwargs) -> AugmentationJob:
    recorded = record(tenant, **kwargs)
    job_augment(recorded.job.pk)
    return AugmentationJob.objects.select_related("exchange").get(pk=recorded.job.pk)


def test_an_augmented_exchange_keeps_its_shareable_prose_as_an_episode(tenant):
    said = datetime(2023, 5, 8, 13, 56, tzinfo=UTC)
    job = _augmented(
        tenant,
        system="You are the billing agent.",
        user="Why was I charged twice? The customer paid order 8812 with a Visa card.",
        assistant="I am the billing agent and I handle refunds. A refund of 49 euros was issued for order 8812.",
        occurred_at=said,
    )

    episode = Episode.objects.get()
    assert episode.content == (
        "user: The customer paid order 8812 with a Visa card. / "
        "assistant: A refund of 49 euros was issued for order 8812."
    )
    assert episode.exchange_id == job.exchange_id and episode.session_id == job.exchange.session_id
    assert episode.process.external_id == "research_agent" and episode.entity.external_id == "project_alpha"
    assert episode.occurred_at == said
    embedder = get_embedder()
    assert episode.embedding_model == embedder.name
    assert np.allclose(from_bytes(episode.embedding, embedder.dimensions), embedder.embed([episode.content])[0])
    assert job.result["episodes_created"] == 1


def test_what_extraction_keeps_as_an_attribute_stays_out_of_the_episode(tenant):
    _augmented(
        tenant,
        user="Which accounts renew soon?",
        assistant="attribute: Handles vendor analysis for the EU accounts.\nThe EU accounts renew in March.",
    )

    assert Episode.objects.get().content == "assistant: The EU accounts renew in March."


def test_an_exchange_with_nothing_to_share_gets_no_episode(tenant):
    job = _augmented(tenant, user="Can you check the invoice?", assistant="Is there anything else?")

    assert job.status == "done" and job.result["episodes_created"] == 0
    assert not Episode.objects.exists()


def test_a_batch_stores_each_exchanges_episode_and_moves_the_memory_version(tenant):
    first = record(tenant, user="The team moved the launch to June.")
    second = record(tenant, entity="customer_1", user="The customer lives in Lisbon.")
    third = record(tenant, user="What time is it?")
    version = Entity.objects.get(external_id="project_alpha").memory_version

    outcomes = jobs_backfill([first.job.pk, second.job.pk, third.job.pk], batch_size=3)

    assert {outcome.status for outcome in outcomes.values()} == {"done"}
    assert dict(Episode.objects.values_list("exchange_id", "content")) == {
        first.exchange.pk: "user: The team moved the launch to June.",
        second.exchange.pk: "user: The customer lives in Lisbon.",
    }
    assert Episode.objects.get(exchange_id=second.exchange.pk).entity.external_id == "customer_1"
    assert Entity.objects.get(external_id="project_alpha").memory_version > version


def test_running_a_job_again_stores_its_episode_once(tenant):
    job = _augmented(tenant, user="The launch moved to June.")
    AugmentationJob.objects.filter(pk=job.pk).update(status="queued")

    job_augment(job.pk)

    job.refresh_from_db()
    assert job.status == "done" and job.attempts == 2 and job.result["episodes_created"] == 0
    assert Episode.objects.count() == 1


def test_bulk_imported_history_gets_episodes_with_its_original_time(tenant):
    said = datetime(2023, 5, 8, 13, 56, tzinfo=UTC)
    recorded = record_exchange(
        tenant=tenant,
        data=ExchangeInput(
            entity_id="conv-26",
            process_id="Caroline",
            session_id=uuid.uuid4(),
            messages=[MessageInput(role="user", content="Caroline: I went to a support group yesterday.", name="D1:3")],
            occurred_at=said,
        ),
    )
    job_augment(recorded.job.pk)

    episode = Episode.objects.get()
    assert episode.content == "Caroline: I went to a support group yesterday." and episode.occurred_at == said


def test_deleting_an_entity_removes_its_episodes(tenant):
    _augmented(tenant, user="The launch moved to June.")
    _augmented(tenant, entity="customer_1", user="The customer lives in Lisbon.")

    entity_forget(entity=Entity.objects.get(external_id="project_alpha"), actor=ACTOR)

    assert list(Episode.objects.values_list("content", flat=True)) == ["user: The customer lives in Lisbon."]


def test_deleting_a_session_conversation_or_process_removes_their_episodes_and_refreshes_recall(tenant):
    _augmented(tenant, user="The launch moved to June.", session_id=str(uuid.uuid4()))
    _augmented(tenant, user="The budget is 40k euros.", session_id=str(uuid.uuid4()))
    _augmented(tenant, process="billing_agent", user="The invoice is due on Friday.")
    entity = Entity.objects.get(external_id="project_alpha")

    session_delete(session=Session.objects.get(episodes__content__contains="June"), actor=ACTOR)
    assert Entity.objects.get(pk=entity.pk).memory_version > entity.memory_version
    conversation_delete(
        conversation=Exchange.objects.get(episode__content__contains="budget").conversation, actor=ACTOR
    )
    process_delete(process=Episode.objects.get(content__contains="invoice").process, actor=ACTOR)

    assert not Episode.objects.exists()
    assert Entity.objects.get(pk=entity.pk).memory_version >= entity.memory_version + 3

"""`manage.py reextract`: what augmentation stored is replaced by what the current extractor stores;
what people made, edited or deleted stays as they left it; running it twice changes nothing."""

from datetime import UTC, datetime

import pytest
from django.core.management import call_command

from memory.models import AuditEntry, Entity, Memory, Triple
from memory.services.audit import Actor
from memory.services.augmentation import job_augment
from memory.services.editing import memory_create, memory_delete, memory_update
from memory.services.reextraction import entity_reextract
from tests.support.exchanges import record

pytestmark = pytest.mark.django_db

TURNS = [
    ("billing_agent", "Our payments go through Stripe. The Pro plan costs $49 per month.", 1),
    ("billing_agent", "Your invoice date is March 5. Thanks for your patience!", 2),
    ("triage_agent", "The customer reported a double charge on the Pro plan. Sorry to hear that!", 3),
]


def _augmented(tenant, extractor: str, settings) -> Entity:
    settings.MEMORI_EXTRACTOR = extractor
    for process, text, day in TURNS:
        recorded = record(
            tenant,
            entity="customer_456",
            process=process,
            assistant=text,
            occurred_at=datetime(2026, 3, day, tzinfo=UTC),
        )
        job_augment(recorded.job.pk)
    return Entity.objects.get(external_id="customer_456")


def _contents(entity) -> set[str]:
    return set(Memory.objects.filter(entity=entity).values_list("content", flat=True))


def test_it_replaces_an_older_extractors_memories_by_the_current_ones(tenant, settings):
    entity = _augmented(tenant, "tests.support.extractors.VerbatimExtractor", settings)
    assert "Thanks for your patience!" in _contents(entity)  # the old extractor kept chit-chat
    settings.MEMORI_EXTRACTOR = "rules"

    result = entity_reextract(entity=entity, actor=Actor(label="test"))

    assert _contents(entity) == {
        "billing_agent's payments go through Stripe.",
        "The Pro plan costs $49 per month.",
        "The user's invoice date is March 5.",
        "The customer reported a double charge on the Pro plan.",
    }
    assert result.jobs == 3 and result.jobs_failed == 0 and result.memories_after == 4
    audit = AuditEntry.objects.get(object_type="entity", object_id=entity.pk)
    assert audit.actor_label == "test" and audit.after["reextracted_jobs"] == 3


def test_peoples_memories_edits_and_deletions_are_kept(tenant, settings, admin_user):
    entity = _augmented(tenant, "rules", settings)
    person = Actor.from_user(admin_user)
    memory_create(entity=entity, kind="fact", content="The customer is a reseller.", actor=person)
    edited = Memory.objects.get(entity=entity, content="The Pro plan costs $49 per month.")
    memory_update(memory=edited, actor=person, content="The Pro plan costs $59 per month.")
    memory_delete(memory=Memory.objects.get(entity=entity, content="The user's invoice date is March 5."), actor=person)
    before = _contents(entity)

    entity_reextract(entity=entity, actor=Actor(label="test"))

    assert _contents(entity) == before
    assert "The Pro plan costs $49 per month." not in _contents(entity)


def test_running_it_twice_changes_nothing(tenant, settings):
    entity = _augmented(tenant, "rules", settings)
    entity_reextract(entity=entity, actor=Actor(label="test"))
    first = (_contents(entity), set(Triple.objects.filter(entity=entity).values_list("content", flat=True)))

    entity_reextract(entity=entity, actor=Actor(label="test"))

    assert (_contents(entity), set(Triple.objects.filter(entity=entity).values_list("content", flat=True))) == first


def test_the_command_shows_progress_and_refuses_an_unknown_entity(tenant, settings, capsys):
    _augmented(tenant, "rules", settings)

    call_command("reextract", "--entity", "customer_456")

    out = capsys.readouterr().out
    assert "customer_456: [" in out and "3/3" in out and "3 exchanges re-extracted" in out
    with pytest.raises(Exception, match="No entity 'nobody'"):
        call_command("reextract", "--entity", "nobody")

"""Supersession in recall: the current memory comes first, a superseded one that still reaches
the block says so, and a warm cache sees every change of validity at once.

Exchanges are recorded and augmented the way the worker does it, with the test line extractor
saying exactly which memories and claims were extracted (supersession itself is
test_supersession.py's subject).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from django.utils import timezone

from memory.models import Memory
from memory.services import dedup
from memory.services.augmentation import job_augment
from memory.services.recall import RecallRequest, recall_for_call
from tests.support.exchanges import record

pytestmark = pytest.mark.django_db

ENTITY = "customer_456"
MARCH_5 = datetime(2026, 3, 5, 9, 0, tzinfo=UTC)
MARCH_12 = datetime(2026, 3, 12, 16, 30, tzinfo=UTC)
FIRST_DATE = "fact: The invoice is due on March 5\nclaim: invoice | due_on | March 5 | date"
MOVED_DATE = "fact: The invoice due date moved to March 12\nclaim: invoice | due_on | March 12 | date"
STRIPE = "fact: Payments go through Stripe\nclaim: payments | go_through | Stripe | name"
ADYEN = "fact: We moved payments to Adyen\nclaim: payments | * | Adyen | name"


@pytest.fixture(autouse=True)
def line_extractor(settings):
    dedup.forget_all()
    settings.MEMORI_EXTRACTOR = "tests.support.extractors.LineExtractor"
    settings.MEMORI_RECALL_EPISODES = False  # memories only (episodes: test_recall_episodes.py)


def say(tenant, text: str, *, at: datetime, process: str = "billing_agent") -> None:
    job = record(tenant, entity=ENTITY, process=process, user=text, occurred_at=at).job
    assert job_augment(job.pk).status == "done"


def recall(tenant, query: str, *, process_id: str = "support_agent", **options):
    return recall_for_call(
        RecallRequest(tenant=tenant, entity_id=ENTITY, process_id=process_id, query=query, **options)
    )


def memory_lines(block: str) -> list[str]:
    return [line for line in block.splitlines() if line.startswith("- ")]


def test_the_update_ranks_above_a_stale_fact_restated_six_times_and_both_say_which_is_current(tenant):
    for day in range(6):
        say(tenant, FIRST_DATE, at=MARCH_5 + timedelta(days=day, hours=day))
    say(tenant, MOVED_DATE, at=MARCH_12)

    result = recall(tenant, "When is the invoice due?")

    assert [item.content for item in result.items] == [
        "The invoice due date moved to March 12",
        "The invoice is due on March 5",
    ]
    assert memory_lines(result.block) == [
        '- [12 March 2026] (current; replaces: "The invoice is due on March 5") '
        "The invoice due date moved to March 12 [billing_agent]",
        "- [5 March 2026] (superseded 12 March 2026) The invoice is due on March 5 [billing_agent]",
    ]


def test_a_superseded_result_brings_its_current_replacement_above_it(tenant):
    say(tenant, STRIPE, at=MARCH_5)
    say(tenant, ADYEN, at=MARCH_12)
    stripe = Memory.objects.get(content="Payments go through Stripe")

    result = recall(tenant, "Is Stripe still our provider?")

    assert [(item.content, item.via) for item in result.items] == [
        ("We moved payments to Adyen", f"current version of memory {stripe.pk}"),
        ("Payments go through Stripe", None),
    ]
    assert memory_lines(result.block)[1] == (
        "- [5 March 2026] (superseded 12 March 2026) Payments go through Stripe [billing_agent]"
    )


def test_a_current_memory_without_its_older_version_in_the_block_carries_no_note(tenant):
    say(tenant, STRIPE, at=MARCH_5)
    say(tenant, ADYEN, at=MARCH_12)

    result = recall(tenant, "Adyen", limit=1)

    assert memory_lines(result.block) == ["- [12 March 2026] We moved payments to Adyen [billing_agent]"]


def test_a_warm_cache_sees_a_new_supersession_and_its_undoing_at_once(tenant):
    from memory.services.audit import Actor
    from memory.services.supersession_undo import memory_restore

    say(tenant, STRIPE, at=MARCH_5)
    assert "superseded" not in recall(tenant, "Stripe payments").block  # the index is cached

    say(tenant, ADYEN, at=MARCH_12)  # a new row: the incremental refresh learns Stripe's new validity
    superseded = recall(tenant, "Stripe payments")
    memory_restore(memory=Memory.objects.get(content="Payments go through Stripe"), actor=Actor(label="user:ops"))
    restored = recall(tenant, "Stripe payments")  # no new row: only validity changed

    assert "(superseded 12 March 2026) Payments go through Stripe" in superseded.block
    assert "superseded" not in restored.block and "replaces" not in restored.block


def test_a_warm_cache_sees_a_superseded_memory_said_again_become_current_and_supersede_its_replacement(tenant):
    say(tenant, STRIPE, at=MARCH_5)
    say(tenant, ADYEN, at=MARCH_12)
    recall(tenant, "Stripe payments")  # cached: Stripe superseded by Adyen
    say(tenant, STRIPE, at=MARCH_12 + timedelta(days=7))  # no new row: validity of two existing ones changes

    result = recall(tenant, "Which provider handles payments, Stripe or Adyen?")

    lines = memory_lines(result.block)
    assert lines[0].startswith('- [5 March 2026] (current since 19 March 2026; replaces: "We moved payments to Adyen")')
    assert lines[1] == "- [12 March 2026] (superseded 19 March 2026) We moved payments to Adyen [billing_agent]"


def test_an_index_refreshed_after_a_supersession_equals_one_built_from_scratch(tenant):
    import numpy as np

    from memory.embedding import get_embedder
    from memory.models import Entity
    from memory.recall.index import IndexKey, build_entity_index, refresh_entity_index

    say(tenant, STRIPE, at=MARCH_5)
    say(tenant, FIRST_DATE, at=MARCH_5)
    entity = Entity.objects.get(external_id=ENTITY)
    old = build_entity_index(IndexKey(entity.pk, entity.created_at, entity.memory_version, get_embedder().name))
    say(tenant, ADYEN, at=MARCH_12)
    say(tenant, MOVED_DATE, at=MARCH_12)
    entity.refresh_from_db()
    key = IndexKey(entity.pk, entity.created_at, entity.memory_version, get_embedder().name)

    refreshed, fresh = refresh_entity_index(old, key), build_entity_index(key)

    # Rows of different kinds (memories, triples, episodes) may share an id: ordered by kind, then id.
    mine, theirs = np.lexsort((refreshed.ids, refreshed.kinds)), np.lexsort((fresh.ids, fresh.kinds))
    assert np.array_equal(refreshed.ids[mine], fresh.ids[theirs])
    assert np.array_equal(refreshed.kinds[mine], fresh.kinds[theirs])
    assert np.array_equal(refreshed.valid_to[mine], fresh.valid_to[theirs], equal_nan=True)
    assert np.array_equal(refreshed.superseded_by[mine], fresh.superseded_by[theirs])
    assert np.array_equal(refreshed.has_claim[mine], fresh.has_claim[theirs])
    assert (refreshed.is_superseded & refreshed.is_memory).sum() == 2
    assert (refreshed.is_superseded & refreshed.is_episode).sum() == 2  # the exchanges that said them


def test_a_warm_recall_with_superseded_memories_reads_the_database_twice(tenant, django_assert_max_num_queries):
    say(tenant, STRIPE, at=MARCH_5)
    say(tenant, ADYEN, at=MARCH_12)
    recall(tenant, "Stripe payments")  # warm the cache

    with django_assert_max_num_queries(7):  # as test_recall.py's warm recall: entity, provenance, event
        result = recall(tenant, "Stripe payments")

    assert "superseded" in result.block


def test_a_superseded_memory_is_never_a_handoff_its_replacement_is(tenant):
    now = timezone.now()
    say(tenant, STRIPE, at=now - timedelta(minutes=3))
    say(tenant, ADYEN, at=now - timedelta(minutes=1))

    result = recall(tenant, "Summarize the latest findings")

    handoffs = [item.content for item in result.items if item.via and item.via.startswith("handoff from")]
    assert handoffs == ["We moved payments to Adyen"]

"""Fresh findings: another agent's finding of the last hour reaches the next agent's block when it
asks about it in its own words, above older memories that share a word with the question.

Past the handoff window (memory/recall/handoff.py) recent work is no longer admitted without
matching; the fresh-findings prior (memory/recall/recent.py) keeps it ahead of older memories for a
few hours, fading by half every `MEMORI_RECALL_FRESH_HALF_LIFE_SECONDS`. Exchanges are recorded and
augmented inline with the test line extractor, with their original times.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from memory.recall.text import tokenize
from memory.services.augmentation import job_augment
from memory.services.recall import RecallRequest, recall_for_call
from tests.support.exchanges import record

pytestmark = pytest.mark.django_db

ENTITY = "shop"
FRESH = "Checkout latency doubled after the CDN provider changed its Frankfurt edge"
QUESTION = "Why did paying become slower for shoppers in Germany?"
CITIES = "Oslo Lima Dublin Austin Osaka Madrid Denver Lagos Seoul Porto Munich Hamburg Toronto Nairobi".split()


@pytest.fixture(autouse=True)
def line_extractor(settings):
    settings.MEMORI_EXTRACTOR = "tests.support.extractors.LineExtractor"


def say(tenant, process: str, *facts: str, ago: timedelta) -> None:
    recorded = record(
        tenant, entity=ENTITY, process=process, user="\n".join(f"fact: {fact}" for fact in facts),
        occurred_at=timezone.now() - ago,
    )  # fmt: skip
    assert job_augment(recorded.job.pk).status == "done"


def older_memories(tenant) -> None:
    """Forty memories of two other agents, two days old, each sharing a word with the question."""
    for n, city in enumerate(CITIES * 3):
        process = ("sales_agent", "ops_agent")[n % 2]
        say(
            tenant, process, f"Shoppers in {city} bought {n + 3} hundred gift cards last quarter", ago=timedelta(days=2)
        )


def block_for(tenant, process: str = "support_agent") -> str:
    return recall_for_call(RecallRequest(tenant=tenant, entity_id=ENTITY, process_id=process, query=QUESTION)).block


def test_another_agents_finding_of_twenty_minutes_ago_asked_in_other_words_reaches_the_block(tenant, settings):
    assert not set(tokenize(FRESH)) & set(tokenize(QUESTION))
    older_memories(tenant)
    say(tenant, "ops_agent", FRESH, ago=timedelta(minutes=20))

    with_prior = block_for(tenant)
    settings.MEMORI_RECALL_FRESH_WEIGHT = 0
    without = block_for(
        tenant, "billing_agent"
    )  # another caller: a new index is not needed, the setting is read per call

    assert FRESH in with_prior
    assert FRESH not in without and "gift cards" in without


def test_the_prior_fades_with_the_findings_age(tenant):
    older_memories(tenant)
    say(tenant, "ops_agent", FRESH, ago=timedelta(hours=8))

    assert FRESH not in block_for(tenant)


def test_the_callers_own_finding_gets_no_prior(tenant):
    older_memories(tenant)
    say(tenant, "support_agent", FRESH, ago=timedelta(minutes=20))

    assert FRESH not in block_for(tenant, "support_agent")
    assert FRESH in block_for(tenant, "billing_agent")

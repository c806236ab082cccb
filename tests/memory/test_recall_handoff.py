"""Handoffs: what other agents of the entity contributed in the last minutes is recalled even when
it shares no word with the query.

The product promise behind it (seed sample uc4_parallel.py): four agents research in parallel, then
a synthesis agent asks to "Synthesize all research findings into strategic recommendations." and
must see the work of all four, also once augmentation has finished (the raw exchanges are then no
longer served as pending context) and whatever words the agents' replies used. Exchanges are
recorded and augmented inline, as the Celery task does.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from memory.models import Memory, RecallHit
from memory.recall.text import tokenize
from memory.services.augmentation import augment_job
from memory.services.recall import RecallRequest, recall_for_call
from memory.services.recording import ExchangeInput, MessageInput, record_exchange

pytestmark = pytest.mark.django_db

PROJECT = "project_alpha"
SYNTHESIS_QUERY = "Synthesize all research findings into strategic recommendations."
PARALLEL_TASKS = {
    "market_research": "Analyze the AI market landscape",
    "competitor_analysis": "Research top 5 competitors",
    "technical_research": "Evaluate vector database options",
    "pricing_research": "Research pricing strategies",
}


def say(tenant, process_id: str, text: str, *, reply: str = "Done.", entity_id: str = PROJECT, ago=timedelta(0)):
    """One agent's exchange, recorded and fully augmented (what `mem.augmentation.wait()` waits for)."""
    recorded = record_exchange(
        tenant=tenant,
        data=ExchangeInput(
            entity_id=entity_id,
            process_id=process_id,
            messages=[
                MessageInput(role="system", content=f"You are a {process_id.removesuffix('_agent')} agent."),
                MessageInput(role="user", content=text),
                MessageInput(role="assistant", content=reply),
            ],
            occurred_at=timezone.now() - ago,
        ),
    )
    assert augment_job(recorded.job.pk).status == "done"


def recall(tenant, process_id: str, query: str, *, entity_id: str = PROJECT, **options):
    return recall_for_call(
        RecallRequest(tenant=tenant, entity_id=entity_id, process_id=process_id, query=query, **options)
    )


def run_parallel_agents(tenant, **options) -> None:
    for role, task in PARALLEL_TASKS.items():
        say(tenant, f"{role}_agent", task, reply=f"Done: the task is to {task.lower()}.", **options)


def test_the_synthesis_agent_recalls_all_four_parallel_agents_once_augmented(tenant):
    run_parallel_agents(tenant)
    assert not set(tokenize("Done: the task is to evaluate vector database options.")) & set(
        tokenize(SYNTHESIS_QUERY)
    )  # the reply gives lexical matching nothing to hold on to

    result = recall(tenant, "synthesis_agent", SYNTHESIS_QUERY)

    assert result.pending == []  # all augmented: only memories are served
    block = result.block.lower()
    for words in ("market landscape", "competitors", "vector database", "pricing strategies"):
        assert words in block
    technical = [item for item in result.items if "vector database" in item.content]
    assert technical and all(item.via == "handoff from technical_research_agent" for item in technical)
    assert "## Just added by other agents (recent handoffs)" in result.block


def test_without_handoffs_the_technical_agents_work_would_be_missed(tenant, settings):
    settings.MEMORI_RECALL_HANDOFF_SECONDS = 0
    run_parallel_agents(tenant)

    result = recall(tenant, "synthesis_agent", SYNTHESIS_QUERY)

    assert "vector database" not in result.block.lower()  # the gap the handoff window closes


def test_the_recall_event_records_why_each_handoff_was_included(tenant):
    run_parallel_agents(tenant)

    result = recall(tenant, "synthesis_agent", SYNTHESIS_QUERY)

    hits = list(RecallHit.objects.filter(event_id=result.event_id).order_by("rank"))
    assert [(hit.content, hit.via) for hit in hits] == [(item.content, item.via or "") for item in result.items]
    handoffs = [hit for hit in hits if hit.via.startswith("handoff from ")]
    assert {hit.via for hit in handoffs} == {"handoff from technical_research_agent"}
    assert all(hit.contributing_processes == ["technical_research_agent"] for hit in handoffs)
    assert all(hit.dense_score is not None and hit.lexical_score is not None for hit in handoffs)


def test_work_older_than_the_window_is_recalled_for_relevance_only(tenant):
    run_parallel_agents(tenant, ago=timedelta(hours=1))

    result = recall(tenant, "synthesis_agent", SYNTHESIS_QUERY)

    assert "vector database" not in result.block.lower()
    assert not any(item.via and item.via.startswith("handoff") for item in result.items)


def test_a_process_is_not_handed_its_own_recent_work(tenant):
    say(tenant, "technical_research_agent", "Evaluate vector database options")
    say(tenant, "pricing_agent", "Compare the subscription tiers")

    result = recall(tenant, "technical_research_agent", SYNTHESIS_QUERY)

    handed = [item for item in result.items if item.via and item.via.startswith("handoff from ")]
    assert handed and {item.via for item in handed} == {"handoff from pricing_agent"}


def test_another_entitys_recent_work_is_never_handed_over(tenant, other_tenant):
    say(tenant, "technical_research_agent", "Evaluate vector database options", entity_id="project_beta")
    say(other_tenant, "technical_research_agent", "Evaluate vector database options")
    say(tenant, "market_research_agent", "Analyze the AI market landscape")

    result = recall(tenant, "synthesis_agent", SYNTHESIS_QUERY)

    assert "vector database" not in result.block.lower()
    assert "market landscape" in result.block.lower()


def test_another_processs_attributes_are_never_handed_over(tenant):
    say(tenant, "technical_research_agent", "Evaluate vector database options")
    attributes = Memory.objects.filter(kind="attribute").values_list("content", flat=True)
    assert attributes  # "This agent is a technical_research agent." is the other process's own

    result = recall(tenant, "synthesis_agent", SYNTHESIS_QUERY)

    assert "vector database" in result.block.lower()
    assert not any(item.kind == "attribute" for item in result.items)
    assert not any(content in result.block for content in attributes)


def test_handoffs_are_bounded_per_process_and_by_the_limit(tenant):
    notes = [f"Benchmark run {n} of the ingestion cluster took {n * 7} minutes" for n in range(1, 11)]
    say(tenant, "ops_agent", " ".join(f"{note}." for note in notes))
    say(tenant, "billing_agent", "Invoices are sent as PDF attachments.")

    result = recall(tenant, "synthesis_agent", SYNTHESIS_QUERY)
    small = recall(tenant, "synthesis_agent", SYNTHESIS_QUERY, limit=2)

    handed = [item for item in result.items if item.via and item.via.startswith("handoff from ")]
    assert sum(item.via == "handoff from ops_agent" for item in handed) == 3  # the newest few, not all ten
    assert any(item.via == "handoff from billing_agent" for item in handed)  # every process gets its share
    assert len(small.items) <= 2
    assert result.token_count <= 700


def test_a_handoff_never_repeats_a_result(tenant):
    say(tenant, "research_agent", "Research findings: recommendations for strategic planning are ready.")

    result = recall(tenant, "synthesis_agent", SYNTHESIS_QUERY)

    memory_ids = [item.memory_id for item in result.items]
    assert memory_ids and len(memory_ids) == len(set(memory_ids))
    contents = [" ".join(item.content.lower().split()) for item in result.items]
    assert len(contents) == len(set(contents))


def test_the_block_stays_within_a_small_budget_with_handoffs(tenant):
    run_parallel_agents(tenant)

    result = recall(tenant, "synthesis_agent", SYNTHESIS_QUERY, token_budget=60)

    assert result.token_count <= 60


def test_handoffs_cost_a_warm_recall_no_query(tenant, django_assert_max_num_queries):
    run_parallel_agents(tenant)
    recall(tenant, "synthesis_agent", SYNTHESIS_QUERY)  # warm the cache (recent mentions load with it)

    with django_assert_max_num_queries(7):  # as without handoffs (test_recall.py): entity, provenance, event
        result = recall(tenant, "synthesis_agent", SYNTHESIS_QUERY)

    assert any(item.via == "handoff from technical_research_agent" for item in result.items)

"""Handoffs: what other agents of the entity contributed in the last minutes is recalled even when
it shares no word with the query, every agent getting its fair share of the block.

The product promise behind it (seed sample uc4_parallel.py): agents research in parallel, then a
synthesis agent asks to "Synthesize all research findings into strategic recommendations." and
must see the work of all of them, also once augmentation has finished (the raw exchanges are then
no longer served as pending context) and whatever words their findings used. Exchanges are
recorded and augmented inline, as the Celery task does, with the test line extractor saying
exactly which memories each yields (the offline extractor has its own tests).
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from memory.models import Memory, RecallHit
from memory.recall.text import tokenize
from memory.services.augmentation import job_augment
from memory.services.recall import RecallRequest, recall_for_call
from memory.services.recording import ExchangeInput, MessageInput, record_exchange
from tests.support.handoff_agents import PARALLEL_AGENTS

pytestmark = pytest.mark.django_db

PROJECT = "project_alpha"
SYNTHESIS_QUERY = "Synthesize all research findings into strategic recommendations."
PARALLEL_FINDINGS = {
    "market_research": "The AI infrastructure market reached 2.4 billion dollars in 2024",
    "competitor_analysis": "The top competitors are Mem0, Zep, Letta, LangMem and Memori",
    "technical_research": "Qdrant gave the lowest query latency among the vector databases tested",
    "pricing_research": "Usage-based pricing converts better than seat licences for developer tools",
}
MORE_FINDINGS = [agent.finding for agent in PARALLEL_AGENTS[4:]]  # twenty more: a burst of 24 with the four above


@pytest.fixture(autouse=True)
def line_extractor(settings):
    settings.MEMORI_EXTRACTOR = "tests.support.extractors.LineExtractor"


def say(tenant, process_id: str, *facts: str, task: str = "Report your findings.", entity_id=PROJECT, ago=None):
    """One agent's exchange, recorded and fully augmented (what `mem.augmentation.wait()` waits for):
    its task and the facts its reply states."""
    recorded = record_exchange(
        tenant=tenant,
        data=ExchangeInput(
            entity_id=entity_id,
            process_id=process_id,
            messages=[
                MessageInput(role="system", content=f"You are a {process_id.removesuffix('_agent')} agent."),
                MessageInput(role="user", content=task),
                MessageInput(role="assistant", content="\n".join(f"fact: {fact}" for fact in facts)),
            ],
            occurred_at=timezone.now() - (ago or timedelta(0)),
        ),
    )
    assert job_augment(recorded.job.pk).status == "done"


def recall(tenant, process_id: str, query: str, *, entity_id: str = PROJECT, **options):
    return recall_for_call(
        RecallRequest(tenant=tenant, entity_id=entity_id, process_id=process_id, query=query, **options)
    )


def run_parallel_agents(tenant, **options) -> None:
    for role, finding in PARALLEL_FINDINGS.items():
        say(tenant, f"{role}_agent", finding, **options)


def handed(result) -> list:
    return [item for item in result.items if item.via and item.via.startswith("handoff from ")]


def test_the_synthesis_agent_recalls_all_four_parallel_agents_once_augmented(tenant):
    run_parallel_agents(tenant)
    technical = PARALLEL_FINDINGS["technical_research"]
    assert not set(tokenize(technical)) & set(tokenize(SYNTHESIS_QUERY))  # nothing for lexical matching

    result = recall(tenant, "synthesis_agent", SYNTHESIS_QUERY)

    assert result.pending == []  # all augmented: only memories are served
    assert all(finding in result.block for finding in PARALLEL_FINDINGS.values())
    assert [item.via for item in result.items if item.content == technical] == ["handoff from technical_research_agent"]
    assert "## Just added by other agents (recent handoffs)" in result.block


def test_every_one_of_twelve_parallel_agents_reaches_the_synthesis_agent_within_the_default_budget(tenant):
    findings = [*PARALLEL_FINDINGS.values(), *MORE_FINDINGS][:12]
    for number, finding in enumerate(findings):
        say(tenant, f"agent_{number}", finding)

    result = recall(tenant, "synthesis_agent", SYNTHESIS_QUERY)

    assert [finding for finding in findings if finding not in result.block] == []
    assert result.token_count <= 700


def test_with_twenty_four_agents_every_one_is_represented_the_last_to_speak_first(tenant):
    findings = [*PARALLEL_FINDINGS.values(), *MORE_FINDINGS]
    for number, finding in enumerate(findings):
        say(tenant, f"agent_{number}", finding, ago=timedelta(seconds=len(findings) - number))

    result = recall(tenant, "synthesis_agent", SYNTHESIS_QUERY)

    assert [finding for finding in findings if finding not in result.block] == []
    assert result.token_count <= 700
    sources = [item.via.removeprefix("handoff from ") for item in handed(result)]
    assert sources == [f"agent_{number}" for number in reversed(range(24)) if f"agent_{number}" in sources]


def test_each_agent_gives_what_matches_the_query_first_and_else_its_newest_work(tenant):
    say(tenant, "ops_agent", "Ingestion latency doubled after the upgrade", ago=timedelta(seconds=30))
    say(tenant, "ops_agent", "The staging cluster moved to Frankfurt", ago=timedelta(seconds=20))
    say(tenant, "qa_agent", "The nightly build is green again", ago=timedelta(seconds=10))
    say(tenant, "qa_agent", "Nobody reported a latency problem", ago=timedelta(seconds=40))

    synthesis = recall(tenant, "synthesis_agent", SYNTHESIS_QUERY, limit=4)
    latency = recall(tenant, "synthesis_agent", "Any news on latency?", limit=2)

    assert [item.content for item in handed(synthesis)] == [
        "The nightly build is green again",  # the last to speak first, each its newest work
        "The staging cluster moved to Frankfurt",
    ]
    assert [item.content for item in handed(latency)] == [
        "Ingestion latency doubled after the upgrade"  # ops_agent has no result yet: its turn, what matches first
    ]
    assert [item.content for item in latency.items if not item.via] == ["Nobody reported a latency problem"]


def test_without_handoffs_the_technical_agents_work_would_be_missed(tenant, settings):
    settings.MEMORI_RECALL_HANDOFF_SECONDS = 0
    settings.MEMORI_RECALL_FRESH_WEIGHT = 0  # the fresh-findings prior would close the gap too (test_recall_fresh.py)
    settings.MEMORI_RECALL_EPISODES = False  # its exchange ("Report your findings.") would match the query
    run_parallel_agents(tenant)

    result = recall(tenant, "synthesis_agent", SYNTHESIS_QUERY)

    assert "Qdrant" not in result.block  # the gap the handoff window closes


def test_the_recall_event_records_why_each_handoff_was_included(tenant):
    run_parallel_agents(tenant)

    result = recall(tenant, "synthesis_agent", SYNTHESIS_QUERY)

    hits = list(RecallHit.objects.filter(event_id=result.event_id).order_by("rank"))
    assert [(hit.content, hit.via) for hit in hits] == [(item.content, item.via or "") for item in result.items]
    handoffs = [hit for hit in hits if hit.via.startswith("handoff from ")]
    assert "handoff from technical_research_agent" in {hit.via for hit in handoffs}
    assert all(hit.contributing_processes == [hit.via.removeprefix("handoff from ")] for hit in handoffs)
    assert all(hit.dense_score is not None and hit.lexical_score is not None for hit in handoffs)


def test_work_older_than_the_window_is_recalled_for_relevance_only(tenant, settings):
    settings.MEMORI_RECALL_EPISODES = False  # its exchange ("Report your findings.") would match the query
    run_parallel_agents(tenant, ago=timedelta(hours=1))

    result = recall(tenant, "synthesis_agent", SYNTHESIS_QUERY)

    assert "Qdrant" not in result.block
    assert handed(result) == []


def test_a_process_is_not_handed_its_own_recent_work(tenant):
    say(tenant, "technical_research_agent", PARALLEL_FINDINGS["technical_research"])
    say(tenant, "pricing_agent", "The enterprise tier costs 400 dollars a month")

    result = recall(tenant, "technical_research_agent", SYNTHESIS_QUERY)

    assert handed(result) and {item.via for item in handed(result)} == {"handoff from pricing_agent"}


def test_another_entitys_recent_work_is_never_handed_over(tenant, other_tenant):
    say(tenant, "technical_research_agent", PARALLEL_FINDINGS["technical_research"], entity_id="project_beta")
    say(other_tenant, "technical_research_agent", PARALLEL_FINDINGS["technical_research"])
    say(tenant, "market_research_agent", PARALLEL_FINDINGS["market_research"])

    result = recall(tenant, "synthesis_agent", SYNTHESIS_QUERY)

    assert "Qdrant" not in result.block
    assert PARALLEL_FINDINGS["market_research"] in result.block


def test_another_processs_attributes_are_never_handed_over(tenant):
    say(tenant, "billing_agent", "Three enterprise invoices were charged twice in April")
    recorded = record_exchange(
        tenant=tenant,
        data=ExchangeInput(
            entity_id=PROJECT,
            process_id="billing_agent",
            messages=[MessageInput(role="user", content="attribute: Handles refunds up to 500 euros")],
        ),
    )
    assert job_augment(recorded.job.pk).status == "done"
    assert Memory.objects.filter(kind="attribute").exists()

    result = recall(tenant, "synthesis_agent", SYNTHESIS_QUERY)

    assert "charged twice" in result.block
    assert not any(item.kind == "attribute" for item in result.items)
    assert "refunds up to 500 euros" not in result.block


def test_handoffs_take_turns_between_processes_and_are_bounded_by_the_limit_and_budget(tenant):
    notes = [f"Benchmark run {n} of the ingestion cluster took {n * 7} minutes" for n in range(1, 11)]
    say(tenant, "ops_agent", *notes)
    say(tenant, "billing_agent", "Invoices are sent as PDF attachments")

    result = recall(tenant, "synthesis_agent", SYNTHESIS_QUERY)
    small = recall(tenant, "synthesis_agent", SYNTHESIS_QUERY, limit=2)
    tight = recall(tenant, "synthesis_agent", SYNTHESIS_QUERY, token_budget=120)

    sources = [item.via for item in handed(result)]
    assert sources[:2] == ["handoff from billing_agent", "handoff from ops_agent"]  # a turn each first
    assert sources.count("handoff from ops_agent") == 10  # then the rest, as the budget allows
    assert len(small.items) <= 2 and handed(small)
    assert tight.token_count <= 120 and [item.via for item in handed(tight)][:2] == sources[:2]


def test_a_handoff_never_repeats_a_result_or_another_handoff(tenant):
    say(tenant, "research_agent", "The research findings recommend strategic planning around enterprise customers")
    say(tenant, "analyst_agent", "The research findings recommend strategic planning around enterprise customers!")

    result = recall(tenant, "synthesis_agent", SYNTHESIS_QUERY)

    memory_ids = [item.memory_id for item in result.items]
    assert memory_ids and len(memory_ids) == len(set(memory_ids))
    contents = [" ".join(item.content.lower().rstrip("!").split()) for item in result.items]
    assert len(contents) == len(set(contents))


def test_a_smaller_handoff_share_leaves_more_of_the_budget_to_relevant_memories(tenant):
    for number, finding in enumerate(MORE_FINDINGS[:8]):
        say(tenant, f"agent_{number}", finding, ago=timedelta(hours=1))  # relevant or not, not recent
    run_parallel_agents(tenant)

    question = "What did the testers and the GPU spending show?"
    wide = recall(tenant, "synthesis_agent", question, token_budget=250, handoff_share=0.5)
    narrow = recall(tenant, "synthesis_agent", question, token_budget=250, handoff_share=0)

    assert len(handed(wide)) > len(handed(narrow))
    assert "export button" in narrow.block and "GPU spending" in narrow.block


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

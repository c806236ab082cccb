"""Coverage across contributing processes: after a burst of parallel agents, a synthesis agent's
block holds a line of every one of them within the default 700 tokens, augmented or still raw.

The agents are the SDK tests' and the handoff bench's (tests/support/handoff_agents.py); each
exchange is recorded as the SDK records it (system prompt, the agent's task and finding, and the
offline stand-in model's reply, which adds findings of its own on the topics it knows), augmented
by the default `rules` extractor as the worker does, or left pending (no worker yet).
"""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.utils import timezone

from memori_site.offline_llm import compose_reply
from memory.embedding import count_tokens
from memory.recall.block import (
    CLOSE,
    HEADINGS,
    INTRO,
    OPEN,
    SECTION_HANDOFF,
    SECTION_MEMORIES,
    SECTION_PENDING,
    Line,
    render,
)
from memory.recall.compose import said_on
from memory.services.augmentation import jobs_backfill
from memory.services.recall import RecallRequest, recall_for_call
from tests.support.exchanges import record
from tests.support.handoff_agents import PARALLEL_AGENTS, SYNTHESIS_TASK

pytestmark = pytest.mark.django_db

ENTITY = "project_alpha"


@pytest.fixture(autouse=True)
def rules_extractor(settings):
    settings.MEMORI_EXTRACTOR = "rules"


def burst(tenant, agents, *, augmented: bool = True, ago=timedelta(0)) -> None:
    jobs = []
    for agent in agents:
        system, user = f"You are the {agent.process.replace('_', ' ')}.", f"{agent.task} {agent.finding}"
        assistant = compose_reply(user, system)
        recorded = record(
            tenant, entity=ENTITY, process=agent.process, system=system, user=user, assistant=assistant,
            occurred_at=timezone.now() - ago,
        )  # fmt: skip
        jobs.append(recorded.job.pk)
    if augmented:
        assert {outcome.status for outcome in jobs_backfill(jobs).values()} == {"done"}


def synthesis(tenant, **options):
    return recall_for_call(
        RecallRequest(tenant=tenant, entity_id=ENTITY, process_id="synthesis_agent", query=SYNTHESIS_TASK, **options)
    )


def unnamed(block: str, agents) -> list[str]:
    """The agents no line of the block names as its source ("[a, b]", "[a, 16:20 UTC]")."""
    return [a.process for a in agents if not re.search(rf"[\[ ]{re.escape(a.process)}[,\]]", block)]


def test_every_one_of_twenty_four_augmented_agents_has_a_line_within_the_default_budget(tenant):
    burst(tenant, PARALLEL_AGENTS)

    result = synthesis(tenant)

    assert unnamed(result.block, PARALLEL_AGENTS) == []
    assert result.token_count <= 700 and count_tokens(result.block) <= 700


def test_every_finding_of_twelve_augmented_agents_reaches_the_synthesis_agent(tenant):
    agents = PARALLEL_AGENTS[:12]
    burst(tenant, agents)

    block = synthesis(tenant).block

    assert [a.marker for a in agents if a.marker.lower() not in block.lower()] == []


def test_every_one_of_twenty_four_agents_not_yet_augmented_is_seen_raw(tenant):
    burst(tenant, PARALLEL_AGENTS, augmented=False)

    result = synthesis(tenant)

    assert len(result.pending) == 24
    assert unnamed(result.block, PARALLEL_AGENTS) == []
    assert result.token_count <= 700


def test_raw_lines_are_cut_at_a_sentence_to_a_fair_part_only_when_they_do_not_all_fit(tenant):
    burst(tenant, PARALLEL_AGENTS[:4], augmented=False)
    whole = synthesis(tenant).block
    burst(tenant, PARALLEL_AGENTS[4:], augmented=False)

    cut = synthesis(tenant).block

    assert "…" not in whole and "/ assistant:" in whole
    assert "/ assistant:" not in cut
    pending = cut.split(HEADINGS[SECTION_PENDING])[1]
    assert all(line.endswith((".", "…")) for line in pending.splitlines() if line.startswith("- "))


def test_one_agents_string_of_pending_exchanges_does_not_hide_the_others(tenant):
    chatty = PARALLEL_AGENTS[0]
    burst(tenant, PARALLEL_AGENTS[1:4], augmented=False, ago=timedelta(seconds=30))
    for _ in range(30):
        burst(tenant, [chatty], augmented=False)

    result = synthesis(tenant)

    assert unnamed(result.block, PARALLEL_AGENTS[:4]) == []
    assert [item.process_id for item in result.pending[:4]] == [
        chatty.process, *(a.process for a in reversed(PARALLEL_AGENTS[1:4]))
    ]  # fmt: skip


def test_recent_handoffs_are_dated_once_in_their_heading(tenant):
    burst(tenant, PARALLEL_AGENTS[:4])

    block = synthesis(tenant).block

    today = said_on(timezone.now().timestamp())
    handoffs = block.split(f"{HEADINGS[SECTION_HANDOFF]} on {today}\n")[1]
    lines = [line for line in handoffs.splitlines() if line.startswith("- ")]
    assert lines and not [line for line in lines if line.startswith("- [")]


def test_a_first_round_handoff_of_an_agent_a_fitted_result_names_gives_its_room_to_one_without_a_line():
    result = Line(
        SECTION_MEMORIES, "- [1 May 2026] The cache is warm after deploys. [ops_agent]", processes=("ops_agent",)
    )
    handoffs = [
        Line(SECTION_HANDOFF, f"- {text} [{process}]", processes=(process,))
        for process, text in (
            ("ops_agent", "The staging cluster of the ingestion service moved to Frankfurt last night."),
            ("qa_agent", "The nightly build is green again."),
            ("docs_agent", "The quickstart still shows the old header."),
        )
    ]
    overhead = sum(count_tokens(text) for text in (OPEN, INTRO, CLOSE))
    room = sum(count_tokens(text) for text in (HEADINGS[SECTION_MEMORIES], result.text, HEADINGS[SECTION_HANDOFF]))
    room += count_tokens(handoffs[0].text) + count_tokens(handoffs[1].text)  # the first two of the turns fit

    block = render([result], [], overhead + room, handoffs, handoff_share=0.01, handoff_round=3)

    assert block.results == (0,)  # the result names ops_agent: its handoff waits for room left over
    assert block.handoffs == (1, 2)
    assert block.token_count <= overhead + room

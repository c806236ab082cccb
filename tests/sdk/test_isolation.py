"""What is shared and what is not, through the SDK with a real worker: entities never see each other's memory,
a process's attributes stay with it, and wait() blocks until the recorded exchanges are augmented."""

from __future__ import annotations

import pytest
from openai import OpenAI

from memori import Memori
from tests.sdk.conftest import system_prompt_of

pytestmark = pytest.mark.worker


def agent(entity_id: str, process_id: str):
    client = OpenAI(max_retries=0)
    mem = Memori().llm.register(client)
    mem.attribution(entity_id=entity_id, process_id=process_id)
    return client, mem


def ask(client: OpenAI, question: str) -> None:
    client.chat.completions.create(model="gpt-4o-mini", messages=[{"role": "user", "content": question}])


def test_two_entities_never_see_each_others_memory(memori_worker, memori_env, offline_llm):
    client_a, mem_a = agent("customer_a", "support_agent")
    ask(client_a, "My card ends in 4242 and I live in Lisbon.")
    result = mem_a.augmentation.wait(timeout=120)
    assert result.ok and len(result.done) == 1

    client_b, mem_b = agent("customer_b", "support_agent")
    ask(client_b, "Where do I live and which card do I use?")
    client_a2, _ = agent("customer_a", "billing_agent")
    ask(client_a2, "Where do I live and which card do I use?")

    seen_by_b = system_prompt_of(offline_llm.received()[1]).lower()
    seen_by_a = system_prompt_of(offline_llm.received()[2]).lower()
    assert "lisbon" not in seen_by_b and "4242" not in seen_by_b
    assert not any("Lisbon" in item.content for item in mem_b.recall("Where do I live?"))
    assert "lisbon" in seen_by_a and "4242" in seen_by_a


def test_attributes_of_one_process_never_reach_another(memori_worker, memori_env, offline_llm):
    _, research = agent("project_alpha", "research_agent")
    research.remember("Handles data analysis for the market studies", kind="attribute")
    research.remember("The project stores memories in PostgreSQL")

    analysis_client, _ = agent("project_alpha", "analysis_agent")
    ask(analysis_client, "Who handles data analysis for the market studies, and which database do we use?")
    research_client, _ = agent("project_alpha", "research_agent")
    ask(research_client, "Who handles data analysis for the market studies, and which database do we use?")

    seen_by_analysis = system_prompt_of(offline_llm.received()[0])
    seen_by_research = system_prompt_of(offline_llm.received()[1])
    assert "PostgreSQL" in seen_by_analysis  # facts are shared by every process of the entity
    assert "Handles data analysis" not in seen_by_analysis
    assert "Handles data analysis" in seen_by_research


def test_wait_blocks_until_every_recorded_exchange_is_augmented(memori_worker, memori_env, offline_llm):
    client, mem = agent("repo_myapp", "coder_agent")
    ask(client, "Implement user authentication with JWT tokens.")
    ask(client, "Use bcrypt for passwords.")

    result = mem.augmentation.wait(timeout=120)

    assert result.ok
    assert len(result.done) == 2
    assert any("bcrypt" in item.content for item in mem.recall("How are passwords stored?"))


def test_after_wait_the_reviewer_still_recalls_everything_the_coder_decided(memori_worker, memori_env, offline_llm):
    """The documented best practice (wait() before a critical handoff) must not lose what the samples promise:
    "Reviewer recalls: JWT tokens, bcrypt" once the coder's exchange is fully augmented, not only while pending."""
    coder_client, coder = agent("repo_myapp", "coder_agent")
    ask(coder_client, "Implement user authentication with JWT tokens. Use bcrypt for passwords.")
    assert coder.augmentation.wait(timeout=120).ok

    reviewer_client, _ = agent("repo_myapp", "reviewer_agent")
    ask(reviewer_client, "Review the authentication implementation.")

    seen_by_reviewer = system_prompt_of(offline_llm.received()[1])
    assert "JWT" in seen_by_reviewer
    assert "bcrypt" in seen_by_reviewer

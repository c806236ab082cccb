"""The LLM extractor against a local OpenAI-compatible server (the real `openai` client)."""

from __future__ import annotations

import json

import pytest

from memory.extraction.llm import LLMExtractor
from memory.extraction.registry import ExtractionFailed, ExtractorUnavailable, get_extractor, reset_extractor
from memory.extraction.types import (
    ExchangeInput,
    ExchangeMessage,
    ExtractedMemory,
    ExtractedTriple,
    RelatedMemory,
    StateClaim,
)
from tests.support.llm_server import running_llm_server

EXCHANGE = ExchangeInput(
    entity_id="project_alpha",
    process_id="coder_agent",
    messages=(
        ExchangeMessage(position=0, role="system", content="You are a coding agent."),
        ExchangeMessage(
            position=1,
            role="user",
            content="<memori_context>- Secret recalled text</memori_context>\nImplement auth with JWT tokens.",
        ),
        ExchangeMessage(position=2, role="assistant", content="Done: the API now uses JWT; deadline moved to Monday."),
    ),
)
RELATED = [RelatedMemory(memory_id=41, kind="fact", content="The deadline is Friday")]

VALID = {
    "memories": [
        {
            "kind": "fact",
            "content": "The API uses JWT tokens",
            "source_position": 2,
            "relation": "new",
            "related_memory_id": None,
        },
        {
            "kind": "fact",
            "content": "The deadline is Monday",
            "source_position": 2,
            "relation": "contradiction",
            "related_memory_id": 41,
        },
        {
            "kind": "attribute",
            "content": "Writes clean code",
            "source_position": 0,
            "relation": "new",
            "related_memory_id": None,
        },
    ],
    "triples": [
        {
            "subject": "API",
            "subject_type": "technology",
            "predicate": "uses",
            "object": "JWT",
            "object_type": "technology",
            "source_position": 2,
        }
    ],
}


@pytest.fixture
def llm_server():
    with running_llm_server() as server:
        yield server


def _extractor(server, timeout: float = 5.0) -> LLMExtractor:
    return LLMExtractor(base_url=server.url, api_key="test-key", model="test-model", timeout=timeout)


def test_a_valid_reply_becomes_typed_records(llm_server):
    llm_server.reply(VALID)

    extraction = _extractor(llm_server)(EXCHANGE, RELATED)

    assert extraction.memories[1] == ExtractedMemory(
        kind="fact",
        content="The deadline is Monday",
        source_position=2,
        relation="contradiction",
        related_memory_id=41,
    )
    assert [m.kind for m in extraction.memories] == ["fact", "fact", "attribute"]
    assert extraction.triples == (
        ExtractedTriple(
            subject="API",
            subject_type="technology",
            predicate="uses",
            object="JWT",
            object_type="technology",
            source_position=2,
        ),
    )


def test_the_request_asks_for_the_schema_and_shows_related_memories_but_not_injected_context(llm_server):
    llm_server.reply(VALID)

    _extractor(llm_server)(EXCHANGE, RELATED)

    request = llm_server.requests[0]
    assert request["model"] == "test-model"
    assert request["response_format"]["type"] == "json_schema"
    assert request["response_format"]["json_schema"]["schema"]["required"] == ["memories", "triples"]
    prompt = request["messages"][-1]["content"]
    assert '"id": 41' in prompt and "The deadline is Friday" in prompt
    assert "Implement auth with JWT tokens." in prompt and "Secret recalled text" not in prompt
    item = request["response_format"]["json_schema"]["schema"]["properties"]["memories"]["items"]
    assert "claim" in item["required"] and {"type": "null"} in item["properties"]["claim"]["anyOf"]
    assert "claim" in request["messages"][0]["content"] and '"*"' in request["messages"][0]["content"]


CLAIMED = {
    "memories": [
        {
            "kind": "fact",
            "content": "Payments go through Stripe",
            "source_position": 2,
            "relation": "new",
            "related_memory_id": None,
            "claim": {"subject": "Payments", "attribute": "go through", "value": "Stripe", "value_type": "name"},
        },
        {
            "kind": "fact",
            "content": "We moved payments to Adyen",
            "source_position": 2,
            "relation": "new",
            "related_memory_id": None,
            "claim": {"subject": "payments", "attribute": "*", "value": " Adyen ", "value_type": "name"},
        },
        {
            "kind": "fact",
            "content": "Caroline went to Paris",
            "source_position": 2,
            "relation": "new",
            "related_memory_id": None,
            "claim": None,
        },
    ],
    "triples": [],
}


def test_a_memory_carries_the_state_claim_the_model_gave_normalized(llm_server):
    llm_server.reply(CLAIMED)

    stripe, adyen, event = _extractor(llm_server)(EXCHANGE, RELATED).memories

    assert stripe.claim == StateClaim(subject="payments", attribute="go_through", value="Stripe", value_type="name")
    assert adyen.claim == StateClaim(subject="payments", attribute="*", value="Adyen", value_type="name")
    assert event.claim is None


def test_a_reply_without_claims_is_accepted_as_making_none(llm_server):
    llm_server.reply(VALID)

    extraction = _extractor(llm_server)(EXCHANGE, RELATED)

    assert [memory.claim for memory in extraction.memories] == [None, None, None]


@pytest.mark.parametrize(
    ("bad_claim", "reason"),
    [
        ({"subject": "payments", "attribute": "go_through", "value": "Stripe", "value_type": "vibe"}, "claim"),
        ({"subject": "payments", "attribute": "go_through", "value": "Stripe"}, "claim"),
        ({"subject": "  ", "attribute": "go_through", "value": "Stripe", "value_type": "name"}, "subject is blank"),
        ({"subject": "payments", "attribute": "!!", "value": "Stripe", "value_type": "name"}, "not a relation"),
        ("Stripe", "claim"),
    ],
)
def test_a_malformed_claim_is_rejected_with_the_reason(llm_server, bad_claim, reason):
    llm_server.set_default({"memories": [{**VALID["memories"][0], "claim": bad_claim}], "triples": []})

    with pytest.raises(ExtractionFailed, match=reason):
        _extractor(llm_server)(EXCHANGE, RELATED)


def test_malformed_output_is_retried_with_the_reason(llm_server):
    llm_server.reply("Sure! Here are the memories you asked for.")
    llm_server.reply("```json\n" + json.dumps(VALID) + "\n```")

    extraction = _extractor(llm_server)(EXCHANGE, RELATED)

    assert len(extraction.memories) == 3
    retry = llm_server.requests[1]["messages"]
    assert retry[-2]["content"].startswith("Sure!") and "not JSON" in retry[-1]["content"]


def test_output_that_stays_malformed_fails_with_the_reason(llm_server):
    llm_server.set_default("I cannot produce JSON today")

    with pytest.raises(ExtractionFailed, match="after 3 tries: not JSON"):
        _extractor(llm_server)(EXCHANGE, RELATED)
    assert len(llm_server.requests) == 3


@pytest.mark.parametrize(
    ("bad_memory", "reason"),
    [
        ({"kind": "opinion"}, "schema violation at memories/0/kind"),
        ({"source_position": 7}, "source_position 7 is not a message"),
        ({"relation": "update", "related_memory_id": 999}, "related_memory_id 999 is not an existing memory"),
    ],
)
def test_replies_that_break_the_contract_are_rejected(llm_server, bad_memory, reason):
    broken = {"memories": [{**VALID["memories"][0], **bad_memory}], "triples": []}
    llm_server.set_default(broken)

    with pytest.raises(ExtractionFailed, match=reason):
        _extractor(llm_server)(EXCHANGE, RELATED)


def test_server_errors_and_timeouts_are_transient(llm_server):
    llm_server.reply(status=500)
    with pytest.raises(ExtractorUnavailable, match="500"):
        _extractor(llm_server)(EXCHANGE, RELATED)

    llm_server.reply(VALID, delay=2.0)
    with pytest.raises(ExtractorUnavailable, match="unreachable"):
        _extractor(llm_server, timeout=0.5)(EXCHANGE, RELATED)


def test_a_refused_request_is_permanent(llm_server):
    llm_server.reply(status=401)

    with pytest.raises(ExtractionFailed, match="refused the request \\(401\\)"):
        _extractor(llm_server)(EXCHANGE, RELATED)


def test_the_registry_builds_it_from_settings(settings, llm_server):
    settings.MEMORI_EXTRACTOR = "llm"
    settings.MEMORI_LLM_BASE_URL = llm_server.url
    settings.MEMORI_LLM_MODEL = "local-model"
    reset_extractor()
    llm_server.reply(VALID)

    extractor = get_extractor()
    extractor(EXCHANGE, RELATED)

    assert extractor.name == "llm" and llm_server.requests[0]["model"] == "local-model"
    reset_extractor()

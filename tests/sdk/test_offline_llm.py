"""The offline OpenAI-compatible server the demo and the SDK tests talk to, driven by the real openai client."""

from __future__ import annotations

import openai
import pytest
from openai import OpenAI

from memori_site.offline_llm import compose_reply


def client_for(server) -> OpenAI:
    return OpenAI(base_url=server.base_url, api_key="x", max_retries=0)


def block(*lines: str) -> str:
    """A system prompt with a recalled memory block, as the SDK injects it."""
    recalled = "\n".join(f"- [3 March 2026] {line} [triage_agent]" for line in lines)
    return f"You are an agent.\n<memori_context>\n## Facts, preferences and skills\n{recalled}\n</memori_context>"


def test_it_answers_a_known_topic_with_findings(offline_llm):
    response = client_for(offline_llm).chat.completions.create(
        model="gpt-4o-mini",
        messages=[
            {"role": "user", "content": "Implement user authentication with JWT tokens. Use bcrypt for passwords."}
        ],
    )

    assert response.choices[0].message.content == (
        "The login endpoint issues JWT tokens that expire after 15 minutes. "
        "Passwords are hashed with bcrypt at a cost factor of 12 before they are stored."
    )
    assert response.usage.completion_tokens > 0


def test_different_phrasings_of_a_topic_get_the_same_findings():
    asked = compose_reply("Evaluate vector database options", "")

    assert asked.startswith("Pinecone, Weaviate, Qdrant and pgvector are the vector databases")
    assert compose_reply("Research: semantic search approaches for AI memory", "") == asked
    assert compose_reply("Which vector DB should we pick?", "") == asked


def test_a_later_agent_adds_to_what_its_memory_block_holds():
    triage = compose_reply("I can't access my account and I was just charged twice on my card.", "")
    billing = compose_reply("Help me with the double charge issue.", block(triage))

    assert "charged twice for the $49 Pro plan" in triage
    assert "locked after 5 failed login attempts" in triage
    assert "charged twice" not in billing
    assert billing.startswith("The billing team will refund the duplicate $49 charge from March 3 within 5 business")


def test_a_topic_the_block_already_holds_in_full_gets_a_promise():
    first = compose_reply("Review the authentication implementation.", "")
    second = compose_reply("Review the authentication implementation.", block(first))

    third = compose_reply("Review the authentication implementation.", block(first, second))

    assert "JWT signing key" in second and second not in first
    assert third.startswith("Let me look further into the code review of the authentication and report back.")


def test_a_synthesis_recommends_on_the_topics_of_its_block_only():
    reply = compose_reply(
        "Synthesize all research findings into strategic recommendations.",
        block(
            "The AI memory infrastructure market was worth about 2.4 billion dollars in 2025.",
            "Qdrant and pgvector answer a top-10 semantic search over one million embeddings in under 10 milliseconds.",
        ),
    )

    assert "2.4 billion dollars" in reply
    assert "pgvector" in reply
    assert "Mem0" not in reply  # no competitor finding in the block


def test_an_unknown_request_gets_a_promise_and_a_question_on_the_blocks_terms_only():
    reply = compose_reply(
        "Summarize my meeting notes.",
        "You are an assistant. Mentions Kubernetes.\n<memori_context>\n- The API uses JWT tokens\n</memori_context>",
    )

    assert reply == (
        "Let me summarize your meeting notes and report back. "
        "Shall I build on what the team already knows about API and JWT?"
    )


def test_statements_greetings_and_questions_get_replies_that_state_nothing():
    assert compose_reply("My card ends in 4242 and I live in Lisbon.", "") == "Thank you, I have noted that."
    assert compose_reply("Hello", "") == "Hello! How can I help you?"
    assert compose_reply("What is the weather in Porto?", "") == "Let me look into that and report back."


def test_it_is_deterministic():
    system = block("The customer's card ending in 4242 was charged twice for the $49 Pro plan on March 3.")
    assert compose_reply("I was charged twice.", system) == compose_reply("I was charged twice.", system)


def test_it_streams_chunk_by_chunk(offline_llm):
    stream = client_for(offline_llm).chat.completions.create(
        model="gpt-4o-mini",
        messages=[{"role": "user", "content": "Research pricing strategies"}],
        stream=True,
        stream_options={"include_usage": True},
    )
    chunks = list(stream)

    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert len(chunks) > 3
    assert text == compose_reply("Research pricing strategies", "")
    assert text.startswith("Most AI memory products combine a free tier with pricing by usage")
    assert chunks[-1].usage.completion_tokens > 0


def test_it_answers_the_responses_api_plain_and_streamed(offline_llm):
    client = client_for(offline_llm)

    plain = client.responses.create(model="gpt-4o-mini", input="Evaluate vector database options")
    events = list(client.responses.create(model="gpt-4o-mini", input="Evaluate vector database options", stream=True))

    assert plain.output_text == compose_reply("Evaluate vector database options", "")
    assert "Qdrant" in plain.output_text
    assert events[-1].type == "response.completed"
    assert events[-1].response.output_text == plain.output_text


def test_it_calls_the_offered_tool_then_uses_its_answer(offline_llm):
    client = client_for(offline_llm)
    tools = [{"type": "function", "function": {"name": "lookup", "parameters": {"type": "object", "properties": {}}}}]
    messages = [{"role": "user", "content": "Find the invoice"}]

    first = client.chat.completions.create(model="m", messages=messages, tools=tools)
    call = first.choices[0].message.tool_calls[0]
    messages += [
        {"role": "assistant", "content": None, "tool_calls": [call.model_dump()]},
        {"role": "tool", "tool_call_id": call.id, "content": "invoice 42 paid twice"},
    ]
    second = client.chat.completions.create(model="m", messages=messages, tools=tools)

    assert call.function.name == "lookup"
    assert "invoice 42 paid twice" in second.choices[0].message.content


def test_it_records_every_request(offline_llm):
    client = client_for(offline_llm)
    client.chat.completions.create(model="m", messages=[{"role": "user", "content": "one"}])
    client.chat.completions.create(model="m", messages=[{"role": "user", "content": "two"}])

    assert [body["messages"][-1]["content"] for body in offline_llm.received()] == ["one", "two"]


def test_injected_failures_reach_the_client_as_openai_errors(offline_llm):
    offline_llm.fail_next(status=500)

    with pytest.raises(openai.InternalServerError):
        client_for(offline_llm).chat.completions.create(model="m", messages=[{"role": "user", "content": "x"}])

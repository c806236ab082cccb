"""The offline OpenAI-compatible server the demo and the SDK tests talk to, driven by the real openai client."""

from __future__ import annotations

from datetime import UTC, datetime

import openai
import pytest
from openai import OpenAI

from memori_site.offline_llm import compose_reply
from memory.extraction.rules import extract
from memory.extraction.types import ExchangeInput, ExchangeMessage


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


def test_an_unknown_request_gets_a_promise_without_echoing_an_unrelated_block():
    reply = compose_reply(
        "Summarize my meeting notes.",
        "You are an assistant. Mentions Kubernetes.\n<memori_context>\n- The API uses JWT tokens\n</memori_context>",
    )

    assert reply == "Let me summarize your meeting notes and report back."


def test_requests_are_promised_in_the_assistants_words():
    assert compose_reply("Please draft a reply to the customer about the delay.", "") == (
        "Let me draft a reply to the customer about the delay and report back."
    )
    assert compose_reply("Could you send me the latest shipping label?", "") == (
        "Let me send you the latest shipping label and report back."
    )


def test_statements_greetings_and_questions_get_replies_that_state_nothing():
    assert compose_reply("My card ends in 4242 and I live in Lisbon.", "") == "Thank you, I have noted that."
    assert compose_reply("Hello", "") == "Hello! How can I help you?"
    assert compose_reply("What is the weather in Porto?", "") == "Let me look into that and report back."


def test_a_greeting_answers_by_name_never_echoing_the_users_words():
    assert compose_reply("Hi, I'm Dana.", "") == "Hello Dana! How can I help you?"
    assert compose_reply("Hi, I'm Dana. I prefer email. My account number is 4471.", "") == (
        "Hello Dana! Thank you, I have noted that. How can I help you?"
    )
    assert compose_reply("Good morning, this is Raj. Could you check my last invoice?", "") == (
        "Hello Raj! Let me check your last invoice and report back."
    )
    assert compose_reply("Hello, I'm Ana. Which vector DB should we pick?", "").startswith(
        "Hello Ana! Pinecone, Weaviate, Qdrant and pgvector are the vector databases"
    )


DISAGREEING_BLOCK = """You are a triage agent.
<memori_context>
Shared memory of this entity, recalled for this request ([date said] memory [sources]).
## Facts, preferences and skills
- [5 March 2026] The invoice is due on March 5. [billing_agent]
- [5 March 2026] The customer is located in Lisbon. [billing_agent]
- [5 March 2026] The customer is located in Porto. [technical_agent]
- [4 March 2026] (superseded 5 March 2026) The customer is located in Faro. [triage_agent]
- [3 March 2026] The customer's card ending in 4242 was charged twice on March 3. [triage_agent]
## Your attributes (only you see these)
- [5 March 2026] This agent is located in the Lisbon office. [triage_agent]
## From past conversations
- [5 March 2026] user: The customer is located in Lisbon. [billing_agent]
## Just added by other agents (recent handoffs)
- [5 March 2026] The invoice is due on March 12. [technical_agent, support_agent]
</memori_context>"""


def test_a_question_the_block_answers_gets_the_teams_notes_quoted_with_who_noted_them():
    reply = compose_reply("Which city is the customer located in, and when is the invoice due?", DISAGREEING_BLOCK)

    assert reply == (
        "Here is what the team has noted on that. "
        'From billing_agent: "The customer is located in Lisbon." '
        'From technical_agent: "The customer is located in Porto." '
        'From billing_agent: "The invoice is due on March 5." '
        'From technical_agent, support_agent: "The invoice is due on March 12." '
        "Shall I check which of these is current?"
    )
    assert "Faro" not in reply  # superseded
    assert "office" not in reply  # the caller's private attribute
    assert "charged twice" not in reply  # shares no key word with the question


def test_a_question_one_agent_answered_gets_that_note_only():
    reply = compose_reply("Where is the customer's card charged?", DISAGREEING_BLOCK)

    assert reply == (
        "Here is what the team has noted on that. "
        'From triage_agent: "The customer\'s card ending in 4242 was charged twice on March 3." '
        "Shall I look into anything else?"
    )


def test_its_replies_outside_its_findings_add_no_memory_of_their_own():
    """What augmentation keeps of an exchange with the stand-in is what the user said (and its findings):
    its greetings, promises and quotes of the team's notes are not stored again under the caller's name."""
    requests = [
        ("Which city is the customer located in, and when is the invoice due?", DISAGREEING_BLOCK),
        ("Hi, I'm Dana. Could you check my last invoice?", ""),
        ("Please draft a reply to the customer about the delay.", ""),
        ("Summarize my meeting notes.", ""),
    ]
    for request, system in requests:
        reply = compose_reply(request, system)
        extraction = extract(
            ExchangeInput(
                entity_id="customer_456",
                process_id="triage_agent",
                messages=(ExchangeMessage(0, "assistant", reply),),
                occurred_at=datetime(2026, 3, 5, tzinfo=UTC),
            )
        )
        assert not extraction.memories and not extraction.triples, reply


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

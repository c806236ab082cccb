"""The offline OpenAI-compatible server the demo and the SDK tests talk to, driven by the real openai client."""

from __future__ import annotations

import openai
import pytest
from openai import OpenAI

from memori_site.offline_llm import compose_reply


def client_for(server) -> OpenAI:
    return OpenAI(base_url=server.base_url, api_key="x", max_retries=0)


def test_it_restates_the_request_as_findings(offline_llm):
    response = client_for(offline_llm).chat.completions.create(
        model="gpt-4o-mini",
        messages=[
            {"role": "user", "content": "Implement user authentication with JWT tokens. Use bcrypt for passwords."}
        ],
    )

    text = response.choices[0].message.content
    assert text.startswith("Here is what I found. ")
    assert "implement user authentication with JWT tokens" in text
    assert "use bcrypt for passwords" in text
    assert response.usage.completion_tokens > 0


def test_it_echoes_terms_of_the_memory_block_only():
    reply = compose_reply(
        "Review the code.",
        "You are a reviewer. Mentions Kubernetes.\n<memori_context>\n- The API uses JWT tokens\n</memori_context>",
    )

    assert "JWT" in reply
    assert "Kubernetes" not in reply


def test_it_is_deterministic():
    assert compose_reply("I was charged twice.", "") == compose_reply("I was charged twice.", "")


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
    assert text == "Here is what I found. The task is to research pricing strategies."
    assert chunks[-1].usage.completion_tokens > 0


def test_it_answers_the_responses_api_plain_and_streamed(offline_llm):
    client = client_for(offline_llm)

    plain = client.responses.create(model="gpt-4o-mini", input="Evaluate vector database options")
    events = list(client.responses.create(model="gpt-4o-mini", input="Evaluate vector database options", stream=True))

    assert plain.output_text == "Here is what I found. The task is to evaluate vector database options."
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

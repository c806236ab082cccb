"""The SDK's wrapper around a real openai client: recall -> inject -> call -> record, against the offline
LLM and a live Memori server (no Celery worker: augmentation jobs stay queued here)."""

from __future__ import annotations

import asyncio
import logging

import openai
import pytest
from openai import AsyncOpenAI, OpenAI

from memori import InvalidAttribution, Memori, MemoriConfigError, MemoriError
from memory.models import Exchange, Message
from tests.sdk.conftest import system_prompt_of

TOOLS = [
    {
        "type": "function",
        "function": {
            "name": "lookup_invoice",
            "description": "Find an invoice",
            "parameters": {"type": "object", "properties": {"input": {"type": "string"}}},
        },
    }
]


def agent(entity_id="project_alpha", process_id="research_agent", *, client_class=OpenAI):
    client = client_class(max_retries=0)
    mem = Memori().llm.register(client)
    mem.attribution(entity_id=entity_id, process_id=process_id)
    return client, mem


def recorded(session_id: str) -> list[tuple[str, str]]:
    return [
        (m.role, m.content)
        for m in Message.objects.filter(conversation__session__uuid=session_id).order_by("exchange_id", "position")
    ]


def test_without_an_api_key_it_fails_at_once_saying_what_to_set(monkeypatch):
    monkeypatch.delenv("MEMORI_API_KEY", raising=False)

    with pytest.raises(MemoriConfigError, match="MEMORI_API_KEY"):
        Memori()


def test_attribution_ids_are_validated(monkeypatch, spool_dir):
    mem = Memori(api_key="k", api_url="http://127.0.0.1:9")

    for bad in ("", "   ", "x" * 201, "tab\there", None, 42):
        with pytest.raises(InvalidAttribution):
            mem.attribution(entity_id=bad, process_id="agent")
    with pytest.raises(InvalidAttribution):
        mem.set_session("not-a-uuid")


def test_without_attribution_calls_pass_through_untouched_and_a_warning_says_memory_is_off(
    memori_env, offline_llm, caplog
):
    client = OpenAI(max_retries=0)
    Memori().llm.register(client)
    messages = [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "Hello"}]

    with caplog.at_level(logging.WARNING, logger="memori"):
        client.chat.completions.create(model="gpt-4o-mini", messages=messages)

    assert offline_llm.received()[0]["messages"] == messages
    assert "memory is off" in caplog.text
    assert not Exchange.objects.exists()


def test_register_returns_the_memori_object_and_twice_is_harmless(memori_env, offline_llm):
    client = OpenAI(max_retries=0)
    mem = Memori()

    assert mem.llm.register(client) is mem
    mem.llm.register(client)
    mem.attribution(entity_id="project_alpha", process_id="research_agent")
    mem.remember("The platform stores memories in PostgreSQL")
    client.chat.completions.create(
        model="gpt-4o-mini", messages=[{"role": "user", "content": "Which database does the platform use?"}]
    )
    mem.flush()

    assert len(offline_llm.received()) == 1
    assert system_prompt_of(offline_llm.received()[0]).count("<memori_context>") == 1
    assert Exchange.objects.count() == 1


def test_recalled_memory_is_merged_into_the_callers_system_prompt(memori_env, offline_llm):
    client, mem = agent()
    mem.remember("The platform stores memories in PostgreSQL")

    client.chat.completions.create(
        model="gpt-4o-mini",
        messages=[
            {"role": "system", "content": "You are a research agent."},
            {"role": "user", "content": "Which database does the platform use?"},
        ],
    )

    sent = offline_llm.received()[0]["messages"]
    assert [m["role"] for m in sent] == ["system", "user"]
    assert sent[0]["content"].startswith("You are a research agent.")
    assert "<memori_context>" in sent[0]["content"] and "</memori_context>" in sent[0]["content"]
    assert "PostgreSQL" in sent[0]["content"]
    assert sent[1] == {"role": "user", "content": "Which database does the platform use?"}


def test_recall_returns_what_would_be_injected(memori_env):
    _, mem = agent()
    mem.remember("The platform stores memories in PostgreSQL")

    items = mem.recall("Which database do we use?", limit=5)

    assert any("PostgreSQL" in item.content for item in items)


def test_every_new_turn_is_recorded_once(memori_env, offline_llm):
    client, mem = agent()
    messages = [{"role": "system", "content": "You are terse."}, {"role": "user", "content": "First question"}]

    for follow_up in ("Second question", "Third question"):
        reply = client.chat.completions.create(model="gpt-4o-mini", messages=messages)
        messages += [{"role": "assistant", "content": reply.choices[0].message.content}]
        messages += [{"role": "user", "content": follow_up}]
    last = client.chat.completions.create(model="gpt-4o-mini", messages=messages)
    assert mem.flush()

    roles_and_texts = recorded(mem.session_id)
    assert [role for role, _ in roles_and_texts] == ["system", "user", "assistant"] + ["user", "assistant"] * 2
    assert roles_and_texts[-1] == ("assistant", last.choices[0].message.content)
    assert Exchange.objects.filter(session__uuid=mem.session_id).count() == 3


def test_prior_turns_the_caller_did_not_resend_are_injected(memori_env, offline_llm):
    client, mem = agent()
    ada = [{"role": "user", "content": "My name is Ada"}]
    first = client.chat.completions.create(model="gpt-4o-mini", messages=ada)

    client.chat.completions.create(model="gpt-4o-mini", messages=[{"role": "user", "content": "What is my name?"}])

    second = offline_llm.received()[1]["messages"]
    turns = [(m["role"], m["content"]) for m in second if m["role"] != "system"]
    assert turns == [
        ("user", "My name is Ada"),
        ("assistant", first.choices[0].message.content),
        ("user", "What is my name?"),
    ]


def test_sessions_keep_conversations_apart(memori_env, offline_llm):
    client, mem = agent()
    client.chat.completions.create(model="gpt-4o-mini", messages=[{"role": "user", "content": "My name is Ada"}])
    first_session = mem.session_id

    mem.new_session()
    client.chat.completions.create(model="gpt-4o-mini", messages=[{"role": "user", "content": "What is my name?"}])
    mem.set_session(first_session)
    client.chat.completions.create(model="gpt-4o-mini", messages=[{"role": "user", "content": "And again?"}])

    in_new_session = [m["content"] for m in offline_llm.received()[1]["messages"] if m["role"] != "system"]
    back_in_first = [m["content"] for m in offline_llm.received()[2]["messages"] if m["role"] != "system"]
    assert in_new_session == ["What is my name?"]
    assert back_in_first[0] == "My name is Ada"


def test_tool_calls_pass_through_untouched_and_are_recorded(memori_env, offline_llm):
    client, mem = agent("customer_456", "billing_agent")
    messages = [{"role": "user", "content": "Find the invoice for my double charge"}]

    first = client.chat.completions.create(model="gpt-4o-mini", messages=messages, tools=TOOLS, tool_choice="auto")
    call = first.choices[0].message.tool_calls[0]
    messages += [
        first.choices[0].message,  # the openai object itself, content None
        {"role": "tool", "tool_call_id": call.id, "content": "Invoice 42 was charged twice"},
    ]
    final = client.chat.completions.create(model="gpt-4o-mini", messages=messages, tools=TOOLS, tool_choice="auto")
    assert mem.flush()

    second_request = offline_llm.received()[1]
    assert second_request["tools"] == TOOLS and second_request["tool_choice"] == "auto"
    assert [m["role"] for m in second_request["messages"]][-3:] == ["user", "assistant", "tool"]
    assert second_request["messages"][-2]["tool_calls"][0]["id"] == call.id
    rows = list(Message.objects.filter(conversation__session__uuid=mem.session_id).order_by("exchange_id", "position"))
    assert [m.role for m in rows] == ["user", "assistant", "tool", "assistant"]
    assert rows[1].tool_calls[0]["function"]["name"] == "lookup_invoice"
    assert rows[2].tool_call_id == call.id
    assert rows[3].content == final.choices[0].message.content


def test_a_stream_is_passed_through_and_recorded_as_the_caller_received_it(memori_env, offline_llm):
    client, mem = agent()

    stream = client.chat.completions.create(
        model="gpt-4o-mini",
        messages=[{"role": "user", "content": "Research vector databases"}],
        stream=True,
        stream_options={"include_usage": True},
    )
    received = "".join(chunk.choices[0].delta.content or "" for chunk in stream if chunk.choices)
    assert mem.flush()

    assert isinstance(stream, openai.Stream)
    assert recorded(mem.session_id) == [("user", "Research vector databases"), ("assistant", received)]
    exchange = Exchange.objects.get(session__uuid=mem.session_id)
    assert exchange.completion_tokens > 0


def test_the_async_client_plain_and_streamed_records_what_the_caller_received(memori_env, offline_llm):
    async def run() -> tuple[str, str, Memori]:
        client, mem = agent(client_class=AsyncOpenAI)
        plain = await client.chat.completions.create(
            model="gpt-4o-mini", messages=[{"role": "user", "content": "Evaluate vector database options"}]
        )
        stream = await client.chat.completions.create(
            model="gpt-4o-mini", messages=[{"role": "user", "content": "Research pricing strategies"}], stream=True
        )
        streamed = "".join([chunk.choices[0].delta.content or "" async for chunk in stream if chunk.choices])
        return plain.choices[0].message.content, streamed, mem

    plain, streamed, mem = asyncio.run(run())
    assert mem.flush()

    assert recorded(mem.session_id) == [
        ("user", "Evaluate vector database options"),
        ("assistant", plain),
        ("user", "Research pricing strategies"),
        ("assistant", streamed),
    ]


def test_the_responses_api_gets_memory_in_its_instructions_and_is_recorded(memori_env, offline_llm):
    client, mem = agent()
    mem.remember("The platform stores memories in PostgreSQL")

    response = client.responses.create(
        model="gpt-4o-mini", instructions="You are a research agent.", input="Which database do we use?"
    )
    assert mem.flush()

    sent = offline_llm.received("/v1/responses")[0]
    assert sent["instructions"].startswith("You are a research agent.")
    assert "PostgreSQL" in sent["instructions"]
    assert sent["input"] == "Which database do we use?"
    assert recorded(mem.session_id)[-2:] == [("user", "Which database do we use?"), ("assistant", response.output_text)]


@pytest.mark.parametrize(("status", "error"), [(400, openai.BadRequestError), (500, openai.InternalServerError)])
def test_the_models_own_errors_reach_the_caller_unchanged(memori_env, offline_llm, status, error):
    client, mem = agent()
    offline_llm.fail_next(status=status)

    with pytest.raises(error) as raised:
        client.chat.completions.create(model="gpt-4o-mini", messages=[{"role": "user", "content": "Hello"}])

    assert raised.value.status_code == status
    assert mem.flush()
    assert not Exchange.objects.exists()


def test_record_captures_what_never_went_through_a_call_and_it_is_not_recorded_again(memori_env, offline_llm):
    client, mem = agent("customer_456", "triage_agent")
    phone_call = [
        {"role": "user", "content": "I was charged twice on my card."},
        {"role": "assistant", "content": "I will escalate the double charge to billing."},
    ]

    mem.record(phone_call)
    client.chat.completions.create(
        model="gpt-4o-mini", messages=[*phone_call, {"role": "user", "content": "Any news on the refund?"}]
    )
    assert mem.flush()

    texts = [content for _, content in recorded(mem.session_id)]
    assert texts[:3] == [
        "I was charged twice on my card.",
        "I will escalate the double charge to billing.",
        "Any news on the refund?",
    ]
    assert len(texts) == 4


def test_remember_validates_its_kind(memori_env):
    _, mem = agent()

    with pytest.raises(MemoriError, match="kind must be one of"):
        mem.remember("Likes dark mode", kind="mood")


def test_a_streamed_responses_call_is_recorded_as_received(memori_env, offline_llm):
    client, mem = agent()

    events = list(client.responses.create(model="gpt-4o-mini", input="Research pricing strategies", stream=True))
    assert mem.flush()

    text = "".join(e.delta for e in events if e.type == "response.output_text.delta")
    assert recorded(mem.session_id) == [("user", "Research pricing strategies"), ("assistant", text)]

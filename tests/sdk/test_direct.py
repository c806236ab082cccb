"""Direct database mode: inside the Django project, with no API key, the SDK writes through the ORM."""

from __future__ import annotations

import os

import pytest
from openai import OpenAI

from memori import Memori, MemoriApiError, MemoriConfigError
from memori.direct import DirectTransport
from memori.transport import RestTransport
from memory.models import Exchange
from tests.sdk.conftest import system_prompt_of
from tests.support.database_faults import messages_refused


@pytest.fixture
def direct_env(transactional_db, tenant, offline_llm, spool_dir, monkeypatch):
    monkeypatch.delenv("MEMORI_API_KEY", raising=False)
    monkeypatch.setenv("MEMORI_TENANT", tenant.name)
    monkeypatch.setenv("OPENAI_BASE_URL", offline_llm.base_url)
    monkeypatch.setenv("OPENAI_API_KEY", "x")


def test_inside_django_without_a_key_or_tenant_it_says_what_to_set(monkeypatch):
    monkeypatch.delenv("MEMORI_API_KEY", raising=False)
    monkeypatch.delenv("MEMORI_TENANT", raising=False)

    with pytest.raises(MemoriConfigError, match="MEMORI_TENANT"):
        Memori()


def test_an_unknown_tenant_is_refused(direct_env, monkeypatch):
    monkeypatch.setenv("MEMORI_TENANT", "no-such-tenant")

    with pytest.raises(MemoriConfigError, match="no-such-tenant"):
        Memori()


def test_direct_mode_recalls_and_records_through_the_database(direct_env, offline_llm):
    client = OpenAI(max_retries=0)
    mem = Memori().llm.register(client)
    mem.attribution(entity_id="project_alpha", process_id="research_agent")
    mem.remember("The platform stores memories in PostgreSQL")

    response = client.chat.completions.create(
        model="gpt-4o-mini", messages=[{"role": "user", "content": "Which database does the platform use?"}]
    )
    assert mem.flush()

    assert "PostgreSQL" in system_prompt_of(offline_llm.received()[0])
    exchange = Exchange.objects.get()
    assert exchange.messages.order_by("position").last().content == response.choices[0].message.content


def errors_of(transport, payload: dict) -> tuple:
    with pytest.raises(MemoriApiError) as refused:
        transport.post("/api/v1/exchanges/", payload, timeout=10)
    error = refused.value
    return error.status, error.code, str(error), error.fields


def exchange(**fields) -> dict:
    return {"entity_id": "customer_456", "process_id": "triage_agent", "messages": fields.pop("messages"), **fields}


@pytest.mark.parametrize(
    "payload",
    [
        pytest.param(exchange(messages=[]), id="400 no messages"),
        pytest.param(exchange(messages=[{"role": "wizard", "content": "x"}]), id="400 bad role"),
        pytest.param(exchange(messages=[{"role": "user", "content": "x"}], recall_event_id=999), id="409 no event"),
        pytest.param(exchange(messages=[{"role": "user", "content": "poison"}]), id="409 database refuses"),
    ],
)
def test_direct_mode_refuses_what_the_api_refuses_with_the_same_error(memori_env, tenant, payload):
    rest = RestTransport(memori_env["MEMORI_API_URL"], memori_env["MEMORI_API_KEY"])
    direct = DirectTransport(tenant.name, settings_module=os.environ["DJANGO_SETTINGS_MODULE"])

    with messages_refused("poison"):
        over_http, in_process = errors_of(rest, payload), errors_of(direct, payload)

    assert in_process == over_http
    assert in_process[0] in (400, 409)
    assert not Exchange.objects.exists()


def test_direct_mode_remembers_and_answers_as_the_api_does(memori_env, tenant):
    rest = RestTransport(memori_env["MEMORI_API_URL"], memori_env["MEMORI_API_KEY"])
    direct = DirectTransport(tenant.name, settings_module=os.environ["DJANGO_SETTINGS_MODULE"])
    body = {"entity_id": "customer_456", "process_id": "billing_agent", "kind": "fact", "content": "Paid by card."}

    first = direct.post("/api/v1/memories/", body, timeout=10)
    again = rest.post("/api/v1/memories/", body, timeout=10)

    assert first["id"] == again["id"]
    assert {key: first[key] for key in ("kind", "content")} == {"kind": "fact", "content": "Paid by card."}
    assert set(first) == set(again)

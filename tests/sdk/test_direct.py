"""Direct database mode: inside the Django project, with no API key, the SDK writes through the ORM."""

from __future__ import annotations

import pytest
from openai import OpenAI

from memori import Memori, MemoriConfigError
from memory.models import Exchange
from tests.sdk.conftest import system_prompt_of


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

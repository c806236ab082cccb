"""Dashboard test data, written the way the product writes it: exchanges recorded through the
recording service, augmented by the real augmentation service (rules extractor), recalls through
`recall_for_call` (which stores the recall event), and the calls that used a recall recorded with
its event id, as the SDK does.

`support_handoff` plays the seed's Use Case 2: triage talks to the customer, billing recalls
triage's context after augmentation (no gap), then triage says more and the technical agent is
handed the customer *before* that exchange is augmented (a handoff gap with pending context).
"""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from django.core.cache import cache
from django.utils import timezone

from memory.models import Contradiction, Entity, Exchange, Memory, Process, RecallEvent, Tenant
from memory.services.augmentation import job_augment
from memory.services.contradictions import record_memory_contradiction
from memory.services.embedding_store import bump_memory_version
from memory.services.recall import RecallRequest, recall_for_call
from memory.services.recording import ExchangeInput, MessageInput, record_exchange
from memory.services.storing import Mention, memory_mention, triple_mention

ENTITY = "customer_456"
XSS = "<script>alert('pwned')</script> is the customer's nickname"


def call(tenant: Tenant, *, process: str, user: str, assistant: str, session_id=None, augment=True) -> Exchange:
    """One agent call as the SDK makes it: recall, then record the exchange with the recall's event id."""
    recalled = recall_for_call(
        RecallRequest(tenant=tenant, entity_id=ENTITY, process_id=process, query=user, session_id=session_id)
    )
    recorded = record_exchange(
        tenant=tenant,
        data=ExchangeInput(
            entity_id=ENTITY,
            process_id=process,
            session_id=session_id,
            messages=[MessageInput(role="user", content=user), MessageInput(role="assistant", content=assistant)],
            model="gpt-4o-mini",
            prompt_tokens=120,
            completion_tokens=40,
            latency_ms=850.0,
            recall_event_id=recalled.event_id,
        ),
    )
    if augment:
        job_augment(recorded.job.pk)
    return recorded.exchange


@dataclass
class Handoff:
    tenant: Tenant
    entity: Entity
    triage: Exchange
    billing: Exchange
    late_triage: Exchange
    technical: Exchange

    @property
    def gap_event(self) -> RecallEvent:
        return self.technical.recall_event


def build_support_handoff(tenant: Tenant) -> Handoff:
    triage = call(
        tenant,
        process="triage_agent",
        user="I can't access my account and I was charged twice on my Visa card. I live in Lisbon.",
        assistant="The customer was charged twice on the Visa card. The customer cannot access the account.",
    )
    billing = call(
        tenant,
        process="billing_agent",
        user="Help me with the double charge on my Visa card.",
        assistant="The duplicate charge on the Visa card will be refunded within five days.",
    )
    late_triage = call(
        tenant,
        process="triage_agent",
        user="Also my password reset email never arrives.",
        assistant="The password reset email does not arrive for this customer.",
        session_id=str(triage.session.uuid),
        augment=False,
    )
    technical = call(
        tenant,
        process="technical_agent",
        user="I still can't log in to my account, the password reset email never arrives.",
        assistant="Your login is blocked because the password reset email bounced.",
    )
    entity = Entity.objects.get(tenant=tenant, external_id=ENTITY)
    return Handoff(tenant, entity, triage, billing, late_triage, Exchange.objects.get(pk=technical.pk))


def add_graph(entity: Entity, process_name: str, triples: list[tuple[str, str, str]]) -> None:
    process, _ = Process.objects.get_or_create(tenant=entity.tenant, external_id=process_name)
    for subject, predicate, obj in triples:
        triple_mention(
            entity=entity,
            subject=subject,
            predicate=predicate,
            obj=obj,
            mention=Mention(process=process, mentioned_at=timezone.now(), source="api"),
        )
    bump_memory_version(entity.pk)  # as every memory write does


def add_memory(entity: Entity, process_name: str, content: str, kind: str = "fact") -> Memory:
    process, _ = Process.objects.get_or_create(tenant=entity.tenant, external_id=process_name)
    memory = memory_mention(
        entity=entity, kind=kind, content=content, mention=Mention(process=process, mentioned_at=timezone.now())
    ).obj
    bump_memory_version(entity.pk)
    return memory


@pytest.fixture(autouse=True)
def fresh_cache():
    """Cached graph layouts are keyed by ids; test databases reuse ids."""
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def handoff(tenant) -> Handoff:
    return build_support_handoff(tenant)


@pytest.fixture
def member(tenant, django_user_model):
    user = django_user_model.objects.create_user(username="operator", password="operator-pass-1")
    tenant.members.add(user)
    return user


@pytest.fixture
def staff_member(tenant, django_user_model):
    user = django_user_model.objects.create_user(username="lead", password="lead-pass-1", is_staff=True)
    tenant.members.add(user)
    return user


@pytest.fixture
def member_client(client, member):
    client.force_login(member)
    return client


@pytest.fixture
def outsider_entity(other_tenant) -> Entity:
    """An entity of another tenant, with a memory: never visible to ``member``."""
    entity = Entity.objects.create(tenant=other_tenant, external_id="globex_secret")
    add_memory(entity, "spy_agent", "Globex keeps its launch codes in the blue binder")
    return entity


def add_contradiction(entity: Entity) -> tuple[Memory, Memory]:
    """Billing and technical disagree about the refund delay (recorded as the extractor would)."""
    older = add_memory(entity, "billing_agent", "The refund reaches the card within five business days")
    newer = add_memory(entity, "technical_agent", "The refund reaches the card within ten business days")
    record_memory_contradiction(entity, older.pk, newer.pk, Contradiction.Reason.EXTRACTOR)
    return older, newer

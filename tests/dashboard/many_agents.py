"""Fourteen agents' imported history, written through the services: exchanges with their original
times (a few seconds of 7 May 2023), augmented by the rules extractor, then every agent recalls
(now) and some are served other agents' raw work before its augmentation finished. A graph with a
contradicted relation (two agents disagree where the customer lives) and a superseded one (the plan
changed later)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from memory.models import Entity, Exchange, Process, Tenant, Triple
from memory.services.augmentation import job_augment
from memory.services.contradictions import record_triple_contradiction
from memory.services.embedding_store import bump_memory_version
from memory.services.recall import RecallRequest, recall_for_call
from memory.services.recording import ExchangeInput, MessageInput, record_exchange
from memory.services.storing import Mention, triple_mention

ENTITY = "acme_rollout"
IMPORTED_AT = datetime(2023, 5, 7, 13, 0, 0, tzinfo=UTC)
AGENTS = [
    ("triage_agent", "The customer Acme Corp signed the enterprise plan on Monday."),
    ("billing_agent", "Acme Corp pays by bank transfer every quarter."),
    ("research_agent", "Acme Corp runs its analytics on PostgreSQL."),
    ("analyst_agent", "Acme Corp grew its team to 240 engineers this year."),
    ("reviewer_agent", "The rollout checklist for Acme Corp has twelve steps."),
    ("planner_agent", "The Acme Corp rollout starts in the Lisbon office."),
    ("writer_agent", "The welcome guide for Acme Corp is written in Portuguese."),
    ("qa_agent", "The staging tests for Acme Corp passed on Tuesday."),
    ("security_agent", "Acme Corp requires single sign-on with Okta."),
    ("data_agent", "Acme Corp keeps 40 terabytes of event data."),
    ("legal_agent", "The Acme Corp contract renews every two years."),
    ("support_agent", "Acme Corp reported a slow dashboard in the Berlin office."),
    ("pricing_agent", "Acme Corp has a discount of 15 percent."),
    ("ops_agent", "The Acme Corp servers run in the Frankfurt region."),
]
GRAPH = [
    ("research_agent", "Acme Corp", "uses", "PostgreSQL"),
    ("security_agent", "Acme Corp", "requires", "Okta"),
    ("ops_agent", "Acme Corp", "hosted_in", "Frankfurt region"),
    ("billing_agent", "Acme Corp", "pays_with", "bank transfer"),
    ("planner_agent", "rollout", "starts_in", "Lisbon office"),
    ("support_agent", "slow dashboard", "reported_in", "Berlin office"),
    ("writer_agent", "welcome guide", "written_in", "Portuguese"),
    ("legal_agent", "contract", "renews_every", "two years"),
    ("pricing_agent", "Acme Corp", "has_discount", "15 percent"),
    ("analyst_agent", "Acme Corp", "employs", "240 engineers"),
]
CONTRADICTED = [
    ("triage_agent", "Acme Corp", "based_in", "Lisbon"),
    ("support_agent", "Acme Corp", "based_in", "Berlin"),
]
SUPERSEDED = ("planner_agent", "rollout plan", "is", "three phases")
CURRENT = ("planner_agent", "rollout plan", "is", "two phases")


@dataclass
class ManyAgents:
    tenant: Tenant
    entity: Entity
    exchanges: list[Exchange]
    raw_served_to: str  # the agent that was handed another's raw work
    raw_source: str


def imported_exchange(tenant: Tenant, process: str, text: str, at: datetime, *, augment: bool = True) -> Exchange:
    recorded = record_exchange(
        tenant=tenant,
        data=ExchangeInput(
            entity_id=ENTITY,
            process_id=process,
            messages=[
                MessageInput(role="user", content=f"Report on Acme Corp, {process}."),
                MessageInput(role="assistant", content=text),
            ],
            model="gpt-4o-mini",
            occurred_at=at,
        ),
    )
    if augment:
        job_augment(recorded.job.pk)
    return recorded.exchange


def _triple(entity: Entity, process_name: str, subject: str, predicate: str, obj: str, at: datetime) -> Triple:
    process, _ = Process.objects.get_or_create(tenant=entity.tenant, external_id=process_name)
    return triple_mention(
        entity=entity,
        subject=subject,
        predicate=predicate,
        obj=obj,
        mention=Mention(process=process, mentioned_at=at, source="api"),
    ).obj


def build_many_agents(tenant: Tenant) -> ManyAgents:
    exchanges = [
        imported_exchange(tenant, process, text, IMPORTED_AT + timedelta(milliseconds=350 * index))
        for index, (process, text) in enumerate(AGENTS)
    ]
    entity = Entity.objects.get(tenant=tenant, external_id=ENTITY)
    for process, subject, predicate, obj in GRAPH:
        _triple(entity, process, subject, predicate, obj, IMPORTED_AT + timedelta(seconds=2))
    older, newer = (_triple(entity, *side, IMPORTED_AT + timedelta(seconds=3)) for side in CONTRADICTED)
    record_triple_contradiction(entity.pk, older.pk, newer.pk, "same_subject_predicate")
    _triple(entity, *SUPERSEDED, IMPORTED_AT + timedelta(seconds=3))
    _triple(entity, *CURRENT, IMPORTED_AT + timedelta(seconds=4))
    bump_memory_version(entity.pk)
    # The ops agent's last report is not augmented yet when the reviewer asks: served raw.
    late = imported_exchange(
        tenant, "ops_agent", "The Acme Corp maintenance window is Sunday night.", IMPORTED_AT + timedelta(seconds=5),
        augment=False,
    )  # fmt: skip
    for process, _ in AGENTS:
        recall_for_call(RecallRequest(tenant=tenant, entity_id=ENTITY, process_id=process, query="Acme Corp rollout"))
    return ManyAgents(tenant, entity, [*exchanges, late], raw_served_to="reviewer_agent", raw_source="ops_agent")

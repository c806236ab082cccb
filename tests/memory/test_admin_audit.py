"""The audit trail in the admin (issue #15, fix 5): an audited object's page shows its own trail, and
audit entries read as sentences with a link to what they are about, not "memory | 68"."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from django.contrib.auth import get_user_model
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from memory.models import AuditEntry, Contradiction, Entity, Memory, Process
from memory.services import dedup
from memory.services.audit import Actor
from memory.services.augmentation import job_augment
from memory.services.contradiction_resolving import ResolutionAction, contradiction_resolve
from memory.services.contradictions import record_memory_contradiction
from memory.services.editing import memory_delete, memory_update
from memory.services.storing import Mention, memory_mention
from tests.support.exchanges import record

pytestmark = pytest.mark.django_db

AUDIT_LOG = reverse("admin:memory_auditentry_changelist")
MAY_7 = datetime(2023, 5, 7, 9, 0, tzinfo=UTC)


@pytest.fixture
def operator(django_user_model):
    return get_user_model().objects.create_superuser("dana", "dana@example.com", "pw-dana-1")


@pytest.fixture
def operator_client(client, operator):
    client.force_login(operator)
    return client


@pytest.fixture
def entity(tenant) -> Entity:
    return Entity.objects.create(tenant=tenant, external_id="project_alpha")


def remember(entity: Entity, content: str) -> Memory:
    process, _ = Process.objects.get_or_create(tenant=entity.tenant, external_id="triage_agent")
    mention = Mention(process=process, mentioned_at=timezone.now())
    return memory_mention(entity=entity, kind="fact", content=content, mention=mention).obj


def sentences(response) -> list[str]:
    return [row.audit_line.as_text() for row in response.context["cl"].result_list]


def test_an_edit_reads_as_a_sentence_linking_to_the_memory(operator_client, operator, entity):
    memory = remember(entity, "Melanie likes pottery and painting on weekends")
    memory_update(memory=memory, actor=Actor.from_user(operator), content="Melanie likes pottery")

    response = operator_client.get(AUDIT_LOG)

    assert sentences(response) == ["Operator dana edited memory “Melanie likes pottery”"]
    page = response.content.decode()
    link = reverse("admin:memory_memory_change", args=[memory.pk])
    assert f"<a href='{link}'>“Melanie likes pottery”</a>" in page
    assert f">{memory.pk}<" not in page  # no bare "memory | 68" columns


def test_a_deleted_memory_is_named_from_its_snapshot_without_a_link(operator_client, operator, entity):
    memory = remember(entity, "Melanie likes pottery")
    memory_delete(memory=memory, actor=Actor.from_user(operator))

    response = operator_client.get(AUDIT_LOG)

    [line] = [row.audit_line for row in response.context["cl"].result_list]
    assert line.as_text() == "Operator dana deleted memory “Melanie likes pottery”" and line.url == ""


def test_the_entry_page_says_what_changed(operator_client, operator, entity):
    memory = remember(entity, "Melanie likes pottery and painting on weekends")
    memory_update(memory=memory, actor=Actor(label="api_key:ci-agents"), content="Melanie likes pottery")
    entry = AuditEntry.objects.get(object_type="memory", object_id=memory.pk)

    page = operator_client.get(reverse("admin:memory_auditentry_change", args=[entry.pk])).content.decode()

    assert "API key ci-agents edited memory" in page
    assert "content: “Melanie likes pottery and painting on weekends” → “Melanie likes pottery”" in page


def test_a_memorys_page_shows_its_audit_trail_newest_first(operator_client, operator, entity, settings):
    dedup.forget_all()
    settings.MEMORI_EXTRACTOR = "tests.support.extractors.LineExtractor"
    for text, at in (
        ("fact: Payments go through Stripe\nclaim: payments | go_through | Stripe | name", MAY_7),
        ("fact: We moved payments to Adyen\nclaim: payments | * | Adyen | name", MAY_7 + timedelta(hours=2)),
    ):
        job_augment(record(entity.tenant, entity="project_alpha", process="billing", user=text, occurred_at=at).job.pk)
    stripe = Memory.objects.get(content="Payments go through Stripe")
    adyen = Memory.objects.get(content="We moved payments to Adyen")
    other = remember(entity, "Invoices go out monthly")
    memory_update(memory=other, actor=Actor.from_user(operator), content="Invoices go out every month")
    operator_client.post(
        reverse("admin:memory_memory_changelist"), {"action": "restore_superseded", "_selected_action": [stripe.pk]}
    )

    response = operator_client.get(reverse("admin:memory_memory_change", args=[stripe.pk]))

    trail = [line.as_text() for line in response.context["audit_trail"]]
    assert trail == [
        "Operator dana restored memory “Payments go through Stripe” (supersession undone: current again)",
        f"Memori (supersession) marked memory “Payments go through Stripe” superseded by memory #{adyen.pk}",
    ]
    page = response.content.decode()
    assert "Audit trail" in page and "Invoices go out" not in page
    assert f"{AUDIT_LOG}?object_type=memory&amp;object_id={stripe.pk}" in page
    log = operator_client.get(AUDIT_LOG, {"object_type": "memory", "object_id": stripe.pk})
    assert sentences(log) == trail


def test_a_contradictions_page_shows_its_resolution(operator_client, operator, entity):
    older, newer = remember(entity, "The refund takes five days"), remember(entity, "The refund takes ten days")
    record_memory_contradiction(entity, older.pk, newer.pk, Contradiction.Reason.EXTRACTOR)
    contradiction = Contradiction.objects.get()
    contradiction_resolve(
        contradiction=contradiction, actor=Actor.from_user(operator), action=ResolutionAction.KEEP_BOTH
    )

    response = operator_client.get(reverse("admin:memory_contradiction_change", args=[contradiction.pk]))

    [line] = response.context["audit_trail"]
    assert (
        line.as_text()
        == "Operator dana resolved contradiction “The refund takes five days / The refund takes ten days”"
    )
    assert ("resolution_note", "—", "Kept both sides (not a conflict) by user:dana.") in line.changes


def test_an_object_without_changes_says_so(operator_client, entity):
    memory = remember(entity, "Melanie likes pottery")

    page = operator_client.get(reverse("admin:memory_memory_change", args=[memory.pk])).content.decode()

    assert "No change yet by an operator" in page


def test_the_audit_log_costs_the_same_queries_for_3_or_30_entries(operator_client, operator, entity):
    def queries_for_page() -> int:
        with CaptureQueriesContext(connection) as queries:
            assert operator_client.get(AUDIT_LOG).status_code == 200
        return len(queries)

    def edit(first: int, last: int) -> None:
        for n in range(first, last):
            memory = remember(entity, f"Customer {n} pays by card")
            memory_update(memory=memory, actor=Actor.from_user(operator), content=f"Customer {n} pays by invoice")
            if n % 3 == 0:
                memory_delete(memory=memory, actor=Actor.from_user(operator))

    edit(0, 3)
    few = queries_for_page()
    edit(3, 30)

    assert queries_for_page() == few

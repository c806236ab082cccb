"""Memories and triples in the admin (issue #15, fix 5): who contributed each (every process that
mentioned it) and whether it still holds, shown in the list and filterable.

Exchanges are recorded and augmented as the worker does, with the test line extractor saying
exactly what is extracted."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from django.contrib.auth import get_user_model
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from memory.models import Contradiction, Memory, Process, Triple
from memory.services import dedup
from memory.services.augmentation import job_augment
from memory.services.contradictions import record_triple_contradiction
from tests.support.exchanges import record

pytestmark = pytest.mark.django_db

MAY_7 = datetime(2023, 5, 7, 9, 0, tzinfo=UTC)
MEMORIES = reverse("admin:memory_memory_changelist")
TRIPLES = reverse("admin:memory_triple_changelist")


@pytest.fixture(autouse=True)
def line_extractor(settings):
    dedup.forget_all()
    settings.MEMORI_EXTRACTOR = "tests.support.extractors.LineExtractor"
    settings.MEMORI_CONTRADICTION_WINDOW_SECONDS = 300


@pytest.fixture
def operator_client(client):
    client.force_login(get_user_model().objects.create_superuser("operator", "op@example.com", "pw-operator-1"))
    return client


def say(tenant, text: str, *, process: str, at: datetime = MAY_7) -> None:
    job_augment(record(tenant, entity="project_alpha", process=process, user=text, occurred_at=at).job.pk)


def listed(response) -> list:
    assert response.status_code == 200, response.content.decode()[:500]
    return list(response.context["cl"].result_list)


def process(name: str) -> Process:
    return Process.objects.get(external_id=name)


def test_a_memory_lists_every_process_that_contributed_it(tenant, operator_client):
    say(tenant, "fact: Melanie likes pottery", process="triage_agent")
    say(tenant, "fact: Melanie likes pottery\nfact: Invoices go out monthly", process="billing_agent")

    rows = {row.content: row for row in listed(operator_client.get(MEMORIES))}
    page = operator_client.get(MEMORIES).content.decode()

    assert rows["Melanie likes pottery"].contributor_names == ["billing_agent", "triage_agent"]
    assert rows["Invoices go out monthly"].contributor_names == ["billing_agent"]
    assert "billing_agent, triage_agent" in page


def test_memories_filter_by_a_contributing_process_not_only_the_first(tenant, operator_client):
    say(tenant, "fact: Melanie likes pottery", process="triage_agent")
    say(tenant, "fact: Melanie likes pottery\nfact: Invoices go out monthly", process="billing_agent")
    say(tenant, "fact: The office is in Lisbon", process="triage_agent")

    billing = listed(operator_client.get(MEMORIES, {"contributor": process("billing_agent").pk}))
    triage = listed(operator_client.get(MEMORIES, {"contributor": process("triage_agent").pk}))

    assert sorted(m.content for m in billing) == ["Invoices go out monthly", "Melanie likes pottery"]
    assert sorted(m.content for m in triage) == ["Melanie likes pottery", "The office is in Lisbon"]


def test_a_bad_contributor_value_is_a_message_not_an_error(tenant, operator_client):
    say(tenant, "fact: Melanie likes pottery", process="triage_agent")

    response = operator_client.get(MEMORIES, {"contributor": "billing"})

    assert response.status_code == 302 and "e=1" in response["Location"]  # the admin's "invalid filter" notice


def test_a_superseded_memory_shows_when_it_held_and_what_replaced_it(tenant, operator_client):
    say(tenant, "fact: Payments go through Stripe\nclaim: payments | go_through | Stripe | name", process="billing")
    later = MAY_7 + timedelta(hours=2)
    say(tenant, "fact: We moved payments to Adyen\nclaim: payments | * | Adyen | name", process="billing", at=later)
    stripe = Memory.objects.get(content="Payments go through Stripe")
    adyen = Memory.objects.get(content="We moved payments to Adyen")

    superseded = operator_client.get(MEMORIES, {"validity": "superseded"})
    current = operator_client.get(MEMORIES, {"validity": "current"})
    change_page = operator_client.get(reverse("admin:memory_memory_change", args=[stripe.pk])).content.decode()

    assert listed(superseded) == [stripe] and listed(current) == [adyen]
    page = superseded.content.decode()
    assert "7 May 2023 09:00 – 7 May 2023 11:00, superseded by" in page
    assert reverse("admin:memory_memory_change", args=[adyen.pk]) in page
    assert "current since 7 May 2023 11:00" in current.content.decode()
    assert "superseded by" in change_page and "We moved payments to Adyen" in change_page


def test_triples_list_and_filter_their_contributing_processes(tenant, operator_client):
    say(tenant, "triple: Melanie | likes | pottery", process="triage_agent")
    say(tenant, "triple: Melanie | likes | pottery\ntriple: Melanie | likes | hiking", process="billing_agent")

    everything = {t.content: t for t in listed(operator_client.get(TRIPLES))}
    triage = listed(operator_client.get(TRIPLES, {"contributor": process("triage_agent").pk}))

    assert everything["Melanie likes pottery"].contributor_names == ["billing_agent", "triage_agent"]
    assert everything["Melanie likes hiking"].contributor_names == ["billing_agent"]
    assert [t.content for t in triage] == ["Melanie likes pottery"]


def test_a_later_value_of_a_one_value_predicate_supersedes_the_older_triple(tenant, operator_client):
    say(tenant, "triple: Melanie | lives_in | Lisbon", process="triage_agent")
    say(tenant, "triple: Melanie | lives_in | Porto", process="triage_agent", at=MAY_7 + timedelta(days=2))
    lisbon, porto = Triple.objects.get(object__name="Lisbon"), Triple.objects.get(object__name="Porto")

    superseded = operator_client.get(TRIPLES, {"validity": "superseded"})
    current = operator_client.get(TRIPLES, {"validity": "current"})
    view_page = operator_client.get(reverse("admin:memory_triple_change", args=[lisbon.pk])).content.decode()

    assert listed(superseded) == [lisbon] and listed(current) == [porto]
    assert "7 May 2023 09:00 – 9 May 2023 09:00, superseded by" in superseded.content.decode()
    assert reverse("admin:memory_triple_change", args=[porto.pk]) in view_page


def test_values_of_a_many_value_predicate_and_contradicting_values_both_stay_current(tenant, operator_client):
    say(tenant, "triple: Melanie | likes | pottery", process="triage_agent")
    say(tenant, "triple: Melanie | likes | hiking", process="triage_agent", at=MAY_7 + timedelta(days=1))
    say(tenant, "triple: Office | located_in | Lisbon", process="triage_agent")
    say(tenant, "triple: Office | located_in | Porto", process="billing_agent", at=MAY_7 + timedelta(minutes=1))
    lisbon, porto = Triple.objects.get(object__name="Lisbon"), Triple.objects.get(object__name="Porto")
    if not Contradiction.objects.filter(triple_a=lisbon, triple_b=porto).exists():
        record_triple_contradiction(lisbon.entity_id, lisbon.pk, porto.pk, Contradiction.Reason.SAME_SUBJECT_PREDICATE)

    assert listed(operator_client.get(TRIPLES, {"validity": "superseded"})) == []
    assert len(listed(operator_client.get(TRIPLES, {"validity": "current"}))) == 4


@pytest.mark.parametrize("changelist", [MEMORIES, TRIPLES])
def test_the_lists_cost_the_same_queries_for_3_or_30_rows(tenant, operator_client, changelist):
    def queries_for_page() -> int:
        with CaptureQueriesContext(connection) as queries:
            assert operator_client.get(changelist).status_code == 200
        return len(queries)

    def add(first: int, last: int) -> None:
        for n in range(first, last):
            lines = f"fact: Customer {n} pays by card\ntriple: Customer {n} | lives_in | City {n}"
            say(tenant, lines, process=f"agent_{n % 4}", at=MAY_7 + timedelta(minutes=n))
            say(tenant, f"triple: Customer {n} | lives_in | Town {n}", process="mover", at=MAY_7 + timedelta(days=1))

    add(0, 3)
    few = queries_for_page()
    add(3, 30)

    assert queries_for_page() == few

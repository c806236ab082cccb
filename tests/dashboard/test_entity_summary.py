"""The entity's landing page: counts, contributors, latest gaps and contradictions, the way to the thread."""

from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import NoReverseMatch, reverse

from memory.models import Entity, Memory
from tests.dashboard.conftest import XSS, add_contradiction, call


def summary_url(entity) -> str:
    return reverse("dashboard:entity", args=[entity.pk])


def test_entering_an_entity_lands_on_its_summary_not_the_graph(member_client, handoff):
    response = member_client.get(summary_url(handoff.entity))

    assert response.status_code == 200
    assert response.templates[0].name == "dashboard/entity.html"
    assert f'<a href="{summary_url(handoff.entity)}" aria-current="page">Summary</a>' in response.content.decode()
    listing = member_client.get(reverse("dashboard:entities", args=[handoff.tenant.pk])).content.decode()
    assert f'href="{summary_url(handoff.entity)}"' in listing


def test_it_counts_what_the_agents_did(member_client, handoff):
    add_contradiction(handoff.entity)

    summary = member_client.get(summary_url(handoff.entity)).context["summary"]

    # Four exchanges; the first call came before the entity existed, so it had nothing to recall.
    assert (summary.calls, summary.exchanges, summary.sessions) == (3, 4, 3)
    assert summary.memories == Memory.objects.filter(entity=handoff.entity).count() > 0
    assert summary.memories_by_kind["fact"] == Memory.objects.filter(entity=handoff.entity, kind="fact").count()
    assert summary.open_contradictions_total == 1
    assert summary.processes == 3  # triage, billing, technical


def test_each_contributor_shows_what_it_added_and_when_it_last_worked(member_client, handoff):
    response = member_client.get(summary_url(handoff.entity))

    contributors = {c.name: c for c in response.context["summary"].contributors}
    triage = contributors["triage_agent"]
    assert (triage.exchanges, triage.calls) == (2, 1)
    assert triage.last_active_at == handoff.late_triage.occurred_at
    first_added = Memory.objects.filter(entity=handoff.entity, first_process__external_id="triage_agent")
    assert triage.memory_total == first_added.count() > 0
    assert [c.name for c in response.context["summary"].contributors][0] == "technical_agent"  # the latest
    body = response.content.decode()
    assert 'id="contributor-triage_agent"' in body
    assert reverse("dashboard:sessions", args=[handoff.entity.pk]) + "?process=triage_agent" in body


def test_it_shows_the_latest_handoff_gaps_and_open_contradictions(member_client, handoff):
    add_contradiction(handoff.entity)

    response = member_client.get(summary_url(handoff.entity))

    gaps = response.context["summary"].gaps
    assert handoff.gap_event.pk in [gap.event.pk for gap in gaps]
    body = response.content.decode()
    assert "had not been augmented yet when technical_agent recalled" in body
    assert "within five business days" in body and "within ten business days" in body
    contradiction = response.context["summary"].open_contradictions[0]
    assert f"#contradiction-{contradiction.pk}" in body


def test_it_links_to_the_handoff_thread(member_client, handoff):
    body = member_client.get(summary_url(handoff.entity)).content.decode()
    try:
        thread = reverse("dashboard:thread", args=[handoff.entity.pk])
    except NoReverseMatch:  # until the thread page is installed, the pages it is rebuilt from
        assert reverse("dashboard:sessions", args=[handoff.entity.pk]) in body
        assert reverse("dashboard:gaps", args=[handoff.entity.pk]) in body
    else:
        assert f'id="thread-link" href="{thread}"' in body


def test_an_entity_nobody_worked_on_says_so(member_client, tenant):
    entity = Entity.objects.create(tenant=tenant, external_id="project_beta")

    response = member_client.get(summary_url(entity))

    assert response.status_code == 200
    assert "No agent has worked on this entity yet." in response.content.decode()
    assert response.context["summary"].calls == 0


def test_its_queries_do_not_grow_with_agents_or_calls(member_client, handoff, django_assert_max_num_queries):
    add_contradiction(handoff.entity)
    with CaptureQueriesContext(connection) as small:
        member_client.get(summary_url(handoff.entity))
    for n in range(8):
        call(handoff.tenant, process=f"agent_{n}", user=f"The build {n} passed on staging.", assistant="Noted.")
    add_contradiction(handoff.entity)

    with django_assert_max_num_queries(25):
        response = member_client.get(summary_url(handoff.entity))
    with CaptureQueriesContext(connection) as large:
        member_client.get(summary_url(handoff.entity))

    assert response.context["summary"].processes == 11
    assert len(large.captured_queries) == len(small.captured_queries)


def test_another_tenants_entity_is_404(member_client, outsider_entity):
    response = member_client.get(summary_url(outsider_entity))

    assert response.status_code == 404
    assert b"globex_secret" not in response.content


def test_names_are_escaped(member_client, tenant):
    entity = Entity.objects.create(tenant=tenant, external_id=XSS[:30])

    response = member_client.get(summary_url(entity))

    assert b"<script>alert" not in response.content
    assert b"&lt;script&gt;" in response.content

"""The entity's handoff thread: every call of every agent, what it received from whom, what it added."""

from __future__ import annotations

from datetime import timedelta

from django.urls import reverse

from dashboard.queries import thread
from dashboard.queries.thread import CALLS_PER_PAGE
from dashboard.queries.thread_filters import Cursor
from memory.models import Exchange
from memory.services.augmentation import job_augment
from tests.dashboard.conftest import XSS, add_contradiction, call
from tests.dashboard.flagged import add_superseded


def thread_url(entity, **params) -> str:
    url = reverse("dashboard:thread", args=[entity.pk])
    return url + ("?" + "&".join(f"{key}={value}" for key, value in params.items()) if params else "")


def calls_on(response) -> list[Exchange]:
    return response.context["page"].calls


def test_it_lists_every_call_of_every_process_in_time_order(member_client, handoff, django_assert_max_num_queries):
    with django_assert_max_num_queries(30):
        response = member_client.get(thread_url(handoff.entity))
    assert response.status_code == 200
    calls = calls_on(response)
    assert [c.pk for c in calls] == [
        handoff.triage.pk,
        handoff.billing.pk,
        handoff.late_triage.pk,
        handoff.technical.pk,
    ]
    assert [c.process.external_id for c in calls] == [
        "triage_agent",
        "billing_agent",
        "triage_agent",
        "technical_agent",
    ]
    assert calls[1].asked.startswith("Help me with the double charge")
    body = response.content.decode()
    assert "Help me with the double charge" in body


def test_a_received_memory_names_its_source_and_links_to_the_call_that_produced_it(member_client, handoff):
    response = member_client.get(thread_url(handoff.entity))
    billing = next(c for c in calls_on(response) if c.pk == handoff.billing.pk)
    from_triage = [item for item in billing.received.items if item.memory_id]
    assert from_triage, "billing recalled triage's memories"
    source = from_triage[0].sources[0]
    assert source.process == "triage_agent"
    assert source.exchange_id == handoff.triage.pk  # the call whose augmentation wrote it
    link = f"{reverse('dashboard:thread', args=[handoff.entity.pk])}?call={handoff.triage.pk}#call-{handoff.triage.pk}"
    assert link in response.content.decode()


def test_pending_raw_context_is_listed_as_items_with_their_source(member_client, handoff):
    response = member_client.get(thread_url(handoff.entity))
    technical = next(c for c in calls_on(response) if c.pk == handoff.technical.pk)
    pending = technical.received.pending
    assert [item.sources[0].process for item in pending] == ["triage_agent"]
    assert pending[0].sources[0].exchange_id == handoff.late_triage.pk
    assert "password reset email" in pending[0].content
    assert technical.gap and "pending" in technical.gap.kinds  # gaps.py's judgement, inline
    body = response.content.decode()
    assert "raw context from 1 call" in body and "gap: pending" in body


def test_what_a_call_added_is_shown_and_a_queued_one_says_so(member_client, handoff):
    response = member_client.get(thread_url(handoff.entity))
    calls = {c.pk: c for c in calls_on(response)}
    assert any(p.memory for p in calls[handoff.triage.pk].produced)
    assert calls[handoff.late_triage.pk].produced == []
    assert "augmentation queued" in response.content.decode()


def test_a_given_contradicted_memory_is_flagged_with_the_other_side(member_client, handoff):
    older, newer = add_contradiction(handoff.entity)
    asked = call(
        handoff.tenant, process="qa_agent", user="How long does the refund take to reach the card?", assistant="ok"
    )
    response = member_client.get(thread_url(handoff.entity, call=asked.pk))
    qa = next(c for c in calls_on(response) if c.pk == asked.pk)
    sides = {older.pk: ("technical_agent", "ten business days"), newer.pk: ("billing_agent", "five business days")}
    flagged = [item for item in qa.received.contradicted if item.memory_id in sides]
    assert flagged  # recall gave one side (the two are near-duplicates: one stands for both)
    flag = flagged[0].contradictions[0]
    other_process, other_words = sides[flagged[0].memory_id]
    assert flag.open_at_call and flag.other_process == other_process and other_words in flag.other_content
    body = response.content.decode()
    assert "given 1 contradicted" in body and f"conflicts with {other_process}" in body


def test_a_given_superseded_memory_is_flagged_with_its_replacement(member_client, handoff):
    stale, current = add_superseded(handoff.entity)
    asked = call(
        handoff.tenant,
        process="qa_agent",
        user="What is the billing address of the customer in Lisbon?",
        assistant="ok",
    )
    response = member_client.get(thread_url(handoff.entity, call=asked.pk))
    qa = next(c for c in calls_on(response) if c.pk == asked.pk)
    given = {item.memory_id for item in qa.received.items}
    assert {stale.pk, current.pk} <= given
    assert [item.memory_id for item in qa.received.superseded] == [stale.pk]
    superseded = qa.received.superseded[0].superseded
    assert superseded.before_call and superseded.by_id == current.pk
    assert "already replaced on" in response.content.decode()


def test_filters_by_process_time_and_marker(member_client, handoff):
    by_process = calls_on(member_client.get(thread_url(handoff.entity, process="triage_agent")))
    assert {c.process.external_id for c in by_process} == {"triage_agent"} and len(by_process) == 2
    pending = calls_on(member_client.get(thread_url(handoff.entity, marker="pending")))
    assert [c.pk for c in pending] == [handoff.technical.pk]
    gaps = calls_on(member_client.get(thread_url(handoff.entity, marker="gap")))
    assert handoff.technical.pk in [c.pk for c in gaps] and handoff.triage.pk not in [c.pk for c in gaps]
    later = (handoff.technical.occurred_at + timedelta(seconds=1)).strftime("%Y-%m-%dT%H:%M:%S")
    assert calls_on(member_client.get(thread_url(handoff.entity, to=later))) != []
    assert calls_on(member_client.get(thread_url(handoff.entity, **{"from": later}))) == []


def test_bad_filters_are_explained_not_a_500(member_client, handoff):
    response = member_client.get(thread_url(handoff.entity, **{"from": "yesterday", "marker": "bogus"}))
    assert response.status_code == 200
    errors = " ".join(response.context["filters"].errors)
    assert "yesterday" in errors and "bogus" in errors
    assert len(calls_on(response)) == 4  # the bad filters are left out
    # A call id means the same on every page: the dashboard's query checks refuse a bad one, saying so.
    response = member_client.get(thread_url(handoff.entity, call="x1"))
    assert response.status_code == 400 and "call" in response.content.decode()
    response = member_client.get(thread_url(handoff.entity, before="garbage"))
    assert response.status_code == 200 and "damaged" in response.content.decode()


def test_a_deep_link_opens_the_page_holding_that_call(member_client, tenant):
    first = call(tenant, process="agent_a", user="First question about invoices", assistant="ok")
    for index in range(CALLS_PER_PAGE + 10):
        call(tenant, process=f"agent_{index % 3}", user=f"Question number {index}", assistant="ok", augment=False)
    entity = first.entity
    latest = member_client.get(thread_url(entity))
    assert first.pk not in [c.pk for c in calls_on(latest)]
    assert latest.context["page"].earlier is not None and latest.context["page"].later is None
    linked = member_client.get(thread_url(entity, call=first.pk))
    assert calls_on(linked)[0].pk == first.pk
    assert f'id="call-{first.pk}"' in linked.content.decode()
    earlier = member_client.get(thread_url(entity, before=latest.context["page"].earlier))
    seen = [c.pk for c in calls_on(earlier)] + [c.pk for c in calls_on(latest)]
    assert len(seen) == len(set(seen)) == CALLS_PER_PAGE + 11  # every call once, none twice
    assert seen == sorted(seen, key=lambda pk: (Exchange.objects.get(pk=pk).occurred_at, pk))


def test_the_page_costs_the_same_queries_with_more_calls(member_client, handoff, django_assert_max_num_queries):
    member_client.get(thread_url(handoff.entity))  # warm the session and the caches
    for index in range(20):
        call(handoff.tenant, process=f"burst_{index % 6}", user=f"Visa card refund status {index}", assistant="ok")
    with django_assert_max_num_queries(30):
        response = member_client.get(thread_url(handoff.entity))
    assert len(calls_on(response)) == 24


def test_live_endpoint_reports_a_new_call(member_client, handoff):
    url = reverse("dashboard:thread_live", args=[handoff.entity.pk])
    first = member_client.get(url).json()
    assert member_client.get(url, {"since": first["version"]}).json()["changed"] is False
    call(handoff.tenant, process="qa_agent", user="Did the refund reach the Visa card?", assistant="Yes.")
    after = member_client.get(url, {"since": first["version"]}).json()
    assert after["changed"] is True and "Did the refund reach the Visa card?" in after["html"]
    job_augment(handoff.late_triage.augmentation_job.pk)
    assert member_client.get(url, {"since": after["version"]}).json()["changed"] is True


def test_another_tenants_entity_is_404_and_its_calls_never_show(member_client, handoff, outsider_entity, other_tenant):
    assert member_client.get(thread_url(outsider_entity)).status_code == 404
    assert member_client.get(reverse("dashboard:thread_live", args=[outsider_entity.pk])).status_code == 404
    secret = call(other_tenant, process="spy_agent", user="The launch codes are in the blue binder", assistant="ok")
    response = member_client.get(thread_url(handoff.entity, call=secret.pk))
    assert response.context["page"].missing_call and secret.pk not in [c.pk for c in calls_on(response)]
    assert "blue binder" not in response.content.decode()


def test_text_is_escaped(member_client, tenant):
    exchange = call(tenant, process="triage_agent", user=XSS, assistant="ok")
    response = member_client.get(thread_url(exchange.entity))
    assert b"<script>alert" not in response.content and b"&lt;script&gt;alert" in response.content


def test_the_entity_navigation_links_to_the_thread(member_client, handoff):
    response = member_client.get(reverse("dashboard:sessions", args=[handoff.entity.pk]))
    assert f'href="{reverse("dashboard:thread", args=[handoff.entity.pk])}"' in response.content.decode()


def test_the_gap_filter_searches_a_bounded_number_of_calls_and_goes_on_from_there(member_client, handoff, monkeypatch):
    monkeypatch.setattr(thread, "GAP_BATCH", 1)
    monkeypatch.setattr(thread, "GAP_SEARCH_LIMIT", 2)
    first = member_client.get(thread_url(handoff.entity, marker="gap"))
    page = first.context["page"]
    assert [c.pk for c in page.calls] == [handoff.technical.pk]  # technical (a gap), late triage (none): 2 judged
    assert page.searched == 2 and page.search_cut
    assert page.earlier == Cursor(handoff.late_triage.occurred_at, handoff.late_triage.pk)  # go on below it
    assert "go on with the link below" in first.content.decode()
    rest = member_client.get(thread_url(handoff.entity, marker="gap", before=page.earlier)).context["page"]
    # billing had no gap; triage's first call recalled nothing (the entity did not exist yet): not judged
    assert rest.calls == [] and rest.searched == 1 and not rest.search_cut and rest.earlier is None

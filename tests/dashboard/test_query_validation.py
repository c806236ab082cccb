"""Every dashboard page answers bad query parameters with a 400 that says what is wrong, never a 500."""

from __future__ import annotations

import html

import pytest
from django.urls import reverse
from django.utils import timezone

from dashboard.web.periods import period_from_query
from memory.models import Memory
from tests.dashboard.conftest import add_contradiction, add_graph
from tests.support.dashboard_urls import dashboard_urls

PARAMETERS = [
    "start",
    "end",
    "days",
    "as_of",
    "page",
    "limit",
    "token_budget",
    "process",
    "since",
    "status",
    "sort",
    "q",
    "entity",
    "query",
    "tenant",
    "kind",
    "call",
    "from",
    "to",
    "before",
    "after",
    "marker",
    "side",
    "action",
]
BAD_VALUES = [
    "2024-13-45",
    "2024-02-30",
    "2024-01-01T25:00",
    "0001-01-01",
    "9999-12-31",
    "abc",
    "-1",
    "0",
    "²",
    "99999999999999999999999",
    "\x00",
    "x" * 2000,
    "all",
    "' OR 1=1 --",
    "2024-01-01T00:00:00Z_²",
]


@pytest.fixture
def staff_client(client, staff_member):
    client.force_login(staff_member)
    return client


@pytest.mark.slow
def test_no_page_answers_a_bad_parameter_with_a_server_error(staff_client, handoff):
    failures = []
    add_graph(handoff.entity, "triage_agent", [("Customer 456", "pays_with", "Visa card")])
    add_contradiction(handoff.entity)
    for url in dashboard_urls(handoff):
        for name in PARAMETERS:
            for value in BAD_VALUES:
                status = staff_client.get(url, {name: value}).status_code
                if status >= 500:
                    failures.append((url, name, value[:20], status))
    assert failures == []
    assert Memory.objects.filter(entity=handoff.entity).exists()  # nothing was written by a GET


@pytest.mark.parametrize(
    "name, value, view, said",
    [
        ("start", "2024-13-45", "overview", "start='2024-13-45'"),
        ("start", "2024-02-30", "overview", "start='2024-02-30'"),
        ("end", "2024-01-01", "overview", "give a start date too"),
        ("days", "3", "overview", "1, 7, 30, 90, 365"),
        ("as_of", "2024-01-01T25:00", "timeline", "as_of='2024-01-01T25:00'"),
        ("start", "2024-01-01T25:00", "graph", "a date and time"),
        ("token_budget", "²", "playground", "whole number"),
        ("page", "abc", "entities", "whole number"),
        ("sort", "size", "entities", "expected one of name, activity"),
        ("q", "a\x00b", "entities", "NUL characters"),
    ],
)
def test_a_bad_parameter_gets_a_message_and_the_page_navigation(member_client, handoff, name, value, view, said):
    kwargs = {"tenant_id": handoff.tenant.pk} if view in ("overview", "playground", "entities") else None
    url = reverse(f"dashboard:{view}", kwargs=kwargs or {"entity_id": handoff.entity.pk})
    response = member_client.get(url, {name: value})
    assert response.status_code == 400
    text = html.unescape(response.content.decode())
    assert said in text
    assert reverse("dashboard:overview", args=[handoff.tenant.pk]) in text  # the navigation is there
    if kwargs is None:
        assert reverse("dashboard:processes", args=[handoff.entity.pk]) in text  # and the entity's
    assert f'href="{url}"' in text or f'href="{url}?' in text  # a way back without the parameter


def test_the_end_must_not_come_before_the_start(member_client, handoff):
    url = reverse("dashboard:overview", args=[handoff.tenant.pk])
    response = member_client.get(url, {"start": "2024-03-10", "end": "2024-03-01"})
    assert response.status_code == 400
    assert "the end must not be before the start (2024-03-10)" in response.content.decode()


def test_good_dates_still_work(member_client, handoff):
    overview = reverse("dashboard:overview", args=[handoff.tenant.pk])
    timeline = reverse("dashboard:timeline", args=[handoff.entity.pk])
    graph = reverse("dashboard:graph", args=[handoff.entity.pk])
    assert member_client.get(overview, {"start": "2024-02-01", "end": "2024-02-29"}).status_code == 200
    assert member_client.get(overview, {"start": "2024-02-01"}).context["period"].days is None
    assert member_client.get(timeline, {"as_of": "2024-02-29T23:59:59"}).status_code == 200
    assert member_client.get(timeline, {"as_of": "2024-02-29T23:59"}).status_code == 200
    assert member_client.get(graph, {"start": "2024-02-29", "end": "2030-01-01T10:00:00+02:00"}).status_code == 200
    processes = reverse("dashboard:processes", args=[handoff.entity.pk])
    assert member_client.get(processes, {"days": "all"}).status_code == 200


def test_the_range_forms_send_a_preset_with_the_start_they_show(member_client, handoff):
    """The overview's form sends its From date back with the preset: the preset wins, unless both
    dates are given or no preset is chosen (the "Custom" choice, or "all" on pages that offer it)."""
    overview = reverse("dashboard:overview", args=[handoff.tenant.pk])
    assert member_client.get(overview, {"days": "30", "start": "2024-01-01", "end": ""}).context["period"].days == 30
    custom = member_client.get(overview, {"days": "", "start": "2024-01-01", "end": "2024-01-31"}).context["period"]
    assert (custom.days, custom.start.date().isoformat(), custom.last_day.isoformat()) == (
        None,
        "2024-01-01",
        "2024-01-31",
    )
    until_today = period_from_query({"days": "all", "start": "2024-01-01"})
    assert until_today.days is None and until_today.last_day == timezone.localdate()
    assert member_client.get(overview, {"days": "Custom"}).status_code == 400


def test_an_id_beyond_what_a_database_stores_is_not_found(member_client, handoff):
    response = member_client.get(f"/entities/{2**64}/")
    assert response.status_code == 404


def test_anonymous_visitors_are_sent_to_log_in_whatever_they_ask(client, handoff):
    url = reverse("dashboard:overview", args=[handoff.tenant.pk])
    response = client.get(url, {"start": "2024-13-45"})
    assert response.status_code == 302
    assert response["Location"].startswith("/login/")

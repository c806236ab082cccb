"""Timeline, Graph Explorer and Process View in headless Chromium with fourteen agents' imported
history (tests/dashboard/many_agents.py). Screenshots land in build/screenshots/many-agents-*.png."""

from __future__ import annotations

import pytest
from django.urls import reverse
from playwright.sync_api import expect

from tests.dashboard.many_agents import AGENTS, build_many_agents
from tests.dashboard.test_browser import browser, page, shoot, wait_for_plot  # noqa: F401 (fixtures)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def many(tenant, staff_member):
    return build_many_agents(tenant)


@pytest.fixture(autouse=True)
def no_script_errors(page):  # noqa: F811
    """Every test here fails on a script error or a Content-Security-Policy violation."""
    problems: list[str] = []
    page.on("pageerror", lambda error: problems.append(f"script error: {error}"))
    page.on("console", lambda m: problems.append(m.text) if "Content Security Policy" in m.text else None)
    yield
    assert problems == []


def test_timeline_shows_imported_history_and_says_when_a_range_is_empty(page, many, live_server):  # noqa: F811
    url = live_server.url + reverse("dashboard:timeline", args=[many.entity.pk])
    page.goto(url)
    wait_for_plot(page, "#timeline-1-chart")
    expect(page.locator("#timeline-range")).to_contain_text("2023-")
    assert page.locator("#timeline-1-chart .bars .point path").count() > 0
    shoot(page, "many-agents-timeline")

    page.locator("#timeline-islands a", has_text="exchanges").click()
    wait_for_plot(page, "#timeline-1-chart")
    expect(page.locator("#timeline-range")).to_contain_text("one bar per second")
    bars = page.locator("#timeline-1-chart .bars .point path")
    assert bars.count() >= 4  # fifteen exchanges over five seconds, not one bar
    shoot(page, "many-agents-timeline-exchanges")

    page.goto(url + "?days=1")
    expect(page.locator("#timeline-1-empty")).to_contain_text("No exchanges between")
    expect(page.locator("#timeline-range")).to_contain_text("show its whole life")
    shoot(page, "many-agents-timeline-empty-range")


def test_graph_names_edges_marks_conflicts_and_finds_a_node(page, many, live_server):  # noqa: F811
    page.goto(live_server.url + reverse("dashboard:graph", args=[many.entity.pk]))
    wait_for_plot(page, "#graph-plot")
    labels = page.locator("#graph-plot .textpoint text")
    expect(labels.filter(has_text="pays with")).to_have_count(1)
    expect(labels.filter(has_text="⚠ based in")).to_have_count(2)
    expect(labels.filter(has_text="is (old)")).to_have_count(1)
    expect(page.locator("#graph-summary")).to_contain_text("2 contradicted")
    shoot(page, "many-agents-graph", phone=True)

    page.fill("#node-search", "okt")
    page.click("#graph-find button[type=submit]")
    expect(page.locator("#node-search-status")).to_contain_text("Okta")
    expect(page.locator("#node-panel h2")).to_have_text("Okta")
    expect(page.locator("#graph-plot .annotation-text")).to_contain_text("Okta")
    shoot(page, "many-agents-graph-found")

    page.fill("#node-search", "Lisbon")
    page.click("#graph-find button[type=submit]")
    expect(page.locator("#node-panel h2")).to_have_text("Lisbon")
    expect(page.locator("#node-panel .node-triples li.contradicted")).to_contain_text("based_in")

    page.fill("#node-search", "Narnia")
    page.click("#graph-find button[type=submit]")
    expect(page.locator("#node-search-status")).to_contain_text("No node named “Narnia”")


def test_process_cards_collapse_filter_and_count_raw_work(page, many, live_server):  # noqa: F811
    page.goto(live_server.url + reverse("dashboard:processes", args=[many.entity.pk]))
    wait_for_plot(page, "#flow-chart")
    cards = page.locator("#process-cards details.process")
    expect(cards).to_have_count(len(AGENTS))
    assert page.locator("#process-cards details.process[open]").count() == 0
    shoot(page, "many-agents-processes", phone=True)

    page.fill("#process-search", "review")
    expect(page.locator("#process-search-status")).to_contain_text(f"1 of {len(AGENTS)} processes match")
    reviewer = page.locator(f"#process-{many.raw_served_to}")
    expect(reviewer).to_be_visible()
    expect(reviewer).to_have_attribute("open", "")
    expect(reviewer.locator(".received")).to_contain_text(f"from {many.raw_source}, served before its augmentation")
    expect(reviewer).not_to_contain_text("Nothing from other processes")
    expect(page.locator("#process-billing_agent")).to_be_hidden()
    shoot(page, "many-agents-processes-search")

    page.fill("#process-search", "")
    page.click("#process-tools [data-cards=open]")
    assert page.locator("#process-cards details.process[open]").count() == len(AGENTS)
    page.click("#process-tools [data-cards=close]")
    assert page.locator("#process-cards details.process[open]").count() == 0
    page.locator("#process-ops_agent summary").click()
    expect(page.locator("#process-ops_agent")).to_have_attribute("open", "")

    sankey_labels = page.locator("#flow-chart .sankey-node .node-label")
    assert sankey_labels.count() >= len(AGENTS)
    assert "(wrote)" not in (sankey_labels.first.text_content() or "")
    page.locator("#flow-chart").screenshot(path=str(_screenshot("many-agents-sankey")))
    page.emulate_media(color_scheme="dark")
    page.reload()
    wait_for_plot(page, "#flow-chart")
    shoot(page, "many-agents-processes-dark")


def _screenshot(name: str):
    from tests.dashboard.test_browser import SCREENSHOTS

    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    return SCREENSHOTS / f"{name}.png"

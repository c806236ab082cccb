"""The dashboard in headless Chromium against a live server, on data written through the services.

Screenshots of every page land in build/screenshots/ (desktop 1280 px, and a phone width for some).
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from django.urls import reverse
from playwright.sync_api import Page, expect, sync_playwright

from memory.services.augmentation import job_augment
from tests.dashboard.conftest import add_contradiction, add_graph, build_support_handoff, call

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SCREENSHOTS = Path(__file__).resolve().parents[2] / "build" / "screenshots"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
GRAPH = [
    ("Customer 456", "pays_with", "Visa card"),
    ("Customer 456", "lives_in", "Lisbon"),
    ("Customer 456", "reported", "double charge"),
    ("double charge", "refunded_by", "billing team"),
    ("Customer 456", "reported", "login failure"),
    ("login failure", "caused_by", "bounced reset email"),
]


@pytest.fixture(scope="module")
def browser():
    if not Path("/usr/bin/chromium").exists():
        pytest.skip("Browser tests need /usr/bin/chromium (make browser).")
    # Playwright's sync API keeps an event loop in this thread; the test's own ORM calls are still
    # plain synchronous code, so Django's async-safety guard does not apply to them.
    previous = os.environ.get("DJANGO_ALLOW_ASYNC_UNSAFE")
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
        yield browser
        browser.close()
    if previous is None:
        os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)


@pytest.fixture
def demo(tenant, staff_member):
    handoff = build_support_handoff(tenant)
    add_graph(handoff.entity, "triage_agent", GRAPH[:3])
    add_graph(handoff.entity, "billing_agent", GRAPH[3:4])
    add_graph(handoff.entity, "technical_agent", GRAPH[4:])
    add_contradiction(handoff.entity)
    return handoff


@pytest.fixture
def page(browser, live_server, staff_member) -> Page:
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.set_default_timeout(15_000)
    page.goto(live_server.url + "/")
    page.fill("#id_username", "lead")
    page.fill("#id_password", "lead-pass-1")
    page.click("form [type=submit]")
    page.wait_for_url("**/tenants/**")
    yield page
    context.close()


def shoot(page: Page, name: str, *, phone: bool = False) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)
    if phone:
        page.set_viewport_size({"width": 390, "height": 844})
        page.wait_for_timeout(300)
        page.screenshot(path=str(SCREENSHOTS / f"{name}-phone.png"), full_page=True)
        page.set_viewport_size({"width": 1280, "height": 900})


def wait_for_plot(page: Page, selector: str) -> None:
    page.wait_for_selector(f"{selector}[data-rendered='1'] .main-svg")


def test_login_lands_on_the_overview_with_the_handoff_gap(page, demo, live_server):
    expect(page.locator("h1")).to_contain_text("Overview of acme")
    expect(page.locator("body")).to_contain_text("customer_456")
    expect(page.locator("body")).to_contain_text("had not been augmented yet when technical_agent recalled")
    wait_for_plot(page, "#overview-trend-chart")
    shoot(page, "overview", phone=True)
    page.emulate_media(color_scheme="dark")
    page.reload()
    wait_for_plot(page, "#overview-trend-chart")
    shoot(page, "overview-dark")


def test_the_overview_refreshes_itself_when_an_agent_writes(page, demo, live_server):
    page.reload()  # the page logged in before the demo data was written
    exchanges = page.locator(".card", has_text="exchanges in range").locator(".value")
    before = int(exchanges.inner_text())
    page.evaluate("window.memoriSamePage = true")  # lost if the page reloads

    call(demo.tenant, process="qa_agent", user="Did the refund reach the Visa card?", assistant="Yes, today.")

    expect(exchanges).to_have_text(str(before + 1), timeout=20_000)
    assert page.evaluate("window.memoriSamePage === true")
    expect(page.locator("[data-live-status]")).to_contain_text("Updated")
    wait_for_plot(page, "#overview-trend-chart")  # the redrawn chart is drawn again


def test_graph_explorer_renders_filters_and_shows_a_nodes_triples(page, demo, live_server):
    page.goto(live_server.url + reverse("dashboard:graph", args=[demo.entity.pk]))
    wait_for_plot(page, "#graph-plot")
    all_summary = page.inner_text("#graph-summary")
    assert page.locator("#graph-plot .scatterlayer .point").count() > 5
    shoot(page, "graph", phone=True)

    page.select_option("#process", "technical_agent")
    page.click("#graph-filters button[type=submit]")
    page.wait_for_url("**process=technical_agent**")
    wait_for_plot(page, "#graph-plot")
    assert page.inner_text("#graph-summary") != all_summary
    expect(page.locator("#graph-summary")).to_contain_text("Showing 2 relations")

    page.goto(live_server.url + reverse("dashboard:graph", args=[demo.entity.pk]) + "?q=login")
    wait_for_plot(page, "#graph-plot")
    nodes = page.locator("#graph-plot .scatterlayer .trace:last-child .point")
    for index in range(nodes.count()):
        box = nodes.nth(index).bounding_box()
        page.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
        page.mouse.click(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
        page.wait_for_timeout(400)
        if page.locator("#node-panel h2").count() and page.inner_text("#node-panel h2") == "login failure":
            break
    expect(page.locator("#node-panel h2")).to_have_text("login failure")
    expect(page.locator("#node-panel .node-triples")).to_contain_text("caused_by")
    shoot(page, "graph-node-clicked")


def test_process_view_timeline_and_sessions(page, demo, live_server):
    page.goto(live_server.url + reverse("dashboard:processes", args=[demo.entity.pk]))
    wait_for_plot(page, "#flow-chart")
    expect(page.locator("#process-billing_agent")).to_contain_text("Received from other processes")
    shoot(page, "processes", phone=True)
    page.emulate_media(color_scheme="dark")
    page.reload()
    wait_for_plot(page, "#flow-chart")
    shoot(page, "processes-dark")
    page.emulate_media(color_scheme="light")

    page.goto(live_server.url + reverse("dashboard:timeline", args=[demo.entity.pk]))
    wait_for_plot(page, "#growth-chart")
    page.fill("#as_of", "2099-01-01T00:00:00")
    page.click("form.filters button[type=submit]")
    expect(page.locator("#as-of")).to_contain_text("What customer_456 knew at")
    shoot(page, "timeline")

    page.goto(live_server.url + reverse("dashboard:sessions", args=[demo.entity.pk]))
    expect(page.locator("table")).to_contain_text("technical_agent")
    shoot(page, "sessions")

    page.goto(live_server.url + reverse("dashboard:session", args=[demo.technical.session_id]))
    expect(page.locator("body")).to_contain_text("pending exchange")
    shoot(page, "session", phone=True)


def test_an_open_session_updates_when_its_augmentation_finishes(page, demo, live_server):
    page.goto(live_server.url + reverse("dashboard:session", args=[demo.late_triage.session_id]))
    last_turn = page.locator(f"#exchange-{demo.late_triage.pk} .produced")
    expect(last_turn).to_contain_text("queued")
    page.evaluate("window.memoriSamePage = true")  # lost if the page reloads
    job_augment(demo.late_triage.augmentation_job.pk)
    expect(last_turn).to_contain_text("done", timeout=20_000)
    assert page.evaluate("window.memoriSamePage === true")


def test_an_open_session_shows_a_new_turn_without_a_reload(page, demo, live_server):
    page.goto(live_server.url + reverse("dashboard:session", args=[demo.triage.session_id]))
    page.evaluate("window.memoriSamePage = true")
    turns = page.locator("#session-turns [id^=exchange-]")
    before = turns.count()

    newest = call(
        demo.tenant,
        process="triage_agent",
        user="Is my account unlocked now?",
        assistant="Yes, the account is unlocked.",
        session_id=str(demo.triage.session.uuid),
    )

    expect(page.locator(f"#exchange-{newest.pk}")).to_contain_text("Is my account unlocked now?", timeout=20_000)
    assert turns.count() == before + 1
    assert page.evaluate("window.memoriSamePage === true")


def test_gaps_contradictions_playground_and_memory_pages(page, demo, live_server):
    page.goto(live_server.url + reverse("dashboard:gaps", args=[demo.entity.pk]))
    expect(page.locator("#gap-list")).to_contain_text("1 exchange by triage_agent had not been augmented yet")
    shoot(page, "gaps", phone=True)

    page.goto(live_server.url + reverse("dashboard:contradictions", args=[demo.entity.pk]))
    expect(page.locator(".contradiction").first).to_contain_text("billing_agent")
    shoot(page, "contradictions")
    page.fill(".keep-both input[name=note]", "five days for Visa, ten for bank transfers")
    page.click(".keep-both button[type=submit]")
    expect(page.locator(".flash")).to_contain_text("Resolved")
    expect(page.locator("body")).to_contain_text("No open contradictions")
    page.select_option("#status", "all")
    page.click(".filters button[type=submit]")
    expect(page.locator(".contradiction").first).to_contain_text("five days for Visa, ten for bank transfers")
    shoot(page, "contradictions-resolved")

    page.goto(live_server.url + reverse("dashboard:playground", args=[demo.tenant.pk]))
    page.fill("#entity-input", "customer_456")
    page.fill("#process-input", "billing_agent")
    page.fill("#query-input", "double charge on the Visa card")
    page.click("#playground-form button[type=submit]")
    expect(page.locator("#recall-block")).to_contain_text("memori_context")
    shoot(page, "playground")

    page.locator("#recall-result a").first.click()
    expect(page.locator("h1")).to_contain_text("Memory #")
    expect(page.locator("body")).to_contain_text("Recall history")
    shoot(page, "memory")

    page.goto(live_server.url + reverse("dashboard:entities", args=[demo.tenant.pk]))
    expect(page.locator("table")).to_contain_text("customer_456")
    shoot(page, "entities", phone=True)

"""The handoff thread in headless Chromium: on the demo's support handoff and on a 12-agent burst, an
operator follows a received item to the call that produced it and sees gaps and contradictions
marked where they happened. Screenshots land in build/screenshots/ (thread-*.png)."""

from __future__ import annotations

import re

import pytest
from django.urls import reverse
from playwright.sync_api import Page, expect

from memory.models import Exchange
from memory.services.augmentation import job_augment
from tests.dashboard import test_browser
from tests.dashboard.conftest import call
from tests.dashboard.flagged import FLAGGED_QUESTION, add_superseded
from tests.dashboard.test_browser import SCREENSHOTS, shoot

# The browser tests' fixtures: Chromium once per module, a logged-in page, the demo's support handoff.
browser, page, demo = test_browser.browser, test_browser.page, test_browser.demo

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

FINDINGS = [
    ("research_agent", "Which vector databases did you compare?", "Qdrant handles two million vectors per node."),
    ("pricing_agent", "What does the hosted plan cost?", "The hosted plan costs 49 dollars per month."),
    ("security_agent", "How are tokens signed?", "Access tokens are signed with Ed25519 keys."),
    ("infra_agent", "Where does the cluster run?", "The cluster runs in the Frankfurt region."),
    ("legal_agent", "Which licence applies?", "The SDK ships under the Apache 2.0 licence."),
    ("support_agent", "What do customers complain about?", "Customers report slow exports above ten thousand rows."),
    ("sales_agent", "Who signed this week?", "Globex signed a three year contract on Tuesday."),
    ("docs_agent", "What is missing from the docs?", "The migration guide lacks a rollback section."),
    ("qa_agent", "Did the nightly tests pass?", "The nightly suite failed on the export timeout test."),
    ("data_agent", "How big is the warehouse?", "The warehouse holds nine terabytes of events."),
    ("design_agent", "What changed in the dashboard?", "The dashboard got a dark theme in March."),
    ("ops_agent", "What paged on call last night?", "The export worker ran out of memory at 2 am."),
]


def open_thread(page: Page, live_server, entity, query: str = "") -> None:
    page.goto(live_server.url + reverse("dashboard:thread", args=[entity.pk]) + query)
    expect(page.locator("h1")).to_contain_text("Handoff thread of")


def test_the_demo_thread_follows_a_handoff_and_marks_gaps_and_contradictions(page, demo, live_server):
    asked = call(demo.tenant, process="qa_agent", user=FLAGGED_QUESTION, assistant="Five to ten days; Porto.")
    page.goto(live_server.url + reverse("dashboard:sessions", args=[demo.entity.pk]))
    page.locator("nav.subnav a", has_text="Thread").click()
    expect(page.locator("h1")).to_contain_text("Handoff thread of customer_456")
    expect(page.locator("nav.subnav a[aria-current=page]")).to_have_text("Thread")

    # The technical agent's call: a pending-context gap, and triage's raw work received with its source.
    technical = page.locator(f"#call-{demo.technical.pk}")
    expect(technical.locator(".call-process")).to_have_text("technical_agent")
    expect(technical.locator(".markers")).to_contain_text("gap: pending")
    expect(technical.locator(".call-received")).to_contain_text("raw exchange")
    expect(technical.locator(".call-received")).to_contain_text("password reset email")
    # The QA agent's call was given one side of an open contradiction: marked on the call and the item.
    qa = page.locator(f"#call-{asked.pk}")
    expect(qa.locator(".markers")).to_contain_text("given 1 contradicted")
    expect(qa.locator(".markers")).to_contain_text("gap: contradiction")
    expect(qa.locator(".flag-contradicted").first).to_be_visible()
    shoot(page, "thread-demo", phone=True)

    # Follow the raw item to the call that produced it: triage's second call, highlighted.
    technical.locator(".received-item", has_text="raw exchange").locator("a.source-call").click()
    page.wait_for_url(re.compile(rf"\?call={demo.late_triage.pk}#call-{demo.late_triage.pk}$"))
    target = page.locator(f"#call-{demo.late_triage.pk}")
    expect(target).to_have_class(re.compile(r"\bis-target\b"))
    expect(target.locator(".asked")).to_contain_text("password reset email never arrives")
    expect(target.locator(".call-process")).to_have_text("triage_agent")
    expect(target).to_be_in_viewport()
    shoot(page, "thread-demo-followed")

    # Filters: one marker kind, then one process.
    open_thread(page, live_server, demo.entity)
    page.select_option("#thread-marker", "gap")
    page.click("#thread-filters button[type=submit]")
    page.wait_for_url("**marker=gap**")
    expect(page.locator(".thread-call")).to_have_count(2)  # technical (pending) and qa (contradiction)
    page.select_option("#thread-marker", "")
    page.select_option("#thread-process", "billing_agent")
    page.click("#thread-filters button[type=submit]")
    page.wait_for_url("**process=billing_agent**")
    expect(page.locator(".thread-call .call-process")).to_have_text(["billing_agent"])


def test_a_superseded_fact_given_to_a_call_is_marked(page, demo, live_server):
    stale, _ = add_superseded(demo.entity)
    asked = call(demo.tenant, process="qa_agent", user="What is the billing address in Lisbon?", assistant="Porto.")
    open_thread(page, live_server, demo.entity, f"?call={asked.pk}")
    qa = page.locator(f"#call-{asked.pk}")
    expect(qa.locator(".markers")).to_contain_text("given 1 superseded")
    flagged = qa.locator(".received-item", has=page.locator(".flag-superseded"))
    expect(flagged).to_contain_text("Rua Augusta")
    expect(flagged).to_contain_text("already replaced on")
    shoot(page, "thread-superseded")


def test_a_twelve_agent_burst_reads_as_one_thread(page, demo, live_server):
    """Twelve agents report at once, four of them not augmented yet when the synthesis agent asks."""
    burst = [
        call(demo.tenant, process=process, user=question, assistant=finding, augment=index < 8)
        for index, (process, question, finding) in enumerate(FINDINGS)
    ]
    synthesis = call(demo.tenant, process="synthesis_agent", user="Summarize what the team found.", assistant="…")
    open_thread(page, live_server, demo.entity)
    card = page.locator(f"#call-{synthesis.pk}")
    # the four burst agents not augmented yet, and the demo's late triage call
    expect(card.locator(".markers")).to_contain_text("raw context from 5 calls")
    received = card.locator(".call-received summary")
    heard_from = received.inner_text()
    reached = [process for process, _, _ in FINDINGS if process in heard_from]
    assert len(reached) >= 10, heard_from  # the burst's agents, by name, in one line
    shoot(page, "thread-burst", phone=True)
    card.scroll_into_view_if_needed()
    card.screenshot(path=str(SCREENSHOTS / "thread-burst-synthesis.png"))

    # A memory the synthesis agent got from an augmented agent leads to that agent's call.
    if card.locator(".call-received details").get_attribute("open") is None:
        received.click()  # a long list without flags opens on demand
    item = card.locator(".received-item", has_text="Frankfurt")
    expect(item).to_have_count(1)
    item.locator("a.source-call", has_text="infra_agent").click()
    infra = burst[3]
    page.wait_for_url(re.compile(rf"\?call={infra.pk}#call-{infra.pk}$"))
    expect(page.locator(f"#call-{infra.pk} .asked")).to_contain_text("Where does the cluster run?")
    expect(page.locator(f"#call-{infra.pk} .call-added")).to_contain_text("Frankfurt")
    shoot(page, "thread-burst-followed")

    # Live: the open latest page shows the augmentation finishing and a new call, without a reload.
    open_thread(page, live_server, demo.entity)
    page.evaluate("window.memoriSamePage = true")
    late = burst[-1]
    expect(page.locator(f"#call-{late.pk} .call-added")).to_contain_text("augmentation queued")
    synthesis_list = page.locator(f"#call-{synthesis.pk} .call-received details")
    was_open = synthesis_list.get_attribute("open") is not None
    synthesis_list.locator("summary").click()  # the operator opens or closes a list: a refresh keeps it so
    job_augment(Exchange.objects.get(pk=late.pk).augmentation_job.pk)
    expect(page.locator(f"#call-{late.pk} .call-added")).to_contain_text("memory at 2 am", timeout=20_000)
    newest = call(demo.tenant, process="ops_agent", user="Is the export worker healthy now?", assistant="Yes.")
    expect(page.locator(f"#call-{newest.pk}")).to_contain_text("Is the export worker healthy now?", timeout=20_000)
    assert page.evaluate("window.memoriSamePage === true")
    assert (synthesis_list.get_attribute("open") is not None) is not was_open  # refreshed twice, as chosen


def test_session_and_playground_flag_what_a_call_was_given(page, demo, live_server):
    stale, current = add_superseded(demo.entity)
    asked = call(demo.tenant, process="qa_agent", user=FLAGGED_QUESTION, assistant="Five to ten days; Porto.")
    page.goto(live_server.url + reverse("dashboard:session", args=[asked.session_id]))
    turn = page.locator(f"#exchange-{asked.pk}")
    expect(turn.locator("details.injected summary")).to_contain_text("1 superseded")
    expect(turn.locator("details.injected summary")).to_contain_text("1 contradicted")
    expect(turn.locator(".received-item", has_text="Rua Augusta")).to_contain_text("already replaced on")
    expect(turn.locator(".flag-contradicted").first).to_be_visible()
    shoot(page, "session-flags")

    # The technical agent's turn got triage's raw work: an item with its source, not "0 items".
    page.goto(live_server.url + reverse("dashboard:session", args=[demo.technical.session_id]))
    technical = page.locator(f"#exchange-{demo.technical.pk}")
    expect(technical.locator("details.injected summary")).to_contain_text("(1 raw from other agents)")
    raw = technical.locator(".received-item", has_text="raw exchange")
    expect(raw).to_contain_text("password reset email")
    raw.locator("a.source-call", has_text="triage_agent").click()
    page.wait_for_url(re.compile(rf"\?call={demo.late_triage.pk}#call-{demo.late_triage.pk}$"))
    expect(page.locator(f"#call-{demo.late_triage.pk}")).to_have_class(re.compile(r"\bis-target\b"))

    page.goto(live_server.url + reverse("dashboard:playground", args=[demo.tenant.pk]))
    page.fill("#entity-input", "customer_456")
    page.fill("#process-input", "qa_agent")
    page.fill("#query-input", FLAGGED_QUESTION)
    page.click("#playground-form button[type=submit]")
    result = page.locator("#recall-result")
    expect(result.locator(".note")).to_contain_text("1 superseded item and 1 contradicted item would be injected")
    expect(result.locator(".received-item", has_text="Rua Augusta")).to_contain_text("already replaced on")
    expect(result.locator(".received-item", has_text="raw exchange")).to_contain_text("triage_agent")
    shoot(page, "playground-flags")

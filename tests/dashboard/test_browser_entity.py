"""In headless Chromium: entering an entity lands on its summary, whose links lead on; deleting a side of
a contradiction goes through a confirmation page (plain forms, no script). Screenshots in build/screenshots/."""

from __future__ import annotations

import pytest
from django.urls import NoReverseMatch, reverse
from playwright.sync_api import expect

from memory.models import Contradiction, Memory
from tests.dashboard.test_browser import browser, demo, page, shoot  # noqa: F401 - the module's fixtures

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_an_entity_opens_on_its_summary_whose_links_lead_on(page, demo, live_server):  # noqa: F811
    page.goto(live_server.url + reverse("dashboard:entities", args=[demo.tenant.pk]))
    page.get_by_role("link", name="customer_456", exact=True).click()

    expect(page.locator("h1")).to_have_text("customer_456")
    expect(page.locator("#entity-counts")).to_contain_text("Exchanges recorded")
    expect(page.locator("#contributors")).to_contain_text("triage_agent")
    expect(page.locator("#latest-gaps")).to_contain_text("had not been augmented yet when technical_agent recalled")
    expect(page.locator("#open-contradictions")).to_contain_text("within ten business days")
    shoot(page, "entity-summary", phone=True)

    try:
        thread = reverse("dashboard:thread", args=[demo.entity.pk])
    except NoReverseMatch:
        page.locator("#thread-intro a", has_text="Handoff gaps").click()
        expect(page).to_have_url(live_server.url + reverse("dashboard:gaps", args=[demo.entity.pk]))
    else:
        page.click("#thread-link")
        expect(page).to_have_url(live_server.url + thread)
    page.go_back()
    page.locator("#open-contradictions a", has_text="resolve").first.click()
    expect(page.locator("h1")).to_have_text("Where agents disagree")


def test_deleting_a_side_is_confirmed_on_its_own_page_first(page, demo, live_server):  # noqa: F811
    contradiction = Contradiction.objects.get(entity=demo.entity)
    page.goto(live_server.url + reverse("dashboard:contradictions", args=[demo.entity.pk]))
    section = page.locator(f"#contradiction-{contradiction.pk}")
    expect(section.locator("h2")).to_contain_text("billing_agent and technical_agent disagree")
    expect(section).to_contain_text("Said by: technical_agent")
    shoot(page, "contradictions-sides")

    section.get_by_role("button", name="Delete side B…").click()
    expect(page.locator("h1")).to_have_text("Delete side B?")
    expect(page.locator("#confirm-delete")).to_contain_text("within ten business days")
    shoot(page, "contradiction-confirm-delete")
    assert Memory.objects.filter(pk=contradiction.memory_b_id).exists()  # asking deleted nothing

    page.get_by_role("link", name="Cancel").click()
    expect(page.locator(f"#contradiction-{contradiction.pk} .badge.bad")).to_have_text("open")
    page.locator(f"#contradiction-{contradiction.pk}").get_by_role("button", name="Delete side B…").click()
    page.fill("#note", "billing owns refunds")
    page.get_by_role("button", name="Delete side B", exact=True).click()

    expect(page.locator(".flash")).to_contain_text("Resolved")
    assert not Memory.objects.filter(pk=contradiction.memory_b_id).exists()
    contradiction.refresh_from_db()
    assert contradiction.resolved_at is not None and contradiction.resolution_note.endswith("billing owns refunds")

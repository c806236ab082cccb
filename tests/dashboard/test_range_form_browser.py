"""The overview's range form in Chromium: choosing a preset leaves a custom range, and back."""

from __future__ import annotations

import pytest
from django.urls import reverse
from playwright.sync_api import expect

from tests.dashboard.test_browser import browser, page  # noqa: F401  (the shared Chromium fixtures)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_a_preset_chosen_over_a_custom_range_replaces_it(page, live_server, tenant):  # noqa: F811
    overview = live_server.url + reverse("dashboard:overview", args=[tenant.pk])
    page.goto(overview + "?start=2024-01-01&end=2024-01-31")
    expect(page.locator("#days option:checked")).to_have_text("Custom")

    page.select_option("#days", "30")

    page.wait_for_url("**days=30**")
    assert "start=" not in page.url
    expect(page.locator("#days option:checked")).to_have_text("Last 30 days")
    expect(page.locator("#end")).to_have_value("")  # a preset, not a custom range, is shown

    page.fill("#start", "2024-02-01")
    page.fill("#end", "2024-02-29")
    page.locator("form.filters button[type=submit]").click()
    page.wait_for_url("**end=2024-02-29**")
    expect(page.locator("#days option:checked")).to_have_text("Custom")

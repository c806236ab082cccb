"""Every dashboard page and the admin work under the Content-Security-Policy, in headless Chromium:
no violation reported, no script error, and every Plotly chart drawn."""

from __future__ import annotations

import pytest
from django.contrib import admin
from django.urls import reverse
from playwright.sync_api import Page

from memory.models import Memory
from tests.dashboard.conftest import add_contradiction, add_graph, build_support_handoff
from tests.dashboard.test_browser import browser  # noqa: F401  (the shared Chromium fixture)
from tests.support.dashboard_urls import dashboard_urls

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

# Records what the browser reports, installed before any page script runs (not subject to the policy).
WATCH = """
window.__violations = [];
document.addEventListener("securitypolicyviolation", function (e) {
  var where = e.sourceFile + ":" + e.lineNumber;
  window.__violations.push(e.violatedDirective + " blocked " + (e.blockedURI || "inline") + " at " + where);
});
"""


@pytest.fixture
def superuser(db, django_user_model, tenant):
    user = django_user_model.objects.create_superuser(username="root", password="root-pass-1")
    tenant.members.add(user)
    return user


@pytest.fixture
def watched(browser, live_server, superuser):  # noqa: F811
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    context.add_init_script(WATCH)
    page = context.new_page()
    page.set_default_timeout(15_000)
    problems: list[str] = []
    page.on("console", lambda m: problems.append(m.text) if "Content Security Policy" in m.text else None)
    page.on("pageerror", lambda error: problems.append(f"script error: {error}"))
    page.goto(live_server.url + "/admin/login/")
    page.fill("#id_username", "root")
    page.fill("#id_password", "root-pass-1")
    page.click("[type=submit]")
    page.wait_for_url("**/admin/")
    yield page, problems
    context.close()


def _admin_urls() -> list[str]:
    urls = [reverse("admin:index")]
    for model in admin.site._registry:
        meta = model._meta
        urls.append(reverse(f"admin:{meta.app_label}_{meta.model_name}_changelist"))
        first = model._default_manager.order_by("pk").first()
        if first is not None:
            urls.append(reverse(f"admin:{meta.app_label}_{meta.model_name}_change", args=[first.pk]))
    return urls


def _open(page: Page, url: str) -> int:
    """Opens the page, waits for each of its charts to be drawn; returns how many there were."""
    response = page.goto(url)
    assert response.status == 200, url
    page.wait_for_load_state("load")
    charts = page.locator("[data-figure]")
    for index in range(charts.count()):
        chart = charts.nth(index)
        chart.locator(".main-svg").first.wait_for()  # Plotly drew it
        assert chart.get_attribute("data-rendered") == "1"
    return charts.count()


def test_every_page_works_under_the_content_security_policy(watched, live_server, tenant):
    page, problems = watched
    handoff = build_support_handoff(tenant)
    add_graph(handoff.entity, "triage_agent", [("Customer 456", "pays_with", "Visa card"), ("Visa", "is", "card")])
    add_contradiction(handoff.entity)
    assert Memory.objects.filter(entity=handoff.entity).exists()
    charts = 0
    failures = {}
    for url in dashboard_urls(handoff, include_post_only=False) + _admin_urls():
        charts += _open(page, live_server.url + url)
        reported = problems + page.evaluate("window.__violations")
        if reported:
            failures[url] = list(reported)
        problems.clear()

    assert failures == {}
    assert charts >= 5  # overview, graph, processes (2), timeline: the charts were there and drawn
    policy = page.goto(live_server.url + reverse("dashboard:home")).all_headers()["content-security-policy"]
    assert "script-src 'self'" in policy and "unsafe-eval" not in policy.split("script-src")[1].split(";")[0]


def test_an_inline_script_is_blocked(watched, live_server):
    """The policy is on (not only declared): a script injected into the page is refused and reported."""
    page, problems = watched
    page.goto(live_server.url + reverse("admin:index"))
    page.evaluate("""() => { const s = document.createElement('script'); s.textContent = 'window.__ran = 1';
                            document.body.appendChild(s); }""")
    page.wait_for_timeout(200)
    assert page.evaluate("window.__ran === undefined")
    assert any("script-src" in violation for violation in page.evaluate("window.__violations"))

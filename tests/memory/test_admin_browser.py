"""The admin in headless Chromium: a staff member of acme logs in and sees only acme, however they
navigate (lists, filters, a globex row's address typed in). Screenshots land in build/screenshots/
(admin-*.png)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from django.urls import reverse
from playwright.sync_api import expect

from memory.models import Memory
from memory.services.audit import Actor
from memory.services.editing import memory_update
from memory.services.storing import Mention, triple_mention
from tests.dashboard.test_browser import browser, shoot  # noqa: F401 - the browser tests' fixtures
from tests.support.tenant_world import build_tenant_world, staff_member_of

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

MAY_7 = datetime(2023, 5, 7, 9, 0, tzinfo=UTC)


def test_a_staff_member_of_one_tenant_sees_only_that_tenant_in_the_admin(browser, live_server, tenant, other_tenant):  # noqa: F811
    acme = build_tenant_world(tenant, "acme")
    globex = build_tenant_world(other_tenant, "globex")
    staff_member_of(tenant, "acme_lead", password="acme-lead-pass-1")
    memory_update(memory=acme.memory, actor=Actor(label="user:acme_lead"), content="Acme ships on Monday morning")
    for city, at in (("Lisbon", MAY_7), ("Porto", MAY_7 + timedelta(days=30))):
        mention = Mention(process=acme.process, mentioned_at=at, source="api")
        triple_mention(entity=acme.entity, subject="Acme HQ", predicate="located_in", obj=city, mention=mention)
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.set_default_timeout(15_000)

    page.goto(live_server.url + reverse("admin:login"))
    page.fill("#id_username", "acme_lead")
    page.fill("#id_password", "acme-lead-pass-1")
    page.click("form [type=submit]")
    page.wait_for_url(live_server.url + reverse("admin:index"))

    page.goto(live_server.url + reverse("admin:memory_memory_changelist"))
    expect(page.locator("#result_list")).to_contain_text("Acme keeps its launch codes")
    expect(page.locator("#changelist-filter")).to_contain_text("acme_spy_agent")
    expect(page.locator("body")).not_to_contain_text("lobex")
    shoot(page, "admin-memories-of-one-tenant")

    page.goto(live_server.url + reverse("admin:memory_triple_changelist") + "?validity=superseded")
    expect(page.locator("#result_list tbody tr")).to_have_count(1)
    expect(page.locator("#result_list")).to_contain_text("– 6 Jun 2023 09:00, superseded by “Acme HQ located in Porto”")
    shoot(page, "admin-superseded-triples")

    page.goto(live_server.url + reverse("admin:memory_tenant_changelist"))
    expect(page.locator("#result_list tbody tr")).to_have_count(1)
    expect(page.locator("#result_list")).to_contain_text("acme")

    page.goto(live_server.url + reverse("admin:memory_memory_change", args=[globex.memory.pk]))
    expect(page.locator("body")).to_contain_text("Not Found")
    expect(page.locator("body")).not_to_contain_text("lobex")

    page.goto(live_server.url + reverse("admin:memory_memory_change", args=[acme.memory.pk]))
    trail = page.locator("#audit-trail")
    expect(trail).to_contain_text("Operator acme_lead edited memory “Acme ships on Monday morning”")
    expect(trail).to_contain_text("content: “Acme ships on Monday” → “Acme ships on Monday morning”")
    shoot(page, "admin-memory-audit-trail")

    page.goto(live_server.url + reverse("admin:memory_auditentry_changelist"))
    page.get_by_role("link", name="“Acme ships on Monday morning”").first.click()
    expect(page).to_have_url(live_server.url + reverse("admin:memory_memory_change", args=[acme.memory.pk]))
    assert Memory.objects.filter(pk=globex.memory.pk).exists()
    context.close()

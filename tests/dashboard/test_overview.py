from datetime import timedelta

from django.core.cache import caches
from django.urls import reverse
from django.utils import timezone

from dashboard.queries import exchange_activity, settled_buckets
from dashboard.web.periods import period_from_query
from memory.models import Memory
from tests.dashboard.conftest import XSS, add_memory


def test_it_requires_login(client, tenant):
    response = client.get(reverse("dashboard:overview", args=[tenant.pk]))
    assert response.status_code == 302
    assert response["Location"].startswith("/login/")


def test_home_redirects_to_the_members_tenant(member_client, tenant):
    response = member_client.get("/")
    assert response.status_code == 302
    assert response["Location"] == reverse("dashboard:overview", args=[tenant.pk])


def test_it_shows_counts_busy_entities_and_the_handoff_gap(member_client, handoff, django_assert_max_num_queries):
    with django_assert_max_num_queries(40):
        response = member_client.get(reverse("dashboard:overview", args=[handoff.tenant.pk]))
    assert response.status_code == 200
    stats = response.context["stats"]
    assert stats.exchanges == 4
    assert stats.recalls == 3  # the very first call had no entity to recall from yet
    assert stats.active_processes == 3
    assert stats.backlog == 1  # the late triage exchange was never augmented
    assert stats.recall_p50_ms is not None
    body = response.content.decode()
    assert "customer_456" in body
    assert "Latest handoff gaps" in body
    assert "technical_agent" in body
    assert "had not been augmented yet" in body


def test_other_tenants_overview_is_404(member_client, outsider_entity):
    response = member_client.get(reverse("dashboard:overview", args=[outsider_entity.tenant_id]))
    assert response.status_code == 404


def test_live_endpoint_reports_changes_only(member_client, handoff):
    url = reverse("dashboard:overview_live", args=[handoff.tenant.pk])
    first = member_client.get(url).json()
    assert first["changed"] is True
    assert "customer_456" in first["html"]
    again = member_client.get(url, {"since": first["version"]}).json()
    assert again == {"changed": False, "version": first["version"]}


def test_date_range_excludes_older_activity(member_client, handoff):
    response = member_client.get(
        reverse("dashboard:overview", args=[handoff.tenant.pk]), {"start": "2001-01-01", "end": "2001-01-31"}
    )
    assert response.context["stats"].exchanges == 0


def test_memory_text_is_escaped(member_client, tenant, handoff):
    add_memory(handoff.entity, "triage_agent", XSS)
    response = member_client.get(reverse("dashboard:overview_live", args=[tenant.pk]))
    assert "<script>alert" not in response.json()["html"]


def test_a_member_who_is_not_staff_can_log_in_on_the_dashboard_login(client, member, tenant):
    response = client.post(reverse("dashboard:login"), {"username": "operator", "password": "operator-pass-1"})
    assert response.status_code == 302
    assert client.get(reverse("dashboard:overview", args=[tenant.pk])).status_code == 200


def test_settled_days_come_from_the_cache_and_recent_activity_is_live(handoff):
    now = timezone.now()
    period = period_from_query({"days": "7"}, now=now)
    three_days_ago = now - timedelta(days=3)
    old = add_memory(handoff.entity, "triage_agent", "The customer moved to Porto last spring")
    Memory.objects.filter(pk=old.pk).update(first_seen_at=three_days_ago)
    memories = Memory.objects.filter(entity__tenant=handoff.tenant)

    def per_day(at=now):
        counts = settled_buckets.count_by_bucket(period, memories, "first_seen_at", key="test", now=at)
        return {row["bucket"].date(): row["n"] for row in counts.rows}, counts.cached_as_of

    first, first_as_of = per_day()
    late = add_memory(handoff.entity, "billing_agent", "The customer asked for paper invoices")
    Memory.objects.filter(pk=late.pk).update(first_seen_at=three_days_ago)  # a late write into a settled day
    add_memory(handoff.entity, "billing_agent", "The customer prefers email over phone")  # live: just now
    second, second_as_of = per_day()

    assert first[three_days_ago.date()] == 1 and second[three_days_ago.date()] == 1  # cached
    assert second[now.date()] == first[now.date()] + 1  # the current day is counted live
    assert first_as_of == second_as_of == now
    later = now + timedelta(seconds=settled_buckets.SETTLED_TTL + 1)
    third, third_as_of = per_day(later)  # stale: the week is recounted (REFRESH_PER_REQUEST days)
    assert third[three_days_ago.date()] == 2 and third_as_of == later
    caches["dashboard"].clear()
    assert per_day()[0][three_days_ago.date()] == 2


def test_stale_settled_days_are_recounted_a_few_at_a_time(handoff):
    now = timezone.now()
    period = period_from_query({"days": "30"}, now=now)
    memories = Memory.objects.filter(entity__tenant=handoff.tenant)
    settled_buckets.count_by_bucket(period, memories, "first_seen_at", key="test", now=now)
    early, recent = now - timedelta(days=28), now - timedelta(days=5)
    for when, content in ((early, "The customer opened the account in 2019"), (recent, "The customer has a dog")):
        late = add_memory(handoff.entity, "billing_agent", content)
        Memory.objects.filter(pk=late.pk).update(first_seen_at=when)
    later = now + timedelta(seconds=settled_buckets.SETTLED_TTL + 1)

    counts = settled_buckets.count_by_bucket(period, memories, "first_seen_at", key="test", now=later)

    per_day = {row["bucket"].date(): row["n"] for row in counts.rows}
    assert per_day.get(early.date()) == 1  # in the stalest week: recounted
    assert recent.date() not in per_day  # later in the range: served from the first count for now
    assert counts.cached_as_of == now  # and the page says how old that is


def test_the_page_says_when_cached_counts_were_taken(member_client, handoff):
    response = member_client.get(reverse("dashboard:overview", args=[handoff.tenant.pk]), {"days": "30"})
    assert response.context["cached_as_of"] is not None
    assert "at a time once 5 minutes old" in response.content.decode()


def test_exchanges_per_entity_are_the_same_counted_by_index_ranges_or_grouped(handoff, monkeypatch):
    now = timezone.now()
    counter = exchange_activity.exchange_counter(handoff.tenant.pk)
    by_ranges = counter("minute", now - timedelta(hours=1), now + timedelta(minutes=1))
    monkeypatch.setattr(exchange_activity, "MAX_RANGE_COUNTS", 0)  # too many (entity, bucket) pairs
    grouped = counter("minute", now - timedelta(hours=1), now + timedelta(minutes=1))

    def key(row):
        return row["bucket"], row["entity_id"]

    assert sorted(by_ranges, key=key) == sorted(grouped, key=key)
    assert sum(row["n"] for row in by_ranges) == 4
    triage, billing, technical = (
        handoff.entity.tenant.processes.get(external_id=name).pk
        for name in ("triage_agent", "billing_agent", "technical_agent")
    )
    assert {pk for row in by_ranges for pk in row["processes"]} == {triage, billing, technical}


def test_a_new_process_reuses_the_counts_another_process_took(member_client, handoff):
    url = reverse("dashboard:overview", args=[handoff.tenant.pk])
    first = member_client.get(url, {"days": "30"})
    caches["default"].clear()  # what a new web worker starts with; the dashboard's counts are shared files

    second = member_client.get(url, {"days": "30"})

    assert second.context["cached_as_of"] == first.context["cached_as_of"]  # not counted again
    assert second.context["stats"].exchanges == 4

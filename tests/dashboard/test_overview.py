from datetime import timedelta

from django.urls import reverse
from django.utils import timezone

from dashboard.queries.buckets import grouped_count
from dashboard.queries.exchange_activity import exchange_counts
from memory.models import Exchange, HourlyExchanges
from memory.services.activity_counts import hourly_exchanges_backfill
from memory.services.audit import Actor
from memory.services.forgetting import session_delete
from memory.services.recording import ExchangeInput, MessageInput, record_exchange
from tests.dashboard.conftest import ENTITY, XSS, add_memory


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


def _record(tenant, *, process: str, at, session_id=None):
    return record_exchange(
        tenant=tenant,
        data=ExchangeInput(
            entity_id=ENTITY,
            process_id=process,
            session_id=session_id,
            messages=[MessageInput(role="user", content="Any news on the refund?")],
            occurred_at=at,
        ),
    ).exchange


def _exchanges_in(member_client, tenant, **query) -> int:
    return member_client.get(reverse("dashboard:overview", args=[tenant.pk]), query).context["stats"].exchanges


def test_a_late_exchange_into_a_past_day_is_counted_at_once(member_client, handoff):
    before = _exchanges_in(member_client, handoff.tenant, days=7)
    three_days_ago = timezone.now() - timedelta(days=3)

    _record(handoff.tenant, process="billing_agent", at=three_days_ago)  # spooled by the SDK, delivered late

    assert _exchanges_in(member_client, handoff.tenant, days=7) == before + 1
    day = three_days_ago.date().isoformat()
    assert _exchanges_in(member_client, handoff.tenant, start=day, end=day) == 1


def test_forgetting_a_session_takes_its_exchanges_out_of_the_counts(member_client, handoff):
    session = handoff.triage.session
    in_session = session.exchanges.count()
    before = _exchanges_in(member_client, handoff.tenant, days=7)

    session_delete(session=session, actor=Actor(label="test"))

    assert _exchanges_in(member_client, handoff.tenant, days=7) == before - in_session


def test_exchanges_per_entity_from_hourly_counts_match_a_count_of_the_exchanges(handoff):
    now = timezone.now()
    for days, minutes in ((1, 7), (5, 0), (40, 59)):  # whole hours and parts of hours at both ends of a range
        _record(handoff.tenant, process="technical_agent", at=now - timedelta(days=days, minutes=minutes))
    exchanges = Exchange.objects.filter(entity__tenant=handoff.tenant)
    for granularity, start, end in (
        ("day", now - timedelta(days=90), now + timedelta(minutes=1)),
        ("hour", now - timedelta(days=2), now + timedelta(minutes=1)),
        ("minute", now - timedelta(hours=3), now + timedelta(minutes=1)),
        ("day", now - timedelta(days=40, minutes=30), now - timedelta(days=1, minutes=3)),
    ):
        counted = exchange_counts(handoff.tenant.pk, granularity, start, end)
        live = grouped_count(exchanges, "occurred_at", ("entity_id", "process_id"), granularity, start, end)
        per_bucket, processes = {}, {}
        for row in live:
            key = (row["bucket"], row["entity_id"])
            per_bucket[key] = per_bucket.get(key, 0) + row["n"]
            processes.setdefault(row["entity_id"], set()).add(row["process_id"])
        assert counted.per_bucket == per_bucket
        assert counted.processes == processes
        in_range = exchanges.filter(occurred_at__gte=start, occurred_at__lt=end).count()
        assert sum(per_bucket.values()) == in_range


def test_the_backfill_counts_what_recording_counted(handoff):
    _record(handoff.tenant, process="billing_agent", at=timezone.now() - timedelta(days=12))
    recorded = set(HourlyExchanges.objects.values_list("entity_id", "process_id", "hour", "exchanges"))
    HourlyExchanges.objects.all().delete()

    hourly_exchanges_backfill()

    assert set(HourlyExchanges.objects.values_list("entity_id", "process_id", "hour", "exchanges")) == recorded
    assert sum(row[3] for row in recorded) == 5


def test_another_tenants_exchanges_are_not_counted(member_client, handoff, outsider_entity):
    before = _exchanges_in(member_client, handoff.tenant, days=7)
    record_exchange(
        tenant=outsider_entity.tenant,
        data=ExchangeInput(
            entity_id=outsider_entity.external_id,
            process_id="billing_agent",
            messages=[MessageInput(role="user", content="Hello")],
        ),
    )
    assert _exchanges_in(member_client, handoff.tenant, days=7) == before

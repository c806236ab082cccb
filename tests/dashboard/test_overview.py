from django.urls import reverse

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

from datetime import timedelta

from django.urls import reverse
from django.utils import timezone

from memory.models import RecallEvent
from tests.dashboard.conftest import XSS, add_memory


def test_it_shows_contributions_and_recall_flow(member_client, handoff, django_assert_max_num_queries):
    with django_assert_max_num_queries(15):
        response = member_client.get(reverse("dashboard:processes", args=[handoff.entity.pk]))
    assert response.status_code == 200
    summaries = {summary.name: summary for summary in response.context["summaries"]}
    assert set(summaries) == {"triage_agent", "billing_agent", "technical_agent"}
    assert summaries["triage_agent"].contributed_total > 0
    flows = response.context["flows"]
    assert any(source == "triage_agent" and target == "billing_agent" for source, target, _ in flows)
    assert response.context["flow_figure"]["data"][0]["type"] == "sankey"
    billing_recalled = summaries["billing_agent"].recalled_from_others
    assert billing_recalled and billing_recalled[0]["memory__first_process__external_id"] == "triage_agent"


def test_another_tenants_process_view_is_404(member_client, outsider_entity):
    assert member_client.get(reverse("dashboard:processes", args=[outsider_entity.pk])).status_code == 404


def test_contributions_are_escaped(member_client, handoff):
    add_memory(handoff.entity, "triage_agent", XSS)
    response = member_client.get(reverse("dashboard:processes", args=[handoff.entity.pk]))
    assert b"<script>alert" not in response.content
    assert b"&lt;script&gt;alert" in response.content


def test_recall_flows_cover_the_chosen_range(member_client, handoff):
    RecallEvent.objects.filter(entity=handoff.entity, process__external_id="billing_agent").update(
        created_at=timezone.now() - timedelta(days=60)
    )
    url = reverse("dashboard:processes", args=[handoff.entity.pk])

    recent = member_client.get(url)  # the last 30 days by default
    whole_life = member_client.get(url, {"days": "all"})

    def billing_recalled_triage(response):
        return any(s == "triage_agent" and t == "billing_agent" for s, t, _ in response.context["flows"])

    assert not billing_recalled_triage(recent)
    assert billing_recalled_triage(whole_life)
    assert billing_recalled_triage(member_client.get(url, {"days": "90"}))

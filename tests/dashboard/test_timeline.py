from datetime import timedelta

from django.urls import reverse
from django.utils import timezone

from memory.models import Memory
from tests.dashboard.conftest import XSS, add_memory


def test_it_stacks_activity_by_process(member_client, handoff, django_assert_max_num_queries):
    with django_assert_max_num_queries(15):
        response = member_client.get(reverse("dashboard:timeline", args=[handoff.entity.pk]))
    assert response.status_code == 200
    titles = [figure["layout"]["title"]["text"] for _, figure in response.context["figures"]]
    assert titles == ["Memories first seen", "Exchanges", "Recalls", "Augmentations finished"]
    exchanges = response.context["figures"][1][1]
    assert {trace["name"] for trace in exchanges["data"]} == {"triage_agent", "billing_agent", "technical_agent"}
    assert sum(sum(trace["y"]) for trace in exchanges["data"]) == 4


def test_as_of_shows_memory_as_it_stood_then(member_client, handoff):
    before = timezone.now() + timedelta(seconds=1)  # the picker has one-second precision
    later = add_memory(handoff.entity, "billing_agent", "The refund was approved by finance")
    Memory.objects.filter(pk=later.pk).update(first_seen_at=before + timedelta(hours=1))
    response = member_client.get(
        reverse("dashboard:timeline", args=[handoff.entity.pk]),
        {"as_of": timezone.localtime(before).strftime("%Y-%m-%dT%H:%M:%S")},
    )
    shown = [memory.content for memory in response.context["page_obj"]]
    assert shown and "The refund was approved by finance" not in shown
    assert response.context["as_of"].exchanges == 4


def test_another_tenants_timeline_is_404(member_client, outsider_entity):
    assert member_client.get(reverse("dashboard:timeline", args=[outsider_entity.pk])).status_code == 404


def test_memories_as_of_are_escaped(member_client, handoff):
    add_memory(handoff.entity, "triage_agent", XSS)
    response = member_client.get(
        reverse("dashboard:timeline", args=[handoff.entity.pk]),
        {"as_of": (timezone.localtime() + timedelta(minutes=5)).strftime("%Y-%m-%dT%H:%M:%S")},
    )
    assert b"<script>alert" not in response.content

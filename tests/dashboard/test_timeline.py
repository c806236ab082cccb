from datetime import timedelta

from django.urls import reverse
from django.utils import timezone

from memory.models import Memory
from tests.dashboard.conftest import XSS, add_memory


def test_it_stacks_activity_by_process(member_client, handoff, django_assert_max_num_queries):
    with django_assert_max_num_queries(15):
        response = member_client.get(reverse("dashboard:timeline", args=[handoff.entity.pk]))
    assert response.status_code == 200
    titles = [figure["figure"]["layout"]["title"]["text"] for figure in response.context["figures"]]
    assert titles == ["Memories first seen", "Exchanges", "Recalls", "Augmentations finished"]
    exchanges = response.context["figures"][1]["figure"]
    assert {trace["name"] for trace in exchanges["data"]} == {"triage_agent", "billing_agent", "technical_agent"}
    assert sum(sum(trace["y"]) for trace in exchanges["data"]) == 4


def test_as_of_shows_memory_as_it_stood_then(member_client, handoff):
    before = timezone.now() + timedelta(seconds=1)  # the picker has one-second precision
    later = add_memory(handoff.entity, "billing_agent", "The refund was approved by finance")
    Memory.objects.filter(pk=later.pk).update(
        first_seen_at=before + timedelta(hours=1), valid_from=before + timedelta(hours=1)
    )
    response = member_client.get(
        reverse("dashboard:timeline", args=[handoff.entity.pk]),
        {"as_of": timezone.localtime(before).strftime("%Y-%m-%dT%H:%M:%S")},
    )
    shown = [memory.content for memory in response.context["page_obj"]]
    assert shown and "The refund was approved by finance" not in shown
    assert response.context["as_of"].exchanges == 4


def test_as_of_shows_the_value_that_held_then_not_the_one_that_superseded_it(member_client, handoff):
    now = timezone.now().replace(microsecond=0)
    old = add_memory(handoff.entity, "billing_agent", "Payments go through Stripe")
    new = add_memory(handoff.entity, "billing_agent", "We moved payments to Adyen")
    Memory.objects.filter(pk=old.pk).update(
        valid_from=now - timedelta(days=2), valid_to=now - timedelta(days=1), superseded_by=new
    )
    Memory.objects.filter(pk=new.pk).update(valid_from=now - timedelta(days=1))
    url = reverse("dashboard:timeline", args=[handoff.entity.pk])

    def shown_at(moment) -> list[str]:
        response = member_client.get(url, {"as_of": timezone.localtime(moment).strftime("%Y-%m-%dT%H:%M:%S")})
        return [memory.content for memory in response.context["page_obj"]]

    before_switch = shown_at(now - timedelta(hours=36))
    after_switch = shown_at(now - timedelta(hours=12))
    assert "Payments go through Stripe" in before_switch and "We moved payments to Adyen" not in before_switch
    assert "We moved payments to Adyen" in after_switch and "Payments go through Stripe" not in after_switch
    page = member_client.get(
        url, {"as_of": timezone.localtime(now - timedelta(hours=36)).strftime("%Y-%m-%dT%H:%M:%S")}
    )
    assert "superseded" in page.content.decode() and "We moved payments to Adyen" in page.content.decode()


def test_another_tenants_timeline_is_404(member_client, outsider_entity):
    assert member_client.get(reverse("dashboard:timeline", args=[outsider_entity.pk])).status_code == 404


def test_memories_as_of_are_escaped(member_client, handoff):
    add_memory(handoff.entity, "triage_agent", XSS)
    response = member_client.get(
        reverse("dashboard:timeline", args=[handoff.entity.pk]),
        {"as_of": (timezone.localtime() + timedelta(minutes=5)).strftime("%Y-%m-%dT%H:%M:%S")},
    )
    assert b"<script>alert" not in response.content

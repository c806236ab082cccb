from datetime import timedelta

from django.urls import reverse
from django.utils import timezone

from dashboard.queries.timeline_range import TimelineRange
from memory.models import AugmentationJob, Entity, Memory, RecallEvent
from tests.dashboard.conftest import XSS, add_memory
from tests.dashboard.many_agents import AGENTS, IMPORTED_AT, build_many_agents


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


def timeline_of(client, entity, **params):
    return client.get(reverse("dashboard:timeline", args=[entity.pk]), params)


def exchanges_chart(response) -> dict | None:
    return next(f for f in response.context["figures"] if f["title"] == "Exchanges")["figure"]


def test_the_default_range_covers_imported_history(member_client, tenant):
    many = build_many_agents(tenant)  # exchanges of 7 May 2023, recalled and augmented now

    response = timeline_of(member_client, many.entity)

    span = response.context["span"]
    assert span.whole_life and span.start <= IMPORTED_AT and span.end > timezone.now() - timedelta(minutes=5)
    drawn = exchanges_chart(response)
    assert {trace["name"] for trace in drawn["data"]} == {name for name, _ in AGENTS}
    assert sum(sum(trace["y"]) for trace in drawn["data"]) == len(many.exchanges)
    assert "exchanges</a> 2023-05-07 13:00:00" in response.content.decode()  # a zoom link to the history


def test_buckets_fit_the_range_so_seconds_of_activity_are_not_one_bar(member_client, tenant):
    many = build_many_agents(tenant)
    first, last = many.exchanges[0].occurred_at, many.exchanges[-1].occurred_at  # five seconds apart

    response = timeline_of(member_client, many.entity, **{"from": first.isoformat(), "to": last.isoformat()})

    span = response.context["span"]
    assert span.granularity == "second"
    drawn = exchanges_chart(response)
    assert len(drawn["data"][0]["x"]) <= 90
    per_bucket = [sum(values) for values in zip(*(trace["y"] for trace in drawn["data"]), strict=True)]
    assert sum(per_bucket) == len(many.exchanges) and max(per_bucket) < len(many.exchanges)
    growth = response.context["growth_figure"]["data"][0]
    assert growth["line"]["shape"] == "hv"  # steps where memories were added, no ramp across quiet time


def test_an_hour_of_data_is_not_drawn_in_day_buckets():
    now = timezone.now()
    assert TimelineRange.around(now - timedelta(hours=1), now).granularity == "minute"
    assert TimelineRange.around(now - timedelta(days=900), now).granularity == "4 weeks"
    assert TimelineRange.around(now - timedelta(seconds=5), now).granularity == "second"


def test_a_range_without_data_says_so_in_words(member_client, tenant):
    many = build_many_agents(tenant)
    RecallEvent.objects.filter(entity=many.entity).update(created_at=IMPORTED_AT)
    AugmentationJob.objects.filter(entity=many.entity).update(finished_at=IMPORTED_AT)

    response = timeline_of(member_client, many.entity, days="1")

    assert all(figure["figure"] is None for figure in response.context["figures"])
    body = response.content.decode()
    assert "No exchanges between" in body and "No recalls between" in body
    assert "show its whole life" in body


def test_an_entity_with_nothing_recorded_says_so(member_client, tenant):
    entity = Entity.objects.create(tenant=tenant, external_id="brand_new")
    response = timeline_of(member_client, entity)
    assert response.status_code == 200
    assert "Nothing has been recorded for brand_new yet" in response.content.decode()
    assert response.context["growth_figure"] is None


def test_unreadable_zoom_moments_get_a_message_not_an_error(member_client, handoff):
    response = timeline_of(member_client, handoff.entity, **{"from": "2024-13-45T99:00", "to": "yesterday"})
    assert response.status_code == 400
    assert "from=&#x27;2024-13-45T99:00&#x27;: expected a date" in response.content.decode()
    response = timeline_of(member_client, handoff.entity, **{"from": "2024-01-01T10:00"})
    assert response.status_code == 400 and "give both" in response.content.decode()


def test_the_whole_life_option_and_empty_date_fields_are_accepted(member_client, handoff):
    response = timeline_of(member_client, handoff.entity, days="all", start="", end="", as_of="2099-01-01T00:00:00")
    assert response.status_code == 200
    assert response.context["span"].whole_life and response.context["as_of"].exchanges == 4


def test_the_timeline_makes_no_query_per_process(member_client, tenant, django_assert_max_num_queries):
    many = build_many_agents(tenant)
    with django_assert_max_num_queries(15):
        response = timeline_of(member_client, many.entity)
    assert response.status_code == 200

from datetime import timedelta

from django.urls import reverse
from django.utils import timezone

from dashboard.charts.style import PALETTE, process_color
from dashboard.queries.processes import LISTED_PER_PROCESS
from memory.models import RecallEvent, RecallHit
from tests.dashboard.conftest import XSS, add_memory, call
from tests.dashboard.many_agents import AGENTS, build_many_agents


def test_it_shows_contributions_and_recall_flow(member_client, handoff, django_assert_max_num_queries):
    with django_assert_max_num_queries(16):
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


def test_raw_pending_work_counts_as_received(member_client, tenant):
    many = build_many_agents(tenant)  # every agent recalled while ops_agent's last exchange was not augmented
    response = member_client.get(reverse("dashboard:processes", args=[many.entity.pk]))
    summaries = {summary.name: summary for summary in response.context["summaries"]}

    reviewer = summaries[many.raw_served_to]
    assert [row["source"] for row in reviewer.raw_from_others] == [many.raw_source]
    assert reviewer.raw_total == 1 and reviewer.received_total == reviewer.recalled_total + 1
    assert summaries[many.raw_source].raw_total == 0  # its own raw work is not received from others
    assert (many.raw_source, many.raw_served_to) in {(s, t) for s, t, _ in response.context["flows"]}
    body = response.content.decode()
    assert f"from {many.raw_source}, served before its augmentation finished" in body


def test_an_agent_given_only_raw_work_is_not_told_it_received_nothing(member_client, handoff):
    """technical_agent recalled while triage's last exchange was still queued (the gap fixture)."""
    RecallHit.objects.filter(event__process__external_id="technical_agent").delete()
    response = member_client.get(reverse("dashboard:processes", args=[handoff.entity.pk]))
    technical = next(s for s in response.context["summaries"] if s.name == "technical_agent")
    assert technical.raw_total == 1 and technical.raw_from_others[0]["source"] == "triage_agent"
    card = response.content.decode().split('id="process-technical_agent"')[1].split("</details>")[0]
    assert "Nothing from other processes" not in card
    assert "served before its augmentation finished" in card


def test_cards_collapse_and_can_be_searched(member_client, tenant):
    many = build_many_agents(tenant)
    body = member_client.get(reverse("dashboard:processes", args=[many.entity.pk])).content.decode()
    assert body.count('<details class="panel process"') == len(AGENTS)
    assert '<details class="panel process" id="process-billing_agent" data-process="billing_agent">' in body  # closed
    assert 'id="process-search"' in body and "dashboard/processes.js" in body


def test_a_process_has_one_colour_on_every_page_and_for_every_entity(member_client, tenant, handoff):
    many = build_many_agents(tenant)
    colour = process_color("triage_agent")
    processes = member_client.get(reverse("dashboard:processes", args=[many.entity.pk]))
    assert f'fill="{colour}"' in processes.content.decode().split('id="process-triage_agent"')[1][:400]
    sankey = processes.context["flow_figure"]["data"][0]
    assert sankey["node"]["color"][sankey["node"]["label"].index("triage_agent")] == colour
    timeline = member_client.get(reverse("dashboard:timeline", args=[many.entity.pk]))
    bars = next(f for f in timeline.context["figures"] if f["title"] == "Exchanges")["figure"]["data"]
    assert next(trace for trace in bars if trace["name"] == "triage_agent")["marker"]["color"] == colour
    graph = member_client.get(reverse("dashboard:graph", args=[handoff.entity.pk]))  # another entity, 3 agents
    nodes = next(trace for trace in graph.context["figure"]["data"] if trace["name"] == "nodes")
    assert colour in nodes["marker"]["color"]
    assert process_color("triage_agent") == colour  # not the order of the names on a page


def test_kinds_are_not_coloured_like_processes(member_client, handoff):
    response = member_client.get(reverse("dashboard:processes", args=[handoff.entity.pk]))
    kind_colours = {trace["marker"]["color"] for trace in response.context["contributions_figure"]["data"]}
    assert kind_colours and not kind_colours & set(PALETTE)


def test_sankey_labels_are_process_names_with_column_headings(member_client, tenant):
    many = build_many_agents(tenant)
    figure = member_client.get(reverse("dashboard:processes", args=[many.entity.pk])).context["flow_figure"]
    labels = figure["data"][0]["node"]["label"]
    assert set(labels) == {name for name, _ in AGENTS}
    assert [a["text"] for a in figure["layout"]["annotations"]] == ["<b>contributed by</b>", "<b>received by</b>"]
    assert figure["data"][0]["textfont"]["shadow"] == "none"


def test_the_process_view_of_fourteen_agents_makes_no_query_per_process(
    member_client, tenant, django_assert_max_num_queries
):
    many = build_many_agents(tenant)
    with django_assert_max_num_queries(16):
        response = member_client.get(reverse("dashboard:processes", args=[many.entity.pk]))
    assert len(response.context["summaries"]) == len(AGENTS)


def test_the_received_count_is_every_memory_from_others_not_only_the_listed_ones(member_client, handoff):
    for index in range(LISTED_PER_PROCESS + 4):
        add_memory(handoff.entity, "triage_agent", f"The customer's ticket number {index} is about the refund")
    call(handoff.tenant, process="billing_agent", user="Which tickets are about the refund?", assistant="Noted.")
    response = member_client.get(reverse("dashboard:processes", args=[handoff.entity.pk]))
    billing = next(s for s in response.context["summaries"] if s.name == "billing_agent")
    given = RecallHit.objects.filter(
        event__entity=handoff.entity, event__process__external_id="billing_agent", memory__isnull=False
    ).exclude(memory__first_process__external_id="billing_agent")
    assert len(billing.recalled_from_others) == LISTED_PER_PROCESS
    assert billing.recalled_total == given.count() > LISTED_PER_PROCESS

from django.urls import reverse
from django.utils import timezone

from dashboard.charts.graph import EDGE_LABELS
from dashboard.charts.style import process_color
from dashboard.queries.graph import EDGE_CAP
from memory.models import AugmentationJob, Entity, Memory, Triple
from tests.dashboard.conftest import add_graph, add_memory, call
from tests.dashboard.many_agents import build_many_agents

TRIPLES_BY_RESEARCH = [
    ("Memori", "uses", "PostgreSQL"),
    ("Memori", "competes_with", "Mem0"),
    ("Mem0", "uses", "Qdrant"),
]
TRIPLES_BY_ANALYSIS = [("Memori", "targets", "Agent builders"), ("PostgreSQL", "supports", "pgvector")]


def graph_url(entity):
    return reverse("dashboard:graph", args=[entity.pk])


def test_it_draws_nodes_and_edges_coloured_by_process(member_client, handoff, django_assert_max_num_queries):
    add_graph(handoff.entity, "research_agent", TRIPLES_BY_RESEARCH)
    add_graph(handoff.entity, "analysis_agent", TRIPLES_BY_ANALYSIS)
    with django_assert_max_num_queries(12):
        response = member_client.get(graph_url(handoff.entity))
    assert response.status_code == 200
    view = response.context["view"]
    names = {node["name"] for node in view.nodes}
    assert {"Memori", "PostgreSQL", "Mem0", "Qdrant", "pgvector"} <= names
    assert {"research_agent", "analysis_agent"} <= set(view.processes)
    legend = [trace["name"] for trace in response.context["figure"]["data"] if trace.get("mode") == "lines"]
    assert "research_agent" in legend and "analysis_agent" in legend


def test_process_and_text_filters_narrow_the_graph(member_client, handoff):
    add_graph(handoff.entity, "research_agent", TRIPLES_BY_RESEARCH)
    add_graph(handoff.entity, "analysis_agent", TRIPLES_BY_ANALYSIS)
    by_analysis = member_client.get(graph_url(handoff.entity), {"process": "analysis_agent"}).context["view"]
    assert {edge["content"] for edge in by_analysis.edges} == {
        "Memori targets Agent builders",
        "PostgreSQL supports pgvector",
    }
    by_text = member_client.get(graph_url(handoff.entity), {"q": "qdrant"}).context["view"]
    assert [edge["content"] for edge in by_text.edges] == ["Mem0 uses Qdrant"]


def test_it_caps_the_drawing_and_says_what_was_left_out(member_client, handoff):
    add_graph(
        handoff.entity, "research_agent", [(f"service {i}", "depends_on", f"library {i}") for i in range(EDGE_CAP + 20)]
    )
    response = member_client.get(graph_url(handoff.entity))
    view = response.context["view"]
    assert len(view.edges) == EDGE_CAP
    assert view.left_out >= 20
    assert f"{view.left_out}</strong> weaker relations left out" in response.content.decode()


def test_node_panel_lists_triples_and_memories_with_sources(member_client, handoff):
    add_graph(handoff.entity, "research_agent", TRIPLES_BY_RESEARCH)
    add_memory(handoff.entity, "research_agent", "Qdrant is the vector store of Mem0")
    view = member_client.get(graph_url(handoff.entity)).context["view"]
    qdrant = next(node for node in view.nodes if node["name"] == "Qdrant")
    response = member_client.get(reverse("dashboard:graph_node", args=[handoff.entity.pk, qdrant["id"]]))
    body = response.content.decode()
    assert response.status_code == 200
    assert "Mem0 <strong>uses</strong> Qdrant" in body
    assert "Qdrant is the vector store of Mem0" in body


def test_another_tenants_graph_is_404(member_client, outsider_entity):
    assert member_client.get(graph_url(outsider_entity)).status_code == 404
    assert member_client.get(reverse("dashboard:graph_node", args=[outsider_entity.pk, 1])).status_code == 404


def test_node_names_are_escaped(member_client, handoff):
    add_graph(handoff.entity, "research_agent", [("<script>alert(1)</script>", "uses", "tea")])
    response = member_client.get(graph_url(handoff.entity))
    assert b"<script>alert(1)" not in response.content


def drawn_labels(figure) -> dict[str, list[str]]:
    """Text written on the drawing without hover, per trace name."""
    return {
        trace["name"]: [text for text in trace["text"] if text]
        for trace in figure["data"]
        if "text" in trace.get("mode", "")
    }


def test_edges_name_their_relation_without_hover(member_client, handoff):
    add_graph(handoff.entity, "research_agent", TRIPLES_BY_RESEARCH)
    figure = member_client.get(graph_url(handoff.entity)).context["figure"]
    labels = drawn_labels(figure)
    assert {"competes with", "uses"} <= set(labels["current relations"])
    assert labels["current relations"].count("uses") >= 2
    assert {"Memori", "Mem0", "Qdrant", "PostgreSQL"} <= set(labels["nodes"])


def test_only_the_strongest_edges_are_named_when_there_are_many(member_client, handoff):
    add_graph(handoff.entity, "research_agent", [(f"service {i}", "depends_on", f"library {i}") for i in range(80)])
    figure = member_client.get(graph_url(handoff.entity)).context["figure"]
    assert len(drawn_labels(figure)["current relations"]) == EDGE_LABELS


def test_contradicted_and_superseded_edges_are_marked(member_client, tenant):
    many = build_many_agents(tenant)
    response = member_client.get(graph_url(many.entity))
    view, figure = response.context["view"], response.context["figure"]
    states = {edge["content"]: (edge["contradicted"], edge["superseded"]) for edge in view.edges}
    assert states["Acme Corp based in Lisbon"] == (True, False)
    assert states["Acme Corp based in Berlin"] == (True, False)
    assert states["rollout plan is three phases"] == (False, True)
    assert states["rollout plan is two phases"] == (False, False)
    traces = {trace["name"]: trace for trace in figure["data"]}
    assert traces["contradicted"]["line"]["dash"] == "dash" and traces["superseded"]["line"]["dash"] == "dot"
    assert drawn_labels(figure)["contradicted relations"] == ["⚠ based in", "⚠ based in"]
    assert drawn_labels(figure)["superseded relations"] == ["is (old)"]
    body = response.content.decode()
    assert "2 contradicted</span>" in body and "1 superseded</span>" in body


def test_the_node_panel_marks_conflicting_relations(member_client, tenant):
    many = build_many_agents(tenant)
    view = member_client.get(graph_url(many.entity)).context["view"]
    plan = next(node for node in view.nodes if node["name"] == "rollout plan")
    body = member_client.get(reverse("dashboard:graph_node", args=[many.entity.pk, plan["id"]])).content.decode()
    assert "superseded by a later value" in body
    lisbon = next(node for node in view.nodes if node["name"] == "Lisbon")
    body = member_client.get(reverse("dashboard:graph_node", args=[many.entity.pk, lisbon["id"]])).content.decode()
    assert 'class="contradicted"' in body


def test_the_page_offers_every_drawn_node_to_the_search_box(member_client, handoff):
    add_graph(handoff.entity, "research_agent", TRIPLES_BY_RESEARCH)
    body = member_client.get(graph_url(handoff.entity)).content.decode()
    assert 'id="node-search"' in body
    for name in ("Memori", "Mem0", "Qdrant", "PostgreSQL"):
        assert f'<option value="{name}">' in body


def test_an_empty_graph_says_why(member_client, tenant, handoff):
    quiet = Entity.objects.create(tenant=tenant, external_id="quiet_customer")
    assert "no agent has recorded an exchange" in member_client.get(graph_url(quiet)).content.decode()

    exchange = call(tenant, process="triage_agent", user="Hello there.", assistant="Hi!", augment=False)
    waiting = exchange.entity
    Triple.objects.filter(entity=waiting).delete()
    body = member_client.get(graph_url(waiting)).content.decode()
    assert "waiting to be augmented" in body and "appear once" not in body

    AugmentationJob.objects.filter(entity=waiting).update(status=AugmentationJob.Status.DONE)
    body = member_client.get(graph_url(waiting)).content.decode()
    assert "were augmented and gave no relation" in body
    assert "appear once" not in body and "waiting" not in body


def test_the_graph_of_fourteen_agents_makes_no_query_per_process(member_client, tenant, django_assert_max_num_queries):
    many = build_many_agents(tenant)
    with django_assert_max_num_queries(12):
        response = member_client.get(graph_url(many.entity))
    assert len(response.context["view"].processes) >= 12


def test_the_node_panel_marks_superseded_and_contradicted_memories(member_client, handoff):
    add_graph(handoff.entity, "research_agent", TRIPLES_BY_RESEARCH)
    old = add_memory(handoff.entity, "research_agent", "Qdrant stores the vectors of Mem0 on disk")
    new = add_memory(handoff.entity, "analysis_agent", "Qdrant keeps the vectors of Mem0 in memory now")
    Memory.objects.filter(pk=old.pk).update(valid_to=timezone.now(), superseded_by=new)
    Memory.objects.filter(pk=new.pk).update(is_contradicted=True)
    view = member_client.get(graph_url(handoff.entity)).context["view"]
    qdrant = next(node for node in view.nodes if node["name"] == "Qdrant")

    body = member_client.get(reverse("dashboard:graph_node", args=[handoff.entity.pk, qdrant["id"]])).content.decode()

    current, superseded = body.index("in memory now"), body.index("on disk")
    assert current < superseded  # current memories first
    assert '<li class="superseded">' in body and "now: <a" in body
    assert '<span class="badge bad">contradicted</span>' in body


def test_the_colour_key_names_each_contributing_process_in_its_colour(member_client, handoff):
    add_graph(handoff.entity, "research_agent", TRIPLES_BY_RESEARCH)
    body = member_client.get(graph_url(handoff.entity)).content.decode()
    key = body.split('id="graph-legend"')[1].split("</p>")[0]
    for process in ("research_agent", "triage_agent"):
        assert f'fill="{process_color(process)}"/></svg>{process}' in key

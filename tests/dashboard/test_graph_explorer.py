from django.urls import reverse

from dashboard.graph import EDGE_CAP
from tests.dashboard.conftest import add_graph, add_memory

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

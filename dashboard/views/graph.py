"""Graph Explorer: an entity's knowledge graph as a Plotly network, filtered; node clicks list sources."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render

from dashboard.charts.graph import EDGE_LABELS, colour_key, knowledge_network
from dashboard.queries.entities import entity_processes, node_types
from dashboard.queries.graph import EDGE_CAP, GraphFilters, augmentation_state, graph_view, node_detail
from dashboard.web.access import entity_for
from dashboard.web.rendering import render_page


@login_required
def graph(request: HttpRequest, entity_id: int) -> HttpResponse:
    entity = entity_for(request.user, entity_id)
    filters = GraphFilters.from_query(request.GET)
    view = graph_view(entity, filters)
    return render_page(
        request,
        "dashboard/graph.html",
        nav="graph",
        entity=entity,
        filters=filters,
        view=view,
        edge_cap=EDGE_CAP,
        edge_labels=EDGE_LABELS,
        processes=entity_processes(entity=entity),
        kinds=node_types(entity=entity),
        figure=knowledge_network(view.nodes, view.edges),
        colour_key=colour_key(view.edges),
        augmentation=None if view.edges or filters.active else augmentation_state(entity),
    )


@login_required
def graph_node(request: HttpRequest, entity_id: int, node_id: int) -> HttpResponse:
    entity = entity_for(request.user, entity_id)
    detail = node_detail(entity, node_id)
    if detail is None:
        raise Http404("No such node.")
    return render(request, "dashboard/_graph_node.html", detail)
